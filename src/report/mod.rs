//! Rendering: every output format of every command, and the schema ids of
//! the JSON documents. Commands hand over typed results; nothing here reads
//! an image. Adding a format is one file here plus one CLI choice.

mod escape;
mod fleet;
mod html;
mod info;
mod json;
mod junit;
mod markup;
mod rules;
mod sarif;
mod svg;
mod terminal;
#[cfg(test)]
mod tests;
mod text;
mod timeline;
mod versions;
mod wire;

pub use escape::{escape, needs_escape};
pub use fleet::{fleet_html, fleet_json, fleet_text, FLEET_SCHEMA};
pub use html::html_report;
pub use info::{info_json, info_text};
pub use json::{json_error, json_report};
pub use junit::junit_report;
pub use markup::escape_html;
pub use rules::{rule_json, rule_text, rules_json, rules_text, RULES_SCHEMA};
pub use sarif::{fingerprint, reference_uri, sarif_report, FINGERPRINT_KEY, SARIF_SCHEMA};
pub use terminal::{for_terminal, Headings, Terminal};
pub use text::{text_report, text_report_with, TextOptions};
pub use timeline::{bodyfile, timeline_jsonl};
pub use versions::{version_row_json, versions_csv, versions_table, versions_tsv};

/// The version of verskew every JSON object names (`tool_version`).
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");
/// Schema id of `diagnose --format json` objects.
pub const DIAGNOSE_SCHEMA: &str = "verskew.diagnose/1";
/// Schema id of `versions --format json` objects (one per PE file).
pub const VERSIONS_SCHEMA: &str = "verskew.versions/1";
/// Schema id of `info --format json` objects.
pub const INFO_SCHEMA: &str = "verskew.info/1";

/// What `diagnose` made of one image, as the formats that cover a whole
/// invocation (SARIF, JUnit, HTML) take it, in the order the images were given.
pub enum Outcome {
    Diagnosed(Box<crate::commands::diagnose::Diagnosis>),
    /// The image could not be analysed at all (exit status 2).
    Failed {
        image: String,
        error: crate::commands::CommandError,
    },
}

/// The line a report gives an image read over HTTP: what it cost.
pub(crate) fn fetched_line(bytes: u64, requests: u64, retries: u64) -> String {
    format!(
        "fetched over HTTP: {} ({bytes} bytes) in {requests} request(s), {retries} retried\n",
        size(bytes)
    )
}

/// Human size: "8.0 MiB".
pub(crate) fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
