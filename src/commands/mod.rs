//! The commands, each wiring the stages for one job: `diagnose` (`batch`
//! for many images), `versions` (and its `--all` census), `info`, `fleet`
//! (many images' reports compared). A command opens the image, finds its
//! volumes and hands typed results to `report/`; it prints nothing itself.

pub mod batch;
pub mod census;
pub(crate) mod collection;
pub mod diagnose;
pub mod fleet;
pub mod info;
pub mod versions;

use std::path::Path;

use crate::image::{self, Disk, Image, ImageError};
use crate::panic;
use crate::volume::{self, Filesystem, Partition};

/// Why a command could not run on an image at all (exit status 2).
///
/// [`CommandError::kind`] gives a stable, machine-readable kind:
///
/// | kind | meaning |
/// |---|---|
/// | `not-found` | the image (or a file it names) does not exist |
/// | `permission` | the image cannot be opened for reading |
/// | `io-error` | the operating system failed a read (a failing device, …) |
/// | `not-a-file` | a FIFO, character device, socket, directory or `-` (standard input) |
/// | `not-a-disk-image` | recognised as something else (gzip, zip, hive, PE, ext4, …; named in the message) |
/// | `truncated` | a volume declares more bytes than the image holds |
/// | `missing-segment` | a segment, extent, parent or backing file the image needs is not there |
/// | `corrupt` | a container structure or a stored checksum is wrong |
/// | `unsupported-container` | a valid container using a feature we do not read (L01, encryption, …) |
/// | `remote` | an `http(s)://` image its server would not serve by ranges (Range ignored, a redirect refused, an object that changed) |
/// | `no-volume` | no NTFS or FAT volume found (or not where `-o`/`--partition` says) |
/// | `no-windows` | NTFS or FAT volumes, but no Windows installation on them |
/// | `bad-argument` | a command-line value that cannot be used (pattern, `-o`, `--partition`) |
/// | `internal` | a bug: a contained panic in our code or a parser |
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error("{image}: no NTFS or FAT volume found ({detail})")]
    NoVolume { image: String, detail: String },
    #[error("{image}: no Windows installation found on {volumes} NTFS or FAT volume(s) (looked for <folder>\\system32\\config\\SYSTEM or SOFTWARE){detail}")]
    NoInstall {
        image: String,
        volumes: usize,
        /// What could not be read on the way, when anything was.
        detail: String,
    },
    /// A volume declares more than the image holds: reading on would miss
    /// files without knowing which.
    #[error("{image}: truncated: {place} declares {} bytes ({by}), the image holds {}{hint}", thousands(*declared), thousands(*holds))]
    Truncated {
        image: String,
        place: String,
        by: &'static str,
        declared: u64,
        holds: u64,
        /// How to read the other volumes, when there are any.
        hint: String,
    },
    /// A lone first segment of a split raw image holds less than its
    /// volumes declare: the next segment was not copied with it.
    #[error("{image}: split raw image: segment {next} is missing: {by} declares {} bytes for {place}, this segment holds only {} of them (keep all the segments in one folder)", thousands(*declared), thousands(*holds))]
    MissingSegment {
        image: String,
        next: String,
        place: String,
        by: &'static str,
        declared: u64,
        holds: u64,
    },
    /// The disk could not be read where the partition tables are.
    #[error("{image}: {what}")]
    Unreadable {
        image: String,
        what: String,
        kind: &'static str,
    },
    #[error("{what}")]
    BadArgument { what: String },
    #[error("{image}: internal error (please report it): {what}")]
    Internal { image: String, what: String },
}

impl CommandError {
    /// The stable kind of this error (the table above).
    pub fn kind(&self) -> &'static str {
        match self {
            CommandError::Image(e) => e.kind(),
            CommandError::NoVolume { .. } => "no-volume",
            CommandError::NoInstall { .. } => "no-windows",
            CommandError::Truncated { .. } => "truncated",
            CommandError::MissingSegment { .. } => "missing-segment",
            CommandError::Unreadable { kind, .. } => kind,
            CommandError::BadArgument { .. } => "bad-argument",
            CommandError::Internal { .. } => "internal",
        }
    }
}

/// `8388096` as `8,388,096`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Which volumes a command reads, as in The Sleuth Kit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Select {
    /// Every NTFS and FAT volume found (partition tables, then a boot-sector scan).
    #[default]
    All,
    /// The volume starting at this many 512-byte sectors (`-o`).
    Offset(u64),
    /// The partition with this index, as `verskew info` numbers them.
    Partition(u32),
}

/// Opens an image read-only: the first step of every command.
pub fn open_image(path: &Path) -> Result<Image, CommandError> {
    Ok(image::open(path)?)
}

/// Opens an image and finds the partitions we read that `select` picks.
pub fn open_partitions_in(
    path: &Path,
    select: Select,
) -> Result<(Image, Vec<Partition>), CommandError> {
    let img = open_image(path)?;
    let parts = open_volumes_in(img.disk.as_ref(), &img.path.display().to_string(), select)?;
    Ok((img, parts))
}

/// The partitions of `disk` that hold a filesystem we read. No readable
/// partition table and no such volume both leave nothing to analyse.
pub fn open_volumes(disk: &dyn Disk, image: &str) -> Result<Vec<Partition>, CommandError> {
    open_volumes_in(disk, image, Select::All)
}

/// [`open_volumes`] for the volumes `select` picks. A volume that declares
/// more bytes than the image holds is an error (`truncated`, or
/// `missing-segment` for a lone `.001`), never a short read deep inside.
pub fn open_volumes_in(
    disk: &dyn Disk,
    image: &str,
    select: Select,
) -> Result<Vec<Partition>, CommandError> {
    let readable = select_volumes(disk, image, select)?;
    for p in &readable {
        if let Some(short) = volume::shortfall(disk, p) {
            return Err(cut_short(image, p, short, readable.len() > 1));
        }
    }
    Ok(readable)
}

pub(crate) fn select_volumes(
    disk: &dyn Disk,
    image: &str,
    select: Select,
) -> Result<Vec<Partition>, CommandError> {
    let no_volume = |detail: String| CommandError::NoVolume {
        image: image.to_string(),
        detail,
    };
    if let Select::Offset(sectors) = select {
        return at_offset(disk, image, sectors);
    }
    let all = volume::find_partitions(disk).map_err(|e| volume_error(image, e))?;
    if let Select::Partition(n) = select {
        let Some(p) = all.iter().find(|p| p.index == n) else {
            let have: Vec<String> = all.iter().map(|p| p.index.to_string()).collect();
            return Err(CommandError::BadArgument {
                what: format!(
                    "{image}: --partition {n}: there is no partition {n} (the image has {}; see verskew info)",
                    if have.is_empty() { "none".to_string() } else { have.join(", ") }
                ),
            });
        };
        if !readable_fs(p.filesystem) {
            return Err(no_volume(format!(
                "partition {n} holds {}, not NTFS or FAT",
                fs_name(p.filesystem)
            )));
        }
        return Ok(vec![p.clone()]);
    }
    let count = all.len();
    let kinds: Vec<&str> = all.iter().map(|p| fs_name(p.filesystem)).collect();
    let readable: Vec<Partition> = all
        .into_iter()
        .filter(|p| readable_fs(p.filesystem))
        .collect();
    if readable.is_empty() {
        let detail = match (count, image::identify(disk)) {
            (0, Some(what)) => format!("the disk holds {what}"),
            (0, None) => "no partition table entry and no boot sector found".to_string(),
            _ => format!(
                "{count} partition(s), none NTFS or FAT: {}",
                kinds.join(", ")
            ),
        };
        return Err(no_volume(detail));
    }
    Ok(readable)
}

/// The filesystems `fs::open` reads.
fn readable_fs(fs: Option<Filesystem>) -> bool {
    matches!(fs, Some(Filesystem::Ntfs | Filesystem::Fat))
}

/// "NTFS", "FAT", "no filesystem we know", "nothing (past the end of the disk)".
fn fs_name(fs: Option<Filesystem>) -> &'static str {
    match fs {
        Some(Filesystem::Unknown) => "no filesystem we know",
        Some(f) => f.name(),
        None => "nothing (it starts past the end of the image)",
    }
}

/// The volume `-o SECTORS` points at (512-byte sectors, as in The Sleuth Kit).
fn at_offset(disk: &dyn Disk, image: &str, sectors: u64) -> Result<Vec<Partition>, CommandError> {
    let size = disk.size();
    let offset = sectors.checked_mul(512).filter(|&o| o < size).ok_or_else(|| {
        CommandError::BadArgument {
            what: format!(
                "{image}: -o {sectors}: sector {sectors} is past the end of the image ({} bytes, {} sectors)",
                thousands(size),
                thousands(size / 512)
            ),
        }
    })?;
    let mut boot = [0u8; 512];
    let fs = match disk.read_exact_at(offset, &mut boot) {
        Ok(()) => volume::sniff_filesystem(&boot),
        Err(_) => Filesystem::Unknown,
    };
    if !readable_fs(Some(fs)) {
        return Err(CommandError::NoVolume {
            image: image.to_string(),
            detail: format!(
                "-o {sectors}: sector {sectors} (byte {}) holds {}, not an NTFS or FAT boot sector; `verskew info` lists where the volumes start",
                thousands(offset),
                fs_name(Some(fs))
            ),
        });
    }
    // The volume's own size when the image holds it all (the truncation
    // check compares the two).
    let own = volume::ntfs_volume_size(&boot)
        .or_else(|| volume::fat_volume_size(&boot))
        .unwrap_or(u64::MAX);
    Ok(vec![Partition {
        index: 1,
        scheme: volume::Scheme::None,
        offset,
        size: own.min(size - offset),
        type_id: String::new(),
        name: None,
        filesystem: Some(fs),
        note: Some(format!("selected with -o {sectors}")),
        declared: None,
        active: false,
    }])
}

fn volume_error(image: &str, e: volume::VolumeError) -> CommandError {
    match e {
        volume::VolumeError::TooSmall { size: 0 } => CommandError::NoVolume {
            image: image.to_string(),
            detail: "the image is empty (0 bytes): the acquisition or the copy wrote no data"
                .into(),
        },
        volume::VolumeError::TooSmall { .. } => CommandError::NoVolume {
            image: image.to_string(),
            detail: e.to_string(),
        },
        volume::VolumeError::Read {
            ref source,
            offset,
            len,
        } => {
            let kind = match source.kind() {
                std::io::ErrorKind::UnexpectedEof => "truncated",
                std::io::ErrorKind::InvalidData => "corrupt",
                _ => "io-error",
            };
            CommandError::Unreadable {
                image: image.to_string(),
                what: format!(
                    "reading {len} bytes at disk offset {offset}: {}",
                    image::without_path(image, &source.to_string())
                ),
                kind,
            }
        }
    }
}

/// The error for a volume that runs past the end of the image: a missing
/// segment when the image is a lone first segment of a split set.
fn cut_short(image: &str, p: &Partition, short: volume::Shortfall, others: bool) -> CommandError {
    let fs = fs_name(p.filesystem);
    let place = match p.offset {
        0 => format!("the {fs} volume"),
        o => format!("the {fs} volume at offset {}", thousands(o)),
    };
    if let Some(next) = image::next_segment(Path::new(image)) {
        return CommandError::MissingSegment {
            image: image.to_string(),
            next: next
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            place,
            by: short.by,
            declared: short.declared,
            holds: short.holds,
        };
    }
    CommandError::Truncated {
        image: image.to_string(),
        place,
        by: short.by,
        declared: short.declared,
        holds: short.holds,
        hint: if others {
            format!(
                " (--partition reads the other volumes; this is partition {})",
                p.index
            )
        } else {
            String::new()
        },
    }
}

/// Runs a whole command on one image with panics contained: a bug in our
/// code or a parser costs that image, never the other images on the line.
pub fn contained<T>(
    image: &Path,
    run: impl FnOnce() -> Result<T, CommandError>,
) -> Result<T, CommandError> {
    panic::contain_payload(run).unwrap_or_else(|what| {
        Err(CommandError::Internal {
            image: image.display().to_string(),
            what,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_stable() {
        let io = |k| std::io::Error::from(k);
        let p = std::path::PathBuf::from("x.img");
        let cases: Vec<(CommandError, &str)> = vec![
            (
                ImageError::Open {
                    path: p.clone(),
                    source: io(std::io::ErrorKind::NotFound),
                }
                .into(),
                "not-found",
            ),
            (
                ImageError::Open {
                    path: p.clone(),
                    source: io(std::io::ErrorKind::PermissionDenied),
                }
                .into(),
                "permission",
            ),
            (
                ImageError::NotAFile {
                    path: p.clone(),
                    what: "fifo".into(),
                }
                .into(),
                "not-a-file",
            ),
            (
                ImageError::NotADiskImage {
                    path: p.clone(),
                    what: "gzip".into(),
                    advice: "".into(),
                }
                .into(),
                "not-a-disk-image",
            ),
            (
                ImageError::Missing {
                    path: p.clone(),
                    what: "".into(),
                }
                .into(),
                "missing-segment",
            ),
            (
                ImageError::Corrupt {
                    path: p.clone(),
                    offset: 0,
                    what: "".into(),
                }
                .into(),
                "corrupt",
            ),
            (
                ImageError::Unsupported {
                    path: p.clone(),
                    what: "".into(),
                }
                .into(),
                "unsupported-container",
            ),
            (
                CommandError::NoVolume {
                    image: "x".into(),
                    detail: "".into(),
                },
                "no-volume",
            ),
            (
                CommandError::NoInstall {
                    image: "x".into(),
                    volumes: 1,
                    detail: "".into(),
                },
                "no-windows",
            ),
            (
                CommandError::Truncated {
                    image: "x".into(),
                    place: "".into(),
                    by: "",
                    declared: 2,
                    holds: 1,
                    hint: "".into(),
                },
                "truncated",
            ),
            (
                CommandError::MissingSegment {
                    image: "x".into(),
                    next: "".into(),
                    place: "".into(),
                    by: "",
                    declared: 2,
                    holds: 1,
                },
                "missing-segment",
            ),
            (
                CommandError::BadArgument { what: "".into() },
                "bad-argument",
            ),
            (
                CommandError::Internal {
                    image: "x".into(),
                    what: "".into(),
                },
                "internal",
            ),
        ];
        for (e, want) in cases {
            assert_eq!(e.kind(), want, "{e}");
        }
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(8_388_096), "8,388,096");
        assert_eq!(thousands(4_194_304), "4,194,304");
    }

    #[test]
    fn truncation_reads_as_one_line() {
        let e = CommandError::Truncated {
            image: "cut.img".into(),
            place: "the NTFS volume".into(),
            by: "the NTFS boot sector",
            declared: 8_388_096,
            holds: 4_194_304,
            hint: String::new(),
        };
        assert_eq!(
            e.to_string(),
            "cut.img: truncated: the NTFS volume declares 8,388,096 bytes (the NTFS boot sector), the image holds 4,194,304"
        );
    }
}
