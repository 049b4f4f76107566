//! Escaping for HTML and SVG: text from an image goes through
//! [`escape`](super::escape) (controls and bidirectional overrides made
//! visible) and then has the five characters markup acts on written as
//! entities, so a file named `<script>` is shown, never run, in element
//! text and in quoted attribute values alike.

use super::escape::escape;

/// `s` safe inside HTML or SVG element text and double- or single-quoted
/// attribute values.
pub fn escape_html(s: &str) -> String {
    let s = escape(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `s` as the part of an element id after our own prefix: ASCII letters,
/// digits and `-` kept, everything else as `_`.
pub(super) fn id_part(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' => c,
            _ => '_',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_controls_are_inert() {
        assert_eq!(
            escape_html("<script>alert('x&y')</script>\"\x1b[31m"),
            "&lt;script&gt;alert(&#39;x&amp;y&#39;)&lt;/script&gt;&quot;\\x1b[31m"
        );
        assert_eq!(escape_html(r"\WINNT\w3svc.dll"), r"\WINNT\w3svc.dll");
        assert_eq!(id_part("iis4-www <x>"), "iis4-www__x_");
    }
}
