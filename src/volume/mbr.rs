//! MBR partition tables and the extended-partition (EBR) chain.
//!
//! Sector 0 holds four 16-byte entries at 446 (status, CHS, type, CHS,
//! first LBA, sector count; little-endian). An extended partition (types
//! 0x05, 0x0F, 0x85) holds a chain of EBRs: each EBR's first entry is a
//! logical partition relative to that EBR, its second points at the next
//! EBR relative to the start of the extended partition. LBAs are ignored in
//! favour of CHS (NT4's sector-63 alignment is just an LBA of 63).
//!
//! The sector size is not stored: a disk with 4096-byte sectors is told
//! from one with 512-byte sectors by which size puts boot sectors and EBRs
//! where the table says.

use super::{has_signature, read_opt, sniff_known, Partition, Scheme, VolumeError, VolumeMap};
use crate::image::Disk;
use crate::le::le32;

/// Most logical partitions we follow in an EBR chain.
const MAX_LOGICAL: usize = 128;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub slot: usize,
    pub status: u8,
    pub kind: u8,
    pub lba: u32,
    pub sectors: u32,
}

fn entry(sector: &[u8], slot: usize) -> Entry {
    let e = &sector[446 + slot * 16..446 + (slot + 1) * 16];
    Entry {
        slot,
        status: e[0],
        kind: e[4],
        lba: le32(e, 8),
        sectors: le32(e, 12),
    }
}

/// The four primary entries of an MBR sector, including empty ones.
pub(crate) fn primary_entries(sector: &[u8]) -> Vec<Entry> {
    (0..4).map(|i| entry(sector, i)).collect()
}

fn is_extended(kind: u8) -> bool {
    matches!(kind, 0x05 | 0x0F | 0x85)
}

/// How well `sector_size` explains the table: one point per used entry
/// whose first sector holds a filesystem boot sector (or an EBR).
fn score(disk: &dyn Disk, used: &[Entry], sector_size: u64) -> Result<u32, VolumeError> {
    let mut points = 0;
    let mut b = [0u8; 512];
    for e in used {
        let at = u64::from(e.lba) * sector_size;
        if read_opt(disk, at, &mut b)?.is_none() {
            continue;
        }
        let ok = if is_extended(e.kind) {
            has_signature(&b)
        } else {
            sniff_known(&b).is_some()
        };
        if ok {
            points += 1;
        }
    }
    Ok(points)
}

/// The MBR's disk signature (bytes 440–443), which `MountedDevices` and
/// `signature()` ARC paths name a disk by; `None` when sector 0 cannot be
/// read.
pub fn disk_signature(disk: &dyn Disk) -> Option<u32> {
    let mut b = [0u8; 4];
    disk.read_exact_at(440, &mut b).ok()?;
    Some(u32::from_le_bytes(b))
}

/// Reads the MBR (and its EBR chain). `None` when sector 0 is not a
/// plausible MBR (bad status bytes, overlapping garbage).
pub(crate) fn read(
    disk: &dyn Disk,
    sector0: &[u8],
    notes: &mut Vec<String>,
) -> Result<Option<VolumeMap>, VolumeError> {
    let entries = primary_entries(sector0);
    // Status must be 0x00 or 0x80 in every entry; anything else means this
    // is boot code or a VBR, not a table.
    if entries.iter().any(|e| e.status != 0x00 && e.status != 0x80) {
        return Ok(None);
    }
    let used: Vec<Entry> = entries
        .into_iter()
        .filter(|e| e.kind != 0 && e.sectors != 0)
        .collect();

    let sector_size: u64 = if !used.is_empty()
        && score(disk, &used, 4096)? > score(disk, &used, 512)?
    {
        notes.push("partition table read with 4096-byte sectors (boot sectors are where that size puts them)".into());
        4096
    } else {
        512
    };

    let mut parts = Vec::new();
    let mut extended_seen = false;
    for e in &used {
        let offset = u64::from(e.lba) * sector_size;
        let size = u64::from(e.sectors) * sector_size;
        if is_extended(e.kind) {
            if extended_seen {
                notes.push(format!(
                    "MBR slot {} is a second extended partition; ignored",
                    e.slot + 1
                ));
                continue;
            }
            extended_seen = true;
            logical_chain(disk, u64::from(e.lba), sector_size, &mut parts, notes)?;
            continue;
        }
        parts.push(Partition {
            index: e.slot as u32 + 1,
            scheme: Scheme::Mbr,
            offset,
            size,
            type_id: format!("0x{:02X}", e.kind),
            name: None,
            filesystem: None,
            note: None,
            declared: None,
            active: e.status == 0x80,
        });
    }
    Ok(Some(VolumeMap {
        scheme: Scheme::Mbr,
        sector_size: sector_size as u32,
        partitions: parts,
        notes: Vec::new(),
    }))
}

/// Follows the EBR chain of the extended partition starting at LBA
/// `ext_base`. Stops (with a note) on a loop, a damaged EBR, an EBR past the
/// disk end, or after `MAX_LOGICAL` partitions.
fn logical_chain(
    disk: &dyn Disk,
    ext_base: u64,
    sector_size: u64,
    parts: &mut Vec<Partition>,
    notes: &mut Vec<String>,
) -> Result<(), VolumeError> {
    let mut visited: Vec<u64> = Vec::new();
    let mut logical = 0u32;
    let mut ebr_lba = ext_base;
    let mut b = [0u8; 512];
    loop {
        if visited.contains(&ebr_lba) {
            notes.push(format!(
                "EBR chain loops back to sector {ebr_lba}; stopped there"
            ));
            break;
        }
        if visited.len() >= MAX_LOGICAL {
            notes.push(format!(
                "EBR chain longer than {MAX_LOGICAL} links; stopped there"
            ));
            break;
        }
        visited.push(ebr_lba);
        let Some(at) = ebr_lba.checked_mul(sector_size) else {
            notes.push(format!(
                "EBR at sector {ebr_lba} is beyond any disk; chain stopped"
            ));
            break;
        };
        if read_opt(disk, at, &mut b)?.is_none() {
            notes.push(format!(
                "EBR at byte {at} is past the end of the disk; chain stopped (truncated image?)"
            ));
            break;
        }
        if !has_signature(&b) {
            notes.push(format!(
                "EBR at byte {at} has no 0x55AA signature; chain stopped"
            ));
            break;
        }
        // Windows and Linux read every entry of an EBR, not only the first
        // two (DFTT test #1 has a logical partition in slot 2): each used
        // non-extended entry is a logical partition relative to this EBR,
        // the first extended entry links to the next EBR.
        let mut next: Option<Entry> = None;
        for slot in 0..4 {
            let e = entry(&b, slot);
            if e.kind == 0 || e.sectors == 0 {
                continue;
            }
            if is_extended(e.kind) {
                if next.is_none() {
                    next = Some(e);
                }
                continue;
            }
            let offset = ebr_lba
                .checked_add(u64::from(e.lba))
                .and_then(|l| l.checked_mul(sector_size));
            let Some(offset) = offset else { continue };
            parts.push(Partition {
                index: 5 + logical,
                scheme: Scheme::Mbr,
                offset,
                size: u64::from(e.sectors) * sector_size,
                type_id: format!("0x{:02X}", e.kind),
                name: None,
                filesystem: None,
                note: None,
                declared: None,
                active: false,
            });
            logical += 1;
        }
        let Some(next) = next.filter(|n| n.lba != 0) else {
            break;
        };
        ebr_lba = ext_base + u64::from(next.lba);
    }
    Ok(())
}
