use std::path::PathBuf;

use super::{print, print_json, Globals};
use crate::error::Result;
use crate::ops::{Casebook, InitOptions, InitOutcome};

/// Create a case book in DIR, or make an existing git repository one
///
/// Writes `.casebook/config.toml` (every setting with its default, documented) and
/// `.gitattributes` in one commit. Other files of an existing repository are not touched.
/// Running it again on a case book changes nothing.
///
/// Customer personal data is sealed (stored only encrypted, one key per case in
/// refs/casebook/keyring) so that `casebook erase` can destroy it; `--plain` makes a book
/// that stores it as plain text, for teams that hold none.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook init support --timezone Europe/Berlin\n  casebook init --bare /srv/casebook.git --prefix HD\n  casebook init lab --plain"
)]
pub struct Args {
    /// Where to create the case book
    #[arg(default_value = ".", value_name = "DIR")]
    path: PathBuf,
    /// Store only: a bare repository with no working tree (fastest for large case books,
    /// servers and automation; read it with casebook, `git log` and `git show`)
    #[arg(long)]
    bare: bool,
    /// Case ID prefix, e.g. ACME for ACME-7K3M9QXA
    #[arg(long, default_value = "CB")]
    prefix: String,
    /// Time zone of the business calendar (IANA name such as Europe/Berlin)
    #[arg(long, default_value = "UTC")]
    timezone: String,
    /// Store customer personal data as plain text, not sealed ([privacy] seal = false):
    /// for case books that hold no personal data; it then cannot be erased without
    /// rewriting history
    #[arg(long)]
    plain: bool,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let dir = g.start_dir().join(&args.path);
    // In an existing repository, its own user.* settings name who acts, as git would.
    let ctx = g.context_at(&dir)?;
    let opts = InitOptions {
        bare: args.bare,
        prefix: Some(args.prefix),
        timezone: Some(args.timezone),
        plain: args.plain,
    };
    let (cb, outcome) = Casebook::init(&dir, &opts, &ctx)?;
    let exe = std::env::current_exe().map_err(|source| crate::error::Error::Io {
        action: "find",
        path: "the casebook binary".into(),
        source,
    })?;
    cb.setup(&exe)?;
    let (state, root) = match &outcome {
        InitOutcome::Created(p) => ("created", p),
        InitOutcome::Adopted(p) => ("adopted", p),
        InitOutcome::AlreadyCasebook(p) => ("unchanged", p),
    };
    if g.json {
        return print_json(&serde_json::json!({ "path": root, "outcome": state }));
    }
    let message = match outcome {
        InitOutcome::Created(_) => "Created a case book in",
        InitOutcome::Adopted(_) => "Made the git repository a case book:",
        InitOutcome::AlreadyCasebook(_) => "Already a case book, nothing changed:",
    };
    eprintln!("{message} {}", root.display());
    print("")
}
