//! Times as people type them, read in the case book's time zone.
//!
//! Every flag that takes a time (`--eta`, `--at`, `--incident-at`, `--since`, `--until`)
//! reads it here. The forms, all in the case book's zone unless they carry an offset:
//!
//! - an instant: `2026-11-25T14:00:00Z`, `2026-11-25T15:00:00+01:00` (RFC 3339);
//! - a date and time: `2026-11-25 14:00`, `2026-11-25T14:00:30`;
//! - a day and an optional time: `today 14:00`, `tomorrow 9:30`, `yesterday`, a weekday
//!   (`friday 17:00`, `fri`: the next such day after today; `next friday` says the same),
//!   optionally with `at` (`tomorrow at 2pm`);
//! - a time alone, today: `14:00`, `9:30`, `2pm`, `9:30am`;
//! - relative to now: `+3h`, `+90m`, `+2d`, `+1w`, `-2d`, `in 90 minutes`, `in 3 hours`,
//!   `in 2 days`, `3 days ago`, and `now`.
//!
//! A day without a time means what the flag needs ([`DateOnly`]): a promised ETA means
//! the end of that business day (the calendar's closing time), so a customer is never
//! told "by 00:00"; a filter or a past event means the start of the day.
//!
//! Hours and minutes are exact durations (`+3h` is three hours from now, across a
//! daylight-saving change too); days and weeks keep the wall-clock time (`+1d` at 10:00
//! is 10:00 tomorrow). Daylight-saving changes, resolved the same way everywhere:
//! - a local time that does not exist (the hour skipped when clocks go forward) is an
//!   error naming the first valid time after the gap, if the person typed that time;
//!   when it is the result of `+Nd`, it moves forward by the length of the gap;
//! - a local time that exists twice (the hour repeated when clocks go back) means the
//!   first of the two; an RFC 3339 offset chooses the other.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;

use super::time::parse_rfc3339;

/// What a day without a time of day stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOnly {
    /// 00:00, for filters and things that happened.
    StartOfDay,
    /// This time of day: the calendar's closing time, for promises.
    At(NaiveTime),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error(
        "{input:?} is not a time casebook reads; use e.g. \"2026-11-25 14:00\", \"today 14:00\", \"tomorrow 9:30\", \"friday 17:00\", \"14:00\", \"+2d\", \"+3h\", \"in 90 minutes\", \"3 days ago\" (in {tz}), or RFC 3339 such as 2026-11-22T14:30:00Z"
    )]
    Unreadable { input: String, tz: String },
    #[error(
        "{local} does not exist in {tz}: the clocks skip that time when daylight saving starts; the first valid time after it is {after}"
    )]
    Gap {
        local: String,
        tz: String,
        after: String,
    },
    #[error("{input:?} is relative to now, which is not known here; give a date and time in {tz}")]
    NoNow { input: String, tz: String },
}

/// Reads `input` as a person's time in `tz`, relative forms against `now` (none given:
/// relative forms are refused).
pub fn parse_when(
    input: &str,
    tz: Tz,
    now: Option<DateTime<Utc>>,
    date_only: DateOnly,
) -> Result<DateTime<Utc>, TimeError> {
    let unreadable = || TimeError::Unreadable {
        input: input.to_string(),
        tz: tz.name().to_string(),
    };
    let text = input.trim().to_lowercase();
    if text.is_empty() {
        return Err(unreadable());
    }
    if let Some(t) = parse_rfc3339(&text.to_uppercase()) {
        return Ok(t);
    }
    if let Some(local) = absolute_date_time(&text) {
        return exact(local, tz);
    }
    if let Ok(d) = NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
        return exact(day_at(d, None, date_only), tz);
    }
    let needs_now = || TimeError::NoNow {
        input: input.to_string(),
        tz: tz.name().to_string(),
    };
    let words: Vec<&str> = text.split_whitespace().collect();
    if let Some(r) = relative(&words) {
        let now = now.ok_or_else(needs_now)?;
        return Ok(shift(now, r, tz));
    }
    let (day, rest): (Option<NaiveDate>, &[&str]) = match words.as_slice() {
        [first, rest @ ..] if named_day(first).is_some() => {
            let now = now.ok_or_else(needs_now)?;
            (
                Some(on_named_day(named_day(first).expect("checked"), now, tz)),
                rest,
            )
        }
        ["next", first, rest @ ..] if weekday(first).is_some() => {
            let now = now.ok_or_else(needs_now)?;
            let wd = NamedDay::Weekday(weekday(first).expect("checked"));
            (Some(on_named_day(wd, now, tz)), rest)
        }
        _ => (None, &words[..]),
    };
    let rest = match rest {
        ["at", rest @ ..] => rest,
        rest => rest,
    };
    let clock = match rest {
        [] => None,
        [one] => Some(clock_time(one).ok_or_else(unreadable)?),
        [time, meridiem] if matches!(*meridiem, "am" | "pm") => {
            Some(clock_time(&format!("{time}{meridiem}")).ok_or_else(unreadable)?)
        }
        _ => return Err(unreadable()),
    };
    match (day, clock) {
        (Some(d), clock) => exact(day_at(d, clock, date_only), tz),
        (None, Some(clock)) => {
            let now = now.ok_or_else(needs_now)?;
            exact(now.with_timezone(&tz).date_naive().and_time(clock), tz)
        }
        (None, None) => Err(unreadable()),
    }
}

fn absolute_date_time(text: &str) -> Option<NaiveDateTime> {
    [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dt%H:%M:%S",
        "%Y-%m-%dt%H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
}

fn day_at(d: NaiveDate, clock: Option<NaiveTime>, date_only: DateOnly) -> NaiveDateTime {
    match (clock, date_only) {
        (Some(c), _) => d.and_time(c),
        (None, DateOnly::StartOfDay) => d.and_time(NaiveTime::MIN),
        (None, DateOnly::At(c)) => d.and_time(c),
    }
}

/// A local time the person typed: a gap is an error, a fold its first instant.
fn exact(local: NaiveDateTime, tz: Tz) -> Result<DateTime<Utc>, TimeError> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Ok(first.with_timezone(&Utc)),
        LocalResult::None => Err(TimeError::Gap {
            local: local.format("%Y-%m-%d %H:%M").to_string(),
            tz: tz.name().to_string(),
            after: after_gap(local, tz)
                .with_timezone(&tz)
                .format("%Y-%m-%d %H:%M %Z")
                .to_string(),
        }),
    }
}

/// The first instant after the gap that `local` falls in.
fn after_gap(local: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    // Gaps are whole minutes, at most a few hours long; walk forward minute by minute.
    let mut probe = local;
    for _ in 0..(24 * 60) {
        probe += Duration::minutes(1);
        if let Some(t) = tz.from_local_datetime(&probe).earliest() {
            return t.with_timezone(&Utc);
        }
    }
    // No zone has a gap of a day; the UTC reading is as good an answer as any.
    Utc.from_utc_datetime(&local)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NamedDay {
    Today,
    Tomorrow,
    Yesterday,
    Weekday(Weekday),
}

fn named_day(word: &str) -> Option<NamedDay> {
    Some(match word {
        "today" => NamedDay::Today,
        "tomorrow" => NamedDay::Tomorrow,
        "yesterday" => NamedDay::Yesterday,
        w => NamedDay::Weekday(weekday(w)?),
    })
}

fn weekday(word: &str) -> Option<Weekday> {
    Some(match word {
        "monday" | "mon" => Weekday::Mon,
        "tuesday" | "tue" | "tues" => Weekday::Tue,
        "wednesday" | "wed" => Weekday::Wed,
        "thursday" | "thu" | "thur" | "thurs" => Weekday::Thu,
        "friday" | "fri" => Weekday::Fri,
        "saturday" | "sat" => Weekday::Sat,
        "sunday" | "sun" => Weekday::Sun,
        _ => return None,
    })
}

fn on_named_day(day: NamedDay, now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    let today = now.with_timezone(&tz).date_naive();
    match day {
        NamedDay::Today => today,
        NamedDay::Tomorrow => today + Duration::days(1),
        NamedDay::Yesterday => today - Duration::days(1),
        NamedDay::Weekday(wd) => {
            let ahead = (7 + wd.num_days_from_monday() as i64
                - today.weekday().num_days_from_monday() as i64)
                % 7;
            today + Duration::days(if ahead == 0 { 7 } else { ahead })
        }
    }
}

/// `14:00`, `9:30`, `14:00:30`, `2pm`, `9:30am`, `12am` (midnight).
fn clock_time(word: &str) -> Option<NaiveTime> {
    let (digits, meridiem) = match word.strip_suffix("am") {
        Some(d) => (d, Some(false)),
        None => match word.strip_suffix("pm") {
            Some(d) => (d, Some(true)),
            None => (word, None),
        },
    };
    let parts: Vec<&str> = digits.split(':').collect();
    let num = |s: &str, max: u32| -> Option<u32> {
        (!s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
            .filter(|&n| n <= max)
    };
    let (h, m, s) = match (parts.as_slice(), meridiem) {
        ([h], Some(_)) => (num(h, 12)?, 0, 0),
        ([h, m], _) if m.len() == 2 => (num(h, 23)?, num(m, 59)?, 0),
        ([h, m, s], None) if m.len() == 2 && s.len() == 2 => {
            (num(h, 23)?, num(m, 59)?, num(s, 59)?)
        }
        _ => return None,
    };
    let h = match meridiem {
        None => h,
        Some(_) if !(1..=12).contains(&h) => return None,
        Some(false) => h % 12,
        Some(true) => h % 12 + 12,
    };
    NaiveTime::from_hms_opt(h, m, s)
}

/// A relative time: an amount of a unit, forward or back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Relative {
    amount: i64,
    unit: Unit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Minutes,
    Hours,
    Days,
    Weeks,
}

fn unit(word: &str) -> Option<Unit> {
    Some(match word {
        "m" | "min" | "mins" | "minute" | "minutes" => Unit::Minutes,
        "h" | "hr" | "hrs" | "hour" | "hours" => Unit::Hours,
        "d" | "day" | "days" => Unit::Days,
        "w" | "wk" | "wks" | "week" | "weeks" => Unit::Weeks,
        _ => return None,
    })
}

/// `90m`, `3 hours`: an amount and a unit, glued or apart.
fn amount(words: &[&str]) -> Option<Relative> {
    let (number, u) = match words {
        [one] => {
            let split = one.find(|c: char| !c.is_ascii_digit())?;
            (&one[..split], &one[split..])
        }
        [n, u] => (*n, *u),
        _ => return None,
    };
    if number.is_empty() || number.len() > 6 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(Relative {
        amount: number.parse().ok()?,
        unit: unit(u)?,
    })
}

fn relative(words: &[&str]) -> Option<Relative> {
    let negate = |r: Relative| Relative {
        amount: -r.amount,
        ..r
    };
    match words {
        ["now"] => Some(Relative {
            amount: 0,
            unit: Unit::Minutes,
        }),
        ["in", rest @ ..] => amount(rest),
        [rest @ .., "ago"] => amount(rest).map(negate),
        [first, rest @ ..] if first.starts_with('+') || first.starts_with('-') => {
            let sign = first.starts_with('-');
            let mut glued = vec![&first[1..]];
            glued.extend_from_slice(rest);
            let r = amount(&glued)?;
            Some(if sign { negate(r) } else { r })
        }
        _ => None,
    }
}

fn shift(now: DateTime<Utc>, r: Relative, tz: Tz) -> DateTime<Utc> {
    let days = match r.unit {
        Unit::Minutes => return now + Duration::minutes(r.amount),
        Unit::Hours => return now + Duration::hours(r.amount),
        Unit::Days => r.amount,
        Unit::Weeks => r.amount * 7,
    };
    let local = now.with_timezone(&tz).naive_local() + Duration::days(days);
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        // In a gap: move forward by its length, as the wall clock itself does.
        LocalResult::None => {
            let before = tz
                .offset_from_utc_datetime(&(local - Duration::hours(12)))
                .fix()
                .local_minus_utc();
            Utc.from_utc_datetime(&(local - Duration::seconds(i64::from(before))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const BERLIN: Tz = chrono_tz::Europe::Berlin;

    fn at(s: &str) -> DateTime<Utc> {
        parse_rfc3339(s).unwrap()
    }

    fn read(input: &str, now: &str) -> Result<String, TimeError> {
        parse_when(input, BERLIN, Some(at(now)), DateOnly::StartOfDay).map(|t| {
            t.with_timezone(&BERLIN)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
    }

    // Monday 2026-11-23, 10:00 in Berlin (CET, UTC+1).
    const MONDAY: &str = "2026-11-23T09:00:00Z";

    #[test]
    fn days_and_times_people_type() {
        for (input, want) in [
            ("today 14:00", "2026-11-23 14:00"),
            ("Today at 14:00", "2026-11-23 14:00"),
            ("tomorrow 9:30", "2026-11-24 09:30"),
            ("tomorrow at 2pm", "2026-11-24 14:00"),
            ("tomorrow 2 pm", "2026-11-24 14:00"),
            ("yesterday 17:00", "2026-11-22 17:00"),
            ("friday 17:00", "2026-11-27 17:00"),
            ("fri 17:00", "2026-11-27 17:00"),
            ("next friday 17:00", "2026-11-27 17:00"),
            // The next such day after today: a Monday means next week's.
            ("monday 9:00", "2026-11-30 09:00"),
            ("sunday", "2026-11-29 00:00"),
            ("14:00", "2026-11-23 14:00"),
            ("9:30am", "2026-11-23 09:30"),
            ("12am", "2026-11-23 00:00"),
            ("12pm", "2026-11-23 12:00"),
            ("14:00:30", "2026-11-23 14:00"),
            ("2026-11-25 14:00", "2026-11-25 14:00"),
            ("2026-11-25T14:00", "2026-11-25 14:00"),
            ("2026-11-25", "2026-11-25 00:00"),
            ("2026-11-25T13:00:00Z", "2026-11-25 14:00"),
            ("+2d", "2026-11-25 10:00"),
            ("+3h", "2026-11-23 13:00"),
            ("+90m", "2026-11-23 11:30"),
            ("+1w", "2026-11-30 10:00"),
            ("-2d", "2026-11-21 10:00"),
            ("in 90 minutes", "2026-11-23 11:30"),
            ("in 3 hours", "2026-11-23 13:00"),
            ("in 2 days", "2026-11-25 10:00"),
            ("3 days ago", "2026-11-20 10:00"),
            ("2h ago", "2026-11-23 08:00"),
            ("now", "2026-11-23 10:00"),
        ] {
            assert_eq!(read(input, MONDAY).as_deref(), Ok(want), "{input}");
        }
    }

    #[test]
    fn a_date_alone_means_what_the_flag_needs() {
        let close = NaiveTime::from_hms_opt(17, 0, 0).unwrap();
        for input in ["2026-11-25", "wednesday", "tomorrow"] {
            let eta = parse_when(input, BERLIN, Some(at(MONDAY)), DateOnly::At(close)).unwrap();
            assert_eq!(eta.with_timezone(&BERLIN).time(), close, "{input}");
            let since = parse_when(input, BERLIN, Some(at(MONDAY)), DateOnly::StartOfDay).unwrap();
            assert_eq!(
                since.with_timezone(&BERLIN).time(),
                NaiveTime::MIN,
                "{input}"
            );
        }
    }

    #[test]
    fn nonsense_is_refused_with_the_forms_and_the_zone() {
        for bad in [
            "",
            "soon",
            "2026-13-01",
            "2026-02-30 10:00",
            "25:00",
            "9:5",
            "13pm",
            "0am",
            "in",
            "+",
            "+d",
            "in 3 fortnights",
            "friday 17:00 sharp",
            "tomorrow tomorrow",
            "1234567d ago",
            "in -3 hours",
        ] {
            let e = read(bad, MONDAY).unwrap_err();
            assert!(matches!(e, TimeError::Unreadable { .. }), "{bad}: {e}");
            assert!(e.to_string().contains("Europe/Berlin"), "{e}");
            assert!(e.to_string().contains("tomorrow 9:30"), "{e}");
        }
    }

    #[test]
    fn relative_forms_need_a_now() {
        for input in ["+2d", "tomorrow", "14:00", "friday 17:00"] {
            let e = parse_when(input, BERLIN, None, DateOnly::StartOfDay).unwrap_err();
            assert!(matches!(e, TimeError::NoNow { .. }), "{input}: {e}");
        }
        assert!(parse_when("2026-11-25 14:00", BERLIN, None, DateOnly::StartOfDay).is_ok());
    }

    #[test]
    fn daylight_saving_gap_and_fold_are_resolved_as_documented() {
        // Berlin springs forward on 2026-03-29: 02:00 becomes 03:00.
        let e = read("2026-03-29 02:30", "2026-03-28T09:00:00Z").unwrap_err();
        assert_eq!(
            e.to_string(),
            "2026-03-29 02:30 does not exist in Europe/Berlin: the clocks skip that time when \
             daylight saving starts; the first valid time after it is 2026-03-29 03:00 CEST"
        );
        assert!(matches!(
            read("tomorrow 2:30", "2026-03-28T09:00:00Z"),
            Err(TimeError::Gap { .. })
        ));
        // +1d from 02:30 the day before lands in the gap: moved on by the gap's hour.
        assert_eq!(
            read("+1d", "2026-03-28T01:30:00Z").as_deref(),
            Ok("2026-03-29 03:30")
        );
        // +3h is exact across the change: 01:00 CET + 3h = 05:00 CEST.
        assert_eq!(
            read("+3h", "2026-03-29T00:00:00Z").as_deref(),
            Ok("2026-03-29 05:00")
        );
        // Berlin falls back on 2026-10-25: 02:30 happens twice; the first is taken.
        let t = parse_when("2026-10-25 02:30", BERLIN, None, DateOnly::StartOfDay).unwrap();
        assert_eq!(t, at("2026-10-25T00:30:00Z"));
        // An offset chooses the second.
        let t = parse_when(
            "2026-10-25T02:30:00+01:00",
            BERLIN,
            None,
            DateOnly::StartOfDay,
        );
        assert_eq!(t, Ok(at("2026-10-25T01:30:00Z")));
    }

    fn instant() -> impl Strategy<Value = DateTime<Utc>> {
        // 2020..2035, whole minutes.
        (1_577_836_800i64 / 60..2_051_222_400i64 / 60)
            .prop_map(|m| DateTime::from_timestamp(m * 60, 0).unwrap())
    }

    fn zone() -> impl Strategy<Value = Tz> {
        prop::sample::select(vec![
            chrono_tz::Europe::Berlin,
            chrono_tz::America::New_York,
            chrono_tz::Australia::Lord_Howe,
            chrono_tz::Asia::Kolkata,
            chrono_tz::UTC,
        ])
    }

    proptest! {
        #[test]
        fn hours_and_minutes_are_exact(now in instant(), tz in zone(), n in 0i64..10_000) {
            let t = parse_when(&format!("+{n}m"), tz, Some(now), DateOnly::StartOfDay).unwrap();
            prop_assert_eq!(t, now + Duration::minutes(n));
            let t = parse_when(&format!("in {n} hours"), tz, Some(now), DateOnly::StartOfDay).unwrap();
            prop_assert_eq!(t, now + Duration::hours(n));
            let t = parse_when(&format!("{n}h ago"), tz, Some(now), DateOnly::StartOfDay).unwrap();
            prop_assert_eq!(t, now - Duration::hours(n));
        }

        #[test]
        fn a_day_and_time_is_that_wall_clock_time_or_a_gap(
            now in instant(), tz in zone(), h in 0u32..24, m in 0u32..60,
        ) {
            let input = format!("tomorrow {h}:{m:02}");
            let tomorrow = now.with_timezone(&tz).date_naive() + Duration::days(1);
            match parse_when(&input, tz, Some(now), DateOnly::StartOfDay) {
                Ok(t) => {
                    let local = t.with_timezone(&tz);
                    prop_assert_eq!(local.date_naive(), tomorrow);
                    prop_assert_eq!(local.time(), NaiveTime::from_hms_opt(h, m, 0).unwrap());
                }
                Err(TimeError::Gap { .. }) => {
                    let wall = tomorrow.and_hms_opt(h, m, 0).unwrap();
                    prop_assert!(tz.from_local_datetime(&wall).earliest().is_none());
                }
                Err(e) => prop_assert!(false, "{}", e),
            }
        }

        #[test]
        fn shown_times_read_back_as_the_same_minute(t in instant(), tz in zone()) {
            let shown = t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
            let back = parse_when(&shown, tz, None, DateOnly::StartOfDay).unwrap();
            // In a fold the first of the two instants is taken.
            let first = tz.from_local_datetime(&t.with_timezone(&tz).naive_local()).earliest();
            prop_assert_eq!(Some(back), first.map(|f| f.with_timezone(&Utc)));
        }

        #[test]
        fn days_keep_the_wall_clock_time(now in instant(), tz in zone(), n in 0i64..400) {
            let t = parse_when(&format!("+{n}d"), tz, Some(now), DateOnly::StartOfDay).unwrap();
            let (from, to) = (now.with_timezone(&tz), t.with_timezone(&tz));
            prop_assert!(t >= now);
            if to.time() == from.time() {
                prop_assert_eq!(to.date_naive(), from.date_naive() + Duration::days(n));
            } else {
                // Only a daylight-saving gap moves the time: forward, by at most its length.
                let wall = from.naive_local() + Duration::days(n);
                prop_assert!(tz.from_local_datetime(&wall).earliest().is_none());
                prop_assert!(to.naive_local() > wall && to.naive_local() - wall <= Duration::hours(2));
            }
        }

        #[test]
        fn anything_typed_is_read_or_refused_never_a_panic(s in "\\PC{0,30}", now in instant()) {
            let _ = parse_when(&s, chrono_tz::Europe::Berlin, Some(now), DateOnly::StartOfDay);
        }
    }
}
