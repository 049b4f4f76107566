//! EWF (E01/Ex01) images through the `ewf` crate.
//!
//! The crate is young, so it sits behind our `Disk` trait and we check what
//! it hands us: the segment set is discovered by us (so that a missing
//! segment is named), and the chunk table must cover the media size it
//! claims, otherwise a truncated set would read as an error only deep inside
//! an analysis. `EwfReader::read_at(&self)` is thread-safe (its chunk cache
//! has a short lock), so one reader serves all workers.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ::ewf::{EwfError, EwfReader};

use super::layer::Opened;
use super::{check_range, hex, ContainerInfo, Disk, Format, HashAlgorithm, HashCheck, ImageError};

/// Largest chunk we accept. EnCase and libewf write 32 KiB chunks (up to a
/// few MiB at most); a bigger one in a header is a damaged or crafted file,
/// and every read allocates one chunk.
const MAX_CHUNK_SIZE: u64 = 16 << 20;

/// Most segment files we look for (E01..E99, EAA..EZZ, FAA.. would go on).
const MAX_SEGMENTS: usize = 14_971;

pub(crate) fn open(path: &Path) -> Result<Opened, ImageError> {
    let segments = discover(path)?;
    let reader = EwfReader::open_segments(&segments).map_err(|e| map_err(path, &segments, e))?;

    let chunk_size = reader.chunk_size();
    if chunk_size == 0 || chunk_size > MAX_CHUNK_SIZE {
        return Err(ImageError::format(
            path,
            format!("EWF chunk size {chunk_size} is not plausible"),
        ));
    }
    let size = reader.total_size();
    let needed = size.div_ceil(chunk_size);
    let have = reader.chunk_count() as u64;
    if have < needed {
        let last = segments.last().map(|p| p.display().to_string());
        return Err(ImageError::missing(
            path,
            format!(
                "EWF media is {size} bytes ({needed} chunks) but the {} segment file(s) found hold only {have} chunks: \
                 a later segment after {} is missing or truncated",
                segments.len(),
                last.unwrap_or_default()
            ),
        ));
    }

    let mut info = ContainerInfo {
        files: segments.clone(),
        metadata: Vec::new(),
    };
    let m = reader.metadata();
    let fields = [
        ("ewf.case_number", &m.case_number),
        ("ewf.evidence_number", &m.evidence_number),
        ("ewf.description", &m.description),
        ("ewf.examiner", &m.examiner),
        ("ewf.notes", &m.notes),
        ("ewf.acquisition_software", &m.acquiry_software),
        ("ewf.acquisition_os", &m.os_version),
        ("ewf.acquisition_date", &m.acquiry_date),
        ("ewf.system_date", &m.system_date),
    ];
    for (key, value) in fields {
        if let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            match key {
                "ewf.acquisition_date" | "ewf.system_date" => info.push(key, ewf_date(v)),
                _ => info.push(key, v),
            }
        }
    }
    let stored = reader.stored_hashes();
    if let Some(md5) = stored.md5 {
        info.push("ewf.stored_md5", hex(&md5));
    }
    if let Some(sha1) = stored.sha1 {
        info.push("ewf.stored_sha1", hex(&sha1));
    }
    info.push("ewf.chunk_size", chunk_size.to_string());
    info.push("ewf.segments", segments.len().to_string());
    let errors = reader.acquisition_errors();
    if !errors.is_empty() {
        let ranges: Vec<String> = errors
            .iter()
            .map(|e| format!("{}+{}", e.first_sector, e.sector_count))
            .collect();
        info.push("ewf.acquisition_error_sectors", ranges.join(","));
    }

    let tail = tail_chunk(path, &segments, &reader)?;
    let reader = Arc::new(reader);
    Ok(Opened {
        format: Format::Ewf,
        info,
        disk: Box::new(EwfDisk {
            path: path.to_path_buf(),
            reader: Arc::clone(&reader),
            size,
            tail,
        }),
        ewf: Some(reader),
    })
}

/// An EWF header date as people read it. EWF1's `header` stores
/// `yyyy m d h m s` in the local time of the acquiring machine with no zone
/// (libewf's `ewfinfo` shows the `header2` timestamp instead, so the two
/// differ by that machine's offset from UTC); EWF2 stores seconds since
/// 1970, which are UTC. Anything else is shown as stored.
fn ewf_date(v: &str) -> String {
    let parts: Vec<u32> = v
        .split_ascii_whitespace()
        .map_while(|p| p.parse().ok())
        .collect();
    if let [y, mo, d, h, mi, s] = parts[..] {
        let valid = chrono::NaiveDate::from_ymd_opt(y as i32, mo, d)
            .and_then(|date| date.and_hms_opt(h, mi, s));
        if let Some(t) = valid {
            return format!(
                "{} (local time of the acquiring machine, zone not recorded)",
                t.format("%Y-%m-%d %H:%M:%S")
            );
        }
    }
    if !v.is_empty() && v.len() <= 12 && v.bytes().all(|b| b.is_ascii_digit()) {
        if let Some(t) = v
            .parse::<i64>()
            .ok()
            .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        {
            return format!("{} UTC", t.format("%Y-%m-%d %H:%M:%S"));
        }
    }
    v.to_string()
}

/// The segment files of the set that `first` starts: same stem, extension
/// `E01`, `E02`, … `E99`, `EAA`, … (`Ex01` … for EWF2), in order, stopping at
/// the first name that does not exist.
fn discover(first: &Path) -> Result<Vec<PathBuf>, ImageError> {
    let mut out = vec![first.to_path_buf()];
    let Some(name) = first.file_name().and_then(|n| n.to_str()) else {
        return Ok(out);
    };
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return Ok(out);
    };
    let dir = first.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut current = ext.to_string();
    while out.len() < MAX_SEGMENTS {
        let Some(next) = next_segment_ext(&current) else {
            break;
        };
        let candidate = dir.join(format!("{stem}.{next}"));
        if !candidate.is_file() {
            break;
        }
        out.push(candidate);
        current = next;
    }
    Ok(out)
}

/// `E01` → `E02`, `E99` → `EAA`, `EAZ` → `EBA`, `Ex01` → `Ex02`. Keeps the
/// case of the letters. `None` for an extension that is not a segment name.
fn next_segment_ext(ext: &str) -> Option<String> {
    let b = ext.as_bytes();
    // EWF2: a letter, 'x' (or 'X'), then two digits or letters.
    let (prefix, tail) = match b.len() {
        3 => (&ext[..1], &ext[1..]),
        4 if matches!(b[1], b'x' | b'X') => (&ext[..2], &ext[2..]),
        _ => return None,
    };
    if !prefix.as_bytes()[0].is_ascii_alphabetic() {
        return None;
    }
    let t = tail.as_bytes();
    if t.iter().all(u8::is_ascii_digit) {
        let n: u32 = tail.parse().ok()?;
        if n < 99 {
            return Some(format!("{prefix}{:02}", n + 1));
        }
        let a = if prefix.as_bytes()[0].is_ascii_lowercase() {
            "aa"
        } else {
            "AA"
        };
        return Some(format!("{prefix}{a}"));
    }
    if t.iter().all(u8::is_ascii_alphabetic) {
        let (hi, lo) = (t[0], t[1]);
        let (base_z, base_a) = if lo.is_ascii_lowercase() {
            (b'z', b'a')
        } else {
            (b'Z', b'A')
        };
        let (hi, lo) = if lo == base_z {
            if hi == base_z {
                return None;
            }
            (hi + 1, base_a)
        } else {
            (hi, lo + 1)
        };
        return Some(format!("{prefix}{}{}", hi as char, lo as char));
    }
    None
}

fn map_err(path: &Path, segments: &[PathBuf], e: EwfError) -> ImageError {
    match e {
        EwfError::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => ImageError::format(
            path,
            format!(
                "EWF segment set ({} file(s)) is truncated: {io}",
                segments.len()
            ),
        ),
        EwfError::SegmentGap { expected, got } => ImageError::missing(
            path,
            format!("EWF segment {expected} is missing (found segment {got} instead)"),
        ),
        EwfError::EncryptedNotSupported => ImageError::unsupported(path, "encrypted EWF2 image"),
        other => ImageError::format(path, format!("EWF: {other}")),
    }
}

/// The last chunk of an image whose size is not a multiple of the chunk
/// size, when it is stored uncompressed. `ewf` 0.4.10 reads a full chunk
/// there and fails with a short read (the segment holds only the partial
/// chunk), so we read it straight from the segment file.
struct TailChunk {
    /// Offset of the chunk on the virtual disk.
    start: u64,
    file: super::RawDisk,
    /// Offset of the chunk's data in `file`.
    at: u64,
}

fn tail_chunk(
    path: &Path,
    segments: &[PathBuf],
    reader: &EwfReader,
) -> Result<Option<TailChunk>, ImageError> {
    let size = reader.total_size();
    let cs = reader.chunk_size();
    if size % cs == 0 || reader.chunk_count() == 0 {
        return Ok(None);
    }
    let index = (size / cs) as usize;
    let Ok((at, _, compressed, seg)) = reader.debug_chunk(index) else {
        return Ok(None);
    };
    if compressed {
        return Ok(None);
    }
    // The crate orders segments by the number in their headers (EWF v1: a
    // little-endian u16 at byte 9); map its index back to our file.
    let mut numbered = Vec::new();
    for p in segments {
        let f = super::RawDisk::open(p)?;
        let h = f.bytes();
        if h.len() < 13 || !h.starts_with(b"EVF\x09") {
            return Ok(None); // EWF2: leave it to the crate
        }
        numbered.push((u16::from_le_bytes([h[9], h[10]]), f));
    }
    numbered.sort_by_key(|(n, _)| *n);
    let Some((_, file)) = numbered.into_iter().nth(seg) else {
        return Err(ImageError::format(
            path,
            "EWF chunk table names a segment that is not there",
        ));
    };
    Ok(Some(TailChunk {
        start: index as u64 * cs,
        file,
        at,
    }))
}

/// An EWF image as a disk.
struct EwfDisk {
    path: PathBuf,
    reader: Arc<EwfReader>,
    size: u64,
    tail: Option<TailChunk>,
}

impl EwfDisk {
    fn read_crate(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        // ewf 0.4.10 allocates a compressed chunk's stored size (a u32 from
        // the chunk table, unchecked) before reading it, so a crafted table
        // makes it allocate up to 4 GiB per read: refuse a compressed chunk
        // stored in more than twice the chunk size (chunk size ≤
        // MAX_CHUNK_SIZE, checked at open). tests/regressions/image_open-ewf-huge-chunk.Ex01
        let cs = self.reader.chunk_size().max(1);
        let last = (offset + buf.len() as u64 - 1) / cs;
        for idx in offset / cs..=last {
            if let Ok((_, stored, true, _)) = self.reader.debug_chunk(idx as usize) {
                if stored > 2 * cs + 64 {
                    return Err(super::io_err(
                        &self.path,
                        offset,
                        format!("EWF chunk {idx} claims {stored} compressed bytes for a {cs}-byte chunk"),
                    ));
                }
            }
        }
        let read =
            crate::panic::contain_payload(|| self.reader.read_at(buf, offset)).map_err(|_| {
                super::io_err(&self.path, offset, "the EWF reader panicked on this read")
            })?;
        let n =
            read.map_err(|e| super::io_err(&self.path, offset, format!("EWF read failed: {e}")))?;
        if n != buf.len() {
            return Err(super::io_err(
                &self.path,
                offset,
                format!("EWF read returned {n} of {} bytes", buf.len()),
            ));
        }
        Ok(())
    }
}

impl Disk for EwfDisk {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        check_range(&self.path, offset, buf.len(), self.size)?;
        let Some(tail) = &self.tail else {
            return self.read_crate(offset, buf);
        };
        let end = offset + buf.len() as u64;
        if end <= tail.start {
            return self.read_crate(offset, buf);
        }
        // Split at the start of the tail chunk.
        let head_len = tail.start.saturating_sub(offset) as usize;
        let (head, rest) = buf.split_at_mut(head_len);
        self.read_crate(offset, head)?;
        let within = offset.max(tail.start) - tail.start;
        tail.file
            .read_exact_at(tail.at + within, rest)
            .map_err(|e| {
                super::io_err(
                    tail.file.path(),
                    tail.at + within,
                    format!("EWF last chunk is truncated: {e}"),
                )
            })
    }
}

/// Checks the stored MD5/SHA-1 against the media, reading `disk` (the same
/// reads the analysis sees) in parallel batches and hashing in order.
pub(crate) fn verify(
    path: &Path,
    reader: &EwfReader,
    disk: &dyn Disk,
    progress: &dyn Fn(u64, u64),
) -> Result<Vec<HashCheck>, ImageError> {
    use rayon::prelude::*;
    use sha1::Digest;

    const PIECE: u64 = 1 << 20;
    const BATCH: u64 = 32;

    let stored = reader.stored_hashes();
    if stored.md5.is_none() && stored.sha1.is_none() {
        return Ok(Vec::new());
    }
    let mut md5 = stored.md5.map(|_| md5::Md5::new());
    let mut sha1 = stored.sha1.map(|_| sha1::Sha1::new());
    let total = disk.size();
    progress(0, total);
    let mut at = 0u64;
    while at < total {
        let end = total.min(at + PIECE * BATCH);
        let pieces: Vec<(u64, usize)> = (at..end)
            .step_by(PIECE as usize)
            .map(|o| (o, (end - o).min(PIECE) as usize))
            .collect();
        let bufs: Vec<std::io::Result<Vec<u8>>> = pieces
            .par_iter()
            .map(|&(o, n)| {
                let mut b = vec![0u8; n];
                disk.read_exact_at(o, &mut b).map(|()| b)
            })
            .collect();
        for (buf, &(o, n)) in bufs.into_iter().zip(&pieces) {
            let buf = buf.map_err(|e| ImageError::Read {
                path: path.to_path_buf(),
                offset: o,
                len: n,
                what: e.to_string(),
            })?;
            if let Some(h) = md5.as_mut() {
                h.update(&buf);
            }
            if let Some(h) = sha1.as_mut() {
                h.update(&buf);
            }
        }
        at = end;
        progress(at, total);
    }
    let mut out = Vec::new();
    if let (Some(want), Some(h)) = (stored.md5, md5) {
        out.push(check(HashAlgorithm::Md5, &want, h.finalize().as_slice()));
    }
    if let (Some(want), Some(h)) = (stored.sha1, sha1) {
        out.push(check(HashAlgorithm::Sha1, &want, h.finalize().as_slice()));
    }
    Ok(out)
}

fn check(algorithm: HashAlgorithm, stored: &[u8], computed: &[u8]) -> HashCheck {
    let (stored, computed) = (hex(stored), hex(computed));
    HashCheck {
        algorithm,
        matches: computed == stored,
        stored,
        computed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_say_whose_clock() {
        assert_eq!(
            ewf_date("2001 10 2 12 0 0"),
            "2001-10-02 12:00:00 (local time of the acquiring machine, zone not recorded)"
        );
        assert_eq!(ewf_date("1000000000"), "2001-09-09 01:46:40 UTC");
        assert_eq!(ewf_date("2001 13 2 12 0 0"), "2001 13 2 12 0 0");
        assert_eq!(ewf_date("Tue Oct  2"), "Tue Oct  2");
    }

    #[test]
    fn segment_extensions() {
        assert_eq!(next_segment_ext("E01").as_deref(), Some("E02"));
        assert_eq!(next_segment_ext("e09").as_deref(), Some("e10"));
        assert_eq!(next_segment_ext("E99").as_deref(), Some("EAA"));
        assert_eq!(next_segment_ext("EAZ").as_deref(), Some("EBA"));
        assert_eq!(next_segment_ext("EZZ"), None);
        assert_eq!(next_segment_ext("Ex01").as_deref(), Some("Ex02"));
        assert_eq!(next_segment_ext("dd"), None);
        assert_eq!(next_segment_ext("E1"), None);
    }
}
