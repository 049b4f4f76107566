//! The JSON contract: one object per image, one per line. The shape is
//! versioned by `schema` and documented in the README.

use serde::Serialize;

use super::{wire, DIAGNOSE_SCHEMA, TOOL_VERSION};
use crate::commands::diagnose::Diagnosis;
use crate::commands::CommandError;

/// The report of one image as one line of JSON.
pub fn json_report(d: &Diagnosis) -> String {
    serde_json::to_string(&wire::Diagnosis::from(d)).unwrap_or_else(|e| {
        let what = format!("cannot render report: {e}");
        error_line(DIAGNOSE_SCHEMA, &d.image, &what, "internal")
    })
}

/// The object for an image a command could not run on at all, under the
/// command's `schema`.
pub fn json_error(schema: &str, image: &str, e: &CommandError) -> String {
    error_line(schema, image, &e.to_string(), e.kind())
}

fn error_line(schema: &str, image: &str, error: &str, kind: &str) -> String {
    #[derive(Serialize)]
    struct Error<'a> {
        schema: &'a str,
        tool_version: &'static str,
        image: &'a str,
        error: &'a str,
        /// Stable cause: `not-found`, `not-a-disk-image`, `no-windows`, …
        kind: &'a str,
    }
    serde_json::to_string(&Error {
        schema,
        tool_version: TOOL_VERSION,
        image,
        error,
        kind,
    })
    .unwrap_or_default()
}
