//! The case repository on disk. This is the only module that uses git2.
//!
//! Layout of a case book (see also `docs/FORMAT.md`):
//! ```text
//! .casebook/config.toml      policy
//! .gitattributes             registers casebook's merge driver for cases/**
//! cases/<shard>/<ID>.toml    one file per case; shard = first two characters after the dash
//! attachments/<ID>/<file>    supporting documents
//! ```
//! Reads come from the branch tip (never the working tree); writes build blobs, trees and a
//! commit straight in the object database and then move the branch with a compare-and-swap
//! ([`write`]). A case book with a working tree also gets its index and files brought up to
//! date for the changed paths only ([`worktree`]); a bare ("store only") one skips that.

mod deflate;
mod fault;
mod gitindex;
mod history;
pub mod index;
mod keyring;
mod locks;
mod pack;
mod pending;
mod privacy;
mod ring_read;
mod signals;
mod snapshot;
mod sync;
mod treediff;
mod txn;
mod view;
mod worktree;
mod write;

use std::path::{Path, PathBuf};

use git2::{ErrorCode, Repository, RepositoryInitOptions};

pub(crate) use fault::point as fault_point;
pub use git2::Oid;
pub use history::HistoryEntry;
pub use keyring::{RingPush, KEYRING_REF};
pub use pack::BlobPack;
pub use ring_read::RingReader;
pub(crate) use signals::Critical;
pub use signals::{interrupted_after_commit, stop_if_interrupted};
pub use snapshot::{parse_case, Snapshot};
pub use sync::{MergeOutcome, Versions};
pub use txn::{Change, Committed, Content, RetryPolicy};
pub use view::{MaybeOwned, View};

use crate::model::case::CaseError;
use crate::model::config::{ConfigError, CONFIG_PATH};
use crate::model::seal::SealError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{context}")]
    Git {
        context: String,
        #[source]
        source: git2::Error,
    },
    #[error("no case book found in {0} or any folder above it")]
    NotFound(PathBuf),
    #[error(
        "{path} is a git repository but not a case book: branch {branch} has no {CONFIG_PATH}{}",
        match elsewhere { Some(b) => format!(" (branch {b} holds the case book)"), None => String::new() }
    )]
    NotACasebook {
        path: PathBuf,
        branch: String,
        /// Another branch that holds a case book (local, or a remote's), if one does.
        elsewhere: Option<String>,
    },
    #[error("branch {elsewhere} of {path} already holds a case book; `init` here on branch {branch} would start a second, unrelated one")]
    CasebookOnAnotherBranch {
        path: PathBuf,
        branch: String,
        elsewhere: String,
    },
    #[error("HEAD is detached: casebook records actions on a branch")]
    DetachedHead,
    #[error("{0} is a linked worktree (`git worktree add`): casebook keeps the keys of sealed data and its locks beside the repository's own files, which a linked worktree does not share")]
    LinkedWorktree(PathBuf),
    #[error("{path} has {} changes that are not committed; casebook will not overwrite them", if *.staged { "staged" } else { "local" })]
    HandEdited {
        path: String,
        staged: bool,
        /// Committed events the edited file lacks: committing it would remove them.
        lost_events: usize,
    },
    #[error("{} exists (made {} ago): another git process seems to be running in this repository, or one stopped without cleaning up", path.display(), locks::human_age(*age))]
    StaleLock {
        path: PathBuf,
        age: std::time::Duration,
    },
    #[error("branch {branch} kept moving while casebook was writing ({attempts} attempts)")]
    Contention { branch: String, attempts: u32 },
    #[error("another casebook process has held {0} for too long")]
    Locked(PathBuf),
    #[error("cannot {action} {path}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read case file {path}")]
    Case {
        path: String,
        #[source]
        source: CaseError,
    },
    #[error("cannot load the configuration")]
    Config(#[source] ConfigError),
    #[error("cannot {action} {remote}: {message}")]
    Remote {
        action: &'static str,
        remote: String,
        message: String,
    },
    #[error("git has {what} in progress in this repository")]
    InProgress {
        what: &'static str,
        abort: &'static str,
    },
    #[error("the read index cannot be used: {0}")]
    Index(String),
    #[error("{0}")]
    Keyring(String),
    /// The sealed value's own error says what and where; it is in the message, not a
    /// cause, so that it is said once.
    #[error("{path}: {error}")]
    Sealed {
        path: String,
        error: crate::model::seal::SealError,
    },
    #[error("both sides changed {path} differently (the same lines): casebook merges case files, git could not merge this one")]
    MergeConflict { path: String },
}

impl StoreError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            StoreError::NotFound(_) => "run `casebook init` to create one, or point at one with -C DIR or CASEBOOK_DIR".into(),
            StoreError::NotACasebook {
                elsewhere: Some(b), ..
            }
            | StoreError::CasebookOnAnotherBranch { elsewhere: b, .. } => {
                format!("switch to it: `git switch {b}`")
            }
            StoreError::NotACasebook { .. } => "run `casebook init` here to make it one".into(),
            StoreError::DetachedHead => "check out a branch first, e.g. `git switch main`".into(),
            StoreError::LinkedWorktree(_) => "run casebook in the main working tree, or make a clone of its own with `casebook clone`".into(),
            StoreError::HandEdited {
                path,
                lost_events: 0,
                ..
            } => format!(
                "see the edit with `git diff HEAD -- {path}`; keep it with `git commit {path}` or discard it with `git checkout HEAD -- {path}`, then try again"
            ),
            StoreError::HandEdited {
                path, lost_events, ..
            } => format!(
                "the file lacks {lost_events} recorded event{} that {} committed, so committing it would remove them: save a copy if you need the edit (`cp {path} {path}.mine`), restore the committed file with `git checkout HEAD -- {path}`, then try again",
                if *lost_events == 1 { "" } else { "s" },
                if *lost_events == 1 { "is" } else { "are" }
            ),
            StoreError::InProgress { abort, .. } => format!(
                "finish it (resolve, then `git commit` or `git rebase --continue`) or abort it (`{abort}`), then run `casebook sync` again; nothing was changed"
            ),
            StoreError::StaleLock { path, .. } => format!(
                "if no git process is running, remove the lock (`rm {}`) and try again; nothing was written",
                path.display()
            ),
            StoreError::Contention { .. } => {
                "other programs kept moving the branch; try again (nothing was written)".into()
            }
            StoreError::Locked(_) => {
                "another casebook process has been writing for a long time; try again when it is done".into()
            }
            // A merge names the side (`cases/… (remote)`); the hint names the file.
            StoreError::Case { path, source } => {
                return source.hint(path.split(' ').next().unwrap_or(path))
            }
            StoreError::Sealed {
                path,
                error: SealError::Tampered { .. } | SealError::Malformed { .. },
            } => format!(
                "a sealed value cannot be mended by hand: find the commit that changed {path} and who made it (`git log -p -- {path}`), then undo it (`git revert COMMIT`) or put back the version before it (`git checkout COMMIT~ -- {path}`, then commit)"
            ),
            StoreError::Sealed { error, .. } => return error.hint().map(String::from),
            StoreError::Remote { .. } => {
                "check the remote's URL and your access (`git remote -v`, `git fetch`); nothing local was lost".into()
            }
            StoreError::Keyring(m) if m.contains(pending::PENDING_FILE) => format!(
                "{} holds the only copy of the newest cases' keys until the next `casebook sync`: mend the line named (or put back a copy of the file), and do not delete it",
                pending::PENDING_FILE
            ),
            StoreError::Keyring(m) if m.contains("upgrade casebook") => {
                "upgrade casebook: another clone wrote the key ring in a newer format".into()
            }
            StoreError::Keyring(_) => format!(
                "the key ring ({KEYRING_REF}) was changed outside casebook; fetch it again from a clone that has it (`casebook sync`) and do not edit it by hand"
            ),
            StoreError::MergeConflict { path } => format!(
                "merge it with git (`git merge` and edit {path}), commit, then run `casebook sync` again"
            ),
            _ => return None,
        })
    }

    /// Whether this is a conflict with someone else's work (exit code 3).
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            StoreError::HandEdited { .. }
                | StoreError::StaleLock { .. }
                | StoreError::InProgress { .. }
                | StoreError::Contention { .. }
                | StoreError::Locked(_)
                | StoreError::MergeConflict { .. }
        )
    }

    /// Whether this was caused by what the user pointed at or wrote (exit code 1).
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            StoreError::NotFound(_)
                | StoreError::NotACasebook { .. }
                | StoreError::CasebookOnAnotherBranch { .. }
                | StoreError::DetachedHead
                | StoreError::LinkedWorktree(_)
                | StoreError::Case { .. }
                | StoreError::Sealed { .. }
                | StoreError::Config(_)
                | StoreError::Remote { .. }
        )
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Adds what casebook was doing to a git2 error (habit: wrap git2 once).
pub(crate) trait GitContext<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> GitContext<T> for std::result::Result<T, git2::Error> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| StoreError::Git {
            context: context(),
            source,
        })
    }
}

/// Process-wide libgit2 settings, for a process that is about to use the store. Call it
/// before any thread starts (the command line does, first thing).
///
/// libgit2 caches trees only up to 4 KiB by default; `cases/` (1024 shards) is about 24 KiB
/// and every shard of a 100k-case book about 5 KiB, so without this each path look-up
/// inflates them again: 1,000 look-ups in a sync cost seconds instead of milliseconds.
pub fn configure_process() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: called once, from the main thread before any other thread exists.
        unsafe {
            let _ = git2::opts::set_cache_object_limit(git2::ObjectType::Tree, 1 << 20);
        }
        // Like git, trust the object database's own checks (pack checksums, zlib) rather
        // than hashing every object read again with collision-detecting SHA-1; `git fsck`
        // and `casebook verify` are the integrity checks.
        git2::opts::strict_hash_verification(false);
    });
}

/// Deletes the file at `path`; one that is not there is fine.
pub(crate) fn remove_if_present(path: std::path::PathBuf) -> Result<()> {
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StoreError::Io {
            action: "delete",
            path,
            source: e,
        }),
        _ => Ok(()),
    }
}

/// One-line notes for the person at the terminal (a healed working tree, an update left
/// for later); the command line prints them on stderr when the command ends.
static NOTICES: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

pub(crate) fn notice(text: &str) {
    if let Ok(mut n) = NOTICES.lock() {
        if !n.iter().any(|t| t == text) {
            n.push(text.to_string());
        }
    }
}

/// A note about an error that did not stop the command.
pub fn notice_error(what: &str, e: &dyn std::error::Error) {
    notice(&format!("{what}: {e}"));
}

/// Takes the notes gathered so far.
pub fn take_notices() -> Vec<String> {
    NOTICES
        .lock()
        .map(|mut n| std::mem::take(&mut *n))
        .unwrap_or_default()
}

/// Warnings for the person at the terminal (a case file a read skipped); the command line
/// prints them on stderr when the command ends, each once.
static WARNINGS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

pub(crate) fn warn(text: &str) {
    if let Ok(mut w) = WARNINGS.lock() {
        if !w.iter().any(|t| t == text) {
            w.push(text.to_string());
        }
    }
}

/// Takes the warnings gathered so far.
pub fn take_warnings() -> Vec<String> {
    WARNINGS
        .lock()
        .map(|mut w| std::mem::take(&mut *w))
        .unwrap_or_default()
}

/// Whether reads fail on a case file that does not parse (`--strict`) instead of skipping
/// it with a warning.
static STRICT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Makes every read of this process fail on a case file that does not parse (`--strict`).
pub fn set_strict(strict: bool) {
    STRICT.store(strict, std::sync::atomic::Ordering::Relaxed);
}

pub(crate) fn strict() -> bool {
    STRICT.load(std::sync::atomic::Ordering::Relaxed)
}

/// The warning a read gives for a case file it skipped.
pub(crate) fn warn_skipped(path: &str) {
    warn(&format!(
        "skipped {path}: it does not parse; run `casebook verify` to see what is wrong (--strict makes reads fail instead)"
    ));
}

/// A case repository: a git repository and the branch casebook records on.
pub struct Store {
    pub(crate) repo: Repository,
    /// Full name of the branch HEAD points at, e.g. `refs/heads/main`.
    pub(crate) branch: String,
    /// A handle for one job that is dropped after it (see [`Store::reopen`]): its
    /// in-memory writes are made on itself, not on yet another handle.
    pub(crate) scratch: bool,
}

impl Store {
    /// Finds the repository containing `start` (or `start` itself), like git does.
    pub fn discover(start: &Path) -> Result<Store> {
        match Repository::discover(start) {
            Ok(repo) => Store::from_repo(repo),
            Err(e) if e.code() == ErrorCode::NotFound => {
                Err(StoreError::NotFound(start.to_path_buf()))
            }
            Err(e) => {
                Err(e).ctx(|| format!("cannot open the git repository at {}", start.display()))
            }
        }
    }

    /// Opens the repository at exactly `dir`, or creates one there (branch `main`).
    /// Returns whether it was created.
    pub fn open_or_create(dir: &Path, bare: bool) -> Result<(Store, bool)> {
        // libgit2 resolves a relative work tree against the new git folder; be absolute.
        let dir = &std::path::absolute(dir).map_err(|source| StoreError::Io {
            action: "find",
            path: dir.to_path_buf(),
            source,
        })?;
        match Repository::open(dir) {
            Ok(repo) => Ok((Store::from_repo(repo)?, false)),
            Err(e) if e.code() == ErrorCode::NotFound => {
                let mut opts = RepositoryInitOptions::new();
                opts.bare(bare).initial_head("main").mkpath(true);
                let repo = Repository::init_opts(dir, &opts)
                    .ctx(|| format!("cannot create a git repository at {}", dir.display()))?;
                Ok((Store::from_repo(repo)?, true))
            }
            Err(e) => Err(e).ctx(|| format!("cannot open the git repository at {}", dir.display())),
        }
    }

    fn from_repo(repo: Repository) -> Result<Store> {
        // Its git folder is its own (.git/worktrees/NAME): the pending keys, the key ring's
        // lock and the write lock would be kept apart from the main working tree's, and
        // `git worktree remove` would delete keys that committed cases need.
        if repo.is_worktree() {
            let at = repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf();
            return Err(StoreError::LinkedWorktree(at));
        }
        let head = repo
            .find_reference("HEAD")
            .ctx(|| "cannot read HEAD".into())?;
        let branch = head
            .symbolic_target()
            .ok_or(StoreError::DetachedHead)?
            .to_string();
        drop(head);
        Ok(Store {
            repo,
            branch,
            scratch: false,
        })
    }

    /// Whether this is a store-only (bare) case book.
    pub fn is_bare(&self) -> bool {
        self.repo.is_bare()
    }

    /// The folder people know the case book by: the working tree, or the bare repository.
    pub fn root(&self) -> &Path {
        self.repo.workdir().unwrap_or_else(|| self.repo.path())
    }

    /// Short branch name, e.g. `main`.
    pub fn branch_name(&self) -> &str {
        self.branch
            .strip_prefix("refs/heads/")
            .unwrap_or(&self.branch)
    }

    /// What the branch tip holds now.
    pub fn snapshot(&self) -> Result<Snapshot<'_>> {
        Snapshot::at_tip(self)
    }

    /// The repository's git folder (`.git`, or the bare repository itself).
    pub fn git_dir(&self) -> &Path {
        self.repo.path()
    }

    /// Deletes the read index, which holds opened personal data; the next read rebuilds it.
    pub fn purge_index(&self) {
        index::purge(&self.repo);
    }

    /// The read view of the branch tip: what every read command goes through.
    pub fn view(&self) -> Result<View<'_>> {
        View::open(self)
    }

    /// Like [`Store::snapshot`], but an error unless the tip is a case book.
    pub fn casebook_snapshot(&self) -> Result<Snapshot<'_>> {
        let snap = self.snapshot()?;
        if snap.read(CONFIG_PATH)?.is_none() {
            return Err(self.not_a_casebook());
        }
        Ok(snap)
    }

    /// The error for a branch that holds no case book, naming one that does if any.
    pub(crate) fn not_a_casebook(&self) -> StoreError {
        StoreError::NotACasebook {
            path: self.root().to_path_buf(),
            branch: self.branch_name().to_string(),
            elsewhere: self.casebook_branch_elsewhere(),
        }
    }

    /// Another branch of this repository whose tip holds a case book, by the name `git
    /// switch` takes: a local one first, then a remote's (`origin/main` is `main`). A plain `git clone` of a remote whose HEAD names
    /// another branch checks that one out, for instance.
    pub fn casebook_branch_elsewhere(&self) -> Option<String> {
        let current = self.branch_name().to_string();
        for kind in [git2::BranchType::Local, git2::BranchType::Remote] {
            let Ok(branches) = self.repo.branches(Some(kind)) else {
                continue;
            };
            for (branch, _) in branches.flatten() {
                let Ok(Some(full)) = branch.name().map(|n| n.map(str::to_string)) else {
                    continue;
                };
                // What `git switch` takes: `origin/main` is `main`.
                let name = match kind {
                    git2::BranchType::Local => full.clone(),
                    git2::BranchType::Remote => match full.split_once('/') {
                        Some((_, rest)) => rest.to_string(),
                        None => continue,
                    },
                };
                if name == current || name == "HEAD" {
                    continue;
                }
                let holds = branch
                    .get()
                    .peel_to_tree()
                    .ok()
                    .and_then(|t| t.get_path(Path::new(CONFIG_PATH)).ok())
                    .is_some();
                if holds {
                    return Some(name);
                }
            }
        }
        None
    }
}

/// git's `user.name` and `user.email` as seen from `dir`: the configuration of the
/// repository that holds `dir` if there is one (its own `user.*` first, as git reads
/// them), else the user's global and system files.
pub fn git_identity_near(dir: &std::path::Path) -> Option<(String, String)> {
    let config = match git2::Repository::discover(dir) {
        Ok(repo) => repo.config().ok()?.snapshot().ok()?,
        Err(_) => git2::Config::open_default().ok()?.snapshot().ok()?,
    };
    Some((
        config.get_string("user.name").ok()?,
        config.get_string("user.email").ok()?,
    ))
}

impl Store {
    /// The repository's git configuration (with the user's global and system files).
    pub fn git_config(&self) -> Option<git2::Config> {
        self.repo.config().ok()?.snapshot().ok()
    }
}

/// A hash of `value` salted with `key`, as hex (git's object hash over both). Not a MAC:
/// used where every clone must derive the same value (renamed case IDs); pseudonyms use
/// HMAC-SHA256 ([`crate::model::keyring::keyed_digest`]).
pub fn keyed_hash(key: &[u8], value: &str) -> String {
    let mut data = key.to_vec();
    data.push(0);
    data.extend_from_slice(value.as_bytes());
    git2::Oid::hash_object(git2::ObjectType::Blob, &data)
        .map(|o| o.to_string())
        .unwrap_or_default()
}
