//! Sharing a case book through a git remote: fetch and push with the system `git` (so SSH
//! config and credential helpers work as for the user's other repositories), merges in the
//! object database with libgit2.
//!
//! A merge takes every path changed on one side only as it is; a path changed on both
//! sides goes to a resolver (casebook merges case files event by event); any other file
//! changed differently on both sides stops the merge with a clear conflict. The merge
//! commit (or fast-forward) is one transaction like every other write ([`super::txn`]):
//! the working tree is updated for the changed paths only, through the journal.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use chrono::{DateTime, Utc};
use git2::{Oid, Tree};

use super::txn::{Change, Content};
use super::{treediff, GitContext, Result, Store, StoreError};
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

fn content_of(blob: Option<Oid>) -> Content {
    blob.map_or(Content::Deleted, Content::Blob)
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

    /// Errors if git has a merge, rebase, cherry-pick, revert or bisect under way here: a
    /// sync on top of it would leave it behind.
    pub fn check_no_operation_in_progress(&self) -> Result<()> {
        use git2::RepositoryState as S;
        let (what, abort) = match self.repo.state() {
            S::Clean => return Ok(()),
            S::Merge => ("a merge", "git merge --abort"),
            S::Revert | S::RevertSequence => ("a revert", "git revert --abort"),
            S::CherryPick | S::CherryPickSequence => ("a cherry-pick", "git cherry-pick --abort"),
            S::Bisect => ("a bisect", "git bisect reset"),
            S::Rebase | S::RebaseInteractive | S::RebaseMerge => ("a rebase", "git rebase --abort"),
            S::ApplyMailbox | S::ApplyMailboxOrRebase => ("a `git am`", "git am --abort"),
        };
        Err(StoreError::InProgress { what, abort })
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
        // The key ring comes in the same round trip, to be merged by
        // [`Store::merge_fetched_keyring`].
        let out = self.git_command(&[
            "fetch",
            "--quiet",
            remote,
            &format!("+refs/heads/*:refs/remotes/{remote}/*"),
            &super::keyring::fetch_refspec(remote),
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

    /// Pushes commit `branch` (when set) to the remote's branch of this name, and the key
    /// ring (when `ring` is set: with a lease, since a key ring is replaced, not
    /// fast-forwarded); `Ok(false)` if the remote moved meanwhile (fetch and merge again).
    /// The commit, not the local branch: the branch may have moved since the caller read it.
    /// Both or neither: a branch that landed while its key ring was refused would give the
    /// remote cases whose keys it does not hold. So the two go in one atomic push, or, to a
    /// remote that cannot take one, the key ring first and the branch only once it landed.
    pub fn push(
        &self,
        remote: &str,
        branch: Option<Oid>,
        ring: Option<super::RingPush>,
    ) -> Result<bool> {
        if branch.is_none() || ring.is_none() {
            return self.push_refs(remote, branch, ring, false);
        }
        match self.push_refs(remote, branch, ring, true) {
            Err(StoreError::Remote { message, .. }) if message.contains("--atomic") => {
                let ring_landed = self.push_refs(remote, None, ring, false)?;
                Ok(ring_landed && self.push_refs(remote, branch, None, false)?)
            }
            pushed => pushed,
        }
    }

    /// One `git push` of what [`Store::push`] is given, `--atomic` if `atomic`.
    fn push_refs(
        &self,
        remote: &str,
        branch: Option<Oid>,
        ring: Option<super::RingPush>,
        atomic: bool,
    ) -> Result<bool> {
        let name = self.branch_name().to_string();
        let mut args: Vec<String> = vec!["push".into(), "--quiet".into(), "--porcelain".into()];
        if atomic {
            args.push("--atomic".into());
        }
        if let Some(ring) = ring {
            let expected = ring.remote.map(|o| o.to_string()).unwrap_or_default();
            args.push(format!(
                "--force-with-lease={}:{expected}",
                super::KEYRING_REF
            ));
        }
        args.push(remote.to_string());
        if let Some(commit) = branch {
            args.push(format!("{commit}:refs/heads/{name}"));
        }
        if let Some(ring) = ring {
            // No `+`: a forced refspec would override the lease.
            args.push(format!("{}:{}", ring.local, super::KEYRING_REF));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = self.git_command(&args)?;
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
        // A key ring whose lease failed ("stale info") was replaced by another clone.
        let seen_first = text.contains("[rejected]")
            && (text.contains("fetch first")
                || text.contains("non-fast-forward")
                || text.contains("stale info"));
        // ("failed to update ref", or in an atomic push "cannot lock ref", then "is at
        // ... but expected ...".)
        let moved_meanwhile = text.contains("[remote rejected]") && text.contains("but expected");
        if seen_first || moved_meanwhile {
            return Ok(false);
        }
        Err(StoreError::Remote {
            action: "push to",
            remote: remote.to_string(),
            message: text.trim().to_string(),
        })
    }

    /// How many commits `ours` (a tip of the local branch) has that `theirs` does not.
    pub fn ahead_of(&self, ours: Option<Oid>, theirs: Option<Oid>) -> Result<usize> {
        let Some(ours) = ours else {
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
        Ok(self.diff(from, to)?.into_keys().collect())
    }

    /// Each changed path and its blob in `to` (`None`: deleted).
    fn diff(&self, from: Option<Oid>, to: Option<Oid>) -> Result<BTreeMap<String, Option<Oid>>> {
        let tree = |c: Option<Oid>| -> Result<Option<Tree<'_>>> {
            c.map(|c| self.repo.find_commit(c).and_then(|c| c.tree()))
                .transpose()
                .ctx(|| "cannot read a tree".into())
        };
        let (a, b) = (tree(from)?, tree(to)?);
        Ok(treediff::diff(&self.repo, a.as_ref(), b.as_ref())?
            .into_iter()
            .map(|d| (d.path, d.new))
            .collect())
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

    /// The content of `path` in `commit`, if it is a file there.
    pub fn file_at(&self, commit: Oid, path: &str) -> Result<Option<Vec<u8>>> {
        let tree = self
            .repo
            .find_commit(commit)
            .and_then(|c| c.tree())
            .ctx(|| format!("cannot read {commit}"))?;
        let Ok(entry) = tree.get_path(Path::new(path)) else {
            return Ok(None);
        };
        self.blob_bytes(Some(entry.id()))
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

    /// Merges commit `theirs` into the branch, as one transaction. `resolve(path, versions)`
    /// decides each path changed differently on both sides and returns the files to write
    /// for it (several, when a case must be renamed); an error from it leaves the branch as
    /// it was.
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
        let (committed, fast_forward) =
            self.transact(actor, now, |snap| -> std::result::Result<_, E> {
                let ours = snap.tip();
                let up_to_date = ours == Some(theirs)
                    || ours
                        .is_some_and(|o| self.repo.graph_descendant_of(o, theirs).unwrap_or(false));
                if up_to_date {
                    return Ok((Change::nothing(), false));
                }
                let fast_forward = match ours {
                    None => true,
                    Some(o) => self
                        .repo
                        .graph_descendant_of(theirs, o)
                        .ctx(|| "cannot compare the branches".into())?,
                };
                if fast_forward {
                    return Ok((Change::fast_forward(theirs), true));
                }
                let ours = ours.expect("not a fast-forward, so there is a local tip");
                let base = self.repo.merge_base(ours, theirs).ok();
                let mine = self.diff(base, Some(ours))?;
                let others = self.diff(base, Some(theirs))?;
                let base_tree = base
                    .map(|c| {
                        self.repo
                            .find_commit(c)
                            .and_then(|c| c.tree())
                            .ctx(|| format!("cannot read {c}"))
                    })
                    .transpose()?;
                // What the merge writes, by path. Paths changed on one side only are taken as
                // they are; the resolver decides paths changed on both. A resolver may also
                // write other paths (a case renamed after an ID collision): when such a path
                // already has another version (in the local tip, from the remote, or from
                // another resolution), the versions are resolved again, so whatever order
                // the paths come in, every version of a case is merged event by event.
                let mut pending: BTreeMap<String, Content> = BTreeMap::new();
                let mut both = Vec::new();
                for (path, blob) in &others {
                    match mine.get(path) {
                        None => {
                            pending.insert(path.clone(), content_of(*blob));
                        }
                        Some(mine) if mine == blob => {}
                        Some(mine) => both.push((path.clone(), *mine, *blob)),
                    }
                }
                let mut queue: Vec<(String, Option<Vec<u8>>)> = Vec::new();
                for (path, mine, blob) in both {
                    let base_blob = base_tree
                        .as_ref()
                        .and_then(|t| t.get_path(Path::new(&path)).ok())
                        .map(|e| e.id());
                    let (b, o, t) = (
                        self.blob_bytes(base_blob)?,
                        self.blob_bytes(mine)?,
                        self.blob_bytes(blob)?,
                    );
                    for (p, content) in resolve(&path, (b.as_deref(), o.as_deref(), t.as_deref()))?
                    {
                        if p == path {
                            pending.insert(p, content.map_or(Content::Deleted, Content::Bytes));
                        } else {
                            queue.push((p, content));
                        }
                    }
                }
                let mut rounds = 0;
                while let Some((path, content)) = queue.pop() {
                    rounds += 1;
                    let existing = match pending.get(&path) {
                        Some(Content::Bytes(b)) => Some(b.clone()),
                        Some(Content::Blob(oid)) => self.blob_bytes(Some(*oid))?,
                        Some(Content::Deleted) => None,
                        None => snap.read(&path)?,
                    };
                    let combined = match (&existing, &content) {
                        (Some(old), Some(new)) if old != new && rounds < 10_000 => {
                            resolve(&path, (None, Some(old), Some(new)))?
                        }
                        _ => vec![(path.clone(), content.clone().or(existing))],
                    };
                    for (p, c) in combined {
                        if p == path {
                            pending.insert(p, c.map_or(Content::Deleted, Content::Bytes));
                        } else {
                            queue.push((p, c));
                        }
                    }
                }
                let mut change = Change::new(message).merging(theirs);
                for (path, content) in pending {
                    change.set(path, content);
                }
                Ok((change, false))
            })?;
        Ok(MergeOutcome {
            commit: committed.commit,
            incoming: committed.paths,
            fast_forward,
        })
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
            .ctx(|| "cannot write .git/config".into())?;
        // The textconv driver for `git log -p` (`.gitattributes`: `diff=casebook`). Its
        // output is never cached: git would keep the opened text in a notes ref.
        config
            .set_str(
                "diff.casebook.textconv",
                &format!("\"{}\" textconv", exe.display()),
            )
            .ctx(|| "cannot write .git/config".into())?;
        config
            .set_bool("diff.casebook.cachetextconv", false)
            .ctx(|| "cannot write .git/config".into())
    }

    /// Whether casebook's merge driver is registered here.
    pub fn has_merge_driver(&self) -> bool {
        self.git_config()
            .is_some_and(|c| c.get_string("merge.casebook.driver").is_ok())
    }
}
