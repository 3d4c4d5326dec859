use std::io::IsTerminal;

use clap::builder::{PossibleValuesParser, TypedValueParser};

use super::{print, print_json_array, Globals};
use crate::error::Result;
use crate::model::commitment::State;
use crate::model::{Priority, Status};
use crate::ops::{ListFilter, ListSort};
use crate::render;

/// How many cases `list` shows on a terminal unless told otherwise.
const TERMINAL_CAP: usize = 50;

/// List cases, most pressing first (by status, then priority, then age)
///
/// Closed cases are left out unless --all or --status closed asks for them. On a terminal
/// at most 50 cases are shown (a line says how many more); --limit sets another cap, and
/// output to a pipe or with --json is not capped unless --limit is given.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook list\n  casebook list --status open --priority urgent --priority high\n  casebook list --sla breached --since \"7 days ago\" --sort due\n  casebook list --all --customer example.com --limit 200"
)]
pub struct Args {
    /// Only cases in this status (repeat for several)
    #[arg(long, value_parser = PossibleValuesParser::new(Status::KNOWN).map(|s| Status::from_stored(&s)))]
    status: Vec<Status>,
    /// Only cases of this priority (repeat for several)
    #[arg(long, value_parser = PossibleValuesParser::new(Priority::KNOWN).map(|s| Priority::from_stored(&s)))]
    priority: Vec<Priority>,
    /// Only cases whose customer name, e-mail or phone contains TEXT (any letter case)
    #[arg(long, value_name = "TEXT")]
    customer: Option<String>,
    /// Only cases with an SLA target in this state (breached includes missed ETAs)
    #[arg(long, value_parser = ["breached", "at-risk"])]
    sla: Option<String>,
    /// Only cases opened at or after this time, in the case book's zone: "7 days ago",
    /// "monday", "today 9:00", "2026-11-01" (a date alone is its start)
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Only cases opened before this time (same forms as --since)
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// Include closed cases
    #[arg(long)]
    all: bool,
    /// Order: pressing (status, priority, age), opened (newest first), updated (most
    /// recently changed first), priority (urgent first), due (next due time first)
    #[arg(long, value_parser = ["pressing", "opened", "updated", "priority", "due"], default_value = "pressing")]
    sort: String,
    /// Show at most N cases
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    #[command(flatten)]
    team: super::team_filter::TeamArgs,
    /// Print only the IDs, one per line (for `casebook take -` and other bulk actions)
    #[arg(long, conflicts_with = "json")]
    ids: bool,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let cb = g.casebook()?;
    let sla = args.sla.as_deref().map(|w| {
        if w == "breached" {
            State::Breached
        } else {
            State::AtRisk
        }
    });
    let filter = ListFilter {
        statuses: args.status,
        priorities: args.priority,
        customer: args.customer,
        sla,
        since: args.since,
        until: args.until,
        all: args.all,
        team: args.team.filter(g, &cb)?,
    };
    let sort = ListSort::parse(&args.sort).unwrap_or_default();
    let terminal = std::io::stdout().is_terminal();
    let limit = args
        .limit
        .or((terminal && !g.json && !args.ids).then_some(TERMINAL_CAP));
    let now = g.now()?;
    let listed = cb.list(&filter, sort, limit, now)?;
    if g.json {
        return print_json_array(
            listed
                .cases
                .iter()
                .zip(&listed.commitments)
                .map(|(f, k)| render::case_json(f, false, k)),
        );
    }
    if args.ids {
        let mut out = String::new();
        for f in &listed.cases {
            out.push_str(f.case.id.as_str());
            out.push('\n');
        }
        return print(&out);
    }
    if listed.cases.is_empty() {
        eprintln!("no cases match");
        return Ok(());
    }
    print(&render::list_table(
        &listed.cases,
        &listed.config,
        g.style(),
    ))?;
    let more = listed.total - listed.cases.len();
    if more > 0 {
        eprintln!(
            "{} of {} shown; {more} more (use --limit N to see more)",
            listed.cases.len(),
            listed.total
        );
    }
    Ok(())
}
