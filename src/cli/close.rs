use super::{text, Globals};
use crate::error::Result;

/// Close a case by hand (a case that was never resolved needs a --reason)
///
/// Closed is final: new contact about it opens a new case, linked with `research --link`.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook close CB-7KQ2\n  casebook close CB-7KQ2 --reason \"Duplicate of CB-9QR2\""
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
    reason: Option<String>,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let (cb, ctx) = g.writer()?;
    let mut texts = text::Texts::new(&cb)?;
    let targets = args.targets.targets_reading(args.ids, &mut texts)?;
    let reason = texts.resolve("--reason", args.reason)?;
    let rec = cb.close(&ctx, &targets, reason)?;
    super::bulk::report(g, &cb, &ctx, &rec)
}
