//! The disk around an install: every volume of it an install may name by
//! drive letter, the partition layout letters and ARC paths are counted in,
//! and the boot.ini entries of its boot partition.

use super::bootini::{self, BootLine, Controller};
use super::drives::{self, DiskPartition, DriveLetter, LetterSources};
use super::Install;
use crate::fs::{FsError, Volume};
use crate::image::Disk;
use crate::registry::{Hive, ValueData};
use crate::volume::{self, Partition, Scheme};
use crate::Unreadable;

/// The volumes of one disk as the loader sees them.
pub struct DiskVolumes<'v> {
    /// By report index; `None` for a volume that did not open.
    pub volumes: Vec<Option<&'v dyn Volume>>,
    /// Every partition of the disk (readable or not), for letters.
    pub partitions: Vec<DiskPartition>,
    /// NT's `partition(N)` number of each partition, as `(offset, N)`.
    pub arc_numbers: Vec<(u64, u32)>,
    /// The MBR disk signature, for an MBR disk.
    pub signature: Option<u32>,
    /// For a triage collection: the drive letter of each volume as the
    /// collection names its folder, `(letter, volume)`. These come before
    /// anything the hives say (there is no disk for them to name).
    pub collected: Vec<(char, usize)>,
}

impl<'v> DiskVolumes<'v> {
    /// The whole disk as letters and ARC paths count it: every partition
    /// (readable or not) with the report index of the volume it holds,
    /// given `read` (the partitions the report opened, in report order) and
    /// their opened `volumes`; and the report index of the active primary
    /// partition's volume.
    pub fn of_disk(
        disk: &dyn Disk,
        read: &[Partition],
        volumes: Vec<Option<&'v dyn Volume>>,
    ) -> (Self, Option<usize>) {
        let all = volume::find_partitions(disk).unwrap_or_else(|_| read.to_vec());
        let mbr = all.iter().any(|p| p.scheme == Scheme::Mbr);
        // Partitions found by a boot-sector scan are in no table: NT numbers none.
        let tabled: Vec<&Partition> = all
            .iter()
            .filter(|p| p.note.as_deref().is_none_or(|n| !n.contains("scan")))
            .collect();
        let indices: Vec<u32> = tabled.iter().map(|p| p.index).collect();
        let arc_numbers: Vec<(u64, u32)> = bootini::nt_partition_numbers(&indices)
            .into_iter()
            .filter_map(|(index, n)| Some((tabled.iter().find(|p| p.index == index)?.offset, n)))
            .collect();
        let guids = if all.iter().any(|p| p.scheme == Scheme::Gpt) {
            volume::gpt_unique_guids(disk)
        } else {
            Vec::new()
        };
        let partitions: Vec<DiskPartition> = all
            .iter()
            .map(|p| {
                let volume = read.iter().position(|q| q.offset == p.offset);
                DiskPartition {
                    volume,
                    offset: p.offset,
                    slot: p.index,
                    active: p.active,
                    lettered: drives::nt_letters(&p.type_id) || volume.is_some(),
                    guid: guids.iter().find(|g| g.0 == p.offset).map(|g| g.1),
                }
            })
            .collect();
        let active = partitions.iter().find(|p| p.active).and_then(|p| p.volume);
        let dv = DiskVolumes {
            volumes,
            partitions,
            arc_numbers,
            signature: if mbr {
                volume::mbr_disk_signature(disk)
            } else {
                None
            },
            collected: Vec::new(),
        };
        (dv, active)
    }

    /// One volume alone (the library's single-volume entry point).
    pub fn single(vol: &'v dyn Volume, volume: usize) -> Self {
        let mut volumes = vec![None; volume + 1];
        volumes[volume] = Some(vol);
        DiskVolumes {
            volumes,
            partitions: vec![DiskPartition {
                volume: Some(volume),
                offset: 0,
                slot: 1,
                active: true,
                lettered: true,
                guid: None,
            }],
            arc_numbers: vec![(0, 1)],
            signature: None,
            collected: Vec::new(),
        }
    }

    /// The drives of a triage collection: `volumes` by report index, each
    /// with the letter the collection gives it (`letters[i]` for volume `i`).
    pub fn collection(volumes: Vec<Option<&'v dyn Volume>>, letters: &[char]) -> Self {
        DiskVolumes {
            partitions: letters
                .iter()
                .enumerate()
                .map(|(i, _)| DiskPartition {
                    volume: Some(i),
                    offset: i as u64,
                    slot: i as u32 + 1,
                    active: false,
                    lettered: true,
                    guid: None,
                })
                .collect(),
            arc_numbers: Vec::new(),
            signature: None,
            collected: letters.iter().enumerate().map(|(i, l)| (*l, i)).collect(),
            volumes,
        }
    }

    /// How many volumes opened.
    pub fn readable(&self) -> usize {
        self.volumes.iter().flatten().count()
    }
}

/// What the SYSTEM and SOFTWARE hives of an install say about letters.
pub fn letter_sources(
    system: Option<&Hive>,
    software: Option<&Hive>,
    volume: usize,
    unreadable: &mut Vec<Unreadable>,
) -> LetterSources {
    let mut src = LetterSources::default();
    if let Some(sys) = system {
        if let Ok(Some(k)) = sys.key("MountedDevices") {
            src.has_mounted_devices = true;
            for v in &k.values {
                let Some(letter) = drives::mounted_letter(&v.name) else {
                    continue;
                };
                if let ValueData::Binary(b) | ValueData::Other { data: b, .. } = &v.data {
                    src.mounted.push((letter, drives::decode_mounted_device(b)));
                }
            }
            src.mounted.sort_by_key(|m| m.0);
        }
        if let Ok(Some(k)) = sys.key("DISK") {
            if let Some(ValueData::Binary(b) | ValueData::Other { data: b, .. }) =
                k.data("Information")
            {
                let (parts, notes) = drives::decode_disk_information(b);
                for n in notes {
                    unreadable.push(Unreadable::new(
                        &format!(r"{}\DISK\Information", sys.name()),
                        &n,
                    ));
                }
                src.disk_info = parts;
            }
        }
    }
    if let Some(sw) = software {
        if let Ok(Some(k)) = sw.key(r"Microsoft\Windows NT\CurrentVersion") {
            let root = k.data("SystemRoot").and_then(|d| d.as_str());
            if let Some(&[d, b':', ..]) = root.map(str::as_bytes) {
                if d.is_ascii_alphabetic() {
                    src.system_root = Some((d.to_ascii_uppercase() as char, volume));
                }
            }
        }
    }
    src
}

/// Where a path the registry names lives, for an install.
pub enum Place {
    /// On the install's own volume.
    Own,
    /// On another volume of the image: its index and letter.
    Other(usize, char),
    /// On a letter this image does not hold: why.
    Elsewhere(char, String),
}

/// Which volume drive `letter` is for an install on `volume` with `letters`.
pub fn place(letter: Option<char>, volume: usize, letters: &[DriveLetter]) -> Place {
    let Some(l) = letter else { return Place::Own };
    match letters.iter().find(|d| d.letter == l) {
        Some(d) => match d.volume {
            Some(v) if v == volume => Place::Own,
            Some(v) => Place::Other(v, l),
            None => Place::Elsewhere(l, format!("drive {l}: is not on this image ({})", d.source)),
        },
        None => Place::Elsewhere(
            l,
            format!("drive {l}: is not on this image (no volume read has that letter)"),
        ),
    }
}

/// One `[operating systems]` line of boot.ini and where it leads.
#[derive(Debug, Clone)]
pub struct BootEntry {
    /// The volume holding boot.ini.
    pub volume: usize,
    /// boot.ini as stored (`\boot.ini`).
    pub path: String,
    pub line: usize,
    pub arc: String,
    pub description: String,
    pub default: bool,
    /// `partition(N)`, when the ARC path parses.
    pub partition: Option<u32>,
    /// The volume that partition is, on this image.
    pub target_volume: Option<usize>,
    /// Index in the diagnosis' installs of the install it starts.
    pub install: Option<usize>,
    /// Why it leads to no install on this image.
    pub note: Option<String>,
}

/// The boot.ini of the disk: on the active volume when it holds one, else
/// on the first volume that does. `(volume, path, bytes)`.
pub fn find_boot_ini(
    disk: &DiskVolumes,
    active: Option<usize>,
    unreadable: &mut Vec<Unreadable>,
) -> Option<(usize, String, Vec<u8>)> {
    let order = active
        .into_iter()
        .chain(0..disk.volumes.len())
        .filter_map(|i| Some((i, (*disk.volumes.get(i)?)?)));
    for (i, vol) in order {
        let entry = match vol.lookup(r"\boot.ini") {
            Ok(e) if !e.is_dir => e,
            Ok(_) | Err(FsError::NotFound { .. }) => continue,
            Err(e) => {
                unreadable.push(Unreadable::new(
                    &format!(r"volume #{i} \boot.ini"),
                    e.reason(),
                ));
                continue;
            }
        };
        if entry.size > bootini::MAX_BOOT_INI as u64 {
            unreadable.push(Unreadable::new(
                &format!("volume #{i} {}", entry.path),
                format!(
                    "{} bytes, more than the {} a boot.ini may have here",
                    entry.size,
                    bootini::MAX_BOOT_INI
                ),
            ));
            return None;
        }
        match vol.read(&entry) {
            Ok(b) => return Some((i, entry.path.clone(), b.into_owned())),
            Err(e) => {
                unreadable.push(Unreadable::new(
                    &format!("volume #{i} {}", entry.path),
                    e.reason(),
                ));
            }
        }
    }
    None
}

/// Follows each boot.ini line to the partition and install it starts.
pub fn boot_entries(
    disk: &DiskVolumes,
    volume: usize,
    path: &str,
    bytes: &[u8],
    installs: &[Install],
) -> Vec<BootEntry> {
    bootini::parse_boot_ini(bytes)
        .into_iter()
        .map(|line| follow(disk, volume, path, line, installs))
        .collect()
}

fn follow(
    disk: &DiskVolumes,
    volume: usize,
    path: &str,
    line: BootLine,
    installs: &[Install],
) -> BootEntry {
    let mut e = BootEntry {
        volume,
        path: path.to_string(),
        line: line.line,
        arc: line.arc_text,
        description: line.description,
        default: line.default,
        partition: None,
        target_volume: None,
        install: None,
        note: None,
    };
    let arc = match line.arc {
        Ok(a) => a,
        Err(why) => {
            e.note = Some(format!("not an ARC path we read: {why}"));
            return e;
        }
    };
    e.partition = Some(arc.partition);
    let this_disk = match arc.controller {
        Controller::Multi(0) if arc.disk == 0 && arc.rdisk == 0 => Ok(()),
        Controller::Multi(_) => Err(format!(
            "another BIOS disk (rdisk({})), not the one holding boot.ini",
            arc.rdisk
        )),
        // ntbootdd.sys numbering is not on the disk: with one disk in the
        // image, the boot.ini on it is taken to mean it.
        Controller::Scsi(_) => Ok(()),
        Controller::Signature(s) if Some(s) == disk.signature => Ok(()),
        Controller::Signature(s) => Err(format!(
            "disk signature {s:08x} is not this disk's ({})",
            disk.signature
                .map_or("none".to_string(), |d| format!("{d:08x}"))
        )),
    };
    if let Err(why) = this_disk {
        e.note = Some(format!("{why}: not in this image"));
        return e;
    }
    // Said, not guessed silently: which disk scsi() means is not on it.
    let assumed = matches!(arc.controller, Controller::Scsi(_)).then(|| {
        "scsi() names the disk through ntbootdd.sys: taken to be the disk holding boot.ini"
            .to_string()
    });
    let Some(&(offset, _)) = disk.arc_numbers.iter().find(|(_, n)| *n == arc.partition) else {
        e.note = Some(format!(
            "this disk has no partition({}) (NT numbers {} partition(s))",
            arc.partition,
            disk.arc_numbers.len()
        ));
        return e;
    };
    let target = disk
        .partitions
        .iter()
        .find(|p| p.offset == offset)
        .and_then(|p| p.volume);
    let Some(target) = target else {
        e.note = Some(format!(
            "partition({}) holds no volume that was read",
            arc.partition
        ));
        return e;
    };
    e.target_volume = Some(target);
    e.install = installs
        .iter()
        .position(|i| i.volume == target && i.system_root.eq_ignore_ascii_case(&arc.path));
    e.note = match (e.install, assumed) {
        (None, _) => Some(format!(
            "no Windows installation at {} on volume #{target}",
            arc.path
        )),
        (Some(_), assumed) => assumed,
    };
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn install(volume: usize) -> Install {
        Install {
            volume,
            system_root: r"\WINNT".into(),
            ..Install::default()
        }
    }

    #[test]
    fn boot_ini_lines_lead_to_installs_or_say_why_not() {
        let part = |volume, offset, slot| DiskPartition {
            volume,
            offset,
            slot,
            active: slot == 1,
            lettered: true,
            guid: None,
        };
        // partition(1) is volume #0, partition(2) an unformatted one,
        // partition(3) volume #1 holding \WINNT.
        let disk = DiskVolumes {
            volumes: vec![None, None],
            partitions: vec![
                part(Some(0), 100, 1),
                part(None, 200, 2),
                part(Some(1), 300, 5),
            ],
            arc_numbers: vec![(100, 1), (200, 2), (300, 3)],
            signature: Some(0xABCD_0123),
            collected: Vec::new(),
        };
        let ini = b"[operating systems]\r\n\
multi(0)disk(0)rdisk(0)partition(3)\\WINNT=\"a\"\r\n\
multi(0)disk(0)rdisk(1)partition(3)\\WINNT=\"b\"\r\n\
signature(abcd0123)disk(0)rdisk(0)partition(3)\\winnt=\"c\"\r\n\
signature(12345678)disk(0)rdisk(0)partition(3)\\WINNT=\"d\"\r\n\
multi(0)disk(0)rdisk(0)partition(9)\\WINNT=\"e\"\r\n\
multi(0)disk(0)rdisk(0)partition(2)\\WINNT=\"f\"\r\n\
multi(0)disk(0)rdisk(0)partition(1)\\WINNT=\"g\"\r\n\
scsi(0)disk(1)rdisk(0)partition(3)\\WINNT=\"h\"\r\n\
multi(0)disk(0)rdisk(0)partition(x)\\WINNT=\"i\"\r\n";
        let e = boot_entries(&disk, 0, r"\boot.ini", ini, &[install(1)]);
        let got: Vec<(Option<usize>, Option<usize>, String)> = e
            .iter()
            .map(|e| {
                (
                    e.target_volume,
                    e.install,
                    e.note.clone().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(got[0], (Some(1), Some(0), String::new()));
        assert!(got[1].2.contains("another BIOS disk"), "{:?}", got[1]);
        assert_eq!(got[2], (Some(1), Some(0), String::new()));
        assert!(
            got[3].2.contains("not this disk's (abcd0123)"),
            "{:?}",
            got[3]
        );
        assert!(got[4].2.contains("no partition(9)"), "{:?}", got[4]);
        assert!(got[5].2.contains("holds no volume"), "{:?}", got[5]);
        assert_eq!(got[6].0, Some(0));
        assert!(got[6].2.contains("no Windows installation"), "{:?}", got[6]);
        assert_eq!((got[7].0, got[7].1), (Some(1), Some(0)));
        assert!(got[7].2.contains("taken to be"), "{:?}", got[7]);
        assert!(got[8].2.contains("not an ARC path"), "{:?}", got[8]);
        assert_eq!(e[0].line, 2);
    }
}
