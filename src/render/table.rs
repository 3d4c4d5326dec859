//! Tables for people, fitted to the terminal.
//!
//! Colour is set on cells through comfy-table's styling, never as escape bytes inside
//! the text, so it never counts as width and columns line up in every colour mode. On a
//! terminal the table is fitted to the terminal's own width: the columns that hold
//! identifiers, words and times keep their width and the free-text columns (subject,
//! customer, summary) share the rest, cut to one line with `…` (or wrapped with
//! `--wide`). To a pipe nothing is cut.

use comfy_table::{
    presets, Attribute, Cell, Color, ColumnConstraint, ContentArrangement, Row, Table,
};

use super::{safe_line, word_tone, Style, Tone};

/// A table being filled: its header, which columns may be cut, and the style.
pub(crate) struct Grid {
    table: Table,
    style: Style,
    /// For each column: `Some(width of its header)` when it holds free text.
    free: Vec<Option<u16>>,
}

impl Grid {
    /// A table with `header`; the columns named in `free` hold free text and give way
    /// when the table is wider than the terminal.
    pub(crate) fn new(style: Style, header: &[&str], free: &[&str]) -> Grid {
        let mut table = Table::new();
        table
            .load_preset(presets::NOTHING)
            // Width and colour are decided by casebook (`Style`), not guessed again here.
            .force_no_tty()
            .set_truncation_indicator("…");
        if style.color {
            table.enforce_styling().style_text_only();
        }
        table.set_header(
            header
                .iter()
                .map(|h| paint(style, Cell::new(h), Some(Attribute::Bold), None)),
        );
        Grid {
            table,
            style,
            free: header
                .iter()
                .map(|h| free.contains(h).then_some(h.chars().count() as u16))
                .collect(),
        }
    }

    /// Plain text, shown safely on one line.
    pub(crate) fn text(&self, text: &str) -> Cell {
        Cell::new(safe_line(text))
    }

    /// A status, priority or SLA state word, in its colour.
    pub(crate) fn word(&self, text: &str) -> Cell {
        let cell = Cell::new(safe_line(text));
        match word_tone(text) {
            Some(Tone::Alarm) => paint(self.style, cell, Some(Attribute::Bold), Some(Color::Red)),
            Some(Tone::Warn) => paint(self.style, cell, None, Some(Color::Yellow)),
            Some(Tone::Good) => paint(self.style, cell, None, Some(Color::Green)),
            Some(Tone::Waiting) => paint(self.style, cell, None, Some(Color::Cyan)),
            Some(Tone::Quiet) => paint(self.style, cell, Some(Attribute::Dim), None),
            None => cell,
        }
    }

    /// Secondary text (commit hashes), dimmed.
    pub(crate) fn dim(&self, text: &str) -> Cell {
        paint(
            self.style,
            Cell::new(safe_line(text)),
            Some(Attribute::Dim),
            None,
        )
    }

    pub(crate) fn row(&mut self, cells: Vec<Cell>) {
        let mut row = Row::from(cells);
        if self.style.width.is_some() && !self.style.wide {
            row.max_height(1);
        }
        self.table.add_row(row);
    }

    /// The table as text, one line per row (more with `--wide`), without trailing blanks.
    pub(crate) fn render(mut self) -> String {
        match self.style.width {
            Some(width) => {
                let constraints: Vec<ColumnConstraint> = self
                    .free
                    .iter()
                    .map(|&free| match free {
                        // Room for the header (and a word and the ellipsis), however
                        // narrow the terminal; the 2 is the cell's padding.
                        Some(header) => ColumnConstraint::LowerBoundary(comfy_table::Width::Fixed(
                            header.max(6) + 2,
                        )),
                        None => ColumnConstraint::ContentWidth,
                    })
                    .collect();
                self.table
                    .set_content_arrangement(ContentArrangement::Dynamic)
                    // The first column's left padding is trimmed below: one more column.
                    .set_width(width.saturating_add(1))
                    .set_constraints(constraints);
            }
            None => {
                self.table
                    .set_content_arrangement(ContentArrangement::Disabled);
            }
        }
        let mut s = self
            .table
            .lines()
            .map(|l| {
                let l = l.trim_end();
                l.strip_prefix(' ').unwrap_or(l).to_string()
            })
            .collect::<Vec<_>>()
            .join("\n");
        s.push('\n');
        s
    }
}

fn paint(style: Style, cell: Cell, attr: Option<Attribute>, color: Option<Color>) -> Cell {
    if !style.color {
        return cell;
    }
    let cell = match attr {
        Some(a) => cell.add_attribute(a),
        None => cell,
    };
    match color {
        Some(c) => cell.fg(c),
        None => cell,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The text without ANSI escape sequences, as a terminal shows it.
    pub(crate) fn visible(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\x1b' && chars.peek() == Some(&'[') {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    /// Checks that every line fits `width` and that each column starts at the same place
    /// on every line, as the header says.
    pub(crate) fn assert_aligned(table: &str, header: &[&str], width: Option<u16>) {
        let shown = visible(table);
        let lines: Vec<&str> = shown.lines().collect();
        let starts: Vec<usize> = header
            .iter()
            .map(|h| {
                lines[0]
                    .find(h)
                    .unwrap_or_else(|| panic!("{h} in {:?}", lines[0]))
            })
            .collect();
        for line in &lines {
            if let Some(w) = width {
                let n = line.chars().count();
                assert!(n <= w as usize, "{n} > {w}: {line:?}\n{shown}");
            }
            let chars: Vec<char> = line.chars().collect();
            for &s in &starts[1..] {
                // A column starts after a blank, with something that is not blank.
                assert!(
                    s < chars.len() && chars[s - 1] == ' ' && chars[s] != ' ',
                    "column at {s} misaligned in {line:?}\n{shown}"
                );
            }
        }
    }

    fn grid(style: Style) -> String {
        let header = ["ID", "STATUS", "SUBJECT", "WHEN"];
        let mut g = Grid::new(style, &header, &["SUBJECT"]);
        for (id, status, subject) in [
            (
                "CB-1",
                "open",
                "Printer jams on every second page since the firmware update of last week",
            ),
            ("CB-22", "breached", "Short"),
            ("CB-333", "closed", "Invoice \x1b[2J wrong"),
        ] {
            let row = vec![
                g.text(id),
                g.word(status),
                g.text(subject),
                g.text("2026-11-25 14:00 CET"),
            ];
            g.row(row);
        }
        g.render()
    }

    #[test]
    fn coloured_tables_line_up_at_every_width() {
        for color in [false, true] {
            for width in [Some(50), Some(80), Some(120), Some(250), None] {
                let style = Style {
                    color,
                    width,
                    ..Style::plain()
                };
                let out = grid(style);
                assert_eq!(out.contains('\x1b'), color, "{out:?}");
                assert_aligned(&out, &["ID", "STATUS", "SUBJECT", "WHEN"], width);
                assert_eq!(out.lines().count(), 4, "one line per row:\n{out}");
                let shown = visible(&out);
                if width.is_none_or(|w| w >= 80) {
                    assert!(shown.contains("Invoice \\e[2J wrong"), "escaped: {shown}");
                }
                let whole = shown.contains("since the firmware update of last week");
                assert_eq!(whole, width.is_none_or(|w| w >= 120), "{shown}");
                if !whole {
                    assert!(shown.contains('…'), "{shown}");
                }
            }
        }
    }

    #[test]
    fn wide_wraps_instead_of_cutting() {
        let style = Style {
            color: true,
            width: Some(60),
            wide: true,
            ..Style::plain()
        };
        let shown = visible(&grid(style));
        assert!(!shown.contains('…'), "{shown}");
        assert!(shown.lines().count() > 4, "{shown}");
        assert!(shown.lines().all(|l| l.chars().count() <= 60), "{shown}");
        let words: String = shown.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(words.contains("firmware"), "{shown}");
    }
}
