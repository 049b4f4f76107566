//! XPRESS with Huffman coding ("LZ77+Huffman", [MS-XCA] section 2.1/2.2),
//! as WOF uses it for chunks of 4, 8 and 16 KiB: one 256-byte table of
//! 512 four-bit code lengths, then a bit stream of 16-bit little-endian
//! words read MSB first, with the extra length bytes of long matches taken
//! from the input between the words.
//!
//! The bit buffer is refilled exactly as MS-XCA describes (one word
//! whenever fewer than 16 bits are left), so the position of the interleaved
//! length bytes matches the encoder's. Only one 64 KiB block is decoded
//! (WOF chunks are at most 16 KiB): a larger output is an error.

use super::Huffman;

/// Output bytes covered by one Huffman table.
const BLOCK: usize = 65536;

struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
    /// Valid bits at the top.
    buf: u64,
    n: u32,
}

impl Reader<'_> {
    /// The next word, or zeros past the end (the last symbols may peek
    /// beyond the stream; a real error shows up as a bad code or match).
    #[inline]
    fn load(&mut self) {
        let w = match self.input.get(self.pos..self.pos + 2) {
            Some(b) => u16::from_le_bytes([b[0], b[1]]),
            None => 0,
        };
        self.pos += 2;
        self.buf |= u64::from(w) << (48 - self.n);
        self.n += 16;
    }

    #[inline]
    fn peek16(&self) -> u32 {
        (self.buf >> 48) as u32
    }

    /// Drops `k` (≤ 16) bits, refilling to at least 16.
    #[inline]
    fn consume(&mut self, k: u32) {
        self.buf <<= k;
        self.n -= k;
        if self.n < 16 {
            self.load();
        }
    }

    fn byte(&mut self) -> Result<u32, &'static str> {
        let b = *self
            .input
            .get(self.pos)
            .ok_or("match length runs past the input")?;
        self.pos += 1;
        Ok(u32::from(b))
    }

    fn bytes<const N: usize>(&mut self) -> Result<u32, &'static str> {
        let b = self
            .input
            .get(self.pos..self.pos + N)
            .ok_or("match length runs past the input")?;
        self.pos += N;
        let mut v = [0u8; 4];
        v[..N].copy_from_slice(b);
        Ok(u32::from_le_bytes(v))
    }
}

/// Decodes `input` into exactly `out.len()` bytes.
pub fn decompress(input: &[u8], out: &mut [u8]) -> Result<(), &'static str> {
    if out.len() > BLOCK {
        return Err("XPRESS output over 64 KiB is not supported");
    }
    if out.is_empty() {
        return Ok(());
    }
    let table = input
        .get(..256)
        .ok_or("XPRESS chunk shorter than its table")?;
    let mut lens = [0u8; 512];
    for (i, &b) in table.iter().enumerate() {
        lens[2 * i] = b & 15;
        lens[2 * i + 1] = b >> 4;
    }
    let code = Huffman::new(&lens, 15)?;
    let mut r = Reader {
        input,
        pos: 256,
        buf: 0,
        n: 0,
    };
    r.load();
    r.load();
    let mut o = 0usize;
    while o < out.len() {
        let (sym, len) = code.decode(r.peek16()).ok_or("invalid Huffman code")?;
        r.consume(len);
        if sym < 256 {
            out[o] = sym as u8;
            o += 1;
            continue;
        }
        let s = u32::from(sym) - 256;
        let mut length = s & 15;
        let dlog = s >> 4;
        if length == 15 {
            length = r.byte()?;
            if length == 255 {
                length = r.bytes::<2>()?;
                if length == 0 {
                    length = r.bytes::<4>()?;
                }
                if length < 15 {
                    return Err("bad XPRESS match length");
                }
                length -= 15;
            }
            length += 15;
        }
        let length = (length as usize).saturating_add(3);
        let offset = if dlog == 0 {
            1
        } else {
            let extra = r.peek16() >> (16 - dlog);
            r.consume(dlog);
            (1usize << dlog) | extra as usize
        };
        copy_match(out, o, offset, length)?;
        o += length;
    }
    Ok(())
}

/// Copies `length` bytes from `offset` back, overlapping as LZ77 does.
#[inline]
pub(crate) fn copy_match(
    out: &mut [u8],
    o: usize,
    offset: usize,
    length: usize,
) -> Result<(), &'static str> {
    if offset == 0 || offset > o {
        return Err("match offset before the start of the output");
    }
    if length > out.len() - o {
        return Err("match runs past the end of the output");
    }
    let from = o - offset;
    if offset >= length {
        out.copy_within(from..from + length, o);
    } else {
        for k in 0..length {
            out[o + k] = out[from + k];
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_input_is_an_error_not_a_panic() {
        let mut out = [0u8; 100];
        assert!(decompress(&[0u8; 10], &mut out).is_err());
        // An empty code: every pattern is unused.
        assert!(decompress(&[0u8; 300], &mut out).is_err());
        // Literal 'A' only (length 1), then a match would be needed: fine.
        let mut t = vec![0u8; 256];
        t[b'A' as usize / 2] = 0x10; // symbol 65 (odd): high nibble
        t[128] = 0x01; // symbol 256 (match, offset 1, length 3): length 1
        t.extend_from_slice(&[0, 0, 0, 0]);
        let mut out = [0u8; 4];
        // Code: 'A' -> 0, 256 -> 1. Bits: 0 (A), 1 (match of 3 at offset 1);
        // the first word is bytes 256-257, its high byte first.
        t[257] = 0b0100_0000;
        decompress(&t, &mut out).unwrap();
        assert_eq!(&out, b"AAAA");
        let mut big = vec![0u8; BLOCK + 1];
        assert!(decompress(&t, &mut big).is_err());
    }
}
