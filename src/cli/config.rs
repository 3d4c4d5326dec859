use super::{print, print_json, Globals};
use crate::error::{Error, Result};

/// Read, change and check the case book's settings (.casebook/config.toml)
///
/// Settings take effect when committed: every command reads them from the branch, so all
/// clones agree. `set` validates the change and commits it (one commit); an edit made by
/// hand takes effect once you commit it, and until then every command warns that it is
/// not in effect.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook config get calendar.timezone\n  casebook config set calendar.timezone Europe/Berlin\n  casebook config set sla.acknowledge.urgent \"1h calendar\"\n  casebook config set calendar.days '[\"mon\", \"tue\", \"wed\", \"thu\"]'\n  casebook config check"
)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Print the value of a setting in effect (the committed one, else its default)
    Get {
        /// The setting, as a dotted path: calendar.timezone, sla.at_risk, ids.prefix
        key: String,
    },
    /// Change a setting: validated, then committed as one commit
    Set {
        /// The setting, as a dotted path: calendar.timezone, sla.at_risk, ids.prefix
        key: String,
        /// The new value, as TOML (0.5, true, ["mon", "tue"]) or plain text
        value: String,
    },
    /// Check the working tree's settings: valid, and the same as the committed ones
    Check,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    match args.action {
        Action::Get { key } => {
            let cb = g.casebook()?;
            let value = cb.config_get(&key)?;
            if g.json {
                return print_json(&serde_json::json!({ "key": key, "value": value }));
            }
            match value {
                Some(value) => print(&format!("{value}\n")),
                // Nothing on stdout, so a script reads an empty value; a person reads why.
                None => {
                    let meaning = crate::ops::unset_meaning(&key).unwrap_or_default();
                    eprintln!("{key} is not set: {meaning}");
                    Ok(())
                }
            }
        }
        Action::Set { key, value } => {
            let (cb, ctx) = g.writer()?;
            let shown = cb.config_set(&ctx, &key, &value)?;
            if g.json {
                return print_json(&serde_json::json!({ "key": key, "value": shown }));
            }
            eprintln!("{key} = {shown}: committed");
            Ok(())
        }
        Action::Check => {
            let cb = g.casebook()?;
            let check = cb.config_check()?;
            if g.json {
                print_json(&serde_json::to_value(&check).expect("a check serialises"))?;
            } else if check.problem.is_some() {
                for path in &check.uncommitted {
                    eprintln!("{path}: edited but not committed, so not in effect");
                }
            } else if check.uncommitted.is_empty() {
                eprintln!("the settings are valid and committed");
            }
            // Settings that are not in effect fail the check (exit 1) as an invalid
            // config does: a script that checks before it relies on an edit must notice.
            match check.problem {
                Some(problem) => Err(Error::invalid(".casebook/config.toml", problem)),
                None if !check.uncommitted.is_empty() => Err(Error::UncommittedSettings {
                    paths: check.uncommitted,
                }),
                None => Ok(()),
            }
        }
    }
}
