//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The third-party corpus beside the repository, when it is there.
pub fn corpus() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("SKIPPED: corpus not found at {}", p.display());
        None
    }
}

/// The repository's own test data folder.
pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

/// True when `tool` runs; says SKIPPED otherwise.
pub fn have_tool(tool: &str) -> bool {
    let ok = Command::new(tool).arg("-V").output().is_ok();
    if !ok {
        eprintln!("SKIPPED: {tool} not found");
    }
    ok
}

/// Decompresses a `.gz` or `.xz` corpus file into memory (never next to the corpus).
pub fn unpack(path: &Path) -> Vec<u8> {
    use std::io::Read;
    let file = std::fs::File::open(path).unwrap();
    let mut out = Vec::new();
    match path.extension().and_then(|e| e.to_str()) {
        Some("gz") => flate2::read::GzDecoder::new(file)
            .read_to_end(&mut out)
            .unwrap(),
        Some("xz") => xz2::read::XzDecoder::new(file)
            .read_to_end(&mut out)
            .unwrap(),
        _ => std::io::BufReader::new(file).read_to_end(&mut out).unwrap(),
    };
    out
}
