//! Bulk writes as one pack instead of loose objects.
//!
//! A bulk change's objects go into an in-memory object database (libgit2's mempack), then
//! into a single packfile that casebook writes itself, without delta search (libgit2's own
//! pack builder always searches for deltas, which is most of the cost at 100k cases), and
//! that libgit2 indexes. No hundred thousand small files.

use std::io::Write;

use git2::Oid;

use super::{GitContext, Result, StoreError};

/// Reads `oids` from `odb` (the mempack in front) and stores them as one pack.
pub(crate) fn store_as_pack(odb: &git2::Odb<'_>, oids: &[Oid]) -> Result<()> {
    let pack = build_pack(odb, oids)?;
    let mut writer = odb.packwriter().ctx(|| "cannot write the pack".into())?;
    writer.write_all(&pack).map_err(|source| StoreError::Io {
        action: "write a pack into",
        path: "the object database".into(),
        source,
    })?;
    writer.commit().ctx(|| "cannot store the pack".into())?;
    Ok(())
}

/// A version 2 pack of `oids` (read from `odb`), every object stored whole: a header, each
/// object as a type-and-size varint and its zlib-deflated content, and a SHA-1 trailer.
fn build_pack(odb: &git2::Odb<'_>, oids: &[Oid]) -> Result<Vec<u8>> {
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
        object_header(&mut pack, kind, data.len());
        pack = deflate_into(pack, data);
    }
    let trailer = Sha1::digest(&pack);
    pack.extend_from_slice(&trailer);
    Ok(pack)
}

/// Blobs streamed into one pack as they are made, so that a bulk change never holds its
/// contents in memory: [`BlobPack::add`] hashes and deflates a blob on the caller's thread
/// (it may be called from many at once) and appends it to a temporary file under
/// `.git/casebook-tmp/`; [`BlobPack::finish`] writes the object count and the trailer and
/// has libgit2 index the pack into the object database. The change then names the blobs by
/// id ([`super::Content::Blob`]). A pack that is never finished is a deleted temporary file.
pub struct BlobPack {
    inner: std::sync::Mutex<PackFile>,
}

struct PackFile {
    out: std::io::BufWriter<std::fs::File>,
    seen: std::collections::HashSet<Oid>,
    failed: Option<std::io::Error>,
}

impl BlobPack {
    pub(crate) fn new(store: &super::Store) -> Result<BlobPack> {
        let dir = store.repo.path().join("casebook-tmp");
        let io = |source| StoreError::Io {
            action: "create a temporary pack in",
            path: dir.clone(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(io)?;
        let file = tempfile::tempfile_in(&dir).map_err(io)?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        // The count is written at `finish`, when it is known.
        out.write_all(b"PACK\0\0\0\x02\0\0\0\0").map_err(io)?;
        Ok(BlobPack {
            inner: std::sync::Mutex::new(PackFile {
                out,
                seen: std::collections::HashSet::new(),
                failed: None,
            }),
        })
    }

    /// Adds a blob (once, however often it is added) and returns its id.
    pub fn add(&self, data: &[u8]) -> Result<Oid> {
        let oid = blob_id(data)?;
        let mut entry = Vec::with_capacity(data.len() / 2 + 16);
        object_header(&mut entry, 3, data.len());
        let entry = deflate_into(entry, data);
        let mut pack = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if pack.failed.is_none() && pack.seen.insert(oid) {
            if let Err(e) = pack.out.write_all(&entry) {
                pack.failed = Some(e);
            }
        }
        Ok(oid)
    }

    /// How many distinct blobs were added.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .seen
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stores the pack in `store`'s object database; every added blob is readable after.
    pub fn finish(self, store: &super::Store) -> Result<()> {
        use sha1::{Digest, Sha1};
        use std::io::{Read, Seek, SeekFrom};

        let pack = self.inner.into_inner().unwrap_or_else(|e| e.into_inner());
        let io = |source| StoreError::Io {
            action: "write a pack into",
            path: store.repo.path().join("casebook-tmp"),
            source,
        };
        if let Some(e) = pack.failed {
            return Err(io(e));
        }
        if pack.seen.is_empty() {
            return Ok(());
        }
        let count = u32::try_from(pack.seen.len()).map_err(|_| {
            io(std::io::Error::other(
                "more than 4 billion objects in one pack",
            ))
        })?;
        let mut file = pack.out.into_inner().map_err(|e| io(e.into_error()))?;
        file.seek(SeekFrom::Start(8)).map_err(io)?;
        file.write_all(&count.to_be_bytes()).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        let odb = store
            .repo
            .odb()
            .ctx(|| "cannot open the object database".into())?;
        let mut writer = odb.packwriter().ctx(|| "cannot write the pack".into())?;
        let mut hash = Sha1::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buf).map_err(io)?;
            if n == 0 {
                break;
            }
            hash.update(&buf[..n]);
            writer.write_all(&buf[..n]).map_err(io)?;
        }
        writer.write_all(&hash.finalize()).map_err(io)?;
        writer.commit().ctx(|| "cannot store the pack".into())?;
        Ok(())
    }
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

/// The git id of a blob of `data`: SHA-1 of `blob <len>\0` and the data. Computed with the
/// `sha1` crate, several times faster than libgit2's collision-detecting SHA-1 (the
/// content is ours, just made, so there is no collision attack to detect); the pack's
/// indexer hashes every object again with git's own.
fn blob_id(data: &[u8]) -> Result<Oid> {
    use sha1::{Digest, Sha1};
    let mut h = Sha1::new();
    h.update(format!("blob {}\0", data.len()).as_bytes());
    h.update(data);
    Oid::from_bytes(&h.finalize()).ctx(|| "cannot hash a blob".into())
}

/// Appends `data`, zlib-deflated, to `out`.
fn deflate_into(out: Vec<u8>, data: &[u8]) -> Vec<u8> {
    use flate2::{write::ZlibEncoder, Compression};
    let mut z = ZlibEncoder::new(out, Compression::fast());
    // Writing into a Vec cannot fail.
    z.write_all(data).expect("deflate into memory");
    z.finish().expect("deflate into memory")
}

#[cfg(test)]
mod tests {
    #[test]
    fn blob_ids_are_the_ones_git_gives() {
        for data in [&b""[..], b"hello\n", &[0u8, 255, 7][..]] {
            assert_eq!(
                super::blob_id(data).unwrap(),
                git2::Oid::hash_object(git2::ObjectType::Blob, data).unwrap()
            );
        }
    }
}
