//! NTFS compression: a compressed `$DATA` stream is cut into compression units
//! of 16 clusters. A unit whose clusters are all allocated is stored as is; a
//! unit with some allocated clusters holds LZNT1 data in them (the rest are a
//! sparse tail); a unit with none is zeros.

/// A piece of a non-resident stream: `clusters` clusters starting at byte
/// `position` of the volume, or sparse when `position` is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub position: Option<u64>,
    pub clusters: u64,
}

/// Reads `buf.len()` bytes at a volume byte position.
pub type ReadAt<'a> = dyn FnMut(u64, &mut [u8]) -> Result<(), String> + 'a;

/// Bytes of LZNT1 output per chunk: each chunk of a stream expands to at most
/// this much, and every chunk but the last expands to exactly this much.
const CHUNK: usize = super::lznt1::CHUNK;

/// Decodes `len` bytes of a compressed stream.
///
/// `read(position, buf)` fills `buf` from the volume. `unit_clusters` is the
/// compression unit (16 on every NTFS that Windows writes).
pub fn decode(
    runs: &[Run],
    cluster_size: u64,
    unit_clusters: u64,
    len: u64,
    read: &mut ReadAt<'_>,
) -> Result<Vec<u8>, String> {
    let unit_bytes = unit_clusters
        .checked_mul(cluster_size)
        .filter(|&b| b > 0 && b <= 1 << 20)
        .ok_or_else(|| format!("compression unit of {unit_clusters} clusters is not supported"))?;
    let total_clusters: u64 = runs
        .iter()
        .try_fold(0u64, |a, r| a.checked_add(r.clusters))
        .ok_or("run lengths overflow")?;
    if len.div_ceil(cluster_size) > total_clusters {
        return Err(format!(
            "data runs cover {total_clusters} clusters, fewer than the {len}-byte stream needs"
        ));
    }
    let mut out = Vec::with_capacity(len as usize);
    let mut pieces = Pieces::new(runs, cluster_size);
    let mut stored = Vec::with_capacity(unit_bytes as usize);
    while (out.len() as u64) < len {
        // Gather the allocated clusters of this unit, in order.
        stored.clear();
        let mut allocated = 0;
        for (position, clusters) in pieces.take(unit_clusters) {
            if let Some(p) = position {
                let start = stored.len();
                let n = (clusters * cluster_size) as usize;
                stored.resize(start + n, 0);
                read(p, &mut stored[start..])?;
                allocated += clusters;
            }
        }
        let want = (len - out.len() as u64).min(unit_bytes) as usize;
        let before = out.len();
        if allocated == unit_clusters {
            out.extend_from_slice(&stored[..want.min(stored.len())]);
        } else if allocated > 0 {
            // Decoded in place into the output's zeroed room for the whole
            // unit, then cut to what the stream still needs.
            let max_chunks = unit_bytes as usize / CHUNK;
            let input = &stored[..chunks_prefix(&stored, max_chunks.max(1))];
            out.resize(before + unit_bytes as usize, 0);
            super::lznt1::decode_unit(input, &mut out[before..]).map_err(|e| {
                format!(
                    "LZNT1 data at cluster offset {} is corrupt: {e}",
                    before as u64 / cluster_size
                )
            })?;
            out.truncate(before + want);
        }
        // Short units (sparse tails, short LZNT1 output) are zeros.
        out.resize(before + want, 0);
    }
    Ok(out)
}

/// Length of the prefix of an LZNT1 stream holding at most `max` chunks, so a
/// hostile unit cannot expand beyond one unit's worth of output.
fn chunks_prefix(data: &[u8], max: usize) -> usize {
    let mut pos = 0;
    for _ in 0..max {
        let Some(h) = data.get(pos..pos + 2) else {
            break;
        };
        let header = u16::from_le_bytes([h[0], h[1]]);
        if header == 0 {
            break;
        }
        let next = pos + 2 + (header & 0x0FFF) as usize + 1;
        if next > data.len() {
            break;
        }
        pos = next;
    }
    pos
}

/// Walks runs cluster-range by cluster-range.
struct Pieces<'a> {
    runs: &'a [Run],
    cluster_size: u64,
    index: usize,
    used: u64,
}

impl<'a> Pieces<'a> {
    fn new(runs: &'a [Run], cluster_size: u64) -> Self {
        Pieces {
            runs,
            cluster_size,
            index: 0,
            used: 0,
        }
    }

    /// The next `clusters` clusters as (byte position or sparse, cluster count) pieces.
    fn take(&mut self, mut clusters: u64) -> Vec<(Option<u64>, u64)> {
        let mut out = Vec::new();
        while clusters > 0 {
            let Some(run) = self.runs.get(self.index) else {
                break;
            };
            let n = (run.clusters - self.used).min(clusters);
            out.push((run.position.map(|p| p + self.used * self.cluster_size), n));
            self.used += n;
            clusters -= n;
            if self.used == run.clusters {
                self.index += 1;
                self.used = 0;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn volume_reader(vol: &[u8]) -> impl FnMut(u64, &mut [u8]) -> Result<(), String> + '_ {
        |pos, buf| {
            let s = vol
                .get(pos as usize..pos as usize + buf.len())
                .ok_or("past end")?;
            buf.copy_from_slice(s);
            Ok(())
        }
    }

    #[test]
    fn decodes_compressed_stored_and_sparse_units() {
        // Cluster 512, unit of 4 clusters (2 KiB) to keep the test small.
        let cs = 512u64;
        let text: Vec<u8> = b"IIS4 w3svc.dll "
            .iter()
            .copied()
            .cycle()
            .take(2048)
            .collect();
        let mut packed = Vec::new();
        lznt1::compress(&text, &mut packed);
        assert!(
            packed.len() <= 1024,
            "test data must compress to two clusters"
        );
        let mut vol = vec![0u8; 16 * 512];
        vol[512..512 + packed.len()].copy_from_slice(&packed);
        // Unit 2: stored uncompressed at clusters 4..8.
        for (i, b) in vol[2048..4096].iter_mut().enumerate() {
            *b = i as u8;
        }
        let runs = [
            Run {
                position: Some(512),
                clusters: 2,
            },
            Run {
                position: None,
                clusters: 2,
            },
            Run {
                position: Some(2048),
                clusters: 4,
            },
            Run {
                position: None,
                clusters: 4,
            },
        ];
        let len = 2048 * 3 - 100;
        let out = decode(&runs, cs, 4, len, &mut volume_reader(&vol)).unwrap();
        assert_eq!(out.len() as u64, len);
        assert_eq!(&out[..2048], &text[..]);
        assert_eq!(&out[2048..4096], &vol[2048..4096]);
        assert!(out[4096..].iter().all(|&b| b == 0));
    }

    #[test]
    fn short_runs_and_garbage_are_errors_not_panics() {
        let vol = vec![0xB5u8; 8192];
        let runs = [
            Run {
                position: Some(0),
                clusters: 1,
            },
            Run {
                position: None,
                clusters: 3,
            },
        ];
        assert!(decode(&runs, 512, 4, 4096, &mut volume_reader(&vol)).is_err());
        let _ = decode(&runs, 512, 4, 2048, &mut volume_reader(&vol));
        assert!(decode(&runs, 512, 0, 2048, &mut volume_reader(&vol)).is_err());
    }
}
