//! The in-memory directory tree of one collected drive: built once when the
//! volume opens (from a host directory walk or a zip's central directory),
//! then looked up case-insensitively as Windows does. Node 0 is the root.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::fs::{components, Entry, FileId, FsError};
use crate::time::FileTime;

/// Where a file's bytes are.
#[derive(Debug, Clone)]
pub(crate) enum Origin {
    /// A directory (or a file that cannot be read: `error` says why).
    None,
    /// A regular file of the host directory tree.
    Host(PathBuf),
    /// Entry `n` of the zip archive.
    Zip(usize),
}

#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// The Windows name (percent-decoded for Velociraptor collections).
    pub name: String,
    pub parent: usize,
    pub is_dir: bool,
    pub size: u64,
    pub created: Option<FileTime>,
    pub modified: Option<FileTime>,
    pub error: Option<String>,
    pub origin: Origin,
    children: Vec<usize>,
}

/// The comparison key of a name: each character upper-cased alone, as
/// NTFS's upcase table does for the names a collection holds.
pub(crate) fn key(name: &str) -> String {
    name.chars()
        .map(|c| {
            let mut up = c.to_uppercase();
            match (up.next(), up.next()) {
                (Some(u), None) => u,
                _ => c,
            }
        })
        .collect()
}

/// A drive's tree. Children are kept sorted by key once built.
#[derive(Debug, Default)]
pub(crate) struct Tree {
    nodes: Vec<Node>,
    /// (parent, key) → node, while building.
    index: HashMap<(usize, String), usize>,
}

/// What a new node carries.
pub(crate) struct Leaf {
    pub size: u64,
    pub created: Option<FileTime>,
    pub modified: Option<FileTime>,
    pub error: Option<String>,
    pub origin: Origin,
}

impl Tree {
    pub fn new() -> Tree {
        Tree {
            nodes: vec![Node {
                name: String::new(),
                parent: 0,
                is_dir: true,
                size: 0,
                created: None,
                modified: None,
                error: None,
                origin: Origin::None,
                children: Vec::new(),
            }],
            index: HashMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// The sizes of every file, summed.
    pub fn bytes(&self) -> u64 {
        self.nodes
            .iter()
            .filter(|n| !n.is_dir)
            .fold(0u64, |a, n| a.saturating_add(n.size))
    }

    /// The folder `name` in `parent`, made when absent. `Err` when a file
    /// of that name (compared as Windows does) is already there.
    pub fn dir(&mut self, parent: usize, name: &str) -> Result<usize, String> {
        if let Some(&n) = self.index.get(&(parent, key(name))) {
            return match self.nodes[n].is_dir {
                true => Ok(n),
                false => Err(format!("'{name}' is both a file and a folder")),
            };
        }
        Ok(self.push(parent, name, true, None))
    }

    /// Adds the file `name` to `parent`. `Err` (the first copy kept) when
    /// the folder already holds that name, compared as Windows does.
    pub fn file(&mut self, parent: usize, name: &str, leaf: Leaf) -> Result<usize, String> {
        if let Some(&n) = self.index.get(&(parent, key(name))) {
            return Err(format!(
                "'{name}' is there twice (names differing only in case, or in two layers): the first, '{}', is read",
                self.nodes[n].name
            ));
        }
        Ok(self.push(parent, name, false, Some(leaf)))
    }

    fn push(&mut self, parent: usize, name: &str, is_dir: bool, leaf: Option<Leaf>) -> usize {
        let n = self.nodes.len();
        let leaf = leaf.unwrap_or(Leaf {
            size: 0,
            created: None,
            modified: None,
            error: None,
            origin: Origin::None,
        });
        self.nodes.push(Node {
            name: name.to_string(),
            parent,
            is_dir,
            size: leaf.size,
            created: leaf.created,
            modified: leaf.modified,
            error: leaf.error,
            origin: leaf.origin,
            children: Vec::new(),
        });
        self.nodes[parent].children.push(n);
        self.index.insert((parent, key(name)), n);
        n
    }

    /// Sorts every folder's children by key (as Windows lists them) and
    /// drops the build index.
    pub fn freeze(&mut self) {
        let keys: Vec<String> = self.nodes.iter().map(|n| key(&n.name)).collect();
        for node in &mut self.nodes {
            node.children.sort_by(|a, b| keys[*a].cmp(&keys[*b]));
        }
        self.index = HashMap::new();
    }

    pub fn node(&self, id: FileId) -> Option<&Node> {
        usize::try_from(id.0).ok().and_then(|i| self.nodes.get(i))
    }

    /// `\Windows\System32` for a node.
    pub fn path(&self, mut n: usize) -> String {
        let mut parts = Vec::new();
        // Parents always precede children, so this ends; the bound is for safety.
        for _ in 0..self.nodes.len() {
            if n == 0 {
                break;
            }
            parts.push(self.nodes[n].name.as_str());
            n = self.nodes[n].parent;
        }
        parts.reverse();
        format!("\\{}", parts.join("\\"))
    }

    pub fn entry(&self, n: usize) -> Entry {
        let node = &self.nodes[n];
        Entry {
            path: if n == 0 { String::new() } else { self.path(n) },
            id: FileId(n as u64),
            metadata: false,
            is_dir: node.is_dir,
            size: node.size,
            created: node.created,
            modified: node.modified,
            mft_modified: None,
            compressed: false,
            error: node.error.clone(),
        }
    }

    /// Finds `path`, comparing each name by its key.
    pub fn lookup(&self, path: &str) -> Result<Entry, FsError> {
        let parts = components(path).map_err(|what| FsError::Collected {
            path: path.to_string(),
            what,
        })?;
        let mut n = 0usize;
        for part in parts {
            let k = key(part);
            let node = &self.nodes[n];
            let found = node
                .children
                .binary_search_by(|c| key(&self.nodes[*c].name).cmp(&k))
                .ok()
                .map(|i| node.children[i]);
            n = match found {
                Some(c) => c,
                None => {
                    return Err(FsError::NotFound {
                        path: path.to_string(),
                    })
                }
            };
        }
        Ok(self.entry(n))
    }

    pub fn list(&self, dir: &Entry) -> Result<Vec<Entry>, FsError> {
        let node = self.node(dir.id).ok_or_else(|| FsError::Collected {
            path: dir.path.clone(),
            what: format!("no such entry (id {})", dir.id),
        })?;
        if !node.is_dir {
            return Err(FsError::Collected {
                path: dir.path.clone(),
                what: "not a folder".into(),
            });
        }
        Ok(node.children.iter().map(|&c| self.entry(c)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf() -> Leaf {
        Leaf {
            size: 1,
            created: None,
            modified: None,
            error: None,
            origin: Origin::None,
        }
    }

    #[test]
    fn looks_names_up_as_windows_does() {
        let mut t = Tree::new();
        let w = t.dir(0, "Windows").unwrap();
        let s = t.dir(w, "System32").unwrap();
        assert_eq!(t.dir(w, "SYSTEM32").unwrap(), s);
        t.file(s, "w3svc.dll", leaf()).unwrap();
        assert!(t.file(s, "W3SVC.DLL", leaf()).is_err());
        assert!(t.dir(s, "w3svc.dll").is_err());
        t.file(s, "a.dll", leaf()).unwrap();
        t.freeze();
        let e = t.lookup(r"C:\WINDOWS\system32\W3SVC.dll").unwrap();
        assert_eq!(e.path, r"\Windows\System32\w3svc.dll");
        assert!(matches!(
            t.lookup(r"\Windows\nothing"),
            Err(FsError::NotFound { .. })
        ));
        assert!(t.lookup(r"\Windows\..\x").is_err());
        let dir = t.lookup(r"\windows\system32").unwrap();
        let names: Vec<String> = t
            .list(&dir)
            .unwrap()
            .iter()
            .map(|e| e.name().to_string())
            .collect();
        assert_eq!(names, ["a.dll", "w3svc.dll"]);
    }
}
