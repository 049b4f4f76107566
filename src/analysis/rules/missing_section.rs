//! missing-section: IIS 7 and later. A configuration file (an
//! application's `web.config`, or `applicationHost.config` at the server
//! level or in a `<location>`) sets a section below `<system.webServer>`
//! that nothing stands behind: no `<configSections>` declares it, or no
//! schema file of `inetsrv\config\schema` defines it, or the module that
//! acts on it (per the knowledge's component table) is not a global
//! module. The first two make every request the file governs fail with
//! HTTP 500.19; the symptom texts and remedies are knowledge.

use std::collections::BTreeMap;

use super::pools::{named_pools, pools_phrase};
use super::{Context, Rule};
use crate::analysis::evidence::SectionEvidence;
use crate::analysis::{Finding, Severity};
use crate::windows::iis_config::SectionUse;
use crate::windows::WebConfig;

pub struct MissingSection;

/// (location, state, component or section): one finding each.
type Key = (Option<String>, &'static str, String);
/// The sections of one finding: declared, schema, module registered.
type Group = (Vec<String>, bool, Option<bool>, Option<bool>);

/// One configuration file's uses and the applications it governs.
struct Source<'a> {
    config: String,
    uses: Vec<&'a SectionUse>,
    /// (site, application path, pool).
    apps: Vec<(String, String, String)>,
    /// Sections that web.configs above it in the URL space declare.
    inherited: Vec<&'a str>,
}

impl Rule for MissingSection {
    fn id(&self) -> &'static str {
        "missing-section"
    }
    fn summary(&self) -> &'static str {
        "an IIS 7+ configuration sets a section that is not declared, has no schema or whose module is not registered"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn references(&self) -> &'static [&'static str] {
        &["KB942055"]
    }
    fn evidence_keys(&self) -> &'static [&'static str] {
        &["section"]
    }
    fn check(&self, cx: &Context) -> Vec<Finding> {
        let install = cx.install;
        let (Some(k), Some(file)) = (&cx.knowledge.sections, &install.iis_config) else {
            return Vec::new();
        };
        let config = &file.config;
        let all_apps: Vec<(String, String, String)> = config
            .sites
            .iter()
            .flat_map(|s| {
                s.applications
                    .iter()
                    .map(move |a| (s.name.clone(), a.path.clone(), a.pool.clone()))
            })
            .collect();
        let mut sources: Vec<Source> = Vec::new();
        // applicationHost.config: a use in <location path="Site/app"> governs
        // that site's applications at or below the path.
        let mut by_location: BTreeMap<Option<String>, Vec<&SectionUse>> = BTreeMap::new();
        for u in &config.uses {
            by_location.entry(u.location.clone()).or_default().push(u);
        }
        for (location, uses) in by_location {
            let apps = match &location {
                None => all_apps.clone(),
                Some(l) => {
                    let l = l.trim_matches('/').to_ascii_lowercase();
                    all_apps
                        .iter()
                        .filter(|(s, p, _)| {
                            let full = format!("{s}{p}").to_ascii_lowercase();
                            let full = full.trim_end_matches('/');
                            full == l
                                || full.starts_with(&format!("{l}/"))
                                || l.starts_with(&format!("{full}/"))
                        })
                        .cloned()
                        .collect()
                }
            };
            sources.push(Source {
                config: file.path.clone(),
                uses,
                apps,
                inherited: Vec::new(),
            });
        }
        // Each web.config read, once per path (applications may share one).
        let mut by_path: BTreeMap<String, Vec<&WebConfig>> = BTreeMap::new();
        for w in file.web_configs.iter().filter(|w| w.state == "read") {
            if let Some(p) = &w.path {
                by_path.entry(p.to_ascii_lowercase()).or_default().push(w);
            }
        }
        for ws in by_path.values() {
            let first = ws[0];
            let Some(c) = &first.config else { continue };
            // Sections declared by the web.configs of the applications above
            // this one in its site.
            let inherited: Vec<&str> = file
                .web_configs
                .iter()
                .filter(|p| p.state == "read" && p.site == first.site)
                .filter(|p| {
                    let a = p.application.trim_end_matches('/');
                    ws.iter().any(|w| {
                        w.application != p.application
                            && w.application.starts_with(&format!("{a}/"))
                    })
                })
                .filter_map(|p| p.config.as_ref())
                .flat_map(|c| c.sections.iter().map(String::as_str))
                .collect();
            sources.push(Source {
                config: first.path.clone().unwrap_or_default(),
                uses: c.uses.iter().collect(),
                apps: ws
                    .iter()
                    .map(|w| (w.site.clone(), w.application.clone(), w.pool.clone()))
                    .collect(),
                inherited,
            });
        }
        let registered = |names: &[String]| {
            names.iter().any(|n| {
                config
                    .global_modules
                    .iter()
                    .any(|m| m.name.eq_ignore_ascii_case(n))
            })
        };
        let mut out = Vec::new();
        for src in sources.iter().filter(|s| !s.apps.is_empty()) {
            // (location, state, component or section) → sections and the
            // facts behind them.
            let mut groups: BTreeMap<Key, Group> = BTreeMap::new();
            for u in &src.uses {
                let declared = u.declared
                    || src
                        .inherited
                        .iter()
                        .any(|s| s.eq_ignore_ascii_case(&u.section));
                let schema = if file.schema.defines(&u.section) {
                    Some(true)
                } else if file.schema.complete() {
                    Some(false)
                } else {
                    None
                };
                let component = k.component(&u.section);
                let module = component.map(|c| registered(&c.modules));
                let state = if !declared {
                    "undeclared"
                } else if schema == Some(false) {
                    "no-schema"
                } else if module == Some(false) {
                    "no-module"
                } else {
                    continue;
                };
                let key = component.map_or_else(|| u.section.clone(), |c| c.name.clone());
                let g = groups.entry((u.location.clone(), state, key)).or_insert((
                    Vec::new(),
                    declared,
                    schema,
                    module,
                ));
                g.0.push(u.section.clone());
            }
            for ((location, state, _), (mut sections, declared, schema, module)) in groups {
                sections.sort();
                sections.dedup();
                let component = k.component(&sections[0]);
                let mut apps: Vec<String> =
                    src.apps.iter().map(|(s, p, _)| format!("{s}{p}")).collect();
                apps.sort();
                apps.dedup();
                let pool_names: Vec<String> = src.apps.iter().map(|a| a.2.clone()).collect();
                let pools = named_pools(install, &pool_names);
                let modules = component.map(|c| c.modules.clone()).unwrap_or_default();
                let fill = |t: &str| {
                    t.replace("{file}", &src.config)
                        .replace("{sections}", &sections.join(", "))
                        .replace("{apps}", &apps.join(", "))
                        .replace("{modules}", &modules.join(" or "))
                        .replace("{component}", component.map_or("", |c| c.name.as_str()))
                        .replace(
                            "{installer}",
                            component.map_or("", |c| c.installer.as_str()),
                        )
                };
                let (says, remedy) = match (state, component) {
                    (_, None) => (
                        if state == "no-schema" {
                            &k.no_schema
                        } else {
                            &k.undeclared
                        },
                        &k.remedy_unknown,
                    ),
                    ("undeclared", Some(_)) => (&k.undeclared, &k.remedy_undeclared),
                    ("no-schema", Some(_)) => (&k.no_schema, &k.remedy_no_schema),
                    (_, Some(_)) => (&k.no_module, &k.remedy_no_module),
                };
                let mut facts = Vec::new();
                if let Some(c) = component {
                    facts.push(format!("it belongs to {}", c.name));
                }
                facts.push(
                    match schema {
                        Some(true) => "a schema file defines it",
                        Some(false) => "no schema file defines it",
                        None => "the schema folder could not be read in full",
                    }
                    .to_string(),
                );
                if let (Some(m), false) = (module, modules.is_empty()) {
                    facts.push(format!(
                        "{} {} in <globalModules>",
                        modules.join(" or "),
                        if m { "is" } else { "is not" }
                    ));
                }
                let at = location
                    .as_deref()
                    .map(|l| format!(" in <location path=\"{l}\">"))
                    .unwrap_or_default();
                let mut f = cx.finding(self);
                f.message = format!(
                    "{}{at} sets {} for {} (pool {}): {}; {}",
                    src.config,
                    sections.join(", "),
                    apps.join(", "),
                    pools_phrase(&pools),
                    fill(says),
                    facts.join(", ")
                );
                f.paths = vec![src.config.clone()];
                f.evidence.section = Some(SectionEvidence {
                    applications: apps.clone(),
                    component: component.map(|c| c.name.clone()),
                    config: src.config.clone(),
                    declared,
                    location: location.clone(),
                    module_registered: module,
                    modules: modules.clone(),
                    pools,
                    schema,
                    schema_folder: file.schema.path.clone(),
                    sections: sections.clone(),
                    state: state.to_string(),
                });
                f.remedy = format!("{}.", fill(remedy));
                f.references = k.references.clone();
                if let Some(c) = component {
                    f.references.extend(c.references.iter().cloned());
                }
                out.push(f);
            }
        }
        out
    }
}
