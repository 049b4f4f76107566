//! The byte ranges of a PE file that [`read_version`](super::read_version)
//! needs: the headers and the raw data of the section holding the resource
//! directory. A census reads only these into a zeroed buffer of the file's
//! size instead of the whole file.

use std::ops::Range;

use super::headers::{read_headers, section_of_rva, Layout};
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
