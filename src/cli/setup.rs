use super::Globals;
use crate::error::{Error, Result};

/// Set up this clone: register casebook's merge driver, so `git pull` and `git merge`
/// merge case files event by event, and its textconv driver for `git log -p`, and fetch
/// the key ring (needed once in clones made with plain `git clone`)
#[derive(Debug, clap::Args)]
#[command(after_long_help = "Examples:\n  casebook setup")]
pub struct Args {}

pub fn run(g: &Globals, _args: Args) -> Result<()> {
    let cb = g.casebook()?;
    let exe = std::env::current_exe().map_err(|source| Error::Io {
        action: "find",
        path: "the casebook binary".into(),
        source,
    })?;
    cb.setup(&exe)?;
    eprintln!(
        "Registered the merge and textconv drivers ({}) in {}",
        exe.display(),
        cb.store().root().display()
    );
    Ok(())
}
