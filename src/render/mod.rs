//! Output for people (text, tables) and scripts (JSON). No business rules here.

mod case;
mod chart;
mod queue;
mod report;
mod review_csv;
mod safe;
mod table;

pub use case::{case_json, history_json, history_table, list_table, show_text, sla_json};
pub use queue::{due_json, due_table};
pub use report::{esc, review_html, BACKLOG_ORDER};
pub use review_csv::{review_csv_header, review_csv_rows};
pub use safe::{localize_times, safe_line, safe_text};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// How output for people looks: colour, the width to fit, wrapping, and the zone times
/// are shown in. Colours never reach JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
    /// The terminal's width; `None` (a pipe) means lines are never cut.
    pub width: Option<u16>,
    /// Wrap long text onto more lines instead of cutting it with `…`.
    pub wide: bool,
    /// Show times in this zone instead of the case book's (`--tz`).
    pub tz: Option<Tz>,
}

impl Style {
    pub fn plain() -> Style {
        Style {
            color: false,
            width: None,
            wide: false,
            tz: None,
        }
    }

    /// The zone times are shown in: `--tz`, else the case book's.
    pub fn zone(&self, book: Tz) -> Tz {
        self.tz.unwrap_or(book)
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    /// Status and priority words, colored by how much attention they need.
    pub fn word(&self, text: &str) -> String {
        match word_tone(text) {
            Some(tone) => self.paint(tone.code(), text),
            None => text.to_string(),
        }
    }
}

/// How a word is coloured, for text and for table cells alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    Alarm,
    Warn,
    Good,
    Waiting,
    Quiet,
}

impl Tone {
    fn code(self) -> &'static str {
        match self {
            Tone::Alarm => "1;31",
            Tone::Warn => "33",
            Tone::Good => "32",
            Tone::Waiting => "36",
            Tone::Quiet => "2",
        }
    }
}

pub(crate) fn word_tone(text: &str) -> Option<Tone> {
    Some(match text {
        "urgent" | "breached" => Tone::Alarm,
        "high" | "new" | "at_risk" => Tone::Warn,
        "open" => Tone::Good,
        "pending" => Tone::Waiting,
        "resolved" | "closed" | "low" => Tone::Quiet,
        _ => return None,
    })
}

/// An instant in the case book's time zone, minute precision, with the zone's abbreviation.
pub fn local_time(t: &DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string()
}
