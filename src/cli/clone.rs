use std::path::PathBuf;

use super::{print_json, Globals};
use crate::error::{Error, Result};
use crate::ops::Casebook;

/// Clone a shared case book and set it up (merge driver included)
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook clone git@example.com:support/casebook.git\n  casebook clone /srv/casebook.git support"
)]
pub struct Args {
    /// Where the case book is: any git URL or path
    url: String,
    /// The folder to clone into [default: from the URL, as git does]
    #[arg(value_name = "DIR")]
    path: Option<PathBuf>,
    /// Store only: a bare clone with no working tree
    #[arg(long)]
    bare: bool,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let name = args
        .url
        .trim_end_matches('/')
        .rsplit(['/', ':'])
        .next()
        .unwrap_or("casebook")
        .trim_end_matches(".git");
    let dir = g.start_dir().join(args.path.unwrap_or_else(|| {
        PathBuf::from(if args.bare {
            format!("{name}.git")
        } else {
            name.to_string()
        })
    }));
    let exe = std::env::current_exe().map_err(|source| Error::Io {
        action: "find",
        path: "the casebook binary".into(),
        source,
    })?;
    let cb = Casebook::clone_from(&args.url, &dir, args.bare, &exe)?;
    if g.json {
        return print_json(&serde_json::json!({ "path": cb.store().root() }));
    }
    eprintln!("Cloned a case book into {}", cb.store().root().display());
    Ok(())
}
