//! What the benchmarks share: their options (sizes, runs, folder) and running casebook as a
//! whole process, as a user or script would.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Stdio};

pub const ACTOR: &str = "Bench Agent <bench@example.com>";

/// The `open` the benchmarks time: a new case, a new customer.
pub const OPEN: &[&str] = &[
    "open",
    "--customer",
    "Bench Customer",
    "--email",
    "c@example.com",
    "--subject",
    "Bench",
];

/// `cargo test --benches` lists targets with `--list`; there is nothing to run then.
pub fn listing() -> bool {
    std::env::args().any(|a| a == "--list")
}

/// CASEBOOK_BENCH_SIZES: comma-separated case counts.
pub fn sizes(default: &str) -> Vec<usize> {
    std::env::var("CASEBOOK_BENCH_SIZES")
        .unwrap_or_else(|_| default.into())
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .expect("CASEBOOK_BENCH_SIZES: comma-separated numbers")
        })
        .collect()
}

/// CASEBOOK_BENCH_RUNS: how often each measurement is repeated.
pub fn runs(default: usize) -> usize {
    std::env::var("CASEBOOK_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(default)
}

/// Where the repositories live: the default temp folder, or CASEBOOK_BENCH_DIR (e.g.
/// /dev/shm to take the disk's file-creation cost out of the figures).
pub fn workspace() -> tempfile::TempDir {
    match std::env::var_os("CASEBOOK_BENCH_DIR") {
        Some(dir) => tempfile::tempdir_in(dir),
        None => tempfile::tempdir(),
    }
    .expect("temp dir")
}

/// Runs the casebook binary in `dir`; panics if it fails.
pub fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) {
    run_measured(dir, args, env);
}

/// Like [`run`], and returns the wall time and the process's peak resident memory (bytes),
/// as the kernel accounts it (`wait4`'s `ru_maxrss`).
pub fn run_measured(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (std::time::Duration, u64) {
    let started = std::time::Instant::now();
    // Reaped by `wait4` below, which std's `wait` cannot replace: it gives the rusage.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(env!("CARGO_BIN_EXE_casebook"))
        .args(args)
        .current_dir(dir)
        .env("CASEBOOK_ACTOR", ACTOR)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run casebook");
    let pid = libc::pid_t::try_from(child.id()).expect("a pid");
    let mut status = 0;
    // SAFETY: rusage is plain data, and the child is ours and not yet waited for.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = started.elapsed();
    assert_eq!(waited, pid, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "casebook {args:?} failed in {}",
        dir.display()
    );
    // Linux reports ru_maxrss in KiB.
    (elapsed, u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024)
}

/// How long `f` takes.
pub fn timed(f: impl FnOnce()) -> std::time::Duration {
    let started = std::time::Instant::now();
    f();
    started.elapsed()
}

/// Waits until the system has written to disk what is still only in memory (`sync`). A
/// book just imported or indexed leaves tens of MB for the kernel to write back, which it
/// does over the next seconds while the timed commands run: on this VM's disk that made
/// every write of them several milliseconds slower (an `open` at 10k took 22 ms instead of
/// 12 in a book just copied, until a `sync`). A working session finds its book written.
pub fn settle() {
    // SAFETY: sync(2) takes no arguments and cannot fail.
    unsafe { libc::sync() };
}

/// `runs` timings of `f`, sorted, after [`settle`] and one run not counted: it warms the
/// page cache as a second command in a working session would find it.
pub fn time_runs(runs: usize, mut f: impl FnMut()) -> Vec<std::time::Duration> {
    settle();
    f();
    let mut times: Vec<std::time::Duration> = (0..runs).map(|_| timed(&mut f)).collect();
    times.sort();
    times
}

/// The `p`th percentile of sorted timings.
pub fn pct(sorted: &[std::time::Duration], p: usize) -> std::time::Duration {
    sorted[(sorted.len() - 1) * p / 100]
}
