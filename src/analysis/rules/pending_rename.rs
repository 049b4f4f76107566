//! pending-rename: IIS files are queued in PendingFileRenameOperations, so
//! the files on disk are not what the next boot loads (Q296861: chained
//! hotfixes without a restart can leave an older file).
//!
//! The queue is judged both ways: the lockstep comparison of
//! `lockstep-mismatch` runs on the files as they are and on the files as the
//! next boot leaves them (each rename's source, as read from disk, replaces
//! its destination; a delete removes its file), and the verdict says what the
//! boot does: `fixes`, `fixes-some`, `causes` (an error: the set is broken by
//! the restart), `unchanged`, or `not-checked` when a source the verdict
//! needs is missing or unreadable.

use std::collections::{BTreeMap, BTreeSet};

use super::files::{file_version, members};
use super::lockstep::{mismatched_files, Mismatched};
use super::{Context, Rule};
use crate::analysis::evidence::{MismatchEvidence, PendingEvidence, PendingPair};
use crate::analysis::{Finding, Severity};
use crate::windows::{Install, PeFile, SourceState};

pub struct PendingRename;

impl Rule for PendingRename {
    fn id(&self) -> &'static str {
        "pending-rename"
    }
    fn summary(&self) -> &'static str {
        "IIS files are queued in PendingFileRenameOperations; an error when the next boot would put a lockstep set out of step"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn severities(&self) -> Vec<Severity> {
        vec![Severity::Warning, Severity::Error]
    }
    fn references(&self) -> &'static [&'static str] {
        &["Q296861", "KB815062"]
    }
    fn evidence_keys(&self) -> &'static [&'static str] {
        &["pending", "pending_renames"]
    }
    fn check(&self, cx: &Context) -> Vec<Finding> {
        let install = cx.install;
        let names = cx.knowledge.interesting_files();
        // Operations, not the raw strings: a destination's `!` is no path.
        let hits: Vec<&str> = install
            .pending_operations
            .iter()
            .flat_map(|op| std::iter::once(op.source.as_str()).chain(op.destination.as_deref()))
            .filter(|p| named(p, &names))
            .collect();
        if hits.is_empty() {
            return Vec::new();
        }
        let judged = judge(cx, &names);
        let mut f = cx.finding(self);
        f.paths = Vec::new();
        for p in hits.iter().filter_map(|p| install.display_path(p)) {
            if !f.paths.contains(&p) {
                f.paths.push(p);
            }
        }
        f.message = format!(
            "IIS files are queued in PendingFileRenameOperations: the files on disk are not what the next boot will load; {}",
            judged.why
        );
        f.remedy = match judged.verdict {
            "causes" => "Do not restart yet: replace each queued source with the version the rest of its set is at (or remove the operation from PendingFileRenameOperations), then check again".into(),
            "not-checked" => "Before restarting, find out what queued the operations whose source could not be read (an interrupted hotfix or setup) and run it again, then check again".into(),
            "fixes" => "Restart once so the queued replacements complete (they bring the set into lockstep), then check again".into(),
            _ => "Restart once so the queued replacements complete (chained hotfixes without a restart can leave an older file: use QChain), then check again".into(),
        };
        if judged.verdict == "causes" {
            f.severity = Severity::Error;
        }
        f.evidence.pending = Some(judged);
        f.evidence.pending_renames = Some(install.pending_renames.clone());
        f.references = self.references().iter().map(|r| r.to_string()).collect();
        vec![f]
    }
}

/// Whether a queued path names a file the knowledge cares about.
fn named(raw: &str, names: &[String]) -> bool {
    let name = raw.rsplit('\\').next().unwrap_or("").to_ascii_lowercase();
    names.contains(&name)
}

fn lower(p: &str) -> String {
    p.to_ascii_lowercase()
}

/// The files as the next boot leaves them, every queued operation that
/// touches a named file, and what kept the verdict from being reached.
fn after_boot(cx: &Context, names: &[String]) -> (Vec<PeFile>, Vec<PendingPair>, Vec<String>) {
    let install = cx.install;
    let shown = |raw: &str| install.display_path(raw).unwrap_or_else(|| raw.to_string());
    let mut state: BTreeMap<String, PeFile> = install
        .files
        .iter()
        .map(|f| (lower(&f.path), f.clone()))
        .collect();
    let mut pairs = Vec::new();
    let mut unresolved = Vec::new();
    for op in &install.pending_operations {
        let dst_named = op.destination.as_deref().is_some_and(|d| named(d, names));
        if !named(&op.source, names) && !dst_named {
            continue;
        }
        let src = shown(&op.source);
        let dst = op.destination.as_deref().map(shown);
        let destination_version = dst
            .as_deref()
            .and_then(|d| state.get(&lower(d)))
            .and_then(file_version);
        // What is at the source when the operation runs: what an earlier
        // operation or the disk left there, else the file read for it.
        let read = install
            .pending_sources
            .iter()
            .find(|s| s.source == op.source);
        let (moving, source_state) = match state.remove(&lower(&src)) {
            Some(f) => (Some(f), "read".to_string()),
            None => match read.map(|r| &r.state) {
                Some(SourceState::Read(f)) => (Some((**f).clone()), "read".into()),
                Some(SourceState::Missing) => (None, "missing".into()),
                Some(SourceState::Unreadable(why)) => (None, format!("unreadable: {why}")),
                None => (None, "not read".into()),
            },
        };
        let source_version = moving.as_ref().and_then(file_version);
        if let Some(d) = &dst {
            match moving {
                Some(f) if state.contains_key(&lower(d)) && !op.replace_existing => {
                    // Without `!` the move fails on an existing file: both stay.
                    state.insert(lower(&src), f);
                }
                Some(f) => {
                    if dst_named && source_version.is_none() {
                        unresolved.push(format!("{src} has no readable version resource"));
                    }
                    state.insert(
                        lower(d),
                        PeFile {
                            path: d.clone(),
                            ..f
                        },
                    );
                }
                None if dst_named => unresolved.push(match source_state.as_str() {
                    "missing" => format!("{src} (the source of {d}) is not on disk"),
                    "not read" => format!("{src} (the source of {d}) was not read"),
                    why => format!("{src} (the source of {d}) is {why}"),
                }),
                None => {}
            }
        }
        pairs.push(PendingPair {
            destination: dst,
            destination_version,
            replace_existing: op.replace_existing,
            source: src,
            source_state: if op.destination.is_none() && source_state != "read" {
                "not read".into()
            } else {
                source_state
            },
            source_version,
        });
    }
    let files = state.into_values().collect();
    (files, pairs, unresolved)
}

/// The queue judged: the lockstep state now and after the next boot.
fn judge(cx: &Context, names: &[String]) -> PendingEvidence {
    let install = cx.install;
    let (files, operations, unresolved) = after_boot(cx, names);
    let mut files = files;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let kept: BTreeSet<String> = files.iter().map(|f| lower(&f.path)).collect();
    let after_install = Install {
        files,
        ..install.clone()
    };
    let now: Vec<MismatchEvidence> = mismatched_files(install, cx)
        .into_iter()
        .map(evidence)
        .collect();
    let mut after: Vec<MismatchEvidence> = mismatched_files(&after_install, cx)
        .into_iter()
        .map(evidence)
        .collect();
    // A member the boot deletes (or moves away) is out of step too.
    for f in lockstep_members(cx) {
        if !kept.contains(&lower(&f.path)) {
            after.push(MismatchEvidence {
                expected: file_version(f).map(|v| v.to_string()).unwrap_or_default(),
                path: f.path.clone(),
                version: None,
            });
        }
    }
    after.sort_by(|a, b| a.path.cmp(&b.path));
    let (verdict, why) = verdict(&now, &after, &unresolved);
    PendingEvidence {
        after,
        now,
        operations,
        verdict,
        why,
    }
}

fn evidence(m: Mismatched) -> MismatchEvidence {
    MismatchEvidence {
        expected: m.expected,
        path: m.path,
        version: m.version,
    }
}

/// Every file of the install in a lockstep set of an applicable family.
fn lockstep_members<'a>(cx: &Context<'a>) -> Vec<&'a PeFile> {
    let mut out: Vec<&PeFile> = cx
        .knowledge
        .lockstep
        .iter()
        .filter(|s| cx.families.iter().any(|f| f.id == s.family))
        .flat_map(|s| members(cx.install, &s.files))
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out.dedup_by(|a, b| a.path == b.path);
    out
}

fn describe(m: &MismatchEvidence) -> String {
    let name = m.path.rsplit('\\').next().unwrap_or(&m.path);
    match m.version {
        Some(v) => format!("{name} at {v} (its set is at {})", m.expected),
        None => format!("{name} deleted"),
    }
}

fn verdict(
    now: &[MismatchEvidence],
    after: &[MismatchEvidence],
    unresolved: &[String],
) -> (&'static str, String) {
    if !unresolved.is_empty() {
        return (
            "not-checked",
            format!(
                "what the next boot leaves could not be judged: {}",
                unresolved.join("; ")
            ),
        );
    }
    let paths =
        |v: &[MismatchEvidence]| -> BTreeSet<String> { v.iter().map(|m| lower(&m.path)).collect() };
    let (before, later) = (paths(now), paths(after));
    let list = |v: &[MismatchEvidence], keep: &dyn Fn(&String) -> bool| {
        v.iter()
            .filter(|m| keep(&lower(&m.path)))
            .map(describe)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let caused = list(after, &|p| !before.contains(p));
    if !caused.is_empty() {
        return (
            "causes",
            format!("the next boot would put its lockstep set out of step: {caused}"),
        );
    }
    let fixed = list(now, &|p| !later.contains(p));
    match (fixed.is_empty(), after.is_empty()) {
        (false, true) => (
            "fixes",
            format!("the next boot brings the lockstep sets into step: it replaces {fixed}"),
        ),
        (false, false) => (
            "fixes-some",
            format!(
                "the next boot replaces {fixed}, but {} stays out of step",
                list(after, &|_| true)
            ),
        ),
        (true, true) => (
            "unchanged",
            "the lockstep sets are in step now and stay so after the next boot".into(),
        ),
        (true, false) => (
            "unchanged",
            format!(
                "the next boot leaves {} out of step",
                list(after, &|_| true)
            ),
        ),
    }
}
