//! One function per action: load, validate, apply, commit. Commands are thin wrappers.

mod config;
mod customer;
mod export;
mod gather;
mod import;
mod init;
mod lifecycle;
mod merge;
mod open;
mod privacy;
mod read;
mod research;
mod review;
mod search;
mod sla;
mod sync;
mod team;
mod template;
mod textconv;
mod verify;
mod when;

use std::path::Path;

use chrono::{DateTime, Utc};

pub use config::{unset_meaning, ConfigCheck};
pub use customer::CustomerHistory;
pub use export::{export_columns, export_only_columns, ExportRow};
pub use gather::GatherInput;
pub use import::{ImportFormat, ImportOptions, ImportReport, RowError};
pub use init::{InitOptions, InitOutcome};
pub use lifecycle::FollowUpResponse;
pub use open::NewCase;
pub use privacy::{EraseReport, EraseTarget};
pub use read::{ListFilter, ListSort, Listed};
pub use review::{Finding, GroupBy, QueueItem, ReviewReport};
pub use search::{fts_query, SearchHit};
pub use sla::{add_duration, DueItem, TickAction};
pub use sync::{merge_driver, SyncReport};
pub use team::{Bulk, Cases, Refusal, Targets};
pub use textconv::textconv;
pub use verify::VerifyReport;

use crate::error::{Error, Result};
use crate::model::payload::Close;
use crate::model::state;
use crate::model::{Action, Actor, CaseFile, CaseId, Config, Event, IdQuery, Payload};
use crate::store::{Change, Snapshot, Store};

/// Who acts and when: injected, never read from the clock inside an operation.
#[derive(Debug, Clone)]
pub struct Context {
    pub actor: Actor,
    pub now: DateTime<Utc>,
    /// Time worked on this action (`--worked`), recorded on its event (on each case's).
    pub worked_minutes: Option<u32>,
}

/// An open case book.
pub struct Casebook {
    store: std::mem::ManuallyDrop<Store>,
    /// Kept to the end of the process: see [`Casebook::for_this_process`].
    for_process: bool,
}

impl Casebook {
    fn with(store: Store) -> Casebook {
        Casebook {
            store: std::mem::ManuallyDrop::new(store),
            for_process: false,
        }
    }

    /// This case book, used until the process ends (a command of the CLI): dropping it does
    /// not close the repository. Closing it (freeing libgit2's caches and unmapping its
    /// packs) took a command about 1.1 ms at 100k cases, just before the process ended,
    /// which frees all of it anyway. Nothing of casebook's is written on a drop: every lock
    /// is a file lock the process's end releases, and every change is committed when its
    /// call returns.
    pub fn for_this_process(mut self) -> Casebook {
        self.for_process = true;
        self
    }
}

impl Drop for Casebook {
    fn drop(&mut self) {
        if !self.for_process {
            // SAFETY: dropped once, here, and never used after.
            unsafe { std::mem::ManuallyDrop::drop(&mut self.store) };
        }
    }
}

/// What one recorded action produced.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The case after the action.
    pub case: CaseFile,
    /// The event that was appended.
    pub event: Event,
}

/// What an action's builder returns: the event, and any other files the same commit writes
/// (attachments, the other side of a link).
pub(crate) struct Step {
    pub event: Event,
    pub extra_files: Vec<(String, Vec<u8>)>,
}

impl From<Event> for Step {
    fn from(event: Event) -> Step {
        Step {
            event,
            extra_files: Vec::new(),
        }
    }
}

/// What a builder sees: the tip, the case as it is, and the policy.
pub(crate) struct Current<'a, 's> {
    pub snap: &'a Snapshot<'s>,
    pub case: &'a CaseFile,
    pub config: &'a Config,
}

impl Casebook {
    /// Finds the case book containing `start`.
    pub fn discover(start: &Path) -> Result<Casebook> {
        let store = Store::discover(start)?;
        // Derived state first: finish a working-tree update an earlier process left. A read
        // still works if this cannot be done now; the next write tries again and reports.
        if let Err(e) = store.heal() {
            crate::store::notice_error("could not finish an interrupted working-tree update", &e);
        }
        store.casebook_snapshot()?;
        let cb = Casebook::with(store);
        // A key ring replaced without some keys, whose old objects may still be here.
        if let Err(e) = cb.store.finish_ring_change() {
            eprintln!(
                "casebook: could not delete an old key ring: {e}; the next command tries again"
            );
        }
        // A sync stopped after it merged the branch and before it merged the key ring.
        if let Err(e) = cb.finish_ring_merge() {
            eprintln!("casebook: could not merge the key ring an interrupted sync fetched: {e}; the next command tries again");
        }
        // An erasure that destroyed its keys but died before recording its events.
        if let Err(e) = cb.finish_erasure() {
            eprintln!("casebook: could not finish an interrupted erasure: {e}; the next command tries again");
        }
        Ok(cb)
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The configuration at the branch tip.
    pub fn config(&self) -> Result<Config> {
        Ok(self.store.casebook_snapshot()?.config()?)
    }

    /// git's `user.name` and `user.email` for this repository, if both are set.
    pub fn git_identity(&self) -> Option<Actor> {
        let config = self.store.git_config()?;
        Actor::new(
            &config.get_string("user.name").ok()?,
            &config.get_string("user.email").ok()?,
        )
        .ok()
    }

    /// Records one action on an existing case as one commit: resolves the ID, checks the
    /// state rules, lets `build` validate the input and make the event, appends it, commits.
    /// `build` may run again if another writer moved the branch meanwhile.
    pub(crate) fn record(
        &self,
        ctx: &Context,
        query: &str,
        action: Action,
        mut build: impl FnMut(&Current<'_, '_>) -> Result<Step>,
    ) -> Result<Recorded> {
        let (_, recorded) = self
            .store
            .transact(&ctx.actor, ctx.now, |snap| -> Result<_> {
                let config = snap.config()?;
                let (id, case, step) = prepare(snap, &config, ctx, query, &action, &mut |cur| {
                    build(cur).map(Some)
                })?
                .expect("the builder always makes an event");
                let message = commit_message(&id, &step.event, ctx);
                let mut files = vec![(id.path(), case.to_toml().into_bytes())];
                files.extend(step.extra_files);
                let recorded = Recorded {
                    case,
                    event: step.event,
                };
                Ok((Change::with_files(message, files), recorded))
            })?;
        Ok(recorded)
    }
}

/// One action on one case, inside a transaction: resolves the ID, checks the state rules,
/// lets `build` make the event (or decide there is nothing to do: `None`), appends it.
/// Returns the case after the event and the step; nothing is written here.
pub(crate) fn prepare(
    snap: &Snapshot<'_>,
    config: &Config,
    ctx: &Context,
    query: &str,
    action: &Action,
    build: &mut dyn FnMut(&Current<'_, '_>) -> Result<Option<Step>>,
) -> Result<Option<(CaseId, CaseFile, Step)>> {
    let id = resolve(snap, query)?;
    let mut case = snap
        .case(&id)?
        .ok_or_else(|| Error::UnknownCase(query.to_string()))?;
    // Decide on the events, not on a [case] section someone may have edited.
    case.reproject().map_err(|source| Error::Case {
        id: id.clone(),
        source,
    })?;
    if let Err(refused) = state::check(id.as_str(), action, &case.case.status) {
        // A duplicate merged into another case: say where its work went.
        if let Some(into) = &case.case.merged_into {
            return Err(Error::invalid(
                action.as_str(),
                format!("case {id} was merged into {into}: record this on {into} (`casebook show {into}`)"),
            ));
        }
        return Err(refused.into());
    }
    let Some(mut step) = build(&Current {
        snap,
        case: &case,
        config,
    })?
    else {
        return Ok(None);
    };
    step.event.worked_minutes = ctx.worked_minutes;
    debug_assert_eq!(&step.event.action(), action);
    warn_if_erased(&case, &mut step.event);
    case.append(step.event.clone())
        .map_err(|source| Error::Case {
            id: id.clone(),
            source,
        })?;
    Ok(Some((id, case, step)))
}

/// Warns when `event` brings personal data to a case whose personal data was erased: it
/// is sealed with a new key of this case only, which `erase --customer` cannot find (the
/// customer's contact in the case reads `[erased]`); `erase ID` erases it.
fn warn_if_erased(case: &CaseFile, event: &mut Event) {
    let erased = case.events.iter().rev().find_map(|e| {
        e.get::<crate::model::payload::Erase>()
            .map(|_| crate::model::time::format_utc(&e.at))
    });
    let Some(when) = erased else { return };
    let mut personal = false;
    event.each_personal_mut(&mut |_, v| {
        personal |= !v.trim().is_empty() && v != crate::model::privacy::ERASED;
    });
    if personal {
        let id = &case.case.id;
        crate::store::warn(&format!(
            "{id}: its personal data was erased ({when}); what this records about the customer is kept, sealed with a key of this case alone: `casebook erase {id}` erases it, `erase --customer` no longer finds this case"
        ));
    }
}

/// Finds the one case a user means by `query` (a whole ID or a unique start of one).
pub(crate) fn resolve(snap: &Snapshot<'_>, query: &str) -> Result<CaseId> {
    let q = IdQuery::parse(query)?;
    // A whole ID of a case that exists is that case, even when an alias (the old ID of a
    // case renamed after a collision) or a longer ID also matches.
    if let (Some(prefix), true) = (&q.prefix, q.random.len() == crate::model::id::RANDOM_LEN) {
        if let Ok(id) = CaseId::parse(&format!("{prefix}-{}", q.random)) {
            if snap.has_case(&id)? {
                return Ok(id);
            }
        }
    }
    let mut found = snap.find_cases(&q)?;
    match found.len() {
        0 => Err(Error::UnknownCase(query.to_string())),
        1 => Ok(found.remove(0)),
        _ => Err(Error::AmbiguousCase {
            query: query.to_string(),
            candidates: found,
        }),
    }
}

/// `<ID>: <action> — <summary>`, then trailers that make `git log` searchable.
pub(crate) fn commit_message(id: &CaseId, event: &Event, ctx: &Context) -> String {
    // Commit messages stay in every clone's history for good, where no key can erase
    // them: they never carry a value the event's types declare personal.
    let mut bare = event.clone();
    bare.each_personal_mut(&mut |_, v| v.clear());
    let summary = one_line(&summary_of(&bare), 72);
    let subject = if summary.is_empty() {
        format!("{id}: {}", event.action())
    } else {
        format!("{id}: {} — {summary}", event.action())
    };
    let mut message = format!(
        "{subject}\n\nCase-Id: {id}\nAction: {}\nActor: {}\nEvent-Id: {}\n",
        event.action(),
        ctx.actor,
        event.id
    );
    if event.action() == Action::Research {
        // The other side of each link changes in the same commit: name it too, so
        // `git log --grep "Case-Id: <it>"` finds the commit.
        for other in event.payload.links() {
            message.push_str(&format!("Case-Id: {other}\n"));
        }
    }
    message
}

/// A short description of what an event did, for commit subjects and the timeline. It
/// never quotes messages or feedback: they address the customer by name, and commit
/// messages cannot be erased from history.
pub fn summary_of(event: &Event) -> String {
    use crate::model::time::format_utc;
    let channel = event
        .payload
        .channel()
        .map(|c| format!(" by {c}"))
        .unwrap_or_default();
    let mut parts: Vec<String> = Vec::new();
    match &event.payload {
        Payload::Open(p) => parts.push(match p.subject.as_deref() {
            Some(s) if !s.trim().is_empty() => s.to_string(),
            // A commit message (the subject is personal data): what is not.
            _ => format!(
                "new {} case{channel}",
                p.priority.as_ref().map_or("", |p| p.as_str())
            )
            .replace("new  case", "new case"),
        }),
        Payload::Acknowledge(_) => parts.push(format!("first response sent{channel}")),
        Payload::Log(p) => parts.push(match p.summary.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => s.to_string(),
            // A commit message (the summary is personal data): what is not.
            _ => {
                let direction = p.direction.as_ref().map(|d| format!("{} ", d.as_str()));
                format!("{}interaction{channel}", direction.unwrap_or_default())
            }
        }),
        Payload::Update(p) => parts.push(match &p.eta {
            Some(eta) => format!("update sent{channel}, ETA {}", format_utc(eta)),
            None => format!("update sent{channel}"),
        }),
        Payload::Escalate(p) => parts.push(format!(
            "level {}{}",
            p.level.unwrap_or_default(),
            p.to.as_deref()
                .map(|t| format!(" to {t}"))
                .unwrap_or_default()
        )),
        Payload::Deescalate(p) => parts.push(format!("level {}", p.level.unwrap_or_default())),
        Payload::FollowUp(p) => {
            parts.push(match (p.response.as_ref().map(|r| r.as_str()), p.rating) {
                (Some(r), Some(n)) => format!("{r}, rated {n}/5"),
                (Some(r), None) => r.to_string(),
                (None, _) => "follow-up".to_string(),
            })
        }
        Payload::Link(p) => parts.push(format!("linked from {}", p.links.join(", "))),
        Payload::Assign(p) => parts.push(match &p.to {
            Some(to) => format!("to {}", to.split(" <").next().unwrap_or(to)),
            None => "unassigned".to_string(),
        }),
        Payload::Close(Close {
            into: Some(into), ..
        }) => parts.push(format!("merged into {into}")),
        Payload::Merge(p) => parts.push(format!("merged {}", p.links.join(", "))),
        Payload::Correct(p) => parts.push(format!(
            "corrected {} of event {}",
            crate::model::correct::FIELDS
                .iter()
                .filter(|f| crate::model::correct::field(event, f).is_some())
                .map(|f| f.replace('_', " "))
                .collect::<Vec<_>>()
                .join(", "),
            p.corrects.as_deref().unwrap_or("?")
        )),
        Payload::Tag(p) => parts.extend(
            p.added
                .iter()
                .map(|t| format!("+{t}"))
                .chain(p.removed.iter().map(|t| format!("-{t}"))),
        ),
        Payload::Review(p) => {
            parts.extend(p.finding.clone());
            parts.extend(p.improvements.iter().map(|a| format!("action: {a}")));
        }
        Payload::Gather(p) => {
            parts.extend(p.changes.iter().map(|c| c.field.clone()));
            if event.customer.is_some() {
                parts.push("contact details".into());
            }
            // In a commit message personal values are blank: say what, not what was said.
            parts.extend(p.question.iter().map(|q| match q.trim() {
                "" => "asked a question".to_string(),
                q => format!("asked: {q}"),
            }));
            parts.extend(p.note.as_deref().map(str::to_string));
            parts.extend(event.attachments.iter().map(|a| match a.name.trim() {
                "" => "attached a file".to_string(),
                name => format!("attached {name}"),
            }));
        }
        Payload::Research(p) => {
            parts.extend(p.root_cause.clone().or_else(|| p.finding.clone()));
            parts.extend(p.scope.as_ref().map(|s| s.to_string()));
            if !p.links.is_empty() {
                parts.push(format!("linked {}", p.links.join(", ")));
            }
        }
        _ => parts.extend(
            ["resolution", "summary", "reason"]
                .into_iter()
                .find_map(|k| event.text(k))
                .map(str::to_string),
        ),
    }
    parts.retain(|p| !p.trim().is_empty());
    parts.join(", ")
}

/// Collapses white space and cuts to `max` characters with an ellipsis.
pub(crate) fn one_line(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max - 1).collect();
        format!("{}…", cut.trim_end())
    }
}

/// A required piece of free text: trimmed, not empty.
pub(crate) fn required_text(field: &str, value: &str) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    Ok(v.to_string())
}

/// Optional free text: trimmed; empty means not given.
pub(crate) fn optional_text(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(String::from)
}
