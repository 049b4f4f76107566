//! Evidence is sacred: every command, on every fixture, leaves the image's
//! bytes and modification time unchanged and creates nothing beside it.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use assert_cmd::Command;
use sha2::{Digest, Sha256};

fn snapshot(files: &[PathBuf]) -> BTreeMap<PathBuf, (String, SystemTime, u64)> {
    let mut out = BTreeMap::new();
    for e in files.iter().cloned() {
        let meta = std::fs::metadata(&e).unwrap();
        let hash = hex(Sha256::digest(std::fs::read(&e).unwrap()));
        out.insert(e, (hash, meta.modified().unwrap(), meta.len()));
    }
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            v.extend(walk(&p));
        } else {
            v.push(p);
        }
    }
    v.sort();
    v
}

fn hex(d: impl AsRef<[u8]>) -> String {
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Image files the factory made: every top-level image plus containers and
/// damaged ones.
fn images() -> Vec<PathBuf> {
    let td = common::testdata();
    let mut v: Vec<PathBuf> = walk(&td)
        .into_iter()
        .filter(|p| !p.starts_with(td.join("build")))
        .filter(|p| {
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
            matches!(
                ext,
                "img" | "vhd" | "vhdx" | "vmdk" | "qcow2" | "E01" | "001" | "raw"
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn no_command_modifies_or_adds_files_next_to_images() {
    let td = common::testdata();
    let imgs = images();
    // testdata/ is committed: the seed, its variants, containers, damaged ones.
    assert!(
        imgs.len() >= 20,
        "only {} images in {}",
        imgs.len(),
        td.display()
    );
    let listing = walk(&td);
    let before = snapshot(&imgs);
    for img in &imgs {
        for args in [
            vec!["diagnose"],
            vec!["diagnose", "--format", "json"],
            vec!["versions"],
            vec!["versions", "--format", "json", "**/*"],
        ] {
            let out = Command::cargo_bin("verskew")
                .unwrap()
                .args(&args)
                .arg(img)
                .output()
                .unwrap();
            assert!(
                out.status.code().is_some(),
                "{} {args:?}: killed by a signal",
                img.display()
            );
        }
    }
    let after = snapshot(&imgs);
    assert_eq!(
        listing,
        walk(&td),
        "files were added or removed in testdata/"
    );
    for (path, b) in &before {
        assert_eq!(b, &after[path], "{} changed", path.display());
    }
    eprintln!(
        "{} images unchanged after {} runs",
        imgs.len(),
        imgs.len() * 4
    );
}

#[test]
fn read_only_images_are_analysed() {
    let seed = common::testdata().join("nt4-iis4-kb291589.img");
    assert!(seed.is_file(), "{} is committed", seed.display());
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("seed.img");
    std::fs::copy(&seed, &copy).unwrap();
    let mut perm = std::fs::metadata(&copy).unwrap().permissions();
    perm.set_readonly(true);
    std::fs::set_permissions(&copy, perm.clone()).unwrap();
    let mut dperm = std::fs::metadata(dir.path()).unwrap().permissions();
    dperm.set_readonly(true);
    std::fs::set_permissions(dir.path(), dperm).unwrap();
    Command::cargo_bin("verskew")
        .unwrap()
        .arg("diagnose")
        .arg(&copy)
        .assert()
        .code(1);
    let mut dperm = std::fs::metadata(dir.path()).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    dperm.set_readonly(false);
    std::fs::set_permissions(dir.path(), dperm).unwrap();
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}
