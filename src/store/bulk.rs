//! Bulk writes: many files in one commit, written as one pack instead of loose objects.
//!
//! Objects go into an in-memory object database (libgit2's mempack) and are written out as
//! a single packfile without delta search: about twice as fast as loose objects for 100k
//! cases, and no hundred thousand small files. The branch then moves by the same
//! compare-and-swap as every other write, and a working tree is brought up to date for the
//! written paths by the same code as single actions.

use std::io::Write;

use chrono::{DateTime, Utc};
use git2::{Oid, Repository};

use super::worktree::Worktree;
use super::{GitContext, Result, Store, StoreError};
use crate::model::Actor;

impl Store {
    /// Commits `files` (path, content) on top of the tip the caller read (`expected_tip`) as
    /// one commit. `Ok(None)` if the branch moved since: the caller re-reads and retries.
    /// With a working tree, the new files are then checked out (safely: a file changed by
    /// hand is never overwritten).
    pub fn bulk_commit(
        &self,
        expected_tip: Option<Oid>,
        files: &[(String, Vec<u8>)],
        message: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Option<Oid>> {
        let mut worktree = Worktree::lock(self)?;
        // A separate handle, so the mempack never captures this store's ordinary writes.
        let packing = Store {
            repo: Repository::open(self.repo.path())
                .ctx(|| "cannot reopen the repository".into())?,
            branch: self.branch.clone(),
        };
        let odb = packing
            .repo
            .odb()
            .ctx(|| "cannot open the object database".into())?;
        let mempack = odb
            .add_new_mempack_backend(1000)
            .ctx(|| "cannot set up an in-memory object database".into())?;
        let snap = packing.snapshot()?;
        if snap.tip() != expected_tip {
            return Ok(None);
        }
        if let Some(wt) = worktree.as_mut() {
            wt.check_untouched(&snap, files.iter().map(|(p, _)| p.as_str()))?;
        }
        let tree = packing.write_tree(snap.tree.as_ref(), files)?;
        let commit = packing.write_commit(&snap, tree, message, actor, now)?;
        let mut pack = git2::Buf::new();
        mempack
            .dump(&packing.repo, &mut pack)
            .ctx(|| "cannot build the pack".into())?;
        let mut writer = odb.packwriter().ctx(|| "cannot write the pack".into())?;
        writer.write_all(&pack).map_err(|source| StoreError::Io {
            action: "write a pack into",
            path: packing.repo.path().to_path_buf(),
            source,
        })?;
        writer.commit().ctx(|| "cannot store the pack".into())?;
        drop(snap);
        let _ = mempack.reset();
        if !self.move_branch(expected_tip, commit, message)? {
            return Ok(None);
        }
        if let Some(wt) = worktree.as_mut() {
            wt.sync(self, files.iter().map(|(p, _)| p.as_str()))?;
        }
        Ok(Some(commit))
    }
}
