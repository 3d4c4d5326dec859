//! Hostile input: committed case files broken by hand, oversized text, attachments that
//! are not regular files. Each is a clear error naming what and where, exit 1, and nothing
//! is written.

use std::path::Path;

use crate::common::{case_path, Env};

/// Runs `args` expecting exit 1, and checks that no commit and no file change happened.
fn refused(env: &Env, root: &Path, args: &[&str]) -> String {
    let before = env.commit_count(root);
    let err = env.run(root, args).fails(1);
    assert_eq!(env.commit_count(root), before, "{args:?} must not commit");
    assert_eq!(
        env.status_porcelain(root),
        "",
        "{args:?} must not touch files"
    );
    assert!(err.starts_with("error: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

/// A case book with one acknowledged case (events `open` then `acknowledge`): its ID,
/// its path relative to the root, and the ids of its two events.
fn acknowledged_case(env: &Env) -> (std::path::PathBuf, String, String, [String; 2]) {
    let root = env.casebook("book");
    let id = env.open(&root, "Ada", "Printer jams");
    env.run(&root, &["ack", &id, "--message", "On it"]).ok();
    let v = env.run(&root, &["show", &id, "--json"]).json();
    let events: Vec<String> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    let rel = case_path(&root, &id)
        .strip_prefix(&root)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    (root, id, rel, [events[0].clone(), events[1].clone()])
}

/// Edits the committed case file with `edit` and commits it with plain git.
fn corrupt(env: &Env, root: &Path, rel: &str, edit: impl Fn(String) -> String) {
    let path = root.join(rel);
    let text = std::fs::read_to_string(&path).unwrap();
    let broken = edit(text.clone());
    assert_ne!(broken, text, "the edit must change the file");
    std::fs::write(&path, broken).unwrap();
    env.git(root, &["commit", "-qam", "edited by hand"]);
}

/// Every read of the broken case, every action on it and every `--strict` read refuses,
/// naming the file and `problem`; a read of the whole book skips it with a warning.
fn assert_refused_everywhere(env: &Env, root: &Path, id: &str, rel: &str, problem: &str) {
    let out = env.run(root, &["list"]).ok();
    assert!(
        out.stderr.contains(&format!("warning: skipped {rel}"))
            && out.stderr.contains("casebook verify"),
        "list must skip {rel} with a warning: {}",
        out.stderr
    );
    assert!(!out.stdout.contains(id), "{}", out.stdout);
    for args in [
        vec!["show", id],
        vec!["list", "--strict"],
        vec!["gather", id, "--note", "more"],
        vec!["escalate", id, "--reason", "stuck"],
    ] {
        let err = refused(env, root, &args);
        assert!(err.contains(rel), "{args:?} must name {rel}: {err}");
        assert!(
            err.contains(problem),
            "{args:?} must say {problem:?}: {err}"
        );
    }
}

#[test]
fn a_committed_duplicate_event_id_is_refused_not_written_on() {
    let env = Env::new();
    let (root, id, rel, [first, second]) = acknowledged_case(&env);
    corrupt(&env, &root, &rel, |t| {
        t.replace(&format!("id = \"{second}\""), &format!("id = \"{first}\""))
    });
    assert_refused_everywhere(
        &env,
        &root,
        &id,
        &rel,
        &format!("two events with the id {first}"),
    );
}

#[test]
fn a_committed_case_id_that_is_not_the_file_name_is_refused() {
    let env = Env::new();
    let (root, id, rel, _) = acknowledged_case(&env);
    let other = format!("{}ZZZZZZZZ", &id[..id.len() - 8]);
    corrupt(&env, &root, &rel, |t| {
        t.replacen(&format!("id = \"{id}\""), &format!("id = \"{other}\""), 1)
    });
    assert_refused_everywhere(
        &env,
        &root,
        &id,
        &rel,
        &format!("[case] id is {other}, but the file is the case file of {id}"),
    );
}

#[test]
fn a_committed_seq_that_cannot_be_incremented_is_refused_not_wrapped() {
    let env = Env::new();
    let (root, id, rel, [_, second]) = acknowledged_case(&env);
    corrupt(&env, &root, &rel, |t| {
        t.replace("seq = 2\n", "seq = 18446744073709551615\n")
    });
    assert_refused_everywhere(
        &env,
        &root,
        &id,
        &rel,
        &format!("event {second} has seq = 18446744073709551615"),
    );
}

#[test]
fn committed_events_out_of_order_are_refused() {
    let env = Env::new();
    let (root, id, rel, [first, second]) = acknowledged_case(&env);
    corrupt(&env, &root, &rel, |t| t.replace("seq = 1\n", "seq = 5\n"));
    assert_refused_everywhere(
        &env,
        &root,
        &id,
        &rel,
        &format!("event {second} (seq 2) comes after event {first} (seq 5)"),
    );
}

#[test]
fn a_committed_attachment_path_outside_attachments_is_refused() {
    let env = Env::new();
    let (root, id, rel, _) = acknowledged_case(&env);
    let file = env.path("shot.txt");
    std::fs::write(&file, "a screenshot").unwrap();
    env.run(&root, &["gather", &id, "--attach", file.to_str().unwrap()])
        .ok();
    corrupt(&env, &root, &rel, |t| {
        // In the event (the truth) and in the [case] projection alike.
        let start = t.find("path = \"attachments/").unwrap();
        let end = start + t[start..].find('\n').unwrap();
        t.replace(&t[start..end], "path = \"attachments/../.git/config\"")
    });
    let err = refused(&env, &root, &["show", &id]);
    assert!(
        err.contains(&rel) && err.contains("\"attachments/../.git/config\""),
        "{err}"
    );
}

/// Runs casebook with `args`, killing it if it has not finished after 20 s (a hang must be
/// a failure, not a stuck test run): its exit code and stderr.
fn run_bounded(env: &Env, root: &Path, args: &[&str]) -> (Option<i32>, String) {
    let mut child = env
        .cb(root)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("casebook {args:?} hung");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn attachments_must_be_regular_files() {
    let env = Env::new();
    let root = env.casebook("book");
    let id = env.open(&root, "Ada", "Printer jams");
    let fifo = env.path("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let before = env.commit_count(&root);
    for (file, kind) in [
        (
            fifo.to_str().unwrap(),
            "is a FIFO (named pipe), not a regular file",
        ),
        ("/dev/zero", "is a device, not a regular file"),
        (
            env.path("").to_str().unwrap(),
            "is a folder, not a regular file",
        ),
    ] {
        let (code, err) = run_bounded(&env, &root, &["gather", &id, "--attach", file]);
        assert_eq!(code, Some(1), "{file}: {err}");
        assert!(err.contains(&format!("--attach: {file} {kind}")), "{err}");
    }
    assert_eq!(env.commit_count(&root), before);
    assert_eq!(env.status_porcelain(&root), "");
}

/// Runs casebook with `stdin` as standard input: exit code and stderr.
fn run_with_stdin(env: &Env, root: &Path, args: &[&str], stdin: &[u8]) -> (Option<i32>, String) {
    use std::io::Write;
    let mut child = env
        .cb(root)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    // casebook stops reading past the limit: a closed pipe is expected, not an error.
    let _ = input.write_all(stdin);
    drop(input);
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn free_text_from_standard_input_is_limited_to_one_mebibyte_by_default() {
    let env = Env::new();
    let root = env.casebook("book");
    let id = env.open(&root, "Ada", "Printer jams");
    let before = env.commit_count(&root);
    let huge = vec![b'x'; 2 * 1024 * 1024];
    let (code, err) = run_with_stdin(&env, &root, &["gather", &id, "--description", "-"], &huge);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("--description: the text is longer than that; the limit is 1048576 bytes (text.max_bytes"),
        "{err}"
    );
    assert_eq!(env.commit_count(&root), before);
    assert_eq!(env.status_porcelain(&root), "");
    // Exactly at the limit is fine.
    let (code, err) = run_with_stdin(
        &env,
        &root,
        &["gather", &id, "--description", "-"],
        &huge[..1024 * 1024],
    );
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn the_free_text_limit_is_configurable_and_names_the_field() {
    let env = Env::new();
    let root = env.casebook("book");
    let id = env.open(&root, "Ada", "Printer jams");
    let path = root.join(".casebook/config.toml");
    let config = std::fs::read_to_string(&path)
        .unwrap()
        .replace("max_bytes = 1048576 ", "max_bytes = 10 ");
    std::fs::write(&path, config).unwrap();
    env.git(&root, &["commit", "-qam", "short texts"]);
    let long = "eleven byte";
    for (args, field) in [
        (vec!["log", &id, "--summary", long], "--summary"),
        (vec!["gather", &id, "--question", long], "--question"),
        (vec!["gather", &id, "--note", long], "--note"),
        (vec!["escalate", &id, "--reason", long], "--reason"),
        (
            vec!["research", &id, "--finding", "x", "--root-cause", long],
            "--root-cause",
        ),
        (
            vec![
                "open",
                "--customer",
                "Bo",
                "--email",
                "bo@example.com",
                "--subject",
                long,
            ],
            "--subject",
        ),
    ] {
        let err = refused(&env, &root, &args);
        assert!(
            err.contains(&format!(
                "{field}: the text is 11 bytes; the limit is 10 bytes (text.max_bytes in .casebook/config.toml)"
            )),
            "{args:?}: {err}"
        );
    }
    let (code, err) = run_with_stdin(
        &env,
        &root,
        &["ack", &id, "--message", "-"],
        long.as_bytes(),
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("--message: the text is longer than that; the limit is 10 bytes"),
        "{err}"
    );
    env.run(&root, &["log", &id, "--summary", "ten bytes!"])
        .ok();
}

#[test]
fn a_text_limit_of_zero_is_a_config_error() {
    let env = Env::new();
    let root = env.casebook("book");
    let id = env.open(&root, "Ada", "Printer jams");
    let path = root.join(".casebook/config.toml");
    let config = std::fs::read_to_string(&path)
        .unwrap()
        .replace("max_bytes = 1048576 ", "max_bytes = 0 ");
    std::fs::write(&path, config).unwrap();
    env.git(&root, &["commit", "-qam", "no texts"]);
    let err = refused(&env, &root, &["log", &id, "--summary", "hi"]);
    assert!(
        err.contains("text.max_bytes = 0: the limit must be at least 1"),
        "{err}"
    );
}

#[test]
fn imported_fields_keep_to_the_free_text_limit_too() {
    let env = Env::new();
    let root = env.casebook("book");
    let path = root.join(".casebook/config.toml");
    let config = std::fs::read_to_string(&path)
        .unwrap()
        .replace("max_bytes = 1048576 ", "max_bytes = 20 ");
    std::fs::write(&path, config).unwrap();
    env.git(&root, &["commit", "-qam", "short texts"]);
    let rows = env.path("rows.csv");
    std::fs::write(
        &rows,
        "external_id,customer,email,subject,description\n\
         HD-1,Ada,ada@example.com,Short,a description of 32 bytes in all\n",
    )
    .unwrap();
    let err = refused(&env, &root, &["import", rows.to_str().unwrap()]);
    assert!(
        err.contains("line 2: description: is 32 bytes; the limit is 20 (text.max_bytes)"),
        "{err}"
    );
}

/// One bad case file does not stop the team (issue 15 item 7): every read of the whole
/// book skips it with one warning naming it and pointing to `casebook verify`, with the
/// index and with a full scan alike; `--strict` makes each read fail instead; verify
/// reports it; actions on it are refused, actions on other cases go on.
#[test]
fn one_bad_case_file_is_skipped_with_a_warning_and_strict_fails() {
    let env = Env::new();
    let (root, bad, rel, _) = acknowledged_case(&env);
    let good = env.open(&root, "Grace", "Printer smokes");
    let reads: Vec<Vec<&str>> = vec![
        vec!["list", "--all", "--json"],
        vec!["due", "--json"],
        vec!["review", "--json"],
        vec!["review", "--queue", "--json"],
        vec!["search", "printer", "--json"],
        vec!["export"],
        vec!["show", &good, "--json"],
    ];
    // The answers before the file broke, without the broken case.
    let run = |args: &[&str], scan: bool| {
        let mut cmd = env.cb(&root);
        cmd.env("CASEBOOK_NOW", "2026-11-20T10:00:00Z").args(args);
        if scan {
            cmd.env("CASEBOOK_INDEX", "off");
        }
        cmd.output().unwrap()
    };
    corrupt(&env, &root, &rel, |t| t.replacen("[case]", "[case\n", 1));
    for args in &reads {
        let (indexed, scanned) = (run(args, false), run(args, true));
        for out in [&indexed, &scanned] {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{args:?}: {stderr}");
            let warnings: Vec<&str> = stderr
                .lines()
                .filter(|l| l.starts_with("warning: "))
                .collect();
            let stdout = String::from_utf8_lossy(&out.stdout);
            if args[0] == "show" {
                assert!(warnings.is_empty(), "{args:?}: {stderr}");
                assert!(stdout.contains(&good), "{args:?}: {stdout}");
                continue;
            }
            assert_eq!(warnings.len(), 1, "{args:?}: one warning: {stderr}");
            assert!(
                warnings[0].contains(&rel) && warnings[0].contains("casebook verify"),
                "{args:?}: {stderr}"
            );
            assert!(
                !stdout.contains(&bad),
                "{args:?} shows the bad case: {stdout}"
            );
        }
        assert_eq!(
            indexed.stdout, scanned.stdout,
            "{args:?}: index and scan differ"
        );
        // Still an answer for the other cases.
        let expect = match args[0] {
            "review" if args[1] == "--queue" => "[",
            "review" => "\"backlog\"",
            _ => good.as_str(),
        };
        assert!(
            String::from_utf8_lossy(&indexed.stdout).contains(expect),
            "{args:?} still answers for the other cases"
        );
        // --strict: the read fails, naming the file, with the index and without.
        let mut strict = vec!["--strict"];
        strict.extend(args.iter().copied());
        if args[0] != "show" {
            for scan in [false, true] {
                let out = run(&strict, scan);
                let stderr = String::from_utf8_lossy(&out.stderr);
                assert_eq!(out.status.code(), Some(1), "{strict:?}: {stderr}");
                assert!(
                    stderr.contains(&format!("cannot read case file {rel}")),
                    "{strict:?}: {stderr}"
                );
            }
        }
    }
    // verify reports it.
    let out = env.run(&root, &["verify"]);
    let stdout = out.stdout();
    out.fails(1);
    assert!(
        stdout.contains(&format!("{rel}: does not parse")),
        "{stdout}"
    );
    assert_eq!(
        stdout.matches(&rel).count(),
        1,
        "verify names the file once: {stdout}"
    );
    // Actions on it are refused and write nothing; on another case they go on.
    let err = refused(&env, &root, &["gather", &bad, "--note", "more"]);
    assert!(
        err.contains(&format!("cannot read case file {rel}")),
        "{err}"
    );
    // The broken version is committed, so `git checkout -- FILE` would restore it as it
    // is: the hint names the file and what undoes a commit.
    let hint = err.lines().find(|l| l.starts_with("hint: ")).unwrap();
    assert!(
        !hint.contains("<file>") && !hint.contains("git checkout --"),
        "{hint}"
    );
    assert!(
        hint.contains(&format!("git log -p -- {rel}"))
            && hint.contains(&format!("git checkout COMMIT~ -- {rel}"))
            && hint.contains("git revert"),
        "{hint}"
    );
    // And it works: putting back the version before the commit that broke it mends it.
    let broke = env.git(&root, &["log", "-1", "--format=%h", "--", &rel]);
    env.git(
        &root,
        &["checkout", &format!("{}~", broke.trim()), "--", &rel],
    );
    env.git(&root, &["commit", "-qm", "mended"]);
    env.run(&root, &["gather", &bad, "--note", "more"]).ok();
    env.run(&root, &["gather", &good, "--note", "more"]).ok();
}
