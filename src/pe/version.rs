//! Version resources of PE files: find the RT_VERSION resource (any ID, any
//! language) and read VS_FIXEDFILEINFO and the string table from it.
//!
//! pelite maps the file (PE32 or PE32+, any Machine) and walks the resource
//! directory; VS_VERSIONINFO itself is parsed by our own strict parser
//! ([`super::vs_version`]).

use std::collections::BTreeMap;
use std::fmt;

use pelite::resources::{DataEntry, Directory, Name};

use super::headers::{explain_headers, explain_rva, read_headers, Layout, PeHeaders};
use super::vs_version;
use super::PeError;

/// A four-part file or product version from VS_FIXEDFILEINFO, compared as numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Version(pub [u16; 4]);

impl Version {
    pub const fn new(a: u16, b: u16, c: u16, d: u16) -> Version {
        Version([a, b, c, d])
    }

    /// From the two DWORDs of VS_FIXEDFILEINFO (`dwFileVersionMS`, `dwFileVersionLS`).
    pub const fn from_ms_ls(ms: u32, ls: u32) -> Version {
        Version([(ms >> 16) as u16, ms as u16, (ls >> 16) as u16, ls as u16])
    }

    /// Parses the version at the start of a display string, as found in
    /// string tables and knowledge files: `"4.02.0622"` → 4.2.622.0,
    /// `"6.1.7601.17514 (win7sp1_rtm.101119-1850)"` → 6.1.7601.17514,
    /// `"5, 0, 2195, 1"` → 5.0.2195.1, `"7.3.4 SHA: b59f05d"` → 7.3.4.0.
    ///
    /// One to four decimal parts separated by `.` or `,` (spaces allowed
    /// around a comma), missing parts are 0. What follows must not continue
    /// the number: a space, `(`, `+`, `-`, `/`, `_` or the end. `None` when a
    /// part exceeds 65535, a part is empty, there are more than four parts, or
    /// the string does not start with a digit (after leading whitespace).
    pub fn parse(s: &str) -> Option<Version> {
        let b = s.trim_start().as_bytes();
        let mut parts = [0u16; 4];
        let mut n = 0; // parts completed
        let mut i = 0;
        loop {
            let start = i;
            let mut v: u32 = 0;
            while i < b.len() && b[i].is_ascii_digit() {
                v = v * 10 + (b[i] - b'0') as u32;
                if v > u16::MAX as u32 {
                    return None;
                }
                i += 1;
            }
            if i == start || n == 4 {
                return None;
            }
            parts[n] = v as u16;
            n += 1;
            // Separator?
            let mut j = i;
            let comma = b.get(j).is_some_and(|c| *c == b',')
                || (b.get(j) == Some(&b' ') && b[j..].iter().find(|c| **c != b' ') == Some(&b','));
            if comma {
                while b.get(j) == Some(&b' ') {
                    j += 1;
                }
                j += 1; // the comma
                while b.get(j) == Some(&b' ') {
                    j += 1;
                }
            } else if b.get(j) == Some(&b'.') {
                j += 1;
            } else {
                return match b.get(i) {
                    None | Some(b' ' | b'(' | b'+' | b'-' | b'/' | b'_' | b'\t') => {
                        Some(Version(parts))
                    }
                    Some(_) => None,
                };
            }
            if n == 4 || !b.get(j).is_some_and(u8::is_ascii_digit) {
                // "1.2.3.4.5", "1.2." or "1,x": a separator not followed by a part
                return None;
            }
            i = j;
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.0;
        write!(f, "{a}.{b}.{c}.{d}")
    }
}

impl std::str::FromStr for Version {
    type Err = String;
    fn from_str(s: &str) -> Result<Version, String> {
        Version::parse(s).ok_or_else(|| format!("{s:?} is not a version (expected a.b.c.d)"))
    }
}

impl serde::Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Version {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Version, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A language id and code page, as in a string table's key `"040904B0"` or
/// a `Translation` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize)]
pub struct LangCodePage {
    pub lang: u16,
    pub code_page: u16,
}

impl fmt::Display for LangCodePage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X}{:04X}", self.lang, self.code_page)
    }
}

/// Which RT_VERSION resource was read.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ResourceLocation {
    /// `"#1"` for a numeric ID (almost always 1), else the name.
    pub name: String,
    /// The resource's language id (0 = neutral, 0x409 = en-US).
    pub lang: u16,
    /// File offset of the VS_VERSIONINFO data.
    pub file_offset: u64,
    /// Its size according to the resource directory.
    pub size: u32,
}

/// What a version resource says.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct VersionInfo {
    /// VS_FIXEDFILEINFO `dwFileVersionMS/LS`; `None` when the resource has no
    /// fixed part (`wValueLength` 0).
    pub file_version: Option<Version>,
    pub product_version: Option<Version>,
    /// String-table values (FileVersion, ProductVersion, CompanyName, ...),
    /// cut at the first NUL. From the table named by the first Translation
    /// entry, else the first table.
    pub strings: BTreeMap<String, String>,
    /// Language and code page of the string table chosen (from its key).
    pub string_table: Option<LangCodePage>,
    /// The first \VarFileInfo\Translation entry, if any.
    pub translation: Option<LangCodePage>,
    /// VS_FIXEDFILEINFO `dwFileFlags & dwFileFlagsMask` (VS_FF_DEBUG 1,
    /// PRERELEASE 2, PATCHED 4, PRIVATEBUILD 8, INFOINFERRED 0x10, SPECIALBUILD 0x20).
    pub file_flags: u32,
    /// `dwFileOS` (0x40004 VOS_NT_WINDOWS32), `dwFileType` (1 APP, 2 DLL,
    /// 3 DRV, ...), `dwFileSubtype`; 0 without a fixed part.
    pub file_os: u32,
    pub file_type: u32,
    pub file_subtype: u32,
    /// Where the resource was found.
    pub resource: ResourceLocation,
}

/// RT_VERSION, the resource type id of version resources.
const RT_VERSION: u32 = 16;
/// At most this many IDs × languages are tried when the best one is broken.
const MAX_CANDIDATES: usize = 16;

/// Reads the version resource of a PE file held in memory.
///
/// Accepts PE32 and PE32+ of any machine, the resource under any ID and
/// language (preferring ID 1, then the lowest ID, then names; and language
/// neutral, then en-US, then the lowest), and bytes at any alignment (a
/// misaligned slice is copied once). Never panics on hostile input: errors say
/// what was wrong and at which file offset; the caller adds the path.
pub fn read_version(bytes: &[u8]) -> Result<VersionInfo, PeError> {
    // Our own header check first: it names NE/LE/DOS files and needs no alignment.
    let h = read_headers(bytes)?;
    let nt = h.nt_offset as usize;
    // pelite reads its structures through references: they must be aligned or
    // it is undefined behaviour (debug builds abort, which no catch_unwind
    // stops). Refuse the layouts it cannot read soundly, and place the bytes
    // so that the base is 4-aligned and the NT headers (u64 fields in PE32+)
    // 8-aligned; the section table and resource directory then follow.
    if nt % 4 != 0 {
        return Err(PeError::BadPe(format!(
            "e_lfanew 0x{nt:x} (at offset 0x3c) is not a multiple of 4 (NT headers misaligned; unsupported)"
        )));
    }
    let soh = Layout::new(bytes, h.nt_offset).optional_size;
    if soh % 4 != 0 {
        return Err(PeError::BadPe(format!(
            "SizeOfOptionalHeader 0x{soh:x} at offset 0x{:x} is not a multiple of 4 (misaligned section table)",
            nt + 20
        )));
    }
    let placed_well = |addr: usize| addr % 4 == 0 && (!h.is_pe32_plus || (addr + nt) % 8 == 0);
    // A panic in a dependency must cost one file, not the run (ARCHITECTURE.md).
    crate::panic::contain_payload(|| {
        if placed_well(bytes.as_ptr() as usize) {
            read_aligned(bytes, &h)
        } else {
            // Copy once into an over-allocated buffer, starting where the
            // placement is right (exists: nt % 4 == 0). No unsafe needed.
            let mut buf = vec![0u8; bytes.len() + 8];
            let base = buf.as_ptr() as usize;
            let off = (0..8)
                .find(|o| placed_well(base + o))
                .ok_or_else(|| PeError::BadPe("cannot align a copy of the file".into()))?;
            buf[off..off + bytes.len()].copy_from_slice(bytes);
            read_aligned(&buf[off..off + bytes.len()], &h)
        }
    })
    .unwrap_or_else(|_| Err(PeError::BadPe("the PE parser panicked on this file".into())))
}

fn pelite_err(e: pelite::Error, what: &str, at: Option<usize>) -> PeError {
    let at = at
        .map(|o| format!(" at file offset 0x{o:x}"))
        .unwrap_or_default();
    let why = match e {
        pelite::Error::Bounds => "out of bounds",
        pelite::Error::Misaligned => "misaligned",
        pelite::Error::Insanity => {
            "implausible values (more than 96 sections, huge e_lfanew, SizeOfHeaders > SizeOfImage)"
        }
        pelite::Error::ZeroFill => "in a section's zero-filled part (not on disk)",
        pelite::Error::Overflow => "offset overflow",
        pelite::Error::BadMagic => "bad signature",
        other => return PeError::BadPe(format!("{what}{at}: {other}")),
    };
    PeError::BadPe(format!("{what}{at}: {why}"))
}

fn offset_in(image: &[u8], part: &[u8]) -> usize {
    (part.as_ptr() as usize).wrapping_sub(image.as_ptr() as usize)
}

fn read_aligned(bytes: &[u8], h: &PeHeaders) -> Result<VersionInfo, PeError> {
    // Pick the parser from the magic we already read: pelite's own PeFile
    // tries PE32+ first, which would reference a PE32 header as PE32+.
    let pe = if h.is_pe32_plus {
        pelite::pe64::PeFile::from_bytes(bytes).map(pelite::Wrap::T64)
    } else {
        pelite::pe32::PeFile::from_bytes(bytes).map(pelite::Wrap::T32)
    }
    .map_err(|e| match explain_headers(bytes, h) {
        Some(why) => PeError::BadPe(why),
        None => pelite_err(e, "PE headers", None),
    })?;

    let dir = match pe
        .data_directory()
        .get(pelite::image::IMAGE_DIRECTORY_ENTRY_RESOURCE)
    {
        Some(d) if d.VirtualAddress != 0 && d.Size != 0 => d,
        _ => return Err(PeError::NoVersion),
    };
    let rsrc = pe.slice_bytes(dir.VirtualAddress).map_err(|e| {
        let rva = explain_rva(bytes, h, dir.VirtualAddress);
        pelite_err(e, &format!("resource directory: {rva}"), None)
    })?;
    let rsrc_off = offset_in(bytes, rsrc);
    // pelite reads directory structs through references, checking only offsets
    // relative to the section: insist that the section itself is 4-aligned.
    if rsrc.as_ptr().align_offset(4) != 0 {
        return Err(PeError::BadPe(format!(
            "resource directory at file offset 0x{rsrc_off:x} is not 4-byte aligned"
        )));
    }
    let res = pe
        .resources()
        .map_err(|e| pelite_err(e, "resource directory", Some(rsrc_off)))?;
    let root = res
        .root()
        .map_err(|e| pelite_err(e, "resource directory", Some(rsrc_off)))?;

    let mut versions: Vec<Directory> = Vec::new();
    for e in root.entries() {
        if matches!(e.name(), Ok(Name::Id(RT_VERSION))) {
            match e.entry() {
                Ok(pelite::resources::Entry::Directory(d)) => versions.push(d),
                Ok(_) => {}
                Err(err) => return Err(pelite_err(err, "RT_VERSION directory", Some(rsrc_off))),
            }
        }
    }
    if versions.is_empty() {
        return Err(PeError::NoVersion);
    }

    // Candidates in preference order: (name rank, lang rank, name, lang, data).
    let mut names: Vec<(u64, String, Directory)> = Vec::new();
    for v in &versions {
        for e in v.entries() {
            let (rank, name) = match e.name() {
                Ok(Name::Id(1)) => (0, "#1".to_string()),
                Ok(Name::Id(id)) => (1 + id as u64, format!("#{id}")),
                Ok(Name::Wide(w)) => (u64::MAX, String::from_utf16_lossy(w)),
                Ok(Name::Str(s)) => (u64::MAX, s.to_string()),
                Err(_) => continue,
            };
            if let Ok(pelite::resources::Entry::Directory(d)) = e.entry() {
                names.push((rank, name, d));
            }
        }
    }
    names.sort_by_key(|n| n.0);
    names.truncate(MAX_CANDIDATES);

    let mut first_err = None;
    let mut tried = 0;
    for (_, name, langs) in &names {
        let mut cands: Vec<(u32, u16, DataEntry)> = Vec::new();
        for e in langs.entries() {
            let lang = match e.name() {
                Ok(Name::Id(l)) => l,
                _ => continue,
            };
            let rank = match lang {
                0x0000 => 0,
                0x0400 => 1,
                0x0800 => 2,
                0x0409 => 3,
                l => 4 + l,
            };
            match e.entry() {
                Ok(pelite::resources::Entry::DataEntry(d)) => cands.push((rank, lang as u16, d)),
                Ok(_) => {}
                Err(err) => {
                    first_err.get_or_insert(pelite_err(err, "RT_VERSION entry", Some(rsrc_off)));
                }
            }
        }
        cands.sort_by_key(|c| c.0);
        for (_, lang, data) in cands.into_iter().take(MAX_CANDIDATES) {
            if tried == MAX_CANDIDATES {
                break;
            }
            tried += 1;
            match read_entry(&pe, bytes, h, &data, name, lang) {
                Ok(v) => return Ok(v),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
    }
    Err(first_err.unwrap_or(PeError::NoVersion))
}

fn read_entry(
    pe: &pelite::PeFile,
    bytes: &[u8],
    h: &PeHeaders,
    data: &DataEntry,
    name: &str,
    lang: u16,
) -> Result<VersionInfo, PeError> {
    let img = data.image();
    let size = img.Size as usize;
    // Usually inside the resource section; otherwise map the RVA ourselves.
    let raw = match data.bytes() {
        Ok(b) => b,
        Err(_) => pe
            .slice(img.OffsetToData, size, 1)
            .map(|b| &b[..size])
            .map_err(|e| {
                let rva = explain_rva(bytes, h, img.OffsetToData);
                pelite_err(
                    e,
                    &format!(
                        "version resource {name} lang 0x{lang:x} ({} bytes): {rva}",
                        img.Size
                    ),
                    None,
                )
            })?,
    };
    let file_offset = offset_in(bytes, raw) as u64;
    let p = vs_version::parse(raw, file_offset)?;
    let f = p.fixed;
    Ok(VersionInfo {
        file_version: f.map(|f| f.file_version),
        product_version: f.map(|f| f.product_version),
        strings: p.strings,
        string_table: p.table,
        translation: p.translation,
        file_flags: f.map_or(0, |f| f.file_flags & f.file_flags_mask),
        file_os: f.map_or(0, |f| f.file_os),
        file_type: f.map_or(0, |f| f.file_type),
        file_subtype: f.map_or(0, |f| f.file_subtype),
        resource: ResourceLocation {
            name: name.to_string(),
            lang,
            file_offset,
            size: img.Size,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_display_strings() {
        let v = |s| Version::parse(s);
        assert_eq!(v("4.02.0622"), Some(Version([4, 2, 622, 0])));
        assert_eq!(
            v("6.1.7601.17514 (win7sp1_rtm.101119-1850)"),
            Some(Version([6, 1, 7601, 17514]))
        );
        assert_eq!(v("5, 0, 2195, 1"), Some(Version([5, 0, 2195, 1])));
        assert_eq!(v("5,0,2195,6620"), Some(Version([5, 0, 2195, 6620])));
        assert_eq!(v("7.3.4 SHA: b59f05d5"), Some(Version([7, 3, 4, 0])));
        assert_eq!(v("5.0.0+cf258a14"), Some(Version([5, 0, 0, 0])));
        assert_eq!(v("  10"), Some(Version([10, 0, 0, 0])));
        assert_eq!(v("65535.0.0.65535"), Some(Version([65535, 0, 0, 65535])));
        for bad in [
            "",
            "x1.2",
            "1.2.3.4.5",
            "1..2",
            "1.2.",
            "65536.0",
            "1.2a",
            "16.1.190315001-3D",
            "1,x",
        ] {
            assert_eq!(v(bad), None, "{bad:?}");
        }
        assert_eq!("1.2.3.4".parse::<Version>().unwrap().to_string(), "1.2.3.4");
        let j: Version = serde_json::from_str("\"6.0.2600.1106\"").unwrap();
        assert_eq!(serde_json::to_string(&j).unwrap(), "\"6.0.2600.1106\"");
        assert_eq!(
            Version::from_ms_ls(0x0006_0001, 0x1DB1_4449),
            Version([6, 1, 7601, 17481])
        );
        assert!(Version([5, 0, 2195, 6620]) < Version([5, 0, 2195, 6700]));
        assert!(Version([5, 0, 2195, 6620]) < Version([6, 0, 0, 0]));
    }
}
