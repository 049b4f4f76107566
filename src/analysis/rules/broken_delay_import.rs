//! broken-delay-import: a delay import that cannot be bound (its DLL in no
//! folder searched, or a name or ordinal it does not export). The service
//! starts; the first call through the import fails (the delay-load helper
//! raises an exception), so this is a warning.

use super::imports::{base, breaks, evidence, facts, list, win32};
use super::{Context, Rule};
use crate::analysis::{Finding, Severity};
use crate::windows::loader::Outcome;

pub struct BrokenDelayImport;

impl Rule for BrokenDelayImport {
    fn id(&self) -> &'static str {
        "broken-delay-import"
    }
    fn summary(&self) -> &'static str {
        "a delay import cannot be bound: it fails at the first call, not at start"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn references(&self) -> &'static [&'static str] {
        &[]
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
            for i in m.imports.iter().filter(|i| i.delay) {
                let (what, code, searched) = match &i.outcome {
                    Outcome::Missing { searched } => (
                        format!(
                            "{}, which none of the folders the loader searches holds",
                            i.dll
                        ),
                        126,
                        Some(searched.clone()),
                    ),
                    Outcome::Found { path, .. } if !i.missing.is_empty() => {
                        let s: Vec<String> = i.missing.iter().map(|s| s.symbol.clone()).collect();
                        (
                            format!("{} from {}, which {path} does not export", list(&s), i.dll),
                            127,
                            None,
                        )
                    }
                    _ => continue,
                };
                let code = win32(cx, code);
                let mut f = base(cx, self, m);
                f.message = format!(
                    "{} delay-imports {what}: {} starts, but the first call through it fails with {code}",
                    m.path,
                    breaks(m)
                );
                f.evidence.import = Some(evidence(facts, m, i, code));
                f.evidence.searched = searched;
                out.push(f);
            }
        }
        out
    }
}
