//! The due queue for people (a table) and scripts (JSON).

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use serde_json::{json, Value};

use super::table::Grid;
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
    let tz = style.zone(tz);
    let mut t = Grid::new(
        style,
        &[
            "DUE", "LEFT", "TARGET", "STATE", "CASE", "PRIORITY", "OWNER", "CUSTOMER", "SUBJECT",
        ],
        &["CUSTOMER", "SUBJECT"],
    )
    // LEFT says when, the agent and priority are in `show`.
    .spare(&["DUE", "OWNER", "PRIORITY"]);
    for i in items {
        let k = &i.commitment;
        let due = k.due.expect("the queue holds commitments with a due time");
        let row = vec![
            t.text(&local_time(&due, tz)),
            t.text(&left(due - now)),
            t.text(k.target.as_str()),
            t.word(k.state.as_str()),
            t.text(i.id.as_str()),
            t.word(i.priority.as_str()),
            t.text(&super::case::owner_name(i.owner.as_deref())),
            t.text(&i.customer),
            t.text(&i.subject),
        ];
        t.row(row);
    }
    t.render()
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
