use super::{text, Globals};
use crate::error::Result;

/// De-escalate one level back down the chain
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook deescalate CB-7KQ2 --reason \"Engineer fixed the roller\""
)]
pub struct Args {
    /// Case IDs, or unique starts of them; several record the action on each, in one
    /// commit; `-` reads IDs from standard input, one per line
    #[arg(required = true, value_name = "ID")]
    ids: Vec<String>,
    #[command(flatten)]
    targets: super::bulk::TargetArgs,
    /// Why (`-` reads standard input; no value opens $EDITOR)
    #[arg(long, num_args = 0..=1, default_missing_value = text::FROM_EDITOR, value_name = "TEXT")]
    reason: String,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let (cb, ctx) = g.writer()?;
    let mut texts = text::Texts::new(&cb)?;
    let targets = args.targets.targets_reading(args.ids, &mut texts)?;
    let reason = texts.required("--reason", args.reason)?;
    let rec = cb.deescalate(&ctx, &targets, &reason)?;
    super::bulk::report(g, &cb, &ctx, &rec)
}
