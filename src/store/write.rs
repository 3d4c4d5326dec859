//! The write path: one action, one commit, nothing lost.
//!
//! 1. Read the branch tip ([`Snapshot`]).
//! 2. Let the caller validate and produce the new file contents ([`Change`]).
//! 3. Write blobs, trees and the commit straight into the object database (never through
//!    the index).
//! 4. Move the branch only if it still points at the commit read in step 1
//!    (`reference_matching`, a compare-and-swap). If another process moved it first, start
//!    again from step 1 on the new tip, a bounded number of times.
//! 5. With a working tree, bring the index and files of the changed paths up to date.
//!
//! A crash at any point leaves the branch at either the old or the new commit; objects
//! written for an attempt that lost the race are unreferenced and `git gc` drops them.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use git2::{ErrorCode, FileMode, Oid, Signature, Time, Tree};

use super::snapshot::Snapshot;
use super::worktree::Worktree;
use super::{GitContext, Result, Store, StoreError};
use crate::model::Actor;

/// How often a write is retried when the branch moved underneath it.
const MAX_ATTEMPTS: u32 = 100;

/// What one action writes: whole files at paths, and the commit that records them.
#[derive(Debug, Clone)]
pub struct Change {
    pub files: Vec<(String, Vec<u8>)>,
    pub message: String,
}

impl Store {
    /// Runs one action as one commit. `build` sees the current tip and returns the change to
    /// record (or an error, in which case nothing is written); it may run more than once if
    /// other writers move the branch meanwhile. Returns the new commit and `build`'s value.
    pub fn transact<T, E>(
        &self,
        actor: &Actor,
        now: DateTime<Utc>,
        mut build: impl FnMut(&Snapshot<'_>) -> std::result::Result<(Change, T), E>,
    ) -> std::result::Result<(Oid, T), E>
    where
        E: From<StoreError>,
    {
        // With a working tree, casebook processes take turns (the index is one file that
        // libgit2 rewrites whole); the compare-and-swap still guards against every other
        // writer, and is all a bare case book relies on.
        let mut worktree = Worktree::lock(self)?;
        for attempt in 1..=MAX_ATTEMPTS {
            let snap = self.snapshot()?;
            let (change, value) = build(&snap)?;
            if let Some(wt) = worktree.as_mut() {
                wt.check_untouched(&snap, change.files.iter().map(|(p, _)| p.as_str()))?;
            }
            let (tree, _) = self.write_tree(snap.tree.as_ref(), &change.files)?;
            let commit = self.write_commit(&snap, tree, &change.message, actor, now)?;
            match self.move_branch(snap.tip(), commit, &change.message)? {
                true => {
                    if let Some(wt) = worktree.as_mut() {
                        wt.sync(self, change.files.iter().map(|(p, _)| p.as_str()))?;
                    }
                    self.housekeeping();
                    return Ok((commit, value));
                }
                false => backoff(attempt),
            }
        }
        Err(StoreError::Contention {
            branch: self.branch_name().to_string(),
            attempts: MAX_ATTEMPTS,
        }
        .into())
    }

    /// Writes the blobs and the trees above them, reusing every untouched subtree. Returns
    /// the new root tree and every object written (blobs and trees).
    pub(crate) fn write_tree(
        &self,
        base: Option<&Tree<'_>>,
        files: &[(String, Vec<u8>)],
    ) -> Result<(Oid, Vec<Oid>)> {
        let mut blobs = BTreeMap::new();
        let mut written = Vec::with_capacity(files.len() * 2);
        for (path, content) in files {
            let oid = self
                .repo
                .blob(content)
                .ctx(|| format!("cannot write {path}"))?;
            blobs.insert(path.as_str(), oid);
            written.push(oid);
        }
        let entries: Vec<(&str, Option<Oid>)> =
            blobs.into_iter().map(|(p, o)| (p, Some(o))).collect();
        let root = self.insert_into(base, &entries, "", &mut written)?;
        Ok((root, written))
    }

    /// Applies `entries` (path, blob, or `None` to delete) to `base`; returns the new root.
    pub(crate) fn apply_to_tree(
        &self,
        base: Option<&Tree<'_>>,
        entries: &[(String, Option<Oid>)],
    ) -> Result<Oid> {
        let mut sorted: Vec<(&str, Option<Oid>)> =
            entries.iter().map(|(p, o)| (p.as_str(), *o)).collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        self.insert_into(base, &sorted, "", &mut Vec::new())
    }

    /// `entries` are (path relative to this tree, blob), sorted by path.
    fn insert_into(
        &self,
        base: Option<&Tree<'_>>,
        entries: &[(&str, Option<Oid>)],
        at: &str,
        written: &mut Vec<Oid>,
    ) -> Result<Oid> {
        let mut builder = self
            .repo
            .treebuilder(base)
            .ctx(|| format!("cannot build tree {at}/"))?;
        let mut i = 0;
        while i < entries.len() {
            let (path, oid) = entries[i];
            match path.split_once('/') {
                None => {
                    match oid {
                        Some(oid) => {
                            builder
                                .insert(path, oid, FileMode::Blob.into())
                                .ctx(|| format!("cannot add {at}{path}"))?;
                        }
                        None => {
                            if builder
                                .get(path)
                                .ctx(|| format!("cannot look up {at}{path}"))?
                                .is_some()
                            {
                                builder
                                    .remove(path)
                                    .ctx(|| format!("cannot remove {at}{path}"))?;
                            }
                        }
                    }
                    i += 1;
                }
                Some((dir, _)) => {
                    // All entries below `dir` are adjacent because the paths are sorted.
                    let below: Vec<(&str, Option<Oid>)> = entries[i..]
                        .iter()
                        .map_while(|(p, o)| {
                            p.strip_prefix(dir)?
                                .strip_prefix('/')
                                .map(|rest| (rest, *o))
                        })
                        .collect();
                    i += below.len();
                    let sub = match base.and_then(|t| t.get_name(dir)) {
                        Some(e) if e.kind() == Some(git2::ObjectType::Tree) => Some(
                            self.repo
                                .find_tree(e.id())
                                .ctx(|| format!("cannot read {at}{dir}/"))?,
                        ),
                        _ => None,
                    };
                    let sub_id =
                        self.insert_into(sub.as_ref(), &below, &format!("{at}{dir}/"), written)?;
                    // A folder left empty by deletions is no folder in git.
                    let empty = self
                        .repo
                        .find_tree(sub_id)
                        .map(|t| t.is_empty())
                        .unwrap_or(false);
                    if empty {
                        if builder
                            .get(dir)
                            .ctx(|| format!("cannot look up {at}{dir}"))?
                            .is_some()
                        {
                            builder
                                .remove(dir)
                                .ctx(|| format!("cannot remove {at}{dir}/"))?;
                        }
                    } else {
                        builder
                            .insert(dir, sub_id, FileMode::Tree.into())
                            .ctx(|| format!("cannot add {at}{dir}/"))?;
                    }
                }
            }
        }
        let tree = builder.write().ctx(|| format!("cannot write tree {at}/"))?;
        written.push(tree);
        Ok(tree)
    }

    pub(crate) fn write_commit(
        &self,
        snap: &Snapshot<'_>,
        tree: Oid,
        message: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Oid> {
        let sig = Signature::new(&actor.name, &actor.email, &Time::new(now.timestamp(), 0))
            .ctx(|| format!("cannot use {actor} as a git author"))?;
        let tree = self
            .repo
            .find_tree(tree)
            .ctx(|| "cannot read the new tree".into())?;
        let parents: Vec<_> = snap.commit.iter().collect();
        self.repo
            .commit(None, &sig, &sig, message, &tree, &parents)
            .ctx(|| "cannot write the commit".into())
    }

    /// Compare-and-swap: moves the branch from `old` to `new`. `Ok(false)` if it was moved
    /// (or is being moved) by someone else.
    pub(crate) fn move_branch(&self, old: Option<Oid>, new: Oid, message: &str) -> Result<bool> {
        let subject = message.lines().next().unwrap_or_default();
        let result = match old {
            Some(old) => self.repo.reference_matching(
                &self.branch,
                new,
                true,
                old,
                &format!("casebook: {subject}"),
            ),
            None => self
                .repo
                .reference(&self.branch, new, false, &format!("casebook: {subject}")),
        };
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if matches!(
                    e.code(),
                    ErrorCode::Modified | ErrorCode::Locked | ErrorCode::Exists
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(e).ctx(|| format!("cannot move {}", self.branch)),
        }
    }

    /// libgit2 never packs; each action adds a few loose objects. When git's own heuristic
    /// would (more than ~6700 loose objects, estimated from one fan-out folder as git
    /// does), start `git gc --auto` in the background and let git decide.
    fn housekeeping(&self) {
        let sample = self.repo.path().join("objects").join("17");
        let loose = std::fs::read_dir(sample).map(|d| d.count()).unwrap_or(0);
        if loose > 6700 / 256 {
            let _ = std::process::Command::new("git")
                .arg("--git-dir")
                .arg(self.repo.path())
                .args(["gc", "--auto", "--quiet"])
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn();
        }
    }
}

/// Waits a little, longer after each failed attempt, with jitter so racing writers spread out.
fn backoff(attempt: u32) {
    let mut byte = [0u8; 1];
    let jitter = if getrandom::fill(&mut byte).is_ok() {
        u64::from(byte[0]) % 8
    } else {
        3
    };
    let ms = (u64::from(attempt.min(10)) + jitter).min(20);
    std::thread::sleep(Duration::from_millis(ms));
}
