//! Import and export through the binary: all-or-nothing, idempotent, round trip.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use serde_json::Value;

use crate::common::{Env, Run};

#[allow(dead_code)]
#[path = "../../examples/gen_sample.rs"]
mod gen_sample;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/cases.csv");
const HEADER: &str = "external_id,customer,email,phone,subject,product,priority,channel,incident_at,description,opened_at\n";

fn import_text(env: &Env, root: &Path, name: &str, text: &[u8], extra: &[&str]) -> Run {
    let path = env.path(name);
    std::fs::write(&path, text).unwrap();
    let mut args = vec!["import", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    env.run(root, &args)
}

fn refused(env: &Env, root: &Path, run: Run) -> String {
    let before = env.commit_count(root);
    let err = run.fails(1);
    assert_eq!(env.commit_count(root), before);
    assert_eq!(env.status_porcelain(root), "");
    err
}

#[test]
fn the_sample_data_is_what_its_generator_makes() {
    assert_eq!(
        std::fs::read_to_string(SAMPLE).unwrap(),
        gen_sample::generate(300)
    );
}

#[test]
fn importing_the_sample_is_one_commit_and_importing_it_again_is_none() {
    let env = Env::new();
    let root = env.casebook("book");
    let loose = |root: &Path| {
        env.git(root, &["count-objects"])
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    };
    let loose_before = loose(&root);
    let report = env.run(&root, &["import", SAMPLE, "--json"]).json();
    assert_eq!(report["created"].as_array().unwrap().len(), 300);
    assert_eq!(
        env.commit_count(&root),
        2,
        "one commit for the whole import"
    );
    let msg = env.git(&root, &["log", "-1", "--format=%s%n%b"]);
    assert!(
        msg.starts_with("import: 300 created, 0 updated from cases.csv\n"),
        "{msg}"
    );
    assert!(msg.contains("Action: import"), "{msg}");
    assert_eq!(env.status_porcelain(&root), "");
    // (The key ring the import replaced was loose and is deleted, so there may be fewer.)
    let loose_after: usize = loose(&root).parse().unwrap();
    assert!(
        loose_after <= loose_before.parse::<usize>().unwrap(),
        "written as one pack: no loose objects added ({loose_after} after, {loose_before} before)"
    );

    let again = env.run(&root, &["import", SAMPLE, "--json"]).json();
    assert_eq!(
        (
            again["created"].as_array().unwrap().len(),
            again["unchanged"].as_u64()
        ),
        (0, Some(300))
    );
    assert_eq!(again["commit"], Value::Null);
    assert_eq!(env.commit_count(&root), 2, "re-importing makes no commit");

    // A historic opening time is kept as the creation time; the time zone is the book's.
    let list = env.run(&root, &["list", "--json"]).json();
    let first = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["customer"]["name"] == "Frances Knuth")
        .unwrap()
        .clone();
    assert_eq!(
        first["created_at"], "2026-11-09T16:27:00Z",
        "2026-11-09 17:27 in Berlin"
    );
    assert_eq!(first["incident_at"], "2026-11-09T14:55:00Z");
    let case = env
        .run(&root, &["show", first["id"].as_str().unwrap(), "--json"])
        .json();
    assert_eq!(case["events"][0]["external_id"], "HD-10000");
}

#[test]
fn a_changed_row_updates_its_case_with_old_and_new_values() {
    let env = Env::new();
    let root = env.casebook("book");
    let row = "HD-1,Ada Lovelace,ada@example.com,,Printer jams,LaserJet 9,normal,email,,Jams.,2026-11-01 10:00\n";
    import_text(
        &env,
        &root,
        "a.csv",
        format!("{HEADER}{row}").as_bytes(),
        &[],
    )
    .ok();
    let changed = "HD-1,Ada Lovelace,ada@new.example.com,,Printer jams,LaserJet 10,high,email,,Jams.,2026-11-01 10:00\n";
    let report = import_text(
        &env,
        &root,
        "a.csv",
        format!("{HEADER}{changed}").as_bytes(),
        &["--json"],
    )
    .json();
    assert_eq!(
        report["updated"][0]["fields"],
        serde_json::json!(["product", "priority", "customer"])
    );
    let id = report["updated"][0]["id"].as_str().unwrap().to_string();
    let v = env.run(&root, &["show", &id, "--json"]).json();
    assert_eq!(
        (v["product"].as_str(), v["priority"].as_str()),
        (Some("LaserJet 10"), Some("high"))
    );
    assert_eq!(v["customer"]["email"], "ada@new.example.com");
    let event = v["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(event["action"], "import");
    assert_eq!(
        event["change"][0],
        serde_json::json!({"field": "product", "old": "LaserJet 9", "new": "LaserJet 10"})
    );
    assert_eq!(event["customer"]["was"]["email"], "ada@example.com");
    assert_eq!(env.commit_count(&root), 3);
}

#[test]
fn dry_run_writes_nothing() {
    let env = Env::new();
    let root = env.casebook("book");
    let before = env.commit_count(&root);
    let out = env.run(&root, &["import", SAMPLE, "--dry-run"]).ok();
    assert!(
        out.stderr
            .contains("dry run of cases.csv: would create 300, would update 0"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout, "", "rows only with --verbose");
    let out = env
        .run(&root, &["import", SAMPLE, "--dry-run", "--verbose"])
        .ok();
    assert!(
        out.stdout.lines().count() == 300 && out.stdout.starts_with("would create CB-"),
        "{}",
        &out.stdout[..200]
    );
    assert_eq!(env.commit_count(&root), before);
    assert_eq!(
        env.run(&root, &["list", "--json"]).json(),
        serde_json::json!([])
    );
}

#[test]
fn an_import_prints_a_summary_rows_with_verbose_and_nothing_with_quiet() {
    let env = Env::new();
    let root = env.casebook("book");
    let text = format!("{HEADER}HD-1,Ada,ada@example.com,,Printer jam,,,,,,\nHD-2,Bob,bob@example.com,,Toner,,,,,,\n");
    let out = import_text(&env, &root, "two.csv", text.as_bytes(), &[]).ok();
    assert_eq!(out.stdout, "");
    let summary: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(summary.len(), 1, "{}", out.stderr);
    assert!(
        summary[0].starts_with(
            "imported two.csv: created 2, updated 0, unchanged 0, rejected 0 (commit "
        ),
        "{}",
        summary[0]
    );
    let changed = format!("{HEADER}HD-1,Ada,ada@example.com,,Printer jam again,,,,,,\nHD-2,Bob,bob@example.com,,Toner,,,,,,\n");
    let out = import_text(&env, &root, "two.csv", changed.as_bytes(), &["-v"]).ok();
    let rows: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(rows.len(), 1, "{}", out.stdout);
    assert!(
        rows[0].starts_with("updated CB-") && rows[0].ends_with(" HD-1 (subject)"),
        "{}",
        rows[0]
    );
    assert!(
        out.stderr.contains("updated 1, unchanged 1"),
        "{}",
        out.stderr
    );
    let out = import_text(&env, &root, "two.csv", changed.as_bytes(), &["--quiet"]).ok();
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", ""));
    let usage = import_text(&env, &root, "two.csv", changed.as_bytes(), &["-q", "-v"]).fails(2);
    assert!(usage.contains("cannot be used with"), "{usage}");
}

#[test]
fn rows_with_quoted_fields_over_several_lines_are_named_by_the_line_they_start_on() {
    let env = Env::new();
    let root = env.casebook("book");
    let text = "external_id,customer,email,subject,description\n\
A-1,Ada,ada@example.com,Hi,\"two\nlines\"\n\
A-2,Bob,bob-at,Bad,x\n\
A-3,Cy,cy@example.com,\"a subject\non three\nlines\",y\n\
A-4,Di,di-at,Bad too,z\n";
    let err = refused(
        &env,
        &root,
        import_text(&env, &root, "multi.csv", text.as_bytes(), &[]),
    );
    assert!(err.contains("line 4: email: \"bob-at\""), "{err}");
    assert!(err.contains("line 8: email: \"di-at\""), "{err}");
    let ragged = "external_id,customer,email,subject,description\n\
A-1,Ada,ada@example.com,Hi,\"two\nlines\"\n\
A-2,Bob,bob@example.com\n";
    let err = refused(
        &env,
        &root,
        import_text(&env, &root, "ragged.csv", ragged.as_bytes(), &[]),
    );
    assert!(
        err.contains("line 4: 3 fields, but the header has 5"),
        "{err}"
    );
}

#[test]
fn bad_rows_refuse_the_file_unless_told_to_continue() {
    let env = Env::new();
    let root = env.casebook("book");
    let text = format!(
        "{HEADER}\
HD-1,Ada,ada@example.com,,Good,,,,,,\n\
HD-2,Bob,bob-at-example,,Bad email,,,,,,\n\
HD-3,Cy,cy@example.com,,Good too,,,,,,\n\
HD-1,Dup,dup@example.com,,Duplicate id,,,,,,\n\
HD-5,Eve,eve@example.com,,Bad dates,,asap,,yesterday,,2031-01-01 10:00\n"
    );
    let err = refused(
        &env,
        &root,
        import_text(&env, &root, "rows.csv", text.as_bytes(), &[]),
    );
    for expected in [
        "rows.csv: 5 bad row(s), nothing imported",
        "line 3: email: \"bob-at-example\" is not an e-mail address",
        "line 5: external_id: \"HD-1\" appears again (first on line 2)",
        "line 6: priority: \"asap\"",
        "line 6: incident_at: \"yesterday\" is relative to now, which is not known here",
        "line 6: opened_at: \"2031-01-01 10:00\" is in the future",
        "hint: fix the rows, or import the good ones with --continue-on-error",
    ] {
        assert!(err.contains(expected), "{expected} missing from:\n{err}");
    }
    // The good rows go in, and the exit code still says that some did not.
    let run = import_text(
        &env,
        &root,
        "rows.csv",
        text.as_bytes(),
        &["--continue-on-error", "--json"],
    );
    let report: Value = serde_json::from_str(&run.stdout()).unwrap();
    let err = run.fails(1);
    assert!(
        err.contains("rows.csv: 3 row(s) rejected and not imported; the other rows were"),
        "{err}"
    );
    let human = import_text(
        &env,
        &root,
        "rows.csv",
        text.as_bytes(),
        &["--continue-on-error"],
    )
    .fails(1);
    assert!(
        human.contains("imported rows.csv: created 0, updated 0, unchanged 2, rejected 3"),
        "{human}"
    );
    let created: Vec<&str> = report["created"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["external_id"].as_str().unwrap())
        .collect();
    assert_eq!(created, ["HD-1", "HD-3"]);
    assert_eq!(report["rejected"].as_array().unwrap().len(), 5);
    assert_eq!(
        report["rejected"][0],
        serde_json::json!({"line": 3, "field": "email", "message": "\"bob-at-example\" is not an e-mail address (expected name@example.com)"})
    );
}

#[test]
fn bad_json_lines_are_bad_rows_that_continue_on_error_reports_and_passes_over() {
    let env = Env::new();
    let root = env.casebook("book");
    let row = |id: &str, email: &str, extra: &str| {
        format!("{{\"external_id\": \"{id}\", \"customer\": \"Ada\", \"email\": \"{email}\", \"subject\": \"Hi\"{extra}}}\n")
    };
    let text = [
        row("HD-1", "ada@example.com", ""),
        row("HD-2", "ada@example.com", ", \"description\": {\"a\": 1}"),
        row("HD-3", "ada-at-example", ""),
        "not json\n".to_string(),
        row("HD-5", "ada@example.com", ""),
    ]
    .concat();
    let expected = [
        "line 2: description: expected text, found {\"a\":1}",
        "line 3: email: \"ada-at-example\" is not an e-mail address",
        "line 4: not a JSON object",
    ];
    // By default the whole file is refused, with every bad line listed.
    let err = refused(
        &env,
        &root,
        import_text(&env, &root, "rows.jsonl", text.as_bytes(), &[]),
    );
    assert!(
        err.contains("rows.jsonl: 3 bad row(s), nothing imported"),
        "{err}"
    );
    for e in expected {
        assert!(err.contains(e), "{e} missing from:\n{err}");
    }
    // With --continue-on-error the good lines go in, and the exit code says some did not,
    // as for CSV.
    let run = import_text(
        &env,
        &root,
        "rows.jsonl",
        text.as_bytes(),
        &["--continue-on-error"],
    );
    let err = run.fails(1);
    for e in expected {
        assert!(
            err.contains(&format!("rejected: {e}")),
            "{e} missing from:\n{err}"
        );
    }
    assert!(
        err.contains("imported rows.jsonl: created 2, updated 0, unchanged 0, rejected 3"),
        "{err}"
    );
    assert!(
        err.contains("rows.jsonl: 3 row(s) rejected and not imported"),
        "{err}"
    );
    assert_eq!(env.commit_count(&root), 2);
    let mut ids: Vec<String> = env
        .run(&root, &["export", "--format", "jsonl"])
        .ok()
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["external_id"].to_string())
        .collect();
    ids.sort();
    assert_eq!(ids, ["\"HD-1\"", "\"HD-5\""]);
    // A line that is no row at all has no field in the JSON report.
    let report = import_text(
        &env,
        &root,
        "rows.jsonl",
        text.as_bytes(),
        &["--continue-on-error", "--json"],
    );
    let report: Value = serde_json::from_str(&report.stdout()).unwrap();
    assert_eq!(report["rejected"][2]["line"], 4);
    assert_eq!(report["rejected"][2]["field"], Value::Null);
    // A file of nothing but such lines is all bad rows, not a file without columns.
    let err = import_text(
        &env,
        &root,
        "junk.jsonl",
        b"not json\n[1]\n",
        &["--continue-on-error"],
    )
    .fails(1);
    assert!(err.contains("rejected: line 2: not a JSON object"), "{err}");
    assert!(!err.contains("missing column"), "{err}");
}

#[test]
fn bad_files_are_refused_with_a_clear_error_and_nothing_written() {
    let env = Env::new();
    let root = env.casebook("book");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.csv", b"".to_vec(), "the file is empty"),
        ("noheader.csv", b"HD-1,Ada,ada@example.com,,Hi,,,,,,\n".to_vec(), "line 1 is not a header row"),
        ("missing.csv", b"external_id,customer,subject\nHD-1,Ada,Hi\n".to_vec(), "missing column(s): email or phone"),
        ("unknown.csv", b"external_id,customer,email,subject,Ticket Owner
HD-1,Ada,a@b.co,Hi,Sam
".to_vec(), "unknown column \"Ticket Owner\""),
        ("latin1.csv", [HEADER.as_bytes(), b"HD-1,Ren\xe9,rene@example.com,,Caf\xe9,,,,,,\n"].concat(), "line 2: not UTF-8 text"),
        ("ragged.csv", format!("{HEADER}HD-1,Ada,ada@example.com\n").into_bytes(), "line 2: 3 fields, but the header has 11"),
        ("bad.jsonl", b"{\"external_id\": \"HD-1\", \"customer\": \"Ada\", \"email\": \"a@b.co\", \"subject\": \"Hi\"}\n[1, 2]\n".to_vec(), "line 2: not a JSON object"),
    ];
    for (name, bytes, expected) in cases {
        let err = refused(&env, &root, import_text(&env, &root, name, &bytes, &[]));
        assert!(err.contains(expected), "{name}: {err}");
    }
    let err = refused(&env, &root, env.run(&root, &["import", "no-such-file.csv"]));
    assert!(err.contains("no-such-file.csv"), "{err}");
}

#[test]
fn a_gigabyte_line_is_refused_without_reading_it_all() {
    let env = Env::new();
    let root = env.casebook("book");
    let mut child = env
        .cb(&root)
        .args(["import", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        stdin.write_all(HEADER.as_bytes()).unwrap();
        let chunk = vec![b'x'; 1 << 20];
        let mut sent = 0usize;
        // Up to 1 GiB with no newline; casebook stops reading long before.
        while sent < 1 << 30 {
            if stdin.write_all(&chunk).is_err() {
                return sent;
            }
            sent += chunk.len();
        }
        sent
    });
    let out = child.wait_with_output().unwrap();
    let sent = writer.join().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2 is longer than 1048576 bytes"), "{err}");
    assert!(sent < 64 << 20, "stopped reading early ({sent} bytes sent)");
    assert_eq!(env.commit_count(&root), 1);
}

#[test]
fn columns_can_be_mapped_in_the_config_and_jsonl_works_too() {
    let env = Env::new();
    let root = env.casebook("book");
    let path = root.join(".casebook/config.toml");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "# \"Ticket #\" = \"external_id\"\n# \"Internal notes\" = \"ignore\"",
        "\"Ticket #\" = \"external_id\"\n\"Internal notes\" = \"ignore\"",
    );
    std::fs::write(&path, text).unwrap();
    env.git(&root, &["commit", "-qam", "map columns"]);
    let csv = "Ticket #,Customer,EMAIL,Subject,Internal notes\nT-1,Ada,ada@example.com,Hi,vip\n";
    let r = import_text(&env, &root, "mapped.csv", csv.as_bytes(), &["--json"]).json();
    assert_eq!(r["created"][0]["external_id"], "T-1");
    let jsonl = "{\"external_id\": 42, \"customer\": \"Bob\", \"phone\": \"030 1234567\", \"subject\": \"Call me\", \"priority\": \"HIGH\"}\n\n";
    let r = import_text(&env, &root, "rows.jsonl", jsonl.as_bytes(), &["--json"]).json();
    assert_eq!(r["created"][0]["external_id"], "42");
    let id = r["created"][0]["id"].as_str().unwrap();
    assert_eq!(
        env.run(&root, &["show", id, "--json"]).json()["priority"],
        "high"
    );
}

#[test]
fn export_then_import_round_trips_the_intake() {
    let env = Env::new();
    let a = env.casebook("a");
    let id = env
        .run(
            &a,
            &[
                "open",
                "--customer",
                "Zoë \"Z\" Ünal",
                "--email",
                "zoe@example.com",
                "--phone",
                "+49 30 111111",
                "--subject",
                "Comma, quote \" and\nnewline",
                "--product",
                "Router X2",
                "--priority",
                "urgent",
                "--channel",
                "chat",
                "--incident-at",
                "2026-11-20 14:00",
                "--description",
                "Line 1\nLine 2",
            ],
        )
        .ok()
        .stdout
        .trim()
        .to_string();
    env.run(&a, &["ack", &id]).ok();
    env.run(&a, &["import", SAMPLE]).ok();
    let csv = env.run(&a, &["export"]).ok().stdout;
    let b = env.casebook("b");
    let report = import_text(&env, &b, "export.csv", csv.as_bytes(), &["--json"]).json();
    assert_eq!(report["created"].as_array().unwrap().len(), 301, "{report}");

    let intake = |root: &Path| -> Vec<Value> {
        let out = env.run(root, &["export", "--format", "jsonl"]).ok().stdout;
        let mut rows: Vec<Value> = out
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                let keep = [
                    "external_id",
                    "customer",
                    "email",
                    "phone",
                    "subject",
                    "product",
                    "priority",
                    "channel",
                    "incident_at",
                    "description",
                    "opened_at",
                ];
                Value::Object(
                    keep.iter()
                        .map(|k| (k.to_string(), v[*k].clone()))
                        .collect(),
                )
            })
            .collect();
        rows.sort_by_key(|r| r["external_id"].as_str().unwrap().to_string());
        rows
    };
    let (from, to) = (intake(&a), intake(&b));
    assert_eq!(from.len(), 301);
    assert_eq!(from, to, "the intake fields survive export and import");
    let zoe = to.iter().find(|r| r["external_id"] == id.as_str()).unwrap();
    assert_eq!(zoe["subject"], "Comma, quote \" and\nnewline");
}

#[test]
fn export_filters_and_redacts_with_stable_pseudonyms() {
    let env = Env::new();
    let root = env.casebook("book");
    env.run(&root, &["import", SAMPLE]).ok();
    let id = env.open(&root, "Ada Lovelace", "Acknowledged one");
    env.run(&root, &["ack", &id]).ok();
    let open = env
        .run(&root, &["export", "--status", "open", "--format", "jsonl"])
        .ok()
        .stdout;
    assert_eq!(open.lines().count(), 1);
    let first = env.run(&root, &["export", "--redact"]).ok().stdout;
    let second = env.run(&root, &["export", "--redact"]).ok().stdout;
    assert_eq!(first, second, "pseudonyms are stable");
    for personal in [
        "Ada Lovelace",
        "ada.lovelace@example.com",
        "Frances Knuth",
        "+49 30 4930582",
        "hedy.hopper@example.com",
    ] {
        assert!(!first.contains(personal), "{personal} leaked");
    }
    assert!(first.contains("@redacted.invalid") && first.contains("Customer "));
    assert!(
        first.contains("Printer jams on every second page"),
        "the rest is kept"
    );
    // The same customer gets the same pseudonym on every row.
    let rows: Vec<Vec<String>> = csv::Reader::from_reader(first.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    let plain: Vec<Vec<String>> =
        csv::Reader::from_reader(env.run(&root, &["export"]).ok().stdout.as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect();
    for (r, p) in rows.iter().zip(&plain) {
        for (s, q) in rows.iter().zip(&plain) {
            assert_eq!(
                r[2] == s[2],
                p[2] == q[2],
                "e-mail pseudonyms map one to one"
            );
        }
    }
}

#[test]
fn redacted_export_keeps_erased_customers_apart() {
    // An erased value reads "[erased]" for every customer; a pseudonym of that marker
    // would give unrelated people one identity.
    let env = Env::new();
    let root = env.casebook("book");
    let ada = env.open(&root, "Ada Lovelace", "First");
    let bob = env.open(&root, "Bob Babbage", "Second");
    let kept = env.open(&root, "Cleo Kept", "Third");
    for email in ["ada.lovelace@example.com", "bob.babbage@example.com"] {
        env.run(&root, &["erase", "--customer", email, "--reason", "asked"])
            .ok();
    }
    let rows = |extra: &[&str]| -> Vec<Value> {
        let mut args = vec!["export", "--format", "jsonl"];
        args.extend_from_slice(extra);
        env.run(&root, &args)
            .ok()
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let (redacted, plain) = (rows(&["--redact"]), rows(&[]));
    let row = |rows: &[Value], id: &str| rows.iter().find(|r| r["id"] == id).unwrap().clone();
    for id in [&ada, &bob] {
        let (r, p) = (row(&redacted, id), row(&plain, id));
        for field in ["customer", "email"] {
            assert_eq!(r[field], "[erased]", "{id} {field}: {r}");
            assert_eq!(
                r[field], p[field],
                "as the export without --redact shows it"
            );
        }
    }
    let cleo = row(&redacted, &kept);
    assert!(cleo["customer"].as_str().unwrap().starts_with("Customer "));
    assert!(cleo["email"]
        .as_str()
        .unwrap()
        .ends_with("@redacted.invalid"));
}
