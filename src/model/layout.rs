//! Where things live in a case book: the one place that knows the paths.
//!
//! ```text
//! .casebook/config.toml          policy (see [`crate::model::config`])
//! .gitattributes                 routes cases/** to casebook's merge driver
//! cases/<shard>/<ID>.toml        one file per case; shard = first two characters after the dash
//! attachments/<ID>/<blob>/<file> supporting documents of one case; <blob> is the first
//!                                12 hex digits of the content's git blob id, so two clones
//!                                attaching different files of one name never write the
//!                                same path (older attachments: attachments/<ID>/<file>)
//! aliases/<old ID>               a case renamed by sync (an ID collision): holds the new ID
//! ```
//! Paths are relative to the repository root, with `/` separators, as git stores them.
//! Nothing mutable (status, owner, priority) is ever part of a path, so a case's history is
//! `git log -- <its path>`.

use super::event::Attachment;
use super::CaseId;

/// The folder of all case files.
pub const CASES_DIR: &str = "cases";
/// The folder of all attachments.
pub const ATTACHMENTS_DIR: &str = "attachments";
/// The folder of old IDs of renamed cases.
pub const ALIASES_DIR: &str = "aliases";

/// `cases/<shard>/<ID>.toml`.
pub fn case_path(id: &CaseId) -> String {
    format!("{CASES_DIR}/{}/{id}.toml", id.shard())
}

/// `attachments/<ID>/<name>`: where attachments recorded before content-addressed paths
/// live (their entry has no `path`); `name` is already a safe file name.
pub fn attachment_path(id: &CaseId, name: &str) -> String {
    format!("{ATTACHMENTS_DIR}/{id}/{name}")
}

/// How many hex digits of the blob id name an attachment's folder: enough that two
/// different files of one name in one case never meet (48 bits), short enough to read.
const BLOB_DIR_LEN: usize = 12;

/// `attachments/<ID>/<first 12 hex digits of the blob id>/<name>`: where a new attachment
/// goes. The path depends on the content, so the same path never holds two different
/// files, and two clones attaching a file of the same name cannot conflict.
pub fn new_attachment_path(id: &CaseId, name: &str, blob: &str) -> String {
    let dir: String = blob.chars().take(BLOB_DIR_LEN).collect();
    format!("{ATTACHMENTS_DIR}/{id}/{dir}/{name}")
}

/// Where an attachment's content is: its recorded `path`, else the old location under
/// the case's ID (`id` is the case the entry belongs to).
pub fn attachment_file(id: &CaseId, a: &Attachment) -> String {
    a.path
        .clone()
        .unwrap_or_else(|| attachment_path(id, &a.name))
}

/// Whether `path` is a file under `attachments/` that cannot escape it: no empty, `.` or
/// `..` component, no backslash, nothing starting with a dot. A recorded path comes from a
/// file anyone can edit, so it is checked before anything reads it.
pub fn is_attachment_path(path: &str) -> bool {
    let Some(rest) = path
        .strip_prefix(ATTACHMENTS_DIR)
        .and_then(|r| r.strip_prefix('/'))
    else {
        return false;
    };
    let parts: Vec<&str> = rest.split('/').collect();
    parts.len() >= 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && !p.starts_with('.')
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        })
}

/// `aliases/<old ID>`.
pub fn alias_path(old: &CaseId) -> String {
    format!("{ALIASES_DIR}/{old}")
}

/// The case a path belongs to, if it is a case file (`cases/<shard>/<ID>.toml` with the ID in
/// its own shard).
pub fn case_of_path(path: &str) -> Option<CaseId> {
    let rest = path.strip_prefix(CASES_DIR)?.strip_prefix('/')?;
    let (shard, file) = rest.split_once('/')?;
    let id = case_id_of_file(file)?;
    (id.shard() == shard).then_some(id)
}

/// `CB-7K3M9QXA.toml` → the ID; anything else in a shard is not a case file.
pub fn case_id_of_file(name: &str) -> Option<CaseId> {
    CaseId::parse(name.strip_suffix(".toml")?)
        .ok()
        .filter(|id| format!("{id}.toml") == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip() {
        let id = CaseId::parse("CB-7K3M9QXA").unwrap();
        assert_eq!(case_path(&id), "cases/7K/CB-7K3M9QXA.toml");
        assert_eq!(case_of_path(&case_path(&id)), Some(id.clone()));
        assert_eq!(
            attachment_path(&id, "a.png"),
            "attachments/CB-7K3M9QXA/a.png"
        );
        assert_eq!(
            new_attachment_path(&id, "a.png", "0123456789abcdef0123456789abcdef01234567"),
            "attachments/CB-7K3M9QXA/0123456789ab/a.png"
        );
        assert_eq!(alias_path(&id), "aliases/CB-7K3M9QXA");
        // Not case files: wrong shard, wrong folder, wrong suffix, lower case.
        assert_eq!(case_of_path("cases/AA/CB-7K3M9QXA.toml"), None);
        assert_eq!(case_of_path("attachments/7K/CB-7K3M9QXA.toml"), None);
        assert_eq!(case_of_path("cases/7K/CB-7K3M9QXA.txt"), None);
        assert_eq!(case_of_path("cases/7k/cb-7k3m9qxa.toml"), None);
    }

    #[test]
    fn recorded_attachment_paths_stay_inside_attachments() {
        assert!(is_attachment_path(
            "attachments/CB-7K3M9QXA/0123456789ab/a.png"
        ));
        assert!(is_attachment_path("attachments/CB-7K3M9QXA/a.png"));
        for bad in [
            "attachments/CB-7K3M9QXA/../../.git/config",
            "attachments/../cases/7K/CB-7K3M9QXA.toml",
            "cases/7K/CB-7K3M9QXA.toml",
            "attachments/a.png",
            "attachments//a.png",
            "/attachments/CB-7K3M9QXA/a.png",
            "attachments/CB-7K3M9QXA/.hidden",
            "attachments/CB-7K3M9QXA/a\\b.png",
        ] {
            assert!(!is_attachment_path(bad), "{bad}");
        }
    }
}
