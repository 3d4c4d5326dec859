//! Message templates: the SOP's example phrasings, addressed to the customer by name.
//!
//! Placeholders are `{{name}}` or `{{name|fallback}}`. An unknown placeholder, or one with no
//! value and no fallback, is an error naming it: a message never goes out with a blank.

use std::collections::BTreeMap;

/// The templates casebook ships, by name. Teams override them in `.casebook/config.toml`
/// (`[templates]`) or in `.casebook/templates/<name>.txt`.
pub const BUILT_IN: &[(&str, &str)] = &[
    (
        "acknowledge",
        "Dear {{customer.name}},

Thank you for contacting us about \"{{case.subject}}\". We appreciate you bringing this to our attention and are committed to resolving it promptly.

Your case number is {{case.id}}. Please mention it whenever you get in touch. Next, we will look into the details and keep you updated on our progress.

Kind regards,
{{agent.name}}",
    ),
    (
        "update",
        "Dear {{customer.name}},

We are currently investigating your case {{case.id}} (\"{{case.subject}}\") and expect to have a resolution by {{eta}}. We will keep you updated throughout the process.

Kind regards,
{{agent.name}}",
    ),
    (
        "follow-up",
        "Dear {{customer.name}},

We just wanted to follow up on your case {{case.id}} (\"{{case.subject}}\") to ensure everything has been resolved to your satisfaction. Please let us know if there is anything else we can assist you with.

How would you rate our service, from 1 (poor) to 5 (excellent)? Your feedback helps us improve. Thank you for your patience.

Kind regards,
{{agent.name}}",
    ),
];

/// Every placeholder a template may use.
pub const PLACEHOLDERS: &[&str] = &[
    "customer.name",
    "customer.email",
    "customer.phone",
    "case.id",
    "case.subject",
    "case.product",
    "case.priority",
    "case.status",
    "agent.name",
    "agent.email",
    "eta",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("template {template:?}: unknown placeholder {{{{{name}}}}}; known: {}", PLACEHOLDERS.join(", "))]
    Unknown { template: String, name: String },
    #[error("template {template:?}: {{{{{name}}}}} has no value for this case, and no fallback (write {{{{{name}|...}}}} to give one)")]
    Missing { template: String, name: String },
    #[error("template {template:?}: a {{{{ is never closed")]
    Unclosed { template: String },
    #[error("unknown template {0:?}: expected one of acknowledge, update, follow-up")]
    UnknownTemplate(String),
}

/// The built-in text of a template.
pub fn built_in(name: &str) -> Option<&'static str> {
    BUILT_IN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// Checks a template's placeholders without values (used when loading overrides).
pub fn check(name: &str, text: &str) -> Result<(), TemplateError> {
    if built_in(name).is_none() {
        return Err(TemplateError::UnknownTemplate(name.to_string()));
    }
    let all: BTreeMap<&str, Option<String>> = PLACEHOLDERS
        .iter()
        .map(|p| (*p, Some(p.to_string())))
        .collect();
    render(name, text, &all).map(|_| ())
}

/// Renders `text`, taking values from `values` (a known placeholder maps to `None` when the
/// case has no value for it).
pub fn render(
    name: &str,
    text: &str,
    values: &BTreeMap<&str, Option<String>>,
) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| TemplateError::Unclosed {
            template: name.to_string(),
        })?;
        let inner = &after[..end];
        let (key, fallback) = match inner.split_once('|') {
            Some((k, f)) => (k.trim(), Some(f)),
            None => (inner.trim(), None),
        };
        let value = values.get(key).ok_or_else(|| TemplateError::Unknown {
            template: name.to_string(),
            name: key.to_string(),
        })?;
        match (value.as_deref().filter(|v| !v.is_empty()), fallback) {
            (Some(v), _) => out.push_str(v),
            (None, Some(f)) => out.push_str(f),
            (None, None) => {
                return Err(TemplateError::Missing {
                    template: name.to_string(),
                    name: key.to_string(),
                })
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(eta: Option<&str>) -> BTreeMap<&'static str, Option<String>> {
        let mut v: BTreeMap<&str, Option<String>> =
            PLACEHOLDERS.iter().map(|p| (*p, None)).collect();
        v.insert("customer.name", Some("Ada Lovelace".into()));
        v.insert("case.id", Some("CB-7K3M9QXA".into()));
        v.insert("case.subject", Some("Printer jams".into()));
        v.insert("agent.name", Some("Dana Agent".into()));
        v.insert("eta", eta.map(String::from));
        v
    }

    #[test]
    fn built_in_templates_address_the_customer_by_name() {
        for (name, text) in BUILT_IN {
            check(name, text).unwrap();
        }
        let ack = render(
            "acknowledge",
            built_in("acknowledge").unwrap(),
            &values(None),
        )
        .unwrap();
        assert!(ack.starts_with("Dear Ada Lovelace,"), "{ack}");
        assert!(ack.contains("Your case number is CB-7K3M9QXA."), "{ack}");
        assert!(ack.ends_with("Dana Agent"), "{ack}");
        let update = render(
            "update",
            built_in("update").unwrap(),
            &values(Some("Friday 14:00")),
        )
        .unwrap();
        assert!(update.contains("resolution by Friday 14:00."), "{update}");
    }

    #[test]
    fn fallbacks_fill_missing_values_and_only_those() {
        let v = values(None);
        assert_eq!(
            render("t", "by {{eta|the end of the week}}.", &v).unwrap(),
            "by the end of the week."
        );
        assert_eq!(
            render("t", "Hi {{ customer.name | there }}", &v).unwrap(),
            "Hi Ada Lovelace"
        );
        assert_eq!(
            render("t", "{{case.product|}}x", &v).unwrap(),
            "x",
            "an empty fallback is explicit"
        );
    }

    #[test]
    fn unknown_and_missing_placeholders_are_errors_not_blanks() {
        let v = values(None);
        let e = render("update", built_in("update").unwrap(), &v).unwrap_err();
        assert_eq!(
            e,
            TemplateError::Missing {
                template: "update".into(),
                name: "eta".into()
            }
        );
        assert!(e.to_string().contains("{{eta}} has no value"), "{e}");
        let e = render("t", "Hello {{customer.nmae}}", &v).unwrap_err();
        assert!(
            e.to_string()
                .contains("unknown placeholder {{customer.nmae}}"),
            "{e}"
        );
        assert!(matches!(
            render("t", "Hello {{customer.name", &v),
            Err(TemplateError::Unclosed { .. })
        ));
        assert!(matches!(
            check("welcome", "hi"),
            Err(TemplateError::UnknownTemplate(_))
        ));
    }
}
