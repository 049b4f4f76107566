//! behind-update: an update's own versions on an install prove it (or a
//! later update that kept those files) was applied, so every other file the
//! same update shipped must be at least at the update's version of it. A
//! file below that was put back by something else (KB Q291589). This closes
//! the blind spot of sets compared by build only (IIS 5's 5.0.2195 line).
//!
//! Safe by construction: an update counts as applied only when two or more
//! of its files sit at versions no other known update shipped of them (a
//! version a later update carried over unchanged proves nothing), only files
//! that update's own table lists are compared, with the version it shipped
//! of each (one update's files legitimately differ in revision), and a file
//! at a version an update on a separate numbering line shipped is not
//! called older by number.

use std::collections::BTreeMap;

use super::files::{file_version, on_version_line};
use super::timeline::timeline;
use super::{dedup, Context, Rule};
use crate::analysis::evidence::{FileEvidence, UpdateEvidence};
use crate::analysis::knowledge::{Family, Knowledge, Numbering, Update};
use crate::analysis::{Finding, Severity};
use crate::pe::Version;
use crate::windows::{Install, PeFile};

/// How many files must carry an update's own versions before it counts as applied.
const MIN_PROOF: usize = 2;

pub struct BehindUpdate;

impl Rule for BehindUpdate {
    fn id(&self) -> &'static str {
        "behind-update"
    }
    fn summary(&self) -> &'static str {
        "a file is older than the version an update shipped it at, while its peers carry versions only that update shipped"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn references(&self) -> &'static [&'static str] {
        &["Q291589"]
    }
    fn evidence_keys(&self) -> &'static [&'static str] {
        &["file", "expected_version", "update", "timeline"]
    }
    fn check(&self, cx: &Context) -> Vec<Finding> {
        // Per file path, the applied update that wants the most of it.
        let mut behind: BTreeMap<String, Behind> = BTreeMap::new();
        for family in &cx.families {
            for u in cx
                .knowledge
                .update
                .iter()
                .filter(|u| u.family == family.id && u.numbering == Numbering::Main)
            {
                let proof = proof(cx.install, cx.knowledge, u);
                let mut names: Vec<String> = proof
                    .iter()
                    .map(|f| f.name().to_ascii_lowercase())
                    .collect();
                names.sort();
                names.dedup();
                if names.len() < MIN_PROOF {
                    continue;
                }
                for file in update_files(cx.install, u) {
                    let (Some(have), Some(want)) = (file_version(file), u.shipped(file.name()))
                    else {
                        continue;
                    };
                    if have >= want
                        || !on_version_line(&have, &family.version_line)
                        || separately_numbered(cx.knowledge, file.name(), have)
                    {
                        continue;
                    }
                    if behind.get(&file.path).is_some_and(|b| b.want >= want) {
                        continue;
                    }
                    let b = Behind {
                        file,
                        family,
                        update: u,
                        want,
                        proof: proof.clone(),
                    };
                    behind.insert(file.path.clone(), b);
                }
            }
        }
        behind.values().map(|b| finding(self, cx, b)).collect()
    }
}

/// A file left behind an applied update.
struct Behind<'a> {
    file: &'a PeFile,
    family: &'a Family,
    update: &'a Update,
    want: Version,
    proof: Vec<&'a PeFile>,
}

fn update_files<'a, 'u>(
    install: &'a Install,
    u: &'u Update,
) -> impl Iterator<Item = &'a PeFile> + use<'a, 'u> {
    install
        .files
        .iter()
        .filter(move |f| u.shipped(f.name()).is_some())
}

/// The install's files at exactly the version `u`, and no other known
/// update, shipped of them.
fn proof<'a>(install: &'a Install, k: &Knowledge, u: &Update) -> Vec<&'a PeFile> {
    update_files(install, u)
        .filter(|f| {
            let (Some(have), Some(shipped)) = (file_version(f), u.shipped(f.name())) else {
                return false;
            };
            have == shipped
                && !k.update.iter().any(|o| {
                    !(o.kb == u.kb && o.family == u.family) && o.shipped(f.name()) == Some(have)
                })
        })
        .collect()
}

/// Whether an update on a separate numbering line shipped `name` at `v`:
/// such a version may be later than a higher-numbered one.
fn separately_numbered(k: &Knowledge, name: &str, v: Version) -> bool {
    k.update
        .iter()
        .any(|u| u.numbering == Numbering::Separate && u.shipped(name) == Some(v))
}

fn finding(rule: &BehindUpdate, cx: &Context, b: &Behind) -> Finding {
    let (file, u) = (b.file, b.update);
    let have = file_version(file)
        .map(|v| v.to_string())
        .unwrap_or_default();
    let mut proof: Vec<&PeFile> = b.proof.clone();
    proof.sort_by(|x, y| x.path.cmp(&y.path));
    let peers = proof
        .iter()
        .map(|p| {
            let v = file_version(p).map(|v| v.to_string()).unwrap_or_default();
            format!("{} {v}", p.name())
        })
        .collect::<Vec<_>>()
        .join(", ");
    let mut f = cx.finding(rule);
    f.paths = vec![file.path.clone()];
    f.message = format!(
        "{} is at {have}, older than the {} that update {} ({}) shipped; {peers} carry versions only that update shipped, so it was applied and {} was put back afterwards",
        file.name(),
        b.want,
        u.label(),
        u.title,
        file.name()
    );
    f.evidence.file = Some(FileEvidence::of(file));
    f.evidence.expected_version = Some(b.want.to_string());
    f.evidence.update = Some(UpdateEvidence {
        bulletin: u.bulletin.clone(),
        kb: u.kb.clone(),
        proven_by: proof.iter().map(|p| FileEvidence::of(p)).collect(),
        title: u.title.clone(),
    });
    f.evidence.timeline = Some(timeline(cx.install, file, &proof));
    f.remedy = format!(
        "{} Then reapply {} so that {} is back at {} or later.",
        cx.remedy(),
        u.label(),
        file.name(),
        b.want
    );
    f.references = u.references.clone();
    f.references.extend(b.family.references.iter().cloned());
    f.references.push("Q291589".into());
    dedup(&mut f.references);
    f
}
