//! `import`: cases from CSV or JSON Lines, validated whole, written as one commit.
//!
//! Every row is checked before anything is written. By default one bad row refuses the
//! whole file (every bad row is listed by line and field); with `continue_on_error` the
//! good rows go in and the bad ones are reported. Rows are matched to cases by
//! `external_id`: a new one opens a case, a known one whose facts changed gets an `import`
//! event with old and new values, and an unchanged one is skipped, so importing the same
//! file twice makes no second commit. The commit is written as one pack.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Read};

use chrono::{DateTime, Utc};

use super::export::export_only_columns;
use super::{Casebook, Context};
use crate::error::{Error, Result};
use crate::model::config::IMPORT_FIELDS;
use crate::model::event::{CustomerFields, FieldChange};
use crate::model::intake::{Intake, IntakeInput};
use crate::model::time::format_utc;
use crate::model::{Action, CaseFile, CaseId, Config, Event};
use crate::store::{Change, Snapshot};

/// Longest line read from an import file; a longer one is an error, never buffered whole.
pub const MAX_LINE_BYTES: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    Csv,
    Jsonl,
}

#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub format: ImportFormat,
    pub dry_run: bool,
    pub continue_on_error: bool,
    /// The file's name, for the commit message and the events.
    pub source: String,
}

pub use crate::model::intake::RowError;

/// What an import did (or would do).
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub created: Vec<(String, CaseId)>,
    /// External ID, case, and the fields that changed.
    pub updated: Vec<(String, CaseId, Vec<String>)>,
    pub unchanged: usize,
    pub rejected: Vec<RowError>,
    pub commit: Option<String>,
}

/// Whole files to write: (path, content).
type Files = Vec<(String, Vec<u8>)>;

/// One row as read: its line and its fields by casebook's names.
struct Row {
    line: u64,
    fields: HashMap<&'static str, String>,
}

impl Casebook {
    /// Imports `input`. `progress(done, total)` is called while rows are prepared.
    pub fn import(
        &self,
        ctx: &Context,
        input: impl Read,
        opts: &ImportOptions,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<ImportReport> {
        let config = self.config()?;
        let rows = match opts.format {
            ImportFormat::Csv => read_csv(input, &config)?,
            ImportFormat::Jsonl => read_jsonl(input, &config)?,
        };
        let (valid, rejected) = validate(&rows, &config, ctx.now);
        if !rejected.is_empty() && !opts.continue_on_error {
            return Err(Error::Rejected {
                file: opts.source.clone(),
                errors: rejected,
            });
        }
        if opts.dry_run {
            let snap = self.store.casebook_snapshot()?;
            let (mut report, _) = plan(&snap, &config, ctx, opts, &valid, progress)?;
            report.rejected = rejected;
            return Ok(report);
        }
        // Planned on the tip inside the transaction: if a foreign writer moves the branch
        // meanwhile, the transaction plans again on the new tip.
        let (committed, mut report) =
            self.store
                .transact(&ctx.actor, ctx.now, |snap| -> Result<_> {
                    let (report, files) = plan(snap, &config, ctx, opts, &valid, progress)?;
                    if files.is_empty() {
                        return Ok((Change::nothing(), report));
                    }
                    let message = format!(
                "import: {} created, {} updated from {}\n\nAction: import\nActor: {}\nSource: {}\n",
                report.created.len(),
                report.updated.len(),
                opts.source,
                ctx.actor,
                opts.source
            );
                    Ok((Change::with_files(message, files).packed(), report))
                })?;
        report.rejected = rejected;
        report.commit = committed.commit.map(|c| c.to_string());
        Ok(report)
    }
}

/// Maps a header to casebook's field: the config's mapping first, then the field's own
/// name; `None` for a column to read past; an error for an unknown one.
fn field_of(header: &str, config: &Config) -> std::result::Result<Option<&'static str>, String> {
    let key = header.trim().to_lowercase();
    let target = config
        .import_columns
        .get(&key)
        .map(String::as_str)
        .unwrap_or(key.as_str());
    if target == "ignore" || export_only_columns().contains(&target) {
        return Ok(None);
    }
    IMPORT_FIELDS.iter().find(|f| **f == target).map(|f| Some(*f)).ok_or_else(|| {
        format!(
            "unknown column {header:?}: expected {}; map or ignore it in .casebook/config.toml [import.columns]",
            IMPORT_FIELDS.join(", ")
        )
    })
}

fn file_error(message: impl Into<String>) -> Error {
    Error::invalid("import", message.into())
}

/// Checks that the columns can make cases.
fn check_columns(fields: &[Option<&'static str>]) -> Result<()> {
    let has = |f: &str| fields.contains(&Some(f));
    let mut missing: Vec<&str> = ["external_id", "customer", "subject"]
        .into_iter()
        .filter(|f| !has(f))
        .collect();
    if !has("email") && !has("phone") {
        missing.push("email or phone");
    }
    if !missing.is_empty() {
        return Err(file_error(format!(
            "missing column(s): {}; the first line must be a header row naming the columns",
            missing.join(", ")
        )));
    }
    for (i, f) in fields.iter().enumerate() {
        if let Some(f) = f {
            if fields[..i].contains(&Some(f)) {
                return Err(file_error(format!("two columns feed {f}")));
            }
        }
    }
    Ok(())
}

fn read_csv(input: impl Read, config: &Config) -> Result<Vec<Row>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(LineLimit::new(input));
    let headers = reader.headers().map_err(csv_error)?.clone();
    if headers.is_empty() || headers.iter().all(|h| h.trim().is_empty()) {
        return Err(file_error(
            "the file is empty: expected a header row and one row per case",
        ));
    }
    if headers.iter().all(|h| field_of(h, config).is_err()) {
        return Err(file_error(
            "line 1 is not a header row: the first line must name the columns (external_id, customer, email, ...)",
        ));
    }
    let fields = headers
        .iter()
        .map(|h| field_of(h, config))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| file_error(format!("line 1: {e}")))?;
    check_columns(&fields)?;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        let line = record.position().map_or(0, |p| p.line());
        let mut row = Row {
            line,
            fields: HashMap::new(),
        };
        for (value, field) in record.iter().zip(&fields) {
            if let Some(f) = field {
                row.fields.insert(f, value.to_string());
            }
        }
        rows.push(row);
    }
    Ok(rows)
}

fn csv_error(e: csv::Error) -> Error {
    let line = e.position().map(|p| p.line());
    let at = line.map(|l| format!("line {l}: ")).unwrap_or_default();
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => {
            file_error(format!("{at}not UTF-8 text; save the file as UTF-8"))
        }
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => file_error(format!(
            "{at}{len} fields, but the header has {expected_len}"
        )),
        csv::ErrorKind::Io(io) => file_error(format!("{at}{io}")),
        _ => file_error(format!("{at}{e}")),
    }
}

fn read_jsonl(input: impl Read, config: &Config) -> Result<Vec<Row>> {
    let mut reader = std::io::BufReader::new(LineLimit::new(input));
    let mut rows = Vec::new();
    let mut seen: HashSet<&'static str> = HashSet::new();
    let mut buf = Vec::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| file_error(e.to_string()))?;
        if n == 0 {
            break;
        }
        line += 1;
        let text = std::str::from_utf8(&buf)
            .map_err(|_| {
                file_error(format!(
                    "line {line}: not UTF-8 text; save the file as UTF-8"
                ))
            })?
            .trim();
        if text.is_empty() {
            continue;
        }
        let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)
            .map_err(|e| file_error(format!("line {line}: not a JSON object: {e}")))?;
        let mut row = Row {
            line,
            fields: HashMap::new(),
        };
        for (key, value) in object {
            let Some(field) =
                field_of(&key, config).map_err(|e| file_error(format!("line {line}: {e}")))?
            else {
                continue;
            };
            let value = match value {
                serde_json::Value::Null => continue,
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                other => {
                    return Err(file_error(format!(
                        "line {line}: {key}: expected text, found {other}"
                    )))
                }
            };
            seen.insert(field);
            row.fields.insert(field, value);
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(file_error(
            "the file is empty: expected one JSON object per line",
        ));
    }
    let fields: Vec<Option<&'static str>> = seen.into_iter().map(Some).collect();
    check_columns(&fields)?;
    Ok(rows)
}

/// Validates every row; returns the good ones (external ID, intake, line) and the errors.
fn validate(
    rows: &[Row],
    config: &Config,
    now: DateTime<Utc>,
) -> (Vec<(String, Intake, u64)>, Vec<RowError>) {
    let mut good = Vec::new();
    let mut errors = Vec::new();
    let mut first_line: HashMap<String, u64> = HashMap::new();
    for row in rows {
        let get = |f: &str| row.fields.get(f).cloned();
        let mut row_errors = Vec::new();
        let external = get("external_id")
            .map(|e| e.trim().to_string())
            .unwrap_or_default();
        if external.is_empty() {
            row_errors.push(RowError {
                line: row.line,
                field: "external_id".into(),
                message: "must not be empty".into(),
            });
        } else if let Some(first) = first_line.get(&external) {
            row_errors.push(RowError {
                line: row.line,
                field: "external_id".into(),
                message: format!("{external:?} appears again (first on line {first})"),
            });
        } else {
            first_line.insert(external.clone(), row.line);
        }
        // The same limit as every free-text flag: an imported case must not be one that
        // no command could have recorded.
        let mut fields: Vec<_> = row.fields.iter().collect();
        fields.sort_unstable();
        for (field, value) in fields {
            let len = u64::try_from(value.len()).unwrap_or(u64::MAX);
            if len > config.text_max_bytes {
                row_errors.push(RowError {
                    line: row.line,
                    field: field.to_string(),
                    message: format!(
                        "is {len} bytes; the limit is {} (text.max_bytes)",
                        config.text_max_bytes
                    ),
                });
            }
        }
        let input = IntakeInput {
            customer: get("customer"),
            email: get("email"),
            phone: get("phone"),
            subject: get("subject"),
            product: get("product"),
            priority: get("priority"),
            channel: get("channel"),
            incident_at: get("incident_at"),
            description: get("description"),
            opened_at: get("opened_at"),
        };
        match input.validate(config.calendar.tz(), now) {
            Ok(intake) if row_errors.is_empty() => good.push((external, intake, row.line)),
            Ok(_) => {}
            Err(field_errors) => row_errors.extend(field_errors.into_iter().map(|e| RowError {
                line: row.line,
                field: e.field.to_string(),
                message: e.message,
            })),
        }
        errors.extend(row_errors);
    }
    (good, errors)
}

/// Decides, against the tip, what each valid row does; returns the report and the files.
fn plan(
    snap: &Snapshot<'_>,
    config: &Config,
    ctx: &Context,
    opts: &ImportOptions,
    rows: &[(String, Intake, u64)],
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(ImportReport, Files)> {
    let actor = ctx.actor.to_string();
    // Known cases are compared in parallel while the case book is read; only the rows
    // that change anything keep their new file.
    let wanted: HashMap<&str, &Intake> = rows.iter().map(|(e, i, _)| (e.as_str(), i)).collect();
    type Known = Result<(String, CaseId, Option<(Vec<String>, Vec<u8>)>)>;
    let known: Vec<Known> = snap.map_cases(|mut file| {
        let external = file.case.external_id.clone()?;
        let intake = wanted.get(external.as_str())?;
        let id = file.case.id.clone();
        Some(
            match changes(&file, intake, &actor, ctx.now, &opts.source) {
                None => Ok((external, id, None)),
                Some(event) => {
                    let mut changed: Vec<String> =
                        event.changes.iter().map(|c| c.field.clone()).collect();
                    if event.customer.is_some() {
                        changed.push("customer".into());
                    }
                    file.append(event)
                        .map(|()| {
                            (
                                external,
                                id.clone(),
                                Some((changed, file.to_toml().into_bytes())),
                            )
                        })
                        .map_err(|source| Error::Case { id, source })
                }
            },
        )
    })?;
    let mut report = ImportReport::default();
    let mut files = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for entry in known {
        let (external, id, update) = entry?;
        seen.insert(external.clone());
        match update {
            None => report.unchanged += 1,
            Some((changed, bytes)) => {
                files.push((id.path(), bytes));
                report.updated.push((external, id, changed));
            }
        }
    }
    let mut taken: HashSet<CaseId> = HashSet::new();
    let total = rows.len() as u64;
    for (i, (external, intake, _line)) in rows.iter().enumerate() {
        if i % 1024 == 0 {
            progress(i as u64, total);
        }
        if seen.contains(external) {
            continue;
        }
        let id = loop {
            let id = CaseId::generate(&config.prefix);
            if !taken.contains(&id) && !snap.has_case(&id)? {
                break id;
            }
        };
        taken.insert(id.clone());
        let mut open = intake.open_event(&actor, ctx.now);
        open.external_id = Some(external.clone());
        open.source = Some(opts.source.clone());
        let file = CaseFile::create(id.clone(), open).map_err(|source| Error::Case {
            id: id.clone(),
            source,
        })?;
        files.push((id.path(), file.to_toml().into_bytes()));
        report.created.push((external.clone(), id));
    }
    progress(total, total);
    Ok((report, files))
}

/// The `import` event for a known case whose row says something new; `None` if nothing
/// changed. An empty cell means "not given", never "clear it".
fn changes(
    file: &CaseFile,
    intake: &Intake,
    actor: &str,
    now: DateTime<Utc>,
    source: &str,
) -> Option<Event> {
    let c = &file.case;
    let mut e = Event::new(Action::Import, now, actor);
    e.source = Some(source.to_string());
    let mut change = |field: &str, old: Option<String>, new: Option<String>| {
        if new.is_some() && old != new {
            e.changes.push(FieldChange {
                field: field.to_string(),
                old,
                new,
                extra: toml::Table::new(),
            });
        }
    };
    change(
        "subject",
        Some(c.subject.clone()),
        Some(intake.subject.clone()),
    );
    change("product", c.product.clone(), intake.product.clone());
    change(
        "priority",
        Some(c.priority.to_string()),
        Some(intake.priority.to_string()),
    );
    change(
        "description",
        c.description.clone(),
        intake.description.clone(),
    );
    change(
        "incident_at",
        c.incident_at.as_ref().map(format_utc),
        intake.incident_at.as_ref().map(format_utc),
    );
    let customer = &file.customer;
    let mut new = CustomerFields::default();
    let mut was = CustomerFields::default();
    if customer.name != intake.customer {
        was.name = Some(customer.name.clone());
        new.name = Some(intake.customer.clone());
    }
    if intake.email.is_some() && customer.email != intake.email {
        was.email = customer.email.clone();
        new.email = intake.email.clone();
    }
    if intake.phone.is_some() && customer.phone != intake.phone {
        was.phone = customer.phone.clone();
        new.phone = intake.phone.clone();
    }
    if !new.is_empty() {
        if !was.is_empty() {
            new.was = Some(Box::new(was));
        }
        e.customer = Some(new);
    }
    (!e.changes.is_empty() || e.customer.is_some()).then_some(e)
}

/// A reader that refuses a line longer than [`MAX_LINE_BYTES`], so a runaway line (say,
/// 1 GB without a newline) is an error after 1 MiB instead of filling memory.
struct LineLimit<R> {
    inner: R,
    line: u64,
    current: usize,
}

impl<R> LineLimit<R> {
    fn new(inner: R) -> Self {
        LineLimit {
            inner,
            line: 1,
            current: 0,
        }
    }
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            if b == b'\n' {
                self.line += 1;
                self.current = 0;
            } else {
                self.current += 1;
                if self.current > MAX_LINE_BYTES {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("line {} is longer than {} bytes", self.line, MAX_LINE_BYTES),
                    ));
                }
            }
        }
        Ok(n)
    }
}
