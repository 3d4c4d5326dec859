//! `--mine`, `--owner WHO`, `--unassigned` and `--tag T`: the team filters that `list`,
//! `due`, `search` and `review` share.

use super::Globals;
use crate::error::{Error, Result};
use crate::model::team::{parse_tag, OwnerFilter, TeamFilter};
use crate::ops::Casebook;

#[derive(Debug, clap::Args)]
pub struct TeamArgs {
    /// Only cases the acting agent owns (--actor, CASEBOOK_ACTOR or git's identity)
    #[arg(long, conflicts_with_all = ["owner", "unassigned"])]
    mine: bool,
    /// Only cases this person owns: "Name <email>", an e-mail, a name, or `me`
    #[arg(long, value_name = "WHO", conflicts_with = "unassigned")]
    owner: Option<String>,
    /// Only cases nobody owns
    #[arg(long)]
    unassigned: bool,
    /// Only cases with this tag (repeat: all must be there)
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
}

impl TeamArgs {
    /// The filter; `me` and `--mine` need to know who acts.
    pub fn filter(&self, g: &Globals, cb: &Casebook) -> Result<TeamFilter> {
        let me = || -> Result<OwnerFilter> { Ok(OwnerFilter::of(&g.context(Some(cb))?.actor)) };
        let owner = match (&self.owner, self.mine, self.unassigned) {
            (_, true, _) => me()?,
            (Some(who), _, _) if who.trim() == "me" => me()?,
            (Some(who), _, _) if who.trim().is_empty() => {
                return Err(Error::invalid("--owner", "must not be empty"))
            }
            (Some(who), _, _) => OwnerFilter::parse(who),
            (None, _, true) => OwnerFilter::Unassigned,
            (None, _, false) => OwnerFilter::Any,
        };
        let tags = self
            .tags
            .iter()
            .map(|t| parse_tag(t).map_err(|e| Error::value("--tag", t, e)))
            .collect::<Result<Vec<_>>>()?;
        Ok(TeamFilter { owner, tags })
    }
}
