//! `verskew diagnose`: image → partitions → volumes → installs → findings,
//! wired once for the CLI, the tests, the benchmarks and the fuzz targets.

use std::path::Path;

use rayon::prelude::*;

use super::{contained, open_image, open_volumes_in, CommandError, Select};
use crate::analysis::knowledge::RulesFile;
use crate::analysis::{self, Coverage, Finding, Knowledge, Severity, Status};
use crate::fs;
use crate::image::http::Transfer;
use crate::image::{Disk, Format};
use crate::volume::Partition;
use crate::windows::{self, BootEntry, DiskVolumes, Install};
use crate::Unreadable;

/// One analysed volume.
#[derive(Debug, Clone)]
pub struct VolumeReport {
    /// Position in `volumes`, which `installs[].volume` and `findings[].volume` refer to.
    pub index: usize,
    /// Where the volume lives on the disk (partition-table entry, or the
    /// whole disk for a bare volume).
    pub partition: Partition,
    /// The filesystem's name ("NTFS") when the volume opened.
    pub filesystem: Option<&'static str>,
    /// Its version ("3.1", "1.2"; "FAT16"), when the volume says.
    pub version: Option<String>,
    pub label: Option<String>,
    pub cluster_size: Option<u32>,
    pub error: Option<String>,
}

/// Everything `diagnose` found in one image.
#[derive(Debug, Clone)]
pub struct Diagnosis {
    pub image: String,
    pub format: Format,
    pub size: u64,
    pub volumes: Vec<VolumeReport>,
    pub installs: Vec<Install>,
    /// What the rules covered of each install, in the order of `installs`.
    pub coverage: Vec<Coverage>,
    /// Each install's story (`analysis::story`), in the order of
    /// `installs`: `None` for an install without a warning or an error.
    pub stories: Vec<Option<String>>,
    /// Each install's lockstep sets as the rules compared them, in the
    /// order of `installs` (what the HTML report draws as version matrices).
    pub lockstep: Vec<Vec<analysis::rules::SetState>>,
    pub findings: Vec<Finding>,
    pub unreadable: Vec<Unreadable>,
    /// The `--rules` files the knowledge was merged from.
    pub rules_files: Vec<RulesFile>,
    /// The `[operating systems]` lines of the boot partition's boot.ini and
    /// the install each starts.
    pub boot_entries: Vec<BootEntry>,
    /// What reading the image over HTTP cost (`None` for a local image).
    pub transfer: Option<Transfer>,
}

impl Diagnosis {
    /// More than one volume of the image was read: reports then say which
    /// letter is which volume and what boot.ini starts (a single-volume
    /// image keeps the report it always had).
    pub fn multi_volume(&self) -> bool {
        self.volumes.iter().filter(|v| v.error.is_none()).count() > 1
    }
}

impl Diagnosis {
    /// The most severe finding, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }

    /// What the whole image's diagnosis covered: `NotEvaluated` when no
    /// install could be judged, `Evaluated` when every install was and
    /// nothing on the disk went unread, `Partial` otherwise.
    pub fn status(&self) -> Status {
        let all = |s| self.coverage.iter().all(|c| c.status == s);
        if all(Status::NotEvaluated) {
            Status::NotEvaluated
        } else if all(Status::Evaluated) && self.unreadable.is_empty() {
            Status::Evaluated
        } else {
            Status::Partial
        }
    }
}

/// Analyses one image file, panics contained.
pub fn diagnose(path: &Path, knowledge: &Knowledge) -> Result<Diagnosis, CommandError> {
    diagnose_in(path, knowledge, Select::All)
}

/// [`diagnose`] of the volumes `select` picks (`-o`, `--partition`).
pub fn diagnose_in(
    path: &Path,
    knowledge: &Knowledge,
    select: Select,
) -> Result<Diagnosis, CommandError> {
    contained(path, || {
        if let Some(c) = super::collection::probe(path)? {
            super::collection::whole(path, select)?;
            return diagnose_collection(&c, knowledge);
        }
        let img = open_image(path)?;
        // The image's own name: a URL's is its redacted form.
        let mut d = diagnose_disk_in(
            img.disk.as_ref(),
            &img.path.display().to_string(),
            img.format,
            knowledge,
            select,
        )?;
        d.transfer = img.transfer();
        Ok(d)
    })
}

/// Analyses a disk already open (an image file, or bytes in memory for the
/// fuzz targets and benchmarks). `name` is how reports refer to it.
pub fn diagnose_disk(
    disk: &dyn Disk,
    name: &str,
    format: Format,
    knowledge: &Knowledge,
) -> Result<Diagnosis, CommandError> {
    diagnose_disk_in(disk, name, format, knowledge, Select::All)
}

/// [`diagnose_disk`] of the volumes `select` picks.
pub fn diagnose_disk_in(
    disk: &dyn Disk,
    name: &str,
    format: Format,
    knowledge: &Knowledge,
    select: Select,
) -> Result<Diagnosis, CommandError> {
    let partitions = open_volumes_in(disk, name, select)?;
    // Open every volume first: an install may name files on any of them.
    let opened: Vec<Opened<'_>> = partitions
        .par_iter()
        .enumerate()
        .map(|(index, part)| {
            let mut lost = Vec::new();
            let mut report = VolumeReport {
                index,
                partition: part.clone(),
                filesystem: None,
                version: None,
                label: None,
                cluster_size: None,
                error: None,
            };
            let vol = match fs::open(disk, part) {
                Ok(vol) => {
                    report.filesystem = Some(vol.kind().name());
                    report.version = vol.version();
                    report.label = vol.label();
                    report.cluster_size = Some(vol.cluster_size());
                    for (what, why) in vol.degraded() {
                        lost.push(Unreadable::new(&format!("volume #{index} {what}"), why));
                    }
                    Some(vol)
                }
                Err(e) => {
                    report.error = Some(e.to_string());
                    lost.push(Unreadable::new(
                        &format!("volume #{index} at offset {}", part.offset),
                        &e,
                    ));
                    None
                }
            };
            (report, vol, lost)
        })
        .collect();
    let volumes: Vec<Option<&dyn fs::Volume>> = opened.iter().map(|o| o.1.as_deref()).collect();
    let (dv, active) = DiskVolumes::of_disk(disk, &partitions, volumes);
    let reports: Vec<(VolumeReport, Vec<Unreadable>)> =
        opened.iter().map(|o| (o.0.clone(), o.2.clone())).collect();
    analyse_volumes(&dv, active, &reports, name, format, disk.size(), knowledge)
}

/// [`diagnose`] of a triage collection: each collected drive a volume,
/// lettered as the collection names it.
fn diagnose_collection(
    c: &crate::fs::collection::Collection,
    knowledge: &Knowledge,
) -> Result<Diagnosis, CommandError> {
    use super::collection as coll;
    let drives = coll::open(c)?;
    let mut reports = Vec::new();
    for (index, (drive, vol)) in drives.iter().enumerate() {
        let mut lost = Vec::new();
        let report = VolumeReport {
            index,
            partition: coll::partition(c, index, drive, vol),
            filesystem: vol.as_ref().ok().map(|v| fs::Volume::kind(v).name()),
            version: None,
            label: None,
            cluster_size: None,
            error: vol.as_ref().err().map(|e| e.to_string()),
        };
        match vol {
            Ok(v) => {
                for (what, why) in fs::Volume::degraded(v) {
                    lost.push(Unreadable::new(&format!("volume #{index} {what}"), why));
                }
            }
            Err(e) => lost.push(Unreadable::new(&format!("volume #{index}"), e)),
        }
        reports.push((report, lost));
    }
    let letters: Vec<char> = drives.iter().map(|(d, _)| d.letter).collect();
    let volumes = drives.iter().map(|(_, v)| coll::volume(v)).collect();
    let dv = DiskVolumes::collection(volumes, &letters);
    let name = c.path.display().to_string();
    let size = coll::size(c, &drives);
    let mut d = analyse_volumes(&dv, None, &reports, &name, coll::format(c), size, knowledge)?;
    // A story dates files by their times: here those are the copies'.
    for story in d.stories.iter_mut().flatten() {
        story.push_str(
            " (File times here are those of the collection's copies, which are the originals' only where the collector kept them; folders, and so update markers, have none.)",
        );
    }
    Ok(d)
}

/// Finds the installs on every volume of `dv` and runs the rules.
fn analyse_volumes(
    dv: &DiskVolumes,
    active: Option<usize>,
    opened: &[(VolumeReport, Vec<Unreadable>)],
    name: &str,
    format: Format,
    size: u64,
    knowledge: &Knowledge,
) -> Result<Diagnosis, CommandError> {
    let scope = knowledge.scope();
    // Volumes are independent: look for installs on them in parallel.
    let results: Vec<(VolumeReport, Vec<Install>, Vec<Unreadable>)> = opened
        .par_iter()
        .map(|(report, lost)| {
            let mut lost = lost.clone();
            let installs = windows::find_installs_on(dv, report.index, &scope, &mut lost);
            (report.clone(), installs, lost)
        })
        .collect();
    let mut volumes = Vec::new();
    let mut installs = Vec::new();
    let mut unreadable = Vec::new();
    for (v, i, u) in results {
        volumes.push(v);
        installs.extend(i);
        unreadable.extend(u);
    }
    let boot_entries = match windows::disk::find_boot_ini(dv, active, &mut unreadable) {
        Some((v, path, bytes)) => windows::disk::boot_entries(dv, v, &path, &bytes, &installs),
        None => Vec::new(),
    };
    if installs.is_empty() {
        let detail: String = unreadable
            .iter()
            .take(3)
            .map(|u| format!("; could not read {}: {}", u.path, u.reason))
            .collect();
        return Err(CommandError::NoInstall {
            image: name.to_string(),
            volumes: volumes.len(),
            detail,
        });
    }
    let coverage = installs
        .iter()
        .map(|i| analysis::assess(i, knowledge))
        .collect();
    let mut findings: Vec<Finding> = installs
        .iter()
        .flat_map(|i| analysis::analyse(i, knowledge))
        .collect();
    findings.sort_by(|a, b| {
        (b.severity, a.volume, &a.install, &a.rule, &a.paths)
            .cmp(&(a.severity, b.volume, &b.install, &b.rule, &b.paths))
    });
    let stories = installs
        .iter()
        .map(|i| {
            let own: Vec<&Finding> = findings
                .iter()
                .filter(|f| f.volume == i.volume && f.install == i.system_root)
                .collect();
            analysis::story::story(i, &own, knowledge)
        })
        .collect();
    let lockstep = installs
        .iter()
        .map(|i| analysis::rules::set_states(i, knowledge))
        .collect();
    unreadable.sort();
    unreadable.dedup();
    Ok(Diagnosis {
        image: name.to_string(),
        format,
        size,
        volumes,
        installs,
        coverage,
        stories,
        lockstep,
        findings,
        unreadable,
        rules_files: knowledge.user_files.clone(),
        boot_entries,
        transfer: None,
    })
}

/// A volume opened (or why not), with what it could not read.
type Opened<'d> = (
    VolumeReport,
    Option<Box<dyn fs::Volume + 'd>>,
    Vec<Unreadable>,
);
