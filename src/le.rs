//! Bounds-checked little-endian reads at any (unaligned) offset.

#[inline]
pub(crate) fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    let s = b.get(off..off.checked_add(2)?)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

#[inline]
pub(crate) fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

#[inline]
pub(crate) fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    let s = b.get(off..off.checked_add(8)?)?;
    Some(u64::from_le_bytes(s.try_into().ok()?))
}

/// The fields of a structure the caller has already length-checked (a
/// sector, a table entry): a short slice reads as zero instead of panicking,
/// so a missed check costs a wrong field, never the process.
#[inline]
pub(crate) fn le16(b: &[u8], off: usize) -> u16 {
    u16_at(b, off).unwrap_or(0)
}

#[inline]
pub(crate) fn le32(b: &[u8], off: usize) -> u32 {
    u32_at(b, off).unwrap_or(0)
}

#[inline]
pub(crate) fn le64(b: &[u8], off: usize) -> u64 {
    u64_at(b, off).unwrap_or(0)
}

/// Rounds up to the next multiple of 4 (`None` on overflow).
#[inline]
pub(crate) fn align4(x: usize) -> Option<usize> {
    Some(x.checked_add(3)? & !3)
}
