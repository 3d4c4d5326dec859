use super::{parse_channel, recorded, text, Globals};
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
    /// Case ID, or any unique start of the part after the dash
    id: String,
    /// The message sent (`-` reads standard input; no value opens $EDITOR)
    #[arg(long, num_args = 0..=1, default_missing_value = text::FROM_EDITOR, value_name = "TEXT")]
    message: Option<String>,
    /// How it was sent [default: the case's channel]
    #[arg(long, value_parser = parse_channel())]
    channel: Option<Channel>,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let (cb, ctx) = g.writer()?;
    let message = text::Texts::new(&cb)?.resolve("--message", args.message)?;
    let rec = cb.acknowledge(&ctx, &args.id, message, args.channel)?;
    recorded(g, &cb, &ctx, rec)
}
