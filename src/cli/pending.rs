use super::{text, Globals};
use crate::error::Result;

/// Wait on the customer (open → pending); their next inbound contact reopens it
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook pending CB-7KQ2 --reason \"Waiting for the serial number\"\n  echo \"Waiting for photos\" | casebook pending CB-7KQ2 --reason -"
)]
pub struct Args {
    /// Case IDs, or unique starts of them; several record the action on each, in one
    /// commit; `-` reads IDs from standard input, one per line
    #[arg(required = true, value_name = "ID")]
    ids: Vec<String>,
    #[command(flatten)]
    targets: super::bulk::TargetArgs,
    /// What we are waiting for (`-` reads standard input; no value opens $EDITOR)
    #[arg(long, num_args = 0..=1, default_missing_value = text::FROM_EDITOR, value_name = "TEXT")]
    reason: String,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let (cb, ctx) = g.writer()?;
    let mut texts = text::Texts::new(&cb)?;
    let targets = args.targets.targets_reading(args.ids, &mut texts)?;
    let reason = texts.required("--reason", args.reason)?;
    let rec = cb.pending(&ctx, &targets, &reason)?;
    super::bulk::report(g, &cb, &ctx, &rec)
}
