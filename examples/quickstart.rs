//! casebook in one run: create a case book, take a customer's case through every step of
//! the SOP, and show the result, using the library API (each call here is what one
//! `casebook` command does).
//!
//!     cargo run --release --example quickstart            # in a new temporary folder
//!     cargo run --release --example quickstart -- ./demo  # or in a folder you choose

use std::path::PathBuf;

use casebook::model::{Actor, Channel, Priority};
use casebook::ops::{
    Casebook, Context, FollowUpResponse, GatherInput, InitOptions, ListFilter, NewCase,
};
use casebook::render::{history_table, list_table, show_text, Style};
use chrono::{Duration, Utc};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = match std::env::args().nth(1) {
        Some(dir) => PathBuf::from(dir),
        None => std::env::temp_dir().join(format!("casebook-quickstart-{}", std::process::id())),
    };
    let agent = Actor::parse("Dana Agent <dana@example.com>")?;
    let lead = Actor::parse("Sam Supervisor <sam@example.com>")?;
    // The story starts two days ago; every step moves the clock on a little.
    // The story starts at 09:00 (Berlin) two days ago; the ETA promised is the next day 16:00.
    let berlin = chrono_tz::Europe::Berlin;
    let today = Utc::now().with_timezone(&berlin).date_naive();
    let nine = (today - Duration::days(2))
        .and_hms_opt(9, 0, 0)
        .expect("09:00 exists");
    let start = nine
        .and_local_timezone(berlin)
        .earliest()
        .ok_or("09:00 is in a DST gap")?
        .with_timezone(&Utc);
    let eta = (start + Duration::days(1) + Duration::hours(7)).to_rfc3339();
    let mut now = start;
    let mut at = |who: &Actor, minutes: i64| {
        now += Duration::minutes(minutes);
        Context {
            actor: who.clone(),
            now,
            worked_minutes: None,
        }
    };

    let (cb, _) = Casebook::init(
        &dir,
        &InitOptions {
            timezone: Some("Europe/Berlin".into()),
            ..Default::default()
        },
        &at(&agent, 0),
    )?;
    println!("A case book (a git repository) in {}\n", dir.display());

    // 1. Assign a unique case number to every inquiry.
    let id = cb.open_case(
        &at(&agent, 5),
        &NewCase {
            customer: "Ada Lovelace".into(),
            email: Some("ada@example.com".into()),
            subject: "Printer jams on every second page".into(),
            product: Some("LaserJet 9".into()),
            priority: Some(Priority::High),
            description: Some("Since Monday the printer jams on every second page.".into()),
            ..Default::default()
        },
    )?;
    for (customer, phone, subject) in [
        (
            "Grace Hopper",
            "+1 555 0100 42",
            "Invoice shows the wrong address",
        ),
        (
            "Alan Turing",
            "+44 20 7946 0958",
            "Cannot log in to the portal",
        ),
    ] {
        cb.open_case(
            &at(&agent, 3),
            &NewCase {
                customer: customer.into(),
                phone: Some(phone.into()),
                subject: subject.into(),
                channel: Some(Channel::Phone),
                ..Default::default()
            },
        )?;
    }

    // Working as a team: the agent takes the case and tags it.
    let mine = casebook::ops::Targets::one(id.as_str());
    cb.assign(&at(&agent, 1), &mine, Some(&agent))?;
    cb.tag(&at(&agent, 1), &mine, &["+printer".to_string()])?;

    // 2. Acknowledge within one business day: the template speaks to the customer by name.
    let ack = cb.acknowledge(&at(&agent, 20), id.as_str(), None, None)?;
    println!(
        "Acknowledgement sent to the customer:\n\n{}\n",
        indent(ack.event.payload.message().unwrap_or(""))
    );

    // 3. Gather the facts; 4. research the root cause.
    cb.gather(
        &at(&agent, 30),
        id.as_str(),
        &GatherInput {
            question: Some("Does it happen with every paper tray?".into()),
            answer: Some("Only with tray 2.".into()),
            phone: Some("+49 30 1234567".into()),
            ..Default::default()
        },
    )?;
    cb.research(
        &at(&agent, 60),
        id.as_str(),
        Some("Tray 2 pickup roller is worn; known issue on this model".into()),
        Some("Worn pickup roller in tray 2".into()),
        Some("systemic"),
        &[],
    )?;

    // 5. Tell the customer when to expect a resolution, and keep them updated.
    let update = cb.update(&at(&agent, 10), id.as_str(), None, Some(&eta), None)?;
    println!(
        "Timeline update sent:\n\n{}\n",
        indent(update.event.payload.message().unwrap_or(""))
    );

    // 6. Escalate when it cannot be resolved at your level.
    cb.escalate(
        &at(&agent, 15),
        id.as_str(),
        "Replacement part needs approval",
        Some("Sam Supervisor".into()),
        false,
    )?;
    cb.log(
        &at(&lead, 40),
        id.as_str(),
        "Approved the replacement roller; courier booked",
        &["Dana Agent".into()],
        Some(Channel::Phone),
        Some("internal"),
        Some("Part ships today".into()),
        None,
    )?;
    cb.deescalate(&at(&lead, 5), id.as_str(), "Approved; back to the agent")?;

    // 7. Resolve, then follow up to confirm satisfaction and collect feedback.
    cb.resolve(
        &at(&agent, 60 * 21 + 55),
        id.as_str(),
        "Replaced the tray 2 pickup roller on site",
        None,
    )?;
    cb.follow_up(
        &at(&agent, 60 * 5),
        id.as_str(),
        FollowUpResponse::Satisfied,
        Some(5),
        Some("Quick and friendly, thank you!".into()),
        None,
    )?;

    // 8. Review resolved cases to improve: record what the team learned.
    cb.record_review(
        &at(&lead, 60),
        id.as_str(),
        "Tray 2 roller wear is a known issue that the first answer did not mention",
        &["Add the roller check to the printer troubleshooting guide".into()],
        &["knowledge-base".into()],
    )?;

    // 9. Every interaction is documented: the case, and its audit trail in git.
    let config = cb.config()?;
    let style = Style::plain();
    let (case, _) = cb.show(id.as_str())?;
    let sla = casebook::model::commitment::evaluate(&case, &config, now);
    println!("{}", show_text(&case, &config, &sla, style, false));
    let (_, history) = cb.history(id.as_str())?;
    println!(
        "History (one git commit per action):\n{}",
        history_table(&id, &history, &config, style)
    );
    println!(
        "All cases:\n{}",
        list_table(
            &cb.list(
                &ListFilter {
                    all: true,
                    ..Default::default()
                },
                Default::default(),
                None,
                now
            )?
            .cases,
            &config,
            style
        )
    );
    let review = cb.review_report(now, None, None, None, &Default::default())?;
    let m = &review.overall;
    println!(
        "Review of the last 30 days: {} case(s) resolved, first response median {:.0} min, CSAT {:.0}%, {} finding(s) recorded\n",
        m.cases,
        m.first_response_minutes.median.unwrap_or_default(),
        m.csat_percent.unwrap_or_default(),
        review.findings.len()
    );
    println!("Try it yourself:");
    println!("  cargo install --path .   # or: alias casebook='cargo run --release --quiet --'");
    println!(
        "  cd {} && git log --stat -3 && casebook list",
        dir.display()
    );
    Ok(())
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
