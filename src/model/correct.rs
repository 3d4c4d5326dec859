//! Corrections: a `correct` event fixes free text an earlier event recorded (a typo in a
//! message, a wrong answer). The original stays in the file untouched — history keeps
//! everything — and the `correct` event names it (`corrects`) and carries the new values in
//! the same keys. Replay and `show` read each event with its corrections laid over it, the
//! latest last, so the projection and the conversation show the corrected text.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use super::event::{Event, Payload};

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

/// The free text of `e` called `name` (one of [`FIELDS`]), if it recorded any.
pub fn field<'e>(e: &'e Event, name: &str) -> Option<&'e str> {
    e.text(name)
}

/// The events with their corrections applied, and which (event id, field) were edited.
pub fn effective(events: &[Event]) -> (Vec<Cow<'_, Event>>, HashSet<(String, &'static str)>) {
    let mut fixes: HashMap<&str, Vec<&Event>> = HashMap::new();
    for e in events {
        if let Payload::Correct(c) = &e.payload {
            if let Some(target) = &c.corrects {
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
                        if let Some(v) = field(fix, name) {
                            if patched.set_text(name, v) {
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
