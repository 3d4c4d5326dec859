//! The key ring at one key per case: a ring of 100,000 keys (or CASEBOOK_BENCH_SIZES), and
//! what `show` and one action pay for it.
//!
//!     cargo bench --bench ring                                  # 100k keys
//!     CASEBOOK_BENCH_SIZES=10000,1000000 CASEBOOK_BENCH_RUNS=200 cargo bench --bench ring
//!
//! Measured in process, through the library (a `casebook` process adds its start-up, the
//! same with or without a ring):
//! - build: one `add_keys` of every key, as an import makes them;
//! - lookup: a fresh `ring_reader` and one key looked up, as one `show` does, against the
//!   same on a book without a ring (the reader finds no ref);
//! - lookup, warm: one more key from the same reader;
//! - add one key: one `add_keys` of one key (one action's new case);
//! - erase one key: `erase_keys` of one (loose old rings: no repack);
//! - whole ring: `keyring()`, every bucket read (merge, erase --customer).
//!
//! CASEBOOK_BENCH_NO_HASH_CHECK=1 turns off libgit2's check of every object's hash on
//! reading (`git2::opts::strict_hash_verification`, on by default), to see its share.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use casebook::model::seal::{Key, Keys, Lookup};
use casebook::store::Store;
use chrono::Utc;

fn git_init(dir: &Path) {
    let out = std::process::Command::new("git")
        .args(["init", "-q", "-b", "main"])
        .arg(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git");
    assert!(out.status.success(), "git init failed");
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn show(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 10_000.0 {
        format!("{us:.0} µs")
    } else {
        format!("{:.0} ms", us / 1000.0)
    }
}

fn main() {
    if common::listing() {
        return;
    }
    let sizes = common::sizes("100000");
    let runs = common::runs(100);
    let tmp = common::workspace();
    if std::env::var_os("CASEBOOK_BENCH_NO_HASH_CHECK").is_some() {
        git2::opts::strict_hash_verification(false);
        println!("(libgit2's hash check on reading: off)");
    }

    let plain_dir = tmp.path().join("plain");
    git_init(&plain_dir);
    let plain = Store::discover(&plain_dir).expect("store");
    let probe = Key::generate("customer:probe");
    let mut no_ring = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let reader = plain.ring_reader().expect("reader");
        assert!(matches!(reader.lookup(&probe.id), Lookup::Unknown));
        no_ring.push(t.elapsed());
    }
    let no_ring = median(no_ring);

    println!("| keys | build (one add_keys) | lookup, fresh reader | same, no ring | lookup, warm | add one key | erase one key | whole ring read |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &n in &sizes {
        let dir = tmp.path().join(format!("ring-{n}"));
        git_init(&dir);
        let store = Store::discover(&dir).expect("store");
        let keys: Vec<Key> = (0..n)
            .map(|i| Key::generate(&format!("customer:{i:032x}")))
            .collect();
        let t = Instant::now();
        store.add_keys(&keys, Utc::now()).expect("add_keys");
        let build = t.elapsed();
        store.pseudonym_secret(Utc::now()).expect("secret");

        let mut cold = Vec::new();
        let mut warm = Vec::new();
        for i in 0..runs {
            let key = &keys[(i * 7919) % n];
            let t = Instant::now();
            let reader = store.ring_reader().expect("reader");
            let found = reader.lookup(&key.id);
            cold.push(t.elapsed());
            assert!(matches!(found, Lookup::Present(ref k) if k == key));
            let other = &keys[(i * 104_729 + 1) % n];
            let t = Instant::now();
            let found = reader.lookup(&other.id);
            warm.push(t.elapsed());
            assert!(matches!(found, Lookup::Present(_)));
        }

        let mut add = Vec::new();
        for _ in 0..runs {
            let key = Key::generate("customer:new");
            let t = Instant::now();
            store
                .add_keys(std::slice::from_ref(&key), Utc::now())
                .expect("add");
            add.push(t.elapsed());
        }

        let mut erase = Vec::new();
        for i in 0..runs.min(n) {
            let id = keys[(i * 31) % n].id.clone();
            let t = Instant::now();
            store
                .erase_keys(std::slice::from_ref(&id), Utc::now())
                .expect("erase");
            erase.push(t.elapsed());
        }

        let t = Instant::now();
        let whole = store.keyring().expect("ring").expect("a ring");
        let whole_time = t.elapsed();
        assert!(whole.keys().count() >= n - runs.min(n));

        println!(
            "| {n} | {} | {} | {} | {} | {} | {} | {} |",
            show(build),
            show(median(cold)),
            show(no_ring),
            show(median(warm)),
            show(median(add)),
            show(median(erase)),
            show(whole_time),
        );
    }
}
