//! Many images on one command line: folders and patterns expanded to the
//! image files they hold ([`expand`]), and a bounded, ordered parallel run
//! over them ([`ordered`]). `diagnose` uses both; nothing here reads
//! inside an image beyond the first bytes of a file whose name says nothing.
//!
//! Evidence is read-only: folders are listed and files opened for reading
//! only; symbolic links to folders are not followed (no cycles), and the
//! walk is capped in depth and in entries.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};

use globset::GlobBuilder;

use super::diagnose::{diagnose_in, Diagnosis};
use super::{CommandError, Select};
use crate::analysis::Knowledge;
use crate::image;
use crate::panic;

/// Deepest folder level a folder or pattern is walked to.
const MAX_DEPTH: usize = 16;
/// Most folder entries one argument may make us look at.
const MAX_ENTRIES: usize = 100_000;
/// Bytes read from a file whose name says nothing, to recognise an image.
const SNIFF: usize = 8 << 10;

/// One thing to diagnose, in the order the arguments gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The image file, or the folder (a triage collection) to analyse.
    pub path: PathBuf,
    /// Why this argument gave nothing to analyse (a folder without an
    /// image, a pattern matching nothing, a walk cut short), without the
    /// path: reported as a failure of that argument (`not-found`), never
    /// silently dropped.
    pub problem: Option<String>,
}

impl Target {
    fn image(path: PathBuf) -> Target {
        Target {
            path,
            problem: None,
        }
    }

    fn problem(path: &Path, what: String) -> Target {
        Target {
            path: path.to_path_buf(),
            problem: Some(what),
        }
    }
}

/// The arguments of a command, folders and patterns expanded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expanded {
    pub targets: Vec<Target>,
    /// Some argument was a folder or a pattern (so the run is a batch even
    /// when it found one image).
    pub expanded: bool,
}

/// Expands `args` in order: a folder gives the disk images inside it
/// (sorted, recursively; each split raw or EWF segment set once), unless it
/// is a triage collection, which is analysed as one; an argument that names
/// nothing but holds `*`, `?`, `[` or `{` is a pattern (for shells that do
/// not expand them, or quoted ones), matched against paths with `/` as the
/// separator; anything else is passed on as it is, so a single image keeps
/// the behaviour (and the error messages) it always had.
pub fn expand(args: &[PathBuf]) -> Expanded {
    let mut out = Expanded::default();
    for arg in args {
        // A URL (its `?` is no wildcard) is one remote image.
        if crate::image::http::is_url(arg) {
            out.targets.push(Target::image(arg.clone()));
            continue;
        }
        let is_dir = fs::metadata(arg).is_ok_and(|m| m.is_dir());
        if is_dir && !is_collection(arg) {
            out.expanded = true;
            out.targets.extend(from_folder(arg));
        } else if !is_dir && fs::symlink_metadata(arg).is_err() && is_pattern(arg) {
            out.expanded = true;
            out.targets.extend(from_pattern(arg));
        } else {
            out.targets.push(Target::image(arg.clone()));
        }
    }
    out
}

fn is_pattern(p: &Path) -> bool {
    p.to_string_lossy().contains(['*', '?', '[', '{'])
}

/// The images a folder holds, or one problem target saying why none.
fn from_folder(dir: &Path) -> Vec<Target> {
    let mut walk = Walk::default();
    walk.folder(dir, 0);
    let mut found = walk.images();
    if found.is_empty() && walk.problem.is_none() {
        return vec![Target::problem(
            dir,
            "no disk image found in this folder (looked for raw, split raw, E01, VHD, VHDX, VMDK and qcow2 files by name and by their first bytes), and it is not a triage collection (no KAPE or Velociraptor layout with a Windows folder)".into(),
        )];
    }
    if let Some(p) = walk.problem {
        found.push(Target::problem(dir, p));
    }
    found
}

/// The images a pattern matches, or one problem target saying why none.
fn from_pattern(arg: &Path) -> Vec<Target> {
    // On Windows, where cmd.exe leaves patterns to the program, `\\` is the
    // separator; elsewhere it escapes a wildcard, as in a shell.
    let text = match cfg!(windows) {
        true => arg.to_string_lossy().replace('\\', "/"),
        false => arg.to_string_lossy().into_owned(),
    };
    let glob = match GlobBuilder::new(&text)
        .literal_separator(true)
        .case_insensitive(cfg!(windows))
        .build()
    {
        Ok(g) => g.compile_matcher(),
        Err(e) => return vec![Target::problem(arg, format!("bad pattern: {e}"))],
    };
    // Walk from the longest leading part without a wildcard.
    let parts: Vec<&str> = text.split('/').collect();
    let fixed = parts
        .iter()
        .take_while(|c| !is_pattern(Path::new(c)))
        .count();
    let base = parts[..fixed].join("/");
    let depth = match text.contains("**") {
        true => MAX_DEPTH,
        false => parts.len() - fixed,
    };
    let mut walk = Walk::default();
    let start = match (base.is_empty(), text.starts_with('/')) {
        (true, true) => PathBuf::from("/"),
        (true, false) => PathBuf::new(),
        (false, _) => PathBuf::from(&base),
    };
    let mut matched = Vec::new();
    walk.matching(&start, depth, &|p| glob.is_match(p), &mut matched);
    let mut found = Vec::new();
    for m in matched {
        if fs::metadata(&m).is_ok_and(|md| md.is_dir()) {
            match is_collection(&m) {
                true => found.push(Target::image(m)),
                false => found.extend(from_folder(&m).into_iter().filter(|t| t.problem.is_none())),
            }
        } else {
            walk.file(&m);
        }
    }
    found.extend(walk.images());
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found.dedup();
    if found.is_empty() && walk.problem.is_none() {
        return vec![Target::problem(
            arg,
            "no disk image matches this pattern".into(),
        )];
    }
    if let Some(p) = walk.problem {
        found.push(Target::problem(arg, p));
    }
    found
}

/// A capped walk collecting candidate image files.
#[derive(Default)]
struct Walk {
    entries: usize,
    /// Image files by folder, then name (to tell segments of one set).
    files: BTreeMap<PathBuf, BTreeSet<String>>,
    /// Triage collections met inside a folder: analysed as one each.
    collections: Vec<PathBuf>,
    /// Why the walk stopped short.
    problem: Option<String>,
}

impl Walk {
    /// The entries of `dir`, sorted, or `None` (the walk said why).
    fn list(&mut self, dir: &Path) -> Option<Vec<(PathBuf, fs::FileType)>> {
        let read = match fs::read_dir(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        }) {
            Ok(r) => r,
            Err(e) => {
                self.stop(format!("cannot list {}: {e}", dir.display()));
                return None;
            }
        };
        let mut out = Vec::new();
        for entry in read.flatten() {
            self.entries += 1;
            if self.entries > MAX_ENTRIES {
                self.stop(format!(
                    "more than {MAX_ENTRIES} folder entries: only those seen first were looked at; give the folders one by one"
                ));
                break;
            }
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = match dir.as_os_str().is_empty() {
                true => PathBuf::from(entry.file_name()),
                false => dir.join(entry.file_name()),
            };
            out.push((path, kind));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Some(out)
    }

    fn stop(&mut self, why: String) {
        self.problem.get_or_insert(why);
    }

    fn folder(&mut self, dir: &Path, depth: usize) {
        if depth > MAX_DEPTH {
            self.stop(format!(
                "folders nested deeper than {MAX_DEPTH} levels were not looked at"
            ));
            return;
        }
        let Some(entries) = self.list(dir) else {
            return;
        };
        for (path, kind) in entries {
            // A link to a folder is not followed: no cycles.
            if kind.is_dir() {
                match is_collection(&path) {
                    true => self.collections.push(path),
                    false => self.folder(&path, depth + 1),
                }
            } else {
                self.file(&path);
            }
        }
    }

    /// Paths under `dir` (at most `depth` levels) that `matches` accepts.
    fn matching(
        &mut self,
        dir: &Path,
        depth: usize,
        matches: &dyn Fn(&str) -> bool,
        out: &mut Vec<PathBuf>,
    ) {
        if depth == 0 || self.problem.is_some() {
            return;
        }
        let Some(entries) = self.list(dir) else {
            return;
        };
        for (path, kind) in entries {
            let text = match cfg!(windows) {
                true => path.to_string_lossy().replace('\\', "/"),
                false => path.to_string_lossy().into_owned(),
            };
            if matches(&text) {
                out.push(path.clone());
            } else if kind.is_dir() {
                self.matching(&path, depth - 1, matches, out);
            }
        }
    }

    /// Keeps `path` when its name or its first bytes say disk image.
    fn file(&mut self, path: &Path) {
        let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
            return;
        };
        let name = name.to_string_lossy().into_owned();
        // AppleDouble companions (`._disk.E01`) carry the name, not the data.
        if name.starts_with("._") {
            return;
        }
        let meta = fs::metadata(path);
        let regular = meta.as_ref().is_ok_and(|m| m.is_file());
        let keep = match name_kind(&name) {
            NameKind::Image | NameKind::Segment => true,
            // Only a regular file is opened to look at its first bytes (a
            // FIFO would block).
            NameKind::Unknown => regular && sniffed(path),
        };
        if keep {
            self.files
                .entry(dir.to_path_buf())
                .or_default()
                .insert(name);
        }
    }

    /// The image files found, each segment set once, sorted, then the
    /// collections.
    fn images(&self) -> Vec<Target> {
        let mut out = Vec::new();
        for (dir, names) in &self.files {
            let lower: BTreeSet<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
            for name in names {
                if !first_of_set(name, &lower) {
                    continue;
                }
                let path = match dir.as_os_str().is_empty() {
                    true => PathBuf::from(name),
                    false => dir.join(name),
                };
                out.push(Target::image(path));
            }
        }
        out.extend(self.collections.iter().cloned().map(Target::image));
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out
    }
}

/// What a file's name says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameKind {
    /// A disk image or the first file of a set.
    Image,
    /// A later segment or extent of a set (kept only without its first).
    Segment,
    Unknown,
}

fn split_ext(name: &str) -> (&str, String) {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem, ext.to_ascii_lowercase()),
        _ => (name, String::new()),
    }
}

fn name_kind(name: &str) -> NameKind {
    let (stem, ext) = split_ext(name);
    let digits = |e: &str| e.len() >= 2 && e.bytes().all(|b| b.is_ascii_digit());
    match ext.as_str() {
        "img" | "dd" | "raw" | "ima" | "vhd" | "vhdx" | "qcow2" | "qcow" | "e01" | "ex01"
        | "aa" => NameKind::Image,
        // Extents are recognised by their bytes, then left out when their
        // descriptor is in the folder.
        "vmdk" if extent_of(stem).is_some() => NameKind::Unknown,
        "vmdk" => NameKind::Image,
        e if e.len() >= 3 && digits(e) => match e.trim_start_matches('0') == "1" {
            true => NameKind::Image,
            false => NameKind::Segment,
        },
        e if e
            .strip_prefix("ex")
            .or_else(|| e.strip_prefix('e'))
            .is_some_and(|n| n.len() == 2 && digits(n)) =>
        {
            NameKind::Segment
        }
        // `.ab`…`.zz`, `.eaa`…: a later segment, or just some file: by its
        // bytes.
        _ => NameKind::Unknown,
    }
}

/// A later EWF segment's extension: `e02`…`e99`, `ex02`…, then `eaa`…`zzz`.
fn ewf_later(ext: &str) -> bool {
    let two_digits = |n: &str| n.len() == 2 && n.bytes().all(|b| b.is_ascii_digit()) && n != "01";
    let numbered = ext.strip_prefix("ex").is_some_and(two_digits)
        || ext.strip_prefix('e').is_some_and(two_digits);
    let lettered =
        ext.len() == 3 && ext.bytes().all(|b| b.is_ascii_lowercase()) && ext.as_bytes()[0] >= b'e';
    numbered || lettered
}

/// The descriptor stem an extent file name points back to (`disk-flat`,
/// `disk-s001`, `disk-f001`, `disk-delta` → `disk`).
fn extent_of(stem: &str) -> Option<&str> {
    let (base, tail) = stem.rsplit_once('-')?;
    let numbered = |p: char| {
        tail.strip_prefix(p)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    (tail == "flat" || tail == "delta" || numbered('s') || numbered('f')).then_some(base)
}

/// Whether `name` is the one file of its set that stands for the set: a
/// later segment whose first segment is in the same folder is left out, and
/// so is a `.ab`… file kept by its bytes when the folder holds the `.aa`.
/// A later segment without its first is kept: opening it says what is
/// wrong, rather than dropping it unsaid.
fn first_of_set(name: &str, folder: &BTreeSet<String>) -> bool {
    let (stem, ext) = split_ext(name);
    let stem = stem.to_ascii_lowercase();
    let has = |n: String| folder.contains(&n);
    match ext.as_str() {
        e if e.len() >= 3
            && e.bytes().all(|b| b.is_ascii_digit())
            && e.trim_start_matches('0') != "1" =>
        {
            !has(format!("{stem}.{:0>w$}", "1", w = e.len()))
        }
        e if ewf_later(e) => {
            let first = if e.starts_with("ex") && e.len() == 4 {
                "ex01"
            } else {
                "e01"
            };
            !has(format!("{stem}.{first}"))
        }
        "vmdk" => match extent_of(&stem) {
            Some(base) => !folder.iter().any(|n| {
                n.ends_with(".vmdk")
                    && n != &name.to_ascii_lowercase()
                    && (n == &format!("{base}.vmdk") || extent_of(split_ext(n).0).is_none())
            }),
            None => true,
        },
        e if e.len() == 2 && e != "aa" && e.bytes().all(|b| b.is_ascii_lowercase()) => {
            !has(format!("{stem}.aa"))
        }
        _ => true,
    }
}

/// A file whose name says nothing: a disk image by its first bytes?
fn sniffed(path: &Path) -> bool {
    let Ok(f) = fs::File::open(path) else {
        return false;
    };
    let mut head = Vec::with_capacity(SNIFF);
    if f.take(SNIFF as u64).read_to_end(&mut head).is_err() {
        return false;
    }
    head.len() >= 512 && image::looks_like_an_image(&head)
}

/// Whether a folder is a triage collection (KAPE, Velociraptor: the files
/// of one system copied as plain files), which is analysed as one image:
/// it holds `Windows\System32\config\SYSTEM` (any case) at most three
/// folder levels down (`C\Windows\…`, `uploads\auto\C%3A\Windows\…`),
/// exactly once, and no disk image by name beside its folders. A folder
/// holding several collections, or collections and images, is a folder of
/// evidence: it is walked, and each collection in it is one target.
///
/// A layout the triage module knows (KAPE, Velociraptor) decides first; a
/// folder of several collections, or with disk images beside its folders,
/// is walked instead.
fn is_collection(dir: &Path) -> bool {
    if images_beside(dir) {
        return false;
    }
    match crate::fs::collection::collection_roots(dir) {
        Some(c) => !c.holds_others(),
        None => one_system_root(dir),
    }
}

/// A disk image by name directly in `dir`.
fn images_beside(dir: &Path) -> bool {
    let Ok(top) = fs::read_dir(dir) else {
        return false;
    };
    top.flatten().take(MAX_ENTRIES).any(|e| {
        e.file_type().is_ok_and(|t| !t.is_dir())
            && name_kind(&e.file_name().to_string_lossy()) != NameKind::Unknown
    })
}

/// Any other folder with exactly one `Windows\System32\config\SYSTEM`
/// within three levels.
fn one_system_root(dir: &Path) -> bool {
    const MAX_FOLDERS: usize = 256;
    let mut level = vec![dir.to_path_buf()];
    let mut seen = 0usize;
    let mut roots = 0usize;
    for depth in 0..=3 {
        let mut next = Vec::new();
        for d in &level {
            let hive = ["windows", "system32", "config"]
                .iter()
                .try_fold(d.clone(), |at, name| child(&at, name, true));
            if hive.and_then(|c| child(&c, "system", false)).is_some() {
                roots += 1;
                // Not below a system root: its own folders are no others.
                continue;
            }
            if depth == 3 {
                continue;
            }
            let Ok(read) = fs::read_dir(d) else {
                continue;
            };
            for e in read.flatten().take(MAX_FOLDERS) {
                if e.file_type().is_ok_and(|t| t.is_dir()) && seen < MAX_FOLDERS {
                    seen += 1;
                    next.push(e.path());
                }
            }
        }
        level = next;
    }
    roots == 1
}

/// The entry of `dir` named `name` (ASCII case-insensitive), a folder or a
/// regular file as asked.
fn child(dir: &Path, name: &str, folder: bool) -> Option<PathBuf> {
    fs::read_dir(dir)
        .ok()?
        .flatten()
        .take(MAX_ENTRIES)
        .find(|e| {
            e.file_name().to_string_lossy().eq_ignore_ascii_case(name)
                && e.file_type().is_ok_and(|t| match folder {
                    true => t.is_dir(),
                    false => t.is_file(),
                })
        })
        .map(|e| e.path())
}

/// How many images `diagnose` analyses at once by default: the cores, at
/// most 4 (each image's own work is parallel too, and a batch should not
/// hold many images' memory at once).
pub fn default_jobs() -> usize {
    std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
        .clamp(1, 4)
}

/// Diagnoses every target, `jobs` at a time, each image contained (a
/// panic costs that image), the results in target order. A target that
/// carries a problem gives its `not-found` error without being opened.
pub fn diagnose_all(
    targets: &[Target],
    jobs: usize,
    knowledge: &Knowledge,
    select: Select,
) -> impl Iterator<Item = (usize, Result<Diagnosis, CommandError>)> {
    let shared: Arc<(Vec<Target>, Knowledge)> = Arc::new((targets.to_vec(), knowledge.clone()));
    let paths: Vec<PathBuf> = targets.iter().map(|t| t.path.clone()).collect();
    let work = move |i: usize| {
        let (targets, knowledge) = shared.as_ref();
        let t = &targets[i];
        match &t.problem {
            Some(what) => Err(CommandError::Unreadable {
                image: t.path.display().to_string(),
                what: what.clone(),
                kind: "not-found",
            }),
            None => diagnose_in(&t.path, knowledge, select),
        }
    };
    ordered(targets.len(), jobs, work).map(move |(i, r)| {
        let r = r.unwrap_or_else(|what| {
            Err(CommandError::Internal {
                image: paths[i].display().to_string(),
                what,
            })
        });
        (i, r)
    })
}

/// The results of `work(0..count)` in index order, computed on at most
/// `jobs` worker threads while the caller consumes them.
///
/// At most `jobs` items are in flight (started and not yet handed out), so
/// results that finish early wait for their turn in a buffer no larger
/// than that: memory stays bounded however many images a batch holds. A
/// panic in `work` costs that item: its result is `Err` with the panic's
/// text. The workers are plain threads, not rayon's: a worker waiting for
/// its turn blocks, and must not hold a rayon thread that an image's own
/// parallel work (volumes, version reads) needs. Dropping the iterator
/// stops the workers after the items they are on.
pub struct Ordered<T> {
    rx: mpsc::Receiver<(usize, Result<T, String>)>,
    waiting: BTreeMap<usize, Result<T, String>>,
    due: usize,
    count: usize,
    shared: Arc<Shared>,
    /// Set when no worker thread could be started: items run here, one by one.
    inline: Option<Arc<Work<T>>>,
}

type Work<T> = dyn Fn(usize) -> T + Send + Sync;

struct Shared {
    /// How many results were handed out; item i starts only when
    /// i < handed + jobs.
    handed: Mutex<usize>,
    turn: Condvar,
    stop: AtomicBool,
    next: AtomicUsize,
    jobs: usize,
    count: usize,
}

/// Starts the workers; see [`Ordered`].
pub fn ordered<T: Send + 'static>(
    count: usize,
    jobs: usize,
    work: impl Fn(usize) -> T + Send + Sync + 'static,
) -> Ordered<T> {
    let jobs = jobs.clamp(1, count.max(1));
    let work: Arc<Work<T>> = Arc::new(work);
    let shared = Arc::new(Shared {
        handed: Mutex::new(0),
        turn: Condvar::new(),
        stop: AtomicBool::new(false),
        next: AtomicUsize::new(0),
        jobs,
        count,
    });
    let (tx, rx) = mpsc::channel();
    let mut started = 0;
    for n in 0..jobs.min(count) {
        let (tx, shared, work) = (tx.clone(), shared.clone(), work.clone());
        let spawned = std::thread::Builder::new()
            .name(format!("verskew-image-{n}"))
            .spawn(move || worker(&shared, work.as_ref(), &tx));
        if spawned.is_ok() {
            started += 1;
        }
    }
    Ordered {
        rx,
        waiting: BTreeMap::new(),
        due: 0,
        count,
        shared,
        inline: (started == 0).then_some(work),
    }
}

fn worker<T>(shared: &Shared, work: &Work<T>, tx: &mpsc::Sender<(usize, Result<T, String>)>) {
    loop {
        let i = shared.next.fetch_add(1, Ordering::SeqCst);
        if i >= shared.count {
            return;
        }
        {
            let mut handed = shared.handed.lock().unwrap_or_else(|p| p.into_inner());
            while i >= *handed + shared.jobs && !shared.stop.load(Ordering::SeqCst) {
                handed = shared.turn.wait(handed).unwrap_or_else(|p| p.into_inner());
            }
        }
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let result = panic::contain_payload(|| work(i));
        if tx.send((i, result)).is_err() {
            return;
        }
    }
}

impl<T> Iterator for Ordered<T> {
    type Item = (usize, Result<T, String>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.due >= self.count {
            return None;
        }
        let i = self.due;
        let result = if let Some(work) = &self.inline {
            panic::contain_payload(|| work(i))
        } else {
            loop {
                if let Some(r) = self.waiting.remove(&i) {
                    break r;
                }
                match self.rx.recv() {
                    Ok((n, r)) => {
                        self.waiting.insert(n, r);
                    }
                    // Every worker is gone (none can be, short of a bug):
                    // say so for each item left, never drop it silently.
                    Err(_) => break Err("the worker analysing it stopped".to_string()),
                }
            }
        };
        self.due += 1;
        *self.shared.handed.lock().unwrap_or_else(|p| p.into_inner()) = self.due;
        self.shared.turn.notify_all();
        Some((i, result))
    }
}

impl<T> Drop for Ordered<T> {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _handed = self.shared.handed.lock();
        self.shared.turn.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_say_image_segment_or_nothing() {
        for n in [
            "a.img", "a.DD", "a.E01", "a.Ex01", "a.001", "a.0001", "a.aa", "a.vmdk", "a.qcow2",
            "a.VHDX",
        ] {
            assert_eq!(name_kind(n), NameKind::Image, "{n}");
        }
        for n in ["a.002", "a.E02", "a.e10", "a.Ex02"] {
            assert_eq!(name_kind(n), NameKind::Segment, "{n}");
        }
        for n in [
            "a.txt",
            "a.ab",
            "README",
            "a.exe",
            "a.md",
            ".001",
            "a.env",
            "a.EAA",
            "a-flat.vmdk",
            "a-s001.vmdk",
        ] {
            assert_eq!(name_kind(n), NameKind::Unknown, "{n}");
        }
    }

    #[test]
    fn a_set_counts_once_and_an_orphan_segment_is_kept() {
        let folder: BTreeSet<String> = [
            "x.001",
            "x.002",
            "y.e01",
            "y.e02",
            "y.eaa",
            "z.003",
            "d.vmdk",
            "d-s001.vmdk",
            "w.aa",
            "w.ab",
            "o-flat.vmdk",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let kept: Vec<&str> = [
            "x.001",
            "x.002",
            "y.E01",
            "y.E02",
            "y.EAA",
            "z.003",
            "d.vmdk",
            "d-s001.vmdk",
            "w.aa",
            "w.ab",
        ]
        .into_iter()
        .filter(|n| first_of_set(n, &folder))
        .collect();
        assert_eq!(kept, ["x.001", "y.E01", "z.003", "d.vmdk", "w.aa"]);
        let alone: BTreeSet<String> = ["o-flat.vmdk".to_string()].into();
        assert!(first_of_set("o-flat.vmdk", &alone));
    }

    #[test]
    fn results_come_in_order_with_few_in_flight() {
        use std::sync::atomic::AtomicIsize;
        let running = Arc::new(AtomicIsize::new(0));
        let most = Arc::new(AtomicIsize::new(0));
        let (r, m) = (running.clone(), most.clone());
        let seen: Vec<(usize, Result<usize, String>)> = ordered(40, 3, move |i| {
            let now = r.fetch_add(1, Ordering::SeqCst) + 1;
            m.fetch_max(now, Ordering::SeqCst);
            // Later items finish first.
            std::thread::sleep(std::time::Duration::from_millis(((40 - i) % 5) as u64));
            r.fetch_sub(1, Ordering::SeqCst);
            if i == 7 {
                panic!("item seven");
            }
            i * 2
        })
        .collect();
        assert!(most.load(Ordering::SeqCst) <= 3);
        assert_eq!(seen.len(), 40);
        for (n, (i, r)) in seen.iter().enumerate() {
            assert_eq!(*i, n);
            match n {
                7 => assert_eq!(r.as_ref().unwrap_err(), "item seven"),
                _ => assert_eq!(r.as_ref().ok(), Some(&(n * 2))),
            }
        }
        assert_eq!(ordered(0, 4, |_| ()).count(), 0);
        // A slow first item holds the later ones back: no more than `jobs`
        // are started ahead of what was handed out.
        let zero_done = Arc::new(AtomicBool::new(false));
        let early = Arc::new(AtomicBool::new(false));
        let (z, e) = (zero_done.clone(), early.clone());
        let n = ordered(12, 3, move |i| {
            if i >= 3 && !z.load(Ordering::SeqCst) {
                e.store(true, Ordering::SeqCst);
            }
            if i == 0 {
                std::thread::sleep(std::time::Duration::from_millis(150));
                z.store(true, Ordering::SeqCst);
            }
        })
        .count();
        assert_eq!(n, 12);
        assert!(
            !early.load(Ordering::SeqCst),
            "an item started more than 3 ahead"
        );
        // Dropped half way: the workers stop, nothing hangs.
        let mut some = ordered(100, 2, |i| i);
        assert_eq!(some.next().map(|x| x.0), Some(0));
        drop(some);
    }

    #[test]
    fn folders_expand_sorted_and_collections_stay_whole() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let mbr = {
            let mut b = vec![0u8; 1024];
            b[510] = 0x55;
            b[511] = 0xaa;
            b
        };
        for n in ["b.img", "a.E01", "a.E02", "s.001", "s.002", "notes.txt"] {
            fs::write(d.join(n), b"x").unwrap();
        }
        fs::write(d.join("disk"), &mbr).unwrap();
        fs::create_dir_all(d.join("host1/C/Windows/System32/CONFIG")).unwrap();
        fs::write(d.join("host1/C/Windows/System32/CONFIG/system"), b"regf").unwrap();
        fs::create_dir_all(d.join("sub")).unwrap();
        fs::write(d.join("sub/c.vhd"), b"x").unwrap();
        let got = expand(&[d.to_path_buf()]);
        assert!(got.expanded);
        let names: Vec<String> = got
            .targets
            .iter()
            .map(|t| {
                assert!(t.problem.is_none(), "{t:?}");
                t.path.strip_prefix(d).unwrap().display().to_string()
            })
            .collect();
        assert_eq!(
            names,
            ["a.E01", "b.img", "disk", "host1", "s.001", "sub/c.vhd"]
        );
        // Two collections side by side: a folder of evidence, each one target.
        let two = tempfile::tempdir().unwrap();
        for host in ["web1", "web2"] {
            let c = two
                .path()
                .join(host)
                .join("uploads/auto/C%3A/windows/system32/config");
            fs::create_dir_all(&c).unwrap();
            fs::write(c.join("SYSTEM"), b"regf").unwrap();
        }
        let got = expand(&[two.path().to_path_buf()]);
        let want: Vec<Target> = ["web1", "web2"]
            .iter()
            .map(|h| Target::image(two.path().join(h)))
            .collect();
        assert_eq!(got.targets, want);
        // A collection given on its own is one target, as given.
        let one = expand(&[d.join("host1")]);
        assert_eq!(one.targets, [Target::image(d.join("host1"))]);
        assert!(!one.expanded);
        // A pattern; a pattern matching nothing; a folder holding nothing.
        let pat = expand(&[d.join("*.E0?")]);
        assert_eq!(pat.targets, [Target::image(d.join("a.E01"))]);
        let empty = tempfile::tempdir().unwrap();
        for arg in [d.join("*.qcow2"), empty.path().to_path_buf()] {
            let got = expand(std::slice::from_ref(&arg));
            assert_eq!(got.targets.len(), 1);
            assert_eq!(got.targets[0].path, arg);
            assert!(got.targets[0].problem.is_some());
        }
        // A plain path, existing or not, is passed on untouched.
        let plain = expand(&[d.join("notes.txt"), PathBuf::from("no-such.img")]);
        assert!(!plain.expanded);
        assert_eq!(plain.targets.len(), 2);
    }
}
