//! What every command that acts on several cases shares: the IDs (with `-` for standard
//! input, one per line, as `list --ids` prints them), `--continue-on-error`, and the output.

use std::io::{BufRead, IsTerminal};

use super::{print_json_array, Globals};
use crate::error::{Error, Result};
use crate::ops::{Bulk, Casebook, Context, Targets};

/// The most IDs standard input may give: a runaway pipe stops here, not in memory.
const STDIN_MAX_IDS: usize = 1_000_000;

/// The IDs a command acts on, and what to do when some refuse.
#[derive(Debug, Default, clap::Args)]
pub struct TargetArgs {
    /// Record the cases that accept the action even if others refuse (still one commit)
    #[arg(long)]
    pub continue_on_error: bool,
}

impl TargetArgs {
    /// The IDs given, with `-` replaced by the IDs read from standard input (which no text
    /// option of the same command can then read).
    pub fn targets_reading(
        &self,
        given: Vec<String>,
        texts: &mut super::text::Texts,
    ) -> Result<Targets> {
        if given.iter().any(|id| id == "-") {
            texts.claim_stdin("ID")?;
        }
        self.targets(given)
    }

    /// The IDs given, with `-` replaced by the IDs read from standard input.
    pub fn targets(&self, given: Vec<String>) -> Result<Targets> {
        let mut ids = Vec::new();
        let mut stdin_read = false;
        for id in given {
            if id != "-" {
                ids.push(id.trim().to_string());
                continue;
            }
            if std::mem::replace(&mut stdin_read, true) {
                continue;
            }
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                return Err(Error::invalid(
                    "ID",
                    "`-` reads IDs from standard input, one per line: pipe them in (`casebook list --ids | ...`)",
                ));
            }
            for (n, line) in stdin.lock().lines().enumerate() {
                let line = line.map_err(|e| Error::Input {
                    path: "standard input".into(),
                    source: e,
                })?;
                let id = line.trim();
                if !id.is_empty() {
                    ids.push(id.to_string());
                }
                if n >= STDIN_MAX_IDS {
                    return Err(Error::invalid(
                        "ID",
                        format!("standard input gives more than {STDIN_MAX_IDS} IDs"),
                    ));
                }
            }
        }
        if ids.is_empty() {
            return Err(Error::invalid(
                "ID",
                "no case given (standard input was empty)",
            ));
        }
        Ok(Targets {
            ids,
            continue_on_error: self.continue_on_error,
        })
    }
}

/// The cases as JSON for scripts; for people, a line per case on stderr.
pub fn report(g: &Globals, cb: &Casebook, ctx: &Context, bulk: &Bulk) -> Result<()> {
    // One case named: what a single action has always printed (the case's JSON object,
    // or the message a template wrote, to send it).
    if bulk.named == 1 {
        if let [one] = bulk.recorded.as_slice() {
            return super::recorded(g, cb, ctx, one.clone());
        }
    }
    for r in &bulk.refused {
        eprintln!("{}: refused: {}", r.query, r.error);
    }
    if g.json {
        let config = cb.config()?;
        print_json_array(bulk.recorded.iter().map(|r| {
            let sla = crate::model::commitment::evaluate(&r.case, &config, ctx.now);
            crate::render::case_json(&r.case, true, &sla)
        }))?;
        return partly(bulk);
    }
    for r in &bulk.recorded {
        let c = &r.case.case;
        eprintln!(
            "{}: {} recorded; status {}",
            c.id,
            r.event.action(),
            c.status
        );
        super::merged_hint(r);
    }
    for id in &bulk.unchanged {
        eprintln!("{id}: unchanged (nothing to record)");
    }
    if bulk.recorded.len() > 1 {
        eprintln!(
            "{} cases in one commit{}",
            bulk.recorded.len(),
            bulk.commit
                .as_deref()
                .map(|c| format!(" ({})", &c[..10.min(c.len())]))
                .unwrap_or_default()
        );
    }
    partly(bulk)
}

/// With `--continue-on-error`, some cases may have refused while the others were
/// recorded: still exit 1, so a script notices.
fn partly(bulk: &Bulk) -> Result<()> {
    match bulk.refused.len() {
        0 => Ok(()),
        refused => Err(Error::PartlyRecorded {
            named: bulk.named,
            refused,
        }),
    }
}
