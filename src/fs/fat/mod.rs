//! One FAT12/16/32 volume, read-only: our own small reader over the image
//! [`Window`], so that every cap and every cycle check is ours.
//!
//! Why not a crate: `fatfs` 0.3.6 wants a writable handle, may write back on
//! drop and can loop on a cyclic directory chain; `hadris-fat` 2.x is
//! read-only but young. Reading FAT is a few hundred lines (boot sector,
//! table, 32-byte directory entries, long names), so we keep it in our hands.
//!
//! - The FAT type comes from the cluster count, as the Microsoft FAT
//!   specification (`fatgen103`) says: below 4085 FAT12, below 65525 FAT16,
//!   else FAT32 — never from the type string in the boot sector.
//! - Names: the long name when its entries are whole and their checksum
//!   matches the 8.3 entry, else the 8.3 name (with NT's lower-case flags).
//!   Lookups accept either; short names compare by ASCII upper-casing, long
//!   names by simple Unicode upper-casing, as Windows does.
//! - [`FileId`] is the volume byte offset of the file's 8.3 directory entry
//!   (0 for the root, where the boot sector lies): unique per file even
//!   when hostile entries share clusters, and stable under repeated listing,
//!   so a walker's seen-set catches a directory that contains itself.
//! - Times: FAT stores local time, zone unknown at this layer. `Entry`
//!   carries them as if they were UTC; the Windows loader converts an
//!   install's times with its hive's TimeZoneInformation Bias
//!   (`windows::LocalTimes`).
//! - Hostile input: chains end at the cluster count (a visited set catches
//!   cycles), directories stop at 65,536 entries (the specification's
//!   limit), files at [`MAX_FILE_BYTES`] and at what their chain holds; a
//!   subdirectory that points at its own directory or the root is kept as an
//!   unreadable entry.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use super::{components, Entry, FileData, FileId, FsError, Volume, MAX_FILE_BYTES};
use crate::image::{Disk, Window};
use crate::le::{le16, le32};
use crate::time::FileTime;
use crate::volume::Filesystem;

mod name;

use self::name::{long_key, short_key, ShortName};

/// Entries in one directory: the FAT specification's limit (2 MiB).
const MAX_DIR_ENTRIES: usize = 65_536;
const ENTRY: usize = 32;
const ATTR_VOLUME_ID: u8 = 0x08;
const ATTR_DIRECTORY: u8 = 0x10;
const ATTR_LONG_NAME: u8 = 0x0F;
/// Parsed directories kept for lookups, cleared when full.
const MAX_CACHED_DIRS: usize = 1024;
/// The root directory's id: offset 0 is the boot sector, never an entry.
const ROOT_ID: u64 = 0;

/// FAT12, FAT16 or FAT32.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FatType {
    Fat12,
    Fat16,
    Fat32,
}

impl FatType {
    pub fn name(self) -> &'static str {
        match self {
            FatType::Fat12 => "FAT12",
            FatType::Fat16 => "FAT16",
            FatType::Fat32 => "FAT32",
        }
    }

    /// The smallest value that ends a chain.
    fn end_of_chain(self) -> u32 {
        match self {
            FatType::Fat12 => 0xFF8,
            FatType::Fat16 => 0xFFF8,
            FatType::Fat32 => 0x0FFF_FFF8,
        }
    }

    fn bad_cluster(self) -> u32 {
        self.end_of_chain() - 1
    }
}

/// The geometry the boot sector gives.
#[derive(Debug, Clone)]
struct Layout {
    fat_type: FatType,
    cluster_bytes: u32,
    /// Offset of the FAT in use.
    fat_offset: u64,
    fat_bytes: u64,
    /// FAT12/16: the fixed root region.
    root_offset: u64,
    root_entries: u32,
    /// FAT32: the root directory's first cluster.
    root_cluster: u32,
    data_offset: u64,
    /// Data clusters, numbered 2..clusters + 2.
    clusters: u32,
    bpb_label: Option<String>,
}

/// One parsed 8.3 entry with its long name when that was whole.
#[derive(Debug, Clone)]
struct DirEntry {
    /// The name shown: the long name, else the 8.3 name.
    name: String,
    /// Comparison keys of `name` and of the 8.3 alias (`PROGRA~1`).
    key: Vec<u16>,
    short_key: Vec<u16>,
    /// Volume offset of the 8.3 entry: the file's id.
    pos: u64,
    attr: u8,
    first_cluster: u32,
    size: u32,
    created: Option<FileTime>,
    modified: Option<FileTime>,
}

impl DirEntry {
    fn is_dir(&self) -> bool {
        self.attr & ATTR_DIRECTORY != 0
    }
}

/// A parsed directory.
struct Dir {
    entries: Vec<DirEntry>,
    label: Option<String>,
}

/// An opened FAT volume on a disk.
pub struct FatVolume<'d> {
    window: Window<'d>,
    layout: Layout,
    degraded: Vec<(String, String)>,
    dirs: Mutex<HashMap<u64, Arc<Dir>>>,
}

impl<'d> FatVolume<'d> {
    /// Opens the FAT volume of `len` bytes at `offset` on `disk`.
    pub fn open(disk: &'d dyn Disk, offset: u64, len: u64) -> Result<Self, FsError> {
        let window = Window::new(disk, offset, len);
        let mut boot = [0u8; 512];
        window
            .read_exact_at(0, &mut boot)
            .map_err(|e| FsError::FatVolume {
                offset,
                what: format!("cannot read the boot sector: {e}"),
            })?;
        let mut degraded = Vec::new();
        let layout = parse_boot(&boot, window.len(), &mut degraded)
            .map_err(|what| FsError::FatVolume { offset, what })?;
        Ok(FatVolume {
            window,
            layout,
            degraded,
            dirs: Mutex::new(HashMap::new()),
        })
    }

    pub fn fat_type(&self) -> FatType {
        self.layout.fat_type
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), String> {
        self.window
            .read_exact_at(offset, buf)
            .map_err(|e| format!("reading {} bytes at volume offset {offset}: {e}", buf.len()))
    }

    /// The FAT's value for cluster `n`.
    fn next(&self, n: u32) -> Result<u32, String> {
        let l = &self.layout;
        let (at, width) = match l.fat_type {
            FatType::Fat12 => (u64::from(n) + u64::from(n) / 2, 2),
            FatType::Fat16 => (u64::from(n) * 2, 2),
            FatType::Fat32 => (u64::from(n) * 4, 4),
        };
        if at + width > l.fat_bytes {
            return Err(format!("cluster {n} has no entry in the FAT"));
        }
        let mut b = [0u8; 4];
        self.read_at(l.fat_offset + at, &mut b[..width as usize])?;
        Ok(match l.fat_type {
            FatType::Fat12 => {
                let v = u32::from(u16::from_le_bytes([b[0], b[1]]));
                if n & 1 == 1 {
                    v >> 4
                } else {
                    v & 0xFFF
                }
            }
            FatType::Fat16 => u32::from(u16::from_le_bytes([b[0], b[1]])),
            FatType::Fat32 => u32::from_le_bytes(b) & 0x0FFF_FFFF,
        })
    }

    fn in_range(&self, c: u32) -> bool {
        c >= 2 && u64::from(c) < u64::from(self.layout.clusters) + 2
    }

    /// The clusters of the chain starting at `first`, at most `limit` of
    /// them (the chain may go on). Cycles, free or bad clusters and
    /// clusters out of range are errors: a chain is never longer than the
    /// cluster count.
    fn chain(&self, first: u32, limit: u64) -> Result<Vec<u32>, String> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut c = first;
        let eoc = self.layout.fat_type.end_of_chain();
        let bad = self.layout.fat_type.bad_cluster();
        loop {
            if !self.in_range(c) {
                return Err(format!(
                    "cluster chain from {first} reaches cluster {c}, outside the volume's {} clusters",
                    self.layout.clusters
                ));
            }
            if !seen.insert(c) {
                return Err(format!(
                    "cluster chain from {first} loops back to cluster {c}"
                ));
            }
            out.push(c);
            if out.len() as u64 >= limit {
                return Ok(out);
            }
            let n = self.next(c)?;
            if n >= eoc {
                return Ok(out);
            }
            if n == bad {
                return Err(format!(
                    "cluster chain from {first} reaches a cluster marked bad after {c}"
                ));
            }
            if n == 0 {
                return Err(format!(
                    "cluster chain from {first} reaches a free cluster after {c} (a damaged FAT)"
                ));
            }
            c = n;
        }
    }

    fn cluster_offset(&self, c: u32) -> u64 {
        self.layout.data_offset + u64::from(c - 2) * u64::from(self.layout.cluster_bytes)
    }

    /// The raw entries of a directory: the fixed root region, or the chain
    /// from `first` read one cluster at a time up to the cluster holding the
    /// end marker (a damaged tail past it does no harm), at most 65,536
    /// entries. Also the volume offset of each piece read.
    fn dir_bytes(&self, first: Option<u32>) -> Result<(Vec<u8>, Vec<u64>), String> {
        let max = MAX_DIR_ENTRIES * ENTRY;
        let Some(c) = first else {
            let len = (self.layout.root_entries as usize * ENTRY).min(max);
            let mut bytes = vec![0u8; len];
            self.read_at(self.layout.root_offset, &mut bytes)?;
            return Ok((bytes, vec![self.layout.root_offset]));
        };
        let cb = self.layout.cluster_bytes as usize;
        let eoc = self.layout.fat_type.end_of_chain();
        let mut bytes = Vec::new();
        let mut pieces = Vec::new();
        let mut seen = HashSet::new();
        let mut cur = c;
        loop {
            if !self.in_range(cur) {
                return Err(format!(
                    "directory cluster chain from {c} reaches cluster {cur}, outside the volume's {} clusters",
                    self.layout.clusters
                ));
            }
            if !seen.insert(cur) {
                return Err(format!(
                    "directory cluster chain from {c} loops back to cluster {cur}"
                ));
            }
            let off = self.cluster_offset(cur);
            let at = bytes.len();
            bytes.resize(at + cb, 0);
            self.read_at(off, &mut bytes[at..])?;
            pieces.push(off);
            let ended = bytes[at..].chunks_exact(ENTRY).any(|e| e[0] == 0);
            if ended || bytes.len() >= max {
                break;
            }
            let n = self.next(cur)?;
            if n >= eoc {
                break;
            }
            if n == 0 {
                return Err(format!(
                    "directory cluster chain from {c} reaches a free cluster after {cur} (a damaged FAT)"
                ));
            }
            cur = n;
        }
        bytes.truncate(max);
        Ok((bytes, pieces))
    }

    /// The parsed directory whose first cluster is `first` (`None`: the
    /// FAT12/16 root).
    fn dir(&self, first: Option<u32>, path: &str, id: FileId) -> Result<Arc<Dir>, FsError> {
        let key = first.map_or(u64::MAX, u64::from);
        if let Some(d) = self.dirs.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(d);
        }
        let file_err = |what: String| FsError::FatFile {
            path: display_path(path),
            id,
            what,
        };
        let (bytes, pieces) = self.dir_bytes(first).map_err(file_err)?;
        let piece_len = match first {
            None => bytes.len().max(1) as u64,
            Some(_) => u64::from(self.layout.cluster_bytes),
        };
        let pos = |i: usize| {
            let byte = (i * ENTRY) as u64;
            pieces[(byte / piece_len) as usize] + byte % piece_len
        };
        let dir = Arc::new(parse_dir(&bytes, pos));
        if let Ok(mut m) = self.dirs.lock() {
            if m.len() >= MAX_CACHED_DIRS {
                m.clear();
            }
            m.insert(key, dir.clone());
        }
        Ok(dir)
    }

    /// The first cluster of the directory `entry` (`None`: the FAT12/16 root).
    fn dir_start(&self, entry: &Entry) -> Result<Option<u32>, FsError> {
        if entry.id.0 == ROOT_ID {
            return Ok(self.root_start());
        }
        let raw = self.raw_entry(entry)?;
        if raw.first_cluster == 0 {
            // `..` of a first-level folder says 0 for the root; a folder
            // entry never does.
            return Err(FsError::FatFile {
                path: display_path(&entry.path),
                id: entry.id,
                what: "directory entry names no first cluster".into(),
            });
        }
        Ok(Some(raw.first_cluster))
    }

    fn root_start(&self) -> Option<u32> {
        (self.layout.fat_type == FatType::Fat32).then_some(self.layout.root_cluster)
    }

    /// Re-reads the 8.3 entry behind `entry` (its id is the entry's offset).
    fn raw_entry(&self, entry: &Entry) -> Result<DirEntry, FsError> {
        let mut b = [0u8; ENTRY];
        self.read_at(entry.id.0, &mut b)
            .map_err(|what| FsError::FatFile {
                path: display_path(&entry.path),
                id: entry.id,
                what,
            })?;
        Ok(short_entry(&b, entry.id.0))
    }

    fn to_entry(&self, parent: &str, d: &DirEntry, parent_start: Option<u32>) -> Entry {
        let path = format!("{parent}\\{}", d.name);
        let id = FileId(d.pos);
        if d.is_dir() {
            let why = if d.first_cluster == 0 {
                Some("directory entry names no first cluster".to_string())
            } else if Some(d.first_cluster) == parent_start
                || Some(d.first_cluster) == self.root_start()
            {
                Some(format!(
                    "directory entry points back at cluster {} (a cycle)",
                    d.first_cluster
                ))
            } else if !self.in_range(d.first_cluster) {
                Some(format!(
                    "directory starts at cluster {}, outside the volume",
                    d.first_cluster
                ))
            } else {
                None
            };
            if let Some(why) = why {
                return Entry::unreadable(path, id, true, why);
            }
        }
        Entry {
            path,
            id,
            metadata: false,
            is_dir: d.is_dir(),
            size: if d.is_dir() { 0 } else { u64::from(d.size) },
            created: d.created,
            modified: d.modified,
            mft_modified: None,
            compressed: false,
            error: None,
        }
    }

    fn root_entry(&self) -> Entry {
        Entry {
            path: String::new(),
            id: FileId(ROOT_ID),
            metadata: false,
            is_dir: true,
            size: 0,
            created: None,
            modified: None,
            mft_modified: None,
            compressed: false,
            error: None,
        }
    }
}

impl Volume for FatVolume<'_> {
    fn kind(&self) -> Filesystem {
        Filesystem::Fat
    }

    fn label(&self) -> Option<String> {
        self.dir(self.root_start(), "", FileId(ROOT_ID))
            .ok()
            .and_then(|d| d.label.clone())
            .or_else(|| self.layout.bpb_label.clone())
    }

    fn version(&self) -> Option<String> {
        Some(self.fat_type().name().to_string())
    }

    fn cluster_size(&self) -> u32 {
        self.layout.cluster_bytes
    }

    fn degraded(&self) -> Vec<(String, String)> {
        self.degraded.clone()
    }

    fn root(&self) -> Result<Entry, FsError> {
        Ok(self.root_entry())
    }

    fn lookup(&self, path: &str) -> Result<Entry, FsError> {
        let parts = components(path).map_err(|what| FsError::FatFile {
            path: path.to_string(),
            id: FileId(ROOT_ID),
            what,
        })?;
        let mut entry = self.root_entry();
        let mut start = self.root_start();
        for (i, part) in parts.iter().enumerate() {
            if !entry.is_dir {
                return Err(FsError::NotFound {
                    path: format!("{}\\{part}", entry.path),
                });
            }
            if let Some(e) = &entry.error {
                return Err(FsError::FatFile {
                    path: display_path(&entry.path),
                    id: entry.id,
                    what: e.clone(),
                });
            }
            let dir = self.dir(start, &entry.path, entry.id)?;
            let long = long_key(part);
            let short = short_key(part);
            let found = dir
                .entries
                .iter()
                .find(|d| d.key == long || d.short_key == short)
                .ok_or_else(|| FsError::NotFound {
                    path: format!("{}\\{part}", entry.path),
                })?;
            entry = self.to_entry(&entry.path, found, start);
            if i + 1 < parts.len() && entry.is_dir && entry.error.is_none() {
                start = Some(found.first_cluster);
            }
        }
        Ok(entry)
    }

    fn list(&self, dir: &Entry) -> Result<Vec<Entry>, FsError> {
        if let Some(e) = &dir.error {
            return Err(FsError::FatFile {
                path: display_path(&dir.path),
                id: dir.id,
                what: e.clone(),
            });
        }
        if !dir.is_dir {
            return Err(FsError::FatFile {
                path: display_path(&dir.path),
                id: dir.id,
                what: "not a directory".into(),
            });
        }
        let start = self.dir_start(dir)?;
        let parsed = self.dir(start, &dir.path, dir.id)?;
        let mut out: Vec<(&Vec<u16>, Entry)> = parsed
            .entries
            .iter()
            .map(|d| (&d.key, self.to_entry(&dir.path, d, start)))
            .collect();
        out.sort_by(|a, b| a.0.cmp(b.0).then_with(|| a.1.id.cmp(&b.1.id)));
        Ok(out.into_iter().map(|(_, e)| e).collect())
    }

    fn read(&self, entry: &Entry) -> Result<FileData<'_>, FsError> {
        let err = |what: String| FsError::FatFile {
            path: display_path(&entry.path),
            id: entry.id,
            what,
        };
        if let Some(e) = &entry.error {
            return Err(err(e.clone()));
        }
        if entry.is_dir || entry.id.0 == ROOT_ID {
            return Err(err("is a directory".into()));
        }
        let raw = self.raw_entry(entry)?;
        let size = u64::from(raw.size);
        if size > MAX_FILE_BYTES {
            return Err(err(format!(
                "file size {size} is more than the {MAX_FILE_BYTES} bytes we read"
            )));
        }
        if size == 0 {
            return Ok(Cow::Borrowed(&[]));
        }
        if raw.first_cluster == 0 {
            return Err(err(format!("file of {size} bytes names no first cluster")));
        }
        let cb = u64::from(self.layout.cluster_bytes);
        let need = size.div_ceil(cb);
        let chain = self.chain(raw.first_cluster, need).map_err(err)?;
        let holds = chain.len() as u64 * cb;
        if holds < size {
            return Err(err(format!(
                "file size {size} but its cluster chain holds only {holds} bytes ({} clusters)",
                chain.len()
            )));
        }
        // One run of a memory-mapped image: no copy.
        let contiguous = chain.windows(2).all(|w| w[1] == w[0] + 1);
        let start = self.cluster_offset(chain[0]);
        if contiguous {
            if let Some(bytes) = self.window.as_bytes() {
                let s = usize::try_from(start).ok();
                let e = s.and_then(|s| s.checked_add(size as usize));
                if let Some(data) = s.zip(e).and_then(|(s, e)| bytes.get(s..e)) {
                    return Ok(Cow::Borrowed(data));
                }
            }
        }
        let mut out = vec![0u8; size as usize];
        for (i, chunk) in out.chunks_mut(cb as usize).enumerate() {
            self.read_at(self.cluster_offset(chain[i]), chunk)
                .map_err(err)?;
        }
        Ok(Cow::Owned(out))
    }

    fn names_equal(&self, a: &str, b: &str) -> bool {
        long_key(a) == long_key(b)
    }
}

/// `\` for the root in messages.
fn display_path(path: &str) -> String {
    if path.is_empty() {
        "\\".into()
    } else {
        path.to_string()
    }
}

/// Reads the BIOS parameter block. Errors name the field that is wrong.
fn parse_boot(
    b: &[u8],
    volume_len: u64,
    degraded: &mut Vec<(String, String)>,
) -> Result<Layout, String> {
    let bps = u32::from(le16(b, 11));
    if !matches!(bps, 512 | 1024 | 2048 | 4096) {
        return Err(format!(
            "bytes per sector {bps} is not 512, 1024, 2048 or 4096"
        ));
    }
    let spc = u32::from(b[13]);
    if spc == 0 || !spc.is_power_of_two() {
        return Err(format!("sectors per cluster {spc} is not a power of two"));
    }
    let cluster_bytes = bps * spc;
    if cluster_bytes > 64 * 1024 {
        return Err(format!("cluster size {cluster_bytes} is more than 64 KiB"));
    }
    let reserved = u64::from(le16(b, 14));
    if reserved == 0 {
        return Err("no reserved sectors (the boot sector is one)".into());
    }
    let fats = u64::from(b[16]);
    if fats == 0 {
        return Err("the boot sector names no FAT".into());
    }
    let root_entries = u32::from(le16(b, 17));
    let total = match le16(b, 19) {
        0 => u64::from(le32(b, 32)),
        n => u64::from(n),
    };
    let fat_sectors = match le16(b, 22) {
        0 => u64::from(le32(b, 36)),
        n => u64::from(n),
    };
    if total == 0 || fat_sectors == 0 {
        return Err("the boot sector gives no sector count or no FAT size".into());
    }
    let bps64 = u64::from(bps);
    let root_sectors = (u64::from(root_entries) * ENTRY as u64).div_ceil(bps64);
    let meta = reserved + fats * fat_sectors + root_sectors;
    let data_sectors = total.checked_sub(meta).filter(|&d| d > 0).ok_or_else(|| {
        format!("{total} sectors leave no room for data after {meta} of FATs and root")
    })?;
    let mut clusters = data_sectors / u64::from(spc);
    let fat_type = if clusters < 4085 {
        FatType::Fat12
    } else if clusters < 65525 {
        FatType::Fat16
    } else {
        FatType::Fat32
    };
    if clusters > 0x0FFF_FFF5 {
        return Err(format!("{clusters} clusters is more than FAT32 can number"));
    }
    let mut active = 0;
    let (root_cluster, label_at, sig_at) = if fat_type == FatType::Fat32 {
        if root_entries != 0 {
            return Err(format!(
                "a FAT32 volume ({clusters} clusters) with a fixed root of {root_entries} entries"
            ));
        }
        let flags = le16(b, 40);
        if flags & 0x80 != 0 && u64::from(flags & 0x0F) < fats {
            active = u64::from(flags & 0x0F);
        }
        (le32(b, 44), 71, 66)
    } else {
        if root_entries == 0 {
            return Err(format!(
                "a {} volume ({clusters} clusters) with no root directory entries",
                fat_type.name()
            ));
        }
        (0, 43, 38)
    };
    let fat_bytes = fat_sectors * bps64;
    // A FAT too small for the cluster count: the clusters it cannot number
    // are not in use.
    let numbered = match fat_type {
        FatType::Fat12 => fat_bytes * 2 / 3,
        FatType::Fat16 => fat_bytes / 2,
        FatType::Fat32 => fat_bytes / 4,
    }
    .saturating_sub(2);
    if numbered < clusters {
        degraded.push((
            "FAT".into(),
            format!("the FAT numbers {numbered} clusters, the boot sector gives {clusters}; the rest are not read"),
        ));
        clusters = numbered;
    }
    let data_offset = meta * bps64;
    let layout = Layout {
        fat_type,
        cluster_bytes,
        fat_offset: (reserved + active * fat_sectors) * bps64,
        fat_bytes,
        root_offset: (reserved + fats * fat_sectors) * bps64,
        root_entries,
        root_cluster,
        data_offset,
        clusters: clusters as u32,
        bpb_label: (b[sig_at] == 0x29)
            .then(|| label_text(&b[label_at..label_at + 11]))
            .flatten(),
    };
    if data_offset > volume_len {
        return Err(format!(
            "the data region starts at byte {data_offset}, past the volume's {volume_len} bytes"
        ));
    }
    if fat_type == FatType::Fat32
        && !(2..u64::from(layout.clusters) + 2).contains(&u64::from(root_cluster))
    {
        return Err(format!(
            "root directory cluster {root_cluster} is outside the volume"
        ));
    }
    Ok(layout)
}

/// A label field, trimmed; `None` for blank or "NO NAME".
fn label_text(b: &[u8]) -> Option<String> {
    let s = name::oem_text(b);
    let s = s.trim_end_matches([' ', '\0']).to_string();
    (!s.is_empty() && s != "NO NAME").then_some(s)
}

/// The 8.3 entry at `pos` (its 32 bytes in `e`), without a long name.
fn short_entry(e: &[u8], pos: u64) -> DirEntry {
    let short = ShortName::parse(e);
    let hi = if e.len() >= 32 {
        u32::from(le16(e, 20))
    } else {
        0
    };
    let lo = u32::from(le16(e, 26));
    let shown = short.shown();
    DirEntry {
        key: long_key(&shown),
        short_key: short_key(&shown),
        name: shown,
        pos,
        attr: e[11],
        first_cluster: (hi << 16 | lo) & 0x0FFF_FFFF,
        size: le32(e, 28),
        created: fat_time(le16(e, 16), le16(e, 14), e[13]),
        modified: fat_time(le16(e, 24), le16(e, 22), 0),
    }
}

/// Parses the 32-byte entries of one directory; `pos(i)` is the volume
/// offset of entry `i`. `.`, `..`, deleted entries and long-name pieces are
/// not listed; the volume label is kept apart.
fn parse_dir(bytes: &[u8], pos: impl Fn(usize) -> u64) -> Dir {
    let mut entries = Vec::new();
    let mut label = None;
    let mut lfn: Vec<&[u8]> = Vec::new();
    for (i, e) in bytes.chunks_exact(ENTRY).enumerate().take(MAX_DIR_ENTRIES) {
        match e[0] {
            0x00 => break,
            0xE5 => {
                lfn.clear();
                continue;
            }
            _ => {}
        }
        let attr = e[11];
        if attr & 0x3F == ATTR_LONG_NAME {
            if e[0] & 0x40 != 0 {
                lfn.clear();
            }
            lfn.push(e);
            continue;
        }
        let pieces = std::mem::take(&mut lfn);
        if attr & ATTR_VOLUME_ID != 0 {
            if label.is_none() {
                label = label_text(&e[0..11]);
            }
            continue;
        }
        if e[0] == b'.' && (&e[1..11] == b"          " || &e[1..11] == b".         ") {
            continue;
        }
        let mut d = short_entry(e, pos(i));
        if let Some(long) = name::long_name(&pieces, &e[0..11]) {
            d.key = long_key(&long);
            d.name = long;
        }
        entries.push(d);
    }
    Dir { entries, label }
}

/// A FAT date and time (local time, zone unknown at this layer) as a
/// FILETIME taken as if it were UTC; `centis` is the create time's 10 ms
/// field (0..=199). `None` for zero or impossible values.
fn fat_time(date: u16, time: u16, centis: u8) -> Option<FileTime> {
    if date == 0 {
        return None;
    }
    let day = u32::from(date & 0x1F);
    let month = u32::from((date >> 5) & 0x0F);
    let year = 1980 + i32::from(date >> 9);
    let sec = u32::from(time & 0x1F) * 2;
    let min = u32::from((time >> 5) & 0x3F);
    let hour = u32::from(time >> 11);
    let t = chrono::NaiveDate::from_ymd_opt(year, month, day)?.and_hms_opt(hour, min, sec)?;
    let unix = t.and_utc().timestamp();
    let extra = u64::from(centis.min(199)) * 100_000;
    let ticks = u64::try_from(unix + 11_644_473_600).ok()? * 10_000_000 + extra;
    FileTime::new(ticks)
}

#[cfg(test)]
mod tests;
