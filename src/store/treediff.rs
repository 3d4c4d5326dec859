//! Which files differ between two trees, without visiting what is equal.
//!
//! Subtrees with equal ids are skipped whole, so one commit in a book of 100k cases costs
//! a few tree reads (the root, `cases/`, one shard), not a walk over every entry as
//! libgit2's general diff does.

use std::collections::BTreeMap;

use git2::{ObjectType, Oid, Repository, Tree};

use super::{GitContext, Result};

/// One file that differs: its path, and its blob (and mode) on each side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileDelta {
    pub path: String,
    pub old: Option<Oid>,
    pub new: Option<Oid>,
    pub new_mode: i32,
}

/// Every file whose blob differs between `a` and `b` (`None`: an empty tree), in path order.
pub(crate) fn diff(
    repo: &Repository,
    a: Option<&Tree<'_>>,
    b: Option<&Tree<'_>>,
) -> Result<Vec<FileDelta>> {
    let mut out = Vec::new();
    walk(repo, a, b, "", &mut out)?;
    Ok(out)
}

#[derive(Clone, Copy)]
struct Entry {
    id: Oid,
    tree: bool,
    mode: i32,
}

fn entries(tree: Option<&Tree<'_>>) -> BTreeMap<String, Entry> {
    let mut map = BTreeMap::new();
    if let Some(tree) = tree {
        for e in tree.iter() {
            let Some(name) = e.name() else { continue };
            let kind = e.kind();
            if !matches!(kind, Some(ObjectType::Tree) | Some(ObjectType::Blob)) {
                continue; // submodules are not casebook's
            }
            map.insert(
                name.to_string(),
                Entry {
                    id: e.id(),
                    tree: kind == Some(ObjectType::Tree),
                    mode: e.filemode(),
                },
            );
        }
    }
    map
}

fn walk(
    repo: &Repository,
    a: Option<&Tree<'_>>,
    b: Option<&Tree<'_>>,
    prefix: &str,
    out: &mut Vec<FileDelta>,
) -> Result<()> {
    let (ea, eb) = (entries(a), entries(b));
    let mut names: Vec<&String> = ea.keys().chain(eb.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let (x, y) = (ea.get(name).copied(), eb.get(name).copied());
        if let (Some(x), Some(y)) = (x, y) {
            if x.id == y.id && x.mode == y.mode {
                continue;
            }
        }
        let path = format!("{prefix}{name}");
        let sub = |e: Option<Entry>| -> Result<Option<Tree<'_>>> {
            match e {
                Some(e) if e.tree => repo
                    .find_tree(e.id)
                    .map(Some)
                    .ctx(|| format!("cannot read {path}/")),
                _ => Ok(None),
            }
        };
        let (ta, tb) = (sub(x)?, sub(y)?);
        if ta.is_some() || tb.is_some() {
            walk(repo, ta.as_ref(), tb.as_ref(), &format!("{path}/"), out)?;
        }
        let blob = |e: Option<Entry>| e.filter(|e| !e.tree);
        let (ba, bb) = (blob(x), blob(y));
        if ba.is_some() || bb.is_some() {
            out.push(FileDelta {
                path,
                old: ba.map(|e| e.id),
                new: bb.map(|e| e.id),
                new_mode: bb.map_or(0, |e| e.mode),
            });
        }
    }
    Ok(())
}
