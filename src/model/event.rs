//! One entry of a case's append-only history.
//!
//! Every event has an id (random, unique across clones), the instant it was recorded (UTC),
//! the actor and the action; the other keys are that action's fields (its [`Payload`], one
//! type per action, see [`super::payload`]) and are omitted when empty. Customer contact
//! details never appear among them: they go in the event's own `[event.customer]` table.
//! Every personal value (contact details, messages, who took part, …) is a
//! [`Personal`], and [`Event::each_personal_mut`] finds them all by their types.
//!
//! The stored form is the flat table it always was: `id`, `seq`, `at`, `actor`, `action`,
//! the payload's fields, `[[event.attachment]]`, `worked_minutes`, `[event.customer]`, then
//! keys a newer casebook added. Reading it takes the common keys first and lets the action
//! decide which payload the rest are.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::enums::{Action, Direction};
pub use super::payload::Payload;
use super::personal::{HasPersonal, Personal, Visit};

/// Customer personal data as recorded by one event (the values it set).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Personal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Personal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Personal>,
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
    /// The file's name, as the customer's file was called: personal data.
    pub name: Personal,
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

/// One entry of the history: what every event has, and its action's [`Payload`].
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: String,
    /// A Lamport clock: one more than the highest `seq` the recording clone had seen. Events
    /// from different clones are ordered by (seq, at, id), which keeps every clone's causes
    /// before their effects; 0 means "not set" (files from before it existed).
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub actor: String,
    /// The action (`action = …`) and its fields.
    pub payload: Payload,
    /// Files this event attached (`[[event.attachment]]`).
    pub attachments: Vec<Attachment>,
    /// Time the agent spent on this action (`--worked`), in minutes.
    pub worked_minutes: Option<u32>,
    /// Personal data this event recorded; see the module docs.
    pub customer: Option<CustomerFields>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The stored form of an event, in its canonical key order: the common keys, the
/// action's fields, the attachments, time worked, `[event.customer]`, and last the keys a
/// newer casebook added.
#[derive(Serialize)]
struct Stored<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "is_zero")]
    seq: u64,
    at: String,
    actor: &'a str,
    action: Action,
    #[serde(flatten)]
    payload: &'a Payload,
    #[serde(rename = "attachment", skip_serializing_if = "<[_]>::is_empty")]
    attachments: &'a [Attachment],
    #[serde(skip_serializing_if = "Option::is_none")]
    worked_minutes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer: Option<&'a CustomerFields>,
    #[serde(flatten)]
    extra: Option<&'a toml::Table>,
}

impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Stored {
            id: &self.id,
            seq: self.seq,
            at: super::time::format_utc(&self.at),
            actor: &self.actor,
            action: self.action(),
            payload: &self.payload,
            attachments: &self.attachments,
            worked_minutes: self.worked_minutes,
            customer: self.customer.as_ref(),
            extra: self.payload.extra(),
        }
        .serialize(s)
    }
}

/// The keys every event has; the rest are its action's.
#[derive(Deserialize)]
struct Head {
    id: String,
    #[serde(default)]
    seq: u64,
    #[serde(with = "super::time::utc")]
    at: DateTime<Utc>,
    actor: String,
    action: String,
    #[serde(default, rename = "attachment")]
    attachments: Vec<Attachment>,
    #[serde(default)]
    worked_minutes: Option<u32>,
    #[serde(default)]
    customer: Option<CustomerFields>,
    #[serde(flatten)]
    rest: toml::Table,
}

impl<'de> Deserialize<'de> for Event {
    /// The common keys first; then the action decides which payload the other keys are.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Event, D::Error> {
        let head = Head::deserialize(d)?;
        let (id, action) = (&head.id, head.action.clone());
        let payload = Payload::from_table(head.action, head.rest).map_err(|e| {
            <D::Error as serde::de::Error>::custom(format!(
                "event {id} ({action}): {}",
                e.message()
            ))
        })?;
        Ok(Event {
            id: head.id,
            seq: head.seq,
            at: head.at,
            actor: head.actor,
            payload,
            attachments: head.attachments,
            worked_minutes: head.worked_minutes,
            customer: head.customer,
        })
    }
}

impl Event {
    /// A new event with a fresh id and an empty payload for `action`.
    pub fn new(action: Action, at: DateTime<Utc>, actor: &str) -> Event {
        Event::with(Payload::empty(&action), at, actor)
    }

    /// A new event with a fresh id recording `payload`.
    pub fn with(payload: impl Into<Payload>, at: DateTime<Utc>, actor: &str) -> Event {
        Event {
            id: super::id::new_event_id(),
            seq: 0,
            at,
            actor: actor.to_string(),
            payload: payload.into(),
            attachments: Vec::new(),
            worked_minutes: None,
            customer: None,
        }
    }

    /// What this event did.
    pub fn action(&self) -> Action {
        self.payload.action()
    }

    /// The payload as `T` (`e.get::<payload::Log>()`), if this event is `T`'s action.
    pub fn get<T: super::payload::Kind>(&self) -> Option<&T> {
        T::of(&self.payload)
    }

    /// The payload as `T`, to change it, if this event is `T`'s action.
    pub fn get_mut<T: super::payload::Kind>(&mut self) -> Option<&mut T> {
        T::of_mut(&mut self.payload)
    }

    /// Which way a contact went, for the actions that record one.
    pub fn direction(&self) -> Option<&Direction> {
        self.payload.direction()
    }

    /// The free text stored under `key`, if this event's action has such a field.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.payload.text(key)
    }

    /// Sets the free text under `key`; false if this event's action has no such field.
    pub fn set_text(&mut self, key: &str, value: impl Into<String>) -> bool {
        self.payload.set_text(key, value.into())
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
        let direction = self.direction();
        let logged = match direction {
            Some(Direction::Inbound) => FromCustomer,
            Some(Direction::Outbound) => ToCustomer,
            _ => Internal,
        };
        let message = match self.action() {
            Action::Log => logged,
            _ if direction == Some(&Direction::Inbound) => FromCustomer,
            Action::Acknowledge | Action::Update | Action::FollowUp => ToCustomer,
            _ => logged,
        };
        let fields: [(&'static str, &'static str, Audience); 12] = [
            ("description", "description", FromCustomer),
            ("summary", "summary", logged),
            ("message", "message", message),
            ("outcome", "outcome", logged),
            ("question", "question", ToCustomer),
            ("answer", "answer", FromCustomer),
            ("note", "note", Internal),
            ("finding", "finding", Internal),
            ("root cause", "root_cause", Internal),
            ("resolution", "resolution", ToCustomer),
            ("feedback", "feedback", FromCustomer),
            ("reason", "reason", Internal),
        ];
        let mut out: Vec<Said<'_>> = fields
            .into_iter()
            .filter_map(|(field, key, audience)| {
                self.text(key)
                    .filter(|t| !t.trim().is_empty())
                    .map(|text| Said {
                        field,
                        audience,
                        text,
                    })
            })
            .collect();
        if let Payload::Review(r) = &self.payload {
            out.extend(r.improvements.iter().map(|text| Said {
                field: "improvement",
                audience: Internal,
                text,
            }));
        }
        out
    }
}

impl HasPersonal for CustomerFields {
    fn each_personal_mut(&mut self, _: &'static str, f: &mut Visit<'_>) {
        self.name.each_personal_mut("name", f);
        self.email.each_personal_mut("email", f);
        self.phone.each_personal_mut("phone", f);
        self.was.each_personal_mut("was", f);
    }
}

/// A change of `subject` or `description` is personal data, under that key; a change of
/// any other intake fact is not.
impl HasPersonal for FieldChange {
    fn each_personal_mut(&mut self, _: &'static str, f: &mut Visit<'_>) {
        let key = match self.field.as_str() {
            "subject" => "subject",
            "description" => "description",
            _ => return,
        };
        if let Some(v) = &mut self.old {
            f(key, v);
        }
        if let Some(v) = &mut self.new {
            f(key, v);
        }
    }
}

impl HasPersonal for Attachment {
    fn each_personal_mut(&mut self, _: &'static str, f: &mut Visit<'_>) {
        self.name.each_personal_mut("attachment", f);
    }
}

impl CustomerFields {
    pub fn each_personal_mut(&mut self, f: &mut dyn FnMut(&'static str, &mut String)) {
        HasPersonal::each_personal_mut(self, "customer", f);
    }
}

impl Event {
    /// Every value of this event that is customer personal data, by its key name: what
    /// sealing seals and opening opens. Which values those are follows from the payload's
    /// types (see [`super::personal`]).
    pub fn each_personal_mut(&mut self, f: &mut dyn FnMut(&'static str, &mut String)) {
        self.payload.each_personal_mut("", f);
        self.attachments.each_personal_mut("attachment", f);
        self.customer.each_personal_mut("customer", f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::case::CaseFile;
    use crate::model::enums::{Channel, FollowUpResponse, Priority, Scope};
    use crate::model::id::CaseId;
    use crate::model::payload::*;
    use crate::model::time::parse_rfc3339;

    fn t(s: &str) -> DateTime<Utc> {
        parse_rfc3339(s).unwrap()
    }

    const ACTOR: &str = "Dana <dana@example.com>";

    /// Personal data, marked so that a test can find every copy of it.
    fn p(what: &str) -> Option<Personal> {
        Some(format!("MARK {what}").into())
    }

    fn s(what: &str) -> Option<String> {
        Some(format!("plain {what}"))
    }

    fn change(field: &str) -> FieldChange {
        let personal = matches!(field, "subject" | "description");
        let v = |w: &str| {
            Some(if personal {
                format!("MARK {field} {w}")
            } else {
                format!("plain {field} {w}")
            })
        };
        FieldChange {
            field: field.into(),
            old: v("old"),
            new: v("new"),
            extra: toml::Table::new(),
        }
    }

    fn customer() -> CustomerFields {
        CustomerFields {
            name: p("name"),
            email: p("email"),
            phone: p("phone"),
            was: Some(Box::new(CustomerFields {
                name: p("old name"),
                email: p("old email"),
                phone: p("old phone"),
                ..Default::default()
            })),
            extra: toml::Table::new(),
        }
    }

    /// Every known action, each with every field it has filled: personal values marked.
    fn every_payload() -> Vec<Payload> {
        let when = Some(t("2026-11-22T12:00:00Z"));
        vec![
            Open {
                external_id: s("external"),
                source: s("source"),
                subject: p("subject"),
                priority: Some(Priority::High),
                channel: Some(Channel::Email),
                product: s("product"),
                description: p("description"),
                incident_at: when,
                ..Default::default()
            }
            .into(),
            Acknowledge {
                channel: Some(Channel::Phone),
                message: p("ack message"),
                template: s("template"),
                direction: Some(Direction::Outbound),
                ..Default::default()
            }
            .into(),
            Gather {
                subject: p("gather subject"),
                priority: Some(Priority::Low),
                channel: Some(Channel::Chat),
                product: s("gather product"),
                description: p("gather description"),
                incident_at: when,
                question: p("question"),
                answer: p("answer"),
                note: p("note"),
                changes: vec![change("subject"), change("description"), change("product")],
                ..Default::default()
            }
            .into(),
            Research {
                finding: s("finding"),
                root_cause: s("root cause"),
                scope: Some(Scope::Systemic),
                links: vec!["CB-AAAAAAAA".into()],
                ..Default::default()
            }
            .into(),
            Update {
                channel: Some(Channel::Web),
                message: p("update message"),
                template: s("update template"),
                eta: when,
                direction: Some(Direction::Outbound),
                ..Default::default()
            }
            .into(),
            Pending {
                reason: s("pending reason"),
                ..Default::default()
            }
            .into(),
            Log {
                channel: Some(Channel::Phone),
                message: p("log message"),
                direction: Some(Direction::Inbound),
                summary: p("summary"),
                with: vec!["MARK with 1".into(), "MARK with 2".into()],
                outcome: p("outcome"),
                occurred_at: when,
                ..Default::default()
            }
            .into(),
            Escalate {
                reason: s("escalate reason"),
                level: Some(1),
                to: s("supervisor"),
                assign: true,
                sla_target: s("sla"),
                sla_due: when,
                ..Default::default()
            }
            .into(),
            Deescalate {
                reason: s("deescalate reason"),
                level: Some(0),
                to: s("agent"),
                ..Default::default()
            }
            .into(),
            Resolve {
                root_cause: s("resolve root cause"),
                resolution: s("resolution"),
                ..Default::default()
            }
            .into(),
            FollowUp {
                message: p("follow-up message"),
                template: s("follow-up template"),
                direction: Some(Direction::Outbound),
                response: Some(FollowUpResponse::Satisfied),
                rating: Some(4),
                feedback: p("feedback"),
                ..Default::default()
            }
            .into(),
            Close {
                links: vec!["CB-BBBBBBBB".into()],
                reason: s("close reason"),
                into: s("into"),
                sla_target: s("close sla"),
                sla_due: when,
                ..Default::default()
            }
            .into(),
            Reopen {
                reason: s("reopen reason"),
                ..Default::default()
            }
            .into(),
            Link {
                links: vec!["CB-CCCCCCCC".into()],
                ..Default::default()
            }
            .into(),
            Import {
                source: s("import source"),
                changes: vec![change("subject"), change("priority")],
                ..Default::default()
            }
            .into(),
            Review {
                finding: s("review finding"),
                improvements: vec!["plain improvement".into()],
                tags: vec!["plain-tag".into()],
                ..Default::default()
            }
            .into(),
            Assign {
                source: s("assign source"),
                to: s("to"),
                from: s("from"),
                ..Default::default()
            }
            .into(),
            Tag {
                source: s("tag source"),
                added: vec!["plain-added".into()],
                removed: vec!["plain-removed".into()],
                ..Default::default()
            }
            .into(),
            Merge {
                links: vec!["CB-DDDDDDDD".into()],
                reason: s("merge reason"),
                ..Default::default()
            }
            .into(),
            Correct {
                description: p("corrected description"),
                message: p("corrected message"),
                summary: p("corrected summary"),
                outcome: p("corrected outcome"),
                question: p("corrected question"),
                answer: p("corrected answer"),
                note: p("corrected note"),
                finding: s("corrected finding"),
                root_cause: s("corrected root cause"),
                reason: s("corrected reason"),
                corrects: s("event id"),
                resolution: s("corrected resolution"),
                feedback: p("corrected feedback"),
                ..Default::default()
            }
            .into(),
            Erase {
                reason: s("erase reason"),
                keys: vec!["plain-key".into()],
                ..Default::default()
            }
            .into(),
        ]
    }

    /// A case with every known action, every field filled, and a customer on each event.
    fn full_case() -> CaseFile {
        let mut events = every_payload().into_iter();
        let mut open = Event::with(events.next().unwrap(), t("2026-11-22T09:00:00Z"), ACTOR);
        open.customer = Some(customer());
        open.worked_minutes = Some(5);
        let mut f = CaseFile::create(CaseId::parse("CB-7K3M9QXA").unwrap(), open).unwrap();
        for (i, payload) in events.enumerate() {
            let mut e = Event::with(payload, t("2026-11-22T10:00:00Z"), ACTOR);
            e.at += chrono::Duration::minutes(i as i64);
            e.customer = Some(customer());
            e.worked_minutes = Some(1);
            e.attachments.push(Attachment {
                name: "MARK attachment.txt".into(),
                size: 3,
                blob: "0123456789abcdef0123456789abcdef01234567".into(),
                path: None,
                extra: toml::Table::new(),
            });
            f.append(e).unwrap();
        }
        f
    }

    #[test]
    fn every_action_is_covered_by_the_test_case() {
        let covered: Vec<Action> = every_payload().iter().map(Payload::action).collect();
        for known in Action::KNOWN {
            assert!(
                covered.contains(&Action::from_stored(known)),
                "{known} is missing from every_payload()"
            );
        }
    }

    #[test]
    fn every_action_round_trips_byte_for_byte() {
        let f = full_case();
        let text = f.to_toml();
        let back = CaseFile::from_toml(&text).unwrap();
        assert_eq!(back, f);
        assert_eq!(back.to_toml(), text);
        // Each action's fields are its own: nothing fell into `extra`.
        for e in &back.events {
            assert_eq!(e.payload.extra().map(|x| x.len()), Some(0), "{e:?}");
        }
    }

    #[test]
    fn events_keep_the_key_order_of_the_flat_format() {
        let e = Event::with(
            Log {
                channel: Some(Channel::Phone),
                direction: Some(Direction::Inbound),
                summary: Some("called".into()),
                with: vec!["Ada".into()],
                ..Default::default()
            },
            t("2026-11-22T10:00:00Z"),
            ACTOR,
        );
        let mut e = e;
        e.id = "7K3M9QXA7K3M".into();
        e.seq = 3;
        e.worked_minutes = Some(10);
        e.customer = Some(CustomerFields {
            email: Some("ada@example.com".into()),
            ..Default::default()
        });
        assert_eq!(
            toml::to_string(&e).unwrap(),
            "id = \"7K3M9QXA7K3M\"\nseq = 3\nat = \"2026-11-22T10:00:00Z\"\nactor = \"Dana <dana@example.com>\"\naction = \"log\"\nchannel = \"phone\"\ndirection = \"inbound\"\nsummary = \"called\"\nwith = [\"Ada\"]\nworked_minutes = 10\n\n[customer]\nemail = \"ada@example.com\"\n"
        );
    }

    const UNKNOWN_ACTION: &str = "id = \"ZZZZZZZZZZZZ\"\nseq = 2\nat = \"2026-11-22T10:00:00Z\"\nactor = \"Bot <bot@example.com>\"\naction = \"translate\"\nlanguage = \"de\"\nmessage = \"Hallo\"\nwords = [\"a\", \"b\"]\n\n[glossary]\nprinter = \"Drucker\"\n";

    #[test]
    fn an_unknown_action_round_trips_unchanged() {
        let e: Event = toml::from_str(UNKNOWN_ACTION).unwrap();
        assert_eq!(e.action(), Action::Unknown("translate".into()));
        let Payload::Unknown { action, fields } = &e.payload else {
            panic!("{e:?}");
        };
        assert_eq!(action, "translate");
        assert_eq!(fields.len(), 4, "{fields:?}");
        assert_eq!(toml::to_string(&e).unwrap(), UNKNOWN_ACTION);
    }

    #[test]
    fn unknown_keys_of_a_known_action_round_trip_unchanged() {
        let text = "id = \"ZZZZZZZZZZZZ\"\nseq = 2\nat = \"2026-11-22T10:00:00Z\"\nactor = \"Bot <bot@example.com>\"\naction = \"pending\"\nreason = \"waiting\"\nworked_minutes = 4\nmood = \"calm\"\n\n[customer]\nname = \"Ada\"\n\n[sentiment]\nscore = 3\n";
        let e: Event = toml::from_str(text).unwrap();
        let pending = e.get::<Pending>().unwrap();
        assert_eq!(pending.reason.as_deref(), Some("waiting"));
        assert_eq!(
            pending.extra.keys().collect::<Vec<_>>(),
            ["mood", "sentiment"]
        );
        assert_eq!(toml::to_string(&e).unwrap(), text);
    }

    #[test]
    fn a_wrong_value_in_a_known_action_is_an_error_not_an_unknown_key() {
        let text = "id = \"Z\"\nat = \"2026-11-22T10:00:00Z\"\nactor = \"B <b@example.com>\"\naction = \"escalate\"\nlevel = \"high\"\n";
        let err = toml::from_str::<Event>(text).unwrap_err().to_string();
        assert!(
            err.contains("event Z (escalate)") && err.contains("u32"),
            "{err}"
        );
    }

    #[test]
    fn the_visitor_reaches_every_personal_value_and_only_those() {
        let mut f = full_case();
        assert!(f.to_toml().contains("MARK"));
        let mut keys = std::collections::BTreeSet::new();
        f.each_personal_mut(&mut |key, value| {
            assert!(
                value.starts_with("MARK"),
                "{key} = {value:?} is not personal"
            );
            keys.insert(key);
            *value = "X".into();
        });
        let text = f.to_toml();
        assert!(
            !text.contains("MARK"),
            "personal data left unvisited:\n{text}"
        );
        // Plain values are all still there.
        assert!(text.contains("plain resolution") && text.contains("plain-key"));
        assert_eq!(
            keys.into_iter().collect::<Vec<_>>(),
            [
                "answer",
                "attachment",
                "description",
                "email",
                "feedback",
                "message",
                "name",
                "note",
                "outcome",
                "phone",
                "question",
                "subject",
                "summary",
                "with",
            ]
        );
        // And what was sealed reads back as it was written.
        let back = CaseFile::from_toml(&text).unwrap();
        assert_eq!(back.to_toml(), text);
    }
}
