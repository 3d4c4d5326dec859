//! `research`: findings, root cause, isolated or systemic, and links to related cases.

use super::{optional_text, resolve, Casebook, Cases, Context, Step};
use crate::error::{Error, Result};
use crate::model::payload::{Link, Research};
use crate::model::{Action, Event};

impl Casebook {
    /// Records findings; each linked case must exist, and gets a `link` event in the same
    /// commit so the link shows on both cases.
    pub fn research<C: Cases>(
        &self,
        ctx: &Context,
        id: C,
        finding: Option<String>,
        root_cause: Option<String>,
        scope: Option<&str>,
        links: &[String],
    ) -> Result<C::Out> {
        self.record_cases(ctx, id, Action::Research, |cur| {
            let me = &cur.case.case.id;
            let mut e = Research {
                finding: optional_text(&finding),
                root_cause: optional_text(&root_cause),
                ..Default::default()
            };
            e.scope = match scope.map(|s| (s, crate::model::Scope::parse(s))) {
                None => None,
                Some((_, Some(known))) => Some(known),
                Some((other, None)) => {
                    return Err(Error::invalid(
                        "--scope",
                        format!("{other:?}: expected isolated or systemic"),
                    ))
                }
            };
            let mut extra_files = Vec::new();
            for query in links {
                let other = resolve(cur.snap, query).map_err(|err| match err {
                    Error::UnknownCase(q) => {
                        Error::invalid("--link", format!("no case matches {q:?}"))
                    }
                    other => other,
                })?;
                if &other == me {
                    return Err(Error::invalid(
                        "--link",
                        format!("case {me} cannot link to itself"),
                    ));
                }
                if cur.case.case.links.contains(&other.to_string())
                    || e.links.contains(&other.to_string())
                {
                    continue;
                }
                let mut other_case = cur
                    .snap
                    .case(&other)?
                    .ok_or_else(|| Error::UnknownCase(query.clone()))?;
                let back = Event::with(
                    Link {
                        links: vec![me.to_string()],
                        ..Default::default()
                    },
                    ctx.now,
                    &ctx.actor.to_string(),
                );
                other_case.append(back).map_err(|source| Error::Case {
                    id: other.clone(),
                    source,
                })?;
                extra_files.push((other.path(), other_case.to_toml().into_bytes()));
                e.links.push(other.to_string());
            }
            if e.finding.is_none()
                && e.root_cause.is_none()
                && e.scope.is_none()
                && e.links.is_empty()
            {
                return Err(Error::invalid(
                    "research",
                    "nothing to record: give a --finding, --root-cause, --scope or a new --link",
                ));
            }
            Ok(Step {
                event: Event::with(e, ctx.now, &ctx.actor.to_string()),
                extra_files,
            })
        })
    }
}
