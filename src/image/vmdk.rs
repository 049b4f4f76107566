//! VMDK images through the `vmdk-core` crate: monolithicSparse,
//! streamOptimized, monolithicFlat, twoGbMaxExtent{Sparse,Flat}, vmfs and
//! snapshot chains (`parentFileNameHint`, resolved next to the child by the
//! crate, depth-limited).

use std::path::Path;

use ::vmdk::{VmdkChainReader, VmdkError, VmdkFileReader};

use super::cache::BlockCache;
use super::layer::Opened;
use super::pool::PooledDisk;
use super::{ContainerInfo, Format, ImageError};

pub(crate) fn open(path: &Path) -> Result<Opened, ImageError> {
    let mut info = ContainerInfo::single(path);
    // List the extent files first, so that a missing one is named.
    let extents = VmdkFileReader::extent_dependencies(path).map_err(|e| map_err(path, e))?;
    for extent in &extents {
        if !extent.is_file() {
            return Err(ImageError::missing(
                path,
                format!("VMDK extent {} is missing", extent.display()),
            ));
        }
    }
    info.files.extend(extents);

    let reader = VmdkChainReader::open(path).map_err(|e| map_err(path, e))?;
    let size = reader.virtual_disk_size();
    // The parents of a snapshot chain (the crate resolves them the same way:
    // `parentFileNameHint`, next to the child), with their extents.
    let mut current = path.to_path_buf();
    for _ in 1..reader.depth() {
        let Some(parent) = VmdkFileReader::open_path(&current)
            .ok()
            .and_then(|r| parent_hint(r.descriptor_text()))
            .and_then(|hint| super::layer::find_sibling(&current, &[hint]))
        else {
            break;
        };
        if info.files.contains(&parent) {
            break;
        }
        info.files.push(parent.clone());
        if let Ok(extents) = VmdkFileReader::extent_dependencies(&parent) {
            info.files.extend(extents);
        }
        current = parent;
    }
    // A compressed grain is inflated whole for each read that touches it:
    // keep decoded grains (a chain's compression is its top's).
    let mut grain = None;
    if let Ok(top) = VmdkFileReader::open_path(path) {
        let i = top.info();
        if i.compressed && i.grain_size_bytes > 0 {
            grain = Some(i.grain_size_bytes);
        }
        if !i.disk_type.is_empty() {
            info.push("vmdk.create_type", i.disk_type);
        }
        info.push("vmdk.compressed", i.compressed.to_string());
    }
    info.push("vmdk.chain_depth", reader.depth().to_string());

    let p = path.to_path_buf();
    let disk = PooledDisk::new(
        path,
        size,
        "VMDK",
        reader,
        Box::new(move || VmdkChainReader::open(&p).map_err(|e| e.to_string())),
    );
    let disk: Box<dyn super::Disk> = match grain {
        Some(g) => Box::new(BlockCache::new(disk, g)),
        None => Box::new(disk),
    };
    Ok(Opened {
        format: Format::Vmdk,
        info,
        disk,
        ewf: None,
    })
}

/// The `parentFileNameHint` of a descriptor.
fn parent_hint(descriptor: &str) -> Option<String> {
    descriptor.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim() == "parentFileNameHint").then(|| value.trim().trim_matches('"').to_string())
    })
}

fn map_err(path: &Path, e: VmdkError) -> ImageError {
    match e {
        VmdkError::Io(io) if io.kind() == std::io::ErrorKind::NotFound => ImageError::missing(
            path,
            format!("VMDK: a file it refers to (extent or parent) is missing: {io}"),
        ),
        VmdkError::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            ImageError::format(path, format!("VMDK is truncated: {io}"))
        }
        other => ImageError::format(path, format!("VMDK: {other}")),
    }
}
