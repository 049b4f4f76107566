//! behind-service-pack: a file older than the service-pack baseline the OS
//! reports (KB 2009746: IIS left at SP1 level on an SP2 system). Baselines
//! are knowledge; the rule only compares.

use super::files::{file_version, members, on_version_line};
use super::timeline::timeline;
use super::{dedup, Context, Rule};
use crate::analysis::evidence::FileEvidence;
use crate::analysis::{Finding, Severity};

pub struct BehindServicePack;

impl Rule for BehindServicePack {
    fn id(&self) -> &'static str {
        "behind-service-pack"
    }
    fn summary(&self) -> &'static str {
        "a file is older than the service-pack baseline the OS reports"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn references(&self) -> &'static [&'static str] {
        &["KB2009746", "KB920720"]
    }
    fn evidence_keys(&self) -> &'static [&'static str] {
        &["file", "service_pack", "baseline_version", "timeline"]
    }
    fn check(&self, cx: &Context) -> Vec<Finding> {
        let install = cx.install;
        let (Some(osv), Some(sp)) = (&install.os.version, &install.os.service_pack) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for b in cx
            .knowledge
            .baseline
            .iter()
            .filter(|b| &b.os_version == osv && b.service_pack.eq_ignore_ascii_case(sp.trim()))
        {
            let Some(family) = cx.families.iter().find(|f| f.id == b.family) else {
                continue;
            };
            for file in members(install, &family.files) {
                let Some(v) = file_version(file) else {
                    continue;
                };
                if v >= b.min_version || !on_version_line(&v, &family.version_line) {
                    continue;
                }
                let mut f = cx.finding(self);
                f.paths = vec![file.path.clone()];
                f.message = format!(
                    "{} is at {v}, older than the {} level of {} ({}) that the OS reports",
                    file.name(),
                    sp,
                    family.name,
                    b.min_version
                );
                f.evidence.file = Some(FileEvidence::of(file));
                f.evidence.service_pack = Some(sp.clone());
                f.evidence.baseline_version = Some(b.min_version);
                f.evidence.timeline = Some(timeline(install, file, &[]));
                f.remedy = cx.remedy();
                f.references = b.references.clone();
                f.references.extend(family.references.iter().cloned());
                dedup(&mut f.references);
                out.push(f);
            }
        }
        out
    }
}
