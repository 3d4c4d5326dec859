use clap::builder::PossibleValuesParser;
use clap::builder::TypedValueParser;

use super::{print, print_json, text, Globals};
use crate::error::Result;
use crate::model::{Channel, Priority};
use crate::ops::NewCase;

/// Open a case: assign a unique case number to a new inquiry
///
/// Records the intake in one commit and prints only the new ID, so scripts can capture
/// it: `id=$(casebook open ...)`. A customer name, a subject and at least one of
/// --email/--phone are required.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Examples:\n  casebook open --customer \"Ann Example\" --email ann@example.com --subject \"Printer jams\"\n  id=$(casebook open --customer Bo --phone \"+49 30 1234\" --subject \"No dial tone\" --priority high)"
)]
pub struct Args {
    /// The customer's name, as they would like to be addressed
    #[arg(long)]
    customer: String,
    /// One line saying what the inquiry is about
    #[arg(long)]
    subject: String,
    /// The customer's e-mail address (this or --phone is required)
    #[arg(long)]
    email: Option<String>,
    /// The customer's phone number, as they gave it
    #[arg(long)]
    phone: Option<String>,
    /// Product or service involved
    #[arg(long)]
    product: Option<String>,
    /// How urgent the case is; sets its SLA targets
    #[arg(long, default_value = "normal",
          value_parser = PossibleValuesParser::new(Priority::KNOWN).map(|s| Priority::from_stored(&s)))]
    priority: Priority,
    /// How the customer reached us [default: email if --email is given, else phone]
    #[arg(long, value_parser = PossibleValuesParser::new(Channel::KNOWN).map(|s| Channel::from_stored(&s)))]
    channel: Option<Channel>,
    /// When the problem happened, in the case book's zone: "yesterday 16:30", "2 hours ago",
    /// "2026-11-22 16:30", RFC 3339
    #[arg(long, value_name = "TIME")]
    incident_at: Option<String>,
    /// The problem in the customer's words
    #[arg(long)]
    description: Option<String>,
}

pub fn run(g: &Globals, args: Args) -> Result<()> {
    let cb = g.casebook()?;
    let ctx = g.context(Some(&cb))?;
    let texts = text::Texts::new(&cb)?;
    let new = NewCase {
        customer: texts
            .check("--customer", Some(args.customer))?
            .unwrap_or_default(),
        email: args.email,
        phone: args.phone,
        subject: texts
            .check("--subject", Some(args.subject))?
            .unwrap_or_default(),
        product: texts.check("--product", args.product)?,
        priority: Some(args.priority),
        channel: args.channel,
        incident_at: args.incident_at,
        description: texts.check("--description", args.description)?,
    };
    let id = cb.open_case(&ctx, &new)?;
    if g.json {
        print_json(&serde_json::json!({ "id": id.as_str() }))
    } else {
        print(&format!("{id}\n"))
    }
}
