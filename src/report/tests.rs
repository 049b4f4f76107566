//! Renderers on hand-built models: every string a model can carry from an
//! image holds controls, and no text format lets one through.

use std::collections::BTreeMap;

use super::escape::needs_escape;
use super::*;
use crate::analysis::evidence::{
    Evidence, ExplainedBy, FileEvidence, HiveEvidence, OsEvidence, RegistryEvidence, SetEvidence,
    UpdateEvidence, UpdateRecordEvidence,
};
use crate::analysis::{Finding, Knowledge, Severity};
use crate::commands::diagnose::{Diagnosis, VolumeReport};
use crate::commands::versions::VersionRow;
use crate::fs::FileId;
use crate::image::Format;
use crate::pe::{Version, VersionInfo};
use crate::registry::ControlSet;
use crate::volume::{Partition, Scheme};
use crate::windows::{
    AddOn, Binary, HiveInfo, HotfixRecord, Install, OsInfo, PeFile, Service, UpdateRecord,
};
use crate::Unreadable;

/// `s`, made hostile (or not): ESC, a newline, a C1 CSI, a bidi override.
fn h(s: &str, hostile: bool) -> String {
    match hostile {
        true => format!("{s}\x1b[31m\nFAKE\u{9b}2J\u{202e}\t\r\x7f"),
        false => s.to_string(),
    }
}

fn file(hostile: bool) -> FileEvidence {
    FileEvidence {
        file_version: Version::parse("4.2.622.1"),
        file_version_string: Some(h("4.02.0622", hostile)),
        modified: None,
        path: h(r"\WINNT\w3svc.dll", hostile),
        product_version: None,
        size: 1,
    }
}

fn diagnosis(hostile: bool, volumes: usize) -> Diagnosis {
    let s = |x: &str| h(x, hostile);
    let binary = Binary {
        source: s("ImagePath"),
        path: s(r"\WINNT\inetinfo.exe"),
        drive: None,
        found: None,
        unreadable: None,
    };
    let evidence = Evidence {
        control_set: Some(s("ControlSet001")),
        expected_version: Some(s("4.2.769.1")),
        explained_by: Some(ExplainedBy {
            kb: s("Q1"),
            title: s("title"),
        }),
        file: Some(file(hostile)),
        hive: Some(HiveEvidence {
            dirty: true,
            error: Some(s("bad")),
            name: s("SYSTEM"),
            path: s(r"\WINNT\system32\config\SYSTEM"),
        }),
        hotfixes: vec![s("Q301625")],
        os: OsEvidence {
            build: Some(s("1381")),
            service_pack: Some(s("Service Pack 6")),
            version: Some(s("4.0")),
        },
        pending_renames: Some(vec![s(r"\??\C:\x")]),
        registry: Some(RegistryEvidence {
            data: Some(s("w3scfg.dll")),
            key: s("AddOnServices"),
            last_written: None,
            value: s("WWW"),
        }),
        searched: Some(vec![s(r"\WINNT")]),
        service_pack: Some(s("SP6")),
        sets: Some(vec![SetEvidence {
            compared_with: vec![file(hostile)],
            id: s("iis4-www"),
            name: s("IIS 4"),
            reference_version: s("4.2.769.1"),
            why: s("why"),
        }]),
        timeline: Some(vec![s("2001 w3svc.dll last written")]),
        update: Some(UpdateEvidence {
            bulletin: Some(s("MS02-018")),
            kb: s("Q319733"),
            proven_by: vec![file(hostile)],
            title: s("April 2002 Cumulative Patch for IIS"),
        }),
        update_record: Some(UpdateRecordEvidence {
            description: Some(s("MS01-044")),
            file_written_after_install: Some(true),
            id: s("Q301625"),
            install_time: None,
            install_time_precise: Some(true),
            installed_date: Some(s("8/20/2001")),
            key: s(r"SOFTWARE\Microsoft\Updates\Windows 2000\SP3\Q301625"),
            last_written: None,
            location: Some(s(r"%windir%\system32\inetsrv")),
            pack: Some(s("SP3")),
            product: s("Windows 2000"),
            recorded_version: s("5.0.2195.4051"),
        }),
        ..Default::default()
    };
    let finding = |severity| Finding {
        rule: "lockstep-mismatch".into(),
        severity,
        install: s(r"\WINNT"),
        volume: volumes - 1,
        paths: vec![s(r"\WINNT\a.dll"), s(r"\WINNT\b.dll")],
        message: s("message"),
        evidence: evidence.clone(),
        remedy: s("remedy"),
        references: vec![s("Q291589")],
    };
    let install = Install {
        volume: 0,
        system_root: s(r"\WINNT"),
        os: OsInfo {
            name: Some(s("Windows NT 4.0")),
            product_name: None,
            version: Some(s("4.0")),
            build: Some(s("1381")),
            service_pack: Some(s("Service Pack 6")),
            ..Default::default()
        },
        control_set: Some(ControlSet {
            name: s("ControlSet001"),
            number: 1,
            source: "Current".into(),
            select: Default::default(),
            warnings: Vec::new(),
        }),
        hives: vec![HiveInfo {
            name: s("SYSTEM"),
            path: s("p"),
            dirty: false,
            error: None,
            state: Some(crate::windows::HiveState::Primary),
            fallback: None,
        }],
        services: vec![Service {
            name: s("W3SVC"),
            image_path: None,
            service_dll: None,
            service_dll_key: None,
            service_dll_last_written: None,
            start: Some(2),
            service_type: None,
            depend_on_service: Vec::new(),
            install_path: None,
            last_written: None,
            binaries: vec![binary.clone()],
        }],
        hotfixes: vec![HotfixRecord {
            id: s("Q301625"),
            installed: None,
            description: None,
            last_written: None,
        }],
        updates: vec![UpdateRecord {
            id: s("Q301625"),
            product: s("Windows 2000"),
            pack: Some(s("SP3")),
            ..Default::default()
        }],
        addons: vec![AddOn {
            name: s("WWW"),
            last_written: None,
            value: s("w3scfg.dll"),
            dlls: vec![binary],
        }],
        ..Install::default()
    };
    let volume = |index| VolumeReport {
        index,
        partition: Partition {
            index: 1,
            scheme: Scheme::None,
            offset: 0,
            size: 1 << 20,
            type_id: String::new(),
            name: None,
            filesystem: None,
            note: None,
            declared: None,
            active: false,
        },
        filesystem: Some("NTFS"),
        version: Some(s("3.1")),
        label: Some(s("LABEL")),
        cluster_size: Some(4096),
        error: Some(s("error")),
    };
    Diagnosis {
        image: "disk.img".into(),
        format: Format::Raw,
        size: 1 << 20,
        volumes: (0..volumes).map(volume).collect(),
        coverage: vec![crate::analysis::assess(&install, &Knowledge::builtin())],
        installs: vec![install],
        stories: vec![Some(h("story", hostile))],
        lockstep: vec![Vec::new()],
        findings: vec![finding(Severity::Error), finding(Severity::Warning)],
        unreadable: vec![Unreadable {
            path: s(r"\WINNT\x.dll"),
            reason: s("reason"),
        }],
        rules_files: Vec::new(),
        transfer: None,
        boot_entries: Vec::new(),
    }
}

fn assert_inert(text: &str) {
    let bad = text.chars().find(|&c| c != '\n' && needs_escape(c));
    assert!(bad.is_none(), "{bad:?} in:\n{text}");
}

#[test]
fn diagnose_text_escapes_every_string_from_the_image() {
    for volumes in [1, 2] {
        let clean = text_report(&diagnosis(false, volumes));
        let hostile = text_report(&diagnosis(true, volumes));
        assert_inert(&hostile);
        // No value started a line of its own. (The hostile OS version
        // matches no knowledge, which adds the NOT EVALUATED line.)
        let lines = |t: &str| {
            t.lines()
                .filter(|l| !l.starts_with("NOT EVALUATED"))
                .count()
        };
        assert_eq!(lines(&hostile), lines(&clean), "{hostile}");
        assert!(hostile.contains(r"\x1b[31m\nFAKE\u{9b}2J\u{202e}\t\r\x7f"));
    }
}

#[test]
fn findings_name_their_volume_only_when_there_are_several() {
    let one = text_report(&diagnosis(false, 1));
    assert!(one.contains("\n  ERROR [lockstep-mismatch] \\WINNT\\a.dll, \\WINNT\\b.dll\n"));
    let two = text_report(&diagnosis(false, 2));
    assert!(two.contains("\n  ERROR [lockstep-mismatch] volume #1: \\WINNT\\a.dll"));
    assert!(two.contains("\n  WARNING [lockstep-mismatch] volume #1: "));
}

#[test]
fn quiet_leaves_out_volumes_and_installs_only() {
    let d = diagnosis(false, 1);
    let quiet = text_report_with(&d, TextOptions { quiet: true });
    assert!(!quiet.contains("\nVolumes\n") && !quiet.contains("Windows installations"));
    let full = text_report(&d);
    let tail = &full[full.find("\nFindings:").unwrap()..];
    assert!(quiet.ends_with(tail), "{quiet}");
}

fn row(path: &str, description: &str, error: Option<&str>) -> VersionRow {
    let mut strings = BTreeMap::new();
    strings.insert("FileDescription".to_string(), description.to_string());
    VersionRow {
        image: "disk.img".into(),
        volume: 0,
        file: PeFile {
            path: path.into(),
            id: FileId(42),
            size: 3584,
            created: None,
            modified: None,
            compressed: false,
            is_pe: true,
            version: Some(VersionInfo {
                file_version: Version::parse("1.2.3.4"),
                strings,
                ..Default::default()
            }),
            machine: Some(0x8664),
            error: error.map(str::to_string),
        },
    }
}

#[test]
fn csv_quotes_as_rfc_4180_says_and_tsv_escapes_tabs() {
    let rows = [
        row(r"\a,b.dll", "say \"hi\", twice", None),
        row(
            "\\tab\there.dll",
            "line\nbreak",
            Some("no version resource"),
        ),
    ];
    let csv = versions_csv(&rows);
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(
        lines[1],
        r#"0,"\a,b.dll",1.2.3.4,-,3584,-,42,x64,"say ""hi"", twice""#
    );
    assert_eq!(
        lines[2],
        r"0,\tab\there.dll,1.2.3.4,-,3584,-,42,x64,(no version resource)"
    );
    assert_eq!(lines.len(), 4, "{csv:?}");
    // A description a spreadsheet would run as a formula is made text.
    let evil = [row(r"\x.dll", "=HYPERLINK(\"http://x\")", None)];
    let line = versions_csv(&evil)
        .split("\r\n")
        .nth(1)
        .unwrap()
        .to_string();
    assert!(line.ends_with(r#","'=HYPERLINK(""http://x"")""#), "{line}");
    assert!(versions_tsv(&evil).contains("\t'=HYPERLINK("));
    let tsv = versions_tsv(&rows);
    assert!(tsv.lines().all(|l| l.split('\t').count() == 9), "{tsv:?}");
    assert!(tsv.contains("\\tab\\there.dll\t"), "{tsv:?}");
    let table = versions_table(&rows, false);
    assert_inert(&table);
    assert_eq!(table.lines().count(), 3);
    assert!(table.lines().all(|l| !l.ends_with(' ')), "{table}");
}

/// A hive replayed from its old-format log: the text says from which log, the
/// JSON gives `state`, `log` and `state_reason` beside the kept keys, and the
/// coverage says `replayed`.
#[test]
fn a_replayed_hive_is_reported_as_such() {
    use crate::windows::HiveState;
    let mut d = diagnosis(false, 1);
    let log = String::from(r"\WINNT\system32\config\SYSTEM.LOG");
    d.installs[0].hives[0].state = Some(HiveState::Replayed { log: log.clone() });
    d.coverage = vec![crate::analysis::assess(
        &d.installs[0],
        &Knowledge::builtin(),
    )];
    let text = text_report(&d);
    assert!(
        text.contains(r"SYSTEM replayed from \WINNT\system32\config\SYSTEM.LOG"),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&json_report(&d)).unwrap();
    let hive = &json["installs"][0]["hives"][0];
    assert_eq!(hive["state"], "replayed");
    assert_eq!(hive["log"], log.as_str());
    assert_eq!(hive["dirty"], false);
    assert!(hive["state_reason"].is_null());
    assert_eq!(
        json["installs"][0]["coverage"]["hives"][0]["state"],
        "replayed"
    );
}

#[test]
fn volume_lines_name_the_filesystem_version() {
    let mut d = diagnosis(false, 1);
    let has = |d: &Diagnosis, want: &str| {
        let t = text_report(d);
        assert!(t.contains(want), "{want:?} not in:\n{t}");
    };
    has(&d, ", NTFS 3.1, 4096-byte clusters");
    // A FAT type names itself.
    d.volumes[0].filesystem = Some("FAT");
    d.volumes[0].version = Some("FAT16".into());
    has(&d, ", FAT16, 4096-byte clusters");
    d.volumes[0].version = None;
    has(&d, ", FAT, 4096-byte clusters");
}

/// A Windows 10 and later install reads as its product, version and build
/// with the update revision and release, not as the "6.3" it keeps for old
/// programs.
#[test]
fn modern_installs_show_build_revision_and_release() {
    let mut d = diagnosis(false, 1);
    d.installs[0].os = OsInfo {
        product_name: Some("Windows Server 2019 Standard".into()),
        version: Some("10.0".into()),
        current_version: Some("6.3".into()),
        build: Some("17763".into()),
        ubr: Some(1852),
        display_version: Some("1809".into()),
        ..Default::default()
    };
    let t = text_report(&d);
    assert!(
        t.contains("Windows Server 2019 Standard, version 10.0 build 17763.1852 (1809), no service pack recorded"),
        "{t}"
    );
    let j: serde_json::Value = serde_json::from_str(&json_report(&d)).unwrap();
    assert_eq!(j["installs"][0]["os"]["full_version"], "10.0.17763.1852");
    assert_eq!(j["installs"][0]["os"]["current_version"], "6.3");
}

/// `installs[].iis_config`: the configuration's shape in JSON, and the text
/// lines that name each pool's applications and a shared configuration.
#[test]
fn iis_configuration_is_reported_with_pools_and_their_applications() {
    let xml = r#"<configuration><system.applicationHost><applicationPools><add name="Old" enable32BitAppOnWin64="true" managedRuntimeVersion=""/></applicationPools><sites><site name="Shop" id="2"><application path="/" applicationPool="Old"/></site></sites></system.applicationHost><system.webServer><globalModules><add name="M" image="m.dll" preCondition="bitness32"/></globalModules><isapiFilters><filter name="F" path="f.dll"/></isapiFilters><modules><add name="M"/></modules></system.webServer></configuration>"#;
    let mut d = diagnosis(false, 1);
    d.installs[0].iis_config = Some(crate::windows::IisConfigFile {
        path: r"\Windows\System32\inetsrv\config\applicationHost.config".into(),
        redirected_to: Some(r"\\filer\iis".into()),
        config: crate::windows::iis_config::parse(xml.as_bytes()).unwrap(),
        ..Default::default()
    });
    let t = text_report(&d);
    for want in [
        "1 global modules, 1 ISAPI filters, 1 application pools, 1 sites",
        r"shared configuration: the servers read their configuration from \\filer\iis",
        "pool Old: 32-bit on 64-bit, no managed code, Integrated, Shop/",
    ] {
        assert!(t.contains(want), "{want:?} not in:\n{t}");
    }
    let j: serde_json::Value = serde_json::from_str(&json_report(&d)).unwrap();
    let c = &j["installs"][0]["iis_config"];
    let keys: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "app_pools",
            "global_modules",
            "images",
            "isapi_filters",
            "modules",
            "path",
            "problems",
            "redirected_to",
            "schema",
            "sections",
            "sites",
            "uses",
            "web_configs"
        ]
    );
    assert_eq!(c["app_pools"][0]["applications"][0], "Shop/");
    assert_eq!(c["global_modules"][0]["pre_condition"][0], "bitness32");
    assert_eq!(c["modules"][0]["type"], serde_json::Value::Null);
    assert_eq!(c["sites"][0]["applications"][0]["pool"], "Old");
    assert_eq!(c["isapi_filters"][0]["enabled"], true);
}

/// Pending renames read as operations in the text: a final delete, whose
/// empty destination the flat list keeps, is shown as a delete.
#[test]
fn pending_renames_are_shown_as_operations() {
    let mut d = diagnosis(false, 1);
    d.findings[0].evidence.pending_renames = Some(
        [r"\??\C:\a.new", r"!\??\C:\a.dll", r"\??\C:\old.dll", ""]
            .map(String::from)
            .to_vec(),
    );
    let text = text_report(&d);
    assert!(
        text.contains(
            r"pending_renames: \??\C:\a.new -> \??\C:\a.dll (replace existing), \??\C:\old.dll (delete)"
        ),
        "{text}"
    );
}

#[test]
fn html_and_the_timelines_escape_every_string_from_the_image() {
    for volumes in [1, 2] {
        let mut d = diagnosis(true, volumes);
        // Times on every kind of fact, and a name with the body file's separator.
        let t = crate::time::FileTime::new(126_000_000_000_000_000);
        let i = &mut d.installs[0];
        i.iis_setup_written = t;
        i.hotfixes.iter_mut().for_each(|x| x.last_written = t);
        i.services.iter_mut().for_each(|x| x.last_written = t);
        i.addons.iter_mut().for_each(|x| x.last_written = t);
        i.files.push(PeFile {
            path: h(r"\WINNT\a|b.dll", true),
            id: FileId(7),
            machine: None,
            size: 1,
            created: t,
            modified: t,
            compressed: false,
            is_pe: true,
            version: None,
            error: None,
        });
        let page = html_report(&[Outcome::Diagnosed(Box::new(d.clone()))]);
        assert_inert(&page);
        assert!(page.contains(r"\x1b[31m\nFAKE\u{9b}2J\u{202e}\t\r\x7f"));
        let body = bodyfile(&d);
        assert_inert(&body);
        assert!(body.lines().all(|l| l.split('|').count() == 11), "{body}");
        assert!(body.contains(r"a\x7cb.dll"), "{body}");
        // JSON escapes controls itself; the message, for people, is escaped first.
        let events = timeline_jsonl(&d);
        assert!(events.lines().count() >= 4, "{events}");
        for line in events.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(!v["message"].as_str().unwrap().chars().any(needs_escape));
        }
    }
}

#[test]
fn sarif_and_junit_escape_every_string_from_the_image_they_show() {
    let outcomes = [Outcome::Diagnosed(Box::new(diagnosis(true, 2)))];
    let escaped = r"\x1b[31m\nFAKE\u{9b}2J\u{202e}\t\r\x7f";
    // JUnit: well-formed, every attribute and text inert.
    let junit = junit_report(&outcomes);
    let doc = roxmltree::Document::parse(&junit).expect("well-formed XML");
    for n in doc.descendants() {
        n.attributes().for_each(|a| assert_inert(a.value()));
        n.text().into_iter().for_each(assert_inert);
    }
    assert!(junit.contains(escaped), "{junit}");
    // SARIF: every message a viewer shows is inert; the identities (paths,
    // evidence) stay as stored, JSON-escaped.
    let sarif: serde_json::Value = serde_json::from_str(&sarif_report(&outcomes)).unwrap();
    let run = &sarif["runs"][0];
    let results = run["results"].as_array().unwrap();
    let notes = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert!(!results.is_empty() && !notes.is_empty());
    for m in results.iter().chain(notes) {
        let text = m["message"]["text"].as_str().unwrap();
        assert_inert(text);
        assert!(!text.contains('\n'), "{text}");
    }
    assert!(results[0]["message"]["text"]
        .as_str()
        .unwrap()
        .contains(escaped));
}
