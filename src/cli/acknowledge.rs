use super::{parse_channel, text, Globals};
use crate::error::Result;
use crate::model::Channel;

/// Acknowledge the inquiry: the first response (new → open)
///
/// Without --message, the acknowledgement template is rendered for the case (customer's
/// name, case number, what happens next), recorded, and printed so you can send it.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook ack CB-7KQ2\n  casebook ack 7KQ --channel phone --message \"Called back, looking into it\""
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
    /// How it was sent [default: the case's channel]
    #[arg(long, value_parser = parse_channel())]
    channel: Option<Channel>,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let (cb, ctx) = g.writer()?;
    let mut texts = text::Texts::new(&cb)?;
    let targets = args.targets.targets_reading(args.ids, &mut texts)?;
    let message = texts.resolve("--message", args.message)?;
    let rec = cb.acknowledge(&ctx, &targets, message, args.channel)?;
    super::bulk::report(g, &cb, &ctx, &rec)
}
