//! Image layer: turns an image file (raw, split raw, or a container) into one
//! virtual disk of bytes that the volume layer reads.
//!
//! Every format implements [`Disk`]: positioned reads through `&self`, so one
//! disk is shared by all rayon workers without a lock on the hot path. A raw
//! image is memory-mapped and also exposes itself as one slice
//! ([`Disk::as_bytes`]), which lets the layers above read without copying.

mod raw;
mod window;

use std::fmt;
use std::path::{Path, PathBuf};

pub use raw::RawDisk;
pub use window::Window;

/// Errors of the image layer. Each names the image file.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("{path}: cannot open: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {what}")]
    Format { path: PathBuf, what: String },
    #[error("{path}: read of {len} bytes at offset {offset} failed: {what}")]
    Read {
        path: PathBuf,
        offset: u64,
        len: usize,
        what: String,
    },
}

/// A virtual disk: the bytes a volume layer sees, whatever the container.
pub trait Disk: Send + Sync {
    /// Size of the virtual disk in bytes.
    fn size(&self) -> u64;

    /// Fills `buf` with the bytes at `offset`. Reading past the end, or any
    /// byte the container cannot produce, is an error: never silent zeros
    /// where data should be (sparse/unallocated regions of a container are
    /// zeros by definition and are fine).
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()>;

    /// The whole disk as one slice, when it is a memory-mapped raw file.
    fn as_bytes(&self) -> Option<&[u8]> {
        None
    }
}

/// The container format an image was recognised as (by content, not name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Raw,
    SplitRaw,
    Ewf,
    Vhd,
    Vhdx,
    Vmdk,
    Qcow2,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Raw => "raw",
            Format::SplitRaw => "split-raw",
            Format::Ewf => "ewf",
            Format::Vhd => "vhd",
            Format::Vhdx => "vhdx",
            Format::Vmdk => "vmdk",
            Format::Qcow2 => "qcow2",
        })
    }
}

/// Facts about the container, for `verskew info` and the report.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ContainerInfo {
    /// Files that make up the image (segments, extents, parents), in order.
    pub files: Vec<PathBuf>,
    /// Free-form key/value metadata (acquisition notes, stored hashes, ...),
    /// sorted by key for deterministic output.
    pub metadata: Vec<(String, String)>,
}

/// An opened image: its path, format and the virtual disk.
pub struct Image {
    pub path: PathBuf,
    pub format: Format,
    pub info: ContainerInfo,
    pub disk: Box<dyn Disk>,
}

impl fmt::Debug for Image {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Image")
            .field("path", &self.path)
            .field("format", &self.format)
            .field("size", &self.disk.size())
            .finish()
    }
}

/// Opens an image read-only and recognises its format by content.
pub fn open(path: &Path) -> Result<Image, ImageError> {
    let raw = RawDisk::open(path)?;
    Ok(Image {
        path: path.to_path_buf(),
        format: Format::Raw,
        info: ContainerInfo {
            files: vec![path.to_path_buf()],
            metadata: Vec::new(),
        },
        disk: Box::new(raw),
    })
}
