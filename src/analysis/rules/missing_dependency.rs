//! missing-dependency: a module a service loads imports a DLL that no
//! folder of the loader's search order holds (every one was read): the
//! load fails with 126 ERROR_MOD_NOT_FOUND ("The specified module could
//! not be found", Q291589's ISM symptom). IIS 7 and later: the same for
//! each global module and ISAPI filter image, bound as the worker of each
//! bitness binds it (a 32-bit worker on 64-bit Windows searches SysWOW64):
//! the worker logs event 2280 and its pool answers 503. A DLL of a runtime
//! the knowledge names (the Visual C++ runtime) gets its redistributable of
//! that bitness as the remedy.

use super::imports::{
    base, breaks_something, consequence, evidence, facts, fill_worker, win32, worker_side,
};
use super::{Context, Rule};
use crate::analysis::{Finding, Severity};
use crate::windows::loader::Outcome;

pub struct MissingDependency;

impl Rule for MissingDependency {
    fn id(&self) -> &'static str {
        "missing-dependency"
    }
    fn summary(&self) -> &'static str {
        "a module a service loads imports a DLL that no folder the loader searches holds"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn references(&self) -> &'static [&'static str] {
        &["Q291589", "Q164501"]
    }
    fn evidence_keys(&self) -> &'static [&'static str] {
        &["import", "searched", "module", "runtime"]
    }
    fn check(&self, cx: &Context) -> Vec<Finding> {
        let Some(facts) = facts(cx) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for m in &facts.modules {
            for i in m.imports.iter().filter(|i| !i.delay) {
                let Outcome::Missing { searched } = &i.outcome else {
                    continue;
                };
                let code = win32(cx, 126);
                let side = worker_side(cx, m, 126);
                if !breaks_something(m, &side) {
                    continue;
                }
                let mut f = base(cx, self, m);
                f.message = format!(
                    "{} imports {}, which none of the {} folders the loader searches holds: loading it fails with {code}{}",
                    m.path,
                    i.dll,
                    searched.len(),
                    consequence(m, &side)
                );
                f.evidence.import = Some(evidence(facts, m, i, code));
                f.evidence.searched = Some(searched.clone());
                fill_worker(cx, &mut f, m, &i.dll, side);
                out.push(f);
            }
        }
        out
    }
}
