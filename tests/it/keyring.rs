//! The key ring in `refs/casebook/keyring`: one parentless commit replaced on every change,
//! carried by sync and clone, and an erased key gone from every object database.

use std::path::Path;
use std::process::Command;

use casebook::model::keyring::KeyRing;
use casebook::store::{Store, KEYRING_REF};
use chrono::{DateTime, Utc};

use crate::common::Env;
use crate::sync::{clone, setup};

fn now() -> DateTime<Utc> {
    "2026-11-23T09:00:00Z".parse().unwrap()
}

fn ring(root: &Path) -> KeyRing {
    Store::discover(root)
        .unwrap()
        .keyring()
        .unwrap()
        .expect("a key ring")
}

/// Adds a key for `subject`; returns its id and its secret as stored (base64url text).
fn add_key(root: &Path, subject: &str) -> (String, String) {
    let store = Store::discover(root).unwrap();
    let ring = store
        .update_keyring(now(), |r| {
            let had = r.key_for(subject).is_some();
            r.key_for_or_new(subject, now());
            !had
        })
        .unwrap();
    let id = ring.key_for(subject).unwrap().id.clone();
    (id.clone(), stored_secret(&ring, &id))
}

/// The secret of key `id` as the ring's TOML holds it.
fn stored_secret(ring: &KeyRing, id: &str) -> String {
    let text = ring.to_toml();
    let at = text.find(&format!("id = \"{id}\"")).expect("key in ring");
    let rest = &text[at..];
    let line = rest
        .lines()
        .find(|l| l.starts_with("secret = "))
        .expect("secret line");
    line.trim_start_matches("secret = ")
        .trim_matches('"')
        .to_string()
}

/// Every object in the repository, as `git cat-file --batch-all-objects --batch` prints it.
fn all_objects(env: &Env, root: &Path) -> Vec<u8> {
    let mut cmd = Command::new("git");
    env.isolate(&mut cmd);
    let out = cmd
        .current_dir(root)
        .args(["cat-file", "--batch-all-objects", "--batch"])
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
}

fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn the_key_ring_is_one_parentless_commit_outside_the_branch_history() {
    let env = Env::new();
    let root = env.casebook("book");
    let before = env.commit_count(&root);
    let (ada, _) = add_key(&root, "customer:ada");
    let (bob, _) = add_key(&root, "customer:bob");
    assert_eq!(env.commit_count(&root), before, "no commit on the branch");
    assert_eq!(
        env.git(&root, &["rev-list", "--count", KEYRING_REF]).trim(),
        "1",
        "no older key ring is reachable"
    );
    let text = env.git(&root, &["show", &format!("{KEYRING_REF}:keyring.toml")]);
    assert!(text.starts_with("format = 1") && text.contains(&ada) && text.contains(&bob));
    let branch_history = env.git(&root, &["log", "-p", "HEAD"]);
    assert!(!branch_history.contains(&ada));
    // The ring that held only Ada's key was deleted when it was replaced.
    let objects = all_objects(&env, &root);
    let rings = objects
        .windows(b"format = 1".len())
        .filter(|w| *w == b"format = 1")
        .count();
    assert_eq!(rings, 1, "exactly one key ring object");
}

#[test]
fn an_erased_key_leaves_no_object_behind_even_when_git_had_packed_it() {
    for pack_first in [false, true] {
        let env = Env::new();
        let root = env.casebook("book");
        // A reflog of the ring ref would keep old rings reachable: there is none.
        env.git(&root, &["config", "core.logAllRefUpdates", "always"]);
        let (ada, ada_secret) = add_key(&root, "customer:ada");
        let (_, bob_secret) = add_key(&root, "customer:bob");
        if pack_first {
            env.git(&root, &["gc", "--quiet"]);
        }
        // A change after the pack leaves an old ring in it.
        add_key(&root, "customer:cy");
        assert!(holds(&all_objects(&env, &root), &ada_secret));
        let store = Store::discover(&root).unwrap();
        assert_eq!(
            store.erase_keys(std::slice::from_ref(&ada), now()).unwrap(),
            vec![ada.clone()]
        );
        let objects = all_objects(&env, &root);
        assert!(
            !holds(&objects, &ada_secret),
            "the erased key is still in an object (packed first: {pack_first})"
        );
        assert!(holds(&objects, &bob_secret), "the other keys are kept");
        assert!(ring(&root).is_erased(&ada));
        assert!(ring(&root).key_for("customer:bob").is_some());
        env.git(&root, &["fsck", "--no-dangling", "--strict"]);
        assert_eq!(
            env.git(&root, &["reflog", "show", KEYRING_REF]).trim(),
            "",
            "the ring has no history"
        );
    }
}

#[test]
fn sync_and_clone_carry_the_ring_and_an_erased_key_never_comes_back() {
    let env = Env::new();
    let (remote, a) = setup(&env);
    let (ada, ada_secret) = add_key(&a, "customer:ada");
    let (bob, bob_secret) = add_key(&a, "customer:bob");
    let report = env.run(&a, &["sync", "--json"]).json();
    assert_eq!(report["keyring_pushed"], true);
    assert_eq!(report["outgoing_commits"], 0);
    let again = env.run(&a, &["sync", "--json"]).json();
    assert_eq!(again["keyring_pushed"], false, "nothing new to push");
    assert_eq!(
        env.git(&remote, &["rev-parse", KEYRING_REF]),
        env.git(&a, &["rev-parse", KEYRING_REF]),
        "sync pushed the ring even with no new commit"
    );
    let b = clone(&env, &remote, "b");
    let c = clone(&env, &remote, "c");
    for root in [&b, &c] {
        assert_eq!(ring(root), ring(&a), "clone fetched the key ring");
    }

    // c goes offline and makes a key of its own; a erases Ada's key and syncs.
    let (cy, _) = add_key(&c, "customer:cy");
    Store::discover(&a)
        .unwrap()
        .erase_keys(std::slice::from_ref(&ada), now())
        .unwrap();
    env.run(&a, &["sync"]).ok();
    // b syncs, then c, which still had Ada's key: the merge drops it and keeps c's own.
    env.run(&b, &["sync"]).ok();
    env.run(&c, &["sync"]).ok();
    env.run(&a, &["sync"]).ok();
    env.run(&b, &["sync"]).ok();
    for root in [&a, &b, &c] {
        let r = ring(root);
        assert!(r.is_erased(&ada), "{}", root.display());
        assert!(r.key_for("customer:ada").is_none(), "{}", root.display());
        assert_eq!(r.key_for("customer:bob").unwrap().id, bob);
        assert_eq!(r.key_for("customer:cy").unwrap().id, cy);
        assert_eq!(r, ring(&a));
    }
    assert_eq!(
        env.git(&remote, &["show", &format!("{KEYRING_REF}:keyring.toml")]),
        ring(&a).to_toml()
    );
    // No copy of the erased key in any clone; the remote drops its unreachable old rings
    // with `git gc --prune=now`, as a hosting service would have to.
    env.git(&remote, &["gc", "--quiet", "--prune=now"]);
    for root in [&a, &b, &c, &remote] {
        let objects = all_objects(&env, root);
        assert!(!holds(&objects, &ada_secret), "{}", root.display());
        assert!(holds(&objects, &bob_secret), "{}", root.display());
        assert!(
            env.git(root, &["for-each-ref", "refs/casebook"])
                .lines()
                .count()
                == 1,
            "only the ring itself: no fetched copy is left in {}",
            root.display()
        );
    }
}

#[test]
fn concurrent_writers_of_the_ring_all_keep_their_keys() {
    let env = Env::new();
    let root = env.casebook("book");
    let threads: Vec<_> = (0..4)
        .map(|n| {
            let root = root.clone();
            std::thread::spawn(move || {
                for i in 0..5 {
                    add_key(&root, &format!("customer:{n}-{i}"));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(ring(&root).keys().count(), 20);
    assert_eq!(
        env.git(&root, &["rev-list", "--count", KEYRING_REF]).trim(),
        "1"
    );
}

#[test]
fn redacted_exports_agree_across_clones_and_keep_the_secret_out_of_history() {
    let env = Env::new();
    let (remote, a) = setup(&env);
    env.open(&a, "Ada Lovelace", "Printer");
    env.open(&a, "Bob Babbage", "Scanner");
    let redacted_a = env.run(&a, &["export", "--redact"]).ok().stdout;
    env.run(&a, &["sync"]).ok();
    let b = clone(&env, &remote, "b");
    let redacted_b = env.run(&b, &["export", "--redact"]).ok().stdout;
    assert_eq!(redacted_a, redacted_b, "one book, one set of pseudonyms");
    assert!(!redacted_a.contains("Ada") && !redacted_a.contains("ada.lovelace"));
    let secret = env
        .git(&a, &["show", &format!("{KEYRING_REF}:keyring.toml")])
        .lines()
        .find(|l| l.starts_with("secret = "))
        .expect("the pseudonym secret is in the ring")
        .to_string();
    assert!(!env
        .git(&a, &["log", "-p", "--branches"])
        .contains(&secret[10..]));
    // Another book with the same customer gives other pseudonyms.
    let other = env.casebook("other");
    env.open(&other, "Ada Lovelace", "Printer");
    let redacted_other = env.run(&other, &["export", "--redact"]).ok().stdout;
    let other_email = redacted_other
        .split([',', '\n'])
        .find(|f| f.ends_with("@redacted.invalid"))
        .unwrap();
    assert!(!redacted_a.contains(other_email));
}

#[test]
fn git_log_shows_sealed_values_opened_where_the_key_is_and_erased_where_it_is_not() {
    let env = Env::new();
    let root = env.casebook("book");
    let id = env.open(&root, "Ada Lovelace", "Printer");
    let path = crate::common::case_path(&root, &id);
    let rel = path
        .strip_prefix(&root)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    // The file and its blob are sealed ...
    let stored = env.git(&root, &["show", &format!("HEAD:{rel}")]);
    assert!(
        stored.contains("sealed:v1:") && !stored.contains("Lovelace"),
        "{stored}"
    );
    // ... and git's own review of history shows them opened, through the textconv driver.
    let log = env.git(&root, &["log", "-p", "-1", "--", &rel]);
    assert!(
        log.contains("+name = \"Ada Lovelace\""),
        "git log -p opens the sealed value:\n{log}"
    );
    assert!(!log.contains("sealed:v1:"), "{log}");
    assert!(env.git(&root, &["show", "HEAD"]).contains("Ada Lovelace"));
    // Nothing opened is cached in the repository.
    assert!(env.git(&root, &["for-each-ref", "refs/notes"]).is_empty());

    env.run(&root, &["erase", &id, "--reason", "customer asked"])
        .ok();
    let log = env.git(&root, &["log", "-p", "--", &rel]);
    assert!(log.contains("+name = \"[erased]\""), "{log}");
    assert!(!log.contains("Lovelace"), "{log}");
}

#[test]
fn setup_in_a_plain_git_clone_fetches_the_ring_and_concurrent_syncs_keep_every_key() {
    let env = Env::new();
    let (remote, a) = setup(&env);
    add_key(&a, "customer:ada");
    env.run(&a, &["sync"]).ok();
    let plain = env.path("plain");
    env.git(
        env.tmp.path(),
        &[
            "clone",
            "-q",
            remote.to_str().unwrap(),
            plain.to_str().unwrap(),
        ],
    );
    assert!(Store::discover(&plain)
        .unwrap()
        .keyring()
        .unwrap()
        .is_none());
    env.run(&plain, &["setup"]).ok();
    assert_eq!(ring(&plain), ring(&a), "setup fetched the key ring");

    // Three clones add a key each and sync at the same time: the leases make the losers
    // fetch and merge again, so no key is lost.
    let b = clone(&env, &remote, "b");
    let roots = [a.clone(), b.clone(), plain.clone()];
    for (n, root) in roots.iter().enumerate() {
        add_key(root, &format!("customer:{n}"));
    }
    std::thread::scope(|s| {
        for root in &roots {
            s.spawn(|| env.run(root, &["sync"]).ok());
        }
    });
    for root in &roots {
        env.run(root, &["sync"]).ok();
    }
    for root in &roots {
        let r = ring(root);
        assert_eq!(r.keys().count(), 4, "{}", root.display());
        assert_eq!(r, ring(&a));
    }
}
