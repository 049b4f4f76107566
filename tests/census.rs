//! `verskew versions IMAGE --all` (the MFT census) end to end through the
//! binary: every PE file the manifest lists is found, with its version, on
//! the seed image and its layout variants; and the census agrees with a full
//! directory walk (`versions '**\*'`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use assert_cmd::Command;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Manifest {
    image: Vec<Image>,
}

#[derive(Deserialize)]
struct Image {
    name: String,
    file: String,
    #[serde(default)]
    files: Vec<File>,
}

#[derive(Deserialize)]
struct File {
    path: String,
    #[serde(default)]
    file_version: String,
}

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

fn manifest() -> Manifest {
    let text = std::fs::read_to_string(testdata().join("images.toml")).expect("images.toml");
    toml::from_str(&text).expect("manifest parses")
}

/// path (lower-cased) → (row JSON) of `verskew versions <args>`.
fn rows(args: &[&str]) -> BTreeMap<String, Value> {
    let out = Command::cargo_bin("verskew")
        .unwrap()
        .args(args)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "verskew {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("one JSON object per line");
            (v["path"].as_str().unwrap().to_lowercase(), v)
        })
        .collect()
}

#[test]
fn all_lists_every_manifest_pe_file_with_its_version() {
    let m = manifest();
    let names = [
        "nt4-iis4-kb291589",
        "nt4-iis4-kb291589-mbr63",
        "nt4-iis4-kb291589-gpt",
        "nt4-iis4-kb291589-upper",
        "nt4-iis4-kb291589-frag",
        "nt4-iis4-kb291589-compressed",
        // NTFS 1.2 (42-byte record headers, 48-byte standard information).
        "nt4-iis4-kb291589-ntfs12",
        "nt4-iis4-healthy-ntfs12",
        "nt4-iis4-kb291589-ntfs12-frag",
        "nt4-iis4-kb291589-ntfs12-8k",
    ];
    for name in names {
        let img = m
            .image
            .iter()
            .find(|i| i.name == name)
            .unwrap_or_else(|| panic!("{name} in manifest"));
        let path = testdata().join(&img.file);
        let got = rows(&[
            "versions",
            path.to_str().unwrap(),
            "--all",
            "--format",
            "json",
        ]);
        let expected: Vec<&File> = img
            .files
            .iter()
            .filter(|f| !f.file_version.is_empty())
            .collect();
        assert!(!expected.is_empty(), "{name}: manifest lists PE files");
        for f in expected {
            let row = got
                .get(&f.path.to_lowercase())
                .unwrap_or_else(|| panic!("{name}: census misses {}", f.path));
            assert_eq!(
                row["path"].as_str(),
                Some(f.path.as_str()),
                "{name}: path as stored on disk"
            );
            assert_eq!(
                row["version"]["file_version"].as_str(),
                Some(f.file_version.as_str()),
                "{name}: {}",
                f.path
            );
            assert_eq!(row["image"].as_str(), Some(path.to_str().unwrap()));
        }
    }
}

#[test]
fn all_agrees_with_a_full_walk_and_keeps_the_versions_shape() {
    let path = testdata().join("nt4-iis4-kb291589.img");
    let p = path.to_str().unwrap();
    let census = rows(&["versions", p, "--all", "--format", "json"]);
    let walk = rows(&["versions", p, r"**\*", "--format", "json"]);
    assert_eq!(
        census.keys().collect::<Vec<_>>(),
        walk.keys().collect::<Vec<_>>()
    );
    for (k, c) in &census {
        let w = &walk[k];
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(c), keys(w), "same JSON shape as `versions` for {k}");
        assert_eq!(c["version"], w["version"], "{k}");
        assert_eq!(c["size"], w["size"], "{k}");
        assert_eq!(c["modified"], w["modified"], "{k}");
    }
}

#[test]
fn all_and_a_pattern_conflict() {
    let path = testdata().join("nt4-iis4-kb291589.img");
    Command::cargo_bin("verskew")
        .unwrap()
        .args(["versions", path.to_str().unwrap(), r"\WINNT\*", "--all"])
        .assert()
        .code(2);
}

/// A disk that notes the offset of every sector-aligned 2-byte read: the
/// census's `MZ` probes, one per file with data outside its record (the
/// boot sector's 2-byte fields are read at unaligned offsets).
struct Probes<'a> {
    inner: &'a dyn verskew::image::Disk,
    seen: std::sync::Mutex<Vec<u64>>,
}

impl Probes<'_> {
    fn note(&self, offset: u64, len: usize) {
        if len == 2 && offset % 512 == 0 {
            self.seen.lock().unwrap().push(offset);
        }
    }
}

impl verskew::image::Disk for Probes<'_> {
    fn size(&self) -> u64 {
        self.inner.size()
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        self.note(offset, buf.len());
        self.inner.read_exact_at(offset, buf)
    }
    fn read_scattered_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        self.note(offset, buf.len());
        self.inner.read_scattered_at(offset, buf)
    }
    fn prefers_scattered_reads(&self) -> bool {
        true
    }
}

#[test]
fn census_of_an_open_disk_is_the_census_and_probes_files_in_disk_order() {
    use verskew::commands::census::{census, census_disk, Options};
    let mut probed = 0;
    for img in manifest().image {
        let path = testdata().join(&img.file);
        let Ok(opened) = verskew::image::open(&path) else {
            continue;
        };
        let Ok((rows, _)) = census(&path) else {
            continue;
        };
        let disk = Probes {
            inner: opened.disk.as_ref(),
            seen: Default::default(),
        };
        let name = path.display().to_string();
        let c = census_disk(&disk, &name, Options::default()).expect("census_disk");
        let key = |r: &verskew::commands::versions::VersionRow| {
            (
                r.volume,
                r.file.path.clone(),
                format!("{:?}", r.file.version),
            )
        };
        assert_eq!(
            c.rows.iter().map(key).collect::<Vec<_>>(),
            rows.iter().map(key).collect::<Vec<_>>(),
            "{}",
            img.name
        );
        // These images hold one chunk of records per volume: each volume's
        // probes are in disk order, so the offsets only fall back where the
        // next volume's begin.
        let seen = disk.seen.into_inner().unwrap();
        let falls = seen.windows(2).filter(|w| w[1] < w[0]).count();
        assert!(
            falls < c.stats.volumes.max(1),
            "{}: probes out of disk order: {seen:?}",
            img.name
        );
        probed += usize::from(!seen.is_empty());
    }
    assert!(probed > 10, "only {probed} images probed");
}
