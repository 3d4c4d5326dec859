//! Checks on contact details typed by agents or imported from other systems.

/// A pragmatic e-mail check: one `@`, a non-empty local part, a dotted domain, no spaces.
/// Deliberately not RFC 5322: it catches typos, not every legal oddity.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
}

/// A phone number: digits with the usual separators, an optional leading `+`, 5 to 20 digits.
pub fn is_phone(s: &str) -> bool {
    let s = s.trim();
    let body = s.strip_prefix('+').unwrap_or(s);
    let digits = body.chars().filter(|c| c.is_ascii_digit()).count();
    (5..=20).contains(&digits)
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')' | '/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for ok in ["a@b.co", "first.last+tag@mail.example.org"] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "", "a", "a@b", "@b.co", "a@@b.co", "a b@c.de", "a@.co", "a@b.", "a@b..co",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn phones() {
        for ok in ["+49 30 1234567", "(555) 010-9999", "0301234567"] {
            assert!(is_phone(ok), "{ok}");
        }
        for bad in ["", "12", "call me", "+49 30 1234567 ext. 5", "++4930123456"] {
            assert!(!is_phone(bad), "{bad}");
        }
    }
}
