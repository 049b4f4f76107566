//! pending-rename: IIS files are queued in PendingFileRenameOperations, so
//! the files on disk are not what the next boot loads (Q296861: chained
//! hotfixes without a restart can leave an older file).

use super::{Context, Rule};
use crate::analysis::{Finding, Severity};

pub struct PendingRename;

impl Rule for PendingRename {
    fn id(&self) -> &'static str {
        "pending-rename"
    }
    fn summary(&self) -> &'static str {
        "IIS files are queued in PendingFileRenameOperations"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn references(&self) -> &'static [&'static str] {
        &["Q296861", "KB815062"]
    }
    fn evidence_keys(&self) -> &'static [&'static str] {
        &["pending_renames"]
    }
    fn check(&self, cx: &Context) -> Vec<Finding> {
        let install = cx.install;
        let names = cx.knowledge.interesting_files();
        let hits: Vec<&String> = install
            .pending_renames
            .iter()
            .filter(|p| {
                let lower = p.to_ascii_lowercase();
                names.iter().any(|n| lower.ends_with(&format!("\\{n}")))
            })
            .collect();
        if hits.is_empty() {
            return Vec::new();
        }
        let mut f = cx.finding(self);
        f.paths = hits
            .iter()
            .filter_map(|p| install.display_path(p))
            .collect();
        f.message = "IIS files are queued in PendingFileRenameOperations: the files on disk are not what the next boot will load".into();
        f.evidence.pending_renames = Some(install.pending_renames.clone());
        f.remedy = "Restart once so the queued replacements complete (chained hotfixes without a restart can leave an older file: use QChain), then check again".into();
        f.references = self.references().iter().map(|r| r.to_string()).collect();
        vec![f]
    }
}
