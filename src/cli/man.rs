use clap::CommandFactory;

use super::{print, Cli, Globals};
use crate::error::{Error, Result};

/// Print casebook's manual page (roff), or one subcommand's
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook man > ~/.local/share/man/man1/casebook.1\n  casebook man update > ~/.local/share/man/man1/casebook-update.1\n  casebook man | man -l -"
)]
pub struct Args {
    /// A subcommand, for its own page (casebook-SUBCOMMAND(1))
    #[arg(value_name = "SUBCOMMAND")]
    command: Option<String>,
}

pub fn run(_g: &Globals, args: Args) -> Result<()> {
    let mut cli = Cli::command();
    cli.build();
    let page = match &args.command {
        None => cli,
        Some(name) => {
            let sub = cli
                .get_subcommands()
                .find(|s| s.get_name() == name || s.get_all_aliases().any(|a| a == name))
                .ok_or_else(|| {
                    Error::invalid(
                        "SUBCOMMAND",
                        format!("{name:?} is not a casebook subcommand"),
                    )
                })?;
            let full = format!("casebook-{}", sub.get_name());
            sub.clone()
                .name(full.clone())
                .bin_name(full.replace('-', " "))
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut out)
        .map_err(|source| Error::Io {
            action: "render",
            path: "the manual page".into(),
            source,
        })?;
    print(&String::from_utf8_lossy(&out))
}
