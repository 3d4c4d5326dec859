//! Sync at scale and under contention.
//!
//! 1. A fast-forward that brings 1,000 new cases into a clone of a 10k-case book:
//!    `casebook sync` against a plain `git pull --ff-only` in a second clone of the same
//!    remote, each reset to the old tip between runs (median of 5, whole process).
//! 2. Two clones racing: each round both record an action and sync at the same moment
//!    (50 rounds); how many fetch–merge–push rounds each sync needed, and whether any gave
//!    up.
//!
//! ```text
//! cargo bench --bench sync
//! CASEBOOK_BENCH_SIZES=10000 CASEBOOK_BENCH_RUNS=5 CASEBOOK_BENCH_ROUNDS=50 cargo bench --bench sync
//! ```

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[allow(dead_code)]
#[path = "../examples/gen_sample.rs"]
mod gen_sample;

const CLOCK: &[(&str, &str)] = &[("CASEBOOK_NOW", "2026-11-23T09:00:00Z")];

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=Bench",
            "-c",
            "user.email=bench@example.com",
        ])
        .args(args)
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    if common::listing() {
        return;
    }
    let n = common::sizes("10000")[0];
    let incoming = 1000;
    let runs = common::runs(5);
    let tmp = common::workspace();
    let root = tmp.path();
    let remote = root.join("remote.git");
    git(
        root,
        &[
            "init",
            "-q",
            "--bare",
            "-b",
            "main",
            remote.to_str().unwrap(),
        ],
    );
    let a = root.join("a");
    common::run(root, &["init", a.to_str().unwrap()], CLOCK);
    git(&a, &["remote", "add", "origin", remote.to_str().unwrap()]);
    let csv = root.join("base.csv");
    std::fs::write(&csv, gen_sample::generate(n)).expect("write the CSV");
    common::run(&a, &["import", csv.to_str().unwrap()], CLOCK);
    common::run(&a, &["sync"], CLOCK);
    for clone in ["b", "c"] {
        common::run(root, &["clone", remote.to_str().unwrap(), clone], CLOCK);
    }
    let (b, c) = (root.join("b"), root.join("c"));
    let old = git(&b, &["rev-parse", "HEAD"]).trim().to_string();
    // The same rows plus `incoming` new ones: one commit with that many new case files.
    std::fs::write(&csv, gen_sample::generate(n + incoming)).expect("write the CSV");
    common::run(&a, &["import", csv.to_str().unwrap()], CLOCK);
    common::run(&a, &["sync"], CLOCK);

    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for _ in 0..runs {
        git(&b, &["reset", "-q", "--hard", &old]);
        let t = Instant::now();
        common::run(&b, &["sync"], CLOCK);
        ours.push(t.elapsed());
        assert_eq!(
            git(&b, &["status", "--porcelain"]),
            "",
            "casebook sync leaves a clean tree"
        );
        git(&c, &["reset", "-q", "--hard", &old]);
        let t = Instant::now();
        git(&c, &["pull", "-q", "--ff-only", "origin", "main"]);
        theirs.push(t.elapsed());
    }
    let (ours, theirs) = (median(ours), median(theirs));
    println!("| fast-forward of {incoming} new cases into {n} | median of {runs} |");
    println!("|---|---:|");
    println!("| `casebook sync` | {:.2} s |", ours.as_secs_f64());
    println!("| `git pull --ff-only` | {:.2} s |", theirs.as_secs_f64());
    println!(
        "| ratio | {:.2}× |",
        ours.as_secs_f64() / theirs.as_secs_f64()
    );

    // Racing syncs.
    let rounds: usize = std::env::var("CASEBOOK_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(50);
    let (d, e) = (root.join("d"), root.join("e"));
    for clone in ["d", "e"] {
        common::run(root, &["clone", remote.to_str().unwrap(), clone], CLOCK);
    }
    let exe = env!("CARGO_BIN_EXE_casebook");
    let case_of = |dir: &Path| -> String {
        let out = Command::new(exe)
            .current_dir(dir)
            .env("CASEBOOK_ACTOR", common::ACTOR)
            .args([
                "open",
                "--customer",
                "Racer",
                "--email",
                "r@example.com",
                "--subject",
                "race",
            ])
            .output()
            .expect("open");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let ids = [case_of(&d), case_of(&e)];
    let mut attempts: Vec<u64> = Vec::new();
    let mut failed = 0;
    for round in 0..rounds {
        for (dir, id) in [(&d, &ids[0]), (&e, &ids[1])] {
            common::run(
                dir,
                &["log", id, "--summary", &format!("round {round}")],
                &[],
            );
        }
        let children: Vec<_> = [&d, &e]
            .iter()
            .map(|dir| {
                Command::new(exe)
                    .current_dir(dir)
                    .env("CASEBOOK_ACTOR", common::ACTOR)
                    .args(["sync", "--json"])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("sync")
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().expect("sync");
            if !out.status.success() {
                failed += 1;
                continue;
            }
            let v: serde_json::Value =
                serde_json::from_slice(&out.stdout).expect("sync --json prints JSON");
            attempts.push(v["attempts"].as_u64().unwrap_or(0));
        }
    }
    attempts.sort_unstable();
    let total: u64 = attempts.iter().sum();
    println!();
    println!("| racing syncs: 2 clones × {rounds} rounds | |");
    println!("|---|---:|");
    println!("| syncs that gave up | {failed} |");
    println!(
        "| rounds per sync: mean / max | {:.2} / {} |",
        total as f64 / attempts.len().max(1) as f64,
        attempts.last().copied().unwrap_or(0)
    );
    println!(
        "| syncs that needed more than one round | {} |",
        attempts.iter().filter(|&&a| a > 1).count()
    );
}
