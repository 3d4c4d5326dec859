use super::{print, print_json, Globals};
use crate::error::Result;
use crate::render;

/// The audit trail of a case: its commits, newest first (time, actor, action, summary)
///
/// The same as `git log -- cases/<shard>/<ID>.toml`, with the trailers read for you.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook history CB-7KQ2\n  casebook history CB-7KQ2 --json"
)]
pub struct Args {
    /// Case ID, or any unique start of the part after the dash
    id: String,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let cb = g.casebook()?;
    let (id, entries, config) = cb.history_with_config(&args.id)?;
    if g.json {
        print_json(&render::history_json(&id, &entries))
    } else {
        print(&render::history_table(&id, &entries, &config, g.style()))
    }
}
