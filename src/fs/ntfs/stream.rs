//! Non-resident streams read straight from their extents (no ntfs crate on
//! the hot path): a volume's bytes, a read of any range of a stream, and the
//! stream as one borrowed slice when it is one run of the map.

use super::record::Extent;
use crate::fs::RangeRead;
use crate::image::Window;

/// A volume's bytes: small reads through [`Window::read_scattered_at`]
/// (`pread` on a raw image), whole streams as slices of the map when there is
/// one and scattered reads do not bypass it.
pub struct VolumeBytes<'d> {
    pub window: Window<'d>,
    bytes: Option<&'d [u8]>,
    /// Bytes per cluster.
    pub cluster: u64,
}

impl<'d> VolumeBytes<'d> {
    pub fn new(window: Window<'d>, cluster: u64) -> Self {
        // Borrowing slices of the map faults its pages in; when the disk has
        // a cheaper path for small reads, copy through that instead.
        let bytes = window
            .as_bytes()
            .filter(|_| !window.prefers_scattered_reads());
        VolumeBytes {
            window,
            bytes,
            cluster,
        }
    }

    /// Reads `buf.len()` bytes at volume offset `off`.
    pub fn read(&self, off: u64, buf: &mut [u8]) -> Result<(), String> {
        self.window
            .read_scattered_at(off, buf)
            .map_err(|e| e.to_string())
    }

    /// Reads `buf.len()` bytes at stream offset `off` of a non-resident
    /// stream. Bytes past `initialized` and in sparse runs read as zeros.
    pub fn read_stream(
        &self,
        extents: &[Extent],
        initialized: u64,
        off: u64,
        buf: &mut [u8],
    ) -> Result<(), String> {
        let mut done = 0usize;
        let mut i = extents.partition_point(|e| e.start + e.len <= off);
        while done < buf.len() {
            let pos = off + done as u64;
            let e = extents
                .get(i)
                .ok_or_else(|| format!("offset {pos} is past the stream's runs"))?;
            let inner = pos - e.start;
            let n = ((e.len - inner) as usize).min(buf.len() - done);
            let dst = &mut buf[done..done + n];
            match e.lcn {
                Some(lcn) if pos < initialized => {
                    let lcn = lcn.checked_add(inner).ok_or("run offset overflows")?;
                    self.read(lcn, dst)?;
                    let valid = initialized.saturating_sub(pos).min(n as u64) as usize;
                    dst[valid..].fill(0);
                }
                _ => dst.fill(0),
            }
            done += n;
            i += 1;
        }
        Ok(())
    }

    /// The stream as one slice of the mapped volume, when it is one run (and
    /// the volume is read through its map).
    pub fn contiguous(&self, extents: &[Extent], size: u64, initialized: u64) -> Option<&'d [u8]> {
        contiguous_in(self.bytes?, extents, size, initialized)
    }
}

/// The first `size` bytes of a stream as one slice of the volume's `bytes`,
/// when its extents are one run of clusters and all of it is initialized.
pub fn contiguous_in<'b>(
    bytes: &'b [u8],
    extents: &[Extent],
    size: u64,
    initialized: u64,
) -> Option<&'b [u8]> {
    if initialized < size {
        return None;
    }
    let first = extents.first()?;
    let mut end = first.lcn?;
    let start = end;
    for e in extents {
        if e.lcn? != end {
            return None;
        }
        end = end.checked_add(e.len)?;
        if end - start >= size {
            break;
        }
    }
    let s = usize::try_from(start).ok()?;
    bytes.get(s..s.checked_add(usize::try_from(size).ok()?)?)
}

/// One non-resident stream of a volume, read by range.
pub struct StreamFile<'v, 'd> {
    pub vol: &'v VolumeBytes<'d>,
    pub extents: &'v [Extent],
    pub size: u64,
    pub initialized: u64,
}

impl RangeRead for StreamFile<'_, '_> {
    fn size(&self) -> u64 {
        self.size
    }

    fn as_slice(&self) -> Option<&[u8]> {
        self.vol
            .contiguous(self.extents, self.size, self.initialized)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), String> {
        self.vol
            .read_stream(self.extents, self.initialized, offset, buf)
    }
}
