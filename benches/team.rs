//! Working as a team at named sizes: a bulk action on 1,000 cases (one commit) and the
//! personal queue (`list --mine`, `due --mine`), each a whole `casebook` process.
//!
//!     cargo bench --bench team                          # 10k and 100k cases
//!     CASEBOOK_BENCH_SIZES=100000 CASEBOOK_BENCH_RUNS=5 cargo bench --bench team
//!
//! The case book is built with the packed bulk writer: every case acknowledged, one in ten
//! owned by the acting agent (the rest by four others or nobody), so `--mine` selects a
//! tenth of the book as a real personal queue would. Each bulk run takes 1,000 cases nobody
//! owns, read from standard input as `list --ids` prints them; the run checks that it made
//! exactly one commit.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use casebook::model::event::CustomerFields;
use casebook::model::payload;
use casebook::model::{Action, Actor, CaseFile, CaseId, Event, Priority};
use casebook::ops::{Casebook, Context, InitOptions};
use casebook::store::Change;
use chrono::{TimeZone, Utc};

use common::ACTOR;

const OTHERS: [&str; 4] = [
    "Ann Other <ann@example.com>",
    "Ben Other <ben@example.com>",
    "Cat Other <cat@example.com>",
    "Dan Other <dan@example.com>",
];

fn main() {
    if common::listing() {
        return;
    }
    let sizes = common::sizes("10000,100000");
    let runs = common::runs(5);
    let tmp = common::workspace();
    println!("| cases | build | take 1,000 (one commit) median | max | list --mine median | due --mine median | list (all open) median |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for &n in &sizes {
        let dir = tmp.path().join(format!("book-{n}"));
        let started = Instant::now();
        let unowned = build(&dir, n);
        let build_time = started.elapsed();
        // The first read brings the index up to date; measure what a working session sees.
        common::run(&dir, &["list", "--ids"], &[]);
        let mut chunks = unowned.chunks(1000);
        let mut take = Vec::new();
        for _ in 0..runs {
            let Some(chunk) = chunks.next() else { break };
            let before = commits(&dir);
            let input = chunk.join("\n") + "\n";
            let t = Instant::now();
            casebook_stdin(&dir, &["take", "-"], &input);
            take.push(t.elapsed());
            assert_eq!(commits(&dir), before + 1, "a bulk action is one commit");
        }
        take.sort();
        let mine = common::time_runs(runs, || {
            common::run(&dir, &["list", "--mine", "--ids"], &[])
        });
        let due = common::time_runs(runs, || {
            common::run(&dir, &["due", "--mine", "--json"], &[])
        });
        let all = common::time_runs(runs, || common::run(&dir, &["list", "--ids"], &[]));
        println!(
            "| {n} | {:.1} s | {} | {} | {} | {} | {} |",
            build_time.as_secs_f64(),
            ms(take[take.len() / 2]),
            ms(*take.last().expect("at least one run")),
            ms(mine[mine.len() / 2]),
            ms(due[due.len() / 2]),
            ms(all[all.len() / 2]),
        );
    }
}

/// A case book of `n` acknowledged cases; returns the IDs of those nobody owns.
fn build(dir: &Path, n: usize) -> Vec<String> {
    let actor = Actor::parse(ACTOR).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap();
    let ctx = Context {
        actor: actor.clone(),
        now,
        worked_minutes: None,
    };
    let (cb, _) = Casebook::init(
        dir,
        &InitOptions {
            bare: true,
            ..Default::default()
        },
        &ctx,
    )
    .expect("init");
    let mut files = Vec::with_capacity(n);
    let mut unowned = Vec::new();
    let mut seen = std::collections::HashSet::new();
    while files.len() < n {
        let id = CaseId::generate("CB");
        if !seen.insert(id.clone()) {
            continue;
        }
        let i = files.len();
        let opened = now - chrono::Duration::minutes(i as i64);
        let mut open = Event::new(Action::Open, opened, ACTOR);
        open.get_mut::<payload::Open>().unwrap().subject =
            Some(format!("Case number {i}: the printer does something odd").into());
        open.get_mut::<payload::Open>().unwrap().priority =
            Some(Priority::from_stored(Priority::KNOWN[i % 4]));
        open.customer = Some(CustomerFields {
            name: Some(format!("Customer {i}").into()),
            email: Some(format!("customer{i}@example.com").into()),
            ..Default::default()
        });
        let mut file = CaseFile::create(id.clone(), open).expect("case");
        let mut ack = Event::new(
            Action::Acknowledge,
            opened + chrono::Duration::minutes(20),
            ACTOR,
        );
        *ack.payload.direction_mut().unwrap() = Some("outbound".into());
        file.append(ack).expect("event");
        let owner = match i % 10 {
            0 => Some(ACTOR),
            1..=4 => Some(OTHERS[i % 4]),
            _ => None,
        };
        match owner {
            Some(o) => {
                let mut e = Event::new(
                    Action::Assign,
                    opened + chrono::Duration::minutes(30),
                    ACTOR,
                );
                e.get_mut::<payload::Assign>().unwrap().to = Some(o.to_string());
                file.append(e).expect("event");
            }
            None => unowned.push(id.to_string()),
        }
        files.push((id.path(), file.to_toml().into_bytes()));
    }
    cb.store()
        .transact(&actor, now, |_| {
            Ok::<_, casebook::store::StoreError>((
                Change::with_files(format!("bench: {n} cases"), files.clone()).packed(),
                (),
            ))
        })
        .expect("bulk commit");
    unowned
}

fn casebook_stdin(dir: &Path, args: &[&str], input: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_casebook"))
        .args(args)
        .current_dir(dir)
        .env("CASEBOOK_ACTOR", ACTOR)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run casebook");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write IDs");
    assert!(
        child.wait().expect("wait").success(),
        "casebook {args:?} failed"
    );
}

fn commits(dir: &Path) -> usize {
    let repo = git2::Repository::open(dir).expect("open");
    let mut walk = repo.revwalk().expect("walk");
    walk.push_head().expect("head");
    walk.count()
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}
