use std::io::IsTerminal;

use clap::builder::{PossibleValuesParser, TypedValueParser};

use super::{print, print_json_array, Globals};
use crate::error::Result;
use crate::model::commitment::State;
use crate::model::{Priority, Status};
use crate::ops::ListFilter;
use crate::render;

/// List cases, most pressing first (by status, then priority, then age)
#[derive(Debug, clap::Args)]
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
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let cb = g.casebook()?;
    let filter = ListFilter {
        statuses: args.status,
        priorities: args.priority,
        customer: args.customer,
    };
    let now = g.now()?;
    let cases = cb.list(&filter)?;
    let sla = cb.commitments(&cases, now)?;
    let wanted = args.sla.as_deref().map(|w| {
        if w == "breached" {
            State::Breached
        } else {
            State::AtRisk
        }
    });
    let (cases, sla): (Vec<_>, Vec<_>) = cases
        .into_iter()
        .zip(sla)
        .filter(|(_, ks)| wanted.is_none_or(|w| ks.iter().any(|k| k.state == w)))
        .unzip();
    if g.json {
        return print_json_array(
            cases
                .iter()
                .zip(&sla)
                .map(|(f, k)| render::case_json(f, false, k)),
        );
    }
    if cases.is_empty() {
        eprintln!("no cases match");
        return Ok(());
    }
    let width = std::io::stdout()
        .is_terminal()
        .then(terminal_width)
        .flatten();
    print(&render::list_table(&cases, &cb.config()?, g.style(), width))
}

fn terminal_width() -> Option<u16> {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .or(Some(120))
}
