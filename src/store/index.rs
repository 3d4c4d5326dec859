//! The disposable read index: a SQLite database under `.git/casebook/` that answers "which
//! cases" so a read parses only the case files it shows.
//!
//! Design notes:
//!
//! - **Never a source of truth.** Every row is derived from one case file of the tip tree
//!   and the config. The database records the `cases/` tree id it reflects, the config
//!   blob id and [`FORMAT`]; a read compares them with its own tip and brings the index up
//!   to date before asking it anything. Deleting `.git/casebook/` at any moment changes no
//!   answer, only the time the next read takes.
//! - **Candidates, confirmed by the model.** What depends on "now" (breached, at risk) or on
//!   definitions another part of casebook owns (review metrics) is not stored as an answer.
//!   The index stores what is `now`-independent — status, priority, times, each SLA
//!   commitment's due / at-risk-from / stopped-at instants, the resolve times, whether a case
//!   was reviewed — and returns the *case files* that can be in an answer: a superset,
//!   which the caller parses and runs through the same model code as a full scan.
//! - **Incremental by tree diff.** Git trees are content-addressed: a shard whose id did not
//!   change holds the same cases. [`diff_cases`] walks `cases/<shard>/` comparing entry ids
//!   and reads only the shards that differ, so one commit at 100k cases costs a few tree
//!   reads, not a walk over 100k entries. Whatever moved the branch (casebook, `sync`,
//!   `git pull`, `git reset`, a committed hand edit, a branch switch) is seen the same way.
//! - **Several processes.** WAL mode and a busy timeout; catching up is one `BEGIN
//!   IMMEDIATE` transaction that re-checks the recorded tree first, so two readers never
//!   apply a diff twice. A full rebuild parses outside the database under a lock file
//!   (`rebuild.lock`) that another process waits on and then finds the work done. A reader
//!   keeps one read transaction open from the check on, so it sees one consistent state
//!   even while another process moves the index to another tree.
//! - **Failure is never an answer.** A database that cannot be opened or is corrupt is
//!   deleted and rebuilt; if even that fails (a read-only folder), the view falls back to a
//!   full scan. A case file that does not parse is recorded as broken and is in no
//!   answer; reads name it in a warning, and with `--strict` the index steps aside so the
//!   scan fails on it.
//!
//! Instants are stored as nanoseconds since the Unix epoch (`i64`), so SQL compares them
//! exactly; a case with a time outside 1677–2262 cannot be indexed and the view scans.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use git2::{Oid, Repository};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::snapshot::{case_id_of_file, Snapshot};
use crate::model::commitment::{evaluate, Commitment, Target};
use crate::model::config::CONFIG_PATH;
use crate::model::review::StoredFacts;
use crate::model::sla::SlaDuration;
use crate::model::team::{owner_parts, OwnerFilter, TeamFilter};
use crate::model::{Action, CaseFile, CaseId, Config};

/// Bumped whenever what the index stores or how it derives it changes.
pub const FORMAT: &str = "casebook-index-6";

/// Why the index could not be used. Never shown as an error of a command: the view scans.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("index database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("index: {0}")]
    Store(#[from] super::StoreError),
    #[error("index: {0}")]
    Git(#[from] git2::Error),
    #[error("index: cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("index: {0}")]
    Unusable(String),
}

type IResult<T> = std::result::Result<T, IndexError>;

/// What the index records about the tip it reflects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// The `cases/` tree id, `None` when there is no `cases/` folder.
    pub cases_tree: Option<Oid>,
    pub config_blob: Option<Oid>,
    /// The key ring commit ("" for none): see [`write_key`].
    pub ring: String,
}

impl Key {
    pub(crate) fn of(snap: &Snapshot<'_>) -> super::Result<Key> {
        Ok(Key {
            cases_tree: snap.subtree_id("cases"),
            config_blob: snap.blob_id(CONFIG_PATH)?,
            ring: ring_tip(&snap.store.repo),
        })
    }

    fn tree_text(&self) -> String {
        self.cases_tree.map(|t| t.to_string()).unwrap_or_default()
    }

    fn config_text(&self) -> String {
        self.config_blob.map(|t| t.to_string()).unwrap_or_default()
    }
}

/// One case file the index points at: what a caller needs to read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: CaseId,
    pub path: String,
    pub blob: Oid,
}

impl Entry {
    pub fn triple(&self) -> (CaseId, String, Oid) {
        (self.id.clone(), self.path.clone(), self.blob)
    }
}

/// A case's sortable, filterable projection, as `list` needs it.
#[derive(Debug, Clone)]
pub struct ListRow {
    pub entry: Entry,
    pub status: String,
    pub status_rank: i64,
    pub priority: String,
    pub priority_rank: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// The earliest due time of a commitment still owed.
    pub next_due: Option<i64>,
    pub customer_name: String,
    pub customer_email: Option<String>,
    pub customer_phone: Option<String>,
}

/// One commitment still owed in the due queue, with what the queue shows of its case.
#[derive(Debug, Clone)]
pub struct DueRow {
    pub id: CaseId,
    pub customer_name: String,
    pub subject: String,
    pub priority: String,
    pub status: String,
    /// "Name <email>", if the case has an owner.
    pub owner: Option<String>,
    pub tags: Vec<String>,
    /// Judged at the "now" the caller gave.
    pub commitment: Commitment,
}

/// A commitment as stored: (target, policy, start, due, at_risk_from, stopped_at).
type StoredCommitment = (
    String,
    Option<String>,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

fn bad(what: &str) -> IndexError {
    IndexError::Unusable(format!("bad {what} in index"))
}

/// A stored commitment judged at `now` ([`Commitment::from_instants`]).
fn judged(k: StoredCommitment, now: DateTime<Utc>) -> IResult<Commitment> {
    let (target, policy, start, due, at_risk_from, stopped_at) = k;
    let policy = policy
        .map(|p| SlaDuration::parse(&p).map_err(|_| bad("policy")))
        .transpose()?;
    let instant = DateTime::from_timestamp_nanos;
    Ok(Commitment::from_instants(
        Target::parse(&target).ok_or_else(|| bad("target"))?,
        policy,
        instant(start),
        due.map(instant),
        at_risk_from.map(instant),
        stopped_at.map(instant),
        now,
    ))
}

/// One search hit: the case, which field matched best, a snippet and the rank (lower is
/// better, SQLite's bm25).
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub entry: Entry,
    pub status: String,
    pub priority: String,
    pub subject: String,
    pub field: &'static str,
    pub snippet: String,
    pub rank: f64,
}

/// The searchable fields, in the order of the FTS5 table's columns.
pub const SEARCH_FIELDS: [&str; 9] = [
    "subject",
    "description",
    "messages",
    "questions",
    "findings",
    "root_cause",
    "resolution",
    "feedback",
    "logs",
];

/// Nanoseconds since the epoch, or `None` outside what an `i64` holds.
pub fn nanos(t: &DateTime<Utc>) -> Option<i64> {
    t.timestamp_nanos_opt()
}

fn must_nanos(t: &DateTime<Utc>) -> IResult<i64> {
    nanos(t).ok_or_else(|| IndexError::Unusable(format!("time {t} out of range")))
}

/// One commitment's instants: (target, start, due, at_risk_from, stopped_at, policy).
type Instants = (
    &'static str,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

/// Everything the index stores about one case file, derived from it and the config.
struct Row {
    entry: Entry,
    status: String,
    status_rank: i64,
    priority: String,
    priority_rank: i64,
    created_at: i64,
    updated_at: i64,
    customer_name: String,
    customer_email: Option<String>,
    customer_phone: Option<String>,
    subject: String,
    reviewed: bool,
    next_due: Option<i64>,
    owner: Option<String>,
    /// The owner's e-mail and name, lowercased, for the team filters.
    owner_email: Option<String>,
    owner_name: Option<String>,
    /// `;a;b;`: every tag between semicolons, so one `instr` finds a whole tag.
    tags: String,
    /// In the order [`evaluate`] gives them.
    commitments: Vec<Instants>,
    resolves: Vec<i64>,
    text: [String; 9],
    /// The case as JSON, when it reads back as exactly the same case (see [`Index::bodies`]).
    body: Option<String>,
    /// The case without its events, as JSON, when `body` is stored (see
    /// [`Index::projections`]).
    projection: Option<String>,
    /// The review's facts of a resolved case, as JSON ([`StoredFacts`]).
    review: Option<String>,
}

fn join(parts: impl IntoIterator<Item = Option<String>>) -> String {
    let v: Vec<String> = parts
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect();
    v.join("\n")
}

impl Row {
    fn of(entry: Entry, f: &CaseFile, config: &Config) -> IResult<Row> {
        let c = &f.case;
        // Due, at-risk-from and stopped-at depend on the events and the policy only; "now"
        // decides only the state, which readers evaluate themselves.
        let ks = evaluate(f, config, c.created_at);
        let mut commitments = Vec::with_capacity(ks.len());
        for k in &ks {
            let opt = |t: &Option<DateTime<Utc>>| t.as_ref().map(must_nanos).transpose();
            commitments.push((
                k.target.as_str(),
                must_nanos(&k.start)?,
                opt(&k.due)?,
                opt(&k.at_risk_from)?,
                opt(&k.stopped_at)?,
                k.policy.map(|p| p.to_string()),
            ));
        }
        let next_due = commitments
            .iter()
            .filter(|k| k.4.is_none())
            .filter_map(|k| k.2)
            .min();
        let mut resolves = Vec::new();
        for e in &f.events {
            must_nanos(&e.at)?;
            if e.action() == Action::Resolve {
                resolves.push(must_nanos(&e.at)?);
            }
        }
        let ev = |g: &dyn Fn(&crate::model::Event) -> Vec<Option<String>>| {
            join(f.events.iter().flat_map(g))
        };
        let text_of = |e: &crate::model::Event, key: &str| e.text(key).map(str::to_string);
        let text = [
            c.subject.to_string(),
            c.description.as_deref().unwrap_or_default().to_string(),
            ev(&|e| {
                if e.action() == Action::Log {
                    vec![]
                } else {
                    vec![
                        text_of(e, "message"),
                        text_of(e, "note"),
                        text_of(e, "reason"),
                    ]
                }
            }),
            ev(&|e| vec![text_of(e, "question"), text_of(e, "answer")]),
            ev(&|e| {
                let mut v = vec![text_of(e, "finding")];
                if let crate::model::Payload::Review(r) = &e.payload {
                    v.extend(r.improvements.iter().cloned().map(Some));
                }
                v
            }),
            join(
                [c.root_cause.clone()].into_iter().chain(
                    f.events
                        .iter()
                        .filter(|e| e.text("root_cause") != c.root_cause.as_deref())
                        .map(|e| text_of(e, "root_cause")),
                ),
            ),
            c.resolution.clone().unwrap_or_default(),
            join(
                [c.satisfaction
                    .as_ref()
                    .and_then(|s| s.feedback.as_deref().map(str::to_string))]
                .into_iter()
                .chain(f.events.iter().map(|e| text_of(e, "feedback"))),
            ),
            ev(&|e| {
                if e.action() == Action::Log {
                    vec![
                        text_of(e, "summary"),
                        text_of(e, "message"),
                        text_of(e, "outcome"),
                    ]
                } else {
                    vec![text_of(e, "summary")]
                }
            }),
        ];
        let body = serde_json::to_string(f)
            .ok()
            .filter(|json| serde_json::from_str::<CaseFile>(json).is_ok_and(|back| back == *f));
        Ok(Row {
            entry,
            status: c.status.to_string(),
            status_rank: c.status.rank() as i64,
            priority: c.priority.to_string(),
            priority_rank: c.priority.rank() as i64,
            created_at: must_nanos(&c.created_at)?,
            updated_at: must_nanos(&c.updated_at)?,
            customer_name: f.customer.name.to_string(),
            customer_email: f.customer.email.clone().map(String::from),
            customer_phone: f.customer.phone.clone().map(String::from),
            subject: c.subject.to_string(),
            reviewed: f.events.iter().any(|e| e.action() == Action::Review),
            next_due,
            owner: c.owner.clone(),
            owner_email: c
                .owner
                .as_deref()
                .and_then(|o| owner_parts(o).1)
                .map(|e| e.to_lowercase()),
            owner_name: c.owner.as_deref().map(|o| owner_parts(o).0.to_lowercase()),
            tags: tags_text(&c.tags),
            commitments,
            resolves,
            text,
            body: body.clone(),
            // What reads back exactly with its events reads back exactly without them.
            projection: body.and_then(|_| {
                serde_json::to_string(&CaseFile {
                    events: Vec::new(),
                    ..f.clone()
                })
                .ok()
            }),
            // Plain strings, numbers, bools and RFC 3339 times (floats as their bits): they
            // read back exactly (a unit test checks the round trip).
            review: StoredFacts::of(f, config)
                .map(|x| serde_json::to_string(&x))
                .transpose()
                .map_err(|e| IndexError::Unusable(format!("review facts: {e}")))?,
        })
    }
}

/// Tags as the index stores them: `;a;b;` (empty tags: `;`).
fn tags_text(tags: &[String]) -> String {
    let mut s = String::from(";");
    for t in tags {
        s.push_str(t);
        s.push(';');
    }
    s
}

/// Adds the team filter's conditions (owner, tags) to a `WHERE` clause on `cases`.
/// `table` qualifies the columns (`"c."` in a join, `""` otherwise). Parameters are `?`
/// placeholders numbered from `first` on (after the statement's own `?1`..): SQLite gives a
/// bare `?` the number after the largest so far, which would collide with a later `?N`.
fn team_sql(
    team: &TeamFilter,
    table: &str,
    first: usize,
    sql: &mut String,
    values: &mut Vec<rusqlite::types::Value>,
) {
    use rusqlite::types::Value;
    let mut n = first;
    let mut mark = || {
        let m = format!("?{n}");
        n += 1;
        m
    };
    match &team.owner {
        OwnerFilter::Any => {}
        OwnerFilter::Unassigned => sql.push_str(&format!(" AND {table}owner IS NULL")),
        OwnerFilter::Email(e) => {
            sql.push_str(&format!(" AND {table}owner_email = {}", mark()));
            values.push(Value::Text(e.clone()));
        }
        OwnerFilter::Name(name) => {
            sql.push_str(&format!(" AND {table}owner_name = {}", mark()));
            values.push(Value::Text(name.clone()));
        }
    }
    for t in &team.tags {
        sql.push_str(&format!(" AND instr({table}tags, {}) > 0", mark()));
        values.push(Value::Text(format!(";{t};")));
    }
}

/// What one case file became when the index parsed it.
enum Parsed {
    Row(Box<Row>),
    /// A case file that does not parse: the index steps aside while it is there.
    Broken(String),
}

const TABLES: &str = "
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cases(
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    blob TEXT NOT NULL,
    status TEXT NOT NULL,
    status_rank INTEGER NOT NULL,
    priority TEXT NOT NULL,
    priority_rank INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    customer_name TEXT NOT NULL,
    customer_email TEXT,
    customer_phone TEXT,
    subject TEXT NOT NULL,
    reviewed INTEGER NOT NULL,
    next_due INTEGER,
    owner TEXT,
    owner_email TEXT,
    owner_name TEXT,
    tags TEXT NOT NULL,
    review TEXT,
    projection TEXT,
    -- Last: a read of any other column never walks the body's overflow pages.
    body TEXT
);
CREATE TABLE IF NOT EXISTS commitments(
    case_rowid INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    target TEXT NOT NULL,
    policy TEXT,
    start INTEGER NOT NULL,
    due INTEGER,
    at_risk_from INTEGER,
    stopped_at INTEGER
);
CREATE TABLE IF NOT EXISTS resolves(case_rowid INTEGER NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS broken(path TEXT PRIMARY KEY, id TEXT NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    subject, description, messages, questions, findings, root_cause, resolution, feedback, logs,
    tokenize = 'unicode61 remove_diacritics 2'
);
";

/// Secondary indexes, made after the tables (and after a rebuild's inserts).
const INDEXES: &str = "
CREATE INDEX IF NOT EXISTS cases_status ON cases(status, priority, created_at);
CREATE INDEX IF NOT EXISTS cases_created ON cases(created_at);
CREATE INDEX IF NOT EXISTS cases_path ON cases(path);
CREATE INDEX IF NOT EXISTS cases_owner ON cases(owner_email);
CREATE INDEX IF NOT EXISTS commitments_case ON commitments(case_rowid);
CREATE INDEX IF NOT EXISTS commitments_open ON commitments(due) WHERE stopped_at IS NULL AND due IS NOT NULL;
CREATE INDEX IF NOT EXISTS resolves_case ON resolves(case_rowid);
CREATE INDEX IF NOT EXISTS resolves_at ON resolves(at);
";

/// An open index that reflects exactly the view's tip, inside a read transaction that keeps
/// it so for as long as the view lives.
pub struct Index {
    conn: Connection,
}

/// Where a case book's index lives.
pub fn index_dir(repo: &Repository) -> PathBuf {
    repo.path().join("casebook")
}

fn db_path(dir: &Path) -> PathBuf {
    dir.join("index.sqlite")
}

/// Deletes the index of `repo` (it is rebuilt by the next read): after an erasure, since
/// it held the opened text of sealed values.
pub(crate) fn purge(repo: &Repository) {
    let dir = index_dir(repo);
    match RebuildLock::take(&dir) {
        Ok(_lock) => remove_db(&dir),
        Err(_) => remove_db(&dir),
    }
}

fn remove_db(dir: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.join(format!("index.sqlite{suffix}")));
    }
}

fn connect(path: &Path) -> IResult<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(120))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // Disposable: a crash may lose the last catch-up, never the case book.
    conn.pragma_update(None, "synchronous", "OFF")?;
    // Each command is a new process with a cold page cache: reading the file through a
    // memory map costs no system call per page (the review reads thousands of rows).
    conn.pragma_update(None, "mmap_size", 1_i64 << 30)?;
    conn.execute_batch(TABLES)?;
    conn.execute_batch(INDEXES)?;
    Ok(conn)
}

/// Whether SQLite says the file is not a (sound) database, or one whose tables are not what
/// this casebook expects: then it is deleted and rebuilt. Anything else (busy for too long,
/// a full disk, a folder that cannot be written) leaves it alone and the read scans.
fn is_corrupt(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(
            rusqlite::ErrorCode::NotADatabase
                | rusqlite::ErrorCode::DatabaseCorrupt
                | rusqlite::ErrorCode::Unknown
        )
    )
}

/// What the index should do next, read from its meta table.
enum Stale {
    Fresh,
    /// Same format and config: apply the diff from this tree (`None`: empty index).
    From(Option<Oid>),
    Rebuild,
}

fn meta(conn: &Connection, key: &str) -> IResult<Option<String>> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

fn set_meta(conn: &Connection, key: &str, value: &str) -> IResult<()> {
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

fn staleness(conn: &Connection, want: &Key, repo: &Repository) -> IResult<Stale> {
    if meta(conn, "format")?.as_deref() != Some(FORMAT)
        || meta(conn, "config")?.as_deref() != Some(want.config_text().as_str())
    {
        return Ok(Stale::Rebuild);
    }
    if meta(conn, "missing_keys_ring")?.is_some_and(|ring| ring != want.ring) {
        return Ok(Stale::Rebuild);
    }
    let Some(tree) = meta(conn, "cases_tree")? else {
        return Ok(Stale::Rebuild);
    };
    if tree == want.tree_text() {
        return Ok(Stale::Fresh);
    }
    if tree.is_empty() {
        return Ok(Stale::From(None));
    }
    match Oid::from_str(&tree) {
        // The recorded tree must still be readable (it may have been garbage-collected).
        Ok(oid) if repo.find_tree(oid).is_ok() => Ok(Stale::From(Some(oid))),
        _ => Ok(Stale::Rebuild),
    }
}

/// A changed case file between two `cases/` trees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Added or modified: the new entry.
    Put(Entry),
    /// Removed: its path.
    Gone(String),
}

/// The case files that differ between two `cases/` trees. Shards (and whole trees) whose
/// ids are equal are skipped without being read.
pub fn diff_cases(repo: &Repository, old: Option<Oid>, new: Option<Oid>) -> IResult<Vec<Change>> {
    let mut out = Vec::new();
    if old == new {
        return Ok(out);
    }
    let tree = |t: Option<Oid>| t.map(|t| repo.find_tree(t)).transpose();
    let (a, b) = (tree(old)?, tree(new)?);
    for d in super::treediff::diff(repo, a.as_ref(), b.as_ref())? {
        // Case files sit directly in a shard folder: `<shard>/<ID>.toml`.
        let Some((shard, name)) = d.path.split_once('/') else {
            continue;
        };
        let Some(cid) = case_id_of_file(name).filter(|_| !name.contains('/')) else {
            continue;
        };
        let path = format!("cases/{shard}/{name}");
        out.push(match d.new {
            Some(blob) => Change::Put(Entry {
                id: cid,
                path,
                blob,
            }),
            None => Change::Gone(path),
        });
    }
    Ok(out)
}

fn parse_all(snap: &Snapshot<'_>, entries: &[Entry], config: &Config) -> IResult<Vec<Parsed>> {
    let triples: Vec<(CaseId, String, Oid)> = entries.iter().map(Entry::triple).collect();
    let out = snap.map_entries(&triples, |path, blob, parsed| {
        let id = case_id_of_file(path.rsplit('/').next().unwrap_or(path))
            .expect("case entries have case file names");
        let entry = Entry {
            id,
            path: path.to_string(),
            blob,
        };
        Ok(Some(match parsed {
            Ok(f) => match Row::of(entry, &f, config) {
                Ok(row) => Ok(Parsed::Row(Box::new(row))),
                Err(e) => Err(e.to_string()),
            },
            Err(_) => Ok(Parsed::Broken(path.to_string())),
        }))
    })?;
    out.into_iter()
        .map(|r| r.map_err(IndexError::Unusable))
        .collect()
}

fn delete_path(conn: &Connection, path: &str) -> IResult<()> {
    conn.execute("DELETE FROM broken WHERE path = ?1", [path])?;
    let rowid: Option<i64> = conn
        .query_row("SELECT rowid FROM cases WHERE path = ?1", [path], |r| {
            r.get(0)
        })
        .optional()?;
    if let Some(rowid) = rowid {
        conn.execute("DELETE FROM cases WHERE rowid = ?1", [rowid])?;
        conn.execute("DELETE FROM commitments WHERE case_rowid = ?1", [rowid])?;
        conn.execute("DELETE FROM resolves WHERE case_rowid = ?1", [rowid])?;
        conn.execute("DELETE FROM fts WHERE rowid = ?1", [rowid])?;
    }
    Ok(())
}

fn insert(conn: &Connection, p: &Parsed, path_of_broken_id: Option<&CaseId>) -> IResult<()> {
    match p {
        Parsed::Broken(path) => {
            let id = path_of_broken_id.map(|i| i.to_string()).unwrap_or_default();
            conn.execute(
                "INSERT OR REPLACE INTO broken(path, id) VALUES (?1, ?2)",
                params![path, id],
            )?;
        }
        Parsed::Row(r) => {
            let mut st = conn.prepare_cached(
                "INSERT INTO cases(id, path, blob, status, status_rank, priority, priority_rank,
                 created_at, updated_at, customer_name, customer_email, customer_phone, subject,
                 reviewed, next_due, body, review, projection, owner, owner_email, owner_name,
                 tags)
                 VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,
                 ?21,?22)",
            )?;
            st.execute(params![
                r.entry.id.as_str(),
                r.entry.path,
                r.entry.blob.to_string(),
                r.status,
                r.status_rank,
                r.priority,
                r.priority_rank,
                r.created_at,
                r.updated_at,
                r.customer_name,
                r.customer_email,
                r.customer_phone,
                r.subject,
                r.reviewed,
                r.next_due,
                r.body,
                r.review,
                r.projection,
                r.owner,
                r.owner_email,
                r.owner_name,
                r.tags,
            ])?;
            let rowid = conn.last_insert_rowid();
            let mut k = conn.prepare_cached(
                "INSERT INTO commitments(case_rowid, seq, target, start, due, at_risk_from,
                 stopped_at, policy) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
            )?;
            for (seq, c) in r.commitments.iter().enumerate() {
                k.execute(params![rowid, seq as i64, c.0, c.1, c.2, c.3, c.4, c.5])?;
            }
            let mut res =
                conn.prepare_cached("INSERT INTO resolves(case_rowid, at) VALUES (?1, ?2)")?;
            for at in &r.resolves {
                res.execute(params![rowid, at])?;
            }
            let mut fts = conn.prepare_cached(
                "INSERT INTO fts(rowid, subject, description, messages, questions, findings,
                 root_cause, resolution, feedback, logs) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
            )?;
            let t = &r.text;
            fts.execute(params![
                rowid, t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8]
            ])?;
        }
    }
    Ok(())
}

/// The key ring commit this repository has now ("" for none).
fn ring_tip(repo: &Repository) -> String {
    repo.refname_to_id(super::KEYRING_REF)
        .map(|o| o.to_string())
        .unwrap_or_default()
}

fn write_key(conn: &Connection, key: &Key) -> IResult<()> {
    // Cases with values this clone had no key for were indexed as "[sealed]": once the
    // key ring changes (a sync brought the keys), the index is rebuilt to open them.
    if super::privacy::met_missing_key() {
        set_meta(conn, "missing_keys_ring", &key.ring)?;
    }
    set_meta(conn, "format", FORMAT)?;
    set_meta(conn, "config", &key.config_text())?;
    set_meta(conn, "cases_tree", &key.tree_text())
}

/// Fills `conn` (empty, or emptied here) with every case of `snap`, in one transaction.
fn fill(
    conn: &Connection,
    snap: &Snapshot<'_>,
    key: &Key,
    config: &Config,
    progress: &dyn Fn(u64, u64),
) -> IResult<()> {
    let entries: Vec<Entry> = snap
        .case_entries()?
        .into_iter()
        .map(|(id, path, blob)| Entry { id, path, blob })
        .collect();
    let total = entries.len() as u64;
    progress(0, total);
    // Room for the whole build in memory (allocated only as used).
    conn.pragma_update(None, "cache_size", -262_144)?;
    // Parse in parallel (most of the cost), in slices so progress can be shown.
    let mut parsed = Vec::with_capacity(entries.len());
    for part in entries.chunks(8192) {
        parsed.extend(parse_all(snap, part, config)?);
        progress(parsed.len() as u64, total);
    }
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| -> IResult<()> {
        // Another process may have done it while this one parsed.
        if matches!(staleness(conn, key, &snap.store.repo)?, Stale::Fresh) {
            return Ok(());
        }
        // The tables are made anew, so an index of an older format (other columns) goes too.
        // Secondary indexes are made after the rows are in: sorting once is much cheaper
        // than 100k random B-tree inserts through a small page cache.
        conn.execute_batch(
            "DROP TABLE IF EXISTS cases; DROP TABLE IF EXISTS commitments;
             DROP TABLE IF EXISTS resolves; DROP TABLE IF EXISTS broken;
             DROP TABLE IF EXISTS fts; DROP TABLE IF EXISTS meta;",
        )?;
        conn.execute_batch(TABLES)?;
        for (p, e) in parsed.iter().zip(&entries) {
            insert(conn, p, Some(&e.id))?;
        }
        conn.execute_batch(INDEXES)?;
        write_key(conn, key)
    })();
    match result {
        Ok(()) => {
            conn.execute_batch("COMMIT")?;
            Ok(())
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// Applies the diff from `from` to the view's tree, in one write transaction that first
/// checks nobody else did it.
fn catch_up(
    conn: &Connection,
    snap: &Snapshot<'_>,
    key: &Key,
    from: Option<Oid>,
    config: &Config,
) -> IResult<()> {
    let repo = &snap.store.repo;
    let changes = diff_cases(repo, from, key.cases_tree)?;
    let puts: Vec<Entry> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Put(e) => Some(e.clone()),
            Change::Gone(_) => None,
        })
        .collect();
    let parsed = parse_all(snap, &puts, config)?;
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| -> IResult<bool> {
        match staleness(conn, key, repo)? {
            Stale::Fresh => return Ok(true),
            Stale::From(now) if now == from => {}
            // Someone moved it meanwhile: start over from what it records now.
            _ => return Ok(false),
        }
        for c in &changes {
            let path = match c {
                Change::Put(e) => &e.path,
                Change::Gone(p) => p,
            };
            delete_path(conn, path)?;
        }
        for (p, e) in parsed.iter().zip(&puts) {
            insert(conn, p, Some(&e.id))?;
        }
        write_key(conn, key)?;
        Ok(true)
    })();
    match result {
        Ok(_) => {
            conn.execute_batch("COMMIT")?;
            Ok(())
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// A lock file other processes wait on while one rebuilds.
struct RebuildLock(std::fs::File);

impl RebuildLock {
    fn take(dir: &Path) -> IResult<RebuildLock> {
        let path = dir.join("rebuild.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| IndexError::Io {
                action: "open",
                path: path.clone(),
                source,
            })?;
        file.lock().map_err(|source| IndexError::Io {
            action: "lock",
            path,
            source,
        })?;
        Ok(RebuildLock(file))
    }
}

impl Drop for RebuildLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

impl Index {
    /// Opens the index of `snap`'s repository and brings it to exactly `snap`'s tip: caught
    /// up from a tree diff, or rebuilt. A corrupt database is deleted and rebuilt once.
    pub(crate) fn open(snap: &Snapshot<'_>, config: &Config) -> IResult<Index> {
        let dir = index_dir(&snap.store.repo);
        match Index::open_in(&dir, snap, config) {
            Ok(i) => Ok(i),
            Err(IndexError::Sqlite(e)) if is_corrupt(&e) => {
                // Unreadable or corrupt: it is only a cache.
                let _lock = RebuildLock::take(&dir)?;
                remove_db(&dir);
                drop(_lock);
                Index::open_in(&dir, snap, config)
            }
            Err(e) => Err(e),
        }
    }

    fn open_in(dir: &Path, snap: &Snapshot<'_>, config: &Config) -> IResult<Index> {
        std::fs::create_dir_all(dir).map_err(|source| IndexError::Io {
            action: "create",
            path: dir.to_path_buf(),
            source,
        })?;
        let conn = connect(&db_path(dir))?;
        let key = Key::of(snap)?;
        let repo = &snap.store.repo;
        for _ in 0..8 {
            // A read transaction: from here on this connection sees one state of the index.
            conn.execute_batch("BEGIN")?;
            let stale = staleness(&conn, &key, repo);
            match stale {
                Ok(Stale::Fresh) => return Ok(Index { conn }),
                Ok(Stale::From(from)) => {
                    conn.execute_batch("ROLLBACK")?;
                    catch_up(&conn, snap, &key, from, config)?;
                }
                Ok(Stale::Rebuild) => {
                    conn.execute_batch("ROLLBACK")?;
                    let _lock = RebuildLock::take(dir)?;
                    fill(&conn, snap, &key, config, &|_, _| {})?;
                }
                Err(e) => {
                    let _ = conn.execute_batch("ROLLBACK");
                    return Err(e);
                }
            }
        }
        Err(IndexError::Unusable(
            "the index kept moving under other processes".into(),
        ))
    }

    /// Builds the index of `snap` in memory: what a read uses when there is no index on
    /// disk (search needs one) and what `verify` compares the disk index with.
    pub(crate) fn in_memory(snap: &Snapshot<'_>, config: &Config) -> IResult<Index> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(TABLES)?;
        conn.execute_batch(INDEXES)?;
        let key = Key::of(snap)?;
        fill(&conn, snap, &key, config, &|_, _| {})?;
        conn.execute_batch("BEGIN")?;
        Ok(Index { conn })
    }

    /// Deletes and rebuilds the on-disk index of `snap`, reporting (done, total) cases.
    pub(crate) fn rebuild(
        snap: &Snapshot<'_>,
        config: &Config,
        progress: &dyn Fn(u64, u64),
    ) -> IResult<u64> {
        let dir = index_dir(&snap.store.repo);
        std::fs::create_dir_all(&dir).map_err(|source| IndexError::Io {
            action: "create",
            path: dir.clone(),
            source,
        })?;
        let _lock = RebuildLock::take(&dir)?;
        remove_db(&dir);
        let conn = connect(&db_path(&dir))?;
        fill(&conn, snap, &Key::of(snap)?, config, progress)?;
        Ok(conn.query_row("SELECT count(*) FROM cases", [], |r| r.get::<_, i64>(0))? as u64)
    }

    fn entry(id: String, path: String, blob: String) -> rusqlite::Result<Entry> {
        let bad = |what: &str| {
            rusqlite::Error::FromSqlConversionFailure(
                0,
                rusqlite::types::Type::Text,
                format!("bad {what} in index").into(),
            )
        };
        Ok(Entry {
            id: CaseId::parse(&id).map_err(|_| bad("case ID"))?,
            path,
            blob: Oid::from_str(&blob).map_err(|_| bad("blob id"))?,
        })
    }

    fn entries(&self, sql: &str, params: impl rusqlite::Params) -> IResult<Vec<Entry>> {
        let mut st = self.conn.prepare(sql)?;
        let rows = st.query_map(params, |r| Index::entry(r.get(0)?, r.get(1)?, r.get(2)?))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The cached JSON of each entry's case (`None` where there is none). TOML parsing is
    /// most of the cost of a read; JSON of the same case parses several times faster. A
    /// body is stored only if it deserialises to exactly the case its file holds, and it
    /// belongs to the blob id the entry names, so it is the file's content in another form.
    pub fn bodies(&self, entries: &[Entry]) -> IResult<Vec<Option<String>>> {
        self.cached(entries, "body")
    }

    /// Like [`Index::bodies`], the JSON of each entry's case with its events left out:
    /// what a listing shows, several times faster to parse than the whole case.
    pub fn projections(&self, entries: &[Entry]) -> IResult<Vec<Option<String>>> {
        self.cached(entries, "projection")
    }

    /// A cached JSON column (`body` or `projection`) of each entry's case.
    fn cached(&self, entries: &[Entry], column: &str) -> IResult<Vec<Option<String>>> {
        if self.most(entries.len())? {
            // Most of the book: one pass over the table beats a look-up per case.
            let mut st = self
                .conn
                .prepare_cached(&format!("SELECT id, path, blob, {column} FROM cases"))?;
            let mut by_id: std::collections::HashMap<String, (String, String, Option<String>)> =
                std::collections::HashMap::new();
            let rows = st.query_map([], |r| {
                Ok((r.get::<_, String>(0)?, (r.get(1)?, r.get(2)?, r.get(3)?)))
            })?;
            for row in rows {
                let (id, rest) = row?;
                by_id.insert(id, rest);
            }
            return Ok(entries
                .iter()
                .map(|e| {
                    by_id.remove(e.id.as_str()).and_then(|(path, blob, body)| {
                        (path == e.path && blob == e.blob.to_string())
                            .then_some(body)
                            .flatten()
                    })
                })
                .collect());
        }
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {column} FROM cases WHERE id = ?1 AND path = ?2 AND blob = ?3"
        ))?;
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            let body: Option<Option<String>> = st
                .query_row(params![e.id.as_str(), e.path, e.blob.to_string()], |r| {
                    r.get(0)
                })
                .optional()?;
            out.push(body.flatten());
        }
        Ok(out)
    }

    /// Whether `n` cases are most of the book (then one pass beats a look-up per case).
    fn most(&self, n: usize) -> IResult<bool> {
        if n < 2048 {
            return Ok(false);
        }
        let total: i64 = self
            .conn
            .query_row("SELECT count(*) FROM cases", [], |r| r.get(0))?;
        Ok(n as i64 * 3 >= total)
    }

    /// The case files of the tip that do not parse, in path order: in no answer.
    pub fn broken(&self) -> IResult<Vec<String>> {
        let mut st = self.conn.prepare("SELECT path FROM broken ORDER BY path")?;
        let rows = st.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Whether reads may use this index: always when every case file parses; otherwise,
    /// the files that do not parse are skipped with a warning naming each, unless
    /// `--strict` asks reads to fail on them (then the caller scans, and the scan fails).
    pub(crate) fn usable_with_broken(&self) -> bool {
        match self.broken() {
            Ok(broken) if broken.is_empty() => true,
            Ok(broken) if !super::strict() => {
                for path in &broken {
                    super::warn_skipped(path);
                }
                true
            }
            _ => false,
        }
    }

    /// Every case file the index knows, in path order.
    pub fn all(&self) -> IResult<Vec<Entry>> {
        self.entries("SELECT id, path, blob FROM cases ORDER BY path", [])
    }

    /// The cases in the given statuses (all when empty), in path order.
    pub fn with_status(&self, statuses: &[String]) -> IResult<Vec<Entry>> {
        if statuses.is_empty() {
            return self.all();
        }
        self.entries(
            "SELECT id, path, blob FROM cases WHERE status IN (SELECT value FROM json_each(?1)) ORDER BY path",
            [serde_json::to_string(statuses).expect("strings serialise")],
        )
    }

    /// The projection rows `list` filters and sorts. Empty lists mean any; times are
    /// nanoseconds, `since` inclusive and `until` exclusive.
    pub fn list_rows(
        &self,
        statuses: &[String],
        exclude_status: Option<&str>,
        priorities: &[String],
        since: Option<i64>,
        until: Option<i64>,
        team: &TeamFilter,
    ) -> IResult<Vec<ListRow>> {
        // Built for the filters given, so SQLite can use the (status, priority, created_at)
        // index instead of testing every row.
        let mut sql = String::from(
            "SELECT id, path, blob, status, status_rank, priority, priority_rank, created_at,
                    updated_at, next_due, customer_name, customer_email, customer_phone
             FROM cases WHERE 1",
        );
        let mut values: Vec<rusqlite::types::Value> = Vec::new();
        let mut any_of = |sql: &mut String, column: &str, v: &[String]| {
            if !v.is_empty() {
                let marks = vec!["?"; v.len()].join(", ");
                sql.push_str(&format!(" AND {column} IN ({marks})"));
                values.extend(v.iter().cloned().map(rusqlite::types::Value::Text));
            }
        };
        any_of(&mut sql, "status", statuses);
        any_of(&mut sql, "priority", priorities);
        if let Some(x) = exclude_status {
            sql.push_str(" AND status != ?");
            values.push(rusqlite::types::Value::Text(x.to_string()));
        }
        if let Some(t) = since {
            sql.push_str(" AND created_at >= ?");
            values.push(rusqlite::types::Value::Integer(t));
        }
        if let Some(t) = until {
            sql.push_str(" AND created_at < ?");
            values.push(rusqlite::types::Value::Integer(t));
        }
        team_sql(team, "", values.len() + 1, &mut sql, &mut values);
        let mut st = self.conn.prepare_cached(&sql)?;
        let rows = st.query_map(rusqlite::params_from_iter(values), |r| {
            Ok(ListRow {
                entry: Index::entry(r.get(0)?, r.get(1)?, r.get(2)?)?,
                status: r.get(3)?,
                status_rank: r.get(4)?,
                priority: r.get(5)?,
                priority_rank: r.get(6)?,
                created_at: r.get(7)?,
                updated_at: r.get(8)?,
                next_due: r.get(9)?,
                customer_name: r.get(10)?,
                customer_email: r.get(11)?,
                customer_phone: r.get(12)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Every commitment still owed with a due time at or before `by` (any when `None`) of
    /// the cases not closed, judged at `now`, cases in path order and each case's in the
    /// order [`evaluate`] gives: the due queue read from stored instants, no case parsed.
    pub fn due_rows(
        &self,
        by: Option<i64>,
        now: DateTime<Utc>,
        team: &TeamFilter,
    ) -> IResult<Vec<DueRow>> {
        let mut sql = String::from(
            "SELECT c.id, c.customer_name, c.subject, c.priority, c.status, k.target, k.policy,
                    k.start, k.due, k.at_risk_from, k.stopped_at, c.owner, c.tags
             FROM commitments k JOIN cases c ON c.rowid = k.case_rowid
             WHERE c.status != 'closed' AND k.stopped_at IS NULL AND k.due IS NOT NULL
               AND (?1 IS NULL OR k.due <= ?1)",
        );
        let mut values = vec![by.map_or(
            rusqlite::types::Value::Null,
            rusqlite::types::Value::Integer,
        )];
        team_sql(team, "c.", values.len() + 1, &mut sql, &mut values);
        sql.push_str(" ORDER BY c.path, k.seq");
        let mut st = self.conn.prepare_cached(&sql)?;
        let rows = st.query_map(rusqlite::params_from_iter(values), |r| {
            Ok((
                (
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(11)?,
                    r.get::<_, String>(12)?,
                ),
                (
                    r.get::<_, String>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, i64>(7)?,
                    r.get::<_, Option<i64>>(8)?,
                    r.get::<_, Option<i64>>(9)?,
                    r.get::<_, Option<i64>>(10)?,
                ),
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let ((id, customer_name, subject, priority, status, owner, tags), k) = row?;
            out.push(DueRow {
                id: CaseId::parse(&id).map_err(|_| bad("case ID"))?,
                customer_name,
                subject,
                priority,
                status,
                owner,
                tags: tags
                    .split(';')
                    .filter(|t| !t.is_empty())
                    .map(str::to_string)
                    .collect(),
                commitment: judged(k, now)?,
            });
        }
        Ok(out)
    }

    /// Each entry's commitments judged at `now`, in the order [`evaluate`] gives them:
    /// what `evaluate` of the parsed case gives, read from stored instants.
    pub fn commitments(
        &self,
        entries: &[Entry],
        now: DateTime<Utc>,
    ) -> IResult<Vec<Vec<Commitment>>> {
        let columns = "k.target, k.policy, k.start, k.due, k.at_risk_from, k.stopped_at";
        let read = |r: &rusqlite::Row<'_>, at: usize| -> rusqlite::Result<StoredCommitment> {
            Ok((
                r.get(at)?,
                r.get(at + 1)?,
                r.get(at + 2)?,
                r.get(at + 3)?,
                r.get(at + 4)?,
                r.get(at + 5)?,
            ))
        };
        if self.most(entries.len())? {
            // Most of the book: one pass over the table beats a look-up per case.
            let mut st = self.conn.prepare_cached(&format!(
                "SELECT c.id, {columns} FROM commitments k JOIN cases c ON c.rowid = k.case_rowid
                 ORDER BY k.case_rowid, k.seq"
            ))?;
            let mut by_id: std::collections::HashMap<String, Vec<Commitment>> =
                std::collections::HashMap::new();
            let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, read(r, 1)?)))?;
            for row in rows {
                let (id, k) = row?;
                by_id.entry(id).or_default().push(judged(k, now)?);
            }
            return Ok(entries
                .iter()
                .map(|e| by_id.remove(e.id.as_str()).unwrap_or_default())
                .collect());
        }
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {columns} FROM commitments k JOIN cases c ON c.rowid = k.case_rowid
             WHERE c.id = ?1 AND c.blob = ?2 ORDER BY k.seq"
        ))?;
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            let rows = st.query_map(params![e.id.as_str(), e.blob.to_string()], |r| read(r, 0))?;
            let mut ks = Vec::new();
            for k in rows {
                ks.push(judged(k?, now)?);
            }
            out.push(ks);
        }
        Ok(out)
    }

    /// Cases with a commitment that may be breached at `now` (due passed while owed, or
    /// stopped after its due time), in path order.
    pub fn maybe_breached(&self, now: i64) -> IResult<Vec<Entry>> {
        self.entries(
            "SELECT id, path, blob FROM cases WHERE rowid IN (
                 SELECT case_rowid FROM commitments WHERE due IS NOT NULL
                 AND ((stopped_at IS NULL AND due <= ?1) OR stopped_at > due))
             ORDER BY path",
            [now],
        )
    }

    /// Cases with a commitment still owed whose at-risk time has come at `now`.
    pub fn maybe_at_risk(&self, now: i64) -> IResult<Vec<Entry>> {
        self.entries(
            "SELECT id, path, blob FROM cases WHERE rowid IN (
                 SELECT case_rowid FROM commitments
                 WHERE stopped_at IS NULL AND at_risk_from IS NOT NULL AND at_risk_from <= ?1)
             ORDER BY path",
            [now],
        )
    }

    /// The review's inputs read from rows, no case parsed: the opening times of the cases
    /// not resolved or closed (the backlog), and the stored facts of the cases with a
    /// resolve in `[lo, hi)` (whose last resolve the caller checks), both in path order.
    pub fn review_rows(
        &self,
        lo: i64,
        hi: i64,
        team: &TeamFilter,
    ) -> IResult<(Vec<i64>, Vec<StoredFacts>)> {
        let mut sql =
            String::from("SELECT created_at FROM cases WHERE status NOT IN ('resolved', 'closed')");
        let mut values = Vec::new();
        team_sql(team, "", 1, &mut sql, &mut values);
        sql.push_str(" ORDER BY path");
        let mut st = self.conn.prepare_cached(&sql)?;
        let open = st
            .query_map(rusqlite::params_from_iter(values), |r| r.get::<_, i64>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut sql = String::from(
            "SELECT review FROM cases
             WHERE rowid IN (SELECT case_rowid FROM resolves WHERE at >= ?1 AND at < ?2)",
        );
        let mut values = vec![
            rusqlite::types::Value::Integer(lo),
            rusqlite::types::Value::Integer(hi),
        ];
        team_sql(team, "", 3, &mut sql, &mut values);
        sql.push_str(" ORDER BY path");
        let mut st = self.conn.prepare_cached(&sql)?;
        let mut facts = Vec::new();
        for json in st.query_map(rusqlite::params_from_iter(values), |r| {
            r.get::<_, Option<String>>(0)
        })? {
            let json = json?.ok_or_else(|| IndexError::Unusable("no review facts".into()))?;
            facts.push(
                serde_json::from_str(&json)
                    .map_err(|e| IndexError::Unusable(format!("review facts: {e}")))?,
            );
        }
        Ok((open, facts))
    }

    /// Resolved and closed cases with no review event, in path order.
    pub fn unreviewed(&self) -> IResult<Vec<Entry>> {
        self.entries(
            "SELECT id, path, blob FROM cases
             WHERE status IN ('resolved', 'closed') AND reviewed = 0 ORDER BY path",
            [],
        )
    }

    /// Full-text search: `query` is an FTS5 expression. Hits best first (bm25, then ID),
    /// filtered by status and priority (empty: any), at most `limit`.
    pub fn search(
        &self,
        query: &str,
        statuses: &[String],
        priorities: &[String],
        team: &TeamFilter,
        limit: usize,
    ) -> IResult<Vec<Hit>> {
        let json = |v: &[String]| serde_json::to_string(v).expect("strings serialise");
        let mut team_where = String::new();
        let mut team_values = Vec::new();
        team_sql(team, "c.", 5, &mut team_where, &mut team_values);
        let snippets: Vec<String> = (0..SEARCH_FIELDS.len())
            .map(|i| format!("snippet(fts, {i}, char(1), char(2), '…', 12)"))
            .collect();
        // Ranked first, snippets after: SQLite computes a query's result columns for every
        // row before it sorts, and a common word matches thousands of cases, so the nine
        // snippets are made only for the hits kept (the MATCH runs again for those rows
        // only, which FTS5 answers by rowid). Same rank, same order, same limit.
        let sql = format!(
            "WITH top AS (
                 SELECT fts.rowid AS r, bm25(fts) AS score, c.id AS id
                 FROM fts JOIN cases c ON c.rowid = fts.rowid
                 WHERE fts MATCH ?1
                   AND (?2 = '[]' OR c.status IN (SELECT value FROM json_each(?2)))
                   AND (?3 = '[]' OR c.priority IN (SELECT value FROM json_each(?3)))
                   {team_where}
                 ORDER BY score, c.id LIMIT ?4)
             SELECT c.id, c.path, c.blob, c.status, c.priority, c.subject, top.score, {}
             FROM top JOIN fts ON fts.rowid = top.r JOIN cases c ON c.rowid = top.r
             WHERE fts MATCH ?1
             ORDER BY top.score, top.id",
            snippets.join(", ")
        );
        let mut st = self.conn.prepare(&sql)?;
        let mut values: Vec<rusqlite::types::Value> = vec![
            query.to_string().into(),
            json(statuses).into(),
            json(priorities).into(),
            i64::try_from(limit).unwrap_or(i64::MAX).into(),
        ];
        values.extend(team_values);
        let rows = st.query_map(rusqlite::params_from_iter(values), |r| {
            // The field: the first column whose snippet holds a match.
            let mut field = SEARCH_FIELDS[0];
            let mut snippet = String::new();
            for (i, name) in SEARCH_FIELDS.iter().enumerate() {
                let s: String = r.get::<_, Option<String>>(7 + i)?.unwrap_or_default();
                if s.contains('\u{1}') {
                    field = name;
                    snippet = s;
                    break;
                }
            }
            Ok(Hit {
                entry: Index::entry(r.get(0)?, r.get(1)?, r.get(2)?)?,
                status: r.get(3)?,
                priority: r.get(4)?,
                subject: r.get(5)?,
                field,
                snippet,
                rank: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Every stored row as text, one line per case and table, sorted: what `verify`
    /// compares between this index and one built from a full scan.
    pub fn dump(&self) -> IResult<Vec<String>> {
        let mut out = Vec::new();
        let queries = [
            "SELECT 'case ' || id || ' ' || path || ' ' || blob || ' ' || status || ' ' || status_rank || ' ' || priority || ' ' || priority_rank || ' ' || created_at || ' ' || updated_at || ' ' || quote(customer_name) || ' ' || quote(customer_email) || ' ' || quote(customer_phone) || ' ' || quote(subject) || ' ' || reviewed || ' ' || quote(next_due) || ' ' || quote(owner) || ' ' || quote(owner_email) || ' ' || quote(owner_name) || ' ' || quote(tags) || ' ' || quote(review) FROM cases",
            "SELECT 'commitment ' || c.id || ' ' || k.seq || ' ' || k.target || ' ' || quote(k.policy) || ' ' || k.start || ' ' || quote(k.due) || ' ' || quote(k.at_risk_from) || ' ' || quote(k.stopped_at) FROM commitments k JOIN cases c ON c.rowid = k.case_rowid",
            "SELECT 'resolve ' || c.id || ' ' || r.at FROM resolves r JOIN cases c ON c.rowid = r.case_rowid",
            "SELECT 'text ' || c.id || ' ' || quote(f.subject) || quote(f.description) || quote(f.messages) || quote(f.questions) || quote(f.findings) || quote(f.root_cause) || quote(f.resolution) || quote(f.feedback) || quote(f.logs) FROM fts f JOIN cases c ON c.rowid = f.rowid",
            "SELECT 'broken ' || path FROM broken",
        ];
        for q in queries {
            let mut st = self.conn.prepare(q)?;
            let rows = st.query_map([], |r| r.get::<_, String>(0))?;
            for r in rows {
                out.push(r?);
            }
        }
        // Orphans (a row of a side table with no case) show up as a count.
        let orphans: i64 = self.conn.query_row(
            "SELECT (SELECT count(*) FROM commitments WHERE case_rowid NOT IN (SELECT rowid FROM cases))
                  + (SELECT count(*) FROM resolves WHERE case_rowid NOT IN (SELECT rowid FROM cases))
                  + (SELECT count(*) FROM fts WHERE rowid NOT IN (SELECT rowid FROM cases))",
            [],
            |r| r.get(0),
        )?;
        if orphans > 0 {
            out.push(format!("orphan rows {orphans}"));
        }
        out.sort();
        Ok(out)
    }
}

/// Whether `CASEBOOK_INDEX=off` asks every read to scan (for checking and troubleshooting).
pub fn disabled() -> bool {
    std::env::var("CASEBOOK_INDEX").is_ok_and(|v| v == "off" || v == "0")
}
