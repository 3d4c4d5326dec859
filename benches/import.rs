//! Whole-process import of 10k and 100k cases (CSV from the sample generator) into a new
//! case book, a no-op re-import, and an export of the result, in both shapes.
//!
//!     cargo bench --bench import
//!     CASEBOOK_BENCH_SIZES=10000 CASEBOOK_BENCH_DIR=/dev/shm cargo bench --bench import
//!
//! Targets (issue 5): 10k ≤ 1.5 s, 100k ≤ 10 s. Peak memory (issue 11): an import of 100k
//! cases ≤ 300 MB, not growing with the book.

mod common;

use std::time::Duration;

#[allow(dead_code)]
#[path = "../examples/gen_sample.rs"]
mod gen_sample;

/// Every run at the same clock, so imports and re-imports see the same "now".
const CLOCK: &[(&str, &str)] = &[("CASEBOOK_NOW", "2026-11-23T09:00:00Z")];

fn main() {
    if common::listing() {
        return;
    }
    let sizes = common::sizes("10000,100000");
    let runs = common::runs(3);
    let tmp = common::workspace();
    println!("| shape | cases | import | peak memory | re-import (no change) | peak memory | export (csv) |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for bare in [true, false] {
        let shape = if bare { "store-only" } else { "working tree" };
        for &n in &sizes {
            let csv = tmp.path().join(format!("cases-{n}.csv"));
            std::fs::write(&csv, gen_sample::generate(n)).expect("write the CSV");
            let mut imports = Vec::new();
            let mut reimports = Vec::new();
            let (mut import_rss, mut reimport_rss) = (0u64, 0u64);
            let mut exports = Vec::new();
            for r in 0..runs {
                let dir = tmp
                    .path()
                    .join(format!("{}-{n}-{r}", if bare { "bare" } else { "wt" }));
                let mut init = vec!["init", dir.to_str().unwrap()];
                if bare {
                    init.push("--bare");
                }
                common::run(tmp.path(), &init, CLOCK);
                let import = ["import", csv.to_str().unwrap()];
                let (took, rss) = common::run_measured(&dir, &import, CLOCK);
                imports.push(took);
                import_rss = import_rss.max(rss);
                let (took, rss) = common::run_measured(&dir, &import, CLOCK);
                reimports.push(took);
                reimport_rss = reimport_rss.max(rss);
                exports.push(common::timed(|| common::run(&dir, &["export"], CLOCK)));
                let _ = std::fs::remove_dir_all(&dir);
            }
            println!(
                "| {shape} | {n} | {} | {} MB | {} | {} MB | {} |",
                median(imports),
                import_rss >> 20,
                median(reimports),
                reimport_rss >> 20,
                median(exports)
            );
        }
    }
}

fn median(mut v: Vec<Duration>) -> String {
    v.sort();
    format!("{:.2} s", v[v.len() / 2].as_secs_f64())
}
