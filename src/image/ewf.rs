//! EWF (E01/Ex01) images through the `ewf` crate.
//!
//! The crate is young, so it sits behind our `Disk` trait and we check what
//! it hands us: the segment set is discovered by us (so that a missing
//! segment is named), and the chunk table must cover the media size it
//! claims, otherwise a truncated set would read as an error only deep inside
//! an analysis. `EwfReader::read_at(&self)` is thread-safe (its chunk cache
//! has a short lock), so one reader serves all workers.
//!
//! Every chunk is checked against its stored Adler-32 the first time it is
//! read (EWF1): `ewf` 0.4.10 checks none (an uncompressed chunk's checksum
//! is skipped, and a compressed chunk's zlib trailer is never reached when
//! the chunk fills its page), so a damaged chunk would read as garbage.
//! A chunk that fails is an error naming it, never data.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use ::ewf::{EwfError, EwfReader};

use super::layer::Opened;
use super::{check_range, hex, ContainerInfo, Disk, Format, HashAlgorithm, HashCheck, ImageError};

/// Largest chunk we accept. EnCase and libewf write 32 KiB chunks (up to a
/// few MiB at most); a bigger one in a header is a damaged or crafted file,
/// and every read allocates one chunk.
const MAX_CHUNK_SIZE: u64 = 16 << 20;

/// How far before the end of a compressed chunk's stored bytes its zlib
/// trailer may lie (libewf pads the stream).
const PAD_SEARCH: u64 = 64;

/// Most segment files we look for (E01..E99, EAA..EZZ, FAA.. would go on).
const MAX_SEGMENTS: usize = 14_971;

pub(crate) fn open(path: &Path) -> Result<Opened, ImageError> {
    let segments = discover(path)?;
    let reader = EwfReader::open_segments(&segments).map_err(|e| map_err(path, &segments, e))?;
    let numbered = numbered_segments(&segments)?;
    finish(path, segments, reader, numbered)
}

/// An EWF1 image read over HTTP: one segment, the URL's (a set of
/// segments would need one URL each; the chunk-table check below names
/// a set that is incomplete).
pub(crate) fn open_remote(path: &Path, disk: super::http::HttpDisk) -> Result<Opened, ImageError> {
    let segments = vec![path.to_path_buf()];
    let source = ::ewf::SegmentSource::from_backing(Arc::new(disk.clone()));
    let reader =
        EwfReader::open_from_sources(vec![source]).map_err(|e| map_err(path, &segments, e))?;
    let mut head = [0u8; 13];
    let ewf1 = disk.size() >= 13
        && disk.read_exact_at(0, &mut head).is_ok()
        && head.starts_with(b"EVF\x09");
    let numbered = ewf1.then(|| {
        vec![Segment {
            name: path.to_path_buf(),
            disk: Arc::new(disk) as Arc<dyn Disk>,
        }]
    });
    finish(path, segments, reader, numbered)
}

/// Checks the chunk table against the media size, gathers the metadata and
/// makes the disk.
fn finish(
    path: &Path,
    segments: Vec<PathBuf>,
    reader: EwfReader,
    numbered: Option<Vec<Segment>>,
) -> Result<Opened, ImageError> {
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

    let tail = tail_chunk(path, numbered.as_deref(), &reader)?;
    let checked = (0..reader.chunk_count().div_ceil(64))
        .map(|_| AtomicU64::new(0))
        .collect();
    let reader = Arc::new(reader);
    Ok(Opened {
        format: Format::Ewf,
        info,
        disk: Box::new(EwfDisk {
            path: path.to_path_buf(),
            reader: Arc::clone(&reader),
            size,
            tail,
            files: numbered.unwrap_or_default(),
            checked,
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
    file: Segment,
    /// Offset of the chunk's data in `file`.
    at: u64,
}

/// One segment file as we read it beside the crate: a mapped local file or
/// a remote object.
#[derive(Clone)]
struct Segment {
    name: PathBuf,
    disk: Arc<dyn Disk>,
}

impl Segment {
    /// `len` bytes at `at`, borrowed from a map or read; `None` when any of
    /// it lies outside the segment or cannot be read.
    fn bytes(&self, at: u64, len: usize) -> Option<std::borrow::Cow<'_, [u8]>> {
        if let Some(all) = self.disk.as_bytes() {
            return super::bytes_at(all, at, len).map(std::borrow::Cow::Borrowed);
        }
        if at.checked_add(len as u64)? > self.disk.size() {
            return None;
        }
        let mut buf = vec![0u8; len];
        self.disk.read_exact_at(at, &mut buf).ok()?;
        Some(std::borrow::Cow::Owned(buf))
    }
}

/// The segment files in the order the crate numbers them (by the number
/// in their headers: EWF1 stores a little-endian u16 at byte 9); `None` for
/// EWF2, whose layout we leave to the crate.
fn numbered_segments(segments: &[PathBuf]) -> Result<Option<Vec<Segment>>, ImageError> {
    let mut numbered = Vec::new();
    for p in segments {
        let f = super::RawDisk::open(p)?;
        let h = f.bytes();
        if h.len() < 13 || !h.starts_with(b"EVF\x09") {
            return Ok(None);
        }
        let n = u16::from_le_bytes([h[9], h[10]]);
        numbered.push((
            n,
            Segment {
                name: p.clone(),
                disk: Arc::new(f),
            },
        ));
    }
    numbered.sort_by_key(|(n, _)| *n);
    Ok(Some(numbered.into_iter().map(|(_, f)| f).collect()))
}

fn tail_chunk(
    path: &Path,
    numbered: Option<&[Segment]>,
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
    let Some(numbered) = numbered else {
        return Ok(None); // EWF2: leave it to the crate
    };
    let Some(file) = numbered.get(seg) else {
        return Err(ImageError::format(
            path,
            "EWF chunk table names a segment that is not there",
        ));
    };
    Ok(Some(TailChunk {
        start: index as u64 * cs,
        file: file.clone(),
        at,
    }))
}

/// Adler-32 (RFC 1950), the checksum EWF stores for every chunk.
fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 bytes is the most that cannot overflow before the modulo.
    for block in data.chunks(5552) {
        for &x in block {
            a += u32::from(x);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

/// An EWF image as a disk.
struct EwfDisk {
    path: PathBuf,
    reader: Arc<EwfReader>,
    size: u64,
    tail: Option<TailChunk>,
    /// EWF1 segment files in the crate's order, for checking chunks
    /// (empty for EWF2).
    files: Vec<Segment>,
    /// One bit per chunk: its checksum was checked and matched.
    checked: Vec<AtomicU64>,
}

impl EwfDisk {
    /// Checks chunk `idx` against its stored Adler-32 once; an error names
    /// the chunk, where it is stored and both checksums.
    fn check_chunk(&self, idx: u64) -> std::io::Result<()> {
        let (word, bit) = ((idx / 64) as usize, 1u64 << (idx % 64));
        let Some(done) = self.checked.get(word) else {
            return Ok(());
        };
        if self.files.is_empty() || done.load(Ordering::Relaxed) & bit != 0 {
            return Ok(());
        }
        let Ok((at, stored, compressed, seg)) = self.reader.debug_chunk(idx as usize) else {
            return Ok(()); // the read itself reports a chunk it cannot find
        };
        let Some(file) = self.files.get(seg) else {
            return Ok(());
        };
        let cs = self.reader.chunk_size();
        let start = idx * cs;
        let len = cs.min(self.size.saturating_sub(start)) as usize;
        let (want, have) = if compressed {
            // zlib: the Adler-32 of the inflated data, big-endian, ends the
            // stream; libewf pads the stored stream with zeros (to 16 bytes
            // here, ewf-forensic__ntfs_sample.E01), so the trailer is one of
            // the last words. Any word there equal to the Adler-32 of what
            // the crate inflated passes (a chance match is ~2^-26).
            let from = stored.saturating_sub(PAD_SEARCH + 4).max(2);
            let Some(region) = file.bytes(at + from, (stored - from) as usize) else {
                return Err(self.bad_chunk(
                    idx,
                    file,
                    at,
                    "its stored data runs past the end of the segment file",
                ));
            };
            let mut page = vec![0u8; len];
            self.read_crate(start, &mut page).map_err(|e| {
                let e = e.to_string();
                let why = e.rsplit("EWF read failed: ").next().unwrap_or(&e);
                self.bad_chunk(idx, file, at, &format!("it does not inflate ({why})"))
            })?;
            let have = adler32(&page);
            let word = |w: &[u8]| u32::from_be_bytes([w[0], w[1], w[2], w[3]]);
            if region.windows(4).any(|w| word(w) == have) {
                (have, have)
            } else {
                // Report the word before the zero padding.
                let end = region.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
                let want = end.checked_sub(4).map_or(0, |i| word(&region[i..i + 4]));
                (want, have)
            }
        } else {
            // Uncompressed: the data, then its Adler-32, little-endian.
            if stored < len as u64 + 4 {
                return Ok(()); // no checksum stored with it
            }
            let Some(data) = file.bytes(at, len + 4) else {
                return Err(self.bad_chunk(
                    idx,
                    file,
                    at,
                    "its stored data runs past the end of the segment file",
                ));
            };
            let (data, sum) = data.split_at(len);
            (
                u32::from_le_bytes([sum[0], sum[1], sum[2], sum[3]]),
                adler32(data),
            )
        };
        if want != have {
            return Err(self.bad_chunk(
                idx,
                file,
                at,
                &format!("Adler-32 checksum mismatch (stored {want:08x}, computed {have:08x})"),
            ));
        }
        done.fetch_or(bit, Ordering::Relaxed);
        Ok(())
    }

    fn bad_chunk(&self, idx: u64, file: &Segment, at: u64, what: &str) -> std::io::Error {
        let cs = self.reader.chunk_size();
        let start = idx * cs;
        let end = (start + cs).min(self.size).saturating_sub(1);
        let name = file
            .name
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        super::io_err(
            &self.path,
            start,
            format!(
                "EWF chunk {idx} (media bytes {start}-{end}, stored at byte {at} of {name}) is corrupt: {what}; its data is not used"
            ),
        )
    }

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
        if !buf.is_empty() {
            let cs = self.reader.chunk_size().max(1);
            for idx in offset / cs..=(offset + buf.len() as u64 - 1) / cs {
                self.check_chunk(idx)?;
            }
        }
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
            .disk
            .read_exact_at(tail.at + within, rest)
            .map_err(|e| {
                super::io_err(
                    &tail.file.name,
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
            let buf = buf.map_err(|e| {
                let what = super::without_path(&path.display().to_string(), &e.to_string());
                match e.kind() {
                    // A chunk that fails its checksum names itself.
                    std::io::ErrorKind::InvalidData => ImageError::format(path, what),
                    _ => ImageError::Read {
                        path: path.to_path_buf(),
                        offset: o,
                        len: n,
                        what,
                    },
                }
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
