//! Working as a team: who owns a case, its tags, and the filters that split a queue by
//! them. Pure rules, shared by the index path and the scan path of every read so both give
//! the same answer.
//!
//! - An owner is a person in git's form, `Name <email>`, stored as that string in
//!   `[case] owner`. Two owners are the same person when their e-mails are equal (letter
//!   case aside): names get spelled differently, addresses identify.
//! - A tag is a short lowercase word: letters, digits and `-`, `_`, `.`, `/`, `:`, at most
//!   [`TAG_MAX`] characters. `+tag` adds it, `-tag` removes it.

use super::actor::Actor;
use super::case::CaseFile;

/// The longest tag accepted.
pub const TAG_MAX: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TeamError {
    #[error("{0:?} is not a tag change: write +TAG to add a tag or -TAG to remove one")]
    NotAChange(String),
    #[error("{0:?} is not a tag: use letters, digits and - _ . / : (at most {TAG_MAX} characters), starting with a letter or digit")]
    BadTag(String),
    #[error("{0:?} is both added and removed")]
    AddedAndRemoved(String),
}

/// A tag as typed, checked and lowercased.
pub fn parse_tag(text: &str) -> Result<String, TeamError> {
    let t = text.trim().to_lowercase();
    let ok = !t.is_empty()
        && t.chars().count() <= TAG_MAX
        && t.chars().next().is_some_and(char::is_alphanumeric)
        && t.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':'));
    if ok {
        Ok(t)
    } else {
        Err(TeamError::BadTag(text.to_string()))
    }
}

/// Tag changes such as `+billing -vip`: (added, removed), each sorted and without repeats.
pub fn parse_changes(changes: &[String]) -> Result<(Vec<String>, Vec<String>), TeamError> {
    let mut added = Vec::new();
    let mut removed = Vec::new();
    for c in changes {
        let (list, rest) = if let Some(rest) = c.strip_prefix('+') {
            (&mut added, rest)
        } else if let Some(rest) = c.strip_prefix('-') {
            (&mut removed, rest)
        } else {
            return Err(TeamError::NotAChange(c.clone()));
        };
        let tag = parse_tag(rest)?;
        if !list.contains(&tag) {
            list.push(tag);
        }
    }
    if let Some(both) = added.iter().find(|t| removed.contains(t)) {
        return Err(TeamError::AddedAndRemoved(both.clone()));
    }
    added.sort();
    removed.sort();
    Ok((added, removed))
}

/// A stored owner as (name, e-mail); a value edited by hand that is not `Name <email>`
/// is all name.
pub fn owner_parts(stored: &str) -> (String, Option<String>) {
    match Actor::parse(stored) {
        Ok(a) => (a.name, Some(a.email)),
        Err(_) => (stored.trim().to_string(), None),
    }
}

/// The most time one action may record as worked: a day.
pub const WORKED_MAX_MINUTES: u32 = 24 * 60;

/// `--worked`: `15m`, `2h`, `1h30m` (hours and minutes, in that order) as minutes.
pub fn parse_worked(text: &str) -> Result<u32, String> {
    let t = text.trim().to_ascii_lowercase();
    let bad = || format!("{text:?} is not a duration: write 15m, 2h or 1h30m");
    let (hours, rest) = match t.split_once('h') {
        Some((h, rest)) => (h.parse::<u32>().map_err(|_| bad())?, rest),
        None => (0, t.as_str()),
    };
    let minutes = match rest {
        "" if t.contains('h') => 0,
        _ => rest
            .strip_suffix('m')
            .ok_or_else(bad)?
            .parse::<u32>()
            .map_err(|_| bad())?,
    };
    let total = hours
        .checked_mul(60)
        .and_then(|h| h.checked_add(minutes))
        .ok_or_else(bad)?;
    if total == 0 {
        return Err(format!("{text:?} is no time at all"));
    }
    if total > WORKED_MAX_MINUTES {
        return Err(format!(
            "{text:?} is more than a day ({WORKED_MAX_MINUTES} minutes) for one action"
        ));
    }
    Ok(total)
}

/// The time worked on a case: the sum over its events, `None` if none recorded any.
pub fn worked_total(f: &CaseFile) -> Option<u64> {
    // Summed by the replay into the projection, so it is there without the events too
    // (a list read from the index's events-free copy).
    f.case.worked_minutes
}

/// `1h 30m`, `45m`.
pub fn format_minutes(minutes: u64) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h {m:02}m"),
    }
}

/// Whose cases a read shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum OwnerFilter {
    /// Anyone's, and nobody's.
    #[default]
    Any,
    /// Cases with no owner.
    Unassigned,
    /// Cases owned by this e-mail address (lowercase).
    Email(String),
    /// Cases owned by someone of this name (any letter case): `--owner Sam`.
    Name(String),
}

impl OwnerFilter {
    /// `--owner WHO`: `Name <email>` or an e-mail match by address, anything else by name.
    /// `me` is the acting agent, resolved by the caller.
    pub fn parse(who: &str) -> OwnerFilter {
        let who = who.trim();
        match Actor::parse(who) {
            Ok(a) => OwnerFilter::Email(a.email.to_lowercase()),
            Err(_) if super::validate::is_email(who) => OwnerFilter::Email(who.to_lowercase()),
            Err(_) => OwnerFilter::Name(who.to_lowercase()),
        }
    }

    pub fn of(actor: &Actor) -> OwnerFilter {
        OwnerFilter::Email(actor.email.to_lowercase())
    }

    /// Whether a case owned by `owner` (a stored value) passes.
    pub fn matches(&self, owner: Option<&str>) -> bool {
        match self {
            OwnerFilter::Any => true,
            OwnerFilter::Unassigned => owner.is_none(),
            OwnerFilter::Email(want) => owner
                .and_then(|o| owner_parts(o).1)
                .is_some_and(|e| e.to_lowercase() == *want),
            OwnerFilter::Name(want) => {
                owner.is_some_and(|o| owner_parts(o).0.to_lowercase() == *want)
            }
        }
    }
}

/// The team filters every queue-like read takes: owner and tags (all must be present).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TeamFilter {
    pub owner: OwnerFilter,
    pub tags: Vec<String>,
}

impl TeamFilter {
    pub fn is_any(&self) -> bool {
        self.owner == OwnerFilter::Any && self.tags.is_empty()
    }

    pub fn matches(&self, f: &CaseFile) -> bool {
        self.matches_parts(f.case.owner.as_deref(), &f.case.tags)
    }

    pub fn matches_parts(&self, owner: Option<&str>, tags: &[String]) -> bool {
        self.owner.matches(owner) && self.tags.iter().all(|t| tags.contains(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_changes_parse_and_bad_ones_say_why() {
        let (a, r) = parse_changes(&["+Billing".into(), "-vip".into(), "+billing".into()]).unwrap();
        assert_eq!(a, vec!["billing"]);
        assert_eq!(r, vec!["vip"]);
        assert_eq!(
            parse_changes(&["billing".into()]),
            Err(TeamError::NotAChange("billing".into()))
        );
        for bad in ["+", "+-x", "+a b", "+a,b", &format!("+{}", "x".repeat(41))] {
            assert!(
                matches!(parse_changes(&[bad.to_string()]), Err(TeamError::BadTag(_))),
                "{bad}"
            );
        }
        assert_eq!(
            parse_changes(&["+x".into(), "-x".into()]),
            Err(TeamError::AddedAndRemoved("x".into()))
        );
    }

    #[test]
    fn worked_durations_parse_and_bad_ones_say_why() {
        assert_eq!(parse_worked("15m"), Ok(15));
        assert_eq!(parse_worked("2h"), Ok(120));
        assert_eq!(parse_worked("1H30m"), Ok(90));
        for bad in [
            "",
            "15",
            "m",
            "1h30",
            "30m1h",
            "-5m",
            "1.5h",
            "0m",
            "25h",
            "99999999999h",
        ] {
            assert!(parse_worked(bad).is_err(), "{bad}");
        }
        assert_eq!(format_minutes(90), "1h 30m");
        assert_eq!(format_minutes(45), "45m");
        assert_eq!(format_minutes(120), "2h");
    }

    #[test]
    fn owners_match_by_address_or_by_name() {
        let sam = Some("Sam Lead <Sam@Example.com>");
        assert!(OwnerFilter::parse("sam@example.com").matches(sam));
        assert!(OwnerFilter::parse("S. Lead <SAM@example.com>").matches(sam));
        assert!(OwnerFilter::parse("sam lead").matches(sam));
        assert!(!OwnerFilter::parse("Sam").matches(sam));
        assert!(!OwnerFilter::parse("sam@example.com").matches(None));
        assert!(OwnerFilter::Unassigned.matches(None));
        assert!(!OwnerFilter::Unassigned.matches(sam));
        let f = TeamFilter {
            owner: OwnerFilter::Any,
            tags: vec!["a".into(), "b".into()],
        };
        assert!(f.matches_parts(None, &["a".into(), "b".into(), "c".into()]));
        assert!(!f.matches_parts(None, &["a".into()]));
    }
}

/// `customer QUERY`: one customer, named by e-mail or phone (exactly, phone digits only,
/// e-mail in any letter case) or by name (whole name, any letter case and spacing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerQuery {
    Email(String),
    Phone(String),
    Name(String),
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

fn flat(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

impl CustomerQuery {
    pub fn parse(text: &str) -> Option<CustomerQuery> {
        let t = text.trim();
        if t.is_empty() {
            return None;
        }
        if t.contains('@') {
            return Some(CustomerQuery::Email(t.to_lowercase()));
        }
        let phone_like = t
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c));
        if phone_like && digits(t).len() >= 5 {
            return Some(CustomerQuery::Phone(digits(t)));
        }
        Some(CustomerQuery::Name(flat(t)))
    }

    pub fn matches(&self, name: &str, email: Option<&str>, phone: Option<&str>) -> bool {
        match self {
            CustomerQuery::Email(e) => email.is_some_and(|v| v.trim().to_lowercase() == *e),
            CustomerQuery::Phone(p) => phone.is_some_and(|v| digits(v) == *p),
            CustomerQuery::Name(n) => flat(name) == *n,
        }
    }
}

#[cfg(test)]
mod customer_tests {
    use super::*;

    #[test]
    fn customers_match_exactly_by_address_phone_or_whole_name() {
        let q = |s: &str| CustomerQuery::parse(s).unwrap();
        let ada = (
            "Ada  Lovelace",
            Some("Ada@Example.com"),
            Some("+44 20 7946 0000"),
        );
        let m = |q: CustomerQuery| q.matches(ada.0, ada.1, ada.2);
        assert!(m(q("ada@example.com")));
        assert!(!m(q("da@example.com")));
        assert!(m(q("+44 (20) 7946-0000")));
        assert!(!m(q("7946 0000")));
        assert!(m(q("ada lovelace")));
        assert!(!m(q("Ada")));
        assert_eq!(CustomerQuery::parse("  "), None);
    }
}
