//! Bounded reading of regf cells straight from the hive bytes.
//!
//! notatin parses keys and values, but it (1.0.1) has no public way to read a
//! key node at a given offset, compares names by ASCII lowercase only, and
//! trusts the structure: an `ri` list that points to itself recurses until the
//! stack overflows (an abort, which `catch_unwind` cannot contain), and
//! duplicated list or data references make it allocate far more than the hive
//! holds. This module is the small, checked reader we use to walk paths and to
//! vet every key before notatin reads it (`vet_key`): notatin only ever sees
//! key nodes whose subkey list and values this module has bounded.
//!
//! Layout reference: msuhanov's "Windows registry file format specification"
//! (<https://github.com/msuhanov/regf>), sections "Base block", "Key node",
//! "Subkeys list", "Key value", "Big data".

use std::collections::HashSet;

/// Size of the base block; hive bins start right after it.
pub(crate) const BASE_BLOCK_LEN: usize = 4096;
/// Above this many bytes a value's data lives in a `db` cell (minor version > 3).
pub(crate) const BIG_DATA_THRESHOLD: u32 = 16344;
/// Flag in `nk` cells: the name is stored as Latin-1 ("compressed").
const KEY_COMP_NAME: u16 = 0x0020;

/// Bounds-checked little-endian reads, shared with the PE parser.
pub(crate) use crate::le::{u16_at, u32_at, u64_at};

/// Absolute file offset of a cell given its offset relative to the first hive bin.
pub(crate) fn abs(rel: u32) -> usize {
    BASE_BLOCK_LEN + rel as usize
}

/// The body of the cell at absolute offset `at`: the bytes after the 4-byte
/// size field, limited to the cell's declared size and to the buffer.
/// `None` if the size field is unreadable or smaller than `min_len` (+4).
fn cell(b: &[u8], at: usize, min_len: usize) -> Option<&[u8]> {
    let size = u32_at(b, at)? as i32;
    let size = size.unsigned_abs() as usize;
    if size < 4 + min_len {
        return None;
    }
    b.get(at + 4..at.checked_add(size)?)
}

/// The fields of a key node (`nk`) that we use ourselves.
#[derive(Debug, Clone)]
pub(crate) struct RawKey {
    pub offset: usize,
    pub last_written: u64,
    pub subkey_count: u32,
    pub subkey_list: u32,
    pub value_count: u32,
    pub value_list: u32,
    pub name: String,
}

/// Decodes a name as stored: Latin-1 when `compressed`, else UTF-16LE (lossy).
pub(crate) fn decode_name(bytes: &[u8], compressed: bool) -> String {
    if compressed {
        bytes.iter().map(|&c| c as char).collect()
    } else {
        let units = bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]));
        char::decode_utf16(units)
            .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect()
    }
}

/// Reads the key node at absolute offset `at`, checking it the way notatin will
/// (cell size >= 72 bytes and within the buffer, name within the cell).
pub(crate) fn read_key(b: &[u8], at: usize) -> Option<RawKey> {
    let body = cell(b, at, 72)?;
    if body.get(0..2)? != b"nk" {
        return None;
    }
    let flags = u16_at(body, 2)?;
    let name_len = u16_at(body, 72)? as usize;
    let name_bytes = body.get(76..76 + name_len)?;
    Some(RawKey {
        offset: at,
        last_written: u64_at(body, 4)?,
        subkey_count: u32_at(body, 20)?,
        subkey_list: u32_at(body, 28)?,
        value_count: u32_at(body, 36)?,
        value_list: u32_at(body, 40)?,
        name: decode_name(name_bytes, flags & KEY_COMP_NAME != 0),
    })
}

/// Why a key's subkey list or values cannot be read safely.
pub(crate) type Refusal = String;

/// Absolute offsets of a key's subkeys, in the order notatin enumerates them
/// (an `ri` list is flattened leaf by leaf). Refuses structures that notatin
/// would mishandle: an `ri` pointing to another `ri` (unbounded recursion in
/// notatin), an `ri` naming the same leaf twice (multiplies the list), an
/// offset that overflows (notatin's `lf`/`li`/`ri` code adds without a check), or a
/// list that does not fit in the buffer.
pub(crate) fn subkey_offsets(b: &[u8], key: &RawKey) -> Result<Vec<usize>, Refusal> {
    if key.subkey_count == 0 {
        return Ok(Vec::new());
    }
    let list_at = abs(key.subkey_list);
    let sig = b
        .get(list_at + 4..list_at + 6)
        .ok_or_else(|| format!("subkey list at 0x{list_at:x} lies outside the hive"))?;
    if sig == b"ri" {
        let count = u16_at(b, list_at + 6).ok_or("truncated ri list")? as usize;
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for i in 0..count {
            let leaf_rel = u32_at(b, list_at + 8 + 4 * i)
                .ok_or_else(|| format!("ri list at 0x{list_at:x} is truncated"))?;
            if !seen.insert(leaf_rel) {
                return Err(format!(
                    "ri list at 0x{list_at:x} names leaf 0x{leaf_rel:x} twice"
                ));
            }
            let leaf_at = abs(leaf_rel);
            match b.get(leaf_at + 4..leaf_at + 6) {
                Some(s) if s == b"lf" || s == b"lh" || s == b"li" => {
                    leaf_offsets(b, leaf_at, &mut out)?
                }
                Some(s) if s == b"ri" => {
                    return Err(format!(
                        "ri list at 0x{list_at:x} points to another ri list"
                    ))
                }
                _ => {
                    return Err(format!(
                    "ri list at 0x{list_at:x} points to 0x{leaf_at:x}, which is not a subkey list"
                ))
                }
            }
        }
        Ok(out)
    } else if sig == b"lf" || sig == b"lh" || sig == b"li" {
        let mut out = Vec::new();
        leaf_offsets(b, list_at, &mut out)?;
        Ok(out)
    } else {
        Err(format!("no subkey list signature at 0x{list_at:x}"))
    }
}

fn leaf_offsets(b: &[u8], at: usize, out: &mut Vec<usize>) -> Result<(), Refusal> {
    let sig = b.get(at + 4..at + 6);
    let stride = if sig == Some(b"li") { 4 } else { 8 };
    let count = u16_at(b, at + 6).ok_or("truncated subkey list")? as usize;
    for i in 0..count {
        let rel = u32_at(b, at + 8 + stride * i)
            .ok_or_else(|| format!("subkey list at 0x{at:x} is truncated"))?;
        match rel.checked_add(BASE_BLOCK_LEN as u32) {
            Some(a) => out.push(a as usize),
            // notatin drops these from `lh` lists, but adds without a check
            // for `lf` and `li` (a panic with overflow checks on).
            None if sig == Some(b"lh") => {}
            None => {
                return Err(format!(
                    "subkey list at 0x{at:x} has an offset that overflows"
                ))
            }
        }
    }
    Ok(())
}

/// Finds the key node that should be the root: the base block's root cell, or,
/// if that is not a key node, the first cell of the first hive bin (where
/// Windows puts it, and where notatin's own iterator starts).
pub(crate) fn root_offset(b: &[u8], root_rel: u32) -> Option<(usize, bool)> {
    let at = abs(root_rel);
    if read_key(b, at).is_some() {
        return Some((at, true));
    }
    let first = BASE_BLOCK_LEN + 32;
    read_key(b, first).map(|_| (first, false))
}

/// Checks that notatin can read this key's values without unbounded work:
/// the value list fits in its cell, names distinct `vk` cells, and the data
/// notatin will copy (resident, direct or `db` segments) sums to no more than
/// the hive's own size, which any well-formed key satisfies.
pub(crate) fn vet_values(b: &[u8], key: &RawKey) -> Result<(), Refusal> {
    let n = key.value_count as usize;
    if n == 0 {
        return Ok(());
    }
    // notatin skips the list when its offset is <= 0 or past the buffer.
    let rel = key.value_list as i32;
    if rel <= 0 || rel as usize >= b.len() {
        return Ok(());
    }
    let list_at = abs(key.value_list);
    // notatin reads the list entries straight from the buffer (ignoring the
    // list cell's own size) and reads nothing if they do not all fit.
    let Some(list) = b
        .get(list_at + 4..)
        .and_then(|l| l.get(..n.checked_mul(4)?))
    else {
        return Ok(());
    };
    let mut seen = HashSet::new();
    let mut budget = b.len();
    for i in 0..n {
        let vrel = u32_at(list, 4 * i).unwrap_or(0);
        let vat = abs(vrel);
        if !seen.insert(vat) {
            return Err(format!(
                "value list at 0x{list_at:x} names the value at 0x{vat:x} twice"
            ));
        }
        let Some(v) = cell(b, vat, 20).filter(|c| c.get(0..2) == Some(b"vk")) else {
            // notatin stops reading the list at the first bad entry.
            continue;
        };
        let size_raw = u32_at(v, 4).unwrap_or(0);
        let data_rel = u32_at(v, 8).unwrap_or(0);
        if size_raw & 0x8000_0000 != 0 {
            continue; // resident: at most 4 bytes
        }
        let data_at = abs(data_rel);
        let big = size_raw > BIG_DATA_THRESHOLD && b.get(data_at + 4..data_at + 6) == Some(b"db");
        let cost = if big {
            vet_big_data(b, data_at, size_raw)?
        } else if data_at
            .checked_add(4 + size_raw as usize)
            .is_some_and(|end| end <= b.len())
        {
            size_raw as usize
        } else {
            0 // notatin finds it out of range and returns no bytes
        };
        budget = budget.checked_sub(cost).ok_or_else(|| {
            format!(
                "values of the key at 0x{:x} would copy more data than the hive holds",
                key.offset
            )
        })?;
    }
    Ok(())
}

fn vet_big_data(b: &[u8], at: usize, size: u32) -> Result<usize, Refusal> {
    let count = u16_at(b, at + 6).unwrap_or(0) as usize;
    let list_rel = u32_at(b, at + 8).unwrap_or(u32::MAX);
    let list_at = abs(list_rel);
    let mut seen = HashSet::new();
    let mut total = 0usize;
    for i in 0..count {
        let Some(seg) = u32_at(b, list_at + 4 + 4 * i) else {
            return Ok(0); // notatin fails the whole value: nothing copied
        };
        if !seen.insert(seg) {
            return Err(format!(
                "big-data list at 0x{list_at:x} names segment 0x{seg:x} twice"
            ));
        }
        total += BIG_DATA_THRESHOLD as usize;
    }
    Ok(total.min(size as usize))
}

/// Case-insensitive name comparison as the registry does it: each character
/// upper-cased on its own (simple mapping; a character whose upper case is
/// several characters is left as is), then compared.
pub(crate) fn names_equal(a: &str, b: &str) -> bool {
    fn up(c: char) -> char {
        let mut u = c.to_uppercase();
        match (u.next(), u.next()) {
            (Some(x), None) => x,
            _ => c,
        }
    }
    let mut x = a.chars().map(up);
    let mut y = b.chars().map(up);
    loop {
        match (x.next(), y.next()) {
            (None, None) => return true,
            (Some(p), Some(q)) if p == q => {}
            _ => return false,
        }
    }
}
