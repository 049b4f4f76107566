//! Fills `fuzz/corpus/<target>/` with seeds from `testdata/` and, when it is
//! there, `../shared/corpus` (never copied into the repository: fuzz/corpus
//! is git-ignored). Run from anywhere: `cargo run --bin seeds` in `fuzz/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use verskew::fs::NtfsVolume;
use verskew::volume::{self, Filesystem};
use verskew_fuzz::harness::{self, Landmarks, MemDisk};

fn corpus_dir(target: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn put(target: &str, name: &str, bytes: &[u8]) {
    if !bytes.is_empty() {
        std::fs::write(
            corpus_dir(target).join(name.replace(['/', '\\'], "_")),
            bytes,
        )
        .unwrap();
    }
}

/// A file's bytes, unpacking .gz and .xz with the system tools.
fn load(p: &Path) -> Option<Vec<u8>> {
    let tool = match p.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "gz" => Some("gzip"),
        "xz" => Some("xz"),
        "zip" | "7z" | "tgz" => return None,
        _ => None,
    };
    match tool {
        Some(t) => Command::new(t)
            .arg("-dc")
            .arg(p)
            .output()
            .ok()
            .map(|o| o.stdout),
        None => std::fs::read(p).ok(),
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| r.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

fn main() {
    let testdata = verskew_fuzz::testdata();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    let have_corpus = corpus.is_dir();
    if !have_corpus {
        eprintln!(
            "corpus not found at {}: testdata seeds only",
            corpus.display()
        );
    }

    // Whole images: volume heads, raw NTFS, hives, DLLs, index nodes.
    for img in files(&testdata)
        .into_iter()
        .chain(files(&testdata.join("damaged")))
    {
        let name = img.file_name().unwrap().to_string_lossy().to_string();
        // A large volume is kept as split raw: its first segment holds the
        // boot sector, the FATs and the root directory.
        if !name.ends_with(".img") && !name.ends_with(".001") {
            continue;
        }
        let bytes = std::fs::read(&img).unwrap();
        put("volume", &name, &bytes[..bytes.len().min(65_536)]);
        let lm = Landmarks::find(&bytes);
        let disk = MemDisk::new(bytes.clone(), true);
        let Ok(parts) = volume::find_partitions(&disk) else {
            continue;
        };
        // FAT volumes (the FAT16/FAT32 and boot-partition images), their
        // first 4 MiB: the boot sector, the FATs and the root directory.
        for p in parts
            .iter()
            .filter(|p| p.filesystem == Some(Filesystem::Fat))
        {
            let at = p.offset as usize;
            let end = at
                .saturating_add((p.size as usize).min(4 << 20))
                .min(bytes.len());
            if at < end {
                put("fat", &format!("{name}-{}", p.index), &bytes[at..end]);
            }
        }
        for p in parts
            .iter()
            .filter(|p| p.filesystem == Some(Filesystem::Ntfs))
        {
            if p.offset == 0 {
                put("ntfs", &name, &bytes);
            }
            let Ok(vol) = NtfsVolume::open(&disk, p.offset, p.size) else {
                continue;
            };
            for h in ["SYSTEM", "SOFTWARE"] {
                for root in ["WINNT", "WINDOWS"] {
                    if let Ok(d) = vol
                        .lookup(&format!(r"\{root}\system32\config\{h}"))
                        .and_then(|e| vol.read(&e))
                    {
                        put("hive", &format!("{name}-{h}"), &d);
                    }
                }
            }
            for root in ["WINNT", "WINDOWS"] {
                let Ok(dir) = vol.lookup(&format!(r"\{root}\system32\inetsrv")) else {
                    continue;
                };
                for e in vol.list(&dir).unwrap_or_default().into_iter().take(6) {
                    if let Ok(d) = vol.read(&e) {
                        put("pe", &format!("{name}-{}", e.name()), &d);
                    }
                }
            }
        }
        // MFT record seeds (the first byte picks the cluster size): the NTFS
        // 1.2 images' 42-byte headers beside the seed's 3.1 ones.
        if name == "nt4-iis4-kb291589.img" || name.contains("-ntfs12") {
            for (i, &r) in lm.mft.iter().enumerate().take(40) {
                let mut s = vec![3u8];
                s.extend(&bytes[r..(r + 1024).min(bytes.len())]);
                put("mft_record", &format!("{name}-{i}"), &s);
            }
        }
        // Index seeds: each INDX block behind the first $INDEX_ROOT value.
        if let Some(root) = first_index_root(&bytes, &lm) {
            for (i, &b) in lm.indx.iter().enumerate().take(8) {
                let mut s = (root.len() as u16).to_le_bytes().to_vec();
                s.extend(&root);
                s.extend([1, 0xFF]);
                s.extend(&bytes[b..(b + 4096).min(bytes.len())]);
                put("index", &format!("{name}-{i}"), &s);
            }
        }
        for i in 0..lm.indx.len().min(2) {
            put(
                "index",
                &format!("{name}-raw{i}"),
                &bytes[lm.indx[i]..(lm.indx[i] + 4096).min(bytes.len())],
            );
        }
    }

    // Patch targets: the ops stream starts empty or with one op per kind.
    for base in 0u8..5 {
        put("ntfs_patch", &format!("base{base}"), &[base]);
        put("diagnose", &format!("base{base}"), &[base]);
        for kind in 0u8..8 {
            for region in 0u8..7 {
                let op = [base, region << 4 | kind, 3, 0x10, 0x00, 0x21, 7, 0, 0];
                put("ntfs_patch", &format!("base{base}-op{kind}-{region}"), &op);
                if region % 3 == 0 {
                    put("diagnose", &format!("base{base}-op{kind}-{region}"), &op);
                }
            }
        }
    }

    // LZNT1: one compressed unit of a 4 KiB cluster volume, then a sparse tail.
    let lznt = [3u8, 4, 115, 0, 2, 0, 0, 1, 0, 0, 0, 15, 1];
    let mut seed = lznt.to_vec();
    seed.extend(b"\x3f\xb0\x00IIS4 w3svc.dll IIS4 w3svc.dll IIS4 w3svc.dll".iter());
    put("lznt1", "synthetic", &seed);

    // IIS 7+ configuration: a small applicationHost.config with every
    // element the reader takes, in UTF-8 and UTF-16LE, and a redirection.
    let config = r#"<?xml version="1.0"?><configuration><configSections><sectionGroup name="system.webServer"><section name="globalModules"/><sectionGroup name="rewrite"><section name="rules"/></sectionGroup></sectionGroup></configSections><system.applicationHost><applicationPools><add name="A" enable32BitAppOnWin64="true" managedRuntimeVersion="v2.0" managedPipelineMode="Classic"/><applicationPoolDefaults managedRuntimeVersion="v4.0"/></applicationPools><sites><site name="S" id="1"><application path="/" applicationPool="A"><virtualDirectory path="/" physicalPath="%SystemDrive%\inetpub"/></application></site><applicationDefaults applicationPool="A"/></sites></system.applicationHost><system.webServer><globalModules><add name="M" image="%windir%\System32\inetsrv\m.dll" preCondition="bitness32,integratedMode"/><remove name="X"/></globalModules><isapiFilters><filter name="F" path="%ProgramFiles%\f.dll" enabled="false"/></isapiFilters></system.webServer><location path=""><system.webServer><modules><add name="M"/><clear/></modules></system.webServer></location></configuration>"#;
    put("iis_config", "applicationHost", config.as_bytes());

    // Imports and exports: the mingw DLLs the loader images are built from
    // (pefile-checked, src/pe/testdata/imports).
    let imports = Path::new(env!("CARGO_MANIFEST_DIR")).join("../src/pe/testdata/imports");
    for f in files(&imports) {
        if f.extension().is_some_and(|e| e == "dll") {
            if let Ok(b) = std::fs::read(&f) {
                put("pe_imports", &f.file_name().unwrap().to_string_lossy(), &b);
            }
        }
    }
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(config.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    put("iis_config", "applicationHost-utf16", &utf16);
    put(
        "iis_config",
        "redirection",
        br#"<configuration><configurationRedirection enabled="true" path="\\f\c"/></configuration>"#,
    );

    // Containers of our own.
    for c in files(&testdata.join("containers")) {
        let b = std::fs::read(&c).unwrap();
        let name = c.file_name().unwrap().to_string_lossy().to_string();
        put("image_open", &name, &b[..b.len().min(1 << 20)]);
    }

    if !have_corpus {
        return;
    }
    for f in files(&corpus.join("containers"))
        .into_iter()
        .chain(files(&corpus.join("containers/fuzz")))
    {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let Some(b) = load(&f) else { continue };
        if name.contains("mbr")
            || name.contains("gpt")
            || name.contains("MBR")
            || name.contains("volume_system")
        {
            put("volume", &name, &b[..b.len().min(65_536)]);
        }
        if b.len() <= 1 << 20 {
            put("image_open", &name, &b);
        }
    }
    for f in files(&corpus.join("ntfs"))
        .into_iter()
        .chain(files(&corpus.join("ntfs/fuzz")))
    {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".img") || name.contains("clusterfuzz") || name.ends_with(".raw.gz") {
            if let Some(b) = load(&f) {
                put("ntfs", &name, &b[..b.len().min(4 << 20)]);
            }
        }
    }
    for f in files(&corpus.join("ntfs/boot_sectors")) {
        if let Some(b) = load(&f) {
            put("volume", &f.file_name().unwrap().to_string_lossy(), &b);
        }
    }
    for f in files(&corpus.join("ntfs/mft_extracts")) {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        if name.contains("I30") {
            put("index", &name, &load(&f).unwrap_or_default());
        }
        if name.contains("lznt1_real.bin") {
            let mut s = vec![3u8, 4, 115, 0, 2, 0, 0, 1, 0, 0, 0, 15, 1];
            s.extend(load(&f).unwrap_or_default());
            put("lznt1", &name, &s);
        }
    }
    for dir in [corpus.join("hives"), corpus.join("hives/yarp")] {
        for f in files(&dir) {
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            if name.contains(".LOG") || name.contains("log") {
                continue;
            }
            if let Some(b) = load(&f) {
                if b.len() <= 600 * 1024 {
                    put("hive", &name, &b);
                }
            }
        }
    }
    // hive_log: `[hive length, u32 LE][hive][log]` for each dirty hive of
    // yarp's with a log beside it (`X` + `X.LOG1`).
    for f in files(&corpus.join("hives/yarp")) {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let Some(hive_name) = name.strip_suffix(".LOG1") else {
            continue;
        };
        if let (Some(hive), Some(log)) = (load(&f.with_file_name(hive_name)), load(&f)) {
            let mut s = (hive.len() as u32).to_le_bytes().to_vec();
            s.extend(hive);
            s.extend(log);
            put("hive_log", hive_name, &s);
            // Two new-format logs: the same with `X.LOG2`, in two-log mode.
            if let (Some(hive), Some(log1), Some(log2)) = (
                load(&f.with_file_name(hive_name)),
                load(&f),
                load(&f.with_file_name(format!("{hive_name}.LOG2"))),
            ) {
                let s = harness::encode_hive_new_logs(&hive, &log1, &log2);
                put("hive_log", &format!("{hive_name}.both"), &s);
            }
        }
    }
    for f in files(&corpus.join("pe")) {
        if let Some(b) = load(&f) {
            if b.len() <= 256 * 1024 {
                put("pe", &f.file_name().unwrap().to_string_lossy(), &b);
            }
        }
    }
}

/// The value of the first `$INDEX_ROOT` (type 0x90) in the image's MFT records.
fn first_index_root(img: &[u8], lm: &Landmarks) -> Option<Vec<u8>> {
    let le16 = |at: usize| {
        img.get(at..at + 2)
            .map(|s| u16::from_le_bytes([s[0], s[1]]) as usize)
    };
    let le32 = |at: usize| {
        img.get(at..at + 4)
            .map(|s| u32::from_le_bytes(s.try_into().unwrap()) as usize)
    };
    for &r in &lm.mft {
        let mut a = r + le16(r + 0x14)?;
        while a + 0x18 < r + 1024 {
            let (ty, len) = (le32(a)?, le32(a + 4)?);
            if ty == 0xFFFF_FFFF || len < 0x18 {
                break;
            }
            if ty == 0x90 {
                let vlen = le32(a + 0x10)?;
                let voff = le16(a + 0x14)?;
                return img.get(a + voff..a + voff + vlen).map(|s| s.to_vec());
            }
            a += len;
        }
    }
    None
}
