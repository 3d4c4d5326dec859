//! The SOP lifecycle through the real binary: every step one commit, state rules, bad input.

use std::path::Path;

use serde_json::Value;

use crate::common::{case_path, Env, ACTOR};

fn show(env: &Env, root: &Path, id: &str) -> Value {
    env.run(root, &["show", id, "--json"]).json()
}

/// Runs a recording command and checks it made exactly one commit with the right trailers.
fn step(env: &Env, root: &Path, id: &str, args: &[&str], action: &str) -> String {
    let before = env.commit_count(root);
    let out = env.run(root, args).ok();
    assert_eq!(env.commit_count(root), before + 1, "{args:?}: one commit");
    let msg = env.git(root, &["log", "-1", "--format=%an <%ae>%n%s%n%n%b"]);
    assert!(
        msg.starts_with(&format!("{ACTOR}\n{id}: {action}")),
        "{args:?}: {msg}"
    );
    assert!(
        msg.contains(&format!(
            "Case-Id: {id}\nAction: {action}\nActor: {ACTOR}\n"
        )),
        "{msg}"
    );
    assert_eq!(
        env.status_porcelain(root),
        "",
        "{args:?} leaves git status clean"
    );
    out.stdout
}

#[test]
fn a_case_goes_through_every_sop_step_one_commit_each() {
    let env = Env::new();
    let root = env.casebook("book");
    let id = env.open(&root, "Ada Lovelace", "Printer jams on page 2");
    let other = env.open(&root, "Bob", "Same printer jams");
    let shot = env.path("screen shot.png");
    std::fs::write(&shot, b"\x89PNG fake image").unwrap();

    let ack = step(&env, &root, &id, &["ack", &id], "acknowledge");
    assert!(
        ack.starts_with("Dear Ada Lovelace,"),
        "the rendered template is printed: {ack}"
    );
    assert!(ack.contains(&format!("Your case number is {id}.")), "{ack}");
    step(
        &env,
        &root,
        &id,
        &[
            "gather",
            &id,
            "--product",
            "LaserJet 9",
            "--question",
            "Which tray?",
            "--answer",
            "Tray 2",
            "--attach",
            shot.to_str().unwrap(),
            "--phone",
            "+49 30 999999",
            "--incident-at",
            "2026-11-20 14:00",
        ],
        "gather",
    );
    step(
        &env,
        &root,
        &id,
        &[
            "research",
            &id,
            "--finding",
            "Roller worn",
            "--root-cause",
            "Worn pickup roller",
            "--scope",
            "systemic",
            "--link",
            &other[3..],
        ],
        "research",
    );
    let update = step(
        &env,
        &root,
        &id,
        &["update", &id, "--eta", "2026-11-25 14:00"],
        "update",
    );
    assert!(
        update.contains("resolution by Wednesday, 25 November 2026, 14:00 CET"),
        "{update}"
    );
    step(
        &env,
        &root,
        &id,
        &["pending", &id, "--reason", "Waiting for the serial number"],
        "pending",
    );
    assert_eq!(show(&env, &root, &id)["status"], "pending");
    step(
        &env,
        &root,
        &id,
        &[
            "log",
            &id,
            "--summary",
            "Sent serial",
            "--direction",
            "inbound",
            "--with",
            "Ada Lovelace",
            "--channel",
            "phone",
        ],
        "log",
    );
    assert_eq!(
        show(&env, &root, &id)["status"],
        "open",
        "inbound contact reopens a pending case"
    );
    step(
        &env,
        &root,
        &id,
        &[
            "escalate",
            &id,
            "--reason",
            "Needs a part",
            "--to",
            "Sam Supervisor",
        ],
        "escalate",
    );
    assert_eq!(show(&env, &root, &id)["escalation_level"], 1);
    step(
        &env,
        &root,
        &id,
        &["deescalate", &id, "--reason", "Part ordered"],
        "deescalate",
    );
    step(
        &env,
        &root,
        &id,
        &["resolve", &id, "--resolution", "Replaced the roller"],
        "resolve",
    );
    step(
        &env,
        &root,
        &id,
        &[
            "follow-up",
            &id,
            "--not-satisfied",
            "--rating",
            "2",
            "--feedback",
            "Still jams",
            "--message",
            "How is it?",
        ],
        "follow-up",
    );
    let v = show(&env, &root, &id);
    assert_eq!(
        (v["status"].as_str(), v["reopen_count"].as_u64()),
        (Some("open"), Some(1))
    );
    assert_eq!(
        v["resolution"],
        Value::Null,
        "the failed resolution is void"
    );
    assert_eq!(v["satisfaction"], Value::Null, "and so is its survey");
    step(
        &env,
        &root,
        &id,
        &["resolve", &id, "--resolution", "Replaced the printer"],
        "resolve",
    );
    let follow = step(
        &env,
        &root,
        &id,
        &[
            "follow-up",
            &id,
            "--satisfied",
            "--rating",
            "5",
            "--feedback",
            "Great service",
        ],
        "follow-up",
    );
    // The customer answered and rated: no message asks them for a rating.
    assert!(!follow.contains("rate our service"), "{follow}");
    assert!(follow.trim().is_empty(), "nothing to send: {follow}");

    let v = show(&env, &root, &id);
    assert_eq!(v["status"], "closed");
    assert_eq!(v["escalation_level"], 0);
    assert_eq!(v["eta"], "2026-11-25T13:00:00Z");
    assert_eq!(v["root_cause"], "Worn pickup roller");
    assert_eq!(v["scope"], "systemic");
    assert_eq!(v["resolution"], "Replaced the printer");
    assert_eq!(
        v["satisfaction"],
        serde_json::json!({"satisfied": true, "rating": 5, "feedback": "Great service"})
    );
    assert_eq!(v["reopen_count"], 1);
    assert_eq!(v["links"], serde_json::json!([other]));
    assert_eq!(v["product"], "LaserJet 9");
    assert_eq!(v["incident_at"], "2026-11-20T13:00:00Z");
    assert_eq!(v["customer"]["phone"], "+49 30 999999");
    let att = &v["attachments"][0];
    assert_eq!(att["name"], "screen_shot.png");
    assert_eq!(att["size"], 15);
    // Content-addressed: the folder is the start of the id of the blob stored, which in
    // a sealed book is the sealed content, under a path without the file's name.
    let blob = att["blob"].as_str().unwrap();
    let stored = format!("attachments/{id}/{}/sealed", &blob[..12]);
    assert_eq!(att["path"], stored.as_str());
    let on_disk = std::fs::read(root.join(&stored)).unwrap();
    assert!(on_disk.starts_with(b"sealed:v1:K"));
    assert!(!String::from_utf8_lossy(&on_disk).contains("PNG"));
    let hashed = env.git(&root, &["hash-object", &stored]);
    assert_eq!(hashed.trim(), blob);
    // casebook opens it.
    let out = env
        .cb(&root)
        .args(["attachment", &id, "screen_shot.png"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, b"\x89PNG fake image");
    let actions: Vec<&str> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "open",
            "acknowledge",
            "gather",
            "research",
            "update",
            "pending",
            "log",
            "escalate",
            "deescalate",
            "resolve",
            "follow-up",
            "resolve",
            "follow-up"
        ]
    );
    let gather = &v["events"][2];
    assert_eq!(gather["question"], "Which tray?");
    assert_eq!(gather["answer"], "Tray 2");
    assert_eq!(
        gather["change"][0],
        serde_json::json!({"field": "product", "new": "LaserJet 9"})
    );
    assert_eq!(v["events"][1]["template"], "acknowledge");

    let o = show(&env, &root, &other);
    assert_eq!(
        o["links"],
        serde_json::json!([id]),
        "the link shows on both cases"
    );
    let research_commit = env.git(&root, &["log", "--format=%H", "--grep", "Action: research"]);
    let touched = env.git(
        &root,
        &["show", "--name-only", "--format=", research_commit.trim()],
    );
    assert_eq!(
        touched.lines().count(),
        2,
        "both cases change in the one research commit: {touched}"
    );

    let everything = env.git(&root, &["log", "--format=%B"]);
    for personal in ["Ada", "ada@example.com", "999999", "Bob"] {
        assert!(
            !everything.contains(personal),
            "commit messages must carry no personal data ({personal}):\n{everything}"
        );
    }
    let linked = env.run(&root, &["history", &other, "--json"]).json();
    assert_eq!(linked[0]["action"], "link", "{linked}");
    assert_eq!(linked[0]["event_id"], Value::Null);
    let found = env.git(
        &root,
        &["log", "--format=%s", "--grep", &format!("Case-Id: {other}")],
    );
    assert!(
        found
            .lines()
            .any(|l| l.starts_with(&format!("{id}: research"))),
        "{found}"
    );

    let history = env.run(&root, &["history", &id, "--json"]).json();
    assert_eq!(
        history.as_array().unwrap().len(),
        actions.len(),
        "one commit per event of this case, none of the other case"
    );
    let text = env.run(&root, &["show", &id]).ok().stdout;
    for expected in [
        "satisfied, rated 5/5",
        "root cause",
        "Worn pickup roller",
        "screen_shot.png",
        "reopened",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
}

/// What the SOP allows in each status, written out independently of the code's table.
const EXPECTED: &[(&str, &[&str])] = &[
    (
        "new",
        &[
            "acknowledge",
            "gather",
            "research",
            "log",
            "escalate",
            "close",
        ],
    ),
    (
        "open",
        &[
            "gather", "research", "update", "pending", "log", "escalate", "resolve", "close",
        ],
    ),
    (
        "pending",
        &[
            "gather", "research", "update", "log", "escalate", "resolve", "close",
        ],
    ),
    ("resolved", &["log", "follow-up", "close", "reopen"]),
    ("closed", &["log"]),
];

/// A command with valid arguments for `action`.
fn command(action: &str, id: &str) -> Vec<String> {
    let args: Vec<&str> = match action {
        "acknowledge" => vec!["ack", id, "--message", "Thanks"],
        "gather" => vec!["gather", id, "--note", "noted"],
        "research" => vec!["research", id, "--finding", "found"],
        "update" => vec!["update", id, "--message", "Working on it"],
        "pending" => vec!["pending", id, "--reason", "waiting"],
        "log" => vec!["log", id, "--summary", "called"],
        "escalate" => vec!["escalate", id, "--reason", "stuck"],
        "resolve" => vec!["resolve", id, "--resolution", "fixed"],
        "follow-up" => vec!["follow-up", id, "--no-answer", "--message", "Hello?"],
        "close" => vec!["close", id, "--reason", "duplicate"],
        "reopen" => vec!["reopen", id, "--reason", "came back"],
        other => panic!("{other}"),
    };
    args.into_iter().map(String::from).collect()
}

fn case_in(env: &Env, root: &Path, status: &str) -> String {
    let id = env.open(root, "Ada", status);
    let steps: &[&[&str]] = match status {
        "new" => &[],
        "open" => &[&["ack"]],
        "pending" => &[&["ack"], &["pending", "--reason", "w"]],
        "resolved" => &[&["ack"], &["resolve", "--resolution", "r"]],
        "closed" => &[
            &["ack"],
            &["resolve", "--resolution", "r"],
            &["follow-up", "--satisfied"],
        ],
        _ => unreachable!(),
    };
    for s in steps {
        let mut args = vec![s[0], id.as_str()];
        args.extend_from_slice(&s[1..]);
        env.run(root, &args).ok();
    }
    assert_eq!(show(env, root, &id)["status"], status);
    id
}

#[test]
fn the_state_rules_allow_what_the_sop_allows_and_refuse_the_rest() {
    let env = Env::new();
    let root = env.casebook("book");
    let all = [
        "acknowledge",
        "gather",
        "research",
        "update",
        "pending",
        "log",
        "escalate",
        "resolve",
        "follow-up",
        "close",
        "reopen",
    ];
    for (status, allowed) in EXPECTED {
        let refused_on = case_in(&env, &root, status);
        for action in all {
            if allowed.contains(&action) {
                let fresh = case_in(&env, &root, status);
                let args = command(action, &fresh);
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                env.run(&root, &args).ok();
            } else {
                let before = env.commit_count(&root);
                let args = command(action, &refused_on);
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let err = env.run(&root, &args).fails(1);
                assert!(
                    err.contains(&format!(
                        "`{action}` is not allowed on case {refused_on}: it is {status}"
                    )),
                    "{err}"
                );
                assert!(err.contains("allowed now: "), "{err}");
                assert_eq!(
                    env.commit_count(&root),
                    before,
                    "{action} on {status} committed"
                );
            }
        }
    }
    assert_eq!(env.status_porcelain(&root), "");
}

#[test]
fn bad_input_to_each_command_is_refused_and_writes_nothing() {
    let env = Env::new();
    let root = env.casebook("book");
    let path = root.join(".casebook/config.toml");
    let config = std::fs::read_to_string(&path)
        .unwrap()
        .replace("max_bytes = 10485760", "max_bytes = 100")
        .replace("max_count = 20", "max_count = 2");
    std::fs::write(&path, config).unwrap();
    env.git(&root, &["commit", "-qam", "small attachment limits"]);
    let id = case_in(&env, &root, "open");
    let big = env.path("big.bin");
    std::fs::write(&big, vec![7u8; 101]).unwrap();
    let small = env.path("small.txt");
    std::fs::write(&small, b"ok").unwrap();
    let (big, small) = (
        big.to_str().unwrap().to_string(),
        small.to_str().unwrap().to_string(),
    );
    let missing = env.path("missing.png").to_str().unwrap().to_string();

    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["ack", "ZZZZZZZZ"], "no case matches \"ZZZZZZZZ\""),
        (
            vec!["update", &id, "--eta", "tomorrow-ish", "--message", "x"],
            "--eta: cannot use \"tomorrow-ish\" as a time\n  caused by: \"tomorrow-ish\" is not a time casebook reads",
        ),
        (
            vec!["update", &id, "--eta", "2020-01-01 10:00", "--message", "x"],
            "is not in the future",
        ),
        (vec!["update", &id], "--eta: this case has no ETA"),
        (vec!["gather", &id, "--attach", &missing], "missing.png"),
        (
            vec!["gather", &id, "--attach", &big],
            "is 101 bytes; the limit is 100",
        ),
        (
            vec![
                "gather", &id, "--attach", &small, "--attach", &small, "--attach", &small,
            ],
            "the limit is 2",
        ),
        (vec!["gather", &id, "--email", "not-an-email"], "--email"),
        (vec!["gather", &id], "nothing to record"),
        (
            vec!["research", &id, "--link", "ZZZZZZZZ"],
            "--link: no case matches",
        ),
        (
            vec!["research", &id, "--link", &id],
            "cannot link to itself",
        ),
        (vec!["deescalate", &id, "--reason", "x"], "is not escalated"),
        (
            vec!["pending", &id, "--reason", "  "],
            "--reason: must not be empty",
        ),
        (
            vec!["log", &id, "--summary", "x", "--at", "2030-01-01 10:00"],
            "--at: \"2030-01-01 10:00\" is in the future",
        ),
        (
            vec!["log", &id, "--summary", "x", "--at", "whenever"],
            "--at: cannot use \"whenever\" as a time",
        ),
        (vec!["close", &id], "say why it is closed"),
    ];
    for (args, expected) in cases {
        let before = env.commit_count(&root);
        let err = env.run(&root, &args).fails(1);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert_eq!(env.commit_count(&root), before, "{args:?} committed");
        assert_eq!(env.status_porcelain(&root), "", "{args:?} touched files");
    }
    assert!(!root.join("attachments").exists());

    // Escalating past the top of the chain.
    env.run(&root, &["escalate", &id, "--reason", "1"]).ok();
    env.run(&root, &["escalate", &id, "--reason", "2"]).ok();
    let err = env.run(&root, &["escalate", &id, "--reason", "3"]).fails(1);
    assert!(
        err.contains("already at the top of the escalation chain (level 2: manager)"),
        "{err}"
    );

    // Ratings outside 1–5, and ratings without an answer.
    let resolved = case_in(&env, &root, "resolved");
    let before = env.commit_count(&root);
    let err = env
        .run(
            &root,
            &["follow-up", &resolved, "--satisfied", "--rating", "7"],
        )
        .fails(1);
    assert!(err.contains("--rating: 7 is not a rating"), "{err}");
    let err = env
        .run(
            &root,
            &["follow-up", &resolved, "--no-answer", "--rating", "3"],
        )
        .fails(1);
    assert!(err.contains("needs an answer"), "{err}");
    env.run(&root, &["follow-up", &resolved]).fails(2);
    env.run(
        &root,
        &["follow-up", &resolved, "--satisfied", "--no-answer"],
    )
    .fails(2);
    assert_eq!(env.commit_count(&root), before);
}

#[test]
fn templates_use_fallbacks_overrides_and_refuse_blanks() {
    let env = Env::new();
    let root = env.casebook("book");
    let id = case_in(&env, &root, "open");

    // Preview records nothing.
    let before = env.commit_count(&root);
    let preview = env
        .run(
            &root,
            &["template", "update", &id, "--eta", "2026-11-30 09:00"],
        )
        .ok()
        .stdout;
    assert!(
        preview.contains("resolution by Monday, 30 November 2026, 09:00 CET"),
        "{preview}"
    );
    let err = env.run(&root, &["template", "update", &id]).fails(1);
    // The agent is told what to give, not how to write templates.
    assert!(
        err.contains("--eta: this case has no ETA, and the update message promises one"),
        "{err}"
    );
    assert!(!err.contains("fallback"), "{err}");
    assert_eq!(env.commit_count(&root), before);

    // An override in the config with a fallback.
    let path = root.join(".casebook/config.toml");
    let mut config = std::fs::read_to_string(&path).unwrap();
    config.push_str("update = \"Hi {{customer.name}}, we expect a fix by {{eta|the end of the week}}. -- {{agent.name}}\"\n");
    std::fs::write(&path, config).unwrap();
    env.git(&root, &["commit", "-qam", "friendlier update"]);
    let out = env.run(&root, &["update", &id]).ok().stdout;
    assert_eq!(
        out,
        "Hi Ada, we expect a fix by the end of the week. -- Dana Agent\n"
    );
    assert_eq!(
        show(&env, &root, &id)["events"][2]["message"],
        out.trim_end()
    );

    // A file in .casebook/templates/ wins over the config.
    std::fs::create_dir_all(root.join(".casebook/templates")).unwrap();
    std::fs::write(
        root.join(".casebook/templates/update.txt"),
        "Update for {{case.id}}: {{eta|soon}}\n",
    )
    .unwrap();
    env.git(&root, &["add", "."]);
    env.git(&root, &["commit", "-qm", "template file"]);
    let out = env.run(&root, &["template", "update", &id]).ok().stdout;
    assert_eq!(out, format!("Update for {id}: soon\n"));

    // An unknown placeholder is an error naming it, before anything is recorded.
    std::fs::write(
        root.join(".casebook/templates/update.txt"),
        "Hi {{customer.nickname}}\n",
    )
    .unwrap();
    env.git(&root, &["commit", "-qam", "typo"]);
    let before = env.commit_count(&root);
    let err = env.run(&root, &["update", &id]).fails(1);
    assert!(
        err.contains("unknown placeholder {{customer.nickname}}"),
        "{err}"
    );
    assert_eq!(env.commit_count(&root), before);

    // In the config, an unknown placeholder or template name is a config error.
    let config = std::fs::read_to_string(&path)
        .unwrap()
        .replace("{{eta|the end of the week}}", "{{etaa}}");
    std::fs::write(&path, config).unwrap();
    env.git(&root, &["commit", "-qam", "typo in config"]);
    let err = env.run(&root, &["list"]).fails(1);
    assert!(
        err.contains("templates.update") && err.contains("{{etaa}}"),
        "{err}"
    );
}

#[test]
fn text_can_come_from_standard_input() {
    let env = Env::new();
    let root = env.casebook("book");
    let id = case_in(&env, &root, "open");
    let mut cmd = env.cb(&root);
    cmd.args(["resolve", &id, "--resolution", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"Line one\nLine two\n")
        .unwrap();
    assert!(child.wait_with_output().unwrap().status.success());
    assert_eq!(show(&env, &root, &id)["resolution"], "Line one\nLine two");
    // A flag without a value opens an editor only on a terminal.
    let other = case_in(&env, &root, "open");
    let err = env.run(&root, &["pending", &other, "--reason"]).fails(1);
    assert!(err.contains("--reason: needs a value"), "{err}");
}

#[test]
fn log_records_when_it_happened_and_who_was_involved() {
    let env = Env::new();
    let root = env.casebook("book");
    let id = case_in(&env, &root, "pending");
    env.run(
        &root,
        &[
            "log",
            &id,
            "--summary",
            "Left a voicemail",
            "--direction",
            "outbound",
            "--at",
            "2026-11-22 16:30",
        ],
    )
    .ok();
    let v = show(&env, &root, &id);
    assert_eq!(v["status"], "pending", "outbound contact does not reopen");
    let e = v["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(e["occurred_at"], "2026-11-22T15:30:00Z");
    assert_eq!(e["at"], crate::common::NOW, "recorded now");
    let closed = case_in(&env, &root, "closed");
    env.run(
        &root,
        &[
            "log",
            &closed,
            "--summary",
            "Customer sent thanks",
            "--direction",
            "inbound",
            "--with",
            "Ada",
        ],
    )
    .ok();
    let v = show(&env, &root, &closed);
    assert_eq!(
        v["status"], "closed",
        "closed is final; log documents after the fact"
    );
    assert_eq!(
        v["events"].as_array().unwrap().last().unwrap()["with"],
        serde_json::json!(["Ada"])
    );
}

#[test]
fn deescalating_keeps_the_level_it_returns_to() {
    let env = Env::new();
    let root = env.casebook("book");
    let id = case_in(&env, &root, "open");
    env.run(&root, &["escalate", &id, "--reason", "1", "--to", "Sam"])
        .ok();
    env.run(&root, &["escalate", &id, "--reason", "2"]).ok();
    assert_eq!(show(&env, &root, &id)["escalated_to"], "manager");
    env.run(&root, &["deescalate", &id, "--reason", "back"])
        .ok();
    let v = show(&env, &root, &id);
    assert_eq!(
        (v["escalation_level"].as_u64(), v["escalated_to"].as_str()),
        (Some(1), Some("supervisor"))
    );
    env.run(&root, &["deescalate", &id, "--reason", "done"])
        .ok();
    let v = show(&env, &root, &id);
    assert_eq!(
        (v["escalation_level"].as_u64(), &v["escalated_to"]),
        (Some(0), &Value::Null)
    );
}

#[test]
fn actions_follow_the_events_not_a_hand_edited_projection() {
    let env = Env::new();
    let root = env.casebook("book");
    let id = case_in(&env, &root, "new");
    let file = case_path(&root, &id);
    let edited = std::fs::read_to_string(&file)
        .unwrap()
        .replace("status = \"new\"", "status = \"resolved\"");
    std::fs::write(&file, edited).unwrap();
    env.git(&root, &["commit", "-qam", "edit the projection by hand"]);
    assert_eq!(
        show(&env, &root, &id)["status"],
        "resolved",
        "readers show what is stored"
    );
    env.run(&root, &["ack", &id]).ok();
    assert_eq!(
        show(&env, &root, &id)["status"],
        "open",
        "the next write recomputes it from the events"
    );
}

#[test]
fn a_hand_edited_case_is_not_overwritten_by_the_next_action() {
    let env = Env::new();
    let root = env.casebook("book");
    let id = case_in(&env, &root, "open");
    let file = case_path(&root, &id);
    // A hand edit of a plain field (personal fields are sealed in the file).
    let text = std::fs::read_to_string(&file).unwrap();
    let edited = text.replacen("priority = \"normal\"", "priority = \"low\"", 1);
    assert_ne!(edited, text);
    std::fs::write(&file, &edited).unwrap();
    let before = env.commit_count(&root);
    let err = env
        .run(&root, &["pending", &id, "--reason", "waiting"])
        .fails(3);
    assert!(
        err.contains("has local changes that are not committed"),
        "{err}"
    );
    assert!(err.contains("keep it with `git commit"), "{err}");
    assert_eq!(env.commit_count(&root), before);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), edited);
    // Other cases are unaffected.
    let other = case_in(&env, &root, "open");
    env.run(&root, &["pending", &other, "--reason", "waiting"])
        .ok();
}
