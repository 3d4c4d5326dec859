//! The read view: one consistent tip per command, and the only way a read reaches the case
//! book.
//!
//! A [`View`] is a [`Snapshot`] (it derefs to one, so `case`, `find_cases`, `read`,
//! `map_cases` work as before) plus the validated config and, opened on first use, the
//! [index](super::index) brought to exactly this tip. Ops ask the index which case files
//! can be in an answer and parse only those through the view, or, when there is no usable
//! index (`None` from [`View::index`]), scan every case file: the same answer, slower. Both
//! paths run the same model code on the parsed cases, which is what keeps them equal.

use std::cell::OnceCell;
use std::ops::Deref;

use git2::Oid;

use super::index::{Entry, Index, IndexError};
use super::{Result, Snapshot, Store};
use crate::model::{CaseFile, CaseId, Config};

pub struct View<'r> {
    snap: Snapshot<'r>,
    config: Config,
    index: OnceCell<Option<Index>>,
}

impl<'r> Deref for View<'r> {
    type Target = Snapshot<'r>;

    fn deref(&self) -> &Snapshot<'r> {
        &self.snap
    }
}

impl<'r> View<'r> {
    pub(crate) fn open(store: &'r Store) -> Result<View<'r>> {
        let mut snap = store.casebook_snapshot()?;
        // A view only shows: what cannot be opened reads "[erased]" or "[sealed]".
        snap.opening = crate::model::privacy::Opening::Display;
        let config = snap.config()?;
        Ok(View {
            snap,
            config,
            index: OnceCell::new(),
        })
    }

    /// The validated configuration of this tip.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The snapshot this view reads.
    pub fn snapshot(&self) -> &Snapshot<'r> {
        &self.snap
    }

    /// The index, up to date with this tip; `None` when it cannot be used (disabled with
    /// `CASEBOOK_INDEX=off`, an unwritable folder, a case file that does not parse): the
    /// caller then scans.
    ///
    /// Case files that do not parse are left out of every answer, each named in a warning
    /// (see [`View::map_cases`]); with `--strict` there is no index then, and the scan
    /// fails on the first of them.
    pub fn index(&self) -> Option<&Index> {
        self.index
            .get_or_init(|| {
                if super::index::disabled() {
                    return None;
                }
                let index = Index::open(&self.snap, &self.config).ok()?;
                index.usable_with_broken().then_some(index)
            })
            .as_ref()
    }

    /// Reads, parses and maps every case on all cores (see [`Snapshot::map_cases`]). A case
    /// file that does not parse is skipped with a warning naming it, so one bad file does
    /// not stop every read of the team; with `--strict` the read fails on it instead.
    pub fn map_cases<T: Send>(&self, f: impl Fn(CaseFile) -> Option<T> + Sync) -> Result<Vec<T>> {
        let entries = self.snap.case_entries()?;
        let strict = super::strict();
        self.snap
            .map_entries(&entries, |path, _, parsed| match parsed {
                Ok(c) => Ok(f(c)),
                Err(super::StoreError::Case { .. } | super::StoreError::Sealed { .. })
                    if !strict =>
                {
                    super::warn_skipped(path);
                    Ok(None)
                }
                Err(e) => Err(e),
            })
    }

    /// The on-disk index, or one built in memory from a full scan when there is none: for
    /// reads that only an index can answer (search). An error only if a case file does not
    /// parse (reported as the scan reports it).
    pub fn index_or_memory(&self) -> Result<MaybeOwned<'_>> {
        if let Some(i) = self.index() {
            return Ok(MaybeOwned::Borrowed(i));
        }
        match Index::in_memory(&self.snap, &self.config) {
            Ok(i) if i.usable_with_broken() => Ok(MaybeOwned::Owned(Box::new(i))),
            Ok(_) => {
                // --strict: let the scan name the case file that does not parse.
                self.snap.all_cases()?;
                Err(super::StoreError::Index(
                    "a case file does not parse".into(),
                ))
            }
            Err(e) => {
                // Let the scan name the case file that does not parse.
                self.snap.all_cases()?;
                Err(super::StoreError::Index(e.to_string()))
            }
        }
    }

    /// An index built from a full scan of this tip, in memory (for `verify`).
    pub fn scanned_index(&self) -> std::result::Result<Index, IndexError> {
        Index::in_memory(&self.snap, &self.config)
    }

    /// Deletes and rebuilds the on-disk index, reporting progress (done, total).
    pub fn rebuild_index(&self, progress: &dyn Fn(u64, u64)) -> Result<u64> {
        Index::rebuild(&self.snap, &self.config, progress)
            .map_err(|e| super::StoreError::Index(e.to_string()))
    }

    /// Parses the given case files on all cores and maps them, keeping what `f` returns,
    /// in the given order.
    pub fn map_listed<T: Send>(
        &self,
        entries: &[Entry],
        f: impl Fn(CaseFile) -> Option<T> + Sync,
    ) -> Result<Vec<T>> {
        let bodies = self
            .index()
            .and_then(|i| i.bodies(entries).ok())
            .unwrap_or_else(|| vec![None; entries.len()]);
        self.map_cached(entries, bodies, f)
    }

    /// The given cases' projections, their events left out (empty), in the given order:
    /// what a listing shows, read from the index's cached projections where there are
    /// some (several times faster than whole cases), else from the files.
    pub fn projections(&self, entries: &[Entry]) -> Result<Vec<CaseFile>> {
        let cached = self
            .index()
            .and_then(|i| i.projections(entries).ok())
            .unwrap_or_else(|| vec![None; entries.len()]);
        self.map_cached(entries, cached, |mut f| {
            f.events.clear();
            Some(f)
        })
    }

    fn map_cached<T: Send>(
        &self,
        entries: &[Entry],
        bodies: Vec<Option<String>>,
        f: impl Fn(CaseFile) -> Option<T> + Sync,
    ) -> Result<Vec<T>> {
        // Cases with a cached body parse from JSON on all cores; the rest from their files.
        let json: Vec<(usize, &str)> = bodies
            .iter()
            .enumerate()
            .filter_map(|(i, b)| b.as_deref().map(|b| (i, b)))
            .collect();
        let mut out: Vec<Option<Option<T>>> = Vec::new();
        out.resize_with(entries.len(), || None);
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8);
        let chunk = json.len().div_ceil(threads).max(256);
        let f = &f;
        let parsed: Vec<Vec<(usize, Option<T>)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = json
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .filter_map(|(i, body)| {
                                let case = serde_json::from_str::<CaseFile>(body).ok()?;
                                Some((*i, f(case)))
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        for (i, v) in parsed.into_iter().flatten() {
            out[i] = Some(v);
        }
        let rest: Vec<(CaseId, String, Oid)> = entries
            .iter()
            .enumerate()
            .filter(|(i, _)| out[*i].is_none())
            .map(|(_, e)| e.triple())
            .collect();
        let position: std::collections::HashMap<&str, usize> = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.path.as_str(), i))
            .collect();
        let from_files = self.snap.map_entries(&rest, |path, _, parsed| {
            Ok(Some((position[path], f(parsed?))))
        })?;
        for (i, v) in from_files {
            out[i] = Some(v);
        }
        Ok(out.into_iter().flatten().flatten().collect())
    }
}

/// The on-disk index, or one built in memory for this command.
pub enum MaybeOwned<'a> {
    Borrowed(&'a Index),
    Owned(Box<Index>),
}

impl Deref for MaybeOwned<'_> {
    type Target = Index;

    fn deref(&self) -> &Index {
        match self {
            MaybeOwned::Borrowed(i) => i,
            MaybeOwned::Owned(i) => i,
        }
    }
}
