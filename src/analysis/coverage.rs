//! What a diagnosis of one install covered: which hives were read and in
//! which state, which rule families applied, how many PE files were read and
//! how many could not be. Silence is not health: an install we hold no
//! knowledge for, or whose hives could not be read, is `NotEvaluated`, never
//! an all-clear.

use super::knowledge::Knowledge;
use super::rules::{files, Context};
use crate::windows::Install;

/// How much of an install the rules could judge. Ordered from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Every rule family that applies was run on everything in scope.
    Evaluated,
    /// The rules ran, but something in scope could not be read.
    Partial,
    /// No rule could judge the install (no knowledge, nothing readable, no
    /// IIS component): its silence says nothing about its health.
    NotEvaluated,
}

impl Status {
    /// The JSON id: `evaluated`, `partial`, `not-evaluated`.
    pub fn id(self) -> &'static str {
        match self {
            Status::Evaluated => "evaluated",
            Status::Partial => "partial",
            Status::NotEvaluated => "not-evaluated",
        }
    }
}

/// The state a hive was read in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HiveState {
    pub name: String,
    /// `clean`, `replayed` (dirty, its old-format log replayed in memory),
    /// `dirty` (read as stored, no log replayed), `alternate` (read from an
    /// older copy, the primary being unusable) or `unreadable`.
    pub state: &'static str,
}

/// What the diagnosis of one install covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    pub status: Status,
    /// Why the status is not `Evaluated`, one sentence each.
    pub reasons: Vec<String>,
    /// Ids of the knowledge families whose rules applied (`iis4`, …).
    pub families: Vec<String>,
    pub hives: Vec<HiveState>,
    /// PE files whose bytes were read (their version, or why it has none).
    pub files_read: usize,
    /// PE files that could not be read at all.
    pub files_unreadable: usize,
    /// Everything this install could not read (hives, keys, folders, files).
    pub unreadable: usize,
}

/// Judges what the rules could cover on `install`.
pub fn assess(install: &Install, knowledge: &Knowledge) -> Coverage {
    let cx = Context::new(install, knowledge);
    let hives: Vec<HiveState> = install
        .hives
        .iter()
        .map(|h| HiveState {
            name: h.name.clone(),
            state: match (&h.error, h.dirty) {
                (Some(_), _) => "unreadable",
                // Never `clean`: the copy may be older than the primary was.
                (None, _) if h.fallback.is_some() => "alternate",
                (None, true) => "dirty",
                (None, false) if h.replayed_log().is_some() => "replayed",
                (None, false) => "clean",
            },
        })
        .collect();
    let unreadable_hives: Vec<&str> = hives
        .iter()
        .filter(|h| h.state == "unreadable")
        .map(|h| h.name.as_str())
        .collect();
    // A hive read from an alternate copy says what may be missing from it.
    let alternates: Vec<String> = install
        .hives
        .iter()
        .filter(|h| h.error.is_none())
        .filter_map(|h| {
            let f = h.fallback.as_ref()?;
            Some(format!(
                "{} read from {}, a copy older than the primary may have been: \
                 the primary is damaged or missing ({})",
                h.name, h.path, f.reason
            ))
        })
        .collect();
    let files_unreadable = install
        .files
        .iter()
        .filter(|f| install.unreadable.iter().any(|u| u.path == f.path))
        .count();
    let mut families: Vec<String> = cx.families.iter().map(|f| f.id.clone()).collect();
    // IIS 7 and later: the module rules ran on applicationHost.config, or
    // could not, for want of it.
    let modules_apply = knowledge.modules.as_ref().is_some_and(|m| {
        install
            .os
            .version
            .as_ref()
            .is_some_and(|v| m.os.contains(v))
    });
    // Present but unreadable is said among the unreadable items instead.
    let config_missing = modules_apply
        && install.iis_config.is_none()
        && !install.unreadable.iter().any(|u| {
            u.path
                .to_ascii_lowercase()
                .ends_with(r"\applicationhost.config")
        });
    if modules_apply && install.iis_config.is_some() {
        families.push("iis-modules".into());
    }
    let section_gaps = match (&install.iis_config, modules_apply) {
        (Some(f), true) => {
            // Sections are judged only below a declared `system.webServer`
            // group: a file without it had none checked, so none is listed.
            if f.config.section_groups.contains("system.webServer") {
                families.push("iis-sections".into());
            }
            section_gaps(f)
        }
        _ => Vec::new(),
    };
    let components = cx
        .families
        .iter()
        .any(|f| files::members(install, &f.files).next().is_some())
        || !install.services.is_empty()
        || !install.addons.is_empty();

    let no_hives = !hives.is_empty() && unreadable_hives.len() == hives.len();
    let mut reasons = Vec::new();
    // Without hives a family can still apply by its files' version line:
    // then the file rules ran and the result is partial, not void.
    let status = if families.is_empty() {
        reasons.push(match (&install.os.version, no_hives) {
            (_, true) => format!(
                "{} could not be read and no file of a known IIS generation was found",
                and_list(&unreadable_hives, "hive", "hives")
            ),
            (Some(v), false) => {
                let full = match install.os.full_build() {
                    Some(b) => format!("{v}.{b}"),
                    None => v.clone(),
                };
                format!("no IIS knowledge for {} (version {full})", os_name(install))
            }
            (None, false) => {
                "the OS version is unknown and no file of a known IIS generation was found"
                    .to_string()
            }
        });
        Status::NotEvaluated
    } else if !components {
        reasons.push(format!(
            "no IIS component found (no file of {} and no IIS service or add-on registered)",
            families.join(", ")
        ));
        Status::NotEvaluated
    } else if !install.unreadable.is_empty() || !alternates.is_empty() || config_missing {
        if config_missing {
            reasons.push(format!(
                "{}\\System32\\inetsrv\\config\\applicationHost.config was not found: \
                 the module and ISAPI filter rules had nothing to read",
                install.system_root
            ));
        }
        reasons.extend(alternates);
        if !unreadable_hives.is_empty() {
            reasons.push(format!(
                "{} could not be read",
                and_list(&unreadable_hives, "hive", "hives")
            ));
        }
        if files_unreadable > 0 {
            reasons.push(format!("{files_unreadable} PE file(s) could not be read"));
        }
        let other: Vec<&str> = install
            .unreadable
            .iter()
            .filter(|u| {
                !install.files.iter().any(|f| f.path == u.path)
                    && !install.hives.iter().any(|h| {
                        h.path == u.path || h.fallback.as_ref().is_some_and(|f| f.primary == u.path)
                    })
            })
            .map(|u| u.path.as_str())
            .collect();
        match other.as_slice() {
            [] => {}
            [one] => reasons.push(format!("{one} could not be read")),
            [first, rest @ ..] => reasons.push(format!(
                "{first} and {} other item(s) could not be read",
                rest.len()
            )),
        }
        Status::Partial
    } else {
        Status::Evaluated
    };
    // Sections, web.configs and ASP.NET Core handlers not checked.
    let status = match (status, section_gaps.is_empty()) {
        (Status::Evaluated | Status::Partial, false) => {
            reasons.extend(section_gaps);
            Status::Partial
        }
        (s, _) => s,
    };
    // The loader check: imports it could not decide leave its rules partial.
    let status = match (status, loader_undecided(install)) {
        (Status::Evaluated | Status::Partial, Some(why)) => {
            reasons.push(why);
            Status::Partial
        }
        (s, _) => s,
    };
    // The component store: listed among what ran only when it was read (its
    // absence is said in the install's `component_store`); it never turns
    // an install no family judged into an evaluated one.
    if status != Status::NotEvaluated && install.component_store.as_ref().is_some_and(|s| s.checked)
    {
        families.push("component-store".into());
    }
    Coverage {
        status,
        reasons,
        families,
        hives,
        files_read: install.files.len() - files_unreadable,
        files_unreadable,
        unreadable: install.unreadable.len(),
    }
}

/// Why the loader check left imports undecided (modules it could not read,
/// DLLs it could not look for), or `None` when it decided every one. API
/// sets are not counted: no file could decide them.
fn loader_undecided(install: &Install) -> Option<String> {
    use crate::windows::loader::Outcome;
    let l = install.loader.as_ref()?;
    let mut first = None;
    let mut count = 0;
    for m in &l.modules {
        if let Some(e) = &m.error {
            count += 1;
            first.get_or_insert_with(|| format!("{}: {e}", m.path));
        }
        for i in &m.imports {
            let why = match &i.outcome {
                Outcome::NotChecked { reason } if !reason.starts_with("an API set") => reason,
                Outcome::Found {
                    unchecked: Some(reason),
                    ..
                } => reason,
                _ => continue,
            };
            count += 1;
            first.get_or_insert_with(|| format!("{} ({}): {why}", i.dll, m.path));
        }
    }
    if let Some(cap) = &l.capped {
        count += 1;
        first.get_or_insert_with(|| cap.clone());
    }
    first.map(|f| format!("the loader check could not decide {count} import(s); first: {f}"))
}

/// What the section and ASP.NET Core checks could not cover: web.config
/// files not read or not placed, schema files not read while a declared
/// section needed them, applications whose request handler was not checked.
fn section_gaps(f: &crate::windows::IisConfigFile) -> Vec<String> {
    let mut gaps = Vec::new();
    let lost: Vec<String> = f
        .web_configs
        .iter()
        .filter(|w| matches!(w.state, "unreadable" | "not-checked"))
        .map(|w| {
            format!(
                "{}: {}",
                w.path
                    .clone()
                    .unwrap_or_else(|| format!("{}{}", w.site, w.application)),
                w.reason.as_deref().unwrap_or("not read")
            )
        })
        .collect();
    if let Some(first) = lost.first() {
        gaps.push(format!(
            "{} web.config file(s) could not be read or placed, so their sections and ASP.NET Core settings were not checked; first: {first}",
            lost.len()
        ));
    }
    let declared_uses = f.config.uses.iter().chain(
        f.web_configs
            .iter()
            .filter_map(|w| w.config.as_ref())
            .flat_map(|c| c.uses.iter()),
    );
    let unknown = declared_uses
        .filter(|u| u.declared && !f.schema.defines(&u.section))
        .count();
    if unknown > 0 && !f.schema.complete() {
        gaps.push(format!(
            "the schema folder {} could not be read in full ({}): {unknown} declared section(s) could not be checked for a schema",
            f.schema.path,
            f.schema
                .error
                .clone()
                .or_else(|| f.schema.files.iter().find_map(|x| x.error.clone()))
                .unwrap_or_default()
        ));
    }
    let unchecked: Vec<String> = f
        .web_configs
        .iter()
        .filter_map(|w| {
            let h = w.ancm.as_ref().filter(|h| h.state == "not-checked")?;
            Some(format!(
                "{}{}: {}",
                w.site,
                w.application,
                h.reason.as_deref().unwrap_or("")
            ))
        })
        .collect();
    if let Some(first) = unchecked.first() {
        gaps.push(format!(
            "the ASP.NET Core request handler of {} application(s) was not checked; first: {first}",
            unchecked.len()
        ));
    }
    gaps
}

fn os_name(install: &Install) -> String {
    let os = &install.os;
    os.product_name
        .clone()
        .or_else(|| os.name.clone())
        .unwrap_or_else(|| "this Windows".to_string())
}

/// "the SYSTEM hive", "the SYSTEM and SOFTWARE hives".
fn and_list(names: &[&str], one: &str, many: &str) -> String {
    match names {
        [a] => format!("the {a} {one}"),
        _ => format!("the {} {many}", names.join(" and ")),
    }
}
