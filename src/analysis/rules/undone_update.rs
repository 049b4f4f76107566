//! undone-update: an offline Qfecheck (KB 282784). Windows 2000/XP/2003
//! record below `SOFTWARE\Microsoft\Updates` the version of every file each
//! update installed; a file on disk older than that version was not left as
//! the update put it. The record is evidence, the file's VS_FIXEDFILEINFO is
//! the truth (KB 888535): the finding says which update, when it was
//! installed, when the file was written and what follows from the order.
//!
//! A file written after the update's install time was put back by something
//! else (a component re-added from older media, a restore: KB Q291589). A
//! file last written before it, or on the recorded day when only the day is
//! known, is reported with the same severity but says what cannot be told
//! apart: the update never replaced it (an interrupted install, a record
//! without its files) or an older copy was put back keeping the time it was
//! built with. Either way the update's file is not what runs.
//!
//! Not reported: a file at a version an update on a separate numbering line
//! shipped (knowledge `numbering = "separate"`), or at exactly the version a
//! later-installed record lists for it: such versions are later builds
//! despite lower numbers.

use std::collections::BTreeMap;

use super::files::file_version;
use super::timeline::timeline;
use super::{dedup, Context, Rule};
use crate::analysis::evidence::{FileEvidence, UpdateRecordEvidence};
use crate::analysis::knowledge::Numbering;
use crate::analysis::{Finding, Severity};
use crate::pe::Version;
use crate::time::FileTime;
use crate::windows::{Install, PeFile, UpdateFile, UpdateRecord};

pub struct UndoneUpdate;

impl Rule for UndoneUpdate {
    fn id(&self) -> &'static str {
        "undone-update"
    }
    fn summary(&self) -> &'static str {
        "a file is older than the version its recorded update (SOFTWARE\\Microsoft\\Updates Filelist) installed"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn references(&self) -> &'static [&'static str] {
        &["KB282784", "KB888535", "Q291589"]
    }
    fn evidence_keys(&self) -> &'static [&'static str] {
        &["file", "expected_version", "update_record", "timeline"]
    }
    fn check(&self, cx: &Context) -> Vec<Finding> {
        // Per file path, the record that wants the most of it (the latest
        // installed among equals).
        let mut undone: BTreeMap<&str, Undone> = BTreeMap::new();
        for record in &cx.install.updates {
            for entry in &record.files {
                let Some(want) = entry.version else { continue };
                let Some(file) = on_disk(cx.install, entry) else {
                    continue;
                };
                let Some(have) = file_version(file) else {
                    continue;
                };
                if have >= want || later_build(cx, record, file, have) {
                    continue;
                }
                let better = match undone.get(file.path.as_str()) {
                    None => true,
                    Some(u) => {
                        (want, record.install_time().map(|t| t.at))
                            > (u.want, u.record.install_time().map(|t| t.at))
                    }
                };
                if better {
                    undone.insert(
                        &file.path,
                        Undone {
                            file,
                            record,
                            entry,
                            want,
                            have,
                        },
                    );
                }
            }
        }
        undone.values().map(|u| finding(self, cx, u)).collect()
    }
}

struct Undone<'a> {
    file: &'a PeFile,
    record: &'a UpdateRecord,
    entry: &'a UpdateFile,
    want: Version,
    have: Version,
}

/// The examined file a Filelist entry names: by its resolved path, or, when
/// the entry has no usable `Location`, the one examined file of that name.
fn on_disk<'a>(install: &'a Install, entry: &UpdateFile) -> Option<&'a PeFile> {
    if let Some(path) = &entry.path {
        return install
            .files
            .iter()
            .find(|f| f.path.eq_ignore_ascii_case(path));
    }
    let name = entry.name.as_deref()?;
    let mut same = install
        .files
        .iter()
        .filter(|f| f.name().eq_ignore_ascii_case(name));
    match (same.next(), same.next()) {
        (Some(f), None) => Some(f),
        _ => None,
    }
}

/// A version lower by number that is a later build: one an update on a
/// separate numbering line shipped of the file, or exactly what a record
/// installed after `record` lists for it.
fn later_build(cx: &Context, record: &UpdateRecord, file: &PeFile, have: Version) -> bool {
    let separate = cx
        .knowledge
        .update
        .iter()
        .any(|u| u.numbering == Numbering::Separate && u.shipped(file.name()) == Some(have));
    let installed = record.install_time().map(|t| t.at);
    let later_record = cx.install.updates.iter().any(|o| {
        o.key != record.key
            && o.install_time().map(|t| t.at) > installed
            && o.files.iter().any(|f| {
                f.version == Some(have)
                    && f.name
                        .as_deref()
                        .is_some_and(|n| n.eq_ignore_ascii_case(file.name()))
            })
    });
    separate || later_record
}

/// When the file was put where it is: the later of its last-written and
/// creation times (a copy keeps the time it was built with as its
/// last-written time and gets a new creation time).
fn landed(file: &PeFile) -> Option<(FileTime, &'static str)> {
    match (file.modified, file.created) {
        (Some(m), Some(c)) if c.whole_seconds() > m.whole_seconds() => Some((c, "copied there")),
        (Some(m), _) => Some((m, "written")),
        (None, Some(c)) => Some((c, "copied there")),
        (None, None) => None,
    }
}

fn day(t: FileTime) -> String {
    t.to_string().get(..10).unwrap_or_default().to_string()
}

fn finding(rule: &UndoneUpdate, cx: &Context, u: &Undone) -> Finding {
    let (file, record) = (u.file, u.record);
    let name = file.name();
    let install = record.install_time();
    let after = match (landed(file), install) {
        (Some((t, _)), Some(i)) if i.precise => Some(t.whole_seconds() > i.at.whole_seconds()),
        (Some((t, _)), Some(i)) => {
            // Only the day is recorded: a file of that same day cannot be
            // ordered against it.
            let (d, i) = (day(t), day(i.at));
            (d != i).then_some(d > i)
        }
        _ => None,
    };
    let on = install
        .map(|i| format!(" on {}", day(i.at)))
        .unwrap_or_default();
    let mut f = cx.finding(rule);
    f.paths = vec![file.path.clone()];
    f.message = match (after, landed(file)) {
        (Some(true), Some((t, how))) => format!(
            "{name} was {how} {}, after {} installed {}{on}: something put an older file back ({name} is at {})",
            day(t),
            record.id,
            u.want,
            u.have
        ),
        (Some(false), Some((t, _))) => format!(
            "{name} is at {}, older than the {} that {} recorded installing{on}, and was last written {}, before that: the update never replaced it (an interrupted install, or a record without its files) or an older copy kept the time it was built with; either way the update's {name} is not the one on disk",
            u.have,
            u.want,
            record.id,
            day(t)
        ),
        (None, Some((t, _))) if install.is_some() => format!(
            "{name} is at {}, older than the {} that {} recorded installing{on}; it was last written {}, the same day, so which came first cannot be told",
            u.have,
            u.want,
            record.id,
            day(t)
        ),
        _ => format!(
            "{name} is at {}, older than the {} that {} recorded installing{on}; no time orders the two",
            u.have, u.want, record.id
        ),
    };
    f.evidence.file = Some(FileEvidence::of(file));
    f.evidence.expected_version = Some(u.want.to_string());
    f.evidence.update_record = Some(UpdateRecordEvidence {
        description: record.description.clone(),
        file_written_after_install: after,
        id: record.id.clone(),
        install_time: install.map(|i| i.at),
        install_time_precise: install.map(|i| i.precise),
        installed_date: record.installed_date.clone(),
        key: record.key.clone(),
        last_written: record.last_written,
        location: u.entry.location.clone(),
        pack: record.pack.clone(),
        product: record.product.clone(),
        recorded_version: u
            .entry
            .version_string
            .clone()
            .unwrap_or_else(|| u.want.to_string()),
    });
    f.evidence.timeline = Some(timeline(cx.install, file, &[]));
    let what = cx
        .knowledge
        .update_records
        .as_ref()
        .map(|r| r.remedy.clone())
        .unwrap_or_else(|| "Reapply the update the record names".into());
    let title = record
        .description
        .as_deref()
        .map(|d| format!(" ({d})"))
        .unwrap_or_default();
    f.remedy = format!(
        "{} {what}: {}{title}, so that {name} is back at {} or later.",
        cx.remedy(),
        record.id,
        u.want
    );
    f.references = rule.references().iter().map(|r| r.to_string()).collect();
    if let Some(r) = &cx.knowledge.update_records {
        f.references.extend(r.references.iter().cloned());
    }
    let id = record.id.to_ascii_uppercase();
    let numbered = |p: &str| {
        id.strip_prefix(p)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    if numbered("Q") || numbered("KB") {
        f.references.push(record.id.clone());
    }
    dedup(&mut f.references);
    f
}
