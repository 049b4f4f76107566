//! Rendering: one shared [`Diagnosis`] → text for people, JSON for scripts.

mod json;
mod text;

pub use json::{json_error, json_report, SCHEMA};
pub use text::text_report;

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
