//! The review as one self-contained HTML page: inline CSS and SVG charts (drawn in
//! `chart`), no scripts, no fonts or images from the network. Only layout here; the
//! numbers come from ops::review.

use super::chart::{
    bar_chart, fmt_num, hbar_chart, line_chart, sla_chart, window_weeks, ACCENT, SLA_GOAL,
    SLA_WATCH,
};
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

/// The backlog buckets in age order (the report keeps them in a map).
pub const BACKLOG_ORDER: [&str; 5] = ["0-1d", "1-3d", "3-7d", "7-30d", "30d+"];

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
    fn free_text_is_escaped() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
