//! Reading a key ring lazily: [`RingAt`] is the ring at one commit, whose buckets are read
//! when asked; [`Edit`] a change in the making over one; [`RingReader`] what `show` and
//! actions look keys up in. The ref and writing are in `super::keyring`.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use git2::{Oid, Repository, Tree};

use super::keyring::{ERASED, FORMAT_1_FILE, HEADER, KEYS};
use super::pending::PendingText;
use super::{GitContext, Result, Store, StoreError, KEYRING_REF};
use crate::model::id::in_alphabet;
use crate::model::keyring::{
    bucket_of, is_bucket_name, Bucket, Header, KeyRing, PseudonymSecret, FORMAT,
};
use crate::model::seal::{Keys, Lookup};

/// How a ring commit keeps its keys.
pub(super) enum Layout<'r> {
    /// Formats 2 and 3: buckets under `keys/` and `erased/` (either folder may be absent),
    /// `keys/<b1b2>` in format 2, `keys/<b1>/<b2>` in format 3 (`nested`).
    Buckets {
        keys: Option<Tree<'r>>,
        erased: Option<Tree<'r>>,
        nested: bool,
    },
    /// Format 1: one `keyring.toml`, read whole.
    Format1(KeyRing),
}

impl Layout<'_> {
    /// Whether this is the layout this casebook writes (format 3).
    pub(super) fn is_current(&self) -> bool {
        matches!(self, Layout::Buckets { nested: true, .. })
    }
}

/// Where bucket `name` is kept in `folder` (`keys` or `erased`) of a format 3 ring:
/// `<folder>/<b1>/<b2>`.
pub(super) fn bucket_path(folder: &str, name: &str) -> String {
    format!("{folder}/{}/{}", &name[..1], &name[1..])
}

/// The ring at one commit: its header read, a bucket read when asked.
pub(super) struct RingAt<'r> {
    repo: &'r Repository,
    pub(super) commit: Oid,
    pub(super) tree: Tree<'r>,
    pub(super) header: Header,
    pub(super) layout: Layout<'r>,
}

fn unreadable(e: crate::model::keyring::KeyringError) -> StoreError {
    StoreError::Keyring(format!("{KEYRING_REF}: {e}"))
}

impl<'r> RingAt<'r> {
    pub(super) fn open(repo: &'r Repository, commit: Oid) -> Result<RingAt<'r>> {
        let c = repo
            .find_commit(commit)
            .ctx(|| format!("cannot read the key ring commit {commit}"))?;
        let tree = c.tree().ctx(|| "cannot read the key ring's tree".into())?;
        let read_blob = |name: &str, oid: Oid| {
            repo.find_blob(oid)
                .ctx(|| format!("cannot read {name} of the key ring"))
        };
        let subtree = |name: &str| -> Result<Option<Tree<'r>>> {
            tree.get_name(name)
                .map(|e| {
                    repo.find_tree(e.id())
                        .ctx(|| format!("cannot read {name}/ of the key ring"))
                })
                .transpose()
        };
        let (header, layout) = if let Some(e) = tree.get_name(HEADER) {
            let (format, header) = Header::parse_with_format(read_blob(HEADER, e.id())?.content())
                .map_err(unreadable)?;
            let layout = Layout::Buckets {
                keys: subtree(KEYS)?,
                erased: subtree(ERASED)?,
                nested: format == FORMAT,
            };
            (header, layout)
        } else if let Some(e) = tree.get_name(FORMAT_1_FILE) {
            let ring =
                KeyRing::parse(read_blob(FORMAT_1_FILE, e.id())?.content()).map_err(unreadable)?;
            (ring.header(), Layout::Format1(ring))
        } else {
            return Err(StoreError::Keyring(format!(
                "{KEYRING_REF} ({commit}) has neither {HEADER} nor {FORMAT_1_FILE}"
            )));
        };
        Ok(RingAt {
            repo,
            commit,
            tree,
            header,
            layout,
        })
    }

    /// The blobs of bucket `name`: its keys and its erased ids (formats 2 and 3 only).
    pub(super) fn bucket_oids(&self, name: &str) -> Result<(Option<Oid>, Option<Oid>)> {
        let Layout::Buckets {
            keys,
            erased,
            nested,
        } = &self.layout
        else {
            return Ok((None, None));
        };
        let at = |folder: &str, t: &Option<Tree<'r>>| -> Result<Option<Oid>> {
            let Some(t) = t else { return Ok(None) };
            if !*nested {
                return Ok(t.get_name(name).map(|e| e.id()));
            }
            if !is_bucket_name(name) {
                return Ok(None);
            }
            let Some(sub) = t.get_name(&name[..1]) else {
                return Ok(None);
            };
            let sub = self
                .repo
                .find_tree(sub.id())
                .ctx(|| format!("cannot read {folder}/{}/ of the key ring", &name[..1]))?;
            Ok(sub.get_name(&name[1..]).map(|e| e.id()))
        };
        Ok((at(KEYS, keys)?, at(ERASED, erased)?))
    }

    /// The texts of bucket `name`'s `keys/` and `erased/` blobs (empty when absent;
    /// formats 2 and 3 only).
    fn bucket_texts(&self, name: &str) -> Result<BucketTexts> {
        let (keys, erased) = self.bucket_oids(name)?;
        let read = |folder: &str, oid: Option<Oid>| -> Result<Vec<u8>> {
            let Some(oid) = oid else {
                return Ok(Vec::new());
            };
            self.repo
                .find_blob(oid)
                .map(|b| b.content().to_vec())
                .ctx(|| format!("cannot read {folder}/{name} of the key ring"))
        };
        Ok((read(KEYS, keys)?, read(ERASED, erased)?))
    }

    pub(super) fn bucket(&self, name: &str) -> Result<Bucket> {
        match &self.layout {
            Layout::Format1(ring) => Ok(ring.buckets().get(name).cloned().unwrap_or_default()),
            Layout::Buckets { .. } => {
                let (keys, erased) = self.bucket_texts(name)?;
                Bucket::parse(name, &keys, &erased).map_err(unreadable)
            }
        }
    }

    /// The names of the buckets that have keys or erased ids.
    pub(super) fn bucket_names(&self) -> Result<BTreeSet<String>> {
        match &self.layout {
            Layout::Format1(ring) => Ok(ring.buckets().keys().cloned().collect()),
            Layout::Buckets {
                keys,
                erased,
                nested: false,
            } => Ok([keys, erased]
                .into_iter()
                .flatten()
                .flat_map(|t| t.iter())
                .filter_map(|e| e.name().map(str::to_string))
                .filter(|n| is_bucket_name(n))
                .collect()),
            Layout::Buckets {
                keys,
                erased,
                nested: true,
            } => {
                let mut names = BTreeSet::new();
                for (folder, tree) in [(KEYS, keys), (ERASED, erased)] {
                    let Some(tree) = tree else { continue };
                    for e in tree.iter() {
                        let Some(b1) = e.name().filter(|n| n.len() == 1) else {
                            continue;
                        };
                        if !in_alphabet(b1.as_bytes()[0]) {
                            continue;
                        }
                        let sub = self
                            .repo
                            .find_tree(e.id())
                            .ctx(|| format!("cannot read {folder}/{b1}/ of the key ring"))?;
                        names.extend(
                            sub.iter()
                                .filter_map(|e| e.name().map(|b2| format!("{b1}{b2}")))
                                .filter(|n| is_bucket_name(n)),
                        );
                    }
                }
                Ok(names)
            }
        }
    }

    /// The whole ring, every bucket read.
    pub(super) fn whole(&self) -> Result<KeyRing> {
        if let Layout::Format1(ring) = &self.layout {
            return Ok(ring.clone());
        }
        let mut buckets = Vec::new();
        for name in self.bucket_names()? {
            let bucket = self.bucket(&name)?;
            buckets.push((name, bucket));
        }
        Ok(KeyRing::from_parts(buckets, self.header.pseudonyms.clone()))
    }
}

/// A change of the ring in the making: the buckets read so far, each as read and as
/// changed, over the ring it started from.
pub(super) struct Edit<'r> {
    pub(super) base: Option<RingAt<'r>>,
    pub(super) pseudonyms: Option<PseudonymSecret>,
    pub(super) buckets: BTreeMap<String, (Bucket, Bucket)>,
}

impl<'r> Edit<'r> {
    pub(super) fn new(base: Option<RingAt<'r>>) -> Edit<'r> {
        Edit {
            pseudonyms: base.as_ref().and_then(|b| b.header.pseudonyms.clone()),
            base,
            buckets: BTreeMap::new(),
        }
    }

    /// Bucket `name`, to change; read from the base ring the first time.
    pub(super) fn bucket(&mut self, name: &str) -> Result<&mut Bucket> {
        if !self.buckets.contains_key(name) {
            let read = match &self.base {
                Some(base) => base.bucket(name)?,
                None => Bucket::default(),
            };
            self.buckets.insert(name.to_string(), (read.clone(), read));
        }
        Ok(&mut self.buckets.get_mut(name).expect("just read").1)
    }

    pub(super) fn load_all(&mut self) -> Result<()> {
        let names = match &self.base {
            Some(base) => base.bucket_names()?,
            None => BTreeSet::new(),
        };
        for name in names {
            self.bucket(&name)?;
        }
        Ok(())
    }

    /// The ring as changed so far (whole only after [`Edit::load_all`]).
    pub(super) fn ring(&self) -> KeyRing {
        KeyRing::from_parts(
            self.buckets
                .iter()
                .map(|(name, (_, new))| (name.clone(), new.clone())),
            self.pseudonyms.clone(),
        )
    }

    /// Makes the ring `ring` (after [`Edit::load_all`]).
    pub(super) fn set_ring(&mut self, ring: &KeyRing) {
        for (_, new) in self.buckets.values_mut() {
            *new = Bucket::default();
        }
        for (name, bucket) in ring.buckets() {
            self.buckets
                .entry(name.clone())
                .or_insert_with(|| (Bucket::default(), Bucket::default()))
                .1 = bucket.clone();
        }
        self.pseudonyms = ring.pseudonym_secret().cloned();
    }

    pub(super) fn changed(&self) -> bool {
        self.pseudonyms != self.base.as_ref().and_then(|b| b.header.pseudonyms.clone())
            || self.buckets.values().any(|(old, new)| old != new)
    }

    /// Whether a key the base ring had is gone.
    pub(super) fn removed_a_key(&self) -> bool {
        self.buckets
            .values()
            .any(|(old, new)| old.keys().any(|k| !new.has(&k.id)))
    }
}

/// The texts of a bucket's `keys/<bb>` and `erased/<bb>` (empty when absent).
type BucketTexts = (Vec<u8>, Vec<u8>);

/// This clone's key ring for looking keys up (see [`Store::ring_reader`]): reads a bucket
/// the first time a key of it is looked up, and keeps its text; a lookup parses only the
/// key's line. Should the ring be replaced and its objects deleted meanwhile, it reads the
/// new one. A key the ring does not know may be pending ([`super::pending`]), read before
/// the ring was.
pub struct RingReader<'s> {
    store: &'s Store,
    ring: RefCell<Option<RingAt<'s>>>,
    cache: RefCell<HashMap<String, BucketTexts>>,
    pending: PendingText,
}

impl<'s> RingReader<'s> {
    pub(super) fn new(
        store: &'s Store,
        ring: Option<RingAt<'s>>,
        pending: PendingText,
    ) -> RingReader<'s> {
        RingReader {
            store,
            ring: RefCell::new(ring),
            cache: RefCell::new(HashMap::new()),
            pending,
        }
    }

    /// Whether this clone has a key ring at all (`false`: none was made or fetched, so a
    /// missing key may well be in another clone's).
    pub fn exists(&self) -> bool {
        self.ring.borrow().is_some() || !self.pending.is_empty()
    }

    /// The book's pseudonym secret, if the ring has one (reading never makes one).
    pub fn pseudonym_secret(&self) -> Option<PseudonymSecret> {
        self.ring
            .borrow()
            .as_ref()
            .and_then(|r| r.header.pseudonyms.clone())
    }

    /// What the ring and the pending keys know about `key_id`, or why the ring cannot be
    /// read. The ring's word comes first: an id it erased stays erased.
    pub fn get(&self, key_id: &str) -> Result<Lookup> {
        match self.get_in_ring(key_id)? {
            Lookup::Unknown => self.pending.lookup(key_id),
            found => Ok(found),
        }
    }

    fn get_in_ring(&self, key_id: &str) -> Result<Lookup> {
        let Some(name) = bucket_of(key_id) else {
            return Ok(Lookup::Unknown);
        };
        if let Some((keys, erased)) = self.cache.borrow().get(name) {
            return Bucket::find(name, keys, erased, key_id).map_err(unreadable);
        }
        let read = {
            let ring = self.ring.borrow();
            let Some(ring) = ring.as_ref() else {
                return Ok(Lookup::Unknown);
            };
            if let Layout::Format1(whole) = &ring.layout {
                return Ok(whole.lookup(key_id));
            }
            ring.bucket_texts(name).map_err(|e| (e, ring.commit))
        };
        let texts = match read {
            Ok(texts) => texts,
            Err((e, commit)) => {
                // Replaced and deleted meanwhile? Then read the new ring.
                match self.store.ring_tip(KEYRING_REF)? {
                    Some(tip) if tip != commit => {
                        self.cache.borrow_mut().clear();
                        *self.ring.borrow_mut() = Some(self.store.open_ring(tip)?);
                        return self.get_in_ring(key_id);
                    }
                    _ => return Err(e),
                }
            }
        };
        let found = Bucket::find(name, &texts.0, &texts.1, key_id).map_err(unreadable);
        self.cache.borrow_mut().insert(name.to_string(), texts);
        found
    }
}

impl Keys for RingReader<'_> {
    /// A ring that cannot be read knows no key: the value reads as missing its key.
    fn lookup(&self, key_id: &str) -> Lookup {
        self.get(key_id).unwrap_or(Lookup::Unknown)
    }
}
