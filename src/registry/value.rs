//! Typed registry values.

/// A typed registry value.
///
/// Decoding rules (the raw type is the `vk` cell's full 32-bit type field):
/// * `REG_SZ` / `REG_EXPAND_SZ`: UTF-16LE, cut at the first NUL (what the
///   service control manager and other consumers see); an odd trailing byte
///   is dropped; unpaired surrogates become U+FFFD.
/// * `REG_MULTI_SZ`: split at each NUL; empty strings at the end are dropped,
///   empty strings in the middle are kept (Windows would stop reading there).
/// * `REG_DWORD`, `REG_DWORD_BIG_ENDIAN`, `REG_QWORD`: the first 4 or 8 bytes;
///   with fewer bytes than that the value becomes [`ValueData::Other`].
/// * `REG_NONE` with no data is [`ValueData::None`]; with data it is `Other`.
/// * Every other type (`REG_LINK`, resource lists, device-property types with
///   high bits set, garbage) is [`ValueData::Other`] with its type recorded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum ValueData {
    String(String),
    ExpandString(String),
    MultiString(Vec<String>),
    Dword(u32),
    /// `REG_DWORD_BIG_ENDIAN`, already converted to a number.
    DwordBigEndian(u32),
    Qword(u64),
    Binary(Vec<u8>),
    None,
    /// A type we do not decode, or a fixed-size type with too few bytes.
    Other {
        type_id: u32,
        data: Vec<u8>,
    },
}

pub const REG_NONE: u32 = 0;
pub const REG_SZ: u32 = 1;
pub const REG_EXPAND_SZ: u32 = 2;
pub const REG_BINARY: u32 = 3;
pub const REG_DWORD: u32 = 4;
pub const REG_DWORD_BIG_ENDIAN: u32 = 5;
pub const REG_LINK: u32 = 6;
pub const REG_MULTI_SZ: u32 = 7;
pub const REG_QWORD: u32 = 11;

impl ValueData {
    /// Decodes raw value bytes of registry type `type_id`.
    pub fn decode(type_id: u32, data: &[u8]) -> ValueData {
        let other = || ValueData::Other {
            type_id,
            data: data.to_vec(),
        };
        match type_id {
            REG_NONE if data.is_empty() => ValueData::None,
            REG_SZ => ValueData::String(utf16_until_nul(data)),
            REG_EXPAND_SZ => ValueData::ExpandString(utf16_until_nul(data)),
            REG_BINARY => ValueData::Binary(data.to_vec()),
            REG_DWORD => match data.get(..4) {
                Some(d) => ValueData::Dword(u32::from_le_bytes(d.try_into().unwrap_or_default())),
                None => other(),
            },
            REG_DWORD_BIG_ENDIAN => match data.get(..4) {
                Some(d) => {
                    ValueData::DwordBigEndian(u32::from_be_bytes(d.try_into().unwrap_or_default()))
                }
                None => other(),
            },
            REG_QWORD => match data.get(..8) {
                Some(d) => ValueData::Qword(u64::from_le_bytes(d.try_into().unwrap_or_default())),
                None => other(),
            },
            REG_MULTI_SZ => ValueData::MultiString(utf16_multi(data)),
            _ => other(),
        }
    }

    /// The registry type number this value was stored with.
    pub fn type_id(&self) -> u32 {
        match self {
            ValueData::String(_) => REG_SZ,
            ValueData::ExpandString(_) => REG_EXPAND_SZ,
            ValueData::MultiString(_) => REG_MULTI_SZ,
            ValueData::Dword(_) => REG_DWORD,
            ValueData::DwordBigEndian(_) => REG_DWORD_BIG_ENDIAN,
            ValueData::Qword(_) => REG_QWORD,
            ValueData::Binary(_) => REG_BINARY,
            ValueData::None => REG_NONE,
            ValueData::Other { type_id, .. } => *type_id,
        }
    }

    /// The Windows name of the type (`REG_SZ`, …), or `type 0x…` for others.
    pub fn type_name(&self) -> String {
        let name = match self.type_id() {
            REG_NONE => "REG_NONE",
            REG_SZ => "REG_SZ",
            REG_EXPAND_SZ => "REG_EXPAND_SZ",
            REG_BINARY => "REG_BINARY",
            REG_DWORD => "REG_DWORD",
            REG_DWORD_BIG_ENDIAN => "REG_DWORD_BIG_ENDIAN",
            REG_LINK => "REG_LINK",
            REG_MULTI_SZ => "REG_MULTI_SZ",
            8 => "REG_RESOURCE_LIST",
            9 => "REG_FULL_RESOURCE_DESCRIPTOR",
            10 => "REG_RESOURCE_REQUIREMENTS_LIST",
            REG_QWORD => "REG_QWORD",
            t => return format!("type 0x{t:x}"),
        };
        name.to_string()
    }

    /// The text of a `REG_SZ` or `REG_EXPAND_SZ` (unexpanded).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            ValueData::String(s) | ValueData::ExpandString(s) => Some(s),
            _ => None,
        }
    }

    /// A `REG_DWORD` or `REG_DWORD_BIG_ENDIAN`.
    pub fn as_u32(&self) -> Option<u32> {
        match self {
            ValueData::Dword(v) | ValueData::DwordBigEndian(v) => Some(*v),
            _ => None,
        }
    }

    /// A `REG_QWORD`, or a DWORD widened.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            ValueData::Qword(v) => Some(*v),
            _ => self.as_u32().map(u64::from),
        }
    }

    /// The strings of a `REG_MULTI_SZ`.
    pub fn as_multi(&self) -> Option<&[String]> {
        match self {
            ValueData::MultiString(v) => Some(v),
            _ => None,
        }
    }

    /// The bytes of a `REG_BINARY` or of an undecoded type.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            ValueData::Binary(b) | ValueData::Other { data: b, .. } => Some(b),
            _ => None,
        }
    }

    /// A number however it was stored: DWORD (either order), QWORD that fits,
    /// or 4 raw bytes (little-endian) under any other type. For values such as
    /// `Select\Current` that some tools write with the wrong type.
    pub fn as_u32_lenient(&self) -> Option<u32> {
        match self {
            ValueData::Dword(v) | ValueData::DwordBigEndian(v) => Some(*v),
            ValueData::Qword(v) => u32::try_from(*v).ok(),
            ValueData::Binary(b) | ValueData::Other { data: b, .. } => match b.len() {
                4 => Some(u32::from_le_bytes(b[..4].try_into().ok()?)),
                8 => u32::try_from(u64::from_le_bytes(b[..8].try_into().ok()?)).ok(),
                _ => None,
            },
            _ => None,
        }
    }
}

fn utf16_units(data: &[u8]) -> impl Iterator<Item = u16> + '_ {
    data.chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
}

fn decode_units(units: &[u16]) -> String {
    char::decode_utf16(units.iter().copied())
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

fn utf16_until_nul(data: &[u8]) -> String {
    let units: Vec<u16> = utf16_units(data).take_while(|&u| u != 0).collect();
    decode_units(&units)
}

fn utf16_multi(data: &[u8]) -> Vec<String> {
    let units: Vec<u16> = utf16_units(data).collect();
    let mut out: Vec<String> = units.split(|&u| u == 0).map(decode_units).collect();
    while out.last().is_some_and(|s| s.is_empty()) {
        out.pop();
    }
    out
}

/// One value of a key. An empty `name` is the key's default value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Value {
    pub name: String,
    pub data: ValueData,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
    }

    #[test]
    fn strings() {
        let mut b = utf16("C:\\WINNT\\system32\\inetsrv\\inetinfo.exe\0");
        assert_eq!(
            ValueData::decode(REG_SZ, &b).as_str(),
            Some("C:\\WINNT\\system32\\inetsrv\\inetinfo.exe")
        );
        b.push(0x41); // odd length
        assert_eq!(
            ValueData::decode(REG_EXPAND_SZ, &b),
            ValueData::ExpandString("C:\\WINNT\\system32\\inetsrv\\inetinfo.exe".into())
        );
        // no terminator, garbage after the NUL
        assert_eq!(
            ValueData::decode(REG_SZ, &utf16("abc")).as_str(),
            Some("abc")
        );
        assert_eq!(
            ValueData::decode(REG_SZ, &utf16("ab\0zz")).as_str(),
            Some("ab")
        );
        assert_eq!(ValueData::decode(REG_SZ, &[]).as_str(), Some(""));
        assert_eq!(
            ValueData::decode(REG_SZ, &[0x00, 0xd8]).as_str(),
            Some("\u{fffd}")
        );
    }

    #[test]
    fn multi_strings() {
        let d = ValueData::decode(REG_MULTI_SZ, &utf16("RPCSS\0HTTP\0\0"));
        assert_eq!(
            d.as_multi(),
            Some(&["RPCSS".to_string(), "HTTP".to_string()][..])
        );
        let d = ValueData::decode(REG_MULTI_SZ, &utf16("a\0\0b"));
        assert_eq!(d.as_multi().unwrap(), ["a", "", "b"]);
        assert_eq!(
            ValueData::decode(REG_MULTI_SZ, &[])
                .as_multi()
                .unwrap()
                .len(),
            0
        );
        assert_eq!(
            ValueData::decode(REG_MULTI_SZ, &[0, 0])
                .as_multi()
                .unwrap()
                .len(),
            0
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(
            ValueData::decode(REG_DWORD, &[2, 0, 0, 0]).as_u32(),
            Some(2)
        );
        assert_eq!(
            ValueData::decode(REG_DWORD_BIG_ENDIAN, &[0, 0, 0, 2]).as_u32(),
            Some(2)
        );
        assert_eq!(
            ValueData::decode(REG_QWORD, &[1, 0, 0, 0, 0, 0, 0, 1]).as_u64(),
            Some(0x0100_0000_0000_0001)
        );
        let short = ValueData::decode(REG_DWORD, &[1, 2]);
        assert_eq!(
            short,
            ValueData::Other {
                type_id: REG_DWORD,
                data: vec![1, 2]
            }
        );
        assert_eq!(short.as_u32(), None);
        assert_eq!(
            ValueData::decode(REG_BINARY, &[1, 0, 0, 0]).as_u32_lenient(),
            Some(1)
        );
        assert_eq!(
            ValueData::decode(REG_BINARY, &[1, 0, 0]).as_u32_lenient(),
            None
        );
    }

    #[test]
    fn other_types() {
        assert_eq!(ValueData::decode(REG_NONE, &[]), ValueData::None);
        let d = ValueData::decode(REG_NONE, &[1]);
        assert_eq!(d.type_id(), REG_NONE);
        assert_eq!(d.as_bytes(), Some(&[1u8][..]));
        let d = ValueData::decode(0xffff_0012, &[1, 2]);
        assert_eq!(d.type_name(), "type 0xffff0012");
        assert_eq!(ValueData::decode(REG_LINK, &[]).type_name(), "REG_LINK");
        let json = serde_json::to_string(&ValueData::Dword(3)).unwrap();
        assert_eq!(json, r#"{"type":"dword","data":3}"#);
    }
}
