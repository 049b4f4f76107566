//! The fallback when a partition table cannot be trusted: look for NTFS and
//! FAT boot sectors at sector-aligned offsets, within a bounded budget:
//!
//! * every 512-byte sector of the first 64 MiB (NT4 put partitions at
//!   sector 63, later Windows at 1 MiB);
//! * beyond that, every MiB boundary and every cylinder boundary of the
//!   classic 255-head, 63-sector geometry (plus the 63-sector gap of a
//!   logical partition), at most `MAX_SPARSE_PROBES` probes.
//!
//! [`scan`] searches the whole disk when there is no usable table;
//! [`scan_gaps`] searches only where no table entry with a known filesystem
//! lies, so that a zeroed entry, or one pointing at the wrong sector, does
//! not hide its volume (The Sleuth Kit's `fls -o 63` reads such a disk).
//!
//! A volume found is skipped over, so its own backup boot sector (in its
//! last sector) is not reported as a second volume.

use super::{
    fat_volume_size, ntfs_volume_size, read_opt, Filesystem, Partition, Scheme, VolumeError,
};
use crate::image::Disk;

const DENSE_LIMIT: u64 = 64 << 20;
const CHUNK: usize = 1 << 20;
const MAX_SPARSE_PROBES: usize = 65_536;
const CYLINDER: u64 = 255 * 63 * 512;
const MIB: u64 = 1 << 20;

/// Scans the whole disk (no usable partition table).
pub(crate) fn scan(
    disk: &dyn Disk,
    notes: &mut Vec<String>,
) -> Result<Vec<Partition>, VolumeError> {
    let note = "found by scanning for boot sectors (no usable partition table)";
    let (found, probes) = search(disk, &[], 1, note)?;
    let size = disk.size();
    let searched = if size > DENSE_LIMIT {
        format!(
            "every sector of the first 64 MiB, then MiB and cylinder boundaries ({probes} probes{})",
            if probes >= MAX_SPARSE_PROBES { ", budget exhausted" } else { "" }
        )
    } else {
        "every sector of the disk".to_string()
    };
    notes.push(format!(
        "scanned for NTFS and FAT boot sectors ({searched}): found {}",
        found.len()
    ));
    Ok(found)
}

/// Scans the space that no entry of a table covers with a known filesystem
/// (entries whose first sector holds none are treated as not there). The
/// volumes found are numbered after the table's.
pub(crate) fn scan_gaps(
    disk: &dyn Disk,
    table: &[Partition],
    notes: &mut Vec<String>,
) -> Result<Vec<Partition>, VolumeError> {
    let mut covered: Vec<(u64, u64)> = table
        .iter()
        .filter(|p| matches!(p.filesystem, Some(f) if f != Filesystem::Unknown))
        .map(|p| (p.offset, p.offset.saturating_add(p.size)))
        .collect();
    covered.sort_unstable();
    let first_index = table.iter().map(|p| p.index).max().unwrap_or(0) + 1;
    let note = "found by scanning outside the partition table's entries (an entry is missing or points elsewhere)";
    let (found, _) = search(disk, &covered, first_index, note)?;
    if !found.is_empty() {
        let at: Vec<String> = found.iter().map(|p| format!("byte {}", p.offset)).collect();
        notes.push(format!(
            "{} volume(s) found by scanning where no partition entry points (at {}): the table is damaged or an entry was deleted",
            found.len(),
            at.join(", ")
        ));
    }
    Ok(found)
}

/// The end of the covered interval holding `off`, if one does.
fn covered_until(covered: &[(u64, u64)], off: u64) -> Option<u64> {
    covered
        .iter()
        .find(|&&(s, e)| s <= off && off < e)
        .map(|&(_, e)| e)
}

/// A boot sector we scan for, and the size of its volume.
fn volume_at(sector: &[u8]) -> Option<(Filesystem, u64)> {
    if let Some(n) = ntfs_volume_size(sector) {
        return Some((Filesystem::Ntfs, n));
    }
    fat_volume_size(sector)
        .filter(|&n| n > 0)
        .map(|n| (Filesystem::Fat, n))
}

/// Searches outside `covered` (sorted intervals); returns the volumes found
/// and the number of sparse probes made.
fn search(
    disk: &dyn Disk,
    covered: &[(u64, u64)],
    first_index: u32,
    note: &str,
) -> Result<(Vec<Partition>, usize), VolumeError> {
    let size = disk.size();
    let mut found: Vec<Partition> = Vec::new();
    let mut skip_to = 0u64;

    // Records the volume at `offset`; returns where it ends.
    let add = |found: &mut Vec<Partition>, offset: u64, (fs, vol): (Filesystem, u64)| -> u64 {
        found.push(Partition {
            index: first_index + found.len() as u32,
            scheme: Scheme::None,
            offset,
            size: vol,
            type_id: String::new(),
            name: None,
            filesystem: Some(fs),
            note: Some(note.into()),
            declared: None,
            active: false,
        });
        offset.saturating_add(vol)
    };

    // Dense part: every sector of the first 64 MiB that lies outside the
    // covered intervals, read in chunks of at most 1 MiB.
    let dense_end = size.min(DENSE_LIMIT);
    let mut buf = vec![0u8; CHUNK];
    let mut at = 0u64;
    while at < dense_end {
        if let Some(end) = covered_until(covered, at) {
            at = end.div_ceil(512).saturating_mul(512);
            continue;
        }
        // Up to the next covered interval, the chunk size or the limit.
        let next_cover = covered
            .iter()
            .map(|&(s, _)| s)
            .filter(|&s| s > at)
            .min()
            .unwrap_or(u64::MAX);
        let n = (dense_end.min(next_cover) - at).min(CHUNK as u64) as usize;
        let chunk = &mut buf[..n];
        super::read(disk, at, chunk)?;
        let mut i = 0usize;
        while i + 512 <= n {
            let off = at + i as u64;
            if off >= skip_to {
                if let Some(hit) = volume_at(&chunk[i..i + 512]) {
                    skip_to = add(&mut found, off, hit);
                }
            }
            i += 512;
        }
        at += (n as u64).max(512);
    }

    // Sparse part.
    let mut probes = 0usize;
    let mut candidates: Vec<u64> = Vec::new();
    let mut mib = DENSE_LIMIT;
    let mut cyl = (DENSE_LIMIT / CYLINDER) * CYLINDER;
    let mut sector = [0u8; 512];
    while probes < MAX_SPARSE_PROBES && (mib < size || cyl < size) {
        // Jump both grids over a covered interval (a large healthy volume
        // costs no probes and no time).
        if let Some(end) = covered_until(covered, mib.min(cyl)) {
            mib = mib.max(end.div_ceil(MIB).saturating_mul(MIB));
            cyl = cyl.max((end / CYLINDER).saturating_mul(CYLINDER));
            if covered_until(covered, mib.min(cyl)) == Some(end) {
                // Still inside (cyl rounded down): step it past.
                cyl = cyl.saturating_add(CYLINDER);
            }
            continue;
        }
        candidates.clear();
        if mib < size {
            candidates.push(mib);
        }
        if cyl < size {
            candidates.push(cyl);
            candidates.push(cyl.saturating_add(63 * 512));
        }
        candidates.sort_unstable();
        // Advance whichever grid is behind.
        if mib <= cyl {
            mib = mib.saturating_add(MIB);
        } else {
            cyl = cyl.saturating_add(CYLINDER);
        }
        for &off in &candidates {
            if off < DENSE_LIMIT
                || off < skip_to
                || covered_until(covered, off).is_some()
                || found.iter().any(|p| p.offset == off)
            {
                continue;
            }
            probes += 1;
            if read_opt(disk, off, &mut sector)?.is_some() {
                if let Some(hit) = volume_at(&sector) {
                    skip_to = add(&mut found, off, hit);
                }
            }
        }
    }
    Ok((found, probes))
}
