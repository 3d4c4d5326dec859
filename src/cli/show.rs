use super::{print, print_json, Globals};
use crate::error::Result;
use crate::render;

/// Show a case: its current values, the customer, and the whole conversation
///
/// Every event on a timeline, each with the full text it recorded, marked as sent to the
/// customer, from the customer or internal. --brief keeps one line per event.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook show CB-7KQ2\n  casebook show 7KQ --json\n  casebook show CB-7KQ2 --tz America/New_York"
)]
pub struct Args {
    /// Case ID, or any unique start of the part after the dash
    id: String,
    /// One line per event, without the text each recorded
    #[arg(long)]
    brief: bool,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let cb = g.casebook()?;
    let (file, config, sla) = cb.show_at(&args.id, g.now()?)?;
    if g.json {
        print_json(&render::case_json(&file, true, &sla))
    } else {
        print(&render::show_text(
            &file,
            &config,
            &sla,
            g.style(),
            args.brief,
        ))
    }
}
