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
    /// The columns left out, in this order, while the others do not fit the terminal.
    spare: Vec<usize>,
    header: Vec<String>,
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
            spare: Vec::new(),
            header: header.iter().map(|h| h.to_string()).collect(),
        }
    }

    /// Names the columns to leave out, first to last, on a terminal too narrow for all of
    /// them and a few readable words of each free-text column.
    pub(crate) fn spare(mut self, columns: &[&str]) -> Grid {
        self.spare = columns
            .iter()
            .filter_map(|c| self.header.iter().position(|h| h == c))
            .collect();
        self
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
                // What each column should have before a spare one is kept: its content,
                // and free text up to a readable few words (the 2 is the cell's padding).
                const READABLE: u16 = 16;
                let content = self.table.column_max_content_widths();
                let least: Vec<u32> = self
                    .free
                    .iter()
                    .enumerate()
                    .map(|(i, free)| {
                        let content = content.get(i).copied().unwrap_or(0);
                        let want = match free {
                            Some(header) => content.min(READABLE).max(*header.max(&6)),
                            None => content,
                        };
                        u32::from(want) + 2
                    })
                    .collect();
                let mut hidden: Vec<usize> = Vec::new();
                for &column in &self.spare {
                    let need: u32 = (0..least.len())
                        .filter(|i| !hidden.contains(i))
                        .map(|i| least[i])
                        .sum();
                    if need <= u32::from(width) + 1 {
                        break;
                    }
                    hidden.push(column);
                }
                let constraints: Vec<ColumnConstraint> = self
                    .free
                    .iter()
                    .enumerate()
                    .map(|(i, &free)| match free {
                        _ if hidden.contains(&i) => ColumnConstraint::Hidden,
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
    fn a_narrow_terminal_leaves_out_the_spare_columns_first_to_last() {
        let header = ["ID", "STATUS", "SUBJECT", "WHEN", "OWNER"];
        let table = |width: Option<u16>| {
            let style = Style {
                width,
                ..Style::plain()
            };
            let mut g = Grid::new(style, &header, &["SUBJECT"]).spare(&["WHEN", "OWNER"]);
            let row = vec![
                g.text("CB-1"),
                g.word("open"),
                g.text("Printer jams on every second page"),
                g.text("2026-11-25 14:00 CET"),
                g.text("Dana Agent"),
            ];
            g.row(row);
            visible(&g.render())
        };
        // Wide enough for all: nothing left out.
        let all = table(Some(120));
        assert!(all.contains("WHEN") && all.contains("OWNER"), "{all}");
        // Too narrow for WHEN's 20 characters beside the rest: WHEN goes, OWNER stays.
        let some = table(Some(48));
        assert!(!some.contains("WHEN") && !some.contains("CET"), "{some}");
        assert!(
            some.contains("OWNER") && some.contains("Dana Agent"),
            "{some}"
        );
        assert_aligned(&some, &["ID", "STATUS", "SUBJECT", "OWNER"], Some(48));
        // Narrower still: both go, and what is left fits.
        let few = table(Some(30));
        assert!(!few.contains("OWNER"), "{few}");
        assert_aligned(&few, &["ID", "STATUS", "SUBJECT"], Some(30));
        // To a pipe nothing is left out.
        assert!(table(None).contains("WHEN"));
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
