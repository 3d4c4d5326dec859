//! The review as one self-contained HTML page: inline CSS and SVG charts, no scripts, no
//! fonts or images from the network. Only layout here; the numbers come from ops::review.

use std::fmt::Write as _;

use chrono::{Datelike, Duration, NaiveDate};

use crate::model::review::{Metrics, Spread};
use crate::ops::ReviewReport;

/// Escapes text for HTML and SVG.
pub fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

const W: f64 = 520.0;
const H: f64 = 240.0;
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 40.0;
const TOP: f64 = 44.0;
const ACCENT: &str = "#2f6fde";
const GOOD: &str = "#2e9d63";
const BAD: &str = "#d1495b";

fn svg_open(title: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{t}\">\
         <text x=\"0\" y=\"16\" class=\"title\">{t}</text>",
        t = esc(title)
    )
}

/// Horizontal grid lines and their labels from 0 to `max`.
fn y_axis(max: f64, unit: &str) -> String {
    let mut s = String::new();
    for i in 0..=4 {
        let v = max * f64::from(i) / 4.0;
        let y = H - BOTTOM - (H - BOTTOM - TOP) * f64::from(i) / 4.0;
        let _ = write!(
            s,
            "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{W}\" y2=\"{y:.1}\" class=\"grid\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"end\">{}{}</text>",
            LEFT - 6.0,
            y + 4.0,
            fmt_num(v),
            esc(unit)
        );
    }
    s
}

/// The top of a count axis: four equal steps of a whole, round number (1, 2, 5 × 10ⁿ,
/// or 25 × 10ⁿ), the smallest that reaches `v`, so every tick is a whole number.
fn count_top(v: f64) -> f64 {
    let need = (v.max(1.0) / 4.0).ceil();
    let mut magnitude = 1.0;
    loop {
        for m in [1.0, 2.0, 2.5, 5.0] {
            let step = m * magnitude;
            if step >= need && (step.fract() == 0.0) {
                return step * 4.0;
            }
        }
        magnitude *= 10.0;
    }
}

/// ISO weeks as the report keys them (`2025-W03`).
fn week_key(d: NaiveDate) -> String {
    let w = d.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// Every ISO week the window touches, oldest first, each with whether the window covers
/// only part of it (it starts after Monday or ends before Sunday). Labels of partial weeks
/// end in `*`.
pub fn window_weeks(from: &str, to: &str) -> Vec<(String, String)> {
    let (Ok(from), Ok(to)) = (
        NaiveDate::parse_from_str(from, "%Y-%m-%d"),
        NaiveDate::parse_from_str(to, "%Y-%m-%d"),
    ) else {
        return Vec::new();
    };
    let mut monday = from - Duration::days(i64::from(from.weekday().num_days_from_monday()));
    let mut out = Vec::new();
    while monday <= to && out.len() < 600 {
        let sunday = monday + Duration::days(6);
        let key = week_key(monday);
        let partial = from > monday || to < sunday;
        let label = if partial {
            format!("{key}*")
        } else {
            key.clone()
        };
        out.push((key, label));
        monday += Duration::days(7);
    }
    out
}

/// A label per bar; with many, only every `step`-th is shown.
fn short_label(label: &str, index: usize, count: usize) -> String {
    let step = count.div_ceil(10).max(1);
    if !index.is_multiple_of(step) {
        return String::new();
    }
    label.to_string()
}

/// The backlog buckets in age order (the report keeps them in a map).
pub const BACKLOG_ORDER: [&str; 5] = ["0-1d", "1-3d", "3-7d", "7-30d", "30d+"];

fn fmt_num(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// Vertical bars with a label under each and the value on top.
pub fn bar_chart(
    title: &str,
    bars: &[(String, f64)],
    unit: &str,
    max: Option<f64>,
    colors: &[&str],
) -> String {
    let mut s = svg_open(title);
    // Without a fixed top (percentages), the bars are counts: whole-number ticks.
    let top = max.unwrap_or_else(|| count_top(bars.iter().map(|b| b.1).fold(0.0, f64::max)));
    s.push_str(&y_axis(top, unit));
    let n = bars.len().max(1) as f64;
    let slot = (W - LEFT - 8.0) / n;
    let width = (slot * 0.62).min(56.0);
    for (i, (label, value)) in bars.iter().enumerate() {
        let x = LEFT + 4.0 + slot * i as f64 + (slot - width) / 2.0;
        let h = (H - BOTTOM - TOP) * (value / top).clamp(0.0, 1.0);
        let y = H - BOTTOM - h;
        let color = colors
            .get(i % colors.len().max(1))
            .copied()
            .unwrap_or(ACCENT);
        let _ = write!(
            s,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{width:.1}\" height=\"{h:.1}\" rx=\"3\" fill=\"{color}\"/>\
             <text x=\"{cx:.1}\" y=\"{:.1}\" class=\"value\" text-anchor=\"middle\">{}{}</text>\
             <text x=\"{cx:.1}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"middle\">{}</text>",
            y - 5.0,
            fmt_num(*value),
            esc(unit),
            H - BOTTOM + 16.0,
            esc(&short_label(label, i, bars.len())),
            cx = x + width / 2.0
        );
    }
    s.push_str("</svg>");
    s
}

/// Horizontal bars, one per row, longest first as given.
pub fn hbar_chart(title: &str, bars: &[(String, f64)], unit: &str) -> String {
    let mut s = svg_open(title);
    let max = bars.iter().map(|b| b.1).fold(0.0, f64::max).max(1.0);
    let label_w = 190.0;
    let row = ((H - TOP - 8.0) / bars.len().max(1) as f64).min(34.0);
    for (i, (label, value)) in bars.iter().enumerate() {
        let y = TOP + 6.0 + row * i as f64;
        let w = (W - label_w - 50.0) * value / max;
        let short: String = if label.chars().count() > 28 {
            label.chars().take(27).collect::<String>() + "…"
        } else {
            label.clone()
        };
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"end\">{}</text>\
             <rect x=\"{label_w}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{:.1}\" rx=\"3\" fill=\"{ACCENT}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" class=\"value\">{}{}</text>",
            label_w - 8.0,
            y + row * 0.45 + 4.0,
            esc(&short),
            row * 0.7,
            label_w + w + 6.0,
            y + row * 0.45 + 4.0,
            fmt_num(*value),
            esc(unit)
        );
    }
    if bars.is_empty() {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"middle\">no data</text>",
            W / 2.0,
            H / 2.0
        );
    }
    s.push_str("</svg>");
    s
}

/// A line through the points that have a value, with a dot and value at each.
/// `notes` (if any) go under the labels, e.g. how many values a point stands for.
pub fn line_chart(
    title: &str,
    points: &[(String, Option<f64>)],
    notes: &[String],
    unit: &str,
    max: f64,
) -> String {
    let mut s = svg_open(title);
    s.push_str(&y_axis(max, unit));
    let n = points.len().max(1) as f64;
    let slot = (W - LEFT - 8.0) / n;
    let xy: Vec<(f64, f64, f64)> = points
        .iter()
        .enumerate()
        .filter_map(|(i, (_, v))| {
            v.map(|v| {
                let x = LEFT + 4.0 + slot * (i as f64 + 0.5);
                (
                    x,
                    H - BOTTOM - (H - BOTTOM - TOP) * (v / max).clamp(0.0, 1.0),
                    v,
                )
            })
        })
        .collect();
    if xy.len() > 1 {
        let path: Vec<String> = xy
            .iter()
            .map(|(x, y, _)| format!("{x:.1},{y:.1}"))
            .collect();
        let _ = write!(
            s,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{GOOD}\" stroke-width=\"2.5\"/>",
            path.join(" ")
        );
    }
    for (x, y, v) in &xy {
        let _ = write!(
            s,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"{GOOD}\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" class=\"value\" text-anchor=\"middle\">{}{}</text>",
            y - 8.0,
            fmt_num(*v),
            esc(unit)
        );
    }
    for (i, (label, _)) in points.iter().enumerate() {
        let x = LEFT + 4.0 + slot * (i as f64 + 0.5);
        let shown = short_label(label, i, points.len());
        let _ = write!(
            s,
            "<text x=\"{x:.1}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"middle\">{}</text>",
            H - BOTTOM + 16.0,
            esc(&shown)
        );
        if let Some(note) = notes.get(i).filter(|_| !shown.is_empty()) {
            let _ = write!(
                s,
                "<text x=\"{x:.1}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"middle\">{}</text>",
                H - BOTTOM + 30.0,
                esc(note)
            );
        }
    }
    if xy.is_empty() {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"middle\">no ratings</text>",
            W / 2.0,
            H / 2.0
        );
    }
    s.push_str("</svg>");
    s
}

fn pct(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:.1}%"))
}

fn minutes(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(m) if m < 120.0 => format!("{} min", fmt_num(m)),
        Some(m) => format!("{:.1} h", m / 60.0),
    }
}

fn spread_min(s: &Spread) -> String {
    format!("{} / {}", minutes(s.median), minutes(s.p90))
}

fn spread_h(s: &Spread) -> String {
    format!(
        "{} / {}",
        s.median.map_or("–".into(), |v| format!("{v:.1} h")),
        s.p90.map_or("–".into(), |v| format!("{v:.1} h"))
    )
}

/// The metrics table, one row per metric (every metric of the JSON), one column per group
/// (all cases first), so it stays readable on a narrow screen with few groups and scrolls
/// sideways with many.
fn metrics_table(groups: &[(&str, &Metrics)]) -> String {
    type Cell = fn(&Metrics) -> String;
    let rows: [(&str, Cell); 17] = [
        ("Cases", |m| m.cases.to_string()),
        ("First response, median / p90", |m| {
            spread_min(&m.first_response_minutes)
        }),
        ("First response (business time), median / p90", |m| {
            spread_min(&m.first_response_business_minutes)
        }),
        ("First resolution, median / p90", |m| {
            spread_h(&m.first_resolution_hours)
        }),
        ("Full resolution, median / p90", |m| {
            spread_h(&m.full_resolution_hours)
        }),
        ("SLA acknowledge", |m| sla_cell(m, "acknowledge")),
        ("SLA update", |m| sla_cell(m, "update")),
        ("SLA resolution", |m| sla_cell(m, "resolution")),
        ("SLA follow-up", |m| sla_cell(m, "follow_up")),
        ("ETA kept", |m| {
            format!(
                "{} ({} kept, {} missed)",
                pct(m.eta.percent),
                m.eta.met,
                m.eta.breached
            )
        }),
        ("Reopened", |m| pct(m.reopen_rate_percent)),
        ("Escalated", |m| pct(m.escalation_rate_percent)),
        ("One-touch resolution", |m| pct(m.one_touch_percent)),
        ("Follow-up done", |m| pct(m.follow_up_done_percent)),
        ("CSAT", |m| pct(m.csat_percent)),
        ("Rated", |m| m.rated.to_string()),
        ("Response rate", |m| pct(m.response_rate_percent)),
    ];
    let head: String = groups
        .iter()
        .map(|(name, _)| format!("<th scope=\"col\">{}</th>", esc(name)))
        .collect();
    let body: String = rows
        .iter()
        .map(|(label, cell)| {
            let cells: String = groups
                .iter()
                .map(|(_, m)| format!("<td>{}</td>", esc(&cell(m))))
                .collect();
            format!("<tr><th scope=\"row\">{}</th>{cells}</tr>", esc(label))
        })
        .collect();
    format!(
        "<div class=\"scroll\"><table class=\"metrics\"><tr><th scope=\"col\">Metric</th>{head}</tr>{body}</table></div>"
    )
}

/// An SLA cell: the per-case share, then the counts behind it.
fn sla_cell(m: &Metrics, target: &str) -> String {
    m.sla.get(target).map_or("–".into(), |a| {
        format!(
            "{} ({} of {} cases; {} of {} instances)",
            pct(a.percent),
            a.met,
            a.met + a.breached,
            a.instances.met,
            a.instances.met + a.instances.breached
        )
    })
}

/// The achievement goal SLA bars are coloured against, and the line below which a target
/// is called off track.
const SLA_GOAL: f64 = 90.0;
const SLA_WATCH: f64 = 75.0;

/// SLA achievement bars coloured against the goal, with the goal line and a legend.
fn sla_chart(bars: &[(String, f64)]) -> String {
    let colors: Vec<&str> = bars
        .iter()
        .map(|(_, p)| {
            if *p >= SLA_GOAL {
                GOOD
            } else if *p >= SLA_WATCH {
                ACCENT
            } else {
                BAD
            }
        })
        .collect();
    let chart = bar_chart(
        "SLA achievement per target",
        bars,
        "%",
        Some(100.0),
        &colors,
    );
    let goal_y = H - BOTTOM - (H - BOTTOM - TOP) * SLA_GOAL / 100.0;
    let mut extra = format!(
        "<line x1=\"{LEFT}\" y1=\"{goal_y:.1}\" x2=\"{W}\" y2=\"{goal_y:.1}\" stroke=\"#1d2433\" stroke-dasharray=\"4 3\"/>"
    );
    let legend = [
        (GOOD, format!("≥ {SLA_GOAL:.0}% (goal)")),
        (ACCENT, format!("{SLA_WATCH:.0}–{SLA_GOAL:.0}%")),
        (BAD, format!("< {SLA_WATCH:.0}%")),
    ];
    // Beside the title (about 210 units wide at its size), right-aligned in the chart.
    let mut x = 268.0;
    for (color, text) in legend {
        let _ = write!(
            extra,
            "<rect x=\"{x:.1}\" y=\"6\" width=\"10\" height=\"10\" rx=\"2\" fill=\"{color}\"/>\
             <text x=\"{:.1}\" y=\"15\" class=\"axis\">{}</text>",
            x + 14.0,
            esc(&text)
        );
        x += 26.0 + 6.5 * text.chars().count() as f64;
    }
    let _ = write!(
        extra,
        "<text x=\"{W}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"end\">goal</text>",
        goal_y - 3.0
    );
    chart.replacen("</svg>", &(extra + "</svg>"), 1)
}

/// The whole page.
pub fn review_html(r: &ReviewReport, title: &str) -> String {
    let m = &r.overall;
    let card = |label: &str, value: String, note: String| {
        format!("<div class=\"card\"><div class=\"label\">{}</div><div class=\"kpi\">{}</div><div class=\"note\">{}</div></div>", esc(label), esc(&value), esc(&note))
    };
    let cards = [
        card(
            "Cases resolved",
            m.cases.to_string(),
            format!("{} to {}", r.from, r.to),
        ),
        card(
            "First response",
            minutes(m.first_response_minutes.median),
            format!("median; p90 {}", minutes(m.first_response_minutes.p90)),
        ),
        card(
            "SLA: acknowledge",
            pct(m.sla.get("acknowledge").and_then(|a| a.percent)),
            "met ÷ (met + breached)".into(),
        ),
        card(
            "ETA kept",
            pct(m.eta_kept_percent),
            "promised resolution times".into(),
        ),
        card(
            "Reopened",
            pct(m.reopen_rate_percent),
            format!("escalated {}", pct(m.escalation_rate_percent)),
        ),
        card(
            "CSAT",
            pct(m.csat_percent),
            format!(
                "{} rated; response rate {}",
                m.rated,
                pct(m.response_rate_percent)
            ),
        ),
    ]
    .join("");

    let mut sla: Vec<(String, f64)> = m
        .sla
        .iter()
        .filter_map(|(k, a)| a.percent.map(|p| (k.replace('_', "-"), p)))
        .collect();
    if let Some(eta) = m.eta_kept_percent {
        sla.push(("eta".into(), eta));
    }
    let weeks = window_weeks(&r.from, &r.to);
    let partial = weeks.iter().any(|(_, label)| label.ends_with('*'));
    let charts = [
        sla_chart(&sla),
        bar_chart(
            "First response time",
            &r.first_response_histogram
                .iter()
                .map(|(l, c)| (l.to_string(), *c as f64))
                .collect::<Vec<_>>(),
            "",
            None,
            &[ACCENT],
        ),
        bar_chart(
            "Cases resolved per week",
            &weeks
                .iter()
                .map(|(key, label)| {
                    let n = r.resolved_per_week.get(key).copied().unwrap_or(0);
                    (label.clone(), n as f64)
                })
                .collect::<Vec<_>>(),
            "",
            None,
            &[ACCENT],
        ),
        line_chart(
            "CSAT per week",
            &weeks
                .iter()
                .map(|(key, label)| (label.clone(), r.csat_per_week.get(key).copied().flatten()))
                .collect::<Vec<_>>(),
            &weeks
                .iter()
                .map(|(key, _)| format!("n={}", r.ratings_per_week.get(key).copied().unwrap_or(0)))
                .collect::<Vec<_>>(),
            "%",
            100.0,
        ),
        hbar_chart(
            "Top root causes (cases)",
            &r.root_causes
                .iter()
                .take(6)
                .map(|rc| (rc.root_cause.clone(), rc.cases as f64))
                .collect::<Vec<_>>(),
            "",
        ),
    ]
    .iter()
    .map(|svg| format!("<figure>{svg}</figure>"))
    .collect::<String>();

    let mut groups: Vec<(&str, &Metrics)> = vec![("All cases", m)];
    if let Some(by) = &r.by {
        groups.extend(by.iter().map(|(k, g)| (k.as_str(), g)));
    }
    let metrics = metrics_table(&groups);
    let weeks_note = if partial {
        "<p class=\"note\">* a partial week: the window covers only part of it. Weeks are ISO weeks (Monday to Sunday) in the calendar's zone.</p>"
    } else {
        "<p class=\"note\">Weeks are ISO weeks (Monday to Sunday) in the calendar's zone.</p>"
    };
    let roots: String = r
        .root_causes
        .iter()
        .map(|rc| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&rc.root_cause),
                rc.cases,
                rc.customers,
                if rc.systemic { "systemic" } else { "–" }
            )
        })
        .collect();
    let findings: String = r
        .findings
        .iter()
        .map(|f| {
            let actions: String = f.actions.iter().map(|a| format!("<li>{}</li>", esc(a))).collect();
            let tags: String = f.tags.iter().map(|t| format!("<span class=\"tag\">{}</span>", esc(t))).collect();
            format!("<div class=\"finding\"><div><b>{}</b> {tags}</div><p>{}</p><ul>{actions}</ul></div>", esc(&f.case), esc(&f.finding))
        })
        .collect();
    let backlog: String = BACKLOG_ORDER
        .iter()
        .map(|k| format!("<td>{}</td>", r.backlog.get(k).copied().unwrap_or(0)))
        .collect();
    let backlog_head: String = BACKLOG_ORDER
        .iter()
        .map(|k| format!("<th scope=\"col\">{k}</th>"))
        .collect();
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body{{font-family:-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;margin:0;background:#f5f7fb;color:#1d2433}}
header{{background:#1d2433;color:#fff;padding:24px 40px}} header h1{{margin:0;font-size:24px}} header p{{margin:6px 0 0;color:#b8c1d6}}
main{{padding:24px 40px;max-width:1180px}}
.cards{{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:14px}}
.card{{background:#fff;border-radius:10px;padding:14px 16px;box-shadow:0 1px 3px rgba(0,0,0,.08)}}
.label{{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#5b6478}} .kpi{{font-size:28px;font-weight:600;margin:4px 0}} .note{{font-size:12px;color:#7a8294}}
.charts{{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(500px,100%),1fr));gap:16px;margin-top:20px}}
.scroll{{overflow-x:auto;border-radius:10px}} .metrics td{{white-space:nowrap}} .metrics th[scope=row]{{min-width:150px}} p.note{{font-size:12px;color:#5b6478}}
@media (max-width:760px){{header{{padding:18px 16px}} main{{padding:16px}} footer{{padding:0 16px 24px}} .kpi{{font-size:24px}}}}
figure{{margin:0;background:#fff;border-radius:10px;padding:12px 14px;box-shadow:0 1px 3px rgba(0,0,0,.08)}}
svg{{width:100%;height:auto}} svg .title{{font-size:14px;font-weight:600;fill:#1d2433}} svg .axis{{font-size:11px;fill:#5b6478}} svg .value{{font-size:11px;fill:#1d2433}} svg .grid{{stroke:#e6e9f0;stroke-width:1}}
h2{{font-size:17px;margin:28px 0 10px}}
table{{border-collapse:collapse;background:#fff;border-radius:10px;overflow:hidden;box-shadow:0 1px 3px rgba(0,0,0,.08);width:100%}}
th,td{{text-align:left;padding:8px 12px;border-bottom:1px solid #eef0f5;font-size:13px}} th{{background:#f0f3f9;font-weight:600}}
.finding{{background:#fff;border-radius:10px;padding:12px 16px;margin-bottom:10px;box-shadow:0 1px 3px rgba(0,0,0,.08)}} .finding p{{margin:6px 0}}
.tag{{background:#e8eefc;color:#2f6fde;border-radius:10px;padding:1px 8px;font-size:12px;margin-left:6px}}
footer{{color:#7a8294;font-size:12px;padding:0 40px 30px}}
</style></head>
<body><header><h1>{title}</h1><p>Cases resolved from {from} to {to} · generated by casebook</p></header>
<main>
<section class="cards">{cards}</section>
<section class="charts">{charts}</section>
{weeks_note}
<h2>Metrics</h2>
{metrics}
<p class="note">SLA: a case breached a target if any instance of it was breached (every update clock, every resolve's follow-up); met ÷ (met + breached), running ones left out. Bars: green at or above the {SLA_GOAL:.0}% goal, blue from {SLA_WATCH:.0}%, red below.</p>
<h2>Root causes</h2>
<div class="scroll"><table><tr><th scope="col">Root cause</th><th scope="col">Cases</th><th scope="col">Customers</th><th scope="col">Scope</th></tr>{roots}</table></div>
<h2>Open backlog by age</h2>
<div class="scroll"><table><tr>{backlog_head}</tr><tr>{backlog}</tr></table></div>
<h2>Review findings</h2>
{findings_or_none}
</main>
<footer>Definitions: README.md, "Review". Medians and percentiles interpolate between closest ranks, as a spreadsheet's MEDIAN() and PERCENTILE.INC() do.</footer>
</body></html>
"#,
        title = esc(title),
        from = esc(&r.from),
        to = esc(&r.to),
        findings_or_none = if findings.is_empty() {
            "<p>No findings recorded yet.</p>".to_string()
        } else {
            findings
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_axes_have_whole_number_ticks_and_weeks_keep_their_year() {
        // The top is 4 whole steps: 1 → 4 (step 1), 5 → 8 (2), 9 → 20 (5), 41 → 80 (20),
        // 81 → 100 (25), 0 → 4.
        for (v, top) in [
            (1.0, 4.0),
            (5.0, 8.0),
            (9.0, 20.0),
            (41.0, 80.0),
            (81.0, 100.0),
            (0.0, 4.0),
        ] {
            assert_eq!(count_top(v), top, "{v}");
            assert_eq!((count_top(v) / 4.0).fract(), 0.0);
        }
        assert_eq!(short_label("2026-W07", 0, 3), "2026-W07");
        assert_eq!(
            short_label("2026-W08", 1, 25),
            "",
            "every third label of 25"
        );
        // Mon 13 – Fri 17 January 2025: one week, partial (no weekend).
        assert_eq!(
            window_weeks("2025-01-13", "2025-01-17"),
            [("2025-W03".to_string(), "2025-W03*".to_string())]
        );
        // Across the new year: 2024-12-30 is in 2025-W01; a whole week has no mark.
        assert_eq!(
            window_weeks("2024-12-23", "2025-01-05"),
            [
                ("2024-W52".to_string(), "2024-W52".to_string()),
                ("2025-W01".to_string(), "2025-W01".to_string())
            ]
        );
        assert_eq!(
            window_weeks("2025-01-15", "2025-01-20")
                .iter()
                .map(|w| w.1.as_str())
                .collect::<Vec<_>>(),
            ["2025-W03*", "2025-W04*"]
        );
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
