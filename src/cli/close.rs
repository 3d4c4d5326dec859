use super::{recorded, text, Globals};
use crate::error::Result;

/// Close a case by hand (a case that was never resolved needs a --reason)
///
/// Closed is final: new contact about it opens a new case, linked with `research --link`.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook close CB-7KQ2\n  casebook close CB-7KQ2 --reason \"Duplicate of CB-9QR2\""
)]
pub struct Args {
    /// Case ID, or any unique start of the part after the dash
    id: String,
    /// Why (`-` reads standard input; no value opens $EDITOR)
    #[arg(long, num_args = 0..=1, default_missing_value = text::FROM_EDITOR, value_name = "TEXT")]
    reason: Option<String>,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let (cb, ctx) = g.writer()?;
    let reason = text::Texts::new(&cb)?.resolve("--reason", args.reason)?;
    let rec = cb.close(&ctx, &args.id, reason)?;
    recorded(g, &cb, &ctx, rec)
}
