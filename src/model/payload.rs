//! What each action records: one type per action, the event's [`Payload`].
//!
//! The keys stay those of the case file (`action = "log"`, `summary = …`, `with = […]`):
//! a payload's fields are written after the event's `id`, `seq`, `at`, `actor` and
//! `action`, in the order declared here, each omitted when empty. Keys a newer casebook
//! wrote into a known action are kept in the payload's `extra`; an action this version
//! does not know is kept whole as [`Payload::Unknown`].
//!
//! Every payload is declared through [`payloads!`], which also derives from the field
//! types what the rest of the model asks of a payload: its personal strings
//! ([`HasPersonal`], by [`Personal`] fields), its free text by key ([`TextField`]), and
//! the set of keys it knows (everything else goes to `extra`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::enums::{Action, Channel, Direction, ErasureOf, FollowUpResponse, Priority, Scope};
use super::event::FieldChange;
use super::personal::{HasPersonal, Personal, TextField, Visit};
use super::time::utc_opt;

/// Whether a field is empty and so not written (every payload field is optional).
pub trait Absent {
    fn absent(&self) -> bool;
}

impl<T> Absent for Option<T> {
    fn absent(&self) -> bool {
        self.is_none()
    }
}

impl<T> Absent for Vec<T> {
    fn absent(&self) -> bool {
        self.is_empty()
    }
}

impl Absent for bool {
    fn absent(&self) -> bool {
        !*self
    }
}

fn absent<T: Absent>(v: &T) -> bool {
    v.absent()
}

/// One action's payload type: how to find it in a [`Payload`].
pub trait Kind: Sized {
    fn of(p: &Payload) -> Option<&Self>;
    fn of_mut(p: &mut Payload) -> Option<&mut Self>;
}

/// A field's TOML key: its name, or the name given after `=>`.
macro_rules! key {
    ($field:ident) => {
        stringify!($field)
    };
    ($field:ident $key:literal) => {
        $key
    };
}

/// Declares every payload struct and the [`Payload`] enum over them. Each field is
/// optional (`#[serde(default)]`, not written when empty); what the field's type is
/// decides whether it is personal data and whether it is free text.
macro_rules! payloads {
    ($(
        $(#[$meta:meta])*
        $name:ident {
            $(
                $(#[$fmeta:meta])*
                $field:ident: $ty:ty $(=> $key:literal)?
            ),* $(,)?
        }
    )+) => {
        $(
            $(#[$meta])*
            #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
            pub struct $name {
                $(
                    $(#[$fmeta])*
                    #[serde(default, skip_serializing_if = "absent")]
                    $(#[serde(rename = $key)])?
                    pub $field: $ty,
                )*
                /// Keys written by a newer casebook, kept as they are.
                #[serde(skip)]
                pub extra: toml::Table,
            }

            impl $name {
                /// The TOML keys this payload knows.
                pub const KEYS: &'static [&'static str] = &[$(key!($field $($key)?)),*];

                /// The free text stored under `key`, if this payload has such a field.
                pub fn text(&self, key: &str) -> Option<&str> {
                    $(if key == key!($field $($key)?) {
                        return TextField::text(&self.$field);
                    })*
                    None
                }

                /// Sets the free text under `key`; false if this payload has no such field.
                pub fn set_text(&mut self, key: &str, value: String) -> bool {
                    $(if key == key!($field $($key)?) {
                        return TextField::set_text(&mut self.$field, value);
                    })*
                    let _ = value;
                    false
                }
            }

            impl Kind for $name {
                fn of(p: &Payload) -> Option<&$name> {
                    match p {
                        Payload::$name(p) => Some(p),
                        _ => None,
                    }
                }
                fn of_mut(p: &mut Payload) -> Option<&mut $name> {
                    match p {
                        Payload::$name(p) => Some(p),
                        _ => None,
                    }
                }
            }

            impl From<$name> for Payload {
                fn from(p: $name) -> Payload {
                    Payload::$name(p)
                }
            }

            impl HasPersonal for $name {
                fn each_personal_mut(&mut self, _: &'static str, f: &mut Visit<'_>) {
                    $(HasPersonal::each_personal_mut(&mut self.$field, key!($field $($key)?), f);)*
                    let _ = f;
                }
            }
        )+

        /// What an event did, with that action's fields.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Payload {
            $($name($name),)+
            /// An action written by a newer casebook: its name and every key it had, kept
            /// as they are.
            Unknown { action: String, fields: toml::Table },
        }

        impl Payload {
            /// An empty payload for `action`.
            pub fn empty(action: &Action) -> Payload {
                match action {
                    $(Action::$name => Payload::$name($name::default()),)+
                    Action::Unknown(s) => Payload::Unknown {
                        action: s.clone(),
                        fields: toml::Table::new(),
                    },
                }
            }

            pub fn action(&self) -> Action {
                match self {
                    $(Payload::$name(_) => Action::$name,)+
                    Payload::Unknown { action, .. } => Action::from_stored(action),
                }
            }

            /// The payload as `T`, if it is the payload of `T`'s action.
    pub fn get<T: Kind>(&self) -> Option<&T> {
        T::of(self)
    }

    pub fn get_mut<T: Kind>(&mut self) -> Option<&mut T> {
        T::of_mut(self)
    }

    /// The free text stored under `key` (see [`TextField`]).
            pub fn text(&self, key: &str) -> Option<&str> {
                match self {
                    $(Payload::$name(p) => p.text(key),)+
                    Payload::Unknown { .. } => None,
                }
            }

            /// Sets the free text under `key`; false if this action has no such field.
            pub fn set_text(&mut self, key: &str, value: String) -> bool {
                match self {
                    $(Payload::$name(p) => p.set_text(key, value),)+
                    Payload::Unknown { .. } => false,
                }
            }

            /// Keys a newer casebook added to a known action (an unknown action keeps
            /// everything in its `fields`).
            pub fn extra(&self) -> Option<&toml::Table> {
                match self {
                    $(Payload::$name(p) => Some(&p.extra),)+
                    Payload::Unknown { .. } => None,
                }
            }

            /// Reads the payload of the action called `action` from the event's other keys.
            pub fn from_table(action: String, mut rest: toml::Table) -> Result<Payload, toml::de::Error> {
                Ok(match Action::from_stored(&action) {
                    $(Action::$name => {
                        let extra = split_unknown(&mut rest, $name::KEYS);
                        let mut p = $name::deserialize(toml::Value::Table(rest))?;
                        p.extra = extra;
                        Payload::$name(p)
                    })+
                    Action::Unknown(_) => Payload::Unknown { action, fields: rest },
                })
            }
        }

        impl HasPersonal for Payload {
            fn each_personal_mut(&mut self, key: &'static str, f: &mut Visit<'_>) {
                match self {
                    $(Payload::$name(p) => p.each_personal_mut(key, f),)+
                    // What a newer casebook's action holds is not known here.
                    Payload::Unknown { .. } => {}
                }
            }
        }

        /// The payload's own fields (no `action`, no `extra`), to be flattened into the
        /// event.
        impl Serialize for Payload {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self {
                    $(Payload::$name(p) => p.serialize(s),)+
                    Payload::Unknown { fields, .. } => fields.serialize(s),
                }
            }
        }
    };
}

/// Moves the keys of `table` that are not in `known` to a table of their own.
fn split_unknown(table: &mut toml::Table, known: &[&str]) -> toml::Table {
    let unknown: Vec<String> = table
        .keys()
        .filter(|k| !known.contains(&k.as_str()))
        .cloned()
        .collect();
    unknown
        .into_iter()
        .filter_map(|k| table.remove_entry(&k))
        .collect()
}

payloads! {
    /// `open`: the intake; the customer is in the event's `[event.customer]`.
    Open {
        /// The case's ID in the system it was imported from.
        external_id: Option<String>,
        /// The file an import read.
        source: Option<String>,
        subject: Option<Personal>,
        priority: Option<Priority>,
        channel: Option<Channel>,
        product: Option<String>,
        description: Option<Personal>,
        #[serde(with = "utc_opt")]
        incident_at: Option<DateTime<Utc>>,
    }

    /// `acknowledge`: the first response to the customer.
    Acknowledge {
        channel: Option<Channel>,
        message: Option<Personal>,
        /// The template the message was rendered from, if it was.
        template: Option<String>,
        direction: Option<Direction>,
    }

    /// `gather`: intake facts changed (`change`), questions asked and answered, notes.
    /// Intake keys stored directly (by earlier versions) still set the case's values.
    Gather {
        subject: Option<Personal>,
        priority: Option<Priority>,
        channel: Option<Channel>,
        product: Option<String>,
        description: Option<Personal>,
        #[serde(with = "utc_opt")]
        incident_at: Option<DateTime<Utc>>,
        question: Option<Personal>,
        answer: Option<Personal>,
        /// Internal notes routinely quote the customer: personal.
        note: Option<Personal>,
        changes: Vec<FieldChange> => "change",
    }

    /// `research`: what was found, and other cases linked.
    Research {
        finding: Option<String>,
        root_cause: Option<String>,
        scope: Option<Scope>,
        links: Vec<String>,
    }

    /// `update`: an outbound update, maybe with an ETA.
    Update {
        channel: Option<Channel>,
        message: Option<Personal>,
        template: Option<String>,
        #[serde(with = "utc_opt")]
        eta: Option<DateTime<Utc>>,
        direction: Option<Direction>,
    }

    /// `pending`: waiting on the customer.
    Pending {
        reason: Option<String>,
    }

    /// `log`: an interaction, who took part in it and how it went. (A `message` is read
    /// as part of the conversation, as it always was, though `log` itself writes none.)
    Log {
        channel: Option<Channel>,
        message: Option<Personal>,
        direction: Option<Direction>,
        summary: Option<Personal>,
        with: Vec<Personal>,
        outcome: Option<Personal>,
        /// When it happened, if not when it was recorded.
        #[serde(with = "utc_opt")]
        occurred_at: Option<DateTime<Utc>>,
    }

    /// `escalate`: one level up; by `tick`, with the SLA target and due time that
    /// triggered it.
    Escalate {
        reason: Option<String>,
        level: Option<u32>,
        to: Option<String>,
        /// The person in `to` also becomes the case's owner.
        assign: bool,
        sla_target: Option<String>,
        #[serde(with = "utc_opt")]
        sla_due: Option<DateTime<Utc>>,
    }

    /// `deescalate`: one level down (`to` is absent back at the agent level).
    Deescalate {
        reason: Option<String>,
        level: Option<u32>,
        to: Option<String>,
    }

    /// `resolve`: what solved it.
    Resolve {
        root_cause: Option<String>,
        resolution: Option<String>,
    }

    /// `follow-up`: the customer's answer (or none) to how the resolution held.
    FollowUp {
        message: Option<Personal>,
        template: Option<String>,
        direction: Option<Direction>,
        response: Option<FollowUpResponse>,
        rating: Option<u8>,
        feedback: Option<Personal>,
    }

    /// `close`: by hand, by `tick` (auto-close), or as a duplicate merged `into` a case.
    Close {
        links: Vec<String>,
        reason: Option<String>,
        into: Option<String>,
        sla_target: Option<String>,
        #[serde(with = "utc_opt")]
        sla_due: Option<DateTime<Utc>>,
    }

    /// `reopen`: the resolution did not hold.
    Reopen {
        reason: Option<String>,
    }

    /// `link`: another case linked to this one (recorded on it by `research --link`).
    Link {
        links: Vec<String>,
    }

    /// `import`: facts changed by a re-imported row from another system.
    Import {
        source: Option<String>,
        changes: Vec<FieldChange> => "change",
    }

    /// `review`: what a reviewer found and decided.
    Review {
        finding: Option<String>,
        /// Improvement actions.
        improvements: Vec<String>,
        tags: Vec<String>,
    }

    /// `assign`: the owner before (`from`) and after (`to`; absent means nobody).
    Assign {
        source: Option<String>,
        to: Option<String>,
        from: Option<String>,
    }

    /// `tag`: tags added and removed.
    Tag {
        source: Option<String>,
        added: Vec<String>,
        removed: Vec<String>,
    }

    /// `merge`: duplicates merged into this case (their IDs in `links`).
    Merge {
        links: Vec<String>,
        reason: Option<String>,
    }

    /// `correct`: new values for free text of the event named in `corrects`, in the same
    /// keys (see `model::correct`).
    Correct {
        description: Option<Personal>,
        message: Option<Personal>,
        summary: Option<Personal>,
        outcome: Option<Personal>,
        question: Option<Personal>,
        answer: Option<Personal>,
        note: Option<Personal>,
        finding: Option<String>,
        root_cause: Option<String>,
        reason: Option<String>,
        corrects: Option<String>,
        resolution: Option<String>,
        feedback: Option<Personal>,
    }

    /// `erase`: personal data was erased, and why; `keys` are the ids of the erased keys,
    /// `of` what the erasure was of (absent in events of an older casebook).
    Erase {
        reason: Option<String>,
        keys: Vec<String>,
        of: Option<ErasureOf>,
    }
}

impl Payload {
    /// Which way a contact went, for the actions that record one.
    pub fn direction(&self) -> Option<&Direction> {
        match self {
            Payload::Acknowledge(p) => p.direction.as_ref(),
            Payload::Update(p) => p.direction.as_ref(),
            Payload::Log(p) => p.direction.as_ref(),
            Payload::FollowUp(p) => p.direction.as_ref(),
            _ => None,
        }
    }

    /// Where the actions that record a direction keep it.
    pub fn direction_mut(&mut self) -> Option<&mut Option<Direction>> {
        match self {
            Payload::Acknowledge(p) => Some(&mut p.direction),
            Payload::Update(p) => Some(&mut p.direction),
            Payload::Log(p) => Some(&mut p.direction),
            Payload::FollowUp(p) => Some(&mut p.direction),
            _ => None,
        }
    }

    /// The channel a contact used, for the actions that record one.
    pub fn channel(&self) -> Option<&Channel> {
        match self {
            Payload::Open(p) => p.channel.as_ref(),
            Payload::Acknowledge(p) => p.channel.as_ref(),
            Payload::Gather(p) => p.channel.as_ref(),
            Payload::Update(p) => p.channel.as_ref(),
            Payload::Log(p) => p.channel.as_ref(),
            _ => None,
        }
    }

    /// The cases this event names as linked (research, link, merge, close into).
    pub fn links(&self) -> &[String] {
        match self {
            Payload::Research(p) => &p.links,
            Payload::Link(p) => &p.links,
            Payload::Merge(p) => &p.links,
            Payload::Close(p) => &p.links,
            _ => &[],
        }
    }

    /// The message sent or received, for the actions that carry one.
    pub fn message(&self) -> Option<&str> {
        self.text("message")
    }

    /// The template a message was rendered from.
    pub fn template(&self) -> Option<&str> {
        match self {
            Payload::Acknowledge(p) => p.template.as_deref(),
            Payload::Update(p) => p.template.as_deref(),
            Payload::FollowUp(p) => p.template.as_deref(),
            _ => None,
        }
    }

    /// The intake changes this event records (gather, import).
    pub fn changes(&self) -> &[FieldChange] {
        match self {
            Payload::Gather(p) => &p.changes,
            Payload::Import(p) => &p.changes,
            _ => &[],
        }
    }

    /// The SLA target and due time that made `tick` take this action.
    pub fn sla(&self) -> Option<(&str, Option<DateTime<Utc>>)> {
        match self {
            Payload::Escalate(p) => p.sla_target.as_deref().map(|t| (t, p.sla_due)),
            Payload::Close(p) => p.sla_target.as_deref().map(|t| (t, p.sla_due)),
            _ => None,
        }
    }
}
