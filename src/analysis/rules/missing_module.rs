//! missing-module: a global module or ISAPI filter that applicationHost.config
//! names is not where a worker process that loads it looks (IIS 7 and
//! later). The worker fails to start, logs event 2280 (or 2268 for a
//! filter), and rapid-fail protection stops the pool: its applications
//! answer 503. What the worker says and the remedy are knowledge.

use super::pools::{evidence, loading_pools, pools_phrase, what};
use super::{Context, Rule};
use crate::analysis::{Finding, Severity};

pub struct MissingModule;

impl Rule for MissingModule {
    fn id(&self) -> &'static str {
        "missing-module"
    }
    fn summary(&self) -> &'static str {
        "an IIS 7+ global module or ISAPI filter image is not where a worker process that loads it looks"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn references(&self) -> &'static [&'static str] {
        &["cc735035"]
    }
    fn evidence_keys(&self) -> &'static [&'static str] {
        &["module"]
    }
    fn check(&self, cx: &Context) -> Vec<Finding> {
        let install = cx.install;
        let Some(k) = &cx.knowledge.modules else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for image in &install.iis_images {
            let Some(binary) = &image.binary else {
                continue;
            };
            // Found, or not looked for everywhere: no finding.
            if binary.found.is_some() || binary.unreadable.is_some() {
                continue;
            }
            let pools = loading_pools(install, image);
            if pools.is_empty() {
                continue;
            }
            let (says, remedy) = match image.kind {
                "filter" => (&k.filter_missing, &k.remedy_filter),
                _ => (&k.missing, &k.remedy_missing),
            };
            let fill = |t: &str| {
                t.replace("{image}", &binary.path)
                    .replace("{name}", &image.name)
            };
            let mut f = cx.finding(self);
            f.message = format!(
                "the {} '{}' is configured as {}; the {}-bit worker of {} loads {}, which is not on the volume: {}",
                what(image),
                image.name,
                image.image,
                image.bits,
                pools_phrase(&pools),
                binary.path,
                fill(says)
            );
            f.paths = vec![binary.path.clone()];
            f.evidence.module = Some(evidence(install, image, &binary.path, None, pools));
            f.remedy = format!("{}.", fill(remedy));
            f.references = k.references.clone();
            out.push(f);
        }
        out
    }
}
