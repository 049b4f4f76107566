//! Raw (dd) images: memory-mapped read-only, zero copy; small scattered
//! reads go through `pread` on the same read-only handle.
//!
//! Why both: probing 300,000 files for `MZ` through the map costs a page
//! fault each, and the kernel maps 16 pages around every fault (fault-around:
//! gigabytes of page tables set up and torn down). On a large image that
//! faulted in (and tore down) ~5 GB of page-cache mappings, for ~1.4× the CPU
//! time and ~90× the peak RSS (5 GB vs 55 MB) of `pread`, which touches no
//! page tables (benches/RESULTS.md). Bulk reads still copy from the map.
//!
//! A block device (a write-blocked `/dev/sdX`) is never mapped: its
//! metadata length is 0, so its size comes from seeking to its end, and
//! every read is a `pread`. FIFOs, character devices, sockets and
//! directories are refused before they are opened (opening a FIFO for
//! reading blocks until a writer appears).

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use super::{bytes_at, check_range, past_end, Disk, ImageError};

/// A raw image file mapped into memory.
pub struct RawDisk {
    path: PathBuf,
    /// Opened read-only; kept for positioned reads.
    #[cfg_attr(not(unix), allow(dead_code))]
    file: File,
    map: Option<Mmap>,
    /// The size of a block device (read with `pread` only); `None` for a
    /// regular file, whose size is its map's.
    device_size: Option<u64>,
}

impl RawDisk {
    /// Opens `path` read-only and maps it. The file handle is opened without
    /// write access, and the map is a read-only `Mmap` (never `MmapMut`).
    pub fn open(path: &Path) -> Result<Self, ImageError> {
        let open_err = |source| ImageError::Open {
            path: path.to_path_buf(),
            source,
        };
        // stat before open: opening a FIFO would block.
        let meta = std::fs::metadata(path).map_err(open_err)?;
        let device = check_file_type(path, &meta)?;
        let mut file = File::open(path).map_err(open_err)?;
        if device {
            // A block device reports length 0: its size is where its end is.
            use std::io::{Seek, SeekFrom};
            let size = file.seek(SeekFrom::End(0)).map_err(open_err)?;
            file.seek(SeekFrom::Start(0)).map_err(open_err)?;
            return Ok(RawDisk {
                path: path.to_path_buf(),
                file,
                map: None,
                device_size: Some(size),
            });
        }
        if meta.len() == 0 {
            // mmap of an empty file fails on some platforms; an empty disk is valid.
            return Ok(RawDisk {
                path: path.to_path_buf(),
                file,
                map: None,
                device_size: None,
            });
        }
        // SAFETY: the map is read-only and private to us. Another process could
        // still change or truncate the file while it is mapped; we treat every
        // byte as hostile anyway, and evidence files are not expected to change
        // under an analysis (a truncation would raise SIGBUS, which is the
        // documented limit of mapping files).
        let map = unsafe { Mmap::map(&file) }.map_err(open_err)?;
        Ok(RawDisk {
            path: path.to_path_buf(),
            file,
            map: Some(map),
            device_size: None,
        })
    }

    /// True for a block device (read with `pread`, never mapped).
    pub fn is_device(&self) -> bool {
        self.device_size.is_some()
    }

    /// Up to `max` bytes from the start, for recognising the format: a
    /// slice of the map, or a `pread` on a device.
    pub(crate) fn head(&self, max: usize) -> std::borrow::Cow<'_, [u8]> {
        match self.device_size {
            None => std::borrow::Cow::Borrowed(&self.bytes()[..self.bytes().len().min(max)]),
            Some(size) => {
                let mut buf = vec![0u8; size.min(max as u64) as usize];
                match self.read_exact_at(0, &mut buf) {
                    Ok(()) => std::borrow::Cow::Owned(buf),
                    Err(_) => std::borrow::Cow::Owned(Vec::new()),
                }
            }
        }
    }

    /// The mapped bytes of the file.
    pub(crate) fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }

    /// The file this disk maps.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Refuses what is not a regular file or a block device, with the reason
/// and what to do; `Ok(true)` for a block device.
fn check_file_type(path: &Path, meta: &std::fs::Metadata) -> Result<bool, ImageError> {
    let ft = meta.file_type();
    if ft.is_file() {
        return Ok(false);
    }
    let what = if ft.is_dir() {
        "is a directory, not a disk image: give the image file inside it (the .E01, the .001 of a split set, the .vmdk descriptor)"
    } else {
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            if ft.is_block_device() {
                return Ok(true);
            }
            if ft.is_fifo() {
                "is a FIFO (named pipe), not a disk image: images are read at any offset, not as a stream; save it to a file first"
            } else if ft.is_char_device() {
                "is a character device, not a disk image: give a block device (/dev/sdX) or an image file"
            } else if ft.is_socket() {
                "is a socket, not a disk image: save the image to a file first"
            } else {
                "is not a regular file or block device"
            }
        }
        #[cfg(not(unix))]
        "is not a regular file"
    };
    Err(ImageError::NotAFile {
        path: path.to_path_buf(),
        what: what.into(),
    })
}

/// `pread` of exactly `buf.len()` bytes; a short read (a device shrank, a
/// file was truncated under us) names the path and the offset.
fn pread(file: &File, path: &Path, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
    // Only block devices and scattered reads get here, both Unix only.
    #[cfg(unix)]
    let r = std::os::unix::fs::FileExt::read_exact_at(file, buf, offset);
    #[cfg(not(unix))]
    let r: std::io::Result<()> = {
        let _ = file;
        Err(std::io::ErrorKind::Unsupported.into())
    };
    r.map_err(|e| {
        super::io_err(
            path,
            offset,
            format!("read of {} bytes failed: {}", buf.len(), super::io_text(&e)),
        )
    })
}

impl Disk for RawDisk {
    fn size(&self) -> u64 {
        self.device_size
            .unwrap_or_else(|| self.bytes().len() as u64)
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        if self.device_size.is_some() {
            check_range(&self.path, offset, buf.len(), self.size())?;
            return pread(&self.file, &self.path, offset, buf);
        }
        let src = bytes_at(self.bytes(), offset, buf.len())
            .ok_or_else(|| past_end(&self.path, offset, buf.len(), self.size()))?;
        buf.copy_from_slice(src);
        Ok(())
    }

    fn as_bytes(&self) -> Option<&[u8]> {
        self.device_size.is_none().then(|| self.bytes())
    }

    /// `pread` on Unix (see the module doc); a copy from the map elsewhere.
    fn read_scattered_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        #[cfg(unix)]
        if self.prefers_scattered_reads() {
            check_range(&self.path, offset, buf.len(), self.size())?;
            return pread(&self.file, &self.path, offset, buf);
        }
        self.read_exact_at(offset, buf)
    }

    fn prefers_scattered_reads(&self) -> bool {
        cfg!(unix) && self.map.is_some()
    }
}
