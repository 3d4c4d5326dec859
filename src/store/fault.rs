//! Named fault points for the fault-injection tests.
//!
//! With `CASEBOOK_FAULT=<point>` in the environment, the process kills itself with SIGKILL
//! when it reaches that point of a transaction, deterministically, so a test can prove that
//! the next command finds the case book whole. Points: `after-objects`, `after-journal`,
//! `after-ref`, `after-file`, `after-files`, `after-index`, `mid-files` (halfway through a
//! bulk working-tree update), `heal-mid` (halfway through finishing an interrupted one).
//! Not for production use; an unknown point never fires.

use std::sync::OnceLock;

fn chosen() -> Option<&'static str> {
    static CHOSEN: OnceLock<Option<String>> = OnceLock::new();
    CHOSEN
        .get_or_init(|| std::env::var("CASEBOOK_FAULT").ok())
        .as_deref()
}

/// Dies here if this is the chosen point.
pub(crate) fn point(name: &str) {
    if chosen() == Some(name) {
        #[cfg(unix)]
        // SAFETY: sending SIGKILL to ourselves; nothing runs after it.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
        std::process::abort();
    }
}
