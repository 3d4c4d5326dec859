use std::io::IsTerminal;

use super::Globals;
use crate::error::Result;

/// Rebuild the read index under .git/casebook/ from the case files
///
/// The index is a disposable cache that every read keeps up to date by itself; this
/// rebuilds it from scratch (deleting .git/casebook/ does the same, lazily).
#[derive(Debug, clap::Args)]
#[command(after_long_help = "Examples:\n  casebook reindex")]
pub struct Args {}

pub fn run(g: &Globals, _args: Args) -> Result<()> {
    let cb = g.casebook()?;
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("indexing {bar:40} {pos}/{len} cases")
                .expect("a valid progress template"),
        );
        bar
    });
    let started = std::time::Instant::now();
    let n = cb.reindex(&|done, total| {
        if let Some(bar) = &bar {
            bar.set_length(total);
            bar.set_position(done);
        }
    })?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    eprintln!(
        "indexed {n} case(s) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
