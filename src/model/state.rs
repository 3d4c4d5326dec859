//! The SOP's state rules in one table: which action may run in which status.
//!
//! ```text
//! new ──acknowledge──▶ open ⇄ pending ──resolve──▶ resolved ──follow-up --satisfied──▶ closed
//!                       ▲                              │
//!                       └── follow-up --not-satisfied ─┘ (and reopen)
//! ```
//! A case never returns to `new`; `closed` is final (new contact opens a new, linked case),
//! though `log` may still document what happened after the fact. What each action does to
//! the case is in [`super::case`] (`apply`); whether it may run is only here.

use super::enums::{Action, Status};

use Action as A;
use Status as S;

const ACTIVE: &[Status] = &[S::New, S::Open, S::Pending];

/// Each action and the statuses it may run in. `open` creates a case and has no row.
pub const RULES: &[(Action, &[Status])] = &[
    (A::Acknowledge, &[S::New]),
    (A::Gather, ACTIVE),
    (A::Research, ACTIVE),
    (A::Update, &[S::Open, S::Pending]),
    (A::Pending, &[S::Open]),
    (
        A::Log,
        &[S::New, S::Open, S::Pending, S::Resolved, S::Closed],
    ),
    (A::Escalate, ACTIVE),
    (A::Deescalate, ACTIVE),
    (A::Resolve, &[S::Open, S::Pending]),
    (A::FollowUp, &[S::Resolved]),
    (A::Close, &[S::New, S::Open, S::Pending, S::Resolved]),
    (A::Reopen, &[S::Resolved]),
    // Reviewing documents a finished case after the fact.
    (A::Review, &[S::Resolved, S::Closed]),
    // A closed case is final: nobody owns its work any more.
    (A::Assign, &[S::New, S::Open, S::Pending, S::Resolved]),
    // Duplicates are merged into a case still being worked.
    (A::Merge, &[S::New, S::Open, S::Pending, S::Resolved]),
    // Fixing what was written is documentation: always allowed.
    (
        A::Correct,
        &[S::New, S::Open, S::Pending, S::Resolved, S::Closed],
    ),
    // Tags sort cases, closed ones too (for review).
    (
        A::Tag,
        &[S::New, S::Open, S::Pending, S::Resolved, S::Closed],
    ),
    // Recorded on the other case when a case links to it; documentation, so always allowed.
    (
        A::Link,
        &[S::New, S::Open, S::Pending, S::Resolved, S::Closed],
    ),
    // A customer's right to erasure holds whatever state their case is in.
    (
        A::Erase,
        &[S::New, S::Open, S::Pending, S::Resolved, S::Closed],
    ),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{action}` is not allowed on case {case}: it is {status}{}", allowed_text(.allowed))]
pub struct StateError {
    pub case: String,
    pub action: Action,
    pub status: Status,
    /// What may run in this status instead.
    pub allowed: Vec<Action>,
}

fn allowed_text(allowed: &[Action]) -> String {
    if allowed.is_empty() {
        String::new()
    } else {
        let names: Vec<&str> = allowed.iter().map(Action::as_str).collect();
        format!("; allowed now: {}", names.join(", "))
    }
}

/// The statuses `action` may run in.
pub fn allowed_from(action: &Action) -> &'static [Status] {
    RULES
        .iter()
        .find(|(a, _)| a == action)
        .map(|(_, from)| *from)
        .unwrap_or(&[])
}

/// The commands that may run in `status`, in the SOP's order (`link`, `import`, `merge`
/// and `correct` events are recorded by other commands: research, import, merge, amend).
pub fn allowed_in(status: &Status) -> Vec<Action> {
    RULES
        .iter()
        .filter(|(a, from)| {
            from.contains(status)
                && !matches!(a, A::Link | A::Import | A::Merge | A::Correct | A::Erase)
        })
        .map(|(a, _)| a.clone())
        .collect()
}

/// Refuses `action` unless the table allows it in `status`.
pub fn check(case: &str, action: &Action, status: &Status) -> Result<(), StateError> {
    if allowed_from(action).contains(status) {
        Ok(())
    } else {
        Err(StateError {
            case: case.to_string(),
            action: action.clone(),
            status: status.clone(),
            allowed: allowed_in(status),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lifecycle_is_allowed_and_shortcuts_are_not() {
        assert!(check("C", &A::Acknowledge, &S::New).is_ok());
        assert!(check("C", &A::Resolve, &S::Open).is_ok());
        assert!(check("C", &A::FollowUp, &S::Resolved).is_ok());
        let e = check("CB-1", &A::Resolve, &S::New).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`resolve` is not allowed on case CB-1: it is new; allowed now: acknowledge, gather, research, log, escalate, deescalate, close, assign, tag"
        );
        assert!(check("C", &A::FollowUp, &S::Open).is_err());
        assert!(check("C", &A::Acknowledge, &S::Open).is_err());
        assert!(check("C", &A::Reopen, &S::Closed).is_err());
    }

    #[test]
    fn closed_is_final_except_for_documentation() {
        assert_eq!(allowed_in(&S::Closed), vec![A::Log, A::Review, A::Tag]);
    }

    #[test]
    fn unknown_statuses_allow_nothing() {
        let unknown = S::Unknown("archived".into());
        assert!(allowed_in(&unknown).is_empty());
        assert!(check("C", &A::Log, &unknown).is_err());
    }
}
