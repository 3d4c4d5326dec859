//! The key ring in `refs/casebook/keyring`: one parentless commit replaced on every change,
//! carried by sync and clone, and an erased key gone from every object database.

use std::path::Path;
use std::process::Command;

use casebook::model::keyring::KeyRing;
use casebook::model::seal::{open, seal, Key, Keys, Lookup};
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

/// The secret of key `id` as the ring's bucket holds it (base64url).
fn stored_secret(ring: &KeyRing, id: &str) -> String {
    use base64::Engine;
    let key = ring.keys().find(|k| k.id == id).expect("key in ring");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.secret())
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
    let text = env.git(&root, &["show", &format!("{KEYRING_REF}:ring.toml")]);
    assert!(text.starts_with("format = 3"), "{text}");
    for id in [&ada, &bob] {
        let bucket = env.git(
            &root,
            &[
                "show",
                &format!("{KEYRING_REF}:keys/{}/{}", &id[1..2], &id[2..3]),
            ],
        );
        assert!(bucket.contains(id.as_str()), "{bucket}");
    }
    let branch_history = env.git(&root, &["log", "-p", "HEAD"]);
    assert!(!branch_history.contains(&ada));
    // The ring that held only Ada's key was deleted when it was replaced.
    let objects = all_objects(&env, &root);
    let rings = objects
        .windows(b"format = 3".len())
        .filter(|w| *w == b"format = 3")
        .count();
    assert_eq!(rings, 1, "exactly one key ring object");
}

#[test]
fn the_ring_ref_has_no_reflog_file_for_git_to_append_to() {
    let env = Env::new();
    // A working-tree book: `core.logAllRefUpdates` is true, as git sets it.
    let root = env.casebook("book");
    let log = Path::new(
        &env.git(&root, &["rev-parse", "--absolute-git-dir"])
            .trim()
            .to_string(),
    )
    .join("logs")
    .join(KEYRING_REF);
    for subject in ["customer:ada", "customer:bob"] {
        add_key(&root, subject);
        let store = Store::discover(&root).unwrap();
        store
            .add_keys(&[Key::generate(&format!("{subject}:2"))], now())
            .unwrap();
        // While it exists, even empty, every move of the ref appends to it.
        assert!(
            !log.exists(),
            "{} is left after a change of the ring",
            log.display()
        );
    }
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
        env.git(&remote, &["rev-parse", &format!("{KEYRING_REF}^{{tree}}")]),
        env.git(&a, &["rev-parse", &format!("{KEYRING_REF}^{{tree}}")]),
        "the remote holds the merged ring"
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
        .git(&a, &["show", &format!("{KEYRING_REF}:ring.toml")])
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

/// `n` new keys, one subject each.
fn keys(n: usize, prefix: &str) -> Vec<Key> {
    (0..n)
        .map(|i| Key::generate(&format!("customer:{prefix}{i}")))
        .collect()
}

/// A new key whose id falls in the same bucket as `id`.
fn key_in_bucket_of(id: &str, subject: &str) -> Key {
    loop {
        let k = Key::generate(subject);
        if k.id[1..3] == id[1..3] {
            return k;
        }
    }
}

#[test]
fn a_reader_finds_keys_through_their_buckets_and_tells_erased_unknown_and_no_ring_apart() {
    let env = Env::new();
    // A plain book has no ring until something makes one (a sealed one gets it at init).
    let root = env.casebook_with("book", &["--plain"]);
    let store = Store::discover(&root).unwrap();
    let reader = store.ring_reader().unwrap();
    assert!(!reader.exists(), "a new plain book has no ring");
    let sealed = env.casebook("sealed");
    assert!(Store::discover(&sealed)
        .unwrap()
        .ring_reader()
        .unwrap()
        .exists());
    assert!(matches!(
        reader.lookup(&Key::generate("s").id),
        Lookup::Unknown
    ));

    let made = keys(500, "r");
    store.add_keys(&made, now()).unwrap();
    let gone = made[7].id.clone();
    assert_eq!(
        store
            .erase_keys(std::slice::from_ref(&gone), now())
            .unwrap(),
        vec![gone.clone()]
    );
    let buckets = env.git(
        &root,
        &[
            "ls-tree",
            "-r",
            "--name-only",
            &format!("{KEYRING_REF}:keys"),
        ],
    );
    assert!(buckets.lines().count() > 100, "keys spread over buckets");
    assert!(
        buckets
            .lines()
            .all(|b| b.len() == 3 && b.as_bytes()[1] == b'/'),
        "{buckets}"
    );

    let reader = store.ring_reader().unwrap();
    assert!(reader.exists());
    for key in made.iter().filter(|k| k.id != gone) {
        match reader.lookup(&key.id) {
            Lookup::Present(found) => {
                assert_eq!(&found, key);
                let sealed = seal(key, "CB-1", "customer.name", "Ada");
                assert_eq!(
                    open(&reader, "CB-1", "customer.name", &sealed).unwrap(),
                    "Ada"
                );
            }
            other => panic!("{}: {other:?}", key.id),
        }
    }
    assert!(matches!(reader.lookup(&gone), Lookup::Erased));
    assert!(matches!(
        reader.lookup(&Key::generate("s").id),
        Lookup::Unknown
    ));
    assert!(matches!(reader.lookup("not a key id"), Lookup::Unknown));
    assert_eq!(
        store.keys_of_subject("customer:r3").unwrap(),
        vec![made[3].id.clone()]
    );
    assert!(store.keys_of_subject("customer:r7").unwrap().is_empty());
    assert!(store
        .erase_keys(&["K123".to_string()], now())
        .unwrap_err()
        .to_string()
        .contains("not a key id"));

    // A reader whose ring was replaced (and deleted) meanwhile reads the new one. (A ring
    // written in bulk is packed, and a packed ring stays readable until a repack: the
    // first change makes a loose ring, whose objects the second change deletes.)
    let early = key_in_bucket_of(&made[0].id, "customer:early");
    store.add_keys(std::slice::from_ref(&early), now()).unwrap();
    let reader = store.ring_reader().unwrap();
    let late = key_in_bucket_of(&made[0].id, "customer:late");
    store.add_keys(std::slice::from_ref(&late), now()).unwrap();
    assert!(matches!(reader.lookup(&made[0].id), Lookup::Present(_)));
    assert!(matches!(reader.lookup(&late.id), Lookup::Present(_)));
}

#[test]
fn ten_thousand_keys_are_added_in_one_replacement_of_the_ring() {
    let env = Env::new();
    let root = env.casebook("book");
    let store = Store::discover(&root).unwrap();
    store.add_keys(&keys(3, "first"), now()).unwrap();
    let made = keys(10_000, "bulk");
    let started = std::time::Instant::now();
    store.add_keys(&made, now()).unwrap();
    let took = started.elapsed();
    eprintln!("add_keys(10,000): {took:?}");
    assert!(took < std::time::Duration::from_secs(20), "{took:?}");
    assert_eq!(
        env.git(&root, &["rev-list", "--count", KEYRING_REF]).trim(),
        "1"
    );
    let r = ring(&root);
    assert_eq!(r.keys().count(), 10_003);
    assert!(r.buckets().len() <= 1024);
    // One object per bucket, not per key; the replaced ring is gone.
    let objects = env.git(&root, &["count-objects", "-v"]);
    let loose: usize = objects
        .lines()
        .find_map(|l| l.strip_prefix("count: "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(loose < 1024 + 100, "{objects}");
    env.git(&root, &["fsck", "--no-dangling", "--strict"]);
    // Nothing changes: no new ring.
    let tip = env.git(&root, &["rev-parse", KEYRING_REF]);
    store.add_keys(&made[..10], now()).unwrap();
    assert_eq!(env.git(&root, &["rev-parse", KEYRING_REF]), tip);
}

#[test]
fn erasing_one_of_many_keys_purges_its_secret_from_every_object_loose_or_packed() {
    for pack_first in [false, true] {
        let env = Env::new();
        let root = env.casebook("book");
        let store = Store::discover(&root).unwrap();
        let made = keys(2_000, "p");
        store.add_keys(&made, now()).unwrap();
        let victim = &made[11];
        // A neighbour in the same bucket, which must survive.
        let neighbour = key_in_bucket_of(&victim.id, "customer:neighbour");
        store
            .add_keys(std::slice::from_ref(&neighbour), now())
            .unwrap();
        if pack_first {
            env.git(&root, &["gc", "--quiet"]);
        }
        // Old rings now hold the victim's bucket in several versions.
        store
            .add_keys(&[key_in_bucket_of(&victim.id, "customer:other")], now())
            .unwrap();
        let r = ring(&root);
        let secret = stored_secret(&r, &victim.id);
        let kept = stored_secret(&r, &neighbour.id);
        assert!(holds(&all_objects(&env, &root), &secret));
        store
            .erase_keys(std::slice::from_ref(&victim.id), now())
            .unwrap();
        let objects = all_objects(&env, &root);
        assert!(
            !holds(&objects, &secret),
            "the erased key is still in an object (packed first: {pack_first})"
        );
        assert!(holds(&objects, &kept));
        let reader = store.ring_reader().unwrap();
        assert!(matches!(reader.lookup(&victim.id), Lookup::Erased));
        assert!(matches!(reader.lookup(&neighbour.id), Lookup::Present(_)));
        assert_eq!(ring(&root).keys().count(), 2_001);
        env.git(&root, &["fsck", "--no-dangling", "--strict"]);
    }
}

#[test]
fn an_offline_clone_that_still_had_an_erased_key_merges_it_away_bucket_by_bucket() {
    let env = Env::new();
    let (remote, a) = setup(&env);
    let store_a = Store::discover(&a).unwrap();
    let made = keys(1_000, "m");
    store_a.add_keys(&made, now()).unwrap();
    env.run(&a, &["sync"]).ok();
    let c = clone(&env, &remote, "c");
    assert_eq!(ring(&c), ring(&a));
    let victim = made[5].clone();
    let victim_secret = stored_secret(&ring(&a), &victim.id);
    // c, offline, adds a key in the victim's bucket and one elsewhere; a erases the victim.
    let store_c = Store::discover(&c).unwrap();
    let same_bucket = key_in_bucket_of(&victim.id, "customer:c1");
    let elsewhere = Key::generate("customer:c2");
    store_c
        .add_keys(&[same_bucket.clone(), elsewhere.clone()], now())
        .unwrap();
    store_a
        .erase_keys(std::slice::from_ref(&victim.id), now())
        .unwrap();
    env.run(&a, &["sync"]).ok();
    env.run(&c, &["sync"]).ok();
    env.run(&a, &["sync"]).ok();
    for root in [&a, &c] {
        let store = Store::discover(root).unwrap();
        let reader = store.ring_reader().unwrap();
        assert!(
            matches!(reader.lookup(&victim.id), Lookup::Erased),
            "{}",
            root.display()
        );
        for k in [&same_bucket, &elsewhere, &made[6]] {
            assert!(matches!(reader.lookup(&k.id), Lookup::Present(_)));
        }
        assert_eq!(ring(root).keys().count(), 1_001);
        assert!(
            !holds(&all_objects(&env, root), &victim_secret),
            "{}",
            root.display()
        );
    }
    assert_eq!(ring(&a), ring(&c));
    assert_eq!(
        env.git(&remote, &["rev-parse", KEYRING_REF]),
        env.git(&a, &["rev-parse", KEYRING_REF])
    );
}

/// Makes the key ring ref point at a new parentless commit of `tree`; returns the commit.
fn point_ring_at(repo: &git2::Repository, tree: git2::TreeBuilder<'_>) -> git2::Oid {
    let tree = repo.find_tree(tree.write().unwrap()).unwrap();
    let sig = git2::Signature::now("casebook", "casebook").unwrap();
    let commit = repo
        .commit(None, &sig, &sig, "casebook key ring\n", &tree, &[])
        .unwrap();
    repo.reference(KEYRING_REF, commit, true, "test").unwrap();
    commit
}

/// Makes `root`'s key ring the format 1 `keyring.toml` of `ring`, as the previous casebook
/// wrote it.
fn write_format_1_ring(root: &Path, ring: &KeyRing) {
    let repo = git2::Repository::open(root).unwrap();
    let blob = repo.blob(ring.to_format_1_toml().as_bytes()).unwrap();
    let mut tree = repo.treebuilder(None).unwrap();
    tree.insert("keyring.toml", blob, 0o100644).unwrap();
    point_ring_at(&repo, tree);
}

#[test]
fn a_format_1_ring_is_read_and_rewritten_as_format_3_on_the_next_change() {
    let env = Env::new();
    let root = env.casebook("book");
    let mut old = KeyRing::new();
    old.ensure_pseudonym_secret(now());
    for k in keys(50, "old") {
        old.add(k, now());
    }
    let gone = old.keys().nth(3).unwrap().id.clone();
    old.erase(&gone);
    let kept = old.keys().next().unwrap().clone();
    write_format_1_ring(&root, &old);

    let store = Store::discover(&root).unwrap();
    assert_eq!(store.keyring().unwrap().unwrap(), old);
    let reader = store.ring_reader().unwrap();
    assert!(matches!(reader.lookup(&kept.id), Lookup::Present(k) if k == kept));
    assert!(matches!(reader.lookup(&gone), Lookup::Erased));
    assert_eq!(reader.pseudonym_secret().as_ref(), old.pseudonym_secret());
    // Reading and asking for the existing secret change nothing: still format 1.
    assert_eq!(
        &store.pseudonym_secret(now()).unwrap(),
        old.pseudonym_secret().unwrap()
    );
    env.git(&root, &["show", &format!("{KEYRING_REF}:keyring.toml")]);

    let new = Key::generate("customer:new");
    store.add_keys(std::slice::from_ref(&new), now()).unwrap();
    let files = env.git(&root, &["ls-tree", "--name-only", KEYRING_REF]);
    assert_eq!(
        files.lines().collect::<Vec<_>>(),
        ["erased", "keys", "ring.toml"]
    );
    let text = env.git(&root, &["show", &format!("{KEYRING_REF}:ring.toml")]);
    assert!(text.starts_with("format = 3"), "{text}");
    let mut expected = old.clone();
    expected.add(new, now());
    assert_eq!(
        ring(&root),
        expected,
        "every key, erasure and the secret carried over"
    );
    assert!(
        !holds(&all_objects(&env, &root), "format = 1"),
        "the format 1 ring was deleted"
    );
}

#[test]
fn a_ring_of_a_newer_format_is_refused_with_upgrade_casebook() {
    let env = Env::new();
    let root = env.casebook("book");
    let repo = git2::Repository::open(&root).unwrap();
    let blob = repo.blob(b"format = 4\n[whatever]\nx = 1\n").unwrap();
    let mut tree = repo.treebuilder(None).unwrap();
    tree.insert("ring.toml", blob, 0o100644).unwrap();
    let commit = point_ring_at(&repo, tree);
    let store = Store::discover(&root).unwrap();
    for e in [
        store.ring_reader().err().expect("refused"),
        store.add_keys(&[Key::generate("s")], now()).unwrap_err(),
    ] {
        let text = e.to_string();
        assert!(
            text.contains("format 4") && text.contains("upgrade casebook"),
            "{text}"
        );
        assert!(e.hint().unwrap().contains("upgrade casebook"));
    }
    // Nothing was written over it.
    assert_eq!(
        env.git(&root, &["rev-parse", KEYRING_REF]).trim(),
        commit.to_string()
    );
}

/// Makes `root`'s key ring `ring` as a format 2 ring, as the previous casebook wrote it:
/// `ring.toml` (format = 2), `keys/<b1b2>`, `erased/<b1b2>`.
fn write_format_2_ring(root: &Path, ring: &KeyRing) {
    let repo = git2::Repository::open(root).unwrap();
    let header = ring
        .header()
        .to_toml()
        .replacen("format = 3", "format = 2", 1);
    assert!(header.starts_with("format = 2"), "{header}");
    let mut keys = repo.treebuilder(None).unwrap();
    let mut erased = repo.treebuilder(None).unwrap();
    for (name, bucket) in ring.buckets() {
        if bucket.has_keys() {
            let blob = repo.blob(bucket.keys_text().as_bytes()).unwrap();
            keys.insert(name, blob, 0o100644).unwrap();
        }
        if bucket.has_erased() {
            let blob = repo.blob(bucket.erased_text().as_bytes()).unwrap();
            erased.insert(name, blob, 0o100644).unwrap();
        }
    }
    let mut tree = repo.treebuilder(None).unwrap();
    tree.insert("ring.toml", repo.blob(header.as_bytes()).unwrap(), 0o100644)
        .unwrap();
    tree.insert("keys", keys.write().unwrap(), 0o040000)
        .unwrap();
    if !erased.is_empty() {
        tree.insert("erased", erased.write().unwrap(), 0o040000)
            .unwrap();
    }
    point_ring_at(&repo, tree);
}

/// The paths of the files in the key ring, as `git ls-tree -r` names them.
fn ring_files(env: &Env, root: &Path) -> Vec<String> {
    env.git(root, &["ls-tree", "-r", "--name-only", KEYRING_REF])
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn a_format_2_ring_is_read_and_upgraded_to_format_3_on_the_next_change() {
    // A few buckets (written loose) and many (written as a pack).
    for n in [20, 400] {
        let env = Env::new();
        let root = env.casebook("book");
        let mut old = KeyRing::new();
        old.ensure_pseudonym_secret(now());
        for k in keys(n, "old") {
            old.add(k, now());
        }
        let gone = old.keys().nth(3).unwrap().id.clone();
        old.erase(&gone);
        write_format_2_ring(&root, &old);
        assert!(ring_files(&env, &root)
            .iter()
            .any(|f| f.len() == "keys/XY".len() && f.starts_with("keys/")));

        let store = Store::discover(&root).unwrap();
        assert_eq!(store.keyring().unwrap().unwrap(), old);
        let reader = store.ring_reader().unwrap();
        for key in old.keys() {
            assert!(matches!(reader.lookup(&key.id), Lookup::Present(ref k) if k == key));
        }
        assert!(matches!(reader.lookup(&gone), Lookup::Erased));
        assert_eq!(reader.pseudonym_secret().as_ref(), old.pseudonym_secret());
        // Reading and asking for the existing secret change nothing: still format 2.
        assert_eq!(
            &store.pseudonym_secret(now()).unwrap(),
            old.pseudonym_secret().unwrap()
        );
        let text = env.git(&root, &["show", &format!("{KEYRING_REF}:ring.toml")]);
        assert!(text.starts_with("format = 2"), "{text}");

        let new = Key::generate("customer:new");
        store.add_keys(std::slice::from_ref(&new), now()).unwrap();
        let text = env.git(&root, &["show", &format!("{KEYRING_REF}:ring.toml")]);
        assert!(text.starts_with("format = 3"), "{text}");
        let files = ring_files(&env, &root);
        for f in files.iter().filter(|f| f.as_str() != "ring.toml") {
            let (folder, bucket) = f.split_once('/').unwrap();
            assert!(["keys", "erased"].contains(&folder), "{f}");
            assert!(
                bucket.len() == 3 && bucket.as_bytes()[1] == b'/',
                "{f} is not <b1>/<b2>"
            );
        }
        let path = |folder: &str, id: &str| format!("{folder}/{}/{}", &id[1..2], &id[2..3]);
        assert!(files.contains(&path("erased", &gone)), "{files:?}");
        assert!(files.contains(&path("keys", &new.id)), "{files:?}");
        let mut expected = old.clone();
        expected.add(new.clone(), now());
        assert_eq!(ring(&root), expected, "every key, erasure and the secret");
        let reader = store.ring_reader().unwrap();
        assert!(matches!(reader.lookup(&new.id), Lookup::Present(_)));
        assert!(matches!(reader.lookup(&gone), Lookup::Erased));
        assert!(
            !holds(&all_objects(&env, &root), "format = 2"),
            "the format 2 ring was deleted ({n} keys)"
        );
        assert_eq!(
            env.git(&root, &["rev-list", "--count", KEYRING_REF]).trim(),
            "1"
        );
        env.git(&root, &["fsck", "--no-dangling", "--strict"]);
        // The next change is an ordinary format 3 change.
        let later = key_in_bucket_of(&new.id, "customer:later");
        store.add_keys(std::slice::from_ref(&later), now()).unwrap();
        expected.add(later, now());
        assert_eq!(ring(&root), expected);
        env.git(&root, &["fsck", "--no-dangling", "--strict"]);
    }
}

/// The loose objects of the repository at `root`, by id.
fn loose_objects(env: &Env, root: &Path) -> std::collections::HashSet<String> {
    let git_dir = root.join(env.git(root, &["rev-parse", "--git-dir"]).trim());
    let mut found = std::collections::HashSet::new();
    for dir in std::fs::read_dir(git_dir.join("objects")).unwrap() {
        let dir = dir.unwrap();
        let name = dir.file_name().to_string_lossy().to_string();
        if name.len() != 2 || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
            continue;
        }
        for file in std::fs::read_dir(dir.path()).unwrap() {
            found.insert(format!(
                "{name}{}",
                file.unwrap().file_name().to_string_lossy()
            ));
        }
    }
    found
}

/// Every object of the ring at `commit`: the commit, its trees and its blobs.
fn ring_object_ids(env: &Env, root: &Path, commit: &str) -> std::collections::HashSet<String> {
    let mut ids: std::collections::HashSet<String> = env
        .git(root, &["ls-tree", "-r", "-t", commit])
        .lines()
        .map(|l| l.split_whitespace().nth(2).unwrap().to_string())
        .collect();
    ids.insert(
        env.git(root, &["rev-parse", &format!("{commit}^{{tree}}")])
            .trim()
            .to_string(),
    );
    ids.insert(commit.to_string());
    ids
}

#[test]
fn a_replaced_ring_leaves_no_loose_object_the_new_one_does_not_share() {
    let env = Env::new();
    let root = env.casebook("book");
    let store = Store::discover(&root).unwrap();
    let first = Key::generate("customer:first");
    store.add_keys(std::slice::from_ref(&first), now()).unwrap();
    let mut all = vec![first.clone()];
    for i in 0..12 {
        let old = env
            .git(&root, &["rev-parse", KEYRING_REF])
            .trim()
            .to_string();
        let old_objects = ring_object_ids(&env, &root, &old);
        // Alternately a key in a bucket the ring has, a new bucket, and an erasure.
        match i % 3 {
            0 => {
                let k = key_in_bucket_of(&first.id, &format!("customer:same{i}"));
                store.add_keys(std::slice::from_ref(&k), now()).unwrap();
                all.push(k);
            }
            1 => {
                let k = Key::generate(&format!("customer:other{i}"));
                store.add_keys(std::slice::from_ref(&k), now()).unwrap();
                all.push(k);
            }
            _ => {
                let victim = all.remove(1);
                store
                    .erase_keys(std::slice::from_ref(&victim.id), now())
                    .unwrap();
            }
        }
        let new = env
            .git(&root, &["rev-parse", KEYRING_REF])
            .trim()
            .to_string();
        assert_ne!(new, old);
        let new_objects = ring_object_ids(&env, &root, &new);
        let loose = loose_objects(&env, &root);
        for o in &old_objects {
            assert!(
                !loose.contains(o) || new_objects.contains(o),
                "change {i}: {o} of the replaced ring is still loose"
            );
        }
        assert!(!loose.contains(&old), "change {i}: the old commit is left");
        assert!(
            new_objects.iter().any(|o| !old_objects.contains(o)),
            "change {i}"
        );
    }
    let r = ring(&root);
    assert_eq!(r.keys().count(), all.len());
    for k in &all {
        assert!(r.keys().any(|have| have == k));
    }
    env.git(&root, &["fsck", "--no-dangling", "--strict"]);
}

#[test]
fn adds_and_erasures_keep_fsck_clean_and_an_erased_key_is_in_no_object() {
    let env = Env::new();
    let root = env.casebook("book");
    // A reflog would keep old rings reachable: there must be none.
    env.git(&root, &["config", "core.logAllRefUpdates", "always"]);
    let store = Store::discover(&root).unwrap();
    let made = keys(40, "f");
    for chunk in made.chunks(7) {
        store.add_keys(chunk, now()).unwrap();
    }
    env.git(&root, &["fsck", "--no-dangling", "--strict"]);
    // Two keys in one bucket, of which one is erased; one key alone in its folder <b1>.
    let victim = made[0].clone();
    let neighbour = key_in_bucket_of(&victim.id, "customer:neighbour");
    let lone = loop {
        let k = Key::generate("customer:lone");
        if made
            .iter()
            .chain([&neighbour])
            .all(|m| m.id[1..2] != k.id[1..2])
        {
            break k;
        }
    };
    store
        .add_keys(&[neighbour.clone(), lone.clone()], now())
        .unwrap();
    let r = ring(&root);
    let secrets: Vec<String> = [&victim, &neighbour, &lone]
        .iter()
        .map(|k| stored_secret(&r, &k.id))
        .collect();
    let lone_folder = format!("keys/{}/", &lone.id[1..2]);
    assert!(ring_files(&env, &root)
        .iter()
        .any(|f| f.starts_with(&lone_folder)));
    store
        .erase_keys(&[victim.id.clone(), lone.id.clone()], now())
        .unwrap();
    let files = ring_files(&env, &root);
    assert!(
        !files.iter().any(|f| f.starts_with(&lone_folder)),
        "a folder without buckets is dropped: {files:?}"
    );
    for k in [&victim, &lone] {
        let erased = format!("erased/{}/{}", &k.id[1..2], &k.id[2..3]);
        assert!(files.contains(&erased), "{files:?}");
    }
    let objects = all_objects(&env, &root);
    assert!(
        !holds(&objects, &secrets[0]),
        "the erased key is in an object"
    );
    assert!(
        !holds(&objects, &secrets[2]),
        "the erased key is in an object"
    );
    assert!(holds(&objects, &secrets[1]), "its neighbour is kept");
    let reader = store.ring_reader().unwrap();
    assert!(matches!(reader.lookup(&victim.id), Lookup::Erased));
    assert!(matches!(reader.lookup(&lone.id), Lookup::Erased));
    assert!(matches!(reader.lookup(&neighbour.id), Lookup::Present(_)));
    assert_eq!(ring(&root).keys().count(), 40);
    env.git(&root, &["fsck", "--no-dangling", "--strict"]);
    assert_eq!(env.git(&root, &["reflog", "show", KEYRING_REF]).trim(), "");
    // An erased key added again stays out.
    store.add_keys(std::slice::from_ref(&lone), now()).unwrap();
    assert!(matches!(
        store.ring_reader().unwrap().lookup(&lone.id),
        Lookup::Erased
    ));
    env.git(&root, &["fsck", "--no-dangling", "--strict"]);
}

/// The file where a clone's new keys wait for the next change of its key ring.
fn pending_file(root: &Path) -> std::path::PathBuf {
    root.join(".git").join("casebook-keyring.pending")
}

/// The id of the key that seals case `id`'s values.
fn case_key(root: &Path, id: &str) -> String {
    let text = std::fs::read_to_string(crate::common::case_path(root, id)).unwrap();
    let keys = casebook::model::privacy::key_ids_in(&text);
    assert_eq!(keys.len(), 1, "{text}");
    keys[0].clone()
}

#[test]
fn a_new_case_keeps_its_key_pending_until_sync_takes_it_to_the_remote_and_every_clone() {
    let env = Env::new();
    let (remote, a) = setup(&env);
    let b = clone(&env, &remote, "b");
    let ring_before = env.git(&a, &["rev-parse", KEYRING_REF]);
    let id = env.open(&a, "Ada Lovelace", "Printer");
    let key = case_key(&a, &id);
    assert_eq!(
        env.git(&a, &["rev-parse", KEYRING_REF]),
        ring_before,
        "open appends its key to the pending file, not to the ring"
    );
    assert!(std::fs::read_to_string(pending_file(&a))
        .unwrap()
        .starts_with(&key));
    assert!(env
        .run(&a, &["show", &id])
        .ok()
        .stdout
        .contains("Ada Lovelace"));
    assert!(
        matches!(ring(&a).lookup(&key), Lookup::Present(_)),
        "readers see it"
    );

    let report = env.run(&a, &["sync", "--json"]).json();
    assert_eq!(report["keyring_pushed"], true, "{report}");
    assert!(!pending_file(&a).exists(), "the ring took the key in");
    let bucket = format!("{KEYRING_REF}:keys/{}/{}", &key[1..2], &key[2..3]);
    for root in [&a, &remote] {
        assert!(
            env.git(root, &["show", &bucket]).contains(&key),
            "{}",
            root.display()
        );
    }
    env.run(&b, &["sync"]).ok();
    let shown = env.run(&b, &["show", &id]).ok();
    assert!(shown.stdout.contains("Ada Lovelace"), "{}", shown.stdout);
    assert!(!shown.stderr.contains("sync"), "{}", shown.stderr);
}

#[test]
fn a_sync_stopped_before_it_merged_the_key_ring_is_finished_by_the_next_command() {
    let env = Env::new();
    let (remote, a) = setup(&env);
    let b = clone(&env, &remote, "b");
    let id = env.open(&a, "Ada Lovelace", "Printer");
    let key = case_key(&a, &id);
    env.run(&a, &["sync"]).ok();
    let out = env
        .cb(&b)
        .env("CASEBOOK_FAULT", "sync-before-ring-merge")
        .arg("sync")
        .output()
        .unwrap();
    assert!(!out.status.success(), "killed at the fault point");
    // The branch merge brought Ada's case; her key is only in the fetched ring.
    assert!(crate::common::case_path(&b, &id).exists());
    assert_eq!(ring(&b).lookup(&key), Lookup::Unknown);
    let fetched = || env.git(&b, &["for-each-ref", "refs/casebook/remotes"]);
    assert!(fetched().contains("keyring"), "{}", fetched());

    // The next command, a read, merges it: the case opens, and nothing is left over.
    let shown = env.run(&b, &["show", &id]).ok();
    assert!(shown.stdout.contains("Ada Lovelace"), "{}", shown.stdout);
    assert!(!shown.stderr.contains("sync"), "{}", shown.stderr);
    assert!(matches!(ring(&b).lookup(&key), Lookup::Present(_)));
    assert_eq!(fetched().trim(), "");
    let hits = env.run(&b, &["search", "Printer", "--json"]).ok().stdout;
    assert!(hits.contains(&id), "{hits}");
    // And the next sync goes on as usual.
    let report = env.run(&b, &["sync", "--json"]).json();
    assert_eq!(report["keyring_pushed"], false, "{report}");
    assert_eq!(ring(&b), ring(&a));
}

#[test]
fn an_open_killed_after_its_key_is_pending_commits_nothing_and_the_book_goes_on() {
    let env = Env::new();
    let root = env.casebook("book");
    let ada = env.open(&root, "Ada Lovelace", "Printer");
    let before = env.commit_count(&root);
    let out = env
        .cb(&root)
        .env("CASEBOOK_FAULT", "after-pending-keys")
        .args([
            "open",
            "--customer",
            "Bob Babbage",
            "--email",
            "bob@example.com",
            "--subject",
            "Scanner",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success(), "killed at the fault point");
    assert_eq!(env.commit_count(&root), before, "nothing committed");
    // Bob's key is pending, unused; the book reads and writes as before.
    let lines = std::fs::read_to_string(pending_file(&root)).unwrap();
    assert_eq!(lines.lines().count(), 2, "{lines}");
    let cy = env.open(&root, "Cy Cousin", "Modem");
    for (id, name) in [(&ada, "Ada Lovelace"), (&cy, "Cy Cousin")] {
        assert!(env.run(&root, &["show", id]).ok().stdout.contains(name));
    }
    env.run(&root, &["verify"]).ok();
}

#[test]
fn an_erasure_killed_after_its_ring_was_in_place_is_finished_by_the_next_command() {
    let env = Env::new();
    let root = env.casebook("book");
    // Ada's first key goes into the ring (an object), her second stays pending.
    let first = env.open(&root, "Ada Lovelace", "Printer");
    let pending_secret = |key: &str| {
        let lines = std::fs::read_to_string(pending_file(&root)).unwrap();
        lines
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split(' ').nth(2))
            .expect("the key is pending")
            .to_string()
    };
    let first_key = case_key(&root, &first);
    let first_secret = pending_secret(&first_key);
    Store::discover(&root)
        .unwrap()
        .update_keyring(now(), |_| false)
        .unwrap();
    assert!(holds(&all_objects(&env, &root), &first_secret));
    let second = env.open(&root, "Ada Lovelace", "Scanner");
    let second_key = case_key(&root, &second);
    let second_secret = pending_secret(&second_key);
    let bob = env.open(&root, "Bob Babbage", "Modem");
    let bob_key = case_key(&root, &bob);

    let out = env
        .cb(&root)
        .env("CASEBOOK_FAULT", "ring-before-pending-cleared")
        .args([
            "erase",
            "--customer",
            "ada.lovelace@example.com",
            "--reason",
            "GDPR 17",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success(), "killed at the fault point");
    assert!(
        std::fs::read_to_string(pending_file(&root))
            .unwrap()
            .contains(&second_key),
        "the fault left the pending file as it was"
    );
    // Before any casebook command: the ring in place erased both keys, and the stale
    // pending line does not bring the second back.
    let r = ring(&root);
    assert_eq!(r.lookup(&first_key), Lookup::Erased);
    assert_eq!(r.lookup(&second_key), Lookup::Erased);
    assert!(matches!(r.lookup(&bob_key), Lookup::Present(_)));

    // The next command finishes the erasure: its events, the pending file, the old ring.
    for id in [&first, &second] {
        let shown = env.run(&root, &["show", id]).ok().stdout;
        assert!(
            shown.contains("[erased]") && !shown.contains("Lovelace"),
            "{shown}"
        );
    }
    assert!(env
        .run(&root, &["show", &bob])
        .ok()
        .stdout
        .contains("Bob Babbage"));
    assert!(!pending_file(&root).exists());
    let objects = all_objects(&env, &root);
    assert!(!holds(&objects, &first_secret), "the replaced ring is gone");
    assert!(!holds(&objects, &second_secret));
    let erases = env.run(&root, &["show", &first, "--json"]).json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "erase")
        .count();
    assert_eq!(erases, 1, "the next command recorded the erasure, once");
}

#[test]
fn once_the_pending_file_is_full_the_next_new_case_takes_it_into_the_ring() {
    let env = Env::new();
    let root = env.casebook("book");
    let first = env.open(&root, "Ada Lovelace", "Printer");
    // Some 800 keys made by earlier opens (over 64 KiB of lines).
    let mut text = std::fs::read_to_string(pending_file(&root)).unwrap();
    let waiting: Vec<Key> = (0..800).map(|_| Key::generate("customer:x")).collect();
    for key in &waiting {
        casebook::model::keyring::push_key_line(&mut text, key, &now());
    }
    std::fs::write(pending_file(&root), text).unwrap();
    let ring_before = env.git(&root, &["rev-parse", KEYRING_REF]);

    let second = env.open(&root, "Bob Babbage", "Scanner");
    assert_ne!(env.git(&root, &["rev-parse", KEYRING_REF]), ring_before);
    assert!(!pending_file(&root).exists(), "the ring took every key in");
    let bucket_of = |id: &str| format!("{KEYRING_REF}:keys/{}/{}", &id[1..2], &id[2..3]);
    for id in waiting
        .iter()
        .map(|k| k.id.clone())
        .chain([case_key(&root, &first), case_key(&root, &second)])
    {
        assert!(
            env.git(&root, &["show", &bucket_of(&id)]).contains(&id),
            "{id}"
        );
    }
    // The next one waits in the file again.
    env.open(&root, "Cy Cousin", "Modem");
    assert!(pending_file(&root).exists());
}

#[test]
fn a_damaged_pending_file_is_a_clear_error_and_nothing_is_written() {
    let env = Env::new();
    let root = env.casebook("book");
    let ada = env.open(&root, "Ada Lovelace", "Printer");
    let mut text = std::fs::read_to_string(pending_file(&root)).unwrap();
    text.push_str("KNOTAKEY half a line\n");
    std::fs::write(pending_file(&root), &text).unwrap();
    let before = env.commit_count(&root);
    for args in [
        vec!["show", ada.as_str()],
        vec![
            "open",
            "--customer",
            "Bob Babbage",
            "--email",
            "bob@example.com",
            "--subject",
            "Scanner",
        ],
    ] {
        let err = env.run(&root, &args).fails(4);
        assert!(
            err.contains("casebook-keyring.pending, line 2") && err.contains("do not delete it"),
            "{err}"
        );
    }
    assert_eq!(env.commit_count(&root), before, "nothing committed");
    assert_eq!(
        std::fs::read_to_string(pending_file(&root)).unwrap(),
        text,
        "the file is left for a person to mend"
    );
}
