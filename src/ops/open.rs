//! `casebook open`: assign a unique case number to a new inquiry.

use super::{commit_message, Casebook, Context};
use crate::error::{Error, Result};
use crate::model::intake::IntakeInput;
use crate::model::{CaseFile, CaseId, Channel, Event, Priority};
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
                snap.expect_new_case();
                let config = snap.config()?;
                let mut event = intake_event(new, ctx, &config)?;
                event.worked_minutes = ctx.worked_minutes;
                // CASEBOOK_SEED (tests only) makes IDs repeat across processes and clones,
                // to force the collisions that sync must resolve.
                let seed = std::env::var("CASEBOOK_SEED").ok();
                let id = (0..ID_ATTEMPTS as u32)
                    .map(|n| match &seed {
                        Some(seed) => CaseId::seeded(&config.prefix, seed, n),
                        None => CaseId::generate(&config.prefix),
                    })
                    .find(|id| !snap.has_case(id).unwrap_or(true))
                    .ok_or_else(|| {
                        Error::invalid("id", "could not find a free case ID; try again")
                    })?;
                let message = commit_message(&id, &event, ctx);
                let mut file =
                    CaseFile::create(id.clone(), event).map_err(|source| Error::Case {
                        id: id.clone(),
                        source,
                    })?;
                snap.prepare_new(&mut file)?;
                let change =
                    Change::with_files(message, vec![(id.path(), file.to_toml().into_bytes())]);
                Ok((change, id))
            })?;
        Ok(id)
    }
}

fn intake_event(new: &NewCase, ctx: &Context, config: &crate::model::Config) -> Result<Event> {
    let input = IntakeInput {
        customer: Some(new.customer.clone()),
        email: new.email.clone(),
        phone: new.phone.clone(),
        subject: Some(new.subject.clone()),
        product: new.product.clone(),
        priority: new.priority.as_ref().map(|p| p.to_string()),
        channel: new.channel.as_ref().map(|c| c.to_string()),
        // Read here, where "now" is known, so `yesterday 16:30` works on the command line;
        // the intake then sees the stored form.
        incident_at: new
            .incident_at
            .as_deref()
            .map(|t| super::when::parse_past_time("--incident-at", t, ctx, config))
            .transpose()?
            .map(|t| crate::model::time::format_utc(&t)),
        description: new.description.clone(),
        opened_at: None,
    };
    let intake = input
        .validate(config.calendar.tz(), ctx.now)
        .map_err(|errors| {
            // The command line names fields as flags; the first problem is enough there.
            let first = &errors[0];
            Error::invalid(
                format!("--{}", first.field.replace('_', "-").replace('/', "/--")),
                first.message.clone(),
            )
        })?;
    Ok(intake.open_event(&ctx.actor.to_string(), ctx.now))
}
