//! Free text from a flag, from standard input (`-`), or from $EDITOR (the flag given
//! without a value, on a terminal), each at most `[text] max_bytes` long.
//!
//! The limit is checked while reading, not after: standard input and the editor's file
//! are read up to one byte past it, so a runaway pipe cannot fill memory. One oversized
//! field would otherwise make its case file, and every later action on it, slow for good.

use std::io::{IsTerminal, Read};

use crate::error::{Error, Result};
use crate::ops::Casebook;

/// What clap stores when a text flag is given without a value.
pub const FROM_EDITOR: &str = "\u{1}editor";

/// The free-text arguments of one command: the size limit, and whether standard input has
/// been read (only one argument per command may read it).
pub struct Texts {
    max_bytes: u64,
    stdin_used: bool,
}

impl Texts {
    /// The limit of the case book's config.
    pub fn new(cb: &Casebook) -> Result<Texts> {
        Ok(Texts {
            max_bytes: cb.config()?.text_max_bytes,
            stdin_used: false,
        })
    }

    /// Resolves a text argument: the value itself, standard input (`-`) or the editor.
    pub fn resolve(&mut self, field: &str, value: Option<String>) -> Result<Option<String>> {
        match value.as_deref() {
            Some("-") => {
                if std::mem::replace(&mut self.stdin_used, true) {
                    return Err(Error::invalid(
                        field,
                        "only one option can read standard input (`-`)",
                    ));
                }
                let bytes =
                    self.read_bounded(field, std::io::stdin().lock(), || "standard input".into())?;
                let text = decode(field, bytes, "standard input")?;
                Ok(Some(text.trim_end().to_string()))
            }
            Some(FROM_EDITOR) => self.edit(field).map(Some),
            _ => self.check(field, value),
        }
    }

    /// Marks standard input as read by `field` (the IDs of a bulk action); an error if an
    /// earlier argument read it.
    pub fn claim_stdin(&mut self, field: &str) -> Result<()> {
        if std::mem::replace(&mut self.stdin_used, true) {
            return Err(Error::invalid(
                field,
                "only one option can read standard input (`-`)",
            ));
        }
        Ok(())
    }

    /// Resolves a text argument that is always given (clap requires it).
    pub fn required(&mut self, field: &str, value: String) -> Result<String> {
        Ok(self.resolve(field, Some(value))?.unwrap_or_default())
    }

    /// Checks a text given only on the command line (no `-`, no editor).
    pub fn check<T: AsRef<str>>(&self, field: &str, value: Option<T>) -> Result<Option<T>> {
        if let Some(v) = &value {
            self.within(field, v.as_ref().len())?;
        }
        Ok(value)
    }

    fn within(&self, field: &str, len: usize) -> Result<()> {
        let len = u64::try_from(len).unwrap_or(u64::MAX);
        if len > self.max_bytes {
            return Err(self.too_long(field, &format!("{len} bytes")));
        }
        Ok(())
    }

    fn too_long(&self, field: &str, size: &str) -> Error {
        Error::invalid(
            field,
            format!(
                "the text is {size}; the limit is {} bytes (text.max_bytes in .casebook/config.toml): shorten it, or attach it as a file with `gather --attach`",
                self.max_bytes
            ),
        )
    }

    /// Reads at most one byte more than the limit from `input`.
    fn read_bounded(
        &self,
        field: &str,
        input: impl Read,
        what: impl Fn() -> std::path::PathBuf,
    ) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        input
            .take(self.max_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|source| Error::Io {
                action: "read",
                path: what(),
                source,
            })?;
        if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > self.max_bytes {
            return Err(self.too_long(field, "longer than that"));
        }
        Ok(bytes)
    }

    /// Opens $VISUAL or $EDITOR on a temporary file; lines starting with `#` are dropped.
    fn edit(&self, field: &str) -> Result<String> {
        if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
            return Err(Error::invalid(
                field,
                "needs a value: give the text, or `-` to read it from standard input (an editor opens only on a terminal)",
            ));
        }
        let editor = std::env::var("VISUAL")
            .or_else(|_| std::env::var("EDITOR"))
            .unwrap_or_else(|_| "vi".to_string());
        let dir = std::env::temp_dir();
        let path = dir.join(format!(
            "casebook-{}-{}.txt",
            field.trim_start_matches('-'),
            std::process::id()
        ));
        let io = |action, source| Error::Io {
            action,
            path: path.clone(),
            source,
        };
        let help = format!("\n# Write the {field} text above. Lines starting with # are ignored;\n# an empty text cancels.\n");
        std::fs::write(&path, help).map_err(|e| io("write", e))?;
        let status = std::process::Command::new("sh")
            .args(["-c", &format!("{editor} \"$1\""), "casebook-editor"])
            .arg(&path)
            .status()
            .map_err(|e| io("open an editor for", e))?;
        let text = std::fs::File::open(&path)
            .map_err(|e| io("read", e))
            .and_then(|file| self.read_bounded(field, file, || path.clone()))
            .and_then(|bytes| decode(field, bytes, "the editor's text"));
        let _ = std::fs::remove_file(&path);
        if !status.success() {
            return Err(Error::invalid(
                field,
                format!("the editor ({editor}) failed; nothing was recorded"),
            ));
        }
        let text: String = text?
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n")
            .trim()
            .to_string();
        if text.is_empty() {
            return Err(Error::invalid(field, "empty text: nothing was recorded"));
        }
        Ok(text)
    }
}

/// Text read from a stream: UTF-8 without NUL bytes (git cannot store a NUL in a commit
/// message, and no person types one), else an error naming the field and the byte.
fn decode(field: &str, bytes: Vec<u8>, source: &str) -> Result<String> {
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::invalid(
            field,
            format!(
                "{source} is not UTF-8 text (bad byte at offset {}); save it as UTF-8",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    if let Some(at) = text.find('\0') {
        return Err(Error::invalid(
            field,
            format!("{source} holds a NUL byte at offset {at}; give plain text"),
        ));
    }
    Ok(text)
}
