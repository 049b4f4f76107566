//! `installs[].loader`: the static loader check as read — search order,
//! KnownDLLs, the roots and every module with how each import resolved.

use serde::Serialize;

use crate::analysis::evidence::machine;
use crate::pe::Version;
use crate::windows::loader as model;

#[derive(Serialize)]
pub(super) struct Loader<'a> {
    known_dlls: &'a [String],
    known_dlls_folder: Option<&'a str>,
    /// Folders searched after the application's, in order.
    search: &'a [String],
    path_value: Option<&'a str>,
    /// system32 holds ntdll.dll or kernel32.dll; null when not readable.
    core_present: Option<bool>,
    roots: Vec<Root<'a>>,
    modules: Vec<Module<'a>>,
    capped: Option<&'a str>,
    /// How a 32-bit IIS worker on 64-bit Windows searched (system32 read as
    /// SysWOW64); null when no such worker was walked.
    wow64: Option<Wow64<'a>>,
}

#[derive(Serialize)]
struct Wow64<'a> {
    known_dlls_folder: Option<&'a str>,
    search: &'a [String],
    core_present: Option<bool>,
}

#[derive(Serialize)]
struct Worker<'a> {
    kind: &'a str,
    name: &'a str,
    bits: u32,
}

fn worker(w: &model::Worker) -> Worker<'_> {
    Worker {
        kind: &w.kind,
        name: &w.name,
        bits: w.bits,
    }
}

#[derive(Serialize)]
struct Root<'a> {
    loaded_by: &'a str,
    source: &'a str,
    path: &'a str,
    app_folder: &'a str,
    host_machine: Option<String>,
    /// The IIS image and worker bitness, for an IIS 7+ worker root.
    worker: Option<Worker<'a>>,
    wow64: bool,
}

#[derive(Serialize)]
struct Module<'a> {
    path: &'a str,
    machine: Option<String>,
    version: Option<Version>,
    host_machine: Option<String>,
    needed_by: &'a [String],
    /// IIS images whose worker load reaches it.
    workers: Vec<Worker<'a>>,
    /// Read in a 32-bit worker's WOW64 view.
    wow64: bool,
    error: Option<&'a str>,
    imports: Vec<Import<'a>>,
}

#[derive(Serialize)]
struct Import<'a> {
    dll: &'a str,
    delay: bool,
    symbols: usize,
    /// `found`, `missing` or `not-checked`.
    outcome: &'static str,
    /// The file found, for `found`.
    path: Option<&'a str>,
    known_dll: bool,
    /// Why it was not checked (or its exports could not be read).
    reason: Option<&'a str>,
    /// Every folder searched, for `missing`.
    searched: Option<&'a [String]>,
    missing: Vec<Missing<'a>>,
}

#[derive(Serialize)]
struct Missing<'a> {
    symbol: &'a str,
    exporter: &'a str,
    via: &'a [String],
}

impl<'a> From<&'a model::LoaderFacts> for Loader<'a> {
    fn from(l: &'a model::LoaderFacts) -> Self {
        Loader {
            known_dlls: &l.known_dlls,
            known_dlls_folder: l.known_dlls_folder.as_deref(),
            search: &l.search,
            path_value: l.path_value.as_deref(),
            core_present: l.core_present,
            roots: l
                .roots
                .iter()
                .map(|r| Root {
                    loaded_by: &r.loaded_by,
                    source: &r.source,
                    path: &r.path,
                    app_folder: &r.app_folder,
                    host_machine: r.host_machine.map(machine),
                    worker: r.worker.as_ref().map(worker),
                    wow64: r.wow64,
                })
                .collect(),
            modules: l.modules.iter().map(module).collect(),
            capped: l.capped.as_deref(),
            wow64: l.wow64.as_ref().map(|v| Wow64 {
                known_dlls_folder: v.known_dlls_folder.as_deref(),
                search: &v.search,
                core_present: v.core_present,
            }),
        }
    }
}

fn module(m: &model::Module) -> Module<'_> {
    Module {
        path: &m.path,
        machine: m.machine.map(machine),
        version: m.version,
        host_machine: m.host_machine.map(machine),
        needed_by: &m.needed_by,
        workers: m.workers.iter().map(worker).collect(),
        wow64: m.wow64,
        error: m.error.as_deref(),
        imports: m
            .imports
            .iter()
            .map(|i| {
                let (outcome, path, known_dll, reason, searched) = match &i.outcome {
                    model::Outcome::Found {
                        path,
                        known,
                        unchecked,
                    } => (
                        "found",
                        Some(path.as_str()),
                        *known,
                        unchecked.as_deref(),
                        None,
                    ),
                    model::Outcome::Missing { searched } => {
                        ("missing", None, false, None, Some(searched.as_slice()))
                    }
                    model::Outcome::NotChecked { reason } => {
                        ("not-checked", None, false, Some(reason.as_str()), None)
                    }
                };
                Import {
                    dll: &i.dll,
                    delay: i.delay,
                    symbols: i.symbols,
                    outcome,
                    path,
                    known_dll,
                    reason,
                    searched,
                    missing: i
                        .missing
                        .iter()
                        .map(|m| Missing {
                            symbol: &m.symbol,
                            exporter: &m.exporter,
                            via: &m.via,
                        })
                        .collect(),
                }
            })
            .collect(),
    }
}
