//! LZX as WIM files and WOF use it (32 KiB chunks, each compressed on its
//! own): no stream header, blocks of type verbatim (1), aligned offset (2)
//! and uncompressed (3), a block size of 32768 flagged by one bit or given
//! in 16 bits, repeat offsets starting at 1 in every chunk, code lengths
//! delta-coded against the previous block's through a 20-symbol pretree,
//! and the x86 `E8` call translation always undone with a translation size
//! of 12,000,000. Format facts from wimlib's documentation of LZX and the
//! LZX DELTA / CAB format descriptions; the code is ours.
//!
//! Bits come from 16-bit little-endian words, MSB first. Reads past the
//! end of the input give zeros (a corrupt stream then fails on a code, a
//! match or the output size); an uncompressed block's bytes are bounds
//! checked.

use super::xpress::copy_match;
use super::Huffman;

/// Largest chunk (the window): 2^15 bytes, 30 position slots.
const WINDOW: usize = 32768;
const POSITION_SLOTS: usize = 30;
const MAIN_SYMBOLS: usize = 256 + 8 * POSITION_SLOTS;
const LENGTH_SYMBOLS: usize = 249;
const PRETREE_SYMBOLS: usize = 20;
const ALIGNED_SYMBOLS: usize = 8;
const E8_TRANSLATION_SIZE: i64 = 12_000_000;

/// Extra bits of each position slot: 0,0,0,0,1,1,2,2,… (at most 17).
const fn footer_bits(slot: usize) -> u32 {
    if slot < 4 {
        0
    } else {
        let b = (slot / 2 - 1) as u32;
        if b > 17 {
            17
        } else {
            b
        }
    }
}

/// The first formatted offset of each position slot.
const BASES: [u32; POSITION_SLOTS] = {
    let mut b = [0u32; POSITION_SLOTS];
    let mut s = 1;
    while s < POSITION_SLOTS {
        b[s] = b[s - 1] + (1 << footer_bits(s - 1));
        s += 1;
    }
    b
};

struct Bits<'a> {
    input: &'a [u8],
    /// Next byte to load.
    pos: usize,
    buf: u64,
    n: u32,
}

impl<'a> Bits<'a> {
    fn new(input: &'a [u8], pos: usize) -> Self {
        Bits {
            input,
            pos,
            buf: 0,
            n: 0,
        }
    }

    /// Tops the buffer up to at least 48 bits.
    #[inline]
    fn refill(&mut self) {
        while self.n <= 48 {
            let w = match self.input.get(self.pos..self.pos + 2) {
                Some(b) => u16::from_le_bytes([b[0], b[1]]),
                None => 0,
            };
            self.pos += 2;
            self.buf |= u64::from(w) << (48 - self.n);
            self.n += 16;
        }
    }

    /// Up to 16 bits; the buffer must hold them.
    #[inline]
    fn read(&mut self, k: u32) -> u32 {
        if k == 0 {
            return 0;
        }
        if self.n < k {
            self.refill();
        }
        let v = (self.buf >> (64 - k)) as u32;
        self.buf <<= k;
        self.n -= k;
        v
    }

    #[inline]
    fn decode(&mut self, h: &Huffman) -> Result<u16, &'static str> {
        if self.n < 16 {
            self.refill();
        }
        let (sym, len) = h
            .decode((self.buf >> 48) as u32)
            .ok_or("invalid Huffman code")?;
        self.buf <<= len;
        self.n -= len;
        Ok(sym)
    }

    /// Byte offset of the next 16-bit boundary strictly after the bits
    /// consumed so far (an uncompressed block pads 1 to 16 bits).
    fn align(&self) -> usize {
        let consumed = self.pos * 8 - self.n as usize;
        (consumed / 16 + 1) * 2
    }
}

/// Reads code lengths for `lens` through a pretree, as deltas against the
/// lengths already there.
fn read_lens(b: &mut Bits<'_>, lens: &mut [u8]) -> Result<(), &'static str> {
    let mut pre = [0u8; PRETREE_SYMBOLS];
    for l in pre.iter_mut() {
        *l = b.read(4) as u8;
    }
    let pre = Huffman::new(&pre, 15)?;
    let mut i = 0;
    while i < lens.len() {
        let sym = b.decode(&pre)?;
        match sym {
            0..=16 => {
                lens[i] = ((u16::from(lens[i]) + 17 - sym) % 17) as u8;
                i += 1;
            }
            17 | 18 => {
                let run = if sym == 17 {
                    4 + b.read(4)
                } else {
                    20 + b.read(5)
                } as usize;
                let end = (i + run).min(lens.len());
                lens[i..end].fill(0);
                i = end;
            }
            _ => {
                let run = 4 + b.read(1) as usize;
                let d = b.decode(&pre)?;
                if d > 16 {
                    return Err("bad pretree run");
                }
                let v = ((u16::from(lens[i]) + 17 - d) % 17) as u8;
                let end = (i + run).min(lens.len());
                lens[i..end].fill(v);
                i = end;
            }
        }
    }
    Ok(())
}

/// Decodes one chunk into exactly `out.len()` (≤ 32 KiB) bytes.
pub fn decompress(input: &[u8], out: &mut [u8]) -> Result<(), &'static str> {
    if out.len() > WINDOW {
        return Err("LZX chunk over 32 KiB is not supported");
    }
    let mut main_lens = [0u8; MAIN_SYMBOLS];
    let mut len_lens = [0u8; LENGTH_SYMBOLS];
    let mut r = [1usize; 3];
    let mut b = Bits::new(input, 0);
    let mut o = 0usize;
    while o < out.len() {
        let ty = b.read(3);
        let size = if b.read(1) == 1 {
            WINDOW
        } else {
            b.read(16) as usize
        };
        if size == 0 || size > out.len() - o {
            return Err("bad LZX block size");
        }
        let end = o + size;
        match ty {
            1 | 2 => {
                let aligned = if ty == 2 {
                    let mut al = [0u8; ALIGNED_SYMBOLS];
                    for l in al.iter_mut() {
                        *l = b.read(3) as u8;
                    }
                    Some(Huffman::new(&al, 7)?)
                } else {
                    None
                };
                read_lens(&mut b, &mut main_lens[..256])?;
                read_lens(&mut b, &mut main_lens[256..])?;
                let main = Huffman::new(&main_lens, 16)?;
                read_lens(&mut b, &mut len_lens)?;
                let lengths = Huffman::new(&len_lens, 16)?;
                while o < end {
                    let sym = b.decode(&main)? as usize;
                    if sym < 256 {
                        out[o] = sym as u8;
                        o += 1;
                        continue;
                    }
                    let s = sym - 256;
                    let slot = s >> 3;
                    let mut length = (s & 7) + 2;
                    if s & 7 == 7 {
                        length += b.decode(&lengths)? as usize;
                    }
                    let offset = match slot {
                        0 => r[0],
                        1 => {
                            r.swap(0, 1);
                            r[0]
                        }
                        2 => {
                            r.swap(0, 2);
                            r[0]
                        }
                        _ => {
                            let extra = footer_bits(slot);
                            let v = match &aligned {
                                Some(al) if extra >= 3 => {
                                    let hi = b.read(extra - 3) << 3;
                                    hi + u32::from(b.decode(al)?)
                                }
                                _ => b.read(extra),
                            };
                            let off = (BASES[slot] + v) as usize - 2;
                            r[2] = r[1];
                            r[1] = r[0];
                            r[0] = off;
                            off
                        }
                    };
                    // A match may run on into the next block.
                    copy_match(out, o, offset, length)?;
                    o += length;
                }
            }
            3 => {
                let mut at = b.align();
                let word = |at: &mut usize| -> Result<usize, &'static str> {
                    let w = input
                        .get(*at..*at + 4)
                        .ok_or("uncompressed LZX block runs past the input")?;
                    *at += 4;
                    Ok(u32::from_le_bytes([w[0], w[1], w[2], w[3]]) as usize)
                };
                for slot in r.iter_mut() {
                    *slot = word(&mut at)?;
                }
                let src = input
                    .get(at..at + size)
                    .ok_or("uncompressed LZX block runs past the input")?;
                out[o..end].copy_from_slice(src);
                o = end;
                at += size + (size & 1);
                b = Bits::new(input, at);
            }
            _ => return Err("bad LZX block type"),
        }
    }
    undo_e8(out);
    Ok(())
}

/// Undoes the encoder's translation of x86 `CALL rel32` targets to
/// absolute ones, for every `E8` byte before the last 10 of the chunk.
fn undo_e8(out: &mut [u8]) {
    if out.len() <= 10 {
        return;
    }
    let mut i = 0;
    while i < out.len() - 10 {
        if out[i] != 0xE8 {
            i += 1;
            continue;
        }
        let at = i + 1;
        let abs = i64::from(i32::from_le_bytes([
            out[at],
            out[at + 1],
            out[at + 2],
            out[at + 3],
        ]));
        let pos = i as i64;
        if abs >= -pos && abs < E8_TRANSLATION_SIZE {
            let rel = if abs >= 0 {
                abs - pos
            } else {
                abs + E8_TRANSLATION_SIZE
            };
            out[at..at + 4].copy_from_slice(&(rel as i32).to_le_bytes());
        }
        i += 5;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_and_bases_follow_the_format() {
        assert_eq!(&BASES[..8], &[0, 1, 2, 3, 4, 6, 8, 12]);
        assert_eq!(footer_bits(29), 13);
        // The largest offset of slot 29 is the window less 3, LZX's limit.
        assert_eq!(BASES[29] as usize + (1 << 13) - 1 - 2, WINDOW - 3);
    }

    #[test]
    fn hostile_input_is_an_error_not_a_panic() {
        let mut out = [0u8; 1000];
        assert!(decompress(&[], &mut out).is_err());
        assert!(decompress(&[0xFF; 64], &mut out).is_err());
        let mut big = vec![0u8; WINDOW + 1];
        assert!(decompress(&[0; 8], &mut big).is_err());
    }

    #[test]
    fn e8_targets_are_translated_back() {
        let mut d = vec![0u8; 32];
        d[3] = 0xE8;
        d[4..8].copy_from_slice(&13i32.to_le_bytes()); // absolute 13 at pos 3
        undo_e8(&mut d);
        assert_eq!(i32::from_le_bytes([d[4], d[5], d[6], d[7]]), 10);
    }
}
