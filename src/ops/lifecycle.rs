//! The SOP's steps after intake: acknowledge, update, pending, log, escalate, deescalate,
//! resolve, follow up, close, reopen. Each is one event and one commit; whether it may run
//! at all is decided by the state table in `model::state`, before any of this code runs.

use chrono::{DateTime, Utc};

use super::template::render_for;
use super::{optional_text, required_text, Casebook, Cases, Context, Current};
use crate::error::{Error, Result};
use crate::model::payload::{
    Acknowledge, Close, Deescalate, Escalate, FollowUp, Log, Pending, Reopen, Resolve, Update,
};
use crate::model::{Action, Channel, Direction, Event, Payload, Personal};

pub use crate::model::FollowUpResponse;

fn event(payload: impl Into<Payload>, ctx: &Context) -> Event {
    Event::with(payload, ctx.now, &ctx.actor.to_string())
}

/// The channel given, or else the one the case came in by.
fn channel_or_the_cases(given: &Option<Channel>, cur: &Current<'_, '_>) -> Channel {
    given
        .clone()
        .unwrap_or_else(|| cur.case.case.channel.clone())
}

/// The message given, or the template rendered for this case (recording which one), as
/// (message, template).
fn message_or_template(
    cur: &Current<'_, '_>,
    ctx: &Context,
    given: &Option<String>,
    template: &str,
    eta: Option<DateTime<Utc>>,
) -> Result<(Option<Personal>, Option<String>)> {
    Ok(match optional_text(given) {
        Some(m) => (Some(m.into()), None),
        None => (
            Some(render_for(cur.snap, cur.config, template, cur.case, ctx, eta)?.into()),
            Some(template.to_string()),
        ),
    })
}

impl Casebook {
    /// First response to the customer: `new` → `open`. Without a message, the
    /// acknowledgement template is rendered and recorded.
    pub fn acknowledge<C: Cases>(
        &self,
        ctx: &Context,
        id: C,
        message: Option<String>,
        channel: Option<Channel>,
    ) -> Result<C::Out> {
        self.record_cases(ctx, id, Action::Acknowledge, |cur| {
            let (message, template) = message_or_template(cur, ctx, &message, "acknowledge", None)?;
            let e = event(
                Acknowledge {
                    channel: Some(channel_or_the_cases(&channel, cur)),
                    message,
                    template,
                    direction: Some(Direction::Outbound),
                    ..Default::default()
                },
                ctx,
            );
            Ok(e.into())
        })
    }

    /// An outbound update; sets or moves the ETA. Without a message, the update template
    /// (which needs an ETA) is rendered.
    pub fn update<C: Cases>(
        &self,
        ctx: &Context,
        id: C,
        message: Option<String>,
        eta: Option<&str>,
        channel: Option<Channel>,
    ) -> Result<C::Out> {
        self.record_cases(ctx, id, Action::Update, |cur| {
            let eta = eta
                .map(|t| super::when::parse_future_time("--eta", t, ctx, cur.config))
                .transpose()?;
            let (message, template) = message_or_template(cur, ctx, &message, "update", eta)?;
            let e = event(
                Update {
                    channel: Some(channel_or_the_cases(&channel, cur)),
                    message,
                    template,
                    eta,
                    direction: Some(Direction::Outbound),
                    ..Default::default()
                },
                ctx,
            );
            Ok(e.into())
        })
    }

    /// Waiting on the customer: `open` → `pending`.
    pub fn pending<C: Cases>(&self, ctx: &Context, id: C, reason: &str) -> Result<C::Out> {
        self.record_cases(ctx, id, Action::Pending, |_| {
            let e = event(
                Pending {
                    reason: Some(required_text("--reason", reason)?),
                    ..Default::default()
                },
                ctx,
            );
            Ok(e.into())
        })
    }

    /// Documents an interaction. An inbound one on a `pending` case makes it `open` again.
    #[allow(clippy::too_many_arguments)]
    pub fn log<C: Cases>(
        &self,
        ctx: &Context,
        id: C,
        summary: &str,
        with: &[String],
        channel: Option<Channel>,
        direction: Option<&str>,
        outcome: Option<String>,
        at: Option<&str>,
    ) -> Result<C::Out> {
        self.record_cases(ctx, id, Action::Log, |cur| {
            let direction = match direction.map(|d| (d, Direction::parse(d))) {
                None => None,
                Some((_, Some(known))) => Some(known),
                Some((other, None)) => {
                    return Err(Error::invalid(
                        "--direction",
                        format!("{other:?}: expected inbound, outbound or internal"),
                    ))
                }
            };
            let e = event(
                Log {
                    channel: channel.clone(),
                    direction,
                    summary: Some(required_text("--summary", summary)?.into()),
                    with: with
                        .iter()
                        .map(|w| w.trim())
                        .filter(|w| !w.is_empty())
                        .map(Personal::from)
                        .collect(),
                    outcome: optional_text(&outcome).map(Personal::from),
                    occurred_at: at
                        .map(|t| super::when::parse_past_time("--at", t, ctx, cur.config))
                        .transpose()?,
                    ..Default::default()
                },
                ctx,
            );
            Ok(e.into())
        })
    }

    /// One level up the escalation chain (agent → supervisor → manager by default). The
    /// owner stays who it was unless `assign`: then the person in `to` becomes the owner.
    pub fn escalate<C: Cases>(
        &self,
        ctx: &Context,
        id: C,
        reason: &str,
        to: Option<String>,
        assign: bool,
    ) -> Result<C::Out> {
        let to = optional_text(&to);
        if assign {
            let owner = to.as_deref().ok_or_else(|| {
                Error::invalid("--assign", "needs --to \"Name <email>\": the new owner")
            })?;
            crate::model::Actor::parse(owner).map_err(|e| {
                Error::invalid("--to", format!("{e} (--assign makes it the owner)"))
            })?;
        }
        self.record_cases(ctx, id, Action::Escalate, |cur| {
            let level = cur.case.case.escalation_level;
            let top = cur.config.escalation_chain.len() as u32;
            if level >= top {
                return Err(Error::invalid(
                    "escalate",
                    format!(
                        "case {} is already at the top of the escalation chain (level {level}: {})",
                        cur.case.case.id,
                        cur.config.level_name(level)
                    ),
                ));
            }
            let e = event(
                Escalate {
                    reason: Some(required_text("--reason", reason)?),
                    level: Some(level + 1),
                    to: Some(
                        to.clone()
                            .unwrap_or_else(|| cur.config.level_name(level + 1)),
                    ),
                    assign,
                    ..Default::default()
                },
                ctx,
            );
            Ok(e.into())
        })
    }

    /// One level back down the escalation chain.
    pub fn deescalate<C: Cases>(&self, ctx: &Context, id: C, reason: &str) -> Result<C::Out> {
        self.record_cases(ctx, id, Action::Deescalate, |cur| {
            let level = cur.case.case.escalation_level;
            if level == 0 {
                return Err(Error::invalid(
                    "deescalate",
                    format!(
                        "case {} is not escalated (it is at the agent level)",
                        cur.case.case.id
                    ),
                ));
            }
            let e = event(
                Deescalate {
                    reason: Some(required_text("--reason", reason)?),
                    level: Some(level - 1),
                    // Back to a level above the agent: the case is with that level again.
                    to: (level > 1).then(|| cur.config.level_name(level - 1)),
                    ..Default::default()
                },
                ctx,
            );
            Ok(e.into())
        })
    }

    /// `open`/`pending` → `resolved`, with what solved it.
    pub fn resolve<C: Cases>(
        &self,
        ctx: &Context,
        id: C,
        resolution: &str,
        root_cause: Option<String>,
    ) -> Result<C::Out> {
        self.record_cases(ctx, id, Action::Resolve, |_| {
            let e = event(
                Resolve {
                    root_cause: optional_text(&root_cause),
                    resolution: Some(required_text("--resolution", resolution)?),
                    ..Default::default()
                },
                ctx,
            );
            Ok(e.into())
        })
    }

    /// After resolution: satisfied closes the case; not satisfied reopens it; no answer
    /// records the attempt. Without a message, the follow-up template is rendered.
    pub fn follow_up<C: Cases>(
        &self,
        ctx: &Context,
        id: C,
        response: FollowUpResponse,
        rating: Option<u8>,
        feedback: Option<String>,
        message: Option<String>,
    ) -> Result<C::Out> {
        self.record_cases(ctx, id, Action::FollowUp, |cur| {
            if let Some(r) = rating {
                if !(1..=5).contains(&r) {
                    return Err(Error::invalid(
                        "--rating",
                        format!("{r} is not a rating: expected 1 (poor) to 5 (excellent)"),
                    ));
                }
                if response == FollowUpResponse::NoAnswer {
                    return Err(Error::invalid(
                        "--rating",
                        "a rating needs an answer from the customer, not --no-answer",
                    ));
                }
            }
            let (message, template) = if response == FollowUpResponse::NoAnswer {
                // No answer yet: the follow-up template asks the customer how it went.
                message_or_template(cur, ctx, &message, "follow-up", None)?
            } else {
                // The customer answered (and maybe rated): asking them again is wrong.
                (optional_text(&message).map(Personal::from), None)
            };
            let e = event(
                FollowUp {
                    message,
                    template,
                    direction: Some(Direction::Outbound),
                    response: Some(response.clone()),
                    rating,
                    feedback: optional_text(&feedback).map(Personal::from),
                    ..Default::default()
                },
                ctx,
            );
            Ok(e.into())
        })
    }

    /// Closes a case by hand. Closing one that was never resolved needs a reason.
    pub fn close<C: Cases>(&self, ctx: &Context, id: C, reason: Option<String>) -> Result<C::Out> {
        self.record_cases(ctx, id, Action::Close, |cur| {
            let reason = optional_text(&reason);
            if reason.is_none() && cur.case.case.status != crate::model::Status::Resolved {
                return Err(Error::invalid(
                    "--reason",
                    format!(
                        "case {} is {}, not resolved: say why it is closed",
                        cur.case.case.id, cur.case.case.status
                    ),
                ));
            }
            let e = event(
                Close {
                    reason,
                    ..Default::default()
                },
                ctx,
            );
            Ok(e.into())
        })
    }

    /// Reopens a resolved case (a closed one is final: open a new case and link it).
    pub fn reopen<C: Cases>(&self, ctx: &Context, id: C, reason: &str) -> Result<C::Out> {
        self.record_cases(ctx, id, Action::Reopen, |_| {
            let e = event(
                Reopen {
                    reason: Some(required_text("--reason", reason)?),
                    ..Default::default()
                },
                ctx,
            );
            Ok(e.into())
        })
    }
}
