use super::{bulk, Globals};
use crate::error::Result;

/// Take cases: make the acting agent their owner (`assign --to me`)
#[derive(Debug, clap::Args)]
#[command(after_long_help = "Examples:\n  casebook take CB-7KQ2\n  casebook take - < ids.txt")]
pub struct Args {
    /// Case IDs (or unique starts of them); `-` reads them from standard input
    #[arg(required = true, value_name = "ID")]
    ids: Vec<String>,
    #[command(flatten)]
    targets: bulk::TargetArgs,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let (cb, ctx) = g.writer()?;
    let targets = args.targets.targets(args.ids)?;
    let done = cb.assign(&ctx, &targets, Some(&ctx.actor))?;
    bulk::report(g, &cb, &ctx, &done)
}
