//! The due queue for people (a table) and scripts (JSON).

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use comfy_table::{presets, Cell, Table};
use serde_json::{json, Value};

use super::{local_time, Style};
use crate::model::time::format_utc;
use crate::ops::DueItem;

/// One queue item as JSON.
pub fn due_json(i: &DueItem, now: DateTime<Utc>) -> Value {
    let k = &i.commitment;
    let due = k.due.expect("the queue holds commitments with a due time");
    json!({
        "case": i.id.as_str(),
        "customer": i.customer,
        "subject": i.subject,
        "priority": i.priority.as_str(),
        "status": i.status.as_str(),
        "owner": super::case::owner_json(i.owner.as_deref()),
        "tags": i.tags,
        "target": k.target.as_str(),
        "state": k.state.as_str(),
        "due": format_utc(&due),
        "seconds_left": (due - now).num_seconds(),
    })
}

/// The queue as a table, one line per item.
pub fn due_table(items: &[DueItem], now: DateTime<Utc>, tz: Tz, style: Style) -> String {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING);
    t.set_header(
        [
            "DUE", "LEFT", "TARGET", "STATE", "CASE", "PRIORITY", "OWNER", "CUSTOMER", "SUBJECT",
        ]
        .map(|h| Cell::new(style.bold(h))),
    );
    for i in items {
        let k = &i.commitment;
        let due = k.due.expect("the queue holds commitments with a due time");
        t.add_row(vec![
            Cell::new(local_time(&due, tz)),
            Cell::new(left(due - now)),
            Cell::new(k.target.as_str()),
            Cell::new(style.word(k.state.as_str())),
            Cell::new(i.id.as_str()),
            Cell::new(style.word(i.priority.as_str())),
            Cell::new(super::case::owner_name(i.owner.as_deref())),
            Cell::new(&i.customer),
            Cell::new(crate::ops::one_line(&i.subject, 40)),
        ]);
    }
    let text: Vec<String> = t
        .to_string()
        .lines()
        .map(|l| l.trim().to_string())
        .collect();
    text.join("\n") + "\n"
}

/// `3h 05m`, `2d 4h`, or `-1h 30m` when overdue.
fn left(d: TimeDelta) -> String {
    let sign = if d < TimeDelta::zero() { "-" } else { "" };
    let m = d.num_minutes().abs();
    let (days, hours, minutes) = (m / 1440, (m % 1440) / 60, m % 60);
    if days > 0 {
        format!("{sign}{days}d {hours}h")
    } else {
        format!("{sign}{hours}h {minutes:02}m")
    }
}
