//! The text report: deterministic, sorted, plain (no colour codes), so it
//! reads the same on a terminal, in a pipe and in a snapshot test.

use std::fmt::Write;

use serde_json::Value;

use super::size;
use crate::analysis::{Finding, Severity};
use crate::commands::diagnose::Diagnosis;
use crate::windows::Install;

/// The report of one image.
pub fn text_report(d: &Diagnosis) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "verskew diagnose: {} ({}, {})",
        d.image,
        d.format,
        size(d.size)
    );
    let _ = writeln!(o, "\nVolumes");
    for v in &d.volumes {
        let p = &v.partition;
        let _ = write!(
            o,
            "  #{} {} at offset {} ({})",
            v.index,
            p.place(),
            p.offset,
            size(p.size)
        );
        if let (Some(fs), Some(c)) = (v.filesystem, v.cluster_size) {
            let _ = write!(o, ", {fs}, {c}-byte clusters");
        }
        if let Some(l) = v.label.as_deref().filter(|l| !l.is_empty()) {
            let _ = write!(o, ", label \"{l}\"");
        }
        if let Some(e) = &v.error {
            let _ = write!(o, ": {e}");
        }
        o.push('\n');
    }
    let _ = writeln!(o, "\nWindows installations");
    for i in &d.installs {
        install(&mut o, i);
    }
    let count = |s| d.findings.iter().filter(|f| f.severity == s).count();
    let _ = writeln!(
        o,
        "\nFindings: {} error(s), {} warning(s), {} info",
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info)
    );
    if d.findings.is_empty() {
        let _ = writeln!(o, "  none: every version rule is satisfied");
    }
    for f in &d.findings {
        finding(&mut o, f);
    }
    if !d.unreadable.is_empty() {
        let _ = writeln!(
            o,
            "\nCould not read ({}): the findings above do not cover these",
            d.unreadable.len()
        );
        for u in &d.unreadable {
            let _ = writeln!(o, "  {}: {}", u.path, u.reason);
        }
    }
    o
}

fn install(o: &mut String, i: &Install) {
    let os = &i.os;
    let _ = writeln!(
        o,
        "  {} on volume #{}: {}, version {} build {}, {}",
        i.system_root,
        i.volume,
        os.product_name
            .as_deref()
            .or(os.name.as_deref())
            .unwrap_or("Windows"),
        os.version.as_deref().unwrap_or("?"),
        os.build.as_deref().unwrap_or("?"),
        os.service_pack
            .as_deref()
            .unwrap_or("no service pack recorded")
    );
    match &i.control_set {
        Some(cs) => {
            let _ = writeln!(
                o,
                "    control set: {} (from Select\\{})",
                cs.name, cs.source
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
            (Some(_), _) => format!("{} unreadable", h.name),
            (None, true) => format!("{} dirty (read as stored)", h.name),
            (None, false) => format!("{} clean", h.name),
        })
        .collect();
    let _ = writeln!(o, "    hives: {}", hives.join(", "));
    if !i.hotfixes.is_empty() {
        let ids: Vec<&str> = i.hotfixes.iter().map(|h| h.id.as_str()).collect();
        let _ = writeln!(o, "    hotfixes recorded: {}", ids.join(", "));
    }
    for s in &i.services {
        let _ = writeln!(
            o,
            "    service {}: start {}, {}",
            s.name,
            s.start.map_or("?".into(), |v| v.to_string()),
            s.binaries
                .iter()
                .map(|b| format!(
                    "{} {}{}",
                    b.source,
                    b.path,
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
        let _ = writeln!(o, "    ISM add-on {}: {}", a.name, a.value);
    }
    let _ = writeln!(o, "    PE files examined: {}", i.files_count);
}

fn finding(o: &mut String, f: &Finding) {
    let _ = writeln!(
        o,
        "\n  {} [{}] {}",
        f.severity.to_string().to_uppercase(),
        f.rule,
        f.paths.join(", ")
    );
    let _ = writeln!(o, "    {}", f.message);
    let _ = writeln!(o, "    Evidence:");
    for (k, v) in &f.evidence {
        evidence(o, k, v);
    }
    let _ = writeln!(o, "    Remedy: {}", f.remedy);
    if !f.references.is_empty() {
        let _ = writeln!(o, "    References: {}", f.references.join(", "));
    }
}

fn file_line(v: &Value) -> String {
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("?").to_string();
    let mut line = format!("{} {}", s("path"), s("file_version"));
    if let Some(fv) = v.get("file_version_string").and_then(Value::as_str) {
        line.push_str(&format!(" (\"{fv}\")"));
    }
    if let Some(m) = v.get("modified").and_then(Value::as_str) {
        line.push_str(&format!(", modified {m}"));
    }
    line
}

fn evidence(o: &mut String, key: &str, v: &Value) {
    match (key, v) {
        ("file", _) => {
            let _ = writeln!(o, "      file: {}", file_line(v));
        }
        ("sets", Value::Array(sets)) => {
            for s in sets {
                let _ = writeln!(
                    o,
                    "      lockstep set {} ({}), expected {}: {}",
                    s["id"].as_str().unwrap_or("?"),
                    s["name"].as_str().unwrap_or("?"),
                    s["reference_version"].as_str().unwrap_or("?"),
                    s["why"].as_str().unwrap_or("")
                );
                for p in s["compared_with"].as_array().into_iter().flatten() {
                    let _ = writeln!(o, "        compared with {}", file_line(p));
                }
            }
        }
        (_, Value::Array(items)) if items.iter().all(Value::is_string) => {
            if items.is_empty() {
                let _ = writeln!(o, "      {key}: none");
            } else if key == "timeline" {
                let _ = writeln!(o, "      timeline:");
                for i in items {
                    let _ = writeln!(o, "        {}", i.as_str().unwrap_or(""));
                }
            } else {
                let list: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                let _ = writeln!(o, "      {key}: {}", list.join(", "));
            }
        }
        (_, Value::String(s)) => {
            let _ = writeln!(o, "      {key}: {s}");
        }
        (_, Value::Object(map)) => {
            let parts: Vec<String> = map
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| match v {
                    Value::String(s) => format!("{k} {s}"),
                    other => format!("{k} {other}"),
                })
                .collect();
            let _ = writeln!(o, "      {key}: {}", parts.join(", "));
        }
        (_, other) => {
            let _ = writeln!(o, "      {key}: {other}");
        }
    }
}
