use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::json;

use super::{print, print_json, Globals};
use crate::error::{Error, Result};
use crate::ops::{ImportFormat, ImportOptions, ImportReport};

/// Import cases from CSV or JSON Lines: validated whole, one commit, idempotent
///
/// Columns (matched by name, any letter case; map others in [import.columns]):
/// external_id, customer, email, phone, subject, product, priority, channel,
/// incident_at, description, opened_at (when the case was really opened). external_id,
/// customer, subject and email or phone are required. A row whose external_id is known
/// updates that case (an `import` event with old and new values) if anything changed;
/// importing the same file again does nothing. One bad row refuses the whole file
/// (every bad row is listed, by the line it starts on) unless --continue-on-error, which
/// imports the good rows and still exits 1.
///
/// Prints a summary (created, updated, unchanged, rejected) on stderr; --verbose also
/// prints one line per created or updated case on stdout.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "Examples:
  casebook import cases.csv
  casebook import cases.csv --dry-run --verbose
  casebook import - --format jsonl < cases.jsonl
  casebook import cases.csv --continue-on-error --json | jq '.rejected'")]
pub struct Args {
    /// The file, or - for standard input
    file: PathBuf,
    /// The file's format [default: from its extension; csv for standard input]
    #[arg(long, value_parser = ["csv", "jsonl"])]
    format: Option<String>,
    /// Show what would be created, updated and skipped; write nothing
    #[arg(long)]
    dry_run: bool,
    /// Import the good rows and report the bad ones (the exit code is still 1)
    #[arg(long)]
    continue_on_error: bool,
    /// Also print each created or updated case on stdout
    #[arg(short, long, conflicts_with = "quiet")]
    verbose: bool,
    /// Print nothing but errors (no progress, no summary)
    #[arg(short, long)]
    quiet: bool,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let (cb, ctx) = g.writer()?;
    let stdin = args.file.as_os_str() == "-";
    let format = match args.format.as_deref() {
        Some("jsonl") => ImportFormat::Jsonl,
        Some(_) => ImportFormat::Csv,
        None if args
            .file
            .extension()
            .is_some_and(|e| e == "jsonl" || e == "ndjson") =>
        {
            ImportFormat::Jsonl
        }
        None => ImportFormat::Csv,
    };
    let source = if stdin {
        "standard input".to_string()
    } else {
        args.file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let mut opts = ImportOptions {
        format,
        dry_run: args.dry_run,
        continue_on_error: args.continue_on_error,
        source,
        size: None,
    };
    let bar = (!args.quiet && std::io::stderr().is_terminal()).then(progress_bar);
    let report = if stdin {
        cb.import(&ctx, std::io::stdin().lock(), &opts)
    } else {
        let path = g.start_dir().join(&args.file);
        let file = std::fs::File::open(&path).map_err(|source| Error::Input {
            path: path.clone(),
            source,
        })?;
        opts.size = file.metadata().ok().map(|m| m.len());
        cb.import(&ctx, file, &opts)
    };
    if let Some(bar) = bar {
        crate::progress::set_sink(None);
        bar.finish_and_clear();
    }
    let report = report?;
    for e in &report.rejected {
        eprintln!("rejected: {e}");
    }
    if g.json {
        print_json(&json!({
            "dry_run": args.dry_run,
            "commit": report.commit,
            "created": report.created.iter().map(|(e, id)| json!({"external_id": e, "id": id.as_str()})).collect::<Vec<_>>(),
            "updated": report.updated.iter().map(|(e, id, f)| json!({"external_id": e, "id": id.as_str(), "fields": f})).collect::<Vec<_>>(),
            "unchanged": report.unchanged,
            "rejected": report.rejected.iter().map(|r| json!({"line": r.line, "field": (!r.field.is_empty()).then_some(&r.field), "message": r.message})).collect::<Vec<_>>(),
        }))?;
    } else {
        if !args.quiet {
            eprintln!("{}", summary(&opts.source, &report, args.dry_run));
        }
        if args.verbose {
            print(&rows(&report, args.dry_run))?;
        }
    }
    if report.rejected.is_empty() {
        return Ok(());
    }
    // Only reached with --continue-on-error: the good rows are in, the bad ones are not.
    let mut bad: Vec<u64> = report.rejected.iter().map(|r| r.line).collect();
    bad.dedup();
    Err(Error::PartlyImported {
        file: opts.source,
        rejected: bad.len(),
    })
}

/// One bar through every phase, its message naming the phase.
fn progress_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:>30} {wide_bar} {percent:>3}%")
            .expect("a valid progress template"),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let shown = bar.clone();
    crate::progress::set_sink(Some(Arc::new(move |phase, done, total| {
        if shown.message() != phase {
            shown.set_message(phase);
        }
        // Unknown totals (standard input, a phase without one) show an empty bar.
        shown.set_length(total.max(1));
        shown.set_position(if total == 0 { 0 } else { done.min(total) });
    })));
    bar
}

/// "imported cases.csv: created 3, updated 1, unchanged 0, rejected 0 (commit 1a2b3c4d5e)".
fn summary(source: &str, r: &ImportReport, dry_run: bool) -> String {
    let (created, updated) = verbs(dry_run);
    let lead = if dry_run { "dry run of" } else { "imported" };
    let mut rejected: Vec<u64> = r.rejected.iter().map(|e| e.line).collect();
    rejected.dedup();
    format!(
        "{lead} {source}: {created} {}, {updated} {}, unchanged {}, rejected {}{}",
        r.created.len(),
        r.updated.len(),
        r.unchanged,
        rejected.len(),
        r.commit
            .as_deref()
            .map(|c| format!(" (commit {})", &c[..10]))
            .unwrap_or_default()
    )
}

/// One line per created or updated case, for --verbose.
fn rows(r: &ImportReport, dry_run: bool) -> String {
    let (created, updated) = verbs(dry_run);
    let mut out = String::new();
    for (e, id) in &r.created {
        out.push_str(&format!("{created} {id} {e}\n"));
    }
    for (e, id, fields) in &r.updated {
        out.push_str(&format!("{updated} {id} {e} ({})\n", fields.join(", ")));
    }
    out
}

/// What happened to a created and an updated case, or would have in a dry run.
fn verbs(dry_run: bool) -> (&'static str, &'static str) {
    if dry_run {
        ("would create", "would update")
    } else {
        ("created", "updated")
    }
}
