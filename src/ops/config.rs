//! `casebook config get|set|check`, and the warning that settings edited in the working
//! tree are not in effect.
//!
//! Casebook reads its settings from the branch tip, never from the working tree: every
//! clone then agrees on the policy, and an edit takes effect when it is committed. `set`
//! edits the committed file (its comments kept), validates the result as every command
//! would, and commits it as one action. An edit in the working tree that is not committed
//! does nothing, so every command says so once.

use super::{Casebook, Context};
use crate::error::{Error, Result};
use crate::model::config::{ConfigError, CONFIG_PATH, DEFAULT_CONFIG};
use crate::model::template::BUILT_IN;
use crate::model::Config;
use crate::store::Change;

/// The settings files whose working-tree copy may differ from the committed one.
fn settings_files() -> Vec<String> {
    let mut files = vec![CONFIG_PATH.to_string()];
    files.extend(
        BUILT_IN
            .iter()
            .map(|(name, _)| format!(".casebook/templates/{name}.txt")),
    );
    files
}

/// What `config check` found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ConfigCheck {
    /// Settings files whose working-tree copy differs from the committed one.
    pub uncommitted: Vec<String>,
    /// The working-tree config's problem, if it would not load.
    pub problem: Option<String>,
}

fn parse_doc(text: &str, what: &str) -> Result<toml_edit::DocumentMut> {
    text.parse::<toml_edit::DocumentMut>()
        .map_err(|e| Error::invalid(what, format!("is not valid TOML: {}", e.message())))
}

/// The item at a dotted `key` (`calendar.timezone`, `sla.acknowledge.urgent`).
fn lookup<'d>(doc: &'d toml_edit::DocumentMut, key: &str) -> Option<&'d toml_edit::Item> {
    let mut item = doc.as_item();
    for part in key.split('.') {
        item = item.get(part)?;
    }
    Some(item)
}

/// A value as typed: TOML (`0.5`, `true`, `["mon", "tue"]`, `"text"`), else a string.
fn typed_value(text: &str) -> toml_edit::Value {
    text.trim()
        .parse::<toml_edit::Value>()
        .unwrap_or_else(|_| toml_edit::Value::from(text))
}

impl Casebook {
    fn committed_config_text(&self) -> Result<String> {
        let snap = self.store.casebook_snapshot()?;
        let bytes = snap.read(CONFIG_PATH)?.unwrap_or_default();
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The value of setting `key` in effect: the committed one, else its default; `None`
    /// for an [optional setting](OPTIONAL_SETTINGS) that is not set.
    pub fn config_get(&self, key: &str) -> Result<Option<String>> {
        let committed = parse_doc(&self.committed_config_text()?, CONFIG_PATH)?;
        let defaults = parse_doc(DEFAULT_CONFIG, "the default config")?;
        let Some(item) = lookup(&committed, key)
            .or_else(|| lookup(&defaults, key))
            .filter(|i| !i.is_none())
        else {
            return match unset_meaning(key) {
                Some(_) => Ok(None),
                None => Err(unknown_key(key)),
            };
        };
        Ok(Some(match item {
            // Text as it is (for scripts: `tz=$(casebook config get calendar.timezone)`).
            toml_edit::Item::Value(toml_edit::Value::String(s)) => s.value().clone(),
            toml_edit::Item::Value(v) => v.clone().decorated("", "").to_string(),
            other => other.to_string().trim().to_string(),
        }))
    }

    /// Sets `key` to `value` in the committed config, validated, as one commit.
    pub fn config_set(&self, ctx: &Context, key: &str, value: &str) -> Result<String> {
        let defaults = parse_doc(DEFAULT_CONFIG, "the default config")?;
        let default = lookup(&defaults, key).filter(|i| !i.is_none());
        let known = default.is_some() || is_open_table_key(key) || unset_meaning(key).is_some();
        if !known {
            return Err(unknown_key(key));
        }
        // A text setting takes what was typed as text (`privacy.retain 90` is "90", refused
        // as a duration, not as the wrong TOML type). Every setting without a default is
        // text.
        let text_setting = default.is_none_or(|d| d.as_str().is_some());
        let (_, shown) = self.store.transact(&ctx.actor, ctx.now, |snap| {
            let bytes = snap.read(CONFIG_PATH)?.unwrap_or_default();
            let mut doc = parse_doc(&String::from_utf8_lossy(&bytes), CONFIG_PATH)?;
            let parts: Vec<&str> = key.split('.').collect();
            let (last, tables) = parts.split_last().expect("split yields one part");
            let mut table = doc.as_table_mut();
            for part in tables {
                let entry = table
                    .entry(part)
                    .or_insert_with(|| toml_edit::Item::Table(toml_edit::Table::new()));
                table = entry
                    .as_table_mut()
                    .ok_or_else(|| Error::invalid(key, format!("{part} is not a table")))?;
            }
            let new = match typed_value(value) {
                v if text_setting && !v.is_str() => toml_edit::Value::from(value.trim()),
                v => v,
            };
            let shown = new.to_string().trim().to_string();
            match table.get_mut(last).and_then(toml_edit::Item::as_value_mut) {
                // Keep the comment after the value (`max_count = 20  # per case`).
                Some(old) => {
                    let decor = old.decor().clone();
                    *old = new;
                    *old.decor_mut() = decor;
                }
                None => {
                    table.insert(last, toml_edit::Item::Value(new));
                }
            }
            let text = doc.to_string();
            Config::from_toml(&text).map_err(|e| refused(key, &shown, e))?;
            let message = format!(
                "config: {key} = {shown}\n\nAction: config\nActor: {}\n",
                ctx.actor
            );
            Ok::<_, Error>((
                Change::with_files(message, vec![(CONFIG_PATH.to_string(), text.into_bytes())]),
                shown,
            ))
        })?;
        Ok(shown)
    }

    /// Whether the working tree's settings files are the committed ones, and whether its
    /// config would load.
    pub fn config_check(&self) -> Result<ConfigCheck> {
        let mut check = ConfigCheck {
            uncommitted: self.uncommitted_settings()?,
            problem: None,
        };
        if !self.store.is_bare() {
            if let Ok(text) = std::fs::read_to_string(self.store.root().join(CONFIG_PATH)) {
                check.problem = Config::from_toml(&text).err().map(|e| {
                    let mut s = e.to_string();
                    let mut cause = std::error::Error::source(&e);
                    while let Some(c) = cause {
                        s.push_str(&format!(": {c}"));
                        cause = c.source();
                    }
                    s
                });
            }
        }
        Ok(check)
    }

    /// Settings files edited in the working tree but not committed (so not in effect).
    pub fn uncommitted_settings(&self) -> Result<Vec<String>> {
        if self.store.is_bare() {
            return Ok(Vec::new());
        }
        let snap = self.store.snapshot()?;
        let mut differ = Vec::new();
        for path in settings_files() {
            let committed = snap.read(&path)?;
            let on_disk = match std::fs::read(self.store.root().join(&path)) {
                Ok(bytes) => Some(bytes),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(_) => continue,
            };
            if committed != on_disk {
                differ.push(path);
            }
        }
        Ok(differ)
    }
}

/// Settings that have no default, so the default config only mentions them in a comment,
/// with what it means when they are not set.
const OPTIONAL_SETTINGS: &[(&str, &str)] =
    &[("privacy.retain", "personal data is kept until erased")];

/// What an [optional setting](OPTIONAL_SETTINGS) means when it is not set; `None` for any
/// other key.
pub fn unset_meaning(key: &str) -> Option<&'static str> {
    OPTIONAL_SETTINGS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, meaning)| *meaning)
}

/// `import.columns.X` and `templates.X` take names the defaults cannot list.
fn is_open_table_key(key: &str) -> bool {
    let parts: Vec<&str> = key.split('.').collect();
    matches!(
        parts.as_slice(),
        ["import", "columns", _] | ["templates", _]
    )
}

/// A value `config set` refuses: nothing was written, so the error says what is wrong with
/// the value, not to fix the file.
fn refused(key: &str, shown: &str, e: ConfigError) -> Error {
    let problem = match e {
        ConfigError::Invalid {
            key: at,
            value,
            problem,
        } if at != key => format!("{at} = {value}: {problem}"),
        ConfigError::Invalid { problem, .. } => problem,
        ConfigError::Parse(e) => e.message().to_string(),
    };
    Error::invalid(
        key,
        format!("cannot set it to {shown}: {problem}; nothing was committed"),
    )
}

fn unknown_key(key: &str) -> Error {
    Error::invalid(
        key,
        format!("no such setting; the settings are listed in {CONFIG_PATH} (e.g. calendar.timezone, sla.at_risk)"),
    )
}
