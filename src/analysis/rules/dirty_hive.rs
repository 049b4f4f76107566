//! dirty-hive: a hive whose sequence numbers differ was read as stored,
//! without replaying its transaction log, so recent registry changes may be
//! missing. File versions are read from disk and are not affected. A hive
//! whose old-format log was replayed is not dirty (`HiveInfo::dirty` is false)
//! and this rule does not fire for it.

use super::{Context, Rule};
use crate::analysis::evidence::HiveEvidence;
use crate::analysis::{Finding, Severity};

pub struct DirtyHive;

impl Rule for DirtyHive {
    fn id(&self) -> &'static str {
        "dirty-hive"
    }
    fn summary(&self) -> &'static str {
        "a dirty hive was read as stored: no transaction log of it could be replayed (the message says why)"
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
                if let Some(why) = hive.dirty_reason() {
                    f.message.push_str(&format!(" ({why})"));
                }
                f.evidence.hive = Some(HiveEvidence::of(hive));
                f.remedy = "Treat registry evidence as possibly stale; the file versions on disk are read directly and are not affected".into();
                f
            })
            .collect()
    }
}
