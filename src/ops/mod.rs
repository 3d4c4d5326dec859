//! One function per action: load, validate, apply, commit. Commands are thin wrappers.

mod init;
mod open;
mod read;

use std::path::Path;

use chrono::{DateTime, Utc};

pub use init::{InitOptions, InitOutcome};
pub use open::NewCase;
pub use read::ListFilter;

use crate::error::{Error, Result};
use crate::model::{Action, Actor, CaseFile, CaseId, Config, Event, IdQuery};
use crate::store::{Change, Snapshot, Store};

/// Who acts and when: injected, never read from the clock inside an operation.
#[derive(Debug, Clone)]
pub struct Context {
    pub actor: Actor,
    pub now: DateTime<Utc>,
}

/// An open case book.
pub struct Casebook {
    store: Store,
}

impl Casebook {
    /// Finds the case book containing `start`.
    pub fn discover(start: &Path) -> Result<Casebook> {
        let store = Store::discover(start)?;
        store.casebook_snapshot()?;
        Ok(Casebook { store })
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
        Actor::new(&config.get_string("user.name").ok()?, &config.get_string("user.email").ok()?).ok()
    }

    /// Records one action on an existing case as one commit. `build` checks the action
    /// against the case and the config and returns the event to append (it may be called
    /// again if another writer moved the branch).
    pub(crate) fn record(
        &self,
        ctx: &Context,
        query: &str,
        mut build: impl FnMut(&CaseFile, &Config) -> Result<Event>,
    ) -> Result<CaseFile> {
        let (_, file) = self
            .store
            .transact(&ctx.actor, ctx.now, |snap| -> Result<_> {
                let config = snap.config()?;
                let id = resolve(snap, query)?;
                let mut file = snap.case(&id)?.ok_or_else(|| Error::UnknownCase(query.to_string()))?;
                let event = build(&file, &config)?;
                let message = commit_message(&id, &event, ctx);
                file.append(event).map_err(|source| Error::Case { id: id.clone(), source })?;
                let change = Change {
                    files: vec![(id.path(), file.to_toml().into_bytes())],
                    message,
                };
                Ok((change, file))
            })?;
        Ok(file)
    }
}

/// Finds the one case a user means by `query` (a whole ID or a unique start of one).
pub(crate) fn resolve(snap: &Snapshot<'_>, query: &str) -> Result<CaseId> {
    let q = IdQuery::parse(query)?;
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
    let summary = one_line(&summary_of(event), 72);
    let subject = if summary.is_empty() {
        format!("{id}: {}", event.action)
    } else {
        format!("{id}: {} — {summary}", event.action)
    };
    format!(
        "{subject}\n\nCase-Id: {id}\nAction: {}\nActor: {}\nEvent-Id: {}\n",
        event.action, ctx.actor, event.id
    )
}

/// A short description of what an event did, without personal data.
pub fn summary_of(event: &Event) -> String {
    let text = match event.action {
        Action::Open => event.subject.clone(),
        Action::Escalate => Some(format!(
            "level {}{}",
            event.level.unwrap_or_default(),
            event.to.as_deref().map(|t| format!(" to {t}")).unwrap_or_default()
        )),
        Action::Deescalate => Some(format!("level {}", event.level.unwrap_or_default())),
        Action::FollowUp => event.response.clone(),
        _ => None,
    };
    text.or_else(|| {
        [
            &event.resolution,
            &event.summary,
            &event.reason,
            &event.finding,
            &event.root_cause,
            &event.message,
            &event.note,
            &event.question,
        ]
        .into_iter()
        .find_map(|v| v.clone())
    })
    .unwrap_or_default()
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
