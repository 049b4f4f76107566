//! The story of one install: one paragraph that puts the dated facts in
//! order (the service pack, the updates recorded, the files the findings
//! name) and says what follows from them, then the remedy.
//!
//! Every sentence rests on a fact the evidence holds: no date is said
//! without the marker, key or file time that gives it, "after" only when
//! both times are known and in that order, "the pack was not reapplied"
//! only when the service pack's uninstall folder was neither created nor
//! written after the file. An install without a warning or an error has
//! nothing to explain and gets no story.

use crate::analysis::rules::remedy::remedy;
use crate::analysis::{Finding, Knowledge, Severity};
use crate::time::FileTime;
use crate::windows::{Install, Marker};

/// The paragraph for `install`, from its findings; `None` when none of them
/// is a warning or an error.
pub fn story(install: &Install, findings: &[&Finding], k: &Knowledge) -> Option<String> {
    let telling: Vec<&Finding> = findings
        .iter()
        .copied()
        .filter(|f| f.severity >= Severity::Warning)
        .collect();
    if telling.is_empty() {
        return None;
    }
    let mut out: Vec<String> = Vec::new();
    let sp = sp_marker(install);
    let sp_name = install
        .os
        .service_pack
        .clone()
        .unwrap_or_else(|| "a service pack".into());

    // What happened, in order.
    let events = events(install, &telling);
    if !events.is_empty() {
        let list: Vec<&str> = events.iter().map(|e| e.text.as_str()).collect();
        out.push(format!("In order: {}", list.join("; ")));
    } else if let Some(csd) = &install.os.service_pack {
        out.push(format!("The OS reports {csd}; no date for it was found"));
    }

    // What the registry facts rest on, when it is less than the hive itself.
    for h in &install.hives {
        match h.state_id() {
            "alternate" => out.push(format!(
                "The {} hive was read from an older copy, {}: its facts may predate the last changes",
                h.name, h.path
            )),
            "unreadable" => out.push(format!(
                "The {} hive could not be read: nothing it holds is told",
                h.name
            )),
            _ => {}
        }
    }

    // What follows.
    for f in &telling {
        match f.rule.as_str() {
            "lockstep-mismatch" => out.push(mismatch(f, sp, &sp_name)),
            "pending-rename" => match &f.evidence.pending {
                Some(p) => out.push(format!("A restart is pending: {}", p.why)),
                None => out.push(f.message.clone()),
            },
            _ => out.push(f.message.clone()),
        }
    }

    // What to do: the ordered reapplication where a finding asks for it,
    // else each remedy once.
    let ordered = remedy(install, k);
    let mut remedies: Vec<&str> = Vec::new();
    // A queued restart comes first: it changes what is on disk.
    let mut by_order = telling.clone();
    by_order.sort_by_key(|f| f.rule != "pending-rename");
    for f in &by_order {
        if !remedies.contains(&f.remedy.as_str()) {
            remedies.push(&f.remedy);
        }
    }
    if remedies.contains(&ordered.as_str()) {
        remedies.retain(|r| *r == ordered || !r.starts_with("Reapply"));
    }
    let remedies: Vec<String> = remedies
        .iter()
        .map(|r| r.trim_end_matches('.').to_string())
        .collect();
    out.push(format!("Remedy: {}", remedies.join("; ")));
    // Sentences joined: each starts with a capital and ends with one stop
    // (a message that ends in a quoted sentence keeps its own).
    let sentences: Vec<String> = out
        .iter()
        .map(|s| {
            let s = upper_first(s.trim_end_matches('.'));
            match s.ends_with(".\"") {
                true => s,
                false => format!("{s}."),
            }
        })
        .collect();
    Some(sentences.join(" "))
}

/// One dated fact of the story, and what it was read from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Event {
    pub time: FileTime,
    /// As the story says it: "Service Pack 6 applied 2000-03-14".
    pub text: String,
    pub source: Source,
}

/// What a story's fact was read from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// The service pack's uninstall folder was created (its path).
    ServicePack(String),
    /// IIS setup's `InetStp` key was last written.
    SetupKey,
    /// A hotfix key (its id) was last written.
    Hotfix(String),
    /// A file a lockstep finding names (its path) was last written.
    File(String),
}

/// The story's dated facts, oldest first: the service pack's folder, IIS
/// setup's key, the hotfix keys and the files the warnings and errors
/// among `findings` name as out of step. An install without findings still
/// has the first three.
pub fn events(install: &Install, findings: &[&Finding]) -> Vec<Event> {
    let sp = sp_marker(install);
    let sp_name = install
        .os
        .service_pack
        .clone()
        .unwrap_or_else(|| "a service pack".into());
    let mut events: Vec<Event> = Vec::new();
    if let Some((m, t)) = sp.and_then(|m| Some((m, m.created?))) {
        events.push(Event {
            time: t,
            text: format!("{sp_name} applied {}", day(t)),
            source: Source::ServicePack(m.path.clone()),
        });
    }
    if let Some(t) = install.iis_setup_written {
        events.push(Event {
            time: t,
            text: format!("IIS setup's InetStp key written {}", day(t)),
            source: Source::SetupKey,
        });
    }
    for h in &install.hotfixes {
        if let Some(t) = h.last_written {
            events.push(Event {
                time: t,
                text: format!("{} recorded {}", h.id, day(t)),
                source: Source::Hotfix(h.id.clone()),
            });
        }
    }
    let mismatches = findings
        .iter()
        .filter(|f| f.severity >= Severity::Warning && f.rule == "lockstep-mismatch");
    for f in mismatches {
        if let Some((name, t)) = written(f) {
            let path = f.evidence.file.as_ref().map(|e| e.path.clone());
            events.push(Event {
                time: t,
                text: format!("{name} written {}", day(t)),
                source: Source::File(path.unwrap_or_default()),
            });
        }
    }
    events.sort_by(|a, b| (a.time, &a.text).cmp(&(b.time, &b.text)));
    events.dedup_by(|a, b| a.time == b.time && a.text == b.text);
    events
}

/// `s` with its first letter in upper case, to start a sentence with it;
/// a sentence that starts with a file name (`w3svc.dll is …`) keeps it.
fn upper_first(s: &str) -> String {
    let first = s.split(' ').next().unwrap_or("");
    if first.contains(['.', '\\', ':']) {
        return s.to_string();
    }
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The `$NtServicePackUninstall$` folder: when the service pack was applied.
fn sp_marker(install: &Install) -> Option<&Marker> {
    install
        .markers
        .iter()
        .filter(|m| {
            m.path
                .to_ascii_lowercase()
                .ends_with("$ntservicepackuninstall$")
        })
        .max_by_key(|m| m.created)
}

/// The file a lockstep finding names and when it was last written.
fn written(f: &Finding) -> Option<(&str, FileTime)> {
    let file = f.evidence.file.as_ref()?;
    let name = file.path.rsplit('\\').next().unwrap_or(&file.path);
    Some((name, file.modified?))
}

/// The sentence for one lockstep mismatch.
fn mismatch(f: &Finding, sp: Option<&Marker>, sp_name: &str) -> String {
    let Some(file) = f.evidence.file.as_ref() else {
        return f.message.clone();
    };
    let name = file.path.rsplit('\\').next().unwrap_or(&file.path);
    let version = file
        .file_version
        .map_or("an unknown version".into(), |v| v.to_string());
    let expected = f.evidence.expected_version.as_deref().unwrap_or("?");
    let state = format!("{name} is at {version} while the rest of its set is at {expected}");
    let (Some(written), Some(applied)) = (file.modified, sp.and_then(|m| m.created)) else {
        return state;
    };
    if written <= applied {
        return format!(
            "{name} was written on {}, before {sp_name} on {}; {state}",
            day(written),
            day(applied)
        );
    }
    let reapplied_later = sp.and_then(|m| m.modified).is_some_and(|m| m > written);
    let pack = match reapplied_later {
        true => "",
        false => "; the pack was not reapplied after it",
    };
    format!(
        "{name} was written on {}, after {sp_name} on {}{pack}; {state}: a component added or reinstalled after the pack keeps the files of its own media",
        day(written),
        day(applied)
    )
}

/// The date part of a time: `2001-09-10`.
fn day(t: FileTime) -> String {
    let s = t.to_string();
    s.get(..10).unwrap_or(&s).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::analyse;
    use crate::pe::{Version, VersionInfo};
    use crate::windows::{HotfixRecord, OsInfo, PeFile};

    fn at(iso_day: &str) -> FileTime {
        let t = chrono::NaiveDate::parse_from_str(iso_day, "%Y-%m-%d")
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp();
        FileTime::new((t as u64 + 11_644_473_600) * 10_000_000).unwrap()
    }

    fn file(name: &str, v: &str, written: &str) -> PeFile {
        PeFile {
            path: format!(r"\WINNT\system32\inetsrv\{name}"),
            id: crate::fs::FileId(0),
            machine: None,
            size: 1,
            created: None,
            modified: Some(at(written)),
            compressed: false,
            is_pe: true,
            version: Some(VersionInfo {
                file_version: Version::parse(v),
                ..Default::default()
            }),
            error: None,
        }
    }

    fn seed(sp_modified: &str) -> Install {
        let mut files: Vec<PeFile> = ["infocomm.dll", "ssinc.dll", "sspifilt.dll"]
            .iter()
            .map(|n| file(n, "4.2.769.1", "2001-08-20"))
            .collect();
        files.push(file("w3svc.dll", "4.2.622.1", "2001-09-10"));
        Install {
            system_root: r"\WINNT".into(),
            os: OsInfo {
                version: Some("4.0".into()),
                service_pack: Some("Service Pack 6".into()),
                ..Default::default()
            },
            hotfixes: vec![HotfixRecord {
                id: "Q301625".into(),
                installed: Some(1),
                description: None,
                last_written: Some(at("2001-08-20")),
            }],
            markers: vec![Marker {
                path: r"\WINNT\$NtServicePackUninstall$".into(),
                created: Some(at("2000-03-14")),
                modified: Some(at(sp_modified)),
                files: Vec::new(),
                files_not_listed: false,
            }],
            files,
            ..Install::default()
        }
    }

    fn told(i: &Install) -> Option<String> {
        let k = Knowledge::builtin();
        let found = analyse(i, &k);
        let refs: Vec<&Finding> = found.iter().collect();
        story(i, &refs, &k)
    }

    #[test]
    fn the_seed_story_orders_the_facts_and_ends_with_the_ordered_remedy() {
        let text = told(&seed("2000-03-14")).expect("a story");
        assert!(
            text.starts_with("In order: Service Pack 6 applied 2000-03-14; Q301625 recorded 2001-08-20; w3svc.dll written 2001-09-10."),
            "{text}"
        );
        assert!(
            text.contains("w3svc.dll was written on 2001-09-10, after Service Pack 6 on 2000-03-14; the pack was not reapplied after it; w3svc.dll is at 4.2.622.1 while the rest of its set is at 4.2.769.1"),
            "{text}"
        );
        assert!(
            text.contains("Remedy: Reapply Windows NT 4.0 Service Pack 6a")
                && text.contains("in install order: Q301625"),
            "{text}"
        );
    }

    #[test]
    fn no_claim_of_no_reapplication_when_the_pack_folder_was_written_later() {
        let text = told(&seed("2001-10-01")).expect("a story");
        assert!(!text.contains("not reapplied"), "{text}");
        assert!(
            text.contains("after Service Pack 6 on 2000-03-14"),
            "{text}"
        );
    }

    #[test]
    fn an_install_without_a_warning_or_an_error_has_no_story() {
        let mut i = seed("2000-03-14");
        i.files.pop();
        i.files.push(file("w3svc.dll", "4.2.769.1", "2001-08-20"));
        assert_eq!(told(&i), None);
    }
}
