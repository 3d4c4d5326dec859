//! Output for people (text, tables) and scripts (JSON). No business rules here.

mod case;
mod chart;
mod queue;
mod report;
mod review_csv;

pub use case::{case_json, history_json, history_table, list_table, show_text, sla_json};
pub use queue::{due_json, due_table};
pub use report::{esc, review_html, BACKLOG_ORDER};
pub use review_csv::{review_csv_header, review_csv_rows};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// Whether to color output. Colors never reach JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub fn plain() -> Style {
        Style { color: false }
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
        let code = match text {
            "urgent" | "breached" => "1;31",
            "high" | "new" | "at_risk" => "33",
            "open" => "32",
            "pending" => "36",
            "resolved" | "closed" | "low" => "2",
            _ => return text.to_string(),
        };
        self.paint(code, text)
    }
}

/// An instant in the case book's time zone, minute precision, with the zone's abbreviation.
pub fn local_time(t: &DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string()
}
