use std::io::Write;
use std::path::PathBuf;

use super::Globals;
use crate::error::{Error, Result};

/// Git's textconv driver for case files: prints FILE with sealed values opened where this
/// clone's key ring has the key (registered by init, clone and setup; not for people)
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook textconv cases/7K/CB-7K3M9QXA.toml\n  git log -p -- cases/7K/CB-7K3M9QXA.toml"
)]
pub struct Args {
    /// The file to print (git passes a temporary copy of one version)
    file: PathBuf,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let text = crate::ops::textconv(&g.start_dir(), &args.file)?;
    std::io::stdout()
        .lock()
        .write_all(&text)
        .map_err(|source| Error::Io {
            action: "write",
            path: "standard output".into(),
            source,
        })
}
