//! The NTFS layer against volumes nobody here wrote, checked file by file
//! against The Sleuth Kit (`fls`, `icat`).

mod common;

use std::path::Path;
use std::process::Command;

use verskew::fs::NtfsVolume;
use verskew::image;

/// (path, inode) of every regular file `fls` lists, system files and
/// alternate streams left out.
fn fls_files(image: &Path) -> Vec<(String, String)> {
    let out = Command::new("fls")
        .args(["-r", "-p", "-F"])
        .arg(image)
        .output()
        .unwrap();
    assert!(out.status.success(), "fls failed on {}", image.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (meta, path) = l.split_once(":\t")?;
            let inode = meta.split_whitespace().nth(1)?.trim_end_matches('*');
            if l.contains('*') || l.starts_with('-') || path.starts_with('$') || path.contains(':')
            {
                return None;
            }
            Some((format!("\\{}", path.replace('/', "\\")), inode.to_string()))
        })
        .collect()
}

fn icat(image: &Path, inode: &str) -> Vec<u8> {
    let out = Command::new("icat").arg(image).arg(inode).output().unwrap();
    assert!(out.status.success());
    out.stdout
}

fn check_against_tsk(image_path: &Path) {
    let img = image::open(image_path).unwrap();
    let vol = NtfsVolume::open(img.disk.as_ref(), 0, img.disk.size()).unwrap();
    assert!(!vol.upcase_missing());
    let files = fls_files(image_path);
    assert!(!files.is_empty());
    for (path, inode) in &files {
        let entry = vol.lookup(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(&entry.path, path, "stored name differs");
        // Case-insensitive lookup finds the same record.
        assert_eq!(vol.lookup(&path.to_uppercase()).unwrap().id, entry.id);
        let ours = vol.read(&entry).unwrap();
        assert_eq!(
            &ours[..],
            &icat(image_path, inode)[..],
            "{path}: bytes differ from icat"
        );
    }
    // The census (`versions --all`) reads the same bytes.
    let (found, lost) = NtfsVolume::census_read_all(img.disk.as_ref(), 0, img.disk.size()).unwrap();
    let found: std::collections::HashMap<_, _> =
        found.into_iter().map(|(p, _, b)| (p, b)).collect();
    for (path, inode) in &files {
        let ours = found
            .get(path)
            .unwrap_or_else(|| panic!("census misses {path}; could not read {lost:?}"));
        assert!(
            ours[..] == icat(image_path, inode)[..],
            "census: {path}: bytes differ from icat"
        );
    }
    // $Boot's one run starts at LCN 0: real data, not a sparse run.
    let boot = vol.lookup("\\$Boot").unwrap();
    let ours = vol.read(&boot).unwrap();
    assert!(ours.iter().any(|&b| b != 0), "$Boot reads as zeros");
    assert!(
        ours[..] == icat(image_path, "7")[..],
        "$Boot differs from icat"
    );
    eprintln!(
        "{}: {} files identical to icat",
        image_path.display(),
        files.len()
    );
}

#[test]
fn testfs1_matches_sleuthkit() {
    let (Some(corpus), true) = (common::corpus(), common::have_tool("fls")) else {
        return;
    };
    check_against_tsk(&corpus.join("ntfs/ColinFinck-ntfs__testfs1.img"));
}

#[test]
fn ntfs3_volume_matches_sleuthkit() {
    let (Some(corpus), true) = (common::corpus(), common::have_tool("fls")) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("ntfs3.raw");
    std::fs::write(
        &raw,
        common::unpack(&corpus.join("ntfs/dfir_ntfs__ntfs3.raw.gz")),
    )
    .unwrap();
    check_against_tsk(&raw);
}

#[test]
fn directory_listing_is_sorted_and_complete() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let img = image::open(&corpus.join("ntfs/ColinFinck-ntfs__testfs1.img")).unwrap();
    let vol = NtfsVolume::open(img.disk.as_ref(), 0, img.disk.size()).unwrap();
    let dir = vol.lookup("\\many_subdirs").unwrap();
    let list = vol.list(&dir).unwrap();
    // create-testfs1.sh makes 512 subdirectories, enough for index blocks.
    assert_eq!(list.len(), 512);
    assert!(list.iter().all(|e| e.is_dir));
    // Records the ntfs crate cannot read (one straddles two $MFT runs on
    // this 512-byte-cluster volume) stay listed, marked with their error.
    for e in list.iter().filter(|e| e.error.is_some()) {
        eprintln!(
            "unreadable: {} {}",
            e.path,
            e.error.as_deref().unwrap_or("")
        );
        assert!(vol.read(e).is_err());
    }
    let names: Vec<_> = list.iter().map(|e| e.name().to_string()).collect();
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| n.to_uppercase());
    assert_eq!(names, sorted);
}

#[test]
fn windows_formatted_volume_matches_sleuthkit() {
    // Formatted by Windows (BOOTMGR boot code), in an EWF container.
    let (Some(corpus), true) = (common::corpus(), common::have_tool("fls")) else {
        return;
    };
    check_against_tsk(&corpus.join("ntfs/velociraptor__partition_image.E01"));
}
