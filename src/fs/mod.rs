//! Filesystem layer: Windows paths → files → bytes on an NTFS volume.
//!
//! The `ntfs` crate reads boot sectors, MFT records (with fixups) and
//! attributes. Directory indexes are parsed here ([`index`]) because the
//! crate's B-tree walkers can loop forever on a subnode that points back at an
//! ancestor; walking index blocks flat, as the bitmap lists them, cannot loop.
//! NTFS compression (LZNT1) is decoded here too ([`compressed`]); the crate
//! would return the compressed bytes as if they were the file.

pub(crate) mod ntfs;

use std::borrow::Cow;

pub use self::ntfs::NtfsVolume;
pub(crate) use crate::panic::contain;

/// The flat `$I30` index parser and the LZNT1 stream decoder, for the fuzz
/// targets (`fuzz/`) and `tests/robustness.rs`. Not a stable API.
#[doc(hidden)]
pub mod fuzzing {
    pub use super::ntfs::compressed::{decode as decode_compressed, Run};
    pub use super::ntfs::index::{apply_fixup, parse as parse_index, IndexEntry};
}
use crate::time::FileTime;

/// Errors of the filesystem layer: each names the volume offset and the
/// Windows path or MFT record involved.
#[derive(Debug, thiserror::Error)]
pub enum FsError {
    #[error("NTFS volume at offset {offset}: {what}")]
    Volume { offset: u64, what: String },
    #[error("{path} (MFT record {record}): {what}")]
    File {
        path: String,
        record: u64,
        what: String,
    },
    #[error("{path}: not found")]
    NotFound { path: String },
}

impl FsError {
    /// What went wrong, without the path (for reports that show the path
    /// beside it).
    pub fn reason(&self) -> String {
        match self {
            FsError::File { record, .. } => format!("MFT record {record}: {}", self.what()),
            _ => self.what().to_string(),
        }
    }

    /// The bare cause, without path or record.
    pub fn what(&self) -> &str {
        match self {
            FsError::Volume { what, .. } | FsError::File { what, .. } => what,
            FsError::NotFound { .. } => "not found",
        }
    }
}

/// A directory entry or file, with its name as stored on disk.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    /// Full path from the volume root as stored on disk, e.g. `\WINNT\system32\w3svc.dll`.
    pub path: String,
    /// MFT record number.
    pub record: u64,
    pub is_dir: bool,
    /// Size of the unnamed data stream in bytes (0 for directories).
    pub size: u64,
    /// `$STANDARD_INFORMATION` times (what Explorer shows).
    pub created: Option<FileTime>,
    pub modified: Option<FileTime>,
    pub mft_modified: Option<FileTime>,
    /// The data stream is NTFS-compressed.
    pub compressed: bool,
    /// Set when the directory index names this entry but its MFT record
    /// cannot be read; the entry is kept so the loss is reported, not hidden.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Entry {
    /// An entry the index names but whose record cannot be used.
    pub(crate) fn unreadable(path: String, record: u64, is_dir: bool, why: String) -> Entry {
        Entry {
            path,
            record,
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
