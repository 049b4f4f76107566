//! A collected drive inside a zip archive (a Velociraptor offline
//! collection, a zipped KAPE destination), through the `zip` crate built
//! with deflate only.
//!
//! The central directory is read once, under `panic::contain`, with caps:
//! at most [`MAX_ENTRIES`] entries; names with a `..` component, an absolute
//! path or a drive letter, or a NUL are refused (listed, never placed in the
//! tree). A read refuses an encrypted entry, a method other than stored or
//! deflate, a declared size over `MAX_FILE_BYTES`, and a declared size no
//! deflate stream of that compressed size could expand to (a zip bomb); it
//! stops at the declared size and checks the CRC the entry stores.

use std::fs::File;
use std::io::{Read, Seek};
use std::path::Path;
use std::sync::Mutex;

use ::zip::ZipArchive;

use super::collection::tree::{Leaf, Origin, Tree};
use super::collection::{check_name, decode_name, filetime};
use super::MAX_FILE_BYTES;
use crate::panic;

/// Most entries one archive may hold (a large KAPE collection has a few
/// hundred thousand).
pub const MAX_ENTRIES: usize = 2_000_000;
/// Deflate expands at most about 1032:1; anything claiming more than this
/// ratio (plus a little for tiny entries) is refused before it is inflated.
const MAX_RATIO: u64 = 1100;
const RATIO_SLACK: u64 = 64 * 1024;

/// One entry of the central directory, as far as it was usable.
struct Item {
    /// Components as stored (not decoded), `None` when refused.
    parts: Vec<String>,
    is_dir: bool,
    size: u64,
    modified: Option<crate::time::FileTime>,
}

/// What an archive is read from: the file, or bytes (the fuzz target).
pub(crate) trait Source: Read + Seek + Send {}
impl<T: Read + Seek + Send> Source for T {}

type Zip = ZipArchive<Box<dyn Source>>;

/// An open zip archive, read-only, shared by the drives it holds.
pub(crate) struct Archive {
    zip: Mutex<Zip>,
    items: Vec<Option<Item>>,
    /// Entries refused, as (name, reason).
    refused: Vec<(String, String)>,
}

/// Whether the file starts as a zip archive does (a local header, or the
/// end record of an empty archive).
pub(crate) fn looks_like_zip(path: &Path) -> bool {
    let mut head = [0u8; 4];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && matches!(&head, b"PK\x03\x04" | b"PK\x05\x06")
}

fn zip_error(e: impl std::fmt::Display) -> String {
    format!("not a readable zip archive: {e}")
}

impl Archive {
    /// Opens the archive and reads its central directory.
    pub fn open(path: &Path) -> Result<Archive, String> {
        let file = File::open(path).map_err(|e| crate::image::io_text(&e))?;
        Archive::from_source(Box::new(file))
    }

    /// Opens an archive from any reader (bytes in memory for the fuzz target).
    pub fn from_source(source: Box<dyn Source>) -> Result<Archive, String> {
        let mut zip = panic::contain(|| ZipArchive::new(source))?.map_err(zip_error)?;
        if zip.len() > MAX_ENTRIES {
            return Err(format!(
                "{} entries, more than the {MAX_ENTRIES} read from one archive",
                zip.len()
            ));
        }
        let mut items = Vec::with_capacity(zip.len());
        let mut refused = Vec::new();
        for i in 0..zip.len() {
            let got = panic::contain(|| -> Result<(String, bool, u64, Option<u32>), String> {
                let f = zip.by_index_raw(i).map_err(zip_error)?;
                let mtime = f.extra_data_fields().find_map(|x| match x {
                    ::zip::extra_fields::ExtraField::ExtendedTimestamp(t) => t.mod_time(),
                    _ => None,
                });
                Ok((f.name().to_string(), f.is_dir(), f.size(), mtime))
            })
            .and_then(|r| r);
            let (name, is_dir, size, mtime) = match got {
                Ok(x) => x,
                Err(why) => {
                    refused.push((format!("entry {i}"), why));
                    items.push(None);
                    continue;
                }
            };
            match split(&name) {
                Ok(parts) => items.push(Some(Item {
                    parts,
                    is_dir,
                    size,
                    modified: mtime.and_then(|s| {
                        filetime(std::time::UNIX_EPOCH + std::time::Duration::from_secs(s.into()))
                    }),
                })),
                Err(why) => {
                    refused.push((name.replace('\0', "\\0"), why));
                    items.push(None);
                }
            }
        }
        Ok(Archive {
            zip: Mutex::new(zip),
            items,
            refused,
        })
    }

    /// Every usable entry's folders, with names as stored: what the
    /// collection is recognised by.
    pub fn raw_tree(&self) -> Tree {
        let mut t = Tree::new();
        for item in self.items.iter().flatten() {
            let folders = if item.is_dir {
                &item.parts[..]
            } else {
                &item.parts[..item.parts.len().saturating_sub(1)]
            };
            let mut n = 0;
            for p in folders {
                match t.dir(n, p) {
                    Ok(d) => n = d,
                    Err(_) => break,
                }
            }
        }
        t.freeze();
        t
    }

    /// Puts the entries under `folders` (each `/`-separated, as stored; the
    /// first one wins a name two of them hold) into `tree`; with `refused`,
    /// also lists the entries refused anywhere in the archive (said once,
    /// by the first drive).
    pub fn build(
        &self,
        folders: &[String],
        decode: bool,
        refused: bool,
        tree: &mut Tree,
        degraded: &mut Vec<(String, String)>,
    ) {
        if refused {
            for (name, why) in &self.refused {
                degraded.push((format!("zip entry {name}"), why.clone()));
            }
        }
        for folder in folders {
            let prefix: Vec<String> = folder.split('/').map(tree::key).collect();
            for (i, item) in self.items.iter().enumerate() {
                let Some(item) = item else { continue };
                if item.parts.len() < prefix.len()
                    || item.parts[..prefix.len()]
                        .iter()
                        .zip(&prefix)
                        .any(|(a, b)| tree::key(a) != *b)
                {
                    continue;
                }
                let rest = &item.parts[prefix.len()..];
                if rest.is_empty() {
                    continue;
                }
                if tree.len() >= MAX_ENTRIES {
                    degraded.push((folder.clone(), format!("more than {MAX_ENTRIES} entries")));
                    return;
                }
                let mut names = Vec::with_capacity(rest.len());
                let mut bad = None;
                for p in rest {
                    let shown = if decode {
                        decode_name(p)
                    } else {
                        check_name(p).map(|_| p.clone())
                    };
                    match shown {
                        Ok(n) => names.push(n),
                        Err(why) => {
                            bad = Some(why);
                            break;
                        }
                    }
                }
                if let Some(why) = bad {
                    degraded.push((
                        format!("zip entry {}", item.parts.join("/")),
                        format!("name refused: {why}"),
                    ));
                    continue;
                }
                let (last, dirs) = match (item.is_dir, names.split_last()) {
                    (false, Some((last, dirs))) => (Some(last), dirs),
                    (true, _) => (None, &names[..]),
                    (false, None) => continue,
                };
                let mut n = 0;
                let mut ok = true;
                for d in dirs {
                    match tree.dir(n, d) {
                        Ok(x) => n = x,
                        Err(why) => {
                            degraded.push((format!("zip entry {}", item.parts.join("/")), why));
                            ok = false;
                            break;
                        }
                    }
                }
                if !ok {
                    continue;
                }
                // A folder entry's time is the collector's: not kept.
                match last {
                    None => {}
                    Some(last) => {
                        let leaf = Leaf {
                            size: item.size,
                            created: None,
                            modified: item.modified,
                            error: None,
                            origin: Origin::Zip(i),
                        };
                        if let Err(why) = tree.file(n, last, leaf) {
                            degraded.push((tree.path(n), why));
                        }
                    }
                }
            }
        }
    }

    /// The uncompressed bytes of entry `index`, within the caps.
    pub fn read(&self, index: usize) -> Result<Vec<u8>, String> {
        let mut zip = self.zip.lock().unwrap_or_else(|p| p.into_inner());
        panic::contain(|| read_entry(&mut zip, index))?
    }
}

fn read_entry(zip: &mut Zip, index: usize) -> Result<Vec<u8>, String> {
    {
        let raw = zip.by_index_raw(index).map_err(zip_error)?;
        if raw.encrypted() {
            return Err("the zip entry is encrypted: decrypt the collection first (7-Zip reads Velociraptor's protected zips)".into());
        }
        let method = raw.compression();
        if !matches!(
            method,
            ::zip::CompressionMethod::Stored | ::zip::CompressionMethod::Deflated
        ) {
            return Err(format!(
                "the zip entry is compressed with {method:?}, which verskew does not read (only stored and deflate)"
            ));
        }
        let (size, packed) = (raw.size(), raw.compressed_size());
        if size > MAX_FILE_BYTES {
            return Err(format!(
                "the zip entry declares {size} bytes, more than the {MAX_FILE_BYTES} read from one file"
            ));
        }
        let most = packed.saturating_mul(MAX_RATIO).saturating_add(RATIO_SLACK);
        if method == ::zip::CompressionMethod::Deflated && size > most {
            return Err(format!(
                "the zip entry declares {size} bytes from {packed} compressed: more than deflate can expand to (a zip bomb): not read"
            ));
        }
        if method == ::zip::CompressionMethod::Stored && size != packed {
            return Err(format!(
                "the stored zip entry declares {size} bytes but holds {packed}"
            ));
        }
    }
    let f = zip.by_index(index).map_err(zip_error)?;
    let size = f.size();
    let mut out = Vec::with_capacity(size.min(64 << 20) as usize);
    // One byte past the declared size: more is a lie, and reading to the
    // end is what makes the crate check the stored CRC.
    f.take(size + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("the zip entry cannot be inflated: {e}"))?;
    if out.len() as u64 != size {
        return Err(format!(
            "the zip entry inflates to {}{} bytes, its header says {size}",
            out.len(),
            if out.len() as u64 > size {
                " or more"
            } else {
                ""
            }
        ));
    }
    Ok(out)
}

/// An entry name as path components: `/` or `\` separated; `.` and empty
/// parts dropped; `..`, a leading separator, a drive letter or NUL refused.
fn split(name: &str) -> Result<Vec<String>, String> {
    if name.contains('\0') {
        return Err("the name holds a NUL: refused".into());
    }
    if name.starts_with(['/', '\\']) {
        return Err("an absolute path: refused".into());
    }
    let mut parts = Vec::new();
    for (i, p) in name.split(['/', '\\']).enumerate() {
        match p {
            "" | "." => {}
            ".." => return Err("a '..' in the path (path traversal): refused".into()),
            p if i == 0 && p.len() == 2 && p.ends_with(':') => {
                return Err("a drive letter in the path: refused".into())
            }
            p => parts.push(p.to_string()),
        }
    }
    if parts.is_empty() {
        return Err("an empty name: refused".into());
    }
    Ok(parts)
}

use super::collection::tree;

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn hostile_names_are_refused() {
        assert_eq!(
            split("uploads/auto/C%3A/x").unwrap(),
            ["uploads", "auto", "C%3A", "x"]
        );
        assert_eq!(split(r"C\Windows\.\x").unwrap(), ["C", "Windows", "x"]);
        for bad in [
            "../x",
            "a/../../x",
            "/etc/passwd",
            r"\x",
            "C:/x",
            "a\0b",
            "",
            "./",
        ] {
            assert!(split(bad).is_err(), "{bad:?}");
        }
    }
}
