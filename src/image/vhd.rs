//! VHD (Virtual PC / Hyper-V gen 1) images, read by our own code: fixed,
//! dynamic and differencing. The format is public (Microsoft "Virtual Hard
//! Disk Image Format Specification", 2006).
//!
//! * Every VHD ends with a 512-byte footer (a dynamic VHD also keeps a copy
//!   at offset 0). All integers are big-endian.
//! * Fixed: the disk is the bytes before the footer (served zero-copy).
//! * Dynamic/differencing: a header points at the block allocation table
//!   (BAT); each allocated block is a sector bitmap followed by the data.
//!   A set bit means "this sector is stored here"; a clear bit means zeros
//!   (dynamic) or "read the parent" (differencing).
//! * The parent of a differencing disk is found by the names in its parent
//!   locators and its parent-name field, looked up next to the child only.

use std::path::Path;

use super::layer::{self, Chain, Opened};
use super::{
    be32, be64, bytes_at, check_range, hex, ContainerInfo, Disk, Format, ImageError, RawDisk,
};

const FOOTER_LEN: usize = 512;
const DYN_HEADER_LEN: usize = 1024;
const SECTOR: u64 = 512;
const UNALLOCATED: u32 = u32::MAX;
/// Largest block size we accept (Windows uses 2 MiB, Virtual PC 512 KiB).
const MAX_BLOCK_SIZE: u32 = 256 << 20;
/// Largest parent locator we read.
const MAX_LOCATOR_LEN: u64 = 64 << 10;

const TYPE_FIXED: u32 = 2;
const TYPE_DYNAMIC: u32 = 3;
const TYPE_DIFFERENCING: u32 = 4;

/// The VHD checksum: one's complement of the byte sum, with the checksum
/// field itself (at `skip`) counted as zero.
fn checksum(b: &[u8], skip: usize) -> u32 {
    let sum = b
        .iter()
        .enumerate()
        .filter(|(i, _)| !(skip..skip + 4).contains(i))
        .fold(0u32, |acc, (_, &x)| acc.wrapping_add(u32::from(x)));
    !sum
}

/// The hard disk footer.
#[derive(Debug, Clone)]
struct Footer {
    data_offset: u64,
    creator_app: [u8; 4],
    current_size: u64,
    disk_type: u32,
    unique_id: [u8; 16],
}

fn parse_footer(b: &[u8]) -> Option<Footer> {
    if b.len() < FOOTER_LEN || &b[..8] != b"conectix" {
        return None;
    }
    let b = &b[..FOOTER_LEN];
    if checksum(b, 64) != be32(b, 64) {
        return None;
    }
    let mut creator_app = [0u8; 4];
    creator_app.copy_from_slice(&b[28..32]);
    let mut unique_id = [0u8; 16];
    unique_id.copy_from_slice(&b[68..84]);
    Some(Footer {
        data_offset: be64(b, 16),
        creator_app,
        current_size: be64(b, 48),
        disk_type: be32(b, 60),
        unique_id,
    })
}

/// The footer at the end of the file, when there is one (also the 511-byte
/// footer some old Virtual PC versions wrote).
pub(crate) fn footer_at_end(bytes: &[u8]) -> Option<&[u8]> {
    for len in [FOOTER_LEN, FOOTER_LEN - 1] {
        if let Some(start) = bytes.len().checked_sub(len) {
            let tail = &bytes[start..];
            if tail.starts_with(b"conectix") {
                return Some(tail);
            }
        }
    }
    None
}

pub(crate) fn open(path: &Path, raw: RawDisk, chain: &mut Chain) -> Result<Opened, ImageError> {
    let bytes = raw.bytes();
    let len = bytes.len() as u64;
    let mut info = ContainerInfo::single(path);

    // The footer at the end is authoritative; a dynamic disk's copy at offset
    // 0 stands in when the end is damaged or cut off.
    let end_footer = footer_at_end(bytes).and_then(|t| {
        // A 511-byte footer: pad to 512 for parsing.
        let mut b = [0u8; FOOTER_LEN];
        b[..t.len()].copy_from_slice(t);
        parse_footer(&b)
    });
    let footer = match end_footer {
        Some(f) => f,
        None => match parse_footer(bytes) {
            Some(f) if f.disk_type != TYPE_FIXED => {
                info.push(
                    "vhd.warning",
                    "footer at the end is missing or damaged (file truncated?); using the copy at offset 0",
                );
                f
            }
            _ => {
                return Err(ImageError::corrupt(
                    path,
                    len.saturating_sub(FOOTER_LEN as u64),
                    "VHD footer is missing or its checksum is wrong",
                ))
            }
        },
    };

    let creator = String::from_utf8_lossy(&footer.creator_app)
        .trim_end_matches(['\0', ' '])
        .to_string();
    info.push("vhd.creator", creator);
    info.push("vhd.unique_id", hex(&footer.unique_id));

    match footer.disk_type {
        TYPE_FIXED => {
            info.push("vhd.type", "fixed");
            let data_len = len.saturating_sub(FOOTER_LEN as u64);
            if footer.current_size > data_len {
                return Err(ImageError::format(
                    path,
                    format!(
                        "fixed VHD claims {} bytes but the file holds only {data_len} before its footer (truncated?)",
                        footer.current_size
                    ),
                ));
            }
            Ok(Opened {
                format: Format::Vhd,
                info,
                disk: Box::new(FixedVhd {
                    raw,
                    size: footer.current_size,
                }),
                ewf: None,
            })
        }
        TYPE_DYNAMIC | TYPE_DIFFERENCING => open_sparse(path, raw, footer, info, chain),
        other => Err(ImageError::unsupported(
            path,
            format!("VHD disk type {other} (expected 2 fixed, 3 dynamic or 4 differencing)"),
        )),
    }
}

/// A fixed VHD: the data is the file minus the footer.
struct FixedVhd {
    raw: RawDisk,
    size: u64,
}

impl FixedVhd {
    fn data(&self) -> &[u8] {
        // `size <= file length - 512` was checked at open.
        &self.raw.bytes()[..self.size as usize]
    }
}

impl Disk for FixedVhd {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        check_range(self.raw.path(), offset, buf.len(), self.size)?;
        let start = offset as usize;
        buf.copy_from_slice(&self.data()[start..start + buf.len()]);
        Ok(())
    }

    fn as_bytes(&self) -> Option<&[u8]> {
        Some(self.data())
    }
}

/// The dynamic disk header fields we use.
struct DynHeader {
    table_offset: u64,
    max_entries: u32,
    block_size: u32,
    parent_unique_id: [u8; 16],
    parent_name: String,
    locators: Vec<(u32, u64, u64)>,
}

fn parse_dyn_header(path: &Path, bytes: &[u8], at: u64) -> Result<DynHeader, ImageError> {
    let h = bytes_at(bytes, at, DYN_HEADER_LEN).ok_or_else(|| {
        ImageError::corrupt(path, at, "VHD dynamic header lies past the end of the file")
    })?;
    if &h[..8] != b"cxsparse" {
        return Err(ImageError::corrupt(
            path,
            at,
            "VHD dynamic header has no 'cxsparse' cookie",
        ));
    }
    if checksum(h, 36) != be32(h, 36) {
        return Err(ImageError::corrupt(
            path,
            at,
            "VHD dynamic header checksum is wrong",
        ));
    }
    let mut parent_unique_id = [0u8; 16];
    parent_unique_id.copy_from_slice(&h[40..56]);
    let name_units: Vec<u16> = h[64..576]
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .take_while(|&u| u != 0)
        .collect();
    let parent_name = String::from_utf16_lossy(&name_units);
    let locators = (0..8)
        .map(|i| {
            let e = &h[576 + i * 24..576 + (i + 1) * 24];
            (be32(e, 0), u64::from(be32(e, 8)), be64(e, 16))
        })
        .filter(|&(code, len, _)| code != 0 && len != 0)
        .collect();
    Ok(DynHeader {
        table_offset: be64(h, 16),
        max_entries: be32(h, 28),
        block_size: be32(h, 32),
        parent_unique_id,
        parent_name,
        locators,
    })
}

/// The parent names stored in the locators, best first.
fn locator_names(bytes: &[u8], hdr: &DynHeader) -> Vec<String> {
    let mut ranked: Vec<(u8, String)> = Vec::new();
    for &(code, len, offset) in &hdr.locators {
        // `len` is capped by MAX_LOCATOR_LEN, so it fits a usize.
        let Some(data) = bytes_at(bytes, offset, len.min(MAX_LOCATOR_LEN) as usize) else {
            continue;
        };
        let utf16le = || {
            let units: Vec<u16> = data
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .take_while(|&u| u != 0)
                .collect();
            String::from_utf16_lossy(&units)
        };
        let text = || {
            String::from_utf8_lossy(data)
                .trim_end_matches('\0')
                .to_string()
        };
        match &code.to_be_bytes() {
            b"W2ru" => ranked.push((0, utf16le())),
            b"W2ku" => ranked.push((1, utf16le())),
            b"Wi2r" => ranked.push((3, text())),
            b"Wi2k" => ranked.push((4, text())),
            b"MacX" => {
                let t = text();
                ranked.push((5, t.trim_start_matches("file://").to_string()));
            }
            _ => {}
        }
    }
    if !hdr.parent_name.is_empty() {
        ranked.push((2, hdr.parent_name.clone()));
    }
    ranked.sort_by_key(|(rank, _)| *rank);
    let mut names: Vec<String> = Vec::new();
    for (_, n) in ranked {
        if !n.is_empty() && !names.contains(&n) {
            names.push(n);
        }
    }
    names
}

fn open_sparse(
    path: &Path,
    raw: RawDisk,
    footer: Footer,
    mut info: ContainerInfo,
    chain: &mut Chain,
) -> Result<Opened, ImageError> {
    let bytes = raw.bytes();
    let len = bytes.len() as u64;
    let hdr = parse_dyn_header(path, bytes, footer.data_offset)?;

    let block_size = hdr.block_size;
    if block_size == 0 || block_size % 512 != 0 || block_size > MAX_BLOCK_SIZE {
        return Err(ImageError::corrupt(
            path,
            footer.data_offset + 32,
            format!("VHD block size {block_size} is not plausible"),
        ));
    }
    let block_size = u64::from(block_size);
    let size = footer.current_size;
    let needed = size.div_ceil(block_size);
    if u64::from(hdr.max_entries) < needed {
        return Err(ImageError::corrupt(
            path,
            footer.data_offset + 28,
            format!(
                "VHD block table has {} entries but a {size}-byte disk needs {needed}",
                hdr.max_entries
            ),
        ));
    }
    // `needed` entries of 4 bytes must fit in the file: this caps the
    // allocation by what the file can hold.
    let bat_bytes = needed
        .checked_mul(4)
        .and_then(|n| hdr.table_offset.checked_add(n).map(|end| (n, end)))
        .filter(|&(_, end)| end <= len)
        .map(|(n, _)| n)
        .ok_or_else(|| {
            ImageError::corrupt(
                path,
                hdr.table_offset,
                format!(
                    "VHD block table ({needed} entries) lies past the end of the file (truncated?)"
                ),
            )
        })?;
    let start = hdr.table_offset as usize;
    let bat: Vec<u32> = bytes[start..start + bat_bytes as usize]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect();

    let sectors_per_block = block_size / SECTOR;
    let bitmap_len = sectors_per_block.div_ceil(8).div_ceil(SECTOR) * SECTOR;
    for (i, &entry) in bat.iter().enumerate() {
        if entry == UNALLOCATED {
            continue;
        }
        let at = u64::from(entry) * SECTOR;
        if at + bitmap_len + block_size > len {
            return Err(ImageError::corrupt(
                path,
                at,
                format!("VHD block {i} lies past the end of the file (truncated?)"),
            ));
        }
    }

    let parent = if footer.disk_type == TYPE_DIFFERENCING {
        info.push("vhd.type", "differencing");
        let names = locator_names(bytes, &hdr);
        let Some(parent_path) = layer::find_sibling(path, &names) else {
            return Err(ImageError::missing(
                path,
                format!(
                    "differencing VHD: its parent disk is not next to it (looked for {})",
                    if names.is_empty() {
                        "no name: the parent locators are empty".to_string()
                    } else {
                        names.join(", ")
                    }
                ),
            ));
        };
        let parent = layer::open_layer(&parent_path, chain)?;
        if parent.format == Format::Vhd {
            if let Some(id) = parent.info.get("vhd.unique_id") {
                let want = hex(&hdr.parent_unique_id);
                if id != want {
                    return Err(ImageError::format(
                        path,
                        format!(
                            "differencing VHD: parent {} has unique id {id} but this disk expects {want} \
                             (wrong or re-created parent)",
                            parent_path.display()
                        ),
                    ));
                }
            }
        }
        if parent.disk.size() < size {
            return Err(ImageError::format(
                path,
                format!(
                    "differencing VHD: parent {} is {} bytes, smaller than this disk ({size} bytes)",
                    parent_path.display(),
                    parent.disk.size()
                ),
            ));
        }
        info.absorb("parent", parent.info);
        Some(parent.disk)
    } else {
        info.push("vhd.type", "dynamic");
        None
    };
    info.push("vhd.block_size", block_size.to_string());

    Ok(Opened {
        format: Format::Vhd,
        info,
        disk: Box::new(SparseVhd {
            raw,
            size,
            block_size,
            bitmap_len,
            bat,
            parent,
        }),
        ewf: None,
    })
}

/// A dynamic or differencing VHD.
struct SparseVhd {
    raw: RawDisk,
    size: u64,
    block_size: u64,
    bitmap_len: u64,
    bat: Vec<u32>,
    parent: Option<Box<dyn Disk>>,
}

impl SparseVhd {
    /// Bytes not stored in this file: the parent's, or zeros.
    fn fill_absent(&self, at: u64, dst: &mut [u8]) -> std::io::Result<()> {
        match &self.parent {
            Some(p) => p.read_exact_at(at, dst),
            None => {
                dst.fill(0);
                Ok(())
            }
        }
    }

    /// Reads `dst.len()` bytes at `within` of an allocated block at file
    /// offset `block_at`, following the sector bitmap.
    fn read_block(
        &self,
        at: u64,
        block_at: u64,
        within: u64,
        dst: &mut [u8],
    ) -> std::io::Result<()> {
        let bytes = self.raw.bytes();
        // Bounds of bitmap and data were checked at open.
        let bitmap = &bytes[block_at as usize..(block_at + self.bitmap_len) as usize];
        let data_at = block_at + self.bitmap_len;
        let bit = |sector: u64| bitmap[(sector / 8) as usize] & (0x80 >> (sector % 8)) != 0;
        let mut done = 0u64;
        let total = dst.len() as u64;
        while done < total {
            let pos = within + done;
            let sector = pos / SECTOR;
            let present = bit(sector);
            // Extend the run while the following sectors share the state.
            let mut end_sector = sector + 1;
            let last_sector = (within + total - 1) / SECTOR;
            while end_sector <= last_sector {
                if end_sector % 8 == 0 && end_sector + 8 <= last_sector + 1 {
                    let byte = bitmap[(end_sector / 8) as usize];
                    if byte == if present { 0xFF } else { 0x00 } {
                        end_sector += 8;
                        continue;
                    }
                }
                if bit(end_sector) != present {
                    break;
                }
                end_sector += 1;
            }
            let run_end = (end_sector * SECTOR).min(within + total);
            let n = run_end - pos;
            let d = &mut dst[done as usize..(done + n) as usize];
            if present {
                let s = (data_at + pos) as usize;
                d.copy_from_slice(&bytes[s..s + d.len()]);
            } else {
                self.fill_absent(at + done, d)?;
            }
            done += n;
        }
        Ok(())
    }
}

impl Disk for SparseVhd {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        check_range(self.raw.path(), offset, buf.len(), self.size)?;
        let mut done = 0usize;
        while done < buf.len() {
            let at = offset + done as u64;
            let block = at / self.block_size;
            let within = at % self.block_size;
            let n = ((self.block_size - within) as usize).min(buf.len() - done);
            let dst = &mut buf[done..done + n];
            match self.bat.get(block as usize).copied() {
                Some(UNALLOCATED) => self.fill_absent(at, dst)?,
                Some(entry) => {
                    self.read_block(at, u64::from(entry) * SECTOR, within, dst)?;
                }
                None => {
                    return Err(super::io_err(
                        self.raw.path(),
                        at,
                        format!("VHD block {block} is beyond the block table"),
                    ))
                }
            }
            done += n;
        }
        Ok(())
    }
}

/// Builds small VHD files for tests (ours and the integration tests').
#[cfg(test)]
pub(crate) mod build {
    use super::*;

    pub fn footer(size: u64, disk_type: u32, data_offset: u64, id: [u8; 16]) -> Vec<u8> {
        let mut f = vec![0u8; FOOTER_LEN];
        f[..8].copy_from_slice(b"conectix");
        f[8..12].copy_from_slice(&2u32.to_be_bytes());
        f[12..16].copy_from_slice(&0x0001_0000u32.to_be_bytes());
        f[16..24].copy_from_slice(&data_offset.to_be_bytes());
        f[28..32].copy_from_slice(b"test");
        f[40..48].copy_from_slice(&size.to_be_bytes());
        f[48..56].copy_from_slice(&size.to_be_bytes());
        f[60..64].copy_from_slice(&disk_type.to_be_bytes());
        f[68..84].copy_from_slice(&id);
        let c = checksum(&f, 64);
        f[64..68].copy_from_slice(&c.to_be_bytes());
        f
    }

    /// A dynamic (`parent == None`) or differencing VHD of `size` bytes with
    /// 4 KiB blocks; `sectors` are (sector number, fill byte) stored in it.
    pub fn sparse(
        size: u64,
        id: [u8; 16],
        parent: Option<(&str, [u8; 16])>,
        sectors: &[(u64, u8)],
    ) -> Vec<u8> {
        let block: u64 = 4096;
        let blocks = size.div_ceil(block);
        let mut out = Vec::new();
        let disk_type = if parent.is_some() {
            TYPE_DIFFERENCING
        } else {
            TYPE_DYNAMIC
        };
        out.extend(footer(size, disk_type, 512, id));
        // Dynamic header at 512, BAT at 1536, locator data after the BAT.
        let bat_at = 1536u64;
        let bat_len = (blocks * 4).div_ceil(512) * 512;
        let loc_at = bat_at + bat_len;
        let mut h = vec![0u8; DYN_HEADER_LEN];
        h[..8].copy_from_slice(b"cxsparse");
        h[8..16].copy_from_slice(&u64::MAX.to_be_bytes());
        h[16..24].copy_from_slice(&bat_at.to_be_bytes());
        h[24..28].copy_from_slice(&0x0001_0000u32.to_be_bytes());
        h[28..32].copy_from_slice(&(blocks as u32).to_be_bytes());
        h[32..36].copy_from_slice(&(block as u32).to_be_bytes());
        let mut loc_data = Vec::new();
        if let Some((name, pid)) = parent {
            h[40..56].copy_from_slice(&pid);
            for (i, u) in name.encode_utf16().enumerate() {
                h[64 + 2 * i..66 + 2 * i].copy_from_slice(&u.to_be_bytes());
            }
            let rel: Vec<u8> = format!(".\\{name}")
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect();
            h[576..580].copy_from_slice(b"W2ru");
            h[580..584].copy_from_slice(&512u32.to_be_bytes());
            h[584..588].copy_from_slice(&(rel.len() as u32).to_be_bytes());
            h[592..600].copy_from_slice(&loc_at.to_be_bytes());
            loc_data = rel;
            loc_data.resize(512, 0);
        }
        let c = checksum(&h, 36);
        h[36..40].copy_from_slice(&c.to_be_bytes());
        out.extend(h);
        let mut bat = vec![0xFFu8; bat_len as usize];
        let mut blocks_data: Vec<u8> = Vec::new();
        let data_start = loc_at + loc_data.len() as u64;
        let spb = block / 512;
        let mut placed: Vec<(u64, u64)> = Vec::new();
        for &(sector, fill) in sectors {
            let b = sector / spb;
            let at = match placed.iter().find(|(bb, _)| *bb == b) {
                Some(&(_, at)) => at,
                None => {
                    let at = data_start + blocks_data.len() as u64;
                    blocks_data.extend(vec![0u8; 512 + block as usize]);
                    bat[(b * 4) as usize..(b * 4 + 4) as usize]
                        .copy_from_slice(&((at / 512) as u32).to_be_bytes());
                    placed.push((b, at));
                    at
                }
            };
            let rel = (at - data_start) as usize;
            let s = sector % spb;
            blocks_data[rel + (s / 8) as usize] |= 0x80 >> (s % 8);
            let d = rel + 512 + (s * 512) as usize;
            blocks_data[d..d + 512].fill(fill);
        }
        out.extend(bat);
        out.extend(loc_data);
        out.extend(blocks_data);
        out.extend(footer(size, disk_type, 512, id));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(p: &Path) -> Result<crate::image::Image, ImageError> {
        crate::image::open(p)
    }

    fn read_all(img: &crate::image::Image) -> Vec<u8> {
        let mut v = vec![0u8; img.disk.size() as usize];
        img.disk.read_exact_at(0, &mut v).unwrap();
        v
    }

    #[test]
    fn fixed_vhd_is_zero_copy() {
        let dir = tempfile::tempdir().unwrap();
        let mut data: Vec<u8> = (0..8192u32).map(|i| i as u8).collect();
        data.extend(build::footer(8192, TYPE_FIXED, u64::MAX, [1; 16]));
        let p = dir.path().join("f.vhd");
        std::fs::write(&p, &data).unwrap();
        let img = open(&p).unwrap();
        assert_eq!(img.format, Format::Vhd);
        assert_eq!(img.disk.size(), 8192);
        assert_eq!(img.disk.as_bytes().unwrap(), &data[..8192]);
    }

    #[test]
    fn dynamic_and_differencing() {
        let dir = tempfile::tempdir().unwrap();
        let size = 64 * 1024 + 1024; // not a multiple of the block size
        let pid = [7u8; 16];
        let parent = build::sparse(
            size,
            pid,
            None,
            &[(0, 0xAA), (1, 0xAB), (9, 0xA9), (129, 0xB1)],
        );
        std::fs::write(dir.path().join("base.vhd"), &parent).unwrap();
        let child = build::sparse(
            size,
            [8; 16],
            Some(("base.vhd", pid)),
            &[(1, 0xC1), (10, 0xCA)],
        );
        let cp = dir.path().join("child.vhd");
        std::fs::write(&cp, &child).unwrap();

        let base = read_all(&open(&dir.path().join("base.vhd")).unwrap());
        let sector = |v: &[u8], s: usize| v[s * 512..s * 512 + 512].to_vec();
        assert_eq!(sector(&base, 0), vec![0xAA; 512]);
        assert_eq!(sector(&base, 2), vec![0; 512]);
        assert_eq!(sector(&base, 129), vec![0xB1; 512]);

        let img = open(&cp).unwrap();
        assert_eq!(img.info.files.len(), 2);
        let all = read_all(&img);
        assert_eq!(all.len() as u64, size);
        assert_eq!(sector(&all, 0), vec![0xAA; 512]);
        assert_eq!(sector(&all, 1), vec![0xC1; 512]);
        assert_eq!(sector(&all, 9), vec![0xA9; 512]);
        assert_eq!(sector(&all, 10), vec![0xCA; 512]);
        assert_eq!(sector(&all, 129), vec![0xB1; 512]);
        assert_eq!(sector(&all, 11), vec![0; 512]);
        // Unaligned reads across runs and blocks agree with the whole read.
        let mut b = vec![0u8; 5000];
        img.disk.read_exact_at(300, &mut b).unwrap();
        assert_eq!(b, all[300..5300]);
    }

    #[test]
    fn missing_parent_and_loops_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let child = build::sparse(8192, [8; 16], Some(("gone.vhd", [7; 16])), &[(1, 1)]);
        let cp = dir.path().join("child.vhd");
        std::fs::write(&cp, &child).unwrap();
        let msg = open(&cp).unwrap_err().to_string();
        assert!(
            msg.contains("child.vhd") && msg.contains("gone.vhd"),
            "{msg}"
        );

        // a.vhd's parent is b.vhd, whose parent is a.vhd.
        let a = build::sparse(8192, [1; 16], Some(("b.vhd", [2; 16])), &[]);
        let b = build::sparse(8192, [2; 16], Some(("a.vhd", [1; 16])), &[]);
        std::fs::write(dir.path().join("a.vhd"), a).unwrap();
        std::fs::write(dir.path().join("b.vhd"), b).unwrap();
        let msg = open(&dir.path().join("a.vhd")).unwrap_err().to_string();
        assert!(msg.contains("loops"), "{msg}");

        // A self-parent.
        let s = build::sparse(8192, [3; 16], Some(("s.vhd", [3; 16])), &[]);
        std::fs::write(dir.path().join("s.vhd"), s).unwrap();
        assert!(open(&dir.path().join("s.vhd")).is_err());
    }

    #[test]
    fn wrong_parent_id_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("p.vhd"),
            build::sparse(8192, [1; 16], None, &[]),
        )
        .unwrap();
        let c = build::sparse(8192, [2; 16], Some(("p.vhd", [9; 16])), &[]);
        std::fs::write(dir.path().join("c.vhd"), c).unwrap();
        let msg = open(&dir.path().join("c.vhd")).unwrap_err().to_string();
        assert!(msg.contains("unique id"), "{msg}");
    }

    #[test]
    fn truncated_and_corrupt_headers() {
        let dir = tempfile::tempdir().unwrap();
        let full = build::sparse(64 * 1024, [1; 16], None, &[(0, 1), (100, 2)]);
        let p = dir.path().join("t.vhd");
        // Cut inside the data: the copy of the footer at 0 is used, and the
        // block past the end is reported.
        std::fs::write(&p, &full[..full.len() - 2000]).unwrap();
        let msg = open(&p).unwrap_err().to_string();
        assert!(
            msg.contains("t.vhd") && msg.contains("past the end"),
            "{msg}"
        );
        // Absurd block size.
        let mut bad = full.clone();
        bad[512 + 32..512 + 36].copy_from_slice(&0x7FFF_FE00u32.to_be_bytes());
        let c = checksum(&bad[512..1536], 36);
        bad[512 + 36..512 + 40].copy_from_slice(&c.to_be_bytes());
        std::fs::write(&p, &bad).unwrap();
        assert!(open(&p).is_err());
        // Absurd table size: more entries than the file can hold.
        let mut bad = full.clone();
        let n = bad.len();
        bad[n - 512 + 48..n - 512 + 56].copy_from_slice(&(1u64 << 50).to_be_bytes());
        let c = checksum(&bad[n - 512..], 64);
        bad[n - 512 + 64..n - 512 + 68].copy_from_slice(&c.to_be_bytes());
        std::fs::write(&p, &bad).unwrap();
        assert!(open(&p).is_err());
        // Every prefix: never a panic.
        for cut in (0..full.len()).step_by(97) {
            std::fs::write(&p, &full[..cut]).unwrap();
            let _ = open(&p).map(|img| {
                let mut b = vec![0u8; img.disk.size().min(1 << 16) as usize];
                let _ = img.disk.read_exact_at(0, &mut b);
            });
        }
    }
}
