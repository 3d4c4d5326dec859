use super::{print, print_json_array, Globals};
use crate::error::{Error, Result};
use crate::model::commitment::State;
use crate::model::sla::SlaDuration;
use crate::render;

/// The work queue: every open commitment, breached first, then by due time
///
/// Acknowledgements, updates, resolutions, promised ETAs and follow-ups that are still
/// owed, with the case, customer, target, due time and time left. What an agent runs at
/// the start of the day.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook due\n  casebook due --within 4h\n  casebook due --within 1bd --json"
)]
pub struct Args {
    /// Only what is due within this long from now (breached ones always): e.g. 4h, 2d, 1bd
    #[arg(long, value_name = "DURATION")]
    within: Option<String>,
    #[command(flatten)]
    team: super::team_filter::TeamArgs,
}

/// `4h`, `30m`, `2d` (round the clock) or `1bd`, `16h business` (business time).
fn parse_within(text: &str) -> Result<SlaDuration> {
    SlaDuration::parse(text)
        .or_else(|_| SlaDuration::parse(&format!("{text} calendar")))
        .map_err(|e| Error::invalid("--within", format!("{text:?}: {e}")))
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let within = args.within.as_deref().map(parse_within).transpose()?;
    let cb = g.casebook()?;
    let now = g.now()?;
    let (items, config) = cb.due_queue(now, within, &args.team.filter(g, &cb)?)?;
    if g.json {
        return print_json_array(items.iter().map(|i| render::due_json(i, now)));
    }
    if items.is_empty() {
        eprintln!("nothing is due");
        return Ok(());
    }
    let breached = items
        .iter()
        .filter(|i| i.commitment.state == State::Breached)
        .count();
    eprintln!("{} owed, {breached} breached", items.len());
    print(&render::due_table(
        &items,
        now,
        config.calendar.tz(),
        g.style(),
    ))
}
