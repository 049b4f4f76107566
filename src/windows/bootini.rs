//! `boot.ini` and its ARC paths: which partition and folder each boot menu
//! entry starts Windows from.
//!
//! An ARC path is `multi(A)disk(B)rdisk(C)partition(D)\WINNT`, `scsi(...)`
//! or `signature(8b467c12)...`. Partition numbers are NT's own (KB Q102873,
//! "BOOT.INI and ARC Path Naming Conventions and Usage"): from 1, every
//! used partition-table entry except extended ones (types 0x05, 0x0F),
//! primary partitions first in table order, then logical drives in chain
//! order; `partition(0)` is the whole disk.
//!
//! The file is hostile text: any case, comments after `;`, CR/LF or LF,
//! ANSI or UTF-16; only so many bytes and entries are read.

/// Most bytes of boot.ini read, and most entries kept.
pub const MAX_BOOT_INI: usize = 64 * 1024;
const MAX_ENTRIES: usize = 64;

/// The controller part of an ARC path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Controller {
    /// `multi(n)`: a disk the BIOS (INT 13) reaches.
    Multi(u32),
    /// `scsi(n)`: a SCSI adapter without BIOS, through ntbootdd.sys.
    Scsi(u32),
    /// `signature(x)`: the disk with this MBR signature (Windows 2000 and later).
    Signature(u32),
}

/// A parsed ARC path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArcPath {
    pub controller: Controller,
    pub disk: u32,
    pub rdisk: u32,
    pub partition: u32,
    /// The system root after the partition (`\WINNT`), `\` when none.
    pub path: String,
}

/// Parses `multi(0)disk(0)rdisk(0)partition(2)\WINNT` (any case, spaces
/// around it ignored). `Err` says what is wrong.
pub fn parse_arc(text: &str) -> Result<ArcPath, String> {
    let mut rest = text.trim();
    let mut fields: Vec<(String, &str)> = Vec::new();
    while let Some(open) = rest.find('(') {
        let name = &rest[..open];
        if name.is_empty() || name.contains(['\\', '/']) || !name.is_ascii() {
            break;
        }
        let Some(close) = rest[open..].find(')') else {
            return Err(format!("unclosed '(' after {name}"));
        };
        fields.push((name.to_ascii_lowercase(), &rest[open + 1..open + close]));
        rest = &rest[open + close + 1..];
        if fields.len() > 8 {
            return Err("more than 8 components".into());
        }
    }
    let number = |s: &str, what: &str| -> Result<u32, String> {
        s.trim()
            .parse::<u32>()
            .map_err(|_| format!("{what}({}) is not a number", s.trim()))
    };
    let mut it = fields.iter();
    let controller = match it.next() {
        Some((n, v)) if n == "multi" => Controller::Multi(number(v, n)?),
        Some((n, v)) if n == "scsi" => Controller::Scsi(number(v, n)?),
        Some((n, v)) if n == "signature" => Controller::Signature(
            u32::from_str_radix(v.trim().trim_start_matches("0x"), 16)
                .map_err(|_| format!("signature({}) is not a hex number", v.trim()))?,
        ),
        Some((n, _)) => {
            return Err(format!(
                "{n}() is not a disk controller (multi, scsi, signature)"
            ))
        }
        None => return Err("not an ARC path".into()),
    };
    let mut want = |name: &str| -> Result<u32, String> {
        match it.next() {
            Some((n, v)) if n == name => number(v, name),
            Some((n, _)) => Err(format!("{n}() where {name}() was expected")),
            None => Err(format!("{name}() is missing")),
        }
    };
    let disk = want("disk")?;
    let rdisk = want("rdisk")?;
    let partition = want("partition")?;
    if let Some((n, _)) = it.next() {
        return Err(format!("unexpected {n}() after partition()"));
    }
    let path = rest.trim();
    let path = match path {
        "" => "\\".to_string(),
        p if p.starts_with('\\') => p.to_string(),
        p => {
            return Err(format!(
                "the path after partition() does not start with '\\': {p}"
            ))
        }
    };
    Ok(ArcPath {
        controller,
        disk,
        rdisk,
        partition,
        path,
    })
}

/// One line of `[operating systems]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootLine {
    /// 1-based line number in the file.
    pub line: usize,
    /// The ARC path as written.
    pub arc_text: String,
    pub arc: Result<ArcPath, String>,
    /// The menu text between quotes.
    pub description: String,
    /// Whether `[boot loader] default=` names this path.
    pub default: bool,
}

/// Decodes boot.ini bytes: UTF-16LE with a byte-order mark or with every
/// other byte zero, else one byte per character (the OEM/ANSI text NT
/// writes, read as Latin-1 so no byte is lost).
pub fn decode_text(bytes: &[u8]) -> String {
    let bytes = &bytes[..bytes.len().min(MAX_BOOT_INI)];
    let utf16 = bytes.starts_with(&[0xFF, 0xFE])
        || (bytes.len() >= 4 && bytes[1] == 0 && bytes[3] == 0 && bytes[0] != 0);
    if utf16 {
        let body = bytes.strip_prefix(&[0xFF, 0xFE]).unwrap_or(bytes);
        let units: Vec<u16> = body
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    bytes.iter().map(|&b| b as char).collect()
}

/// The `[operating systems]` entries whose key is an ARC path (lines such
/// as `C:\="MS-DOS"` start another loader and are skipped), at most
/// `MAX_ENTRIES`.
pub fn parse_boot_ini(bytes: &[u8]) -> Vec<BootLine> {
    let text = decode_text(bytes);
    let mut section = String::new();
    let mut default = None;
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim().trim_matches('\0');
        if line.is_empty() || line.starts_with(';') {
            continue;
        }
        if line.starts_with('[') {
            section = line
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            continue;
        }
        let (key, value) = line.split_once('=').unwrap_or((line, ""));
        let key = key.trim();
        if section == "boot loader" && key.eq_ignore_ascii_case("default") {
            default = Some(value.trim().to_ascii_lowercase());
            continue;
        }
        if section != "operating systems" || !key.contains('(') {
            continue;
        }
        if out.len() >= MAX_ENTRIES {
            break;
        }
        let value = value.trim();
        let description = match value.strip_prefix('"') {
            Some(v) => v.split('"').next().unwrap_or(v),
            None => value.split(" /").next().unwrap_or(value),
        };
        out.push(BootLine {
            line: i + 1,
            arc_text: key.to_string(),
            arc: parse_arc(key),
            description: description.trim().to_string(),
            default: false,
        });
    }
    if let Some(d) = default {
        for e in &mut out {
            e.default = e.arc_text.to_ascii_lowercase() == d;
        }
    }
    out
}

/// NT's partition number (as in `partition(N)`) of each partition, given
/// the indices `volume::Partition` gives them (MBR primaries 1–4 by slot,
/// logical drives from 5 in chain order, extended entries not listed; GPT by
/// entry). Returns `(index, nt_number)`: the used entries counted from 1 in
/// that order.
pub fn nt_partition_numbers(indices: &[u32]) -> Vec<(u32, u32)> {
    let mut sorted: Vec<u32> = indices.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    sorted.into_iter().zip(1u32..).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_arc_paths() {
        let a = parse_arc("multi(0)disk(0)rdisk(0)partition(2)\\WINNT").unwrap();
        assert_eq!(a.controller, Controller::Multi(0));
        assert_eq!((a.disk, a.rdisk, a.partition), (0, 0, 2));
        assert_eq!(a.path, "\\WINNT");
        let a = parse_arc(" MULTI(0)DISK(0)RDISK(1)PARTITION(1)\\WINNT40 ").unwrap();
        assert_eq!((a.rdisk, a.partition, a.path.as_str()), (1, 1, "\\WINNT40"));
        let a = parse_arc("scsi(1)disk(3)rdisk(0)partition(4)\\WINNT").unwrap();
        assert_eq!(a.controller, Controller::Scsi(1));
        assert_eq!(a.disk, 3);
        let a = parse_arc("signature(8b467c12)disk(1)rdisk(0)partition(2)\\winnt").unwrap();
        assert_eq!(a.controller, Controller::Signature(0x8b46_7c12));
        assert_eq!(
            parse_arc("multi(0)disk(0)rdisk(0)partition(1)")
                .unwrap()
                .path,
            "\\"
        );
        for bad in [
            "",
            "C:\\",
            "multi(0)disk(0)rdisk(0)",
            "multi(x)disk(0)rdisk(0)partition(1)\\WINNT",
            "multi(0)disk(0)rdisk(0)partition(99999999999)\\WINNT",
            "multi(0disk(0)rdisk(0)partition(1)",
            "multi(0)rdisk(0)disk(0)partition(1)\\WINNT",
            "net(0)disk(0)rdisk(0)partition(1)\\WINNT",
            "signature(zz)disk(0)rdisk(0)partition(1)\\WINNT",
            "multi(0)disk(0)rdisk(0)partition(1)partition(2)\\WINNT",
            "multi(0)disk(0)rdisk(0)partition(1)WINNT",
            "a(1)a(1)a(1)a(1)a(1)a(1)a(1)a(1)a(1)a(1)",
            "é(0)disk(0)rdisk(0)partition(1)\\WINNT",
        ] {
            assert!(parse_arc(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reads_boot_ini_as_written() {
        let ini = b"[Boot Loader]\r\nTimeout=30\r\nDefault=MULTI(0)disk(0)rdisk(0)partition(2)\\WINNT\r\n\
; a comment\r\n[Operating Systems]\r\nmulti(0)disk(0)rdisk(0)partition(2)\\WINNT=\"Windows NT Server Version 4.00\"\r\n\
multi(0)disk(0)rdisk(0)partition(2)\\WINNT=\"Windows NT Server Version 4.00 [VGA mode]\" /basevideo /sos\r\n\
C:\\=\"MS-DOS\"\r\n";
        let e = parse_boot_ini(ini);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].line, 6);
        assert_eq!(e[1].line, 7);
        assert_eq!(e[0].description, "Windows NT Server Version 4.00");
        assert!(e[0].default && e[1].default);
        assert_eq!(e[0].arc.as_ref().unwrap().partition, 2);
        // UTF-16 with a byte-order mark, LF only.
        let text = "[operating systems]\nscsi(0)disk(1)rdisk(0)partition(1)\\WINNT=\"NT\"\n";
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let e = parse_boot_ini(&utf16);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].line, 2);
        assert_eq!(e[0].arc.as_ref().unwrap().controller, Controller::Scsi(0));
        // Garbage: no panic, bounded output.
        let junk: Vec<u8> = (0..200_000u32).map(|i| (i * 7919 % 251) as u8).collect();
        assert!(parse_boot_ini(&junk).len() <= MAX_ENTRIES);
        let many = "[operating systems]\n".to_string()
            + &"multi(0)disk(0)rdisk(0)partition(1)\\W=\"x\"\n".repeat(500);
        assert_eq!(parse_boot_ini(many.as_bytes()).len(), MAX_ENTRIES);
    }

    #[test]
    fn numbers_partitions_as_nt_does() {
        // Slots 1 and 3 used, two logical drives: 1, 2, then 3, 4.
        assert_eq!(
            nt_partition_numbers(&[5, 1, 6, 3]),
            [(1, 1), (3, 2), (5, 3), (6, 4)]
        );
    }
}
