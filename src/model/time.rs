//! Instants: stored as UTC RFC 3339 strings, typed by people in the calendar's time zone.

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;

pub use super::when::TimeError;
use super::when::{parse_when, DateOnly};

/// The one stored form of an instant: UTC, RFC 3339, whole seconds unless sub-seconds exist.
pub fn format_utc(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Parses a strict RFC 3339 instant (as `--now` and stored files use).
pub fn parse_rfc3339(input: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(input.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Parses a time given without a clock (an import row): RFC 3339 with an offset, or a
/// local date-time or date in `tz`. Daylight-saving gaps and folds are resolved as
/// [`super::when`] documents; forms relative to now are refused.
pub fn parse_user_time(input: &str, tz: Tz) -> Result<DateTime<Utc>, TimeError> {
    parse_when(input, tz, None, DateOnly::StartOfDay)
}

/// serde adapter: `DateTime<Utc>` as an RFC 3339 string.
pub mod utc {
    use super::*;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_utc(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        parse_rfc3339(&s).ok_or_else(|| {
            serde::de::Error::custom(format!("bad timestamp {s:?}: expected RFC 3339"))
        })
    }
}

/// serde adapter: `Option<DateTime<Utc>>` as an optional RFC 3339 string.
pub mod utc_opt {
    use super::*;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&format_utc(t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| {
                parse_rfc3339(&s).ok_or_else(|| {
                    serde::de::Error::custom(format!("bad timestamp {s:?}: expected RFC 3339"))
                })
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_times_are_read_in_the_calendar_zone() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let t = parse_user_time("2025-01-10 16:30", tz).unwrap();
        assert_eq!(format_utc(&t), "2025-01-10T15:30:00Z");
        let t = parse_user_time("2025-07-10", tz).unwrap();
        assert_eq!(format_utc(&t), "2025-07-09T22:00:00Z");
        let t = parse_user_time("2025-01-10T16:30:00+01:00", tz).unwrap();
        assert_eq!(format_utc(&t), "2025-01-10T15:30:00Z");
    }

    #[test]
    fn bad_and_nonexistent_times_are_errors() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        for bad in ["yesterday", "2025-13-01", "2025-02-30 10:00", "", "10:00"] {
            let e = parse_user_time(bad, tz).unwrap_err();
            assert!(e.to_string().contains("Europe/Berlin"), "{e}");
        }
        // 02:30 does not exist in Berlin on the spring-forward night.
        assert!(parse_user_time("2025-03-30 02:30", tz).is_err());
    }

    #[test]
    fn stored_form_round_trips() {
        let t = parse_rfc3339("2026-11-22T10:00:00.250Z").unwrap();
        assert_eq!(format_utc(&t), "2026-11-22T10:00:00.250Z");
        assert_eq!(parse_rfc3339(&format_utc(&t)), Some(t));
    }
}
