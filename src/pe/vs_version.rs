//! A strict, bounds-checked parser of the VS_VERSIONINFO structure (the data
//! of an RT_VERSION resource).
//!
//! Layout (all little-endian, every block 4-byte aligned relative to the start
//! of the resource data):
//!
//! ```text
//! block  := wLength:u16 wValueLength:u16 wType:u16 szKey:UTF-16,NUL pad4
//!           Value pad4 Children(block*)          -- wLength covers it all
//! VS_VERSIONINFO  key "VS_VERSION_INFO", value VS_FIXEDFILEINFO (52 bytes,
//!                 signature 0xFEEF04BD) or nothing (wValueLength 0)
//!   StringFileInfo  children: StringTable, key = 8 hex digits LLLLCCCC
//!                   (language id, code page), children: String key=value
//!   VarFileInfo     children: Var "Translation", value: (u16 lang, u16 cp)*
//! ```
//!
//! Every length is treated as hostile: a block longer than its parent is
//! clamped to the parent, a zero length ends a child list (it is padding), a
//! length below the 6-byte header is an error, and every step advances by at
//! least 8 bytes, so the walk ends. Nothing is allocated from a length read
//! from the data: the work is bounded by the data itself (at most 64 KiB, the
//! largest root `wLength`).
//!
//! Known real-world quirks handled: `wValueLength` of a String counted in
//! bytes instead of characters, or 0 for a non-empty value (the value runs to
//! the first NUL inside the block); `wType` wrong (ignored); VarFileInfo
//! before StringFileInfo; Translation absent or naming no existing table.

use std::collections::BTreeMap;

use super::{LangCodePage, PeError, Version};
use crate::le::{align4, u16_at, u32_at};

const FIXED_SIGNATURE: u32 = 0xFEEF_04BD;
const FIXED_LEN: usize = 52;
const HEADER_LEN: usize = 6;

/// VS_FIXEDFILEINFO, the part of a version resource we compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fixed {
    pub file_version: Version,
    pub product_version: Version,
    pub file_flags_mask: u32,
    pub file_flags: u32,
    pub file_os: u32,
    pub file_type: u32,
    pub file_subtype: u32,
}

/// What [`parse`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Parsed {
    pub fixed: Option<Fixed>,
    /// The first entry of \VarFileInfo\Translation, if any.
    pub translation: Option<LangCodePage>,
    /// The string table chosen (see [`parse`]), as its key says.
    pub table: Option<LangCodePage>,
    /// The raw key of the chosen table when it is not 8 hex digits.
    pub table_key: Option<String>,
    pub strings: BTreeMap<String, String>,
}

/// One block header, with positions relative to the start of the data.
struct Block {
    start: usize,
    end: usize,
    value_len: u16,
    key_start: usize,
    /// End of the key's characters (before its NUL).
    key_end: usize,
    value_start: usize,
}

struct Parser<'a> {
    data: &'a [u8],
    /// File offset of `data[0]`, for messages.
    base: u64,
}

impl<'a> Parser<'a> {
    fn err(&self, at: usize, what: impl std::fmt::Display) -> PeError {
        PeError::BadVersion(format!(
            "{what} at file offset 0x{:x}",
            self.base + at as u64
        ))
    }

    /// Reads the block header at `pos`; the block is clamped to `limit`.
    fn block(&self, pos: usize, limit: usize) -> Result<Block, PeError> {
        let w_length = u16_at(self.data, pos)
            .filter(|_| pos + HEADER_LEN <= limit)
            .ok_or_else(|| self.err(pos, "block header truncated"))?
            as usize;
        if w_length < HEADER_LEN {
            return Err(self.err(
                pos,
                format_args!("block length {w_length} is shorter than its 6-byte header"),
            ));
        }
        let end = (pos + w_length).min(limit);
        let value_len = u16_at(self.data, pos + 2).unwrap_or(0);
        let key_start = pos + HEADER_LEN;
        let mut key_end = key_start;
        let mut after_key = end;
        while key_end + 2 <= end {
            if self.data[key_end] == 0 && self.data[key_end + 1] == 0 {
                after_key = key_end + 2;
                break;
            }
            key_end += 2;
        }
        if after_key == end {
            // No NUL: the key runs to the end of the block (odd lengths drop a byte).
            key_end = key_end.min(end);
        }
        let value_start = align4(after_key).unwrap_or(end).min(end);
        Ok(Block {
            start: pos,
            end,
            value_len,
            key_start,
            key_end,
            value_start,
        })
    }

    fn key_is(&self, b: &Block, key: &str) -> bool {
        let raw = &self.data[b.key_start..b.key_end];
        raw.len() == key.len() * 2
            && raw
                .chunks_exact(2)
                .zip(key.bytes())
                .all(|(c, k)| c[0] == k && c[1] == 0)
    }

    fn key_string(&self, b: &Block) -> String {
        utf16(&self.data[b.key_start..b.key_end])
    }

    /// Start of the children: after the value (`wValueLength` bytes, as for
    /// binary values; text containers have none), 4-aligned, within the block.
    fn children_start(&self, b: &Block) -> usize {
        align4(b.value_start + b.value_len as usize)
            .unwrap_or(b.end)
            .min(b.end)
    }

    /// Calls `f` for each child block of `parent`.
    fn children(
        &self,
        parent: &Block,
        mut f: impl FnMut(&Self, Block) -> Result<(), PeError>,
    ) -> Result<(), PeError> {
        let mut pos = self.children_start(parent);
        while pos + HEADER_LEN <= parent.end {
            if u16_at(self.data, pos) == Some(0) {
                break; // zero padding, or garbage we refuse to loop on
            }
            let child = self.block(pos, parent.end)?;
            let next = align4(child.end).unwrap_or(parent.end);
            f(self, child)?;
            // block() guarantees end >= pos + 6, so next >= pos + 8: progress.
            pos = next;
        }
        Ok(())
    }
}

/// Parses VS_VERSIONINFO. `base` is the file offset of `data` (for messages).
///
/// The string table chosen is the one named by the first Translation entry
/// when it exists, else the first table in the file.
pub(crate) fn parse(data: &[u8], base: u64) -> Result<Parsed, PeError> {
    let p = Parser { data, base };
    let root = p.block(0, data.len())?;
    if !p.key_is(&root, "VS_VERSION_INFO") {
        let ansi = data.get(4..19) == Some(b"VS_VERSION_INFO".as_slice());
        return Err(if ansi {
            p.err(
                0,
                "16-bit (ANSI) VERSIONINFO layout, not supported in a PE file",
            )
        } else {
            p.err(
                0,
                format_args!(
                    "root key is {:?}, expected \"VS_VERSION_INFO\"",
                    p.key_string(&root)
                ),
            )
        });
    }

    let mut out = Parsed::default();
    if root.value_len != 0 {
        let at = root.value_start;
        let fixed = data
            .get(at..at + FIXED_LEN)
            .filter(|_| at + FIXED_LEN <= root.end)
            .ok_or_else(|| {
                p.err(
                    at,
                    format_args!(
                        "VS_FIXEDFILEINFO truncated (wValueLength {}, {} bytes left in the block)",
                        root.value_len,
                        root.end - at
                    ),
                )
            })?;
        let d = |i: usize| u32_at(fixed, i * 4).unwrap_or(0);
        if d(0) != FIXED_SIGNATURE {
            return Err(p.err(
                at,
                format_args!(
                    "VS_FIXEDFILEINFO signature 0x{:08x}, expected 0xfeef04bd",
                    d(0)
                ),
            ));
        }
        out.fixed = Some(Fixed {
            file_version: Version::from_ms_ls(d(2), d(3)),
            product_version: Version::from_ms_ls(d(4), d(5)),
            file_flags_mask: d(6),
            file_flags: d(7),
            file_os: d(8),
            file_type: d(9),
            file_subtype: d(10),
        });
    }

    // First pass: find the string tables (by position) and the translation.
    struct Table {
        lcp: Option<LangCodePage>,
        start: usize,
        end: usize,
    }
    let mut tables: Vec<Table> = Vec::new();
    let mut translation = None;
    p.children(&root, |p, child| {
        if p.key_is(&child, "StringFileInfo") {
            p.children(&child, |p, table| {
                let key = &p.data[table.key_start..table.key_end];
                tables.push(Table {
                    lcp: parse_table_key(key),
                    start: table.start,
                    end: table.end,
                });
                Ok(())
            })
        } else if p.key_is(&child, "VarFileInfo") {
            p.children(&child, |p, var| {
                if translation.is_none() && p.key_is(&var, "Translation") {
                    let v = var.value_start;
                    let v_end = (v + var.value_len as usize).min(var.end);
                    if v + 4 <= v_end {
                        translation = Some(LangCodePage {
                            lang: u16_at(p.data, v).unwrap_or(0),
                            code_page: u16_at(p.data, v + 2).unwrap_or(0),
                        });
                    }
                }
                Ok(())
            })
        } else {
            Ok(()) // unknown child: skip
        }
    })?;
    out.translation = translation;

    let chosen = translation
        .and_then(|t| tables.iter().find(|tb| tb.lcp == Some(t)))
        .or_else(|| tables.first());
    if let Some(tb) = chosen {
        let table = p.block(tb.start, tb.end)?;
        out.table = tb.lcp;
        if tb.lcp.is_none() {
            out.table_key = Some(p.key_string(&table));
        }
        p.children(&table, |p, s| {
            let key = p.key_string(&s);
            // The value runs from after the key to the first NUL, bounded by
            // wValueLength characters when that is non-zero and fits.
            let mut v_end = s.end;
            if s.value_len != 0 {
                v_end = v_end.min(s.value_start.saturating_add(2 * s.value_len as usize));
            }
            let raw = &p.data[s.value_start..v_end.max(s.value_start)];
            let n = raw
                .chunks_exact(2)
                .position(|c| c == [0, 0])
                .map_or(raw.len() & !1, |i| i * 2);
            let value = utf16(&raw[..n]);
            out.strings.entry(key).or_insert(value);
            Ok(())
        })?;
    }
    Ok(out)
}

/// "040904B0" → (0x0409, 0x04B0); anything else → None.
fn parse_table_key(key: &[u8]) -> Option<LangCodePage> {
    if key.len() != 16 {
        return None;
    }
    let mut v: u32 = 0;
    for c in key.chunks_exact(2) {
        if c[1] != 0 {
            return None;
        }
        v = v << 4 | (c[0] as char).to_digit(16)?;
    }
    Some(LangCodePage {
        lang: (v >> 16) as u16,
        code_page: v as u16,
    })
}

/// UTF-16LE bytes to a String (unpaired surrogates become U+FFFD; an odd
/// trailing byte is dropped).
fn utf16(raw: &[u8]) -> String {
    // Version strings are nearly always ASCII: take those bytes as they are
    // (half the work of decoding UTF-16 per character, measured).
    let pairs = raw.chunks_exact(2);
    if pairs.clone().all(|c| c[1] == 0 && c[0] < 0x80) {
        let ascii: Vec<u8> = pairs.map(|c| c[0]).collect();
        // ASCII is always valid UTF-8.
        return String::from_utf8(ascii).unwrap_or_default();
    }
    let units = pairs.map(|c| u16::from_le_bytes([c[0], c[1]]));
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a block (key, value bytes, is_text, children) the way rc.exe does.
    pub(crate) fn block(key: &str, value: &[u8], text: bool, children: &[Vec<u8>]) -> Vec<u8> {
        let mut b = vec![0u8; 6];
        for u in key.encode_utf16().chain([0]) {
            b.extend_from_slice(&u.to_le_bytes());
        }
        while b.len() % 4 != 0 {
            b.push(0);
        }
        b.extend_from_slice(value);
        while b.len() % 4 != 0 {
            b.push(0);
        }
        for c in children {
            b.extend_from_slice(c);
            while b.len() % 4 != 0 {
                b.push(0);
            }
        }
        let vlen = if text { value.len() / 2 } else { value.len() };
        let len = b.len() as u16;
        b[0..2].copy_from_slice(&len.to_le_bytes());
        b[2..4].copy_from_slice(&(vlen as u16).to_le_bytes());
        b[4..6].copy_from_slice(&(text as u16).to_le_bytes());
        b
    }

    fn wstr(s: &str) -> Vec<u8> {
        s.encode_utf16()
            .chain([0])
            .flat_map(|u| u.to_le_bytes())
            .collect()
    }

    fn fixed(fv: [u16; 4], pv: [u16; 4]) -> Vec<u8> {
        let ms = |v: [u16; 4]| (v[0] as u32) << 16 | v[1] as u32;
        let ls = |v: [u16; 4]| (v[2] as u32) << 16 | v[3] as u32;
        [
            FIXED_SIGNATURE,
            0x10000,
            ms(fv),
            ls(fv),
            ms(pv),
            ls(pv),
            0x3f,
            0,
            0x40004,
            2,
            0,
            0,
            0,
        ]
        .iter()
        .flat_map(|d| d.to_le_bytes())
        .collect()
    }

    fn sample(translation: Option<u32>, tables: &[(&str, &[(&str, &str)])]) -> Vec<u8> {
        let tables: Vec<Vec<u8>> = tables
            .iter()
            .map(|(k, strings)| {
                let ss: Vec<Vec<u8>> = strings
                    .iter()
                    .map(|(k, v)| block(k, &wstr(v), true, &[]))
                    .collect();
                block(k, &[], true, &ss)
            })
            .collect();
        let mut kids = vec![block("StringFileInfo", &[], true, &tables)];
        if let Some(t) = translation {
            let var = block("Translation", &t.to_le_bytes(), false, &[]);
            kids.push(block("VarFileInfo", &[], true, &[var]));
        }
        block(
            "VS_VERSION_INFO",
            &fixed([4, 2, 622, 1], [4, 2, 0, 0]),
            false,
            &kids,
        )
    }

    #[test]
    fn parses_fixed_and_picks_translated_table() {
        let d = sample(
            Some(0x04b0_0407),
            &[
                ("040904b0", &[("FileVersion", "en")]),
                ("040704B0", &[("FileVersion", "de")]),
            ],
        );
        let p = parse(&d, 0).unwrap();
        let f = p.fixed.unwrap();
        assert_eq!(f.file_version, Version([4, 2, 622, 1]));
        assert_eq!(f.product_version, Version([4, 2, 0, 0]));
        assert_eq!(
            p.translation,
            Some(LangCodePage {
                lang: 0x0407,
                code_page: 0x04b0
            })
        );
        assert_eq!(
            p.table,
            Some(LangCodePage {
                lang: 0x0407,
                code_page: 0x04b0
            })
        );
        assert_eq!(p.strings["FileVersion"], "de");
    }

    #[test]
    fn falls_back_to_first_table() {
        let d = sample(
            Some(0x04e4_0409),
            &[("040704B0", &[("A", "1")]), ("040904b0", &[("A", "2")])],
        );
        assert_eq!(parse(&d, 0).unwrap().strings["A"], "1");
        let d = sample(None, &[("000004B0", &[("A", "x"), ("Empty", "")])]);
        let p = parse(&d, 0).unwrap();
        assert_eq!(p.strings["A"], "x");
        assert_eq!(p.strings["Empty"], "");
        assert_eq!(
            p.table,
            Some(LangCodePage {
                lang: 0,
                code_page: 0x04b0
            })
        );
    }

    #[test]
    fn string_length_in_bytes_and_zero() {
        // wValueLength in bytes (some compilers), and 0 for a non-empty value.
        let mut s1 = block("K", &wstr("abc"), true, &[]);
        s1[2..4].copy_from_slice(&8u16.to_le_bytes());
        let mut s2 = block("L", &wstr("xyz"), true, &[]);
        s2[2..4].copy_from_slice(&0u16.to_le_bytes());
        let t = block("040904B0", &[], true, &[s1, s2]);
        let sfi = block("StringFileInfo", &[], true, &[t]);
        let d = block(
            "VS_VERSION_INFO",
            &fixed([1, 0, 0, 0], [1, 0, 0, 0]),
            false,
            &[sfi],
        );
        let p = parse(&d, 0).unwrap();
        assert_eq!(p.strings["K"], "abc");
        assert_eq!(p.strings["L"], "xyz");
    }

    #[test]
    fn no_fixed_info_is_not_an_error() {
        let d = block("VS_VERSION_INFO", &[], false, &[]);
        let p = parse(&d, 0).unwrap();
        assert_eq!(p.fixed, None);
        assert!(p.strings.is_empty());
    }

    #[test]
    fn errors_name_the_offset() {
        let mut d = sample(None, &[("040904B0", &[("A", "1")])]);
        d[40] ^= 0xff; // inside the fixed info signature (key ends at 6+32=38 → 40)
        let e = parse(&d, 0x1000).unwrap_err().to_string();
        assert!(e.contains("signature") && e.contains("0x1028"), "{e}");
        let e = parse(b"\x02\x00\x00\x00\x00\x00", 0x10)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("shorter than its 6-byte header") && e.contains("0x10"),
            "{e}"
        );
        let e = parse(&block("VS_VERSIONINFO", &[], false, &[]), 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("root key"), "{e}");
    }

    #[test]
    fn hostile_lengths_terminate() {
        // Child with length 6 repeatedly, zero lengths, lengths past the end.
        let d0 = sample(
            Some(0x04b0_0409),
            &[("040904B0", &[("A", "1"), ("B", "2")])],
        );
        for i in 0..d0.len() {
            for v in [0u8, 1, 5, 6, 7, 0xff] {
                let mut d = d0.clone();
                d[i] = v;
                let _ = parse(&d, 0);
                let _ = parse(&d[..i], 0);
            }
        }
    }
}
