//! Bad input of every kind: a clear error, a non-zero exit, and nothing written.

use crate::common::{case_path, Env};

/// Runs `args` expecting exit `code`, and checks that no commit and no file change happened.
fn refused(env: &Env, root: &std::path::Path, args: &[&str], code: i32) -> String {
    let before = env.commit_count(root);
    let err = env.run(root, args).fails(code);
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

#[test]
fn open_refuses_bad_intake_with_the_field_named() {
    let env = Env::new();
    let root = env.casebook("book");
    let base = ["open", "--customer", "Ada", "--subject", "Hi"];
    let with = |extra: &[&str]| -> Vec<String> {
        base.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (with(&[]), "a way to reach the customer is required"),
        (
            with(&["--email", "ada-at-example.com"]),
            "--email: \"ada-at-example.com\" is not an e-mail address",
        ),
        (
            with(&["--phone", "call me"]),
            "--phone: \"call me\" is not a phone number",
        ),
        (
            with(&["--email", "a@b.co", "--incident-at", "last tuesday"]),
            "--incident-at: cannot use \"last tuesday\" as a time\n  caused by: \"last tuesday\" is not a time casebook reads",
        ),
        (
            with(&["--email", "a@b.co", "--incident-at", "2026-12-24 10:00"]),
            "is in the future",
        ),
        (
            with(&["--email", "a@b.co", "--incident-at", "2026-02-30"]),
            "\"2026-02-30\" is not a time casebook reads",
        ),
        (
            vec![
                "open",
                "--customer",
                " ",
                "--subject",
                "Hi",
                "--email",
                "a@b.co",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            "--customer: must not be empty",
        ),
    ];
    for (args, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let err = refused(&env, &root, &args, 1);
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let env = Env::new();
    let root = env.casebook("book");
    let err = refused(
        &env,
        &root,
        &[
            "open",
            "--customer",
            "A",
            "--email",
            "a@b.co",
            "--subject",
            "x",
            "--priority",
            "asap",
        ],
        2,
    );
    assert!(
        err.contains("urgent") && err.contains("low"),
        "lists the valid values: {err}"
    );
    refused(&env, &root, &["frobnicate"], 2);
    refused(&env, &root, &["show"], 2);
}

#[test]
fn unknown_cases_and_malformed_ids_are_user_errors() {
    let env = Env::new();
    let root = env.casebook("book");
    let id = env.open(&root, "Ada", "Exists");
    let unknown = if id.starts_with("CB-Z") {
        "CB-0000"
    } else {
        "ZZZZZZ"
    };
    let err = refused(&env, &root, &["show", unknown], 1);
    assert!(
        err.contains(&format!("no case matches \"{unknown}\"")),
        "{err}"
    );
    assert!(err.contains("hint: `casebook list`"), "{err}");
    for bad in [
        "../../etc/passwd",
        "CB-",
        "CB-7K3M9QXAZZ",
        "cases/ab/x",
        "héllo",
    ] {
        let err = refused(&env, &root, &["show", bad], 1);
        assert!(err.contains("bad case ID"), "{bad}: {err}");
    }
    refused(&env, &root, &["history", unknown], 1);
}

#[test]
fn bad_clock_and_identity_are_refused() {
    let env = Env::new();
    let root = env.casebook("book");
    let err = refused(
        &env,
        &root,
        &[
            "--now",
            "tomorrow",
            "open",
            "--customer",
            "A",
            "--email",
            "a@b.co",
            "--subject",
            "x",
        ],
        1,
    );
    assert!(
        err.contains("--now: \"tomorrow\" is not an RFC 3339 time"),
        "{err}"
    );
    let err = refused(
        &env,
        &root,
        &[
            "--actor",
            "nobody",
            "open",
            "--customer",
            "A",
            "--email",
            "a@b.co",
            "--subject",
            "x",
        ],
        1,
    );
    assert!(err.contains("--actor"), "{err}");

    let mut cmd = env.cb(&root);
    cmd.env_remove("CASEBOOK_ACTOR").args([
        "open",
        "--customer",
        "A",
        "--email",
        "a@b.co",
        "--subject",
        "x",
    ]);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no actor") && err.contains("hint: pass --actor"),
        "{err}"
    );

    // git's identity is the fallback.
    env.git(&root, &["config", "user.name", "Git Person"]);
    env.git(&root, &["config", "user.email", "git.person@example.com"]);
    let mut cmd = env.cb(&root);
    cmd.env_remove("CASEBOOK_ACTOR").args([
        "open",
        "--customer",
        "A",
        "--email",
        "a@b.co",
        "--subject",
        "x",
    ]);
    assert!(cmd.output().unwrap().status.success());
    assert_eq!(
        env.git(&root, &["log", "-1", "--format=%an <%ae>"]).trim(),
        "Git Person <git.person@example.com>"
    );
}

#[test]
fn outside_a_case_book_the_error_says_how_to_make_one() {
    let env = Env::new();
    let plain = env.path("plain");
    std::fs::create_dir_all(&plain).unwrap();
    let err = env.run(&plain, &["list"]).fails(1);
    assert!(
        err.contains("no case book found") && err.contains("casebook init"),
        "{err}"
    );
    env.git(&plain, &["init", "-q"]);
    let err = env.run(&plain, &["list"]).fails(1);
    assert!(
        err.contains("not a case book") && err.contains("run `casebook init`"),
        "{err}"
    );
}

#[test]
fn a_corrupt_case_file_is_reported_with_its_path() {
    let env = Env::new();
    let root = env.casebook("book");
    let id = env.open(&root, "Ada", "Soon corrupt");
    let path = case_path(&root, &id);
    std::fs::write(&path, "schema = 1\n[case\nbroken").unwrap();
    env.git(&root, &["commit", "-qam", "oops"]);
    let rel = path
        .strip_prefix(&root)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    // `list` skips the file with a warning (see integrity.rs); `--strict` makes it fail.
    for args in [vec!["show", id.as_str()], vec!["list", "--strict"]] {
        let err = refused(&env, &root, &args, 1);
        assert!(
            err.contains(&format!("cannot read case file {rel}")),
            "{err}"
        );
        assert!(err.contains("caused by"), "{err}");
        assert!(err.contains("hint:"), "{err}");
    }
}

#[test]
fn a_newer_schema_is_refused_clearly() {
    let env = Env::new();
    let root = env.casebook("book");
    let id = env.open(&root, "Ada", "From the future");
    let path = case_path(&root, &id);
    let text = std::fs::read_to_string(&path).unwrap();
    // Schema 1, or 2 where the sealed projection is derived: the first line either way.
    let (first, rest) = text.split_once('\n').unwrap();
    assert!(first.starts_with("schema = "), "{first}");
    let text = format!("schema = 7\n{rest}");
    std::fs::write(&path, text).unwrap();
    env.git(&root, &["commit", "-qam", "future"]);
    let err = refused(&env, &root, &["show", &id], 1);
    assert!(
        err.contains("schema 7 is newer than this casebook understands"),
        "{err}"
    );
    assert!(err.contains("upgrade casebook"), "{err}");
}

#[test]
fn a_bad_config_is_refused_naming_the_key() {
    let env = Env::new();
    let root = env.casebook("book");
    let path = root.join(".casebook/config.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("Europe/Berlin", "Europe/Berln");
    std::fs::write(&path, text).unwrap();
    env.git(&root, &["commit", "-qam", "typo"]);
    let err = refused(
        &env,
        &root,
        &[
            "open",
            "--customer",
            "A",
            "--email",
            "a@b.co",
            "--subject",
            "x",
        ],
        1,
    );
    assert!(
        err.contains("calendar.timezone = \"Europe/Berln\""),
        "{err}"
    );
    assert!(err.contains("unknown time zone"), "{err}");
}

#[test]
fn init_refuses_bad_options_and_writes_nothing() {
    let env = Env::new();
    let err = env
        .run(
            env.tmp.path(),
            &["init", "book", "--timezone", "Mars/Olympus"],
        )
        .fails(1);
    // The flag and the value, then the parser's reason as the cause, once.
    assert!(
        err.contains("--timezone: cannot use \"Mars/Olympus\"\n  caused by: unknown time zone \"Mars/Olympus\""),
        "{err}"
    );
    assert!(!env.path("book").exists(), "nothing created");
    let err = env
        .run(env.tmp.path(), &["init", "book", "--prefix", "A-B"])
        .fails(1);
    assert!(err.contains("--prefix"), "{err}");
    assert!(!env.path("book").exists());
}

/// A linked worktree has a git folder of its own, where keys of sealed cases would be kept
/// apart from the book's and deleted by `git worktree remove`: casebook refuses it, and
/// the main working tree goes on working.
#[test]
fn a_linked_worktree_is_refused_with_what_to_do_instead() {
    let env = Env::new();
    let root = env.casebook("book");
    env.open(&root, "Ada Lovelace", "Printer");
    let wt = env.tmp.path().join("wt");
    env.git(
        &root,
        &["worktree", "add", "-q", "-b", "side", wt.to_str().unwrap()],
    );
    let before = env.commit_count(&root);
    for args in [
        &["list"][..],
        &[
            "open",
            "--customer",
            "Bob",
            "--email",
            "bob@example.com",
            "--subject",
            "Hi",
        ],
    ] {
        let err = env.run(&wt, args).fails(1);
        assert!(err.contains("is a linked worktree"), "{err}");
        assert!(err.contains("casebook clone"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    assert_eq!(env.commit_count(&root), before);
    let own = root.join(".git/worktrees/wt");
    let left: Vec<_> = std::fs::read_dir(&own)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("casebook"))
        .collect();
    assert!(
        left.is_empty(),
        "casebook wrote {left:?} in the worktree's git folder"
    );
    env.run(&root, &["list"]).ok();
}
