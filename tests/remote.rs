//! Remote images over HTTP, against a real nginx on loopback: the seed image
//! (raw) and its E01 diagnosed by URL give the findings the files give, at
//! a fraction of their bytes; a presigned-style query string never appears
//! in any output of any command or format; a redirect to another host is
//! refused unless asked for; a server that ignores Range is refused.
//!
//! nginx (Debian's `nginx`) is started by the test on a free port with its
//! own configuration, pid, logs and temporary folders in a temporary
//! directory, and killed at the end. Without nginx every test says SKIPPED.

mod common;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

const SEED: &str = "nt4-iis4-kb291589.img";
const E01: &str = "containers/nt4-iis4-kb291589-mbr63.E01";
/// What a presigned URL carries: none of it may ever be printed.
const SECRET_SIG: &str = "s3cr3tS1GNATUREd0n0tPR1NT";
const SECRET_KEY: &str = "AKIAEXAMPLEKEYID";
const QUERY: &str = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLEKEYID%2F20260101&X-Amz-Signature=s3cr3tS1GNATUREd0n0tPR1NT";

/// nginx serving `www/img/` (ranges), `norange/` (Range ignored), `hop/`
/// (a redirect to 127.0.0.2, another host for the same server) and
/// `same/` (a redirect on the same host).
struct Nginx {
    child: Child,
    port: u16,
    /// The port of an https server with a self-signed certificate, when
    /// openssl could make one.
    tls_port: Option<u16>,
    _dir: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nginx_binary() -> Option<PathBuf> {
    ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_nginx() -> Option<Nginx> {
    let Some(bin) = nginx_binary() else {
        eprintln!("SKIPPED: nginx not found (apt-get install nginx)");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // The worker may run as another user: it must reach the files.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let img = root.join("www/img");
    std::fs::create_dir_all(&img).unwrap();
    std::fs::create_dir_all(root.join("tmp")).unwrap();
    for f in [SEED, E01] {
        let src = common::testdata().join(f);
        let name = Path::new(f).file_name().unwrap();
        std::fs::copy(&src, img.join(name)).unwrap();
    }
    let port = free_port();
    let tls_port = free_port();
    // A self-signed certificate: verskew must refuse it (TLS is verified).
    let tls = Process::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=127.0.0.1", "-keyout"])
        .arg(root.join("key.pem"))
        .arg("-out")
        .arg(root.join("cert.pem"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let r = root.display();
    let tls_server = match tls {
        true => format!(
            "server {{ listen 127.0.0.1:{tls_port} ssl; ssl_certificate {r}/cert.pem; \
             ssl_certificate_key {r}/key.pem; root {r}/www; }}"
        ),
        false => String::new(),
    };
    let conf = format!(
        r#"
worker_processes 1;
pid {r}/nginx.pid;
error_log {r}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log {r}/access.log;
    client_body_temp_path {r}/tmp/body;
    proxy_temp_path {r}/tmp/proxy;
    fastcgi_temp_path {r}/tmp/fastcgi;
    uwsgi_temp_path {r}/tmp/uwsgi;
    scgi_temp_path {r}/tmp/scgi;
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        listen 127.0.0.2:{port};
        server_name 127.0.0.1;
        root {r}/www;
        location /img/ {{ }}
        location /norange/ {{ alias {r}/www/img/; max_ranges 0; }}
        location ~ ^/hop/(.*)$ {{ return 302 http://127.0.0.2:{port}/img/$1$is_args$args; }}
        location ~ ^/same/(.*)$ {{ return 302 /img/$1$is_args$args; }}
    }}
    {tls_server}
}}
"#
    );
    let conf_path = root.join("nginx.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let child = Process::new(bin)
        .arg("-p")
        .arg(root)
        .arg("-c")
        .arg(&conf_path)
        .arg("-g")
        .arg("daemon off; master_process off;")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let server = Nginx {
        child,
        port,
        tls_port: tls.then_some(tls_port),
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    while TcpStream::connect(("127.0.0.1", port)).is_err()
        || (tls && TcpStream::connect(("127.0.0.1", tls_port)).is_err())
    {
        assert!(
            Instant::now() < deadline,
            "nginx did not listen on 127.0.0.1:{port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(server)
}

impl Nginx {
    /// The URL of a served file, with the secret query.
    fn url(&self, place: &str, file: &str) -> String {
        let name = Path::new(file).file_name().unwrap().to_str().unwrap();
        format!("http://127.0.0.1:{}/{place}/{name}?{QUERY}", self.port)
    }
}

fn verskew() -> Command {
    let mut c = Command::cargo_bin("verskew").unwrap();
    c.current_dir(common::testdata());
    c
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Run {
    let out = verskew().args(args).output().unwrap();
    let r = Run {
        code: out.status.code().expect("exited"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert_no_secret(args, &r.stdout);
    assert_no_secret(args, &r.stderr);
    r
}

fn assert_no_secret(args: &[&str], text: &str) {
    for s in [
        SECRET_SIG,
        SECRET_KEY,
        "X-Amz-Signature",
        "X-Amz-Credential",
    ] {
        assert!(
            !text.contains(s),
            "{args:?}: the query string leaked ({s}):\n{text}"
        );
    }
}

fn json(r: &Run) -> Value {
    serde_json::from_str(r.stdout.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {}", r.stdout))
}

/// The parts of a diagnosis that must not depend on where the bytes came from.
fn findings_of(v: &Value) -> Value {
    serde_json::json!({
        "status": v["status"],
        "findings": v["findings"],
        "summary": v["summary"],
        "installs": v["installs"],
        "unreadable": v["unreadable"],
    })
}

#[test]
fn diagnose_over_http_gives_the_files_findings() {
    let Some(server) = start_nginx() else { return };
    for file in [SEED, E01] {
        let local = run(&["diagnose", "--format", "json", file]);
        let url = server.url("img", file);
        let remote = run(&["diagnose", "--format", "json", &url]);
        assert_eq!(remote.code, local.code, "{file}: {}", remote.stderr);
        let (l, r) = (json(&local), json(&remote));
        assert_eq!(findings_of(&r), findings_of(&l), "{file}");
        assert!(
            l.get("remote").is_none(),
            "a local image has no remote field"
        );
        assert_eq!(r["format"], l["format"]);
        assert_eq!(r["size"], l["size"]);
        let image = r["image"].as_str().unwrap();
        assert!(image.ends_with("?…"), "{image}");
        // The contract: `remote` is {bytes_fetched, requests, retries}, all integers.
        let keys: Vec<&String> = r["remote"].as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["bytes_fetched", "requests", "retries"],
            "{}",
            r["remote"]
        );
        assert!(r["remote"]["retries"].is_u64());
        let fetched = r["remote"]["bytes_fetched"].as_u64().unwrap();
        let requests = r["remote"]["requests"].as_u64().unwrap();
        let stored = std::fs::metadata(common::testdata().join(file))
            .unwrap()
            .len();
        eprintln!(
            "{file}: {fetched} bytes fetched in {requests} requests ({:.0}% of the {stored}-byte file)",
            fetched as f64 * 100.0 / stored as f64
        );
        assert!(fetched > 0 && requests > 0);
        // The raw image: well under its size. The E01 stores the same disk
        // compressed to an eighth, most of which a diagnosis reads: at most
        // one block more than the file (blocks are fetched whole).
        let bound = match file {
            SEED => stored * 3 / 4,
            _ => stored + (32 << 10),
        };
        assert!(
            fetched <= bound,
            "{file}: fetched {fetched} bytes of a {stored}-byte file"
        );
    }
}

#[test]
fn info_reports_bytes_and_requests() {
    let Some(server) = start_nginx() else { return };
    let url = server.url("img", SEED);
    let r = run(&["info", "--format", "json", &url]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r);
    assert_eq!(v["format"], "raw");
    assert!(v["remote"]["bytes_fetched"].as_u64().unwrap() > 0);
    assert!(v["remote"]["requests"].as_u64().unwrap() > 0);
    assert_eq!(v["remote"]["retries"], 0);
    let t = run(&["info", &url]);
    assert_eq!(t.code, 0, "{}", t.stderr);
    assert!(t.stdout.contains("fetched over HTTP: "), "{}", t.stdout);
    // The E01's metadata comes over HTTP too.
    let e = run(&["info", "--format", "json", &server.url("img", E01)]);
    assert_eq!(e.code, 0, "{}", e.stderr);
    assert_eq!(json(&e)["format"], "ewf");
}

#[test]
fn the_query_string_never_appears() {
    let Some(server) = start_nginx() else { return };
    let seed = server.url("img", SEED);
    let e01 = server.url("img", E01);
    let missing = server.url("img", "no-such.img");
    let norange = server.url("norange", SEED);
    let hop = server.url("hop", SEED);
    let out_dir = tempfile::tempdir().unwrap();
    let out_file = out_dir.path().join("report.json");
    let out_arg = out_file.to_str().unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["diagnose", &seed],
        vec!["diagnose", "-v", &seed],
        vec!["diagnose", "--quiet", &seed],
        vec!["diagnose", "--format", "json", &seed, &e01],
        vec!["diagnose", "--format", "json", "--output", out_arg, &seed],
        vec!["versions", &seed],
        vec!["versions", "--format", "json", &seed],
        vec!["versions", "--format", "csv", &e01],
        vec!["versions", "--all", "--format", "tsv", &seed],
        vec!["info", &e01],
        vec!["info", "--format", "json", "--verify", &e01],
        // Failures: their messages name the image too.
        vec!["diagnose", "-v", &missing],
        vec!["diagnose", "--format", "json", &missing],
        vec!["info", "--format", "json", &norange],
        vec!["versions", &norange],
        vec!["diagnose", "--format", "json", &hop],
        vec!["info", "-v", &hop],
        vec!["diagnose", "--partition", "9", &seed],
    ];
    for args in &cases {
        let r = run(args);
        assert!(r.code <= 3, "{args:?}: {}", r.stderr);
    }
    let written = std::fs::read_to_string(&out_file).unwrap();
    assert!(written.contains("\"remote\""), "{written}");
    assert_no_secret(&["--output"], &written);
}

#[test]
fn redirects_to_another_host_are_refused_unless_asked() {
    let Some(server) = start_nginx() else { return };
    let hop = server.url("hop", SEED);
    let r = run(&["diagnose", "--format", "json", &hop]);
    assert_eq!(r.code, 2);
    let v = json(&r);
    assert_eq!(v["kind"], "remote", "{v}");
    let error = v["error"].as_str().unwrap();
    assert!(error.contains("another host (127.0.0.2:"), "{error}");
    assert!(error.contains("--allow-redirect-host"), "{error}");

    let r = run(&[
        "diagnose",
        "--format",
        "json",
        "--allow-redirect-host",
        &hop,
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(json(&r)["findings"]
        .as_array()
        .is_some_and(|f| !f.is_empty()));

    // A redirect on the same host is followed.
    let same = server.url("same", SEED);
    let r = run(&["info", "--format", "json", &same]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn a_server_that_ignores_range_is_refused() {
    let Some(server) = start_nginx() else { return };
    let url = server.url("norange", SEED);
    let r = run(&["info", "--format", "json", &url]);
    assert_eq!(r.code, 2);
    let v = json(&r);
    assert_eq!(v["kind"], "remote");
    let error = v["error"].as_str().unwrap();
    assert!(error.contains("ignores Range requests"), "{error}");
    assert!(error.starts_with(&format!("http://127.0.0.1:{}/norange/", server.port)));

    let r = run(&[
        "diagnose",
        "--format",
        "json",
        &server.url("img", "no-such.img"),
    ]);
    assert_eq!(r.code, 2);
    assert_eq!(json(&r)["kind"], "not-found");
}

#[test]
fn an_untrusted_certificate_is_refused() {
    let Some(server) = start_nginx() else { return };
    let Some(port) = server.tls_port else {
        eprintln!("SKIPPED: openssl could not make a certificate");
        return;
    };
    let url = format!("https://127.0.0.1:{port}/img/{SEED}?{QUERY}");
    let r = run(&["info", "--format", "json", &url]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    let v = json(&r);
    let error = v["error"].as_str().unwrap();
    assert!(
        error.starts_with(&format!("https://127.0.0.1:{port}/img/{SEED}?…")),
        "{error}"
    );
    assert!(
        error.to_ascii_lowercase().contains("certificate"),
        "{error}"
    );
}
