//! SLA commitments of one case: what is due when, and whether it was met.
//!
//! Everything here is computed from the case's events, the policy and "now", never stored,
//! so every clone computes the same answer. The targets (SOP-SEMANTICS §3):
//!
//! | target | starts | stops |
//! |---|---|---|
//! | `acknowledge` | case created | first outbound response |
//! | `update` | each outbound response (or a reopen) | the next one; ends at resolve |
//! | `resolution` | case created | resolve (or close); a reopen resumes it |
//! | `follow_up` | the last resolve | the follow-up contact |
//! | `eta` | the update that promised it | resolve by the ETA |
//!
//! A clock runs only while the case is in a status its target does not pause in (by
//! default the resolution clock pauses while `pending`, and every clock stops while the
//! case is `resolved` or `closed`). Budgets are consumed on the target's clock: business
//! time in the calendar, or round the clock. A target is met when it stops no later than
//! its due time, breached at its due time otherwise, at risk once the configured share of
//! its budget is used, and paused while its clock is stopped by a pause rule.

use chrono::{DateTime, TimeDelta, Utc};

use super::calendar::Calendar;
use super::case::{replay_with, CaseFile, CaseState};
use super::config::Config;
use super::enums::{Action, Direction, FollowUpResponse, Status};
use super::event::{Event, Payload};
use super::sla::{Clock, SlaDuration};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    Acknowledge,
    Update,
    Resolution,
    FollowUp,
    Eta,
}

impl Target {
    pub const ALL: [Target; 5] = [
        Target::Acknowledge,
        Target::Update,
        Target::Resolution,
        Target::FollowUp,
        Target::Eta,
    ];

    /// The name used in JSON and the config (`sla.<name>`).
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Acknowledge => "acknowledge",
            Target::Update => "update",
            Target::Resolution => "resolution",
            Target::FollowUp => "follow_up",
            Target::Eta => "eta",
        }
    }

    /// The target named by [`Target::as_str`].
    pub fn parse(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum State {
    Running,
    AtRisk,
    Paused,
    Met,
    Breached,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Running => "running",
            State::AtRisk => "at_risk",
            State::Paused => "paused",
            State::Met => "met",
            State::Breached => "breached",
        }
    }
}

/// One target of one case, evaluated at "now".
#[derive(Debug, Clone, PartialEq)]
pub struct Commitment {
    pub target: Target,
    /// The policy that applies (e.g. `1bd`); `None` for a promised ETA.
    pub policy: Option<SlaDuration>,
    pub start: DateTime<Utc>,
    /// When it is (or was) due; `None` while paused with budget left.
    pub due: Option<DateTime<Utc>>,
    pub at_risk_from: Option<DateTime<Utc>>,
    pub state: State,
    /// When it stopped (met or not); `None` while still owed.
    pub stopped_at: Option<DateTime<Utc>>,
    pub met_at: Option<DateTime<Utc>>,
    pub breached_at: Option<DateTime<Utc>>,
}

impl Commitment {
    /// A commitment from its instants, judged at `now`. Of everything [`evaluate`] works
    /// out, only the state (and met / breached time) depends on "now": due, at-risk-from
    /// and stopped-at come from the events and the policy alone. So what an index stores
    /// of a commitment, evaluated at any time, gives back at `now` exactly what
    /// [`evaluate`] at `now` gives (paused: still owed with no due time, the budget not
    /// spent).
    pub fn from_instants(
        target: Target,
        policy: Option<SlaDuration>,
        start: DateTime<Utc>,
        due: Option<DateTime<Utc>>,
        at_risk_from: Option<DateTime<Utc>>,
        stopped_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Commitment {
        let paused = stopped_at.is_none() && due.is_none();
        judge(
            target,
            policy,
            start,
            due,
            at_risk_from,
            stopped_at,
            now,
            paused,
        )
    }

    /// This commitment judged at another "now" (see [`Commitment::from_instants`]).
    pub fn at(&self, now: DateTime<Utc>) -> Commitment {
        Commitment::from_instants(
            self.target,
            self.policy,
            self.start,
            self.due,
            self.at_risk_from,
            self.stopped_at,
            now,
        )
    }

    /// Still owed: not yet done (running, at risk, paused, or breached and still not done).
    pub fn is_open(&self) -> bool {
        self.stopped_at.is_none()
    }
}

/// A status change: from `at` on, the case was in `status`.
pub(super) type Timeline = Vec<(DateTime<Utc>, Status)>;

/// Whether an event is an outbound contact with the customer: anything recorded as
/// outbound (acknowledge, update, follow-up, an outbound `log`), and a resolve, which
/// gives the customer the solution.
pub(super) fn is_outbound(e: &Event) -> bool {
    e.direction() == Some(&Direction::Outbound) || matches!(e.payload, Payload::Resolve(_))
}

/// When the contact an event records happened: a logged call's `--at`, else when it was
/// recorded.
fn occurred_at(e: &Event) -> DateTime<Utc> {
    match &e.payload {
        Payload::Log(p) => p.occurred_at.unwrap_or(e.at),
        _ => e.at,
    }
}

/// The first response to the customer: the earliest outbound contact of any kind (see
/// [`is_outbound`]), when it happened (a logged call's `--at`), never before the opening.
/// The acknowledge target stops here, and the review's first response time ends here:
/// one definition for both.
pub fn first_response(file: &CaseFile) -> Option<DateTime<Utc>> {
    let opened = file.case.created_at;
    file.events
        .iter()
        .filter(|e| is_outbound(e))
        .map(|e| occurred_at(e).max(opened))
        .min()
}

/// What the targets are computed from, gathered in one replay of the history.
pub(super) struct Collected {
    pub case: CaseState,
    pub timeline: Timeline,
    /// When each outbound contact happened, in event order.
    pub outbound: Vec<DateTime<Utc>>,
    pub resolves: Vec<DateTime<Utc>>,
    /// `reopen`s and not-satisfied follow-ups.
    pub reopens: Vec<DateTime<Utc>>,
    pub closes: Vec<DateTime<Utc>>,
    pub follow_ups: Vec<DateTime<Utc>>,
    /// Every promised ETA: (when it was promised, the promised time), in event order.
    pub promises: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// Update-clock marks in event order, with the status right after each event.
    pub marks: Vec<(DateTime<Utc>, Mark)>,
}

/// How an event bears on the update clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mark {
    /// An outbound response while the case is active: ends the running clock, starts one.
    Response,
    /// A reopen: starts a clock.
    Reopen,
    /// A resolve or close of an active case: ends the running clock, starts none.
    End,
}

pub(super) fn collect(file: &CaseFile) -> Option<Collected> {
    let mut timeline: Timeline = Vec::new();
    let mut outbound: Vec<DateTime<Utc>> = Vec::new();
    let mut resolves: Vec<DateTime<Utc>> = Vec::new();
    let mut reopens: Vec<DateTime<Utc>> = Vec::new();
    let mut closes: Vec<DateTime<Utc>> = Vec::new();
    let mut follow_ups: Vec<DateTime<Utc>> = Vec::new();
    let mut promises: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    let mut marks: Vec<(DateTime<Utc>, Mark)> = Vec::new();
    let active = |s: &Status| !matches!(s, Status::Resolved | Status::Closed);
    let mut before = Status::New;
    let replayed = replay_with(&file.case.id, &file.events, |e, case| {
        let when = occurred_at(e);
        if timeline.last().is_none_or(|(_, s)| *s != case.status) {
            timeline.push((e.at, case.status.clone()));
        }
        if is_outbound(e) {
            outbound.push(when);
        }
        let not_satisfied = matches!(&e.payload,
            Payload::FollowUp(p) if p.response == Some(FollowUpResponse::NotSatisfied));
        let reopened = matches!(e.payload, Payload::Reopen(_)) || not_satisfied;
        if !matches!(e.payload, Payload::Open(_)) {
            if reopened && active(&case.status) {
                marks.push((e.at, Mark::Reopen));
            } else if active(&before) && !active(&case.status) {
                marks.push((e.at, Mark::End));
            } else if is_outbound(e) && active(&before) && active(&case.status) {
                marks.push((when, Mark::Response));
            }
        }
        match &e.payload {
            Payload::Resolve(_) => resolves.push(e.at),
            Payload::Reopen(_) => reopens.push(e.at),
            Payload::FollowUp(_) => {
                follow_ups.push(e.at);
                if not_satisfied {
                    reopens.push(e.at);
                }
            }
            Payload::Close(_) => closes.push(e.at),
            Payload::Update(p) => {
                if let Some(t) = p.eta {
                    promises.push((e.at, t));
                }
            }
            _ => {}
        }
        before = case.status.clone();
    });
    let (case, _) = replayed.ok()?;
    Some(Collected {
        case,
        timeline,
        outbound,
        resolves,
        reopens,
        closes,
        follow_ups,
        promises,
        marks,
    })
}

/// The acknowledge target: from creation to the first response.
pub(super) fn acknowledge(
    file: &CaseFile,
    h: &Collected,
    config: &Config,
    now: DateTime<Utc>,
) -> Commitment {
    let sla = &config.sla;
    let created = h.case.created_at;
    let policy = sla.acknowledge.get(&h.case.priority);
    let running = run_intervals(&h.timeline, created, &sla.pause_when.acknowledge, None);
    budgeted(
        Target::Acknowledge,
        policy,
        created,
        &running,
        first_response(file),
        now,
        config,
    )
}

/// The resolution target: from creation to resolve, paused per policy; a reopen resumes it.
pub(super) fn resolution(h: &Collected, config: &Config, now: DateTime<Utc>) -> Commitment {
    let sla = &config.sla;
    let case = &h.case;
    let policy = sla.resolution.get(&case.priority);
    let done = matches!(case.status, Status::Resolved | Status::Closed);
    // Closed without a resolve (e.g. a duplicate) stops it at the close.
    let stop = if done {
        h.resolves.last().or(h.closes.last()).copied()
    } else {
        None
    };
    let running = run_intervals(
        &h.timeline,
        case.created_at,
        &sla.pause_when.resolution,
        None,
    );
    budgeted(
        Target::Resolution,
        policy,
        case.created_at,
        &running,
        stop,
        now,
        config,
    )
}

/// The at-risk point of a promise: the configured share of the time it gave.
pub(super) fn promise(
    promised: DateTime<Utc>,
    eta: DateTime<Utc>,
    resolved: Option<DateTime<Utc>>,
    config: &Config,
    now: DateTime<Utc>,
) -> Commitment {
    let risk_from = promised + scale(eta - promised, config.sla.at_risk);
    judge(
        Target::Eta,
        None,
        promised,
        Some(eta),
        Some(risk_from),
        resolved,
        now,
        false,
    )
}

/// Why `tick` closes a resolved case whose auto-close time passed: no follow-up was made
/// after the last resolve, or (one was attempted) it got no answer.
pub fn auto_close_reason(file: &CaseFile, auto_close: SlaDuration) -> String {
    let attempted = file
        .events
        .iter()
        .rposition(|e| e.action() == Action::Resolve)
        .is_some_and(|i| {
            file.events[i..]
                .iter()
                .any(|e| e.action() == Action::FollowUp)
        });
    let why = if attempted {
        "no answer to the follow-up"
    } else {
        "no follow-up"
    };
    format!(
        "closed automatically: {why} within {} of the resolution",
        auto_close.spoken()
    )
}

/// Evaluates every target that applies to the case at `now`: for the targets that recur
/// (update, follow-up, ETA), the current instance. `instances::all` gives every one.
pub fn evaluate(file: &CaseFile, config: &Config, now: DateTime<Utc>) -> Vec<Commitment> {
    let Some(h) = collect(file) else {
        return Vec::new();
    };
    let Collected {
        case,
        timeline,
        outbound,
        resolves,
        reopens,
        closes,
        follow_ups,
        promises,
        ..
    } = &h;
    let sla = &config.sla;
    let mut out = vec![acknowledge(file, &h, config, now)];

    // Update: from the latest outbound response or reopen, until the next. Once the case is
    // resolved or closed no update is owed: what counts is the instance that was running
    // when it was (ended by that resolve or close); messages after it start nothing.
    let done = matches!(case.status, Status::Resolved | Status::Closed);
    let end = if done {
        resolves
            .last()
            .or(closes.last())
            .copied()
            .or(Some(case.updated_at))
    } else {
        None
    };
    let before_end = |t: &DateTime<Utc>| end.is_none_or(|e| *t < e);
    if let Some(&last_out) = outbound.iter().rfind(|t| before_end(t)) {
        let start = reopens
            .iter()
            .copied()
            .rfind(|r| *r > last_out && before_end(r))
            .unwrap_or(last_out);
        let policy = sla.update.get(&case.priority);
        let running = run_intervals(timeline, start, &sla.pause_when.update, end);
        out.push(budgeted(
            Target::Update,
            policy,
            start,
            &running,
            end,
            now,
            config,
        ));
    }

    out.push(resolution(&h, config, now));

    // Follow-up: from the last resolve to the follow-up contact.
    if let Some(&resolved) = resolves.last() {
        let contact = follow_ups.iter().copied().find(|t| *t >= resolved);
        let closed_first = closes
            .iter()
            .copied()
            .find(|t| *t >= resolved)
            .filter(|c| contact.is_none_or(|f| *c < f));
        let reopened_since = reopens.iter().any(|r| *r > resolved) && contact.is_none();
        if closed_first.is_none() && !reopened_since {
            let policy = sla.follow_up.get(&case.priority);
            let running = vec![(resolved, None)];
            out.push(budgeted(
                Target::FollowUp,
                policy,
                resolved,
                &running,
                contact,
                now,
                config,
            ));
        }
    }

    // ETA: the promise of the latest update that gave one.
    if let Some(&(promised, eta)) = promises.last() {
        let resolved = resolves.iter().copied().find(|t| *t >= promised);
        out.push(promise(promised, eta, resolved, config, now));
    }
    out
}

/// Intervals `[from, to)` (open-ended when `to` is `None`) from `start` on during which the
/// clock runs: the case is not in a paused status, nor resolved or closed, and (if given)
/// not after `end`.
pub(super) fn run_intervals(
    timeline: &Timeline,
    start: DateTime<Utc>,
    paused: &[Status],
    end: Option<DateTime<Utc>>,
) -> Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> {
    let stops = |s: &Status| paused.contains(s) || matches!(s, Status::Resolved | Status::Closed);
    let mut out = Vec::new();
    for (i, (from, status)) in timeline.iter().enumerate() {
        let to = timeline.get(i + 1).map(|(t, _)| *t);
        let from = (*from).max(start);
        let to = match (to, end) {
            (Some(t), Some(e)) => Some(t.min(e)),
            (t, e) => t.or(e),
        };
        if stops(status) || to.is_some_and(|t| t <= from) {
            continue;
        }
        out.push((from, to));
    }
    out
}

/// Evaluates a budgeted target over its running intervals.
#[allow(clippy::too_many_arguments)]
pub(super) fn budgeted(
    target: Target,
    policy: SlaDuration,
    start: DateTime<Utc>,
    running: &[(DateTime<Utc>, Option<DateTime<Utc>>)],
    stop: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    config: &Config,
) -> Commitment {
    let (cal, at_risk) = (&config.calendar, config.sla.at_risk);
    let budget = TimeDelta::minutes(policy.minutes(config.business_day_minutes()));
    // A target that stopped still has the due time it would have had: let its last
    // interval run on.
    let mut running = running.to_vec();
    if stop.is_some() {
        if let Some(last) = running.last_mut() {
            last.1 = None;
        }
    }
    let due = consume(&running, budget, policy.clock, cal);
    let at_risk_from = consume(&running, scale(budget, at_risk), policy.clock, cal);
    // Paused: the clock is stopped now (the last interval ended) and the budget is not spent.
    let paused = stop.is_none() && due.is_none();
    judge(
        target,
        Some(policy),
        start,
        due,
        at_risk_from,
        stop,
        now,
        paused,
    )
}

#[allow(clippy::too_many_arguments)]
pub(super) fn judge(
    target: Target,
    policy: Option<SlaDuration>,
    start: DateTime<Utc>,
    due: Option<DateTime<Utc>>,
    at_risk_from: Option<DateTime<Utc>>,
    stop: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    paused: bool,
) -> Commitment {
    let (state, met_at, breached_at) = match (stop, due) {
        (Some(s), Some(d)) if s > d => (State::Breached, None, Some(d)),
        (Some(s), _) => (State::Met, Some(s), None),
        (None, Some(d)) if now >= d => (State::Breached, None, Some(d)),
        (None, _) if paused => (State::Paused, None, None),
        (None, _) if at_risk_from.is_some_and(|r| now >= r) => (State::AtRisk, None, None),
        (None, _) => (State::Running, None, None),
    };
    Commitment {
        target,
        policy,
        start,
        due,
        at_risk_from,
        state,
        stopped_at: stop,
        met_at,
        breached_at,
    }
}

/// When `budget` is used up over the running intervals; `None` if the intervals end first.
fn consume(
    running: &[(DateTime<Utc>, Option<DateTime<Utc>>)],
    budget: TimeDelta,
    clock: Clock,
    cal: &Calendar,
) -> Option<DateTime<Utc>> {
    let mut left = budget;
    for (from, to) in running {
        let end = match clock {
            Clock::Calendar => *from + left,
            Clock::Business => cal.add_business(*from, left),
        };
        match to {
            Some(to) if end > *to => {
                left -= match clock {
                    Clock::Calendar => *to - *from,
                    Clock::Business => TimeDelta::seconds(cal.business_seconds_between(*from, *to)),
                };
            }
            _ => return Some(end),
        }
    }
    None
}

fn scale(d: TimeDelta, share: f64) -> TimeDelta {
    TimeDelta::milliseconds((d.num_milliseconds() as f64 * share).round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::{CustomerFields, Event, FieldChange};
    use crate::model::payload;
    use crate::model::{CaseId, Priority};
    use chrono::TimeZone;

    const BERLIN: &str = "[calendar]\ntimezone = \"Europe/Berlin\"\n";

    fn config(extra: &str) -> Config {
        Config::from_toml(&format!("{BERLIN}{extra}")).unwrap()
    }

    /// Berlin local time "YYYY-MM-DD HH:MM".
    fn b(s: &str) -> DateTime<Utc> {
        let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        chrono_tz::Europe::Berlin
            .from_local_datetime(&naive)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn ev(action: Action, at: &str) -> Event {
        Event::new(action, b(at), "Dana <dana@example.com>")
    }

    fn case(opened: &str, priority: Priority) -> CaseFile {
        let mut open = ev(Action::Open, opened);
        open.get_mut::<payload::Open>().unwrap().subject = Some("s".into());
        open.get_mut::<payload::Open>().unwrap().priority = Some(priority);
        open.customer = Some(CustomerFields {
            name: Some("Ada".into()),
            ..Default::default()
        });
        CaseFile::create(CaseId::parse("CB-7K3M9QXA").unwrap(), open).unwrap()
    }

    fn push(f: &mut CaseFile, action: Action, at: &str, edit: impl FnOnce(&mut Event)) {
        let outbound = matches!(
            action,
            Action::Acknowledge | Action::Update | Action::FollowUp
        );
        let mut e = ev(action, at);
        if outbound {
            *e.payload.direction_mut().unwrap() = Some("outbound".into());
        }
        edit(&mut e);
        f.append(e).unwrap();
    }

    fn get(f: &CaseFile, c: &Config, now: &str, t: Target) -> Commitment {
        evaluate(f, c, b(now))
            .into_iter()
            .find(|x| x.target == t)
            .unwrap()
    }

    #[test]
    fn instants_judged_later_give_what_evaluating_then_gives() {
        // What the index stores is evaluated once (at the opening); judged at another
        // "now" it must be exactly what evaluating at that "now" gives, for every state.
        let c = config("[sla.resolution]\nnormal = \"16h business\"\n");
        let mut f = case("2025-01-13 09:00", Priority::Normal);
        push(&mut f, Action::Acknowledge, "2025-01-13 09:05", |_| {});
        push(&mut f, Action::Pending, "2025-01-13 13:00", |_| {});
        let mut resolved = f.clone();
        push(&mut resolved, Action::Log, "2025-01-14 13:00", |e| {
            *e.payload.direction_mut().unwrap() = Some("inbound".into())
        });
        push(&mut resolved, Action::Update, "2025-01-14 14:00", |e| {
            e.get_mut::<payload::Update>().unwrap().message = Some("soon".into());
            e.get_mut::<payload::Update>().unwrap().eta = Some(b("2025-01-15 12:00"));
        });
        push(&mut resolved, Action::Resolve, "2025-01-16 10:00", |e| {
            e.get_mut::<payload::Resolve>().unwrap().resolution = Some("done".into())
        });
        let mut seen = std::collections::BTreeSet::new();
        for file in [&f, &resolved] {
            let stored = evaluate(file, &c, file.case.created_at);
            for now in [
                "2025-01-13 09:01",
                "2025-01-13 15:00",
                "2025-01-14 16:00",
                "2025-01-15 11:00",
                "2025-01-15 12:00",
                "2025-01-16 09:00",
                "2025-03-01 09:00",
            ] {
                let want = evaluate(file, &c, b(now));
                let got: Vec<Commitment> = stored.iter().map(|k| k.at(b(now))).collect();
                assert_eq!(got, want, "at {now}");
                // The review's facts, stored once and judged again, too.
                let stored = crate::model::review::StoredFacts::of(file, &c).map(|x| {
                    // As the index keeps it: JSON that reads back exactly.
                    let json = serde_json::to_string(&x).unwrap();
                    let back: crate::model::review::StoredFacts =
                        serde_json::from_str(&json).unwrap();
                    assert_eq!(back, x);
                    back
                });
                assert_eq!(
                    stored.and_then(|x| x.at(b(now))),
                    crate::model::review::facts(file, &c, b(now)),
                    "review facts at {now}"
                );
                seen.extend(want.iter().map(|k| k.state));
            }
        }
        assert_eq!(seen.len(), 5, "every state is covered: {seen:?}");
    }

    #[test]
    fn acknowledgement_is_due_one_business_day_later_and_urgent_in_two_hours() {
        let c = config("");
        let f = case("2025-01-10 16:30", Priority::Normal);
        let ack = get(&f, &c, "2025-01-10 16:45", Target::Acknowledge);
        assert_eq!(ack.due, Some(b("2025-01-13 16:30")));
        assert_eq!(ack.state, State::Running);
        let f = case("2025-01-10 16:30", Priority::Urgent);
        let ack = get(&f, &c, "2025-01-10 16:45", Target::Acknowledge);
        assert_eq!(ack.due, Some(b("2025-01-10 18:30")), "2 h calendar");
    }

    #[test]
    fn at_risk_from_the_configured_share_then_breached_at_the_due_time() {
        let c = config("[sla.acknowledge]\nnormal = \"120m business\"\n");
        let f = case("2025-01-10 16:30", Priority::Normal);
        assert_eq!(
            get(&f, &c, "2025-01-13 09:59", Target::Acknowledge).state,
            State::Running
        );
        let ack = get(&f, &c, "2025-01-13 10:00", Target::Acknowledge);
        assert_eq!(
            (ack.state, ack.at_risk_from),
            (State::AtRisk, Some(b("2025-01-13 10:00")))
        );
        assert_eq!(
            get(&f, &c, "2025-01-13 10:29", Target::Acknowledge).state,
            State::AtRisk
        );
        let ack = get(&f, &c, "2025-01-13 10:30", Target::Acknowledge);
        assert_eq!(
            (ack.state, ack.breached_at),
            (State::Breached, Some(b("2025-01-13 10:30")))
        );
        assert!(ack.is_open(), "a breached acknowledgement is still owed");
    }

    #[test]
    fn met_and_late_responses() {
        let c = config("");
        let mut f = case("2025-01-10 16:30", Priority::Normal);
        push(&mut f, Action::Acknowledge, "2025-01-13 09:15", |_| {});
        let ack = get(&f, &c, "2025-01-20 09:00", Target::Acknowledge);
        assert_eq!(
            (ack.state, ack.met_at),
            (State::Met, Some(b("2025-01-13 09:15")))
        );
        assert!(!ack.is_open());
        let mut late = case("2025-01-10 16:30", Priority::Normal);
        push(&mut late, Action::Acknowledge, "2025-01-13 16:31", |_| {});
        let ack = get(&late, &c, "2025-01-20 09:00", Target::Acknowledge);
        assert_eq!(
            (ack.state, ack.breached_at),
            (State::Breached, Some(b("2025-01-13 16:30")))
        );
        assert!(!ack.is_open(), "done, late");
    }

    #[test]
    fn the_resolution_clock_pauses_while_pending() {
        // SOP-SEMANTICS §3: 16 business hours from Mon 09:00, pending Mon 13:00 – Tue 13:00.
        let c = config("[sla.resolution]\nnormal = \"16h business\"\n");
        let mut f = case("2025-01-13 09:00", Priority::Normal);
        push(&mut f, Action::Acknowledge, "2025-01-13 09:05", |_| {});
        push(&mut f, Action::Pending, "2025-01-13 13:00", |_| {});
        let paused = get(&f, &c, "2025-01-13 15:00", Target::Resolution);
        assert_eq!((paused.state, paused.due), (State::Paused, None));
        push(&mut f, Action::Log, "2025-01-14 13:00", |e| {
            *e.payload.direction_mut().unwrap() = Some("inbound".into())
        });
        let r = get(&f, &c, "2025-01-14 13:00", Target::Resolution);
        assert_eq!(
            r.due,
            Some(b("2025-01-15 17:00")),
            "unpaused it would be Tue 17:00"
        );
        assert_eq!(r.state, State::Running);
        push(&mut f, Action::Resolve, "2025-01-15 16:00", |e| {
            e.get_mut::<payload::Resolve>().unwrap().resolution = Some("x".into())
        });
        let r = get(&f, &c, "2025-01-20 10:00", Target::Resolution);
        assert_eq!(
            (r.state, r.met_at, r.due),
            (
                State::Met,
                Some(b("2025-01-15 16:00")),
                Some(b("2025-01-15 17:00"))
            )
        );
    }

    #[test]
    fn updates_are_due_after_each_outbound_response_and_end_at_resolve() {
        let c = config("");
        let mut f = case("2025-01-13 09:00", Priority::Normal);
        push(&mut f, Action::Acknowledge, "2025-01-13 10:00", |_| {});
        let u = get(&f, &c, "2025-01-13 11:00", Target::Update);
        assert_eq!(
            u.due,
            Some(b("2025-01-15 10:00")),
            "2bd for normal priority"
        );
        push(&mut f, Action::Update, "2025-01-14 12:00", |_| {});
        let u = get(&f, &c, "2025-01-14 12:30", Target::Update);
        assert_eq!(
            (u.start, u.due),
            (b("2025-01-14 12:00"), Some(b("2025-01-16 12:00")))
        );
        push(&mut f, Action::Resolve, "2025-01-15 09:00", |e| {
            e.get_mut::<payload::Resolve>().unwrap().resolution = Some("x".into())
        });
        let u = get(&f, &c, "2025-02-01 09:00", Target::Update);
        assert_eq!(u.state, State::Met, "no update is owed once resolved");
    }

    #[test]
    fn no_update_is_owed_after_a_satisfied_follow_up_closes_the_case() {
        let c = config("");
        let mut f = case("2025-01-13 09:00", Priority::Normal);
        push(&mut f, Action::Acknowledge, "2025-01-13 10:00", |_| {});
        push(&mut f, Action::Resolve, "2025-01-13 15:00", |e| {
            e.get_mut::<payload::Resolve>().unwrap().resolution = Some("x".into())
        });
        push(&mut f, Action::FollowUp, "2025-01-14 10:00", |e| {
            e.get_mut::<payload::FollowUp>().unwrap().response = Some("satisfied".into())
        });
        let u = get(&f, &c, "2025-02-01 09:00", Target::Update);
        assert_eq!(
            (u.state, u.start, u.stopped_at),
            (
                State::Met,
                b("2025-01-13 10:00"),
                Some(b("2025-01-13 15:00"))
            )
        );
        assert!(!u.is_open());
    }

    #[test]
    fn a_promised_eta_is_met_or_missed() {
        let c = config("");
        let mut f = case("2025-01-13 09:00", Priority::Normal);
        push(&mut f, Action::Acknowledge, "2025-01-13 09:30", |_| {});
        push(&mut f, Action::Update, "2025-01-13 10:00", |e| {
            e.get_mut::<payload::Update>().unwrap().eta = Some(b("2025-01-14 12:00"))
        });
        let eta = get(&f, &c, "2025-01-14 11:00", Target::Eta);
        assert_eq!(
            (eta.state, eta.due),
            (State::AtRisk, Some(b("2025-01-14 12:00")))
        );
        let missed = get(&f, &c, "2025-01-14 12:00", Target::Eta);
        assert_eq!(
            (missed.state, missed.breached_at),
            (State::Breached, Some(b("2025-01-14 12:00")))
        );
        push(&mut f, Action::Resolve, "2025-01-14 11:59", |e| {
            e.get_mut::<payload::Resolve>().unwrap().resolution = Some("x".into())
        });
        assert_eq!(
            get(&f, &c, "2025-01-20 09:00", Target::Eta).state,
            State::Met
        );
    }

    #[test]
    fn a_priority_change_recomputes_from_the_original_start() {
        let c = config("");
        let mut f = case("2025-01-13 09:00", Priority::Normal);
        assert_eq!(
            get(&f, &c, "2025-01-13 09:30", Target::Acknowledge).due,
            Some(b("2025-01-13 17:00")),
            "1bd ends at closing time"
        );
        push(&mut f, Action::Gather, "2025-01-13 12:00", |e| {
            e.get_mut::<payload::Gather>()
                .unwrap()
                .changes
                .push(FieldChange {
                    field: "priority".into(),
                    old: Some("normal".into()),
                    new: Some("urgent".into()),
                    extra: Default::default(),
                })
        });
        let ack = get(&f, &c, "2025-01-13 12:00", Target::Acknowledge);
        assert_eq!(
            ack.due,
            Some(b("2025-01-13 11:00")),
            "2 h from the original start"
        );
        assert_eq!(
            (ack.state, ack.breached_at),
            (State::Breached, Some(b("2025-01-13 11:00")))
        );
    }

    #[test]
    fn follow_up_is_due_after_the_last_resolve() {
        let c = config("");
        let mut f = case("2025-01-13 09:00", Priority::High);
        push(&mut f, Action::Acknowledge, "2025-01-13 09:30", |_| {});
        push(&mut f, Action::Resolve, "2025-01-14 15:00", |e| {
            e.get_mut::<payload::Resolve>().unwrap().resolution = Some("x".into())
        });
        let fu = get(&f, &c, "2025-01-14 15:30", Target::FollowUp);
        assert_eq!(fu.due, Some(b("2025-01-15 15:00")), "1bd for high");
        push(&mut f, Action::FollowUp, "2025-01-15 10:00", |e| {
            e.get_mut::<payload::FollowUp>().unwrap().response = Some("no-answer".into())
        });
        assert_eq!(
            get(&f, &c, "2025-01-16 09:00", Target::FollowUp).state,
            State::Met,
            "contact was made"
        );
    }

    #[test]
    fn pause_rules_are_configurable() {
        let c = config("[sla.resolution]\nnormal = \"16h business\"\npause_when = []\n");
        let mut f = case("2025-01-13 09:00", Priority::Normal);
        push(&mut f, Action::Acknowledge, "2025-01-13 09:05", |_| {});
        push(&mut f, Action::Pending, "2025-01-13 13:00", |_| {});
        let r = get(&f, &c, "2025-01-13 15:00", Target::Resolution);
        assert_eq!(
            (r.state, r.due),
            (State::Running, Some(b("2025-01-14 17:00")))
        );
        assert!(Config::from_toml("[sla.resolution]\npause_when = [\"resolved\"]").is_err());
        assert!(Config::from_toml("[sla.follow_up]\npause_when = [\"pending\"]").is_err());
    }
}
