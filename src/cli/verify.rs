use super::{print_json, Globals};
use crate::error::{Error, Result};

/// Check the case book: every case file parses, its [case] section equals the replay of its
/// events, its ID matches its path, every alias names a case, and the index equals a full
/// scan. Exit 1 with each difference named.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "Examples:\n  casebook verify\n  casebook verify --json")]
pub struct Args {}

pub fn run(g: &Globals, _args: Args) -> Result<()> {
    let cb = g.casebook()?;
    let report = cb.verify()?;
    if g.json {
        print_json(&serde_json::json!({
            "cases": report.cases,
            "index_checked": report.index_checked,
            "problems": report.problems,
        }))?;
    } else {
        for p in &report.problems {
            println!("{p}");
        }
    }
    let index = if report.index_checked {
        "index equals a full scan"
    } else {
        "index not checked (none in use)"
    };
    if report.problems.is_empty() {
        eprintln!("{} case(s) verified; {index}", report.cases);
        Ok(())
    } else {
        Err(Error::invalid(
            "verify",
            format!(
                "{} problem(s) in {} case(s); see above",
                report.problems.len(),
                report.cases
            ),
        ))
    }
}
