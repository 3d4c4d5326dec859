use super::{parse_channel, text, Globals};
use crate::error::Result;
use crate::model::Channel;

/// Update the customer: progress, and the estimated resolution time (ETA)
///
/// Each --eta sets or moves the promise; every change is kept. Without --message, the
/// timeline-update template is rendered (it needs an ETA), recorded and printed.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook update CB-7KQ2 --eta \"friday 17:00\"\n  casebook update CB-7KQ2 --eta tomorrow --channel phone"
)]
pub struct Args {
    /// Case IDs, or unique starts of them; several record the action on each, in one
    /// commit; `-` reads IDs from standard input, one per line
    #[arg(required = true, value_name = "ID")]
    ids: Vec<String>,
    #[command(flatten)]
    targets: super::bulk::TargetArgs,
    /// The message sent (`-` reads standard input; no value opens $EDITOR)
    #[arg(long, num_args = 0..=1, default_missing_value = text::FROM_EDITOR, value_name = "TEXT")]
    message: Option<String>,
    /// Estimated resolution, in the case book's zone: "friday 17:00", "tomorrow 9:30", "+2d",
    /// "in 3 hours", "2026-11-25 14:00"; a date alone means the end of that business day
    #[arg(long, value_name = "TIME")]
    eta: Option<String>,
    /// How it was sent [default: the case's channel]
    #[arg(long, value_parser = parse_channel())]
    channel: Option<Channel>,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let (cb, ctx) = g.writer()?;
    let mut texts = text::Texts::new(&cb)?;
    let targets = args.targets.targets_reading(args.ids, &mut texts)?;
    let message = texts.resolve("--message", args.message)?;
    let rec = cb.update(&ctx, &targets, message, args.eta.as_deref(), args.channel)?;
    super::bulk::report(g, &cb, &ctx, &rec)
}
