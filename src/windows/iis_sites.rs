//! IIS 7 and later, beyond `applicationHost.config`: the schema folder
//! (`inetsrv\config\schema\*.xml`: which sections have a schema), each
//! application's `web.config` (its root virtual directory's
//! `physicalPath`, variables expanded, on the volume its drive letter
//! names) and, for an application configured for the ASP.NET Core Module,
//! where the module would find its request handler. What cannot be read or
//! placed is said (`not-checked`, `unreadable`), never taken as absent.

use super::disk::{self, DiskVolumes, Place};
use super::iis_config::{self, AspNetCore};
use super::paths::on_drive;
use super::{
    drive_and_path, AncmHandler, AncmScope, Install, SchemaFile, SchemaFolder, WebConfig,
    MAX_WEB_CONFIGS,
};
use crate::fs::{Entry, FsError, Volume};
use crate::Unreadable;

/// How many version folders are looked into (shared frameworks, handler
/// versions): a server keeps a handful.
const MAX_VERSIONS: usize = 256;

/// `<system root>\System32\inetsrv\config\schema` and the sections each
/// `*.xml` file in it defines.
pub(super) fn read_schema(
    vol: &dyn Volume,
    sysroot: &str,
    unreadable: &mut Vec<Unreadable>,
) -> SchemaFolder {
    let path = format!(r"{sysroot}\System32\inetsrv\config\schema");
    let mut folder = SchemaFolder {
        path: path.clone(),
        ..SchemaFolder::default()
    };
    let dir = match vol.lookup(&path) {
        Ok(d) if d.is_dir => d,
        Ok(_) => {
            folder.error = Some("a file, not a folder".into());
            unreadable.push(Unreadable::new(&path, "a file, not a folder"));
            return folder;
        }
        Err(FsError::NotFound { .. }) => {
            folder.error = Some("absent".into());
            return folder;
        }
        Err(e) => {
            folder.error = Some(e.reason().to_string());
            unreadable.push(Unreadable::new(&path, e.reason()));
            return folder;
        }
    };
    folder.path = dir.path.clone();
    let list = match vol.list(&dir) {
        Ok(l) => l,
        Err(e) => {
            folder.error = Some(e.reason().to_string());
            unreadable.push(Unreadable::new(&dir.path, e.reason()));
            return folder;
        }
    };
    let mut xml: Vec<Entry> = list
        .into_iter()
        .filter(|e| !e.is_dir && e.name().to_ascii_lowercase().ends_with(".xml"))
        .collect();
    xml.sort_by(|a, b| a.name().cmp(b.name()));
    if xml.len() > iis_config::MAX_SCHEMA_FILES {
        let why = format!(
            "{} schema files, more than the {} read",
            xml.len(),
            iis_config::MAX_SCHEMA_FILES
        );
        unreadable.push(Unreadable::new(&dir.path, &why));
        folder.error = Some(why);
        xml.truncate(iis_config::MAX_SCHEMA_FILES);
    }
    for e in xml {
        let mut file = SchemaFile {
            name: e.name().to_string(),
            ..SchemaFile::default()
        };
        let read = if let Some(why) = &e.error {
            Err(why.clone())
        } else if e.size > iis_config::MAX_SCHEMA_BYTES as u64 {
            Err(format!(
                "{} bytes, more than the {} a schema file is read to",
                e.size,
                iis_config::MAX_SCHEMA_BYTES
            ))
        } else {
            vol.read(&e)
                .map_err(|x| x.reason().to_string())
                .and_then(|b| iis_config::schema_sections(&b))
        };
        match read {
            Ok(s) => file.sections = s,
            Err(why) => {
                unreadable.push(Unreadable::new(&e.path, &why));
                file.error = Some(why);
            }
        }
        folder.files.push(file);
    }
    folder
}

/// The environment a physical path or module image is expanded in: the
/// system root with its drive letter, and the two Program Files folders.
struct Env {
    root: String,
    pf: String,
    pf86: String,
    os64: bool,
}

impl Env {
    fn of(install: &Install, volume: usize) -> Env {
        let letter = install
            .drives
            .iter()
            .find(|d| d.volume == Some(volume))
            .map(|d| d.letter);
        let drive = letter.map(|l| format!("{l}:")).unwrap_or_default();
        Env {
            root: format!("{drive}{}", install.system_root),
            pf: install
                .os
                .program_files
                .clone()
                .unwrap_or_else(|| format!(r"{drive}\Program Files")),
            pf86: install
                .os
                .program_files_x86
                .clone()
                .unwrap_or_else(|| format!(r"{drive}\Program Files (x86)")),
            os64: install.os.bits == Some(64),
        }
    }

    /// A path as written in the configuration, expanded (never redirected:
    /// content folders are not system folders).
    fn expand(&self, raw: &str) -> Result<String, String> {
        iis_config::expand_image(raw, 64, self.os64, &self.root, (&self.pf, &self.pf86))
    }
}

/// Where a path lands: the volume that holds it, the path on it, and the
/// path as reports show it (with its letter when on another volume).
struct Placed<'a> {
    on: &'a dyn Volume,
    path: String,
    shown: String,
}

/// Places an expanded absolute path; `Err((shown, why))` when it is on no
/// volume this image holds (or one that could not be opened).
fn place<'a>(
    install: &Install,
    disk: &DiskVolumes<'a>,
    vol: &'a dyn Volume,
    volume: usize,
    expanded: &str,
) -> Result<Placed<'a>, (Option<String>, String)> {
    if expanded.starts_with(r"\\") {
        return Err((
            Some(expanded.to_string()),
            "a network share: not on this image".into(),
        ));
    }
    let Some((letter, path)) = drive_and_path(expanded, &install.system_root) else {
        return Err((None, format!("{expanded}: not a path")));
    };
    if !path.starts_with('\\') {
        return Err((Some(path), "a relative path".into()));
    }
    let path = path.trim_end_matches('\\').to_string();
    match disk::place(letter, volume, &install.drives) {
        Place::Own => Ok(Placed {
            on: vol,
            shown: path.clone(),
            path,
        }),
        Place::Other(v, l) => match disk.volumes.get(v).copied().flatten() {
            Some(on) => Ok(Placed {
                on,
                shown: on_drive(l, &path),
                path,
            }),
            None => Err((
                Some(on_drive(l, &path)),
                format!("drive {l}: is volume #{v}, which could not be opened"),
            )),
        },
        Place::Elsewhere(l, why) => Err((Some(on_drive(l, &path)), why)),
    }
}

/// Every application's `web.config`, and for each `<aspNetCore>` app where
/// the module would find its request handler.
pub(super) fn read_web_configs<'a>(
    install: &Install,
    disk: &DiskVolumes<'a>,
    vol: &'a dyn Volume,
    volume: usize,
    ancm: Option<&AncmScope>,
    unreadable: &mut Vec<Unreadable>,
) -> Vec<WebConfig> {
    let Some(file) = &install.iis_config else {
        return Vec::new();
    };
    let config = &file.config;
    let env = Env::of(install, volume);
    let apps = config
        .sites
        .iter()
        .flat_map(|s| s.applications.iter().map(move |a| (s.name.as_str(), a)));
    let total = apps.clone().count();
    if total > MAX_WEB_CONFIGS {
        unreadable.push(Unreadable::new(
            &file.path,
            format!(
                "{total} applications, more than the {MAX_WEB_CONFIGS} whose web.config is read"
            ),
        ));
    }
    let mut out = Vec::new();
    for (site, app) in apps.take(MAX_WEB_CONFIGS) {
        let bits = install.os.bits.and_then(|_| {
            config
                .app_pools
                .iter()
                .find(|p| p.name.eq_ignore_ascii_case(&app.pool))
                .map(|p| if env.os64 && !p.enable_32bit { 64 } else { 32 })
        });
        let mut wc = WebConfig {
            site: site.to_string(),
            application: app.path.clone(),
            pool: app.pool.clone(),
            bits,
            physical_path: app.physical_path.clone().unwrap_or_default(),
            state: "not-checked",
            ..WebConfig::default()
        };
        let what = format!("web.config of {site}{}", app.path);
        // No root virtual directory: no folder, so no web.config to read.
        let Some(raw) = &app.physical_path else {
            wc.state = "absent";
            wc.reason =
                Some("the application has no root virtual directory with a physicalPath".into());
            out.push(wc);
            continue;
        };
        let placed = env
            .expand(raw)
            .map_err(|why| (None, why))
            .and_then(|p| place(install, disk, vol, volume, &p));
        let folder = match placed {
            Ok(p) => p,
            Err((shown, why)) => {
                wc.path = shown.map(|s| format!(r"{s}\web.config"));
                unreadable.push(Unreadable::new(
                    wc.path.as_deref().unwrap_or(&file.path),
                    format!("{what}: {why}"),
                ));
                wc.reason = Some(why);
                out.push(wc);
                continue;
            }
        };
        let target = format!(r"{}\web.config", folder.path);
        wc.path = Some(format!(r"{}\web.config", folder.shown));
        let shown = wc.path.clone().unwrap_or_default();
        let bytes = match folder.on.lookup(&target) {
            Err(FsError::NotFound { .. }) => {
                wc.state = "absent";
                out.push(wc);
                continue;
            }
            Err(e) => Err(e.reason().to_string()),
            Ok(e) if e.is_dir => Err("a folder, not a file".to_string()),
            Ok(e) if e.size > iis_config::MAX_WEB_CONFIG_BYTES as u64 => Err(format!(
                "{} bytes, more than the {} a web.config is read to",
                e.size,
                iis_config::MAX_WEB_CONFIG_BYTES
            )),
            Ok(e) => folder
                .on
                .read(&e)
                .map(|b| b.into_owned())
                .map_err(|x| x.reason().to_string()),
        };
        match bytes.and_then(|b| iis_config::parse_web_config(&b, config)) {
            Ok(c) => {
                wc.state = "read";
                // Version 1 of the module (a handler naming AspNetCoreModule)
                // has no request handler of its own: nothing to look for.
                let v2 = c.aspnetcore.as_ref().is_some_and(|a| {
                    a.module
                        .as_deref()
                        .is_none_or(|m| ancm.is_some_and(|k| m.eq_ignore_ascii_case(&k.module)))
                });
                if let (Some(a), Some(k), true) = (&c.aspnetcore, ancm, v2) {
                    wc.ancm = Some(ancm_handler(
                        install, disk, vol, volume, &env, a, bits, &folder, k,
                    ));
                }
                wc.config = Some(c);
            }
            Err(why) => {
                wc.state = "unreadable";
                unreadable.push(Unreadable::new(&shown, &why));
                wc.reason = Some(why);
            }
        }
        out.push(wc);
    }
    out
}

/// Looks a file up: `Ok(Some)` found, `Ok(None)` absent, `Err` could not
/// tell.
fn probe(on: &dyn Volume, path: &str) -> Result<Option<Entry>, String> {
    match on.lookup(path) {
        Ok(e) if !e.is_dir => Ok(Some(e)),
        Ok(_) | Err(FsError::NotFound { .. }) => Ok(None),
        Err(e) => Err(format!("{path}: {}", e.reason())),
    }
}

/// The sub-folders of `path` (none when it is absent).
fn subfolders(on: &dyn Volume, path: &str) -> Result<Vec<String>, String> {
    let dir = match on.lookup(path) {
        Ok(d) if d.is_dir => d,
        Ok(_) | Err(FsError::NotFound { .. }) => return Ok(Vec::new()),
        Err(e) => return Err(format!("{path}: {}", e.reason())),
    };
    let list = on
        .list(&dir)
        .map_err(|e| format!("{}: {}", dir.path, e.reason()))?;
    let mut names: Vec<String> = list
        .into_iter()
        .filter(|e| e.is_dir)
        .map(|e| e.name().to_string())
        .collect();
    names.sort();
    if names.len() > MAX_VERSIONS {
        return Err(format!(
            "{}: {} folders, more than the {MAX_VERSIONS} looked into",
            dir.path,
            names.len()
        ));
    }
    Ok(names)
}

/// A version folder name as the module reads one (`major.minor.patch`,
/// optionally `-prerelease` and `+build`), as a sortable key: a release
/// sorts after its prereleases.
pub(super) fn folder_version(name: &str) -> Option<(u64, u64, u64, bool, String)> {
    let core = name.split('+').next().unwrap_or("");
    let (nums, pre) = match core.split_once('-') {
        Some((n, p)) if !p.is_empty() => (n, Some(p)),
        Some(_) => return None,
        None => (core, None),
    };
    let mut parts = nums.split('.');
    let mut next = || -> Option<u64> {
        let p = parts.next()?;
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        p.parse().ok()
    };
    let (a, b, c) = (next()?, next()?, next()?);
    if parts.next().is_some() {
        return None;
    }
    Some((a, b, c, pre.is_none(), pre.unwrap_or("").to_string()))
}

#[allow(clippy::too_many_arguments)]
fn ancm_handler<'a>(
    install: &Install,
    disk: &DiskVolumes<'a>,
    vol: &'a dyn Volume,
    volume: usize,
    env: &Env,
    a: &AspNetCore,
    bits: Option<u32>,
    app: &Placed,
    k: &AncmScope,
) -> AncmHandler {
    let in_process = a.in_process();
    let mut h = AncmHandler {
        hosting_model: if in_process {
            "inprocess"
        } else {
            "outofprocess"
        },
        handler: if in_process {
            k.inprocess_handler.clone()
        } else {
            k.outofprocess_handler.clone()
        },
        state: "not-checked",
        ..AncmHandler::default()
    };
    let Some(bits) = bits else {
        h.reason = Some("the bitness of the pool's worker is not known".into());
        return h;
    };
    let result = if in_process {
        in_process_handler(install, disk, vol, volume, env, a, bits, app, k, &mut h)
    } else {
        out_of_process_handler(install, disk, vol, volume, bits, a, k, &mut h)
    };
    if let Err(why) = result {
        h.state = "not-checked";
        h.found = None;
        h.reason = Some(why);
    }
    h
}

/// In process, the module asks hostfxr for the app's native search folders
/// and loads the handler from the first that holds it: the app's own folder
/// (a self-contained app carries it) and the ASP.NET Core shared framework's
/// version folders under the dotnet root of the worker's bitness.
#[allow(clippy::too_many_arguments)]
fn in_process_handler<'a>(
    install: &Install,
    disk: &DiskVolumes<'a>,
    vol: &'a dyn Volume,
    volume: usize,
    env: &Env,
    a: &AspNetCore,
    bits: u32,
    app: &Placed,
    k: &AncmScope,
    h: &mut AncmHandler,
) -> Result<(), String> {
    let own = format!(r"{}\{}", app.path, h.handler);
    h.searched.push(format!(r"{}\{}", app.shown, h.handler));
    if let Some(e) = probe(app.on, &own)? {
        h.found = Some(if app.shown.starts_with('\\') {
            e.path
        } else {
            format!(r"{}\{}", app.shown, h.handler)
        });
        h.state = "found";
        return Ok(());
    }
    // The dotnet root: the folder of a processPath naming dotnet.exe by
    // full path, else the install's for the worker's bitness.
    let process = a.process_path.as_deref().unwrap_or("").trim();
    let named = env
        .expand(process)
        .ok()
        .filter(|p| p.to_ascii_lowercase().ends_with(r"\dotnet.exe") && p.contains(':'))
        .map(|p| p[..p.len() - r"\dotnet.exe".len()].to_string());
    let root = match named {
        Some(r) => r,
        None => {
            let pf = if bits == 32 && env.os64 {
                &env.pf86
            } else {
                &env.pf
            };
            format!(r"{pf}\{}", k.dotnet)
        }
    };
    let placed =
        place(install, disk, vol, volume, &root).map_err(|(_, why)| format!("{root}: {why}"))?;
    let shared = format!(r"{}\{}", placed.path, k.shared_framework);
    let shared_shown = format!(r"{}\{}", placed.shown, k.shared_framework);
    let mut versions: Vec<String> = subfolders(placed.on, &shared)?
        .into_iter()
        .filter(|n| folder_version(n).is_some())
        .collect();
    versions.sort_by_key(|n| folder_version(n));
    versions.reverse();
    if versions.is_empty() {
        h.searched
            .push(format!(r"{shared_shown}\<version>\{}", h.handler));
        h.state = "no-framework";
        return Ok(());
    }
    for v in &versions {
        h.searched
            .push(format!(r"{shared_shown}\{v}\{}", h.handler));
        let p = format!(r"{shared}\{v}\{}", h.handler);
        if let Some(e) = probe(placed.on, &p)? {
            h.found = Some(if placed.shown.starts_with('\\') {
                e.path
            } else {
                format!(r"{shared_shown}\{v}\{}", h.handler)
            });
            h.state = "found";
            return Ok(());
        }
    }
    h.state = "missing";
    Ok(())
}

/// Out of process, the module loads the handler from a version folder
/// beside its own DLL: the `handlerVersion` setting's, else the highest.
#[allow(clippy::too_many_arguments)]
fn out_of_process_handler<'a>(
    install: &Install,
    disk: &DiskVolumes<'a>,
    vol: &'a dyn Volume,
    volume: usize,
    bits: u32,
    a: &AspNetCore,
    k: &AncmScope,
    h: &mut AncmHandler,
) -> Result<(), String> {
    let module = install
        .iis_images
        .iter()
        .find(|m| m.kind == "module" && m.bits == bits && m.name.eq_ignore_ascii_case(&k.module))
        .ok_or_else(|| {
            format!(
                "{} is not a global module a {bits}-bit worker loads, so there is no folder to look in",
                k.module
            )
        })?;
    let binary = module.binary.as_ref().ok_or_else(|| {
        format!(
            "{}'s image {} could not be expanded",
            k.module, module.image
        )
    })?;
    let found = binary
        .found
        .as_deref()
        .ok_or_else(|| match &binary.unreadable {
            Some(why) => format!("{}: {why}", binary.path),
            None => format!("{} itself is missing (missing-module)", binary.path),
        })?;
    let (on, path, shown_prefix): (&dyn Volume, String, Option<char>) = if found.starts_with('\\') {
        (vol, found.to_string(), None)
    } else {
        let letter = found.chars().next().filter(|c| c.is_ascii_alphabetic());
        let p = found.get(2..).unwrap_or("").to_string();
        match disk::place(letter, volume, &install.drives) {
            Place::Other(v, l) => match disk.volumes.get(v).copied().flatten() {
                Some(o) => (o, p, Some(l)),
                None => return Err(format!("{found}: volume #{v} could not be opened")),
            },
            Place::Own => (vol, p, None),
            Place::Elsewhere(_, why) => return Err(format!("{found}: {why}")),
        }
    };
    let dir = match path.rfind('\\') {
        Some(i) => path[..i].to_string(),
        None => return Err(format!("{found}: no folder")),
    };
    let shown = |p: &str| shown_prefix.map_or(p.to_string(), |l| on_drive(l, p));
    let version = match a.handler_version.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => {
            if v.contains(['\\', '/']) || v == ".." || v == "." {
                return Err(format!("handlerVersion {v:?} is not a folder name"));
            }
            Some(v.to_string())
        }
        _ => {
            let mut vs: Vec<String> = subfolders(on, &dir)?
                .into_iter()
                .filter(|n| folder_version(n).is_some())
                .collect();
            vs.sort_by_key(|n| folder_version(n));
            vs.pop()
        }
    };
    let Some(version) = version else {
        h.searched
            .push(shown(&format!(r"{dir}\<version>\{}", h.handler)));
        h.state = "no-version-folder";
        return Ok(());
    };
    let p = format!(r"{dir}\{version}\{}", h.handler);
    h.searched.push(shown(&p));
    match probe(on, &p)? {
        Some(e) => {
            h.found = Some(shown(&e.path));
            h.state = "found";
        }
        None => h.state = "missing",
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::folder_version;

    #[test]
    fn version_folders_sort_as_the_module_sorts_them() {
        let mut v = vec!["8.0.1", "18.0.24201", "8.0.10", "9.0.0-preview.1", "9.0.0"];
        v.sort_by_key(|n| folder_version(n));
        assert_eq!(
            v,
            ["8.0.1", "8.0.10", "9.0.0-preview.1", "9.0.0", "18.0.24201"]
        );
        for bad in ["1.2", "1.2.3.4", "a.b.c", "", "1..2", "1.2.3-", "x"] {
            assert_eq!(folder_version(bad), None, "{bad}");
        }
    }
}
