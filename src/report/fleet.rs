//! `verskew fleet`: the comparison of many images' reports as text, JSON
//! (`verskew.fleet/1`) and one self-contained HTML page. Names come from
//! the reports read, which came from images: escaped in text
//! ([`escape`](super::escape)), by JSON's rules in JSON, and as HTML in the
//! page.

use serde::Serialize;

use super::markup::escape_html as html;
use super::{escape, TOOL_VERSION};
use crate::commands::fleet::{Fleet, Member, RuleSpread};

/// Schema id of `fleet --format json`.
pub const FLEET_SCHEMA: &str = "verskew.fleet/1";

/// Most names a text line lists before "and N more" (JSON lists all).
const NAMES_SHOWN: usize = 20;

/// Text from a report, for a person.
fn esc(s: &str) -> String {
    escape(s).into_owned()
}

fn names(members: &[Member]) -> String {
    let mut shown: Vec<String> = members
        .iter()
        .take(NAMES_SHOWN)
        .map(|m| esc(&m.label()))
        .collect();
    if members.len() > NAMES_SHOWN {
        shown.push(format!("and {} more", members.len() - NAMES_SHOWN));
    }
    shown.join(", ")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn group_title(os: &str, build: Option<&str>, families: &[String]) -> String {
    let mut t = esc(os);
    if let Some(b) = build {
        t.push_str(&format!(" build {}", esc(b)));
    }
    if !families.is_empty() {
        let f: Vec<String> = families.iter().map(|f| esc(f)).collect();
        t.push_str(&format!(" ({})", f.join(", ")));
    }
    t
}

/// The fleet as text, sorted and deterministic.
pub fn fleet_text(f: &Fleet) -> String {
    let mut out = format!(
        "Fleet: {}, {} from {}\n",
        plural(f.images, "image", "images"),
        plural(f.installs, "install", "installs"),
        plural(f.reports.len(), "report", "reports"),
    );
    if !f.failed.is_empty() || !f.skipped.is_empty() {
        out.push_str(&format!(
            "NOT COMPLETE: {} not analysed, {} not read (listed below)\n",
            plural(f.failed.len(), "image", "images"),
            plural(f.skipped.len(), "line", "lines"),
        ));
    }
    for g in &f.groups {
        out.push_str(&format!(
            "\n{}: {}, {} compared\n",
            group_title(&g.os, g.build.as_deref(), &g.families),
            plural(g.members.len(), "install", "installs"),
            plural(g.files_compared, "file", "files"),
        ));
        if g.disagreements.is_empty() {
            out.push_str("  every file is at one version\n");
        }
        for d in &g.disagreements {
            let tied =
                d.versions.len() > 1 && d.versions[0].members.len() == d.versions[1].members.len();
            let parts: Vec<String> = d
                .versions
                .iter()
                .enumerate()
                .map(|(n, v)| {
                    let count = match n {
                        0 => plural(v.members.len(), "image", "images"),
                        _ => v.members.len().to_string(),
                    };
                    match n > 0 || tied {
                        true => format!("{count} at {}: {}", esc(&v.version), names(&v.members)),
                        false => format!("{count} at {}", esc(&v.version)),
                    }
                })
                .collect();
            out.push_str(&format!("  {}: {}", esc(&d.file), parts.join("; ")));
            if !d.unread.is_empty() {
                out.push_str(&format!("; version not read on {}", names(&d.unread)));
            }
            out.push('\n');
        }
    }
    if !f.rules.is_empty() {
        out.push_str("\nRules:\n");
        for r in &f.rules {
            out.push_str(&format!("  {}\n", rule_line(r)));
        }
    }
    if !f.failed.is_empty() {
        out.push_str(&format!("\nNot analysed ({}):\n", f.failed.len()));
        for x in &f.failed {
            out.push_str(&format!(
                "  {} ({}): {} [{}]\n",
                esc(&x.image),
                esc(&x.kind),
                esc(&x.error),
                esc(&x.at)
            ));
        }
    }
    if !f.skipped.is_empty() {
        out.push_str(&format!("\nNot read ({}):\n", f.skipped.len()));
        for s in &f.skipped {
            let at = match s.line {
                0 => esc(&s.report),
                n => format!("{}:{n}", esc(&s.report)),
            };
            out.push_str(&format!("  {at}: {}\n", esc(&s.reason)));
        }
    }
    out
}

fn rule_line(r: &RuleSpread) -> String {
    let sev: Vec<String> = r.severities.iter().map(|s| esc(s)).collect();
    format!(
        "{} ({}): {}: {}",
        esc(&r.rule),
        sev.join(", "),
        plural(r.members.len(), "image", "images"),
        names(&r.members)
    )
}

// The JSON document, keys in the order written (README: "fleet").

#[derive(Serialize)]
struct Doc<'a> {
    schema: &'static str,
    tool_version: &'static str,
    reports: &'a [String],
    images: usize,
    installs: usize,
    groups: Vec<GroupOut<'a>>,
    rules: Vec<RuleOut<'a>>,
    failed: Vec<FailedOut<'a>>,
    skipped: Vec<SkippedOut<'a>>,
}

#[derive(Serialize)]
struct MemberOut<'a> {
    image: &'a str,
    volume: u64,
    install: &'a str,
}

fn members(m: &[Member]) -> Vec<MemberOut<'_>> {
    m.iter()
        .map(|m| MemberOut {
            image: &m.image,
            volume: m.volume,
            install: &m.install,
        })
        .collect()
}

#[derive(Serialize)]
struct GroupOut<'a> {
    os: &'a str,
    build: Option<&'a str>,
    families: &'a [String],
    installs: usize,
    members: Vec<MemberOut<'a>>,
    files_compared: usize,
    disagreements: Vec<SpreadOut<'a>>,
}

#[derive(Serialize)]
struct SpreadOut<'a> {
    file: &'a str,
    path: &'a str,
    versions: Vec<ShareOut<'a>>,
    unread: Vec<MemberOut<'a>>,
}

#[derive(Serialize)]
struct ShareOut<'a> {
    version: &'a str,
    count: usize,
    members: Vec<MemberOut<'a>>,
}

#[derive(Serialize)]
struct RuleOut<'a> {
    rule: &'a str,
    severities: &'a [String],
    count: usize,
    members: Vec<MemberOut<'a>>,
}

#[derive(Serialize)]
struct FailedOut<'a> {
    image: &'a str,
    kind: &'a str,
    error: &'a str,
    at: &'a str,
}

#[derive(Serialize)]
struct SkippedOut<'a> {
    report: &'a str,
    line: usize,
    reason: &'a str,
}

/// The fleet as one JSON object (one line).
pub fn fleet_json(f: &Fleet) -> String {
    let doc = Doc {
        schema: FLEET_SCHEMA,
        tool_version: TOOL_VERSION,
        reports: &f.reports,
        images: f.images,
        installs: f.installs,
        groups: f
            .groups
            .iter()
            .map(|g| GroupOut {
                os: &g.os,
                build: g.build.as_deref(),
                families: &g.families,
                installs: g.members.len(),
                members: members(&g.members),
                files_compared: g.files_compared,
                disagreements: g
                    .disagreements
                    .iter()
                    .map(|d| SpreadOut {
                        file: &d.file,
                        path: &d.path,
                        versions: d
                            .versions
                            .iter()
                            .map(|v| ShareOut {
                                version: &v.version,
                                count: v.members.len(),
                                members: members(&v.members),
                            })
                            .collect(),
                        unread: members(&d.unread),
                    })
                    .collect(),
            })
            .collect(),
        rules: f
            .rules
            .iter()
            .map(|r| RuleOut {
                rule: &r.rule,
                severities: &r.severities,
                count: r.members.len(),
                members: members(&r.members),
            })
            .collect(),
        failed: f
            .failed
            .iter()
            .map(|x| FailedOut {
                image: &x.image,
                kind: &x.kind,
                error: &x.error,
                at: &x.at,
            })
            .collect(),
        skipped: f
            .skipped
            .iter()
            .map(|s| SkippedOut {
                report: &s.report,
                line: s.line,
                reason: &s.reason,
            })
            .collect(),
    };
    serde_json::to_string(&doc).unwrap_or_default()
}

fn html_names(m: &[Member]) -> String {
    let n: Vec<String> = m.iter().map(|m| html(&m.label())).collect();
    n.join(", ")
}

const STYLE: &str = "body{font-family:sans-serif;margin:1.5em;color:#111}\
table{border-collapse:collapse;margin:0.5em 0 1.5em}\
th,td{border:1px solid #999;padding:0.25em 0.6em;text-align:left;vertical-align:top}\
th{background:#eee}td.odd{background:#fde2e2}.note{color:#8a4b00}";

/// The fleet as one self-contained HTML page: no script, no network, no
/// external asset.
pub fn fleet_html(f: &Fleet) -> String {
    let mut o = String::new();
    o.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    o.push_str("<title>verskew fleet</title>\n");
    o.push_str(&format!("<style>{STYLE}</style>\n</head>\n<body>\n"));
    o.push_str(&format!(
        "<h1>verskew fleet</h1>\n<p>{}, {} from {} (verskew {TOOL_VERSION}).</p>\n",
        plural(f.images, "image", "images"),
        plural(f.installs, "install", "installs"),
        plural(f.reports.len(), "report", "reports"),
    ));
    if !f.failed.is_empty() || !f.skipped.is_empty() {
        o.push_str(&format!(
            "<p class=\"note\">Not complete: {} not analysed, {} not read (listed below).</p>\n",
            plural(f.failed.len(), "image", "images"),
            plural(f.skipped.len(), "line", "lines"),
        ));
    }
    for g in &f.groups {
        let mut title = html(&g.os);
        if let Some(b) = &g.build {
            title.push_str(&format!(" build {}", html(b)));
        }
        o.push_str(&format!(
            "<h2>{title}</h2>\n<p>{}, {} compared{}.</p>\n",
            plural(g.members.len(), "install", "installs"),
            plural(g.files_compared, "file", "files"),
            match g.families.is_empty() {
                true => String::new(),
                false => format!("; families {}", html(&g.families.join(", "))),
            }
        ));
        if g.disagreements.is_empty() {
            o.push_str("<p>Every file is at one version.</p>\n");
            continue;
        }
        o.push_str("<table class=\"versions\">\n<tr><th>file</th><th>version</th><th>installs</th><th>images</th></tr>\n");
        for d in &g.disagreements {
            let rows = d.versions.len() + usize::from(!d.unread.is_empty());
            for (n, v) in d.versions.iter().enumerate() {
                o.push_str("<tr>");
                if n == 0 {
                    o.push_str(&format!(
                        "<td rowspan=\"{rows}\" title=\"{}\">{}</td>",
                        html(&d.path),
                        html(&d.file)
                    ));
                }
                let class = if n == 0 { "" } else { " class=\"odd\"" };
                o.push_str(&format!(
                    "<td{class}>{}</td><td>{}</td><td>{}</td></tr>\n",
                    html(&v.version),
                    v.members.len(),
                    html_names(&v.members)
                ));
            }
            if !d.unread.is_empty() {
                o.push_str(&format!(
                    "<tr><td class=\"odd\">not read</td><td>{}</td><td>{}</td></tr>\n",
                    d.unread.len(),
                    html_names(&d.unread)
                ));
            }
        }
        o.push_str("</table>\n");
    }
    if !f.rules.is_empty() {
        o.push_str("<h2>Rules</h2>\n<table class=\"rules\">\n<tr><th>rule</th><th>severity</th><th>images</th><th>where</th></tr>\n");
        for r in &f.rules {
            o.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                html(&r.rule),
                html(&r.severities.join(", ")),
                r.members.len(),
                html_names(&r.members)
            ));
        }
        o.push_str("</table>\n");
    }
    if !f.failed.is_empty() {
        o.push_str("<h2>Not analysed</h2>\n<table class=\"failed\">\n<tr><th>image</th><th>kind</th><th>error</th><th>report line</th></tr>\n");
        for x in &f.failed {
            o.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                html(&x.image),
                html(&x.kind),
                html(&x.error),
                html(&x.at)
            ));
        }
        o.push_str("</table>\n");
    }
    if !f.skipped.is_empty() {
        o.push_str("<h2>Not read</h2>\n<table class=\"skipped\">\n<tr><th>report</th><th>line</th><th>why</th></tr>\n");
        for s in &f.skipped {
            o.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                html(&s.report),
                s.line,
                html(&s.reason)
            ));
        }
        o.push_str("</table>\n");
    }
    o.push_str("</body>\n</html>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::fleet::{FileSpread, Group, VersionShare};

    fn m(image: &str) -> Member {
        Member {
            image: image.into(),
            volume: 0,
            install: "\\WINNT".into(),
            shared: false,
        }
    }

    fn sample() -> Fleet {
        Fleet {
            reports: vec!["a.jsonl".into()],
            images: 3,
            installs: 3,
            groups: vec![Group {
                os: "Windows NT 4.0".into(),
                build: Some("1381".into()),
                families: vec!["iis4".into()],
                members: vec![m("img01"), m("img02"), m("<img07>")],
                files_compared: 9,
                disagreements: vec![FileSpread {
                    file: "w3svc.dll".into(),
                    path: "system32\\inetsrv\\w3svc.dll".into(),
                    versions: vec![
                        VersionShare {
                            version: "4.2.739.1".into(),
                            members: vec![m("img01"), m("img02")],
                        },
                        VersionShare {
                            version: "4.2.622.1".into(),
                            members: vec![m("<img07>")],
                        },
                    ],
                    unread: vec![],
                }],
            }],
            rules: vec![RuleSpread {
                rule: "lockstep-mismatch".into(),
                severities: vec!["error".into()],
                members: vec![m("<img07>")],
            }],
            ..Fleet::default()
        }
    }

    #[test]
    fn text_names_the_odd_ones_out() {
        let t = fleet_text(&sample());
        assert!(
            t.contains("  w3svc.dll: 2 images at 4.2.739.1; 1 at 4.2.622.1: <img07>\n"),
            "{t}"
        );
        assert!(
            t.contains("Windows NT 4.0 build 1381 (iis4): 3 installs, 9 files compared"),
            "{t}"
        );
        assert!(
            t.contains("  lockstep-mismatch (error): 1 image: <img07>\n"),
            "{t}"
        );
    }

    #[test]
    fn html_escapes_and_stands_alone() {
        let h = fleet_html(&sample());
        assert!(h.contains("&lt;img07&gt;"));
        assert!(!h.contains("<img07>"));
        assert!(!h.contains("<script") && !h.contains("http"));
        assert!(h.starts_with("<!DOCTYPE html>") && h.ends_with("</html>\n"));
    }

    #[test]
    fn json_carries_schema_and_counts() {
        let v: serde_json::Value = serde_json::from_str(&fleet_json(&sample())).unwrap();
        assert_eq!(v["schema"], FLEET_SCHEMA);
        assert_eq!(
            v["groups"][0]["disagreements"][0]["versions"][1]["count"],
            1
        );
        assert_eq!(v["rules"][0]["members"][0]["image"], "<img07>");
    }
}
