//! Files a responder may hand us that are not disk images at all: archives,
//! compressed images, hives, executables, other filesystems, memory dumps,
//! other virtual-disk formats. Recognised from the first [`HEAD`] bytes so
//! that the user hears "this is a gzip file: decompress it first" instead of
//! "no NTFS volume found".
//!
//! Only positive, specific magics count, and anything that already looks
//! like a disk (a boot sector, an MBR signature, a GPT header) is left alone:
//! a bare NTFS/FAT volume or a disk with a table we do not know must still
//! open as a raw image.

/// How many bytes of the file the recognisers look at (ISO 9660 puts its
/// volume descriptor at 32 KiB).
pub(crate) const HEAD: usize = 64 << 10;

/// What a file was recognised as, and what to do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Foreign {
    /// "a gzip file", "a Windows registry hive", …
    pub what: &'static str,
    /// What the user should do: "decompress it first", …
    pub advice: &'static str,
}

const fn f(what: &'static str, advice: &'static str) -> Foreign {
    Foreign { what, advice }
}

const DECOMPRESS: &str = "decompress it first and give the disk image inside";
const EXTRACT: &str = "extract the disk image from it first";

/// Recognises a file that is not a disk image from its first bytes (at most
/// [`HEAD`] of them); `None` when it may well be one.
pub(crate) fn foreign(head: &[u8]) -> Option<Foreign> {
    // An empty file is an empty disk (the volume layer says it is too
    // small), not a foreign file.
    if head.is_empty() || looks_like_a_disk(head) {
        return None;
    }
    let at = |off: usize, magic: &[u8]| head.get(off..off + magic.len()) == Some(magic);
    let magics: &[(usize, &[u8], Foreign)] = &[
        (0, b"\x1f\x8b", f("a gzip file", DECOMPRESS)),
        (0, b"\xfd7zXZ\x00", f("an xz file", DECOMPRESS)),
        (0, b"\x28\xb5\x2f\xfd", f("a zstd file", DECOMPRESS)),
        (0, b"7z\xbc\xaf\x27\x1c", f("a 7-Zip archive", EXTRACT)),
        (0, b"Rar!\x1a\x07", f("a RAR archive", EXTRACT)),
        (0, b"regf", f("a Windows registry hive, not a disk image", "give the disk image the hive came from")),
        (0, b"AFF10\r\n\x00", f("an AFF (Advanced Forensic Format) image", "convert it to raw or E01 first (affconvert, or ewfacquire over affuse)")),
        (0, b"CREG", f("a Windows 9x registry file, not a disk image", "give the disk image it came from")),
        (0, b"FILE0", f("an extracted $MFT or $MFTMirr (NTFS file records), not a disk image", "give the disk image or volume it came from")),
        (0, b"FILE*", f("an extracted $MFT or $MFTMirr (NTFS file records), not a disk image", "give the disk image or volume it came from")),
        (0, b"RSTR", f("an NTFS $LogFile, not a disk image", "give the disk image or volume it came from")),
        (0, b"RCRD", f("a page of an NTFS $LogFile, not a disk image", "give the disk image or volume it came from")),
        (0, b"INDX", f("an NTFS index record, not a disk image", "give the disk image or volume it came from")),
        (0, b"ElfFile\x00", f("a Windows event log (EVTX), not a disk image", "give the disk image it came from")),
        (0, b"SQLite format 3\x00", f("an SQLite database, not a disk image", "give the disk image it came from")),
        (0, b"%PDF-", f("a PDF document, not a disk image", "give the disk image")),
        (0, b"\x7fELF", f("an ELF executable, not a disk image", "give the disk image")),
        (0, b"PAGEDUMP", f("a Windows crash dump (memory, not disk)", "give the disk image")),
        (0, b"PAGEDU64", f("a Windows crash dump (memory, not disk)", "give the disk image")),
        (0, b"hibr", f("a Windows hibernation file (memory, not disk)", "give the disk image")),
        (0, b"HIBR", f("a Windows hibernation file (memory, not disk)", "give the disk image")),
        (0, b"EMiL", f("a LiME memory dump (memory, not disk)", "give the disk image")),
        (0, b"LUKS\xba\xbe", f("a LUKS-encrypted volume", "unlock it first (cryptsetup open --readonly) and give the mapped device")),
        (3, b"-FVE-FS-", f("a BitLocker-encrypted volume", "decrypt it first (e.g. bdemount or dislocker with the recovery key) and give the decrypted volume")),
        (0, b"XFSB", f("an XFS filesystem, not a Windows volume", "give the Windows disk image")),
        (32, b"NXSB", f("an APFS container, not a Windows volume", "give the Windows disk image")),
        (64, b"\x7f\x10\xda\xbe", f("a VirtualBox VDI disk, which is not supported", "convert it to raw first (qemu-img convert -O raw, or VBoxManage clonemedium --format RAW)")),
        (0, b"WithoutFreeSpace", f("a Parallels disk, which is not supported", "convert it to raw first (qemu-img convert -O raw)")),
        (0, b"WithouFreSpacExt", f("a Parallels disk, which is not supported", "convert it to raw first (qemu-img convert -O raw)")),
        (257, b"ustar", f("a tar archive", EXTRACT)),
        (65600, b"_BHRfS_M", f("a Btrfs filesystem, not a Windows volume", "give the Windows disk image")),
        (32769, b"CD001", f("an ISO 9660 (CD/DVD) image, not a Windows disk", "give the Windows disk image")),
    ];
    for (off, magic, what) in magics {
        if at(*off, magic) {
            return Some(*what);
        }
    }
    // bzip2: "BZh", a block size digit, then a block or end-of-stream magic.
    if at(0, b"BZh")
        && head.get(3).is_some_and(|b| (b'1'..=b'9').contains(b))
        && (at(4, b"\x31\x41\x59\x26\x53\x59") || at(4, b"\x17\x72\x45\x38\x50\x90"))
    {
        return Some(f("a bzip2 file", DECOMPRESS));
    }
    // zip: a local file header or an empty archive's end record. AFF4
    // images are zip files that name their container description.
    if at(0, b"PK\x03\x04") || at(0, b"PK\x05\x06") {
        let text = String::from_utf8_lossy(&head[..head.len().min(4096)]);
        if text.contains("container.description") || text.contains("information.turtle") {
            return Some(f(
                "an AFF4 image, which is not supported",
                "convert it to raw or E01 first (aff4imager --export, or mount it)",
            ));
        }
        return Some(f("a zip archive", EXTRACT));
    }
    // A PE file: "MZ" and a PE header where e_lfanew points.
    if at(0, b"MZ") {
        let pe = head
            .get(0x3c..0x40)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
        if pe.is_some_and(|p| at(p, b"PE\x00\x00")) || head.len() < 4096 {
            return Some(f(
                "a Windows executable or DLL (PE file), not a disk image",
                "give the disk image the file came from (verskew reads the files inside it)",
            ));
        }
    }
    // ext2/3/4: superblock at 1024, magic 0xEF53 at offset 56 of it, and
    // a sane block size (log2(size) - 10 ≤ 6).
    if at(1080, b"\x53\xef") && head.get(1048).is_some_and(|&b| b <= 6) {
        return Some(f(
            "an ext2/3/4 filesystem (Linux), not a Windows volume",
            "give the Windows disk image",
        ));
    }
    if at(1024, b"H+\x00\x04") || at(1024, b"HX\x00\x05") {
        return Some(f(
            "an HFS+ filesystem (macOS), not a Windows volume",
            "give the Windows disk image",
        ));
    }
    if is_text(head) {
        return Some(f(
            "a text file, not a disk image",
            "give the image file itself (an acquisition log or hash list names it)",
        ));
    }
    None
}

/// A boot sector, an MBR signature or a GPT header: leave it to the volume
/// layer, whatever else the bytes resemble.
pub(crate) fn looks_like_a_disk(head: &[u8]) -> bool {
    let at = |off: usize, magic: &[u8]| head.get(off..off + magic.len()) == Some(magic);
    at(3, b"NTFS    ")
        || at(3, b"EXFAT   ")
        || at(510, b"\x55\xaa")
        || at(512, b"EFI PART")
        || at(4096, b"EFI PART")
}

/// The first bytes are printable text (UTF-8, no NUL): a log, a hash list,
/// a note. Disk images start with binary structures and runs of zeros.
fn is_text(head: &[u8]) -> bool {
    let sample = &head[..head.len().min(4096)];
    if sample.contains(&0) {
        return false;
    }
    let text = match std::str::from_utf8(sample) {
        Ok(t) => t,
        // A multi-byte character cut at the end of the sample is fine.
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&sample[..e.valid_up_to()]).unwrap_or("")
        }
        Err(_) => return false,
    };
    !text.is_empty()
        && text
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t' | '\x0c'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(off: usize, magic: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; 70_000];
        b[off..off + magic.len()].copy_from_slice(magic);
        b
    }

    fn pe() -> Vec<u8> {
        let mut b = with(0, b"MZ");
        b[0x3c] = 0x80;
        b[0x80..0x84].copy_from_slice(b"PE\0\0");
        b
    }

    #[test]
    fn names_common_non_images() {
        let cases: &[(Vec<u8>, &str)] = &[
            (with(0, b"\x1f\x8b\x08\x00"), "gzip"),
            (with(0, b"\xfd7zXZ\x00"), "xz"),
            (with(0, b"BZh91AY&SY"), "bzip2"),
            (with(0, b"\x28\xb5\x2f\xfd"), "zstd"),
            (with(0, b"PK\x03\x04"), "zip"),
            (with(0, b"7z\xbc\xaf\x27\x1c"), "7-Zip"),
            (with(257, b"ustar\x0000"), "tar"),
            (with(0, b"regf"), "registry hive"),
            (pe(), "PE file"),
            (with(1080, b"\x53\xef"), "ext2/3/4"),
            (with(3, b"-FVE-FS-"), "BitLocker"),
            (with(64, b"\x7f\x10\xda\xbe"), "VDI"),
            (b"MD5 hash: 0123\r\nacquired by ...\n".to_vec(), "text file"),
        ];
        for (bytes, want) in cases {
            let got = foreign(bytes).map(|f| f.what).unwrap_or("none");
            assert!(got.contains(want), "{want}: got {got}");
        }
    }

    #[test]
    fn leaves_disks_alone() {
        // A bare NTFS boot sector, an MBR, zeros, a GPT disk without MBR
        // signature, a PE-looking first sector with an MBR signature.
        let mut ntfs = vec![0u8; 4096];
        ntfs[3..11].copy_from_slice(b"NTFS    ");
        let mut mbr = vec![0u8; 4096];
        mbr[510] = 0x55;
        mbr[511] = 0xaa;
        let mut mz_mbr = mbr.clone();
        mz_mbr[..2].copy_from_slice(b"MZ");
        let gpt = with(512, b"EFI PART");
        for bytes in [ntfs, mbr, mz_mbr, gpt, vec![0u8; 70_000], Vec::new()] {
            assert_eq!(foreign(&bytes), None);
        }
    }

    #[test]
    fn any_prefix_of_any_magic_is_harmless() {
        // Short heads never index out of bounds.
        for len in 0..1100 {
            let b = vec![0x53u8; len];
            let _ = foreign(&b);
            let _ = foreign(&with(0, b"PK\x03\x04")[..len.max(4)]);
        }
    }
}
