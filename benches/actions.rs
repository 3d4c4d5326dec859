//! Whole-process cost of one action (`open`), one read (`show`) and three whole-book reads
//! (`due`, `list`, `review`) at named sizes, in both shapes of case book (working tree and
//! store-only).
//!
//!     cargo bench --bench actions                       # 100, 10k and 100k cases
//!     CASEBOOK_BENCH_SIZES=100,10000 cargo bench --bench actions
//!     CASEBOOK_BENCH_RUNS=51 cargo bench --bench actions
//!     CASEBOOK_BENCH_DIR=/dev/shm cargo bench --bench actions   # repositories on tmpfs
//!     CASEBOOK_BENCH_SHAPES=bare CASEBOOK_BENCH_KEEP=1 cargo bench --bench actions
//!
//! Repositories are built with the library's packed bulk writer (one commit), then each
//! command runs as a separate `casebook` process, as a user or a script would run it.
//! Target (issue 2): one action at 100k cases ≤ 8 ms median (store-only) and ≤ 1.5× its
//! cost at 100 cases.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use casebook::model::event::CustomerFields;
use casebook::model::payload;
use casebook::model::{Action, Actor, CaseFile, CaseId, Event, Priority};
use casebook::ops::{Casebook, Context, InitOptions};
use casebook::store::Change;
use chrono::{TimeZone, Utc};

use common::ACTOR;

fn main() {
    if common::listing() {
        return;
    }
    let sizes = common::sizes("100,10000,100000");
    let runs = common::runs(31);
    let mut tmp = common::workspace();
    // CASEBOOK_BENCH_KEEP=1 leaves the repositories for profiling; their folder is printed.
    if std::env::var_os("CASEBOOK_BENCH_KEEP").is_some() {
        tmp.disable_cleanup(true);
        eprintln!("keeping the case books in {}", tmp.path().display());
    }
    // CASEBOOK_BENCH_SHAPES=bare or =worktree measures one shape only.
    let shapes: Vec<bool> = match std::env::var("CASEBOOK_BENCH_SHAPES").as_deref() {
        Ok("bare") => vec![true],
        Ok("worktree") => vec![false],
        _ => vec![true, false],
    };

    println!("| shape | cases | build | open median | open p90 | open, index.skipHash | show median | show p90 | index update alone (libgit2) | git commit (one file) | due median | list median | review median |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut open_medians = Vec::new();
    for &bare in &shapes {
        let shape = if bare { "store-only" } else { "working tree" };
        for &n in &sizes {
            let dir = tmp
                .path()
                .join(format!("{}-{n}", if bare { "bare" } else { "wt" }));
            let started = Instant::now();
            let sample = build(&dir, n, bare);
            let build_time = started.elapsed();
            let open = common::time_runs(runs, || common::run(&dir, common::OPEN, &[]));
            let show =
                common::time_runs(runs, || common::run(&dir, &["show", sample.as_str()], &[]));
            // With git's `index.skipHash` (git 2.40+), the index is written without its SHA-1.
            let skip_hash = if bare {
                "–".to_string()
            } else {
                let config = |args: &[&str]| {
                    std::process::Command::new("git")
                        .current_dir(&dir)
                        .args(args)
                        .status()
                        .expect("git config")
                };
                config(&["config", "index.skipHash", "true"]);
                let t = common::time_runs(runs, || {
                    common::run(
                        &dir,
                        &[
                            "open",
                            "--customer",
                            "Bench",
                            "--email",
                            "c@example.com",
                            "--subject",
                            "B",
                        ],
                        &[],
                    )
                });
                config(&["config", "--unset", "index.skipHash"]);
                ms(common::pct(&t, 50))
            };
            // The floor for the working-tree shape: libgit2 reading the index, changing one
            // entry and writing it back, in-process, with nothing else.
            let index = if bare {
                "–".to_string()
            } else {
                let path = casebook::model::CaseId::parse(&sample).unwrap().path();
                ms(common::pct(
                    &common::time_runs(runs, || index_update(&dir, &path)),
                    50,
                ))
            };
            // What a person's own commit of one changed file costs in the same repository.
            let git_commit = if bare {
                "–".to_string()
            } else {
                std::fs::write(dir.join("notes.txt"), "round 0\n").expect("write notes");
                let added = std::process::Command::new("git")
                    .current_dir(&dir)
                    .args(["add", "notes.txt"])
                    .status()
                    .expect("git add");
                assert!(added.success());
                git_commit(&dir, "notes.txt");
                let mut round = 0;
                ms(common::pct(
                    &common::time_runs(runs, || {
                        round += 1;
                        std::fs::write(dir.join("notes.txt"), format!("round {round}\n"))
                            .expect("write notes");
                        git_commit(&dir, "notes.txt");
                    }),
                    50,
                ))
            };
            // Whole-book reads: the agent's queue and the case list, as JSON (all the work,
            // none of the table layout).
            let scans = (runs / 4).max(3);
            let due = ms(common::pct(
                &common::time_runs(scans, || common::run(&dir, &["due", "--json"], &[])),
                50,
            ));
            let list = ms(common::pct(
                &common::time_runs(scans, || {
                    common::run(&dir, &["list", "--json", "--all"], &[])
                }),
                50,
            ));
            let review_args = [
                "review",
                "--from",
                "2026-08-01",
                "--to",
                "2026-11-30",
                "--json",
            ];
            let review = ms(common::pct(
                &common::time_runs(scans, || common::run(&dir, &review_args, &[])),
                50,
            ));
            println!(
                "| {shape} | {n} | {:.1} s | {} | {} | {skip_hash} | {} | {} | {index} | {git_commit} | {due} | {list} | {review} |",
                build_time.as_secs_f64(),
                ms(common::pct(&open, 50)),
                ms(common::pct(&open, 90)),
                ms(common::pct(&show, 50)),
                ms(common::pct(&show, 90)),
            );
            open_medians.push((shape, n, common::pct(&open, 50)));
        }
    }
    for shape in ["store-only", "working tree"] {
        let of = |n: usize| {
            open_medians
                .iter()
                .find(|(s, m, _)| *s == shape && *m == n)
                .map(|x| x.2)
        };
        if let (Some(small), Some(large)) = (
            of(*sizes.iter().min().unwrap()),
            of(*sizes.iter().max().unwrap()),
        ) {
            println!(
                "\n{shape}: open at {} cases costs {:.2}× its cost at {} cases",
                sizes.iter().max().unwrap(),
                large.as_secs_f64() / small.as_secs_f64(),
                sizes.iter().min().unwrap()
            );
        }
    }
}

/// A case book with `n` cases in one packed commit; returns one case ID to show.
fn build(dir: &Path, n: usize, bare: bool) -> String {
    let actor = Actor::parse(ACTOR).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap();
    let ctx = Context {
        actor: actor.clone(),
        now,
        worked_minutes: None,
    };
    let opts = InitOptions {
        bare,
        ..Default::default()
    };
    let (cb, _) = Casebook::init(dir, &opts, &ctx).expect("init");
    let mut files = Vec::with_capacity(n);
    let mut seen = std::collections::HashSet::new();
    while files.len() < n {
        let id = CaseId::generate("CB");
        if !seen.insert(id.clone()) {
            continue;
        }
        let i = files.len();
        let mut open = Event::new(
            Action::Open,
            now - chrono::Duration::minutes(i as i64),
            ACTOR,
        );
        open.get_mut::<payload::Open>().unwrap().subject =
            Some(format!("Case number {i}: the printer does something odd").into());
        open.get_mut::<payload::Open>().unwrap().priority =
            Some(Priority::from_stored(Priority::KNOWN[i % 4]));
        open.get_mut::<payload::Open>().unwrap().description =
            Some("A paragraph of description, as customers write them.\nWith two lines.".into());
        open.customer = Some(CustomerFields {
            name: Some(format!("Customer {i}").into()),
            email: Some(format!("customer{i}@example.com").into()),
            ..Default::default()
        });
        let mut file = CaseFile::create(id.clone(), open).expect("case");
        if i % 2 == 0 {
            // Half the cases went through the SOP, so `review` has work to do.
            let opened = file.case.created_at;
            let mut ack = Event::new(
                Action::Acknowledge,
                opened + chrono::Duration::minutes(20),
                ACTOR,
            );
            *ack.payload.direction_mut().unwrap() = Some("outbound".into());
            let mut resolve =
                Event::new(Action::Resolve, opened + chrono::Duration::hours(5), ACTOR);
            resolve.get_mut::<payload::Resolve>().unwrap().resolution = Some("Fixed".into());
            resolve.get_mut::<payload::Resolve>().unwrap().root_cause =
                Some(format!("Cause {}", i % 7));
            let mut follow = Event::new(
                Action::FollowUp,
                opened + chrono::Duration::hours(30),
                ACTOR,
            );
            *follow.payload.direction_mut().unwrap() = Some("outbound".into());
            follow.get_mut::<payload::FollowUp>().unwrap().response = Some("satisfied".into());
            follow.get_mut::<payload::FollowUp>().unwrap().rating = Some((i % 5 + 1) as u8);
            for e in [ack, resolve, follow] {
                file.append(e).expect("event");
            }
        }
        files.push((id.path(), file.to_toml().into_bytes()));
    }
    let sample = files[n / 2]
        .0
        .rsplit('/')
        .next()
        .unwrap()
        .trim_end_matches(".toml")
        .to_string();
    let message = format!("bench: {n} cases");
    cb.store()
        .transact(&actor, now, |_| {
            Ok::<_, casebook::store::StoreError>((
                Change::with_files(message.clone(), files.clone()).packed(),
                (),
            ))
        })
        .expect("bulk commit");
    sample
}

fn git_commit(dir: &Path, path: &str) {
    let status = std::process::Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=Bench",
            "-c",
            "user.email=bench@example.com",
        ])
        .args(["commit", "-q", "-m", "notes", "--", path])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("git commit");
    assert!(status.success());
}

fn index_update(dir: &Path, path: &str) {
    let repo = git2::Repository::open(dir).expect("open");
    let mut index = repo.index().expect("index");
    index.add_path(Path::new(path)).expect("add");
    index.write().expect("write");
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}
