//! Where unit tests find the third-party corpus: `../shared/corpus` beside
//! the repository, or `VERSKEW_CORPUS` (the integration tests' helper in
//! `tests/common` reads the same places). Absent, a test says SKIPPED.

use std::path::PathBuf;

/// `sub` (a folder of the corpus), when it is there.
pub(crate) fn dir(sub: &str) -> Option<PathBuf> {
    let root = std::env::var_os("VERSKEW_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    let dir = root.join(sub);
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: corpus not found at {}", dir.display());
        None
    }
}
