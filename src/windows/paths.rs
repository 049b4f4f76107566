//! Turning paths as the registry writes them into paths on the volume.

use crate::fs::strip_drive;

/// A path from the registry split into the drive letter it names (upper
/// case; `None` for `%SystemRoot%`, `\SystemRoot`, a relative path or a bare
/// name, which all live on the install's own volume) and the path from that
/// volume's root, as [`volume_path`] gives it.
pub fn drive_and_path(raw: &str, system_root: &str) -> Option<(Option<char>, String)> {
    let path = volume_path(raw, system_root)?;
    Some((named_drive(raw), path))
}

/// The drive letter an absolute registry path names: `C:\x`, `"C:\x" /s`,
/// `\??\C:\x`, `\DosDevices\C:\x`.
fn named_drive(raw: &str) -> Option<char> {
    let raw = raw.trim().trim_start_matches('"').trim_start();
    let raw = ["\\??\\", "\\DosDevices\\"]
        .iter()
        .find_map(|p| {
            raw.get(..p.len())
                .filter(|h| h.eq_ignore_ascii_case(p))
                .map(|_| &raw[p.len()..])
        })
        .unwrap_or(raw);
    match raw.as_bytes() {
        [d, b':', ..] if d.is_ascii_alphabetic() => Some(d.to_ascii_uppercase() as char),
        _ => None,
    }
}

/// How a path on another volume than the install's is shown: with its
/// letter (`E:\Program Files\x.dll`). Paths on the install's own volume
/// keep the form they always had (`\WINNT\...`).
pub fn on_drive(letter: char, path: &str) -> String {
    format!("{letter}:{path}")
}

/// A path from the registry (`%SystemRoot%\System32\inetsrv\inetinfo.exe`,
/// `C:\WINNT\System32\svchost.exe -k iissvcs`, `\SystemRoot\System32\x.sys`,
/// `"C:\Program Files\x.exe" /s`) as a path from the volume root, arguments
/// dropped. Bare file names (no backslash) come back as they are; `None` for
/// an empty value.
pub fn volume_path(raw: &str, system_root: &str) -> Option<String> {
    let raw = raw.trim().trim_end_matches('\0');
    let path = if let Some(rest) = raw.strip_prefix('"') {
        rest.split('"').next().unwrap_or(rest)
    } else {
        strip_arguments(raw)
    };
    let mut path = path.trim().replace('/', "\\");
    for var in ["%SystemRoot%", "%windir%", "\\SystemRoot"] {
        // `get`, not `[..]`: a hostile value may put a multi-byte character
        // across the prefix's end (tests/regressions/diagnose-hive-multibyte-imagepath).
        if path
            .get(..var.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(var))
        {
            path = format!("{system_root}{}", &path[var.len()..]);
        }
    }
    let path = strip_drive(strip_device_prefix(&path)).to_string();
    if path.is_empty() {
        return None;
    }
    if path.starts_with('\\') || !path.contains('\\') {
        Some(path)
    } else {
        // `System32\drivers\x.sys`: relative to the system root, as the
        // service control manager reads it.
        Some(format!("{system_root}\\{path}"))
    }
}

/// `\??\C:\x` and `\DosDevices\C:\x` (PendingFileRenameOperations) as `C:\x`.
fn strip_device_prefix(path: &str) -> &str {
    for p in ["\\??\\", "\\DosDevices\\"] {
        if path
            .get(..p.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(p))
        {
            return &path[p.len()..];
        }
    }
    path
}

/// Cuts command-line arguments after the executable of an unquoted path.
fn strip_arguments(s: &str) -> &str {
    let lower = s.to_ascii_lowercase();
    for ext in [".exe", ".dll", ".sys", ".cpl", ".ocx"] {
        let mut from = 0;
        while let Some(i) = lower[from..].find(ext) {
            let end = from + i + ext.len();
            if end == s.len() || s.as_bytes()[end] == b' ' {
                return &s[..end];
            }
            from = end;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::{drive_and_path, volume_path};

    #[test]
    fn names_the_drive() {
        let r = "\\WINNT";
        let d = |raw: &str| drive_and_path(raw, r);
        assert_eq!(
            d("e:\\Program Files\\x.dll"),
            Some((Some('E'), "\\Program Files\\x.dll".into()))
        );
        assert_eq!(
            d("\"E:\\Proxy\\w3proxy.exe\" /s"),
            Some((Some('E'), "\\Proxy\\w3proxy.exe".into()))
        );
        assert_eq!(
            d("\\??\\D:\\WINNT\\x.dll"),
            Some((Some('D'), "\\WINNT\\x.dll".into()))
        );
        assert_eq!(
            d("\\DosDevices\\F:\\x.dll"),
            Some((Some('F'), "\\x.dll".into()))
        );
        assert_eq!(
            d("%SystemRoot%\\x.dll"),
            Some((None, "\\WINNT\\x.dll".into()))
        );
        assert_eq!(d("fscfg.dll"), Some((None, "fscfg.dll".into())));
        assert_eq!(d("1:\\x.dll").map(|x| x.0), Some(None));
        assert_eq!(d("é:\\x.dll").map(|x| x.0), Some(None));
        assert_eq!(d(""), None);
    }

    #[test]
    fn resolves_registry_paths() {
        let r = "\\WINNT";
        let cases = [
            (
                "%SystemRoot%\\System32\\inetsrv\\inetinfo.exe",
                "\\WINNT\\System32\\inetsrv\\inetinfo.exe",
            ),
            (
                "C:\\WINNT\\System32\\svchost.exe -k iissvcs",
                "\\WINNT\\System32\\svchost.exe",
            ),
            (
                "\\SystemRoot\\System32\\drivers\\spud.sys",
                "\\WINNT\\System32\\drivers\\spud.sys",
            ),
            (
                "System32\\drivers\\spud.sys",
                "\\WINNT\\System32\\drivers\\spud.sys",
            ),
            (
                "\"C:\\Program Files\\Proxy\\w3proxy.exe\" /x",
                "\\Program Files\\Proxy\\w3proxy.exe",
            ),
            (
                "\\??\\C:\\WINNT\\system32\\x.dll",
                "\\WINNT\\system32\\x.dll",
            ),
            ("fscfg.dll", "fscfg.dll"),
            (
                "%windir%\\system32\\inetsrv\\iisw3adm.dll\0",
                "\\WINNT\\system32\\inetsrv\\iisw3adm.dll",
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(volume_path(raw, r).as_deref(), Some(want), "{raw}");
        }
        assert_eq!(volume_path("  ", r), None);
        assert_eq!(volume_path("\"", r), None);
    }
}
