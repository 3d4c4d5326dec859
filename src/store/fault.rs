//! Named fault points for the fault-injection tests.
//!
//! With `CASEBOOK_FAULT=<point>` in the environment, the process kills itself with SIGKILL
//! when it reaches that point of a transaction, deterministically, so a test can prove that
//! the next command finds the case book whole. `CASEBOOK_FAULT=term@<point>` sends SIGTERM
//! instead (which casebook defers inside the critical section), and
//! `CASEBOOK_FAULT=hold-index@<point>` creates `.git/index.lock` there, as a concurrent
//! `git status` would, and leaves it.
//!
//! Points: `after-objects`, `after-journal`, `after-ref`, `after-file`, `after-files`,
//! `after-index`, `index-locked` (holding `index.lock`, before writing the index), `mid-files` (halfway through a working-tree update), `heal-mid` (while
//! finishing an interrupted one), `erase-after-keys` (an erasure's keys destroyed, its
//! events not yet recorded), `mid-pack` (a bulk change's pack written under its temporary
//! name, not yet moved into place), `after-pending-keys` (a transaction's new keys appended to
//! the pending keys file, its objects not written), `ring-before-pending-cleared` (a new key
//! ring in place, the pending keys it took in not yet deleted), `sync-before-ring-merge` (a
//! sync's branch merged, the key ring it fetched not yet). Not for production use; an
//! unknown point never fires.

use std::path::Path;
use std::sync::OnceLock;

fn chosen() -> Option<&'static str> {
    static CHOSEN: OnceLock<Option<String>> = OnceLock::new();
    CHOSEN
        .get_or_init(|| std::env::var("CASEBOOK_FAULT").ok())
        .as_deref()
}

/// Acts here if this is the chosen point.
pub(crate) fn point(name: &str) {
    point_in(name, None)
}

/// Like [`point`], with the git folder for `hold-index`.
pub(crate) fn point_in(name: &str, git_dir: Option<&Path>) {
    let Some(chosen) = chosen() else { return };
    let (kind, at) = chosen.split_once('@').unwrap_or(("kill", chosen));
    if at != name {
        return;
    }
    match kind {
        "kill" => {
            #[cfg(unix)]
            // SAFETY: sending SIGKILL to ourselves; nothing runs after it.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
            std::process::abort();
        }
        #[cfg(unix)]
        "term" => {
            // SAFETY: sending SIGTERM to ourselves; its handler decides what happens.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGTERM);
            }
        }
        "hold-index" => {
            if let Some(dir) = git_dir {
                let _ = std::fs::write(dir.join("index.lock"), b"");
            }
        }
        _ => {}
    }
}
