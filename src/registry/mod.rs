//! Registry hives: keys, typed values and control-set resolution.
//! STUB (owned by the registry helper).

/// Errors of the registry layer; each names the hive.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{hive}: {what}")]
    Hive { hive: String, what: String },
}

/// A typed registry value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum ValueData {
    String(String),
    ExpandString(String),
    MultiString(Vec<String>),
    Dword(u32),
    Qword(u64),
    Binary(Vec<u8>),
    None,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Value {
    pub name: String,
    pub data: ValueData,
}

/// One key with its values and the names of its subkeys.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Key {
    /// Path below the hive root, as stored (e.g. `ControlSet001\Services\W3SVC`).
    pub path: String,
    /// Last-written time as RFC 3339 UTC, when the key carries one.
    pub last_written: Option<String>,
    pub values: Vec<Value>,
    pub subkeys: Vec<String>,
}

/// The control set a SYSTEM hive boots from, and how we chose it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ControlSet {
    /// `ControlSet001` etc., as stored in the hive.
    pub name: String,
    pub number: u32,
    /// Which `Select` value chose it: `Current`, `Default` or `LastKnownGood`.
    pub source: String,
}

/// An opened hive.
pub struct Hive {
    name: String,
}

impl Hive {
    pub fn from_bytes(name: &str, _bytes: Vec<u8>) -> Result<Hive, RegistryError> {
        Err(RegistryError::Hive {
            hive: name.to_string(),
            what: "not implemented".into(),
        })
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn is_dirty(&self) -> bool {
        false
    }
    pub fn key(&mut self, _path: &str) -> Result<Option<Key>, RegistryError> {
        Ok(None)
    }
}

pub fn resolve_control_set(_system: &mut Hive) -> Result<ControlSet, RegistryError> {
    Err(RegistryError::Hive {
        hive: "SYSTEM".into(),
        what: "not implemented".into(),
    })
}
