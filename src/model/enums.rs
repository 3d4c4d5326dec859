//! The closed vocabularies of a case (status, priority, channel, action), stored as strings.
//!
//! Each enum keeps a value it does not know (written by a newer casebook) as `Unknown`, so
//! reading and re-writing a case never drops it. People and scripts can only *enter* known
//! values (`parse`).

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)+
            /// A value written by a newer casebook, kept as it is.
            Unknown(String),
        }

        impl $name {
            /// The values this version knows, in their canonical order.
            pub const KNOWN: &'static [&'static str] = &[$($text),+];

            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)+
                    Self::Unknown(s) => s,
                }
            }

            /// Reads a stored value; unknown values are preserved, not rejected.
            pub fn from_stored(s: &str) -> Self {
                match s {
                    $($text => Self::$variant,)+
                    other => Self::Unknown(other.to_string()),
                }
            }

            /// Reads a value typed by a person: known values only, any letter case.
            pub fn parse(s: &str) -> Option<Self> {
                match Self::from_stored(&s.trim().to_ascii_lowercase()) {
                    Self::Unknown(_) => None,
                    known => Some(known),
                }
            }

            /// Position in `KNOWN` (unknown values sort last).
            pub fn rank(&self) -> usize {
                Self::KNOWN.iter().position(|k| *k == self.as_str()).unwrap_or(Self::KNOWN.len())
            }
        }

        impl From<&str> for $name {
            /// As [`Self::from_stored`]: unknown values are kept.
            fn from(s: &str) -> Self {
                Self::from_stored(s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Ok(Self::from_stored(&s))
            }
        }
    };
}

string_enum! {
    /// Where a case stands in the SOP lifecycle.
    Status {
        New => "new",
        Open => "open",
        Pending => "pending",
        Resolved => "resolved",
        Closed => "closed",
    }
}

string_enum! {
    /// How soon a case needs attention; `KNOWN` is ordered most urgent first.
    Priority {
        Urgent => "urgent",
        High => "high",
        Normal => "normal",
        Low => "low",
    }
}

string_enum! {
    /// How the customer reached us, or how we reached them.
    Channel {
        Email => "email",
        Phone => "phone",
        Chat => "chat",
        Web => "web",
        Other => "other",
    }
}

string_enum! {
    /// What an event did. One action is one event and one commit.
    Action {
        Open => "open",
        Acknowledge => "acknowledge",
        Gather => "gather",
        Research => "research",
        Update => "update",
        Pending => "pending",
        Log => "log",
        Escalate => "escalate",
        Deescalate => "deescalate",
        Resolve => "resolve",
        FollowUp => "follow-up",
        Close => "close",
        Reopen => "reopen",
        // `link`: another case linked to this one (recorded on it by `research --link`).
        Link => "link",
        // `import`: facts changed by a re-imported row from another system.
        Import => "import",
        Review => "review",
        // `assign`: the owner changed (`from`, `to`; `take` and `unassign` record it too).
        Assign => "assign",
        // `tag`: tags added and removed.
        Tag => "tag",
        // `merge`: duplicates were merged into this case (their IDs in `links`).
        Merge => "merge",
        // `correct`: fixes free text of the event named in `corrects` (see model::correct).
        Correct => "correct",
        // `erase`: the keys of the case's sealed personal data were destroyed (`keys`), by
        // `casebook erase` or retention; `reason` says why. It holds no personal data.
        Erase => "erase",
    }
}

string_enum! {
    /// Which way a contact went: to the customer, from them, or within the team (`log`).
    Direction {
        Inbound => "inbound",
        Outbound => "outbound",
        Internal => "internal",
    }
}

string_enum! {
    /// The customer's answer to the follow-up.
    FollowUpResponse {
        Satisfied => "satisfied",
        NotSatisfied => "not-satisfied",
        NoAnswer => "no-answer",
    }
}

string_enum! {
    /// What an erasure was of: every case of a customer (`erase --customer`, which also
    /// reaches the cases of that customer another clone made without knowing of it), or
    /// the cases named (`erase ID`, retention).
    ErasureOf {
        Customer => "customer",
        Cases => "cases",
    }
}

string_enum! {
    /// Whether a problem found in research affects this customer only or many.
    Scope {
        Isolated => "isolated",
        Systemic => "systemic",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::payload;

    #[test]
    fn unknown_stored_values_survive_and_typed_ones_do_not() {
        assert_eq!(
            Status::from_stored("archived"),
            Status::Unknown("archived".into())
        );
        assert_eq!(Status::from_stored("archived").as_str(), "archived");
        assert_eq!(Status::parse("archived"), None);
        assert_eq!(Priority::parse(" URGENT "), Some(Priority::Urgent));
        assert_eq!(Action::from_stored("follow-up"), Action::FollowUp);
        assert!(Priority::Urgent.rank() < Priority::Low.rank());
        assert!(Priority::Low.rank() < Priority::Unknown("x".into()).rank());
    }

    #[test]
    fn event_words_keep_their_stored_text() {
        for (text, direction) in [
            ("inbound", Direction::Inbound),
            ("outbound", Direction::Outbound),
            ("internal", Direction::Internal),
        ] {
            assert_eq!(Direction::from_stored(text), direction);
            assert_eq!(direction.as_str(), text);
        }
        assert_eq!(
            FollowUpResponse::from_stored("not-satisfied"),
            FollowUpResponse::NotSatisfied
        );
        assert_eq!(FollowUpResponse::NoAnswer.as_str(), "no-answer");
        assert_eq!(Scope::parse("Systemic"), Some(Scope::Systemic));
        assert_eq!(Scope::parse("global"), None);
        assert_eq!(
            Direction::from_stored("sideways"),
            Direction::Unknown("sideways".into())
        );
    }

    #[test]
    fn an_event_with_these_words_reads_and_writes_the_same_toml() {
        let text = r#"
            id = "7K3M9QXA7K3M"
            at = "2026-11-23T09:00:00Z"
            actor = "A <a@example.com>"
            action = "log"
            direction = "sideways"
        "#;
        let e: crate::model::Event = toml::from_str(text).unwrap();
        assert_eq!(e.direction(), Some(&Direction::Unknown("sideways".into())));
        let written: toml::Table = toml::from_str(&toml::to_string(&e).unwrap()).unwrap();
        assert_eq!(written, toml::from_str::<toml::Table>(text).unwrap());
        // Each word lives in the action that records it.
        let research = text
            .replace("action = \"log\"", "action = \"research\"")
            .replace("direction = \"sideways\"", "scope = \"systemic\"");
        let e: crate::model::Event = toml::from_str(&research).unwrap();
        let scope = e.get::<payload::Research>().and_then(|r| r.scope.clone());
        assert_eq!(scope, Some(Scope::Systemic));
        let written: toml::Table = toml::from_str(&toml::to_string(&e).unwrap()).unwrap();
        assert_eq!(written, toml::from_str::<toml::Table>(&research).unwrap());
        let follow_up = text
            .replace("action = \"log\"", "action = \"follow-up\"")
            .replace("direction = \"sideways\"", "response = \"no-answer\"");
        let e: crate::model::Event = toml::from_str(&follow_up).unwrap();
        let response = e
            .get::<payload::FollowUp>()
            .and_then(|f| f.response.clone());
        assert_eq!(response, Some(FollowUpResponse::NoAnswer));
        let written: toml::Table = toml::from_str(&toml::to_string(&e).unwrap()).unwrap();
        assert_eq!(written, toml::from_str::<toml::Table>(&follow_up).unwrap());
    }
}
