use super::{bulk, Globals};
use crate::error::{Error, Result};

/// Add and remove tags: `casebook tag ID... +billing -vip`
///
/// Each word starting with + adds a tag, each starting with - removes one; the other words
/// are case IDs (`-` alone reads IDs from standard input). A tag is letters, digits and
/// - _ . / : (lowercased). One `tag` event per case that changes, one commit for all.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook tag CB-7KQ2 +billing -vip\n  casebook tag - +vip < ids.txt"
)]
pub struct Args {
    /// Case IDs, then +TAG / -TAG changes, in any order
    #[arg(
        required = true,
        allow_hyphen_values = true,
        value_name = "ID|+TAG|-TAG"
    )]
    words: Vec<String>,
    #[command(flatten)]
    targets: bulk::TargetArgs,
}

pub fn run(g: &Globals, mut args: Args) -> Result<()> {
    // `-vip` must reach us as a word, so clap takes every word after the first ID as one:
    // the two options that make sense there are picked out again here.
    let mut json = g.json;
    let mut words = Vec::new();
    for w in args.words {
        match w.as_str() {
            "--json" => json = true,
            "--continue-on-error" => args.targets.continue_on_error = true,
            other if other.starts_with("--") => {
                return Err(Error::invalid(
                    "tag",
                    format!("{other:?} after the IDs is read as a tag change; put options before the IDs (`casebook {other} tag ID... +TAG`)"),
                ))
            }
            _ => words.push(w),
        }
    }
    let g = &Globals { json, ..g.clone() };
    let (cb, ctx) = g.writer()?;
    let (changes, ids): (Vec<String>, Vec<String>) = words
        .into_iter()
        .partition(|w| w.starts_with('+') || (w.len() > 1 && w.starts_with('-')));
    let targets = args.targets.targets(ids)?;
    let done = cb.tag(&ctx, &targets, &changes)?;
    bulk::report(g, &cb, &ctx, &done)
}
