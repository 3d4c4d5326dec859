//! One entry of a case's append-only history.
//!
//! Every event has an id (random, unique across clones), the instant it was recorded (UTC),
//! the actor and the action; the other keys are that action's fields and are omitted when
//! empty. Customer personal data never appears among them: it goes in the event's own
//! `[event.customer]` table, so a privacy tool can find and erase it in one place.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::enums::{Action, Channel, Direction, FollowUpResponse, Priority, Scope};
use super::time::{utc, utc_opt};

/// Customer personal data as recorded by one event (the values it set).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The values these replaced, for the record (only on changes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub was: Option<Box<CustomerFields>>,
    #[serde(flatten)]
    pub extra: toml::Table,
}

impl CustomerFields {
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.email.is_none() && self.phone.is_none() && self.was.is_none()
    }
}

/// A changed intake field (not personal data), with its old and new value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
    #[serde(flatten)]
    pub extra: toml::Table,
}

/// A file stored under `attachments/<case id>/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    pub name: String,
    pub size: u64,
    /// git blob id of the content, which is also its integrity check.
    pub blob: String,
    /// Where the content is, relative to the repository root. Attachments recorded before
    /// this key existed have none and live at `attachments/<ID>/<name>`; see
    /// [`super::layout::attachment_file`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(flatten)]
    pub extra: toml::Table,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    /// A Lamport clock: one more than the highest `seq` the recording clone had seen. Events
    /// from different clones are ordered by (seq, at, id), which keeps every clone's causes
    /// before their effects; 0 means "not set" (files from before it existed).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub seq: u64,
    #[serde(with = "utc")]
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: Action,

    /// The case's ID in the system it was imported from (on `open`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The file an import read (on `open` and `import`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,

    // Intake (open, gather).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "utc_opt")]
    pub incident_at: Option<DateTime<Utc>>,

    // Communication (acknowledge, update, follow-up, log).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The template a message was rendered from, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "utc_opt")]
    pub eta: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub with: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// When a logged interaction happened, if not when it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "utc_opt")]
    pub occurred_at: Option<DateTime<Utc>>,

    // Questions and notes (gather).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,

    // Research.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finding: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_cause: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,

    // Review.
    /// Improvement actions a reviewer decided on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub improvements: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,

    // Tagging (`tag`): the case's tags this event added and removed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub added: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,

    // Escalation, state changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// On `assign`: the owner before (`to` is the owner after; absent means nobody).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// On `close`: the case was a duplicate, merged into this case (`merge`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub into: Option<String>,
    /// On `correct`: the id of the event whose text this corrects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrects: Option<String>,
    /// On `escalate`: the person in `to` also becomes the case's owner.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub assign: bool,
    /// For actions taken by `tick`: the SLA target and due time that triggered them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "utc_opt")]
    pub sla_due: Option<DateTime<Utc>>,

    // Resolution and follow-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    /// Follow-up outcome: `satisfied`, `not-satisfied` or `no-answer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<FollowUpResponse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback: Option<String>,

    #[serde(default, rename = "change", skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    #[serde(default, rename = "attachment", skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// Time the agent spent on this action (`--worked`), in minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worked_minutes: Option<u32>,
    /// Personal data this event recorded; see the module docs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<CustomerFields>,

    /// Keys written by a newer casebook, kept as they are.
    #[serde(flatten)]
    pub extra: toml::Table,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Event {
    /// A new event with a fresh id and no action fields.
    pub fn new(action: Action, at: DateTime<Utc>, actor: &str) -> Event {
        Event {
            id: super::id::new_event_id(),
            seq: 0,
            at,
            actor: actor.to_string(),
            action,
            external_id: None,
            source: None,
            subject: None,
            priority: None,
            channel: None,
            product: None,
            description: None,
            incident_at: None,
            message: None,
            template: None,
            eta: None,
            direction: None,
            summary: None,
            with: Vec::new(),
            outcome: None,
            occurred_at: None,
            question: None,
            answer: None,
            note: None,
            finding: None,
            root_cause: None,
            scope: None,
            links: Vec::new(),
            improvements: Vec::new(),
            tags: Vec::new(),
            added: Vec::new(),
            removed: Vec::new(),
            reason: None,
            level: None,
            to: None,
            from: None,
            into: None,
            corrects: None,
            assign: false,
            sla_target: None,
            sla_due: None,
            resolution: None,
            response: None,
            rating: None,
            feedback: None,
            changes: Vec::new(),
            attachments: Vec::new(),
            customer: None,
            worked_minutes: None,
            extra: toml::Table::new(),
        }
    }
}

/// Who a piece of an event's text was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Sent or said to the customer.
    ToCustomer,
    /// Written or said by the customer.
    FromCustomer,
    /// Only for the team.
    Internal,
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::ToCustomer => "to the customer",
            Audience::FromCustomer => "from the customer",
            Audience::Internal => "internal",
        }
    }
}

/// One piece of free text an event recorded, with what it is and who it was for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said<'e> {
    pub field: &'static str,
    pub audience: Audience,
    pub text: &'e str,
}

impl Event {
    /// Every piece of free text this event recorded, in a reading order: what makes a case's
    /// conversation readable back (`show`). A logged interaction's summary and outcome
    /// follow its direction: inbound is from the customer, outbound to them.
    pub fn said(&self) -> Vec<Said<'_>> {
        use Audience::*;
        let logged = match self.direction {
            Some(Direction::Inbound) => FromCustomer,
            Some(Direction::Outbound) => ToCustomer,
            _ => Internal,
        };
        let message = match self.action {
            Action::Log => logged,
            _ if self.direction == Some(Direction::Inbound) => FromCustomer,
            Action::Acknowledge | Action::Update | Action::FollowUp => ToCustomer,
            _ => logged,
        };
        let fields: [(&'static str, Audience, &Option<String>); 12] = [
            ("description", FromCustomer, &self.description),
            ("summary", logged, &self.summary),
            ("message", message, &self.message),
            ("outcome", logged, &self.outcome),
            ("question", ToCustomer, &self.question),
            ("answer", FromCustomer, &self.answer),
            ("note", Internal, &self.note),
            ("finding", Internal, &self.finding),
            ("root cause", Internal, &self.root_cause),
            ("resolution", ToCustomer, &self.resolution),
            ("feedback", FromCustomer, &self.feedback),
            ("reason", Internal, &self.reason),
        ];
        let mut out: Vec<Said<'_>> = fields
            .into_iter()
            .filter_map(|(field, audience, v)| {
                v.as_deref()
                    .filter(|t| !t.trim().is_empty())
                    .map(|text| Said {
                        field,
                        audience,
                        text,
                    })
            })
            .collect();
        out.extend(self.improvements.iter().map(|text| Said {
            field: "improvement",
            audience: Internal,
            text,
        }));
        out
    }
}

/// Calls `f` with the key name and value of every string of `e` that is customer personal
/// data. Passed by [`Event::each_personal_mut`] and [`super::case::CaseFile::each_personal_mut`]
/// alike, so sealing and opening see the same values under the same names.
fn visit_opt(
    name: &'static str,
    v: &mut Option<String>,
    f: &mut dyn FnMut(&'static str, &mut String),
) {
    if let Some(s) = v {
        f(name, s);
    }
}

impl CustomerFields {
    pub fn each_personal_mut(&mut self, f: &mut dyn FnMut(&'static str, &mut String)) {
        visit_opt("name", &mut self.name, f);
        visit_opt("email", &mut self.email, f);
        visit_opt("phone", &mut self.phone, f);
        if let Some(was) = &mut self.was {
            was.each_personal_mut(f);
        }
    }
}

impl Event {
    /// Every value of this event that is customer personal data, by its key name: what
    /// sealing seals and opening opens.
    pub fn each_personal_mut(&mut self, f: &mut dyn FnMut(&'static str, &mut String)) {
        visit_opt("subject", &mut self.subject, f);
        visit_opt("description", &mut self.description, f);
        visit_opt("message", &mut self.message, f);
        visit_opt("summary", &mut self.summary, f);
        for w in &mut self.with {
            f("with", w);
        }
        visit_opt("outcome", &mut self.outcome, f);
        visit_opt("question", &mut self.question, f);
        visit_opt("answer", &mut self.answer, f);
        visit_opt("note", &mut self.note, f);
        visit_opt("feedback", &mut self.feedback, f);
        for change in &mut self.changes {
            let name = match change.field.as_str() {
                "subject" => "subject",
                "description" => "description",
                _ => continue,
            };
            visit_opt(name, &mut change.old, f);
            visit_opt(name, &mut change.new, f);
        }
        for a in &mut self.attachments {
            f("attachment", &mut a.name);
        }
        if let Some(c) = &mut self.customer {
            c.each_personal_mut(f);
        }
    }
}
