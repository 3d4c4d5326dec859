//! The `casebook` command line: clap definitions, and one file per subcommand that turns
//! arguments into one call of [`crate::ops`].

mod acknowledge;
mod amend;
mod assign;
mod attachment;
mod bulk;
mod clone;
mod close;
mod completions;
mod config;
mod customer;
mod deescalate;
mod due;
mod erase;
mod escalate;
mod export;
mod follow_up;
mod gather;
mod history;
mod import;
mod init;
mod list;
mod log;
mod man;
mod merge;
mod merge_driver;
mod open;
mod pending;
mod reindex;
mod reopen;
mod research;
mod resolve;
mod review;
mod seal;
mod search;
mod setup;
mod show;
mod sync;
mod tag;
mod take;
mod team_filter;
mod template;
mod text;
mod textconv;
mod tick;
mod unassign;
mod update;
mod verify;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use chrono::{DateTime, SubsecRound, Utc};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

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
  casebook take ID... / assign ID... --to \"Name <email>\" / unassign ID...
  casebook tag ID... +billing -vip    (IDs from `list --ids` with `-`: one commit)
  casebook merge DUP... --into ID      close duplicates into one case
  casebook amend ID EVENT-ID --message TEXT   correct a recorded text (kept in history)
  casebook customer ada@example.com   every case of one customer, newest first
  casebook show ID / list / history ID
  casebook search 'paper jam -laser'  full-text search over the cases' text
  casebook due [--within 4h]          the day's queue: what is owed, breached first
  casebook tick                       auto-close and auto-escalate, from cron
  casebook import cases.csv           bulk import (one commit; idempotent); export too
  casebook sync                       fetch, merge case by case, push (clone, setup)
  casebook review [--by agent]        metrics over resolved cases; --queue; ID --finding
  casebook verify / reindex           check the case book and its index / rebuild the index
  casebook config get|set|check       read, change (one commit) and check the settings
  casebook completions SHELL / man    shell completions and the manual page

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

/// Options every subcommand takes, shown under their own heading. `CASEBOOK_DIR`,
/// `CASEBOOK_ACTOR` and `CASEBOOK_NOW` are read here, not by clap: clap counts an
/// environment value as given, and its usage lines then show them as if required.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Global options")]
pub struct Globals {
    /// Run as if started in DIR [env: CASEBOOK_DIR] (default: find the case book from the
    /// current folder up)
    #[arg(short = 'C', global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Who is acting, as "Name <email>" [env: CASEBOOK_ACTOR] (default: git's user.name and
    /// user.email)
    #[arg(long, global = true, value_name = "NAME <EMAIL>")]
    pub actor: Option<String>,
    /// The clock for this action, RFC 3339 [env: CASEBOOK_NOW] (for tests, replays and
    /// imports)
    #[arg(long, global = true, value_name = "TIME")]
    pub now: Option<String>,
    /// Time worked on this action, recorded on its event: 15m, 2h, 1h30m (with several
    /// IDs, on each case)
    #[arg(long, global = true, value_name = "DURATION")]
    pub worked: Option<String>,
    /// Show times in this IANA zone (default: the case book's zone), e.g. America/New_York
    #[arg(long, global = true, value_name = "ZONE", value_parser = parse_zone)]
    pub tz: Option<chrono_tz::Tz>,
    /// Machine-readable JSON on stdout (never colored)
    #[arg(long, global = true)]
    pub json: bool,
    /// When to color output; NO_COLOR in the environment means never, unless "always"
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    /// Wrap long text in tables onto more lines instead of cutting it with …
    #[arg(long, global = true)]
    pub wide: bool,
    /// Never page long output (default on a terminal: $CASEBOOK_PAGER, $PAGER, less -FRX)
    #[arg(long, global = true)]
    pub no_pager: bool,
    /// Fail a read when a case file does not parse, instead of skipping it with a warning
    #[arg(long, global = true)]
    pub strict: bool,
}

fn parse_zone(text: &str) -> std::result::Result<chrono_tz::Tz, String> {
    crate::model::calendar::parse_timezone(text).map_err(|e| e.to_string())
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
    Assign(assign::Args),
    Take(take::Args),
    Unassign(unassign::Args),
    Tag(tag::Args),
    Merge(merge::Args),
    Amend(amend::Args),
    Customer(customer::Args),
    Erase(erase::Args),
    Seal(seal::Args),
    Show(show::Args),
    Attachment(attachment::Args),
    List(list::Args),
    History(history::Args),
    Search(search::Args),
    Template(template::Args),
    Config(config::Args),
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
    Completions(completions::Args),
    Man(man::Args),
    #[command(hide = true)]
    MergeDriver(merge_driver::Args),
    #[command(hide = true)]
    Textconv(textconv::Args),
}

impl Globals {
    fn start_dir(&self) -> PathBuf {
        self.dir
            .clone()
            .or_else(|| env_value("CASEBOOK_DIR").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("."))
    }

    fn casebook(&self) -> Result<Casebook> {
        let cb = Casebook::discover(&self.start_dir())?.for_this_process();
        // Once per process, however many times a command opens the case book.
        static HINTED: std::sync::Once = std::sync::Once::new();
        static WARNED: std::sync::Once = std::sync::Once::new();
        WARNED.call_once(|| {
            for path in cb.uncommitted_settings().unwrap_or_default() {
                eprintln!("warning: {path} differs from the committed one and is not in effect until committed (`casebook config check`)");
            }
        });
        if !cb.store().has_merge_driver() {
            HINTED.call_once(|| eprintln!("hint: this clone has no casebook merge driver yet; run `casebook setup` so `git pull` merges cases"));
        }
        Ok(cb)
    }

    fn now(&self) -> Result<DateTime<Utc>> {
        match self
            .now
            .clone()
            .or_else(|| env_value("CASEBOOK_NOW"))
            .as_deref()
        {
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

    /// Who acts in `dir`, which need not be a case book yet (`init`).
    fn context_at(&self, dir: &std::path::Path) -> Result<Context> {
        let near = if dir.exists() {
            default_git_identity(dir)
        } else {
            None
        };
        match near {
            Some(actor) if self.actor.is_none() && env_value("CASEBOOK_ACTOR").is_none() => {
                Ok(Context {
                    actor,
                    now: self.now()?,
                    worked_minutes: None,
                })
            }
            _ => self.context(None),
        }
    }

    /// Who acts: --actor / CASEBOOK_ACTOR, else git's identity (of `cb` if given).
    fn context(&self, cb: Option<&Casebook>) -> Result<Context> {
        let actor = match self
            .actor
            .clone()
            .or_else(|| env_value("CASEBOOK_ACTOR"))
            .as_deref()
        {
            Some(text) => Actor::parse(text).map_err(|e| Error::value("--actor", text, e))?,
            None => cb
                .and_then(Casebook::git_identity)
                .or_else(|| default_git_identity(&self.start_dir()))
                .ok_or(Error::NoActor)?,
        };
        let worked_minutes = self
            .worked
            .as_deref()
            .map(|w| crate::model::team::parse_worked(w).map_err(|e| Error::invalid("--worked", e)))
            .transpose()?;
        Ok(Context {
            actor,
            now: self.now()?,
            worked_minutes,
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
        let terminal = std::io::stdout().is_terminal();
        Style {
            color: color && !self.json,
            width: terminal
                .then(|| terminal_size::terminal_size_of(std::io::stdout()))
                .flatten()
                .map(|(w, _)| w.0),
            wide: self.wide,
            tz: self.tz,
        }
    }
}

/// A variable from the environment; set but empty counts as unset.
fn env_value(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// git's identity where the command runs (`-C`), from that repository's config if any.
fn default_git_identity(dir: &std::path::Path) -> Option<Actor> {
    let (name, email) = crate::store::git_identity_near(dir)?;
    Actor::new(&name, &email).ok()
}

/// Whether long output may go through a pager: not with --no-pager or --json.
static PAGING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Writes data to stdout. A closed pipe (`casebook list | head -1`) is not an error.
/// On a terminal, text longer than the screen goes through the pager, as git does.
fn print(text: &str) -> Result<()> {
    if PAGING.load(std::sync::atomic::Ordering::Relaxed) && std::io::stdout().is_terminal() {
        let height = terminal_size::terminal_size_of(std::io::stdout()).map(|(_, h)| h.0);
        let lines = text.lines().count();
        if height.is_some_and(|h| lines >= usize::from(h)) {
            let var = |name: &str| std::env::var(name).ok();
            if let Some(command) = pager_command(var("CASEBOOK_PAGER"), var("PAGER")) {
                if page(&command, text) {
                    return Ok(());
                }
            }
        }
    }
    write_stdout(|out| out.write_all(text.as_bytes()))
}

/// The pager to use: `CASEBOOK_PAGER`, then `PAGER`, then `less -FRX`; none when the one
/// chosen is empty or `cat`.
fn pager_command(casebook_pager: Option<String>, pager: Option<String>) -> Option<String> {
    let chosen = casebook_pager
        .or(pager)
        .unwrap_or_else(|| "less -FRX".to_string());
    let chosen = chosen.trim();
    (!chosen.is_empty() && chosen != "cat").then(|| chosen.to_string())
}

/// Shows `text` through the pager `command` (a shell command line, as git runs it);
/// false when the pager could not be started, so the caller prints it itself.
fn page(command: &str, text: &str) -> bool {
    use std::process::{Command, Stdio};
    let mut child = match Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::piped())
        .env(
            "LESS",
            std::env::var("LESS").unwrap_or_else(|_| "FRX".into()),
        )
        .spawn()
    {
        Ok(child) => child,
        Err(_) => return false,
    };
    if let Some(mut stdin) = child.stdin.take() {
        // The reader quitting early (`q` in less) closes the pipe: that is not an error.
        let _ = stdin.write_all(text.as_bytes());
    }
    let _ = child.wait();
    true
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
    use serde::Serializer;
    // Streamed into the output as the items come, pretty as `to_string_pretty` of the whole
    // array would be, with no string per item.
    write_stdout(|out| {
        let mut json = serde_json::Serializer::with_formatter(
            &mut *out,
            serde_json::ser::PrettyFormatter::new(),
        );
        json.collect_seq(items).map_err(std::io::Error::from)?;
        out.write_all(b"\n")
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
        c.id,
        rec.event.action(),
        c.status
    );
    merged_hint(&rec);
    match (rec.event.payload.template(), rec.event.payload.message()) {
        (Some(_), Some(message)) => print(&format!("{}\n", crate::render::safe_text(message))),
        _ => Ok(()),
    }
}

/// A contact recorded on a merged duplicate belongs on the case it was merged into.
fn merged_hint(rec: &crate::ops::Recorded) {
    if let (Some(into), crate::model::Action::Log) =
        (&rec.case.case.merged_into, &rec.event.action())
    {
        eprintln!(
            "hint: {} was merged into {into}; record further contact there",
            rec.case.case.id
        );
    }
}

fn print_json(value: &serde_json::Value) -> Result<()> {
    // A Value always serialises.
    let text = serde_json::to_string_pretty(value).expect("JSON values serialise");
    print(&(text + "\n"))
}

/// Options of a subcommand that contradict a global option. clap's `conflicts_with`
/// does not see global options, so these are checked here, with clap's own error.
const GLOBAL_CONFLICTS: &[(&str, &str, &str)] =
    &[("export", "format", "json"), ("review", "csv", "json")];

fn refuse_global_conflicts(m: &clap::ArgMatches) -> std::result::Result<(), clap::Error> {
    use clap::parser::ValueSource;
    let Some((name, sub)) = m.subcommand() else {
        return Ok(());
    };
    let given = |id: &str| sub.value_source(id) == Some(ValueSource::CommandLine);
    for &(command, own, global) in GLOBAL_CONFLICTS {
        if command == name && given(own) && given(global) {
            let mut cmd = Cli::command();
            cmd.build();
            let cmd = cmd.find_subcommand_mut(name).expect("a known subcommand");
            return Err(cmd.error(
                clap::error::ErrorKind::ArgumentConflict,
                format!("--{own} cannot be used with --{global}"),
            ));
        }
    }
    Ok(())
}

/// Parses the command line, runs it, reports errors on stderr; returns the exit code.
pub fn main() -> i32 {
    crate::store::configure_process();
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|m| refuse_global_conflicts(&m).map(|()| m))
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
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
    if let (Ok(()), Some(signal)) = (&result, crate::store::interrupted_after_commit()) {
        crate::store::notice(&format!(
            "{} came after the change was recorded: the action is complete",
            signal_name(signal)
        ));
    }
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

fn signal_name(signal: i32) -> String {
    match signal {
        2 => "Ctrl-C (SIGINT)".into(),
        15 => "SIGTERM".into(),
        1 => "SIGHUP".into(),
        3 => "SIGQUIT".into(),
        n => format!("signal {n}"),
    }
}

pub fn run(cli: Cli) -> Result<()> {
    let g = &cli.globals;
    PAGING.store(!g.no_pager && !g.json, std::sync::atomic::Ordering::Relaxed);
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
        Command::Assign(args) => assign::run(g, args),
        Command::Take(args) => take::run(g, args),
        Command::Unassign(args) => unassign::run(g, args),
        Command::Tag(args) => tag::run(g, args),
        Command::Merge(args) => merge::run(g, args),
        Command::Amend(args) => amend::run(g, args),
        Command::Customer(args) => customer::run(g, args),
        Command::Erase(args) => erase::run(g, args),
        Command::Attachment(args) => attachment::run(g, args),
        Command::Seal(args) => seal::run(g, args),
        Command::Show(args) => show::run(g, args),
        Command::List(args) => list::run(g, args),
        Command::History(args) => history::run(g, args),
        Command::Template(args) => template::run(g, args),
        Command::Config(args) => config::run(g, args),
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
        Command::Completions(args) => completions::run(g, args),
        Command::Man(args) => man::run(g, args),
        Command::MergeDriver(args) => merge_driver::run(g, args),
        Command::Textconv(args) => textconv::run(g, args),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Splits an example line as a shell would (quotes, no expansion), keeping only the
    /// `casebook ...` command of a pipeline, redirection or substitution.
    fn example_words(line: &str) -> Vec<String> {
        let start = line.find("casebook ").expect("an example runs casebook");
        let mut words = Vec::new();
        let mut word = String::new();
        let mut quote = None;
        let mut any = false;
        for c in line[start..].chars() {
            match (quote, c) {
                (None, '"' | '\'') => {
                    quote = Some(c);
                    any = true;
                }
                (Some(q), c) if c == q => quote = None,
                (None, ' ') => {
                    if any {
                        words.push(std::mem::take(&mut word));
                    }
                    any = false;
                }
                (None, '<' | '>' | '|' | ')') => break,
                (_, c) => {
                    word.push(c);
                    any = true;
                }
            }
        }
        if any {
            words.push(word);
        }
        words
    }

    #[test]
    fn every_subcommand_has_examples_that_parse() {
        let cli = Cli::command();
        for sub in cli.get_subcommands().filter(|s| !s.is_hide_set()) {
            let name = sub.get_name();
            let help = sub
                .get_after_long_help()
                .unwrap_or_else(|| panic!("`casebook {name} --help` has no examples"))
                .to_string();
            let examples = help
                .strip_prefix("Examples:\n")
                .unwrap_or_else(|| panic!("{name}: help ends with an Examples block: {help}"));
            assert!(!examples.trim().is_empty(), "{name}");
            for line in examples.lines() {
                let words = example_words(line);
                let own = words.get(1).map(String::as_str);
                assert!(
                    own == Some(name) || sub.get_all_aliases().any(|a| Some(a) == own),
                    "{name}: example {line:?} runs another subcommand"
                );
                if let Err(e) = Cli::try_parse_from(&words) {
                    panic!("{name}: example {line:?} does not parse: {e}");
                }
            }
        }
    }

    #[test]
    fn every_option_is_described_and_globals_have_their_own_heading() {
        let cli = Cli::command();
        let mut undescribed = Vec::new();
        for sub in cli.get_subcommands().filter(|s| !s.is_hide_set()) {
            for arg in sub.get_arguments().filter(|a| !a.is_hide_set()) {
                let id = arg.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                if arg
                    .get_help()
                    .is_none_or(|h| h.to_string().trim().is_empty())
                {
                    undescribed.push(format!("casebook {} {id}", sub.get_name()));
                }
            }
        }
        assert!(undescribed.is_empty(), "no description: {undescribed:#?}");
        for arg in cli.get_arguments().filter(|a| a.is_global_set()) {
            assert_eq!(
                arg.get_help_heading(),
                Some("Global options"),
                "{}",
                arg.get_id()
            );
        }
    }

    #[test]
    fn pager_is_chosen_like_git() {
        let s = |v: &str| Some(v.to_string());
        assert_eq!(pager_command(s("most"), s("more")), s("most"));
        assert_eq!(pager_command(None, s("more")), s("more"));
        assert_eq!(pager_command(None, None), s("less -FRX"));
        assert_eq!(pager_command(s(""), s("more")), None);
        assert_eq!(pager_command(None, s("cat")), None);
    }
}
