use super::{text, Globals};
use crate::error::Result;

/// Reopen a resolved case (resolved → open; counts as a reopen)
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook reopen CB-7KQ2 --reason \"Jams again since Monday\""
)]
pub struct Args {
    /// Case IDs, or unique starts of them; several record the action on each, in one
    /// commit; `-` reads IDs from standard input, one per line
    #[arg(required = true, value_name = "ID")]
    ids: Vec<String>,
    #[command(flatten)]
    targets: super::bulk::TargetArgs,
    /// Why the resolution did not hold (`-` reads standard input; no value opens $EDITOR)
    #[arg(long, num_args = 0..=1, default_missing_value = text::FROM_EDITOR, value_name = "TEXT")]
    reason: String,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let (cb, ctx) = g.writer()?;
    let mut texts = text::Texts::new(&cb)?;
    let targets = args.targets.targets_reading(args.ids, &mut texts)?;
    let reason = texts.required("--reason", args.reason)?;
    let rec = cb.reopen(&ctx, &targets, &reason)?;
    super::bulk::report(g, &cb, &ctx, &rec)
}
