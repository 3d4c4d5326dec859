//! Where things live in a case book: the one place that knows the paths.
//!
//! ```text
//! .casebook/config.toml          policy (see [`crate::model::config`])
//! .gitattributes                 routes cases/** to casebook's merge driver
//! cases/<shard>/<ID>.toml        one file per case; shard = first two characters after the dash
//! attachments/<ID>/<file>        supporting documents of one case
//! aliases/<old ID>               a case renamed by sync (an ID collision): holds the new ID
//! ```
//! Paths are relative to the repository root, with `/` separators, as git stores them.
//! Nothing mutable (status, owner, priority) is ever part of a path, so a case's history is
//! `git log -- <its path>`.

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

/// `attachments/<ID>/<name>`; `name` is already a safe file name.
pub fn attachment_path(id: &CaseId, name: &str) -> String {
    format!("{ATTACHMENTS_DIR}/{id}/{name}")
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
        assert_eq!(alias_path(&id), "aliases/CB-7K3M9QXA");
        // Not case files: wrong shard, wrong folder, wrong suffix, lower case.
        assert_eq!(case_of_path("cases/AA/CB-7K3M9QXA.toml"), None);
        assert_eq!(case_of_path("attachments/7K/CB-7K3M9QXA.toml"), None);
        assert_eq!(case_of_path("cases/7K/CB-7K3M9QXA.txt"), None);
        assert_eq!(case_of_path("cases/7k/cb-7k3m9qxa.toml"), None);
    }
}
