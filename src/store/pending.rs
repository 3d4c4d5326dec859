//! Keys on their way into the key ring: `.git/casebook-keyring.pending`.
//!
//! Replacing the key ring (a new parentless commit, its ref moved, the old ring deleted)
//! is most of what sealing adds to `open`, which makes one new key. So a transaction that
//! makes a few keys appends them to this file instead, under the ring lock, before the
//! branch moves, and the next change of the key ring takes them in and empties the file:
//! an import's, an erasure's (which can then erase them too), `sync`'s merge before it
//! pushes anything, or a transaction's once the file has no room left ([`ROOM`]).
//!
//! Every reader of keys reads this file and then the ring, in that order: a key taken in
//! meanwhile is found in one or the other, never in neither. An id the ring has erased
//! stays erased, whatever this file says (a fold cut short before it emptied the file).
//! Like the ring, the file is outside the branch history; unlike the ring, it never
//! leaves this clone (clones get the keys from the ring, once `sync` has taken them in).
//!
//! Each line is a key line of a ring bucket (see [`crate::model::keyring`]); one write
//! appends a transaction's keys whole.

use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use chrono::{DateTime, Utc};

use super::{Result, Store, StoreError};
use crate::model::keyring::{check_pending, find_pending, parse_pending, push_key_line};
use crate::model::seal::{Key, Lookup};

/// The file's name in the git folder.
pub(super) const PENDING_FILE: &str = "casebook-keyring.pending";
/// A transaction with more new keys than this (an import) writes them to the ring itself.
const BATCH: usize = 64;
/// Once the file is this long (about 500 keys), the next transaction that makes keys
/// writes them to the ring itself, taking in the file's.
const ROOM: u64 = 64 * 1024;

/// The pending keys as read, each with the time it was made.
#[derive(Default)]
pub(crate) struct PendingKeys {
    keys: Vec<(Key, DateTime<Utc>)>,
    /// Whether the file was there (it may hold nothing but a line cut short).
    present: bool,
}

impl PendingKeys {
    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &(Key, DateTime<Utc>)> {
        self.keys.iter()
    }
}

/// The pending keys file as read, for looking keys up one at a time: each lookup parses
/// only its key's line (the ring's buckets are read the same way).
#[derive(Default)]
pub(crate) struct PendingText {
    bytes: Vec<u8>,
    path: String,
}

impl PendingText {
    /// Whether the file holds no key (a line cut short is none).
    pub(crate) fn is_empty(&self) -> bool {
        !self.bytes.contains(&b'\n')
    }

    /// `Present` or `Unknown`: erasures are the ring's to tell.
    pub(crate) fn lookup(&self, key_id: &str) -> Result<Lookup> {
        find_pending(&self.path, &self.bytes, key_id).map_err(|e| StoreError::Keyring(e.0))
    }
}

impl Store {
    fn pending_path(&self) -> PathBuf {
        self.repo.path().join(PENDING_FILE)
    }

    /// The keys waiting in the file (none if there is no file).
    pub(crate) fn pending_keys(&self) -> Result<PendingKeys> {
        let Some(text) = self.read_pending()? else {
            return Ok(PendingKeys::default());
        };
        let keys = parse_pending(&text.path, &text.bytes).map_err(|e| StoreError::Keyring(e.0))?;
        Ok(PendingKeys {
            keys,
            present: true,
        })
    }

    /// The file as it is now, to look keys up in (empty if there is no file); an error if a
    /// line is not a key line.
    pub(crate) fn pending_text(&self) -> Result<PendingText> {
        let text = self.read_pending()?.unwrap_or_default();
        check_pending(&text.path, &text.bytes).map_err(|e| StoreError::Keyring(e.0))?;
        Ok(text)
    }

    /// The file's bytes; `None` if there is no file.
    fn read_pending(&self) -> Result<Option<PendingText>> {
        let path = self.pending_path();
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(PendingText {
                bytes,
                path: path.display().to_string(),
            })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StoreError::Io {
                action: "read",
                path,
                source,
            }),
        }
    }

    /// Whether `keys` new keys go into the file (`false`: into the ring, with the file's).
    pub(crate) fn pending_has_room(&self, keys: usize) -> bool {
        keys <= BATCH
            && match std::fs::metadata(self.pending_path()) {
                Ok(m) => m.len() < ROOM,
                Err(_) => true,
            }
    }

    /// Appends `keys`, made at `now`, to the file, in one write, under the ring lock (so
    /// that no change of the ring empties the file in between).
    pub(crate) fn add_pending_keys(&self, keys: &[Key], now: DateTime<Utc>) -> Result<()> {
        let mut text = String::with_capacity(keys.len() * 120);
        for key in keys {
            push_key_line(&mut text, key, &now);
        }
        let path = self.pending_path();
        let io = |action: &'static str| {
            let path = path.clone();
            move |source| StoreError::Io {
                action,
                path,
                source,
            }
        };
        let _lock = self.ring_lock()?;
        let mut file = std::fs::File::options()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(io("open"))?;
        // A line an earlier write left cut short (its transaction committed nothing) goes
        // first: appended to, it would swallow this write's first line.
        let len = file.metadata().map_err(io("read"))?.len();
        let mut last = [0u8];
        if len > 0 && file.read_at(&mut last, len - 1).map_err(io("read"))? == 1 && last != *b"\n" {
            let mut bytes = Vec::with_capacity(len as usize);
            std::io::Read::read_to_end(&mut file, &mut bytes).map_err(io("read"))?;
            let whole = bytes
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |end| end + 1);
            file.set_len(whole as u64).map_err(io("truncate"))?;
        }
        file.write_all(text.as_bytes()).map_err(io("write"))
    }

    /// Empties the file once the ring holds every key `taken` read from it (the ring lock
    /// held since that read).
    pub(super) fn clear_pending(&self, taken: &PendingKeys) -> Result<()> {
        if !taken.present {
            return Ok(());
        }
        super::remove_if_present(self.pending_path())
    }
}

#[cfg(test)]
mod tests {
    use super::super::keyring::tests::now;
    use super::*;
    use crate::store::KEYRING_REF;

    /// A book whose key ring holds one key.
    fn book() -> (tempfile::TempDir, Store) {
        let (dir, store) = super::super::keyring::tests::book();
        store
            .add_keys(&[Key::generate("customer:ada")], now())
            .unwrap();
        (dir, store)
    }

    /// Bob's new key, made pending.
    fn pending_bob(store: &Store) -> Key {
        let bob = Key::generate("customer:bob");
        store
            .add_pending_keys(std::slice::from_ref(&bob), now())
            .unwrap();
        bob
    }

    /// The ids the ring itself holds, without the pending keys.
    fn ring_ids(store: &Store) -> Vec<String> {
        let tip = store.ring_tip(KEYRING_REF).unwrap().unwrap();
        let ring = store.open_ring(tip).unwrap().whole().unwrap();
        ring.keys().map(|k| k.id.clone()).collect()
    }

    fn present(store: &Store, id: &str) -> bool {
        matches!(
            store.ring_reader().unwrap().get(id).unwrap(),
            Lookup::Present(k) if k.id == id
        )
    }

    #[test]
    fn a_pending_key_is_found_by_every_reader_and_leaves_the_ring_alone() {
        let (_dir, store) = book();
        let tip = store.ring_tip(KEYRING_REF).unwrap();
        let bob = pending_bob(&store);
        assert_eq!(store.ring_tip(KEYRING_REF).unwrap(), tip);
        assert!(!ring_ids(&store).contains(&bob.id));
        assert!(present(&store, &bob.id));
        let whole = store.keyring().unwrap().unwrap();
        assert!(whole
            .keys()
            .any(|k| k.id == bob.id && k.secret() == bob.secret()));
        assert_eq!(store.keys_of_subject("customer:bob").unwrap(), vec![bob.id]);
    }

    #[test]
    fn the_next_change_of_the_ring_takes_pending_keys_in_and_empties_the_file() {
        let (_dir, store) = book();
        let bob = pending_bob(&store);
        let cy = Key::generate("customer:cy");
        store.add_keys(std::slice::from_ref(&cy), now()).unwrap();
        let ids = ring_ids(&store);
        assert!(ids.contains(&bob.id) && ids.contains(&cy.id), "{ids:?}");
        assert!(!store.pending_path().exists());
        assert!(present(&store, &bob.id));
    }

    #[test]
    fn an_erasure_erases_a_pending_key_before_any_object_holds_it() {
        let (_dir, store) = book();
        let bob = pending_bob(&store);
        let had = store
            .erase_keys(std::slice::from_ref(&bob.id), now())
            .unwrap();
        assert_eq!(had, vec![bob.id.clone()]);
        assert_eq!(
            store.ring_reader().unwrap().get(&bob.id).unwrap(),
            Lookup::Erased
        );
        assert!(!store.pending_path().exists());
        let secret = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            bob.secret(),
        );
        let odb = store.repo.odb().unwrap();
        odb.foreach(|oid| {
            let object = odb.read(*oid).unwrap();
            assert!(
                !String::from_utf8_lossy(object.data()).contains(&secret),
                "object {oid} holds the erased key"
            );
            true
        })
        .unwrap();
    }

    #[test]
    fn a_fold_cut_short_never_brings_an_erased_key_back() {
        let (_dir, store) = book();
        let file = store.pending_path();
        let bob = pending_bob(&store);
        let left = std::fs::read(&file).unwrap();
        store
            .erase_keys(std::slice::from_ref(&bob.id), now())
            .unwrap();
        // As if the erasure had been killed after its ring was in place.
        std::fs::write(&file, left).unwrap();
        assert_eq!(
            store.ring_reader().unwrap().get(&bob.id).unwrap(),
            Lookup::Erased
        );
        assert!(!store
            .keyring()
            .unwrap()
            .unwrap()
            .keys()
            .any(|k| k.id == bob.id));
        assert!(store.keys_of_subject("customer:bob").unwrap().is_empty());
        // The next change finds nothing to take in, and empties the file.
        let tip = store.ring_tip(KEYRING_REF).unwrap();
        store.update_keyring(now(), |_| false).unwrap();
        assert_eq!(store.ring_tip(KEYRING_REF).unwrap(), tip);
        assert!(!file.exists());
    }

    #[test]
    fn a_line_cut_short_is_passed_over_and_cut_off_before_the_next_write() {
        let (_dir, store) = book();
        let file = store.pending_path();
        let bob = pending_bob(&store);
        let whole = std::fs::read_to_string(&file).unwrap();
        // A second write cut short after 30 bytes: passed over.
        std::fs::write(&file, format!("{whole}{}", &whole[..30])).unwrap();
        let ids = |store: &Store| -> Vec<String> {
            let pending = store.pending_keys().unwrap();
            pending.iter().map(|(k, _)| k.id.clone()).collect()
        };
        assert_eq!(ids(&store), vec![bob.id.clone()]);
        // The next write does not run on from it: both keys read back whole.
        let cy = Key::generate("customer:cy");
        store
            .add_pending_keys(std::slice::from_ref(&cy), now())
            .unwrap();
        assert_eq!(ids(&store), vec![bob.id.clone(), cy.id.clone()]);
        assert!(present(&store, &cy.id));

        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&file, format!("{text}not a key line\n")).unwrap();
        let err = store
            .ring_reader()
            .err()
            .expect("a bad line is an error")
            .to_string();
        assert!(
            err.contains(PENDING_FILE) && err.contains("line 3"),
            "{err}"
        );
    }

    #[test]
    fn a_full_file_or_a_large_batch_goes_to_the_ring() {
        let (_dir, store) = book();
        assert!(store.pending_has_room(1));
        assert!(store.pending_has_room(BATCH));
        assert!(!store.pending_has_room(BATCH + 1));
        let mut keys = Vec::new();
        while std::fs::metadata(store.pending_path()).map_or(0, |m| m.len()) < ROOM {
            let batch: Vec<Key> = (0..BATCH).map(|_| Key::generate("customer:x")).collect();
            store.add_pending_keys(&batch, now()).unwrap();
            keys.extend(batch);
        }
        assert!(!store.pending_has_room(1));
        assert_eq!(store.pending_keys().unwrap().iter().count(), keys.len());
    }
}
