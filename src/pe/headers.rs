//! DOS and NT headers: a cheap, copy-free, alignment-free read of the fields a
//! census of PE files needs (machine, bitness, timestamp, DLL or EXE, ...).
//!
//! Also the first gate of [`read_version`](super::read_version): it turns "not a
//! PE file" into a message naming what the file is instead (NE, LE/LX, DOS).

use super::PeError;
use crate::le::{u16_at, u32_at};

/// `IMAGE_FILE_HEADER.Characteristics` bit: the image is a DLL.
pub const IMAGE_FILE_DLL: u16 = 0x2000;
/// `IMAGE_FILE_HEADER.Characteristics` bit: the image is executable.
pub const IMAGE_FILE_EXECUTABLE_IMAGE: u16 = 0x0002;
/// `IMAGE_FILE_HEADER.Characteristics` bit: a system file (driver).
pub const IMAGE_FILE_SYSTEM: u16 = 0x1000;

const PE32_MAGIC: u16 = 0x10b;
const PE32PLUS_MAGIC: u16 = 0x20b;

/// The header fields of a PE image, read without copying.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct PeHeaders {
    /// File offset of the `PE\0\0` signature (`e_lfanew`).
    pub nt_offset: u32,
    /// `FileHeader.Machine` (0x14c x86, 0x8664 x64, 0x166 MIPS R4000,
    /// 0x184 Alpha, 0x1f0 PowerPC, ...; see [`PeHeaders::machine_name`]).
    pub machine: u16,
    /// Optional header magic 0x20b (PE32+, 64-bit) rather than 0x10b (PE32).
    pub is_pe32_plus: bool,
    /// `FileHeader.TimeDateStamp`: seconds since 1970 for classic linkers, a
    /// hash for reproducible builds (Windows 10+), 0 for some tools.
    pub timestamp: u32,
    /// `FileHeader.Characteristics` (see [`IMAGE_FILE_DLL`]).
    pub characteristics: u16,
    pub number_of_sections: u16,
    /// `OptionalHeader.Subsystem` (1 native/driver, 2 GUI, 3 console, 9 CE GUI, ...).
    pub subsystem: u16,
    /// `Major/MinorLinkerVersion`.
    pub linker_version: [u8; 2],
    /// `Major/MinorOperatingSystemVersion`.
    pub os_version: [u16; 2],
    /// `Major/MinorImageVersion` (linker `/VERSION`, rarely meaningful).
    pub image_version: [u16; 2],
    /// `Major/MinorSubsystemVersion` (the minimum Windows version to load it).
    pub subsystem_version: [u16; 2],
    pub size_of_image: u32,
    pub checksum: u32,
}

impl PeHeaders {
    /// `Characteristics` has `IMAGE_FILE_DLL`.
    pub fn is_dll(&self) -> bool {
        self.characteristics & IMAGE_FILE_DLL != 0
    }

    /// A short name of the machine type, or `None` for one we do not know.
    pub fn machine_name(&self) -> Option<&'static str> {
        machine_name(self.machine)
    }
}

/// Where the parts of the NT headers sit, from `e_lfanew` and the file
/// header alone: the one place that knows the offsets. Nothing is validated;
/// fields past the end of the bytes read as 0 (or `None`).
pub(crate) struct Layout {
    /// File offset of the `PE\0\0` signature.
    pub nt: usize,
    /// `SizeOfOptionalHeader`.
    pub optional_size: usize,
    /// `NumberOfSections`, as stored (not capped).
    pub sections: usize,
}

impl Layout {
    pub fn new(bytes: &[u8], nt_offset: u32) -> Layout {
        let nt = nt_offset as usize;
        Layout {
            nt,
            optional_size: u16_at(bytes, nt + 20).unwrap_or(0) as usize,
            sections: u16_at(bytes, nt + 6).unwrap_or(0) as usize,
        }
    }

    pub fn file_header(&self) -> usize {
        self.nt + 4
    }

    pub fn optional_header(&self) -> usize {
        self.nt + 24
    }

    /// Offset of the section table.
    pub fn section_table(&self) -> usize {
        self.optional_header() + self.optional_size
    }

    /// End of the section table, at most `max` entries counted.
    pub fn section_table_end(&self, max: usize) -> usize {
        self.section_table() + 40 * self.sections.min(max)
    }

    /// `SizeOfHeaders`.
    pub fn size_of_headers(&self, bytes: &[u8]) -> Option<u32> {
        u32_at(bytes, self.optional_header() + 60)
    }

    /// RVA of data directory entry `index` (2: resources); the directory's
    /// place depends on PE32 vs PE32+.
    pub fn directory_rva(&self, bytes: &[u8], pe32_plus: bool, index: usize) -> Option<u32> {
        let dd = self.optional_header() + if pe32_plus { 112 } else { 96 };
        u32_at(bytes, dd + 8 * index)
    }
}

/// Names of `IMAGE_FILE_MACHINE_*` values (PE/COFF specification).
pub fn machine_name(machine: u16) -> Option<&'static str> {
    Some(match machine {
        0x014c => "x86",
        0x8664 => "x64",
        0x0162 => "MIPS R3000",
        0x0166 => "MIPS R4000",
        0x0168 => "MIPS R10000",
        0x0169 => "MIPS WCE v2",
        0x0184 => "Alpha",
        0x0284 => "Alpha64",
        0x01f0 => "PowerPC",
        0x01f1 => "PowerPC FP",
        0x0200 => "IA-64",
        0x01c0 => "ARM",
        0x01c2 => "Thumb",
        0x01c4 => "ARMv7 (Thumb-2)",
        0xaa64 => "ARM64",
        0xa641 => "ARM64EC",
        0x01a2 => "SH3",
        0x01a6 => "SH4",
        _ => return None,
    })
}

/// Reads the DOS, file and optional headers. Needs no alignment and copies
/// nothing; checks only what it reads.
pub fn read_headers(bytes: &[u8]) -> Result<PeHeaders, PeError> {
    let len = bytes.len();
    if len < 0x40 {
        return Err(PeError::NotPe(format!(
            "{len} bytes is too short for a DOS header (64 bytes)"
        )));
    }
    if &bytes[..2] != b"MZ" {
        return Err(PeError::NotPe(format!(
            "no MZ signature at offset 0x0 (found {:02x} {:02x})",
            bytes[0], bytes[1]
        )));
    }
    let nt = u32_at(bytes, 0x3c).unwrap_or(0);
    let nt_us = nt as usize;
    let sig = match bytes.get(nt_us..nt_us.saturating_add(4)) {
        Some(s) => s,
        None => {
            return Err(PeError::NotPe(format!(
                "MS-DOS executable: e_lfanew 0x{nt:x} (at offset 0x3c) points past the end of the {len}-byte file"
            )))
        }
    };
    if sig != b"PE\0\0" {
        let what = match &sig[..2] {
            b"NE" => "16-bit NE executable (Windows 3.x or OS/2 1.x)",
            b"LE" => "LE executable (VxD or DOS extender)",
            b"LX" => "LX executable (OS/2 2.x)",
            _ => "MS-DOS executable without a PE header",
        };
        return Err(PeError::NotPe(format!(
            "{what}: signature {:?} at offset 0x{nt:x}, expected \"PE\\0\\0\"",
            String::from_utf8_lossy(&sig[..2])
        )));
    }
    let layout = Layout::new(bytes, nt);
    let (fh, oh) = (layout.file_header(), layout.optional_header());
    // Magic and the fields up to Subsystem (offset 68, same for PE32 and PE32+).
    let need = oh + 72;
    if need > len {
        return Err(PeError::BadPe(format!(
            "headers truncated: the optional header at offset 0x{oh:x} needs bytes up to 0x{need:x}, file has {len}"
        )));
    }
    // All reads below are in bounds (checked just above).
    let r16 = |o: usize| u16_at(bytes, o).unwrap_or(0);
    let r32 = |o: usize| u32_at(bytes, o).unwrap_or(0);
    let magic = r16(oh);
    let is_pe32_plus = match magic {
        PE32_MAGIC => false,
        PE32PLUS_MAGIC => true,
        m => {
            return Err(PeError::BadPe(format!(
                "optional header magic 0x{m:x} at offset 0x{oh:x} is neither PE32 (0x10b) nor PE32+ (0x20b)"
            )))
        }
    };
    Ok(PeHeaders {
        nt_offset: nt,
        machine: r16(fh),
        number_of_sections: r16(fh + 2),
        timestamp: r32(fh + 4),
        characteristics: r16(fh + 18),
        is_pe32_plus,
        linker_version: [bytes[oh + 2], bytes[oh + 3]],
        os_version: [r16(oh + 40), r16(oh + 42)],
        image_version: [r16(oh + 44), r16(oh + 46)],
        subsystem_version: [r16(oh + 48), r16(oh + 50)],
        size_of_image: r32(oh + 56),
        checksum: r32(oh + 64),
        subsystem: r16(oh + 68),
    })
}

/// Says which header rule a file breaks that pelite refuses (it only says
/// "Bounds" or "Insanity"): for error messages, after `read_headers` passed.
pub(crate) fn explain_headers(bytes: &[u8], h: &PeHeaders) -> Option<String> {
    let len = bytes.len();
    let nt = h.nt_offset as usize;
    let nt_len = if h.is_pe32_plus { 264 } else { 248 };
    if nt + nt_len > len {
        return Some(format!(
            "NT headers at offset 0x{nt:x} need 0x{nt_len:x} bytes, the file has {len}"
        ));
    }
    if h.number_of_sections > 96 {
        return Some(format!(
            "NumberOfSections {} at offset 0x{:x} is above 96 (pelite's limit)",
            h.number_of_sections,
            nt + 6
        ));
    }
    let layout = Layout::new(bytes, h.nt_offset);
    let soh = layout.optional_size;
    let sec_end = layout.section_table_end(usize::MAX);
    if sec_end > len {
        return Some(format!(
            "section table (SizeOfOptionalHeader 0x{soh:x}, {} sections) ends at 0x{sec_end:x}, past the end of the {len}-byte file",
            h.number_of_sections
        ));
    }
    let soh_hdrs = layout.size_of_headers(bytes).unwrap_or(0);
    if soh_hdrs as usize > len {
        return Some(format!(
            "SizeOfHeaders 0x{soh_hdrs:x} at offset 0x{:x} is larger than the {len}-byte file",
            nt + 84
        ));
    }
    if soh_hdrs > h.size_of_image {
        return Some(format!(
            "SizeOfHeaders 0x{soh_hdrs:x} is larger than SizeOfImage 0x{:x} (offset 0x{:x})",
            h.size_of_image,
            nt + 80
        ));
    }
    None
}

/// Where an RVA lands, for error messages: the section holding it and its
/// raw data in the file.
pub(crate) fn explain_rva(bytes: &[u8], h: &PeHeaders, rva: u32) -> String {
    let layout = Layout::new(bytes, h.nt_offset);
    let Some(sec) = section_of_rva(bytes, layout.section_table(), layout.sections, rva) else {
        return format!("RVA 0x{rva:x} is in no section");
    };
    let (s, va, raw_size, raw_ptr) = (sec.entry, sec.va, sec.raw_size, sec.raw_ptr);
    let name = bytes.get(s..s + 8).map(|n| {
        String::from_utf8_lossy(n)
            .trim_end_matches('\0')
            .to_string()
    });
    let end = raw_ptr as u64 + raw_size as u64;
    let problem = if end > bytes.len() as u64 {
        format!(", which runs past the end of the {}-byte file", bytes.len())
    } else if rva - va >= raw_size {
        ", and the RVA is in its zero-filled tail (not on disk)".to_string()
    } else {
        String::new()
    };
    format!(
        "RVA 0x{rva:x} is in section {:?} (raw data at file offset 0x{raw_ptr:x}, 0x{raw_size:x} bytes{problem})",
        name.unwrap_or_default()
    )
}

/// A section-table entry: where it sits in the file and the fields that
/// place its data.
pub(crate) struct Section {
    /// File offset of the 40-byte entry.
    pub entry: usize,
    pub va: u32,
    pub raw_size: u32,
    pub raw_ptr: u32,
}

/// The first of `count` section-table entries (the table at file offset
/// `table`) whose virtual range, `max(VirtualSize, SizeOfRawData)` long,
/// holds `rva`; the search stops at the first entry past the end of `bytes`.
pub(crate) fn section_of_rva(
    bytes: &[u8],
    table: usize,
    count: usize,
    rva: u32,
) -> Option<Section> {
    for i in 0..count {
        let s = table + 40 * i;
        let (Some(vsize), Some(va), Some(raw_size), Some(raw_ptr)) = (
            u32_at(bytes, s + 8),
            u32_at(bytes, s + 12),
            u32_at(bytes, s + 16),
            u32_at(bytes, s + 20),
        ) else {
            return None;
        };
        if va <= rva && rva - va < vsize.max(raw_size) {
            return Some(Section {
                entry: s,
                va,
                raw_size,
                raw_ptr,
            });
        }
    }
    None
}
