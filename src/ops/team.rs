//! Working as a team: bulk actions (one action on many cases, one commit), owners and tags.
//!
//! A bulk action is all-or-nothing by default: every case is checked and built inside one
//! transaction, and if any refuses (an unknown ID, a state that does not allow the action,
//! bad input for that case) nothing is written and every refusal is reported. With
//! `continue_on_error` the refused cases are reported and the others recorded, still in one
//! commit. Only refusals of the user's input are collected; a broken store stops the action.

use std::collections::HashSet;

use super::{
    commit_message, one_line, prepare, summary_of, Casebook, Context, Current, Recorded, Step,
};
use crate::error::{exit, Error, Result};
use crate::model::payload::{Assign, Tag};
use crate::model::team;
use crate::model::{Action, Actor, CaseId, Event};
use crate::store::Change;

/// The cases one command acts on, as the user named them.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    pub ids: Vec<String>,
    /// Record the cases that accept the action even if others refuse.
    pub continue_on_error: bool,
}

impl Targets {
    pub fn one(id: &str) -> Targets {
        Targets {
            ids: vec![id.to_string()],
            continue_on_error: false,
        }
    }
}

pub use crate::error::Refusal;

/// What a bulk action did.
#[derive(Debug, Default)]
pub struct Bulk {
    pub recorded: Vec<Recorded>,
    /// Cases where there was nothing to record (already so).
    pub unchanged: Vec<CaseId>,
    /// Cases that refused (only with `continue_on_error`; otherwise the action fails).
    pub refused: Vec<Refusal>,
    /// The commit, if anything was recorded.
    pub commit: Option<String>,
    /// How many IDs the user named.
    pub named: usize,
}

/// Whether an error is a case refusing the action (collected) rather than something that
/// stops everything (the store, the disk).
fn is_refusal(e: &Error) -> bool {
    !matches!(e, Error::Store(_) | Error::Io { .. }) && e.exit_code() == exit::USER
}

impl Casebook {
    /// One action on every case of `targets`, as one commit (see the module docs). `build`
    /// makes each case's event, or `None` when there is nothing to do for that case.
    pub(crate) fn record_many(
        &self,
        ctx: &Context,
        targets: &Targets,
        action: Action,
        mut build: impl FnMut(&Current<'_, '_>) -> Result<Option<Step>>,
    ) -> Result<Bulk> {
        if targets.ids.is_empty() {
            return Err(Error::invalid("ID", "no case given"));
        }
        let (committed, mut bulk) =
            self.store
                .transact(&ctx.actor, ctx.now, |snap| -> Result<_> {
                    let config = snap.config()?;
                    let mut bulk = Bulk::default();
                    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
                    let mut paths: HashSet<String> = HashSet::new();
                    let mut seen: HashSet<CaseId> = HashSet::new();
                    for query in &targets.ids {
                        // The same case named twice (a whole ID and a short one) is acted on once.
                        if targets.ids.len() > 1 {
                            if let Ok(id) = super::resolve(snap, query) {
                                if !seen.insert(id) {
                                    continue;
                                }
                            }
                        }
                        match prepare(snap, &config, ctx, query, &action, &mut build) {
                            Ok(Some((id, case, step))) => {
                                let mut own = vec![(id.path(), case.to_toml().into_bytes())];
                                own.extend(step.extra_files);
                                if let Some((path, _)) =
                                    own.iter().find(|(p, _)| paths.contains(p))
                                {
                                    return Err(Error::invalid(
                                        "ID",
                                        format!("{query}: this action on it changes {path}, which another case of the same action changes too; record these one at a time"),
                                    ));
                                }
                                paths.extend(own.iter().map(|(p, _)| p.clone()));
                                files.extend(own);
                                bulk.recorded.push(Recorded {
                                    case,
                                    event: step.event,
                                });
                            }
                            Ok(None) => {
                                if let Ok(id) = super::resolve(snap, query) {
                                    bulk.unchanged.push(id);
                                }
                            }
                            Err(e) if is_refusal(&e) => bulk.refused.push(Refusal {
                                query: query.clone(),
                                error: e,
                            }),
                            Err(e) => return Err(e),
                        }
                    }
                    if !bulk.refused.is_empty() && !targets.continue_on_error {
                        // One case named: its own error, as a single action reports it.
                        if targets.ids.len() == 1 {
                            return Err(bulk.refused.remove(0).error);
                        }
                        return Err(Error::Refused {
                            action: action.to_string(),
                            refusals: std::mem::take(&mut bulk.refused),
                        });
                    }
                    if files.is_empty() {
                        return Ok((Change::nothing(), bulk));
                    }
                    let message = bulk_message(&bulk.recorded, &action, ctx);
                    let mut change = Change::with_files(message, files);
                    if bulk.recorded.len() > 16 {
                        change = change.packed();
                    }
                    Ok((change, bulk))
                })?;
        bulk.commit = committed.commit.map(|c| c.to_string());
        bulk.named = targets.ids.len();
        Ok(bulk)
    }

    /// Makes `owner` (`None`: nobody) the owner of every case of `targets`; cases already
    /// so are left unchanged.
    pub fn assign(&self, ctx: &Context, targets: &Targets, owner: Option<&Actor>) -> Result<Bulk> {
        let to = owner.map(Actor::to_string);
        self.record_many(ctx, targets, Action::Assign, |cur| {
            let from = cur.case.case.owner.clone();
            if from == to {
                return Ok(None);
            }
            let e = Event::with(
                Assign {
                    to: to.clone(),
                    from,
                    ..Default::default()
                },
                ctx.now,
                &ctx.actor.to_string(),
            );
            Ok(Some(e.into()))
        })
    }

    /// Adds and removes tags (`+billing`, `-vip`) on every case of `targets`; one event
    /// per case that changes.
    pub fn tag(&self, ctx: &Context, targets: &Targets, changes: &[String]) -> Result<Bulk> {
        let (added, removed) =
            team::parse_changes(changes).map_err(|e| Error::value("tag", changes.join(" "), e))?;
        if added.is_empty() && removed.is_empty() {
            return Err(Error::invalid(
                "tag",
                "no tag change given: write +TAG to add a tag or -TAG to remove one",
            ));
        }
        self.record_many(ctx, targets, Action::Tag, |cur| {
            let has = &cur.case.case.tags;
            let e = Tag {
                added: added.iter().filter(|t| !has.contains(t)).cloned().collect(),
                removed: removed
                    .iter()
                    .filter(|t| has.contains(t))
                    .cloned()
                    .collect(),
                ..Default::default()
            };
            if e.added.is_empty() && e.removed.is_empty() {
                return Ok(None);
            }
            Ok(Some(Event::with(e, ctx.now, &ctx.actor.to_string()).into()))
        })
    }
}

/// One case: the message a single action writes. Several: what was done to how many, and
/// a `Case:` trailer per case (not `Case-Id:`, whose first value names the case a commit
/// is about), so `git log --grep "Case: <ID>"` finds the commit.
fn bulk_message(recorded: &[Recorded], action: &Action, ctx: &Context) -> String {
    if let [one] = recorded {
        return commit_message(&one.case.case.id, &one.event, ctx);
    }
    let summaries: HashSet<String> = recorded.iter().map(|r| summary_of(&r.event)).collect();
    let subject = match summaries.iter().next() {
        Some(s) if summaries.len() == 1 && !s.is_empty() => {
            format!("{action} on {} cases — {}", recorded.len(), one_line(s, 60))
        }
        _ => format!("{action} on {} cases", recorded.len()),
    };
    let mut message = format!(
        "{subject}\n\nAction: {action}\nActor: {}\nCases: {}\n",
        ctx.actor,
        recorded.len()
    );
    for r in recorded {
        message.push_str(&format!("Case: {}\n", r.case.case.id));
    }
    message
}

/// What an action is recorded on: one case named by the user (`&str`; the result is that
/// case's [`Recorded`]) or several ([`Targets`]; the result is a [`Bulk`], one commit).
pub trait Cases {
    type Out;
    fn targets(&self) -> Targets;
    fn finish(bulk: Bulk) -> Result<Self::Out>;
}

impl Cases for &str {
    type Out = Recorded;

    fn targets(&self) -> Targets {
        Targets::one(self)
    }

    fn finish(bulk: Bulk) -> Result<Recorded> {
        bulk.recorded
            .into_iter()
            .next()
            .ok_or_else(|| Error::invalid("ID", "nothing was recorded"))
    }
}

impl Cases for &String {
    type Out = Recorded;

    fn targets(&self) -> Targets {
        Targets::one(self)
    }

    fn finish(bulk: Bulk) -> Result<Recorded> {
        <&str as Cases>::finish(bulk)
    }
}

impl Cases for &Targets {
    type Out = Bulk;

    fn targets(&self) -> Targets {
        (*self).clone()
    }

    fn finish(bulk: Bulk) -> Result<Bulk> {
        Ok(bulk)
    }
}

impl Casebook {
    /// [`Casebook::record_many`] for an action that always makes an event.
    pub(crate) fn record_cases<C: Cases>(
        &self,
        ctx: &Context,
        cases: C,
        action: Action,
        mut build: impl FnMut(&Current<'_, '_>) -> Result<Step>,
    ) -> Result<C::Out> {
        let bulk = self.record_many(ctx, &cases.targets(), action, |cur| build(cur).map(Some))?;
        C::finish(bulk)
    }
}
