//! Keeping the working tree and index of a non-bare case book in step with the branch.
//!
//! After each commit the changed paths are written to disk and into the index, so
//! `git status` stays clean and people can `cat` and `grep` the files. Only those paths are
//! touched: libgit2 still reads and rewrites the whole index, which is the price of this
//! shape (about 6 ms at 10k cases, 65 ms at 100k; a bare case book skips it).
//!
//! A file someone edited by hand and did not commit is never overwritten: before recording
//! an action on it, casebook refuses (see [`Worktree::check_untouched`]). Casebook processes
//! take turns on a lock file so that two of them never interleave their index updates.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use git2::{Index, ObjectType, Oid};

use super::snapshot::Snapshot;
use super::{GitContext, Result, Store, StoreError};

/// How long to wait for another casebook process to finish its action.
const LOCK_TIMEOUT: Duration = Duration::from_secs(60);
/// How far back a staged version of a file may lag behind the tip and still count as ours.
const HISTORY_DEPTH: usize = 64;

pub(crate) struct Worktree {
    workdir: PathBuf,
    index: Index,
    // Released (by the OS, even on a crash) when this is dropped.
    _lock: File,
}

impl Worktree {
    /// Takes the working-tree lock; `None` for a bare case book.
    pub(crate) fn lock(store: &Store) -> Result<Option<Worktree>> {
        let Some(workdir) = store.repo.workdir() else {
            return Ok(None);
        };
        let path = store.repo.path().join("casebook.lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| StoreError::Io {
                action: "open",
                path: path.clone(),
                source,
            })?;
        let start = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(fs::TryLockError::WouldBlock) if start.elapsed() < LOCK_TIMEOUT => {
                    std::thread::sleep(Duration::from_millis(2))
                }
                Err(fs::TryLockError::WouldBlock) => return Err(StoreError::Locked(path)),
                Err(fs::TryLockError::Error(source)) => {
                    return Err(StoreError::Io {
                        action: "lock",
                        path,
                        source,
                    })
                }
            }
        }
        let index = store
            .repo
            .index()
            .ctx(|| "cannot read the git index".into())?;
        Ok(Some(Worktree {
            workdir: workdir.to_path_buf(),
            index,
            _lock: file,
        }))
    }

    /// Refuses if any of `paths` has changes on disk or in the index that were not committed.
    ///
    /// A file is ours if its content is what the index says and the index holds a version
    /// that was committed: the tip's, or (when another process committed but has not yet
    /// updated the working tree) a recent one.
    pub(crate) fn check_untouched<'p>(
        &mut self,
        snap: &Snapshot<'_>,
        paths: impl Iterator<Item = &'p str>,
    ) -> Result<()> {
        self.index
            .read(false)
            .ctx(|| "cannot re-read the git index".into())?;
        for path in paths {
            let file = self.workdir.join(path);
            let on_disk = match fs::symlink_metadata(&file) {
                Ok(m) if m.is_file() => Some(
                    Oid::hash_file(ObjectType::Blob, &file)
                        .ctx(|| format!("cannot read {}", file.display()))?,
                ),
                Ok(_) => return Err(hand_edited(path, false)),
                Err(_) => None,
            };
            let staged = self.index.get_path(Path::new(path), 0).map(|e| e.id);
            let committed = snap.blob_id(path)?;
            match (on_disk, staged) {
                // Missing on disk: nothing to lose, the sync writes it again.
                (None, _) => {}
                (Some(disk), None) if Some(disk) == committed => {}
                (Some(_), None) => return Err(hand_edited(path, false)),
                (Some(disk), Some(staged)) if disk != staged => {
                    return Err(hand_edited(path, false))
                }
                (Some(_), Some(staged)) if Some(staged) == committed => {}
                (Some(_), Some(staged)) => {
                    if !was_committed(snap, path, staged)? {
                        return Err(hand_edited(path, true));
                    }
                }
            }
        }
        Ok(())
    }

    /// Writes `paths` as the branch tip has them now, and records them in the index.
    pub(crate) fn sync<'p>(
        &mut self,
        store: &Store,
        paths: impl Iterator<Item = &'p str>,
    ) -> Result<()> {
        // The tip, not our own commit: if someone moved the branch since, their version wins
        // and the working tree never goes backwards.
        let snap = store.snapshot()?;
        // libgit2 inserts index entries at their sorted place with a memmove; in sorted order
        // new entries mostly append, which keeps a bulk sync linear rather than quadratic.
        let mut paths: Vec<&str> = paths.collect();
        paths.sort_unstable();
        paths.dedup();
        for path in paths {
            let file = self.workdir.join(path);
            match snap.read(path)? {
                Some(content) => {
                    write_atomically(&file, &content)?;
                    self.index
                        .add_path(Path::new(path))
                        .ctx(|| format!("cannot stage {path}"))?;
                }
                None => {
                    let _ = fs::remove_file(&file);
                    let _ = self.index.remove_path(Path::new(path));
                }
            }
        }
        self.index
            .write()
            .ctx(|| "cannot write the git index".into())
    }
}

impl Worktree {
    /// Like [`Worktree::sync`] for a bulk write whose contents are known: if the branch is
    /// still at `commit`, the files are written from `files` and their index entries made
    /// from the written files' metadata, with no read-back, re-hashing or filtering per file.
    pub(crate) fn sync_written(
        &mut self,
        store: &Store,
        commit: Oid,
        files: &[(String, Vec<u8>)],
    ) -> Result<()> {
        if store.snapshot()?.tip() != Some(commit) || !cfg!(unix) {
            return self.sync(store, files.iter().map(|(p, _)| p.as_str()));
        }
        let mut sorted: Vec<&(String, Vec<u8>)> = files.iter().collect();
        sorted.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (path, content) in sorted {
            let file = self.workdir.join(path);
            write_atomically(&file, content)?;
            let oid = Oid::hash_object(ObjectType::Blob, content)
                .ctx(|| format!("cannot hash {path}"))?;
            let meta = fs::metadata(&file).map_err(|source| StoreError::Io {
                action: "stat",
                path: file.clone(),
                source,
            })?;
            self.index
                .add(&index_entry(path, oid, &meta))
                .ctx(|| format!("cannot stage {path}"))?;
        }
        self.index
            .write()
            .ctx(|| "cannot write the git index".into())
    }
}

/// The index entry git would make for a regular file just written at `path`.
#[cfg(unix)]
fn index_entry(path: &str, id: Oid, meta: &fs::Metadata) -> git2::IndexEntry {
    use std::os::unix::fs::MetadataExt;
    // The index stores 32-bit stat fields; git truncates the same way.
    git2::IndexEntry {
        ctime: git2::IndexTime::new(meta.ctime() as i32, meta.ctime_nsec() as u32),
        mtime: git2::IndexTime::new(meta.mtime() as i32, meta.mtime_nsec() as u32),
        dev: meta.dev() as u32,
        ino: meta.ino() as u32,
        mode: 0o100644,
        uid: meta.uid(),
        gid: meta.gid(),
        file_size: meta.len() as u32,
        id,
        flags: path.len().min(0xfff) as u16,
        flags_extended: 0,
        path: path.as_bytes().to_vec(),
    }
}

#[cfg(not(unix))]
fn index_entry(_path: &str, _id: Oid, _meta: &fs::Metadata) -> git2::IndexEntry {
    unreachable!("sync_written falls back to sync on this platform")
}

fn hand_edited(path: &str, staged: bool) -> StoreError {
    StoreError::HandEdited {
        path: path.to_string(),
        staged,
    }
}

/// Whether `blob` was the content of `path` in one of the tip's recent first-parent commits.
fn was_committed(snap: &Snapshot<'_>, path: &str, blob: Oid) -> Result<bool> {
    let mut commit = snap.commit.clone();
    for _ in 0..HISTORY_DEPTH {
        let Some(c) = commit else { return Ok(false) };
        let tree = c
            .tree()
            .ctx(|| format!("cannot read the tree of {}", c.id()))?;
        if tree.get_path(Path::new(path)).map(|e| e.id()).ok() == Some(blob) {
            return Ok(true);
        }
        commit = c.parent(0).ok();
    }
    Ok(false)
}

/// Writes to a temporary file beside `path` and renames it over, so readers never see half.
fn write_atomically(path: &Path, content: &[u8]) -> Result<()> {
    let io = |action, source| StoreError::Io {
        action,
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| io("create the folder of", e))?;
    }
    let tmp = path.with_extension(format!("casebook-{}.tmp", std::process::id()));
    let result = File::create(&tmp)
        .and_then(|mut f| f.write_all(content))
        .and_then(|()| fs::rename(&tmp, path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(|e| io("write", e))
}
