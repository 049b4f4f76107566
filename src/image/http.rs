//! Remote images: an `http://` or `https://` URL read by HTTP range
//! requests, never downloaded whole.
//!
//! [`HttpDisk`] is a [`Disk`] whose bytes come from `Range: bytes=a-b`
//! requests through a small block cache: reads are rounded out to
//! [`BLOCK`]-byte blocks, the blocks one read misses are fetched together
//! (missing blocks a short gap apart share one request, the gap refetched),
//! a run of reads that follow each other earns a growing read-ahead, and at
//! most [`CACHE_BLOCKS`] blocks stay in memory (least recently used go
//! first). Memory is bounded by the cache plus one request per reading
//! thread ([`MAX_REQUEST_BLOCKS`] blocks).
//!
//! The first request asks for the first block and learns the size from its
//! `Content-Range`. A server that answers a range request with `200` and
//! the whole body (no range support) is refused without reading that body:
//! downloading is what this module is for not doing. Transient failures
//! (connection errors, timeouts, 408, 429, 5xx) are retried with
//! exponential backoff; every answer must carry the size and entity tag
//! the first one did, so an object replaced while it is read is an error,
//! not a mix of two images.
//!
//! **The query string is a credential.** A presigned S3/GCS/Azure URL
//! carries its signature there, and a URL may carry `user:password@`. The
//! CLI hands every URL to [`alias_urls`] first, which keeps the URL here and
//! gives back its redacted form (`https://host/path?…`) as the image's
//! name: everything after (reports, JSON, errors, progress) only ever sees
//! that name. The URL itself is used only to send requests, and every
//! message made here from the HTTP client's errors is passed through
//! [`scrub`]. Redirects to another host (or from https to http) are refused
//! unless [`RemoteOptions::allow_redirect_host`] is set (`--allow-redirect-host`);
//! their targets are never shown beyond their host.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::{check_range, Disk, ImageError};

/// Bytes per cached block: the smallest unit fetched.
pub const BLOCK: u64 = 16 << 10;
/// Most blocks kept in memory (16 MiB).
pub const CACHE_BLOCKS: usize = 1024;
/// Most blocks one request asks for (2 MiB): longer reads take several.
pub const MAX_REQUEST_BLOCKS: u64 = 128;
/// Most blocks read ahead of a run of reads that follow each other (512 KiB).
const MAX_READ_AHEAD_BLOCKS: u64 = 32;
/// Missing blocks at most this many cached blocks apart share one request.
const MERGE_GAP_BLOCKS: u64 = 2;
/// Retries of a transient failure, with backoff 250 ms, 500 ms, 1 s, 2 s.
const RETRIES: u32 = 4;
const BACKOFF: Duration = Duration::from_millis(250);
/// Most redirects followed for one request.
const MAX_REDIRECTS: usize = 5;
/// Timeouts: connecting (TLS handshake included), waiting for the answer's
/// headers, and receiving one answer's body.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);
const BODY_TIMEOUT: Duration = Duration::from_secs(120);

/// How remote images may be read (set from the command line).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RemoteOptions {
    /// Follow a redirect to another host (a CDN, another region). Off by
    /// default: a URL that names one server is read from that server.
    pub allow_redirect_host: bool,
}

/// What reading a remote image cost so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Transfer {
    /// Body bytes received (every range answer; headers not counted).
    pub bytes_fetched: u64,
    /// HTTP requests sent, retries and redirects included.
    pub requests: u64,
    /// Requests sent again after a transient failure.
    pub retries: u64,
}

/// The counters behind a [`Transfer`], shared by a disk and its image.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    bytes: AtomicU64,
    requests: AtomicU64,
    retries: AtomicU64,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> Transfer {
        Transfer {
            bytes_fetched: self.bytes.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
        }
    }
}

// ---------------------------------------------------------------------
// URLs, their redacted names and the table that keeps them apart.

/// True when `path` is an `http://` or `https://` URL (scheme in any case).
pub fn is_url(path: &Path) -> bool {
    path.to_str().is_some_and(|s| parts(s).is_some())
}

/// One URL split at its delimiters (RFC 3986's generic syntax, enough for
/// http and https).
struct Parts<'a> {
    https: bool,
    userinfo: Option<&'a str>,
    /// `host[:port]` as written.
    host: &'a str,
    path: &'a str,
    query: Option<&'a str>,
    fragment: Option<&'a str>,
}

fn parts(url: &str) -> Option<Parts<'_>> {
    let (scheme, rest) = url.split_once("://")?;
    let https = match scheme.to_ascii_lowercase().as_str() {
        "http" => false,
        "https" => true,
        _ => return None,
    };
    let (rest, fragment) = match rest.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (rest, None),
    };
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let (userinfo, host) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    if host.is_empty() {
        return None;
    }
    Some(Parts {
        https,
        userinfo,
        host,
        path,
        query,
        fragment,
    })
}

impl Parts<'_> {
    fn scheme(&self) -> &'static str {
        if self.https {
            "https"
        } else {
            "http"
        }
    }

    /// `host:port` in lower case with the scheme's default port filled in:
    /// what "the same host" compares.
    fn origin(&self) -> String {
        let host = self.host.to_ascii_lowercase();
        let has_port = match host.rfind(']') {
            Some(i) => host[i..].contains(':'),
            None => host.contains(':'),
        };
        match (has_port, self.https) {
            (true, _) => host,
            (false, true) => format!("{host}:443"),
            (false, false) => format!("{host}:80"),
        }
    }

    /// The URL a request goes to: no fragment (never sent), no user info
    /// (not sent as a header either: presigned URLs carry their
    /// credential in the query).
    fn request_url(&self) -> String {
        match self.query {
            Some(q) => format!("{}://{}{}?{q}", self.scheme(), self.host, self.path),
            None => format!("{}://{}{}", self.scheme(), self.host, self.path),
        }
    }
}

/// The form of `url` that may be shown: user info, query string and
/// fragment replaced by `…` (`https://bucket.s3.amazonaws.com/img.E01?…`).
/// A string that is no http(s) URL is returned as it is.
pub fn redact(url: &str) -> String {
    let Some(p) = parts(url) else {
        return url.to_string();
    };
    let mut out = format!("{}://", p.scheme());
    if p.userinfo.is_some() {
        out.push_str("…@");
    }
    out.push_str(p.host);
    out.push_str(p.path);
    if p.query.is_some_and(|q| !q.is_empty()) || p.fragment.is_some_and(|f| !f.is_empty()) {
        out.push_str("?…");
    }
    out
}

struct Registered {
    alias: String,
    url: String,
    options: RemoteOptions,
}

/// The URLs given on this run, under their redacted names. Only this module
/// reads it.
static REGISTRY: Mutex<Vec<Registered>> = Mutex::new(Vec::new());

fn registry() -> MutexGuard<'static, Vec<Registered>> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// Replaces every `http(s)://` URL in `paths` by its redacted name and
/// keeps the URL (with `options`) where [`super::open`] finds it. Two URLs
/// that redact alike get `#2`, `#3`… after the name. Other paths are left
/// as they are.
pub fn alias_urls(paths: &mut [PathBuf], options: RemoteOptions) {
    for p in paths.iter_mut() {
        let Some(url) = p
            .to_str()
            .filter(|s| parts(s).is_some())
            .map(str::to_string)
        else {
            continue;
        };
        *p = PathBuf::from(register(&url, options));
    }
}

/// Keeps `url` and returns the name it goes by (see [`alias_urls`]).
pub fn register(url: &str, options: RemoteOptions) -> String {
    let mut reg = registry();
    if let Some(r) = reg.iter_mut().find(|r| r.url == url) {
        r.options = options;
        return r.alias.clone();
    }
    let base = redact(url);
    let mut alias = base.clone();
    let mut n = 1;
    while reg.iter().any(|r| r.alias == alias) {
        n += 1;
        alias = format!("{base}#{n}");
    }
    reg.push(Registered {
        alias: alias.clone(),
        url: url.to_string(),
        options,
    });
    alias
}

/// The URL behind an image name: a registered name gives its URL; an
/// unregistered URL (a library caller that skipped [`alias_urls`]) is
/// registered now, with default options, so that what is shown of it is
/// redacted all the same.
fn resolve(path: &Path) -> Option<(String, String, RemoteOptions)> {
    let s = path.to_str()?;
    parts(s)?;
    {
        let reg = registry();
        if let Some(r) = reg.iter().find(|r| r.alias == s) {
            return Some((r.alias.clone(), r.url.clone(), r.options));
        }
    }
    let alias = register(s, RemoteOptions::default());
    Some((alias, s.to_string(), RemoteOptions::default()))
}

/// `text` with every secret part of every URL seen on this run (query
/// strings, fragments, user info, and whole URLs) replaced by `…`. Applied
/// to every message built from the HTTP client's own errors.
pub fn scrub(text: &str) -> String {
    let reg = registry();
    let urls: Vec<&str> = reg.iter().map(|r| r.url.as_str()).collect();
    scrub_with(text, &urls)
}

fn scrub_with(text: &str, urls: &[&str]) -> String {
    let mut out = text.to_string();
    for url in urls {
        let Some(p) = parts(url) else { continue };
        // Whole URLs first (their redacted form reads well), then the parts
        // on their own (a client may quote them apart).
        for whole in [url.to_string(), p.request_url()] {
            if !whole.is_empty() {
                out = out.replace(&whole, &redact(url));
            }
        }
        for secret in [p.query, p.fragment, p.userinfo].into_iter().flatten() {
            if !secret.is_empty() {
                out = out.replace(secret, "…");
            }
        }
    }
    out
}

// ---------------------------------------------------------------------
// Opening.

/// Opens the remote image at `path` when it names one (`None` otherwise):
/// the disk, its counters and the name it goes by.
pub(crate) fn open(path: &Path) -> Option<Result<HttpDisk, ImageError>> {
    let (alias, url, options) = resolve(path)?;
    Some(HttpDisk::open(PathBuf::from(alias), url, options))
}

/// A remote image read by range requests.
#[derive(Clone)]
pub(crate) struct HttpDisk {
    inner: Arc<Inner>,
}

struct Inner {
    /// The redacted name: the only form of the URL in any message.
    alias: PathBuf,
    /// The URL as given: a credential, sent and never shown.
    url: String,
    /// Where redirects of the first request ended (same credentials rule).
    target: Mutex<String>,
    options: RemoteOptions,
    agent: ureq::Agent,
    size: u64,
    etag: Option<String>,
    cache: Mutex<Cache>,
    counters: Arc<Counters>,
}

impl HttpDisk {
    fn open(alias: PathBuf, url: String, options: RemoteOptions) -> Result<Self, ImageError> {
        let p = parts(&url).ok_or_else(|| ImageError::format(&alias, "not an http(s) URL"))?;
        let target = p.request_url();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_recv_response(Some(RESPONSE_TIMEOUT))
            .timeout_recv_body(Some(BODY_TIMEOUT))
            .user_agent(concat!("verskew/", env!("CARGO_PKG_VERSION")))
            // A compressed answer's bytes are not the object's bytes.
            .accept_encoding("identity")
            .build()
            .into();
        let mut disk = Inner {
            alias,
            url,
            target: Mutex::new(target),
            options,
            agent,
            size: 0,
            etag: None,
            cache: Mutex::new(Cache::default()),
            counters: Arc::new(Counters::default()),
        };
        // The first block: the size, the entity tag, and the bytes the
        // format is recognised by.
        let got = disk
            .fetch(0, BLOCK, true)
            .map_err(|f| f.image_error(&disk.alias))?;
        disk.size = got.total;
        disk.etag = got.etag.clone();
        let mut cache = disk.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.store_run(0, &got.bytes, got.total);
        drop(cache);
        Ok(HttpDisk {
            inner: Arc::new(disk),
        })
    }

    pub(crate) fn alias(&self) -> &Path {
        &self.inner.alias
    }

    pub(crate) fn counters(&self) -> Arc<Counters> {
        Arc::clone(&self.inner.counters)
    }

    /// The entity tag the server gave the object, when it gave one.
    pub(crate) fn etag(&self) -> Option<&str> {
        self.inner.etag.as_deref()
    }
}

impl Disk for HttpDisk {
    fn size(&self) -> u64 {
        self.inner.size
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let d = &self.inner;
        check_range(&d.alias, offset, buf.len(), d.size)?;
        d.read(offset, buf).map_err(|f| {
            std::io::Error::new(
                f.kind,
                format!(
                    "{}: HTTP read of {} bytes at offset {offset} failed: {}",
                    d.alias.display(),
                    buf.len(),
                    f.what
                ),
            )
        })
    }
}

impl ::ewf::SegmentBacking for HttpDisk {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        let n = (self.inner.size.saturating_sub(offset)).min(buf.len() as u64) as usize;
        self.read_exact_at(offset, &mut buf[..n])?;
        Ok(n)
    }

    fn len(&self) -> u64 {
        self.inner.size
    }
}

// ---------------------------------------------------------------------
// The block cache.

#[derive(Default)]
struct Cache {
    blocks: HashMap<u64, Cached>,
    tick: u64,
    /// The block after the last one fetched, and how far the current run
    /// of reads that follow each other reads ahead.
    next: u64,
    ahead: u64,
}

struct Cached {
    data: Arc<[u8]>,
    used: u64,
}

impl Cache {
    fn get(&mut self, block: u64) -> Option<Arc<[u8]>> {
        self.tick += 1;
        let tick = self.tick;
        self.blocks.get_mut(&block).map(|c| {
            c.used = tick;
            Arc::clone(&c.data)
        })
    }

    fn insert(&mut self, block: u64, data: Arc<[u8]>) {
        self.tick += 1;
        if !self.blocks.contains_key(&block) && self.blocks.len() >= CACHE_BLOCKS {
            if let Some(old) = self
                .blocks
                .iter()
                .min_by_key(|(_, c)| c.used)
                .map(|(b, _)| *b)
            {
                self.blocks.remove(&old);
            }
        }
        let used = self.tick;
        self.blocks.insert(block, Cached { data, used });
    }

    /// Stores the blocks of `bytes`, which start at block `first`.
    fn store_run(&mut self, first: u64, bytes: &[u8], size: u64) {
        for (i, piece) in bytes.chunks(BLOCK as usize).enumerate() {
            let b = first + i as u64;
            let want = (size.saturating_sub(b * BLOCK)).min(BLOCK) as usize;
            if piece.len() == want {
                self.insert(b, Arc::from(piece));
            }
        }
    }
}

/// Copies the part of a block (starting at disk byte `start`) that falls in
/// `buf` (starting at disk byte `offset`).
fn copy_overlap(start: u64, data: &[u8], offset: u64, buf: &mut [u8]) {
    let end = start + data.len() as u64;
    let (lo, hi) = (start.max(offset), end.min(offset + buf.len() as u64));
    if lo < hi {
        let src = &data[(lo - start) as usize..(hi - start) as usize];
        buf[(lo - offset) as usize..(hi - offset) as usize].copy_from_slice(src);
    }
}

// ---------------------------------------------------------------------
// Requests.

/// Why a request failed: the io kind it maps to and a message that names
/// no URL.
#[derive(Debug)]
struct Fail {
    kind: std::io::ErrorKind,
    what: String,
    /// Worth sending again (connection trouble, timeouts, 408/429/5xx).
    transient: bool,
    /// A refusal of the remote-image rules (no ranges, a redirect refused,
    /// an object that changed) rather than an I/O failure.
    refused: bool,
}

impl Fail {
    fn io(kind: std::io::ErrorKind, what: impl Into<String>) -> Self {
        Fail {
            kind,
            what: what.into(),
            transient: false,
            refused: false,
        }
    }

    fn refused(what: impl Into<String>) -> Self {
        Fail {
            kind: std::io::ErrorKind::InvalidData,
            what: what.into(),
            transient: false,
            refused: true,
        }
    }

    fn transient(mut self) -> Self {
        self.transient = true;
        self
    }

    fn image_error(self, alias: &Path) -> ImageError {
        if self.refused {
            return ImageError::Remote {
                path: alias.to_path_buf(),
                what: self.what,
            };
        }
        ImageError::Open {
            path: alias.to_path_buf(),
            source: std::io::Error::new(self.kind, self.what),
        }
    }
}

/// One range answer.
struct Got {
    total: u64,
    etag: Option<String>,
    bytes: Vec<u8>,
}

/// What one request came back with.
enum Answer {
    Data(Got),
    Redirect(String),
}

impl Inner {
    fn lock_cache(&self) -> MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Fills `buf` from the cache, fetching the blocks it lacks.
    fn read(&self, offset: u64, buf: &mut [u8]) -> Result<(), Fail> {
        if buf.is_empty() {
            return Ok(());
        }
        let first = offset / BLOCK;
        let last = (offset + buf.len() as u64 - 1) / BLOCK;
        let blocks = self.size.div_ceil(BLOCK);
        let mut missing = Vec::new();
        let runs = {
            let mut cache = self.lock_cache();
            for b in first..=last {
                match cache.get(b) {
                    Some(data) => copy_overlap(b * BLOCK, &data, offset, buf),
                    None => missing.push(b),
                }
            }
            if missing.is_empty() {
                return Ok(());
            }
            let mut runs = group(&missing);
            // A read that starts where the last fetch ended reads further
            // ahead each time (a file or a table read in pieces); any
            // other read fetches only what it needs.
            let sequential = missing[0] == cache.next && cache.next != 0;
            cache.ahead = match sequential {
                true => (cache.ahead * 2).clamp(1, MAX_READ_AHEAD_BLOCKS),
                false => 0,
            };
            // Read ahead up to the next block already held.
            if let Some(run) = runs.last_mut() {
                for _ in 0..cache.ahead {
                    let next = run.1 + 1;
                    if next >= blocks || cache.blocks.contains_key(&next) {
                        break;
                    }
                    run.1 = next;
                }
            }
            runs
        };
        for (start, end) in runs {
            let mut b = start;
            while b <= end {
                let stop = end.min(b + MAX_REQUEST_BLOCKS - 1);
                let from = b * BLOCK;
                let to = ((stop + 1) * BLOCK).min(self.size);
                let got = self.fetch(from, to - from, false)?;
                if got.bytes.len() as u64 != to - from {
                    return Err(Fail::io(
                        std::io::ErrorKind::UnexpectedEof,
                        format!(
                            "the server sent {} of the {} bytes asked for",
                            got.bytes.len(),
                            to - from
                        ),
                    ));
                }
                copy_overlap(from, &got.bytes, offset, buf);
                let mut cache = self.lock_cache();
                cache.store_run(b, &got.bytes, self.size);
                cache.next = stop + 1;
                b = stop + 1;
            }
        }
        Ok(())
    }

    /// Asks for `len` bytes at `start` (fewer at the end of the object),
    /// following redirects as the options allow and retrying transient
    /// failures. `first`: the opening request, which learns the size.
    fn fetch(&self, start: u64, len: u64, first: bool) -> Result<Got, Fail> {
        let mut url = self
            .target
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for _ in 0..=MAX_REDIRECTS {
            match self.with_retries(&url, start, len, first)? {
                Answer::Data(got) => {
                    if !first {
                        self.same_object(&got)?;
                    }
                    if first {
                        // Later requests go straight where redirects led.
                        *self.target.lock().unwrap_or_else(|e| e.into_inner()) = url;
                    }
                    return Ok(got);
                }
                Answer::Redirect(location) => url = self.follow(&url, &location)?,
            }
        }
        Err(Fail::refused(format!(
            "more than {MAX_REDIRECTS} redirects"
        )))
    }

    /// The answer must be the object the first answer was: same size, same
    /// entity tag.
    fn same_object(&self, got: &Got) -> Result<(), Fail> {
        if got.total != self.size {
            return Err(Fail::refused(format!(
                "the remote object changed while it was read (its size was {} bytes, now {})",
                self.size, got.total
            )));
        }
        if let (Some(was), Some(now)) = (&self.etag, &got.etag) {
            if was != now {
                return Err(Fail::refused(
                    "the remote object changed while it was read (its ETag changed)",
                ));
            }
        }
        Ok(())
    }

    /// Where a redirect from `from` to `location` goes, when the rules let
    /// it: the same scheme and host, or any host with
    /// `--allow-redirect-host`; never from https to http.
    fn follow(&self, from: &str, location: &str) -> Result<String, Fail> {
        let next = resolve_location(from, location)
            .ok_or_else(|| Fail::refused("redirected to a location that is not an http(s) URL"))?;
        let (a, b) = (parts(from), parts(&next));
        let (Some(a), Some(b)) = (a, b) else {
            return Err(Fail::refused(
                "redirected to a location that is not an http(s) URL",
            ));
        };
        if a.https && !b.https {
            return Err(Fail::refused(format!(
                "redirected from https to http ({}), refused",
                b.host
            )));
        }
        if a.origin() != b.origin() && !self.options.allow_redirect_host {
            return Err(Fail::refused(format!(
                "redirected to another host ({}), refused: pass --allow-redirect-host to follow it",
                b.host
            )));
        }
        Ok(b.request_url())
    }

    fn with_retries(&self, url: &str, start: u64, len: u64, first: bool) -> Result<Answer, Fail> {
        let mut attempt = 0;
        loop {
            match self.once(url, start, len, first) {
                Err(f) if f.transient && attempt < RETRIES => {
                    std::thread::sleep(BACKOFF * 2u32.pow(attempt));
                    attempt += 1;
                    self.counters.retries.fetch_add(1, Ordering::Relaxed);
                }
                other => return other,
            }
        }
    }

    /// One request.
    fn once(&self, url: &str, start: u64, len: u64, first: bool) -> Result<Answer, Fail> {
        let end = start + len.max(1) - 1;
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        let response = self
            .agent
            .get(url)
            .header("Range", format!("bytes={start}-{end}"))
            .call()
            .map_err(|e| self.client_error(url, e))?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        match status {
            206 => {}
            301 | 302 | 303 | 307 | 308 => {
                return match header("location") {
                    Some(l) => Ok(Answer::Redirect(l)),
                    None => Err(Fail::refused(format!(
                        "the server answered {status} without a Location"
                    ))),
                };
            }
            200 => {
                return Err(Fail::refused(
                    "the server ignores Range requests (it answered 200 with the whole object): \
                     remote images are read by ranges, never downloaded; serve it from a server \
                     that supports byte ranges, or download it yourself",
                ));
            }
            416 if first => {
                // Only an empty object has no first byte to send.
                let total = header("content-range").as_deref().and_then(unsatisfied_total);
                return match total {
                    Some(0) => Ok(Answer::Data(Got {
                        total: 0,
                        etag: header("etag"),
                        bytes: Vec::new(),
                    })),
                    _ => Err(Fail::refused(
                        "the server refused the range of the first block (416) for a non-empty object",
                    )),
                };
            }
            404 | 410 => {
                return Err(Fail::io(
                    std::io::ErrorKind::NotFound,
                    format!("the server answered {status} (no such object)"),
                ))
            }
            401 | 403 => {
                return Err(Fail::io(
                    std::io::ErrorKind::PermissionDenied,
                    format!(
                        "the server answered {status} (access denied: a presigned URL may have expired)"
                    ),
                ))
            }
            408 | 429 | 500 | 502 | 503 | 504 => {
                return Err(Fail::io(
                    std::io::ErrorKind::Other,
                    format!("the server answered {status}"),
                )
                .transient())
            }
            _ => {
                return Err(Fail::refused(format!(
                    "the server answered {status} to a range request"
                )))
            }
        }
        let content_range = header("content-range").unwrap_or_default();
        let Some((from, to, total)) = content_range_of(&content_range) else {
            return Err(Fail::refused(
                "the server's 206 answer has no usable Content-Range (a multi-range or unsized answer)",
            ));
        };
        // The answer must be the range asked for, or its start clipped at
        // the end of the object: never more than asked (that is what we
        // allocate for).
        if from != start || to > end || to < from || to >= total {
            return Err(Fail::refused(format!(
                "the server sent bytes {from}-{to} when asked for {start}-{end}"
            )));
        }
        if !first && to != end.min(total - 1) {
            return Err(Fail::refused(format!(
                "the server sent bytes {from}-{to} when asked for {start}-{end}"
            )));
        }
        let want = (to - from + 1) as usize;
        let etag = header("etag");
        let mut bytes = Vec::with_capacity(want);
        let mut body = response.into_body().into_reader().take(want as u64);
        let read = body.read_to_end(&mut bytes);
        self.counters
            .bytes
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        if let Err(e) = read {
            return Err(Fail::io(
                e.kind(),
                format!(
                    "the answer broke off: {}",
                    self.scrubbed(url, &e.to_string())
                ),
            )
            .transient());
        }
        if bytes.len() != want {
            return Err(Fail::io(
                std::io::ErrorKind::UnexpectedEof,
                format!("the answer broke off after {} of {want} bytes", bytes.len()),
            )
            .transient());
        }
        Ok(Answer::Data(Got { total, etag, bytes }))
    }

    /// An error of the HTTP client, as a message that names no URL.
    fn client_error(&self, url: &str, e: ureq::Error) -> Fail {
        use ureq::Error as E;
        // Connection trouble is worth another try; a certificate the
        // client refused (an `Io` error of kind InvalidData) is not.
        let transient = match &e {
            E::Io(io) => {
                use std::io::ErrorKind as K;
                matches!(
                    io.kind(),
                    K::ConnectionReset
                        | K::ConnectionAborted
                        | K::ConnectionRefused
                        | K::BrokenPipe
                        | K::TimedOut
                        | K::UnexpectedEof
                        | K::Interrupted
                )
            }
            E::Timeout(_) | E::ConnectionFailed | E::HostNotFound => true,
            _ => false,
        };
        let kind = match &e {
            E::Io(io) => io.kind(),
            E::Timeout(_) => std::io::ErrorKind::TimedOut,
            _ => std::io::ErrorKind::Other,
        };
        let f = Fail::io(kind, self.scrubbed(url, &e.to_string()));
        match transient {
            true => f.transient(),
            false => f,
        }
    }

    fn scrubbed(&self, url: &str, text: &str) -> String {
        scrub_with(&scrub(text), &[&self.url, url])
    }
}

/// Missing blocks (ascending) as inclusive runs; blocks at most
/// [`MERGE_GAP_BLOCKS`] apart share a run.
fn group(missing: &[u64]) -> Vec<(u64, u64)> {
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for &b in missing {
        match runs.last_mut() {
            Some(run) if b <= run.1 + 1 + MERGE_GAP_BLOCKS => run.1 = b,
            _ => runs.push((b, b)),
        }
    }
    runs
}

/// `bytes 0-99/1234` → (0, 99, 1234).
fn content_range_of(v: &str) -> Option<(u64, u64, u64)> {
    let rest = v.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (a, b) = range.split_once('-')?;
    Some((
        a.trim().parse().ok()?,
        b.trim().parse().ok()?,
        total.trim().parse().ok()?,
    ))
}

/// `bytes */1234` → 1234.
fn unsatisfied_total(v: &str) -> Option<u64> {
    v.trim()
        .strip_prefix("bytes")?
        .trim_start()
        .strip_prefix("*/")?
        .trim()
        .parse()
        .ok()
}

/// The absolute URL a `Location` names, relative to `base`.
fn resolve_location(base: &str, location: &str) -> Option<String> {
    let location = location.trim();
    if parts(location).is_some() {
        return Some(location.to_string());
    }
    let b = parts(base)?;
    if let Some(rest) = location.strip_prefix("//") {
        return Some(format!("{}://{rest}", b.scheme()));
    }
    if location.starts_with('/') {
        return Some(format!("{}://{}{location}", b.scheme(), b.host));
    }
    if location.contains("://") || location.is_empty() {
        return None;
    }
    let dir = match b.path.rfind('/') {
        Some(i) => &b.path[..=i],
        None => "/",
    };
    Some(format!("{}://{}{dir}{location}", b.scheme(), b.host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_credentials() {
        assert_eq!(
            redact("https://b.s3.amazonaws.com/x/img.E01?X-Amz-Signature=abc&X-Amz-Credential=k"),
            "https://b.s3.amazonaws.com/x/img.E01?…"
        );
        assert_eq!(
            redact("HTTP://user:pw@host:8080/a.img"),
            "http://…@host:8080/a.img"
        );
        assert_eq!(redact("http://host/a.img"), "http://host/a.img");
        assert_eq!(redact("http://host/a.img#frag"), "http://host/a.img?…");
        assert_eq!(redact("/local/file.img"), "/local/file.img");
        assert!(!is_url(Path::new("ftp://host/a")));
        assert!(!is_url(Path::new("http://")));
        assert!(is_url(Path::new("Https://h/a")));
    }

    #[test]
    fn aliases_are_unique_and_resolve_back() {
        let mut paths = vec![
            PathBuf::from("https://alias-test.example/i.img?sig=ONE"),
            PathBuf::from("https://alias-test.example/i.img?sig=TWO"),
            PathBuf::from("local.img"),
        ];
        alias_urls(&mut paths, RemoteOptions::default());
        assert_eq!(paths[0], Path::new("https://alias-test.example/i.img?…"));
        assert_eq!(paths[1], Path::new("https://alias-test.example/i.img?…#2"));
        assert_eq!(paths[2], Path::new("local.img"));
        let (_, url, _) = resolve(&paths[1]).unwrap();
        assert_eq!(url, "https://alias-test.example/i.img?sig=TWO");
        let s = scrub("failed: https://alias-test.example/i.img?sig=ONE and sig=TWO");
        assert!(!s.contains("ONE") && !s.contains("TWO"), "{s}");
    }

    #[test]
    fn groups_nearby_blocks() {
        assert_eq!(group(&[1, 2, 3]), vec![(1, 3)]);
        assert_eq!(group(&[1, 4]), vec![(1, 4)]);
        assert_eq!(group(&[1, 5]), vec![(1, 1), (5, 5)]);
    }

    #[test]
    fn parses_content_ranges() {
        assert_eq!(content_range_of("bytes 0-99/1234"), Some((0, 99, 1234)));
        assert_eq!(content_range_of("bytes 0-99/*"), None);
        assert_eq!(unsatisfied_total("bytes */0"), Some(0));
    }

    #[test]
    fn resolves_redirects() {
        let base = "http://h:1/a/b.img?s=1";
        assert_eq!(
            resolve_location(base, "/c.img").as_deref(),
            Some("http://h:1/c.img")
        );
        assert_eq!(
            resolve_location(base, "c.img?t=2").as_deref(),
            Some("http://h:1/a/c.img?t=2")
        );
        assert_eq!(
            resolve_location(base, "//other/x").as_deref(),
            Some("http://other/x")
        );
        assert_eq!(
            resolve_location(base, "https://o/x").as_deref(),
            Some("https://o/x")
        );
        assert_eq!(resolve_location(base, "ftp://o/x"), None);
    }

    /// The object a scripted server serves: byte `i` is `i % 251`.
    const OBJECT: u64 = 40_000;

    fn byte(i: u64) -> u8 {
        (i % 251) as u8
    }

    /// A 206 answer for the range asked, with `etag`.
    fn partial(request: &str, etag: &str) -> Vec<u8> {
        let lower = request.to_ascii_lowercase();
        let spec = lower
            .lines()
            .find_map(|l| l.strip_prefix("range: bytes="))
            .unwrap();
        let (a, b) = spec.trim().split_once('-').unwrap();
        let a: u64 = a.parse().unwrap();
        let b: u64 = b.parse::<u64>().unwrap().min(OBJECT - 1);
        let body: Vec<u8> = (a..=b).map(byte).collect();
        let mut out = format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {a}-{b}/{OBJECT}\r\nContent-Length: {}\r\nETag: {etag}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        out.extend(body);
        out
    }

    /// A server on loopback answering request `n` with `answer(n, request)`,
    /// one connection per request, for `count` requests.
    fn serve(count: usize, answer: impl Fn(usize, &str) -> Vec<u8> + Send + 'static) -> String {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for n in 0..count {
                let Ok((stream, _)) = listener.accept() else {
                    return;
                };
                let mut reader = BufReader::new(stream);
                let mut request = String::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    request.push_str(&line);
                }
                let mut stream = reader.into_inner();
                let _ = stream.write_all(&answer(n, &request));
            }
        });
        format!("http://127.0.0.1:{port}/disk.img?sig=SECRET")
    }

    fn open_at(url: &str) -> Result<HttpDisk, ImageError> {
        HttpDisk::open(
            PathBuf::from(redact(url)),
            url.into(),
            RemoteOptions::default(),
        )
    }

    #[test]
    fn transient_failures_are_retried() {
        let url = serve(3, |n, req| match n {
            0 => b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
            _ => partial(req, "\"a\""),
        });
        let disk = open_at(&url).unwrap();
        assert_eq!(disk.size(), OBJECT);
        let mut buf = [0u8; 100];
        disk.read_exact_at(39_900, &mut buf).unwrap();
        assert!(buf
            .iter()
            .enumerate()
            .all(|(i, &b)| b == byte(39_900 + i as u64)));
        let t = disk.counters().snapshot();
        assert_eq!((t.requests, t.retries), (3, 1));
        assert_eq!(t.bytes_fetched, BLOCK + (OBJECT - 2 * BLOCK));
    }

    #[test]
    fn an_object_that_changes_is_an_error() {
        let url = serve(2, |n, req| {
            partial(req, if n == 0 { "\"a\"" } else { "\"b\"" })
        });
        let disk = open_at(&url).unwrap();
        let mut buf = [0u8; 10];
        let e = disk
            .read_exact_at(30_000, &mut buf)
            .unwrap_err()
            .to_string();
        assert!(e.contains("changed while it was read"), "{e}");
        assert!(!e.contains("SECRET"), "{e}");
    }

    #[test]
    fn a_server_without_ranges_is_refused() {
        let url = serve(1, |_, _| {
            let mut r =
                format!("HTTP/1.1 200 OK\r\nContent-Length: {OBJECT}\r\nConnection: close\r\n\r\n")
                    .into_bytes();
            r.extend((0..OBJECT).map(byte));
            r
        });
        let Err(e) = open_at(&url) else {
            panic!("a 200 answer was accepted")
        };
        assert_eq!(e.kind(), "remote");
        assert!(e.to_string().contains("ignores Range"), "{e}");
        assert!(!e.to_string().contains("SECRET"), "{e}");
    }

    #[test]
    fn same_host_compares_default_ports() {
        let a = parts("https://Host/x").unwrap().origin();
        let b = parts("https://host:443/y").unwrap().origin();
        assert_eq!(a, b);
        assert_ne!(a, parts("http://host/x").unwrap().origin());
    }
}
