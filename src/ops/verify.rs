//! `verify` and `reindex`: checking that the case book is what its files say, and that the
//! disposable index says the same.

use super::Casebook;
use crate::error::Result;
use crate::model::CaseId;
use crate::store::StoreError;

/// What `verify` found wrong; empty means all is well.
#[derive(Debug, Clone, Default)]
pub struct VerifyReport {
    pub cases: usize,
    /// One line per difference, naming the file or case.
    pub problems: Vec<String>,
    /// Whether the on-disk index was compared (it may be disabled or unwritable).
    pub index_checked: bool,
}

/// How many differing index rows `verify` names before it summarises.
const SHOWN_INDEX_DIFFERENCES: usize = 20;

impl Casebook {
    /// Checks every case file (parses, projection equals replay, ID matches path), every
    /// alias (names an existing case), and the index (equals one built from a full scan).
    pub fn verify(&self) -> Result<VerifyReport> {
        let view = self.view()?;
        let mut report = VerifyReport::default();
        let entries = view.case_entries()?;
        report.cases = entries.len();
        let mut problems = view.map_entries(&entries, |path, _, parsed| {
            let mut out = Vec::new();
            match parsed {
                // A sealed value that does not open names the file, the case and the
                // field itself.
                Err(e @ StoreError::Sealed { .. }) => out.push(e.to_string()),
                Err(e) => {
                    // "cannot read case file PATH" would name the file a second time: say
                    // what is wrong with it, each cause once.
                    let (mut text, mut source) = match &e {
                        StoreError::Case { source, .. } => {
                            (source.to_string(), std::error::Error::source(source))
                        }
                        other => (other.to_string(), std::error::Error::source(other)),
                    };
                    while let Some(s) = source {
                        text.push_str(&format!(": {s}"));
                        source = s.source();
                    }
                    out.push(format!("{path}: does not parse: {text}"));
                }
                Ok(f) => {
                    if f.case.id.path() != path {
                        out.push(format!(
                            "{path}: holds case {} (whose file is {})",
                            f.case.id,
                            f.case.id.path()
                        ));
                    }
                    match f.verify() {
                        Ok(true) => {}
                        Ok(false) => out.push(format!(
                            "{path}: the [case] section differs from what replaying its events gives"
                        )),
                        Err(e) => out.push(format!("{path}: its events do not replay: {e}")),
                    }
                }
            }
            Ok(Some(out))
        })?;
        let mut problems: Vec<String> = problems.drain(..).flatten().collect();
        for (old, target) in view.alias_entries()? {
            match CaseId::parse(target.trim()) {
                Ok(new) if view.has_case(&new)? => {}
                Ok(new) => {
                    problems.push(format!("aliases/{old}: names {new}, which does not exist"))
                }
                Err(_) => problems.push(format!(
                    "aliases/{old}: does not hold a case ID ({:?})",
                    target.trim()
                )),
            }
        }
        if problems.is_empty() {
            if let Some(index) = view.index() {
                report.index_checked = true;
                let scanned = view.scanned_index().and_then(|i| i.dump());
                match (index.dump(), scanned) {
                    (Ok(disk), Ok(scan)) => {
                        let diff = differences(&disk, &scan);
                        let n = diff.len();
                        problems.extend(diff.into_iter().take(SHOWN_INDEX_DIFFERENCES));
                        if n > SHOWN_INDEX_DIFFERENCES {
                            problems.push(format!(
                                "index: {} more differences",
                                n - SHOWN_INDEX_DIFFERENCES
                            ));
                        }
                    }
                    (Err(e), _) | (_, Err(e)) => {
                        problems.push(format!("index: cannot compare: {e}"))
                    }
                }
            }
        }
        report.problems = problems;
        Ok(report)
    }

    /// Deletes and rebuilds the index; returns how many cases it holds.
    pub fn reindex(&self, progress: &dyn Fn(u64, u64)) -> Result<u64> {
        let view = self.view()?;
        Ok(view.rebuild_index(progress)?)
    }
}

/// Rows only in the index, and rows only in the scan (both sorted).
fn differences(disk: &[String], scan: &[String]) -> Vec<String> {
    let (a, b): (
        std::collections::BTreeSet<&String>,
        std::collections::BTreeSet<&String>,
    ) = (disk.iter().collect(), scan.iter().collect());
    let mut out: Vec<String> = a
        .difference(&b)
        .map(|r| format!("index: has {r} but a full scan gives no such row"))
        .collect();
    out.extend(
        b.difference(&a)
            .map(|r| format!("index: lacks {r}, which a full scan gives")),
    );
    out
}
