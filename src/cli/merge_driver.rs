use std::path::PathBuf;

use super::Globals;
use crate::error::Result;

/// Git's merge driver for case files (registered by init, clone and setup; not for people)
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The common ancestor's version (%O)
    base: PathBuf,
    /// Our version, which receives the result (%A)
    ours: PathBuf,
    /// Their version (%B)
    theirs: PathBuf,
    /// The file's path in the repository (%P)
    path: String,
}

pub fn run(_g: &Globals, args: Args) -> Result<()> {
    crate::ops::merge_driver(&args.ours, &args.theirs, &args.path)
}
