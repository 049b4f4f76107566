//! The JSON contract: one object per image, one per line. The shape is
//! versioned by `schema` and documented in the README.

use serde::Serialize;

use super::DIAGNOSE_SCHEMA;
use crate::analysis::Severity;
use crate::commands::diagnose::Diagnosis;

#[derive(Serialize)]
struct Report<'a> {
    schema: &'static str,
    #[serde(flatten)]
    diagnosis: &'a Diagnosis,
    summary: Summary,
}

#[derive(Serialize)]
struct Summary {
    errors: usize,
    warnings: usize,
    info: usize,
}

/// The report of one image as one line of JSON.
pub fn json_report(d: &Diagnosis) -> String {
    let count = |s| d.findings.iter().filter(|f| f.severity == s).count();
    let report = Report {
        schema: DIAGNOSE_SCHEMA,
        diagnosis: d,
        summary: Summary {
            errors: count(Severity::Error),
            warnings: count(Severity::Warning),
            info: count(Severity::Info),
        },
    };
    serde_json::to_string(&report)
        .unwrap_or_else(|e| json_error(&d.image, &format!("cannot render report: {e}")))
}

/// The object for an image that could not be analysed at all.
pub fn json_error(image: &str, error: &str) -> String {
    serde_json::json!({ "schema": DIAGNOSE_SCHEMA, "image": image, "error": error }).to_string()
}
