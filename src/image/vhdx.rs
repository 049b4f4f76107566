//! VHDX images through the `vhdx-core` crate.
//!
//! A VHDX whose log is not empty was not closed cleanly: its committed state
//! is the file plus the log. We do not replay a log into evidence (nor build a
//! replayed view silently); such an image is refused with a message that says
//! how to get a clean copy.

use std::path::Path;

use ::vhdx::VhdxReader;

use super::layer::Opened;
use super::pool::PooledDisk;
use super::{ContainerInfo, Format, ImageError, RawDisk};

/// The header section is the first MiB of a VHDX.
const HEADER_SECTION: usize = 1 << 20;

pub(crate) fn open(path: &Path, raw: RawDisk) -> Result<Opened, ImageError> {
    let bytes = raw.bytes();
    let head = &bytes[..bytes.len().min(HEADER_SECTION)];
    let header = ::vhdx::header::parse_active_header(head).map_err(|e| {
        ImageError::corrupt(
            path,
            ::vhdx::header::HEADER1_OFFSET,
            format!("VHDX: no valid header (both copies damaged?): {e}"),
        )
    })?;
    if header.log_length != 0 && header.log_guid != [0u8; 16] {
        return Err(ImageError::unsupported(
            path,
            format!(
                "VHDX has an unreplayed log ({} bytes at offset {}): the disk was not closed cleanly. \
                 verskew does not replay logs into evidence; make a working copy and attach it once \
                 in Hyper-V/Windows (or `qemu-img convert` it), then analyse the copy",
                header.log_length, header.log_offset
            ),
        ));
    }
    drop(raw);

    let reader = VhdxReader::open(path).map_err(|e| map_err(path, e))?;
    let size = reader.virtual_disk_size();
    let mut info = ContainerInfo::single(path);
    info.push(
        "vhdx.logical_sector_size",
        reader.logical_sector_size().to_string(),
    );
    let p = path.to_path_buf();
    let disk = PooledDisk::new(
        path,
        size,
        "VHDX",
        reader,
        Box::new(move || VhdxReader::open(&p).map_err(|e| e.to_string())),
    );
    Ok(Opened {
        format: Format::Vhdx,
        info,
        disk: Box::new(disk),
        ewf: None,
    })
}

fn map_err(path: &Path, e: ::vhdx::VhdxError) -> ImageError {
    use ::vhdx::VhdxError as E;
    match e {
        E::DifferencingNotSupported => ImageError::unsupported(
            path,
            "differencing VHDX (reads through a parent disk): not supported yet",
        ),
        E::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            ImageError::format(path, format!("VHDX is truncated: {io}"))
        }
        other => ImageError::format(path, format!("VHDX: {other}")),
    }
}
