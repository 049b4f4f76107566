//! FAT names: 8.3 entries (OEM code page 437, NT's lower-case flags), long
//! names (VFAT entries checked against the 8.3 entry's checksum) and the
//! keys names are compared by.

/// NT's flags in byte 12 of an 8.3 entry: the base or the extension is
/// shown in lower case (a name like `readme.txt` needs no long name).
const LOWER_BASE: u8 = 0x08;
const LOWER_EXT: u8 = 0x10;
/// A long name is at most 255 UTF-16 units: 20 entries of 13.
const MAX_LFN_ENTRIES: usize = 20;

/// Code page 437 from 0x80 to 0xFF: the OEM code page of US NT 4.
const CP437_HIGH: &str = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{a0}";

/// OEM bytes as text (code page 437).
pub(super) fn oem_text(b: &[u8]) -> String {
    b.iter()
        .map(|&c| {
            if c < 0x80 {
                char::from(c)
            } else {
                CP437_HIGH
                    .chars()
                    .nth(usize::from(c - 0x80))
                    .unwrap_or('\u{fffd}')
            }
        })
        .collect()
}

/// The 11 name bytes of an 8.3 entry and its case flags.
pub(super) struct ShortName {
    base: [u8; 8],
    ext: [u8; 3],
    flags: u8,
}

impl ShortName {
    pub(super) fn parse(e: &[u8]) -> ShortName {
        let mut base = [0u8; 8];
        let mut ext = [0u8; 3];
        base.copy_from_slice(&e[0..8]);
        ext.copy_from_slice(&e[8..11]);
        // 0x05 stands for a first byte of 0xE5 (which marks a deleted entry).
        if base[0] == 0x05 {
            base[0] = 0xE5;
        }
        ShortName {
            base,
            ext,
            flags: e[12],
        }
    }

    /// The name as Windows shows it: `BASE.EXT`, trailing spaces dropped,
    /// lower-cased where NT's flags say.
    pub(super) fn shown(&self) -> String {
        let part = |b: &[u8], lower: bool| {
            let t = oem_text(b);
            let t = t.trim_end_matches(' ');
            if lower {
                t.to_ascii_lowercase()
            } else {
                t.to_string()
            }
        };
        let base = part(&self.base, self.flags & LOWER_BASE != 0);
        let ext = part(&self.ext, self.flags & LOWER_EXT != 0);
        let mut s = if ext.is_empty() {
            base
        } else {
            format!("{base}.{ext}")
        };
        // A name Windows could not have written (control characters, path
        // separators) is kept visible but harmless in a path.
        s = s
            .chars()
            .map(|c| {
                if c < ' ' || c == '\\' || c == '/' {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        if s.is_empty() {
            s.push('_');
        }
        s
    }
}

/// The checksum a long name's entries carry of their 8.3 entry.
pub(super) fn checksum(short11: &[u8]) -> u8 {
    short11
        .iter()
        .fold(0u8, |sum, &b| sum.rotate_right(1).wrapping_add(b))
}

/// The long name of `pieces` (the VFAT entries before an 8.3 entry, in disk
/// order), when they are whole: ordinals from n down to 1, the first marked
/// last, each carrying the 8.3 entry's checksum, valid UTF-16 and no path
/// separator. `None` otherwise: the caller shows the 8.3 name.
pub(super) fn long_name(pieces: &[&[u8]], short11: &[u8]) -> Option<String> {
    let n = pieces.len();
    if n == 0 || n > MAX_LFN_ENTRIES || pieces[0][0] & 0x40 == 0 {
        return None;
    }
    let sum = checksum(short11);
    for (k, p) in pieces.iter().enumerate() {
        if usize::from(p[0] & 0x1F) != n - k || p[13] != sum || p[12] != 0 {
            return None;
        }
    }
    let mut units = Vec::with_capacity(n * 13);
    'pieces: for p in pieces.iter().rev() {
        for r in [1..11, 14..26, 28..32] {
            for c in p[r].chunks_exact(2) {
                let u = u16::from_le_bytes([c[0], c[1]]);
                if u == 0 {
                    break 'pieces;
                }
                units.push(u);
            }
        }
    }
    // Padding after the terminator is 0xFFFF; a name that runs into it
    // without a terminator keeps those units out.
    while units.last() == Some(&0xFFFF) {
        units.pop();
    }
    let name = String::from_utf16(&units).ok()?;
    let bad = name.is_empty()
        || name == "."
        || name == ".."
        || name.chars().any(|c| c < ' ' || c == '\\' || c == '/');
    (!bad).then_some(name)
}

/// A long name's comparison key: UTF-16 units, each upper-cased by simple
/// Unicode case mapping (one unit to one unit), as Windows compares.
pub(super) fn long_key(name: &str) -> Vec<u16> {
    name.encode_utf16()
        .map(|u| {
            char::from_u32(u.into())
                .and_then(|c| {
                    let mut up = c.to_uppercase();
                    let one = up.next()?;
                    up.next().is_none().then_some(one)
                })
                .and_then(|c| u16::try_from(u32::from(c)).ok())
                .unwrap_or(u)
        })
        .collect()
}

/// An 8.3 name's comparison key: ASCII upper-casing only, as the OEM
/// upper-casing of short names does for the letters a short name holds.
pub(super) fn short_key(name: &str) -> Vec<u16> {
    name.to_ascii_uppercase().encode_utf16().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_of_a_known_name() {
        // "README  TXT": checksum as Linux's vfat computes it.
        let mut sum = 0u8;
        for &b in b"README  TXT" {
            sum = ((sum & 1) << 7).wrapping_add(sum >> 1).wrapping_add(b);
        }
        assert_eq!(checksum(b"README  TXT"), sum);
    }

    #[test]
    fn short_names_and_flags() {
        let mut e = [b' '; 32];
        e[0..8].copy_from_slice(b"W3SVC   ");
        e[8..11].copy_from_slice(b"DLL");
        e[12] = LOWER_BASE | LOWER_EXT;
        assert_eq!(ShortName::parse(&e).shown(), "w3svc.dll");
        e[12] = 0;
        e[0] = 0x05;
        assert_eq!(ShortName::parse(&e).shown(), "σ3SVC.DLL");
        assert_eq!(oem_text(&[0x80, 0xFF, b'A']), "Ç\u{a0}A");
        assert_eq!(CP437_HIGH.chars().count(), 128);
    }

    #[test]
    fn keys_fold_case() {
        assert_eq!(long_key("Straße"), long_key("STRAßE"));
        assert_eq!(long_key("élan"), long_key("ÉLAN"));
        assert_eq!(short_key("progra~1"), short_key("PROGRA~1"));
    }
}
