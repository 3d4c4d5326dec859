//! The read index: every read answers exactly as a full scan does (`CASEBOOK_INDEX=off`),
//! whatever moved the branch, with several processes at once, and with the index deleted
//! at any moment.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use proptest::prelude::*;

use crate::common::Env;

/// Runs casebook with the index and with a full scan; asserts the same exit code and the
/// same stdout, and returns that stdout.
fn same(env: &Env, dir: &Path, now: &str, args: &[&str]) -> String {
    let run = |scan: bool| {
        let mut cmd = env.cb(dir);
        cmd.env("CASEBOOK_NOW", now).args(args);
        if scan {
            cmd.env("CASEBOOK_INDEX", "off");
        }
        cmd.output().expect("run casebook")
    };
    let (indexed, scanned) = (run(false), run(true));
    assert_eq!(
        indexed.status.code(),
        scanned.status.code(),
        "exit code of {args:?} at {now}\nindexed stderr: {}\nscanned stderr: {}",
        String::from_utf8_lossy(&indexed.stderr),
        String::from_utf8_lossy(&scanned.stderr)
    );
    let (a, b) = (
        String::from_utf8_lossy(&indexed.stdout).into_owned(),
        String::from_utf8_lossy(&scanned.stdout).into_owned(),
    );
    assert_eq!(a, b, "casebook {args:?} at {now}: index and scan differ");
    a
}

fn index_dir(root: &Path) -> PathBuf {
    root.join(".git").join("casebook")
}

/// An instant `hours` after 2026-11-02 08:00 UTC (a Monday).
fn at(hours: u32) -> String {
    let base = chrono::DateTime::parse_from_rfc3339("2026-11-02T08:00:00Z").unwrap();
    (base + chrono::Duration::minutes(i64::from(hours) * 37))
        .with_timezone(&chrono::Utc)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

const WORDS: &[&str] = &[
    "printer", "jam", "roller", "invoice", "refund", "login", "password", "tray", "toner", "café",
];

/// One step of a random history: an action on the `case`-th case opened so far.
#[derive(Debug, Clone)]
enum Step {
    Open {
        priority: usize,
        word: usize,
    },
    Act {
        case: usize,
        action: usize,
        word: usize,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0..4usize, 0..WORDS.len()).prop_map(|(priority, word)| Step::Open { priority, word }),
        (0..16usize, 0..12usize, 0..WORDS.len()).prop_map(|(case, action, word)| Step::Act {
            case,
            action,
            word
        }),
        (0..16usize, 0..12usize, 0..WORDS.len()).prop_map(|(case, action, word)| Step::Act {
            case,
            action,
            word
        }),
    ]
}

/// Runs the steps (actions not allowed in a case's state just fail, as they would for a
/// person) with an advancing clock; returns the case IDs.
fn play(env: &Env, dir: &Path, steps: &[Step], clock: &mut u32) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for s in steps {
        *clock += 1;
        let now = at(*clock);
        let mut cmd = env.cb(dir);
        cmd.env("CASEBOOK_NOW", &now);
        match s {
            Step::Open { priority, word } => {
                let p = ["low", "normal", "high", "urgent"][*priority];
                let w = WORDS[*word];
                let n = ids.len();
                let out = cmd
                    .args([
                        "open",
                        "--customer",
                        &format!("Cust{} {w}", n % 3),
                        "--email",
                        &format!("c{n}@example.com"),
                        "--subject",
                        &format!("{w} trouble {n}"),
                        "--priority",
                        p,
                    ])
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                ids.push(String::from_utf8(out.stdout).unwrap().trim().to_string());
            }
            Step::Act { case, action, word } => {
                if ids.is_empty() {
                    continue;
                }
                let id = ids[case % ids.len()].clone();
                let w = WORDS[*word];
                let eta = at(*clock + 10);
                let args: Vec<&str> = match action {
                    0 => vec!["ack", &id],
                    1 => vec!["gather", &id, "--question", "which one?", "--answer", w],
                    2 => vec![
                        "research",
                        &id,
                        "--root-cause",
                        w,
                        "--finding",
                        "seen before",
                    ],
                    3 => vec!["update", &id, "--message", w, "--eta", &eta],
                    4 => vec!["pending", &id, "--reason", "waiting"],
                    5 => vec!["escalate", &id, "--reason", w],
                    6 => vec!["resolve", &id, "--resolution", w],
                    7 => vec![
                        "follow-up",
                        &id,
                        "--satisfied",
                        "--rating",
                        "4",
                        "--feedback",
                        w,
                    ],
                    8 => vec!["close", &id, "--reason", "duplicate"],
                    9 => vec!["reopen", &id, "--reason", "not fixed"],
                    10 => vec!["review", &id, "--finding", w],
                    _ => vec!["log", &id, "--summary", w, "--direction", "inbound"],
                };
                let out = cmd.args(&args).output().unwrap();
                assert!(
                    matches!(out.status.code(), Some(0 | 1)),
                    "{args:?}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }
    ids
}

/// A random read, as arguments.
#[derive(Debug, Clone)]
struct Read {
    kind: usize,
    a: usize,
    b: usize,
    c: usize,
    hours: u32,
}

fn read() -> impl Strategy<Value = Read> {
    (0..8usize, 0..64usize, 0..64usize, 0..64usize, 0..200u32).prop_map(|(kind, a, b, c, hours)| {
        Read {
            kind,
            a,
            b,
            c,
            hours,
        }
    })
}

fn args_of(r: &Read) -> Vec<String> {
    let statuses = ["new", "open", "pending", "resolved", "closed"];
    let priorities = ["low", "normal", "high", "urgent"];
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    match r.kind {
        0 | 1 => {
            let mut a = s(&["list", "--json"]);
            for (i, st) in statuses.iter().enumerate() {
                if r.a & (1 << i) != 0 && r.a.is_multiple_of(3) {
                    a.extend(s(&["--status", st]));
                }
            }
            if r.b.is_multiple_of(4) {
                a.extend(s(&["--priority", priorities[r.b / 4 % 4]]));
            }
            a.extend(s(&[
                "--sort",
                ["pressing", "opened", "updated", "priority", "due"][r.c % 5],
            ]));
            match r.c / 5 % 6 {
                0 => a.extend(s(&["--sla", "breached"])),
                1 => a.extend(s(&["--sla", "at-risk"])),
                2 => a.extend(s(&["--limit", &(r.b % 5).to_string()])),
                3 => a.extend(s(&["--all"])),
                4 => a.extend(s(&["--customer", "cust1"])),
                _ => {}
            }
            if r.a % 5 == 1 {
                a.extend(s(&["--since", &at(r.b as u32)]));
            }
            if r.a % 7 == 2 {
                a.extend(s(&["--until", "2026-11-03"]));
            }
            a
        }
        2 | 3 => {
            let mut a = s(&["due", "--json"]);
            match r.a % 5 {
                0 => {}
                1 => a.extend(s(&["--within", "1h"])),
                2 => a.extend(s(&["--within", "4h"])),
                3 => a.extend(s(&["--within", "2d"])),
                _ => a.extend(s(&["--within", "1bd"])),
            }
            a
        }
        4 => {
            let mut a = s(&["review", "--json"]);
            if r.a.is_multiple_of(2) {
                a.extend(s(&["--from", "2026-11-02", "--to", "2026-11-04"]));
            }
            if r.b.is_multiple_of(3) {
                a.extend(s(&["--by", "agent"]));
            }
            a
        }
        5 => s(&["review", "--queue", "--json"]),
        6 => {
            let q = match r.a % 4 {
                0 => WORDS[r.b % WORDS.len()].to_string(),
                1 => format!("{}*", &WORDS[r.b % WORDS.len()][..3]),
                2 => format!("trouble -{}", WORDS[r.b % WORDS.len()]),
                _ => format!("\"{} trouble\"", WORDS[r.b % WORDS.len()]),
            };
            let mut a = vec!["search".to_string(), q, "--json".to_string()];
            if r.c.is_multiple_of(3) {
                a.extend(s(&["--status", statuses[r.c / 3 % 5]]));
            }
            a
        }
        _ => {
            let mut a = s(&["export"]);
            if r.a.is_multiple_of(2) {
                a.extend(s(&["--status", statuses[r.b % 5]]));
            }
            a
        }
    }
}

fn check_reads(env: &Env, dir: &Path, reads: &[Read], clock: u32) {
    for r in reads {
        let args = args_of(r);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        same(env, dir, &at(clock.saturating_sub(20) + r.hours / 4), &args);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5, ..ProptestConfig::default() })]

    #[test]
    fn index_backed_reads_equal_a_full_scan(
        steps in prop::collection::vec(step(), 6..28),
        more in prop::collection::vec(step(), 1..6),
        reads in prop::collection::vec(read(), 6..12),
    ) {
        let env = Env::new();
        let dir = env.casebook("book");
        let mut clock = 0;
        play(&env, &dir, &steps, &mut clock);
        check_reads(&env, &dir, &reads, clock);
        // More actions: the index catches up from a diff.
        let ids = play(&env, &dir, &more, &mut clock);
        let _ = ids;
        check_reads(&env, &dir, &reads, clock);
        env.run(&dir, &["verify"]).ok();
    }
}

/// A case book with a few cases in several states, the index warm.
fn book(env: &Env, name: &str) -> (PathBuf, Vec<String>) {
    let dir = env.casebook(name);
    let mut ids = Vec::new();
    for (i, w) in ["printer jam", "refund late", "login broken", "toner low"]
        .iter()
        .enumerate()
    {
        let out = env
            .cb(&dir)
            .env("CASEBOOK_NOW", at(i as u32 * 10))
            .args([
                "open",
                "--customer",
                &format!("Cust {i}"),
                "--email",
                &format!("c{i}@example.com"),
                "--subject",
                w,
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
        ids.push(String::from_utf8(out.stdout).unwrap().trim().to_string());
    }
    env.run(&dir, &["ack", &ids[0]]).ok();
    env.run(&dir, &["ack", &ids[1]]).ok();
    env.run(&dir, &["resolve", &ids[1], "--resolution", "refunded"])
        .ok();
    env.run(&dir, &["close", &ids[3], "--reason", "duplicate"])
        .ok();
    (dir, ids)
}

const READS: &[&[&str]] = &[
    &["list", "--json"],
    &["list", "--json", "--all", "--sort", "due"],
    &["list", "--json", "--status", "closed"],
    &["due", "--json"],
    &["due", "--json", "--within", "4h"],
    &["review", "--json"],
    &["review", "--queue", "--json"],
    &["search", "refund", "--json"],
    &["search", "print*", "--json"],
    &["export"],
];

fn all_same(env: &Env, dir: &Path) -> Vec<String> {
    let out = READS
        .iter()
        .map(|args| same(env, dir, crate::common::NOW, args))
        .collect();
    assert_index_at_tip(env, dir);
    out
}

/// The reads really went through the index (not a silent scan): it records the tip's
/// `cases/` tree, holds a row (with its cached body) for every case file, and no more.
fn assert_index_at_tip(env: &Env, dir: &Path) {
    let tree = env.git(dir, &["rev-parse", "HEAD:cases"]);
    let files = env.git(dir, &["ls-tree", "-r", "--name-only", "HEAD", "cases"]);
    let conn = rusqlite::Connection::open(index_dir(dir).join("index.sqlite")).unwrap();
    let recorded: String = conn
        .query_row("SELECT value FROM meta WHERE key = 'cases_tree'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(recorded, tree.trim());
    let (rows, bodies): (i64, i64) = conn
        .query_row("SELECT count(*), count(body) FROM cases", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(rows as usize, files.lines().count());
    assert_eq!(bodies, rows, "every case has its cached body");
}

#[test]
fn the_index_follows_git_reset_pull_hand_edits_and_sync_merges() {
    let env = Env::new();
    let (a, ids) = book(&env, "a");
    all_same(&env, &a);
    assert!(index_dir(&a).join("index.sqlite").exists());

    // git reset --hard HEAD~3: three actions undone behind casebook's back.
    let before_reset = all_same(&env, &a);
    env.git(&a, &["reset", "-q", "--hard", "HEAD~3"]);
    let after_reset = all_same(&env, &a);
    assert_ne!(before_reset, after_reset, "the reset changed the answers");
    let list: serde_json::Value = serde_json::from_str(&same(
        &env,
        &a,
        crate::common::NOW,
        &["list", "--json", "--all"],
    ))
    .unwrap();
    let statuses: Vec<(&str, &str)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert!(
        statuses.contains(&(ids[0].as_str(), "open")),
        "{statuses:?}"
    );
    assert!(statuses.contains(&(ids[1].as_str(), "new")), "{statuses:?}");
    assert!(statuses.contains(&(ids[3].as_str(), "new")), "{statuses:?}");

    // A hand edit committed with git: the subject changes in the file.
    let path = crate::common::case_path(&a, &ids[2]);
    let text = std::fs::read_to_string(&path).unwrap();
    // (The subject is sealed: the hand edit writes it as plain text, which reads as is.)
    let edited: String = text
        .lines()
        .map(|l| match l.starts_with("subject = ") {
            true => "subject = \"handwritten subject\"\n".to_string(),
            false => format!("{l}\n"),
        })
        .collect();
    assert_ne!(edited, text);
    std::fs::write(&path, edited).unwrap();
    env.git(&a, &["commit", "-q", "-am", "hand edit"]);
    let hits = same(
        &env,
        &a,
        crate::common::NOW,
        &["search", "handwritten", "--json"],
    );
    assert!(hits.contains(&ids[2]), "{hits}");
    all_same(&env, &a);

    // A plain git pull from a clone that did more.
    let remote = env.path("remote.git");
    env.git(
        env.tmp.path(),
        &[
            "init",
            "-q",
            "--bare",
            "-b",
            "main",
            remote.to_str().unwrap(),
        ],
    );
    env.git(&a, &["remote", "add", "origin", remote.to_str().unwrap()]);
    env.run(&a, &["sync"]).ok();
    env.run(env.tmp.path(), &["clone", remote.to_str().unwrap(), "b"])
        .ok();
    let b = env.path("b");
    all_same(&env, &b);
    let from_b = env.open(&b, "Bea", "scanner offline");
    env.run(&b, &["ack", &ids[1]]).ok();
    env.run(&b, &["sync"]).ok();
    env.git(
        &a,
        &["pull", "-q", "--no-rebase", "--no-edit", "origin", "main"],
    );
    // git pull brought b's case but not b's key for it (the key ring is not a branch):
    // its personal data reads "[sealed]" until a sync brings the key ...
    let hits = same(
        &env,
        &a,
        crate::common::NOW,
        &["search", "scanner", "--json"],
    );
    assert!(!hits.contains(&from_b), "{hits}");
    let notice = env.run(&a, &["show", &from_b]).ok().stderr;
    assert!(notice.contains("casebook sync"), "{notice}");
    // ... and then the index opens it: the key ring changed, so it is rebuilt.
    env.run(&a, &["sync"]).ok();
    let hits = same(
        &env,
        &a,
        crate::common::NOW,
        &["search", "scanner", "--json"],
    );
    assert!(hits.contains(&from_b), "{hits}");
    all_same(&env, &a);

    // A sync merge: both sides acted on the same case offline.
    env.run(&a, &["escalate", &ids[0], "--reason", "from a"])
        .ok();
    env.run(
        &b,
        &[
            "log",
            &ids[0],
            "--summary",
            "called from b",
            "--direction",
            "inbound",
        ],
    )
    .ok();
    env.run(&b, &["sync"]).ok();
    env.run(&a, &["sync"]).ok();
    let hits = same(
        &env,
        &a,
        crate::common::NOW,
        &["search", "called", "--json"],
    );
    assert!(hits.contains(&ids[0]), "{hits}");
    all_same(&env, &a);

    // A branch switch.
    env.git(&a, &["switch", "-q", "-c", "other", "HEAD~2"]);
    all_same(&env, &a);
    env.git(&a, &["switch", "-q", "main"]);
    all_same(&env, &a);
    env.run(&a, &["verify"]).ok();
}

#[test]
fn deleting_the_index_at_any_moment_changes_no_answer() {
    let env = Env::new();
    let (dir, ids) = book(&env, "book");
    let expected = all_same(&env, &dir);
    for round in 0..READS.len() {
        std::fs::remove_dir_all(index_dir(&dir)).ok();
        for (i, args) in READS.iter().enumerate().skip(round) {
            assert_eq!(same(&env, &dir, crate::common::NOW, args), expected[i]);
        }
    }
    // An unreadable database is deleted and rebuilt.
    std::fs::write(
        index_dir(&dir).join("index.sqlite"),
        b"not a database at all",
    )
    .unwrap();
    for f in ["index.sqlite-wal", "index.sqlite-shm"] {
        std::fs::remove_file(index_dir(&dir).join(f)).ok();
    }
    assert_eq!(all_same(&env, &dir), expected);
    env.run(&dir, &["verify"]).ok();
    // A folder the index cannot be written to: reads scan.
    std::fs::remove_dir_all(index_dir(&dir)).ok();
    std::fs::write(index_dir(&dir), b"a file where the folder would be").unwrap();
    let scanned: Vec<String> = READS
        .iter()
        .map(|args| same(&env, &dir, crate::common::NOW, args))
        .collect();
    assert_eq!(scanned, expected);
    std::fs::remove_file(index_dir(&dir)).unwrap();
    let _ = ids;
}

#[test]
fn verify_names_each_difference_and_reindex_rebuilds() {
    let env = Env::new();
    let (dir, ids) = book(&env, "book");
    let out = env.run(&dir, &["verify"]).ok();
    assert!(out.stderr.contains("4 case(s) verified"), "{}", out.stderr);
    assert!(
        out.stderr.contains("index equals a full scan"),
        "{}",
        out.stderr
    );

    // A hand edit of the [case] section that the events do not back, committed.
    let path = crate::common::case_path(&dir, &ids[0]);
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = text.replacen("status = \"open\"", "status = \"pending\"", 1);
    assert_ne!(edited, text);
    std::fs::write(&path, edited).unwrap();
    env.git(&dir, &["commit", "-q", "-am", "hand edit"]);
    // A case file at the wrong path, and an alias to nowhere.
    let wrong = dir.join("cases").join("ZZ");
    std::fs::create_dir_all(&wrong).unwrap();
    let other = std::fs::read_to_string(crate::common::case_path(&dir, &ids[1])).unwrap();
    std::fs::write(wrong.join("CB-ZZZZZZZZ.toml"), other).unwrap();
    std::fs::create_dir_all(dir.join("aliases")).unwrap();
    std::fs::write(dir.join("aliases").join("CB-YYYYYYYY"), "CB-XXXXXXXX\n").unwrap();
    env.git(&dir, &["add", "-A"]);
    env.git(&dir, &["commit", "-q", "-m", "more hand edits"]);
    let out = env.run(&dir, &["verify"]);
    let stdout = out.stdout();
    let err = out.fails(1);
    assert!(
        stdout.contains(&format!(
            "{}: the [case] section differs",
            crate::common::case_path(&dir, &ids[0])
                .strip_prefix(&dir)
                .unwrap()
                .display()
        )),
        "{stdout}"
    );
    // The case-file integrity check names the mismatch between [case] id and path.
    assert!(
        stdout.contains("cases/ZZ/CB-ZZZZZZZZ.toml: does not parse")
            && stdout.contains("but the file is the case file of CB-ZZZZZZZZ"),
        "{stdout}"
    );
    assert!(
        stdout.contains("aliases/CB-YYYYYYYY: names CB-XXXXXXXX, which does not exist"),
        "{stdout}"
    );
    assert!(err.contains("3 problem(s)"), "{err}");

    // reindex rebuilds from nothing.
    std::fs::remove_dir_all(index_dir(&dir)).ok();
    let out = env.run(&dir, &["reindex"]).ok();
    // The file at the wrong path is refused by the case-file integrity check, so four of
    // the five files are cases the index can hold.
    assert!(out.stderr.contains("indexed 4 case(s)"), "{}", out.stderr);
    assert!(index_dir(&dir).join("index.sqlite").exists());
}

#[test]
fn an_index_that_disagrees_with_the_files_is_named_by_verify() {
    let env = Env::new();
    let (dir, ids) = book(&env, "book");
    env.run(&dir, &["list"]).ok();
    // Tamper with the disposable index (it is never trusted blindly: verify compares).
    let db = index_dir(&dir).join("index.sqlite");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE cases SET priority = 'urgent' WHERE id = ?1",
        [&ids[2]],
    )
    .unwrap();
    drop(conn);
    let out = env.run(&dir, &["verify"]);
    let stdout = out.stdout();
    out.fails(1);
    assert!(
        stdout.contains(&format!("index: has case {}", ids[2])),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("index: lacks case {}", ids[2])),
        "{stdout}"
    );
    // reindex mends it.
    env.run(&dir, &["reindex"]).ok();
    env.run(&dir, &["verify"]).ok();
}

#[test]
fn search_finds_words_phrases_prefixes_and_leaves_out_words() {
    let env = Env::new();
    let (dir, ids) = book(&env, "book");
    env.run(
        &dir,
        &[
            "gather",
            &ids[0],
            "--question",
            "Which tray?",
            "--answer",
            "Tray 2, the roller squeaks",
        ],
    )
    .ok();
    let hits = |q: &[&str]| -> Vec<(String, String, String)> {
        let mut args = vec!["search", "--json"];
        args.extend_from_slice(q);
        env.run(&dir, &args)
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                (
                    h["case"].as_str().unwrap().to_string(),
                    h["field"].as_str().unwrap().to_string(),
                    h["snippet"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let h = hits(&["roller"]);
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].0, ids[0]);
    assert_eq!(h[0].1, "questions");
    assert!(h[0].2.contains("[roller]"), "{h:?}");
    assert_eq!(hits(&["REFUNDED"])[0].1, "resolution");
    assert_eq!(hits(&["\"roller squeaks\""]).len(), 1);
    assert_eq!(hits(&["\"squeaks roller\""]).len(), 0);
    assert_eq!(hits(&["squ*"]).len(), 1);
    assert_eq!(hits(&["jam"]).len(), 1);
    assert_eq!(hits(&["jam -tray"]).len(), 0);
    assert_eq!(hits(&["refund", "--status", "new"]).len(), 0);
    assert_eq!(hits(&["refund", "--status", "resolved"]).len(), 1);
    // Bad queries are the user's to fix, with a clear message.
    for q in ["\"unclosed", "-jam", "ja*m"] {
        let err = env.run(&dir, &["search", "--", q]).fails(1);
        assert!(err.starts_with("error: QUERY:"), "{q}: {err}");
    }
    let err = env.run(&dir, &["search", "--", "-jam"]).fails(1);
    assert!(err.contains("give at least one word"), "{err}");
}

#[test]
fn list_hides_closed_cases_and_caps_limits_sorts_and_windows() {
    let env = Env::new();
    let (dir, ids) = book(&env, "book");
    let list = |args: &[&str]| -> Vec<String> {
        let mut a = vec!["list", "--json"];
        a.extend_from_slice(args);
        let v: serde_json::Value =
            serde_json::from_str(&same(&env, &dir, crate::common::NOW, &a)).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(!list(&[]).contains(&ids[3]), "closed cases are hidden");
    assert!(list(&["--all"]).contains(&ids[3]));
    assert_eq!(list(&["--status", "closed"]), vec![ids[3].clone()]);
    assert_eq!(list(&["--limit", "2"]).len(), 2);
    let opened = list(&["--all", "--sort", "opened"]);
    assert_eq!(opened, ids.iter().rev().cloned().collect::<Vec<_>>());
    let logged = env
        .cb(&dir)
        .env("CASEBOOK_NOW", "2026-11-23T10:00:00Z")
        .args([
            "log",
            &ids[2],
            "--summary",
            "called",
            "--direction",
            "inbound",
        ])
        .output()
        .unwrap();
    assert!(logged.status.success());
    let updated = list(&["--all", "--sort", "updated"]);
    assert_eq!(updated[0], ids[2], "changed most recently");
    assert_eq!(list(&["--since", "2100-01-01"]).len(), 0);
    assert_eq!(list(&["--until", "2000-01-01"]).len(), 0);
    assert_eq!(list(&["--since", "2000-01-01", "--all"]).len(), 4);
    let err = env
        .run(&dir, &["list", "--since", "the other day"])
        .fails(1);
    assert!(
        err.contains("--since: cannot use \"the other day\" as a time"),
        "{err}"
    );
    // Times people type are read against the clock (CASEBOOK_NOW, 2026-11-23 10:00).
    assert_eq!(list(&["--until", "tomorrow", "--all"]).len(), 4);
    assert_eq!(list(&["--since", "tomorrow", "--all"]).len(), 0);
    // The cases were opened on 2026-11-02, three weeks before.
    assert_eq!(list(&["--since", "4 weeks ago", "--all"]).len(), 4);
    assert_eq!(list(&["--since", "2 weeks ago", "--all"]).len(), 0);
    // Human output on a pipe is not capped; the terminal cap is tested by its constant.
    let out = env.run(&dir, &["list", "--limit", "1"]).ok();
    assert!(
        out.stderr.contains("1 of 3 shown; 2 more"),
        "{}",
        out.stderr
    );
}

fn spawn(env: &Env, dir: &Path, script: &str) -> std::process::Child {
    let mut cmd = Command::new("bash");
    env.isolate(&mut cmd);
    cmd.current_dir(dir)
        .env("CB", env!("CARGO_BIN_EXE_casebook"))
        .args(["-c", script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn readers_and_writers_at_once_and_racing_rebuilds_give_no_error_and_no_wrong_answer() {
    let env = Env::new();
    let (dir, _) = book(&env, "book");
    // Two writers opening cases, three readers listing and searching, all at once; the
    // index is deleted now and then under them.
    let writer = "for i in $(seq 1 6); do \"$CB\" open --customer \"W$i\" --email w$i@example.com --subject \"written $i\" >/dev/null || exit 1; done";
    let reader = "last=0; for i in $(seq 1 8); do out=$(\"$CB\" list --json --all) || exit 1; n=$(printf '%s' \"$out\" | grep -c '\"id\"'); [ \"$n\" -ge \"$last\" ] || { echo \"went back from $last to $n\" >&2; exit 1; }; last=$n; \"$CB\" search written --json >/dev/null || exit 1; done";
    let deleter =
        "for i in $(seq 1 4); do sleep 0.05; rm -rf .git/casebook 2>/dev/null || true; done";
    let mut children = vec![spawn(&env, &dir, writer), spawn(&env, &dir, writer)];
    for _ in 0..3 {
        children.push(spawn(&env, &dir, reader));
    }
    children.push(spawn(&env, &dir, deleter));
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "a process failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let all = same(&env, &dir, crate::common::NOW, &["list", "--json", "--all"]);
    assert_eq!(all.matches("\"id\"").count(), 4 + 12);

    // Four processes find the index missing at once: all rebuild or wait, all agree.
    std::fs::remove_dir_all(index_dir(&dir)).ok();
    let racers: Vec<_> = (0..4)
        .map(|_| spawn(&env, &dir, "\"$CB\" list --json --all"))
        .collect();
    for r in racers {
        let out = r.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8(out.stdout).unwrap(), all);
    }
    env.run(&dir, &["verify"]).ok();
}

/// The index stores each commitment's instants once and judges them at the time of the
/// read: at every moment of a case book's life (every state of every target, a paused
/// clock, a promise kept and one missed, a reopen, a review), `due`, `list --sla` and
/// `review` from the index equal a full scan that evaluates the case files then.
#[test]
fn stored_instants_judged_at_any_now_equal_a_scan_at_that_now() {
    let env = Env::new();
    let dir = env.casebook("book");
    let run = |now: &str, args: &[&str]| {
        let out = env
            .cb(&dir)
            .env("CASEBOOK_NOW", now)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let open = |now: &str, priority: &str, subject: &str| {
        run(
            now,
            &[
                "open",
                "--customer",
                "Ada",
                "--email",
                "ada@example.com",
                "--subject",
                subject,
                "--priority",
                priority,
            ],
        )
    };
    // Mon 2026-11-02 08:00 UTC on: an urgent case that waits on the customer, gets a
    // promise, is resolved late, reopened, resolved and reviewed; a normal one that is
    // never answered; a high one acknowledged in time and resolved.
    let a = open("2026-11-02T08:00:00Z", "urgent", "printer on fire");
    let b = open("2026-11-02T08:30:00Z", "normal", "refund late");
    let c = open("2026-11-02T09:00:00Z", "high", "login broken");
    // And one left waiting on the customer: its resolution clock is paused.
    let d = open("2026-11-02T09:05:00Z", "low", "toner low");
    run(
        "2026-11-02T09:20:00Z",
        &["ack", &d, "--message", "which model?"],
    );
    run(
        "2026-11-02T09:25:00Z",
        &["pending", &d, "--reason", "model number"],
    );
    run("2026-11-02T09:10:00Z", &["ack", &c, "--message", "on it"]);
    run("2026-11-02T09:30:00Z", &["ack", &a, "--message", "looking"]);
    run(
        "2026-11-02T10:00:00Z",
        &["pending", &a, "--reason", "logs please"],
    );
    run(
        "2026-11-02T14:00:00Z",
        &[
            "log",
            &a,
            "--summary",
            "logs sent",
            "--direction",
            "inbound",
        ],
    );
    run(
        "2026-11-02T15:00:00Z",
        &[
            "update",
            &a,
            "--message",
            "a fix soon",
            "--eta",
            "2026-11-03T12:00:00Z",
        ],
    );
    run(
        "2026-11-02T16:00:00Z",
        &["resolve", &c, "--resolution", "reset"],
    );
    run(
        "2026-11-03T15:00:00Z",
        &["resolve", &a, "--resolution", "new fuser"],
    );
    run(
        "2026-11-04T09:00:00Z",
        &["reopen", &a, "--reason", "still hot"],
    );
    run(
        "2026-11-04T11:00:00Z",
        &["resolve", &a, "--resolution", "new board"],
    );
    run(
        "2026-11-05T10:00:00Z",
        &["review", &a, "--finding", "late fix"],
    );
    let reads: &[&[&str]] = &[
        &["due", "--json"],
        &["due", "--json", "--within", "1h"],
        &["due", "--json", "--within", "1bd"],
        &["list", "--json", "--all"],
        &["list", "--json", "--all", "--sla", "breached"],
        &["list", "--json", "--sla", "at-risk", "--sort", "due"],
        &[
            "review",
            "--json",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
        ],
        &[
            "review",
            "--json",
            "--by",
            "priority",
            "--from",
            "2026-11-03",
            "--to",
            "2026-11-04",
        ],
        &["review", "--queue", "--json"],
    ];
    let mut states = std::collections::BTreeSet::new();
    for hours in (0..96).step_by(5) {
        let now = (chrono::DateTime::parse_from_rfc3339("2026-11-02T08:15:00Z").unwrap()
            + chrono::Duration::minutes(hours * 60 + hours * 7))
        .with_timezone(&chrono::Utc)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
        for args in reads {
            let out = same(&env, &dir, &now, args);
            if *args == ["list", "--json", "--all"] {
                for s in ["running", "at_risk", "paused", "met", "breached"] {
                    if out.contains(&format!("\"state\": \"{s}\"")) {
                        states.insert(s);
                    }
                }
            }
        }
    }
    assert_eq!(states.len(), 5, "every state was judged: {states:?}");
    let _ = b;
    assert_index_at_tip(&env, &dir);
}
