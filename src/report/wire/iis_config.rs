//! `installs[].iis_config`: IIS 7 and later's `applicationHost.config` as
//! read, with each pool's applications.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::windows::iis_config as model;
use crate::windows::{IisConfigFile, ModuleImage};

#[derive(Serialize)]
pub(super) struct IisConfig<'a> {
    path: &'a str,
    /// Shared configuration: the configuration in force is at this path.
    redirected_to: Option<&'a str>,
    global_modules: Vec<GlobalModule<'a>>,
    modules: Vec<Module<'a>>,
    isapi_filters: Vec<Filter<'a>>,
    app_pools: Vec<Pool<'a>>,
    sites: Vec<Site<'a>>,
    sections: &'a BTreeSet<String>,
    /// The sections below `<system.webServer>` this file sets.
    uses: Vec<Use<'a>>,
    problems: &'a [String],
    /// `inetsrv\config\schema`: each file and the sections it defines.
    schema: Schema<'a>,
    /// Each application's `web.config`.
    web_configs: Vec<WebConfig<'a>>,
    /// Each module and filter image as the worker of each bitness some pool
    /// runs at resolves it.
    images: Vec<Image<'a>>,
}

#[derive(Serialize)]
struct Image<'a> {
    kind: &'a str,
    name: &'a str,
    bits: u32,
    /// The path that worker loads (`null` when it cannot be expanded offline).
    path: Option<&'a str>,
    /// The path as stored on disk, when found.
    found: Option<&'a str>,
    /// Why its presence could not be checked.
    unreadable: Option<&'a str>,
}

#[derive(Serialize)]
struct Use<'a> {
    section: &'a str,
    location: Option<&'a str>,
    declared: bool,
}

#[derive(Serialize)]
struct Schema<'a> {
    path: &'a str,
    /// Why the folder could not be read (`absent` when it is not there).
    error: Option<&'a str>,
    files: Vec<SchemaFile<'a>>,
}

#[derive(Serialize)]
struct SchemaFile<'a> {
    name: &'a str,
    sections: &'a [String],
    error: Option<&'a str>,
}

#[derive(Serialize)]
struct WebConfig<'a> {
    site: &'a str,
    application: &'a str,
    pool: &'a str,
    bits: Option<u32>,
    physical_path: &'a str,
    path: Option<&'a str>,
    state: &'a str,
    reason: Option<&'a str>,
    /// Sections its own `<configSections>` declares.
    sections_declared: Vec<&'a str>,
    uses: Vec<Use<'a>>,
    aspnetcore: Option<AspNetCore<'a>>,
    problems: &'a [String],
    ancm: Option<Ancm<'a>>,
}

#[derive(Serialize)]
struct AspNetCore<'a> {
    hosting_model: Option<&'a str>,
    process_path: Option<&'a str>,
    handler_version: Option<&'a str>,
    module: Option<&'a str>,
}

#[derive(Serialize)]
struct Ancm<'a> {
    hosting_model: &'a str,
    handler: &'a str,
    searched: &'a [String],
    found: Option<&'a str>,
    state: &'a str,
    reason: Option<&'a str>,
}

fn uses(u: &[model::SectionUse]) -> Vec<Use<'_>> {
    u.iter()
        .map(|u| Use {
            section: &u.section,
            location: u.location.as_deref(),
            declared: u.declared,
        })
        .collect()
}

#[derive(Serialize)]
struct GlobalModule<'a> {
    name: &'a str,
    image: &'a str,
    pre_condition: &'a [String],
}

#[derive(Serialize)]
struct Module<'a> {
    name: &'a str,
    #[serde(rename = "type")]
    type_name: Option<&'a str>,
    pre_condition: &'a [String],
}

#[derive(Serialize)]
struct Filter<'a> {
    name: &'a str,
    path: &'a str,
    enabled: bool,
    pre_condition: &'a [String],
}

#[derive(Serialize)]
struct Pool<'a> {
    name: &'a str,
    enable_32bit: bool,
    runtime_version: &'a str,
    pipeline_mode: &'a str,
    /// `site/path` of every application that runs in it, sorted.
    applications: Vec<String>,
}

#[derive(Serialize)]
struct Site<'a> {
    name: &'a str,
    id: Option<u32>,
    applications: Vec<Application<'a>>,
}

#[derive(Serialize)]
struct Application<'a> {
    path: &'a str,
    pool: &'a str,
    physical_path: Option<&'a str>,
}

impl<'a> IisConfig<'a> {
    pub(super) fn of(f: &'a IisConfigFile, images: &'a [ModuleImage]) -> Self {
        let c = &f.config;
        IisConfig {
            path: &f.path,
            redirected_to: f.redirected_to.as_deref(),
            global_modules: c
                .global_modules
                .iter()
                .map(|m| GlobalModule {
                    name: &m.name,
                    image: &m.image,
                    pre_condition: &m.pre_condition,
                })
                .collect(),
            modules: c
                .modules
                .iter()
                .map(|m| Module {
                    name: &m.name,
                    type_name: m.type_name.as_deref(),
                    pre_condition: &m.pre_condition,
                })
                .collect(),
            isapi_filters: c
                .isapi_filters
                .iter()
                .map(|x| Filter {
                    name: &x.name,
                    path: &x.path,
                    enabled: x.enabled,
                    pre_condition: &x.pre_condition,
                })
                .collect(),
            app_pools: c.app_pools.iter().map(|p| pool(p, c)).collect(),
            sites: c
                .sites
                .iter()
                .map(|s| Site {
                    name: &s.name,
                    id: s.id,
                    applications: s
                        .applications
                        .iter()
                        .map(|a| Application {
                            path: &a.path,
                            pool: &a.pool,
                            physical_path: a.physical_path.as_deref(),
                        })
                        .collect(),
                })
                .collect(),
            sections: &c.sections,
            uses: uses(&c.uses),
            problems: &c.problems,
            schema: Schema {
                path: &f.schema.path,
                error: f.schema.error.as_deref(),
                files: f
                    .schema
                    .files
                    .iter()
                    .map(|x| SchemaFile {
                        name: &x.name,
                        sections: &x.sections,
                        error: x.error.as_deref(),
                    })
                    .collect(),
            },
            web_configs: f
                .web_configs
                .iter()
                .map(|w| WebConfig {
                    site: &w.site,
                    application: &w.application,
                    pool: &w.pool,
                    bits: w.bits,
                    physical_path: &w.physical_path,
                    path: w.path.as_deref(),
                    state: w.state,
                    reason: w.reason.as_deref(),
                    sections_declared: w
                        .config
                        .iter()
                        .flat_map(|c| c.sections.iter().map(String::as_str))
                        .collect(),
                    uses: w.config.as_ref().map(|c| uses(&c.uses)).unwrap_or_default(),
                    aspnetcore: w
                        .config
                        .as_ref()
                        .and_then(|c| c.aspnetcore.as_ref())
                        .map(|a| AspNetCore {
                            hosting_model: a.hosting_model.as_deref(),
                            process_path: a.process_path.as_deref(),
                            handler_version: a.handler_version.as_deref(),
                            module: a.module.as_deref(),
                        }),
                    problems: w.config.as_ref().map_or(&[][..], |c| &c.problems[..]),
                    ancm: w.ancm.as_ref().map(|h| Ancm {
                        hosting_model: h.hosting_model,
                        handler: &h.handler,
                        searched: &h.searched,
                        found: h.found.as_deref(),
                        state: h.state,
                        reason: h.reason.as_deref(),
                    }),
                })
                .collect(),
            images: images
                .iter()
                .map(|m| Image {
                    kind: m.kind,
                    name: &m.name,
                    bits: m.bits,
                    path: m.binary.as_ref().map(|b| b.path.as_str()),
                    found: m.binary.as_ref().and_then(|b| b.found.as_deref()),
                    unreadable: m.binary.as_ref().and_then(|b| b.unreadable.as_deref()),
                })
                .collect(),
        }
    }
}

fn pool<'a>(p: &'a model::AppPool, c: &model::IisConfig) -> Pool<'a> {
    let mut applications: Vec<String> = c
        .sites
        .iter()
        .flat_map(|s| {
            s.applications
                .iter()
                .filter(|a| a.pool.eq_ignore_ascii_case(&p.name))
                .map(move |a| format!("{}{}", s.name, a.path))
        })
        .collect();
    applications.sort();
    Pool {
        name: &p.name,
        enable_32bit: p.enable_32bit,
        runtime_version: &p.runtime_version,
        pipeline_mode: &p.pipeline_mode,
        applications,
    }
}
