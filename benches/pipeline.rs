//! Hot paths of the diagnose pipeline, on the committed test images.
//!
//!   cargo bench --bench pipeline            # all (about 1-2 minutes here)
//!   cargo bench --bench pipeline -- read    # only the file-read benches
//!
//! Images: the seed (`testdata/nt4-iis4-kb291589.img`, bare NTFS, files in one
//! run each: zero-copy reads), and its `-frag` (fragmented DLLs: copied) and
//! `-compressed` (LZNT1: decoded) variants. Everything is opened once, outside
//! the timed part, except where opening is what is measured.
//! On the shared 2-core machine, compare runs side by side, never against a
//! number from another day; no test asserts on these timings.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use divan::{black_box, Bencher};
use verskew::analysis::Knowledge;
use verskew::fs::NtfsVolume;
use verskew::image::{self, Image};
use verskew::volume::{self, Filesystem};
use verskew::{pe, registry};

const W3SVC: &str = r"\WINNT\system32\inetsrv\w3svc.dll";
const SYSTEM: &str = r"\WINNT\system32\config\SYSTEM";

fn main() {
    divan::main();
}

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

/// An opened image and the offset/size of its first NTFS volume.
struct Opened {
    image: Image,
    offset: u64,
    len: u64,
}

fn open(name: &str) -> Opened {
    let image = image::open(&testdata(name)).expect("open image");
    let parts = volume::find_partitions(image.disk.as_ref()).expect("partitions");
    let p = parts
        .iter()
        .find(|p| p.filesystem == Some(Filesystem::Ntfs))
        .expect("an NTFS volume");
    let (offset, len) = (p.offset, p.size);
    Opened { image, offset, len }
}

fn seed() -> &'static Opened {
    static S: OnceLock<Opened> = OnceLock::new();
    S.get_or_init(|| open("nt4-iis4-kb291589.img"))
}

fn variant(kind: &str) -> &'static Opened {
    static FRAG: OnceLock<Opened> = OnceLock::new();
    static COMP: OnceLock<Opened> = OnceLock::new();
    match kind {
        "contiguous" => seed(),
        "fragmented" => FRAG.get_or_init(|| open("nt4-iis4-kb291589-frag.img")),
        "compressed" => COMP.get_or_init(|| open("nt4-iis4-kb291589-compressed.img")),
        _ => unreachable!(),
    }
}

fn volume(o: &Opened) -> NtfsVolume<'_> {
    NtfsVolume::open(o.image.disk.as_ref(), o.offset, o.len).expect("NTFS volume")
}

/// `NtfsVolume::open`: boot sector, `$MFT` record, `$UpCase` (128 KiB).
#[divan::bench]
fn open_volume(b: Bencher) {
    let o = seed();
    b.bench(|| black_box(volume(o)));
}

/// `lookup` of `\WINNT\system32\inetsrv\w3svc.dll` (4 index reads + stat).
#[divan::bench]
fn lookup_w3svc(b: Bencher) {
    let vol = volume(seed());
    b.bench(|| black_box(vol.lookup(W3SVC).expect("w3svc.dll")));
}

/// Reading w3svc.dll: one run (zero-copy slice), fragmented (copied), or
/// LZNT1-compressed (decoded).
#[divan::bench(args = ["contiguous", "fragmented", "compressed"])]
fn read_w3svc(b: Bencher, kind: &str) {
    let vol = volume(variant(kind));
    let entry = vol.lookup(W3SVC).expect("w3svc.dll");
    b.bench(|| black_box(vol.read(&entry).expect("read").len()));
}

/// `pe::read_version` of w3svc.dll already in memory.
#[divan::bench]
fn read_version_w3svc(b: Bencher) {
    let vol = volume(seed());
    let entry = vol.lookup(W3SVC).expect("w3svc.dll");
    let bytes = vol.read(&entry).expect("read").into_owned();
    b.bench(|| black_box(pe::read_version(&bytes).expect("version")));
}

/// `Hive::from_bytes` of the SYSTEM hive plus `resolve_control_set`.
#[divan::bench]
fn hive_control_set(b: Bencher) {
    let vol = volume(seed());
    let entry = vol.lookup(SYSTEM).expect("SYSTEM");
    let bytes = vol.read(&entry).expect("read").into_owned();
    b.with_inputs(|| bytes.clone()).bench_values(|bytes| {
        let hive = registry::Hive::from_bytes(SYSTEM, bytes).expect("hive");
        black_box(registry::resolve_control_set(&hive).expect("control set"))
    });
}

/// The whole `diagnose` (image open → report model) on the seed image.
#[divan::bench(sample_count = 50)]
fn diagnose_seed(b: Bencher) {
    let k = Knowledge::builtin();
    let path = testdata("nt4-iis4-kb291589.img");
    b.bench(|| black_box(verskew::commands::diagnose::diagnose(&path, &k).expect("diagnosis")));
}

/// `census` (`versions --all`) on the seed image.
#[divan::bench(sample_count = 50)]
fn census_seed(b: Bencher) {
    let path = testdata("nt4-iis4-kb291589.img");
    let opts = verskew::commands::census::Options {
        progress: None,
        versions: true,
        ..Default::default()
    };
    b.bench(|| {
        black_box(
            verskew::commands::census::census_with(&path, opts)
                .expect("census")
                .rows
                .len(),
        )
    });
}

/// The large image of `benches/make-large-image.sh`, when
/// `VERSKEW_LARGE_IMAGE` names it (not committed; skipped otherwise).
fn large() -> Option<&'static Opened> {
    static L: OnceLock<Option<Opened>> = OnceLock::new();
    L.get_or_init(|| {
        let path = std::env::var_os("VERSKEW_LARGE_IMAGE")?;
        let image = image::open(Path::new(&path)).ok()?;
        let parts = volume::find_partitions(image.disk.as_ref()).ok()?;
        let p = parts
            .iter()
            .find(|p| p.filesystem == Some(Filesystem::Ntfs))?;
        let (offset, len) = (p.offset, p.size);
        Some(Opened { image, offset, len })
    })
    .as_ref()
}

/// `lookup` of w3svc.dll on the large image (system32 holds ~3,700 files).
#[divan::bench]
fn lookup_w3svc_large(b: Bencher) {
    let Some(o) = large() else { return };
    let vol = volume(o);
    b.bench(|| black_box(vol.lookup(W3SVC).expect("w3svc.dll")));
}

/// The whole `diagnose` on the large image.
#[divan::bench(sample_count = 30)]
fn diagnose_large(b: Bencher) {
    let Some(path) = std::env::var_os("VERSKEW_LARGE_IMAGE") else {
        return;
    };
    let k = Knowledge::builtin();
    let path = PathBuf::from(path);
    b.bench(|| black_box(verskew::commands::diagnose::diagnose(&path, &k).expect("diagnosis")));
}

/// `Knowledge::builtin()`: the built-in TOML knowledge base, parsed at every
/// CLI start.
#[divan::bench]
fn knowledge_builtin() -> Knowledge {
    Knowledge::builtin()
}
