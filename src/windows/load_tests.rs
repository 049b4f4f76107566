//! The loader's hive opening: a dirty hive's `.LOG` is found beside it and
//! replayed; a hive without a usable log is read dirty with the reason. Uses
//! yarp's hives from the third-party corpus (skipped, visibly, without it)
//! on a small in-memory volume.

use std::borrow::Cow;
use std::path::PathBuf;

use super::load::find_installs;
use super::{HiveState, Scope};
use crate::fs::{Entry, FileData, FileId, FsError, Volume};
use crate::volume::Filesystem;

/// Files by path; every prefix of a path is a directory.
pub(super) struct MemVolume(pub(super) Vec<(String, Vec<u8>)>);

impl MemVolume {
    fn entry(&self, path: &str) -> Option<Entry> {
        let want = path.trim_end_matches('\\').to_ascii_lowercase();
        let want = if want.is_empty() {
            "\\".to_string()
        } else {
            want
        };
        let found = self.0.iter().enumerate().find_map(|(i, (p, b))| {
            let lower = p.to_ascii_lowercase();
            if lower == want {
                Some((p.clone(), i as u64 + 1, false, b.len() as u64))
            } else if want == "\\" || lower.starts_with(&format!("{want}\\")) {
                let stored = if want == "\\" {
                    "\\".into()
                } else {
                    p[..want.len()].to_string()
                };
                Some((stored, 1000 + want.len() as u64, true, 0))
            } else {
                None
            }
        })?;
        Some(Entry {
            path: found.0,
            id: FileId(found.1),
            metadata: false,
            is_dir: found.2,
            size: found.3,
            created: None,
            modified: None,
            mft_modified: None,
            compressed: false,
            error: None,
        })
    }
}

impl Volume for MemVolume {
    fn kind(&self) -> Filesystem {
        Filesystem::Unknown
    }
    fn label(&self) -> Option<String> {
        None
    }
    fn cluster_size(&self) -> u32 {
        512
    }
    fn degraded(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    fn root(&self) -> Result<Entry, FsError> {
        self.lookup("\\")
    }
    fn lookup(&self, path: &str) -> Result<Entry, FsError> {
        self.entry(path)
            .ok_or_else(|| FsError::NotFound { path: path.into() })
    }
    fn list(&self, dir: &Entry) -> Result<Vec<Entry>, FsError> {
        let base = dir.path.trim_end_matches('\\').to_ascii_lowercase();
        let mut names: Vec<String> = self
            .0
            .iter()
            .filter_map(|(p, _)| {
                let rest = p.get(base.len() + 1..)?;
                p.to_ascii_lowercase()
                    .starts_with(&format!("{base}\\"))
                    .then(|| rest.split('\\').next().unwrap_or("").to_string())
            })
            .collect();
        names.sort();
        names.dedup();
        names
            .iter()
            .map(|n| self.lookup(&format!("{}\\{n}", dir.path.trim_end_matches('\\'))))
            .collect()
    }
    fn read(&self, entry: &Entry) -> Result<FileData<'_>, FsError> {
        let (_, b) = self
            .0
            .iter()
            .find(|(p, _)| p.eq_ignore_ascii_case(&entry.path))
            .ok_or_else(|| FsError::NotFound {
                path: entry.path.clone(),
            })?;
        Ok(Cow::Borrowed(b))
    }
    fn names_equal(&self, a: &str, b: &str) -> bool {
        a.eq_ignore_ascii_case(b)
    }
}

fn yarp(name: &str) -> Option<Vec<u8>> {
    let dir = std::env::var_os("VERSKEW_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    let p = dir.join("hives/yarp").join(name);
    let b = std::fs::read(&p).ok();
    if b.is_none() {
        eprintln!("SKIPPED: {} not found", p.display());
    }
    b
}

#[test]
fn a_dirty_hive_is_replayed_from_its_log_and_one_without_is_read_dirty() {
    let (Some(dirty), Some(log), Some(bad)) = (
        yarp("yarp__OldDirtyHive_OldDirtyHive"),
        yarp("yarp__OldDirtyHive_OldDirtyHive.LOG1"),
        yarp("yarp__BadLogHive1_BadLogHive.LOG1"),
    ) else {
        return;
    };
    let config = r"\WINNT\system32\config";
    let vol = MemVolume(vec![
        (format!(r"{config}\SYSTEM"), dirty.clone()),
        // Found case-insensitively, as Volume::lookup does.
        (format!(r"{config}\system.log"), log),
        (format!(r"{config}\SOFTWARE"), dirty),
        (format!(r"{config}\SOFTWARE.LOG"), bad),
    ]);
    let mut unreadable = Vec::new();
    let installs = find_installs(&vol, 0, &Scope::default(), &mut unreadable);
    assert_eq!(installs.len(), 1);
    let hive = |n: &str| installs[0].hives.iter().find(|h| h.name == n).unwrap();
    let system = hive("SYSTEM");
    assert_eq!(system.state_id(), "replayed");
    assert!(!system.dirty);
    assert_eq!(
        system.state,
        Some(HiveState::Replayed {
            log: format!(r"{config}\system.log")
        })
    );
    let software = hive("SOFTWARE");
    assert_eq!(software.state_id(), "dirty");
    assert!(software.dirty);
    let why = software.dirty_reason().unwrap();
    assert!(
        why.contains("SOFTWARE.LOG") && why.contains("checksum"),
        "{why}"
    );
}

/// SYSTEM and SOFTWARE of the seed image, read with our own NTFS reader.
fn seed_hives() -> (Vec<u8>, Vec<u8>) {
    let img = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/nt4-iis4-kb291589.img");
    let img = crate::image::open(&img).unwrap();
    let vol = crate::fs::NtfsVolume::open(img.disk.as_ref(), 0, img.disk.size()).unwrap();
    let read = |p: &str| vol.read(&vol.lookup(p).unwrap()).unwrap().into_owned();
    (
        read(r"\WINNT\system32\config\SYSTEM"),
        read(r"\WINNT\system32\config\SOFTWARE"),
    )
}

fn load(files: Vec<(&str, Vec<u8>)>) -> super::Install {
    let vol = MemVolume(files.into_iter().map(|(p, b)| (p.to_string(), b)).collect());
    let mut unreadable = Vec::new();
    let mut installs = find_installs(&vol, 0, &Scope::default(), &mut unreadable);
    assert_eq!(installs.len(), 1);
    installs.remove(0)
}

#[test]
fn an_unusable_hive_falls_back_to_its_alternate_copies_in_order() {
    let (system, software) = seed_hives();
    // The damaged image's way: the base block zeroed, the bins intact.
    let mut zeroed = system.clone();
    zeroed[..4096].fill(0);
    let szdd = b"SZDD\x88\xF0\x27\x33A\x00\x10\x00\x00\xff".to_vec();
    let cfg = r"\WINNT\system32\config";
    let hive = |i: &super::Install, n: &str| i.hives.iter().find(|h| h.name == n).unwrap().clone();

    // SYSTEM.ALT first, before repair\.
    let i = load(vec![
        (r"\WINNT\system32\config\SYSTEM", zeroed.clone()),
        (r"\WINNT\system32\config\SYSTEM.ALT", system.clone()),
        (r"\WINNT\system32\config\SOFTWARE", software.clone()),
        (r"\WINNT\repair\SYSTEM", system.clone()),
    ]);
    let s = hive(&i, "SYSTEM");
    assert_eq!(
        (s.state_id(), s.path.as_str()),
        ("alternate", r"\WINNT\system32\config\SYSTEM.ALT")
    );
    assert!(!s.dirty && s.error.is_none());
    let why = s.state_reason().unwrap();
    assert!(why.starts_with(&format!(r"{cfg}\SYSTEM: ")), "{why}");
    assert!(
        i.control_set.is_some(),
        "the control set is read from the copy"
    );
    assert!(i
        .unreadable
        .iter()
        .any(|u| u.path == format!(r"{cfg}\SYSTEM")));
    assert_eq!(hive(&i, "SOFTWARE").state_id(), "primary");

    // A damaged SYSTEM.ALT and a compressed repair copy are skipped, with why;
    // a plain repair\SYSTEM is used.
    let i = load(vec![
        (r"\WINNT\system32\config\SYSTEM", zeroed.clone()),
        (r"\WINNT\system32\config\SYSTEM.ALT", zeroed.clone()),
        (r"\WINNT\repair\SYSTEM", system.clone()),
    ]);
    let s = hive(&i, "SYSTEM");
    assert_eq!(
        (s.state_id(), s.path.as_str()),
        ("alternate", r"\WINNT\repair\SYSTEM")
    );
    assert!(s.state_reason().unwrap().contains("SYSTEM.ALT"));

    // Only a compressed rdisk copy: unreadable, and the error says why the
    // copy was not used.
    let i = load(vec![
        (r"\WINNT\system32\config\SYSTEM", zeroed.clone()),
        (r"\WINNT\repair\system._", szdd),
    ]);
    let s = hive(&i, "SYSTEM");
    assert_eq!(
        (s.state_id(), s.path.as_str()),
        ("unreadable", r"\WINNT\system32\config\SYSTEM")
    );
    let why = s.error.unwrap();
    assert!(
        why.contains(r"\WINNT\repair\system._") && why.contains("SZDD"),
        "{why}"
    );
    assert!(i.control_set.is_none());

    // SOFTWARE has no .ALT: repair\SOFTWARE; a good primary is never replaced.
    let mut bad_sw = software.clone();
    bad_sw[..4096].fill(0);
    let i = load(vec![
        (r"\WINNT\system32\config\SYSTEM", system.clone()),
        (r"\WINNT\system32\config\SYSTEM.ALT", zeroed),
        (r"\WINNT\system32\config\SOFTWARE", bad_sw),
        (r"\WINNT\repair\SOFTWARE", software),
    ]);
    let sw = hive(&i, "SOFTWARE");
    assert_eq!(
        (sw.state_id(), sw.path.as_str()),
        ("alternate", r"\WINNT\repair\SOFTWARE")
    );
    assert_eq!(i.os.version.as_deref(), Some("4.0"));
    let s = hive(&i, "SYSTEM");
    assert_eq!((s.state_id(), s.fallback), ("primary", None));
}

/// A SYSTEM hive whose ControlSet001 has TimeZoneInformation with these
/// REG_DWORD values.
fn zone_hive(values: &[(&'static str, u32)]) -> crate::registry::Hive {
    use crate::registry::tests::{build_hive, node};
    let dwords = values
        .iter()
        .map(|(n, v)| (*n, 4u32, v.to_le_bytes().to_vec()))
        .collect();
    let tz = node("TimeZoneInformation", dwords, vec![]);
    let cs = node(
        "ControlSet001",
        vec![],
        vec![node("Control", vec![], vec![tz])],
    );
    let root = node("$$$PROTO.HIV", vec![], vec![cs]);
    crate::registry::Hive::from_bytes("SYSTEM", build_hive(3, &root)).unwrap()
}

fn control_set_001() -> crate::registry::ControlSet {
    crate::registry::ControlSet {
        name: "ControlSet001".into(),
        number: 1,
        source: "Current".into(),
        select: Default::default(),
        warnings: Vec::new(),
    }
}

#[test]
fn time_zone_bias_is_read_signed_and_checked() {
    use super::load::time_zone;
    use super::LocalTimes;
    let cs = control_set_001();
    let pacific = zone_hive(&[("Bias", 480), ("DaylightBias", (-60i32) as u32)]);
    assert_eq!(
        time_zone(Some(&pacific), Some(&cs)),
        LocalTimes::Converted {
            bias: 480,
            daylight_bias: Some(-60),
            key: r"SYSTEM\ControlSet001\Control\TimeZoneInformation".into(),
        }
    );
    let east = zone_hive(&[("Bias", (-60i32) as u32)]);
    assert!(matches!(
        time_zone(Some(&east), Some(&cs)),
        LocalTimes::Converted {
            bias: -60,
            daylight_bias: None,
            ..
        }
    ));
    // What is no time zone, or no zone at all, is said to be local time.
    let absurd = zone_hive(&[("Bias", 100_000)]);
    let none = zone_hive(&[("StandardBias", 0)]);
    for (hive, cs, why) in [
        (Some(&absurd), Some(&cs), "100000 minutes, no time zone"),
        (Some(&none), Some(&cs), "has no Bias"),
        (None, Some(&cs), "SYSTEM hive could not be read"),
        (Some(&pacific), None, "no control set"),
    ] {
        let got = time_zone(hive, cs);
        assert!(
            matches!(&got, LocalTimes::Unknown { reason } if reason.contains(why)),
            "{got:?}"
        );
        assert!(got.note().contains("local time, zone unknown"));
    }
}

/// New-format logs beside a dirty hive (Windows 8.1 and later) are found as
/// `.LOG1` and `.LOG2` and replayed together; damaged ones are named with
/// why in the dirty reason.
#[test]
fn new_format_logs_beside_a_dirty_hive_are_replayed_together() {
    let (Some(dirty), Some(log1), Some(log2), Some(bad), Some(bad1), Some(bad2)) = (
        yarp("yarp__NewDirtyHive1_NewDirtyHive"),
        yarp("yarp__NewDirtyHive1_NewDirtyHive.LOG1"),
        yarp("yarp__NewDirtyHive1_NewDirtyHive.LOG2"),
        yarp("yarp__BadLogHive3_BadLogHive"),
        yarp("yarp__BadLogHive3_BadLogHive.LOG1"),
        yarp("yarp__BadLogHive3_BadLogHive.LOG2"),
    ) else {
        return;
    };
    let config = r"\WINNT\system32\config";
    let vol = MemVolume(vec![
        (format!(r"{config}\SYSTEM"), dirty),
        (format!(r"{config}\SYSTEM.LOG2"), log2),
        (format!(r"{config}\SYSTEM.LOG1"), log1),
        (format!(r"{config}\SOFTWARE"), bad),
        (format!(r"{config}\SOFTWARE.LOG1"), bad1),
        (format!(r"{config}\SOFTWARE.LOG2"), bad2),
    ]);
    let mut unreadable = Vec::new();
    let installs = find_installs(&vol, 0, &Scope::default(), &mut unreadable);
    let hive = |n: &str| installs[0].hives.iter().find(|h| h.name == n).unwrap();
    let system = hive("SYSTEM");
    assert_eq!(system.state_id(), "replayed");
    assert_eq!(
        system.replayed_log(),
        Some(
            format!(r"{config}\SYSTEM.LOG1, {config}\SYSTEM.LOG2 (new format, log entries 2 to 5)")
                .as_str()
        )
    );
    let software = hive("SOFTWARE");
    assert_eq!(software.state_id(), "dirty");
    let why = software.dirty_reason().unwrap();
    assert!(
        why.contains(r"SOFTWARE.LOG1: log base block checksum is wrong")
            && why.contains(r"SOFTWARE.LOG2: log base block checksum is wrong"),
        "{why}"
    );
}

/// Across volumes: a SYSTEM hive whose `MountedDevices` maps C: and E: by
/// disk signature and offset; services on E: (read there, shown as `E:\…`),
/// on F: (no such volume: unreadable, never missing) and missing from E:; an
/// InetStp InstallPath on E: whose folder is read too.
#[test]
fn registry_paths_are_read_on_the_volume_their_letter_names() {
    use super::drives::DiskPartition;
    use super::DiskVolumes;
    use crate::registry::tests::{build_hive, dword, node, sz};

    let mounted = |offset: u64| {
        let mut b = 0x1234_5678u32.to_le_bytes().to_vec();
        b.extend_from_slice(&offset.to_le_bytes());
        b
    };
    let service = |name: &'static str, image: &str| {
        node(
            name,
            vec![sz("ImagePath", image), dword("Start", 2)],
            vec![],
        )
    };
    let system = build_hive(
        3,
        &node(
            "ROOT",
            vec![],
            vec![
                node("Select", vec![dword("Current", 1)], vec![]),
                node(
                    "MountedDevices",
                    vec![
                        (r"\DosDevices\C:", 3, mounted(32256)),
                        (r"\DosDevices\E:", 3, mounted(1_048_576)),
                    ],
                    vec![],
                ),
                node(
                    "ControlSet001",
                    vec![],
                    vec![node(
                        "Services",
                        vec![],
                        vec![
                            service("W3SVC", r"E:\IIS\inetinfo.exe"),
                            service("MSFTPSVC", r"F:\IIS\inetinfo.exe"),
                            service("SMTPSVC", r"E:\IIS\smtpsvc.exe"),
                            service("IISADMIN", r"%SystemRoot%\System32\inetsrv\inetinfo.exe"),
                        ],
                    )],
                ),
            ],
        ),
    );
    let software = build_hive(
        3,
        &node(
            "ROOT",
            vec![],
            vec![node(
                "Microsoft",
                vec![],
                vec![
                    node(
                        "Windows NT",
                        vec![],
                        vec![node(
                            "CurrentVersion",
                            vec![sz("SystemRoot", r"C:\WINNT")],
                            vec![],
                        )],
                    ),
                    node("InetStp", vec![sz("InstallPath", r"E:\IIS")], vec![]),
                ],
            )],
        ),
    );
    let c = MemVolume(vec![
        (r"\WINNT\system32\config\SYSTEM".into(), system),
        (r"\WINNT\system32\config\SOFTWARE".into(), software),
        (
            r"\WINNT\System32\inetsrv\inetinfo.exe".into(),
            b"MZ".to_vec(),
        ),
    ]);
    let e = MemVolume(vec![
        (r"\IIS\inetinfo.exe".into(), b"MZ".to_vec()),
        (r"\IIS\w3svc.dll".into(), b"MZ".to_vec()),
    ]);
    let part = |volume, offset, slot| DiskPartition {
        volume: Some(volume),
        offset,
        slot,
        active: slot == 1,
        lettered: true,
        guid: None,
    };
    let disk = DiskVolumes {
        volumes: vec![Some(&c as &dyn Volume), Some(&e as &dyn Volume)],
        partitions: vec![part(0, 32256, 1), part(1, 1_048_576, 2)],
        arc_numbers: vec![(32256, 1), (1_048_576, 2)],
        signature: Some(0x1234_5678),
        collected: Vec::new(),
    };
    let scope = Scope {
        services: ["W3SVC", "MSFTPSVC", "SMTPSVC", "IISADMIN"]
            .map(String::from)
            .to_vec(),
        setup_key: Some(r"Microsoft\InetStp".into()),
        ..Scope::default()
    };
    let mut unreadable = Vec::new();
    let installs = super::find_installs_on(&disk, 0, &scope, &mut unreadable);
    assert_eq!(installs.len(), 1);
    let i = &installs[0];
    let letters: Vec<(char, Option<usize>)> =
        i.drives.iter().map(|d| (d.letter, d.volume)).collect();
    assert_eq!(letters, [('C', Some(0)), ('E', Some(1))]);
    let bin = |name: &str| &i.services.iter().find(|s| s.name == name).unwrap().binaries[0];
    assert_eq!(bin("W3SVC").path, r"E:\IIS\inetinfo.exe");
    assert_eq!(bin("W3SVC").found.as_deref(), Some(r"E:\IIS\inetinfo.exe"));
    assert_eq!(
        bin("IISADMIN").found.as_deref(),
        Some(r"\WINNT\System32\inetsrv\inetinfo.exe")
    );
    // Missing where the volume was read.
    assert_eq!(bin("SMTPSVC").path, r"E:\IIS\smtpsvc.exe");
    assert!(bin("SMTPSVC").found.is_none() && bin("SMTPSVC").unreadable.is_none());
    // Not on this image: unreadable, with the letter and why.
    let ftp = bin("MSFTPSVC");
    assert_eq!(ftp.path, r"F:\IIS\inetinfo.exe");
    assert!(ftp.found.is_none());
    assert!(
        ftp.unreadable
            .as_deref()
            .unwrap()
            .contains("drive F: is not on this image"),
        "{ftp:?}"
    );
    assert!(i
        .unreadable
        .iter()
        .any(|u| u.path == r"F:\IIS\inetinfo.exe"));
    // The InstallPath folder on E: is read: its PE files carry the letter.
    let files: Vec<&str> = i.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        files,
        [
            r"E:\IIS\inetinfo.exe",
            r"E:\IIS\w3svc.dll",
            r"\WINNT\System32\inetsrv\inetinfo.exe"
        ]
    );
    assert_eq!(
        i.display_path(r"\??\E:\IIS\w3svc.dll").as_deref(),
        Some(r"E:\IIS\w3svc.dll")
    );
    assert_eq!(
        i.display_path(r"\??\C:\WINNT\x.dll").as_deref(),
        Some(r"\WINNT\x.dll")
    );
}

/// UTF-16LE bytes of `s`, with no terminator added.
fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

/// Gives every key called `name` in a built hive the last-written `ticks`
/// (the builder stamps all keys alike; the name follows the 76-byte `nk`
/// header, the time is at offset 4 of it).
fn stamp_keys(hive: &mut [u8], name: &str, ticks: u64) {
    let pat = name.as_bytes();
    let mut at = 4096;
    while let Some(i) = hive[at..].windows(pat.len()).position(|w| w == pat) {
        let name_at = at + i;
        let nk = name_at - 76;
        if &hive[nk..nk + 2] == b"nk" {
            hive[nk + 4..nk + 12].copy_from_slice(&ticks.to_le_bytes());
        }
        at = name_at + pat.len();
    }
}

/// ServiceDll is read from Parameters first, then from the service key
/// itself; the service names the key that holds it and that key's time.
/// PendingFileRenameOperations keeps the empty destination of a final delete.
#[test]
fn service_dll_is_read_where_svchost_finds_it() {
    use crate::registry::tests::{build_hive, dword, node, sz};
    use crate::time::FileTime;
    const MULTI: u32 = 7;

    let expand = |name: &'static str, s: &str| {
        let (n, _, b) = sz(name, s);
        (n, 2u32, b)
    };
    let mut renames = Vec::new();
    for s in [
        r"\??\C:\WINNT\system32\inetsrv\w3svc.new",
        r"!\??\C:\WINNT\system32\inetsrv\w3svc.dll",
        r"\??\C:\WINNT\system32\inetsrv\old.dll",
        "",
    ] {
        renames.extend(utf16(s));
        renames.extend([0, 0]);
    }
    renames.extend([0, 0]);
    let svchost = r"%SystemRoot%\System32\svchost.exe -k iissvcs";
    let mut system = build_hive(
        3,
        &node(
            "ROOT",
            vec![],
            vec![
                node("Select", vec![dword("Current", 1)], vec![]),
                node(
                    "ControlSet001",
                    vec![],
                    vec![
                        node(
                            "Control",
                            vec![],
                            vec![node(
                                "Session Manager",
                                vec![("PendingFileRenameOperations", MULTI, renames)],
                                vec![],
                            )],
                        ),
                        node(
                            "Services",
                            vec![],
                            vec![
                                // Both: Parameters wins, as in svchost.
                                node(
                                    "W3SVC",
                                    vec![
                                        sz("ImagePath", svchost),
                                        expand("ServiceDll", r"%SystemRoot%\System32\decoy.dll"),
                                    ],
                                    vec![node(
                                        "Parameters",
                                        vec![expand(
                                            "ServiceDll",
                                            r"%SystemRoot%\System32\inetsrv\iisw3adm.dll",
                                        )],
                                        vec![],
                                    )],
                                ),
                                // On the service key only (Windows 8.1/10),
                                // beside a Parameters key without it.
                                node(
                                    "WAS",
                                    vec![
                                        sz("ImagePath", svchost),
                                        expand(
                                            "ServiceDll",
                                            r"%SystemRoot%\system32\inetsrv\iisw3adm.dll",
                                        ),
                                    ],
                                    vec![node(
                                        "Parameters",
                                        vec![sz("InstallPath", r"C:\WINNT\system32\inetsrv")],
                                        vec![],
                                    )],
                                ),
                                node("MSFTPSVC", vec![sz("ImagePath", svchost)], vec![]),
                                // Not a path: reported, never silently absent.
                                node(
                                    "SMTPSVC",
                                    vec![sz("ImagePath", svchost)],
                                    vec![node("Parameters", vec![dword("ServiceDll", 7)], vec![])],
                                ),
                            ],
                        ),
                    ],
                ),
            ],
        ),
    );
    let parameters_time = 130_000_000_000_000_000u64;
    stamp_keys(&mut system, "Parameters", parameters_time);
    let software = build_hive(
        3,
        &node(
            "ROOT",
            vec![],
            vec![node(
                "Microsoft",
                vec![],
                vec![node(
                    "Windows NT",
                    vec![],
                    vec![node(
                        "CurrentVersion",
                        vec![sz("SystemRoot", r"C:\WINNT")],
                        vec![],
                    )],
                )],
            )],
        ),
    );
    let vol = MemVolume(vec![
        (r"\WINNT\system32\config\SYSTEM".into(), system),
        (r"\WINNT\system32\config\SOFTWARE".into(), software),
        (
            r"\WINNT\System32\inetsrv\iisw3adm.dll".into(),
            b"MZ".to_vec(),
        ),
    ]);
    let scope = Scope {
        services: ["W3SVC", "WAS", "MSFTPSVC", "SMTPSVC"]
            .map(String::from)
            .to_vec(),
        ..Scope::default()
    };
    let mut unreadable = Vec::new();
    let installs = find_installs(&vol, 0, &scope, &mut unreadable);
    assert_eq!(installs.len(), 1, "{unreadable:?}");
    let i = &installs[0];
    let svc = |name: &str| i.services.iter().find(|s| s.name == name).unwrap();

    let w3 = svc("W3SVC");
    assert_eq!(
        w3.service_dll.as_deref(),
        Some(r"%SystemRoot%\System32\inetsrv\iisw3adm.dll")
    );
    assert_eq!(
        w3.service_dll_key.as_deref(),
        Some(r"ControlSet001\Services\W3SVC\Parameters")
    );
    assert_eq!(w3.service_dll_last_written, FileTime::new(parameters_time));
    assert_ne!(w3.service_dll_last_written, w3.last_written);
    let dll = w3
        .binaries
        .iter()
        .find(|b| b.source == "ServiceDll")
        .unwrap();
    assert_eq!(dll.path, r"\WINNT\System32\inetsrv\iisw3adm.dll");
    assert!(dll.found.is_some(), "{dll:?}");

    let was = svc("WAS");
    assert_eq!(
        was.service_dll.as_deref(),
        Some(r"%SystemRoot%\system32\inetsrv\iisw3adm.dll")
    );
    assert_eq!(
        was.service_dll_key.as_deref(),
        Some(r"ControlSet001\Services\WAS")
    );
    assert_eq!(was.service_dll_last_written, was.last_written);
    assert!(was.last_written.is_some());
    // Parameters is still read for what it does hold.
    assert_eq!(
        was.install_path.as_deref(),
        Some(r"C:\WINNT\system32\inetsrv")
    );
    assert!(was.binaries.iter().any(|b| b.source == "ServiceDll"));

    let ftp = svc("MSFTPSVC");
    assert_eq!(
        (ftp.service_dll.as_deref(), ftp.service_dll_key.as_deref()),
        (None, None)
    );
    assert!(ftp.service_dll_last_written.is_none());
    assert!(ftp.binaries.iter().all(|b| b.source != "ServiceDll"));

    let smtp = svc("SMTPSVC");
    assert_eq!(smtp.service_dll, None);
    assert_eq!(
        smtp.service_dll_key.as_deref(),
        Some(r"ControlSet001\Services\SMTPSVC\Parameters")
    );
    let bad = i
        .unreadable
        .iter()
        .chain(&unreadable)
        .find(|u| u.path.ends_with(r"SMTPSVC\Parameters\ServiceDll"))
        .unwrap_or_else(|| panic!("{:?} {unreadable:?}", i.unreadable));
    assert_eq!(bad.reason, "not a string (REG_DWORD)");
    assert_eq!(
        bad.path,
        r"\WINNT\system32\config\SYSTEM\ControlSet001\Services\SMTPSVC\Parameters\ServiceDll"
    );

    // The final delete keeps its empty destination.
    assert_eq!(
        i.pending_renames,
        [
            r"\??\C:\WINNT\system32\inetsrv\w3svc.new",
            r"!\??\C:\WINNT\system32\inetsrv\w3svc.dll",
            r"\??\C:\WINNT\system32\inetsrv\old.dll",
            "",
        ]
    );
    let ops = &i.pending_operations;
    assert_eq!(ops.len(), 2);
    assert_eq!(
        ops[0].destination.as_deref(),
        Some(r"\??\C:\WINNT\system32\inetsrv\w3svc.dll")
    );
    assert!(ops[0].replace_existing);
    assert_eq!(ops[1].source, r"\??\C:\WINNT\system32\inetsrv\old.dll");
    assert_eq!(
        (ops[1].destination.as_deref(), ops[1].replace_existing),
        (None, false)
    );
    assert_eq!(
        i.display_path(&ops[1].source).as_deref(),
        Some(r"\WINNT\system32\inetsrv\old.dll")
    );
}

/// PendingFileRenameOperations as hostile bytes: what the decoder gives is
/// read as pairs without losing a delete and without panicking.
#[test]
fn pending_renames_survive_hostile_values() {
    use super::PendingOperation;
    use crate::registry::ValueData;

    let ops = |bytes: &[u8]| {
        let data = ValueData::decode(7, bytes);
        PendingOperation::pairs(data.as_multi().unwrap())
    };
    let op = |source: &str, to: Option<&str>, replace_existing| PendingOperation {
        source: source.into(),
        destination: to.map(String::from),
        replace_existing,
    };
    let z = |s: &str| {
        let mut b = utf16(s);
        b.extend([0, 0]);
        b
    };

    // A delete in the middle and a delete at the end, terminated properly.
    let b = [z("a"), z(""), z("b"), z("!c"), z("d"), z(""), z("")].concat();
    assert_eq!(
        ops(&b),
        [
            op("a", None, false),
            op("b", Some("c"), true),
            op("d", None, false)
        ]
    );
    // Odd count, no terminators at all: the last source is a delete.
    let b = [z("a"), z("b"), utf16(r"\??\C:\x.dll")].concat();
    assert_eq!(
        ops(&b),
        [op("a", Some("b"), false), op(r"\??\C:\x.dll", None, false)]
    );
    // One string, no NUL.
    assert_eq!(ops(&utf16("a")), [op("a", None, false)]);
    // Only NULs, and nothing.
    assert!(ops(&[0; 10]).is_empty());
    assert!(ops(&[]).is_empty());
    // A lone `!`: replace-existing, but nothing to replace with: a delete.
    assert_eq!(ops(&[z("a"), z("!")].concat()), [op("a", None, true)]);
    // UTF-16 garbage: an unpaired surrogate, an odd trailing byte.
    let mut b = z("a");
    b.extend([0x00, 0xD8, b'x', 0, 0, 0]);
    b.push(0x41);
    let got = ops(&b);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].source, "a");
    assert_eq!(got[0].destination.as_deref(), Some("\u{FFFD}x"));
    // Empty sources (garbage between NULs) still pair up in place.
    let b = [z(""), z(""), z("a"), z("b")].concat();
    assert_eq!(ops(&b), [op("", None, false), op("a", Some("b"), false)]);
}

/// `MemVolume` whose lookup of one path and listing of another fail as a
/// damaged record would (not "not found").
struct Damaged<'a> {
    inner: &'a MemVolume,
    lookup_fails: &'a str,
    list_fails: &'a str,
}

impl Volume for Damaged<'_> {
    fn kind(&self) -> Filesystem {
        self.inner.kind()
    }
    fn label(&self) -> Option<String> {
        None
    }
    fn cluster_size(&self) -> u32 {
        512
    }
    fn degraded(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    fn root(&self) -> Result<Entry, FsError> {
        self.inner.root()
    }
    fn lookup(&self, path: &str) -> Result<Entry, FsError> {
        if path.eq_ignore_ascii_case(self.lookup_fails) {
            return Err(FsError::File {
                path: path.into(),
                id: FileId(7),
                what: "bad update sequence".into(),
            });
        }
        self.inner.lookup(path)
    }
    fn list(&self, dir: &Entry) -> Result<Vec<Entry>, FsError> {
        if dir.path.eq_ignore_ascii_case(self.list_fails) {
            return Err(FsError::File {
                path: dir.path.clone(),
                id: FileId(8),
                what: "index block fixup mismatch".into(),
            });
        }
        self.inner.list(dir)
    }
    fn read(&self, entry: &Entry) -> Result<FileData<'_>, FsError> {
        self.inner.read(entry)
    }
    fn names_equal(&self, a: &str, b: &str) -> bool {
        a.eq_ignore_ascii_case(b)
    }
}

/// A scope folder that exists but cannot be opened, and a system root that
/// cannot be listed (no service-pack markers), are said as unreadable: the
/// files they hold were never judged.
#[test]
fn folders_that_cannot_be_opened_are_said() {
    let (system, software) = seed_hives();
    let mem = MemVolume(vec![
        (r"\WINNT\system32\config\SYSTEM".into(), system),
        (r"\WINNT\system32\config\SOFTWARE".into(), software),
        (r"\WINNT\system32\inetsrv\w3svc.dll".into(), b"MZ".to_vec()),
    ]);
    let vol = Damaged {
        inner: &mem,
        lookup_fails: r"\WINNT\system32\inetsrv",
        list_fails: r"\WINNT",
    };
    let scope = Scope {
        folders: vec![r"system32\inetsrv".into(), r"system32\absent".into()],
        ..Scope::default()
    };
    let mut unreadable = Vec::new();
    let installs = find_installs(&vol, 0, &scope, &mut unreadable);
    assert_eq!(installs.len(), 1);
    let said = |p: &str| {
        installs[0]
            .unreadable
            .iter()
            .chain(&unreadable)
            .find(|u| u.path.eq_ignore_ascii_case(p))
            .map(|u| u.reason.clone())
    };
    let inetsrv = said(r"\WINNT\system32\inetsrv").expect("inetsrv said");
    assert!(inetsrv.contains("bad update sequence"), "{inetsrv}");
    let root = said(r"\WINNT").expect("the root said");
    assert!(root.contains("index block fixup mismatch"), "{root}");
    assert!(installs[0].markers.is_empty());
    // A folder that is simply absent is nothing to report.
    assert!(said(r"\WINNT\system32\absent").is_none());
}

/// A SOFTWARE hive whose `Microsoft\Windows NT\CurrentVersion` holds these values.
fn current_version_hive(values: Vec<(&'static str, u32, Vec<u8>)>) -> Vec<u8> {
    use crate::registry::tests::{build_hive, node};
    let cv = node("CurrentVersion", values, vec![]);
    let nt = node("Windows NT", vec![], vec![cv]);
    let ms = node("Microsoft", vec![], vec![nt]);
    build_hive(5, &node("ROOT", vec![], vec![ms]))
}

#[test]
fn windows_10_and_later_are_named_by_their_version_dwords_not_current_version() {
    use crate::registry::tests::{dword, sz};
    let (system, _) = seed_hives();
    let modern = current_version_hive(vec![
        sz("CurrentVersion", "6.3"),
        dword("CurrentMajorVersionNumber", 10),
        dword("CurrentMinorVersionNumber", 0),
        sz("CurrentBuildNumber", "17763"),
        sz("CurrentBuild", "17763"),
        dword("UBR", 1852),
        sz("ReleaseId", "1809"),
        sz("EditionID", "ServerStandard"),
        sz("InstallationType", "Server"),
        sz("ProductName", "Windows Server 2019 Standard"),
    ]);
    let i = load(vec![
        (r"\Windows\system32\config\SYSTEM", system.clone()),
        (r"\Windows\system32\config\SOFTWARE", modern),
    ]);
    let os = &i.os;
    assert_eq!(os.version.as_deref(), Some("10.0"));
    assert_eq!(os.current_version.as_deref(), Some("6.3"));
    assert_eq!(os.full_build().as_deref(), Some("17763.1852"));
    assert_eq!(os.display_version.as_deref(), Some("1809"));
    assert_eq!(os.edition.as_deref(), Some("ServerStandard"));
    assert_eq!(os.installation_type.as_deref(), Some("Server"));
    assert_eq!(
        os.product_name.as_deref(),
        Some("Windows Server 2019 Standard")
    );

    // DisplayVersion (20H2 and later) wins over the ReleaseId it replaced; a
    // major number without its minor is not a version, so CurrentVersion stays.
    let half = current_version_hive(vec![
        sz("CurrentVersion", "6.3"),
        dword("CurrentMajorVersionNumber", 10),
        sz("CurrentBuildNumber", "20348"),
        sz("ReleaseId", "2009"),
        sz("DisplayVersion", "21H2"),
    ]);
    let i = load(vec![
        (r"\Windows\system32\config\SYSTEM", system),
        (r"\Windows\system32\config\SOFTWARE", half),
    ]);
    assert_eq!(i.os.version.as_deref(), Some("6.3"));
    assert_eq!(i.os.display_version.as_deref(), Some("21H2"));
    assert_eq!(i.os.full_build().as_deref(), Some("20348"));
}

#[test]
fn iis_configuration_is_read_with_its_redirection_and_errors_are_said() {
    let (system, software) = seed_hives();
    let config = r#"<configuration><system.applicationHost><applicationPools><add name="P" enable32BitAppOnWin64="true"/></applicationPools><sites><site name="S" id="1"><application path="/" applicationPool="P"/></site></sites></system.applicationHost><system.webServer><globalModules><add name="M" image="%windir%\System32\inetsrv\m.dll" preCondition="bitness64"/></globalModules></system.webServer></configuration>"#;
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(config.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let redirection = br#"<configuration><configurationRedirection enabled="true" path="\\filer\iis"/></configuration>"#;
    let dir = r"\WINNT\System32\inetsrv\config";
    let i = load(vec![
        (r"\WINNT\system32\config\SYSTEM", system.clone()),
        (r"\WINNT\system32\config\SOFTWARE", software.clone()),
        (&format!(r"{dir}\applicationHost.config"), utf16),
        (&format!(r"{dir}\redirection.config"), redirection.to_vec()),
    ]);
    let f = i.iis_config.as_ref().expect("read");
    assert_eq!(f.redirected_to.as_deref(), Some(r"\\filer\iis"));
    assert_eq!(f.config.global_modules[0].pre_condition, ["bitness64"]);
    assert_eq!(f.config.sites[0].applications[0].pool, "P");
    assert!(i.unreadable.is_empty(), "{:?}", i.unreadable);

    // Not XML: no configuration, and the file named with the reason.
    let i = load(vec![
        (r"\WINNT\system32\config\SYSTEM", system.clone()),
        (r"\WINNT\system32\config\SOFTWARE", software.clone()),
        (
            &format!(r"{dir}\applicationHost.config"),
            b"<configuration>".to_vec(),
        ),
    ]);
    assert!(i.iis_config.is_none());
    assert!(
        i.unreadable
            .iter()
            .any(|u| u.path.ends_with("applicationHost.config") && u.reason.contains("XML")),
        "{:?}",
        i.unreadable
    );

    // No file: nothing said (IIS 6 and earlier have none).
    let i = load(vec![
        (r"\WINNT\system32\config\SYSTEM", system),
        (r"\WINNT\system32\config\SOFTWARE", software),
    ]);
    assert!(i.iis_config.is_none() && i.unreadable.is_empty());
}

/// An uninstall folder names its update and the files it replaced; one that
/// cannot be listed says so (and is said unreadable), never "replaced
/// nothing".
#[test]
fn uninstall_folders_list_the_files_their_update_replaced() {
    let (system, software) = seed_hives();
    let mem = MemVolume(vec![
        (r"\WINNT\system32\config\SYSTEM".into(), system),
        (r"\WINNT\system32\config\SOFTWARE".into(), software),
        (
            r"\WINNT\$NtUninstallKB891861$\w3svc.dll".into(),
            b"MZ".to_vec(),
        ),
        (
            r"\WINNT\$NtUninstallKB891861$\Asp.dll".into(),
            b"MZ".to_vec(),
        ),
        (
            r"\WINNT\$NtUninstallQ301625$\infocomm.dll".into(),
            b"MZ".to_vec(),
        ),
        (
            r"\WINNT\$NtServicePackUninstall$\x.dll".into(),
            b"MZ".to_vec(),
        ),
    ]);
    let vol = Damaged {
        inner: &mem,
        lookup_fails: "",
        list_fails: r"\WINNT\$NtUninstallQ301625$",
    };
    let mut unreadable = Vec::new();
    let installs = find_installs(&vol, 0, &Scope::default(), &mut unreadable);
    let m = |kb: Option<&str>| {
        installs[0]
            .markers
            .iter()
            .find(|m| m.kb().as_deref() == kb)
            .unwrap()
            .clone()
    };
    let kb = m(Some("KB891861"));
    assert_eq!(kb.files, ["Asp.dll", "w3svc.dll"]);
    assert!(!kb.files_not_listed);
    let q = m(Some("Q301625"));
    assert!(q.files.is_empty() && q.files_not_listed);
    assert!(installs[0]
        .unreadable
        .iter()
        .any(|u| u.path == r"\WINNT\$NtUninstallQ301625$"));
    assert_eq!(m(None).files, ["x.dll"]);
    let marker = |p: &str| super::Marker {
        path: p.into(),
        ..Default::default()
    };
    assert_eq!(
        marker(r"\WINNT\$NTUNINSTALLq123$").kb().as_deref(),
        Some("Q123")
    );
    assert_eq!(
        marker(r"\WINNT\$NtUninstallKB2124261-IE7$").kb().as_deref(),
        Some("KB2124261")
    );
    assert_eq!(marker(r"\WINNT\$NtUninstallé$").kb(), None);
    assert_eq!(marker(r"\WINNT\$NtUninstallQ$").kb(), None);
}

/// Each application's web.config is looked for at its expanded physical
/// path and parsed against the declarations; the schema folder is read;
/// what cannot be placed is `not-checked` and said, never absent.
#[test]
fn web_configs_and_the_schema_folder_are_read_or_said() {
    let (system, software) = seed_hives();
    let config = r#"<configuration><configSections><sectionGroup name="system.webServer"><section name="defaultDocument"/></sectionGroup></configSections>
        <system.applicationHost><applicationPools><add name="P"/></applicationPools><sites><site name="S" id="1">
        <application path="/" applicationPool="P"><virtualDirectory path="/" physicalPath="%SystemDrive%\site"/></application>
        <application path="/share" applicationPool="P"><virtualDirectory path="/" physicalPath="\\filer\content"/></application>
        <application path="/var" applicationPool="P"><virtualDirectory path="/" physicalPath="%MYAPP%\x"/></application>
        <application path="/none" applicationPool="P"><virtualDirectory path="/" physicalPath="%SystemDrive%\gone"/></application>
        </site></sites></system.applicationHost></configuration>"#;
    let web = br#"<configuration><system.webServer><defaultDocument/><rewrite/></system.webServer></configuration>"#;
    let schema =
        br#"<configSchema><sectionSchema name="system.webServer/defaultDocument"/></configSchema>"#;
    let dir = r"\WINNT\System32\inetsrv\config";
    let i = load(vec![
        (r"\WINNT\system32\config\SYSTEM", system),
        (r"\WINNT\system32\config\SOFTWARE", software),
        (
            &format!(r"{dir}\applicationHost.config"),
            config.as_bytes().to_vec(),
        ),
        (&format!(r"{dir}\schema\IIS_schema.xml"), schema.to_vec()),
        (
            &format!(r"{dir}\schema\broken.xml"),
            b"<configSchema>".to_vec(),
        ),
        (r"\site\web.config", web.to_vec()),
    ]);
    let f = i.iis_config.as_ref().expect("read");
    let files: Vec<(&str, bool)> = f
        .schema
        .files
        .iter()
        .map(|x| (x.name.as_str(), x.error.is_some()))
        .collect();
    assert_eq!(files, [("IIS_schema.xml", false), ("broken.xml", true)]);
    assert!(f.schema.defines("system.webServer/DefaultDocument") && !f.schema.complete());
    let states: Vec<(&str, &str)> = f
        .web_configs
        .iter()
        .map(|w| (w.application.as_str(), w.state))
        .collect();
    assert_eq!(
        states,
        [
            ("/", "read"),
            ("/share", "not-checked"),
            ("/var", "not-checked"),
            ("/none", "absent")
        ]
    );
    let uses: Vec<(&str, bool)> = f.web_configs[0]
        .config
        .as_ref()
        .unwrap()
        .uses
        .iter()
        .map(|u| (u.section.as_str(), u.declared))
        .collect();
    assert_eq!(
        uses,
        [
            ("system.webServer/defaultDocument", true),
            ("system.webServer/rewrite", false)
        ]
    );
    for said in ["broken.xml", r"\\filer\content\web.config", "%MYAPP%"] {
        assert!(
            i.unreadable
                .iter()
                .any(|u| u.path.contains(said) || u.reason.contains(said)),
            "{said}: {:?}",
            i.unreadable
        );
    }
}
