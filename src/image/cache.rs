//! A bounded cache of decoded blocks in front of a `Disk` whose reads are
//! costly for a reason other than I/O: a compressed qcow2 cluster or a
//! stream-optimized VMDK grain is inflated whole for every read that touches
//! it, so the census's many small reads (an MZ probe, a header, a resource
//! directory) inflated the same cluster again and again (41 s of CPU for a
//! 100,000-file volume that reads in 0.4 s raw, benches/RESULTS.md).
//!
//! Blocks are read aligned and whole, kept in 16 shards (a lock per shard,
//! held for a map lookup or an insert, never during a read) and evicted first
//! in, first out. Memory is bounded by `MAX_BYTES` whatever the image says.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use super::Disk;

/// Decoded bytes kept at most, over all shards.
const MAX_BYTES: u64 = 64 << 20;
const SHARDS: usize = 16;

#[derive(Default)]
struct Shard {
    blocks: HashMap<u64, Arc<[u8]>>,
    order: VecDeque<u64>,
}

pub(crate) struct BlockCache<D> {
    inner: D,
    block: u64,
    per_shard: usize,
    shards: Vec<Mutex<Shard>>,
}

impl<D: Disk> BlockCache<D> {
    /// `block` is the unit the inner disk decodes (a cluster or grain), a
    /// power of two of at most 2 MiB (qcow2's largest cluster).
    pub(crate) fn new(inner: D, block: u64) -> Self {
        let block = block.clamp(512, 2 << 20).next_power_of_two();
        let per_shard = ((MAX_BYTES / block) as usize / SHARDS).max(1);
        BlockCache {
            inner,
            block,
            per_shard,
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    fn shard(&self, index: u64) -> &Mutex<Shard> {
        &self.shards[(index as usize) % SHARDS]
    }

    /// Block `index`, from the cache or decoded now.
    fn get(&self, index: u64) -> std::io::Result<Arc<[u8]>> {
        let shard = self.shard(index);
        if let Some(b) = shard
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .blocks
            .get(&index)
        {
            return Ok(Arc::clone(b));
        }
        let start = index * self.block;
        let len = self.block.min(self.inner.size() - start) as usize;
        let mut data = vec![0u8; len];
        self.inner.read_exact_at(start, &mut data)?;
        let data: Arc<[u8]> = data.into();
        let mut s = shard.lock().unwrap_or_else(PoisonError::into_inner);
        if !s.blocks.contains_key(&index) {
            while s.order.len() >= self.per_shard {
                if let Some(old) = s.order.pop_front() {
                    s.blocks.remove(&old);
                }
            }
            s.order.push_back(index);
            s.blocks.insert(index, Arc::clone(&data));
        }
        Ok(data)
    }
}

impl<D: Disk> Disk for BlockCache<D> {
    fn size(&self) -> u64 {
        self.inner.size()
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        // Out-of-range reads get the inner disk's own error.
        let end = offset.checked_add(buf.len() as u64);
        if end.is_none_or(|e| e > self.inner.size()) {
            return self.inner.read_exact_at(offset, buf);
        }
        let mut done = 0usize;
        while done < buf.len() {
            let at = offset + done as u64;
            let within = (at % self.block) as usize;
            let data = self.get(at / self.block)?;
            let n = (data.len() - within).min(buf.len() - done);
            buf[done..done + n].copy_from_slice(&data[within..within + n]);
            done += n;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A disk of `len` bytes (byte i is i % 251) that counts its reads.
    struct Counting {
        len: u64,
        reads: AtomicUsize,
    }

    impl Disk for Counting {
        fn size(&self) -> u64 {
            self.len
        }
        fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
            if offset + buf.len() as u64 > self.len {
                return Err(std::io::Error::other("past the end"));
            }
            self.reads.fetch_add(1, Ordering::Relaxed);
            for (i, b) in buf.iter_mut().enumerate() {
                *b = ((offset + i as u64) % 251) as u8;
            }
            Ok(())
        }
    }

    #[test]
    fn reads_the_same_bytes_and_decodes_each_block_once() {
        let len = 10 * 65_536 + 1000;
        let c = BlockCache::new(
            Counting {
                len,
                reads: AtomicUsize::new(0),
            },
            65_536,
        );
        for (off, n) in [(0u64, 512usize), (100, 200), (65_000, 2000), (len - 10, 10)] {
            let mut buf = vec![0u8; n];
            c.read_exact_at(off, &mut buf).unwrap();
            let want: Vec<u8> = (0..n).map(|i| ((off + i as u64) % 251) as u8).collect();
            assert_eq!(buf, want, "at {off}");
        }
        // Blocks 0, 1 and 10 (the short last one).
        assert_eq!(c.inner.reads.load(Ordering::Relaxed), 3);
        let mut buf = vec![0u8; 20];
        assert!(c.read_exact_at(len - 10, &mut buf).is_err());
    }

    #[test]
    fn memory_stays_bounded() {
        let block = 1u64 << 20;
        let c = BlockCache::new(
            Counting {
                len: 200 * block,
                reads: AtomicUsize::new(0),
            },
            block,
        );
        let mut buf = [0u8; 1];
        for i in 0..200 {
            c.read_exact_at(i * block, &mut buf).unwrap();
        }
        let kept: usize = c
            .shards
            .iter()
            .map(|s| s.lock().unwrap().blocks.len())
            .sum();
        assert!(kept as u64 * block <= MAX_BYTES, "{kept} blocks kept");
    }
}
