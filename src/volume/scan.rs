//! The fallback when no partition table can be trusted: look for NTFS boot
//! sectors ("NTFS    " at offset 3 and a sane BPB) at sector-aligned
//! offsets, within a bounded budget:
//!
//! * every 512-byte sector of the first 64 MiB (NT4 put partitions at
//!   sector 63, later Windows at 1 MiB);
//! * beyond that, every MiB boundary and every cylinder boundary of the
//!   classic 255-head, 63-sector geometry (plus the 63-sector gap of a
//!   logical partition), at most `MAX_SPARSE_PROBES` probes.
//!
//! A volume found is skipped over, so its own backup boot sector (in its
//! last sector) is not reported as a second volume.

use super::{ntfs_volume_size, read_opt, Filesystem, Partition, Scheme, VolumeError};
use crate::image::Disk;

const DENSE_LIMIT: u64 = 64 << 20;
const CHUNK: usize = 1 << 20;
const MAX_SPARSE_PROBES: usize = 65_536;
const CYLINDER: u64 = 255 * 63 * 512;

pub(crate) fn scan(
    disk: &dyn Disk,
    notes: &mut Vec<String>,
) -> Result<Vec<Partition>, VolumeError> {
    let size = disk.size();
    let mut found: Vec<Partition> = Vec::new();
    let mut skip_to = 0u64;

    // Records the volume of `vol` bytes at `offset`; returns where it ends.
    let add = |found: &mut Vec<Partition>, offset: u64, vol: u64| -> u64 {
        found.push(Partition {
            index: found.len() as u32 + 1,
            scheme: Scheme::None,
            offset,
            size: vol,
            type_id: String::new(),
            name: None,
            filesystem: Some(Filesystem::Ntfs),
            note: Some(
                "found by scanning for NTFS boot sectors (no usable partition table)".into(),
            ),
        });
        offset.saturating_add(vol)
    };

    // Dense part, read in 1 MiB chunks.
    let dense_end = size.min(DENSE_LIMIT);
    let mut buf = vec![0u8; CHUNK];
    let mut at = 0u64;
    while at < dense_end {
        let n = (dense_end - at).min(CHUNK as u64) as usize;
        let chunk = &mut buf[..n];
        super::read(disk, at, chunk)?;
        let mut i = 0usize;
        while i + 512 <= n {
            let off = at + i as u64;
            if off >= skip_to {
                if let Some(vol) = ntfs_volume_size(&chunk[i..i + 512]) {
                    skip_to = add(&mut found, off, vol);
                }
            }
            i += 512;
        }
        at += n as u64;
    }

    // Sparse part.
    let mut probes = 0usize;
    let mut candidates: Vec<u64> = Vec::new();
    let mut mib = DENSE_LIMIT;
    let mut cyl = (DENSE_LIMIT / CYLINDER) * CYLINDER;
    let mut sector = [0u8; 512];
    while probes < MAX_SPARSE_PROBES && (mib < size || cyl < size) {
        candidates.clear();
        if mib < size {
            candidates.push(mib);
        }
        if cyl < size {
            candidates.push(cyl);
            candidates.push(cyl + 63 * 512);
        }
        candidates.sort_unstable();
        // Advance whichever grid is behind.
        if mib <= cyl {
            mib += 1 << 20;
        } else {
            cyl += CYLINDER;
        }
        for &off in &candidates {
            if off < DENSE_LIMIT || off < skip_to || found.iter().any(|p| p.offset == off) {
                continue;
            }
            probes += 1;
            if read_opt(disk, off, &mut sector)?.is_some() {
                if let Some(vol) = ntfs_volume_size(&sector) {
                    skip_to = add(&mut found, off, vol);
                }
            }
        }
    }
    let searched = if size > DENSE_LIMIT {
        format!(
            "every sector of the first 64 MiB, then MiB and cylinder boundaries ({probes} probes{})",
            if probes >= MAX_SPARSE_PROBES { ", budget exhausted" } else { "" }
        )
    } else {
        "every sector of the disk".to_string()
    };
    notes.push(format!(
        "scanned for NTFS boot sectors ({searched}): found {}",
        found.len()
    ));
    Ok(found)
}
