//! Reading cases: show, list, history.

use super::{resolve, Casebook};
use crate::error::{Error, Result};
use crate::model::{CaseFile, CaseId, Priority, Status};
use crate::store::HistoryEntry;

/// Which cases `list` returns; empty lists mean "any".
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub statuses: Vec<Status>,
    pub priorities: Vec<Priority>,
    /// Case-insensitive substring of the customer's name, e-mail or phone.
    pub customer: Option<String>,
}

impl ListFilter {
    pub fn matches(&self, f: &CaseFile) -> bool {
        (self.statuses.is_empty() || self.statuses.contains(&f.case.status))
            && (self.priorities.is_empty() || self.priorities.contains(&f.case.priority))
            && self.customer.as_deref().is_none_or(|needle| {
                let needle = needle.to_lowercase();
                let c = &f.customer;
                [Some(&c.name), c.email.as_ref(), c.phone.as_ref()]
                    .into_iter()
                    .flatten()
                    .any(|v| v.to_lowercase().contains(&needle))
            })
    }
}

impl Casebook {
    /// The case a user names by a whole ID or a unique start of one.
    pub fn show(&self, query: &str) -> Result<CaseFile> {
        let snap = self.store.casebook_snapshot()?;
        let id = resolve(&snap, query)?;
        snap.case(&id)?
            .ok_or_else(|| Error::UnknownCase(query.to_string()))
    }

    /// Cases matching `filter`, most pressing first: by status in lifecycle order, then
    /// priority (urgent first), then age (oldest first).
    pub fn list(&self, filter: &ListFilter) -> Result<Vec<CaseFile>> {
        let snap = self.store.casebook_snapshot()?;
        let mut cases: Vec<CaseFile> = snap
            .all_cases()?
            .into_iter()
            .filter(|f| filter.matches(f))
            .collect();
        cases.sort_by(|a, b| {
            (
                a.case.status.rank(),
                a.case.priority.rank(),
                a.case.created_at,
                &a.case.id,
            )
                .cmp(&(
                    b.case.status.rank(),
                    b.case.priority.rank(),
                    b.case.created_at,
                    &b.case.id,
                ))
        });
        Ok(cases)
    }

    /// The commits that changed a case, newest first.
    pub fn history(&self, query: &str) -> Result<(CaseId, Vec<HistoryEntry>)> {
        let snap = self.store.casebook_snapshot()?;
        let id = resolve(&snap, query)?;
        drop(snap);
        let entries = self.store.history(&id.path())?;
        Ok((id, entries))
    }
}
