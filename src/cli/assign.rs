use super::{bulk, Globals};
use crate::error::{Error, Result};
use crate::model::Actor;

/// Make someone the owner of cases (one `assign` event each, one commit for all)
///
/// The owner is a person as "Name <email>", or `me` for the acting agent. Cases they
/// already own are left as they are. `-` reads IDs from standard input, one per line.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook assign CB-7KQ2 --to \"Grace Hopper <grace@example.com>\"\n  casebook assign CB-7KQ2 CB-9QR2 --to me\n  casebook assign - --to \"Ada <ada@example.com>\" < ids.txt"
)]
pub struct Args {
    /// Case IDs (or unique starts of them); `-` reads them from standard input
    #[arg(required = true, value_name = "ID")]
    ids: Vec<String>,
    /// The new owner: "Name <email>", or `me`
    #[arg(long, value_name = "NAME <EMAIL>")]
    to: String,
    #[command(flatten)]
    targets: bulk::TargetArgs,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let (cb, ctx) = g.writer()?;
    let owner = if args.to.trim() == "me" {
        ctx.actor.clone()
    } else {
        Actor::parse(&args.to).map_err(|e| Error::value("--to", &args.to, e))?
    };
    let targets = args.targets.targets(args.ids)?;
    let done = cb.assign(&ctx, &targets, Some(&owner))?;
    bulk::report(g, &cb, &ctx, &done)
}
