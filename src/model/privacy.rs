//! A case's personal data on its way in and out of a sealed case book (issue 14).
//!
//! In memory a case always holds its personal data opened, so every rule, template and
//! comparison works on the text people wrote. Only the file is sealed:
//!
//! - **reading** ([`open_case`]) opens every sealed value the case's types declare personal
//!   ([`CaseFile::each_personal_mut`]) and remembers, for each (field, text), the sealed
//!   value it came from;
//! - **writing** ([`CaseFile::to_toml`] through [`sealed_copy`]) seals every personal value
//!   again, reusing the remembered sealed value where the text did not change. So a file
//!   is rewritten byte for byte except where something new was said, and git diffs, merges
//!   and the sync of events keep working on sealed files.
//!
//! A sealed value whose key was erased (or that this clone has no key for) cannot be
//! opened. For a write it stays in the case exactly as it was; for a read that only shows
//! ([`Opening::Display`]) it becomes [`ERASED`] or [`NO_KEY`].
//!
//! The associated data of a value is its case ID and its field name (`email`, `message`,
//! `with` ...), not its position: the projection (`[customer] email`) holds the same sealed
//! value as the event that recorded it (`[event.customer] email`). A case renamed by a sync
//! (its old ID in `aliases`) opens under any of its IDs.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use super::case::CaseFile;
use super::seal::{self, Key, Keys, SealError};

/// How an erased value reads.
pub const ERASED: &str = "[erased]";
/// How a value reads that this clone has no key for (a clone without the key ring).
pub const NO_KEY: &str = "[sealed]";

/// What a read does with sealed values it cannot open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opening {
    /// Keep them sealed, as they are: the case may be written back.
    Write,
    /// Show [`ERASED`] or [`NO_KEY`]: the case is only shown, never written.
    Display,
}

/// Where a sealed case gets the key for values it seals for the first time: the case's own
/// key when it has one, else a new one (which the store adds to the key ring before the
/// commit that uses it).
pub trait KeySource: Send + Sync {
    /// A key for new values of case `case`, whose customer is known by `contact` (an
    /// e-mail address or phone number, if the case has one).
    fn new_key(&self, case: &str, contact: Option<&str>) -> Key;
}

/// What a case read from (or made in) a sealed book carries for its next write.
pub struct SealState {
    /// The key new values are sealed with: the case's, or one made on first need.
    key: OnceLock<Key>,
    source: Arc<dyn KeySource>,
    /// (field, text) → a sealed value of exactly that text in this case.
    memo: HashMap<(&'static str, String), String>,
}

impl SealState {
    pub fn new(source: Arc<dyn KeySource>, key: Option<Key>) -> SealState {
        let cell = OnceLock::new();
        if let Some(k) = key {
            let _ = cell.set(k);
        }
        SealState {
            key: cell,
            source,
            memo: HashMap::new(),
        }
    }
}

impl std::fmt::Debug for SealState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealState")
            .field("key", &self.key.get().map(|k| &k.id))
            .field("remembered", &self.memo.len())
            .finish_non_exhaustive()
    }
}

/// What opening a case found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Opened {
    /// Values whose key was erased.
    pub erased: usize,
    /// Values whose key this clone does not have.
    pub missing: usize,
    /// Values that opened.
    pub opened: usize,
}

/// Opens every sealed personal value of `case` with `keys`, in place. A value that was
/// changed after it was sealed (or copied from another case or field) is an error naming
/// the case and the field, never garbage. Returns what was found and what a write needs to
/// keep the sealed values it did not change (`None` when the case had none).
pub fn open_case(
    case: &mut CaseFile,
    keys: &dyn Keys,
    opening: Opening,
) -> Result<
    (
        Opened,
        HashMap<(&'static str, String), String>,
        Option<String>,
    ),
    SealError,
> {
    let ids: Vec<String> = std::iter::once(case.case.id.to_string())
        .chain(case.case.aliases.iter().cloned())
        .collect();
    let mut found = Opened::default();
    let mut memo = HashMap::new();
    // The key of a value that opened: new values of this case are sealed with it.
    let mut live_key: Option<String> = None;
    let mut failure: Option<SealError> = None;
    case.each_personal_mut(&mut |field, value| {
        if failure.is_some() || !seal::is_sealed(value) {
            return;
        }
        let mut result = seal::open(&KeysRef(keys), &ids[0], field, value);
        for alias in &ids[1..] {
            match result {
                Err(SealError::Tampered { .. }) => {
                    result = seal::open(&KeysRef(keys), alias, field, value)
                }
                _ => break,
            }
        }
        match result {
            Ok(plain) => {
                found.opened += 1;
                if live_key.is_none() {
                    live_key = seal::key_id_of(value).map(str::to_string);
                }
                memo.insert((field, plain.clone()), std::mem::replace(value, plain));
            }
            Err(SealError::Erased { .. }) => {
                found.erased += 1;
                if opening == Opening::Display {
                    *value = ERASED.to_string();
                }
            }
            Err(SealError::MissingKey { .. }) => {
                found.missing += 1;
                if opening == Opening::Display {
                    *value = NO_KEY.to_string();
                }
            }
            Err(e) => failure = Some(e),
        }
    });
    match failure {
        Some(e) => Err(e),
        None => Ok((found, memo, live_key)),
    }
}

/// Lets a `&dyn Keys` be passed where `impl Keys` is asked for.
struct KeysRef<'k>(&'k dyn Keys);

impl Keys for KeysRef<'_> {
    fn lookup(&self, key_id: &str) -> seal::Lookup<'_> {
        self.0.lookup(key_id)
    }
}

/// Attaches what a write of `case` needs to seal it: `key` is the case's live key (from
/// [`open_case`]), `memo` the sealed values it opened.
pub fn attach(
    case: &mut CaseFile,
    source: Arc<dyn KeySource>,
    key: Option<Key>,
    memo: HashMap<(&'static str, String), String>,
) {
    let mut state = SealState::new(source, key);
    state.memo = memo;
    case.seal = Some(Arc::new(state)).into();
}

/// The contact a case's customer is known by, for the subject of a new key.
fn contact_of(case: &CaseFile) -> Option<String> {
    let usable = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty() && !seal::is_sealed(s) && *s != ERASED && *s != NO_KEY)
            .map(str::to_string)
    };
    usable(&case.customer.email)
        .or_else(|| usable(&case.customer.phone))
        .or_else(|| {
            case.events
                .iter()
                .filter_map(|e| e.customer.as_ref())
                .find_map(|c| usable(&c.email).or_else(|| usable(&c.phone)))
        })
}

/// `case` with every personal value sealed: the remembered sealed value where the text is
/// unchanged, else newly sealed with the case's key. Values that are already sealed (their
/// key erased or not in this clone) stay as they are.
pub fn sealed_copy(case: &CaseFile, state: &SealState) -> CaseFile {
    let mut out = case.clone();
    let id = case.case.id.to_string();
    let contact = contact_of(case);
    out.each_personal_mut(&mut |field, value| {
        if value.is_empty() || seal::is_sealed(value) {
            return;
        }
        let sealed = match state.memo.get(&(field, value.clone())) {
            Some(s) => s.clone(),
            None => {
                let key = state
                    .key
                    .get_or_init(|| state.source.new_key(&id, contact.as_deref()));
                seal::seal(key, &id, field, value)
            }
        };
        *value = sealed;
    });
    out
}

/// Every key id a case file's text names (the keys of its sealed values), sorted, without
/// duplicates; read from the text without parsing it.
pub fn key_ids_in(text: &str) -> Vec<String> {
    let mut ids: Vec<String> = text
        .match_indices(seal::PREFIX)
        .filter_map(|(at, _)| {
            let rest = &text[at + seal::PREFIX.len()..];
            let id = rest.split(':').next()?;
            seal::is_key_id(id).then(|| id.to_string())
        })
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// A case file's text with every sealed value opened where `keys` has its key, for people
/// reading history (`git log -p` through casebook's textconv driver): the case in its
/// canonical form, erased values reading [`ERASED`] and those without a key [`NO_KEY`].
/// `None` when the text is not a readable case file with sealed values (git then shows it
/// as it is).
pub fn open_case_text(text: &str, keys: &dyn Keys) -> Option<String> {
    if !text.contains(seal::PREFIX) {
        return None;
    }
    let mut case = CaseFile::from_toml(text).ok()?;
    open_case(&mut case, keys, Opening::Display).ok()?;
    Some(case.to_toml())
}

/// The field name an attachment's content is sealed under.
pub const ATTACHMENT: &str = "attachment";

/// An attachment's content as a sealed case stores it (sealed text, with the case's key),
/// or `None` when `case` is not written sealed.
pub fn seal_attachment(case: &CaseFile, content: &[u8]) -> Option<Vec<u8>> {
    let state = case.seal.0.as_ref()?;
    let id = case.case.id.to_string();
    let key = state
        .key
        .get_or_init(|| state.source.new_key(&id, contact_of(case).as_deref()));
    Some(seal::seal_bytes(key, &id, ATTACHMENT, content).into_bytes())
}

/// The content of an attachment as stored: opened if it is sealed (under any of the case's
/// IDs), as it is otherwise.
pub fn open_attachment(
    case: &CaseFile,
    keys: &dyn Keys,
    stored: &[u8],
) -> Result<Vec<u8>, SealError> {
    let Ok(text) = std::str::from_utf8(stored) else {
        return Ok(stored.to_vec());
    };
    if !seal::is_sealed(text) {
        return Ok(stored.to_vec());
    }
    let mut result = seal::open_bytes(&KeysRef(keys), case.case.id.as_str(), ATTACHMENT, text);
    for alias in &case.case.aliases {
        if !matches!(result, Err(SealError::Tampered { .. })) {
            break;
        }
        result = seal::open_bytes(&KeysRef(keys), alias, ATTACHMENT, text);
    }
    result
}
