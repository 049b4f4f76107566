//! NTFS compression as Windows (and ntfs-3g) writes it, checked byte for
//! byte against The Sleuth Kit (`icat`), through both the directory walk
//! (`versions`) and the MFT census (`versions --all`):
//!
//! - a small file in a compressed folder: resident `$DATA` carrying the
//!   compressed flag (stored as is);
//! - a big compressed file in many fragments: its runs continue in a second
//!   MFT record through `$ATTRIBUTE_LIST`;
//! - `$Boot`, whose one run starts at LCN 0 (real data, not sparse).
//!
//! The volume is made at test time (`common/ntfs3g.rs`); the test says
//! SKIPPED when the tools or The Sleuth Kit are missing.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::ntfs3g::{build, can_build, run};

use verskew::fs::NtfsVolume;
use verskew::image;

/// (path, inode) of every regular file `fls` lists, system files and
/// alternate streams left out.
fn fls_files(img: &Path) -> BTreeMap<String, String> {
    run(Command::new("fls").args(["-r", "-p", "-F"]).arg(img))
        .lines()
        .filter_map(|l| {
            let (meta, path) = l.split_once(":\t")?;
            let inode = meta.split_whitespace().nth(1)?.trim_end_matches('*');
            if l.contains('*') || path.starts_with('$') || path.contains(':') {
                return None;
            }
            let inode = inode.split('-').next()?.to_string();
            Some((format!("\\{}", path.replace('/', "\\")), inode))
        })
        .collect()
}

fn icat(img: &Path, inode: &str) -> Vec<u8> {
    let out = Command::new("icat").arg(img).arg(inode).output().unwrap();
    assert!(out.status.success(), "icat {inode} failed");
    out.stdout
}

#[test]
fn compressed_folder_reads_as_sleuthkit_reads_it() {
    if !can_build() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let img_path = build(dir.path());
    let files = fls_files(&img_path);

    // The volume holds the cases it is made for (as istat sees them).
    let istat = |path: &str| run(Command::new("istat").arg(&img_path).arg(&files[path]));
    let small = istat("\\c\\small.txt");
    assert!(
        small.contains("Compressed") && small.contains("$DATA (128-") && small.contains("Resident")
    );
    let big = istat("\\c\\big.bin");
    assert!(
        big.contains("$ATTRIBUTE_LIST"),
        "big.bin has no attribute list:\n{big}"
    );
    assert!(big.contains("Compressed"));

    let img = image::open(&img_path).unwrap();
    let disk = img.disk.as_ref();

    // The walk (`versions`).
    let vol = NtfsVolume::open(disk, 0, disk.size()).unwrap();
    for (path, inode) in &files {
        let entry = vol.lookup(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let ours = vol.read(&entry).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(
            ours[..] == icat(&img_path, inode)[..],
            "{path}: bytes differ from icat"
        );
    }
    let boot = vol.lookup("\\$Boot").unwrap();
    assert!(
        vol.read(&boot).unwrap()[..] == icat(&img_path, "7")[..],
        "$Boot differs from icat"
    );

    // The census (`versions --all`).
    let (found, lost) = NtfsVolume::census_read_all(disk, 0, disk.size()).unwrap();
    assert!(lost.is_empty(), "census could not read: {lost:?}");
    let found: BTreeMap<_, _> = found.into_iter().map(|(p, _, b)| (p, b)).collect();
    for (path, inode) in &files {
        let ours = found
            .get(path)
            .unwrap_or_else(|| panic!("census misses {path}"));
        assert!(
            ours[..] == icat(&img_path, inode)[..],
            "census: {path}: bytes differ from icat"
        );
    }
    eprintln!("{} files identical to icat on both paths", files.len());
}
