//! Volume layer: finds the partitions of a disk (MBR with its extended chain,
//! GPT, or a bare filesystem at offset 0) and sniffs the filesystem of each.
//!
//! Partition tables are parsed by our own code (`mbr.rs`, `gpt.rs`): the
//! `mbrman`/`gptman` crates are strict (a damaged table is an error, not a
//! best effort) and `gptman` reserves memory by the entry count read from the
//! header, so a crafted header could exhaust memory. When no table can be
//! trusted, `scan.rs` looks for NTFS boot sectors within a bounded budget and
//! the result says so.
//!
//! Every structure is hostile: offsets are checked, the EBR chain is
//! cycle-safe and count-capped, the GPT entry array is size-capped and
//! CRC-checked.

mod gpt;
mod mbr;
mod scan;

pub use gpt::unique_guids as gpt_unique_guids;
pub use mbr::disk_signature as mbr_disk_signature;

use crate::image::Disk;
use crate::le::{le16, le32, le64};

/// Which partitioning scheme a partition was found through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// No table: a bare filesystem, or a volume found by scanning.
    None,
    Mbr,
    Gpt,
    /// A drive folder of a triage collection (`fs::collection`): no disk.
    Collection,
}

/// The filesystem recognised from a partition's boot sector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Filesystem {
    Ntfs,
    Fat,
    Exfat,
    Unknown,
    /// A drive of a triage collection in a host folder (`fs::collection`).
    Directory,
    /// A drive of a triage collection in a zip archive.
    Zip,
}

impl Scheme {
    /// The JSON id: `none`, `mbr`, `gpt`, `collection`.
    pub fn id(self) -> &'static str {
        match self {
            Scheme::None => "none",
            Scheme::Mbr => "mbr",
            Scheme::Gpt => "gpt",
            Scheme::Collection => "collection",
        }
    }
}

impl Filesystem {
    /// The JSON id: `ntfs`, `fat`, `exfat`, `unknown`, `directory`, `zip`.
    pub fn id(self) -> &'static str {
        match self {
            Filesystem::Ntfs => "ntfs",
            Filesystem::Fat => "fat",
            Filesystem::Exfat => "exfat",
            Filesystem::Unknown => "unknown",
            Filesystem::Directory => "directory",
            Filesystem::Zip => "zip",
        }
    }

    /// The name people know it by.
    pub fn name(self) -> &'static str {
        match self {
            Filesystem::Ntfs => "NTFS",
            Filesystem::Fat => "FAT",
            Filesystem::Exfat => "exFAT",
            Filesystem::Unknown => "unknown",
            Filesystem::Directory => "folder",
            Filesystem::Zip => "zip",
        }
    }
}

/// One partition (or bare filesystem) on a disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// 1-based: MBR primaries 1–4 by slot, logical partitions from 5 in chain
    /// order; GPT by entry number; 1 for a bare filesystem or a scan hit.
    pub index: u32,
    pub scheme: Scheme,
    /// Byte offset on the disk.
    pub offset: u64,
    /// Size in bytes (clamped to the end of the disk; see `note`).
    pub size: u64,
    /// MBR type as `"0x07"`, GPT type GUID in upper case, `""` for none.
    pub type_id: String,
    /// GPT partition name, or the volume label when the scan found it.
    pub name: Option<String>,
    /// `None` when the first sector could not be read (past the disk end).
    pub filesystem: Option<Filesystem>,
    /// Anything odd about this partition (clamped, found by scanning, …).
    pub note: Option<String>,
    /// The size the partition table gives, when it runs past the end of the
    /// disk (then `size` is clamped to what the disk holds).
    pub declared: Option<u64>,
    /// An MBR primary partition marked bootable (status 0x80): where NT
    /// looks for boot.ini and which gets the first drive letter.
    pub active: bool,
}

/// A volume that declares more bytes than the image holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortfall {
    /// Who declares it: "the NTFS boot sector", "the partition table".
    pub by: &'static str,
    /// Bytes declared, from the partition's start.
    pub declared: u64,
    /// Bytes the image holds from the partition's start.
    pub holds: u64,
}

/// What `p` declares beyond the end of `disk`, if anything: its own boot
/// sector first (a filesystem reader follows it), then the partition table.
/// An NTFS volume's backup boot sector (the sector after the sectors it
/// counts) may be missing without loss, so it is not counted.
pub fn shortfall(disk: &dyn Disk, p: &Partition) -> Option<Shortfall> {
    let holds = disk.size().saturating_sub(p.offset);
    let mut b = [0u8; 512];
    if let Ok(Some(())) = read_opt(disk, p.offset, &mut b) {
        let own = match sniff_known(&b) {
            Some(Filesystem::Ntfs) => ntfs_volume_size(&b)
                .map(|s| s.saturating_sub(u64::from(le16(&b, 11))))
                .map(|s| ("the NTFS boot sector", s)),
            Some(Filesystem::Fat) => fat_volume_size(&b).map(|s| ("the FAT boot sector", s)),
            _ => None,
        };
        if let Some((by, declared)) = own.filter(|&(_, d)| d > holds) {
            return Some(Shortfall {
                by,
                declared,
                holds,
            });
        }
    }
    p.declared.filter(|&d| d > holds).map(|declared| Shortfall {
        by: "the partition table",
        declared,
        holds,
    })
}

impl Partition {
    /// Where it is, as people say it: "MBR partition 2", "volume".
    pub fn place(&self) -> String {
        match self.scheme {
            Scheme::None => "volume".to_string(),
            Scheme::Collection => {
                format!("collected drive {}", self.name.as_deref().unwrap_or("?"))
            }
            Scheme::Mbr => format!("MBR partition {}", self.index),
            Scheme::Gpt => format!("GPT partition {}", self.index),
        }
    }
}

/// What the volume layer found on a disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeMap {
    /// The scheme of the table that was used (`None` for a bare filesystem
    /// or when the partitions were found by scanning).
    pub scheme: Scheme,
    /// The logical sector size the table was read with.
    pub sector_size: u32,
    /// Sorted by offset.
    pub partitions: Vec<Partition>,
    /// Damage found and how it was worked around.
    pub notes: Vec<String>,
}

/// Errors of the volume layer. Read errors carry the disk's own message,
/// which names the image file.
#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    #[error("reading {len} bytes at disk offset {offset}: {source}")]
    Read {
        offset: u64,
        len: usize,
        source: std::io::Error,
    },
    #[error("the disk is too small to hold a partition table ({size} bytes)")]
    TooSmall { size: u64 },
}

/// Finds the partitions of `disk`, sorted by offset.
pub fn find_partitions(disk: &dyn Disk) -> Result<Vec<Partition>, VolumeError> {
    Ok(find_volumes(disk)?.partitions)
}

/// Finds the partitions of `disk` with the notes on what was damaged.
pub fn find_volumes(disk: &dyn Disk) -> Result<VolumeMap, VolumeError> {
    let size = disk.size();
    if size < 512 {
        return Err(VolumeError::TooSmall { size });
    }
    let mut sector0 = [0u8; 512];
    read(disk, 0, &mut sector0)?;

    // A filesystem boot sector at 0 is a bare volume (a partition image).
    if let Some(fs) = sniff_known(&sector0) {
        let p = Partition {
            index: 1,
            scheme: Scheme::None,
            offset: 0,
            size,
            type_id: String::new(),
            name: None,
            filesystem: Some(fs),
            note: None,
            declared: None,
            active: false,
        };
        return Ok(VolumeMap {
            scheme: Scheme::None,
            sector_size: u32::from(bytes_per_sector(&sector0).unwrap_or(512)),
            partitions: vec![p],
            notes: Vec::new(),
        });
    }

    let mut notes = Vec::new();
    if has_signature(&sector0) {
        let entries = mbr::primary_entries(&sector0);
        let table = if entries.iter().any(|e| e.kind == 0xEE) {
            let t = gpt::read(disk, &mut notes)?;
            if t.is_none() {
                notes.push("protective MBR but no valid GPT (primary and backup)".into());
            }
            t
        } else {
            let t = mbr::read(disk, &sector0, &mut notes)?;
            if t.is_none() {
                notes.push("MBR signature present but the table is not valid".into());
            }
            t
        };
        if let Some(mut map) = table {
            // An entry zeroed or pointing at the wrong sector hides its
            // volume from the table: look where no entry with a known
            // filesystem is.
            for p in &mut map.partitions {
                p.filesystem = sniff_at(disk, p.offset);
            }
            let hits = scan::scan_gaps(disk, &map.partitions, &mut notes)?;
            map.partitions.extend(hits);
            return Ok(finish(disk, map, notes));
        }
    } else {
        notes.push("no partition table signature in sector 0".into());
    }

    let partitions = scan::scan(disk, &mut notes)?;
    Ok(finish(
        disk,
        VolumeMap {
            scheme: Scheme::None,
            sector_size: 512,
            partitions,
            notes: Vec::new(),
        },
        notes,
    ))
}

/// Sniffs every partition, clamps sizes to the disk, sorts, adds the notes.
fn finish(disk: &dyn Disk, mut map: VolumeMap, mut notes: Vec<String>) -> VolumeMap {
    let size = disk.size();
    for p in &mut map.partitions {
        if p.filesystem.is_none() {
            p.filesystem = sniff_at(disk, p.offset);
        }
        let end = p.offset.saturating_add(p.size);
        if end > size {
            let note = format!(
                "partition {} ends at byte {end}, past the end of the disk ({size} bytes): truncated image?",
                p.index
            );
            p.declared = Some(p.size);
            p.size = size.saturating_sub(p.offset);
            p.note.get_or_insert(note);
        }
    }
    map.partitions.sort_by_key(|p| (p.offset, p.index));
    notes.append(&mut map.notes);
    map.notes = notes;
    map
}

fn read(disk: &dyn Disk, offset: u64, buf: &mut [u8]) -> Result<(), VolumeError> {
    disk.read_exact_at(offset, buf)
        .map_err(|source| VolumeError::Read {
            offset,
            len: buf.len(),
            source,
        })
}

/// Reads a sector if it lies on the disk; `None` when it does not.
fn read_opt(disk: &dyn Disk, offset: u64, buf: &mut [u8]) -> Result<Option<()>, VolumeError> {
    match offset.checked_add(buf.len() as u64) {
        Some(end) if end <= disk.size() => read(disk, offset, buf).map(Some),
        _ => Ok(None),
    }
}

/// The filesystem at `offset`, `None` if its first sector is off the disk or
/// unreadable.
fn sniff_at(disk: &dyn Disk, offset: u64) -> Option<Filesystem> {
    let mut b = [0u8; 512];
    match read_opt(disk, offset, &mut b) {
        Ok(Some(())) => Some(sniff_filesystem(&b)),
        _ => None,
    }
}

/// Recognises a filesystem from its first sector; `Unknown` when it is none
/// we know.
pub fn sniff_filesystem(boot: &[u8]) -> Filesystem {
    sniff_known(boot).unwrap_or(Filesystem::Unknown)
}

fn sniff_known(boot: &[u8]) -> Option<Filesystem> {
    if boot.len() < 512 {
        return None;
    }
    if is_ntfs_boot(boot) {
        return Some(Filesystem::Ntfs);
    }
    if &boot[3..11] == b"EXFAT   " {
        return Some(Filesystem::Exfat);
    }
    if is_fat_boot(boot) {
        return Some(Filesystem::Fat);
    }
    None
}

/// The 0x55AA boot signature at the end of a 512-byte sector.
fn has_signature(b: &[u8]) -> bool {
    b.get(510..512) == Some(&[0x55, 0xAA])
}

fn bytes_per_sector(boot: &[u8]) -> Option<u16> {
    let bps = le16(boot, 11);
    matches!(bps, 512 | 1024 | 2048 | 4096).then_some(bps)
}

/// "NTFS    " at 3 and a sane BIOS parameter block.
pub(crate) fn is_ntfs_boot(b: &[u8]) -> bool {
    ntfs_volume_size(b).is_some()
}

/// The size an NTFS boot sector gives its volume (sectors + the backup boot
/// sector), when the BPB is sane.
pub(crate) fn ntfs_volume_size(b: &[u8]) -> Option<u64> {
    // No 0x55AA check: a volume formatted without boot code has none, and
    // Windows mounts it (dfir_ntfs `nobootcode.boot`).
    if b.len() < 512 || &b[3..11] != b"NTFS    " {
        return None;
    }
    let bps = u64::from(bytes_per_sector(b)?);
    let spc = b[13];
    let spc_ok = (spc != 0 && spc.is_power_of_two() && spc <= 128) || (0xF4..=0xFF).contains(&spc);
    let total = le64(b, 40);
    let mft = le64(b, 48);
    if !spc_ok || total == 0 || mft == 0 {
        return None;
    }
    total.checked_add(1)?.checked_mul(bps)
}

/// The size a FAT boot sector gives its volume, when it is one.
pub(crate) fn fat_volume_size(b: &[u8]) -> Option<u64> {
    if b.len() < 512 || !is_fat_boot(b) {
        return None;
    }
    let total = u64::from(u32::from(le16(b, 19)).max(le32(b, 32)));
    Some(total * u64::from(bytes_per_sector(b)?))
}

/// A FAT12/16/32 boot sector: jump, sane BPB and a FAT type string.
fn is_fat_boot(b: &[u8]) -> bool {
    if !(b[0] == 0xEB || b[0] == 0xE9) || !has_signature(b) {
        return false;
    }
    let spc = b[13];
    let reserved = le16(b, 14);
    let fats = b[16];
    let sane = bytes_per_sector(b).is_some()
        && spc != 0
        && spc.is_power_of_two()
        && reserved >= 1
        && (1..=4).contains(&fats);
    // "FAT12", "FAT16" or a bare "FAT" at 54.
    let label16 = &b[54..57] == b"FAT";
    let label32 = &b[82..87] == b"FAT32";
    let total = u32::from(le16(b, 19)).max(le32(b, 32));
    sane && total != 0 && (label16 || label32)
}

#[cfg(test)]
mod tests;
