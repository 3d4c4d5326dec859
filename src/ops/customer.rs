//! `customer`: every case of one customer, newest first, with what a team asks first
//! (how many, how many open, the last rating).

use super::Casebook;
use crate::error::{Error, Result};
use crate::model::commitment::{evaluate, Commitment};
use crate::model::team::CustomerQuery;
use crate::model::{CaseFile, Status};

/// One customer's cases.
pub struct CustomerHistory {
    /// Newest first, with their commitments at "now".
    pub cases: Vec<(CaseFile, Vec<Commitment>)>,
    /// Cases not closed.
    pub open: usize,
    /// The rating of the most recently rated case, and that case.
    pub last_rating: Option<(u8, String)>,
}

impl Casebook {
    /// The cases of the customer `query` names (see [`CustomerQuery`]).
    pub fn customer(
        &self,
        query: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(CustomerHistory, crate::model::Config)> {
        let q = CustomerQuery::parse(query).ok_or_else(|| {
            Error::invalid("QUERY", "must not be empty: an e-mail, a phone or a name")
        })?;
        let view = self.view()?;
        let config = view.config().clone();
        let keep = |f: CaseFile| {
            q.matches(
                &f.customer.name,
                f.customer.email.as_deref(),
                f.customer.phone.as_deref(),
            )
            .then(|| {
                let ks = evaluate(&f, &config, now);
                (f, ks)
            })
        };
        // The index holds every case's contact fields: parse only the customer's cases.
        let rows = view.index().and_then(|i| {
            i.list_rows(&[], None, &[], None, None, &Default::default())
                .ok()
        });
        let mut cases = match rows {
            Some(rows) => {
                let entries: Vec<_> = rows
                    .into_iter()
                    .filter(|r| {
                        q.matches(
                            &r.customer_name,
                            r.customer_email.as_deref(),
                            r.customer_phone.as_deref(),
                        )
                    })
                    .map(|r| r.entry)
                    .collect();
                view.map_listed(&entries, keep)?
            }
            None => view.map_cases(keep)?,
        };
        cases.sort_by(|a, b| {
            (b.0.case.created_at, b.0.case.id.as_str())
                .cmp(&(a.0.case.created_at, a.0.case.id.as_str()))
        });
        let open = cases
            .iter()
            .filter(|(f, _)| f.case.status != Status::Closed)
            .count();
        let last_rating = cases
            .iter()
            .filter_map(|(f, _)| {
                let rating = f.case.satisfaction.as_ref()?.rating?;
                Some((f.case.updated_at, rating, f.case.id.to_string()))
            })
            .max_by_key(|(t, _, _)| *t)
            .map(|(_, r, id)| (r, id));
        Ok((
            CustomerHistory {
                cases,
                open,
                last_rating,
            },
            config,
        ))
    }
}
