use super::{print, print_json, Globals};
use crate::error::Result;

/// Seal this case book's personal data from now on (an existing plain book)
///
/// Sets `[privacy] seal = true` in one commit. From then on every personal value a case
/// file holds is stored encrypted, with one key per case in refs/casebook/keyring, and
/// `casebook erase` can destroy it. Each case is sealed the next time it is written.
///
/// Older history still holds the plain text it was written with: erasing that needs a
/// history rewrite that every clone must follow, which casebook does not do silently.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "Examples:\n  casebook seal\n  casebook seal -C /srv/casebook.git")]
pub struct Args {}

pub fn run(g: &Globals, _args: Args) -> Result<()> {
    let (cb, ctx) = g.writer()?;
    let changed = cb.seal_book(&ctx)?;
    if g.json {
        return print_json(&serde_json::json!({ "sealed": true, "changed": changed }));
    }
    // No commit was made, so there is no "this one" for the note to speak of, and no
    // setting to share.
    if !changed {
        return print(
            "this case book is already sealed ([privacy] seal = true); nothing changed\n",
        );
    }
    print("sealed: personal data written from now on is stored only encrypted ([privacy] seal = true)\n\
           note: commits made before this one still hold personal data in plain text; casebook does not rewrite history (every clone would have to follow). Run `casebook sync` to share the setting.\n")
}
