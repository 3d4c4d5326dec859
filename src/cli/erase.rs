use serde_json::json;

use super::{print, print_json, Globals};
use crate::error::{Error, Result};
use crate::ops::EraseTarget;

/// Erase a customer's personal data for good (right to erasure), keeping the audit trail
///
/// Destroys the keys of the sealed personal data of every case of the customer (or of the
/// named cases) and records an `erase` event in each, in one commit. History is not
/// rewritten: every event, time and agent stays; names, contacts, messages, answers,
/// feedback and attachments read "[erased]" everywhere, in every clone once it syncs.
/// The key ring's old versions are purged from this repository; see README.md, "Personal
/// data", for what a hosting service may still keep and how to purge it.
///
/// Personal data recorded before the case book was sealed (`casebook seal`) is plain text
/// in history: it is listed, and only a history rewrite that every clone follows removes it.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook erase --customer ada@example.com --reason \"GDPR request 2026-114\"\n  casebook erase CB-7KQ2 --reason \"asked by the customer\" --dry-run"
)]
pub struct Args {
    /// Cases to erase (IDs, or unique starts of them)
    #[arg(
        value_name = "ID",
        conflicts_with = "customer",
        required_unless_present = "customer"
    )]
    ids: Vec<String>,
    /// Every case of the customer with this e-mail address or phone number
    #[arg(long, value_name = "EMAIL|PHONE")]
    customer: Option<String>,
    /// Why (recorded in each case's `erase` event; no personal data, please)
    #[arg(long, value_name = "TEXT")]
    reason: String,
    /// Show what would be erased, and erase nothing
    #[arg(long)]
    dry_run: bool,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let (cb, ctx) = g.writer()?;
    let target = match args.customer {
        Some(c) => EraseTarget::Customer(c),
        None => EraseTarget::Cases(args.ids),
    };
    let report = cb.erase(&ctx, &target, &args.reason, args.dry_run)?;
    if g.json {
        return print_json(&json!({
            "dry_run": report.dry_run,
            "keys": report.keys,
            "cases": report.cases.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            "plain": report.plain.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        }));
    }
    let mut out = String::new();
    let verb = if report.dry_run {
        "would erase"
    } else {
        "erased"
    };
    let n = report.cases.len();
    if n == 0 {
        // Only plain personal data (a plain book, or cases not written since `seal`): no
        // key to destroy, so there is nothing to list.
        out.push_str(&format!(
            "{}: no sealed personal data, so no key to destroy\n",
            if report.dry_run {
                "nothing would be erased"
            } else {
                "nothing was erased"
            }
        ));
    } else {
        // A retention run can erase thousands: the first few, and how many more.
        const LISTED: usize = 20;
        let mut listed: Vec<&str> = report
            .cases
            .iter()
            .take(LISTED)
            .map(|c| c.as_str())
            .collect();
        let more = format!(
            "and {} more (--json lists them all)",
            n.saturating_sub(LISTED)
        );
        if n > LISTED {
            listed.push(&more);
        }
        out.push_str(&format!(
            "{verb} the personal data of {n} case{}: {}\n",
            if n == 1 { "" } else { "s" },
            listed.join(", ")
        ));
    }
    if !report.plain.is_empty() {
        out.push_str(&format!(
            "warning: {} hold{} personal data recorded while this book was not sealed; it stays in plain text in history (removing it needs a history rewrite every clone follows; casebook does not do that): {}\n",
            if report.plain.len() == 1 { "this case" } else { "these cases" },
            if report.plain.len() == 1 { "s" } else { "" },
            report.plain.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    if !report.dry_run && n > 0 {
        out.push_str(
            "run `casebook sync` to carry the erasure to the remote and the other clones\n",
        );
    }
    if report.dry_run || n > 0 || !report.plain.is_empty() {
        print(&out)
    } else {
        Err(Error::invalid("erase", "nothing to erase"))
    }
}
