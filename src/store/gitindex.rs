//! git's index file, read and patched in place for the few paths a transaction changes.
//!
//! libgit2 parses the whole index into memory, sorts it and writes it back to change one
//! entry: 70–160 ms at 100k cases (a 9 MB file). This module keeps the file as bytes,
//! finds entries by binary search over their offsets, and writes the new file by copying
//! the untouched byte ranges around the changed entries: one read, one scan, one write and
//! one SHA-1 (hardware-accelerated). The result is the plain index git and libgit2 read.
//!
//! Supported: versions 2 and 3 (git's default), with any optional extension. `TREE` (the
//! cache tree) is kept, with the changed paths' folders invalidated as git does; the other
//! optional extensions (untracked cache, fsmonitor, offset tables) describe the old file
//! and are dropped, which git allows. An index git writes differently (version 4, a split
//! or sparse index: a mandatory extension) is left to libgit2 ([`load`] returns `None`).
//!
//! Writes take git's own lock, `index.lock`, created exclusively, then renamed over the
//! index: a git process running at the same time is never overwritten, and a held lock is
//! reported as [`Write::Locked`].

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use git2::Oid;
use sha1::{Digest, Sha1};

/// Where an entry's fixed-size header ends and its path begins.
const HEADER: usize = 62;
const HEADER_EXTENDED: usize = 64;

/// The index file's bytes: mapped (git replaces the index by renaming a new file over it,
/// never by writing into it, so a mapping stays valid), or empty when there is none.
enum Data {
    Mapped(memmap2::Mmap),
    Empty,
}

impl std::ops::Deref for Data {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Data::Mapped(m) => m,
            Data::Empty => &[],
        }
    }
}

pub(crate) struct GitIndex {
    path: PathBuf,
    data: Data,
    version: u32,
    /// Byte ranges of the entries, in index order.
    entries: Vec<(usize, usize)>,
    /// Byte ranges of the extensions (signature included).
    extensions: Vec<(usize, usize)>,
    /// Changed paths: their new entry, or `None` when removed.
    changes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Size and modification time of the file `data` was read from.
    stamp: Option<(u64, std::time::SystemTime)>,
    /// git's `index.skipHash`: write a zero trailer instead of the SHA-1 (git 2.40 and
    /// libgit2 1.9 read it; older git does not, which is why it is git's opt-in, not ours).
    pub skip_hash: bool,
}

fn stamp(path: &Path) -> Option<(u64, std::time::SystemTime)> {
    let meta = fs::metadata(path).ok()?;
    Some((meta.len(), meta.modified().ok()?))
}

pub(crate) enum Write {
    Done,
    /// Another process holds `index.lock`.
    Locked,
}

/// Reads the index at `path` (an empty one if there is none). `None` if it uses a format
/// this module does not patch (or is damaged): the caller falls back to libgit2.
pub(crate) fn load(path: &Path) -> std::io::Result<Option<GitIndex>> {
    let file = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Some(GitIndex {
                path: path.to_path_buf(),
                data: Data::Empty,
                version: 2,
                entries: Vec::new(),
                extensions: Vec::new(),
                changes: BTreeMap::new(),
                stamp: None,
                skip_hash: false,
            }))
        }
        Err(e) => return Err(e),
    };
    let stamp = file
        .metadata()
        .ok()
        .and_then(|m| Some((m.len(), m.modified().ok()?)));
    if stamp.is_none_or(|(len, _)| len == 0) {
        return Ok(None);
    }
    // SAFETY: the index is only ever replaced by a rename, never written in place, so the
    // mapped pages do not change under us.
    let map = unsafe { memmap2::Mmap::map(&file)? };
    Ok(parse(path, Data::Mapped(map)).map(|mut index| {
        index.stamp = stamp;
        index
    }))
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

fn parse(path: &Path, data: Data) -> Option<GitIndex> {
    if data.len() < 32 || &data[..4] != b"DIRC" {
        return None;
    }
    let version = u32_at(&data, 4)?;
    if version != 2 && version != 3 {
        return None;
    }
    let count = u32_at(&data, 8)? as usize;
    let end = data.len() - 20;
    let mut entries = Vec::with_capacity(count);
    let mut at = 12;
    for _ in 0..count {
        let flags = u16_at(&data, at + 60)?;
        let header = if flags & 0x4000 != 0 {
            HEADER_EXTENDED
        } else {
            HEADER
        };
        let name = at + header;
        let len = match usize::from(flags & 0x0fff) {
            0x0fff => data.get(name..end)?.iter().position(|&b| b == 0)?,
            n => n,
        };
        let size = (header + len + 8) & !7;
        if at + size > end {
            return None;
        }
        entries.push((at, at + size));
        at += size;
    }
    let mut extensions = Vec::new();
    while at < end {
        let signature = data.get(at..at + 4)?;
        if !signature[0].is_ascii_uppercase() {
            return None; // a mandatory extension (link, sdir): not ours to patch
        }
        let size = u32_at(&data, at + 4)? as usize;
        let next = at.checked_add(8 + size)?;
        if next > end {
            return None;
        }
        extensions.push((at, next));
        at = next;
    }
    Some(GitIndex {
        path: path.to_path_buf(),
        data,
        version,
        entries,
        extensions,
        changes: BTreeMap::new(),
        stamp: None,
        skip_hash: false,
    })
}

impl GitIndex {
    fn entry_path(&self, (start, end): (usize, usize)) -> &[u8] {
        let flags = u16_at(&self.data, start + 60).unwrap_or(0);
        let header = if flags & 0x4000 != 0 {
            HEADER_EXTENDED
        } else {
            HEADER
        };
        let name = &self.data[start + header..end];
        let len = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        &name[..len]
    }

    fn stage(&self, (start, _): (usize, usize)) -> u16 {
        (u16_at(&self.data, start + 60).unwrap_or(0) >> 12) & 3
    }

    /// The blob staged (stage 0) at `path`.
    pub(crate) fn get(&self, path: &str) -> Option<Oid> {
        let key = path.as_bytes();
        if let Some(change) = self.changes.get(key) {
            return change
                .as_ref()
                .and_then(|e| Oid::from_bytes(&e[40..60]).ok());
        }
        let first = self.entries.partition_point(|&r| self.entry_path(r) < key);
        self.entries[first..]
            .iter()
            .take_while(|&&r| self.entry_path(r) == key)
            .find(|&&r| self.stage(r) == 0)
            .and_then(|&(start, _)| Oid::from_bytes(&self.data[start + 40..start + 60]).ok())
    }

    /// Stages `id` at `path` with the stat data of the file just written there.
    pub(crate) fn set(&mut self, path: &str, id: Oid, mode: u32, meta: &fs::Metadata) {
        self.changes.insert(
            path.as_bytes().to_vec(),
            Some(entry_bytes(path, id, mode, meta)),
        );
    }

    pub(crate) fn remove(&mut self, path: &str) {
        self.changes.insert(path.as_bytes().to_vec(), None);
    }

    /// Writes the index with the changes, under git's lock.
    pub(crate) fn write(&mut self) -> std::io::Result<Write> {
        if self.changes.is_empty() {
            return Ok(Write::Done);
        }
        let lock = self.path.with_extension("lock");
        let mut file = match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(Write::Locked),
            Err(e) => return Err(e),
        };
        super::fault::point("index-locked");
        // Holding the lock, as git does: if another process rewrote the index since it was
        // read (a `git add`, a `git status` refreshing stat data), patch its version.
        if stamp(&self.path) != self.stamp {
            match load(&self.path) {
                Ok(Some(mut fresh)) => {
                    fresh.changes = std::mem::take(&mut self.changes);
                    fresh.skip_hash = self.skip_hash;
                    *self = fresh;
                }
                _ => {
                    // Rewritten in a format this module leaves to libgit2: try again later.
                    drop(file);
                    let _ = fs::remove_file(&lock);
                    return Ok(Write::Locked);
                }
            }
        }
        let result = self
            .render(&mut file)
            .and_then(|()| fs::rename(&lock, &self.path));
        if result.is_err() {
            let _ = fs::remove_file(&lock);
        }
        result?;
        // The changes stay recorded (so `get` keeps answering from them); the stamp no
        // longer matches, so a further write starts from the file just written.
        Ok(Write::Done)
    }

    /// How many entries the new index has.
    fn new_count(&self) -> u32 {
        let mut count = self.entries.len();
        for (key, entry) in &self.changes {
            let first = self
                .entries
                .partition_point(|&r| self.entry_path(r) < key.as_slice());
            let replaced = self.entries[first..]
                .iter()
                .take_while(|&&r| self.entry_path(r) == key.as_slice())
                .count();
            count = count - replaced + usize::from(entry.is_some());
        }
        count as u32
    }

    /// Streams the new index into `file`: untouched runs of entries are written straight
    /// from the mapped old file, and the SHA-1 trailer is computed on the way.
    fn render(&self, file: &mut fs::File) -> std::io::Result<()> {
        let mut out = Hashing {
            inner: std::io::BufWriter::with_capacity(1 << 18, file),
            sha: (!self.skip_hash).then(Sha1::new),
        };
        out.write_all(b"DIRC")?;
        out.write_all(&self.version.to_be_bytes())?;
        out.write_all(&self.new_count().to_be_bytes())?;
        let changes: Vec<(&Vec<u8>, &Option<Vec<u8>>)> = self.changes.iter().collect();
        let (mut i, mut c) = (0, 0);
        while i < self.entries.len() || c < changes.len() {
            let key = changes.get(c).map(|(k, _)| k.as_slice());
            match self.entries.get(i).map(|&r| (r, self.entry_path(r))) {
                Some((_, p)) if Some(p) == key => {
                    i += 1; // replaced (every stage of it) by the change
                }
                Some(((start, mut end), p)) if key.is_none_or(|k| p < k) => {
                    // Copy the run of untouched entries before the next change at once.
                    i += 1;
                    while let Some(&r) = self.entries.get(i) {
                        if key.is_some_and(|k| self.entry_path(r) >= k) {
                            break;
                        }
                        end = r.1;
                        i += 1;
                    }
                    out.write_all(&self.data[start..end])?;
                }
                _ => {
                    if let Some(entry) = changes[c].1 {
                        out.write_all(entry)?;
                    }
                    c += 1;
                }
            }
        }
        let folders = changed_folders(self.changes.keys());
        for &(start, end) in &self.extensions {
            if &self.data[start..start + 4] == b"TREE" {
                let mut tree = Vec::with_capacity(end - start);
                invalidate(&self.data[start + 8..end], &folders, &mut tree);
                out.write_all(b"TREE")?;
                out.write_all(&(tree.len() as u32).to_be_bytes())?;
                out.write_all(&tree)?;
            } else if &self.data[start..start + 4] == b"REUC" {
                out.write_all(&self.data[start..end])?;
            }
            // Other optional extensions describe the old file; git rebuilds them.
        }
        match out.sha.take() {
            Some(sha) => out.inner.write_all(&sha.finalize())?,
            None => out.inner.write_all(&[0; 20])?,
        }
        out.inner.flush()
    }
}

/// Writes through, hashing what passes.
struct Hashing<W: std::io::Write> {
    inner: W,
    sha: Option<Sha1>,
}

impl<W: std::io::Write> std::io::Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        if let Some(sha) = &mut self.sha {
            sha.update(&buf[..n]);
        }
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The folders whose cache-tree entries a change invalidates: `""`, `cases/`, `cases/7K/`.
fn changed_folders<'a>(paths: impl Iterator<Item = &'a Vec<u8>>) -> BTreeSet<Vec<u8>> {
    let mut folders = BTreeSet::new();
    folders.insert(Vec::new());
    for path in paths {
        for (i, &b) in path.iter().enumerate() {
            if b == b'/' {
                folders.insert(path[..=i].to_vec());
            }
        }
    }
    folders
}

/// Copies the cache tree, marking the changed folders invalid (entry count -1, no id).
/// A damaged cache tree is dropped to an invalid root, which git rebuilds.
fn invalidate(data: &[u8], folders: &BTreeSet<Vec<u8>>, out: &mut Vec<u8>) {
    let mut at = 0;
    if invalidate_node(data, &mut at, &[], folders, out).is_none() || at != data.len() {
        out.clear();
        out.extend_from_slice(b"\0-1 0\n");
    }
}

fn invalidate_node(
    data: &[u8],
    at: &mut usize,
    parent: &[u8],
    folders: &BTreeSet<Vec<u8>>,
    out: &mut Vec<u8>,
) -> Option<()> {
    let nul = *at + data.get(*at..)?.iter().position(|&b| b == 0)?;
    let name = &data[*at..nul];
    let space = nul + 1 + data.get(nul + 1..)?.iter().position(|&b| b == b' ')?;
    let newline = space + 1 + data.get(space + 1..)?.iter().position(|&b| b == b'\n')?;
    let entries: i64 = std::str::from_utf8(&data[nul + 1..space])
        .ok()?
        .parse()
        .ok()?;
    let subtrees: usize = std::str::from_utf8(&data[space + 1..newline])
        .ok()?
        .parse()
        .ok()?;
    let mut path = parent.to_vec();
    if !name.is_empty() {
        path.extend_from_slice(name);
        path.push(b'/');
    }
    let mut next = newline + 1;
    let id = if entries >= 0 {
        let id = data.get(next..next + 20)?;
        next += 20;
        Some(id)
    } else {
        None
    };
    out.extend_from_slice(name);
    out.push(0);
    match id {
        Some(id) if !folders.contains(&path) => {
            out.extend_from_slice(&data[nul + 1..=newline]);
            out.extend_from_slice(id);
        }
        _ => out.extend_from_slice(format!("-1 {subtrees}\n").as_bytes()),
    }
    *at = next;
    for _ in 0..subtrees {
        invalidate_node(data, at, &path, folders, out)?;
    }
    Some(())
}

/// A version 2 entry for a regular file, as git writes it.
fn entry_bytes(path: &str, id: Oid, mode: u32, meta: &fs::Metadata) -> Vec<u8> {
    let stat: [u32; 10] = stat_fields(mode, meta);
    let name = path.as_bytes();
    let size = (HEADER + name.len() + 8) & !7;
    let mut e = Vec::with_capacity(size);
    for field in stat {
        e.extend_from_slice(&field.to_be_bytes());
    }
    e.extend_from_slice(id.as_bytes());
    let flags = name.len().min(0x0fff) as u16;
    e.extend_from_slice(&flags.to_be_bytes());
    e.extend_from_slice(name);
    e.resize(size, 0);
    e
}

#[cfg(unix)]
fn stat_fields(mode: u32, meta: &fs::Metadata) -> [u32; 10] {
    use std::os::unix::fs::MetadataExt;
    // The index stores 32-bit stat fields; git truncates the same way.
    [
        meta.ctime() as u32,
        meta.ctime_nsec() as u32,
        meta.mtime() as u32,
        meta.mtime_nsec() as u32,
        meta.dev() as u32,
        meta.ino() as u32,
        mode,
        meta.uid(),
        meta.gid(),
        meta.len() as u32,
    ]
}

#[cfg(not(unix))]
fn stat_fields(mode: u32, meta: &fs::Metadata) -> [u32; 10] {
    // git on such systems compares sizes and times only.
    [0, 0, 0, 0, 0, 0, mode, 0, 0, meta.len() as u32]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .args(["-c", "user.name=T", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .expect("run git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn write_file(dir: &Path, path: &str, content: &str) {
        let file = dir.join(path);
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(file, content).unwrap();
    }

    /// Applies `changes` (path, content or removal) to disk and through this module.
    fn patch(dir: &Path, changes: &[(String, Option<String>)]) {
        let mut index = load(&dir.join(".git/index")).unwrap().expect("a v2 index");
        for (path, content) in changes {
            match content {
                Some(c) => {
                    write_file(dir, path, c);
                    let id = git(dir, &["hash-object", "-w", path]);
                    let id = Oid::from_str(id.trim()).unwrap();
                    let meta = fs::metadata(dir.join(path)).unwrap();
                    index.set(path, id, 0o100644, &meta);
                }
                None => {
                    let _ = fs::remove_file(dir.join(path));
                    index.remove(path);
                }
            }
        }
        assert!(matches!(index.write().unwrap(), Write::Done));
    }

    /// git's own view must be what a fresh `git add -A` gives: same entries, same tree
    /// (so the cache tree was invalidated where it had to be), and a clean status.
    fn assert_git_agrees(dir: &Path) {
        let ours = git(dir, &["write-tree"]);
        let scratch = dir.join(".git/scratch-index");
        let _ = fs::remove_file(&scratch);
        let fresh = |args: &[&str]| {
            let out = Command::new("git")
                .current_dir(dir)
                .env("GIT_INDEX_FILE", &scratch)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .args(args)
                .output()
                .unwrap();
            assert!(out.status.success());
            String::from_utf8(out.stdout).unwrap()
        };
        fresh(&["add", "-A", "."]);
        assert_eq!(ours, fresh(&["write-tree"]), "tree from the patched index");
        assert_eq!(
            git(dir, &["ls-files", "-s"]),
            fresh(&["ls-files", "-s"]),
            "entries"
        );
        fs::remove_file(&scratch).unwrap();
        // Stat data matches the files: nothing looks modified.
        assert_eq!(git(dir, &["diff-files", "--name-only"]), "");
    }

    fn repo_with(files: &[(String, String)]) -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        git(dir, &["init", "-q", "-b", "main"]);
        for (path, content) in files {
            write_file(dir, path, content);
        }
        git(dir, &["add", "-A", "."]);
        // A commit writes the cache tree (the TREE extension) into the index.
        git(dir, &["commit", "-q", "--allow-empty", "-m", "base"]);
        tmp
    }

    #[test]
    fn patches_add_replace_and_remove_entries_and_invalidate_the_cache_tree() {
        let files: Vec<(String, String)> = [
            "a.txt",
            "cases/7K/one.toml",
            "cases/7K/two.toml",
            "cases/AB/x.toml",
            "z/last",
        ]
        .iter()
        .map(|p| (p.to_string(), format!("{p}\n")))
        .collect();
        let tmp = repo_with(&files);
        let dir = tmp.path();
        let data = fs::read(dir.join(".git/index")).unwrap();
        assert!(
            data.windows(4).any(|w| w == b"TREE"),
            "git wrote a cache tree to invalidate"
        );
        patch(
            dir,
            &[
                ("cases/7K/one.toml".into(), Some("changed\n".into())),
                ("cases/7K/new.toml".into(), Some("new\n".into())),
                ("cases/ZZ/first.toml".into(), Some("a new folder\n".into())),
                ("cases/AB/x.toml".into(), None),
                ("0-before-all".into(), Some("first entry\n".into())),
                ("zz-after-all".into(), Some("last entry\n".into())),
            ],
        );
        assert_git_agrees(dir);
        // A second patch on top of the first (the cache tree git rebuilt is read again).
        git(dir, &["commit", "-q", "-a", "-m", "second"]);
        patch(dir, &[("z/last".into(), Some("again\n".into()))]);
        assert_git_agrees(dir);
        assert_eq!(
            load(&dir.join(".git/index"))
                .unwrap()
                .unwrap()
                .get("z/last"),
            Some(Oid::hash_object(git2::ObjectType::Blob, b"again\n").unwrap())
        );
    }

    #[test]
    fn with_index_skip_hash_the_trailer_is_zero_and_git_still_agrees() {
        let tmp = repo_with(&[("a".into(), "a\n".into())]);
        let dir = tmp.path();
        git(dir, &["config", "index.skipHash", "true"]);
        let mut index = load(&dir.join(".git/index")).unwrap().unwrap();
        index.skip_hash = true;
        write_file(dir, "b", "b\n");
        let id = git(dir, &["hash-object", "-w", "b"]);
        let id = Oid::from_str(id.trim()).unwrap();
        index.set("b", id, 0o100644, &fs::metadata(dir.join("b")).unwrap());
        assert!(matches!(index.write().unwrap(), Write::Done));
        let data = fs::read(dir.join(".git/index")).unwrap();
        assert_eq!(&data[data.len() - 20..], &[0; 20]);
        assert_git_agrees(dir);
        // libgit2 reads it too.
        let repo = git2::Repository::open(dir).unwrap();
        assert!(repo.index().unwrap().get_path(Path::new("b"), 0).is_some());
    }

    #[test]
    fn formats_it_does_not_patch_are_left_to_libgit2() {
        let tmp = repo_with(&[("a".into(), "a\n".into())]);
        let dir = tmp.path();
        git(dir, &["update-index", "--index-version", "4"]);
        assert!(
            load(&dir.join(".git/index")).unwrap().is_none(),
            "version 4"
        );
        git(dir, &["update-index", "--index-version", "2"]);
        assert!(
            load(&dir.join(".git/index")).unwrap().is_some(),
            "version 2 again"
        );
        git(dir, &["update-index", "--split-index"]);
        assert!(
            load(&dir.join(".git/index")).unwrap().is_none(),
            "split index"
        );
    }

    #[test]
    fn a_held_lock_is_reported_and_nothing_is_written() {
        let tmp = repo_with(&[("a".into(), "a\n".into())]);
        let dir = tmp.path();
        let before = fs::read(dir.join(".git/index")).unwrap();
        fs::write(dir.join(".git/index.lock"), "").unwrap();
        let mut index = load(&dir.join(".git/index")).unwrap().unwrap();
        write_file(dir, "b", "b\n");
        let id = Oid::hash_object(git2::ObjectType::Blob, b"b\n").unwrap();
        index.set("b", id, 0o100644, &fs::metadata(dir.join("b")).unwrap());
        assert!(matches!(index.write().unwrap(), Write::Locked));
        assert_eq!(fs::read(dir.join(".git/index")).unwrap(), before);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]
        #[test]
        fn any_patch_gives_what_git_add_gives(
            base in proptest::collection::btree_map("[a-c]{1,2}(/[a-c]{1,2}){0,2}\\.f", "[a-z]{0,8}", 0..24),
            edits in proptest::collection::vec(("[a-c]{1,2}(/[a-c]{1,2}){0,2}\\.f", proptest::option::of("[a-z]{0,8}")), 1..12),
        ) {
            // A path that is also a folder of another cannot exist in a work tree.
            let base: Vec<(String, String)> = base.into_iter().collect();
            let tmp = repo_with(&base);
            let dir = tmp.path();
            let mut seen = std::collections::HashSet::new();
            let edits: Vec<(String, Option<String>)> = edits
                .into_iter()
                .filter(|(p, _)| seen.insert(p.clone()))
                .collect();
            patch(dir, &edits);
            assert_git_agrees(dir);
        }
    }
}
