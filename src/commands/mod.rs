//! The commands, each wiring the stages for one job: `diagnose`, `versions`
//! (and its `--all` census), `info`. A command opens the image, finds its
//! volumes and hands typed results to `report/`; it prints nothing itself.

pub mod census;
pub mod diagnose;
pub mod info;
pub mod versions;

use std::path::Path;

use crate::image::{self, Disk, Image, ImageError};
use crate::panic;
use crate::volume::{self, Filesystem, Partition};

/// Why a command could not run on an image at all (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error("{image}: no NTFS volume found ({detail})")]
    NoVolume { image: String, detail: String },
    #[error("{image}: no Windows installation found on {volumes} NTFS volume(s) (looked for <folder>\\system32\\config\\SYSTEM or SOFTWARE){detail}")]
    NoInstall {
        image: String,
        volumes: usize,
        /// What could not be read on the way, when anything was.
        detail: String,
    },
    #[error("{what}")]
    BadArgument { what: String },
    #[error("{image}: internal error (please report it): {what}")]
    Internal { image: String, what: String },
}

impl CommandError {
    /// A stable, machine-readable name for the cause (JSON `kind`).
    pub fn kind(&self) -> &'static str {
        match self {
            CommandError::Image(e) => e.kind(),
            CommandError::NoVolume { .. } => "no-volume",
            CommandError::NoInstall { .. } => "no-windows",
            CommandError::BadArgument { .. } => "bad-argument",
            CommandError::Internal { .. } => "internal",
        }
    }
}

/// Opens an image read-only: the first step of every command.
pub fn open_image(path: &Path) -> Result<Image, CommandError> {
    Ok(image::open(path)?)
}

/// Opens an image and finds the partitions we read.
pub fn open_partitions(path: &Path) -> Result<(Image, Vec<Partition>), CommandError> {
    let img = open_image(path)?;
    let parts = open_volumes(img.disk.as_ref(), &path.display().to_string())?;
    Ok((img, parts))
}

/// The partitions of `disk` that hold a filesystem we read. No readable
/// partition table and no such volume both leave nothing to analyse.
pub fn open_volumes(disk: &dyn Disk, image: &str) -> Result<Vec<Partition>, CommandError> {
    let no_volume = |detail: String| CommandError::NoVolume {
        image: image.to_string(),
        detail,
    };
    let all = volume::find_partitions(disk).map_err(|e| no_volume(e.to_string()))?;
    let count = all.len();
    let readable: Vec<Partition> = all
        .into_iter()
        .filter(|p| p.filesystem == Some(Filesystem::Ntfs))
        .collect();
    if readable.is_empty() {
        return Err(no_volume(format!("{count} partition(s), none NTFS")));
    }
    Ok(readable)
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
