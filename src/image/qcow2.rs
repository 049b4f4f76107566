//! qcow2 (v2 and v3) images.
//!
//! We walk the cluster map ourselves (L1 table in memory, L2 entries read
//! from the memory-mapped file), so plain clusters are copied straight from
//! the map without a lock, and a backing file (found next to the image) fills
//! unallocated clusters. Compressed clusters are raw deflate streams of at
//! most one cluster: we inflate each with flate2 (its Rust backend), reading
//! only the sectors the L2 entry gives, and keep inflated clusters in a
//! bounded cache (`cache.rs`), so the many small reads a census makes inside
//! one cluster inflate it once. (The `qcow2-core` crate did this before; it
//! reads about 128 times the sectors a compressed cluster holds, since it
//! takes the sector count from the wrong bits, and inflated the cluster
//! again for every read.)
//!
//! The format is documented in QEMU's `docs/interop/qcow2.txt`.

use std::path::Path;
use std::sync::Arc;

use super::cache::BlockCache;
use super::layer::{self, Chain, Opened};
use super::{be32, be64, bytes_at, check_range, ContainerInfo, Disk, Format, ImageError, RawDisk};

const L1_OFFSET_MASK: u64 = 0x00ff_ffff_ffff_fe00;
const L2_OFFSET_MASK: u64 = 0x00ff_ffff_ffff_fe00;
const L2_COMPRESSED: u64 = 1 << 62;
const L2_ZERO: u64 = 1;
/// Incompatible feature bits (v3).
const INCOMPAT_DIRTY: u64 = 1 << 0;
const INCOMPAT_CORRUPT: u64 = 1 << 1;
const INCOMPAT_EXTERNAL_DATA: u64 = 1 << 2;
const INCOMPAT_COMPRESSION_TYPE: u64 = 1 << 3;
const INCOMPAT_EXTENDED_L2: u64 = 1 << 4;
/// Longest backing-file name qemu writes.
const MAX_BACKING_NAME: u32 = 1023;

pub(crate) fn open(path: &Path, raw: RawDisk, chain: &mut Chain) -> Result<Opened, ImageError> {
    let raw = Arc::new(raw);
    let bytes = raw.bytes();
    let len = bytes.len() as u64;
    if bytes.len() < 72 {
        return Err(ImageError::format(path, "qcow2 header is truncated"));
    }
    let version = be32(bytes, 4);
    if !(2..=3).contains(&version) {
        return Err(ImageError::unsupported(
            path,
            format!("qcow version {version} (only qcow2 v2 and v3 are read)"),
        ));
    }
    let backing_offset = be64(bytes, 8);
    let backing_len = be32(bytes, 16);
    let cluster_bits = be32(bytes, 20);
    let size = be64(bytes, 24);
    let crypt = be32(bytes, 32);
    let l1_size = be32(bytes, 36);
    let l1_offset = be64(bytes, 40);
    let snapshots = be32(bytes, 60);

    let mut info = ContainerInfo::single(path);
    info.push("qcow2.version", version.to_string());

    if !(9..=21).contains(&cluster_bits) {
        return Err(ImageError::corrupt(
            path,
            20,
            format!("qcow2 cluster_bits {cluster_bits} is out of range (9..=21)"),
        ));
    }
    if crypt != 0 {
        return Err(ImageError::unsupported(
            path,
            format!("encrypted qcow2 (method {crypt})"),
        ));
    }
    if version == 3 {
        if bytes.len() < 104 {
            return Err(ImageError::format(path, "qcow2 v3 header is truncated"));
        }
        let incompat = be64(bytes, 72);
        let header_len = be32(bytes, 100);
        if incompat & INCOMPAT_EXTERNAL_DATA != 0 {
            return Err(ImageError::unsupported(
                path,
                "qcow2 with an external data file",
            ));
        }
        if incompat & INCOMPAT_EXTENDED_L2 != 0 {
            return Err(ImageError::unsupported(
                path,
                "qcow2 with extended L2 entries (subclusters)",
            ));
        }
        if incompat & INCOMPAT_COMPRESSION_TYPE != 0 {
            let ctype = if header_len > 104 {
                bytes.get(104).copied()
            } else {
                None
            };
            if ctype != Some(0) {
                return Err(ImageError::unsupported(
                    path,
                    "qcow2 compressed with a method other than deflate (zstd)",
                ));
            }
        }
        let known = INCOMPAT_DIRTY
            | INCOMPAT_CORRUPT
            | INCOMPAT_EXTERNAL_DATA
            | INCOMPAT_COMPRESSION_TYPE
            | INCOMPAT_EXTENDED_L2;
        if incompat & !known != 0 {
            return Err(ImageError::unsupported(
                path,
                format!("qcow2 incompatible feature bits {:#x}", incompat & !known),
            ));
        }
        if incompat & INCOMPAT_DIRTY != 0 {
            info.push(
                "qcow2.warning.dirty",
                "image was not closed cleanly (refcounts may be stale; data is read as stored)",
            );
        }
        if incompat & INCOMPAT_CORRUPT != 0 {
            info.push("qcow2.warning.corrupt", "qemu marked this image corrupt");
        }
    }
    if snapshots != 0 {
        info.push(
            "qcow2.internal_snapshots",
            format!("{snapshots} (only the active state is read)"),
        );
    }

    let cluster_size = 1u64 << cluster_bits;
    let l2_entries = cluster_size / 8;
    let needed_l1 = size.div_ceil(cluster_size).div_ceil(l2_entries);
    if u64::from(l1_size) < needed_l1 {
        return Err(ImageError::corrupt(
            path,
            36,
            format!(
                "qcow2 L1 table has {l1_size} entries but a {size}-byte disk needs {needed_l1}"
            ),
        ));
    }
    // Only the entries the disk needs; they must lie in the file, which caps
    // the allocation by the file's size.
    let l1_end = needed_l1
        .checked_mul(8)
        .and_then(|n| l1_offset.checked_add(n))
        .filter(|&end| end <= len)
        .ok_or_else(|| {
            ImageError::corrupt(
                path,
                l1_offset,
                "qcow2 L1 table lies past the end of the file (truncated?)",
            )
        })?;
    let l1: Vec<u64> = bytes[l1_offset as usize..l1_end as usize]
        .chunks_exact(8)
        .map(|c| u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .collect();

    // The backing file, if any.
    let mut backing: Option<Box<dyn Disk>> = None;
    if backing_offset != 0 && backing_len != 0 {
        if backing_len > MAX_BACKING_NAME {
            return Err(ImageError::corrupt(
                path,
                16,
                format!("qcow2 backing file name length {backing_len} is too long"),
            ));
        }
        let name = bytes_at(bytes, backing_offset, backing_len as usize)
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .ok_or_else(|| {
                ImageError::corrupt(
                    path,
                    backing_offset,
                    "qcow2 backing file name lies past the end of the file",
                )
            })?;
        info.push("qcow2.backing_file", name.clone());
        let Some(found) = layer::find_sibling(path, std::slice::from_ref(&name)) else {
            return Err(ImageError::missing(
                path,
                format!("qcow2 backing file '{name}' is not next to the image"),
            ));
        };
        let parent = layer::open_layer(&found, chain)?;
        info.absorb("backing", parent.info);
        backing = Some(parent.disk);
    }

    info.push("qcow2.cluster_size", cluster_size.to_string());
    Ok(Opened {
        format: Format::Qcow2,
        info,
        disk: Box::new(Qcow2Disk::new(Core {
            raw,
            size,
            cluster_bits,
            l1,
            backing,
        })),
        ewf: None,
    })
}

/// Where the bytes of one cluster come from.
enum Cluster {
    /// Not allocated here: the backing file, or zeros.
    Absent,
    Zero,
    /// Stored at this host offset.
    Plain(u64),
    /// A raw deflate stream in host bytes `start..end`.
    Compressed {
        start: u64,
        end: u64,
    },
}

/// The image and its cluster map.
struct Core {
    raw: Arc<RawDisk>,
    size: u64,
    cluster_bits: u32,
    l1: Vec<u64>,
    backing: Option<Box<dyn Disk>>,
}

struct Qcow2Disk {
    core: Arc<Core>,
    /// Compressed clusters, inflated once each while they stay cached.
    inflated: BlockCache<Inflated>,
}

/// The disk as compressed clusters read it: what the cache asks, one whole
/// cluster at a time.
struct Inflated(Arc<Core>);

impl Qcow2Disk {
    fn new(core: Core) -> Self {
        let core = Arc::new(core);
        let cluster = core.cluster_size();
        Qcow2Disk {
            inflated: BlockCache::new(Inflated(Arc::clone(&core)), cluster),
            core,
        }
    }
}

impl Core {
    fn cluster_size(&self) -> u64 {
        1 << self.cluster_bits
    }

    fn lookup(&self, at: u64) -> std::io::Result<Cluster> {
        let bytes = self.raw.bytes();
        let len = bytes.len() as u64;
        let cluster = at >> self.cluster_bits;
        let l2_bits = self.cluster_bits - 3;
        let l1_index = (cluster >> l2_bits) as usize;
        let l2_index = cluster & ((1 << l2_bits) - 1);
        let l1e = self.l1.get(l1_index).copied().unwrap_or(0);
        let l2_table = l1e & L1_OFFSET_MASK;
        if l2_table == 0 {
            return Ok(Cluster::Absent);
        }
        let entry_at = l2_table + l2_index * 8;
        if entry_at + 8 > len {
            return Err(super::io_err(
                self.raw.path(),
                entry_at,
                "qcow2 L2 table lies past the end of the file (truncated?)",
            ));
        }
        let l2e = be64(bytes, entry_at as usize);
        if l2e & L2_COMPRESSED != 0 {
            // Check the compressed run lies in the file: a truncated file
            // must not inflate into zero-padded clusters.
            let x = 62 - (self.cluster_bits - 8);
            let host = l2e & ((1u64 << x) - 1);
            let sectors = ((l2e >> x) & ((1u64 << (self.cluster_bits - 8)) - 1)) + 1;
            let end = (host & !511) + sectors * 512;
            if host >= len || end > len + 512 {
                return Err(super::io_err(
                    self.raw.path(),
                    host,
                    "qcow2 compressed cluster lies past the end of the file (truncated?)",
                ));
            }
            // The last sector may be cut short by the end of the file.
            return Ok(Cluster::Compressed {
                start: host,
                end: end.min(len),
            });
        }
        if l2e & L2_ZERO != 0 {
            return Ok(Cluster::Zero);
        }
        let host = l2e & L2_OFFSET_MASK;
        if host == 0 {
            return Ok(Cluster::Absent);
        }
        if host & (self.cluster_size() - 1) != 0 {
            return Err(super::io_err(
                self.raw.path(),
                entry_at,
                format!("qcow2 L2 entry points at unaligned host offset {host}"),
            ));
        }
        Ok(Cluster::Plain(host))
    }

    fn fill_absent(&self, at: u64, dst: &mut [u8]) -> std::io::Result<()> {
        match &self.backing {
            Some(b) => {
                // Past the end of a smaller backing file reads as zeros (qemu).
                let have = b.size().saturating_sub(at).min(dst.len() as u64) as usize;
                if have > 0 {
                    b.read_exact_at(at, &mut dst[..have])?;
                }
                dst[have..].fill(0);
                Ok(())
            }
            None => {
                dst.fill(0);
                Ok(())
            }
        }
    }
}

impl Core {
    /// Inflates the compressed cluster holding guest offset `at`: at most one
    /// cluster of output; a stream that ends early leaves zeros (as qemu's
    /// reader), one that is cut off or corrupt is an error.
    fn inflate(&self, at: u64, start: u64, end: u64) -> std::io::Result<Vec<u8>> {
        use flate2::{Decompress, FlushDecompress, Status};
        let input = bytes_at(self.raw.bytes(), start, (end - start) as usize).unwrap_or(&[]);
        let mut out = vec![0u8; self.cluster_size() as usize];
        let mut z = Decompress::new(false);
        let status = z.decompress(input, &mut out, FlushDecompress::Finish);
        let whole = z.total_out() == out.len() as u64;
        match status {
            Ok(Status::StreamEnd) => Ok(out),
            Ok(_) if whole => Ok(out),
            Ok(_) => Err(super::io_err(
                self.raw.path(),
                start,
                format!("qcow2 compressed cluster of guest offset {at} ends before its deflate stream does"),
            )),
            Err(e) => Err(super::io_err(
                self.raw.path(),
                start,
                format!("qcow2 compressed cluster of guest offset {at} does not inflate: {e}"),
            )),
        }
    }

    /// Reads guest bytes; `inflated` serves compressed clusters.
    fn read(
        &self,
        offset: u64,
        buf: &mut [u8],
        inflated: Option<&dyn Disk>,
    ) -> std::io::Result<()> {
        check_range(self.raw.path(), offset, buf.len(), self.size)?;
        let bytes = self.raw.bytes();
        let cs = self.cluster_size();
        let mut done = 0usize;
        while done < buf.len() {
            let at = offset + done as u64;
            let within = at & (cs - 1);
            let n = ((cs - within) as usize).min(buf.len() - done);
            let dst = &mut buf[done..done + n];
            match self.lookup(at)? {
                Cluster::Absent => self.fill_absent(at, dst)?,
                Cluster::Zero => dst.fill(0),
                Cluster::Plain(host) => {
                    let src = bytes_at(bytes, host + within, n).ok_or_else(|| {
                        super::io_err(
                            self.raw.path(),
                            host,
                            "qcow2 data cluster lies past the end of the file (truncated?)",
                        )
                    })?;
                    dst.copy_from_slice(src);
                }
                Cluster::Compressed { start, end } => match inflated {
                    Some(cache) => cache.read_exact_at(at, dst)?,
                    None => {
                        let cluster = self.inflate(at, start, end)?;
                        dst.copy_from_slice(&cluster[within as usize..within as usize + n]);
                    }
                },
            }
            done += n;
        }
        Ok(())
    }
}

impl Disk for Qcow2Disk {
    fn size(&self) -> u64 {
        self.core.size
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        self.core.read(offset, buf, Some(&self.inflated))
    }
}

impl Disk for Inflated {
    fn size(&self) -> u64 {
        self.0.size
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        self.0.read(offset, buf, None)
    }
}
