//! One case book on several machines: a real bare remote, real clones, real pushes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use casebook::model::CaseFile;
use serde_json::Value;

use crate::common::{case_path, Env};

/// An empty bare repository `remote.git` whose HEAD names `branch`.
fn bare_remote(env: &Env, branch: &str) -> PathBuf {
    let remote = env.path("remote.git");
    let path = remote.to_str().unwrap();
    env.git(
        env.tmp.path(),
        &["init", "-q", "--bare", "-b", branch, path],
    );
    remote
}

/// A bare remote and a first clone `a` that created the case book and pushed it.
pub(crate) fn setup(env: &Env) -> (PathBuf, PathBuf) {
    setup_with(env, &[])
}

/// Like [`setup`], with more `init` arguments for the first clone's book.
pub(crate) fn setup_with(env: &Env, init: &[&str]) -> (PathBuf, PathBuf) {
    let remote = bare_remote(env, "main");
    let mut args = vec!["--timezone", "Europe/Berlin"];
    args.extend_from_slice(init);
    let a = env.casebook_with("a", &args);
    env.git(&a, &["remote", "add", "origin", remote.to_str().unwrap()]);
    env.run(&a, &["sync"]).ok();
    (remote, a)
}

pub(crate) fn clone(env: &Env, remote: &Path, name: &str) -> PathBuf {
    env.run(env.tmp.path(), &["clone", remote.to_str().unwrap(), name])
        .ok();
    env.path(name)
}

fn show(env: &Env, root: &Path, id: &str) -> Value {
    env.run(root, &["show", id, "--json"]).json()
}

/// Every case file at HEAD parses, and its projection is the replay of its events.
fn assert_all_cases_replay(env: &Env, root: &Path) {
    let files = env.git(root, &["ls-tree", "-r", "--name-only", "HEAD", "cases"]);
    for path in files.lines() {
        let text = env.git(root, &["show", &format!("HEAD:{path}")]);
        assert!(
            !text.contains("<<<<<<<") && !text.contains(">>>>>>>"),
            "conflict markers in {path}"
        );
        let file = CaseFile::from_toml(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(
            file.verify().unwrap(),
            "{path}: projection differs from replay"
        );
    }
}

#[test]
fn three_clones_working_offline_converge_with_every_action_kept() {
    let env = Env::new();
    let (remote, a) = setup(&env);
    let shared = env.open(&a, "Ada Lovelace", "Shared printer problem");
    env.run(&a, &["sync"]).ok();
    let b = clone(&env, &remote, "b");
    let c = clone(&env, &remote, "c");
    let screenshot = env.path("shot.png");
    std::fs::write(&screenshot, b"picture").unwrap();

    // Round 1, all offline: the same case from three sides, plus each clone's own case.
    env.run(&a, &["ack", &shared]).ok();
    env.run(
        &b,
        &[
            "gather",
            &shared,
            "--product",
            "LaserJet 9",
            "--attach",
            screenshot.to_str().unwrap(),
        ],
    )
    .ok();
    env.run(&c, &["gather", &shared, "--product", "LaserJet 10"])
        .ok();
    let own_b = env.open(&b, "Bob", "B's own case");
    let own_c = env.open(&c, "Cy", "C's own case");
    env.run(&a, &["escalate", &shared, "--reason", "needs a part"])
        .ok();
    for clone in [&c, &a, &b, &c, &a] {
        env.run(clone, &["sync"]).ok();
    }

    // Round 2: one clone resolves while another escalates.
    env.run(
        &a,
        &["resolve", &shared, "--resolution", "Replaced the roller"],
    )
    .ok();
    env.run(&b, &["escalate", &shared, "--reason", "customer angry"])
        .ok();
    env.run(&c, &["ack", &own_c]).ok();
    env.run(&a, &["ack", &own_b]).ok();
    for clone in [&b, &a, &c, &b, &a, &c] {
        env.run(clone, &["sync", "--json"]).ok();
    }

    let tree = |root: &Path| env.git(root, &["rev-parse", "HEAD^{tree}"]);
    assert_eq!(tree(&a), tree(&b));
    assert_eq!(tree(&b), tree(&c));
    for clone in [&a, &b, &c] {
        assert_eq!(
            env.status_porcelain(clone),
            "",
            "working tree follows the merges"
        );
        assert_all_cases_replay(&env, clone);
    }
    let v = show(&env, &c, &shared);
    let events = v["events"].as_array().unwrap();
    let mut by_action: HashMap<&str, usize> = HashMap::new();
    let mut ids = std::collections::HashSet::new();
    for e in events {
        *by_action.entry(e["action"].as_str().unwrap()).or_default() += 1;
        assert!(
            ids.insert(e["id"].as_str().unwrap().to_string()),
            "an event appears twice"
        );
    }
    assert_eq!(
        by_action,
        HashMap::from([
            ("open", 1),
            ("acknowledge", 1),
            ("gather", 2),
            ("escalate", 2),
            ("resolve", 1)
        ])
    );
    assert_eq!(v["status"], "resolved");
    assert_eq!(v["escalation_level"], 2);
    assert_eq!(v["attachments"][0]["name"], "shot.png");
    let stored = v["attachments"][0]["path"].as_str().unwrap();
    assert!(
        stored.starts_with(&format!("attachments/{shared}/")),
        "{stored}"
    );
    assert!(c.join(stored).is_file());
    let product = v["product"].as_str().unwrap();
    assert!(product == "LaserJet 9" || product == "LaserJet 10");
    assert_eq!(
        show(&env, &a, &shared)["product"],
        product,
        "every clone agrees on the later value"
    );
    assert_eq!(show(&env, &a, &own_c)["status"], "open");
    assert_eq!(show(&env, &c, &own_b)["status"], "open");
}

#[test]
fn plain_git_pull_merges_cases_through_the_driver() {
    let env = Env::new();
    let (remote, a) = setup(&env);
    let id = env.open(&a, "Ada", "Pull me");
    env.run(&a, &["sync"]).ok();
    let b = clone(&env, &remote, "b");
    env.run(&a, &["ack", &id]).ok();
    env.run(&a, &["sync"]).ok();
    env.run(&b, &["escalate", &id, "--reason", "offline in b"])
        .ok();
    env.git(
        &b,
        &[
            "pull",
            "--quiet",
            "--no-rebase",
            "--no-edit",
            "origin",
            "main",
        ],
    );
    let text = std::fs::read_to_string(case_path(&b, &id)).unwrap();
    assert!(!text.contains("<<<<<<<"), "{text}");
    let v = show(&env, &b, &id);
    let mut actions: Vec<&str> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions[0], "open");
    // The two concurrent events (same clock) are ordered by event id: either way round.
    actions.sort_unstable();
    assert_eq!(actions, ["acknowledge", "escalate", "open"]);
    assert_eq!(v["status"], "open");
    assert_all_cases_replay(&env, &b);
}

#[test]
fn a_plain_git_clone_is_told_to_run_setup() {
    let env = Env::new();
    let (remote, _a) = setup(&env);
    env.git(
        env.tmp.path(),
        &["clone", "-q", remote.to_str().unwrap(), "plain"],
    );
    let plain = env.path("plain");
    let out = env.run(&plain, &["list"]).ok();
    assert!(
        out.stderr.contains("run `casebook setup`"),
        "{}",
        out.stderr
    );
    env.run(&plain, &["setup"]).ok();
    assert!(!env.run(&plain, &["list"]).ok().stderr.contains("setup"));
    assert!(env
        .git(&plain, &["config", "merge.casebook.driver"])
        .contains("merge-driver %O %A %B %P"));
}

#[test]
fn remote_failures_are_clear_errors_and_lose_nothing() {
    let env = Env::new();
    let (remote, a) = setup(&env);
    // Unreachable.
    env.git(
        &a,
        &[
            "remote",
            "add",
            "nowhere",
            env.path("does-not-exist.git").to_str().unwrap(),
        ],
    );
    let id = env.open(&a, "Ada", "Kept locally");
    let tip = env.git(&a, &["rev-parse", "HEAD"]);
    let err = env.run(&a, &["sync", "nowhere"]).fails(1);
    assert!(err.contains("cannot fetch from nowhere"), "{err}");
    assert!(err.contains("nothing local was lost"), "{err}");
    assert_eq!(env.git(&a, &["rev-parse", "HEAD"]), tip);

    // The remote refuses the push.
    let hook = remote.join("hooks/pre-receive");
    std::fs::write(&hook, "#!/bin/sh\necho 'pushes are frozen' >&2\nexit 1\n").unwrap();
    std::process::Command::new("chmod")
        .args(["+x", hook.to_str().unwrap()])
        .status()
        .unwrap();
    let err = env.run(&a, &["sync"]).fails(1);
    assert!(
        err.contains("cannot push to origin") && err.contains("pushes are frozen"),
        "{err}"
    );
    assert_eq!(env.git(&a, &["rev-parse", "HEAD"]), tip);
    assert_eq!(show(&env, &a, &id)["subject"], "Kept locally");
    std::fs::remove_file(&hook).unwrap();
    env.run(&a, &["sync"]).ok();
}

#[test]
fn a_corrupt_or_newer_file_on_the_remote_stops_the_sync() {
    let env = Env::new();
    let (remote, a) = setup(&env);
    let id = env.open(&a, "Ada", "Will be broken remotely");
    env.run(&a, &["sync"]).ok();
    // Someone pushes a broken version of the case with plain git.
    env.git(
        env.tmp.path(),
        &["clone", "-q", remote.to_str().unwrap(), "vandal"],
    );
    let vandal = env.path("vandal");
    let file = case_path(&vandal, &id);
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("[[event]]", "[[event]\nbroken")).unwrap();
    env.git(&vandal, &["commit", "-qam", "oops"]);
    env.git(&vandal, &["push", "-q", "origin", "main"]);
    env.run(&a, &["ack", &id]).ok();
    let tip = env.git(&a, &["rev-parse", "HEAD"]);
    let err = env.run(&a, &["sync"]).fails(1);
    assert!(
        err.contains("cannot read case file") && err.contains("(remote)"),
        "{err}"
    );
    assert_eq!(
        env.git(&a, &["rev-parse", "HEAD"]),
        tip,
        "the local branch is as it was"
    );
    assert_eq!(env.status_porcelain(&a), "");

    // A newer schema is refused the same way.
    let (first, rest) = text.split_once('\n').unwrap();
    assert!(first.starts_with("schema = "), "{first}");
    std::fs::write(&file, format!("schema = 9\n{rest}")).unwrap();
    env.git(&vandal, &["commit", "-qam", "from the future"]);
    env.git(&vandal, &["push", "-q", "origin", "main"]);
    let err = env.run(&a, &["sync"]).fails(1);
    assert!(err.contains("schema 9 is newer"), "{err}");
    assert_eq!(env.git(&a, &["rev-parse", "HEAD"]), tip);
}

#[test]
fn two_clones_creating_the_same_id_keep_both_cases() {
    let env = Env::new();
    // The collision is forged by writing one case's file under the other's ID, which a
    // sealed value (bound to its case) would refuse to open: a plain book. Real collisions
    // in sealed books: tests/it/sync_stress.rs.
    let (remote, a) = setup_with(&env, &["--plain"]);
    let b = clone(&env, &remote, "b");
    let id = env.open(&a, "Ada", "Created in a");
    // Force the collision: b creates a different case under the same ID.
    let other = env.open(&b, "Bob", "Created in b");
    let a_text = std::fs::read_to_string(case_path(&a, &id)).unwrap();
    let b_text = std::fs::read_to_string(case_path(&b, &other))
        .unwrap()
        .replace(&other, &id);
    assert_ne!(a_text, b_text);
    std::fs::remove_file(case_path(&b, &other)).unwrap();
    std::fs::create_dir_all(case_path(&b, &id).parent().unwrap()).unwrap();
    std::fs::write(case_path(&b, &id), &b_text).unwrap();
    env.git(&b, &["add", "-A"]);
    env.git(&b, &["commit", "-qm", "same ID, different case"]);

    env.run(&a, &["sync"]).ok();
    let report = env.run(&b, &["sync", "--json"]).json();
    assert_eq!(report["renamed"][0]["from"], id.as_str(), "{report}");
    let renamed = report["renamed"][0]["to"].as_str().unwrap().to_string();
    env.run(&a, &["sync"]).ok();
    assert_eq!(
        env.git(&a, &["rev-parse", "HEAD^{tree}"]),
        env.git(&b, &["rev-parse", "HEAD^{tree}"])
    );

    // Both cases exist; the renamed one keeps its old ID as an alias.
    let subjects: Vec<String> = env
        .run(&a, &["list", "--json"])
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["subject"].as_str().unwrap().to_string())
        .collect();
    assert!(
        subjects.contains(&"Created in a".to_string())
            && subjects.contains(&"Created in b".to_string()),
        "{subjects:?}"
    );
    let moved = show(&env, &a, &renamed);
    assert_eq!(moved["aliases"], serde_json::json!([id]));
    // The whole ID is the case that kept it; a shorter query finds both, the old ID
    // leading to the renamed case too.
    let kept = show(&env, &a, &id);
    assert_eq!(kept["id"], id.as_str());
    let err = env.run(&a, &["show", &id[..id.len() - 1]]).fails(1);
    assert!(err.contains("matches 2 cases"), "{err}");
    assert!(
        err.contains(&renamed),
        "the old ID leads to the renamed case too: {err}"
    );
    assert_all_cases_replay(&env, &a);
}

#[test]
fn other_files_merge_as_git_does_and_a_real_conflict_stops_the_sync() {
    let env = Env::new();
    let (remote, a) = setup(&env);
    let b = clone(&env, &remote, "b");
    let config = |root: &Path| root.join(".casebook/config.toml");
    let edit = |root: &Path, from: &str, to: &str, message: &str| {
        let text = std::fs::read_to_string(config(root)).unwrap();
        assert!(text.contains(from));
        std::fs::write(config(root), text.replacen(from, to, 1)).unwrap();
        env.git(root, &["commit", "-qam", message]);
    };
    // Different lines: merged like git merges.
    edit(&a, "at_risk = 0.75", "at_risk = 0.8", "a: at risk later");
    edit(
        &b,
        "chain = [\"supervisor\", \"manager\"]",
        "chain = [\"lead\", \"manager\"]",
        "b: a lead first",
    );
    env.run(&a, &["sync"]).ok();
    env.run(&b, &["sync"]).ok();
    let merged = std::fs::read_to_string(config(&b)).unwrap();
    assert!(
        merged.contains("at_risk = 0.8") && merged.contains("chain = [\"lead\", \"manager\"]"),
        "{merged}"
    );
    env.run(&a, &["sync"]).ok();

    // The same line changed differently: a clear conflict, nothing changed.
    edit(&a, "at_risk = 0.8", "at_risk = 0.9", "a: later still");
    edit(&b, "at_risk = 0.8", "at_risk = 0.6", "b: earlier");
    env.run(&a, &["sync"]).ok();
    let tip = env.git(&b, &["rev-parse", "HEAD"]);
    let err = env.run(&b, &["sync"]).fails(3);
    assert!(
        err.contains("both sides changed .casebook/config.toml differently"),
        "{err}"
    );
    assert!(err.contains("hint: merge it with git"), "{err}");
    assert_eq!(env.git(&b, &["rev-parse", "HEAD"]), tip);
    assert_eq!(env.status_porcelain(&b), "");
}

#[test]
fn a_push_that_loses_a_race_is_fetched_merged_and_pushed_again() {
    let env = Env::new();
    let (remote, a) = setup(&env);
    let b = clone(&env, &remote, "b");
    env.open(&b, "Bob", "From b");
    // While a pushes, b pushes first (once): the remote moves under a's push.
    let marker = env.path("raced");
    let hook = a.join(".git/hooks/pre-push");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\nif [ ! -e '{m}' ]; then touch '{m}'; (cd '{b}' && git push -q origin main) >&2; fi\nexit 0\n",
            m = marker.display(),
            b = b.display()
        ),
    )
    .unwrap();
    std::process::Command::new("chmod")
        .args(["+x", hook.to_str().unwrap()])
        .status()
        .unwrap();
    let from_a = env.open(&a, "Ann", "From a");
    let report = env.run(&a, &["sync", "--json"]).json();
    assert!(marker.exists(), "the race happened");
    assert_eq!(report["pushed"], true, "{report}");
    assert_eq!(
        env.git(&a, &["rev-parse", "HEAD"]),
        env.git(&a, &["ls-remote", "origin", "main"])
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
            + "\n"
    );
    env.run(&b, &["sync"]).ok();
    let subjects: Vec<String> = env
        .run(&b, &["list", "--json"])
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["subject"].as_str().unwrap().to_string())
        .collect();
    assert!(
        subjects.contains(&"From a".to_string()) && subjects.contains(&"From b".to_string()),
        "{subjects:?}"
    );
    assert_eq!(show(&env, &b, &from_a)["subject"], "From a");
}

/// Attaches a file named `shot.txt` holding `content` to case `id` in clone `root`.
fn attach_shot(env: &Env, root: &Path, id: &str, content: &str) {
    let dir = env.path(&format!("files-{content}"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("shot.txt");
    std::fs::write(&file, content).unwrap();
    env.run(root, &["gather", id, "--attach", file.to_str().unwrap()])
        .ok();
}

/// Both clones' `shot.txt` are attached to case `id` in `root`, each readable at its path
/// with its own content (so no conflict markers), and the working tree is clean.
fn assert_both_shots_kept(env: &Env, root: &Path, id: &str) {
    let v = show(env, root, id);
    let attachments = v["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 2, "{v}");
    let mut contents: Vec<String> = attachments
        .iter()
        .map(|a| {
            assert_eq!(a["name"], "shot.txt");
            // Sealed on disk; opened by casebook, chosen by path (both have one name).
            let path = a["path"].as_str().unwrap();
            assert!(std::fs::read_to_string(root.join(path))
                .unwrap()
                .starts_with("sealed:v1:"));
            env.run(root, &["attachment", id, path]).ok().stdout
        })
        .collect();
    contents.sort();
    assert_eq!(contents, ["from a", "from b"]);
    assert_eq!(env.status_porcelain(root), "");
    assert_all_cases_replay(env, root);
}

#[test]
fn two_clones_attaching_files_of_one_name_keep_both_through_sync() {
    let env = Env::new();
    let (remote, a) = setup(&env);
    let id = env.open(&a, "Ada", "Two screenshots");
    env.run(&a, &["sync"]).ok();
    let b = clone(&env, &remote, "b");
    attach_shot(&env, &a, &id, "from a");
    attach_shot(&env, &b, &id, "from b");
    env.run(&a, &["sync"]).ok();
    env.run(&b, &["sync"]).ok();
    env.run(&a, &["sync"]).ok();
    assert_both_shots_kept(&env, &a, &id);
    assert_both_shots_kept(&env, &b, &id);
}

#[test]
fn two_clones_attaching_files_of_one_name_keep_both_through_git_pull() {
    let env = Env::new();
    let (remote, a) = setup(&env);
    let id = env.open(&a, "Ada", "Two screenshots");
    env.run(&a, &["sync"]).ok();
    let b = clone(&env, &remote, "b");
    attach_shot(&env, &a, &id, "from a");
    env.git(&a, &["push", "--quiet", "origin", "main"]);
    attach_shot(&env, &b, &id, "from b");
    env.git(
        &b,
        &[
            "pull",
            "--quiet",
            "--no-rebase",
            "--no-edit",
            "origin",
            "main",
        ],
    );
    assert_both_shots_kept(&env, &b, &id);
    // Should a path ever hold two versions (a commit made by hand), git still never writes
    // markers into an attachment nor touches its line endings.
    let attrs = env.git(
        &b,
        &[
            "check-attr",
            "merge",
            "text",
            "--",
            "attachments/X/0/shot.txt",
        ],
    );
    assert!(
        attrs.contains("merge: unset") && attrs.contains("text: unset"),
        "{attrs}"
    );
}

#[test]
fn a_remote_case_file_with_a_duplicate_event_id_stops_the_sync() {
    let env = Env::new();
    let (remote, a) = setup(&env);
    let id = env.open(&a, "Ada", "Will be broken remotely");
    env.run(&a, &["ack", &id]).ok();
    env.run(&a, &["sync"]).ok();
    env.git(
        env.tmp.path(),
        &["clone", "-q", remote.to_str().unwrap(), "vandal"],
    );
    let vandal = env.path("vandal");
    let file = case_path(&vandal, &id);
    let events: Vec<String> = show(&env, &a, &id)["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace(&events[1], &events[0])).unwrap();
    env.git(&vandal, &["commit", "-qam", "oops"]);
    env.git(&vandal, &["push", "-q", "origin", "main"]);
    env.run(&a, &["escalate", &id, "--reason", "stuck"]).ok();
    let tip = env.git(&a, &["rev-parse", "HEAD"]);
    let err = env.run(&a, &["sync"]).fails(1);
    assert!(
        err.contains(&format!("{}.toml (remote)", id))
            && err.contains(&format!("two events with the id {}", events[0])),
        "{err}"
    );
    assert_eq!(env.git(&a, &["rev-parse", "HEAD"]), tip);
    assert_eq!(env.status_porcelain(&a), "");
}

/// A Ctrl-C while sync records its merge: the merge is kept (it printed nothing, but it is
/// whole), and nothing goes out; the next sync pushes it.
#[test]
fn a_signal_during_the_merge_commit_stops_sync_before_it_pushes() {
    use std::os::unix::process::ExitStatusExt;
    let env = Env::new();
    let (remote, a) = setup(&env);
    let b = clone(&env, &remote, "b");
    let theirs = env.open(&a, "Ada Lovelace", "printer");
    env.run(&a, &["sync"]).ok();
    let ours = env.open(&b, "Grace Hopper", "router");
    let remote_before = env.git(&remote, &["rev-parse", "main"]);
    let status = env
        .cb(&b)
        .env("CASEBOOK_FAULT", "term@after-ref")
        .arg("sync")
        .output()
        .unwrap()
        .status;
    assert_eq!(status.signal(), Some(15), "sync stops: {status:?}");
    assert_eq!(
        env.git(&remote, &["rev-parse", "main"]),
        remote_before,
        "nothing was pushed"
    );
    // The merge is recorded in b: both cases are there, and the book is whole.
    let listed = env.run(&b, &["list", "--all", "--json"]).json().to_string();
    assert!(
        listed.contains(&theirs) && listed.contains(&ours),
        "{listed}"
    );
    assert_eq!(env.status_porcelain(&b), "");
    env.run(&b, &["sync"]).ok();
    let pushed = env.git(&remote, &["ls-tree", "-r", "--name-only", "main"]);
    assert!(pushed.contains(&ours), "the next sync pushes it: {pushed}");
}

/// A remote made with a plain `git init --bare` names `master` as its HEAD while the book
/// is on `main`, so a plain `git clone` of it checks out an empty `master`. casebook then
/// says where the book is, and `init` there refuses to start a second, unrelated book
/// (whose sync would push it beside the team's).
#[test]
fn a_clone_on_another_branch_than_the_book_is_pointed_at_it_and_not_split() {
    let env = Env::new();
    let remote = bare_remote(&env, "master");
    let a = env.casebook("a");
    env.git(&a, &["remote", "add", "origin", remote.to_str().unwrap()]);
    env.run(&a, &["sync"]).ok();
    let id = env.open(&a, "Ada Lovelace", "printer");
    env.run(&a, &["sync"]).ok();
    let f = env.path("f");
    let mut clone = std::process::Command::new("git");
    env.isolate(&mut clone);
    let status = clone
        .args(["clone", "-q", remote.to_str().unwrap(), f.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());
    let err = env.run(&f, &["list"]).fails(1);
    assert!(
        err.contains("branch main holds the case book") && err.contains("git switch main"),
        "{err}"
    );
    let err = env.run(&f, &["init"]).fails(1);
    assert!(
        err.contains("already holds a case book") && err.contains("git switch main"),
        "{err}"
    );
    let refs = env.git(&f, &["for-each-ref", "--format=%(refname)", "refs/heads"]);
    assert_eq!(refs.trim(), "", "init wrote nothing");
    env.git(&f, &["switch", "-q", "main"]);
    let listed = env.run(&f, &["list", "--json"]).json().to_string();
    assert!(listed.contains(&id), "{listed}");
}
