//! What the loader-check rules share: the evidence of one import, the
//! modules a rule reports and how a finding names what it breaks.

use super::pools::{evidence as module_evidence, loading_pools, pools_phrase, what};
use super::Context;
use crate::analysis::evidence::{
    IisModuleEvidence, ImportEvidence, ModuleEvidence, RuntimeEvidence,
};
use crate::analysis::Finding;
use crate::windows::loader::{Import, LoaderFacts, Module, Outcome};

/// The loader facts of the install, when the check ran.
pub(super) fn facts<'a>(cx: &'a Context) -> Option<&'a LoaderFacts> {
    cx.install.loader.as_ref()
}

/// The Win32 error text for `code` from the knowledge.
pub(super) fn win32(cx: &Context, code: u32) -> String {
    match &cx.knowledge.loader {
        Some(l) => l.error_text(code),
        None => code.to_string(),
    }
}

/// "W3SVC" / "W3SVC and AddOnServices\WWW" / "global module X (64-bit
/// worker)": every root whose load reaches `m`.
pub(super) fn breaks(m: &Module) -> String {
    joined(&loaded_by(m))
}

/// "A", "A and B", "A, B and C"; for none, "the process that loads it".
fn joined(items: &[String]) -> String {
    match items {
        [] => "the process that loads it".into(),
        [one] => one.clone(),
        many => format!(
            "{} and {}",
            many[..many.len() - 1].join(", "),
            many[many.len() - 1]
        ),
    }
}

/// The evidence of `import` of `importer`.
pub(super) fn evidence(
    facts: &LoaderFacts,
    importer: &Module,
    import: &Import,
    win32_error: String,
) -> ImportEvidence {
    let exporter_path = match &import.outcome {
        Outcome::Found { path, .. } => Some(path.as_str()),
        _ => None,
    };
    // The module the symbol was lost in (after forwarders), else the DLL found.
    let lost_in = import.missing.first().map(|m| m.exporter.as_str());
    let exporter = lost_in.or(exporter_path).and_then(|p| {
        facts
            .module_in(p, importer.wow64)
            .map(ModuleEvidence::of)
            .or_else(|| {
                p.starts_with('\\').then(|| ModuleEvidence {
                    machine: None,
                    path: p.to_string(),
                    version: None,
                })
            })
    });
    ImportEvidence {
        delay: import.delay,
        dll: import.dll.clone(),
        exporter,
        forwarders: import.missing.iter().flat_map(|m| m.via.clone()).collect(),
        importer: ModuleEvidence::of(importer),
        loaded_by: loaded_by(importer),
        missing: import.missing.iter().map(|m| m.symbol.clone()).collect(),
        win32_error,
    }
}

/// A finding about `importer`, its path first.
pub(super) fn base<R: super::Rule + ?Sized>(cx: &Context, rule: &R, importer: &Module) -> Finding {
    let mut f = cx.finding(rule);
    f.paths = vec![importer.path.clone()];
    f.remedy = format!(
        "Bring the files to one level: {}",
        super::remedy::lower_first(&cx.remedy())
    );
    if let Some(l) = &cx.knowledge.loader {
        f.references = l.references.clone();
    }
    f
}

/// "A, B and 3 more" for a list of symbols.
pub(super) fn list(items: &[String]) -> String {
    const SHOWN: usize = 5;
    if items.len() <= SHOWN {
        items.join(", ")
    } else {
        format!(
            "{} and {} more",
            items[..SHOWN].join(", "),
            items.len() - SHOWN
        )
    }
}

/// What loads `m`: its service roots, then each IIS image and worker
/// bitness (`global module X (64-bit worker)`).
pub(super) fn loaded_by(m: &Module) -> Vec<String> {
    let mut out = m.needed_by.clone();
    for w in &m.workers {
        let what = if w.kind == "filter" {
            "ISAPI filter"
        } else {
            "global module"
        };
        out.push(format!("{what} {} ({}-bit worker)", w.name, w.bits));
    }
    out
}

/// The IIS side of a loader finding on `m`: the first IIS image whose
/// worker load reaches it and that some pool loads.
pub(super) struct WorkerSide {
    /// "the global module 'X' (image) cannot load in the 64-bit worker of
    /// Pool (site/): <symptom>".
    pub clause: String,
    pub evidence: IisModuleEvidence,
    pub bits: u32,
    pub name: String,
    pub references: Vec<String>,
}

/// `code` is the Win32 error the load fails with (event 2280's data).
pub(super) fn worker_side(cx: &Context, m: &Module, code: u32) -> Option<WorkerSide> {
    let k = cx.knowledge.modules.as_ref()?;
    let install = cx.install;
    for w in &m.workers {
        let Some(image) = install
            .iis_images
            .iter()
            .find(|i| i.kind == w.kind && i.name == w.name && i.bits == w.bits)
        else {
            continue;
        };
        let Some(found) = image.binary.as_ref().and_then(|b| b.found.as_deref()) else {
            continue;
        };
        let pools = loading_pools(install, image);
        if pools.is_empty() {
            continue;
        }
        let says = match image.kind {
            "filter" => &k.filter_dependency,
            _ => &k.dependency,
        };
        let symptom = says
            .replace("{image}", found)
            .replace("{error}", &code.to_string());
        let view = if m.wow64 {
            " (a 32-bit process on 64-bit Windows: its loader reads system32 as SysWOW64)"
        } else {
            ""
        };
        let clause = format!(
            "the {} '{}' ({}) cannot load in the {}-bit worker{view} of {}: {}",
            what(image),
            image.name,
            found,
            image.bits,
            pools_phrase(&pools),
            symptom
        );
        let machine = install
            .files
            .iter()
            .find(|f| f.path == found)
            .and_then(|f| f.machine);
        return Some(WorkerSide {
            clause,
            evidence: module_evidence(install, image, found, machine, pools),
            bits: image.bits,
            name: image.name.clone(),
            references: k.references.clone(),
        });
    }
    None
}

/// Whether a finding on `m` has something it breaks: a service root, or an
/// IIS image some pool loads.
pub(super) fn breaks_something(m: &Module, side: &Option<WorkerSide>) -> bool {
    !m.needed_by.is_empty() || side.is_some()
}

/// ", so W3SVC cannot start" / "; the global module …" / both.
pub(super) fn consequence(m: &Module, side: &Option<WorkerSide>) -> String {
    match (m.needed_by.is_empty(), side) {
        (_, None) => format!(", so {} cannot start", breaks(m)),
        (true, Some(s)) => format!("; {}", s.clause),
        (false, Some(s)) => format!(", so {} cannot start; {}", joined(&m.needed_by), s.clause),
    }
}

/// The package architecture a process of `machine` needs.
pub(super) fn arch(machine: Option<u16>) -> &'static str {
    match machine {
        Some(0x014c) => "x86",
        Some(0xaa64) => "arm64",
        _ => "x64",
    }
}

/// The runtime package `dll` belongs to, for the process `m` loads into,
/// and its remedy.
pub(super) fn runtime(
    cx: &Context,
    m: &Module,
    dll: &str,
) -> Option<(RuntimeEvidence, String, Vec<String>)> {
    let r = cx.knowledge.loader.as_ref()?.runtime_of(dll)?;
    let a = arch(m.host_machine.or(m.machine));
    Some((
        RuntimeEvidence {
            arch: a.to_string(),
            dll: dll.to_string(),
            name: r.name.clone(),
        },
        r.remedy.replace("{arch}", a),
        r.references.clone(),
    ))
}

/// Fills the IIS and runtime parts of a loader finding: the `module` and
/// `runtime` evidence, the remedy, the references.
pub(super) fn fill_worker(
    cx: &Context,
    f: &mut Finding,
    m: &Module,
    dll: &str,
    side: Option<WorkerSide>,
) {
    let rt = runtime(cx, m, dll);
    if let Some((ev, remedy, refs)) = &rt {
        f.evidence.runtime = Some(ev.clone());
        f.remedy = format!("{remedy}.");
        f.references.extend(refs.iter().cloned());
    }
    if let Some(s) = side {
        if rt.is_none() {
            if let Some(k) = &cx.knowledge.modules {
                f.remedy = format!(
                    "{}.",
                    k.remedy_dependency
                        .replace("{dll}", dll)
                        .replace("{bits}", &s.bits.to_string())
                        .replace("{name}", &s.name)
                );
            }
        }
        f.evidence.module = Some(s.evidence);
        f.references.extend(s.references);
    }
    super::dedup(&mut f.references);
}
