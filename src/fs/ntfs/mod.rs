//! One NTFS volume: open it, list directories, look up paths
//! case-insensitively by the volume's $UpCase, and read files.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ntfs::attribute_value::NtfsAttributeValue;
use ntfs::{Ntfs, NtfsAttribute, NtfsAttributeFlags, NtfsAttributeType, NtfsFile, NtfsReadSeek};

pub(crate) mod compressed;
pub(crate) mod index;
pub mod mft_scan;
pub(crate) mod record;
mod stream;

use self::compressed::Run;
use self::index::IndexEntry;
use self::record::Attribute;
use self::record::{FIRST_USER_RECORD, ROOT_RECORD};
use super::{components, Entry, FileData, FileId, FsError, Volume, MAX_FILE_BYTES};
use crate::image::{Disk, Window};
use crate::panic::contain;
use crate::time::FileTime;
use crate::volume::Filesystem;

/// Largest directory index we read (all of $INDEX_ALLOCATION): a system32 of
/// 20,000 files takes about 4 MiB, so 64 MiB leaves room without letting a
/// hostile size field allocate gigabytes.
const MAX_INDEX_BYTES: u64 = 64 << 20;
/// Entries in one directory; far beyond any real Windows folder.
const MAX_DIR_ENTRIES: usize = 1_000_000;
/// Record number of $UpCase.
const UPCASE_RECORD: u64 = 10;
const FILE_ATTRIBUTE_COMPRESSED: u32 = 0x0800;
/// Parsed directories kept for lookups. A diagnosis walks system32 once per
/// registry-named file; re-parsing its index each time cost 0.4 ms a lookup
/// on a 300,000-file volume (benches/RESULTS.md). Cleared when full.
const MAX_CACHED_DIRS: usize = 4096;

/// A parsed directory index and each name's $UpCase key.
struct Dir {
    entries: Vec<IndexEntry>,
    keys: Vec<Vec<u16>>,
}

/// An opened NTFS volume on a disk. Methods take `&self` and give each call
/// its own cursor, so one volume is shared by all rayon workers.
pub struct NtfsVolume<'d> {
    window: Window<'d>,
    ntfs: Ntfs,
    upcase: Option<Vec<u16>>,
    dirs: Mutex<HashMap<u64, Arc<Dir>>>,
}

impl<'d> NtfsVolume<'d> {
    /// Opens the NTFS volume of `len` bytes at `offset` on `disk`.
    pub fn open(disk: &'d dyn Disk, offset: u64, len: u64) -> Result<Self, FsError> {
        let window = Window::new(disk, offset, len);
        let vol_err = |what: String| FsError::Volume { offset, what };
        let ntfs = contain(|| Ntfs::new(&mut window.clone()))
            .map_err(vol_err)?
            .map_err(|e| vol_err(format!("not a readable NTFS boot sector: {}", ntfs_text(e))))?;
        let mut volume = NtfsVolume {
            window,
            ntfs,
            upcase: None,
            dirs: Mutex::new(HashMap::new()),
        };
        // $UpCase drives name comparison; without it we fall back to simple
        // case folding and say so (see `upcase_missing`).
        volume.upcase = volume
            .read_record(UPCASE_RECORD, "\\$UpCase")
            .ok()
            .and_then(|d| {
                (d.len() == 131_072).then(|| {
                    d.chunks_exact(2)
                        .map(|c| u16::from_le_bytes([c[0], c[1]]))
                        .collect()
                })
            });
        Ok(volume)
    }

    pub fn offset(&self) -> u64 {
        self.window.base()
    }

    pub fn size(&self) -> u64 {
        self.window.len()
    }

    pub fn cluster_size(&self) -> u32 {
        self.ntfs.cluster_size()
    }

    pub fn serial_number(&self) -> u64 {
        self.ntfs.serial_number()
    }

    /// True when $UpCase could not be read and names are compared by simple
    /// Unicode case folding instead.
    pub fn upcase_missing(&self) -> bool {
        self.upcase.is_none()
    }

    /// The volume label, if it has one.
    pub fn label(&self) -> Option<String> {
        let mut w = self.window.clone();
        contain(|| {
            let name = self.ntfs.volume_name(&mut w)?.ok()?;
            Some(name.name().to_string_lossy())
        })
        .ok()
        .flatten()
    }

    /// The root directory.
    pub fn root(&self) -> Result<Entry, FsError> {
        self.stat(ROOT_RECORD, String::new())
    }

    /// Looks `path` up from the root, comparing names as Windows does (by
    /// $UpCase). The result carries the names as stored on disk.
    pub fn lookup(&self, path: &str) -> Result<Entry, FsError> {
        let parts = components(path).map_err(|what| FsError::File {
            path: path.to_string(),
            id: FileId(ROOT_RECORD),
            what,
        })?;
        let mut record = ROOT_RECORD;
        let mut stored = String::new();
        for part in parts {
            let dir = self.dir(record, &stored)?;
            let found = self.pick(&dir, part).ok_or_else(|| FsError::NotFound {
                path: format!("{stored}\\{part}"),
            })?;
            stored = format!("{stored}\\{}", found.name);
            record = found.record;
        }
        self.stat(record, stored)
    }

    /// The entries of directory `dir`, sorted by name as Windows sorts them.
    pub fn list(&self, dir: &Entry) -> Result<Vec<Entry>, FsError> {
        let parsed = self.dir(dir.id.0, &dir.path)?;
        let mut out: Vec<(&Vec<u16>, Entry)> = Vec::with_capacity(parsed.entries.len());
        for (child, key) in parsed.entries.iter().zip(&parsed.keys) {
            let path = format!("{}\\{}", dir.path, child.name);
            // An index entry naming its own directory or the root is hostile
            // (a real one never does): keep it as an unreadable entry rather
            // than let a walk recurse into it. One unreadable record does not
            // hide its siblings either.
            let mut entry = if child.record == dir.id.0 || child.record == ROOT_RECORD {
                let why = format!(
                    "directory index entry points back at MFT record {} (a cycle)",
                    child.record
                );
                Entry::unreadable(path, FileId(child.record), false, why)
            } else {
                self.stat(child.record, path.clone()).unwrap_or_else(|e| {
                    let id = FileId(child.record);
                    Entry::unreadable(path, id, child.is_dir, e.what().to_string())
                })
            };
            entry.metadata = child.record < FIRST_USER_RECORD;
            out.push((key, entry));
        }
        out.sort_by(|a, b| a.0.cmp(b.0));
        Ok(out.into_iter().map(|(_, e)| e).collect())
    }

    /// Reads the unnamed data stream of a file.
    pub fn read(&self, entry: &Entry) -> Result<FileData<'d>, FsError> {
        if let Some(e) = &entry.error {
            return Err(FsError::File {
                path: entry.path.clone(),
                id: entry.id,
                what: e.clone(),
            });
        }
        self.read_record(entry.id.0, &entry.path)
    }

    /// Compares two names as this volume does.
    pub fn names_equal(&self, a: &str, b: &str) -> bool {
        self.upcase_key(a) == self.upcase_key(b)
    }

    fn upcase_key(&self, name: &str) -> Vec<u16> {
        name.encode_utf16()
            .map(|u| match &self.upcase {
                Some(t) => t[u as usize],
                None => char::from_u32(u.into())
                    .and_then(|c| c.to_uppercase().next())
                    .and_then(|c| u16::try_from(u32::from(c)).ok())
                    .unwrap_or(u),
            })
            .collect()
    }

    /// The entry matching `name`; an exact match wins over a case-insensitive
    /// one (POSIX-namespace names may differ only in case).
    fn pick<'e>(&self, dir: &'e Dir, name: &str) -> Option<&'e IndexEntry> {
        dir.entries.iter().find(|e| e.name == name).or_else(|| {
            let key = self.upcase_key(name);
            let at = dir.keys.iter().position(|k| *k == key)?;
            dir.entries.get(at)
        })
    }

    /// The parsed index of directory `record`, from the cache or the disk.
    fn dir(&self, record: u64, path: &str) -> Result<Arc<Dir>, FsError> {
        // A poisoned lock only means another worker panicked while holding
        // it; the map itself is still consistent.
        if let Some(dir) = self
            .dirs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&record)
        {
            return Ok(Arc::clone(dir));
        }
        let entries = self.index_entries(record, path)?;
        let keys = entries.iter().map(|e| self.upcase_key(&e.name)).collect();
        let dir = Arc::new(Dir { entries, keys });
        let mut dirs = self.dirs.lock().unwrap_or_else(|p| p.into_inner());
        if dirs.len() >= MAX_CACHED_DIRS {
            dirs.clear();
        }
        dirs.insert(record, Arc::clone(&dir));
        Ok(dir)
    }

    fn file_err(path: &str, record: u64) -> impl Fn(String) -> FsError + '_ {
        move |what| FsError::File {
            path: if path.is_empty() {
                "\\".into()
            } else {
                path.into()
            },
            id: FileId(record),
            what,
        }
    }

    fn stat(&self, record: u64, path: String) -> Result<Entry, FsError> {
        let mut w = self.window.clone();
        let (is_dir, size, times, compressed) = contain(|| -> Result<_, String> {
            let file = self.ntfs.file(&mut w, record).map_err(ntfs_text)?;
            let info = file.info().ok();
            let t = |f: fn(&ntfs::structured_values::NtfsStandardInformation) -> ntfs::NtfsTime| {
                info.as_ref()
                    .and_then(|i| FileTime::new(f(i).nt_timestamp()))
            };
            let times = (
                t(|i| i.creation_time()),
                t(|i| i.modification_time()),
                t(|i| i.mft_record_modification_time()),
            );
            let attr_compressed = info
                .as_ref()
                .is_some_and(|i| i.file_attributes().bits() & FILE_ATTRIBUTE_COMPRESSED != 0);
            let (size, data_compressed) = match file.data(&mut w, "") {
                Some(Ok(item)) => {
                    let attr = item.to_attribute().map_err(ntfs_text)?;
                    (
                        attr.value_length(),
                        attr.flags().contains(NtfsAttributeFlags::COMPRESSED),
                    )
                }
                _ => (0, false),
            };
            Ok((
                file.is_directory(),
                size,
                times,
                data_compressed || (attr_compressed && !file.is_directory()),
            ))
        })
        .and_then(|r| r)
        .map_err(Self::file_err(&path, record))?;
        Ok(Entry {
            path,
            id: FileId(record),
            metadata: record < FIRST_USER_RECORD,
            is_dir,
            size: if is_dir { 0 } else { size },
            created: times.0,
            modified: times.1,
            mft_modified: times.2,
            compressed,
            error: None,
        })
    }

    fn index_entries(&self, record: u64, path: &str) -> Result<Vec<IndexEntry>, FsError> {
        let err = Self::file_err(path, record);
        let mut w = self.window.clone();
        contain(|| -> Result<_, String> {
            let file = self.ntfs.file(&mut w, record).map_err(ntfs_text)?;
            if !file.is_directory() {
                return Err("not a directory".into());
            }
            let (mut root, mut alloc, mut bitmap) = (None, None, None);
            let mut attrs = file.attributes();
            while let Some(item) = attrs.next(&mut w) {
                let item = item.map_err(ntfs_text)?;
                let attr = item.to_attribute().map_err(ntfs_text)?;
                let named_i30 = attr.name().map(|n| n == "$I30").unwrap_or(false);
                if !named_i30 {
                    continue;
                }
                let slot = match attr.ty() {
                    Ok(NtfsAttributeType::IndexRoot) => &mut root,
                    Ok(NtfsAttributeType::IndexAllocation) => &mut alloc,
                    Ok(NtfsAttributeType::Bitmap) => &mut bitmap,
                    _ => continue,
                };
                *slot = Some(read_value(&attr, &mut w, MAX_INDEX_BYTES)?);
            }
            let root = root.ok_or("directory has no $INDEX_ROOT")?;
            index::parse(&root, alloc.as_deref(), bitmap.as_deref(), MAX_DIR_ENTRIES)
        })
        .and_then(|r| r)
        .map_err(|what| err(format!("directory index: {what}")))
    }

    fn read_record(&self, record: u64, path: &str) -> Result<FileData<'d>, FsError> {
        let err = Self::file_err(path, record);
        let mut w = self.window.clone();
        contain(|| -> Result<FileData<'d>, String> {
            let file = self.ntfs.file(&mut w, record).map_err(ntfs_text)?;
            let item = match file.data(&mut w, "") {
                Some(item) => item.map_err(ntfs_text)?,
                None => return Err("has no data stream".into()),
            };
            let attr = item.to_attribute().map_err(ntfs_text)?;
            let flags = attr.flags();
            if flags.contains(NtfsAttributeFlags::ENCRYPTED) {
                return Err("data is EFS-encrypted".into());
            }
            let len = attr.value_length();
            if len > MAX_FILE_BYTES.min(self.window.len()) {
                return Err(format!("data size of {len} bytes is larger than the volume or the {MAX_FILE_BYTES}-byte limit"));
            }
            if flags.contains(NtfsAttributeFlags::COMPRESSED) {
                return self.read_compressed(&file, &attr, &mut w).map(Cow::Owned);
            }
            if let Some(slice) = self.contiguous(&attr, &mut w, len) {
                return Ok(Cow::Borrowed(slice));
            }
            read_value(&attr, &mut w, MAX_FILE_BYTES).map(Cow::Owned)
        })
        .and_then(|r| r)
        .map_err(err)
    }

    /// The data as one slice of the mapped image, when it is a single run of
    /// clusters (the common case for DLLs): no copy at all.
    fn contiguous(
        &self,
        attr: &NtfsAttribute<'_, '_>,
        w: &mut Window<'d>,
        len: u64,
    ) -> Option<&'d [u8]> {
        let bytes = self.window.as_bytes()?;
        let NtfsAttributeValue::NonResident(value) = attr.value(w).ok()? else {
            return None;
        };
        let mut start = None;
        let mut end = 0u64;
        for run in value.data_runs() {
            let run = run.ok()?;
            // Positions are relative to the volume (our window), not the disk.
            let pos = run.data_position().value()?.get();
            match start {
                None => start = Some(pos),
                Some(_) if pos == end => {}
                Some(_) => return None,
            }
            end = pos.checked_add(run.allocated_size())?;
            if end - start? >= len {
                break;
            }
        }
        let start = usize::try_from(start?).ok()?;
        bytes.get(start..start.checked_add(usize::try_from(len).ok()?)?)
    }

    fn read_compressed(
        &self,
        file: &NtfsFile<'_>,
        attr: &NtfsAttribute<'_, '_>,
        w: &mut Window<'d>,
    ) -> Result<Vec<u8>, String> {
        let value = attr.value(w).map_err(ntfs_text)?;
        let NtfsAttributeValue::NonResident(value) = value else {
            return Err(format!(
                "compressed data split across an attribute list (record {}) is not supported",
                file.file_record_number()
            ));
        };
        let cluster = u64::from(self.ntfs.cluster_size());
        let mut runs = Vec::new();
        for run in value.data_runs() {
            let run = run.map_err(ntfs_text)?;
            runs.push(Run {
                position: run.data_position().value().map(|p| p.get()),
                clusters: run.allocated_size() / cluster,
            });
        }
        // The ntfs crate keeps the compression unit private: read the
        // attribute header from the volume, up to the unit, and view it.
        let header = attr
            .position()
            .value()
            .ok_or("attribute has no position")?
            .get();
        let mut head = [0u8; record::COMPRESSION_UNIT_END];
        self.window
            .read_exact_at(header, &mut head)
            .map_err(|e| e.to_string())?;
        let exp = Attribute(&head).compression_unit().unwrap_or(0);
        let unit_clusters = 1u64
            .checked_shl(exp.into())
            .filter(|&u| u > 1 && u <= 256)
            .ok_or_else(|| format!("compression unit exponent {exp} is not supported"))?;
        let window = &self.window;
        compressed::decode(
            &runs,
            cluster,
            unit_clusters,
            attr.value_length(),
            &mut |pos, buf| window.read_exact_at(pos, buf).map_err(|e| e.to_string()),
        )
    }
}

impl Volume for NtfsVolume<'_> {
    fn kind(&self) -> Filesystem {
        Filesystem::Ntfs
    }

    fn label(&self) -> Option<String> {
        NtfsVolume::label(self)
    }

    fn cluster_size(&self) -> u32 {
        NtfsVolume::cluster_size(self)
    }

    fn degraded(&self) -> Vec<(String, String)> {
        match self.upcase_missing() {
            true => vec![(
                "$UpCase".into(),
                "unreadable; names compared by simple case folding".into(),
            )],
            false => Vec::new(),
        }
    }

    fn root(&self) -> Result<Entry, FsError> {
        NtfsVolume::root(self)
    }

    fn lookup(&self, path: &str) -> Result<Entry, FsError> {
        NtfsVolume::lookup(self, path)
    }

    fn list(&self, dir: &Entry) -> Result<Vec<Entry>, FsError> {
        NtfsVolume::list(self, dir)
    }

    fn read(&self, entry: &Entry) -> Result<FileData<'_>, FsError> {
        NtfsVolume::read(self, entry)
    }

    fn names_equal(&self, a: &str, b: &str) -> bool {
        NtfsVolume::names_equal(self, a, b)
    }
}

/// Reads a whole attribute value, refusing values over `cap` bytes.
fn read_value(
    attr: &NtfsAttribute<'_, '_>,
    w: &mut Window<'_>,
    cap: u64,
) -> Result<Vec<u8>, String> {
    let len = attr.value_length();
    if len > cap.min(w.len()) {
        return Err(format!(
            "attribute value of {len} bytes exceeds the {cap}-byte limit"
        ));
    }
    let mut value = attr.value(w).map_err(ntfs_text)?;
    let mut buf = vec![0u8; len as usize];
    value.read_exact(w, &mut buf).map_err(ntfs_text)?;
    Ok(buf)
}

/// An `ntfs` crate error as one line for a user: the crate formats I/O
/// errors and signatures with `{:?}` (`Custom { kind: UnexpectedEof, … }`,
/// `[70, 73, 76, 69]`).
pub(crate) fn ntfs_text(e: ntfs::NtfsError) -> String {
    use ntfs::NtfsError as E;
    /// Four signature bytes as text when printable, else as hex.
    fn sig(b: &[u8]) -> String {
        if b.iter().all(|c| c.is_ascii_graphic()) {
            format!("\"{}\"", String::from_utf8_lossy(b))
        } else {
            crate::image::hex_spaced(b)
        }
    }
    match e {
        E::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "a read ran past the end of the volume (is the image cut short?)".into()
        }
        E::Io(io) => crate::image::io_text(&io),
        E::InvalidFileSignature { position, expected, actual } => format!(
            "the MFT record at byte {position:#x} should start with {} but starts with {}",
            sig(expected),
            sig(&actual)
        ),
        E::InvalidIndexSignature { position, expected, actual } => format!(
            "the index record at byte {position:#x} should start with {} but starts with {}",
            sig(expected),
            sig(&actual)
        ),
        E::InvalidTwoByteSignature { position, expected, actual } => format!(
            "the signature at byte {position:#x} should be {} but is {}",
            sig(expected),
            sig(&actual)
        ),
        E::UpdateSequenceNumberMismatch { position, expected, actual } => format!(
            "the sector ending at byte {position:#x} fails its update sequence check (expected {}, found {}): torn write or damage",
            crate::image::hex_spaced(&expected),
            crate::image::hex_spaced(&actual)
        ),
        other => other.to_string(),
    }
}
