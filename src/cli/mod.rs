//! The `casebook` command line: clap definitions, and one file per subcommand that turns
//! arguments into one call of [`crate::ops`].

mod acknowledge;
mod clone;
mod close;
mod deescalate;
mod due;
mod escalate;
mod export;
mod follow_up;
mod gather;
mod history;
mod import;
mod init;
mod list;
mod log;
mod merge_driver;
mod open;
mod pending;
mod reindex;
mod reopen;
mod research;
mod resolve;
mod review;
mod search;
mod setup;
mod show;
mod sync;
mod template;
mod text;
mod tick;
mod update;
mod verify;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use chrono::{DateTime, SubsecRound, Utc};
use clap::{Parser, Subcommand, ValueEnum};

use crate::error::{exit, Error, Result};
use crate::model::time::parse_rfc3339;
use crate::model::Actor;
use crate::ops::{Casebook, Context};
use crate::render::Style;

const AFTER_HELP: &str = "\
The SOP, step by step:
  casebook init                       create a case book (a git repository) here
  casebook open --customer NAME --email E --subject TEXT
                                      assign a unique case number; prints the ID
  casebook ack ID                     acknowledge (the template addresses the customer)
  casebook gather ID --question Q --answer A --attach FILE
  casebook research ID --root-cause TEXT --scope systemic --link OTHER
  casebook update ID --eta \"2026-11-25 14:00\"
  casebook escalate ID --reason TEXT  (and deescalate)
  casebook resolve ID --resolution TEXT
  casebook follow-up ID --satisfied --rating 5
  casebook log ID --summary TEXT --direction inbound
  casebook show ID / list / history ID
  casebook search \"paper jam\" -laser  full-text search over the cases' text
  casebook due [--within 4h]          the day's queue: what is owed, breached first
  casebook tick                       auto-close and auto-escalate, from cron
  casebook import cases.csv           bulk import (one commit; idempotent); export too
  casebook sync                       fetch, merge case by case, push (clone, setup)
  casebook review [--by agent]        metrics over resolved cases; --queue; ID --finding
  casebook verify / reindex           check the case book and its index / rebuild the index

IDs may be shortened to any unique start of the part after the dash (like git hashes).
Every action is one git commit; `git log` reviews them and any git remote shares them.

Exit codes: 0 ok, 1 bad input or action not allowed, 2 bad command line,
3 conflict (uncommitted edits, busy repository), 4 internal error.";

/// A case tracker for customer-service teams: every case a TOML file in a git
/// repository, every action a git commit.
#[derive(Debug, Parser)]
#[command(name = "casebook", version, after_help = AFTER_HELP, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub globals: Globals,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Args)]
pub struct Globals {
    /// Run as if started in DIR (default: find the case book from the current folder up)
    #[arg(short = 'C', global = true, value_name = "DIR", env = "CASEBOOK_DIR")]
    pub dir: Option<PathBuf>,
    /// Who is acting, as "Name <email>" (default: git's user.name and user.email)
    #[arg(
        long,
        global = true,
        value_name = "NAME <EMAIL>",
        env = "CASEBOOK_ACTOR"
    )]
    pub actor: Option<String>,
    /// The clock for this action, RFC 3339 (for tests, replays and imports)
    #[arg(long, global = true, value_name = "TIME", env = "CASEBOOK_NOW")]
    pub now: Option<String>,
    /// Machine-readable JSON on stdout (never colored)
    #[arg(long, global = true)]
    pub json: bool,
    /// When to color output; NO_COLOR in the environment means never, unless "always"
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    /// Fail a read when a case file does not parse, instead of skipping it with a warning
    #[arg(long, global = true)]
    pub strict: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Init(init::Args),
    Open(open::Args),
    #[command(visible_alias = "ack")]
    Acknowledge(acknowledge::Args),
    Gather(gather::Args),
    Research(research::Args),
    Update(update::Args),
    Pending(pending::Args),
    Log(log::Args),
    Escalate(escalate::Args),
    Deescalate(deescalate::Args),
    Resolve(resolve::Args),
    FollowUp(follow_up::Args),
    Close(close::Args),
    Reopen(reopen::Args),
    Show(show::Args),
    List(list::Args),
    History(history::Args),
    Search(search::Args),
    Template(template::Args),
    Due(due::Args),
    Tick(tick::Args),
    Import(import::Args),
    Export(export::Args),
    Review(review::Args),
    Sync(sync::Args),
    Clone(clone::Args),
    Setup(setup::Args),
    Verify(verify::Args),
    Reindex(reindex::Args),
    #[command(hide = true)]
    MergeDriver(merge_driver::Args),
}

impl Globals {
    fn start_dir(&self) -> PathBuf {
        self.dir.clone().unwrap_or_else(|| PathBuf::from("."))
    }

    fn casebook(&self) -> Result<Casebook> {
        let cb = Casebook::discover(&self.start_dir())?;
        if !cb.store().has_merge_driver() {
            eprintln!("hint: this clone has no casebook merge driver yet; run `casebook setup` so `git pull` merges cases");
        }
        Ok(cb)
    }

    fn now(&self) -> Result<DateTime<Utc>> {
        match self.now.as_deref() {
            // Milliseconds are plenty for an audit trail and keep stored times readable.
            None => Ok(Utc::now().trunc_subsecs(3)),
            Some(text) => parse_rfc3339(text).ok_or_else(|| {
                Error::invalid(
                    "--now",
                    format!("{text:?} is not an RFC 3339 time such as 2026-11-22T14:30:00Z"),
                )
            }),
        }
    }

    /// Who acts: --actor / CASEBOOK_ACTOR, else git's identity (of `cb` if given).
    fn context(&self, cb: Option<&Casebook>) -> Result<Context> {
        let actor = match self.actor.as_deref() {
            Some(text) => {
                Actor::parse(text).map_err(|e| Error::invalid("--actor", e.to_string()))?
            }
            None => cb
                .and_then(Casebook::git_identity)
                .or_else(default_git_identity)
                .ok_or(Error::NoActor)?,
        };
        Ok(Context {
            actor,
            now: self.now()?,
        })
    }

    /// The case book and the acting context, for commands that record something.
    fn writer(&self) -> Result<(Casebook, Context)> {
        let cb = self.casebook()?;
        let ctx = self.context(Some(&cb))?;
        Ok((cb, ctx))
    }

    fn style(&self) -> Style {
        let color = match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                !self.json
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        };
        Style {
            color: color && !self.json,
        }
    }
}

fn default_git_identity() -> Option<Actor> {
    let config = git2::Config::open_default().ok()?;
    Actor::new(
        &config.get_string("user.name").ok()?,
        &config.get_string("user.email").ok()?,
    )
    .ok()
}

/// Writes data to stdout. A closed pipe (`casebook list | head -1`) is not an error.
fn print(text: &str) -> Result<()> {
    write_stdout(|out| out.write_all(text.as_bytes()))
}

fn write_stdout(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    match write(&mut out).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Io {
            action: "write",
            path: "standard output".into(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// A JSON array written element by element, so a large case book never sits in memory
/// as one JSON tree. The output is the same as `print_json` of the whole array.
fn print_json_array<I: IntoIterator<Item = serde_json::Value>>(items: I) -> Result<()> {
    write_stdout(|out| {
        let mut first = true;
        out.write_all(b"[")?;
        for item in items {
            out.write_all(if first { b"\n  " } else { b",\n  " })?;
            first = false;
            let text = serde_json::to_string_pretty(&item).expect("JSON values serialise");
            out.write_all(text.replace('\n', "\n  ").as_bytes())?;
        }
        out.write_all(if first { b"]\n" } else { b"\n]\n" })
    })
}

/// clap parser for --channel.
fn parse_channel() -> impl clap::builder::TypedValueParser<Value = crate::model::Channel> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(crate::model::Channel::KNOWN)
        .map(|s| crate::model::Channel::from_stored(&s))
}

/// What every recording command prints: the case as JSON for scripts; for people, a line
/// on stderr, and on stdout the message casebook wrote from a template (to send it).
fn recorded(g: &Globals, cb: &Casebook, ctx: &Context, rec: crate::ops::Recorded) -> Result<()> {
    if g.json {
        let config = cb.config()?;
        let sla = crate::model::commitment::evaluate(&rec.case, &config, ctx.now);
        return print_json(&crate::render::case_json(&rec.case, true, &sla));
    }
    let c = &rec.case.case;
    eprintln!(
        "{}: {} recorded; status {}",
        c.id, rec.event.action, c.status
    );
    match (&rec.event.template, &rec.event.message) {
        (Some(_), Some(message)) => print(&format!("{message}\n")),
        _ => Ok(()),
    }
}

fn print_json(value: &serde_json::Value) -> Result<()> {
    // A Value always serialises.
    let text = serde_json::to_string_pretty(value).expect("JSON values serialise");
    print(&(text + "\n"))
}

/// Parses the command line, runs it, reports errors on stderr; returns the exit code.
pub fn main() -> i32 {
    crate::store::configure_process();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
        }
    };
    crate::store::set_strict(cli.globals.strict);
    let result = run(cli);
    for warning in crate::store::take_warnings() {
        eprintln!("warning: {warning}");
    }
    for note in crate::store::take_notices() {
        eprintln!("note: {note}");
    }
    match result {
        Ok(()) => exit::OK,
        Err(e) => {
            report(&e);
            e.exit_code()
        }
    }
}

pub fn run(cli: Cli) -> Result<()> {
    let g = &cli.globals;
    match cli.command {
        Command::Init(args) => init::run(g, args),
        Command::Open(args) => open::run(g, args),
        Command::Acknowledge(args) => acknowledge::run(g, args),
        Command::Gather(args) => gather::run(g, args),
        Command::Research(args) => research::run(g, args),
        Command::Update(args) => update::run(g, args),
        Command::Pending(args) => pending::run(g, args),
        Command::Log(args) => log::run(g, args),
        Command::Escalate(args) => escalate::run(g, args),
        Command::Deescalate(args) => deescalate::run(g, args),
        Command::Resolve(args) => resolve::run(g, args),
        Command::FollowUp(args) => follow_up::run(g, args),
        Command::Close(args) => close::run(g, args),
        Command::Reopen(args) => reopen::run(g, args),
        Command::Show(args) => show::run(g, args),
        Command::List(args) => list::run(g, args),
        Command::History(args) => history::run(g, args),
        Command::Template(args) => template::run(g, args),
        Command::Due(args) => due::run(g, args),
        Command::Tick(args) => tick::run(g, args),
        Command::Import(args) => import::run(g, args),
        Command::Export(args) => export::run(g, args),
        Command::Review(args) => review::run(g, args),
        Command::Sync(args) => sync::run(g, args),
        Command::Clone(args) => clone::run(g, args),
        Command::Setup(args) => setup::run(g, args),
        Command::Search(args) => search::run(g, args),
        Command::Verify(args) => verify::run(g, args),
        Command::Reindex(args) => reindex::run(g, args),
        Command::MergeDriver(args) => merge_driver::run(g, args),
    }
}

/// `error: message`, then each cause once, then a hint.
fn report(e: &Error) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "error: {e}");
    let mut source = std::error::Error::source(e);
    let mut last = e.to_string();
    while let Some(cause) = source {
        let text = cause.to_string();
        // `transparent` variants repeat their inner message; say each thing once.
        if text != last {
            for (i, line) in text.trim_end().lines().enumerate() {
                let lead = if i == 0 { "  caused by: " } else { "  " };
                let _ = writeln!(err, "{lead}{line}");
            }
        }
        last = text;
        source = cause.source();
    }
    if let Some(hint) = e.hint() {
        let _ = writeln!(err, "hint: {hint}");
    }
}
