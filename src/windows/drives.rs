//! Drive letters: which volume of the disk an install calls `C:`, `D:`, `E:`.
//!
//! Three sources, in order, and each letter says which one gave it:
//!
//! 1. the SYSTEM hive: `MountedDevices` (Windows 2000 and later; a
//!    `\DosDevices\X:` value holds the MBR disk signature and the partition's
//!    byte offset, or `DMIO:ID:` and a GPT partition GUID) or, on NT 4.0,
//!    the `DISK\Information` binary (the "sticky" letters Disk Administrator
//!    wrote: `DISK_CONFIG_HEADER` (44 bytes; the disk information's offset
//!    and size at 12 and 16), then `DISK_REGISTRY` with one
//!    `DISK_DESCRIPTION` per disk signature and one 52-byte `DISK_PARTITION`
//!    per partition, packed to 4 bytes, as laid out in the DDK's ntdskreg.h
//!    and ntddft.h);
//! 2. the letter of SOFTWARE `...\CurrentVersion\SystemRoot` (`D:\WINNT`)
//!    for the install's own volume;
//! 3. where neither gives a volume a letter and the hive has no
//!    `MountedDevices` (NT 4.0 without sticky letters), the order NT itself
//!    used at boot (KB Q93373, "Default Drive Letters and Partitions in
//!    Windows NT"): only recognized types (FAT 0x01/0x04/0x06, NTFS/HPFS
//!    0x07, and FAT32 0x0B/0x0C/0x0E) get one; the active (else first)
//!    primary partition gets the first free letter from C:, then the logical
//!    drives in chain order, then the other primary partitions in table order.
//!
//! A letter the hive gives to a partition that is not on this image (another
//! disk signature, an offset no partition starts at) maps to no volume: paths
//! on it are reported unreadable, never missing.

use crate::le::{le16, le32, le64};

/// Most disks and partitions per disk read from `DISK\Information` (NT 4.0
/// supported 32 disks; a partition table with logical drives rarely has
/// more than a few dozen entries).
const MAX_DISKS: usize = 64;
const MAX_PARTITIONS: usize = 256;
/// `sizeof(DISK_CONFIG_HEADER)`, `sizeof(DISK_PARTITION)` (pshpack4).
const HEADER_LEN: usize = 44;
const PARTITION_LEN: usize = 52;
/// `FT_TYPE::NotAnFtMember`: a plain partition. Members of mirrors, stripes
/// and volume sets get their letter as a set, which one partition is not.
const NOT_AN_FT_MEMBER: u32 = 4;

/// A partition as `DISK\Information` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskInfoPartition {
    pub signature: u32,
    pub offset: u64,
    pub length: u64,
    /// The sticky letter, when one is assigned (`DriveLetter` is an ASCII
    /// letter and `AssignDriveLetter` set).
    pub letter: Option<char>,
    pub ft_type: u32,
}

/// Decodes the NT 4.0 `HKLM\SYSTEM\DISK\Information` value. Every count and
/// offset is checked against the data; what does not fit ends the walk with
/// a note (the partitions read before it are kept).
pub fn decode_disk_information(data: &[u8]) -> (Vec<DiskInfoPartition>, Vec<String>) {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    if data.len() < HEADER_LEN {
        notes.push(format!(
            "DISK\\Information: {} bytes, shorter than its {HEADER_LEN}-byte header",
            data.len()
        ));
        return (out, notes);
    }
    let start = le32(data, 12) as usize;
    let size = le32(data, 16) as usize;
    let end = start.saturating_add(size).min(data.len());
    let Some(reg) = data.get(start..end).filter(|r| r.len() >= 4) else {
        notes.push(format!(
            "DISK\\Information: disk information at offset {start} ({size} bytes) is outside the {} bytes of the value",
            data.len()
        ));
        return (out, notes);
    };
    let disks = usize::from(le16(reg, 0));
    if disks > MAX_DISKS {
        notes.push(format!(
            "DISK\\Information: {disks} disks, more than the {MAX_DISKS} read"
        ));
    }
    let mut at = 4usize;
    for d in 0..disks.min(MAX_DISKS) {
        let Some(head) = reg.get(at..at + 8) else {
            notes.push(format!(
                "DISK\\Information: disk {d} at offset {} runs past the end",
                start + at
            ));
            break;
        };
        let count = usize::from(le16(head, 0));
        let signature = le32(head, 4);
        at += 8;
        if count > MAX_PARTITIONS {
            notes.push(format!(
                "DISK\\Information: disk {d} declares {count} partitions, more than the {MAX_PARTITIONS} read; stopped"
            ));
            break;
        }
        for p in 0..count {
            let Some(e) = reg.get(at..at + PARTITION_LEN) else {
                notes.push(format!(
                    "DISK\\Information: partition {p} of disk {d} at offset {} runs past the end",
                    start + at
                ));
                return (out, notes);
            };
            at += PARTITION_LEN;
            let letter = match (e[40], e[41]) {
                (l, assign) if assign != 0 && l.is_ascii_alphabetic() => {
                    Some(l.to_ascii_uppercase() as char)
                }
                _ => None,
            };
            out.push(DiskInfoPartition {
                signature,
                offset: le64(e, 8),
                length: le64(e, 16),
                letter,
                ft_type: le32(e, 0),
            });
        }
    }
    (out, notes)
}

/// Where a `MountedDevices` `\DosDevices\X:` value points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountedTarget {
    /// An MBR partition: disk signature and byte offset.
    Mbr { signature: u32, offset: u64 },
    /// A GPT partition by its unique GUID (as stored, little-endian fields).
    Gpt { guid: [u8; 16] },
    /// Anything else (a CD-ROM, removable or dynamic volume): no partition
    /// of a basic disk.
    Other(String),
}

/// The letter of a `MountedDevices` value name (`\DosDevices\C:`), `None`
/// for the `\??\Volume{...}` names and anything else.
pub fn mounted_letter(name: &str) -> Option<char> {
    let rest = name
        .get(..12)
        .filter(|p| p.eq_ignore_ascii_case("\\DosDevices\\"))
        .map(|_| &name[12..])?;
    match rest.as_bytes() {
        [d, b':'] if d.is_ascii_alphabetic() => Some(d.to_ascii_uppercase() as char),
        _ => None,
    }
}

/// Decodes a `MountedDevices` value's data: 12 bytes for an MBR partition,
/// `DMIO:ID:` and 16 bytes for a GPT partition, a device name otherwise.
pub fn decode_mounted_device(data: &[u8]) -> MountedTarget {
    if data.len() == 12 {
        return MountedTarget::Mbr {
            signature: le32(data, 0),
            offset: le64(data, 4),
        };
    }
    if data.len() == 24 && data.starts_with(b"DMIO:ID:") {
        let mut guid = [0u8; 16];
        guid.copy_from_slice(&data[8..24]);
        return MountedTarget::Gpt { guid };
    }
    // Device names are UTF-16LE (`\??\IDE#CdRom...`); shown as far as they decode.
    let units: Vec<u16> = data
        .chunks_exact(2)
        .take(128)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|&u| u != 0)
        .collect();
    let name = String::from_utf16_lossy(&units);
    MountedTarget::Other(if name.is_empty() {
        format!("{} bytes that name no partition", data.len())
    } else {
        name
    })
}

/// Whether NT gives a partition of this MBR type a drive letter (FAT12,
/// FAT16, FAT32, NTFS/HPFS, with or without the fault-tolerance bit 0x80).
pub fn nt_letters(type_id: &str) -> bool {
    u8::from_str_radix(type_id.trim_start_matches("0x"), 16)
        .is_ok_and(|t| matches!(t & 0x7F, 0x01 | 0x04 | 0x06 | 0x07 | 0x0B | 0x0C | 0x0E))
}

/// A partition of the disk as letter assignment needs it.
#[derive(Debug, Clone)]
pub struct DiskPartition {
    /// Index of the volume in the report, when it is one we read.
    pub volume: Option<usize>,
    pub offset: u64,
    /// MBR slot (1–4) or logical number (5…) as `volume::Partition` numbers them.
    pub slot: u32,
    pub active: bool,
    /// Whether NT would give it a letter at all (a FAT or NTFS type).
    pub lettered: bool,
    /// GPT unique partition GUID, as stored.
    pub guid: Option<[u8; 16]>,
}

/// One drive letter of an install, and how it was assigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriveLetter {
    pub letter: char,
    /// Index of the volume in the report; `None` when the letter names a
    /// partition that is not on this image.
    pub volume: Option<usize>,
    /// Where the letter came from, in words (`MountedDevices \DosDevices\E:
    /// (disk signature 0x1A2B3C4D, offset 1048576)`).
    pub source: String,
}

/// What the hives say about letters, as read by the loader.
#[derive(Debug, Default)]
pub struct LetterSources {
    /// `(letter, target, value name)` from `MountedDevices`.
    pub mounted: Vec<(char, MountedTarget)>,
    /// Whether the SYSTEM hive has a `MountedDevices` key at all.
    pub has_mounted_devices: bool,
    /// Partitions from `DISK\Information`.
    pub disk_info: Vec<DiskInfoPartition>,
    /// The letter of `SystemRoot` in SOFTWARE, and the install's volume.
    pub system_root: Option<(char, usize)>,
}

/// Assigns the letters of one install. `signature` is the MBR disk
/// signature of the image (None for a bare volume or GPT).
pub fn assign(
    parts: &[DiskPartition],
    signature: Option<u32>,
    src: &LetterSources,
) -> Vec<DriveLetter> {
    let mut out: Vec<DriveLetter> = Vec::new();
    let taken = |out: &[DriveLetter], l: char| out.iter().any(|d| d.letter == l);
    let has_letter = |out: &[DriveLetter], v: usize| out.iter().any(|d| d.volume == Some(v));
    let sig_text = |s: u32| format!("0x{s:08X}");

    for (letter, target) in &src.mounted {
        if taken(&out, *letter) {
            continue;
        }
        let name = format!("MountedDevices \\DosDevices\\{letter}:");
        let (volume, what) = match target {
            MountedTarget::Mbr {
                signature: s,
                offset,
            } => {
                let what = format!("disk signature {}, offset {offset}", sig_text(*s));
                if Some(*s) != signature {
                    let here = signature.map_or("none".to_string(), sig_text);
                    (
                        None,
                        format!("{what}: not this disk (its signature is {here})"),
                    )
                } else {
                    match parts.iter().find(|p| p.offset == *offset) {
                        Some(p) => (p.volume, what),
                        None => (None, format!("{what}: no partition starts there")),
                    }
                }
            }
            MountedTarget::Gpt { guid } => {
                let what = format!("GPT partition {}", guid_text(guid));
                match parts.iter().find(|p| p.guid.as_ref() == Some(guid)) {
                    Some(p) => (p.volume, what),
                    None => (None, format!("{what}: not on this disk")),
                }
            }
            MountedTarget::Other(dev) => (None, format!("device {dev}")),
        };
        out.push(DriveLetter {
            letter: *letter,
            volume,
            source: format!("{name} ({what})"),
        });
    }
    for p in &src.disk_info {
        let Some(letter) = p.letter else { continue };
        if taken(&out, letter) {
            continue;
        }
        let what = format!(
            "DISK\\Information (disk signature {}, offset {})",
            sig_text(p.signature),
            p.offset
        );
        if p.ft_type != NOT_AN_FT_MEMBER {
            out.push(DriveLetter {
                letter,
                volume: None,
                source: format!(
                    "{what}: a fault-tolerant set member (type {}), not read as a volume",
                    p.ft_type
                ),
            });
            continue;
        }
        let volume = if Some(p.signature) != signature {
            None
        } else {
            parts
                .iter()
                .find(|q| q.offset == p.offset)
                .and_then(|q| q.volume)
        };
        let why = match (volume, Some(p.signature) == signature) {
            (Some(_), _) => String::new(),
            (None, false) => format!(
                ": not this disk (its signature is {})",
                signature.map_or("none".to_string(), sig_text)
            ),
            (None, true) => ": no volume we read starts there".to_string(),
        };
        out.push(DriveLetter {
            letter,
            volume,
            source: format!("{what}{why}"),
        });
    }
    // The hive's letter for a partition not on this image gives way to the
    // SystemRoot value for the install's own volume (a partition imaged
    // alone keeps its letter).
    if let Some((letter, own)) = src.system_root {
        let own_lettered = has_letter(&out, own);
        match out.iter_mut().find(|d| d.letter == letter) {
            Some(d) if d.volume.is_none() => {
                d.volume = Some(own);
                d.source = format!(
                    "SOFTWARE SystemRoot value (the install's own volume; {})",
                    d.source
                );
            }
            Some(_) => {}
            None if !own_lettered => out.push(DriveLetter {
                letter,
                volume: Some(own),
                source: "SOFTWARE SystemRoot value (the install's own volume)".into(),
            }),
            None => {}
        }
    }
    if !src.has_mounted_devices {
        let primaries: Vec<&DiskPartition> =
            parts.iter().filter(|p| p.lettered && p.slot <= 4).collect();
        let first = primaries
            .iter()
            .find(|p| p.active)
            .or_else(|| primaries.first())
            .copied();
        let logicals = parts.iter().filter(|p| p.lettered && p.slot > 4);
        let rest = primaries
            .iter()
            .copied()
            .filter(|p| first.is_none_or(|f| f.offset != p.offset));
        let mut next = b'C';
        for p in first.into_iter().chain(logicals).chain(rest) {
            if p.volume.is_some_and(|v| has_letter(&out, v)) {
                continue;
            }
            while next <= b'Z' && taken(&out, next as char) {
                next += 1;
            }
            if next > b'Z' {
                break;
            }
            // A recognized partition we do not read (unformatted, damaged)
            // takes its letter all the same, as NT gave it one.
            if let Some(v) = p.volume {
                out.push(DriveLetter {
                    letter: next as char,
                    volume: Some(v),
                    source: "NT's default order (no letter in the hive for this partition)".into(),
                });
            }
            next += 1;
        }
    }
    out.sort_by_key(|d| d.letter);
    out
}

/// The letters of a triage collection's install: each collected drive
/// with the letter its folder has, then the letters the hives name that the
/// collection does not hold (no volume: paths on them are not read).
pub fn collected(letters: &[(char, usize)], hive: Vec<DriveLetter>) -> Vec<DriveLetter> {
    let mut out: Vec<DriveLetter> = letters
        .iter()
        .map(|&(letter, volume)| DriveLetter {
            letter,
            volume: Some(volume),
            source: format!("the collection's folder for drive {letter}:"),
        })
        .collect();
    for d in hive {
        if out.iter().any(|o| o.letter == d.letter) {
            continue;
        }
        out.push(DriveLetter {
            letter: d.letter,
            volume: None,
            source: format!("not in the collection; the hive names it ({})", d.source),
        });
    }
    out.sort_by_key(|d| d.letter);
    out
}

/// A GUID as stored (first three fields little-endian) in its usual text.
fn guid_text(g: &[u8; 16]) -> String {
    format!(
        "{:08X}-{:04X}-{:04X}-{:02X}{:02X}-{}",
        le32(g, 0),
        le16(g, 4),
        le16(g, 6),
        g[8],
        g[9],
        g[10..]
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<String>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `DISK\Information` value with one disk and the given partitions.
    pub(crate) fn disk_info(signature: u32, parts: &[(u64, u64, u8)]) -> Vec<u8> {
        let mut reg = Vec::new();
        reg.extend_from_slice(&1u16.to_le_bytes());
        reg.extend_from_slice(&0u16.to_le_bytes());
        reg.extend_from_slice(&(parts.len() as u16).to_le_bytes());
        reg.extend_from_slice(&0u16.to_le_bytes());
        reg.extend_from_slice(&signature.to_le_bytes());
        for (i, &(offset, length, letter)) in parts.iter().enumerate() {
            let mut p = [0u8; PARTITION_LEN];
            p[0..4].copy_from_slice(&NOT_AN_FT_MEMBER.to_le_bytes());
            p[8..16].copy_from_slice(&offset.to_le_bytes());
            p[16..24].copy_from_slice(&length.to_le_bytes());
            p[40] = letter;
            p[41] = 1;
            p[42..44].copy_from_slice(&(i as u16 + 1).to_le_bytes());
            reg.extend_from_slice(&p);
        }
        let mut v = vec![0u8; HEADER_LEN];
        v[0..4].copy_from_slice(&3u32.to_le_bytes());
        v[12..16].copy_from_slice(&(HEADER_LEN as u32).to_le_bytes());
        v[16..20].copy_from_slice(&(reg.len() as u32).to_le_bytes());
        v[20..24].copy_from_slice(&((HEADER_LEN + reg.len()) as u32).to_le_bytes());
        v.extend_from_slice(&reg);
        v
    }

    #[test]
    fn decodes_disk_information() {
        let v = disk_info(
            0x1A2B3C4D,
            &[
                (32256, 1000, b'C'),
                (2_000_000, 5000, b'D'),
                (9_000_000, 1, 0),
            ],
        );
        let (parts, notes) = decode_disk_information(&v);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].letter, Some('C'));
        assert_eq!(parts[1].offset, 2_000_000);
        assert_eq!(parts[1].letter, Some('D'));
        assert_eq!(parts[2].letter, None);
        assert!(parts.iter().all(|p| p.signature == 0x1A2B3C4D));
    }

    #[test]
    fn hostile_disk_information_is_cut_with_a_note() {
        let v = disk_info(7, &[(32256, 1000, b'C'), (2_000_000, 5000, b'D')]);
        // Every truncation: no panic, a prefix of the partitions, a note.
        for cut in 0..v.len() {
            let (parts, notes) = decode_disk_information(&v[..cut]);
            assert!(parts.len() <= 2);
            assert!(!notes.is_empty() || parts.len() == 2, "cut {cut}");
        }
        // Absurd counts and offsets.
        let mut w = v.clone();
        w[44..46].copy_from_slice(&u16::MAX.to_le_bytes());
        let (_, notes) = decode_disk_information(&w);
        assert!(notes[0].contains("more than"), "{notes:?}");
        let mut w = v.clone();
        w[48..50].copy_from_slice(&u16::MAX.to_le_bytes());
        assert!(!decode_disk_information(&w).1.is_empty());
        let mut w = v.clone();
        w[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        w[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        let (parts, notes) = decode_disk_information(&w);
        assert!(
            parts.is_empty() && notes[0].contains("outside"),
            "{notes:?}"
        );
        // Every single-byte mutation is survived.
        for i in 0..v.len() {
            for b in [0x00, 0x7F, 0xFF] {
                let mut w = v.clone();
                w[i] = b;
                let _ = decode_disk_information(&w);
            }
        }
    }

    #[test]
    fn decodes_mounted_devices() {
        let mut mbr = 0x1A2B3C4Du32.to_le_bytes().to_vec();
        mbr.extend_from_slice(&32256u64.to_le_bytes());
        assert_eq!(
            decode_mounted_device(&mbr),
            MountedTarget::Mbr {
                signature: 0x1A2B3C4D,
                offset: 32256
            }
        );
        let mut gpt = b"DMIO:ID:".to_vec();
        gpt.extend_from_slice(&[0xAB; 16]);
        assert_eq!(
            decode_mounted_device(&gpt),
            MountedTarget::Gpt { guid: [0xAB; 16] }
        );
        let dev: Vec<u8> = "\\??\\IDE#CdRom"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(
            decode_mounted_device(&dev),
            MountedTarget::Other("\\??\\IDE#CdRom".into())
        );
        for n in 0..40 {
            let _ = decode_mounted_device(&vec![0xFF; n]);
        }
        assert!(matches!(
            decode_mounted_device(&[0xD8, 0x00, 0x41]),
            MountedTarget::Other(_)
        ));
        assert_eq!(mounted_letter("\\DosDevices\\e:"), Some('E'));
        assert_eq!(mounted_letter("\\dosdevices\\C:"), Some('C'));
        assert_eq!(mounted_letter("\\??\\Volume{1234}"), None);
        assert_eq!(mounted_letter("\\DosDevices\\CC:"), None);
        assert_eq!(mounted_letter("\\DosDevices\\é"), None);
        assert_eq!(mounted_letter("\\DosDevice"), None);
    }

    fn part(volume: Option<usize>, offset: u64, slot: u32, active: bool) -> DiskPartition {
        DiskPartition {
            volume,
            offset,
            slot,
            active,
            lettered: true,
            guid: None,
        }
    }

    #[test]
    fn assigns_from_the_hive_then_nt_order() {
        let parts = [
            part(Some(0), 32256, 1, true),
            part(Some(1), 2_000_000, 2, false),
            part(Some(2), 9_000_000, 5, false),
        ];
        // Nothing in the hive: NT's order, logical drives before the second primary.
        let d = assign(&parts, Some(7), &LetterSources::default());
        let got: Vec<(char, Option<usize>)> = d.iter().map(|d| (d.letter, d.volume)).collect();
        assert_eq!(got, [('C', Some(0)), ('D', Some(2)), ('E', Some(1))]);
        // An unformatted logical drive still takes D:; a foreign type none.
        let mut more = parts.to_vec();
        more.insert(2, part(None, 8_000_000, 5, false));
        more[3].slot = 6;
        more.push(DiskPartition {
            lettered: false,
            ..part(None, 10_000_000, 7, false)
        });
        let got: Vec<(char, Option<usize>)> = assign(&more, Some(7), &LetterSources::default())
            .iter()
            .map(|d| (d.letter, d.volume))
            .collect();
        assert_eq!(got, [('C', Some(0)), ('E', Some(2)), ('F', Some(1))]);
        // Sticky letters from DISK\Information win; one for another disk maps nowhere.
        let src = LetterSources {
            disk_info: decode_disk_information(&disk_info(
                7,
                &[(32256, 1, b'C'), (2_000_000, 1, b'D'), (9_000_000, 1, b'E')],
            ))
            .0,
            ..Default::default()
        };
        let got: Vec<(char, Option<usize>)> = assign(&parts, Some(7), &src)
            .iter()
            .map(|d| (d.letter, d.volume))
            .collect();
        assert_eq!(got, [('C', Some(0)), ('D', Some(1)), ('E', Some(2))]);
        let src = LetterSources {
            disk_info: decode_disk_information(&disk_info(8, &[(32256, 1, b'E')])).0,
            has_mounted_devices: true,
            system_root: Some(('D', 1)),
            ..Default::default()
        };
        let d = assign(&parts, Some(7), &src);
        assert_eq!(d[0].letter, 'D');
        assert_eq!(d[0].volume, Some(1));
        assert_eq!(d[1].letter, 'E');
        assert_eq!(d[1].volume, None);
        assert!(d[1].source.contains("not this disk"), "{}", d[1].source);
    }

    #[test]
    fn mounted_devices_match_signature_and_offset() {
        let parts = [
            part(Some(0), 32256, 1, true),
            part(Some(1), 2_000_000, 2, false),
        ];
        let src = LetterSources {
            mounted: vec![
                (
                    'C',
                    MountedTarget::Mbr {
                        signature: 7,
                        offset: 2_000_000,
                    },
                ),
                (
                    'E',
                    MountedTarget::Mbr {
                        signature: 7,
                        offset: 5,
                    },
                ),
                ('F', MountedTarget::Other("\\??\\IDE#CdRom".into())),
            ],
            has_mounted_devices: true,
            ..Default::default()
        };
        let d = assign(&parts, Some(7), &src);
        let got: Vec<(char, Option<usize>)> = d.iter().map(|d| (d.letter, d.volume)).collect();
        assert_eq!(got, [('C', Some(1)), ('E', None), ('F', None)]);
        assert!(d[1].source.contains("no partition starts there"));
        // GPT: by the partition's unique GUID.
        let mut gpt = parts.to_vec();
        gpt[1].guid = Some([7; 16]);
        let src = LetterSources {
            mounted: vec![
                ('D', MountedTarget::Gpt { guid: [7; 16] }),
                ('G', MountedTarget::Gpt { guid: [8; 16] }),
            ],
            has_mounted_devices: true,
            ..Default::default()
        };
        let d = assign(&gpt, None, &src);
        let got: Vec<(char, Option<usize>)> = d.iter().map(|d| (d.letter, d.volume)).collect();
        assert_eq!(got, [('D', Some(1)), ('G', None)]);
        assert!(
            d[0].source.contains("07070707-0707-0707-0707-070707070707"),
            "{}",
            d[0].source
        );
    }

    #[test]
    fn nt_letters_fat_and_ntfs_types_only() {
        for t in [
            "0x01", "0x04", "0x06", "0x07", "0x0B", "0x0C", "0x0E", "0x87",
        ] {
            assert!(nt_letters(t), "{t}");
        }
        for t in [
            "0x05",
            "0x0F",
            "0x82",
            "0x83",
            "",
            "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7",
        ] {
            assert!(!nt_letters(t), "{t}");
        }
    }
}
