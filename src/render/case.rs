//! Cases and their history: the `show`, `list` and `history` outputs.
//!
//! The JSON is a stable contract, documented in docs/FORMAT.md: keys are always present
//! (`null` when unset), times are UTC RFC 3339, and nothing is formatted for display.

use serde_json::{json, Value};

use super::table::Grid;
use super::{local_time, localize_times, safe_line, safe_text, Style};
use crate::model::commitment::{Commitment, State};
use crate::model::time::format_utc;
use crate::model::{CaseFile, CaseId, Config};
use crate::ops::summary_of;
use crate::store::HistoryEntry;

/// The SLA commitments of a case as a JSON object keyed by target.
pub fn sla_json(commitments: &[Commitment]) -> Value {
    let time = |t: &Option<chrono::DateTime<chrono::Utc>>| t.as_ref().map(format_utc);
    let mut map = serde_json::Map::new();
    for c in commitments {
        map.insert(
            c.target.as_str().to_string(),
            json!({
                "state": c.state.as_str(),
                "due": time(&c.due),
                "start": format_utc(&c.start),
                "at_risk_from": time(&c.at_risk_from),
                "met_at": time(&c.met_at),
                "breached_at": time(&c.breached_at),
                "open": c.is_open(),
                "policy": c.policy.map(|p| p.to_string()),
            }),
        );
    }
    Value::Object(map)
}

/// An owner as `{name, email}`, or null for nobody.
pub fn owner_json(owner: Option<&str>) -> Value {
    match owner {
        None => Value::Null,
        Some(o) => {
            let (name, email) = crate::model::team::owner_parts(o);
            json!({ "name": name, "email": email })
        }
    }
}

/// The owner's name for a table cell; `-` for nobody.
pub fn owner_name(owner: Option<&str>) -> String {
    owner.map_or_else(|| "-".to_string(), |o| crate::model::team::owner_parts(o).0)
}

/// One case as JSON, with its SLA commitments; `list` leaves out the events.
pub fn case_json(f: &CaseFile, with_events: bool, commitments: &[Commitment]) -> Value {
    let c = &f.case;
    let time = |t: &Option<chrono::DateTime<chrono::Utc>>| t.as_ref().map(format_utc);
    let mut v = json!({
        "id": c.id.as_str(),
        "status": c.status.as_str(),
        "priority": c.priority.as_str(),
        "subject": c.subject,
        "channel": c.channel.as_str(),
        "product": c.product,
        "description": c.description,
        "incident_at": time(&c.incident_at),
        "customer": {
            "name": f.customer.name,
            "email": f.customer.email,
            "phone": f.customer.phone,
        },
        "created_at": format_utc(&c.created_at),
        "created_by": c.created_by,
        "updated_at": format_utc(&c.updated_at),
        "acknowledged_at": time(&c.acknowledged_at),
        "escalation_level": c.escalation_level,
        "escalated_to": c.escalated_to,
        "owner": owner_json(c.owner.as_deref()),
        "tags": c.tags,
        "merged_into": c.merged_into,
        "worked_minutes": crate::model::team::worked_total(f),
        "eta": time(&c.eta),
        "root_cause": c.root_cause,
        "scope": c.scope,
        "resolution": c.resolution,
        "resolved_at": time(&c.resolved_at),
        "closed_at": time(&c.closed_at),
        "satisfaction": c.satisfaction.as_ref().map(|s| json!({
            "satisfied": s.satisfied,
            "rating": s.rating,
            "feedback": s.feedback,
        })),
        "reopen_count": c.reopen_count,
        "aliases": c.aliases,
        "links": c.links,
        "attachments": c.attachments.iter().map(|a| json!({
            "name": a.name,
            "size": a.size,
            "blob": a.blob,
            "path": crate::model::layout::attachment_file(&c.id, a),
        })).collect::<Vec<_>>(),
    });
    v["sla"] = sla_json(commitments);
    if with_events {
        // Events carry their own fields as stored (see docs/FORMAT.md); serde_json cannot
        // fail on them because every value is a string, number, bool, array or table.
        v["events"] = serde_json::to_value(&f.events).unwrap_or(Value::Null);
    }
    v
}

/// The case for a person: its sections, SLA targets, then the events as a timeline in
/// local time, each with the whole text it recorded (who it was for, and who took part);
/// `brief` keeps one line per event. Labels are padded before they are coloured, so colour
/// never moves a column.
pub fn show_text(
    f: &CaseFile,
    config: &Config,
    commitments: &[Commitment],
    style: Style,
    brief: bool,
) -> String {
    let tz = style.zone(config.calendar.tz());
    let c = &f.case;
    let mut out = String::new();
    let mut line = |label: &str, value: String| {
        out.push_str(&format!(
            "  {}{value}\n",
            style.dim(&format!("{label:<13}"))
        ));
    };
    let safe = |s: &str| safe_line(s);
    let head = format!(
        "{}  {}\n",
        style.bold(c.id.as_str()),
        style.bold(&safe(&c.subject))
    );
    line("status", style.word(c.status.as_str()));
    line("priority", style.word(c.priority.as_str()));
    line("channel", safe(c.channel.as_str()));
    line(
        "owner",
        c.owner
            .as_deref()
            .map(safe)
            .unwrap_or_else(|| "nobody (unassigned)".into()),
    );
    if !c.tags.is_empty() {
        line("tags", safe(&c.tags.join(", ")));
    }
    if let Some(into) = &c.merged_into {
        line(
            "merged into",
            format!("{into} (this case was a duplicate: see `casebook show {into}`)"),
        );
    }
    if let Some(m) = crate::model::team::worked_total(f) {
        line("time worked", crate::model::team::format_minutes(m));
    }
    if let Some(p) = &c.product {
        line("product", safe(p));
    }
    if let Some(t) = &c.incident_at {
        line("incident at", local_time(t, tz));
    }
    line(
        "opened",
        format!(
            "{} by {}",
            local_time(&c.created_at, tz),
            safe(&c.created_by)
        ),
    );
    if let Some(t) = &c.acknowledged_at {
        line("acknowledged", local_time(t, tz));
    }
    if c.escalation_level > 0 {
        let to = c
            .escalated_to
            .as_deref()
            .map(|t| format!(" ({})", safe(t)))
            .unwrap_or_default();
        line(
            "escalated",
            format!(
                "level {}: {}{to}",
                c.escalation_level,
                safe(&config.level_name(c.escalation_level))
            ),
        );
    }
    if let Some(t) = &c.eta {
        line("eta", local_time(t, tz));
    }
    if let Some(v) = &c.root_cause {
        line("root cause", safe(v));
    }
    if let Some(v) = &c.scope {
        line("scope", safe(v.as_str()));
    }
    if let Some(v) = &c.resolution {
        line("resolution", safe(v));
    }
    if let Some(s) = &c.satisfaction {
        let rating = s
            .rating
            .map(|r| format!(", rated {r}/5"))
            .unwrap_or_default();
        let verdict = match s.satisfied {
            Some(true) => "satisfied",
            Some(false) => "not satisfied",
            None => "no answer",
        };
        line("satisfaction", format!("{verdict}{rating}"));
    }
    if c.reopen_count > 0 {
        line("reopened", format!("{} time(s)", c.reopen_count));
    }
    if !c.links.is_empty() {
        line("links", safe(&c.links.join(", ")));
    }
    if !c.aliases.is_empty() {
        line("also known as", safe(&c.aliases.join(", ")));
    }
    for a in &c.attachments {
        line(
            "attachment",
            format!("{} ({} bytes)", safe(&a.name), a.size),
        );
    }
    let mut text = head + &out;
    let field = |text: &mut String, label: &str, value: &str| {
        text.push_str(&format!(
            "  {}{}\n",
            style.dim(&format!("{label:<13}")),
            safe(value)
        ));
    };
    text.push_str(&format!("\n{}\n", style.bold("Customer")));
    field(&mut text, "name", &f.customer.name);
    if let Some(e) = &f.customer.email {
        field(&mut text, "email", e);
    }
    if let Some(p) = &f.customer.phone {
        field(&mut text, "phone", p);
    }
    if let Some(d) = &c.description {
        text.push_str(&format!("\n{}\n", style.bold("Description")));
        for l in safe_text(d).lines() {
            text.push_str(&format!("  {l}\n"));
        }
    }
    if !commitments.is_empty() {
        text.push_str(&format!("\n{}\n", style.bold("SLA")));
        for k in commitments {
            let when = match (k.state, k.met_at, k.due) {
                (State::Met, Some(m), _) => format!("met {}", local_time(&m, tz)),
                (State::Paused, _, _) => "clock paused".to_string(),
                (_, _, Some(d)) => format!("due {}", local_time(&d, tz)),
                _ => String::new(),
            };
            let policy = k.policy.map(|p| format!(" ({p})")).unwrap_or_default();
            let state = k.state.as_str();
            text.push_str(&format!(
                "  {:<13}{}{} {when}{}\n",
                k.target.as_str(),
                style.word(state),
                " ".repeat(10usize.saturating_sub(state.len())),
                style.dim(&policy)
            ));
        }
    }
    text.push_str(&format!("\n{} ({})\n", style.bold("Timeline"), tz.name()));
    let (events, edited) = crate::model::correct::effective(&f.events);
    for e in events.iter().map(|e| e.as_ref()) {
        let who = e.actor.split(" <").next().unwrap_or(&e.actor);
        let id = if brief {
            String::new()
        } else {
            format!("  {}", style.dim(&e.id))
        };
        text.push_str(&format!(
            "  {}  {:<12} {:<20} {}{id}\n",
            style.dim(&local_time(&e.at, tz)),
            e.action().as_str(),
            safe(who),
            safe(&crate::ops::one_line(
                &localize_times(&summary_of(e), tz),
                60
            ))
        ));
        // A correction's text shows where it belongs: in the event it corrects.
        if brief || e.action() == crate::model::Action::Correct {
            continue;
        }
        if let Some(m) = e.worked_minutes {
            text.push_str(&format!(
                "      {} {}\n",
                style.dim("worked:"),
                crate::model::team::format_minutes(m.into())
            ));
        }
        if let crate::model::Payload::Log(log) = &e.payload {
            if !log.with.is_empty() {
                let with: Vec<&str> = log.with.iter().map(|w| w.as_str()).collect();
                text.push_str(&format!(
                    "      {} {}\n",
                    style.dim("with:"),
                    safe(&with.join(", "))
                ));
            }
        }
        for said in e.said() {
            let key = said.field.replace(' ', "_");
            let mark = if edited.iter().any(|(i, f)| *i == e.id && *f == key) {
                ", edited"
            } else {
                ""
            };
            let label = style.dim(&format!(
                "{} ({}{mark}):",
                said.field,
                said.audience.as_str()
            ));
            if said.text.contains('\n') {
                text.push_str(&format!("      {label}\n"));
                for l in said.text.lines() {
                    text.push_str(format!("        {}", safe(l)).trim_end());
                    text.push('\n');
                }
            } else {
                text.push_str(&format!("      {label} {}\n", safe(said.text)));
            }
        }
    }
    text
}

/// Cases as a table for people.
pub fn list_table(cases: &[CaseFile], config: &Config, style: Style) -> String {
    let tz = style.zone(config.calendar.tz());
    let mut t = Grid::new(
        style,
        &[
            "ID", "STATUS", "PRIORITY", "OWNER", "CUSTOMER", "SUBJECT", "OPENED",
        ],
        &["OWNER", "CUSTOMER", "SUBJECT"],
    )
    .spare(&["OPENED", "PRIORITY", "OWNER"]);
    for f in cases {
        let c = &f.case;
        let row = vec![
            t.text(c.id.as_str()),
            t.word(c.status.as_str()),
            t.word(c.priority.as_str()),
            t.text(&owner_name(c.owner.as_deref())),
            t.text(&f.customer.name),
            t.text(&c.subject),
            t.text(&local_time(&c.created_at, tz)),
        ];
        t.row(row);
    }
    t.render()
}

/// The action a commit recorded on case `id`: its `Action:` trailer, `link` when the
/// commit's action was on another case that linked to this one, `close` for a duplicate
/// its `merge` closed.
fn action_on<'e>(id: &CaseId, e: &'e HistoryEntry) -> Option<&'e str> {
    match e.trailer("Case-Id") {
        // A duplicate closed by the target's `merge` commit (named in a `Case:` trailer).
        Some(first)
            if first != id.as_str()
                && e.trailer("Action") == Some("merge")
                && e.trailers
                    .iter()
                    .any(|(k, v)| k == "Case" && v == id.as_str()) =>
        {
            Some("close")
        }
        Some(first) if first != id.as_str() => Some("link"),
        _ => e.trailer("Action"),
    }
}

/// A case's commits as JSON.
pub fn history_json(id: &CaseId, entries: &[HistoryEntry]) -> Value {
    Value::Array(
        entries
            .iter()
            .map(|e| {
                let own = e.trailer("Case-Id") == Some(id.as_str());
                json!({
                    "commit": e.commit.to_string(),
                    "time": format_utc(&e.time),
                    "actor": e.author,
                    "action": action_on(id, e),
                    "event_id": if own { e.trailer("Event-Id") } else { None },
                    "summary": e.summary,
                })
            })
            .collect(),
    )
}

/// A case's commits as a table, newest first.
pub fn history_table(
    id: &CaseId,
    entries: &[HistoryEntry],
    config: &Config,
    style: Style,
) -> String {
    let tz = style.zone(config.calendar.tz());
    let mut t = Grid::new(
        style,
        &["TIME", "ACTOR", "ACTION", "SUMMARY", "COMMIT"],
        &["ACTOR", "SUMMARY"],
    )
    .spare(&["COMMIT"]);
    let prefix = format!("{id}: ");
    for e in entries {
        let subject = e.summary.strip_prefix(&prefix).unwrap_or(&e.summary);
        let summary = subject.split_once(" — ").map(|(_, s)| s).unwrap_or("");
        let row = vec![
            t.text(&local_time(&e.time, tz)),
            t.text(e.author.split(" <").next().unwrap_or(&e.author)),
            t.text(action_on(id, e).unwrap_or("?")),
            t.text(&localize_times(summary, tz)),
            t.dim(&e.commit.to_string()[..10]),
        ];
        t.row(row);
    }
    t.render()
}
