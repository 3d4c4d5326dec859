use std::io::IsTerminal;
use std::path::PathBuf;

use serde_json::json;

use super::{print, print_json, Globals};
use crate::error::{Error, Result};
use crate::ops::{ImportFormat, ImportOptions};

/// Import cases from CSV or JSON Lines: validated whole, one commit, idempotent
///
/// Columns (matched by name, any letter case; map others in [import.columns]):
/// external_id, customer, email, phone, subject, product, priority, channel,
/// incident_at, description, opened_at (when the case was really opened). external_id,
/// customer, subject and email or phone are required. A row whose external_id is known
/// updates that case (an `import` event with old and new values) if anything changed;
/// importing the same file again does nothing. One bad row refuses the whole file
/// (every bad row is listed) unless --continue-on-error.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook import cases.csv --dry-run\n  casebook import cases.csv\n  casebook import cases.jsonl --continue-on-error\n  cat cases.csv | casebook import -"
)]
pub struct Args {
    /// The file, or - for standard input
    file: PathBuf,
    /// The file's format [default: from its extension; csv for standard input]
    #[arg(long, value_parser = ["csv", "jsonl"])]
    format: Option<String>,
    /// Show what would be created, updated and skipped; write nothing
    #[arg(long)]
    dry_run: bool,
    /// Import the good rows and report the bad ones
    #[arg(long)]
    continue_on_error: bool,
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
    let opts = ImportOptions {
        format,
        dry_run: args.dry_run,
        continue_on_error: args.continue_on_error,
        source,
    };
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} rows")
                .expect("a valid progress template"),
        );
        bar.set_message("preparing");
        bar
    });
    let mut progress = |done: u64, total: u64| {
        if let Some(bar) = &bar {
            bar.set_length(total);
            bar.set_position(done);
        }
    };
    let report = if stdin {
        cb.import(&ctx, std::io::stdin().lock(), &opts, &mut progress)?
    } else {
        let path = g.start_dir().join(&args.file);
        let file = std::fs::File::open(&path).map_err(|source| Error::Input {
            path: path.clone(),
            source,
        })?;
        cb.import(&ctx, file, &opts, &mut progress)?
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    for e in &report.rejected {
        eprintln!("rejected: {e}");
    }
    if g.json {
        return print_json(&json!({
            "dry_run": args.dry_run,
            "commit": report.commit,
            "created": report.created.iter().map(|(e, id)| json!({"external_id": e, "id": id.as_str()})).collect::<Vec<_>>(),
            "updated": report.updated.iter().map(|(e, id, f)| json!({"external_id": e, "id": id.as_str(), "fields": f})).collect::<Vec<_>>(),
            "unchanged": report.unchanged,
            "rejected": report.rejected.iter().map(|r| json!({"line": r.line, "field": r.field, "message": r.message})).collect::<Vec<_>>(),
        }));
    }
    let verb = if args.dry_run {
        "would create"
    } else {
        "created"
    };
    let upd = if args.dry_run {
        "would update"
    } else {
        "updated"
    };
    eprintln!(
        "{verb} {}, {upd} {}, unchanged {}, rejected {}{}",
        report.created.len(),
        report.updated.len(),
        report.unchanged,
        report.rejected.len(),
        report
            .commit
            .as_deref()
            .map(|c| format!(" (commit {})", &c[..10]))
            .unwrap_or_default()
    );
    let lines: Vec<String> = report
        .created
        .iter()
        .map(|(e, id)| {
            format!(
                "{} {id} {e}",
                if args.dry_run {
                    "would create"
                } else {
                    "created"
                }
            )
        })
        .chain(
            report
                .updated
                .iter()
                .map(|(e, id, f)| format!("{upd} {id} {e} ({})", f.join(", "))),
        )
        .collect();
    if lines.is_empty() {
        return Ok(());
    }
    print(&(lines.join("\n") + "\n"))
}
