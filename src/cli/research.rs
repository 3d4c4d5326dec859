use super::{text, Globals};
use crate::error::Result;

/// Research and analyze: findings, root cause, isolated or systemic, related cases
///
/// Linked cases must exist; the link shows on both cases.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook research CB-7KQ2 --finding \"Roller worn\" --root-cause \"Worn tray 2 roller\"\n  casebook research CB-7KQ2 --scope systemic --link CB-9QR2"
)]
pub struct Args {
    /// Case IDs, or unique starts of them; several record the action on each, in one
    /// commit; `-` reads IDs from standard input, one per line
    #[arg(required = true, value_name = "ID")]
    ids: Vec<String>,
    #[command(flatten)]
    targets: super::bulk::TargetArgs,
    /// What was found (`-` reads standard input; no value opens $EDITOR)
    #[arg(long, num_args = 0..=1, default_missing_value = text::FROM_EDITOR, value_name = "TEXT")]
    finding: Option<String>,
    /// The root cause, once known
    #[arg(long, value_name = "TEXT")]
    root_cause: Option<String>,
    /// Whether the problem affects only this customer or many
    #[arg(long, value_parser = ["isolated", "systemic"])]
    scope: Option<String>,
    /// A related case (repeat for several)
    #[arg(long, value_name = "ID")]
    link: Vec<String>,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let (cb, ctx) = g.writer()?;
    let mut texts = text::Texts::new(&cb)?;
    let targets = args.targets.targets_reading(args.ids, &mut texts)?;
    let finding = texts.resolve("--finding", args.finding)?;
    let root_cause = texts.check("--root-cause", args.root_cause)?;
    let rec = cb.research(
        &ctx,
        &targets,
        finding,
        root_cause,
        args.scope.as_deref(),
        &args.link,
    )?;
    super::bulk::report(g, &cb, &ctx, &rec)
}
