use super::{text, Globals};
use crate::error::Result;

/// Resolve the case (open/pending → resolved) with what solved it
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook resolve CB-7KQ2 --resolution \"Replaced the tray 2 roller\"\n  casebook resolve CB-7KQ2 --resolution \"Firmware 2.1 fixes it\" --root-cause \"Firmware bug\""
)]
pub struct Args {
    /// Case IDs, or unique starts of them; several record the action on each, in one
    /// commit; `-` reads IDs from standard input, one per line
    #[arg(required = true, value_name = "ID")]
    ids: Vec<String>,
    #[command(flatten)]
    targets: super::bulk::TargetArgs,
    /// The solution given to the customer (`-` reads standard input; no value opens $EDITOR)
    #[arg(long, num_args = 0..=1, default_missing_value = text::FROM_EDITOR, value_name = "TEXT")]
    resolution: String,
    /// The root cause, if research did not record it yet
    #[arg(long, value_name = "TEXT")]
    root_cause: Option<String>,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let (cb, ctx) = g.writer()?;
    let mut texts = text::Texts::new(&cb)?;
    let targets = args.targets.targets_reading(args.ids, &mut texts)?;
    let resolution = texts.required("--resolution", args.resolution)?;
    let root_cause = texts.check("--root-cause", args.root_cause)?;
    let rec = cb.resolve(&ctx, &targets, &resolution, root_cause)?;
    super::bulk::report(g, &cb, &ctx, &rec)
}
