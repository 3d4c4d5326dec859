use serde_json::json;

use super::{print, print_json, Globals};
use crate::error::Result;

/// Run the time-driven actions; safe from cron on any clone, and idempotent
///
/// Closes resolved cases whose follow-up window (sla.auto_close) passed with no answer,
/// and, with sla.auto_escalate = true, escalates cases with a breached target one level.
/// With [privacy] retain (e.g. "3y"), erases the personal data of cases closed longer ago
/// than that, as `casebook erase` does. One commit per action (one for all erasures);
/// nothing when nothing is due.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "Examples:\n  casebook tick --dry-run\n  casebook tick")]
pub struct Args {
    /// Show what would be done, and do nothing
    #[arg(long)]
    dry_run: bool,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let (cb, ctx) = g.writer()?;
    let actions = cb.tick(&ctx, args.dry_run)?;
    if g.json {
        return print_json(&json!({
            "dry_run": args.dry_run,
            "actions": actions.iter().map(|a| json!({
                "case": a.case.as_str(),
                "action": a.action.as_str(),
                "reason": a.reason,
            })).collect::<Vec<_>>(),
        }));
    }
    if actions.is_empty() {
        eprintln!("nothing to do");
        return Ok(());
    }
    let verb = if args.dry_run { "would" } else { "did" };
    let lines: Vec<String> = actions
        .iter()
        .map(|a| format!("{verb} {} {}: {}", a.action, a.case, a.reason))
        .collect();
    print(&(lines.join("\n") + "\n"))
}
