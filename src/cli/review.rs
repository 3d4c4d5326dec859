use super::{print, print_json, write_stdout, Globals};
use crate::error::{Error, Result};
use crate::model::review::Spread;
use crate::ops::{GroupBy, ReviewReport};

/// Review resolved cases: metrics for a period, the review queue, recorded findings
///
/// `casebook review` reports on the cases whose last resolution falls in the window
/// (--from/--to, whole days in the case book's zone; default the last 30 days): first
/// response time, SLA achievement, ETA kept, resolution times, reopen and escalation rates,
/// one-touch resolution, follow-up done, CSAT and response rate, backlog by age, and root
/// causes ranked by cases and customers affected. `--queue` lists resolved and closed cases
/// not yet reviewed, those that deserve a look first at the top. `review ID --finding ...`
/// records a reviewer's findings and improvement actions (one commit).
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook review\n  casebook review --from 2026-11-01 --to 2026-11-30 --by agent\n  casebook review --queue\n  casebook review CB-7KQ2 --finding \"First answer missed the roller\" --action \"Update the guide\" --tag kb"
)]
pub struct Args {
    /// A case to record findings on (with --finding)
    id: Option<String>,
    /// First day of the window: 2026-11-01, "monday", "30 days ago" (in the book's zone)
    #[arg(long, value_name = "DATE")]
    from: Option<String>,
    /// Last day of the window, in the same forms [default: today]
    #[arg(long, value_name = "DATE")]
    to: Option<String>,
    /// Break the metrics down by this (agent: who recorded the last resolve; owner: who
    /// owned the case then)
    #[arg(long, value_parser = ["agent", "owner", "product", "priority", "channel"])]
    by: Option<String>,
    /// The report as CSV: one row for all cases, then one per group
    #[arg(long, conflicts_with = "queue")]
    csv: bool,
    /// Also write the report as one self-contained HTML page with charts
    #[arg(long, value_name = "FILE", conflicts_with = "queue")]
    html: Option<std::path::PathBuf>,
    /// List resolved and closed cases not yet reviewed
    #[arg(long, conflicts_with_all = ["id", "from", "to", "by"])]
    queue: bool,
    /// What the review found (with ID)
    #[arg(long, requires = "id")]
    finding: Option<String>,
    /// An improvement action decided on (repeat for several)
    #[arg(long = "action", value_name = "TEXT", requires = "finding")]
    actions: Vec<String>,
    /// With --finding: a tag for the finding. Otherwise: only cases with this tag (repeat:
    /// all must be there)
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    if let Some(id) = &args.id {
        let finding = args.finding.as_deref().ok_or_else(|| {
            Error::invalid("--finding", "recording a review needs --finding TEXT")
        })?;
        let (cb, ctx) = g.writer()?;
        let rec = cb.record_review(&ctx, id, finding, &args.actions, &args.tags)?;
        return super::recorded(g, &cb, &ctx, rec);
    }
    let cb = g.casebook()?;
    let now = g.now()?;
    if args.queue {
        let items = cb.review_queue(now)?;
        if g.json {
            return print_json(&serde_json::to_value(&items).expect("queue items serialise"));
        }
        let lines: Vec<String> = items
            .iter()
            .map(|i| {
                let why = if i.reasons.is_empty() {
                    "-".to_string()
                } else {
                    i.reasons.join(", ")
                };
                format!(
                    "{}  {:<8} {}  [{}]",
                    i.case,
                    i.status,
                    crate::render::safe_line(&crate::ops::one_line(&i.subject, 40)),
                    why
                )
            })
            .collect();
        if lines.is_empty() {
            eprintln!("nothing to review");
            return Ok(());
        }
        return print(&(lines.join("\n") + "\n"));
    }
    let by = args.by.as_deref().and_then(GroupBy::parse);
    let team = crate::model::team::TeamFilter {
        tags: args
            .tags
            .iter()
            .map(|t| crate::model::team::parse_tag(t).map_err(|e| Error::value("--tag", t, e)))
            .collect::<Result<Vec<_>>>()?,
        ..Default::default()
    };
    let report = cb.review_report(now, args.from.as_deref(), args.to.as_deref(), by, &team)?;
    if let Some(file) = &args.html {
        let path = g.start_dir().join(file);
        let page = crate::render::review_html(&report, "Case review");
        std::fs::write(&path, page).map_err(|source| Error::Io {
            action: "write",
            path: path.clone(),
            source,
        })?;
        eprintln!("wrote {}", path.display());
    }
    if g.json {
        return print_json(&serde_json::to_value(&report).expect("reports serialise"));
    }
    if args.csv {
        return write_csv(&report);
    }
    print(&text(&report))
}

fn num(v: Option<f64>, unit: &str) -> String {
    v.map_or("–".to_string(), |v| format!("{v:.1}{unit}"))
}

fn spread(s: &Spread, unit: &str) -> String {
    format!(
        "median {}, p90 {} (n={})",
        num(s.median, unit),
        num(s.p90, unit),
        s.count
    )
}

fn text(r: &ReviewReport) -> String {
    let m = &r.overall;
    let mut out = format!(
        "Review of cases resolved {} to {}: {} case(s)\n\n",
        r.from, r.to, m.cases
    );
    let mut line = |k: &str, v: String| out.push_str(&format!("  {k:<28}{v}\n"));
    line("first response", spread(&m.first_response_minutes, " min"));
    if m.worked_minutes.count > 0 {
        line(
            "time worked per case",
            format!(
                "{}; total {}",
                spread(&m.worked_minutes, " min"),
                crate::model::team::format_minutes(m.worked_minutes_total)
            ),
        );
    }
    line(
        "first response (business)",
        spread(&m.first_response_business_minutes, " min"),
    );
    line("first resolution", spread(&m.first_resolution_hours, " h"));
    line("full resolution", spread(&m.full_resolution_hours, " h"));
    for (target, a) in &m.sla {
        line(
            &format!("SLA {target}"),
            format!(
                "{} ({} met, {} breached; instances {} met, {} breached)",
                num(a.percent, "%"),
                a.met,
                a.breached,
                a.instances.met,
                a.instances.breached
            ),
        );
    }
    line(
        "ETA kept",
        format!(
            "{} ({} kept, {} missed)",
            num(m.eta.percent, "%"),
            m.eta.met,
            m.eta.breached
        ),
    );
    line("reopen rate", num(m.reopen_rate_percent, "%"));
    line("escalation rate", num(m.escalation_rate_percent, "%"));
    line("one-touch resolution", num(m.one_touch_percent, "%"));
    line("follow-up done", num(m.follow_up_done_percent, "%"));
    line(
        "CSAT",
        format!("{} of {} rated", num(m.csat_percent, "%"), m.rated),
    );
    line("response rate", num(m.response_rate_percent, "%"));
    let backlog: Vec<String> = crate::render::BACKLOG_ORDER
        .iter()
        .map(|k| format!("{k}: {}", r.backlog.get(k).copied().unwrap_or(0)))
        .collect();
    line("backlog by age (open now)", backlog.join(", "));
    if !r.root_causes.is_empty() {
        out.push_str("\nRoot causes (cases, customers)\n");
        for rc in r.root_causes.iter().take(10) {
            let systemic = if rc.systemic { "  systemic" } else { "" };
            out.push_str(&format!(
                "  {:>4} {:>4}  {}{systemic}\n",
                rc.cases,
                rc.customers,
                crate::render::safe_line(&rc.root_cause)
            ));
        }
    }
    if let Some(by) = &r.by {
        out.push_str(&format!(
            "\n{:<24}{:>6} {:>10} {:>8} {:>8} {:>8}\n",
            "GROUP", "CASES", "FRT MED", "REOPEN", "ESCAL", "CSAT"
        ));
        for (k, g) in by {
            out.push_str(&format!(
                "{:<24}{:>6} {:>10} {:>8} {:>8} {:>8}\n",
                crate::ops::one_line(k, 23),
                g.cases,
                num(g.first_response_minutes.median, "m"),
                num(g.reopen_rate_percent, "%"),
                num(g.escalation_rate_percent, "%"),
                num(g.csat_percent, "%")
            ));
        }
    }
    if !r.findings.is_empty() {
        out.push_str("\nFindings\n");
        for f in &r.findings {
            out.push_str(&format!("  {}: {}\n", f.case, f.finding));
            for a in &f.actions {
                out.push_str(&format!("    action: {a}\n"));
            }
        }
    }
    out
}

fn write_csv(r: &ReviewReport) -> Result<()> {
    let header = crate::render::review_csv_header();
    let rows = crate::render::review_csv_rows(r);
    write_stdout(|out| {
        let mut w = csv::Writer::from_writer(out);
        let result = w
            .write_record(&header)
            .and_then(|()| rows.iter().try_for_each(|r| w.write_record(r)));
        result.map_err(|e| match e.into_kind() {
            csv::ErrorKind::Io(io) => io,
            other => std::io::Error::other(format!("{other:?}")),
        })?;
        w.flush()
    })
}
