//! The one escaping function for text read from an image (file names,
//! registry values, labels, container metadata, error reasons) before it is
//! written for a person: a hostile name must not recolour the terminal, move
//! the cursor or start a line of its own that reads like ours.
//!
//! The form, documented in the README: `\n`, `\r`, `\t`, `\xHH` for the other
//! C0 controls and DEL, `\u{HHHH}` for C1 controls (U+0080–U+009F), the
//! bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069, which
//! reorder what a terminal shows) and the line and paragraph separators
//! (U+2028, U+2029). Everything else, backslashes included, is written as
//! stored: Windows paths stay readable.

use std::borrow::Cow;
use std::fmt::Write;

/// `s` with every character a terminal would act on written as an escape.
/// Borrows when there is nothing to escape, which is almost always.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A character a terminal interprets rather than shows as itself.
pub fn needs_escape(c: char) -> bool {
    c.is_control() // C0, DEL and C1
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_names_are_kept() {
        assert!(matches!(
            escape(r"\WINNT\system32\w3svc.dll"),
            Cow::Borrowed(_)
        ));
        assert_eq!(
            escape("a\x1b[31mb\nc\td\re\x7f"),
            r"a\x1b[31mb\nc\td\re\x7f"
        );
        assert_eq!(escape("\u{9b}31m"), r"\u{9b}31m");
        assert_eq!(escape("x\u{202e}y\u{2028}"), r"x\u{202e}y\u{2028}");
        assert_eq!(escape("Überprüfung ✓"), "Überprüfung ✓");
        assert!(!escape("\0\x01\x1f").chars().any(needs_escape));
    }
}
