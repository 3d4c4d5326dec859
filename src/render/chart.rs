//! The SVG charts of the review page: bars, horizontal bars, a line, and the SLA chart
//! with its goal. Layout only; values come in ready to draw.

use std::fmt::Write as _;

use chrono::{Datelike, Duration, NaiveDate};

use super::report::esc;

const W: f64 = 520.0;
const H: f64 = 240.0;
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 40.0;
const TOP: f64 = 44.0;
pub(super) const ACCENT: &str = "#2f6fde";
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

pub(super) fn fmt_num(v: f64) -> String {
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

/// The achievement goal SLA bars are coloured against, and the line below which a target
/// is called off track.
pub(super) const SLA_GOAL: f64 = 90.0;
pub(super) const SLA_WATCH: f64 = 75.0;

/// SLA achievement bars coloured against the goal, with the goal line and a legend.
pub(super) fn sla_chart(bars: &[(String, f64)]) -> String {
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
    }
}
