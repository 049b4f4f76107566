//! `verskew versions`: the version resources of PE files under a path or glob.

use std::collections::HashSet;
use std::path::Path;

use globset::{GlobBuilder, GlobMatcher};

use super::{contained, open_partitions_in, CommandError, Select};
use crate::analysis::Knowledge;
use crate::fs::{self, components, strip_drive, Entry, FsError, Volume};
use crate::windows::{read_pe_files, system_roots, PeFile};
use crate::Unreadable;

/// Deepest directory nesting we walk; Windows paths stop far earlier.
const MAX_DEPTH: usize = 64;
/// Most entries one walk visits, so a hostile tree cannot run forever.
const MAX_ENTRIES: usize = 4_000_000;

/// One PE file of one volume.
#[derive(Debug, Clone)]
pub struct VersionRow {
    pub image: String,
    pub volume: usize,
    pub file: PeFile,
}

/// What `versions` found in one image.
#[derive(Debug, Default)]
pub struct Listing {
    pub rows: Vec<VersionRow>,
    pub lost: Vec<Unreadable>,
    /// How many volumes the image has that we read: rows name their volume
    /// only when there are several.
    pub volumes: usize,
}

/// The PE files matching `pattern` (a Windows path glob such as
/// `\WINNT\system32\*.dll` or `**\inetsrv\*.dll`, matched case-insensitively;
/// a folder without a wildcard lists that folder's files), or by default
/// those in the folders the knowledge collects from every install
/// (`<root>\system32\inetsrv`). Panics contained.
pub fn versions(path: &Path, pattern: Option<&str>) -> Result<Listing, CommandError> {
    versions_in(path, pattern, Select::All)
}

/// [`versions`] on the volumes `select` picks (`-o`, `--partition`).
pub fn versions_in(
    path: &Path,
    pattern: Option<&str>,
    select: Select,
) -> Result<Listing, CommandError> {
    contained(path, || versions_inner(path, pattern, select))
}

fn versions_inner(
    path: &Path,
    pattern: Option<&str>,
    select: Select,
) -> Result<Listing, CommandError> {
    let matcher = pattern
        .map(glob)
        .transpose()
        .map_err(|what| CommandError::BadArgument { what })?;
    let name = path.display().to_string();
    let mut rows = Vec::new();
    let mut lost = Vec::new();
    let mut add = |index: usize, vol: &dyn Volume, lost: &mut Vec<Unreadable>| {
        rows.extend(volume_rows(
            vol,
            index,
            &name,
            pattern,
            matcher.as_ref(),
            lost,
        ));
    };
    if let Some(c) = super::collection::probe(path)? {
        super::collection::whole(path, select)?;
        let drives = super::collection::open(&c)?;
        for (index, (_, vol)) in drives.iter().enumerate() {
            match vol {
                Ok(v) => {
                    for (what, why) in v.degraded() {
                        lost.push(Unreadable::new(&format!("volume #{index} {what}"), why));
                    }
                    add(index, v, &mut lost);
                }
                Err(e) => lost.push(Unreadable::new(&format!("volume #{index}"), e)),
            }
        }
        return Ok(Listing {
            rows,
            lost,
            volumes: drives.len(),
        });
    }
    let (img, partitions) = open_partitions_in(path, select)?;
    let disk = img.disk.as_ref();
    for (index, part) in partitions.iter().enumerate() {
        match fs::open(disk, part) {
            Ok(v) => add(index, v.as_ref(), &mut lost),
            Err(e) => lost.push(Unreadable::new(&format!("volume #{index}"), e)),
        }
    }
    Ok(Listing {
        rows,
        lost,
        volumes: partitions.len(),
    })
}

/// The rows of one volume: the files `pattern` matches, or the default folders.
fn volume_rows(
    vol: &dyn Volume,
    index: usize,
    name: &str,
    pattern: Option<&str>,
    matcher: Option<&GlobMatcher>,
    lost: &mut Vec<Unreadable>,
) -> Vec<VersionRow> {
    let entries = match (matcher, pattern) {
        (Some(m), Some(p)) => walk_matching(vol, p, m, lost),
        _ => default_folders(vol, &Knowledge::builtin().scope().folders),
    };
    read_pe_files(vol, &entries, lost)
        .into_iter()
        .filter(|f| f.is_pe)
        .map(|file| VersionRow {
            image: name.to_string(),
            volume: index,
            file,
        })
        .collect()
}

fn glob(pattern: &str) -> Result<GlobMatcher, String> {
    let normal = normalise(pattern);
    GlobBuilder::new(&normal)
        .case_insensitive(true)
        .literal_separator(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| format!("bad path pattern '{pattern}': {e}"))
}

/// `C:\WINNT\System32\*.dll` → `WINNT/System32/*.dll`.
fn normalise(path: &str) -> String {
    strip_drive(path)
        .replace('\\', "/")
        .trim_start_matches('/')
        .to_string()
}

/// The files of `folders` below every system root.
fn default_folders(vol: &dyn Volume, folders: &[String]) -> Vec<Entry> {
    system_roots(vol, &mut Vec::new())
        .iter()
        .flat_map(|r| folders.iter().map(move |f| format!(r"{}\{f}", r.root.path)))
        .filter_map(|dir| vol.lookup(&dir).ok())
        .filter_map(|dir| vol.list(&dir).ok())
        .flatten()
        .filter(|e| !e.is_dir)
        .collect()
}

/// Walks from the pattern's literal prefix, depth-first, each directory once.
fn walk_matching(
    vol: &dyn Volume,
    pattern: &str,
    m: &GlobMatcher,
    lost: &mut Vec<Unreadable>,
) -> Vec<Entry> {
    let normal = normalise(pattern);
    let parts: Vec<&str> = normal.split('/').collect();
    let literal: Vec<&str> = parts
        .iter()
        .take_while(|p| !p.contains(['*', '?', '[', '{']))
        .copied()
        .collect();
    let recursive = normal.contains("**");
    let depth_limit = if recursive { MAX_DEPTH } else { parts.len() };
    let start_path = format!("\\{}", literal.join("\\"));
    let start = match components(&start_path).map(|c| c.is_empty()) {
        Ok(true) => vol.root(),
        _ => vol.lookup(&start_path),
    };
    let start = match start {
        Ok(s) => s,
        // Absent is no match; unreadable is a loss, never "no match".
        Err(FsError::NotFound { .. }) => return Vec::new(),
        Err(e) => {
            lost.push(Unreadable::new(&start_path, e.reason()));
            return Vec::new();
        }
    };
    if !start.is_dir {
        return if m.is_match(normalise(&start.path)) {
            vec![start]
        } else {
            Vec::new()
        };
    }
    // A folder named outright (no wildcard): its files, as `folder\*` would.
    if literal.len() == parts.len() {
        return match vol.list(&start) {
            Ok(list) => list
                .into_iter()
                .filter(|e| !e.is_dir && !e.metadata)
                .collect(),
            Err(e) => {
                lost.push(Unreadable::new(&start.path, e));
                Vec::new()
            }
        };
    }
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut stack = vec![(start, literal.len())];
    let mut visited = 0usize;
    while let Some((dir, depth)) = stack.pop() {
        if !seen.insert(dir.id) {
            continue;
        }
        let list = match vol.list(&dir) {
            Ok(l) => l,
            Err(e) => {
                lost.push(Unreadable::new(&dir.path, e));
                continue;
            }
        };
        for e in list {
            visited += 1;
            if e.metadata {
                continue;
            }
            if visited > MAX_ENTRIES {
                lost.push(Unreadable::new(
                    &dir.path,
                    format!("walk stopped after {MAX_ENTRIES} entries"),
                ));
                return out;
            }
            if e.is_dir {
                if depth + 1 < depth_limit {
                    stack.push((e, depth + 1));
                }
            } else if m.is_match(normalise(&e.path)) {
                out.push(e);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_windows_paths_case_insensitively() {
        let m = glob(r"C:\WINNT\system32\inetsrv\*.DLL").unwrap();
        assert!(m.is_match(normalise(r"\WINNT\SYSTEM32\INETSRV\w3svc.dll")));
        assert!(!m.is_match(normalise(r"\WINNT\system32\inetsrv\sub\w3svc.dll")));
        let any = glob(r"**\inetsrv\*.dll").unwrap();
        assert!(any.is_match(normalise(r"\WINDOWS\system32\inetsrv\w3core.dll")));
        assert!(glob("[").is_err());
    }
}
