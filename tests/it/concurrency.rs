//! Several processes (not threads) opening cases in one case book at the same time.

use std::collections::HashSet;
use std::process::{Command, Stdio};

use crate::common::Env;

const PROCESSES: usize = 6;
const CASES_EACH: usize = 8;

fn run_concurrently(env: &Env, root: &std::path::Path, git_dir: &std::path::Path) {
    let script = format!(
        "for i in $(seq 1 {CASES_EACH}); do {:?} open --customer \"P$1 C$i\" --email p$1c$i@example.com --subject \"from process $1\" || exit 1; done",
        env!("CARGO_BIN_EXE_casebook")
    );
    let children: Vec<_> = (0..PROCESSES)
        .map(|p| {
            let mut cmd = Command::new("bash");
            env.isolate(&mut cmd);
            cmd.current_dir(root)
                .args(["-c", &script, "worker", &p.to_string()])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut ids = HashSet::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "a worker failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for id in String::from_utf8(out.stdout).unwrap().lines() {
            assert!(ids.insert(id.to_string()), "duplicate ID {id}");
        }
    }
    let total = PROCESSES * CASES_EACH;
    assert_eq!(ids.len(), total);

    // One commit per case, on one straight line, each touching exactly its own file.
    assert_eq!(
        env.git(git_dir, &["rev-list", "--count", "HEAD"]).trim(),
        (total + 1).to_string()
    );
    assert_eq!(
        env.git(git_dir, &["rev-list", "--min-parents=2", "HEAD"]),
        "",
        "history is linear"
    );
    let files = env.git(git_dir, &["ls-tree", "-r", "--name-only", "HEAD", "cases"]);
    assert_eq!(files.lines().count(), total);
    for id in &ids {
        assert!(files.contains(&format!("/{id}.toml")), "{id} missing");
    }
    let per_commit = env.git(
        git_dir,
        &[
            "log",
            "--format=%x00",
            "--name-only",
            "HEAD~{total}..HEAD"
                .replace("{total}", &total.to_string())
                .as_str(),
        ],
    );
    for chunk in per_commit.split('\0').skip(1) {
        assert_eq!(
            chunk.trim().lines().count(),
            1,
            "one file per commit: {chunk:?}"
        );
    }
    env.git(git_dir, &["fsck", "--strict", "--no-dangling"]);
}

#[test]
fn processes_opening_cases_at_once_in_a_working_tree_lose_nothing() {
    let env = Env::new();
    let root = env.casebook("book");
    run_concurrently(&env, &root, &root);
    assert_eq!(
        env.status_porcelain(&root),
        "",
        "working tree and index match the branch"
    );
}

#[test]
fn processes_opening_cases_at_once_in_a_bare_store_lose_nothing() {
    let env = Env::new();
    let root = env.casebook_with("store.git", &["--bare"]);
    run_concurrently(&env, &root, &root);
}
