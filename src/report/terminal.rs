//! Plain text made for a terminal: lines wrapped to its width with a hanging
//! indent, severities and headings coloured. It reads the plain report (the
//! bytes pipes, files and snapshots get), so both say the same; the plain
//! text is already escaped, so no byte of it is a terminal control.

use anstyle::{AnsiColor, Style};
use unicode_width::UnicodeWidthChar;

/// How the text will be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terminal {
    /// Wrap to this many columns; `None` leaves lines as they are.
    pub width: Option<usize>,
    /// Write ANSI colours and bold.
    pub colour: bool,
    /// Which lines are headings.
    pub headings: Headings,
}

/// Which lines of a text are headings (bold when colour is on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Headings {
    /// Lines that start in the first column (reports: "Volumes", "Findings: …").
    Unindented,
    /// The first line (tables: the column names).
    FirstLine,
}

/// Narrowest width we wrap to; below it wrapping only hurts.
const MIN_WIDTH: usize = 20;
/// Fewest columns a continuation line gets for its text.
const MIN_ROOM: usize = 24;

/// `plain` wrapped and coloured as `t` says.
pub fn for_terminal(plain: &str, t: Terminal) -> String {
    let mut out = String::with_capacity(plain.len() + plain.len() / 8);
    for (n, line) in plain.split_inclusive('\n').enumerate() {
        let (body, end) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        let heading = match t.headings {
            Headings::Unindented => !body.is_empty() && !body.starts_with(' '),
            Headings::FirstLine => n == 0,
        };
        let pieces = match t.width {
            Some(w) => wrap(body, w.max(MIN_WIDTH)),
            None => vec![body.to_string()],
        };
        for (i, piece) in pieces.iter().enumerate() {
            match t.colour {
                true => out.push_str(&colour(piece, heading, i == 0)),
                false => out.push_str(piece),
            }
            out.push_str(if i + 1 < pieces.len() { "\n" } else { end });
        }
    }
    out
}

fn cols(s: &str) -> usize {
    s.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// Where continuation lines start: under a table's last column, under the
/// value of a `Label: value` line, or two columns in from the line's indent.
/// Every continuation keeps at least `MIN_ROOM` columns (or half the width).
fn hang(line: &str, width: usize) -> usize {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let text = &line[indent..];
    let column = text
        .rfind("  ")
        .map(|p| p + text[p..].len() - text[p..].trim_start_matches(' ').len());
    let label = text.find(": ").filter(|&p| {
        p <= 24
            && text[..p]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ' ')
    });
    let at = match (column, label) {
        (Some(c), _) => indent + cols(&text[..c]),
        (None, Some(p)) => indent + cols(&text[..p + 2]),
        (None, None) => indent + 2,
    };
    at.min(width.saturating_sub(MIN_ROOM).max(width / 2))
}

/// `line` cut at spaces into pieces of at most `width` columns (a word
/// longer than that is cut where it reaches the edge); pieces after the
/// first start at the hanging indent.
fn wrap(line: &str, width: usize) -> Vec<String> {
    if cols(line) <= width {
        return vec![line.to_string()];
    }
    let pad = " ".repeat(hang(line, width));
    let mut pieces = Vec::new();
    let mut rest = line;
    let mut first = true;
    loop {
        let lead = if first { "" } else { pad.as_str() };
        let room = width - cols(lead);
        if cols(rest) <= room {
            pieces.push(format!("{lead}{rest}"));
            break;
        }
        // The byte where the room runs out, and the last space before it.
        let mut used = 0;
        let mut edge = rest.len();
        let mut space = None;
        for (i, c) in rest.char_indices() {
            let w = c.width().unwrap_or(0);
            if used + w > room {
                edge = i;
                break;
            }
            if c == ' ' && i > 0 {
                space = Some(i);
            }
            used += w;
        }
        // A space at the very edge is as good as one before it.
        if rest[edge..].starts_with(' ') {
            space = Some(edge);
        }
        let cut = match space {
            Some(s) if cols(rest[..s].trim_end()) > 0 => s,
            _ => edge.max(rest.chars().next().map_or(1, char::len_utf8)),
        };
        pieces.push(format!("{lead}{}", rest[..cut].trim_end()));
        rest = rest[cut..].trim_start_matches(' ');
        first = false;
        if rest.is_empty() {
            break;
        }
    }
    pieces
}

/// A severity word at the start of a finding line, in its colour; a
/// heading in bold.
fn colour(piece: &str, heading: bool, first: bool) -> String {
    let paint = |s: &str, style: Style| format!("{}{s}{}", style.render(), style.render_reset());
    if heading {
        // What was not read or not evaluated must not look like a clean bill.
        let style = if piece.starts_with("NOT EVALUATED") {
            AnsiColor::Red.on_default().bold()
        } else if piece.starts_with("Could not read") {
            AnsiColor::Yellow.on_default().bold()
        } else {
            Style::new().bold()
        };
        return paint(piece, style);
    }
    let trimmed = piece.trim_start_matches(' ');
    let indent = &piece[..piece.len() - trimmed.len()];
    let severities = [
        ("ERROR [", AnsiColor::Red.on_default().bold()),
        ("WARNING [", AnsiColor::Yellow.on_default().bold()),
        ("INFO [", AnsiColor::Cyan.on_default()),
    ];
    for (word, style) in severities {
        if first && trimmed.starts_with(word) {
            let len = word.len() - 2;
            return format!(
                "{indent}{}{}",
                paint(&trimmed[..len], style),
                &trimmed[len..]
            );
        }
    }
    piece.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const WRAP: Terminal = Terminal {
        width: Some(30),
        colour: false,
        headings: Headings::Unindented,
    };

    #[test]
    fn long_lines_hang_under_the_text_they_continue() {
        let text = "    Remedy: reapply the service pack then every hotfix\n";
        assert_eq!(
            for_terminal(text, WRAP),
            "    Remedy: reapply the\n            service pack then\n            every hotfix\n"
        );
        let text = "  ERROR [x] aaaa bbbb cccc dddd eeee\n";
        assert_eq!(
            for_terminal(text, WRAP),
            "  ERROR [x] aaaa bbbb cccc\n    dddd eeee\n"
        );
        let word = format!("  {}\n", "x".repeat(40));
        let out = for_terminal(&word, WRAP);
        assert!(out.lines().all(|l| l.chars().count() <= 30), "{out}");
        assert_eq!(out.replace(['\n', ' '], ""), "x".repeat(40));
    }

    #[test]
    fn plain_lines_pass_through_untouched() {
        let text = "Findings: 1 error(s)\n  short\n\n";
        let same = Terminal {
            width: None,
            ..WRAP
        };
        assert_eq!(for_terminal(text, same), text);
        assert_eq!(for_terminal(text, WRAP), text);
    }

    #[test]
    fn severities_and_headings_are_coloured() {
        let t = Terminal {
            width: None,
            colour: true,
            headings: Headings::Unindented,
        };
        let out = for_terminal("Findings: 1\n  ERROR [r] p\n  WARNING [r] p\n", t);
        assert!(out.starts_with("\x1b[1mFindings: 1\x1b[0m\n"), "{out:?}");
        assert!(
            out.contains("  \x1b[1m\x1b[31mERROR\x1b[0m [r] p\n"),
            "{out:?}"
        );
        assert!(out.contains("\x1b[33mWARNING\x1b[0m"), "{out:?}");
    }
}
