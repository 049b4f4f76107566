//! LZNT1 decompression throughput (issue 15): our decoder
//! (`src/fs/ntfs/lznt1.rs`) against the `lznt1` crate it replaced, on the
//! same compression units, with a `memcpy` of the output size as the
//! ceiling; then whole NTFS-compressed files read through
//! `NtfsVolume::read` from an image ntfs-3g wrote (what
//! `benches/lznt1_peers.sh` times libfsntfs and ntfs-3g reading).
//!
//!   cargo bench --bench lznt1
//!   VERSKEW_LZNT1_IMAGE=/tmp/lznt1.img cargo bench --bench lznt1   # after benches/lznt1_peers.sh built it
//!
//! Output MB/s (10^6 bytes of decoded output per second), medians of
//! `VERSKEW_RUNS` (default 15) runs of at least 0.2 s each. Runs of the two
//! decoders alternate, so machine noise hits both alike.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use verskew::fs::fuzzing::lznt1_decode_unit;
use verskew::fs::NtfsVolume;
use verskew::image;

const UNIT: usize = 65_536;

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Seconds per call of `f`, one run (repeats for ≥ 0.2 s).
fn once(mut f: impl FnMut()) -> Duration {
    let t = Instant::now();
    let mut n = 0u32;
    while t.elapsed() < Duration::from_millis(200) {
        f();
        n += 1;
    }
    t.elapsed() / n
}

/// Bytes that compress the way a system32 DLL does: x86-ish code with
/// repeated prologues, import names, zero padding and some noise.
fn dll_like(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed | 1;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    let mut v = Vec::with_capacity(len);
    while v.len() < len {
        match next() % 6 {
            0 => v.extend_from_slice(&[
                0x55,
                0x8B,
                0xEC,
                0x83,
                0xEC,
                (next() % 64) as u8,
                0x53,
                0x56,
                0x57,
            ]),
            1 => v.extend_from_slice(b"GetProcAddress\0LoadLibraryA\0HeapAlloc\0"),
            2 => v.extend(std::iter::repeat_n(0u8, (next() % 200) as usize)),
            3 if v.len() > 256 => {
                let from = next() as usize % (v.len() - 64);
                let n = 3 + (next() % 60) as usize;
                let copy = v[from..from + n].to_vec();
                v.extend(copy);
            }
            _ => v.extend((0..(next() % 48)).map(|_| next() as u8)),
        }
    }
    v.truncate(len);
    v
}

/// `data` as NTFS stores it: 64 KiB units, each LZNT1-compressed.
fn units(data: &[u8]) -> Vec<Vec<u8>> {
    data.chunks(UNIT)
        .map(|u| {
            let mut packed = Vec::new();
            lznt1::compress(u, &mut packed);
            packed
        })
        .collect()
}

fn main() {
    let runs: usize = std::env::var("VERSKEW_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15);
    let mut inputs: Vec<(String, Vec<Vec<u8>>, usize)> = Vec::new();
    let dll = dll_like(4 << 20, 7);
    inputs.push(("dll-like 4 MiB".into(), units(&dll), dll.len()));
    let text: Vec<u8> =
        b"[boot loader]\r\ntimeout=30\r\ndefault=multi(0)disk(0)rdisk(0)partition(1)\\WINNT\r\n"
            .iter()
            .copied()
            .cycle()
            .take(4 << 20)
            .collect();
    inputs.push(("text 4 MiB".into(), units(&text), text.len()));
    let corpus = std::env::var_os("VERSKEW_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    if let Ok(real) = std::fs::read(corpus.join("ntfs/mft_extracts/ntfs-forensic__lznt1_real.bin"))
    {
        inputs.push(("Windows cluster (corpus)".into(), vec![real], 4096));
    }
    println!(
        "{:<26} {:>10} {:>8} {:>12} {:>12} {:>7} {:>12}",
        "input", "out bytes", "ratio", "ours MB/s", "crate MB/s", "×", "memcpy MB/s"
    );
    for (name, packed, len) in &inputs {
        let in_bytes: usize = packed.iter().map(Vec::len).sum();
        let mut out = vec![0u8; packed.len() * UNIT];
        let (mut ours, mut theirs, mut copy) = (Vec::new(), Vec::new(), Vec::new());
        let src = vec![7u8; *len];
        let mut dst = vec![0u8; *len];
        for _ in 0..runs {
            ours.push(once(|| {
                for (u, o) in packed.iter().zip(out.chunks_mut(UNIT)) {
                    o.fill(0);
                    lznt1_decode_unit(u, o).unwrap();
                }
                std::hint::black_box(&out);
            }));
            theirs.push(once(|| {
                let mut v = Vec::with_capacity(out.len());
                for u in packed {
                    lznt1::decompress(u, &mut v).unwrap();
                }
                std::hint::black_box(v);
            }));
            copy.push(once(|| {
                dst.copy_from_slice(&src);
                std::hint::black_box(&dst);
            }));
        }
        let mbs = |d: Duration| *len as f64 / d.as_secs_f64() / 1e6;
        let (o, t, c) = (median(&mut ours), median(&mut theirs), median(&mut copy));
        println!(
            "{name:<26} {len:>10} {:>8.2} {:>12.1} {:>12.1} {:>7.1} {:>12.1}",
            in_bytes as f64 / *len as f64,
            mbs(o),
            mbs(t),
            t.as_secs_f64() / o.as_secs_f64(),
            mbs(c)
        );
    }
    // Whole files through the NTFS layer.
    let Some(path) = std::env::var_os("VERSKEW_LZNT1_IMAGE") else {
        println!("(set VERSKEW_LZNT1_IMAGE to time whole compressed files; benches/lznt1_peers.sh builds one)");
        return;
    };
    let img = image::open(std::path::Path::new(&path)).unwrap();
    let disk = img.disk.as_ref();
    let vol = NtfsVolume::open(disk, 0, disk.size()).unwrap();
    let dir = vol.lookup("\\c").unwrap();
    for e in vol.list(&dir).unwrap() {
        let mut per: Vec<Duration> = (0..runs)
            .map(|_| {
                once(|| {
                    std::hint::black_box(vol.read(&e).unwrap());
                })
            })
            .collect();
        println!(
            "{:<26} {:>10} {:>8} {:>12.1}",
            format!("image {}", e.name()),
            e.size,
            if e.compressed { "lznt1" } else { "stored" },
            e.size as f64 / median(&mut per).as_secs_f64() / 1e6
        );
    }
}
