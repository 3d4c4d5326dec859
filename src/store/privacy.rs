//! Opening and sealing case files as a snapshot reads them (see [`crate::model::privacy`]).
//!
//! A snapshot of a sealed case book opens every case it parses with this clone's key ring
//! and gives it what its next write needs to seal it again. Keys made for cases that had
//! none wait in [`NewKeys`] and go into the key ring before the commit that uses them
//! ([`super::Store::transact`]), so no committed value is ever sealed with a key the ring
//! does not hold.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use super::{Result, Store, StoreError};
use crate::model::case::CaseFile;
use crate::model::keyring::{customer_subject, KeyRing, PseudonymSecret};
use crate::model::privacy::{self, KeySource, Opening};
use crate::model::seal::{Key, Keys, Lookup};

/// Keys made during one transaction, waiting to go into the key ring.
pub(crate) struct NewKeys {
    secret: PseudonymSecret,
    made: Mutex<Vec<Key>>,
}

impl KeySource for NewKeys {
    fn new_key(&self, case: &str, contact: Option<&str>) -> Key {
        let subject = match contact {
            Some(c) => customer_subject(&self.secret, c),
            None => format!("case:{case}"),
        };
        let key = Key::generate(&subject);
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
pub(crate) struct Privacy {
    /// New values are sealed (`[privacy] seal = true`).
    pub(crate) sealing: bool,
    /// This clone's key ring; `None` when it has none at all.
    ring: Option<Arc<KeyRing>>,
    /// Where new keys come from; `None` in a plain book.
    pub(crate) new_keys: Option<Arc<NewKeys>>,
    pub(crate) opening: Opening,
}

struct RingKeys<'a>(Option<&'a KeyRing>);

impl Keys for RingKeys<'_> {
    fn lookup(&self, key_id: &str) -> Lookup<'_> {
        match self.0 {
            Some(r) => r.lookup(key_id),
            None => Lookup::Unknown,
        }
    }
}

impl Privacy {
    pub(crate) fn load(
        store: &Store,
        sealing: bool,
        opening: Opening,
        now: DateTime<Utc>,
    ) -> Result<Privacy> {
        let mut ring = store.keyring()?;
        let new_keys = if sealing && opening == Opening::Write {
            let secret = match ring.as_ref().and_then(|r| r.pseudonym_secret()) {
                Some(s) => s.clone(),
                None => {
                    let s = store.pseudonym_secret(now)?;
                    ring = store.keyring()?;
                    s
                }
            };
            Some(Arc::new(NewKeys {
                secret,
                made: Mutex::new(Vec::new()),
            }))
        } else {
            None
        };
        Ok(Privacy {
            sealing,
            ring: ring.map(Arc::new),
            new_keys,
            opening,
        })
    }

    /// Whether this clone has a key ring at all.
    pub(crate) fn has_ring(&self) -> bool {
        self.ring.is_some()
    }

    /// Opens `case` (parsed from `path`) in place and, in a sealed book, attaches what its
    /// next write needs.
    pub(crate) fn open(&self, path: &str, text: &str, case: &mut CaseFile) -> Result<()> {
        let has_sealed = text.contains("sealed:v");
        if !has_sealed && !self.sealing {
            return Ok(());
        }
        let keys = RingKeys(self.ring.as_deref());
        let (found, memo, live) = if has_sealed {
            privacy::open_case(case, &keys, self.opening).map_err(|e| StoreError::Sealed {
                path: path.to_string(),
                source: e,
            })?
        } else {
            Default::default()
        };
        if found.missing > 0 {
            MISSING.store(true, std::sync::atomic::Ordering::Relaxed);
            no_ring_notice(self.has_ring());
        }
        if let (Some(source), Opening::Write) = (&self.new_keys, self.opening) {
            let key = live.and_then(|id| match keys.lookup(&id) {
                Lookup::Present(k) => Some(k.clone()),
                _ => None,
            });
            privacy::attach(case, source.clone(), key, memo);
        }
        Ok(())
    }
}

impl Privacy {
    /// Gives a case made in this transaction what its write needs to seal it (a new key,
    /// made on first need); nothing in a plain book.
    pub(crate) fn attach_new(&self, case: &mut CaseFile) {
        if let Some(source) = &self.new_keys {
            privacy::attach(case, source.clone(), None, Default::default());
        }
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
