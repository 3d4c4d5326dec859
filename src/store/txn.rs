//! One transaction for every writer: actions, bulk actions, import, `tick`, review findings
//! and the merge commits of `sync` all record through [`Store::transact`].
//!
//! 1. Take the case book's write lock (`.git/casebook.lock`, an OS file lock that a crash
//!    releases), finish any interrupted working-tree update ([`super::worktree`]), and check
//!    for stale git locks *before* anything is written.
//! 2. Read the branch tip and let the caller build the change ([`Change`]): files to write
//!    or delete, an optional merge parent, or a fast-forward to an existing commit. An error
//!    from the builder writes nothing.
//! 3. Write blobs, trees and the commit straight into the object database: loose objects
//!    for an action, one pack for a bulk change (no hundred thousand small files).
//! 4. With a working tree, record the intent (old tip, new commit) in the journal.
//! 5. Move the branch by compare-and-swap on the tip read in step 2. Casebook processes take
//!    turns on the write lock, so they never race each other; the compare-and-swap guards
//!    against every other writer (`git commit`, `git pull`). If one moved the branch, start
//!    again at step 2 under one retry policy ([`RetryPolicy`]).
//! 6. Bring the index and working tree along for the changed paths, then clear the journal.
//!    SIGINT and SIGTERM are deferred from step 5 to here, so a Ctrl-C never leaves the book
//!    half-updated, and one that came after the branch moved does not make a recorded action
//!    report failure ([`signals`]); a SIGKILL or a crash leaves the journal, which the next
//!    command finishes.
//!    If another git process holds the index, the update stays in the journal and the action
//!    still succeeds: it *is* committed.
//! 7. Housekeeping: at most once per `casebook.gcInterval` transactions, start `git gc --auto`
//!    detached in the background.
//!
//! Because casebook writers are serialised, an attempt loses the race only to a foreign
//! writer, and the loose objects of such an attempt are a handful, not thousands.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use git2::Oid;

use super::snapshot::Snapshot;
use super::worktree::{self, Worktree};
use super::{fault, locks, signals, GitContext, Result, Store, StoreError};
use crate::model::Actor;

/// What a file becomes in a change.
#[derive(Debug, Clone)]
pub enum Content {
    /// These bytes.
    Bytes(Vec<u8>),
    /// A blob already in the object database (sync takes the other side's version as is).
    Blob(Oid),
    /// No file.
    Deleted,
}

/// What one transaction records.
#[derive(Debug, Clone)]
pub struct Change {
    pub(crate) files: Vec<(String, Content)>,
    pub(crate) message: String,
    pub(crate) merge_parent: Option<Oid>,
    pub(crate) fast_forward: Option<Oid>,
    pub(crate) packed: bool,
}

impl Change {
    /// A commit with this message; add files with [`Change::write`].
    pub fn new(message: impl Into<String>) -> Change {
        Change {
            files: Vec::new(),
            message: message.into(),
            merge_parent: None,
            fast_forward: None,
            packed: false,
        }
    }

    /// Nothing to record: the transaction ends without a commit.
    pub fn nothing() -> Change {
        Change::new(String::new())
    }

    /// A change with these whole files.
    pub fn with_files(message: impl Into<String>, files: Vec<(String, Vec<u8>)>) -> Change {
        let mut change = Change::new(message);
        for (path, bytes) in files {
            change.files.push((path, Content::Bytes(bytes)));
        }
        change
    }

    pub fn write(&mut self, path: impl Into<String>, bytes: Vec<u8>) {
        self.files.push((path.into(), Content::Bytes(bytes)));
    }

    pub fn set(&mut self, path: impl Into<String>, content: Content) {
        self.files.push((path.into(), content));
    }

    /// Writes the objects as one pack (for bulk changes) instead of loose objects.
    pub fn packed(mut self) -> Change {
        self.packed = true;
        self
    }

    /// Makes the commit a merge with `parent` as its second parent.
    pub fn merging(mut self, parent: Oid) -> Change {
        self.merge_parent = Some(parent);
        self
    }

    /// Moves the branch to `commit`, which must descend from the tip; writes no commit.
    pub fn fast_forward(commit: Oid) -> Change {
        let mut change = Change::new(String::new());
        change.fast_forward = Some(commit);
        change
    }

    fn is_nothing(&self) -> bool {
        self.files.is_empty() && self.merge_parent.is_none() && self.fast_forward.is_none()
    }
}

/// How a transaction retries when a foreign writer moved the branch underneath it:
/// exponential backoff with full jitter, bounded in attempts and in time.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub first: Duration,
    pub cap: Duration,
    pub deadline: Duration,
}

impl RetryPolicy {
    pub const DEFAULT: RetryPolicy = RetryPolicy {
        attempts: 20,
        first: Duration::from_millis(2),
        cap: Duration::from_millis(250),
        deadline: Duration::from_secs(30),
    };

    /// Sleeps before attempt `attempt + 1`; `false` when the policy is spent.
    pub fn wait(&self, attempt: u32, started: Instant) -> bool {
        if attempt >= self.attempts || started.elapsed() >= self.deadline {
            return false;
        }
        let ceiling = self
            .first
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.cap);
        let mut bytes = [0u8; 2];
        let unit = if getrandom::fill(&mut bytes).is_ok() {
            f64::from(u16::from_le_bytes(bytes)) / f64::from(u16::MAX)
        } else {
            0.5
        };
        std::thread::sleep(ceiling.mul_f64(unit.max(0.1)));
        true
    }
}

/// What a transaction did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    /// The new tip; `None` if the change was empty.
    pub commit: Option<Oid>,
    /// Paths whose content changed on the branch.
    pub paths: Vec<String>,
    /// Whether the working tree update was left for the next command (the index was held).
    pub deferred: bool,
}

impl Store {
    /// Runs one transaction. `build` sees the current tip and returns the change to record
    /// (or an error, in which case nothing is written); it runs again if a foreign writer
    /// moved the branch meanwhile. Returns what was committed and `build`'s value.
    pub fn transact<T, E>(
        &self,
        actor: &Actor,
        now: DateTime<Utc>,
        mut build: impl FnMut(&Snapshot<'_>) -> std::result::Result<(Change, T), E>,
    ) -> std::result::Result<(Committed, T), E>
    where
        E: From<StoreError>,
    {
        signals::stop_if_interrupted();
        let _lock = self.write_lock()?;
        self.heal_locked()?;
        let mut worktree = Worktree::open(self)?;
        let policy = RetryPolicy::DEFAULT;
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            locks::check_ref_lock(self)?;
            if worktree.is_some() {
                locks::check_index_lock(self)?;
            }
            let snap = self.snapshot()?;
            let (change, value) = build(&snap)?;
            let new_keys = snap.take_new_keys();
            if change.is_nothing() {
                return Ok((
                    Committed {
                        commit: None,
                        paths: Vec::new(),
                        deferred: false,
                    },
                    value,
                ));
            }
            // Hand edits are refused before any object is written.
            if let Some(wt) = worktree.as_mut() {
                let touched: Vec<String> = match change.fast_forward {
                    Some(to) => self.changed_paths(snap.tip(), Some(to))?,
                    None => change.files.iter().map(|(p, _)| p.clone()).collect(),
                };
                wt.check_untouched(&snap, &touched)?;
            }
            // Keys the change's sealed values use are in the key ring before the branch
            // moves: a crash before that leaves an unused key, never a value no key opens.
            let (target, paths) =
                self.write_keys_and_objects(&snap, &change, new_keys, actor, now)?;
            fault::point("after-objects");
            let journal = worktree::Journal::load(self);
            worktree::Journal {
                pending: Some((snap.tip(), target)),
                ..journal
            }
            .save(self)?;
            fault::point("after-journal");
            let critical = signals::Critical::enter();
            let subject = change.message.lines().next().unwrap_or("fast-forward");
            if self.move_branch(snap.tip(), target, subject)? {
                fault::point_in("after-ref", Some(self.repo.path()));
                // Committed: from here on nothing may report failure. What cannot be done
                // now stays in the journal for the next command.
                let mut deferred = false;
                let done = worktree::Journal {
                    synced: Some(target),
                    pending: None,
                };
                if worktree.is_none() {
                    if let Err(e) = done.save(self) {
                        super::notice_error("could not update .git/casebook.journal", &e);
                    }
                }
                if let Some(wt) = worktree.as_mut() {
                    let known = known_contents(&change);
                    let applied = wt.apply(self, &paths, &known).and_then(|applied| {
                        if applied {
                            done.save(self)?;
                        }
                        Ok(applied)
                    });
                    deferred = match applied {
                        Ok(true) => false,
                        Ok(false) => {
                            super::notice(
                                "the git index was held by another git process: the working \
                                 tree catches up at the next casebook command (the change is \
                                 recorded)",
                            );
                            true
                        }
                        Err(e) => {
                            super::notice_error(
                                "the working tree could not be updated now (it catches up at \
                                 the next casebook command; the change is recorded)",
                                &e,
                            );
                            true
                        }
                    };
                }
                critical.committed();
                self.housekeeping();
                return Ok((
                    Committed {
                        commit: Some(target),
                        paths,
                        deferred,
                    },
                    value,
                ));
            }
            // Lost to a foreign writer: nothing of this attempt is referenced.
            journal.save(self)?;
            drop(critical);
            if !policy.wait(attempt, started) {
                return Err(StoreError::Contention {
                    branch: self.branch_name().to_string(),
                    attempts: attempt + 1,
                }
                .into());
            }
            attempt += 1;
        }
    }

    /// Stores `keys` and writes the change's objects. A few keys are appended to the
    /// pending keys file ([`super::pending`]) first. More (an import), or once that file is
    /// full, go into the key ring with the file's, at the same time as the objects are
    /// written: on a second handle of the repository, on a thread of its own (the one the
    /// snapshot started, which has read the ring meanwhile, or a new one). Returns once
    /// both are written.
    fn write_keys_and_objects(
        &self,
        snap: &Snapshot<'_>,
        change: &Change,
        keys: Vec<crate::model::seal::Key>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(Oid, Vec<String>)> {
        if keys.is_empty() {
            crate::progress::report("writing the commit", 0, 0);
            return self.write_objects(snap, change, actor, now);
        }
        crate::progress::report("storing the keys and the commit", 0, 0);
        if self.pending_has_room(keys.len()) {
            // A ring thread the snapshot started ends on its own, given nothing.
            drop(snap.take_ring_prep());
            self.add_pending_keys(&keys, now)?;
            fault::point("after-pending-keys");
            return self.write_objects(snap, change, actor, now);
        }
        let ring = match snap.take_ring_prep() {
            Some(ring) => ring,
            None => self.prepare_keys(None),
        };
        ring.add(keys, now);
        let objects = self.write_objects(snap, change, actor, now);
        ring.wait()?;
        objects
    }

    /// Writes the change's objects; returns the commit the branch moves to and the paths
    /// whose content differs from the tip.
    fn write_objects(
        &self,
        snap: &Snapshot<'_>,
        change: &Change,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(Oid, Vec<String>)> {
        if let Some(target) = change.fast_forward {
            let paths = self.changed_paths(snap.tip(), Some(target))?;
            return Ok((target, paths));
        }
        if !change.packed {
            let (commit, paths, _) = self.write_commit_with(self, snap, change, actor, now)?;
            return Ok((commit, paths));
        }
        // The objects of this change end up in one pack; the store's own handle never
        // sees the in-memory database in front of them.
        self.write_as_pack(|packing| {
            let (commit, paths, written) =
                self.write_commit_with(packing, snap, change, actor, now)?;
            Ok(((commit, paths), written))
        })
    }

    /// Writes blobs, trees and the commit through `via` (this store, or a packing handle).
    fn write_commit_with(
        &self,
        via: &Store,
        snap: &Snapshot<'_>,
        change: &Change,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(Oid, Vec<String>, Vec<Oid>)> {
        let mut entries: Vec<(String, Option<Oid>)> = Vec::with_capacity(change.files.len());
        let mut paths = Vec::with_capacity(change.files.len());
        let mut written = Vec::with_capacity(change.files.len() * 2 + 4);
        for (path, content) in &change.files {
            let oid = match content {
                Content::Bytes(bytes) => {
                    let oid = via
                        .repo
                        .blob(bytes)
                        .ctx(|| format!("cannot write {path}"))?;
                    written.push(oid);
                    Some(oid)
                }
                Content::Blob(oid) => Some(*oid),
                Content::Deleted => None,
            };
            if snap.blob_id(path)? != oid {
                paths.push(path.clone());
            }
            entries.push((path.clone(), oid));
        }
        let tree = via.apply_to_tree(snap.tree.as_ref(), &entries, &mut written)?;
        let parents: Vec<Oid> = snap.tip().into_iter().chain(change.merge_parent).collect();
        let commit = via.write_commit(&parents, tree, &change.message, actor, now)?;
        written.push(commit);
        Ok((commit, paths, written))
    }
}

/// The bytes a change wrote, by path, so the working tree need not read them back.
fn known_contents(change: &Change) -> BTreeMap<&str, &[u8]> {
    change
        .files
        .iter()
        .filter_map(|(p, c)| match c {
            Content::Bytes(b) => Some((p.as_str(), b.as_slice())),
            _ => None,
        })
        .collect()
}
