//! The working tree and index of a non-bare case book: derived state that heals itself.
//!
//! The branch is the truth. After each commit the changed paths are written to disk and into
//! the index, so `git status` stays clean and people can `cat` and `grep` the files. Before a
//! transaction touches either, it records its intent in the journal (`.git/casebook.journal`:
//! the old tip and the new commit). Every casebook command, reads included, first looks for
//! a journal left behind (by a kill, a crash, or an index another git process held) and
//! finishes it: each path that differs between the two commits is brought to the tip's
//! version, provided its file and index entry hold nothing but what casebook itself was
//! replacing or writing. Anything else there is a person's edit and is left alone.
//!
//! So no fault leaves a case "locally modified" by casebook's own unfinished write, and a
//! real hand edit is still refused ([`Worktree::check_untouched`]) with a hint that cannot
//! drop a committed event.
//!
//! Temporary files live in `.git/casebook-tmp/`, never in the working tree. Casebook
//! processes take turns on the write lock (`.git/casebook.lock`, released by the OS on any
//! exit), so only one of them ever writes the index or the journal at a time.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use git2::{ErrorCode, ObjectType, Oid};

use super::gitindex::{self, GitIndex};
use super::snapshot::{parse_case, Snapshot};
use super::{fault, treediff, GitContext, Result, Store, StoreError};
use crate::model::Actor;

/// How long to wait for another casebook process to finish its transaction.
const LOCK_TIMEOUT: Duration = Duration::from_secs(120);
/// How long to keep trying when another git process holds the index after a commit.
const INDEX_PATIENCE: Duration = Duration::from_secs(2);

/// The case book's write lock; released (by the OS, even on a crash) when dropped.
pub(crate) struct WriteLock {
    _file: File,
}

impl Store {
    fn lock_file(&self) -> Result<File> {
        let path = self.repo.path().join("casebook.lock");
        File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| StoreError::Io {
                action: "open",
                path,
                source,
            })
    }

    /// Waits for the write lock (other casebook processes hold it for one transaction).
    pub(crate) fn write_lock(&self) -> Result<WriteLock> {
        let file = self.lock_file()?;
        let start = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(WriteLock { _file: file }),
                Err(fs::TryLockError::WouldBlock) if start.elapsed() < LOCK_TIMEOUT => {
                    std::thread::sleep(Duration::from_millis(2))
                }
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(StoreError::Locked(self.repo.path().join("casebook.lock")))
                }
                Err(fs::TryLockError::Error(source)) => {
                    return Err(StoreError::Io {
                        action: "lock",
                        path: self.repo.path().join("casebook.lock"),
                        source,
                    })
                }
            }
        }
    }

    /// The write lock if nobody holds it now.
    fn try_write_lock(&self) -> Result<Option<WriteLock>> {
        let file = self.lock_file()?;
        match file.try_lock() {
            Ok(()) => Ok(Some(WriteLock { _file: file })),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(source)) => Err(StoreError::Io {
                action: "lock",
                path: self.repo.path().join("casebook.lock"),
                source,
            }),
        }
    }

    /// Finishes a working-tree update that an earlier process left unfinished. Cheap when
    /// there is none (one `stat`); skipped while another casebook process is writing (it
    /// finishes it itself). Every command calls this first.
    pub fn heal(&self) -> Result<()> {
        let leftovers = fs::read_dir(temporary_dir(self)).is_ok_and(|mut d| d.next().is_some())
            || !super::pack::stale_temporaries(self.repo.path()).is_empty();
        if Journal::load(self).pending.is_none() && !leftovers {
            return Ok(());
        }
        let Some(_lock) = self.try_write_lock()? else {
            return Ok(());
        };
        self.heal_locked()
    }

    /// [`Store::heal`] with the write lock held: clears temporary files, removes a ref lock
    /// that a killed casebook process left, and finishes the working-tree update.
    pub(crate) fn heal_locked(&self) -> Result<()> {
        clear_temporary_files(self);
        let mut journal = Journal::load(self);
        let Some((_, new)) = journal.pending else {
            return Ok(());
        };
        remove_own_ref_lock(self, new);
        if !self.repo.is_bare() {
            remove_own_index_lock(self);
        }
        match Worktree::open(self)? {
            Some(mut wt) => wt.heal(self),
            None => {
                journal.pending = None;
                journal.synced = None;
                journal.save(self)
            }
        }
    }
}

/// The journal: which commit the working tree was last brought to (`synced`), and the
/// update under way, if any (`pending`: from the old tip to the new commit). Saved
/// atomically, so a half-written journal is never read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Journal {
    pub synced: Option<Oid>,
    pub pending: Option<(Option<Oid>, Oid)>,
}

impl Journal {
    fn path(store: &Store) -> PathBuf {
        store.repo.path().join("casebook.journal")
    }

    /// The journal as saved; empty if there is none (or it is not casebook's).
    pub(crate) fn load(store: &Store) -> Journal {
        let Ok(text) = fs::read_to_string(Journal::path(store)) else {
            return Journal::default();
        };
        let oid = |t: &str| Oid::from_str(t).ok();
        let mut journal = Journal::default();
        for line in text.lines() {
            let words: Vec<&str> = line.split(' ').collect();
            match words.as_slice() {
                ["synced", s] => journal.synced = oid(s),
                ["pending", "none", new] => journal.pending = oid(new).map(|n| (None, n)),
                ["pending", old, new] => {
                    journal.pending = oid(old).zip(oid(new)).map(|(o, n)| (Some(o), n))
                }
                _ => {}
            }
        }
        journal
    }

    pub(crate) fn save(&self, store: &Store) -> Result<()> {
        let mut text = String::from("casebook-journal 2\n");
        if let Some(s) = self.synced {
            text.push_str(&format!("synced {s}\n"));
        }
        if let Some((old, new)) = self.pending {
            let old = old.map_or_else(|| "none".to_string(), |o| o.to_string());
            text.push_str(&format!("pending {old} {new}\n"));
        }
        write_atomically(store, &Journal::path(store), text.as_bytes())
    }
}

/// The git index: patched in place by [`gitindex`] when it is in git's default format,
/// through libgit2 (which rewrites it whole) otherwise.
enum Staging {
    Patched(GitIndex),
    Libgit2(git2::Index),
}

impl Staging {
    fn open(store: &Store) -> Result<Staging> {
        let path = store.repo.path().join("index");
        let patched = gitindex::load(&path).map_err(|source| StoreError::Io {
            action: "read",
            path: path.clone(),
            source,
        })?;
        Ok(match patched {
            Some(mut index) => {
                index.skip_hash = store
                    .git_config()
                    .and_then(|c| c.get_bool("index.skipHash").ok())
                    .unwrap_or(false);
                Staging::Patched(index)
            }
            None => Staging::Libgit2(
                store
                    .repo
                    .index()
                    .ctx(|| "cannot read the git index".into())?,
            ),
        })
    }

    fn get(&self, path: &str) -> Option<Oid> {
        match self {
            Staging::Patched(i) => i.get(path),
            Staging::Libgit2(i) => i.get_path(Path::new(path), 0).map(|e| e.id),
        }
    }

    fn set(&mut self, path: &str, id: Oid, mode: i32, meta: &fs::Metadata) -> Result<()> {
        match self {
            Staging::Patched(i) => {
                i.set(path, id, mode as u32, meta);
                Ok(())
            }
            Staging::Libgit2(i) => add_entry(i, path, id, mode, meta),
        }
    }

    fn remove(&mut self, path: &str) {
        match self {
            Staging::Patched(i) => i.remove(path),
            Staging::Libgit2(i) => {
                let _ = i.remove_path(Path::new(path));
            }
        }
    }

    /// `false` if another process holds the index.
    fn write(&mut self, store: &Store) -> Result<bool> {
        match self {
            Staging::Patched(i) => match i.write() {
                Ok(gitindex::Write::Done) => Ok(true),
                Ok(gitindex::Write::Locked) => Ok(false),
                Err(source) => Err(StoreError::Io {
                    action: "write",
                    path: store.repo.path().join("index"),
                    source,
                }),
            },
            Staging::Libgit2(i) => match i.write() {
                Ok(()) => Ok(true),
                Err(e) if e.code() == ErrorCode::Locked => Ok(false),
                Err(e) => Err(e).ctx(|| "cannot write the git index".into()),
            },
        }
    }
}

/// Puts back, in a commit on `tip`, the files of casebook's commit `new` that a later
/// commit made from a stale index undid (`undone`: path and casebook's blob). Returns
/// `false` if the branch moved meanwhile.
fn restore_undone(
    store: &Store,
    tip: Oid,
    new: Oid,
    undone: &[(String, Option<Oid>)],
) -> Result<bool> {
    let repo = &store.repo;
    let base = repo
        .find_commit(tip)
        .and_then(|c| c.tree())
        .ctx(|| format!("cannot read the tree of commit {tip}"))?;
    let tree = store.apply_to_tree(Some(&base), undone, &mut Vec::new())?;
    // In the name of whoever made casebook's commit: the restore finishes their action.
    let ours = repo
        .find_commit(new)
        .ctx(|| format!("cannot read commit {new}"))?;
    let author = ours.author();
    let actor = Actor {
        name: author.name().unwrap_or("casebook").to_string(),
        email: author.email().unwrap_or("casebook@localhost").to_string(),
    };
    let cases: Vec<&str> = undone
        .iter()
        .filter_map(|(path, _)| Path::new(path).file_stem()?.to_str())
        .collect();
    let short = |o: Oid| o.to_string()[..10].to_string();
    let mut message = format!(
        "casebook: restore {} undone by {}\n\nCommit {tip} was made from a git index that casebook had not updated\nyet (another program held it), so it undid what commit {new} recorded\nin these files. This commit puts it back.\n\nAction: restore\n",
        cases.join(", "),
        short(tip),
    );
    for case in &cases {
        message.push_str(&format!("Case-Id: {case}\n"));
    }
    let commit = store.write_commit(&[tip], tree, &message, &actor, chrono::Utc::now())?;
    if !store.move_branch(Some(tip), commit, "restore files a stale index undid")? {
        return Ok(false);
    }
    super::notice(&format!(
        "commit {} was made from a stale git index and undid casebook's change to {}; restored in commit {}",
        short(tip),
        cases.join(", "),
        short(commit)
    ));
    Ok(true)
}

pub(crate) struct Worktree {
    workdir: PathBuf,
    /// Read on first use: a transaction that changes no file never reads it.
    index: Option<Staging>,
}

impl Worktree {
    /// The working tree and index; `None` for a bare case book.
    pub(crate) fn open(store: &Store) -> Result<Option<Worktree>> {
        let Some(workdir) = store.repo.workdir() else {
            return Ok(None);
        };
        Ok(Some(Worktree {
            workdir: workdir.to_path_buf(),
            index: None,
        }))
    }

    /// The index as it is on disk now.
    fn reload(&mut self, store: &Store) -> Result<&mut Staging> {
        Ok(self.index.insert(Staging::open(store)?))
    }

    fn index(&mut self, store: &Store) -> Result<&mut Staging> {
        match self.index {
            Some(ref mut i) => Ok(i),
            None => self.reload(store),
        }
    }

    /// Finishes what the journal says was under way (the write lock is held).
    pub(crate) fn heal(&mut self, store: &Store) -> Result<()> {
        let mut journal = Journal::load(store);
        let Some((old, new)) = journal.pending else {
            return Ok(());
        };
        let tree = |c: Option<Oid>| {
            c.and_then(|c| store.repo.find_commit(c).ok())
                .and_then(|c| c.tree().ok())
        };
        let (old_tree, new_tree) = (tree(old), tree(Some(new)));
        if new_tree.is_none() {
            // The commit's objects are gone (pruned): there is nothing casebook wrote left.
            journal.pending = None;
            return journal.save(store);
        }
        let deltas = treediff::diff(&store.repo, old_tree.as_ref(), new_tree.as_ref())?;
        self.reload(store)?;
        // A commit made on top of ours by another program.
        let tip = store.repo.refname_to_id(&store.branch).ok();
        let later_tree = tip
            .filter(|t| *t != new && store.repo.graph_descendant_of(*t, new).unwrap_or(false))
            .and_then(|t| tree(Some(t)));
        let mut ours = Vec::with_capacity(deltas.len());
        let mut undone = Vec::new();
        for d in &deltas {
            let allowed = |x: Option<Oid>| x.is_none() || x == d.old || x == d.new;
            let disk = self.disk_blob(&d.path)?;
            let staged = self.index(store)?.get(&d.path);
            if matches!(disk, Disk::File(_) | Disk::Missing)
                && allowed(disk.id())
                && allowed(staged)
            {
                ours.push(d.path.clone());
            }
            // `git commit` records the index: one made while the index still held the file
            // as it was before (casebook had not staged it yet) undid our change, though the
            // file on disk still holds it.
            if let Some(later) = &later_tree {
                let at_tip = later.get_path(Path::new(&d.path)).ok().map(|e| e.id());
                if d.old != d.new && at_tip == d.old && staged == d.old && disk.id() == d.new {
                    undone.push((d.path.clone(), d.new));
                }
            }
        }
        if let (Some(tip), false) = (tip, undone.is_empty()) {
            if !restore_undone(store, tip, new, &undone)? {
                // The branch moved meanwhile: the next command looks again.
                return Ok(());
            }
        }
        fault::point("heal-mid");
        if self.apply(store, &ours, &BTreeMap::new())? {
            journal.synced = store.snapshot()?.tip();
            journal.pending = None;
            journal.save(store)?;
            if !ours.is_empty() {
                super::notice(&format!(
                    "finished an interrupted update of the working tree ({} file{})",
                    ours.len(),
                    if ours.len() == 1 { "" } else { "s" }
                ));
            }
        }
        Ok(())
    }

    fn disk_blob(&self, path: &str) -> Result<Disk> {
        let file = self.workdir.join(path);
        match fs::symlink_metadata(&file) {
            Ok(m) if m.is_file() => Ok(Disk::File(
                Oid::hash_file(ObjectType::Blob, &file)
                    .ctx(|| format!("cannot read {}", file.display()))?,
            )),
            Ok(_) => Ok(Disk::Other),
            Err(_) => Ok(Disk::Missing),
        }
    }

    /// Refuses if any of `paths` has changes on disk or in the index that were not
    /// committed. (Interrupted casebook writes were finished before this runs, so anything
    /// that differs from the tip is a person's edit.)
    pub(crate) fn check_untouched(&mut self, snap: &Snapshot<'_>, paths: &[String]) -> Result<()> {
        if paths.is_empty() {
            return Ok(());
        }
        self.reload(snap.store)?;
        // A foreign writer (`git update-ref`, `git reset --soft`, plumbing) may have moved
        // the branch without touching the files: the version casebook last synced is then
        // still its own, not an edit.
        let journal = Journal::load(snap.store);
        let synced = match journal.synced {
            Some(s) if Some(s) != snap.tip() => snap.store.repo.find_commit(s).ok(),
            _ => None,
        };
        let synced_tree = synced.as_ref().and_then(|c| c.tree().ok());
        for path in paths {
            let committed = snap.blob_id(path)?;
            let ours = synced_tree
                .as_ref()
                .and_then(|t| t.get_path(Path::new(path)).ok())
                .map(|e| e.id());
            let known = |x: Option<Oid>| x == committed || (x.is_some() && x == ours);
            let disk = self.disk_blob(path)?;
            let staged = self.index(snap.store)?.get(path);
            let disk_ok = match disk {
                Disk::Missing => true,
                Disk::File(id) => known(Some(id)),
                Disk::Other => false,
            };
            let staged_ok = staged.is_none() || known(staged);
            if disk_ok && staged_ok {
                continue;
            }
            let lost_events = match disk {
                Disk::File(_) => self.events_missing_on_disk(snap, path),
                _ => 0,
            };
            return Err(StoreError::HandEdited {
                path: path.clone(),
                staged: !staged_ok,
                lost_events,
            });
        }
        Ok(())
    }

    /// How many committed events of the case at `path` the file on disk lacks.
    fn events_missing_on_disk(&self, snap: &Snapshot<'_>, path: &str) -> usize {
        let (Ok(Some(committed)), Ok(disk)) = (snap.read(path), fs::read(self.workdir.join(path)))
        else {
            return 0;
        };
        let (Ok(committed), Ok(disk)) = (parse_case(path, &committed), parse_case(path, &disk))
        else {
            return 0;
        };
        committed
            .events
            .iter()
            .filter(|e| !disk.events.iter().any(|d| d.id == e.id))
            .count()
    }

    /// Writes `paths` as the branch tip has them now and records them in the index.
    /// `known` holds contents the caller already has (so they need not be read back).
    /// Returns `false` if the index stayed locked by another git process: the journal then
    /// keeps the update for the next command.
    pub(crate) fn apply(
        &mut self,
        store: &Store,
        paths: &[String],
        known: &BTreeMap<&str, &[u8]>,
    ) -> Result<bool> {
        // The tip, not the caller's commit: if a foreign writer moved the branch since, its
        // version wins and the working tree never goes backwards.
        let snap = store.snapshot()?;
        // libgit2 inserts index entries at their sorted place; in sorted order new entries
        // mostly append, which keeps a bulk update linear rather than quadratic.
        let mut sorted: Vec<&str> = paths.iter().map(String::as_str).collect();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.is_empty() {
            return Ok(true);
        }
        let half = sorted.len() / 2;
        for (i, path) in sorted.iter().copied().enumerate() {
            let file = self.workdir.join(path);
            match snap.entry(path)? {
                Some((blob, mode)) => {
                    let owned;
                    let content: &[u8] = match known.get(path) {
                        Some(bytes)
                            if Oid::hash_object(ObjectType::Blob, bytes).ok() == Some(blob) =>
                        {
                            bytes
                        }
                        _ => {
                            owned = snap.read(path)?.unwrap_or_default();
                            &owned
                        }
                    };
                    write_file(store, &file, content, mode)?;
                    let meta = fs::symlink_metadata(&file).map_err(|source| StoreError::Io {
                        action: "stat",
                        path: file.clone(),
                        source,
                    })?;
                    self.index(store)?.set(path, blob, mode, &meta)?;
                }
                None => {
                    let _ = fs::remove_file(&file);
                    remove_empty_parents(&self.workdir, &file);
                    self.index(store)?.remove(path);
                }
            }
            crate::progress::every(
                "updating the working tree",
                i as u64 + 1,
                sorted.len() as u64,
                256,
            );
            if i == 0 {
                fault::point("after-file");
            }
            if i == half {
                fault::point("mid-files");
            }
        }
        fault::point("after-files");
        let start = Instant::now();
        loop {
            if self.index(store)?.write(store)? {
                fault::point("after-index");
                return Ok(true);
            }
            if start.elapsed() >= INDEX_PATIENCE {
                return Ok(false);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// What the working tree has at a path.
#[derive(Clone, Copy)]
enum Disk {
    File(Oid),
    Missing,
    /// A folder, a symlink or something else where casebook expects a file.
    Other,
}

impl Disk {
    fn id(self) -> Option<Oid> {
        match self {
            Disk::File(id) => Some(id),
            _ => None,
        }
    }
}

/// The index entry git would make for a file just written at `path`.
fn add_entry(
    index: &mut git2::Index,
    path: &str,
    id: Oid,
    mode: i32,
    meta: &fs::Metadata,
) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // The index stores 32-bit stat fields; git truncates the same way.
        let entry = git2::IndexEntry {
            ctime: git2::IndexTime::new(meta.ctime() as i32, meta.ctime_nsec() as u32),
            mtime: git2::IndexTime::new(meta.mtime() as i32, meta.mtime_nsec() as u32),
            dev: meta.dev() as u32,
            ino: meta.ino() as u32,
            mode: mode as u32,
            uid: meta.uid(),
            gid: meta.gid(),
            file_size: meta.len() as u32,
            id,
            flags: path.len().min(0xfff) as u16,
            flags_extended: 0,
            path: path.as_bytes().to_vec(),
        };
        index.add(&entry).ctx(|| format!("cannot stage {path}"))
    }
    #[cfg(not(unix))]
    {
        let _ = (id, mode, meta);
        index
            .add_path(Path::new(path))
            .ctx(|| format!("cannot stage {path}"))
    }
}

fn temporary_dir(store: &Store) -> PathBuf {
    store.repo.path().join("casebook-tmp")
}

/// A process killed inside libgit2's branch update leaves `refs/heads/<branch>.lock`
/// behind, holding the commit it was moving to (or nothing, if it died sooner). A lock with
/// the journal's own commit in it, or an empty one older than a live git would ever hold
/// it, is that process's: removing it is what git's own cleanup would have done.
fn remove_own_ref_lock(store: &Store, new: Oid) {
    let lock = store.repo.path().join(format!("{}.lock", store.branch));
    let Ok(content) = fs::read_to_string(&lock) else {
        return;
    };
    let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    // Made right after the journal was saved (within seconds), while casebook held its
    // write lock: the killed transaction's.
    let made_by_it = match (modified(&lock), modified(&Journal::path(store))) {
        (Some(lock), Some(journal)) => lock
            .duration_since(journal)
            .is_ok_and(|d| d < Duration::from_secs(10)),
        _ => false,
    };
    let ours = content.trim() == new.to_string() || (content.trim().is_empty() && made_by_it);
    if ours {
        let _ = fs::remove_file(&lock);
    }
}

/// A process killed while writing the index leaves `index.lock` behind. One made after the
/// journal's pending entry was saved (within seconds), that no live git process releases
/// within a second, is that process's: removing it is what git's own cleanup would have
/// done. (A live git holds the index lock for milliseconds.)
fn remove_own_index_lock(store: &Store) {
    let lock = super::locks::index_lock_path(store);
    let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    let made_by_it = || match (modified(&lock), modified(&Journal::path(store))) {
        (Some(lock), Some(journal)) => lock
            .duration_since(journal)
            .is_ok_and(|d| d < Duration::from_secs(10)),
        _ => false,
    };
    if !made_by_it() {
        return;
    }
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(1) {
        if !lock.exists() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    if made_by_it() {
        let _ = fs::remove_file(&lock);
    }
}

/// Removes temporary files a killed process left (the write lock is held, so no live
/// casebook process is writing one), and its stale temporary packs.
fn clear_temporary_files(store: &Store) {
    if let Ok(dir) = fs::read_dir(temporary_dir(store)) {
        for entry in dir.flatten() {
            let _ = fs::remove_file(entry.path());
        }
    }
    for path in super::pack::stale_temporaries(store.repo.path()) {
        let _ = fs::remove_file(path);
    }
}

/// Writes a working-tree file: into `.git/casebook-tmp/` first, then renamed over, so
/// readers never see half a file and no temporary file ever appears in the working tree.
fn write_file(store: &Store, path: &Path, content: &[u8], mode: i32) -> Result<()> {
    let io = |action, source| StoreError::Io {
        action,
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| io("create the folder of", e))?;
    }
    if let Ok(m) = fs::symlink_metadata(path) {
        if m.is_dir() {
            return Err(io(
                "replace the folder",
                std::io::Error::other("a folder is in the way"),
            ));
        }
    }
    if mode == 0o120000 {
        #[cfg(unix)]
        {
            let target = std::ffi::OsStr::new(std::str::from_utf8(content).unwrap_or_default());
            let _ = fs::remove_file(path);
            return std::os::unix::fs::symlink(target, path).map_err(|e| io("link", e));
        }
    }
    write_atomically(store, path, content)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let bits = if mode == 0o100755 { 0o755 } else { 0o644 };
        let _ = fs::set_permissions(path, fs::Permissions::from_mode(bits));
    }
    Ok(())
}

/// Writes `content` to a fresh file in `.git/casebook-tmp/` and renames it to `path`. If the
/// two are on different file systems, writes `path` in place.
pub(crate) fn write_atomically(store: &Store, path: &Path, content: &[u8]) -> Result<()> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let io = |action, source| StoreError::Io {
        action,
        path: path.to_path_buf(),
        source,
    };
    let dir = temporary_dir(store);
    fs::create_dir_all(&dir).map_err(|e| io("create a temporary folder for", e))?;
    let tmp = dir.join(format!(
        "{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let written = create_near(path, &tmp).and_then(|mut f| f.write_all(content));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(io("write", e));
    }
    match fs::rename(&tmp, path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::CrossesDevices => {
            let _ = fs::remove_file(&tmp);
            fs::write(path, content).map_err(|e| io("write", e))
        }
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(io("write", e))
        }
    }
}

/// Creates the temporary file `tmp` for content that will be renamed to `target`.
///
/// On Linux the file is made as an unnamed inode in `target`'s own folder (`O_TMPFILE`)
/// and only then linked under its temporary name in `.git/casebook-tmp/`: the file system
/// places it beside its final folder, as git's checkout would, rather than packing every
/// inode of a bulk update next to one temporary folder (which makes ext4's allocator crawl
/// after a mass deletion), and a crash before the link leaves nothing behind at all.
/// Elsewhere, or where the file system lacks `O_TMPFILE`, an ordinary file is created.
fn create_near(target: &Path, tmp: &Path) -> std::io::Result<File> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::FromRawFd;
        use std::os::unix::ffi::OsStrExt;
        if let Some(dir) = target.parent() {
            let dir_c = std::ffi::CString::new(dir.as_os_str().as_bytes())?;
            // SAFETY: a plain open(2) with a NUL-terminated path; the descriptor is owned
            // by the `File` made from it right away.
            let fd = unsafe {
                libc::open(
                    dir_c.as_ptr(),
                    libc::O_TMPFILE | libc::O_WRONLY | libc::O_CLOEXEC,
                    0o644,
                )
            };
            if fd >= 0 {
                // SAFETY: `fd` is a fresh descriptor that nothing else owns.
                let file = unsafe { File::from_raw_fd(fd) };
                let proc = std::ffi::CString::new(format!("/proc/self/fd/{fd}"))?;
                let tmp_c = std::ffi::CString::new(tmp.as_os_str().as_bytes())?;
                // SAFETY: linkat(2) with NUL-terminated paths.
                let linked = unsafe {
                    libc::linkat(
                        libc::AT_FDCWD,
                        proc.as_ptr(),
                        libc::AT_FDCWD,
                        tmp_c.as_ptr(),
                        libc::AT_SYMLINK_FOLLOW,
                    )
                };
                if linked == 0 {
                    return Ok(file);
                }
            }
        }
    }
    File::create(tmp)
}

/// After deleting a file, removes the folders it leaves empty (as git does), up to the root.
fn remove_empty_parents(root: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == root || fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}
