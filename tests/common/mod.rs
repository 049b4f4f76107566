//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod ntfs3g;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The third-party corpus (`../shared/corpus` beside the repository, or
/// `VERSKEW_CORPUS`), when it is there; says SKIPPED otherwise.
pub fn corpus() -> Option<PathBuf> {
    let p = std::env::var_os("VERSKEW_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    if p.join("MANIFEST.tsv").is_file() {
        Some(p)
    } else {
        eprintln!(
            "SKIPPED: corpus not found at {} (set VERSKEW_CORPUS)",
            p.display()
        );
        None
    }
}

/// A user rule that takes w3svc.dll out of both IIS 4 lockstep sets it is in
/// (same ids as knowledge/iis.toml, so it replaces the built-in entries).
pub const NO_W3SVC_RULES: &str = r#"
[[lockstep]]
id = "iis4-www"
family = "iis4"
name = "IIS 4 WWW service core, without w3svc.dll"
files = ["infocomm.dll", "ssinc.dll", "sspifilt.dll"]
compare = "full"
why = "test: w3svc.dll taken out of the set"
references = ["Q291589"]

[[lockstep]]
id = "iis4-ftp"
family = "iis4"
name = "IIS 4 FTP service, without w3svc.dll"
files = ["ftpsvc2.dll", "infocomm.dll"]
compare = "full"
why = "test: w3svc.dll taken out of the set"
references = ["Q185706"]
"#;

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

/// Containers the repository does not commit because their fixed layout
/// alone is megabytes of zeros (qemu-img's VHDX is 10 MiB for a 1 MiB disk):
/// made at test time from their committed raw source, with the same command
/// the factory uses. Maps a manifest format to qemu-img's output options.
pub const MADE_AT_TEST_TIME: &[(&str, &str, &str)] = &[(
    "vhdx",
    "vhdx",
    "subformat=dynamic,block_size=1M,log_size=1M",
)];

/// The path of manifest image `file` (relative to testdata/): the committed
/// file, or one made in `tmp` from `source_file` when the repository does not
/// commit that format. `None` (with a SKIPPED line) when neither can be had.
pub fn image_file(
    file: &str,
    format: &str,
    source_file: Option<&str>,
    tmp: &Path,
) -> Option<PathBuf> {
    let committed = testdata().join(file);
    if committed.is_file() {
        return Some(committed);
    }
    let (_, out_fmt, opts) = MADE_AT_TEST_TIME.iter().find(|m| m.0 == format)?;
    let source = testdata().join(source_file?);
    let made = tmp.join(Path::new(file).file_name()?);
    let ok = Command::new("qemu-img")
        .args(["convert", "-q", "-f", "raw", "-O", out_fmt, "-o", opts])
        .arg(&source)
        .arg(&made)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if ok {
        Some(made)
    } else {
        eprintln!("SKIPPED: {file}: qemu-img could not make it");
        None
    }
}
