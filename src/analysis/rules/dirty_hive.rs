//! dirty-hive: a hive whose sequence numbers differ was read as stored,
//! without replaying its transaction log, so recent registry changes may be
//! missing. File versions are read from disk and are not affected.

use super::{Context, Rule};
use crate::analysis::evidence::HiveEvidence;
use crate::analysis::{Finding, Severity};

pub struct DirtyHive;

impl Rule for DirtyHive {
    fn id(&self) -> &'static str {
        "dirty-hive"
    }
    fn summary(&self) -> &'static str {
        "a hive's sequence numbers differ: it was read as stored, without replaying its log"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn references(&self) -> &'static [&'static str] {
        &[]
    }
    fn evidence_keys(&self) -> &'static [&'static str] {
        &["hive"]
    }
    fn check(&self, cx: &Context) -> Vec<Finding> {
        cx.install
            .hives
            .iter()
            .filter(|h| h.dirty)
            .map(|hive| {
                let mut f = cx.finding(self);
                f.paths = vec![hive.path.clone()];
                f.message = format!("the {} hive is dirty (its last writes were not flushed) and was read as stored, without replaying its transaction log: recent registry changes may be missing", hive.name);
                f.evidence.hive = Some(HiveEvidence::of(hive));
                f.remedy = "Treat registry evidence as possibly stale; the file versions on disk are read directly and are not affected".into();
                f
            })
            .collect()
    }
}
