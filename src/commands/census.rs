//! `verskew versions IMAGE --all`: the version of every PE file on every
//! volume, found on NTFS by scanning the MFT ([`crate::fs::ntfs::mft_scan`])
//! rather than walking directories; FAT has no MFT, so its directories are
//! walked.

use std::path::Path;
use std::time::Instant;

use super::versions::VersionRow;
use super::{contained, open_partitions_in, CommandError, Select};
use crate::fs::ntfs::mft_scan::{self, Found, Inspected};
use crate::fs::{RangeRead, MAX_FILE_BYTES};
use crate::pe::{self, PeError, VersionInfo};
use crate::volume::Filesystem;
use crate::windows::PeFile;
use crate::Unreadable;

pub use crate::fs::ntfs::mft_scan::Stats;

/// What the census should do.
#[derive(Clone, Copy)]
pub struct Options<'a> {
    /// Called with `(records done, records)` of the volume being scanned,
    /// from any thread (the CLI draws a progress bar with it).
    pub progress: Option<&'a (dyn Fn(u64, u64) + Sync)>,
    /// Read version resources; `false` scans the MFT only (for benchmarks).
    pub versions: bool,
    /// Which volumes to scan (`-o`, `--partition`).
    pub select: Select,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            progress: None,
            versions: true,
            select: Select::All,
        }
    }
}

/// Everything one census found.
#[derive(Debug, Default)]
pub struct Census {
    pub rows: Vec<VersionRow>,
    pub lost: Vec<Unreadable>,
    pub stats: Stats,
}

/// Every PE file of every volume, sorted by volume and path (no
/// progress reports).
pub fn census(path: &Path) -> Result<(Vec<VersionRow>, Vec<Unreadable>), CommandError> {
    let c = census_with(path, Options::default())?;
    Ok((c.rows, c.lost))
}

/// [`census`] with options and counters; panics contained.
pub fn census_with(path: &Path, opts: Options<'_>) -> Result<Census, CommandError> {
    contained(path, || scan_image(path, opts))
}

fn scan_image(path: &Path, opts: Options<'_>) -> Result<Census, CommandError> {
    let t0 = Instant::now();
    let name = path.display().to_string();
    if let Some(c) = super::collection::probe(path)? {
        // A collection has no MFT: each drive's tree is walked.
        super::collection::whole(path, opts.select)?;
        let mut out = Census::default();
        for (index, (_, vol)) in super::collection::open(&c)?.iter().enumerate() {
            out.stats.volumes += 1;
            match vol {
                Ok(v) => {
                    for (what, why) in crate::fs::Volume::degraded(v) {
                        out.lost
                            .push(Unreadable::new(&format!("volume #{index} {what}"), why));
                    }
                    walk(v, index, &name, opts.versions, &mut out);
                }
                Err(e) => out
                    .lost
                    .push(Unreadable::new(&format!("volume #{index}"), e)),
            }
        }
        return Ok(finish(out, t0));
    }
    let (img, partitions) = open_partitions_in(path, opts.select)?;
    Ok(finish(
        scan_disk(img.disk.as_ref(), &partitions, &name, opts),
        t0,
    ))
}

/// The census of a disk already open (the benchmarks wrap one to count its
/// reads): every PE file of the volumes `opts.select` picks, sorted.
pub fn census_disk(
    disk: &dyn crate::image::Disk,
    name: &str,
    opts: Options<'_>,
) -> Result<Census, CommandError> {
    let t0 = Instant::now();
    let partitions = super::open_volumes_in(disk, name, opts.select)?;
    Ok(finish(scan_disk(disk, &partitions, name, opts), t0))
}

/// Scans each partition: the MFT of an NTFS volume, the directories of others.
fn scan_disk(
    disk: &dyn crate::image::Disk,
    partitions: &[crate::volume::Partition],
    name: &str,
    opts: Options<'_>,
) -> Census {
    let progress = opts.progress.unwrap_or(&|_, _| {});
    let mut out = Census::default();
    for (index, part) in partitions.iter().enumerate() {
        out.stats.volumes += 1;
        if part.filesystem != Some(Filesystem::Ntfs) {
            // No MFT to scan: walk the directories instead.
            let scan = Instant::now();
            walk_volume(disk, part, index, name, opts.versions, &mut out);
            out.stats.scan_time += scan.elapsed();
            continue;
        }
        let inspect = opts
            .versions
            .then_some(&version_of as &mft_scan::Inspect<'_, _>);
        let scanned = mft_scan::scan(
            disk,
            part.offset,
            part.size,
            inspect,
            progress,
            &mut out.stats,
        );
        match scanned {
            Ok((files, lost)) => {
                out.rows.extend(files.into_iter().map(|file| VersionRow {
                    image: name.to_string(),
                    volume: index,
                    file: pe_file(file),
                }));
                out.lost.extend(lost);
            }
            Err(e) => out.lost.push(Unreadable::new(
                &format!("volume #{index} at offset {}", part.offset),
                e,
            )),
        }
    }
    out
}

/// Sorts what a census found and stops its clock.
fn finish(mut out: Census, t0: Instant) -> Census {
    out.rows
        .sort_by(|a, b| (a.volume, &a.file.path).cmp(&(b.volume, &b.file.path)));
    out.lost.sort();
    out.lost.dedup();
    out.stats.total_time = t0.elapsed();
    out
}

/// The census of a volume with no MFT (FAT): every directory walked from
/// the root (a visited set of ids keeps a damaged volume from looping), every
/// file read and given to the same inspector as the MFT scan's.
fn walk_volume(
    disk: &dyn crate::image::Disk,
    part: &crate::volume::Partition,
    index: usize,
    name: &str,
    versions: bool,
    out: &mut Census,
) {
    let vol = match crate::fs::open(disk, part) {
        Ok(v) => v,
        Err(e) => {
            let at = format!("volume #{index} at offset {}", part.offset);
            out.lost.push(Unreadable::new(&at, e));
            return;
        }
    };
    walk(vol.as_ref(), index, name, versions, out);
}

/// Walks one open volume (FAT, or a triage collection's drive).
fn walk(vol: &dyn crate::fs::Volume, index: usize, name: &str, versions: bool, out: &mut Census) {
    let mut stack = match vol.root() {
        Ok(r) => vec![r],
        Err(e) => {
            out.lost.push(Unreadable::new("\\", e.reason()));
            return;
        }
    };
    let mut seen = std::collections::HashSet::new();
    while let Some(dir) = stack.pop() {
        if !seen.insert(dir.id) {
            continue;
        }
        let list = match vol.list(&dir) {
            Ok(l) => l,
            Err(e) => {
                out.lost.push(Unreadable::new(&dir.path, e.reason()));
                continue;
            }
        };
        for e in list {
            if let Some(why) = &e.error {
                out.lost.push(Unreadable::new(&e.path, why));
                continue;
            }
            if e.is_dir {
                stack.push(e);
                continue;
            }
            out.stats.files += 1;
            if !versions {
                continue;
            }
            let data = match vol.read(&e) {
                Ok(d) => d,
                Err(err) => {
                    out.lost.push(Unreadable::new(&e.path, err.reason()));
                    continue;
                }
            };
            match version_of(&&data[..]) {
                Ok(Some(seen)) => {
                    out.stats.pe_files += 1;
                    out.stats.data_bytes += seen.touched;
                    out.rows.push(VersionRow {
                        image: name.to_string(),
                        volume: index,
                        file: pe_file(Found {
                            path: e.path.clone(),
                            id: e.id,
                            size: e.size,
                            created: e.created,
                            modified: e.modified,
                            compressed: e.compressed,
                            value: seen.value,
                        }),
                    });
                }
                Ok(None) => {}
                Err(why) => out.lost.push(Unreadable::new(&e.path, why)),
            }
        }
    }
}

/// What the census keeps of a PE file: its version and its machine.
type Read = (Result<VersionInfo, PeError>, Option<u16>);

/// The census's inspector: the version of a PE file, reading as little of
/// it as it can; files that are not PE are passed over.
fn version_of(file: &dyn RangeRead) -> Result<Option<Inspected<Read>>, String> {
    Ok(
        pe::read_version_ranged(file, MAX_FILE_BYTES)?.map(|r| Inspected {
            value: (r.version, r.machine),
            touched: r.touched,
            whole: r.whole,
        }),
    )
}

fn pe_file(f: Found<Read>) -> PeFile {
    let (value, machine) = f.value;
    let (version, error) = match value {
        Ok(v) => (Some(v), None),
        Err(e) => (None, Some(e.to_string())),
    };
    PeFile {
        path: f.path,
        id: f.id,
        machine,
        size: f.size,
        created: f.created,
        modified: f.modified,
        compressed: f.compressed,
        is_pe: true,
        version,
        error,
    }
}
