//! `verskew.info/1`: what an image is made of.

use std::path::PathBuf;

use serde::Serialize;

use super::disk::{partition, VolumeMap};
use super::{list, Shown};
use crate::commands::info::{self as model, FsFacts};
use crate::report::{INFO_SCHEMA, TOOL_VERSION};
use crate::volume::Filesystem;

/// `remote`: what reading an image over HTTP cost (diagnose and info).
#[derive(Serialize)]
pub(super) struct Remote {
    pub(super) bytes_fetched: u64,
    pub(super) requests: u64,
    pub(super) retries: u64,
}

/// The fields of the model's transfer (named without importing `image`).
macro_rules! remote {
    ($t:expr) => {
        $t.as_ref().map(|t| Remote {
            bytes_fetched: t.bytes_fetched,
            requests: t.requests,
            retries: t.retries,
        })
    };
}
pub(super) use remote;

#[derive(Serialize)]
pub(in crate::report) struct Info<'a> {
    schema: &'static str,
    tool_version: &'static str,
    image: &'a str,
    format: Shown<'a>,
    size: u64,
    /// Only for an image read over HTTP.
    #[serde(skip_serializing_if = "Option::is_none")]
    remote: Option<Remote>,
    container: Container<'a>,
    volumes: Option<VolumeMap<'a>>,
    volume_error: Option<&'a str>,
    /// Partitions that run past the end of the image.
    truncated: &'a [u32],
    /// The NTFS partitions only (the field predates FAT support).
    ntfs: Vec<Ntfs<'a>>,
    /// Every partition whose filesystem verskew reads (NTFS, FAT).
    filesystems: Vec<Fs<'a>>,
    /// Null unless `--verify` was given.
    hashes: Option<Vec<HashCheck<'a>>>,
}

impl<'a> From<&'a model::Info> for Info<'a> {
    fn from(i: &'a model::Info) -> Self {
        Info {
            schema: INFO_SCHEMA,
            tool_version: TOOL_VERSION,
            image: &i.image,
            format: Shown(&i.format),
            size: i.size,
            remote: remote!(i.transfer),
            container: Container {
                files: &i.container.files,
                metadata: &i.container.metadata,
            },
            volumes: i.volumes.as_ref().map(|v| VolumeMap {
                scheme: v.scheme.id(),
                sector_size: v.sector_size,
                partitions: v.partitions.iter().map(|p| partition!(p)).collect(),
                notes: &v.notes,
            }),
            volume_error: i.volume_error.as_deref(),
            truncated: &i.truncated,
            ntfs: i
                .filesystems
                .iter()
                .filter(|f| f.filesystem == Filesystem::Ntfs)
                .map(Ntfs::from)
                .collect(),
            filesystems: list(&i.filesystems),
            hashes: i.hashes.as_ref().map(|h| {
                h.iter()
                    .map(|c| HashCheck {
                        algorithm: c.algorithm.id(),
                        stored: &c.stored,
                        computed: &c.computed,
                        matches: c.matches,
                    })
                    .collect()
            }),
        }
    }
}

/// The files of the image and its metadata as `[key, value]` pairs.
#[derive(Serialize)]
struct Container<'a> {
    files: &'a [PathBuf],
    metadata: &'a [(String, String)],
}

#[derive(Serialize)]
struct Ntfs<'a> {
    partition: u32,
    label: Option<&'a str>,
    cluster_size: Option<u32>,
    error: Option<&'a str>,
    /// "1.2", "3.0" or "3.1", from `$Volume`; null when unreadable.
    version: Option<&'a str>,
}

impl<'a> From<&'a FsFacts> for Ntfs<'a> {
    fn from(n: &'a FsFacts) -> Self {
        Ntfs {
            partition: n.partition,
            label: n.label.as_deref(),
            cluster_size: n.cluster_size,
            error: n.error.as_deref(),
            version: n.version.as_deref(),
        }
    }
}

#[derive(Serialize)]
struct Fs<'a> {
    partition: u32,
    /// `ntfs` or `fat`, as in `volumes.partitions[].filesystem`.
    filesystem: &'static str,
    /// NTFS: "1.2", "3.0", "3.1"; FAT: "FAT12", "FAT16", "FAT32"; null when
    /// the volume does not say or could not be opened.
    version: Option<&'a str>,
    label: Option<&'a str>,
    cluster_size: Option<u32>,
    error: Option<&'a str>,
}

impl<'a> From<&'a FsFacts> for Fs<'a> {
    fn from(n: &'a FsFacts) -> Self {
        Fs {
            partition: n.partition,
            filesystem: n.filesystem.id(),
            version: n.version.as_deref(),
            label: n.label.as_deref(),
            cluster_size: n.cluster_size,
            error: n.error.as_deref(),
        }
    }
}

#[derive(Serialize)]
struct HashCheck<'a> {
    /// `md5` or `sha1`.
    algorithm: &'static str,
    stored: &'a str,
    computed: &'a str,
    matches: bool,
}
