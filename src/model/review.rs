//! Review metrics over resolved cases (SOP-SEMANTICS §4). Pure: cases, policy and "now" in,
//! numbers out; nothing is stored.
//!
//! Definitions (also in README.md, "Review"):
//! - **Window**: the cases whose last `resolve` falls in `[from, to)`.
//! - **First response time**: from opening to the first outbound contact of any kind
//!   ([`first_response`], where the acknowledge target stops too), in minutes, round the
//!   clock and in business time; median and p90 over cases that had one.
//! - **Median and percentiles** interpolate linearly between closest ranks (numpy's
//!   default, a spreadsheet's `MEDIAN()`/`PERCENTILE.INC()`): see [`percentile`].
//! - **SLA achievement** per target, per case: a case breached a target if any instance of
//!   it was breached (every update clock, every resolve's follow-up: `instances::all`), met
//!   it if every instance that ended was met; still-running instances are left out. Then
//!   met ÷ (met + breached) × 100, at "now", with per-instance counts beside it.
//! - **ETA kept**: every promise counts, kept ÷ (kept + missed); a promise replaced before
//!   it fell due is not counted.
//! - **First / full resolution time**: opening to the first / the last `resolve`, in hours.
//! - **Reopen rate**: cases reopened at least once; **escalation rate**: cases escalated at
//!   least once; **one-touch**: resolved with fewer than 2 outbound messages before the last
//!   `resolve`; **follow-up done**: a follow-up contact after the last `resolve`. All % of
//!   the window's cases.
//! - **CSAT**: ratings 4 or 5 ÷ rated cases × 100, a case's rating being [`rating`];
//!   **response rate**: rated ÷ followed-up.
//! - **Backlog by age**: cases not resolved or closed at "now", by age since opening.
//! - **Root causes**: the window's cases with a root cause, grouped by it (ignoring case and
//!   spacing), ranked by cases, then distinct customers affected.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::case::CaseFile;
use super::commitment::{first_response, Commitment, State, Target};
use super::config::Config;
use super::enums::{Action, Direction, Scope, Status};
use super::event::Payload;
use super::sla::SlaDuration;

/// Median and 90th percentile (linear interpolation), `None` without values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    pub count: usize,
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

/// The p-th percentile of `values` (any order) by linear interpolation between closest
/// ranks: numpy's default, a spreadsheet's `PERCENTILE.INC()` (and `MEDIAN()` at 50). With
/// the values sorted as x₀ ≤ … ≤ xₙ₋₁, h = p/100 × (n − 1) and the result is
/// x⌊h⌋ + (h − ⌊h⌋) × (x⌊h⌋₊₁ − x⌊h⌋); so the median of an even count is the mean of the
/// two middle values.
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let h = (p.clamp(0.0, 100.0) / 100.0) * (sorted.len() - 1) as f64;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

fn spread(values: &[f64]) -> Spread {
    Spread {
        count: values.len(),
        median: percentile(values, 50.0),
        p90: percentile(values, 90.0),
    }
}

/// A share in percent, `None` when there is nothing to divide by.
fn pct(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

/// Met and breached counts, and met ÷ (met + breached) in percent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tally {
    pub met: usize,
    pub breached: usize,
    pub percent: Option<f64>,
}

impl Tally {
    fn of(met: usize, breached: usize) -> Tally {
        Tally {
            met,
            breached,
            percent: pct(met, met + breached),
        }
    }
}

/// One target's achievement: per case (breached if any instance was, met if every one
/// that ended was met), and per instance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Achievement {
    pub met: usize,
    pub breached: usize,
    pub percent: Option<f64>,
    pub instances: Tally,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RootCause {
    pub root_cause: String,
    pub cases: usize,
    pub customers: usize,
    pub systemic: bool,
    pub case_ids: Vec<String>,
}

/// The metrics of one group of cases.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    pub cases: usize,
    /// Time worked per case, over the cases that recorded any (`--worked`).
    pub worked_minutes: Spread,
    /// Time worked on all the cases, in minutes.
    pub worked_minutes_total: u64,
    pub first_response_minutes: Spread,
    pub first_response_business_minutes: Spread,
    pub first_resolution_hours: Spread,
    pub full_resolution_hours: Spread,
    pub sla: BTreeMap<String, Achievement>,
    /// Every promised ETA: kept (met) or missed (breached).
    pub eta: Tally,
    pub eta_kept_percent: Option<f64>,
    pub reopen_rate_percent: Option<f64>,
    pub escalation_rate_percent: Option<f64>,
    pub one_touch_percent: Option<f64>,
    pub follow_up_done_percent: Option<f64>,
    pub csat_percent: Option<f64>,
    pub rated: usize,
    pub response_rate_percent: Option<f64>,
}

/// What one resolved case contributes, computed once.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseFacts {
    pub id: String,
    pub resolved_at: DateTime<Utc>,
    pub agent: String,
    /// The owner's name at the last resolve, or "(unassigned)".
    pub owner: String,
    pub product: String,
    pub priority: String,
    pub channel: String,
    /// Minutes to the first response: (round the clock, business time).
    pub first_response: Option<(f64, f64)>,
    first_resolution: f64,
    full_resolution: f64,
    /// Every instance of every target (`instances::all`).
    targets: Vec<(Target, State)>,
    reopened: bool,
    escalated: bool,
    one_touch: bool,
    followed_up: bool,
    pub rating: Option<u8>,
    pub root_cause: Option<String>,
    pub systemic: bool,
    pub customer: String,
    /// Time worked on the case (`--worked`), in minutes, if any was recorded.
    pub worked_minutes: Option<u64>,
}

/// The case's rating: that of the last follow-up after its last resolve that carries one,
/// satisfied or not. A not-satisfied rating reopens the case but still counts: ratings are
/// never voided, so the most dissatisfied customers stay in CSAT.
pub fn rating(f: &CaseFile) -> Option<u8> {
    let last_resolve = f
        .events
        .iter()
        .rposition(|e| e.action() == Action::Resolve)?;
    f.events[last_resolve..]
        .iter()
        .rev()
        .find_map(|e| match &e.payload {
            Payload::FollowUp(p) => p.rating,
            _ => None,
        })
}

/// The targets the case breached at least once (any instance), in target order: what
/// the review queue lists as reasons to look.
pub fn breached_targets(f: &CaseFile, config: &Config, now: DateTime<Utc>) -> Vec<Target> {
    let mut out: Vec<Target> = super::instances::all(f, config, now)
        .into_iter()
        .filter(|k| k.state == State::Breached)
        .map(|k| k.target)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Opening → [`first_response`], in minutes: (round the clock, business time).
pub fn first_response_minutes(f: &CaseFile, config: &Config) -> Option<(f64, f64)> {
    let opened = f.case.created_at;
    first_response(f).map(|t| {
        let calendar = (t - opened).num_seconds() as f64 / 60.0;
        let business = config.calendar.business_seconds_between(opened, t) as f64 / 60.0;
        (calendar, business)
    })
}

/// The name part of an actor (`Dana Agent <dana@example.com>` → `Dana Agent`).
pub(super) fn agent_name(actor: &str) -> String {
    actor.split(" <").next().unwrap_or(actor).to_string()
}

/// Outbound messages recorded up to `t` (one-touch: fewer than 2 before the last resolve).
pub(super) fn outbound_up_to(f: &CaseFile, t: DateTime<Utc>) -> usize {
    f.events
        .iter()
        .filter(|e| e.direction() == Some(&Direction::Outbound) && e.at <= t)
        .count()
}

/// Whether a follow-up was made at or after `t`.
pub(super) fn followed_up_since(f: &CaseFile, t: DateTime<Utc>) -> bool {
    f.events
        .iter()
        .any(|e| e.action() == Action::FollowUp && e.at >= t)
}

/// How many instances of `target` were met and breached.
pub(super) fn instance_counts(targets: &[(Target, State)], target: Target) -> (usize, usize) {
    targets
        .iter()
        .filter(|(t, _)| *t == target)
        .fold((0, 0), |(m, b), (_, s)| match s {
            State::Met => (m + 1, b),
            State::Breached => (m, b + 1),
            _ => (m, b),
        })
}

/// A case's outcome on a target from its instance counts: breached if any instance was,
/// met if any ended and none was breached, `None` while nothing ended.
pub(super) fn case_outcome((met, breached): (usize, usize)) -> Option<State> {
    if breached > 0 {
        Some(State::Breached)
    } else if met > 0 {
        Some(State::Met)
    } else {
        None
    }
}

/// Who owned the case right after the event `id` (replayed up to it).
fn owner_at(f: &CaseFile, id: &str) -> Option<String> {
    let mut owner = None;
    for e in &f.events {
        match &e.payload {
            Payload::Assign(p) => owner = p.to.clone(),
            Payload::Escalate(p) if p.assign => owner = p.to.clone(),
            _ => {}
        }
        if e.id == id {
            break;
        }
    }
    owner
}

/// The facts of a case resolved at least once; `None` otherwise.
pub fn facts(f: &CaseFile, config: &Config, now: DateTime<Utc>) -> Option<CaseFacts> {
    facts_and_instances(f, config, now).map(|(x, _)| x)
}

/// [`facts`] and the target instances they were judged from ([`super::instances::all`]).
fn facts_and_instances(
    f: &CaseFile,
    config: &Config,
    now: DateTime<Utc>,
) -> Option<(CaseFacts, Vec<Commitment>)> {
    let c = &f.case;
    let resolves: Vec<&super::event::Event> = f
        .events
        .iter()
        .filter(|e| e.action() == Action::Resolve)
        .collect();
    let (first, last) = (resolves.first()?, resolves.last()?);
    let hours = |t: DateTime<Utc>| (t - c.created_at).num_seconds() as f64 / 3600.0;
    let instances = super::instances::all(f, config, now);
    let facts = CaseFacts {
        id: c.id.to_string(),
        resolved_at: last.at,
        agent: agent_name(&last.actor),
        owner: owner_at(f, last.id.as_str())
            .map_or_else(|| "(unassigned)".to_string(), |o| agent_name(&o)),
        product: c.product.clone().unwrap_or_else(|| "(none)".into()),
        priority: c.priority.to_string(),
        channel: c.channel.to_string(),
        first_response: first_response_minutes(f, config),
        first_resolution: hours(first.at),
        full_resolution: hours(last.at),
        targets: instances.iter().map(|k| (k.target, k.state)).collect(),
        reopened: c.reopen_count > 0,
        escalated: f.events.iter().any(|e| e.action() == Action::Escalate),
        one_touch: outbound_up_to(f, last.at) < 2,
        followed_up: followed_up_since(f, last.at),
        rating: rating(f),
        root_cause: c.root_cause.clone(),
        systemic: c.scope == Some(Scope::Systemic),
        customer: f
            .customer
            .email
            .clone()
            .unwrap_or_else(|| f.customer.name.clone())
            .to_lowercase(),
        worked_minutes: super::team::worked_total(f),
    };
    Some((facts, instances))
}

/// The metrics over `cases` (already in the window).
pub fn metrics(cases: &[CaseFacts]) -> Metrics {
    let n = cases.len();
    let count = |pred: &dyn Fn(&CaseFacts) -> bool| cases.iter().filter(|c| pred(c)).count();
    let frt: Vec<(f64, f64)> = cases.iter().filter_map(|c| c.first_response).collect();
    let mut sla = BTreeMap::new();
    for target in [
        Target::Acknowledge,
        Target::Update,
        Target::Resolution,
        Target::FollowUp,
    ] {
        let (mut per_case, mut per_instance) = ((0, 0), (0, 0));
        for c in cases {
            let (met, breached) = instance_counts(&c.targets, target);
            per_instance = (per_instance.0 + met, per_instance.1 + breached);
            match case_outcome((met, breached)) {
                Some(State::Met) => per_case.0 += 1,
                Some(_) => per_case.1 += 1,
                None => {}
            }
        }
        let case = Tally::of(per_case.0, per_case.1);
        sla.insert(
            target.as_str().to_string(),
            Achievement {
                met: case.met,
                breached: case.breached,
                percent: case.percent,
                instances: Tally::of(per_instance.0, per_instance.1),
            },
        );
    }
    let eta = cases
        .iter()
        .map(|c| instance_counts(&c.targets, Target::Eta))
        .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    let eta = Tally::of(eta.0, eta.1);
    let rated: Vec<u8> = cases.iter().filter_map(|c| c.rating).collect();
    let followed = count(&|c| c.followed_up);
    Metrics {
        cases: n,
        worked_minutes: spread(
            &cases
                .iter()
                .filter_map(|c| c.worked_minutes)
                .map(|m| m as f64)
                .collect::<Vec<_>>(),
        ),
        worked_minutes_total: cases.iter().filter_map(|c| c.worked_minutes).sum(),
        first_response_minutes: spread(&frt.iter().map(|f| f.0).collect::<Vec<_>>()),
        first_response_business_minutes: spread(&frt.iter().map(|f| f.1).collect::<Vec<_>>()),
        first_resolution_hours: spread(
            &cases.iter().map(|c| c.first_resolution).collect::<Vec<_>>(),
        ),
        full_resolution_hours: spread(&cases.iter().map(|c| c.full_resolution).collect::<Vec<_>>()),
        sla,
        eta_kept_percent: eta.percent,
        eta,
        reopen_rate_percent: pct(count(&|c| c.reopened), n),
        escalation_rate_percent: pct(count(&|c| c.escalated), n),
        one_touch_percent: pct(count(&|c| c.one_touch), n),
        follow_up_done_percent: pct(followed, n),
        csat_percent: pct(rated.iter().filter(|r| **r >= 4).count(), rated.len()),
        rated: rated.len(),
        response_rate_percent: pct(rated.len(), followed),
    }
}

/// Root causes of the window's cases, most cases (then customers) first.
pub fn root_causes(cases: &[CaseFacts]) -> Vec<RootCause> {
    let mut groups: BTreeMap<String, Vec<&CaseFacts>> = BTreeMap::new();
    for c in cases {
        if let Some(rc) = &c.root_cause {
            let key = rc
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase();
            groups.entry(key).or_default().push(c);
        }
    }
    let mut out: Vec<RootCause> = groups
        .into_values()
        .map(|members| RootCause {
            // Shown as the earliest-resolved case spelled it, spaces collapsed.
            root_cause: members
                .iter()
                .min_by_key(|c| (c.resolved_at, &c.id))
                .and_then(|c| c.root_cause.as_deref())
                .map(|rc| rc.split_whitespace().collect::<Vec<_>>().join(" "))
                .unwrap_or_default(),
            cases: members.len(),
            customers: members
                .iter()
                .map(|c| &c.customer)
                .collect::<HashSet<_>>()
                .len(),
            systemic: members.iter().any(|c| c.systemic),
            case_ids: members.iter().map(|c| c.id.clone()).collect(),
        })
        .collect();
    out.sort_by(|a, b| {
        (b.cases, b.customers, &a.root_cause).cmp(&(a.cases, a.customers, &b.root_cause))
    });
    out
}

/// How many first responses took how long (round the clock), in fixed buckets.
pub fn first_response_histogram(cases: &[CaseFacts]) -> Vec<(&'static str, usize)> {
    const BUCKETS: [(&str, f64); 6] = [
        ("< 15 min", 15.0),
        ("15–60 min", 60.0),
        ("1–4 h", 240.0),
        ("4–8 h", 480.0),
        ("8–24 h", 1440.0),
        ("> 24 h", f64::INFINITY),
    ];
    let mut counts = vec![0usize; BUCKETS.len()];
    for minutes in cases.iter().filter_map(|c| c.first_response.map(|f| f.0)) {
        let i = BUCKETS
            .iter()
            .position(|(_, limit)| minutes < *limit)
            .unwrap_or(BUCKETS.len() - 1);
        counts[i] += 1;
    }
    BUCKETS
        .iter()
        .map(|(label, _)| *label)
        .zip(counts)
        .collect()
}

/// One target instance as instants: what [`Commitment::from_instants`] judges again.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct StoredInstance {
    target: String,
    policy: Option<String>,
    start: DateTime<Utc>,
    due: Option<DateTime<Utc>>,
    at_risk_from: Option<DateTime<Utc>>,
    stopped_at: Option<DateTime<Utc>>,
}

/// A review event of a case: when, by whom, the finding, improvement actions and tags.
pub type StoredFinding = (DateTime<Utc>, String, String, Vec<String>, Vec<String>);

/// What an index keeps of a resolved case for the review, so that a report reads rows, not
/// case files: its [`CaseFacts`] with each target instance as instants (of everything the
/// facts hold, only an instance's state depends on "now", see
/// [`Commitment::from_instants`]), and its review events. Floats are kept as their bits,
/// so they read back exactly. [`StoredFacts::at`] gives what [`facts`] gives at that "now".
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StoredFacts {
    id: String,
    resolved_at: DateTime<Utc>,
    agent: String,
    owner: String,
    product: String,
    priority: String,
    channel: String,
    first_response: Option<(u64, u64)>,
    first_resolution: u64,
    full_resolution: u64,
    instances: Vec<StoredInstance>,
    reopened: bool,
    escalated: bool,
    one_touch: bool,
    followed_up: bool,
    rating: Option<u8>,
    root_cause: Option<String>,
    systemic: bool,
    customer: String,
    worked_minutes: Option<u64>,
    findings: Vec<StoredFinding>,
}

impl StoredFacts {
    /// The stored facts of a case resolved at least once; `None` otherwise.
    pub fn of(f: &CaseFile, config: &Config) -> Option<StoredFacts> {
        // Any "now" will do: only the states depend on it, and those are judged again.
        let at = f.case.created_at;
        let (x, instances) = facts_and_instances(f, config, at)?;
        let instances = instances
            .into_iter()
            .map(|k| StoredInstance {
                target: k.target.as_str().to_string(),
                policy: k.policy.map(|p| p.to_string()),
                start: k.start,
                due: k.due,
                at_risk_from: k.at_risk_from,
                stopped_at: k.stopped_at,
            })
            .collect();
        Some(StoredFacts {
            id: x.id,
            resolved_at: x.resolved_at,
            agent: x.agent,
            owner: x.owner,
            product: x.product,
            priority: x.priority,
            channel: x.channel,
            first_response: x.first_response.map(|(a, b)| (a.to_bits(), b.to_bits())),
            first_resolution: x.first_resolution.to_bits(),
            full_resolution: x.full_resolution.to_bits(),
            instances,
            reopened: x.reopened,
            escalated: x.escalated,
            one_touch: x.one_touch,
            followed_up: x.followed_up,
            rating: x.rating,
            root_cause: x.root_cause,
            systemic: x.systemic,
            customer: x.customer,
            worked_minutes: x.worked_minutes,
            findings: f
                .events
                .iter()
                .filter_map(|e| match &e.payload {
                    Payload::Review(r) => Some((
                        e.at,
                        e.actor.clone(),
                        r.finding.clone().unwrap_or_default(),
                        r.improvements.clone(),
                        r.tags.clone(),
                    )),
                    _ => None,
                })
                .collect(),
        })
    }

    /// When the case was last resolved (what decides the window it is in).
    pub fn resolved_at(&self) -> DateTime<Utc> {
        self.resolved_at
    }

    /// The case's review events.
    pub fn findings(&self) -> &[StoredFinding] {
        &self.findings
    }

    /// The facts at `now`: exactly what [`facts`] gives at `now`; `None` if what was stored
    /// does not read back (an index of another casebook).
    pub fn at(&self, now: DateTime<Utc>) -> Option<CaseFacts> {
        let mut targets = Vec::with_capacity(self.instances.len());
        for k in &self.instances {
            let policy = match &k.policy {
                Some(p) => Some(SlaDuration::parse(p).ok()?),
                None => None,
            };
            let judged = Commitment::from_instants(
                Target::parse(&k.target)?,
                policy,
                k.start,
                k.due,
                k.at_risk_from,
                k.stopped_at,
                now,
            );
            targets.push((judged.target, judged.state));
        }
        Some(CaseFacts {
            id: self.id.clone(),
            resolved_at: self.resolved_at,
            agent: self.agent.clone(),
            owner: self.owner.clone(),
            product: self.product.clone(),
            priority: self.priority.clone(),
            channel: self.channel.clone(),
            first_response: self
                .first_response
                .map(|(a, b)| (f64::from_bits(a), f64::from_bits(b))),
            first_resolution: f64::from_bits(self.first_resolution),
            full_resolution: f64::from_bits(self.full_resolution),
            targets,
            reopened: self.reopened,
            escalated: self.escalated,
            one_touch: self.one_touch,
            followed_up: self.followed_up,
            rating: self.rating,
            root_cause: self.root_cause.clone(),
            systemic: self.systemic,
            customer: self.customer.clone(),
            worked_minutes: self.worked_minutes,
        })
    }
}

/// Open cases by age since opening, from their opening times.
pub fn backlog_of(created: &[DateTime<Utc>], now: DateTime<Utc>) -> BTreeMap<&'static str, usize> {
    let mut out: BTreeMap<&'static str, usize> = [
        ("0-1d", 0),
        ("1-3d", 0),
        ("3-7d", 0),
        ("7-30d", 0),
        ("30d+", 0),
    ]
    .into_iter()
    .collect();
    for t in created {
        let days = (now - *t).num_seconds() as f64 / 86_400.0;
        let bucket = match days {
            d if d < 1.0 => "0-1d",
            d if d < 3.0 => "1-3d",
            d if d < 7.0 => "3-7d",
            d if d < 30.0 => "7-30d",
            _ => "30d+",
        };
        *out.entry(bucket).or_default() += 1;
    }
    out
}

/// Open cases (not resolved or closed) by age since opening.
pub fn backlog(open: &[&CaseFile], now: DateTime<Utc>) -> BTreeMap<&'static str, usize> {
    let created: Vec<DateTime<Utc>> = open
        .iter()
        .filter(|f| !matches!(f.case.status, Status::Resolved | Status::Closed))
        .map(|f| f.case.created_at)
        .collect();
    backlog_of(&created, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::payload;

    #[test]
    fn a_rating_is_the_last_one_after_the_last_resolve_satisfied_or_not() {
        use crate::model::event::{CustomerFields, Event};
        use crate::model::CaseId;
        let t0 = chrono::DateTime::parse_from_rfc3339("2025-01-13T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut n = 0;
        let mut ev = |action: Action, edit: &dyn Fn(&mut Event)| {
            n += 1;
            let mut e = Event::new(action, t0 + chrono::Duration::hours(n), "Dana <d@x>");
            edit(&mut e);
            e
        };
        let mut open = ev(Action::Open, &|_| {});
        open.get_mut::<payload::Open>().unwrap().subject = Some("s".into());
        open.customer = Some(CustomerFields {
            name: Some("Ada".into()),
            ..Default::default()
        });
        let mut f = CaseFile::create(CaseId::parse("CB-7K3M9QXA").unwrap(), open).unwrap();
        let resolve =
            |e: &mut Event| e.get_mut::<payload::Resolve>().unwrap().resolution = Some("r".into());
        let answer = |response: &'static str, rating: Option<u8>| {
            move |e: &mut Event| {
                e.get_mut::<payload::FollowUp>().unwrap().response = Some(response.into());
                e.get_mut::<payload::FollowUp>().unwrap().rating = rating;
            }
        };
        f.append(ev(Action::Resolve, &resolve)).unwrap();
        assert_eq!(rating(&f), None);
        // Not satisfied, 1/5: the case reopens, and the rating stays.
        f.append(ev(Action::FollowUp, &answer("not-satisfied", Some(1))))
            .unwrap();
        assert_eq!(f.case.status, Status::Open);
        assert_eq!(rating(&f), Some(1));
        // A new resolve starts a new survey; a no-answer carries no rating.
        f.append(ev(Action::Resolve, &resolve)).unwrap();
        f.append(ev(Action::FollowUp, &answer("no-answer", None)))
            .unwrap();
        assert_eq!(rating(&f), None);
        f.append(ev(Action::FollowUp, &answer("satisfied", Some(4))))
            .unwrap();
        assert_eq!(rating(&f), Some(4));
    }

    #[test]
    fn percentiles_interpolate_between_closest_ranks() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[7.0], 90.0), Some(7.0));
        assert_eq!(percentile(&[7.0], 50.0), Some(7.0));
        // The issue's example: MEDIAN(30, 90) is 60, the mean of the two middle values.
        assert_eq!(percentile(&[90.0, 30.0], 50.0), Some(60.0));
        // 1..4: h = 0.5 × 3 = 1.5 → 2 + 0.5 × (3 − 2) = 2.5; p90: h = 2.7 → 3 + 0.7 × 1.
        assert_eq!(percentile(&[4.0, 1.0, 3.0, 2.0], 50.0), Some(2.5));
        assert!((percentile(&[4.0, 1.0, 3.0, 2.0], 90.0).unwrap() - 3.7).abs() < 1e-9);
        // 1..10: median h = 4.5 → 5.5; p90 h = 8.1 → 9 + 0.1 × 1 = 9.1 (numpy: 9.1).
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&ten, 50.0), Some(5.5));
        assert!((percentile(&ten, 90.0).unwrap() - 9.1).abs() < 1e-9);
        // Odd count: the middle value; p0 and p100 are the extremes.
        assert_eq!(percentile(&[10.0, 1050.0, 30.0], 50.0), Some(30.0));
        assert_eq!(percentile(&[10.0, 1050.0, 30.0], 0.0), Some(10.0));
        assert_eq!(percentile(&[10.0, 1050.0, 30.0], 100.0), Some(1050.0));
        // [10, 30, 1050] p90: h = 0.9 × 2 = 1.8 → 30 + 0.8 × 1020 = 846.
        assert!((percentile(&[10.0, 30.0, 1050.0], 90.0).unwrap() - 846.0).abs() < 1e-9);
        // Ties are equal values: [1, 5, 5, 5] p90 h = 2.7 → 5.
        assert_eq!(percentile(&[5.0, 5.0, 5.0, 1.0], 90.0), Some(5.0));
        assert_eq!(pct(1, 3).map(|p| (p * 10.0).round() / 10.0), Some(33.3));
        assert_eq!(pct(0, 0), None);
    }
}
