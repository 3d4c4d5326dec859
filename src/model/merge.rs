//! Merging two versions of one case from two clones, without conflict markers.
//!
//! Events are append-only and have unique ids, so the merge is the union of both event
//! lists, ordered by (seq, at, id): `seq` is a Lamport clock, so an event recorded after a
//! clone saw another comes after it; concurrent events are ordered by time, then id. The
//! current values are then recomputed by replay. The result does not depend on which
//! side merges (merge(a, b) == merge(b, a)), and merging the result again changes nothing.
//!
//! What concurrent, conflicting actions give, in this order, is what replay gives: a
//! field set by both sides keeps the later value (both events stay in the history); one
//! clone resolving while another escalates gives a resolved case at the higher level.

use std::collections::BTreeMap;

use super::case::{seq_of, CaseError, CaseFile};
use super::event::Event;

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("the two files are different cases ({0} and {1})")]
    DifferentCases(String, String),
    /// Both clones created a case with this ID: a rename is needed, not a merge.
    #[error("two different cases have the ID {0} (created in two clones)")]
    Collision(String),
    #[error("event {0} differs between the two versions (edited by hand?)")]
    EventEdited(String),
    #[error("the merged case cannot be replayed")]
    Case(#[from] CaseError),
}

/// The union of both versions of a case.
pub fn merge(a: &CaseFile, b: &CaseFile) -> Result<CaseFile, MergeError> {
    if a.case.id != b.case.id {
        return Err(MergeError::DifferentCases(
            a.case.id.to_string(),
            b.case.id.to_string(),
        ));
    }
    if a.events.first().map(|e| &e.id) != b.events.first().map(|e| &e.id) {
        return Err(MergeError::Collision(a.case.id.to_string()));
    }
    let mut events: BTreeMap<String, (u64, Event)> = BTreeMap::new();
    for file in [a, b] {
        for (i, e) in file.events.iter().enumerate() {
            let mut e = e.clone();
            e.seq = seq_of(&e, i);
            match events.get(&e.id) {
                Some((_, existing)) if *existing != e => {
                    return Err(MergeError::EventEdited(e.id.clone()))
                }
                Some(_) => {}
                None => {
                    events.insert(e.id.clone(), (e.seq, e));
                }
            }
        }
    }
    let mut events: Vec<Event> = events.into_values().map(|(_, e)| e).collect();
    events.sort_by(|x, y| (x.seq, x.at, &x.id).cmp(&(y.seq, y.at, &y.id)));
    let mut merged = CaseFile {
        schema: a.schema.max(b.schema),
        case: a.case.clone(),
        customer: a.customer.clone(),
        events,
        extra: union(&a.extra, &b.extra),
        seal: a.seal.clone(),
    };
    merged.case.extra = union(&a.case.extra, &b.case.extra);
    merged.case.aliases = a.case.aliases.clone();
    for alias in &b.case.aliases {
        if !merged.case.aliases.contains(alias) {
            merged.case.aliases.push(alias.clone());
        }
    }
    merged.case.aliases.sort();
    merged.customer.extra = union(&a.customer.extra, &b.customer.extra);
    merged.reproject()?;
    Ok(merged)
}

/// Keys of both tables; where both have a key with different values, the greater value
/// (in TOML text) wins, so the choice does not depend on the order of the arguments.
fn union(a: &toml::Table, b: &toml::Table) -> toml::Table {
    let mut out = a.clone();
    for (k, v) in b {
        match out.get(k) {
            Some(mine) if mine.to_string() >= v.to_string() => {}
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::CustomerFields;
    use crate::model::payload;
    use crate::model::{Action, CaseId, Status};
    use chrono::{DateTime, Duration, TimeZone, Utc};
    use proptest::prelude::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap()
    }

    fn base() -> CaseFile {
        let mut open = Event::new(Action::Open, t0(), "A <a@example.com>");
        open.get_mut::<payload::Open>().unwrap().subject = Some("s".into());
        open.customer = Some(CustomerFields {
            name: Some("Ada".into()),
            ..Default::default()
        });
        let mut f = CaseFile::create(CaseId::parse("CB-7K3M9QXA").unwrap(), open).unwrap();
        f.append(Event::new(Action::Acknowledge, t0(), "A <a@example.com>"))
            .unwrap();
        f
    }

    /// An event of one of a few kinds, at a time offset in minutes.
    fn event(kind: u8, minutes: i64, n: u32) -> Event {
        let at = t0() + Duration::minutes(minutes);
        let mut e = match kind % 5 {
            0 => Event::new(Action::Log, at, "B <b@example.com>"),
            1 => Event::new(Action::Escalate, at, "B <b@example.com>"),
            2 => Event::new(Action::Gather, at, "B <b@example.com>"),
            3 => Event::new(Action::Pending, at, "B <b@example.com>"),
            _ => Event::new(Action::Resolve, at, "B <b@example.com>"),
        };
        // Some free text of each kind's own, to tell the events apart.
        let key = ["summary", "reason", "note", "reason", "resolution"][usize::from(kind % 5)];
        assert!(e.set_text(key, format!("step {n}")));
        if let Some(g) = e.get_mut::<payload::Gather>() {
            g.product = Some(format!("product {n}"));
        }
        e
    }

    fn grow(mut f: CaseFile, steps: &[(u8, i64)], tag: u32) -> CaseFile {
        for (i, (kind, minutes)) in steps.iter().enumerate() {
            f.append(event(*kind, *minutes, tag * 1000 + i as u32))
                .unwrap();
        }
        f
    }

    #[test]
    fn concurrent_resolve_and_escalate_keep_both() {
        let common = base();
        let a = grow(common.clone(), &[(4, 10)], 1);
        let b = grow(common, &[(1, 12)], 2);
        let m = merge(&a, &b).unwrap();
        assert_eq!(m.events.len(), 4);
        assert_eq!(
            (m.case.status.clone(), m.case.escalation_level),
            (Status::Resolved, 1)
        );
        assert_eq!(merge(&b, &a).unwrap(), m);
        assert!(m.verify().unwrap());
    }

    #[test]
    fn the_same_field_set_in_both_keeps_the_later_value_and_both_events() {
        let common = base();
        let a = grow(common.clone(), &[(2, 30)], 1);
        let b = grow(common, &[(2, 20)], 2);
        let m = merge(&a, &b).unwrap();
        assert_eq!(
            m.case.product.as_deref(),
            Some("product 1000"),
            "a's change is later"
        );
        assert_eq!(
            m.events
                .iter()
                .filter(|e| e.action() == Action::Gather)
                .count(),
            2
        );
    }

    #[test]
    fn collisions_and_edited_events_are_refused() {
        let other = {
            let mut open = Event::new(Action::Open, t0(), "B <b@example.com>");
            open.get_mut::<payload::Open>().unwrap().subject = Some("other".into());
            CaseFile::create(CaseId::parse("CB-7K3M9QXA").unwrap(), open).unwrap()
        };
        assert!(matches!(
            merge(&base(), &other),
            Err(MergeError::Collision(_))
        ));
        let original = base();
        let mut edited = original.clone();
        edited.events[1].actor = "Mallory <m@example.com>".into();
        assert!(matches!(
            merge(&original, &edited),
            Err(MergeError::EventEdited(_))
        ));
    }

    proptest! {
        #[test]
        fn merging_is_symmetric_idempotent_and_the_sorted_union(
            shared in proptest::collection::vec((0u8..5, -60i64..60), 0..4),
            left in proptest::collection::vec((0u8..5, -60i64..60), 0..6),
            right in proptest::collection::vec((0u8..5, -60i64..60), 0..6),
        ) {
            let common = grow(base(), &shared, 0);
            let a = grow(common.clone(), &left, 1);
            let b = grow(common.clone(), &right, 2);
            let ab = merge(&a, &b).unwrap();
            prop_assert_eq!(&ab, &merge(&b, &a).unwrap());
            prop_assert_eq!(&merge(&ab, &a).unwrap(), &ab);
            prop_assert_eq!(&merge(&ab, &b).unwrap(), &ab);
            // Every event of both, once, in (seq, at, id) order, and the replay of that.
            let mut union: Vec<Event> = a.events.clone();
            union.extend(b.events.iter().filter(|e| !a.events.iter().any(|x| x.id == e.id)).cloned());
            union.sort_by(|x, y| (x.seq, x.at, &x.id).cmp(&(y.seq, y.at, &y.id)));
            prop_assert_eq!(&ab.events, &union);
            prop_assert!(ab.verify().unwrap());
            // Each side's own order is kept.
            for side in [&a, &b] {
                let positions: Vec<usize> = side.events.iter().map(|e| ab.events.iter().position(|x| x.id == e.id).unwrap()).collect();
                prop_assert!(positions.windows(2).all(|w| w[0] < w[1]));
            }
        }
    }
}
