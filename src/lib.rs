//! casebook: a command-line case tracker for customer-service teams.
//!
//! Every case is a TOML file in a git repository and every action is one git commit, so the
//! history is an audit trail and any git remote shares one case book between machines.
//!
//! - [`model`]: pure data and rules (cases, events, state machine, IDs, config, calendar);
//! - [`store`]: the git repository (the only user of git2): reads from the branch tip,
//!   one-commit writes with compare-and-swap, working-tree sync;
//! - [`ops`]: one function per action on a [`Casebook`]; each command is a thin wrapper;
//! - [`render`]: tables, text and JSON for people and scripts;
//! - [`cli`]: the `casebook` command line.

pub mod cli;
pub mod error;
pub mod model;
pub mod ops;
pub mod progress;
pub mod render;
pub mod store;

pub use error::{Error, Result};
pub use ops::{Casebook, Context};
