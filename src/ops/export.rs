//! `export`: every case's current values as rows, for spreadsheets and scripts.

use super::Casebook;
use crate::error::Result;
use crate::model::config::IMPORT_FIELDS;
use crate::model::privacy::{ERASED, NO_KEY};
use crate::model::review_export::{review_values, REVIEW_COLUMNS};
use crate::model::time::format_utc;
use crate::model::{CaseFile, Config, Status};
use chrono::{DateTime, Utc};

/// The case's own columns that casebook's export writes after the import fields; the
/// review's per-case inputs ([`REVIEW_COLUMNS`]) follow them.
const CASE_COLUMNS: &[&str] = &[
    "id",
    "status",
    "updated_at",
    "acknowledged_at",
    "resolved_at",
    "closed_at",
    "escalation_level",
    "reopen_count",
    "root_cause",
    "resolution",
    "eta",
];

/// Columns casebook's own export writes after the import fields; an import reads past them.
pub fn export_only_columns() -> Vec<&'static str> {
    CASE_COLUMNS.iter().chain(REVIEW_COLUMNS).copied().collect()
}

/// Export columns, in order: the import fields first (so an export imports again), then
/// what only the export carries.
pub fn export_columns() -> Vec<&'static str> {
    IMPORT_FIELDS
        .iter()
        .copied()
        .chain(export_only_columns())
        .collect()
}

/// One exported case: a value (or none) per column of [`export_columns`].
pub type ExportRow = Vec<Option<String>>;

impl Casebook {
    /// The cases in the given statuses (all when empty), in ID order. With `redact`,
    /// customer names, e-mail addresses and phone numbers become pseudonyms: HMAC-SHA256
    /// under the book's pseudonym secret (kept in the key ring, never in the history), so
    /// the same value gets the same pseudonym in every export from any clone of the book,
    /// and guessing values cannot reverse them without the secret. An erased or unopenable
    /// value stays `[erased]` or `[sealed]`. SLA outcomes are judged at `now`.
    pub fn export(
        &self,
        statuses: &[Status],
        redact: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<ExportRow>> {
        let view = self.view()?;
        let config = view.config();
        let secret = if redact {
            Some(self.store.pseudonym_secret(now)?)
        } else {
            None
        };
        let pseudonym = |kind: &str, value: &str| -> String {
            // An erased value (or one this clone has no key for) reads as its marker, the
            // same for every customer: a pseudonym of it would give unrelated people one
            // identity. It stays the marker, as in an export without --redact.
            if value == ERASED || value == NO_KEY {
                return value.to_string();
            }
            let secret = secret.as_ref().map(|s| &s.bytes()[..]).unwrap_or_default();
            pseudonym(secret, kind, value)
        };
        let select = |f: CaseFile| {
            if !statuses.is_empty() && !statuses.contains(&f.case.status) {
                return None;
            }
            let mut row = row_of(&f, config, now);
            if redact {
                row[1] = row[1].as_deref().map(|v| pseudonym("name", v));
                row[2] = row[2].as_deref().map(|v| pseudonym("email", v));
                row[3] = row[3].as_deref().map(|v| pseudonym("phone", v));
            }
            Some(row)
        };
        // With a status filter the index names the case files to read (in path order,
        // as the scan walks them).
        let wanted: Vec<String> = statuses.iter().map(|s| s.to_string()).collect();
        let rows = match view
            .index()
            .filter(|_| !statuses.is_empty())
            .and_then(|i| i.with_status(&wanted).ok())
        {
            Some(entries) => view.map_listed(&entries, select)?,
            None => view.map_cases(select)?,
        };
        Ok(rows)
    }
}

/// The pseudonym of one value of `kind` (`name`, `email`, `phone`): the same for the same
/// value in any letter case or spacing, and unrelated to it without the secret.
fn pseudonym(secret: &[u8], kind: &str, value: &str) -> String {
    let data = format!("{kind}\0{}", value.trim().to_lowercase());
    let hash = crate::model::keyring::keyed_digest(secret, data.as_bytes());
    match kind {
        "name" => format!("Customer {}", &hash[..8]),
        "email" => format!("{}@redacted.invalid", &hash[..12]),
        _ => format!("redacted-{}", &hash[..10]),
    }
}

fn row_of(f: &CaseFile, config: &Config, now: DateTime<Utc>) -> ExportRow {
    let c = &f.case;
    let t = |v: &Option<DateTime<Utc>>| v.as_ref().map(format_utc);
    let mut row = vec![
        Some(c.external_id.clone().unwrap_or_else(|| c.id.to_string())),
        Some(f.customer.name.to_string()),
        f.customer.email.clone().map(String::from),
        f.customer.phone.clone().map(String::from),
        Some(c.subject.to_string()),
        c.product.clone(),
        Some(c.priority.to_string()),
        Some(c.channel.to_string()),
        t(&c.incident_at),
        c.description.clone().map(String::from),
        Some(format_utc(&c.created_at)),
        c.owner.clone(),
        (!c.tags.is_empty()).then(|| c.tags.join(";")),
        Some(c.id.to_string()),
        Some(c.status.to_string()),
        Some(format_utc(&c.updated_at)),
        t(&c.acknowledged_at),
        t(&c.resolved_at),
        t(&c.closed_at),
        Some(c.escalation_level.to_string()),
        Some(c.reopen_count.to_string()),
        c.root_cause.clone(),
        c.resolution.clone(),
        t(&c.eta),
    ];
    row.extend(review_values(f, config, now));
    row
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::CustomerFields;
    use crate::model::{Action, CaseId, Event};

    #[test]
    fn pseudonyms_are_hmac_sha256_of_the_normalised_value() {
        let secret = b"book secret";
        let a = pseudonym(secret, "email", "Ada@Example.com ");
        assert_eq!(a, pseudonym(secret, "email", "ada@example.com"));
        let hmac = crate::model::keyring::keyed_digest(secret, b"email\0ada@example.com");
        assert_eq!(a, format!("{}@redacted.invalid", &hmac[..12]));
        assert_ne!(a, pseudonym(b"another book", "email", "ada@example.com"));
        assert_ne!(a, pseudonym(secret, "email", "bob@example.com"));
    }

    #[test]
    fn a_row_has_one_value_per_column_and_starts_with_the_import_fields() {
        let mut open = Event::new(Action::Open, chrono::Utc::now(), "A <a@example.com>");
        open.get_mut::<crate::model::payload::Open>()
            .unwrap()
            .subject = Some("s".into());
        open.customer = Some(CustomerFields {
            name: Some("Ada".into()),
            ..Default::default()
        });
        let file = CaseFile::create(CaseId::parse("CB-7K3M9QXA").unwrap(), open).unwrap();
        let columns = export_columns();
        let (config, now) = (Config::default(), chrono::Utc::now());
        let row = row_of(&file, &config, now);
        assert_eq!(row.len(), columns.len());
        assert_eq!(&columns[..IMPORT_FIELDS.len()], IMPORT_FIELDS);
        assert!(export_only_columns().ends_with(crate::model::review_export::REVIEW_COLUMNS));
        assert_eq!(
            row[columns.iter().position(|c| *c == "id").unwrap()].as_deref(),
            Some("CB-7K3M9QXA")
        );
    }
}
