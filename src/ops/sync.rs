//! `sync`, `clone`, `setup` and the git merge driver: one case book across many machines.

use std::path::Path;

use super::{Casebook, Context};
use crate::error::{Error, Result};
use crate::model::merge::{merge, MergeError};
use crate::model::{CaseFile, CaseId};
use crate::store::{keyed_hash, RetryPolicy, Store, StoreError, Versions};

/// How sync fetches, merges and pushes again when another clone pushed first: with
/// backoff and jitter, for a bounded time.
const PUSH_RETRY: RetryPolicy = RetryPolicy {
    attempts: 12,
    first: std::time::Duration::from_millis(50),
    cap: std::time::Duration::from_secs(2),
    deadline: std::time::Duration::from_secs(60),
};

/// What a sync did.
#[derive(Debug, Clone, Default)]
pub struct SyncReport {
    pub remote: String,
    /// Cases changed locally by what came in, and which of them are new here.
    pub incoming: Vec<CaseId>,
    pub new_cases: Vec<CaseId>,
    /// Local commits the remote did not have, and the cases they touched.
    pub outgoing_commits: usize,
    pub outgoing: Vec<CaseId>,
    /// Cases renamed because both sides had created the same ID: (old, new).
    pub renamed: Vec<(CaseId, CaseId)>,
    pub pushed: bool,
    /// Whether this clone's key ring went to the remote (it had changed here).
    pub keyring_pushed: bool,
    /// Cases of customers another clone erased that were made here without its knowing:
    /// their personal data is erased here too (an `erase` event each).
    pub erased: Vec<CaseId>,
    /// How many fetch–merge–push rounds it took (more than one when another clone pushed
    /// in between).
    pub attempts: u32,
}

fn case_of(path: &str) -> Option<CaseId> {
    crate::model::layout::case_of_path(path)
}

impl Casebook {
    /// Fetches from `remote` (default: the branch's upstream, else `origin`), merges case
    /// by case, and pushes; if the push is rejected because the remote moved, again.
    pub fn sync(&self, ctx: &Context, remote: Option<&str>) -> Result<SyncReport> {
        let store = &self.store;
        store.check_no_operation_in_progress()?;
        let remote = remote
            .map(String::from)
            .or_else(|| store.upstream_remote())
            .unwrap_or_else(|| "origin".into());
        let mut report = SyncReport {
            remote: remote.clone(),
            ..Default::default()
        };
        let started = std::time::Instant::now();
        let mut attempt = 0;
        loop {
            report.attempts = attempt + 1;
            let before = store.snapshot()?.tip();
            let theirs = store.fetch(&remote)?;
            if let Some(theirs) = theirs {
                let message = format!(
                    "casebook sync: merge {remote}/{}\n\nAction: sync\nActor: {}\n",
                    store.branch_name(),
                    ctx.actor
                );
                let renamed = std::cell::RefCell::new(Vec::new());
                let outcome =
                    store.merge_from(theirs, &message, &ctx.actor, ctx.now, |path, versions| {
                        resolve(store, path, versions, &renamed)
                    })?;
                report.renamed.extend(renamed.into_inner());
                for path in &outcome.incoming {
                    if let Some(id) = case_of(path) {
                        if !report.incoming.contains(&id) {
                            report.incoming.push(id.clone());
                        }
                        let existed = match before {
                            Some(commit) => store.path_exists_at(commit, path)?,
                            None => false,
                        };
                        if !existed && !report.new_cases.contains(&id) {
                            report.new_cases.push(id);
                        }
                    }
                }
            }
            // The branch goes out as it is now: a case written from here on may have keys
            // that the key ring read below does not hold yet (they are pending before its
            // commit lands), so a later tip would reach the remote ahead of its keys.
            let tip = store.snapshot()?.tip();
            crate::store::fault_point("sync-before-ring-merge");
            // The key ring goes with the branch: merged, and pushed when the remote's differs.
            let ring = self.merge_fetched_ring(&remote, ctx.now)?;
            // Its erasure of a customer reaches the cases of that customer made here too;
            // the round then starts again, to push what that recorded.
            let erased = self.erase_what_was_erased_elsewhere(ctx)?;
            if !erased.is_empty() {
                report.erased.extend(erased);
                continue;
            }
            report.outgoing_commits = store.ahead_of(tip, theirs)?;
            if report.outgoing_commits == 0 && ring.is_none() {
                return Ok(report);
            }
            report.outgoing = store
                .changed_paths(theirs, tip)?
                .iter()
                .filter_map(|p| case_of(p))
                .collect();
            let branch = tip.filter(|_| report.outgoing_commits > 0);
            // A Ctrl-C during the merge's commit: the merge is recorded, nothing goes out.
            crate::store::stop_if_interrupted();
            if store.push(&remote, branch, ring)? {
                report.pushed = true;
                report.keyring_pushed = ring.is_some();
                return Ok(report);
            }
            if !PUSH_RETRY.wait(attempt, started) {
                return Err(Error::Store(StoreError::Contention {
                    branch: format!("{remote}/{}", store.branch_name()),
                    attempts: attempt + 1,
                }));
            }
            attempt += 1;
        }
    }

    /// Merges the key ring fetched from `remote` ([`Store::merge_fetched_keyring`]); returns
    /// what to push. Keys another clone erased are purged from the index too, which held
    /// what they opened.
    fn merge_fetched_ring(
        &self,
        remote: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<crate::store::RingPush>> {
        let erased_before = self.store.erased_version()?;
        let ring = self.store.merge_fetched_keyring(remote, now)?;
        if self.store.erased_version()? != erased_before {
            self.store.purge_index();
        }
        Ok(ring)
    }

    /// Merges a key ring that a `sync` fetched and did not merge, stopped in between (its
    /// fetched copy is still there): the cases that sync brought in are sealed with keys
    /// only that ring has. What to push is left to the next sync, which compares with the
    /// remote as it is then.
    pub(crate) fn finish_ring_merge(&self) -> Result<()> {
        for remote in self.store.unmerged_fetched_rings() {
            self.merge_fetched_ring(&remote, chrono::Utc::now())?;
        }
        Ok(())
    }

    /// Clones a case book with the system git and registers the merge driver.
    pub fn clone_from(url: &str, dir: &Path, bare: bool, exe: &Path) -> Result<Casebook> {
        let mut cmd = std::process::Command::new("git");
        cmd.arg("clone").arg("--quiet");
        if bare {
            cmd.arg("--bare");
        }
        let out = cmd.arg(url).arg(dir).output().map_err(|source| Error::Io {
            action: "run git clone into",
            path: dir.to_path_buf(),
            source,
        })?;
        if !out.status.success() {
            return Err(Error::Store(StoreError::Remote {
                action: "clone",
                remote: url.to_string(),
                message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            }));
        }
        let mut store = Store::discover(dir)?;
        if store.snapshot()?.tip().is_none() {
            // The remote's HEAD names a branch it does not have (a bare repository made by
            // plain `git init` says master): check out its case book branch instead.
            store = check_out_remote_branch(store, dir, bare)?;
        }
        store.register_merge_driver(exe)?;
        store.casebook_snapshot()?;
        // `git clone` brings branches only; the key ring lives in its own ref.
        store.fetch_keyring("origin", chrono::Utc::now())?;
        Ok(Casebook::with(store))
    }

    /// Registers the merge driver in this clone (for clones made with plain `git clone`)
    /// and fetches the key ring from the branch's remote, if it has one.
    pub fn setup(&self, exe: &Path) -> Result<()> {
        self.store.register_merge_driver(exe)?;
        if let Some(remote) = self.store.upstream_remote() {
            // Offline is no reason to fail a setup: the next sync fetches it.
            if let Err(e) = self.store.fetch_keyring(&remote, chrono::Utc::now()) {
                crate::store::notice_error("the key ring was not fetched", &e);
            }
        }
        Ok(())
    }
}

fn check_out_remote_branch(store: Store, dir: &Path, bare: bool) -> Result<Store> {
    let out = store.git_command(&[
        "for-each-ref",
        "--format=%(refname)",
        if bare {
            "refs/heads"
        } else {
            "refs/remotes/origin"
        },
    ])?;
    let refs: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect();
    let pick = refs
        .iter()
        .find(|r| r.ends_with("/main"))
        .or_else(|| refs.iter().find(|r| !r.ends_with("/HEAD")))
        .cloned();
    let Some(full) = pick else { return Ok(store) };
    let branch = full.rsplit('/').next().unwrap_or("main").to_string();
    let args: Vec<String> = if bare {
        vec![
            "symbolic-ref".into(),
            "HEAD".into(),
            format!("refs/heads/{branch}"),
        ]
    } else {
        vec![
            "checkout".into(),
            "--quiet".into(),
            "-B".into(),
            branch.clone(),
            format!("origin/{branch}"),
        ]
    };
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = store.git_command(&args)?;
    if !out.status.success() {
        return Err(Error::invalid(
            "clone",
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    Ok(Store::discover(dir)?)
}

/// Resolves one path changed on both sides: case files merge event by event (renaming
/// one of two different cases that got the same ID); other files merge as git merges
/// text, and a real conflict stops the sync.
fn resolve(
    store: &Store,
    path: &str,
    (base, ours, theirs): Versions<'_>,
    renamed: &std::cell::RefCell<Vec<(CaseId, CaseId)>>,
) -> Result<Vec<(String, Option<Vec<u8>>)>> {
    let conflict = || {
        Error::Store(StoreError::MergeConflict {
            path: path.to_string(),
        })
    };
    let (Some(ours), Some(theirs)) = (ours, theirs) else {
        return Err(conflict());
    };
    if path.starts_with(&format!("{}/", crate::model::layout::ALIASES_DIR)) {
        // An old ID may lead to several renamed cases (three clones, one ID): the union.
        let mut ids: Vec<&str> = std::str::from_utf8(ours)
            .unwrap_or_default()
            .lines()
            .chain(std::str::from_utf8(theirs).unwrap_or_default().lines())
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let text: String = ids.iter().map(|id| format!("{id}\n")).collect();
        return Ok(vec![(path.to_string(), Some(text.into_bytes()))]);
    }
    if case_of(path).is_none() {
        // Config, templates, aliases: git's own text merge; a real conflict stops.
        return match store.merge_text(base, ours, theirs)? {
            Some(merged) => Ok(vec![(path.to_string(), Some(merged))]),
            None => Err(conflict()),
        };
    }
    let parse = |bytes: &[u8], side: &str| -> Result<CaseFile> {
        crate::store::parse_case(path, bytes).map_err(|e| match e {
            StoreError::Case { path, source } => Error::Store(StoreError::Case {
                path: format!("{path} ({side})"),
                source,
            }),
            other => Error::Store(other),
        })
    };
    let (a, b) = (parse(ours, "local")?, parse(theirs, "remote")?);
    match merge(&a, &b) {
        Ok(merged) => Ok(vec![(
            path.to_string(),
            Some(merged.to_toml().into_bytes()),
        )]),
        Err(MergeError::Collision(_)) => {
            // Two different cases with one ID: the later-opened one gets a new ID that both
            // clones compute the same way, so their merges agree.
            let key = |f: &CaseFile| (f.events[0].at, f.events[0].id.clone());
            let (kept, mut moved) = if key(&a) <= key(&b) { (a, b) } else { (b, a) };
            let old = moved.case.id.clone();
            let new = renamed_id(store, &old, &moved.events[0].id)?;
            moved.case.id = new.clone();
            moved.case.aliases.push(old.to_string());
            // Attachments recorded before they carried their path live under the old ID;
            // the files stay where they are, so record where that is.
            for e in &mut moved.events {
                for a in &mut e.attachments {
                    if a.path.is_none() {
                        a.path = Some(crate::model::layout::attachment_path(&old, &a.name));
                    }
                }
            }
            moved.reproject().map_err(|source| Error::Case {
                id: new.clone(),
                source,
            })?;
            renamed.borrow_mut().push((old.clone(), new.clone()));
            Ok(vec![
                (path.to_string(), Some(kept.to_toml().into_bytes())),
                (new.path(), Some(moved.to_toml().into_bytes())),
                (
                    crate::model::layout::alias_path(&old),
                    Some(format!("{new}\n").into_bytes()),
                ),
            ])
        }
        Err(source) => Err(Error::Merge {
            path: path.to_string(),
            source,
        }),
    }
}

/// A new ID for a case renamed in a collision, derived from its opening event so that every
/// clone picks the same one, and not used by any case at the tip.
fn renamed_id(store: &Store, old: &CaseId, open_event: &str) -> Result<CaseId> {
    let snap = store.snapshot()?;
    for n in 0..100u32 {
        let hash = keyed_hash(b"casebook-rename", &format!("{open_event}/{n}"));
        let code: String = hash
            .as_bytes()
            .chunks(2)
            .take(crate::model::id::RANDOM_LEN)
            .map(|pair| {
                let byte =
                    u8::from_str_radix(std::str::from_utf8(pair).unwrap_or("00"), 16).unwrap_or(0);
                crate::model::id::ALPHABET[(byte & 31) as usize] as char
            })
            .collect();
        let id = CaseId::parse(&format!("{}-{code}", old.prefix()))?;
        if !snap.has_case(&id)? {
            return Ok(id);
        }
    }
    Err(Error::invalid(
        "sync",
        format!("could not find a new ID for {old}"),
    ))
}

/// The git merge driver: `casebook merge-driver %O %A %B %P`. Writes the merge of the
/// two case files into `ours`; a collision or an unreadable file is left to git as a
/// conflict (exit code 1), with the reason on stderr.
pub fn merge_driver(ours: &Path, theirs: &Path, path: &str) -> Result<()> {
    let read = |p: &Path| -> Result<CaseFile> {
        let bytes = std::fs::read(p).map_err(|source| Error::Input {
            path: p.to_path_buf(),
            source,
        })?;
        crate::store::parse_case(path, &bytes).map_err(Error::Store)
    };
    let merged = merge(&read(ours)?, &read(theirs)?).map_err(|e| match e {
        MergeError::Collision(id) => Error::invalid(
            path,
            format!("two different cases have the ID {id}; run `casebook sync`, which renames one of them"),
        ),
        source => Error::Merge {
            path: path.to_string(),
            source,
        },
    })?;
    std::fs::write(ours, merged.to_toml()).map_err(|source| Error::Io {
        action: "write",
        path: ours.to_path_buf(),
        source,
    })
}
