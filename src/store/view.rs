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
        let snap = store.casebook_snapshot()?;
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
    pub fn index(&self) -> Option<&Index> {
        self.index
            .get_or_init(|| {
                if super::index::disabled() {
                    return None;
                }
                Index::open(&self.snap, &self.config).ok()
            })
            .as_ref()
    }

    /// The on-disk index, or one built in memory from a full scan when there is none: for
    /// reads that only an index can answer (search). An error only if a case file does not
    /// parse (reported as the scan reports it).
    pub fn index_or_memory(&self) -> Result<MaybeOwned<'_>> {
        if let Some(i) = self.index() {
            return Ok(MaybeOwned::Borrowed(i));
        }
        match Index::in_memory(&self.snap, &self.config) {
            Ok(i) => Ok(MaybeOwned::Owned(Box::new(i))),
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
        let triples: Vec<(CaseId, String, Oid)> = entries.iter().map(Entry::triple).collect();
        self.snap
            .map_entries(&triples, |_, _, parsed| Ok(f(parsed?)))
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
