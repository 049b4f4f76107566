//! `diagnose --format html`: one self-contained page a responder attaches
//! to a ticket. Inline CSS only, no script, no link, font or image from
//! elsewhere: it reads the same offline, in a mail client's viewer or a
//! ticket system's sandbox. Per image and install: what was and was not
//! evaluated, the story, the timeline as an inline SVG, each lockstep set
//! as a version matrix (files × versions, the odd ones out marked), and
//! the findings with their evidence.
//!
//! Deterministic: the page holds no time of its own, only the images'.
//! Every string from an image goes through [`escape_html`]. Element ids
//! (`image-N`, `image-N-install-M`, `…-coverage`, `…-timeline`,
//! `…-matrix-SET`) and classes (`matrix`, `timeline`, `coverage`,
//! `finding`, `odd`) are part of the contract: tests find them.

use std::fmt::Write;

use serde_json::Value;

use super::markup::{escape_html as h, id_part};
use super::svg::timeline_svg;
use super::{size, Outcome, TOOL_VERSION};
use crate::analysis::rules::{SetState, Standing};
use crate::analysis::story;
use crate::analysis::{Coverage, Finding, Severity, Status};
use crate::commands::diagnose::Diagnosis;
use crate::windows::Install;

const STYLE: &str = r#"
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0 auto;max-width:1100px;padding:1em 1.5em;color:#111;background:#fff;line-height:1.4}
h1{font-size:1.6em;margin:.2em 0}h2{border-bottom:2px solid #333;padding-bottom:.2em;margin-top:2em}
h3{margin-top:1.5em;background:#f0f2f5;padding:.3em .5em}h4{margin:1.2em 0 .4em}
code,.path,td.file{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:.92em;word-break:break-all}
.badge{display:inline-block;padding:.1em .6em;border-radius:.8em;font-size:.85em;font-weight:600;color:#fff}
.status-evaluated .badge,.badge.evaluated{background:#2e7d32}.badge.partial{background:#b26a00}.badge.not-evaluated{background:#6d6d6d}
.badge.error{background:#b3261e}.badge.warning{background:#b26a00}.badge.info{background:#1f5fa8}
.banner{border-left:6px solid #6d6d6d;background:#f3f3f3;padding:.5em 1em;font-weight:600}
.coverage{border:1px solid #ccc;border-radius:4px;padding:.5em 1em;background:#fafafa}
.coverage.partial{border-color:#b26a00}.coverage.not-evaluated{border-color:#6d6d6d;background:#f3f3f3}
dl.facts{display:grid;grid-template-columns:max-content auto;gap:.15em 1em;margin:.3em 0}dl.facts dt{font-weight:600}dl.facts dd{margin:0}
table{border-collapse:collapse;margin:.4em 0 1em}th,td{border:1px solid #bbb;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#eef}table.matrix td.cell{text-align:center;min-width:7em}
table.matrix th.reference{background:#dfe9d8}table.matrix td.in-step{background:#e8f3e6}
table.matrix td.odd{background:#fbe3e1;font-weight:700;outline:2px solid #b3261e}table.matrix td.odd.newer{background:#fff1d6;outline-color:#b26a00}
table.matrix td.not-compared{background:#eee}table.matrix caption{text-align:left;font-weight:600;padding:.2em 0}
.finding{border:1px solid #ccc;border-left:6px solid #1f5fa8;border-radius:4px;padding:.4em 1em;margin:.8em 0}
.finding.error{border-left-color:#b3261e}.finding.warning{border-left-color:#b26a00}
.finding h5{font-size:1em;margin:.3em 0}.evidence dl{margin:.2em 0 .2em 1em}.evidence ul{margin:.1em 0;padding-left:1.4em}
.story{background:#fffbe6;border:1px solid #e6d98c;padding:.5em 1em}
figure.timeline{margin:.5em 0;border:1px solid #ddd;padding:.4em}.empty{color:#555;font-style:italic}
footer{margin-top:3em;color:#555;font-size:.85em;border-top:1px solid #ccc;padding-top:.5em}
"#;

/// The page for the images of one run, in argument order: each diagnosed
/// image, or why it could not be.
pub fn html_report(images: &[Outcome]) -> String {
    let mut o = String::new();
    o.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(
        o,
        "<meta name=\"generator\" content=\"verskew {TOOL_VERSION}\">"
    );
    let title = match images {
        [one] => match one {
            Outcome::Diagnosed(d) => h(&d.image),
            Outcome::Failed { image, .. } => h(image),
        },
        _ => format!("{} images", images.len()),
    };
    let _ = writeln!(o, "<title>verskew diagnose: {title}</title>");
    let _ = writeln!(o, "<style>{STYLE}</style>\n</head>\n<body>");
    let _ = writeln!(
        o,
        "<header><h1>verskew diagnose</h1><p>verskew {TOOL_VERSION}: {} image(s), read offline and read-only.</p></header>",
        images.len()
    );
    if images.len() > 1 {
        o.push_str("<nav id=\"contents\"><ul>\n");
        for (n, r) in images.iter().enumerate() {
            let (name, badge) = match r {
                Outcome::Diagnosed(d) => (h(&d.image), status_badge(d.status())),
                Outcome::Failed { image, .. } => (
                    h(image),
                    "<span class=\"badge error\">unreadable</span>".into(),
                ),
            };
            let _ = writeln!(o, "<li><a href=\"#image-{n}\">{name}</a> {badge}</li>");
        }
        o.push_str("</ul></nav>\n");
    }
    for (n, r) in images.iter().enumerate() {
        match r {
            Outcome::Diagnosed(d) => image(&mut o, n, d),
            Outcome::Failed { image, error } => {
                let _ = writeln!(
                    o,
                    "<section class=\"image failed\" id=\"image-{n}\">\n<h2>{}</h2>\n<p class=\"banner\">Could not be analysed ({}): {}</p>\n</section>",
                    h(image),
                    h(error.kind()),
                    h(&error.to_string())
                );
            }
        }
    }
    o.push_str("<footer>Written by verskew from the images named above; the page records no time of its own, so the same images give the same page. Times are UTC.</footer>\n</body>\n</html>\n");
    o
}

fn status_badge(s: Status) -> String {
    let label = match s {
        Status::Evaluated => "evaluated",
        Status::Partial => "partial",
        Status::NotEvaluated => "NOT EVALUATED",
    };
    format!("<span class=\"badge {}\">{label}</span>", s.id())
}

fn image(o: &mut String, n: usize, d: &Diagnosis) {
    let status = d.status();
    let _ = writeln!(
        o,
        "<section class=\"image status-{}\" id=\"image-{n}\">\n<h2>{} {}</h2>",
        status.id(),
        h(&d.image),
        status_badge(status)
    );
    let count = |s| d.findings.iter().filter(|f| f.severity == s).count();
    let _ = writeln!(
        o,
        "<p class=\"summary\">{}, {}. Findings: <span class=\"badge error\">{} error(s)</span> <span class=\"badge warning\">{} warning(s)</span> <span class=\"badge info\">{} info</span></p>",
        h(&d.format.to_string()),
        size(d.size),
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info)
    );
    match status {
        Status::NotEvaluated => o.push_str("<p class=\"banner not-evaluated\">NOT EVALUATED: no rule could judge this image, so the absence of findings is no all-clear.</p>\n"),
        Status::Partial => { let _ = writeln!(o, "<p class=\"banner partial\">PARTIAL: {} item(s) could not be read; the findings do not cover them.</p>", d.unreadable.len()); }
        Status::Evaluated => {}
    }
    volumes(o, d);
    for (m, install) in d.installs.iter().enumerate() {
        let id = format!("image-{n}-install-{m}");
        let own: Vec<&Finding> = d
            .findings
            .iter()
            .filter(|f| f.volume == install.volume && f.install == install.system_root)
            .collect();
        let _ = writeln!(o, "<section class=\"install\" id=\"{id}\">");
        let _ = writeln!(o, "<h3>{}</h3>", install_title(install));
        if let Some(c) = d.coverage.get(m) {
            coverage(o, &id, c);
        }
        if let Some(s) = d.stories.get(m).and_then(Option::as_deref) {
            let _ = writeln!(o, "<h4>Story</h4>\n<p class=\"story\">{}</p>", h(s));
        }
        let events = story::events(install, &own);
        let _ = writeln!(
            o,
            "<h4>Timeline</h4>\n<figure class=\"timeline\" id=\"{id}-timeline\">"
        );
        match events.is_empty() {
            true => o.push_str("<p class=\"empty\">No dated fact: no service pack folder, setup key, hotfix key or out-of-step file with a time was found.</p>\n"),
            false => {
                o.push_str(&timeline_svg(&format!("{id}-timeline-svg"), &events));
                o.push_str("\n<figcaption>The story's dated facts, oldest first (UTC).</figcaption>\n");
            }
        }
        if let Some(l) = &install.local_times {
            let _ = writeln!(o, "<p class=\"file-times\">{}</p>", h(&l.note()));
        }
        o.push_str("</figure>\n");
        let sets = d.lockstep.get(m).map(Vec::as_slice).unwrap_or_default();
        let _ = writeln!(o, "<h4>Lockstep sets</h4>");
        if sets.is_empty() {
            o.push_str("<p class=\"empty no-matrix\">No lockstep set of the knowledge applies to this install: none was compared.</p>\n");
        }
        for s in sets {
            matrix(o, &id, s);
        }
        let _ = writeln!(o, "<h4>Findings ({})</h4>", own.len());
        if own.is_empty() {
            let why = match d.coverage.get(m).map(|c| c.status) {
                Some(Status::Evaluated) => "every rule is satisfied",
                Some(Status::Partial) => "every rule is satisfied by what could be read",
                _ => "no rule could judge this install, so this is no all-clear",
            };
            let _ = writeln!(o, "<p class=\"empty\">None: {why}.</p>");
        }
        for f in own {
            finding(o, f);
        }
        o.push_str("</section>\n");
    }
    if !d.unreadable.is_empty() {
        let _ = writeln!(
            o,
            "<section class=\"unreadable\" id=\"image-{n}-unreadable\">\n<h3>Could not read ({}): the findings do not cover these</h3>\n<ul>",
            d.unreadable.len()
        );
        for u in &d.unreadable {
            let _ = writeln!(
                o,
                "<li><span class=\"path\">{}</span>: {}</li>",
                h(&u.path),
                h(&u.reason)
            );
        }
        o.push_str("</ul>\n</section>\n");
    }
    o.push_str("</section>\n");
}

fn volumes(o: &mut String, d: &Diagnosis) {
    o.push_str("<table class=\"volumes\">\n<caption>Volumes</caption>\n<tr><th>#</th><th>where</th><th>offset</th><th>size</th><th>filesystem</th><th>label</th><th>error</th></tr>\n");
    for v in &d.volumes {
        let p = &v.partition;
        let fs = match (v.filesystem, &v.version) {
            (Some(fs), Some(ver)) if ver.starts_with(fs) => h(ver),
            (Some(fs), Some(ver)) => format!("{fs} {}", h(ver)),
            (Some(fs), None) => fs.to_string(),
            (None, _) => "—".into(),
        };
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{fs}</td><td>{}</td><td>{}</td></tr>",
            v.index,
            h(&p.place()),
            p.offset,
            size(p.size),
            h(v.label.as_deref().unwrap_or("")),
            h(v.error.as_deref().unwrap_or(""))
        );
    }
    o.push_str("</table>\n");
}

fn install_title(i: &Install) -> String {
    let os = &i.os;
    format!(
        "<span class=\"path\">{}</span> on volume #{}: {}, version {} build {}, {}",
        h(&i.system_root),
        i.volume,
        h(os.product_name
            .as_deref()
            .or(os.name.as_deref())
            .unwrap_or("Windows")),
        h(os.version.as_deref().unwrap_or("?")),
        h(os.full_build().as_deref().unwrap_or("?")),
        h(os.service_pack
            .as_deref()
            .unwrap_or("no service pack recorded"))
    )
}

fn coverage(o: &mut String, id: &str, c: &Coverage) {
    let _ = writeln!(
        o,
        "<div class=\"coverage {}\" id=\"{id}-coverage\">\n<h4>Coverage {}</h4>\n<dl class=\"facts\">",
        c.status.id(),
        status_badge(c.status)
    );
    let families = match c.families.is_empty() {
        true => "none".to_string(),
        false => h(&c.families.join(", ")),
    };
    let hives: Vec<String> = c
        .hives
        .iter()
        .map(|x| format!("{} {}", h(&x.name), x.state))
        .collect();
    let _ = writeln!(o, "<dt>rule families applied</dt><dd>{families}</dd>");
    let _ = writeln!(o, "<dt>hives</dt><dd>{}</dd>", hives.join(", "));
    let _ = writeln!(
        o,
        "<dt>PE files</dt><dd>{} read, {} could not be read</dd>",
        c.files_read, c.files_unreadable
    );
    let _ = writeln!(o, "<dt>items not read</dt><dd>{}</dd>", c.unreadable);
    o.push_str("</dl>\n");
    if !c.reasons.is_empty() {
        o.push_str("<p>Not evaluated, or only in part, because:</p>\n<ul class=\"reasons\">\n");
        for r in &c.reasons {
            let _ = writeln!(o, "<li>{}</li>", h(r));
        }
        o.push_str("</ul>\n");
    }
    o.push_str("</div>\n");
}

/// One lockstep set: a row per member, a column per version (sorted), the
/// reference column and the odd members marked in words as well as colour.
fn matrix(o: &mut String, id: &str, s: &SetState) {
    // Columns: each compared version once, oldest first; then "no version".
    let mut columns: Vec<(crate::pe::Version, &str)> = s
        .members
        .iter()
        .filter_map(|m| Some((m.version?, m.column.as_deref()?)))
        .collect();
    columns.sort();
    columns.dedup_by(|a, b| a.1 == b.1);
    let unversioned = s.members.iter().any(|m| m.column.is_none());
    let odd = s
        .members
        .iter()
        .filter(|m| matches!(m.standing, Standing::Older | Standing::Newer))
        .count();
    let _ = writeln!(
        o,
        "<table class=\"matrix{}\" id=\"{id}-matrix-{}\">",
        if odd > 0 { " has-odd" } else { "" },
        id_part(&s.id)
    );
    let verdict = match (&s.reference, odd) {
        (None, _) => "not compared: fewer than two members with a version".to_string(),
        (Some(r), 0) => format!("every member at {}", h(r)),
        (Some(r), n) => format!("{n} member(s) out of step with {}", h(r)),
    };
    let _ = writeln!(
        o,
        "<caption>{} <code>{}</code> ({} comparison): {verdict}</caption>",
        h(&s.name),
        h(&s.id),
        s.compare
    );
    o.push_str("<tr><th>file</th>");
    for (_, c) in &columns {
        let reference = s.reference.as_deref() == Some(*c);
        let _ = write!(
            o,
            "<th class=\"version{}\">{}{}</th>",
            if reference { " reference" } else { "" },
            h(c),
            if reference { " (reference)" } else { "" }
        );
    }
    if unversioned {
        o.push_str("<th class=\"version none\">no version</th>");
    }
    o.push_str("</tr>\n");
    for m in &s.members {
        let standing = m.standing.id();
        let _ = write!(
            o,
            "<tr class=\"member {standing}\"><td class=\"file\">{}</td>",
            h(&m.path)
        );
        let mut cell = |here: bool| {
            if !here {
                o.push_str("<td class=\"cell\"></td>");
                return;
            }
            let (class, mark) = match m.standing {
                Standing::InStep => ("in-step", "●"),
                Standing::Older => ("odd older", "● older"),
                Standing::Newer => ("odd newer", "● newer"),
                Standing::NotCompared => ("not-compared", "● not compared"),
            };
            let version = m.version.map(|v| v.to_string()).unwrap_or_default();
            let _ = write!(
                o,
                "<td class=\"cell {class}\">{mark}<br><small>{}</small></td>",
                h(&version)
            );
        };
        for (_, c) in &columns {
            cell(m.column.as_deref() == Some(*c));
        }
        if unversioned {
            cell(m.column.is_none());
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</table>\n");
    if !s.not_found.is_empty() {
        let _ = writeln!(
            o,
            "<p class=\"not-found\">Not found among the files read: {}</p>",
            h(&s.not_found.join(", "))
        );
    }
}

fn finding(o: &mut String, f: &Finding) {
    let sev = f.severity.to_string();
    let paths: Vec<String> = f
        .paths
        .iter()
        .map(|p| format!("<span class=\"path\">{}</span>", h(p)))
        .collect();
    let _ = writeln!(
        o,
        "<article class=\"finding {sev}\" data-rule=\"{}\">\n<h5><span class=\"badge {sev}\">{}</span> <code>{}</code> {}</h5>",
        h(&f.rule),
        sev.to_uppercase(),
        h(&f.rule),
        paths.join(", ")
    );
    let _ = writeln!(o, "<p class=\"message\">{}</p>", h(&f.message));
    o.push_str("<div class=\"evidence\"><strong>Evidence</strong>\n");
    match serde_json::to_value(&f.evidence) {
        Ok(v) => value(o, &v),
        Err(e) => {
            let _ = write!(
                o,
                "<p>cannot render the evidence: {}</p>",
                h(&e.to_string())
            );
        }
    }
    o.push_str("</div>\n");
    let _ = writeln!(
        o,
        "<p class=\"remedy\"><strong>Remedy:</strong> {}</p>",
        h(&f.remedy)
    );
    if !f.references.is_empty() {
        let refs: Vec<String> = f.references.iter().map(|r| h(r)).collect();
        let _ = writeln!(
            o,
            "<p class=\"references\"><strong>References:</strong> {}</p>",
            refs.join(", ")
        );
    }
    o.push_str("</article>\n");
}

/// The evidence as the JSON report has it: objects as definition lists in
/// their key order, lists as lists, `null` as a dash.
fn value(o: &mut String, v: &Value) {
    match v {
        Value::Object(map) => {
            o.push_str("<dl class=\"facts\">");
            for (k, v) in map {
                let _ = write!(o, "<dt>{}</dt><dd>", h(k));
                value(o, v);
                o.push_str("</dd>");
            }
            o.push_str("</dl>\n");
        }
        Value::Array(items) if items.is_empty() => o.push_str("none"),
        Value::Array(items) => {
            o.push_str("<ul>");
            for i in items {
                o.push_str("<li>");
                value(o, i);
                o.push_str("</li>");
            }
            o.push_str("</ul>");
        }
        Value::Null => o.push('—'),
        Value::String(s) => o.push_str(&h(s)),
        other => o.push_str(&h(&other.to_string())),
    }
}
