//! Pure data and rules: cases, events, the state machine, IDs, configuration, time.
//! Nothing here does IO or knows about git or the command line.

pub mod actor;
pub mod calendar;
pub mod case;
pub mod commitment;
pub mod config;
pub mod correct;
pub mod enums;
pub mod event;
pub mod id;
pub mod instances;
pub mod intake;
pub mod keyring;
pub mod layout;
pub mod merge;
pub mod payload;
pub mod personal;
pub mod privacy;
pub mod random;
pub mod review;
pub mod review_export;
pub mod seal;
pub mod sla;
pub mod state;
pub mod team;
pub mod template;
pub mod time;
pub mod validate;
pub mod when;

pub use actor::Actor;
pub use case::{CaseFile, CaseState, Customer};
pub use config::Config;
pub use enums::{Action, Channel, Direction, FollowUpResponse, Priority, Scope, Status};
pub use event::{Event, Payload};
pub use id::{CaseId, IdQuery};
pub use personal::Personal;
