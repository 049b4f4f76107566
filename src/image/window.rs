//! A `Read + Seek` view of a byte range of a disk: what the ntfs crate and the
//! partition-table crates read through. Each worker owns its own window; the
//! disk underneath is shared.

use std::io::{self, Read, Seek, SeekFrom};

use super::Disk;

/// `disk[base..base + len]` as a seekable stream.
#[derive(Clone)]
pub struct Window<'a> {
    disk: &'a dyn Disk,
    bytes: Option<&'a [u8]>,
    base: u64,
    len: u64,
    pos: u64,
}

impl<'a> Window<'a> {
    /// A window over `len` bytes at `base`; clamped to the disk's size.
    pub fn new(disk: &'a dyn Disk, base: u64, len: u64) -> Self {
        let size = disk.size();
        let base = base.min(size);
        let len = len.min(size - base);
        let bytes = disk.as_bytes().and_then(|b| {
            let start = usize::try_from(base).ok()?;
            let end = usize::try_from(base + len).ok()?;
            b.get(start..end)
        });
        Window {
            disk,
            bytes,
            base,
            len,
            pos: 0,
        }
    }

    /// The whole disk.
    pub fn whole(disk: &'a dyn Disk) -> Self {
        Self::new(disk, 0, disk.size())
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Offset of this window on the disk.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// The window's bytes without copying, when the disk is memory-mapped.
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        self.bytes
    }

    /// Reads exactly `buf.len()` bytes at `offset` within the window.
    pub fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.check(offset, buf.len())?;
        match self.bytes {
            Some(b) => {
                let start = offset as usize;
                buf.copy_from_slice(&b[start..start + buf.len()]);
                Ok(())
            }
            None => self.disk.read_exact_at(self.base + offset, buf),
        }
    }

    /// [`read_exact_at`](Window::read_exact_at) for small reads scattered
    /// over the volume: served by [`Disk::read_scattered_at`] (`pread` on a
    /// raw image rather than faulting pages of the map in).
    pub fn read_scattered_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        if !self.disk.prefers_scattered_reads() {
            return self.read_exact_at(offset, buf);
        }
        self.check(offset, buf.len())?;
        self.disk.read_scattered_at(self.base + offset, buf)
    }

    /// See [`Disk::prefers_scattered_reads`].
    pub fn prefers_scattered_reads(&self) -> bool {
        self.disk.prefers_scattered_reads()
    }

    fn check(&self, offset: u64, len: usize) -> io::Result<()> {
        if offset.checked_add(len as u64).is_none_or(|e| e > self.len) {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "read of {len} bytes at offset {offset} is past the end of the volume ({} bytes)",
                    self.len
                ),
            ));
        }
        Ok(())
    }
}

impl Read for Window<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.len.saturating_sub(self.pos);
        let n = (buf.len() as u64).min(left) as usize;
        if n == 0 {
            return Ok(0);
        }
        self.read_exact_at(self.pos, &mut buf[..n])?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Window<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        match target {
            Some(p) => {
                self.pos = p;
                Ok(p)
            }
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the volume",
            )),
        }
    }
}
