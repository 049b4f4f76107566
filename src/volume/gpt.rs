//! GUID partition tables (UEFI spec, chapter 5).
//!
//! The header is at LBA 1 (a backup at the last LBA); it gives the location,
//! count and size of the entries, a CRC32 of itself and one of the entry
//! array. We check both CRCs, cap the array size before reading it, try 512
//! and 4096-byte sectors, and fall back to the backup header when the
//! primary is damaged (saying so).

use super::{read_opt, Partition, Scheme, VolumeError, VolumeMap};
use crate::image::Disk;
use crate::le::{le16, le32, le64};

/// Largest entry array we read (the spec minimum is 16 KiB; 128 entries of
/// 128 bytes). 1 MiB allows 8192 entries.
const MAX_ARRAY: u64 = 1 << 20;

/// CRC-32 (IEEE 802.3, reflected, as used by GPT).
pub(crate) fn crc32(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, slot) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *slot = c;
        }
        t
    });
    !data.iter().fold(!0u32, |c, &b| {
        table[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8)
    })
}

/// A GUID as stored on disk (first three fields little-endian), upper case.
pub(crate) fn guid(b: &[u8]) -> String {
    format!(
        "{:08X}-{:04X}-{:04X}-{:02X}{:02X}-{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}",
        le32(b, 0),
        le16(b, 4),
        le16(b, 6),
        b[8],
        b[9],
        b[10],
        b[11],
        b[12],
        b[13],
        b[14],
        b[15]
    )
}

struct Header {
    alternate_lba: u64,
    entries_lba: u64,
    count: u32,
    entry_size: u32,
    entries_crc: u32,
}

/// Parses and checks the header at `lba`; the reason when it is unusable.
fn header(disk: &dyn Disk, lba: u64, ss: u64) -> Result<Result<Header, String>, VolumeError> {
    let Some(at) = lba.checked_mul(ss) else {
        return Ok(Err(format!("header LBA {lba} overflows")));
    };
    let mut b = vec![0u8; ss as usize];
    if read_opt(disk, at, &mut b)?.is_none() {
        return Ok(Err(format!(
            "header at byte {at} is past the end of the disk"
        )));
    }
    if &b[..8] != b"EFI PART" {
        return Ok(Err(format!("no 'EFI PART' signature at byte {at}")));
    }
    let size = le32(&b, 12) as usize;
    if size < 92 || size > b.len() {
        return Ok(Err(format!("header size {size} at byte {at} is invalid")));
    }
    let stored = le32(&b, 16);
    let mut h = b[..size].to_vec();
    h[16..20].fill(0);
    if crc32(&h) != stored {
        return Ok(Err(format!("header CRC at byte {at} does not match")));
    }
    let count = le32(&b, 80);
    let entry_size = le32(&b, 84);
    if entry_size < 128 || entry_size % 8 != 0 || u64::from(entry_size) > MAX_ARRAY {
        return Ok(Err(format!("entry size {entry_size} is invalid")));
    }
    if u64::from(count) * u64::from(entry_size) > MAX_ARRAY {
        return Ok(Err(format!(
            "entry array of {count} x {entry_size} bytes is absurdly large (over {MAX_ARRAY} bytes)"
        )));
    }
    Ok(Ok(Header {
        alternate_lba: le64(&b, 32),
        entries_lba: le64(&b, 72),
        count,
        entry_size,
        entries_crc: le32(&b, 88),
    }))
}

/// Reads the entry array of `h`; the reason when it is unusable.
fn entries(
    disk: &dyn Disk,
    h: &Header,
    ss: u64,
) -> Result<Result<Vec<Partition>, String>, VolumeError> {
    let len = u64::from(h.count) * u64::from(h.entry_size); // capped in header()
    let Some(at) = h.entries_lba.checked_mul(ss) else {
        return Ok(Err("entry array LBA overflows".into()));
    };
    let mut b = vec![0u8; len as usize];
    if read_opt(disk, at, &mut b)?.is_none() {
        return Ok(Err(format!(
            "entry array at byte {at} is past the end of the disk"
        )));
    }
    if crc32(&b) != h.entries_crc {
        return Ok(Err(format!("entry array CRC at byte {at} does not match")));
    }
    let mut parts = Vec::new();
    for (i, e) in b.chunks_exact(h.entry_size as usize).enumerate() {
        if e[..16].iter().all(|&x| x == 0) {
            continue;
        }
        let first = le64(e, 32);
        let last = le64(e, 40);
        let name_units: Vec<u16> = e[56..128]
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .take_while(|&u| u != 0)
            .collect();
        let name = String::from_utf16_lossy(&name_units);
        let (offset, size, note) = match (first.checked_mul(ss), last.checked_sub(first)) {
            (Some(o), Some(n)) => (o, n.saturating_add(1).saturating_mul(ss), None),
            _ => (
                first.saturating_mul(ss),
                0,
                Some(format!(
                    "entry {} has last LBA {last} before first LBA {first}",
                    i + 1
                )),
            ),
        };
        parts.push(Partition {
            index: i as u32 + 1,
            scheme: Scheme::Gpt,
            offset,
            size,
            type_id: guid(&e[..16]),
            name: (!name.is_empty()).then_some(name),
            filesystem: None,
            note,
            declared: None,
            active: false,
        });
    }
    Ok(Ok(parts))
}

/// Reads the GPT; `None` when neither header (at either sector size) is
/// usable. Damage that was worked around is added to `notes`.
pub(crate) fn read(
    disk: &dyn Disk,
    notes: &mut Vec<String>,
) -> Result<Option<VolumeMap>, VolumeError> {
    let mut problems = Vec::new();
    for ss in [512u64, 4096] {
        if disk.size() < ss * 2 {
            continue;
        }
        let primary = header(disk, 1, ss)?;
        let last_lba = disk.size() / ss - 1;
        let (h, used_backup) = match primary {
            Ok(h) => match entries(disk, &h, ss)? {
                Ok(parts) => {
                    return Ok(Some(map(parts, ss)));
                }
                Err(why) => {
                    problems.push(format!("{ss}-byte sectors: primary GPT: {why}"));
                    // The primary header is fine but its entries are not:
                    // try the backup named by it, then the last LBA.
                    let alt = h.alternate_lba;
                    match header(disk, alt, ss)? {
                        Ok(b) => (b, alt),
                        Err(_) => match header(disk, last_lba, ss)? {
                            Ok(b) => (b, last_lba),
                            Err(why) => {
                                problems.push(format!("{ss}-byte sectors: backup GPT: {why}"));
                                continue;
                            }
                        },
                    }
                }
            },
            Err(why) => {
                if why.starts_with("no 'EFI PART'") && ss == 512 {
                    // Perhaps 4096-byte sectors; remember quietly.
                    problems.push(format!("{ss}-byte sectors: {why}"));
                } else {
                    problems.push(format!("{ss}-byte sectors: primary GPT: {why}"));
                }
                match header(disk, last_lba, ss)? {
                    Ok(b) => (b, last_lba),
                    Err(_) => continue,
                }
            }
        };
        match entries(disk, &h, ss)? {
            Ok(parts) => {
                notes.extend(problems);
                notes.push(format!(
                    "used the backup GPT header at LBA {used_backup} ({ss}-byte sectors)"
                ));
                return Ok(Some(map(parts, ss)));
            }
            Err(why) => problems.push(format!("{ss}-byte sectors: backup GPT: {why}")),
        }
    }
    notes.extend(problems);
    Ok(None)
}

/// The unique partition GUID of each used entry of the primary GPT (bytes
/// as stored), by the partition's byte offset: what Windows'
/// `MountedDevices` names a GPT partition by (`DMIO:ID:` + this GUID).
/// Empty when the primary header or its entry array is unusable.
pub fn unique_guids(disk: &dyn Disk) -> Vec<(u64, [u8; 16])> {
    for ss in [512u64, 4096] {
        if disk.size() < ss * 2 {
            continue;
        }
        let Ok(Ok(h)) = header(disk, 1, ss) else {
            continue;
        };
        let len = u64::from(h.count) * u64::from(h.entry_size); // capped in header()
        let Some(at) = h.entries_lba.checked_mul(ss) else {
            continue;
        };
        let mut b = vec![0u8; len as usize];
        if !matches!(read_opt(disk, at, &mut b), Ok(Some(()))) || crc32(&b) != h.entries_crc {
            continue;
        }
        return b
            .chunks_exact(h.entry_size as usize)
            .filter(|e| e[..16].iter().any(|&x| x != 0))
            .filter_map(|e| {
                let mut g = [0u8; 16];
                g.copy_from_slice(&e[16..32]);
                Some((le64(e, 32).checked_mul(ss)?, g))
            })
            .collect();
    }
    Vec::new()
}

fn map(partitions: Vec<Partition>, ss: u64) -> VolumeMap {
    VolumeMap {
        scheme: Scheme::Gpt,
        sector_size: ss as u32,
        partitions,
        notes: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_known_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn guid_text() {
        let b = [
            0x28, 0x73, 0x2A, 0xC1, 0x1F, 0xF8, 0xD2, 0x11, 0xBA, 0x4B, 0x00, 0xA0, 0xC9, 0x3E,
            0xC9, 0x3B,
        ];
        assert_eq!(guid(&b), "C12A7328-F81F-11D2-BA4B-00A0C93EC93B");
    }
}
