//! A collected drive in a host folder tree (a KAPE destination, an
//! unzipped Velociraptor collection), walked once into the collection's
//! tree and read-only from then on.
//!
//! The walk never follows a symbolic link (a link is listed, with its
//! target, as a file that is not read), never opens anything but a regular
//! file, stops at [`MAX_DEPTH`] folders deep and [`MAX_NODES`] entries, and
//! keeps every name it cannot use as an entry with its reason.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

use super::collection::tree::{Leaf, Origin, Tree};
use super::collection::{check_name, decode_name, filetime};
use super::MAX_FILE_BYTES;

/// Deepest folder nesting walked (Windows paths stop far earlier).
pub const MAX_DEPTH: usize = 64;
/// Most files and folders one drive may hold.
pub const MAX_NODES: usize = 2_000_000;

/// Walks each layer (the drive's folders, first one first) into `tree`.
/// What cannot be walked goes to `degraded` as (path, reason).
pub(crate) fn build(
    layers: &[PathBuf],
    decode: bool,
    tree: &mut Tree,
    degraded: &mut Vec<(String, String)>,
) {
    for layer in layers {
        let mut stack: Vec<(PathBuf, usize, usize)> = vec![(layer.clone(), 0, 0)];
        while let Some((host, node, depth)) = stack.pop() {
            let rd = match fs::read_dir(&host) {
                Ok(rd) => rd,
                Err(e) => {
                    degraded.push((
                        tree_path(tree, node),
                        format!("folder cannot be listed: {}", crate::image::io_text(&e)),
                    ));
                    continue;
                }
            };
            let mut names: Vec<_> = Vec::new();
            for item in rd {
                match item {
                    Ok(i) => names.push(i),
                    Err(e) => {
                        degraded.push((
                            tree_path(tree, node),
                            format!("listing stopped: {}", crate::image::io_text(&e)),
                        ));
                        break;
                    }
                }
                if names.len() > MAX_NODES {
                    break;
                }
            }
            names.sort_by_key(|e| e.file_name());
            for item in names {
                if tree.len() >= MAX_NODES {
                    degraded.push((
                        tree_path(tree, node),
                        format!("the walk stopped after {MAX_NODES} files and folders"),
                    ));
                    return;
                }
                let raw = item.file_name();
                let path = item.path();
                let (name, bad_name) = match raw.to_str() {
                    Some(s) => {
                        let shown = if decode {
                            decode_name(s)
                        } else {
                            check_name(s).map(|_| s.to_string())
                        };
                        match shown {
                            Ok(n) => (n, None),
                            Err(why) => (
                                s.replace(['\\', '/', '\0'], "_"),
                                Some(format!("name refused: {why}")),
                            ),
                        }
                    }
                    None => (
                        raw.to_string_lossy().into_owned(),
                        Some("the host name is not UTF-8: not read".to_string()),
                    ),
                };
                let ty = match item.file_type() {
                    Ok(t) => t,
                    Err(e) => {
                        add_file(
                            tree,
                            node,
                            &name,
                            unreadable(format!(
                                "cannot be examined: {}",
                                crate::image::io_text(&e)
                            )),
                            degraded,
                        );
                        continue;
                    }
                };
                if let Some(why) = bad_name {
                    add_file(tree, node, &name, unreadable(why), degraded);
                    continue;
                }
                let meta = fs::symlink_metadata(&path).ok();
                let modified = meta
                    .as_ref()
                    .and_then(|m| m.modified().ok())
                    .and_then(filetime);
                if ty.is_dir() {
                    if depth + 1 >= MAX_DEPTH {
                        degraded.push((
                            format!("{}\\{name}", tree_path(tree, node)),
                            format!("more than {MAX_DEPTH} folders deep: not walked"),
                        ));
                        continue;
                    }
                    // A folder's own times are the collector's (it made
                    // the folder): not read, so no date rests on them.
                    match tree.dir(node, &name) {
                        Ok(d) => stack.push((path, d, depth + 1)),
                        Err(why) => degraded.push((tree_path(tree, node), why)),
                    }
                } else if ty.is_file() {
                    let leaf = Leaf {
                        size: meta.as_ref().map_or(0, |m| m.len()),
                        created: meta
                            .as_ref()
                            .and_then(|m| m.created().ok())
                            .and_then(filetime),
                        modified,
                        error: None,
                        origin: Origin::Host(path),
                    };
                    add_file(tree, node, &name, leaf, degraded);
                } else if ty.is_symlink() {
                    let to = fs::read_link(&path)
                        .map(|t| t.display().to_string())
                        .unwrap_or_else(|_| "?".into());
                    add_file(
                        tree,
                        node,
                        &name,
                        unreadable(format!(
                            "a symbolic link (to {to}) in the collection: not followed"
                        )),
                        degraded,
                    );
                } else {
                    add_file(
                        tree,
                        node,
                        &name,
                        unreadable(
                            "not a regular file (a FIFO, socket or device): not read".into(),
                        ),
                        degraded,
                    );
                }
            }
        }
    }
}

fn unreadable(why: String) -> Leaf {
    Leaf {
        size: 0,
        created: None,
        modified: None,
        error: Some(why),
        origin: Origin::None,
    }
}

fn add_file(
    tree: &mut Tree,
    parent: usize,
    name: &str,
    leaf: Leaf,
    degraded: &mut Vec<(String, String)>,
) {
    if let Err(why) = tree.file(parent, name, leaf) {
        degraded.push((tree_path(tree, parent), why));
    }
}

fn tree_path(tree: &Tree, n: usize) -> String {
    tree.path(n)
}

/// Reads a regular file of the collection whole, read-only; a file that is
/// no longer a regular file, or larger than [`MAX_FILE_BYTES`], is refused.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, String> {
    let meta = fs::symlink_metadata(path).map_err(|e| crate::image::io_text(&e))?;
    if !meta.is_file() {
        return Err("no longer a regular file in the collection: not read".into());
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!(
            "{} bytes, more than the {MAX_FILE_BYTES} read from one file",
            meta.len()
        ));
    }
    let f = File::open(path).map_err(|e| crate::image::io_text(&e))?;
    let mut out = Vec::with_capacity(meta.len() as usize);
    f.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|e| crate::image::io_text(&e))?;
    if out.len() as u64 > MAX_FILE_BYTES {
        return Err(format!(
            "more than the {MAX_FILE_BYTES} bytes read from one file"
        ));
    }
    Ok(out)
}
