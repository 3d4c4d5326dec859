//! Objects of a write: trees with the changed entries, the commit, and the compare-and-swap
//! that moves the branch. [`super::txn`] puts them together into one transaction.
//!
//! Trees are built bottom-up from the tip's, so every untouched subtree is reused: one case
//! changed in a book of 100k cases writes one blob, three trees and a commit.

use chrono::{DateTime, Utc};
use git2::{ErrorCode, FileMode, Oid, Signature, Time, Tree};

use super::{GitContext, Result, Store};
use crate::model::Actor;

/// How many transactions pass between two looks at whether `git gc --auto` should run
/// (git config `casebook.gcInterval`).
const GC_INTERVAL: i64 = 100;

impl Store {
    /// Applies `entries` (path, blob, or `None` to delete) to `base`; returns the new root.
    /// Every tree written is pushed to `written`.
    pub(crate) fn apply_to_tree(
        &self,
        base: Option<&Tree<'_>>,
        entries: &[(String, Option<Oid>)],
        written: &mut Vec<Oid>,
    ) -> Result<Oid> {
        let mut sorted: Vec<(&str, Option<Oid>)> =
            entries.iter().map(|(p, o)| (p.as_str(), *o)).collect();
        // The last write of a path wins.
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        sorted.dedup_by(|later, earlier| {
            if later.0 == earlier.0 {
                *earlier = *later;
                true
            } else {
                false
            }
        });
        self.insert_into(base, &sorted, "", written)
    }

    /// `entries` are (path relative to this tree, blob), sorted by path.
    fn insert_into(
        &self,
        base: Option<&Tree<'_>>,
        entries: &[(&str, Option<Oid>)],
        at: &str,
        written: &mut Vec<Oid>,
    ) -> Result<Oid> {
        let mut builder = self
            .repo
            .treebuilder(base)
            .ctx(|| format!("cannot build tree {at}/"))?;
        let mut i = 0;
        while i < entries.len() {
            let (path, oid) = entries[i];
            match path.split_once('/') {
                None => {
                    match oid {
                        Some(oid) => {
                            builder
                                .insert(path, oid, FileMode::Blob.into())
                                .ctx(|| format!("cannot add {at}{path}"))?;
                        }
                        None => {
                            if builder
                                .get(path)
                                .ctx(|| format!("cannot look up {at}{path}"))?
                                .is_some()
                            {
                                builder
                                    .remove(path)
                                    .ctx(|| format!("cannot remove {at}{path}"))?;
                            }
                        }
                    }
                    i += 1;
                }
                Some((dir, _)) => {
                    // All entries below `dir` are adjacent because the paths are sorted.
                    let below: Vec<(&str, Option<Oid>)> = entries[i..]
                        .iter()
                        .map_while(|(p, o)| {
                            p.strip_prefix(dir)?
                                .strip_prefix('/')
                                .map(|rest| (rest, *o))
                        })
                        .collect();
                    i += below.len();
                    let sub = match base.and_then(|t| t.get_name(dir)) {
                        Some(e) if e.kind() == Some(git2::ObjectType::Tree) => Some(
                            self.repo
                                .find_tree(e.id())
                                .ctx(|| format!("cannot read {at}{dir}/"))?,
                        ),
                        _ => None,
                    };
                    let sub_id =
                        self.insert_into(sub.as_ref(), &below, &format!("{at}{dir}/"), written)?;
                    // A folder left empty by deletions is no folder in git.
                    let empty = self
                        .repo
                        .find_tree(sub_id)
                        .map(|t| t.is_empty())
                        .unwrap_or(false);
                    if empty {
                        if builder
                            .get(dir)
                            .ctx(|| format!("cannot look up {at}{dir}"))?
                            .is_some()
                        {
                            builder
                                .remove(dir)
                                .ctx(|| format!("cannot remove {at}{dir}/"))?;
                        }
                    } else {
                        builder
                            .insert(dir, sub_id, FileMode::Tree.into())
                            .ctx(|| format!("cannot add {at}{dir}/"))?;
                    }
                }
            }
        }
        let tree = builder.write().ctx(|| format!("cannot write tree {at}/"))?;
        written.push(tree);
        Ok(tree)
    }

    pub(crate) fn write_commit(
        &self,
        parents: &[Oid],
        tree: Oid,
        message: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Oid> {
        let sig = Signature::new(&actor.name, &actor.email, &Time::new(now.timestamp(), 0))
            .ctx(|| format!("cannot use {actor} as a git author"))?;
        let tree = self
            .repo
            .find_tree(tree)
            .ctx(|| "cannot read the new tree".into())?;
        // Parents are looked up through this handle: libgit2 ignores a parent object that
        // belongs to another handle (the packing one of a bulk write).
        let parents = parents
            .iter()
            .map(|&p| {
                self.repo
                    .find_commit(p)
                    .ctx(|| format!("cannot read commit {p}"))
            })
            .collect::<Result<Vec<_>>>()?;
        let parents: Vec<_> = parents.iter().collect();
        self.repo
            .commit(None, &sig, &sig, message, &tree, &parents)
            .ctx(|| "cannot write the commit".into())
    }

    /// Compare-and-swap: moves the branch from `old` to `new`. `Ok(false)` if it was moved
    /// (or is being moved) by someone else.
    pub(crate) fn move_branch(&self, old: Option<Oid>, new: Oid, subject: &str) -> Result<bool> {
        let result = match old {
            Some(old) => self.repo.reference_matching(
                &self.branch,
                new,
                true,
                old,
                &format!("casebook: {subject}"),
            ),
            None => self
                .repo
                .reference(&self.branch, new, false, &format!("casebook: {subject}")),
        };
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.code() == ErrorCode::Locked => {
                // Another git process is moving the branch right now, or died doing it.
                super::locks::check_ref_lock(self)?;
                Ok(false)
            }
            Err(e) if matches!(e.code(), ErrorCode::Modified | ErrorCode::Exists) => Ok(false),
            Err(e) => Err(e).ctx(|| format!("cannot move {}", self.branch)),
        }
    }

    /// libgit2 never packs; each action adds a few loose objects. Once every
    /// `casebook.gcInterval` transactions (default 100), if git's own heuristic would pack
    /// (more than `gc.auto` ≈ 6700 loose objects, estimated from one fan-out folder as git
    /// does), start `git gc --auto` detached: in its own process group (a Ctrl-C in the
    /// terminal does not reach it), with no terminal, and `--no-detach` so git writes no
    /// `gc.log` that would stop later automatic runs. The orphan is reaped by init.
    pub(crate) fn housekeeping(&self) {
        let counter = self.repo.path().join("casebook.gc-count");
        let count: i64 = std::fs::read_to_string(&counter)
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0)
            + 1;
        let config = self.git_config();
        let interval = config
            .as_ref()
            .and_then(|c| c.get_i64("casebook.gcInterval").ok())
            .unwrap_or(GC_INTERVAL)
            .max(1);
        if count < interval {
            let _ = std::fs::write(&counter, count.to_string());
            return;
        }
        let _ = std::fs::write(&counter, "0");
        let limit = config
            .as_ref()
            .and_then(|c| c.get_i64("gc.auto").ok())
            .unwrap_or(6700);
        if limit <= 0 {
            return;
        }
        let sample = self.repo.path().join("objects").join("17");
        let loose = std::fs::read_dir(sample).map(|d| d.count()).unwrap_or(0) as i64;
        if loose <= (limit + 255) / 256 {
            return;
        }
        let mut cmd = std::process::Command::new("git");
        cmd.arg("--git-dir")
            .arg(self.repo.path())
            .args(["gc", "--auto", "--quiet", "--no-detach"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let _ = cmd.spawn();
    }
}
