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
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};

use chrono::{DateTime, Utc};

use super::export::export_only_columns;
use super::{Casebook, Context};
use crate::error::{Error, Result};
use crate::model::config::IMPORT_FIELDS;
use crate::model::event::{CustomerFields, FieldChange};
use crate::model::intake::{Intake, IntakeInput};
use crate::model::privacy::{self, SealedAhead};
use crate::model::time::format_utc;
use crate::model::{payload, Action, CaseFile, CaseId, Config, Event, Payload, Personal};
use crate::progress;
use crate::store::{Change, Content, Oid, Snapshot};

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
    /// The input's size in bytes, if known, for progress.
    pub size: Option<u64>,
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

/// A row that passed validation: its external ID, the case it describes, and the team's
/// columns.
struct Valid {
    external: String,
    intake: Intake,
    team: TeamCells,
}

/// One row as read: the line it starts on, its fields by casebook's names, and what was
/// wrong with it as read (a JSON Lines value that is not text, a line that is not an
/// object). A row with such errors is rejected like any bad row, so that
/// `--continue-on-error` can still import the others.
struct Row {
    line: u64,
    fields: HashMap<&'static str, String>,
    errors: Vec<RowError>,
}

impl Casebook {
    /// Imports `input`, reporting its phases to [`crate::progress`]. Memory stays bounded
    /// by the rows' facts (and, in a sealed book, their sealed values): rows are validated
    /// as they are read, and the new case files go straight into one pack as they are made.
    pub fn import(
        &self,
        ctx: &Context,
        input: impl Read,
        opts: &ImportOptions,
    ) -> Result<ImportReport> {
        let config = self.config()?;
        let actor = ctx.actor.to_string();
        // Sealing ahead uses a core the reading leaves idle: with one core there is none.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let seal_ahead = config.privacy.seal && !opts.dry_run && cores > 1;
        // The whole import in the scope of the sealing thread: it goes on sealing while
        // the transaction starts and the plan is made, and is waited for only where the
        // plan takes what it sealed.
        std::thread::scope(|scope| -> Result<ImportReport> {
            let mut check = Validator::new(&config, ctx.now);
            let first = FirstEvent {
                actor: &actor,
                now: ctx.now,
                source: &opts.source,
            };
            let mut ahead = SealAhead::start(scope, seal_ahead, &config.prefix, first);
            let reader = LineLimit::new(input, opts.size.unwrap_or(0));
            let mut each = |row| {
                check.row(row);
                ahead.offer(&mut check.good);
            };
            match opts.format {
                ImportFormat::Csv => read_csv(reader, &config, &mut each)?,
                ImportFormat::Jsonl => read_jsonl(reader, &config, &mut each)?,
            }
            let (chunks, mut sealed) = ahead.finish(std::mem::take(&mut check.good));
            let rejected = check.errors;
            let valid: Vec<&Valid> = chunks.iter().flat_map(|c| c.iter()).collect();
            if !rejected.is_empty() && !opts.continue_on_error {
                return Err(Error::Rejected {
                    file: opts.source.clone(),
                    errors: rejected,
                });
            }
            if opts.dry_run {
                let snap = self.store.casebook_snapshot()?;
                let (mut report, _) = plan(&snap, &config, ctx, opts, &valid, &mut sealed, false)?;
                report.rejected = rejected;
                return Ok(report);
            }
            // Planned on the tip inside the transaction: if a foreign writer moves the
            // branch meanwhile, the transaction plans again on the new tip.
            let (committed, mut report) =
                self.store
                    .transact(&ctx.actor, ctx.now, |snap| -> Result<_> {
                        let (report, files) =
                            plan(snap, &config, ctx, opts, &valid, &mut sealed, true)?;
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
                        let mut change = Change::new(message).packed();
                        for (path, blob) in files {
                            change.set(path, Content::Blob(blob));
                        }
                        Ok((change, report))
                    })?;
            report.rejected = rejected;
            report.commit = committed.commit.map(|c| c.to_string());
            Ok(report)
        })
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

fn read_csv(input: impl Read, config: &Config, each: &mut dyn FnMut(Row)) -> Result<()> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(input);
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
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(csv_error)? {
        let line = record.position().map_or(0, |p| p.line());
        let mut row = Row {
            line,
            fields: HashMap::new(),
            errors: Vec::new(),
        };
        for (value, field) in record.iter().zip(&fields) {
            if let Some(f) = field {
                row.fields.insert(f, value.to_string());
            }
        }
        each(row);
    }
    Ok(())
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

fn read_jsonl(input: impl Read, config: &Config, each: &mut dyn FnMut(Row)) -> Result<()> {
    let mut reader = std::io::BufReader::new(input);
    let (mut rows, mut objects) = (0usize, 0usize);
    let mut seen: HashSet<&'static str> = HashSet::new();
    let mut buf = Vec::new();
    let mut line = 0u64;
    // Each line stands alone, so a line that cannot be read as a row is a bad row (with an
    // empty field: the row as a whole), not a bad file.
    let whole = |line: u64, message: String| Row {
        line,
        fields: HashMap::new(),
        errors: vec![RowError {
            line,
            field: String::new(),
            message,
        }],
    };
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| file_error(e.to_string()))?;
        if n == 0 {
            break;
        }
        line += 1;
        let Ok(text) = std::str::from_utf8(&buf) else {
            rows += 1;
            each(whole(line, "not UTF-8 text; save the file as UTF-8".into()));
            continue;
        };
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        rows += 1;
        let object: serde_json::Map<String, serde_json::Value> = match serde_json::from_str(text) {
            Ok(object) => object,
            Err(e) => {
                each(whole(line, format!("not a JSON object: {e}")));
                continue;
            }
        };
        objects += 1;
        let mut row = Row {
            line,
            fields: HashMap::new(),
            errors: Vec::new(),
        };
        for (key, value) in object {
            let field = match field_of(&key, config) {
                Ok(Some(field)) => field,
                Ok(None) => continue,
                Err(message) => {
                    row.errors.push(RowError {
                        line,
                        field: key,
                        message,
                    });
                    continue;
                }
            };
            if !value.is_null() {
                seen.insert(field);
            }
            let value = match value {
                serde_json::Value::Null => continue,
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                other => {
                    row.errors.push(RowError {
                        line,
                        field: field.to_string(),
                        message: format!("expected text, found {other}"),
                    });
                    continue;
                }
            };
            row.fields.insert(field, value);
        }
        each(row);
    }
    if rows == 0 {
        return Err(file_error(
            "the file is empty: expected one JSON object per line",
        ));
    }
    // Without one object there are no columns to check: the bad lines say what is wrong.
    if objects > 0 {
        let fields: Vec<Option<&'static str>> = seen.into_iter().map(Some).collect();
        check_columns(&fields)?;
    }
    Ok(())
}

/// The team's columns of a row: an owner ("Name <email>") and tags (`;`-separated). An
/// empty cell means "not given", as for every other column.
#[derive(Debug, Clone, Default)]
struct TeamCells {
    owner: Option<String>,
    tags: Option<Vec<String>>,
}

impl TeamCells {
    fn read(owner: Option<String>, tags: Option<String>, line: u64) -> (TeamCells, Vec<RowError>) {
        let mut errors = Vec::new();
        let owner = owner
            .map(|o| o.trim().to_string())
            .filter(|o| !o.is_empty())
            .and_then(|o| match crate::model::Actor::parse(&o) {
                Ok(a) => Some(a.to_string()),
                Err(e) => {
                    errors.push(RowError {
                        line,
                        field: "owner".into(),
                        message: e.to_string(),
                    });
                    None
                }
            });
        let tags = tags.filter(|t| !t.trim().is_empty()).map(|t| {
            let mut tags: Vec<String> = Vec::new();
            for part in t.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                match crate::model::team::parse_tag(part) {
                    Ok(tag) if !tags.contains(&tag) => tags.push(tag),
                    Ok(_) => {}
                    Err(e) => errors.push(RowError {
                        line,
                        field: "tags".into(),
                        message: format!("{e} (tags are separated by ;)"),
                    }),
                }
            }
            tags.sort();
            tags
        });
        (TeamCells { owner, tags }, errors)
    }

    /// The `assign` and `tag` events that make `case` carry these cells' values.
    fn events(
        &self,
        case: &crate::model::CaseState,
        actor: &str,
        now: DateTime<Utc>,
        source: &str,
    ) -> Vec<Event> {
        let mut out = Vec::new();
        if let Some(owner) = &self.owner {
            if case.owner.as_ref() != Some(owner) {
                let assign = payload::Assign {
                    source: Some(source.to_string()),
                    to: Some(owner.clone()),
                    from: case.owner.clone(),
                    ..Default::default()
                };
                out.push(Event::with(assign, now, actor));
            }
        }
        if let Some(tags) = &self.tags {
            if case.tags != *tags {
                let tag = payload::Tag {
                    source: Some(source.to_string()),
                    added: tags
                        .iter()
                        .filter(|t| !case.tags.contains(t))
                        .cloned()
                        .collect(),
                    removed: case
                        .tags
                        .iter()
                        .filter(|t| !tags.contains(t))
                        .cloned()
                        .collect(),
                    ..Default::default()
                };
                out.push(Event::with(tag, now, actor));
            }
        }
        out
    }
}

/// Validates rows as they are read, keeping the good ones' facts and every error.
struct Validator<'c> {
    config: &'c Config,
    now: DateTime<Utc>,
    first_line: HashMap<String, u64>,
    good: Vec<Valid>,
    errors: Vec<RowError>,
}

impl<'c> Validator<'c> {
    fn new(config: &'c Config, now: DateTime<Utc>) -> Self {
        Validator {
            config,
            now,
            first_line: HashMap::new(),
            good: Vec::new(),
            errors: Vec::new(),
        }
    }

    fn row(&mut self, mut row: Row) {
        let read_errors = std::mem::take(&mut row.errors);
        // A line that is no row at all (an empty field) has nothing else to check.
        if read_errors.iter().any(|e| e.field.is_empty()) {
            self.errors.extend(read_errors);
            return;
        }
        let (config, now) = (self.config, self.now);
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
        } else if let Some(first) = self.first_line.get(&external) {
            row_errors.push(RowError {
                line: row.line,
                field: "external_id".into(),
                message: format!("{external:?} appears again (first on line {first})"),
            });
        } else {
            self.first_line.insert(external.clone(), row.line);
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
        let (team, team_errors) = TeamCells::read(get("owner"), get("tags"), row.line);
        row_errors.extend(team_errors);
        match input.validate(config.calendar.tz(), now) {
            Ok(intake) if row_errors.is_empty() && read_errors.is_empty() => {
                self.good.push(Valid {
                    external,
                    intake,
                    team,
                })
            }
            Ok(_) => {}
            Err(field_errors) => row_errors.extend(field_errors.into_iter().map(|e| RowError {
                line: row.line,
                field: e.field.to_string(),
                message: e.message,
            })),
        }
        // A field given as something other than text is reported as that, not also as
        // missing.
        row_errors.retain(|e| !read_errors.iter().any(|r| r.field == e.field));
        self.errors.extend(read_errors);
        self.errors.extend(row_errors);
    }
}

/// Decides, against the tip, what each valid row does. With `write`, the new and changed
/// case files go into one pack as they are made; returns the report and (path, blob) of
/// each file to record. A new case is made from the first event `sealed` ahead for its
/// row (by position) where that case ID is still free.
fn plan(
    snap: &Snapshot<'_>,
    config: &Config,
    ctx: &Context,
    opts: &ImportOptions,
    rows: &[&Valid],
    sealed: &mut Sealed,
    write: bool,
) -> Result<(ImportReport, Vec<(String, Oid)>)> {
    let actor = ctx.actor.to_string();
    let first = FirstEvent {
        actor: &actor,
        now: ctx.now,
        source: &opts.source,
    };
    let owned_pack = write.then(|| snap.blob_pack()).transpose()?;
    let pack = owned_pack.as_ref();
    let written = AtomicU64::new(0);
    let total = rows.len() as u64;
    let store = |bytes: Vec<u8>| -> Result<Option<Oid>> {
        let Some(pack) = pack else { return Ok(None) };
        let oid = pack.add(&bytes)?;
        let done = written.fetch_add(1, Ordering::Relaxed) + 1;
        progress::every("writing objects", done, total, 512);
        Ok(Some(oid))
    };
    // Known cases are compared (and their new files made) on all cores while the case
    // book is read; only what changed is kept.
    let wanted: HashMap<&str, &Valid> = rows.iter().map(|&v| (v.external.as_str(), v)).collect();
    type Known = Result<(String, CaseId, Option<(Vec<String>, Option<Oid>)>)>;
    progress::report("comparing with the case book", 0, 0);
    let known: Vec<Known> = snap.map_cases(|mut file| {
        let external = file.case.external_id.clone()?;
        let row = *wanted.get(external.as_str())?;
        let id = file.case.id.clone();
        let mut events: Vec<Event> = changes(&file, &row.intake, &actor, ctx.now, &opts.source)
            .into_iter()
            .collect();
        events.extend(row.team.events(&file.case, &actor, ctx.now, &opts.source));
        if events.is_empty() {
            return Some(Ok((external, id, None)));
        }
        let mut changed: Vec<String> = Vec::new();
        for event in events {
            changed.extend(event.payload.changes().iter().map(|c| c.field.clone()));
            if event.customer.is_some() {
                changed.push("customer".into());
            }
            match event.action() {
                Action::Assign => changed.push("owner".into()),
                Action::Tag => changed.push("tags".into()),
                _ => {}
            }
            if let Err(source) = file.append(event) {
                return Some(Err(Error::Case { id, source }));
            }
        }
        Some(
            store(file.into_toml().into_bytes())
                .map(|blob| (external, id.clone(), Some((changed, blob)))),
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
            Some((changed, blob)) => {
                files.extend(blob.map(|b| (id.path(), b)));
                report.updated.push((external, id, changed));
            }
        }
    }
    // New cases: IDs are drawn one by one (each must be new to the book and the import),
    // then the files are made and packed on all cores.
    let mut taken: HashSet<CaseId> = HashSet::new();
    let mut new_cases: Vec<(&Valid, CaseId, Option<Box<SealedAhead>>)> = Vec::new();
    for (at, &row) in rows.iter().enumerate() {
        if seen.contains(&row.external) {
            continue;
        }
        let mut ahead = sealed.take(at);
        if let Some((id, _)) = &ahead {
            if taken.contains(id) || snap.has_case(id)? {
                ahead = None;
            }
        }
        let (id, ahead) = match ahead {
            Some((id, ahead)) => (id, Some(ahead)),
            None => loop {
                let id = CaseId::generate(&config.prefix);
                if !taken.contains(&id) && !snap.has_case(&id)? {
                    break (id, None);
                }
            },
        };
        taken.insert(id.clone());
        new_cases.push((row, id, ahead));
    }
    drop(taken);
    report.created = new_cases
        .iter()
        .map(|(row, id, _)| (row.external.clone(), id.clone()))
        .collect();
    let sealer = snap.new_case_keys()?;
    let make = |(row, id, ahead): (&Valid, CaseId, Option<Box<SealedAhead>>)| -> Result<Option<(String, Oid)>> {
        if pack.is_none() {
            return Ok(None);
        }
        let case_error = |source| Error::Case {
            id: id.clone(),
            source,
        };
        let mut file = match (&sealer, ahead) {
            (Some(keys), Some(ahead)) => {
                privacy::create_ahead(id.clone(), *ahead, keys.clone()).map_err(case_error)?
            }
            (sealer, _) => {
                let open = first.of(row);
                let mut file = CaseFile::create(id.clone(), open).map_err(case_error)?;
                if let Some(keys) = sealer {
                    privacy::attach(&mut file, keys.clone(), None, Default::default());
                }
                file
            }
        };
        for event in row
            .team
            .events(&file.case.clone(), &actor, ctx.now, &opts.source)
        {
            file.append(event).map_err(case_error)?;
        }
        let path = id.path();
        Ok(store(file.into_toml().into_bytes())?.map(|blob| (path, blob)))
    };
    for made in parallel_map(new_cases, make) {
        files.extend(made?);
    }
    if let Some(pack) = owned_pack {
        progress::report("storing the pack", 0, 0);
        snap.store_pack(pack)?;
    }
    Ok((report, files))
}

/// `f` over `items` on all cores, results in order. The threads take the items in small
/// runs as they go, so one that drew slower items (sealed cases with more to seal, a
/// core shared with another process) does not leave the others waiting at the end.
fn parallel_map<I: Send, T: Send>(items: Vec<I>, f: impl Fn(I) -> T + Sync) -> Vec<T> {
    const RUN: usize = 64;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if threads < 2 || items.len() < 256 {
        return items.into_iter().map(f).collect();
    }
    let mut runs: Vec<(usize, Vec<I>)> = Vec::with_capacity(items.len().div_ceil(RUN));
    let mut items = items.into_iter().peekable();
    let mut start = 0;
    while items.peek().is_some() {
        let run: Vec<I> = items.by_ref().take(RUN).collect();
        let len = run.len();
        runs.push((start, run));
        start += len;
    }
    let (f, queue) = (&f, &std::sync::Mutex::new(runs.into_iter()));
    let mut done: Vec<(usize, Vec<T>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(move || {
                    let mut done = Vec::new();
                    loop {
                        let next = queue.lock().unwrap_or_else(|p| p.into_inner()).next();
                        let Some((start, run)) = next else {
                            break done;
                        };
                        done.push((start, run.into_iter().map(f).collect::<Vec<T>>()));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    done.sort_unstable_by_key(|(start, _)| *start);
    done.into_iter().flat_map(|(_, run)| run).collect()
}

/// A new case's ID and its first event sealed for it ahead.
type Ahead = (CaseId, Box<SealedAhead>);

/// What the first event of each new case is made with.
#[derive(Clone, Copy)]
struct FirstEvent<'a> {
    actor: &'a str,
    now: DateTime<Utc>,
    /// The file imported from.
    source: &'a str,
}

impl FirstEvent<'_> {
    /// The `open` event of the case `row` creates.
    fn of(&self, row: &Valid) -> Event {
        let mut open = row.intake.open_event(self.actor, self.now);
        if let Payload::Open(p) = &mut open.payload {
            p.external_id = Some(row.external.clone());
            p.source = Some(self.source.to_string());
        }
        open
    }
}

/// Seals a sealed book's new cases ahead ([`privacy::seal_ahead`]) on a thread of its own
/// while the rows are read. Reading and checking the rows takes one core; without this,
/// the sealing would wait for them all and then share the cores with making the files.
/// The checked rows go over in chunks (shared, the reading keeps them too) and each new
/// case's first event comes back sealed, in the same order, to make the case from
/// ([`privacy::create_ahead`]). When the reading ends the thread seals what it was sent
/// while the transaction starts and the plan is made ([`Sealed`]); a case whose event it
/// has not sealed when the case is made is sealed then, as it would be anyway. A row that
/// turns out to update a known case, or whose ID was taken meanwhile, just leaves its
/// event unused (its key never reaches the key ring).
struct SealAhead {
    to_seal: Option<mpsc::Sender<Arc<Vec<Valid>>>>,
    sealed: Option<mpsc::Receiver<Vec<Ahead>>>,
    stop: Arc<AtomicBool>,
    /// Every chunk of checked rows so far, in order; the first `sent` went to be sealed.
    chunks: Vec<Arc<Vec<Valid>>>,
    sent: usize,
}

impl SealAhead {
    /// Rows per chunk: a few milliseconds of sealing.
    const CHUNK: usize = 512;

    fn start<'scope, 'env>(
        scope: &'scope std::thread::Scope<'scope, 'env>,
        on: bool,
        prefix: &'env str,
        first: FirstEvent<'env>,
    ) -> SealAhead {
        let stop = Arc::new(AtomicBool::new(false));
        let mut ahead = SealAhead {
            to_seal: None,
            sealed: None,
            stop: stop.clone(),
            chunks: Vec::new(),
            sent: 0,
        };
        if !on {
            return ahead;
        }
        let (to_seal, chunks) = mpsc::channel::<Arc<Vec<Valid>>>();
        let (back, sealed) = mpsc::channel();
        // Joined when the scope ends, like any scoped thread.
        scope.spawn(move || {
            for chunk in chunks {
                let mut made: Vec<Ahead> = Vec::with_capacity(chunk.len());
                for row in chunk.iter() {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let id = CaseId::generate(prefix);
                    let ahead = privacy::seal_ahead(id.as_str(), first.of(row));
                    made.push((id, Box::new(ahead)));
                }
                if back.send(made).is_err() {
                    break;
                }
            }
        });
        ahead.to_seal = Some(to_seal);
        ahead.sealed = Some(sealed);
        ahead
    }

    /// Takes the rows checked so far once they fill a chunk.
    fn offer(&mut self, rows: &mut Vec<Valid>) {
        if rows.len() >= Self::CHUNK {
            self.push(std::mem::replace(rows, Vec::with_capacity(Self::CHUNK)));
        }
    }

    /// Sends `chunk` to be sealed (in a plain book, or once the thread is gone, only
    /// keeps it).
    fn push(&mut self, chunk: Vec<Valid>) {
        let chunk = Arc::new(chunk);
        // Sent until a send fails, so the sent chunks come first.
        if let Some(to_seal) = &self.to_seal {
            match to_seal.send(chunk.clone()) {
                Ok(()) => self.sent += 1,
                // The thread is gone (it panicked): these rows are sealed as they are made.
                Err(_) => self.to_seal = None,
            }
        }
        self.chunks.push(chunk);
    }

    /// Every checked row, in chunks in order (the last one `rest`), and what is being
    /// sealed for them. The chunks are kept as they are: gathering 100k rows into one
    /// vector would copy them all into memory fresh from the system, which costs more
    /// than the sealing ahead saves.
    fn finish(mut self, rest: Vec<Valid>) -> (Vec<Arc<Vec<Valid>>>, Sealed) {
        if !rest.is_empty() {
            self.push(rest);
        }
        // The thread ends once it has sealed what it was sent.
        self.to_seal = None;
        let chunks = std::mem::take(&mut self.chunks);
        let sealed = Sealed {
            from: self.sealed.take(),
            lens: chunks[..self.sent].iter().map(|c| c.len()).collect(),
            got: Vec::new(),
            stop: self.stop.clone(),
        };
        (chunks, sealed)
    }
}

impl Drop for SealAhead {
    fn drop(&mut self) {
        // On an error while reading: the thread stops at its next row. (After `finish`,
        // [`Sealed`] says when.)
        if self.sealed.is_some() {
            self.stop.store(true, Ordering::Relaxed);
        }
    }
}

/// What the sealing thread sealed, by row (in the order of all checked rows), received as
/// it is asked for: the thread may still be sealing the later rows.
struct Sealed {
    from: Option<mpsc::Receiver<Vec<Ahead>>>,
    /// The rows in each chunk still to be received.
    lens: std::collections::VecDeque<usize>,
    /// By row: what was received and not taken yet.
    got: Vec<Option<Ahead>>,
    stop: Arc<AtomicBool>,
}

impl Sealed {
    /// Takes what was sealed for row `at`, waiting for the thread if it is still sealing
    /// that row's chunk; `None` if that row was not sealed ahead (or was taken before).
    fn take(&mut self, at: usize) -> Option<Ahead> {
        while self.got.len() <= at {
            let (Some(from), Some(len)) = (&self.from, self.lens.pop_front()) else {
                break;
            };
            let start = self.got.len();
            match from.recv() {
                Ok(made) => self.got.extend(made.into_iter().map(Some)),
                // The thread is gone: the rest is sealed as it is made.
                Err(_) => {
                    self.from = None;
                    break;
                }
            }
            self.got.resize_with(start + len, || None);
        }
        self.got.get_mut(at).and_then(Option::take)
    }
}

impl Drop for Sealed {
    fn drop(&mut self) {
        // What is not taken by now never will be: the thread stops at its next row.
        self.stop.store(true, Ordering::Relaxed);
    }
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
    let mut import = payload::Import {
        source: Some(source.to_string()),
        ..Default::default()
    };
    let mut change = |field: &str, old: Option<String>, new: Option<String>| {
        if new.is_some() && old != new {
            import.changes.push(FieldChange {
                field: field.to_string(),
                old,
                new,
                extra: toml::Table::new(),
            });
        }
    };
    change(
        "subject",
        Some(c.subject.to_string()),
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
        c.description.clone().map(String::from),
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
        new.name = Some(intake.customer.as_str().into());
    }
    if intake.email.is_some() && customer.email.as_deref() != intake.email.as_deref() {
        was.email = customer.email.clone();
        new.email = intake.email.as_deref().map(Personal::from);
    }
    if intake.phone.is_some() && customer.phone.as_deref() != intake.phone.as_deref() {
        was.phone = customer.phone.clone();
        new.phone = intake.phone.as_deref().map(Personal::from);
    }
    if !new.is_empty() {
        if !was.is_empty() {
            new.was = Some(Box::new(was));
        }
        e.customer = Some(new);
    }
    let changed = !import.changes.is_empty() || e.customer.is_some();
    e.payload = import.into();
    changed.then_some(e)
}

/// A reader that refuses a line longer than [`MAX_LINE_BYTES`], so a runaway line (say,
/// 1 GB without a newline) is an error after 1 MiB instead of filling memory, and reports
/// how much of the input (`total` bytes, 0 if unknown) was read: phase "reading".
struct LineLimit<R> {
    inner: R,
    line: u64,
    current: usize,
    read: u64,
    total: u64,
}

impl<R> LineLimit<R> {
    fn new(inner: R, total: u64) -> Self {
        LineLimit {
            inner,
            line: 1,
            current: 0,
            read: 0,
            total,
        }
    }
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let before = self.read >> 16;
        self.read += n as u64;
        if self.read >> 16 != before || n == 0 {
            progress::report("reading and validating", self.read, self.total);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// What the sealing thread would send for a chunk of `n` rows.
    fn made(n: usize) -> Vec<Ahead> {
        (0..n)
            .map(|_| {
                let id = CaseId::generate("CB");
                let open = Event::new(Action::Open, Utc::now(), "Ada <ada@example.com>");
                let ahead = privacy::seal_ahead(id.as_str(), open);
                (id, Box::new(ahead))
            })
            .collect()
    }

    fn sealed(lens: &[usize]) -> (mpsc::Sender<Vec<Ahead>>, Sealed) {
        let (tx, rx) = mpsc::channel();
        let sealed = Sealed {
            from: Some(rx),
            lens: lens.iter().copied().collect(),
            got: Vec::new(),
            stop: Arc::new(AtomicBool::new(false)),
        };
        (tx, sealed)
    }

    #[test]
    fn what_was_sealed_ahead_is_found_by_row_across_chunks_cut_short() {
        // Chunks of 3 and 2 rows; the second was cut short after one row (stopped).
        let (tx, mut sealed) = sealed(&[3, 2]);
        let first = made(3);
        let second = made(1);
        let ids: Vec<CaseId> = first
            .iter()
            .chain(&second)
            .map(|(id, _)| id.clone())
            .collect();
        tx.send(first).unwrap();
        tx.send(second).unwrap();
        // Asked out of order, as the plan skips the rows that update known cases.
        assert_eq!(sealed.take(3).map(|a| a.0), Some(ids[3].clone()));
        assert_eq!(sealed.take(0).map(|a| a.0), Some(ids[0].clone()));
        assert!(sealed.take(4).is_none(), "the row the thread did not reach");
        assert!(sealed.take(0).is_none(), "taken once only");
        assert_eq!(sealed.take(2).map(|a| a.0), Some(ids[2].clone()));
        assert!(sealed.take(9).is_none(), "past every chunk");
        let stop = sealed.stop.clone();
        drop(sealed);
        assert!(stop.load(Ordering::Relaxed), "dropping it stops the thread");
    }

    #[test]
    fn rows_the_thread_never_sent_back_are_sealed_when_made() {
        // The thread sealed one chunk of three and then went away (it panicked).
        let (tx, mut sealed) = sealed(&[3, 3]);
        tx.send(made(3)).unwrap();
        drop(tx);
        assert!(sealed.take(4).is_none());
        assert!(sealed.take(1).is_some());
    }

    #[test]
    fn parallel_map_keeps_the_order_whatever_finishes_first() {
        let items: Vec<u64> = (0..5_000).collect();
        // Early items cost far more than late ones: the threads finish out of order.
        let out = super::parallel_map(items.clone(), |i| {
            for k in 0..if i < 300 { 20_000 } else { 1 } {
                std::hint::black_box(k);
            }
            i
        });
        assert_eq!(out.len(), items.len());
        assert!(
            out.iter().zip(&items).all(|(o, i)| o == i),
            "results out of order"
        );
        assert_eq!(
            super::parallel_map(items[..10].to_vec(), |i| i * 2),
            [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]
        );
    }
}
