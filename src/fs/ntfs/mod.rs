//! One NTFS volume: open it, list directories, look up paths
//! case-insensitively by the volume's $UpCase, and read files.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ntfs::attribute_value::NtfsAttributeValue;
use ntfs::{Ntfs, NtfsAttribute, NtfsAttributeFlags, NtfsAttributeType, NtfsReadSeek};

pub(crate) mod compressed;
pub(crate) mod index;
pub mod lznt1;
pub mod mft_scan;
pub(crate) mod record;
mod stream;
pub mod wof;

use self::compressed::Run;
use self::record::{Extent, FIRST_USER_RECORD, ROOT_RECORD};
use self::stream::VolumeBytes;
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
/// Largest `$ATTRIBUTE_LIST` we read; Windows keeps them far below this
/// (an attribute list is at most 256 KiB).
const MAX_LIST_BYTES: u64 = 4 << 20;
/// Most extension records we read for one file's `$DATA`.
const MAX_EXTENSION_RECORDS: usize = 16_384;

/// A parsed directory index and each name's $UpCase key.
struct Dir {
    names: index::Names,
    /// The names' units upcased by the volume's `$UpCase`: slot `s`'s key
    /// is `keys[s.range()]`.
    keys: Vec<u16>,
    /// Slot indices sorted by upcased name (then record): the order Windows
    /// lists a directory in, and what a lookup searches by halves.
    by_key: Vec<u32>,
}

impl Dir {
    fn new(names: index::Names, upcase: impl Fn(u16) -> u16) -> Dir {
        let keys = names.map_units(upcase);
        let mut dir = Dir {
            names,
            keys,
            by_key: Vec::new(),
        };
        let mut by_key: Vec<u32> = (0..dir.names.slots.len() as u32).collect();
        by_key.sort_by(|&a, &b| dir.key(a as usize).cmp(dir.key(b as usize)));
        dir.by_key = by_key;
        dir
    }

    /// The upcased name of slot `i`.
    fn key(&self, i: usize) -> &[u16] {
        &self.keys[self.names.slots[i].range()]
    }

    /// Among the slots whose upcased name is `key`, the one named `exact`,
    /// else the first in index order.
    fn find(&self, key: &[u16], exact: &[u16]) -> Option<&index::Slot> {
        let lo = self.by_key.partition_point(|&i| self.key(i as usize) < key);
        let hi = lo + self.by_key[lo..].partition_point(|&i| self.key(i as usize) == key);
        let same = || {
            self.by_key[lo..hi]
                .iter()
                .map(|&i| &self.names.slots[i as usize])
        };
        same()
            .find(|s| self.names.units(s) == exact)
            .or_else(|| same().next())
    }
}

/// An opened NTFS volume on a disk. Methods take `&self` and give each call
/// its own cursor, so one volume is shared by all rayon workers.
pub struct NtfsVolume<'d> {
    window: Window<'d>,
    ntfs: Ntfs,
    upcase: Option<Vec<u16>>,
    dirs: Mutex<HashMap<u64, Arc<Dir>>>,
    /// The volume read by our own record and run reader.
    vol: VolumeBytes<'d>,
    /// `$MFT`'s extents and the record size, for our own record reader;
    /// `None` when `$MFT` itself is split by an attribute list.
    mft: Option<(Vec<Extent>, u64)>,
}

/// A non-resident unnamed `$DATA`, gathered from all its attribute extents.
struct NonResident {
    /// In VCN order, whole clusters (not cut to `size`).
    extents: Vec<Extent>,
    size: u64,
    initialized: u64,
    /// log2 of the compression unit in clusters (0: not compressed).
    unit_exp: u16,
}

impl<'d> NtfsVolume<'d> {
    /// Opens the NTFS volume of `len` bytes at `offset` on `disk`.
    pub fn open(disk: &'d dyn Disk, offset: u64, len: u64) -> Result<Self, FsError> {
        let window = Window::new(disk, offset, len);
        let vol_err = |what: String| FsError::Volume { offset, what };
        let ntfs = contain(|| Ntfs::new(&mut window.clone()))
            .map_err(vol_err)?
            .map_err(|e| vol_err(format!("not a readable NTFS boot sector: {}", ntfs_text(e))))?;
        let mft = contain(|| {
            let rs = u64::from(ntfs.file_record_size());
            let ok = (256..=65536).contains(&rs) && rs.is_power_of_two();
            let extents = mft_scan::mft_extents(&ntfs, &mut window.clone()).ok()?;
            ok.then_some((extents, rs))
        })
        .ok()
        .flatten();
        let vol = VolumeBytes::new(window.clone(), u64::from(ntfs.cluster_size()));
        let mut volume = NtfsVolume {
            window,
            ntfs,
            upcase: None,
            dirs: Mutex::new(HashMap::new()),
            vol,
            mft,
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

    /// The NTFS version `$Volume`'s `$VOLUME_INFORMATION` declares: "1.2"
    /// (NT 3.51/4.0), "3.0" (2000), "3.1" (XP and later); `None` when it
    /// cannot be read. Any two numbers are shown as found.
    pub fn version(&self) -> Option<String> {
        let mut w = self.window.clone();
        contain(|| {
            let info = self.ntfs.volume_info(&mut w).ok()?;
            Some(format!("{}.{}", info.major_version(), info.minor_version()))
        })
        .ok()
        .flatten()
    }

    /// Every file the census (`versions --all`) finds on the NTFS volume of
    /// `len` bytes at `offset` of `disk`, read whole through the census's
    /// own paths: (path, record, bytes), and what it could not read. For
    /// tests that compare the census with The Sleuth Kit; not a stable API.
    #[doc(hidden)]
    #[allow(clippy::type_complexity)]
    pub fn census_read_all(
        disk: &dyn Disk,
        offset: u64,
        len: u64,
    ) -> Result<(Vec<(String, u64, Vec<u8>)>, Vec<String>), String> {
        let inspect = |r: &dyn super::RangeRead| -> Result<_, String> {
            let mut buf = vec![0u8; usize::try_from(r.size()).map_err(|e| e.to_string())?];
            r.read_at(0, &mut buf)?;
            Ok(Some(mft_scan::Inspected {
                touched: buf.len() as u64,
                value: buf,
                whole: true,
            }))
        };
        let mut stats = mft_scan::Stats::default();
        let (found, lost) = mft_scan::scan(
            disk,
            offset,
            len,
            Some(&inspect as &mft_scan::Inspect<'_, Vec<u8>>),
            &|_, _| {},
            &mut stats,
        )?;
        Ok((
            found
                .into_iter()
                .map(|f| (f.path, f.id.0, f.value))
                .collect(),
            lost.into_iter().map(|u| format!("{u:?}")).collect(),
        ))
    }

    /// (parent record, name) of record `record` from its best `$FILE_NAME`
    /// (Win32 first, then POSIX, then DOS), wherever the attribute list
    /// keeps it.
    pub(crate) fn best_name(&self, record: u64) -> Option<(u64, String)> {
        use ntfs::structured_values::NtfsFileNamespace as Ns;
        let mut w = self.window.clone();
        contain(|| {
            let file = self.ntfs.file(&mut w, record).ok()?;
            [Ns::Win32, Ns::Win32AndDos, Ns::Posix, Ns::Dos]
                .into_iter()
                .find_map(|ns| file.name(&mut w, Some(ns), None)?.ok())
                .map(|n| {
                    (
                        n.parent_directory_reference().file_record_number(),
                        n.name().to_string_lossy(),
                    )
                })
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
            let (child, name) = self.pick(&dir, part).ok_or_else(|| FsError::NotFound {
                path: format!("{stored}\\{part}"),
            })?;
            stored = format!("{stored}\\{name}");
            record = child;
        }
        self.stat(record, stored)
    }

    /// The entries of directory `dir`, sorted by name as Windows sorts them.
    pub fn list(&self, dir: &Entry) -> Result<Vec<Entry>, FsError> {
        let parsed = self.dir(dir.id.0, &dir.path)?;
        let mut out = Vec::with_capacity(parsed.by_key.len());
        for &i in &parsed.by_key {
            let child = &parsed.names.slots[i as usize];
            let path = format!("{}\\{}", dir.path, parsed.names.name(child));
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
            out.push(entry);
        }
        Ok(out)
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
        name.encode_utf16().map(|u| self.upcase_unit(u)).collect()
    }

    /// One UTF-16 unit upcased by `$UpCase`, or by Unicode's simple
    /// uppercase mapping when the volume's table could not be read.
    fn upcase_unit(&self, u: u16) -> u16 {
        match &self.upcase {
            Some(t) => t[u as usize],
            None => char::from_u32(u.into())
                .and_then(|c| c.to_uppercase().next())
                .and_then(|c| u16::try_from(u32::from(c)).ok())
                .unwrap_or(u),
        }
    }

    /// The (record, stored name) of the entry matching `name`; an exact
    /// match wins over a case-insensitive one (POSIX-namespace names may
    /// differ only in case), and among those the first in index order.
    fn pick(&self, dir: &Dir, name: &str) -> Option<(u64, String)> {
        let exact: Vec<u16> = name.encode_utf16().collect();
        let s = dir.find(&self.upcase_key(name), &exact)?;
        Some((s.record, dir.names.name(s)))
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
        let names = self.index_entries(record, path)?;
        let dir = Arc::new(Dir::new(names, |u| self.upcase_unit(u)));
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
                    let mut len = attr.value_length();
                    if len == 0 && !attr.is_resident() {
                        // Maybe a later extent of a stream split by an
                        // attribute list (its sizes are 0): ask the VCN-0 one.
                        if let Ok(d) = self.non_resident_data(record) {
                            len = d.size;
                        }
                    }
                    (len, attr.flags().contains(NtfsAttributeFlags::COMPRESSED))
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

    fn index_entries(&self, record: u64, path: &str) -> Result<index::Names, FsError> {
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
            index::parse_names(&root, alloc.as_deref(), bitmap.as_deref(), MAX_DIR_ENTRIES)
        })
        .and_then(|r| r)
        .map_err(|what| err(format!("directory index: {what}")))
    }

    fn read_record(&self, record: u64, path: &str) -> Result<FileData<'d>, FsError> {
        let err = Self::file_err(path, record);
        let mut w = self.window.clone();
        contain(|| -> Result<FileData<'d>, String> {
            let file = self.ntfs.file(&mut w, record).map_err(ntfs_text)?;
            // A reparse point: WOF data is decoded, anything else keeps its
            // data elsewhere and is never read as the sparse zeros here.
            match reparse_point(&file, &mut w)? {
                None => {}
                Some(wof::Reparse::File(algo)) => return self.read_wof(&file, &mut w, algo),
                Some(wof::Reparse::Other(why)) => {
                    return Err(format!("{why}; its data is not in this volume's file"))
                }
            }
            let item = match file.data(&mut w, "") {
                Some(item) => item.map_err(ntfs_text)?,
                None => return Err("has no data stream".into()),
            };
            let attr = item.to_attribute().map_err(ntfs_text)?;
            let flags = attr.flags();
            if flags.contains(NtfsAttributeFlags::ENCRYPTED) {
                return Err("data is EFS-encrypted".into());
            }
            let is_compressed = flags.contains(NtfsAttributeFlags::COMPRESSED);
            // Compressed data may be larger than its volume; it is capped
            // by the file limit alone.
            let cap = match is_compressed && !attr.is_resident() {
                true => MAX_FILE_BYTES,
                false => MAX_FILE_BYTES.min(self.window.len()),
            };
            let too_big = |len: u64| {
                format!("data size of {len} bytes is larger than the volume or the {MAX_FILE_BYTES}-byte limit")
            };
            let len = attr.value_length();
            if len > cap {
                return Err(too_big(len));
            }
            if attr.is_resident() {
                // A resident value is never compressed on disk, whatever its
                // flags say: Windows and ntfs-3g flag small files of a
                // compressed folder and keep them in the record as is.
                return read_value(&attr, &mut w, MAX_FILE_BYTES).map(Cow::Owned);
            }
            if self.mft.is_none() {
                // Our record reader has no $MFT map: the crate's path.
                if flags.contains(NtfsAttributeFlags::COMPRESSED) {
                    return Err("compressed data on a volume whose $MFT is split by an attribute list is not supported".into());
                }
                if let Some(slice) = self.contiguous(&attr, &mut w, len) {
                    return Ok(Cow::Borrowed(slice));
                }
                return read_value(&attr, &mut w, MAX_FILE_BYTES).map(Cow::Owned);
            }
            // The size is the VCN-0 extent's: the ntfs crate may hand us a
            // later extent of a listed stream, whose sizes are 0.
            let data = self.non_resident_data(file.file_record_number())?;
            if data.size > cap {
                return Err(too_big(data.size));
            }
            if is_compressed {
                return self.read_compressed(&data).map(Cow::Owned);
            }
            let initialized = data.initialized.min(data.size);
            let extents = record::cut(data.extents, data.size)?;
            if let Some(slice) = self
                .window
                .as_bytes()
                .and_then(|b| stream::contiguous_in(b, &extents, data.size, initialized))
            {
                return Ok(Cow::Borrowed(slice));
            }
            let mut buf = vec![0u8; data.size as usize];
            self.vol.read_stream(&extents, initialized, 0, &mut buf)?;
            Ok(Cow::Owned(buf))
        })
        .and_then(|r| r)
        .map_err(err)
    }

    /// A WOF-compressed file (file provider): the logical size from the
    /// unnamed `$DATA`, the bytes decoded from `WofCompressedData`.
    fn read_wof(
        &self,
        file: &ntfs::NtfsFile<'_>,
        w: &mut Window<'d>,
        algo: wof::Algorithm,
    ) -> Result<FileData<'d>, String> {
        let mut size = match file.data(w, "") {
            Some(item) => item
                .map_err(ntfs_text)?
                .to_attribute()
                .map_err(ntfs_text)?
                .value_length(),
            None => 0,
        };
        if size == 0 {
            // A stream split by an attribute list: the VCN-0 extent's size.
            if let Ok(d) = self.non_resident_data(file.file_record_number()) {
                size = d.size;
            }
        }
        if size > MAX_FILE_BYTES {
            return Err(format!(
                "WOF file of {size} bytes is larger than the {MAX_FILE_BYTES}-byte limit"
            ));
        }
        // Found by its exact name: the crate's lookup of a named stream
        // needs an upcase table it does not keep.
        let cap = wof::max_stream_len(size, algo).min(self.window.len());
        let mut stream = None;
        let mut attrs = file.attributes();
        while let Some(item) = attrs.next(w) {
            let item = item.map_err(ntfs_text)?;
            let attr = item.to_attribute().map_err(ntfs_text)?;
            let named = attr.name().is_ok_and(|n| n == wof::STREAM_NAME);
            if attr.ty().ok() == Some(NtfsAttributeType::Data) && named {
                let v = read_value(&attr, w, cap)
                    .map_err(|e| format!("{} stream: {e}", wof::STREAM_NAME))?;
                stream = Some(v);
                break;
            }
        }
        let stream = stream.ok_or_else(|| {
            format!(
                "WOF {} file has no {} stream",
                algo.name(),
                wof::STREAM_NAME
            )
        })?;
        wof::decode(&stream, size, algo).map(Cow::Owned)
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

    fn read_compressed(&self, data: &NonResident) -> Result<Vec<u8>, String> {
        let cluster = u64::from(self.ntfs.cluster_size());
        let runs: Vec<Run> = data
            .extents
            .iter()
            .map(|e| Run {
                position: e.lcn,
                clusters: e.len / cluster,
            })
            .collect();
        let exp = data.unit_exp;
        let unit_clusters = 1u64
            .checked_shl(exp.into())
            .filter(|&u| u > 1 && u <= 256)
            .ok_or_else(|| format!("compression unit exponent {exp} is not supported"))?;
        let window = &self.window;
        compressed::decode(&runs, cluster, unit_clusters, data.size, &mut |pos, buf| {
            window.read_exact_at(pos, buf).map_err(|e| e.to_string())
        })
    }

    /// MFT record `n`, read through `$MFT`'s extents and fixed up.
    fn raw_record(&self, n: u64) -> Result<Vec<u8>, String> {
        let (mft, rs) = self.mft.as_ref().ok_or("$MFT map unavailable")?;
        let off = n.checked_mul(*rs).ok_or("record number overflows")?;
        let mut buf = vec![0u8; *rs as usize];
        self.vol.read_stream(mft, u64::MAX, off, &mut buf)?;
        if buf.get(..4) != Some(b"FILE") {
            return Err(format!("MFT record {n} has no FILE signature"));
        }
        record::fixup(&mut buf)
            .map_err(|_| format!("MFT record {n} fails its update sequence check"))?;
        Ok(buf)
    }

    /// The non-resident unnamed `$DATA` of base record `n`: its runs from
    /// every attribute extent, in the base record and in the extension
    /// records its `$ATTRIBUTE_LIST` names, joined in VCN order.
    fn non_resident_data(&self, n: u64) -> Result<NonResident, String> {
        let cluster = u64::from(self.ntfs.cluster_size());
        let base = self.raw_record(n)?;
        let mut pieces = Vec::new();
        let mut head = None;
        let mut list = None;
        collect_data(&base, cluster, &mut pieces, &mut head)?;
        for a in record::attributes(&base)? {
            let a = a?;
            if a.ty() != record::AT_ATTRIBUTE_LIST {
                continue;
            }
            list = Some(if a.non_resident() {
                let size = a.data_size().unwrap_or(0);
                if size > MAX_LIST_BYTES {
                    return Err(format!("attribute list of {size} bytes is too large"));
                }
                let runs = a.runs().ok_or("attribute list runs out of bounds")?;
                let extents = record::decode_runs(runs, cluster, size)?;
                let init = a.initialized_size().unwrap_or(0).min(size);
                let mut v = vec![0u8; size as usize];
                self.vol.read_stream(&extents, init, 0, &mut v)?;
                v
            } else {
                a.resident_value()
                    .ok_or("attribute list out of bounds")?
                    .to_vec()
            });
            break;
        }
        if let Some(list) = list {
            let mut records: Vec<u64> = record::list_entries(&list)?
                .into_iter()
                .filter(|e| e.ty == record::AT_DATA && e.name_len == 0 && e.record != n)
                .map(|e| e.record)
                .collect();
            records.sort_unstable();
            records.dedup();
            if records.len() > MAX_EXTENSION_RECORDS {
                return Err(format!("$DATA spread over {} records", records.len()));
            }
            for r in records {
                let ext = self.raw_record(r)?;
                if record::base_record(&ext) != n {
                    return Err(format!(
                        "MFT record {r}, named by the attribute list, belongs to record {}",
                        record::base_record(&ext)
                    ));
                }
                collect_data(&ext, cluster, &mut pieces, &mut head)?;
            }
        }
        let (size, initialized, unit_exp) = head.ok_or("no $DATA extent starts at VCN 0")?;
        Ok(NonResident {
            extents: record::join(pieces)?,
            size,
            initialized,
            unit_exp,
        })
    }
}

/// Adds the runs of each non-resident unnamed `$DATA` extent of a fixed-up
/// record to `pieces`; the one at VCN 0 gives (size, initialized size,
/// compression unit exponent) to `head`.
#[allow(clippy::type_complexity)]
fn collect_data(
    rec: &[u8],
    cluster: u64,
    pieces: &mut Vec<Vec<Extent>>,
    head: &mut Option<(u64, u64, u16)>,
) -> Result<(), String> {
    for a in record::attributes(rec)? {
        let a = a?;
        if a.ty() != record::AT_DATA || a.name_len() != 0 || !a.non_resident() {
            continue;
        }
        let vcn = a.start_vcn().ok_or("short $DATA header")?;
        let start = vcn
            .checked_mul(cluster)
            .ok_or("$DATA starting VCN overflows")?;
        let runs = a.runs().ok_or("$DATA runs out of bounds")?;
        pieces.push(record::decode_mapping(runs, cluster, start)?);
        if vcn == 0 {
            if head.is_some() {
                return Err("two $DATA extents start at VCN 0".into());
            }
            let compressed = a.flags() & record::ATTR_COMPRESSED != 0;
            *head = Some((
                a.data_size().ok_or("short $DATA header")?,
                a.initialized_size().ok_or("short $DATA header")?,
                if compressed {
                    a.compression_unit().unwrap_or(0)
                } else {
                    0
                },
            ));
        }
    }
    Ok(())
}

impl Volume for NtfsVolume<'_> {
    fn kind(&self) -> Filesystem {
        Filesystem::Ntfs
    }

    fn label(&self) -> Option<String> {
        NtfsVolume::label(self)
    }

    fn version(&self) -> Option<String> {
        NtfsVolume::version(self)
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

/// Largest `$REPARSE_POINT` value (Windows allows 16 KiB).
const MAX_REPARSE_BYTES: u64 = 16 * 1024;

/// What the file's `$REPARSE_POINT` says, if it has one.
fn reparse_point(
    file: &ntfs::NtfsFile<'_>,
    w: &mut Window<'_>,
) -> Result<Option<wof::Reparse>, String> {
    let mut attrs = file.attributes();
    while let Some(item) = attrs.next(w) {
        let item = item.map_err(ntfs_text)?;
        let attr = item.to_attribute().map_err(ntfs_text)?;
        if attr.ty().ok() == Some(NtfsAttributeType::ReparsePoint) {
            let v = read_value(&attr, w, MAX_REPARSE_BYTES)
                .map_err(|e| format!("reparse point: {e}"))?;
            return Ok(Some(wof::parse_reparse(&v)));
        }
    }
    Ok(None)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An `$INDEX_ROOT` value holding `(record, name, namespace)` entries.
    fn root(entries: &[(u64, &str, u8)]) -> Vec<u8> {
        let mut body = Vec::new();
        for &(record, name, ns) in entries {
            let units: Vec<u16> = name.encode_utf16().collect();
            let key_len = 0x42 + units.len() * 2;
            let len = (16 + key_len + 7) & !7;
            let mut e = vec![0u8; len];
            e[..8].copy_from_slice(&record.to_le_bytes());
            e[8..10].copy_from_slice(&(len as u16).to_le_bytes());
            e[10..12].copy_from_slice(&(key_len as u16).to_le_bytes());
            e[16 + 0x40] = units.len() as u8;
            e[16 + 0x41] = ns;
            for (i, u) in units.iter().enumerate() {
                e[16 + 0x42 + 2 * i..][..2].copy_from_slice(&u.to_le_bytes());
            }
            body.extend(e);
        }
        body.extend([0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 2, 0, 0, 0]);
        let mut r = vec![0u8; 0x20];
        r[8..12].copy_from_slice(&4096u32.to_le_bytes());
        r[0x10..0x14].copy_from_slice(&0x10u32.to_le_bytes());
        r[0x14..0x18].copy_from_slice(&(0x10 + body.len() as u32).to_le_bytes());
        r.extend(body);
        r
    }

    fn dir(entries: &[(u64, &str, u8)]) -> Dir {
        let names = index::parse_names(&root(entries), None, None, 100).unwrap();
        Dir::new(names, |u| (u as u8 as char).to_ascii_uppercase() as u16)
    }

    fn find(d: &Dir, name: &str) -> Option<(u64, String)> {
        let units: Vec<u16> = name.encode_utf16().collect();
        let key: Vec<u16> = name.to_ascii_uppercase().encode_utf16().collect();
        d.find(&key, &units).map(|s| (s.record, d.names.name(s)))
    }

    #[test]
    fn lookups_prefer_the_exact_name_then_the_first_in_index_order() {
        // POSIX names differing only in case, a DOS alias, unrelated names.
        let d = dir(&[
            (50, "W3SVC.DLL", 0),
            (40, "w3svc.dll", 0),
            (41, "W3SVC~1.DLL", 2),
            (30, "asp.dll", 1),
            (60, "zz.dll", 1),
        ]);
        assert_eq!(find(&d, "W3SVC.DLL"), Some((50, "W3SVC.DLL".into())));
        assert_eq!(find(&d, "w3svc.dll"), Some((40, "w3svc.dll".into())));
        // No exact match: the first by record, as the index is kept.
        assert_eq!(find(&d, "W3svc.dll"), Some((40, "w3svc.dll".into())));
        assert_eq!(find(&d, "ASP.DLL"), Some((30, "asp.dll".into())));
        assert_eq!(find(&d, "ZZ.DLL"), Some((60, "zz.dll".into())));
        // DOS aliases are not names a lookup finds; absent names are absent.
        assert_eq!(find(&d, "W3SVC~1.DLL"), None);
        assert_eq!(find(&d, "a.dll"), None);
        assert_eq!(find(&d, ""), None);
        // Listing order: by upcased name.
        let listed: Vec<String> = d
            .by_key
            .iter()
            .map(|&i| d.names.name(&d.names.slots[i as usize]))
            .collect();
        assert_eq!(listed, ["asp.dll", "w3svc.dll", "W3SVC.DLL", "zz.dll"]);
    }
}
