//! Host access to the agents' value stacks, which the GPU keeps interleaved by tiles of agents
//! (`Layout::stack_word`): windows of whole tiles, read in one readback, patched, and written
//! back a tile at a time.

use std::collections::BTreeMap;
use std::ops::Range;

use swarm_core::Layout;

/// Stack words `words` of the agents of tiles `tiles` of one chunk.
#[derive(Debug)]
pub(crate) struct StackWindow {
    /// The chunk.
    pub(crate) chunk: usize,
    tile: u32,
    tiles: Range<u32>,
    words: Range<u32>,
    /// Tile-major, as on the GPU: per tile, `words.len()` rows of `tile` words.
    data: Vec<u32>,
    dirty: Vec<bool>,
}

impl StackWindow {
    /// One window per chunk, covering every `(slot, slots)` span of 64-bit stack slots.
    pub(crate) fn covering(
        layout: &Layout,
        spans: impl IntoIterator<Item = (u32, Range<u32>)>,
    ) -> Vec<Self> {
        let tile = layout.tile();
        let mut bounds: BTreeMap<usize, (Range<u32>, Range<u32>)> = BTreeMap::new();
        for (slot, slots) in spans {
            if slots.is_empty() {
                continue;
            }
            let location = layout.locate(slot);
            let words = 2 * slots.start..2 * slots.end;
            let tiles = location.local / tile..location.local / tile + 1;
            bounds
                .entry(location.chunk as usize)
                .and_modify(|(t, w)| {
                    *t = t.start.min(tiles.start)..t.end.max(tiles.end);
                    *w = w.start.min(words.start)..w.end.max(words.end);
                })
                .or_insert((tiles, words));
        }
        bounds
            .into_iter()
            .map(|(chunk, (tiles, words))| Self {
                chunk,
                tile,
                data: vec![0; tiles.len() * words.len() * tile as usize],
                dirty: vec![false; tiles.len()],
                tiles,
                words,
            })
            .collect()
    }

    /// Byte ranges of the window's tiles in its chunk's state buffer, in tile order.
    pub(crate) fn ranges(&self, layout: &Layout) -> Vec<Range<u64>> {
        self.tiles
            .clone()
            .map(|t| layout.stack_tile_words(t, self.words.clone()))
            .collect()
    }

    fn tile_words(&self) -> usize {
        self.words.len() * self.tile as usize
    }

    /// Takes the bytes of the ranges [`ranges`](Self::ranges) named, in the same order.
    pub(crate) fn fill<'a>(&mut self, ranges: impl IntoIterator<Item = &'a [u8]>) {
        let size = self.tile_words();
        for (tile, bytes) in self.data.chunks_mut(size).zip(ranges) {
            for (word, b) in tile.iter_mut().zip(bytes.chunks_exact(4)) {
                *word = u32::from_le_bytes(b.try_into().expect("4 bytes"));
            }
        }
    }

    /// Where word `word` of local agent `local` is in `data`, and its tile's index.
    fn index(&self, local: u32, word: u32) -> (usize, usize) {
        let tile = (local / self.tile - self.tiles.start) as usize;
        debug_assert!(tile < self.tiles.len() && self.words.contains(&word));
        let at = tile * self.tile_words()
            + (word - self.words.start) as usize * self.tile as usize
            + (local % self.tile) as usize;
        (at, tile)
    }

    /// 64-bit stack slot `slot` of local agent `local`.
    pub(crate) fn get(&self, local: u32, slot: u32) -> u64 {
        let lo = self.data[self.index(local, 2 * slot).0];
        let hi = self.data[self.index(local, 2 * slot + 1).0];
        u64::from(lo) | (u64::from(hi) << 32)
    }

    /// Sets 64-bit stack slot `slot` of local agent `local`.
    pub(crate) fn set(&mut self, local: u32, slot: u32, value: u64) {
        for (word, half) in [
            (2 * slot, value as u32),
            (2 * slot + 1, (value >> 32) as u32),
        ] {
            let (at, tile) = self.index(local, word);
            self.data[at] = half;
            self.dirty[tile] = true;
        }
    }

    /// The tiles changed by [`set`](Self::set): byte offset in the state buffer and contents.
    pub(crate) fn changed<'a>(
        &'a self,
        layout: &'a Layout,
    ) -> impl Iterator<Item = (u64, &'a [u8])> + 'a {
        self.tiles
            .clone()
            .zip(self.data.chunks(self.tile_words()))
            .zip(&self.dirty)
            .filter(|(_, dirty)| **dirty)
            .map(move |((t, words), _)| {
                (
                    layout.stack_tile_words(t, self.words.clone()).start,
                    bytemuck::cast_slice(words),
                )
            })
    }
}
