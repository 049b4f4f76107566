//! Raw images and split raw images (`X.001`, `X.002`, … or `X.aa`, `X.ab`, …).
//!
//! Each segment is mapped on its own; a read that spans segments is served
//! piecewise. No locks: the maps are immutable.

use std::path::{Path, PathBuf};

use super::layer::Opened;
use super::{check_range, ContainerInfo, Disk, Format, ImageError, RawDisk};

/// Most segments we accept (a 3-digit numbering stops at 999 anyway).
const MAX_SEGMENTS: usize = 100_000;

/// How many names past a missing segment we look at to tell a gap (an error)
/// from the end of the set.
const GAP_LOOKAHEAD: usize = 3;

/// Opens `path` as a single raw file, or, when its name is the first of a
/// numbered set and the second exists, as a split raw image.
pub(crate) fn open_raw_or_split(path: &Path, first: RawDisk) -> Result<Opened, ImageError> {
    let names = segment_names(path);
    let Some(mut names) = names else {
        return Ok(single(path, first));
    };
    let Some(second) = names.next() else {
        return Ok(single(path, first));
    };
    if !second.is_file() {
        return Ok(single(path, first));
    }

    let mut files = vec![path.to_path_buf()];
    let mut segments = vec![first];
    let mut next = Some(second);
    while let Some(name) = next.take() {
        if !name.is_file() {
            // The set ends here, unless a later segment exists: then one is
            // missing and the disk would be silently short.
            let later: Vec<PathBuf> = names.by_ref().take(GAP_LOOKAHEAD).collect();
            if let Some(found) = later.iter().find(|p| p.is_file()) {
                return Err(ImageError::missing(
                    path,
                    format!(
                        "split raw image: segment {} is missing but {} exists",
                        name.display(),
                        found.display()
                    ),
                ));
            }
            break;
        }
        if segments.len() >= MAX_SEGMENTS {
            return Err(ImageError::format(
                path,
                format!("split raw image has more than {MAX_SEGMENTS} segments"),
            ));
        }
        segments.push(RawDisk::open(&name)?);
        files.push(name);
        next = names.next();
    }

    let disk = SplitDisk::new(path, segments)?;
    Ok(Opened {
        format: Format::SplitRaw,
        info: ContainerInfo {
            files,
            metadata: vec![("segments".into(), disk.segments.len().to_string())],
        },
        disk: Box::new(disk),
        ewf: None,
    })
}

pub(crate) fn single(path: &Path, raw: RawDisk) -> Opened {
    Opened {
        format: Format::Raw,
        info: ContainerInfo::single(path),
        disk: Box::new(raw),
        ewf: None,
    }
}

/// The first name after `first` in its numbering that does not exist.
pub(crate) fn first_missing_segment(first: &Path) -> Option<PathBuf> {
    segment_names(first)?
        .take(MAX_SEGMENTS)
        .find(|p| !p.is_file())
}

/// The names of the segments after `first`, when `first` is named like the
/// first segment of a set (`.000`, `.001`, `.aa`, `.AA`, …).
fn segment_names(first: &Path) -> Option<impl Iterator<Item = PathBuf>> {
    let name = first.file_name()?.to_str()?;
    let (stem, ext) = name.rsplit_once('.')?;
    if stem.is_empty() || ext.len() < 2 {
        return None;
    }
    let is_first = (ext.bytes().all(|b| b.is_ascii_digit())
        && ext.trim_start_matches('0').parse::<u64>().unwrap_or(0) <= 1)
        || ext.bytes().all(|b| b == b'a')
        || ext.bytes().all(|b| b == b'A');
    if !is_first {
        return None;
    }
    let dir = first.parent().map(Path::to_path_buf).unwrap_or_default();
    let stem = stem.to_string();
    let mut current = ext.to_string();
    Some(std::iter::from_fn(move || {
        current = next_suffix(&current)?;
        Some(dir.join(format!("{stem}.{current}")))
    }))
}

/// The suffix after `s` in its numbering: `001` → `002`, `az` → `ba`;
/// `None` when the width would overflow.
fn next_suffix(s: &str) -> Option<String> {
    let mut bytes = s.as_bytes().to_vec();
    for b in bytes.iter_mut().rev() {
        match *b {
            b'0'..=b'8' | b'a'..=b'y' | b'A'..=b'Y' => {
                *b += 1;
                return String::from_utf8(bytes).ok();
            }
            b'9' => *b = b'0',
            b'z' => *b = b'a',
            b'Z' => *b = b'A',
            _ => return None,
        }
    }
    None
}

/// Several raw files presented as one disk.
pub(crate) struct SplitDisk {
    path: PathBuf,
    segments: Vec<RawDisk>,
    /// Offset on the virtual disk where each segment starts.
    starts: Vec<u64>,
    size: u64,
}

impl SplitDisk {
    fn new(path: &Path, segments: Vec<RawDisk>) -> Result<Self, ImageError> {
        let mut starts = Vec::with_capacity(segments.len());
        let mut size: u64 = 0;
        let last = segments.len().saturating_sub(1);
        for (i, seg) in segments.iter().enumerate() {
            if seg.size() == 0 && i != last {
                return Err(ImageError::format(
                    seg.path(),
                    "split raw image: an inner segment is empty",
                ));
            }
            starts.push(size);
            size = size
                .checked_add(seg.size())
                .ok_or_else(|| ImageError::format(path, "split raw image: total size overflows"))?;
        }
        Ok(SplitDisk {
            path: path.to_path_buf(),
            segments,
            starts,
            size,
        })
    }
}

impl Disk for SplitDisk {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        check_range(&self.path, offset, buf.len(), self.size)?;
        let mut done = 0usize;
        while done < buf.len() {
            let at = offset + done as u64;
            // The last segment that starts at or before `at`.
            let i = self.starts.partition_point(|&s| s <= at).saturating_sub(1);
            let seg = &self.segments[i];
            let within = at - self.starts[i];
            let n = (buf.len() - done).min((seg.size() - within) as usize);
            if n == 0 {
                // Only reachable with empty trailing segments; the range
                // check above makes it impossible to loop forever.
                return Err(super::past_end(&self.path, offset, buf.len(), self.size));
            }
            seg.read_exact_at(within, &mut buf[done..done + n])?;
            done += n;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_count_up() {
        assert_eq!(next_suffix("001").as_deref(), Some("002"));
        assert_eq!(next_suffix("009").as_deref(), Some("010"));
        assert_eq!(next_suffix("099").as_deref(), Some("100"));
        assert_eq!(next_suffix("999"), None);
        assert_eq!(next_suffix("aa").as_deref(), Some("ab"));
        assert_eq!(next_suffix("az").as_deref(), Some("ba"));
        assert_eq!(next_suffix("AZ").as_deref(), Some("BA"));
        assert_eq!(next_suffix("zz"), None);
    }

    fn write_set(dir: &Path, names: &[&str], seg: usize) -> Vec<u8> {
        let mut all = Vec::new();
        for (i, n) in names.iter().enumerate() {
            let data: Vec<u8> = (0..seg).map(|j| (i * 7 + j * 13) as u8).collect();
            std::fs::write(dir.join(n), &data).unwrap();
            all.extend_from_slice(&data);
        }
        all
    }

    #[test]
    fn reads_across_segments() {
        let dir = tempfile::tempdir().unwrap();
        let all = write_set(dir.path(), &["d.001", "d.002", "d.003"], 1000);
        let img = crate::image::open(&dir.path().join("d.001")).unwrap();
        assert_eq!(img.format, Format::SplitRaw);
        assert_eq!(img.info.files.len(), 3);
        assert_eq!(img.disk.size(), 3000);
        for (off, len) in [(0, 3000), (990, 20), (1999, 2), (2500, 500), (0, 0)] {
            let mut buf = vec![0u8; len];
            img.disk.read_exact_at(off as u64, &mut buf).unwrap();
            assert_eq!(buf, all[off..off + len]);
        }
        let mut buf = [0u8; 2];
        assert!(img.disk.read_exact_at(2999, &mut buf).is_err());
        assert!(img.disk.read_exact_at(u64::MAX, &mut buf).is_err());
    }

    #[test]
    fn letter_suffixes_and_gaps() {
        let dir = tempfile::tempdir().unwrap();
        let all = write_set(dir.path(), &["d.aa", "d.ab"], 512);
        let img = crate::image::open(&dir.path().join("d.aa")).unwrap();
        assert_eq!(img.format, Format::SplitRaw);
        let mut buf = vec![0u8; 1024];
        img.disk.read_exact_at(0, &mut buf).unwrap();
        assert_eq!(buf, all);

        let dir = tempfile::tempdir().unwrap();
        write_set(dir.path(), &["g.001", "g.002", "g.004"], 512);
        let err = crate::image::open(&dir.path().join("g.001")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("g.003") && msg.contains("missing"), "{msg}");
    }

    #[test]
    fn a_lone_first_segment_is_raw() {
        let dir = tempfile::tempdir().unwrap();
        write_set(dir.path(), &["x.001"], 512);
        let img = crate::image::open(&dir.path().join("x.001")).unwrap();
        assert_eq!(img.format, Format::Raw);
    }
}
