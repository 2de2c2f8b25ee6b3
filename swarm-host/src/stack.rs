//! Host access to the agents' value stacks, which the GPU keeps interleaved by agent (word `w`
//! of every agent of a chunk side by side): windows of whole rows, read in one readback,
//! patched, and written back a row at a time.

use std::collections::BTreeMap;
use std::ops::Range;

use swarm_core::Layout;

/// A rectangle of one chunk's value stacks: words `words` of local agents `locals`.
#[derive(Debug)]
pub(crate) struct StackWindow {
    /// The chunk.
    pub(crate) chunk: usize,
    locals: Range<u32>,
    words: Range<u32>,
    /// Row-major: `words.len()` rows of `locals.len()` words.
    data: Vec<u32>,
    dirty: Vec<bool>,
}

impl StackWindow {
    /// One window per chunk, covering every `(slot, slots)` span of 64-bit stack slots.
    pub(crate) fn covering(
        layout: &Layout,
        spans: impl IntoIterator<Item = (u32, Range<u32>)>,
    ) -> Vec<Self> {
        let mut bounds: BTreeMap<usize, (Range<u32>, Range<u32>)> = BTreeMap::new();
        for (slot, slots) in spans {
            if slots.is_empty() {
                continue;
            }
            let location = layout.locate(slot);
            let words = 2 * slots.start..2 * slots.end;
            let local = location.local..location.local + 1;
            bounds
                .entry(location.chunk as usize)
                .and_modify(|(l, w)| {
                    *l = l.start.min(local.start)..l.end.max(local.end);
                    *w = w.start.min(words.start)..w.end.max(words.end);
                })
                .or_insert((local, words));
        }
        bounds
            .into_iter()
            .map(|(chunk, (locals, words))| Self {
                chunk,
                data: vec![0; locals.len() * words.len()],
                dirty: vec![false; words.len()],
                locals,
                words,
            })
            .collect()
    }

    /// Byte ranges of the window's rows in its chunk's state buffer, in row order.
    pub(crate) fn rows(&self, layout: &Layout) -> Vec<Range<u64>> {
        self.words
            .clone()
            .map(|word| {
                let start = layout.stack_word(self.locals.start, word);
                start..start + 4 * self.locals.len() as u64
            })
            .collect()
    }

    /// Takes the bytes of the rows [`rows`](Self::rows) named, in the same order.
    pub(crate) fn fill<'a>(&mut self, rows: impl IntoIterator<Item = &'a [u8]>) {
        let width = self.locals.len();
        for (row, bytes) in self.data.chunks_mut(width).zip(rows) {
            for (word, b) in row.iter_mut().zip(bytes.chunks_exact(4)) {
                *word = u32::from_le_bytes(b.try_into().expect("4 bytes"));
            }
        }
    }

    fn index(&self, local: u32, word: u32) -> usize {
        debug_assert!(self.locals.contains(&local) && self.words.contains(&word));
        (word - self.words.start) as usize * self.locals.len()
            + (local - self.locals.start) as usize
    }

    /// 64-bit stack slot `slot` of local agent `local`.
    pub(crate) fn get(&self, local: u32, slot: u32) -> u64 {
        let lo = self.data[self.index(local, 2 * slot)];
        let hi = self.data[self.index(local, 2 * slot + 1)];
        u64::from(lo) | (u64::from(hi) << 32)
    }

    /// Sets 64-bit stack slot `slot` of local agent `local`.
    pub(crate) fn set(&mut self, local: u32, slot: u32, value: u64) {
        for (word, half) in [
            (2 * slot, value as u32),
            (2 * slot + 1, (value >> 32) as u32),
        ] {
            let at = self.index(local, word);
            self.data[at] = half;
            self.dirty[(word - self.words.start) as usize] = true;
        }
    }

    /// The rows changed by [`set`](Self::set): byte offset in the state buffer and contents.
    pub(crate) fn changed_rows<'a>(
        &'a self,
        layout: &'a Layout,
    ) -> impl Iterator<Item = (u64, &'a [u8])> + 'a {
        let width = self.locals.len();
        self.words
            .clone()
            .zip(self.data.chunks(width))
            .zip(&self.dirty)
            .filter(|(_, dirty)| **dirty)
            .map(move |((word, row), _)| {
                (
                    layout.stack_word(self.locals.start, word),
                    bytemuck::cast_slice(row),
                )
            })
    }
}
