//! Deferring SIGINT, SIGTERM, SIGHUP and SIGQUIT while the case book is inconsistent: from
//! the branch move until the working tree and index have caught up.
//!
//! Inside a [`Critical`] section a signal is only noted. If the section ends without a
//! commit (a lost race), the signal is raised again with its previous disposition (by
//! default: the process ends, with nothing recorded). If it ends with its change committed
//! ([`Critical::committed`]), the action is complete: the command reports it and exits 0,
//! and only a further transaction of the same command is stopped ([`stop_if_interrupted`]).
//! Outside, signals act as they always do. SIGKILL cannot be deferred: the intent journal
//! covers it.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

static CRITICAL: AtomicBool = AtomicBool::new(false);
static PENDING: AtomicI32 = AtomicI32::new(0);
/// A signal that came while a committed change was being finished.
static AFTER_COMMIT: AtomicI32 = AtomicI32::new(0);

#[cfg(unix)]
const SIGNALS: [libc::c_int; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

/// While alive, the signals above are deferred.
pub(crate) struct Critical {
    #[cfg(unix)]
    previous: [libc::sighandler_t; 4],
    ended: bool,
}

#[cfg(unix)]
extern "C" fn defer(signal: libc::c_int) {
    // Only async-signal-safe work here: one atomic store.
    PENDING.store(signal, Ordering::SeqCst);
}

impl Critical {
    pub(crate) fn enter() -> Critical {
        CRITICAL.store(true, Ordering::SeqCst);
        #[cfg(unix)]
        {
            let mut previous = [libc::SIG_DFL; 4];
            for (slot, signal) in previous.iter_mut().zip(SIGNALS) {
                // SAFETY: `defer` is async-signal-safe (a single atomic store), and the
                // previous handler is restored before this value is dropped.
                *slot = unsafe { libc::signal(signal, defer as *const () as libc::sighandler_t) };
            }
            Critical {
                previous,
                ended: false,
            }
        }
        #[cfg(not(unix))]
        Critical { ended: false }
    }

    /// Ends the section of a change that is committed: a signal that came meanwhile does
    /// not end the process, which goes on to report the action (it is done); the command
    /// stops before any further transaction instead.
    pub(crate) fn committed(mut self) {
        let pending = self.end();
        if pending != 0 {
            AFTER_COMMIT.store(pending, Ordering::SeqCst);
        }
    }

    /// Restores the signals' dispositions; the signal that came meanwhile, or 0.
    fn end(&mut self) -> i32 {
        self.ended = true;
        #[cfg(unix)]
        for (previous, signal) in self.previous.iter().zip(SIGNALS) {
            // SAFETY: restores the disposition that was in place before `enter`.
            unsafe { libc::signal(signal, *previous) };
        }
        CRITICAL.store(false, Ordering::SeqCst);
        PENDING.swap(0, Ordering::SeqCst)
    }
}

impl Drop for Critical {
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        let pending = self.end();
        if pending != 0 {
            raise(pending);
        }
    }
}

fn raise(signal: i32) {
    #[cfg(unix)]
    // SAFETY: raising a signal on ourselves; its handler is the one in place.
    unsafe {
        libc::raise(signal);
    }
    #[cfg(not(unix))]
    let _ = signal;
}

/// The signal that came while a committed change was finished, if one did: the command
/// has recorded what it reports, and is to do nothing more.
pub fn interrupted_after_commit() -> Option<i32> {
    match AFTER_COMMIT.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

/// Ends the process by the signal that came during an earlier committed change of this
/// command, if one did: called before a command starts another step that writes (a
/// further transaction, a push), so an interrupted command does no more than it recorded.
pub fn stop_if_interrupted() {
    if let Some(signal) = interrupted_after_commit() {
        eprintln!(
            "casebook: interrupted after a change was recorded; stopping before the next step"
        );
        raise(signal);
    }
}

/// Whether a critical section is running (for tests).
#[allow(dead_code)]
pub(crate) fn in_critical_section() -> bool {
    CRITICAL.load(Ordering::SeqCst)
}
