//! missing-addon-dll: an ISM `AddOnServices` configuration DLL (either half
//! of a `::SUPCFG:` pair) is not on the volume, and the Internet Service
//! Manager says "The service configuration dll … failed to load correctly"
//! (Q291589, Q216802). Where bare names are looked for is knowledge.

use super::remedy::lower_first;
use super::{Context, Rule};
use crate::analysis::evidence::RegistryEvidence;
use crate::analysis::{Finding, Severity};

pub struct MissingAddonDll;

impl Rule for MissingAddonDll {
    fn id(&self) -> &'static str {
        "missing-addon-dll"
    }
    fn summary(&self) -> &'static str {
        "an ISM AddOnServices configuration DLL is not on the volume"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn references(&self) -> &'static [&'static str] {
        &["Q291589", "Q216802"]
    }
    fn evidence_keys(&self) -> &'static [&'static str] {
        &["registry", "searched"]
    }
    fn check(&self, cx: &Context) -> Vec<Finding> {
        let install = cx.install;
        let Some(addons) = &cx.knowledge.addons else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for addon in &install.addons {
            for dll in addon
                .dlls
                .iter()
                .filter(|d| d.found.is_none() && d.unreadable.is_none())
            {
                let path = if dll.path.contains('\\') {
                    dll.path.clone()
                } else {
                    format!(
                        r"{}\{}\{}",
                        install.system_root,
                        addons
                            .search
                            .first()
                            .map(String::as_str)
                            .unwrap_or("system32"),
                        dll.path
                    )
                };
                let mut f = cx.finding(self);
                f.message = format!(
                    "the Internet Service Manager add-on '{}' names {}, which is not on the volume: ISM reports \"The service configuration dll ({}) failed to load correctly. The specified module could not be found.\"",
                    addon.name, path, path.rsplit('\\').next().unwrap_or(&path)
                );
                f.paths = vec![path];
                f.evidence.registry = Some(RegistryEvidence {
                    data: Some(addon.value.clone()),
                    key: format!(r"SOFTWARE\{}", addons.key),
                    last_written: addon.last_written,
                    value: addon.name.clone(),
                });
                f.evidence.searched = Some(addons.search.clone());
                f.remedy = format!(
                    "Reinstall the product that registered '{}' (for Proxy Server 2.0, reinstall it and then {}), or remove the stale AddOnServices value",
                    addon.name,
                    lower_first(&cx.remedy())
                );
                f.references = addons.references.clone();
                out.push(f);
            }
        }
        out
    }
}
