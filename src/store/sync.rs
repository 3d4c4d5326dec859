//! Sharing a case book through a git remote: fetch and push with the system `git` (so SSH
//! config and credential helpers work as for the user's other repositories), merges in the
//! object database with libgit2.
//!
//! A merge takes every path changed on one side only as it is; a path changed on both
//! sides goes to a resolver (casebook merges case files event by event); any other file
//! changed differently on both sides stops the merge with a clear conflict. The merge
//! commit moves the branch by compare-and-swap like every other write, and the working
//! tree is updated for the changed paths only.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use chrono::{DateTime, Utc};
use git2::{Delta, Oid, Tree};

use super::worktree::Worktree;
use super::{GitContext, Result, Store, StoreError};
use crate::model::Actor;

/// What a merge changed: paths on each side, relative to the merge base.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MergeOutcome {
    /// Paths that changed in the local branch because of the merge.
    pub incoming: Vec<String>,
    /// The new commit (a merge, or the remote tip after a fast-forward); `None` if up to date.
    pub commit: Option<Oid>,
    pub fast_forward: bool,
}

/// A file's three versions in a merge: (base, ours, theirs).
pub type Versions<'a> = (Option<&'a [u8]>, Option<&'a [u8]>, Option<&'a [u8]>);

impl Store {
    /// Runs the system `git` in this repository.
    pub fn git_command(&self, args: &[&str]) -> Result<std::process::Output> {
        Command::new("git")
            .arg("-C")
            .arg(self.root())
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|source| StoreError::Io {
                action: "run git in",
                path: self.root().to_path_buf(),
                source,
            })
    }

    /// The remote this branch tracks (`branch.<name>.remote`), if any.
    pub fn upstream_remote(&self) -> Option<String> {
        let config = self.repo.config().ok()?;
        config
            .get_string(&format!("branch.{}.remote", self.branch_name()))
            .ok()
    }

    /// Fetches this branch from `remote` into `refs/remotes/<remote>/<branch>`; returns
    /// that ref's tip, `None` if the remote does not have the branch yet.
    pub fn fetch(&self, remote: &str) -> Result<Option<Oid>> {
        let branch = self.branch_name().to_string();
        let tracking = format!("refs/remotes/{remote}/{branch}");
        let out = self.git_command(&[
            "fetch",
            "--quiet",
            remote,
            &format!("+refs/heads/*:refs/remotes/{remote}/*"),
        ])?;
        if !out.status.success() {
            return Err(StoreError::Remote {
                action: "fetch from",
                remote: remote.to_string(),
                message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        match self.repo.refname_to_id(&tracking) {
            Ok(oid) => Ok(Some(oid)),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e).ctx(|| format!("cannot read {tracking}")),
        }
    }

    /// Pushes the branch; `Ok(false)` if the remote moved meanwhile (fetch and merge again).
    pub fn push(&self, remote: &str) -> Result<bool> {
        let branch = self.branch_name().to_string();
        let out = self.git_command(&[
            "push",
            "--quiet",
            "--porcelain",
            remote,
            &format!("refs/heads/{branch}:refs/heads/{branch}"),
        ])?;
        if out.status.success() {
            return Ok(true);
        }
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // The remote moved since the fetch: either git saw it first ("fetch first",
        // "non-fast-forward"), or it moved while this push was under way (the remote could
        // not move its branch from the value the push expected). Both mean: fetch, merge,
        // try again.
        let seen_first = text.contains("[rejected]")
            && (text.contains("fetch first") || text.contains("non-fast-forward"));
        let moved_meanwhile = text.contains("[remote rejected]")
            && text.contains("failed to update ref")
            && text.contains("but expected");
        if seen_first || moved_meanwhile {
            return Ok(false);
        }
        Err(StoreError::Remote {
            action: "push to",
            remote: remote.to_string(),
            message: text.trim().to_string(),
        })
    }

    /// How many commits the local branch has that `theirs` does not.
    pub fn ahead_of(&self, theirs: Option<Oid>) -> Result<usize> {
        let Some(ours) = self.snapshot()?.tip() else {
            return Ok(0);
        };
        let Some(theirs) = theirs else {
            // The remote has no such branch yet: everything goes out.
            let mut walk = self
                .repo
                .revwalk()
                .ctx(|| "cannot walk the history".into())?;
            walk.push(ours).ctx(|| "cannot walk the history".into())?;
            return Ok(walk.count());
        };
        let (ahead, _) = self
            .repo
            .graph_ahead_behind(ours, theirs)
            .ctx(|| "cannot compare the branches".into())?;
        Ok(ahead)
    }

    /// Paths whose content differs between two commits (`None`: an empty tree).
    pub fn changed_paths(&self, from: Option<Oid>, to: Option<Oid>) -> Result<Vec<String>> {
        let tree = |c: Option<Oid>| -> Result<Option<Tree<'_>>> {
            c.map(|c| self.repo.find_commit(c).and_then(|c| c.tree()))
                .transpose()
                .ctx(|| "cannot read a tree".into())
        };
        Ok(self
            .diff(tree(from)?.as_ref(), tree(to)?.as_ref())?
            .into_keys()
            .collect())
    }

    fn diff(
        &self,
        a: Option<&Tree<'_>>,
        b: Option<&Tree<'_>>,
    ) -> Result<BTreeMap<String, Option<Oid>>> {
        let diff = self
            .repo
            .diff_tree_to_tree(a, b, None)
            .ctx(|| "cannot compare trees".into())?;
        let mut out = BTreeMap::new();
        for delta in diff.deltas() {
            let path = delta
                .new_file()
                .path()
                .or(delta.old_file().path())
                .map(|p| p.to_string_lossy().into_owned());
            if let Some(path) = path {
                let blob = (delta.status() != Delta::Deleted).then(|| delta.new_file().id());
                out.insert(path, blob);
            }
        }
        Ok(out)
    }

    /// Whether `path` is a file in `commit`.
    pub fn path_exists_at(&self, commit: Oid, path: &str) -> Result<bool> {
        let tree = self
            .repo
            .find_commit(commit)
            .and_then(|c| c.tree())
            .ctx(|| format!("cannot read {commit}"))?;
        Ok(tree.get_path(Path::new(path)).is_ok())
    }

    fn blob_bytes(&self, oid: Option<Oid>) -> Result<Option<Vec<u8>>> {
        oid.map(|o| {
            self.repo
                .find_blob(o)
                .map(|b| b.content().to_vec())
                .ctx(|| format!("cannot read blob {o}"))
        })
        .transpose()
    }

    /// Merges commit `theirs` into the branch. `resolve(path, versions)` decides each path
    /// changed differently on both sides and returns the files to write for it (several,
    /// when a case must be renamed); an error from it leaves the branch as it was.
    pub fn merge_from<E: From<StoreError>>(
        &self,
        theirs: Oid,
        message: &str,
        actor: &Actor,
        now: DateTime<Utc>,
        mut resolve: impl FnMut(
            &str,
            Versions<'_>,
        ) -> std::result::Result<Vec<(String, Option<Vec<u8>>)>, E>,
    ) -> std::result::Result<MergeOutcome, E> {
        let mut worktree = Worktree::lock(self)?;
        for _ in 0..16 {
            let snap = self.snapshot()?;
            let ours = snap.tip();
            if ours == Some(theirs)
                || ours.is_some_and(|o| self.repo.graph_descendant_of(o, theirs).unwrap_or(false))
            {
                return Ok(MergeOutcome::default());
            }
            let fast_forward = match ours {
                None => true,
                Some(o) => self
                    .repo
                    .graph_descendant_of(theirs, o)
                    .ctx(|| "cannot compare the branches".into())?,
            };
            let (target, incoming) = if fast_forward {
                (theirs, self.changed_paths(ours, Some(theirs))?)
            } else {
                let ours = ours.expect("not a fast-forward, so there is a local tip");
                let base = self.repo.merge_base(ours, theirs).ok();
                let tree_of = |c: Oid| {
                    self.repo
                        .find_commit(c)
                        .and_then(|c| c.tree())
                        .ctx(|| format!("cannot read {c}"))
                };
                let base_tree = base.map(tree_of).transpose()?;
                let ours_tree = tree_of(ours)?;
                let theirs_tree = tree_of(theirs)?;
                let mine = self.diff(base_tree.as_ref(), Some(&ours_tree))?;
                let others = self.diff(base_tree.as_ref(), Some(&theirs_tree))?;
                let mut entries: Vec<(String, Option<Oid>)> = Vec::new();
                for (path, blob) in &others {
                    match mine.get(path) {
                        None => entries.push((path.clone(), *blob)),
                        Some(mine) if mine == blob => {}
                        Some(mine) => {
                            let base_blob = base_tree
                                .as_ref()
                                .and_then(|t| t.get_path(Path::new(path)).ok())
                                .map(|e| e.id());
                            let (b, o, t) = (
                                self.blob_bytes(base_blob)?,
                                self.blob_bytes(*mine)?,
                                self.blob_bytes(*blob)?,
                            );
                            for (p, content) in
                                resolve(path, (b.as_deref(), o.as_deref(), t.as_deref()))?
                            {
                                let oid = content
                                    .map(|c| self.repo.blob(&c).ctx(|| format!("cannot write {p}")))
                                    .transpose()?;
                                entries.push((p, oid));
                            }
                        }
                    }
                }
                let tree = self.apply_to_tree(Some(&ours_tree), &entries)?;
                let tree = self
                    .repo
                    .find_tree(tree)
                    .ctx(|| "cannot read the merged tree".into())?;
                let sig = git2::Signature::new(
                    &actor.name,
                    &actor.email,
                    &git2::Time::new(now.timestamp(), 0),
                )
                .ctx(|| format!("cannot use {actor} as a git author"))?;
                let parents = [
                    &self
                        .repo
                        .find_commit(ours)
                        .ctx(|| "cannot read our tip".into())?,
                    &self
                        .repo
                        .find_commit(theirs)
                        .ctx(|| "cannot read their tip".into())?,
                ];
                let commit = self
                    .repo
                    .commit(None, &sig, &sig, message, &tree, &parents)
                    .ctx(|| "cannot write the merge".into())?;
                let incoming = entries.into_iter().map(|(p, _)| p).collect();
                (commit, incoming)
            };
            if let Some(wt) = worktree.as_mut() {
                wt.check_untouched(&snap, incoming.iter().map(String::as_str))?;
            }
            if self.move_branch(ours, target, message)? {
                if let Some(wt) = worktree.as_mut() {
                    wt.sync(self, incoming.iter().map(String::as_str))?;
                }
                return Ok(MergeOutcome {
                    incoming,
                    commit: Some(target),
                    fast_forward,
                });
            }
        }
        Err(StoreError::Contention {
            branch: self.branch_name().to_string(),
            attempts: 16,
        }
        .into())
    }

    /// git's own three-way merge of a text file (`git merge-file`); `None` on a conflict.
    pub fn merge_text(
        &self,
        base: Option<&[u8]>,
        ours: &[u8],
        theirs: &[u8],
    ) -> Result<Option<Vec<u8>>> {
        let dir = tempfile::tempdir().map_err(|source| StoreError::Io {
            action: "create a folder for",
            path: "a text merge".into(),
            source,
        })?;
        let write = |name: &str, bytes: &[u8]| -> Result<std::path::PathBuf> {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).map_err(|source| StoreError::Io {
                action: "write",
                path: path.clone(),
                source,
            })?;
            Ok(path)
        };
        let (o, b, t) = (
            write("ours", ours)?,
            write("base", base.unwrap_or_default())?,
            write("theirs", theirs)?,
        );
        let out = Command::new("git")
            .args(["merge-file", "-p", "--quiet"])
            .args([&o, &b, &t])
            .output()
            .map_err(|source| StoreError::Io {
                action: "run git merge-file on",
                path: o.clone(),
                source,
            })?;
        // The exit code is the number of conflicts (negative on errors).
        Ok((out.status.code() == Some(0)).then_some(out.stdout))
    }

    /// Registers casebook's merge driver in this repository's git config, so `git pull` and
    /// `git merge` merge case files event by event (`.gitattributes` routes them to it).
    pub fn register_merge_driver(&self, exe: &Path) -> Result<()> {
        // Setting on the repository's config writes its own file (.git/config).
        let mut config = self
            .repo
            .config()
            .ctx(|| "cannot open the git config".into())?;
        config
            .set_str(
                "merge.casebook.name",
                "casebook: merge case files event by event",
            )
            .ctx(|| "cannot write .git/config".into())?;
        let driver = format!("\"{}\" merge-driver %O %A %B %P", exe.display());
        config
            .set_str("merge.casebook.driver", &driver)
            .ctx(|| "cannot write .git/config".into())
    }

    /// Whether casebook's merge driver is registered here.
    pub fn has_merge_driver(&self) -> bool {
        self.git_config()
            .is_some_and(|c| c.get_string("merge.casebook.driver").is_ok())
    }
}
