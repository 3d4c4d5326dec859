//! Sealing one value: personal data kept only encrypted, with a key per data subject, so
//! that destroying the key erases the data from every copy of the history
//! (crypto-shredding). See `docs/PRIVACY.md`.
//!
//! A sealed value is a plain TOML string, so a case file stays valid TOML that older tools
//! can read and merge:
//!
//! ```text
//! sealed:v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>
//! ```
//!
//! The cipher is XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`), with a fresh random
//! 192-bit nonce per value and, as associated data, the format version, the key id, the
//! case ID and the field path: a sealed value copied to another case or field, or whose key
//! id was edited, does not open. Nothing here is hand-written cryptography; this module
//! only frames the crate's output.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

/// What every sealed value starts with (the `v1` is the format version).
pub const PREFIX: &str = "sealed:v1:";
/// The prefix of any version, to tell a sealed value of a newer format from plain text.
const ANY_VERSION: &str = "sealed:v";
/// Bytes of a key's secret (256 bits).
pub const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// Length of the random part of a key id.
const KEY_ID_LEN: usize = 16;

/// One data subject's key. `subject` is an opaque label chosen by the caller (never the
/// personal data itself: e.g. a keyed hash of the customer's e-mail address).
#[derive(Clone, PartialEq, Eq)]
pub struct Key {
    pub id: String,
    pub subject: String,
    secret: [u8; KEY_LEN],
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret, not even in a test failure.
        f.debug_struct("Key")
            .field("id", &self.id)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

impl Key {
    /// A new random key for `subject`, with a new random id.
    pub fn generate(subject: &str) -> Key {
        let mut secret = [0u8; KEY_LEN];
        super::random::fill(&mut secret);
        Key {
            id: new_key_id(),
            subject: subject.to_string(),
            secret,
        }
    }

    /// A key from stored parts; `None` if the id is not a valid key id.
    pub fn from_parts(id: &str, subject: &str, secret: [u8; KEY_LEN]) -> Option<Key> {
        is_key_id(id).then(|| Key {
            id: id.to_string(),
            subject: subject.to_string(),
            secret,
        })
    }

    pub fn secret(&self) -> &[u8; KEY_LEN] {
        &self.secret
    }
}

/// A new random key id: `K` and 16 Crockford characters (80 bits).
pub fn new_key_id() -> String {
    format!("K{}", super::id::random_code(KEY_ID_LEN))
}

/// Whether `s` has the shape of a key id.
pub fn is_key_id(s: &str) -> bool {
    s.len() == KEY_ID_LEN + 1 && s.starts_with('K') && s[1..].bytes().all(super::id::in_alphabet)
}

/// What a key ring knows about a key id. The key is owned: a ring that reads its keys
/// lazily (`store::RingReader`) cannot lend one out of its cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Present(Key),
    /// The key was erased: the data sealed with it is gone for good.
    Erased,
    /// This ring never had the key (another clone made it and it was not synced yet, or
    /// the key ring was not fetched).
    Unknown,
}

/// Where [`open`] finds keys (the key ring).
pub trait Keys {
    fn lookup(&self, key_id: &str) -> Lookup;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("case {case}: {field} does not open with key {key}: the sealed value was changed after it was sealed, or was copied from another case or field")]
    Tampered {
        case: String,
        field: String,
        key: String,
    },
    #[error(
        "case {case}: {field} is sealed with key {key}, which this clone's key ring does not have"
    )]
    MissingKey {
        case: String,
        field: String,
        key: String,
    },
    #[error("case {case}: {field} was erased (its key {key} was destroyed)")]
    Erased {
        case: String,
        field: String,
        key: String,
    },
    #[error("case {case}: {field} is not a well-formed sealed value: {reason}")]
    Malformed {
        case: String,
        field: String,
        reason: String,
    },
    #[error(
        "case {case}: {field} is sealed in format {version:?}, which this casebook does not know"
    )]
    NewerFormat {
        case: String,
        field: String,
        version: String,
    },
}

impl SealError {
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            SealError::MissingKey { .. } => Some(
                "run `casebook sync` to fetch the key ring (refs/casebook/keyring) from the remote",
            ),
            SealError::Tampered { .. } | SealError::Malformed { .. } => Some(
                "a sealed value cannot be mended by hand: find the commit that changed the case's file and who made it (`git log -p` of the file), then undo it (`git revert`) or put back the version before it",
            ),
            SealError::NewerFormat { .. } => Some("upgrade casebook"),
            SealError::Erased { .. } => None,
        }
    }
}

/// Whether a stored value is sealed (in any format version).
pub fn is_sealed(value: &str) -> bool {
    value.starts_with(ANY_VERSION)
}

/// The key id a sealed value names, if it is a well-formed `v1` value.
pub fn key_id_of(value: &str) -> Option<&str> {
    let rest = value.strip_prefix(PREFIX)?;
    let (id, _) = rest.split_once(':')?;
    is_key_id(id).then_some(id)
}

/// The associated data: binds a sealed value to its format, key, case and field.
fn associated_data(key_id: &str, case: &str, field: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(32 + key_id.len() + case.len() + field.len());
    for part in ["casebook-seal-v1", key_id, case, field] {
        aad.extend_from_slice(part.as_bytes());
        aad.push(0);
    }
    aad
}

/// Seals `plaintext` as the value of `field` (its name: `email`, `message` ...) in case
/// `case`.
pub fn seal(key: &Key, case: &str, field: &str, plaintext: &str) -> String {
    seal_bytes(key, case, field, plaintext.as_bytes())
}

/// Seals any bytes (an attachment's content) the same way, as text.
pub fn seal_bytes(key: &Key, case: &str, field: &str, plaintext: &[u8]) -> String {
    sealed_text(&key.id, &seal_raw(key, case, field, plaintext))
}

/// What a sealed value holds, before it is written as text ([`sealed_text`]): nonce ‖
/// ciphertext ‖ tag, encrypted where it lies, in one buffer.
fn seal_raw(key: &Key, case: &str, field: &str, plaintext: &[u8]) -> Vec<u8> {
    use chacha20poly1305::aead::AeadInPlace;
    let mut bytes = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN);
    bytes.resize(NONCE_LEN, 0);
    super::random::fill(&mut bytes);
    bytes.extend_from_slice(plaintext);
    let (nonce, text) = bytes.split_at_mut(NONCE_LEN);
    let cipher = XChaCha20Poly1305::new((&key.secret).into());
    let aad = associated_data(&key.id, case, field);
    let tag = cipher
        .encrypt_in_place_detached(XNonce::from_slice(nonce), &aad, text)
        // Only fails for messages longer than the cipher allows (256 GiB).
        .expect("a case field is far shorter than XChaCha20-Poly1305's limit");
    bytes.extend_from_slice(&tag);
    bytes
}

/// A sealed value as text: [`PREFIX`], the key id, and the bytes [`seal_raw`] gave.
fn sealed_text(key_id: &str, raw: &[u8]) -> String {
    let mut out = String::with_capacity(
        PREFIX.len() + key_id.len() + 1 + base64::encoded_len(raw.len(), false).unwrap_or(0),
    );
    out.push_str(PREFIX);
    out.push_str(key_id);
    out.push(':');
    URL_SAFE_NO_PAD.encode_string(raw, &mut out);
    out
}

/// Opens a sealed value of `field` in case `case` with a key from `keys`.
pub fn open(keys: &impl Keys, case: &str, field: &str, value: &str) -> Result<String, SealError> {
    let plain = open_bytes(keys, case, field, value)?;
    // Authenticated, so this is what was sealed; only ever UTF-8 text is sealed as text.
    String::from_utf8(plain).map_err(|_| SealError::Tampered {
        case: case.to_string(),
        field: field.to_string(),
        key: key_id_of(value).unwrap_or_default().to_string(),
    })
}

/// Opens a value sealed by [`seal_bytes`].
pub fn open_bytes(
    keys: &impl Keys,
    case: &str,
    field: &str,
    value: &str,
) -> Result<Vec<u8>, SealError> {
    let malformed = |reason: &str| SealError::Malformed {
        case: case.to_string(),
        field: field.to_string(),
        reason: reason.to_string(),
    };
    let Some(rest) = value.strip_prefix(PREFIX) else {
        return Err(match value.strip_prefix(ANY_VERSION) {
            Some(v) => SealError::NewerFormat {
                case: case.to_string(),
                field: field.to_string(),
                version: format!("v{}", v.split(':').next().unwrap_or_default()),
            },
            None => malformed("it does not start with \"sealed:v1:\""),
        });
    };
    let (key_id, body) = rest.split_once(':').ok_or_else(|| malformed("no key id"))?;
    if !is_key_id(key_id) {
        return Err(malformed("the key id is not one casebook makes"));
    }
    let names = || (case.to_string(), field.to_string(), key_id.to_string());
    let key = match keys.lookup(key_id) {
        Lookup::Present(key) => key,
        Lookup::Erased => {
            let (case, field, key) = names();
            return Err(SealError::Erased { case, field, key });
        }
        Lookup::Unknown => {
            let (case, field, key) = names();
            return Err(SealError::MissingKey { case, field, key });
        }
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| malformed("the sealed part is not base64url"))?;
    if bytes.len() < NONCE_LEN + TAG_LEN {
        return Err(malformed("the sealed part is too short"));
    }
    let (nonce, sealed) = bytes.split_at(NONCE_LEN);
    let cipher = XChaCha20Poly1305::new((&key.secret).into());
    let aad = associated_data(key_id, case, field);
    let tampered = || {
        let (case, field, key) = names();
        SealError::Tampered { case, field, key }
    };
    let plain = cipher
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: sealed,
                aad: &aad,
            },
        )
        .map_err(|_| tampered())?;
    Ok(plain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    struct Ring(Vec<Key>, Vec<String>);

    impl Keys for Ring {
        fn lookup(&self, id: &str) -> Lookup {
            if self.1.iter().any(|e| e == id) {
                return Lookup::Erased;
            }
            self.0
                .iter()
                .find(|k| k.id == id)
                .map_or(Lookup::Unknown, |k| Lookup::Present(k.clone()))
        }
    }

    fn ring() -> Ring {
        Ring(vec![Key::generate("subject-a")], Vec::new())
    }

    #[test]
    fn a_sealed_value_names_its_key_and_hides_the_text() {
        let r = ring();
        let s = seal(&r.0[0], "CB-7K3M9QXA", "customer.name", "Ada Lovelace");
        assert!(s.starts_with(PREFIX), "{s}");
        assert!(is_sealed(&s));
        assert_eq!(key_id_of(&s), Some(r.0[0].id.as_str()));
        assert!(!s.contains("Ada"));
        // A fresh nonce each time: the same text seals differently.
        assert_ne!(
            s,
            seal(&r.0[0], "CB-7K3M9QXA", "customer.name", "Ada Lovelace")
        );
        assert_eq!(
            open(&r, "CB-7K3M9QXA", "customer.name", &s).unwrap(),
            "Ada Lovelace"
        );
    }

    #[test]
    fn the_layout_is_nonce_then_what_the_crates_own_encrypt_gives() {
        // Values sealed by any earlier casebook must keep opening, and those sealed now
        // must open with the plain AEAD call: nonce ‖ ciphertext ‖ tag, base64url.
        let key = &ring().0[0];
        let s = seal(key, "CB-7K3M9QXA", "subject", "Printer jams");
        let b64 = s.rsplit(':').next().unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(b64).unwrap();
        assert_eq!(bytes.len(), NONCE_LEN + "Printer jams".len() + TAG_LEN);
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let aad = associated_data(&key.id, "CB-7K3M9QXA", "subject");
        let cipher = XChaCha20Poly1305::new(key.secret().into());
        let payload = Payload {
            msg: sealed,
            aad: &aad,
        };
        let plain = cipher.decrypt(XNonce::from_slice(nonce), payload).unwrap();
        assert_eq!(plain, b"Printer jams");
        // And the other way: what the crate's encrypt gives opens.
        let again = cipher
            .encrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: b"Printer jams",
                    aad: &aad,
                },
            )
            .unwrap();
        assert_eq!(again, sealed, "the same nonce gives the same bytes");
    }

    #[test]
    fn missing_erased_and_wrong_keys_are_told_apart_and_name_case_and_field() {
        let r = ring();
        let s = seal(&r.0[0], "CB-7K3M9QXA", "customer.email", "ada@example.com");
        let empty = Ring(Vec::new(), Vec::new());
        let e = open(&empty, "CB-7K3M9QXA", "customer.email", &s).unwrap_err();
        assert!(matches!(e, SealError::MissingKey { .. }), "{e:?}");
        let text = e.to_string();
        assert!(text.contains("CB-7K3M9QXA") && text.contains("customer.email"));
        assert!(e.hint().unwrap().contains("casebook sync"));

        let erased = Ring(Vec::new(), vec![r.0[0].id.clone()]);
        let e = open(&erased, "CB-7K3M9QXA", "customer.email", &s).unwrap_err();
        assert!(matches!(e, SealError::Erased { .. }), "{e:?}");

        // Another key under the same id (a forged or corrupted ring): tampering, not text.
        let other = Key::generate("subject-a");
        let forged = Ring(
            vec![Key::from_parts(&r.0[0].id, "subject-a", *other.secret()).unwrap()],
            Vec::new(),
        );
        let e = open(&forged, "CB-7K3M9QXA", "customer.email", &s).unwrap_err();
        assert!(matches!(e, SealError::Tampered { .. }), "{e:?}");
    }

    #[test]
    fn malformed_and_newer_values_are_clear_errors() {
        let r = ring();
        for bad in [
            "sealed:v1:",
            "sealed:v1:nokey",
            "sealed:v1:K123:AAAA",
            "sealed:v1:KAAAAAAAAAAAAAAAA:not base64!",
            "sealed:v1:KAAAAAAAAAAAAAAAA:AAAA",
            "plain text",
        ] {
            let ring_with_that_id = Ring(
                vec![Key::from_parts("KAAAAAAAAAAAAAAAA", "s", *r.0[0].secret()).unwrap()],
                Vec::new(),
            );
            let e = open(&ring_with_that_id, "CB-1", "f", bad).unwrap_err();
            assert!(matches!(e, SealError::Malformed { .. }), "{bad}: {e:?}");
        }
        let e = open(&r, "CB-1", "f", "sealed:v2:whatever").unwrap_err();
        assert!(matches!(e, SealError::NewerFormat { ref version, .. } if version == "v2"));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let k = Key::from_parts("KAAAAAAAAAAAAAAAA", "s", [7u8; KEY_LEN]).unwrap();
        assert!(!format!("{k:?}").contains('7'));
    }

    proptest! {
        #[test]
        fn open_undoes_seal(text in ".*", case in "[A-Z]{2}-[0-9A-Z]{8}", field in "[a-z.0-9]{1,20}") {
            let r = ring();
            let s = seal(&r.0[0], &case, &field, &text);
            prop_assert_eq!(open(&r, &case, &field, &s).unwrap(), text);
        }

        #[test]
        fn any_flipped_bit_fails(text in ".{0,64}", pos in any::<prop::sample::Index>(), bit in 0u8..8) {
            let r = ring();
            let s = seal(&r.0[0], "CB-7K3M9QXA", "message", &text);
            let body_at = s.rfind(':').unwrap() + 1;
            let mut bytes = URL_SAFE_NO_PAD.decode(&s[body_at..]).unwrap();
            let i = pos.index(bytes.len());
            bytes[i] ^= 1 << bit;
            let flipped = format!("{}{}", &s[..body_at], URL_SAFE_NO_PAD.encode(&bytes));
            let e = open(&r, "CB-7K3M9QXA", "message", &flipped).unwrap_err();
            prop_assert!(matches!(e, SealError::Tampered { .. }), "{:?}", e);
        }

        #[test]
        fn another_case_or_field_fails(text in ".{0,64}", other in "[a-z]{1,8}") {
            let r = ring();
            let s = seal(&r.0[0], "CB-7K3M9QXA", "message", &text);
            let other_case = format!("CB-{other}");
            let e = open(&r, &other_case, "message", &s).unwrap_err();
            prop_assert!(matches!(e, SealError::Tampered { .. }), "{:?}", e);
            let other_field = format!("message.{other}");
            let e = open(&r, "CB-7K3M9QXA", &other_field, &s).unwrap_err();
            prop_assert!(matches!(e, SealError::Tampered { .. }), "{:?}", e);
        }
    }
}
