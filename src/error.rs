//! The library's error type, and how each kind maps to an exit code.

use crate::model::case::CaseError;
use crate::model::config::ConfigError;
use crate::model::id::IdError;
use crate::model::seal::SealError;
use crate::model::state::StateError;
use crate::model::time::TimeError;
use crate::model::CaseId;
use crate::store::StoreError;

/// Exit codes, documented in the README.
pub mod exit {
    pub const OK: i32 = 0;
    /// Bad input, unknown case, action not allowed: fix what you typed.
    pub const USER: i32 = 1;
    /// The command line itself is malformed (clap's own errors).
    pub const USAGE: i32 = 2;
    /// Someone else's work is in the way: an uncommitted edit, a busy repository.
    pub const CONFLICT: i32 = 3;
    /// A bug or an environment problem (disk, permissions, a broken repository).
    pub const INTERNAL: i32 = 4;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no case matches {0:?}")]
    UnknownCase(String),
    #[error("{query:?} matches {} cases: {}", candidates.len(), list(candidates))]
    AmbiguousCase {
        query: String,
        candidates: Vec<CaseId>,
    },
    #[error(transparent)]
    BadId(#[from] IdError),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// A value given for `field` that its own parser refused; the parser's error is the
    /// cause, said once.
    #[error("{field}: cannot use {input:?}")]
    Value {
        field: String,
        input: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error(transparent)]
    State(#[from] StateError),
    #[error("{field}: cannot use {input:?} as a time")]
    Time {
        field: String,
        input: String,
        #[source]
        source: TimeError,
    },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot write the message from its template")]
    Template(#[source] crate::model::template::TemplateError),
    /// A template file in the case book that does not check out.
    #[error("{path} is not a usable template")]
    BadTemplate {
        path: String,
        #[source]
        source: crate::model::template::TemplateError,
    },
    /// Two versions of a case file that cannot be merged.
    #[error("cannot merge {path}")]
    Merge {
        path: String,
        #[source]
        source: crate::model::merge::MergeError,
    },
    #[error("case {id} cannot record this action")]
    Case {
        id: CaseId,
        #[source]
        source: CaseError,
    },
    #[error("{file}: {} bad row(s), nothing imported:\n{}", errors.len(), list_rows(errors))]
    Rejected {
        file: String,
        errors: Vec<crate::model::intake::RowError>,
    },
    /// `--continue-on-error` recorded the cases that accepted; the others (already listed)
    /// refused.
    #[error("{}", partly_recorded(*named, *refused))]
    PartlyRecorded { named: usize, refused: usize },
    /// `config check`: settings edited in the working tree are not the ones in effect.
    #[error("{}: edited but not committed, so not in effect", paths.join(", "))]
    UncommittedSettings { paths: Vec<String> },
    /// `--continue-on-error` imported the good rows; the others (already listed) were not.
    #[error("{file}: {rejected} row(s) rejected and not imported; the other rows were")]
    PartlyImported { file: String, rejected: usize },
    /// A sealed value that does not open: tampered, or its key is missing or erased.
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error("{} of the cases refused `{action}`, nothing recorded:\n{}", refusals.len(), list_refusals(refusals))]
    Refused {
        action: String,
        refusals: Vec<Refusal>,
    },
    #[error("no actor: casebook records who did each action")]
    NoActor,
    /// A file the user named could not be read.
    #[error("cannot read {path}")]
    Input {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot {action} {path}")]
    Io {
        action: &'static str,
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn list(ids: &[CaseId]) -> String {
    let shown: Vec<&str> = ids.iter().take(10).map(CaseId::as_str).collect();
    let more = ids.len().saturating_sub(shown.len());
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

fn partly_recorded(named: usize, refused: usize) -> String {
    match named.saturating_sub(refused) {
        0 => format!("all {named} cases refused; nothing was recorded"),
        1 => format!("{refused} of {named} cases refused; the other was recorded"),
        _ => format!("{refused} of {named} cases refused; the others were recorded"),
    }
}

fn list_rows(errors: &[crate::model::intake::RowError]) -> String {
    const SHOWN: usize = 50;
    let mut lines: Vec<String> = errors
        .iter()
        .take(SHOWN)
        .map(|e| format!("  {e}"))
        .collect();
    if errors.len() > SHOWN {
        lines.push(format!("  ... and {} more", errors.len() - SHOWN));
    }
    lines.join("\n")
}

fn list_refusals(refusals: &[Refusal]) -> String {
    const SHOWN: usize = 50;
    let mut lines: Vec<String> = refusals
        .iter()
        .take(SHOWN)
        .map(|r| format!("  {r}"))
        .collect();
    if refusals.len() > SHOWN {
        lines.push(format!("  ... and {} more", refusals.len() - SHOWN));
    }
    lines.join("\n")
}

impl Error {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// `input` for `field` refused by a parser, whose error is kept as the cause.
    pub fn value(
        field: impl Into<String>,
        input: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Error {
        Error::Value {
            field: field.into(),
            input: input.into(),
            source: Box::new(source),
        }
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Store(e) if e.is_conflict() => exit::CONFLICT,
            Error::Store(e) if !e.is_user_error() => exit::INTERNAL,
            Error::Io { .. } => exit::INTERNAL,
            Error::Input { .. } => exit::USER,
            _ => exit::USER,
        }
    }

    /// What to do about it, when there is something useful to say.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Store(e) => e.hint(),
            Error::UnknownCase(_) => Some("`casebook list` shows the cases".into()),
            Error::AmbiguousCase { .. } => Some("type more characters of the ID".into()),
            Error::Case { id, source } => source.hint(&crate::model::layout::case_path(id)),
            Error::Seal(e) => e.hint().map(String::from),
            Error::NoActor => Some(
                "pass --actor \"Name <email>\", set CASEBOOK_ACTOR, or set git's user.name and user.email".into(),
            ),
            Error::Config(_) => Some("fix .casebook/config.toml and commit it".into()),
            Error::UncommittedSettings { paths } => {
                let paths = paths.join(" ");
                Some(format!(
                    "commit the edit to put it in effect (`git add {paths}`, then `git commit`), or discard it (`git checkout HEAD -- {paths}`; a new file: delete it)"
                ))
            }
            Error::PartlyImported { .. } => Some(
                "fix the rejected rows and import the whole file again: rows already imported \
                 stay as they are"
                    .into(),
            ),
            Error::PartlyRecorded { .. } => {
                Some("the refusals are listed above; act on those cases on their own".into())
            }
            Error::Refused { .. } => Some(
                "leave those cases out, or record the others with --continue-on-error".into(),
            ),
            Error::Template(crate::model::template::TemplateError::Missing { .. }) => Some(
                "write the message yourself with --message, or give the placeholder a fallback in the template".into(),
            ),
            Error::Template(_) | Error::BadTemplate { .. } => Some(
                "fix the template (.casebook/templates/ or [templates] in .casebook/config.toml) and commit it".into(),
            ),
            Error::Rejected { .. } => {
                Some("fix the rows, or import the good ones with --continue-on-error".into())
            }
            _ => None,
        }
    }
}

/// A case that refused a bulk action, and why.
#[derive(Debug)]
pub struct Refusal {
    /// The ID as the user typed it.
    pub query: String,
    pub error: Error,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.query, self.error)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
