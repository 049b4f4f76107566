//! missing-dependency: a module a service loads imports a DLL that no
//! folder of the loader's search order holds (every one was read): the
//! load fails with 126 ERROR_MOD_NOT_FOUND ("The specified module could
//! not be found", Q291589's ISM symptom).

use super::imports::{base, breaks, evidence, facts, win32};
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
        &["import", "searched"]
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
                let mut f = base(cx, self, m);
                f.message = format!(
                    "{} imports {}, which none of the {} folders the loader searches holds: loading it fails with {code}, so {} cannot start",
                    m.path,
                    i.dll,
                    searched.len(),
                    breaks(m)
                );
                f.evidence.import = Some(evidence(facts, m, i, code));
                f.evidence.searched = Some(searched.clone());
                out.push(f);
            }
        }
        out
    }
}
