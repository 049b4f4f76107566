//! Census throughput: MFT records per second and bytes touched per second,
//! against the bandwidth of simply reading the image (warm page cache).
//!
//!   cargo bench --bench census                       # seed image
//!   VERSKEW_CENSUS_IMAGE=/tmp/verskew-large.img VERSKEW_RUNS=7 cargo bench --bench census
//!
//! Runs alternate (MFT-only scan, full census, sequential read of the image)
//! so that noise from other work on the machine hits all three alike; medians
//! are printed. The "physical limit" is a warm-cache sequential read of the
//! image file in 1 MiB blocks (what `cat IMAGE >/dev/null` does). Cold-cache
//! runs are not part of this bench (evicting the image's pages with
//! `posix_fadvise(POSIX_FADV_DONTNEED)` works; `benches/RESULTS.md` has such
//! runs, done by hand).
//! For large sparse images only the first `VERSKEW_READ_LIMIT` bytes (default
//! 4 GiB) are read for the bandwidth figure.
//!
//! The census's own limit is measured too: the census is run once more with
//! every read it makes recorded, and those bytes are then read again with
//! `pread` alone — the same reads in the same order ("replay"), and the same
//! bytes in disk order with touching ranges merged ("same bytes, sorted") —
//! on as many threads as the census uses. Both ratios are printed: the
//! census against the same reads is its overhead over its own I/O (issue 15
//! asks for at most 2×); against the sorted bytes, what fewer and larger
//! reads could still save.

use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use verskew::commands::census::{census_disk, census_with, Options};
use verskew::image::Disk;

/// A disk that notes every read (offset, length) on its way through.
struct Recording<'a> {
    inner: &'a dyn Disk,
    log: Mutex<Vec<(u64, u32)>>,
}

impl Disk for Recording<'_> {
    fn size(&self) -> u64 {
        self.inner.size()
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        self.log.lock().unwrap().push((offset, buf.len() as u32));
        self.inner.read_exact_at(offset, buf)
    }
    fn read_scattered_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        self.log.lock().unwrap().push((offset, buf.len() as u32));
        self.inner.read_scattered_at(offset, buf)
    }
    // No `as_bytes`: every byte the census uses goes through a read.
    fn prefers_scattered_reads(&self) -> bool {
        true
    }
}

/// Every read the census makes of a raw image, in the order it makes them
/// (each worker's reads in order; workers interleaved).
fn record_reads(image: &Path) -> Vec<(u64, u32)> {
    let img = verskew::image::open(image).expect("open image");
    let rec = Recording {
        inner: img.disk.as_ref(),
        log: Mutex::new(Vec::new()),
    };
    census_disk(&rec, &image.display().to_string(), Options::default()).expect("census");
    rec.log.into_inner().unwrap()
}

/// The same bytes in disk order, overlapping and touching ranges merged,
/// pieces capped at 2 MiB (the census's own MFT read size).
fn sorted_bytes(log: &[(u64, u32)]) -> Vec<(u64, u32)> {
    let mut r: Vec<(u64, u64)> = log.iter().map(|&(o, n)| (o, o + u64::from(n))).collect();
    r.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::new();
    for (a, b) in r {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    let mut out = Vec::new();
    for (mut a, b) in merged {
        while a < b {
            let n = (b - a).min(2 << 20);
            out.push((a, n as u32));
            a += n;
        }
    }
    out
}

/// Reads `reads` with `pread` on the rayon pool, in chunks of consecutive
/// reads as the census hands out MFT ranges.
fn replay(file: &std::fs::File, reads: &[(u64, u32)]) -> Duration {
    let t = Instant::now();
    reads.par_chunks(4096).for_each_init(
        || vec![0u8; 2 << 20],
        |buf, chunk| {
            for &(o, n) in chunk {
                file.read_exact_at(&mut buf[..n as usize], o)
                    .expect("pread");
            }
        },
    );
    t.elapsed()
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes --bench; ignore arguments.
    let image = std::env::var_os("VERSKEW_CENSUS_IMAGE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/testdata/nt4-iis4-kb291589.img"
            ))
        });
    let runs: usize = std::env::var("VERSKEW_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    let limit: u64 = std::env::var("VERSKEW_READ_LIMIT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4 << 30);
    let quiet = Options {
        progress: None,
        versions: true,
        ..Default::default()
    };
    let mft_only = Options {
        progress: None,
        versions: false,
        ..Default::default()
    };

    // Warm-up (page cache, allocator).
    let first = census_with(&image, quiet).expect("census");
    let (mut t_mft, mut t_full, mut t_read) = (Vec::new(), Vec::new(), Vec::new());
    let mut read_bytes = 0u64;
    let mut stats_full = first.stats.clone();
    let mut stats_mft = None;
    let mut buf = vec![0u8; 1 << 20];
    for _ in 0..runs {
        let c = census_with(&image, mft_only).expect("census");
        t_mft.push(c.stats.scan_time);
        stats_mft = Some(c.stats);
        let c = census_with(&image, quiet).expect("census");
        t_full.push(c.stats.scan_time);
        stats_full = c.stats;
        let t = Instant::now();
        let mut f = std::fs::File::open(&image).expect("open").take(limit);
        read_bytes = 0;
        loop {
            let n = f.read(&mut buf).expect("read");
            if n == 0 {
                break;
            }
            read_bytes += n as u64;
        }
        t_read.push(t.elapsed());
        eprintln!(
            "run {}: MFT-only {:.1} ms, full {:.1} ms, read {:.1} ms",
            t_read.len(),
            t_mft[t_mft.len() - 1].as_secs_f64() * 1e3,
            t_full[t_full.len() - 1].as_secs_f64() * 1e3,
            t_read[t_read.len() - 1].as_secs_f64() * 1e3
        );
    }
    // The census's own bytes, read back with nothing but `pread`.
    let log = record_reads(&image);
    let sorted = sorted_bytes(&log);
    let file = std::fs::File::open(&image).expect("open");
    let (mut t_replay, mut t_sorted, mut t_full2) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        t_replay.push(replay(&file, &log));
        t_sorted.push(replay(&file, &sorted));
        t_full2.push(census_with(&image, quiet).expect("census").stats.scan_time);
    }
    t_full.extend(t_full2);
    let s_mft = stats_mft.expect("runs > 0");
    let (m_mft, m_full, m_read) = (median(&mut t_mft), median(&mut t_full), median(&mut t_read));
    let rate = |n: u64, t: Duration| n as f64 / t.as_secs_f64();
    let read_bw = rate(read_bytes, m_read);
    let full_bytes = stats_full.mft_bytes + stats_full.data_bytes;
    let full_bw = rate(full_bytes, m_full);
    let nproc = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "census benchmark: {} ({runs} alternating runs, medians, {nproc} threads)",
        image.display()
    );
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| MFT records scanned | {} ({} in use, {} files, {} PE) |",
        s_mft.records, s_mft.records_in_use, stats_full.files, stats_full.pe_files
    );
    println!(
        "| MFT-only scan | {:.1} ms → **{:.0} records/s** ({:.0} MB/s of MFT) |",
        m_mft.as_secs_f64() * 1e3,
        rate(s_mft.records, m_mft),
        rate(s_mft.mft_bytes, m_mft) / 1e6
    );
    println!(
        "| full census (MFT + versions) | {:.1} ms → {:.0} records/s |",
        m_full.as_secs_f64() * 1e3,
        rate(stats_full.records, m_full)
    );
    println!("| bytes touched by the census | {:.1} MB MFT + {:.1} MB file data ({} files read whole); page-granular: {:.1} MB of file-data pages |", stats_full.mft_bytes as f64 / 1e6, stats_full.data_bytes as f64 / 1e6, stats_full.whole_reads, stats_full.data_pages as f64 * 4096.0 / 1e6);
    println!(
        "| census bandwidth (bytes touched / time) | {:.0} MB/s |",
        full_bw / 1e6
    );
    println!(
        "| warm sequential read of the image ({:.2} GB) | {:.1} ms → {:.0} MB/s |",
        read_bytes as f64 / 1e9,
        m_read.as_secs_f64() * 1e3,
        read_bw / 1e6
    );
    println!(
        "| census bandwidth / read bandwidth | **{:.2}** |",
        full_bw / read_bw
    );
    let logged: u64 = log.iter().map(|&(_, n)| u64::from(n)).sum();
    let unique: u64 = sorted.iter().map(|&(_, n)| u64::from(n)).sum();
    let (m_replay, m_sorted) = (median(&mut t_replay), median(&mut t_sorted));
    println!(
        "| reads the census makes | {} reads, {:.1} MB ({:.1} MB distinct, {} ranges in disk order) |",
        log.len(),
        logged as f64 / 1e6,
        unique as f64 / 1e6,
        sorted.len()
    );
    println!(
        "| `pread` of the same reads, same order | {:.1} ms |",
        m_replay.as_secs_f64() * 1e3
    );
    println!(
        "| `pread` of the same bytes, disk order, merged | {:.1} ms |",
        m_sorted.as_secs_f64() * 1e3
    );
    println!(
        "| full census / its own bytes read sorted | **{:.2}×** (same reads: {:.2}×) |",
        m_full.as_secs_f64() / m_sorted.as_secs_f64(),
        m_full.as_secs_f64() / m_replay.as_secs_f64()
    );
    let v_time = m_full.saturating_sub(m_mft);
    let page_bytes = stats_full.data_pages * 4096;
    if !v_time.is_zero() {
        println!(
            "| version part, page-granular | {:.0} MB/s ({:.2} of read bandwidth) |",
            rate(page_bytes, v_time) / 1e6,
            rate(page_bytes, v_time) / read_bw
        );
        println!("| version part alone (full − MFT-only) | {:.1} ms for {:.1} MB → {:.0} MB/s ({:.2} of read bandwidth) |", v_time.as_secs_f64() * 1e3, stats_full.data_bytes as f64 / 1e6, rate(stats_full.data_bytes, v_time) / 1e6, rate(stats_full.data_bytes, v_time) / read_bw);
    }
}
