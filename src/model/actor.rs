//! Who does an action: `Name <email>`, the form git uses for authors.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad actor {0:?}: expected \"Name <email>\", e.g. \"Dana Agent <dana@example.com>\"")]
pub struct ActorError(pub String);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    pub email: String,
}

impl Actor {
    pub fn new(name: &str, email: &str) -> Result<Actor, ActorError> {
        Actor::parse(&format!("{} <{}>", name.trim(), email.trim()))
    }

    pub fn parse(input: &str) -> Result<Actor, ActorError> {
        let bad = || ActorError(input.to_string());
        let s = input.trim();
        let (name, rest) = s.split_once('<').ok_or_else(bad)?;
        let email = rest.strip_suffix('>').ok_or_else(bad)?.trim();
        let name = name.trim();
        // git rejects these characters in signatures; refuse them here with a clear message.
        let clean = |t: &str| !t.is_empty() && !t.contains(['<', '>', '\n', '\0']);
        // Any address git accepts (`x@x`, `root@localhost`, even one without an @): it
        // names who acted, it is not a customer's address to write to.
        if !clean(name) || !clean(email) {
            return Err(bad());
        }
        Ok(Actor {
            name: name.to_string(),
            email: email.to_string(),
        })
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} <{}>", self.name, self.email)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_git_style_identities() {
        let a = Actor::parse(" Dana Agent <dana@example.com> ").unwrap();
        assert_eq!(a.name, "Dana Agent");
        assert_eq!(a.email, "dana@example.com");
        assert_eq!(a.to_string(), "Dana Agent <dana@example.com>");
        for bad in [
            "Dana",
            "<dana@example.com>",
            "Dana <>",
            "Da<na <d@x.io>",
            "Dana <d@x.io",
        ] {
            assert!(Actor::parse(bad).is_err(), "{bad}");
        }
        // What git accepts as an identity is accepted.
        for good in [
            "x <x@x>",
            "Root <root@localhost>",
            "Dana <no-at>",
            "Ü <ü@ü.de>",
        ] {
            assert!(Actor::parse(good).is_ok(), "{good}");
        }
    }
}
