//! `diagnose --format html` in a real browser: headless Chromium renders
//! the page of several factory images (healthy, a lockstep mismatch, an
//! install not covered, IIS 10 module findings) to a PNG and dumps its
//! DOM; the DOM must hold the coverage, timeline and matrix elements the
//! README documents, and the PNG must be a real, non-blank picture. Without
//! Chromium those checks are SKIPPED (said on stderr); the page's own
//! checks (self-contained, no script, escaped) always run.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;

const HEALTHY: &str = "nt4-iis4-healthy.img";
const SEED: &str = "nt4-iis4-kb291589.img";
const NOT_COVERED: &str = "w2k12-iis8.img";
const MODULES: &str = "w2k19-iis10-module-missing.img";

/// The page for `images`, from the binary.
fn page(images: &[&str]) -> String {
    let out = Command::cargo_bin("verskew")
        .unwrap()
        .current_dir(common::testdata())
        .arg("diagnose")
        .args(["--format", "html"])
        .args(images)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1 | 3)),
        "{images:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Nothing on the page reaches out or runs: no script, no element that
/// loads from elsewhere, no stylesheet beyond the inline one.
fn self_contained(html: &str) {
    let lower = html.to_ascii_lowercase();
    for bad in [
        "<script",
        "<link",
        "<iframe",
        "<img",
        "<object",
        "<embed",
        " src=",
        "href=\"http",
        "url(",
        "@import",
        " on",
    ] {
        let hits: Vec<&str> = lower.matches(bad).collect();
        // " on" only as an event attribute (`onload=`), not in prose.
        let real = match bad {
            " on" => lower
                .match_indices(" on")
                .filter(|(i, _)| {
                    let rest = &lower[i + 3..];
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphabetic())
                        .collect();
                    rest[name.len()..].starts_with('=') && !name.is_empty()
                })
                .count(),
            _ => hits.len(),
        };
        assert_eq!(real, 0, "{bad:?} on the page");
    }
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
}

#[test]
fn pages_are_self_contained_deterministic_and_hold_the_documented_elements() {
    let seed = page(&[SEED]);
    self_contained(&seed);
    assert_eq!(seed, page(&[SEED]), "the same image gives the same page");
    for id in [
        "id=\"image-0\"",
        "id=\"image-0-install-0\"",
        "id=\"image-0-install-0-coverage\"",
        "id=\"image-0-install-0-timeline\"",
        "id=\"image-0-install-0-timeline-svg\"",
        "id=\"image-0-install-0-matrix-iis4-www\"",
        "class=\"cell odd older\"",
        "lockstep-mismatch",
    ] {
        assert!(seed.contains(id), "{id} missing from the seed's page");
    }
    let all = page(&[HEALTHY, SEED, NOT_COVERED, MODULES]);
    self_contained(&all);
    assert!(all.contains("id=\"image-3-install-0\""));
    assert!(all.contains("NOT EVALUATED"));
}

/// Chromium, when installed: `/usr/bin/chromium` or `chromium` on PATH.
fn chromium() -> Option<PathBuf> {
    let candidates = [
        PathBuf::from("/usr/bin/chromium"),
        PathBuf::from("chromium"),
    ];
    let found = candidates.into_iter().find(|c| {
        Process::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if found.is_none() {
        eprintln!(
            "SKIPPED: chromium not found (Debian package `chromium`): the page was not rendered"
        );
    }
    found
}

/// Runs headless Chromium on `page` with `args`, in a fresh profile.
fn browse(chromium: &Path, dir: &Path, page: &Path, args: &[&str]) -> std::process::Output {
    let profile = tempfile::tempdir_in(dir).unwrap();
    Process::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap()
}

/// Decodes a PNG's pixel rows (after zlib, before unfiltering) and says
/// how many bytes are neither 0 nor 255: a blank page filters to almost
/// nothing else.
fn colourful_bytes(png: &[u8]) -> usize {
    use std::io::Read;
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let mut at = 8;
    let mut idat = Vec::new();
    while at + 8 <= png.len() {
        let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
        let kind = &png[at + 4..at + 8];
        let body = &png[at + 8..at + 8 + len];
        if kind == b"IDAT" {
            idat.extend_from_slice(body);
        }
        at += 12 + len;
    }
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&idat[..])
        .read_to_end(&mut raw)
        .unwrap();
    raw.iter().filter(|b| **b != 0 && **b != 255).count()
}

#[test]
fn chromium_renders_each_page_with_its_matrix_and_timeline() {
    let Some(chromium) = chromium() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // The blank check tells a blank page from a drawn one.
    let blank = dir.path().join("blank.html");
    std::fs::write(&blank, "<!DOCTYPE html><title>blank</title>").unwrap();
    let blank_png = dir.path().join("blank.png");
    browse(
        &chromium,
        dir.path(),
        &blank,
        &[
            &format!("--screenshot={}", blank_png.display()),
            "--window-size=1200,1600",
            "--hide-scrollbars",
        ],
    );
    let blank_colour = colourful_bytes(&std::fs::read(&blank_png).unwrap());
    assert!(
        blank_colour < 20_000,
        "a blank page has {blank_colour} coloured bytes"
    );
    // (image, what its DOM must hold)
    let cases: [(&str, &[&str]); 4] = [
        (
            HEALTHY,
            &[
                "id=\"image-0-install-0-coverage\"",
                "class=\"coverage evaluated\"",
                "id=\"image-0-install-0-timeline\"",
                "id=\"image-0-install-0-matrix-iis4-www\"",
                "class=\"matrix\"",
            ],
        ),
        (
            SEED,
            &[
                "class=\"matrix has-odd\"",
                "class=\"cell odd older\"",
                "id=\"image-0-install-0-timeline-svg\"",
                "class=\"event event-file\"",
                "class=\"event event-service-pack\"",
                "class=\"finding error\"",
            ],
        ),
        (
            NOT_COVERED,
            &[
                "class=\"coverage not-evaluated\"",
                "class=\"empty no-matrix\"",
                "id=\"image-0-install-0-timeline\"",
                "NOT EVALUATED",
            ],
        ),
        (
            MODULES,
            &[
                "class=\"finding error\"",
                "data-rule=\"missing-module\"",
                "id=\"image-0-install-0-coverage\"",
                "id=\"image-0-install-0-timeline\"",
            ],
        ),
    ];
    for (image, want) in cases {
        let html = page(&[image]);
        let file = dir.path().join(format!("{image}.html"));
        std::fs::write(&file, &html).unwrap();
        let dom = browse(&chromium, dir.path(), &file, &["--dump-dom"]);
        let dom = String::from_utf8_lossy(&dom.stdout);
        assert!(
            dom.contains("</footer>") && dom.contains("</html>"),
            "{image}: the page did not load:\n{dom}"
        );
        for w in want {
            assert!(dom.contains(w), "{image}: {w} not in the DOM");
        }
        assert!(!dom.contains("<script"), "{image}: a script in the DOM");
        let png = dir.path().join(format!("{image}.png"));
        let shot = browse(
            &chromium,
            dir.path(),
            &file,
            &[
                &format!("--screenshot={}", png.display()),
                "--window-size=1200,1600",
                "--hide-scrollbars",
            ],
        );
        let bytes = std::fs::read(&png).unwrap_or_else(|e| {
            panic!(
                "{image}: no screenshot ({e}): {}",
                String::from_utf8_lossy(&shot.stderr)
            )
        });
        assert!(bytes.len() > 20_000, "{image}: a {}-byte PNG", bytes.len());
        let colourful = colourful_bytes(&bytes);
        assert!(
            colourful > 20_000,
            "{image}: the screenshot is blank ({colourful} coloured bytes)"
        );
        eprintln!(
            "{image}: {} bytes of HTML, a {}-byte PNG with {colourful} coloured bytes",
            html.len(),
            bytes.len()
        );
    }
}

/// A hostile file name (`<script>`) in every string of the report is shown
/// as text: the browser builds no script element and the name is on the
/// page as written.
#[test]
fn a_hostile_name_is_shown_not_run() {
    use verskew::analysis::Knowledge;
    use verskew::commands::diagnose::diagnose;
    let mut d = diagnose(&common::testdata().join(SEED), &Knowledge::builtin()).unwrap();
    let evil = "<script>document.title='owned'</script><img src=x onerror=alert(1)>";
    d.image = format!("{evil}.img");
    for f in &mut d.findings {
        f.message = format!("{evil} {}", f.message);
        f.paths = f.paths.iter().map(|p| format!("{p}{evil}")).collect();
        if let Some(file) = f.evidence.file.as_mut() {
            file.path.push_str(evil);
        }
    }
    for s in d.lockstep.iter_mut().flatten() {
        for m in &mut s.members {
            m.path.push_str(evil);
        }
    }
    for i in &mut d.installs {
        i.system_root.push_str(evil);
        for h in &mut i.hotfixes {
            h.id.push_str(evil);
        }
    }
    for s in d.stories.iter_mut().flatten() {
        s.push_str(evil);
    }
    let html = verskew::report::html_report(&[verskew::report::Outcome::Diagnosed(Box::new(d))]);
    // The names are on the page as text; no element came of them.
    for bad in ["<script", "<img"] {
        assert!(!html.contains(bad), "{bad} on the page");
    }
    assert!(html.contains("&lt;script&gt;document.title=&#39;owned&#39;&lt;/script&gt;"));
    let Some(chromium) = chromium() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hostile.html");
    std::fs::write(&file, &html).unwrap();
    let dom = browse(&chromium, dir.path(), &file, &["--dump-dom"]);
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("</footer>"), "the page did not load:\n{dom}");
    assert!(!dom.contains("<script"), "a script element was built");
    assert!(!dom.contains("<img"), "an img element was built");
    assert!(!dom.contains("owned</title>"), "the title was changed");
    assert!(
        dom.contains("&lt;script&gt;"),
        "the name is not shown as text"
    );
}
