//! `casebook init`: make a folder (or an existing git repository) a case book.

use std::path::{Path, PathBuf};

use super::{Casebook, Context};
use crate::error::{Error, Result};
use crate::model::config::{Config, CONFIG_PATH, DEFAULT_CONFIG};
use crate::store::{Change, Store};

pub const GITATTRIBUTES_PATH: &str = ".gitattributes";
/// Routes case files to casebook's merge driver. Until the driver is configured in a clone,
/// git ignores the attribute and merges as text.
pub const GITATTRIBUTES_LINE: &str = "cases/** merge=casebook";
/// Shows case files in `git log -p` and `git show` through casebook's textconv driver,
/// which opens sealed values where the clone has the key.
pub const GITATTRIBUTES_DIFF: &str = "cases/** diff=casebook";
/// An old ID can lead to several renamed cases: git's union merge keeps every line.
pub const GITATTRIBUTES_ALIASES: &str = "aliases/** merge=union";
/// Attachments are stored at content-addressed paths, so one path never holds two
/// different files; should it ever (a hand-made commit), git must not write conflict
/// markers into a screenshot or a PDF, nor change its line endings.
pub const GITATTRIBUTES_ATTACHMENTS: &str = "attachments/** -merge -text";

#[derive(Debug, Clone, Default)]
pub struct InitOptions {
    /// A store-only (bare) repository: no working tree, no index.
    pub bare: bool,
    /// Case ID prefix instead of the default `CB`.
    pub prefix: Option<String>,
    /// IANA time zone of the business calendar instead of UTC.
    pub timezone: Option<String>,
    /// Personal data in plain text (`init --plain`): for teams that hold none. Otherwise
    /// it is sealed ([privacy] seal = true).
    pub plain: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitOutcome {
    /// A new git repository was created.
    Created(PathBuf),
    /// An existing git repository became a case book; its other files are untouched.
    Adopted(PathBuf),
    /// It already was a case book; nothing was changed.
    AlreadyCasebook(PathBuf),
}

impl Casebook {
    /// Creates or adopts the repository at `dir` and commits the initial configuration.
    /// Running it on a case book changes nothing.
    pub fn init(dir: &Path, opts: &InitOptions, ctx: &Context) -> Result<(Casebook, InitOutcome)> {
        let config = initial_config(opts)?;
        let (store, created) = Store::open_or_create(dir, opts.bare)?;
        let root = store.root().to_path_buf();
        if store.snapshot()?.read(CONFIG_PATH)?.is_some() {
            return Ok((Casebook::with(store), InitOutcome::AlreadyCasebook(root)));
        }
        // A clone checked out on another branch than the book's: a new book here would
        // split the team's (its sync pushes an unrelated branch beside theirs).
        if let Some(elsewhere) = store.casebook_branch_elsewhere() {
            return Err(crate::store::StoreError::CasebookOnAnotherBranch {
                path: root,
                branch: store.branch_name().to_string(),
                elsewhere,
            }
            .into());
        }
        store.transact(&ctx.actor, ctx.now, |snap| -> Result<_> {
            let mut attributes = snap
                .read(GITATTRIBUTES_PATH)?
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            if !attributes.lines().any(|l| l.trim() == GITATTRIBUTES_LINE) {
                if !attributes.is_empty() && !attributes.ends_with('\n') {
                    attributes.push('\n');
                }
                attributes.push_str(
                    "# casebook: case files are merged event by event (see `casebook sync`)\n",
                );
                attributes.push_str(GITATTRIBUTES_LINE);
                attributes.push('\n');
            }
            for line in [
                GITATTRIBUTES_DIFF,
                GITATTRIBUTES_ALIASES,
                GITATTRIBUTES_ATTACHMENTS,
            ] {
                if !attributes.lines().any(|l| l.trim() == line) {
                    attributes.push_str(line);
                    attributes.push('\n');
                }
            }
            let change = Change::with_files(
                format!(
                    "casebook: init case book\n\nAction: init\nActor: {}\n",
                    ctx.actor
                ),
                vec![
                    (CONFIG_PATH.to_string(), config.clone().into_bytes()),
                    (GITATTRIBUTES_PATH.to_string(), attributes.into_bytes()),
                ],
            );
            Ok((change, ()))
        })?;
        if !opts.plain {
            // The key ring and its secret exist from the start, so the first case's key
            // has its subject without writing the ring twice.
            store.pseudonym_secret(ctx.now)?;
        }
        let outcome = if created {
            InitOutcome::Created(root)
        } else {
            InitOutcome::Adopted(root)
        };
        Ok((Casebook::with(store), outcome))
    }
}

/// The default config with the chosen prefix and time zone, validated before it is written.
fn initial_config(opts: &InitOptions) -> Result<String> {
    let mut text = DEFAULT_CONFIG.to_string();
    if let Some(prefix) = &opts.prefix {
        let prefix = crate::model::id::validate_prefix(prefix)
            .map_err(|e| Error::value("--prefix", prefix.as_str(), e))?;
        text = text.replacen("prefix = \"CB\"", &format!("prefix = \"{prefix}\""), 1);
    }
    if let Some(tz) = &opts.timezone {
        let tz = crate::model::calendar::parse_timezone(tz)
            .map_err(|e| Error::value("--timezone", tz.as_str(), e))?;
        text = text.replacen(
            "timezone = \"UTC\"",
            &format!("timezone = \"{}\"", tz.name()),
            1,
        );
    }
    if !opts.plain {
        text = text.replacen("\nseal = false\n", "\nseal = true\n", 1);
    }
    Config::from_toml(&text)?;
    Ok(text)
}
