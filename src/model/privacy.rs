//! A case's personal data on its way in and out of a sealed case book (issue 14).
//!
//! In memory a case always holds its personal data opened, so every rule, template and
//! comparison works on the text people wrote. Only the file is sealed:
//!
//! - **reading** ([`open_case`]) opens every sealed value the case's types declare personal
//!   ([`CaseFile::each_personal_mut`]) and remembers, for each (field, text), the sealed
//!   value it came from;
//! - **writing** ([`CaseFile::to_toml`] through [`seal_in_place`]) seals every personal value
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
//! value as the event that recorded it (`[event.customer] email`), and the file stores it
//! once, in the event, with [`FROM_EVENTS`] in the projection. A case renamed by a sync
//! (its old ID in `aliases`) opens under any of its IDs.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use super::case::CaseFile;
use super::event::Event;
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
    /// Takes `key` as the key for new values of case `case`, whose customer is known by
    /// `contact` (an e-mail address or phone number, if the case has one): gives it its
    /// subject and keeps it for the key ring. The key's id and secret may have been made
    /// ahead ([`seal_ahead`]).
    fn adopt(&self, case: &str, contact: Option<&str>, key: Key) -> Key;

    /// A new key for new values of case `case` (see [`KeySource::adopt`]).
    fn new_key(&self, case: &str, contact: Option<&str>) -> Key {
        self.adopt(case, contact, Key::generate(""))
    }
}

/// What a case read from (or made in) a sealed book carries for its next write.
pub struct SealState {
    /// The key new values are sealed with: the case's, or one made on first need.
    key: OnceLock<Key>,
    source: Arc<dyn KeySource>,
    memo: Memo,
    /// The case was made from events sealed ahead ([`create_ahead`]): its projection is
    /// their replay, sealed values and all.
    replayed: bool,
}

/// The sealed values a case was read with, so that a write gives back the same bytes.
///
/// An event never changes once written, so each of its values is remembered by where it
/// is (event id, position): a rewrite returns exactly those bytes even when two values
/// hold the same text. The projection is derived from the events: its values take the
/// sealed value of an event value with the same field and text.
#[derive(Default)]
pub struct Memo {
    events: HashMap<(String, usize), (String, String)>,
    /// By text, then field: looked up with the text as it is, without a copy.
    by_text: HashMap<String, Vec<(&'static str, String)>>,
}

impl Memo {
    /// Remembers `sealed()` as the sealed value of `field` with `text`, unless one is.
    fn remember(&mut self, field: &'static str, text: &str, sealed: impl FnOnce() -> String) {
        let fields = match self.by_text.get_mut(text) {
            Some(fields) => fields,
            None => self.by_text.entry(text.to_string()).or_default(),
        };
        if !fields.iter().any(|(f, _)| *f == field) {
            fields.push((field, sealed()));
        }
    }

    /// The sealed value remembered for `field` with `text`.
    fn sealed(&self, field: &'static str, text: &str) -> Option<&String> {
        let fields = self.by_text.get(text)?;
        fields.iter().find(|(f, _)| *f == field).map(|(_, s)| s)
    }
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
            memo: Memo::default(),
            replayed: false,
        }
    }
}

impl std::fmt::Debug for SealState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealState")
            .field("key", &self.key.get().map(|k| &k.id))
            .field("remembered", &self.memo.events.len())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the text: it is personal data.
        f.debug_struct("Memo")
            .field("event_values", &self.events.len())
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
/// the case and the field, never garbage. Returns what was found, what a write needs to
/// give back the sealed values it did not change, and the key of a value that opened.
pub fn open_case(
    case: &mut CaseFile,
    keys: &dyn Keys,
    opening: Opening,
) -> Result<(Opened, Memo, Option<String>), SealError> {
    let ids: Vec<String> = std::iter::once(case.case.id.to_string())
        .chain(case.case.aliases.iter().cloned())
        .collect();
    let mut found = Opened::default();
    let mut memo = Memo::default();
    // The key of a value that opened: new values of this case are sealed with it.
    let mut live_key: Option<String> = None;
    let mut failure: Option<SealError> = None;
    let mut open_one = |field: &'static str, value: &mut String| -> Option<String> {
        if failure.is_some() || !seal::is_sealed(value) {
            return None;
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
                Some(std::mem::replace(value, plain))
            }
            Err(SealError::Erased { .. }) => {
                found.erased += 1;
                if opening == Opening::Display {
                    *value = ERASED.to_string();
                }
                None
            }
            Err(SealError::MissingKey { .. }) => {
                found.missing += 1;
                if opening == Opening::Display {
                    *value = NO_KEY.to_string();
                }
                None
            }
            Err(e) => {
                failure = Some(e);
                None
            }
        }
    };
    for event in &mut case.events {
        let id = event.id.clone();
        let mut at = 0;
        event.each_personal_mut(&mut |field, value| {
            if let Some(sealed) = open_one(field, value) {
                memo.remember(field, value, || sealed.clone());
                memo.events
                    .insert((id.clone(), at), (value.clone(), sealed));
            }
            at += 1;
        });
    }
    case.each_projected_personal_mut(&mut |field, value| {
        if let Some(sealed) = open_one(field, value) {
            memo.remember(field, value, || sealed);
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
    fn lookup(&self, key_id: &str) -> seal::Lookup {
        self.0.lookup(key_id)
    }
}

/// Attaches what a write of `case` needs to seal it: `key` is the case's live key (from
/// [`open_case`]), `memo` the sealed values it opened.
pub fn attach(case: &mut CaseFile, source: Arc<dyn KeySource>, key: Option<Key>, memo: Memo) {
    let mut state = SealState::new(source, key);
    state.memo = memo;
    case.seal = Some(Arc::new(state)).into();
}

/// A new case's first event with its personal values sealed, made before the case is
/// ([`seal_ahead`]).
pub struct SealedAhead {
    key: Key,
    /// The customer's contact, for the subject of the key ([`KeySource::adopt`]).
    contact: Option<String>,
    event: Event,
}

/// Seals the personal values of `event`, the first event of new case `case`, in place with
/// a new key whose subject is given when the case is made ([`create_ahead`]). This is the
/// sealing of a whole new case, done beforehand: an import does it on an otherwise idle
/// core while it still reads its rows.
pub fn seal_ahead(case: &str, mut event: Event) -> SealedAhead {
    let key = Key::generate("");
    let contact = event
        .customer
        .as_ref()
        .and_then(|c| usable(&c.email).or_else(|| usable(&c.phone)));
    event.each_personal_mut(&mut |field, value| {
        if !value.is_empty() && !seal::is_sealed(value) {
            *value = seal::seal(&key, case, field, value);
        }
    });
    SealedAhead {
        key,
        contact,
        event,
    }
}

/// Makes new case `id` from its first event sealed `ahead` (under the same case ID), its
/// key taken by `source`. The projection is then the replay of sealed events, so it holds
/// their sealed values, and stays their replay through [`CaseFile::append`]: its write
/// stores each as [`FROM_EVENTS`] without replaying the events once more. Change the case
/// only by appending events.
pub fn create_ahead(
    id: super::CaseId,
    ahead: SealedAhead,
    source: Arc<dyn KeySource>,
) -> Result<CaseFile, super::case::CaseError> {
    let key = source.adopt(id.as_str(), ahead.contact.as_deref(), ahead.key);
    let mut case = CaseFile::create(id, ahead.event)?;
    let mut state = SealState::new(source, Some(key));
    state.replayed = true;
    case.seal = Some(Arc::new(state)).into();
    Ok(case)
}

/// A personal value that can name a customer for the subject of a key: given, and neither
/// sealed nor a stand-in for a sealed value.
fn usable(v: &Option<crate::model::Personal>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty() && !seal::is_sealed(s) && *s != ERASED && *s != NO_KEY)
        .map(str::to_string)
}

/// The contact a case's customer is known by, for the subject of a new key.
fn contact_of(case: &CaseFile) -> Option<String> {
    usable(&case.customer.email)
        .or_else(|| usable(&case.customer.phone))
        .or_else(|| {
            case.events
                .iter()
                .filter_map(|e| e.customer.as_ref())
                .find_map(|c| usable(&c.email).or_else(|| usable(&c.phone)))
        })
}

/// Seals every personal value of `out`: an event's values as they were read where their
/// text is unchanged, the projection's as the event value they came from, anything new
/// with the case's key. The same field and text in one write get one sealed value. Values
/// that are still sealed (key erased, or not in this clone) stay as they are.
pub fn seal_in_place(out: &mut CaseFile, state: &SealState) {
    let id = out.case.id.to_string();
    // Only a new key needs the contact.
    let contact = match state.key.get() {
        Some(_) => None,
        None => contact_of(out),
    };
    // Sealed in this write: a case has a handful of personal values, so a list is faster
    // to search than a map is to hash (an import seals 100k cases' worth).
    let mut fresh: Vec<(&'static str, String, String)> = Vec::new();
    // A case made in this write (an import's) has nothing sealed yet: no look-ups.
    let remembered = !state.memo.by_text.is_empty();
    let mut seal_new = |field: &'static str, value: &str| -> String {
        if remembered {
            if let Some(s) = state.memo.sealed(field, value) {
                return s.clone();
            }
        }
        if let Some((_, _, sealed)) = fresh.iter().find(|(f, v, _)| *f == field && v == value) {
            return sealed.clone();
        }
        let key = state
            .key
            .get_or_init(|| state.source.new_key(&id, contact.as_deref()));
        let sealed = seal::seal(key, &id, field, value);
        fresh.push((field, value.to_string(), sealed.clone()));
        sealed
    };
    let needs = |v: &String| !v.is_empty() && !seal::is_sealed(v);
    for event in &mut out.events {
        let mut at = 0;
        let read = if state.memo.events.is_empty() {
            None
        } else {
            Some(event.id.clone())
        };
        event.each_personal_mut(&mut |field, value| {
            if needs(value) {
                let kept = read
                    .as_ref()
                    .and_then(|eid| state.memo.events.get(&(eid.clone(), at)));
                *value = match kept {
                    Some((plain, sealed)) if plain == value => sealed.clone(),
                    _ => seal_new(field, value),
                };
            }
            at += 1;
        });
    }
    out.each_projected_personal_mut(&mut |field, value| {
        if needs(value) {
            *value = seal_new(field, value);
        }
    });
}

/// How a sealed value of `[case]` or `[customer]` is stored when it is exactly the sealed
/// value replaying the events gives (case-file schema 2): the event holds it, once, and a
/// read takes it from there ([`expand_projection`]). Half of a new sealed case's personal
/// data would otherwise be stored twice, and every byte of it is incompressible.
pub const FROM_EVENTS: &str = "sealed:v1:from-events";

/// The schema of a file that holds [`FROM_EVENTS`].
const DERIVED_SCHEMA: u32 = 2;

/// The projection's personal values, taken out of `file`, in the order
/// [`CaseFile::each_projected_personal_mut`] visits them.
fn take_projected(file: &mut CaseFile) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    file.each_projected_personal_mut(&mut |field, value| {
        out.push((field, std::mem::take(value)));
    });
    out
}

/// The projection's personal values that replaying `file`'s events gives.
fn replayed(file: &CaseFile) -> Result<Vec<(&'static str, String)>, super::case::CaseError> {
    let (case, customer) = super::case::replay(&file.case.id, &file.events)?;
    let mut replayed = CaseFile {
        schema: file.schema,
        case,
        customer,
        events: Vec::new(),
        extra: toml::Table::new(),
        seal: Default::default(),
    };
    Ok(take_projected(&mut replayed))
}

/// Calls `f` with each personal value of the projection and the value replay gives the
/// same field (the n-th `name` of the projection is matched with replay's n-th `name`).
fn with_replayed(
    file: &mut CaseFile,
    replayed: &[(&'static str, String)],
    mut f: impl FnMut(&'static str, &mut String, Option<&String>),
) {
    let mut seen: Vec<(&'static str, usize)> = Vec::new();
    file.each_projected_personal_mut(&mut |field, value| {
        let n = match seen.iter_mut().find(|(f, _)| *f == field) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                seen.push((field, 0));
                0
            }
        };
        let from_events = replayed
            .iter()
            .filter(|(f, _)| *f == field)
            .nth(n)
            .map(|(_, v)| v);
        f(field, value, from_events);
    });
}

/// Seals every personal value of `file` with `state` ([`seal_in_place`]) and stores as
/// [`FROM_EVENTS`] each sealed value of the projection that replaying its events gives.
pub fn seal_for_write(file: &mut CaseFile, state: &SealState) {
    if state.replayed {
        // The projection is the replay of the sealed events ([`create_ahead`]): each of its
        // sealed values is one replay gives. Anything still to seal is sealed after.
        let mut derived = false;
        file.each_projected_personal_mut(&mut |_, value| {
            if seal::is_sealed(value) && value != FROM_EVENTS {
                *value = FROM_EVENTS.to_string();
                derived = true;
            }
        });
        if derived {
            file.schema = file.schema.max(DERIVED_SCHEMA);
        }
        seal_in_place(file, state);
    } else {
        seal_in_place(file, state);
        derive_projection(file);
    }
}

/// Writes [`FROM_EVENTS`] for each sealed value of the projection that is the very sealed
/// value replaying its events gives. The file becomes schema 2 if any is.
pub fn derive_projection(file: &mut CaseFile) {
    let Ok(replayed) = replayed(file) else {
        return;
    };
    let mut derived = false;
    with_replayed(file, &replayed, |_, value, from_events| {
        if seal::is_sealed(value) && from_events == Some(value) {
            *value = FROM_EVENTS.to_string();
            derived = true;
        }
    });
    if derived {
        file.schema = file.schema.max(DERIVED_SCHEMA);
    }
}

/// Puts back, for each [`FROM_EVENTS`] of a file just read, the sealed value replaying its
/// events gives: the case then reads exactly as if both copies were stored. An error if
/// replay gives that field no sealed value (the file was edited).
pub fn expand_projection(file: &mut CaseFile) -> Result<(), super::case::CaseError> {
    let mut any = false;
    file.each_projected_personal_mut(&mut |_, value| any |= value == FROM_EVENTS);
    if !any {
        return Ok(());
    }
    let replayed = replayed(file)?;
    let mut wrong: Option<&'static str> = None;
    with_replayed(file, &replayed, |field, value, from_events| {
        if value == FROM_EVENTS {
            match from_events {
                Some(sealed) if seal::is_sealed(sealed) => *value = sealed.clone(),
                _ => {
                    wrong.get_or_insert(field);
                }
            }
        }
    });
    match wrong {
        None => Ok(()),
        Some(field) => Err(super::case::CaseError::NotDerived {
            table: match field {
                "name" | "email" | "phone" => "customer",
                _ => "case",
            },
            field,
            marker: FROM_EVENTS,
        }),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::CustomerFields;
    use crate::model::keyring::KeyRing;
    use crate::model::{Action, CaseId};
    use std::sync::Mutex;

    struct Source(Mutex<Vec<Key>>);

    impl KeySource for Source {
        fn adopt(&self, _case: &str, contact: Option<&str>, mut key: Key) -> Key {
            key.subject = format!("customer:{}", contact.unwrap_or("?"));
            self.0.lock().unwrap().push(key.clone());
            key
        }
    }

    fn at() -> chrono::DateTime<chrono::Utc> {
        "2026-11-23T09:00:00Z".parse().unwrap()
    }

    /// The key a case's values opened with (`open_case`'s third answer), from `ring`.
    fn live_key(ring: &KeyRing, live: Option<String>) -> Option<Key> {
        live.and_then(|id| match ring.lookup(&id) {
            seal::Lookup::Present(k) => Some(k),
            _ => None,
        })
    }

    /// The case `text` read as a write reads it: opened with `ring`, carrying its live key
    /// and what it was read with, new keys from `source`.
    fn read_for_write(text: &str, ring: &KeyRing, source: &Arc<Source>) -> CaseFile {
        let mut case = CaseFile::from_toml(text).unwrap();
        let (_, memo, live) = open_case(&mut case, ring, Opening::Write).unwrap();
        let key = live_key(ring, live);
        attach(&mut case, source.clone(), key, memo);
        case
    }

    /// A sealed case of Ada, the ring that opens it, and its text.
    fn sealed_case() -> (CaseFile, KeyRing, String) {
        let mut open = Event::new(Action::Open, at(), "Dana <d@example.com>");
        open.get_mut::<crate::model::payload::Open>()
            .unwrap()
            .subject = Some("Printer \"jams\"".into());
        open.get_mut::<crate::model::payload::Open>()
            .unwrap()
            .description = Some("Line 1\nLine 2".into());
        open.customer = Some(CustomerFields {
            name: Some("Ada Lovelace".into()),
            email: Some("ada@example.com".into()),
            ..Default::default()
        });
        let id = CaseId::parse("CB-7K3M9QXA").unwrap();
        let mut case = CaseFile::create(id, open).unwrap();
        let source = Arc::new(Source(Mutex::new(Vec::new())));
        attach(&mut case, source.clone(), None, Memo::default());
        let text = case.to_toml();
        let mut ring = KeyRing::new();
        for k in source.0.lock().unwrap().drain(..) {
            ring.add(k, at());
        }
        (case, ring, text)
    }

    /// A case made from its first event sealed ahead stores the very values sealed ahead
    /// (so the work is not done twice), its key is taken by the source with the customer's
    /// subject, its projection is stored as derived, exactly as replaying the events
    /// would have decided, and it opens back as it was made.
    #[test]
    fn a_case_made_from_an_event_sealed_ahead_stores_those_values() {
        let (plain, _, _) = sealed_case();
        let id = CaseId::parse("CB-7K3M9QXA").unwrap();
        let ahead = seal_ahead(id.as_str(), plain.events[0].clone());
        let mut stored = Vec::new();
        let mut event = ahead.event.clone();
        event.each_personal_mut(&mut |_, v| stored.push(v.clone()));
        assert_eq!(stored.len(), 4, "subject, description, name, e-mail");
        assert!(stored.iter().all(|v| v.starts_with(seal::PREFIX)));
        let source = Arc::new(Source(Mutex::new(Vec::new())));
        let mut case = create_ahead(id, ahead, source.clone()).unwrap();
        let keys = source.0.lock().unwrap().clone();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].subject, "customer:ada@example.com");
        // What replaying the events decides, for the same case without the shortcut.
        let mut replayed = case.clone();
        attach(
            &mut replayed,
            source.clone(),
            Some(keys[0].clone()),
            Memo::default(),
        );
        assert_eq!(replayed.to_toml(), case.to_toml());
        // An event appended after, with a value of its own to seal.
        let mut ack = Event::new(Action::Acknowledge, at(), "Dana <d@example.com>");
        ack.get_mut::<crate::model::payload::Acknowledge>()
            .unwrap()
            .message = Some("Dear Ada".into());
        case.append(ack).unwrap();
        let text = case.to_toml();
        assert!(!text.contains("Dear Ada"), "{text}");
        for sealed in &stored {
            assert_eq!(text.matches(sealed.as_str()).count(), 1, "{text}");
        }
        assert_eq!(text.matches(FROM_EVENTS).count(), 4, "{text}");
        assert_eq!(text.matches(seal::PREFIX).count(), 4 + 1 + 4, "{text}");
        assert_eq!(source.0.lock().unwrap().len(), 1, "no other key");
        let mut ring = KeyRing::new();
        ring.add(keys[0].clone(), at());
        let mut back = CaseFile::from_toml(&text).unwrap();
        open_case(&mut back, &ring, Opening::Write).unwrap();
        assert_eq!(back.case.subject.as_str(), "Printer \"jams\"");
        assert_eq!(back.customer, plain.customer);
        assert_eq!(back.events[0].customer, plain.events[0].customer);
        assert_eq!(back.events[0].payload, plain.events[0].payload);
        assert_eq!(
            back.events[1]
                .get::<crate::model::payload::Acknowledge>()
                .unwrap()
                .message,
            Some("Dear Ada".into())
        );
    }

    #[test]
    fn every_personal_value_is_sealed_with_one_key_and_opens_back() {
        let (case, ring, text) = sealed_case();
        for plain in ["Ada", "ada@example.com", "jams", "Line"] {
            assert!(!text.contains(plain), "{plain} in {text}");
        }
        assert_eq!(key_ids_in(&text).len(), 1, "one key for the case");
        // Plain facts stay plain.
        assert!(text.contains("status = \"new\"") && text.contains("action = \"open\""));
        let mut back = CaseFile::from_toml(&text).unwrap();
        let (found, _, live) = open_case(&mut back, &ring, Opening::Write).unwrap();
        assert!(
            found.opened >= 6 && found.erased == 0 && found.missing == 0,
            "{found:?}"
        );
        assert!(live.is_some());
        back.seal = case.seal.clone();
        // The file is schema 2 (its projection is derived); the case in memory was made as 1.
        assert_eq!(back.schema, 2);
        back.schema = case.schema;
        assert_eq!(back, case);
        assert_eq!(back.customer.name, "Ada Lovelace");
        assert_eq!(back.events[0].text("description"), Some("Line 1\nLine 2"));
    }

    #[test]
    fn each_sealed_value_is_stored_once_and_the_projection_reads_it_from_its_event() {
        let (case, ring, text) = sealed_case();
        assert!(text.starts_with("schema = 2\n"), "{text}");
        let values: Vec<&str> = text
            .lines()
            .filter_map(|l| l.split_once(" = \"sealed:v1:K").map(|(_, v)| v))
            .collect();
        assert!(values.len() >= 4, "{text}");
        for v in &values {
            assert_eq!(text.matches(v).count(), 1, "{v} is stored twice in {text}");
        }
        for field in ["subject", "description", "name", "email"] {
            assert!(
                text.contains(&format!("\n{field} = \"{FROM_EVENTS}\"\n")),
                "{field} in {text}"
            );
        }
        // Read back, the projection holds the event's sealed value, as if stored twice ...
        let back = CaseFile::from_toml(&text).unwrap();
        let event_email = back.events[0].customer.as_ref().unwrap().email.clone();
        assert!(seal::is_sealed(back.customer.email.as_deref().unwrap()));
        assert_eq!(back.customer.email, event_email);
        assert!(back.verify().unwrap());
        // ... and it opens.
        let mut opened = back.clone();
        open_case(&mut opened, &ring, Opening::Display).unwrap();
        assert_eq!(opened.customer.name, "Ada Lovelace");
        assert_eq!(opened.case.subject, case.case.subject);
        // Written without a way to seal (a merge, a clone without the ring): the same bytes.
        assert_eq!(back.to_toml(), text);
    }

    #[test]
    fn a_projection_that_is_not_its_events_is_stored_whole() {
        let (_, _, text) = sealed_case();
        let mut case = CaseFile::from_toml(&text).unwrap();
        // The name in [customer] is not the one the events give (edited, or from an older
        // casebook's merge): it is kept, whole.
        let subject = case.case.subject.clone();
        case.customer.name = subject.clone();
        let written = case.to_toml();
        assert!(
            written.contains("[customer]\nname = \"sealed:v1:K"),
            "{written}"
        );
        let back = CaseFile::from_toml(&written).unwrap();
        assert_eq!(back.customer.name, subject);
        assert!(!back.verify().unwrap(), "verify still sees the difference");
    }

    #[test]
    fn a_derived_value_the_events_do_not_give_is_refused() {
        let (_, _, text) = sealed_case();
        let edited = text.replace(
            "[customer]\n",
            &format!("[customer]\nphone = \"{FROM_EVENTS}\"\n"),
        );
        let err = CaseFile::from_toml(&edited).unwrap_err();
        assert!(
            matches!(
                err,
                crate::model::case::CaseError::NotDerived {
                    table: "customer",
                    field: "phone",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("[customer] phone"), "{err}");
    }

    #[test]
    fn a_rewrite_keeps_every_unchanged_sealed_value_byte_for_byte() {
        let (_, ring, text) = sealed_case();
        let source = Arc::new(Source(Mutex::new(Vec::new())));
        let mut case = read_for_write(&text, &ring, &source);
        let mut ack = Event::new(Action::Acknowledge, at(), "Dana <d@example.com>");
        ack.get_mut::<crate::model::payload::Acknowledge>()
            .unwrap()
            .message = Some("Dear Ada".into());
        case.append(ack).unwrap();
        let again = case.to_toml();
        for line in text.lines().filter(|l| l.contains("sealed:v1:")) {
            assert!(again.contains(line), "{line} was rewritten");
        }
        assert!(!again.contains("Dear Ada"));
        assert!(
            source.0.lock().unwrap().is_empty(),
            "the case's own key is used"
        );
        assert_eq!(key_ids_in(&again), key_ids_in(&text));
    }

    #[test]
    fn erased_keys_read_erased_and_stay_sealed_for_a_write() {
        let (_, ring, text) = sealed_case();
        let mut gone = ring.clone();
        for id in key_ids_in(&text) {
            gone.erase(&id);
        }
        let mut shown = CaseFile::from_toml(&text).unwrap();
        let (found, _, _) = open_case(&mut shown, &gone, Opening::Display).unwrap();
        assert!(found.erased > 0 && found.opened == 0);
        assert_eq!(shown.customer.name, ERASED);
        let mut kept = CaseFile::from_toml(&text).unwrap();
        open_case(&mut kept, &gone, Opening::Write).unwrap();
        assert!(
            seal::is_sealed(&kept.customer.name),
            "left as it was, for a write"
        );
        let opened = open_case_text(&text, &gone).unwrap();
        assert!(opened.contains("name = \"[erased]\""), "{opened}");
        let opened = open_case_text(&text, &ring).unwrap();
        assert!(opened.contains("name = \"Ada Lovelace\""), "{opened}");
        assert_eq!(open_case_text("schema = 1\n", &ring), None);
    }

    #[test]
    fn a_value_moved_to_another_field_or_case_does_not_open() {
        let (_, ring, text) = sealed_case();
        let case = CaseFile::from_toml(&text).unwrap();
        let name = case.customer.name.clone();
        let email = case.customer.email.clone().unwrap();
        // The name's sealed value where the e-mail address was.
        let swapped = text.replace(email.as_str(), name.as_str());
        let mut moved = CaseFile::from_toml(&swapped).unwrap();
        let err = open_case(&mut moved, &ring, Opening::Display).unwrap_err();
        assert!(
            matches!(err, SealError::Tampered { ref field, .. } if field == "email"),
            "{err}"
        );
        // The same file under another case ID.
        let other = text.replace("CB-7K3M9QXA", "CB-8K3M9QXA");
        let mut copied = CaseFile::from_toml(&other).unwrap();
        assert!(open_case(&mut copied, &ring, Opening::Display).is_err());
        // ... unless that case was renamed from it (a sync's ID collision): aliases open.
        copied.case.aliases = vec!["CB-7K3M9QXA".into()];
        open_case(&mut copied, &ring, Opening::Display).unwrap();
        assert_eq!(copied.customer.name, "Ada Lovelace");
    }

    mod any_history {
        use super::*;
        use crate::model::event::FieldChange;
        use crate::model::payload;
        use proptest::prelude::*;

        /// One thing that can happen to a case's personal data, with texts drawn from a
        /// few (so the same text often comes back, in another event or another field).
        #[derive(Debug, Clone)]
        enum Step {
            Intake(Option<&'static str>, Option<&'static str>),
            Change(&'static str, &'static str),
            Customer(
                Option<&'static str>,
                Option<&'static str>,
                Option<&'static str>,
            ),
            Feedback(&'static str),
            Reopen,
        }

        fn text() -> impl Strategy<Value = &'static str> {
            prop::sample::select(vec!["Ada", "Bob", "Printer jams", "", "ada@example.com"])
        }

        fn step() -> impl Strategy<Value = Step> {
            let o = || prop::option::of(text());
            prop_oneof![
                (o(), o()).prop_map(|(a, b)| Step::Intake(a, b)),
                (prop::sample::select(vec!["subject", "description"]), text())
                    .prop_map(|(f, t)| Step::Change(f, t)),
                (o(), o(), o()).prop_map(|(a, b, c)| Step::Customer(a, b, c)),
                text().prop_map(Step::Feedback),
                Just(Step::Reopen),
            ]
        }

        fn event(step: &Step, minute: u32) -> Vec<Event> {
            let at = at() + chrono::Duration::minutes(i64::from(minute));
            let new = |a| Event::new(a, at, "Dana <d@example.com>");
            match step {
                Step::Intake(subject, description) => {
                    let mut e = new(Action::Gather);
                    let g = e.get_mut::<payload::Gather>().unwrap();
                    g.subject = subject.map(Into::into);
                    g.description = description.map(Into::into);
                    vec![e]
                }
                Step::Change(field, to) => {
                    let mut e = new(Action::Gather);
                    e.get_mut::<payload::Gather>()
                        .unwrap()
                        .changes
                        .push(FieldChange {
                            field: field.to_string(),
                            old: None,
                            new: Some(to.to_string()),
                            extra: toml::Table::new(),
                        });
                    vec![e]
                }
                Step::Customer(name, email, phone) => {
                    let mut e = new(Action::Gather);
                    e.customer = Some(CustomerFields {
                        name: name.map(Into::into),
                        email: email.map(Into::into),
                        phone: phone.map(Into::into),
                        ..Default::default()
                    });
                    vec![e]
                }
                Step::Feedback(text) => {
                    let resolve = new(Action::Resolve);
                    let mut f = new(Action::FollowUp);
                    let p = f.get_mut::<payload::FollowUp>().unwrap();
                    p.response = Some(crate::model::enums::FollowUpResponse::Satisfied);
                    p.feedback = Some((*text).into());
                    vec![resolve, f]
                }
                Step::Reopen => vec![new(Action::Reopen)],
            }
        }

        /// Appends the events of `steps`, the first `minute` minutes after [`at`].
        fn append_all(case: &mut CaseFile, steps: &[Step], minute: u32) {
            for (i, s) in (minute..).zip(steps) {
                for e in event(s, i) {
                    case.append(e).unwrap();
                }
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(200))]

            /// Whatever the history, a sealed file reads back as the case that was written,
            /// a rewrite gives the same bytes (with or without what it takes to seal), and
            /// no value the events give is stored a second time in the projection.
            #[test]
            fn a_sealed_case_reads_back_as_written(
                earlier in prop::collection::vec(step(), 0..6),
                steps in prop::collection::vec(step(), 0..6),
            ) {
                let (_, mut ring, first) = sealed_case();
                let source = Arc::new(Source(Mutex::new(Vec::new())));
                // Written, read and opened once along the way, as a real case is: later
                // events are sealed in another write than the ones before them.
                let mut case = read_for_write(&first, &ring, &source);
                append_all(&mut case, &earlier, 1);
                let middle = case.to_toml();
                let mut case = read_for_write(&middle, &ring, &source);
                append_all(&mut case, &steps, 10);
                let text = case.to_toml();
                // A history may empty every personal value of the projection (an empty
                // value is not sealed): then there is nothing to give as the marker.
                let mut any_personal = false;
                case.clone()
                    .each_projected_personal_mut(&mut |_, v| any_personal |= !v.is_empty());
                prop_assert_eq!(text.contains(FROM_EVENTS), any_personal, "{}", text);
                for k in source.0.lock().unwrap().drain(..) {
                    ring.add(k, at());
                }
                let back = CaseFile::from_toml(&text).unwrap();
                prop_assert!(back.verify().unwrap(), "{}", text);
                prop_assert_eq!(back.to_toml(), text.clone(), "rewritten without a seal state");
                let mut opened = back.clone();
                let (_, memo, live) = open_case(&mut opened, &ring, Opening::Write).unwrap();
                opened.schema = case.schema;
                opened.seal = case.seal.clone();
                prop_assert_eq!(&opened, &case);
                let key = live_key(&ring, live);
                attach(&mut opened, source.clone(), key, memo);
                prop_assert_eq!(opened.to_toml(), text.clone(), "rewritten after opening");
                // Each subject, description and contact detail that replay gives is
                // written as the marker, never as a second copy.
                let mut stored = CaseFile::from_toml(&text).unwrap();
                let derived = replayed(&stored).unwrap();
                let raw: toml::Table = toml::from_str(&text).unwrap();
                with_replayed(&mut stored, &derived, |field, value, from_events| {
                    let table = match field {
                        "name" | "email" | "phone" => "customer",
                        "subject" | "description" => "case",
                        _ => return, // in sub-tables: [case.satisfaction], attachments
                    };
                    if seal::is_sealed(value) && from_events == Some(value) {
                        let written = raw[table].get(field).and_then(|v| v.as_str());
                        assert_eq!(written, Some(FROM_EVENTS), "{field} in {text}");
                    }
                });
            }
        }
    }
}
