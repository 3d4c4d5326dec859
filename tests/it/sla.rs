//! SLA targets, the due queue and tick, through the binary with a fixed clock.

use std::path::Path;

use serde_json::Value;

use crate::common::Env;

/// Runs casebook at `now` (UTC, RFC 3339).
fn at(env: &Env, root: &Path, now: &str, args: &[&str]) -> crate::common::Run {
    let mut cmd = env.cb(root);
    cmd.env("CASEBOOK_NOW", now).args(args);
    crate::common::Run(cmd.output().unwrap())
}

fn sla(env: &Env, root: &Path, now: &str, id: &str) -> Value {
    at(env, root, now, &["show", id, "--json"]).json()["sla"].clone()
}

/// A Berlin case book whose acknowledgement target is 120 business minutes.
fn book(env: &Env, extra: &str) -> std::path::PathBuf {
    let root = env.casebook("book");
    let path = root.join(".casebook/config.toml");
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        "[sla.acknowledge]   # from `open` to the first response\nurgent = \"2h calendar\"\nhigh = \"1bd\"\nnormal = \"1bd\"",
        "[sla.acknowledge]   # from `open` to the first response\nurgent = \"2h calendar\"\nhigh = \"1bd\"\nnormal = \"120m business\"",
        1,
    );
    assert!(text.contains("normal = \"120m business\""));
    std::fs::write(&path, format!("{text}{extra}")).unwrap();
    env.git(&root, &["commit", "-qam", "policy"]);
    root
}

fn open_at(env: &Env, root: &Path, now: &str, customer: &str) -> String {
    at(
        env,
        root,
        now,
        &[
            "open",
            "--customer",
            customer,
            "--email",
            "c@example.com",
            "--subject",
            "s",
        ],
    )
    .ok()
    .stdout
    .trim()
    .to_string()
}

// Fri 2025-01-10 16:30 Berlin = 15:30Z.
const FRI_1630: &str = "2025-01-10T15:30:00Z";

#[test]
fn acknowledgement_due_at_risk_and_breach_follow_business_hours() {
    let env = Env::new();
    let root = book(&env, "");
    let id = open_at(&env, &root, FRI_1630, "Ada");
    let s = sla(&env, &root, "2025-01-10T15:45:00Z", &id);
    assert_eq!(
        s["acknowledge"]["due"], "2025-01-13T09:30:00Z",
        "Mon 10:30 Berlin: {s}"
    );
    assert_eq!(s["acknowledge"]["state"], "running");
    assert_eq!(s["acknowledge"]["policy"], "120m business");
    // At risk from Mon 10:00 Berlin (75% used), not a minute before.
    assert_eq!(
        sla(&env, &root, "2025-01-13T08:59:00Z", &id)["acknowledge"]["state"],
        "running"
    );
    assert_eq!(
        sla(&env, &root, "2025-01-13T09:00:00Z", &id)["acknowledge"]["state"],
        "at_risk"
    );
    let breached = sla(&env, &root, "2025-01-13T09:30:00Z", &id);
    assert_eq!(breached["acknowledge"]["state"], "breached");
    assert_eq!(
        breached["acknowledge"]["breached_at"],
        "2025-01-13T09:30:00Z"
    );
    let listed = at(
        &env,
        &root,
        "2025-01-13T09:30:00Z",
        &["list", "--sla", "breached", "--json"],
    )
    .json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let at_risk = at(
        &env,
        &root,
        "2025-01-13T09:30:00Z",
        &["list", "--sla", "at-risk", "--json"],
    )
    .json();
    assert_eq!(at_risk, serde_json::json!([]));
    // Acknowledged late: done, and breached for the record.
    at(&env, &root, "2025-01-13T10:00:00Z", &["ack", &id]).ok();
    let s = sla(&env, &root, "2025-01-20T10:00:00Z", &id);
    assert_eq!(
        (
            s["acknowledge"]["state"].as_str(),
            s["acknowledge"]["open"].as_bool()
        ),
        (Some("breached"), Some(false))
    );
    let text = at(&env, &root, "2025-01-13T10:05:00Z", &["show", &id])
        .ok()
        .stdout;
    assert!(
        text.contains("acknowledge  breached") && text.contains("due 2025-01-13 10:30 CET"),
        "{text}"
    );
}

#[test]
fn the_resolution_clock_pauses_while_waiting_on_the_customer() {
    let env = Env::new();
    let root = book(&env, "");
    let path = root.join(".casebook/config.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("normal = \"5bd\"", "normal = \"16h business\"");
    std::fs::write(&path, text).unwrap();
    env.git(&root, &["commit", "-qam", "16h resolution"]);
    // Mon 2025-01-13 09:00 Berlin = 08:00Z.
    let id = open_at(&env, &root, "2025-01-13T08:00:00Z", "Ada");
    at(&env, &root, "2025-01-13T08:05:00Z", &["ack", &id]).ok();
    at(
        &env,
        &root,
        "2025-01-13T12:00:00Z",
        &["pending", &id, "--reason", "serial number"],
    )
    .ok();
    let paused = sla(&env, &root, "2025-01-13T15:00:00Z", &id);
    assert_eq!(
        (
            paused["resolution"]["state"].as_str(),
            &paused["resolution"]["due"]
        ),
        (Some("paused"), &Value::Null)
    );
    at(
        &env,
        &root,
        "2025-01-14T12:00:00Z",
        &["log", &id, "--summary", "sent it", "--direction", "inbound"],
    )
    .ok();
    let s = sla(&env, &root, "2025-01-14T12:00:00Z", &id);
    assert_eq!(
        s["resolution"]["due"], "2025-01-15T16:00:00Z",
        "Wed 17:00 Berlin, not Tue: {s}"
    );
}

#[test]
fn a_missed_eta_and_the_due_queue() {
    let env = Env::new();
    let root = book(&env, "");
    let ada = open_at(&env, &root, FRI_1630, "Ada");
    let bob = open_at(&env, &root, FRI_1630, "Bob");
    at(&env, &root, "2025-01-10T15:40:00Z", &["ack", &ada]).ok();
    at(
        &env,
        &root,
        "2025-01-10T15:45:00Z",
        &[
            "update",
            &ada,
            "--message",
            "on it",
            "--eta",
            "2025-01-13 12:00",
        ],
    )
    .ok();
    let s = sla(&env, &root, "2025-01-13T11:00:00Z", &ada);
    assert_eq!(
        (s["eta"]["state"].as_str(), s["eta"]["breached_at"].as_str()),
        (Some("breached"), Some("2025-01-13T11:00:00Z"))
    );

    let queue = at(&env, &root, "2025-01-13T11:00:00Z", &["due", "--json"]).json();
    let rows: Vec<(String, String, String)> = queue
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["case"].as_str().unwrap().into(),
                r["target"].as_str().unwrap().into(),
                r["state"].as_str().unwrap().into(),
            )
        })
        .collect();
    // Breached first (by due time): Bob's acknowledgement (Mon 10:30), Ada's ETA (Mon 12:00).
    assert_eq!(
        rows[0],
        (bob.clone(), "acknowledge".into(), "breached".into()),
        "{queue}"
    );
    assert_eq!(
        rows[1],
        (ada.clone(), "eta".into(), "breached".into()),
        "{queue}"
    );
    assert!(rows[2..].iter().all(|r| r.2 != "breached"));
    let dues: Vec<&str> = queue.as_array().unwrap()[2..]
        .iter()
        .map(|r| r["due"].as_str().unwrap())
        .collect();
    assert!(
        dues.windows(2).all(|w| w[0] <= w[1]),
        "then by due time: {dues:?}"
    );
    assert_eq!(queue[0]["seconds_left"], -5400, "due 09:30Z, now 11:00Z");
    assert_eq!(queue[0]["customer"], "Bob");

    let soon = at(
        &env,
        &root,
        "2025-01-13T11:00:00Z",
        &["due", "--within", "1bd", "--json"],
    )
    .json();
    assert!(soon.as_array().unwrap().len() < queue.as_array().unwrap().len());
    assert!(soon
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["state"] == "breached" || r["due"].as_str().unwrap() <= "2025-01-14T11:00:00Z"));
    let err = at(
        &env,
        &root,
        "2025-01-13T11:00:00Z",
        &["due", "--within", "soon"],
    )
    .fails(1);
    assert!(err.contains("--within"), "{err}");
    let table = at(&env, &root, "2025-01-13T11:00:00Z", &["due"])
        .ok()
        .stdout;
    assert!(
        table.starts_with("DUE") && table.contains("-1h 30m"),
        "{table}"
    );
}

#[test]
fn tick_closes_exactly_at_the_boundary_and_is_idempotent() {
    let env = Env::new();
    let root = book(&env, "");
    let id = open_at(&env, &root, FRI_1630, "Ada");
    at(&env, &root, "2025-01-10T15:40:00Z", &["ack", &id]).ok();
    at(
        &env,
        &root,
        "2025-01-10T16:00:00Z",
        &["resolve", &id, "--resolution", "fixed"],
    )
    .ok();
    at(
        &env,
        &root,
        "2025-01-13T09:00:00Z",
        &["follow-up", &id, "--no-answer", "--message", "All good?"],
    )
    .ok();
    let commits = env.commit_count(&root);

    // auto_close = 7d calendar after the resolution (Fri 16:00Z): not a minute before.
    let early = at(&env, &root, "2025-01-17T15:59:00Z", &["tick", "--json"]).json();
    assert_eq!(early["actions"], serde_json::json!([]));
    assert_eq!(env.commit_count(&root), commits);
    let dry = at(
        &env,
        &root,
        "2025-01-17T16:00:00Z",
        &["tick", "--dry-run", "--json"],
    )
    .json();
    assert_eq!(dry["actions"][0]["case"], id.as_str());
    assert_eq!(dry["actions"][0]["action"], "close");
    assert_eq!(env.commit_count(&root), commits, "dry run writes nothing");
    let done = at(&env, &root, "2025-01-17T16:00:00Z", &["tick"])
        .ok()
        .stdout;
    assert!(
        done.contains(&format!(
            "did close {id}: closed automatically: no answer to the follow-up within 7 days"
        )),
        "{done}"
    );
    assert_eq!(env.commit_count(&root), commits + 1);
    let v = at(
        &env,
        &root,
        "2025-01-17T16:00:00Z",
        &["show", &id, "--json"],
    )
    .json();
    assert_eq!(v["status"], "closed");
    assert_eq!(v["closed_at"], "2025-01-17T16:00:00Z");
    let again = at(&env, &root, "2025-01-18T10:00:00Z", &["tick", "--json"]).json();
    assert_eq!(again["actions"], serde_json::json!([]), "idempotent");
    assert_eq!(env.commit_count(&root), commits + 1);
}

#[test]
fn a_reopen_cancels_the_auto_close() {
    let env = Env::new();
    let root = book(&env, "");
    let id = open_at(&env, &root, FRI_1630, "Ada");
    at(&env, &root, "2025-01-10T15:40:00Z", &["ack", &id]).ok();
    at(
        &env,
        &root,
        "2025-01-10T16:00:00Z",
        &["resolve", &id, "--resolution", "fixed"],
    )
    .ok();
    at(
        &env,
        &root,
        "2025-01-12T16:00:00Z",
        &["reopen", &id, "--reason", "came back"],
    )
    .ok();
    let out = at(&env, &root, "2025-01-20T16:00:00Z", &["tick", "--json"]).json();
    assert_eq!(out["actions"], serde_json::json!([]));
}

#[test]
fn tick_escalates_breaches_once_when_the_policy_says_so() {
    let env = Env::new();
    let root = book(&env, "");
    let id = open_at(&env, &root, FRI_1630, "Ada");
    // Off by default.
    assert_eq!(
        at(&env, &root, "2025-01-13T12:00:00Z", &["tick", "--json"]).json()["actions"],
        serde_json::json!([])
    );
    let path = root.join(".casebook/config.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("auto_escalate = false", "auto_escalate = true");
    std::fs::write(&path, text).unwrap();
    env.git(&root, &["commit", "-qam", "auto-escalate"]);
    let commits = env.commit_count(&root);
    let out = at(&env, &root, "2025-01-13T12:00:00Z", &["tick", "--json"]).json();
    assert_eq!(out["actions"][0]["action"], "escalate", "{out}");
    assert!(out["actions"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("acknowledge target breached at 2025-01-13T09:30:00Z"));
    let v = at(
        &env,
        &root,
        "2025-01-13T12:00:00Z",
        &["show", &id, "--json"],
    )
    .json();
    assert_eq!(
        (v["escalation_level"].as_u64(), v["escalated_to"].as_str()),
        (Some(1), Some("supervisor"))
    );
    assert_eq!(env.commit_count(&root), commits + 1);
    let again = at(&env, &root, "2025-01-13T13:00:00Z", &["tick", "--json"]).json();
    assert_eq!(
        again["actions"],
        serde_json::json!([]),
        "one escalation per breach"
    );
    assert_eq!(env.commit_count(&root), commits + 1);
}

#[test]
fn bad_policy_values_are_rejected_naming_the_key() {
    let env = Env::new();
    let root = env.casebook("book");
    let path = root.join(".casebook/config.toml");
    let original = std::fs::read_to_string(&path).unwrap();
    for (from, to, expected) in [
        (
            "urgent = \"2h calendar\"",
            "urgent = \"2 hours\"",
            "sla.acknowledge.urgent = \"2 hours\"",
        ),
        (
            "high = \"3bd\"",
            "high = \"3bd calendar\"",
            "sla.resolution.high",
        ),
        ("at_risk = 0.75", "at_risk = 75", "sla.at_risk = 75.0"),
        (
            "pause_when = [\"pending\"]",
            "pause_when = [\"closed\"]",
            "sla.resolution.pause_when = \"closed\"",
        ),
        (
            "auto_close = \"7d calendar\"",
            "auto_close = \"7\"",
            "sla.auto_close = \"7\"",
        ),
    ] {
        assert!(original.contains(from), "{from}");
        std::fs::write(&path, original.replacen(from, to, 1)).unwrap();
        env.git(&root, &["commit", "-qam", "bad policy"]);
        let err = env.run(&root, &["due"]).fails(1);
        assert!(err.contains(expected), "{to}: {err}");
    }
}
