//! `search`: full-text search over the cases' text, through the index's FTS5 table.
//!
//! What a person types is translated into an FTS5 expression here, never passed through:
//! words (all must match, in any searchable field), `"exact phrases"`, `prefix*`, and
//! `-word` / `-"phrase"` to exclude. Every term is quoted for FTS5, so its own operators and
//! column filters cannot be typed by accident; a query this cannot translate is a user
//! error that says why.

use serde::Serialize;

use super::Casebook;
use crate::error::{Error, Result};
use crate::model::{Priority, Status};

/// One case that matched, best first.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SearchHit {
    pub case: String,
    pub status: String,
    pub priority: String,
    pub subject: String,
    /// The searchable field with the (first) match: subject, description, messages,
    /// questions, findings, root_cause, resolution, feedback or logs.
    pub field: String,
    /// A short extract of that field, matches in `[` `]`.
    pub snippet: String,
    /// SQLite's bm25 score (lower is a better match).
    pub rank: f64,
}

/// Markers the index puts around matches; not characters people type.
pub(crate) const OPEN: char = '\u{1}';
pub(crate) const CLOSE: char = '\u{2}';

/// One term of a query.
#[derive(Debug, Clone, PartialEq)]
struct Term {
    text: String,
    prefix: bool,
    negated: bool,
}

fn quote(t: &Term) -> String {
    format!(
        "\"{}\"{}",
        t.text.replace('"', "\"\""),
        if t.prefix { "*" } else { "" }
    )
}

/// Translates a user's query into an FTS5 expression.
pub fn fts_query(input: &str) -> Result<String> {
    let bad = |message: String| Error::invalid("QUERY", message);
    let mut terms = Vec::new();
    let mut chars = input.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let negated = c == '-';
        if negated {
            chars.next();
        }
        let mut text = String::new();
        let mut phrase = false;
        if chars.peek() == Some(&'"') {
            phrase = true;
            chars.next();
            let mut closed = false;
            for c in chars.by_ref() {
                if c == '"' {
                    closed = true;
                    break;
                }
                text.push(c);
            }
            if !closed {
                return Err(bad(format!(
                    "{input:?} has a \" that is not closed: put exact phrases in \"double quotes\""
                )));
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                if c == '"' {
                    return Err(bad(format!(
                        "{input:?}: a \" may only start a phrase, e.g. \"paper jam\""
                    )));
                }
                text.push(c);
                chars.next();
            }
        }
        let prefix = match chars.peek() {
            Some('*') if phrase => {
                chars.next();
                true
            }
            _ if !phrase && text.ends_with('*') => {
                text.pop();
                true
            }
            _ => false,
        };
        if text.contains('*') {
            return Err(bad(format!(
                "{input:?}: * may only end a word, as in print*"
            )));
        }
        if !text.chars().any(char::is_alphanumeric) {
            if negated && text.is_empty() && !phrase {
                return Err(bad(format!("{input:?}: a - must be followed by a word")));
            }
            // Punctuation alone matches nothing the index keeps; skip it.
            continue;
        }
        terms.push(Term {
            text,
            prefix,
            negated,
        });
    }
    let (neg, pos): (Vec<Term>, Vec<Term>) = terms.into_iter().partition(|t| t.negated);
    if pos.is_empty() {
        return Err(bad(if neg.is_empty() {
            "give at least one word to search for".to_string()
        } else {
            format!("{input:?} only excludes words: give at least one word to search for")
        }));
    }
    let mut q = format!("({})", pos.iter().map(quote).collect::<Vec<_>>().join(" "));
    for t in &neg {
        q.push_str(" NOT ");
        q.push_str(&quote(t));
    }
    Ok(q)
}

impl Casebook {
    /// Cases whose text matches `query`, best first, at most `limit`; empty status or
    /// priority lists mean any.
    pub fn search(
        &self,
        query: &str,
        statuses: &[Status],
        priorities: &[Priority],
        team: &crate::model::team::TeamFilter,
        limit: usize,
    ) -> Result<Vec<SearchHit>> {
        let fts = fts_query(query)?;
        let view = self.view()?;
        let index = view.index_or_memory()?;
        let statuses: Vec<String> = statuses.iter().map(|s| s.to_string()).collect();
        let priorities: Vec<String> = priorities.iter().map(|s| s.to_string()).collect();
        // The expression is always valid FTS5, so a failure is the index's: search one
        // built from a full scan instead.
        let hits = match index.search(&fts, &statuses, &priorities, team, limit) {
            Ok(hits) => hits,
            Err(_) => view
                .scanned_index()
                .and_then(|i| i.search(&fts, &statuses, &priorities, team, limit))
                .map_err(|e| {
                    Error::invalid("QUERY", format!("cannot search for {query:?}: {e}"))
                })?,
        };
        Ok(hits
            .into_iter()
            .map(|h| SearchHit {
                case: h.entry.id.to_string(),
                status: h.status,
                priority: h.priority,
                subject: h.subject,
                field: h.field.to_string(),
                snippet: h.snippet.replace(OPEN, "[").replace(CLOSE, "]"),
                rank: h.rank,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_become_quoted_fts5_expressions() {
        assert_eq!(fts_query("paper jam").unwrap(), r#"("paper" "jam")"#);
        assert_eq!(fts_query(r#""paper jam""#).unwrap(), r#"("paper jam")"#);
        assert_eq!(fts_query("print*").unwrap(), r#"("print"*)"#);
        assert_eq!(fts_query(r#""tray 2"*"#).unwrap(), r#"("tray 2"*)"#);
        assert_eq!(
            fts_query("printer -laser -\"ink jet\"").unwrap(),
            r#"("printer") NOT "laser" NOT "ink jet""#
        );
        // FTS5 operators and column filters are words like any other.
        assert_eq!(
            fts_query("NOT subject:x").unwrap(),
            r#"("NOT" "subject:x")"#
        );
        assert_eq!(fts_query("a & b").unwrap(), r#"("a" "b")"#);
    }

    #[test]
    fn bad_queries_are_user_errors() {
        for q in ["", "   ", "\"open", "-printer", "pr*nt", "a\"b", "-", "&&"] {
            let e = fts_query(q).unwrap_err();
            assert!(matches!(e, Error::Invalid { .. }), "{q:?}: {e}");
        }
    }
}
