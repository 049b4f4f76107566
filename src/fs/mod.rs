//! Filesystem layer: Windows paths → files → bytes, behind one
//! filesystem-neutral [`Volume`] trait. Everything above `fs/` sees only the
//! trait, [`Entry`] and the opaque [`FileId`]; each filesystem lives in its
//! own folder (`ntfs/`, `fat/`) and [`open`] picks one by the partition's
//! filesystem.
//!
//! Decompression (LZNT1, WOF's XPRESS and LZX) lives inside each filesystem's folder and
//! nowhere else: callers always get a file's real bytes.

pub mod collection;
pub(crate) mod dir;
pub(crate) mod fat;
pub(crate) mod ntfs;
pub(crate) mod zip;

use std::borrow::Cow;

pub use self::fat::{FatType, FatVolume};
pub use self::ntfs::NtfsVolume;
use crate::image::Disk;
pub(crate) use crate::panic::contain;
use crate::time::FileTime;
use crate::volume::{Filesystem, Partition};

/// The flat `$I30` index parser, the LZNT1 stream decoder, the WOF
/// decoders (XPRESS, LZX, the chunk table) and our MFT record reader, for the fuzz targets (`fuzz/`) and `tests/robustness.rs`. Not a
/// stable API.
#[doc(hidden)]
pub mod fuzzing {
    pub use super::ntfs::compressed::{decode as decode_compressed, Run};
    pub use super::ntfs::index::{apply_fixup, parse as parse_index, IndexEntry};
    pub use super::ntfs::lznt1::decode_unit as lznt1_decode_unit;
    pub use super::ntfs::wof::lzx::decompress as lzx_decompress;
    pub use super::ntfs::wof::xpress::decompress as xpress_decompress;
    pub use super::ntfs::wof::{decode as decode_wof, Algorithm as WofAlgorithm};

    /// One MFT record as the census reads it: fixups, then every attribute
    /// and data run. `Ok(None)` for a record not in use.
    pub fn parse_mft_record(
        buf: &mut [u8],
        volume_len: u64,
        cluster: u64,
    ) -> Result<Option<usize>, String> {
        use super::ntfs::record;
        if record::check_record(buf)?.is_none() {
            return Ok(None);
        }
        let mut attrs = 0;
        for a in record::attributes(buf)? {
            let a = a?;
            attrs += 1;
            if let Some(runs) = a.runs() {
                record::decode_runs(runs, cluster, a.data_size().unwrap_or(0))?;
            }
            if a.ty() == record::AT_ATTRIBUTE_LIST {
                record::list_entries(a.resident_value().unwrap_or_default())?;
            }
        }
        record::parse_attributes(buf, volume_len, cluster)?;
        Ok(Some(attrs))
    }
}

/// Largest file any filesystem copies into memory. The files we read (DLLs,
/// hives) are megabytes; larger claims are refused rather than allocated.
pub const MAX_FILE_BYTES: u64 = 1 << 30;

/// A file on one volume, opaque above `fs/`: an MFT record number on NTFS,
/// the volume offset of its 8.3 directory entry on FAT.
/// Two entries with the same id are the same file (hard links included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub(crate) u64);

impl std::fmt::Display for FileId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// One filesystem on one partition, read-only. Methods take `&self` so one
/// volume is shared by every rayon worker.
pub trait Volume: Send + Sync {
    /// Which filesystem this is.
    fn kind(&self) -> Filesystem;
    /// The volume label, if it has one.
    fn label(&self) -> Option<String>;
    /// The on-disk format as people name it, beside [`Volume::kind`]: the
    /// NTFS version (`"1.2"`, `"3.0"`, `"3.1"`) or the FAT type (`"FAT16"`);
    /// `None` when the volume does not say.
    fn version(&self) -> Option<String> {
        None
    }
    /// The allocation unit in bytes.
    fn cluster_size(&self) -> u32;
    /// What the volume could not read but worked around, as (part, reason):
    /// the report lists these so the coverage is honest.
    fn degraded(&self) -> Vec<(String, String)>;
    /// The root directory.
    fn root(&self) -> Result<Entry, FsError>;
    /// Looks `path` up from the root, comparing names as Windows does on
    /// this filesystem; the result carries the names as stored on disk.
    fn lookup(&self, path: &str) -> Result<Entry, FsError>;
    /// The entries of a directory, sorted as Windows sorts them. An entry
    /// whose metadata cannot be read is kept, with `error` set.
    fn list(&self, dir: &Entry) -> Result<Vec<Entry>, FsError>;
    /// The unnamed data stream of a file, decompressed.
    fn read(&self, entry: &Entry) -> Result<FileData<'_>, FsError>;
    /// Compares two names as this volume does.
    fn names_equal(&self, a: &str, b: &str) -> bool;
}

/// A file's data read by range: for callers that need a few parts of a large
/// file (the census reads a PE file's headers and resource section only).
pub trait RangeRead {
    /// The data's length in bytes.
    fn size(&self) -> u64;
    /// The whole data without a copy, when the filesystem holds it so
    /// (resident in its record, one run of the mapped image, or decoded).
    /// Touching it may fault in every page: probe with [`read_at`] first.
    ///
    /// [`read_at`]: RangeRead::read_at
    fn as_slice(&self) -> Option<&[u8]>;
    /// Reads `buf.len()` bytes at `offset` of the data.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), String>;
}

/// Data already in memory (resident in its record, or read whole).
impl RangeRead for &[u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }

    fn as_slice(&self) -> Option<&[u8]> {
        Some(self)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), String> {
        let src = usize::try_from(offset)
            .ok()
            .and_then(|o| self.get(o..o.checked_add(buf.len())?))
            .ok_or_else(|| format!("offset {offset} is past the end of the data"))?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

/// Opens the filesystem of `part` on `disk`.
pub fn open<'d>(disk: &'d dyn Disk, part: &Partition) -> Result<Box<dyn Volume + 'd>, FsError> {
    match part.filesystem {
        Some(Filesystem::Ntfs) => Ok(Box::new(NtfsVolume::open(disk, part.offset, part.size)?)),
        Some(Filesystem::Fat) => Ok(Box::new(FatVolume::open(disk, part.offset, part.size)?)),
        other => Err(FsError::Volume {
            offset: part.offset,
            what: format!(
                "{} filesystem is not supported",
                other.map_or("unrecognised", Filesystem::name)
            ),
        }),
    }
}

/// Errors of the filesystem layer: each names the volume offset and the
/// Windows path or MFT record involved.
#[derive(Debug, thiserror::Error)]
pub enum FsError {
    #[error("NTFS volume at offset {offset}: {what}")]
    Volume { offset: u64, what: String },
    #[error("{path} (MFT record {id}): {what}")]
    File {
        path: String,
        id: FileId,
        what: String,
    },
    #[error("{path}: not found")]
    NotFound { path: String },
    #[error("FAT volume at offset {offset}: {what}")]
    FatVolume { offset: u64, what: String },
    /// `id` is the volume offset of the file's 8.3 directory entry.
    #[error("{path} (FAT directory entry at byte {id}): {what}")]
    FatFile {
        path: String,
        id: FileId,
        what: String,
    },
    /// A file or folder of a triage collection (`fs::collection`).
    #[error("{path}: {what}")]
    Collected { path: String, what: String },
}

impl FsError {
    /// What went wrong, without the path (for reports that show the path
    /// beside it).
    pub fn reason(&self) -> String {
        match self {
            FsError::File { id, .. } => format!("MFT record {id}: {}", self.what()),
            FsError::FatFile { id, .. } => {
                format!("FAT directory entry at byte {id}: {}", self.what())
            }
            _ => self.what().to_string(),
        }
    }

    /// The bare cause, without path or record.
    pub fn what(&self) -> &str {
        match self {
            FsError::Volume { what, .. }
            | FsError::File { what, .. }
            | FsError::FatVolume { what, .. }
            | FsError::FatFile { what, .. }
            | FsError::Collected { what, .. } => what,
            FsError::NotFound { .. } => "not found",
        }
    }
}

/// A directory entry or file, with its name as stored on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Full path from the volume root as stored on disk, e.g. `\WINNT\system32\w3svc.dll`.
    pub path: String,
    pub id: FileId,
    /// A filesystem's own metadata file (NTFS `$MFT`, `$Extend\$ObjId`, …),
    /// never a Windows file.
    pub metadata: bool,
    pub is_dir: bool,
    /// Size of the unnamed data stream in bytes (0 for directories).
    pub size: u64,
    /// `$STANDARD_INFORMATION` times (what Explorer shows).
    pub created: Option<FileTime>,
    pub modified: Option<FileTime>,
    pub mft_modified: Option<FileTime>,
    /// The data stream is NTFS-compressed.
    pub compressed: bool,
    /// Set when the directory names this entry but its metadata cannot be
    /// read; the entry is kept so the loss is reported, not hidden.
    pub error: Option<String>,
}

impl Entry {
    /// An entry the index names but whose record cannot be used.
    pub(crate) fn unreadable(path: String, id: FileId, is_dir: bool, why: String) -> Entry {
        Entry {
            path,
            id,
            metadata: false,
            is_dir,
            size: 0,
            created: None,
            modified: None,
            mft_modified: None,
            compressed: false,
            error: Some(why),
        }
    }

    /// The last component of the path.
    pub fn name(&self) -> &str {
        self.path.rsplit('\\').next().unwrap_or("")
    }
}

/// The bytes of a file: borrowed straight from the mapped image when the data
/// is one uncompressed run, otherwise copied once.
pub type FileData<'a> = Cow<'a, [u8]>;

/// `C:\WINNT` → `\WINNT`: a drive letter names the volume, which the
/// caller has already chosen.
pub fn strip_drive(path: &str) -> &str {
    match path.as_bytes() {
        [d, b':', ..] if d.is_ascii_alphabetic() => &path[2..],
        _ => path,
    }
}

/// Splits a Windows path into its components, accepting `\` or `/`, a drive
/// letter prefix (`C:`) and repeated separators. `.` is dropped; `..` is
/// refused because a path inside an image never needs it.
pub fn components(path: &str) -> Result<Vec<&str>, String> {
    let path = strip_drive(path);
    let mut out = Vec::new();
    for part in path.split(['\\', '/']) {
        match part {
            "" | "." => {}
            ".." => return Err(format!("{path}: '..' is not allowed in an image path")),
            p => out.push(p),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::components;

    #[test]
    fn splits_windows_paths() {
        assert_eq!(
            components(r"C:\WINNT\system32//inetsrv\.\w3svc.dll").unwrap(),
            ["WINNT", "system32", "inetsrv", "w3svc.dll"]
        );
        assert_eq!(components(r"\").unwrap(), Vec::<&str>::new());
        assert!(components(r"\WINNT\..\x").is_err());
    }
}
