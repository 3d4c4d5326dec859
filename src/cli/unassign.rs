use super::{bulk, Globals};
use crate::error::Result;

/// Give cases back to the team queue: they have no owner afterwards
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook unassign CB-7KQ2\n  casebook unassign - < ids.txt"
)]
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
    let done = cb.assign(&ctx, &targets, None)?;
    bulk::report(g, &cb, &ctx, &done)
}
