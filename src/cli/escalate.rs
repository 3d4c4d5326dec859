use super::{text, Globals};
use crate::error::Result;

/// Escalate one level along the configured chain (agent → supervisor → manager)
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook escalate CB-7KQ2 --reason \"Needs an engineer on site\"\n  casebook escalate CB-7KQ2 --reason \"Outage\" --to \"Kim Lead\""
)]
pub struct Args {
    /// Case IDs, or unique starts of them; several record the action on each, in one
    /// commit; `-` reads IDs from standard input, one per line
    #[arg(required = true, value_name = "ID")]
    ids: Vec<String>,
    #[command(flatten)]
    targets: super::bulk::TargetArgs,
    /// Why it cannot be resolved at this level (`-` reads standard input)
    #[arg(long, num_args = 0..=1, default_missing_value = text::FROM_EDITOR, value_name = "TEXT")]
    reason: String,
    /// The person it goes to [default: the level's name]
    #[arg(long, value_name = "NAME")]
    to: Option<String>,
    /// Also make the person in --to ("Name <email>") the case's owner; without it the
    /// owner stays who it was
    #[arg(long, requires = "to")]
    assign: bool,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let (cb, ctx) = g.writer()?;
    let mut texts = text::Texts::new(&cb)?;
    let targets = args.targets.targets_reading(args.ids, &mut texts)?;
    let reason = texts.required("--reason", args.reason)?;
    let to = texts.check("--to", args.to)?;
    let rec = cb.escalate(&ctx, &targets, &reason, to, args.assign)?;
    super::bulk::report(g, &cb, &ctx, &rec)
}
