//! At home in the terminal: aligned colour output, safe output, the pager, help.

use std::path::Path;

use crate::common::Env;

/// The text without ANSI escape sequences, as a terminal shows it.
fn visible(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Every column of `table` starts where its header does, on every line.
fn assert_aligned(table: &str, header: &[&str]) {
    let shown = visible(table);
    let lines: Vec<&str> = shown.lines().collect();
    let starts: Vec<usize> = header.iter().map(|h| lines[0].find(h).unwrap()).collect();
    for line in &lines[1..] {
        let chars: Vec<char> = line.chars().collect();
        for &s in &starts[1..] {
            assert!(
                chars.len() > s && chars[s - 1] == ' ' && chars[s] != ' ',
                "column at {s} misaligned in {line:?}\n{shown}"
            );
        }
    }
}

fn book_with_cases(env: &Env) -> std::path::PathBuf {
    let dir = env.casebook("book");
    env.open(&dir, "Ann Example", "Printer jams");
    let urgent = env.open(
        &dir,
        "Bo",
        "Everything is down and has been for a long while now",
    );
    env.run(&dir, &["escalate", &urgent, "--reason", "outage"])
        .ok();
    env.open(&dir, "Cy Long-Name Customer", "x");
    dir
}

#[test]
fn coloured_tables_stay_aligned() {
    let env = Env::new();
    let dir = book_with_cases(&env);
    let list = env.run(&dir, &["list", "--color", "always"]).ok().stdout;
    assert!(list.contains('\x1b'), "coloured: {list:?}");
    assert_aligned(
        &list,
        &["ID", "STATUS", "PRIORITY", "CUSTOMER", "SUBJECT", "OPENED"],
    );
    let due = env.run(&dir, &["due", "--color", "always"]).ok().stdout;
    assert!(due.contains('\x1b'));
    assert_aligned(
        &due,
        &[
            "DUE", "LEFT", "TARGET", "STATE", "CASE", "PRIORITY", "CUSTOMER",
        ],
    );
    let id = env.open(&dir, "Di", "Toner");
    let history = env
        .run(&dir, &["history", &id, "--color", "always"])
        .ok()
        .stdout;
    assert_aligned(&history, &["TIME", "ACTOR", "ACTION", "SUMMARY", "COMMIT"]);
    // Labels are padded before they are coloured: "status" and its value never touch.
    let show = visible(
        &env.run(&dir, &["show", &id, "--color", "always"])
            .ok()
            .stdout,
    );
    assert!(show.contains("\n  status       new\n"), "{show}");
    assert!(show.contains("\n  acknowledge  running    due "), "{show}");
}

#[test]
fn control_characters_in_case_data_are_shown_escaped_and_json_stays_exact() {
    let env = Env::new();
    let dir = env.casebook("book");
    let opened = env.run(
        &dir,
        &[
            "open",
            "--customer",
            "Eve\x07",
            "--email",
            "eve@example.com",
            "--subject",
            "Clear \x1b[2J screen",
        ],
    );
    let id = opened.ok().stdout.trim().to_string();
    let check = |args: &[&str], extra: &[(&str, &str)]| {
        let mut cmd = env.cb(&dir);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let out = crate::common::Run(cmd.args(args).output().unwrap())
            .ok()
            .stdout;
        let without_colour = visible(&out);
        assert!(
            !without_colour.contains('\x1b') && !without_colour.contains('\x07'),
            "{out:?}"
        );
        assert!(out.contains("Clear \\e[2J screen"), "{out:?}");
    };
    for colour in [&[("NO_COLOR", "1")][..], &[]] {
        check(&["list"], colour);
        check(&["show", &id], colour);
        check(&["due"], colour);
        check(&["search", "screen"], colour);
    }
    let json = env.run(&dir, &["show", &id, "--json"]).json();
    assert_eq!(json["subject"], "Clear \x1b[2J screen");
    assert_eq!(json["customer"]["name"], "Eve\x07");
}

/// Runs `casebook args` on a pseudo-terminal of `rows` lines (util-linux `script`).
fn on_terminal(env: &Env, dir: &Path, rows: u16, args: &str, extra: &[(&str, &str)]) -> String {
    let bin = env!("CARGO_BIN_EXE_casebook");
    let mut cmd = std::process::Command::new("script");
    env.isolate(&mut cmd);
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let out = cmd
        .current_dir(dir)
        .args([
            "-qec",
            &format!("stty rows {rows} cols 100; {bin} {args}"),
            "/dev/null",
        ])
        .output()
        .expect("script(1) runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).replace('\r', "")
}

#[test]
fn long_output_on_a_terminal_goes_through_the_pager() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: no script(1) for a pseudo-terminal");
        return;
    }
    let env = Env::new();
    let dir = book_with_cases(&env);
    let pager = [("CASEBOOK_PAGER", "sed s/^/PAGED:/"), ("PAGER", "false")];
    let paged = on_terminal(&env, &dir, 3, "list", &pager);
    assert!(
        visible(&paged).lines().any(|l| l.starts_with("PAGED:ID")),
        "{paged}"
    );
    // PAGER is used when CASEBOOK_PAGER is not set.
    let paged = on_terminal(&env, &dir, 3, "list", &[("PAGER", "sed s/^/VIA-PAGER:/")]);
    assert!(visible(&paged).contains("VIA-PAGER:ID"), "{paged}");
    // Short output, --no-pager, and a pipe are never paged.
    let short = on_terminal(&env, &dir, 50, "list", &pager);
    assert!(!short.contains("PAGED:") && short.contains("ID"), "{short}");
    let off = on_terminal(&env, &dir, 3, "list --no-pager", &pager);
    assert!(!off.contains("PAGED:") && off.contains("ID"), "{off}");
    let piped = on_terminal(&env, &dir, 3, "list | cat", &pager);
    assert!(!piped.contains("PAGED:") && piped.contains("ID"), "{piped}");
}

#[test]
fn tables_on_a_terminal_fit_its_width() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: no script(1) for a pseudo-terminal");
        return;
    }
    let env = Env::new();
    let dir = book_with_cases(&env);
    // $COLUMNS is not the terminal: the terminal's own width (100) is used.
    let out = on_terminal(&env, &dir, 50, "list --color always", &[("COLUMNS", "40")]);
    let shown = visible(&out);
    let widest = shown.lines().map(|l| l.chars().count()).max().unwrap();
    assert!((90..=100).contains(&widest), "{widest}: {shown}");
    assert!(shown.contains("Everything is down and…"), "{shown}");
    assert_eq!(shown.lines().count(), 4, "one line per case: {shown}");
    assert_aligned(
        &out,
        &["ID", "STATUS", "PRIORITY", "CUSTOMER", "SUBJECT", "OPENED"],
    );
    let wide = visible(&on_terminal(&env, &dir, 50, "list --wide", &[]));
    assert!(wide.lines().all(|l| l.chars().count() <= 100), "{wide}");
    assert!(
        !wide.contains('…'),
        "--wide wraps instead of cutting: {wide}"
    );
    assert!(wide.lines().count() > 4, "{wide}");
    assert!(wide.contains("has been"), "{wide}");
}

#[test]
fn help_teaches_and_usage_does_not_demand_environment_globals() {
    let env = Env::new();
    let dir = env.casebook("book");
    // CASEBOOK_NOW and CASEBOOK_ACTOR are set by the test environment.
    let err = env.run(&dir, &["open", "--customer", "Ann"]).fails(2);
    let usage = err.lines().find(|l| l.starts_with("Usage:")).unwrap();
    assert!(
        !usage.contains("--actor") && !usage.contains("--now"),
        "{usage}"
    );
    let err = env
        .run(&dir, &["open", "--customer", "Ann", "-C", "."])
        .fails(2);
    assert!(err.contains("--subject"), "{err}");
    let help = env.run(&dir, &["open", "--help"]).ok().stdout;
    assert!(help.contains("\nGlobal options:\n"), "{help}");
    let own = &help[..help.find("Global options:").unwrap()];
    assert!(
        !own.contains("--actor") && !own.contains("--color"),
        "{own}"
    );
    assert!(help.contains("\nExamples:\n  casebook open "), "{help}");
    assert!(help.contains("The customer's e-mail address"), "{help}");
}

#[test]
fn contradictory_flags_are_refused_by_the_parser() {
    let env = Env::new();
    let dir = env.casebook("book");
    let err = env
        .run(&dir, &["export", "--json", "--format", "csv"])
        .fails(2);
    assert!(err.contains("--format cannot be used with --json"), "{err}");
    assert!(err.contains("Usage: casebook export"), "{err}");
    let err = env.run(&dir, &["review", "--csv", "--json"]).fails(2);
    assert!(err.contains("--csv cannot be used with --json"), "{err}");
    // Each alone is fine; --json is the JSON Lines export.
    env.run(&dir, &["export", "--json"]).ok();
    env.run(&dir, &["export", "--format", "jsonl"]).ok();
}

#[test]
fn the_merge_driver_hint_is_printed_once_per_command() {
    let env = Env::new();
    let dir = env.casebook("book");
    let id = env.open(&dir, "Ann", "Printer jams");
    env.git(env.tmp.path(), &["clone", "-q", "book", "plain"]);
    let clone = env.path("plain");
    // Without the key ring the customer's name does not open, so the template cannot be
    // filled: the message is given.
    let out = env
        .run(&clone, &["ack", &id, "--message", "We are on it."])
        .ok();
    assert_eq!(
        out.stderr.matches("merge driver").count(),
        1,
        "{}",
        out.stderr
    );
}

#[test]
fn times_people_type_are_read_in_the_book_zone_and_shown_there() {
    let env = Env::new();
    let dir = env.casebook("book");
    let id = env.open(&dir, "Ann", "Printer jams");
    env.run(&dir, &["ack", &id]).ok();
    // Now is Monday 2026-11-23 10:00 in Berlin.
    let eta = |when: &str| {
        env.run(&dir, &["update", &id, "--eta", when, "--json"])
            .json()["eta"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(eta("friday 17:00"), "2026-11-27T16:00:00Z");
    assert_eq!(eta("tomorrow 9:30"), "2026-11-24T08:30:00Z");
    assert_eq!(eta("+2d"), "2026-11-25T09:00:00Z");
    assert_eq!(eta("in 3 hours"), "2026-11-23T12:00:00Z");
    assert_eq!(eta("14:00"), "2026-11-23T13:00:00Z");
    // A date alone is the end of that business day (the calendar closes at 17:00).
    assert_eq!(eta("2026-11-25"), "2026-11-25T16:00:00Z");
    // A time in the spring-forward gap is refused, naming the first valid time.
    let err = env
        .run(&dir, &["update", &id, "--eta", "2027-03-28 02:30"])
        .fails(1);
    assert!(err.contains("does not exist in Europe/Berlin"), "{err}");
    assert!(err.contains("2027-03-28 03:00 CEST"), "{err}");
    assert_eq!(err.matches("is not a time").count(), 0, "{err}");
    // The cause is said once.
    let err = env.run(&dir, &["update", &id, "--eta", "soonish"]).fails(1);
    assert_eq!(
        err.matches("soonish").count(),
        2,
        "message and cause: {err}"
    );
    // The timeline and the history show ETAs in the book's zone, or --tz.
    let show = env.run(&dir, &["show", &id]).ok().stdout;
    assert!(show.contains("ETA 2026-11-27 17:00 CET"), "{show}");
    assert!(!show.contains("T16:00:00Z"), "{show}");
    let history = env.run(&dir, &["history", &id]).ok().stdout;
    assert!(history.contains("ETA 2026-11-25 17:00 CET"), "{history}");
    let ny = env
        .run(&dir, &["history", &id, "--tz", "America/New_York"])
        .ok()
        .stdout;
    assert!(ny.contains("ETA 2026-11-25 11:00 EST"), "{ny}");
    // Review windows are whole days, in the same forms.
    let review = env
        .run(
            &dir,
            &["review", "--from", "yesterday", "--to", "today", "--json"],
        )
        .json();
    assert_eq!(
        (review["from"].as_str(), review["to"].as_str()),
        (Some("2026-11-22"), Some("2026-11-23"))
    );
    // Past times too: --incident-at and --at.
    let t = env
        .run(
            &dir,
            &["gather", &id, "--incident-at", "yesterday 16:30", "--json"],
        )
        .json();
    assert_eq!(t["incident_at"], "2026-11-22T15:30:00Z");
    let err = env
        .run(&dir, &["gather", &id, "--incident-at", "tomorrow"])
        .fails(1);
    assert!(
        err.contains("is in the future (now is 2026-11-23 10:00 CET)"),
        "{err}"
    );
}

#[test]
fn completions_for_every_shell_and_a_man_page() {
    let env = Env::new();
    let dir = env.tmp.path().to_path_buf();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = env.run(&dir, &["completions", shell]).ok().stdout;
        for word in ["follow-up", "escalate", "eta", "no-pager"] {
            assert!(out.contains(word), "{shell} completes {word}");
        }
    }
    env.run(&dir, &["completions", "tcsh"]).fails(2);
    let man = env.run(&dir, &["man"]).ok().stdout;
    assert!(man.contains(".TH casebook 1"), "{man}");
    assert!(
        man.contains("follow\\-up") && man.contains("completions"),
        "{man}"
    );
    let page = env.run(&dir, &["man", "update"]).ok().stdout;
    assert!(page.contains(".TH casebook-update 1"), "{page}");
    assert!(
        page.contains("friday 17:00"),
        "the page has the examples: {page}"
    );
    let err = env.run(&dir, &["man", "nope"]).fails(1);
    assert!(
        err.contains("\"nope\" is not a casebook subcommand"),
        "{err}"
    );
}

#[test]
fn git_identities_git_accepts_are_accepted_and_init_reads_the_repository_config() {
    let env = Env::new();
    let repo = env.path("existing");
    std::fs::create_dir_all(&repo).unwrap();
    env.git(&repo, &["init", "-q"]);
    env.git(&repo, &["config", "user.name", "Repo Person"]);
    env.git(&repo, &["config", "user.email", "x@x"]);
    let run = |args: &[&str]| {
        let mut cmd = env.cb(&repo);
        cmd.env_remove("CASEBOOK_ACTOR").args(args);
        crate::common::Run(cmd.output().unwrap())
    };
    run(&["init", "--timezone", "Europe/Berlin"]).ok();
    let author = env.git(&repo, &["log", "-1", "--format=%an <%ae>"]);
    assert_eq!(author.trim(), "Repo Person <x@x>");
    let opened = run(&[
        "open",
        "--customer",
        "Ann",
        "--email",
        "ann@example.com",
        "--subject",
        "Hi",
    ]);
    let id = opened.ok().stdout.trim().to_string();
    let case = run(&["show", &id, "--json"]).json();
    assert_eq!(case["created_by"], "Repo Person <x@x>");
    // Text from standard input with a NUL byte is refused naming the field (exit 1).
    let mut cmd = env.cb(&repo);
    cmd.args(["log", &id, "--summary", "-", "--direction", "inbound"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"called\0back")
        .unwrap();
    let out = crate::common::Run(child.wait_with_output().unwrap());
    let err = out.fails(1);
    assert!(
        err.contains("--summary: standard input holds a NUL byte at offset 6"),
        "{err}"
    );
}

#[test]
fn follow_up_messages_fit_the_answer() {
    let env = Env::new();
    let dir = env.casebook("book");
    let id = env.open(&dir, "Ann", "Printer jams");
    env.run(&dir, &["ack", &id]).ok();
    env.run(&dir, &["resolve", &id, "--resolution", "Fixed"])
        .ok();
    // No answer yet: the template asks how it went, and for a rating.
    let asked = env
        .run(&dir, &["follow-up", &id, "--no-answer"])
        .ok()
        .stdout;
    assert!(asked.contains("rate our service"), "{asked}");
    // Answered and rated: nothing asks for the rating again.
    let done = env
        .run(&dir, &["follow-up", &id, "--satisfied", "--rating", "5"])
        .ok();
    assert!(done.stdout.trim().is_empty(), "{}", done.stdout);
    let case = env.run(&dir, &["show", &id, "--json"]).json();
    let last = case["events"].as_array().unwrap().last().unwrap().clone();
    assert!(last.get("message").is_none_or(|m| m.is_null()), "{last}");
}

#[test]
fn config_sets_and_gets_the_optional_retention() {
    let env = Env::new();
    let dir = env.casebook("book");
    // Not set: nothing on stdout (null in JSON), and stderr says what that means.
    let unset = env.run(&dir, &["config", "get", "privacy.retain"]).ok();
    assert_eq!(unset.stdout, "");
    assert!(
        unset.stderr.contains("kept until erased"),
        "{}",
        unset.stderr
    );
    let json = env
        .run(&dir, &["config", "get", "privacy.retain", "--json"])
        .json();
    assert_eq!(json["value"], serde_json::Value::Null);
    let before = env.commit_count(&dir);
    for (typed, kept) in [("90d", "90d"), ("\"18mo\"", "18mo")] {
        env.run(&dir, &["config", "set", "privacy.retain", typed])
            .ok();
        let got = env.run(&dir, &["config", "get", "privacy.retain"]).ok();
        assert_eq!(got.stdout, format!("{kept}\n"));
    }
    assert_eq!(env.commit_count(&dir), before + 2);
    let text = std::fs::read_to_string(dir.join(".casebook/config.toml")).unwrap();
    assert!(text.contains("\nretain = \"18mo\""), "{text}");
    // tick reads it: nothing is closed, so nothing is due for erasure, but it loads.
    env.run(&dir, &["tick", "--dry-run"]).ok();
    // A bad duration names the setting and the forms it takes, and commits nothing.
    for bad in ["5x", "90", "0d"] {
        let err = env
            .run(&dir, &["config", "set", "privacy.retain", bad])
            .fails(1);
        assert!(
            err.contains("privacy.retain: cannot set it to"),
            "{bad}: {err}"
        );
        assert!(
            err.contains("d (days)") || err.contains("y, mo, w or d"),
            "{bad}: {err}"
        );
        assert!(err.contains("nothing was committed"), "{bad}: {err}");
        assert!(!err.contains("fix .casebook/config.toml"), "{bad}: {err}");
    }
    assert_eq!(env.commit_count(&dir), before + 2);
}

#[test]
fn config_get_set_check_and_the_warning_for_uncommitted_settings() {
    let env = Env::new();
    let dir = env.casebook("book");
    let get = |key: &str| env.run(&dir, &["config", "get", key]).ok().stdout;
    assert_eq!(get("calendar.timezone"), "Europe/Berlin\n");
    assert_eq!(get("sla.at_risk"), "0.75\n");
    assert_eq!(
        get("calendar.days"),
        "[\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]\n"
    );
    let err = env.run(&dir, &["config", "get", "calendar.tz"]).fails(1);
    assert!(err.contains("calendar.tz: no such setting"), "{err}");

    // set validates, then commits once; the file keeps its comments.
    let before = env.commit_count(&dir);
    let out = env.run(&dir, &["config", "set", "sla.at_risk", "0.5"]).ok();
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
    assert_eq!(env.commit_count(&dir), before + 1);
    assert_eq!(get("sla.at_risk"), "0.5\n");
    let text = std::fs::read_to_string(dir.join(".casebook/config.toml")).unwrap();
    assert!(
        text.contains("at_risk = 0.5\n") && text.contains("# Business hours"),
        "{text}"
    );
    assert!(
        env.status_porcelain(&dir).is_empty(),
        "the working tree follows the commit"
    );
    env.run(
        &dir,
        &["config", "set", "calendar.days", "[\"mon\", \"tue\"]"],
    )
    .ok();
    assert_eq!(get("calendar.days"), "[\"mon\", \"tue\"]\n");
    for (key, value, why) in [
        ("sla.at_risk", "7", "expected a share between 0 and 1"),
        ("calendar.timezone", "Mars/Base", "unknown time zone"),
        ("sla.nope", "1", "no such setting"),
    ] {
        let err = env.run(&dir, &["config", "set", key, value]).fails(1);
        assert!(err.contains(why), "{key}: {err}");
    }
    assert_eq!(
        env.commit_count(&dir),
        before + 2,
        "refused changes commit nothing"
    );

    // A hand edit is not in effect until committed: every command says so, once.
    let path = dir.join(".casebook/config.toml");
    let edited = std::fs::read_to_string(&path)
        .unwrap()
        .replace("at_risk = 0.5", "at_risk = 0.9");
    std::fs::write(&path, edited).unwrap();
    let out = env.run(&dir, &["list"]).ok();
    assert_eq!(
        out.stderr
            .matches("warning: .casebook/config.toml differs")
            .count(),
        1,
        "{}",
        out.stderr
    );
    // check fails on it (exit 1, as for an invalid config), so a script notices.
    let run = env.run(&dir, &["config", "check", "--json"]);
    let check: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    run.fails(1);
    assert_eq!(check["uncommitted"][0], ".casebook/config.toml");
    let err = env.run(&dir, &["config", "check"]).fails(1);
    assert!(
        err.contains("error: .casebook/config.toml: edited but not committed, so not in effect"),
        "{err}"
    );
    assert!(err.contains("hint: commit the edit"), "{err}");
    assert_eq!(
        get("sla.at_risk"),
        "0.5\n",
        "the committed value is in effect"
    );
    // A template file too.
    env.git(&dir, &["checkout", "--", ".casebook/config.toml"]);
    std::fs::create_dir_all(dir.join(".casebook/templates")).unwrap();
    std::fs::write(
        dir.join(".casebook/templates/update.txt"),
        "Soon, {{customer.name}}\n",
    )
    .unwrap();
    let out = env.run(&dir, &["list"]).ok();
    assert!(
        out.stderr
            .contains("warning: .casebook/templates/update.txt differs"),
        "{}",
        out.stderr
    );
    let err = env.run(&dir, &["config", "check"]).fails(1);
    assert!(
        err.contains("error: .casebook/templates/update.txt: edited but not committed"),
        "{err}"
    );
    env.git(&dir, &["add", "."]);
    env.git(&dir, &["commit", "-qm", "template"]);
    let out = env.run(&dir, &["list"]).ok();
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
    let out = env.run(&dir, &["config", "check"]).ok();
    assert!(
        out.stderr.contains("the settings are valid and committed"),
        "{}",
        out.stderr
    );
    // check names a broken working-tree config (exit 1).
    std::fs::write(&path, "[calendar]\ntimezone = \"Nowhere\"\n").unwrap();
    let err = env.run(&dir, &["config", "check"]).fails(1);
    assert!(err.contains("unknown time zone"), "{err}");
}
