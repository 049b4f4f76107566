//! What every fuzz target and `tests/robustness.rs` run: an in-memory
//! [`Disk`], one `run_*` function per layer (bounded work on hostile bytes),
//! and structure-aware mutations of whole images ([`Landmarks`], [`Op`]).
//!
//! This file depends only on `verskew` and `std` so that the stable test
//! suite can include it with `#[path]` and the libFuzzer targets can share it.

#![allow(dead_code)]

use std::collections::HashSet;
use std::path::Path;
use std::sync::OnceLock;

use verskew::analysis::Knowledge;
use verskew::fs::fuzzing::{
    apply_fixup, decode_compressed, decode_wof, lzx_decompress, parse_index, parse_mft_record,
    xpress_decompress, Run, WofAlgorithm,
};
use verskew::fs::{FatVolume, NtfsVolume, Volume};
use verskew::image::{self, Disk};
use verskew::registry::{self, resolve_control_set, Hive, HiveState, Walk};
use verskew::{pe, volume};

/// A virtual disk held in memory. `slice` decides whether it also offers
/// itself as one slice ([`Disk::as_bytes`], the zero-copy path of raw images)
/// or only positioned reads (the container path).
pub struct MemDisk {
    pub bytes: Vec<u8>,
    pub slice: bool,
}

impl MemDisk {
    pub fn new(bytes: Vec<u8>, slice: bool) -> MemDisk {
        MemDisk { bytes, slice }
    }
}

impl Disk for MemDisk {
    fn size(&self) -> u64 {
        self.bytes.len() as u64
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let src = usize::try_from(offset)
            .ok()
            .and_then(|o| self.bytes.get(o..o.checked_add(buf.len())?))
            .ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "past the end")
            })?;
        buf.copy_from_slice(src);
        Ok(())
    }

    fn as_bytes(&self) -> Option<&[u8]> {
        self.slice.then_some(&self.bytes[..])
    }
}

/// Paths the pipeline looks up on a Windows volume.
const LOOKUPS: &[&str] = &[
    r"\WINNT\system32\config\SYSTEM",
    r"\WINNT\system32\config\SOFTWARE",
    r"\WINNT\system32\inetsrv\w3svc.dll",
    r"\WINNT\system32\inetsrv\infocomm.dll",
    r"\WINDOWS\system32\config\SYSTEM",
    r"\WINDOWS\system32\inetsrv\w3core.dll",
    r"\winnt\SYSTEM32\INETSRV",
];

/// Partition tables (MBR, EBR chain, GPT, bare, scan). True when a table
/// or volume was found.
pub fn run_volume(data: &[u8]) -> bool {
    let mut found = false;
    for slice in [true, false] {
        let disk = MemDisk::new(data.to_vec(), slice);
        // The unique GUIDs `MountedDevices` is matched against (GPT).
        assert!(volume::gpt_unique_guids(&disk).len() <= 1 << 20);
        if let Ok(map) = volume::find_volumes(&disk) {
            found |= !map.partitions.is_empty();
            for p in &map.partitions {
                // What each volume declares past the end, and the command
                // layer's choice of volumes (gap scan, -o, --partition).
                let _ = volume::shortfall(&disk, p);
                let pick = verskew::commands::Select::Partition(p.index);
                let _ = verskew::commands::open_volumes_in(&disk, "fuzz", pick);
                // The layer promises partitions clamped to the disk.
                assert!(
                    p.offset.saturating_add(p.size) <= disk.size() || p.filesystem.is_none(),
                    "partition {p:?} extends past a disk of {} bytes",
                    disk.size()
                );
            }
        }
    }
    let disk = MemDisk::new(data.to_vec(), true);
    let _ = verskew::commands::open_volumes(&disk, "fuzz");
    let _ =
        verskew::commands::open_volumes_in(&disk, "fuzz", verskew::commands::Select::Offset(63));
    found
}

/// An NTFS volume at offset 0 of `data`: open, walk, look up, read.
pub fn run_ntfs(data: &[u8], slice: bool) -> bool {
    let disk = MemDisk::new(data.to_vec(), slice);
    let Ok(vol) = NtfsVolume::open(&disk, 0, disk.size()) else {
        return false;
    };
    exercise_volume(&vol);
    true
}

/// A FAT12/16/32 volume at offset 0 of `data`: open, walk, look up, read.
pub fn run_fat(data: &[u8], slice: bool) -> bool {
    let disk = MemDisk::new(data.to_vec(), slice);
    let Ok(vol) = FatVolume::open(&disk, 0, disk.size()) else {
        return false;
    };
    let _ = vol.fat_type();
    let _ = vol.lookup(r"\PROGRA~1\x");
    exercise_volume(&vol);
    true
}

/// Zip archive bytes as a triage collection: find the drive folders, build
/// each drive's tree, then the same bounded walk and reads as a volume.
pub fn run_zip_collection(data: &[u8]) -> bool {
    let Some(vols) = verskew::fs::collection::zip_bytes_volumes(data) else {
        return false;
    };
    for v in &vols {
        exercise_volume(v);
    }
    true
}

/// Bounded walk of a volume: at most 64 directories, 8 levels, 512 entries
/// per directory, 24 files read (and parsed as PE).
pub fn exercise_volume(vol: &dyn Volume) {
    let _ = vol.label();
    let _ = vol.version();
    let _ = vol.names_equal("W3SVC.DLL", "w3svc.dll");
    for p in LOOKUPS {
        if let Ok(e) = vol.lookup(p) {
            if !e.is_dir {
                let _ = vol.read(&e).map(|d| d.len());
            }
        }
    }
    let Ok(root) = vol.root() else { return };
    let mut stack = vec![(root, 0usize)];
    let mut seen = HashSet::new();
    let (mut dirs, mut files) = (0, 0);
    while let Some((dir, depth)) = stack.pop() {
        if !seen.insert(dir.id) || dirs >= 64 {
            continue;
        }
        dirs += 1;
        let Ok(list) = vol.list(&dir) else { continue };
        for e in list.into_iter().take(512) {
            if e.is_dir {
                if depth < 8 {
                    stack.push((e, depth + 1));
                }
            } else if files < 24 && !e.metadata {
                files += 1;
                if let Ok(data) = vol.read(&e) {
                    let _ = pe::read_version(&data);
                    let _ = pe::read_headers(&data);
                }
            }
        }
    }
}

/// The flat `$I30` parser: `data` = [root length u16][root][bitmap length
/// u8][bitmap][allocation]. True when the index parsed.
pub fn run_index(data: &[u8]) -> bool {
    let mut fix = data.to_vec();
    let _ = apply_fixup(&mut fix);
    if data.len() < 3 {
        return false;
    }
    let root_len = (usize::from(u16::from_le_bytes([data[0], data[1]]))).min(data.len() - 2);
    let root = &data[2..2 + root_len];
    let rest = &data[2 + root_len..];
    let (bitmap, alloc) = match rest.split_first() {
        Some((&n, tail)) => {
            let n = usize::from(n).min(tail.len());
            (Some(&tail[..n]), &tail[n..])
        }
        None => (None, rest),
    };
    let ok = parse_index(root, Some(alloc), bitmap, 10_000).is_ok();
    let _ = parse_index(root, None, None, 10_000);
    let _ = parse_index(data, Some(data), None, 10_000);
    ok
}

/// Our MFT record reader (the census's): `data` = [cluster shift u8][record].
/// True when the record parsed.
pub fn run_mft_record(data: &[u8]) -> bool {
    let Some((&shift, rec)) = data.split_first() else {
        return false;
    };
    let mut rec = rec.to_vec();
    let cluster = 512u64 << (shift % 8);
    parse_mft_record(&mut rec, 1 << 32, cluster).is_ok()
}

/// The NTFS compressed-stream decoder (LZNT1 units over data runs):
/// `data` = [params 4][run count u8][runs 4 each][volume bytes]. True when
/// the stream decoded.
/// `[mode][size u16 LE][input]`: mode bit 0 clear decodes one XPRESS chunk
/// of `size % 65537` bytes; set decodes a whole `WofCompressedData` stream
/// of `size * 8` bytes with the algorithm `mode >> 1 & 3`. Decoded lengths
/// must be what was asked.
pub fn run_xpress(data: &[u8]) -> bool {
    let Some((head, input)) = data.split_first_chunk::<3>() else {
        return false;
    };
    let size = usize::from(u16::from_le_bytes([head[1], head[2]]));
    if head[0] & 1 == 0 {
        let mut out = vec![0u8; size % 65537];
        return xpress_decompress(input, &mut out).is_ok();
    }
    let algo = WofAlgorithm::from_wof(u32::from(head[0] >> 1 & 3)).unwrap();
    match decode_wof(input, size as u64 * 8, algo) {
        Ok(out) => {
            assert_eq!(out.len(), size * 8, "WOF output length");
            true
        }
        Err(_) => false,
    }
}

/// `[size u16 LE][input]`: one LZX chunk of `size % 32769` bytes.
pub fn run_lzx(data: &[u8]) -> bool {
    let Some((head, input)) = data.split_first_chunk::<2>() else {
        return false;
    };
    let mut out = vec![0u8; usize::from(u16::from_le_bytes(*head)) % 32769];
    lzx_decompress(input, &mut out).is_ok()
}

pub fn run_lznt1(data: &[u8]) -> bool {
    if data.len() < 5 {
        return false;
    }
    let cluster = 512u64 << (data[0] % 4);
    let unit = 1u64 << (data[1] % 6); // 1..32 (0 and >16 included on purpose)
    let len = u64::from(u16::from_le_bytes([data[2], data[3]])) * 16;
    let n = usize::from(data[4] % 16);
    let mut runs = Vec::new();
    let mut at = 5;
    for _ in 0..n {
        let Some(r) = data.get(at..at + 4) else { break };
        at += 4;
        let pos = u64::from(u16::from_le_bytes([r[0], r[1]])) * 16;
        let clusters = u64::from(r[2]);
        runs.push(Run {
            position: (r[3] & 1 == 0).then_some(pos),
            clusters,
        });
    }
    let vol = &data[at.min(data.len())..];
    let mut read = |pos: u64, buf: &mut [u8]| -> Result<(), String> {
        let s = usize::try_from(pos)
            .ok()
            .and_then(|p| vol.get(p..p.checked_add(buf.len())?))
            .ok_or("past the end")?;
        buf.copy_from_slice(s);
        Ok(())
    };
    match decode_compressed(&runs, cluster, unit, len, &mut read) {
        Ok(out) => {
            assert_eq!(out.len() as u64, len, "decoder returned the wrong length");
            true
        }
        Err(e) => {
            assert!(!e.is_empty(), "empty error");
            false
        }
    }
}

/// Our LZNT1 decoder against the `lznt1` crate, chunk by chunk: wherever
/// the crate decodes a unit (each chunk within its 4096 bytes), ours gives
/// the same bytes, chunks zero-padded as NTFS reads them.
pub fn run_lznt1_diff(data: &[u8]) -> bool {
    use verskew::fs::fuzzing::lznt1_decode_unit;
    const CHUNK: usize = 4096;
    let unit = 4 * CHUNK;
    let mut ours = vec![0u8; unit];
    let ok = lznt1_decode_unit(data, &mut ours).is_ok();
    let mut reference = vec![0u8; unit];
    let (mut at, mut start) = (0, 0);
    while start < unit && at + 2 <= data.len() {
        let header = u16::from_le_bytes([data[at], data[at + 1]]);
        if header == 0 {
            break;
        }
        let size = usize::from(header & 0x0FFF) + 1;
        let Some(chunk) = data.get(at..at + 2 + size) else {
            return ok;
        };
        let mut one = Vec::new();
        if lznt1::decompress(chunk, &mut one).is_err() || one.len() > CHUNK {
            return ok;
        }
        reference[start..start + one.len()].copy_from_slice(&one);
        at += 2 + size;
        start += CHUNK;
    }
    assert!(ok, "the crate decodes a unit ours refuses");
    assert!(
        ours == reference,
        "decoded bytes differ from the lznt1 crate"
    );
    true
}

/// The drive-letter and boot.ini decoders (`windows::drives`,
/// `windows::bootini`) on hostile bytes: the first byte picks one. A decoder
/// may refuse; it never panics and its output stays bounded.
pub fn run_letters(data: &[u8]) -> bool {
    use verskew::windows::{bootini, drives};
    let Some((&pick, rest)) = data.split_first() else {
        return false;
    };
    match pick % 3 {
        0 => {
            let (parts, notes) = drives::decode_disk_information(rest);
            assert!(parts.len() <= 64 * 256, "{} partitions", parts.len());
            assert!(notes.iter().all(|n| !n.is_empty()));
            !parts.is_empty()
        }
        1 => {
            let name = String::from_utf8_lossy(&rest[..rest.len().min(16)]);
            let _ = drives::mounted_letter(&name);
            !matches!(
                drives::decode_mounted_device(rest),
                drives::MountedTarget::Other(_)
            )
        }
        _ => {
            let lines = bootini::parse_boot_ini(rest);
            assert!(lines.len() <= 64);
            lines.iter().any(|l| l.arc.is_ok())
        }
    }
}

/// A registry hive: open, base block, lookups, control set, bounded walk.
/// True when the hive opened.
pub fn run_hive(data: &[u8]) -> bool {
    let h = match Hive::from_bytes("fuzz", data.to_vec()) {
        Ok(h) => h,
        Err(e) => {
            assert!(!e.to_string().is_empty(), "empty error");
            return false;
        }
    };
    read_hive(&h);
    true
}

/// What `run_hive` asks of an opened hive.
fn read_hive(h: &Hive) {
    let _ = (
        h.is_dirty(),
        h.root_name(),
        h.root_recovered(),
        h.version(),
        h.len(),
    );
    let _ = (h.last_written(), h.embedded_name(), h.header().checksum_ok);
    let _ = h.key("");
    let _ = h.key("Select");
    let _ = resolve_control_set(h);
    let _ = h.key(r"ControlSet001\Services\W3SVC\Parameters");
    let _ = h.subkeys(r"ControlSet001\Services");
    let _ = h.key(r"Microsoft\Windows NT\CurrentVersion\Hotfix");
    // Update records and their file lists, every value hostile.
    for u in verskew::windows::updates::read(h, r"Microsoft\Updates", &mut Vec::new()) {
        let _ = (u.install_time(), u.label());
    }
    let mut n = 0;
    let _ = h.walk("", 16, &mut |k| {
        n += 1;
        for v in &k.values {
            let _ = (v.data.as_str(), v.data.as_u32_lenient(), v.data.type_name());
        }
        if n >= 2000 {
            Walk::Stop
        } else {
            Walk::Descend
        }
    });
}

/// A primary hive and its transaction logs in one input. The first 4 bytes
/// (little-endian) choose: with the top bit clear, the rest is `[hive][log]`,
/// split where the low 31 bits (modulo the rest's length + 1) say (one log:
/// old format, or new format on its own); with it set, the rest is
/// `[u32 split][hive][log 1][log 2]`, the hive split off as before and the
/// two new-format logs at the second split (modulo what is left + 1). True
/// when a log was replayed.
pub fn run_hive_log(data: &[u8]) -> bool {
    let Some((head, rest)) = data.split_first_chunk::<4>() else {
        return false;
    };
    let head = u32::from_le_bytes(*head);
    if head & 0x8000_0000 == 0 {
        let split = head as usize % (rest.len() + 1);
        let (hive, log) = rest.split_at(split);
        return run_hive_log_pair(hive, log);
    }
    let Some((second, rest)) = rest.split_first_chunk::<4>() else {
        return false;
    };
    let split = (head & 0x7FFF_FFFF) as usize % (rest.len() + 1);
    let (hive, logs) = rest.split_at(split);
    let split = u32::from_le_bytes(*second) as usize % (logs.len() + 1);
    let (log1, log2) = logs.split_at(split);
    run_hive_new_logs(hive, &[log1, log2])
}

/// Input for [`run_hive_log`] in its two-log mode: a hive and two logs.
pub fn encode_hive_new_logs(hive: &[u8], log1: &[u8], log2: &[u8]) -> Vec<u8> {
    let mut s = (hive.len() as u32 | 0x8000_0000).to_le_bytes().to_vec();
    s.extend((log1.len() as u32).to_le_bytes());
    s.extend(hive);
    s.extend(log1);
    s.extend(log2);
    s
}

/// Replays new-format `logs` over `hive` in memory, then opens the hive with
/// them as `.LOG1`, `.LOG2`... and reads it as `run_hive` does. A replay
/// applies at least one entry, in sequence, and is never dirty nor larger
/// than the hive and the logs; a log not replayed always comes with a reason.
pub fn run_hive_new_logs(hive: &[u8], logs: &[&[u8]]) -> bool {
    let names: Vec<String> = (1..=logs.len()).map(|i| format!("fuzz.LOG{i}")).collect();
    let given: Vec<(&str, &[u8])> = names
        .iter()
        .map(String::as_str)
        .zip(logs.iter().copied())
        .collect();
    match registry::replay_new_logs(hive, &given) {
        Ok(r) => {
            let most = hive.len() + logs.iter().map(|l| l.len()).sum::<usize>();
            assert!(r.bytes.len() <= most, "replay grew past the hive and logs");
            assert!(
                r.bytes.len() <= registry::MAX_HIVE_SIZE,
                "replay grew past the cap"
            );
            assert!(
                !registry::needs_replay(&r.bytes),
                "a replayed hive is still dirty"
            );
            assert!(r.entries >= 1 && !r.logs.is_empty(), "a replay of nothing");
            assert_eq!(
                r.last.wrapping_sub(r.first) as usize + 1,
                r.entries,
                "entries out of sequence"
            );
        }
        Err(why) => assert!(!why.0.is_empty(), "a refusal without a reason"),
    }
    let logs: Vec<(String, Vec<u8>)> = names
        .into_iter()
        .zip(logs.iter().map(|l| l.to_vec()))
        .collect();
    open_and_read(hive, &logs)
}

/// Replays `log` over `hive` in memory, opens the result and reads it as
/// `run_hive` does. A replayed copy is never dirty and never larger than a
/// hive may be; a log not replayed always comes with a reason.
pub fn run_hive_log_pair(hive: &[u8], log: &[u8]) -> bool {
    let _ = (registry::needs_replay(hive), registry::log_file_type(log));
    if let Ok(copy) = registry::replay_old_log(hive, log) {
        assert!(
            copy.len() <= registry::MAX_HIVE_SIZE,
            "replay grew past the cap"
        );
        assert!(
            !registry::needs_replay(&copy),
            "a replayed hive is still dirty"
        );
    }
    let logs = [("fuzz.LOG".to_string(), log.to_vec())];
    open_and_read(hive, &logs)
}

/// A PE file: version resource and headers. True when a version resource
/// was read.
pub fn run_pe(data: &[u8]) -> bool {
    let _ = pe::read_headers(data);
    match pe::read_version(data) {
        Ok(_) => true,
        Err(e) => {
            assert!(!e.to_string().is_empty(), "empty error");
            false
        }
    }
}

/// The container opener on a file, then reads through it. True when it opened.
pub fn run_image_file(path: &Path) -> bool {
    let img = match image::open(path) {
        Ok(img) => img,
        Err(e) => {
            assert!(!e.to_string().is_empty(), "empty error");
            return false;
        }
    };
    let disk = img.disk.as_ref();
    let size = disk.size();
    let mut buf = vec![0u8; 4096];
    for off in [
        0,
        512,
        4096,
        65_536,
        size / 2,
        size.saturating_sub(4096),
        size.saturating_sub(1),
    ] {
        let _ = disk.read_exact_at(off, &mut buf[..]);
        let _ = disk.read_exact_at(off, &mut buf[..1]);
    }
    let _ = disk.read_exact_at(u64::MAX - 10, &mut buf[..]);
    let _ = volume::find_volumes(disk);
    true
}

/// The built-in knowledge, parsed once.
pub fn knowledge() -> &'static Knowledge {
    static K: OnceLock<Knowledge> = OnceLock::new();
    K.get_or_init(Knowledge::builtin)
}

/// What `diagnose` made of an image, reduced to what the checks need.
#[derive(Debug)]
pub enum Outcome {
    Report { findings: usize, unreadable: usize },
    Error(String),
}

/// The whole pipeline on an image file. Also checks the two promises that do
/// not depend on the input: the image is left byte-identical, and an error
/// says something.
pub fn run_diagnose(path: &Path) -> Outcome {
    let before = std::fs::read(path).ok();
    let out = check_diagnosis(verskew::commands::diagnose::diagnose(path, knowledge()));
    assert!(std::fs::read(path).ok() == before, "the image file changed");
    out
}

/// The whole pipeline on an image held in memory (no scratch file): what
/// the `diagnose` fuzz target runs.
pub fn run_diagnose_bytes(bytes: Vec<u8>) -> Outcome {
    let disk = MemDisk::new(bytes, true);
    check_diagnosis(verskew::commands::diagnose::diagnose_disk(
        &disk,
        "memory",
        verskew::image::Format::Raw,
        knowledge(),
    ))
}

/// Checks what a report must never do, whatever the input.
fn check_diagnosis(
    result: Result<verskew::commands::diagnose::Diagnosis, verskew::commands::CommandError>,
) -> Outcome {
    match result {
        Ok(d) => {
            // A report never hides a loss: every file has a version or says
            // why not, and every index points at something in the report.
            assert!(!d.installs.is_empty(), "Ok without an install");
            for i in &d.installs {
                assert!(
                    i.volume < d.volumes.len(),
                    "install on volume {} of {}",
                    i.volume,
                    d.volumes.len()
                );
                for f in &i.files {
                    assert!(
                        f.version.is_some() != f.error.is_some(),
                        "{}: version {:?}, error {:?}",
                        f.path,
                        f.version.is_some(),
                        f.error
                    );
                }
            }
            for f in &d.findings {
                assert!(
                    f.volume < d.volumes.len(),
                    "finding on volume {} of {}",
                    f.volume,
                    d.volumes.len()
                );
            }
            Outcome::Report {
                findings: d.findings.len(),
                unreadable: d.unreadable.len(),
            }
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.trim().is_empty(), "empty error message");
            Outcome::Error(msg)
        }
    }
}

// ---------------------------------------------------------------------------
// Structure-aware mutation of whole images.

/// Where the interesting structures of an image are.
#[derive(Debug, Default, Clone)]
pub struct Landmarks {
    /// MFT records ("FILE", 1 KiB).
    pub mft: Vec<usize>,
    /// Index blocks ("INDX", 4 KiB).
    pub indx: Vec<usize>,
    /// Hive bins ("hbin") and base blocks ("regf").
    pub hive: Vec<usize>,
    /// "VS_VERSION_INFO" in UTF-16, minus 6 (the start of the structure).
    pub version: Vec<usize>,
    /// NTFS boot sectors.
    pub boot: Vec<usize>,
    /// MBR/EBR partition entries (0x1BE of a sector ending 55AA) and GPT
    /// headers and entry arrays.
    pub table: Vec<usize>,
}

impl Landmarks {
    pub fn find(img: &[u8]) -> Landmarks {
        let mut lm = Landmarks::default();
        let mut at = 0;
        while at + 512 <= img.len() {
            let s = &img[at..at + 512];
            match &s[..4] {
                b"FILE" => lm.mft.push(at),
                b"INDX" => lm.indx.push(at),
                b"hbin" | b"regf" => lm.hive.push(at),
                b"EFI " if &s[..8] == b"EFI PART" => {
                    lm.table.push(at);
                    // Entry array at the LBA the header names (512-byte sectors).
                    let lba = u64::from_le_bytes(s[72..80].try_into().unwrap());
                    if let Some(e) = usize::try_from(lba).ok().and_then(|l| l.checked_mul(512)) {
                        if e < img.len() {
                            lm.table.extend([e, e + 128]);
                        }
                    }
                }
                _ => {}
            }
            if &s[3..11] == b"NTFS    " {
                lm.boot.push(at);
            }
            if s[510..512] == [0x55, 0xAA]
                && s[0x1BE..0x1FE].iter().any(|&b| b != 0)
                && &s[3..11] != b"NTFS    "
            {
                lm.table.push(at + 0x1BE);
            }
            at += 512;
        }
        let key: Vec<u8> = "VS_VERSION_INFO"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        let mut i = 0;
        while i + key.len() <= img.len() {
            if img[i] == b'V' && img[i..i + key.len()] == key[..] {
                lm.version.push(i.saturating_sub(6));
                i += key.len();
            } else {
                i += 1;
            }
        }
        lm
    }

    fn region(&self, r: Region) -> (&[usize], usize) {
        match r {
            Region::Any => (&[], 0),
            Region::Mft => (&self.mft, 1024),
            Region::Indx => (&self.indx, 4096),
            Region::Hive => (&self.hive, 4096),
            Region::Version => (&self.version, 512),
            Region::Boot => (&self.boot, 512),
            Region::Table => (&self.table, 128),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    Any,
    Mft,
    Indx,
    Hive,
    Version,
    Boot,
    Table,
}

const REGIONS: [Region; 7] = [
    Region::Any,
    Region::Mft,
    Region::Indx,
    Region::Hive,
    Region::Version,
    Region::Boot,
    Region::Table,
];

/// Values that break size and count fields.
const ABSURD: [u64; 10] = [
    0,
    1,
    0x7F,
    0xFF,
    0x7FFF,
    0xFFFF,
    0x7FFF_FFFF,
    0x8000_0000,
    0xFFFF_FFFF,
    u64::MAX,
];

/// One mutation. `pick` chooses the structure (modulo how many there are),
/// `off` the byte inside it (modulo its size).
#[derive(Debug, Clone, Copy)]
pub enum Op {
    FlipBit {
        region: Region,
        pick: u32,
        off: u32,
        bit: u8,
    },
    /// An absurd value (size, count, offset) written with `width` bytes at an
    /// offset aligned to it.
    Absurd {
        region: Region,
        pick: u32,
        off: u32,
        width: u8,
        value: u8,
    },
    /// Random bytes.
    Write {
        region: Region,
        pick: u32,
        off: u32,
        bytes: [u8; 4],
    },
    /// Cut the image at this fraction (of 2^32) of its length.
    Truncate { at: u32 },
    /// An index entry that points at the directory that holds it (the entry's
    /// file reference set to the parent reference of its own key).
    SelfIndex { pick: u32, entry: u32 },
}

impl Op {
    /// Decodes one op from fuzzer bytes; `None` when too few are left.
    pub fn decode(b: &[u8]) -> Option<(Op, usize)> {
        let h = *b.first()?;
        let used = if h % 8 == 5 { 8 } else { 5 };
        if b.len() < used {
            return None;
        }
        let region = REGIONS[usize::from(h >> 4) % REGIONS.len()];
        let pick = u32::from(*b.get(1)?);
        let off = u32::from(u16::from_le_bytes([*b.get(2)?, *b.get(3)?]));
        let op = match h % 8 {
            0..=2 => Op::FlipBit {
                region,
                pick,
                off,
                bit: *b.get(4)?,
            },
            3 | 4 => Op::Absurd {
                region,
                pick,
                off,
                width: *b.get(4)?,
                value: *b.get(4)? >> 4,
            },
            5 => Op::Write {
                region,
                pick,
                off,
                bytes: b.get(4..8)?.try_into().ok()?,
            },
            6 => Op::Truncate {
                at: u32::from_le_bytes(b.get(1..5)?.try_into().ok()?),
            },
            _ => Op::SelfIndex { pick, entry: off },
        };
        Some((op, used))
    }

    /// A random op from a generator.
    pub fn random(rng: &mut Lcg) -> Op {
        let region = REGIONS[rng.below(REGIONS.len() as u64) as usize];
        let (pick, off) = (rng.next() as u32, rng.next() as u32);
        match rng.below(16) {
            0..=6 => Op::FlipBit {
                region,
                pick,
                off,
                bit: rng.next() as u8,
            },
            7..=10 => Op::Absurd {
                region,
                pick,
                off,
                width: rng.next() as u8,
                value: rng.next() as u8,
            },
            11..=12 => Op::Write {
                region,
                pick,
                off,
                bytes: (rng.next() as u32).to_le_bytes(),
            },
            13 => Op::Truncate {
                at: rng.next() as u32,
            },
            _ => Op::SelfIndex { pick, entry: off },
        }
    }

    /// A random op, aimed at `region` three times in four.
    pub fn random_in(rng: &mut Lcg, region: Region) -> Op {
        let mut op = Op::random(rng);
        if rng.below(4) != 0 {
            match &mut op {
                Op::FlipBit { region: r, .. }
                | Op::Absurd { region: r, .. }
                | Op::Write { region: r, .. } => *r = region,
                _ => {}
            }
        }
        op
    }

    /// Applies the op; returns false when it found nothing to change.
    pub fn apply(self, img: &mut Vec<u8>, lm: &Landmarks) -> bool {
        if img.is_empty() {
            return false;
        }
        let locate = |region: Region, pick: u32, off: u32, align: usize| -> Option<usize> {
            let at = match lm.region(region) {
                (_, 0) => off as usize * 16 + (pick as usize) * 1_048_576,
                (list, size) if !list.is_empty() => {
                    list[pick as usize % list.len()] + off as usize % size
                }
                _ => return None,
            } % img.len();
            Some(at - at % align.max(1))
        };
        match self {
            Op::FlipBit {
                region,
                pick,
                off,
                bit,
            } => {
                let Some(at) = locate(region, pick, off, 1) else {
                    return false;
                };
                img[at] ^= 1 << (bit % 8);
            }
            Op::Absurd {
                region,
                pick,
                off,
                width,
                value,
            } => {
                let width = [2usize, 4, 8][usize::from(width) % 3];
                let Some(at) = locate(region, pick, off, width) else {
                    return false;
                };
                let v = ABSURD[usize::from(value) % ABSURD.len()].to_le_bytes();
                let end = (at + width).min(img.len());
                img[at..end].copy_from_slice(&v[..end - at]);
            }
            Op::Write {
                region,
                pick,
                off,
                bytes,
            } => {
                let Some(at) = locate(region, pick, off, 1) else {
                    return false;
                };
                let end = (at + 4).min(img.len());
                img[at..end].copy_from_slice(&bytes[..end - at]);
            }
            Op::Truncate { at } => {
                let cut = ((img.len() as u64 * u64::from(at)) >> 32) as usize;
                img.truncate(cut.max(1));
            }
            Op::SelfIndex { pick, entry } => return self_index(img, lm, pick, entry),
        }
        true
    }
}

/// Points one `$I30` entry of an INDX block (or, when the image has none, of
/// an `$INDEX_ROOT` in an MFT record) at its own directory.
fn self_index(img: &mut [u8], lm: &Landmarks, pick: u32, entry: u32) -> bool {
    let le16 = |b: &[u8], at: usize| {
        b.get(at..at + 2)
            .map(|s| u16::from_le_bytes([s[0], s[1]]) as usize)
    };
    let le32 = |b: &[u8], at: usize| {
        b.get(at..at + 4)
            .map(|s| u32::from_le_bytes(s.try_into().unwrap()) as usize)
    };
    // (node header position, end of the structure) candidates.
    let mut nodes = Vec::new();
    for &b in &lm.indx {
        nodes.push((b + 0x18, b + 4096));
    }
    if nodes.is_empty() {
        for &r in &lm.mft {
            let mut a = r + le16(img, r + 0x14).unwrap_or(1024);
            while a + 0x20 < r + 1024 {
                let (Some(ty), Some(len)) = (le32(img, a), le32(img, a + 4)) else {
                    break;
                };
                if ty == 0xFFFF_FFFF || len < 0x18 {
                    break;
                }
                if ty == 0x90 {
                    let value = a + le16(img, a + 0x14).unwrap_or(0);
                    nodes.push((value + 0x10, r + 1024));
                }
                a += len;
            }
        }
    }
    if nodes.is_empty() {
        return false;
    }
    let (header, limit) = nodes[pick as usize % nodes.len()];
    let Some(mut pos) = le32(img, header).map(|f| header + f) else {
        return false;
    };
    let mut entries = Vec::new();
    while pos + 0x18 < limit.min(img.len()) {
        let len = le16(img, pos + 8).unwrap_or(0);
        let flags = le16(img, pos + 12).unwrap_or(2);
        if flags & 2 != 0 || len < 0x18 {
            break;
        }
        entries.push(pos);
        pos += len;
    }
    if entries.is_empty() {
        return false;
    }
    let e = entries[entry as usize % entries.len()];
    if e + 24 > img.len() {
        return false;
    }
    // The key ($FILE_NAME) starts at +16 with the parent directory reference.
    let parent: [u8; 8] = img[e + 16..e + 24].try_into().unwrap();
    img[e..e + 8].copy_from_slice(&parent);
    true
}

/// Applies the ops encoded in fuzzer bytes; at most 32.
pub fn apply_encoded(img: &mut Vec<u8>, lm: &Landmarks, mut ops: &[u8]) {
    for _ in 0..32 {
        let Some((op, used)) = Op::decode(ops) else {
            break;
        };
        op.apply(img, lm);
        ops = &ops[used..];
    }
}

/// A 64-bit linear congruential generator (Knuth's MMIX constants); the top
/// 53 bits are returned (the low bits of an LCG are weak).
#[derive(Debug, Clone)]
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 11
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Opens `hive` with `logs` as the loader does and reads it as `run_hive`
/// does: a hive read dirty says why; true when a log was replayed.
fn open_and_read(hive: &[u8], logs: &[(String, Vec<u8>)]) -> bool {
    match registry::open_with_logs("fuzz", hive.to_vec(), logs) {
        Ok((h, state)) => {
            if let HiveState::Dirty { reason } = &state {
                assert!(!reason.is_empty(), "a dirty hive without a reason");
            }
            read_hive(&h);
            matches!(state, HiveState::Replayed { .. })
        }
        Err(e) => {
            assert!(!e.to_string().is_empty(), "empty error");
            false
        }
    }
}

/// IIS 7+'s `applicationHost.config` and `redirection.config` readers
/// (`windows::iis_config`) on hostile bytes, then the per-bitness path
/// expansion of every image they name: refusals are fine, panics and
/// unbounded lists are not.
pub fn run_iis_config(data: &[u8]) -> bool {
    use verskew::windows::iis_config;
    let _ = iis_config::redirection(data);
    // The same bytes as a schema file and as a site's web.config, judged
    // against IIS's own declarations and against none.
    if let Ok(s) = iis_config::schema_sections(data) {
        assert!(s.len() <= 100_000);
    }
    let host = iis_config::parse(
        br#"<configuration><configSections><sectionGroup name="system.webServer"><section name="defaultDocument" /><sectionGroup name="rewrite"><section name="rules" /></sectionGroup><section name="aspNetCore" /></sectionGroup></configSections></configuration>"#,
    )
    .expect("the harness's own declarations parse");
    for h in [&host, &iis_config::IisConfig::default()] {
        if let Ok(w) = iis_config::parse_web_config(data, h) {
            assert!(w.uses.len() <= 4096 && w.problems.len() <= 64);
            if let Some(a) = &w.aspnetcore {
                let _ = a.in_process();
            }
        }
    }
    let Ok(c) = iis_config::parse(data) else {
        return false;
    };
    assert!(c.global_modules.len() <= 100_000 && c.problems.len() <= 64);
    assert!(c.uses.len() <= 4096);
    for m in &c.global_modules {
        for (bits, os64) in [(32, true), (64, true), (32, false)] {
            let _ = iis_config::expand_image(
                &m.image,
                bits,
                os64,
                r"C:\Windows",
                (r"C:\Program Files", r"C:\Program Files (x86)"),
            );
        }
        for p in &c.app_pools {
            let _ = iis_config::pool_loads(&m.pre_condition, p, true);
        }
    }
    !c.global_modules.is_empty()
}

/// A component store manifest (`WinSxS\Manifests\*.manifest`) and a
/// component folder name from the same bytes: every digest kept within its
/// cap, a `DCM` manifest said to be compressed, never a panic.
pub fn run_store_manifest(data: &[u8]) -> bool {
    use verskew::windows::store;
    let _ = store::parse_folder(&String::from_utf8_lossy(&data[..data.len().min(512)]));
    match store::parse_manifest(data) {
        Ok(Some(files)) => {
            assert!(files.values().all(|(_, d)| d.len() <= 128));
            !files.is_empty()
        }
        _ => false,
    }
}

/// The import, delay-import and export reader (`pe::read_imports`) on
/// hostile bytes: every count within its cap, every forwarder parsed or
/// refused, every lookup answered. True when the tables were read.
pub fn run_pe_imports(data: &[u8]) -> bool {
    let Ok(t) = pe::read_imports(data) else {
        return false;
    };
    let symbols: usize = t
        .imports
        .iter()
        .chain(&t.delay_imports)
        .map(|d| d.symbols.len())
        .sum();
    assert!(symbols <= pe::MAX_THUNKS, "{symbols} symbols");
    assert!(t.imports.len() <= pe::MAX_DESCRIPTORS && t.delay_imports.len() <= pe::MAX_DESCRIPTORS);
    for d in t.imports.iter().chain(&t.delay_imports) {
        assert!(
            d.dll.len() <= pe::MAX_NAME * 3,
            "name of {} bytes",
            d.dll.len()
        );
        if let Some(ex) = &t.exports {
            for s in &d.symbols {
                let _ = ex.find(s);
            }
        }
    }
    if let Some(ex) = &t.exports {
        assert!(ex.by_ordinal.len() <= pe::MAX_EXPORTS && ex.by_name.len() <= pe::MAX_EXPORTS);
        for target in ex.by_ordinal.values() {
            if let pe::ExportTarget::Forward(f) = target {
                let _ = pe::parse_forwarder(f);
            }
        }
    }
    true
}
