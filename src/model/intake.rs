//! The facts of a new case, validated the same way for `open` and for each imported row.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::enums::{Channel, Priority};
use super::event::{CustomerFields, Event};
use super::payload::Open;
use super::personal::Personal;
use super::time::{format_utc, parse_user_time};
use super::validate::{is_email, is_phone};

/// The intake as typed or read from a file: every field optional text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IntakeInput {
    pub customer: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub subject: Option<String>,
    pub product: Option<String>,
    pub priority: Option<String>,
    pub channel: Option<String>,
    pub incident_at: Option<String>,
    pub description: Option<String>,
    /// When the case was really opened (imports from other systems); default: now.
    pub opened_at: Option<String>,
}

/// A validated intake.
#[derive(Debug, Clone, PartialEq)]
pub struct Intake {
    pub customer: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub subject: String,
    pub product: Option<String>,
    pub priority: Priority,
    pub channel: Channel,
    pub incident_at: Option<DateTime<Utc>>,
    pub description: Option<String>,
    pub opened_at: Option<DateTime<Utc>>,
}

/// What is wrong with one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name (`email`, `incident_at`, ... or `email/phone`).
    pub field: &'static str,
    pub message: String,
}

fn text(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(String::from)
}

impl IntakeInput {
    /// Validates every field and reports every problem, not just the first.
    pub fn validate(&self, tz: Tz, now: DateTime<Utc>) -> Result<Intake, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut bad =
            |field: &'static str, message: String| errors.push(FieldError { field, message });
        let customer = text(&self.customer);
        if customer.is_none() {
            bad("customer", "must not be empty".into());
        }
        let subject = text(&self.subject);
        if subject.is_none() {
            bad("subject", "must not be empty".into());
        }
        let email = text(&self.email);
        let phone = text(&self.phone);
        if email.is_none() && phone.is_none() {
            bad("email/phone", "a way to reach the customer is required: give an e-mail address, a phone number, or both".into());
        }
        if let Some(e) = email.as_ref().filter(|e| !is_email(e)) {
            bad(
                "email",
                format!("{e:?} is not an e-mail address (expected name@example.com)"),
            );
        }
        if let Some(p) = phone.as_ref().filter(|p| !is_phone(p)) {
            bad(
                "phone",
                format!("{p:?} is not a phone number (expected digits with optional +, spaces, dashes, parentheses)"),
            );
        }
        let priority = match text(&self.priority) {
            None => Some(Priority::Normal),
            Some(p) => Priority::parse(&p).or_else(|| {
                bad(
                    "priority",
                    format!("{p:?}: expected one of {}", Priority::KNOWN.join(", ")),
                );
                None
            }),
        };
        let channel = match text(&self.channel) {
            None => Some(if email.is_some() {
                Channel::Email
            } else {
                Channel::Phone
            }),
            Some(c) => Channel::parse(&c).or_else(|| {
                bad(
                    "channel",
                    format!("{c:?}: expected one of {}", Channel::KNOWN.join(", ")),
                );
                None
            }),
        };
        let mut past = |field: &'static str, value: &Option<String>| -> Option<DateTime<Utc>> {
            let v = text(value)?;
            match parse_user_time(&v, tz) {
                Err(e) => {
                    bad(field, e.to_string());
                    None
                }
                Ok(t) if t > now => {
                    bad(
                        field,
                        format!("{v:?} is in the future (now is {})", format_utc(&now)),
                    );
                    None
                }
                Ok(t) => Some(t),
            }
        };
        let incident_at = past("incident_at", &self.incident_at);
        let opened_at = past("opened_at", &self.opened_at);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Intake {
            customer: customer.unwrap_or_default(),
            email,
            phone,
            subject: subject.unwrap_or_default(),
            product: text(&self.product),
            priority: priority.unwrap_or(Priority::Normal),
            channel: channel.unwrap_or(Channel::Other),
            incident_at,
            description: text(&self.description),
            opened_at,
        })
    }
}

impl Intake {
    /// The `open` event of a case with this intake, recorded at `opened_at` or else `now`.
    pub fn open_event(&self, actor: &str, now: DateTime<Utc>) -> Event {
        let open = Open {
            subject: Some(self.subject.as_str().into()),
            priority: Some(self.priority.clone()),
            channel: Some(self.channel.clone()),
            product: self.product.clone(),
            description: self.description.as_deref().map(Personal::from),
            incident_at: self.incident_at,
            ..Default::default()
        };
        let mut e = Event::with(open, self.opened_at.unwrap_or(now), actor);
        e.customer = Some(CustomerFields {
            name: Some(self.customer.as_str().into()),
            email: self.email.as_deref().map(Personal::from),
            phone: self.phone.as_deref().map(Personal::from),
            ..Default::default()
        });
        e
    }
}

/// A problem with one row of an import (or the file as a whole, at line 0). It lives
/// here, with the rows, so that `crate::error` can name it without depending on `ops`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    /// The field at fault; empty when it is the row as a whole (a JSON Lines line that is
    /// not an object).
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() {
            return write!(f, "line {}: {}", self.line, self.message);
        }
        write!(f, "line {}: {}: {}", self.line, self.field, self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        super::super::time::parse_rfc3339("2026-11-23T09:00:00Z").unwrap()
    }

    #[test]
    fn every_problem_of_a_row_is_reported() {
        let input = IntakeInput {
            customer: Some(" ".into()),
            email: Some("nope".into()),
            priority: Some("asap".into()),
            incident_at: Some("2030-01-01".into()),
            opened_at: Some("yesterday".into()),
            ..Default::default()
        };
        let errors = input.validate(chrono_tz::UTC, now()).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "customer",
                "subject",
                "email",
                "priority",
                "incident_at",
                "opened_at"
            ]
        );
    }

    #[test]
    fn defaults_and_historic_opening_times() {
        let input = IntakeInput {
            customer: Some("Ada".into()),
            phone: Some("030 1234567".into()),
            subject: Some("Hi".into()),
            opened_at: Some("2026-01-05 10:00".into()),
            ..Default::default()
        };
        let intake = input.validate(chrono_tz::Europe::Berlin, now()).unwrap();
        assert_eq!(
            (&intake.priority, &intake.channel),
            (&Priority::Normal, &Channel::Phone)
        );
        let e = intake.open_event("Dana <d@example.com>", now());
        assert_eq!(format_utc(&e.at), "2026-01-05T09:00:00Z");
    }
}
