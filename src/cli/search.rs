use std::io::IsTerminal;

use clap::builder::{PossibleValuesParser, TypedValueParser};

use super::{print, print_json_array, Globals};
use crate::error::Result;
use crate::model::{Priority, Status};
use crate::render;

/// Search the cases' text: subject, description, messages, questions and answers,
/// findings, root cause, resolution, feedback and log summaries
///
/// Every word must match (in any of those fields; letter case and accents do not matter).
/// "exact phrase" in double quotes, print* for words starting with print, -word to leave out
/// cases with that word. Best matches first, each with the field that matched and a short
/// extract, matches in [brackets].
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook search paper jam\n  casebook search 'paper jam -laser' --status open\n  casebook search print* --limit 5"
)]
pub struct Args {
    /// What to search for; quote it as one argument when it has -words: 'paper jam -laser'
    #[arg(required = true, num_args = 1..)]
    query: Vec<String>,
    /// Only cases in this status (repeat for several)
    #[arg(long, value_parser = PossibleValuesParser::new(Status::KNOWN).map(|s| Status::from_stored(&s)))]
    status: Vec<Status>,
    /// Only cases of this priority (repeat for several)
    #[arg(long, value_parser = PossibleValuesParser::new(Priority::KNOWN).map(|s| Priority::from_stored(&s)))]
    priority: Vec<Priority>,
    /// Show at most N cases
    #[arg(long, value_name = "N", default_value_t = 20)]
    limit: usize,
    #[command(flatten)]
    team: super::team_filter::TeamArgs,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let query = args.query.join(" ");
    let cb = g.casebook()?;
    let team = args.team.filter(g, &cb)?;
    let hits = cb.search(&query, &args.status, &args.priority, &team, args.limit)?;
    if g.json {
        return print_json_array(
            hits.iter()
                .map(|h| serde_json::to_value(h).expect("hits serialise")),
        );
    }
    if hits.is_empty() {
        eprintln!("no case matches {query:?}");
        return Ok(());
    }
    let style = g.style();
    let mut out = String::new();
    for h in &hits {
        // Padded before it is coloured: escape bytes must not count as width.
        let pad = |w: &str, n: usize| style.word(w) + &" ".repeat(n.saturating_sub(w.len()));
        out.push_str(&format!(
            "{}  {} {} {}\n    {}: {}\n",
            style.bold(&h.case),
            pad(&h.status, 8),
            pad(&h.priority, 7),
            render::safe_line(&crate::ops::one_line(&h.subject, 60)),
            style.dim(&h.field),
            render::safe_line(&crate::ops::one_line(&h.snippet, 100)),
        ));
    }
    print(&out)?;
    if std::io::stderr().is_terminal() && hits.len() == args.limit {
        eprintln!("showing the best {}; --limit N shows more", hits.len());
    }
    Ok(())
}
