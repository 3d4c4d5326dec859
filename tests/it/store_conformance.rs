//! The store's write path, run against both shapes of case book (working tree and bare)
//! with real repositories and the real `git` binary as an independent witness.

use std::cell::Cell;
use std::path::{Path, PathBuf};

use casebook::model::Actor;
use casebook::store::{Change, Store, StoreError};
use chrono::{TimeZone, Utc};

use crate::common::Env;

#[derive(Clone, Copy, Debug)]
enum Shape {
    Worktree,
    Bare,
}

const SHAPES: [Shape; 2] = [Shape::Worktree, Shape::Bare];

fn actor() -> Actor {
    Actor::parse("Store Test <store@example.com>").unwrap()
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap()
}

fn new_store(env: &Env, shape: Shape) -> (Store, PathBuf) {
    let dir = env.path(match shape {
        Shape::Worktree => "wt",
        Shape::Bare => "bare.git",
    });
    let (store, created) = Store::open_or_create(&dir, matches!(shape, Shape::Bare)).unwrap();
    assert!(created);
    (store, dir)
}

fn change(path: &str, content: &str, message: &str) -> Change {
    Change::with_files(
        message,
        vec![(path.to_string(), content.as_bytes().to_vec())],
    )
}

fn write(store: &Store, path: &str, content: &str) -> Result<git2::Oid, StoreError> {
    store
        .transact(&actor(), now(), |_| {
            Ok::<_, StoreError>((change(path, content, &format!("write {path}")), ()))
        })
        .map(|(committed, ())| committed.commit.expect("a commit"))
}

fn show(env: &Env, dir: &Path, spec: &str) -> String {
    env.git(dir, &["show", spec])
}

#[test]
fn one_transaction_is_one_commit_on_top_of_the_tip() {
    for shape in SHAPES {
        let env = Env::new();
        let (store, dir) = new_store(&env, shape);
        let first = write(&store, "cases/AB/one.toml", "one\n").unwrap();
        let second = write(&store, "cases/CD/two.toml", "two\n").unwrap();
        assert_eq!(
            env.git(&dir, &["rev-list", "HEAD"]),
            format!("{second}\n{first}\n"),
            "{shape:?}"
        );
        assert_eq!(show(&env, &dir, "HEAD:cases/AB/one.toml"), "one\n");
        assert_eq!(show(&env, &dir, "HEAD:cases/CD/two.toml"), "two\n");
        let author = env.git(&dir, &["log", "-1", "--format=%an <%ae> %at %cn"]);
        assert_eq!(
            author.trim(),
            format!(
                "Store Test <store@example.com> {} Store Test",
                now().timestamp()
            )
        );
        if let Shape::Worktree = shape {
            assert_eq!(
                std::fs::read_to_string(dir.join("cases/AB/one.toml")).unwrap(),
                "one\n"
            );
            assert_eq!(
                env.status_porcelain(&dir),
                "",
                "index and files follow the branch"
            );
        }
        env.git(&dir, &["fsck", "--strict", "--no-dangling"]);
    }
}

#[test]
fn a_refused_action_writes_nothing() {
    for shape in SHAPES {
        let env = Env::new();
        let (store, dir) = new_store(&env, shape);
        let tip = write(&store, "a.toml", "a\n").unwrap();
        let result = store.transact(&actor(), now(), |_| {
            Err::<(Change, ()), _>(StoreError::DetachedHead)
        });
        assert!(result.is_err());
        assert_eq!(
            env.git(&dir, &["rev-parse", "HEAD"]).trim(),
            tip.to_string(),
            "{shape:?}"
        );
        assert_eq!(
            env.git(&dir, &["count-objects"]).split_whitespace().next(),
            Some("3"),
            "blob, tree and commit of the first write only"
        );
    }
}

#[test]
fn a_branch_moved_by_another_writer_is_retried_not_overwritten() {
    for shape in SHAPES {
        let env = Env::new();
        let (store, dir) = new_store(&env, shape);
        write(&store, "cases/AB/x.toml", "v1\n").unwrap();
        let calls = Cell::new(0);
        let (committed, ()) = store
            .transact(&actor(), now(), |snap| {
                calls.set(calls.get() + 1);
                if calls.get() == 1 {
                    // Another writer (plain git plumbing) commits between our read and our swap.
                    let tree = env.git(&dir, &["rev-parse", "HEAD^{tree}"]);
                    let commit = env.git(
                        &dir,
                        &["commit-tree", tree.trim(), "-p", "HEAD", "-m", "external"],
                    );
                    env.git(&dir, &["update-ref", "refs/heads/main", commit.trim()]);
                }
                let seen = snap.tip().unwrap().to_string();
                Ok::<_, StoreError>((
                    change("cases/CD/y.toml", &format!("based on {seen}\n"), "ours"),
                    (),
                ))
            })
            .unwrap();
        assert_eq!(
            calls.get(),
            2,
            "{shape:?}: the action is rebuilt on the new tip"
        );
        let log = env.git(&dir, &["log", "--format=%s"]);
        assert_eq!(log, "ours\nexternal\nwrite cases/AB/x.toml\n", "{shape:?}");
        let ours = committed.commit.unwrap();
        let parent = env.git(&dir, &["rev-parse", &format!("{ours}^")]);
        assert_eq!(
            show(&env, &dir, "HEAD:cases/CD/y.toml"),
            format!("based on {}", parent)
        );
    }
}

#[test]
fn uncommitted_hand_edits_are_never_overwritten() {
    let env = Env::new();
    let (store, dir) = new_store(&env, Shape::Worktree);
    write(&store, "cases/AB/x.toml", "v1\n").unwrap();
    let tip = env.git(&dir, &["rev-parse", "HEAD"]);

    std::fs::write(dir.join("cases/AB/x.toml"), "edited by hand\n").unwrap();
    let err = write(&store, "cases/AB/x.toml", "v2\n").unwrap_err();
    assert!(
        matches!(err, StoreError::HandEdited { staged: false, .. }),
        "{err}"
    );
    assert!(err.is_conflict());
    assert!(err
        .hint()
        .unwrap()
        .contains("git checkout HEAD -- cases/AB/x.toml"));
    assert_eq!(
        std::fs::read_to_string(dir.join("cases/AB/x.toml")).unwrap(),
        "edited by hand\n"
    );

    env.git(&dir, &["add", "cases/AB/x.toml"]);
    let err = write(&store, "cases/AB/x.toml", "v2\n").unwrap_err();
    assert!(
        matches!(err, StoreError::HandEdited { staged: true, .. }),
        "{err}"
    );

    std::fs::create_dir_all(dir.join("cases/ZZ")).unwrap();
    std::fs::write(dir.join("cases/ZZ/new.toml"), "mine\n").unwrap();
    let err = write(&store, "cases/ZZ/new.toml", "casebook's\n").unwrap_err();
    assert!(
        matches!(err, StoreError::HandEdited { .. }),
        "an untracked file in the way: {err}"
    );
    assert_eq!(
        env.git(&dir, &["rev-parse", "HEAD"]),
        tip,
        "nothing was committed"
    );

    // Other paths are still writable, and the edits stay as they are.
    write(&store, "cases/CD/y.toml", "y\n").unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("cases/AB/x.toml")).unwrap(),
        "edited by hand\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("cases/ZZ/new.toml")).unwrap(),
        "mine\n"
    );
}

#[test]
fn a_deleted_file_is_restored_and_a_lagging_index_is_not_mistaken_for_an_edit() {
    let env = Env::new();
    let (store, dir) = new_store(&env, Shape::Worktree);
    write(&store, "cases/AB/x.toml", "v1\n").unwrap();
    std::fs::remove_file(dir.join("cases/AB/x.toml")).unwrap();
    write(&store, "cases/AB/x.toml", "v2\n").unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("cases/AB/x.toml")).unwrap(),
        "v2\n"
    );

    // Another writer commits v3 to the branch without touching this working tree.
    let blob = {
        let mut cmd = std::process::Command::new("git");
        env.isolate(&mut cmd);
        let mut child = cmd
            .current_dir(&dir)
            .args(["hash-object", "-w", "--stdin"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(b"v3\n").unwrap();
        String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
    };
    let index_file = env.path("other-index");
    let mut cmd = std::process::Command::new("git");
    env.isolate(&mut cmd);
    let status = cmd
        .current_dir(&dir)
        .env("GIT_INDEX_FILE", &index_file)
        .args(["read-tree", "HEAD"])
        .status()
        .unwrap();
    assert!(status.success());
    for args in [
        vec![
            "update-index",
            "--cacheinfo",
            &format!("100644,{},cases/AB/x.toml", blob.trim()),
        ],
        vec!["write-tree"],
    ] {
        let mut cmd = std::process::Command::new("git");
        env.isolate(&mut cmd);
        let out = cmd
            .current_dir(&dir)
            .env("GIT_INDEX_FILE", &index_file)
            .args(&args)
            .output()
            .unwrap();
        assert!(out.status.success());
        if args[0] == "write-tree" {
            let tree = String::from_utf8(out.stdout).unwrap();
            let commit = env.git(
                &dir,
                &[
                    "commit-tree",
                    tree.trim(),
                    "-p",
                    "HEAD",
                    "-m",
                    "v3 elsewhere",
                ],
            );
            env.git(&dir, &["update-ref", "refs/heads/main", commit.trim()]);
        }
    }
    // The working tree still holds v2, which was committed: not a hand edit.
    assert_eq!(
        std::fs::read_to_string(dir.join("cases/AB/x.toml")).unwrap(),
        "v2\n"
    );
    write(&store, "cases/AB/x.toml", "v4\n").unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("cases/AB/x.toml")).unwrap(),
        "v4\n"
    );
    assert_eq!(env.status_porcelain(&dir), "");
    assert_eq!(
        env.git(&dir, &["log", "--format=%s", "-2"]),
        "write cases/AB/x.toml\nv3 elsewhere\n"
    );
}

#[test]
fn snapshots_read_the_branch_tip_not_the_working_tree() {
    let env = Env::new();
    let (store, dir) = new_store(&env, Shape::Worktree);
    write(&store, "notes/a.txt", "committed\n").unwrap();
    std::fs::write(dir.join("notes/a.txt"), "working copy\n").unwrap();
    let snap = store.snapshot().unwrap();
    assert_eq!(snap.read("notes/a.txt").unwrap().unwrap(), b"committed\n");
    assert_eq!(snap.read("notes/missing.txt").unwrap(), None);
    assert_eq!(snap.read("notes").unwrap(), None, "a folder is not a file");
}

/// Sync reads the branch tip before it reads the key ring, and pushes that tip: a case
/// written in between (its keys pending after the ring was read) must not reach the remote
/// ahead of its keys. So a push sends the commit it is given, not where the branch is now.
#[test]
fn a_push_sends_the_tip_it_was_given_not_the_branch_moved_since() {
    for shape in SHAPES {
        let env = Env::new();
        let (store, dir) = new_store(&env, shape);
        let remote = env.path("remote.git");
        env.git(env.tmp.path(), &["init", "--quiet", "--bare", "remote.git"]);
        env.git(&dir, &["remote", "add", "origin", remote.to_str().unwrap()]);
        let read = write(&store, "notes/a.txt", "first\n").unwrap();
        let later = write(&store, "notes/b.txt", "second\n").unwrap();
        assert_eq!(store.snapshot().unwrap().tip(), Some(later));
        let reachable: usize = env
            .git(&dir, &["rev-list", "--count", &read.to_string()])
            .trim()
            .parse()
            .unwrap();
        assert_eq!(store.ahead_of(Some(read), None).unwrap(), reachable);
        assert!(store.push("origin", Some(read), None).unwrap(), "{shape:?}");
        let branch = format!("refs/heads/{}", store.branch_name());
        assert_eq!(
            env.git(&remote, &["rev-parse", &branch]).trim(),
            read.to_string(),
            "{shape:?}: the remote holds the tip that was read"
        );
        assert_eq!(store.ahead_of(Some(later), Some(read)).unwrap(), 1);
    }
}

/// A sync pushes the branch and the key ring together. If another clone replaced the
/// remote's key ring since the fetch, the ring's lease fails, and the branch must not land
/// without it: the remote would hold cases whose keys its ring does not have.
#[test]
fn a_push_whose_key_ring_is_refused_leaves_the_remote_branch_where_it_was() {
    use casebook::store::{RingPush, KEYRING_REF};
    // A remote that takes no atomic push (`receive.advertiseAtomic`) gets the ring first.
    for (shape, atomic) in SHAPES.iter().flat_map(|s| [(*s, true), (*s, false)]) {
        let env = Env::new();
        let (store, dir) = new_store(&env, shape);
        let remote = env.path("remote.git");
        env.git(env.tmp.path(), &["init", "--quiet", "--bare", "remote.git"]);
        let advertise = format!("receive.advertiseAtomic={atomic}");
        env.git(
            &remote,
            &["config", "receive.advertiseAtomic", &atomic.to_string()],
        );
        env.git(&dir, &["remote", "add", "origin", remote.to_str().unwrap()]);
        let first = write(&store, "notes/a.txt", "first\n").unwrap();
        // Key ring stand-ins: commits without parents, as the key ring's are.
        let ring = |text: &str| -> git2::Oid {
            let tree = env.git(&dir, &["hash-object", "-t", "tree", "-w", "/dev/null"]);
            let oid = env.git(&dir, &["commit-tree", tree.trim(), "-m", text]);
            git2::Oid::from_str(oid.trim()).unwrap()
        };
        let fetched = ring("ring as fetched");
        let replaced = ring("ring another clone pushed");
        let ours = ring("ring with our new keys");
        let to_ring = |oid: git2::Oid| format!("{oid}:{KEYRING_REF}");
        assert!(store.push("origin", Some(first), None).unwrap());
        env.git(&dir, &["push", "--quiet", "origin", &to_ring(fetched)]);
        env.git(
            &dir,
            &["push", "--quiet", "--force", "origin", &to_ring(replaced)],
        );

        let later = write(&store, "notes/b.txt", "second\n").unwrap();
        let push = RingPush {
            local: ours,
            remote: Some(fetched),
        };
        assert!(
            !store.push("origin", Some(later), Some(push)).unwrap(),
            "{shape:?} {advertise}: a refused key ring means fetch and merge again"
        );
        let branch = format!("refs/heads/{}", store.branch_name());
        let at = |r: &str| env.git(&remote, &["rev-parse", r]).trim().to_string();
        assert_eq!(
            at(&branch),
            first.to_string(),
            "{shape:?} {advertise}: the branch stays"
        );
        assert_eq!(
            at(KEYRING_REF),
            replaced.to_string(),
            "{shape:?} {advertise}"
        );

        // Leased on the ring the remote has, both land.
        let push = RingPush {
            local: ours,
            remote: Some(replaced),
        };
        assert!(store.push("origin", Some(later), Some(push)).unwrap());
        assert_eq!(at(&branch), later.to_string(), "{shape:?} {advertise}");
        assert_eq!(at(KEYRING_REF), ours.to_string(), "{shape:?} {advertise}");
    }
}
