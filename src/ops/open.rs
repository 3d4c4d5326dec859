//! `casebook open`: assign a unique case number to a new inquiry.

use super::{commit_message, optional_text, required_text, Casebook, Context};
use crate::error::{Error, Result};
use crate::model::event::CustomerFields;
use crate::model::time::parse_user_time;
use crate::model::validate::{is_email, is_phone};
use crate::model::{Action, CaseFile, CaseId, Channel, Event, Priority};
use crate::store::Change;

/// The intake of a new case.
#[derive(Debug, Clone, Default)]
pub struct NewCase {
    pub customer: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub subject: String,
    pub product: Option<String>,
    pub priority: Option<Priority>,
    /// Defaults to `email` when an e-mail address is given, else `phone`.
    pub channel: Option<Channel>,
    /// When the problem happened, as typed (RFC 3339 or local "YYYY-MM-DD HH:MM").
    pub incident_at: Option<String>,
    pub description: Option<String>,
}

/// How many fresh IDs to try before giving up (a clash in 40 bits is already rare).
const ID_ATTEMPTS: usize = 16;

impl Casebook {
    /// Creates a case in status `new` and returns its ID.
    pub fn open_case(&self, ctx: &Context, new: &NewCase) -> Result<CaseId> {
        let (_, id) = self
            .store
            .transact(&ctx.actor, ctx.now, |snap| -> Result<_> {
                let config = snap.config()?;
                let event = intake_event(new, ctx, &config)?;
                let id = (0..ID_ATTEMPTS)
                    .map(|_| CaseId::generate(&config.prefix))
                    .find(|id| !snap.has_case(id).unwrap_or(true))
                    .ok_or_else(|| {
                        Error::invalid("id", "could not find a free case ID; try again")
                    })?;
                let message = commit_message(&id, &event, ctx);
                let file = CaseFile::create(id.clone(), event).map_err(|source| Error::Case {
                    id: id.clone(),
                    source,
                })?;
                let change = Change {
                    files: vec![(id.path(), file.to_toml().into_bytes())],
                    message,
                };
                Ok((change, id))
            })?;
        Ok(id)
    }
}

fn intake_event(new: &NewCase, ctx: &Context, config: &crate::model::Config) -> Result<Event> {
    let customer = required_text("--customer", &new.customer)?;
    let subject = required_text("--subject", &new.subject)?;
    let email = optional_text(&new.email);
    let phone = optional_text(&new.phone);
    if email.is_none() && phone.is_none() {
        return Err(Error::invalid(
            "--email/--phone",
            "a way to reach the customer is required: give --email, --phone, or both",
        ));
    }
    if let Some(e) = &email {
        if !is_email(e) {
            return Err(Error::invalid(
                "--email",
                format!("{e:?} is not an e-mail address (expected name@example.com)"),
            ));
        }
    }
    if let Some(p) = &phone {
        if !is_phone(p) {
            return Err(Error::invalid(
                "--phone",
                format!("{p:?} is not a phone number (expected digits with optional +, spaces, dashes, parentheses)"),
            ));
        }
    }
    let incident_at = new
        .incident_at
        .as_deref()
        .map(|t| parse_past_time("--incident-at", t, ctx, config))
        .transpose()?;
    let mut event = Event::new(Action::Open, ctx.now, &ctx.actor.to_string());
    event.subject = Some(subject);
    event.priority = Some(new.priority.clone().unwrap_or(Priority::Normal));
    event.channel = Some(new.channel.clone().unwrap_or(if email.is_some() {
        Channel::Email
    } else {
        Channel::Phone
    }));
    event.product = optional_text(&new.product);
    event.description = optional_text(&new.description);
    event.incident_at = incident_at;
    event.customer = Some(CustomerFields {
        name: Some(customer),
        email,
        phone,
        ..Default::default()
    });
    Ok(event)
}

/// Parses a time the user gives for something that already happened.
pub(crate) fn parse_past_time(
    field: &str,
    text: &str,
    ctx: &Context,
    config: &crate::model::Config,
) -> Result<chrono::DateTime<chrono::Utc>> {
    let t = parse_user_time(text, config.calendar.tz()).map_err(|source| Error::Time {
        field: field.to_string(),
        source,
    })?;
    if t > ctx.now {
        return Err(Error::invalid(
            field,
            format!(
                "{text:?} is in the future (now is {})",
                crate::model::time::format_utc(&ctx.now)
            ),
        ));
    }
    Ok(t)
}
