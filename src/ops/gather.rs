//! `gather`: the facts of the case, questions and answers, and supporting documents.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::{optional_text, Casebook, Cases, Context, Current, Step};
use crate::error::{Error, Result};
use crate::model::event::{Attachment, CustomerFields, FieldChange};
use crate::model::payload::Gather;
use crate::model::time::format_utc;
use crate::model::validate::{is_email, is_phone};
use crate::model::{layout, Action, Event, Personal};

/// What an agent gathered; every field optional, at least one required.
#[derive(Debug, Clone, Default)]
pub struct GatherInput {
    pub product: Option<String>,
    /// A new priority (SLA due times follow it from the original start).
    pub priority: Option<String>,
    pub incident_at: Option<String>,
    pub description: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub question: Option<String>,
    pub answer: Option<String>,
    pub attach: Vec<PathBuf>,
    pub note: Option<String>,
}

/// Longest attachment name kept (the rest of a longer name is cut).
const MAX_NAME: usize = 100;

impl Casebook {
    /// Records intake facts (each change with its old and new value), a question and its
    /// answer, notes and attachments, as one event.
    pub fn gather<C: Cases>(&self, ctx: &Context, id: C, input: &GatherInput) -> Result<C::Out> {
        // Read the files once, before the transaction: a missing or unreadable file is an
        // error before anything is written.
        let files = if input.attach.is_empty() {
            Vec::new()
        } else {
            let max_bytes = self.config()?.attachments.max_bytes;
            input
                .attach
                .iter()
                .map(|p| read_attachment(p, max_bytes).map(|bytes| (p.clone(), bytes)))
                .collect::<Result<Vec<_>>>()?
        };
        self.record_cases(ctx, id, Action::Gather, |cur| {
            gather_step(cur, ctx, input, &files)
        })
    }
}

/// Reads a file to attach: a regular file of at most `max_bytes`. A FIFO, a device or a
/// socket is refused before a byte is read (`/dev/zero` would fill memory, a FIFO would
/// wait for a writer forever); the file is opened without blocking and its type checked on
/// the open handle, so it cannot be swapped for something else in between. At most
/// `max_bytes + 1` bytes are read, enough to know the file is too large.
fn read_attachment(path: &Path, max_bytes: u64) -> Result<Vec<u8>> {
    let io = |source| Error::Input {
        path: path.to_path_buf(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Opening a FIFO for reading blocks until a writer appears, unless non-blocking.
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(Error::invalid(
            "--attach",
            format!(
                "{} is {}, not a regular file: attach a file (copy the content into one first)",
                path.display(),
                file_kind(&meta.file_type())
            ),
        ));
    }
    let too_large = |size: u64| {
        Error::invalid(
            "--attach",
            format!(
                "{} is {size} bytes; the limit is {max_bytes} (attachments.max_bytes)",
                path.display()
            ),
        )
    };
    if meta.len() > max_bytes {
        return Err(too_large(meta.len()));
    }
    let mut bytes = Vec::new();
    // The file may grow after the check: read no more than one byte past the limit.
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    let read = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if read > max_bytes {
        return Err(too_large(read));
    }
    Ok(bytes)
}

/// What a file that is not a regular file is, for the error message.
fn file_kind(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() {
        "a folder"
    } else {
        "a special file"
    }
}

fn gather_step(
    cur: &Current<'_, '_>,
    ctx: &Context,
    input: &GatherInput,
    files: &[(PathBuf, Vec<u8>)],
) -> Result<Step> {
    let case = &cur.case.case;
    let mut e = Event::new(Action::Gather, ctx.now, &ctx.actor.to_string());
    let mut g = Gather::default();
    let mut change = |field: &str, old: Option<String>, new: Option<String>| {
        if old != new {
            g.changes.push(FieldChange {
                field: field.to_string(),
                old,
                new,
                extra: toml::Table::new(),
            });
        }
    };
    if let Some(p) = optional_text(&input.product) {
        change("product", case.product.clone(), Some(p));
    }
    if let Some(p) = optional_text(&input.priority) {
        let p = crate::model::Priority::parse(&p).ok_or_else(|| {
            Error::invalid(
                "--priority",
                format!("{p:?}: expected urgent, high, normal or low"),
            )
        })?;
        change(
            "priority",
            Some(case.priority.to_string()),
            Some(p.to_string()),
        );
    }
    if let Some(d) = optional_text(&input.description) {
        change(
            "description",
            case.description.clone().map(String::from),
            Some(d),
        );
    }
    if let Some(t) = &input.incident_at {
        let t = super::when::parse_past_time("--incident-at", t, ctx, cur.config)?;
        change(
            "incident_at",
            case.incident_at.as_ref().map(format_utc),
            Some(format_utc(&t)),
        );
    }

    // Contact details are personal data: they go in the event's customer table.
    let customer = &cur.case.customer;
    let mut new = CustomerFields::default();
    let mut was = CustomerFields::default();
    if let Some(email) = optional_text(&input.email) {
        if !is_email(&email) {
            return Err(Error::invalid(
                "--email",
                format!("{email:?} is not an e-mail address (expected name@example.com)"),
            ));
        }
        if customer.email.as_deref() != Some(email.as_str()) {
            was.email = customer.email.clone();
            new.email = Some(email.into());
        }
    }
    if let Some(phone) = optional_text(&input.phone) {
        if !is_phone(&phone) {
            return Err(Error::invalid(
                "--phone",
                format!("{phone:?} is not a phone number"),
            ));
        }
        if customer.phone.as_deref() != Some(phone.as_str()) {
            was.phone = customer.phone.clone();
            new.phone = Some(phone.into());
        }
    }
    if !new.is_empty() {
        if !was.is_empty() {
            new.was = Some(Box::new(was));
        }
        e.customer = Some(new);
    }

    g.question = optional_text(&input.question).map(Personal::from);
    g.answer = optional_text(&input.answer).map(Personal::from);
    if g.answer.is_some() && g.question.is_none() {
        return Err(Error::invalid(
            "--answer",
            "an answer needs the --question it answers",
        ));
    }
    g.note = optional_text(&input.note).map(Personal::from);

    let mut extra_files = Vec::new();
    let limits = cur.config.attachments;
    let existing = &case.attachments;
    if existing.len() + files.len() > limits.max_count as usize {
        return Err(Error::invalid(
            "--attach",
            format!(
                "case {} would have {} attachments; the limit is {} (attachments.max_count)",
                case.id,
                existing.len() + files.len(),
                limits.max_count
            ),
        ));
    }
    for (path, bytes) in files {
        if bytes.len() as u64 > limits.max_bytes {
            return Err(Error::invalid(
                "--attach",
                format!(
                    "{} is {} bytes; the limit is {} (attachments.max_bytes)",
                    path.display(),
                    bytes.len(),
                    limits.max_bytes
                ),
            ));
        }
        let taken: Vec<&str> = existing
            .iter()
            .chain(&e.attachments)
            .map(|a| a.name.as_str())
            .collect();
        let name = unique_name(&safe_name(path), &taken);
        // In a sealed book the content is sealed like the case's text, and the file's
        // name (personal data too) stays out of its path.
        let (content, file_name) = match crate::model::privacy::seal_attachment(cur.case, bytes) {
            Some(sealed) => (sealed, "sealed"),
            None => (bytes.clone(), name.as_str()),
        };
        let blob = git2::Oid::hash_object(git2::ObjectType::Blob, &content)
            .map_err(|_| Error::invalid("--attach", "cannot hash the attachment"))?;
        let blob = blob.to_string();
        let stored = layout::new_attachment_path(&case.id, file_name, &blob);
        extra_files.push((stored.clone(), content));
        e.attachments.push(Attachment {
            name: name.into(),
            size: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
            blob,
            path: Some(stored),
            extra: toml::Table::new(),
        });
    }

    if g.changes.is_empty()
        && e.customer.is_none()
        && g.question.is_none()
        && g.note.is_none()
        && e.attachments.is_empty()
    {
        return Err(Error::invalid(
            "gather",
            "nothing to record: give a changed fact (--product, --priority, --incident-at, --description, --email, --phone), a --question, a --note or an --attach",
        ));
    }
    e.payload = g.into();
    Ok(Step {
        event: e,
        extra_files,
    })
}

/// A file name that is safe in any repository and on any system: letters, digits, `.`, `-`
/// and `_` only; no leading dot; never empty; never a path.
pub(crate) fn safe_name(path: &std::path::Path) -> String {
    let raw = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut name: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    name = name.trim_start_matches('.').to_string();
    if name.chars().all(|c| c == '_' || c == '.') {
        name = "attachment".to_string();
    }
    if name.len() > MAX_NAME {
        let ext = name
            .rsplit_once('.')
            .map(|(_, e)| e.to_string())
            .filter(|e| e.len() <= 10);
        name.truncate(MAX_NAME - ext.as_ref().map_or(0, |e| e.len() + 1));
        if let Some(ext) = ext {
            name = format!("{name}.{ext}");
        }
    }
    name
}

/// `name`, or `name-2`, `name-3`... (before the extension) if it is already taken.
fn unique_name(name: &str, taken: &[&str]) -> String {
    if !taken.contains(&name) {
        return name.to_string();
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s, format!(".{e}")),
        _ => (name, String::new()),
    };
    (2..)
        .map(|n| format!("{stem}-{n}{ext}"))
        .find(|candidate| !taken.contains(&candidate.as_str()))
        .expect("an unused suffix exists")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn attachment_names_are_made_safe() {
        assert_eq!(
            safe_name(Path::new("/tmp/screen shot (1).png")),
            "screen_shot__1_.png"
        );
        assert_eq!(safe_name(Path::new("../../.bashrc")), "bashrc");
        assert_eq!(safe_name(Path::new("...")), "attachment");
        assert_eq!(safe_name(Path::new("Überweisung.pdf")), "_berweisung.pdf");
        let long = format!("{}.pdf", "x".repeat(300));
        let safe = safe_name(Path::new(&long));
        assert!(safe.len() <= MAX_NAME && safe.ends_with(".pdf"), "{safe}");
    }

    #[test]
    fn taken_names_get_a_suffix() {
        assert_eq!(
            unique_name("log.txt", &["log.txt", "log-2.txt"]),
            "log-3.txt"
        );
        assert_eq!(unique_name("README", &["README"]), "README-2");
        assert_eq!(unique_name("new.txt", &["log.txt"]), "new.txt");
    }
}
