//! Rendering the SOP's messages for a case, and previewing them without recording anything.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{resolve, Casebook, Context};
use crate::error::{Error, Result};
use crate::model::template::{self, TemplateError};
use crate::model::{CaseFile, Config};
use crate::store::Snapshot;

/// The text of template `name`: `.casebook/templates/<name>.txt`, else `[templates]` in the
/// config, else the built-in one.
pub(crate) fn template_text(snap: &Snapshot<'_>, config: &Config, name: &str) -> Result<String> {
    let builtin = template::built_in(name)
        .ok_or_else(|| TemplateError::UnknownTemplate(name.to_string()))
        .map_err(template_error)?;
    let path = format!(".casebook/templates/{name}.txt");
    if let Some(bytes) = snap.read(&path)? {
        let text = String::from_utf8(bytes)
            .map_err(|_| Error::invalid(path.clone(), "is not UTF-8 text"))?;
        template::check(name, &text).map_err(|source| Error::BadTemplate { path, source })?;
        return Ok(text.trim_end().to_string());
    }
    Ok(config
        .templates
        .get(name)
        .map(|t| t.trim().to_string())
        .unwrap_or_else(|| builtin.to_string()))
}

/// Renders template `name` for `case`, as `ctx.actor` would send it, with `eta` if given
/// (else the case's current ETA).
pub(crate) fn render_for(
    snap: &Snapshot<'_>,
    config: &Config,
    name: &str,
    case: &CaseFile,
    ctx: &Context,
    eta: Option<DateTime<Utc>>,
) -> Result<String> {
    let text = template_text(snap, config, name)?;
    let c = &case.case;
    let tz = config.calendar.tz();
    let eta = eta.or(c.eta).map(|t| {
        t.with_timezone(&tz)
            .format("%A, %-d %B %Y, %H:%M %Z")
            .to_string()
    });
    // A personal value that was erased (or whose key this clone lacks) is no value: a
    // message to the customer must never carry its sealed text or a marker.
    let personal = |v: &str| -> Option<String> {
        use crate::model::privacy::{ERASED, NO_KEY};
        let v = v.trim();
        (!v.is_empty() && !crate::model::seal::is_sealed(v) && v != ERASED && v != NO_KEY)
            .then(|| v.to_string())
    };
    let values: BTreeMap<&str, Option<String>> = BTreeMap::from([
        ("customer.name", personal(&case.customer.name)),
        (
            "customer.email",
            case.customer.email.as_deref().and_then(personal),
        ),
        (
            "customer.phone",
            case.customer.phone.as_deref().and_then(personal),
        ),
        ("case.id", Some(c.id.to_string())),
        ("case.subject", personal(&c.subject)),
        ("case.product", c.product.clone()),
        ("case.priority", Some(c.priority.to_string())),
        ("case.status", Some(c.status.to_string())),
        ("agent.name", Some(ctx.actor.name.clone())),
        ("agent.email", Some(ctx.actor.email.clone())),
        ("eta", eta),
    ]);
    template::render(name, &text, &values).map_err(template_error)
}

/// A template that cannot be rendered. A missing ETA is the agent's to give, not the
/// template author's to fix, so it is named as the --eta it needs.
fn template_error(e: TemplateError) -> Error {
    match &e {
        TemplateError::Missing { name, .. } if name == "eta" => Error::invalid(
            "--eta",
            "this case has no ETA, and the update message promises one: give --eta (e.g. --eta \"friday 17:00\"), or write the message with --message",
        ),
        _ => Error::Template(e),
    }
}

impl Casebook {
    /// The message template `name` would produce for a case now; records nothing.
    pub fn preview_template(
        &self,
        ctx: &Context,
        name: &str,
        query: &str,
        eta: Option<&str>,
    ) -> Result<String> {
        // A read like `show`: one view of the tip for the ID, the case and the policy.
        let view = self.view()?;
        let config = view.config();
        let id = resolve(&view, query)?;
        let case = view
            .case(&id)?
            .ok_or_else(|| Error::UnknownCase(query.to_string()))?;
        let eta = eta
            .map(|t| super::when::parse_future_time("--eta", t, ctx, config))
            .transpose()?;
        render_for(view.snapshot(), config, name, &case, ctx, eta)
    }
}
