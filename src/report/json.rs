//! The JSON contract: one object per image, one per line. The shape is
//! versioned by `schema` and documented in the README.

use super::{wire, DIAGNOSE_SCHEMA};
use crate::commands::diagnose::Diagnosis;

/// The report of one image as one line of JSON.
pub fn json_report(d: &Diagnosis) -> String {
    serde_json::to_string(&wire::Diagnosis::from(d))
        .unwrap_or_else(|e| json_error(&d.image, &format!("cannot render report: {e}")))
}

/// The object for an image that could not be analysed at all.
pub fn json_error(image: &str, error: &str) -> String {
    serde_json::json!({ "schema": DIAGNOSE_SCHEMA, "image": image, "error": error }).to_string()
}
