//! The knowledge base: IIS families, lockstep sets, baselines, hotfix tables
//! and remedies, as data (knowledge/*.toml, compiled into the binary). A user
//! file given with `--rules` is merged over it: entries with the same id (or
//! OS version, or KB and version) replace the built-in ones.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::pe::Version;
use crate::windows::store::StoreScope;
use crate::windows::{AddOnScope, LoaderScope, Scope};

/// The built-in files as written (the tests check build.rs's JSON against
/// them).
#[cfg(test)]
const BUILTIN: &[(&str, &str)] = &[
    (
        "knowledge/iis.toml",
        include_str!("../../knowledge/iis.toml"),
    ),
    (
        "knowledge/iis4-hotfixes.toml",
        include_str!("../../knowledge/iis4-hotfixes.toml"),
    ),
    (
        "knowledge/iis5-updates.toml",
        include_str!("../../knowledge/iis5-updates.toml"),
    ),
    (
        "knowledge/iis7.toml",
        include_str!("../../knowledge/iis7.toml"),
    ),
    (
        "knowledge/loader.toml",
        include_str!("../../knowledge/loader.toml"),
    ),
];

/// The same files as JSON, converted by build.rs in the same order: what
/// [`Knowledge::builtin`] reads at run time.
const BUILTIN_JSON: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/knowledge.rs"));

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Knowledge {
    #[serde(default)]
    pub os: Vec<Os>,
    #[serde(default)]
    pub baseline: Vec<Baseline>,
    #[serde(default)]
    pub family: Vec<Family>,
    #[serde(default)]
    pub lockstep: Vec<Lockstep>,
    #[serde(default)]
    pub hotfix: Vec<Hotfix>,
    #[serde(default)]
    pub update: Vec<Update>,
    pub services: Option<Services>,
    pub addons: Option<AddOns>,
    pub collect: Option<Collect>,
    pub modules: Option<Modules>,
    /// IIS 7 and later: sections a configuration sets and what must stand
    /// behind each (declaration, schema, module).
    pub sections: Option<Sections>,
    /// The ASP.NET Core Module's request handlers.
    pub ancm: Option<Ancm>,
    /// Where updates record what they installed, and what to do when a
    /// file is older than its record.
    pub update_records: Option<UpdateRecords>,
    pub loader: Option<Loader>,
    /// The component store (WinSxS) check: where it applies, which
    /// component folders are listed, the finding's wording and remedy.
    pub component_store: Option<ComponentStoreKnowledge>,
    /// The `--rules` files merged over the built-in knowledge, in order:
    /// reports name each with its digest, so a result can be reproduced.
    #[serde(skip)]
    pub user_files: Vec<RulesFile>,
}

/// A knowledge file given with `--rules`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesFile {
    pub path: String,
    /// SHA-256 of the file's bytes, lower-case hex.
    pub sha256: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Os {
    pub version: String,
    pub name: String,
    pub latest_service_pack: String,
    pub remedy_order: String,
    pub references: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub family: String,
    pub os_version: String,
    pub service_pack: String,
    #[serde(deserialize_with = "version")]
    pub min_version: Version,
    pub references: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Family {
    pub id: String,
    pub name: String,
    /// Leading numbers every version of the family shares ("4.2", "6.0.3790").
    pub version_line: String,
    pub os: Vec<String>,
    pub services: Vec<String>,
    pub files: Vec<String>,
    pub references: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compare {
    /// All four numbers must agree.
    Full,
    /// Major, minor and build must agree; revisions may differ.
    Build,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lockstep {
    pub id: String,
    pub family: String,
    pub name: String,
    pub files: Vec<String>,
    pub compare: Compare,
    pub why: String,
    pub references: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hotfix {
    pub kb: String,
    pub title: String,
    #[serde(deserialize_with = "version")]
    pub version: Version,
    pub files: Vec<String>,
}

/// One update (hotfix or security patch) and the version it shipped of each
/// file in its KB file table; files of one update may differ in revision.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Update {
    pub kb: String,
    /// The security bulletin the update belongs to ("MS02-018"), if any.
    pub bulletin: Option<String>,
    pub title: String,
    /// The family whose files it updates.
    pub family: String,
    #[serde(default)]
    pub numbering: Numbering,
    /// File name (lower case) → the version the update shipped.
    #[serde(deserialize_with = "version_map")]
    pub files: BTreeMap<String, Version>,
    pub references: Vec<String>,
}

/// Whether an update's versions can be ordered against other updates' by number.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Numbering {
    /// On the family's main line: a higher revision is a later build.
    #[default]
    Main,
    /// Built on a private line whose revisions are lower than earlier
    /// mainline updates': not comparable by number.
    Separate,
}

impl Update {
    /// The version this update shipped of `name` (case-insensitive).
    pub fn shipped(&self, name: &str) -> Option<Version> {
        self.files
            .iter()
            .find(|(f, _)| f.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }

    /// "Q319733 (MS02-018)" or "Q301623".
    pub fn label(&self) -> String {
        match &self.bulletin {
            Some(b) => format!("{} ({b})", self.kb),
            None => self.kb.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Services {
    pub names: Vec<String>,
    pub references: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddOns {
    pub key: String,
    pub supplementary_separator: String,
    pub search: Vec<String>,
    pub why: String,
    pub references: Vec<String>,
}

/// IIS 7 and later: what a worker process says and does when an image
/// `applicationHost.config` names cannot be loaded, and the remedy. `{image}`,
/// `{name}`, `{want}` and `{have}` are filled in by the rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Modules {
    /// OS versions whose IIS is configured by `applicationHost.config`.
    pub os: Vec<String>,
    pub missing: String,
    pub bitness: String,
    pub filter_missing: String,
    pub remedy_missing: String,
    pub remedy_bitness: String,
    pub remedy_filter: String,
    pub no_register: String,
    pub remedy_no_register: String,
    /// A module image found, but a DLL it needs cannot be bound (the loader
    /// check): `{image}` the module, `{error}` the Win32 error.
    #[serde(default)]
    pub dependency: String,
    #[serde(default)]
    pub filter_dependency: String,
    /// The remedy when the DLL is not a runtime the knowledge names:
    /// `{dll}`, `{bits}`, `{name}`.
    #[serde(default)]
    pub remedy_dependency: String,
    pub references: Vec<String>,
}

/// Vista and later: live system files are hard links to their copies in
/// the component store (`WinSxS`). What the store check reads and what the
/// `not-store-copy` rule says. `{file}`, `{component}` are filled in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentStoreKnowledge {
    /// OS versions whose system files are projected from the store.
    pub os: Vec<String>,
    /// Component name prefixes (lower case) whose folders are listed.
    pub folder_prefixes: Vec<String>,
    /// How a file version is compared with its component's version:
    /// `full` or `build-revision`.
    pub compare: String,
    /// Why a file that is not the store's copy matters.
    pub why: String,
    /// The remedy where the OS repairs its store with DISM (NT 6.2 and
    /// later), and where it needs the System Update Readiness Tool.
    pub remedy: String,
    pub remedy_surt: String,
    /// OS versions that take `remedy_surt`.
    pub surt_os: Vec<String>,
    pub references: Vec<String>,
}

/// What a section needs to be read and acted on, what a worker does when
/// something is missing, and the components that bring sections with them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sections {
    /// The symptom when no `<configSections>` declares an element set.
    pub undeclared: String,
    /// When it is declared but no schema file defines it.
    pub no_schema: String,
    /// When it is declared with its schema, but the component's module is
    /// not a global module.
    pub no_module: String,
    pub remedy_undeclared: String,
    pub remedy_no_schema: String,
    pub remedy_no_module: String,
    /// The remedy for a section no component of the table owns.
    pub remedy_unknown: String,
    #[serde(default)]
    pub component: Vec<SectionComponent>,
    pub references: Vec<String>,
}

/// A component that installs a section (its declaration, its schema file)
/// and the native module that acts on it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionComponent {
    /// The section or group it owns (`system.webServer/rewrite`): every
    /// section at or below it.
    pub section: String,
    pub name: String,
    /// `<globalModules>` names, any of which acts on the section.
    pub modules: Vec<String>,
    /// What installs it, for the remedy.
    pub installer: String,
    pub references: Vec<String>,
}

impl Sections {
    /// The component owning `section`, the most specific first.
    pub fn component(&self, section: &str) -> Option<&SectionComponent> {
        let s = section.to_ascii_lowercase();
        self.component
            .iter()
            .filter(|c| {
                let c = c.section.to_ascii_lowercase();
                s == c || s.starts_with(&format!("{c}/"))
            })
            .max_by_key(|c| c.section.len())
    }
}

/// The ASP.NET Core Module (V2): where it looks for its request handlers,
/// what a worker answers when one is missing, and the remedy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ancm {
    pub module: String,
    pub inprocess_handler: String,
    pub outofprocess_handler: String,
    pub dotnet: String,
    pub shared_framework: String,
    pub inprocess_missing: String,
    pub inprocess_no_framework: String,
    pub outofprocess_missing: String,
    pub outofprocess_no_version: String,
    pub remedy: String,
    pub references: Vec<String>,
}

/// The static loader check: what it reads and the errors it names.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Loader {
    /// (service, DLL) pairs: the DLL a host process loads for the service.
    pub service_dlls: Vec<(String, String)>,
    pub metabase: Option<String>,
    pub filter_service: Option<String>,
    pub filter_folders: Vec<String>,
    #[serde(default)]
    pub error: Vec<Win32Error>,
    /// Runtimes a redistributable package installs, by DLL name.
    #[serde(default)]
    pub runtime: Vec<Runtime>,
    pub references: Vec<String>,
}

/// A runtime a redistributable package installs per bitness (the Visual C++
/// runtime DLLs): the remedy when one of its DLLs is missing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Runtime {
    pub name: String,
    /// Its DLL names, lower case.
    pub dlls: Vec<String>,
    /// The remedy; `{arch}` is `x64`, `x86` or `arm64`, the bitness the
    /// process that needs it runs at.
    pub remedy: String,
    pub references: Vec<String>,
}

/// A Win32 error a failed load gives.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Win32Error {
    pub code: u32,
    pub name: String,
    pub message: String,
}

impl Loader {
    /// "127 ERROR_PROC_NOT_FOUND (The specified procedure could not be found.)"
    pub fn error_text(&self, code: u32) -> String {
        match self.error.iter().find(|e| e.code == code) {
            Some(e) => format!("{} {} ({})", e.code, e.name, e.message),
            None => code.to_string(),
        }
    }

    /// The runtime that ships `dll`, when the knowledge names one.
    pub fn runtime_of(&self, dll: &str) -> Option<&Runtime> {
        self.runtime
            .iter()
            .find(|r| r.dlls.iter().any(|d| d.eq_ignore_ascii_case(dll)))
    }
}

/// Folders and keys read from every install, beside what the rules name.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Collect {
    /// Folders below the system root whose PE files are all read.
    pub folders: Vec<String>,
    /// SOFTWARE key kept as the install's setup facts.
    pub setup_key: Option<String>,
    pub references: Vec<String>,
}

/// The update records of Windows 2000/XP/2003 (`SOFTWARE\Microsoft\Updates`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateRecords {
    /// The SOFTWARE key below which each update is recorded.
    pub key: String,
    /// What to do about a file older than the version its update recorded:
    /// the start of the remedy sentence, before the update is named.
    pub remedy: String,
    pub references: Vec<String>,
}

/// Knowledge files that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {what}")]
pub struct KnowledgeError {
    pub file: String,
    pub what: String,
}

fn version<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Version, D::Error> {
    let s = String::deserialize(d)?;
    Version::parse(&s).ok_or_else(|| {
        serde::de::Error::custom(format!("'{s}' is not a version of up to four numbers"))
    })
}

/// A version as knowledge writes it: dotted numbers only, one to four of
/// them (stricter than reading a version string from an image).
fn strict_version(s: &str) -> Option<Version> {
    let parts: Vec<&str> = s.split('.').collect();
    let ok = (1..=4).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    if ok {
        Version::parse(s)
    } else {
        None
    }
}

fn version_map<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Version>, D::Error> {
    let raw = BTreeMap::<String, String>::deserialize(d)?;
    raw.into_iter()
        .map(|(file, s)| match strict_version(&s) {
            Some(v) => Ok((file.to_ascii_lowercase(), v)),
            None => Err(serde::de::Error::custom(format!(
                "{file}: '{s}' is not a version of up to four dotted numbers"
            ))),
        })
        .collect()
}

impl Knowledge {
    /// The knowledge compiled into the binary.
    pub fn builtin() -> Knowledge {
        let mut k = Knowledge::default();
        for (name, json) in BUILTIN_JSON {
            // The built-in files are checked by a unit test; a parse failure
            // here is a build defect, not an input problem.
            let part: Knowledge = serde_json::from_str(json)
                .unwrap_or_else(|e| panic!("built-in knowledge {name}: {e}"));
            k.merge(part);
        }
        k
    }

    /// Parses one knowledge file.
    pub fn parse(name: &str, text: &str) -> Result<Knowledge, KnowledgeError> {
        toml::from_str(text).map_err(|e| KnowledgeError {
            file: name.to_string(),
            what: e.to_string(),
        })
    }

    /// Reads a `--rules` file and merges it over `self`, recording its digest.
    pub fn merge_file(&mut self, path: &std::path::Path) -> Result<(), KnowledgeError> {
        use sha2::Digest;
        let name = path.display().to_string();
        let err = |what: String| KnowledgeError {
            file: name.clone(),
            what,
        };
        let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
        let text = String::from_utf8(bytes.clone())
            .map_err(|_| err("not UTF-8 text (a knowledge file is TOML)".into()))?;
        self.merge(Self::parse(&name, &text)?);
        let digest = sha2::Sha256::digest(&bytes);
        self.user_files.push(RulesFile {
            path: name,
            sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
        });
        Ok(())
    }

    /// Merges `other` over `self`: same-keyed entries are replaced, new ones added.
    pub fn merge(&mut self, other: Knowledge) {
        fn upsert<T>(list: &mut Vec<T>, items: Vec<T>, same: impl Fn(&T, &T) -> bool) {
            for item in items {
                match list.iter_mut().find(|x| same(x, &item)) {
                    Some(slot) => *slot = item,
                    None => list.push(item),
                }
            }
        }
        upsert(&mut self.os, other.os, |a, b| a.version == b.version);
        upsert(&mut self.baseline, other.baseline, |a, b| {
            (&a.family, &a.os_version, &a.service_pack)
                == (&b.family, &b.os_version, &b.service_pack)
        });
        upsert(&mut self.family, other.family, |a, b| a.id == b.id);
        upsert(&mut self.lockstep, other.lockstep, |a, b| a.id == b.id);
        upsert(&mut self.hotfix, other.hotfix, |a, b| {
            (&a.kb, a.version) == (&b.kb, b.version)
        });
        upsert(&mut self.update, other.update, |a, b| {
            (&a.kb, &a.family) == (&b.kb, &b.family)
        });
        if other.services.is_some() {
            self.services = other.services;
        }
        if other.addons.is_some() {
            self.addons = other.addons;
        }
        if other.collect.is_some() {
            self.collect = other.collect;
        }
        if other.modules.is_some() {
            self.modules = other.modules;
        }
        if other.sections.is_some() {
            self.sections = other.sections;
        }
        if other.ancm.is_some() {
            self.ancm = other.ancm;
        }
        if other.update_records.is_some() {
            self.update_records = other.update_records;
        }
        if other.loader.is_some() {
            self.loader = other.loader;
        }
        if other.component_store.is_some() {
            self.component_store = other.component_store;
        }
    }

    /// What the Windows loader must collect for these rules to run.
    pub fn scope(&self) -> Scope {
        Scope {
            services: self
                .services
                .as_ref()
                .map(|s| s.names.clone())
                .unwrap_or_default(),
            folders: self
                .collect
                .as_ref()
                .map(|c| c.folders.clone())
                .unwrap_or_default(),
            setup_key: self.collect.as_ref().and_then(|c| c.setup_key.clone()),
            addons: self.addons.as_ref().map(|a| AddOnScope {
                key: a.key.clone(),
                separator: a.supplementary_separator.clone(),
                search: a.search.clone(),
            }),
            os_names: self
                .os
                .iter()
                .map(|o| (o.version.clone(), o.name.clone()))
                .collect(),
            updates_key: self.update_records.as_ref().map(|u| u.key.clone()),
            loader: self.loader.as_ref().map(|l| LoaderScope {
                service_dlls: l.service_dlls.clone(),
                metabase: l.metabase.clone(),
                filter_service: l.filter_service.clone(),
                filter_folders: l.filter_folders.clone(),
            }),
            pending_names: self.interesting_files(),
            store: self.component_store.as_ref().map(|c| StoreScope {
                os: c.os.clone(),
                folder_prefixes: c
                    .folder_prefixes
                    .iter()
                    .map(|p| p.to_ascii_lowercase())
                    .collect(),
                names: self.interesting_files(),
                compare: c.compare.clone(),
            }),
            ancm: self.ancm.as_ref().map(|a| crate::windows::AncmScope {
                module: a.module.clone(),
                inprocess_handler: a.inprocess_handler.clone(),
                outofprocess_handler: a.outofprocess_handler.clone(),
                dotnet: a.dotnet.clone(),
                shared_framework: a.shared_framework.clone(),
            }),
        }
    }

    pub fn os(&self, version: &str) -> Option<&Os> {
        self.os.iter().find(|o| o.version == version)
    }

    /// Families that ship on this OS version.
    pub fn families_for_os<'a>(
        &'a self,
        version: &'a str,
    ) -> impl Iterator<Item = &'a Family> + 'a {
        self.family
            .iter()
            .filter(move |f| f.os.iter().any(|o| o == version))
    }

    /// All file names any rule cares about (lower case, for matching).
    pub fn interesting_files(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .family
            .iter()
            .flat_map(|f| f.files.iter())
            .chain(self.lockstep.iter().flat_map(|l| l.files.iter()))
            .map(|f| f.to_ascii_lowercase())
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_built_in_is_the_toml() {
        let names = |l: &[(&str, &str)]| l.iter().map(|f| f.0.to_string()).collect::<Vec<_>>();
        assert_eq!(names(BUILTIN), names(BUILTIN_JSON));
        let mut from_toml = Knowledge::default();
        for (name, text) in BUILTIN {
            from_toml.merge(Knowledge::parse(name, text).unwrap());
        }
        assert_eq!(
            format!("{:?}", Knowledge::builtin()),
            format!("{from_toml:?}")
        );
    }

    #[test]
    fn builtin_knowledge_parses_and_is_consistent() {
        let k = Knowledge::builtin();
        assert!(k.hotfix.len() > 50);
        for l in &k.lockstep {
            assert!(
                k.family.iter().any(|f| f.id == l.family),
                "{} names unknown family",
                l.id
            );
            assert!(!l.references.is_empty() && !l.why.is_empty());
        }
        for b in &k.baseline {
            assert!(k.family.iter().any(|f| f.id == b.family));
            assert!(k.os(&b.os_version).is_some());
        }
        assert!(k.family.iter().all(|f| !f.references.is_empty()));
    }

    /// Every update entry parses (versions are checked as they load), is on
    /// its family's version line, and names its KB (and bulletin) as sources.
    #[test]
    fn update_tables_are_well_formed_and_sourced() {
        let k = Knowledge::builtin();
        assert!(k.update.len() >= 70, "{} updates", k.update.len());
        let is_id = |s: &str, prefix: &str, digits: std::ops::RangeInclusive<usize>| {
            s.strip_prefix(prefix).is_some_and(|d| {
                digits.contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit() || b == b'-')
            })
        };
        for u in &k.update {
            assert!(is_id(&u.kb, "Q", 6..=6), "{}: KB id", u.kb);
            assert!(!u.title.trim().is_empty(), "{}: title", u.kb);
            assert!(u.references.contains(&u.kb), "{}: cites its KB", u.kb);
            if let Some(b) = &u.bulletin {
                assert!(is_id(b, "MS", 6..=6), "{}: bulletin {b}", u.kb);
                assert!(u.references.contains(b), "{}: cites {b}", u.kb);
            }
            let fam = k.family.iter().find(|f| f.id == u.family);
            let fam = fam.unwrap_or_else(|| panic!("{}: family {}", u.kb, u.family));
            assert!(!u.files.is_empty(), "{}: files", u.kb);
            for (name, v) in &u.files {
                assert_eq!(name, &name.to_ascii_lowercase(), "{}", u.kb);
                assert!(
                    crate::analysis::rules::files::on_version_line(v, &fam.version_line),
                    "{}: {name} {v} is off the {} line",
                    u.kb,
                    fam.version_line
                );
            }
            // A separate numbering is claimed only where it shows: some file
            // is numbered below what a mainline update shipped of it.
            if u.numbering == Numbering::Separate {
                assert!(
                    u.files.iter().any(|(f, v)| k.update.iter().any(|m| {
                        m.numbering == Numbering::Main && m.shipped(f).is_some_and(|mv| mv > *v)
                    })),
                    "{}: separate numbering not shown",
                    u.kb
                );
            }
        }
        let mut keys: Vec<_> = k.update.iter().map(|u| (&u.kb, &u.family)).collect();
        keys.sort();
        let n = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), n, "one entry per KB and family");
        assert!(
            Knowledge::parse("bad.toml", "[[update]]\nkb = \"Q1\"\ntitle = \"t\"\nfamily = \"iis5\"\nreferences = [\"Q1\"]\n[update.files]\n\"a.dll\" = \"5.0.2195.x\"\n").is_err()
        );
    }

    /// The update tables agree with the research rows they were made from
    /// (`../shared/research/kb-file-versions.tsv`): every row of an update's
    /// family line is in the table, and every table entry is a row.
    #[test]
    fn update_tables_agree_with_the_research_rows() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/research/kb-file-versions.tsv");
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("SKIPPED: research table not found at {}", path.display());
            return;
        };
        let k = Knowledge::builtin();
        let lines: Vec<String> = k
            .update
            .iter()
            .filter_map(|u| k.family.iter().find(|f| f.id == u.family))
            .map(|f| f.version_line.clone())
            .collect();
        let mut rows = std::collections::BTreeSet::new();
        for line in text.lines() {
            let cols: Vec<&str> = line.split('\t').collect();
            let [file, version, kb, ..] = cols[..] else {
                continue;
            };
            let Some(v) = strict_version(version) else {
                continue;
            };
            if lines
                .iter()
                .any(|l| crate::analysis::rules::files::on_version_line(&v, l))
            {
                rows.insert((kb.to_string(), file.to_ascii_lowercase(), v));
            }
        }
        assert!(rows.len() > 200, "{} rows", rows.len());
        let table: std::collections::BTreeSet<_> = k
            .update
            .iter()
            .flat_map(|u| u.files.iter().map(|(f, v)| (u.kb.clone(), f.clone(), *v)))
            .collect();
        let missing: Vec<_> = rows.difference(&table).collect();
        let extra: Vec<_> = table.difference(&rows).collect();
        assert!(
            missing.is_empty(),
            "research rows not in the tables: {missing:?}"
        );
        assert!(
            extra.is_empty(),
            "table entries with no research row: {extra:?}"
        );
    }

    #[test]
    fn user_rules_override_by_id() {
        let mut k = Knowledge::builtin();
        let user = Knowledge::parse(
            "user.toml",
            r#"
            [[lockstep]]
            id = "iis4-www"
            family = "iis4"
            name = "narrowed"
            files = ["w3svc.dll", "infocomm.dll"]
            compare = "full"
            why = "local policy"
            references = ["local"]
            "#,
        )
        .unwrap();
        let before = k.lockstep.len();
        k.merge(user);
        assert_eq!(k.lockstep.len(), before);
        assert_eq!(
            k.lockstep.iter().find(|l| l.id == "iis4-www").unwrap().name,
            "narrowed"
        );
        assert!(Knowledge::parse("bad.toml", "[[lockstep]]\nid = 1").is_err());
    }

    #[test]
    fn user_updates_override_by_kb_and_family() {
        let mut k = Knowledge::builtin();
        let before = k.update.len();
        let user = Knowledge::parse(
            "user.toml",
            r#"
            [[update]]
            kb = "Q319733"
            title = "local"
            family = "iis5"
            references = ["Q319733"]
            [update.files]
            "W3SVC.DLL" = "5.0.2195.5300"
            "#,
        )
        .unwrap();
        k.merge(user);
        assert_eq!(k.update.len(), before);
        let u = k.update.iter().find(|u| u.kb == "Q319733").unwrap();
        assert_eq!((u.title.as_str(), u.files.len()), ("local", 1));
        assert_eq!(u.shipped("w3svc.dll"), Version::parse("5.0.2195.5300"));
    }
}
