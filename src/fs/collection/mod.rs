//! Triage collections: a folder (or a `.zip`) of files a collector copied
//! off a Windows machine, read as one volume per collected drive.
//!
//! Two layouts are recognised, at the top of the folder or zip or one folder
//! down (a collector's own folder such as `Collection-HOST-2024-…`):
//!
//! - **drive folders** (KAPE's target output, `<destination>\C\Windows\…`;
//!   also `C:` or `C%3A` as the folder name);
//! - **Velociraptor** (`uploads\<accessor>\<drive>\…`: `uploads/auto/C%3A/…`
//!   and, for files read from the raw volume, `uploads/ntfs/%5C%5C.%5CC%3A/…`;
//!   every name is percent-encoded and decoded here). The accessors of one
//!   drive are layered: `auto` first, then `ntfs`, `lazy_ntfs`, `mft`,
//!   `ntfs_vss`, `file`, then any other. Shadow copies
//!   (`HarddiskVolumeShadowCopyN`) are not read and said so.
//!
//! [`collection_roots`] says whether a path is such a collection and where
//! its drives are; [`Collection::open`] opens each drive as a read-only
//! [`Volume`] (the host tree in `fs/dir/`, the archive in `fs/zip/`).
//!
//! File times are the collection's own: the copies' times in a folder, the
//! zip entry's extended timestamp (UTC) in a zip. They equal the originals'
//! only where the collector (and whoever copied or unzipped the collection)
//! kept them; the volume says so in its notes. Folders get no times at all:
//! a collector makes its own folders, so their times say nothing of the
//! machine (an `$NtUninstall…$` marker folder is then undated, never dated
//! by the copy).

pub(crate) mod tree;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use self::tree::{Origin, Tree};
use super::{dir, zip, Entry, FileData, FsError, Volume};
use crate::time::FileTime;
use crate::volume::Filesystem;

/// Most folders looked at per level while looking for drive folders.
const MAX_SCAN: usize = 4096;
/// Most drives one collection may name (there are 26 letters, each may come
/// from several accessors).
const MAX_DRIVE_FOLDERS: usize = 64;

/// A folder on the host, or a zip archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    Directory,
    Zip,
}

impl Container {
    /// `directory`, `zip`.
    pub fn id(self) -> &'static str {
        match self {
            Container::Directory => "directory",
            Container::Zip => "zip",
        }
    }
}

/// How the collector laid the drives out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One folder per drive letter (`C\Windows\…`), as KAPE writes.
    DriveFolders,
    /// `uploads\<accessor>\<drive>\…`, percent-encoded names.
    Velociraptor,
}

impl Layout {
    /// `drive-folders`, `velociraptor`.
    pub fn id(self) -> &'static str {
        match self {
            Layout::DriveFolders => "drive-folders",
            Layout::Velociraptor => "velociraptor",
        }
    }

    fn words(self) -> &'static str {
        match self {
            Layout::DriveFolders => "drive folders, as KAPE writes them",
            Layout::Velociraptor => "Velociraptor's uploads folder",
        }
    }
}

/// One collected drive: its letter and the folders holding it, as stored
/// in the collection (`/`-separated from its top: `C`, `uploads/auto/C%3A`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drive {
    pub letter: char,
    pub folders: Vec<String>,
}

/// A triage collection found at a path.
#[derive(Debug, Clone)]
pub struct Collection {
    pub path: PathBuf,
    pub container: Container,
    pub layout: Layout,
    /// Sorted by letter.
    pub drives: Vec<Drive>,
    /// What was seen and not read (shadow copies, a second collection).
    pub notes: Vec<String>,
}

/// The note a folder holding several collections gets for each one not read.
const ANOTHER: &str = "holds another collection: not read";

impl Collection {
    /// True when the folder held further collections beside the one read
    /// (a folder of several hosts' collections, which `diagnose` walks).
    pub fn holds_others(&self) -> bool {
        self.notes.iter().any(|n| n.ends_with(ANOTHER))
    }
}

/// Whether `path` (a folder, or a `.zip` by content) is a triage collection,
/// and where its drive roots are; `None` when it is not one or cannot be
/// read ([`probe`] says why).
pub fn collection_roots(path: &Path) -> Option<Collection> {
    probe(path).ok().flatten()
}

/// [`collection_roots`] with the reason a folder or zip could not be read:
/// `Ok(None)` for a file that is no zip, or a folder or zip holding no
/// collection.
pub fn probe(path: &Path) -> Result<Option<Collection>, String> {
    let meta = std::fs::metadata(path).map_err(|e| crate::image::io_text(&e))?;
    if meta.is_dir() {
        let browse = HostBrowse(path.to_path_buf());
        return Ok(find(&browse).map(|(layout, drives, notes)| Collection {
            path: path.to_path_buf(),
            container: Container::Directory,
            layout,
            drives,
            notes,
        }));
    }
    if !meta.is_file() || !zip::looks_like_zip(path) {
        return Ok(None);
    }
    let archive = zip::Archive::open(path)?;
    let raw = archive.raw_tree();
    Ok(
        find(&TreeBrowse(&raw)).map(|(layout, drives, notes)| Collection {
            path: path.to_path_buf(),
            container: Container::Zip,
            layout,
            drives,
            notes,
        }),
    )
}

/// The folders below a place in the collection.
trait Browse {
    /// Sub-folder names of `at` (names as stored), sorted, at most [`MAX_SCAN`].
    fn folders(&self, at: &[String]) -> Vec<String>;
}

struct HostBrowse(PathBuf);

impl Browse for HostBrowse {
    fn folders(&self, at: &[String]) -> Vec<String> {
        let dir: PathBuf = at.iter().fold(self.0.clone(), |p, c| p.join(c));
        let Ok(rd) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut out: Vec<String> = rd
            .take(MAX_SCAN)
            .flatten()
            // file_type does not follow a symbolic link: a link is no folder here.
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        out.sort();
        out
    }
}

struct TreeBrowse<'t>(&'t Tree);

impl Browse for TreeBrowse<'_> {
    fn folders(&self, at: &[String]) -> Vec<String> {
        let Ok(e) = self.0.lookup(&at.join("\\")) else {
            return Vec::new();
        };
        let mut out: Vec<String> = self
            .0
            .list(&e)
            .unwrap_or_default()
            .into_iter()
            .filter(|e| e.is_dir)
            .take(MAX_SCAN)
            .map(|e| e.name().to_string())
            .collect();
        out.sort();
        out
    }
}

/// `C`, `c`, `C:`, `C%3A`, `%5C%5C.%5CC%3A`, `\\.\C:` → `C`.
pub fn drive_letter(name: &str) -> Option<char> {
    let up = name.to_ascii_uppercase();
    let rest = up
        .strip_prefix("%5C%5C.%5C")
        .or_else(|| up.strip_prefix("\\\\.\\"))
        .unwrap_or(&up);
    let letter = rest
        .strip_suffix("%3A")
        .or_else(|| rest.strip_suffix(':'))
        .unwrap_or(rest);
    match letter.as_bytes() {
        [c] if c.is_ascii_alphabetic() => Some(char::from(*c)),
        _ => None,
    }
}

/// Velociraptor's accessors, in the order their copies of a drive are layered.
const ACCESSORS: [&str; 6] = ["auto", "ntfs", "lazy_ntfs", "mft", "ntfs_vss", "file"];

type Found = (Layout, Vec<Drive>, Vec<String>);

/// The collection's drives at the top, or one folder down.
fn find(b: &dyn Browse) -> Option<Found> {
    if let Some(f) = drives_at(b, &[]) {
        return Some(f);
    }
    let mut found: Option<Found> = None;
    for top in b.folders(&[]).into_iter().take(64) {
        let base = [top.clone()];
        if let Some((layout, drives, mut notes)) = drives_at(b, &base) {
            match &mut found {
                None => {
                    notes.push(format!("the collection is in folder '{top}'"));
                    found = Some((layout, drives, notes));
                }
                Some((_, _, notes)) => notes.push(format!("folder '{top}' {ANOTHER}")),
            }
        }
    }
    found
}

fn drives_at(b: &dyn Browse, base: &[String]) -> Option<Found> {
    let top = b.folders(base);
    let mut notes = Vec::new();
    let prefix = |names: &[&str]| -> String {
        base.iter()
            .map(String::as_str)
            .chain(names.iter().copied())
            .collect::<Vec<_>>()
            .join("/")
    };
    let mut drives: Vec<Drive> = Vec::new();
    let mut add =
        |letter: char, folder: String| match drives.iter_mut().find(|d| d.letter == letter) {
            Some(d) => d.folders.push(folder),
            None => drives.push(Drive {
                letter,
                folders: vec![folder],
            }),
        };
    let layout;
    if let Some(up) = top.iter().find(|n| n.eq_ignore_ascii_case("uploads")) {
        layout = Layout::Velociraptor;
        let mut path = base.to_vec();
        path.push(up.clone());
        let mut accessors = b.folders(&path);
        accessors.sort_by_key(|a| {
            (
                ACCESSORS
                    .iter()
                    .position(|x| x.eq_ignore_ascii_case(a))
                    .unwrap_or(ACCESSORS.len()),
                a.clone(),
            )
        });
        for acc in accessors {
            let mut at = path.clone();
            at.push(acc.clone());
            for vol in b.folders(&at) {
                if vol.contains("HarddiskVolumeShadowCopy") {
                    notes.push(format!(
                        "{}: a shadow copy, not read",
                        prefix(&[up.as_str(), acc.as_str(), vol.as_str()])
                    ));
                } else if let Some(l) = drive_letter(&vol) {
                    add(l, prefix(&[up.as_str(), acc.as_str(), vol.as_str()]));
                }
            }
        }
    } else {
        layout = Layout::DriveFolders;
        for name in &top {
            if let Some(l) = drive_letter(name) {
                add(l, prefix(&[name.as_str()]));
            }
        }
    }
    if drives.is_empty() {
        return None;
    }
    drives.truncate(MAX_DRIVE_FOLDERS);
    drives.sort_by_key(|d| d.letter);
    Some((layout, drives, notes))
}

/// One collected drive, read-only: a host folder tree or part of a zip.
pub struct CollectedVolume {
    tree: Tree,
    reader: Reader,
    degraded: Vec<(String, String)>,
    /// Where it is in the collection and what its times are.
    pub note: String,
}

enum Reader {
    Directory,
    Zip(Arc<zip::Archive>),
}

/// Each drive of a collection opened, or why not.
pub type OpenedDrives = Vec<(Drive, Result<CollectedVolume, FsError>)>;

impl Collection {
    /// Opens every drive. A zip that cannot be read at all is an error;
    /// a drive whose folders cannot be read is an error for that drive.
    pub fn open(&self) -> Result<OpenedDrives, FsError> {
        let source = match self.container {
            Container::Zip => Some(Arc::new(zip::Archive::open(&self.path).map_err(
                |what| FsError::Collected {
                    path: self.path.display().to_string(),
                    what,
                },
            )?)),
            Container::Directory => None,
        };
        Ok(self
            .drives
            .iter()
            .map(|d| {
                let layers: Vec<PathBuf> = d
                    .folders
                    .iter()
                    .map(|f| f.split('/').fold(self.path.clone(), |p, c| p.join(c)))
                    .collect();
                let first = self.drives.first().map_or(d.letter, |f| f.letter);
                let vol = open_drive(d, first, self.layout, source.clone(), &layers);
                (d.clone(), Ok(vol))
            })
            .collect())
    }
}

/// One drive: from the zip when there is one, else from the host `layers`.
fn open_drive(
    d: &Drive,
    first_letter: char,
    layout: Layout,
    archive: Option<Arc<zip::Archive>>,
    layers: &[PathBuf],
) -> CollectedVolume {
    let decode = layout == Layout::Velociraptor;
    let mut tree = Tree::new();
    let mut degraded = Vec::new();
    let (reader, times) = match archive {
        Some(a) => {
            let first = d.letter == first_letter;
            a.build(&d.folders, decode, first, &mut tree, &mut degraded);
            (Reader::Zip(a), "file times are the zip entries' UTC timestamps where stored (the originals' only where the collector kept them; an entry with only a DOS time has none); folders have no times (the collector made them)")
        }
        None => {
            dir::build(layers, decode, &mut tree, &mut degraded);
            (Reader::Directory, "file times are the copies' own, as the host folder holds them (the originals' only where the collector and every later copy kept them); folders have no times (the collector made them)")
        }
    };
    tree.freeze();
    CollectedVolume {
        tree,
        reader,
        degraded,
        note: format!(
            "collected drive {}: from {} ({}); {times}",
            d.letter,
            d.folders.join(", "),
            layout.words()
        ),
    }
}

/// The drives of a zip collection held in memory, for the fuzz target:
/// `None` when the bytes are no zip or hold no collection.
#[doc(hidden)]
pub fn zip_bytes_volumes(data: &[u8]) -> Option<Vec<CollectedVolume>> {
    let archive = zip::Archive::from_source(Box::new(std::io::Cursor::new(data.to_vec()))).ok()?;
    let raw = archive.raw_tree();
    let (layout, drives, _) = find(&TreeBrowse(&raw))?;
    let archive = Arc::new(archive);
    let first = drives.first()?.letter;
    Some(
        drives
            .iter()
            .map(|d| open_drive(d, first, layout, Some(archive.clone()), &[]))
            .collect(),
    )
}

impl CollectedVolume {
    /// How many files and folders the drive holds.
    pub fn len(&self) -> usize {
        self.tree.len()
    }

    /// Whether it holds nothing but its root.
    pub fn is_empty(&self) -> bool {
        self.tree.len() <= 1
    }

    /// The bytes its files hold (as their sizes say).
    pub fn bytes(&self) -> u64 {
        self.tree.bytes()
    }
}

impl Volume for CollectedVolume {
    fn kind(&self) -> Filesystem {
        match self.reader {
            Reader::Directory => Filesystem::Directory,
            Reader::Zip(_) => Filesystem::Zip,
        }
    }

    fn label(&self) -> Option<String> {
        None
    }

    fn cluster_size(&self) -> u32 {
        0
    }

    fn degraded(&self) -> Vec<(String, String)> {
        self.degraded.clone()
    }

    fn root(&self) -> Result<Entry, FsError> {
        Ok(self.tree.entry(0))
    }

    fn lookup(&self, path: &str) -> Result<Entry, FsError> {
        self.tree.lookup(path)
    }

    fn list(&self, dir: &Entry) -> Result<Vec<Entry>, FsError> {
        self.tree.list(dir)
    }

    fn read(&self, entry: &Entry) -> Result<FileData<'_>, FsError> {
        let fail = |what: String| FsError::Collected {
            path: entry.path.clone(),
            what,
        };
        let node = self
            .tree
            .node(entry.id)
            .ok_or_else(|| fail(format!("no such entry (id {})", entry.id)))?;
        if let Some(e) = &node.error {
            return Err(fail(e.clone()));
        }
        let bytes = match (&node.origin, &self.reader) {
            (Origin::Host(p), _) => dir::read(p),
            (Origin::Zip(i), Reader::Zip(a)) => a.read(*i),
            _ if node.is_dir => Err("a folder, not a file".to_string()),
            _ => Err("no data".to_string()),
        };
        bytes.map(FileData::Owned).map_err(fail)
    }

    fn names_equal(&self, a: &str, b: &str) -> bool {
        tree::key(a) == tree::key(b)
    }
}

/// A host or zip time as a FILETIME.
pub(crate) fn filetime(t: SystemTime) -> Option<FileTime> {
    const UNIX_EPOCH_TICKS: i128 = 116_444_736_000_000_000;
    let ticks = match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => UNIX_EPOCH_TICKS + (d.as_nanos() / 100) as i128,
        Err(e) => UNIX_EPOCH_TICKS - (e.duration().as_nanos() / 100) as i128,
    };
    FileTime::new(u64::try_from(ticks).ok()?)
}

/// Percent-decodes a Velociraptor name (`C%3A` → `C:`). `Err` when the
/// result is no name Windows could hold (a separator, NUL, `.`, `..`) or
/// not UTF-8.
pub(crate) fn decode_name(name: &str) -> Result<String, String> {
    let b = name.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    let s = String::from_utf8(out).map_err(|_| format!("'{name}' decodes to no UTF-8 name"))?;
    check_name(&s).map_err(|why| format!("'{name}' decodes to {why}"))?;
    Ok(s)
}

/// A name Windows could hold in one folder: not empty, `.` or `..`, and
/// without a separator or NUL.
pub(crate) fn check_name(s: &str) -> Result<(), String> {
    if s.is_empty() || s == "." || s == ".." {
        return Err(format!("'{s}', which names no file"));
    }
    if s.contains(['\\', '/', '\0']) {
        return Err("a name holding a path separator or NUL".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drive_letters_in_every_form() {
        for n in ["C", "c", "C:", "C%3A", "c%3a", "%5C%5C.%5CC%3A", r"\\.\C:"] {
            assert_eq!(drive_letter(n), Some('C'), "{n}");
        }
        for n in [
            "CC",
            "",
            "1",
            "C%3",
            "%5C%5C.%5CHarddiskVolumeShadowCopy1",
            "uploads",
        ] {
            assert_eq!(drive_letter(n), None, "{n}");
        }
    }

    #[test]
    fn velociraptor_names_decode() {
        assert_eq!(decode_name("C%3A").unwrap(), "C:");
        assert_eq!(decode_name("%2Ebash_history").unwrap(), ".bash_history");
        assert_eq!(decode_name("a%zz").unwrap(), "a%zz");
        assert_eq!(decode_name("100%").unwrap(), "100%");
        assert!(decode_name("%2E%2E").is_err());
        assert!(decode_name("a%5Cb").is_err());
        assert!(decode_name("a%2Fb").is_err());
        assert!(decode_name("a%00").is_err());
        assert!(decode_name("%FF").is_err());
    }

    #[test]
    fn filetimes_from_system_times() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1);
        assert_eq!(filetime(t).unwrap().unix_seconds(), 1);
    }
}
