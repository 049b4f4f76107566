//! LZNT1 (MS-XCA 2.5), as NTFS stores a compression unit: a run of chunks,
//! each a 2-byte header and up to 4096 bytes of data that expand to exactly
//! 4096 bytes of output (a chunk that expands to less is zero-padded, as
//! Windows and ntfs-3g read it).
//!
//! Our own decoder rather than the `lznt1` crate: it writes into the unit's
//! output slice in place (no per-byte `Vec::push`), copies matches by slice,
//! and never lets one chunk write past its 4096 bytes, so a hostile unit
//! costs at most the unit's own size. The crate stays as the reference the
//! tests and the fuzz target compare against.

/// Output bytes of one chunk.
pub const CHUNK: usize = 4096;

/// Why a unit could not be decoded, with the offset in its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corrupt {
    pub at: usize,
    pub what: &'static str,
}

impl std::fmt::Display for Corrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at byte {} of the unit", self.what, self.at)
    }
}

/// Decodes the chunks of `input` into `out`, chunk `i` at `out[i * 4096..]`,
/// until a zero header, the end of the input or the end of `out`. Bytes of
/// `out` no chunk wrote are left as they were (the caller zeroes them).
pub fn decode_unit(input: &[u8], out: &mut [u8]) -> Result<(), Corrupt> {
    let mut at = 0;
    let mut start = 0;
    while start < out.len() {
        // A lone trailing zero byte ends a stream as well as a zero header.
        let Some(h) = input.get(at..at + 2) else {
            break;
        };
        let header = u16::from_le_bytes([h[0], h[1]]);
        if header == 0 {
            break;
        }
        let size = usize::from(header & 0x0FFF) + 1;
        let data = input.get(at + 2..at + 2 + size).ok_or(Corrupt {
            at,
            what: "chunk runs past the end of the unit",
        })?;
        let end = (start + CHUNK).min(out.len());
        let err = |(off, what)| Corrupt {
            at: at + 2 + off,
            what,
        };
        if header & 0x8000 == 0 {
            // Stored: the bytes as they are.
            let n = data.len().min(end - start);
            out[start..start + n].copy_from_slice(&data[..n]);
        } else if end - start == CHUNK {
            decode_chunk(data, &mut out[start..end]).map_err(err)?;
        } else {
            // The last chunk of an output that ends inside it: a whole
            // chunk's room, then the part that fits.
            let mut whole = [0u8; CHUNK];
            decode_chunk(data, &mut whole).map_err(err)?;
            out[start..end].copy_from_slice(&whole[..end - start]);
        }
        at += 2 + size;
        start += CHUNK;
    }
    Ok(())
}

/// One compressed chunk into `out` (at most 4096 bytes). Returns the bytes
/// written; on error the offset in `data` and what was wrong.
fn decode_chunk(data: &[u8], out: &mut [u8]) -> Result<usize, (usize, &'static str)> {
    let mut i = 0;
    let mut p = 0;
    while i < data.len() {
        let flags = data[i];
        i += 1;
        // Eight literals: the common case in poorly compressible code.
        if flags == 0 && i + 8 <= data.len() && p + 8 <= out.len() {
            out[p..p + 8].copy_from_slice(&data[i..i + 8]);
            i += 8;
            p += 8;
            continue;
        }
        for bit in 0..8 {
            if i >= data.len() {
                return Ok(p);
            }
            if flags & (1 << bit) == 0 {
                if p >= out.len() {
                    return Err((i, "chunk expands past 4096 bytes"));
                }
                out[p] = data[i];
                i += 1;
                p += 1;
                continue;
            }
            let Some(t) = data.get(i..i + 2) else {
                return Err((i, "match token cut off"));
            };
            let token = usize::from(u16::from_le_bytes([t[0], t[1]]));
            // The offset field widens as the chunk fills: 4 bits while fewer
            // than 17 bytes are out, one more bit each time that doubles.
            let split = match p {
                0..=16 => 12,
                _ => 12 - ((usize::BITS - (p - 1).leading_zeros()) as usize - 4).min(8),
            };
            let len = (token & ((1 << split) - 1)) + 3;
            let off = (token >> split) + 1;
            if off > p {
                return Err((i, "match reaches before the chunk"));
            }
            if len > out.len() - p {
                return Err((i, "chunk expands past 4096 bytes"));
            }
            copy_match(out, p, off, len);
            i += 2;
            p += len;
        }
    }
    Ok(p)
}

/// Copies `len` bytes from `off` bytes back to `p`, where the source may
/// overlap the destination (a repeating pattern).
#[inline]
fn copy_match(out: &mut [u8], p: usize, off: usize, len: usize) {
    let src = p - off;
    if off >= len {
        out.copy_within(src..src + len, p);
    } else if off == 1 {
        let b = out[src];
        out[p..p + len].fill(b);
    } else {
        // The pattern of `off` bytes, doubled each step.
        let mut done = 0;
        let mut span = off;
        while done < len {
            let n = span.min(len - done);
            out.copy_within(src..src + n, p + done);
            done += n;
            span = done + off;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `lznt1` crate's output, each chunk zero-padded to 4096 bytes (the
    /// crate appends short chunks as they are).
    fn reference(input: &[u8], unit: usize) -> Option<Vec<u8>> {
        let mut out = vec![0u8; unit];
        let mut at = 0;
        let mut start = 0;
        while start < unit && at + 2 <= input.len() {
            let header = u16::from_le_bytes([input[at], input[at + 1]]);
            if header == 0 {
                break;
            }
            let size = usize::from(header & 0x0FFF) + 1;
            let chunk = input.get(at..at + 2 + size)?;
            let mut one = Vec::new();
            lznt1::decompress(chunk, &mut one).ok()?;
            if one.len() > CHUNK {
                return None;
            }
            let n = one.len().min(unit - start);
            out[start..start + n].copy_from_slice(&one[..n]);
            at += 2 + size;
            start += CHUNK;
        }
        Some(out)
    }

    fn ours(input: &[u8], unit: usize) -> Option<Vec<u8>> {
        let mut out = vec![0u8; unit];
        decode_unit(input, &mut out).ok()?;
        Some(out)
    }

    /// Data with every kind of repetition: runs, short and long patterns,
    /// text, and noise.
    fn sample(seed: u32, len: usize) -> Vec<u8> {
        let mut x = seed.wrapping_mul(2_654_435_761).max(1);
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        let mut v = Vec::with_capacity(len);
        while v.len() < len {
            match next() % 5 {
                0 => v.extend(std::iter::repeat_n(next() as u8, (next() % 300) as usize)),
                1 => {
                    let pat: Vec<u8> = (0..1 + next() % 7).map(|_| next() as u8).collect();
                    let n = (next() % 500) as usize;
                    v.extend(pat.iter().cycle().take(n));
                }
                2 => v.extend_from_slice(b"GetProcAddress LoadLibraryA w3svc.dll 4.2.739.1 "),
                3 if v.len() > 64 => {
                    let from = (next() as usize) % (v.len() - 32);
                    let n = 4 + (next() % 28) as usize;
                    let copy = v[from..from + n].to_vec();
                    v.extend(copy);
                }
                _ => v.extend((0..(next() % 64)).map(|_| next() as u8)),
            }
        }
        v.truncate(len);
        v
    }

    #[test]
    fn round_trips_what_the_crate_compresses() {
        for seed in 0..64 {
            for len in [1, 15, 16, 17, 4095, 4096, 4097, 20_000, 65_536] {
                let text = sample(seed, len);
                let mut packed = Vec::new();
                lznt1::compress(&text, &mut packed);
                let unit = len.div_ceil(CHUNK) * CHUNK;
                let got = ours(&packed, unit).expect("decodes");
                assert_eq!(&got[..len], &text[..], "seed {seed} len {len}");
                assert!(got[len..].iter().all(|&b| b == 0));
                assert_eq!(Some(got), reference(&packed, unit));
            }
        }
    }

    #[test]
    fn agrees_with_the_crate_on_garbage_it_accepts() {
        for seed in 0..2000u32 {
            let mut junk = sample(seed, 64 + (seed as usize * 37) % 6000);
            // Make the first header plausible half of the time.
            if seed % 2 == 0 && junk.len() > 2 {
                let size = (junk.len() - 2).min(4096) as u16 - 1;
                junk[..2].copy_from_slice(&(0xB000 | size).to_le_bytes());
            }
            let unit = 4 * CHUNK;
            if let Some(r) = reference(&junk, unit) {
                assert_eq!(ours(&junk, unit), Some(r), "seed {seed}");
            }
        }
    }

    #[test]
    fn short_chunks_are_zero_padded_and_bounds_hold() {
        // Chunk 1: "ab" compressed; chunk 2: stored "xyz".
        let mut s = vec![0x01, 0xB0, 0x00, b'a', b'b'];
        s[0] = 2; // 3 data bytes: flags + 2 literals
        s.extend_from_slice(&[0x02, 0x30, b'x', b'y', b'z']);
        let mut out = vec![0xEE; 2 * CHUNK];
        out.fill(0);
        decode_unit(&s, &mut out).unwrap();
        assert_eq!(&out[..2], b"ab");
        assert!(out[2..CHUNK].iter().all(|&b| b == 0));
        assert_eq!(&out[CHUNK..CHUNK + 3], b"xyz");
        // A match before the chunk start, and a cut token, are errors.
        assert!(decode_unit(&[0x02, 0xB0, 0x01, 0x00, 0x10], &mut out).is_err());
        assert!(decode_unit(&[0x01, 0xB0, 0x01, 0x00], &mut out).is_err());
        // Output never passes the slice it is given.
        let mut small = vec![0u8; 10];
        let _ = decode_unit(&s, &mut small);
    }

    #[test]
    fn reads_a_cluster_windows_compressed_as_tsk_does() {
        let Some(dir) = crate::test_corpus::dir("ntfs/mft_extracts") else {
            return;
        };
        let packed = std::fs::read(dir.join("ntfs-forensic__lznt1_real.bin")).unwrap();
        let expected = std::fs::read(dir.join("ntfs-forensic__lznt1_real.expected")).unwrap();
        let got = ours(&packed, 16 * CHUNK).expect("decodes");
        assert_eq!(&got[..expected.len()], &expected[..]);
        assert!(got[expected.len()..].iter().all(|&b| b == 0));
    }
}
