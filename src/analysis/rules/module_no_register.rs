//! module-no-register: a global module image a pool's worker loads does not
//! export `RegisterModule`, the entry point IIS 7 and later call to register
//! a native module: the worker logs event 2295 and exits, and rapid-fail
//! protection stops the pool. An image whose exports could not be read is
//! not judged (it is a coverage gap, said by the loader).

use super::pools::{evidence, loading_pools, pools_phrase};
use super::{Context, Rule};
use crate::analysis::evidence::FileEvidence;
use crate::analysis::{Finding, Severity};

pub struct ModuleNoRegister;

impl Rule for ModuleNoRegister {
    fn id(&self) -> &'static str {
        "module-no-register"
    }
    fn summary(&self) -> &'static str {
        "an IIS 7+ global module image does not export RegisterModule (event 2295)"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn references(&self) -> &'static [&'static str] {
        &["cc735035"]
    }
    fn evidence_keys(&self) -> &'static [&'static str] {
        &["file", "module"]
    }
    fn check(&self, cx: &Context) -> Vec<Finding> {
        let install = cx.install;
        let Some(k) = &cx.knowledge.modules else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut done: Vec<&str> = Vec::new();
        for image in &install.iis_images {
            if image.register_module != Some(Ok(false)) {
                continue;
            }
            let Some(found) = image.binary.as_ref().and_then(|b| b.found.as_deref()) else {
                continue;
            };
            let pools = loading_pools(install, image);
            // One finding per file, even when both bitnesses resolve to it.
            if pools.is_empty() || done.contains(&found) {
                continue;
            }
            done.push(found);
            let file = install.files.iter().find(|f| f.path == found);
            let fill = |t: &str| t.replace("{image}", found).replace("{name}", &image.name);
            let mut f = cx.finding(self);
            f.message = format!(
                "the global module '{}' ({}) loads {} in the {}-bit worker of {}, which exports no RegisterModule: {}",
                image.name,
                image.image,
                found,
                image.bits,
                pools_phrase(&pools),
                fill(&k.no_register)
            );
            f.paths = vec![found.to_string()];
            f.evidence.file = file.map(FileEvidence::of);
            f.evidence.module = Some(evidence(
                install,
                image,
                found,
                file.and_then(|f| f.machine),
                pools,
            ));
            f.remedy = format!("{}.", fill(&k.remedy_no_register));
            f.references = k.references.clone();
            out.push(f);
        }
        out
    }
}
