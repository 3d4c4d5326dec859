//! Reading cases: show, list, history. Each read opens one [`View`] and, when the index is
//! there, parses only the case files the index says can be in the answer; the filters and
//! sorts below run on the parsed cases either way, so index and scan agree.

use chrono::{DateTime, Utc};

use super::{resolve, Casebook};
use crate::error::{Error, Result};
use crate::model::commitment::{evaluate, Commitment, State};
use crate::model::team::TeamFilter;
use crate::model::{CaseFile, CaseId, Config, Priority, Status};
use crate::store::index::{nanos, Entry, ListRow};
use crate::store::{HistoryEntry, View};

/// Which cases `list` returns; empty lists mean "any".
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub statuses: Vec<Status>,
    pub priorities: Vec<Priority>,
    /// Case-insensitive substring of the customer's name, e-mail or phone.
    pub customer: Option<String>,
    /// Only cases with an SLA target in this state at "now".
    pub sla: Option<State>,
    /// Opened at or after this time, as a user typed it (a date or time in the case book's
    /// zone, or RFC 3339).
    pub since: Option<String>,
    /// Opened before this time (a date alone means before that day starts).
    pub until: Option<String>,
    /// Include closed cases even when no status is asked for.
    pub all: bool,
    /// Owner and tags.
    pub team: TeamFilter,
}

/// Opened at or after, and before: `since` and `until` as instants.
type Window = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// How `list` orders the cases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ListSort {
    /// Most pressing first: status in lifecycle order, priority, oldest first.
    #[default]
    Pressing,
    /// Newest first.
    Opened,
    /// Most recently changed first.
    Updated,
    /// Urgent first, then oldest first.
    Priority,
    /// The earliest due time of a commitment still owed first; none last.
    Due,
}

impl ListSort {
    pub fn parse(s: &str) -> Option<ListSort> {
        Some(match s {
            "pressing" => ListSort::Pressing,
            "opened" => ListSort::Opened,
            "updated" => ListSort::Updated,
            "priority" => ListSort::Priority,
            "due" => ListSort::Due,
            _ => return None,
        })
    }
}

/// What `list` found: the cases shown (with their commitments at "now"), how many matched
/// in all, and the config they were read with. The cases are projections: their events
/// are not read (left empty), which is what makes a listing of the whole book fast.
pub struct Listed {
    pub cases: Vec<CaseFile>,
    pub commitments: Vec<Vec<Commitment>>,
    pub total: usize,
    pub config: Config,
}

/// The sort key of a case, the same whether it comes from the index or a parsed case.
type SortKey = (i64, i64, i64, i64, String);

fn key_of(
    sort: ListSort,
    status_rank: i64,
    priority_rank: i64,
    created: i64,
    updated: i64,
    next_due: Option<i64>,
    id: &str,
) -> SortKey {
    let id = id.to_string();
    match sort {
        ListSort::Pressing => (status_rank, priority_rank, created, 0, id),
        ListSort::Opened => (-created, 0, 0, 0, id),
        ListSort::Updated => (-updated, 0, 0, 0, id),
        ListSort::Priority => (priority_rank, created, 0, 0, id),
        ListSort::Due => (
            i64::from(next_due.is_none()),
            next_due.unwrap_or(0),
            0,
            0,
            id,
        ),
    }
}

fn row_key(sort: ListSort, r: &ListRow) -> SortKey {
    key_of(
        sort,
        r.status_rank,
        r.priority_rank,
        r.created_at,
        r.updated_at,
        r.next_due,
        r.entry.id.as_str(),
    )
}

/// The same key computed from a parsed case (the scan path). Times outside what the index
/// can hold saturate; such a book is never indexed, so both paths sort it the same way.
fn case_key(sort: ListSort, f: &CaseFile, ks: &[Commitment]) -> SortKey {
    let n = |t: &DateTime<Utc>| {
        nanos(t).unwrap_or(if t.timestamp() < 0 {
            i64::MIN
        } else {
            i64::MAX
        })
    };
    let next_due = ks
        .iter()
        .filter(|k| k.stopped_at.is_none())
        .filter_map(|k| k.due.as_ref().map(n))
        .min();
    key_of(
        sort,
        f.case.status.rank() as i64,
        f.case.priority.rank() as i64,
        n(&f.case.created_at),
        n(&f.case.updated_at),
        next_due,
        f.case.id.as_str(),
    )
}

impl ListFilter {
    fn status_shown(&self, s: &Status) -> bool {
        if self.statuses.is_empty() {
            self.all || *s != Status::Closed
        } else {
            self.statuses.contains(s)
        }
    }

    fn customer_matches(&self, name: &str, email: Option<&str>, phone: Option<&str>) -> bool {
        self.customer.as_deref().is_none_or(|needle| {
            let needle = needle.to_lowercase();
            [Some(name), email, phone]
                .into_iter()
                .flatten()
                .any(|v| v.to_lowercase().contains(&needle))
        })
    }

    /// Whether a parsed case passes every filter but the SLA one; `window` is `since` and
    /// `until` as instants.
    fn matches(&self, f: &CaseFile, window: Window) -> bool {
        self.status_shown(&f.case.status)
            && (self.priorities.is_empty() || self.priorities.contains(&f.case.priority))
            && window.0.is_none_or(|t| f.case.created_at >= t)
            && window.1.is_none_or(|t| f.case.created_at < t)
            && self.customer_matches(
                &f.customer.name,
                f.customer.email.as_deref(),
                f.customer.phone.as_deref(),
            )
            && self.team.matches(f)
    }

    fn sla_matches(&self, ks: &[Commitment]) -> bool {
        self.sla.is_none_or(|w| ks.iter().any(|k| k.state == w))
    }
}

impl Casebook {
    /// The read view of the branch tip: one per command.
    pub fn view(&self) -> Result<View<'_>> {
        Ok(self.store.view()?)
    }

    /// The case a user names by a whole ID or a unique start of one, with the config it
    /// was read with.
    pub fn show(&self, query: &str) -> Result<(CaseFile, Config)> {
        let view = self.view()?;
        let id = resolve(&view, query)?;
        let file = view
            .case(&id)?
            .ok_or_else(|| Error::UnknownCase(query.to_string()))?;
        Ok((file, view.config().clone()))
    }

    /// [`Casebook::show`] with the case's SLA commitments at `now`.
    pub fn show_at(
        &self,
        query: &str,
        now: DateTime<Utc>,
    ) -> Result<(CaseFile, Config, Vec<Commitment>)> {
        let (file, config) = self.show(query)?;
        let sla = evaluate(&file, &config, now);
        Ok((file, config, sla))
    }

    /// Cases matching `filter` in `sort` order, at most `limit` of them, with their
    /// commitments at `now`.
    pub fn list(
        &self,
        filter: &ListFilter,
        sort: ListSort,
        limit: Option<usize>,
        now: DateTime<Utc>,
    ) -> Result<Listed> {
        let view = self.view()?;
        let config = view.config().clone();
        let tz = config.calendar.tz();
        let time = |flag: &str, text: &Option<String>| {
            text.as_deref()
                .map(|t| {
                    use crate::model::when::{parse_when, DateOnly};
                    parse_when(t, tz, Some(now), DateOnly::StartOfDay).map_err(|source| {
                        Error::Time {
                            field: flag.to_string(),
                            input: t.to_string(),
                            source,
                        }
                    })
                })
                .transpose()
        };
        let window = (
            time("--since", &filter.since)?,
            time("--until", &filter.until)?,
        );
        let limit = limit.unwrap_or(usize::MAX);
        let evaluated = |f: CaseFile| {
            let ks = evaluate(&f, &config, now);
            (f, ks)
        };
        let listed = view
            .index()
            .and_then(|i| list_rows(i, filter, window, now).ok().map(|rows| (i, rows)));
        let (mut shown, total) = match listed {
            Some((index, mut rows)) => {
                rows.sort_by_cached_key(|r| row_key(sort, r));
                let entries: Vec<Entry> = rows.into_iter().map(|r| r.entry).collect();
                // The commitments from stored instants, judged at `now` (what `evaluate`
                // gives), so the SLA filter needs no case parsed and only the cases shown
                // are read.
                // Without an SLA filter, every row is in the answer: only the shown need
                // their commitments.
                let judged = if filter.sla.is_none() {
                    index.commitments(&entries[..entries.len().min(limit)], now)
                } else {
                    index.commitments(&entries, now)
                };
                match judged {
                    Ok(ks) if filter.sla.is_none() => {
                        let total = entries.len();
                        let shown = total.min(limit);
                        let cases = view.projections(&entries[..shown])?;
                        if cases.len() != shown {
                            return Err(Error::Store(crate::store::StoreError::Index(
                                "the index lost cases while reading".into(),
                            )));
                        }
                        (cases.into_iter().zip(ks).collect(), total)
                    }
                    Ok(ks) => {
                        let (entries, ks): (Vec<Entry>, Vec<Vec<Commitment>>) = entries
                            .into_iter()
                            .zip(ks)
                            .filter(|(_, k)| filter.sla_matches(k))
                            .unzip();
                        let total = entries.len();
                        let shown = total.min(limit);
                        let cases = view.projections(&entries[..shown])?;
                        if cases.len() != shown {
                            return Err(Error::Store(crate::store::StoreError::Index(
                                "the index lost cases while reading".into(),
                            )));
                        }
                        (cases.into_iter().zip(ks).collect(), total)
                    }
                    Err(_) => {
                        let all = view.map_listed(&entries, |f| {
                            Some(evaluated(f))
                                .filter(|(_, ks)| filter.sla_matches(ks))
                                .map(|(mut f, ks)| {
                                    f.events.clear();
                                    (f, ks)
                                })
                        })?;
                        let total = all.len();
                        (all.into_iter().take(limit).collect(), total)
                    }
                }
            }
            _ => {
                let mut all = view.map_cases(|f| {
                    if !filter.matches(&f, window) {
                        return None;
                    }
                    Some(evaluated(f))
                        .filter(|(_, ks)| filter.sla_matches(ks))
                        .map(|(mut f, ks)| {
                            // A listing shows projections (as from the index).
                            f.events.clear();
                            (f, ks)
                        })
                })?;
                all.sort_by_cached_key(|(f, ks)| case_key(sort, f, ks));
                let total = all.len();
                all.truncate(limit);
                (all, total)
            }
        };
        let (cases, commitments) = shown.drain(..).unzip();
        Ok(Listed {
            cases,
            commitments,
            total,
            config,
        })
    }

    /// The commits that changed a case, newest first.
    pub fn history(&self, query: &str) -> Result<(CaseId, Vec<HistoryEntry>)> {
        let (id, entries, _) = self.history_with_config(query)?;
        Ok((id, entries))
    }

    /// [`Casebook::history`] and the config of the tip it resolved the ID at.
    pub fn history_with_config(&self, query: &str) -> Result<(CaseId, Vec<HistoryEntry>, Config)> {
        let view = self.view()?;
        let id = resolve(&view, query)?;
        let config = view.config().clone();
        drop(view);
        let entries = self.store.history(&id.path())?;
        Ok((id, entries, config))
    }
}

/// The index rows that pass every filter that does not need the parsed case, with the SLA
/// filter narrowed to the cases that can be in that state at `now`.
fn list_rows(
    index: &crate::store::index::Index,
    filter: &ListFilter,
    window: Window,
    now: DateTime<Utc>,
) -> std::result::Result<Vec<ListRow>, crate::store::index::IndexError> {
    let strings = |v: &[String]| v.to_vec();
    let statuses: Vec<String> = filter.statuses.iter().map(|s| s.to_string()).collect();
    let priorities: Vec<String> = filter.priorities.iter().map(|s| s.to_string()).collect();
    let exclude = (filter.statuses.is_empty() && !filter.all).then_some("closed");
    let bound = |t: &Option<DateTime<Utc>>| -> std::result::Result<Option<i64>, crate::store::index::IndexError> {
        t.as_ref()
            .map(|t| {
                nanos(t).ok_or_else(|| {
                    crate::store::index::IndexError::Unusable("time out of range".into())
                })
            })
            .transpose()
    };
    let mut rows = index.list_rows(
        &strings(&statuses),
        exclude,
        &priorities,
        bound(&window.0)?,
        bound(&window.1)?,
        &filter.team,
    )?;
    rows.retain(|r| {
        filter.customer_matches(
            &r.customer_name,
            r.customer_email.as_deref(),
            r.customer_phone.as_deref(),
        )
    });
    if let Some(state) = filter.sla {
        let now = bound(&Some(now))?.expect("given");
        let candidates = match state {
            State::Breached => index.maybe_breached(now)?,
            State::AtRisk => index.maybe_at_risk(now)?,
            // Other states are not offered by the command line; keep every row.
            _ => return Ok(rows),
        };
        let ids: std::collections::HashSet<CaseId> = candidates.into_iter().map(|e| e.id).collect();
        rows.retain(|r| ids.contains(&r.entry.id));
    }
    Ok(rows)
}
