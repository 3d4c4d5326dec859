//! Free text from a flag, from standard input (`-`), or from $EDITOR (the flag given
//! without a value, on a terminal).

use std::io::{IsTerminal, Read};

use crate::error::{Error, Result};

/// What clap stores when a text flag is given without a value.
pub const FROM_EDITOR: &str = "\u{1}editor";

/// Resolves a text argument. Only one argument per command may read standard input.
pub fn resolve(
    field: &str,
    value: Option<String>,
    stdin_used: &mut bool,
) -> Result<Option<String>> {
    match value.as_deref() {
        Some("-") => {
            if std::mem::replace(stdin_used, true) {
                return Err(Error::invalid(
                    field,
                    "only one option can read standard input (`-`)",
                ));
            }
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|source| Error::Io {
                    action: "read",
                    path: "standard input".into(),
                    source,
                })?;
            Ok(Some(text.trim_end().to_string()))
        }
        Some(FROM_EDITOR) => edit(field).map(Some),
        _ => Ok(value),
    }
}

/// Opens $VISUAL or $EDITOR on a temporary file; lines starting with `#` are dropped.
fn edit(field: &str) -> Result<String> {
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
    std::fs::write(&path, format!("\n# Write the {field} text above. Lines starting with # are ignored;\n# an empty text cancels.\n"))
        .map_err(|e| io("write", e))?;
    let status = std::process::Command::new("sh")
        .args(["-c", &format!("{editor} \"$1\""), "casebook-editor"])
        .arg(&path)
        .status()
        .map_err(|e| io("open an editor for", e))?;
    let text = std::fs::read_to_string(&path).map_err(|e| io("read", e));
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
