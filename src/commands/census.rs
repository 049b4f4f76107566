//! `verskew versions IMAGE --all`: the version of every PE file on every NTFS
//! volume, found by scanning the MFT rather than walking directories.
//!
//! How it goes, per volume:
//! 1. `$MFT`'s data runs are read once through the ntfs crate.
//! 2. Record numbers are split into ranges and scanned in parallel (rayon,
//!    `map_init`: each worker owns a 2 MiB buffer, filled with one read per
//!    range of 2,048 records). Each record gets its update-sequence fixups
//!    and its attributes walked here, bounds-checked: `$STANDARD_INFORMATION` (times),
//!    the best `$FILE_NAME` (name, parent) and the unnamed `$DATA` (resident
//!    bytes or data runs). `Ntfs::file()` is not used per record: it re-reads
//!    record 0 and walks `$MFT`'s runs on every call.
//! 3. A file is a PE candidate when its data starts with `MZ`. Only what the
//!    version needs is read: the headers, then the resource section's file
//!    range, into a zeroed buffer of the file's size (untouched pages of a
//!    calloc'd buffer cost nothing). If that partial view is not enough, the
//!    whole file is read and parsed again.
//! 4. Full paths are built from parent references, memoized per directory,
//!    cycle-safe and depth-capped.
//!
//! On a raw image, these scattered small reads go through `pread` on the
//! image file rather than the map: probing 300,000 files through the map
//! faulted in (and tore down) ~5 GB of page-cache mappings through the
//! kernel's fault-around, for ~1.4× the CPU time and ~90× the peak RSS
//! (5 GB vs 55 MB) of `pread` (benches/RESULTS.md). Containers are read
//! through their `Disk`.
//!
//! Compressed files and files whose `$DATA` lives in an extension record
//! (`$ATTRIBUTE_LIST`) are read through [`NtfsVolume`] instead (whole file).

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::Path;
use std::time::{Duration, Instant};

use indicatif::{ParallelProgressIterator, ProgressBar, ProgressDrawTarget, ProgressStyle};
use ntfs::attribute_value::NtfsAttributeValue;
use ntfs::Ntfs;
use rayon::prelude::*;

use super::{open_partitions, CommandError};
use crate::commands::versions::VersionRow;
use crate::fs::ntfs::index::file_name_key;
use crate::fs::{contain, Entry, NtfsVolume};
use crate::image::{self, Disk, Window};
use crate::le::{u16_at, u32_at, u64_at};
use crate::pe::{self, PeError, VersionInfo};
use crate::time::FileTime;
use crate::volume::Filesystem;
use crate::windows::PeFile;
use crate::Unreadable;

/// Records scanned per parallel work item.
const CHUNK_RECORDS: u64 = 2048;
/// The root directory's record number.
const ROOT: u64 = 5;
/// MFT records below this are NTFS metadata files.
const FIRST_USER_RECORD: u64 = 16;
/// Deepest path we build; deeper chains (or cycles) are cut and marked.
const MAX_DEPTH: usize = 256;
/// Largest PE file whose version we read (the same cap as the fs layer).
const MAX_PE_BYTES: u64 = 1 << 30;
/// Header bytes read first; grown up to `MAX_HEADER_BYTES` if the section
/// table needs more.
const HEADER_PROBE: usize = 4096;
const MAX_HEADER_BYTES: usize = 64 << 10;
/// Most runs we accept in one mapping-pairs array (a hostile record cannot
/// make us allocate more).
const MAX_RUNS: usize = 65_536;

const AT_STANDARD_INFORMATION: u32 = 0x10;
const AT_ATTRIBUTE_LIST: u32 = 0x20;
const AT_FILE_NAME: u32 = 0x30;
const AT_DATA: u32 = 0x80;
const AT_END: u32 = 0xFFFF_FFFF;
const ATTR_COMPRESSED: u16 = 0x0001;
const ATTR_ENCRYPTED: u16 = 0x4000;
const RECORD_IN_USE: u16 = 0x0001;
const RECORD_IS_DIR: u16 = 0x0002;

/// What the census should do.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Show a progress bar on stderr (only drawn when stderr is a terminal).
    pub progress: bool,
    /// Read version resources; `false` scans the MFT only (for benchmarks).
    pub versions: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            progress: true,
            versions: true,
        }
    }
}

/// Counters of one census, for benchmarks and `--verbose`.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub volumes: usize,
    /// MFT records scanned (in use or not).
    pub records: u64,
    pub records_in_use: u64,
    /// In-use file records with an unnamed data stream.
    pub files: u64,
    /// Files starting with `MZ`.
    pub pe_files: u64,
    /// Bytes of MFT records read.
    pub mft_bytes: u64,
    /// Bytes of file data read or touched for PE detection and versions
    /// (probe + headers + resource section; whole files where we fell back).
    pub data_bytes: u64,
    /// 4 KiB pages of file data touched: the page-granular cost of the
    /// above (a 2-byte `MZ` probe still faults in a page of the map).
    pub data_pages: u64,
    /// Files read whole (compressed, attribute list, or partial view not enough).
    pub whole_reads: u64,
    /// Wall time of the scan (MFT + versions), excluding image open and paths.
    pub scan_time: Duration,
    pub total_time: Duration,
}

/// Everything one census found.
#[derive(Debug, Default)]
pub struct Census {
    pub rows: Vec<VersionRow>,
    pub lost: Vec<Unreadable>,
    pub stats: Stats,
}

/// The CLI entry point: every PE file of every NTFS volume, sorted by volume
/// and path.
pub fn census(path: &Path) -> Result<(Vec<VersionRow>, Vec<Unreadable>), CommandError> {
    let c = census_with(path, Options::default())?;
    Ok((c.rows, c.lost))
}

/// [`census`] with options and counters.
pub fn census_with(path: &Path, opts: Options) -> Result<Census, CommandError> {
    let t0 = Instant::now();
    let (img, partitions) = open_partitions(path)?;
    let name = path.display().to_string();
    let disk = img.disk.as_ref();
    let mut out = Census::default();
    let ntfs = partitions
        .iter()
        .filter(|p| p.filesystem == Some(Filesystem::Ntfs));
    // A raw image is also opened as a plain file (read-only), for `pread`
    // probes; only when it is exactly the disk we map.
    let probe_file = (cfg!(unix) && img.format == image::Format::Raw)
        .then(|| std::fs::File::open(path).ok())
        .flatten()
        .filter(|f| f.metadata().is_ok_and(|m| m.len() == disk.size()));
    for (index, part) in ntfs.enumerate() {
        out.stats.volumes += 1;
        match census_volume(
            disk,
            probe_file.as_ref(),
            part.offset,
            part.size,
            opts,
            &mut out.stats,
        ) {
            Ok((files, lost)) => {
                out.rows.extend(files.into_iter().map(|file| VersionRow {
                    image: name.clone(),
                    volume: index,
                    file,
                }));
                out.lost.extend(lost);
            }
            Err(e) => out.lost.push(Unreadable::new(
                &format!("volume #{index} at offset {}", part.offset),
                e,
            )),
        }
    }
    out.rows
        .sort_by(|a, b| (a.volume, &a.file.path).cmp(&(b.volume, &b.file.path)));
    out.lost.sort();
    out.lost.dedup();
    out.stats.total_time = t0.elapsed();
    Ok(out)
}

/// One extent of a non-resident stream: `len` bytes at stream offset
/// `start`, stored at volume offset `lcn` (`None`: sparse, reads as zeros).
#[derive(Debug, Clone, Copy)]
struct Extent {
    start: u64,
    len: u64,
    lcn: Option<u64>,
}

/// Where a file's unnamed `$DATA` is.
#[derive(Debug)]
enum Data {
    Resident(Vec<u8>),
    NonResident {
        extents: Vec<Extent>,
        size: u64,
        initialized: u64,
    },
}

impl Data {
    /// The stream's length in bytes.
    fn size(&self) -> u64 {
        match self {
            Data::Resident(v) => v.len() as u64,
            Data::NonResident { size, .. } => *size,
        }
    }
}

/// What a record contributes: a directory node for paths, a PE file, or a
/// file to read through the fs layer.
enum Found {
    Dir {
        record: u64,
        parent: u64,
        name: String,
    },
    Pe(Box<PeFound>),
}

struct PeFound {
    parent: u64,
    name: String,
    file: PeFile,
}

#[derive(Default)]
struct ChunkOut {
    found: Vec<Found>,
    /// Files to read through `NtfsVolume` (compressed, attribute list).
    slow: Vec<(u64, u64, String, Times, u64, bool)>,
    lost: Vec<Unreadable>,
    records: u64,
    in_use: u64,
    files: u64,
    pe: u64,
    mft_bytes: u64,
    data_bytes: u64,
    data_pages: u64,
    whole: u64,
}

#[derive(Clone, Copy, Default)]
struct Times {
    created: Option<FileTime>,
    modified: Option<FileTime>,
    mft_modified: Option<FileTime>,
}

/// A volume's bytes: the map when there is one, else reads through the disk.
struct Source<'d> {
    window: Window<'d>,
    bytes: Option<&'d [u8]>,
    cluster: u64,
    /// For a raw image: the file itself and the volume's offset in it.
    /// Probing 300,000 files for `MZ` through the map costs a page fault
    /// each, and the kernel maps 16 pages around every fault (fault-around:
    /// gigabytes of page tables set up and torn down); `pread` of 2 bytes
    /// touches no page tables.
    probe: Option<(&'d std::fs::File, u64)>,
}

impl Source<'_> {
    /// The first two bytes of a stream stored at volume offset `at`.
    fn probe_mz(&self, at: u64) -> Result<bool, String> {
        let mut mz = [0u8; 2];
        match self.probe {
            Some((file, base)) => {
                let pos = base.checked_add(at).ok_or("offset overflows")?;
                pread(file, &mut mz, pos)?;
            }
            None => self.read(at, &mut mz)?,
        }
        Ok(&mz == b"MZ")
    }

    fn read(&self, off: u64, buf: &mut [u8]) -> Result<(), String> {
        match self.probe {
            Some((file, base))
                if off
                    .checked_add(buf.len() as u64)
                    .is_some_and(|e| e <= self.window.len()) =>
            {
                let pos = base.checked_add(off).ok_or("offset overflows")?;
                pread(file, buf, pos)
            }
            _ => self
                .window
                .read_exact_at(off, buf)
                .map_err(|e| e.to_string()),
        }
    }
}

/// Positioned read from the image file (never used off Unix: see `probe_file`).
fn pread(file: &std::fs::File, buf: &mut [u8], pos: u64) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        file.read_exact_at(buf, pos).map_err(|e| e.to_string())
    }
    #[cfg(not(unix))]
    {
        let _ = (file, buf, pos);
        Err("positioned reads are only used on Unix".into())
    }
}

fn census_volume<'d>(
    disk: &'d dyn Disk,
    probe_file: Option<&'d std::fs::File>,
    offset: u64,
    len: u64,
    opts: Options,
    stats: &mut Stats,
) -> Result<(Vec<PeFile>, Vec<Unreadable>), String> {
    let window = Window::new(disk, offset, len);
    let (ntfs, mft, record_size) = contain(|| mft_layout(&window))??;
    let src = Source {
        bytes: window.as_bytes(),
        window: window.clone(),
        cluster: u64::from(ntfs.cluster_size()),
        probe: probe_file.map(|f| (f, offset)),
    };
    let mft_len = mft.last().map_or(0, |e| e.start + e.len);
    let rs = u64::from(record_size);
    let records = mft_len / rs;
    let chunks = records.div_ceil(CHUNK_RECORDS);
    let bar = progress_bar(chunks, opts.progress);
    let t = Instant::now();
    let outs: Vec<ChunkOut> = (0..chunks)
        .into_par_iter()
        .progress_with(bar.clone())
        // Each worker owns its record buffer; the volume is read through
        // `Window::read_exact_at(&self)` (a memcpy from the map), so workers
        // share no cursor.
        .map_init(
            || vec![0u8; (CHUNK_RECORDS * rs) as usize],
            |buf, chunk| {
                let first = chunk * CHUNK_RECORDS;
                let last = (first + CHUNK_RECORDS).min(records);
                let mut out = ChunkOut::default();
                // One read for the whole range of records (2 MiB), then each
                // record is fixed up in place.
                let bytes = &mut buf[..((last - first) * rs) as usize];
                if let Err(e) = read_stream(&src, &mft, u64::MAX, first * rs, bytes) {
                    out.lost.push(Unreadable::new(
                        &format!("MFT records {first}-{}", last - 1),
                        e,
                    ));
                    return out;
                }
                for (n, rec) in (first..last).zip(bytes.chunks_exact_mut(rs as usize)) {
                    // Our parsing is bounds-checked; a panic would still be a
                    // bug, so it costs one record, not the census.
                    if let Err(e) = contain(|| scan_record(&src, n, rec, opts, &mut out)) {
                        out.lost
                            .push(Unreadable::new(&format!("MFT record {n}"), e));
                    }
                }
                out
            },
        )
        .collect();
    bar.finish_and_clear();
    drop(ntfs);

    let mut dirs: HashMap<u64, (u64, String)> = HashMap::new();
    let mut pes = Vec::new();
    let mut slow = Vec::new();
    let mut lost = Vec::new();
    for o in outs {
        stats.records += o.records;
        stats.records_in_use += o.in_use;
        stats.files += o.files;
        stats.pe_files += o.pe;
        stats.mft_bytes += o.mft_bytes;
        stats.data_bytes += o.data_bytes;
        stats.data_pages += o.data_pages;
        stats.whole_reads += o.whole;
        lost.extend(o.lost);
        slow.extend(o.slow);
        for f in o.found {
            match f {
                Found::Dir {
                    record,
                    parent,
                    name,
                } => {
                    dirs.insert(record, (parent, name));
                }
                Found::Pe(p) => pes.push(p),
            }
        }
    }
    // Files the fast path cannot read: through the fs layer, whole.
    if opts.versions && !slow.is_empty() {
        let vol = NtfsVolume::open(disk, offset, len).map_err(|e| e.to_string())?;
        let read: Vec<(Option<Box<PeFound>>, u64, Option<Unreadable>)> = slow
            .into_par_iter()
            .map(|(record, parent, name, times, size, compressed)| {
                let entry = Entry {
                    path: format!("(record {record})"),
                    id: crate::fs::FileId(record),
                    metadata: false,
                    is_dir: false,
                    size,
                    created: times.created,
                    modified: times.modified,
                    mft_modified: times.mft_modified,
                    compressed,
                    error: None,
                };
                match vol.read(&entry) {
                    Ok(bytes) if bytes.starts_with(b"MZ") => {
                        let (version, error) = split(pe::read_version(&bytes));
                        let n = bytes.len() as u64;
                        let file = pe_file(size, times, compressed, version, error);
                        (Some(Box::new(PeFound { parent, name, file })), n, None)
                    }
                    Ok(bytes) => (None, bytes.len() as u64, None),
                    Err(e) => (
                        None,
                        0,
                        Some(Unreadable::new(&format!("MFT record {record} ({name})"), e)),
                    ),
                }
            })
            .collect();
        for (p, n, l) in read {
            stats.data_bytes += n;
            stats.data_pages += n.div_ceil(4096);
            stats.whole_reads += 1;
            if let Some(p) = p {
                stats.pe_files += 1;
                pes.push(p);
            }
            lost.extend(l);
        }
    }
    stats.scan_time += t.elapsed();

    let mut memo: HashMap<u64, String> = HashMap::new();
    let files = pes
        .into_iter()
        .map(|p| {
            let mut file = p.file;
            let dir = dir_path(p.parent, &dirs, &mut memo);
            file.path = format!("{dir}\\{}", p.name);
            file
        })
        .collect();
    Ok((files, lost))
}

fn progress_bar(len: u64, wanted: bool) -> ProgressBar {
    let target = if wanted && std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(len), target);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} scanning MFT [{bar:30}] {percent}% {elapsed} eta {eta}",
    ) {
        bar.set_style(style);
    }
    bar
}

/// The volume's `Ntfs`, `$MFT`'s extents and the record size.
fn mft_layout(window: &Window<'_>) -> Result<(Ntfs, Vec<Extent>, u32), String> {
    let mut w = window.clone();
    let ntfs = Ntfs::new(&mut w).map_err(|e| format!("not a readable NTFS boot sector: {e}"))?;
    let record_size = ntfs.file_record_size();
    if !(256..=65536).contains(&record_size) || !record_size.is_power_of_two() {
        return Err(format!("implausible MFT record size {record_size}"));
    }
    let mft = ntfs
        .file(&mut w, 0)
        .map_err(|e| format!("$MFT (record 0): {e}"))?;
    let item = mft
        .data(&mut w, "")
        .ok_or("$MFT has no data stream")?
        .map_err(|e| format!("$MFT data: {e}"))?;
    let attr = item.to_attribute().map_err(|e| format!("$MFT data: {e}"))?;
    let size = attr.value_length();
    let value = attr.value(&mut w).map_err(|e| format!("$MFT data: {e}"))?;
    let NtfsAttributeValue::NonResident(value) = value else {
        return Err("$MFT data is resident or split by an attribute list (not supported)".into());
    };
    let mut extents = Vec::new();
    let mut start = 0u64;
    for run in value.data_runs() {
        let run = run.map_err(|e| format!("$MFT data runs: {e}"))?;
        let len = run.allocated_size().min(size.saturating_sub(start));
        if len == 0 {
            break;
        }
        extents.push(Extent {
            start,
            len,
            lcn: run.data_position().value().map(|p| p.get()),
        });
        start += len;
        if extents.len() > MAX_RUNS {
            return Err("$MFT has too many data runs".into());
        }
    }
    Ok((ntfs, extents, record_size))
}

/// Reads `buf.len()` bytes at stream offset `off` of a non-resident stream.
/// Bytes past `initialized` and in sparse runs read as zeros.
fn read_stream(
    src: &Source<'_>,
    extents: &[Extent],
    initialized: u64,
    off: u64,
    buf: &mut [u8],
) -> Result<(), String> {
    let mut done = 0usize;
    let mut i = extents.partition_point(|e| e.start + e.len <= off);
    while done < buf.len() {
        let pos = off + done as u64;
        let e = extents
            .get(i)
            .ok_or_else(|| format!("offset {pos} is past the stream's runs"))?;
        let inner = pos - e.start;
        let n = ((e.len - inner) as usize).min(buf.len() - done);
        let dst = &mut buf[done..done + n];
        match e.lcn {
            Some(lcn) if pos < initialized => {
                let lcn = lcn.checked_add(inner).ok_or("run offset overflows")?;
                src.read(lcn, dst)?;
                let valid = initialized.saturating_sub(pos).min(n as u64) as usize;
                dst[valid..].fill(0);
            }
            _ => dst.fill(0),
        }
        done += n;
        i += 1;
    }
    Ok(())
}

/// The stream as one slice of the mapped volume, when it is one run.
fn contiguous<'d>(
    src: &Source<'d>,
    extents: &[Extent],
    size: u64,
    initialized: u64,
) -> Option<&'d [u8]> {
    let bytes = src.bytes?;
    if initialized < size {
        return None;
    }
    let first = extents.first()?;
    let mut end = first.lcn?;
    let start = end;
    for e in extents {
        if e.lcn? != end {
            return None;
        }
        end += e.len;
        if end - start >= size {
            break;
        }
    }
    let s = usize::try_from(start).ok()?;
    bytes.get(s..s.checked_add(usize::try_from(size).ok()?)?)
}

/// Applies the fixups of the record in `buf`; `false` if it is not a valid,
/// in-use base record.
fn check_record(buf: &mut [u8]) -> Result<bool, String> {
    if &buf[..4] != b"FILE" {
        return Ok(false);
    }
    let flags = u16_at(buf, 22).unwrap_or(0);
    if flags & RECORD_IN_USE == 0 || u64_at(buf, 32).unwrap_or(1) != 0 {
        return Ok(false);
    }
    // Update sequence: the last two bytes of every 512-byte stride hold the
    // sequence number; the real bytes are in the array.
    let usa = u16_at(buf, 4).ok_or("short record")? as usize;
    let count = u16_at(buf, 6).ok_or("short record")? as usize;
    if count == 0 || count - 1 > buf.len() / 512 || usa + 2 * count > buf.len() {
        return Err(format!(
            "bad update sequence array (offset {usa}, {count} entries)"
        ));
    }
    let check = [buf[usa], buf[usa + 1]];
    for k in 1..count {
        let end = k * 512 - 2;
        if buf[end..end + 2] != check {
            return Err("update sequence mismatch (torn write)".into());
        }
        let (a, b) = (buf[usa + 2 * k], buf[usa + 2 * k + 1]);
        buf[end] = a;
        buf[end + 1] = b;
    }
    Ok(true)
}

/// Decodes a mapping-pairs array into extents (volume byte offsets).
fn decode_runs(b: &[u8], cluster: u64, size: u64) -> Result<Vec<Extent>, String> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    let mut lcn: i64 = 0;
    let mut start = 0u64;
    while let Some(&h) = b.get(pos) {
        if h == 0 {
            break;
        }
        let (ln, on) = ((h & 0xf) as usize, (h >> 4) as usize);
        if ln == 0 || ln > 8 || on > 8 {
            return Err(format!("bad data-run header 0x{h:02x}"));
        }
        let field = |at: usize, n: usize, signed: bool| -> Option<i64> {
            let s = b.get(at..at + n)?;
            let mut v: i64 = 0;
            for (k, byte) in s.iter().enumerate() {
                v |= (*byte as i64) << (8 * k);
            }
            if signed && n < 8 && s[n - 1] & 0x80 != 0 {
                v |= -1i64 << (8 * n);
            }
            Some(v)
        };
        let clusters = field(pos + 1, ln, false).ok_or("truncated data run")? as u64;
        let bytes = clusters
            .checked_mul(cluster)
            .ok_or("data run length overflows")?;
        let at = if on == 0 {
            None
        } else {
            lcn = lcn
                .checked_add(field(pos + 1 + ln, on, true).ok_or("truncated data run")?)
                .ok_or("LCN overflows")?;
            Some(
                u64::try_from(lcn)
                    .map_err(|_| "negative LCN")?
                    .checked_mul(cluster)
                    .ok_or("LCN overflows")?,
            )
        };
        let len = bytes.min(size.saturating_sub(start));
        if len > 0 {
            out.push(Extent {
                start,
                len,
                lcn: at,
            });
        }
        start = start.saturating_add(bytes);
        pos += 1 + ln + on;
        if out.len() > MAX_RUNS {
            return Err("too many data runs".into());
        }
    }
    if start < size {
        return Err(format!("data runs cover {start} of {size} bytes"));
    }
    Ok(out)
}

/// Scans one record and records what it contributes.
fn scan_record(src: &Source<'_>, n: u64, buf: &mut [u8], opts: Options, out: &mut ChunkOut) {
    out.records += 1;
    out.mft_bytes += buf.len() as u64;
    match check_record(buf) {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            out.lost
                .push(Unreadable::new(&format!("MFT record {n}"), e));
            return;
        }
    }
    out.in_use += 1;
    if n < FIRST_USER_RECORD && n != ROOT {
        return;
    }
    let is_dir = u16_at(buf, 22).unwrap_or(0) & RECORD_IS_DIR != 0;
    match parse_attributes(buf, src.window.len(), src.cluster) {
        Ok(rec) => {
            let Some((parent, name)) = rec.name else {
                return;
            };
            if is_dir {
                out.found.push(Found::Dir {
                    record: n,
                    parent,
                    name,
                });
                return;
            }
            let Some((data, compressed, encrypted)) = rec.data else {
                if rec.has_list {
                    // $DATA in an extension record: let the fs layer find it.
                    out.slow.push((n, parent, name, rec.times, 0, false));
                }
                return;
            };
            out.files += 1;
            if encrypted {
                return;
            }
            if compressed {
                out.slow
                    .push((n, parent, name, rec.times, data.size(), true));
                return;
            }
            if !opts.versions {
                return;
            }
            match read_pe(src, &data) {
                Ok(None) => {
                    out.data_bytes += 2;
                    out.data_pages += 1;
                }
                Ok(Some((version, touched, whole))) => {
                    out.pe += 1;
                    out.data_bytes += touched;
                    out.data_pages += touched.div_ceil(4096).max(1);
                    out.whole += u64::from(whole);
                    let (version, error) = split(version);
                    let file = pe_file(data.size(), rec.times, false, version, error);
                    out.found
                        .push(Found::Pe(Box::new(PeFound { parent, name, file })));
                }
                Err(e) => out
                    .lost
                    .push(Unreadable::new(&format!("MFT record {n} ({name})"), e)),
            }
        }
        Err(e) => out
            .lost
            .push(Unreadable::new(&format!("MFT record {n}"), e)),
    }
}

fn split(r: Result<VersionInfo, PeError>) -> (Option<VersionInfo>, Option<String>) {
    match r {
        Ok(v) => (Some(v), None),
        Err(e) => (None, Some(e.to_string())),
    }
}

fn pe_file(
    size: u64,
    t: Times,
    compressed: bool,
    version: Option<VersionInfo>,
    error: Option<String>,
) -> PeFile {
    PeFile {
        path: String::new(),
        size,
        created: t.created,
        modified: t.modified,
        compressed,
        is_pe: true,
        version,
        error,
    }
}

struct Parsed {
    times: Times,
    /// (parent record, name) from the best-namespaced `$FILE_NAME`.
    name: Option<(u64, String)>,
    /// Unnamed `$DATA`: where, compressed, encrypted.
    data: Option<(Data, bool, bool)>,
    has_list: bool,
}

fn parse_attributes(rec: &[u8], volume_len: u64, cluster: u64) -> Result<Parsed, String> {
    let mut p = Parsed {
        times: Times::default(),
        name: None,
        data: None,
        has_list: false,
    };
    let used = (u32_at(rec, 24).unwrap_or(0) as usize).min(rec.len());
    let mut off = u16_at(rec, 20).ok_or("short record")? as usize;
    let mut best_ns = u8::MAX;
    let mut guard = 0;
    while off + 16 <= used {
        guard += 1;
        if guard > 512 {
            return Err("too many attributes".into());
        }
        let ty = u32_at(rec, off).ok_or("short attribute")?;
        if ty == AT_END {
            break;
        }
        let len = u32_at(rec, off + 4).ok_or("short attribute")? as usize;
        if len < 16 || off + len > used {
            return Err(format!("attribute at offset {off} has bad length {len}"));
        }
        let a = &rec[off..off + len];
        let non_resident = a[8] != 0;
        let name_len = a[9];
        let flags = u16_at(a, 12).unwrap_or(0);
        let resident_value = || -> Option<&[u8]> {
            let vlen = u32_at(a, 16)? as usize;
            let voff = u16_at(a, 20)? as usize;
            a.get(voff..voff.checked_add(vlen)?)
        };
        match ty {
            AT_STANDARD_INFORMATION if !non_resident => {
                if let Some(v) = resident_value() {
                    let t = |o| u64_at(v, o).and_then(FileTime::new);
                    p.times = Times {
                        created: t(0),
                        modified: t(8),
                        mft_modified: t(16),
                    };
                }
            }
            AT_ATTRIBUTE_LIST => p.has_list = true,
            AT_FILE_NAME if !non_resident => {
                // The attribute value has the layout of an index key.
                if let Some(e) = resident_value().and_then(|v| file_name_key(v, u64_at(v, 0)?)) {
                    // Win32 (1) and Win32+DOS (3) first, then POSIX (0), DOS (2) last.
                    let rank = match e.namespace {
                        1 | 3 => 0,
                        0 => 1,
                        _ => 2,
                    };
                    if rank < best_ns {
                        p.name = Some((e.record, e.name));
                        best_ns = rank;
                    }
                }
            }
            AT_DATA if name_len == 0 && p.data.is_none() => {
                let compressed = flags & ATTR_COMPRESSED != 0;
                let encrypted = flags & ATTR_ENCRYPTED != 0;
                if !non_resident {
                    let v = resident_value().ok_or("resident $DATA out of bounds")?;
                    p.data = Some((Data::Resident(v.to_vec()), compressed, encrypted));
                } else {
                    let start_vcn = u64_at(a, 16).unwrap_or(1);
                    if start_vcn != 0 {
                        // A later piece of an attribute-list-split stream.
                        p.has_list = true;
                    } else {
                        let runs_off = u16_at(a, 32).unwrap_or(0) as usize;
                        let size = u64_at(a, 48).unwrap_or(0);
                        let initialized = u64_at(a, 56).unwrap_or(0).min(size);
                        if size > volume_len.saturating_mul(2) {
                            return Err(format!("$DATA size {size} is larger than the volume"));
                        }
                        if compressed || cluster == 0 {
                            p.data = Some((
                                Data::NonResident {
                                    extents: Vec::new(),
                                    size,
                                    initialized,
                                },
                                compressed || cluster == 0,
                                encrypted,
                            ));
                        } else {
                            let runs = a.get(runs_off..).ok_or("data runs out of bounds")?;
                            match decode_runs(runs, cluster, size) {
                                Ok(extents) => {
                                    p.data = Some((
                                        Data::NonResident {
                                            extents,
                                            size,
                                            initialized,
                                        },
                                        false,
                                        encrypted,
                                    ))
                                }
                                // Runs continue in an extension record: slow path.
                                Err(_) if p.has_list => {}
                                Err(e) => return Err(format!("$DATA: {e}")),
                            }
                        }
                    }
                }
            }
            _ => {}
        }
        off += len;
    }
    Ok(p)
}

/// Reads the version of a file if it starts with `MZ`: `None` when it does
/// not; else the result, the bytes touched and whether it was read whole.
#[allow(clippy::type_complexity)]
fn read_pe(
    src: &Source<'_>,
    data: &Data,
) -> Result<Option<(Result<VersionInfo, PeError>, u64, bool)>, String> {
    match data {
        Data::Resident(v) => {
            if !v.starts_with(b"MZ") {
                return Ok(None);
            }
            Ok(Some((pe::read_version(v), v.len() as u64, true)))
        }
        Data::NonResident {
            extents,
            size,
            initialized,
        } => {
            let (size, initialized) = (*size, *initialized);
            if size < 2 {
                return Ok(None);
            }
            let starts_mz = || -> Result<bool, String> {
                let mut mz = [0u8; 2];
                read_stream(src, extents, initialized, 0, &mut mz)?;
                Ok(&mz == b"MZ")
            };
            if size > MAX_PE_BYTES {
                if !starts_mz()? {
                    return Ok(None);
                }
                return Ok(Some((
                    Err(PeError::BadPe(format!(
                        "{size} bytes is over the {MAX_PE_BYTES}-byte limit"
                    ))),
                    2,
                    false,
                )));
            }
            let mapped = if src.probe.is_some() {
                None // pread is cheaper than faulting pages in (see the module doc)
            } else {
                contiguous(src, extents, size, initialized)
            };
            if let Some(slice) = mapped {
                let first = extents.first().and_then(|e| e.lcn).unwrap_or(0);
                if !src.probe_mz(first)? {
                    return Ok(None);
                }
                let touched = union_len(&needed_ranges(slice));
                return Ok(Some((pe::read_version(slice), touched, false)));
            }
            // Fragmented (or not mapped): a zeroed buffer of the file's size
            // (calloc: untouched pages cost nothing) with only the headers and
            // the resource section filled in.
            if !starts_mz()? {
                return Ok(None);
            }
            let mut buf = vec![0u8; size as usize];
            let head = HEADER_PROBE.min(buf.len());
            read_stream(src, extents, initialized, 0, &mut buf[..head])?;
            let mut touched = head as u64;
            let mut have = vec![(0u64, head as u64)];
            // Headers may need more than the probe (then the section table is
            // read again), then the resource section.
            for _ in 0..2 {
                for (a, b) in needed_ranges(&buf) {
                    if have.iter().any(|&(x, y)| x <= a && b <= y) {
                        continue;
                    }
                    read_stream(
                        src,
                        extents,
                        initialized,
                        a,
                        &mut buf[a as usize..b as usize],
                    )?;
                    touched += b - a;
                    have.push((a, b));
                }
            }
            let first = pe::read_version(&buf);
            if first.is_ok() || matches!(first, Err(PeError::NotPe(_)) | Err(PeError::NoVersion)) {
                return Ok(Some((first, touched, false)));
            }
            // Something outside the ranges was needed: read it all and retry.
            read_stream(src, extents, initialized, 0, &mut buf)?;
            Ok(Some((pe::read_version(&buf), touched + size, true)))
        }
    }
}

/// File ranges the version needs, from the headers present in `b`: the
/// headers (up to `SizeOfHeaders`, capped) and the raw data of the section
/// holding the resource directory. Ranges whose bytes are not in `b` yet are
/// still returned (the caller reads them and asks again).
fn needed_ranges(b: &[u8]) -> Vec<(u64, u64)> {
    let len = b.len() as u64;
    let mut out = Vec::with_capacity(2);
    let Some(nt) = u32_at(b, 0x3c).map(|n| n as usize) else {
        return vec![(0, len.min(HEADER_PROBE as u64))];
    };
    let oh = nt + 24;
    let soh = u16_at(b, nt + 20).unwrap_or(0) as usize;
    let nsec = u16_at(b, nt + 6).unwrap_or(0) as usize;
    let table_end = oh + soh + 40 * nsec.min(96);
    let size_of_headers = u32_at(b, oh + 60).unwrap_or(0) as usize;
    let hdr = size_of_headers
        .max(table_end)
        .clamp(HEADER_PROBE.min(b.len()), MAX_HEADER_BYTES) as u64;
    out.push((0, hdr.min(len)));
    let magic = u16_at(b, oh).unwrap_or(0);
    let dd = if magic == 0x20b { oh + 112 } else { oh + 96 };
    let Some(rva) = u32_at(b, dd + 16) else {
        return out;
    };
    if rva == 0 {
        return out;
    }
    if let Some(sec) = pe::section_of_rva(b, oh + soh, nsec.min(96), rva) {
        let a = u64::from(sec.raw_ptr).min(len);
        let e = (u64::from(sec.raw_ptr) + u64::from(sec.raw_size)).min(len);
        if a < e {
            out.push((a, e));
        }
    }
    out
}

/// Bytes covered by a few ranges, overlaps counted once.
fn union_len(ranges: &[(u64, u64)]) -> u64 {
    let mut r = ranges.to_vec();
    r.sort_unstable();
    let (mut total, mut end) = (0u64, 0u64);
    for (a, b) in r {
        let a = a.max(end);
        if b > a {
            total += b - a;
            end = b;
        }
    }
    total
}

/// The path of directory `record` from the root, memoized; a chain that
/// loops or runs deeper than `MAX_DEPTH` is cut and marked.
fn dir_path(
    record: u64,
    dirs: &HashMap<u64, (u64, String)>,
    memo: &mut HashMap<u64, String>,
) -> String {
    if record == ROOT {
        return String::new();
    }
    if let Some(p) = memo.get(&record) {
        return p.clone();
    }
    // Walk up to a known ancestor (or the root), then build downwards.
    let mut chain = Vec::new();
    let mut cur = record;
    let mut prefix = String::new();
    loop {
        if cur == ROOT {
            break;
        }
        if let Some(p) = memo.get(&cur) {
            prefix = p.clone();
            break;
        }
        if chain.len() >= MAX_DEPTH || chain.contains(&cur) {
            prefix = "\\$cycle-or-too-deep$".into();
            break;
        }
        match dirs.get(&cur) {
            Some((parent, _)) => {
                chain.push(cur);
                cur = *parent;
            }
            None => {
                prefix = format!("\\$orphan-{cur}$");
                break;
            }
        }
    }
    let mut path = prefix;
    for r in chain.into_iter().rev() {
        path.push('\\');
        path.push_str(&dirs[&r].1);
        memo.insert(r, path.clone());
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_mapping_pairs() {
        // 0x21: 1-byte length, 2-byte offset: 0x18 clusters at LCN 0x5634;
        // then sparse 0x10 clusters; then 0x08 clusters at -0x10 relative.
        let runs = [0x21, 0x18, 0x34, 0x56, 0x01, 0x10, 0x11, 0x08, 0xF0, 0x00];
        let e = decode_runs(&runs, 4096, (0x18 + 0x10 + 0x08) * 4096).unwrap();
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].lcn, Some(0x5634 * 4096));
        assert_eq!(e[1].lcn, None);
        assert_eq!(e[2].lcn, Some((0x5634 - 0x10) * 4096));
        assert!(decode_runs(&[0x21, 0x18], 4096, 4096).is_err());
        assert!(decode_runs(&[0x01, 0x01, 0x00], 4096, 1 << 20).is_err());
    }

    #[test]
    fn paths_are_cycle_safe() {
        let mut dirs = HashMap::new();
        dirs.insert(30, (5, "WINNT".to_string()));
        dirs.insert(31, (30, "system32".to_string()));
        dirs.insert(40, (41, "a".to_string()));
        dirs.insert(41, (40, "b".to_string()));
        let mut memo = HashMap::new();
        assert_eq!(dir_path(31, &dirs, &mut memo), r"\WINNT\system32");
        assert_eq!(dir_path(31, &dirs, &mut memo), r"\WINNT\system32");
        assert!(dir_path(40, &dirs, &mut memo).starts_with(r"\$cycle"));
        assert!(dir_path(99, &dirs, &mut memo).starts_with(r"\$orphan-99$"));
    }
}
