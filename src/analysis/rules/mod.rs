//! The rules. Each reads the model and the knowledge and returns findings.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::knowledge::{Compare, Family, Knowledge, Lockstep};
use super::{Finding, Severity};
use crate::pe::Version;
use crate::time::FileTime;
use crate::windows::{Install, PeFile};

/// All findings for one install, sorted (most severe first, then by rule and path).
pub fn analyse(install: &Install, knowledge: &Knowledge) -> Vec<Finding> {
    let families: Vec<&Family> = knowledge
        .family
        .iter()
        .filter(|f| family_applies(install, f))
        .collect();
    let mut out = Vec::new();
    lockstep(install, knowledge, &families, &mut out);
    behind_service_pack(install, knowledge, &families, &mut out);
    missing_binaries(install, knowledge, &mut out);
    no_version(install, knowledge, &families, &mut out);
    dirty_hives(install, &mut out);
    pending_renames(install, knowledge, &mut out);
    out.sort_by(|a, b| (b.severity, &a.rule, &a.paths).cmp(&(a.severity, &b.rule, &b.paths)));
    out
}

/// A family applies when the OS version says it ships there, or, when the
/// SOFTWARE hive could not tell, when most of its files present carry its
/// version line.
fn family_applies(install: &Install, family: &Family) -> bool {
    if let Some(v) = &install.os.version {
        return family.os.iter().any(|o| o == v);
    }
    let versions: Vec<Version> = members(install, &family.files)
        .filter_map(file_version)
        .collect();
    let on_line = versions
        .iter()
        .filter(|v| on_version_line(v, &family.version_line))
        .count();
    !versions.is_empty() && on_line * 2 > versions.len()
}

fn on_version_line(v: &Version, line: &str) -> bool {
    line.split('.')
        .zip(v.0.iter())
        .all(|(want, have)| want.parse::<u16>().ok() == Some(*have))
}

fn members<'a>(install: &'a Install, names: &'a [String]) -> impl Iterator<Item = &'a PeFile> + 'a {
    install
        .files
        .iter()
        .filter(move |f| names.iter().any(|n| n.eq_ignore_ascii_case(f.name())))
}

fn file_version(f: &PeFile) -> Option<Version> {
    f.version.as_ref()?.file_version
}

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

/// How one file disagrees with one lockstep set.
struct Odd<'a> {
    file: &'a PeFile,
    set: &'a Lockstep,
    reference: [u16; 4],
    peers: Vec<&'a PeFile>,
}

fn lockstep(install: &Install, k: &Knowledge, families: &[&Family], out: &mut Vec<Finding>) {
    let mut older: BTreeMap<String, Vec<Odd>> = BTreeMap::new();
    let mut newer: BTreeMap<String, Vec<Odd>> = BTreeMap::new();
    let sets: Vec<&Lockstep> = k
        .lockstep
        .iter()
        .filter(|s| families.iter().any(|f| f.id == s.family))
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
    for set in sets {
        let present: Vec<(&PeFile, [u16; 4])> = members(install, &set.files)
            .filter_map(|f| Some((f, key(file_version(f)?, set.compare))))
            .collect();
        if present.len() < 2 {
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
        for (file, v) in &present {
            if *v == reference {
                continue;
            }
            let odd = Odd {
                file,
                set,
                reference,
                peers: present
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
    for odds in older.values() {
        out.push(lockstep_finding(install, k, odds, true));
    }
    for odds in newer.values() {
        out.push(lockstep_finding(install, k, odds, false));
    }
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
            && install
                .hotfixes
                .iter()
                .any(|r| r.id.eq_ignore_ascii_case(&h.kb))
    })
}

fn lockstep_finding(install: &Install, k: &Knowledge, odds: &[Odd], older: bool) -> Finding {
    let first = &odds[0];
    let file = first.file;
    let version = file_version(file)
        .map(|v| v.to_string())
        .unwrap_or_default();
    let reference = key_str(first.reference, first.set.compare);
    let peer_names: Vec<&str> = first.peers.iter().map(|p| p.name()).collect();
    let sets: Vec<Value> = odds
        .iter()
        .map(|o| {
            json!({
                "id": o.set.id,
                "name": o.set.name,
                "reference_version": key_str(o.reference, o.set.compare),
                "why": o.set.why,
                "compared_with": o.peers.iter().map(|p| file_json(p)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut evidence = base_evidence(install);
    evidence.insert("file".into(), file_json(file));
    evidence.insert("expected_version".into(), json!(reference));
    evidence.insert("sets".into(), json!(sets));
    evidence.insert(
        "timeline".into(),
        json!(timeline(install, file, &first.peers)),
    );
    let mut references: Vec<String> = odds
        .iter()
        .flat_map(|o| o.set.references.iter().cloned())
        .collect();
    let os = install.os.version.as_deref().and_then(|v| k.os(v));
    references.extend(os.iter().flat_map(|o| o.references.iter().cloned()));
    dedup(&mut references);

    if older {
        let mut message = format!(
            "{} is at {version} while the rest of the {} ({}) is at {reference}",
            file.name(),
            first.set.name,
            peer_names.join(", ")
        );
        if let Some(story) = added_after_service_pack(install, file) {
            message.push_str(&format!("; {story}"));
        }
        Finding {
            rule: "lockstep-mismatch".into(),
            severity: Severity::Error,
            install: install.system_root.clone(),
            volume: install.volume,
            paths: vec![file.path.clone()],
            message,
            evidence,
            remedy: remedy(install, k),
            references,
        }
    } else {
        // Newer than its set: legitimate when a recorded hotfix shipped this
        // file at exactly this version.
        let explained = file_version(file).and_then(|v| {
            k.hotfix.iter().find(|h| {
                h.version == v
                    && h.files.iter().any(|f| f.eq_ignore_ascii_case(file.name()))
                    && install
                        .hotfixes
                        .iter()
                        .any(|r| r.id.eq_ignore_ascii_case(&h.kb))
            })
        });
        let (severity, message) = match explained {
            Some(h) => (
                Severity::Info,
                format!(
                    "{} is at {version}, newer than the rest of the {} ({reference}): hotfix {} ({}) shipped it at this version and is recorded as installed",
                    file.name(), first.set.name, h.kb, h.title
                ),
            ),
            None => (
                Severity::Warning,
                format!(
                    "{} is at {version}, newer than the rest of the {} ({}) at {reference}, and no recorded hotfix ships it at this version",
                    file.name(), first.set.name, peer_names.join(", ")
                ),
            ),
        };
        if let Some(h) = explained {
            evidence.insert("explained_by".into(), json!({"kb": h.kb, "title": h.title}));
            references.push(h.kb.clone());
        }
        Finding {
            rule: "lockstep-newer".into(),
            severity,
            install: install.system_root.clone(),
            volume: install.volume,
            paths: vec![file.path.clone()],
            message,
            evidence,
            remedy: if explained.is_some() {
                "None needed.".into()
            } else {
                remedy(install, k)
            },
            references,
        }
    }
}

fn behind_service_pack(
    install: &Install,
    k: &Knowledge,
    families: &[&Family],
    out: &mut Vec<Finding>,
) {
    let (Some(osv), Some(sp)) = (&install.os.version, &install.os.service_pack) else {
        return;
    };
    for b in k
        .baseline
        .iter()
        .filter(|b| &b.os_version == osv && b.service_pack.eq_ignore_ascii_case(sp.trim()))
    {
        let Some(family) = families.iter().find(|f| f.id == b.family) else {
            continue;
        };
        for file in members(install, &family.files) {
            let Some(v) = file_version(file) else {
                continue;
            };
            if v >= b.min_version || !on_version_line(&v, &family.version_line) {
                continue;
            }
            let mut evidence = base_evidence(install);
            evidence.insert("file".into(), file_json(file));
            evidence.insert("service_pack".into(), json!(sp));
            evidence.insert("baseline_version".into(), json!(b.min_version.to_string()));
            evidence.insert("timeline".into(), json!(timeline(install, file, &[])));
            let mut references = b.references.clone();
            references.extend(family.references.iter().cloned());
            dedup(&mut references);
            out.push(Finding {
                rule: "behind-service-pack".into(),
                severity: Severity::Error,
                install: install.system_root.clone(),
                volume: install.volume,
                paths: vec![file.path.clone()],
                message: format!(
                    "{} is at {v}, older than the {} level of {} ({}) that the OS reports",
                    file.name(),
                    sp,
                    family.name,
                    b.min_version
                ),
                evidence,
                remedy: remedy(install, k),
                references,
            });
        }
    }
}

fn missing_binaries(install: &Install, k: &Knowledge, out: &mut Vec<Finding>) {
    for svc in &install.services {
        for bin in svc
            .binaries
            .iter()
            .filter(|b| b.found.is_none() && b.unreadable.is_none())
        {
            let mut evidence = base_evidence(install);
            evidence.insert(
                "registry".into(),
                json!({
                    "key": format!(r"{}\Services\{}", install.control_set.as_ref().map(|c| c.name.as_str()).unwrap_or("?"), svc.name),
                    "value": bin.source,
                    "data": if bin.source == "ServiceDll" { &svc.service_dll } else { &svc.image_path },
                    "last_written": svc.last_written,
                }),
            );
            out.push(Finding {
                rule: "missing-service-binary".into(),
                severity: Severity::Error,
                install: install.system_root.clone(),
                volume: install.volume,
                paths: vec![bin.path.clone()],
                message: format!(
                    "service {} names {} in {}, and that file is not on the volume: the service cannot start",
                    svc.name, bin.path, bin.source
                ),
                evidence,
                remedy: format!("Restore {} (reinstall the component), then {}", bin.path, lower_first(&remedy(install, k))),
                references: k.services.as_ref().map(|s| s.references.clone()).unwrap_or_default(),
            });
        }
    }
    let Some(addons) = &k.addons else { return };
    for addon in &install.addons {
        for dll in addon
            .dlls
            .iter()
            .filter(|d| d.found.is_none() && d.unreadable.is_none())
        {
            let path = if dll.path.contains('\\') {
                dll.path.clone()
            } else {
                format!(
                    r"{}\{}\{}",
                    install.system_root,
                    addons
                        .search
                        .first()
                        .map(String::as_str)
                        .unwrap_or("system32"),
                    dll.path
                )
            };
            let mut evidence = base_evidence(install);
            evidence.insert(
                "registry".into(),
                json!({"key": format!(r"SOFTWARE\{}", addons.key), "value": addon.name, "data": addon.value, "last_written": addon.last_written}),
            );
            evidence.insert("searched".into(), json!(addons.search));
            out.push(Finding {
                rule: "missing-addon-dll".into(),
                severity: Severity::Error,
                install: install.system_root.clone(),
                volume: install.volume,
                paths: vec![path.clone()],
                message: format!(
                    "the Internet Service Manager add-on '{}' names {}, which is not on the volume: ISM reports \"The service configuration dll ({}) failed to load correctly. The specified module could not be found.\"",
                    addon.name, path, path.rsplit('\\').next().unwrap_or(&path)
                ),
                evidence,
                remedy: format!(
                    "Reinstall the product that registered '{}' (for Proxy Server 2.0, reinstall it and then {}), or remove the stale AddOnServices value",
                    addon.name,
                    lower_first(&remedy(install, k))
                ),
                references: addons.references.clone(),
            });
        }
    }
}

fn no_version(install: &Install, k: &Knowledge, families: &[&Family], out: &mut Vec<Finding>) {
    let named: Vec<&str> = install
        .services
        .iter()
        .flat_map(|s| s.binaries.iter())
        .chain(install.addons.iter().flat_map(|a| a.dlls.iter()))
        .filter_map(|b| b.found.as_deref())
        .collect();
    for file in &install.files {
        if file
            .version
            .as_ref()
            .is_some_and(|v| v.file_version.is_some())
        {
            continue;
        }
        let in_family = families
            .iter()
            .any(|f| f.files.iter().any(|n| n.eq_ignore_ascii_case(file.name())));
        if !in_family && !named.contains(&file.path.as_str()) {
            continue;
        }
        let mut evidence = base_evidence(install);
        evidence.insert("file".into(), file_json(file));
        let reason = file
            .error
            .clone()
            .unwrap_or_else(|| "VS_FIXEDFILEINFO is missing".into());
        out.push(Finding {
            rule: "no-version-resource".into(),
            severity: Severity::Warning,
            install: install.system_root.clone(),
            volume: install.volume,
            paths: vec![file.path.clone()],
            message: format!(
                "{} has no readable version resource ({reason}), so its level cannot be compared",
                file.name()
            ),
            evidence,
            remedy: format!(
                "Check the file against a known-good copy; if it is damaged, {}",
                lower_first(&remedy(install, k))
            ),
            references: vec!["KB888535".into()],
        });
    }
}

fn dirty_hives(install: &Install, out: &mut Vec<Finding>) {
    for hive in install.hives.iter().filter(|h| h.dirty) {
        let mut evidence = base_evidence(install);
        evidence.insert("hive".into(), json!(hive));
        out.push(Finding {
            rule: "dirty-hive".into(),
            severity: Severity::Warning,
            install: install.system_root.clone(),
            volume: install.volume,
            paths: vec![hive.path.clone()],
            message: format!("the {} hive is dirty (its last writes were not flushed) and was read as stored, without replaying its transaction log: recent registry changes may be missing", hive.name),
            evidence,
            remedy: "Treat registry evidence as possibly stale; the file versions on disk are read directly and are not affected".into(),
            references: vec![],
        });
    }
}

fn pending_renames(install: &Install, k: &Knowledge, out: &mut Vec<Finding>) {
    let names = k.interesting_files();
    let hits: Vec<&String> = install
        .pending_renames
        .iter()
        .filter(|p| {
            let lower = p.to_ascii_lowercase();
            names.iter().any(|n| lower.ends_with(&format!("\\{n}")))
        })
        .collect();
    if hits.is_empty() {
        return;
    }
    let mut evidence = base_evidence(install);
    evidence.insert("pending_renames".into(), json!(install.pending_renames));
    out.push(Finding {
        rule: "pending-rename".into(),
        severity: Severity::Warning,
        install: install.system_root.clone(),
        volume: install.volume,
        paths: hits.iter().filter_map(|p| crate::windows::volume_path(p, &install.system_root)).collect(),
        message: "IIS files are queued in PendingFileRenameOperations: the files on disk are not what the next boot will load".into(),
        evidence,
        remedy: "Restart once so the queued replacements complete (chained hotfixes without a restart can leave an older file: use QChain), then check again".into(),
        references: vec!["Q296861".into(), "KB815062".into()],
    });
}

/// Facts every finding of an install carries: OS level and where the
/// registry facts came from.
fn base_evidence(install: &Install) -> BTreeMap<String, Value> {
    let mut e = BTreeMap::new();
    e.insert(
        "os".into(),
        json!({
            "version": install.os.version,
            "build": install.os.build,
            "service_pack": install.os.service_pack,
        }),
    );
    if let Some(cs) = &install.control_set {
        e.insert(
            "control_set".into(),
            json!(format!(r"{} (from Select\{})", cs.name, cs.source)),
        );
    }
    e.insert(
        "hotfixes".into(),
        json!(install
            .hotfixes
            .iter()
            .map(|h| h.id.clone())
            .collect::<Vec<_>>()),
    );
    e
}

fn file_json(f: &PeFile) -> Value {
    let v = f.version.as_ref();
    json!({
        "path": f.path,
        "file_version": v.and_then(|v| v.file_version).map(|v| v.to_string()),
        "product_version": v.and_then(|v| v.product_version).map(|v| v.to_string()),
        "file_version_string": v.and_then(|v| v.strings.get("FileVersion")),
        "size": f.size,
        "modified": f.modified,
    })
}

/// Dated events around a file: service-pack and hotfix folders, hotfix keys,
/// and when the file and its peers were last written. Sorted by time.
fn timeline(install: &Install, file: &PeFile, peers: &[&PeFile]) -> Vec<String> {
    // Times are compared as the whole seconds the report shows, so two
    // events a few ticks apart read in the order of their text.
    let mut events: Vec<(FileTime, String)> = Vec::new();
    for m in &install.markers {
        if let Some(t) = m.created {
            events.push((t.whole_seconds(), format!("{} created", m.path)));
        }
    }
    for h in &install.hotfixes {
        if let Some(t) = h.last_written {
            events.push((
                t.whole_seconds(),
                format!(r"Hotfix\{} key last written", h.id),
            ));
        }
    }
    if let Some(t) = file.modified {
        events.push((t.whole_seconds(), format!("{} last written", file.path)));
    }
    let mut peer_times: Vec<FileTime> = peers
        .iter()
        .filter_map(|p| p.modified.map(FileTime::whole_seconds))
        .collect();
    peer_times.sort();
    peer_times.dedup();
    for t in peer_times {
        let names: Vec<&str> = peers
            .iter()
            .filter(|p| p.modified.map(FileTime::whole_seconds) == Some(t))
            .map(|p| p.name())
            .collect();
        events.push((t, format!("{} last written", names.join(", "))));
    }
    events.sort();
    events.dedup();
    events
        .into_iter()
        .map(|(t, e)| format!("{t} {e}"))
        .collect()
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

/// The remedy text for an install: reapply the latest service pack, then the
/// recorded hotfixes in the order they were installed.
fn remedy(install: &Install, k: &Knowledge) -> String {
    let os = install.os.version.as_deref().and_then(|v| k.os(v));
    let mut text = match os {
        Some(os) => os.remedy_order.clone(),
        None => "Reapply the latest service pack for this OS, then reapply every hotfix".into(),
    };
    let mut hotfixes: Vec<_> = install.hotfixes.iter().collect();
    hotfixes.sort_by(|a, b| (&a.last_written, &a.id).cmp(&(&b.last_written, &b.id)));
    if !hotfixes.is_empty() {
        let list: Vec<String> = hotfixes
            .iter()
            .map(
                |h| match k.hotfix.iter().find(|x| x.kb.eq_ignore_ascii_case(&h.id)) {
                    Some(x) => format!("{} ({})", h.id, x.title),
                    None => h.id.clone(),
                },
            )
            .collect();
        text.push_str(&format!(
            ". Hotfixes recorded under HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Hotfix, in install order: {}",
            list.join(", ")
        ));
    }
    text.push('.');
    text
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

fn dedup(v: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    v.retain(|x| seen.insert(x.clone()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pe::VersionInfo;
    use crate::windows::{HotfixRecord, OsInfo};

    fn file(name: &str, v: &str) -> PeFile {
        PeFile {
            path: format!(r"\WINNT\system32\inetsrv\{name}"),
            size: 1,
            created: None,
            modified: None,
            compressed: false,
            is_pe: true,
            version: Some(VersionInfo {
                file_version: Version::parse(v),
                ..Default::default()
            }),
            error: None,
        }
    }

    fn install(os: Option<&str>, files: Vec<PeFile>, hotfixes: &[&str]) -> Install {
        Install {
            volume: 0,
            system_root: r"\WINNT".into(),
            os: OsInfo {
                version: os.map(String::from),
                ..Default::default()
            },
            control_set: None,
            hives: vec![],
            services: vec![],
            hotfixes: hotfixes
                .iter()
                .map(|id| HotfixRecord {
                    id: id.to_string(),
                    installed: Some(1),
                    description: None,
                    last_written: None,
                })
                .collect(),
            iis_setup: Default::default(),
            addons: vec![],
            markers: vec![],
            pending_renames: vec![],
            files_count: files.len(),
            files,
        }
    }

    fn rules(i: &Install) -> Vec<(String, Severity, String)> {
        analyse(i, &Knowledge::builtin())
            .into_iter()
            .map(|f| (f.rule, f.severity, f.paths.join(",")))
            .collect()
    }

    const CORE: [&str; 4] = ["w3svc.dll", "infocomm.dll", "ssinc.dll", "sspifilt.dll"];

    #[test]
    fn older_member_is_an_error_once_even_in_two_sets() {
        let mut files: Vec<PeFile> = CORE.iter().map(|n| file(n, "4.2.769.1")).collect();
        files[0] = file("w3svc.dll", "4.2.622.1");
        files.push(file("ftpsvc2.dll", "4.2.769.1"));
        let got = rules(&install(Some("4.0"), files, &[]));
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].0, "lockstep-mismatch");
        assert_eq!(got[0].1, Severity::Error);
        assert!(got[0].2.ends_with("w3svc.dll"));
    }

    #[test]
    fn newer_member_is_info_when_a_recorded_hotfix_ships_it_alone() {
        // Q252302 ships w3svc.dll 4.2.725.1 alone.
        let mut files: Vec<PeFile> = CORE.iter().map(|n| file(n, "4.2.680.1")).collect();
        files[0] = file("w3svc.dll", "4.2.725.1");
        let explained = rules(&install(Some("4.0"), files.clone(), &["Q252302"]));
        assert_eq!(
            explained,
            [(
                "lockstep-newer".into(),
                Severity::Info,
                files[0].path.clone()
            )]
        );
        let unexplained = rules(&install(Some("4.0"), files, &[]));
        assert_eq!(unexplained[0].1, Severity::Warning);
    }

    #[test]
    fn families_apply_by_os_or_by_version_line() {
        let mut files: Vec<PeFile> = CORE.iter().map(|n| file(n, "4.2.769.1")).collect();
        files[1] = file("infocomm.dll", "4.2.622.1");
        // No SOFTWARE hive: the IIS 4 version line identifies the family.
        assert_eq!(rules(&install(None, files.clone(), &[])).len(), 1);
        // On Windows 2000 the IIS 4 rules do not apply; IIS 5's compare builds.
        let w2k = rules(&install(Some("5.0"), files, &[]));
        assert!(w2k
            .iter()
            .all(|r| r.0 != "lockstep-mismatch" || r.2.contains("infocomm")));
    }

    #[test]
    fn a_tie_goes_to_the_newest_version() {
        let files = vec![
            file("w3svc.dll", "4.2.622.1"),
            file("infocomm.dll", "4.2.769.1"),
        ];
        let got = rules(&install(Some("4.0"), files, &[]));
        assert!(got
            .iter()
            .any(|r| r.0 == "lockstep-mismatch" && r.2.ends_with("w3svc.dll")));
        assert!(!got.iter().any(|r| r.2.ends_with("infocomm.dll")));
    }

    #[test]
    fn a_lone_member_or_missing_versions_raise_no_lockstep_finding() {
        let mut f = file("w3svc.dll", "4.2.622.1");
        let g = rules(&install(Some("4.0"), vec![f.clone()], &[]));
        assert!(g.is_empty());
        f.version = None;
        f.error = Some("no version resource".into());
        let g = rules(&install(
            Some("4.0"),
            vec![f, file("infocomm.dll", "4.2.769.1")],
            &[],
        ));
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].0, "no-version-resource");
    }

    #[test]
    fn a_binary_that_could_not_be_checked_is_not_called_missing() {
        use crate::windows::{Binary, Service};
        let mut i = install(Some("4.0"), vec![], &[]);
        let bin = |unreadable: Option<&str>| Binary {
            source: "ImagePath".into(),
            path: r"\WINNT\System32\inetsrv\inetinfo.exe".into(),
            found: None,
            unreadable: unreadable.map(String::from),
        };
        i.services.push(Service {
            name: "W3SVC".into(),
            image_path: Some(r"%SystemRoot%\System32\inetsrv\inetinfo.exe".into()),
            service_dll: None,
            start: Some(2),
            service_type: Some(0x20),
            depend_on_service: vec![],
            install_path: None,
            last_written: None,
            binaries: vec![bin(Some("directory index: truncated"))],
        });
        assert!(rules(&i).is_empty());
        i.services[0].binaries = vec![bin(None)];
        assert_eq!(rules(&i)[0].0, "missing-service-binary");
    }
}
