//! The key ring's content: one key per case (labelled with its data subject), the ids of
//! erased keys, and the book's pseudonym secret. Pure data; `store::keyring` keeps it in
//! its own git ref.
//!
//! Format 3 (what this casebook writes; see `docs/PRIVACY.md`) splits the keys into at most
//! 1,024 buckets by characters 1..3 of the key id (after the `K`), so that finding one key
//! reads one small bucket, however many keys the ring holds, and keeps each bucket two
//! folders deep, by character 1 and then character 2, so that a change rewrites one bucket
//! and two trees of at most 32 entries, not one tree of 1,024. The ring commit's tree:
//!
//! ```text
//! ring.toml          format = 3, and the [pseudonyms] secret behind `export --redact`
//! keys/<b1>/<b2>     that bucket's keys, one a line, sorted by id:
//!                    <id> <created RFC 3339> <secret base64url> <subject>
//! erased/<b1>/<b2>   that bucket's erased key ids, one a line, sorted
//! ```
//!
//! A bucket's name is `<b1><b2>` (characters 1 and 2 of its key ids). A subject is the rest
//! of its line; `%`, CR and LF in it are written `%25`, `%0D`, `%0A`. An erased id stays
//! erased even where a line of its key appears again.
//!
//! Format 2 (the previous version's) has the same `ring.toml` and bucket files, one level
//! deep: `keys/<b1b2>`, `erased/<b1b2>`. It is read as it is, and rewritten as format 3 on
//! the next change.
//!
//! Format 1 (the one before) is one `keyring.toml`, read by [`KeyRing::parse`]:
//!
//! ```toml
//! format = 1
//! erased = ["K…"]
//!
//! [pseudonyms]
//! secret = "<base64url, 32 bytes>"
//! created = "2026-11-23T09:00:00Z"
//!
//! [[key]]
//! id = "K…"
//! subject = "customer:<keyed hash>"
//! secret = "<base64url, 32 bytes>"
//! created = "2026-11-23T09:00:00Z"
//! ```

use std::collections::{BTreeMap, BTreeSet};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::seal::{is_key_id, Key, Keys, Lookup, KEY_LEN};
use super::time::{format_utc, parse_rfc3339, utc};

/// The key ring format this casebook writes (and the newest it reads).
pub const FORMAT: u32 = 3;
/// The format of a ring whose buckets are one folder deep, `keys/<b1b2>` (read, and
/// rewritten as [`FORMAT`] on the next change).
pub const FORMAT_2: u32 = 2;
/// The format of a ring kept as one `keyring.toml` (read, and rewritten as [`FORMAT`] on
/// the next change).
pub const FORMAT_1: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the key ring is unreadable: {0}")]
pub struct KeyringError(pub String);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    key: Key,
    created: DateTime<Utc>,
}

/// The secret behind `export --redact` pseudonyms, one per case book.
#[derive(Clone, PartialEq, Eq)]
pub struct PseudonymSecret {
    secret: [u8; KEY_LEN],
    pub created: DateTime<Utc>,
}

impl std::fmt::Debug for PseudonymSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PseudonymSecret")
            .field("created", &self.created)
            .finish_non_exhaustive()
    }
}

impl PseudonymSecret {
    pub fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.secret
    }

    /// A new random secret.
    pub fn generate(now: DateTime<Utc>) -> PseudonymSecret {
        PseudonymSecret {
            secret: random_secret(),
            created: now,
        }
    }

    /// Of two clones' secrets the older one wins (ties: the smaller), so every clone
    /// settles on the same one.
    pub fn settle(
        a: Option<&PseudonymSecret>,
        b: Option<&PseudonymSecret>,
    ) -> Option<PseudonymSecret> {
        match (a, b) {
            (Some(a), Some(b)) => Some(if (b.created, b.secret) < (a.created, a.secret) {
                b.clone()
            } else {
                a.clone()
            }),
            (a, b) => a.or(b).cloned(),
        }
    }
}

/// The bucket a key id belongs to: its characters 1..3; `None` if `id` is not a key id.
pub fn bucket_of(id: &str) -> Option<&str> {
    is_key_id(id).then(|| &id[1..3])
}

/// Whether `name` can be a bucket's name (two characters of the key id alphabet).
pub fn is_bucket_name(name: &str) -> bool {
    name.len() == 2 && name.bytes().all(super::id::in_alphabet)
}

/// One bucket: the keys and erased ids whose id has the same characters 1..3.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bucket {
    keys: BTreeMap<String, Entry>,
    erased: BTreeSet<String>,
}

/// One key line, `<id> <created> <secret> <subject>`, or what is wrong with it.
fn parse_key_fields(line: &str) -> Result<(Key, DateTime<Utc>), String> {
    let mut parts = line.splitn(4, ' ');
    let (Some(id), Some(created), Some(secret), Some(subject)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("expected \"<id> <created> <secret> <subject>\"".into());
    };
    let created =
        parse_rfc3339(created).ok_or_else(|| format!("{created:?} is not an RFC 3339 time"))?;
    let secret = decode_secret(secret, &format!("key {id}")).map_err(|e| e.0)?;
    let key = Key::from_parts(id, &unescape_subject(subject), secret)
        .ok_or_else(|| format!("{id:?} is not a key id"))?;
    Ok((key, created))
}

/// One line of `keys/<name>` (line `n`, from 0): `<id> <created> <secret> <subject>`.
fn parse_key_line(name: &str, n: usize, line: &str) -> Result<(Key, DateTime<Utc>), KeyringError> {
    let bad = |what: &str| KeyringError(format!("keys/{name}, line {}: {what}", n + 1));
    let id = line.split(' ').next().unwrap_or_default();
    if bucket_of(id) != Some(name) {
        return Err(bad(&format!("{id:?} is not a key id of this bucket")));
    }
    parse_key_fields(line).map_err(|e| bad(&e))
}

/// Appends the line of `key`, made at `created`, as a bucket and the pending keys file
/// keep it: `<id> <created> <secret base64url> <subject>` and a newline.
pub fn push_key_line(out: &mut String, key: &Key, created: &DateTime<Utc>) {
    push_key_line_at(out, key, &format_utc(created));
}

/// [`push_key_line`] with the time already formatted (an import's keys share one).
fn push_key_line_at(out: &mut String, key: &Key, created: &str) {
    out.push_str(&key.id);
    out.push(' ');
    out.push_str(created);
    out.push(' ');
    URL_SAFE_NO_PAD.encode_string(key.secret(), out);
    out.push(' ');
    out.push_str(&escape_subject(&key.subject));
    out.push('\n');
}

/// The keys of a pending keys file (`file` names it in errors), one key line each, in
/// the order they were written. A last line without its newline is a write that was cut
/// short, whose transaction never committed anything sealed with it: it is passed over.
pub fn parse_pending(file: &str, bytes: &[u8]) -> Result<Vec<(Key, DateTime<Utc>)>, KeyringError> {
    let text = std::str::from_utf8(whole_lines(bytes))
        .map_err(|_| KeyringError(format!("{file} is not UTF-8")))?;
    text.lines()
        .enumerate()
        .map(|(n, line)| {
            parse_key_fields(line).map_err(|e| KeyringError(format!("{file}, line {}: {e}", n + 1)))
        })
        .collect()
}

/// Checks that every whole line of a pending keys file has the shape of a key line (an
/// id and three more fields), without parsing the keys: what [`find_pending`] and
/// [`parse_pending`] find wrong inside a line they report when they read it.
pub fn check_pending(file: &str, bytes: &[u8]) -> Result<(), KeyringError> {
    let whole = whole_lines(bytes);
    std::str::from_utf8(whole).map_err(|_| KeyringError(format!("{file} is not UTF-8")))?;
    let mut start = 0;
    for (n, end) in memchr::memchr_iter(b'\n', whole).enumerate() {
        let line = &whole[start..end];
        start = end + 1;
        let id_end = memchr::memchr(b' ', line).unwrap_or(line.len());
        // Checked UTF-8 above, and a space is one byte.
        let id = std::str::from_utf8(&line[..id_end]).unwrap_or_default();
        let fields = memchr::memchr_iter(b' ', line).take(3).count();
        let what = if fields < 3 {
            "expected \"<id> <created> <secret> <subject>\"".to_string()
        } else if !is_key_id(id) {
            format!("{id:?} is not a key id")
        } else {
            continue;
        };
        return Err(KeyringError(format!("{file}, line {}: {what}", n + 1)));
    }
    Ok(())
}

/// What a pending keys file says about `key_id` (`Present` or `Unknown`), reading only
/// the key's line, as [`parse_pending`] would read it: a command that looks up one key
/// need not parse some 500.
pub fn find_pending(file: &str, bytes: &[u8], key_id: &str) -> Result<Lookup, KeyringError> {
    let whole = whole_lines(bytes);
    let id = key_id.as_bytes();
    let found = memchr::memmem::find_iter(whole, id)
        .find(|&at| (at == 0 || whole[at - 1] == b'\n') && whole.get(at + id.len()) == Some(&b' '));
    let Some(start) = found else {
        return Ok(Lookup::Unknown);
    };
    let end = memchr::memchr(b'\n', &whole[start..]).map_or(whole.len(), |e| start + e);
    let bad = |e: &str| {
        let n = memchr::memchr_iter(b'\n', &whole[..start]).count();
        KeyringError(format!("{file}, line {}: {e}", n + 1))
    };
    let line = std::str::from_utf8(&whole[start..end]).map_err(|_| bad("not UTF-8"))?;
    let (key, _) = parse_key_fields(line).map_err(|e| bad(&e))?;
    Ok(Lookup::Present(key))
}

/// `bytes` up to its last newline: a last line without one was cut short.
fn whole_lines(bytes: &[u8]) -> &[u8] {
    match bytes.iter().rposition(|b| *b == b'\n') {
        Some(end) => &bytes[..=end],
        None => &[],
    }
}

fn escape_subject(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains(['%', '\n', '\r']) {
        s.replace('%', "%25")
            .replace('\n', "%0A")
            .replace('\r', "%0D")
            .into()
    } else {
        s.into()
    }
}

fn unescape_subject(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains('%') {
        s.replace("%0A", "\n")
            .replace("%0D", "\r")
            .replace("%25", "%")
            .into()
    } else {
        s.into()
    }
}

impl Bucket {
    /// A bucket from the texts of `keys/<name>` and `erased/<name>` (empty when absent).
    pub fn parse(name: &str, keys: &[u8], erased: &[u8]) -> Result<Bucket, KeyringError> {
        let text = |bytes, file: &str| {
            std::str::from_utf8(bytes)
                .map_err(|_| KeyringError(format!("{file}/{name} is not UTF-8")))
        };
        let mut bucket = Bucket::default();
        for (n, line) in text(erased, "erased")?.lines().enumerate() {
            if bucket_of(line) != Some(name) {
                return Err(KeyringError(format!(
                    "erased/{name}, line {}: {line:?} is not a key id of this bucket",
                    n + 1
                )));
            }
            bucket.erased.insert(line.to_string());
        }
        for (n, line) in text(keys, "keys")?.lines().enumerate() {
            let (key, created) = parse_key_line(name, n, line)?;
            // An erased key that came back (a hand edit, an old copy) stays erased.
            if !bucket.erased.contains(&key.id) {
                bucket.keys.insert(key.id.clone(), Entry { key, created });
            }
        }
        Ok(bucket)
    }

    /// What the texts of bucket `name` say about `key_id`, reading only its line (one
    /// lookup need not parse the whole bucket).
    pub fn find(
        name: &str,
        keys: &[u8],
        erased: &[u8],
        key_id: &str,
    ) -> Result<Lookup, KeyringError> {
        let id = key_id.as_bytes();
        if erased.split(|b| *b == b'\n').any(|l| l == id) {
            return Ok(Lookup::Erased);
        }
        let found = keys
            .split(|b| *b == b'\n')
            .enumerate()
            .find(|(_, l)| l.len() > id.len() && l.starts_with(id) && l[id.len()] == b' ');
        let Some((n, line)) = found else {
            return Ok(Lookup::Unknown);
        };
        let line = std::str::from_utf8(line)
            .map_err(|_| KeyringError(format!("keys/{name}, line {}: not UTF-8", n + 1)))?;
        let (key, _) = parse_key_line(name, n, line)?;
        Ok(Lookup::Present(key))
    }

    /// The text of `keys/<name>`.
    pub fn keys_text(&self) -> String {
        let mut out = String::with_capacity(self.keys.len() * 120);
        // The last creation time and its text.
        let mut time: (Option<DateTime<Utc>>, String) = (None, String::new());
        for e in self.keys.values() {
            if time.0 != Some(e.created) {
                time = (Some(e.created), format_utc(&e.created));
            }
            push_key_line_at(&mut out, &e.key, &time.1);
        }
        out
    }

    /// The text of `erased/<name>`.
    pub fn erased_text(&self) -> String {
        let mut out = String::with_capacity(self.erased.len() * 18);
        for id in &self.erased {
            out.push_str(id);
            out.push('\n');
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.erased.is_empty()
    }

    pub fn has_keys(&self) -> bool {
        !self.keys.is_empty()
    }

    pub fn has_erased(&self) -> bool {
        !self.erased.is_empty()
    }

    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        self.keys.values().map(|e| &e.key)
    }

    pub fn is_erased(&self, key_id: &str) -> bool {
        self.erased.contains(key_id)
    }

    /// Whether the bucket has the key `key_id`.
    pub fn has(&self, key_id: &str) -> bool {
        self.keys.contains_key(key_id)
    }

    pub fn lookup(&self, key_id: &str) -> Lookup {
        if self.erased.contains(key_id) {
            return Lookup::Erased;
        }
        self.keys
            .get(key_id)
            .map_or(Lookup::Unknown, |e| Lookup::Present(e.key.clone()))
    }

    /// Adds a key (of this bucket); `false` (and nothing changed) if its id was erased or
    /// is already here.
    pub fn add(&mut self, key: Key, created: DateTime<Utc>) -> bool {
        if self.erased.contains(&key.id) {
            return false;
        }
        match self.keys.entry(key.id.clone()) {
            std::collections::btree_map::Entry::Occupied(_) => false,
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(Entry { key, created });
                true
            }
        }
    }

    /// Destroys one key for good: removed, its id recorded as erased. Returns whether the
    /// bucket had it.
    pub fn erase(&mut self, key_id: &str) -> bool {
        self.erased.insert(key_id.to_string());
        self.keys.remove(key_id).is_some()
    }

    /// Whether some key of `self` or `other` is erased in `merged` (a key was removed).
    pub fn lost_a_key(&self, merged: &Bucket) -> bool {
        self.keys.keys().any(|id| merged.erased.contains(id))
    }

    /// The keys of `self` that `merged` erased, with their subjects: keys another clone
    /// erased. When that was an erasure of a customer, this clone's other keys of the same
    /// subject (of cases that clone never saw) are to go too.
    pub fn keys_lost<'a>(
        &'a self,
        merged: &'a Bucket,
    ) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.keys
            .iter()
            .filter(|(id, _)| merged.erased.contains(*id))
            .map(|(id, e)| (id.as_str(), e.key.subject.as_str()))
    }

    /// The union of two buckets' keys minus every key either side erased.
    pub fn merge(&self, other: &Bucket) -> Bucket {
        let erased: BTreeSet<String> = self.erased.union(&other.erased).cloned().collect();
        let mut keys = self.keys.clone();
        for (id, e) in &other.keys {
            keys.entry(id.clone()).or_insert_with(|| e.clone());
        }
        keys.retain(|id, _| !erased.contains(id));
        Bucket { keys, erased }
    }
}

impl Keys for Bucket {
    fn lookup(&self, key_id: &str) -> Lookup {
        Bucket::lookup(self, key_id)
    }
}

/// What `ring.toml` holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub pseudonyms: Option<PseudonymSecret>,
}

#[derive(Deserialize)]
struct FormatOnly {
    format: u32,
}

#[derive(Serialize, Deserialize)]
struct HeaderForm {
    format: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pseudonyms: Option<SecretForm>,
}

/// The format a ring file says it has; a clear error for one newer than this casebook's.
fn check_format(text: &str, file: &str) -> Result<u32, KeyringError> {
    let form: FormatOnly =
        toml::from_str(text).map_err(|e| KeyringError(format!("{file}: {e}")))?;
    if form.format > FORMAT {
        return Err(KeyringError(format!(
            "{file} has format {}, this casebook reads key ring formats {FORMAT_1} to {FORMAT}: upgrade casebook",
            form.format
        )));
    }
    Ok(form.format)
}

impl Header {
    pub fn parse(bytes: &[u8]) -> Result<Header, KeyringError> {
        Header::parse_with_format(bytes).map(|(_, header)| header)
    }

    /// The header and the format it says ([`FORMAT_2`] or [`FORMAT`]: the formats that
    /// have a `ring.toml`).
    pub fn parse_with_format(bytes: &[u8]) -> Result<(u32, Header), KeyringError> {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| KeyringError("ring.toml is not UTF-8".into()))?;
        let format = check_format(text, "ring.toml")?;
        if format != FORMAT && format != FORMAT_2 {
            return Err(KeyringError(format!(
                "ring.toml says format {format}, but only a format {FORMAT_2} or {FORMAT} ring has a ring.toml"
            )));
        }
        let form: HeaderForm =
            toml::from_str(text).map_err(|e| KeyringError(format!("ring.toml: {e}")))?;
        let header = Header {
            pseudonyms: form.pseudonyms.map(|p| p.decode()).transpose()?,
        };
        Ok((format, header))
    }

    pub fn to_toml(&self) -> String {
        toml::to_string(&HeaderForm {
            format: FORMAT,
            pseudonyms: self.pseudonyms.as_ref().map(SecretForm::encode),
        })
        .expect("a key ring header always serialises")
    }
}

#[derive(Serialize, Deserialize)]
struct FileForm {
    format: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    erased: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pseudonyms: Option<SecretForm>,
    #[serde(default, rename = "key", skip_serializing_if = "Vec::is_empty")]
    keys: Vec<KeyForm>,
}

#[derive(Serialize, Deserialize)]
struct SecretForm {
    secret: String,
    #[serde(with = "utc")]
    created: DateTime<Utc>,
}

impl SecretForm {
    fn encode(p: &PseudonymSecret) -> SecretForm {
        SecretForm {
            secret: URL_SAFE_NO_PAD.encode(p.secret),
            created: p.created,
        }
    }

    fn decode(self) -> Result<PseudonymSecret, KeyringError> {
        Ok(PseudonymSecret {
            secret: decode_secret(&self.secret, "[pseudonyms]")?,
            created: self.created,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct KeyForm {
    id: String,
    subject: String,
    secret: String,
    #[serde(with = "utc")]
    created: DateTime<Utc>,
}

fn decode_secret(text: &str, what: &str) -> Result<[u8; KEY_LEN], KeyringError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .ok()
        .and_then(|b| <[u8; KEY_LEN]>::try_from(b.as_slice()).ok())
        .ok_or_else(|| {
            KeyringError(format!(
                "{what}: the secret is not {KEY_LEN} bytes of base64url"
            ))
        })
}

fn random_secret() -> [u8; KEY_LEN] {
    let mut secret = [0u8; KEY_LEN];
    super::random::fill(&mut secret);
    secret
}

/// A whole key ring in memory: every bucket (none empty) and the pseudonym secret. For
/// what reads or changes most of the ring (merging, erasing a subject, tests); one lookup
/// or one added key goes through `store::RingReader` and `Store::add_keys`, which read
/// only the buckets they need.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyRing {
    buckets: BTreeMap<String, Bucket>,
    pseudonyms: Option<PseudonymSecret>,
}

impl KeyRing {
    pub fn new() -> KeyRing {
        KeyRing::default()
    }

    /// A ring from its parts; empty buckets are dropped.
    pub fn from_parts(
        buckets: impl IntoIterator<Item = (String, Bucket)>,
        pseudonyms: Option<PseudonymSecret>,
    ) -> KeyRing {
        KeyRing {
            buckets: buckets.into_iter().filter(|(_, b)| !b.is_empty()).collect(),
            pseudonyms,
        }
    }

    /// The buckets, by name (none empty).
    pub fn buckets(&self) -> &BTreeMap<String, Bucket> {
        &self.buckets
    }

    /// A format 1 ring: one `keyring.toml`.
    pub fn parse(bytes: &[u8]) -> Result<KeyRing, KeyringError> {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| KeyringError("keyring.toml is not UTF-8".into()))?;
        let format = check_format(text, "keyring.toml")?;
        if format != FORMAT_1 {
            return Err(KeyringError(format!(
                "keyring.toml says format {format}, but only a format {FORMAT_1} ring has a keyring.toml"
            )));
        }
        let form: FileForm =
            toml::from_str(text).map_err(|e| KeyringError(format!("keyring.toml: {e}")))?;
        let mut ring = KeyRing::new();
        for id in form.erased {
            let Some(name) = bucket_of(&id) else {
                return Err(KeyringError(format!(
                    "keyring.toml: erased {id:?} is not a key id"
                )));
            };
            ring.buckets
                .entry(name.to_string())
                .or_default()
                .erased
                .insert(id);
        }
        ring.pseudonyms = form.pseudonyms.map(SecretForm::decode).transpose()?;
        for k in form.keys {
            let secret = decode_secret(&k.secret, &format!("key {}", k.id))?;
            let key = Key::from_parts(&k.id, &k.subject, secret)
                .ok_or_else(|| KeyringError(format!("{:?} is not a key id", k.id)))?;
            ring.add(key, k.created);
        }
        Ok(ring)
    }

    /// The ring as a format 1 `keyring.toml`, as an older casebook wrote it (this one
    /// writes format 3; kept to make format 1 rings in tests).
    pub fn to_format_1_toml(&self) -> String {
        let form = FileForm {
            format: FORMAT_1,
            erased: self.erased().map(str::to_string).collect(),
            pseudonyms: self.pseudonyms.as_ref().map(SecretForm::encode),
            keys: self
                .buckets
                .values()
                .flat_map(|b| b.keys.values())
                .map(|e| KeyForm {
                    id: e.key.id.clone(),
                    subject: e.key.subject.clone(),
                    secret: URL_SAFE_NO_PAD.encode(e.key.secret()),
                    created: e.created,
                })
                .collect(),
        };
        toml::to_string(&form).expect("a key ring always serialises")
    }

    /// The `ring.toml` of this ring.
    pub fn header(&self) -> Header {
        Header {
            pseudonyms: self.pseudonyms.clone(),
        }
    }

    /// The keys, in id order.
    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        self.buckets.values().flat_map(Bucket::keys)
    }

    pub fn erased(&self) -> impl Iterator<Item = &str> {
        self.buckets
            .values()
            .flat_map(|b| b.erased.iter().map(String::as_str))
    }

    pub fn is_erased(&self, key_id: &str) -> bool {
        bucket_of(key_id)
            .and_then(|name| self.buckets.get(name))
            .is_some_and(|b| b.is_erased(key_id))
    }

    /// Adds a key; `false` (and nothing changed) if its id was erased or is already here.
    pub fn add(&mut self, key: Key, created: DateTime<Utc>) -> bool {
        let name = bucket_of(&key.id)
            .expect("a Key always has a valid id")
            .to_string();
        self.buckets.entry(name).or_default().add(key, created)
    }

    /// The key that seals new values of `subject`: its oldest one (two clones may each have
    /// made one before they synced; both then stay valid for what they sealed).
    pub fn key_for(&self, subject: &str) -> Option<&Key> {
        self.buckets
            .values()
            .flat_map(|b| b.keys.values())
            .filter(|e| e.key.subject == subject)
            .min_by(|a, b| (a.created, &a.key.id).cmp(&(b.created, &b.key.id)))
            .map(|e| &e.key)
    }

    /// The subject's key, made and added if it has none yet.
    pub fn key_for_or_new(&mut self, subject: &str, now: DateTime<Utc>) -> &Key {
        if self.key_for(subject).is_none() {
            let key = Key::generate(subject);
            self.add(key, now);
        }
        self.key_for(subject).expect("just added")
    }

    /// Destroys one key, for good: it is removed and its id recorded as erased. Returns
    /// whether the ring had it. Something that is not a key id is never a key: `false`,
    /// nothing recorded.
    pub fn erase(&mut self, key_id: &str) -> bool {
        let Some(name) = bucket_of(key_id) else {
            return false;
        };
        self.buckets
            .entry(name.to_string())
            .or_default()
            .erase(key_id)
    }

    /// Destroys every key of `subject`; returns their ids.
    pub fn erase_subject(&mut self, subject: &str) -> Vec<String> {
        let ids: Vec<String> = self
            .keys()
            .filter(|k| k.subject == subject)
            .map(|k| k.id.clone())
            .collect();
        for id in &ids {
            self.erase(id);
        }
        ids
    }

    /// The merge of two rings: the union of their keys minus every key either side erased,
    /// bucket by bucket. Of two pseudonym secrets the older one wins (ties: the smaller),
    /// so every clone settles on the same one.
    pub fn merge(&self, other: &KeyRing) -> KeyRing {
        let empty = Bucket::default();
        let names: BTreeSet<&String> = self.buckets.keys().chain(other.buckets.keys()).collect();
        let buckets = names.into_iter().map(|name| {
            let a = self.buckets.get(name).unwrap_or(&empty);
            let b = other.buckets.get(name).unwrap_or(&empty);
            (name.clone(), a.merge(b))
        });
        KeyRing::from_parts(
            buckets.collect::<Vec<_>>(),
            PseudonymSecret::settle(self.pseudonyms.as_ref(), other.pseudonyms.as_ref()),
        )
    }

    pub fn pseudonym_secret(&self) -> Option<&PseudonymSecret> {
        self.pseudonyms.as_ref()
    }

    /// Makes the book's pseudonym secret if there is none; returns whether it made one.
    pub fn ensure_pseudonym_secret(&mut self, now: DateTime<Utc>) -> bool {
        if self.pseudonyms.is_some() {
            return false;
        }
        self.pseudonyms = Some(PseudonymSecret::generate(now));
        true
    }
}

impl Keys for KeyRing {
    fn lookup(&self, key_id: &str) -> Lookup {
        bucket_of(key_id)
            .and_then(|name| self.buckets.get(name))
            .map_or(Lookup::Unknown, |b| b.lookup(key_id))
    }
}

/// HMAC-SHA256 of `data` under `secret`, as lower-case hex (64 characters).
pub fn keyed_digest(secret: &[u8], data: &[u8]) -> String {
    let mut mac = keyed(secret);
    hmac::Mac::update(&mut mac, data);
    hex_of(&hmac::Mac::finalize(mac).into_bytes(), 64)
}

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

fn keyed(secret: &[u8]) -> HmacSha256 {
    <HmacSha256 as hmac::Mac>::new_from_slice(secret).expect("HMAC takes a key of any length")
}

/// The first `len` lower-case hex digits of `bytes`.
fn hex_of(bytes: &[u8], len: usize) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(len);
    for b in bytes {
        for nibble in [b >> 4, b & 15] {
            if hex.len() < len {
                hex.push(char::from(DIGITS[usize::from(nibble)]));
            }
        }
    }
    hex
}

/// The key-ring subject of a customer known by `contact` (an e-mail address or phone
/// number): a keyed hash, so the ring never holds the contact itself.
pub fn customer_subject(secret: &PseudonymSecret, contact: &str) -> String {
    Subjects::new(secret).of(contact)
}

/// [`customer_subject`] for many contacts under one secret: the HMAC is keyed once, and
/// each subject costs the hash of the contact alone (an import gives 100k cases their
/// subjects).
#[derive(Clone)]
pub struct Subjects(HmacSha256);

impl Subjects {
    pub fn new(secret: &PseudonymSecret) -> Subjects {
        Subjects(keyed(secret.bytes()))
    }

    /// The subject of the customer known by `contact`: the same, whatever its letter
    /// case and surrounding space, and for a phone number (no `@`) whatever its spacing
    /// and punctuation (its digits and a leading `+`), as `erase --customer` looks it up.
    pub fn of(&self, contact: &str) -> String {
        let contact = contact.trim();
        let changed;
        let normalised = if !contact.contains('@') {
            changed = contact
                .chars()
                .filter(|c| c.is_ascii_digit() || *c == '+')
                .collect::<String>();
            changed.as_str()
        } else if contact
            .bytes()
            .any(|b| b.is_ascii_uppercase() || !b.is_ascii())
        {
            changed = contact.to_lowercase();
            changed.as_str()
        } else {
            contact
        };
        let mut mac = self.0.clone();
        hmac::Mac::update(&mut mac, b"subject\0");
        hmac::Mac::update(&mut mac, normalised.as_bytes());
        let mut subject = String::with_capacity(41);
        subject.push_str("customer:");
        subject.push_str(&hex_of(&hmac::Mac::finalize(mac).into_bytes(), 32));
        subject
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::seal::{open, seal, SealError};

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    /// A lookup in a pending keys file finds what parsing it whole finds, reading only the
    /// key's line: a line cut short is no key, and a bad line elsewhere does not matter.
    #[test]
    fn a_pending_key_is_found_by_its_line_alone_as_the_whole_file_reads_it() {
        let created = at("2026-11-23T09:00:00Z");
        let keys: Vec<Key> = (0..5)
            .map(|i| Key::generate(&format!("customer:{i}%\n")))
            .collect();
        let mut text = String::new();
        for k in &keys {
            push_key_line(&mut text, k, &created);
        }
        let cut = Key::generate("customer:cut");
        let mut line = String::new();
        push_key_line(&mut line, &cut, &created);
        let mut bytes = text.clone().into_bytes();
        bytes.extend_from_slice(line.trim_end().as_bytes());
        let whole = parse_pending("p", &bytes).unwrap();
        assert_eq!(whole.len(), keys.len());
        for (k, _) in &whole {
            assert_eq!(
                find_pending("p", &bytes, &k.id).unwrap(),
                Lookup::Present(k.clone())
            );
        }
        assert_eq!(find_pending("p", &bytes, &cut.id).unwrap(), Lookup::Unknown);
        let other = crate::model::seal::new_key_id();
        assert_eq!(find_pending("p", &bytes, &other).unwrap(), Lookup::Unknown);
        assert!(check_pending("p", &bytes).is_ok());
        // A line that is not a key line fails the check, naming the file and line.
        let garbage = format!("{text}not a key line\n");
        let e = check_pending("p", garbage.as_bytes()).unwrap_err();
        assert!(e.0.starts_with("p, line 6: "), "{}", e.0);
        // A key line damaged inside: the whole file no longer parses, its other keys are
        // still found, and looking up the damaged one is an error naming the file and line.
        let damaged = text.replacen(&keys[1].id, &format!("{} x", keys[1].id), 1);
        assert!(check_pending("p", damaged.as_bytes()).is_ok());
        assert!(parse_pending("p", damaged.as_bytes()).is_err());
        assert_eq!(
            find_pending("p", damaged.as_bytes(), &keys[3].id).unwrap(),
            Lookup::Present(keys[3].clone())
        );
        let e = find_pending("p", damaged.as_bytes(), &keys[1].id).unwrap_err();
        assert!(e.0.starts_with("p, line 2: "), "{}", e.0);
    }

    #[test]
    fn a_ring_round_trips_through_toml_without_losing_a_key() {
        let mut ring = KeyRing::new();
        ring.ensure_pseudonym_secret(at("2026-11-23T09:00:00Z"));
        let ada = ring
            .key_for_or_new("customer:ada", at("2026-11-23T09:00:00Z"))
            .clone();
        ring.key_for_or_new("customer:bob", at("2026-11-23T09:01:00Z"));
        ring.erase(&crate::model::seal::new_key_id());
        let text = ring.to_format_1_toml();
        assert!(text.starts_with("format = 1"), "{text}");
        let back = KeyRing::parse(text.as_bytes()).unwrap();
        assert_eq!(back, ring);
        let sealed = seal(&ada, "CB-1", "customer.name", "Ada");
        assert_eq!(
            open(&back, "CB-1", "customer.name", &sealed).unwrap(),
            "Ada"
        );
    }

    #[test]
    fn a_subject_keeps_its_oldest_key_and_erasure_is_final() {
        let mut ring = KeyRing::new();
        let first = ring.key_for_or_new("s", at("2026-11-23T09:00:00Z")).clone();
        let later = Key::generate("s");
        assert!(ring.add(later.clone(), at("2026-11-23T10:00:00Z")));
        assert_eq!(ring.key_for("s").unwrap().id, first.id);
        let sealed = seal(&later, "CB-1", "f", "x");
        let erased = ring.erase_subject("s");
        assert_eq!(erased.len(), 2);
        assert!(ring.key_for("s").is_none());
        assert!(
            !ring.add(later.clone(), at("2026-11-23T11:00:00Z")),
            "an erased key came back"
        );
        assert!(matches!(
            open(&ring, "CB-1", "f", &sealed),
            Err(SealError::Erased { .. })
        ));
    }

    #[test]
    fn merge_is_the_union_minus_what_either_side_erased() {
        let mut base = KeyRing::new();
        let ada = base
            .key_for_or_new("ada", at("2026-11-23T09:00:00Z"))
            .clone();
        let bob = base
            .key_for_or_new("bob", at("2026-11-23T09:00:00Z"))
            .clone();
        let (mut left, mut right) = (base.clone(), base.clone());
        left.erase(&ada.id);
        let cy = right
            .key_for_or_new("cy", at("2026-11-23T09:05:00Z"))
            .clone();
        for merged in [left.merge(&right), right.merge(&left)] {
            let ids: Vec<&str> = merged.keys().map(|k| k.id.as_str()).collect();
            assert!(!ids.contains(&ada.id.as_str()), "the erased key came back");
            assert!(ids.contains(&bob.id.as_str()) && ids.contains(&cy.id.as_str()));
            assert!(merged.is_erased(&ada.id));
        }
        assert_eq!(left.merge(&right), right.merge(&left));
    }

    #[test]
    fn two_clones_settle_on_one_pseudonym_secret() {
        let (mut a, mut b) = (KeyRing::new(), KeyRing::new());
        a.ensure_pseudonym_secret(at("2026-11-23T09:00:00Z"));
        b.ensure_pseudonym_secret(at("2026-11-23T08:00:00Z"));
        let merged = a.merge(&b);
        assert_eq!(merged.pseudonym_secret(), b.pseudonym_secret());
        assert_eq!(b.merge(&a).pseudonym_secret(), b.pseudonym_secret());
    }

    #[test]
    fn a_hand_edited_ring_is_a_clear_error_and_an_erased_key_stays_erased() {
        for (text, says) in [
            ("format = 2", "format 2"),
            ("format = 3", "format 3"),
            ("format = 4", "upgrade casebook"),
            ("format = 1\n[[key]]\nid = \"x\"\nsubject = \"s\"\nsecret = \"AA\"\ncreated = \"2026-11-23T09:00:00Z\"", "secret"),
            ("not toml [", "keyring.toml"),
        ] {
            let e = KeyRing::parse(text.as_bytes()).unwrap_err();
            assert!(e.to_string().contains(says), "{text}: {e}");
        }
        let mut ring = KeyRing::new();
        let k = ring.key_for_or_new("s", at("2026-11-23T09:00:00Z")).clone();
        let mut text = ring.to_format_1_toml();
        text = text.replacen(
            "format = 1",
            &format!("format = 1\nerased = [\"{}\"]", k.id),
            1,
        );
        let back = KeyRing::parse(text.as_bytes()).unwrap();
        assert!(back.key_for("s").is_none());
    }

    #[test]
    fn keyed_digest_is_hmac_sha256() {
        // RFC 4231, test case 2.
        assert_eq!(
            keyed_digest(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    /// The subjects already in key rings must not change: the keyed-once hasher gives
    /// what the plain formula gives, for ASCII, upper case, spaces and non-ASCII text.
    #[test]
    fn subjects_keyed_once_are_the_subjects_of_the_formula() {
        let mut ring = KeyRing::new();
        ring.ensure_pseudonym_secret(at("2026-11-23T09:00:00Z"));
        let secret = ring.pseudonym_secret().unwrap();
        let subjects = Subjects::new(secret);
        for (contact, normalised) in [
            ("ada@example.com", "ada@example.com"),
            (" Ada@Example.COM ", "ada@example.com"),
            ("+49 30 1234", "+49301234"),
            ("(030) 12-34", "0301234"),
            ("ÉMILE@exemple.fr", "émile@exemple.fr"),
            ("", ""),
        ] {
            let formula = format!(
                "customer:{}",
                &keyed_digest(secret.bytes(), format!("subject\0{normalised}").as_bytes())[..32]
            );
            assert_eq!(subjects.of(contact), formula, "{contact:?}");
            assert_eq!(customer_subject(secret, contact), formula);
        }
        // One number however it was typed: the subject `erase --customer` looks up.
        assert_eq!(subjects.of("+1 555 0100"), subjects.of("+15550100"));
    }

    #[test]
    fn customer_subjects_are_keyed_and_ignore_letter_case() {
        let mut ring = KeyRing::new();
        ring.ensure_pseudonym_secret(at("2026-11-23T09:00:00Z"));
        let s = ring.pseudonym_secret().unwrap();
        let a = customer_subject(s, "Ada@Example.com ");
        assert_eq!(a, customer_subject(s, "ada@example.com"));
        assert!(!a.contains("ada"));
        let mut other = KeyRing::new();
        other.ensure_pseudonym_secret(at("2026-11-23T09:00:00Z"));
        assert_ne!(
            a,
            customer_subject(other.pseudonym_secret().unwrap(), "ada@example.com")
        );
    }

    #[test]
    fn a_bucket_round_trips_through_its_lines_with_any_subject() {
        let mut ring = KeyRing::new();
        for subject in ["customer:abc", "two words", "odd %0A\nsubject\r%", ""] {
            ring.add(Key::generate(subject), at("2026-11-23T09:00:00.123Z"));
        }
        let k = Key::generate("x");
        ring.add(k.clone(), at("2026-11-23T09:00:00Z"));
        ring.erase(&k.id);
        for (name, bucket) in ring.buckets() {
            let keys = bucket.keys_text();
            let erased = bucket.erased_text();
            assert!(keys.lines().all(|l| l.starts_with(&format!("K{name}"))));
            let back = Bucket::parse(name, keys.as_bytes(), erased.as_bytes()).unwrap();
            assert_eq!(&back, bucket);
            for key in bucket.keys() {
                let found = Bucket::find(name, keys.as_bytes(), erased.as_bytes(), &key.id);
                assert_eq!(found.unwrap(), Lookup::Present(key.clone()));
            }
        }
        // An erased key's line that came back stays erased.
        let name = bucket_of(&k.id).unwrap();
        let line = format!(
            "{} 2026-11-23T09:00:00Z {} s\n",
            k.id,
            URL_SAFE_NO_PAD.encode(k.secret())
        );
        let back = Bucket::parse(name, line.as_bytes(), format!("{}\n", k.id).as_bytes()).unwrap();
        assert!(matches!(back.lookup(&k.id), Lookup::Erased));
        assert!(!back.has_keys());
        let found = Bucket::find(
            name,
            line.as_bytes(),
            format!("{}\n", k.id).as_bytes(),
            &k.id,
        );
        assert_eq!(found.unwrap(), Lookup::Erased);
        let found = Bucket::find(name, line.as_bytes(), b"", &k.id);
        let as_written = Key::from_parts(&k.id, "s", *k.secret()).unwrap();
        assert_eq!(found.unwrap(), Lookup::Present(as_written));
        // Another id in the same bucket (its last character changed; one in 32 random ids
        // ends in X already).
        let last = if k.id.ends_with('X') { 'Y' } else { 'X' };
        let other = format!("{}{last}", &k.id[..16]);
        assert_eq!(
            Bucket::find(name, line.as_bytes(), b"", &other).unwrap(),
            Lookup::Unknown
        );
    }

    #[test]
    fn a_damaged_bucket_is_a_clear_error_naming_file_and_line() {
        let k = Key::generate("s");
        let name = bucket_of(&k.id).unwrap();
        let other = if name == "00" { "11" } else { "00" };
        let good = format!(
            "{} 2026-11-23T09:00:00Z {} s",
            k.id,
            URL_SAFE_NO_PAD.encode(k.secret())
        );
        for (keys, erased, says) in [
            (good.clone(), String::new(), None),
            ("garbage".to_string(), String::new(), Some("line 1")),
            (
                format!(
                    "{good}\n{}",
                    good.replace("2026-11-23T09:00:00Z", "yesterday")
                ),
                String::new(),
                Some("line 2"),
            ),
            (
                good.replace(&URL_SAFE_NO_PAD.encode(k.secret()), "AA"),
                String::new(),
                Some("secret"),
            ),
            (String::new(), "KNOTANID".to_string(), Some("erased/")),
        ] {
            match (
                Bucket::parse(name, keys.as_bytes(), erased.as_bytes()),
                says,
            ) {
                (Ok(_), None) => {}
                (Err(e), Some(says)) => {
                    assert!(e.to_string().contains(says), "{e}");
                    assert!(e.to_string().contains(name), "{e}");
                }
                (r, _) => panic!("{keys:?}: {r:?}"),
            }
        }
        let e = Bucket::parse(other, good.as_bytes(), b"").unwrap_err();
        assert!(e.to_string().contains("not a key id of this bucket"), "{e}");
    }

    #[test]
    fn a_ring_header_round_trips_and_a_newer_one_is_refused() {
        let mut ring = KeyRing::new();
        ring.ensure_pseudonym_secret(at("2026-11-23T09:00:00Z"));
        let text = ring.header().to_toml();
        assert!(text.starts_with("format = 3"), "{text}");
        assert_eq!(
            Header::parse_with_format(text.as_bytes()).unwrap(),
            (FORMAT, ring.header())
        );
        // A format 2 header is the same but for its number.
        let old = text.replacen("format = 3", "format = 2", 1);
        assert_eq!(
            Header::parse_with_format(old.as_bytes()).unwrap(),
            (FORMAT_2, ring.header())
        );
        let e = Header::parse(b"format = 1").unwrap_err();
        assert!(e.to_string().contains("format 1"), "{e}");
        let e = Header::parse(b"format = 4\n[pseudonyms]\nsomething = \"else\"").unwrap_err();
        assert!(e.to_string().contains("upgrade casebook"), "{e}");
    }
}
