use comfy_table::{presets, Cell, Table};
use serde_json::json;

use super::{print, print_json_array, Globals};
use crate::error::{Error, Result};
use crate::model::commitment::State;
use crate::model::sla::SlaDuration;
use crate::model::time::format_utc;
use crate::render::local_time;

/// The work queue: every open commitment, breached first, then by due time
///
/// Acknowledgements, updates, resolutions, promised ETAs and follow-ups that are still
/// owed, with the case, customer, target, due time and time left. What an agent runs at
/// the start of the day.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only what is due within this long from now (breached ones always): e.g. 4h, 2d, 1bd
    #[arg(long, value_name = "DURATION")]
    within: Option<String>,
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
    let (items, config) = cb.due_queue(now, within)?;
    if g.json {
        return print_json_array(items.iter().map(|i| {
            let k = &i.commitment;
            let due = k.due.expect("the queue holds commitments with a due time");
            json!({
                "case": i.id.as_str(),
                "customer": i.customer,
                "subject": i.subject,
                "priority": i.priority.as_str(),
                "status": i.status.as_str(),
                "target": k.target.as_str(),
                "state": k.state.as_str(),
                "due": format_utc(&due),
                "seconds_left": (due - now).num_seconds(),
            })
        }));
    }
    if items.is_empty() {
        eprintln!("nothing is due");
        return Ok(());
    }
    let style = g.style();
    let tz = config.calendar.tz();
    let mut t = Table::new();
    t.load_preset(presets::NOTHING);
    t.set_header(
        [
            "DUE", "LEFT", "TARGET", "STATE", "CASE", "PRIORITY", "CUSTOMER", "SUBJECT",
        ]
        .map(|h| Cell::new(style.bold(h))),
    );
    for i in &items {
        let k = &i.commitment;
        let due = k.due.expect("the queue holds commitments with a due time");
        t.add_row(vec![
            Cell::new(local_time(&due, tz)),
            Cell::new(left(due - now)),
            Cell::new(k.target.as_str()),
            Cell::new(style.word(k.state.as_str())),
            Cell::new(i.id.as_str()),
            Cell::new(style.word(i.priority.as_str())),
            Cell::new(&i.customer),
            Cell::new(crate::ops::one_line(&i.subject, 40)),
        ]);
    }
    let text: Vec<String> = t
        .to_string()
        .lines()
        .map(|l| l.trim().to_string())
        .collect();
    let breached = items
        .iter()
        .filter(|i| i.commitment.state == State::Breached)
        .count();
    eprintln!("{} owed, {breached} breached", items.len());
    print(&(text.join("\n") + "\n"))
}

/// `3h 05m`, `2d 4h`, or `-1h 30m` when overdue.
fn left(d: chrono::TimeDelta) -> String {
    let sign = if d < chrono::TimeDelta::zero() {
        "-"
    } else {
        ""
    };
    let m = d.num_minutes().abs();
    let (days, hours, minutes) = (m / 1440, (m % 1440) / 60, m % 60);
    if days > 0 {
        format!("{sign}{days}d {hours}h")
    } else {
        format!("{sign}{hours}h {minutes:02}m")
    }
}
