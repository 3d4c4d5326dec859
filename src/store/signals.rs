//! Deferring SIGINT, SIGTERM, SIGHUP and SIGQUIT while the case book is inconsistent: from
//! the branch move until the working tree and index have caught up.
//!
//! Inside a [`Critical`] section a signal is only noted; when the section ends the signal is
//! raised again with its previous disposition (by default: the process ends, now with a
//! consistent book). Outside, signals act as they always do. SIGKILL cannot be deferred:
//! the intent journal covers it.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

static CRITICAL: AtomicBool = AtomicBool::new(false);
static PENDING: AtomicI32 = AtomicI32::new(0);

#[cfg(unix)]
const SIGNALS: [libc::c_int; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

/// While alive, the signals above are deferred.
pub(crate) struct Critical {
    #[cfg(unix)]
    previous: [libc::sighandler_t; 4],
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
            Critical { previous }
        }
        #[cfg(not(unix))]
        Critical {}
    }
}

impl Drop for Critical {
    fn drop(&mut self) {
        #[cfg(unix)]
        {
            for (previous, signal) in self.previous.iter().zip(SIGNALS) {
                // SAFETY: restores the disposition that was in place before `enter`.
                unsafe { libc::signal(signal, *previous) };
            }
            CRITICAL.store(false, Ordering::SeqCst);
            let pending = PENDING.swap(0, Ordering::SeqCst);
            if pending != 0 {
                // SAFETY: raising a signal on ourselves; its handler is the one restored.
                unsafe { libc::raise(pending) };
            }
        }
    }
}

/// Whether a critical section is running (for tests).
#[allow(dead_code)]
pub(crate) fn in_critical_section() -> bool {
    CRITICAL.load(Ordering::SeqCst)
}
