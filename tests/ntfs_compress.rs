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
//! The volume is made at test time with mkntfs and ntfs-3g (a FUSE mount:
//! needs root and /dev/fuse), as the factory makes its images; the test says
//! SKIPPED when those or The Sleuth Kit are missing.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use verskew::fs::NtfsVolume;
use verskew::image;

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// True when the volume can be built and checked here; says SKIPPED otherwise.
fn can_build() -> bool {
    for tool in ["mkntfs", "ntfs-3g", "python3", "fls", "icat", "istat"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            eprintln!("SKIPPED: {tool} not found");
            return false;
        }
    }
    let root = Command::new("id").arg("-u").output().ok();
    if root.map(|o| o.stdout.trim_ascii() != b"0").unwrap_or(true)
        || !Path::new("/dev/fuse").exists()
    {
        eprintln!("SKIPPED: an ntfs-3g mount needs root and /dev/fuse");
        return false;
    }
    true
}

/// Mounts `img` with ntfs-3g's compression option, runs `f`, unmounts and
/// waits for ntfs-3g to finish writing.
fn with_mount(img: &Path, mnt: &Path, f: impl FnOnce(&Path)) {
    let mut proc = Command::new("ntfs-3g")
        .args(["-o", "no_detach,compression"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .arg(img)
        .arg(mnt)
        .spawn()
        .unwrap();
    let t = Instant::now();
    let mounted = || {
        std::fs::read_to_string("/proc/mounts")
            .unwrap()
            .contains(mnt.to_str().unwrap())
    };
    while !mounted() {
        if let Some(status) = proc.try_wait().unwrap() {
            panic!("ntfs-3g exited with {status}");
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "ntfs-3g mount timed out"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    f(mnt);
    run(&mut Command::new("sync"));
    run(Command::new("umount").arg(mnt));
    assert!(proc.wait().unwrap().success());
}

/// Deterministic bytes: an LCG, `random` of every 16 bytes random, the rest
/// a repeated phrase (so compression units both shrink and do not).
fn pattern(len: usize, seed: u32, random: usize) -> Vec<u8> {
    let mut x = seed;
    let phrase = b"IIS4 w3svc.dll infocomm.dll ";
    (0..len)
        .map(|i| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            if i % 16 < random {
                (x >> 16) as u8
            } else {
                phrase[i % phrase.len()]
            }
        })
        .collect()
}

/// A 16 MiB volume (4 KiB clusters) with a compressed folder `\c` holding
/// small resident files and a big file fragmented enough for an attribute
/// list, plus uncompressed files beside it.
fn build(dir: &Path) -> PathBuf {
    let img = dir.join("compress.img");
    std::fs::File::create(&img)
        .unwrap()
        .set_len(16 << 20)
        .unwrap();
    run(Command::new("mkntfs")
        .args(["-q", "-F", "-f", "-c", "4096", "-L", "COMP"])
        .arg(&img));
    let mnt = dir.join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    with_mount(&img, &mnt, |m| {
        let c = m.join("c");
        std::fs::create_dir(&c).unwrap();
        // FILE_ATTRIBUTE_COMPRESSED on the folder: files made in it inherit it.
        // (ntfs-3g's system.ntfs_attrib_be, set with Python's os.setxattr).
        run(Command::new("python3").arg("-c").arg(format!(
            "import os; os.setxattr({:?}, 'system.ntfs_attrib_be', (0x800).to_bytes(4, 'big'))",
            c.to_str().unwrap()
        )));
        std::fs::write(c.join("small.txt"), b"resident and flagged compressed\r\n").unwrap();
        std::fs::write(c.join("tiny.ini"), pattern(300, 7, 4)).unwrap();
        std::fs::write(c.join("one-unit.bin"), pattern(70_000, 3, 2)).unwrap();
        std::fs::write(m.join("plain.txt"), pattern(9000, 5, 16)).unwrap();
        // Interleave the big file's compression units with spacer files so
        // each unit lands in its own fragment.
        let mut big = std::fs::File::create(c.join("big.bin")).unwrap();
        for i in 0..300u32 {
            big.write_all(&pattern(65536, i, if i % 3 == 0 { 16 } else { 3 }))
                .unwrap();
            big.sync_all().unwrap();
            let mut s = std::fs::File::create(m.join(format!("sp{i:03}"))).unwrap();
            s.write_all(&pattern(4096, i + 1000, 16)).unwrap();
            s.sync_all().unwrap();
        }
    });
    img
}

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
