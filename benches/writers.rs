//! Many writers at once: 8 processes × 200 actions each on one case book, in both shapes.
//! Reports actions per second, whether every successful action was kept exactly once, and
//! what the load left behind (loose objects, dangling commits, `git fsck`).
//!
//!     cargo bench --bench writers
//!     CASEBOOK_BENCH_WRITERS=4 CASEBOOK_BENCH_ACTIONS=50 cargo bench --bench writers
//!
//! Each writer is a shell loop running `casebook log` on its own case, as scripts and
//! agents at a team's terminals would.

mod common;

use std::process::{Command, Stdio};
use std::time::Instant;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run git");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn main() {
    if common::listing() {
        return;
    }
    let writers = env_number("CASEBOOK_BENCH_WRITERS", 8);
    let actions = env_number("CASEBOOK_BENCH_ACTIONS", 200);
    let tmp = common::workspace();
    let exe = env!("CARGO_BIN_EXE_casebook");
    println!("| shape | writers × actions | seconds | actions/s | kept | loose objects | dangling commits | git fsck |");
    println!("|---|---:|---:|---:|---:|---:|---:|---|");
    for bare in [false, true] {
        let name = if bare { "book.git" } else { "book" };
        let dir = tmp.path().join(name);
        let mut init = vec!["init", dir.to_str().expect("UTF-8 path")];
        if bare {
            init.push("--bare");
        }
        common::run(tmp.path(), &init, &[]);
        let ids: Vec<String> = (0..writers)
            .map(|w| {
                let out = Command::new(exe)
                    .current_dir(&dir)
                    .env("CASEBOOK_ACTOR", common::ACTOR)
                    .args([
                        "open",
                        "--customer",
                        &format!("Writer {w}"),
                        "--email",
                        &format!("w{w}@example.com"),
                        "--subject",
                        "load",
                    ])
                    .output()
                    .expect("open");
                String::from_utf8_lossy(&out.stdout).trim().to_string()
            })
            .collect();
        let started = Instant::now();
        let children: Vec<_> = ids
            .iter()
            .map(|id| {
                let script = format!(
                    "ok=0; for i in $(seq 1 {actions}); do {exe:?} log {id} --summary \"call $i\" >/dev/null 2>&1 && ok=$((ok+1)); done; echo $ok"
                );
                Command::new("bash")
                    .current_dir(&dir)
                    .env("CASEBOOK_ACTOR", common::ACTOR)
                    .args(["-c", &script])
                    .stdout(Stdio::piped())
                    .spawn()
                    .expect("spawn a writer")
            })
            .collect();
        let succeeded: usize = children
            .into_iter()
            .map(|c| {
                let out = c.wait_with_output().expect("writer");
                String::from_utf8_lossy(&out.stdout)
                    .trim()
                    .parse::<usize>()
                    .unwrap_or(0)
            })
            .sum();
        let seconds = started.elapsed().as_secs_f64();
        // Every successful action is in the history exactly once.
        let recorded = git(&dir, &["log", "--format=%s", "--grep=: log"])
            .lines()
            .count();
        let kept = if recorded == succeeded {
            format!("{succeeded}/{}", writers * actions)
        } else {
            format!("MISMATCH: {recorded} commits for {succeeded} successes")
        };
        let loose = git(&dir, &["count-objects"])
            .split_whitespace()
            .next()
            .unwrap_or("?")
            .to_string();
        let fsck = Command::new("git")
            .current_dir(&dir)
            .args(["fsck", "--no-progress", "--dangling"])
            .output()
            .expect("git fsck");
        let report = String::from_utf8_lossy(&fsck.stdout);
        let dangling = report
            .lines()
            .filter(|l| l.starts_with("dangling commit"))
            .count();
        println!(
            "| {} | {writers} × {actions} | {seconds:.1} | {:.0} | {kept} | {loose} | {dangling} | {} |",
            if bare { "store-only" } else { "working tree" },
            succeeded as f64 / seconds,
            if fsck.status.success() { "clean" } else { "ERRORS" },
        );
    }
}
