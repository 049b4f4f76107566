//! no-version-resource: an IIS file, service binary or add-on DLL has no
//! readable version resource, so no version rule can judge it.

use super::remedy::lower_first;
use super::{Context, Rule};
use crate::analysis::evidence::FileEvidence;
use crate::analysis::{Finding, Severity};

pub struct NoVersionResource;

impl Rule for NoVersionResource {
    fn id(&self) -> &'static str {
        "no-version-resource"
    }
    fn summary(&self) -> &'static str {
        "an IIS file, service binary or add-on DLL has no readable version resource"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn references(&self) -> &'static [&'static str] {
        &["KB888535"]
    }
    fn evidence_keys(&self) -> &'static [&'static str] {
        &["file"]
    }
    fn check(&self, cx: &Context) -> Vec<Finding> {
        let install = cx.install;
        // Files the registry names (service binaries, add-on DLLs), as found.
        let named: Vec<&str> = install
            .services
            .iter()
            .flat_map(|s| s.binaries.iter())
            .chain(install.addons.iter().flat_map(|a| a.dlls.iter()))
            .filter_map(|b| b.found.as_deref())
            .collect();
        let mut out = Vec::new();
        for file in &install.files {
            if file
                .version
                .as_ref()
                .is_some_and(|v| v.file_version.is_some())
            {
                continue;
            }
            // A file that could not be read at all is a coverage gap (listed
            // as unreadable), not a file without a version resource.
            if install.unreadable.iter().any(|u| u.path == file.path) {
                continue;
            }
            let in_family = cx
                .families
                .iter()
                .any(|f| f.files.iter().any(|n| n.eq_ignore_ascii_case(file.name())));
            if !in_family && !named.contains(&file.path.as_str()) {
                continue;
            }
            let reason = file
                .error
                .as_deref()
                .unwrap_or("VS_FIXEDFILEINFO is missing");
            let mut f = cx.finding(self);
            f.paths = vec![file.path.clone()];
            f.message = format!(
                "{} has no readable version resource ({reason}), so its level cannot be compared",
                file.name()
            );
            f.evidence.file = Some(FileEvidence::of(file));
            f.remedy = format!(
                "Check the file against a known-good copy; if it is damaged, {}",
                lower_first(&cx.remedy())
            );
            f.references = self.references().iter().map(|r| r.to_string()).collect();
            out.push(f);
        }
        out
    }
}
