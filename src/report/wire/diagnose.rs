//! `verskew.diagnose/1`: one object per image.

use serde::Serialize;

use super::disk::Partition;
use super::info::{remote, Remote};
use super::install::Install;
use super::{list, Shown};
use crate::analysis::{self, Evidence, Severity};
use crate::commands::diagnose::{self as model, VolumeReport};
use crate::report::{DIAGNOSE_SCHEMA, TOOL_VERSION};

#[derive(Serialize)]
pub(in crate::report) struct Diagnosis<'a> {
    schema: &'static str,
    tool_version: &'static str,
    image: &'a str,
    format: Shown<'a>,
    size: u64,
    /// Only for an image read over HTTP.
    #[serde(skip_serializing_if = "Option::is_none")]
    remote: Option<Remote>,
    /// `evaluated`, `partial` or `not-evaluated`: how much of the image the
    /// rules could judge (see `installs[].coverage`).
    status: &'static str,
    volumes: Vec<Volume<'a>>,
    installs: Vec<Install<'a>>,
    findings: Vec<Finding<'a>>,
    unreadable: Vec<Unreadable<'a>>,
    rules_files: Vec<RulesFile<'a>>,
    summary: Summary,
    /// What each boot.ini line starts: only on images with more than one
    /// volume read.
    #[serde(skip_serializing_if = "Option::is_none")]
    boot_entries: Option<Vec<BootEntry<'a>>>,
}

/// `boot_entries[]`: one `[operating systems]` line of the boot partition's boot.ini.
#[derive(Serialize)]
struct BootEntry<'a> {
    /// Index in `volumes` of the volume holding boot.ini.
    volume: usize,
    path: &'a str,
    line: usize,
    arc: &'a str,
    description: &'a str,
    default: bool,
    partition: Option<u32>,
    /// Index in `volumes` of the partition the ARC path names.
    target_volume: Option<usize>,
    /// Index in `installs` of the install it starts.
    install: Option<usize>,
    note: Option<&'a str>,
}

/// A `--rules` file and its digest.
#[derive(Serialize)]
struct RulesFile<'a> {
    path: &'a str,
    sha256: &'a str,
}

impl<'a> From<&'a model::Diagnosis> for Diagnosis<'a> {
    fn from(d: &'a model::Diagnosis) -> Self {
        let count = |s| d.findings.iter().filter(|f| f.severity == s).count();
        Diagnosis {
            schema: DIAGNOSE_SCHEMA,
            tool_version: TOOL_VERSION,
            image: &d.image,
            format: Shown(&d.format),
            size: d.size,
            remote: remote!(d.transfer),
            status: d.status().id(),
            volumes: list(&d.volumes),
            installs: d
                .installs
                .iter()
                .zip(&d.coverage)
                .enumerate()
                .map(|(n, (i, c))| {
                    let story = d.stories.get(n).and_then(Option::as_deref);
                    Install::new(i, c, story, d.multi_volume())
                })
                .collect(),
            findings: list(&d.findings),
            unreadable: list(&d.unreadable),
            rules_files: d
                .rules_files
                .iter()
                .map(|r| RulesFile {
                    path: &r.path,
                    sha256: &r.sha256,
                })
                .collect(),
            summary: Summary {
                errors: count(Severity::Error),
                warnings: count(Severity::Warning),
                info: count(Severity::Info),
            },
            boot_entries: d.multi_volume().then(|| {
                d.boot_entries
                    .iter()
                    .map(|e| BootEntry {
                        volume: e.volume,
                        path: &e.path,
                        line: e.line,
                        arc: &e.arc,
                        description: &e.description,
                        default: e.default,
                        partition: e.partition,
                        target_volume: e.target_volume,
                        install: e.install,
                        note: e.note.as_deref(),
                    })
                    .collect()
            }),
        }
    }
}

#[derive(Serialize)]
struct Volume<'a> {
    index: usize,
    partition: Partition<'a>,
    /// The filesystem's version: "1.2", "3.0", "3.1" for NTFS, the FAT type
    /// ("FAT12", "FAT16", "FAT32") for FAT; null when unknown.
    filesystem_version: Option<&'a str>,
    label: Option<&'a str>,
    cluster_size: Option<u32>,
    error: Option<&'a str>,
}

impl<'a> From<&'a VolumeReport> for Volume<'a> {
    fn from(v: &'a VolumeReport) -> Self {
        Volume {
            index: v.index,
            partition: super::disk::partition!(&v.partition),
            filesystem_version: v.version.as_deref(),
            label: v.label.as_deref(),
            cluster_size: v.cluster_size,
            error: v.error.as_deref(),
        }
    }
}

#[derive(Serialize)]
struct Finding<'a> {
    rule: &'a str,
    severity: Shown<'a>,
    install: &'a str,
    volume: usize,
    paths: &'a [String],
    message: &'a str,
    /// Typed by the analysis, which owns each rule's evidence keys (README rule table).
    evidence: &'a Evidence,
    remedy: &'a str,
    references: &'a [String],
}

impl<'a> From<&'a analysis::Finding> for Finding<'a> {
    fn from(f: &'a analysis::Finding) -> Self {
        Finding {
            rule: &f.rule,
            severity: Shown(&f.severity),
            install: &f.install,
            volume: f.volume,
            paths: &f.paths,
            message: &f.message,
            evidence: &f.evidence,
            remedy: &f.remedy,
            references: &f.references,
        }
    }
}

#[derive(Serialize)]
struct Unreadable<'a> {
    path: &'a str,
    reason: &'a str,
}

impl<'a> From<&'a crate::Unreadable> for Unreadable<'a> {
    fn from(u: &'a crate::Unreadable) -> Self {
        Unreadable {
            path: &u.path,
            reason: &u.reason,
        }
    }
}

#[derive(Serialize)]
struct Summary {
    errors: usize,
    warnings: usize,
    info: usize,
}
