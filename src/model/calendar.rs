//! Business calendar: a time zone, weekly opening hours and holidays, used to
//! compute due dates ("N business minutes after this instant") and elapsed
//! business time between two instants. Pure: no IO, no clock reads.
//!
//! # Semantics
//!
//! * **Opening hours are local wall-clock times** in the calendar's IANA time
//!   zone, the same on every open weekday, and **half-open**: with the default
//!   `09:00–17:00` the instant 09:00 is open and 17:00 is closed. Each business
//!   day therefore contributes one window `[date + open, date + close)`.
//! * A date is a **business day** when its weekday is open and no holiday
//!   matches it. Holidays are recurring (`MM-DD`, every year; `02-29` only in
//!   leap years) or one-off (`YYYY-MM-DD`).
//! * **Adding N business minutes** moves to the first business instant at or
//!   after the start and then consumes only time inside windows. A budget that
//!   runs out exactly at closing time **ends at closing time**, not at the next
//!   opening. Adding 0 returns the start unchanged, even outside hours: a zero
//!   budget is met immediately, so there is nothing to wait for.
//! * **Precision**: instants keep their seconds (and sub-seconds):
//!   16:30:30 + 60 business minutes is the next business day's 09:30:30.
//!   Elapsed business time is exact in seconds; whole minutes are its floor.
//! * **"One business day"** is [`Calendar::minutes_per_day`] minutes
//!   (`close - open`, 480 by default), not "same time on the next business
//!   day", although the two agree for starts inside hours on normal days.
//! * **Daylight saving time** follows the zone's rules because windows are
//!   built from local times and only then converted to UTC. A local time that
//!   does not exist (spring-forward gap) maps to the first instant after the
//!   gap; an ambiguous one (fall-back overlap) maps to its earliest instant.
//!   So a window that spans a transition is shorter or longer in real time,
//!   and business time is always measured in real (UTC) time.
//! * **Search horizon**: both operations look at most [`MAX_SEARCH_DAYS`]
//!   calendar days (about 100 years) ahead. A calendar without any business
//!   day at all is rejected by [`Calendar::new`], but a long enough list of
//!   one-off holidays could still block every open day for a long time; rather
//!   than loop forever, a budget not used up within the horizon yields the end
//!   of the horizon, and business time beyond the horizon is not counted.
//!   Cost is proportional to the number of calendar days spanned, never to
//!   the number of minutes.

use std::collections::HashSet;
use std::fmt;

use chrono::{
    DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta,
    TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;

/// How many calendar days the business-time searches look ahead (~100 years).
pub const MAX_SEARCH_DAYS: u32 = 366 * 100;

/// Why a calendar setting could not be parsed or a calendar not be built.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CalendarError {
    #[error("unknown time zone {0:?}: expected an IANA name such as \"Europe/Berlin\"")]
    UnknownTimeZone(String),
    #[error("bad holiday {0:?}: expected MM-DD (recurring) or YYYY-MM-DD (one-off)")]
    BadHoliday(String),
    #[error("bad time {0:?}: expected HH:MM (24-hour)")]
    BadTime(String),
    #[error("bad weekday {0:?}: expected mon, tue, wed, thu, fri, sat or sun")]
    BadWeekday(String),
    #[error(
        "opening time {} is not before closing time {}: expected hours such as 09:00-17:00 within one day",
        .open.format("%H:%M"),
        .close.format("%H:%M")
    )]
    EmptyHours { open: NaiveTime, close: NaiveTime },
    #[error("no open weekdays: expected at least one, e.g. mon..fri")]
    NoOpenDays,
    #[error("every date of the year is a recurring holiday: expected at least one date without a holiday")]
    NoBusinessDays,
}

/// A day the business is closed even if its weekday is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holiday {
    /// The same month and day every year, written `MM-DD`.
    Recurring { month: u32, day: u32 },
    /// A single date, written `YYYY-MM-DD`.
    Once(NaiveDate),
}

impl Holiday {
    /// Parses `MM-DD` (recurring) or `YYYY-MM-DD` (one-off); surrounding
    /// whitespace is ignored, the digit counts are strict.
    pub fn parse(s: &str) -> Result<Holiday, CalendarError> {
        let bad = || CalendarError::BadHoliday(s.to_string());
        let parts: Vec<&str> = s.trim().split('-').collect();
        let number = |part: &str, width: usize| -> Result<u32, CalendarError> {
            if part.len() == width && part.bytes().all(|b| b.is_ascii_digit()) {
                part.parse().map_err(|_| bad())
            } else {
                Err(bad())
            }
        };
        match parts.as_slice() {
            [m, d] => {
                let (month, day) = (number(m, 2)?, number(d, 2)?);
                let holiday = Holiday::Recurring { month, day };
                if holiday.is_valid() {
                    Ok(holiday)
                } else {
                    Err(bad())
                }
            }
            [y, m, d] => {
                let year = i32::try_from(number(y, 4)?).map_err(|_| bad())?;
                NaiveDate::from_ymd_opt(year, number(m, 2)?, number(d, 2)?)
                    .map(Holiday::Once)
                    .ok_or_else(bad)
            }
            _ => Err(bad()),
        }
    }

    /// Whether this holiday falls on `d`.
    pub fn matches(&self, d: NaiveDate) -> bool {
        match *self {
            Holiday::Recurring { month, day } => d.month() == month && d.day() == day,
            Holiday::Once(date) => date == d,
        }
    }

    /// A recurring holiday must name a real date in some year; 2000 is a leap
    /// year, so `02-29` counts as valid.
    fn is_valid(&self) -> bool {
        match *self {
            Holiday::Recurring { month, day } => {
                NaiveDate::from_ymd_opt(2000, month, day).is_some()
            }
            Holiday::Once(_) => true,
        }
    }
}

impl fmt::Display for Holiday {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Holiday::Recurring { month, day } => write!(f, "{month:02}-{day:02}"),
            Holiday::Once(date) => write!(f, "{}", date.format("%Y-%m-%d")),
        }
    }
}

/// Parses a weekday: `mon`..`sun` or the full English name, any case.
pub fn parse_weekday(s: &str) -> Result<Weekday, CalendarError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "mon" | "monday" => Ok(Weekday::Mon),
        "tue" | "tuesday" => Ok(Weekday::Tue),
        "wed" | "wednesday" => Ok(Weekday::Wed),
        "thu" | "thursday" => Ok(Weekday::Thu),
        "fri" | "friday" => Ok(Weekday::Fri),
        "sat" | "saturday" => Ok(Weekday::Sat),
        "sun" | "sunday" => Ok(Weekday::Sun),
        _ => Err(CalendarError::BadWeekday(s.to_string())),
    }
}

/// Parses a 24-hour `HH:MM` clock time from 00:00 to 23:59 (a single-digit
/// hour such as `9:00` is accepted). `24:00` is rejected: closing "at
/// midnight" would put the window's end on the next date, which windows
/// never do.
pub fn parse_clock(s: &str) -> Result<NaiveTime, CalendarError> {
    let bad = || CalendarError::BadTime(s.to_string());
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    let digits = |part: &str, widths: &[usize]| {
        widths.contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(h, &[1, 2]) || !digits(m, &[2]) {
        return Err(bad());
    }
    let hour: u32 = h.parse().map_err(|_| bad())?;
    let minute: u32 = m.parse().map_err(|_| bad())?;
    NaiveTime::from_hms_opt(hour, minute, 0).ok_or_else(bad)
}

/// Parses an IANA time zone name such as `Europe/Berlin` (case-sensitive).
pub fn parse_timezone(s: &str) -> Result<Tz, CalendarError> {
    s.trim()
        .parse::<Tz>()
        .map_err(|_| CalendarError::UnknownTimeZone(s.to_string()))
}

/// A business calendar; see the module documentation for the semantics.
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    tz: Tz,
    open: NaiveTime,
    close: NaiveTime,
    /// Indexed by `Weekday::num_days_from_monday`.
    open_days: [bool; 7],
    /// As given, for display and round-tripping configuration.
    holidays: Vec<Holiday>,
    /// Lookup sets derived from `holidays`, so each day costs O(1).
    recurring: HashSet<(u32, u32)>,
    once: HashSet<NaiveDate>,
}

impl Calendar {
    /// Builds a calendar. Requires `open < close`, at least one open weekday,
    /// valid recurring holidays, and at least one date of the year that is
    /// not a recurring holiday (otherwise no business day could ever exist).
    pub fn new(
        tz: Tz,
        open: NaiveTime,
        close: NaiveTime,
        days: &[Weekday],
        holidays: Vec<Holiday>,
    ) -> Result<Calendar, CalendarError> {
        if open >= close {
            return Err(CalendarError::EmptyHours { open, close });
        }
        if days.is_empty() {
            return Err(CalendarError::NoOpenDays);
        }
        let mut open_days = [false; 7];
        for day in days {
            open_days[day.num_days_from_monday() as usize] = true;
        }
        let mut recurring = HashSet::new();
        let mut once = HashSet::new();
        for holiday in &holidays {
            match *holiday {
                Holiday::Recurring { month, day } => {
                    if !holiday.is_valid() {
                        return Err(CalendarError::BadHoliday(holiday.to_string()));
                    }
                    recurring.insert((month, day));
                }
                Holiday::Once(date) => {
                    once.insert(date);
                }
            }
        }
        // Every month-day falls on every weekday over the years, so the only
        // way a business day can never occur is recurring holidays on all 366
        // dates (one-off lists are finite).
        if recurring.len() >= 366 {
            return Err(CalendarError::NoBusinessDays);
        }
        Ok(Calendar {
            tz,
            open,
            close,
            open_days,
            holidays,
            recurring,
            once,
        })
    }

    /// Monday to Friday, 09:00–17:00, no holidays.
    pub fn standard(tz: Tz) -> Calendar {
        let nine = NaiveTime::from_hms_opt(9, 0, 0).expect("09:00 is a valid time");
        let five = NaiveTime::from_hms_opt(17, 0, 0).expect("17:00 is a valid time");
        let weekdays = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ];
        Calendar::new(tz, nine, five, &weekdays, Vec::new())
            .expect("standard hours are non-empty and have open days")
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }

    pub fn open(&self) -> NaiveTime {
        self.open
    }

    pub fn close(&self) -> NaiveTime {
        self.close
    }

    /// Open weekdays, Monday first.
    pub fn weekdays(&self) -> Vec<Weekday> {
        let mut day = Weekday::Mon;
        let mut out = Vec::new();
        for open in self.open_days {
            if open {
                out.push(day);
            }
            day = day.succ();
        }
        out
    }

    pub fn holidays(&self) -> &[Holiday] {
        &self.holidays
    }

    /// Length of one business day in minutes (`close - open`): what "1bd"
    /// means. On a day whose hours span a DST change the real window differs.
    pub fn minutes_per_day(&self) -> i64 {
        (self.close - self.open).num_minutes()
    }

    /// Open weekday and not a holiday.
    pub fn is_business_day(&self, date: NaiveDate) -> bool {
        self.open_days[date.weekday().num_days_from_monday() as usize]
            && !self.once.contains(&date)
            && !self.recurring.contains(&(date.month(), date.day()))
    }

    /// Whether `t` lies inside a window (closing time itself is closed).
    pub fn is_open_at(&self, t: DateTime<Utc>) -> bool {
        let date = self.local_date(t);
        // Neighbouring dates too, as a guard against odd zone transitions.
        [date.pred_opt(), Some(date), date.succ_opt()]
            .into_iter()
            .flatten()
            .filter_map(|d| self.window(d))
            .any(|(open, close)| open <= t && t < close)
    }

    /// The first business instant at or after `t` (`t` itself when open);
    /// `None` if there is none within the search horizon.
    pub fn next_business_instant(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.windows_from(t).next().map(|(start, _)| start)
    }

    /// The instant at which `minutes` business minutes starting at `start`
    /// have elapsed. `minutes` must be `>= 0`; a negative value is treated as
    /// zero in release builds. Zero returns `start` unchanged (even outside
    /// hours: a zero budget is met at once). A budget that ends exactly at a
    /// closing time returns that closing time.
    pub fn add_business_minutes(&self, start: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
        debug_assert!(
            minutes >= 0,
            "business minutes to add must be >= 0, got {minutes}"
        );
        if minutes <= 0 {
            return start;
        }
        // Budgets too large for a TimeDelta (~292 million years) cannot end
        // inside the horizon anyway.
        self.add_business(
            start,
            TimeDelta::try_minutes(minutes).unwrap_or(TimeDelta::MAX),
        )
    }

    /// Like [`Calendar::add_business_minutes`], for a budget of any precision (SLA clocks
    /// that were paused part-way through a minute). A budget of zero or less returns
    /// `start`.
    pub fn add_business(&self, start: DateTime<Utc>, budget: TimeDelta) -> DateTime<Utc> {
        if budget <= TimeDelta::zero() {
            return start;
        }
        let mut budget = budget;
        let mut windows = self.windows_from(start);
        for (from, close) in windows.by_ref() {
            let available = close - from;
            if budget <= available {
                return from + budget;
            }
            budget -= available;
        }
        windows.horizon()
    }

    /// `days` business days of [`Calendar::minutes_per_day`] minutes each.
    pub fn add_business_days(&self, start: DateTime<Utc>, days: i64) -> DateTime<Utc> {
        self.add_business_minutes(start, days.saturating_mul(self.minutes_per_day()))
    }

    /// Business time in `[from, to)` in whole seconds (sub-seconds
    /// truncated); 0 if `to <= from`.
    pub fn business_seconds_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        if to <= from {
            return 0;
        }
        let mut total = TimeDelta::zero();
        for (start, close) in self.windows_from(from) {
            if start >= to {
                break;
            }
            total += close.min(to) - start;
        }
        total.num_seconds()
    }

    /// Business time in `[from, to)` in whole minutes (floor); 0 if `to <= from`.
    pub fn business_minutes_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        self.business_seconds_between(from, to) / 60
    }

    fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        local_reading(self.tz, t).date()
    }

    /// The window `[open, close)` of `date` in UTC, if it is a business day
    /// and the window is not empty (it can be, when both ends fall into the
    /// same DST gap).
    fn window(&self, date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        if !self.is_business_day(date) {
            return None;
        }
        let open = resolve_local(self.tz, date.and_time(self.open));
        let close = resolve_local(self.tz, date.and_time(self.close));
        (open < close).then_some((open, close))
    }

    /// The business windows from `t` on, the first one clipped to start at `t`.
    fn windows_from(&self, t: DateTime<Utc>) -> Windows<'_> {
        // Starting a day early costs one window and guards against a window
        // that, after a zone transition, belongs to the previous local date.
        let date = self.local_date(t);
        Windows {
            cal: self,
            cursor: t,
            date: date.pred_opt().or(Some(date)),
            days_left: MAX_SEARCH_DAYS,
        }
    }
}

/// Iterator over business windows in increasing order, each clipped so that
/// it starts no earlier than the end of the previous one. The cursor only
/// moves forward, so no business time is ever counted twice even if odd zone
/// data made windows of consecutive dates overlap.
struct Windows<'a> {
    cal: &'a Calendar,
    cursor: DateTime<Utc>,
    /// Next local date to look at; `None` past the end of chrono's range.
    date: Option<NaiveDate>,
    days_left: u32,
}

impl Windows<'_> {
    /// Where the search stopped: the later of the cursor and the start of the
    /// first date not searched. Finite and later than any window yielded.
    fn horizon(&self) -> DateTime<Utc> {
        match self.date {
            Some(date) => self
                .cursor
                .max(resolve_local(self.cal.tz, date.and_time(NaiveTime::MIN))),
            None => DateTime::<Utc>::MAX_UTC,
        }
    }
}

impl Iterator for Windows<'_> {
    type Item = (DateTime<Utc>, DateTime<Utc>);

    fn next(&mut self) -> Option<Self::Item> {
        while self.days_left > 0 {
            let date = self.date?;
            self.days_left -= 1;
            self.date = date.succ_opt();
            if let Some((open, close)) = self.cal.window(date) {
                let start = self.cursor.max(open);
                if start < close {
                    self.cursor = close;
                    return Some((start, close));
                }
            }
        }
        None
    }
}

/// The local wall-clock reading of `t`. Unlike `DateTime::naive_local`, this
/// does not panic at the ends of chrono's range: there it falls back to the
/// UTC reading, which is only ever off by the zone's offset.
fn local_reading(tz: Tz, t: DateTime<Utc>) -> NaiveDateTime {
    let offset = TimeDelta::seconds(i64::from(
        tz.offset_from_utc_datetime(&t.naive_utc())
            .fix()
            .local_minus_utc(),
    ));
    t.naive_utc()
        .checked_add_signed(offset)
        .unwrap_or(t.naive_utc())
}

/// The instant of a local wall-clock time: the earliest one if the time is
/// ambiguous (fall-back overlap), the first instant after the gap if it does
/// not exist (spring-forward gap).
fn resolve_local(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(earliest, _) => earliest.with_timezone(&Utc),
        LocalResult::None => first_instant_reaching(tz, local),
    }
}

/// The first instant whose local time is at or after `local`, for a `local`
/// inside a gap: that is exactly the instant the clocks jumped. Found by
/// bisection over whole seconds (zone transitions happen on whole seconds),
/// which needs no access to the zone's transition table.
fn first_instant_reaching(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let reading = |secs: i64| DateTime::from_timestamp(secs, 0).map(|t| local_reading(tz, t));
    // Real UTC offsets stay well within ±26 hours, so the local reading is
    // before `local` at `lo` and not before it at `hi`. Since `local` has no
    // instant, the reading can only pass it by jumping, i.e. at a gap's end.
    let guess = local.and_utc().timestamp();
    let (mut lo, mut hi) = (guess - 26 * 3600, guess + 26 * 3600);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        match reading(mid) {
            Some(r) if r >= local => hi = mid,
            Some(_) => lo = mid,
            // Outside chrono's range: no zone data there, nothing to find.
            None => break,
        }
    }
    DateTime::from_timestamp(hi, 0).unwrap_or_else(|| local.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America::New_York, Europe::Berlin};
    use proptest::prelude::*;

    /// A local wall-clock time ("YYYY-MM-DD HH:MM" or with ":SS") in `tz`.
    fn at(tz: Tz, s: &str) -> DateTime<Utc> {
        let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
            .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M"))
            .unwrap_or_else(|e| panic!("bad test time {s:?}: {e}"));
        tz.from_local_datetime(&naive)
            .single()
            .unwrap_or_else(|| panic!("test time {s:?} is not unique in {tz}"))
            .with_timezone(&Utc)
    }

    fn berlin(s: &str) -> DateTime<Utc> {
        at(Berlin, s)
    }

    fn clock(s: &str) -> NaiveTime {
        parse_clock(s).expect("test clock times are valid")
    }

    fn holidays(list: &[&str]) -> Vec<Holiday> {
        list.iter()
            .map(|s| Holiday::parse(s).expect("test holidays are valid"))
            .collect()
    }

    /// `t` in the calendar's zone, formatted like the spec's tables.
    fn local(cal: &Calendar, t: DateTime<Utc>) -> String {
        t.with_timezone(&cal.tz())
            .format("%a %Y-%m-%d %H:%M")
            .to_string()
    }

    /// The due time, as local text, of `minutes` added to local `start`.
    fn due(cal: &Calendar, start: &str, minutes: i64) -> String {
        local(cal, cal.add_business_minutes(at(cal.tz(), start), minutes))
    }

    // ---- the spec's worked examples (Europe/Berlin, Mon–Fri 09:00–17:00) ----

    #[test]
    fn friday_afternoon_plus_60_rolls_to_monday() {
        assert_eq!(
            due(&Calendar::standard(Berlin), "2025-01-10 16:30", 60),
            "Mon 2025-01-13 09:30"
        );
    }

    #[test]
    fn friday_afternoon_plus_120_rolls_to_monday() {
        assert_eq!(
            due(&Calendar::standard(Berlin), "2025-01-10 16:30", 120),
            "Mon 2025-01-13 10:30"
        );
    }

    #[test]
    fn start_at_closing_time_counts_from_next_opening() {
        assert_eq!(
            due(&Calendar::standard(Berlin), "2025-01-10 17:00", 60),
            "Mon 2025-01-13 10:00"
        );
    }

    #[test]
    fn start_before_opening_counts_from_opening() {
        assert_eq!(
            due(&Calendar::standard(Berlin), "2025-01-10 08:59", 60),
            "Fri 2025-01-10 10:00"
        );
    }

    #[test]
    fn budget_ending_at_closing_time_ends_there_not_at_next_opening() {
        assert_eq!(
            due(&Calendar::standard(Berlin), "2025-01-13 09:00", 960),
            "Tue 2025-01-14 17:00"
        );
    }

    #[test]
    fn continuing_from_a_closing_time_result_matches_one_larger_budget() {
        let cal = Calendar::standard(Berlin);
        let at_close = cal.add_business_minutes(berlin("2025-01-13 09:00"), 480);
        assert_eq!(local(&cal, at_close), "Mon 2025-01-13 17:00");
        let continued = cal.add_business_minutes(at_close, 60);
        assert_eq!(
            continued,
            cal.add_business_minutes(berlin("2025-01-13 09:00"), 540)
        );
        assert_eq!(local(&cal, continued), "Tue 2025-01-14 10:00");
    }

    #[test]
    fn one_business_day_from_mid_afternoon() {
        let cal = Calendar::standard(Berlin);
        assert_eq!(cal.minutes_per_day(), 480);
        assert_eq!(
            due(&cal, "2025-01-14 15:00", cal.minutes_per_day()),
            "Wed 2025-01-15 15:00"
        );
        let via_days = cal.add_business_days(berlin("2025-01-14 15:00"), 1);
        assert_eq!(local(&cal, via_days), "Wed 2025-01-15 15:00");
    }

    #[test]
    fn one_business_day_from_friday_afternoon() {
        let cal = Calendar::standard(Berlin);
        assert_eq!(due(&cal, "2025-01-10 16:30", 480), "Mon 2025-01-13 16:30");
    }

    #[test]
    fn one_business_day_from_saturday_ends_at_monday_close() {
        let cal = Calendar::standard(Berlin);
        assert_eq!(due(&cal, "2025-01-11 10:00", 480), "Mon 2025-01-13 17:00");
    }

    #[test]
    fn recurring_holiday_is_skipped() {
        let cal = Calendar::new(
            Berlin,
            clock("09:00"),
            clock("17:00"),
            &[
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            holidays(&["12-25"]),
        )
        .expect("valid calendar");
        assert_eq!(due(&cal, "2024-12-24 16:00", 120), "Thu 2024-12-26 10:00");
    }

    #[test]
    fn new_york_across_spring_forward_weekend() {
        let cal = Calendar::standard(New_York);
        let result = cal.add_business_minutes(at(New_York, "2024-03-08 16:30"), 120);
        assert_eq!(local(&cal, result), "Mon 2024-03-11 10:30");
        assert_eq!(result.to_rfc3339(), "2024-03-11T14:30:00+00:00");
    }

    #[test]
    fn at_risk_point_is_75_percent_of_a_120_minute_target() {
        assert_eq!(
            due(&Calendar::standard(Berlin), "2025-01-10 16:30", 90),
            "Mon 2025-01-13 10:00"
        );
    }

    #[test]
    fn business_minutes_between_within_a_day_and_over_a_weekend() {
        let cal = Calendar::standard(Berlin);
        assert_eq!(
            cal.business_minutes_between(berlin("2025-01-13 09:00"), berlin("2025-01-13 13:00")),
            240
        );
        assert_eq!(
            cal.business_minutes_between(berlin("2025-01-10 16:30"), berlin("2025-01-13 09:30")),
            60
        );
    }

    // ---- further semantics ----

    #[test]
    fn zero_budget_returns_start_inside_and_outside_hours() {
        let cal = Calendar::standard(Berlin);
        for start in [
            "2025-01-13 10:15:42",
            "2025-01-11 10:00",
            "2025-01-10 17:00",
        ] {
            assert_eq!(
                cal.add_business_minutes(berlin(start), 0),
                berlin(start),
                "start {start}"
            );
        }
    }

    #[test]
    fn seconds_are_kept() {
        let cal = Calendar::standard(Berlin);
        let result = cal.add_business_minutes(berlin("2025-01-10 16:30:30"), 60);
        assert_eq!(result, berlin("2025-01-13 09:30:30"));
        let elapsed =
            cal.business_seconds_between(berlin("2025-01-13 09:00"), berlin("2025-01-13 09:01:59"));
        assert_eq!(elapsed, 119);
        assert_eq!(
            cal.business_minutes_between(berlin("2025-01-13 09:00"), berlin("2025-01-13 09:01:59")),
            1
        );
    }

    #[test]
    fn between_is_zero_for_empty_or_reversed_ranges() {
        let cal = Calendar::standard(Berlin);
        let t = berlin("2025-01-13 10:00");
        assert_eq!(cal.business_minutes_between(t, t), 0);
        assert_eq!(
            cal.business_minutes_between(t, berlin("2025-01-13 09:00")),
            0
        );
        assert_eq!(
            cal.business_minutes_between(berlin("2025-01-11 00:00"), berlin("2025-01-13 09:00")),
            0
        );
    }

    #[test]
    fn open_hours_are_half_open() {
        let cal = Calendar::new(
            Berlin,
            clock("09:00"),
            clock("17:00"),
            &[
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            holidays(&["2025-01-14"]),
        )
        .expect("valid calendar");
        assert!(!cal.is_open_at(berlin("2025-01-13 08:59:59")));
        assert!(cal.is_open_at(berlin("2025-01-13 09:00")));
        assert!(cal.is_open_at(berlin("2025-01-13 16:59:59")));
        assert!(!cal.is_open_at(berlin("2025-01-13 17:00")));
        assert!(
            !cal.is_open_at(berlin("2025-01-14 10:00")),
            "one-off holiday"
        );
        assert!(!cal.is_open_at(berlin("2025-01-11 10:00")), "saturday");
        assert_eq!(
            cal.next_business_instant(berlin("2025-01-13 17:00")),
            Some(berlin("2025-01-15 09:00"))
        );
        assert_eq!(
            cal.next_business_instant(berlin("2025-01-13 12:34")),
            Some(berlin("2025-01-13 12:34"))
        );
    }

    #[test]
    fn custom_week_and_accessors() {
        let days = [
            Weekday::Sun,
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
        ];
        let cal = Calendar::new(
            New_York,
            clock("08:30"),
            clock("16:45"),
            &days,
            holidays(&["01-01"]),
        )
        .expect("valid calendar");
        assert_eq!(cal.minutes_per_day(), 495);
        assert_eq!(
            cal.weekdays(),
            vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Sun
            ]
        );
        assert_eq!(cal.holidays(), holidays(&["01-01"]).as_slice());
        assert_eq!(
            (cal.open(), cal.close(), cal.tz()),
            (clock("08:30"), clock("16:45"), New_York)
        );
        // Thu 2025-01-09 16:00 + 60: 45 min Thursday, Fri/Sat closed, Sun 08:30 + 15.
        assert_eq!(due(&cal, "2025-01-09 16:00", 60), "Sun 2025-01-12 08:45");
    }

    #[test]
    fn dst_gap_resolves_to_first_instant_after_it_and_overlap_to_earliest() {
        // Berlin springs forward 2025-03-30 02:00 CET -> 03:00 CEST (01:00Z) and
        // falls back 2025-10-26 03:00 CEST -> 02:00 CET (01:00Z).
        let gap = NaiveDate::from_ymd_opt(2025, 3, 30).and_then(|d| d.and_hms_opt(2, 30, 0));
        let overlap = NaiveDate::from_ymd_opt(2025, 10, 26).and_then(|d| d.and_hms_opt(2, 30, 0));
        let (gap, overlap) = (gap.expect("valid"), overlap.expect("valid"));
        assert_eq!(
            resolve_local(Berlin, gap).to_rfc3339(),
            "2025-03-30T01:00:00+00:00"
        );
        assert_eq!(
            resolve_local(Berlin, overlap).to_rfc3339(),
            "2025-10-26T00:30:00+00:00"
        );
    }

    #[test]
    fn windows_spanning_dst_changes_measure_real_time() {
        let every_day = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ];
        let night = Calendar::new(Berlin, clock("01:30"), clock("03:30"), &every_day, vec![])
            .expect("valid");
        let day = |cal: &Calendar, d: &str| {
            cal.business_minutes_between(
                berlin(&format!("{d} 00:00")),
                berlin(&format!("{d} 12:00")),
            )
        };
        assert_eq!(day(&night, "2025-03-29"), 120);
        assert_eq!(
            day(&night, "2025-03-30"),
            60,
            "spring forward loses an hour"
        );
        assert_eq!(day(&night, "2025-10-26"), 180, "fall back gains an hour");
        // Both ends inside the gap: an empty window, skipped.
        let in_gap = Calendar::new(Berlin, clock("02:10"), clock("02:50"), &every_day, vec![])
            .expect("valid");
        assert_eq!(day(&in_gap, "2025-03-30"), 0);
        assert_eq!(due(&in_gap, "2025-03-29 02:50", 1), "Mon 2025-03-31 02:11");
        // Opening inside the gap starts at the end of the gap.
        let late = Calendar::new(Berlin, clock("02:30"), clock("04:00"), &every_day, vec![])
            .expect("valid");
        assert_eq!(due(&late, "2025-03-30 00:00", 1), "Sun 2025-03-30 03:01");
    }

    #[test]
    fn search_stops_at_the_horizon_instead_of_looping() {
        // Mondays only, and every Monday for 101 years is a one-off holiday.
        let first = NaiveDate::from_ymd_opt(2025, 1, 6).expect("valid");
        let blocked = (0..101 * 53)
            .filter_map(|w| first.checked_add_days(chrono::Days::new(7 * w)))
            .map(Holiday::Once);
        let cal = Calendar::new(
            Berlin,
            clock("09:00"),
            clock("17:00"),
            &[Weekday::Mon],
            blocked.collect(),
        )
        .expect("valid");
        let start = berlin("2025-01-01 00:00");
        let result = cal.add_business_minutes(start, 60);
        assert!(
            result > start + TimeDelta::days(365 * 99),
            "horizon ~100 years ahead, got {result}"
        );
        assert_eq!(cal.next_business_instant(start), None);
        assert_eq!(cal.business_minutes_between(start, result), 0);
        // An absurd budget on a normal calendar also terminates.
        let normal = Calendar::standard(Berlin);
        assert!(normal.add_business_minutes(start, i64::MAX) > start + TimeDelta::days(365 * 99));
    }

    #[test]
    fn extreme_instants_do_not_panic() {
        let cal = Calendar::standard(New_York);
        for t in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
            let _ = cal.add_business_minutes(t, 60);
            let _ = cal.is_open_at(t);
            let _ = cal.next_business_instant(t);
            let _ = cal.business_minutes_between(DateTime::<Utc>::MIN_UTC, t);
        }
    }

    // ---- construction and parsing ----

    #[test]
    fn new_rejects_impossible_calendars() {
        let mon = [Weekday::Mon];
        assert_eq!(
            Calendar::new(Berlin, clock("17:00"), clock("09:00"), &mon, vec![]).map(|_| ()),
            Err(CalendarError::EmptyHours {
                open: clock("17:00"),
                close: clock("09:00")
            })
        );
        let err = Calendar::new(Berlin, clock("09:00"), clock("09:00"), &mon, vec![]).map(|_| ());
        assert_eq!(
            err.map_err(|e| e.to_string()),
            Err("opening time 09:00 is not before closing time 09:00: expected hours such as 09:00-17:00 within one day".into())
        );
        assert_eq!(
            Calendar::new(Berlin, clock("09:00"), clock("17:00"), &[], vec![]).map(|_| ()),
            Err(CalendarError::NoOpenDays)
        );
        let invalid = vec![Holiday::Recurring { month: 2, day: 30 }];
        assert_eq!(
            Calendar::new(Berlin, clock("09:00"), clock("17:00"), &mon, invalid).map(|_| ()),
            Err(CalendarError::BadHoliday("02-30".into()))
        );
        let leap_year = NaiveDate::from_ymd_opt(2024, 1, 1).expect("valid");
        let all_year: Vec<Holiday> = leap_year
            .iter_days()
            .take(366)
            .map(|d| Holiday::Recurring {
                month: d.month(),
                day: d.day(),
            })
            .collect();
        assert_eq!(
            Calendar::new(Berlin, clock("09:00"), clock("17:00"), &mon, all_year).map(|_| ()),
            Err(CalendarError::NoBusinessDays)
        );
    }

    #[test]
    fn parse_timezone_accepts_iana_names_and_explains_errors() {
        assert_eq!(parse_timezone("Europe/Berlin"), Ok(Berlin));
        assert_eq!(parse_timezone(" America/New_York "), Ok(New_York));
        let err = parse_timezone("Europe/Berln").expect_err("misspelt");
        assert_eq!(
            err.to_string(),
            r#"unknown time zone "Europe/Berln": expected an IANA name such as "Europe/Berlin""#
        );
        assert!(parse_timezone("").is_err());
    }

    #[test]
    fn parse_holiday_forms_and_errors() {
        assert_eq!(
            Holiday::parse("12-25"),
            Ok(Holiday::Recurring { month: 12, day: 25 })
        );
        assert_eq!(
            Holiday::parse(" 02-29 "),
            Ok(Holiday::Recurring { month: 2, day: 29 })
        );
        let once = NaiveDate::from_ymd_opt(2024, 2, 29).expect("valid");
        assert_eq!(Holiday::parse("2024-02-29"), Ok(Holiday::Once(once)));
        let err = Holiday::parse("13-45").expect_err("no such date");
        assert_eq!(
            err.to_string(),
            r#"bad holiday "13-45": expected MM-DD (recurring) or YYYY-MM-DD (one-off)"#
        );
        for bad in [
            "02-30",
            "2025-02-29",
            "1-5",
            "12/25",
            "12-25-",
            "",
            "+1-01",
            "25-12-2024",
            "2024-1-01",
        ] {
            assert_eq!(
                Holiday::parse(bad),
                Err(CalendarError::BadHoliday(bad.into())),
                "{bad:?}"
            );
        }
        assert_eq!(Holiday::Recurring { month: 1, day: 5 }.to_string(), "01-05");
        assert_eq!(Holiday::Once(once).to_string(), "2024-02-29");
    }

    #[test]
    fn recurring_feb_29_matches_only_leap_years() {
        let h = Holiday::Recurring { month: 2, day: 29 };
        assert!(h.matches(NaiveDate::from_ymd_opt(2024, 2, 29).expect("valid")));
        assert!(!h.matches(NaiveDate::from_ymd_opt(2025, 3, 1).expect("valid")));
        assert!(!h.matches(NaiveDate::from_ymd_opt(2025, 2, 28).expect("valid")));
    }

    #[test]
    fn parse_clock_forms_and_errors() {
        assert_eq!(
            parse_clock("09:00"),
            NaiveTime::from_hms_opt(9, 0, 0).ok_or(CalendarError::NoOpenDays)
        );
        assert_eq!(parse_clock("9:05").ok(), NaiveTime::from_hms_opt(9, 5, 0));
        assert_eq!(
            parse_clock("23:59").ok(),
            NaiveTime::from_hms_opt(23, 59, 0)
        );
        assert_eq!(parse_clock("00:00").ok(), NaiveTime::from_hms_opt(0, 0, 0));
        let err = parse_clock("9am").expect_err("not HH:MM");
        assert_eq!(
            err.to_string(),
            r#"bad time "9am": expected HH:MM (24-hour)"#
        );
        for bad in [
            "24:00", "12:60", "12:5", "123:00", "ab:cd", "+9:00", "09:00:00", "", "12",
        ] {
            assert_eq!(
                parse_clock(bad),
                Err(CalendarError::BadTime(bad.into())),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn parse_weekday_short_and_full_names_any_case() {
        assert_eq!(parse_weekday("mon"), Ok(Weekday::Mon));
        assert_eq!(parse_weekday("Thursday"), Ok(Weekday::Thu));
        assert_eq!(parse_weekday("SUN"), Ok(Weekday::Sun));
        let err = parse_weekday("mo").expect_err("too short");
        assert_eq!(
            err.to_string(),
            r#"bad weekday "mo": expected mon, tue, wed, thu, fri, sat or sun"#
        );
    }

    // ---- properties ----

    fn calendars() -> Vec<Calendar> {
        let every_day = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ];
        let sun_thu = [
            Weekday::Sun,
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
        ];
        let hols = || holidays(&["12-25", "01-01", "2025-07-03", "2024-05-09"]);
        vec![
            Calendar::standard(Berlin),
            Calendar::standard(New_York),
            Calendar::new(New_York, clock("08:30"), clock("16:45"), &sun_thu, hols())
                .expect("valid"),
            Calendar::new(Berlin, clock("08:30"), clock("16:45"), &sun_thu, hols()).expect("valid"),
            // Hours that straddle Berlin's DST changes (gap and overlap).
            Calendar::new(Berlin, clock("01:30"), clock("03:30"), &every_day, hols())
                .expect("valid"),
            // Nearly all day, straddling New York's DST changes.
            Calendar::new(New_York, clock("00:00"), clock("23:59"), &every_day, hols())
                .expect("valid"),
        ]
    }

    /// Instants from 2023-01-01 to 2027-01-01, to the second.
    fn instant() -> impl Strategy<Value = DateTime<Utc>> {
        (1_672_531_200i64..1_798_761_600)
            .prop_map(|s| DateTime::from_timestamp(s, 0).expect("in range"))
    }

    fn calendar() -> impl Strategy<Value = Calendar> {
        proptest::sample::select(calendars())
    }

    fn is_closing_instant(cal: &Calendar, t: DateTime<Utc>) -> bool {
        cal.window(cal.local_date(t))
            .is_some_and(|(_, close)| close == t)
    }

    proptest! {
        // Holds for zero too: a zero budget returns its start.
        #[test]
        fn adding_is_additive(cal in calendar(), t in instant(), a in 0i64..5000, b in 0i64..5000) {
            let step = cal.add_business_minutes(cal.add_business_minutes(t, a), b);
            prop_assert_eq!(step, cal.add_business_minutes(t, a + b));
        }

        #[test]
        fn result_is_open_or_exactly_at_closing(cal in calendar(), t in instant(), n in 1i64..5000) {
            let r = cal.add_business_minutes(t, n);
            prop_assert!(r > t);
            prop_assert!(cal.is_open_at(r) || is_closing_instant(&cal, r), "{} is neither open nor closing", r);
            prop_assert!(cal.is_business_day(cal.local_date(r)));
        }

        #[test]
        fn between_inverts_add(cal in calendar(), t in instant(), n in 0i64..5000) {
            let r = cal.add_business_minutes(t, n);
            prop_assert_eq!(cal.business_seconds_between(t, r), n * 60);
            prop_assert_eq!(cal.business_minutes_between(t, r), n);
            if let Some(first) = cal.next_business_instant(t) {
                prop_assert_eq!(cal.business_minutes_between(first, r), n);
            }
        }

        #[test]
        fn add_is_monotonic(cal in calendar(), t in instant(), d in 0i64..200_000, n1 in 0i64..5000, n2 in 0i64..5000) {
            let (lo, hi) = (n1.min(n2), n1.max(n2));
            prop_assert!(cal.add_business_minutes(t, lo) <= cal.add_business_minutes(t, hi));
            let later = t + TimeDelta::seconds(d);
            prop_assert!(cal.add_business_minutes(t, n1) <= cal.add_business_minutes(later, n1));
        }

        #[test]
        fn between_is_additive_and_bounded(cal in calendar(), a in instant(), b in instant(), c in instant()) {
            let mut v = [a, b, c];
            v.sort();
            let [a, b, c] = v;
            let whole = cal.business_seconds_between(a, c);
            prop_assert_eq!(cal.business_seconds_between(a, b) + cal.business_seconds_between(b, c), whole);
            prop_assert!(whole <= (c - a).num_seconds());
        }

        #[test]
        fn open_means_the_next_second_is_business_time(cal in calendar(), t in instant()) {
            let next_second = cal.business_seconds_between(t, t + TimeDelta::seconds(1));
            prop_assert_eq!(cal.is_open_at(t), next_second == 1);
        }

        #[test]
        fn next_business_instant_is_open_and_skips_no_business_time(cal in calendar(), t in instant(), n in 1i64..5000) {
            let first = cal.next_business_instant(t).expect("business days exist");
            prop_assert!(first >= t && cal.is_open_at(first));
            prop_assert_eq!(cal.business_seconds_between(t, first), 0);
            prop_assert_eq!(cal.add_business_minutes(first, n), cal.add_business_minutes(t, n));
        }

        #[test]
        fn holidays_round_trip_through_display(month in 1u32..=12, day in 1u32..=31, year in 1000i32..=9999) {
            if let Some(date) = NaiveDate::from_ymd_opt(2000, month, day) {
                let recurring = Holiday::Recurring { month: date.month(), day: date.day() };
                prop_assert_eq!(Holiday::parse(&recurring.to_string()), Ok(recurring));
            }
            if let Some(date) = NaiveDate::from_ymd_opt(year, month, day) {
                prop_assert_eq!(Holiday::parse(&Holiday::Once(date).to_string()), Ok(Holiday::Once(date)));
            }
        }
    }
}
