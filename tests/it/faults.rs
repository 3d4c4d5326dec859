//! Fault injection: real `casebook` processes killed at named points of a transaction
//! (`CASEBOOK_FAULT`), at random moments, with the index held by another git process, and
//! with stale locks. After each, the next command must find the case book whole: the tip,
//! the index and the files agree, `git fsck` is clean, no successful action is lost, no case
//! is stuck, and an import is all-or-nothing.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{case_path, Env};

#[derive(Debug, Clone, Copy)]
enum Shape {
    Worktree,
    Bare,
}

fn book(env: &Env, shape: Shape) -> PathBuf {
    match shape {
        Shape::Worktree => env.casebook("book"),
        Shape::Bare => env.casebook_with("book.git", &["--bare"]),
    }
}

/// Runs casebook with a fault point; returns its exit status.
fn run_with_fault(env: &Env, root: &Path, fault: &str, args: &[&str]) -> std::process::ExitStatus {
    env.cb(root)
        .env("CASEBOOK_FAULT", fault)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run casebook")
}

fn events(env: &Env, root: &Path, id: &str) -> usize {
    env.run(root, &["show", id, "--json"]).json()["events"]
        .as_array()
        .unwrap()
        .len()
}

/// Everything a person could notice is in order.
fn assert_whole(env: &Env, root: &Path, shape: Shape, context: &str) {
    // The next command works (and heals whatever was left).
    env.run(root, &["list", "--json"]).ok();
    let fsck = {
        let mut cmd = Command::new("git");
        env.isolate(&mut cmd);
        cmd.current_dir(root)
            .args(["fsck", "--no-progress"])
            .output()
            .unwrap()
    };
    assert!(
        fsck.status.success(),
        "{context}: git fsck: {}",
        String::from_utf8_lossy(&fsck.stderr)
    );
    if let Shape::Worktree = shape {
        assert_eq!(
            env.status_porcelain(root),
            "",
            "{context}: git status is clean"
        );
        let tmp = root.join(".git/casebook-tmp");
        let left = std::fs::read_dir(&tmp).map(|d| d.count()).unwrap_or(0);
        assert_eq!(left, 0, "{context}: temporary files were cleared");
    }
}

const TX_POINTS: [&str; 7] = [
    "after-objects",
    "after-journal",
    "after-ref",
    "after-file",
    "after-files",
    "index-locked",
    "after-index",
];

#[test]
fn a_kill_at_any_point_of_an_action_leaves_a_whole_book() {
    for shape in [Shape::Worktree, Shape::Bare] {
        for point in TX_POINTS {
            let env = Env::new();
            let root = book(&env, shape);
            let id = env.open(&root, "Ada Lovelace", "printer");
            let before = events(&env, &root, &id);
            let status = run_with_fault(&env, &root, point, &["log", &id, "--summary", "called"]);
            let context = format!("{shape:?} killed at {point}");
            let killed = status.signal() == Some(9);
            // Bare books have no working-tree phase: those points never fire.
            let fires = matches!(shape, Shape::Worktree)
                || matches!(point, "after-objects" | "after-journal" | "after-ref");
            assert_eq!(killed, fires, "{context}: {status:?}");
            assert_whole(&env, &root, shape, &context);
            let after = events(&env, &root, &id);
            let committed = !killed || point != "after-objects" && point != "after-journal";
            assert_eq!(after, before + usize::from(committed), "{context}");
            // No case is stuck: the next action on it works, and its file is the tip's.
            env.run(&root, &["log", &id, "--summary", "called again"])
                .ok();
            assert_eq!(events(&env, &root, &id), after + 1, "{context}");
            assert_whole(&env, &root, shape, &context);
            if let Shape::Worktree = shape {
                let on_disk = std::fs::read_to_string(case_path(&root, &id)).unwrap();
                let committed = env.git(&root, &["show", &format!("HEAD:{}", case_rel(&id))]);
                assert_eq!(on_disk, committed, "{context}");
            }
        }
    }
}

fn case_rel(id: &str) -> String {
    let random = id.split_once('-').unwrap().1;
    format!("cases/{}/{id}.toml", &random[..2])
}

#[test]
fn a_kill_while_finishing_an_interrupted_update_is_finished_by_the_next_command() {
    let env = Env::new();
    let root = book(&env, Shape::Worktree);
    let id = env.open(&root, "Ada Lovelace", "printer");
    let status = run_with_fault(&env, &root, "after-ref", &["log", &id, "--summary", "one"]);
    assert_eq!(status.signal(), Some(9));
    // The read that heals is itself killed halfway.
    let status = run_with_fault(&env, &root, "heal-mid", &["list"]);
    assert_eq!(status.signal(), Some(9));
    assert_whole(&env, &root, Shape::Worktree, "killed while healing");
    assert_eq!(events(&env, &root, &id), 2);
}

#[test]
fn a_kill_during_an_import_leaves_it_all_or_nothing() {
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/cases.csv");
    for shape in [Shape::Worktree, Shape::Bare] {
        for point in [
            "after-objects",
            "after-ref",
            "after-file",
            "mid-files",
            "after-files",
            "index-locked",
            "after-index",
        ] {
            let env = Env::new();
            let root = book(&env, shape);
            let status = run_with_fault(&env, &root, point, &["import", sample]);
            let context = format!("{shape:?} import killed at {point}");
            assert_whole(&env, &root, shape, &context);
            let cases = env.run(&root, &["list", "--json"]).json();
            let count = cases.as_array().unwrap().len();
            let committed = !(status.signal() == Some(9) && point == "after-objects");
            assert_eq!(count, if committed { 300 } else { 0 }, "{context}");
            if let Shape::Worktree = shape {
                let files = env.git(&root, &["ls-files", "cases"]).lines().count();
                assert_eq!(files, count, "{context}: every case is in the index");
                let staged = env.git(&root, &["diff", "--cached", "--name-only"]);
                assert_eq!(staged, "", "{context}: nothing staged");
            }
            // Importing again changes nothing, or imports everything once.
            let report = env.run(&root, &["import", sample, "--json"]).json();
            let created = report["created"].as_array().unwrap().len();
            assert_eq!(created, if committed { 0 } else { 300 }, "{context}");
            assert_whole(&env, &root, shape, &context);
        }
    }
}

#[test]
fn kills_at_random_moments_never_leave_a_case_stuck() {
    let env = Env::new();
    let root = book(&env, Shape::Worktree);
    let id = env.open(&root, "Ada Lovelace", "printer");
    // Kill anywhere in the life of an action, however fast this machine runs one: delays
    // up to 1.2× the time a whole action takes here.
    let started = Instant::now();
    env.run(&root, &["log", &id, "--summary", "timing"]).ok();
    let span = (started.elapsed().as_micros() as u64 * 6 / 5).max(1);
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut succeeded = 0;
    for round in 0..24 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = Duration::from_micros(seed % span);
        let summary = format!("call {round}");
        let mut child = env
            .cb(&root)
            .args(["log", &id, "--summary", &summary])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let status = child.wait().unwrap();
        if status.success() {
            succeeded += 1;
        }
        let context = format!("round {round}, killed after {delay:?}");
        assert_whole(&env, &root, Shape::Worktree, &context);
        // Every action that printed success is there.
        let shown = env.run(&root, &["show", &id, "--json"]).json();
        let summaries: Vec<&str> = shown["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["summary"].as_str())
            .collect();
        if status.success() {
            assert!(summaries.contains(&summary.as_str()), "{context}");
        }
    }
    // The schedule spans the whole life of an action, so some finished and some did not.
    eprintln!("random kills: {succeeded} of 24 actions finished before the kill; the others were killed, and the book was whole after each");
    assert!(succeeded < 24, "some kills landed inside the action");
    env.run(&root, &["log", &id, "--summary", "after all that"])
        .ok();
}

#[test]
fn sigterm_inside_the_critical_section_waits_and_the_action_reports_success() {
    let env = Env::new();
    let root = book(&env, Shape::Worktree);
    let id = env.open(&root, "Ada Lovelace", "printer");
    let out = env
        .cb(&root)
        .env("CASEBOOK_FAULT", "term@after-ref")
        .args(["log", &id, "--summary", "x"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The change is recorded, so the action reports it and exits 0: a script that saw a
    // failure would repeat it (an erasure's retry fails, an import's adds nothing).
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert!(
        stderr.contains(&format!("{id}: log recorded")),
        "the action's usual report: {stderr}"
    );
    assert!(
        stderr.contains("SIGTERM came after the change was recorded"),
        "{stderr}"
    );
    // Consistent without any healing: no pending update is left.
    let journal = std::fs::read_to_string(root.join(".git/casebook.journal")).unwrap();
    assert!(!journal.contains("pending"), "{journal}");
    assert_eq!(env.status_porcelain(&root), "");
    assert_eq!(events(&env, &root, &id), 2);
}

#[test]
fn sigterm_before_the_commit_aborts_with_nothing_recorded() {
    let env = Env::new();
    let root = book(&env, Shape::Worktree);
    let id = env.open(&root, "Ada Lovelace", "printer");
    let commits = env.commit_count(&root);
    let status = run_with_fault(
        &env,
        &root,
        "term@after-objects",
        &["log", &id, "--summary", "x"],
    );
    assert_eq!(status.signal(), Some(15));
    assert_eq!(env.commit_count(&root), commits);
    assert_whole(&env, &root, Shape::Worktree, "terminated before the commit");
}

#[test]
fn an_index_held_after_the_commit_defers_the_update_and_still_succeeds() {
    let env = Env::new();
    let root = book(&env, Shape::Worktree);
    let id = env.open(&root, "Ada Lovelace", "printer");
    let out = env
        .cb(&root)
        .env("CASEBOOK_FAULT", "hold-index@after-ref")
        .args(["log", &id, "--summary", "recorded"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "a committed action exits 0: {stderr}");
    assert!(
        stderr.contains("catches up at the next casebook command"),
        "{stderr}"
    );
    // The other git process finishes.
    std::fs::remove_file(root.join(".git/index.lock")).unwrap();
    // A retry of the "failed" action is not needed: it is there once.
    assert_eq!(events(&env, &root, &id), 2);
    assert_whole(&env, &root, Shape::Worktree, "after the index was released");
    env.run(&root, &["log", &id, "--summary", "next"]).ok();
    assert_eq!(events(&env, &root, &id), 3);
}

/// While the index waits (held by another program), it still has the case file as it was
/// before the action: a `git commit` of something else made then records that, and so
/// undoes the action at the tip. The next casebook command puts it back in a commit of its
/// own instead of writing the undone file over the only copy left on disk.
#[test]
fn a_git_commit_from_the_stale_index_does_not_undo_an_action() {
    let env = Env::new();
    let root = book(&env, Shape::Worktree);
    let id = env.open(&root, "Ada Lovelace", "printer");
    let path = case_path(&root, &id);
    let rel = path
        .strip_prefix(&root)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let out = env
        .cb(&root)
        .env("CASEBOOK_FAULT", "hold-index@after-ref")
        .args(["log", &id, "--summary", "recorded"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_file(root.join(".git/index.lock")).unwrap();
    // A team lead commits a note of their own before any casebook command runs.
    std::fs::write(root.join("notes.txt"), "call back on Friday\n").unwrap();
    env.git(&root, &["add", "notes.txt"]);
    env.git(&root, &["commit", "-q", "-m", "notes"]);
    let at_tip = env.git(&root, &["show", &format!("HEAD:{rel}")]);
    assert_eq!(
        at_tip.matches("[[event]]").count(),
        1,
        "the stale commit undid it"
    );

    let listed = env.run(&root, &["list"]).ok();
    assert!(
        listed.stderr.contains("stale git index"),
        "{}",
        listed.stderr
    );
    assert_eq!(events(&env, &root, &id), 2, "the logged call is back");
    let at_tip = env.git(&root, &["show", &format!("HEAD:{rel}")]);
    assert_eq!(at_tip.matches("[[event]]").count(), 2);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), at_tip);
    let head = env.git(&root, &["log", "-1", "--format=%s%n%b"]);
    assert!(
        head.starts_with(&format!("casebook: restore {id} undone by")),
        "{head}"
    );
    assert!(head.contains(&format!("Case-Id: {id}")), "{head}");
    assert_eq!(
        env.git(&root, &["show", "HEAD:notes.txt"]),
        "call back on Friday\n"
    );
    assert_whole(&env, &root, Shape::Worktree, "after the restore");
    // Nothing more to restore: the next command commits nothing.
    let commits = env.commit_count(&root);
    env.run(&root, &["list"]).ok();
    assert_eq!(env.commit_count(&root), commits);
}

#[test]
fn a_git_status_loop_never_leaves_a_case_stuck() {
    let env = Env::new();
    let root = book(&env, Shape::Worktree);
    let id = env.open(&root, "Ada Lovelace", "printer");
    let stop = root.join(".stop-status-loop");
    let script = format!(
        "while [ ! -e {stop:?} ]; do git status --porcelain >/dev/null 2>&1; sleep 0.005; done"
    );
    let mut looper = {
        let mut cmd = Command::new("bash");
        env.isolate(&mut cmd);
        cmd.current_dir(&root)
            .args(["-c", &script])
            .spawn()
            .unwrap()
    };
    let mut ok = 0;
    for i in 0..40 {
        let run = env.run(&root, &["log", &id, "--summary", &format!("call {i}")]);
        match run.code() {
            0 => ok += 1,
            3 => {} // refused before anything was written
            other => panic!("exit {other}: {}", run.stderr()),
        }
    }
    std::fs::write(&stop, "").unwrap();
    looper.wait().unwrap();
    std::fs::remove_file(&stop).unwrap();
    assert_whole(&env, &root, Shape::Worktree, "after the git status loop");
    assert_eq!(
        events(&env, &root, &id),
        1 + ok,
        "every successful action once"
    );
}

#[test]
fn stale_locks_are_reported_at_once_with_nothing_written() {
    for lock in ["refs/heads/main.lock", "index.lock"] {
        let env = Env::new();
        let root = book(&env, Shape::Worktree);
        let id = env.open(&root, "Ada Lovelace", "printer");
        let path = root.join(".git").join(lock);
        std::fs::write(&path, "").unwrap();
        let commits = env.commit_count(&root);
        let objects = env.git(&root, &["count-objects"]);
        let started = Instant::now();
        let err = env.run(&root, &["log", &id, "--summary", "x"]).fails(3);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{lock}: reported at once"
        );
        assert!(err.contains(lock), "{lock}: names the lock: {err}");
        assert!(err.contains("another git process"), "{err}");
        assert!(
            err.contains("hint: if no git process is running, remove the lock"),
            "{err}"
        );
        assert_eq!(
            env.commit_count(&root),
            commits,
            "{lock}: nothing committed"
        );
        assert_eq!(
            env.git(&root, &["count-objects"]),
            objects,
            "{lock}: no objects"
        );
        std::fs::remove_file(&path).unwrap();
        env.run(&root, &["log", &id, "--summary", "x"]).ok();
        assert_whole(&env, &root, Shape::Worktree, lock);
    }
}

#[test]
fn a_hand_edit_hint_never_drops_a_committed_event() {
    let env = Env::new();
    let root = book(&env, Shape::Worktree);
    let id = env.open(&root, "Ada Lovelace", "printer");
    let file = case_path(&root, &id);
    let stale = std::fs::read_to_string(&file).unwrap();
    env.run(&root, &["log", &id, "--summary", "recorded"]).ok();
    // Someone puts back an older copy of the file (an editor's buffer, a backup).
    std::fs::write(&file, stale.replace("printer", "printer (edited)")).unwrap();
    let objects = env.git(&root, &["count-objects"]);
    let err = env.run(&root, &["log", &id, "--summary", "x"]).fails(3);
    assert_eq!(
        env.git(&root, &["count-objects"]),
        objects,
        "refused before writing objects"
    );
    assert!(err.contains("lacks 1 recorded event"), "{err}");
    assert!(
        !err.contains("git commit"),
        "never suggest committing it: {err}"
    );
    assert!(err.contains("git checkout HEAD --"), "{err}");
    // Following the hint keeps every event.
    env.git(&root, &["checkout", "HEAD", "--", &case_rel(&id)]);
    env.run(&root, &["log", &id, "--summary", "x"]).ok();
    assert_eq!(events(&env, &root, &id), 3);
}

/// An import killed while its pack is still a temporary file leaves that file in
/// `objects/pack/` (the process cannot remove it); a later command removes it once it is
/// older than any live writer could leave it, and never a fresh one.
#[test]
fn a_temporary_pack_left_by_a_killed_import_is_removed_by_a_later_command() {
    let env = Env::new();
    let root = env.casebook("book");
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/cases.csv");
    let before = env.commit_count(&root);
    let status = run_with_fault(&env, &root, "mid-pack", &["import", sample]);
    assert!(!status.success(), "killed at the fault point");
    let packs = root.join(".git/objects/pack");
    let temporary = |dir: &Path| -> Vec<std::path::PathBuf> {
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("tmp_"))
            .collect()
    };
    let left = temporary(&packs);
    assert_eq!(left.len(), 1, "{left:?}");
    // A live writer's (its name gives the process number of one that runs: this test's)
    // stays while it is fresh, and goes once it is an hour old.
    let live = packs.join(format!("tmp_pack_casebook_{}_AbCdEf", std::process::id()));
    std::fs::write(&live, b"PACK").unwrap();
    // The killed import's goes at the next command.
    env.run(&root, &["list"]).ok();
    assert_eq!(temporary(&packs), vec![live.clone()]);
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&live)
        .unwrap()
        .set_modified(old)
        .unwrap();
    env.run(&root, &["list"]).ok();
    assert!(temporary(&packs).is_empty(), "{:?}", temporary(&packs));
    assert_eq!(env.commit_count(&root), before, "nothing was recorded");
    // The import, run again, records everything.
    env.run(&root, &["import", sample]).ok();
    assert_eq!(env.commit_count(&root), before + 1);
    env.git(&root, &["fsck", "--no-progress"]);
}
