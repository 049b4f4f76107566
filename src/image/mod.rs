//! Image layer: turns an image file (raw, split raw, or a container) into one
//! virtual disk of bytes that the volume layer reads.
//!
//! Every format implements [`Disk`]: positioned reads through `&self`, so one
//! disk is shared by all rayon workers without a lock on the hot path. A raw
//! image is memory-mapped and also exposes itself as one slice
//! ([`Disk::as_bytes`]), which lets the layers above read without copying.
//!
//! The format is recognised by content (magic bytes), never by the file name;
//! only split raw images, which have no magic, are recognised by their
//! numbered names (`X.001`, `X.002`, … or `X.aa`, `X.ab`, …).
//!
//! | format | reader | concurrency |
//! |---|---|---|
//! | raw, split raw | ours (mmap) | lock-free |
//! | VHD fixed/dynamic/differencing | ours (mmap) | lock-free |
//! | qcow2 | ours (mmap) for the cluster map and compressed clusters (raw deflate, `flate2`) | lock-free; inflated clusters in a sharded cache (`cache.rs`) |
//! | E01/Ex01 | `ewf` | `read_at(&self)`, the crate's chunk cache has a short lock |
//! | VHDX | `vhdx-core` | reader pool |
//! | VMDK | `vmdk-core` | reader pool (stream-optimized: inflated grains cached) |
//!
//! Hashes stored in an E01 are checked by [`verify_stored_hashes`] (MD5 and
//! SHA-1 through the `md-5` and `sha1` crates).

mod cache;
mod ewf;
pub mod http;
mod layer;
mod pool;
mod qcow2;
mod raw;
mod sniff;
mod split;
mod vhd;
mod vhdx;
mod vmdk;
mod window;

use std::fmt;
use std::path::{Path, PathBuf};

pub use raw::RawDisk;
pub use window::Window;

/// Errors of the image layer. Each names the image file, in one line.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("{}: cannot open: {}", path.display(), io_text(source))]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A FIFO, a character device, a socket, a directory or standard input:
    /// something that is not a file we can read at any offset.
    #[error("{}: {what}", path.display())]
    NotAFile { path: PathBuf, what: String },
    /// A file recognised by content as something else (an archive, a hive,
    /// an executable, another filesystem…).
    #[error("{}: this is {what}: {advice}", path.display())]
    NotADiskImage {
        path: PathBuf,
        what: String,
        advice: String,
    },
    #[error("{}: {what}", path.display())]
    Format { path: PathBuf, what: String },
    #[error("{}: read of {len} bytes at offset {offset} failed: {what}", path.display())]
    Read {
        path: PathBuf,
        offset: u64,
        len: usize,
        what: String,
    },
    /// A structure inside a container is damaged or out of range.
    #[error("{}: at offset {offset}: {what}", path.display())]
    Corrupt {
        path: PathBuf,
        offset: u64,
        what: String,
    },
    /// A file that the image needs (segment, extent, parent, backing file) is
    /// not there.
    #[error("{}: {what}", path.display())]
    Missing { path: PathBuf, what: String },
    /// The container is valid but uses a feature we do not read.
    #[error("{}: unsupported: {what}", path.display())]
    Unsupported { path: PathBuf, what: String },
    /// A remote image (`http(s)://`) its server would not serve as verskew
    /// reads one: Range ignored, a redirect refused, an object that changed
    /// while read. `path` is the redacted URL.
    #[error("{}: {what}", path.display())]
    Remote { path: PathBuf, what: String },
}

/// An I/O error as one line for a user: the OS's words without the
/// "(os error N)" suffix Rust adds.
pub(crate) fn io_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) if s.ends_with(')') => s[..i].to_string(),
        _ => s,
    }
}

impl ImageError {
    /// A stable, machine-readable kind (the JSON `kind`; the README lists them all).
    pub fn kind(&self) -> &'static str {
        match self {
            ImageError::Open { source, .. } => match source.kind() {
                std::io::ErrorKind::NotFound => "not-found",
                std::io::ErrorKind::PermissionDenied => "permission",
                _ => "io-error",
            },
            ImageError::NotAFile { .. } => "not-a-file",
            ImageError::NotADiskImage { .. } => "not-a-disk-image",
            ImageError::Format { .. } | ImageError::Corrupt { .. } => "corrupt",
            ImageError::Read { .. } => "io-error",
            ImageError::Missing { .. } => "missing-segment",
            ImageError::Unsupported { .. } => "unsupported-container",
            ImageError::Remote { .. } => "remote",
        }
    }

    pub(crate) fn format(path: &Path, what: impl Into<String>) -> Self {
        ImageError::Format {
            path: path.to_path_buf(),
            what: what.into(),
        }
    }

    pub(crate) fn corrupt(path: &Path, offset: u64, what: impl Into<String>) -> Self {
        ImageError::Corrupt {
            path: path.to_path_buf(),
            offset,
            what: what.into(),
        }
    }

    pub(crate) fn missing(path: &Path, what: impl Into<String>) -> Self {
        ImageError::Missing {
            path: path.to_path_buf(),
            what: what.into(),
        }
    }

    pub(crate) fn unsupported(path: &Path, what: impl Into<String>) -> Self {
        ImageError::Unsupported {
            path: path.to_path_buf(),
            what: what.into(),
        }
    }
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

    /// [`read_exact_at`](Disk::read_exact_at) for many small reads scattered
    /// over the disk (a census probing every file). A raw image serves them
    /// with `pread` on its read-only file handle instead of touching the map
    /// (see [`RawDisk`]); other disks read as usual.
    fn read_scattered_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        self.read_exact_at(offset, buf)
    }

    /// True when [`read_scattered_at`](Disk::read_scattered_at) bypasses the
    /// map: then copying through it beats borrowing slices of the map.
    fn prefers_scattered_reads(&self) -> bool {
        false
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
    /// A triage collection in a host folder (`fs::collection`).
    Directory,
    /// A triage collection in a zip archive.
    Zip,
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
            Format::Directory => "directory",
            Format::Zip => "zip",
        })
    }
}

/// Facts about the container, for `verskew info` and the report.
#[derive(Debug, Clone, Default)]
pub struct ContainerInfo {
    /// Files that make up the image (segments, extents, parents), in order.
    pub files: Vec<PathBuf>,
    /// Free-form key/value metadata (acquisition notes, stored hashes, ...),
    /// sorted by key for deterministic output.
    pub metadata: Vec<(String, String)>,
}

impl ContainerInfo {
    pub(crate) fn single(path: &Path) -> Self {
        ContainerInfo {
            files: vec![path.to_path_buf()],
            metadata: Vec::new(),
        }
    }

    /// The value stored under `key`, if any.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.metadata
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn push(&mut self, key: &str, value: impl Into<String>) {
        self.metadata.push((key.to_string(), value.into()));
    }

    /// Takes in the files and metadata of a parent or backing layer, its
    /// keys under `prefix` (`parent.vhd.type`, `backing.qcow2.version`, …).
    pub(crate) fn absorb(&mut self, prefix: &str, layer: ContainerInfo) {
        self.files.extend(layer.files);
        for (k, v) in layer.metadata {
            self.push(&format!("{prefix}.{k}"), v);
        }
    }

    fn finish(&mut self) {
        self.metadata.sort();
        self.metadata.dedup();
    }
}

/// An opened image: its path, format and the virtual disk.
pub struct Image {
    pub path: PathBuf,
    pub format: Format,
    pub info: ContainerInfo,
    pub disk: Box<dyn Disk>,
    /// Set for EWF images: the reader that can check the stored hashes.
    ewf: Option<std::sync::Arc<::ewf::EwfReader>>,
    /// Set for remote images: what reading it has cost so far.
    transfer: Option<std::sync::Arc<http::Counters>>,
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

impl Image {
    /// Size of the virtual disk in bytes.
    pub fn size(&self) -> u64 {
        self.disk.size()
    }

    /// For an image read over HTTP: the bytes and requests it has cost so
    /// far (`None` for a local image).
    pub fn transfer(&self) -> Option<http::Transfer> {
        self.transfer.as_ref().map(|c| c.snapshot())
    }
}

/// Opens an image read-only and recognises its format by content.
///
/// An `http://` or `https://` URL (best given through
/// [`http::alias_urls`], which keeps its query string out of every
/// message) is read by range requests: raw images and single-segment E01s.
///
/// Nothing is ever written next to the image: every file (segments, extents,
/// parents, backing files) is opened read-only and mapped with a read-only map.
pub fn open(path: &Path) -> Result<Image, ImageError> {
    // `-` is the shell's name for standard input; a file of that name is
    // still read.
    if path == Path::new("-") && std::fs::symlink_metadata(path).is_err() {
        return Err(ImageError::NotAFile {
            path: path.to_path_buf(),
            what: "images are read by path, not from standard input (they need reads at any offset): save it to a file first".into(),
        });
    }
    let (path, opened, transfer) = match http::open(path) {
        // An http(s) URL: read by range requests, named by its redacted form.
        Some(remote) => {
            let disk = remote?;
            let counters = disk.counters();
            let name = disk.alias().to_path_buf();
            (name, layer::open_remote(disk)?, Some(counters))
        }
        None => (path.to_path_buf(), layer::open_top(path)?, None),
    };
    let mut info = opened.info;
    info.finish();
    Ok(Image {
        path,
        format: opened.format,
        info,
        disk: opened.disk,
        ewf: opened.ewf,
        transfer,
    })
}

/// What the start of a virtual disk says it is, when it is clearly no
/// Windows disk (an ext4 filesystem inside an E01, a zip inside a VMDK…):
/// "an ext2/3/4 filesystem (Linux), not a Windows volume". Reads at most
/// 64 KiB.
pub fn identify(disk: &dyn Disk) -> Option<&'static str> {
    let mut head = vec![0u8; disk.size().min(sniff::HEAD as u64) as usize];
    disk.read_exact_at(0, &mut head).ok()?;
    sniff::foreign(&head).map(|f| f.what)
}

/// Whether the first bytes of a file (a few KiB) look like a disk image
/// this crate reads: a container's magic (EWF, VHD, VHDX, VMDK, qcow2) or a
/// boot sector, MBR or GPT. `diagnose` uses it on the files of a folder
/// whose names say nothing; the file is still recognised by content when
/// opened. Logical evidence files (L01) are not disk images.
pub fn looks_like_an_image(head: &[u8]) -> bool {
    match layer::sniff(head) {
        layer::Kind::Raw | layer::Kind::EwfLogical => sniff::looks_like_a_disk(head),
        _ => true,
    }
}

/// The first segment missing from the split raw set that `path` starts
/// (`x.001` alone → `x.002`; `x.001`, `x.002` → `x.003`); `None` when
/// `path` is not named like a first segment. A set that simply ends is
/// legal (FTK Imager names an unsplit image `.001`); the volume layer tells
/// whether the set holds what its volumes declare.
pub fn next_segment(path: &Path) -> Option<PathBuf> {
    split::first_missing_segment(path)
}

/// Which stored hash a [`HashCheck`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlgorithm {
    Md5,
    Sha1,
}

impl HashAlgorithm {
    /// The JSON id: `md5`, `sha1`.
    pub fn id(self) -> &'static str {
        match self {
            HashAlgorithm::Md5 => "md5",
            HashAlgorithm::Sha1 => "sha1",
        }
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HashAlgorithm::Md5 => "MD5",
            HashAlgorithm::Sha1 => "SHA-1",
        })
    }
}

/// The result of checking one hash stored in a container against its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashCheck {
    pub algorithm: HashAlgorithm,
    /// Lower-case hex, as stored by the acquisition tool.
    pub stored: String,
    /// Lower-case hex, computed over the whole virtual disk.
    pub computed: String,
    pub matches: bool,
}

/// Recomputes the hashes an acquisition tool stored in the image (E01/Ex01:
/// MD5 and/or SHA-1) over the whole virtual disk and compares them.
///
/// Returns one [`HashCheck`] per stored hash; an empty list when the image
/// stores none (raw images, VHD, …, or an E01 made without hashes).
/// `progress(done, total)` is called with the bytes hashed so far, after
/// every 32 MiB (reads are parallel, hashing is in order).
pub fn verify_stored_hashes(
    image: &Image,
    progress: &dyn Fn(u64, u64),
) -> Result<Vec<HashCheck>, ImageError> {
    let Some(reader) = image.ewf.as_ref() else {
        return Ok(Vec::new());
    };
    ewf::verify(&image.path, reader, image.disk.as_ref(), progress)
}

/// Big-endian `u32` at `at` (the caller has checked the bounds).
pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_be_bytes(a)
}

/// Big-endian `u64` at `at` (the caller has checked the bounds).
pub(crate) fn be64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_be_bytes(a)
}

/// `bytes[offset..offset + len]`, or `None` when any of it lies outside.
pub(crate) fn bytes_at(bytes: &[u8], offset: u64, len: usize) -> Option<&[u8]> {
    let start = usize::try_from(offset).ok()?;
    bytes.get(start..start.checked_add(len)?)
}

/// Lower-case hex of `bytes`, a space between bytes: `5d 5a`.
pub(crate) fn hex_spaced(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// `msg` without a leading "`path`: " (errors from below name the file;
/// the message they go into names it already).
pub fn without_path(path: &str, msg: &str) -> String {
    msg.strip_prefix(path)
        .and_then(|m| m.strip_prefix(": "))
        .unwrap_or(msg)
        .to_string()
}

/// An I/O error whose message names the file and the offset.
pub(crate) fn io_err(path: &Path, offset: u64, what: impl fmt::Display) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("{}: at offset {offset}: {what}", path.display()),
    )
}

/// The error for a read that starts or ends past the end of a disk.
pub(crate) fn past_end(path: &Path, offset: u64, len: usize, size: u64) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::UnexpectedEof,
        format!(
            "{}: read of {len} bytes at offset {offset} is past the end of the disk ({size} bytes)",
            path.display()
        ),
    )
}

/// Checks that `offset..offset+len` lies within a disk of `size` bytes.
pub(crate) fn check_range(path: &Path, offset: u64, len: usize, size: u64) -> std::io::Result<()> {
    match offset.checked_add(len as u64) {
        Some(end) if end <= size => Ok(()),
        _ => Err(past_end(path, offset, len, size)),
    }
}
