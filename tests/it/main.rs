//! casebook's integration tests: one test binary, shared helpers in `common`.

mod common;

mod cli_basics;
mod cli_errors;
mod concurrency;
mod faults;
mod import_export;
mod index;
mod integrity;
mod keyring;
mod layering;
mod lifecycle;
mod privacy;
mod readme;
mod review;
mod sla;
mod store_conformance;
mod sync;
mod sync_stress;
mod team;
mod terminal;
