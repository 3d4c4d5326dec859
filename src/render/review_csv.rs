//! The review as CSV: one row for all cases, then one per group, every metric of the JSON
//! (medians and p90s, per-case and per-instance SLA counts, ETAs kept and missed).

use crate::model::review::{Metrics, Spread, Tally};
use crate::ops::ReviewReport;

const TARGETS: [&str; 4] = ["acknowledge", "update", "resolution", "follow_up"];

/// The header row.
pub fn review_csv_header() -> Vec<String> {
    let mut h: Vec<String> = [
        "group",
        "cases",
        "frt_median_min",
        "frt_p90_min",
        "frt_business_median_min",
        "frt_business_p90_min",
        "first_resolution_median_h",
        "first_resolution_p90_h",
        "full_resolution_median_h",
        "full_resolution_p90_h",
    ]
    .map(String::from)
    .to_vec();
    for t in TARGETS {
        for part in [
            "pct",
            "met",
            "breached",
            "instances_met",
            "instances_breached",
        ] {
            h.push(format!("sla_{t}_{part}"));
        }
    }
    h.extend(
        [
            "eta_kept_pct",
            "eta_kept",
            "eta_missed",
            "reopen_rate_pct",
            "escalation_rate_pct",
            "one_touch_pct",
            "follow_up_done_pct",
            "csat_pct",
            "rated",
            "response_rate_pct",
        ]
        .map(String::from),
    );
    h
}

fn cell(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.4}")).unwrap_or_default()
}

fn row(name: &str, m: &Metrics) -> Vec<String> {
    let spread = |s: &Spread| [cell(s.median), cell(s.p90)];
    let mut r = vec![name.to_string(), m.cases.to_string()];
    r.extend(spread(&m.first_response_minutes));
    r.extend(spread(&m.first_response_business_minutes));
    r.extend(spread(&m.first_resolution_hours));
    r.extend(spread(&m.full_resolution_hours));
    for t in TARGETS {
        match m.sla.get(t) {
            Some(a) => r.extend([
                cell(a.percent),
                a.met.to_string(),
                a.breached.to_string(),
                a.instances.met.to_string(),
                a.instances.breached.to_string(),
            ]),
            None => r.extend(std::iter::repeat_n(String::new(), 5)),
        }
    }
    let Tally {
        met,
        breached,
        percent,
    } = &m.eta;
    r.extend([
        cell(*percent),
        met.to_string(),
        breached.to_string(),
        cell(m.reopen_rate_percent),
        cell(m.escalation_rate_percent),
        cell(m.one_touch_percent),
        cell(m.follow_up_done_percent),
        cell(m.csat_percent),
        m.rated.to_string(),
        cell(m.response_rate_percent),
    ]);
    r
}

/// The data rows: all cases, then each group.
pub fn review_csv_rows(r: &ReviewReport) -> Vec<Vec<String>> {
    let mut rows = vec![row("all", &r.overall)];
    if let Some(by) = &r.by {
        rows.extend(by.iter().map(|(k, m)| row(k, m)));
    }
    rows
}
