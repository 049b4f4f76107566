//! Every file of an NTFS volume, found by scanning the MFT rather than
//! walking directories, each handed to the caller's inspector (the census of
//! `versions IMAGE --all` reads PE versions with it).
//!
//! How it goes:
//! 1. `$MFT`'s data runs are read once through the ntfs crate.
//! 2. Record numbers are split into ranges and scanned in parallel (rayon,
//!    `map_init`: each worker owns a 2 MiB buffer, filled with one read per
//!    range of 2,048 records). Each record is fixed up and its attributes
//!    walked by [`super::record`]: `$STANDARD_INFORMATION` (times), the best
//!    `$FILE_NAME` (name, parent) and the unnamed `$DATA` (resident bytes or
//!    data runs). `Ntfs::file()` is not used per record: it re-reads record 0
//!    and walks `$MFT`'s runs on every call.
//! 3. Once a chunk's records are parsed, its files are handed to the
//!    inspector in the order their data lies on the volume (a sweep, not a
//!    random walk, on a disk or a cold cache), each as a [`RangeRead`], so
//!    it reads only what it needs (the census: an `MZ` probe, the headers
//!    and the resource section). These small scattered reads go through
//!    [`Window::read_scattered_at`]: `pread` on a raw image, not page faults
//!    on the map (see `image::raw`).
//! 4. Full paths are built from parent references, memoized per directory,
//!    cycle-safe and depth-capped.
//!
//! Compressed files, files with a reparse point (WOF-compressed, or data
//! kept elsewhere) and files whose `$DATA` lives in an extension record
//! (`$ATTRIBUTE_LIST`) are read through [`NtfsVolume`] instead (whole file).
//!
//! Progress is reported through a callback, `(records done, records)`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ntfs::attribute_value::NtfsAttributeValue;
use ntfs::Ntfs;
use rayon::prelude::*;

use super::record::{self, Data, Extent, Times, FIRST_USER_RECORD, MAX_RUNS, ROOT_RECORD};
use super::stream::{StreamFile, VolumeBytes};
use super::NtfsVolume;
use crate::fs::{contain, Entry, FileId, RangeRead};
use crate::image::{Disk, Window};
use crate::time::FileTime;
use crate::Unreadable;

/// Records scanned per parallel work item.
const CHUNK_RECORDS: u64 = 2048;
/// Deepest path we build; deeper chains (or cycles) are cut and marked.
const MAX_DEPTH: usize = 256;

/// Counters of one census, for benchmarks and `--verbose`.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub volumes: usize,
    /// MFT records scanned (in use or not).
    pub records: u64,
    pub records_in_use: u64,
    /// In-use file records with an unnamed data stream.
    pub files: u64,
    /// Files the inspector kept (for the census: PE files).
    pub pe_files: u64,
    /// Bytes of MFT records read.
    pub mft_bytes: u64,
    /// Bytes of file data the inspector read or touched (for the census:
    /// probe + headers + resource section; whole files where it fell back).
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

/// A file the inspector kept, with what it made of it.
#[derive(Debug)]
pub struct Found<T> {
    /// From the root, `\`-separated, without a drive letter.
    pub path: String,
    /// The file's MFT record number.
    pub id: FileId,
    pub size: u64,
    pub created: Option<FileTime>,
    pub modified: Option<FileTime>,
    pub compressed: bool,
    pub value: T,
}

/// What an inspector made of one file, and what that cost.
#[derive(Debug)]
pub struct Inspected<T> {
    pub value: T,
    /// Bytes of the file read or touched.
    pub touched: u64,
    /// The whole file was read.
    pub whole: bool,
}

/// Looks at a file's data: `None` for a file it does not want, `Err` for one
/// it could not read. Called from many threads at once.
pub type Inspect<'a, T> =
    dyn Fn(&dyn RangeRead) -> Result<Option<Inspected<T>>, String> + Sync + 'a;

/// Scans the NTFS volume of `len` bytes at `offset`: the files `inspect`
/// kept (in MFT order) and what could not be read; counters are added to
/// `stats`. Without an inspector, the MFT alone is scanned (for benchmarks).
pub fn scan<T: Send>(
    disk: &dyn Disk,
    offset: u64,
    len: u64,
    inspect: Option<&Inspect<'_, T>>,
    progress: &(dyn Fn(u64, u64) + Sync),
    stats: &mut Stats,
) -> Result<(Vec<Found<T>>, Vec<Unreadable>), String> {
    let window = Window::new(disk, offset, len);
    let (ntfs, mft, record_size) = contain(|| mft_layout(&window))??;
    let vol = VolumeBytes::new(window.clone(), u64::from(ntfs.cluster_size()));
    let mft_len = mft.last().map_or(0, |e| e.start + e.len);
    let rs = u64::from(record_size);
    let records = mft_len / rs;
    let chunks = records.div_ceil(CHUNK_RECORDS);
    let done = AtomicU64::new(0);
    progress(0, records);
    let t = Instant::now();
    let outs: Vec<ChunkOut<T>> = (0..chunks)
        .into_par_iter()
        // Each worker owns its record buffer; the volume is read through
        // `&self` methods, so workers share no cursor.
        .map_init(
            || vec![0u8; (CHUNK_RECORDS * rs) as usize],
            |buf, chunk| {
                let first = chunk * CHUNK_RECORDS;
                let last = (first + CHUNK_RECORDS).min(records);
                let out = scan_chunk(&vol, &mft, buf, first, last, rs, inspect);
                let n = done.fetch_add(last - first, Ordering::Relaxed) + (last - first);
                progress(n, records);
                out
            },
        )
        .collect();
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
                Seen::Dir {
                    record,
                    parent,
                    name,
                } => {
                    dirs.insert(record, (parent, name));
                }
                Seen::File(p) => pes.push(p),
            }
        }
    }
    // Files the fast path cannot read: through the fs layer, whole.
    let vol = match slow.is_empty() {
        true => None,
        false => Some(NtfsVolume::open(disk, offset, len).map_err(|e| e.to_string())?),
    };
    if let Some(vol) = &vol {
        // Records whose $FILE_NAME lives in an extension record: named by
        // the fs layer, which follows the attribute list.
        slow.retain_mut(|s| {
            if !s.named {
                match vol.best_name(s.record) {
                    Some((parent, name)) => (s.parent, s.name) = (parent, name),
                    None => return false,
                }
            }
            if s.is_dir {
                dirs.insert(s.record, (s.parent, s.name.clone()));
            }
            !s.is_dir
        });
    }
    if let (Some(inspect), Some(vol)) = (inspect, &vol) {
        let read: Vec<_> = slow
            .into_par_iter()
            .map(|s| read_slow(vol, s, inspect))
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

/// What a record contributes: a directory node for paths or a kept file.
enum Seen<T> {
    Dir {
        record: u64,
        parent: u64,
        name: String,
    },
    File(Box<Pending<T>>),
}

/// A kept file before its path is known.
struct Pending<T> {
    parent: u64,
    name: String,
    file: Found<T>,
}

/// A file to read through [`NtfsVolume`] (compressed, attribute list), or
/// a directory or file whose name is in an extension record.
struct Slow {
    record: u64,
    is_dir: bool,
    /// False: `parent` and `name` are still to be found.
    named: bool,
    parent: u64,
    name: String,
    times: Times,
    size: u64,
    compressed: bool,
}

/// What the scan knows of a file from its record.
struct Meta {
    record: u64,
    parent: u64,
    name: String,
    times: Times,
    size: u64,
    compressed: bool,
}

/// A file with non-resident data, to hand to the inspector once its chunk's
/// records are all parsed.
struct Todo {
    meta: Meta,
    extents: Vec<Extent>,
    initialized: u64,
}

impl Todo {
    /// Where its data starts on the volume (0 when it starts sparse): the
    /// order reads go in.
    fn disk_order(&self) -> u64 {
        self.extents.first().and_then(|e| e.lcn).unwrap_or(0)
    }
}

struct ChunkOut<T> {
    found: Vec<Seen<T>>,
    /// Files whose data is read after the chunk's records are parsed, in
    /// disk order.
    todo: Vec<Todo>,
    slow: Vec<Slow>,
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

impl<T> Default for ChunkOut<T> {
    fn default() -> Self {
        ChunkOut {
            found: Vec::new(),
            todo: Vec::new(),
            slow: Vec::new(),
            lost: Vec::new(),
            records: 0,
            in_use: 0,
            files: 0,
            pe: 0,
            mft_bytes: 0,
            data_bytes: 0,
            data_pages: 0,
            whole: 0,
        }
    }
}

/// Records `first..last`: one read for the whole range (2 MiB), then each
/// record is fixed up in place and scanned.
fn scan_chunk<T>(
    vol: &VolumeBytes<'_>,
    mft: &[Extent],
    buf: &mut [u8],
    first: u64,
    last: u64,
    rs: u64,
    inspect: Option<&Inspect<'_, T>>,
) -> ChunkOut<T> {
    let mut out = ChunkOut::default();
    let bytes = &mut buf[..((last - first) * rs) as usize];
    if let Err(e) = vol.read_stream(mft, u64::MAX, first * rs, bytes) {
        out.lost.push(Unreadable::new(
            &format!("MFT records {first}-{}", last - 1),
            e,
        ));
        return out;
    }
    for (n, rec) in (first..last).zip(bytes.chunks_exact_mut(rs as usize)) {
        // Our parsing is bounds-checked; a panic would still be a bug, so it
        // costs one record, not the census.
        if let Err(e) = contain(|| scan_record(vol, n, rec, inspect, &mut out)) {
            out.lost
                .push(Unreadable::new(&format!("MFT record {n}"), e));
        }
    }
    // The chunk's files are read in the order their data lies on the disk,
    // not in record order: on a disk or a cold cache, a sweep instead of a
    // random walk.
    if let Some(inspect) = inspect {
        let mut todo = std::mem::take(&mut out.todo);
        todo.sort_unstable_by_key(|t| (t.disk_order(), t.meta.record));
        for t in &todo {
            if let Err(e) = contain(|| inspect_file(vol, t, inspect, &mut out)) {
                let what = format!("MFT record {} ({})", t.meta.record, t.meta.name);
                out.lost.push(Unreadable::new(&what, e));
            }
        }
    }
    out
}

/// The volume's `Ntfs`, `$MFT`'s extents and the record size.
fn mft_layout(window: &Window<'_>) -> Result<(Ntfs, Vec<Extent>, u32), String> {
    let mut w = window.clone();
    let ntfs = Ntfs::new(&mut w)
        .map_err(|e| format!("not a readable NTFS boot sector: {}", super::ntfs_text(e)))?;
    let record_size = ntfs.file_record_size();
    if !(256..=65536).contains(&record_size) || !record_size.is_power_of_two() {
        return Err(format!("implausible MFT record size {record_size}"));
    }
    let extents = mft_extents(&ntfs, &mut w)?;
    Ok((ntfs, extents, record_size))
}

/// `$MFT`'s extents, from its unnamed `$DATA` in record 0.
pub(super) fn mft_extents(ntfs: &Ntfs, w: &mut Window<'_>) -> Result<Vec<Extent>, String> {
    let mft = ntfs
        .file(w, 0)
        .map_err(|e| format!("$MFT (record 0): {}", super::ntfs_text(e)))?;
    let item = mft
        .data(w, "")
        .ok_or("$MFT has no data stream")?
        .map_err(|e| format!("$MFT data: {}", super::ntfs_text(e)))?;
    let attr = item
        .to_attribute()
        .map_err(|e| format!("$MFT data: {}", super::ntfs_text(e)))?;
    let size = attr.value_length();
    let value = attr
        .value(w)
        .map_err(|e| format!("$MFT data: {}", super::ntfs_text(e)))?;
    let NtfsAttributeValue::NonResident(value) = value else {
        return Err("$MFT data is resident or split by an attribute list (not supported)".into());
    };
    let mut extents = Vec::new();
    let mut start = 0u64;
    for run in value.data_runs() {
        let run = run.map_err(|e| format!("$MFT data runs: {}", super::ntfs_text(e)))?;
        let len = run.allocated_size().min(size.saturating_sub(start));
        if len == 0 {
            break;
        }
        // `data_position()` is `None` for sparse runs and for LCN 0, which
        // `$MFT` never starts at (the boot sector is there).
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
    Ok(extents)
}

/// Scans one record and records what it contributes.
fn scan_record<T>(
    vol: &VolumeBytes<'_>,
    n: u64,
    buf: &mut [u8],
    inspect: Option<&Inspect<'_, T>>,
    out: &mut ChunkOut<T>,
) {
    out.records += 1;
    out.mft_bytes += buf.len() as u64;
    let is_dir = match record::check_record(buf) {
        Ok(Some(is_dir)) => is_dir,
        Ok(None) => return,
        Err(e) => {
            out.lost
                .push(Unreadable::new(&format!("MFT record {n}"), e));
            return;
        }
    };
    out.in_use += 1;
    if n < FIRST_USER_RECORD && n != ROOT_RECORD {
        return;
    }
    let rec = match record::parse_attributes(buf, vol.window.len(), vol.cluster) {
        Ok(rec) => rec,
        Err(e) => {
            out.lost
                .push(Unreadable::new(&format!("MFT record {n}"), e));
            return;
        }
    };
    let Some((parent, name)) = rec.name else {
        // $FILE_NAME in an extension record (a base record full of runs).
        let encrypted = rec.data.as_ref().is_some_and(|d| d.2);
        if rec.has_list && !encrypted {
            let (size, compressed) = rec.data.as_ref().map_or((0, false), |d| (d.0.size(), d.1));
            out.slow.push(Slow {
                record: n,
                is_dir,
                named: false,
                parent: 0,
                name: String::new(),
                times: rec.times,
                size,
                compressed,
            });
        }
        return;
    };
    if is_dir {
        out.found.push(Seen::Dir {
            record: n,
            parent,
            name,
        });
        return;
    }
    let slow = |size, compressed| Slow {
        record: n,
        is_dir: false,
        named: true,
        parent,
        name: name.clone(),
        times: rec.times,
        size,
        compressed,
    };
    let Some((data, compressed, encrypted)) = rec.data else {
        if rec.has_list {
            // $DATA in an extension record: let the fs layer find it.
            out.slow.push(slow(0, false));
        }
        return;
    };
    out.files += 1;
    if encrypted {
        return;
    }
    // A reparse point (WOF-compressed data, or data kept elsewhere): the
    // fs layer decodes it or says why not.
    if rec.reparse {
        out.slow.push(slow(data.size(), compressed));
        return;
    }
    // A resident value is stored as is even when flagged compressed.
    if compressed && !matches!(data, Data::Resident(_)) {
        out.slow.push(slow(data.size(), true));
        return;
    }
    let Some(inspect) = inspect else {
        return;
    };
    let meta = Meta {
        record: n,
        parent,
        name,
        times: rec.times,
        size: data.size(),
        compressed,
    };
    match data {
        // Resident data is already in the record: all of it is read.
        Data::Resident(v) => {
            let inspected = inspect(&v).map(|i| {
                i.map(|i| Inspected {
                    touched: v.len() as u64,
                    whole: true,
                    ..i
                })
            });
            kept(inspected, &meta, out);
        }
        Data::NonResident {
            extents,
            initialized,
            ..
        } => out.todo.push(Todo {
            meta,
            extents,
            initialized,
        }),
    }
}

/// Hands one file's data to the inspector.
fn inspect_file<T>(
    vol: &VolumeBytes<'_>,
    t: &Todo,
    inspect: &Inspect<'_, T>,
    out: &mut ChunkOut<T>,
) {
    let inspected = inspect(&StreamFile {
        vol,
        extents: &t.extents,
        size: t.meta.size,
        initialized: t.initialized,
    });
    kept(inspected, &t.meta, out);
}

/// Records what the inspector made of a file.
fn kept<T>(inspected: Result<Option<Inspected<T>>, String>, m: &Meta, out: &mut ChunkOut<T>) {
    match inspected {
        Ok(None) => {
            out.data_bytes += 2;
            out.data_pages += 1;
        }
        Ok(Some(i)) => {
            out.pe += 1;
            out.data_bytes += i.touched;
            out.data_pages += i.touched.div_ceil(4096).max(1);
            out.whole += u64::from(i.whole);
            let file = found(m.record, m.size, m.times, m.compressed, i.value);
            let (parent, name) = (m.parent, m.name.clone());
            out.found
                .push(Seen::File(Box::new(Pending { parent, name, file })));
        }
        Err(e) => out.lost.push(Unreadable::new(
            &format!("MFT record {} ({})", m.record, m.name),
            e,
        )),
    }
}

/// Reads a file the fast path cannot through the fs layer, whole: the kept
/// file (if the inspector keeps it), the bytes read, and why it could not be
/// read.
#[allow(clippy::type_complexity)]
fn read_slow<T>(
    vol: &NtfsVolume<'_>,
    s: Slow,
    inspect: &Inspect<'_, T>,
) -> (Option<Box<Pending<T>>>, u64, Option<Unreadable>) {
    let what = || format!("MFT record {} ({})", s.record, s.name);
    let entry = Entry {
        path: format!("(record {})", s.record),
        id: FileId(s.record),
        metadata: false,
        is_dir: false,
        size: s.size,
        created: s.times.created,
        modified: s.times.modified,
        mft_modified: s.times.mft_modified,
        compressed: s.compressed,
        error: None,
    };
    let bytes = match vol.read(&entry) {
        Ok(b) => b,
        Err(e) => return (None, 0, Some(Unreadable::new(&what(), e))),
    };
    let read = bytes.len() as u64;
    match inspect(&&*bytes) {
        Ok(Some(i)) => {
            // The size read, not the base record's (0 when $DATA is elsewhere).
            let file = found(s.record, read, s.times, s.compressed, i.value);
            let p = Pending {
                parent: s.parent,
                name: s.name,
                file,
            };
            (Some(Box::new(p)), read, None)
        }
        Ok(None) => (None, read, None),
        Err(e) => (None, read, Some(Unreadable::new(&what(), e))),
    }
}

fn found<T>(record: u64, size: u64, t: Times, compressed: bool, value: T) -> Found<T> {
    Found {
        path: String::new(),
        id: FileId(record),
        size,
        created: t.created,
        modified: t.modified,
        compressed,
        value,
    }
}

/// The path of directory `record` from the root, memoized; a chain that
/// loops or runs deeper than `MAX_DEPTH` is cut and marked.
fn dir_path(
    record: u64,
    dirs: &HashMap<u64, (u64, String)>,
    memo: &mut HashMap<u64, String>,
) -> String {
    if record == ROOT_RECORD {
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
        if cur == ROOT_RECORD {
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
