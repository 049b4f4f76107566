//! broken-import: a module a service loads imports a name or ordinal that
//! the DLL the loader would bind it to does not export (forwarders
//! followed): the load fails with 127 ERROR_PROC_NOT_FOUND and the service
//! does not start (Q291589's symptom of files at different levels).

use super::imports::{
    base, breaks_something, consequence, evidence, facts, fill_worker, list, win32, worker_side,
};
use super::{Context, Rule};
use crate::analysis::{Finding, Severity};
use crate::windows::loader::Outcome;

pub struct BrokenImport;

impl Rule for BrokenImport {
    fn id(&self) -> &'static str {
        "broken-import"
    }
    fn summary(&self) -> &'static str {
        "a module a service loads imports a name or ordinal the DLL the loader finds does not export"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn references(&self) -> &'static [&'static str] {
        &["Q291589"]
    }
    fn evidence_keys(&self) -> &'static [&'static str] {
        &["import", "module", "runtime"]
    }
    fn check(&self, cx: &Context) -> Vec<Finding> {
        let Some(facts) = facts(cx) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for m in &facts.modules {
            for i in m
                .imports
                .iter()
                .filter(|i| !i.delay && !i.missing.is_empty())
            {
                let Outcome::Found { path, .. } = &i.outcome else {
                    continue;
                };
                let code = win32(cx, 127);
                let side = worker_side(cx, m, 127);
                if !breaks_something(m, &side) {
                    continue;
                }
                let ev = evidence(facts, m, i, code.clone());
                let symbols: Vec<String> = i.missing.iter().map(|s| s.symbol.clone()).collect();
                let version = ev
                    .exporter
                    .as_ref()
                    .and_then(|e| e.version)
                    .map(|v| format!(" (version {v})"))
                    .unwrap_or_default();
                let mut f = base(cx, self, m);
                f.message = format!(
                    "{} imports {} from {}, which {}{version} does not export{}: loading it fails with {code}{}",
                    m.path,
                    list(&symbols),
                    i.dll,
                    path,
                    if ev.forwarders.is_empty() { String::new() } else { format!(" (via {})", ev.forwarders.join(", ")) },
                    consequence(m, &side)
                );
                f.evidence.import = Some(ev);
                fill_worker(cx, &mut f, m, &i.dll, side);
                out.push(f);
            }
        }
        out
    }
}
