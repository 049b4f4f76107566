//! Which `ControlSetNNN` a SYSTEM hive boots from (`CurrentControlSet` exists
//! only in a live registry). Microsoft's offline procedure (Q317189) reads
//! `Select\Current`; `Select` also holds `Default`, `LastKnownGood` and
//! `Failed` (Q102984).

use super::hive::Hive;
use super::value::ValueData;
use super::RegistryError;

/// The four `Select` values as read (lenient about their type); `None` when
/// absent or not a number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelectValues {
    pub current: Option<u32>,
    pub default: Option<u32>,
    pub last_known_good: Option<u32>,
    pub failed: Option<u32>,
}

/// The control set a SYSTEM hive boots from, and how we chose it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlSet {
    /// `ControlSet001` etc., as stored in the hive.
    pub name: String,
    pub number: u32,
    /// Which `Select` value chose it: `Current`, `Default` or `LastKnownGood`.
    pub source: String,
    /// Everything `Select` says, for callers that compare sets (e.g. a service
    /// that failed and made Windows fall back to LastKnownGood).
    pub select: SelectValues,
    /// Why earlier candidates were passed over, and odd value types met.
    pub warnings: Vec<String>,
}

fn read_number(data: Option<&ValueData>, name: &str, warnings: &mut Vec<String>) -> Option<u32> {
    let data = data?;
    let n = data.as_u32_lenient();
    match (data, n) {
        (ValueData::Dword(_), _) => {}
        (_, Some(n)) => warnings.push(format!(
            "Select\\{name} is {} rather than REG_DWORD; read as {n}",
            data.type_name()
        )),
        (_, None) => warnings.push(format!(
            "Select\\{name} is {} and not a number; ignored",
            data.type_name()
        )),
    }
    n
}

/// Resolves `CurrentControlSet`: `Select\Current`, falling back to `Default`
/// then `LastKnownGood` when a value is missing, zero, not a number, or names
/// a `ControlSetNNN` key that does not exist. Errors when none works or the
/// hive has no `Select` key (not a SYSTEM hive).
pub fn resolve_control_set(system: &Hive) -> Result<ControlSet, RegistryError> {
    let fail = |what: String| RegistryError::NoControlSet {
        hive: system.name().to_string(),
        what,
    };
    let select = system
        .key("Select")?
        .ok_or_else(|| fail("no Select key (is this a SYSTEM hive?)".into()))?;
    let mut warnings = Vec::new();
    let values = SelectValues {
        current: read_number(select.data("Current"), "Current", &mut warnings),
        default: read_number(select.data("Default"), "Default", &mut warnings),
        last_known_good: read_number(select.data("LastKnownGood"), "LastKnownGood", &mut warnings),
        failed: read_number(select.data("Failed"), "Failed", &mut warnings),
    };
    for (source, n) in [
        ("Current", values.current),
        ("Default", values.default),
        ("LastKnownGood", values.last_known_good),
    ] {
        match n {
            None => warnings.push(format!("Select\\{source} is missing or unusable")),
            Some(0) => warnings.push(format!("Select\\{source} is 0")),
            Some(n) => {
                let wanted = format!("ControlSet{n:03}");
                match system.key(&wanted)? {
                    Some(k) => {
                        return Ok(ControlSet {
                            name: k.path,
                            number: n,
                            source: source.to_string(),
                            select: values,
                            warnings,
                        })
                    }
                    None => warnings.push(format!(
                        "Select\\{source} is {n} but there is no {wanted} key"
                    )),
                }
            }
        }
    }
    Err(fail(warnings.join("; ")))
}
