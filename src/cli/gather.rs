use std::path::PathBuf;

use super::{text, Globals};
use crate::error::Result;
use crate::ops::GatherInput;

/// Gather information: intake facts, questions asked and answers, notes, attachments
///
/// Each changed fact is recorded with its old and new value. Attachments are stored under
/// attachments/<ID>/ with a safe name and their content hash (limits in the config).
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook gather CB-7KQ2 --product \"LaserJet 4\" --incident-at \"yesterday 16:30\"\n  casebook gather CB-7KQ2 --question \"Which tray?\" --answer \"Tray 2\" --attach jam.jpg"
)]
pub struct Args {
    /// Case IDs, or unique starts of them; several record the action on each, in one
    /// commit; `-` reads IDs from standard input, one per line
    #[arg(required = true, value_name = "ID")]
    ids: Vec<String>,
    #[command(flatten)]
    targets: super::bulk::TargetArgs,
    /// Product or service involved
    #[arg(long)]
    product: Option<String>,
    /// When the problem happened, in the case book's zone: "yesterday 16:30", "2 hours ago",
    /// "2026-11-22 16:30", RFC 3339
    #[arg(long, value_name = "TIME")]
    incident_at: Option<String>,
    /// The problem, in full (`-` reads standard input; no value opens $EDITOR)
    #[arg(long, num_args = 0..=1, default_missing_value = text::FROM_EDITOR, value_name = "TEXT")]
    description: Option<String>,
    /// A new priority; SLA due times are recomputed from the original start
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(crate::model::Priority::KNOWN))]
    priority: Option<String>,
    /// A new or corrected e-mail address
    #[arg(long)]
    email: Option<String>,
    /// A new or corrected phone number
    #[arg(long)]
    phone: Option<String>,
    /// A question asked to the customer
    #[arg(long)]
    question: Option<String>,
    /// The customer's answer to --question
    #[arg(long, requires = "question", num_args = 0..=1, default_missing_value = text::FROM_EDITOR)]
    answer: Option<String>,
    /// A supporting document or screenshot (repeat for several)
    #[arg(long, value_name = "FILE")]
    attach: Vec<PathBuf>,
    /// A note for the record
    #[arg(long, num_args = 0..=1, default_missing_value = text::FROM_EDITOR, value_name = "TEXT")]
    note: Option<String>,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let (cb, ctx) = g.writer()?;
    let mut texts = text::Texts::new(&cb)?;
    let targets = args.targets.targets_reading(args.ids, &mut texts)?;
    let base = g.start_dir();
    let input = GatherInput {
        product: texts.check("--product", args.product)?,
        priority: args.priority,
        incident_at: args.incident_at,
        description: texts.resolve("--description", args.description)?,
        email: args.email,
        phone: args.phone,
        question: texts.check("--question", args.question)?,
        answer: texts.resolve("--answer", args.answer)?,
        attach: args.attach.into_iter().map(|p| base.join(p)).collect(),
        note: texts.resolve("--note", args.note)?,
    };
    let rec = cb.gather(&ctx, &targets, &input)?;
    super::bulk::report(g, &cb, &ctx, &rec)
}
