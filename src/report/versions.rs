//! `versions` rows as text and as JSON lines.

use super::wire;
use crate::commands::versions::VersionRow;
use crate::pe::Version;

/// One row as a JSON object on one line.
pub fn version_row_json(row: &VersionRow) -> String {
    serde_json::to_string(&wire::VersionRow::from(row)).unwrap_or_default()
}

/// One row for people: path, the fixed versions, the string table's
/// FileVersion and description, size and modified time.
pub fn version_row_text(row: &VersionRow) -> String {
    let f = &row.file;
    let v = f.version.as_ref();
    let num = |x: Option<Version>| x.map_or("-".to_string(), |v| v.to_string());
    let s = |k: &str| v.and_then(|v| v.strings.get(k)).map_or("", |s| s.as_str());
    format!(
        "{}  file {}  product {}  \"{}\"  {}  {} bytes  modified {}{}",
        f.path,
        num(v.and_then(|v| v.file_version)),
        num(v.and_then(|v| v.product_version)),
        s("FileVersion"),
        s("FileDescription"),
        f.size,
        f.modified.map_or("-".into(), |t| t.to_string()),
        f.error
            .as_ref()
            .map_or(String::new(), |e| format!("  ({e})"))
    )
}
