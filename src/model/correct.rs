//! Corrections: a `correct` event fixes free text an earlier event recorded (a typo in a
//! message, a wrong answer). The original stays in the file untouched — history keeps
//! everything — and the `correct` event names it (`corrects`) and carries the new values in
//! the same keys. Replay and `show` read each event with its corrections laid over it, the
//! latest last, so the projection and the conversation show the corrected text.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use super::enums::Action;
use super::event::Event;

/// The free-text fields a correction may change, by the name of their flag and key.
pub const FIELDS: &[&str] = &[
    "message",
    "summary",
    "outcome",
    "question",
    "answer",
    "note",
    "finding",
    "root_cause",
    "resolution",
    "feedback",
    "reason",
    "description",
];

/// The field of `e` called `name` (one of [`FIELDS`]).
pub fn field_mut<'e>(e: &'e mut Event, name: &str) -> Option<&'e mut Option<String>> {
    Some(match name {
        "message" => &mut e.message,
        "summary" => &mut e.summary,
        "outcome" => &mut e.outcome,
        "question" => &mut e.question,
        "answer" => &mut e.answer,
        "note" => &mut e.note,
        "finding" => &mut e.finding,
        "root_cause" => &mut e.root_cause,
        "resolution" => &mut e.resolution,
        "feedback" => &mut e.feedback,
        "reason" => &mut e.reason,
        "description" => &mut e.description,
        _ => return None,
    })
}

pub fn field<'e>(e: &'e Event, name: &str) -> Option<&'e Option<String>> {
    Some(match name {
        "message" => &e.message,
        "summary" => &e.summary,
        "outcome" => &e.outcome,
        "question" => &e.question,
        "answer" => &e.answer,
        "note" => &e.note,
        "finding" => &e.finding,
        "root_cause" => &e.root_cause,
        "resolution" => &e.resolution,
        "feedback" => &e.feedback,
        "reason" => &e.reason,
        "description" => &e.description,
        _ => return None,
    })
}

/// The events with their corrections applied, and which (event id, field) were edited.
pub fn effective(events: &[Event]) -> (Vec<Cow<'_, Event>>, HashSet<(String, &'static str)>) {
    let mut fixes: HashMap<&str, Vec<&Event>> = HashMap::new();
    for e in events {
        if e.action == Action::Correct {
            if let Some(target) = &e.corrects {
                fixes.entry(target.as_str()).or_default().push(e);
            }
        }
    }
    let mut edited = HashSet::new();
    if fixes.is_empty() {
        return (events.iter().map(Cow::Borrowed).collect(), edited);
    }
    let out = events
        .iter()
        .map(|e| match fixes.get(e.id.as_str()) {
            None => Cow::Borrowed(e),
            Some(list) => {
                let mut patched = e.clone();
                for fix in list {
                    for name in FIELDS {
                        if let Some(Some(v)) = field(fix, name) {
                            if let Some(slot) = field_mut(&mut patched, name) {
                                *slot = Some(v.clone());
                                edited.insert((e.id.clone(), *name));
                            }
                        }
                    }
                }
                Cow::Owned(patched)
            }
        })
        .collect();
    (out, edited)
}
