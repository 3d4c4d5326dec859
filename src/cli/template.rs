use super::{print, print_json, Globals};
use crate::error::Result;

/// Preview a message template rendered for a case; records nothing
///
/// Templates: acknowledge, update (needs an ETA: the case's, or --eta), follow-up.
/// Override them in .casebook/config.toml ([templates]) or .casebook/templates/<name>.txt.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook template acknowledge CB-7KQ2\n  casebook template update CB-7KQ2 --eta \"tomorrow 14:00\""
)]
pub struct Args {
    /// Which template
    #[arg(value_parser = ["acknowledge", "update", "follow-up"])]
    name: String,
    /// Case ID, or any unique start of the part after the dash
    id: String,
    /// An ETA to show instead of the case's (same forms as `update --eta`)
    #[arg(long, value_name = "TIME")]
    eta: Option<String>,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let (cb, ctx) = g.writer()?;
    let text = cb.preview_template(&ctx, &args.name, &args.id, args.eta.as_deref())?;
    if g.json {
        print_json(&serde_json::json!({ "template": args.name, "text": text }))
    } else {
        print(&format!("{text}\n"))
    }
}
