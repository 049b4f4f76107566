//! Mutation tests: verskew never crashes, hangs, balloons or writes on damaged
//! input, and always answers with a clear error or a (partial) report.
//!
//! Factory images (`testdata/`) and corpus samples are mutated with a seeded
//! LCG (bit flips in MFT records, INDX blocks, hive bins, version resources,
//! boot sectors and partition tables; absurd sizes and counts; truncation;
//! index entries pointing at their own directory; FAT volumes made by
//! `mkfs.fat` and mtools with flipped boot sectors, FATs and directory
//! entries, looping chains and folders containing themselves) and fed to the
//! real pipeline and to each layer's API. Every case runs on its own thread under
//! `catch_unwind` with a time limit. verskew contains third-party panics on
//! purpose (they become `Unreadable` entries); only a panic that escapes the
//! public API fails a test. The mutation engine is `fuzz/src/harness.rs`,
//! shared with the libFuzzer targets.
//!
//! Also replays every input in `tests/regressions/` and the corpus's
//! `*/fuzz/` crash cases.

mod common;
#[path = "../fuzz/src/harness.rs"]
mod harness;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Mutex, Once, OnceLock};
use std::time::{Duration, Instant};

use harness::{Landmarks, Lcg, Op, Outcome, Region};

/// `VERSKEW_ROBUSTNESS_SCALE=N` multiplies the number of mutated cases (for a
/// long run outside CI); `VERSKEW_ROBUSTNESS_SEED=S` changes every seed.
fn scale() -> usize {
    std::env::var("VERSKEW_ROBUSTNESS_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
        .max(1)
}

fn seeded(n: u64) -> Lcg {
    let extra: u64 = std::env::var("VERSKEW_ROBUSTNESS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Lcg(n ^ extra.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Most the process's peak virtual size (VmPeak) may grow. The caps in the
/// code allow at most 256 MiB for one structure (a VHD block) and the test
/// images are a few MiB, so a jump past this was sized from a claim on disk,
/// not from data. Peak RSS cannot show that: a zeroed allocation is mapped
/// lazily, but it is counted in VmPeak at once (the 4 GiB EWF chunk
/// allocation of tests/regressions/image_open-ewf-huge-chunk.Ex01 was).
const MAX_VM_GROWTH_KIB: u64 = 2 << 20;

/// A case that takes longer than this is a hang.
const CASE_TIMEOUT: Duration = Duration::from_secs(10);
/// Growth of the peak resident set over the whole run that we accept.
const MAX_RSS_GROWTH_KIB: u64 = 1 << 20;

static CONTAINED: AtomicUsize = AtomicUsize::new(0);
/// Where contained panics happened (file:line), to tell third-party panics
/// (expected) from panics in verskew's own code that a `catch_unwind`
/// happens to hide (bugs).
static SITES: Mutex<BTreeMap<String, usize>> = Mutex::new(BTreeMap::new());

/// A `/proc/self/status` figure in KiB (0 where /proc is missing).
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Peak resident set (VmHWM) in KiB.
fn peak_rss_kib() -> u64 {
    status_kib("VmHWM:")
}

/// Peak virtual size (VmPeak) in KiB.
fn peak_vm_kib() -> u64 {
    status_kib("VmPeak:")
}

fn baseline_rss() -> u64 {
    static B: OnceLock<u64> = OnceLock::new();
    *B.get_or_init(peak_rss_kib)
}

fn baseline_vm() -> u64 {
    static B: OnceLock<u64> = OnceLock::new();
    *B.get_or_init(peak_vm_kib)
}

/// Panics on case threads and rayon workers are expected (verskew contains
/// them); count them instead of printing. Test threads keep the default hook.
fn quiet_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        baseline_rss();
        baseline_vm();
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let name = std::thread::current().name().map(str::to_string);
            if name.as_deref().is_none_or(|n| n.starts_with("case:")) {
                CONTAINED.fetch_add(1, Ordering::Relaxed);
                let site = info
                    .location()
                    .map(|l| format!("{}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                *SITES
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(site)
                    .or_default() += 1;
            } else {
                default(info);
            }
        }));
    });
}

/// Counts for one test, printed at the end and checked.
#[derive(Default)]
struct Tally {
    what: &'static str,
    runs: usize,
    ok: usize,
    err: usize,
    escaped: Vec<String>,
    started: Option<Instant>,
    slowest: (Duration, String),
}

impl Tally {
    fn new(what: &'static str) -> Tally {
        quiet_hook();
        Tally {
            what,
            started: Some(Instant::now()),
            ..Tally::default()
        }
    }

    /// Runs `f` on its own thread; `Ok(true)` counts as a report, `Ok(false)`
    /// as an error answer. Fails the test at once on a hang.
    fn case(&mut self, label: String, f: impl FnOnce() -> bool + Send + 'static) {
        self.runs += 1;
        let start = Instant::now();
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name(format!("case:{label}"))
            .spawn(move || {
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
                let _ = tx.send(r.map_err(|p| {
                    p.downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| p.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "non-string panic".into())
                }));
            })
            .unwrap();
        match rx.recv_timeout(CASE_TIMEOUT) {
            Ok(Ok(true)) => self.ok += 1,
            Ok(Ok(false)) => self.err += 1,
            Ok(Err(msg)) => self.escaped.push(format!("{label}: {msg}")),
            Err(_) => panic!(
                "{}: case {label} did not finish within {CASE_TIMEOUT:?} (hang)",
                self.what
            ),
        }
        let took = start.elapsed();
        if took > self.slowest.0 {
            self.slowest = (took, label);
        }
    }

    fn finish(self) {
        let rss = peak_rss_kib().saturating_sub(baseline_rss());
        let vm = peak_vm_kib().saturating_sub(baseline_vm());
        eprintln!(
            "ROBUSTNESS {}: {} cases ({} report/ok, {} error answers), {} escaped panics, \
             {} contained panics so far, peak RSS +{} MiB, peak virtual size +{} MiB, {:.1} s; slowest case {:?} ({})",
            self.what,
            self.runs,
            self.ok,
            self.err,
            self.escaped.len(),
            CONTAINED.load(Ordering::Relaxed),
            rss / 1024,
            vm / 1024,
            self.started.unwrap().elapsed().as_secs_f64(),
            self.slowest.0,
            self.slowest.1.chars().take(100).collect::<String>()
        );
        let sites = SITES.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if !sites.is_empty() {
            eprintln!("ROBUSTNESS contained panic sites so far: {sites:?}");
        }
        assert!(
            self.escaped.is_empty(),
            "{}: panics escaped:\n{}",
            self.what,
            self.escaped.join("\n")
        );
        assert!(
            vm < MAX_VM_GROWTH_KIB,
            "{}: peak virtual size grew by {vm} KiB: something allocated from a size on disk",
            self.what
        );
        assert!(
            rss < MAX_RSS_GROWTH_KIB,
            "{}: peak RSS grew by {rss} KiB",
            self.what
        );
    }
}

fn testdata() -> PathBuf {
    common::testdata()
}

/// The factory images (not the damaged ones, which are replayed as they are).
fn factory_images() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(testdata())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "img"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    assert!(out.len() >= 8, "factory images missing from testdata/");
    out
}

/// Applies 1–3 random ops aimed at `region`; retries until one applies.
fn mutate(base: &[u8], lm: &Landmarks, rng: &mut Lcg, region: Region) -> (Vec<u8>, Vec<Op>) {
    let mut img = base.to_vec();
    let mut ops = Vec::new();
    let n = 1 + rng.below(3);
    let mut tries = 0;
    while (ops.len() as u64) < n && tries < 20 {
        tries += 1;
        let op = Op::random_in(rng, region);
        if op.apply(&mut img, lm) {
            ops.push(op);
        }
    }
    (img, ops)
}

fn outcome_ok(o: &Outcome) -> bool {
    matches!(o, Outcome::Report { .. })
}

/// The whole pipeline on mutated factory images, every structure kind.
fn diagnose_mutated(what: &'static str, seed: u64, per_image: usize, regions: &[Region]) {
    let mut t = Tally::new(what);
    let dir = tempfile::tempdir().unwrap();
    let mut rng = seeded(seed);
    for (name, bytes) in factory_images() {
        let lm = Landmarks::find(&bytes);
        for i in 0..per_image * scale() {
            let region = regions[i % regions.len()];
            let (img, ops) = mutate(&bytes, &lm, &mut rng, region);
            let path = dir.path().join(format!("case-{i}.img"));
            std::fs::write(&path, &img).unwrap();
            let p = path.clone();
            t.case(format!("{name} {ops:?}"), move || {
                outcome_ok(&harness::run_diagnose(&p))
            });
            std::fs::remove_file(&path).unwrap();
        }
    }
    // Nothing was written next to the images.
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "files appeared beside the images"
    );
    t.finish();
}

#[test]
fn diagnose_survives_mutated_ntfs_metadata() {
    diagnose_mutated(
        "diagnose/ntfs",
        1,
        150,
        &[Region::Mft, Region::Indx, Region::Boot, Region::Any],
    );
}

#[test]
fn diagnose_survives_mutated_hives_and_resources() {
    diagnose_mutated(
        "diagnose/hive+pe+table",
        2,
        150,
        &[Region::Hive, Region::Version, Region::Table, Region::Hive],
    );
}

#[test]
fn diagnose_survives_self_pointing_index_entries() {
    let mut t = Tally::new("diagnose/self-index");
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in factory_images() {
        let lm = Landmarks::find(&bytes);
        for pick in 0..8u32 {
            for entry in [0u32, 1, 5, 17] {
                let mut img = bytes.clone();
                if !(Op::SelfIndex { pick, entry }).apply(&mut img, &lm) {
                    continue;
                }
                let path = dir.path().join(format!("self-{pick}-{entry}.img"));
                std::fs::write(&path, &img).unwrap();
                let p = path.clone();
                t.case(format!("{name} self-index {pick}/{entry}"), move || {
                    let disk = harness::MemDisk::new(std::fs::read(&p).unwrap(), true);
                    for part in verskew::volume::find_partitions(&disk).unwrap_or_default() {
                        if let Ok(vol) =
                            verskew::fs::NtfsVolume::open(&disk, part.offset, part.size)
                        {
                            harness::exercise_volume(&vol);
                        }
                    }
                    outcome_ok(&harness::run_diagnose(&p))
                });
            }
        }
    }
    assert!(
        t.runs >= 40,
        "too few self-pointing entries were planted ({})",
        t.runs
    );
    t.finish();
}

#[test]
fn diagnose_survives_truncation() {
    let mut t = Tally::new("diagnose/truncated");
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in factory_images() {
        let len = bytes.len();
        let lm = Landmarks::find(&bytes);
        // Fixed fractions plus cuts just inside key structures.
        let mut cuts: Vec<usize> = (1..24).map(|i| len * i / 24).collect();
        cuts.extend([0, 1, 511, 512, 513, 4096]);
        cuts.extend(lm.mft.iter().step_by(7).map(|&m| m + 700));
        cuts.extend(lm.hive.iter().step_by(9).map(|&h| h + 100));
        cuts.extend(lm.version.iter().step_by(5).map(|&v| v + 40));
        for cut in cuts.into_iter().filter(|&c| c < len) {
            let path = dir.path().join("cut.img");
            std::fs::write(&path, &bytes[..cut]).unwrap();
            let p = path.clone();
            t.case(format!("{name} cut at {cut}"), move || {
                outcome_ok(&harness::run_diagnose(&p))
            });
        }
    }
    t.finish();
}

/// The NTFS layer on its own (open, walk, look up, read), zero-copy and
/// positioned-read paths alike.
#[test]
fn ntfs_layer_survives_mutations() {
    let mut t = Tally::new("fs/ntfs");
    let mut rng = seeded(3);
    let regions = [
        Region::Mft,
        Region::Indx,
        Region::Mft,
        Region::Boot,
        Region::Any,
    ];
    let mut images = factory_images();
    if let Some(c) = common::corpus() {
        images.push((
            "testfs1".into(),
            std::fs::read(c.join("ntfs/ColinFinck-ntfs__testfs1.img")).unwrap(),
        ));
    }
    for (name, bytes) in images {
        let lm = Landmarks::find(&bytes);
        let disk = harness::MemDisk::new(bytes.clone(), true);
        let parts = verskew::volume::find_partitions(&disk).unwrap();
        let Some(p) = parts
            .iter()
            .find(|p| p.filesystem == Some(verskew::volume::Filesystem::Ntfs))
        else {
            continue;
        };
        let (off, size) = (p.offset as usize, p.size as usize);
        for i in 0..120 * scale() {
            let (img, ops) = mutate(&bytes, &lm, &mut rng, regions[i % regions.len()]);
            let slice = i % 2 == 0;
            t.case(format!("{name} {ops:?}"), move || {
                let end = (off + size).min(img.len());
                let vol = img.get(off..end).unwrap_or_default().to_vec();
                let disk = harness::MemDisk::new(vol, slice);
                walked(verskew::fs::NtfsVolume::open(
                    &disk,
                    0,
                    disk.bytes.len() as u64,
                ))
            });
        }
    }
    t.finish();
}

/// NTFS 1.2 records (42-byte header, 48-byte `$STANDARD_INFORMATION`,
/// `$Volume` 1.2): the fields that differ from 3.1 set to absurd or
/// other-version values (a 3.1 array offset on a 1.2 record, a first
/// attribute inside the header, bytes-in-use past the record, a standard
/// information shorter than 48 bytes or claiming 72, any version number),
/// then walked, read by the census and by our record reader.
#[test]
fn ntfs12_records_survive_mutations() {
    let mut t = Tally::new("fs/ntfs 1.2");
    let mut rng = seeded(12);
    let images: Vec<_> = factory_images()
        .into_iter()
        .filter(|(n, _)| n.contains("-ntfs12"))
        .collect();
    assert!(images.len() >= 2, "NTFS 1.2 images missing from testdata/");
    for (name, bytes) in images {
        let lm = Landmarks::find(&bytes);
        // Every in-use record: where it is and where its $STANDARD_INFORMATION is.
        let records: Vec<(usize, usize)> = lm
            .mft
            .iter()
            .filter(|&&r| bytes[r + 4] == 0x2A && bytes[r + 0x16] & 1 == 1)
            .map(|&r| {
                (
                    r,
                    r + usize::from(u16::from_le_bytes([bytes[r + 0x14], bytes[r + 0x15]])),
                )
            })
            .collect();
        assert!(records.len() > 16, "{name}: {} 1.2 records", records.len());
        for i in 0..150 * scale() {
            let mut img = bytes.clone();
            let (rec, first) = records[rng.below(records.len() as u64) as usize];
            let pick = |rng: &mut Lcg, v: &[u32]| v[rng.below(v.len() as u64) as usize];
            let field = rng.below(7);
            let (at, width, value) = match field {
                // update sequence array offset and count
                0 => (
                    rec + 4,
                    2,
                    pick(&mut rng, &[0, 0x28, 0x2A, 0x2C, 0x30, 0x3FE, 0xFFFF]),
                ),
                1 => (rec + 6, 2, pick(&mut rng, &[0, 1, 2, 4, 0x200, 0xFFFF])),
                // first attribute offset, bytes in use, bytes allocated
                2 => (
                    rec + 0x14,
                    2,
                    pick(&mut rng, &[0, 0x18, 0x2A, 0x2C, 0x38, 0x3F8, 0xFFFF]),
                ),
                3 => (
                    rec + 0x18,
                    4,
                    pick(&mut rng, &[0, 0x30, 0x38, 0x401, 0xFFFF_FFFF]),
                ),
                4 => (
                    rec + 0x1C,
                    4,
                    pick(&mut rng, &[0, 0x200, 0x400, 0x800, 0xFFFF_FFFF]),
                ),
                // $STANDARD_INFORMATION value length and offset
                5 => (
                    first + 0x10,
                    4,
                    pick(&mut rng, &[0, 8, 0x20, 0x2F, 0x30, 0x48, 0xFFFF_FFFF]),
                ),
                _ => (
                    first + 0x14,
                    2,
                    pick(&mut rng, &[0, 0x10, 0x18, 0x3F0, 0xFFFF]),
                ),
            };
            if at + width > img.len() || (at % 512) + width > 510 {
                continue; // leave the fixup bytes to the fixup mutations
            }
            img[at..at + width].copy_from_slice(&value.to_le_bytes()[..width]);
            // Any $VOLUME_INFORMATION version, now and then.
            if i % 5 == 0 {
                if let Some(v) = find_volume_information(&img, &lm) {
                    img[v] = rng.below(256) as u8;
                    img[v + 1] = rng.below(256) as u8;
                }
            }
            let rec_bytes = img[rec..rec + 1024].to_vec();
            let label = format!("{name} record at {rec:#x} field {field} = {value:#x}");
            t.case(label, move || {
                let mut r = vec![3u8];
                r.extend(&rec_bytes);
                let _ = harness::run_mft_record(&r);
                let len = img.len() as u64;
                let disk = harness::MemDisk::new(img.clone(), true);
                let _ = verskew::fs::NtfsVolume::census_read_all(&disk, 0, len);
                let disk = harness::MemDisk::new(img, i % 2 == 0);
                walked(verskew::fs::NtfsVolume::open(&disk, 0, len))
            });
        }
    }
    t.finish();
}

/// The version bytes of `$Volume`'s `$VOLUME_INFORMATION` (record 3), if
/// the record is where the walk of records finds it.
fn find_volume_information(img: &[u8], lm: &Landmarks) -> Option<usize> {
    let rec = *lm.mft.get(3)?;
    let mut at = rec + usize::from(u16::from_le_bytes([img[rec + 0x14], img[rec + 0x15]]));
    while at + 0x18 < rec + 1024 {
        let ty = u32::from_le_bytes(img[at..at + 4].try_into().ok()?);
        let len = u32::from_le_bytes(img[at + 4..at + 8].try_into().ok()?) as usize;
        if ty == 0x70 {
            let voff = usize::from(u16::from_le_bytes([img[at + 0x14], img[at + 0x15]]));
            return Some(at + voff + 8);
        }
        if ty == 0xFFFF_FFFF || len < 0x18 {
            return None;
        }
        at += len;
    }
    None
}

/// Compressed data split by an attribute list, and a resident compressed-
/// flagged file (built by ntfs-3g at test time): their base and extension
/// records mutated, then read through the walk and the census.
#[test]
fn listed_compressed_data_survives_mutations() {
    use common::ntfs3g;
    if !ntfs3g::can_build() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let img = ntfs3g::build(dir.path());
    let bytes = std::fs::read(&img).unwrap();
    // The records holding the two files, by the number each stores at 0x2C.
    let inode = |path: &str| {
        ntfs3g::run(
            std::process::Command::new("ifind")
                .args(["-n", path])
                .arg(&img),
        )
        .trim()
        .to_string()
    };
    let (big, small) = (inode("c/big.bin"), inode("c/small.txt"));
    let istat = ntfs3g::run(std::process::Command::new("istat").arg(&img).arg(&big));
    let mut wanted: Vec<u32> = istat
        .split("MFT Entry: ")
        .skip(1)
        .filter_map(|s| s.split_whitespace().next()?.parse().ok())
        .collect();
    wanted.push(small.parse().unwrap());
    let records: Vec<usize> = (0..bytes.len() / 1024)
        .map(|k| k * 1024)
        .filter(|&o| {
            bytes[o..o + 4] == *b"FILE"
                && wanted.contains(&u32::from_le_bytes(
                    bytes[o + 0x2C..o + 0x30].try_into().unwrap(),
                ))
        })
        .collect();
    assert!(
        records.len() >= 3,
        "records of big.bin and small.txt not found"
    );
    let mut t = Tally::new("fs/ntfs attribute lists");
    let mut rng = seeded(11);
    for i in 0..16 * scale() {
        let mut m = bytes.clone();
        let r = records[i % records.len()];
        let mut ops = Vec::new();
        for _ in 0..1 + rng.below(3) {
            let at = r + 0x30 + rng.below(1024 - 0x30) as usize;
            let v = rng.below(256) as u8;
            m[at] = v;
            ops.push((at - r, v));
        }
        t.case(format!("record at {r:#x} {ops:?}"), move || {
            let len = m.len() as u64;
            let disk = harness::MemDisk::new(m, i % 2 == 0);
            let Ok(vol) = verskew::fs::NtfsVolume::open(&disk, 0, len) else {
                return false;
            };
            let mut read = false;
            for p in ["\\c\\big.bin", "\\c\\small.txt"] {
                if let Ok(e) = vol.lookup(p) {
                    read |= vol.read(&e).is_ok();
                }
            }
            let _ = verskew::fs::NtfsVolume::census_read_all(&disk, 0, len);
            read
        });
    }
    t.finish();
}

/// The flat index parser, the LZNT1 decoder and our MFT record reader on
/// mutated real inputs.
#[test]
fn index_and_lznt1_survive_mutations() {
    let mut t = Tally::new("fs/index+lznt1");
    let mut rng = seeded(4);
    for (name, bytes) in factory_images().into_iter().take(4) {
        let lm = Landmarks::find(&bytes);
        for (k, &b) in lm.indx.iter().enumerate().take(6) {
            let block = bytes[b..(b + 4096).min(bytes.len())].to_vec();
            for _ in 0..60 * scale() {
                let mut m = block.clone();
                for _ in 0..1 + rng.below(4) {
                    let at = rng.below(m.len() as u64) as usize;
                    if rng.below(3) == 0 {
                        let v = [0xFFu8, 0xFF, 0xFF, 0x7F];
                        let end = (at + 4).min(m.len());
                        m[at..end].copy_from_slice(&v[..end - at]);
                    } else {
                        m[at] ^= 1 << rng.below(8);
                    }
                }
                let mut input = vec![0x30, 0];
                input.extend(std::iter::repeat_n(0u8, 0x30));
                input[2 + 9] = 0x10; // index block size 4096
                input.extend([1, 0xFF]);
                input.extend(&m);
                t.case(format!("{name} INDX {k}"), move || {
                    let _ = harness::run_index(&input);
                    let mut fixed = m.clone();
                    verskew::fs::fuzzing::apply_fixup(&mut fixed).is_ok()
                });
            }
        }
    }
    // Our MFT record reader (the census's), on real records.
    for (name, bytes) in factory_images().into_iter().take(4) {
        let lm = Landmarks::find(&bytes);
        for (k, &r) in lm.mft.iter().enumerate().step_by(7).take(12) {
            let record = bytes[r..(r + 1024).min(bytes.len())].to_vec();
            for _ in 0..20 * scale() {
                let mut m = record.clone();
                for _ in 0..1 + rng.below(4) {
                    let at = rng.below(m.len() as u64) as usize;
                    m[at] ^= 1 << rng.below(8);
                }
                let mut input = vec![rng.below(8) as u8];
                input.extend(&m);
                t.case(format!("{name} MFT record {k}"), move || {
                    harness::run_mft_record(&input)
                });
            }
        }
    }
    // LZNT1: the real compressed unit from the corpus (or a synthetic one).
    let unit = common::corpus()
        .and_then(|c| std::fs::read(c.join("ntfs/mft_extracts/ntfs-forensic__lznt1_real.bin")).ok())
        .unwrap_or_else(|| b"\x3f\xb0\x00IIS4 w3svc.dll IIS4 w3svc.dll IIS4".to_vec());
    let head = [3u8, 4, 115, 0, 2, 0, 0, 1, 0, 0, 0, 15, 1];
    for i in 0..600 * scale() {
        let mut m = head.to_vec();
        m.extend(&unit);
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(m.len() as u64) as usize;
            m[at] ^= 1 << rng.below(8);
        }
        t.case(format!("lznt1 {i}"), move || harness::run_lznt1(&m));
    }
    t.finish();
}

/// The WOF decoders (XPRESS, LZX, the chunk table) on mutated streams that
/// wimlib compressed (testdata/wof/vectors).
#[test]
fn wof_decoders_survive_mutations() {
    let mut t = Tally::new("fs/wof");
    let mut rng = seeded(44);
    let dir = common::testdata().join("wof/vectors");
    let vectors = [
        ("mixed-xpress4k.wof", 0u8, 150_001u64),
        ("mixed-xpress16k.wof", 3, 140_000),
        ("code-lzx.wof", 1, 70_000),
        ("mixed-lzx.wof", 1, 300_007),
    ];
    for (file, algo, size) in vectors {
        let stream = std::fs::read(dir.join(file)).unwrap();
        for i in 0..100 * scale() {
            let mut m = stream.clone();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(m.len() as u64) as usize;
                m[at] ^= 1 << rng.below(8);
            }
            // The whole stream (table included) and its first chunk alone.
            let mut whole = vec![1 | algo << 1];
            whole.extend(((size / 8) as u16).to_le_bytes());
            whole.extend(&m);
            let entries = size.div_ceil(if algo == 1 {
                32768
            } else {
                4096 << (algo.max(1) - 1)
            }) - 1;
            let first = m.get(entries as usize * 4..).unwrap_or_default().to_vec();
            t.case(format!("{file} {i}"), move || {
                let chunk = if algo == 1 {
                    let mut c = 32768u16.to_le_bytes().to_vec();
                    c.extend(&first);
                    harness::run_lzx(&c)
                } else {
                    let mut c = vec![0u8];
                    c.extend(4096u16.to_le_bytes());
                    c.extend(&first);
                    harness::run_xpress(&c)
                };
                harness::run_xpress(&whole) | chunk
            });
        }
    }
    t.finish();
}

/// Hives: the SYSTEM and SOFTWARE hives inside the factory images, plus the
/// corpus's small hives.
#[test]
fn hives_survive_mutations() {
    let mut t = Tally::new("registry");
    let mut rng = seeded(5);
    let mut hives: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, bytes) in factory_images().into_iter().step_by(3) {
        let disk = harness::MemDisk::new(bytes, true);
        for p in verskew::volume::find_partitions(&disk).unwrap() {
            let Ok(vol) = verskew::fs::NtfsVolume::open(&disk, p.offset, p.size) else {
                continue;
            };
            for h in ["SYSTEM", "SOFTWARE"] {
                for root in ["WINNT", "WINDOWS"] {
                    if let Ok(d) = vol
                        .lookup(&format!(r"\{root}\system32\config\{h}"))
                        .and_then(|e| vol.read(&e))
                    {
                        hives.push((format!("{name}:{h}"), d.into_owned()));
                    }
                }
            }
        }
    }
    if let Some(c) = common::corpus() {
        for n in [
            "hives/hivex__minimal",
            "hives/hivex__special",
            "hives/python-registry__issue22.hive",
            "hives/plaso__regf_corrupt_sub_key_list.hiv",
            "hives/yarp/yarp__BadListHive",
            "hives/yarp/yarp__DuplicateSubkeysHive",
            "hives/yarp/yarp__BigDataHive",
        ] {
            if let Ok(b) = std::fs::read(c.join(n)) {
                hives.push((n.to_string(), b));
            }
        }
    }
    assert!(hives.len() >= 6, "hives not found in the factory images");
    let per = 3000 * scale() / hives.len();
    for (name, bytes) in &hives {
        let lm = Landmarks::find(bytes);
        for _ in 0..per {
            let (m, ops) = mutate(bytes, &lm, &mut rng, Region::Hive);
            t.case(format!("{name} {ops:?}"), move || harness::run_hive(&m));
        }
    }
    t.finish();
}

/// PE version resources and headers.
#[test]
fn pe_survives_mutations() {
    let mut t = Tally::new("pe");
    let mut rng = seeded(6);
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, bytes) in factory_images().into_iter().step_by(4) {
        let disk = harness::MemDisk::new(bytes, true);
        for p in verskew::volume::find_partitions(&disk).unwrap() {
            let Ok(vol) = verskew::fs::NtfsVolume::open(&disk, p.offset, p.size) else {
                continue;
            };
            for root in ["WINNT", "WINDOWS"] {
                let Ok(dir) = vol.lookup(&format!(r"\{root}\system32\inetsrv")) else {
                    continue;
                };
                for e in vol.list(&dir).unwrap_or_default().into_iter().take(5) {
                    if let Ok(d) = vol.read(&e) {
                        files.push((format!("{name}:{}", e.name()), d.into_owned()));
                    }
                }
            }
        }
    }
    if let Some(c) = common::corpus() {
        for n in [
            "pe/saferwall-pe___setup.dll",
            "pe/saferwall-pe__shimeng.dll",
            "pe/velociraptor__wkscli.dll",
            "pe/pelite__Demo64.dll",
        ] {
            if let Ok(b) = std::fs::read(c.join(n)) {
                files.push((n.to_string(), b));
            }
        }
    }
    assert!(files.len() >= 5);
    let per = 4000 * scale() / files.len();
    for (name, bytes) in &files {
        let lm = Landmarks::find(bytes);
        for i in 0..per {
            let region = if i % 4 == 3 {
                Region::Any
            } else {
                Region::Version
            };
            let (m, ops) = mutate(bytes, &lm, &mut rng, region);
            t.case(format!("{name} {ops:?}"), move || harness::run_pe(&m));
        }
    }
    t.finish();
}

/// Import, delay-import and export tables: the mingw DLLs of the loader
/// images (src/pe/testdata/imports) and the corpus's PE files, mutated
/// anywhere.
#[test]
fn pe_imports_survive_mutations() {
    let mut t = Tally::new("pe_imports");
    let mut rng = seeded(61);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/pe/testdata/imports");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "dll"))
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    files.sort();
    if let Some(c) = common::corpus() {
        for n in ["pe/saferwall-pe__shimeng.dll", "pe/pelite__Demo64.dll"] {
            if let Ok(b) = std::fs::read(c.join(n)) {
                files.push((n.to_string(), b));
            }
        }
    }
    assert!(files.len() >= 4);
    let per = 2000 * scale() / files.len();
    for (name, bytes) in &files {
        let lm = Landmarks::find(bytes);
        for _ in 0..per {
            let (m, ops) = mutate(bytes, &lm, &mut rng, Region::Any);
            t.case(format!("{name} {ops:?}"), move || {
                harness::run_pe_imports(&m)
            });
        }
    }
    t.finish();
}

/// Partition tables: the MBR, EBR and GPT disks of the factory and the corpus.
#[test]
fn partition_tables_survive_mutations() {
    let mut t = Tally::new("volume");
    let mut rng = seeded(7);
    let mut disks: Vec<(String, Vec<u8>)> = factory_images()
        .into_iter()
        .filter(|(n, _)| n.contains("mbr") || n.contains("gpt"))
        .collect();
    if let Some(c) = common::corpus() {
        for n in [
            "containers/dfir_ntfs__gpt-512-3p.raw.gz",
            "containers/dfir_ntfs__mbr-512-p1e2.bin.gz",
            "containers/dfir_ntfs__mbr-4096-p1e1.bin.gz",
            "containers/dfir_ntfs__mbr-512-p4.bin",
            "containers/velociraptor__MBR",
        ] {
            let p = c.join(n);
            if p.exists() {
                disks.push((n.to_string(), common::unpack(&p)));
            }
        }
    }
    let per = 2400 * scale() / disks.len();
    for (name, bytes) in &disks {
        let lm = Landmarks::find(bytes);
        for i in 0..per {
            let region = if i % 5 == 4 {
                Region::Boot
            } else {
                Region::Table
            };
            let (m, ops) = mutate(bytes, &lm, &mut rng, region);
            t.case(format!("{name} {ops:?}"), move || harness::run_volume(&m));
        }
    }
    t.finish();
}

/// Container headers, footers, tables and descriptors, through `image::open`
/// and on to the volume layer; plus truncation of each container.
#[test]
fn containers_survive_mutations() {
    let mut t = Tally::new("image");
    let mut rng = seeded(8);
    let dir = tempfile::tempdir().unwrap();
    let mut containers: Vec<(String, Vec<u8>)> = std::fs::read_dir(testdata().join("containers"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            // Split sets need their sibling segments; they are tested whole below.
            let n = p.file_name().unwrap().to_string_lossy();
            !n.ends_with(".002")
                && !n.ends_with(".E02")
                && !n.ends_with(".001")
                && !n.contains("split")
        })
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    containers.sort();
    for (name, bytes) in &containers {
        let ext = name.rsplit('.').next().unwrap().to_string();
        let len = bytes.len();
        // Where the metadata lives: the head, the tail (VHD footer) and a
        // few points in between (tables, grain directories).
        let hot = [
            0usize,
            512,
            1024,
            4096,
            65_536,
            196_608,
            1 << 20,
            len.saturating_sub(512),
        ];
        for i in 0..70 * scale() {
            let mut m = bytes.clone();
            let mut ops = Vec::new();
            for _ in 0..1 + rng.below(3) {
                let base = hot[rng.below(hot.len() as u64) as usize];
                let at = (base + rng.below(1024) as usize) % len;
                if rng.below(3) == 0 {
                    let v = [0xFFu8, 0xFF, 0xFF, 0x7F, 0, 0, 0, 0x40];
                    let at = at - at % 4;
                    let end = (at + 8).min(len);
                    m[at..end].copy_from_slice(&v[..end - at]);
                    ops.push(format!("absurd@{at}"));
                } else {
                    m[at] ^= 1 << rng.below(8);
                    ops.push(format!("flip@{at}"));
                }
            }
            let path = dir.path().join(format!("c{i}.{ext}"));
            std::fs::write(&path, &m).unwrap();
            let p = path.clone();
            let whole = i % 7 == 0;
            t.case(format!("{name} {ops:?}"), move || {
                let opened = harness::run_image_file(&p);
                if whole {
                    outcome_ok(&harness::run_diagnose(&p))
                } else {
                    opened
                }
            });
            std::fs::remove_file(&path).unwrap();
        }
        for k in 1..12 {
            let cut = len * k / 12;
            let path = dir.path().join(format!("cut.{ext}"));
            std::fs::write(&path, &bytes[..cut]).unwrap();
            let p = path.clone();
            t.case(format!("{name} cut at {cut}"), move || {
                harness::run_image_file(&p);
                outcome_ok(&harness::run_diagnose(&p))
            });
        }
    }
    t.finish();
}

// ---------------------------------------------------------------------------
// Replays.

/// Runs one saved input through the target its name starts with
/// (`<target>-<anything>`; see tests/regressions/README.md).
fn replay(path: &Path) -> bool {
    let bytes = std::fs::read(path).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let target = name.split('-').next().unwrap_or("");
    match target {
        "volume" => harness::run_volume(&bytes),
        "ntfs" => harness::run_ntfs(&bytes, true) | harness::run_ntfs(&bytes, false),
        "fat" => harness::run_fat(&bytes, true) | harness::run_fat(&bytes, false),
        "index" => harness::run_index(&bytes),
        "lznt1" => harness::run_lznt1(&bytes),
        "xpress" => harness::run_xpress(&bytes),
        "lzx" => harness::run_lzx(&bytes),
        "hive" => harness::run_hive(&bytes),
        "pe" => harness::run_pe(&bytes),
        "image_open" => harness::run_image_file(path),
        "diagnose" | "ntfs_patch" => {
            // First byte: the base image; the rest: encoded ops.
            let bases = [
                "nt4-iis4-kb291589.img",
                "nt4-iis4-kb291589-mbr63.img",
                "nt4-iis4-kb291589-gpt.img",
                "nt4-iis4-kb291589-compressed.img",
                "w2k3-iis6-sp1-on-sp2.img",
            ];
            let Some((&pick, ops)) = bytes.split_first() else {
                return true;
            };
            let base =
                std::fs::read(testdata().join(bases[usize::from(pick) % bases.len()])).unwrap();
            let lm = Landmarks::find(&base);
            let mut img = base;
            harness::apply_encoded(&mut img, &lm, ops);
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("replay.img");
            std::fs::write(&p, &img).unwrap();
            let disk = harness::MemDisk::new(img, pick & 0x80 == 0);
            for part in verskew::volume::find_partitions(&disk).unwrap_or_default() {
                if let Ok(vol) = verskew::fs::NtfsVolume::open(&disk, part.offset, part.size) {
                    harness::exercise_volume(&vol);
                }
            }
            outcome_ok(&harness::run_diagnose(&p))
        }
        // Anything else is a whole image for the pipeline.
        _ => outcome_ok(&harness::run_diagnose(path)),
    }
}

#[test]
fn regressions_replay() {
    let mut t = Tally::new("regressions");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| {
        p.is_file()
            && !p
                .extension()
                .is_some_and(|e| e == "md" || e == "sh" || e == "py")
    });
    files.sort();
    for p in files {
        let label = p.file_name().unwrap().to_string_lossy().to_string();
        t.case(label, move || replay(&p));
    }
    // The damaged factory images, as they are.
    for e in std::fs::read_dir(testdata().join("damaged")).unwrap() {
        let p = e.unwrap().path();
        let label = p.display().to_string();
        t.case(label, move || outcome_ok(&harness::run_diagnose(&p)));
    }
    t.finish();
}

#[test]
fn corpus_fuzz_cases_replay() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let mut t = Tally::new("corpus fuzz cases");
    for sub in ["containers/fuzz", "ntfs/fuzz", "hives/fuzz", "pe/fuzz"] {
        let Ok(rd) = std::fs::read_dir(corpus.join(sub)) else {
            continue;
        };
        for e in rd {
            let p = e.unwrap().path();
            let label = p.display().to_string();
            let bytes = std::fs::read(&p).unwrap();
            let is_ntfs = sub.starts_with("ntfs");
            t.case(label, move || {
                // Through the container layer and the pipeline, as a user would.
                let _ = harness::run_image_file(&p);
                if is_ntfs {
                    let _ = harness::run_ntfs(&bytes, true) | harness::run_ntfs(&bytes, false);
                }
                let _ = (
                    harness::run_volume(&bytes),
                    harness::run_hive(&bytes),
                    harness::run_pe(&bytes),
                );
                outcome_ok(&harness::run_diagnose(&p))
            });
        }
    }
    assert!(t.runs >= 2, "expected the corpus's fuzz crash cases");
    t.finish();
}

/// A registry path whose multi-byte characters straddle the length of a
/// `%SystemRoot%`-style prefix (found by this file's mutations; it panicked
/// in `windows::volume_path` before the fix).
#[test]
fn volume_path_survives_multibyte_prefixes() {
    for raw in [
        "%System一oot%\\x.exe",
        "\\WINNT呜÷stem32\\inetsrv\\inetinfo.exe",
        "%Syste系ᄴoot%\\a.dll",
        "\\Sys⁴em32",
        "一",
        "%windi一",
    ] {
        let _ = verskew::windows::volume_path(raw, "\\WINNT");
    }
    assert_eq!(
        verskew::windows::volume_path("%SYSTEMROOT%\\System32\\inetsrv\\inetinfo.exe", "\\WINNT")
            .as_deref(),
        Some("\\WINNT\\System32\\inetsrv\\inetinfo.exe")
    );
}

/// Drive letters and boot.ini (`windows::drives`, `windows::bootini`): a
/// sound `DISK\Information` value, `MountedDevices` data and a boot.ini with
/// bytes flipped, absurd counts and offsets written over their fields, and
/// cut short. Every decode ends, bounded, without a panic.
#[test]
fn letter_decoders_survive_mutations() {
    let mut t = Tally::new("windows/letters");
    let mut rng = seeded(13);
    // One disk, three partitions (C:, D:, E:), as NT 4.0 writes it.
    let mut disk = Vec::new();
    disk.extend_from_slice(&3u32.to_le_bytes());
    disk.extend_from_slice(&[0; 4]);
    disk.extend_from_slice(&[0; 4]);
    disk.extend_from_slice(&44u32.to_le_bytes());
    disk.extend_from_slice(&(12u32 + 3 * 52).to_le_bytes());
    disk.extend_from_slice(&[0; 24]);
    disk.extend_from_slice(&1u16.to_le_bytes());
    disk.extend_from_slice(&[0; 2]);
    disk.extend_from_slice(&3u16.to_le_bytes());
    disk.extend_from_slice(&[0; 2]);
    disk.extend_from_slice(&0x4E54_3430u32.to_le_bytes());
    for (i, letter) in [b'C', b'D', b'E'].into_iter().enumerate() {
        let mut p = [0u8; 52];
        p[0] = 4;
        p[8..16].copy_from_slice(&(32256u64 + i as u64 * 1_048_576).to_le_bytes());
        p[16..24].copy_from_slice(&1_048_576u64.to_le_bytes());
        p[40] = letter;
        p[41] = 1;
        disk.extend_from_slice(&p);
    }
    let mut mounted = 0x4E54_3430u32.to_le_bytes().to_vec();
    mounted.extend_from_slice(&32256u64.to_le_bytes());
    let boot = b"[boot loader]\r\ndefault=multi(0)disk(0)rdisk(0)partition(2)\\WINNT\r\n\
[operating systems]\r\nmulti(0)disk(0)rdisk(0)partition(2)\\WINNT=\"NT\" /sos\r\n\
signature(4e543430)disk(0)rdisk(0)partition(1)\\WINNT=\"x\"\r\n"
        .to_vec();
    let (sound, _) = verskew::windows::drives::decode_disk_information(&disk);
    assert_eq!(sound.len(), 3);
    for n in 0..900 * scale() {
        let (pick, base) = match n % 3 {
            0 => (0u8, &disk),
            1 => (1, &mounted),
            _ => (2, &boot),
        };
        let mut b = base.clone();
        for _ in 0..1 + rng.below(3) {
            if b.is_empty() {
                break;
            }
            let at = rng.below(b.len() as u64) as usize;
            match rng.below(4) {
                0 => b[at] ^= 1 << rng.below(8),
                1 => {
                    let end = (at + 4).min(b.len());
                    b[at..end].fill(0xFF);
                }
                2 => b[at] = rng.next() as u8,
                _ => b.truncate(at),
            }
        }
        let mut data = vec![pick];
        data.extend_from_slice(&b);
        t.case(format!("decoder {pick} {} bytes", b.len()), move || {
            harness::run_letters(&data)
        });
    }
    t.finish();
}

/// Recognising what is not a disk image (`src/image/sniff.rs`): heads that
/// start like an archive, a hive, a PE file, ext4 or text, mutated and cut,
/// through `image::open` and on to the volume layer. Every answer is a
/// report or one line naming the file.
#[test]
fn sniffing_survives_mutations() {
    let mut t = Tally::new("image/sniff");
    let mut rng = seeded(11);
    let dir = tempfile::tempdir().unwrap();
    let magics: &[(usize, &[u8])] = &[
        (0, b"\x1f\x8b\x08"),
        (0, b"PK\x03\x04"),
        (0, b"BZh91AY&SY"),
        (0, b"MZ"),
        (0, b"regf"),
        (257, b"ustar\0"),
        (1080, b"\x53\xef"),
        (3, b"NTFS    "),
        (510, b"\x55\xaa"),
        (0, b"text text text\n"),
    ];
    for n in 0..600 * scale() {
        let (at, magic) = magics[n % magics.len()];
        let len = rng.below(9000) as usize + at + magic.len();
        let mut b: Vec<u8> = (0..len)
            .map(|_| {
                if rng.below(4) == 0 {
                    rng.next() as u8
                } else {
                    0
                }
            })
            .collect();
        b[at..at + magic.len()].copy_from_slice(magic);
        if rng.below(3) == 0 {
            // e_lfanew anywhere, a PE header maybe where it points.
            let e = rng.below(len as u64) as u32;
            if len > 0x40 {
                b[0x3c..0x40].copy_from_slice(&e.to_le_bytes());
            }
            if (e as usize) + 4 <= len && rng.below(2) == 0 {
                b[e as usize..e as usize + 4].copy_from_slice(b"PE\0\0");
            }
        }
        b.truncate(rng.below(len as u64 + 1) as usize);
        let path = dir.path().join(format!("head{n}.bin"));
        std::fs::write(&path, &b).unwrap();
        t.case(
            format!("magic at {at} len {}", b.len()),
            move || match verskew::image::open(&path) {
                Ok(img) => {
                    let _ = verskew::commands::open_volumes(img.disk.as_ref(), "x");
                    true
                }
                Err(e) => {
                    let msg = e.to_string();
                    assert!(!msg.contains('\n') && msg.contains("head"), "{msg}");
                    false
                }
            },
        );
    }
    t.finish();
}

/// Old-format transaction logs: yarp's dirty hives and their logs, with bits
/// flipped in the log's base block, its dirty vector and pages and the
/// hive's base block, absurd sizes, and both files truncated. The replay
/// never panics, hangs or balloons, and a log not replayed has a reason.
#[test]
fn hive_logs_survive_mutations() {
    let Some(c) = common::corpus() else { return };
    let mut pairs = Vec::new();
    for (hive, log) in [
        (
            "yarp__OldDirtyHive_OldDirtyHive",
            "yarp__OldDirtyHive_OldDirtyHive.LOG1",
        ),
        (
            "yarp__BadBaseBlockHive_BadBaseBlockHive",
            "yarp__BadBaseBlockHive_BadBaseBlockHive.LOG1",
        ),
    ] {
        let dir = c.join("hives/yarp");
        match (std::fs::read(dir.join(hive)), std::fs::read(dir.join(log))) {
            (Ok(h), Ok(l)) => pairs.push((hive, h, l)),
            _ => eprintln!("SKIPPED: {hive} and its log not in the corpus"),
        }
    }
    if pairs.is_empty() {
        return;
    }
    let mut t = Tally::new("hive_log");
    let mut rng = seeded(17);
    let per = 120 * scale() / pairs.len();
    for (name, hive, log) in &pairs {
        // The unmutated pair replays.
        let (h, l) = (hive.clone(), log.clone());
        t.case(format!("{name} as is"), move || {
            assert!(harness::run_hive_log_pair(&h, &l), "did not replay");
            true
        });
        for i in 0..per {
            let (mut h, mut l) = (hive.clone(), log.clone());
            let what = match i % 6 {
                // The log's base block (sector 0).
                0 => {
                    let at = rng.below(512) as usize;
                    l[at] ^= 1 << rng.below(8);
                    format!("log base block byte {at}")
                }
                // The dirty vector and the first pages.
                1 => {
                    let at = 512 + rng.below(1024) as usize;
                    l[at] ^= 1 << rng.below(8);
                    format!("log dirty vector byte {at}")
                }
                // Anywhere in the log.
                2 => {
                    let at = rng.below(l.len() as u64) as usize;
                    l[at] ^= 1 << rng.below(8);
                    format!("log byte {at}")
                }
                // The hive's base block.
                3 => {
                    let at = rng.below(512) as usize;
                    h[at] ^= 1 << rng.below(8);
                    format!("hive base block byte {at}")
                }
                // Truncation of either file.
                4 => {
                    let n = rng.below(l.len() as u64) as usize;
                    l.truncate(n);
                    let m = rng.below(h.len() as u64 + 1) as usize;
                    if rng.below(4) == 0 {
                        h.truncate(m);
                    }
                    format!("log cut at {n}, hive maybe at {m}")
                }
                // Absurd hive bins data size, clustering factor or sequence
                // number in the log, checksum made right again.
                _ => {
                    let field = [40usize, 44, 4, 8, 28][rng.below(5) as usize];
                    let v = [u32::MAX, 0x8000_0000, 0x7FFF_F000, 0, 4096][rng.below(5) as usize];
                    l[field..field + 4].copy_from_slice(&v.to_le_bytes());
                    let mut sum = 0u32;
                    for at in (0..508).step_by(4) {
                        sum ^= u32::from_le_bytes(l[at..at + 4].try_into().unwrap());
                    }
                    l[508..512].copy_from_slice(&sum.to_le_bytes());
                    format!("log field {field} = {v:#x}")
                }
            };
            t.case(format!("{name} {what}"), move || {
                harness::run_hive_log_pair(&h, &l);
                true
            });
        }
    }
    t.finish();
}

/// Offsets of the HvLE entries of a new-format log, following each entry's
/// size from offset 512.
fn entry_offsets(log: &[u8]) -> Vec<usize> {
    let mut at = 512;
    let mut out = Vec::new();
    while log.get(at..at + 4) == Some(b"HvLE") {
        out.push(at);
        let size = u32::from_le_bytes(log[at + 4..at + 8].try_into().unwrap()) as usize;
        if size < 512 {
            break;
        }
        at += size;
    }
    out
}

/// Makes an entry's Hash-1 and Hash-2 right again after its fields changed,
/// so that the field itself is judged (as far as the entry's size allows).
fn rehash(log: &mut [u8], at: usize) {
    let size = u32::from_le_bytes(log[at + 4..at + 8].try_into().unwrap()) as usize;
    if size >= 40 && at + size <= log.len() {
        let h1 = verskew::registry::marvin32(&log[at + 40..at + size]);
        log[at + 24..at + 32].copy_from_slice(&h1.to_le_bytes());
    }
    let h2 = verskew::registry::marvin32(&log[at..at + 32]);
    log[at + 32..at + 40].copy_from_slice(&h2.to_le_bytes());
}

/// New-format transaction logs: yarp's `NewDirtyHive1` with its LOG1 and
/// LOG2 (and a real Windows 10 NTUSER.DAT with its logs), with bits flipped in the logs' base blocks, entry headers and pages
/// and the hive's base block, both logs truncated inside entries, absurd
/// entry sizes, hive bins sizes and page counts, sequence gaps and repeats,
/// and page references that overlap or all point at one page (hashes made
/// right again). The replay never panics, hangs or balloons, and logs not
/// replayed have a reason.
#[test]
fn new_hive_logs_survive_mutations() {
    let Some(c) = common::corpus() else { return };
    let hives = c.join("hives");
    let read = |n: &str| -> Option<Vec<u8>> {
        if let Ok(b) = std::fs::read(hives.join(n)) {
            return Some(b);
        }
        let f = std::fs::File::open(hives.join(format!("{n}.xz"))).ok()?;
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut xz2::read::XzDecoder::new(f), &mut out).ok()?;
        Some(out)
    };
    // yarp's NewDirtyHive1 (LOG1 entry 2, LOG2 entries 3 to 5), and a real
    // NTUSER.DAT of Windows 10 (23 entries in log1, growing the hive bins
    // data; log2 stale): fewer cases, each is larger.
    let mut sets = Vec::new();
    for (name, hive, l1, l2, share) in [
        (
            "NewDirtyHive1",
            "yarp/yarp__NewDirtyHive1_NewDirtyHive",
            "yarp/yarp__NewDirtyHive1_NewDirtyHive.LOG1",
            "yarp/yarp__NewDirtyHive1_NewDirtyHive.LOG2",
            120,
        ),
        (
            "transactions_NTUSER",
            "regipy__transactions_NTUSER.DAT",
            "regipy__transactions_ntuser.dat.log1",
            "regipy__transactions_ntuser.dat.log2",
            30,
        ),
    ] {
        match (read(hive), read(l1), read(l2)) {
            (Some(h), Some(a), Some(b)) => sets.push((name, h, a, b, share)),
            _ => eprintln!("SKIPPED: {hive} and its logs not in the corpus"),
        }
    }
    if sets.is_empty() {
        return;
    }
    let mut t = Tally::new("hive_new_log");
    let mut rng = seeded(23);
    for (name, hive, log1, log2, share) in &sets {
        {
            let (h, a, b) = (hive.clone(), log1.clone(), log2.clone());
            t.case(format!("{name} as is"), move || {
                assert!(harness::run_hive_new_logs(&h, &[&a, &b]), "did not replay");
                assert!(harness::run_hive_log(&harness::encode_hive_new_logs(
                    &h, &a, &b
                )));
                true
            });
        }
        for i in 0..share * scale() {
            let (mut h, mut logs) = (hive.clone(), [log1.clone(), log2.clone()]);
            let which = rng.below(2) as usize;
            let l = &mut logs[which];
            let entries = entry_offsets(l);
            let e = entries[rng.below(entries.len() as u64) as usize];
            let what = match i % 8 {
                // A log's base block.
                0 => {
                    let at = rng.below(512) as usize;
                    l[at] ^= 1 << rng.below(8);
                    format!("LOG{} base block byte {at}", which + 1)
                }
                // An entry header: a bad hash, or a field.
                1 => {
                    let at = e + rng.below(48) as usize;
                    l[at] ^= 1 << rng.below(8);
                    format!("LOG{} entry at {e:#x} byte {at}", which + 1)
                }
                // Anywhere in a log.
                2 => {
                    let at = rng.below(l.len() as u64) as usize;
                    l[at] ^= 1 << rng.below(8);
                    format!("LOG{} byte {at}", which + 1)
                }
                // Truncation inside an entry, maybe of the hive too.
                3 => {
                    let n = e + rng.below(l.len().saturating_sub(e) as u64) as usize;
                    l.truncate(n);
                    let m = rng.below(h.len() as u64 + 1) as usize;
                    if rng.below(4) == 0 {
                        h.truncate(m);
                    }
                    format!("LOG{} cut at {n}, hive maybe at {m}", which + 1)
                }
                // Absurd entry fields, hashes right: size, sequence number, hive
                // bins data size, dirty page count, first page offset and size.
                4 => {
                    let field = [4usize, 12, 16, 20, 40, 44][rng.below(6) as usize];
                    let v = [
                        u32::MAX,
                        0x8000_0000,
                        0x7FFF_F000,
                        0,
                        4096,
                        39,
                        511,
                        0x10_0000,
                    ][rng.below(8) as usize];
                    l[e + field..e + field + 4].copy_from_slice(&v.to_le_bytes());
                    rehash(l, e);
                    format!("LOG{} entry at {e:#x} field {field} = {v:#x}", which + 1)
                }
                // Sequence gaps and repeats: an entry's number, or a log's.
                5 => {
                    let d = [1u32, 2, u32::MAX, 0x8000_0000][rng.below(4) as usize];
                    if rng.below(2) == 0 {
                        let seq = u32::from_le_bytes(l[e + 12..e + 16].try_into().unwrap());
                        l[e + 12..e + 16].copy_from_slice(&seq.wrapping_add(d).to_le_bytes());
                        rehash(l, e);
                        format!("LOG{} entry at {e:#x} sequence + {d:#x}", which + 1)
                    } else {
                        let seq = u32::from_le_bytes(l[4..8].try_into().unwrap()).wrapping_add(d);
                        l[4..8].copy_from_slice(&seq.to_le_bytes());
                        l[8..12].copy_from_slice(&seq.to_le_bytes());
                        let mut sum = 0u32;
                        for at in (0..508).step_by(4) {
                            sum ^= u32::from_le_bytes(l[at..at + 4].try_into().unwrap());
                        }
                        l[508..512].copy_from_slice(&sum.to_le_bytes());
                        format!("LOG{} base sequence + {d:#x}", which + 1)
                    }
                }
                // Page references that overlap, repeat or wrap: every page of the
                // entry at one offset, or offsets near the top of the range.
                6 => {
                    let count = u32::from_le_bytes(l[e + 20..e + 24].try_into().unwrap()) as usize;
                    let off = [0u32, 512, 0xFFFF_F000, 0x4000][rng.below(4) as usize];
                    for k in 0..count.min(64) {
                        let r = e + 40 + 8 * k;
                        if r + 8 <= l.len() {
                            l[r..r + 4].copy_from_slice(&off.to_le_bytes());
                        }
                    }
                    rehash(l, e);
                    format!("LOG{} entry at {e:#x} pages all at {off:#x}", which + 1)
                }
                // The hive's base block (an invalid one takes the latest log's).
                _ => {
                    let at = rng.below(512) as usize;
                    h[at] ^= 1 << rng.below(8);
                    format!("hive base block byte {at}")
                }
            };
            let [a, b] = logs;
            t.case(format!("{name} {what}"), move || {
                harness::run_hive_new_logs(&h, &[&a, &b]);
                harness::run_hive_new_logs(&h, &[&b]);
                true
            });
        }
    }
    t.finish();
}

// ---------------------------------------------------------------- FAT

/// A FAT volume made by `mkfs.fat` and filled by mtools (long names, nested
/// folders, a folder spanning several clusters), or `None` with a SKIPPED
/// line when the tools are missing.
fn fat_image(bits: u8, kib: u32) -> Option<Vec<u8>> {
    let tools = ["mkfs.fat", "mcopy", "mmd"];
    if !tools.iter().all(|t| {
        std::process::Command::new(t)
            .arg("--version")
            .output()
            .is_ok()
    }) {
        eprintln!("SKIPPED: FAT mutations need dosfstools and mtools");
        return None;
    }
    let tmp = tempfile::tempdir().unwrap();
    let img = tmp.path().join("fat.img");
    let run = |cmd: &mut std::process::Command| {
        let out = cmd.env("MTOOLS_SKIP_CHECK", "1").output().unwrap();
        assert!(
            out.status.success(),
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(std::process::Command::new("mkfs.fat")
        .args(["-F", &bits.to_string(), "-s", "1", "-C"])
        .arg(&img)
        .arg(kib.to_string()));
    let i = img.to_str().unwrap();
    run(std::process::Command::new("mmd").args([
        "-i",
        i,
        "::/WINNT",
        "::/WINNT/system32",
        "::/WINNT/system32/inetsrv",
        "::/Many Files",
    ]));
    let src = tmp.path().join("f");
    std::fs::write(&src, vec![0x4D; 3000]).unwrap();
    let s = src.to_str().unwrap();
    run(std::process::Command::new("mcopy").args([
        "-i",
        i,
        s,
        "::/WINNT/system32/inetsrv/w3svc.dll",
    ]));
    run(std::process::Command::new("mcopy").args([
        "-i",
        i,
        s,
        "::/WINNT/system32/inetsrv/Infocomm Long.dll",
    ]));
    for n in 0..24 {
        run(std::process::Command::new("mcopy").args([
            "-i",
            i,
            s,
            &format!("::/Many Files/a long file name {n}.txt"),
        ]));
    }
    Some(std::fs::read(&img).unwrap())
}

/// Byte ranges of a FAT image: boot sector, first FAT, and every 8.3 entry
/// our reader lists (ids are the entries' offsets).
struct FatMarks {
    fat: std::ops::Range<usize>,
    entries: Vec<usize>,
}

fn fat_marks(img: &[u8]) -> FatMarks {
    use verskew::fs::Volume;
    let le16 = |o: usize| usize::from(u16::from_le_bytes([img[o], img[o + 1]]));
    let bps = le16(11);
    let fat_sectors = match le16(22) {
        0 => u32::from_le_bytes(img[36..40].try_into().unwrap()) as usize,
        n => n,
    };
    let start = le16(14) * bps;
    let disk = harness::MemDisk::new(img.to_vec(), true);
    let vol = verskew::fs::FatVolume::open(&disk, 0, img.len() as u64).unwrap();
    let mut entries = Vec::new();
    let mut stack = vec![vol.root().unwrap()];
    while let Some(d) = stack.pop() {
        for e in vol.list(&d).unwrap() {
            entries.push(e.id.to_string().parse().unwrap());
            if e.is_dir {
                stack.push(e);
            }
        }
    }
    FatMarks {
        fat: start..start + fat_sectors * bps,
        entries,
    }
}

/// Opens and walks a (damaged) FAT volume; true when it opened.
fn fat_case(img: Vec<u8>, slice: bool) -> bool {
    let disk = harness::MemDisk::new(img, slice);
    walked(verskew::fs::FatVolume::open(
        &disk,
        0,
        disk.bytes.len() as u64,
    ))
}

/// Walks a volume that opened; an error that did not must say something.
/// True when it opened.
fn walked<V: verskew::fs::Volume>(opened: Result<V, verskew::fs::FsError>) -> bool {
    match opened {
        Ok(v) => {
            harness::exercise_volume(&v);
            true
        }
        Err(e) => {
            assert!(!e.to_string().is_empty(), "empty error");
            false
        }
    }
}

/// Bit flips and absurd values in the boot sector, the FAT and directory
/// entries of FAT12, FAT16 and FAT32 volumes.
#[test]
fn fat_layer_survives_mutations() {
    let mut t = Tally::new("fs/fat");
    let mut rng = seeded(41);
    for (bits, kib, cases) in [
        (12u8, 1440u32, 300usize),
        (16, 8192, 300),
        (32, 34 * 1024, 90),
    ] {
        let Some(base) = fat_image(bits, kib) else {
            return;
        };
        let marks = fat_marks(&base);
        for i in 0..cases * scale() {
            let mut img = base.clone();
            let (what, at) = match i % 3 {
                0 => ("boot", rng.below(90) as usize),
                1 => (
                    "fat",
                    marks.fat.start + rng.below(marks.fat.len() as u64) as usize,
                ),
                _ => {
                    let e = marks.entries[rng.below(marks.entries.len() as u64) as usize];
                    ("entry", e + rng.below(32) as usize)
                }
            };
            let op = if rng.below(4) == 0 {
                // An absurd value: a chain pointing at itself or nowhere, a
                // size of 4 GiB, a cluster past the end.
                let v: u32 =
                    [0, 1, 2, 0xFFFF_FFFF, 0x0FFF_FFF7, 0x7FFF_FFFF][rng.below(6) as usize];
                let end = (at + 4).min(img.len());
                img[at..end].copy_from_slice(&v.to_le_bytes()[..end - at]);
                format!("{v:#x}")
            } else {
                let bit = rng.below(8);
                img[at] ^= 1 << bit;
                format!("bit {bit}")
            };
            let slice = i % 2 == 0;
            t.case(format!("FAT{bits} {what}@{at} {op}"), move || {
                fat_case(img, slice)
            });
        }
    }
    t.finish();
}

/// Hand-made damage with a known answer: a file whose chain loops, a file
/// larger than its chain, a directory containing itself, a folder whose
/// entry points at its grandparent, cross-linked files, a directory chain
/// that loops before its end marker.
#[test]
fn fat_hostile_structures_give_clean_errors() {
    use verskew::fs::{FatVolume, Volume};
    let Some(base) = fat_image(12, 1440) else {
        return;
    };
    let le16 = |b: &[u8], o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
    let fat_start = usize::from(le16(&base, 14)) * 512;
    // FAT12 entry `n` set to `v`, in both FATs' first copy.
    let set_fat12 = |img: &mut Vec<u8>, n: u16, v: u16| {
        let at = fat_start + usize::from(n) + usize::from(n) / 2;
        let old = le16(img, at);
        let new = if n & 1 == 1 {
            (old & 0x000F) | (v << 4)
        } else {
            (old & 0xF000) | (v & 0x0FFF)
        };
        img[at..at + 2].copy_from_slice(&new.to_le_bytes());
    };
    let get_fat12 = |img: &[u8], n: u16| {
        let v = le16(img, fat_start + usize::from(n) + usize::from(n) / 2);
        if n & 1 == 1 {
            v >> 4
        } else {
            v & 0x0FFF
        }
    };
    let chain = |img: &[u8], first: u16| {
        let mut out = vec![first];
        while out.len() < 100 {
            let n = get_fat12(img, *out.last().unwrap());
            if n >= 0xFF8 {
                break;
            }
            out.push(n);
        }
        out
    };
    let entry_of = |img: &[u8], path: &str| -> (usize, u16) {
        let disk = harness::MemDisk::new(img.to_vec(), true);
        let vol = FatVolume::open(&disk, 0, img.len() as u64).unwrap();
        let id: usize = vol.lookup(path).unwrap().id.to_string().parse().unwrap();
        (id, le16(img, id + 26))
    };
    // Positioned reads (the container path); a few 1.4 MiB disks leaked
    // for the test's life.
    let open = |img: &[u8]| {
        let disk: &'static harness::MemDisk =
            Box::leak(Box::new(harness::MemDisk::new(img.to_vec(), false)));
        let vol = FatVolume::open(disk, 0, img.len() as u64).unwrap();
        (disk, vol)
    };
    let dll = r"\WINNT\system32\inetsrv\w3svc.dll";

    // A chain that loops: 3000 bytes need 6 clusters; the second points back.
    let mut img = base.clone();
    let (_, first) = entry_of(&img, dll);
    let c = chain(&img, first);
    assert_eq!(c.len(), 6);
    set_fat12(&mut img, c[1], c[0]);
    let (_, vol) = open(&img);
    let e = vol.lookup(dll).unwrap();
    let err = vol.read(&e).unwrap_err().to_string();
    assert!(err.contains("loops back"), "{err}");
    assert!(err.contains(r"\WINNT\system32\inetsrv\w3svc.dll"), "{err}");

    // A size beyond the chain, and one beyond what we read at all.
    for (size, says) in [(3000 + 512 * 8, "holds only"), (u32::MAX, "more than")] {
        let mut img = base.clone();
        let (id, _) = entry_of(&img, dll);
        img[id + 28..id + 32].copy_from_slice(&size.to_le_bytes());
        let (_, vol) = open(&img);
        let err = vol.read(&vol.lookup(dll).unwrap()).unwrap_err().to_string();
        assert!(err.contains(says), "{err}");
    }

    // A folder whose entry points at its own directory, and one pointing at
    // its grandparent: listed as unreadable or walked without end by no one.
    let mut img = base.clone();
    let (sys_id, sys_cluster) = entry_of(&img, r"\WINNT\system32");
    let (inet_id, _) = entry_of(&img, r"\WINNT\system32\inetsrv");
    img[inet_id + 26..inet_id + 28].copy_from_slice(&sys_cluster.to_le_bytes());
    let (_, vol) = open(&img);
    let list = vol.list(&vol.lookup(r"\WINNT\system32").unwrap()).unwrap();
    let inet = list.iter().find(|e| e.name() == "inetsrv").unwrap();
    assert!(inet.error.as_deref().unwrap().contains("cycle"), "{inet:?}");
    assert!(vol.list(inet).is_err());
    assert!(vol.lookup(dll).is_err());
    harness::exercise_volume(&vol);

    let mut img = base.clone();
    let (_, winnt_cluster) = entry_of(&img, r"\WINNT");
    img[inet_id + 26..inet_id + 28].copy_from_slice(&winnt_cluster.to_le_bytes());
    let (_, vol) = open(&img);
    // \WINNT\system32\inetsrv now lists \WINNT: the same entries, the same
    // ids, so a walker's seen set stops.
    let inet = vol.lookup(r"\WINNT\system32\inetsrv").unwrap();
    let ids: Vec<_> = vol.list(&inet).unwrap().iter().map(|e| e.id).collect();
    let ids: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
    assert_eq!(ids, vec![sys_id.to_string()]);
    harness::exercise_volume(&vol);

    // Cross-linked: both files read the same clusters, no error.
    let mut img = base.clone();
    let (_, a) = entry_of(&img, dll);
    let (b_id, _) = entry_of(&img, r"\WINNT\system32\inetsrv\Infocomm Long.dll");
    img[b_id + 26..b_id + 28].copy_from_slice(&a.to_le_bytes());
    let (_, vol) = open(&img);
    let x = vol.read(&vol.lookup(dll).unwrap()).unwrap().to_vec();
    let y = vol
        .read(
            &vol.lookup(r"\WINNT\system32\inetsrv\infocomm long.DLL")
                .unwrap(),
        )
        .unwrap()
        .to_vec();
    assert_eq!(x, y);

    // A directory chain looping before its end marker: 24 long names take
    // 72 entries, 5 clusters of 512 bytes; the fourth points at the first.
    let mut img = base.clone();
    let (_, many) = entry_of(&img, r"\Many Files");
    let c = chain(&img, many);
    assert!(c.len() >= 5, "{c:?}");
    set_fat12(&mut img, c[3], c[0]);
    let (_, vol) = open(&img);
    let err = vol
        .list(&vol.lookup(r"\Many Files").unwrap())
        .unwrap_err()
        .to_string();
    assert!(err.contains("loops back"), "{err}");
    harness::exercise_volume(&vol);
}

/// The whole pipeline on the seed's tree on FAT16 with bit flips and absurd
/// values in its boot sector, FAT and directory entries.
#[test]
fn diagnose_survives_mutated_fat() {
    if fat_image(12, 1440).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let base = std::fs::read(common::seed_on_fat16(tmp.path())).unwrap();
    let marks = fat_marks(&base);
    let mut t = Tally::new("diagnose/fat");
    let mut rng = seeded(43);
    for i in 0..150 * scale() {
        let mut img = base.clone();
        let at = match i % 3 {
            0 => rng.below(90) as usize,
            1 => marks.fat.start + rng.below(marks.fat.len() as u64) as usize,
            _ => {
                marks.entries[rng.below(marks.entries.len() as u64) as usize]
                    + rng.below(32) as usize
            }
        };
        let bit = rng.below(8);
        img[at] ^= 1 << bit;
        t.case(format!("seed on FAT16 flip {at}/{bit}"), move || {
            outcome_ok(&harness::run_diagnose_bytes(img))
        });
    }
    t.finish();
}
