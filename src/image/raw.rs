//! Raw (dd) images: memory-mapped read-only, zero copy; small scattered
//! reads go through `pread` on the same read-only handle.
//!
//! Why both: probing 300,000 files for `MZ` through the map costs a page
//! fault each, and the kernel maps 16 pages around every fault (fault-around:
//! gigabytes of page tables set up and torn down). On a large image that
//! faulted in (and tore down) ~5 GB of page-cache mappings, for ~1.4× the CPU
//! time and ~90× the peak RSS (5 GB vs 55 MB) of `pread`, which touches no
//! page tables (benches/RESULTS.md). Bulk reads still copy from the map.

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
}

impl RawDisk {
    /// Opens `path` read-only and maps it. The file handle is opened without
    /// write access, and the map is a read-only `Mmap` (never `MmapMut`).
    pub fn open(path: &Path) -> Result<Self, ImageError> {
        let open_err = |source| ImageError::Open {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(open_err)?;
        let meta = file.metadata().map_err(open_err)?;
        if !meta.is_file() {
            return Err(ImageError::Format {
                path: path.to_path_buf(),
                what: "not a regular file".into(),
            });
        }
        if meta.len() == 0 {
            // mmap of an empty file fails on some platforms; an empty disk is valid.
            return Ok(RawDisk {
                path: path.to_path_buf(),
                file,
                map: None,
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
        })
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

impl Disk for RawDisk {
    fn size(&self) -> u64 {
        self.bytes().len() as u64
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let src = bytes_at(self.bytes(), offset, buf.len())
            .ok_or_else(|| past_end(&self.path, offset, buf.len(), self.size()))?;
        buf.copy_from_slice(src);
        Ok(())
    }

    fn as_bytes(&self) -> Option<&[u8]> {
        Some(self.bytes())
    }

    /// `pread` on Unix (see the module doc); a copy from the map elsewhere.
    fn read_scattered_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        #[cfg(unix)]
        if self.prefers_scattered_reads() {
            check_range(&self.path, offset, buf.len(), self.size())?;
            return std::os::unix::fs::FileExt::read_exact_at(&self.file, buf, offset);
        }
        self.read_exact_at(offset, buf)
    }

    fn prefers_scattered_reads(&self) -> bool {
        cfg!(unix) && self.map.is_some()
    }
}
