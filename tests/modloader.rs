//! Server 2019 with System32\inetsrv and SysWOW64\inetsrv WOF-compressed
//! (testdata/build/modloader_images.py: wimlib compresses, ntfs-3g writes
//! the named stream and the reparse point; XPRESS4K/8K/16K and LZX in turn,
//! chunks that do not shrink stored raw). Every compressed file reads to
//! the bytes the builder recorded, through the directory walk (`versions`,
//! `diagnose`) and the MFT census (`versions --all`), and to the bytes
//! libfsntfs (`pyfsntfs`) reads, skipped visibly when it is absent;
//! `diagnose` gives the findings of the uncompressed twin in images.toml.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use verskew::fs::NtfsVolume;
use verskew::image;

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

fn hex(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

struct Wof {
    image: String,
    twin: String,
    path: String,
    algorithm: String,
    raw_chunks: u64,
    sha256: String,
    version: String,
}

fn manifest() -> Vec<Wof> {
    let m: toml::Value = toml::from_str(
        &std::fs::read_to_string(testdata().join("wof/w2k19-manifest.toml")).unwrap(),
    )
    .unwrap();
    let s = |v: &toml::Value, k: &str| v[k].as_str().unwrap().to_string();
    m["file"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| Wof {
            image: s(f, "image"),
            twin: s(f, "twin"),
            path: s(f, "path"),
            algorithm: s(f, "algorithm"),
            raw_chunks: f["raw_chunks"].as_integer().unwrap() as u64,
            sha256: s(f, "sha256"),
            version: s(f, "version"),
        })
        .collect()
}

fn images(files: &[Wof]) -> BTreeSet<(String, String)> {
    files
        .iter()
        .map(|f| (f.image.clone(), f.twin.clone()))
        .collect()
}

#[test]
fn every_compressed_file_reads_to_its_original_bytes() {
    let files = manifest();
    let algos: BTreeSet<&str> = files.iter().map(|f| f.algorithm.as_str()).collect();
    assert_eq!(
        algos,
        BTreeSet::from(["lzx", "xpress16k", "xpress4k", "xpress8k"])
    );
    assert!(files.iter().any(|f| f.raw_chunks > 0), "no stored chunk");
    for (img, _) in images(&files) {
        let opened = image::open(&testdata().join(&img)).unwrap();
        let disk = opened.disk.as_ref();
        let vol = NtfsVolume::open(disk, 0, disk.size()).unwrap();
        let (found, lost) = NtfsVolume::census_read_all(disk, 0, disk.size()).unwrap();
        let census: BTreeMap<String, &Vec<u8>> = found
            .iter()
            .map(|(p, _, b)| (p.to_ascii_lowercase(), b))
            .collect();
        let mut n = 0;
        for f in files.iter().filter(|f| f.image == img) {
            let e = vol
                .lookup(&f.path)
                .unwrap_or_else(|e| panic!("{img} {}: {e}", f.path));
            let data = vol
                .read(&e)
                .unwrap_or_else(|e| panic!("{img} {} ({}): {e}", f.path, f.algorithm));
            assert_eq!(hex(&data), f.sha256, "{img} {} ({})", f.path, f.algorithm);
            // The census lists PE files only.
            if let Some(b) = census.get(&f.path.to_ascii_lowercase()) {
                assert_eq!(hex(b), f.sha256, "census: {img} {}", f.path);
                n += 1;
            }
        }
        assert!(
            n >= 30,
            "{img}: census read {n} compressed files; lost: {lost:?}"
        );
    }
}

#[test]
fn libfsntfs_reads_the_same_bytes() {
    let files = manifest();
    let mut agreed = 0;
    for (img, _) in images(&files) {
        let mine: Vec<&Wof> = files.iter().filter(|f| f.image == img).collect();
        let Some(theirs) = common::libfsntfs_sha256(
            &testdata().join(&img),
            &mine.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(),
        ) else {
            return;
        };
        for f in mine {
            let h = theirs
                .get(f.path.as_str())
                .unwrap_or_else(|| panic!("libfsntfs printed nothing for {img} {}", f.path));
            assert_eq!(
                *h, f.sha256,
                "libfsntfs: {img} {} ({})",
                f.path, f.algorithm
            );
            agreed += 1;
        }
    }
    eprintln!("libfsntfs agrees on all {agreed} compressed files");
    assert_eq!(agreed, files.len());
}

fn verskew_json(args: &[&str]) -> (i32, Vec<serde_json::Value>) {
    let out = assert_cmd::Command::cargo_bin("verskew")
        .unwrap()
        .current_dir(testdata())
        .args(args)
        .output()
        .unwrap();
    let rows = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (out.status.code().unwrap(), rows)
}

/// `versions` (the directory walk) and `versions --all` (the census) list
/// every compressed PE file with the version of its original bytes.
#[test]
fn versions_list_every_compressed_file_with_its_version() {
    let files = manifest();
    for (img, _) in images(&files) {
        for extra in [&["**/*"][..], &["--all"][..]] {
            let (_, rows) =
                verskew_json(&[&["versions", "--format", "json", &img][..], extra].concat());
            let got: BTreeMap<String, String> = rows
                .iter()
                .map(|r| {
                    (
                        r["path"].as_str().unwrap_or("").to_ascii_lowercase(),
                        r["version"]["file_version"]
                            .as_str()
                            .unwrap_or("")
                            .to_string(),
                    )
                })
                .collect();
            let mut n = 0;
            for f in files
                .iter()
                .filter(|f| f.image == img && !f.version.is_empty())
            {
                let v = got
                    .get(&f.path.to_ascii_lowercase())
                    .unwrap_or_else(|| panic!("{img} {extra:?}: {} not listed", f.path));
                assert_eq!(v, &f.version, "{img} {extra:?}: {}", f.path);
                n += 1;
            }
            assert!(n >= 30, "{img} {extra:?}: {n} files");
        }
    }
}

/// (rule, severity, paths) of a report's findings.
fn triples(report: &serde_json::Value) -> BTreeSet<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {} {}", f["rule"], f["severity"], f["paths"]))
        .collect()
}

#[test]
fn diagnose_gives_the_uncompressed_twins_findings() {
    let files = manifest();
    for (img, twin) in images(&files) {
        let (code, a) = verskew_json(&["diagnose", "--format", "json", &format!("{twin}.img")]);
        let (wcode, b) = verskew_json(&["diagnose", "--format", "json", &img]);
        assert_eq!(code, wcode, "{img}: exit status");
        assert_eq!(triples(&a[0]), triples(&b[0]), "{img}: findings");
        assert_eq!(b[0]["unreadable"], a[0]["unreadable"], "{img}: unreadable");
        assert_eq!(b[0]["status"], "evaluated", "{img}");
        if twin.ends_with("other-build") {
            let f = b[0]["findings"].to_string();
            assert!(
                f.contains("lockstep-mismatch") && f.contains("iiscore.dll"),
                "{f}"
            );
        } else {
            assert!(triples(&b[0]).is_empty(), "{img}: {:?}", triples(&b[0]));
        }
    }
}
