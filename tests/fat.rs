//! The FAT layer against volumes made by independent tools: `mkfs.fat`
//! (dosfstools) formats FAT12, FAT16 and FAT32, `mtools` writes long names,
//! 8.3 names, nested folders and a fragmented file, and every file we read is
//! compared byte for byte with what `mcopy` reads. Then the seed's `\WINNT`
//! tree on a FAT16 volume must give the seed's findings.

mod common;

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use verskew::fs::{self, Entry, FatType, FatVolume, Volume};
use verskew::image;
use verskew::volume::{Filesystem, Partition, Scheme};

fn have_fat_tools() -> bool {
    let ok = ["mkfs.fat", "mcopy", "mmd", "mdel", "mdir"]
        .iter()
        .all(|t| Command::new(t).arg("--version").output().is_ok());
    if !ok {
        eprintln!("SKIPPED: dosfstools/mtools not found (apt-get install dosfstools mtools)");
    }
    ok
}

fn run(cmd: &mut Command) -> Vec<u8> {
    common::run_mtools(cmd)
}

/// Formats `img` as FAT`bits` of `kib` KiB with `spc` sectors a cluster.
fn mkfs(img: &Path, bits: u8, kib: u32, spc: u8) {
    let _ = std::fs::remove_file(img);
    run(Command::new("mkfs.fat")
        .args([
            "-F",
            &bits.to_string(),
            "-s",
            &spc.to_string(),
            "-n",
            "FATTEST",
            "-C",
        ])
        .arg(img)
        .arg(kib.to_string()));
}

fn mtools(tool: &str, img: &Path, args: &[&str]) -> Vec<u8> {
    run(Command::new(tool).arg("-i").arg(img).args(args))
}

/// Deterministic bytes.
fn data(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// Fills a volume: long and 8.3 names, nested folders, an empty file, a
/// file of exactly one cluster, and a fragmented file (a hole left by a
/// deleted file, then a file larger than the hole).
fn populate(img: &Path, tmp: &Path, cluster: usize, bits: u8) {
    let put = |name: &str, bytes: &[u8], to: &str| {
        let src = tmp.join(name);
        std::fs::write(&src, bytes).unwrap();
        mtools("mcopy", img, &[src.to_str().unwrap(), to]);
    };
    mtools(
        "mmd",
        img,
        &["::/Program Files", "::/Program Files/Deep Folder", "::/DOS"],
    );
    mtools("mmd", img, &["::/Program Files/Deep Folder/Deeper Still"]);
    put("a", &data(3 * cluster, 1), "::/first.bin");
    put("b", &data(2 * cluster + 7, 2), "::/HOLE.BIN");
    put("c", &data(cluster, 3), "::/DOS/ONECLUS.DAT");
    mtools("mdel", img, &["::/HOLE.BIN"]);
    if bits == 32 {
        forget_next_free(img);
    }
    put(
        "d",
        &data(5 * cluster + 123, 4),
        "::/Fragmented Long Name.dat",
    );
    put("e", b"", "::/EMPTY.TXT");
    put("f", b"hello\r\n", "::/readme.txt");
    put(
        "g",
        &data(10_000, 5),
        "::/Program Files/Deep Folder/Deeper Still/w3svc.dll",
    );
    put(
        "h",
        &data(777, 6),
        "::/Program Files/Deep Folder/A name with.many.dots.txt",
    );
    put("i", &data(1, 7), "::/Program Files/Ünïcödé ñame.txt");
    for i in 0..40 {
        put(
            "j",
            &data(i * 11, 8 + i as u32),
            &format!("::/DOS/many file number {i}.txt"),
        );
    }
}

/// FAT32 keeps a next-free hint in its FSInfo sector, so mtools would
/// allocate past the hole; "unknown" makes it search from the start.
fn forget_next_free(img: &Path) {
    let mut b = std::fs::read(img).unwrap();
    let fsinfo = usize::from(u16::from_le_bytes([b[48], b[49]])) * 512;
    assert_eq!(&b[fsinfo..fsinfo + 4], b"RRaA");
    b[fsinfo + 488..fsinfo + 496].fill(0xFF);
    std::fs::write(img, b).unwrap();
}

/// Every path `mdir` lists, in our form (`\Program Files`), folders marked.
fn mdir_paths(img: &Path) -> BTreeSet<(String, bool)> {
    String::from_utf8(mtools("mdir", img, &["-/", "-b", "::/"]))
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("::"))
        .map(|p| {
            let dir = p.ends_with('/');
            (p.trim_end_matches('/').replace('/', "\\"), dir)
        })
        .collect()
}

fn walk(vol: &dyn Volume) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut stack = vec![vol.root().unwrap()];
    while let Some(dir) = stack.pop() {
        let list = vol.list(&dir).unwrap();
        let names: Vec<String> = list.iter().map(|e| e.name().to_uppercase()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted, "list of {} is sorted", dir.path);
        for e in list {
            assert!(e.error.is_none(), "{}: {:?}", e.path, e.error);
            if e.is_dir {
                stack.push(e.clone());
            }
            out.push(e);
        }
    }
    out
}

fn partition(size: u64) -> Partition {
    Partition {
        index: 1,
        scheme: Scheme::None,
        offset: 0,
        size,
        type_id: String::new(),
        name: None,
        filesystem: Some(Filesystem::Fat),
        note: None,
        declared: None,
        active: false,
    }
}

fn check_volume(bits: u8, kib: u32, spc: u8, want: FatType) {
    let tmp = tempfile::tempdir().unwrap();
    let img = tmp.path().join(format!("fat{bits}.img"));
    mkfs(&img, bits, kib, spc);
    let cluster = 512 * usize::from(spc);
    populate(&img, tmp.path(), cluster, bits);

    let opened = image::open(&img).unwrap();
    let disk = opened.disk.as_ref();
    let fat = FatVolume::open(disk, 0, disk.size()).unwrap();
    assert_eq!(fat.fat_type(), want);
    let vol = fs::open(disk, &partition(disk.size())).unwrap();
    assert_eq!(vol.kind(), Filesystem::Fat);
    assert_eq!(vol.cluster_size() as usize, cluster);
    assert_eq!(vol.label().as_deref(), Some("FATTEST"));
    assert!(vol.degraded().is_empty());

    let entries = walk(vol.as_ref());
    let ours: BTreeSet<(String, bool)> =
        entries.iter().map(|e| (e.path.clone(), e.is_dir)).collect();
    assert_eq!(ours, mdir_paths(&img), "FAT{bits}: the same tree as mdir");
    let ids: BTreeSet<_> = entries.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), entries.len(), "ids are unique");

    for e in entries.iter().filter(|e| !e.is_dir) {
        let want = mtools(
            "mcopy",
            &img,
            &["-n", &format!("::{}", e.path.replace('\\', "/")), "-"],
        );
        let got = vol.read(e).unwrap();
        assert_eq!(got.len() as u64, e.size);
        assert!(
            got[..] == want[..],
            "FAT{bits}: {} differs from mcopy",
            e.path
        );
        assert!(e.modified.is_some(), "{}", e.path);
    }
    // The fragmented file really is: no single run to borrow.
    let frag = vol.lookup(r"\fragmented long name.DAT").unwrap();
    assert_eq!(frag.path, r"\Fragmented Long Name.dat");
    assert!(
        matches!(vol.read(&frag).unwrap(), Cow::Owned(_)),
        "fragmented"
    );
    // A contiguous one is borrowed from the mapped image.
    let first = vol.lookup(r"\FIRST.BIN").unwrap();
    assert!(matches!(vol.read(&first).unwrap(), Cow::Borrowed(_)));

    // Odd case, 8.3 aliases, both separators.
    let deep = vol
        .lookup(r"C:\PROGRAM FILES\deep folder/DEEPER STILL\W3SVC.DLL")
        .unwrap();
    assert_eq!(
        deep.path,
        r"\Program Files\Deep Folder\Deeper Still\w3svc.dll"
    );
    let alias = vol
        .lookup(r"\progra~1\DEEPFO~1\deeper~1\w3svc.dll")
        .unwrap();
    assert_eq!(alias.id, deep.id);
    assert_eq!(vol.lookup(r"\readme.TXT").unwrap().size, 7);
    assert_eq!(
        vol.lookup(r"\program files\ÜNÏCÖDÉ ÑAME.TXT")
            .unwrap()
            .name(),
        "Ünïcödé ñame.txt"
    );
    assert!(vol.names_equal("ünïcödé", "ÜNÏCÖDÉ"));
    assert!(matches!(
        vol.lookup(r"\HOLE.BIN"),
        Err(fs::FsError::NotFound { .. })
    ));
    assert!(matches!(
        vol.lookup(r"\readme.txt\x"),
        Err(fs::FsError::NotFound { .. })
    ));
    assert_eq!(vol.lookup(r"\EMPTY.TXT").unwrap().size, 0);
    assert!(vol
        .read(&vol.lookup(r"\EMPTY.TXT").unwrap())
        .unwrap()
        .is_empty());
}

#[test]
fn fat12_reads_as_mtools_does() {
    if have_fat_tools() {
        check_volume(12, 1440, 1, FatType::Fat12);
    }
}

#[test]
fn fat16_reads_as_mtools_does() {
    if have_fat_tools() {
        check_volume(16, 16 * 1024, 2, FatType::Fat16);
    }
}

#[test]
fn fat32_reads_as_mtools_does() {
    if have_fat_tools() {
        check_volume(32, 40 * 1024, 1, FatType::Fat32);
    }
}

/// `diagnose --format json` on `img` with `extra` arguments; it must succeed.
fn diagnose_json(img: &Path, extra: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_verskew"))
        .args(["diagnose", "--format", "json", "--fail-on", "never"])
        .args(extra)
        .arg(img)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn findings(img: &Path) -> BTreeSet<(String, String, String)> {
    let v = diagnose_json(img, &[]);
    assert_eq!(v["status"], "evaluated", "{}", img.display());
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| {
            f["paths"].as_array().unwrap().iter().map(move |p| {
                (
                    f["rule"].as_str().unwrap().to_string(),
                    f["severity"].as_str().unwrap().to_string(),
                    p.as_str().unwrap().to_string(),
                )
            })
        })
        .collect()
}

#[test]
fn seed_tree_on_fat16_gives_the_seed_findings() {
    if !have_fat_tools() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let img = common::seed_on_fat16(tmp.path());

    let seed = findings(&common::testdata().join("nt4-iis4-kb291589.img"));
    assert!(seed.contains(&(
        "lockstep-mismatch".to_string(),
        "error".to_string(),
        r"\WINNT\system32\inetsrv\w3svc.dll".to_string()
    )));
    assert_eq!(findings(&img), seed);

    // `versions --all` walks the FAT volume (no MFT to scan) and finds the
    // same PE files at the same versions, sizes and times.
    let rows = |p: &Path| {
        let (rows, lost) = verskew::commands::census::census(p).unwrap();
        assert!(lost.is_empty(), "{lost:?}");
        rows.into_iter()
            .map(|r| {
                let f = r.file;
                (
                    f.path,
                    format!("{:?}", f.version),
                    f.size,
                    f.modified,
                    f.machine,
                )
            })
            .collect::<Vec<_>>()
    };
    let on_fat = rows(&img);
    assert!(!on_fat.is_empty());
    assert_eq!(
        on_fat,
        rows(&common::testdata().join("nt4-iis4-kb291589.img"))
    );

    // The volume is reported as FAT.
    let out = Command::new(env!("CARGO_BIN_EXE_verskew"))
        .args(["diagnose", "--format", "json", "--fail-on", "never"])
        .arg(&img)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["volumes"][0]["partition"]["filesystem"], "fat");
    assert_eq!(v["volumes"][0]["label"], "FATTEST");
    // The seed's SYSTEM hive records no time zone: the times are said to be
    // local, zone unknown, in the install and in every finding.
    let note = v["installs"][0]["file_times"].as_str().unwrap();
    assert!(
        note.contains("local time, zone unknown")
            && note.contains(r"ControlSet001\Control\TimeZoneInformation is absent"),
        "{note}"
    );
    for f in v["findings"].as_array().unwrap() {
        assert_eq!(f["evidence"]["file_times"], note);
    }
}

/// As NT 4 left it: the FAT16 volume in an MBR partition of type 0x06 at
/// sector 63. Found through the table, and through `-o 63`.
#[test]
fn fat16_behind_an_mbr_at_sector_63() {
    if !have_fat_tools() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let vol = std::fs::read(common::seed_on_fat16(tmp.path())).unwrap();
    let sectors = (vol.len() / 512) as u32;
    let mut disk = vec![0u8; 63 * 512];
    let e = &mut disk[446..462];
    e[0] = 0x80;
    e[4] = 0x06;
    e[8..12].copy_from_slice(&63u32.to_le_bytes());
    e[12..16].copy_from_slice(&sectors.to_le_bytes());
    disk[510] = 0x55;
    disk[511] = 0xAA;
    disk.extend_from_slice(&vol);
    let img = tmp.path().join("nt4-fat16-mbr63.img");
    std::fs::write(&img, &disk).unwrap();

    let want = findings(&common::testdata().join("nt4-iis4-kb291589.img"));
    assert_eq!(findings(&img), want);
    let v = diagnose_json(&img, &["-o", "63"]);
    assert_eq!(v["volumes"][0]["partition"]["filesystem"], "fat");
    assert_eq!(v["volumes"][0]["partition"]["offset"], 63 * 512);
    assert_eq!(v["findings"][0]["rule"], "lockstep-mismatch");
}
