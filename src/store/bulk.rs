//! Bulk writes: many files in one commit, written as one pack instead of loose objects.
//!
//! Objects go into an in-memory object database (libgit2's mempack), then into a single
//! packfile that casebook writes itself, without delta search (libgit2's own pack builder
//! always searches for deltas, which is most of the cost at 100k cases), and that libgit2
//! indexes. No hundred thousand small files. The branch then moves by the same
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
        let (tree, mut written) = packing.write_tree(snap.tree.as_ref(), files)?;
        let commit = packing.write_commit(&snap, tree, message, actor, now)?;
        written.push(commit);
        let pack = build_pack(&odb, &written)?;
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
            wt.sync_written(self, commit, files)?;
        }
        Ok(Some(commit))
    }
}

/// A version 2 pack of `oids` (read from `odb`), every object stored whole: a header, each
/// object as a type-and-size varint and its zlib-deflated content, and a SHA-1 trailer.
fn build_pack(odb: &git2::Odb<'_>, oids: &[Oid]) -> Result<Vec<u8>> {
    use flate2::{write::ZlibEncoder, Compression};
    use sha1::{Digest, Sha1};

    let mut seen = std::collections::HashSet::with_capacity(oids.len());
    let unique: Vec<Oid> = oids.iter().copied().filter(|o| seen.insert(*o)).collect();
    let mut pack = Vec::with_capacity(unique.len() * 512 + 32);
    pack.extend_from_slice(b"PACK");
    pack.extend_from_slice(&2u32.to_be_bytes());
    pack.extend_from_slice(
        &u32::try_from(unique.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    for oid in unique {
        let object = odb.read(oid).ctx(|| format!("cannot read object {oid}"))?;
        let kind: u8 = match object.kind() {
            git2::ObjectType::Commit => 1,
            git2::ObjectType::Tree => 2,
            git2::ObjectType::Blob => 3,
            _ => 4,
        };
        let data = object.data();
        let mut size = data.len();
        let mut byte = (kind << 4) | (size & 0x0f) as u8;
        size >>= 4;
        while size > 0 {
            pack.push(byte | 0x80);
            byte = (size & 0x7f) as u8;
            size >>= 7;
        }
        pack.push(byte);
        let mut z = ZlibEncoder::new(pack, Compression::fast());
        // Writing into a Vec cannot fail.
        std::io::Write::write_all(&mut z, data).expect("deflate into memory");
        pack = z.finish().expect("deflate into memory");
    }
    let trailer = Sha1::digest(&pack);
    pack.extend_from_slice(&trailer);
    Ok(pack)
}
