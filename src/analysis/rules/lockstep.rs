//! lockstep-mismatch and lockstep-newer: one comparison of each lockstep
//! set's members with the version most of the set is at (KB Q291589). A
//! member below it is a mismatch; a member above it is newer, which a
//! recorded single-file hotfix can explain.

use std::collections::BTreeMap;

use super::files::{file_version, members};
use super::timeline::timeline;
use super::{dedup, Context, Rule};
use crate::analysis::evidence::{ExplainedBy, FileEvidence, SetEvidence};
use crate::analysis::knowledge::{Compare, Hotfix, Knowledge, Lockstep};
use crate::analysis::{Finding, Severity};
use crate::pe::Version;
use crate::windows::{Install, PeFile};

const EVIDENCE: &[&str] = &["file", "expected_version", "sets", "timeline"];

pub struct LockstepMismatch;

impl Rule for LockstepMismatch {
    fn id(&self) -> &'static str {
        "lockstep-mismatch"
    }
    fn summary(&self) -> &'static str {
        "a file of a lockstep set is older than the version most of its set is at"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn references(&self) -> &'static [&'static str] {
        &["Q291589"]
    }
    fn evidence_keys(&self) -> &'static [&'static str] {
        EVIDENCE
    }
    fn check(&self, cx: &Context) -> Vec<Finding> {
        let (older, _) = odd_members(cx);
        older
            .values()
            .map(|odds| mismatch(self, cx, odds))
            .collect()
    }
}

pub struct LockstepNewer;

impl Rule for LockstepNewer {
    fn id(&self) -> &'static str {
        "lockstep-newer"
    }
    fn summary(&self) -> &'static str {
        "a file is newer than its lockstep set; info when a recorded hotfix shipped it at that version"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn severities(&self) -> Vec<Severity> {
        vec![Severity::Info, Severity::Warning]
    }
    fn references(&self) -> &'static [&'static str] {
        &["Q291589"]
    }
    fn evidence_keys(&self) -> &'static [&'static str] {
        &[
            "file",
            "expected_version",
            "sets",
            "timeline",
            "explained_by",
        ]
    }
    fn check(&self, cx: &Context) -> Vec<Finding> {
        let (_, newer) = odd_members(cx);
        newer
            .values()
            .map(|odds| newer_finding(self, cx, odds))
            .collect()
    }
}

/// How one file disagrees with one lockstep set.
struct Odd<'a> {
    file: &'a PeFile,
    set: &'a Lockstep,
    reference: [u16; 4],
    peers: Vec<&'a PeFile>,
}

/// Files by path: the sets each is older than, and those it is newer than.
type Odds<'a> = BTreeMap<String, Vec<Odd<'a>>>;

fn key(v: Version, compare: Compare) -> [u16; 4] {
    match compare {
        Compare::Full => v.0,
        Compare::Build => [v.0[0], v.0[1], v.0[2], 0],
    }
}

fn key_str(k: [u16; 4], compare: Compare) -> String {
    match compare {
        Compare::Full => Version(k).to_string(),
        Compare::Build => format!("{}.{}.{}.x", k[0], k[1], k[2]),
    }
}

/// Compares every applicable set's members with the set's reference version.
fn odd_members<'a>(cx: &Context<'a>) -> (Odds<'a>, Odds<'a>) {
    odd_members_of(cx.install, cx)
}

/// A file older than the version most of its lockstep set is at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Mismatched {
    pub path: String,
    pub version: Option<Version>,
    /// The set's version (`4.2.769.1`, `5.0.2195.x`).
    pub expected: String,
}

/// The files of `install` that `lockstep-mismatch` names, by path: the same
/// comparison on any state of the files (the one on disk, or the one the
/// next boot leaves after the pending renames).
pub(super) fn mismatched_files(install: &Install, cx: &Context) -> Vec<Mismatched> {
    let (older, _) = odd_members_of(install, cx);
    older
        .into_values()
        .map(|odds| Mismatched {
            path: odds[0].file.path.clone(),
            version: file_version(odds[0].file),
            expected: key_str(odds[0].reference, odds[0].set.compare),
        })
        .collect()
}

fn odd_members_of<'a>(install: &'a Install, cx: &Context<'a>) -> (Odds<'a>, Odds<'a>) {
    let mut older = Odds::new();
    let mut newer = Odds::new();
    for c in compare_sets(install, cx) {
        let Some(reference) = c.reference else {
            continue;
        };
        for (file, v) in &c.present {
            if *v == reference {
                continue;
            }
            let odd = Odd {
                file,
                set: c.set,
                reference,
                peers: c
                    .present
                    .iter()
                    .filter(|(p, _)| p.path != file.path)
                    .map(|(p, _)| *p)
                    .collect(),
            };
            let bucket = if *v < reference {
                &mut older
            } else {
                &mut newer
            };
            bucket.entry(file.path.clone()).or_default().push(odd);
        }
    }
    (older, newer)
}

/// One applicable lockstep set as the rules compare it.
struct Compared<'a> {
    set: &'a Lockstep,
    /// Members with a version, each with its comparison key.
    present: Vec<(&'a PeFile, [u16; 4])>,
    /// The version most of the set is at; `None` with fewer than two
    /// members to compare.
    reference: Option<[u16; 4]>,
}

/// Every lockstep set of the families that apply, with its reference.
fn compare_sets<'a>(install: &'a Install, cx: &Context<'a>) -> Vec<Compared<'a>> {
    let k = cx.knowledge;
    let sets: Vec<&Lockstep> = k
        .lockstep
        .iter()
        .filter(|s| cx.families.iter().any(|f| f.id == s.family))
        .collect();
    let mut family_files: Vec<&PeFile> = sets
        .iter()
        .flat_map(|s| members(install, &s.files))
        .collect();
    family_files.sort_by(|a, b| a.path.cmp(&b.path));
    family_files.dedup_by(|a, b| a.path == b.path);
    let family_votes = |v: [u16; 4], compare: Compare| {
        family_files
            .iter()
            .filter_map(|f| file_version(f))
            .filter(|fv| key(*fv, compare) == v)
            .count()
    };
    let mut out = Vec::new();
    for set in sets {
        let present: Vec<(&PeFile, [u16; 4])> = members(install, &set.files)
            .filter_map(|f| Some((f, key(file_version(f)?, set.compare))))
            .collect();
        if present.len() < 2 {
            out.push(Compared {
                set,
                present,
                reference: None,
            });
            continue;
        }
        // The reference is the version most members share (a tie goes to
        // the newest), counting only members not updated alone by a recorded
        // hotfix: a single-file hotfix legitimately moves one member ahead.
        let mut counts: BTreeMap<[u16; 4], usize> = BTreeMap::new();
        let voters: Vec<_> = present
            .iter()
            .filter(|(f, _)| !updated_alone(install, k, set, f))
            .collect();
        let voters = if voters.is_empty() {
            present.iter().collect()
        } else {
            voters
        };
        for (_, v) in voters {
            *counts.entry(*v).or_default() += 1;
        }
        // Ties break by how many files of all this family's sets share the
        // version, then by the newest: two disagreeing files of a small set
        // are judged by what their wider family says.
        let reference = counts
            .iter()
            .max_by_key(|(v, n)| (**n, family_votes(**v, set.compare), **v))
            .map(|(v, _)| *v)
            .unwrap_or_default();
        out.push(Compared {
            set,
            present,
            reference: Some(reference),
        });
    }
    out
}

/// One lockstep set of an install as the rules compared it: what a report
/// draws as a version matrix (files × versions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetState {
    pub id: String,
    pub name: String,
    /// `full` (all four numbers) or `build` (revisions may differ).
    pub compare: &'static str,
    /// The version most of the set is at (`4.2.769.1`, `5.0.2195.x`);
    /// `None` when fewer than two members have a version to compare.
    pub reference: Option<String>,
    /// The members found, by path.
    pub members: Vec<SetMember>,
    /// Names of the set no file was found for among those read.
    pub not_found: Vec<String>,
    pub why: String,
    pub references: Vec<String>,
}

/// A member of a lockstep set and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetMember {
    pub path: String,
    pub version: Option<Version>,
    /// The version as the set compares it (`5.0.2195.x` for `build`);
    /// `None` without a version resource.
    pub column: Option<String>,
    pub standing: Standing,
}

/// Where a member stands against its set's reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Standing {
    /// At the reference.
    InStep,
    /// Older: `lockstep-mismatch`.
    Older,
    /// Newer: `lockstep-newer`.
    Newer,
    /// Not compared: no version, or too few members to compare.
    NotCompared,
}

impl Standing {
    /// `in-step`, `older`, `newer`, `not-compared`.
    pub fn id(self) -> &'static str {
        match self {
            Standing::InStep => "in-step",
            Standing::Older => "older",
            Standing::Newer => "newer",
            Standing::NotCompared => "not-compared",
        }
    }
}

/// The lockstep sets that apply to `install`, each member placed against
/// the reference the rules use.
pub fn set_states(install: &Install, knowledge: &Knowledge) -> Vec<SetState> {
    let cx = Context::new(install, knowledge);
    compare_sets(install, &cx)
        .into_iter()
        .map(|c| {
            let compare = c.set.compare;
            let mut placed: Vec<SetMember> = members(install, &c.set.files)
                .map(|f| {
                    let v = file_version(f);
                    let k = v.map(|v| key(v, compare));
                    let standing = match (k, c.reference) {
                        (Some(k), Some(r)) if k == r => Standing::InStep,
                        (Some(k), Some(r)) if k < r => Standing::Older,
                        (Some(_), Some(_)) => Standing::Newer,
                        _ => Standing::NotCompared,
                    };
                    SetMember {
                        path: f.path.clone(),
                        version: v,
                        column: k.map(|k| key_str(k, compare)),
                        standing,
                    }
                })
                .collect();
            placed.sort_by(|a, b| a.path.cmp(&b.path));
            let not_found = c
                .set
                .files
                .iter()
                .filter(|n| members(install, std::slice::from_ref(*n)).next().is_none())
                .cloned()
                .collect();
            SetState {
                id: c.set.id.clone(),
                name: c.set.name.clone(),
                compare: match compare {
                    Compare::Full => "full",
                    Compare::Build => "build",
                },
                reference: c.reference.map(|r| key_str(r, compare)),
                members: placed,
                not_found,
                why: c.set.why.clone(),
                references: c.set.references.clone(),
            }
        })
        .collect()
}

/// A recorded hotfix that shipped `file` at exactly its version.
fn shipped_by<'k>(install: &Install, k: &'k Knowledge, file: &PeFile) -> Option<&'k Hotfix> {
    let v = file_version(file)?;
    k.hotfix.iter().find(|h| {
        h.version == v
            && h.files.iter().any(|f| f.eq_ignore_ascii_case(file.name()))
            && recorded(install, h)
    })
}

fn recorded(install: &Install, h: &Hotfix) -> bool {
    install
        .hotfixes
        .iter()
        .any(|r| r.id.eq_ignore_ascii_case(&h.kb))
}

/// True when a hotfix recorded as installed shipped `file` at exactly its
/// version without any other member of `set`.
fn updated_alone(install: &Install, k: &Knowledge, set: &Lockstep, file: &PeFile) -> bool {
    let Some(v) = file_version(file) else {
        return false;
    };
    k.hotfix.iter().any(|h| {
        h.version == v
            && h.files.iter().any(|f| f.eq_ignore_ascii_case(file.name()))
            && !h.files.iter().any(|f| {
                !f.eq_ignore_ascii_case(file.name())
                    && set.files.iter().any(|m| m.eq_ignore_ascii_case(f))
            })
            && recorded(install, h)
    })
}

/// What both rules say of a file: its version, the set's, the peers' names.
struct Facts<'a> {
    file: &'a PeFile,
    version: String,
    reference: String,
    peer_names: String,
}

/// The finding both rules start from: path, evidence and references.
fn start<'a>(rule: &dyn Rule, cx: &Context, odds: &'a [Odd]) -> (Finding, Facts<'a>) {
    let first = &odds[0];
    let file = first.file;
    let reference = key_str(first.reference, first.set.compare);
    let mut f = cx.finding(rule);
    f.paths = vec![file.path.clone()];
    f.evidence.file = Some(FileEvidence::of(file));
    f.evidence.expected_version = Some(reference.clone());
    f.evidence.sets = Some(
        odds.iter()
            .map(|o| SetEvidence {
                compared_with: o.peers.iter().map(|p| FileEvidence::of(p)).collect(),
                id: o.set.id.clone(),
                name: o.set.name.clone(),
                reference_version: key_str(o.reference, o.set.compare),
                why: o.set.why.clone(),
            })
            .collect(),
    );
    f.evidence.timeline = Some(timeline(cx.install, file, &first.peers));
    f.references = odds
        .iter()
        .flat_map(|o| o.set.references.iter().cloned())
        .collect();
    let os = cx
        .install
        .os
        .version
        .as_deref()
        .and_then(|v| cx.knowledge.os(v));
    f.references
        .extend(os.iter().flat_map(|o| o.references.iter().cloned()));
    dedup(&mut f.references);
    let facts = Facts {
        file,
        version: file_version(file)
            .map(|v| v.to_string())
            .unwrap_or_default(),
        reference,
        // A name once: a 64-bit OS holds a System32 and a SysWOW64 copy.
        peer_names: {
            let mut seen = std::collections::HashSet::new();
            first
                .peers
                .iter()
                .map(|p| p.name())
                .filter(|n| seen.insert(n.to_ascii_lowercase()))
                .collect::<Vec<_>>()
                .join(", ")
        },
    };
    (f, facts)
}

fn mismatch(rule: &LockstepMismatch, cx: &Context, odds: &[Odd]) -> Finding {
    let (mut f, x) = start(rule, cx, odds);
    f.message = format!(
        "{} is at {} while the rest of the {} ({}) is at {}",
        x.file.name(),
        x.version,
        odds[0].set.name,
        x.peer_names,
        x.reference
    );
    if let Some(story) = added_after_service_pack(cx.install, x.file) {
        f.message.push_str(&format!("; {story}"));
    }
    f.remedy = cx.remedy();
    f
}

/// Newer than its set: legitimate when a recorded hotfix shipped this file
/// at exactly this version.
fn newer_finding(rule: &LockstepNewer, cx: &Context, odds: &[Odd]) -> Finding {
    let (mut f, x) = start(rule, cx, odds);
    let set = &odds[0].set.name;
    match shipped_by(cx.install, cx.knowledge, x.file) {
        Some(h) => {
            f.severity = Severity::Info;
            f.message = format!(
                "{} is at {}, newer than the rest of the {set} ({}): hotfix {} ({}) shipped it at this version and is recorded as installed",
                x.file.name(), x.version, x.reference, h.kb, h.title
            );
            f.evidence.explained_by = Some(ExplainedBy {
                kb: h.kb.clone(),
                title: h.title.clone(),
            });
            f.references.push(h.kb.clone());
            f.remedy = "None needed.".into();
        }
        None => {
            f.message = format!(
                "{} is at {}, newer than the rest of the {set} ({}) at {}, and no recorded hotfix ships it at this version",
                x.file.name(), x.version, x.peer_names, x.reference
            );
            f.remedy = cx.remedy();
        }
    }
    f
}

/// "written after the service pack was applied" when the timestamps say so.
fn added_after_service_pack(install: &Install, file: &PeFile) -> Option<String> {
    let modified = file.modified?;
    let sp = install
        .markers
        .iter()
        .filter(|m| {
            m.path
                .to_ascii_lowercase()
                .ends_with("$ntservicepackuninstall$")
        })
        .filter_map(|m| m.created)
        .max()?;
    (modified > sp).then(|| {
        format!(
            "it was last written {modified}, after the service pack was applied ({sp}): a component added or reinstalled after the service pack, which was not reapplied"
        )
    })
}
