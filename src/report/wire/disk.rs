//! How a disk is laid out: partitions and the partition table they came
//! from, as `diagnose` (`volumes[].partition`) and `info` (`volumes`) write
//! them.

use serde::Serialize;

/// `volumes[].partition` of `diagnose`, `volumes.partitions[]` of `info`.
#[derive(Serialize)]
pub(super) struct Partition<'a> {
    pub(super) index: u32,
    /// `none`, `mbr` or `gpt`.
    pub(super) scheme: &'static str,
    pub(super) offset: u64,
    pub(super) size: u64,
    pub(super) type_id: &'a str,
    pub(super) name: Option<&'a str>,
    /// `ntfs`, `fat`, `exfat`, `unknown`, or null.
    pub(super) filesystem: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) note: Option<&'a str>,
}

/// The [`Partition`] of a model partition, read through its fields: a macro
/// because a function would have to name the volume layer's type, which
/// `report/` does not. Used by `diagnose` and `info` alike.
macro_rules! partition {
    ($p:expr) => {{
        let p = $p;
        $crate::report::wire::disk::Partition {
            index: p.index,
            scheme: p.scheme.id(),
            offset: p.offset,
            size: p.size,
            type_id: &p.type_id,
            name: p.name.as_deref(),
            filesystem: p.filesystem.map(|f| f.id()),
            note: p.note.as_deref(),
        }
    }};
}
pub(super) use partition;

/// `volumes` of `info`: the table that was used and what it holds.
#[derive(Serialize)]
pub(super) struct VolumeMap<'a> {
    pub(super) scheme: &'static str,
    pub(super) sector_size: u32,
    pub(super) partitions: Vec<Partition<'a>>,
    pub(super) notes: &'a [String],
}
