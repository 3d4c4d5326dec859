//! What sealing costs (issue 14): the same import, `show` and actions in a sealed case book
//! and in a plain one (`init --plain`), at named sizes, each command a whole process.
//!
//!     cargo bench --bench privacy                  # 10k and 100k cases
//!     CASEBOOK_BENCH_SIZES=10000 CASEBOOK_BENCH_RUNS=21 cargo bench --bench privacy
//!
//! Targets: one action and `show` at 100k in a sealed book within 1 ms of a plain book;
//! an import of 100k within 20% of plain. Store-only books, so the working tree's cost
//! (the same for both) does not blur the difference.
//!
//! The two books take turns, run by run (and the imports too: CASEBOOK_BENCH_IMPORTS
//! rounds of plain then sealed, 3 by default), so a slow spell of a shared machine lands
//! on both; "paired" is the median of the differences (for the import, of the ratios)
//! between neighbouring runs, steadier than the difference of two medians. Background
//! `git gc --auto` is off in both books.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

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
        let books = [("plain", true), ("sealed", false)];
        // Each book imported in rounds, by turns (plain, sealed, plain, sealed ...): the
        // fastest of its imports counts, and each round's ratio goes into the paired one.
        let rounds: usize = std::env::var("CASEBOOK_BENCH_IMPORTS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(3);
        let mut imports = [(Duration::MAX, 0u64); 2];
        let mut ratios: Vec<f64> = Vec::new();
        for _ in 0..rounds.max(1) {
            let mut round = [Duration::ZERO; 2];
            for (b, (book, plain)) in books.iter().enumerate() {
                let dir = tmp.path().join(format!("{book}-{n}"));
                let _ = std::fs::remove_dir_all(&dir);
                let mut init = vec!["init", dir.to_str().unwrap(), "--bare"];
                if *plain {
                    init.push("--plain");
                }
                common::run(tmp.path(), &init, CLOCK);
                // Background `git gc --auto` would land on one book's runs, not the other's.
                git_config(&dir, "gc.auto", "0");
                // The book imported before is written back first, not during this import.
                common::settle();
                let (took, rss) =
                    common::run_measured(&dir, &["import", csv.to_str().unwrap()], CLOCK);
                round[b] = took;
                if took < imports[b].0 {
                    imports[b] = (took, rss);
                }
            }
            ratios.push(round[1].as_secs_f64() / round[0].as_secs_f64());
        }
        ratios.sort_by(f64::total_cmp);
        let paired_import = (ratios[ratios.len() / 2] - 1.0) * 100.0;
        let dirs: Vec<_> = books
            .iter()
            .map(|(book, _)| tmp.path().join(format!("{book}-{n}")))
            .collect();
        let firsts: Vec<Duration> = dirs
            .iter()
            .map(|d| common::timed(|| common::run(d, &["list"], CLOCK)))
            .collect();
        let book_ids = [ids(&dirs[0]), ids(&dirs[1])];
        let sample = book_ids.clone().map(|i| i[i.len() / 2].clone());
        let show = by_turns(&dirs, runs, |b, _| vec!["show".into(), sample[b].clone()]);
        let log = by_turns(&dirs, runs, |b, k| {
            let id = book_ids[b][(k * 7919) % book_ids[b].len()].clone();
            [
                "log",
                &id,
                "--summary",
                "Called back",
                "--direction",
                "outbound",
            ]
            .map(String::from)
            .to_vec()
        });
        let open = by_turns(&dirs, runs, |_, _| {
            common::OPEN.iter().map(|a| a.to_string()).collect()
        });
        for (b, (book, _)) in books.iter().enumerate() {
            println!(
                "| {n} | {book} | {} | {} MB | {} | {} | {} | {} | {} | {} | {} |",
                ms(imports[b].0),
                imports[b].1 / (1024 * 1024),
                ms(firsts[b]),
                ms(common::pct(&show.times[b], 50)),
                ms(common::pct(&show.times[b], 90)),
                ms(common::pct(&log.times[b], 50)),
                ms(common::pct(&log.times[b], 90)),
                ms(common::pct(&open.times[b], 50)),
                ms(common::pct(&open.times[b], 90)),
            );
        }
        println!(
            "| {n} | sealed − plain | {:+.0}% (paired {:+.0}%) | | | {:+.2} ms (paired {:+.2}) | | {:+.2} ms (paired {:+.2}) | | {:+.2} ms (paired {:+.2}) | |",
            (imports[1].0.as_secs_f64() / imports[0].0.as_secs_f64() - 1.0) * 100.0,
            paired_import,
            show.median_gap(),
            show.paired,
            log.median_gap(),
            log.paired,
            open.median_gap(),
            open.paired,
        );
        for dir in &dirs {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Timings of the same command in the plain and the sealed book, run by turns.
struct Turns {
    /// Per book, sorted.
    times: [Vec<Duration>; 2],
    /// The median of (sealed − plain) over each pair of neighbouring runs, in ms.
    paired: f64,
}

impl Turns {
    /// Sealed median minus plain median, in ms.
    fn median_gap(&self) -> f64 {
        let m = |t: &[Duration]| common::pct(t, 50).as_secs_f64() * 1e3;
        m(&self.times[1]) - m(&self.times[0])
    }
}

/// `runs` timings of `args(book, k)` in each of `dirs` (plain, sealed), by turns, after
/// [`common::settle`] and one run of each not counted (it warms the page cache as a
/// working session would find it).
fn by_turns(
    dirs: &[std::path::PathBuf],
    runs: usize,
    args: impl Fn(usize, usize) -> Vec<String>,
) -> Turns {
    let time = |b: usize, k: usize| {
        let a = args(b, k);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        common::timed(|| common::run(&dirs[b], &a, CLOCK))
    };
    common::settle();
    time(0, 0);
    time(1, 0);
    let mut times = [Vec::new(), Vec::new()];
    let mut gaps = Vec::new();
    for k in 1..=runs {
        // Which book goes first alternates too.
        let order = if k % 2 == 0 { [0, 1] } else { [1, 0] };
        let mut pair = [Duration::ZERO; 2];
        for b in order {
            pair[b] = time(b, k);
            times[b].push(pair[b]);
        }
        gaps.push(pair[1].as_secs_f64() * 1e3 - pair[0].as_secs_f64() * 1e3);
    }
    for t in &mut times {
        t.sort();
    }
    gaps.sort_by(f64::total_cmp);
    Turns {
        times,
        paired: gaps[gaps.len() / 2],
    }
}

fn git_config(dir: &Path, key: &str, value: &str) {
    let out = Command::new("git")
        .args(["config", key, value])
        .current_dir(dir)
        .output()
        .expect("run git");
    assert!(out.status.success(), "git config {key} failed");
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

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}
