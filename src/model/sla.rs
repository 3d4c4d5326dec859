//! SLA durations as people write them in the config: `"2h calendar"`, `"1bd"`,
//! `"16h business"`, `"7d calendar"`, `"30m business"`.
//!
//! Every duration names its clock. `bd` (business days) is always on the business clock and
//! means one day's worth of business minutes (480 with 09:00–17:00); `d` (days) is always
//! round the clock; `h` and `m` need the clock spelled out.

use std::fmt;

use super::enums::Priority;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    Business,
    Calendar,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Minutes,
    Hours,
    Days,
    BusinessDays,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaDuration {
    pub amount: u32,
    pub unit: Unit,
    pub clock: Clock,
}

const SYNTAX: &str =
    "expected a number, a unit and a clock: \"2h calendar\", \"16h business\", \"30m business\", \"7d calendar\" or \"1bd\" (business days)";

impl SlaDuration {
    pub fn parse(input: &str) -> Result<SlaDuration, String> {
        let mut words = input.split_whitespace();
        let (Some(quantity), clock, None) = (words.next(), words.next(), words.next()) else {
            return Err(SYNTAX.to_string());
        };
        let digits_end = quantity
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| SYNTAX.to_string())?;
        let (number, unit) = quantity.split_at(digits_end);
        let amount: u32 = number.parse().map_err(|_| SYNTAX.to_string())?;
        if amount == 0 {
            return Err("a target of zero cannot be met: use at least 1".to_string());
        }
        let unit = match unit {
            "m" | "min" => Unit::Minutes,
            "h" => Unit::Hours,
            "d" => Unit::Days,
            "bd" => Unit::BusinessDays,
            _ => return Err(SYNTAX.to_string()),
        };
        let clock = match (unit, clock) {
            (Unit::BusinessDays, None | Some("business")) => Clock::Business,
            (Unit::BusinessDays, Some(_)) => {
                return Err("\"bd\" counts business days: write \"1bd\", or \"1d calendar\" for a round-the-clock day".to_string())
            }
            (Unit::Days, None | Some("calendar")) => Clock::Calendar,
            (Unit::Days, Some(_)) => {
                return Err("\"d\" counts calendar days: for business days write \"1bd\"".to_string())
            }
            (_, Some("business")) => Clock::Business,
            (_, Some("calendar")) => Clock::Calendar,
            (_, None) => {
                return Err(format!(
                    "{input:?} does not say its clock: write \"{input} business\" or \"{input} calendar\""
                ))
            }
            (_, Some(_)) => return Err(SYNTAX.to_string()),
        };
        Ok(SlaDuration {
            amount,
            unit,
            clock,
        })
    }

    /// Length in minutes, given how many business minutes make one business day.
    pub fn minutes(&self, business_day_minutes: i64) -> i64 {
        let n = i64::from(self.amount);
        match self.unit {
            Unit::Minutes => n,
            Unit::Hours => n * 60,
            Unit::Days => n * 24 * 60,
            Unit::BusinessDays => n * business_day_minutes,
        }
    }
}

impl SlaDuration {
    /// The duration as a sentence says it: "7 days", "2 business days", "16 business hours".
    pub fn spoken(&self) -> String {
        let (one, many) = match self.unit {
            Unit::Minutes => ("minute", "minutes"),
            Unit::Hours => ("hour", "hours"),
            Unit::Days => ("day", "days"),
            Unit::BusinessDays => ("business day", "business days"),
        };
        let business = match (self.unit, self.clock) {
            (Unit::Minutes | Unit::Hours, Clock::Business) => "business ",
            _ => "",
        };
        let word = if self.amount == 1 { one } else { many };
        format!("{} {business}{word}", self.amount)
    }
}

impl fmt::Display for SlaDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.unit {
            Unit::Minutes => "m",
            Unit::Hours => "h",
            Unit::Days => "d",
            Unit::BusinessDays => return write!(f, "{}bd", self.amount),
        };
        let clock = match self.clock {
            Clock::Business => "business",
            Clock::Calendar => "calendar",
        };
        write!(f, "{}{unit} {clock}", self.amount)
    }
}

/// A target's duration for each priority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerPriority {
    pub urgent: SlaDuration,
    pub high: SlaDuration,
    pub normal: SlaDuration,
    pub low: SlaDuration,
}

impl PerPriority {
    /// The duration for `priority`; an unknown priority (from a newer version) counts as normal.
    pub fn get(&self, priority: &Priority) -> SlaDuration {
        match priority {
            Priority::Urgent => self.urgent,
            Priority::High => self.high,
            Priority::Low => self.low,
            Priority::Normal | Priority::Unknown(_) => self.normal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_durations_parse() {
        let d = SlaDuration::parse("2h calendar").unwrap();
        assert_eq!((d.minutes(480), d.clock), (120, Clock::Calendar));
        let d = SlaDuration::parse("1bd").unwrap();
        assert_eq!((d.minutes(480), d.clock), (480, Clock::Business));
        let d = SlaDuration::parse("16h business").unwrap();
        assert_eq!((d.minutes(480), d.clock), (960, Clock::Business));
        let d = SlaDuration::parse("7d calendar").unwrap();
        assert_eq!(d.minutes(480), 7 * 24 * 60);
        let spoken = |t: &str| SlaDuration::parse(t).unwrap().spoken();
        assert_eq!(spoken("7d calendar"), "7 days");
        assert_eq!(spoken("1d calendar"), "1 day");
        assert_eq!(spoken("2bd"), "2 business days");
        assert_eq!(spoken("16h business"), "16 business hours");
        assert_eq!(spoken("90m calendar"), "90 minutes");
        for text in [
            "2h calendar",
            "1bd",
            "16h business",
            "7d calendar",
            "30m business",
        ] {
            assert_eq!(SlaDuration::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn unclear_durations_are_refused_with_a_reason() {
        assert!(SlaDuration::parse("2h")
            .unwrap_err()
            .contains("\"2h business\""));
        assert!(SlaDuration::parse("1bd calendar").is_err());
        assert!(SlaDuration::parse("1d business").is_err());
        for bad in [
            "",
            "soon",
            "h calendar",
            "2 h calendar",
            "0h calendar",
            "2w calendar",
            "2h calendar now",
        ] {
            assert!(SlaDuration::parse(bad).is_err(), "{bad}");
        }
    }
}
