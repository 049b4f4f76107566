//! The text report: deterministic, sorted, plain (no colour codes), so it
//! reads the same in a pipe and in a snapshot test; `report::terminal`
//! wraps and colours it for a terminal. Every string read from the image
//! goes through [`escape`].

use std::fmt::Write;

use super::escape::escape;
use super::size;
use crate::analysis::evidence::{Evidence, FileEvidence};
use crate::analysis::{Coverage, Finding, Severity, Status};
use crate::commands::diagnose::Diagnosis;
use crate::windows::Install;

/// What the text report leaves out.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    /// Findings (and what could not be read) only: no volumes, no installs.
    pub quiet: bool,
}

/// The report of one image.
pub fn text_report(d: &Diagnosis) -> String {
    text_report_with(d, TextOptions::default())
}

/// The report of one image, leaving out what `opts` says.
pub fn text_report_with(d: &Diagnosis, opts: TextOptions) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "verskew diagnose: {} ({}, {})",
        escape(&d.image),
        d.format,
        size(d.size)
    );
    if let Some(t) = &d.transfer {
        o.push_str(&super::fetched_line(t.bytes_fetched, t.requests, t.retries));
    }
    // Silence is not health: say first what could not be judged.
    let status = d.status();
    if status == Status::NotEvaluated {
        let _ = writeln!(o, "NOT EVALUATED: {}", escape(&not_evaluated(d)));
    }
    if !opts.quiet {
        volumes(&mut o, d);
        if d.multi_volume() {
            boot_ini(&mut o, d);
        }
        let _ = writeln!(o, "\nWindows installations");
        for (n, (i, c)) in d.installs.iter().zip(&d.coverage).enumerate() {
            install(&mut o, i, c, d.multi_volume());
            if let Some(story) = d.stories.get(n).and_then(Option::as_deref) {
                let _ = writeln!(o, "    story: {}", escape(story));
            }
        }
    }
    let count = |s| d.findings.iter().filter(|f| f.severity == s).count();
    let _ = write!(
        o,
        "\nFindings: {} error(s), {} warning(s), {} info",
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info)
    );
    match status {
        Status::Evaluated => o.push('\n'),
        Status::Partial => {
            let _ = writeln!(
                o,
                "; PARTIAL: {} item(s) could not be read (listed at the end)",
                d.unreadable.len()
            );
        }
        Status::NotEvaluated => {
            let _ = writeln!(o, "; NOT EVALUATED");
        }
    }
    if d.findings.is_empty() {
        let _ = writeln!(
            o,
            "  none: {}",
            match status {
                Status::Evaluated => "every version rule is satisfied",
                Status::Partial => "every version rule is satisfied by what could be read",
                Status::NotEvaluated => "no rule could judge this image, so this is no all-clear",
            }
        );
    }
    // One volume needs no naming; several do, on every finding.
    let named = d.volumes.len() > 1;
    for f in &d.findings {
        finding(&mut o, f, named);
    }
    if !d.unreadable.is_empty() {
        let _ = writeln!(
            o,
            "\nCould not read ({}): the findings above do not cover these",
            d.unreadable.len()
        );
        for u in &d.unreadable {
            let _ = writeln!(o, "  {}: {}", escape(&u.path), escape(&u.reason));
        }
    }
    o
}

fn volumes(o: &mut String, d: &Diagnosis) {
    let _ = writeln!(o, "\nVolumes");
    for v in &d.volumes {
        let p = &v.partition;
        let _ = match p.scheme.id() {
            // A collected drive is no place on a disk.
            "collection" => write!(
                o,
                "  #{} {} ({})",
                v.index,
                escape(&p.place()),
                size(p.size)
            ),
            _ => write!(
                o,
                "  #{} {} at offset {} ({})",
                v.index,
                p.place(),
                p.offset,
                size(p.size)
            ),
        };
        if let (Some(fs), Some(c)) = (v.filesystem, v.cluster_size) {
            // "NTFS 1.2"; a FAT type names itself ("FAT16", not "FAT FAT16").
            let _ = match &v.version {
                Some(ver) if ver.starts_with(fs) => write!(o, ", {}", escape(ver)),
                Some(ver) => write!(o, ", {fs} {}", escape(ver)),
                None => write!(o, ", {fs}"),
            };
            let _ = write!(o, ", {c}-byte clusters");
        }
        if let Some(l) = v.label.as_deref().filter(|l| !l.is_empty()) {
            let _ = write!(o, ", label \"{}\"", escape(l));
        }
        if let Some(e) = &v.error {
            let _ = write!(o, ": {}", escape(e));
        }
        // How the volume was found when no table entry points at it.
        if let Some(n) = &p.note {
            let _ = write!(o, " ({})", escape(n));
        }
        o.push('\n');
    }
}

/// Why nothing could be judged: each install's reasons.
fn not_evaluated(d: &Diagnosis) -> String {
    let reasons: Vec<String> = d
        .installs
        .iter()
        .zip(&d.coverage)
        .map(|(i, c)| {
            format!(
                "{} ({} on volume #{})",
                c.reasons.join("; "),
                i.system_root,
                i.volume
            )
        })
        .collect();
    reasons.join("; ")
}

/// What each boot.ini line starts (images with more than one volume).
fn boot_ini(o: &mut String, d: &Diagnosis) {
    let Some(first) = d.boot_entries.first() else {
        return;
    };
    let _ = writeln!(
        o,
        "\nboot.ini (volume #{} {})",
        first.volume,
        escape(&first.path)
    );
    for e in &d.boot_entries {
        let target = match (e.install, &e.note) {
            (Some(n), note) => {
                let i = &d.installs[n];
                let note = note.as_deref().map(|n| format!(" ({})", escape(n)));
                format!(
                    "{} on volume #{}{}",
                    escape(&i.system_root),
                    i.volume,
                    note.unwrap_or_default()
                )
            }
            (None, Some(why)) => format!("nothing here: {}", escape(why)),
            (None, None) => "nothing here".to_string(),
        };
        let _ = writeln!(
            o,
            "  line {}: {} \"{}\"{} -> {target}",
            e.line,
            escape(&e.arc),
            escape(&e.description),
            if e.default { " (default)" } else { "" }
        );
    }
}

fn install(o: &mut String, i: &Install, c: &Coverage, multi: bool) {
    let os = &i.os;
    // "(1809)", "(21H2)": the release a Windows 10 and later build belongs to.
    let release = os
        .display_version
        .as_deref()
        .map(|d| format!(" ({})", escape(d)))
        .unwrap_or_default();
    let _ = writeln!(
        o,
        "  {} on volume #{}: {}, version {} build {}{release}, {}",
        escape(&i.system_root),
        i.volume,
        escape(
            os.product_name
                .as_deref()
                .or(os.name.as_deref())
                .unwrap_or("Windows")
        ),
        escape(os.version.as_deref().unwrap_or("?")),
        escape(os.full_build().as_deref().unwrap_or("?")),
        escape(
            os.service_pack
                .as_deref()
                .unwrap_or("no service pack recorded")
        )
    );
    match &i.control_set {
        Some(cs) => {
            let _ = writeln!(
                o,
                "    control set: {} (from Select\\{})",
                escape(&cs.name),
                cs.source
            );
        }
        None => {
            let _ = writeln!(o, "    control set: not resolved");
        }
    }
    let hives: Vec<String> = i
        .hives
        .iter()
        .map(|h| match (&h.error, h.dirty) {
            (Some(_), _) => format!("{} unreadable", escape(&h.name)),
            (None, _) if h.fallback.is_some() => {
                format!("{} read from the copy {}", escape(&h.name), escape(&h.path))
            }
            (None, true) => format!("{} dirty (read as stored)", escape(&h.name)),
            (None, false) => match h.replayed_log() {
                Some(log) => format!("{} replayed from {}", escape(&h.name), escape(log)),
                None => format!("{} clean", escape(&h.name)),
            },
        })
        .collect();
    let _ = writeln!(o, "    hives: {}", hives.join(", "));
    if let Some(t) = &i.local_times {
        let _ = writeln!(o, "    {}", escape(&t.note()));
    }
    if multi && !i.drives.is_empty() {
        let drives: Vec<String> = i
            .drives
            .iter()
            .map(|d| match d.volume {
                Some(v) => format!("{}: volume #{v} ({})", d.letter, escape(&d.source)),
                None => format!("{}: not on this image ({})", d.letter, escape(&d.source)),
            })
            .collect();
        let _ = writeln!(o, "    drives: {}", drives.join("; "));
    }
    let families = match c.families.is_empty() {
        true => String::new(),
        false => format!(" by {}", escape(&c.families.join(", "))),
    };
    let reasons = c.reasons.join("; ");
    let reasons = escape(&reasons);
    let _ = match c.status {
        Status::Evaluated => writeln!(o, "    coverage: evaluated{families}"),
        Status::Partial => writeln!(o, "    coverage: partial{families}: {reasons}"),
        Status::NotEvaluated => writeln!(o, "    coverage: NOT EVALUATED: {reasons}"),
    };
    if !i.hotfixes.is_empty() {
        let ids: Vec<_> = i.hotfixes.iter().map(|h| escape(&h.id)).collect();
        let _ = writeln!(o, "    hotfixes recorded: {}", ids.join(", "));
    }
    if !i.updates.is_empty() {
        let ids: Vec<_> = i
            .updates
            .iter()
            .map(|u| format!("{} ({} files)", escape(&u.label()), u.files.len()))
            .collect();
        let _ = writeln!(o, "    updates recorded: {}", ids.join(", "));
    }
    for s in &i.services {
        let _ = writeln!(
            o,
            "    service {}: start {}, {}",
            escape(&s.name),
            s.start.map_or("?".into(), |v| v.to_string()),
            s.binaries
                .iter()
                .map(|b| format!(
                    "{} {}{}",
                    escape(&b.source),
                    escape(&b.path),
                    match (&b.found, &b.unreadable) {
                        (Some(_), _) => "",
                        (None, Some(_)) => " (could not be checked)",
                        (None, None) => " (missing)",
                    }
                ))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for a in &i.addons {
        let _ = writeln!(
            o,
            "    ISM add-on {}: {}",
            escape(&a.name),
            escape(&a.value)
        );
    }
    if let Some(f) = &i.iis_config {
        iis_config(o, f);
    }
    if let Some(s) = &i.component_store {
        component_store(o, s);
    }
    let _ = writeln!(o, "    PE files examined: {}", i.files_count);
}

/// One line for the component store check: what was compared and how, or
/// why nothing was; then each queued servicing operation.
fn component_store(o: &mut String, s: &crate::windows::store::ComponentStore) {
    use crate::windows::store::Verdict;
    if !s.checked {
        let _ = writeln!(
            o,
            "    component store: not checked ({})",
            escape(s.reason.as_deref().unwrap_or("no reason recorded"))
        );
        return;
    }
    let count = |v: Verdict| s.files.iter().filter(|f| f.verdict == v).count();
    let mut parts = Vec::new();
    for (v, what) in [
        (Verdict::StoreCopy, "the store's copy"),
        (Verdict::HashDiffers, "another hash"),
        (Verdict::VersionDiffers, "another version"),
        (Verdict::OlderComponent, "an older component's copy"),
        (Verdict::NotLinked, "a separate copy"),
        (Verdict::NotInStore, "in no listed component"),
        (Verdict::NotChecked, "not decided"),
    ] {
        let n = count(v);
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    let how = match (s.hard_links, s.manifest_format) {
        (true, Some(m)) => format!("hard links and {m} manifests"),
        (true, None) => "hard links, no manifest read".to_string(),
        (false, Some(m)) => format!("{m} manifests, no hard links on this filesystem"),
        (false, None) => "component versions only".to_string(),
    };
    let _ = writeln!(
        o,
        "    component store {}: {} live file(s) against {} component folder(s), by {how}{}{}",
        escape(&s.path),
        s.files.len(),
        s.components_listed,
        if parts.is_empty() { "" } else { ": " },
        parts.join(", ")
    );
    for p in &s.pending {
        let _ = writeln!(o, "      servicing pending: {}", escape(p));
    }
}

/// One line for IIS 7 and later's configuration, a line per pool with the
/// applications in it, and the shared configuration when it moves elsewhere.
fn iis_config(o: &mut String, f: &crate::windows::IisConfigFile) {
    let c = &f.config;
    let _ = writeln!(
        o,
        "    IIS configuration {}: {} global modules, {} ISAPI filters, {} application pools, {} sites",
        escape(&f.path),
        c.global_modules.len(),
        c.isapi_filters.len(),
        c.app_pools.len(),
        c.sites.len()
    );
    if let Some(to) = &f.redirected_to {
        let _ = writeln!(
            o,
            "      shared configuration: the servers read their configuration from {}, not from this file",
            escape(to)
        );
    }
    for p in &c.app_pools {
        let mut apps: Vec<String> = c
            .sites
            .iter()
            .flat_map(|s| {
                s.applications
                    .iter()
                    .filter(|a| a.pool.eq_ignore_ascii_case(&p.name))
                    .map(move |a| escape(&format!("{}{}", s.name, a.path)).into_owned())
            })
            .collect();
        apps.sort();
        let _ = writeln!(
            o,
            "      pool {}: {}{}, {}, {}",
            escape(&p.name),
            if p.enable_32bit {
                "32-bit on 64-bit"
            } else {
                "the OS's bitness"
            },
            match p.runtime_version.as_str() {
                "" => ", no managed code".to_string(),
                v => format!(", .NET {}", escape(v)),
            },
            escape(&p.pipeline_mode),
            match apps.is_empty() {
                true => "no applications".to_string(),
                false => apps.join(", "),
            }
        );
    }
    for problem in &c.problems {
        let _ = writeln!(o, "      skipped: {}", escape(problem));
    }
    let schema = &f.schema;
    match &schema.error {
        Some(e) => {
            let _ = writeln!(o, "      schema {}: {}", escape(&schema.path), escape(e));
        }
        None => {
            let unread = schema.files.iter().filter(|x| x.error.is_some()).count();
            let _ = writeln!(
                o,
                "      schema {}: {} files, {} sections{}",
                escape(&schema.path),
                schema.files.len(),
                schema.files.iter().map(|x| x.sections.len()).sum::<usize>(),
                match unread {
                    0 => String::new(),
                    n => format!(", {n} unreadable"),
                }
            );
        }
    }
    for w in &f.web_configs {
        let mut line = format!(
            "      web.config of {}{} (pool {}): {}",
            escape(&w.site),
            escape(&w.application),
            escape(&w.pool),
            escape(w.path.as_deref().unwrap_or("?"))
        );
        match (w.state, &w.reason) {
            ("read", _) => {}
            (state, Some(r)) => line.push_str(&format!(" {state}: {}", escape(r))),
            (state, None) => line.push_str(&format!(" {state}")),
        }
        if let Some(c) = &w.config {
            let set: Vec<String> = c
                .uses
                .iter()
                .map(|u| {
                    let mut s = escape(&u.section).into_owned();
                    if !u.declared {
                        s.push_str(" (undeclared)");
                    }
                    s
                })
                .collect();
            if !set.is_empty() {
                line.push_str(&format!("; sets {}", set.join(", ")));
            }
        }
        if let Some(h) = &w.ancm {
            line.push_str(&format!(
                "; ASP.NET Core {}: {} {}",
                h.hosting_model,
                escape(&h.handler),
                match (&h.found, &h.reason) {
                    (Some(p), _) => format!("at {}", escape(p)),
                    (None, Some(r)) => format!("{}: {}", h.state, escape(r)),
                    (None, None) => h.state.to_string(),
                }
            ));
        }
        let _ = writeln!(o, "{line}");
    }
}

/// One finding; `named` adds its volume (the disk has several).
fn finding(o: &mut String, f: &Finding, named: bool) {
    let paths: Vec<_> = f.paths.iter().map(|p| escape(p)).collect();
    let volume = match named {
        true => format!("volume #{}: ", f.volume),
        false => String::new(),
    };
    let _ = writeln!(
        o,
        "\n  {} [{}] {volume}{}",
        f.severity.to_string().to_uppercase(),
        escape(&f.rule),
        paths.join(", ")
    );
    // Messages and remedies quote names and hotfix titles from the image.
    let _ = writeln!(o, "    {}", escape(&f.message));
    let _ = writeln!(o, "    Evidence:");
    evidence(o, &f.evidence);
    let _ = writeln!(o, "    Remedy: {}", escape(&f.remedy));
    if !f.references.is_empty() {
        let refs: Vec<_> = f.references.iter().map(|r| escape(r)).collect();
        let _ = writeln!(o, "    References: {}", refs.join(", "));
    }
}

fn file_line(f: &FileEvidence) -> String {
    let version = f.file_version.map_or("?".into(), |v| v.to_string());
    let mut line = format!("{} {version}", escape(&f.path));
    if let Some(fv) = &f.file_version_string {
        line.push_str(&format!(" (\"{}\")", escape(fv)));
    }
    if let Some(m) = f.modified {
        line.push_str(&format!(", modified {m}"));
    }
    line
}

/// The evidence, one key a line in the JSON's (alphabetical) key order:
/// lists joined (or "none"), objects as "key value" pairs without the unset
/// ones, the file and each lockstep set's peers as file lines. Values are
/// escaped where they are written (`text`), file lines in `file_line`.
fn evidence(o: &mut String, e: &Evidence) {
    fn text(o: &mut String, key: &str, v: Option<impl std::fmt::Display>) {
        if let Some(v) = v {
            let _ = writeln!(o, "      {key}: {}", escape(&v.to_string()));
        }
    }
    fn list(o: &mut String, key: &str, items: &[String]) {
        match items {
            [] => text(o, key, Some("none")),
            _ => text(o, key, Some(items.join(", "))),
        }
    }
    fn pairs(o: &mut String, key: &str, parts: &[(&str, Option<String>)]) {
        let parts: Vec<String> = parts
            .iter()
            .filter_map(|(k, v)| Some(format!("{k} {}", v.as_ref()?)))
            .collect();
        text(o, key, Some(parts.join(", ")));
    }
    let some = |s: &String| Some(s.clone());
    let pool_lines = |pools: &[crate::analysis::evidence::PoolEvidence]| -> Vec<String> {
        pools
            .iter()
            .map(|p| format!("{} ({}-bit: {})", p.name, p.bits, p.applications.join(", ")))
            .collect()
    };
    if let Some(a) = &e.ancm {
        let parts = [
            ("application", some(&a.application)),
            ("bits", Some(a.bits.to_string())),
            ("handler", some(&a.handler)),
            ("hosting_model", some(&a.hosting_model)),
            ("state", some(&a.state)),
            ("web_config", some(&a.web_config)),
        ];
        pairs(o, "ancm", &parts);
        list(o, "pools", &pool_lines(&a.pools));
        list(o, "searched", &a.searched);
    }
    text(o, "baseline_version", e.baseline_version);
    text(o, "control_set", e.control_set.as_ref());
    text(o, "expected_version", e.expected_version.as_ref());
    if let Some(x) = &e.explained_by {
        pairs(
            o,
            "explained_by",
            &[("kb", some(&x.kb)), ("title", some(&x.title))],
        );
    }
    if let Some(f) = &e.file {
        let _ = writeln!(o, "      file: {}", file_line(f));
    }
    if let Some(h) = &e.hive {
        let dirty = Some(h.dirty.to_string());
        let parts = [
            ("dirty", dirty),
            ("error", h.error.clone()),
            ("name", some(&h.name)),
            ("path", some(&h.path)),
        ];
        pairs(o, "hive", &parts);
    }
    let states: Vec<String> = e
        .hive_states
        .iter()
        .map(|h| match &h.log {
            Some(log) => format!("{} {} ({}, log {log})", h.name, h.state, h.path),
            None => format!("{} {} ({})", h.name, h.state, h.path),
        })
        .collect();
    list(o, "hive_states", &states);
    list(o, "hotfixes", &e.hotfixes);
    if let Some(i) = &e.import {
        let module = |m: &crate::analysis::evidence::ModuleEvidence| {
            let mut s = m.path.clone();
            if let Some(v) = m.version {
                s.push_str(&format!(" {v}"));
            }
            if let Some(k) = &m.machine {
                s.push_str(&format!(" ({k})"));
            }
            s
        };
        let parts = [
            ("importer", Some(module(&i.importer))),
            ("dll", some(&i.dll)),
            ("delay", i.delay.then(|| "true".to_string())),
            (
                "missing",
                (!i.missing.is_empty()).then(|| i.missing.join(" ")),
            ),
            ("exporter", i.exporter.as_ref().map(module)),
            (
                "forwarders",
                (!i.forwarders.is_empty()).then(|| i.forwarders.join(" ")),
            ),
            ("loaded_by", Some(i.loaded_by.join(" "))),
            ("win32_error", some(&i.win32_error)),
        ];
        pairs(o, "import", &parts);
    }
    if let Some(m) = &e.module {
        let parts = [
            ("bits", Some(m.bits.to_string())),
            ("config", some(&m.config)),
            ("image", some(&m.image)),
            ("kind", some(&m.kind)),
            ("machine", m.machine.clone()),
            ("name", some(&m.name)),
            (
                "pre_condition",
                (!m.pre_condition.is_empty()).then(|| m.pre_condition.join(",")),
            ),
            ("resolved", some(&m.resolved)),
        ];
        pairs(o, "module", &parts);
        let pools: Vec<String> = m
            .pools
            .iter()
            .map(|p| format!("{} ({}-bit: {})", p.name, p.bits, p.applications.join(", ")))
            .collect();
        list(o, "pools", &pools);
    }
    let os = &e.os;
    let parts = [
        ("build", os.build.clone()),
        ("service_pack", os.service_pack.clone()),
        ("version", os.version.clone()),
    ];
    pairs(o, "os", &parts);
    if let Some(p) = &e.pending {
        let _ = writeln!(o, "      pending: {}: {}", p.verdict, escape(&p.why));
        for op in &p.operations {
            let version = |v: Option<crate::pe::Version>| v.map_or("?".into(), |v| v.to_string());
            let line = match &op.destination {
                None => format!("{} (delete)", op.source),
                Some(to) => format!(
                    "{} {} [{}] -> {to} {}{}",
                    op.source,
                    version(op.source_version),
                    op.source_state,
                    version(op.destination_version),
                    if op.replace_existing {
                        " (replace existing)"
                    } else {
                        ""
                    }
                ),
            };
            let _ = writeln!(o, "        {}", escape(&line));
        }
    }
    if let Some(p) = &e.pending_renames {
        // As operations, so a delete's empty destination is visible.
        let ops: Vec<String> = crate::windows::PendingOperation::pairs(p)
            .iter()
            .map(|op| match (&op.destination, op.replace_existing) {
                (None, _) => format!("{} (delete)", op.source),
                (Some(to), false) => format!("{} -> {to}", op.source),
                (Some(to), true) => format!("{} -> {to} (replace existing)", op.source),
            })
            .collect();
        list(o, "pending_renames", &ops);
    }
    if let Some(r) = &e.registry {
        let parts = [
            ("data", r.data.clone()),
            ("key", some(&r.key)),
            ("last_written", r.last_written.map(|t| t.to_string())),
            ("value", some(&r.value)),
        ];
        pairs(o, "registry", &parts);
    }
    if let Some(r) = &e.runtime {
        let parts = [
            ("arch", some(&r.arch)),
            ("dll", some(&r.dll)),
            ("name", some(&r.name)),
        ];
        pairs(o, "runtime", &parts);
    }
    if let Some(s) = &e.searched {
        list(o, "searched", s);
    }
    if let Some(x) = &e.section {
        let flag = |b: Option<bool>| b.map(|b| b.to_string());
        let parts = [
            ("component", x.component.clone()),
            ("config", some(&x.config)),
            ("declared", Some(x.declared.to_string())),
            ("location", x.location.clone()),
            ("module_registered", flag(x.module_registered)),
            (
                "modules",
                (!x.modules.is_empty()).then(|| x.modules.join(", ")),
            ),
            ("schema", flag(x.schema)),
            ("schema_folder", some(&x.schema_folder)),
            ("sections", Some(x.sections.join(", "))),
            ("state", some(&x.state)),
        ];
        pairs(o, "section", &parts);
        list(o, "applications", &x.applications);
        list(o, "pools", &pool_lines(&x.pools));
    }
    text(o, "service_pack", e.service_pack.as_ref());
    for s in e.sets.iter().flatten() {
        let _ = writeln!(
            o,
            "      lockstep set {} ({}), expected {}: {}",
            escape(&s.id),
            escape(&s.name),
            escape(&s.reference_version),
            escape(&s.why)
        );
        for p in &s.compared_with {
            let _ = writeln!(o, "        compared with {}", file_line(p));
        }
    }
    match e.timeline.as_deref() {
        None => {}
        Some([]) => text(o, "timeline", Some("none")),
        Some(events) => {
            let _ = writeln!(o, "      timeline:");
            for event in events {
                let _ = writeln!(o, "        {}", escape(event));
            }
        }
    }
    if let Some(u) = &e.update {
        let _ = writeln!(
            o,
            "      update {}{}: {}",
            escape(&u.kb),
            u.bulletin
                .as_ref()
                .map(|b| format!(" ({})", escape(b)))
                .unwrap_or_default(),
            escape(&u.title)
        );
        for p in &u.proven_by {
            let _ = writeln!(o, "        applied, as shown by {}", file_line(p));
        }
    }
    if let Some(r) = &e.update_record {
        let parts = [
            ("description", r.description.clone()),
            (
                "file_written_after_install",
                r.file_written_after_install.map(|b| b.to_string()),
            ),
            ("id", some(&r.id)),
            ("install_time", r.install_time.map(|t| t.to_string())),
            (
                "install_time_precise",
                r.install_time_precise.map(|b| b.to_string()),
            ),
            ("installed_date", r.installed_date.clone()),
            ("key", some(&r.key)),
            ("last_written", r.last_written.map(|t| t.to_string())),
            ("location", r.location.clone()),
            ("pack", r.pack.clone()),
            ("product", some(&r.product)),
            ("recorded_version", some(&r.recorded_version)),
        ];
        pairs(o, "update_record", &parts);
    }
}
