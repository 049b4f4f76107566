//! `verskew info`: what an image is made of — container, metadata, partition
//! table, filesystems — and, on request, a check of its stored hashes.

use std::path::Path;

use super::{contained, open_image, select_volumes, CommandError, Select};
use crate::fs;
use crate::image::http::Transfer;
use crate::image::{self, ContainerInfo, Format, HashCheck};
use crate::volume::{self, Filesystem, VolumeMap};

/// What `info` found.
#[derive(Debug)]
pub struct Info {
    pub image: String,
    pub format: Format,
    pub size: u64,
    pub container: ContainerInfo,
    pub volumes: Option<VolumeMap>,
    pub volume_error: Option<String>,
    /// Partitions (by index) that run past the end of the image.
    pub truncated: Vec<u32>,
    /// Filesystem, version, label and cluster size of each partition whose
    /// filesystem verskew reads (NTFS, FAT), by partition index.
    pub filesystems: Vec<FsFacts>,
    /// Present with `--verify`.
    pub hashes: Option<Vec<HashCheck>>,
    /// What reading the image over HTTP cost (`None` for a local image).
    pub transfer: Option<Transfer>,
}

#[derive(Debug)]
pub struct FsFacts {
    pub partition: u32,
    pub filesystem: Filesystem,
    /// "1.2", "3.0", "3.1" for NTFS; the FAT type ("FAT16") for FAT.
    pub version: Option<String>,
    pub label: Option<String>,
    pub cluster_size: Option<u32>,
    pub error: Option<String>,
}

/// Reads what an image is made of; with `verify`, recomputes its stored
/// hashes, telling `progress` (bytes done, bytes in all) as it goes.
pub fn info(
    path: &Path,
    verify: bool,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<Info, CommandError> {
    info_in(path, verify, progress, Select::All)
}

/// [`info`] showing only the volume `select` picks (`-o`, `--partition`);
/// an error when there is none.
pub fn info_in(
    path: &Path,
    verify: bool,
    progress: &(dyn Fn(u64, u64) + Sync),
    select: Select,
) -> Result<Info, CommandError> {
    contained(path, || {
        if let Some(c) = super::collection::probe(path)? {
            super::collection::whole(path, select)?;
            return collection_info(&c, verify);
        }
        let img = open_image(path)?;
        let chosen = match select {
            Select::All => None,
            _ => Some(select_volumes(
                img.disk.as_ref(),
                &img.path.display().to_string(),
                select,
            )?),
        };
        let hashes = match verify {
            true => Some(image::verify_stored_hashes(&img, progress)?),
            false => None,
        };
        Ok(describe(&img, hashes, chosen))
    })
}

fn describe(
    img: &image::Image,
    hashes: Option<Vec<HashCheck>>,
    chosen: Option<Vec<volume::Partition>>,
) -> Info {
    let disk = img.disk.as_ref();
    let (volumes, volume_error) = match (volume::find_volumes(disk), chosen) {
        (Ok(mut v), Some(chosen)) => {
            v.partitions = chosen;
            (Some(v), None)
        }
        (Ok(v), None) => (Some(v), None),
        (Err(e), _) => (None, Some(e.to_string())),
    };
    // A volume that runs past the end of the image is said, with who says
    // how long it is: the rest of it was never acquired.
    let mut volumes = volumes;
    let mut truncated = Vec::new();
    for v in volumes.iter_mut() {
        for p in &v.partitions {
            if let Some(s) = volume::shortfall(disk, p) {
                truncated.push(p.index);
                v.notes.push(format!(
                    "partition {} is truncated: {} declares {} bytes, the image holds {}",
                    p.index,
                    s.by,
                    super::thousands(s.declared),
                    super::thousands(s.holds)
                ));
            }
        }
    }
    let filesystems = volumes
        .iter()
        .flat_map(|v| v.partitions.iter())
        .filter_map(|p| match p.filesystem {
            Some(f @ (Filesystem::Ntfs | Filesystem::Fat)) => Some((p, f)),
            _ => None,
        })
        .map(|(p, filesystem)| match fs::open(disk, p) {
            Ok(v) => FsFacts {
                partition: p.index,
                filesystem,
                version: v.version(),
                label: v.label(),
                cluster_size: Some(v.cluster_size()),
                error: None,
            },
            Err(e) => FsFacts {
                partition: p.index,
                filesystem,
                version: None,
                label: None,
                cluster_size: None,
                error: Some(e.to_string()),
            },
        })
        .collect();
    Info {
        // The image's own name: a URL's is its redacted form.
        image: img.path.display().to_string(),
        format: img.format,
        size: img.size(),
        container: img.info.clone(),
        volumes,
        volume_error,
        truncated,
        filesystems,
        hashes,
        // Read last: the volume and filesystem reads above count.
        transfer: img.transfer(),
    }
}

/// [`info`] of a triage collection: its layout and each collected drive.
fn collection_info(
    c: &crate::fs::collection::Collection,
    verify: bool,
) -> Result<Info, CommandError> {
    use super::collection as coll;
    let drives = coll::open(c)?;
    let mut container = ContainerInfo {
        files: vec![c.path.clone()],
        metadata: Vec::new(),
    };
    container
        .metadata
        .push(("collection.layout".into(), c.layout.id().into()));
    let mut partitions = Vec::new();
    let mut filesystems = Vec::new();
    let mut notes = Vec::new();
    for (n, (drive, vol)) in drives.iter().enumerate() {
        let p = coll::partition(c, n, drive, vol);
        let filesystem = p.filesystem.unwrap_or(Filesystem::Directory);
        if let Ok(v) = vol {
            for (what, why) in fs::Volume::degraded(v) {
                notes.push(format!("drive {}: {what}: {why}", drive.letter));
            }
        }
        filesystems.push(FsFacts {
            partition: p.index,
            filesystem,
            version: None,
            label: None,
            cluster_size: None,
            error: vol.as_ref().err().map(|e| e.to_string()),
        });
        partitions.push(p);
    }
    Ok(Info {
        image: c.path.display().to_string(),
        format: coll::format(c),
        size: coll::size(c, &drives),
        // A collection is read from the local filesystem, never over HTTP.
        transfer: None,
        container,
        volumes: Some(VolumeMap {
            scheme: volume::Scheme::Collection,
            sector_size: 0,
            partitions,
            notes,
        }),
        volume_error: None,
        truncated: Vec::new(),
        filesystems,
        // A collection stores no hashes of its own to check.
        hashes: verify.then(Vec::new),
    })
}
