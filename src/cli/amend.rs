use super::{recorded, text, Globals};
use crate::error::Result;

/// Correct the text of an earlier event (a typo in a message, a wrong answer)
///
/// Records a `correct` event that names the original; the original stays in the history
/// as it was. `show` displays the corrected text marked "edited"; JSON keeps both.
/// `casebook show ID` prints each event's id.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook amend CB-7KQ2 EV-01 --message \"Dear Ada, the roller ships today.\""
)]
pub struct Args {
    /// Case ID, or any unique start of the part after the dash
    id: String,
    /// The event to correct (its 12-character id)
    event: String,
    /// The corrected message
    #[arg(long, value_name = "TEXT")]
    message: Option<String>,
    /// The corrected summary of a logged interaction
    #[arg(long, value_name = "TEXT")]
    summary: Option<String>,
    /// The corrected outcome of a logged interaction
    #[arg(long, value_name = "TEXT")]
    outcome: Option<String>,
    /// The corrected question
    #[arg(long, value_name = "TEXT")]
    question: Option<String>,
    /// The corrected answer
    #[arg(long, value_name = "TEXT")]
    answer: Option<String>,
    /// The corrected note
    #[arg(long, value_name = "TEXT")]
    note: Option<String>,
    /// The corrected finding
    #[arg(long, value_name = "TEXT")]
    finding: Option<String>,
    /// The corrected root cause
    #[arg(long, value_name = "TEXT")]
    root_cause: Option<String>,
    /// The corrected resolution
    #[arg(long, value_name = "TEXT")]
    resolution: Option<String>,
    /// The corrected feedback
    #[arg(long, value_name = "TEXT")]
    feedback: Option<String>,
    /// The corrected reason
    #[arg(long, value_name = "TEXT")]
    reason: Option<String>,
    /// The corrected description
    #[arg(long, value_name = "TEXT")]
    description: Option<String>,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let (cb, ctx) = g.writer()?;
    let mut texts = text::Texts::new(&cb)?;
    let given = [
        ("message", args.message),
        ("summary", args.summary),
        ("outcome", args.outcome),
        ("question", args.question),
        ("answer", args.answer),
        ("note", args.note),
        ("finding", args.finding),
        ("root_cause", args.root_cause),
        ("resolution", args.resolution),
        ("feedback", args.feedback),
        ("reason", args.reason),
        ("description", args.description),
    ];
    let mut fields = Vec::new();
    for (name, value) in given {
        let flag = format!("--{}", name.replace('_', "-"));
        if let Some(v) = texts.resolve(&flag, value)? {
            fields.push((name, v));
        }
    }
    let rec = cb.amend(&ctx, &args.id, &args.event, &fields)?;
    recorded(g, &cb, &ctx, rec)
}
