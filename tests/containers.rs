//! Containers and partition tables against independent references.
//!
//! * Every container in the third-party corpus (`../shared/corpus`, see its
//!   MANIFEST.tsv) must read byte-identical to what `qemu-img convert -O raw`
//!   or `ewfexport -f raw` makes of it, compared by SHA-256 of full reads in
//!   large chunks plus random-offset reads. The references are generated into
//!   a temporary folder at test time.
//! * Every container the test-image factory committed under
//!   `testdata/containers/` (listed in `testdata/images.toml` with a
//!   `source`) must read byte-identical to its raw source image.
//! * Partition tables of the corpus disks give the counts the MANIFEST
//!   describes; hostile inputs (EBR loop, absurd GPT, truncated containers)
//!   give clear errors or correct bytes, never a panic, a hang or zeros.
//!
//! Missing corpus or tools make a test print "SKIPPED: …" and pass.
//! `throughput` (ignored by default) prints read speeds; see its comment.

mod common;

use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};
use verskew::image::{self, Disk, Format, HashAlgorithm, Image};
use verskew::volume::{self, Filesystem, Scheme};

const CHUNK: usize = 4 << 20;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

use common::corpus;

fn have(tool: &str, arg: &str) -> bool {
    let ok = Command::new(tool)
        .arg(arg)
        .output()
        .map(|o| o.status.success() || !o.stdout.is_empty() || !o.stderr.is_empty())
        .unwrap_or(false);
    if !ok {
        eprintln!("SKIPPED: tool {tool} is not installed");
    }
    ok
}

/// `qemu-img convert -O raw` of `src` into `dir`.
fn qemu_raw(src: &Path, dir: &Path) -> Option<PathBuf> {
    let out = dir.join(format!(
        "{}.qemu.raw",
        src.file_name().unwrap().to_string_lossy()
    ));
    let st = Command::new("qemu-img")
        .args(["convert", "-O", "raw"])
        .arg(src)
        .arg(&out)
        .output()
        .ok()?;
    if !st.status.success() {
        eprintln!(
            "SKIPPED: qemu-img could not convert {}: {}",
            src.display(),
            String::from_utf8_lossy(&st.stderr).trim()
        );
        return None;
    }
    Some(out)
}

/// `ewfexport -f raw` of `src` into `dir`.
fn ewf_raw(src: &Path, dir: &Path) -> Option<PathBuf> {
    let target = dir.join(format!(
        "{}.ewfexport",
        src.file_name().unwrap().to_string_lossy()
    ));
    let st = Command::new("ewfexport")
        .args(["-q", "-u", "-f", "raw", "-t"])
        .arg(&target)
        .arg(src)
        .output()
        .ok()?;
    let out = target.with_extension("ewfexport.raw");
    if !st.status.success() || !out.is_file() {
        eprintln!(
            "SKIPPED: ewfexport could not export {}: {}",
            src.display(),
            String::from_utf8_lossy(&st.stdout).trim()
        );
        return None;
    }
    Some(out)
}

/// SHA-256 of `disk[0..len]`, read in large chunks.
fn sha_disk(disk: &dyn Disk, len: u64) -> String {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut at = 0u64;
    while at < len {
        let n = (len - at).min(CHUNK as u64) as usize;
        disk.read_exact_at(at, &mut buf[..n])
            .unwrap_or_else(|e| panic!("read at {at}: {e}"));
        h.update(&buf[..n]);
        at += n as u64;
    }
    hex(&h.finalize())
}

fn sha_file(path: &Path, len: u64) -> String {
    let mut f = std::fs::File::open(path).unwrap().take(len);
    let mut h = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    hex(&h.finalize())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// True when every byte of `disk[from..to]` is zero.
fn disk_zero(disk: &dyn Disk, from: u64, to: u64) -> bool {
    let mut buf = vec![0u8; CHUNK];
    let mut at = from;
    while at < to {
        let n = (to - at).min(CHUNK as u64) as usize;
        disk.read_exact_at(at, &mut buf[..n]).unwrap();
        if buf[..n].iter().any(|&b| b != 0) {
            return false;
        }
        at += n as u64;
    }
    true
}

fn file_zero(path: &Path, from: u64, to: u64) -> bool {
    let f = std::fs::File::open(path).unwrap();
    let mut buf = vec![0u8; CHUNK];
    let mut at = from;
    while at < to {
        let n = (to - at).min(CHUNK as u64) as usize;
        f.read_exact_at(&mut buf[..n], at).unwrap();
        if buf[..n].iter().any(|&b| b != 0) {
            return false;
        }
        at += n as u64;
    }
    true
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Asserts that `img` reads byte-identical to the raw file `reference`.
/// Sizes must agree, except that a VHD may differ from qemu's view by a
/// zero tail (qemu derives the size of some VHDs from the CHS geometry).
fn assert_same(img: &Image, reference: &Path, what: &str) {
    let ours = img.disk.size();
    let theirs = std::fs::metadata(reference).unwrap().len();
    let common = ours.min(theirs);
    if ours != theirs {
        assert_eq!(
            img.format,
            Format::Vhd,
            "{what}: size {ours} differs from the reference's {theirs}"
        );
        assert!(
            disk_zero(img.disk.as_ref(), common, ours) && file_zero(reference, common, theirs),
            "{what}: sizes differ ({ours} vs {theirs}) and the tail is not zeros"
        );
        eprintln!("note: {what}: size {ours} vs reference {theirs}; the tail is zeros");
    }
    assert_eq!(
        sha_disk(img.disk.as_ref(), common),
        sha_file(reference, common),
        "{what}: SHA-256 of the full read differs from the reference"
    );
    // Random-offset reads of random lengths, including unaligned ones and
    // ones that cross chunk/cluster/segment boundaries.
    let f = std::fs::File::open(reference).unwrap();
    let mut rng = Rng(0x5EED ^ common);
    for _ in 0..300 {
        if common == 0 {
            break;
        }
        let off = rng.next() % common;
        let len = (rng.next() % 70_000).min(common - off) as usize;
        let mut a = vec![0u8; len];
        let mut b = vec![0u8; len];
        img.disk
            .read_exact_at(off, &mut a)
            .unwrap_or_else(|e| panic!("{what}: read {len} at {off}: {e}"));
        f.read_exact_at(&mut b, off).unwrap();
        assert!(a == b, "{what}: {len} bytes at {off} differ");
    }
    // Past the end is an error, not zeros.
    let mut one = [0u8; 1];
    assert!(img.disk.read_exact_at(ours, &mut one).is_err());
}

/// Which tool makes the reference for a corpus container.
#[derive(Clone, Copy)]
enum Tool {
    Qemu,
    Ewf,
}

const CORPUS_CONTAINERS: &[(&str, Format, Tool)] = &[
    ("containers/dfvfs__ext2.E01", Format::Ewf, Tool::Ewf),
    ("containers/dfvfs__ext2.split.E01", Format::Ewf, Tool::Ewf),
    ("containers/dfvfs__image-split.E01", Format::Ewf, Tool::Ewf),
    ("containers/dfvfs__image.E01", Format::Ewf, Tool::Ewf),
    (
        "containers/ewf-forensic__ctf_file6.E01",
        Format::Ewf,
        Tool::Ewf,
    ),
    (
        "containers/ewf-forensic__exfat1.E01",
        Format::Ewf,
        Tool::Ewf,
    ),
    (
        "containers/ewf-forensic__imageformat_mmls_1.E01",
        Format::Ewf,
        Tool::Ewf,
    ),
    (
        "containers/ewf-forensic__nps-2010-emails.E01",
        Format::Ewf,
        Tool::Ewf,
    ),
    ("ntfs/ewf-forensic__ntfs_sample.E01", Format::Ewf, Tool::Ewf),
    (
        "ntfs/velociraptor__partition_image.E01",
        Format::Ewf,
        Tool::Ewf,
    ),
    ("containers/dfvfs__ext2.qcow2", Format::Qcow2, Tool::Qemu),
    ("containers/dfvfs__image.qcow2", Format::Qcow2, Tool::Qemu),
    ("ntfs/dfvfs__vsstest.qcow2", Format::Qcow2, Tool::Qemu),
    ("containers/dfvfs__ext2.vmdk", Format::Vmdk, Tool::Qemu),
    ("containers/dfvfs__image.vmdk", Format::Vmdk, Tool::Qemu),
    (
        "containers/vmdk-rs__monolithicSparse.vmdk",
        Format::Vmdk,
        Tool::Qemu,
    ),
    (
        "containers/vmdk-rs__streamOptimized.vmdk",
        Format::Vmdk,
        Tool::Qemu,
    ),
    (
        "containers/vmdk-rs__vmfs_thick/vmfs_thick.vmdk",
        Format::Vmdk,
        Tool::Qemu,
    ),
    ("containers/dfvfs__ext2.vhd", Format::Vhd, Tool::Qemu),
];

#[test]
fn corpus_containers_match_reference_tools() {
    let Some(corpus) = corpus() else { return };
    let qemu = have("qemu-img", "--version");
    let ewf = have("ewfexport", "-V");
    let tmp = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for &(rel, format, tool) in CORPUS_CONTAINERS {
        let src = corpus.join(rel);
        if !src.is_file() {
            eprintln!("SKIPPED: {} is not in the corpus", src.display());
            continue;
        }
        let img = image::open(&src).unwrap_or_else(|e| panic!("{rel}: {e}"));
        assert_eq!(img.format, format, "{rel}: recognised as {}", img.format);
        let reference = match tool {
            Tool::Qemu if qemu => qemu_raw(&src, tmp.path()),
            Tool::Ewf if ewf => ewf_raw(&src, tmp.path()),
            _ => None,
        };
        let Some(reference) = reference else {
            eprintln!("SKIPPED: no reference for {rel}");
            continue;
        };
        assert_same(&img, &reference, rel);
        std::fs::remove_file(&reference).ok();
        eprintln!("ok: {rel} ({}, {} bytes)", img.format, img.disk.size());
        checked += 1;
    }
    eprintln!("{checked} corpus containers byte-identical to their reference");
}

#[test]
fn ewf_segments_and_metadata() {
    let Some(corpus) = corpus() else { return };
    let img = image::open(&corpus.join("containers/dfvfs__ext2.split.E01")).unwrap();
    assert_eq!(img.info.files.len(), 2);
    assert!(img.info.files[1]
        .to_string_lossy()
        .ends_with("ext2.split.E02"));
    // The stored MD5 (from the MANIFEST) is exposed and verifies.
    let img = image::open(&corpus.join("ntfs/ewf-forensic__ntfs_sample.E01")).unwrap();
    assert_eq!(
        img.info.get("ewf.stored_md5"),
        Some("e4e9578a9c8bf6c6b375a80c630196a4")
    );
    let calls = std::cell::Cell::new(0u32);
    let checks = image::verify_stored_hashes(&img, &|done, total| {
        assert!(done <= total);
        calls.set(calls.get() + 1);
    })
    .unwrap();
    assert!(calls.get() >= 2);
    let md5 = checks
        .iter()
        .find(|c| c.algorithm == HashAlgorithm::Md5)
        .unwrap();
    assert!(md5.matches, "{md5:?}");
    assert_eq!(md5.computed, "e4e9578a9c8bf6c6b375a80c630196a4");
}

#[test]
fn every_stored_ewf_hash_verifies() {
    let Some(corpus) = corpus() else { return };
    for &(rel, format, _) in CORPUS_CONTAINERS {
        if format != Format::Ewf || !corpus.join(rel).is_file() {
            continue;
        }
        let img = image::open(&corpus.join(rel)).unwrap();
        let checks = image::verify_stored_hashes(&img, &|_, _| {}).unwrap();
        for c in &checks {
            assert!(c.matches, "{rel}: {c:?}");
        }
        eprintln!("ok: {rel}: {} stored hash(es) verified", checks.len());
    }
}

#[test]
fn ex01_reads_its_known_content() {
    // ewfexport 20140813 (Debian) cannot read EWF2, so the reference is the
    // MANIFEST: 64 KiB of zeros, MD5 fcd6bcb56c1689fcef28b57c22475bad.
    let Some(corpus) = corpus() else { return };
    for rel in [
        "containers/ewf-forensic__zeros_128s.Ex01",
        "containers/ewf-forensic__zeros_128s_compressed.Ex01",
    ] {
        let img = image::open(&corpus.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
        assert_eq!(img.format, Format::Ewf);
        assert_eq!(img.disk.size(), 65536, "{rel}");
        assert!(disk_zero(img.disk.as_ref(), 0, 65536), "{rel}");
        let checks = image::verify_stored_hashes(&img, &|_, _| {}).unwrap();
        for c in &checks {
            assert!(c.matches, "{rel}: {c:?}");
            if c.algorithm == HashAlgorithm::Md5 {
                assert_eq!(c.stored, "fcd6bcb56c1689fcef28b57c22475bad");
            }
        }
    }
}

#[test]
fn missing_pieces_are_named() {
    let Some(corpus) = corpus() else { return };
    // Differencing VHD whose parent is not in the corpus.
    let p = corpus.join("containers/dfvfs__fat-differential.vhd");
    let msg = image::open(&p).unwrap_err().to_string();
    eprintln!("{msg}");
    assert!(
        msg.contains("fat-differential.vhd") && msg.contains("parent"),
        "{msg}"
    );
    assert!(msg.contains("fat-parent.vhd"), "{msg}");
    // Descriptors whose extents are not in the corpus.
    for rel in [
        "containers/vmdk-rs__monolithicFlat.vmdk",
        "containers/vmdk-rs__twoGbMaxExtentFlat.vmdk",
        "containers/vmdk-rs__vmfs_thick/vmfs_thick-000001.vmdk",
    ] {
        let msg = image::open(&corpus.join(rel)).unwrap_err().to_string();
        eprintln!("{msg}");
        assert!(
            msg.contains(Path::new(rel).file_name().unwrap().to_str().unwrap()),
            "{msg}"
        );
        assert!(msg.contains("missing"), "{msg}");
    }
    // Second EWF segment missing: copy only the first.
    let tmp = tempfile::tempdir().unwrap();
    let e01 = tmp.path().join("ext2.split.E01");
    std::fs::copy(corpus.join("containers/dfvfs__ext2.split.E01"), &e01).unwrap();
    let msg = image::open(&e01).unwrap_err().to_string();
    eprintln!("{msg}");
    assert!(
        msg.contains("ext2.split.E01") && msg.contains("missing"),
        "{msg}"
    );
    // The fuzzer's crash file.
    let fuzz =
        corpus.join("containers/fuzz/ewf-forensic__fuzz-crash-parse_segment-add-overflow.E01");
    if fuzz.is_file() {
        let r = image::open(&fuzz);
        assert!(r.is_err(), "a 313-byte E01 cannot be a valid image");
    }
}

/// Copies `src` (and its sibling segments/extents named in `extra`) into
/// `dir`, with `src` cut to `len` bytes.
fn truncated_copy(src: &Path, dir: &Path, len: u64) -> PathBuf {
    let dst = dir.join(src.file_name().unwrap());
    let data = std::fs::read(src).unwrap();
    std::fs::write(&dst, &data[..len as usize]).unwrap();
    dst
}

#[test]
fn truncated_containers_error_or_read_correctly() {
    // Never a panic, never a hang, never silent zeros: a truncated container
    // either fails to open, fails to read, or reads the right bytes.
    let Some(corpus) = corpus() else { return };
    if !have("qemu-img", "--version") || !have("ewfexport", "-V") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        ("containers/dfvfs__ext2.E01", Tool::Ewf),
        ("ntfs/velociraptor__partition_image.E01", Tool::Ewf),
        ("containers/dfvfs__ext2.qcow2", Tool::Qemu),
        ("containers/dfvfs__ext2.vhd", Tool::Qemu),
        ("containers/vmdk-rs__streamOptimized.vmdk", Tool::Qemu),
        ("containers/vmdk-rs__monolithicSparse.vmdk", Tool::Qemu),
    ];
    let mut report = Vec::new();
    for (rel, tool) in cases {
        let src = corpus.join(rel);
        if !src.is_file() {
            continue;
        }
        let reference = match tool {
            Tool::Qemu => qemu_raw(&src, tmp.path()),
            Tool::Ewf => ewf_raw(&src, tmp.path()),
        };
        let Some(reference) = reference else { continue };
        let want = std::fs::read(&reference).unwrap();
        let len = std::fs::metadata(&src).unwrap().len();
        let work = tempfile::tempdir().unwrap();
        let (mut open_err, mut read_err, mut ok) = (0, 0, 0);
        for frac in [1u64, 10, 25, 50, 75, 90, 99] {
            for cut in [len * frac / 100, (len * frac / 100).saturating_sub(1)] {
                let p = truncated_copy(&src, work.path(), cut);
                match image::open(&p) {
                    Err(e) => {
                        let msg = e.to_string();
                        assert!(
                            msg.contains(&*p.file_name().unwrap().to_string_lossy()),
                            "{msg}"
                        );
                        assert!(!msg.contains('\n'), "one line: {msg}");
                        open_err += 1;
                    }
                    Ok(img) => {
                        let size = img.disk.size() as usize;
                        let mut got = vec![0u8; size];
                        match img.disk.read_exact_at(0, &mut got) {
                            Err(e) => {
                                let msg = e.to_string();
                                assert!(
                                    msg.contains(&*p.file_name().unwrap().to_string_lossy()),
                                    "{rel} cut at {cut}: read error does not name the file: {msg}"
                                );
                                read_err += 1;
                            }
                            Ok(()) => {
                                let n = size.min(want.len());
                                assert!(
                                    got[..n] == want[..n],
                                    "{rel} cut at {cut} of {len}: read succeeded with wrong bytes (silent zeros?)"
                                );
                                ok += 1;
                            }
                        }
                    }
                }
            }
        }
        report.push(format!(
            "{rel}: {open_err} open errors, {read_err} read errors, {ok} correct reads"
        ));
    }
    for r in report {
        eprintln!("{r}");
    }
}

/// One `[[image]]` of `testdata/images.toml` that is a container of a raw
/// source image.
struct Derived {
    name: String,
    file: PathBuf,
    format: String,
    source: PathBuf,
    /// Where the NTFS volume starts, per the manifest.
    partition_offset: Option<u64>,
}

/// Formats the repository does not commit are made in `made`.
fn derived_images(made: &Path) -> Vec<Derived> {
    let manifest = repo().join("testdata/images.toml");
    let Ok(text) = std::fs::read_to_string(&manifest) else {
        return Vec::new();
    };
    let doc: toml::Value = toml::from_str(&text).expect("images.toml parses");
    let mut out = Vec::new();
    let images = doc
        .get("image")
        .and_then(|v| v.as_array())
        .cloned()
        .unwrap_or_default();
    let file_of = |name: &str| {
        images.iter().find_map(|i| {
            (i.get("name")?.as_str()? == name)
                .then(|| i.get("file")?.as_str().map(str::to_string))?
        })
    };
    for i in &images {
        let (Some(name), Some(file), Some(format), Some(source)) = (
            i.get("name").and_then(|v| v.as_str()),
            i.get("file").and_then(|v| v.as_str()),
            i.get("format").and_then(|v| v.as_str()),
            i.get("source").and_then(|v| v.as_str()),
        ) else {
            continue;
        };
        let Some(src_file) = file_of(source) else {
            continue;
        };
        let file = common::image_file(file, format, Some(&src_file), made)
            .unwrap_or_else(|| repo().join("testdata").join(file));
        out.push(Derived {
            name: name.to_string(),
            file,
            format: format.to_string(),
            source: repo().join("testdata").join(src_file),
            partition_offset: i
                .get("partition_offset")
                .and_then(|v| v.as_integer())
                .and_then(|v| u64::try_from(v).ok()),
        });
    }
    out
}

#[test]
fn factory_containers_match_their_raw_source() {
    let made = tempfile::tempdir().unwrap();
    let images = derived_images(made.path());
    if images.is_empty() {
        eprintln!("SKIPPED: testdata/images.toml lists no container images yet");
        return;
    }
    for d in images {
        if !d.file.is_file() || !d.source.is_file() {
            eprintln!("SKIPPED: {} (file or source missing)", d.name);
            continue;
        }
        let img = image::open(&d.file).unwrap_or_else(|e| panic!("{}: {e}", d.name));
        let format = serde_json::to_value(img.format).unwrap();
        assert_eq!(format.as_str(), Some(d.format.as_str()), "{}", d.name);
        assert_same(&img, &d.source, &d.name);
        // The partition table reads the same through the container.
        let through = volume::find_partitions(img.disk.as_ref()).unwrap();
        let raw = image::open(&d.source).unwrap();
        let direct = volume::find_partitions(raw.disk.as_ref()).unwrap();
        assert_eq!(through, direct, "{}", d.name);
        if let Some(want) = d.partition_offset {
            let ntfs: Vec<u64> = through
                .iter()
                .filter(|p| p.filesystem == Some(Filesystem::Ntfs))
                .map(|p| p.offset)
                .collect();
            assert_eq!(ntfs, vec![want], "{}: NTFS volume offsets", d.name);
        }
        eprintln!(
            "ok: {} ({}, {} files)",
            d.name,
            img.format,
            img.info.files.len()
        );
    }
}

// ---------------------------------------------------------------------------
// Partition tables.

fn gunzip_to(src: &Path, dir: &Path) -> PathBuf {
    let name = src.file_stem().unwrap();
    let out = dir.join(name);
    let mut d = flate2::read::GzDecoder::new(std::fs::File::open(src).unwrap());
    let mut f = std::fs::File::create(&out).unwrap();
    std::io::copy(&mut d, &mut f).unwrap();
    out
}

fn partitions_of(path: &Path) -> volume::VolumeMap {
    let img = image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    volume::find_volumes(img.disk.as_ref()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn corpus_partition_tables() {
    let Some(corpus) = corpus() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let c = corpus.join("containers");
    let file = |name: &str| -> PathBuf {
        let p = c.join(name);
        if name.ends_with(".gz") {
            gunzip_to(&p, tmp.path())
        } else {
            p
        }
    };
    // (file, scheme, sector size, number of partitions) per MANIFEST.tsv:
    // pNeM = N primary + M logical.
    let cases: &[(&str, Scheme, u32, usize)] = &[
        ("dfir_ntfs__mbr-512-p0.bin", Scheme::Mbr, 512, 0),
        ("dfir_ntfs__mbr-512-p1.bin", Scheme::Mbr, 512, 1),
        ("dfir_ntfs__mbr-512-p4.bin", Scheme::Mbr, 512, 4),
        ("dfir_ntfs__mbr-512-p1e2.bin.gz", Scheme::Mbr, 512, 3),
        ("dfir_ntfs__mbr-512-p1e2_2.bin.gz", Scheme::Mbr, 512, 3),
        ("dfir_ntfs__mbr-4096-p1e0.bin.gz", Scheme::Mbr, 4096, 1),
        ("dfir_ntfs__mbr-4096-p1e1.bin.gz", Scheme::Mbr, 4096, 2),
        ("dfir_ntfs__gpt-512-0p.raw.gz", Scheme::Gpt, 512, 0),
        ("dfir_ntfs__gpt-512-3p.raw.gz", Scheme::Gpt, 512, 3),
        ("dfvfs__mbr.raw.gz", Scheme::Mbr, 512, 2),
        ("dfvfs__tsk_volume_system.raw", Scheme::Mbr, 512, 2),
    ];
    for &(name, scheme, ss, count) in cases {
        let map = partitions_of(&file(name));
        let summary: Vec<String> = map
            .partitions
            .iter()
            .map(|p| format!("#{} {} @{} +{}", p.index, p.type_id, p.offset, p.size))
            .collect();
        assert_eq!(map.scheme, scheme, "{name}: {summary:?} {:?}", map.notes);
        assert_eq!(map.sector_size, ss, "{name}: {summary:?}");
        assert_eq!(
            map.partitions.len(),
            count,
            "{name}: {summary:?} {:?}",
            map.notes
        );
        let mut sorted = map.partitions.clone();
        sorted.sort_by_key(|p| p.offset);
        assert_eq!(sorted, map.partitions, "{name}: sorted by offset");
        eprintln!("ok: {name}: {summary:?}");
    }

    // Expected offsets of two of them (from sfdisk -d).
    let map = partitions_of(&file("dfir_ntfs__mbr-512-p1e2.bin.gz"));
    let offs: Vec<(u32, u64)> = map
        .partitions
        .iter()
        .map(|p| (p.index, p.offset / 512))
        .collect();
    assert_eq!(offs, vec![(5, 2), (6, 514), (2, 1025)]);
    let map = partitions_of(&file("dfir_ntfs__gpt-512-3p.raw.gz"));
    assert_eq!(
        map.partitions[2].type_id,
        "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
    );
    assert_eq!(map.partitions[2].name.as_deref(), Some("EFI System"));
    assert_eq!(
        (map.partitions[0].offset, map.partitions[0].size),
        (34 * 512, 31 * 512)
    );

    // Windows 7: 3 primary FAT16 + 4 logical in an EBR chain (tar, sparse).
    let tgz = c.join("dfir_ntfs__mbr-win-512.raw.tgz");
    if have("tar", "--version") && tgz.is_file() {
        let ok = Command::new("tar")
            .arg("xf")
            .arg(&tgz)
            .arg("-C")
            .arg(tmp.path())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            let map = partitions_of(&tmp.path().join("mbr-win-512.raw"));
            assert_eq!(map.partitions.len(), 7, "{:?}", map.partitions);
            let fat = map
                .partitions
                .iter()
                .filter(|p| p.filesystem == Some(Filesystem::Fat))
                .count();
            eprintln!("ok: mbr-win-512.raw: 7 partitions, {fat} FAT");
        }
    }

    // DFTT #1: 3 primary FAT + extended with 3 logical.
    let zip = c.join("sleuthkit-test-data__1-extend-part.zip");
    if zip.is_file() && have("unzip", "-v") {
        let dir = tmp.path().join("dftt1");
        let ok = Command::new("unzip")
            .args(["-q", "-o"])
            .arg(&zip)
            .arg("-d")
            .arg(&dir)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            let dd = find_file(&dir, "ext-part-test-2.dd").expect("ext-part-test-2.dd in the zip");
            let map = partitions_of(&dd);
            assert_eq!(map.partitions.len(), 6, "{:?}", map.partitions);
            eprintln!("ok: ext-part-test-2.dd: 6 partitions");
        }
    }
}

fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    for e in std::fs::read_dir(dir).ok()? {
        let p = e.ok()?.path();
        if p.is_dir() {
            if let Some(f) = find_file(&p, name) {
                return Some(f);
            }
        } else if p.file_name().is_some_and(|n| n == name) {
            return Some(p);
        }
    }
    None
}

#[test]
fn corpus_ntfs_volumes_are_found() {
    let Some(corpus) = corpus() else { return };
    let tmp = tempfile::tempdir().unwrap();
    // Bare NTFS volumes: one Scheme::None partition.
    for p in [
        corpus.join("ntfs/ColinFinck-ntfs__testfs1.img"),
        gunzip_to(&corpus.join("ntfs/dfir_ntfs__ntfs3.raw.gz"), tmp.path()),
        corpus.join("ntfs/velociraptor__partition_image.E01"),
        corpus.join("ntfs/ewf-forensic__ntfs_sample.E01"),
    ] {
        let map = partitions_of(&p);
        assert_eq!(map.partitions.len(), 1, "{}", p.display());
        assert_eq!(map.partitions[0].scheme, Scheme::None);
        assert_eq!(
            map.partitions[0].filesystem,
            Some(Filesystem::Ntfs),
            "{}",
            p.display()
        );
    }
    // MBR disk, NTFS at sector 128 (raw, and inside a VMDK).
    for p in [
        gunzip_to(
            &corpus.join("ntfs/dfir_ntfs__ntfs_index.raw.gz"),
            tmp.path(),
        ),
        corpus.join("containers/vmdk-rs__monolithicSparse.vmdk"),
    ] {
        let map = partitions_of(&p);
        assert_eq!(map.scheme, Scheme::Mbr);
        let ntfs: Vec<u64> = map
            .partitions
            .iter()
            .filter(|p| p.filesystem == Some(Filesystem::Ntfs))
            .map(|p| p.offset)
            .collect();
        assert_eq!(ntfs, vec![128 * 512], "{}", p.display());
    }
    // exFAT inside an E01.
    let map = partitions_of(&corpus.join("containers/ewf-forensic__exfat1.E01"));
    assert!(
        map.partitions
            .iter()
            .any(|p| p.filesystem == Some(Filesystem::Exfat)),
        "{:?}",
        map.partitions
    );
    // Boot sectors.
    for e in std::fs::read_dir(corpus.join("ntfs/boot_sectors")).unwrap() {
        let p = e.unwrap().path();
        let b = std::fs::read(&p).unwrap();
        assert_eq!(
            volume::sniff_filesystem(&b[..512]),
            Filesystem::Ntfs,
            "{}",
            p.display()
        );
    }
    // DFTT #10: two NTFS partitions at sectors 63 and 96390 (NT4 alignment).
    let zip = corpus.join("ntfs/sleuthkit-test-data__10b-ntfs-autodetect.zip");
    if zip.is_file() && have("unzip", "-v") {
        let dir = tmp.path().join("dftt10");
        let ok = Command::new("unzip")
            .args(["-q", "-o"])
            .arg(&zip)
            .arg("-d")
            .arg(&dir)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if let Some(dd) = ok.then(|| find_file(&dir, "10-ntfs-disk.dd")).flatten() {
            let map = partitions_of(&dd);
            let ntfs: Vec<u64> = map
                .partitions
                .iter()
                .filter(|p| p.type_id == "0x07")
                .map(|p| p.offset / 512)
                .collect();
            assert_eq!(ntfs, vec![63, 96390], "{:?}", map.partitions);
        }
    }
    // Windows 10 GPT disk (sparse 5 GiB): basic data partition at 67584.
    let tgz = corpus.join("ntfs/dfir_ntfs__vss_1_vol.tar.gz");
    if tgz.is_file() && have("tar", "--version") {
        let ok = Command::new("tar")
            .arg("xzf")
            .arg(&tgz)
            .arg("-C")
            .arg(tmp.path())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if let Some(raw) = ok.then(|| find_file(tmp.path(), "vss_1_vol.raw")).flatten() {
            let map = partitions_of(&raw);
            assert_eq!(map.scheme, Scheme::Gpt);
            let ntfs: Vec<u64> = map
                .partitions
                .iter()
                .filter(|p| p.filesystem == Some(Filesystem::Ntfs))
                .map(|p| p.offset / 512)
                .collect();
            assert_eq!(ntfs, vec![67584], "{:?}", map.partitions);
        }
    }
}

#[test]
fn hostile_partition_tables() {
    let tmp = tempfile::tempdir().unwrap();
    // EBR chain that loops (EBR 2 points back at EBR 1).
    let mut d = vec![0u8; 1 << 20];
    let put = |d: &mut [u8], sector: usize, slot: usize, kind: u8, lba: u32, n: u32| {
        let e = sector * 512 + 446 + slot * 16;
        d[e + 4] = kind;
        d[e + 8..e + 12].copy_from_slice(&lba.to_le_bytes());
        d[e + 12..e + 16].copy_from_slice(&n.to_le_bytes());
        d[sector * 512 + 510] = 0x55;
        d[sector * 512 + 511] = 0xAA;
    };
    put(&mut d, 0, 0, 0x05, 64, 1900);
    put(&mut d, 64, 0, 0x07, 1, 10);
    put(&mut d, 64, 1, 0x05, 100, 50);
    put(&mut d, 164, 0, 0x07, 1, 10);
    put(&mut d, 164, 1, 0x05, 100, 50); // -> 64 + 100 = 164 again
    let p = tmp.path().join("ebr-loop.dd");
    std::fs::write(&p, &d).unwrap();
    let map = partitions_of(&p);
    assert_eq!(map.partitions.len(), 2);
    assert!(
        map.notes.iter().any(|n| n.contains("loops")),
        "{:?}",
        map.notes
    );

    // GPT with an absurd entry count and a correct header CRC.
    let Some(corpus) = corpus() else { return };
    let raw = gunzip_to(
        &corpus.join("containers/dfir_ntfs__gpt-512-3p.raw.gz"),
        tmp.path(),
    );
    let mut b = std::fs::read(&raw).unwrap();
    b[512 + 80..512 + 84].copy_from_slice(&u32::MAX.to_le_bytes());
    b[512 + 16..512 + 20].fill(0);
    let size = u32::from_le_bytes(b[512 + 12..512 + 16].try_into().unwrap()) as usize;
    let crc = crc32(&b[512..512 + size]);
    b[512 + 16..512 + 20].copy_from_slice(&crc.to_le_bytes());
    // Damage the backup too, so that nothing can be trusted.
    let n = b.len();
    b[n - 512..n - 504].fill(0);
    let p = tmp.path().join("gpt-absurd.dd");
    std::fs::write(&p, &b).unwrap();
    let map = partitions_of(&p);
    assert_eq!(map.scheme, Scheme::None);
    assert!(
        map.notes.iter().any(|n| n.contains("absurd")),
        "{:?}",
        map.notes
    );
    assert!(
        map.notes.iter().any(|n| n.contains("scanned")),
        "{:?}",
        map.notes
    );

    // Only the primary damaged: the backup is used and that is said.
    let mut b = std::fs::read(&raw).unwrap();
    b[512 + 100] ^= 0xFF; // outside the header's 92 bytes: header CRC still ok
    b[1024] ^= 0xFF; // first entry: the entry array CRC no longer matches
    let p = tmp.path().join("gpt-primary-bad.dd");
    std::fs::write(&p, &b).unwrap();
    let map = partitions_of(&p);
    assert_eq!(map.scheme, Scheme::Gpt, "{:?}", map.notes);
    assert_eq!(map.partitions.len(), 3);
    assert!(
        map.notes.iter().any(|n| n.contains("backup")),
        "{:?}",
        map.notes
    );

    // Truncated disks of every length up to two sectors: no panic.
    for cut in [0usize, 1, 100, 511, 512, 513, 1000, 1024] {
        let p = tmp.path().join(format!("cut{cut}.dd"));
        std::fs::write(&p, &b[..cut]).unwrap();
        let img = image::open(&p).unwrap();
        let _ = volume::find_volumes(img.disk.as_ref());
    }
}

/// The GPT CRC-32, written here again so the test does not trust the code it
/// tests.
fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// Read throughput of every container relative to the raw image. Not a
/// timed assertion: it prints a table. Run with
/// `cargo test --release --test containers -- --ignored --nocapture throughput`
/// (set `VERSKEW_BENCH_MIB` to change the size of the generated disk).
#[test]
#[ignore]
fn throughput() {
    if !have("qemu-img", "--version") || !have("ewfacquire", "-V") {
        return;
    }
    let mib: u64 = std::env::var("VERSKEW_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let tmp = tempfile::tempdir().unwrap();
    let raw = tmp.path().join("disk.raw");
    // Half compressible text-like data, half pseudo-random, so compression
    // has work of both kinds.
    {
        let mut rng = Rng(42);
        let mut f = std::fs::File::create(&raw).unwrap();
        let mut buf = vec![0u8; 1 << 20];
        for i in 0..mib {
            if i % 2 == 0 {
                for (j, b) in buf.iter_mut().enumerate() {
                    *b = b"verskew throughput test "[(j + i as usize) % 24];
                }
            } else {
                for c in buf.chunks_mut(8) {
                    c.copy_from_slice(&rng.next().to_le_bytes());
                }
            }
            std::io::Write::write_all(&mut f, &buf).unwrap();
        }
    }
    let mut made: Vec<(String, PathBuf)> = vec![("raw".into(), raw.clone())];
    let convert = |fmt: &str, opts: &[&str], name: &str| -> Option<PathBuf> {
        let out = tmp.path().join(name);
        let ok = Command::new("qemu-img")
            .args(["convert", "-O", fmt])
            .args(opts)
            .arg(&raw)
            .arg(&out)
            .status()
            .ok()?
            .success();
        ok.then_some(out)
    };
    for (label, fmt, opts, name) in [
        (
            "vhd fixed",
            "vpc",
            vec!["-o", "subformat=fixed,force_size=on"],
            "d-fixed.vhd",
        ),
        (
            "vhd dynamic",
            "vpc",
            vec!["-o", "force_size=on"],
            "d-dyn.vhd",
        ),
        ("vhdx", "vhdx", vec![], "d.vhdx"),
        ("vmdk sparse", "vmdk", vec![], "d.vmdk"),
        (
            "vmdk stream",
            "vmdk",
            vec!["-o", "subformat=streamOptimized"],
            "d-stream.vmdk",
        ),
        ("qcow2", "qcow2", vec![], "d.qcow2"),
        ("qcow2 compressed", "qcow2", vec!["-c"], "d-c.qcow2"),
    ] {
        if let Some(p) = convert(fmt, &opts, name) {
            made.push((label.into(), p));
        }
    }
    let e01 = tmp.path().join("d");
    let ok = Command::new("ewfacquire")
        .args(["-u", "-q", "-t"])
        .arg(&e01)
        .args(["-c", "deflate:fast", "-S", "4G"])
        .arg(&raw)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if ok {
        made.push(("e01 (deflate fast)".into(), tmp.path().join("d.E01")));
    }
    // Split raw: 64 MiB segments.
    {
        let data = std::fs::File::open(&raw).unwrap();
        let seg = 64u64 << 20;
        let mut i = 1;
        let mut at = 0;
        let len = data.metadata().unwrap().len();
        while at < len {
            let n = (len - at).min(seg) as usize;
            let mut buf = vec![0u8; n];
            data.read_exact_at(&mut buf, at).unwrap();
            std::fs::write(tmp.path().join(format!("s.{i:03}")), buf).unwrap();
            at += n as u64;
            i += 1;
        }
        made.push(("split raw".into(), tmp.path().join("s.001")));
    }

    // Best of three full sequential reads after one warm-up read.
    let time_read = |p: &Path| -> f64 {
        let img = image::open(p).unwrap();
        let size = img.disk.size().min(mib << 20);
        let _ = sha_disk(img.disk.as_ref(), size);
        let mut best = f64::MAX;
        let mut buf = vec![0u8; 1 << 20];
        for _ in 0..3 {
            let t = std::time::Instant::now();
            let mut at = 0;
            while at < size {
                let n = (size - at).min(1 << 20) as usize;
                img.disk.read_exact_at(at, &mut buf[..n]).unwrap();
                at += n as u64;
            }
            best = best.min(t.elapsed().as_secs_f64());
        }
        best
    };
    eprintln!("{mib} MiB virtual disk, sequential 1 MiB reads, warm cache, best of 3");
    eprintln!(
        "{:<22} {:>10} {:>10} {:>8}",
        "container", "MiB/s", "seconds", "x raw"
    );
    let times: Vec<f64> = made.iter().map(|(_, p)| time_read(p)).collect();
    let base = times[0];
    for ((label, _), secs) in made.iter().zip(times) {
        eprintln!(
            "{:<22} {:>10.0} {:>10.3} {:>8.1}",
            label,
            mib as f64 / secs,
            secs,
            secs / base
        );
    }
}

/// Runs a command, `false` (and a SKIPPED line) when it fails.
fn run(cmd: &mut Command) -> bool {
    match cmd.output() {
        Ok(o) if o.status.success() => true,
        Ok(o) => {
            eprintln!(
                "SKIPPED: {:?} failed: {}",
                cmd,
                String::from_utf8_lossy(&o.stderr).trim()
            );
            false
        }
        Err(e) => {
            eprintln!("SKIPPED: {cmd:?}: {e}");
            false
        }
    }
}

#[test]
fn qcow2_backing_chain_matches_qemu() {
    // No committed image has a backing file, so qemu-img/qemu-io make a
    // small chain here: base.raw <- mid.qcow2 (data, zero cluster) <-
    // top.qcow2 (compressed cluster, unaligned write). qemu-img converts the
    // top into the reference.
    if !have("qemu-img", "--version") || !have("qemu-io", "--version") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let mut rng = Rng(7);
    let base: Vec<u8> = (0..(3 << 20) / 8)
        .flat_map(|_| rng.next().to_le_bytes())
        .collect();
    std::fs::write(d.join("base.raw"), &base).unwrap();
    let qi = |args: &[&str]| {
        let mut c = Command::new("qemu-img");
        c.args(args).current_dir(d);
        run(&mut c)
    };
    let qio = |file: &str, cmds: &[&str]| {
        let mut c = Command::new("qemu-io");
        for x in cmds {
            c.args(["-c", x]);
        }
        c.arg(file).current_dir(d);
        run(&mut c)
    };
    // The top is bigger than its backing chain: the tail reads as zeros.
    let ok = qi(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        "-b",
        "base.raw",
        "-F",
        "raw",
        "mid.qcow2",
        "3M",
    ]) && qio(
        "mid.qcow2",
        &["write -P 0xab 65536 131072", "write -z 1048576 65536"],
    ) && qi(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        "-b",
        "mid.qcow2",
        "-F",
        "qcow2",
        "top.qcow2",
        "4M",
    ]) && qio(
        "top.qcow2",
        &[
            "write -P 0xcd 100000 5000",
            "write -c -P 0x5a 2097152 65536",
        ],
    );
    if !ok {
        return;
    }
    let top = d.join("top.qcow2");
    let img = image::open(&top).unwrap();
    assert_eq!(img.format, Format::Qcow2);
    assert_eq!(img.info.files.len(), 3, "{:?}", img.info.files);
    let reference = qemu_raw(&top, d).unwrap();
    assert_same(&img, &reference, "qcow2 backing chain");

    // The backing file missing: named in one line.
    std::fs::rename(d.join("base.raw"), d.join("gone.raw")).unwrap();
    let msg = image::open(&top).unwrap_err().to_string();
    assert!(
        msg.contains("mid.qcow2") && msg.contains("base.raw"),
        "{msg}"
    );

    // A chain that loops: mid's backing name patched to point at top.qcow2
    // (the names have the same length).
    let mut mid = std::fs::read(d.join("mid.qcow2")).unwrap();
    let off = u64::from_be_bytes(mid[8..16].try_into().unwrap()) as usize;
    let len = u32::from_be_bytes(mid[16..20].try_into().unwrap()) as usize;
    assert_eq!(&mid[off..off + len], b"base.raw");
    mid[off..off + len].copy_from_slice(b"top.qcow");
    std::fs::write(d.join("mid.qcow2"), &mid).unwrap();
    std::fs::copy(&top, d.join("top.qcow")).unwrap();
    let msg = image::open(&top).unwrap_err().to_string();
    assert!(msg.contains("loops") || msg.contains("deeper"), "{msg}");
}

#[test]
fn concurrent_reads_agree() {
    // One disk shared by 8 threads doing random reads: every container's
    // `read_exact_at(&self)` must be safe to share and give the same bytes.
    let made = tempfile::tempdir().unwrap();
    let images = derived_images(made.path());
    if images.is_empty() {
        eprintln!("SKIPPED: testdata/images.toml lists no container images yet");
        return;
    }
    for d in images {
        if !d.file.is_file() || !d.source.is_file() {
            continue;
        }
        let img = image::open(&d.file).unwrap();
        let want = std::fs::read(&d.source).unwrap();
        let disk: &dyn Disk = img.disk.as_ref();
        let size = disk.size().min(want.len() as u64);
        std::thread::scope(|s| {
            for t in 0..8u64 {
                let want = &want;
                let name = &d.name;
                s.spawn(move || {
                    let mut rng = Rng(0xC0FFEE + t);
                    for _ in 0..200 {
                        let off = rng.next() % size;
                        let len = (rng.next() % 40_000).min(size - off) as usize;
                        let mut buf = vec![0u8; len];
                        disk.read_exact_at(off, &mut buf).unwrap();
                        assert!(
                            buf[..] == want[off as usize..off as usize + len],
                            "{name}: thread {t}: {len} bytes at {off}"
                        );
                    }
                });
            }
        });
    }
}

/// The VHD checksum (one's complement of the byte sum), written here again.
fn vhd_checksum(b: &[u8], skip: usize) -> u32 {
    let sum = b
        .iter()
        .enumerate()
        .filter(|(i, _)| !(skip..skip + 4).contains(i))
        .fold(0u32, |a, (_, &x)| a.wrapping_add(u32::from(x)));
    !sum
}

#[test]
fn windows_differencing_vhd_reads_through_its_parent() {
    // The corpus has Windows' fat-differential.vhd but not its parent. We
    // give it one: a fixed VHD full of 0xEE with the unique id the child
    // expects, named as its locators say. Every sector must then read as
    // what qemu-img (which ignores the parent) reads from the child alone,
    // or, where qemu reads zeros, as the parent's 0xEE. Both kinds occur.
    let Some(corpus) = corpus() else { return };
    if !have("qemu-img", "--version") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let child = tmp.path().join("fat-differential.vhd");
    std::fs::copy(
        corpus.join("containers/dfvfs__fat-differential.vhd"),
        &child,
    )
    .unwrap();
    let bytes = std::fs::read(&child).unwrap();
    let dyn_at = u64::from_be_bytes(bytes[16..24].try_into().unwrap()) as usize;
    let parent_id: [u8; 16] = bytes[dyn_at + 40..dyn_at + 56].try_into().unwrap();
    let size = u64::from_be_bytes(bytes[48..56].try_into().unwrap());

    let mut parent = vec![0xEEu8; size as usize];
    let mut f = vec![0u8; 512];
    f[..8].copy_from_slice(b"conectix");
    f[8..12].copy_from_slice(&2u32.to_be_bytes());
    f[12..16].copy_from_slice(&0x0001_0000u32.to_be_bytes());
    f[16..24].copy_from_slice(&u64::MAX.to_be_bytes());
    f[28..32].copy_from_slice(b"test");
    f[40..48].copy_from_slice(&size.to_be_bytes());
    f[48..56].copy_from_slice(&size.to_be_bytes());
    f[60..64].copy_from_slice(&2u32.to_be_bytes());
    f[68..84].copy_from_slice(&parent_id);
    let c = vhd_checksum(&f, 64);
    f[64..68].copy_from_slice(&c.to_be_bytes());
    parent.extend(f);
    std::fs::write(tmp.path().join("fat-parent.vhd"), &parent).unwrap();

    let img = image::open(&child).unwrap();
    assert_eq!(img.info.files.len(), 2);
    let alone = qemu_raw(&child, tmp.path()).unwrap();
    let alone = std::fs::read(alone).unwrap();
    let mut ours = vec![0u8; img.disk.size() as usize];
    img.disk.read_exact_at(0, &mut ours).unwrap();
    assert_eq!(ours.len(), alone.len());
    let (mut from_child, mut from_parent) = (0, 0);
    for (s, (a, b)) in ours.chunks(512).zip(alone.chunks(512)).enumerate() {
        if a == b && a.iter().any(|&x| x != 0xEE) {
            from_child += 1;
        } else if a.iter().all(|&x| x == 0xEE) && b.iter().all(|&x| x == 0) {
            from_parent += 1;
        } else {
            panic!("sector {s}: neither the child's data nor the parent's");
        }
    }
    eprintln!(
        "fat-differential.vhd: {from_child} sectors from the child, {from_parent} from the parent"
    );
    assert!(from_child > 0 && from_parent > 0);

    // The wrong parent (another unique id) is refused.
    parent[size as usize + 68] ^= 1;
    let n = parent.len();
    let c = vhd_checksum(&parent[n - 512..], 64);
    parent[n - 512 + 64..n - 512 + 68].copy_from_slice(&c.to_be_bytes());
    std::fs::write(tmp.path().join("fat-parent.vhd"), &parent).unwrap();
    let msg = image::open(&child).unwrap_err().to_string();
    assert!(msg.contains("unique id"), "{msg}");
}

#[test]
fn dirty_vhdx_log_is_refused() {
    // The factory's VHDX with a log GUID set in both headers (CRC-32C
    // fixed): verskew must refuse rather than replay or ignore the log.
    let tmp = tempfile::tempdir().unwrap();
    let Some(src) = common::image_file(
        "containers/nt4-iis4-kb291589-mbr63.vhdx",
        "vhdx",
        Some("nt4-iis4-kb291589-mbr63.img"),
        tmp.path(),
    ) else {
        return;
    };
    let mut b = std::fs::read(&src).unwrap();
    for h in [0x10000usize, 0x20000] {
        if &b[h..h + 4] != b"head" {
            continue;
        }
        b[h + 48..h + 64].copy_from_slice(&[0x11; 16]);
        if u32::from_le_bytes(b[h + 68..h + 72].try_into().unwrap()) == 0 {
            b[h + 68..h + 72].copy_from_slice(&(1u32 << 20).to_le_bytes());
        }
        b[h + 4..h + 8].fill(0);
        let crc = ::vhdx::header::crc32c(&b[h..h + 4096]);
        b[h + 4..h + 8].copy_from_slice(&crc.to_le_bytes());
    }
    let p = tmp.path().join("dirty.vhdx");
    std::fs::write(&p, &b).unwrap();
    let msg = image::open(&p).unwrap_err().to_string();
    assert!(msg.contains("dirty.vhdx") && msg.contains("log"), "{msg}");
    assert!(!msg.contains('\n'));
}

#[test]
fn vmdk_snapshot_chain_matches_qemu() {
    // base.vmdk <- child.vmdk (parentFileNameHint), made with qemu-img and
    // written into with qemu-io; qemu-img converts the child for reference.
    if !have("qemu-img", "--version") || !have("qemu-io", "--version") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let mut rng = Rng(99);
    let base: Vec<u8> = (0..(3 << 20) / 8)
        .flat_map(|_| rng.next().to_le_bytes())
        .collect();
    std::fs::write(d.join("b.raw"), &base).unwrap();
    let ok = run(Command::new("qemu-img")
        .args(["convert", "-O", "vmdk", "b.raw", "base.vmdk"])
        .current_dir(d))
        && run(Command::new("qemu-img")
            .args([
                "create",
                "-q",
                "-f",
                "vmdk",
                "-b",
                "base.vmdk",
                "-F",
                "vmdk",
                "child.vmdk",
            ])
            .current_dir(d))
        && run(Command::new("qemu-io")
            .args(["-c", "write -P 0x77 70000 200000", "child.vmdk"])
            .current_dir(d));
    if !ok {
        return;
    }
    let child = d.join("child.vmdk");
    let img = image::open(&child).unwrap();
    assert_eq!(img.info.get("vmdk.chain_depth"), Some("2"));
    assert!(
        img.info.files.iter().any(|f| f.ends_with("base.vmdk")),
        "{:?}",
        img.info.files
    );
    let reference = qemu_raw(&child, d).unwrap();
    assert_same(&img, &reference, "vmdk snapshot chain");
    std::fs::remove_file(d.join("base.vmdk")).unwrap();
    let msg = image::open(&child).unwrap_err().to_string();
    assert!(
        msg.contains("child.vmdk") && msg.contains("missing"),
        "{msg}"
    );
}

#[test]
fn vmdk_subformats_match_qemu() {
    // The factory commits monolithicSparse and streamOptimized; the
    // multi-file VMDK layouts are made here from the same raw source with
    // qemu-img, which also makes the reference.
    let src = repo().join("testdata/nt4-iis4-kb291589-mbr63.img");
    if !src.is_file() || !have("qemu-img", "--version") {
        eprintln!("SKIPPED: raw source or qemu-img missing");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    for sub in [
        "monolithicFlat",
        "twoGbMaxExtentSparse",
        "twoGbMaxExtentFlat",
    ] {
        let out = tmp.path().join(format!("{sub}.vmdk"));
        let ok = run(Command::new("qemu-img")
            .args(["convert", "-O", "vmdk", "-o"])
            .arg(format!("subformat={sub}"))
            .arg(&src)
            .arg(&out));
        if !ok {
            continue;
        }
        let img = image::open(&out).unwrap_or_else(|e| panic!("{sub}: {e}"));
        assert_eq!(img.format, Format::Vmdk);
        assert!(img.info.files.len() >= 2, "{sub}: {:?}", img.info.files);
        assert_same(&img, &src, sub);
        // An extent removed: named.
        let extent = img.info.files[1].clone();
        drop(img);
        std::fs::remove_file(&extent).unwrap();
        let msg = image::open(&out).unwrap_err().to_string();
        assert!(
            msg.contains(&*extent.file_name().unwrap().to_string_lossy()),
            "{sub}: {msg}"
        );
        eprintln!("ok: {sub}");
    }
}

#[test]
fn factory_images_put_ntfs_where_the_manifest_says() {
    // Every undamaged image of the factory (bare, MBR at sector 63, GPT, and
    // every container) has exactly one volume of its filesystem (NTFS unless
    // the manifest says `filesystem = "fat16"` or so), at `partition_offset`.
    let manifest = repo().join("testdata/images.toml");
    let Ok(text) = std::fs::read_to_string(&manifest) else {
        eprintln!("SKIPPED: no testdata/images.toml");
        return;
    };
    let doc: toml::Value = toml::from_str(&text).unwrap();
    let images = doc
        .get("image")
        .and_then(|v| v.as_array())
        .cloned()
        .unwrap_or_default();
    let mut checked = 0;
    for i in &images {
        let get = |k: &str| i.get(k).and_then(|v| v.as_str()).unwrap_or("");
        let Some(offset) = i.get("partition_offset").and_then(|v| v.as_integer()) else {
            continue;
        };
        if !get("damaged").is_empty() {
            continue;
        }
        let path = repo().join("testdata").join(get("file"));
        if !path.is_file() {
            continue;
        }
        let map = partitions_of(&path);
        // `filesystem` is absent for NTFS 3.1; FAT images name their type.
        let kind = match get("filesystem") {
            fs if fs.starts_with("fat") => Filesystem::Fat,
            _ => Filesystem::Ntfs,
        };
        let ntfs: Vec<(u64, Scheme)> = map
            .partitions
            .iter()
            .filter(|p| p.filesystem == Some(kind))
            .map(|p| (p.offset, p.scheme))
            .collect();
        let want_scheme = match get("layout") {
            "mbr" => Scheme::Mbr,
            "gpt" => Scheme::Gpt,
            _ => Scheme::None,
        };
        // An image with several volumes lists each (`[[image.volumes]]`);
        // its NTFS ones are where the manifest says, and so are its others.
        let volumes = i.get("volumes").and_then(|v| v.as_array());
        let mut want: Vec<(u64, Scheme)> = match volumes {
            Some(vols) => vols
                .iter()
                .filter(|v| {
                    v.get("filesystem")
                        .and_then(|f| f.as_str())
                        .is_some_and(|f| f.starts_with("ntfs"))
                })
                .filter_map(|v| Some((v.get("offset")?.as_integer()? as u64, want_scheme)))
                .collect(),
            None => vec![(offset as u64, want_scheme)],
        };
        want.sort_by_key(|w| w.0);
        assert_eq!(
            ntfs,
            want,
            "{}: {:?} {:?}",
            get("name"),
            map.partitions,
            map.notes
        );
        for v in volumes.into_iter().flatten() {
            let at = v.get("offset").and_then(|o| o.as_integer()).unwrap_or(-1) as u64;
            let fs = v.get("filesystem").and_then(|f| f.as_str()).unwrap_or("");
            let found = map.partitions.iter().find(|p| p.offset == at);
            let kind = if fs.starts_with("fat") {
                Filesystem::Fat
            } else {
                Filesystem::Ntfs
            };
            assert_eq!(
                found.and_then(|p| p.filesystem),
                Some(kind),
                "{}: volume {fs} at {at}",
                get("name")
            );
        }
        checked += 1;
    }
    eprintln!("{checked} factory images checked");
}

#[test]
fn mutated_containers_never_panic_or_hang() {
    // Random bit flips in the metadata-heavy parts of each committed
    // container: opening and reading (capped at
    // 2 MiB, as a crafted size could claim exabytes) must end with a value
    // or an error. A panic inside a third-party parser is caught and turned
    // into an error by the image layer; the default hook still prints it.
    let made = tempfile::tempdir().unwrap();
    let images = derived_images(made.path());
    if images.is_empty() {
        eprintln!("SKIPPED: testdata/images.toml lists no container images yet");
        return;
    }
    let rounds: usize = std::env::var("VERSKEW_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = Rng(0xBAD5EED);
    for d in &images {
        if !d.file.is_file() || d.format == "split-raw" {
            continue;
        }
        let original = std::fs::read(&d.file).unwrap();
        let name = d.file.file_name().unwrap();
        let (mut opened, mut refused) = (0, 0);
        for _ in 0..rounds {
            let mut b = original.clone();
            for _ in 0..1 + rng.next() % 8 {
                let len = b.len() as u64;
                // Where the structures are: headers at the start, VHDX
                // headers and region tables at 64-320 KiB, tables and
                // footers at the end.
                let at = match rng.next() % 10 {
                    0..=4 => rng.next() % len.min(4096),
                    5 | 6 => (65536 + rng.next() % (256 << 10)).min(len - 1),
                    _ => len - 1 - rng.next() % len.min(8192),
                };
                b[at as usize] ^= 1 << (rng.next() % 8);
            }
            // Segment sets: mutate the first, keep the others as they are.
            let p = tmp.path().join(name);
            std::fs::write(&p, &b).unwrap();
            if d.format == "ewf" {
                let second = d.file.with_extension("E02");
                if second.is_file() {
                    std::fs::copy(&second, p.with_extension("E02")).unwrap();
                }
            }
            match image::open(&p) {
                Err(e) => {
                    assert!(!e.to_string().contains('\n'));
                    refused += 1;
                }
                Ok(img) => {
                    let n = img.disk.size().min(2 << 20) as usize;
                    let mut buf = vec![0u8; n];
                    let _ = img.disk.read_exact_at(0, &mut buf);
                    opened += 1;
                }
            }
        }
        eprintln!("{}: {opened} opened, {refused} refused", d.name);
    }
}

#[test]
fn damaged_e01_fails_verification() {
    // One flipped bit in the chunk data of an E01: the stored hash must not
    // verify (either a mismatch or a read error naming the file).
    let src = repo().join("testdata/containers/nt4-iis4-kb291589-mbr63.E01");
    if !src.is_file() {
        eprintln!("SKIPPED: {} not committed yet", src.display());
        return;
    }
    let clean = image::open(&src).unwrap();
    let checks = image::verify_stored_hashes(&clean, &|_, _| {}).unwrap();
    assert!(!checks.is_empty() && checks.iter().all(|c| c.matches));

    let mut b = std::fs::read(&src).unwrap();
    let mid = b.len() / 2;
    b[mid] ^= 0x10;
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("flipped.E01");
    std::fs::write(&p, &b).unwrap();
    let Ok(img) = image::open(&p) else { return };
    match image::verify_stored_hashes(&img, &|_, _| {}) {
        Ok(checks) => assert!(checks.iter().any(|c| !c.matches), "{checks:?}"),
        Err(e) => assert!(e.to_string().contains("flipped.E01"), "{e}"),
    }
}
