//! WOF-compressed files (XPRESS4K/8K/16K and LZX, compressed by wimlib on an
//! NTFS volume made by mkntfs and ntfs-3g: testdata/build/wof_images.py)
//! read to their original bytes through the directory walk (`versions`,
//! `diagnose`) and the MFT census (`versions --all`), checked against the
//! SHA-256 the builder recorded and against an independent decoder,
//! libfsntfs (`pyfsntfs`, skipped visibly when absent). A deduplicated
//! file's reparse point is refused with its tag named, never read as zeros.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use verskew::fs::NtfsVolume;
use verskew::image;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/wof")
}

fn hex(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// (path, algorithm, sha256) of every file, and the paths to refuse.
#[allow(clippy::type_complexity)]
fn manifest() -> (Vec<(String, String, String)>, Vec<(String, String)>) {
    let m: toml::Value =
        toml::from_str(&std::fs::read_to_string(dir().join("manifest.toml")).unwrap()).unwrap();
    let s = |v: &toml::Value, k: &str| v[k].as_str().unwrap().to_string();
    let files = m["file"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (s(f, "path"), s(f, "algorithm"), s(f, "sha256")))
        .collect();
    let refused = m["unreadable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (s(f, "path"), s(f, "reason")))
        .collect();
    (files, refused)
}

#[test]
fn wof_files_read_to_their_original_bytes() {
    let (files, refused) = manifest();
    assert!(files.iter().any(|f| f.1 == "lzx") && files.iter().any(|f| f.1 == "xpress16k"));
    let img = image::open(&dir().join("wof.img")).unwrap();
    let disk = img.disk.as_ref();
    let vol = NtfsVolume::open(disk, 0, disk.size()).unwrap();
    for (path, algo, sha) in &files {
        let entry = vol.lookup(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let data = vol
            .read(&entry)
            .unwrap_or_else(|e| panic!("{path} ({algo}): {e}"));
        assert_eq!(&hex(&data), sha, "{path} ({algo})");
        assert_eq!(entry.size, data.len() as u64, "{path}");
    }
    for (path, reason) in &refused {
        let entry = vol.lookup(path).unwrap();
        let err = vol.read(&entry).unwrap_err().to_string();
        assert!(
            err.contains(reason) && err.contains("0x80000013"),
            "{path}: {err}"
        );
    }

    // The census reads the same bytes and lists the refused file as lost.
    let (found, lost) = NtfsVolume::census_read_all(disk, 0, disk.size()).unwrap();
    let by_path: BTreeMap<_, _> = found.iter().map(|(p, _, b)| (p.clone(), b)).collect();
    for (path, algo, sha) in &files {
        let b = by_path
            .get(path)
            .unwrap_or_else(|| panic!("census: {path} missing; lost: {lost:?}"));
        assert_eq!(&hex(b), sha, "census: {path} ({algo})");
    }
    for (_, reason) in &refused {
        assert!(
            lost.iter().any(|l| l.contains(reason)),
            "census: no loss naming {reason}: {lost:?}"
        );
    }
}

/// libfsntfs reads the same image: every XPRESS file, and the LZX files it
/// can decode, have the bytes we read. Where it fails or differs, wimlib's
/// own decompressor (run on every chunk when the image was built) agrees
/// with us; what libfsntfs 20260827 does there is listed below and printed.
///
/// - `one-byte-lzx.bin`: a 1-byte stream (one raw chunk); libfsntfs cannot
///   read its chunk offsets.
/// - `one-chunk-lzx.bin`: libfwnt rejects a pretree wimlib writes as
///   "over-subscribed" (wimlib's decoder and ours, which refuses
///   over-subscribed codes, accept it).
/// - `code-lzx.bin`: libfwnt undoes the E8 translation one byte further than
///   the format (an `E8` at exactly chunk length - 10 is left alone by the
///   encoder and by wimlib; libfwnt changes the 4 bytes after it).
const LIBFSNTFS_KNOWN: [&str; 3] = [
    "\\wof\\one-byte-lzx.bin",
    "\\wof\\one-chunk-lzx.bin",
    "\\wof\\code-lzx.bin",
];

#[test]
fn libfsntfs_decodes_the_same_bytes() {
    let (files, _) = manifest();
    let img = dir().join("wof.img");
    let Some(theirs) = common::libfsntfs_sha256(
        &img,
        &files.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(),
    ) else {
        return;
    };
    let mut agreed = 0;
    for (path, algo, sha) in &files {
        let h = theirs
            .get(path.as_str())
            .unwrap_or_else(|| panic!("libfsntfs printed nothing for {path}"));
        if h == sha {
            agreed += 1;
        } else if LIBFSNTFS_KNOWN.contains(&path.as_str()) {
            eprintln!("libfsntfs differs on {path} ({algo}), as known: {h}");
        } else {
            panic!("libfsntfs differs on {path} ({algo}): {h}, we (and wimlib) read {sha}");
        }
    }
    eprintln!("libfsntfs agrees on {agreed} of {} files", files.len());
    assert!(agreed + LIBFSNTFS_KNOWN.len() >= files.len());
}

fn verskew_json(args: &[&str]) -> (i32, Vec<serde_json::Value>) {
    let out = assert_cmd::Command::cargo_bin("verskew")
        .unwrap()
        .current_dir(dir().parent().unwrap())
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

/// (path, file version) of each row of a `versions` listing.
fn versions(rows: &[serde_json::Value]) -> Vec<(String, String)> {
    let mut v: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r["path"].to_string().to_lowercase(),
                r["version"]["file_version"].to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The factory's IIS 6 images with every inetsrv file WOF-compressed (all
/// four algorithms in turn; `wof_images.py convert`): `diagnose` gives
/// the same findings and exit status, and `versions` and `versions --all`
/// the same versions, as on the uncompressed originals.
#[test]
fn diagnose_and_versions_read_through_wof() {
    for name in ["w2k3-iis6-sp1-on-sp2", "w2k3-iis6-healthy"] {
        let orig = format!("{name}.img");
        let wof = format!("wof/{name}-wof.img");
        let (code, a) = verskew_json(&["diagnose", "--format", "json", &orig]);
        let (wcode, b) = verskew_json(&["diagnose", "--format", "json", &wof]);
        assert_eq!(code, wcode, "{name}: exit status");
        assert_eq!(a[0]["findings"], b[0]["findings"], "{name}: findings");
        assert_eq!(a[0]["unreadable"], b[0]["unreadable"], "{name}: unreadable");
        if name.contains("sp1-on-sp2") {
            let f = b[0]["findings"].to_string();
            assert!(
                f.contains("behind-service-pack") && f.contains("w3core.dll"),
                "{f}"
            );
        }
        for extra in [&["**/*"][..], &["--all"][..]] {
            let (_, a) =
                verskew_json(&[&["versions", "--format", "json", &orig][..], extra].concat());
            let (_, b) =
                verskew_json(&[&["versions", "--format", "json", &wof][..], extra].concat());
            let (a, b) = (versions(&a), versions(&b));
            assert!(
                a.iter().filter(|r| r.0.contains("inetsrv")).count() >= 20,
                "{a:?}"
            );
            assert_eq!(a, b, "{name}: versions {extra:?}");
        }
    }
}
