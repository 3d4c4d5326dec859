use clap::builder::{PossibleValuesParser, TypedValueParser};

use super::{write_stdout, Globals};
use crate::error::Result;
use crate::model::Status;
use crate::ops::export_columns;

/// Export cases to standard output as CSV or JSON Lines
///
/// One row per case with its current values; the first columns are the import columns,
/// so an export imports into another case book. --redact replaces customer names, e-mail
/// addresses and phone numbers with pseudonyms that are stable across exports from this
/// clone (free text such as descriptions is not changed).
///
/// --customer answers a subject access request (GDPR Art. 15): everything this case book
/// holds about one customer, every case with its whole history, opened, as one JSON
/// document.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook export > cases.csv\n  casebook export --format jsonl --status open\n  casebook export --redact > for-the-vendor.csv\n  casebook export --customer ada@example.com --json > ada.json"
)]
pub struct Args {
    /// The output format: CSV, or JSON Lines (one case per line)
    #[arg(long, value_parser = ["csv", "jsonl"], default_value = "csv")]
    format: String,
    /// Only cases in this status (repeat for several)
    #[arg(long, value_parser = PossibleValuesParser::new(Status::KNOWN).map(|s| Status::from_stored(&s)))]
    status: Vec<Status>,
    /// Replace customer personal data with stable pseudonyms
    #[arg(long)]
    redact: bool,
    /// Everything held about the customer with this e-mail address or phone number, as one
    /// JSON document (subject access)
    #[arg(long, value_name = "EMAIL|PHONE", conflicts_with_all = ["redact", "status"])]
    customer: Option<String>,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let cb = g.casebook()?;
    if let Some(contact) = &args.customer {
        let all = cb.subject_access(contact, g.now()?)?;
        return super::print_json(&all);
    }
    let rows = cb.export(&args.status, args.redact, g.now()?)?;
    let columns = export_columns();
    let jsonl = args.format == "jsonl" || g.json;
    write_stdout(|out| {
        if jsonl {
            for row in &rows {
                let object: serde_json::Map<String, serde_json::Value> = columns
                    .iter()
                    .zip(row)
                    .map(|(k, v)| (k.to_string(), json_value(k, v)))
                    .collect();
                serde_json::to_writer(&mut *out, &object)?;
                out.write_all(b"\n")?;
            }
            return Ok(());
        }
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(columns).map_err(csv_io)?;
        for row in &rows {
            writer
                .write_record(row.iter().map(|v| v.as_deref().unwrap_or("")))
                .map_err(csv_io)?;
        }
        writer.flush()
    })
}

/// Counts and minutes are numbers in JSON, yes/no columns booleans; everything else is
/// text or null.
fn json_value(column: &str, value: &Option<String>) -> serde_json::Value {
    use crate::model::review_export::{BOOL_COLUMNS, NUMBER_COLUMNS};
    match value {
        None => serde_json::Value::Null,
        Some(v) if matches!(column, "escalation_level" | "reopen_count") => v
            .parse::<u64>()
            .map_or_else(|_| v.clone().into(), Into::into),
        Some(v) if NUMBER_COLUMNS.contains(&column) => match v.parse::<u64>() {
            Ok(n) => n.into(),
            Err(_) => v
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map_or_else(|| v.clone().into(), serde_json::Value::Number),
        },
        Some(v) if BOOL_COLUMNS.contains(&column) => v
            .parse::<bool>()
            .map_or_else(|_| v.clone().into(), Into::into),
        Some(v) => v.clone().into(),
    }
}

/// The I/O error inside a CSV error, so a closed pipe is still recognised as one.
fn csv_io(e: csv::Error) -> std::io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => std::io::Error::other(format!("{other:?}")),
    }
}
