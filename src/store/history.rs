//! The history of one file, read from git's commits: the audit trail of a case.

use chrono::{DateTime, TimeZone, Utc};
use git2::{Oid, Sort};

use super::{GitContext, Result, Store};

#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub commit: Oid,
    pub time: DateTime<Utc>,
    pub author: String,
    pub summary: String,
    /// `(key, value)` trailers of the commit message, in order.
    pub trailers: Vec<(String, String)>,
}

impl HistoryEntry {
    pub fn trailer(&self, key: &str) -> Option<&str> {
        self.trailers
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

impl Store {
    /// Commits that changed `path`, newest first. A commit counts if its version of the file
    /// differs from every parent's (so a merge counts only when it produced a new version).
    pub fn history(&self, path: &str) -> Result<Vec<HistoryEntry>> {
        let snap = self.snapshot()?;
        let Some(tip) = snap.tip() else {
            return Ok(Vec::new());
        };
        let mut walk = self
            .repo
            .revwalk()
            .ctx(|| "cannot walk the history".into())?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)
            .ctx(|| "cannot walk the history".into())?;
        walk.push(tip).ctx(|| "cannot walk the history".into())?;
        let blob_at = |commit: &git2::Commit<'_>| -> Option<Oid> {
            commit
                .tree()
                .ok()?
                .get_path(std::path::Path::new(path))
                .ok()
                .map(|e| e.id())
        };
        let mut out = Vec::new();
        for oid in walk {
            let oid = oid.ctx(|| "cannot walk the history".into())?;
            let commit = self
                .repo
                .find_commit(oid)
                .ctx(|| format!("cannot read commit {oid}"))?;
            let mine = blob_at(&commit);
            if mine.is_none() {
                continue;
            }
            let changed = if commit.parent_count() == 0 {
                true
            } else {
                commit.parents().all(|p| blob_at(&p) != mine)
            };
            if changed {
                out.push(entry_of(&commit));
            }
        }
        Ok(out)
    }
}

fn entry_of(commit: &git2::Commit<'_>) -> HistoryEntry {
    let author = commit.author();
    let message = commit.message().unwrap_or_default();
    HistoryEntry {
        commit: commit.id(),
        time: Utc
            .timestamp_opt(author.when().seconds(), 0)
            .single()
            .unwrap_or_default(),
        author: format!(
            "{} <{}>",
            author.name().unwrap_or_default(),
            author.email().unwrap_or_default()
        ),
        summary: message.lines().next().unwrap_or_default().to_string(),
        trailers: parse_trailers(message),
    }
}

/// Trailers: `Key: value` lines of the last paragraph of a message.
fn parse_trailers(message: &str) -> Vec<(String, String)> {
    let last = message.trim_end().rsplit("\n\n").next().unwrap_or_default();
    let pairs: Vec<_> = last
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(": ")?;
            (!k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
                .then(|| (k.to_string(), v.to_string()))
        })
        .collect();
    if pairs.len() == last.lines().count() {
        pairs
    } else {
        Vec::new()
    }
}
