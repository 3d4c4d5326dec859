//! `merge`: duplicates closed into one case, in one commit.
//!
//! Each duplicate gets a `close` event with `into = TARGET` and a link to the target (its
//! commitments stop, as on any close, and `show` points to the target); the target gets one
//! `merge` event linking every duplicate. Nothing is copied or moved: each duplicate keeps
//! its whole history, so nothing can be lost and `git log` shows exactly what happened.
//! Merging into a closed case is refused, which also rules out cycles: a merged case is
//! closed.

use std::collections::HashSet;

use super::team::{Bulk, Refusal};
use super::{commit_message, prepare, resolve, Casebook, Context, Recorded, Step};
use crate::error::{Error, Result};
use crate::model::payload::{Close, Correct, Merge};
use crate::model::{Action, CaseId, Event, Payload, Status};
use crate::store::Change;

impl Casebook {
    /// Merges the `duplicates` into `target` (see the module docs). All or nothing: every
    /// refusal is reported and nothing is written if any case refuses.
    pub fn merge(
        &self,
        ctx: &Context,
        duplicates: &[String],
        target: &str,
        reason: Option<String>,
    ) -> Result<Bulk> {
        if duplicates.is_empty() {
            return Err(Error::invalid("DUP", "no duplicate given"));
        }
        let reason = super::optional_text(&reason);
        let (committed, mut bulk) =
            self.store
                .transact(&ctx.actor, ctx.now, |snap| -> Result<_> {
                    let config = snap.config()?;
                    let into = resolve(snap, target).map_err(|e| match e {
                        Error::UnknownCase(q) => {
                            Error::invalid("--into", format!("no case matches {q:?}"))
                        }
                        other => other,
                    })?;
                    let target_case = snap
                        .case(&into)?
                        .ok_or_else(|| Error::UnknownCase(target.to_string()))?;
                    if target_case.case.status == Status::Closed {
                        let merged = target_case
                            .case
                            .merged_into
                            .as_deref()
                            .map(|m| format!(" (it was merged into {m}: merge into that case)"))
                            .unwrap_or_default();
                        return Err(Error::invalid(
                            "--into",
                            format!("case {into} is closed; a duplicate can only be merged into a case still being worked{merged}"),
                        ));
                    }
                    let mut bulk = Bulk::default();
                    let mut seen: HashSet<CaseId> = HashSet::new();
                    let mut files = Vec::new();
                    let mut merged: Vec<String> = Vec::new();
                    for query in duplicates {
                        if let Ok(id) = resolve(snap, query) {
                            if id == into {
                                bulk.refused.push(Refusal {
                                    query: query.clone(),
                                    error: Error::invalid(
                                        "DUP",
                                        format!("case {id} cannot be merged into itself"),
                                    ),
                                });
                                continue;
                            }
                            if !seen.insert(id) {
                                continue;
                            }
                        }
                        let mut build = |_: &super::Current<'_, '_>| -> Result<Option<Step>> {
                            let e = Event::with(
                                Close {
                                    links: vec![into.to_string()],
                                    reason: Some(
                                        reason
                                            .clone()
                                            .unwrap_or_else(|| format!("duplicate of {into}")),
                                    ),
                                    into: Some(into.to_string()),
                                    ..Default::default()
                                },
                                ctx.now,
                                &ctx.actor.to_string(),
                            );
                            Ok(Some(e.into()))
                        };
                        match prepare(snap, &config, ctx, query, &Action::Close, &mut build) {
                            Ok(Some((id, case, step))) => {
                                files.push((id.path(), case.to_toml().into_bytes()));
                                merged.push(id.to_string());
                                bulk.recorded.push(Recorded {
                                    case,
                                    event: step.event,
                                });
                            }
                            Ok(None) => {}
                            Err(e) => bulk.refused.push(Refusal {
                                query: query.clone(),
                                error: match e {
                                    Error::State(s) if s.status == Status::Closed => {
                                        Error::invalid(
                                            "DUP",
                                            format!("case {} is closed already: nothing to merge", s.case),
                                        )
                                    }
                                    other => other,
                                },
                            }),
                        }
                    }
                    if !bulk.refused.is_empty() {
                        if duplicates.len() == 1 {
                            return Err(bulk.refused.remove(0).error);
                        }
                        return Err(Error::Refused {
                            action: "merge".into(),
                            refusals: std::mem::take(&mut bulk.refused),
                        });
                    }
                    let into_query = into.to_string();
                    let mut build_target = |_: &super::Current<'_, '_>| -> Result<Option<Step>> {
                        let e = Event::with(
                            Merge {
                                links: merged.clone(),
                                reason: reason.clone(),
                                ..Default::default()
                            },
                            ctx.now,
                            &ctx.actor.to_string(),
                        );
                        Ok(Some(e.into()))
                    };
                    let (id, case, step) = prepare(
                        snap,
                        &config,
                        ctx,
                        &into_query,
                        &Action::Merge,
                        &mut build_target,
                    )?
                    .expect("the merge event is always made");
                    let mut message = commit_message(&id, &step.event, ctx);
                    for m in &merged {
                        message.push_str(&format!("Case: {m}\n"));
                    }
                    files.push((id.path(), case.to_toml().into_bytes()));
                    bulk.recorded.insert(
                        0,
                        Recorded {
                            case,
                            event: step.event,
                        },
                    );
                    Ok((Change::with_files(message, files), bulk))
                })?;
        bulk.commit = committed.commit.map(|c| c.to_string());
        bulk.named = duplicates.len() + 1;
        Ok(bulk)
    }
}

impl Casebook {
    /// Corrects free text of event `event_id` of case `id`: a `correct` event that names
    /// it and carries the new values (see `model::correct`). `fields` are (field, text).
    pub fn amend(
        &self,
        ctx: &Context,
        id: &str,
        event_id: &str,
        fields: &[(&'static str, String)],
    ) -> Result<Recorded> {
        if fields.is_empty() {
            return Err(Error::invalid(
                "amend",
                "nothing to correct: give the new text, e.g. --message TEXT",
            ));
        }
        let wanted = event_id.trim().to_ascii_uppercase();
        self.record(ctx, id, Action::Correct, |cur| {
            let case = &cur.case.case.id;
            let original = cur
                .case
                .events
                .iter()
                .find(|e| e.id == wanted)
                .ok_or_else(|| {
                    Error::invalid(
                        "EVENT-ID",
                        format!("case {case} has no event {event_id:?}: `casebook show {case}` prints each event's id"),
                    )
                })?;
            if original.action() == Action::Correct {
                return Err(Error::invalid(
                    "EVENT-ID",
                    format!(
                        "event {wanted} is itself a correction: amend the event it corrects ({})",
                        match &original.payload {
                            Payload::Correct(c) => c.corrects.as_deref().unwrap_or("?"),
                            _ => "?",
                        }
                    ),
                ));
            }
            let mut e = Event::with(
                Correct {
                    corrects: Some(wanted.clone()),
                    ..Default::default()
                },
                ctx.now,
                &ctx.actor.to_string(),
            );
            for (name, text) in fields {
                let had = crate::model::correct::field(original, name).is_some();
                if !had {
                    let present: Vec<&str> = crate::model::correct::FIELDS
                        .iter()
                        .copied()
                        .filter(|f| crate::model::correct::field(original, f).is_some())
                        .collect();
                    return Err(Error::invalid(
                        format!("--{}", name.replace('_', "-")),
                        format!(
                            "event {wanted} ({}) recorded no {}; what it recorded: {}",
                            original.action(),
                            name.replace('_', " "),
                            if present.is_empty() { "no free text".to_string() } else { present.join(", ") }
                        ),
                    ));
                }
                let text = super::required_text(&format!("--{}", name.replace('_', "-")), text)?;
                e.set_text(name, text);
            }
            Ok(e.into())
        })
    }
}
