//! wrong-machine: a module's machine type is not its process's (a 64-bit
//! DLL in a 32-bit service, or the reverse): the load fails with 193
//! ERROR_BAD_EXE_FORMAT.

use super::imports::{breaks, breaks_something, facts, fill_worker, loaded_by, win32, worker_side};
use super::{Context, Rule};
use crate::analysis::evidence::{machine, ImportEvidence, ModuleEvidence};
use crate::analysis::{Finding, Severity};

pub struct WrongMachine;

impl Rule for WrongMachine {
    fn id(&self) -> &'static str {
        "wrong-machine"
    }
    fn summary(&self) -> &'static str {
        "a module's machine type is not that of the process that loads it"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn references(&self) -> &'static [&'static str] {
        &[]
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
            let (Some(own), Some(host)) = (m.machine, m.host_machine) else {
                continue;
            };
            if own == host {
                continue;
            }
            let code = win32(cx, 193);
            let side = worker_side(cx, m, 193);
            if !breaks_something(m, &side) {
                continue;
            }
            let mut f = cx.finding(self);
            f.paths = vec![m.path.clone()];
            let who = match (&side, m.needed_by.is_empty()) {
                (Some(_), true) => "the worker process".to_string(),
                _ => breaks(m),
            };
            f.message = format!(
                "{} is a {} module, but {who} runs as a {} process: loading it fails with {code}{}",
                m.path,
                machine(own),
                machine(host),
                side.as_ref()
                    .map(|s| format!("; {}", s.clause))
                    .unwrap_or_default()
            );
            f.evidence.import = Some(ImportEvidence {
                delay: false,
                dll: m.path.rsplit('\\').next().unwrap_or(&m.path).to_string(),
                exporter: Some(ModuleEvidence::of(m)),
                forwarders: Vec::new(),
                importer: ModuleEvidence {
                    machine: Some(machine(host)),
                    path: who.clone(),
                    version: None,
                },
                loaded_by: loaded_by(m),
                missing: Vec::new(),
                win32_error: code,
            });
            f.remedy = format!(
                "Replace {} with the {} build of the same version",
                m.path,
                machine(host)
            );
            if let Some(l) = &cx.knowledge.loader {
                f.references = l.references.clone();
            }
            let dll = m.path.rsplit('\\').next().unwrap_or(&m.path).to_string();
            fill_worker(cx, &mut f, m, &dll, side);
            out.push(f);
        }
        out
    }
}
