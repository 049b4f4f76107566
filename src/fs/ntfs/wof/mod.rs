//! WOF-compressed files (Windows Overlay Filter, "CompactOS"): the file
//! provider's `WofCompressedData` stream decoded into the file's bytes.
//!
//! A WOF-compressed file carries a reparse point with tag `0x80000017`
//! whose data names the provider (2: the file provider) and the algorithm
//! (0 XPRESS4K, 1 LZX, 2 XPRESS8K, 3 XPRESS16K). Its unnamed `$DATA` is
//! sparse and holds only the logical size; the bytes are in the named
//! stream `WofCompressedData`: a chunk table (one little-endian offset for
//! every chunk after the first, relative to the end of the table; 4 bytes
//! each, 8 when the file is over 4 GiB), then the chunks. Each chunk covers
//! the chunk size of output (the last one what is left) and is compressed
//! on its own; a chunk whose stored size equals its output size is stored
//! raw. The format facts come from wimlib's documentation of WOF and of
//! the compression formats; the decoders are ours ([`xpress`], [`lzx`]).
//!
//! Every count and offset is checked before use: the output is sized from
//! the `$DATA` size (capped by the caller), each table entry must lie
//! inside the stream and not go backwards, each chunk decodes into exactly
//! its output size, and the decoders return errors, never panic.

pub mod lzx;
pub mod xpress;

/// The reparse tag of a WOF-backed file.
pub const IO_REPARSE_TAG_WOF: u32 = 0x8000_0017;
/// The WOF provider that keeps the data in the file itself.
pub const WOF_PROVIDER_FILE: u32 = 2;
/// The named stream holding a file provider's compressed data.
pub const STREAM_NAME: &str = "WofCompressedData";

/// A file provider compression algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Xpress4k,
    Lzx,
    Xpress8k,
    Xpress16k,
}

impl Algorithm {
    /// The algorithm numbered `n` in `FILE_PROVIDER_EXTERNAL_INFO_V1`.
    pub fn from_wof(n: u32) -> Option<Self> {
        Some(match n {
            0 => Algorithm::Xpress4k,
            1 => Algorithm::Lzx,
            2 => Algorithm::Xpress8k,
            3 => Algorithm::Xpress16k,
            _ => return None,
        })
    }

    /// Output bytes per chunk.
    pub fn chunk_size(self) -> usize {
        match self {
            Algorithm::Xpress4k => 4096,
            Algorithm::Xpress8k => 8192,
            Algorithm::Xpress16k => 16384,
            Algorithm::Lzx => 32768,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Xpress4k => "XPRESS4K",
            Algorithm::Lzx => "LZX",
            Algorithm::Xpress8k => "XPRESS8K",
            Algorithm::Xpress16k => "XPRESS16K",
        }
    }

    /// Decodes one chunk into `out` (its whole output size).
    pub fn decode_chunk(self, input: &[u8], out: &mut [u8]) -> Result<(), &'static str> {
        match self {
            Algorithm::Lzx => lzx::decompress(input, out),
            _ => xpress::decompress(input, out),
        }
    }
}

/// What a reparse point's data says about a WOF file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reparse {
    /// WOF, file provider, with this algorithm.
    File(Algorithm),
    /// Some other reparse point, named for the report.
    Other(String),
}

/// Reads a `$REPARSE_POINT` value (tag, length, reserved, data).
pub fn parse_reparse(value: &[u8]) -> Reparse {
    let u32_at = |o: usize| {
        value
            .get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let Some(tag) = u32_at(0) else {
        return Reparse::Other("a reparse point too short to name its tag".into());
    };
    if tag != IO_REPARSE_TAG_WOF {
        return Reparse::Other(tag_name(tag));
    }
    // WOF_EXTERNAL_INFO {version, provider}, then the provider's info.
    let (version, provider) = (u32_at(8), u32_at(12));
    match (version, provider) {
        (Some(1), Some(WOF_PROVIDER_FILE)) => {}
        (Some(1), Some(1)) => {
            return Reparse::Other(
                "a WOF reparse point of the WIM provider (data in a WIM file elsewhere)".into(),
            )
        }
        _ => {
            return Reparse::Other(format!(
                "a WOF reparse point of unknown version {version:?} or provider {provider:?}"
            ))
        }
    }
    match (u32_at(16), u32_at(20).and_then(Algorithm::from_wof)) {
        (Some(1), Some(a)) => Reparse::File(a),
        (v, _) => Reparse::Other(format!(
            "a WOF file-provider reparse point of unknown version {v:?} or algorithm {:?}",
            u32_at(20)
        )),
    }
}

/// A reparse tag as a report names it.
pub fn tag_name(tag: u32) -> String {
    let what = match tag {
        0x8000_0013 => "Data Deduplication (IO_REPARSE_TAG_DEDUP): data in the chunk store",
        0x8000_0017 => "WOF (IO_REPARSE_TAG_WOF)",
        0xA000_0003 => "a mount point or junction (IO_REPARSE_TAG_MOUNT_POINT)",
        0xA000_000C => "a symbolic link (IO_REPARSE_TAG_SYMLINK)",
        0x8000_0012 => "DFS-R (IO_REPARSE_TAG_DFSR)",
        0x8000_0009 => "Single Instance Storage (IO_REPARSE_TAG_SIS): data in SIS Common Store",
        0xC000_0004 | 0x8000_0005 => {
            "Hierarchical Storage Management (IO_REPARSE_TAG_HSM): data offline"
        }
        0x8000_001B => "an AppExecLink (IO_REPARSE_TAG_APPEXECLINK)",
        0x8000_0023 => "an AF_UNIX socket (IO_REPARSE_TAG_AF_UNIX)",
        t if t & 0xFFFF_0FFF == 0x9000_001A || t & 0xF000_0000 == 0x9000_0000 => {
            "a cloud files placeholder (IO_REPARSE_TAG_CLOUD): data in the cloud"
        }
        _ => "",
    };
    match what {
        "" => format!("a reparse point with tag {tag:#010x}"),
        w => format!("a reparse point with tag {tag:#010x}, {w}"),
    }
}

/// Decodes a whole `WofCompressedData` stream into the `size` bytes of the
/// file. `size` must already be capped by the caller.
pub fn decode(stream: &[u8], size: u64, algo: Algorithm) -> Result<Vec<u8>, String> {
    let size = usize::try_from(size).map_err(|_| "WOF file size overflows".to_string())?;
    let chunk = algo.chunk_size();
    let chunks = size.div_ceil(chunk);
    if chunks == 0 {
        return Ok(Vec::new());
    }
    let entry = if size as u64 > u64::from(u32::MAX) {
        8
    } else {
        4
    };
    let table = (chunks - 1)
        .checked_mul(entry)
        .filter(|&t| t <= stream.len())
        .ok_or_else(|| {
            format!(
                "WofCompressedData of {} bytes cannot hold the chunk table of {chunks} chunks",
                stream.len()
            )
        })?;
    let body = stream.len() - table;
    let offset = |i: usize| -> u64 {
        if i == 0 {
            return 0;
        }
        let at = (i - 1) * entry;
        let b = &stream[at..at + entry];
        let mut v = [0u8; 8];
        v[..entry].copy_from_slice(b);
        u64::from_le_bytes(v)
    };
    let mut out = vec![0u8; size];
    for (i, dst) in out.chunks_mut(chunk).enumerate() {
        let start = offset(i);
        let end = if i + 1 == chunks {
            body as u64
        } else {
            offset(i + 1)
        };
        if start > end || end > body as u64 {
            return Err(format!(
                "WOF chunk {i} of {chunks}: table entry {start}..{end} is outside the {body}-byte data"
            ));
        }
        let src = &stream[table + start as usize..table + end as usize];
        match src.len().cmp(&dst.len()) {
            std::cmp::Ordering::Equal => dst.copy_from_slice(src),
            std::cmp::Ordering::Greater => {
                return Err(format!(
                    "WOF chunk {i} of {chunks}: {} stored bytes for {} bytes of output",
                    src.len(),
                    dst.len()
                ))
            }
            std::cmp::Ordering::Less => algo
                .decode_chunk(src, dst)
                .map_err(|e| format!("WOF {} chunk {i} of {chunks}: {e}", algo.name()))?,
        }
    }
    Ok(out)
}

/// The most bytes a valid `WofCompressedData` stream for a `size`-byte file
/// can have (every chunk at most its output size, plus the table): a cap
/// for reading the stream.
pub fn max_stream_len(size: u64, algo: Algorithm) -> u64 {
    let chunks = size.div_ceil(algo.chunk_size() as u64);
    let entry = if size > u64::from(u32::MAX) { 8 } else { 4 };
    size.saturating_add(chunks.saturating_sub(1).saturating_mul(entry))
}

/// A canonical Huffman code read MSB-first from 16-bit little-endian words,
/// as both XPRESS and LZX write it: codes of one length are consecutive in
/// symbol order, shorter codes first. Decoded through a table of the first
/// [`FAST_BITS`] bits, longer codes by canonical arithmetic.
pub(crate) struct Huffman {
    /// (symbol << 5) | length for each `FAST_BITS`-bit prefix; 0: longer.
    fast: Vec<u16>,
    /// Per length: first canonical code, number of codes, index in `sorted`.
    first: [u32; 17],
    count: [u32; 17],
    index: [u32; 17],
    sorted: Vec<u16>,
    max_len: u32,
}

const FAST_BITS: u32 = 10;

impl Huffman {
    /// The code of `lens` (0: symbol unused); lengths over `max_len` (≤ 16)
    /// or an over-subscribed code are errors. An incomplete code is kept:
    /// its unused bit patterns are errors when met.
    pub(crate) fn new(lens: &[u8], max_len: u32) -> Result<Self, &'static str> {
        let mut count = [0u32; 17];
        for &l in lens {
            if u32::from(l) > max_len {
                return Err("Huffman code length too long");
            }
            count[l as usize] += 1;
        }
        count[0] = 0;
        let mut left: i64 = 1;
        for c in &count[1..] {
            left = (left << 1) - i64::from(*c);
            if left < 0 {
                return Err("over-subscribed Huffman code");
            }
        }
        let (mut first, mut index) = ([0u32; 17], [0u32; 17]);
        let mut code = 0u32;
        let mut at = 0u32;
        for len in 1..=16 {
            code = (code + count[len - 1]) << 1;
            first[len] = code;
            index[len] = at;
            at += count[len];
        }
        let mut next = index;
        let mut sorted = vec![0u16; at as usize];
        for (sym, &l) in lens.iter().enumerate() {
            if l > 0 {
                sorted[next[l as usize] as usize] = sym as u16;
                next[l as usize] += 1;
            }
        }
        let mut fast = vec![0u16; 1 << FAST_BITS];
        for len in 1..=FAST_BITS.min(max_len) {
            let n = count[len as usize];
            for k in 0..n {
                let sym = sorted[(index[len as usize] + k) as usize];
                let c = (first[len as usize] + k) as usize;
                let shift = FAST_BITS - len;
                let v = (sym << 5) | len as u16;
                fast[c << shift..(c + 1) << shift].fill(v);
            }
        }
        Ok(Huffman {
            fast,
            first,
            count,
            index,
            sorted,
            max_len,
        })
    }

    /// (symbol, length) of the code at the top of `peek` (the next 16 bits,
    /// MSB first); `None` for a pattern the code does not use.
    #[inline]
    pub(crate) fn decode(&self, peek: u32) -> Option<(u16, u32)> {
        let e = self.fast[(peek >> (16 - FAST_BITS)) as usize];
        if e != 0 {
            return Some((e >> 5, u32::from(e & 31)));
        }
        for len in FAST_BITS + 1..=self.max_len {
            let code = peek >> (16 - len);
            let d = code.wrapping_sub(self.first[len as usize]);
            if d < self.count[len as usize] {
                let sym = self.sorted[(self.index[len as usize] + d) as usize];
                return Some((sym, len));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_codes_decode() {
        // Lengths 2,1,3,3: codes B=0, A=10, C=110, D=111.
        let h = Huffman::new(&[2, 1, 3, 3], 15).unwrap();
        assert_eq!(h.decode(0b0 << 15), Some((1, 1)));
        assert_eq!(h.decode(0b10 << 14), Some((0, 2)));
        assert_eq!(h.decode(0b110 << 13), Some((2, 3)));
        assert_eq!(h.decode(0b111 << 13), Some((3, 3)));
        assert!(Huffman::new(&[1, 1, 1], 15).is_err());
        // Incomplete: one code of length 1; the other half is unused.
        let h = Huffman::new(&[0, 1], 15).unwrap();
        assert_eq!(h.decode(0), Some((1, 1)));
        assert_eq!(h.decode(0x8000), None);
        // Long codes go through the slow path.
        let mut lens = vec![0u8; 20];
        for (i, l) in lens.iter_mut().enumerate().take(16) {
            *l = (i + 1) as u8;
        }
        lens[16] = 16;
        let h = Huffman::new(&lens, 16).unwrap();
        assert_eq!(h.decode(0xFFFF), Some((16, 16)));
        assert_eq!(h.decode(0xFFFE), Some((15, 16)));
        assert_eq!(h.decode(0xFFE0), Some((11, 12)));
    }

    #[test]
    fn reparse_points_are_named() {
        let mut v = vec![0u8; 24];
        v[..4].copy_from_slice(&IO_REPARSE_TAG_WOF.to_le_bytes());
        v[4..6].copy_from_slice(&16u16.to_le_bytes());
        for (o, x) in [(8, 1u32), (12, 2), (16, 1), (20, 1)] {
            v[o..o + 4].copy_from_slice(&x.to_le_bytes());
        }
        assert_eq!(parse_reparse(&v), Reparse::File(Algorithm::Lzx));
        v[20] = 9;
        assert!(matches!(parse_reparse(&v), Reparse::Other(_)));
        v[..4].copy_from_slice(&0x8000_0013u32.to_le_bytes());
        let Reparse::Other(why) = parse_reparse(&v) else {
            panic!()
        };
        assert!(why.contains("Deduplication"), "{why}");
        assert!(matches!(parse_reparse(&[1, 2]), Reparse::Other(_)));
    }

    #[test]
    fn tables_are_bounds_checked() {
        // 3 chunks of XPRESS4K need an 8-byte table; entries out of range fail.
        assert!(decode(&[0; 4], 9000, Algorithm::Xpress4k).is_err());
        let mut s = vec![0u8; 8];
        s[..4].copy_from_slice(&4096u32.to_le_bytes());
        s[4..].copy_from_slice(&1u32.to_le_bytes());
        assert!(decode(&s, 9000, Algorithm::Xpress4k).is_err());
        // Raw chunks only: 4096 + 4096 + 808 bytes.
        let mut s = Vec::new();
        s.extend_from_slice(&4096u32.to_le_bytes());
        s.extend_from_slice(&8192u32.to_le_bytes());
        s.extend((0..9000u32).map(|i| i as u8));
        let out = decode(&s, 9000, Algorithm::Xpress4k).unwrap();
        assert_eq!(out, (0..9000u32).map(|i| i as u8).collect::<Vec<_>>());
        assert_eq!(decode(&[], 0, Algorithm::Lzx).unwrap(), Vec::<u8>::new());
    }

    /// Every stream wimlib compressed (testdata/build/wof_images.py)
    /// decodes to the original bytes.
    #[test]
    fn wimlib_vectors_decode_to_the_original_bytes() {
        use sha2::{Digest, Sha256};
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/wof/vectors");
        let manifest: toml::Value =
            toml::from_str(&std::fs::read_to_string(dir.join("vectors.toml")).unwrap()).unwrap();
        let vectors = manifest["vector"].as_array().unwrap();
        assert!(vectors.len() >= 10);
        for v in vectors {
            let file = v["file"].as_str().unwrap();
            let algo = Algorithm::from_wof(v["algorithm"].as_integer().unwrap() as u32).unwrap();
            let size = v["size"].as_integer().unwrap() as u64;
            let stream = std::fs::read(dir.join(file)).unwrap();
            let out = decode(&stream, size, algo).unwrap_or_else(|e| panic!("{file}: {e}"));
            let hex: String = Sha256::digest(&out)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(hex, v["sha256"].as_str().unwrap(), "{file}");
            // Cut short or with a flipped byte: an error or other bytes, never a panic.
            if !stream.is_empty() {
                let _ = decode(&stream[..stream.len() / 2], size, algo);
                let mut bad = stream.clone();
                let at = stream.len() * 2 / 3;
                bad[at] ^= 0x5A;
                let _ = decode(&bad, size, algo);
            }
        }
    }
}
