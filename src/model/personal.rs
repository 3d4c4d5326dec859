//! Customer personal data as a type.
//!
//! A value that is personal data (a name, an address, a message to or from the customer,
//! who took part in a call) is a [`Personal`], not a `String`. Which fields those are is
//! then part of each type's declaration, and [`HasPersonal`] walks a value's personal
//! strings by following the types: sealing and opening (and erasing) go through it, so a
//! new personal field is covered the moment it is declared, with no list of key names to
//! keep in step. Serialised, a `Personal` is its string: the file format does not change.

use std::fmt;
use std::ops::Deref;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::enums::{Channel, Direction, ErasureOf, FollowUpResponse, Priority, Scope};

/// A string that is customer personal data.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Personal(String);

impl Personal {
    pub fn new(s: impl Into<String>) -> Personal {
        Personal(s.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// The value itself, to be replaced by its sealed or opened form.
    pub fn as_mut_string(&mut self) -> &mut String {
        &mut self.0
    }
}

impl Deref for Personal {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Personal {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Personal {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Personal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for Personal {
    fn from(s: String) -> Personal {
        Personal(s)
    }
}

impl From<&str> for Personal {
    fn from(s: &str) -> Personal {
        Personal(s.to_string())
    }
}

impl From<&String> for Personal {
    fn from(s: &String) -> Personal {
        Personal(s.clone())
    }
}

impl From<Personal> for String {
    fn from(p: Personal) -> String {
        p.0
    }
}

impl PartialEq<str> for Personal {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Personal {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for Personal {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

/// The closure a visit calls: the value's TOML key and the value itself.
pub type Visit<'f> = dyn FnMut(&'static str, &mut String) + 'f;

/// A value that may hold personal data: calls `f` with `key` (the TOML key it is stored
/// under) and every personal string in it. Plain values visit nothing.
pub trait HasPersonal {
    fn each_personal_mut(&mut self, key: &'static str, f: &mut Visit<'_>);
}

impl HasPersonal for Personal {
    fn each_personal_mut(&mut self, key: &'static str, f: &mut Visit<'_>) {
        f(key, &mut self.0);
    }
}

impl<T: HasPersonal> HasPersonal for Option<T> {
    fn each_personal_mut(&mut self, key: &'static str, f: &mut Visit<'_>) {
        if let Some(v) = self {
            v.each_personal_mut(key, f);
        }
    }
}

impl<T: HasPersonal> HasPersonal for Vec<T> {
    fn each_personal_mut(&mut self, key: &'static str, f: &mut Visit<'_>) {
        for v in self {
            v.each_personal_mut(key, f);
        }
    }
}

impl<T: HasPersonal> HasPersonal for Box<T> {
    fn each_personal_mut(&mut self, key: &'static str, f: &mut Visit<'_>) {
        (**self).each_personal_mut(key, f);
    }
}

/// Types that are never personal data.
macro_rules! plain {
    ($($t:ty),+ $(,)?) => {
        $(impl HasPersonal for $t {
            fn each_personal_mut(&mut self, _: &'static str, _: &mut Visit<'_>) {}
        })+
    };
}

plain!(
    String,
    bool,
    u8,
    u32,
    u64,
    DateTime<Utc>,
    Priority,
    Channel,
    Direction,
    FollowUpResponse,
    Scope,
    ErasureOf,
    toml::Table,
);

/// A field that may hold free text, looked up by its key (corrections, `show`, search).
/// Only optional strings are text; other fields answer `None` and refuse to be set.
pub trait TextField {
    fn text(&self) -> Option<&str> {
        None
    }
    /// Sets the text; false if this field holds no text.
    fn set_text(&mut self, _value: String) -> bool {
        false
    }
}

impl TextField for Option<String> {
    fn text(&self) -> Option<&str> {
        self.as_deref()
    }
    fn set_text(&mut self, value: String) -> bool {
        *self = Some(value);
        true
    }
}

impl TextField for Option<Personal> {
    fn text(&self) -> Option<&str> {
        self.as_deref()
    }
    fn set_text(&mut self, value: String) -> bool {
        *self = Some(Personal(value));
        true
    }
}

macro_rules! not_text {
    ($($t:ty),+ $(,)?) => {
        $(impl TextField for $t {})+
    };
}

not_text!(
    bool,
    Option<u8>,
    Option<u32>,
    Option<DateTime<Utc>>,
    Option<Priority>,
    Option<Channel>,
    Option<Direction>,
    Option<FollowUpResponse>,
    Option<Scope>,
    Option<ErasureOf>,
    Vec<String>,
    Vec<Personal>,
    Vec<super::event::FieldChange>,
);
