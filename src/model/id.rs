//! Case and event identifiers.
//!
//! A case ID is `<PREFIX>-<8 chars>`: a configurable prefix and 40 random bits written in
//! Crockford base32 (no I, L, O, U), so it can be read over the phone and generated offline
//! by any clone without coordination. Input is case-insensitive and Crockford's aliases are
//! accepted (`O` reads as `0`, `I` and `L` as `1`). Commands accept any unique prefix of the
//! random part, like git's short hashes.

use std::fmt;

/// Crockford's base32 alphabet.
pub const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Whether `b` is a character of [`ALPHABET`]; a match, not a search of it (key ids are
/// checked 100k times in an import's key ring write).
pub fn in_alphabet(b: u8) -> bool {
    matches!(b, b'0'..=b'9' | b'A'..=b'H' | b'J' | b'K' | b'M' | b'N' | b'P'..=b'T' | b'V'..=b'Z')
}

/// Length of the random part of a case ID (8 × 5 = 40 bits).
pub const RANDOM_LEN: usize = 8;
/// Length of an event ID (12 × 5 = 60 bits).
pub const EVENT_ID_LEN: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("bad case ID prefix {0:?}: expected 1 to 8 letters or digits, e.g. \"CB\"")]
    BadPrefix(String),
    #[error("bad case ID {0:?}: expected PREFIX-XXXXXXXX (Crockford base32, e.g. CB-7K3M9QXA) or a unique start of the part after the dash")]
    BadId(String),
}

/// A full case ID such as `CB-7K3M9QXA`, always stored upper-case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CaseId(String);

impl CaseId {
    /// A new random ID with the given (already validated) prefix.
    pub fn generate(prefix: &str) -> CaseId {
        CaseId(format!("{prefix}-{}", random_code(RANDOM_LEN)))
    }

    /// The `n`-th ID of a seeded sequence: the same seed gives the same IDs in every process
    /// and clone. For tests that must force ID collisions (`CASEBOOK_SEED`), never for use.
    pub fn seeded(prefix: &str, seed: &str, n: u32) -> CaseId {
        // FNV-1a over seed and counter, stretched with splitmix64: stable and well spread.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in seed.bytes().chain(n.to_le_bytes()) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        let code: String = (0..RANDOM_LEN)
            .map(|_| {
                h = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = h;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                ALPHABET[((z ^ (z >> 31)) & 31) as usize] as char
            })
            .collect();
        CaseId(format!("{prefix}-{code}"))
    }

    /// Parses a complete ID, normalising case and Crockford aliases.
    pub fn parse(input: &str) -> Result<CaseId, IdError> {
        let bad = || IdError::BadId(input.to_string());
        let (prefix, random) = input.trim().split_once('-').ok_or_else(bad)?;
        let prefix = validate_prefix(prefix).map_err(|_| bad())?;
        let random = normalize_code(random).ok_or_else(bad)?;
        if random.len() != RANDOM_LEN {
            return Err(bad());
        }
        Ok(CaseId(format!("{prefix}-{random}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn prefix(&self) -> &str {
        self.0.split_once('-').map(|(p, _)| p).unwrap_or("")
    }

    pub fn random_part(&self) -> &str {
        self.0.split_once('-').map(|(_, r)| r).unwrap_or("")
    }

    /// The shard folder: the first two characters of the random part. 32² = 1024 shards keep
    /// every tree small (about 100 entries at 100k cases).
    pub fn shard(&self) -> &str {
        &self.random_part()[..2]
    }

    /// Path of the case file inside the repository; it never changes.
    pub fn path(&self) -> String {
        super::layout::case_path(self)
    }
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for CaseId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for CaseId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        CaseId::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// What a user typed to name a case: an optional prefix and the start of the random part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdQuery {
    pub prefix: Option<String>,
    pub random: String,
}

impl IdQuery {
    /// Parses `CB-7K3`, `cb-7k3m9qxa` or `7K3` (at least one character of the random part).
    pub fn parse(input: &str) -> Result<IdQuery, IdError> {
        let bad = || IdError::BadId(input.to_string());
        let input = input.trim();
        let (prefix, random) = match input.split_once('-') {
            Some((p, r)) => (Some(validate_prefix(p).map_err(|_| bad())?), r),
            None => (None, input),
        };
        let random = normalize_code(random).ok_or_else(bad)?;
        if random.is_empty() || random.len() > RANDOM_LEN {
            return Err(bad());
        }
        Ok(IdQuery { prefix, random })
    }

    /// Whether a full ID matches this query.
    pub fn matches(&self, id: &CaseId) -> bool {
        self.prefix.as_deref().is_none_or(|p| p == id.prefix())
            && id.random_part().starts_with(&self.random)
    }
}

impl fmt::Display for IdQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.prefix {
            Some(p) => write!(f, "{p}-{}", self.random),
            None => f.write_str(&self.random),
        }
    }
}

/// Validates and upper-cases a case ID prefix.
pub fn validate_prefix(prefix: &str) -> Result<String, IdError> {
    let ok = !prefix.is_empty()
        && prefix.len() <= 8
        && prefix.chars().all(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(prefix.to_ascii_uppercase())
    } else {
        Err(IdError::BadPrefix(prefix.to_string()))
    }
}

/// Upper-cases Crockford base32 and maps its look-alikes; `None` if a character is not valid.
fn normalize_code(code: &str) -> Option<String> {
    code.chars()
        .map(|c| match c.to_ascii_uppercase() {
            'O' => Some('0'),
            'I' | 'L' => Some('1'),
            c if c.is_ascii() && in_alphabet(c as u8) => Some(c),
            _ => None,
        })
        .collect()
}

/// `len` random Crockford characters from the operating system's generator.
pub fn random_code(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    super::random::fill(&mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[(b & 31) as usize] as char)
        .collect()
}

/// A new random event ID.
pub fn new_event_id() -> String {
    random_code(EVENT_ID_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_alphabet_is_exactly_the_alphabet() {
        for b in 0..=255u8 {
            assert_eq!(in_alphabet(b), ALPHABET.contains(&b), "byte {b}");
        }
    }

    #[test]
    fn generated_ids_have_the_documented_shape() {
        for _ in 0..200 {
            let id = CaseId::generate("CB");
            assert_eq!(id.prefix(), "CB");
            assert_eq!(id.random_part().len(), RANDOM_LEN);
            assert!(id.random_part().bytes().all(|b| ALPHABET.contains(&b)));
            assert!(!id.random_part().contains(['I', 'L', 'O', 'U']));
            assert_eq!(CaseId::parse(id.as_str()).unwrap(), id);
            assert_eq!(
                id.path(),
                format!("cases/{}/{}.toml", &id.random_part()[..2], id)
            );
        }
    }

    #[test]
    fn generated_ids_are_spread_over_the_alphabet() {
        let ids: std::collections::HashSet<_> = (0..2000).map(|_| CaseId::generate("CB")).collect();
        assert_eq!(
            ids.len(),
            2000,
            "40 random bits do not collide in 2000 draws"
        );
        let firsts: std::collections::HashSet<_> = ids
            .iter()
            .map(|id| id.random_part().as_bytes()[0])
            .collect();
        assert_eq!(firsts.len(), 32);
    }

    #[test]
    fn parsing_is_case_insensitive_and_maps_look_alikes() {
        let id = CaseId::parse("cb-o1lk3m9q").unwrap();
        assert_eq!(id.as_str(), "CB-011K3M9Q");
        assert!(CaseId::parse("CB-7K3M9QX").is_err(), "too short");
        assert!(CaseId::parse("CB-7K3M9QXAA").is_err(), "too long");
        assert!(CaseId::parse("CB-7K3M9QXU").is_err(), "U is not Crockford");
        assert!(CaseId::parse("7K3M9QXA").is_err(), "no prefix");
        assert!(CaseId::parse("C_B-7K3M9QXA").is_err());
    }

    #[test]
    fn queries_match_by_prefix_of_the_random_part() {
        let id = CaseId::parse("CB-7K3M9QXA").unwrap();
        assert!(IdQuery::parse("7k3").unwrap().matches(&id));
        assert!(IdQuery::parse("cb-7K3M9QXA").unwrap().matches(&id));
        assert!(!IdQuery::parse("ACME-7K3").unwrap().matches(&id));
        assert!(!IdQuery::parse("7K4").unwrap().matches(&id));
        assert!(IdQuery::parse("").is_err());
        assert!(IdQuery::parse("7K3M9QXAB").is_err());
        assert!(IdQuery::parse("../../etc").is_err());
    }

    #[test]
    fn prefixes_are_validated() {
        assert_eq!(validate_prefix("acme").unwrap(), "ACME");
        assert!(validate_prefix("").is_err());
        assert!(validate_prefix("TOOLONGPREFIX").is_err());
        assert!(validate_prefix("A-B").is_err());
    }
}
