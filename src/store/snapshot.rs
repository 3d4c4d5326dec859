//! Reading one commit of the case book: files, cases, the config, ID look-ups.

use git2::{Commit, ErrorCode, ObjectType, Oid, Tree};

use super::privacy::Privacy;
use super::{GitContext, Result, Store, StoreError};
use crate::model::config::{Config, CONFIG_PATH};
pub(crate) use crate::model::layout::case_id_of_file;
use crate::model::privacy::Opening;
use crate::model::{CaseFile, CaseId, IdQuery};

/// The branch tip at one moment. Everything read through it is consistent.
pub struct Snapshot<'r> {
    pub(crate) store: &'r Store,
    pub(crate) commit: Option<Commit<'r>>,
    pub(crate) tree: Option<Tree<'r>>,
    /// How sealed personal data is opened: loaded on the first case parsed.
    pub(crate) opening: Opening,
    privacy: std::cell::OnceCell<Privacy<'r>>,
}

impl<'r> Snapshot<'r> {
    pub(crate) fn at_tip(store: &'r Store) -> Result<Snapshot<'r>> {
        let commit = match store.repo.find_reference(&store.branch) {
            Ok(r) => Some(
                r.peel_to_commit()
                    .ctx(|| format!("cannot read the tip of {}", store.branch))?,
            ),
            Err(e) if e.code() == ErrorCode::NotFound => None,
            Err(e) => return Err(e).ctx(|| format!("cannot read {}", store.branch)),
        };
        let tree = commit
            .as_ref()
            .map(|c| {
                c.tree()
                    .ctx(|| format!("cannot read the tree of {}", c.id()))
            })
            .transpose()?;
        Ok(Snapshot {
            store,
            commit,
            tree,
            opening: Opening::Write,
            privacy: std::cell::OnceCell::new(),
        })
    }

    /// A pack to stream a bulk change's new files into; see [`super::BlobPack`].
    pub fn blob_pack(&self) -> Result<super::BlobPack> {
        super::BlobPack::new(self.store)
    }

    /// Stores `pack` in the object database, so a change can name its blobs.
    pub fn store_pack(&self, pack: super::BlobPack) -> Result<()> {
        pack.finish(self.store)
    }

    /// The commit this snapshot reads, `None` on a branch with no commits yet.
    pub fn tip(&self) -> Option<Oid> {
        self.commit.as_ref().map(Commit::id)
    }

    /// The blob id at `path`, if there is a file there.
    pub fn blob_id(&self, path: &str) -> Result<Option<Oid>> {
        let Some(tree) = &self.tree else {
            return Ok(None);
        };
        match tree.get_path(std::path::Path::new(path)) {
            Ok(entry) if entry.kind() == Some(ObjectType::Blob) => Ok(Some(entry.id())),
            Ok(_) => Ok(None),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e).ctx(|| format!("cannot look up {path}")),
        }
    }

    /// The blob id and file mode at `path`, if there is a file there.
    pub(crate) fn entry(&self, path: &str) -> Result<Option<(Oid, i32)>> {
        let Some(tree) = &self.tree else {
            return Ok(None);
        };
        match tree.get_path(std::path::Path::new(path)) {
            Ok(entry) if entry.kind() == Some(ObjectType::Blob) => {
                Ok(Some((entry.id(), entry.filemode())))
            }
            Ok(_) => Ok(None),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e).ctx(|| format!("cannot look up {path}")),
        }
    }

    /// The content of the file at `path`.
    pub fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        self.blob_id(path)?
            .map(|id| self.read_blob(id, path))
            .transpose()
    }

    pub(crate) fn read_blob(&self, id: Oid, path: &str) -> Result<Vec<u8>> {
        let blob = self
            .store
            .repo
            .find_blob(id)
            .ctx(|| format!("cannot read {path}"))?;
        Ok(blob.content().to_vec())
    }

    /// The validated configuration of this commit.
    pub fn config(&self) -> Result<Config> {
        let Some(bytes) = self.read(CONFIG_PATH)? else {
            return Err(self.store.not_a_casebook());
        };
        let text = String::from_utf8_lossy(&bytes);
        Config::from_toml(&text).map_err(StoreError::Config)
    }

    /// Whether a case with exactly this ID exists.
    pub fn has_case(&self, id: &CaseId) -> Result<bool> {
        Ok(self.blob_id(&id.path())?.is_some())
    }

    /// Reads and parses a case; `None` if there is no such case.
    pub fn case(&self, id: &CaseId) -> Result<Option<CaseFile>> {
        let path = id.path();
        let Some(bytes) = self.read(&path)? else {
            return Ok(None);
        };
        self.parse(&path, &bytes).map(Some)
    }

    /// What this snapshot opens and seals values with, loaded once, on the first case
    /// parsed. A plain book gets one too: its cases may hold values sealed elsewhere.
    pub(crate) fn privacy(&self) -> Result<&Privacy<'r>> {
        if let Some(p) = self.privacy.get() {
            return Ok(p);
        }
        let sealing = match self.config() {
            Ok(c) => c.privacy.seal,
            Err(_) => false,
        };
        // A plain book needs the ring only if some case holds sealed values; the key ring
        // is read when the first one is met (`parse`).
        let loaded = Privacy::load(self.store, sealing, self.opening, chrono::Utc::now())?;
        Ok(self.privacy.get_or_init(|| loaded))
    }

    /// Parses a case file's bytes and opens its sealed values (see [`Privacy::open`]).
    pub fn parse(&self, path: &str, bytes: &[u8]) -> Result<CaseFile> {
        let mut case = parse_case(path, bytes)?;
        open_parsed(&self.privacy()?.opener(), path, bytes, &mut case)?;
        Ok(case)
    }

    /// The content of `case`'s attachment file `path` at this tip, opened with the keys
    /// this snapshot opens its cases with; `None` if there is no such file. A sealed
    /// attachment that does not open is an error naming the file (see
    /// [`crate::model::privacy::open_attachment`]).
    pub fn attachment(&self, case: &CaseFile, path: &str) -> Result<Option<Vec<u8>>> {
        let Some(stored) = self.read(path)? else {
            return Ok(None);
        };
        let keys = self.privacy()?.keys();
        crate::model::privacy::open_attachment(case, keys, &stored)
            .map(Some)
            .map_err(|error| StoreError::Sealed {
                path: path.to_string(),
                error,
            })
    }

    /// Keys made for cases that had none, to go into the key ring before the commit.
    pub(crate) fn take_new_keys(&self) -> Vec<crate::model::seal::Key> {
        self.privacy
            .get()
            .and_then(|p| p.new_keys.as_ref())
            .map(|k| k.take())
            .unwrap_or_default()
    }

    /// Says that the change being built makes a new case. In a sealed book its key is made
    /// now, and the key ring's bucket for it is read on another thread while the change is
    /// built, so the key ring's write waits for less. A key ring that cannot be read is
    /// reported where the change needs it, not here.
    pub fn expect_new_case(&self) {
        if let Ok(privacy) = self.privacy() {
            privacy.prepare_ring();
        }
    }

    /// The key ring thread [`Snapshot::expect_new_case`] started, to add the new keys.
    pub(crate) fn take_ring_prep(&self) -> Option<super::keyring::RingPrep> {
        self.privacy.get().and_then(|p| p.take_ring_prep())
    }

    /// What new cases made on other threads are given for a sealed write (`import`), see
    /// [`crate::model::privacy::attach`]; `None` in a plain book.
    pub fn new_case_keys(
        &self,
    ) -> Result<Option<std::sync::Arc<dyn crate::model::privacy::KeySource>>> {
        Ok(self
            .privacy()?
            .new_keys
            .clone()
            .map(|k| k as std::sync::Arc<dyn crate::model::privacy::KeySource>))
    }

    /// Gives a case made in this transaction (not parsed: `open`, `import`) what a sealed
    /// write needs; nothing in a plain book.
    pub fn prepare_new(&self, case: &mut CaseFile) -> Result<()> {
        self.privacy()?.attach_new(case);
        Ok(())
    }

    /// The IDs matching what a user typed, sorted. Looks only in the shards the query can be
    /// in, so a look-up costs the same at 100 or 100k cases when two characters are given.
    pub fn find_cases(&self, query: &IdQuery) -> Result<Vec<CaseId>> {
        let mut found = Vec::new();
        let Some(cases) = self.subtree("cases")? else {
            return Ok(found);
        };
        for shard in cases.iter() {
            let Some(name) = shard.name() else { continue };
            let shard_prefix_matches = if query.random.len() >= 2 {
                name == &query.random[..2]
            } else {
                name.starts_with(&query.random)
            };
            if !shard_prefix_matches || shard.kind() != Some(ObjectType::Tree) {
                continue;
            }
            let tree = self
                .store
                .repo
                .find_tree(shard.id())
                .ctx(|| format!("cannot read cases/{name}"))?;
            for entry in tree.iter() {
                if let Some(id) = entry.name().and_then(case_id_of_file) {
                    if query.matches(&id) {
                        found.push(id);
                    }
                }
            }
        }
        // A case renamed by sync (two clones created the same ID) is still found by its old
        // ID, through aliases/<old ID>, whose content is the new ID.
        if let Some(aliases) = self.subtree("aliases")? {
            for entry in aliases.iter() {
                let Some(old) = entry.name().and_then(|n| CaseId::parse(n).ok()) else {
                    continue;
                };
                if !query.matches(&old) {
                    continue;
                }
                let text = self.read_blob(entry.id(), &format!("aliases/{old}"))?;
                // One new ID per line: an old ID can lead to several renamed cases.
                for line in String::from_utf8_lossy(&text).lines() {
                    if let Ok(new) = CaseId::parse(line.trim()) {
                        if !found.contains(&new) && self.has_case(&new)? {
                            found.push(new);
                        }
                    }
                }
            }
        }
        found.sort();
        Ok(found)
    }

    /// Every case file: (ID, path, blob id), in path order.
    pub fn case_entries(&self) -> Result<Vec<(CaseId, String, Oid)>> {
        let mut out = Vec::new();
        let Some(cases) = self.subtree("cases")? else {
            return Ok(out);
        };
        for shard in cases.iter() {
            let (Some(shard_name), Some(ObjectType::Tree)) = (shard.name(), shard.kind()) else {
                continue;
            };
            let tree = self
                .store
                .repo
                .find_tree(shard.id())
                .ctx(|| format!("cannot read cases/{shard_name}"))?;
            for entry in tree.iter() {
                let Some(name) = entry.name() else { continue };
                if let Some(id) = case_id_of_file(name) {
                    out.push((id, format!("cases/{shard_name}/{name}"), entry.id()));
                }
            }
        }
        Ok(out)
    }

    /// Reads and parses every case.
    pub fn all_cases(&self) -> Result<Vec<CaseFile>> {
        self.map_cases(Some)
    }

    /// Reads, parses and maps every case on all cores, keeping only what `f` returns (in
    /// path order). TOML parsing is most of the cost of reading a case book; mapping in the
    /// workers keeps only what the caller needs in memory. Each thread reads blobs through
    /// its own handle on the object database.
    pub fn map_cases<T: Send>(&self, f: impl Fn(CaseFile) -> Option<T> + Sync) -> Result<Vec<T>> {
        let entries = self.case_entries()?;
        self.map_entries(&entries, |_, _, parsed| Ok(f(parsed?)))
    }

    /// Like [`Snapshot::map_cases`] over the given case files (path, blob id) only, in the
    /// given order. `f` sees each file's path, blob id and parse result, so a caller can
    /// keep going past a case file that does not parse; an error `f` returns stops the walk.
    pub fn map_entries<T: Send, E: AsRef<str> + Sync>(
        &self,
        entries: &[(CaseId, E, Oid)],
        f: impl Fn(&str, Oid, Result<CaseFile>) -> Result<Option<T>> + Sync,
    ) -> Result<Vec<T>> {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8);
        if threads < 2 || entries.len() < 256 {
            let mut out = Vec::new();
            for (_, path, blob) in entries {
                let path = path.as_ref();
                let parsed = self
                    .read_blob(*blob, path)
                    .and_then(|bytes| self.parse(path, &bytes));
                out.extend(f(path, *blob, parsed)?);
            }
            return Ok(out);
        }
        let chunk = entries.len().div_ceil(threads);
        let gitdir = self.store.repo.path();
        let bulk = self.privacy()?.bulk_opener()?;
        let opener = &bulk;
        let f = &f;
        let parts: Vec<Result<Vec<T>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = entries
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || -> Result<Vec<T>> {
                        let repo = git2::Repository::open(gitdir)
                            .ctx(|| format!("cannot open {}", gitdir.display()))?;
                        let mut out = Vec::new();
                        for (_, path, blob) in part {
                            let path = path.as_ref();
                            let parsed = repo
                                .find_blob(*blob)
                                .ctx(|| format!("cannot read {path}"))
                                .and_then(|b| {
                                    let mut case = parse_case(path, b.content())?;
                                    open_parsed(opener, path, b.content(), &mut case)?;
                                    Ok(case)
                                });
                            out.extend(f(path, *blob, parsed)?);
                        }
                        Ok(out)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        });
        let mut out = Vec::with_capacity(entries.len());
        for part in parts {
            out.extend(part?);
        }
        Ok(out)
    }

    /// Every alias: (old ID as named, the text it holds), in name order.
    pub fn alias_entries(&self) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        if let Some(aliases) = self.subtree("aliases")? {
            for entry in aliases.iter() {
                let Some(name) = entry.name() else { continue };
                if entry.kind() != Some(ObjectType::Blob) {
                    continue;
                }
                let text = self.read_blob(entry.id(), &format!("aliases/{name}"))?;
                out.push((
                    name.to_string(),
                    String::from_utf8_lossy(&text).into_owned(),
                ));
            }
        }
        Ok(out)
    }

    /// The id of the tree at `name` (e.g. `cases`), if there is one.
    pub(crate) fn subtree_id(&self, name: &str) -> Option<Oid> {
        let entry = self.tree.as_ref()?.get_name(name)?;
        (entry.kind() == Some(ObjectType::Tree)).then(|| entry.id())
    }

    fn subtree(&self, name: &str) -> Result<Option<Tree<'r>>> {
        let Some(tree) = &self.tree else {
            return Ok(None);
        };
        let Some(entry) = tree.get_name(name) else {
            return Ok(None);
        };
        if entry.kind() != Some(ObjectType::Tree) {
            return Ok(None);
        }
        self.store
            .repo
            .find_tree(entry.id())
            .map(Some)
            .ctx(|| format!("cannot read {name}/"))
    }
}

fn open_parsed<K: crate::model::seal::Keys>(
    p: &super::privacy::Opener<'_, K>,
    path: &str,
    bytes: &[u8],
    case: &mut CaseFile,
) -> Result<()> {
    // parse_case checked the bytes are UTF-8.
    p.open(path, std::str::from_utf8(bytes).unwrap_or_default(), case)
}

/// Parses a case file's bytes as they are (sealed values left sealed), naming `path` in
/// any error. Reads go through [`Snapshot::parse`], which opens them.
pub fn parse_case(path: &str, bytes: &[u8]) -> Result<CaseFile> {
    let text = std::str::from_utf8(bytes).map_err(|_| StoreError::Case {
        path: path.to_string(),
        source: crate::model::case::CaseError::Parse(serde::de::Error::custom("not UTF-8 text")),
    })?;
    let case_error = |source| StoreError::Case {
        path: path.to_string(),
        source,
    };
    let file = CaseFile::from_toml(text).map_err(case_error)?;
    // A file whose [case] id is not its own would show under the wrong ID and be written
    // back to the wrong place.
    if let Some(expected) = crate::model::layout::case_of_path(path) {
        if expected != file.case.id {
            return Err(case_error(crate::model::case::CaseError::WrongId {
                found: file.case.id.to_string(),
                expected: expected.to_string(),
            }));
        }
    }
    Ok(file)
}
