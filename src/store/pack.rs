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
