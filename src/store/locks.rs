//! Git's lock files, seen from casebook: `refs/heads/<branch>.lock` while a process moves the
//! branch, `index.lock` while one writes the index.
//!
//! A live git process holds either for milliseconds. One that persists is reported the way
//! git reports it, with its path and age and what to do, after a short wait — never after
//! a hundred attempts. The checks run before a transaction writes anything.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{Result, Store, StoreError};

/// How long a lock may persist before casebook calls it stale. git itself does not wait.
const PATIENCE: Duration = Duration::from_millis(800);

/// Errors if the branch's ref lock persists.
pub(crate) fn check_ref_lock(store: &Store) -> Result<()> {
    wait_until_free(&store.repo.path().join(format!("{}.lock", store.branch)))
}

/// Errors if the index lock persists.
pub(crate) fn check_index_lock(store: &Store) -> Result<()> {
    wait_until_free(&index_lock_path(store))
}

pub(crate) fn index_lock_path(store: &Store) -> PathBuf {
    store.repo.path().join("index.lock")
}

fn wait_until_free(path: &Path) -> Result<()> {
    let start = Instant::now();
    loop {
        let Ok(meta) = std::fs::symlink_metadata(path) else {
            return Ok(());
        };
        if start.elapsed() >= PATIENCE {
            let age = meta
                .modified()
                .ok()
                .and_then(|m| m.elapsed().ok())
                .unwrap_or_default();
            return Err(StoreError::StaleLock {
                path: path.to_path_buf(),
                age,
            });
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// "3 s", "4 min", "2 h", "5 days": a lock's age as a person reads it.
/// Whether process `pid` runs on this machine (one of another user counts). Where that
/// cannot be asked, it does.
pub(crate) fn process_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return true;
        };
        // SAFETY: signal 0 only asks whether the process exists; nothing is sent.
        let signalled = unsafe { libc::kill(pid, 0) } == 0;
        signalled || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

pub(crate) fn human_age(age: Duration) -> String {
    let s = age.as_secs();
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        7200..=172_799 => format!("{} h", s / 3600),
        _ => format!("{} days", s / 86_400),
    }
}
