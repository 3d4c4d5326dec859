//! Opening and sealing case files as a snapshot reads them (see [`crate::model::privacy`]).
//!
//! A snapshot of a sealed case book opens every case it parses with this clone's key ring
//! and gives it what its next write needs to seal it again. Keys made for cases that had
//! none wait in [`NewKeys`] and are stored, pending or in the key ring, before the commit
//! that uses them ([`super::Store::transact`]), so no committed value is ever sealed with
//! a key this clone does not hold.
//!
//! One case (`show`, an action) looks its key up through the lazy [`RingReader`], which
//! reads one bucket of the ring; a parse of many cases on all cores (a scan, an index
//! build) reads the whole ring once and shares it.

use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Utc};

use super::keyring::RingPrep;
use super::ring_read::RingReader;
use super::{Result, Store, StoreError};
use crate::model::case::CaseFile;
use crate::model::keyring::{bucket_of, KeyRing, Subjects};
use crate::model::privacy::{self, KeySource, Opening};
use crate::model::seal::{Key, Keys, Lookup};

/// Keys made during one transaction, waiting to go into the key ring.
pub(crate) struct NewKeys {
    /// The subjects of new keys, under the ring's pseudonym secret.
    subjects: Subjects,
    made: Mutex<Vec<Key>>,
    /// The first new key, made ahead: its bucket of the key ring may be read while the
    /// change is built ([`Privacy::prepare_ring`]).
    first: Mutex<Option<Key>>,
}

impl KeySource for NewKeys {
    fn new_key(&self, case: &str, contact: Option<&str>) -> Key {
        let first = self.first.lock().unwrap_or_else(|p| p.into_inner()).take();
        self.adopt(case, contact, first.unwrap_or_else(|| Key::generate("")))
    }

    fn adopt(&self, case: &str, contact: Option<&str>, mut key: Key) -> Key {
        key.subject = match contact {
            Some(c) => self.subjects.of(c),
            None => format!("case:{case}"),
        };
        self.made
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(key.clone());
        key
    }
}

impl NewKeys {
    pub(crate) fn take(&self) -> Vec<Key> {
        std::mem::take(&mut *self.made.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// What a snapshot needs to open and seal cases.
pub(crate) struct Privacy<'r> {
    store: &'r Store,
    /// New values are sealed (`[privacy] seal = true`).
    pub(crate) sealing: bool,
    /// Keys one at a time, for a single case.
    reader: RingReader<'r>,
    /// The whole ring, read on first need, for parses on all cores.
    whole: OnceLock<Arc<KeyRing>>,
    /// Where new keys come from; `None` in a plain book and for reads that only show.
    pub(crate) new_keys: Option<Arc<NewKeys>>,
    pub(crate) opening: Opening,
    /// The thread that adds new keys to the key ring, once [`Privacy::prepare_ring`]
    /// started it.
    ring_prep: Mutex<Option<RingPrep>>,
}

/// What a parse needs: keys from the lazy reader (one thread) or the whole ring (shared
/// between threads).
pub(crate) struct Opener<'a, K: Keys + ?Sized> {
    keys: &'a K,
    has_ring: bool,
    sealing: bool,
    new_keys: Option<&'a Arc<NewKeys>>,
    opening: Opening,
}

impl<'r> Privacy<'r> {
    pub(crate) fn load(
        store: &'r Store,
        sealing: bool,
        opening: Opening,
        now: DateTime<Utc>,
    ) -> Result<Privacy<'r>> {
        let mut reader = store.ring_reader()?;
        let new_keys = if sealing && opening == Opening::Write {
            let secret = match reader.pseudonym_secret() {
                Some(s) => s,
                None => {
                    let s = store.pseudonym_secret(now)?;
                    reader = store.ring_reader()?;
                    s
                }
            };
            Some(Arc::new(NewKeys {
                subjects: Subjects::new(&secret),
                made: Mutex::new(Vec::new()),
                first: Mutex::new(Some(Key::generate(""))),
            }))
        } else {
            None
        };
        Ok(Privacy {
            store,
            sealing,
            reader,
            whole: OnceLock::new(),
            new_keys,
            opening,
            ring_prep: Mutex::new(None),
        })
    }

    /// Starts the thread that adds this transaction's new keys to the key ring, reading
    /// the bucket of its first new key meanwhile (a sealed book's write only, once), unless
    /// the key will be pending ([`Store::pending_has_room`]). What fails there (the ring
    /// cannot be opened or read) is reported by the write.
    pub(crate) fn prepare_ring(&self) {
        let Some(keys) = &self.new_keys else { return };
        if self.store.pending_has_room(1) {
            return;
        }
        let mut prep = self.ring_prep.lock().unwrap_or_else(|p| p.into_inner());
        if prep.is_some() {
            return;
        }
        let first = keys.first.lock().unwrap_or_else(|p| p.into_inner());
        let bucket = first.as_ref().and_then(|f| bucket_of(&f.id));
        *prep = Some(self.store.prepare_keys(bucket));
    }

    pub(crate) fn take_ring_prep(&self) -> Option<RingPrep> {
        self.ring_prep
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

    /// The keys, one at a time.
    pub(crate) fn keys(&self) -> &RingReader<'r> {
        &self.reader
    }

    /// For one case, on this thread: keys through the lazy reader.
    pub(crate) fn opener(&self) -> Opener<'_, RingReader<'r>> {
        Opener {
            keys: &self.reader,
            has_ring: self.reader.exists(),
            sealing: self.sealing,
            new_keys: self.new_keys.as_ref(),
            opening: self.opening,
        }
    }

    /// For many cases on all cores: the whole ring, read once.
    pub(crate) fn bulk_opener(&self) -> Result<Opener<'_, KeyRing>> {
        let whole = match self.whole.get() {
            Some(w) => w,
            None => {
                let ring = self.store.keyring()?.unwrap_or_default();
                self.whole.get_or_init(|| Arc::new(ring))
            }
        };
        Ok(Opener {
            keys: whole.as_ref(),
            has_ring: self.reader.exists(),
            sealing: self.sealing,
            new_keys: self.new_keys.as_ref(),
            opening: self.opening,
        })
    }

    /// Gives a case made in this transaction what its write needs to seal it (a new key,
    /// made on first need); nothing in a plain book.
    pub(crate) fn attach_new(&self, case: &mut CaseFile) {
        if let Some(source) = &self.new_keys {
            privacy::attach(case, source.clone(), None, Default::default());
        }
    }
}

impl<K: Keys> Opener<'_, K> {
    /// Opens `case` (parsed from `path`, whose text is `text`) in place and, in a sealed
    /// book, attaches what its next write needs.
    pub(crate) fn open(&self, path: &str, text: &str, case: &mut CaseFile) -> Result<()> {
        let has_sealed = text.contains("sealed:v");
        if !has_sealed && !self.sealing {
            return Ok(());
        }
        let (found, memo, live) = if has_sealed {
            privacy::open_case(case, self.keys as &dyn Keys, self.opening).map_err(|e| {
                StoreError::Sealed {
                    path: path.to_string(),
                    error: e,
                }
            })?
        } else {
            Default::default()
        };
        if found.missing > 0 {
            MISSING.store(true, std::sync::atomic::Ordering::Relaxed);
            no_ring_notice(self.has_ring);
        }
        if let (Some(source), Opening::Write) = (self.new_keys, self.opening) {
            let key = live.and_then(|id| match self.keys.lookup(&id) {
                Lookup::Present(k) => Some(k),
                _ => None,
            });
            privacy::attach(case, source.clone(), key, memo);
        }
        Ok(())
    }
}

/// Set once a value could not be opened for want of its key (in this process).
static MISSING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether this process met a sealed value it had no key for.
pub(crate) fn met_missing_key() -> bool {
    MISSING.load(std::sync::atomic::Ordering::Relaxed)
}

/// Says once per process that sealed values could not be opened for want of a key.
fn no_ring_notice(has_ring: bool) {
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| {
        if has_ring {
            eprintln!(
                "casebook: some personal data is sealed with keys this clone does not have yet; it shows as {}. Run `casebook sync` to fetch them.",
                privacy::NO_KEY
            );
        } else {
            eprintln!(
                "casebook: this clone has no key ring ({}), so the sealed personal data of this case book shows as {}. Run `casebook sync` (or `casebook setup`) to fetch it from the remote.",
                super::KEYRING_REF,
                privacy::NO_KEY
            );
        }
    });
}
