use super::{parse_channel, text, Globals};
use crate::error::Result;
use crate::model::Channel;

/// Document an interaction: when, who, how, what came of it
///
/// An inbound interaction on a pending case makes it open again. Allowed on closed cases
/// too, to document contact after the fact.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook log CB-7KQ2 --summary \"Customer called about tray 2\" --direction inbound --channel phone\n  casebook log CB-7KQ2 --summary \"Spoke to the vendor\" --direction internal --with \"Sam Vendor\" --at \"today 9:30\""
)]
pub struct Args {
    /// Case IDs, or unique starts of them; several record the action on each, in one
    /// commit; `-` reads IDs from standard input, one per line
    #[arg(required = true, value_name = "ID")]
    ids: Vec<String>,
    #[command(flatten)]
    targets: super::bulk::TargetArgs,
    /// What was said or done (`-` reads standard input; no value opens $EDITOR)
    #[arg(long, num_args = 0..=1, default_missing_value = text::FROM_EDITOR, value_name = "TEXT")]
    summary: String,
    /// A person involved (repeat for several)
    #[arg(long, value_name = "NAME")]
    with: Vec<String>,
    /// How the interaction took place
    #[arg(long, value_parser = parse_channel())]
    channel: Option<Channel>,
    /// inbound (from the customer), outbound (to them) or internal
    #[arg(long, value_parser = ["inbound", "outbound", "internal"])]
    direction: Option<String>,
    /// What came of it
    #[arg(long, value_name = "TEXT")]
    outcome: Option<String>,
    /// When it happened, if not now (not in the future): "today 9:30", "2 hours ago",
    /// "2026-11-22 16:30"
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let (cb, ctx) = g.writer()?;
    let mut texts = text::Texts::new(&cb)?;
    let targets = args.targets.targets_reading(args.ids, &mut texts)?;
    let summary = texts.required("--summary", args.summary)?;
    let outcome = texts.check("--outcome", args.outcome)?;
    let rec = cb.log(
        &ctx,
        &targets,
        &summary,
        &args.with,
        args.channel,
        args.direction.as_deref(),
        outcome,
        args.at.as_deref(),
    )?;
    super::bulk::report(g, &cb, &ctx, &rec)
}
