//! `versions` rows: an aligned text table, CSV (RFC 4180), TSV and JSON
//! lines. Every cell read from the image is escaped
//! ([`super::escape::escape`]), so no format can carry a control character.

use std::borrow::Cow;

use unicode_width::UnicodeWidthStr;

use super::escape::escape;
use super::wire;
use crate::commands::versions::VersionRow;
use crate::pe::{machine_name, Version};

/// One row as a JSON object on one line.
pub fn version_row_json(row: &VersionRow) -> String {
    serde_json::to_string(&wire::VersionRow::from(row)).unwrap_or_default()
}

/// The columns, in order; `volume` only where the caller asks for it.
const COLUMNS: [&str; 8] = [
    "path",
    "file version",
    "product version",
    "size",
    "modified",
    "id",
    "machine",
    "description",
];

/// The cells of one row, escaped, in [`COLUMNS`] order. The description is
/// the string table's FileDescription, or why no version could be read.
fn cells(row: &VersionRow) -> Vec<String> {
    let f = &row.file;
    let v = f.version.as_ref();
    let num = |x: Option<Version>| x.map_or("-".to_string(), |v| v.to_string());
    let description = match (&f.error, v) {
        (Some(e), _) => format!("({e})"),
        (None, Some(v)) => v
            .strings
            .get("FileDescription")
            .cloned()
            .unwrap_or_default(),
        (None, None) => String::new(),
    };
    vec![
        escape(&f.path).into_owned(),
        num(v.and_then(|v| v.file_version)),
        num(v.and_then(|v| v.product_version)),
        f.size.to_string(),
        f.modified.map_or("-".into(), |t| t.to_string()),
        f.id.to_string(),
        machine(f.machine).into_owned(),
        escape(&description).into_owned(),
    ]
}

/// `x86`, `x64`, …; the number in hex for a machine we do not name.
fn machine(m: Option<u16>) -> Cow<'static, str> {
    match m {
        None => Cow::Borrowed("-"),
        Some(m) => machine_name(m).map_or_else(|| Cow::Owned(format!("{m:#06x}")), Cow::Borrowed),
    }
}

/// The rows as an aligned table with a header; a `volume` column first when
/// `named` (the image has several volumes). Numbers (size, id) are
/// right-aligned; the last column is not padded, so lines carry no trailing
/// blanks.
pub fn versions_table(rows: &[VersionRow], named: bool) -> String {
    let header: Vec<String> = named
        .then_some("volume")
        .into_iter()
        .chain(COLUMNS)
        .map(|h| h.to_uppercase())
        .collect();
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut c = cells(r);
            if named {
                c.insert(0, format!("#{}", r.volume));
            }
            c
        })
        .collect();
    let numbers = [3, 5].map(|c| c + usize::from(named));
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for row in &body {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.width());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&body) {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
            let pad = " ".repeat(w.saturating_sub(cell.width()));
            match i {
                0 => {}
                _ => line.push_str("  "),
            }
            if numbers.contains(&i) {
                line.push_str(&pad);
                line.push_str(cell);
            } else {
                line.push_str(cell);
                if i + 1 < row.len() {
                    line.push_str(&pad);
                }
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The machine-readable header: the table's columns as identifiers, with
/// `volume` always first so a script sees one shape for every image.
fn record_header() -> Vec<String> {
    std::iter::once("volume")
        .chain(COLUMNS)
        .map(|h| h.replace(' ', "_"))
        .collect()
}

fn records(rows: &[VersionRow]) -> impl Iterator<Item = Vec<String>> + '_ {
    std::iter::once(record_header()).chain(rows.iter().map(|r| {
        let mut c: Vec<String> = cells(r).into_iter().map(inert_formula).collect();
        c.insert(0, r.volume.to_string());
        c
    }))
}

/// A spreadsheet opening the file would run a cell that starts with `=`,
/// `+`, `-` or `@` as a formula; a hostile file description could be one.
/// Such cells get a leading `'`, which spreadsheets show as text (the
/// lone `-` placeholder is no formula and stays).
fn inert_formula(cell: String) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@') if cell.len() > 1 => format!("'{cell}"),
        _ => cell,
    }
}

/// RFC 4180 CSV with a header row and CRLF line ends. Cells are escaped
/// first (so none holds a line break), then quoted when they hold a comma
/// or a double quote, doubling the quotes.
pub fn versions_csv(rows: &[VersionRow]) -> String {
    let quote = |c: &String| -> String {
        if c.contains([',', '"']) {
            format!("\"{}\"", c.replace('"', "\"\""))
        } else {
            c.clone()
        }
    };
    records(rows)
        .map(|r| r.iter().map(quote).collect::<Vec<_>>().join(",") + "\r\n")
        .collect()
}

/// Tab-separated values with a header row: tabs and line breaks inside a
/// cell are escaped (`\t`, `\n`) like every other control character.
pub fn versions_tsv(rows: &[VersionRow]) -> String {
    records(rows).map(|r| r.join("\t") + "\n").collect()
}
