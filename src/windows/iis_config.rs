//! The IIS 7 and later server configuration: `applicationHost.config` (and
//! `redirection.config`, which can move it elsewhere) in
//! `System32\inetsrv\config`. What the worker processes load comes from it:
//! `<globalModules>` (native module images, loaded by every worker whose
//! bitness and mode the `preCondition` admits), server-level `<modules>` and
//! `<isapiFilters>`, the application pools (bitness, runtime, pipeline) and
//! which sites and applications run in each, and the sections the schema
//! declares. The file is hostile input like every other: capped in size and
//! nodes, DTDs refused (no entity expansion), UTF-8 with or without a BOM and
//! UTF-16 both read.

use std::collections::BTreeSet;

/// Larger configuration files exist only as attacks: real ones are a few
/// hundred KiB even with thousands of sites.
pub const MAX_CONFIG_BYTES: usize = 32 << 20;
/// Caps the parsed tree (roxmltree allocates per node).
const MAX_NODES: u32 = 2_000_000;
/// Caps each list read from the file.
const MAX_ITEMS: usize = 100_000;
/// A site's `web.config` larger than this is not read: published ones are a
/// few KiB, and IIS itself refuses one over 250 KiB unless
/// `MaxWebConfigFileSizeInKB` raises its limit.
pub const MAX_WEB_CONFIG_BYTES: usize = 1 << 20;
/// A schema file larger than this is not read (`IIS_schema.xml`, the
/// largest, is a few hundred KiB).
pub const MAX_SCHEMA_BYTES: usize = 8 << 20;
/// How many files of `inetsrv\config\schema` are read (a server has a
/// dozen or two).
pub const MAX_SCHEMA_FILES: usize = 512;
/// How deep sections are looked for below `<system.webServer>` (groups nest
/// two or three deep in IIS's own schema).
const MAX_SECTION_DEPTH: usize = 16;
/// Caps the sections recorded as used by one file.
const MAX_USES: usize = 4096;

/// What `applicationHost.config` says; `problems` holds what was skipped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IisConfig {
    /// `<globalModules>`: native module images.
    pub global_modules: Vec<GlobalModule>,
    /// Server-level `<system.webServer><modules>` after `remove`/`clear`.
    pub modules: Vec<ModuleEntry>,
    /// Server-level `<isapiFilters>`.
    pub isapi_filters: Vec<IsapiFilter>,
    pub app_pools: Vec<AppPool>,
    pub sites: Vec<Site>,
    /// Every section the `<configSections>` declare, as `group/section` paths
    /// (`system.webServer/rewrite/rules`).
    pub sections: BTreeSet<String>,
    /// Every section group they declare (`system.webServer/rewrite`).
    pub section_groups: BTreeSet<String>,
    /// The sections below `<system.webServer>` this file sets, at the server
    /// level or in a `<location>`.
    pub uses: Vec<SectionUse>,
    /// Elements skipped or capped, one line each.
    pub problems: Vec<String>,
}

/// A section a configuration file sets.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SectionUse {
    /// `system.webServer/rewrite/rules`; for an element no declaration
    /// names, the path of that element.
    pub section: String,
    /// The `<location path>` it is set in; `None` at the file's own level.
    pub location: Option<String>,
    /// Some `<section>` declares it (in `applicationHost.config` or the file's
    /// own `<configSections>`); false: IIS does not recognise the element.
    pub declared: bool,
}

/// What a site's or application's `web.config` says that IIS's native
/// configuration reads: the sections it sets below `<system.webServer>`
/// and the ASP.NET Core Module's `<aspNetCore>`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebConfigFile {
    /// Sections the file's own `<configSections>` declares.
    pub sections: BTreeSet<String>,
    pub uses: Vec<SectionUse>,
    pub aspnetcore: Option<AspNetCore>,
    /// Elements skipped or capped, one line each.
    pub problems: Vec<String>,
}

/// `<system.webServer><aspNetCore>`, as written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AspNetCore {
    /// `hostingModel` (`inprocess`, `outofprocess`); absent means out of
    /// process for the module.
    pub hosting_model: Option<String>,
    pub process_path: Option<String>,
    /// `<handlerSettings><handlerSetting name="handlerVersion">`: the
    /// out-of-process handler's version folder, when pinned.
    pub handler_version: Option<String>,
    /// The module a `<handlers><add>` of the same file names for it
    /// (`AspNetCoreModuleV2`; `AspNetCoreModule` is version 1, which has
    /// no separate request handler), when one does.
    pub module: Option<String>,
}

impl AspNetCore {
    /// True for `hostingModel="inprocess"` (any case); the module's default is
    /// out of process.
    pub fn in_process(&self) -> bool {
        self.hosting_model
            .as_deref()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("inprocess"))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct GlobalModule {
    pub name: String,
    /// The image path as written (`%windir%\System32\inetsrv\static.dll`).
    pub image: String,
    /// `preCondition`, split at commas (`bitness64`, `integratedMode`, …).
    pub pre_condition: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ModuleEntry {
    pub name: String,
    /// Managed modules name a .NET type; native ones have none.
    pub type_name: Option<String>,
    pub pre_condition: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IsapiFilter {
    pub name: String,
    pub path: String,
    pub enabled: bool,
    pub pre_condition: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AppPool {
    pub name: String,
    /// `enable32BitAppOnWin64`: the pool's workers are 32-bit on a 64-bit OS.
    pub enable_32bit: bool,
    /// `managedRuntimeVersion` (`v4.0`, `v2.0`, empty: no managed code).
    pub runtime_version: String,
    /// `managedPipelineMode`: `Integrated` or `Classic`.
    pub pipeline_mode: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    pub name: String,
    pub id: Option<u32>,
    pub applications: Vec<Application>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Application {
    /// The application's path in the site (`/`, `/shop`).
    pub path: String,
    /// The pool it runs in, after the defaults are applied.
    pub pool: String,
    /// The root virtual directory's physical path, as written.
    pub physical_path: Option<String>,
}

/// A worker process's view of a module: whether its `preCondition` admits a
/// pool of this bitness (`bitness32`/`bitness64`; other conditions —
/// `integratedMode`, `runtimeVersion…` — narrow it further, per pool).
pub fn admits_bitness(pre_condition: &[String], bits: u32) -> bool {
    let has = |c: &str| pre_condition.iter().any(|p| p.eq_ignore_ascii_case(c));
    match bits {
        32 => !has("bitness64"),
        _ => !has("bitness32"),
    }
}

/// Whether a pool runs the module: bitness, pipeline mode and runtime version
/// as `preCondition` names them (IIS's own terms).
pub fn pool_loads(pre_condition: &[String], pool: &AppPool, os_is_64bit: bool) -> bool {
    let bits = if os_is_64bit && !pool.enable_32bit {
        64
    } else {
        32
    };
    pre_condition.iter().all(|c| {
        let c = c.to_ascii_lowercase();
        match c.as_str() {
            "bitness32" => bits == 32,
            "bitness64" => bits == 64,
            "integratedmode" => pool.pipeline_mode.eq_ignore_ascii_case("Integrated"),
            "classicmode" => pool.pipeline_mode.eq_ignore_ascii_case("Classic"),
            "managedhandler" => true,
            _ => match c.strip_prefix("runtimeversion") {
                Some(v) => pool.runtime_version.to_ascii_lowercase().starts_with(v),
                None => true,
            },
        }
    })
}

/// Text of a configuration file: UTF-8 (with or without its BOM) or UTF-16
/// (little- or big-endian, by BOM, or little-endian without one when the
/// second byte is zero as `<` then NUL is).
pub fn decode(bytes: &[u8]) -> Result<String, String> {
    if bytes.len() > MAX_CONFIG_BYTES {
        return Err(format!(
            "{} bytes, more than the {MAX_CONFIG_BYTES} a configuration file is read to",
            bytes.len()
        ));
    }
    let utf16 = |b: &[u8], le: bool| -> Result<String, String> {
        let units = b.chunks_exact(2).map(|c| {
            if le {
                u16::from_le_bytes([c[0], c[1]])
            } else {
                u16::from_be_bytes([c[0], c[1]])
            }
        });
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .map_err(|e| format!("invalid UTF-16: {e}"))
    };
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8(rest.to_vec()),
        [0xFF, 0xFE, rest @ ..] => return utf16(rest, true),
        [0xFE, 0xFF, rest @ ..] => return utf16(rest, false),
        [b'<', 0, ..] => return utf16(bytes, true),
        _ => String::from_utf8(bytes.to_vec()),
    }
    .map_err(|e| format!("invalid UTF-8 at byte {}", e.utf8_error().valid_up_to()))
}

/// Parses `applicationHost.config`.
pub fn parse(bytes: &[u8]) -> Result<IisConfig, String> {
    let text = decode(bytes)?;
    let doc = document(&text)?;
    let root = doc.root_element();
    if !root.has_tag_name("configuration") {
        return Err(format!(
            "the root element is <{}>, not <configuration>",
            root.tag_name().name()
        ));
    }
    let mut cfg = IisConfig::default();
    for child in elements(root) {
        match child.tag_name().name() {
            "configSections" => sections(child, "", &mut cfg),
            "system.applicationHost" => application_host(child, &mut cfg),
            "system.webServer" => web_server(child, &mut cfg),
            // The server level can also be written as `<location path="">`.
            "location" if server_level(child) => {
                for ws in elements(child).filter(|e| e.has_tag_name("system.webServer")) {
                    web_server(ws, &mut cfg);
                }
            }
            _ => {}
        }
    }
    let (sections, groups) = (cfg.sections.clone(), cfg.section_groups.clone());
    cfg.uses = uses(root, &sections, &groups, &mut cfg.problems);
    Ok(cfg)
}

/// Parses a site's or application's `web.config` against the sections and
/// groups `host` (`applicationHost.config`) declares. Only what IIS's native
/// configuration reads is kept: `<system.webServer>` (at the file's level or
/// in a `<location>`) and the file's own `<configSections>`; the .NET
/// sections (`<system.web>`, declared by the Framework's `machine.config`)
/// are not judged.
pub fn parse_web_config(bytes: &[u8], host: &IisConfig) -> Result<WebConfigFile, String> {
    if bytes.len() > MAX_WEB_CONFIG_BYTES {
        return Err(format!(
            "{} bytes, more than the {MAX_WEB_CONFIG_BYTES} a web.config is read to",
            bytes.len()
        ));
    }
    let text = decode(bytes)?;
    let doc = document(&text)?;
    let root = doc.root_element();
    if !root.has_tag_name("configuration") {
        return Err(format!(
            "the root element is <{}>, not <configuration>",
            root.tag_name().name()
        ));
    }
    let mut own = IisConfig::default();
    for cs in elements(root).filter(|e| e.has_tag_name("configSections")) {
        sections(cs, "", &mut own);
    }
    let mut declared = host.sections.clone();
    declared.extend(own.sections.iter().cloned());
    let mut groups = host.section_groups.clone();
    groups.extend(own.section_groups.iter().cloned());
    let mut problems = own.problems;
    let uses = uses(root, &declared, &groups, &mut problems);
    // `<aspNetCore>` at the file's level, or in the `<location path=".">`
    // that publishing writes around it.
    let own_level: Vec<roxmltree::Node> = elements(root)
        .flat_map(|e| match e.tag_name().name() {
            "system.webServer" => vec![e],
            "location" if matches!(e.attribute("path"), None | Some("") | Some(".")) => elements(e)
                .filter(|c| c.has_tag_name("system.webServer"))
                .collect(),
            _ => Vec::new(),
        })
        .collect();
    let module = own_level
        .iter()
        .flat_map(|ws| elements(*ws))
        .filter(|e| e.has_tag_name("handlers"))
        .flat_map(elements)
        .filter(|e| e.has_tag_name("add"))
        .filter_map(|e| e.attribute("modules"))
        .flat_map(|m| m.split(','))
        .map(str::trim)
        .find(|m| m.to_ascii_lowercase().starts_with("aspnetcoremodule"))
        .map(String::from);
    let aspnetcore = own_level
        .iter()
        .flat_map(|ws| elements(*ws))
        .find(|e| e.has_tag_name("aspNetCore"))
        .map(|a| AspNetCore {
            hosting_model: a.attribute("hostingModel").map(String::from),
            process_path: a.attribute("processPath").map(String::from),
            handler_version: elements(a)
                .filter(|h| h.has_tag_name("handlerSettings"))
                .flat_map(elements)
                .find(|h| {
                    h.has_tag_name("handlerSetting")
                        && h.attribute("name")
                            .is_some_and(|n| n.eq_ignore_ascii_case("handlerVersion"))
                })
                .and_then(|h| h.attribute("value"))
                .map(String::from),
            module: module.clone(),
        });
    Ok(WebConfigFile {
        sections: own.sections,
        uses,
        aspnetcore,
        problems,
    })
}

/// The section names a schema file of `inetsrv\config\schema` defines:
/// `<configSchema><sectionSchema name="system.webServer/rewrite/rules">`.
pub fn schema_sections(bytes: &[u8]) -> Result<Vec<String>, String> {
    if bytes.len() > MAX_SCHEMA_BYTES {
        return Err(format!(
            "{} bytes, more than the {MAX_SCHEMA_BYTES} a schema file is read to",
            bytes.len()
        ));
    }
    let text = decode(bytes)?;
    let doc = document(&text)?;
    let root = doc.root_element();
    if !root.has_tag_name("configSchema") {
        return Err(format!(
            "the root element is <{}>, not <configSchema>",
            root.tag_name().name()
        ));
    }
    let mut out: Vec<String> = elements(root)
        .filter(|e| e.has_tag_name("sectionSchema"))
        .filter_map(|e| e.attribute("name"))
        .take(MAX_ITEMS)
        .map(String::from)
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

/// The sections a file sets below `<system.webServer>`, at its own level and
/// in each `<location>`: a declared group is walked into, a declared section
/// is a use, an element that is neither is an undeclared use (IIS refuses
/// the file). Nothing is judged when `system.webServer` itself is not a
/// declared group: the declarations were not read, so every element would
/// look undeclared.
fn uses(
    root: roxmltree::Node,
    declared: &BTreeSet<String>,
    groups: &BTreeSet<String>,
    problems: &mut Vec<String>,
) -> Vec<SectionUse> {
    const GROUP: &str = "system.webServer";
    if !groups.contains(GROUP) {
        return Vec::new();
    }
    let mut tops: Vec<(roxmltree::Node, Option<String>)> = Vec::new();
    for e in elements(root) {
        match e.tag_name().name() {
            GROUP => tops.push((e, None)),
            "location" => {
                let at = e.attribute("path").unwrap_or("");
                let at = (!matches!(at, "" | ".")).then(|| at.to_string());
                tops.extend(
                    elements(e)
                        .filter(|c| c.has_tag_name(GROUP))
                        .map(|c| (c, at.clone())),
                );
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (top, location) in tops {
        let mut stack = vec![(top, GROUP.to_string(), 0usize)];
        while let Some((node, prefix, depth)) = stack.pop() {
            for child in elements(node) {
                let path = format!("{prefix}/{}", child.tag_name().name());
                if groups.contains(&path) && !declared.contains(&path) {
                    if depth + 1 >= MAX_SECTION_DEPTH {
                        note(
                            problems,
                            format!(
                                "section groups nested deeper than {MAX_SECTION_DEPTH}: not read"
                            ),
                        );
                        continue;
                    }
                    stack.push((child, path, depth + 1));
                    continue;
                }
                let u = SectionUse {
                    declared: declared.contains(&path),
                    section: path,
                    location: location.clone(),
                };
                if out.len() >= MAX_USES {
                    note(
                        problems,
                        format!("more than {MAX_USES} sections set: the rest not read"),
                    );
                    break;
                }
                out.push(u);
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// `redirection.config`: when `<configurationRedirection enabled="true">`,
/// the configuration in force is at `path` (shared configuration), not here.
pub fn redirection(bytes: &[u8]) -> Result<Option<String>, String> {
    let text = decode(bytes)?;
    let doc = document(&text)?;
    Ok(doc
        .descendants()
        .find(|n| n.has_tag_name("configurationRedirection"))
        .filter(|n| attr_bool(*n, "enabled", false))
        .map(|n| n.attribute("path").unwrap_or("").to_string()))
}

/// The parsed tree: DTDs refused (no entities to expand), nodes capped, a
/// parser panic contained.
fn document(text: &str) -> Result<roxmltree::Document<'_>, String> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
        ..Default::default()
    };
    crate::panic::contain(|| roxmltree::Document::parse_with_options(text, opts))?
        .map_err(|e| format!("not well-formed XML: {e}"))
}

fn elements<'a, 'i>(n: roxmltree::Node<'a, 'i>) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> {
    n.children().filter(|c| c.is_element())
}

fn server_level(location: roxmltree::Node) -> bool {
    matches!(location.attribute("path"), None | Some("") | Some("."))
}

fn attr_bool(n: roxmltree::Node, name: &str, default: bool) -> bool {
    match n.attribute(name) {
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        _ => default,
    }
}

fn conditions(n: roxmltree::Node) -> Vec<String> {
    n.attribute("preCondition")
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// Pushes unless the list is full; says so once when it is.
fn push_capped<T>(list: &mut Vec<T>, item: T, what: &str, problems: &mut Vec<String>) {
    if list.len() < MAX_ITEMS {
        list.push(item);
    } else {
        note(
            problems,
            format!("more than {MAX_ITEMS} {what}: the rest not read"),
        );
    }
}

/// Records a problem once; a file can repeat one a million times.
fn note(problems: &mut Vec<String>, problem: String) {
    const MAX_PROBLEMS: usize = 64;
    if problems.len() < MAX_PROBLEMS && !problems.contains(&problem) {
        problems.push(problem);
    }
}

/// `<sectionGroup name>` nests; `<section name>` ends a path. Groups nest a
/// handful deep in practice; the walk goes as deep as the tree, which the
/// node cap bounds, iteratively.
fn sections(n: roxmltree::Node, prefix: &str, cfg: &mut IisConfig) {
    let mut stack = vec![(n, prefix.to_string())];
    while let Some((node, prefix)) = stack.pop() {
        for child in elements(node) {
            let Some(name) = child.attribute("name") else {
                continue;
            };
            let path = if prefix.is_empty() {
                name.to_string()
            } else {
                format!("{prefix}/{name}")
            };
            match child.tag_name().name() {
                "sectionGroup" => {
                    if cfg.section_groups.len() < MAX_ITEMS {
                        cfg.section_groups.insert(path.clone());
                    }
                    stack.push((child, path))
                }
                "section" if cfg.sections.len() < MAX_ITEMS => {
                    cfg.sections.insert(path);
                }
                _ => {}
            }
        }
    }
}

fn application_host(n: roxmltree::Node, cfg: &mut IisConfig) {
    for child in elements(n) {
        match child.tag_name().name() {
            "applicationPools" => pools(child, cfg),
            "sites" => sites(child, cfg),
            _ => {}
        }
    }
}

fn pools(n: roxmltree::Node, cfg: &mut IisConfig) {
    // The defaults every pool inherits; IIS's own defaults where absent.
    let defaults = elements(n).find(|e| e.has_tag_name("applicationPoolDefaults"));
    let default_of = |name: &str, fallback: &str| -> String {
        defaults
            .and_then(|d| d.attribute(name))
            .unwrap_or(fallback)
            .to_string()
    };
    let d32 = defaults.is_some_and(|d| attr_bool(d, "enable32BitAppOnWin64", false));
    let d_runtime = default_of("managedRuntimeVersion", "v4.0");
    let d_mode = default_of("managedPipelineMode", "Integrated");
    for add in elements(n).filter(|e| e.has_tag_name("add")) {
        let Some(name) = add.attribute("name") else {
            note(
                &mut cfg.problems,
                "an application pool without a name: skipped".into(),
            );
            continue;
        };
        let pool = AppPool {
            name: name.to_string(),
            enable_32bit: attr_bool(add, "enable32BitAppOnWin64", d32),
            runtime_version: add
                .attribute("managedRuntimeVersion")
                .map(String::from)
                .unwrap_or_else(|| d_runtime.clone()),
            pipeline_mode: add
                .attribute("managedPipelineMode")
                .map(String::from)
                .unwrap_or_else(|| d_mode.clone()),
        };
        push_capped(
            &mut cfg.app_pools,
            pool,
            "application pools",
            &mut cfg.problems,
        );
    }
}

fn sites(n: roxmltree::Node, cfg: &mut IisConfig) {
    // `<applicationDefaults applicationPool>` at the sites level, then per
    // site; IIS falls back to DefaultAppPool.
    let pool_default = |node: roxmltree::Node, inherited: &str| -> String {
        elements(node)
            .find(|e| e.has_tag_name("applicationDefaults"))
            .and_then(|d| d.attribute("applicationPool"))
            .unwrap_or(inherited)
            .to_string()
    };
    let server_default = pool_default(n, "DefaultAppPool");
    for site in elements(n).filter(|e| e.has_tag_name("site")) {
        let site_default = pool_default(site, &server_default);
        let mut applications = Vec::new();
        for app in elements(site).filter(|e| e.has_tag_name("application")) {
            let physical_path = elements(app)
                .find(|v| v.has_tag_name("virtualDirectory") && v.attribute("path") == Some("/"))
                .and_then(|v| v.attribute("physicalPath"))
                .map(String::from);
            let application = Application {
                path: app.attribute("path").unwrap_or("/").to_string(),
                pool: app
                    .attribute("applicationPool")
                    .map(String::from)
                    .unwrap_or_else(|| site_default.clone()),
                physical_path,
            };
            push_capped(
                &mut applications,
                application,
                "applications in a site",
                &mut cfg.problems,
            );
        }
        let s = Site {
            name: site.attribute("name").unwrap_or("").to_string(),
            id: site.attribute("id").and_then(|v| v.parse().ok()),
            applications,
        };
        push_capped(&mut cfg.sites, s, "sites", &mut cfg.problems);
    }
}

fn web_server(n: roxmltree::Node, cfg: &mut IisConfig) {
    for child in elements(n) {
        match child.tag_name().name() {
            "globalModules" => {
                for e in elements(child) {
                    match e.tag_name().name() {
                        "add" => {
                            let (Some(name), Some(image)) =
                                (e.attribute("name"), e.attribute("image"))
                            else {
                                note(
                                    &mut cfg.problems,
                                    "a global module without a name or an image: skipped".into(),
                                );
                                continue;
                            };
                            let m = GlobalModule {
                                name: name.to_string(),
                                image: image.to_string(),
                                pre_condition: conditions(e),
                            };
                            push_capped(
                                &mut cfg.global_modules,
                                m,
                                "global modules",
                                &mut cfg.problems,
                            );
                        }
                        "remove" => {
                            let name = e.attribute("name").unwrap_or("");
                            cfg.global_modules.retain(|m| m.name != name);
                        }
                        "clear" => cfg.global_modules.clear(),
                        _ => {}
                    }
                }
            }
            "modules" => {
                for e in elements(child) {
                    match e.tag_name().name() {
                        "add" => {
                            let Some(name) = e.attribute("name") else {
                                continue;
                            };
                            let m = ModuleEntry {
                                name: name.to_string(),
                                type_name: e
                                    .attribute("type")
                                    .filter(|t| !t.is_empty())
                                    .map(String::from),
                                pre_condition: conditions(e),
                            };
                            push_capped(&mut cfg.modules, m, "modules", &mut cfg.problems);
                        }
                        "remove" => {
                            let name = e.attribute("name").unwrap_or("");
                            cfg.modules.retain(|m| m.name != name);
                        }
                        "clear" => cfg.modules.clear(),
                        _ => {}
                    }
                }
            }
            "isapiFilters" => {
                for e in elements(child).filter(|e| e.has_tag_name("filter")) {
                    let (Some(name), Some(path)) = (e.attribute("name"), e.attribute("path"))
                    else {
                        continue;
                    };
                    let f = IsapiFilter {
                        name: name.to_string(),
                        path: path.to_string(),
                        enabled: attr_bool(e, "enabled", true),
                        pre_condition: conditions(e),
                    };
                    push_capped(
                        &mut cfg.isapi_filters,
                        f,
                        "ISAPI filters",
                        &mut cfg.problems,
                    );
                }
            }
            _ => {}
        }
    }
}

/// Expands the environment variables of a module or filter image path as a
/// worker of `bits` sees them: a 32-bit worker on a 64-bit OS reads
/// `System32` as `SysWOW64` (the file-system redirector) and
/// `%ProgramFiles%` as `Program Files (x86)`. `system_root` is the install's
/// (`C:\Windows`); `program_files` its 64-bit and 32-bit folders. Variables
/// not known here are left as written and returned in the error.
pub fn expand_image(
    image: &str,
    bits: u32,
    os_is_64bit: bool,
    system_root: &str,
    program_files: (&str, &str),
) -> Result<String, String> {
    let wow = os_is_64bit && bits == 32;
    // `C:` from `C:\Windows`; nothing when the root has no letter.
    let system_drive = match system_root.as_bytes() {
        [d, b':', ..] if d.is_ascii_alphabetic() => &system_root[..2],
        _ => "",
    };
    let mut out = String::new();
    let mut rest = image;
    while let Some(start) = rest.find('%') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('%') else {
            return Err(format!("an unclosed % in {image}"));
        };
        let var = &after[..end];
        let value = match var.to_ascii_lowercase().as_str() {
            "windir" | "systemroot" => system_root,
            "systemdrive" => system_drive,
            "programfiles" if wow => program_files.1,
            "programfiles" | "programw6432" => program_files.0,
            "programfiles(x86)" => program_files.1,
            _ => return Err(format!("%{var}% in {image} is not known offline")),
        };
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    if wow {
        // The redirector maps the 64-bit system folder for 32-bit code.
        let sys32 = format!(r"{}\system32", system_root.to_ascii_lowercase());
        if out.to_ascii_lowercase().starts_with(&sys32)
            && out[sys32.len()..].starts_with(['\\', '/'])
        {
            out = format!(r"{system_root}\SysWOW64{}", &out[sys32.len()..]);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<configuration>
  <configSections>
    <sectionGroup name="system.applicationHost">
      <section name="applicationPools" />
      <section name="sites" />
    </sectionGroup>
    <sectionGroup name="system.webServer">
      <section name="globalModules" />
      <sectionGroup name="rewrite">
        <section name="rules" />
      </sectionGroup>
    </sectionGroup>
  </configSections>
  <system.applicationHost>
    <applicationPools>
      <add name="DefaultAppPool" />
      <add name="Legacy32" enable32BitAppOnWin64="true" managedRuntimeVersion="v2.0" managedPipelineMode="Classic" />
      <add />
      <applicationPoolDefaults managedRuntimeVersion="v4.0" />
    </applicationPools>
    <sites>
      <site name="Default Web Site" id="1">
        <application path="/">
          <virtualDirectory path="/" physicalPath="%SystemDrive%\inetpub\wwwroot" />
        </application>
        <application path="/old" applicationPool="Legacy32" />
      </site>
      <site name="Shop" id="2">
        <application path="/" />
        <applicationDefaults applicationPool="Legacy32" />
      </site>
      <applicationDefaults applicationPool="DefaultAppPool" />
    </sites>
  </system.applicationHost>
  <system.webServer>
    <globalModules>
      <add name="StaticFileModule" image="%windir%\System32\inetsrv\static.dll" />
      <add name="Old32" image="%ProgramFiles%\Vendor\old32.dll" preCondition="bitness32" />
      <add name="Gone" image="x.dll" />
      <remove name="Gone" />
      <add name="NoImage" />
    </globalModules>
    <isapiFilters>
      <filter name="ASP.Net_4.0_32bit" path="%windir%\Microsoft.NET\Framework\v4.0.30319\aspnet_filter.dll" enableCache="true" preCondition="bitness32,runtimeVersionv4.0" />
    </isapiFilters>
  </system.webServer>
  <location path="" overrideMode="Allow">
    <system.webServer>
      <modules>
        <add name="StaticFileModule" />
        <add name="UrlRoutingModule-4.0" type="System.Web.Routing.UrlRoutingModule" preCondition="managedHandler,runtimeVersionv4.0" />
      </modules>
    </system.webServer>
  </location>
</configuration>
"#;

    #[test]
    fn reads_modules_pools_sites_filters_and_sections() {
        let c = parse(CONFIG.as_bytes()).unwrap();
        let names: Vec<&str> = c.global_modules.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["StaticFileModule", "Old32"]);
        assert_eq!(c.global_modules[1].pre_condition, ["bitness32"]);
        assert_eq!(c.problems.len(), 2, "{:?}", c.problems);
        assert_eq!(c.app_pools.len(), 2);
        assert_eq!(c.app_pools[0].runtime_version, "v4.0");
        assert!(c.app_pools[1].enable_32bit);
        let apps: Vec<(&str, &str, &str)> = c
            .sites
            .iter()
            .flat_map(|s| {
                s.applications
                    .iter()
                    .map(move |a| (s.name.as_str(), a.path.as_str(), a.pool.as_str()))
            })
            .collect();
        assert_eq!(
            apps,
            [
                ("Default Web Site", "/", "DefaultAppPool"),
                ("Default Web Site", "/old", "Legacy32"),
                ("Shop", "/", "Legacy32"),
            ]
        );
        assert_eq!(c.sites[0].id, Some(1));
        assert!(c.sections.contains("system.webServer/rewrite/rules"));
        assert!(c.sections.contains("system.applicationHost/sites"));
        assert_eq!(c.modules.len(), 2);
        assert_eq!(c.modules[0].type_name, None);
        assert_eq!(c.isapi_filters[0].pre_condition.len(), 2);
    }

    #[test]
    fn preconditions_pick_the_pools_that_load_a_module() {
        let c = parse(CONFIG.as_bytes()).unwrap();
        let (default, legacy) = (&c.app_pools[0], &c.app_pools[1]);
        let old32 = &c.global_modules[1].pre_condition;
        assert!(!pool_loads(old32, default, true));
        assert!(pool_loads(old32, legacy, true));
        // On a 32-bit OS every pool is 32-bit.
        assert!(pool_loads(old32, default, false));
        let filter = &c.isapi_filters[0].pre_condition;
        assert!(!pool_loads(filter, legacy, true), "runtime v2.0 pool");
        assert!(admits_bitness(old32, 32) && !admits_bitness(old32, 64));
        assert!(pool_loads(&[], legacy, true));
    }

    #[test]
    fn utf16_and_bom_forms_read_alike() {
        let want = parse(CONFIG.as_bytes()).unwrap();
        let mut bom8 = vec![0xEF, 0xBB, 0xBF];
        bom8.extend(CONFIG.as_bytes());
        let le: Vec<u8> = CONFIG.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = CONFIG.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let with = |bom: &[u8], body: &[u8]| [bom, body].concat();
        for bytes in [
            bom8,
            with(&[0xFF, 0xFE], &le),
            with(&[0xFE, 0xFF], &be),
            le.clone(),
        ] {
            assert_eq!(parse(&bytes).unwrap(), want);
        }
    }

    #[test]
    fn hostile_files_are_refused_with_a_reason() {
        let dtd = r#"<?xml version="1.0"?><!DOCTYPE c [<!ENTITY a "aaaa">]><configuration>&a;</configuration>"#;
        assert!(parse(dtd.as_bytes()).unwrap_err().contains("DTD"));
        assert!(parse(b"<configuration><system.webServer>")
            .unwrap_err()
            .contains("not well-formed"));
        assert!(parse(b"<other/>").unwrap_err().contains("<other>"));
        assert!(parse(&[0xC3, 0x28]).unwrap_err().contains("UTF-8"));
        assert!(parse(&[0xFF, 0xFE, 0x00, 0xD8])
            .unwrap_err()
            .contains("UTF-16"));
        let huge = vec![b' '; MAX_CONFIG_BYTES + 1];
        assert!(parse(&huge).unwrap_err().contains("more than"));
        // Deep nesting is bounded by the node cap, not the stack.
        let deep = format!(
            "<configuration><configSections>{}{}</configSections></configuration>",
            "<sectionGroup name=\"g\">".repeat(50_000),
            "</sectionGroup>".repeat(50_000)
        );
        let c = parse(deep.as_bytes());
        assert!(c.is_ok() || c.unwrap_err().contains("XML"));
    }

    #[test]
    fn redirection_names_the_shared_configuration() {
        let on = br#"<configuration><configurationRedirection enabled="true" path="\\filer\iis\config" /></configuration>"#;
        assert_eq!(
            redirection(on).unwrap().as_deref(),
            Some(r"\\filer\iis\config")
        );
        let off = br#"<configuration><configurationRedirection /></configuration>"#;
        assert_eq!(redirection(off).unwrap(), None);
    }

    #[test]
    fn image_paths_expand_as_each_bitness_sees_them() {
        let pf = (r"C:\Program Files", r"C:\Program Files (x86)");
        let x = |img: &str, bits, os64| expand_image(img, bits, os64, r"C:\Windows", pf);
        let img = r"%windir%\System32\inetsrv\static.dll";
        assert_eq!(
            x(img, 64, true).unwrap(),
            r"C:\Windows\System32\inetsrv\static.dll"
        );
        assert_eq!(
            x(img, 32, true).unwrap(),
            r"C:\Windows\SysWOW64\inetsrv\static.dll"
        );
        assert_eq!(
            x(img, 32, false).unwrap(),
            r"C:\Windows\System32\inetsrv\static.dll"
        );
        assert_eq!(
            x(r"%ProgramFiles%\IIS\rewrite.dll", 32, true).unwrap(),
            r"C:\Program Files (x86)\IIS\rewrite.dll"
        );
        assert_eq!(x(r"%SystemDrive%\x.dll", 64, true).unwrap(), r"C:\x.dll");
        assert!(x(r"%MYAPP%\a.dll", 64, true)
            .unwrap_err()
            .contains("%MYAPP%"));
        assert!(x(r"%windir\a.dll", 64, true)
            .unwrap_err()
            .contains("unclosed"));
        // System32 only at the root's own system folder is redirected.
        assert_eq!(
            x(r"D:\tools\System32\a.dll", 32, true).unwrap(),
            r"D:\tools\System32\a.dll"
        );
    }

    const HOST: &str = r#"<configuration><configSections>
        <sectionGroup name="system.webServer">
          <section name="defaultDocument" />
          <sectionGroup name="security"><section name="requestFiltering" /></sectionGroup>
          <section name="aspNetCore" />
        </sectionGroup></configSections>
        <location path="Shop/api"><system.webServer><defaultDocument /><rewrite /></system.webServer></location>
        </configuration>"#;

    #[test]
    fn sections_set_are_judged_against_the_declarations() {
        let host = parse(HOST.as_bytes()).unwrap();
        assert!(host.section_groups.contains("system.webServer/security"));
        let at: Vec<(&str, Option<&str>, bool)> = host
            .uses
            .iter()
            .map(|u| (u.section.as_str(), u.location.as_deref(), u.declared))
            .collect();
        assert_eq!(
            at,
            [
                ("system.webServer/defaultDocument", Some("Shop/api"), true),
                ("system.webServer/rewrite", Some("Shop/api"), false),
            ]
        );
        let web = r#"<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <configSections><sectionGroup name="system.webServer"><section name="contoso" /></sectionGroup></configSections>
  <system.web><compilation debug="true" /></system.web>
  <system.webServer>
    <security><requestFiltering /></security>
    <rewrite><rules><rule name="r" /></rules></rewrite>
    <contoso />
  </system.webServer>
  <location path="." inheritInChildApplications="false">
    <system.webServer>
      <aspNetCore processPath=".\App.exe" hostingModel="InProcess">
        <handlerSettings><handlerSetting name="handlerVersion" value="18.0.1" /></handlerSettings>
      </aspNetCore>
    </system.webServer>
  </location>
</configuration>"#;
        let w = parse_web_config(web.as_bytes(), &host).unwrap();
        let got: Vec<(&str, bool)> = w
            .uses
            .iter()
            .map(|u| (u.section.as_str(), u.declared))
            .collect();
        assert_eq!(
            got,
            [
                ("system.webServer/aspNetCore", true),
                ("system.webServer/contoso", true),
                ("system.webServer/rewrite", false),
                ("system.webServer/security/requestFiltering", true),
            ]
        );
        let a = w.aspnetcore.unwrap();
        assert!(a.in_process());
        assert_eq!(a.handler_version.as_deref(), Some("18.0.1"));
        assert_eq!(a.process_path.as_deref(), Some(r".\App.exe"));
        assert_eq!(a.module, None);
        // UTF-16 with its BOM reads the same.
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(web.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(
            parse_web_config(&le, &host).unwrap().uses,
            got_uses(web, &host)
        );
        // Out of process is the module's default.
        let w = parse_web_config(
            br#"<configuration><system.webServer><handlers><add name="a" modules="AspNetCoreModuleV2" /></handlers><aspNetCore processPath="dotnet" /></system.webServer></configuration>"#,
            &host,
        )
        .unwrap();
        let a = w.aspnetcore.unwrap();
        assert!(!a.in_process());
        assert_eq!(a.module.as_deref(), Some("AspNetCoreModuleV2"));
    }

    fn got_uses(web: &str, host: &IisConfig) -> Vec<SectionUse> {
        parse_web_config(web.as_bytes(), host).unwrap().uses
    }

    #[test]
    fn nothing_is_judged_without_the_webserver_declarations() {
        let host = parse(b"<configuration />").unwrap();
        let w = parse_web_config(
            b"<configuration><system.webServer><rewrite /></system.webServer></configuration>",
            &host,
        )
        .unwrap();
        assert!(w.uses.is_empty());
    }

    #[test]
    fn hostile_web_configs_are_refused_or_capped() {
        let host = parse(HOST.as_bytes()).unwrap();
        assert!(
            parse_web_config(b"<configuration><system.webServer>", &host)
                .unwrap_err()
                .contains("not well-formed")
        );
        assert!(parse_web_config(b"<html/>", &host)
            .unwrap_err()
            .contains("<html>"));
        let huge = vec![b' '; MAX_WEB_CONFIG_BYTES + 1];
        assert!(parse_web_config(&huge, &host)
            .unwrap_err()
            .contains("more than"));
        // Groups nested past the cap are said, not walked.
        let mut groups = String::new();
        let mut web =
            String::from("<configuration><configSections><sectionGroup name=\"system.webServer\">");
        let mut body = String::from("<configuration><system.webServer>");
        for i in 0..40 {
            groups.push_str(&format!("<sectionGroup name=\"g{i}\">"));
            body.push_str(&format!("<g{i}>"));
        }
        web.push_str(&groups);
        web.push_str(&"</sectionGroup>".repeat(41));
        web.push_str("</configSections>");
        web.push_str(&body[15..]);
        for i in (0..40).rev() {
            web.push_str(&format!("</g{i}>"));
        }
        web.push_str("</system.webServer></configuration>");
        let w = parse_web_config(web.as_bytes(), &IisConfig::default()).unwrap();
        assert!(
            w.problems.iter().any(|p| p.contains("nested deeper")),
            "{:?}",
            w.problems
        );
        // Deep element nesting is bounded by the node cap, not the stack.
        let deep = format!(
            "<configuration><system.webServer>{}{}</system.webServer></configuration>",
            "<a>".repeat(50_000),
            "</a>".repeat(50_000)
        );
        let r = parse_web_config(deep.as_bytes(), &host);
        assert!(r.is_ok() || r.unwrap_err().contains("XML"));
    }

    #[test]
    fn schema_files_name_their_sections() {
        let xml = br#"<?xml version="1.0"?><configSchema>
            <sectionSchema name="system.webServer/rewrite/rules"><element name="rule" /></sectionSchema>
            <sectionSchema name="system.webServer/rewrite/globalRules" />
            <sectionSchema /></configSchema>"#;
        assert_eq!(
            schema_sections(xml).unwrap(),
            [
                "system.webServer/rewrite/globalRules",
                "system.webServer/rewrite/rules"
            ]
        );
        assert!(schema_sections(b"<configuration/>")
            .unwrap_err()
            .contains("configSchema"));
        assert!(schema_sections(b"<configSchema>")
            .unwrap_err()
            .contains("XML"));
    }

    /// Every cut and a hostile byte at every offset of a published
    /// web.config and a schema file: refused or read, never a panic, and
    /// what is read stays within its caps.
    #[test]
    fn web_config_and_schema_mutations_never_panic() {
        let host = parse(HOST.as_bytes()).unwrap();
        let web = br#"<?xml version="1.0" encoding="utf-8"?><configuration><location path="." inheritInChildApplications="false"><system.webServer><handlers><add name="aspNetCore" path="*" verb="*" modules="AspNetCoreModuleV2" /></handlers><aspNetCore processPath="dotnet" hostingModel="inprocess"><handlerSettings><handlerSetting name="handlerVersion" value="18.0.1" /></handlerSettings></aspNetCore><rewrite><rules /></rewrite></system.webServer></location></configuration>"#;
        let schema = br#"<configSchema><sectionSchema name="system.webServer/rewrite/rules"><attribute name="a" /></sectionSchema></configSchema>"#;
        for (bytes, is_schema) in [(&web[..], false), (&schema[..], true)] {
            for cut in 0..bytes.len() {
                let _ = parse_web_config(&bytes[..cut], &host);
                let _ = schema_sections(&bytes[..cut]);
            }
            for at in 0..bytes.len() {
                for b in [b'<', b'>', b'"', b'/', 0x00, 0xFF, b'&'] {
                    let mut m = bytes.to_vec();
                    m[at] = b;
                    if is_schema {
                        if let Ok(s) = schema_sections(&m) {
                            assert!(s.len() <= 1);
                        }
                    } else if let Ok(w) = parse_web_config(&m, &host) {
                        assert!(w.uses.len() <= MAX_USES && w.problems.len() <= 64);
                    }
                }
            }
        }
    }
}
