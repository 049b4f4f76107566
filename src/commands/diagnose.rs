//! The pipeline, wired once for the CLI, the tests and the benchmarks:
//! image → partitions → NTFS volumes → installs → findings.

use std::path::Path;

use rayon::prelude::*;

use crate::analysis::{self, Finding, Knowledge, Severity};
use crate::fs::NtfsVolume;
use crate::image::{self, Format, Image, ImageError};
use crate::volume::{self, Filesystem, Partition};
use crate::windows::{self, Install};
use crate::Unreadable;

/// Why an image could not be analysed at all (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum DiagnoseError {
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error("{image}: no NTFS volume found ({detail})")]
    NoNtfs { image: String, detail: String },
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

/// One analysed volume.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VolumeReport {
    /// Position in `volumes`, which `installs[].volume` and `findings[].volume` refer to.
    pub index: usize,
    /// Where the volume lives on the disk (partition-table entry, or the
    /// whole disk for a bare volume).
    pub partition: Partition,
    pub label: Option<String>,
    pub cluster_size: Option<u32>,
    pub error: Option<String>,
}

/// Everything `diagnose` found in one image.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Diagnosis {
    pub image: String,
    pub format: Format,
    pub size: u64,
    pub volumes: Vec<VolumeReport>,
    pub installs: Vec<Install>,
    pub findings: Vec<Finding>,
    pub unreadable: Vec<Unreadable>,
}

impl Diagnosis {
    /// The most severe finding, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// Opens an image read-only and finds its NTFS partitions: the first step
/// of every command. No readable partition table and no NTFS volume both
/// leave nothing to analyse.
pub fn open_partitions(path: &Path) -> Result<(Image, Vec<Partition>), DiagnoseError> {
    let img = image::open(path)?;
    let no_ntfs = |detail: String| DiagnoseError::NoNtfs {
        image: path.display().to_string(),
        detail,
    };
    let all = volume::find_partitions(img.disk.as_ref()).map_err(|e| no_ntfs(e.to_string()))?;
    let count = all.len();
    let ntfs: Vec<Partition> = all
        .into_iter()
        .filter(|p| p.filesystem == Some(Filesystem::Ntfs))
        .collect();
    if ntfs.is_empty() {
        return Err(no_ntfs(format!("{count} partition(s), none NTFS")));
    }
    Ok((img, ntfs))
}

/// Analyses one image.
pub fn diagnose(path: &Path, knowledge: &Knowledge) -> Result<Diagnosis, DiagnoseError> {
    let (img, ntfs) = open_partitions(path)?;
    let name = path.display().to_string();
    let disk = img.disk.as_ref();
    let mut unreadable = Vec::new();
    // Volumes are independent: analyse them in parallel.
    let results: Vec<(VolumeReport, Vec<Install>, Vec<Unreadable>)> = ntfs
        .par_iter()
        .enumerate()
        .map(|(index, part)| {
            let mut lost = Vec::new();
            let mut report = VolumeReport {
                index,
                partition: part.clone(),
                label: None,
                cluster_size: None,
                error: None,
            };
            let installs = match NtfsVolume::open(disk, part.offset, part.size) {
                Ok(vol) => {
                    report.label = vol.label();
                    report.cluster_size = Some(vol.cluster_size());
                    if vol.upcase_missing() {
                        lost.push(Unreadable::new(
                            &format!("volume #{index} $UpCase"),
                            "unreadable; names compared by simple case folding",
                        ));
                    }
                    windows::find_installs(&vol, index, knowledge, &mut lost)
                }
                Err(e) => {
                    report.error = Some(e.to_string());
                    lost.push(Unreadable::new(
                        &format!("volume #{index} at offset {}", part.offset),
                        &e,
                    ));
                    Vec::new()
                }
            };
            (report, installs, lost)
        })
        .collect();
    let mut volumes = Vec::new();
    let mut installs = Vec::new();
    for (v, i, u) in results {
        volumes.push(v);
        installs.extend(i);
        unreadable.extend(u);
    }
    if installs.is_empty() {
        let detail: String = unreadable
            .iter()
            .take(3)
            .map(|u| format!("; could not read {}: {}", u.path, u.reason))
            .collect();
        return Err(DiagnoseError::NoInstall {
            image: name,
            volumes: volumes.len(),
            detail,
        });
    }
    let mut findings: Vec<Finding> = installs
        .iter()
        .flat_map(|i| analysis::analyse(i, knowledge))
        .collect();
    findings.sort_by(|a, b| {
        (b.severity, a.volume, &a.install, &a.rule, &a.paths)
            .cmp(&(a.severity, b.volume, &b.install, &b.rule, &b.paths))
    });
    unreadable.sort();
    unreadable.dedup();
    Ok(Diagnosis {
        image: name,
        format: img.format,
        size: disk.size(),
        volumes,
        installs,
        findings,
        unreadable,
    })
}
