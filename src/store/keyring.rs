//! The key ring in its own ref, `refs/casebook/keyring`: one commit with no parent whose
//! tree holds `keyring.toml` ([`crate::model::keyring`]). Every change writes a new
//! parentless commit and moves the ref with a compare-and-swap, so no older key ring is
//! reachable from anything: the branch history never holds a key.
//!
//! Replaced key rings are deleted from the object database at once when they are loose
//! objects. One that git had packed (a clone, `git gc`) cannot be taken out of its pack
//! alone; this clone notes that it exists, and the next erasure repacks (`git repack -a
//! -d`), which drops every unreachable packed object. An erasure also empties the ref's
//! reflog. After it, no object in this repository holds an erased key.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use git2::{ErrorCode, Oid, Signature, Time};

use super::{GitContext, Result, Store, StoreError};
use crate::model::keyring::KeyRing;

/// The ref that holds the key ring.
pub const KEYRING_REF: &str = "refs/casebook/keyring";
/// The file in the key ring's tree.
const FILE: &str = "keyring.toml";
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
struct RingLock {
    _file: std::fs::File,
}

/// What a key ring merge leaves to push: the local ring's commit and the remote's, which
/// the push expects to find there (`None`: the remote has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingPush {
    pub local: Oid,
    pub remote: Option<Oid>,
}

impl Store {
    fn ring_lock(&self) -> Result<RingLock> {
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

    fn ring_tip(&self, name: &str) -> Result<Option<Oid>> {
        match self.repo.refname_to_id(name) {
            Ok(oid) => Ok(Some(oid)),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e).ctx(|| format!("cannot read {name}")),
        }
    }

    /// The commit, tree and blob of the key ring at `commit`.
    fn ring_objects(&self, commit: Oid) -> Result<Vec<Oid>> {
        let c = self
            .repo
            .find_commit(commit)
            .ctx(|| format!("cannot read the key ring commit {commit}"))?;
        let tree = c.tree().ctx(|| "cannot read the key ring's tree".into())?;
        let mut oids = vec![commit, tree.id()];
        oids.extend(tree.get_name(FILE).map(|e| e.id()));
        Ok(oids)
    }

    fn read_ring(&self, commit: Oid) -> Result<KeyRing> {
        let c = self
            .repo
            .find_commit(commit)
            .ctx(|| format!("cannot read the key ring commit {commit}"))?;
        let tree = c.tree().ctx(|| "cannot read the key ring's tree".into())?;
        let entry = tree.get_name(FILE).ok_or_else(|| {
            StoreError::Keyring(format!("{KEYRING_REF} ({commit}) has no {FILE}"))
        })?;
        let blob = self
            .repo
            .find_blob(entry.id())
            .ctx(|| format!("cannot read {FILE} of the key ring"))?;
        KeyRing::parse(blob.content()).map_err(|e| StoreError::Keyring(e.0))
    }

    /// This clone's key ring; `None` if it has none (a new book, or a clone that did not
    /// fetch it).
    pub fn keyring(&self) -> Result<Option<KeyRing>> {
        let (tip, ring) = self.read_tip_ring()?;
        Ok(tip.map(|_| ring))
    }

    fn write_ring_commit(&self, ring: &KeyRing, now: DateTime<Utc>) -> Result<Oid> {
        let blob = self
            .repo
            .blob(ring.to_toml().as_bytes())
            .ctx(|| "cannot write the key ring".into())?;
        let mut builder = self
            .repo
            .treebuilder(None)
            .ctx(|| "cannot build the key ring's tree".into())?;
        builder
            .insert(FILE, blob, git2::FileMode::Blob.into())
            .ctx(|| "cannot build the key ring's tree".into())?;
        let tree_id = builder
            .write()
            .ctx(|| "cannot write the key ring's tree".into())?;
        let tree = self
            .repo
            .find_tree(tree_id)
            .ctx(|| "cannot read the key ring's tree".into())?;
        let sig = Signature::new("casebook", "casebook", &Time::new(now.timestamp(), 0))
            .ctx(|| "cannot make the key ring's signature".into())?;
        self.repo
            .commit(None, &sig, &sig, "casebook key ring\n", &tree, &[])
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

    /// Changes the key ring with `change` (which returns whether it changed anything), as a
    /// compare-and-swap of the ref, tried again if another process changed it meanwhile.
    /// A change that removed a key purges the old rings from this repository. Returns the
    /// ring as written (or as it was, if nothing changed).
    pub fn update_keyring(
        &self,
        now: DateTime<Utc>,
        mut change: impl FnMut(&mut KeyRing) -> bool,
    ) -> Result<KeyRing> {
        let _lock = self.ring_lock()?;
        for _ in 0..ATTEMPTS {
            let (tip, old) = self.read_tip_ring()?;
            let mut ring = old.clone();
            if !change(&mut ring) {
                return Ok(ring);
            }
            let commit = self.write_ring_commit(&ring, now)?;
            if self.swap_ring_ref(tip, commit)? {
                let removed_a_key = old.keys().any(|k| ring.is_erased(&k.id));
                self.after_ring_replaced(tip, removed_a_key)?;
                return Ok(ring);
            }
            // Someone else changed it first: our commit is garbage, drop it and try again.
            self.forget_ring(Some(commit))?;
        }
        Err(StoreError::Contention {
            branch: KEYRING_REF.to_string(),
            attempts: ATTEMPTS,
        })
    }

    /// Adds nothing and removes nothing: makes the book's pseudonym secret if it has none,
    /// and returns it.
    pub fn pseudonym_secret(
        &self,
        now: DateTime<Utc>,
    ) -> Result<crate::model::keyring::PseudonymSecret> {
        let ring = self.update_keyring(now, |r| r.ensure_pseudonym_secret(now))?;
        Ok(ring
            .pseudonym_secret()
            .cloned()
            .expect("ensure_pseudonym_secret made one"))
    }

    /// Erases the keys with these ids, for good, and purges every old key ring from this
    /// repository. Returns the ids this ring had.
    pub fn erase_keys(&self, ids: &[String], now: DateTime<Utc>) -> Result<Vec<String>> {
        let mut had = Vec::new();
        self.update_keyring(now, |ring| {
            had.clear();
            let mut changed = false;
            for id in ids {
                changed |= !ring.is_erased(id);
                if ring.erase(id) {
                    had.push(id.clone());
                }
            }
            changed
        })?;
        Ok(had)
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
        let Some(theirs) = self.ring_tip(&tracking)? else {
            return Ok(self.ring_tip(KEYRING_REF)?.map(|local| RingPush {
                local,
                remote: None,
            }));
        };
        // The fetched copy's ref goes first, so that nothing but its objects is left of it.
        if let Ok(mut r) = self.repo.find_reference(&tracking) {
            r.delete().ctx(|| format!("cannot delete {tracking}"))?;
        }
        let (local, removed_a_key) = self.merge_ring_commit(theirs, now)?;
        self.forget_ring(Some(theirs))?;
        if removed_a_key {
            self.purge_old_rings()?;
        }
        Ok((local != theirs).then_some(RingPush {
            local,
            remote: Some(theirs),
        }))
    }

    /// Merges the ring at commit `theirs` into the local one; returns the local tip after,
    /// and whether either side lost a key the other had erased.
    fn merge_ring_commit(&self, theirs: Oid, now: DateTime<Utc>) -> Result<(Oid, bool)> {
        let other = self.read_ring(theirs)?;
        for _ in 0..ATTEMPTS {
            let (tip, mine) = self.read_tip_ring()?;
            let merged = mine.merge(&other);
            let removed_a_key = mine
                .keys()
                .chain(other.keys())
                .any(|k| merged.is_erased(&k.id));
            if let Some(tip) = tip.filter(|t| *t == theirs || merged == mine) {
                return Ok((tip, removed_a_key));
            }
            // Take their commit as it is when it holds exactly the merge (nothing to push).
            let commit = if merged == other {
                theirs
            } else {
                self.write_ring_commit(&merged, now)?
            };
            if self.swap_ring_ref(tip, commit)? {
                self.forget_ring(tip)?;
                self.expire_ring_reflog()?;
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

    /// The ring ref's tip and the ring there (empty when there is none). Another process
    /// may replace the ring and delete the old one between the two reads: then again.
    fn read_tip_ring(&self) -> Result<(Option<Oid>, KeyRing)> {
        let mut last = None;
        for _ in 0..ATTEMPTS {
            let tip = self.ring_tip(KEYRING_REF)?;
            let Some(commit) = tip else {
                return Ok((None, KeyRing::new()));
            };
            match self.read_ring(commit) {
                Ok(ring) => return Ok((tip, ring)),
                Err(e) if self.ring_tip(KEYRING_REF)? != tip => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.expect("tried at least once"))
    }

    /// After the ref moved away from `old`: deletes the old ring, and when a key was
    /// removed, purges every trace of older rings.
    fn after_ring_replaced(&self, old: Option<Oid>, removed_a_key: bool) -> Result<()> {
        self.forget_ring(old)?;
        self.expire_ring_reflog()?;
        if removed_a_key {
            self.purge_old_rings()?;
        }
        Ok(())
    }

    fn packed_marker(&self) -> PathBuf {
        self.repo.path().join("casebook-keyring-packed")
    }

    /// Deletes the loose objects of the ring at `commit` that the current ring does not
    /// share; notes when some were not loose (packed), for [`Store::purge_old_rings`].
    fn forget_ring(&self, commit: Option<Oid>) -> Result<()> {
        let Some(commit) = commit else { return Ok(()) };
        let keep = match self.ring_tip(KEYRING_REF)? {
            Some(c) => self.ring_objects(c)?,
            None => Vec::new(),
        };
        let objects = match self.ring_objects(commit) {
            // Blob first, commit last: a deletion cut short can be done again.
            Ok(o) => o.into_iter().rev(),
            // Already gone (purged by another process).
            Err(_) => return Ok(()),
        };
        let dir = self.repo.path().join("objects");
        let mut packed = false;
        for oid in objects.filter(|o| !keep.contains(o)) {
            let hex = oid.to_string();
            let path = dir.join(&hex[..2]).join(&hex[2..]);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => packed = true,
                Err(source) => {
                    return Err(StoreError::Io {
                        action: "delete",
                        path,
                        source,
                    })
                }
            }
        }
        if packed {
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

    /// Empties the key ring ref's reflog (written only with `core.logAllRefUpdates =
    /// always`): the ring has no history, and an entry would name a deleted ring.
    fn expire_ring_reflog(&self) -> Result<()> {
        match self.repo.reflog(KEYRING_REF) {
            // Written only when it had entries: an empty one would make git keep one.
            Ok(mut log) if !log.is_empty() => {
                while !log.is_empty() {
                    log.remove(0, false)
                        .ctx(|| format!("cannot expire the reflog of {KEYRING_REF}"))?;
                }
                log.write()
                    .ctx(|| format!("cannot expire the reflog of {KEYRING_REF}"))?;
            }
            Ok(_) => {}
            Err(e) if e.code() == ErrorCode::NotFound => {}
            Err(e) => return Err(e).ctx(|| format!("cannot read the reflog of {KEYRING_REF}")),
        }
        Ok(())
    }

    /// Empties the reflog and, if an old ring may be in a pack, repacks without
    /// unreachable objects.
    fn purge_old_rings(&self) -> Result<()> {
        self.expire_ring_reflog()?;
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
