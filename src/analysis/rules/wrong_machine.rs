//! wrong-machine: a module's machine type is not its process's (a 64-bit
//! DLL in a 32-bit service, or the reverse): the load fails with 193
//! ERROR_BAD_EXE_FORMAT.

use super::imports::{breaks, facts, win32};
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
        &["import"]
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
            let mut f = cx.finding(self);
            f.paths = vec![m.path.clone()];
            f.message = format!(
                "{} is a {} module, but {} runs as a {} process: loading it fails with {code}",
                m.path,
                machine(own),
                breaks(m),
                machine(host)
            );
            f.evidence.import = Some(ImportEvidence {
                delay: false,
                dll: m.path.rsplit('\\').next().unwrap_or(&m.path).to_string(),
                exporter: Some(ModuleEvidence::of(m)),
                forwarders: Vec::new(),
                importer: ModuleEvidence {
                    machine: Some(machine(host)),
                    path: breaks(m),
                    version: None,
                },
                loaded_by: m.needed_by.clone(),
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
            out.push(f);
        }
        out
    }
}
