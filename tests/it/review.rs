//! Review metrics over a fixture whose numbers are worked out by hand below.

use std::path::Path;

use serde_json::{json, Value};

use crate::common::{Env, Run};

fn at(env: &Env, root: &Path, now: &str, args: &[&str]) -> Run {
    let mut cmd = env.cb(root);
    cmd.env("CASEBOOK_NOW", now).args(args);
    Run(cmd.output().unwrap())
}

fn open(env: &Env, root: &Path, now: &str, customer: &str, extra: &[&str]) -> String {
    let email = format!("{}@example.com", customer.to_lowercase());
    let mut args = vec![
        "open",
        "--customer",
        customer,
        "--email",
        &email,
        "--subject",
        "s",
    ];
    args.extend_from_slice(extra);
    at(env, root, now, &args).ok().stdout.trim().to_string()
}

const NOW: &str = "2025-01-20T08:00:00Z";

/// Floating-point sums (0.8 × 1020) need not be exact: compare to a millionth.
fn close(v: &Value, expected: f64) -> bool {
    v.as_f64().is_some_and(|v| (v - expected).abs() < 1e-6)
}

/// A `{count, median, p90}` spread with these values.
fn spread_is(v: &Value, count: u64, median: f64, p90: f64) {
    assert!(
        v["count"] == count && close(&v["median"], median) && close(&v["p90"], p90),
        "expected n={count}, median {median}, p90 {p90}: {v}"
    );
}

/// Berlin is UTC+1 in January; business hours 09:00–17:00 Berlin = 08:00–16:00Z.
fn fixture(env: &Env) -> (std::path::PathBuf, [String; 5]) {
    let root = env.casebook("book");
    // A: ack after 30 min; resolved 24 h after opening; satisfied, rated 5.
    let a = open(
        env,
        &root,
        "2025-01-13T08:00:00Z",
        "Ann",
        &["--product", "P1"],
    );
    at(env, &root, "2025-01-13T08:30:00Z", &["ack", &a]).ok();
    at(
        env,
        &root,
        "2025-01-14T08:00:00Z",
        &["resolve", &a, "--resolution", "r"],
    )
    .ok();
    at(
        env,
        &root,
        "2025-01-14T10:00:00Z",
        &["follow-up", &a, "--satisfied", "--rating", "5"],
    )
    .ok();
    // B: opened Mon 16:00 Berlin, ack Tue 09:30 Berlin (1050 min; 90 business min);
    // systemic root cause; escalated; an ETA kept; resolved, not satisfied (reopen),
    // resolved again 42 h after opening; the follow-up got no answer.
    let b = open(
        env,
        &root,
        "2025-01-13T15:00:00Z",
        "Bob",
        &["--product", "P1"],
    );
    at(env, &root, "2025-01-14T08:30:00Z", &["ack", &b]).ok();
    at(
        env,
        &root,
        "2025-01-14T09:00:00Z",
        &["update", &b, "--message", "m", "--eta", "2025-01-16 12:00"],
    )
    .ok();
    at(
        env,
        &root,
        "2025-01-14T09:10:00Z",
        &[
            "research",
            &b,
            "--root-cause",
            "Worn roller",
            "--scope",
            "systemic",
        ],
    )
    .ok();
    at(
        env,
        &root,
        "2025-01-14T09:20:00Z",
        &["escalate", &b, "--reason", "part"],
    )
    .ok();
    at(
        env,
        &root,
        "2025-01-14T12:00:00Z",
        &["resolve", &b, "--resolution", "r1"],
    )
    .ok();
    at(
        env,
        &root,
        "2025-01-14T13:00:00Z",
        &["follow-up", &b, "--not-satisfied", "--rating", "2"],
    )
    .ok();
    at(
        env,
        &root,
        "2025-01-15T09:00:00Z",
        &["resolve", &b, "--resolution", "r2"],
    )
    .ok();
    at(
        env,
        &root,
        "2025-01-15T10:00:00Z",
        &["follow-up", &b, "--no-answer", "--message", "m"],
    )
    .ok();
    // C: high priority, ack after 10 min, same root cause (other spelling), ETA missed,
    // resolved after 2 h by another agent, rated 4.
    let c = open(
        env,
        &root,
        "2025-01-15T08:00:00Z",
        "Cy",
        &["--product", "P2", "--priority", "high"],
    );
    at(env, &root, "2025-01-15T08:10:00Z", &["ack", &c]).ok();
    at(
        env,
        &root,
        "2025-01-15T08:20:00Z",
        &["update", &c, "--message", "m", "--eta", "2025-01-15 10:30"],
    )
    .ok();
    at(
        env,
        &root,
        "2025-01-15T08:30:00Z",
        &["research", &c, "--root-cause", "worn  Roller"],
    )
    .ok();
    let sam = ["--actor", "Sam Lead <sam@example.com>"];
    at(
        env,
        &root,
        "2025-01-15T10:00:00Z",
        &[&sam[..], &["resolve", &c, "--resolution", "r"]].concat(),
    )
    .ok();
    at(
        env,
        &root,
        "2025-01-15T11:00:00Z",
        &["follow-up", &c, "--satisfied", "--rating", "4"],
    )
    .ok();
    // D: still open (4 days old at NOW). E: resolved before the window.
    let d = open(env, &root, "2025-01-16T08:00:00Z", "Dee", &[]);
    let e = open(env, &root, "2025-01-01T08:00:00Z", "Eve", &[]);
    at(env, &root, "2025-01-01T09:00:00Z", &["ack", &e]).ok();
    at(
        env,
        &root,
        "2025-01-02T09:00:00Z",
        &["resolve", &e, "--resolution", "r"],
    )
    .ok();
    (root, [a, b, c, d, e])
}

/// The fixture month, extended with a case for each point of issue 12. All normal
/// priority, so: acknowledge 1bd, update 2bd, resolution 5bd, follow-up 2bd, auto-close
/// 7 days. Business time is 09:00–17:00 Berlin = 08:00–16:00Z. Returns F..J.
fn month(env: &Env, root: &Path) -> [String; 5] {
    let step = |now: &str, args: &[&str]| {
        at(env, root, now, args).ok();
    };
    // F: opened Mon 07:00Z (08:00 Berlin, before opening time), acknowledged 07:20Z
    // (20 min; 0 business min), resolved Mon 08:00Z (1 h). Never followed up: `tick` closes
    // it at NOW, 7 days after the resolve, past its follow-up due time (Wed 08:00Z).
    let f = open(
        env,
        root,
        "2025-01-13T07:00:00Z",
        "Fay",
        &["--product", "P2"],
    );
    step("2025-01-13T07:20:00Z", &["ack", &f]);
    step(
        "2025-01-13T08:00:00Z",
        &["resolve", &f, "--resolution", "r"],
    );
    // G: opened Tue 08:00Z; an outbound call at 08:43Z, the acknowledgement at 11:49Z. Its
    // first response is the call: 43 min (43 business), not 229. Resolved 14:00Z (6 h);
    // satisfied, rated 3.
    let g = open(
        env,
        root,
        "2025-01-14T08:00:00Z",
        "Gil",
        &["--product", "P1"],
    );
    step(
        "2025-01-14T08:43:00Z",
        &[
            "log",
            &g,
            "--summary",
            "called back",
            "--direction",
            "outbound",
        ],
    );
    step("2025-01-14T11:49:00Z", &["ack", &g]);
    step(
        "2025-01-14T14:00:00Z",
        &["resolve", &g, "--resolution", "r"],
    );
    step(
        "2025-01-15T09:00:00Z",
        &["follow-up", &g, "--satisfied", "--rating", "3"],
    );
    // H: opened Mon 09:00Z, acknowledged 09:10Z (10 min): the next update was due 2bd
    // later, Wed 09:10Z, and came Thu 09:00Z (late); the next two were on time. Resolved
    // Fri 09:00Z (96 h); satisfied, rated 5.
    let h = open(
        env,
        root,
        "2025-01-13T09:00:00Z",
        "Hal",
        &["--product", "P2"],
    );
    step("2025-01-13T09:10:00Z", &["ack", &h]);
    step("2025-01-16T09:00:00Z", &["update", &h, "--message", "m"]);
    step("2025-01-16T12:00:00Z", &["update", &h, "--message", "m"]);
    step(
        "2025-01-17T09:00:00Z",
        &["resolve", &h, "--resolution", "r"],
    );
    step(
        "2025-01-17T10:00:00Z",
        &["follow-up", &h, "--satisfied", "--rating", "5"],
    );
    // I: opened Tue 09:00Z, acknowledged 09:30Z (30 min). Promised Wed 12:00 Berlin
    // (11:00Z), missed; on Wed 13:00Z promised Thu 12:00 Berlin and resolved Thu 10:00Z,
    // kept (49 h). The follow-up got no answer.
    let i = open(
        env,
        root,
        "2025-01-14T09:00:00Z",
        "Ivy",
        &["--product", "P1"],
    );
    step("2025-01-14T09:30:00Z", &["ack", &i]);
    step(
        "2025-01-14T10:00:00Z",
        &["update", &i, "--message", "m", "--eta", "2025-01-15 12:00"],
    );
    step(
        "2025-01-15T13:00:00Z",
        &["update", &i, "--message", "m", "--eta", "2025-01-16 12:00"],
    );
    step(
        "2025-01-16T10:00:00Z",
        &["resolve", &i, "--resolution", "r"],
    );
    step(
        "2025-01-16T14:00:00Z",
        &["follow-up", &i, "--no-answer", "--message", "m"],
    );
    // J: opened Wed 10:00Z, acknowledged 10:05Z (5 min), resolved 12:00Z (2 h); the
    // follow-up Thu 09:00Z: not satisfied, 1/5, which reopens it. Open at NOW.
    let j = open(
        env,
        root,
        "2025-01-15T10:00:00Z",
        "Jo",
        &["--product", "P2"],
    );
    step("2025-01-15T10:05:00Z", &["ack", &j]);
    step(
        "2025-01-15T12:00:00Z",
        &["resolve", &j, "--resolution", "r"],
    );
    step(
        "2025-01-16T09:00:00Z",
        &["follow-up", &j, "--not-satisfied", "--rating", "1"],
    );
    [f, g, h, i, j]
}

#[test]
fn every_metric_of_the_month_matches_the_hand_computed_value() {
    let env = Env::new();
    let (root, [_a, b, c, _d, e]) = fixture(&env);
    let [f, _g, h, i, _j] = month(&env, &root);
    // NOW is 7 days after F's resolve (and long after E's): both close, neither was
    // followed up.
    let tick = at(&env, &root, NOW, &["tick", "--json"]).json();
    let mut closed: Vec<(&str, &str)> = tick["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["case"].as_str().unwrap(), a["reason"].as_str().unwrap()))
        .collect();
    closed.sort();
    let why = "closed automatically: no follow-up within 7 days of the resolution";
    let mut expected = vec![(e.as_str(), why), (f.as_str(), why)];
    expected.sort();
    assert_eq!(closed, expected, "{tick}");
    at(
        &env,
        &root,
        NOW,
        &[
            "review",
            &b,
            "--finding",
            "Roller wear not caught in QA",
            "--action",
            "Add a roller check to QA",
            "--tag",
            "qa",
        ],
    )
    .ok();
    let r = at(
        &env,
        &root,
        NOW,
        &[
            "review",
            "--from",
            "2025-01-13",
            "--to",
            "2025-01-17",
            "--by",
            "agent",
            "--json",
        ],
    )
    .json();
    let m = &r["overall"];
    assert_eq!(
        m["cases"], 8,
        "A, B, C, F, G, H, I, J; not D (open) nor E (before the window)"
    );
    // An even count: the median is the mean of the 4th and 5th values; p90 sits at
    // h = 0.9 × 7 = 6.3, i.e. x6 + 0.3 × (x7 − x6).
    // First response, minutes (A 30, B 1050, C 10, F 20, G 43, H 10, I 30, J 5):
    // [5, 10, 10, 20, 30, 30, 43, 1050] → (20 + 30) / 2 = 25; 43 + 0.3 × 1007 = 345.1.
    spread_is(&m["first_response_minutes"], 8, 25.0, 345.1);
    // Business (B 90, F 0): [0, 5, 10, 10, 30, 30, 43, 90] → 20; 43 + 0.3 × 47 = 57.1.
    spread_is(&m["first_response_business_minutes"], 8, 20.0, 57.1);
    // First resolution, hours (A 24, B 21, C 2, F 1, G 6, H 96, I 49, J 2):
    // [1, 2, 2, 6, 21, 24, 49, 96] → 13.5; 49 + 0.3 × 47 = 63.1.
    spread_is(&m["first_resolution_hours"], 8, 13.5, 63.1);
    // Full (B 42): [1, 2, 2, 6, 24, 42, 49, 96] → 15; 63.1.
    spread_is(&m["full_resolution_hours"], 8, 15.0, 63.1);
    let sla = |met: u64, breached: u64, instances: (u64, u64)| {
        let pct = |m: u64, b: u64| json!(m as f64 * 100.0 / (m + b) as f64);
        json!({"met": met, "breached": breached, "percent": pct(met, breached),
               "instances": {"met": instances.0, "breached": instances.1,
                             "percent": pct(instances.0, instances.1)}})
    };
    // Acknowledge: all 8 in time (G's stops at the call).
    assert_eq!(m["sla"]["acknowledge"], sla(8, 0, (8, 0)));
    // Resolution: J is reopened and its clock runs again: left out.
    assert_eq!(m["sla"]["resolution"], sla(7, 0, (7, 0)));
    // Update clocks: A 1, B 3, C 2, F 1, G 2 (call → ack → resolve), H 3 of which the
    // first was late, I 3, J 1 ended by the resolve (the one from its reopen still runs,
    // due Mon 09:00Z): 15 met, 1 breached; per case 7 met, H breached.
    assert_eq!(m["sla"]["update"], sla(7, 1, (15, 1)));
    // Follow-ups, one per resolve: A, B twice, C, G, H, I (no answer is a contact), J met;
    // F breached (closed after its due time without one): 8 met, 1 breached.
    assert_eq!(m["sla"]["follow_up"], sla(7, 1, (8, 1)));
    // ETA: B kept, C missed, I missed then kept.
    assert_eq!(m["eta"], json!({"met": 2, "breached": 2, "percent": 50.0}));
    assert_eq!(m["eta_kept_percent"], 50.0);
    // Reopened: B, J. Escalated: B. One-touch (fewer than 2 outbound messages before the
    // last resolve): A, F, J. Followed up after the last resolve: all but F.
    assert_eq!(m["reopen_rate_percent"], 25.0);
    assert_eq!(m["escalation_rate_percent"], 12.5);
    assert_eq!(m["one_touch_percent"], 37.5);
    assert_eq!(m["follow_up_done_percent"], 87.5);
    // Rated: A 5, C 4, G 3, H 5, J 1 (not satisfied, still counted); B's last follow-up
    // got no answer (its 2/5 answered the first resolve), I's too. 3 of 5 rated 4–5.
    assert_eq!(
        (m["csat_percent"].as_f64(), m["rated"].as_u64()),
        (Some(60.0), Some(5))
    );
    assert!(close(&m["response_rate_percent"], 500.0 / 7.0), "5 of 7");
    assert_eq!(
        r["root_causes"],
        json!([{"root_cause": "Worn roller", "cases": 2, "customers": 2, "systemic": true, "case_ids": r["root_causes"][0]["case_ids"]}])
    );
    let ids = r["root_causes"][0]["case_ids"].as_array().unwrap();
    assert!(ids.contains(&json!(b)) && ids.contains(&json!(c)));
    assert_eq!(
        r["backlog"],
        json!({"0-1d": 0, "1-3d": 0, "3-7d": 2, "7-30d": 0, "30d+": 0}),
        "D (4 days) and the reopened J (4.9 days)"
    );
    assert_eq!(r["resolved_per_week"], json!({"2025-W03": 8}));
    assert_eq!(r["by"]["Dana Agent"]["cases"], 7);
    assert_eq!(r["by"]["Sam Lead"]["cases"], 1);
    assert_eq!(r["by"]["Sam Lead"]["csat_percent"], 100.0);
    assert_eq!(r["findings"][0]["case"], b.as_str());
    assert_eq!(
        r["findings"][0]["actions"],
        json!(["Add a roller check to QA"])
    );
    assert_eq!(r["findings"][0]["tags"], json!(["qa"]));

    let text = at(
        &env,
        &root,
        NOW,
        &["review", "--from", "2025-01-13", "--to", "2025-01-17"],
    )
    .ok()
    .stdout;
    for expected in [
        "8 case(s)",
        "median 25.0 min, p90 345.1 min (n=8)",
        "87.5% (7 met, 1 breached",
        "ETA kept",
        "50.0%",
        "Worn roller  systemic",
        "action: Add a roller check to QA",
    ] {
        assert!(text.contains(expected), "{expected} missing:\n{text}");
    }
    let csv = at(
        &env,
        &root,
        NOW,
        &[
            "review",
            "--from",
            "2025-01-13",
            "--to",
            "2025-01-17",
            "--by",
            "product",
            "--csv",
        ],
    )
    .ok()
    .stdout;
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("group,cases,frt_median_min,frt_p90_min"));
    assert!(lines[1].starts_with("all,8,25.0000,345.1000,"), "{csv}");
    // Both products are even-sized groups of 4 (p90 at h = 2.7):
    // P1 = A 30, B 1050, G 43, I 30 → [30, 30, 43, 1050]: 36.5; 43 + 0.7 × 1007 = 747.9.
    // P2 = C 10, F 20, H 10, J 5 → [5, 10, 10, 20]: 10; 10 + 0.7 × 10 = 17.
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("P1,4,36.5000,747.9000,"))
            && lines.iter().any(|l| l.starts_with("P2,4,10.0000,17.0000,")),
        "{csv}"
    );
    // Every metric is in the CSV, p90s and counts included.
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().unwrap().clone();
    let all = reader.records().next().unwrap().unwrap();
    let get = |column: &str| {
        let i = header.iter().position(|h| h == column);
        i.and_then(|i| all.get(i))
            .unwrap_or_else(|| panic!("{column}: {csv}"))
    };
    for (column, value) in [
        ("frt_business_p90_min", "57.1000"),
        ("first_resolution_p90_h", "63.1000"),
        ("full_resolution_p90_h", "63.1000"),
        ("sla_update_pct", "87.5000"),
        ("sla_update_met", "7"),
        ("sla_update_breached", "1"),
        ("sla_update_instances_met", "15"),
        ("sla_update_instances_breached", "1"),
        ("sla_follow_up_instances_breached", "1"),
        ("sla_resolution_met", "7"),
        ("eta_kept_pct", "50.0000"),
        ("eta_kept", "2"),
        ("eta_missed", "2"),
        ("one_touch_pct", "37.5000"),
        ("follow_up_done_pct", "87.5000"),
        ("csat_pct", "60.0000"),
        ("rated", "5"),
        ("response_rate_pct", "71.4286"),
    ] {
        assert_eq!(get(column), value, "{column}");
    }
    recompute_from_the_export(&env, &root, m);

    // The queue names every target a case ever breached: H's early update, F's follow-up
    // (closed without one), I's first ETA.
    let queue = at(&env, &root, NOW, &["review", "--queue", "--json"]).json();
    let reasons = |id: &str| {
        queue
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["case"] == id)
            .map(|i| i["reasons"].clone())
            .unwrap_or_else(|| panic!("{id} not queued: {queue}"))
    };
    assert_eq!(reasons(&h), json!(["breached update"]));
    assert_eq!(reasons(&f), json!(["breached follow_up"]));
    assert_eq!(reasons(&i), json!(["breached eta"]));
}

/// What a lead does with a spreadsheet: select the window's rows of `export` by their
/// last resolve, recompute each metric from the columns, and compare with `review`.
fn recompute_from_the_export(env: &Env, root: &Path, m: &Value) {
    let out = at(env, root, NOW, &["export", "--format", "jsonl"])
        .ok()
        .stdout;
    let rows: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|r: &Value| {
            // The window, 13–17 January in Berlin: [12 Jan 23:00Z, 17 Jan 23:00Z).
            r["last_resolved_at"]
                .as_str()
                .is_some_and(|t| ("2025-01-12T23:00:00Z".."2025-01-17T23:00:00Z").contains(&t))
        })
        .collect();
    assert_eq!(rows.len() as u64, m["cases"].as_u64().unwrap());
    // PERCENTILE.INC, as a spreadsheet computes it.
    let percentile = |column: &str, p: f64| {
        let mut v: Vec<f64> = rows.iter().filter_map(|r| r[column].as_f64()).collect();
        v.sort_by(f64::total_cmp);
        let h = p * (v.len() - 1) as f64;
        let lo = h.floor() as usize;
        v[lo] + (h - lo as f64) * (v[(lo + 1).min(v.len() - 1)] - v[lo])
    };
    for (column, metric) in [
        ("first_response_minutes", "first_response_minutes"),
        (
            "first_response_business_minutes",
            "first_response_business_minutes",
        ),
    ] {
        assert!(
            close(&m[metric]["median"], percentile(column, 0.5)),
            "{metric}"
        );
        assert!(
            close(&m[metric]["p90"], percentile(column, 0.9)),
            "{metric}"
        );
    }
    let share = |pred: &dyn Fn(&Value) -> bool| {
        rows.iter().filter(|r| pred(r)).count() as f64 * 100.0 / rows.len() as f64
    };
    assert!(close(
        &m["reopen_rate_percent"],
        share(&|r| r["reopen_count"].as_u64() > Some(0))
    ));
    assert!(close(
        &m["escalation_rate_percent"],
        share(&|r| r["ever_escalated"] == true)
    ));
    assert!(close(
        &m["one_touch_percent"],
        share(&|r| r["outbound_before_last_resolve"].as_u64() < Some(2))
    ));
    assert!(close(
        &m["follow_up_done_percent"],
        share(&|r| r["followed_up"] == true)
    ));
    let ratings: Vec<u64> = rows.iter().filter_map(|r| r["rating"].as_u64()).collect();
    assert_eq!(m["rated"], ratings.len() as u64);
    let good = ratings.iter().filter(|r| **r >= 4).count() as f64;
    assert!(close(
        &m["csat_percent"],
        good * 100.0 / ratings.len() as f64
    ));
    for target in ["acknowledge", "update", "resolution", "follow_up"] {
        let column = format!("sla_{target}");
        let n = |state: &str| rows.iter().filter(|r| r[&column] == state).count() as u64;
        assert_eq!(
            (
                m["sla"][target]["met"].as_u64(),
                m["sla"][target]["breached"].as_u64()
            ),
            (Some(n("met")), Some(n("breached"))),
            "{target}"
        );
    }
    let sum = |column: &str| rows.iter().filter_map(|r| r[column].as_u64()).sum::<u64>();
    assert_eq!(m["sla"]["update"]["instances"]["met"], sum("update_met"));
    assert_eq!(
        m["sla"]["update"]["instances"]["breached"],
        sum("update_breached")
    );
    assert_eq!(
        m["sla"]["follow_up"]["instances"]["met"],
        sum("follow_up_met")
    );
    assert_eq!(m["eta"]["met"], sum("eta_kept"));
    assert_eq!(m["eta"]["breached"], sum("eta_missed"));
    // A reopen clears `resolved_at` but not the resolve times: J is open again.
    let j = rows.iter().find(|r| r["customer"] == "Jo").unwrap();
    assert_eq!(
        (
            &j["resolved_at"],
            j["first_resolved_at"].as_str(),
            j["last_resolved_at"].as_str(),
            j["rating"].as_u64()
        ),
        (
            &Value::Null,
            Some("2025-01-15T12:00:00Z"),
            Some("2025-01-15T12:00:00Z"),
            Some(1)
        )
    );
    let g = rows.iter().find(|r| r["customer"] == "Gil").unwrap();
    assert_eq!(g["first_response_at"], "2025-01-14T08:43:00Z");
    assert_eq!(g["first_response_minutes"], 43);
}

#[test]
fn every_metric_matches_the_hand_computed_value() {
    let env = Env::new();
    let (root, [_a, b, c, _d, _e]) = fixture(&env);
    at(
        &env,
        &root,
        NOW,
        &[
            "review",
            &b,
            "--finding",
            "Roller wear not caught in QA",
            "--action",
            "Add a roller check to QA",
            "--tag",
            "qa",
        ],
    )
    .ok();
    let r = at(
        &env,
        &root,
        NOW,
        &[
            "review",
            "--from",
            "2025-01-13",
            "--to",
            "2025-01-17",
            "--by",
            "agent",
            "--json",
        ],
    )
    .json();
    let m = &r["overall"];
    assert_eq!(
        m["cases"], 3,
        "A, B, C; not D (open) nor E (before the window)"
    );
    // Percentiles interpolate between closest ranks (numpy, PERCENTILE.INC): for three
    // sorted values x0..x2 the median is x1 and p90 sits at h = 0.9 × 2 = 1.8, i.e.
    // x1 + 0.8 × (x2 − x1).
    // First response, minutes: [10, 30, 1050] → p90 30 + 0.8 × 1020 = 846;
    // business: [10, 30, 90] → p90 30 + 0.8 × 60 = 78.
    spread_is(&m["first_response_minutes"], 3, 30.0, 846.0);
    spread_is(&m["first_response_business_minutes"], 3, 30.0, 78.0);
    // First resolution, hours: [2, 21, 24] → p90 21 + 0.8 × 3 = 23.4;
    // full: [2, 24, 42] → p90 24 + 0.8 × 18 = 38.4.
    spread_is(&m["first_resolution_hours"], 3, 21.0, 23.4);
    spread_is(&m["full_resolution_hours"], 3, 24.0, 38.4);
    // Per case, then per instance. Acknowledge and resolution: one instance a case.
    let sla = |met: u64, breached: u64, instances: (u64, u64)| {
        let pct = |m: u64, b: u64| json!(m as f64 * 100.0 / (m + b) as f64);
        json!({"met": met, "breached": breached, "percent": pct(met, breached),
               "instances": {"met": instances.0, "breached": instances.1,
                             "percent": pct(instances.0, instances.1)}})
    };
    assert_eq!(m["sla"]["acknowledge"], sla(3, 0, (3, 0)));
    assert_eq!(m["sla"]["resolution"], sla(3, 0, (3, 0)));
    // Update clocks: A ack→resolve; B ack→update, update→resolve, reopen→resolve; C
    // ack→update, update→resolve: 6, all within their 2bd (C: 1bd).
    assert_eq!(m["sla"]["update"], sla(3, 0, (6, 0)));
    // Follow-ups: one per resolve, A 1, B 2 (the not-satisfied one and the no-answer), C 1.
    assert_eq!(m["sla"]["follow_up"], sla(3, 0, (4, 0)));
    assert_eq!(m["eta_kept_percent"], 50.0, "B kept, C missed");
    assert_eq!(m["eta"], json!({"met": 1, "breached": 1, "percent": 50.0}));
    let third = 100.0 / 3.0;
    assert_eq!(m["reopen_rate_percent"], third);
    assert_eq!(m["escalation_rate_percent"], third);
    assert_eq!(
        m["one_touch_percent"], third,
        "only A had a single outbound message"
    );
    assert_eq!(m["follow_up_done_percent"], 100.0);
    assert_eq!(
        (m["csat_percent"].as_f64(), m["rated"].as_u64()),
        (Some(100.0), Some(2)),
        "A 5, C 4; B's 2/5 answered its first resolve, and the follow-up after its last \
         resolve got no answer"
    );
    assert_eq!(
        m["response_rate_percent"],
        2.0 * third,
        "2 rated of 3 followed up"
    );
    assert_eq!(
        r["root_causes"],
        json!([{"root_cause": "Worn roller", "cases": 2, "customers": 2, "systemic": true, "case_ids": r["root_causes"][0]["case_ids"]}])
    );
    let ids = r["root_causes"][0]["case_ids"].as_array().unwrap();
    assert!(ids.contains(&json!(b)) && ids.contains(&json!(c)));
    assert_eq!(
        r["backlog"],
        json!({"0-1d": 0, "1-3d": 0, "3-7d": 1, "7-30d": 0, "30d+": 0})
    );
    assert_eq!(r["resolved_per_week"], json!({"2025-W03": 3}));
    assert_eq!(r["by"]["Dana Agent"]["cases"], 2);
    assert_eq!(r["by"]["Sam Lead"]["cases"], 1);
    assert_eq!(r["by"]["Sam Lead"]["csat_percent"], 100.0);
    assert_eq!(r["findings"][0]["case"], b.as_str());
    assert_eq!(
        r["findings"][0]["actions"],
        json!(["Add a roller check to QA"])
    );
    assert_eq!(r["findings"][0]["tags"], json!(["qa"]));

    let text = at(
        &env,
        &root,
        NOW,
        &["review", "--from", "2025-01-13", "--to", "2025-01-17"],
    )
    .ok()
    .stdout;
    for expected in [
        "3 case(s)",
        "median 30.0 min, p90 846.0 min (n=3)",
        "ETA kept",
        "50.0%",
        "Worn roller  systemic",
        "action: Add a roller check to QA",
    ] {
        assert!(text.contains(expected), "{expected} missing:\n{text}");
    }
    let csv = at(
        &env,
        &root,
        NOW,
        &[
            "review",
            "--from",
            "2025-01-13",
            "--to",
            "2025-01-17",
            "--by",
            "product",
            "--csv",
        ],
    )
    .ok()
    .stdout;
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("group,cases,frt_median_min"));
    assert!(lines[1].starts_with("all,3,30.0000,846.0000,"), "{csv}");
    // P1 is an even-sized group: A (30 min) and B (1050 min). Its median is the mean of
    // the two, 540; p90 at h = 0.9 × 1 → 30 + 0.9 × 1020 = 948.
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("P1,2,540.0000,948.0000,"))
            && lines.iter().any(|l| l.starts_with("P2,1,10.0000,10.0000,")),
        "{csv}"
    );
}

#[test]
fn the_queue_puts_cases_worth_a_look_first_and_reviews_leave_it() {
    let env = Env::new();
    let (root, [a, b, c, _d, e]) = fixture(&env);
    let queue = at(&env, &root, NOW, &["review", "--queue", "--json"]).json();
    let order: Vec<&str> = queue
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["case"].as_str().unwrap())
        .collect();
    // B has three reasons, C and E one each (C resolved later), A none.
    assert_eq!(
        order,
        [b.as_str(), c.as_str(), e.as_str(), a.as_str()],
        "{queue}"
    );
    assert_eq!(
        queue[0]["reasons"],
        json!(["reopened 1×", "escalated", "systemic"])
    );
    assert_eq!(queue[1]["reasons"], json!(["breached eta"]));
    assert_eq!(
        queue[2]["reasons"],
        json!(["breached follow_up"]),
        "E was never followed up"
    );
    assert_eq!(queue[3]["reasons"], json!([]));
    let before = env.commit_count(&root);
    at(&env, &root, NOW, &["review", &b, "--finding", "ok"]).ok();
    assert_eq!(env.commit_count(&root), before + 1, "one commit");
    let msg = env.git(&root, &["log", "-1", "--format=%s%n%b"]);
    assert!(
        msg.starts_with(&format!("{b}: review — ok")) && msg.contains("Action: review"),
        "{msg}"
    );
    let queue = at(&env, &root, NOW, &["review", "--queue", "--json"]).json();
    assert!(!queue
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["case"] == b.as_str()));
    // Reviews are for finished cases; bad input writes nothing.
    let open_case = open(&env, &root, NOW, "Fay", &[]);
    let before = env.commit_count(&root);
    let err = at(
        &env,
        &root,
        NOW,
        &["review", &open_case, "--finding", "too early"],
    )
    .fails(1);
    assert!(err.contains("`review` is not allowed on case"), "{err}");
    let err = at(&env, &root, NOW, &["review", &a]).fails(1);
    assert!(err.contains("--finding"), "{err}");
    assert_eq!(env.commit_count(&root), before);
}

#[test]
fn edge_cases_empty_window_no_ratings_reopened_twice_and_bad_dates() {
    let env = Env::new();
    let (root, _) = fixture(&env);
    let empty = at(
        &env,
        &root,
        NOW,
        &[
            "review",
            "--from",
            "2024-06-01",
            "--to",
            "2024-06-30",
            "--json",
        ],
    )
    .json();
    assert_eq!(empty["overall"]["cases"], 0);
    assert_eq!(
        empty["overall"]["first_response_minutes"],
        json!({"count": 0, "median": null, "p90": null})
    );
    assert_eq!(empty["overall"]["csat_percent"], Value::Null);
    assert_eq!(empty["overall"]["reopen_rate_percent"], Value::Null);
    // E alone: no rating, no follow-up.
    let e_only = at(
        &env,
        &root,
        NOW,
        &[
            "review",
            "--from",
            "2025-01-01",
            "--to",
            "2025-01-03",
            "--json",
        ],
    )
    .json();
    assert_eq!(
        (
            e_only["overall"]["cases"].as_u64(),
            &e_only["overall"]["csat_percent"]
        ),
        (Some(1), &Value::Null)
    );
    assert_eq!(e_only["overall"]["response_rate_percent"], Value::Null);

    let twice = open(&env, &root, "2025-02-03T08:00:00Z", "Gus", &[]);
    for (t, args) in [
        ("2025-02-03T08:05:00Z", vec!["ack", &twice]),
        (
            "2025-02-03T09:00:00Z",
            vec!["resolve", &twice, "--resolution", "1"],
        ),
        (
            "2025-02-03T10:00:00Z",
            vec!["reopen", &twice, "--reason", "again"],
        ),
        (
            "2025-02-03T11:00:00Z",
            vec!["resolve", &twice, "--resolution", "2"],
        ),
        (
            "2025-02-03T12:00:00Z",
            vec!["reopen", &twice, "--reason", "and again"],
        ),
        (
            "2025-02-03T13:00:00Z",
            vec!["resolve", &twice, "--resolution", "3"],
        ),
    ] {
        at(&env, &root, t, &args).ok();
    }
    let r = at(
        &env,
        &root,
        "2025-02-10T08:00:00Z",
        &[
            "review",
            "--from",
            "2025-02-03",
            "--to",
            "2025-02-03",
            "--json",
        ],
    )
    .json();
    assert_eq!(
        (
            r["overall"]["cases"].as_u64(),
            r["overall"]["reopen_rate_percent"].as_f64()
        ),
        (Some(1), Some(100.0))
    );
    assert_eq!(r["overall"]["full_resolution_hours"]["median"], 5.0);
    assert_eq!(r["overall"]["first_resolution_hours"]["median"], 1.0);

    for (args, expected) in [
        (
            vec!["review", "--from", "last week"],
            "--from: cannot use \"last week\" as a time",
        ),
        (
            vec!["review", "--from", "2025-02-10", "--to", "2025-02-01"],
            "is after --to",
        ),
    ] {
        let err = at(&env, &root, NOW, &args).fails(1);
        assert!(err.contains(expected), "{err}");
    }
}

#[test]
fn the_html_report_is_self_contained_with_well_formed_charts() {
    let env = Env::new();
    let (root, [a, b, ..]) = fixture(&env);
    month(&env, &root);
    at(
        &env,
        &root,
        NOW,
        &[
            "review",
            &a,
            "--finding",
            "Customer <script>alert(1)</script> & co",
            "--action",
            "Say \"thanks\"",
        ],
    )
    .ok();
    at(&env, &root, NOW, &["review", &b, "--finding", "ok"]).ok();
    let page = env.path("review.html");
    let out = at(
        &env,
        &root,
        NOW,
        &[
            "review",
            "--from",
            "2025-01-13",
            "--to",
            "2025-01-17",
            "--by",
            "agent",
            "--html",
            page.to_str().unwrap(),
        ],
    )
    .ok();
    assert!(out.stderr.contains("wrote"), "{}", out.stderr);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!doctype html>"));
    for external in ["<script", "src=\"http", "href=\"http", "@import", "url("] {
        assert!(
            !html.contains(external),
            "{external} found: the page must be self-contained"
        );
    }
    assert!(
        html.contains("Customer &lt;script&gt;alert(1)&lt;/script&gt; &amp; co"),
        "free text is escaped"
    );
    assert!(html.contains("Say &quot;thanks&quot;"));
    let svgs: Vec<&str> = html
        .match_indices("<svg")
        .map(|(i, _)| &html[i..i + html[i..].find("</svg>").unwrap() + 6])
        .collect();
    assert_eq!(
        svgs.len(),
        5,
        "SLA, first response, resolved per week, CSAT, root causes"
    );
    for (svg, title) in svgs.iter().zip([
        "SLA achievement per target",
        "First response time",
        "Cases resolved per week",
        "CSAT per week",
        "Top root causes (cases)",
    ]) {
        let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{title}: {e}\n{svg}"));
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
        assert!(texts.contains(&title), "{title} missing in {texts:?}");
        assert!(
            doc.descendants()
                .any(|n| matches!(n.tag_name().name(), "rect" | "circle")),
            "{title} draws nothing"
        );
    }
    assert!(
        html.contains("Worn roller") && html.contains("Dana Agent") && html.contains("Sam Lead")
    );
    let texts = |svg: &str| -> Vec<String> {
        let doc = roxmltree::Document::parse(svg).unwrap();
        let v = doc
            .descendants()
            .filter_map(|n| n.text())
            .map(String::from)
            .collect();
        v
    };
    // The SLA bars have a legend and the goal they are coloured against.
    let sla = texts(svgs[0]);
    assert!(
        sla.iter().any(|t| t.contains("goal")) && sla.iter().any(|t| t.starts_with("< 75%")),
        "{sla:?}"
    );
    // Count axes tick in whole numbers (resolved per week: 8 → 0, 2, 4, 6, 8).
    for svg in [svgs[1], svgs[2]] {
        let ticks: Vec<String> = roxmltree::Document::parse(svg)
            .unwrap()
            .descendants()
            .filter(|n| n.attribute("text-anchor") == Some("end"))
            .filter_map(|n| n.text().map(String::from))
            .collect();
        assert!(
            ticks.len() == 5 && ticks.iter().all(|t| t.parse::<u64>().is_ok()),
            "{ticks:?}"
        );
    }
    assert!(texts(svgs[2]).contains(&"8".to_string()));
    // Weeks carry their year; 13–17 January is a partial week (no weekend), marked.
    assert!(texts(svgs[2]).contains(&"2025-W03*".to_string()));
    assert!(html.contains("* a partial week"));
    // CSAT per week with the number of ratings behind it (A, C, G, H, J).
    let csat = texts(svgs[3]);
    assert!(
        csat.contains(&"60%".to_string()) && csat.contains(&"n=5".to_string()),
        "{csat:?}"
    );
    // Every table column has a header.
    assert!(!html.contains("<th></th>") && !html.contains("<th scope=\"col\"></th>"));
    // Every metric of the JSON is in the metrics table.
    for metric in [
        "First response (business time), median / p90",
        "First resolution, median / p90",
        "SLA update",
        "87.5% (7 of 8 cases; 15 of 16 instances)",
        "SLA follow-up",
        "ETA kept",
        "50.0% (2 kept, 2 missed)",
        "One-touch resolution",
        "Follow-up done",
        "Response rate",
        "71.4%",
    ] {
        assert!(html.contains(metric), "{metric} missing");
    }
    // Readable at 700 px: charts shrink to the screen, wide tables scroll on their own.
    assert!(html.contains("minmax(min(500px,100%),1fr)") && html.contains("overflow-x:auto"));
}
