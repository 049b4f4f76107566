//! `verskew info`: what an image is made of — container, metadata, partition
//! table, filesystems — and, on request, a check of its stored hashes.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::fs::NtfsVolume;
use crate::image::{self, ContainerInfo, Format, HashCheck};
use crate::report::size;
use crate::volume::{self, Filesystem, VolumeMap};

pub const SCHEMA: &str = "verskew.info/1";

#[derive(Serialize)]
struct Info {
    schema: &'static str,
    image: String,
    format: Format,
    size: u64,
    container: ContainerInfo,
    volumes: Option<VolumeMap>,
    volume_error: Option<String>,
    /// Label and cluster size of each NTFS partition, by partition index.
    ntfs: Vec<NtfsFacts>,
    /// Present with `--verify`.
    hashes: Option<Vec<HashCheck>>,
}

#[derive(Serialize)]
struct NtfsFacts {
    partition: u32,
    label: Option<String>,
    cluster_size: Option<u32>,
    error: Option<String>,
}

/// Runs `info`; returns the exit status (1 when a verified hash mismatches).
pub fn run(path: &Path, json: bool, verify: bool, out: &mut impl Write) -> i32 {
    let img = match image::open(path) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("verskew: {e}");
            return 2;
        }
    };
    let disk = img.disk.as_ref();
    let (volumes, volume_error) = match volume::find_volumes(disk) {
        Ok(v) => (Some(v), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let ntfs = volumes
        .iter()
        .flat_map(|v| v.partitions.iter())
        .filter(|p| p.filesystem == Some(Filesystem::Ntfs))
        .map(|p| match NtfsVolume::open(disk, p.offset, p.size) {
            Ok(v) => NtfsFacts {
                partition: p.index,
                label: v.label(),
                cluster_size: Some(v.cluster_size()),
                error: None,
            },
            Err(e) => NtfsFacts {
                partition: p.index,
                label: None,
                cluster_size: None,
                error: Some(e.to_string()),
            },
        })
        .collect();
    let hashes = if verify {
        let bar = crate::cli::progress(img.size(), "verifying");
        let result = image::verify_stored_hashes(&img, &|done, total| {
            bar.set_length(total);
            bar.set_position(done);
        });
        bar.finish_and_clear();
        match result {
            Ok(h) => Some(h),
            Err(e) => {
                eprintln!("verskew: {e}");
                return 2;
            }
        }
    } else {
        None
    };
    let info = Info {
        schema: SCHEMA,
        image: path.display().to_string(),
        format: img.format,
        size: img.size(),
        container: img.info.clone(),
        volumes,
        volume_error,
        ntfs,
        hashes,
    };
    let text = if json {
        serde_json::to_string(&info).unwrap_or_default()
    } else {
        render(&info)
    };
    let _ = writeln!(out, "{}", text.trim_end());
    let mismatch = info.hashes.iter().flatten().any(|h| !h.matches);
    i32::from(mismatch)
}

fn render(i: &Info) -> String {
    let mut o = format!(
        "{}: {} image, {} ({} bytes)\n",
        i.image,
        i.format,
        size(i.size),
        i.size
    );
    if i.container.files.len() > 1 {
        o.push_str("files:\n");
        for f in &i.container.files {
            o.push_str(&format!("  {}\n", f.display()));
        }
    }
    for (k, v) in &i.container.metadata {
        o.push_str(&format!("{k}: {v}\n"));
    }
    match (&i.volumes, &i.volume_error) {
        (Some(v), _) => {
            o.push_str(&format!(
                "partitions ({:?} table, {}-byte sectors):\n",
                v.scheme, v.sector_size
            ));
            for p in &v.partitions {
                let fs = i.ntfs.iter().find(|n| n.partition == p.index);
                o.push_str(&format!(
                    "  #{} offset {} size {} type {} {}{}{}\n",
                    p.index,
                    p.offset,
                    size(p.size),
                    if p.type_id.is_empty() {
                        "-"
                    } else {
                        &p.type_id
                    },
                    p.filesystem
                        .map_or("unknown".to_string(), |f| format!("{f:?}").to_lowercase()),
                    fs.and_then(|f| f.label.as_ref())
                        .map_or(String::new(), |l| format!(" label \"{l}\"")),
                    fs.and_then(|f| f.cluster_size)
                        .map_or(String::new(), |c| format!(" {c}-byte clusters")),
                ));
            }
            for n in &v.notes {
                o.push_str(&format!("note: {n}\n"));
            }
        }
        (None, Some(e)) => o.push_str(&format!("partitions: {e}\n")),
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
                if c.matches { "match" } else { "MISMATCH" }
            ));
        }
    }
    o
}
