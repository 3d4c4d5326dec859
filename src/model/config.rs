//! `.casebook/config.toml`: the team's policy, validated every time it is loaded.
//!
//! Every key has a documented default (see [`DEFAULT_CONFIG`], which `casebook init`
//! writes), so a config may be as short as an empty file. Unknown keys are errors, so a typo
//! never silently falls back to a default.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::calendar::{self, Calendar, Holiday};
use super::enums::Status;
use super::sla::{PerPriority, SlaDuration};

/// Where the config lives in a case repository.
pub const CONFIG_PATH: &str = ".casebook/config.toml";

/// The config `casebook init` writes: every default, with what it means.
pub const DEFAULT_CONFIG: &str = r#"# casebook configuration. Every key is optional; the values below are the defaults.
# Changes are validated whenever casebook loads this file. See README.md, "Configuration".

[ids]
# Case IDs look like CB-7K3M9QXA: this prefix (1 to 8 letters or digits), a dash,
# and 8 random characters.
prefix = "CB"

[calendar]
# Business hours for SLA targets on the business clock. Times are local to `timezone`
# (an IANA name such as "Europe/Berlin"); hours are half-open: [open, close).
timezone = "UTC"
open = "09:00"
close = "17:00"
days = ["mon", "tue", "wed", "thu", "fri"]
# "MM-DD" recurs every year; "YYYY-MM-DD" is a one-off.
holidays = []

[sla]
# Every clock stops while a case is resolved or closed. A target is "at risk" once this
# share of its time is used.
at_risk = 0.75
# Resolved cases with no follow-up answer close by themselves after this long (`casebook tick`).
auto_close = "7d calendar"
# Escalate a case one level when one of its targets is breached (`casebook tick`).
auto_escalate = false

# Durations: "2h calendar", "16h business", "30m business", "7d calendar" or "1bd"
# (business days: one day's worth of business hours).
[sla.acknowledge]   # from `open` to the first response
urgent = "2h calendar"
high = "1bd"
normal = "1bd"
low = "1bd"

[sla.update]        # from each outbound update to the next
urgent = "4h calendar"
high = "1bd"
normal = "2bd"
low = "5bd"

[sla.resolution]    # from `open` to `resolve`
urgent = "1d calendar"
high = "3bd"
normal = "5bd"
low = "10bd"
pause_when = ["pending"]   # statuses in which this clock stops (also for acknowledge, update)

[sla.follow_up]     # from `resolve` to the follow-up contact
urgent = "1bd"
high = "1bd"
normal = "2bd"
low = "2bd"

[escalation]
# The levels above the agent, in order: `escalate` moves one step along this chain.
chain = ["supervisor", "manager"]

[attachments]
max_bytes = 10485760   # 10 MiB per file
max_count = 20         # per case

[text]
# The longest free text one field may hold (a description, message, note, answer,
# finding, reason, summary...), in bytes, however it is given: on the command line, from
# standard input or from $EDITOR. Longer documents belong in an attachment.
max_bytes = 1048576    # 1 MiB, like one line of an import

[import.columns]
# `casebook import` matches columns to fields by name (any letter case): external_id,
# customer, email, phone, subject, product, priority, channel, incident_at, description,
# opened_at. Map other names here, or "ignore" them, e.g.:
# "Ticket #" = "external_id"
# "Internal notes" = "ignore"

[privacy]
# Customer personal data (names, contacts, messages, answers, feedback, attachments) is
# stored only encrypted ("sealed"), with one key per case in refs/casebook/keyring, so
# `casebook erase` can destroy it for good without rewriting history. `casebook init`
# writes `seal = true` (`init --plain` false); a book made before casebook sealed has no
# such line and stays plain until `casebook seal`. See README.md, "Personal data".
seal = false
# Erase the personal data of cases closed longer ago than this, at `casebook tick`:
# "3y", "18mo", "90d" or "12w". Unset: kept until erased.
# retain = "3y"

[templates]
# Override the messages casebook writes for you (acknowledge, update, follow-up), or put
# the text in .casebook/templates/<name>.txt. Placeholders: {{customer.name}},
# {{case.id}}, {{case.subject}}, {{eta}}, {{agent.name}} ...; {{x|fallback}} gives a
# fallback. See README.md, "Message templates".
# acknowledge = """
# Dear {{customer.name}}, ...
# """

"#;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{CONFIG_PATH} is not valid TOML or has an unknown key")]
    Parse(#[source] toml::de::Error),
    #[error("{CONFIG_PATH}: {key} = {value}: {problem}")]
    Invalid {
        key: String,
        value: String,
        problem: String,
    },
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub prefix: String,
    pub calendar: Calendar,
    pub sla: SlaPolicy,
    /// Names of the levels above the agent (level 0).
    pub escalation_chain: Vec<String>,
    pub attachments: AttachmentLimits,
    /// The longest free-text field accepted, in bytes (`[text] max_bytes`).
    pub text_max_bytes: u64,
    /// Message template overrides by name.
    pub templates: BTreeMap<String, String>,
    /// Import column names (lower-case) mapped to casebook's fields, or to "ignore".
    pub import_columns: BTreeMap<String, String>,
    pub privacy: Privacy,
}

/// `[privacy]`: whether personal data is sealed, and how long it is kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Privacy {
    pub seal: bool,
    pub retain: Option<Retention>,
}

/// How long the personal data of a closed case is kept (`[privacy] retain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub months: u32,
    pub days: u32,
}

impl Retention {
    /// The longest retention: a century, in whatever unit.
    const MAX_YEARS: u64 = 100;

    /// "3y", "18mo", "90d", "12w".
    pub fn parse(text: &str) -> Result<Retention, String> {
        let t = text.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (digits, unit) = t.split_at(split);
        let n: u64 = match digits.parse() {
            Ok(n) if n > 0 => n,
            // All digits, too many for a number: too long, like any count past the limit.
            Err(_) if !digits.is_empty() => u64::MAX,
            _ => {
                return Err(
                    "expected a count from 1 followed by y, mo, w or d, e.g. \"3y\"".to_string(),
                )
            }
        };
        let (months, days) = match unit {
            "y" => (n.saturating_mul(12), 0),
            "mo" => (n, 0),
            "w" => (0, n.saturating_mul(7)),
            "d" => (0, n),
            "" => return Err(format!("{n} what? add a unit: y (years), mo (months), w (weeks) or d (days), e.g. \"{n}d\"")),
            _ => return Err(format!("unknown unit {unit:?}: use y (years), mo (months), w (weeks) or d (days), e.g. \"3y\"")),
        };
        let max = Self::MAX_YEARS;
        if months > max * 12 || days > max * 366 {
            return Err(format!(
                "longer than the longest retention casebook keeps, {max} years (\"{max}y\")"
            ));
        }
        // Both at most 36,600.
        Ok(Retention {
            months: months as u32,
            days: days as u32,
        })
    }

    /// The shortest text that says this ("3y", "18mo", "90d").
    pub fn text(&self) -> String {
        match (self.months, self.days) {
            (m, 0) if m % 12 == 0 => format!("{}y", m / 12),
            (m, 0) => format!("{m}mo"),
            (_, d) if d % 7 == 0 => format!("{}w", d / 7),
            (_, d) => format!("{d}d"),
        }
    }

    /// The instant before which a closed case's personal data is no longer kept.
    pub fn cutoff(&self, now: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
        now.checked_sub_months(chrono::Months::new(self.months))
            .and_then(|t| t.checked_sub_days(chrono::Days::new(u64::from(self.days))))
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC)
    }
}

/// Statuses in which a target's clock stops (besides `resolved` and `closed`).
#[derive(Debug, Clone, Default)]
pub struct PauseRules {
    pub acknowledge: Vec<Status>,
    pub update: Vec<Status>,
    pub resolution: Vec<Status>,
}

#[derive(Debug, Clone)]
pub struct SlaPolicy {
    pub at_risk: f64,
    pub pause_when: PauseRules,
    pub auto_close: SlaDuration,
    pub auto_escalate: bool,
    pub acknowledge: PerPriority,
    pub update: PerPriority,
    pub resolution: PerPriority,
    pub follow_up: PerPriority,
}

#[derive(Debug, Clone, Copy)]
pub struct AttachmentLimits {
    pub max_bytes: u64,
    pub max_count: u32,
}

// The file as written: every key optional, unknown keys refused.

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawConfig {
    ids: RawIds,
    calendar: RawCalendar,
    sla: RawSla,
    escalation: RawEscalation,
    attachments: RawAttachments,
    text: RawText,
    templates: BTreeMap<String, String>,
    import: RawImport,
    privacy: RawPrivacy,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawPrivacy {
    seal: bool,
    retain: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawImport {
    columns: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawIds {
    prefix: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawCalendar {
    timezone: String,
    open: String,
    close: String,
    days: Vec<String>,
    holidays: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawSla {
    at_risk: f64,
    auto_close: String,
    auto_escalate: bool,
    acknowledge: RawPerPriority,
    update: RawPerPriority,
    resolution: RawPerPriority,
    follow_up: RawPerPriority,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct RawPerPriority {
    urgent: Option<String>,
    high: Option<String>,
    normal: Option<String>,
    low: Option<String>,
    pause_when: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawEscalation {
    chain: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawAttachments {
    max_bytes: u64,
    max_count: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawText {
    max_bytes: u64,
}

impl Default for RawText {
    fn default() -> Self {
        RawText {
            max_bytes: 1024 * 1024,
        }
    }
}

impl Default for RawIds {
    fn default() -> Self {
        RawIds {
            prefix: "CB".into(),
        }
    }
}

impl Default for RawCalendar {
    fn default() -> Self {
        RawCalendar {
            timezone: "UTC".into(),
            open: "09:00".into(),
            close: "17:00".into(),
            days: ["mon", "tue", "wed", "thu", "fri"]
                .map(String::from)
                .to_vec(),
            holidays: Vec::new(),
        }
    }
}

fn per_priority(urgent: &str, high: &str, normal: &str, low: &str) -> RawPerPriority {
    RawPerPriority {
        urgent: Some(urgent.into()),
        high: Some(high.into()),
        normal: Some(normal.into()),
        low: Some(low.into()),
        pause_when: None,
    }
}

impl Default for RawSla {
    fn default() -> Self {
        RawSla {
            at_risk: 0.75,
            auto_close: "7d calendar".into(),
            auto_escalate: false,
            acknowledge: per_priority("2h calendar", "1bd", "1bd", "1bd"),
            update: per_priority("4h calendar", "1bd", "2bd", "5bd"),
            resolution: per_priority("1d calendar", "3bd", "5bd", "10bd"),
            follow_up: per_priority("1bd", "1bd", "2bd", "2bd"),
        }
    }
}

impl Default for RawEscalation {
    fn default() -> Self {
        RawEscalation {
            chain: vec!["supervisor".into(), "manager".into()],
        }
    }
}

impl Default for RawAttachments {
    fn default() -> Self {
        RawAttachments {
            max_bytes: 10 * 1024 * 1024,
            max_count: 20,
        }
    }
}

fn invalid(key: &str, value: impl std::fmt::Debug, problem: impl ToString) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_string(),
        value: format!("{value:?}"),
        problem: problem.to_string(),
    }
}

impl Config {
    /// Parses and validates the text of `.casebook/config.toml`.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(ConfigError::Parse)?;
        raw.validate()
    }

    pub fn business_day_minutes(&self) -> i64 {
        self.calendar.minutes_per_day()
    }

    /// The name of an escalation level: 0 is the agent, then the chain.
    pub fn level_name(&self, level: u32) -> String {
        match level {
            0 => "agent".to_string(),
            n => self
                .escalation_chain
                .get(n as usize - 1)
                .cloned()
                .unwrap_or_else(|| format!("level {n}")),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        RawConfig::default()
            .validate()
            .expect("the built-in defaults are valid")
    }
}

impl RawConfig {
    fn validate(self) -> Result<Config, ConfigError> {
        let prefix = super::id::validate_prefix(&self.ids.prefix)
            .map_err(|e| invalid("ids.prefix", &self.ids.prefix, e))?;

        let c = &self.calendar;
        let tz = calendar::parse_timezone(&c.timezone)
            .map_err(|e| invalid("calendar.timezone", &c.timezone, e))?;
        let open =
            calendar::parse_clock(&c.open).map_err(|e| invalid("calendar.open", &c.open, e))?;
        let close =
            calendar::parse_clock(&c.close).map_err(|e| invalid("calendar.close", &c.close, e))?;
        let days = c
            .days
            .iter()
            .map(|d| calendar::parse_weekday(d).map_err(|e| invalid("calendar.days", d, e)))
            .collect::<Result<Vec<_>, _>>()?;
        let holidays = c
            .holidays
            .iter()
            .map(|h| Holiday::parse(h).map_err(|e| invalid("calendar.holidays", h, e)))
            .collect::<Result<Vec<_>, _>>()?;
        if open >= close {
            return Err(invalid(
                "calendar.close",
                &c.close,
                format!("must be later than calendar.open ({})", c.open),
            ));
        }
        if days.is_empty() {
            return Err(invalid(
                "calendar.days",
                &c.days,
                "name at least one open day, e.g. [\"mon\", \"tue\"]",
            ));
        }
        let calendar = Calendar::new(tz, open, close, &days, holidays)
            .map_err(|e| invalid("calendar", "…", e))?;

        let s = &self.sla;
        if !(s.at_risk > 0.0 && s.at_risk < 1.0) {
            return Err(invalid(
                "sla.at_risk",
                s.at_risk,
                "expected a share between 0 and 1, e.g. 0.75",
            ));
        }
        let duration =
            |key: &str, text: &str| SlaDuration::parse(text).map_err(|e| invalid(key, text, e));
        let defaults = RawSla::default();
        let target = |name: &str,
                      raw: &RawPerPriority,
                      default: &RawPerPriority|
         -> Result<PerPriority, ConfigError> {
            let one = |p: &str, v: &Option<String>, d: &Option<String>| {
                let text = v.as_deref().or(d.as_deref()).unwrap_or_default();
                duration(&format!("sla.{name}.{p}"), text)
            };
            Ok(PerPriority {
                urgent: one("urgent", &raw.urgent, &default.urgent)?,
                high: one("high", &raw.high, &default.high)?,
                normal: one("normal", &raw.normal, &default.normal)?,
                low: one("low", &raw.low, &default.low)?,
            })
        };
        let pauses = |name: &str,
                      raw: &RawPerPriority,
                      default: &[Status]|
         -> Result<Vec<Status>, ConfigError> {
            let Some(list) = &raw.pause_when else {
                return Ok(default.to_vec());
            };
            list.iter()
                .map(|v| match Status::parse(v) {
                    Some(st @ (Status::New | Status::Open | Status::Pending)) => Ok(st),
                    _ => Err(invalid(
                        &format!("sla.{name}.pause_when"),
                        v,
                        "expected statuses the clock pauses in: new, open or pending",
                    )),
                })
                .collect()
        };
        if s.follow_up.pause_when.is_some() {
            return Err(invalid(
                "sla.follow_up.pause_when",
                "…",
                "the follow-up clock does not pause",
            ));
        }
        let sla = SlaPolicy {
            at_risk: s.at_risk,
            pause_when: PauseRules {
                acknowledge: pauses("acknowledge", &s.acknowledge, &[])?,
                update: pauses("update", &s.update, &[])?,
                resolution: pauses("resolution", &s.resolution, &[Status::Pending])?,
            },
            auto_close: duration("sla.auto_close", &s.auto_close)?,
            auto_escalate: s.auto_escalate,
            acknowledge: target("acknowledge", &s.acknowledge, &defaults.acknowledge)?,
            update: target("update", &s.update, &defaults.update)?,
            resolution: target("resolution", &s.resolution, &defaults.resolution)?,
            follow_up: target("follow_up", &s.follow_up, &defaults.follow_up)?,
        };

        let chain = self.escalation.chain;
        for (i, name) in chain.iter().enumerate() {
            if name.trim().is_empty() || chain[..i].contains(name) {
                return Err(invalid(
                    "escalation.chain",
                    &chain,
                    "level names must be non-empty and distinct",
                ));
            }
        }
        for (name, text) in &self.templates {
            super::template::check(name, text)
                .map_err(|e| invalid(&format!("templates.{name}"), "…", e))?;
        }
        let a = self.attachments;
        if a.max_bytes == 0 || a.max_count == 0 {
            return Err(invalid("attachments", "0", "limits must be at least 1"));
        }
        if self.text.max_bytes == 0 {
            return Err(invalid(
                "text.max_bytes",
                self.text.max_bytes,
                "the limit must be at least 1",
            ));
        }
        Ok(Config {
            text_max_bytes: self.text.max_bytes,
            prefix,
            calendar,
            sla,
            escalation_chain: chain,
            attachments: AttachmentLimits {
                max_bytes: a.max_bytes,
                max_count: a.max_count,
            },
            templates: self.templates,
            import_columns: import_columns(self.import.columns)?,
            privacy: Privacy {
                seal: self.privacy.seal,
                retain: self
                    .privacy
                    .retain
                    .as_deref()
                    .map(|r| Retention::parse(r).map_err(|e| invalid("privacy.retain", r, e)))
                    .transpose()?,
            },
        })
    }
}

/// The fields an import column can feed.
pub const IMPORT_FIELDS: &[&str] = &[
    "external_id",
    "customer",
    "email",
    "phone",
    "subject",
    "product",
    "priority",
    "channel",
    "incident_at",
    "description",
    "opened_at",
    "owner",
    "tags",
];

fn import_columns(raw: BTreeMap<String, String>) -> Result<BTreeMap<String, String>, ConfigError> {
    raw.into_iter()
        .map(|(column, field)| {
            if field == "ignore" || IMPORT_FIELDS.contains(&field.as_str()) {
                Ok((column.trim().to_lowercase(), field))
            } else {
                Err(invalid(
                    &format!("import.columns.{column:?}"),
                    &field,
                    format!("expected \"ignore\" or one of {}", IMPORT_FIELDS.join(", ")),
                ))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::sla::Clock;
    use crate::model::Priority;

    #[test]
    fn a_retention_is_any_span_up_to_a_century_in_any_unit() {
        for (text, months, days) in [
            ("3y", 36, 0),
            ("18mo", 18, 0),
            ("12w", 0, 84),
            ("2000d", 0, 2000),
            ("100y", 1200, 0),
            ("1200mo", 1200, 0),
            ("36600d", 0, 36600),
        ] {
            let r = Retention::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!((r.months, r.days), (months, days), "{text}");
        }
        for text in [
            "101y",
            "1201mo",
            "36601d",
            "10000y",
            "99999999999999999999999w",
        ] {
            let e = Retention::parse(text).unwrap_err();
            assert!(e.contains("100 years"), "{text}: {e}");
        }
        for text in ["0y", "y", "-3y", ""] {
            let e = Retention::parse(text).unwrap_err();
            assert!(e.starts_with("expected a count from 1"), "{text}: {e}");
        }
        assert!(Retention::parse("3x").unwrap_err().contains("unknown unit"));
        assert!(Retention::parse("3").unwrap_err().contains("add a unit"));
    }

    #[test]
    fn the_written_defaults_are_the_built_in_defaults() {
        let written = Config::from_toml(DEFAULT_CONFIG).unwrap();
        let empty = Config::from_toml("").unwrap();
        for c in [&written, &empty] {
            assert_eq!(c.prefix, "CB");
            assert_eq!(c.calendar.tz().name(), "UTC");
            assert_eq!(c.business_day_minutes(), 480);
            assert_eq!(
                c.sla.acknowledge.get(&Priority::Urgent).to_string(),
                "2h calendar"
            );
            assert_eq!(c.sla.resolution.get(&Priority::Low).to_string(), "10bd");
            assert_eq!(c.sla.update.get(&Priority::Normal).to_string(), "2bd");
            assert_eq!(c.sla.follow_up.get(&Priority::High).clock, Clock::Business);
            assert_eq!(c.escalation_chain, ["supervisor", "manager"]);
            assert_eq!(c.level_name(0), "agent");
            assert_eq!(c.level_name(2), "manager");
            assert_eq!(c.text_max_bytes, 1024 * 1024);
        }
    }

    #[test]
    fn the_issue_calendar_keys_are_accepted() {
        let c = Config::from_toml(
            "[calendar]\ntimezone = \"Europe/Berlin\"\nopen = \"09:00\"\nclose = \"17:00\"\ndays = [\"mon\",\"tue\",\"wed\",\"thu\",\"fri\"]\nholidays = [\"12-25\", \"2026-01-01\"]\n\n[sla.acknowledge]\nnormal = \"4h business\"\n",
        )
        .unwrap();
        assert_eq!(c.calendar.tz().name(), "Europe/Berlin");
        assert_eq!(
            c.sla.acknowledge.get(&Priority::Normal).to_string(),
            "4h business"
        );
        assert_eq!(
            c.sla.acknowledge.get(&Priority::Urgent).to_string(),
            "2h calendar",
            "unset keys keep their default"
        );
    }

    #[test]
    fn errors_name_the_key_and_the_bad_value() {
        let cases = [
            (
                "[calendar]\ntimezone = \"Europe/Berln\"",
                "calendar.timezone = \"Europe/Berln\"",
            ),
            ("[calendar]\nopen = \"9am\"", "calendar.open = \"9am\""),
            (
                "[calendar]\nopen = \"18:00\"",
                "calendar.close = \"17:00\": must be later",
            ),
            (
                "[calendar]\ndays = [\"mon\", \"funday\"]",
                "calendar.days = \"funday\"",
            ),
            (
                "[calendar]\nholidays = [\"13-45\"]",
                "calendar.holidays = \"13-45\"",
            ),
            (
                "[sla.update]\nhigh = \"2h\"",
                "sla.update.high = \"2h\": \"2h\" does not say its clock",
            ),
            ("[sla]\nat_risk = 1.5", "sla.at_risk = 1.5"),
            ("[ids]\nprefix = \"C-B\"", "ids.prefix = \"C-B\""),
            ("[escalation]\nchain = [\"a\", \"a\"]", "escalation.chain"),
            (
                "[text]\nmax_bytes = 0",
                "text.max_bytes = 0: the limit must be at least 1",
            ),
        ];
        for (text, expected) in cases {
            let e = Config::from_toml(text).unwrap_err().to_string();
            assert!(e.contains(expected), "{text:?} gave {e:?}");
        }
    }

    #[test]
    fn unknown_keys_are_refused_not_ignored() {
        let e = Config::from_toml("[calendar]\ntimezon = \"UTC\"").unwrap_err();
        let chain = format!("{e}: {}", std::error::Error::source(&e).unwrap());
        assert!(chain.contains("timezon"), "{chain}");
    }
}
