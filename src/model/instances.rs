//! Every instance of every SLA target of one case, for the review (SOP-SEMANTICS §4).
//!
//! [`evaluate`](super::commitment::evaluate) answers "what is owed now", so for the targets
//! that recur it keeps only the current instance. A review asks "was every commitment
//! kept", so [`all`] returns each one, judged with the same clocks, budgets and pause
//! rules:
//!
//! | target | one instance per | ends at |
//! |---|---|---|
//! | `acknowledge`, `resolution` | case (as `evaluate`) | |
//! | `update` | outbound response or reopen of an active case | the next outbound response (met or late), or the resolve or close |
//! | `follow_up` | resolve | the first follow-up contact (a no-answer included); without one, a close, reopen or new resolve after the due time is a breach, before it the instance is void |
//! | `eta` | promise (`update --eta`) | a resolve by the promised time (met), else missed once it passed; a promise replaced before it fell due is not counted |
//!
//! An instance still owed whose due time has passed is breached; one still running is
//! left to the caller to leave out.

use chrono::{DateTime, Utc};

use super::case::CaseFile;
use super::commitment::{
    acknowledge, budgeted, collect, promise, resolution, run_intervals, Commitment, Mark, State,
    Target,
};
use super::config::Config;

/// Every instance of every target of the case, judged at `now`, in target order.
pub fn all(file: &CaseFile, config: &Config, now: DateTime<Utc>) -> Vec<Commitment> {
    let Some(h) = collect(file) else {
        return Vec::new();
    };
    let sla = &config.sla;
    let priority = &h.case.priority;
    let mut out = vec![acknowledge(file, &h, config, now)];

    // Update clocks, one between consecutive marks.
    let mut running_since: Option<DateTime<Utc>> = None;
    let clock = |start: DateTime<Utc>, stop: Option<DateTime<Utc>>| {
        let running = run_intervals(&h.timeline, start, &sla.pause_when.update, stop);
        budgeted(
            Target::Update,
            sla.update.get(priority),
            start,
            &running,
            stop,
            now,
            config,
        )
    };
    for &(at, mark) in &h.marks {
        // A back-dated contact never ends a clock before it started.
        let at = running_since.map_or(at, |s| at.max(s));
        if let Some(start) = running_since.take() {
            out.push(clock(start, Some(at)));
        }
        if mark != Mark::End {
            running_since = Some(at);
        }
    }
    if let Some(start) = running_since {
        out.push(clock(start, None));
    }

    out.push(resolution(&h, config, now));

    // Follow-up clocks, one per resolve.
    for (i, &resolved) in h.resolves.iter().enumerate() {
        let contact = h.follow_ups.iter().copied().find(|t| *t >= resolved);
        let next_resolve = h.resolves.get(i + 1).copied();
        let without = h
            .closes
            .iter()
            .chain(h.reopens.iter().filter(|r| **r > resolved))
            .copied()
            .filter(|t| *t >= resolved)
            .chain(next_resolve)
            .min();
        let policy = sla.follow_up.get(priority);
        let running = [(resolved, None)];
        let judged = |stop| {
            budgeted(
                Target::FollowUp,
                policy,
                resolved,
                &running,
                stop,
                now,
                config,
            )
        };
        match (contact.filter(|c| without.is_none_or(|w| *c <= w)), without) {
            (Some(c), _) => out.push(judged(Some(c))),
            // Ended without a contact: owed until then, so a breach if that was late.
            (None, Some(w)) => {
                let k = judged(Some(w));
                if k.state == State::Breached {
                    out.push(k);
                }
            }
            (None, None) => out.push(judged(None)),
        }
    }

    // Promised ETAs.
    for (i, &(promised, eta)) in h.promises.iter().enumerate() {
        let replaced = h.promises.get(i + 1).map(|p| p.0);
        let resolved = h.resolves.iter().copied().find(|t| *t >= promised);
        let kept = resolved.filter(|r| *r <= eta && replaced.is_none_or(|n| *r <= n));
        if kept.is_some() {
            out.push(promise(promised, eta, kept, config, now));
        } else if replaced.is_none_or(|n| n >= eta) {
            out.push(promise(promised, eta, resolved, config, now));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::commitment::first_response;
    use crate::model::event::{CustomerFields, Event};
    use crate::model::payload;
    use crate::model::{Action, CaseId, Priority};
    use chrono::TimeZone;

    /// Berlin local time "YYYY-MM-DD HH:MM".
    fn b(s: &str) -> DateTime<Utc> {
        let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        chrono_tz::Europe::Berlin
            .from_local_datetime(&naive)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn config() -> Config {
        Config::from_toml("[calendar]\ntimezone = \"Europe/Berlin\"\n").unwrap()
    }

    fn case(opened: &str) -> CaseFile {
        let mut open = Event::new(Action::Open, b(opened), "Dana <dana@example.com>");
        open.get_mut::<payload::Open>().unwrap().subject = Some("s".into());
        open.get_mut::<payload::Open>().unwrap().priority = Some(Priority::Normal);
        open.customer = Some(CustomerFields {
            name: Some("Ada".into()),
            ..Default::default()
        });
        CaseFile::create(CaseId::parse("CB-7K3M9QXA").unwrap(), open).unwrap()
    }

    fn push(f: &mut CaseFile, action: Action, at: &str, edit: impl FnOnce(&mut Event)) {
        let mut e = Event::new(action.clone(), b(at), "Dana <dana@example.com>");
        if matches!(
            action,
            Action::Acknowledge | Action::Update | Action::FollowUp
        ) {
            *e.payload.direction_mut().unwrap() = Some("outbound".into());
        }
        if action == Action::Resolve {
            e.get_mut::<payload::Resolve>().unwrap().resolution = Some("r".into());
        }
        edit(&mut e);
        f.append(e).unwrap();
    }

    /// (start, state) of each instance of `target`.
    fn of(f: &CaseFile, now: &str, target: Target) -> Vec<(DateTime<Utc>, State)> {
        all(f, &config(), b(now))
            .into_iter()
            .filter(|k| k.target == target)
            .map(|k| (k.start, k.state))
            .collect()
    }

    #[test]
    fn a_late_early_update_stays_breached_after_a_later_one_is_on_time() {
        // Normal priority: an update is due 2 business days after each response.
        let mut f = case("2025-01-13 09:00");
        push(&mut f, Action::Acknowledge, "2025-01-13 10:00", |_| {});
        // Due Wed 10:00: Thu 12:00 is late.
        push(&mut f, Action::Update, "2025-01-16 12:00", |_| {});
        push(&mut f, Action::Update, "2025-01-16 14:00", |_| {});
        push(&mut f, Action::Resolve, "2025-01-16 15:00", |_| {});
        assert_eq!(
            of(&f, "2025-01-20 09:00", Target::Update),
            [
                (b("2025-01-13 10:00"), State::Breached),
                (b("2025-01-16 12:00"), State::Met),
                (b("2025-01-16 14:00"), State::Met),
            ]
        );
        // `evaluate` keeps only the current one, ended by the resolve.
        let current: Vec<State> =
            crate::model::commitment::evaluate(&f, &config(), b("2025-01-20 09:00"))
                .into_iter()
                .filter(|k| k.target == Target::Update)
                .map(|k| k.state)
                .collect();
        assert_eq!(current, [State::Met]);
    }

    #[test]
    fn a_reopen_starts_an_update_clock_and_the_running_one_is_judged_at_now() {
        let mut f = case("2025-01-13 09:00");
        push(&mut f, Action::Acknowledge, "2025-01-13 10:00", |_| {});
        push(&mut f, Action::Resolve, "2025-01-13 11:00", |_| {});
        // Messages while resolved start nothing.
        push(&mut f, Action::FollowUp, "2025-01-13 12:00", |e| {
            e.get_mut::<payload::FollowUp>().unwrap().response = Some("no-answer".into())
        });
        push(&mut f, Action::Reopen, "2025-01-14 09:00", |e| {
            e.get_mut::<payload::Reopen>().unwrap().reason = Some("again".into())
        });
        assert_eq!(
            of(&f, "2025-01-15 09:00", Target::Update),
            [
                (b("2025-01-13 10:00"), State::Met),
                (b("2025-01-14 09:00"), State::Running),
            ]
        );
        // Due Thu 09:00 (2bd): owed and late at Thu 09:30.
        assert_eq!(
            of(&f, "2025-01-16 09:30", Target::Update)[1].1,
            State::Breached
        );
    }

    #[test]
    fn every_resolve_owes_a_follow_up_and_closing_without_one_is_a_breach() {
        let mut f = case("2025-01-13 09:00");
        push(&mut f, Action::Acknowledge, "2025-01-13 10:00", |_| {});
        // First resolve, follow-up due Wed 10:00 (2bd); reopened Mon 15:00 before it: void.
        push(&mut f, Action::Resolve, "2025-01-13 10:00", |_| {});
        push(&mut f, Action::Reopen, "2025-01-13 15:00", |e| {
            e.get_mut::<payload::Reopen>().unwrap().reason = Some("x".into())
        });
        // Second resolve Tue 10:00, follow-up due Thu 10:00; reached Thu 11:00: late.
        push(&mut f, Action::Resolve, "2025-01-14 10:00", |_| {});
        push(&mut f, Action::FollowUp, "2025-01-16 11:00", |e| {
            e.get_mut::<payload::FollowUp>().unwrap().response = Some("not-satisfied".into())
        });
        // Third resolve Fri 10:00, due Tue 10:00; closed the next Fri without a follow-up.
        push(&mut f, Action::Resolve, "2025-01-17 10:00", |_| {});
        assert_eq!(
            of(&f, "2025-01-20 09:00", Target::FollowUp),
            [
                (b("2025-01-14 10:00"), State::Breached),
                (b("2025-01-17 10:00"), State::Running),
            ]
        );
        push(&mut f, Action::Close, "2025-01-24 10:00", |e| {
            e.get_mut::<payload::Close>().unwrap().reason = Some("auto".into())
        });
        assert_eq!(
            of(&f, "2025-01-27 09:00", Target::FollowUp),
            [
                (b("2025-01-14 10:00"), State::Breached),
                (b("2025-01-17 10:00"), State::Breached),
            ]
        );
        // `evaluate` drops the closed case's follow-up (unchanged for show/due/tick).
        assert!(
            !crate::model::commitment::evaluate(&f, &config(), b("2025-01-27 09:00"))
                .iter()
                .any(|k| k.target == Target::FollowUp)
        );
    }

    #[test]
    fn every_promise_counts_unless_replaced_before_it_fell_due() {
        let mut f = case("2025-01-13 09:00");
        push(&mut f, Action::Acknowledge, "2025-01-13 09:30", |_| {});
        let eta = |t: &str| {
            let t = b(t);
            move |e: &mut Event| e.get_mut::<payload::Update>().unwrap().eta = Some(t)
        };
        // Promised Tue 12:00, moved on Mon 16:00 (before it fell due): not counted.
        push(
            &mut f,
            Action::Update,
            "2025-01-13 10:00",
            eta("2025-01-14 12:00"),
        );
        // Promised Wed 12:00, passed with no resolve, then a new promise Thu: missed.
        push(
            &mut f,
            Action::Update,
            "2025-01-13 16:00",
            eta("2025-01-15 12:00"),
        );
        push(
            &mut f,
            Action::Update,
            "2025-01-16 09:00",
            eta("2025-01-16 15:00"),
        );
        assert_eq!(
            of(&f, "2025-01-16 10:00", Target::Eta),
            [
                (b("2025-01-13 16:00"), State::Breached),
                (b("2025-01-16 09:00"), State::Running),
            ]
        );
        // Resolved Thu 14:00, before the last promise: kept.
        push(&mut f, Action::Resolve, "2025-01-16 14:00", |_| {});
        assert_eq!(
            of(&f, "2025-01-20 10:00", Target::Eta),
            [
                (b("2025-01-13 16:00"), State::Breached),
                (b("2025-01-16 09:00"), State::Met),
            ]
        );
    }

    #[test]
    fn the_first_response_is_the_earliest_outbound_contact_and_stops_the_acknowledge_clock() {
        let mut f = case("2025-01-13 09:00");
        assert_eq!(first_response(&f), None);
        // An outbound call 43 minutes in, then the acknowledgement at 12:49.
        push(&mut f, Action::Log, "2025-01-13 09:43", |e| {
            *e.payload.direction_mut().unwrap() = Some("outbound".into());
            e.get_mut::<payload::Log>().unwrap().summary = Some("called".into());
        });
        push(&mut f, Action::Acknowledge, "2025-01-13 12:49", |_| {});
        assert_eq!(first_response(&f), Some(b("2025-01-13 09:43")));
        // A call logged later with when it happened (`--at`) counts from then.
        push(&mut f, Action::Log, "2025-01-13 13:00", |e| {
            *e.payload.direction_mut().unwrap() = Some("outbound".into());
            e.get_mut::<payload::Log>().unwrap().summary = Some("called earlier".into());
            e.get_mut::<payload::Log>().unwrap().occurred_at = Some(b("2025-01-13 09:20"));
        });
        assert_eq!(first_response(&f), Some(b("2025-01-13 09:20")));
        let ack = all(&f, &config(), b("2025-01-14 09:00"))
            .into_iter()
            .find(|k| k.target == Target::Acknowledge)
            .unwrap();
        assert_eq!(
            (ack.state, ack.stopped_at),
            (State::Met, Some(b("2025-01-13 09:20")))
        );
        // Inbound and internal logs are not responses.
        let mut g = case("2025-01-13 09:00");
        push(&mut g, Action::Log, "2025-01-13 09:10", |e| {
            *e.payload.direction_mut().unwrap() = Some("inbound".into());
            e.get_mut::<payload::Log>().unwrap().summary = Some("they called".into());
        });
        assert_eq!(first_response(&g), None);
    }
}
