//! Glue shared by the fuzz targets: the harness (also used by
//! `tests/robustness.rs`), escaped-panic detection and the seed images.

pub mod harness;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Once, OnceLock};

use harness::Landmarks;

/// Runs one fuzz input. verskew contains third-party panics on purpose
/// (`catch_unwind` at the per-file boundary), so libfuzzer-sys's hook, which
/// aborts on *any* panic, is replaced by one that lets third-party panics
/// pass silently and aborts on a panic located in verskew's (or this
/// harness's) own code, contained or not; a panic that escapes verskew's
/// public API is reported here and aborts too. libFuzzer records an abort as
/// a crash.
pub fn guard<R>(f: impl FnOnce() -> R) {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            // A panic in verskew's own code is a bug even when a
            // `catch_unwind` would hide it; third-party and std sites are
            // the expected, contained kind.
            let file = info.location().map(|l| l.file()).unwrap_or("");
            if !file.contains("/.cargo/registry/") && !file.starts_with("/rustc/") {
                eprintln!("PANIC IN OWN CODE (contained or not): {info}");
                std::process::abort();
            }
        }))
    });
    if let Err(p) = catch_unwind(AssertUnwindSafe(f)) {
        let msg = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic".into());
        eprintln!("ESCAPED PANIC: {msg}");
        std::process::abort();
    }
}

/// The repository's testdata folder.
pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata")
}

/// A seed image with its landmarks, loaded once.
pub struct Base {
    pub name: &'static str,
    pub bytes: Vec<u8>,
    pub landmarks: Landmarks,
}

/// The images the patch targets mutate: a bare volume, MBR and GPT disks and
/// the NTFS-compressed variant.
pub fn bases() -> &'static [Base] {
    static B: OnceLock<Vec<Base>> = OnceLock::new();
    B.get_or_init(|| {
        [
            "nt4-iis4-kb291589.img",
            "nt4-iis4-kb291589-mbr63.img",
            "nt4-iis4-kb291589-gpt.img",
            "nt4-iis4-kb291589-compressed.img",
            "w2k3-iis6-sp1-on-sp2.img",
        ]
        .into_iter()
        .map(|name| {
            let bytes =
                std::fs::read(testdata().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
            let landmarks = Landmarks::find(&bytes);
            Base {
                name,
                bytes,
                landmarks,
            }
        })
        .collect()
    })
}

/// A per-process scratch file for targets that need a path.
/// A fuzz input as (its first byte, a factory image mutated by the rest,
/// read as encoded ops): what the structure-aware targets start from.
pub fn mutated_base(data: &[u8]) -> Option<(u8, Vec<u8>)> {
    let (&pick, ops) = data.split_first()?;
    let bases = bases();
    let base = &bases[usize::from(pick) % bases.len()];
    let mut img = base.bytes.clone();
    harness::apply_encoded(&mut img, &base.landmarks, ops);
    Some((pick, img))
}

pub fn scratch(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("verskew-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    });
    dir.join(name)
}
