//! Format recognition and the opening of one layer of an image. A layer is
//! the image the user named, or a parent (VHD differencing) or backing file
//! (qcow2) that it reads through. The chain of layers is bounded in depth and
//! refuses to visit the same file twice, so a crafted chain that loops ends
//! with an error instead of a hang.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{ewf, qcow2, split, vhd, vhdx, vmdk};
use super::{ContainerInfo, Disk, Format, ImageError, RawDisk};

/// Longest chain of parent/backing files we follow.
pub(crate) const MAX_CHAIN_DEPTH: usize = 16;

/// One opened layer.
pub(crate) struct Opened {
    pub format: Format,
    pub info: ContainerInfo,
    pub disk: Box<dyn Disk>,
    pub ewf: Option<Arc<::ewf::EwfReader>>,
}

/// The files already on the chain, to detect loops.
#[derive(Default)]
pub(crate) struct Chain {
    visited: Vec<PathBuf>,
}

/// What the first bytes of a file say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Raw,
    Ewf,
    EwfLogical,
    Vhd,
    Vhdx,
    Vmdk,
    Qcow2,
}

const EWF1_MAGIC: &[u8] = b"EVF\x09\x0d\x0a\xff\x00";
const EWF2_MAGIC: &[u8] = b"EVF2\x0d\x0a\x81\x00";
const LWF1_MAGIC: &[u8] = b"LVF\x09\x0d\x0a\xff\x00";
const LWF2_MAGIC: &[u8] = b"LEF2\x0d\x0a\x81\x00";

/// Recognises a format from the file's bytes.
pub(crate) fn sniff(bytes: &[u8]) -> Kind {
    let head = |magic: &[u8]| bytes.starts_with(magic);
    if head(EWF1_MAGIC) || head(EWF2_MAGIC) {
        return Kind::Ewf;
    }
    if head(LWF1_MAGIC) || head(LWF2_MAGIC) {
        return Kind::EwfLogical;
    }
    if head(b"vhdxfile") {
        return Kind::Vhdx;
    }
    if head(b"QFI\xfb") {
        return Kind::Qcow2;
    }
    if head(b"KDMV") || head(b"COWD") || is_vmdk_descriptor(bytes) {
        return Kind::Vmdk;
    }
    if head(b"conectix") || vhd::footer_at_end(bytes).is_some() {
        return Kind::Vhd;
    }
    Kind::Raw
}

/// A VMDK text descriptor: a small text file that says so near its start.
fn is_vmdk_descriptor(bytes: &[u8]) -> bool {
    if bytes.len() > 1 << 20 {
        return false;
    }
    let head = &bytes[..bytes.len().min(1024)];
    let text = String::from_utf8_lossy(head);
    text.contains("# Disk DescriptorFile")
        || (text.trim_start().starts_with('#') && text.contains("createType"))
}

/// Opens the image the user named.
pub(crate) fn open_top(path: &Path) -> Result<Opened, ImageError> {
    let mut chain = Chain::default();
    open_layer(path, &mut chain)
}

/// Opens one layer, recognising its format by content.
pub(crate) fn open_layer(path: &Path, chain: &mut Chain) -> Result<Opened, ImageError> {
    let canonical = std::fs::canonicalize(path).map_err(|source| ImageError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    if chain.visited.contains(&canonical) {
        return Err(ImageError::format(
            path,
            "the chain of parent/backing files loops back to this file",
        ));
    }
    if chain.visited.len() >= MAX_CHAIN_DEPTH {
        return Err(ImageError::format(
            path,
            format!("the chain of parent/backing files is deeper than {MAX_CHAIN_DEPTH}"),
        ));
    }
    chain.visited.push(canonical);

    let raw = RawDisk::open(path)?;
    if raw.is_device() {
        // A block device is a raw disk (containers live in files); only
        // what is clearly no disk at all is refused.
        if let Some(f) = super::sniff::foreign(&raw.head(super::sniff::HEAD)) {
            return Err(not_a_disk_image(path, f));
        }
        return Ok(split::single(path, raw));
    }
    let kind = sniff(raw.bytes());
    match kind {
        Kind::Raw => {
            if let Some(f) = super::sniff::foreign(&raw.head(super::sniff::HEAD)) {
                return Err(not_a_disk_image(path, f));
            }
            split::open_raw_or_split(path, raw)
        }
        Kind::Ewf => {
            drop(raw);
            guard(path, "EWF", || ewf::open(path))
        }
        Kind::EwfLogical => Err(ImageError::unsupported(
            path,
            "logical evidence file (L01/Lx01): it holds files, not a disk image",
        )),
        Kind::Vhd => vhd::open(path, raw, chain),
        Kind::Vhdx => guard(path, "VHDX", || vhdx::open(path, raw)),
        Kind::Vmdk => {
            drop(raw);
            guard(path, "VMDK", || vmdk::open(path))
        }
        Kind::Qcow2 => guard(path, "qcow2", || qcow2::open(path, raw, chain)),
    }
}

/// Opens a remote image: raw (a fixed VHD reads as its raw disk) or a
/// single-segment EWF1. Other containers are refused by name: their
/// readers want files.
pub(crate) fn open_remote(disk: super::http::HttpDisk) -> Result<Opened, ImageError> {
    let path = disk.alias().to_path_buf();
    let mut head = vec![0u8; disk.size().min(super::sniff::HEAD as u64) as usize];
    disk.read_exact_at(0, &mut head)
        .map_err(|e| ImageError::Read {
            path: path.clone(),
            offset: 0,
            len: head.len(),
            what: super::without_path(&path.display().to_string(), &e.to_string()),
        })?;
    let not_over_http = |what: &str| {
        Err(ImageError::unsupported(
            &path,
            format!("{what} images are not read over HTTP (only raw and single-segment E01): download it first"),
        ))
    };
    match sniff(&head) {
        Kind::Raw => {
            if let Some(f) = super::sniff::foreign(&head) {
                return Err(not_a_disk_image(&path, f));
            }
            let mut info = ContainerInfo::single(&path);
            if let Some(tag) = disk.etag() {
                info.push("http.etag", tag);
            }
            Ok(Opened {
                format: Format::Raw,
                info,
                disk: Box::new(disk),
                ewf: None,
            })
        }
        Kind::Ewf => {
            let etag = disk.etag().map(str::to_string);
            let mut opened = guard(&path, "EWF", || ewf::open_remote(&path, disk))?;
            if let Some(tag) = etag {
                opened.info.push("http.etag", tag);
            }
            Ok(opened)
        }
        Kind::EwfLogical => Err(ImageError::unsupported(
            &path,
            "logical evidence file (L01/Lx01): it holds files, not a disk image",
        )),
        Kind::Vhd => not_over_http("dynamic or differencing VHD"),
        Kind::Vhdx => not_over_http("VHDX"),
        Kind::Vmdk => not_over_http("VMDK"),
        Kind::Qcow2 => not_over_http("qcow2"),
    }
}

fn not_a_disk_image(path: &Path, f: super::sniff::Foreign) -> ImageError {
    ImageError::NotADiskImage {
        path: path.to_path_buf(),
        what: f.what.into(),
        advice: f.advice.into(),
    }
}

/// Runs a third-party parser, turning a panic into an error that names the
/// file (crafted input must not take the process down).
pub(crate) fn guard<T>(
    path: &Path,
    what: &str,
    f: impl FnOnce() -> Result<T, ImageError>,
) -> Result<T, ImageError> {
    match crate::panic::contain_payload(f) {
        Ok(r) => r,
        Err(_) => Err(ImageError::format(
            path,
            format!("the {what} parser failed on this file (damaged or crafted container)"),
        )),
    }
}

/// Finds a parent/backing file named in a container, looking only in the
/// directory of the child (evidence is copied as a set; a stored absolute
/// path points into the acquisition machine, not ours). `names` are the
/// candidate names as stored (paths in Windows or POSIX form); the first
/// whose file name exists next to the child wins.
pub(crate) fn find_sibling(child: &Path, names: &[String]) -> Option<PathBuf> {
    let dir = child.parent().unwrap_or(Path::new("."));
    for name in names {
        let file_name = name
            .rsplit(['\\', '/'])
            .next()
            .unwrap_or("")
            .trim_matches(char::from(0))
            .trim();
        if file_name.is_empty() || file_name == "." || file_name == ".." {
            continue;
        }
        let candidate = dir.join(file_name);
        if candidate.is_file() {
            return Some(candidate);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_magics() {
        assert_eq!(sniff(b"EVF\x09\x0d\x0a\xff\x00rest"), Kind::Ewf);
        assert_eq!(sniff(b"EVF2\x0d\x0a\x81\x00rest"), Kind::Ewf);
        assert_eq!(sniff(b"LVF\x09\x0d\x0a\xff\x00"), Kind::EwfLogical);
        assert_eq!(sniff(b"vhdxfile"), Kind::Vhdx);
        assert_eq!(sniff(b"QFI\xfb\0\0\0\x03"), Kind::Qcow2);
        assert_eq!(sniff(b"KDMV"), Kind::Vmdk);
        assert_eq!(
            sniff(b"# Disk DescriptorFile\nversion=1\ncreateType=\"monolithicFlat\"\n"),
            Kind::Vmdk
        );
        assert_eq!(sniff(&[0u8; 4096]), Kind::Raw);
        assert_eq!(sniff(&[]), Kind::Raw);
    }

    #[test]
    fn sibling_lookup_takes_only_the_file_name() {
        let dir = tempfile::tempdir().unwrap();
        let child = dir.path().join("child.vhd");
        std::fs::write(&child, b"x").unwrap();
        std::fs::write(dir.path().join("parent.vhd"), b"x").unwrap();
        let found = find_sibling(
            &child,
            &[
                "C:\\nowhere\\missing.vhd".into(),
                "..\\..\\elsewhere\\parent.vhd".into(),
            ],
        );
        assert_eq!(found, Some(dir.path().join("parent.vhd")));
        assert_eq!(find_sibling(&child, &["..".into(), "".into()]), None);
    }
}
