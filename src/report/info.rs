//! `info` as text and as JSON (`verskew.info/1`).

use super::escape::escape;
use super::{size, wire};
use crate::commands::info::Info;

/// `info --format json`: one object.
pub fn info_json(info: &Info) -> String {
    serde_json::to_string(&wire::Info::from(info)).unwrap_or_default()
}

/// `info` for people; container metadata, labels, names and notes come
/// from the image and are escaped.
pub fn info_text(i: &Info) -> String {
    let format = i.format.to_string();
    let what = match format.as_str() {
        "directory" | "zip" => format!("triage collection ({format})"),
        _ => format!("{format} image"),
    };
    let mut o = format!(
        "{}: {what}, {} ({} bytes)\n",
        escape(&i.image),
        size(i.size),
        i.size
    );
    if let Some(t) = &i.transfer {
        o.push_str(&super::fetched_line(t.bytes_fetched, t.requests, t.retries));
    }
    if i.container.files.len() > 1 {
        o.push_str("files:\n");
        for f in &i.container.files {
            o.push_str(&format!("  {}\n", escape(&f.display().to_string())));
        }
    }
    for (k, v) in &i.container.metadata {
        o.push_str(&format!("{}: {}\n", escape(k), escape(v)));
    }
    match (&i.volumes, &i.volume_error) {
        (Some(v), _) if v.scheme.id() == "collection" => {
            o.push_str("collected drives:\n");
            for p in &v.partitions {
                let fs = i.filesystems.iter().find(|n| n.partition == p.index);
                o.push_str(&format!(
                    "  #{} {} {} {}{}\n",
                    p.index,
                    escape(p.name.as_deref().unwrap_or("?")),
                    p.filesystem.map_or("unknown", |f| f.id()),
                    size(p.size),
                    fs.and_then(|f| f.error.as_ref())
                        .map_or(String::new(), |e| format!(": {}", escape(e))),
                ));
                if let Some(n) = &p.note {
                    o.push_str(&format!("    {}\n", escape(n)));
                }
            }
            for n in &v.notes {
                o.push_str(&format!("note: {}\n", escape(n)));
            }
        }
        (Some(v), _) => {
            o.push_str(&format!(
                "partitions ({} table, {}-byte sectors):\n",
                match v.scheme.id() {
                    "none" => "no".to_string(),
                    id => id.to_uppercase(),
                },
                v.sector_size
            ));
            for p in &v.partitions {
                let fs = i.filesystems.iter().find(|n| n.partition == p.index);
                o.push_str(&format!(
                    "  #{} offset {} size {} type {} {}{}{}{}\n",
                    p.index,
                    p.offset,
                    size(p.size),
                    if p.type_id.is_empty() {
                        "-".into()
                    } else {
                        escape(&p.type_id)
                    },
                    p.filesystem.map_or("unknown", |f| f.id()),
                    fs.and_then(|f| f.version.as_ref())
                        .map_or(String::new(), |v| format!(" version {}", escape(v))),
                    fs.and_then(|f| f.label.as_ref())
                        .map_or(String::new(), |l| format!(" label \"{}\"", escape(l))),
                    fs.and_then(|f| f.cluster_size)
                        .map_or(String::new(), |c| format!(" {c}-byte clusters")),
                ));
            }
            for n in &v.notes {
                o.push_str(&format!("note: {}\n", escape(n)));
            }
        }
        (None, Some(e)) => o.push_str(&format!("partitions: {}\n", escape(e))),
        (None, None) => {}
    }
    if let Some(h) = &i.hashes {
        if h.is_empty() {
            o.push_str("stored hashes: none to verify\n");
        }
        for c in h {
            o.push_str(&format!(
                "{} stored {} computed {}: {}\n",
                c.algorithm,
                c.stored,
                c.computed,
                if c.matches { "match" } else { "FAILED" }
            ));
        }
    }
    o
}
