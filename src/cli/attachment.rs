use std::path::PathBuf;

use super::{write_stdout, Globals};
use crate::error::{Error, Result};

/// Write the content of a case's attachment to standard output (or a file)
///
/// In a sealed case book attachments are stored encrypted; this opens one with the key
/// ring. FILE is the attachment's name as `show` lists it, its path, or the start of its
/// blob id (when two have the same name).
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook attachment CB-7KQ2 jam.jpg > jam.jpg\n  casebook attachment CB-7KQ2 jam.jpg -o /tmp/jam.jpg"
)]
pub struct Args {
    /// The case ID, or a unique start of it
    #[arg(value_name = "ID")]
    id: String,
    /// The attachment: its name, path or blob id start
    #[arg(value_name = "FILE")]
    file: String,
    /// Write it to this file instead of standard output
    #[arg(short, long, value_name = "PATH")]
    output: Option<PathBuf>,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let cb = g.casebook()?;
    let (_, content) = cb.attachment(&args.id, &args.file)?;
    match args.output {
        Some(path) => std::fs::write(&path, &content).map_err(|source| Error::Io {
            action: "write",
            path,
            source,
        }),
        None => write_stdout(|out| out.write_all(&content)),
    }
}
