//! Triage collections (issue 14): factory images copied out, at test time,
//! into a KAPE-style folder (`C\WINNT\…`) and a Velociraptor-style one
//! (`uploads\auto\C%3A\…`, hives under `uploads\ntfs\%5C%5C.%5CC%3A\…`),
//! and both zipped; each must give the findings the image gives. Then the
//! hostile ones: links, traversal names, bombs, missing hives; and the
//! collection left as it was.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use assert_cmd::Command;
use verskew::analysis::Knowledge;
use verskew::commands::diagnose::{diagnose, Diagnosis};
use verskew::commands::{open_partitions_in, Select};
use verskew::fs::{self as vfs, Entry, Volume};

#[derive(Clone, Copy, PartialEq)]
enum Layout {
    Kape,
    Velociraptor,
}

/// Velociraptor's escaping of one name: anything but letters, digits and
/// a few safe characters as `%XX`, and a leading dot too.
fn escape(name: &str) -> String {
    let mut out = String::new();
    for (i, b) in name.bytes().enumerate() {
        let safe = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b' ' | b'$')
            || (b == b'.' && i > 0);
        if safe {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn to_system_time(t: verskew::time::FileTime) -> SystemTime {
    let ticks = t.0 - 116_444_736_000_000_000;
    SystemTime::UNIX_EPOCH + Duration::from_nanos(ticks * 100)
}

/// Copies every file of `vol` under `dest` (names escaped for
/// Velociraptor), keeping modification times as KAPE does; hives go to the
/// raw-NTFS accessor's folder when `hives` is given.
fn copy_volume(vol: &dyn Volume, dir: &Entry, dest: &Path, hives: Option<&Path>, layout: Layout) {
    for e in vol.list(dir).unwrap() {
        if e.metadata || e.error.is_some() || (dir.path.is_empty() && e.name().starts_with('$')) {
            continue;
        }
        let name = match layout {
            Layout::Kape => e.name().to_string(),
            Layout::Velociraptor => escape(e.name()),
        };
        let is_config = dir.path.to_ascii_lowercase().ends_with(r"\system32\config");
        let dest_dir = match (hives, is_config) {
            (Some(h), true) => h.to_path_buf(),
            _ => dest.to_path_buf(),
        };
        let target = dest_dir.join(&name);
        if e.is_dir {
            std::fs::create_dir_all(&target).unwrap();
            let sub_h = hives.map(|h| h.join(&name));
            copy_volume(vol, &e, &target, sub_h.as_deref(), layout);
        } else {
            std::fs::create_dir_all(&dest_dir).unwrap();
            let bytes = vol.read(&e).unwrap();
            let mut f = std::fs::File::create(&target).unwrap();
            f.write_all(&bytes).unwrap();
            if let Some(t) = e.modified {
                f.set_modified(to_system_time(t)).unwrap();
            }
        }
    }
}

/// The folder of drive `letter` in `layout` (and, for Velociraptor, the
/// folder the hives go to).
fn drive_dirs(root: &Path, letter: char, layout: Layout) -> (PathBuf, Option<PathBuf>) {
    match layout {
        Layout::Kape => (root.join(letter.to_string()), None),
        Layout::Velociraptor => (
            root.join("uploads")
                .join("auto")
                .join(format!("{letter}%3A")),
            Some(
                root.join("uploads")
                    .join("ntfs")
                    .join(format!("%5C%5C.%5C{letter}%3A")),
            ),
        ),
    }
}

/// The image's diagnosis and a collection of it in `layout` under `root`.
fn collect(image: &Path, root: &Path, layout: Layout) -> Diagnosis {
    let from_image = diagnose(image, &Knowledge::builtin()).unwrap();
    let (img, parts) = open_partitions_in(image, Select::All).unwrap();
    for (i, part) in parts.iter().enumerate() {
        let Ok(vol) = vfs::open(img.disk.as_ref(), part) else {
            continue;
        };
        let letter = from_image
            .installs
            .iter()
            .flat_map(|inst| inst.drives.iter())
            .find(|d| d.volume == Some(i))
            .map(|d| d.letter)
            .unwrap_or((b'C' + i as u8) as char);
        let (dest, hives) = drive_dirs(root, letter, layout);
        std::fs::create_dir_all(&dest).unwrap();
        let r = vol.root().unwrap();
        copy_volume(vol.as_ref(), &r, &dest, hives.as_deref(), layout);
    }
    if layout == Layout::Velociraptor {
        std::fs::write(root.join("uploads.json"), b"{}\n").unwrap();
        std::fs::create_dir_all(root.join("results")).unwrap();
    }
    from_image
}

/// What two diagnoses must agree on: each finding's rule, severity,
/// install and paths, and its message up to the first `;` (what follows is
/// dated by folder times, which a collection does not keep: see
/// `messages_say_no_more`).
fn findings(d: &Diagnosis) -> Vec<(String, String, String, Vec<String>, String)> {
    let mut v: Vec<_> = d
        .findings
        .iter()
        .map(|f| {
            (
                f.rule.clone(),
                format!("{:?}", f.severity),
                f.install.clone(),
                f.paths.clone(),
                f.message.split(';').next().unwrap_or("").to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Zips a folder tree, entries deflated, with the extended timestamp.
fn zip_dir(dir: &Path, zip_path: &Path) {
    let file = std::fs::File::create(zip_path).unwrap();
    let mut z = zip::ZipWriter::new(file);
    let mut stack = vec![dir.to_path_buf()];
    let mut files = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    for p in files {
        let name = p
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let mtime = std::fs::metadata(&p)
            .unwrap()
            .modified()
            .unwrap()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs() as u32;
        let mut ut = vec![1u8];
        ut.extend_from_slice(&mtime.to_le_bytes());
        let mut opts = zip::write::FileOptions::<zip::write::ExtendedFileOptions>::default()
            .compression_method(zip::CompressionMethod::Deflated);
        opts.add_extra_data(0x5455, ut.into_boxed_slice(), false)
            .unwrap();
        z.start_file(name, opts).unwrap();
        z.write_all(&std::fs::read(&p).unwrap()).unwrap();
    }
    z.finish().unwrap();
}

/// A collection's messages are the image's, or the image's cut before a
/// clause the collection cannot date: never a claim the image does not make.
fn messages_say_no_more(collection: &Diagnosis, image: &Diagnosis) {
    for f in &collection.findings {
        let twin = image
            .findings
            .iter()
            .find(|g| g.rule == f.rule && g.paths == f.paths)
            .expect("the same finding on the image");
        assert!(
            twin.message.starts_with(&f.message),
            "collection: {}\nimage: {}",
            f.message,
            twin.message
        );
    }
}

fn image(name: &str) -> PathBuf {
    common::testdata().join(name)
}

fn same_findings(image_name: &str, layout: Layout) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("collection");
    std::fs::create_dir(&root).unwrap();
    let from_image = collect(&image(image_name), &root, layout);
    assert!(!from_image.findings.is_empty() || image_name.contains("healthy"));
    let from_dir = diagnose(&root, &Knowledge::builtin()).unwrap();
    assert_eq!(
        findings(&from_dir),
        findings(&from_image),
        "{image_name}: folder"
    );
    messages_say_no_more(&from_dir, &from_image);
    assert_eq!(from_dir.format.to_string(), "directory");
    assert_eq!(
        from_dir
            .installs
            .iter()
            .map(|i| &i.system_root)
            .collect::<Vec<_>>(),
        from_image
            .installs
            .iter()
            .map(|i| &i.system_root)
            .collect::<Vec<_>>()
    );
    let zip_path = tmp.path().join("collection.zip");
    zip_dir(&root, &zip_path);
    let from_zip = diagnose(&zip_path, &Knowledge::builtin()).unwrap();
    assert_eq!(
        findings(&from_zip),
        findings(&from_image),
        "{image_name}: zip"
    );
    messages_say_no_more(&from_zip, &from_image);
    assert_eq!(from_zip.format.to_string(), "zip");
    // The collection says where its times come from, in the story too.
    for story in from_dir.stories.iter().flatten() {
        assert!(story.contains("collection's copies"), "{story}");
    }
    assert!(from_dir.volumes.iter().all(|v| v
        .partition
        .note
        .as_deref()
        .is_some_and(|n| n.contains("file times are"))));
}

#[test]
fn kape_folder_and_zip_find_what_the_image_finds() {
    same_findings("nt4-iis4-kb291589.img", Layout::Kape);
}

#[test]
fn velociraptor_folder_and_zip_find_what_the_image_finds() {
    same_findings("nt4-iis4-kb291589.img", Layout::Velociraptor);
}

#[test]
fn server_2019_collection_finds_what_the_image_finds() {
    same_findings("w2k19-iis10-module-missing.img", Layout::Velociraptor);
    same_findings("w2k19-iis10-module-missing.img", Layout::Kape);
}

#[test]
fn drive_letters_come_from_the_collection() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("c");
    std::fs::create_dir(&root).unwrap();
    let from_image = collect(&image("nt4-iis4-addon-e.img"), &root, Layout::Kape);
    let d = diagnose(&root, &Knowledge::builtin()).unwrap();
    assert_eq!(findings(&d), findings(&from_image));
    let letters: Vec<(char, Option<usize>)> = d.installs[0]
        .drives
        .iter()
        .filter(|l| l.volume.is_some())
        .map(|l| (l.letter, l.volume))
        .collect();
    let names: Vec<String> = d
        .volumes
        .iter()
        .map(|v| v.partition.name.clone().unwrap())
        .collect();
    for (letter, vol) in letters {
        assert_eq!(names[vol.unwrap()], format!("{letter}:"));
    }
}

fn cli(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("verskew")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every file and folder below `dir` with its bytes' digest, size and
/// modification time.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u64, SystemTime, u64)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let meta = std::fs::symlink_metadata(&d).unwrap();
        out.insert(d.clone(), (0, meta.modified().unwrap(), 0));
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            if m.is_dir() {
                stack.push(p);
            } else if m.is_file() {
                let b = std::fs::read(&p).unwrap();
                let sum = b
                    .iter()
                    .fold(0u64, |a, x| a.wrapping_mul(31).wrapping_add(u64::from(*x)));
                out.insert(p, (sum, m.modified().unwrap(), m.len()));
            } else {
                out.insert(p, (0, m.modified().unwrap(), 0));
            }
        }
    }
    out
}

#[test]
fn commands_read_collections_and_leave_them_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("kape");
    std::fs::create_dir(&root).unwrap();
    collect(&image("nt4-iis4-kb291589.img"), &root, Layout::Kape);
    let zip_path = tmp.path().join("kape.zip");
    zip_dir(&root, &zip_path);
    let before = snapshot(tmp.path());
    for target in [root.to_str().unwrap(), zip_path.to_str().unwrap()] {
        let (code, out, err) = cli(&["diagnose", target]);
        assert_eq!(code, 1, "{out}{err}");
        assert!(out.contains("collected drive C:"), "{out}");
        assert!(out.contains("file times are"), "{out}");
        let (code, out, err) = cli(&["diagnose", "--format", "json", target]);
        assert_eq!(code, 1, "{err}");
        let j: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
        assert_eq!(j["volumes"][0]["partition"]["scheme"], "collection");
        assert_eq!(j["volumes"][0]["partition"]["name"], "C:");
        let (code, out, err) = cli(&["versions", target]);
        assert_eq!(code, 0, "{err}");
        assert!(out.to_ascii_lowercase().contains("w3svc.dll"), "{out}");
        let (code, out, err) = cli(&["versions", "--all", target]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains(r"\WINNT\system32\inetsrv\w3svc.dll"), "{out}");
        let (code, out, err) = cli(&["info", target]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("triage collection"), "{out}");
        assert!(out.contains("collected drives:"), "{out}");
        let (code, _, err) = cli(&["info", "--format", "json", target]);
        assert_eq!(code, 0, "{err}");
        let (code, _, err) = cli(&["diagnose", "-o", "63", target]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("collection"), "{err}");
    }
    // --output inside the collection is refused, and nothing is made.
    let inside = root.join("C").join("report.txt");
    let (code, _, err) = cli(&[
        "diagnose",
        "--output",
        inside.to_str().unwrap(),
        root.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("inside the triage collection"), "{err}");
    assert!(!inside.exists());
    assert_eq!(snapshot(tmp.path()), before, "the collection changed");
}

#[cfg(unix)]
#[test]
fn hostile_folders_are_walked_safely() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("kape");
    std::fs::create_dir(&root).unwrap();
    collect(&image("nt4-iis4-kb291589.img"), &root, Layout::Kape);
    let winnt = std::fs::read_dir(root.join("C"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().eq_ignore_ascii_case("winnt"))
        .unwrap();
    // A cycle, a link out of the tree, a FIFO, a link standing in for a DLL.
    std::os::unix::fs::symlink("..", winnt.join("loop")).unwrap();
    std::os::unix::fs::symlink("/etc", winnt.join("outside")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", root.join("C").join("passwd.dll")).unwrap();
    let fifo = winnt.join("pipe.dll");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    let from_image = diagnose(&image("nt4-iis4-kb291589.img"), &Knowledge::builtin()).unwrap();
    let d = diagnose(&root, &Knowledge::builtin()).unwrap();
    assert_eq!(findings(&d), findings(&from_image));
    let (code, out, err) = cli(&["versions", root.to_str().unwrap(), r"**\*.dll"]);
    // 3: the link and the FIFO named *.dll are listed, with why they were
    // not read; the link's target is never opened.
    assert_eq!(code, 3, "{err}");
    let passwd = out.lines().find(|l| l.contains("passwd.dll")).unwrap_or("");
    assert!(passwd.contains("not followed"), "{out}");
    assert!(
        err.contains("not followed") || out.contains("not followed"),
        "{out}{err}"
    );
    if made.is_ok_and(|s| s.success()) {
        assert!(
            err.contains("pipe.dll") || out.contains("pipe.dll"),
            "{out}{err}"
        );
    }
    // A folder that holds neither images nor a collection says both.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (code, _, err) = cli(&["diagnose", empty.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no disk image found") && err.contains("not a triage collection"),
        "{err}"
    );
}

/// A zip built entry by entry, stored or deflated.
fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in entries {
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        z.start_file(*name, opts).unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap().into_inner()
}

#[test]
fn hostile_zips_give_clear_errors_and_partial_results() {
    let tmp = tempfile::tempdir().unwrap();
    let (img, parts) = open_partitions_in(&image("nt4-iis4-kb291589.img"), Select::All).unwrap();
    let vol = vfs::open(img.disk.as_ref(), &parts[0]).unwrap();
    let read = |p: &str| vol.read(&vol.lookup(p).unwrap()).unwrap().into_owned();
    let w3svc = read(r"\WINNT\system32\inetsrv\w3svc.dll");
    let system = read(r"\WINNT\system32\config\SYSTEM");

    // Traversal names and absolute names are refused, the rest is read.
    let bad = zip_of(&[
        ("C/WINNT/system32/inetsrv/w3svc.dll", &w3svc),
        ("../../evil.dll", b"MZ"),
        ("C/../../evil2.dll", b"MZ"),
        ("/abs/evil3.dll", b"MZ"),
    ]);
    let p = tmp.path().join("traversal.zip");
    std::fs::write(&p, &bad).unwrap();
    let (code, out, err) = cli(&["versions", p.to_str().unwrap(), r"**\*.dll"]);
    // 3: the refused entries are listed as unreadable.
    assert_eq!(code, 3, "{err}");
    assert!(out.to_ascii_lowercase().contains("w3svc.dll"), "{out}");
    assert!(!out.contains("evil"), "{out}");
    assert!(err.contains("path traversal"), "{err}");
    assert!(!tmp.path().join("evil.dll").exists());

    // Missing hives: versions lists the DLLs, diagnose says no Windows.
    let (code, _, err) = cli(&["diagnose", p.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no Windows installation"), "{err}");

    // A zip bomb: the entry's declared size set far beyond its data.
    let mut bomb = zip_of(&[
        ("C/WINNT/system32/config/SYSTEM", &system),
        ("C/WINNT/system32/inetsrv/w3svc.dll", &vec![0u8; 1 << 20]),
    ]);
    set_declared_size(&mut bomb, "C/WINNT/system32/inetsrv/w3svc.dll", 900_000_000);
    let p = tmp.path().join("bomb.zip");
    std::fs::write(&p, &bomb).unwrap();
    let (code, out, err) = cli(&["versions", p.to_str().unwrap(), r"**\*.dll"]);
    assert_eq!(code, 3, "{out}{err}");
    assert!(
        err.contains("zip bomb") || err.contains("inflates"),
        "{out}{err}"
    );

    // Not a zip at all, past its signature.
    let p = tmp.path().join("broken.zip");
    std::fs::write(&p, b"PK\x03\x04 not really a zip").unwrap();
    let (code, _, err) = cli(&["diagnose", p.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("zip"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    // Every truncation of a real collection zip: an error or a result, no panic.
    let good = zip_of(&[(
        "C/WINNT/system32/inetsrv/w3svc.dll",
        &w3svc[..4096.min(w3svc.len())],
    )]);
    for cut in (0..good.len()).step_by(97) {
        let p = tmp.path().join("cut.zip");
        std::fs::write(&p, &good[..cut]).unwrap();
        let _ = verskew::fs::collection::collection_roots(&p);
        let r = verskew::commands::versions::versions(&p, Some(r"**\*.dll"));
        if let Err(e) = r {
            assert_ne!(e.kind(), "internal", "{e}");
        }
    }
}

/// Rewrites the uncompressed size of `name` in both its headers.
fn set_declared_size(zip: &mut [u8], name: &str, size: u32) {
    let n = name.as_bytes();
    let mut i = 0;
    while i + 46 < zip.len() {
        if zip[i..i + 4] == *b"PK\x03\x04" && zip.get(i + 30..i + 30 + n.len()) == Some(n) {
            zip[i + 22..i + 26].copy_from_slice(&size.to_le_bytes());
        }
        if zip[i..i + 4] == *b"PK\x01\x02" && zip.get(i + 46..i + 46 + n.len()) == Some(n) {
            zip[i + 24..i + 28].copy_from_slice(&size.to_le_bytes());
        }
        i += 1;
    }
}

#[test]
fn collection_roots_names_the_drives() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("v");
    std::fs::create_dir(&root).unwrap();
    collect(&image("nt4-iis4-kb291589.img"), &root, Layout::Velociraptor);
    let c = verskew::fs::collection::collection_roots(&root).unwrap();
    assert_eq!(c.drives.len(), 1);
    assert_eq!(c.drives[0].letter, 'C');
    assert_eq!(
        c.drives[0].folders,
        ["uploads/auto/C%3A", "uploads/ntfs/%5C%5C.%5CC%3A"]
    );
    // A folder of images is no collection.
    assert!(
        verskew::fs::collection::collection_roots(&common::testdata().join("containers")).is_none()
    );
    assert!(verskew::fs::collection::collection_roots(&image("nt4-iis4-kb291589.img")).is_none());
}

/// Byte flips across a small collection zip (central directory, local
/// headers, deflate data): every drive opened is walked and read; an error
/// or nothing, never a panic or an allocation past the caps.
#[test]
fn flipped_zip_bytes_never_panic() {
    let (img, parts) = open_partitions_in(&image("nt4-iis4-kb291589.img"), Select::All).unwrap();
    let vol = vfs::open(img.disk.as_ref(), &parts[0]).unwrap();
    let w3svc = vol
        .read(&vol.lookup(r"\WINNT\system32\inetsrv\w3svc.dll").unwrap())
        .unwrap()
        .into_owned();
    let good = zip_of(&[
        (
            "uploads/auto/C%3A/WINNT/system32/inetsrv/w3svc.dll",
            &w3svc[..8192.min(w3svc.len())],
        ),
        (
            "uploads/auto/C%3A/WINNT/system32/inetsrv/a%2Edll",
            b"MZ tiny",
        ),
        ("uploads.json", b"{}"),
    ]);
    assert!(verskew::fs::collection::zip_bytes_volumes(&good).is_some());
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    for i in 0..1500 {
        let mut bad = good.clone();
        for _ in 0..1 + i % 4 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let at = (seed as usize) % bad.len();
            bad[at] ^= (seed >> 32) as u8 | 1;
        }
        if let Some(vols) = verskew::fs::collection::zip_bytes_volumes(&bad) {
            for v in &vols {
                walk_and_read(v);
            }
        }
    }
}

fn walk_and_read(v: &dyn Volume) {
    let mut stack = vec![v.root().unwrap()];
    let mut n = 0;
    while let Some(d) = stack.pop() {
        for e in v.list(&d).unwrap_or_default() {
            n += 1;
            if n > 10_000 {
                return;
            }
            if e.is_dir {
                stack.push(e);
            } else {
                let _ = v.read(&e);
            }
        }
    }
}
