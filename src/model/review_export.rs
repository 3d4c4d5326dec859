//! What `export` adds so a team lead can recompute `review` in a spreadsheet: per case,
//! the inputs of every review metric under the definitions of `model::review` (README,
//! "Review"). Nothing here is stored; SLA outcomes are judged at "now" like the report.

use chrono::{DateTime, Utc};

use super::case::CaseFile;
use super::commitment::{first_response, State, Target};
use super::config::Config;
use super::enums::Action;
use super::review::{
    agent_name, case_outcome, first_response_minutes, followed_up_since, instance_counts,
    outbound_up_to, rating,
};
use super::time::format_utc;

/// The columns, in the order of [`review_values`].
pub const REVIEW_COLUMNS: &[&str] = &[
    "first_response_at",
    "first_response_minutes",
    "first_response_business_minutes",
    "first_resolved_at",
    "last_resolved_at",
    "resolved_by",
    "ever_escalated",
    "rating",
    "outbound_before_last_resolve",
    "followed_up",
    "sla_acknowledge",
    "sla_update",
    "sla_resolution",
    "sla_follow_up",
    "update_met",
    "update_breached",
    "follow_up_met",
    "follow_up_breached",
    "eta_kept",
    "eta_missed",
];

/// The columns that hold numbers (JSON Lines writes them as numbers).
pub const NUMBER_COLUMNS: &[&str] = &[
    "first_response_minutes",
    "first_response_business_minutes",
    "rating",
    "outbound_before_last_resolve",
    "update_met",
    "update_breached",
    "follow_up_met",
    "follow_up_breached",
    "eta_kept",
    "eta_missed",
];

/// The columns that hold `true` or `false`.
pub const BOOL_COLUMNS: &[&str] = &["ever_escalated", "followed_up"];

/// One value (or none) per [`REVIEW_COLUMNS`] entry.
pub fn review_values(f: &CaseFile, config: &Config, now: DateTime<Utc>) -> Vec<Option<String>> {
    let resolves: Vec<_> = f
        .events
        .iter()
        .filter(|e| e.action() == Action::Resolve)
        .collect();
    let (first, last) = (resolves.first(), resolves.last());
    let targets: Vec<(Target, State)> = super::instances::all(f, config, now)
        .into_iter()
        .map(|k| (k.target, k.state))
        .collect();
    let outcome =
        |t: Target| case_outcome(instance_counts(&targets, t)).map(|s| s.as_str().to_string());
    let count = |n: usize| Some(n.to_string());
    let (update, follow_up, eta) = (
        instance_counts(&targets, Target::Update),
        instance_counts(&targets, Target::FollowUp),
        instance_counts(&targets, Target::Eta),
    );
    let minutes = first_response_minutes(f, config);
    vec![
        first_response(f).as_ref().map(format_utc),
        minutes.map(|m| m.0.to_string()),
        minutes.map(|m| m.1.to_string()),
        first.map(|e| format_utc(&e.at)),
        last.map(|e| format_utc(&e.at)),
        last.map(|e| agent_name(&e.actor)),
        Some(
            f.events
                .iter()
                .any(|e| e.action() == Action::Escalate)
                .to_string(),
        ),
        rating(f).map(|r| r.to_string()),
        last.map(|e| outbound_up_to(f, e.at).to_string()),
        last.map(|e| followed_up_since(f, e.at).to_string()),
        outcome(Target::Acknowledge),
        outcome(Target::Update),
        outcome(Target::Resolution),
        outcome(Target::FollowUp),
        count(update.0),
        count(update.1),
        count(follow_up.0),
        count(follow_up.1),
        count(eta.0),
        count(eta.1),
    ]
}
