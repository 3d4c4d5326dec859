//! Progress of long work (an import's phases: reading, validating, writing objects,
//! updating the working tree), reported to the one sink the command line sets, if any.
//!
//! A process-wide sink, like [`crate::store::notice`], because the work that reports runs
//! deep inside the store's transaction, where threading a callback through every layer
//! would be noise. With no sink set, reporting costs one atomic load.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Receives (phase, done, total); `total` 0 means "unknown".
pub type Sink = Arc<dyn Fn(&'static str, u64, u64) + Send + Sync>;

static SET: AtomicBool = AtomicBool::new(false);
static SINK: Mutex<Option<Sink>> = Mutex::new(None);

/// Sends progress to `sink` from now on (`None` stops it).
pub fn set_sink(sink: Option<Sink>) {
    let set = sink.is_some();
    *SINK.lock().unwrap_or_else(|e| e.into_inner()) = sink;
    SET.store(set, Ordering::Release);
}

/// Reports that `done` of `total` units of `phase` are done.
pub fn report(phase: &'static str, done: u64, total: u64) {
    if !SET.load(Ordering::Acquire) {
        return;
    }
    let sink = SINK.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if let Some(sink) = sink {
        sink(phase, done, total);
    }
}

/// Reports every `every` units (and the last), so a tight loop pays almost nothing.
pub fn every(phase: &'static str, done: u64, total: u64, every: u64) {
    if done.is_multiple_of(every.max(1)) || done == total {
        report(phase, done, total);
    }
}
