//! An opened hive: the base block, path lookup and typed keys.
//!
//! Parsing of keys and values is notatin's (1.0.1, read through its public
//! API). Around it:
//! * the base block is read here (sequence numbers, timestamp, version, name);
//! * paths are walked here, over the raw cells (`cells.rs`), so that names
//!   compare case-insensitively beyond ASCII and so that every key is vetted
//!   before notatin reads it;
//! * every notatin call runs under `catch_unwind`.
//!
//! **No transaction-log replay here.** notatin replays new-format (HvLE) logs
//! only when given them; we never do, so the bytes given are read as they are.
//! Logs are replayed into a copy before this point ([`super::open_with_logs`]:
//! old format in `log.rs`, new format in `newlog.rs`); [`Hive::is_dirty`]
//! tells the caller when a hive was read dirty.
//!
//! **Limits.** Hives larger than [`MAX_HIVE_SIZE`] are refused; paths and
//! walks stop at [`MAX_DEPTH`] levels; walks never visit a key cell twice.
//! Memory: notatin keeps its own copy of the hive, so an open hive costs
//! about twice its size.

use super::cells::{self, RawKey};
use super::value::{Value, ValueData};
use super::RegistryError;
use crate::panic;
use crate::time::FileTime;
use notatin::cell_key_node::CellKeyNode;
use notatin::parser::{Parser, ParserIterator};
use notatin::parser_builder::ParserBuilder;
use std::collections::HashSet;
use std::io::Cursor;
use std::sync::Mutex;

/// Largest hive accepted, in bytes (2 GiB). Real SYSTEM and SOFTWARE hives are
/// tens to a few hundred MiB; the format's offsets are 32-bit.
pub const MAX_HIVE_SIZE: usize = 2 << 30;

/// Deepest key path looked up, and deepest level a walk descends to (512).
/// Windows limits key nesting to 512 levels.
pub const MAX_DEPTH: usize = 512;

/// What the base block (the first 4 KiB) says about the hive.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HiveHeader {
    /// Incremented when a write to the primary file starts.
    pub primary_sequence: u32,
    /// Incremented when that write has finished; differs when the hive is dirty.
    pub secondary_sequence: u32,
    /// Base block last-written time, RFC 3339 UTC (`None` if zero or absurd).
    pub last_written: Option<FileTime>,
    /// Format version, e.g. 1.3 (NT 4.0 and later) or 1.5 (XP and later).
    pub major_version: u32,
    pub minor_version: u32,
    /// 0 = primary file; 1 and 6 are transaction logs.
    pub file_type: u32,
    /// Offset of the root key cell, relative to the first hive bin.
    pub root_cell_offset: u32,
    /// Size of all hive bins, as the base block states it.
    pub hive_bins_data_size: u32,
    /// The file name embedded at offset 0x30 (UTF-16, often a partial path).
    pub embedded_name: String,
    /// Whether the XOR checksum at 0x1FC matches the first 508 bytes.
    pub checksum_ok: bool,
}

impl HiveHeader {
    fn parse(b: &[u8]) -> HiveHeader {
        let u = |at| cells::u32_at(b, at).unwrap_or(0);
        let name_units: Vec<u16> = b[0x30..0x70]
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .take_while(|&c| c != 0)
            .collect();
        let mut sum = 0u32;
        for at in (0..508).step_by(4) {
            sum ^= u(at);
        }
        let sum = match sum {
            0 => 1,
            u32::MAX => u32::MAX - 1,
            s => s,
        };
        HiveHeader {
            primary_sequence: u(4),
            secondary_sequence: u(8),
            last_written: cells::u64_at(b, 12).and_then(FileTime::new),
            major_version: u(20),
            minor_version: u(24),
            file_type: u(28),
            root_cell_offset: u(36),
            hive_bins_data_size: u(40),
            embedded_name: String::from_utf16_lossy(&name_units),
            checksum_ok: sum == u(508),
        }
    }
}

/// FILETIME (100 ns ticks since 1601) as RFC 3339 UTC with whole seconds,
/// e.g. `2001-08-15T10:00:00Z`. `None` for zero and for times chrono cannot
/// represent.
pub fn filetime_to_rfc3339(ticks: u64) -> Option<String> {
    crate::time::FileTime::new(ticks).map(|t| t.to_string())
}

/// One key with its values and the names of its subkeys.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Key {
    /// Path below the hive root with the names as stored
    /// (e.g. `ControlSet001\Services\W3SVC`); empty for the root itself.
    pub path: String,
    /// Last-written time as RFC 3339 UTC, when the key carries one.
    pub last_written: Option<FileTime>,
    pub values: Vec<Value>,
    /// Names of the subkeys, in the order the hive lists them.
    pub subkeys: Vec<String>,
    /// What could not be read in this key (bad subkey entries, value data
    /// out of range…); empty for a sound key.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Key {
    /// The value called `name` (case-insensitive; `""` is the default value).
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.values
            .iter()
            .find(|v| cells::names_equal(&v.name, name))
    }

    /// The data of the value called `name`.
    pub fn data(&self, name: &str) -> Option<&ValueData> {
        self.value(name).map(|v| &v.data)
    }

    /// The key's own name (the last path component; empty for the root).
    pub fn name(&self) -> &str {
        self.path.rsplit('\\').next().unwrap_or("")
    }

    /// Whether a subkey called `name` exists (case-insensitive).
    pub fn has_subkey(&self, name: &str) -> bool {
        self.subkeys.iter().any(|s| cells::names_equal(s, name))
    }
}

/// What a walk callback tells the walk to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Walk {
    /// Visit this key's subkeys too.
    Descend,
    /// Do not visit this key's subkeys.
    Skip,
    /// End the walk.
    Stop,
}

/// An opened hive. `Send + Sync`; lookups take `&self` (notatin's parser sits
/// behind a mutex, so concurrent lookups on one hive are serialised).
pub struct Hive {
    name: String,
    bytes: Vec<u8>,
    header: HiveHeader,
    root: usize,
    root_from_base_block: bool,
    parser: Mutex<Parser>,
}

impl std::fmt::Debug for Hive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hive")
            .field("name", &self.name)
            .field("len", &self.bytes.len())
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

/// A key found by our own walk, with the subkey indices notatin needs to
/// reach the same cell.
struct Found {
    raw: RawKey,
    indices: Vec<usize>,
    path: String,
    /// Why notatin must not read this key's values (`cells::vet_values`).
    refused: Option<String>,
}

fn describe_magic(b: &[u8]) -> String {
    let head = &b[..b.len().min(4)];
    match head {
        b"CREG" => {
            "found \"CREG\": a Windows 95/98/ME registry file, which is another format".into()
        }
        [b'M', b'Z', ..] => "found \"MZ\": an executable".into(),
        [] => "the file is empty".into(),
        _ if head.iter().all(|c| c.is_ascii_graphic()) => {
            format!(
                "signature is {:?}, expected \"regf\"",
                String::from_utf8_lossy(head)
            )
        }
        _ => format!("signature bytes are {head:02x?}, expected \"regf\""),
    }
}

impl Hive {
    /// Opens a hive from its bytes. `name` labels errors (e.g. `SYSTEM` or the
    /// path inside the image). The primary file is read as it is: no log
    /// replay (check [`Hive::is_dirty`]).
    pub fn from_bytes(name: &str, bytes: Vec<u8>) -> Result<Hive, RegistryError> {
        let err = |what: String| RegistryError::Hive {
            hive: name.to_string(),
            what,
        };
        if bytes.len() > MAX_HIVE_SIZE {
            return Err(RegistryError::TooLarge {
                hive: name.to_string(),
                size: bytes.len() as u64,
                max: MAX_HIVE_SIZE as u64,
            });
        }
        if bytes.len() < 4 || &bytes[..4] != b"regf" {
            return Err(RegistryError::NotRegf {
                hive: name.to_string(),
                what: describe_magic(&bytes),
            });
        }
        if bytes.len() < cells::BASE_BLOCK_LEN + 32 {
            return Err(err(format!(
                "truncated: {} bytes, less than a base block and one hive bin header",
                bytes.len()
            )));
        }
        let header = HiveHeader::parse(&bytes);
        if matches!(header.file_type, 1 | 2 | 6) {
            return Err(err(format!(
                "a transaction log (file type {}), not a primary hive",
                header.file_type
            )));
        }
        let (root, root_from_base_block) =
            cells::root_offset(&bytes, header.root_cell_offset).ok_or_else(|| {
                err(format!(
                    "no root key: neither the base block's root cell (0x{:x}) nor the first cell is a key node",
                    header.root_cell_offset
                ))
            })?;
        // notatin reads the first cell of the first bin (with its values) while
        // it opens the hive: vet that cell first.
        let first = cells::BASE_BLOCK_LEN + 32;
        if let Some(k) = cells::read_key(&bytes, first) {
            cells::vet_values(&bytes, &k).map_err(|w| err(format!("first key cell: {w}")))?;
        }
        let copy = bytes.clone();
        let parser =
            panic::contain_payload(move || ParserBuilder::from_file(Cursor::new(copy)).build())
                .map_err(|message| RegistryError::Panicked {
                    hive: name.to_string(),
                    message,
                })?
                .map_err(|e| err(format!("notatin could not open the hive: {e}")))?;
        Ok(Hive {
            name: name.to_string(),
            bytes,
            header,
            root,
            root_from_base_block,
            parser: Mutex::new(parser),
        })
    }

    /// The label given to [`Hive::from_bytes`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// True when the base block's primary and secondary sequence numbers
    /// differ: Windows did not finish writing the hive, its transaction logs
    /// hold newer data, and we read it without replaying them.
    pub fn is_dirty(&self) -> bool {
        self.header.primary_sequence != self.header.secondary_sequence
    }

    /// The base block's fields.
    pub fn header(&self) -> &HiveHeader {
        &self.header
    }

    /// Format version (major, minor): (1, 3) for NT 4.0-era hives.
    pub fn version(&self) -> (u32, u32) {
        (self.header.major_version, self.header.minor_version)
    }

    /// Base block last-written time, RFC 3339 UTC.
    pub fn last_written(&self) -> Option<FileTime> {
        self.header.last_written
    }

    /// The file name embedded in the base block (may be a partial path).
    pub fn embedded_name(&self) -> &str {
        &self.header.embedded_name
    }

    /// The size of the hive file in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Always false for an opened hive (kept for clippy's `len` rule).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The root key's own name (e.g. `CMI-CreateHive{…}` or `$$$PROTO.HIV`).
    pub fn root_name(&self) -> String {
        cells::read_key(&self.bytes, self.root)
            .map(|k| k.name)
            .unwrap_or_default()
    }

    /// True when the base block's root cell offset was unusable and the root
    /// was taken from the first cell of the first hive bin instead.
    pub fn root_recovered(&self) -> bool {
        !self.root_from_base_block
    }

    /// The key at `path` below the root (`\`-separated, case-insensitive;
    /// leading, trailing and doubled `\` ignored; the root key's own name may
    /// lead the path or not). `""` is the root. `Ok(None)` when absent.
    ///
    /// A key whose values cannot be read safely comes back without values and
    /// with a warning; a corrupt key *on the way* (its subkey list or values
    /// refused, see `cells.rs`) is an error naming it.
    pub fn key(&self, path: &str) -> Result<Option<Key>, RegistryError> {
        let parts: Vec<&str> = path.split('\\').filter(|p| !p.is_empty()).collect();
        self.key_by_components(&parts)
    }

    /// Like [`Hive::key`], with the path already split (for names that
    /// contain a backslash).
    pub fn key_by_components(&self, parts: &[&str]) -> Result<Option<Key>, RegistryError> {
        let Some(found) = self.find(parts)? else {
            return Ok(None);
        };
        if let Some(why) = &found.refused {
            return Ok(Some(self.raw_only_key(&found.raw, &found.path, why)));
        }
        self.with_parser(&found.path, |parser, hive| {
            let node = hive.notatin_node(parser, &found)?;
            Ok(Some(hive.build_key(&found.raw, &found.path, &node)))
        })
    }

    /// All subkeys of the key at `path`, each read in full; `Ok(None)` when
    /// the key is absent. Cheaper than one [`Hive::key`] call per subkey.
    pub fn subkeys(&self, path: &str) -> Result<Option<Vec<Key>>, RegistryError> {
        let parts: Vec<&str> = path.split('\\').filter(|p| !p.is_empty()).collect();
        let Some(found) = self.find(&parts)? else {
            return Ok(None);
        };
        let mut out = Vec::new();
        self.walk_from(found, 1, &mut |k| {
            out.push(k.clone());
            Walk::Descend
        })?;
        if !out.is_empty() {
            out.remove(0); // the key itself
        }
        Ok(Some(out))
    }

    /// Visits the key at `path` and, depth first, its subkeys down to
    /// `max_depth` levels below it (capped at [`MAX_DEPTH`]). A key cell that
    /// was already visited (a cycle in a corrupt hive) is not visited again.
    /// Returns `Ok(false)` when `path` does not exist.
    pub fn walk(
        &self,
        path: &str,
        max_depth: usize,
        visit: &mut dyn FnMut(&Key) -> Walk,
    ) -> Result<bool, RegistryError> {
        let parts: Vec<&str> = path.split('\\').filter(|p| !p.is_empty()).collect();
        let Some(found) = self.find(&parts)? else {
            return Ok(false);
        };
        self.walk_from(found, max_depth.min(MAX_DEPTH), visit)?;
        Ok(true)
    }

    fn corrupt(&self, path: &str, what: impl Into<String>) -> RegistryError {
        RegistryError::Corrupt {
            hive: self.name.clone(),
            path: path.to_string(),
            what: what.into(),
        }
    }

    /// Our own walk down `parts`. Every key notatin must read on the way is
    /// vetted (an error if refused); the last one's refusal is recorded.
    fn find(&self, parts: &[&str]) -> Result<Option<Found>, RegistryError> {
        if parts.len() > MAX_DEPTH {
            return Err(self.corrupt(
                &parts[..8].join("\\"),
                format!("path has {} levels, more than {MAX_DEPTH}", parts.len()),
            ));
        }
        let b = &self.bytes;
        let mut cur =
            cells::read_key(b, self.root).ok_or_else(|| self.corrupt("", "root key unreadable"))?;
        let mut parts = parts;
        // Tolerate a leading root name, unless the root has a child of that name.
        if let Some(first) = parts.first() {
            if cells::names_equal(first, &cur.name) && self.child(&cur, "", first)?.is_none() {
                parts = &parts[1..];
            }
        }
        let mut path = String::new();
        let mut indices = Vec::with_capacity(parts.len());
        for part in parts {
            cells::vet_values(b, &cur).map_err(|w| self.corrupt(&path, w))?;
            let Some((index, child)) = self.child(&cur, &path, part)? else {
                return Ok(None);
            };
            if !path.is_empty() {
                path.push('\\');
            }
            path.push_str(&child.name);
            indices.push(index);
            cur = child;
        }
        Ok(Some(Found {
            refused: cells::vet_values(b, &cur).err(),
            raw: cur,
            indices,
            path,
        }))
    }

    /// The first subkey of `key` whose name matches `name`, with its index.
    fn child(
        &self,
        key: &RawKey,
        path: &str,
        name: &str,
    ) -> Result<Option<(usize, RawKey)>, RegistryError> {
        let offsets = cells::subkey_offsets(&self.bytes, key).map_err(|w| self.corrupt(path, w))?;
        Ok(offsets.iter().enumerate().find_map(|(i, &at)| {
            cells::read_key(&self.bytes, at)
                .filter(|k| cells::names_equal(&k.name, name))
                .map(|k| (i, k))
        }))
    }

    /// Runs `f` on notatin's parser, turning a panic into an error.
    fn with_parser<T>(
        &self,
        path: &str,
        f: impl FnOnce(&mut Parser, &Hive) -> Result<T, RegistryError>,
    ) -> Result<T, RegistryError> {
        // A panic is caught below while the guard is alive, so the mutex is
        // never poisoned by one; recover from poisoning anyway.
        let mut guard = self.parser.lock().unwrap_or_else(|e| e.into_inner());
        let parser: &mut Parser = &mut guard;
        panic::contain_payload(|| f(parser, self)).unwrap_or_else(|m| {
            Err(RegistryError::Panicked {
                hive: self.name.clone(),
                message: format!("at {path:?}: {m}"),
            })
        })
    }

    /// notatin's node for the root.
    fn notatin_root(&self, parser: &mut Parser) -> Result<CellKeyNode, RegistryError> {
        let node = if self.root_from_base_block {
            parser
                .get_root_key()
                .map_err(|e| self.corrupt("", format!("notatin cannot read the root key: {e}")))?
        } else {
            // notatin's iterator starts at the first cell; it reads the root's
            // children with their values on the way, so vet them first.
            let raw = cells::read_key(&self.bytes, self.root)
                .ok_or_else(|| self.corrupt("", "root key unreadable"))?;
            for at in cells::subkey_offsets(&self.bytes, &raw).map_err(|w| self.corrupt("", w))? {
                if let Some(k) = cells::read_key(&self.bytes, at) {
                    cells::vet_values(&self.bytes, &k).map_err(|w| self.corrupt(&k.name, w))?;
                }
            }
            ParserIterator::new(parser).next()
        };
        let node = node.ok_or_else(|| self.corrupt("", "notatin found no root key"))?;
        if node.file_offset_absolute != self.root {
            return Err(self.corrupt(
                "",
                format!(
                    "notatin's root is at 0x{:x}, ours at 0x{:x}",
                    node.file_offset_absolute, self.root
                ),
            ));
        }
        Ok(node)
    }

    /// notatin's node for a key our walk found.
    fn notatin_node(
        &self,
        parser: &mut Parser,
        found: &Found,
    ) -> Result<CellKeyNode, RegistryError> {
        let mut node = self.notatin_root(parser)?;
        for &i in &found.indices {
            node = node.get_sub_key_by_index(parser, i).ok_or_else(|| {
                self.corrupt(
                    &found.path,
                    format!("notatin cannot read subkey #{i} of {:?}", node.path),
                )
            })?;
        }
        if node.file_offset_absolute != found.raw.offset {
            return Err(self.corrupt(
                &found.path,
                format!(
                    "notatin reached the key cell at 0x{:x}, our walk 0x{:x}",
                    node.file_offset_absolute, found.raw.offset
                ),
            ));
        }
        Ok(node)
    }

    /// A [`Key`] without values, for a key whose values we refuse to read.
    fn raw_only_key(&self, raw: &RawKey, path: &str, why: &str) -> Key {
        let mut key = self.build_key(raw, path, &CellKeyNode::default());
        key.warnings.retain(|w| !w.contains("could be read"));
        key.warnings.push(format!("values not read: {why}"));
        key
    }

    /// A [`Key`] from our raw view (names, timestamp) and notatin's node (values).
    fn build_key(&self, raw: &RawKey, path: &str, node: &CellKeyNode) -> Key {
        let mut warnings = Vec::new();
        let mut subkeys = Vec::new();
        match cells::subkey_offsets(&self.bytes, raw) {
            Ok(offsets) => {
                for at in offsets {
                    match cells::read_key(&self.bytes, at) {
                        Some(k) => subkeys.push(k.name),
                        None => warnings.push(format!("subkey entry 0x{at:x} is not a key node")),
                    }
                }
            }
            Err(w) => warnings.push(format!("subkeys unreadable: {w}")),
        }
        if subkeys.len() as u64 != u64::from(raw.subkey_count) && warnings.is_empty() {
            warnings.push(format!(
                "key says {} subkeys, its list holds {}",
                raw.subkey_count,
                subkeys.len()
            ));
        }
        let mut values = Vec::new();
        for v in node.value_iter() {
            let name = v.detail.value_name();
            if let Some(logs) = v.logs.get() {
                for l in logs {
                    use notatin::log::LogCode::*;
                    if matches!(l.code, WarningParse | WarningBigDataContent) {
                        warnings.push(format!("value {name:?}: {}", l.text));
                    }
                }
            }
            let bytes = v.detail.value_bytes().unwrap_or_default();
            values.push(Value {
                data: ValueData::decode(v.detail.data_type_raw(), &bytes),
                name,
            });
        }
        if values.len() as u64 != u64::from(raw.value_count) && raw.value_count <= 1024 * 1024 {
            warnings.push(format!(
                "key says {} values, {} could be read",
                raw.value_count,
                values.len()
            ));
        }
        if let Some(logs) = node.logs.get() {
            for l in logs {
                if l.code == notatin::log::LogCode::WarningParse {
                    warnings.push(l.text.clone());
                }
            }
        }
        Key {
            path: path.to_string(),
            last_written: FileTime::new(raw.last_written),
            values,
            subkeys,
            warnings,
        }
    }

    fn walk_from(
        &self,
        start: Found,
        max_depth: usize,
        visit: &mut dyn FnMut(&Key) -> Walk,
    ) -> Result<(), RegistryError> {
        if let Some(why) = &start.refused {
            visit(&self.raw_only_key(&start.raw, &start.path, why));
            return Ok(());
        }
        let start_path = start.path.clone();
        self.with_parser(&start_path, |parser, hive| {
            let node = hive.notatin_node(parser, &start)?;
            let mut visited = HashSet::new();
            visited.insert(start.raw.offset);
            // A key whose node is `Err(why)` is shown without values and not
            // descended into: notatin cannot reach its subkeys.
            let mut stack: Vec<(RawKey, Result<CellKeyNode, String>, String, usize)> =
                vec![(start.raw, Ok(node), start.path, 0)];
            while let Some((raw, node, path, depth)) = stack.pop() {
                let mut node = match node {
                    Ok(node) => node,
                    Err(why) => {
                        if visit(&hive.raw_only_key(&raw, &path, &why)) == Walk::Stop {
                            break;
                        }
                        continue;
                    }
                };
                match visit(&hive.build_key(&raw, &path, &node)) {
                    Walk::Stop => break,
                    Walk::Skip => continue,
                    Walk::Descend if depth >= max_depth => continue,
                    Walk::Descend => {}
                }
                let Ok(offsets) = cells::subkey_offsets(&hive.bytes, &raw) else {
                    continue; // already reported in the key's warnings
                };
                let mut children = Vec::new();
                for (i, at) in offsets.into_iter().enumerate() {
                    let Some(child) = cells::read_key(&hive.bytes, at) else {
                        continue; // reported in the parent's warnings
                    };
                    if !visited.insert(at) {
                        continue; // a cycle or a duplicate entry
                    }
                    let child_path = if path.is_empty() {
                        child.name.clone()
                    } else {
                        format!("{path}\\{}", child.name)
                    };
                    let child_node = match cells::vet_values(&hive.bytes, &child) {
                        Err(why) => Err(why),
                        Ok(()) => match node.get_sub_key_by_index(parser, i) {
                            Some(n) if n.file_offset_absolute == at => Ok(n),
                            Some(n) => Err(format!(
                                "notatin read subkey #{i} at 0x{:x}, our walk at 0x{at:x}",
                                n.file_offset_absolute
                            )),
                            None => Err(format!("notatin cannot read subkey #{i}")),
                        },
                    };
                    children.push((child, child_node, child_path, depth + 1));
                }
                // Pop in the hive's order.
                children.reverse();
                stack.extend(children);
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hive_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Hive>();
    }

    #[test]
    fn filetimes() {
        // 2001-08-15T10:00:00Z = 997869600 s after the Unix epoch.
        let t = 116_444_736_000_000_000u64 + 997_869_600 * 10_000_000;
        assert_eq!(
            filetime_to_rfc3339(t).as_deref(),
            Some("2001-08-15T10:00:00Z")
        );
        assert_eq!(filetime_to_rfc3339(0), None);
        assert_eq!(
            filetime_to_rfc3339(1).as_deref(),
            Some("1601-01-01T00:00:00Z")
        );
        assert!(filetime_to_rfc3339(u64::MAX).is_some());
    }

    #[test]
    fn names() {
        assert!(cells::names_equal("W3SVC", "w3svc"));
        assert!(cells::names_equal("Ärger", "äRGER"));
        assert!(!cells::names_equal("W3SVC", "W3SVC2"));
        assert!(cells::names_equal("straße", "STRAßE")); // ß has no one-char upper case
    }
}
