//! The key ring in its own ref, `refs/casebook/keyring`: one commit with no parent whose
//! tree holds `ring.toml` and the key buckets `keys/<b1>/<b2>` and `erased/<b1>/<b2>`
//! (format 3, see [`crate::model::keyring`]; a format 2 ring's `keys/<b1b2>` and a format 1
//! ring's one `keyring.toml` are read, and rewritten as format 3 on the next change). Every
//! change writes a new parentless commit, with new blobs only for the buckets it changed
//! and new trees only on their paths, and moves the ref with a compare-and-swap, so no
//! older key ring is reachable from anything: the branch history never holds a key.
//! [`RingReader`] reads one bucket per key looked up, never the whole ring.
//!
//! Replaced key rings are deleted from the object database at once when they are loose
//! objects: every object of the old ring the new one does not share, found by walking both
//! trees together and passing over every subtree they share. One that git had packed (a
//! clone, `git gc`) cannot be taken out of its pack alone; this clone notes that it exists,
//! and the next erasure repacks (`git repack -a -d`), which drops every unreachable packed
//! object. An erasure also empties the ref's reflog. After it, no object in this
//! repository holds an erased key.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use git2::build::TreeUpdateBuilder;
use git2::{ErrorCode, FileMode, ObjectType, Oid, Signature, Time};

use super::ring_read::{bucket_path, Edit, Layout, RingAt, RingReader};
use super::{GitContext, Result, Store, StoreError};
use crate::model::keyring::{bucket_of, Header, KeyRing, PseudonymSecret};
use crate::model::seal::Key;

/// The ref that holds the key ring.
pub const KEYRING_REF: &str = "refs/casebook/keyring";
/// The header of a format 2 or 3 ring.
pub(super) const HEADER: &str = "ring.toml";
/// The one file of a format 1 ring.
pub(super) const FORMAT_1_FILE: &str = "keyring.toml";
/// The folders of a format 2 or 3 ring's buckets.
pub(super) const KEYS: &str = "keys";
pub(super) const ERASED: &str = "erased";
/// More changed buckets than this are written as one pack (see `write_ring_commit`).
const BULK_BUCKETS: usize = 64;
/// How many times a change is tried again when another process moved the ref meanwhile.
const ATTEMPTS: u32 = 50;

/// Where the key ring of `remote` is fetched to (deleted again once merged).
pub fn tracking_ref(remote: &str) -> String {
    format!("refs/casebook/remotes/{remote}/keyring")
}

/// The fetch refspec that brings a remote's key ring (if it has one: a glob matches none
/// without an error).
pub fn fetch_refspec(remote: &str) -> String {
    format!("+refs/casebook/keyring*:refs/casebook/remotes/{remote}/keyring*")
}

/// How long to wait for another casebook process that is changing the key ring.
const LOCK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Held while one process reads, changes and replaces the key ring (an OS file lock,
/// released even on a crash). The ref's compare-and-swap alone lost a key in the test of
/// concurrent writers (a writer saw no ref and created it while another had just moved
/// it); the lock serialises casebook's writers, the compare-and-swap still guards against
/// other programs.
pub(super) struct RingLock {
    _file: std::fs::File,
}

/// What a key ring merge leaves to push: the local ring's commit and the remote's, which
/// the push expects to find there (`None`: the remote has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingPush {
    pub local: Oid,
    pub remote: Option<Oid>,
}

/// The key ring as read ahead of a change, without the ring lock: its tip then, and an
/// edit of it with some buckets read. [`Store::change_ring`] starts from it if the ring is
/// still at that tip once the lock is held (a ring is never changed in place, only
/// replaced), and reads the ring again if not.
pub(super) struct ReadAhead<'r> {
    tip: Option<Oid>,
    edit: Edit<'r>,
}

/// Keys on their way into the key ring, on a thread of their own with a second handle of
/// the repository ([`Store::prepare_keys`]). The thread reads the ring, and the bucket the
/// transaction's first new key goes to, while the transaction builds its change; it adds
/// the keys once it is given them ([`RingPrep::add`]), as the transaction writes the
/// change's objects, and ends on its own when given none.
pub(crate) struct RingPrep {
    keys: std::sync::mpsc::SyncSender<(Vec<Key>, DateTime<Utc>)>,
    added: std::sync::mpsc::Receiver<Result<()>>,
    thread: std::thread::JoinHandle<()>,
}

/// How long [`RingPrep::wait`] looks for the ring thread's result before it sleeps.
const POLL_RING: std::time::Duration = std::time::Duration::from_millis(2);

impl RingPrep {
    /// Gives the thread `keys` to add, created at `now`.
    pub(crate) fn add(&self, keys: Vec<Key>, now: DateTime<Utc>) {
        // A thread that is gone (it panicked) is found out by `wait`.
        let _ = self.keys.send((keys, now));
    }

    /// Waits until the keys given are in the key ring.
    pub(crate) fn wait(self) -> Result<()> {
        // The ring is most often written within a millisecond of the transaction's own
        // objects. Waking a thread that went to sleep costs 0.2 to 0.4 ms on a busy VM, so
        // it looks for the result a while, giving up its core meanwhile, before it sleeps.
        let polling = std::time::Instant::now();
        while polling.elapsed() < POLL_RING {
            match self.added.try_recv() {
                Ok(added) => return added,
                Err(std::sync::mpsc::TryRecvError::Empty) => std::thread::yield_now(),
                Err(std::sync::mpsc::TryRecvError::Disconnected) => break,
            }
        }
        match self.added.recv() {
            Ok(added) => added,
            // It ended without a result: it panicked.
            Err(_) => std::panic::resume_unwind(
                self.thread
                    .join()
                    .err()
                    .unwrap_or_else(|| Box::new("the key ring thread ended without a result")),
            ),
        }
    }
}

impl Store {
    /// Starts a [`RingPrep`] that reads ahead the bucket `bucket`, if any.
    pub(crate) fn prepare_keys(&self, bucket: Option<&str>) -> RingPrep {
        let git_dir = self.repo.path().to_path_buf();
        let branch = self.branch.clone();
        let bucket = bucket.map(str::to_string);
        let (keys, given) = std::sync::mpsc::sync_channel::<(Vec<Key>, DateTime<Utc>)>(1);
        let (done, added) = std::sync::mpsc::sync_channel(1);
        let thread = std::thread::spawn(move || {
            // Its handle is opened here, not by the transaction, which has work of its own.
            let ring = match Store::reopen(&git_dir, branch, true) {
                Ok(ring) => ring,
                Err(e) => {
                    let _ = done.send(Err(e));
                    return;
                }
            };
            let ahead = ring.read_ahead(bucket.as_deref());
            // None given: the transaction made no key, or ended.
            let Ok((keys, now)) = given.recv() else {
                return;
            };
            let result = ring.add_keys_after(ahead, &keys, now);
            // The result goes first, the handle is closed after: the transaction waits
            // neither for the close nor for the rest of this thread's end.
            let _ = done.send(result);
        });
        RingPrep {
            keys,
            added,
            thread,
        }
    }

    /// The ring and its bucket `bucket`, read now; `None` if they cannot be read (the
    /// change reads them again, and reports what fails).
    fn read_ahead(&self, bucket: Option<&str>) -> Option<ReadAhead<'_>> {
        let tip = self.ring_tip(KEYRING_REF).ok()?;
        let base = match tip {
            Some(commit) => Some(self.open_ring(commit).ok()?),
            None => None,
        };
        let mut edit = Edit::new(base);
        if let Some(name) = bucket {
            edit.bucket(name).ok()?;
        }
        Some(ReadAhead { tip, edit })
    }

    pub(super) fn ring_lock(&self) -> Result<RingLock> {
        let path = self.repo.path().join("casebook-keyring.lock");
        let file = std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| StoreError::Io {
                action: "open",
                path: path.clone(),
                source,
            })?;
        let start = std::time::Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(RingLock { _file: file }),
                Err(std::fs::TryLockError::WouldBlock) if start.elapsed() < LOCK_TIMEOUT => {
                    std::thread::sleep(std::time::Duration::from_millis(2))
                }
                Err(std::fs::TryLockError::WouldBlock) => return Err(StoreError::Locked(path)),
                Err(std::fs::TryLockError::Error(source)) => {
                    return Err(StoreError::Io {
                        action: "lock",
                        path,
                        source,
                    })
                }
            }
        }
    }

    /// What the key ring's erased ids are now, cheaply: the id of its `erased/` tree (of its
    /// whole tree for a format-1 ring), `None` without a ring. A change means a key was
    /// erased (ids are never un-erased).
    pub fn erased_version(&self) -> Result<Option<Oid>> {
        let Some(tip) = self.ring_tip(KEYRING_REF)? else {
            return Ok(None);
        };
        let tree = self
            .repo
            .find_commit(tip)
            .and_then(|c| c.tree())
            .ctx(|| format!("cannot read the key ring {tip}"))?;
        Ok(Some(tree.get_name(ERASED).map_or(tree.id(), |e| e.id())))
    }

    pub(super) fn ring_tip(&self, name: &str) -> Result<Option<Oid>> {
        match self.repo.refname_to_id(name) {
            Ok(oid) => Ok(Some(oid)),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e).ctx(|| format!("cannot read {name}")),
        }
    }

    /// Every object of the ring at `commit`, in the order to delete them: blobs before the
    /// trees that name them, the commit last, so that a deletion cut short can be done
    /// again. A subtree already gone (such a deletion) is skipped.
    fn ring_objects(&self, commit: Oid) -> Result<Vec<Oid>> {
        let c = self
            .repo
            .find_commit(commit)
            .ctx(|| format!("cannot read the key ring commit {commit}"))?;
        let tree = c.tree().ctx(|| "cannot read the key ring's tree".into())?;
        let mut oids = Vec::new();
        self.tree_objects(&tree, &mut oids);
        oids.push(commit);
        Ok(oids)
    }

    /// Every object of `tree`, itself last, children before their trees.
    fn tree_objects(&self, tree: &git2::Tree<'_>, oids: &mut Vec<Oid>) {
        for entry in tree.iter() {
            if entry.kind() == Some(ObjectType::Tree) {
                if let Ok(sub) = self.repo.find_tree(entry.id()) {
                    self.tree_objects(&sub, oids);
                    continue;
                }
            }
            oids.push(entry.id());
        }
        oids.push(tree.id());
    }

    /// The objects of `old` (a tree of a ring) that `new` (the same place in another ring)
    /// does not have, in the order to delete them (as [`Store::ring_objects`]): the two are
    /// walked together by entry name, and a subtree whose id is the same on both sides is
    /// shared whole, never read.
    ///
    /// Within format 3 an object can only be in one place: a bucket's lines name its
    /// bucket, and so do its folders' entries. So an object of `old` that `new` has is at
    /// the same path in both, and this finds every object to delete without listing either
    /// ring. (Across formats the same bucket blob sits at another path: see
    /// [`Store::forget_ring`].)
    fn tree_difference(
        &self,
        old: &git2::Tree<'_>,
        new: Option<&git2::Tree<'_>>,
        oids: &mut Vec<Oid>,
    ) -> Result<()> {
        for entry in old.iter() {
            let theirs = new.and_then(|n| entry.name().and_then(|name| n.get_name(name)));
            if theirs.as_ref().is_some_and(|t| t.id() == entry.id()) {
                continue;
            }
            if entry.kind() == Some(ObjectType::Tree) {
                // A subtree already gone (a deletion cut short) is skipped.
                if let Ok(sub) = self.repo.find_tree(entry.id()) {
                    // The new ring's side must be readable: what it holds is kept.
                    let their_sub = match theirs.filter(|t| t.kind() == Some(ObjectType::Tree)) {
                        Some(t) => Some(
                            self.repo
                                .find_tree(t.id())
                                .ctx(|| "cannot read the key ring's tree".into())?,
                        ),
                        None => None,
                    };
                    self.tree_difference(&sub, their_sub.as_ref(), oids)?;
                    continue;
                }
            }
            oids.push(entry.id());
        }
        oids.push(old.id());
        Ok(())
    }

    /// The ring at `tip`, the ring ref's tip just read (`Some(None)`: there is no ring);
    /// `None` if it could not be read because another process replaced it meanwhile (read
    /// the tip again).
    fn ring_at_tip(&self, tip: Option<Oid>) -> Result<Option<Option<RingAt<'_>>>> {
        let Some(commit) = tip else {
            return Ok(Some(None));
        };
        match self.open_ring(commit) {
            Ok(ring) => Ok(Some(Some(ring))),
            Err(_) if self.ring_tip(KEYRING_REF)? != tip => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The ring at `commit`: its header read, its buckets read when asked.
    pub(super) fn open_ring(&self, commit: Oid) -> Result<RingAt<'_>> {
        RingAt::open(&self.repo, commit)
    }

    /// The ring ref's tip and the ring there, given to `read`. Another process may replace
    /// the ring and delete the old one while `read` reads it: then again, from the new tip.
    fn read_tip_with<T>(
        &self,
        mut read: impl FnMut(Option<&RingAt<'_>>) -> Result<T>,
    ) -> Result<T> {
        let mut last = None;
        for _ in 0..ATTEMPTS {
            let tip = self.ring_tip(KEYRING_REF)?;
            let Some(commit) = tip else {
                return read(None);
            };
            match self.open_ring(commit).and_then(|ring| read(Some(&ring))) {
                Ok(t) => return Ok(t),
                Err(e) if self.ring_tip(KEYRING_REF)? != tip => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.expect("tried at least once"))
    }

    /// This clone's whole key ring, every bucket read; `None` if it has none (a new book,
    /// or a clone that did not fetch it). To look keys up, [`Store::ring_reader`] reads
    /// only what it needs.
    /// The keys still pending ([`super::pending`]) are in it.
    pub fn keyring(&self) -> Result<Option<KeyRing>> {
        // The pending keys first: one taken into the ring meanwhile is in the ring read after.
        let pending = self.pending_keys()?;
        let ring = self.read_tip_with(|ring| ring.map(RingAt::whole).transpose())?;
        if pending.is_empty() {
            return Ok(ring);
        }
        let mut ring = ring.unwrap_or_default();
        for (key, created) in pending.iter() {
            ring.add(key.clone(), *created);
        }
        Ok(Some(ring))
    }

    /// A reader of this clone's key ring that reads a bucket only when a key of it is
    /// looked up (one tree and one small blob), and keeps what it read.
    /// It knows the pending keys too.
    pub fn ring_reader(&self) -> Result<RingReader<'_>> {
        let pending = self.pending_text()?;
        let mut last = None;
        for _ in 0..ATTEMPTS {
            let tip = self.ring_tip(KEYRING_REF)?;
            let Some(commit) = tip else {
                return Ok(RingReader::new(self, None, pending));
            };
            match self.open_ring(commit) {
                Ok(ring) => return Ok(RingReader::new(self, Some(ring), pending)),
                Err(e) if self.ring_tip(KEYRING_REF)? != tip => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.expect("tried at least once"))
    }

    /// The ids of every key of `subject`, in id order (reads every bucket), pending keys
    /// included.
    pub fn keys_of_subject(&self, subject: &str) -> Result<Vec<String>> {
        let pending = self.pending_keys()?;
        let mut ids = self.read_tip_with(|ring| {
            let mut ids = Vec::new();
            if let Some(ring) = ring {
                for name in ring.bucket_names()? {
                    let bucket = ring.bucket(&name)?;
                    ids.extend(
                        bucket
                            .keys()
                            .filter(|k| k.subject == subject)
                            .map(|k| k.id.clone()),
                    );
                }
            }
            // A pending key the ring erased (a fold cut short) is not the subject's any more.
            for (key, _) in pending.iter().filter(|(k, _)| k.subject == subject) {
                let erased = match ring {
                    Some(ring) => {
                        let name = bucket_of(&key.id).expect("a Key has a valid id");
                        ring.bucket(name)?.is_erased(&key.id)
                    }
                    None => false,
                };
                if !erased {
                    ids.push(key.id.clone());
                }
            }
            Ok(ids)
        })?;
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    /// Writes the ring `edit` made as a new commit (not yet the ref's): new blobs only
    /// for the buckets it changed, the rest of its base ring's tree shared.
    fn write_ring_commit(&self, edit: &mut Edit<'_>, now: DateTime<Utc>) -> Result<Oid> {
        // Many buckets at once (an import makes a key per case): their blobs go into one
        // pack, not one file each; the few trees and the commit stay loose.
        if edit.buckets.len() > BULK_BUCKETS {
            let pack = std::cell::RefCell::new(Some(super::BlobPack::new(self)?));
            let write_blob = |bytes: &[u8]| -> Result<Oid> {
                match pack.borrow().as_ref() {
                    Some(p) => p.add(bytes),
                    None => self
                        .repo
                        .blob(bytes)
                        .ctx(|| "cannot write the key ring".into()),
                }
            };
            let mut flush = || -> Result<()> {
                match pack.borrow_mut().take() {
                    Some(p) => p.finish(self),
                    None => Ok(()),
                }
            };
            // The trees and the commit are written in memory on a second handle of the
            // repository and stored as a pack of their own: no loose object at all.
            return self.write_as_pack(|side| {
                let side = &side.repo;
                let commit = self.write_ring_objects(side, edit, now, &write_blob, &mut flush)?;
                // The commit and its trees, written whole (libgit2's own dump of a mempack
                // walks the trees and searches deltas between all the buckets).
                let tree = side
                    .find_commit(commit)
                    .and_then(|c| c.tree())
                    .ctx(|| "cannot read the key ring's tree".into())?;
                // Every tree: the root, `keys/`, `erased/` and their folders `<b1>`.
                let mut oids = vec![commit, tree.id()];
                for name in [KEYS, ERASED] {
                    let Some(e) = tree.get_name(name) else {
                        continue;
                    };
                    oids.push(e.id());
                    let folder = side
                        .find_tree(e.id())
                        .ctx(|| format!("cannot read {name}/ of the key ring"))?;
                    oids.extend(
                        folder
                            .iter()
                            .filter(|e| e.kind() == Some(ObjectType::Tree))
                            .map(|e| e.id()),
                    );
                }
                Ok((commit, oids))
            });
        }
        // A few objects (a new key: a bucket, two folders, the root and the commit): made
        // in memory, then written as loose objects by casebook itself.
        self.write_as_loose(|side| {
            let write_blob = |bytes: &[u8]| {
                side.repo
                    .blob(bytes)
                    .ctx(|| "cannot write the key ring".into())
            };
            let commit =
                self.write_ring_objects(&side.repo, edit, now, &write_blob, &mut || Ok(()))?;
            let tree = side
                .repo
                .find_commit(commit)
                .and_then(|c| c.tree())
                .ctx(|| "cannot read the key ring's tree".into())?;
            // Every object of the new ring that the old one does not have.
            let mut oids = Vec::new();
            side.tree_difference(&tree, edit.base.as_ref().map(|b| &b.tree), &mut oids)?;
            oids.push(commit);
            Ok((commit, oids))
        })
    }

    /// Writes the blobs of the changed buckets with `write_blob`, calls `flush` once they
    /// are all written, then the trees and the commit in `repo`.
    fn write_ring_objects(
        &self,
        repo: &git2::Repository,
        edit: &mut Edit<'_>,
        now: DateTime<Utc>,
        write_blob: &dyn Fn(&[u8]) -> Result<Oid>,
        flush: &mut dyn FnMut() -> Result<()>,
    ) -> Result<Oid> {
        // A format 1 or 2 ring is rewritten whole, as format 3.
        let rewrite = !edit.base.as_ref().is_some_and(|b| b.layout.is_current());
        if rewrite {
            edit.load_all()?;
        }
        let baseline = match (&edit.base, rewrite) {
            (Some(base), false) => base.tree.clone(),
            _ => {
                let empty = repo
                    .treebuilder(None)
                    .and_then(|b| b.write())
                    .ctx(|| "cannot write the key ring's tree".into())?;
                repo.find_tree(empty)
                    .ctx(|| "cannot read the key ring's tree".into())?
            }
        };
        let mut update = TreeUpdateBuilder::new();
        // A format 3 base's `ring.toml` stays when the secret did not change (writing it
        // again would only find the same blob, at the cost of a temporary file).
        let same_header = !rewrite
            && edit
                .base
                .as_ref()
                .is_some_and(|b| b.header.pseudonyms == edit.pseudonyms);
        if !same_header {
            let header = Header {
                pseudonyms: edit.pseudonyms.clone(),
            };
            update.upsert(
                HEADER,
                write_blob(header.to_toml().as_bytes())?,
                FileMode::Blob,
            );
        }
        for (name, (old, new)) in &edit.buckets {
            if !rewrite && old == new {
                continue;
            }
            let (keys_at, erased_at) = match (&edit.base, rewrite) {
                (Some(base), false) => base.bucket_oids(name)?,
                _ => (None, None),
            };
            let keys_path = bucket_path(KEYS, name);
            if new.has_keys() {
                update.upsert(
                    &keys_path,
                    write_blob(new.keys_text().as_bytes())?,
                    FileMode::Blob,
                );
            } else if keys_at.is_some() {
                update.remove(&keys_path);
            }
            let erased_path = bucket_path(ERASED, name);
            if new.has_erased() {
                update.upsert(
                    &erased_path,
                    write_blob(new.erased_text().as_bytes())?,
                    FileMode::Blob,
                );
            } else if erased_at.is_some() {
                update.remove(&erased_path);
            }
        }
        flush()?;
        let tree_id = update
            .create_updated(repo, &baseline)
            .ctx(|| "cannot write the key ring's tree".into())?;
        let tree = repo
            .find_tree(tree_id)
            .ctx(|| "cannot read the key ring's tree".into())?;
        let sig = Signature::new("casebook", "casebook", &Time::new(now.timestamp(), 0))
            .ctx(|| "cannot make the key ring's signature".into())?;
        repo.commit(None, &sig, &sig, "casebook key ring\n", &tree, &[])
            .ctx(|| "cannot write the key ring commit".into())
    }

    /// Moves the key ring ref from `expected` to `new`; `false` if it was not at `expected`.
    fn swap_ring_ref(&self, expected: Option<Oid>, new: Oid) -> Result<bool> {
        let result = match expected {
            Some(old) => self
                .repo
                .reference_matching(KEYRING_REF, new, true, old, "casebook: key ring")
                .map(|_| ()),
            None => self
                .repo
                .reference(KEYRING_REF, new, false, "casebook: key ring")
                .map(|_| ()),
        };
        match result {
            Ok(()) => Ok(true),
            Err(e) if matches!(e.code(), ErrorCode::Modified | ErrorCode::Exists) => Ok(false),
            // Another process is moving it right now: let it finish, then look again.
            Err(e) if e.code() == ErrorCode::Locked => {
                let mut jitter = [0u8; 1];
                let _ = getrandom::fill(&mut jitter);
                std::thread::sleep(std::time::Duration::from_millis(
                    2 + u64::from(jitter[0] % 16),
                ));
                Ok(false)
            }
            Err(e) => Err(e).ctx(|| format!("cannot move {KEYRING_REF}")),
        }
    }

    /// Changes the key ring with `change`, which edits an [`Edit`] of the current ring
    /// (reading only the buckets it asks for), as a compare-and-swap of the ref under the
    /// ring lock, tried again if another program changed it meanwhile. Nothing is written
    /// when the edit changed nothing. A change that removed a key purges the old rings
    /// from this repository. The pending keys go in with every change.
    fn change_ring<'s, T>(
        &'s self,
        now: DateTime<Utc>,
        ahead: Option<ReadAhead<'s>>,
        change: impl FnMut(&mut Edit<'s>) -> Result<T>,
    ) -> Result<T> {
        let _lock = self.ring_lock()?;
        self.change_ring_locked(now, ahead, change)
    }

    /// [`Store::change_ring`], the ring lock held: the pending keys are added before
    /// `change` runs (so an erasure erases them too), and their file is emptied once the
    /// ring holds them.
    fn change_ring_locked<'s, T>(
        &'s self,
        now: DateTime<Utc>,
        mut ahead: Option<ReadAhead<'s>>,
        mut change: impl FnMut(&mut Edit<'s>) -> Result<T>,
    ) -> Result<T> {
        self.forget_noted_ring()?;
        let pending = self.pending_keys()?;
        let mut change = |edit: &mut Edit<'s>| -> Result<T> {
            for (key, created) in pending.iter() {
                let name = bucket_of(&key.id).expect("a Key has a valid id");
                edit.bucket(name)?.add(key.clone(), *created);
            }
            change(edit)
        };
        for _ in 0..ATTEMPTS {
            let tip = self.ring_tip(KEYRING_REF)?;
            let mut edit = match ahead.take() {
                // Read ahead, without the lock, from the ring that is still the ring.
                Some(ReadAhead { tip: at, edit }) if at == tip => edit,
                _ => match self.ring_at_tip(tip)? {
                    Some(base) => Edit::new(base),
                    None => continue,
                },
            };
            let out = match change(&mut edit) {
                Ok(out) => out,
                // Replaced (and deleted) by another program while we read it.
                Err(_) if self.ring_tip(KEYRING_REF)? != tip => continue,
                Err(e) => return Err(e),
            };
            if !edit.changed() {
                // The ring held every pending key already (a fold cut short).
                self.clear_pending(&pending)?;
                return Ok(out);
            }
            let commit = self.write_ring_commit(&mut edit, now)?;
            let removed_a_key = edit.removed_a_key();
            let base = edit.base.take();
            drop(edit);
            if removed_a_key {
                self.note_replaced_ring(tip)?;
            }
            if self.swap_ring_ref(tip, commit)? {
                super::fault::point("ring-before-pending-cleared");
                self.clear_pending(&pending)?;
                match &base {
                    Some(old) => self.forget_replaced(old, commit)?,
                    None => self.forget_ring(tip)?,
                }
                self.delete_ring_reflog()?;
                if removed_a_key {
                    self.purge_old_rings()?;
                    self.clear_noted_ring()?;
                }
                return Ok(out);
            }
            // Someone else changed it first: our commit is garbage, drop it and try again.
            self.forget_ring(Some(commit))?;
        }
        Err(StoreError::Contention {
            branch: KEYRING_REF.to_string(),
            attempts: ATTEMPTS,
        })
    }

    /// Changes the whole key ring with `change` (which returns whether it changed
    /// anything); reads every bucket, writes only those that changed. Returns the ring as
    /// written (or as it was, if nothing changed). For a few keys at a time prefer
    /// [`Store::add_keys`] and [`Store::erase_keys`], which read only their buckets.
    pub fn update_keyring(
        &self,
        now: DateTime<Utc>,
        mut change: impl FnMut(&mut KeyRing) -> bool,
    ) -> Result<KeyRing> {
        self.change_ring(now, None, |edit| {
            edit.load_all()?;
            let mut ring = edit.ring();
            if change(&mut ring) {
                edit.set_ring(&ring);
            }
            Ok(ring)
        })
    }

    /// Adds `keys` (made with [`Key::generate`]) in one replacement of the ring, each
    /// created at `now`. A key whose id the ring already has, or erased, is left out.
    pub fn add_keys(&self, keys: &[Key], now: DateTime<Utc>) -> Result<()> {
        self.add_keys_after(None, keys, now)
    }

    /// [`Store::add_keys`], starting from what was read `ahead` if the ring has not moved
    /// since.
    fn add_keys_after<'s>(
        &'s self,
        ahead: Option<ReadAhead<'s>>,
        keys: &[Key],
        now: DateTime<Utc>,
    ) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        self.change_ring(now, ahead, |edit| {
            for key in keys {
                let name = bucket_of(&key.id).expect("a Key has a valid id");
                edit.bucket(name)?.add(key.clone(), now);
            }
            Ok(())
        })
    }

    /// Adds nothing and removes nothing: makes the book's pseudonym secret if it has none,
    /// and returns it.
    pub fn pseudonym_secret(&self, now: DateTime<Utc>) -> Result<PseudonymSecret> {
        self.change_ring(now, None, |edit| {
            Ok(edit
                .pseudonyms
                .get_or_insert_with(|| PseudonymSecret::generate(now))
                .clone())
        })
    }

    /// Erases the keys with these ids, for good, and purges every old key ring from this
    /// repository. Returns the ids this ring had.
    pub fn erase_keys(&self, ids: &[String], now: DateTime<Utc>) -> Result<Vec<String>> {
        if let Some(bad) = ids.iter().find(|id| bucket_of(id).is_none()) {
            return Err(StoreError::Keyring(format!(
                "{bad:?} is not a key id (K and 16 characters of 0-9 and A-Z without I, L, O, U)"
            )));
        }
        self.change_ring(now, None, |edit| {
            let mut had = Vec::new();
            for id in ids {
                let name = bucket_of(id).expect("checked above");
                if edit.bucket(name)?.erase(id) {
                    had.push(id.clone());
                }
            }
            Ok(had)
        })
    }

    /// The remotes whose fetched key ring is still at its [`tracking_ref`], not merged:
    /// a `sync` stopped between its fetch and its merge of the ring left it.
    pub fn unmerged_fetched_rings(&self) -> Vec<String> {
        let Ok(refs) = self.repo.references_glob("refs/casebook/remotes/*") else {
            return Vec::new();
        };
        refs.flatten()
            .filter_map(|r| {
                let name = r.name()?;
                let remote = name
                    .strip_prefix("refs/casebook/remotes/")?
                    .strip_suffix("/keyring")?;
                (tracking_ref(remote) == name).then(|| remote.to_string())
            })
            .collect()
    }

    /// Merges the key ring fetched from `remote` (left at [`tracking_ref`] by
    /// [`Store::fetch`]) into this clone's and drops the fetched copy. Returns what to push
    /// when the remote's ring differs from the merged one.
    pub fn merge_fetched_keyring(
        &self,
        remote: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<RingPush>> {
        let tracking = tracking_ref(remote);
        let _lock = self.ring_lock()?;
        self.forget_noted_ring()?;
        // This clone's pending keys go into its ring after the merge, to be pushed: folded
        // before it, the replaced ring's objects would be deleted, and the fetched ring is
        // often that very ring (nothing changed on the remote since).
        let fold_pending = || -> Result<()> {
            if !self.pending_keys()?.is_empty() {
                self.change_ring_locked(now, None, |_| Ok(()))?;
            }
            Ok(())
        };
        let Some(theirs) = self.ring_tip(&tracking)? else {
            fold_pending()?;
            return Ok(self.ring_tip(KEYRING_REF)?.map(|local| RingPush {
                local,
                remote: None,
            }));
        };
        // The fetched copy's ref goes first, so that nothing but its objects is left of it.
        if let Ok(mut r) = self.repo.find_reference(&tracking) {
            r.delete().ctx(|| format!("cannot delete {tracking}"))?;
        }
        let (_, removed_a_key) = self.merge_ring_commit(theirs, now)?;
        self.forget_ring(Some(theirs))?;
        if removed_a_key {
            self.purge_old_rings()?;
            self.clear_noted_ring()?;
        }
        fold_pending()?;
        let Some(local) = self.ring_tip(KEYRING_REF)? else {
            return Ok(None);
        };
        Ok((local != theirs).then_some(RingPush {
            local,
            remote: Some(theirs),
        }))
    }

    /// Merges the ring at commit `theirs` into the local one, bucket by bucket (a bucket
    /// with the same blobs on both sides is not read); returns the local tip after, and
    /// whether either side lost a key the other had erased.
    fn merge_ring_commit(&self, theirs: Oid, now: DateTime<Utc>) -> Result<(Oid, bool)> {
        let other = self.open_ring(theirs)?;
        for _ in 0..ATTEMPTS {
            let tip = self.ring_tip(KEYRING_REF)?;
            let Some(mine) = self.ring_at_tip(tip)? else {
                continue;
            };
            let mut edit = Edit::new(mine);
            let mut names = other.bucket_names()?;
            if let Some(mine) = &edit.base {
                names.extend(mine.bucket_names()?);
            }
            edit.pseudonyms =
                PseudonymSecret::settle(edit.pseudonyms.as_ref(), other.header.pseudonyms.as_ref());
            let mut is_theirs = edit.pseudonyms == other.header.pseudonyms;
            let mut removed_a_key = false;
            let mut lost: BTreeMap<String, String> = BTreeMap::new();
            for name in &names {
                // The same blobs are the same bucket, whatever folders hold them.
                let same_blobs = match &edit.base {
                    Some(mine)
                        if matches!(mine.layout, Layout::Buckets { .. })
                            && matches!(other.layout, Layout::Buckets { .. }) =>
                    {
                        mine.bucket_oids(name)? == other.bucket_oids(name)?
                    }
                    _ => false,
                };
                if same_blobs {
                    continue;
                }
                let their_bucket = other.bucket(name)?;
                let bucket = edit.bucket(name)?;
                let merged = bucket.merge(&their_bucket);
                removed_a_key |= bucket.lost_a_key(&merged) || their_bucket.lost_a_key(&merged);
                lost.extend(
                    bucket
                        .keys_lost(&merged)
                        .map(|(id, subject)| (id.to_string(), subject.to_string())),
                );
                is_theirs &= merged == their_bucket;
                *bucket = merged;
            }
            if let Some(tip) = tip.filter(|t| *t == theirs || !edit.changed()) {
                return Ok((tip, removed_a_key));
            }
            // Take their commit as it is when it holds exactly the merge (nothing to push).
            let commit = if is_theirs {
                theirs
            } else {
                self.write_ring_commit(&mut edit, now)?
            };
            drop(edit);
            if removed_a_key {
                self.note_replaced_ring(tip)?;
            }
            // Noted before the ring that knows their subjects is replaced.
            self.note_erased_elsewhere(&lost)?;
            if self.swap_ring_ref(tip, commit)? {
                self.forget_ring(tip)?;
                self.delete_ring_reflog()?;
                return Ok((commit, removed_a_key));
            }
            if commit != theirs {
                self.forget_ring(Some(commit))?;
            }
        }
        Err(StoreError::Contention {
            branch: KEYRING_REF.to_string(),
            attempts: ATTEMPTS,
        })
    }

    fn packed_marker(&self) -> PathBuf {
        self.repo.path().join("casebook-keyring-packed")
    }

    /// Where a ring that a change replaced because it removed a key is named until its
    /// objects are deleted: a process killed in between leaves the name, and the next
    /// change of the ring deletes them then ([`Store::forget_noted_ring`]).
    fn replaced_marker(&self) -> PathBuf {
        self.repo.path().join("casebook-keyring-replaced")
    }

    /// Where the keys are noted (with their subjects) that a merged ring from another
    /// clone erased, until this clone has looked whether they went in an erasure of a
    /// customer ([`Store::keys_erased_elsewhere`]).
    fn erased_elsewhere_marker(&self) -> PathBuf {
        self.repo.path().join("casebook-erased-elsewhere.json")
    }

    /// Adds `keys` (id to subject) to those noted as erased by another clone.
    fn note_erased_elsewhere(&self, keys: &BTreeMap<String, String>) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut all = self.keys_erased_elsewhere()?;
        let before = all.len();
        all.extend(keys.iter().map(|(k, s)| (k.clone(), s.clone())));
        if all.len() == before {
            return Ok(());
        }
        let text = serde_json::to_vec(&all).expect("strings serialise");
        super::worktree::write_atomically(self, &self.erased_elsewhere_marker(), &text)
    }

    /// The keys another clone erased (learnt from its key ring in a merge), by id, with the
    /// subject this clone's ring gave them. An erasure of a customer there cannot know the
    /// cases this clone made of the same customer while out of touch; these say whose
    /// they are.
    pub fn keys_erased_elsewhere(&self) -> Result<BTreeMap<String, String>> {
        let path = self.erased_elsewhere_marker();
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| StoreError::Io {
                action: "read",
                path,
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(source) => Err(StoreError::Io {
                action: "read",
                path,
                source,
            }),
        }
    }

    /// Forgets the noted keys once they are dealt with.
    pub fn clear_keys_erased_elsewhere(&self) -> Result<()> {
        super::remove_if_present(self.erased_elsewhere_marker())
    }

    /// Names the ring at `tip` (if any) as about to be replaced by one without some of its
    /// keys.
    fn note_replaced_ring(&self, tip: Option<Oid>) -> Result<()> {
        let Some(tip) = tip else { return Ok(()) };
        let path = self.replaced_marker();
        std::fs::write(&path, format!("{tip}\n")).map_err(|source| StoreError::Io {
            action: "write",
            path,
            source,
        })
    }

    /// Drops the note of a replaced ring once its objects are gone, unless a `git gc` is
    /// running: it may have read that ring before it was replaced and be writing it into a
    /// pack, so the note stays for a later command to look again
    /// ([`Store::finish_ring_change`]).
    fn clear_noted_ring(&self) -> Result<()> {
        if self.gc_running() {
            return Ok(());
        }
        super::remove_if_present(self.replaced_marker())
    }

    /// Finishes a change of the key ring that removed keys and was cut short (killed after
    /// the ring was replaced) or overlapped a `git gc`: deletes what is left of the old
    /// ring. Run by every command as it opens the case book; costs one file check when
    /// there is nothing to finish.
    pub fn finish_ring_change(&self) -> Result<()> {
        if !self.replaced_marker().exists() {
            return Ok(());
        }
        let _lock = self.ring_lock()?;
        self.forget_noted_ring()
    }

    /// Finishes what a change killed after it replaced a ring left: deletes that ring's
    /// objects the current one does not share, the ref's reflog, and every packed old ring.
    fn forget_noted_ring(&self) -> Result<()> {
        let Ok(text) = std::fs::read_to_string(self.replaced_marker()) else {
            return Ok(());
        };
        if let Ok(old) = Oid::from_str(text.trim()) {
            self.forget_ring(Some(old))?;
        }
        self.delete_ring_reflog()?;
        self.purge_old_rings()?;
        self.clear_noted_ring()
    }

    /// Deletes the loose objects of the ring at `commit` that the current ring does not
    /// share; notes when some were not loose (packed), for [`Store::purge_old_rings`].
    fn forget_ring(&self, commit: Option<Oid>) -> Result<()> {
        let Some(commit) = commit else { return Ok(()) };
        let tip = self.ring_tip(KEYRING_REF)?;
        if tip == Some(commit) {
            return Ok(());
        }
        let Ok(old) = self.open_ring(commit) else {
            // Already gone (purged by another process), or never readable: what is left of
            // it is found by the full listing.
            return self.delete_ring_objects(self.unshared_objects(commit, tip)?);
        };
        // (A current ring this casebook cannot read, of a newer format, is listed whole.)
        match tip.and_then(|t| self.open_ring(t).ok()) {
            Some(new) if new.layout.is_current() => self.forget_old_tree(&old, &new.tree),
            // No ring left, or one of an older format: list both whole.
            _ => self.delete_ring_objects(self.unshared_objects(commit, tip)?),
        }
    }

    /// [`Store::forget_ring`] of `old`, just replaced by `new`, a ring this casebook wrote
    /// (format 3): `old` is already read, and `new`'s header need not be.
    fn forget_replaced(&self, old: &RingAt<'_>, new: Oid) -> Result<()> {
        if self.ring_tip(KEYRING_REF)? != Some(new) {
            // Replaced again meanwhile: compare with whatever is the ring now.
            return self.forget_ring(Some(old.commit));
        }
        let tree = self
            .repo
            .find_commit(new)
            .and_then(|c| c.tree())
            .ctx(|| "cannot read the key ring's tree".into())?;
        self.forget_old_tree(old, &tree)
    }

    /// Deletes what of the ring `old` the format 3 tree `current` does not share.
    fn forget_old_tree(&self, old: &RingAt<'_>, current: &git2::Tree<'_>) -> Result<()> {
        if !old.layout.is_current() {
            // A change of format (once per ring): list both whole.
            let tip = self.ring_tip(KEYRING_REF)?;
            return self.delete_ring_objects(self.unshared_objects(old.commit, tip)?);
        }
        // Both format 3: walk the two trees together.
        let mut oids = Vec::new();
        self.tree_difference(&old.tree, Some(current), &mut oids)?;
        oids.push(old.commit);
        self.delete_ring_objects(oids)
    }

    /// Every object of the ring at `commit` that the ring at `keep` does not have (listing
    /// both whole), in the order to delete them; none if `commit` cannot be read.
    fn unshared_objects(&self, commit: Oid, keep: Option<Oid>) -> Result<Vec<Oid>> {
        let keep: HashSet<Oid> = match keep {
            Some(c) => self.ring_objects(c)?.into_iter().collect(),
            None => HashSet::new(),
        };
        Ok(match self.ring_objects(commit) {
            Ok(o) => o.into_iter().filter(|o| !keep.contains(o)).collect(),
            // Already gone (purged by another process).
            Err(_) => Vec::new(),
        })
    }

    /// Deletes these objects where they are loose (in this order: blobs first, commit
    /// last, so that a deletion cut short can be done again); notes when some are still
    /// there, in a pack, for [`Store::purge_old_rings`]. A packed copy can sit beside a
    /// loose one (after `git repack` without `-d`, or a `git gc` cut short), so what counts
    /// is what the object database still has, not which loose files were missing.
    fn delete_ring_objects(&self, objects: Vec<Oid>) -> Result<()> {
        let dir = self.repo.path().join("objects");
        for oid in &objects {
            let hex = oid.to_string();
            let path = dir.join(&hex[..2]).join(&hex[2..]);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(StoreError::Io {
                        action: "delete",
                        path,
                        source,
                    })
                }
            }
        }
        if objects.is_empty() {
            return Ok(());
        }
        let odb = self
            .repo
            .odb()
            .ctx(|| "cannot open the object database".into())?;
        // Packs written since the database was opened (a `git gc` meanwhile) count too.
        odb.refresh()
            .ctx(|| "cannot read the object database's packs".into())?;
        let packed = objects.iter().any(|oid| odb.exists(*oid));
        // (Most changes after an import find its bucket blobs packed: the note is written
        // once, not on every change.)
        if packed && !self.packed_marker().exists() {
            let marker = self.packed_marker();
            std::fs::write(&marker, b"an old key ring is in a pack\n").map_err(|source| {
                StoreError::Io {
                    action: "write",
                    path: marker,
                    source,
                }
            })?;
        }
        Ok(())
    }

    /// Whether a `git gc` is running on this repository (its `gc.pid` names a live
    /// process, and is younger than the 12 hours after which git takes it for stale). One
    /// that started before a ring was replaced may still be writing that ring into a pack.
    fn gc_running(&self) -> bool {
        let path = self.repo.path().join("gc.pid");
        let Ok(meta) = std::fs::metadata(&path) else {
            return false;
        };
        let stale = meta
            .modified()
            .ok()
            .and_then(|m| m.elapsed().ok())
            .is_some_and(|age| age > std::time::Duration::from_secs(12 * 3600));
        if stale {
            return false;
        }
        let pid = std::fs::read_to_string(&path).ok().and_then(|text| {
            text.split_whitespace()
                .next()?
                .parse::<u32>()
                .ok()
                .filter(|p| *p > 0)
        });
        pid.is_none_or(super::locks::process_alive)
    }

    /// Deletes the key ring ref's reflog, if any: the ring has no history, and an entry
    /// would name a deleted ring. Deleted, not emptied: while the file exists, even empty,
    /// git and libgit2 append to it on every move of the ref (`core.logAllRefUpdates =
    /// true` starts one only for branches; reading one with libgit2 creates it).
    fn delete_ring_reflog(&self) -> Result<()> {
        if !self.repo.path().join("logs").join(KEYRING_REF).exists() {
            return Ok(());
        }
        self.repo
            .reflog_delete(KEYRING_REF)
            .ctx(|| format!("cannot delete the reflog of {KEYRING_REF}"))
    }

    /// Empties the reflog and, if an old ring may be in a pack, repacks without
    /// unreachable objects.
    fn purge_old_rings(&self) -> Result<()> {
        self.delete_ring_reflog()?;
        let marker = self.packed_marker();
        if marker.exists() {
            let out = self.git_command(&["repack", "-a", "-d", "-q"])?;
            if !out.status.success() {
                return Err(StoreError::Keyring(format!(
                    "cannot repack to drop old key rings: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                )));
            }
            // The commit-graph may still name a dropped key ring commit, which git would
            // then report as missing: write it again from what is reachable.
            let objects = self.repo.path().join("objects").join("info");
            if objects.join("commit-graph").exists() || objects.join("commit-graphs").exists() {
                let out = self.git_command(&["commit-graph", "write", "--reachable"])?;
                if !out.status.success() {
                    return Err(StoreError::Keyring(format!(
                        "cannot write the commit-graph again: {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    )));
                }
            }
            std::fs::remove_file(&marker).map_err(|source| StoreError::Io {
                action: "delete",
                path: marker,
                source,
            })?;
        }
        Ok(())
    }
}

impl Store {
    /// Fetches only the key ring from `remote` and merges it into this clone's (for `clone`
    /// and `setup`; `sync` fetches it with the branch). Returns whether this clone has a key
    /// ring afterwards.
    pub fn fetch_keyring(&self, remote: &str, now: DateTime<Utc>) -> Result<bool> {
        let out = self.git_command(&["fetch", "--quiet", remote, &fetch_refspec(remote)])?;
        if !out.status.success() {
            return Err(StoreError::Remote {
                action: "fetch the key ring from",
                remote: remote.to_string(),
                message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        self.merge_fetched_keyring(remote, now)?;
        Ok(self.ring_tip(KEYRING_REF)?.is_some())
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::store) fn now() -> DateTime<Utc> {
        "2026-11-23T09:00:00Z".parse().unwrap()
    }

    /// A new store-only book.
    pub(in crate::store) fn book() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open_or_create(dir.path(), true).unwrap();
        (dir, store)
    }

    fn ids(store: &Store) -> Vec<String> {
        let mut ids: Vec<String> = store
            .keyring()
            .unwrap()
            .map(|r| r.keys().map(|k| k.id.clone()).collect())
            .unwrap_or_default();
        ids.sort();
        ids
    }

    /// A key of the same bucket as `key`.
    fn neighbour(key: &Key) -> Key {
        loop {
            let k = Key::generate("customer:cy");
            if bucket_of(&k.id) == bucket_of(&key.id) && k.id != key.id {
                return k;
            }
        }
    }

    /// A sync whose fetched ring is this clone's own (the remote did not change it), with
    /// a pending key of a bucket that ring has: the merge still reads the fetched ring, and
    /// the key goes into the ring to be pushed.
    #[test]
    fn pending_keys_are_folded_after_the_fetched_ring_is_merged() {
        let (_dir, store) = book();
        let ada = Key::generate("customer:ada");
        store.add_keys(std::slice::from_ref(&ada), now()).unwrap();
        let tip = store.ring_tip(KEYRING_REF).unwrap().unwrap();
        store
            .repo
            .reference(&tracking_ref("origin"), tip, true, "fetched")
            .unwrap();
        let cy = neighbour(&ada);
        store
            .add_pending_keys(std::slice::from_ref(&cy), now())
            .unwrap();
        let push = store
            .merge_fetched_keyring("origin", now())
            .unwrap()
            .unwrap();
        assert_eq!(push.remote, Some(tip));
        assert_eq!(Some(push.local), store.ring_tip(KEYRING_REF).unwrap());
        assert_eq!(ids(&store), {
            let mut both = vec![ada.id.clone(), cy.id.clone()];
            both.sort();
            both
        });
        assert!(store.pending_keys().unwrap().is_empty());
    }

    #[test]
    fn a_ring_read_ahead_that_moved_meanwhile_is_read_again() {
        let (_dir, store) = book();
        let ada = Key::generate("customer:ada");
        store.add_keys(std::slice::from_ref(&ada), now()).unwrap();
        let bob = Key::generate("customer:bob");
        let ahead = store.read_ahead(bucket_of(&bob.id)).expect("read ahead");
        // Another writer adds a key to the very bucket read ahead.
        let cy = neighbour(&bob);
        store.add_keys(std::slice::from_ref(&cy), now()).unwrap();
        store
            .add_keys_after(Some(ahead), std::slice::from_ref(&bob), now())
            .unwrap();
        let mut want = vec![ada.id, bob.id, cy.id];
        want.sort();
        assert_eq!(ids(&store), want, "the key added meanwhile is kept");
    }

    #[test]
    fn a_ring_read_ahead_that_did_not_move_takes_the_keys() {
        let (_dir, store) = book();
        let ada = Key::generate("customer:ada");
        store.add_keys(std::slice::from_ref(&ada), now()).unwrap();
        let bob = Key::generate("customer:bob");
        let cy = neighbour(&bob);
        let prep = store.prepare_keys(bucket_of(&bob.id));
        prep.add(vec![bob.clone(), cy.clone()], now());
        prep.wait().unwrap();
        let mut want = vec![ada.id, bob.id, cy.id];
        want.sort();
        assert_eq!(ids(&store), want);
    }

    #[test]
    fn a_ring_thread_given_no_keys_writes_nothing() {
        let (_dir, store) = book();
        store
            .add_keys(&[Key::generate("customer:ada")], now())
            .unwrap();
        let tip = store.ring_tip(KEYRING_REF).unwrap();
        let prep = store.prepare_keys(Some("AB"));
        drop(prep);
        // Its thread ends by itself; give it the time to write, were it to.
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert_eq!(store.ring_tip(KEYRING_REF).unwrap(), tip);
    }

    #[test]
    fn a_ring_thread_that_cannot_open_the_repository_says_so() {
        let (dir, store) = book();
        // The thread opens its own handle: with the repository gone, that fails.
        let gone = dir.path().with_extension("gone");
        std::fs::rename(dir.path(), &gone).unwrap();
        let prep = store.prepare_keys(None);
        prep.add(vec![Key::generate("customer:ada")], now());
        let err = prep.wait().expect_err("no repository, no key ring");
        assert!(err.to_string().contains("cannot reopen"), "{err}");
        std::fs::rename(&gone, dir.path()).unwrap();
        assert!(ids(&store).is_empty());
    }
}
