//! Case data shown to people cannot drive the terminal.
//!
//! Subjects, names and messages come from customers and imports; a subject holding
//! `ESC[2J` would clear the agent's screen, and one holding `ESC]8;;` could hide a link.
//! Human output shows every control character escaped (`\e`, `\x07`, `\u{9b}`), so the
//! text is visible and inert. JSON is left exact: serde_json escapes control characters
//! itself, and scripts need the bytes as stored.

use chrono_tz::Tz;

use super::local_time;
use crate::model::time::parse_rfc3339;

/// One line of text for a table cell or a label: white space runs (newlines, tabs)
/// become one space, other control characters are escaped.
pub fn safe_line(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    escape(&flat, false)
}

/// Text of several lines (a description, a message): newlines and tabs stay, other
/// control characters are escaped.
pub fn safe_text(text: &str) -> String {
    escape(text, true)
}

fn escape(text: &str, keep_lines: bool) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' | '\t' if keep_lines => out.push(c),
            '\x1b' => out.push_str("\\e"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 && c.is_control() => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Text with every RFC 3339 instant in it (as commit subjects and summaries store them)
/// shown in `tz` instead, e.g. "ETA 2026-11-25T13:00:00Z" as "ETA 2026-11-25 14:00 CET".
pub fn localize_times(text: &str, tz: Tz) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i + 20 <= bytes.len() {
        match instant_at(bytes, i) {
            Some(end) => {
                // `instant_at` only matches ASCII, so these are char boundaries.
                if let Some(t) = parse_rfc3339(&text[i..end]) {
                    out.push_str(&text[copied..i]);
                    out.push_str(&local_time(&t, tz));
                    copied = end;
                    i = end;
                    continue;
                }
                i += 1;
            }
            None => i += 1,
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// The end of an RFC 3339 instant (`YYYY-MM-DDTHH:MM:SS[.f](Z|±HH:MM)`) starting at `i`.
fn instant_at(b: &[u8], i: usize) -> Option<usize> {
    let shape = b"dddd-dd-ddTdd:dd:dd";
    if i > 0 && b[i - 1].is_ascii_digit() {
        return None;
    }
    for (k, want) in shape.iter().enumerate() {
        let got = *b.get(i + k)?;
        let ok = match want {
            b'd' => got.is_ascii_digit(),
            w => got == *w,
        };
        if !ok {
            return None;
        }
    }
    let mut j = i + shape.len();
    if b.get(j) == Some(&b'.') {
        j += 1;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
    }
    match b.get(j) {
        Some(b'Z') => Some(j + 1),
        Some(b'+' | b'-') if b.len() >= j + 6 => Some(j + 6),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_escaped() {
        assert_eq!(safe_line("clear\x1b[2Jme"), "clear\\e[2Jme");
        assert_eq!(safe_line("a\nb\t c"), "a b c");
        assert_eq!(
            safe_line("bell\x07 csi\u{9b}2J del\x7f"),
            "bell\\x07 csi\\u{9b}2J del\\x7f"
        );
        assert_eq!(safe_text("two\nlines\x1b]8;;x"), "two\nlines\\e]8;;x");
        assert_eq!(safe_line("plain — ünïcode"), "plain — ünïcode");
        assert!(!safe_text("\x1b\x00\r\u{85}").chars().any(char::is_control));
    }

    #[test]
    fn instants_in_text_are_shown_in_the_zone() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        assert_eq!(
            localize_times("update sent, ETA 2026-11-25T13:00:00Z.", tz),
            "update sent, ETA 2026-11-25 14:00 CET."
        );
        assert_eq!(
            localize_times(
                "from 2026-07-01T08:00:00.5Z to 2026-07-01T10:00:00+00:00",
                tz
            ),
            "from 2026-07-01 10:00 CEST to 2026-07-01 12:00 CEST"
        );
        for untouched in [
            "no time here",
            "2026-11-25 14:00",
            "12026-11-25T13:00:00Z",
            "ü",
        ] {
            assert_eq!(localize_times(untouched, tz), untouched);
        }
    }
}
