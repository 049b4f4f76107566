//! The byte ranges of a PE file that [`read_version`](super::read_version)
//! needs: the headers and the raw data of the section holding the resource
//! directory. A census reads only these into a zeroed buffer of the file's
//! size instead of the whole file.

use std::ops::Range;

use super::headers::{read_headers, section_of_rva, Layout};
use super::{read_version, PeError, VersionInfo};
use crate::fs::RangeRead;
use crate::le::u32_at;

/// Bytes a caller reads first (DOS header, usually all headers);
/// [`version_ranges`] asks for at least this much header.
pub const HEADER_PROBE: usize = 4096;
/// Most header bytes [`version_ranges`] asks for.
pub const MAX_HEADER_BYTES: usize = 64 << 10;
/// Section-table entries looked at (pelite's limit).
const MAX_SECTIONS: usize = 96;
/// Data directory entry of the resource directory.
const RESOURCE_DIRECTORY: usize = 2;

/// The file ranges a version read needs, judged from the bytes in `b` (a
/// buffer of the file's size; bytes not read yet are zeros): the headers (up
/// to `SizeOfHeaders` or the end of the section table, at least
/// [`HEADER_PROBE`] and at most [`MAX_HEADER_BYTES`]) and, once the headers
/// parse, the resource section. A caller reads what it lacks and asks again:
/// the first answer may only know where the headers end.
pub fn version_ranges(b: &[u8]) -> Vec<Range<u64>> {
    let len = b.len() as u64;
    let mut out = Vec::with_capacity(2);
    let Some(nt) = u32_at(b, 0x3c) else {
        out.push(0..len.min(HEADER_PROBE as u64));
        return out;
    };
    let layout = Layout::new(b, nt);
    let size_of_headers = layout.size_of_headers(b).unwrap_or(0) as usize;
    let hdr = size_of_headers
        .max(layout.section_table_end(MAX_SECTIONS))
        .clamp(HEADER_PROBE.min(b.len()), MAX_HEADER_BYTES) as u64;
    out.push(0..hdr.min(len));
    let Ok(h) = read_headers(b) else {
        return out;
    };
    let rva = layout.directory_rva(b, h.is_pe32_plus, RESOURCE_DIRECTORY);
    let Some(rva) = rva.filter(|&r| r != 0) else {
        return out;
    };
    let count = layout.sections.min(MAX_SECTIONS);
    if let Some(sec) = section_of_rva(b, layout.section_table(), count, rva) {
        let a = u64::from(sec.raw_ptr).min(len);
        let e = (u64::from(sec.raw_ptr) + u64::from(sec.raw_size)).min(len);
        if a < e {
            out.push(a..e);
        }
    }
    out
}

/// A version read from a file read by range.
#[derive(Debug)]
pub struct RangedVersion {
    pub version: Result<VersionInfo, PeError>,
    /// The COFF machine (`IMAGE_FILE_MACHINE_*`), when the headers parse.
    pub machine: Option<u16>,
    /// Bytes of the file read (or, for a borrowed slice, the bytes the
    /// parse touches).
    pub touched: u64,
    /// The partial view was not enough and the whole file was read.
    pub whole: bool,
}

/// The version of `file` if it is a PE file (starts with `MZ`), reading as
/// little as it can: the `MZ` probe, then [`version_ranges`] into a zeroed
/// buffer of the file's size (untouched pages of a calloc'd buffer cost
/// nothing), then the whole file only if that partial view is not enough.
/// `None` when the file is not PE; files over `max` bytes get an error.
pub fn read_version_ranged(
    file: &dyn RangeRead,
    max: u64,
) -> Result<Option<RangedVersion>, String> {
    let size = file.size();
    if size < 2 {
        return Ok(None);
    }
    // Probed by a read, not through a borrowed slice: a slice of the map
    // would fault in a page per file.
    let mut mz = [0u8; 2];
    file.read_at(0, &mut mz)?;
    if &mz != b"MZ" {
        return Ok(None);
    }
    let found = |version, machine, touched, whole| {
        Ok(Some(RangedVersion {
            version,
            machine,
            touched,
            whole,
        }))
    };
    let machine = |bytes: &[u8]| read_headers(bytes).ok().map(|h| h.machine);
    if size > max {
        let e = PeError::BadPe(format!("{size} bytes is over the {max}-byte limit"));
        return found(Err(e), None, 2, false);
    }
    if let Some(slice) = file.as_slice() {
        let touched = union_len(&version_ranges(slice));
        return found(read_version(slice), machine(slice), touched, false);
    }
    let mut buf = vec![0u8; size as usize];
    let head = HEADER_PROBE.min(buf.len());
    file.read_at(0, &mut buf[..head])?;
    let mut touched = head as u64;
    let mut have: Vec<Range<u64>> = std::iter::once(0..head as u64).collect();
    // Headers may need more than the probe (then the section table is read
    // again), then the resource section.
    for _ in 0..2 {
        for r in version_ranges(&buf) {
            if have.iter().any(|h| h.start <= r.start && r.end <= h.end) {
                continue;
            }
            file.read_at(r.start, &mut buf[r.start as usize..r.end as usize])?;
            touched += r.end - r.start;
            have.push(r);
        }
    }
    let first = read_version(&buf);
    if first.is_ok() || matches!(first, Err(PeError::NotPe(_)) | Err(PeError::NoVersion)) {
        return found(first, machine(&buf), touched, false);
    }
    // Something outside the ranges was needed: read it all and retry.
    file.read_at(0, &mut buf)?;
    found(read_version(&buf), machine(&buf), touched + size, true)
}

/// Bytes covered by a few ranges, overlaps counted once.
fn union_len(ranges: &[Range<u64>]) -> u64 {
    let mut r: Vec<_> = ranges.iter().map(|r| (r.start, r.end)).collect();
    r.sort_unstable();
    let (mut total, mut end) = (0u64, 0u64);
    for (a, b) in r {
        let a = a.max(end);
        if b > a {
            total += b - a;
            end = b;
        }
    }
    total
}
