//! missing-service-binary: an IIS service's ImagePath or ServiceDll names a
//! file that is not on the volume, so the service cannot start. A file whose
//! presence could not be checked (an unreadable folder) is not called missing.

use super::remedy::lower_first;
use super::{Context, Rule};
use crate::analysis::evidence::RegistryEvidence;
use crate::analysis::{Finding, Severity};

pub struct MissingServiceBinary;

impl Rule for MissingServiceBinary {
    fn id(&self) -> &'static str {
        "missing-service-binary"
    }
    fn summary(&self) -> &'static str {
        "an IIS service's ImagePath or ServiceDll names a file that is not on the volume"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn references(&self) -> &'static [&'static str] {
        &[]
    }
    fn evidence_keys(&self) -> &'static [&'static str] {
        &["registry"]
    }
    fn check(&self, cx: &Context) -> Vec<Finding> {
        let install = cx.install;
        let control_set = install
            .control_set
            .as_ref()
            .map(|c| c.name.as_str())
            .unwrap_or("?");
        let mut out = Vec::new();
        for svc in &install.services {
            for bin in svc
                .binaries
                .iter()
                .filter(|b| b.found.is_none() && b.unreadable.is_none())
            {
                let mut f = cx.finding(self);
                f.paths = vec![bin.path.clone()];
                f.message = format!(
                    "service {} names {} in {}, and that file is not on the volume: the service cannot start",
                    svc.name, bin.path, bin.source
                );
                // The key that actually holds the value: ServiceDll may sit
                // under Parameters or on the service key itself.
                let service_key = format!(r"{control_set}\Services\{}", svc.name);
                let (data, key, last_written) = if bin.source == "ServiceDll" {
                    (
                        svc.service_dll.clone(),
                        svc.service_dll_key.clone().unwrap_or(service_key),
                        svc.service_dll_last_written,
                    )
                } else {
                    (svc.image_path.clone(), service_key, svc.last_written)
                };
                f.evidence.registry = Some(RegistryEvidence {
                    data,
                    key,
                    last_written,
                    value: bin.source.clone(),
                });
                f.remedy = format!(
                    "Restore {} (reinstall the component), then {}",
                    bin.path,
                    lower_first(&cx.remedy())
                );
                f.references = cx
                    .knowledge
                    .services
                    .as_ref()
                    .map(|s| s.references.clone())
                    .unwrap_or_default();
                out.push(f);
            }
        }
        out
    }
}
