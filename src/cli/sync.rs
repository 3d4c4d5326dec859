use serde_json::json;

use super::{print, print_json, Globals};
use crate::error::Result;

/// Share the case book: fetch, merge case by case, push
///
/// Fetches with the system git (your SSH config and credential helpers apply), merges the
/// remote branch with casebook's event-by-event merge (no conflict markers in case files),
/// and pushes; if the push is rejected because the remote moved, it fetches and merges
/// again. Two clones that created the same case ID keep both cases: one is renamed, and
/// its old ID stays as an alias. Nothing local is lost when the remote cannot be reached.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "Examples:\n  casebook sync\n  casebook sync upstream")]
pub struct Args {
    /// The remote [default: the branch's upstream, else origin]
    remote: Option<String>,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let (cb, ctx) = g.writer()?;
    let r = cb.sync(&ctx, args.remote.as_deref())?;
    let ids = |v: &[crate::model::CaseId]| v.iter().map(|i| i.to_string()).collect::<Vec<_>>();
    if g.json {
        return print_json(&json!({
            "remote": r.remote,
            "incoming": ids(&r.incoming),
            "new_cases": ids(&r.new_cases),
            "outgoing_commits": r.outgoing_commits,
            "outgoing": ids(&r.outgoing),
            "renamed": r.renamed.iter().map(|(o, n)| json!({"from": o.as_str(), "to": n.as_str()})).collect::<Vec<_>>(),
            "pushed": r.pushed,
            "keyring_pushed": r.keyring_pushed,
            "erased": ids(&r.erased),
            "attempts": r.attempts,
        }));
    }
    let mut lines = vec![format!(
        "{}: {} case(s) came in ({} new), {} went out in {} commit(s){}",
        r.remote,
        r.incoming.len(),
        r.new_cases.len(),
        r.outgoing.len(),
        r.outgoing_commits,
        if r.pushed { "" } else { "; nothing to push" }
    )];
    if r.keyring_pushed {
        lines.push("the key ring changed here and went out too".into());
    }
    if !r.erased.is_empty() {
        lines.push(format!(
            "erased the personal data of {} case(s) made here ({}): another clone erased the same customer",
            r.erased.len(),
            ids(&r.erased).join(", ")
        ));
    }
    for (old, new) in &r.renamed {
        lines.push(format!(
            "renamed {old} to {new}: another clone had created a case with the same ID"
        ));
    }
    print(&(lines.join("\n") + "\n"))
}
