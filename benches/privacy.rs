//! What sealing costs (issue 14): the same import, `show` and actions in a sealed case book
//! and in a plain one (`init --plain`), at named sizes, each command a whole process.
//!
//!     cargo bench --bench privacy                  # 10k and 100k cases
//!     CASEBOOK_BENCH_SIZES=10000 CASEBOOK_BENCH_RUNS=21 cargo bench --bench privacy
//!
//! Targets: one action and `show` at 100k in a sealed book within 1 ms of a plain book;
//! an import of 100k within 20% of plain. Store-only books, so the working tree's cost
//! (the same for both) does not blur the difference.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

#[allow(dead_code)]
#[path = "../examples/gen_sample.rs"]
mod gen_sample;

const CLOCK: &[(&str, &str)] = &[("CASEBOOK_NOW", "2026-11-23T09:00:00Z")];

fn main() {
    if common::listing() {
        return;
    }
    let sizes = common::sizes("10000,100000");
    let runs = common::runs(21);
    let tmp = common::workspace();
    println!("| cases | book | import | import peak memory | first read (index build) | show median | show p90 | log median | log p90 | open median | open p90 |");
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &n in &sizes {
        let csv = tmp.path().join(format!("cases-{n}.csv"));
        std::fs::write(&csv, gen_sample::generate(n)).expect("write the CSV");
        let mut medians: Vec<(&str, [Duration; 4])> = Vec::new();
        for (book, plain) in [("plain", true), ("sealed", false)] {
            let dir = tmp.path().join(format!("{book}-{n}"));
            let mut init = vec!["init", dir.to_str().unwrap(), "--bare"];
            if plain {
                init.push("--plain");
            }
            common::run(tmp.path(), &init, CLOCK);
            let (import, rss) =
                common::run_measured(&dir, &["import", csv.to_str().unwrap()], CLOCK);
            let ids = ids(&dir);
            let sample = ids[ids.len() / 2].clone();
            let first = timed(|| common::run(&dir, &["list"], CLOCK));
            let show = time_runs(runs, || common::run(&dir, &["show", &sample], CLOCK));
            let mut k = 0;
            let log = time_runs(runs, || {
                k += 1;
                let id = &ids[(k * 7919) % ids.len()];
                common::run(
                    &dir,
                    &[
                        "log",
                        id,
                        "--summary",
                        "Called back",
                        "--direction",
                        "outbound",
                    ],
                    CLOCK,
                )
            });
            let open = time_runs(runs, || {
                common::run(
                    &dir,
                    &[
                        "open",
                        "--customer",
                        "Bench Customer",
                        "--email",
                        "c@example.com",
                        "--subject",
                        "Bench",
                    ],
                    CLOCK,
                )
            });
            println!(
                "| {n} | {book} | {} | {} MB | {} | {} | {} | {} | {} | {} | {} |",
                ms(import),
                rss / (1024 * 1024),
                ms(first),
                ms(pct(&show, 50)),
                ms(pct(&show, 90)),
                ms(pct(&log, 50)),
                ms(pct(&log, 90)),
                ms(pct(&open, 50)),
                ms(pct(&open, 90)),
            );
            medians.push((
                book,
                [import, pct(&show, 50), pct(&log, 50), pct(&open, 50)],
            ));
            let _ = std::fs::remove_dir_all(&dir);
        }
        let [p, s] = [medians[0].1, medians[1].1];
        let diff = |a: Duration, b: Duration| b.as_secs_f64() * 1e3 - a.as_secs_f64() * 1e3;
        println!(
            "| {n} | sealed − plain | {:+.0}% | | | {:+.2} ms | | {:+.2} ms | | {:+.2} ms | |",
            (s[0].as_secs_f64() / p[0].as_secs_f64() - 1.0) * 100.0,
            diff(p[1], s[1]),
            diff(p[2], s[2]),
            diff(p[3], s[3]),
        );
    }
}

/// Every case ID of the book, in list order.
fn ids(dir: &Path) -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_casebook"))
        .args(["list", "--ids", "--all"])
        .current_dir(dir)
        .env("CASEBOOK_ACTOR", common::ACTOR)
        .envs(CLOCK.iter().copied())
        .output()
        .expect("run casebook");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

fn timed(f: impl FnOnce()) -> Duration {
    let started = Instant::now();
    f();
    started.elapsed()
}

fn time_runs(runs: usize, mut f: impl FnMut()) -> Vec<Duration> {
    // One run first, not counted: it warms the page cache as a user's second command would.
    f();
    let mut times: Vec<Duration> = (0..runs).map(|_| timed(&mut f)).collect();
    times.sort();
    times
}

fn pct(sorted: &[Duration], p: usize) -> Duration {
    sorted[((sorted.len() - 1) * p) / 100]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}
