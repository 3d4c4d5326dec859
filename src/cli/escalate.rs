use super::{recorded, text, Globals};
use crate::error::Result;

/// Escalate one level along the configured chain (agent → supervisor → manager)
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook escalate CB-7KQ2 --reason \"Needs an engineer on site\"\n  casebook escalate CB-7KQ2 --reason \"Outage\" --to \"Kim Lead\""
)]
pub struct Args {
    /// Case ID, or any unique start of the part after the dash
    id: String,
    /// Why it cannot be resolved at this level (`-` reads standard input)
    #[arg(long, num_args = 0..=1, default_missing_value = text::FROM_EDITOR, value_name = "TEXT")]
    reason: String,
    /// The person it goes to [default: the level's name]
    #[arg(long, value_name = "NAME")]
    to: Option<String>,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let (cb, ctx) = g.writer()?;
    let mut texts = text::Texts::new(&cb)?;
    let reason = texts.required("--reason", args.reason)?;
    let to = texts.check("--to", args.to)?;
    let rec = cb.escalate(&ctx, &args.id, &reason, to)?;
    recorded(g, &cb, &ctx, rec)
}
