//! The key ring's content: one key per data subject, the ids of erased keys, and the
//! book's pseudonym secret. Pure data; `store::keyring` keeps it in its own git ref.
//!
//! Stored as one TOML file (see `docs/PRIVACY.md`):
//!
//! ```toml
//! format = 1
//! erased = ["K…"]          # keys destroyed for good: never taken back from another clone
//!
//! [pseudonyms]             # the secret behind `export --redact`
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

use super::seal::{Key, Keys, Lookup, KEY_LEN};
use super::time::utc;

/// The key ring format this casebook writes and reads.
pub const FORMAT: u32 = 1;

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
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyRing {
    keys: BTreeMap<String, Entry>,
    erased: BTreeSet<String>,
    pseudonyms: Option<PseudonymSecret>,
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
    getrandom::fill(&mut secret).expect("the operating system's random generator is available");
    secret
}

impl KeyRing {
    pub fn new() -> KeyRing {
        KeyRing::default()
    }

    pub fn parse(bytes: &[u8]) -> Result<KeyRing, KeyringError> {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| KeyringError("keyring.toml is not UTF-8".into()))?;
        let form: FileForm =
            toml::from_str(text).map_err(|e| KeyringError(format!("keyring.toml: {e}")))?;
        if form.format != FORMAT {
            return Err(KeyringError(format!(
                "keyring.toml has format {}, this casebook reads format {FORMAT}: upgrade casebook",
                form.format
            )));
        }
        let mut ring = KeyRing {
            erased: form.erased.into_iter().collect(),
            ..KeyRing::default()
        };
        if let Some(p) = form.pseudonyms {
            ring.pseudonyms = Some(PseudonymSecret {
                secret: decode_secret(&p.secret, "[pseudonyms]")?,
                created: p.created,
            });
        }
        for k in form.keys {
            let secret = decode_secret(&k.secret, &format!("key {}", k.id))?;
            let key = Key::from_parts(&k.id, &k.subject, secret)
                .ok_or_else(|| KeyringError(format!("{:?} is not a key id", k.id)))?;
            // An erased key that a hand edit brought back stays erased.
            if !ring.erased.contains(&k.id) {
                ring.keys.insert(
                    k.id.clone(),
                    Entry {
                        key,
                        created: k.created,
                    },
                );
            }
        }
        Ok(ring)
    }

    pub fn to_toml(&self) -> String {
        let form = FileForm {
            format: FORMAT,
            erased: self.erased.iter().cloned().collect(),
            pseudonyms: self.pseudonyms.as_ref().map(|p| SecretForm {
                secret: URL_SAFE_NO_PAD.encode(p.secret),
                created: p.created,
            }),
            keys: self
                .keys
                .values()
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

    /// The keys, in id order.
    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        self.keys.values().map(|e| &e.key)
    }

    pub fn erased(&self) -> impl Iterator<Item = &str> {
        self.erased.iter().map(String::as_str)
    }

    pub fn is_erased(&self, key_id: &str) -> bool {
        self.erased.contains(key_id)
    }

    /// Adds a key; `false` (and nothing changed) if its id was erased or is already here.
    pub fn add(&mut self, key: Key, created: DateTime<Utc>) -> bool {
        if self.erased.contains(&key.id) || self.keys.contains_key(&key.id) {
            return false;
        }
        self.keys.insert(key.id.clone(), Entry { key, created });
        true
    }

    /// The key that seals new values of `subject`: its oldest one (two clones may each have
    /// made one before they synced; both then stay valid for what they sealed).
    pub fn key_for(&self, subject: &str) -> Option<&Key> {
        self.keys
            .values()
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
    /// whether the ring had it.
    pub fn erase(&mut self, key_id: &str) -> bool {
        self.erased.insert(key_id.to_string());
        self.keys.remove(key_id).is_some()
    }

    /// Destroys every key of `subject`; returns their ids.
    pub fn erase_subject(&mut self, subject: &str) -> Vec<String> {
        let ids: Vec<String> = self
            .keys
            .values()
            .filter(|e| e.key.subject == subject)
            .map(|e| e.key.id.clone())
            .collect();
        for id in &ids {
            self.erase(id);
        }
        ids
    }

    /// The merge of two rings: the union of their keys minus every key either side erased.
    /// Of two pseudonym secrets the older one wins (ties: the smaller), so every clone
    /// settles on the same one.
    pub fn merge(&self, other: &KeyRing) -> KeyRing {
        let erased: BTreeSet<String> = self.erased.union(&other.erased).cloned().collect();
        let mut keys = self.keys.clone();
        for (id, e) in &other.keys {
            keys.entry(id.clone()).or_insert_with(|| e.clone());
        }
        keys.retain(|id, _| !erased.contains(id));
        let pseudonyms = match (&self.pseudonyms, &other.pseudonyms) {
            (Some(a), Some(b)) => Some(if (b.created, b.secret) < (a.created, a.secret) {
                b.clone()
            } else {
                a.clone()
            }),
            (a, b) => a.clone().or_else(|| b.clone()),
        };
        KeyRing {
            keys,
            erased,
            pseudonyms,
        }
    }

    pub fn pseudonym_secret(&self) -> Option<&PseudonymSecret> {
        self.pseudonyms.as_ref()
    }

    /// Makes the book's pseudonym secret if there is none; returns whether it made one.
    pub fn ensure_pseudonym_secret(&mut self, now: DateTime<Utc>) -> bool {
        if self.pseudonyms.is_some() {
            return false;
        }
        self.pseudonyms = Some(PseudonymSecret {
            secret: random_secret(),
            created: now,
        });
        true
    }
}

impl Keys for KeyRing {
    fn lookup(&self, key_id: &str) -> Lookup<'_> {
        if self.erased.contains(key_id) {
            return Lookup::Erased;
        }
        self.keys
            .get(key_id)
            .map_or(Lookup::Unknown, |e| Lookup::Present(&e.key))
    }
}

/// HMAC-SHA256 of `data` under `secret`, as lower-case hex (64 characters).
pub fn keyed_digest(secret: &[u8], data: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret)
        .expect("HMAC takes a key of any length");
    mac.update(data);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The key-ring subject of a customer known by `contact` (an e-mail address or phone
/// number): a keyed hash, so the ring never holds the contact itself.
pub fn customer_subject(secret: &PseudonymSecret, contact: &str) -> String {
    let normalised = contact.trim().to_lowercase();
    format!(
        "customer:{}",
        &keyed_digest(secret.bytes(), format!("subject\0{normalised}").as_bytes())[..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::seal::{open, seal, SealError};

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
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
        let text = ring.to_toml();
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
            ("format = 1\n[[key]]\nid = \"x\"\nsubject = \"s\"\nsecret = \"AA\"\ncreated = \"2026-11-23T09:00:00Z\"", "secret"),
            ("not toml [", "keyring.toml"),
        ] {
            let e = KeyRing::parse(text.as_bytes()).unwrap_err();
            assert!(e.to_string().contains(says), "{text}: {e}");
        }
        let mut ring = KeyRing::new();
        let k = ring.key_for_or_new("s", at("2026-11-23T09:00:00Z")).clone();
        let mut text = ring.to_toml();
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
}
