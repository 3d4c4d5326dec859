use super::{bulk, text, Globals};
use crate::error::Result;

/// Merge duplicate cases into one: each duplicate is closed as merged, the target links them
///
/// Nothing is copied or lost: each duplicate keeps its history, its commitments stop, and
/// `show` on it names the target. One commit for all. Refused for a case merged into itself
/// or into a closed case.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook merge CB-9QR2 --into CB-7KQ2 --reason \"Same printer jam, reported twice\"\n  casebook merge CB-9QR2 CB-3MT8 --into CB-7KQ2"
)]
pub struct Args {
    /// The duplicates (IDs or unique starts); `-` reads them from standard input
    #[arg(required = true, value_name = "DUP")]
    duplicates: Vec<String>,
    /// The case they duplicate, which stays
    #[arg(long, value_name = "TARGET")]
    into: String,
    /// Why (default: "duplicate of TARGET")
    #[arg(long, value_name = "TEXT")]
    reason: Option<String>,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let (cb, ctx) = g.writer()?;
    let mut texts = text::Texts::new(&cb)?;
    let targets = bulk::TargetArgs::default().targets_reading(args.duplicates, &mut texts)?;
    let reason = texts.resolve("--reason", args.reason)?;
    let done = cb.merge(&ctx, &targets.ids, &args.into, reason)?;
    bulk::report(g, &cb, &ctx, &done)
}
