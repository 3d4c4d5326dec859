//! Sync under stress: forced ID collisions (`CASEBOOK_SEED`), events recorded under an old
//! ID, clock skew, `git pull` beside `casebook sync`, and a git operation left in progress.
//! Every event recorded anywhere must be present exactly once after the clones converge.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use crate::common::Env;

use crate::sync::{clone, setup as remote_and_first_clone};

/// Runs casebook with extra environment variables.
fn run_with(env: &Env, root: &Path, vars: &[(&str, &str)], args: &[&str]) -> crate::common::Run {
    let mut cmd = env.cb(root);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    crate::common::Run(cmd.args(args).output().unwrap())
}

/// Every `log` summary in the book, with how many times it appears, over all cases.
fn summaries(env: &Env, root: &Path) -> HashMap<String, usize> {
    let cases = env.run(root, &["list", "--all", "--json"]);
    let cases = if cases.code() == 0 {
        cases.json()
    } else {
        // Before the read view, `list` took no --all and listed every case.
        env.run(root, &["list", "--json"]).json()
    };
    let mut seen = HashMap::new();
    for case in cases.as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        let shown: Value = env.run(root, &["show", id, "--json"]).json();
        for e in shown["events"].as_array().unwrap() {
            if let Some(s) = e["summary"].as_str() {
                *seen.entry(s.to_string()).or_insert(0) += 1;
            }
        }
    }
    seen
}

fn tree(env: &Env, root: &Path) -> String {
    env.git(root, &["rev-parse", "HEAD^{tree}"])
}

#[test]
fn events_recorded_under_an_old_id_land_in_the_renamed_case() {
    let env = Env::new();
    let (remote, a) = remote_and_first_clone(&env);
    let b = clone(&env, &remote, "b");
    // b's case is opened later, so b's is the one renamed (the later-opened case moves).
    let seed = [
        ("CASEBOOK_SEED", "collide"),
        ("CASEBOOK_NOW", "2026-11-23T08:00:00Z"),
    ];
    let x = run_with(
        &env,
        &a,
        &seed,
        &[
            "open",
            "--customer",
            "Ada",
            "--email",
            "ada@example.com",
            "--subject",
            "a's case",
        ],
    )
    .ok()
    .stdout
    .trim()
    .to_string();
    let seed = [
        ("CASEBOOK_SEED", "collide"),
        ("CASEBOOK_NOW", "2026-11-23T08:30:00Z"),
    ];
    let same = run_with(
        &env,
        &b,
        &seed,
        &[
            "open",
            "--customer",
            "Bob",
            "--email",
            "bob@example.com",
            "--subject",
            "b's case",
        ],
    )
    .ok()
    .stdout
    .trim()
    .to_string();
    assert_eq!(x, same, "the seed forces one ID in both clones");
    env.run(&b, &["sync"]).ok();
    // A third clone starts from b's push and works under the old ID too.
    let c = clone(&env, &remote, "c");
    let report = env.run(&a, &["sync", "--json"]).json();
    let renamed = report["renamed"][0]["to"].as_str().unwrap().to_string();
    let moved_subject = env.run(&a, &["show", &renamed, "--json"]).json()["subject"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(moved_subject, "b's case");
    // a logs on the renamed case under its new ID; b and c, not yet synced, on the old ID.
    env.run(&a, &["log", &renamed, "--summary", "a: on the new ID"])
        .ok();
    env.run(&b, &["log", &x, "--summary", "b: on the old ID"])
        .ok();
    env.run(&c, &["log", &x, "--summary", "c: on the old ID"])
        .ok();
    env.run(&a, &["sync"]).ok();
    env.run(&b, &["sync"]).ok();
    env.run(&c, &["sync"]).ok();
    for root in [&a, &b, &c] {
        env.run(root, &["sync"]).ok();
    }
    assert_eq!(tree(&env, &a), tree(&env, &b));
    assert_eq!(tree(&env, &a), tree(&env, &c));
    let seen = summaries(&env, &a);
    for s in ["a: on the new ID", "b: on the old ID", "c: on the old ID"] {
        assert_eq!(seen.get(s), Some(&1), "{s} exactly once: {seen:?}");
    }
    // b's and c's events were recorded on b's case; a's on the renamed one. Whichever case
    // moved, each event sits with the case it was recorded on.
    let events_of = |id: &str| -> Vec<String> {
        env.run(&a, &["show", id, "--json"]).json()["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["summary"].as_str().map(String::from))
            .collect()
    };
    let b_case = if moved_subject == "b's case" {
        renamed.clone()
    } else {
        x.clone()
    };
    assert!(events_of(&b_case).contains(&"b: on the old ID".to_string()));
    assert!(events_of(&b_case).contains(&"c: on the old ID".to_string()));
    assert!(events_of(&renamed).contains(&"a: on the new ID".to_string()));
    // The whole ID reaches the case that kept it.
    assert_eq!(
        env.run(&a, &["show", &x, "--json"]).json()["id"],
        x.as_str()
    );
}

#[test]
fn sync_refuses_to_start_on_top_of_an_unfinished_git_merge() {
    let env = Env::new();
    let (remote, a) = remote_and_first_clone(&env);
    let b = clone(&env, &remote, "b");
    // Both change the config's same line: git pull stops with a conflict.
    for (root, prefix) in [(&a, "AA"), (&b, "BB")] {
        let path = root.join(".casebook/config.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(
            &path,
            text.replacen("prefix = \"CB\"", &format!("prefix = \"{prefix}\""), 1),
        )
        .unwrap();
        env.git(root, &["commit", "-qam", "prefix"]);
    }
    env.run(&a, &["sync"]).ok();
    let mut pull = std::process::Command::new("git");
    env.isolate(&mut pull);
    let out = pull
        .current_dir(&b)
        .args([
            "-c",
            "user.name=G",
            "-c",
            "user.email=g@example.com",
            "pull",
            "-q",
            "--no-rebase",
            "origin",
            "main",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success(), "the pull stops on the conflict");
    assert!(b.join(".git/MERGE_HEAD").exists());
    let tip = env.git(&b, &["rev-parse", "HEAD"]);
    let err = env.run(&b, &["sync"]).fails(3);
    assert!(err.contains("git has a merge in progress"), "{err}");
    assert!(err.contains("git merge --abort"), "{err}");
    assert_eq!(env.git(&b, &["rev-parse", "HEAD"]), tip, "nothing changed");
    env.git(&b, &["merge", "--abort"]);
    assert!(!b.join(".git/MERGE_HEAD").exists());
}

/// A small deterministic generator, so a failing run can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// N clones, random actions, random syncs and plain `git pull`s, forced ID collisions and a
/// clock two hours behind on one clone: after a final round of syncs every clone holds the
/// same tree, and every event recorded anywhere is there exactly once.
fn converge_with_seed(seed: u64, steps: usize) {
    let env = Env::new();
    let (remote, a) = remote_and_first_clone(&env);
    let clones = vec![
        a.clone(),
        clone(&env, &remote, "b"),
        clone(&env, &remote, "c"),
    ];
    let mut rng = Rng(seed);
    let mut known: Vec<Vec<String>> = vec![Vec::new(); clones.len()];
    let mut recorded = Vec::new();
    for step in 0..steps {
        let k = rng.below(clones.len());
        let root = &clones[k];
        // Clone 2 runs two hours behind; time otherwise advances a minute per step.
        let minutes = step as i64 - if k == 2 { 120 } else { 0 };
        let now = (chrono::DateTime::parse_from_rfc3339("2026-11-23T09:00:00Z").unwrap()
            + chrono::Duration::minutes(minutes))
        .to_rfc3339();
        let clock = [("CASEBOOK_NOW", now.as_str())];
        match rng.below(10) {
            0..=2 => {
                // A seed from a small set: clones often pick the same ID.
                let seed_value = format!("s{}", rng.below(3));
                let vars = [
                    ("CASEBOOK_NOW", now.as_str()),
                    ("CASEBOOK_SEED", seed_value.as_str()),
                ];
                let subject = format!("step {step}");
                let run = run_with(
                    &env,
                    root,
                    &vars,
                    &[
                        "open",
                        "--customer",
                        "C",
                        "--email",
                        "c@example.com",
                        "--subject",
                        &subject,
                    ],
                );
                if run.code() == 0 {
                    known[k].push(run.stdout().trim().to_string());
                }
            }
            3..=6 if !known[k].is_empty() => {
                let id = known[k][rng.below(known[k].len())].clone();
                let summary = format!("step {step} on clone {k}");
                let run = run_with(&env, root, &clock, &["log", &id, "--summary", &summary]);
                assert_eq!(run.code(), 0, "step {step}: {}", run.stderr());
                recorded.push(summary);
            }
            7 => {
                // A plain git pull (the merge driver) where it applies; a collision the
                // driver cannot rename is left as git's conflict, which the test aborts
                // and leaves to the next casebook sync.
                let mut pull = std::process::Command::new("git");
                env.isolate(&mut pull);
                let out = pull
                    .current_dir(root)
                    .args([
                        "-c",
                        "user.name=G",
                        "-c",
                        "user.email=g@example.com",
                        "pull",
                        "-q",
                        "--no-rebase",
                        "--no-edit",
                        "origin",
                        "main",
                    ])
                    .output()
                    .unwrap();
                if !out.status.success() && root.join(".git/MERGE_HEAD").exists() {
                    env.git(root, &["merge", "--abort"]);
                }
            }
            _ => {
                let run = run_with(&env, root, &clock, &["sync"]);
                assert_eq!(run.code(), 0, "seed {seed} step {step}: {}", run.stderr());
            }
        }
        // What a clone knows: the cases it has (renamed ones under their new ID).
        if let Ok(list) =
            serde_json::from_str::<Value>(&env.run(root, &["list", "--json"]).stdout())
        {
            if let Some(list) = list.as_array() {
                for c in list {
                    let id = c["id"].as_str().unwrap().to_string();
                    if !known[k].contains(&id) {
                        known[k].push(id);
                    }
                }
            }
        }
    }
    for _ in 0..2 {
        for root in &clones {
            let run = env.run(root, &["sync"]);
            assert_eq!(run.code(), 0, "seed {seed} final sync: {}", run.stderr());
        }
    }
    let first = tree(&env, &clones[0]);
    for root in &clones[1..] {
        assert_eq!(tree(&env, root), first, "seed {seed}: the clones converge");
    }
    let seen = summaries(&env, &clones[0]);
    for s in &recorded {
        assert_eq!(seen.get(s), Some(&1), "seed {seed}: {s:?} exactly once");
    }
    for root in &clones {
        assert_eq!(
            env.status_porcelain(root),
            "",
            "seed {seed}: git status is clean"
        );
        env.git(root, &["fsck", "--no-progress"]);
    }
}

#[test]
fn clones_with_collisions_pulls_and_skew_converge_with_every_event_once() {
    for seed in [0x5eed_0001_u64, 0x5eed_0002] {
        converge_with_seed(seed, 40);
    }
}

#[test]
fn a_renamed_case_keeps_its_attachments_from_before_paths_were_recorded() {
    let env = Env::new();
    // Attachments without a recorded path come from before sealing: a plain book.
    let (remote, a) = crate::sync::setup_with(&env, &["--plain"]);
    let b = clone(&env, &remote, "b");
    let first = [
        ("CASEBOOK_SEED", "old"),
        ("CASEBOOK_NOW", "2026-11-23T08:00:00Z"),
    ];
    let x = run_with(
        &env,
        &a,
        &first,
        &[
            "open",
            "--customer",
            "Ada",
            "--email",
            "ada@example.com",
            "--subject",
            "a's",
        ],
    )
    .ok()
    .stdout
    .trim()
    .to_string();
    let later = [
        ("CASEBOOK_SEED", "old"),
        ("CASEBOOK_NOW", "2026-11-23T08:30:00Z"),
    ];
    run_with(
        &env,
        &b,
        &later,
        &[
            "open",
            "--customer",
            "Bob",
            "--email",
            "bob@example.com",
            "--subject",
            "b's",
        ],
    )
    .ok();
    std::fs::write(env.path("shot.txt"), "b's screenshot\n").unwrap();
    env.run(
        &b,
        &[
            "gather",
            &x,
            "--attach",
            env.path("shot.txt").to_str().unwrap(),
        ],
    )
    .ok();
    // Make it an attachment from before paths were recorded: attachments/<ID>/<name>.
    let file = crate::common::case_path(&b, &x);
    let stored = env.run(&b, &["show", &x, "--json"]).json()["attachments"][0]["path"]
        .as_str()
        .unwrap()
        .to_string();
    let text = std::fs::read_to_string(&file).unwrap();
    let old_style: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("path = "))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&file, old_style).unwrap();
    let old_path = format!("attachments/{x}/shot.txt");
    env.git(&b, &["mv", &stored, &old_path]);
    env.git(&b, &["commit", "-qam", "an attachment of an older version"]);
    assert_eq!(
        env.run(&b, &["show", &x, "--json"]).json()["attachments"][0]["path"],
        old_path.as_str()
    );
    env.run(&b, &["sync"]).ok();
    let report = env.run(&a, &["sync", "--json"]).json();
    let renamed = report["renamed"][0]["to"].as_str().unwrap().to_string();
    let moved = env.run(&a, &["show", &renamed, "--json"]).json();
    assert_eq!(moved["subject"], "b's");
    let path = moved["attachments"][0]["path"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        path, old_path,
        "the renamed case points at where the file is"
    );
    assert_eq!(
        env.git(&a, &["show", &format!("HEAD:{path}")]),
        "b's screenshot\n"
    );
}
