use clap::CommandFactory;

use super::{print, Cli, Globals};
use crate::error::Result;

/// Print a shell completion script for casebook
///
/// Load it in the shell's start-up file, or install it where the shell looks for
/// completions (see the README).
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook completions bash > ~/.local/share/bash-completion/completions/casebook\n  casebook completions zsh > ~/.zfunc/_casebook\n  casebook completions fish > ~/.config/fish/completions/casebook.fish"
)]
pub struct Args {
    /// The shell to complete in
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

pub fn run(_g: &Globals, args: Args) -> Result<()> {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "casebook", &mut out);
    print(&String::from_utf8_lossy(&out))
}
