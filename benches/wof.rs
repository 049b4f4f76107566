//! WOF decompression throughput (issue 15): our XPRESS and LZX decoders on
//! the wimlib-compressed vectors of `testdata/wof/vectors`, whole files read
//! through `NtfsVolume::read` from `testdata/wof/wof.img` (what
//! `benches/wof_peers.py` times libfsntfs doing on the same files), and a
//! `memcpy` of the same output size as the ceiling.
//!
//!   cargo bench --bench wof
//!   python3 benches/wof_peers.py        # libfsntfs (pyfsntfs) on wof.img
//!
//! Output MB/s (10^6 bytes of decoded output per second), medians of
//! `VERSKEW_RUNS` (default 15) runs of at least 0.2 s each.

use std::path::Path;
use std::time::{Duration, Instant};

use verskew::fs::fuzzing::{decode_wof, WofAlgorithm};
use verskew::fs::NtfsVolume;
use verskew::image;

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Median seconds per call of `f`, each run repeating it for ≥ 0.2 s.
fn time(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut per = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let mut n = 0u32;
        while t.elapsed() < Duration::from_millis(200) {
            f();
            n += 1;
        }
        per.push(t.elapsed() / n);
    }
    median(&mut per).as_secs_f64()
}

fn main() {
    let runs: usize = std::env::var("VERSKEW_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/wof");
    println!(
        "{:<28} {:>9} {:>10} {:>12}",
        "input", "bytes", "MB/s", "memcpy MB/s"
    );
    for (file, algo, size) in [
        ("mixed-xpress4k.wof", 0, 150_001usize),
        ("mixed-xpress16k.wof", 3, 140_000),
        ("code-lzx.wof", 1, 70_000),
        ("mixed-lzx.wof", 1, 300_007),
    ] {
        let stream = std::fs::read(dir.join("vectors").join(file)).unwrap();
        let algo = WofAlgorithm::from_wof(algo).unwrap();
        let s = time(runs, || {
            std::hint::black_box(decode_wof(&stream, size as u64, algo).unwrap());
        });
        let src = vec![7u8; size];
        let m = time(runs, || {
            std::hint::black_box(src.clone());
        });
        println!(
            "{file:<28} {size:>9} {:>10.1} {:>12.1}",
            size as f64 / s / 1e6,
            size as f64 / m / 1e6
        );
    }
    // Whole files through the NTFS layer, as libfsntfs reads them.
    let img = image::open(&dir.join("wof.img")).unwrap();
    let disk = img.disk.as_ref();
    let vol = NtfsVolume::open(disk, 0, disk.size()).unwrap();
    let entries: Vec<_> = [
        "mixed-xpress4k.bin",
        "mixed-xpress8k.bin",
        "mixed-xpress16k.bin",
        "mixed-lzx.bin",
        "code-lzx.bin",
    ]
    .iter()
    .map(|n| vol.lookup(&format!("\\wof\\{n}")).unwrap())
    .collect();
    for e in &entries {
        let s = time(runs, || {
            std::hint::black_box(vol.read(e).unwrap());
        });
        println!(
            "{:<28} {:>9} {:>10.1} {:>12}",
            format!("wof.img {}", e.name()),
            e.size,
            e.size as f64 / s / 1e6,
            "-"
        );
    }
}
