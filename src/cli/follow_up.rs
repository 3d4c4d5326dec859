use super::{text, Globals};
use crate::error::Result;
use crate::ops::FollowUpResponse;

/// Follow up after resolution: confirm satisfaction and ask for feedback
///
/// --satisfied closes the case; --not-satisfied reopens it (the resolution did not hold);
/// --no-answer records the attempt. Without --message, the follow-up template (asking for
/// feedback) is rendered, recorded and printed.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook follow-up CB-7KQ2 --satisfied --rating 5\n  casebook follow-up CB-7KQ2 --not-satisfied --feedback \"Still jams\"\n  casebook follow-up CB-7KQ2 --no-answer"
)]
#[command(group = clap::ArgGroup::new("answer").required(true).args(["satisfied", "not_satisfied", "no_answer"]))]
pub struct Args {
    /// Case IDs, or unique starts of them; several record the action on each, in one
    /// commit; `-` reads IDs from standard input, one per line
    #[arg(required = true, value_name = "ID")]
    ids: Vec<String>,
    #[command(flatten)]
    targets: super::bulk::TargetArgs,
    /// The customer confirmed the issue is resolved
    #[arg(long)]
    satisfied: bool,
    /// The customer says it is not resolved
    #[arg(long)]
    not_satisfied: bool,
    /// The customer did not answer (yet)
    #[arg(long)]
    no_answer: bool,
    /// The customer's rating of the service, 1 (poor) to 5 (excellent)
    #[arg(long)]
    rating: Option<u8>,
    /// The customer's feedback, in their words
    #[arg(long, num_args = 0..=1, default_missing_value = text::FROM_EDITOR, value_name = "TEXT")]
    feedback: Option<String>,
    /// The message sent (`-` reads standard input; no value opens $EDITOR)
    #[arg(long, num_args = 0..=1, default_missing_value = text::FROM_EDITOR, value_name = "TEXT")]
    message: Option<String>,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let (cb, ctx) = g.writer()?;
    let mut texts = text::Texts::new(&cb)?;
    let targets = args.targets.targets_reading(args.ids, &mut texts)?;
    let feedback = texts.resolve("--feedback", args.feedback)?;
    let message = texts.resolve("--message", args.message)?;
    let response = if args.satisfied {
        FollowUpResponse::Satisfied
    } else if args.not_satisfied {
        FollowUpResponse::NotSatisfied
    } else {
        FollowUpResponse::NoAnswer
    };
    let rec = cb.follow_up(&ctx, &targets, response, args.rating, feedback, message)?;
    super::bulk::report(g, &cb, &ctx, &rec)
}
