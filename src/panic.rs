//! Third-party parsers (ntfs, notatin, pelite, the container crates) can
//! panic on crafted input. We contain that at the per-item boundary and turn
//! it into an error that the report shows as "unreadable"; one bad file must
//! not end the analysis.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f`, turning a parser's panic into an error message.
pub(crate) fn contain<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    contain_payload(f).map_err(|m| format!("parser panicked on corrupt data: {m}"))
}

/// Runs `f`, turning a panic into the text it was raised with.
pub(crate) fn contain_payload<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| message(p.as_ref()))
}

/// The text a panic was raised with.
fn message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".into())
}
