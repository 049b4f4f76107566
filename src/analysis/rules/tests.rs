//! Rule behaviour on small hand-built installs.

use super::analyse;
use crate::analysis::{Knowledge, Severity};
use crate::pe::{Version, VersionInfo};
use crate::windows::{Binary, HotfixRecord, Install, OsInfo, PeFile, Service};

fn file(name: &str, v: &str) -> PeFile {
    PeFile {
        path: format!(r"\WINNT\system32\inetsrv\{name}"),
        id: crate::fs::FileId(0),
        machine: None,
        size: 1,
        created: None,
        modified: None,
        compressed: false,
        is_pe: true,
        version: Some(VersionInfo {
            file_version: Version::parse(v),
            ..Default::default()
        }),
        error: None,
    }
}

fn install(os: Option<&str>, files: Vec<PeFile>, hotfixes: &[&str]) -> Install {
    Install {
        system_root: r"\WINNT".into(),
        os: OsInfo {
            version: os.map(String::from),
            ..Default::default()
        },
        hotfixes: hotfixes
            .iter()
            .map(|id| HotfixRecord {
                id: id.to_string(),
                installed: Some(1),
                description: None,
                last_written: None,
            })
            .collect(),
        files_count: files.len(),
        files,
        ..Install::default()
    }
}

/// The WWW service as IIS 4 registers it, naming `binaries`.
fn w3svc(binaries: Vec<Binary>) -> Service {
    Service {
        name: "W3SVC".into(),
        image_path: Some(r"%SystemRoot%\System32\inetsrv\inetinfo.exe".into()),
        service_dll: None,
        service_dll_key: None,
        service_dll_last_written: None,
        start: Some(2),
        service_type: Some(0x20),
        depend_on_service: vec![],
        install_path: None,
        last_written: None,
        binaries,
    }
}

fn rules(i: &Install) -> Vec<(String, Severity, String)> {
    analyse(i, &Knowledge::builtin())
        .into_iter()
        .map(|f| (f.rule, f.severity, f.paths.join(",")))
        .collect()
}

const CORE: [&str; 4] = ["w3svc.dll", "infocomm.dll", "ssinc.dll", "sspifilt.dll"];

#[test]
fn older_member_is_an_error_once_even_in_two_sets() {
    let mut files: Vec<PeFile> = CORE.iter().map(|n| file(n, "4.2.769.1")).collect();
    files[0] = file("w3svc.dll", "4.2.622.1");
    files.push(file("ftpsvc2.dll", "4.2.769.1"));
    let got = rules(&install(Some("4.0"), files, &[]));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "lockstep-mismatch");
    assert_eq!(got[0].1, Severity::Error);
    assert!(got[0].2.ends_with("w3svc.dll"));
}

#[test]
fn newer_member_is_info_when_a_recorded_hotfix_ships_it_alone() {
    // Q252302 ships w3svc.dll 4.2.725.1 alone.
    let mut files: Vec<PeFile> = CORE.iter().map(|n| file(n, "4.2.680.1")).collect();
    files[0] = file("w3svc.dll", "4.2.725.1");
    let explained = rules(&install(Some("4.0"), files.clone(), &["Q252302"]));
    assert_eq!(
        explained,
        [(
            "lockstep-newer".into(),
            Severity::Info,
            files[0].path.clone()
        )]
    );
    let unexplained = rules(&install(Some("4.0"), files, &[]));
    assert_eq!(unexplained[0].1, Severity::Warning);
}

#[test]
fn families_apply_by_os_or_by_version_line() {
    let mut files: Vec<PeFile> = CORE.iter().map(|n| file(n, "4.2.769.1")).collect();
    files[1] = file("infocomm.dll", "4.2.622.1");
    // No SOFTWARE hive: the IIS 4 version line identifies the family.
    assert_eq!(rules(&install(None, files.clone(), &[])).len(), 1);
    // On Windows 2000 the IIS 4 rules do not apply; IIS 5's compare builds.
    let w2k = rules(&install(Some("5.0"), files, &[]));
    assert!(w2k
        .iter()
        .all(|r| r.0 != "lockstep-mismatch" || r.2.contains("infocomm")));
}

#[test]
fn a_tie_goes_to_the_newest_version() {
    let files = vec![
        file("w3svc.dll", "4.2.622.1"),
        file("infocomm.dll", "4.2.769.1"),
    ];
    let got = rules(&install(Some("4.0"), files, &[]));
    assert!(got
        .iter()
        .any(|r| r.0 == "lockstep-mismatch" && r.2.ends_with("w3svc.dll")));
    assert!(!got.iter().any(|r| r.2.ends_with("infocomm.dll")));
}

#[test]
fn a_lone_member_or_missing_versions_raise_no_lockstep_finding() {
    let mut f = file("w3svc.dll", "4.2.622.1");
    let g = rules(&install(Some("4.0"), vec![f.clone()], &[]));
    assert!(g.is_empty());
    f.version = None;
    f.error = Some("no version resource".into());
    let g = rules(&install(
        Some("4.0"),
        vec![f, file("infocomm.dll", "4.2.769.1")],
        &[],
    ));
    assert_eq!(g.len(), 1);
    assert_eq!(g[0].0, "no-version-resource");
}

#[test]
fn a_binary_that_could_not_be_checked_is_not_called_missing() {
    let mut i = install(Some("4.0"), vec![], &[]);
    let bin = |unreadable: Option<&str>| Binary {
        source: "ImagePath".into(),
        path: r"\WINNT\System32\inetsrv\inetinfo.exe".into(),
        drive: None,
        found: None,
        unreadable: unreadable.map(String::from),
    };
    i.services
        .push(w3svc(vec![bin(Some("directory index: truncated"))]));
    assert!(rules(&i).is_empty());
    i.services[0].binaries = vec![bin(None)];
    assert_eq!(rules(&i)[0].0, "missing-service-binary");
}

/// A missing ServiceDll names the key that holds the value (Parameters or
/// the service key) and that key's time, not always the service key's.
#[test]
fn a_missing_service_dll_names_the_key_that_holds_it() {
    use crate::time::FileTime;
    let mut i = install(Some("6.3"), vec![], &[]);
    let mut svc = w3svc(vec![Binary {
        source: "ServiceDll".into(),
        path: r"\Windows\System32\inetsrv\iisw3adm.dll".into(),
        drive: None,
        found: None,
        unreadable: None,
    }]);
    svc.service_dll = Some(r"%SystemRoot%\System32\inetsrv\iisw3adm.dll".into());
    svc.last_written = FileTime::new(1);
    svc.service_dll_key = Some(r"ControlSet001\Services\W3SVC\Parameters".into());
    svc.service_dll_last_written = FileTime::new(2);
    i.services.push(svc);
    let registry = |i: &Install| {
        let f = analyse(i, &Knowledge::builtin())
            .into_iter()
            .find(|f| f.rule == "missing-service-binary")
            .unwrap();
        f.evidence.registry.unwrap()
    };
    let r = registry(&i);
    assert_eq!(r.key, r"ControlSet001\Services\W3SVC\Parameters");
    assert_eq!(r.last_written, FileTime::new(2));
    assert_eq!(r.value, "ServiceDll");
    assert_eq!(r.data, i.services[0].service_dll);
    // On the service key itself (Windows 8.1 and later).
    i.services[0].service_dll_key = Some(r"ControlSet001\Services\W3SVC".into());
    i.services[0].service_dll_last_written = FileTime::new(1);
    let r = registry(&i);
    assert_eq!(r.key, r"ControlSet001\Services\W3SVC");
    assert_eq!(r.last_written, FileTime::new(1));
}

/// Every rule fires on one of these installs, and each finding's evidence
/// has the base keys, the rule's own keys and nothing else (`explained_by`
/// only when a hotfix explains the file).
#[test]
fn every_rule_fires_with_exactly_its_evidence_keys() {
    use super::ALL;
    use crate::analysis::evidence::BASE_KEYS;
    use crate::windows::{AddOn, HiveInfo};

    let core = |v: &str| -> Vec<PeFile> { CORE.iter().map(|n| file(n, v)).collect() };
    let bin = |source: &str, path: &str| Binary {
        source: source.into(),
        path: path.into(),
        drive: None,
        found: None,
        unreadable: None,
    };
    // IIS 4: w3svc.dll behind its set, ftpsvc2.dll ahead of it, asp.dll
    // without a version, a dirty hive, a queued rename, missing binaries.
    let mut files = core("4.2.769.1");
    files[0] = file("w3svc.dll", "4.2.622.1");
    files.push(file("ftpsvc2.dll", "4.2.800.1"));
    let mut asp = file("asp.dll", "4.2.769.1");
    asp.version = None;
    files.push(asp);
    let mut nt4 = install(Some("4.0"), files, &[]);
    nt4.hives.push(HiveInfo {
        name: "SYSTEM".into(),
        path: r"\WINNT\system32\config\SYSTEM".into(),
        dirty: true,
        error: None,
        state: Some(crate::windows::HiveState::Dirty {
            reason: "no transaction log beside it".into(),
        }),
        fallback: None,
    });
    nt4.pending_renames
        .push(r"\??\C:\WINNT\system32\inetsrv\w3svc.dll".into());
    nt4.pending_operations = crate::windows::PendingOperation::pairs(&nt4.pending_renames);
    nt4.services.push(w3svc(vec![bin(
        "ImagePath",
        r"\WINNT\System32\inetsrv\inetinfo.exe",
    )]));
    nt4.addons.push(AddOn {
        name: "Proxy".into(),
        last_written: None,
        value: "w3pcfg.dll".into(),
        dlls: vec![bin("Proxy", "w3pcfg.dll")],
    });
    // A newer w3svc.dll that a recorded hotfix (Q252302) shipped alone.
    let mut files = core("4.2.680.1");
    files[0] = file("w3svc.dll", "4.2.725.1");
    let explained = install(Some("4.0"), files, &["Q252302"]);
    // Windows Server 2003 reporting SP2 with an SP1-level IIS file.
    let mut w2k3 = install(Some("5.2"), vec![file("w3core.dll", "6.0.3790.1830")], &[]);
    w2k3.os.service_pack = Some("Service Pack 2".into());

    // Windows 2000 after MS02-018 with w3svc.dll put back to an older build,
    // below what its Updates record says it installed.
    let mut w2k = install(
        Some("5.0"),
        with(iis5_after_q319733(), "w3svc.dll", "5.0.2195.3649"),
        &[],
    );
    w2k.updates
        .push(record("Q319733", 10, &[("w3svc.dll", "5.0.2195.5269")]));

    // IIS 10 on 64-bit Windows: one module gone, one 32-bit module in the
    // 64-bit pool.
    let mut agent = file("agent.dll", "3.2.0.7");
    agent.path = r"\Program Files\agent.dll".into();
    agent.machine = Some(0x014c);
    let mut iis10 = install(Some("10.0"), vec![agent], &[]);
    iis10.os.bits = Some(64);
    let xml = r#"<configuration><configSections><sectionGroup name="system.webServer">
        <section name="globalModules" /></sectionGroup></configSections>
        <system.applicationHost><applicationPools>
        <add name="DefaultAppPool" /></applicationPools><sites><site name="Shop" id="1">
        <application path="/"><virtualDirectory path="/" physicalPath="C:\shop" /></application>
        </site></sites></system.applicationHost>
        <system.webServer><globalModules><add name="Gone" image="%windir%\System32\inetsrv\gone.dll" />
        <add name="Agent" image="C:\Program Files\agent.dll" /></globalModules></system.webServer></configuration>"#;
    iis10.iis_config = Some(crate::windows::IisConfigFile {
        path: r"\WINNT\System32\inetsrv\config\applicationHost.config".into(),
        redirected_to: None,
        config: crate::windows::iis_config::parse(xml.as_bytes()).unwrap(),
        ..Default::default()
    });
    // The shop's web.config uses URL Rewrite, which is not installed, and
    // runs ASP.NET Core in process without its request handler.
    {
        let f = iis10.iis_config.as_mut().unwrap();
        let web = r#"<configuration><system.webServer><rewrite><rules /></rewrite>
            <aspNetCore processPath="dotnet" hostingModel="inprocess" /></system.webServer></configuration>"#;
        f.web_configs = vec![crate::windows::WebConfig {
            site: "Shop".into(),
            application: "/".into(),
            pool: "DefaultAppPool".into(),
            bits: Some(64),
            physical_path: r"C:\shop".into(),
            path: Some(r"\shop\web.config".into()),
            state: "read",
            reason: None,
            config: Some(
                crate::windows::iis_config::parse_web_config(web.as_bytes(), &f.config).unwrap(),
            ),
            ancm: Some(crate::windows::AncmHandler {
                hosting_model: "inprocess",
                handler: "aspnetcorev2_inprocess.dll".into(),
                searched: vec![
                    r"\shop\aspnetcorev2_inprocess.dll".into(),
                    r"\Program Files\dotnet\shared\Microsoft.AspNetCore.App\8.0.1\aspnetcorev2_inprocess.dll".into(),
                ],
                found: None,
                state: "missing",
                reason: None,
            }),
        }];
    }
    let module = |name: &str, path: &str, found: bool| crate::windows::ModuleImage {
        kind: "module",
        name: name.into(),
        image: path.into(),
        pre_condition: Vec::new(),
        bits: 64,
        binary: Some(Binary {
            found: found.then(|| path.to_string()),
            ..bin(&format!("module {name}"), path)
        }),
        register_module: found.then_some(Ok(name != "Agent")),
    };
    iis10.iis_images = vec![
        module("Gone", r"\WINNT\System32\inetsrv\gone.dll", false),
        module("Agent", r"\Program Files\agent.dll", true),
    ];

    // The component store: an inetsrv file that is a separate copy of
    // another version than its component's.
    {
        use crate::windows::store::{
            Component, ComponentStore, Link, Manifest, StoreFile, Verdict,
        };
        let live = file("iiscore.dll", "10.0.17763.1697");
        iis10.component_store = Some(ComponentStore {
            path: r"\Windows\WinSxS".into(),
            checked: true,
            hard_links: true,
            files: vec![StoreFile {
                path: live.path.clone(),
                file_version: live.version.as_ref().and_then(|v| v.file_version),
                architectures: vec!["amd64"],
                components: vec![Component {
                    folder: "amd64_microsoft-windows-iis-corewebengine_31bf3856ad364e35_10.0.17763.1852_none_0011223344556677".into(),
                    architecture: "amd64".into(),
                    version: crate::pe::Version::new(10, 0, 17763, 1852),
                    file: live.id,
                }],
                link: Link::NotLinked,
                manifest: Some(Manifest::Compressed),
                evidence: vec!["hard-link", "component-version"],
                verdict: Verdict::VersionDiffers,
            }],
            ..ComponentStore::default()
        });
        iis10.files.push(live);
    }

    // The loader check: a broken import, a missing DLL, a 64-bit module in a
    // 32-bit process and a broken delay import.
    nt4.loader = Some(loader_facts());

    let k = Knowledge::builtin();
    let findings: Vec<_> = [nt4, explained, w2k3, w2k, iis10]
        .iter()
        .flat_map(|i| analyse(i, &k))
        .collect();
    for rule in ALL {
        let of_rule: Vec<_> = findings.iter().filter(|f| f.rule == rule.id()).collect();
        assert!(!of_rule.is_empty(), "{} fired", rule.id());
        for f in of_rule {
            let json = serde_json::to_value(&f.evidence).unwrap();
            let keys: Vec<&str> = json
                .as_object()
                .unwrap()
                .keys()
                .map(|k| k.as_str())
                .collect();
            let allowed: Vec<&str> = BASE_KEYS
                .iter()
                .chain(rule.evidence_keys())
                .copied()
                .collect();
            assert!(
                keys.iter().all(|k| allowed.contains(k)),
                "{}: {keys:?}",
                f.rule
            );
            // The loader rules add `module` for an IIS 7+ image and
            // `runtime` for a runtime DLL (tests/contract.rs pins both).
            let loader_only = ["module", "runtime"];
            let loader_rule =
                ["broken-import", "missing-dependency", "wrong-machine"].contains(&f.rule.as_str());
            let optional = ["control_set", "explained_by", "file_times"];
            // A delay import whose DLL was found has no folders to list.
            let delay_found = f.rule == "broken-delay-import";
            assert!(
                allowed.iter().all(|k| keys.contains(k)
                    || optional.contains(k)
                    || (loader_rule && loader_only.contains(k))
                    || (delay_found && *k == "searched")),
                "{}: {keys:?}",
                f.rule
            );
            assert_eq!(
                keys.contains(&"explained_by"),
                f.rule == "lockstep-newer" && f.severity == Severity::Info
            );
            assert!(rule.severities().contains(&f.severity), "{}", f.rule);
        }
    }
}

/// A hive whose old-format log was replayed is not dirty: no `dirty-hive`
/// finding, and the coverage calls it `replayed`; one read dirty names why.
#[test]
fn a_replayed_hive_raises_no_dirty_hive_finding() {
    use crate::windows::{HiveInfo, HiveState};
    let hive = |dirty: bool, state: HiveState| HiveInfo {
        name: "SYSTEM".into(),
        path: r"\WINNT\system32\config\SYSTEM".into(),
        dirty,
        error: None,
        state: Some(state),
        fallback: None,
    };
    let k = Knowledge::builtin();
    let mut replayed = install(Some("4.0"), Vec::new(), &[]);
    replayed.hives.push(hive(
        false,
        HiveState::Replayed {
            log: r"\WINNT\system32\config\SYSTEM.LOG".into(),
        },
    ));
    assert!(!rules(&replayed).iter().any(|r| r.0 == "dirty-hive"));
    let c = crate::analysis::coverage::assess(&replayed, &k);
    assert_eq!(c.hives[0].state, "replayed");

    let mut dirty = install(Some("4.0"), Vec::new(), &[]);
    dirty.hives.push(hive(
        true,
        HiveState::Dirty {
            reason: "log ignored: SYSTEM.LOG: log base block checksum is wrong".into(),
        },
    ));
    let found = analyse(&dirty, &k);
    let f = found
        .iter()
        .find(|f| f.rule == "dirty-hive")
        .expect("fires");
    assert!(f.message.contains("checksum is wrong"), "{}", f.message);
    let c = crate::analysis::coverage::assess(&dirty, &k);
    assert_eq!(c.hives[0].state, "dirty");
}

/// A queued rename on another drive is named with its letter; one on the
/// install's own drive as before.
#[test]
fn pending_renames_name_the_drive_they_are_on() {
    use crate::windows::DriveLetter;
    let mut i = install(Some("4.0"), vec![], &[]);
    i.volume = 1;
    let letter = |l, v| DriveLetter {
        letter: l,
        volume: v,
        source: String::new(),
    };
    i.drives = vec![
        letter('C', Some(0)),
        letter('D', Some(1)),
        letter('E', None),
    ];
    i.pending_renames = vec![
        r"\??\D:\WINNT\system32\inetsrv\w3svc.dll.new".into(),
        r"\??\D:\WINNT\system32\inetsrv\w3svc.dll".into(),
        r"\??\E:\Proxy\w3svc.dll".into(),
        r"\??\C:\w3svc.dll".into(),
    ];
    i.pending_operations = crate::windows::PendingOperation::pairs(&i.pending_renames);
    let got = rules(&i);
    let pending = got.iter().find(|r| r.0 == "pending-rename").unwrap();
    assert_eq!(
        pending.2,
        r"\WINNT\system32\inetsrv\w3svc.dll,E:\Proxy\w3svc.dll,C:\w3svc.dll"
    );
}

/// The IIS 5 files of Windows 2000 SP2 + MS02-018 (Q319733) with the real
/// within-update spread, as `w2k-iis5-healthy` carries them.
fn iis5_after_q319733() -> Vec<PeFile> {
    let mut files: Vec<PeFile> = [
        "adsiis.dll",
        "asp.dll",
        "ftpctrs2.dll",
        "ftpmib.dll",
        "ftpsvc2.dll",
        "httpext.dll",
        "httpmib.dll",
        "httpodbc.dll",
        "iisrtl.dll",
        "infoadmn.dll",
        "infocomm.dll",
        "isatq.dll",
        "mdsync.dll",
        "ssinc.dll",
        "w3ctrs.dll",
    ]
    .iter()
    .map(|n| file(n, "5.0.2195.5255"))
    .collect();
    files.push(file("w3svc.dll", "5.0.2195.5269"));
    files.push(file("iislog.dll", "5.0.2195.5283"));
    files.push(file("ism.dll", "5.0.2195.5247"));
    files.push(file("fscfg.dll", "5.0.2195.3649"));
    for n in [
        "inetinfo.exe",
        "iisadmin.dll",
        "metadata.dll",
        "wam.dll",
        "admwprox.dll",
    ] {
        files.push(file(n, "5.0.2195.2096"));
    }
    files.push(file("coadmin.dll", "5.0.2195.3649"));
    files.push(file("w3scfg.dll", "5.0.2195.3649"));
    files
}

fn with(mut files: Vec<PeFile>, name: &str, v: &str) -> Vec<PeFile> {
    files.retain(|f| f.name() != name);
    files.push(file(name, v));
    files
}

/// The legitimate spread of one update raises nothing, with or without the
/// registry recording it; so does a later update (Q323332) on top of it.
#[test]
fn an_update_spread_is_quiet() {
    for hotfixes in [&["Q319733"][..], &[]] {
        let i = install(Some("5.0"), iis5_after_q319733(), hotfixes);
        assert!(rules(&i).is_empty(), "{:?}", rules(&i));
    }
    let later = with(iis5_after_q319733(), "asp.dll", "5.0.2195.5917");
    let later = with(later, "isatq.dll", "5.0.2195.5810");
    assert!(rules(&install(Some("5.0"), later, &[])).is_empty());
}

/// A file several updates behind its set on the same 5.0.2195 line is
/// flagged, naming the update, the files that prove it and the file.
#[test]
fn a_file_behind_its_update_is_flagged() {
    let files = with(iis5_after_q319733(), "w3svc.dll", "5.0.2195.3649");
    let i = install(Some("5.0"), files, &[]);
    let found = analyse(&i, &Knowledge::builtin());
    assert_eq!(found.len(), 1, "{found:?}");
    let f = &found[0];
    assert_eq!(f.rule, "behind-update");
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(f.paths, [r"\WINNT\system32\inetsrv\w3svc.dll"]);
    assert_eq!(
        f.evidence.expected_version.as_deref(),
        Some("5.0.2195.5269")
    );
    let u = f.evidence.update.as_ref().unwrap();
    assert_eq!(
        (u.kb.as_str(), u.bulletin.as_deref()),
        ("Q319733", Some("MS02-018"))
    );
    let proof: Vec<&str> = u.proven_by.iter().map(|p| p.path.as_str()).collect();
    assert!(proof.iter().any(|p| p.ends_with("iislog.dll")), "{proof:?}");
    // Versions later updates carried over unchanged prove nothing.
    assert!(
        !proof.iter().any(|p| p.ends_with("infocomm.dll")),
        "{proof:?}"
    );
    assert!(
        f.message.contains("w3svc.dll is at 5.0.2195.3649"),
        "{}",
        f.message
    );
    assert!(f.references.iter().any(|r| r == "MS02-018"));
    let file = f.evidence.file.as_ref().unwrap();
    assert_eq!(file.file_version, Version::parse("5.0.2195.3649"));
}

/// Versions a later update carried over unchanged (Q323332 kept infocomm.dll
/// and five more at Q319733's .5255) do not prove that later update, so its
/// newer asp.dll is not expected.
#[test]
fn carried_over_versions_prove_nothing() {
    let files: Vec<PeFile> = [
        "ftpctrs2.dll",
        "ftpmib.dll",
        "httpmib.dll",
        "infoadmn.dll",
        "infocomm.dll",
        "w3ctrs.dll",
        "asp.dll",
        "isatq.dll",
    ]
    .iter()
    .map(|n| file(n, "5.0.2195.5255"))
    .chain([file("fscfg.dll", "5.0.2195.3649")])
    .collect();
    assert!(rules(&install(Some("5.0"), files, &[])).is_empty());
}

/// One file at an update's own version is not enough to call it applied.
#[test]
fn one_proving_file_is_not_enough() {
    let files = vec![
        file("w3svc.dll", "5.0.2195.5269"),
        file("infocomm.dll", "5.0.2195.2096"),
    ];
    assert!(rules(&install(Some("5.0"), files, &[])).is_empty());
}

/// An update built on a separate, lower-numbered line (Q307633: .43/.44)
/// applied after a mainline one (Q301625: .4051) is not called older.
#[test]
fn separately_numbered_updates_are_not_ordered_by_number() {
    let mut files: Vec<PeFile> = [
        "adsiis.dll",
        "httpext.dll",
        "httpodbc.dll",
        "ftpctrs2.dll",
        "ftpmib.dll",
        "httpmib.dll",
        "w3ctrs.dll",
        "asp.dll",
        "infoadmn.dll",
        "infocomm.dll",
        "isatq.dll",
    ]
    .iter()
    .map(|n| file(n, "5.0.2195.4051"))
    .collect();
    files.push(file("iisrtl.dll", "5.0.2195.4063"));
    let quiet = with(files.clone(), "w3svc.dll", "5.0.2195.44");
    assert!(rules(&install(Some("5.0"), quiet, &[])).is_empty());
    // The same place with a mainline file from before Q301625 is flagged.
    let behind = with(files, "w3svc.dll", "5.0.2195.2096");
    let got = rules(&install(Some("5.0"), behind, &[]));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "behind-update");
}

/// An Updates record of `id`, installed at `t` (FILETIME ticks), listing
/// `files` in inetsrv.
fn record(id: &str, t: u64, files: &[(&str, &str)]) -> crate::windows::UpdateRecord {
    use crate::windows::{UpdateFile, UpdateRecord};
    UpdateRecord {
        id: id.into(),
        product: "Windows 2000".into(),
        pack: Some("SP3".into()),
        key: format!(r"SOFTWARE\Microsoft\Updates\Windows 2000\SP3\{id}"),
        last_written: crate::time::FileTime::new(t),
        file_list: true,
        files: files
            .iter()
            .enumerate()
            .map(|(n, (name, v))| UpdateFile {
                entry: n.to_string(),
                name: Some(name.to_string()),
                version_string: Some(v.to_string()),
                version: Version::parse(v),
                location: Some(r"%windir%\system32\inetsrv".into()),
                path: Some(format!(r"\WINNT\system32\inetsrv\{name}")),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

fn undone(i: &Install) -> Vec<crate::analysis::Finding> {
    analyse(i, &Knowledge::builtin())
        .into_iter()
        .filter(|f| f.rule == "undone-update")
        .collect()
}

/// The file is the truth: a record below it, at it or above it by a later
/// record's own version stays quiet; below it fires, and without times says
/// nothing orders them.
#[test]
fn undone_update_compares_the_file_with_its_record() {
    use crate::time::FileTime;
    const DAY: u64 = 864_000_000_000;
    let files = vec![file("infocomm.dll", "5.0.2195.3649")];
    let mut i = install(Some("5.0"), files, &[]);
    i.updates.push(record(
        "Q1",
        100 * DAY,
        &[("infocomm.dll", "5.0.2195.3649")],
    ));
    assert!(undone(&i).is_empty());
    i.updates.push(record(
        "Q2",
        200 * DAY,
        &[("infocomm.dll", "5.0.2195.4051")],
    ));
    let f = undone(&i);
    assert_eq!(f.len(), 1);
    assert!(
        f[0].message.contains("no time orders the two") || f[0].message.contains("before that")
    );
    // Written after the record's time: put back.
    i.files[0].modified = FileTime::new(300 * DAY);
    let f = undone(&i);
    assert!(
        f[0].message.contains("after Q2 installed 5.0.2195.4051"),
        "{}",
        f[0].message
    );
    assert_eq!(
        f[0].evidence
            .update_record
            .as_ref()
            .unwrap()
            .file_written_after_install,
        Some(true)
    );
    assert!(
        f[0].remedy.contains(
            r"Updates recorded under HKLM\SOFTWARE\Microsoft\Updates only, in install order: Q1, Q2."
        ),
        "{}",
        f[0].remedy
    );
    // A later record that installed exactly this version explains it.
    i.updates.push(record(
        "Q3",
        250 * DAY,
        &[("infocomm.dll", "5.0.2195.3649")],
    ));
    assert!(undone(&i).is_empty());
}

/// A file at a version an update on a separate numbering line shipped is a
/// later build despite its number: not called older than a record.
#[test]
fn undone_update_leaves_separately_numbered_builds_alone() {
    let k = Knowledge::builtin();
    let (name, v) = k
        .update
        .iter()
        .filter(|u| u.numbering == crate::analysis::knowledge::Numbering::Separate)
        .flat_map(|u| u.files.iter())
        .next()
        .map(|(n, v)| (n.clone(), *v))
        .expect("a separately numbered update");
    let mut i = install(Some("5.0"), vec![file(&name, &v.to_string())], &[]);
    i.updates
        .push(record("Q1", 100, &[(&name, "5.0.2195.9000")]));
    assert!(undone(&i).is_empty());
}
/// Loader facts on which each loader rule fires once.
fn loader_facts() -> crate::windows::loader::LoaderFacts {
    use crate::windows::loader::{Import, LoaderFacts, MissingSymbol, Module, Outcome};
    let inet = r"\WINNT\system32\inetsrv";
    let import = |dll: &str, delay: bool, outcome: Outcome, missing: &[&str]| Import {
        dll: dll.into(),
        delay,
        symbols: missing.len().max(1),
        outcome,
        missing: missing
            .iter()
            .map(|m| MissingSymbol {
                symbol: m.to_string(),
                via: Vec::new(),
                exporter: format!(r"{inet}\{dll}"),
            })
            .collect(),
    };
    let found = |dll: &str| Outcome::Found {
        path: format!(r"{inet}\{dll}"),
        known: false,
        unchecked: None,
    };
    let module = |name: &str, machine: u16, imports: Vec<Import>| Module {
        path: format!(r"{inet}\{name}"),
        machine: Some(machine),
        version: None,
        host_machine: Some(0x14c),
        needed_by: vec!["W3SVC".into()],
        imports,
        error: None,
        workers: Vec::new(),
        wow64: false,
    };
    LoaderFacts {
        core_present: Some(true),
        modules: vec![
            module(
                "w3svc.dll",
                0x14c,
                vec![
                    import("isatq.dll", false, found("isatq.dll"), &["AtqSetInfo2"]),
                    import(
                        "gone.dll",
                        false,
                        Outcome::Missing {
                            searched: vec![inet.to_string()],
                        },
                        &[],
                    ),
                    import("ssinc.dll", true, found("ssinc.dll"), &["SsiParseFile"]),
                ],
            ),
            module("isatq.dll", 0x14c, Vec::new()),
            module("filt64.dll", 0x8664, Vec::new()),
        ],
        ..LoaderFacts::default()
    }
}
/// An NT 4.0 install on C: with the IIS 4 core at 4.2.769.1 (w3svc.dll at
/// `w3svc`), and `ops` queued; `sources` are the files read for them.
fn queued(
    w3svc: &str,
    ops: &[(&str, &str)],
    sources: Vec<(&str, crate::windows::SourceState)>,
) -> Install {
    use crate::windows::{DriveLetter, PendingOperation, PendingSource};
    let mut files: Vec<PeFile> = CORE.iter().map(|n| file(n, "4.2.769.1")).collect();
    files[0] = file("w3svc.dll", w3svc);
    let mut i = install(Some("4.0"), files, &[]);
    i.drives = vec![DriveLetter {
        letter: 'C',
        volume: Some(0),
        source: String::new(),
    }];
    let strings: Vec<String> = ops
        .iter()
        .flat_map(|(a, b)| [a.to_string(), b.to_string()])
        .collect();
    i.pending_operations = PendingOperation::pairs(&strings);
    i.pending_renames = strings;
    i.pending_sources = sources
        .into_iter()
        .map(|(s, state)| PendingSource {
            source: s.into(),
            path: s.trim_start_matches(r"\??\C:").into(),
            state,
        })
        .collect();
    i
}

const TMP: &str = r"\??\C:\WINNT\system32\inetsrv\SET1.tmp";
const W3: &str = r"!\??\C:\WINNT\system32\inetsrv\w3svc.dll";

fn read(v: &str) -> crate::windows::SourceState {
    let mut f = file("SET1.tmp", v);
    f.path = r"\WINNT\system32\inetsrv\SET1.tmp".into();
    crate::windows::SourceState::Read(Box::new(f))
}

fn pending_verdict(i: &Install) -> (Severity, &'static str, String) {
    let found = analyse(i, &Knowledge::builtin());
    let f = found
        .iter()
        .find(|f| f.rule == "pending-rename")
        .expect("pending-rename fires");
    let p = f.evidence.pending.as_ref().expect("pending evidence");
    (f.severity, p.verdict, p.why.clone())
}

#[test]
fn a_queued_replacement_that_brings_the_set_into_step_fixes_it() {
    let i = queued("4.2.622.1", &[(TMP, W3)], vec![(TMP, read("4.2.769.1"))]);
    let (sev, verdict, why) = pending_verdict(&i);
    assert_eq!((sev, verdict), (Severity::Warning, "fixes"), "{why}");
    assert!(why.contains("w3svc.dll at 4.2.622.1"), "{why}");
    // The mismatch on disk stands.
    assert!(rules(&i).iter().any(|r| r.0 == "lockstep-mismatch"));
}

#[test]
fn a_queued_old_file_causes_the_mismatch_and_is_an_error() {
    let i = queued("4.2.769.1", &[(TMP, W3)], vec![(TMP, read("4.2.622.1"))]);
    let (sev, verdict, why) = pending_verdict(&i);
    assert_eq!((sev, verdict), (Severity::Error, "causes"), "{why}");
    assert!(why.contains("w3svc.dll at 4.2.622.1"), "{why}");
    assert!(!rules(&i).iter().any(|r| r.0 == "lockstep-mismatch"));
}

#[test]
fn a_queued_delete_of_a_member_causes_and_the_pair_is_kept() {
    let dll = r"\??\C:\WINNT\system32\inetsrv\w3svc.dll";
    // The decoder drops the final empty string: an odd count is a delete.
    let mut i = queued("4.2.769.1", &[], vec![]);
    i.pending_renames = vec![dll.into()];
    i.pending_operations = crate::windows::PendingOperation::pairs(&i.pending_renames);
    let (sev, verdict, why) = pending_verdict(&i);
    assert_eq!((sev, verdict), (Severity::Error, "causes"), "{why}");
    assert!(why.contains("w3svc.dll deleted"), "{why}");
}

#[test]
fn a_missing_source_is_not_checked_and_named() {
    let missing = crate::windows::SourceState::Missing;
    let i = queued("4.2.769.1", &[(TMP, W3)], vec![(TMP, missing)]);
    let (sev, verdict, why) = pending_verdict(&i);
    assert_eq!((sev, verdict), (Severity::Warning, "not-checked"), "{why}");
    assert!(
        why.contains("SET1.tmp") && why.contains("not on disk"),
        "{why}"
    );
}

#[test]
fn a_rename_without_replace_onto_an_existing_file_changes_nothing() {
    let no_bang = r"\??\C:\WINNT\system32\inetsrv\w3svc.dll";
    let i = queued(
        "4.2.622.1",
        &[(TMP, no_bang)],
        vec![(TMP, read("4.2.769.1"))],
    );
    let (_, verdict, why) = pending_verdict(&i);
    assert_eq!(verdict, "unchanged", "{why}");
}

#[test]
fn every_finding_says_which_hive_state_it_rests_on() {
    use crate::windows::{HiveInfo, HiveState};
    let mut files: Vec<PeFile> = CORE.iter().map(|n| file(n, "4.2.769.1")).collect();
    files[0] = file("w3svc.dll", "4.2.622.1");
    let mut i = install(Some("4.0"), files, &[]);
    i.hives = vec![HiveInfo {
        name: "SOFTWARE".into(),
        path: r"\WINNT\system32\config\SOFTWARE".into(),
        dirty: false,
        error: None,
        state: Some(HiveState::Replayed {
            log: r"\WINNT\system32\config\SOFTWARE.LOG".into(),
        }),
        fallback: None,
    }];
    let found = analyse(&i, &Knowledge::builtin());
    assert!(!found.is_empty());
    for f in &found {
        let s = &f.evidence.hive_states;
        assert_eq!(s.len(), 1, "{}", f.rule);
        assert_eq!(s[0].state, "replayed");
        assert_eq!(
            s[0].log.as_deref(),
            Some(r"\WINNT\system32\config\SOFTWARE.LOG")
        );
    }
}

#[test]
fn a_queue_that_mends_one_of_two_old_members_fixes_some() {
    let mut i = queued("4.2.622.1", &[(TMP, W3)], vec![(TMP, read("4.2.769.1"))]);
    i.files[2] = file("ssinc.dll", "4.2.622.1");
    i.files.push(file("ftpsvc2.dll", "4.2.769.1"));
    let (sev, verdict, why) = pending_verdict(&i);
    assert_eq!((sev, verdict), (Severity::Warning, "fixes-some"), "{why}");
    assert!(why.contains("ssinc.dll at 4.2.622.1"), "{why}");
}
