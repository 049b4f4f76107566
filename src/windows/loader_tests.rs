//! The loader check on small in-memory volumes of synthetic PEs
//! (`pe::testpe`): forwarder cycles, unreadable modules, an incomplete
//! system32, KnownDLLs, delay imports, machine types.

use super::load_tests::MemVolume;
use super::loader::{check, LoaderInputs, Outcome};
use super::{Binary, Install, LoaderScope, Service};
use crate::pe::testpe::{TestExport, TestPe};
use crate::pe::Symbol;

const SYS: &str = r"\WINNT\system32";
const INET: &str = r"\WINNT\system32\inetsrv";

fn name(s: &str) -> Symbol {
    Symbol::Name(s.into())
}

fn dll(exports: &[TestExport], imports: &[(&str, &[Symbol])]) -> Vec<u8> {
    TestPe {
        exports: (!exports.is_empty()).then(|| ("x.dll".to_string(), 1, exports.to_vec())),
        imports: imports
            .iter()
            .map(|(d, s)| (d.to_string(), s.to_vec()))
            .collect(),
        ..TestPe::default()
    }
    .build()
}

fn install_with(exe: &str) -> Install {
    Install {
        system_root: r"\WINNT".into(),
        services: vec![Service {
            name: "W3SVC".into(),
            image_path: None,
            service_dll: None,
            service_dll_key: None,
            service_dll_last_written: None,
            start: None,
            service_type: None,
            depend_on_service: Vec::new(),
            install_path: None,
            last_written: None,
            binaries: vec![Binary {
                source: "ImagePath".into(),
                path: exe.into(),
                drive: None,
                found: Some(exe.into()),
                unreadable: None,
            }],
        }],
        ..Install::default()
    }
}

fn run(files: Vec<(String, Vec<u8>)>, inputs: LoaderInputs) -> super::loader::LoaderFacts {
    let vol = MemVolume(files);
    let install = install_with(&format!(r"{INET}\inetinfo.exe"));
    check(&vol, &install, &LoaderScope::default(), &inputs)
}

fn exe(imports: &[(&str, &[Symbol])]) -> Vec<u8> {
    TestPe {
        dll: false,
        imports: imports
            .iter()
            .map(|(d, s)| (d.to_string(), s.to_vec()))
            .collect(),
        ..TestPe::default()
    }
    .build()
}

fn core() -> Vec<(String, Vec<u8>)> {
    vec![(
        format!(r"{SYS}\ntdll.dll"),
        dll(&[TestExport::code("RtlAllocateHeap")], &[]),
    )]
}

#[test]
fn a_forwarder_cycle_is_a_missing_symbol_not_a_hang() {
    let mut files = core();
    files.push((
        format!(r"{INET}\inetinfo.exe"),
        exe(&[("a.dll", &[name("F")])]),
    ));
    files.push((
        format!(r"{SYS}\a.dll"),
        dll(&[TestExport::forward("F", "b.F")], &[]),
    ));
    files.push((
        format!(r"{SYS}\b.dll"),
        dll(&[TestExport::forward("F", "a.F")], &[]),
    ));
    let facts = run(files, LoaderInputs::default());
    let m = facts.module(&format!(r"{INET}\inetinfo.exe")).unwrap();
    assert_eq!(m.imports.len(), 1);
    assert_eq!(m.imports[0].missing.len(), 1);
    assert!(m.imports[0].missing[0].via.len() >= 2);
}

#[test]
fn forwarders_and_ordinals_resolve() {
    let mut files = core();
    files.push((
        format!(r"{INET}\inetinfo.exe"),
        exe(&[("k.dll", &[name("HeapAlloc"), Symbol::Ordinal(2)])]),
    ));
    files.push((
        format!(r"{SYS}\k.dll"),
        dll(
            &[
                TestExport::forward("HeapAlloc", "NTDLL.RtlAllocateHeap"),
                TestExport::unnamed(),
            ],
            &[],
        ),
    ));
    let facts = run(files, LoaderInputs::default());
    let m = facts.module(&format!(r"{INET}\inetinfo.exe")).unwrap();
    assert!(matches!(m.imports[0].outcome, Outcome::Found { .. }));
    assert_eq!(m.imports[0].missing, vec![]);
}

#[test]
fn an_unreadable_dll_is_not_checked_never_missing() {
    let mut files = core();
    files.push((
        format!(r"{INET}\inetinfo.exe"),
        exe(&[("bad.dll", &[name("F")])]),
    ));
    files.push((format!(r"{INET}\bad.dll"), b"MZ not really".to_vec()));
    let facts = run(files, LoaderInputs::default());
    let m = facts.module(&format!(r"{INET}\inetinfo.exe")).unwrap();
    match &m.imports[0].outcome {
        Outcome::Found { unchecked, .. } => assert!(unchecked.is_some()),
        other => panic!("{other:?}"),
    }
    assert!(m.imports[0].missing.is_empty());
}

#[test]
fn without_core_system_dlls_an_absent_dll_is_not_checked() {
    let files = vec![(
        format!(r"{INET}\inetinfo.exe"),
        exe(&[("kernel32.dll", &[name("GetProcAddress")])]),
    )];
    let facts = run(files, LoaderInputs::default());
    assert_eq!(facts.core_present, Some(false));
    let m = facts.module(&format!(r"{INET}\inetinfo.exe")).unwrap();
    assert!(matches!(m.imports[0].outcome, Outcome::NotChecked { .. }));
}

#[test]
fn with_core_system_dlls_an_absent_dll_is_missing_after_every_folder() {
    let mut files = core();
    files.push((
        format!(r"{INET}\inetinfo.exe"),
        exe(&[("gone.dll", &[name("F")])]),
    ));
    let inputs = LoaderInputs {
        path: Some(r"%SystemRoot%\system32;C:\Tools".into()),
        ..LoaderInputs::default()
    };
    let facts = run(files, inputs);
    let m = facts.module(&format!(r"{INET}\inetinfo.exe")).unwrap();
    match &m.imports[0].outcome {
        // C: is not known to be this volume (no drive letters): not checked.
        Outcome::NotChecked { reason } => assert!(reason.contains("C:"), "{reason}"),
        other => panic!("{other:?}"),
    }
    let mut files = core();
    files.push((
        format!(r"{INET}\inetinfo.exe"),
        exe(&[("gone.dll", &[name("F")])]),
    ));
    let facts = run(files, LoaderInputs::default());
    let m = facts.module(&format!(r"{INET}\inetinfo.exe")).unwrap();
    match &m.imports[0].outcome {
        Outcome::Missing { searched } => assert_eq!(
            searched,
            &[INET, SYS, r"\WINNT\system", r"\WINNT"].map(String::from)
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn known_dlls_win_over_the_application_folder() {
    let mut files = core();
    files.push((
        format!(r"{INET}\inetinfo.exe"),
        exe(&[("kernel32.dll", &[name("GetProcAddress")])]),
    ));
    files.push((
        format!(r"{INET}\kernel32.dll"),
        dll(&[TestExport::code("Other")], &[]),
    ));
    files.push((
        format!(r"{SYS}\kernel32.dll"),
        dll(&[TestExport::code("GetProcAddress")], &[]),
    ));
    let inputs = LoaderInputs {
        known_dlls: vec!["kernel32.dll".into()],
        dll_directory: Some(r"%SystemRoot%\system32".into()),
        ..LoaderInputs::default()
    };
    let facts = run(files.clone(), inputs);
    let m = facts.module(&format!(r"{INET}\inetinfo.exe")).unwrap();
    assert!(matches!(
        &m.imports[0].outcome,
        Outcome::Found { known: true, .. }
    ));
    assert!(m.imports[0].missing.is_empty());
    // Without KnownDLLs the application folder's copy is used, and breaks.
    let facts = run(files, LoaderInputs::default());
    let m = facts.module(&format!(r"{INET}\inetinfo.exe")).unwrap();
    assert_eq!(m.imports[0].missing.len(), 1);
}

#[test]
fn machine_types_and_delay_imports_are_kept() {
    let mut files = core();
    let mut e = TestPe {
        dll: false,
        delay: vec![("lazy.dll".into(), vec![name("Later")], false)],
        imports: vec![("x64.dll".into(), vec![name("F")])],
        ..TestPe::default()
    };
    files.push((format!(r"{INET}\inetinfo.exe"), e.build()));
    e = TestPe {
        pe32_plus: true,
        machine: 0x8664,
        exports: Some(("x64.dll".into(), 1, vec![TestExport::code("F")])),
        ..TestPe::default()
    };
    files.push((format!(r"{SYS}\x64.dll"), e.build()));
    files.push((
        format!(r"{SYS}\lazy.dll"),
        dll(&[TestExport::code("Sooner")], &[]),
    ));
    let facts = run(files, LoaderInputs::default());
    let x = facts.module(&format!(r"{SYS}\x64.dll")).unwrap();
    assert_eq!((x.machine, x.host_machine), (Some(0x8664), Some(0x14c)));
    let m = facts.module(&format!(r"{INET}\inetinfo.exe")).unwrap();
    let lazy = m.imports.iter().find(|i| i.delay).unwrap();
    assert_eq!(lazy.missing.len(), 1);
    assert!(
        facts.module(&format!(r"{SYS}\lazy.dll")).is_none(),
        "delay-loaded DLLs are not walked"
    );
}

#[test]
fn metabase_filter_paths_are_read_from_plain_xml() {
    let xml = br#"<IIsFilter Location="/LM/W3SVC/Filters/x" FilterPath="C:\WINDOWS\system32\inetsrv\x.dll" />
<IIsFilter FilterPath = 'd:\f\y.dll'/><x FilterPath></x>"#;
    assert_eq!(
        super::loader::metabase_filter_paths(xml),
        vec![r"C:\WINDOWS\system32\inetsrv\x.dll", r"d:\f\y.dll"]
    );
}

#[test]
fn wow64_redirects_system32_and_the_folders_below_it_only() {
    use super::loader::wow64_path;
    let r = r"\Windows";
    assert_eq!(wow64_path(r"\Windows\system32", r), r"\Windows\SysWOW64");
    assert_eq!(
        wow64_path(r"\Windows\System32\Wbem", r),
        r"\Windows\SysWOW64\Wbem"
    );
    assert_eq!(
        wow64_path(r"\Windows\System32\drivers\etc", r),
        r"\Windows\System32\drivers\etc"
    );
    assert_eq!(wow64_path(r"\Windows\System32x", r), r"\Windows\System32x");
    assert_eq!(wow64_path(r"\Windows", r), r"\Windows");
}

/// A 32-bit IIS worker on 64-bit Windows: its module's imports are bound in
/// SysWOW64 (the x64 copy in system32 does not count); an image of the
/// other bitness than its worker is not walked (module-bitness says so).
#[test]
fn a_32_bit_worker_binds_its_modules_imports_in_syswow64() {
    use super::{ModuleImage, OsInfo};
    let x64 = |exports: &[TestExport], imports: &[(&str, &[Symbol])]| {
        TestPe {
            pe32_plus: true,
            machine: 0x8664,
            exports: (!exports.is_empty()).then(|| ("x.dll".to_string(), 1, exports.to_vec())),
            imports: imports
                .iter()
                .map(|(d, s)| (d.to_string(), s.to_vec()))
                .collect(),
            ..TestPe::default()
        }
        .build()
    };
    let module = |path: &str, bits: u32| ModuleImage {
        kind: "module",
        name: "Cache".into(),
        image: path.into(),
        pre_condition: Vec::new(),
        bits,
        binary: Some(Binary {
            source: "module Cache".into(),
            path: path.into(),
            drive: None,
            found: Some(path.into()),
            unreadable: None,
        }),
        register_module: None,
    };
    let install = Install {
        system_root: r"\Windows".into(),
        os: OsInfo {
            bits: Some(64),
            ..OsInfo::default()
        },
        iis_images: vec![
            module(r"\vendor\cache.dll", 32),
            module(r"\vendor\cache.dll", 64),
            module(r"\vendor64\wrong.dll", 32),
        ],
        ..Install::default()
    };
    let vc = [name("F")];
    let mut files = vec![
        (r"\Windows\system32\ntdll.dll".to_string(), x64(&[], &[])),
        (r"\Windows\SysWOW64\ntdll.dll".to_string(), dll(&[], &[])),
        (
            r"\Windows\system32\vcruntime140.dll".to_string(),
            x64(&[TestExport::code("F")], &[]),
        ),
        (
            r"\vendor\cache.dll".to_string(),
            dll(&[], &[("vcruntime140.dll", &vc)]),
        ),
        (
            r"\vendor64\wrong.dll".to_string(),
            x64(&[], &[("gone.dll", &vc)]),
        ),
    ];
    let facts = check(
        &MemVolume(files.clone()),
        &install,
        &LoaderScope::default(),
        &LoaderInputs::default(),
    );
    assert_eq!(
        facts.wow64.as_ref().map(|w| w.search[0].as_str()),
        Some(r"\Windows\SysWOW64")
    );
    let m32 = facts.module_in(r"\vendor\cache.dll", true).unwrap();
    assert!(m32.wow64 && m32.workers[0].bits == 32);
    assert_eq!(m32.host_machine, Some(0x14c));
    match &m32.imports[0].outcome {
        Outcome::Missing { searched } => {
            assert_eq!(searched[0], r"\Windows\SysWOW64\inetsrv");
            assert!(
                searched.iter().all(|s| !s.contains("system32")),
                "{searched:?}"
            );
        }
        o => panic!("{o:?}"),
    }
    // A DLL only beside the module: undecided, never found nor missing.
    let mut beside = files.clone();
    beside.push((
        r"\vendor\vcruntime140.dll".to_string(),
        dll(&[TestExport::code("F")], &[]),
    ));
    let b = check(
        &MemVolume(beside),
        &install,
        &LoaderScope::default(),
        &LoaderInputs::default(),
    );
    let m = b.module_in(r"\vendor\cache.dll", true).unwrap();
    assert!(
        matches!(&m.imports[0].outcome, Outcome::NotChecked { reason } if reason.contains("beside the module")),
        "{:?}",
        m.imports[0]
    );
    // The other bitness's image is not walked.
    assert!(facts.module(r"\vendor64\wrong.dll").is_none());
    // The 64-bit worker of the same (x86) file is left to module-bitness.
    assert!(!facts
        .modules
        .iter()
        .any(|m| m.path == r"\vendor\cache.dll" && !m.wow64));
    // With the x86 runtime in SysWOW64, the 32-bit view binds it there.
    files.push((
        r"\Windows\SysWOW64\vcruntime140.dll".to_string(),
        dll(&[TestExport::code("F")], &[]),
    ));
    let facts = check(
        &MemVolume(files),
        &install,
        &LoaderScope::default(),
        &LoaderInputs::default(),
    );
    let m32 = facts.module_in(r"\vendor\cache.dll", true).unwrap();
    assert!(
        matches!(&m32.imports[0].outcome, Outcome::Found { path, .. } if path == r"\Windows\SysWOW64\vcruntime140.dll"),
        "{:?}",
        m32.imports[0]
    );
}

/// A configuration listing thousands of modules is walked to the cap, and
/// the cap is said.
#[test]
fn iis_image_roots_are_capped_and_the_cap_said() {
    use super::loader::MAX_WORKER_ROOTS;
    use super::{ModuleImage, OsInfo};
    let images = (0..MAX_WORKER_ROOTS + 50)
        .map(|i| ModuleImage {
            kind: "module",
            name: format!("M{i}"),
            image: format!(r"C:\m\{i}.dll"),
            pre_condition: Vec::new(),
            bits: 64,
            binary: Some(Binary {
                source: "module".into(),
                path: format!(r"\m\{i}.dll"),
                drive: None,
                found: Some(format!(r"\m\{i}.dll")),
                unreadable: None,
            }),
            register_module: None,
        })
        .collect();
    let install = Install {
        system_root: r"\Windows".into(),
        os: OsInfo {
            bits: Some(64),
            ..OsInfo::default()
        },
        iis_images: images,
        ..Install::default()
    };
    let facts = check(
        &MemVolume(Vec::new()),
        &install,
        &LoaderScope::default(),
        &LoaderInputs::default(),
    );
    assert_eq!(facts.roots.len(), MAX_WORKER_ROOTS);
    assert!(facts
        .capped
        .as_deref()
        .is_some_and(|c| c.contains("IIS module")));
}
