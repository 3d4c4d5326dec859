//! `casebook textconv FILE`: git's textconv driver for case files, so `git log -p` and
//! `git show` show sealed values opened where this clone has the key. The files stay
//! sealed; only what git prints for a person changes.

use std::path::Path;

use crate::error::{Error, Result};
use crate::store::Store;

/// The text git should show for `file` (a temporary copy git made of one version of a
/// case file), opening sealed values with the key ring of the repository at `start`.
/// Anything that is not a sealed case file, or a repository without a key ring, comes out
/// as it is: a diff must never fail because of this driver.
pub fn textconv(start: &Path, file: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(file).map_err(|source| Error::Input {
        path: file.to_path_buf(),
        source,
    })?;
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Ok(bytes);
    };
    let ring = Store::discover(start)
        .ok()
        .and_then(|store| store.keyring().ok().flatten())
        .unwrap_or_default();
    Ok(crate::model::privacy::open_case_text(text, &ring)
        .map(String::into_bytes)
        .unwrap_or(bytes))
}
