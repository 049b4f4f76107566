//! What the loader-check rules share: the evidence of one import, the
//! modules a rule reports and how a finding names what it breaks.

use super::Context;
use crate::analysis::evidence::{ImportEvidence, ModuleEvidence};
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

/// "W3SVC" / "W3SVC and AddOnServices\WWW".
pub(super) fn breaks(m: &Module) -> String {
    match m.needed_by.as_slice() {
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
        facts.module(p).map(ModuleEvidence::of).or_else(|| {
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
        loaded_by: importer.needed_by.clone(),
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
