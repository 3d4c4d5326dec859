use super::{print, print_json, Globals};
use crate::error::Result;
use crate::render;

/// Every case of one customer, newest first, with counts, open cases and the last rating
///
/// QUERY is an e-mail or a phone number (matched exactly; a phone by its digits) or a
/// whole name (any letter case). `list --customer TEXT` is the substring search.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook customer ada@example.com\n  casebook customer \"+49 30 4930582\" --json\n  casebook customer \"Ada Lovelace\""
)]
pub struct Args {
    /// E-mail, phone or name
    query: String,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let cb = g.casebook()?;
    let now = g.now()?;
    let (h, config) = cb.customer(&args.query, now)?;
    if g.json {
        let newest = h.cases.first().map(|(f, _)| &f.customer);
        return print_json(&serde_json::json!({
            "query": args.query,
            "customer": newest.map(|c| serde_json::json!({
                "name": c.name, "email": c.email, "phone": c.phone,
            })),
            "cases": h.cases.len(),
            "open": h.open,
            "last_rating": h.last_rating.as_ref().map(|(r, id)| serde_json::json!({
                "rating": r, "case": id,
            })),
            "list": h.cases.iter().map(|(f, k)| render::case_json(f, false, k)).collect::<Vec<_>>(),
        }));
    }
    let Some((newest, _)) = h.cases.first() else {
        eprintln!(
            "no case of a customer matching {:?} (`list --customer TEXT` searches parts of names)",
            args.query
        );
        return Ok(());
    };
    let c = &newest.customer;
    let contact = [c.email.as_deref(), c.phone.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
    let rating = h
        .last_rating
        .as_ref()
        .map(|(r, id)| format!(", last rating {r}/5 ({id})"))
        .unwrap_or_default();
    let files: Vec<_> = h.cases.iter().map(|(f, _)| f.clone()).collect();
    print(&format!(
        "{} ({contact}): {} case(s), {} open{rating}\n\n{}",
        c.name,
        h.cases.len(),
        h.open,
        render::list_table(&files, &config, g.style())
    ))
}
