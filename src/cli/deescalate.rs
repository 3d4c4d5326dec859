use super::{recorded, text, Globals};
use crate::error::Result;

/// De-escalate one level back down the chain
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook deescalate CB-7KQ2 --reason \"Engineer fixed the roller\""
)]
pub struct Args {
    /// Case ID, or any unique start of the part after the dash
    id: String,
    /// Why (`-` reads standard input; no value opens $EDITOR)
    #[arg(long, num_args = 0..=1, default_missing_value = text::FROM_EDITOR, value_name = "TEXT")]
    reason: String,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let (cb, ctx) = g.writer()?;
    let reason = text::Texts::new(&cb)?.required("--reason", args.reason)?;
    let rec = cb.deescalate(&ctx, &args.id, &reason)?;
    recorded(g, &cb, &ctx, rec)
}
