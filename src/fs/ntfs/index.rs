//! NTFS directory indexes ($I30), parsed from the raw $INDEX_ROOT,
//! $INDEX_ALLOCATION and $BITMAP values.
//!
//! We do not follow the B-tree's subnode pointers. Every live entry of a valid
//! tree sits either in the root node or in exactly one index block that the
//! bitmap marks in use, so reading those flat yields each entry once, in any
//! tree shape, and a hostile subnode pointer cannot make us loop.

use super::record::{self, FixupError};
use crate::le::{u16_at, u32_at, u64_at};

/// One `$FILE_NAME` key of a directory index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    pub record: u64,
    pub name: String,
    /// 0 POSIX, 1 Win32, 2 DOS, 3 Win32 and DOS.
    pub namespace: u8,
    pub is_dir: bool,
}

const NAMESPACE_DOS: u8 = 2;
const ENTRY_LAST: u16 = 0x02;
const FILE_ATTRIBUTE_DIRECTORY: u32 = 0x1000_0000;

/// A directory's entries in one flat table: each name kept as stored
/// (UTF-16 units in one shared buffer) and decoded to a `String` only when
/// asked for, so a directory of thousands of files costs a few allocations,
/// not a few per entry.
#[derive(Debug, Default)]
pub struct Names {
    /// Sorted by (record, name), exact duplicates and DOS aliases dropped.
    pub slots: Vec<Slot>,
    units: Vec<u16>,
}

/// One entry of [`Names`].
#[derive(Debug, Clone, Copy)]
pub struct Slot {
    pub record: u64,
    /// 0 POSIX, 1 Win32, 3 Win32 and DOS (DOS-only aliases are dropped).
    pub namespace: u8,
    pub is_dir: bool,
    start: u32,
    len: u8,
}

impl Slot {
    /// Where the name's units are in the shared buffer.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.start as usize + usize::from(self.len)
    }
}

impl Names {
    /// The UTF-16 units of slot `s`'s name, as stored.
    pub fn units(&self, s: &Slot) -> &[u16] {
        &self.units[s.range()]
    }

    /// Every unit of the shared buffer through `f`: a table whose
    /// [`Slot::range`]s give each name transformed (upcased, say).
    pub fn map_units(&self, f: impl Fn(u16) -> u16) -> Vec<u16> {
        self.units.iter().map(|&u| f(u)).collect()
    }

    /// Slot `s`'s name as a string (unpaired surrogates replaced).
    pub fn name(&self, s: &Slot) -> String {
        String::from_utf16_lossy(self.units(s))
    }
}

/// Entries of a directory, DOS 8.3 aliases dropped (they duplicate a Win32 name).
pub fn parse(
    root: &[u8],
    allocation: Option<&[u8]>,
    bitmap: Option<&[u8]>,
    max_entries: usize,
) -> Result<Vec<IndexEntry>, String> {
    let names = parse_names(root, allocation, bitmap, max_entries)?;
    Ok(names
        .slots
        .iter()
        .map(|s| IndexEntry {
            record: s.record,
            name: names.name(s),
            namespace: s.namespace,
            is_dir: s.is_dir,
        })
        .collect())
}

/// [`parse`] into a flat [`Names`] table.
pub fn parse_names(
    root: &[u8],
    allocation: Option<&[u8]>,
    bitmap: Option<&[u8]>,
    max_entries: usize,
) -> Result<Names, String> {
    // $INDEX_ROOT: attribute type, collation, block size, clusters per block,
    // then the node header at 0x10.
    let block_size = u32_at(root, 8).ok_or("$INDEX_ROOT is too short")? as usize;
    let mut out = Names::default();
    node_entries(root, 0x10, &mut out, max_entries).map_err(|e| format!("$INDEX_ROOT: {e}"))?;

    if let Some(alloc) = allocation {
        if !(512..=65536).contains(&block_size) || !block_size.is_power_of_two() {
            return Err(format!(
                "$INDEX_ROOT gives an index block size of {block_size} bytes"
            ));
        }
        let mut block = vec![0u8; block_size];
        for (i, raw) in alloc.chunks_exact(block_size).enumerate() {
            let in_use =
                bitmap.is_none_or(|b| b.get(i / 8).is_some_and(|byte| byte >> (i % 8) & 1 == 1));
            if !in_use {
                continue;
            }
            block.copy_from_slice(raw);
            apply_fixup(&mut block).map_err(|e| format!("index block {i}: {e}"))?;
            node_entries(&block, 0x18, &mut out, max_entries)
                .map_err(|e| format!("index block {i}: {e}"))?;
        }
    }
    let Names { mut slots, units } = out;
    let name = |s: &Slot| &units[s.range()];
    // Ordered by everything compared, so that the order does not depend on
    // where each entry sat and exact duplicates end up side by side.
    let full = |s: &Slot| (s.record, name(s), s.namespace, s.is_dir);
    slots.sort_unstable_by(|a, b| full(a).cmp(&full(b)));
    slots.dedup_by(|a, b| full(a) == full(b));
    Ok(Names { slots, units })
}

/// Reads the entries of the index node whose header starts at `header`.
fn node_entries(
    buf: &[u8],
    header: usize,
    out: &mut Names,
    max_entries: usize,
) -> Result<(), String> {
    let first = u32_at(buf, header).ok_or("node header is truncated")? as usize;
    let used = u32_at(buf, header + 4).ok_or("node header is truncated")? as usize;
    let end = header
        .checked_add(used)
        .filter(|&e| e <= buf.len())
        .ok_or_else(|| {
            format!(
                "node claims {used} bytes of entries but only {} are there",
                buf.len().saturating_sub(header)
            )
        })?;
    let mut pos = header.checked_add(first).ok_or("entry offset overflows")?;
    while pos < end {
        let entry_len = u16_at(buf, pos + 8).ok_or("entry header is truncated")? as usize;
        let key_len = u16_at(buf, pos + 10).ok_or("entry header is truncated")? as usize;
        let flags = u16_at(buf, pos + 12).ok_or("entry header is truncated")?;
        if flags & ENTRY_LAST != 0 {
            return Ok(());
        }
        // Each entry holds at least its 16-byte header; this also rules out a
        // zero length that would never advance.
        if entry_len < 16 || pos + entry_len > end {
            return Err(format!(
                "entry at node offset {pos} has a bad length of {entry_len} bytes"
            ));
        }
        let key = buf
            .get(pos + 16..pos + 16 + key_len)
            .filter(|_| 16 + key_len <= entry_len)
            .ok_or_else(|| format!("entry at node offset {pos} has a key longer than the entry"))?;
        if let Some((namespace, is_dir, name)) = key_parts(key) {
            if out.slots.len() >= max_entries {
                return Err(format!("directory has more than {max_entries} entries"));
            }
            if namespace != NAMESPACE_DOS {
                let start = u32::try_from(out.units.len())
                    .map_err(|_| "directory names exceed 4 GiB".to_string())?;
                out.units.extend(
                    name.chunks_exact(2)
                        .map(|c| u16::from_le_bytes([c[0], c[1]])),
                );
                out.slots.push(Slot {
                    record: u64_at(buf, pos).unwrap_or(0) & 0x0000_FFFF_FFFF_FFFF,
                    namespace,
                    is_dir,
                    start,
                    len: (name.len() / 2) as u8,
                });
            }
        }
        pos += entry_len;
    }
    Ok(())
}

/// (namespace, is a directory, name bytes) of a `$FILE_NAME` key; `None`
/// when it is too short to hold its name.
pub(crate) fn key_parts(key: &[u8]) -> Option<(u8, bool, &[u8])> {
    let name_len = *key.get(0x40)? as usize;
    let namespace = *key.get(0x41)?;
    let flags = u32_at(key, 0x38)?;
    let name = key.get(0x42..0x42 + name_len * 2)?;
    Some((namespace, flags & FILE_ATTRIBUTE_DIRECTORY != 0, name))
}

/// Decodes a `$FILE_NAME` key; `None` when it is too short to hold its name.
pub(crate) fn file_name_key(key: &[u8], reference: u64) -> Option<IndexEntry> {
    let (namespace, is_dir, name) = key_parts(key)?;
    let units: Vec<u16> = name
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    Some(IndexEntry {
        record: reference & 0x0000_FFFF_FFFF_FFFF,
        name: String::from_utf16_lossy(&units),
        namespace,
        is_dir,
    })
}

/// Checks and undoes the update-sequence fixup of an `INDX` block
/// ([`record::fixup`], shared with MFT records).
pub fn apply_fixup(block: &mut [u8]) -> Result<(), String> {
    if block.get(..4) != Some(b"INDX") {
        return Err("no INDX signature".into());
    }
    record::fixup(block).map_err(|e| match e {
        FixupError::Truncated => "truncated".into(),
        FixupError::Count { count, .. } => {
            format!("update sequence count {count} does not fit the block")
        }
        FixupError::Array { .. } => "update sequence array is out of bounds".into(),
        FixupError::Mismatch { sector } => format!("update sequence mismatch in sector {sector}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(record: u64, name: &str, namespace: u8, last: bool) -> Vec<u8> {
        if last {
            let mut e = vec![0u8; 16];
            e[8] = 16;
            e[12] = ENTRY_LAST as u8;
            return e;
        }
        let units: Vec<u16> = name.encode_utf16().collect();
        let key_len = 0x42 + units.len() * 2;
        let entry_len = (16 + key_len + 7) & !7;
        let mut e = vec![0u8; entry_len];
        e[..8].copy_from_slice(&(record | (1 << 48)).to_le_bytes());
        e[8..10].copy_from_slice(&(entry_len as u16).to_le_bytes());
        e[10..12].copy_from_slice(&(key_len as u16).to_le_bytes());
        let k = &mut e[16..];
        k[0x40] = units.len() as u8;
        k[0x41] = namespace;
        for (i, u) in units.iter().enumerate() {
            k[0x42 + 2 * i..0x44 + 2 * i].copy_from_slice(&u.to_le_bytes());
        }
        e
    }

    fn root(entries: &[Vec<u8>]) -> Vec<u8> {
        let body: Vec<u8> = entries.concat();
        let mut r = vec![0u8; 0x20];
        r[8..12].copy_from_slice(&4096u32.to_le_bytes());
        r[0x10..0x14].copy_from_slice(&0x10u32.to_le_bytes());
        r[0x14..0x18].copy_from_slice(&(0x10 + body.len() as u32).to_le_bytes());
        r.extend(body);
        r
    }

    #[test]
    fn reads_root_entries_and_drops_dos_aliases() {
        let r = root(&[
            entry(40, "W3SVC~1.DLL", 2, false),
            entry(40, "w3svc_long.dll", 1, false),
            entry(41, "asp.dll", 3, false),
            entry(0, "", 0, true),
        ]);
        let got = parse(&r, None, None, 100).unwrap();
        let names: Vec<_> = got.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["w3svc_long.dll", "asp.dll"]);
    }

    #[test]
    fn refuses_zero_length_entries_and_caps_counts() {
        let mut bad = entry(40, "a", 1, false);
        bad[8] = 0;
        bad[9] = 0;
        assert!(parse(&root(&[bad]), None, None, 100).is_err());
        let many: Vec<_> = (0..10).map(|i| entry(i + 30, "x", 1, false)).collect();
        assert!(parse(&root(&many), None, None, 5)
            .unwrap_err()
            .contains("more than 5"));
    }

    #[test]
    fn truncated_or_garbage_roots_are_errors_not_panics() {
        let r = root(&[entry(40, "w3svc.dll", 1, false), entry(0, "", 0, true)]);
        for cut in 0..r.len() {
            let _ = parse(&r[..cut], None, None, 100);
        }
        let mut seed = 0x1234_5678u32;
        for _ in 0..2000 {
            let mut m = r.clone();
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let at = (seed >> 8) as usize % m.len();
            m[at] ^= (seed & 0xFF) as u8 | 1;
            let _ = parse(&m, Some(&m), Some(&[0xFF]), 100);
        }
    }

    #[test]
    fn fixup_checks_every_sector() {
        let mut block = vec![0u8; 1024];
        block[..4].copy_from_slice(b"INDX");
        block[4] = 0x28; // USA at 0x28
        block[6] = 3; // USN + 2 sectors
        block[0x28..0x2A].copy_from_slice(&7u16.to_le_bytes());
        block[0x2A..0x2C].copy_from_slice(&0xAAAAu16.to_le_bytes());
        block[0x2C..0x2E].copy_from_slice(&0xBBBBu16.to_le_bytes());
        block[510..512].copy_from_slice(&7u16.to_le_bytes());
        block[1022..1024].copy_from_slice(&7u16.to_le_bytes());
        let mut ok = block.clone();
        apply_fixup(&mut ok).unwrap();
        assert_eq!(&ok[510..512], &0xAAAAu16.to_le_bytes());
        block[1022] = 8;
        assert!(apply_fixup(&mut block).unwrap_err().contains("sector 1"));
    }
}
