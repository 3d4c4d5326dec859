//! Bulk writes as one pack instead of loose objects.
//!
//! Casebook writes packs itself: every object stored whole (no delta search; libgit2's own
//! pack builder always searches for deltas, which is most of the cost at 100k cases), and
//! the pack's index (`.idx`, version 2) written from what it already knows, each object's
//! id, offset and CRC-32, instead of having libgit2's indexer inflate and hash every
//! object again. No hundred thousand small files.
//!
//! A pack is written under a temporary name in `objects/pack/` (`tmp_pack_casebook_*`,
//! removed if the write fails; one a killed process left is removed by a later command,
//! see [`stale_temporaries`]), then renamed to `pack-<checksum>.pack`, and its index last,
//! so git and libgit2 only ever see a complete pack.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid};
use sha1::{Digest, Sha1};

use super::{GitContext, Result, StoreError};

impl super::Store {
    /// Another handle of this repository (for a second thread, or one with an in-memory
    /// object database in front that this handle must never see).
    pub(crate) fn second_handle(&self) -> Result<super::Store> {
        Self::reopen(self.repo.path(), self.branch.clone(), false)
    }

    /// A handle of the repository at `git_dir` (another handle's), on branch `branch`.
    /// `scratch`: a handle for one job (a thread's), dropped after it. Its writes in memory
    /// ([`Store::write_as_pack`], [`Store::write_as_loose`]) put the in-memory object
    /// database in front of its own object database, instead of opening a third handle
    /// with cold caches: what it read is at hand, and nothing else ever uses it.
    pub(crate) fn reopen(git_dir: &Path, branch: String, scratch: bool) -> Result<super::Store> {
        Ok(super::Store {
            repo: git2::Repository::open(git_dir).ctx(|| "cannot reopen the repository".into())?,
            branch,
            scratch,
        })
    }

    /// Runs `write` on a second handle (on this one, if it is a scratch handle, see
    /// [`Store::reopen`]) with an in-memory object database in front, then stores the
    /// objects it names (every one it wrote) as one pack: no loose object.
    pub(crate) fn write_as_pack<T>(
        &self,
        write: impl FnOnce(&super::Store) -> Result<(T, Vec<Oid>)>,
    ) -> Result<T> {
        self.write_in_memory(write, store_as_pack)
    }

    /// [`Store::write_as_pack`] for a few objects: stores them as loose objects, written
    /// by casebook (one file each, as git writes them), not by libgit2, which for each new
    /// object looks in every pack, rescans the pack folder and makes a temporary file it
    /// then links into place and unlinks.
    pub(crate) fn write_as_loose<T>(
        &self,
        write: impl FnOnce(&super::Store) -> Result<(T, Vec<Oid>)>,
    ) -> Result<T> {
        self.write_in_memory(write, store_as_loose)
    }

    fn write_in_memory<T>(
        &self,
        write: impl FnOnce(&super::Store) -> Result<(T, Vec<Oid>)>,
        store: fn(&Path, &git2::Odb<'_>, &[Oid]) -> Result<()>,
    ) -> Result<T> {
        let opened;
        let side = if self.scratch {
            self
        } else {
            opened = self.second_handle()?;
            &opened
        };
        let odb = side
            .repo
            .odb()
            .ctx(|| "cannot open the object database".into())?;
        let mempack = odb
            .add_new_mempack_backend(1000)
            .ctx(|| "cannot set up an in-memory object database".into())?;
        let result = write(side).and_then(|(value, oids)| {
            store(side.repo.path(), &odb, &oids)?;
            Ok(value)
        });
        // The objects are in the pack now (or the write failed): drop the in-memory copies.
        let _ = mempack.reset();
        result
    }
}

/// Reads `oids` from `odb` (the mempack in front) and stores them as one pack in the
/// repository at `git_dir`.
fn store_as_pack(git_dir: &Path, odb: &git2::Odb<'_>, oids: &[Oid]) -> Result<()> {
    let pack = BlobPack::create(git_dir)?;
    for &oid in oids {
        let object = odb.read(oid).ctx(|| format!("cannot read object {oid}"))?;
        pack.add_object(object.kind(), object.data())?;
    }
    pack.finish_in(git_dir, odb)
}

/// Reads `oids` from `odb` (the mempack in front) and stores each as a loose object of the
/// repository at `git_dir`.
fn store_as_loose(git_dir: &Path, odb: &git2::Odb<'_>, oids: &[Oid]) -> Result<()> {
    for &oid in oids {
        let object = odb.read(oid).ctx(|| format!("cannot read object {oid}"))?;
        write_loose(git_dir, oid, object.kind(), object.data())?;
    }
    Ok(())
}

/// Writes object `oid` (of `kind`, with `data`) as the loose file `objects/<2>/<38>`, as
/// git does: the header and data deflated into a temporary file of that folder, read-only,
/// then renamed into place. An object already there is left as it is.
fn write_loose(git_dir: &Path, oid: Oid, kind: ObjectType, data: &[u8]) -> Result<()> {
    let hex = oid.to_string();
    let dir = git_dir.join("objects").join(&hex[..2]);
    let path = dir.join(&hex[2..]);
    if path.exists() {
        return Ok(());
    }
    let io = |action: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| StoreError::Io {
            action,
            path,
            source,
        }
    };
    let mut raw = format!("{} {}\0", kind.str(), data.len()).into_bytes();
    raw.extend_from_slice(data);
    let bytes = deflate_into(Vec::new(), &raw);
    match std::fs::create_dir(&dir) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
            return Err(io("create", &dir)(e));
        }
        _ => {}
    }
    use std::os::unix::fs::PermissionsExt;
    let mut file = tempfile::Builder::new()
        .prefix(LOOSE_TEMPORARY)
        .permissions(std::fs::Permissions::from_mode(0o444))
        .tempfile_in(&dir)
        .map_err(io("create", &dir))?;
    file.write_all(&bytes).map_err(io("write", file.path()))?;
    file.persist(&path)
        .map_err(|e| io("rename into place", &path)(e.error))?;
    Ok(())
}

/// What casebook's temporary loose objects are called in `objects/<2>/` (`git prune`
/// removes `tmp_*` files there that a killed process left).
const LOOSE_TEMPORARY: &str = "tmp_obj_casebook_";

/// Objects streamed into one pack as they are made, so that a bulk change never holds its
/// contents in memory: [`BlobPack::add`] hashes and deflates a blob on the caller's thread
/// (it may be called from many at once) and appends it to the temporary pack;
/// [`BlobPack::finish`] writes the object count, the trailer and the index and moves the
/// pack into the object database. The change then names the blobs by id
/// ([`super::Content::Blob`]). A pack that is never finished is deleted.
pub struct BlobPack {
    inner: std::sync::Mutex<PackFile>,
}

struct PackFile {
    out: std::io::BufWriter<std::fs::File>,
    path: tempfile::TempPath,
    /// Where the next entry starts.
    offset: u64,
    /// Each distinct object: its id, where its entry starts, the CRC-32 of the entry.
    entries: Vec<(Oid, u64, u32)>,
    seen: std::collections::HashSet<Oid>,
    failed: Option<std::io::Error>,
}

const HEADER_LEN: u64 = 12;

/// The names casebook's temporary pack files start with, in `objects/pack/`.
const TEMPORARY: [&str; 2] = ["tmp_pack_casebook_", "tmp_idx_casebook_"];

/// How old a temporary pack file must be to count as a killed writer's even when the
/// process its name gives is alive (another process may have its number by now): a live
/// one is written to all the time until it is renamed, and every writer (even a ring merge
/// under the ring lock only) is done long before this.
const STALE: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Temporary pack files a killed casebook process left in `objects/pack/` (a 100k import
/// leaves about 100 MB): those whose writer (the process number in the name) has ended,
/// and any older than [`STALE`].
pub(crate) fn stale_temporaries(git_dir: &Path) -> Vec<PathBuf> {
    let Ok(dir) = std::fs::read_dir(pack_dir(git_dir)) else {
        return Vec::new();
    };
    dir.flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            let Some(rest) = TEMPORARY.iter().find_map(|p| name.strip_prefix(p)) else {
                return false;
            };
            let writer = rest
                .split_once('_')
                .and_then(|(pid, _)| pid.parse::<u32>().ok());
            let gone = writer
                .is_some_and(|pid| pid != std::process::id() && !super::locks::process_alive(pid));
            gone || e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > STALE)
        })
        .map(|e| e.path())
        .collect()
}

/// The name a temporary pack file of this process starts with: `kind` and the process
/// number, so a later command can tell that its writer has ended.
fn temporary_prefix(kind: &str) -> String {
    format!("{kind}{}_", std::process::id())
}

fn pack_dir(git_dir: &Path) -> PathBuf {
    git_dir.join("objects").join("pack")
}

impl BlobPack {
    pub(crate) fn new(store: &super::Store) -> Result<BlobPack> {
        BlobPack::create(store.repo.path())
    }

    fn create(git_dir: &Path) -> Result<BlobPack> {
        let dir = pack_dir(git_dir);
        let io = |source| StoreError::Io {
            action: "create a temporary pack in",
            path: dir.clone(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(io)?;
        let (file, path) = tempfile::Builder::new()
            .prefix(&temporary_prefix(TEMPORARY[0]))
            .tempfile_in(&dir)
            .map_err(io)?
            .into_parts();
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        // The count is written at `finish`, when it is known.
        out.write_all(b"PACK\0\0\0\x02\0\0\0\0").map_err(io)?;
        Ok(BlobPack {
            inner: std::sync::Mutex::new(PackFile {
                out,
                path,
                offset: HEADER_LEN,
                entries: Vec::new(),
                seen: std::collections::HashSet::new(),
                failed: None,
            }),
        })
    }

    /// Adds a blob (once, however often it is added) and returns its id.
    pub fn add(&self, data: &[u8]) -> Result<Oid> {
        self.add_object(ObjectType::Blob, data)
    }

    /// Adds an object of any kind (once) and returns its id.
    fn add_object(&self, kind: ObjectType, data: &[u8]) -> Result<Oid> {
        let (oid, number) = object_id(kind, data)?;
        let mut entry = Vec::with_capacity(data.len() / 2 + 16);
        object_header(&mut entry, number, data.len());
        let entry = deflate_into(entry, data);
        let crc = crc32fast::hash(&entry);
        let mut pack = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if pack.failed.is_none() && pack.seen.insert(oid) {
            match pack.out.write_all(&entry) {
                Ok(()) => {
                    let at = pack.offset;
                    pack.entries.push((oid, at, crc));
                    pack.offset += entry.len() as u64;
                }
                Err(e) => pack.failed = Some(e),
            }
        }
        Ok(oid)
    }

    /// How many distinct objects were added.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entries
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stores the pack in `store`'s object database; every added object is readable after.
    pub fn finish(self, store: &super::Store) -> Result<()> {
        let odb = store
            .repo
            .odb()
            .ctx(|| "cannot open the object database".into())?;
        self.finish_in(store.repo.path(), &odb)
    }

    fn finish_in(self, git_dir: &Path, odb: &git2::Odb<'_>) -> Result<()> {
        let pack = self.inner.into_inner().unwrap_or_else(|e| e.into_inner());
        let dir = pack_dir(git_dir);
        let io = |source| StoreError::Io {
            action: "write a pack into",
            path: dir.clone(),
            source,
        };
        if let Some(e) = pack.failed {
            return Err(io(e));
        }
        if pack.entries.is_empty() {
            return Ok(());
        }
        let count = u32::try_from(pack.entries.len()).map_err(|_| {
            io(std::io::Error::other(
                "more than 4 billion objects in one pack",
            ))
        })?;
        let mut file = pack.out.into_inner().map_err(|e| io(e.into_error()))?;
        file.seek(SeekFrom::Start(8)).map_err(io)?;
        file.write_all(&count.to_be_bytes()).map_err(io)?;
        // The trailer: SHA-1 of everything before it, read back from the file.
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        let mut hash = Sha1::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buf).map_err(io)?;
            if n == 0 {
                break;
            }
            hash.update(&buf[..n]);
        }
        let checksum: [u8; 20] = hash.finalize().into();
        file.write_all(&checksum).map_err(io)?;
        file.flush().map_err(io)?;
        drop(file);

        super::fault::point("mid-pack");
        let name = format!("pack-{}", hex(&checksum));
        let idx = index_v2(pack.entries, &checksum);
        let mut idx_file = tempfile::Builder::new()
            .prefix(&temporary_prefix(TEMPORARY[1]))
            .tempfile_in(&dir)
            .map_err(io)?;
        idx_file.write_all(&idx).map_err(io)?;
        // Packs are never written again: read-only, as git makes them.
        read_only(pack.path.as_ref()).map_err(io)?;
        read_only(idx_file.path()).map_err(io)?;
        // The pack first: an index names a pack that is already whole.
        pack.path
            .persist(dir.join(format!("{name}.pack")))
            .map_err(|e| io(e.error))?;
        idx_file
            .persist(dir.join(format!("{name}.idx")))
            .map_err(|e| io(e.error))?;
        odb.refresh().ctx(|| "cannot read the new pack".into())?;
        Ok(())
    }
}

/// Read-only for everyone, as git makes its packs (a temporary file is only its owner's).
fn read_only(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    let perms = std::os::unix::fs::PermissionsExt::from_mode(0o444);
    #[cfg(not(unix))]
    let perms = {
        let mut p = std::fs::metadata(path)?.permissions();
        p.set_readonly(true);
        p
    };
    std::fs::set_permissions(path, perms)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(40), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A version 2 pack index of `entries` (id, offset, CRC-32 of the entry) for the pack
/// with trailer `checksum`: the fan-out table, the sorted ids, their CRCs, their offsets
/// (those past 2 GiB in a table of 8-byte offsets), the pack's checksum, and the index's.
fn index_v2(mut entries: Vec<(Oid, u64, u32)>, checksum: &[u8; 20]) -> Vec<u8> {
    entries.sort_unstable_by_key(|e| e.0);
    let mut idx = Vec::with_capacity(8 + 256 * 4 + entries.len() * 28 + 40);
    idx.extend_from_slice(b"\xfftOc\0\0\0\x02");
    let mut fanout = [0u32; 256];
    for (oid, _, _) in &entries {
        fanout[oid.as_bytes()[0] as usize] += 1;
    }
    let mut total = 0u32;
    for n in fanout {
        total += n;
        idx.extend_from_slice(&total.to_be_bytes());
    }
    for (oid, _, _) in &entries {
        idx.extend_from_slice(oid.as_bytes());
    }
    for (_, _, crc) in &entries {
        idx.extend_from_slice(&crc.to_be_bytes());
    }
    let mut large = Vec::new();
    for &(_, offset, _) in &entries {
        match u32::try_from(offset) {
            Ok(small) if small < 0x8000_0000 => idx.extend_from_slice(&small.to_be_bytes()),
            _ => {
                let at = u32::try_from(large.len()).expect("fewer than 2^31 large offsets");
                idx.extend_from_slice(&(0x8000_0000 | at).to_be_bytes());
                large.push(offset);
            }
        }
    }
    for offset in large {
        idx.extend_from_slice(&offset.to_be_bytes());
    }
    idx.extend_from_slice(checksum);
    let own = Sha1::digest(&idx);
    idx.extend_from_slice(&own);
    idx
}

/// A pack entry's header: the type and the size as git's little-endian varint.
fn object_header(out: &mut Vec<u8>, kind: u8, len: usize) {
    let mut size = len;
    let mut byte = (kind << 4) | (size & 0x0f) as u8;
    size >>= 4;
    while size > 0 {
        out.push(byte | 0x80);
        byte = (size & 0x7f) as u8;
        size >>= 7;
    }
    out.push(byte);
}

/// The git id of an object and its type's number in a pack: SHA-1 of `<type> <len>\0` and
/// the data. Computed with the `sha1` crate, several times faster than libgit2's
/// collision-detecting SHA-1 (the content is ours, just made, so there is no collision
/// attack to detect).
fn object_id(kind: ObjectType, data: &[u8]) -> Result<(Oid, u8)> {
    let (name, number) = match kind {
        ObjectType::Commit => ("commit", 1),
        ObjectType::Tree => ("tree", 2),
        ObjectType::Blob => ("blob", 3),
        ObjectType::Tag => ("tag", 4),
        other => {
            return Err(StoreError::Io {
                action: "pack an object into",
                path: "the object database".into(),
                source: std::io::Error::other(format!("an object of kind {other}")),
            })
        }
    };
    let mut h = Sha1::new();
    h.update(format!("{name} {}\0", data.len()).as_bytes());
    h.update(data);
    let oid = Oid::from_bytes(&h.finalize()).ctx(|| "cannot hash an object".into())?;
    Ok((oid, number))
}

/// Appends `data`, zlib-deflated, to `out` ([`super::deflate`]).
fn deflate_into(mut out: Vec<u8>, data: &[u8]) -> Vec<u8> {
    super::deflate::zlib_into(&mut out, data);
    out
}

#[cfg(test)]
mod tests {
    use git2::{ObjectType, Oid, Repository};

    #[test]
    fn object_ids_are_the_ones_git_gives() {
        for data in [&b""[..], b"hello\n", &[0u8, 255, 7][..]] {
            for kind in [ObjectType::Blob, ObjectType::Commit, ObjectType::Tree] {
                assert_eq!(
                    super::object_id(kind, data).unwrap().0,
                    Oid::hash_object(kind, data).unwrap()
                );
            }
        }
    }

    /// A loose object casebook writes is the file git would write: git reads it back
    /// with the same id and content, fsck accepts it, it is read-only, no temporary file
    /// is left, and writing it again changes nothing.
    #[test]
    fn loose_objects_are_the_files_git_writes() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let repo = Repository::init_bare(tmp.path().join("r")).unwrap();
        let blob: Vec<u8> = (0..20_000u32).map(|i| (i * 31 % 253) as u8).collect();
        let oid = Oid::hash_object(ObjectType::Blob, &blob).unwrap();
        super::write_loose(repo.path(), oid, ObjectType::Blob, &blob).unwrap();
        let hex = oid.to_string();
        let path = repo.path().join("objects").join(&hex[..2]).join(&hex[2..]);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o444, "read-only, as git's");
        let before = std::fs::read(&path).unwrap();
        super::write_loose(repo.path(), oid, ObjectType::Blob, &blob).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), before);
        let left: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            left,
            [std::ffi::OsString::from(&hex[2..])],
            "no temporary file"
        );
        let git = |args: &[&str]| git(repo.path(), args);
        assert_eq!(git(&["cat-file", "blob", &hex]), blob);
        // A tree naming it, and a commit of that tree.
        let mut tree = b"100644 bucket\0".to_vec();
        tree.extend_from_slice(oid.as_bytes());
        let tree_id = Oid::hash_object(ObjectType::Tree, &tree).unwrap();
        super::write_loose(repo.path(), tree_id, ObjectType::Tree, &tree).unwrap();
        let commit =
            format!("tree {tree_id}\nauthor a <a> 0 +0000\ncommitter a <a> 0 +0000\n\nm\n");
        let commit_id = Oid::hash_object(ObjectType::Commit, commit.as_bytes()).unwrap();
        super::write_loose(
            repo.path(),
            commit_id,
            ObjectType::Commit,
            commit.as_bytes(),
        )
        .unwrap();
        git(&["update-ref", "refs/heads/main", &commit_id.to_string()]);
        git(&["fsck", "--strict", "--no-dangling"]);
        assert_eq!(repo.find_commit(commit_id).unwrap().tree_id(), tree_id);
    }

    /// Runs git in `dir`, which must succeed; its output.
    fn git(dir: &std::path::Path, args: &[&str]) -> Vec<u8> {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    fn packs(git_dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut files: Vec<_> = std::fs::read_dir(git_dir.join("objects/pack"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files
    }

    /// The index casebook writes is byte for byte the one libgit2's indexer makes of the
    /// same pack, and git itself verifies the pack against it.
    #[test]
    fn the_index_is_the_one_git_makes() {
        let tmp = tempfile::tempdir().unwrap();
        let ours = Repository::init_bare(tmp.path().join("ours")).unwrap();
        let pack = super::BlobPack::create(ours.path()).unwrap();
        let mut ids = Vec::new();
        for i in 0..600u32 {
            // Sizes around the varint's steps, some repeated (stored once).
            let data = format!("{i}\n").repeat((i as usize * 37) % 900);
            let oid = pack.add(data.as_bytes()).unwrap();
            assert_eq!(pack.add(data.as_bytes()).unwrap(), oid);
            ids.push((oid, data));
        }
        pack.finish_in(ours.path(), &ours.odb().unwrap()).unwrap();
        let files = packs(ours.path());
        let names: Vec<String> = files
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names.len(),
            2,
            "one .idx and one .pack, no temporary file: {names:?}"
        );
        assert!(names[0].starts_with("pack-") && names[0].ends_with(".idx"));
        #[cfg(unix)]
        for file in &files {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o444, "{}", file.display());
        }
        for (oid, data) in &ids {
            assert_eq!(ours.find_blob(*oid).unwrap().content(), data.as_bytes());
        }

        // The same pack, indexed by libgit2.
        let theirs = Repository::init_bare(tmp.path().join("theirs")).unwrap();
        let odb = theirs.odb().unwrap();
        let mut writer = odb.packwriter().unwrap();
        std::io::Write::write_all(&mut writer, &std::fs::read(&files[1]).unwrap()).unwrap();
        writer.commit().unwrap();
        let their_files = packs(theirs.path());
        let their_idx = their_files
            .iter()
            .find(|p| p.extension().is_some_and(|e| e == "idx"))
            .unwrap();
        assert_eq!(their_idx.file_name(), files[0].file_name());
        assert_eq!(
            std::fs::read(their_idx).unwrap(),
            std::fs::read(&files[0]).unwrap()
        );

        git(ours.path(), &["verify-pack", files[0].to_str().unwrap()]);
    }

    #[test]
    fn deflated_objects_inflate_back_whatever_their_size() {
        use std::io::Read;
        for len in [0usize, 1, 100, 70_000, 300_000] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let packed = super::deflate_into(b"head".to_vec(), &data);
            assert_eq!(&packed[..4], b"head");
            let mut back = Vec::new();
            flate2::read::ZlibDecoder::new(&packed[4..])
                .read_to_end(&mut back)
                .unwrap();
            assert_eq!(back, data);
        }
    }

    #[test]
    fn large_offsets_go_to_the_eight_byte_table() {
        let big = (Oid::from_bytes(&[1; 20]).unwrap(), 0x1_0000_0000u64, 7u32);
        let small = (Oid::from_bytes(&[2; 20]).unwrap(), 12u64, 9u32);
        let idx = super::index_v2(vec![small, big], &[0; 20]);
        let n = 2;
        let offsets = 8 + 256 * 4 + n * 24;
        assert_eq!(&idx[offsets..offsets + 4], &0x8000_0000u32.to_be_bytes());
        assert_eq!(&idx[offsets + 4..offsets + 8], &12u32.to_be_bytes());
        assert_eq!(
            &idx[offsets + 8..offsets + 16],
            &0x1_0000_0000u64.to_be_bytes()
        );
        assert_eq!(idx.len(), offsets + 16 + 40);
    }
}
