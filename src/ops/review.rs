//! `review`: metrics over the cases resolved in a window, the review queue, and recorded
//! findings. Definitions are in `model::review` and the README.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use serde::Serialize;

use super::{optional_text, required_text, Casebook, Context, Recorded};
use crate::error::{Error, Result};
use crate::model::review::{
    backlog, backlog_of, facts, metrics, root_causes, CaseFacts, Metrics, RootCause,
};
use crate::model::{payload, Action, Event, Payload, Status};

/// How `review --by` groups the cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// Who recorded the last resolve.
    Agent,
    /// Who owned the case at its last resolve.
    Owner,
    Product,
    Priority,
    Channel,
}

impl GroupBy {
    pub fn parse(s: &str) -> Option<GroupBy> {
        Some(match s {
            "agent" => GroupBy::Agent,
            "owner" => GroupBy::Owner,
            "product" => GroupBy::Product,
            "priority" => GroupBy::Priority,
            "channel" => GroupBy::Channel,
            _ => return None,
        })
    }

    fn key(self, f: &CaseFacts) -> String {
        match self {
            GroupBy::Agent => f.agent.clone(),
            GroupBy::Owner => f.owner.clone(),
            GroupBy::Product => f.product.clone(),
            GroupBy::Priority => f.priority.clone(),
            GroupBy::Channel => f.channel.clone(),
        }
    }
}

/// A reviewer's recorded finding.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub case: String,
    pub at: String,
    pub reviewer: String,
    pub finding: String,
    pub actions: Vec<String>,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReviewReport {
    /// The window: cases whose last resolve is on or after `from` and before `to`.
    pub from: String,
    pub to: String,
    pub overall: Metrics,
    pub by: Option<BTreeMap<String, Metrics>>,
    pub root_causes: Vec<RootCause>,
    pub backlog: BTreeMap<&'static str, usize>,
    /// Cases resolved per ISO week (e.g. "2026-W47").
    pub resolved_per_week: BTreeMap<String, usize>,
    /// CSAT (% of ratings 4–5) of the cases resolved each ISO week that were rated.
    pub csat_per_week: BTreeMap<String, Option<f64>>,
    /// How many of the cases resolved each ISO week were rated.
    pub ratings_per_week: BTreeMap<String, usize>,
    /// How long first responses took, in buckets.
    pub first_response_histogram: Vec<(&'static str, usize)>,
    pub findings: Vec<Finding>,
}

/// A resolved or closed case that nobody has reviewed, and why it deserves a look.
#[derive(Debug, Clone, Serialize)]
pub struct QueueItem {
    pub case: String,
    pub subject: String,
    pub status: String,
    pub resolved_at: Option<String>,
    pub reasons: Vec<String>,
}

impl Casebook {
    /// Metrics over the cases whose last resolve is in `[from, to]` (whole days in the
    /// calendar's zone; default: the 30 days up to today) that `team` lets through (tags).
    pub fn review_report(
        &self,
        now: DateTime<Utc>,
        from: Option<&str>,
        to: Option<&str>,
        by: Option<GroupBy>,
        team: &crate::model::team::TeamFilter,
    ) -> Result<ReviewReport> {
        let view = self.view()?;
        let config = view.config().clone();
        let tz = config.calendar.tz();
        // Any form people type ("2026-11-01", "monday", "yesterday", "30 days ago"); the
        // window is whole days, so only the day of the time counts.
        let day = |field: &str, text: &str| -> Result<NaiveDate> {
            use crate::model::when::{parse_when, DateOnly};
            parse_when(text, tz, Some(now), DateOnly::StartOfDay)
                .map(|t| t.with_timezone(&tz).date_naive())
                .map_err(|source| Error::Time {
                    field: field.to_string(),
                    input: text.to_string(),
                    source,
                })
        };
        let today = now.with_timezone(&tz).date_naive();
        let to_day = to.map(|t| day("--to", t)).transpose()?.unwrap_or(today);
        let from_day = from
            .map(|f| day("--from", f))
            .transpose()?
            .unwrap_or(to_day - Duration::days(29));
        if from_day > to_day {
            return Err(Error::invalid(
                "--from",
                format!("{from_day} is after --to {to_day}"),
            ));
        }
        let start = |d: NaiveDate| {
            tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight exists"))
                .earliest()
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_else(|| {
                    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight exists"))
                })
        };
        let (lo, hi) = (start(from_day), start(to_day + Duration::days(1)));

        struct Seen {
            facts: Option<CaseFacts>,
            open_created: Option<crate::model::CaseFile>,
            findings: Vec<Finding>,
        }
        let select = |f: crate::model::CaseFile| {
            if !team.matches(&f) {
                return None;
            }
            let open = !matches!(f.case.status, Status::Resolved | Status::Closed);
            let in_window =
                facts(&f, &config, now).filter(|x| x.resolved_at >= lo && x.resolved_at < hi);
            let findings: Vec<Finding> = f
                .events
                .iter()
                .filter(|_| in_window.is_some())
                .filter_map(|e| match &e.payload {
                    Payload::Review(r) => Some(Finding {
                        case: f.case.id.to_string(),
                        at: crate::model::time::format_utc(&e.at),
                        reviewer: e.actor.clone(),
                        finding: r.finding.clone().unwrap_or_default(),
                        actions: r.improvements.clone(),
                        tags: r.tags.clone(),
                    }),
                    _ => None,
                })
                .collect();
            (open || in_window.is_some()).then_some(Seen {
                facts: in_window,
                open_created: open.then_some(f),
                findings,
            })
        };
        // From the index, the report reads rows, no case file: the opening times of the
        // open cases and the stored facts of those resolved in the window, judged at `now`
        // (StoredFacts::at gives exactly what `facts` gives).
        let from_rows = view.index().and_then(|i| {
            let (lo_n, hi_n) = (
                crate::store::index::nanos(&lo)?,
                crate::store::index::nanos(&hi)?,
            );
            let (open, stored) = i.review_rows(lo_n, hi_n, team).ok()?;
            let mut cases = Vec::new();
            let mut findings = Vec::new();
            for x in stored
                .iter()
                .filter(|x| x.resolved_at() >= lo && x.resolved_at() < hi)
            {
                let f = x.at(now)?;
                findings.extend(x.findings().iter().map(
                    |(at, reviewer, finding, actions, tags)| Finding {
                        case: f.id.clone(),
                        at: crate::model::time::format_utc(at),
                        reviewer: reviewer.clone(),
                        finding: finding.clone(),
                        actions: actions.clone(),
                        tags: tags.clone(),
                    },
                ));
                cases.push(f);
            }
            let open: Vec<DateTime<Utc>> = open
                .into_iter()
                .map(DateTime::from_timestamp_nanos)
                .collect();
            Some((cases, backlog_of(&open, now), findings))
        });
        let (cases, backlog, mut findings) = match from_rows {
            Some(read) => read,
            None => {
                let seen = view.map_cases(select)?;
                let cases: Vec<CaseFacts> = seen.iter().filter_map(|s| s.facts.clone()).collect();
                let open: Vec<&crate::model::CaseFile> = seen
                    .iter()
                    .filter_map(|s| s.open_created.as_ref())
                    .collect();
                let backlog = backlog(&open, now);
                let findings: Vec<Finding> = seen.into_iter().flat_map(|s| s.findings).collect();
                (cases, backlog, findings)
            }
        };
        let by = by.map(|g| {
            let mut groups: BTreeMap<String, Vec<CaseFacts>> = BTreeMap::new();
            for c in &cases {
                groups.entry(g.key(c)).or_default().push(c.clone());
            }
            groups.into_iter().map(|(k, v)| (k, metrics(&v))).collect()
        });
        let mut resolved_per_week = BTreeMap::new();
        let mut ratings: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for c in &cases {
            let week = c.resolved_at.with_timezone(&tz).iso_week();
            let key = format!("{}-W{:02}", week.year(), week.week());
            *resolved_per_week.entry(key.clone()).or_default() += 1;
            let entry = ratings.entry(key).or_default();
            if let Some(r) = c.rating {
                entry.0 += 1;
                entry.1 += usize::from(r >= 4);
            }
        }
        let ratings_per_week = ratings.iter().map(|(w, (n, _))| (w.clone(), *n)).collect();
        let csat_per_week = ratings
            .into_iter()
            .map(|(week, (rated, good))| {
                (
                    week,
                    (rated > 0).then(|| good as f64 * 100.0 / rated as f64),
                )
            })
            .collect();
        findings.sort_by(|a, b| (&a.at, &a.case).cmp(&(&b.at, &b.case)));
        Ok(ReviewReport {
            from: from_day.to_string(),
            to: to_day.to_string(),
            overall: metrics(&cases),
            by,
            root_causes: root_causes(&cases),
            backlog,
            resolved_per_week,
            csat_per_week,
            ratings_per_week,
            first_response_histogram: crate::model::review::first_response_histogram(&cases),
            findings,
        })
    }

    /// Resolved and closed cases nobody has reviewed yet, those that deserve a look first
    /// (most reasons, then most recently resolved) at the top.
    pub fn review_queue(&self, now: DateTime<Utc>) -> Result<Vec<QueueItem>> {
        let view = self.view()?;
        let config = view.config();
        let select = |f: crate::model::CaseFile| {
            let c = &f.case;
            if !matches!(c.status, Status::Resolved | Status::Closed)
                || f.events.iter().any(|e| e.action() == Action::Review)
            {
                return None;
            }
            let mut reasons: Vec<String> = crate::model::review::breached_targets(&f, config, now)
                .into_iter()
                .map(|t| format!("breached {}", t.as_str()))
                .collect();
            if c.reopen_count > 0 {
                reasons.push(format!("reopened {}×", c.reopen_count));
            }
            if let Some(r) = crate::model::review::rating(&f).filter(|r| *r <= 2) {
                reasons.push(format!("rated {r}/5"));
            }
            if f.events.iter().any(|e| e.action() == Action::Escalate) {
                reasons.push("escalated".into());
            }
            if c.scope == Some(crate::model::Scope::Systemic) {
                reasons.push("systemic".into());
            }
            Some(QueueItem {
                case: c.id.to_string(),
                subject: c.subject.to_string(),
                status: c.status.to_string(),
                resolved_at: c.resolved_at.as_ref().map(crate::model::time::format_utc),
                reasons,
            })
        };
        let mut items = match view.index().and_then(|i| i.unreviewed().ok()) {
            Some(entries) => view.map_listed(&entries, select)?,
            None => view.map_cases(select)?,
        };
        items.sort_by(|a, b| {
            (b.reasons.len(), &b.resolved_at, &a.case).cmp(&(
                a.reasons.len(),
                &a.resolved_at,
                &b.case,
            ))
        });
        Ok(items)
    }

    /// Records a reviewer's findings and improvement actions on a resolved or closed case.
    pub fn record_review(
        &self,
        ctx: &Context,
        id: &str,
        finding: &str,
        actions: &[String],
        tags: &[String],
    ) -> Result<Recorded> {
        self.record(ctx, id, Action::Review, |_| {
            let review = payload::Review {
                finding: Some(required_text("--finding", finding)?),
                improvements: actions
                    .iter()
                    .filter_map(|a| optional_text(&Some(a.clone())))
                    .collect(),
                tags: tags
                    .iter()
                    .filter_map(|t| optional_text(&Some(t.clone())))
                    .collect(),
                ..Default::default()
            };
            Ok(Event::with(review, ctx.now, &ctx.actor.to_string()).into())
        })
    }
}
