//! MFT records and attribute headers, parsed from their bytes: the one reader
//! our own code uses where it does not go through the ntfs crate (the MFT
//! scan reads records in bulk; `Ntfs::file()` re-reads record 0 and walks
//! `$MFT`'s runs on every call). Every read is bounds-checked and every count
//! capped, so a hostile record costs an error, never a panic or a huge
//! allocation.
//!
//! Holds the one update-sequence fixup of the crate: MFT records here, `INDX`
//! blocks in [`super::index`].

use super::index::{file_name_key, key_parts};
use crate::le::{u16_at, u32_at, u64_at};
use crate::time::FileTime;

/// MFT records below this are NTFS metadata ($MFT … $Extend) or reserved
/// (16–23, kept for `$MFT`'s own extension records), not user files.
///
/// The directory walk (`versions`) used 24, the MFT scan (`versions --all`)
/// 16. 24 is the documented first user record, and with it both commands
/// give byte-identical output on every test and corpus image (checked with
/// the snapshot of all commands): no named base record sits in 16–23 there.
pub const FIRST_USER_RECORD: u64 = 24;
/// The root directory's record number.
pub const ROOT_RECORD: u64 = 5;

const AT_STANDARD_INFORMATION: u32 = 0x10;
pub const AT_ATTRIBUTE_LIST: u32 = 0x20;
const AT_FILE_NAME: u32 = 0x30;
pub const AT_DATA: u32 = 0x80;
const AT_REPARSE_POINT: u32 = 0xC0;
const AT_END: u32 = 0xFFFF_FFFF;
/// Attribute header flags.
pub const ATTR_COMPRESSED: u16 = 0x0001;
const ATTR_ENCRYPTED: u16 = 0x4000;
/// Record header flags.
const RECORD_IN_USE: u16 = 0x0001;
const RECORD_IS_DIR: u16 = 0x0002;
/// Most attributes we walk in one record.
const MAX_ATTRIBUTES: usize = 512;
/// Most runs we accept in one mapping-pairs array (a hostile record cannot
/// make us allocate more).
pub const MAX_RUNS: usize = 65_536;

/// Why an update-sequence fixup failed; each caller words it its own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixupError {
    /// The header holding the array's offset and count is cut off.
    Truncated,
    /// The count is 0 or covers more 512-byte strides than the buffer has.
    Count { offset: usize, count: usize },
    /// The array itself runs past the end of the buffer.
    Array { offset: usize, count: usize },
    /// Stride `sector` does not end with the sequence number (a torn write).
    Mismatch { sector: usize },
}

/// Checks and undoes the update-sequence fixup of a multi-sector structure
/// (`FILE` record, `INDX` block): the last two bytes of every 512-byte stride
/// hold the sequence number; their real bytes are in the array. The whole
/// array is checked before anything is changed.
pub fn fixup(buf: &mut [u8]) -> Result<(), FixupError> {
    let offset = u16_at(buf, 4).ok_or(FixupError::Truncated)? as usize;
    let count = u16_at(buf, 6).ok_or(FixupError::Truncated)? as usize;
    if count == 0 || count - 1 > buf.len() / 512 {
        return Err(FixupError::Count { offset, count });
    }
    if offset + 2 * count > buf.len() {
        return Err(FixupError::Array { offset, count });
    }
    let check = [buf[offset], buf[offset + 1]];
    for k in 1..count {
        let end = k * 512 - 2;
        if buf[end..end + 2] != check {
            return Err(FixupError::Mismatch { sector: k - 1 });
        }
        buf[end] = buf[offset + 2 * k];
        buf[end + 1] = buf[offset + 2 * k + 1];
    }
    Ok(())
}

/// Applies the fixup of the MFT record in `buf`; `Ok(None)` if it is not a
/// valid, in-use base record, else whether it is a directory.
pub fn check_record(buf: &mut [u8]) -> Result<Option<bool>, String> {
    if buf.get(..4) != Some(b"FILE") {
        return Ok(None);
    }
    let flags = u16_at(buf, 22).unwrap_or(0);
    if flags & RECORD_IN_USE == 0 || u64_at(buf, 32).unwrap_or(1) != 0 {
        return Ok(None);
    }
    fixup(buf).map_err(|e| match e {
        FixupError::Truncated => "short record".to_string(),
        FixupError::Count { offset, count } | FixupError::Array { offset, count } => {
            format!("bad update sequence array (offset {offset}, {count} entries)")
        }
        FixupError::Mismatch { .. } => "update sequence mismatch (torn write)".into(),
    })?;
    Ok(Some(flags & RECORD_IS_DIR != 0))
}

/// The attributes of a fixed-up record, in order, up to the end marker or
/// the record's used size. A bad length ends the walk with an error.
pub fn attributes(rec: &[u8]) -> Result<Attributes<'_>, String> {
    let used = (u32_at(rec, 24).unwrap_or(0) as usize).min(rec.len());
    let off = u16_at(rec, 20).ok_or("short record")? as usize;
    Ok(Attributes {
        rec,
        used,
        off,
        seen: 0,
    })
}

pub struct Attributes<'a> {
    rec: &'a [u8],
    used: usize,
    off: usize,
    seen: usize,
}

impl<'a> Iterator for Attributes<'a> {
    type Item = Result<Attribute<'a>, String>;

    fn next(&mut self) -> Option<Self::Item> {
        let (rec, off) = (self.rec, self.off);
        if off + 16 > self.used {
            return None;
        }
        let mut step = || -> Result<Option<Attribute<'a>>, String> {
            self.seen += 1;
            if self.seen > MAX_ATTRIBUTES {
                return Err("too many attributes".into());
            }
            let ty = u32_at(rec, off).ok_or("short attribute")?;
            if ty == AT_END {
                return Ok(None);
            }
            let len = u32_at(rec, off + 4).ok_or("short attribute")? as usize;
            if len < 16 || off + len > self.used {
                return Err(format!("attribute at offset {off} has bad length {len}"));
            }
            self.off += len;
            Ok(Some(Attribute(&rec[off..off + len])))
        };
        let r = step().transpose();
        if !matches!(r, Some(Ok(_))) {
            self.used = 0; // ends the walk
        }
        r
    }
}

/// One attribute's bytes, header first. Accessors read only what is there.
#[derive(Debug, Clone, Copy)]
pub struct Attribute<'a>(pub &'a [u8]);

impl<'a> Attribute<'a> {
    pub fn ty(&self) -> u32 {
        u32_at(self.0, 0).unwrap_or(0)
    }

    pub fn non_resident(&self) -> bool {
        self.0.get(8).is_some_and(|&b| b != 0)
    }

    pub fn name_len(&self) -> u8 {
        self.0.get(9).copied().unwrap_or(0)
    }

    pub fn flags(&self) -> u16 {
        u16_at(self.0, 12).unwrap_or(0)
    }

    /// A resident attribute's value, when it lies inside the attribute.
    pub fn resident_value(&self) -> Option<&'a [u8]> {
        let a = self.0;
        let vlen = u32_at(a, 16)? as usize;
        let voff = u16_at(a, 20)? as usize;
        a.get(voff..voff.checked_add(vlen)?)
    }

    /// Non-resident: the first VCN this piece maps (not 0: a later piece of
    /// a stream split by an attribute list).
    pub fn start_vcn(&self) -> Option<u64> {
        u64_at(self.0, 16)
    }

    /// Non-resident: the mapping-pairs array.
    pub fn runs(&self) -> Option<&'a [u8]> {
        self.0.get(u16_at(self.0, 32).unwrap_or(0) as usize..)
    }

    /// Non-resident: log2 of the compression unit in clusters.
    pub fn compression_unit(&self) -> Option<u16> {
        u16_at(self.0, 0x22)
    }

    /// Non-resident: the stream's size in bytes.
    pub fn data_size(&self) -> Option<u64> {
        u64_at(self.0, 48)
    }

    /// Non-resident: bytes written so far (the rest reads as zeros).
    pub fn initialized_size(&self) -> Option<u64> {
        u64_at(self.0, 56)
    }
}

/// One extent of a non-resident stream: `len` bytes at stream offset
/// `start`, stored at volume offset `lcn` (`None`: sparse, reads as zeros).
#[derive(Debug, Clone, Copy)]
pub struct Extent {
    pub start: u64,
    pub len: u64,
    pub lcn: Option<u64>,
}

/// Decodes a mapping-pairs array into extents (volume byte offsets) covering
/// `size` bytes; runs past `size` are cut, too few runs are an error.
pub fn decode_runs(b: &[u8], cluster: u64, size: u64) -> Result<Vec<Extent>, String> {
    cut(decode_mapping(b, cluster, 0)?, size)
}

/// Cuts extents to the first `size` bytes of the stream; fewer is an error.
pub fn cut(extents: Vec<Extent>, size: u64) -> Result<Vec<Extent>, String> {
    let mut out = Vec::with_capacity(extents.len());
    let mut end = 0u64;
    for mut e in extents {
        end = e.start.saturating_add(e.len);
        e.len = e.len.min(size.saturating_sub(e.start));
        if e.len > 0 {
            out.push(e);
        }
    }
    if end < size {
        return Err(format!("data runs cover {end} of {size} bytes"));
    }
    Ok(out)
}

/// Decodes one attribute extent's mapping-pairs array into extents as
/// stored (whole clusters, nothing cut), the first starting at stream byte
/// `start`. Each extent's array starts its LCN deltas from 0.
///
/// A run is sparse when its header has no offset field (high nibble 0): a
/// run at LCN 0 is real (`$Boot` starts there), whatever the ntfs crate's
/// `data_position()` says (it reports a zero delta and position 0 as
/// sparse). A run whose LCN comes out as -1 is read as sparse too: the
/// Linux NTFS driver (fs/ntfs/runlist.c, `ntfs_mapping_pairs_decompress`)
/// accepts LCN -1 ("On NTFS 1.2-, apparently can have lcn == -1 to indicate
/// a hole", noted there as unverified) and it equals its `LCN_HOLE`; any
/// other negative LCN is an error.
pub fn decode_mapping(b: &[u8], cluster: u64, start: u64) -> Result<Vec<Extent>, String> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    let mut lcn: i64 = 0;
    let mut start = start;
    while let Some(&h) = b.get(pos) {
        if h == 0 {
            break;
        }
        let (ln, on) = ((h & 0xf) as usize, (h >> 4) as usize);
        if ln == 0 || ln > 8 || on > 8 {
            return Err(format!("bad data-run header 0x{h:02x}"));
        }
        let field = |at: usize, n: usize, signed: bool| -> Option<i64> {
            let s = b.get(at..at + n)?;
            let mut v: i64 = 0;
            for (k, byte) in s.iter().enumerate() {
                v |= (*byte as i64) << (8 * k);
            }
            if signed && n < 8 && s[n - 1] & 0x80 != 0 {
                v |= -1i64 << (8 * n);
            }
            Some(v)
        };
        let clusters = field(pos + 1, ln, false).ok_or("truncated data run")? as u64;
        let bytes = clusters
            .checked_mul(cluster)
            .ok_or("data run length overflows")?;
        let at = if on == 0 {
            None
        } else {
            lcn = lcn
                .checked_add(field(pos + 1 + ln, on, true).ok_or("truncated data run")?)
                .ok_or("LCN overflows")?;
            match lcn {
                -1 => None,
                _ => Some(
                    u64::try_from(lcn)
                        .map_err(|_| "negative LCN")?
                        .checked_mul(cluster)
                        .ok_or("LCN overflows")?,
                ),
            }
        };
        if bytes > 0 {
            out.push(Extent {
                start,
                len: bytes,
                lcn: at,
            });
        }
        start = start.checked_add(bytes).ok_or("data runs overflow")?;
        pos += 1 + ln + on;
        if out.len() > MAX_RUNS {
            return Err("too many data runs".into());
        }
    }
    Ok(out)
}

/// Joins the extents of a stream's attribute extents (each from
/// [`decode_mapping`] at its own starting VCN) in VCN order; a gap or an
/// overlap between them is an error, and so are more than [`MAX_RUNS`] runs.
pub fn join(mut pieces: Vec<Vec<Extent>>) -> Result<Vec<Extent>, String> {
    pieces.sort_by_key(|p| p.first().map_or(u64::MAX, |e| e.start));
    let mut out: Vec<Extent> = Vec::new();
    for p in pieces {
        let end = out.last().map_or(0, |e| e.start + e.len);
        if let Some(first) = p.first() {
            if first.start != end {
                return Err(format!(
                    "$DATA extents leave a gap or overlap at stream byte {end}"
                ));
            }
        }
        out.extend(p);
        if out.len() > MAX_RUNS {
            return Err("too many data runs".into());
        }
    }
    Ok(out)
}

/// One entry of an `$ATTRIBUTE_LIST` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListEntry {
    pub ty: u32,
    pub name_len: u8,
    pub start_vcn: u64,
    /// The MFT record holding the attribute (the low 48 bits of the reference).
    pub record: u64,
}

/// Most entries we read from one attribute list.
pub const MAX_LIST_ENTRIES: usize = 65_536;

/// The entries of an `$ATTRIBUTE_LIST` value; a bad entry length ends with
/// an error.
pub fn list_entries(v: &[u8]) -> Result<Vec<ListEntry>, String> {
    let mut out = Vec::new();
    let mut off = 0usize;
    while off + 26 <= v.len() {
        let len = u16_at(v, off + 4).unwrap_or(0) as usize;
        if len < 26 || off + len > v.len() {
            return Err(format!(
                "attribute list entry at {off} has bad length {len}"
            ));
        }
        out.push(ListEntry {
            ty: u32_at(v, off).unwrap_or(0),
            name_len: v[off + 6],
            start_vcn: u64_at(v, off + 8).unwrap_or(0),
            record: u64_at(v, off + 16).unwrap_or(0) & 0xFFFF_FFFF_FFFF,
        });
        if out.len() > MAX_LIST_ENTRIES {
            return Err("too many attribute list entries".into());
        }
        off += len;
    }
    Ok(out)
}

/// The base record a fixed-up record belongs to (0 for a base record).
pub fn base_record(rec: &[u8]) -> u64 {
    u64_at(rec, 32).unwrap_or(0) & 0xFFFF_FFFF_FFFF
}

#[derive(Clone, Copy, Default)]
/// `$STANDARD_INFORMATION` times.
pub struct Times {
    pub created: Option<FileTime>,
    pub modified: Option<FileTime>,
    pub mft_modified: Option<FileTime>,
}

/// Where a file's unnamed `$DATA` is.
#[derive(Debug)]
pub enum Data<'a> {
    /// The value, borrowed from the record.
    Resident(&'a [u8]),
    NonResident {
        extents: Vec<Extent>,
        size: u64,
        initialized: u64,
    },
}

impl Data<'_> {
    /// The stream's length in bytes.
    pub fn size(&self) -> u64 {
        match self {
            Data::Resident(v) => v.len() as u64,
            Data::NonResident { size, .. } => *size,
        }
    }
}

/// What a base record says about its file (borrowing the record).
pub struct Parsed<'a> {
    pub times: Times,
    /// (parent record, name) from the best-namespaced `$FILE_NAME`.
    pub name: Option<(u64, String)>,
    /// Unnamed `$DATA`: where, compressed, encrypted.
    pub data: Option<(Data<'a>, bool, bool)>,
    /// Has an `$ATTRIBUTE_LIST` (some attributes live in extension records).
    pub has_list: bool,
    /// Has a `$REPARSE_POINT` (WOF data, or data kept elsewhere): read
    /// through the fs layer, which decodes or refuses it.
    pub reparse: bool,
}

/// Times, best name and unnamed `$DATA` of a fixed-up base record; runs are
/// decoded for uncompressed non-resident data (`cluster` bytes per cluster).
pub fn parse_attributes(rec: &[u8], volume_len: u64, cluster: u64) -> Result<Parsed<'_>, String> {
    let mut p = Parsed {
        times: Times::default(),
        name: None,
        data: None,
        has_list: false,
        reparse: false,
    };
    // The best name's rank and value; only that one is decoded.
    let mut best: Option<(u8, &[u8])> = None;
    let mut data_err = None;
    for a in attributes(rec)? {
        let a = a?;
        match a.ty() {
            AT_STANDARD_INFORMATION if !a.non_resident() => {
                if let Some(v) = a.resident_value() {
                    let t = |o| u64_at(v, o).and_then(FileTime::new);
                    p.times = Times {
                        created: t(0),
                        modified: t(8),
                        mft_modified: t(16),
                    };
                }
            }
            AT_ATTRIBUTE_LIST => p.has_list = true,
            AT_REPARSE_POINT => p.reparse = true,
            AT_FILE_NAME if !a.non_resident() => {
                // The attribute value has the layout of an index key.
                if let Some(v) = a.resident_value().filter(|v| key_parts(v).is_some()) {
                    // Win32 (1) and Win32+DOS (3) first, then POSIX (0), DOS (2) last.
                    let rank = match v.get(0x41) {
                        Some(1 | 3) => 0,
                        Some(0) => 1,
                        _ => 2,
                    };
                    if best.is_none_or(|(r, _)| rank < r) {
                        best = Some((rank, v));
                    }
                }
            }
            AT_DATA if a.name_len() == 0 && p.data.is_none() => {
                if let Err(e) = data_attribute(&a, volume_len, cluster, &mut p) {
                    data_err = Some((e, a.data_size().unwrap_or(0)));
                }
            }
            _ => {}
        }
    }
    p.name = best
        .and_then(|(_, v)| file_name_key(v, u64_at(v, 0)?))
        .map(|e| (e.record, e.name));
    if let Some((e, size)) = data_err {
        // A reparse point's `$DATA` only holds the size (WOF keeps the
        // bytes in a named stream); the fs layer reads or refuses it.
        if !p.reparse {
            return Err(e);
        }
        let data = Data::NonResident {
            extents: Vec::new(),
            size,
            initialized: 0,
        };
        p.data = Some((data, false, false));
    }
    Ok(p)
}

/// The unnamed `$DATA` attribute: resident bytes, or extents decoded from
/// its runs (not for compressed data, which the fs layer reads).
fn data_attribute<'a>(
    a: &Attribute<'a>,
    volume_len: u64,
    cluster: u64,
    p: &mut Parsed<'a>,
) -> Result<(), String> {
    let compressed = a.flags() & ATTR_COMPRESSED != 0;
    let encrypted = a.flags() & ATTR_ENCRYPTED != 0;
    if !a.non_resident() {
        let v = a.resident_value().ok_or("resident $DATA out of bounds")?;
        p.data = Some((Data::Resident(v), compressed, encrypted));
        return Ok(());
    }
    if a.start_vcn().unwrap_or(1) != 0 {
        // A later piece of an attribute-list-split stream.
        p.has_list = true;
        return Ok(());
    }
    let size = a.data_size().unwrap_or(0);
    let initialized = a.initialized_size().unwrap_or(0).min(size);
    // Compressed data may outgrow its volume (the fs layer caps it).
    if size > volume_len.saturating_mul(2) && !compressed {
        return Err(format!("$DATA size {size} is larger than the volume"));
    }
    if compressed || cluster == 0 {
        let extents = Vec::new();
        let data = Data::NonResident {
            extents,
            size,
            initialized,
        };
        p.data = Some((data, compressed || cluster == 0, encrypted));
        return Ok(());
    }
    let runs = a.runs().ok_or("data runs out of bounds")?;
    match decode_runs(runs, cluster, size) {
        Ok(extents) => {
            let data = Data::NonResident {
                extents,
                size,
                initialized,
            };
            p.data = Some((data, false, encrypted));
        }
        // Runs continue in an extension record: slow path.
        Err(_) if p.has_list => {}
        Err(e) => return Err(format!("$DATA: {e}")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_mapping_pairs() {
        // 0x21: 1-byte length, 2-byte offset: 0x18 clusters at LCN 0x5634;
        // then sparse 0x10 clusters; then 0x08 clusters at -0x10 relative.
        let runs = [0x21, 0x18, 0x34, 0x56, 0x01, 0x10, 0x11, 0x08, 0xF0, 0x00];
        let e = decode_runs(&runs, 4096, (0x18 + 0x10 + 0x08) * 4096).unwrap();
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].lcn, Some(0x5634 * 4096));
        assert_eq!(e[1].lcn, None);
        assert_eq!(e[2].lcn, Some((0x5634 - 0x10) * 4096));
        assert!(decode_runs(&[0x21, 0x18], 4096, 4096).is_err());
        assert!(decode_runs(&[0x01, 0x01, 0x00], 4096, 1 << 20).is_err());
    }

    #[test]
    fn a_run_at_lcn_0_is_real_and_lcn_minus_1_is_sparse() {
        // $Boot as Windows writes it: 0x10 clusters at LCN 0 (offset field
        // of one byte, value 0).
        let e = decode_runs(&[0x11, 0x10, 0x00, 0x00], 4096, 0x10 * 4096).unwrap();
        assert_eq!(e[0].lcn, Some(0));
        // No offset field: sparse.
        let e = decode_runs(&[0x01, 0x10, 0x00], 4096, 0x10 * 4096).unwrap();
        assert_eq!(e[0].lcn, None);
        // An offset making the LCN -1 (NTFS 1.2, per the Linux driver):
        // sparse; the next run is relative to -1.
        let e = decode_runs(&[0x11, 0x02, 0xFF, 0x11, 0x02, 0x0B, 0x00], 512, 4 * 512).unwrap();
        assert_eq!(e[0].lcn, None);
        assert_eq!(e[1].lcn, Some(10 * 512));
        // Below -1 is an error.
        assert!(decode_runs(&[0x11, 0x02, 0xFE, 0x00], 512, 2 * 512).is_err());
    }

    #[test]
    fn extents_join_in_vcn_order_without_gaps() {
        let a = decode_mapping(&[0x11, 0x04, 0x20, 0x00], 512, 0).unwrap();
        let b = decode_mapping(&[0x11, 0x02, 0x40, 0x00], 512, 4 * 512).unwrap();
        let j = join(vec![b.clone(), a.clone()]).unwrap();
        assert_eq!(j.len(), 2);
        assert_eq!((j[0].start, j[0].lcn), (0, Some(0x20 * 512)));
        // Each extent's LCN deltas start from 0.
        assert_eq!((j[1].start, j[1].lcn), (4 * 512, Some(0x40 * 512)));
        assert_eq!(cut(j, 5 * 512).unwrap().last().unwrap().len, 512);
        let gap = decode_mapping(&[0x11, 0x02, 0x40, 0x00], 512, 5 * 512).unwrap();
        assert!(join(vec![a.clone(), gap]).is_err());
        assert!(join(vec![a.clone(), a]).is_err());
    }

    #[test]
    fn attribute_list_entries_are_read_and_checked() {
        let mut v = vec![0u8; 64];
        v[0..4].copy_from_slice(&AT_DATA.to_le_bytes());
        v[4..6].copy_from_slice(&32u16.to_le_bytes());
        v[8..16].copy_from_slice(&2016u64.to_le_bytes());
        v[16..24].copy_from_slice(&(194u64 | 7 << 48).to_le_bytes());
        v[32..36].copy_from_slice(&AT_FILE_NAME.to_le_bytes());
        v[36..38].copy_from_slice(&32u16.to_le_bytes());
        let e = list_entries(&v).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(
            e[0],
            ListEntry {
                ty: AT_DATA,
                name_len: 0,
                start_vcn: 2016,
                record: 194
            }
        );
        v[36] = 0; // length 0 would never advance
        assert!(list_entries(&v).is_err());
    }

    /// A 1024-byte in-use base record with one attribute of `attr_len` bytes.
    fn record(attr_len: u32) -> Vec<u8> {
        let mut r = vec![0u8; 1024];
        r[..4].copy_from_slice(b"FILE");
        r[4] = 0x30; // update sequence array at 0x30: number + 2 entries
        r[6] = 3;
        r[0x30..0x32].copy_from_slice(&9u16.to_le_bytes());
        r[0x32..0x34].copy_from_slice(&0x1111u16.to_le_bytes());
        r[0x34..0x36].copy_from_slice(&0x2222u16.to_le_bytes());
        r[510..512].copy_from_slice(&9u16.to_le_bytes());
        r[1022..1024].copy_from_slice(&9u16.to_le_bytes());
        r[20] = 0x38; // first attribute
        r[22] = 0x03; // in use, directory
        r[24..28].copy_from_slice(&1024u32.to_le_bytes());
        r[0x38..0x3C].copy_from_slice(&AT_DATA.to_le_bytes());
        r[0x3C..0x40].copy_from_slice(&attr_len.to_le_bytes());
        let end = 0x38 + attr_len as usize;
        r[end..end + 4].copy_from_slice(&AT_END.to_le_bytes());
        r
    }

    #[test]
    fn records_are_fixed_up_and_walked() {
        let mut r = record(0x18);
        assert_eq!(check_record(&mut r), Ok(Some(true)));
        assert_eq!(&r[510..512], &0x1111u16.to_le_bytes());
        assert_eq!(&r[1022..1024], &0x2222u16.to_le_bytes());
        let types: Vec<u32> = attributes(&r).unwrap().map(|a| a.unwrap().ty()).collect();
        assert_eq!(types, [AT_DATA]);

        let mut torn = record(0x18);
        torn[1022] = 0;
        assert!(check_record(&mut torn).unwrap_err().contains("torn"));
        let mut unused = record(0x18);
        unused[22] = 0;
        assert_eq!(check_record(&mut unused), Ok(None));

        // A zero length would never advance: an error, and the walk ends.
        let mut r = record(0x18);
        r[0x3C..0x40].fill(0);
        let mut walk = attributes(&r).unwrap();
        assert!(walk.next().unwrap().unwrap_err().contains("bad length"));
        assert!(walk.next().is_none());
    }

    #[test]
    fn attribute_walks_are_capped() {
        let mut r = vec![0u8; 65536];
        r[20] = 0x38;
        r[24..28].copy_from_slice(&65536u32.to_le_bytes());
        for k in 0..(65536 - 0x38) / 16 {
            let at = 0x38 + 16 * k;
            r[at..at + 4].copy_from_slice(&AT_DATA.to_le_bytes());
            r[at + 4..at + 8].copy_from_slice(&16u32.to_le_bytes());
        }
        let err = attributes(&r).unwrap().find_map(Result::err);
        assert_eq!(err.as_deref(), Some("too many attributes"));
    }
}
