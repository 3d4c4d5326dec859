//! Whole-process import of 10k and 100k cases (CSV from the sample generator) into a new
//! case book, a no-op re-import, and an export of the result, in both shapes.
//!
//!     cargo bench --bench import
//!     CASEBOOK_BENCH_SIZES=10000 CASEBOOK_BENCH_DIR=/dev/shm cargo bench --bench import
//!
//! Targets (issue 5): 10k ≤ 1.5 s, 100k ≤ 10 s.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[allow(dead_code)]
#[path = "../examples/gen_sample.rs"]
mod gen_sample;

const ACTOR: &str = "Bench Agent <bench@example.com>";

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let sizes: Vec<usize> = std::env::var("CASEBOOK_BENCH_SIZES")
        .unwrap_or_else(|_| "10000,100000".into())
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .expect("CASEBOOK_BENCH_SIZES: comma-separated numbers")
        })
        .collect();
    let runs: usize = std::env::var("CASEBOOK_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let tmp = match std::env::var_os("CASEBOOK_BENCH_DIR") {
        Some(dir) => tempfile::tempdir_in(dir),
        None => tempfile::tempdir(),
    }
    .expect("temp dir");
    println!("| shape | cases | import | re-import (no change) | export (csv) |");
    println!("|---|---:|---:|---:|---:|");
    for bare in [true, false] {
        let shape = if bare { "store-only" } else { "working tree" };
        for &n in &sizes {
            let csv = tmp.path().join(format!("cases-{n}.csv"));
            std::fs::write(&csv, gen_sample::generate(n)).expect("write the CSV");
            let mut imports = Vec::new();
            let mut reimports = Vec::new();
            let mut exports = Vec::new();
            for r in 0..runs {
                let dir = tmp
                    .path()
                    .join(format!("{}-{n}-{r}", if bare { "bare" } else { "wt" }));
                let mut init = vec!["init", dir.to_str().unwrap()];
                if bare {
                    init.push("--bare");
                }
                run(tmp.path(), &init);
                imports.push(timed(|| run(&dir, &["import", csv.to_str().unwrap()])));
                reimports.push(timed(|| run(&dir, &["import", csv.to_str().unwrap()])));
                exports.push(timed(|| run(&dir, &["export"])));
                let _ = std::fs::remove_dir_all(&dir);
            }
            println!(
                "| {shape} | {n} | {} | {} | {} |",
                median(imports),
                median(reimports),
                median(exports)
            );
        }
    }
}

fn run(dir: &Path, args: &[&str]) {
    let status = Command::new(env!("CARGO_BIN_EXE_casebook"))
        .args(args)
        .current_dir(dir)
        .env("CASEBOOK_ACTOR", ACTOR)
        .env("CASEBOOK_NOW", "2026-11-23T09:00:00Z")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run casebook");
    assert!(
        status.success(),
        "casebook {args:?} failed in {}",
        dir.display()
    );
}

fn timed(f: impl FnOnce()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

fn median(mut v: Vec<Duration>) -> String {
    v.sort();
    format!("{:.2} s", v[v.len() / 2].as_secs_f64())
}
