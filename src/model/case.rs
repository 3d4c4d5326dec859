//! The case file: one TOML document per case.
//!
//! ```toml
//! schema = 1
//!
//! [case]              # current values: a projection of the events, recomputable by replay
//! id = "CB-7K3M9QXA"
//! status = "open"
//! ...
//!
//! [customer]          # personal data, and only here (and in [event.customer])
//! name = "Ada Lovelace"
//! email = "ada@example.com"
//!
//! [[event]]           # append-only; the truth
//! id = "3F8Q0T6W1M2N"
//! at = "2026-11-22T09:00:00Z"
//! actor = "Dana Agent <dana@example.com>"
//! action = "open"
//! ...
//! ```
//!
//! Keys and values written by a newer casebook are preserved (`extra`, `Unknown`); a newer
//! `schema` is refused. Serialisation is canonical: the same case always gives the same bytes.
//!
//! Schema 2 is schema 1 plus one thing: in a sealed file a personal value of `[case]` or
//! `[customer]` that is exactly what replaying the events gives is stored as
//! [`super::privacy::FROM_EVENTS`] instead of a second copy of the event's sealed value
//! ([`super::privacy::derive_projection`]). A file is written as schema 2 only when it
//! holds such a value, so plain books stay readable by casebooks that know schema 1 only,
//! and those refuse a schema-2 file rather than misread it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::enums::{Channel, Direction, FollowUpResponse, Priority, Status};
use super::event::{Attachment, CustomerFields, Event, Payload};
use super::id::CaseId;
use super::personal::{HasPersonal, Personal, Visit};
use super::privacy::SealState;
use super::time::{utc, utc_opt};

/// The newest case-file schema this version reads and writes.
pub const SCHEMA: u32 = 2;

/// The schema of a file with no value derived from its events: what a new case starts as.
pub const BASE_SCHEMA: u32 = 1;

/// The largest `seq` a case file may hold. One below `u64::MAX`, so that every readable
/// file's clock can be checked for overflow the same way on read and on append.
pub const MAX_SEQ: u64 = u64::MAX - 1;

#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("case file schema {found} is newer than this casebook understands (schema {SCHEMA})")]
    NewerSchema { found: u64 },
    #[error("case file is not valid")]
    Parse(#[source] toml::de::Error),
    #[error("case file has no `open` event to replay from")]
    NoOpenEvent,
    #[error("case file has two events with the id {0}")]
    DuplicateEvent(String),
    #[error("event {id} has seq = {seq}: no later event can get a seq (the largest is {MAX_SEQ})")]
    SeqExhausted { id: String, seq: u64 },
    #[error("event {id} (seq {seq}) comes after event {previous} (seq {previous_seq}): events are out of order")]
    OutOfOrder {
        id: String,
        seq: u64,
        previous: String,
        previous_seq: u64,
    },
    #[error("[case] id is {found}, but the file is the case file of {expected}")]
    WrongId { found: String, expected: String },
    #[error(
        "event {event} names attachment path {path:?}, which is not a file under attachments/"
    )]
    BadAttachmentPath { event: String, path: String },
    #[error("[{table}] {field} is \"{marker}\" (the value its events give), but replaying the events gives that field no sealed value")]
    NotDerived {
        table: &'static str,
        field: &'static str,
        marker: &'static str,
    },
}

impl CaseError {
    /// What to do about this error in the case file at `path`.
    pub fn hint(&self, path: &str) -> Option<String> {
        match self {
            CaseError::NewerSchema { .. } => Some("upgrade casebook to read this case book".into()),
            // Casebook reads case files from the branch, never from the working tree (an
            // uncommitted edit is refused as such before this), so the broken version is
            // committed and `git checkout -- FILE` would restore it as it is.
            CaseError::Parse(_)
            | CaseError::NoOpenEvent
            | CaseError::DuplicateEvent(_)
            | CaseError::SeqExhausted { .. }
            | CaseError::OutOfOrder { .. }
            | CaseError::WrongId { .. }
            | CaseError::BadAttachmentPath { .. }
            | CaseError::NotDerived { .. } => Some(committed_file_hint(path)),
        }
    }
}

/// The hint for a file that is broken in the branch itself (edited by hand, or merged by
/// plain git, and committed): what undoes a commit, since restoring the file from the
/// branch would give the same broken version.
pub fn committed_file_hint(path: &str) -> String {
    format!(
        "{path} was probably edited by hand (or merged by plain git) and committed so, and restoring it from the branch gives the same version: fix the file and commit it, or find that commit (`git log -p -- {path}`) and undo it (`git revert COMMIT`) or put back the version before it (`git checkout COMMIT~ -- {path}`, then commit); casebook writes nothing on top of it until then"
    )
}

/// The follow-up survey of the current resolution.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Satisfaction {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satisfied: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback: Option<Personal>,
    #[serde(flatten)]
    pub extra: toml::Table,
}

/// The `[case]` section: the current values, derived from the events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseState {
    pub id: CaseId,
    /// The case's ID in the system it was imported from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    pub status: Status,
    pub priority: Priority,
    pub subject: Personal,
    pub channel: Channel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Personal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "utc_opt")]
    pub incident_at: Option<DateTime<Utc>>,
    #[serde(with = "utc")]
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    #[serde(with = "utc")]
    pub updated_at: DateTime<Utc>,
    /// First outbound response (the acknowledgement).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "utc_opt")]
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// 0 = agent, then the configured escalation chain.
    #[serde(default)]
    pub escalation_level: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalated_to: Option<String>,
    /// Who works the case now, as "Name <email>" (`assign`, `take`, `unassign`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The case this one was a duplicate of, when it was closed by `merge`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<String>,
    /// The case's tags, sorted (`tag`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Time worked on the case (`--worked` on its events), in minutes, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worked_minutes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "utc_opt")]
    pub eta: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_cause: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<super::enums::Scope>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "utc_opt")]
    pub resolved_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "utc_opt")]
    pub closed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub reopen_count: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satisfaction: Option<Satisfaction>,
    /// Earlier IDs of this case: set when a sync renamed it because another clone had
    /// created a case with the same ID. Not derived from events; kept on every rewrite.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(flatten)]
    pub extra: toml::Table,
}

/// The `[customer]` section: personal data, kept apart from everything else.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub name: Personal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Personal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Personal>,
    #[serde(flatten)]
    pub extra: toml::Table,
}

impl HasPersonal for Satisfaction {
    fn each_personal_mut(&mut self, _: &'static str, f: &mut Visit<'_>) {
        self.feedback.each_personal_mut("feedback", f);
    }
}

/// Subject, description and survey feedback; the attachments' names are visited by
/// [`CaseFile::each_projected_personal_mut`], after `[customer]`.
impl HasPersonal for CaseState {
    fn each_personal_mut(&mut self, _: &'static str, f: &mut Visit<'_>) {
        self.subject.each_personal_mut("subject", f);
        self.description.each_personal_mut("description", f);
        self.satisfaction.each_personal_mut("satisfaction", f);
    }
}

impl HasPersonal for Customer {
    fn each_personal_mut(&mut self, _: &'static str, f: &mut Visit<'_>) {
        self.name.each_personal_mut("name", f);
        self.email.each_personal_mut("email", f);
        self.phone.each_personal_mut("phone", f);
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseFile {
    pub schema: u32,
    pub case: CaseState,
    pub customer: Customer,
    #[serde(rename = "event", default)]
    pub events: Vec<Event>,
    #[serde(flatten)]
    pub extra: toml::Table,
    /// In a sealed case book: what writing this case needs to seal its personal data
    /// ([`super::privacy`]). Not part of the file, and not compared.
    #[serde(skip)]
    pub seal: Sealing,
}

/// A case's [`SealState`], if it is written sealed. Always equal: it is how a case is
/// written, not what it holds.
#[derive(Debug, Clone, Default)]
pub struct Sealing(pub Option<std::sync::Arc<SealState>>);

impl PartialEq for Sealing {
    fn eq(&self, _: &Sealing) -> bool {
        true
    }
}

impl From<Option<std::sync::Arc<SealState>>> for Sealing {
    fn from(s: Option<std::sync::Arc<SealState>>) -> Sealing {
        Sealing(s)
    }
}

impl Sealing {
    pub fn is_sealed(&self) -> bool {
        self.0.is_some()
    }
}

#[derive(Deserialize)]
struct SchemaOnly {
    schema: Option<u64>,
}

impl CaseFile {
    /// Starts a case from its `open` event.
    pub fn create(id: CaseId, mut open: Event) -> Result<CaseFile, CaseError> {
        open.seq = 1;
        let (case, customer) = replay(&id, std::slice::from_ref(&open))?;
        Ok(CaseFile {
            schema: BASE_SCHEMA,
            case,
            customer,
            events: vec![open],
            extra: toml::Table::new(),
            seal: Sealing::default(),
        })
    }

    pub fn from_toml(text: &str) -> Result<CaseFile, CaseError> {
        match toml::from_str::<CaseFile>(text) {
            Ok(file) if u64::from(file.schema) > u64::from(SCHEMA) => Err(CaseError::NewerSchema {
                found: file.schema.into(),
            }),
            Ok(mut file) => {
                file.check()?;
                super::privacy::expand_projection(&mut file)?;
                Ok(file)
            }
            // A newer schema may not even have the shape we expect: say that, not a parse error.
            Err(e) => match toml::from_str::<SchemaOnly>(text) {
                Ok(SchemaOnly {
                    schema: Some(found),
                }) if found > u64::from(SCHEMA) => Err(CaseError::NewerSchema { found }),
                _ => Err(CaseError::Parse(e)),
            },
        }
    }

    /// Every value of this case that is customer personal data, by its key name: the
    /// projection's, `[customer]`'s and every event's (see [`Event::each_personal_mut`]).
    pub fn each_personal_mut(&mut self, f: &mut dyn FnMut(&'static str, &mut String)) {
        self.each_projected_personal_mut(f);
        for e in &mut self.events {
            e.each_personal_mut(f);
        }
    }

    /// The personal values of the projection (`[case]`, `[customer]`) only: what replay
    /// derives from the events.
    pub fn each_projected_personal_mut(&mut self, f: &mut dyn FnMut(&'static str, &mut String)) {
        self.case.each_personal_mut("case", f);
        self.customer.each_personal_mut("customer", f);
        // After `[customer]`, in the order the sealing code has always seen them.
        self.case.attachments.each_personal_mut("attachment", f);
    }

    /// The canonical text of this case. A sealed projected value that its events give is
    /// written as [`super::privacy::FROM_EVENTS`], however the case came to hold it.
    pub fn to_toml(&self) -> String {
        // Every field is a string, number, bool, array or table, which TOML can always hold.
        let text = match &self.seal.0 {
            Some(_) => return self.clone().into_toml(),
            // Sealed values without what it takes to seal more (a merge, a clone without
            // the key ring): rare, so the plain text is what tells.
            None => toml::to_string(self).and_then(|text| {
                if text.contains(super::seal::PREFIX) {
                    let mut copy = self.clone();
                    super::privacy::derive_projection(&mut copy);
                    toml::to_string(&copy)
                } else {
                    Ok(text)
                }
            }),
        };
        text.expect("a case file always serialises to TOML")
    }

    /// [`CaseFile::to_toml`] of a case that is not needed afterwards: a sealed case is
    /// sealed in place rather than copied first (an import writes 100k of them).
    pub fn into_toml(mut self) -> String {
        let Some(state) = self.seal.0.take() else {
            return self.to_toml();
        };
        super::privacy::seal_for_write(&mut self, &state);
        toml::to_string(&self).expect("a case file always serialises to TOML")
    }

    /// Appends an event (after everything this file has seen) and recomputes the projection
    /// from the whole history.
    pub fn append(&mut self, mut event: Event) -> Result<(), CaseError> {
        event.seq = self.next_seq()?;
        self.events.push(event);
        self.reproject()
    }

    /// The Lamport clock value for the next event; an error if the clock cannot go on (a
    /// stored `seq` at [`MAX_SEQ`]: wrapping to 0 would reorder history, and a larger value
    /// would make a file no casebook reads).
    pub fn next_seq(&self) -> Result<u64, CaseError> {
        let Some((i, last)) = self
            .events
            .iter()
            .enumerate()
            .max_by_key(|(i, e)| seq_of(e, *i))
        else {
            return Ok(1);
        };
        let seq = seq_of(last, i);
        seq.checked_add(1)
            .filter(|next| *next <= MAX_SEQ)
            .ok_or_else(|| CaseError::SeqExhausted {
                id: last.id.clone(),
                seq,
            })
    }

    /// The integrity rules every stored case file must keep, checked on every read so that
    /// nothing is ever written on top of a broken file: event ids are unique, `seq` never
    /// goes down along the file (merges and appends keep (seq, at, id) order; the time alone
    /// may go down, clocks of clones differ) and can still be incremented, and attachment
    /// paths stay inside `attachments/`. That the ID matches the file's path is checked where
    /// the path is known ([`crate::store::parse_case`]).
    pub fn check(&self) -> Result<(), CaseError> {
        let mut seen = std::collections::HashSet::with_capacity(self.events.len());
        let mut previous: Option<(&str, u64)> = None;
        for (i, e) in self.events.iter().enumerate() {
            if !seen.insert(e.id.as_str()) {
                return Err(CaseError::DuplicateEvent(e.id.clone()));
            }
            let seq = seq_of(e, i);
            if seq > MAX_SEQ {
                return Err(CaseError::SeqExhausted {
                    id: e.id.clone(),
                    seq,
                });
            }
            if let Some((previous, previous_seq)) = previous {
                if seq < previous_seq {
                    return Err(CaseError::OutOfOrder {
                        id: e.id.clone(),
                        seq,
                        previous: previous.to_string(),
                        previous_seq,
                    });
                }
            }
            previous = Some((&e.id, seq));
            for a in &e.attachments {
                if let Some(path) = &a.path {
                    if !super::layout::is_attachment_path(path) {
                        return Err(CaseError::BadAttachmentPath {
                            event: e.id.clone(),
                            path: path.clone(),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Recomputes `[case]` and `[customer]` from the events, keeping unknown keys.
    pub fn reproject(&mut self) -> Result<(), CaseError> {
        let (mut case, mut customer) = replay(&self.case.id, &self.events)?;
        case.extra = std::mem::take(&mut self.case.extra);
        case.aliases = std::mem::take(&mut self.case.aliases);
        customer.extra = std::mem::take(&mut self.customer.extra);
        self.case = case;
        self.customer = customer;
        Ok(())
    }

    /// Whether the stored projection is what replaying the events gives.
    pub fn verify(&self) -> Result<bool, CaseError> {
        let mut replayed = self.clone();
        replayed.reproject()?;
        Ok(replayed == *self)
    }
}

/// An event's place in the merge order: its `seq`, or (for events written before `seq`
/// existed) its position in the file.
pub fn seq_of(e: &Event, position: usize) -> u64 {
    if e.seq == 0 {
        // A file cannot hold anywhere near u64::MAX events; saturate rather than wrap.
        u64::try_from(position).map_or(u64::MAX, |p| p.saturating_add(1))
    } else {
        e.seq
    }
}

/// Replays events into the current values. Replay never refuses an event: the state rules
/// are checked when an action is recorded, and a merge of two clones' histories must still
/// give one well-defined answer.
pub fn replay(id: &CaseId, events: &[Event]) -> Result<(CaseState, Customer), CaseError> {
    replay_with(id, events, |_, _| {})
}

/// Replays events, calling `after` with each event and the values right after it.
pub fn replay_with(
    id: &CaseId,
    events: &[Event],
    mut after: impl FnMut(&Event, &CaseState),
) -> Result<(CaseState, Customer), CaseError> {
    let (first, open) = events
        .first()
        .and_then(|e| match &e.payload {
            Payload::Open(open) => Some((e, open)),
            _ => None,
        })
        .ok_or(CaseError::NoOpenEvent)?;
    let mut case = CaseState {
        id: id.clone(),
        external_id: open.external_id.clone(),
        status: Status::New,
        priority: open.priority.clone().unwrap_or(Priority::Normal),
        subject: open.subject.clone().unwrap_or_default(),
        channel: open.channel.clone().unwrap_or(Channel::Other),
        product: None,
        description: None,
        incident_at: None,
        created_at: first.at,
        created_by: first.actor.clone(),
        updated_at: first.at,
        acknowledged_at: None,
        escalation_level: 0,
        escalated_to: None,
        owner: None,
        merged_into: None,
        tags: Vec::new(),
        worked_minutes: None,
        eta: None,
        root_cause: None,
        scope: None,
        resolution: None,
        resolved_at: None,
        closed_at: None,
        reopen_count: 0,
        links: Vec::new(),
        attachments: Vec::new(),
        satisfaction: None,
        aliases: Vec::new(),
        extra: toml::Table::new(),
    };
    let mut customer = Customer::default();
    // Each event as corrected: a fixed resolution or root cause is the case's.
    let (events, _) = super::correct::effective(events);
    for event in &events {
        apply(&mut case, &mut customer, event);
        after(event, &case);
    }
    Ok((case, customer))
}

/// What one event does to the current values.
fn apply(case: &mut CaseState, customer: &mut Customer, e: &Event) {
    case.updated_at = e.at;
    if let Some(m) = e.worked_minutes {
        case.worked_minutes = Some(case.worked_minutes.unwrap_or(0) + u64::from(m));
    }
    if let Some(c) = &e.customer {
        apply_customer(customer, c);
    }
    for change in e.payload.changes() {
        apply_change(case, change);
    }
    for link in e.payload.links() {
        if !case.links.contains(link) {
            case.links.push(link.clone());
        }
    }
    case.attachments.extend(e.attachments.iter().cloned());
    match &e.payload {
        Payload::Open(p) => {
            apply_intake(
                case,
                Intake {
                    subject: &p.subject,
                    priority: &p.priority,
                    product: &p.product,
                    description: &p.description,
                    incident_at: p.incident_at,
                },
            );
            case.channel = p.channel.clone().unwrap_or(Channel::Other);
        }
        Payload::Gather(p) => apply_intake(
            case,
            Intake {
                subject: &p.subject,
                priority: &p.priority,
                product: &p.product,
                description: &p.description,
                incident_at: p.incident_at,
            },
        ),
        Payload::Acknowledge(_) => {
            case.acknowledged_at.get_or_insert(e.at);
            case.status = Status::Open;
        }
        Payload::Update(p) => {
            if p.eta.is_some() {
                case.eta = p.eta;
            }
        }
        Payload::Pending(_) => case.status = Status::Pending,
        Payload::Log(p) => {
            if p.direction == Some(Direction::Inbound) && case.status == Status::Pending {
                case.status = Status::Open;
            }
        }
        Payload::Research(p) => {
            set(&mut case.root_cause, &p.root_cause);
            set(&mut case.scope, &p.scope);
        }
        Payload::Escalate(p) => {
            case.escalation_level = p.level.unwrap_or(case.escalation_level.saturating_add(1));
            case.escalated_to = p.to.clone();
            if p.assign {
                case.owner = p.to.clone();
            }
        }
        Payload::Assign(p) => case.owner = p.to.clone(),
        Payload::Tag(p) => {
            case.tags.retain(|t| !p.removed.contains(t));
            for t in &p.added {
                if !case.tags.contains(t) {
                    case.tags.push(t.clone());
                }
            }
            case.tags.sort();
        }
        Payload::Deescalate(p) => {
            case.escalation_level = p.level.unwrap_or(case.escalation_level.saturating_sub(1));
            case.escalated_to = p.to.clone();
        }
        Payload::Resolve(p) => {
            set(&mut case.root_cause, &p.root_cause);
            case.status = Status::Resolved;
            case.resolution = p.resolution.clone();
            case.resolved_at = Some(e.at);
            case.satisfaction = None;
        }
        Payload::FollowUp(p) => match &p.response {
            Some(FollowUpResponse::Satisfied) => {
                case.status = Status::Closed;
                case.closed_at = Some(e.at);
                case.satisfaction = Some(Satisfaction {
                    satisfied: Some(true),
                    rating: p.rating,
                    feedback: p.feedback.clone(),
                    extra: toml::Table::new(),
                });
            }
            // Not satisfied: the resolution did not hold; its survey is void.
            Some(FollowUpResponse::NotSatisfied) => reopen(case),
            _ => {}
        },
        Payload::Close(p) => {
            case.status = Status::Closed;
            case.closed_at = Some(e.at);
            if p.into.is_some() {
                case.merged_into = p.into.clone();
            }
        }
        Payload::Reopen(_) => reopen(case),
        Payload::Merge(_)
        | Payload::Correct(_)
        | Payload::Link(_)
        | Payload::Import(_)
        | Payload::Review(_)
        | Payload::Erase(_)
        | Payload::Unknown { .. } => {}
    }
}

/// The intake facts an event carries (open, and gather as earlier versions wrote it).
struct Intake<'e> {
    subject: &'e Option<Personal>,
    priority: &'e Option<Priority>,
    product: &'e Option<String>,
    description: &'e Option<Personal>,
    incident_at: Option<DateTime<Utc>>,
}

fn apply_intake(case: &mut CaseState, i: Intake<'_>) {
    set(&mut case.product, i.product);
    set(&mut case.description, i.description);
    if i.incident_at.is_some() {
        case.incident_at = i.incident_at;
    }
    if let Some(p) = i.priority {
        case.priority = p.clone();
    }
    if let Some(s) = i.subject {
        case.subject = s.clone();
    }
}

/// A recorded change of an intake fact (`gather`). Unknown fields are kept in the event
/// but change nothing here.
fn apply_change(case: &mut CaseState, change: &super::event::FieldChange) {
    let new = change.new.clone().filter(|v| !v.is_empty());
    match change.field.as_str() {
        "subject" => case.subject = new.unwrap_or_default().into(),
        "product" => case.product = new,
        "description" => case.description = new.map(Personal::from),
        "incident_at" => case.incident_at = new.as_deref().and_then(super::time::parse_rfc3339),
        "priority" => {
            if let Some(p) = new {
                case.priority = Priority::from_stored(&p);
            }
        }
        _ => {}
    }
}

fn reopen(case: &mut CaseState) {
    case.status = Status::Open;
    case.reopen_count = case.reopen_count.saturating_add(1);
    case.resolution = None;
    case.resolved_at = None;
    case.satisfaction = None;
}

fn set<T: Clone>(target: &mut Option<T>, value: &Option<T>) {
    if let Some(v) = value {
        *target = Some(v.clone());
    }
}

fn apply_customer(customer: &mut Customer, c: &CustomerFields) {
    if let Some(name) = &c.name {
        customer.name = name.clone();
    }
    // An empty string records a removed contact detail.
    for (field, value) in [
        (&mut customer.email, &c.email),
        (&mut customer.phone, &c.phone),
    ] {
        if let Some(v) = value {
            *field = (!v.is_empty()).then(|| v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::enums::Action;
    use crate::model::payload;
    use crate::model::time::parse_rfc3339;

    fn t(s: &str) -> DateTime<Utc> {
        parse_rfc3339(s).unwrap()
    }

    fn sample() -> CaseFile {
        let mut open = Event::new(
            Action::Open,
            t("2026-11-22T09:00:00Z"),
            "Dana <dana@example.com>",
        );
        open.get_mut::<payload::Open>().unwrap().subject = Some("Printer jams".into());
        open.get_mut::<payload::Open>().unwrap().priority = Some(Priority::High);
        open.get_mut::<payload::Open>().unwrap().channel = Some(Channel::Email);
        open.get_mut::<payload::Open>().unwrap().product = Some("LaserJet 9".into());
        open.customer = Some(CustomerFields {
            name: Some("Ada Lovelace".into()),
            email: Some("ada@example.com".into()),
            ..Default::default()
        });
        CaseFile::create(CaseId::parse("CB-7K3M9QXA").unwrap(), open).unwrap()
    }

    #[test]
    fn a_new_case_projects_its_open_event() {
        let f = sample();
        assert_eq!(f.case.status, Status::New);
        assert_eq!(f.case.priority, Priority::High);
        assert_eq!(f.case.product.as_deref(), Some("LaserJet 9"));
        assert_eq!(f.customer.name, "Ada Lovelace");
        assert!(f.verify().unwrap());
    }

    #[test]
    fn serialisation_is_canonical_and_round_trips() {
        let f = sample();
        let text = f.to_toml();
        let back = CaseFile::from_toml(&text).unwrap();
        assert_eq!(back, f);
        assert_eq!(
            back.to_toml(),
            text,
            "re-writing an unchanged case gives identical bytes"
        );
        assert!(text.starts_with("schema = 1\n"), "{text}");
        let case_at = text.find("[case]").unwrap();
        let customer_at = text.find("[customer]").unwrap();
        let event_at = text.find("[[event]]").unwrap();
        assert!(case_at < customer_at && customer_at < event_at, "{text}");
        // Personal data only in the customer tables.
        let outside: String = text
            .split("\n[")
            .filter(|section| {
                !section.starts_with("customer]") && !section.starts_with("event.customer]")
            })
            .collect();
        assert!(
            !outside.contains("Ada") && !outside.contains("ada@example.com"),
            "{text}"
        );
    }

    #[test]
    fn unknown_keys_and_values_survive_a_rewrite() {
        let mut text = sample().to_toml();
        text = text.replace(
            "status = \"new\"",
            "status = \"archived\"\nsentiment = \"calm\"",
        );
        text = text.replace("[customer]\n", "[customer]\nlanguage = \"de\"\n");
        text = text.replace("[[event]]\nid", "[[event]]\nmood = \"good\"\nid");
        text.push_str("\n[case.satisfaction]\nsatisfied = true\nchannel_of_survey = \"sms\"\n");
        text.push_str("\n[[event]]\nid = \"YYYYYYYYYYYY\"\nat = \"2026-11-22T09:30:00Z\"\nactor = \"Bot <bot@example.com>\"\naction = \"gather\"\n[[event.change]]\nfield = \"product\"\nnew = \"LaserJet 9b\"\nsource = \"crm\"\n");
        text.push_str("\n[[event]]\nid = \"ZZZZZZZZZZZZ\"\nat = \"2026-11-22T10:00:00Z\"\nactor = \"Bot <bot@example.com>\"\naction = \"translate\"\nlanguage = \"de\"\n\n[future]\nflag = true\n");
        let mut f = CaseFile::from_toml(&text).unwrap();
        assert_eq!(f.events[2].action(), Action::Unknown("translate".into()));
        let mut e = Event::new(
            Action::Gather,
            t("2026-11-22T11:00:00Z"),
            "Dana <dana@example.com>",
        );
        e.get_mut::<payload::Gather>().unwrap().product = Some("LaserJet 10".into());
        f.append(e).unwrap();
        let out = f.to_toml();
        for kept in [
            "sentiment = \"calm\"",
            "language = \"de\"",
            "action = \"translate\"",
            "[future]",
            "flag = true",
        ] {
            assert!(out.contains(kept), "{kept} lost:\n{out}");
        }
        assert_eq!(f.case.product.as_deref(), Some("LaserJet 10"));
    }

    #[test]
    fn broken_histories_are_refused_on_read() {
        let mut f = sample();
        f.append(Event::new(
            Action::Acknowledge,
            t("2026-11-22T09:10:00Z"),
            "Dana <dana@example.com>",
        ))
        .unwrap();
        let text = f.to_toml();
        let (first, second) = (f.events[0].id.clone(), f.events[1].id.clone());
        let parse = |t: String| CaseFile::from_toml(&t).unwrap_err();
        assert!(matches!(
            parse(text.replace(&second, &first)),
            CaseError::DuplicateEvent(id) if id == first
        ));
        assert!(matches!(
            parse(text.replace("seq = 1\n", "seq = 3\n")),
            CaseError::OutOfOrder {
                seq: 2,
                previous_seq: 3,
                ..
            }
        ));
        assert!(matches!(
            parse(text.replace("seq = 2\n", &format!("seq = {}\n", u64::MAX))),
            CaseError::SeqExhausted { .. }
        ));
        // The clock may go backwards between clones: only seq orders events.
        let earlier = text.replace("2026-11-22T09:10:00Z", "2026-11-22T08:00:00Z");
        assert!(CaseFile::from_toml(&earlier).is_ok());
        // The last number the clock can give is refused before it wraps.
        let mut full = f.clone();
        full.events[1].seq = MAX_SEQ - 1;
        assert_eq!(full.next_seq().unwrap(), MAX_SEQ);
        full.events[1].seq = MAX_SEQ;
        assert!(matches!(
            full.append(Event::new(
                Action::Log,
                t("2026-11-22T10:00:00Z"),
                "D <d@example.com>"
            )),
            Err(CaseError::SeqExhausted { .. })
        ));
    }

    #[test]
    fn newer_schemas_are_refused() {
        let text = sample().to_toml().replace("schema = 1", "schema = 3");
        assert!(matches!(
            CaseFile::from_toml(&text),
            Err(CaseError::NewerSchema { found: 3 })
        ));
        assert!(matches!(
            CaseFile::from_toml("schema = 9\n[case]\nweird = 1\n"),
            Err(CaseError::NewerSchema { found: 9 })
        ));
        assert!(matches!(
            CaseFile::from_toml("schema = 1\n[case"),
            Err(CaseError::Parse(_))
        ));
    }

    #[test]
    fn the_lifecycle_replays_to_the_expected_projection() {
        let mut f = sample();
        fn step(f: &mut CaseFile, action: Action, at: &str, edit: &dyn Fn(&mut Event)) {
            let mut e = Event::new(action, t(at), "Dana <dana@example.com>");
            edit(&mut e);
            f.append(e).unwrap();
        }
        step(&mut f, Action::Acknowledge, "2026-11-22T09:10:00Z", &|_| {});
        step(&mut f, Action::Pending, "2026-11-22T09:20:00Z", &|_| {});
        step(&mut f, Action::Log, "2026-11-22T09:30:00Z", &|e| {
            *e.payload.direction_mut().unwrap() = Some("inbound".into())
        });
        step(&mut f, Action::Escalate, "2026-11-22T09:40:00Z", &|e| {
            e.get_mut::<payload::Escalate>().unwrap().to = Some("Sam".into())
        });
        step(&mut f, Action::Resolve, "2026-11-22T10:00:00Z", &|e| {
            e.get_mut::<payload::Resolve>().unwrap().resolution = Some("Replaced roller".into())
        });
        step(&mut f, Action::FollowUp, "2026-11-23T10:00:00Z", &|e| {
            e.get_mut::<payload::FollowUp>().unwrap().response = Some("not-satisfied".into())
        });
        assert_eq!(f.case.status, Status::Open);
        assert_eq!(f.case.reopen_count, 1);
        assert_eq!(f.case.resolution, None);
        step(&mut f, Action::Resolve, "2026-11-24T10:00:00Z", &|e| {
            e.get_mut::<payload::Resolve>().unwrap().resolution = Some("New printer".into())
        });
        step(&mut f, Action::FollowUp, "2026-11-25T10:00:00Z", &|e| {
            e.get_mut::<payload::FollowUp>().unwrap().response = Some("satisfied".into());
            e.get_mut::<payload::FollowUp>().unwrap().rating = Some(5);
        });
        assert_eq!(f.case.status, Status::Closed);
        assert_eq!(f.case.escalation_level, 1);
        assert_eq!(f.case.acknowledged_at, Some(t("2026-11-22T09:10:00Z")));
        assert_eq!(f.case.satisfaction.as_ref().and_then(|s| s.rating), Some(5));
        assert!(f.verify().unwrap());
        let mut tampered = f.clone();
        tampered.case.status = Status::Open;
        assert!(!tampered.verify().unwrap());
    }
}
