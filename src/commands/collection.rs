//! A triage collection given instead of an image (a folder, or a zip):
//! each command asks [`probe`] first, then reads the collected drives as
//! its volumes (`fs::collection`).

use std::path::Path;

use super::{CommandError, Select};
use crate::fs::collection::{self, CollectedVolume, Collection, Container, Drive};
use crate::fs::{FsError, Volume};
use crate::image::{Format, ImageError};
use crate::volume::{Filesystem, Partition, Scheme};

/// The collection at `path`, when it is one. A folder holding none is an
/// error (`not-a-file`, as a folder always was); a zip holding none is left
/// to the image layer, which names what it is; a zip that cannot be read is
/// `not-a-disk-image`, with why it could not be read.
pub(crate) fn probe(path: &Path) -> Result<Option<Collection>, CommandError> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(None);
    };
    let zip = meta.is_file() && crate::fs::zip::looks_like_zip(path);
    if !meta.is_dir() && !zip {
        return Ok(None);
    }
    if meta.is_dir() {
        // A folder that cannot be listed says why (permission, I/O), not
        // that it holds no collection.
        if let Err(source) = std::fs::read_dir(path) {
            return Err(ImageError::Open {
                path: path.to_path_buf(),
                source,
            }
            .into());
        }
    }
    match collection::probe(path) {
        Ok(Some(c)) => Ok(Some(c)),
        Ok(None) if meta.is_dir() => Err(ImageError::NotAFile {
            path: path.to_path_buf(),
            what: "is a directory, not a disk image: give the image file inside it (the .E01, the .001 of a split set, the .vmdk descriptor), or a triage collection (none here: no drive folder such as C\\ or C%3A\\, nor Velociraptor's uploads\\<accessor>\\C%3A\\, at its top or one folder down)".into(),
        }
        .into()),
        Ok(None) => Ok(None),
        // Named as the image layer names a zip, with why it is no
        // collection we could read.
        Err(why) => Err(ImageError::NotADiskImage {
            path: path.to_path_buf(),
            what: "a zip archive".into(),
            advice: format!(
                "extract the disk image from it first (nor can it be read as a triage collection: {why})"
            ),
        }
        .into()),
    }
}

/// `-o` and `--partition` pick a volume of a disk; a collection has none.
pub(crate) fn whole(path: &Path, select: Select) -> Result<(), CommandError> {
    match select {
        Select::All => Ok(()),
        _ => Err(CommandError::BadArgument {
            what: format!(
                "{}: -o and --partition pick a volume of a disk image; a triage collection's drives are all read",
                path.display()
            ),
        }),
    }
}

/// Every drive opened, in letter order; the whole collection unreadable
/// (a zip whose central directory fails) is an error.
pub(crate) fn open(c: &Collection) -> Result<collection::OpenedDrives, CommandError> {
    c.open().map_err(|e| CommandError::Unreadable {
        image: c.path.display().to_string(),
        what: e.what().to_string(),
        kind: "corrupt",
    })
}

/// The container format reports name.
pub(crate) fn format(c: &Collection) -> Format {
    match c.container {
        Container::Directory => Format::Directory,
        Container::Zip => Format::Zip,
    }
}

/// The size reports give: the zip's bytes, or the bytes of the files a
/// folder's drives hold.
pub(crate) fn size(c: &Collection, drives: &collection::OpenedDrives) -> u64 {
    match c.container {
        Container::Zip => std::fs::metadata(&c.path).map_or(0, |m| m.len()),
        Container::Directory => drives
            .iter()
            .filter_map(|(_, v)| v.as_ref().ok())
            .map(CollectedVolume::bytes)
            .sum(),
    }
}

/// The partition a report shows for drive `n` (0-based) of a collection.
pub(crate) fn partition(
    c: &Collection,
    n: usize,
    drive: &Drive,
    vol: &Result<CollectedVolume, FsError>,
) -> Partition {
    let mut notes: Vec<String> = Vec::new();
    if let Ok(v) = vol {
        notes.push(v.note.clone());
    }
    if n == 0 {
        notes.extend(c.notes.iter().cloned());
    }
    Partition {
        index: n as u32 + 1,
        scheme: Scheme::Collection,
        offset: 0,
        size: vol.as_ref().map_or(0, CollectedVolume::bytes),
        type_id: String::new(),
        name: Some(format!("{}:", drive.letter)),
        filesystem: Some(match c.container {
            Container::Directory => Filesystem::Directory,
            Container::Zip => Filesystem::Zip,
        }),
        note: Some(notes.join("; ")),
        declared: None,
        active: false,
    }
}

/// The volume of a drive, for the stages that take `&dyn Volume`.
pub(crate) fn volume(v: &Result<CollectedVolume, FsError>) -> Option<&dyn Volume> {
    v.as_ref().ok().map(|v| v as &dyn Volume)
}
