//! SLA commitments at "now": per case, the agent's due queue, and `tick`, the time-driven
//! actions (auto-close, auto-escalation) that any clone may run from cron.

use chrono::{DateTime, TimeDelta, Utc};

use super::{Casebook, Context, Current, Recorded, Step};
use crate::error::{Error, Result};
use crate::model::commitment::{evaluate, Commitment, State, Target};
use crate::model::sla::{Clock, SlaDuration};
use crate::model::team::TeamFilter;
use crate::model::{payload, Action, CaseFile, CaseId, Config, Event, Payload, Status};

/// One open commitment in the queue, with what the queue shows of its case.
#[derive(Debug, Clone)]
pub struct DueItem {
    pub id: CaseId,
    pub customer: String,
    pub subject: String,
    pub priority: crate::model::Priority,
    pub status: Status,
    /// "Name <email>", or `None` for nobody.
    pub owner: Option<String>,
    pub tags: Vec<String>,
    pub commitment: Commitment,
}

/// What `tick` did (or would do, with `dry_run`).
#[derive(Debug, Clone, PartialEq)]
pub struct TickAction {
    pub case: CaseId,
    pub action: Action,
    pub reason: String,
}

/// Where `duration` ends from `from`, on its clock.
pub fn add_duration(config: &Config, from: DateTime<Utc>, duration: SlaDuration) -> DateTime<Utc> {
    let minutes = TimeDelta::minutes(duration.minutes(config.business_day_minutes()));
    match duration.clock {
        Clock::Calendar => from + minutes,
        Clock::Business => config.calendar.add_business(from, minutes),
    }
}

impl Casebook {
    /// The SLA commitments of every case at `now`, cases in the given order.
    pub fn commitments(
        &self,
        cases: &[CaseFile],
        now: DateTime<Utc>,
    ) -> Result<Vec<Vec<Commitment>>> {
        let view = self.view()?;
        let config = view.config();
        Ok(cases.iter().map(|f| evaluate(f, config, now)).collect())
    }

    /// Every open commitment (still owed, with a due time), breached first, then by due
    /// time. With `within`, only those due by then (breached ones always).
    pub fn due(&self, now: DateTime<Utc>, within: Option<SlaDuration>) -> Result<Vec<DueItem>> {
        Ok(self.due_queue(now, within, &TeamFilter::default())?.0)
    }

    /// [`Casebook::due`] of the cases `team` lets through (an owner's queue, a tag's), and
    /// the config it was read with.
    pub fn due_queue(
        &self,
        now: DateTime<Utc>,
        within: Option<SlaDuration>,
        team: &TeamFilter,
    ) -> Result<(Vec<DueItem>, Config)> {
        let view = self.view()?;
        let config = view.config();
        let horizon = within.map(|w| add_duration(config, now, w));
        let items_of = |f: CaseFile| {
            if f.case.status == Status::Closed || !team.matches(&f) {
                return None;
            }
            let items: Vec<DueItem> = evaluate(&f, config, now)
                .into_iter()
                .filter(|c| c.is_open() && c.due.is_some())
                .filter(|c| {
                    c.state == State::Breached
                        || horizon.is_none_or(|h| c.due.is_some_and(|d| d <= h))
                })
                .map(|commitment| DueItem {
                    id: f.case.id.clone(),
                    customer: f.customer.name.to_string(),
                    subject: f.case.subject.to_string(),
                    priority: f.case.priority.clone(),
                    status: f.case.status.clone(),
                    owner: f.case.owner.clone(),
                    tags: f.case.tags.clone(),
                    commitment,
                })
                .collect();
            (!items.is_empty()).then_some(items)
        };
        // An item is due by the horizon or breached (due by now): only commitments still
        // owed with a due time at or before the later of the two can be in the queue. The
        // index holds each commitment's instants, so the queue is a range query judged at
        // `now`, the same judgement `evaluate` makes (no case is parsed).
        let by = horizon.map(|h| h.max(now));
        let rows = view.index().and_then(|i| {
            let by = match by {
                None => None,
                Some(by) => Some(crate::store::index::nanos(&by)?),
            };
            i.due_rows(by, now, team).ok()
        });
        let per_case: Vec<Vec<DueItem>> = match rows {
            Some(rows) => vec![rows
                .into_iter()
                .filter(|r| {
                    r.commitment.state == State::Breached
                        || horizon.is_none_or(|h| r.commitment.due.is_some_and(|d| d <= h))
                })
                .map(|r| DueItem {
                    id: r.id,
                    customer: r.customer_name,
                    subject: r.subject,
                    priority: crate::model::Priority::from_stored(&r.priority),
                    status: Status::from_stored(&r.status),
                    owner: r.owner,
                    tags: r.tags,
                    commitment: r.commitment,
                })
                .collect()],
            None => view.map_cases(items_of)?,
        };
        let mut items: Vec<DueItem> = per_case.into_iter().flatten().collect();
        items.sort_by(|a, b| {
            let key = |i: &DueItem| {
                (
                    i.commitment.state != State::Breached,
                    i.commitment.due,
                    i.id.clone(),
                )
            };
            key(a).cmp(&key(b))
        });
        Ok((items, config.clone()))
    }

    /// The time-driven actions: close resolved cases whose follow-up window passed with no
    /// answer, and (if the policy says so) escalate cases with a breached target. One commit
    /// per action; running it again does nothing new.
    pub fn tick(&self, ctx: &Context, dry_run: bool) -> Result<Vec<TickAction>> {
        // Through the view, so a case file that does not parse is skipped with a warning.
        let view = self.view()?;
        let config = view.config().clone();
        let actor = ctx.actor.to_string();
        let planned = view.map_cases(|f| plan(&f, &config, ctx.now, &actor))?;
        drop(view);
        if dry_run {
            let mut would: Vec<TickAction> = planned.into_iter().map(|(a, _)| a).collect();
            would.extend(self.retain(ctx, true)?);
            return Ok(would);
        }
        let mut done = Vec::new();
        for (action, event) in planned {
            // Re-checked on the tip inside the transaction: another clone may have acted.
            let recorded: Result<Recorded> = self.record(
                ctx,
                action.case.as_str(),
                action.action.clone(),
                |cur: &Current<'_, '_>| match plan(cur.case, cur.config, ctx.now, &actor) {
                    Some((again, _)) if again == action => Ok(Step::from(event.clone())),
                    _ => Err(Error::invalid("tick", "no longer due")),
                },
            );
            match recorded {
                Ok(_) => done.push(action),
                Err(Error::Invalid { field, .. }) if field == "tick" => {}
                Err(Error::State(_)) => {}
                Err(e) => return Err(e),
            }
        }
        done.extend(self.retain(ctx, false)?);
        Ok(done)
    }
}

/// The one time-driven action a case needs now, if any, and its event.
fn plan(
    f: &CaseFile,
    config: &Config,
    now: DateTime<Utc>,
    actor: &str,
) -> Option<(TickAction, Event)> {
    let c = &f.case;
    if c.status == Status::Resolved {
        let resolved = c.resolved_at?;
        let deadline = add_duration(config, resolved, config.sla.auto_close);
        if now >= deadline {
            let reason = crate::model::commitment::auto_close_reason(f, config.sla.auto_close);
            let e = Event::with(
                payload::Close {
                    reason: Some(reason.clone()),
                    sla_target: Some("auto_close".into()),
                    sla_due: Some(deadline),
                    ..Default::default()
                },
                now,
                actor,
            );
            return Some((
                TickAction {
                    case: c.id.clone(),
                    action: Action::Close,
                    reason,
                },
                e,
            ));
        }
        return None;
    }
    if !config.sla.auto_escalate
        || !matches!(c.status, Status::New | Status::Open | Status::Pending)
    {
        return None;
    }
    if c.escalation_level as usize >= config.escalation_chain.len() {
        return None;
    }
    let already = |t: Target, due: DateTime<Utc>| {
        f.events.iter().any(|e| {
            matches!(&e.payload, Payload::Escalate(p)
                if p.sla_target.as_deref() == Some(t.as_str()) && p.sla_due == Some(due))
        })
    };
    let breach = evaluate(f, config, now)
        .into_iter()
        .filter(|k| k.is_open() && k.state == State::Breached && k.target != Target::FollowUp)
        .filter_map(|k| k.breached_at.map(|d| (k.target, d)))
        .filter(|(t, d)| !already(*t, *d))
        .min_by_key(|(_, d)| *d)?;
    let level = c.escalation_level + 1;
    let reason = format!(
        "auto-escalation: {} target breached at {}",
        breach.0.as_str(),
        crate::model::time::format_utc(&breach.1)
    );
    let e = Event::with(
        payload::Escalate {
            reason: Some(reason.clone()),
            level: Some(level),
            to: Some(config.level_name(level)),
            sla_target: Some(breach.0.as_str().to_string()),
            sla_due: Some(breach.1),
            ..Default::default()
        },
        now,
        actor,
    );
    Some((
        TickAction {
            case: c.id.clone(),
            action: Action::Escalate,
            reason,
        },
        e,
    ))
}
