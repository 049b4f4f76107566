//! ancm-handler-missing: IIS 7 and later. An application's `web.config`
//! configures the ASP.NET Core Module (`<aspNetCore>`), and the request
//! handler the module loads for its hosting model is in none of the places
//! the module looks: in process, the app's folder and the ASP.NET Core
//! shared framework's version folders under the dotnet root of the worker's
//! bitness; out of process, the version folder beside aspnetcorev2.dll. The
//! app answers HTTP 500.3x and does not start; the codes and the remedy are
//! knowledge. A place that could not be read leaves the check "not
//! checked", never missing.

use super::pools::{named_pools, pools_phrase};
use super::{Context, Rule};
use crate::analysis::evidence::AncmEvidence;
use crate::analysis::{Finding, Severity};

pub struct AncmHandlerMissing;

impl Rule for AncmHandlerMissing {
    fn id(&self) -> &'static str {
        "ancm-handler-missing"
    }
    fn summary(&self) -> &'static str {
        "an ASP.NET Core app's request handler is in none of the places the ASP.NET Core Module looks"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn references(&self) -> &'static [&'static str] {
        &[]
    }
    fn evidence_keys(&self) -> &'static [&'static str] {
        &["ancm"]
    }
    fn check(&self, cx: &Context) -> Vec<Finding> {
        let install = cx.install;
        let (Some(k), Some(file)) = (&cx.knowledge.ancm, &install.iis_config) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for w in &file.web_configs {
            let (Some(h), Some(bits)) = (&w.ancm, w.bits) else {
                continue;
            };
            let says = match (h.hosting_model, h.state) {
                ("inprocess", "missing") => &k.inprocess_missing,
                ("inprocess", "no-framework") => &k.inprocess_no_framework,
                ("outofprocess", "missing") => &k.outofprocess_missing,
                ("outofprocess", "no-version-folder") => &k.outofprocess_no_version,
                _ => continue,
            };
            let says = says
                .replace("{handler}", &h.handler)
                .replace("{bits}", &bits.to_string());
            let pools = named_pools(install, std::slice::from_ref(&w.pool));
            let web_config = w.path.clone().unwrap_or_default();
            let app = format!("{}{}", w.site, w.application);
            let mut f = cx.finding(self);
            f.message = format!(
                "{app} (pool {}) runs ASP.NET Core {} ({web_config}); the {bits}-bit worker looks for {} at {}: {says}",
                pools_phrase(&pools),
                match h.hosting_model {
                    "inprocess" => "in process",
                    _ => "out of process",
                },
                h.handler,
                h.searched.join(", ")
            );
            f.paths = h.searched.clone();
            f.evidence.ancm = Some(AncmEvidence {
                application: app,
                bits,
                handler: h.handler.clone(),
                hosting_model: h.hosting_model.to_string(),
                pools,
                searched: h.searched.clone(),
                state: h.state.to_string(),
                web_config,
            });
            f.remedy = format!("{}.", k.remedy);
            f.references = k.references.clone();
            out.push(f);
        }
        out
    }
}
