//! `ChunkRun`: which chunks a dispatch runs, with how many invocations, which agents (all up to
//! the pool's high-water mark, or a chosen list) and which status records it reads back.
//! Computed from the layout alone, so it is tested without a GPU.

use std::ops::Range;

use crate::Layout;

/// One chunk's part of a dispatch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkRun {
    /// The chunk.
    pub chunk: u32,
    /// Invocations: local indices `0..invocations`, or the length of `list`.
    pub invocations: u32,
    /// The chosen agents' local indices, in order, when the dispatch runs a selection: the
    /// work list invocation `i` reads its agent from.
    pub list: Option<Vec<u32>>,
    /// The local indices whose status records are read back afterwards (one contiguous range).
    pub readback: Range<u32>,
}

/// The runs of a dispatch over every slot below `high_water` (one past the highest live
/// slot), in the first `chunks` chunks (those allocated).
pub fn plan_all(layout: &Layout, chunks: u32, high_water: u32) -> Vec<ChunkRun> {
    (0..chunks.min(layout.chunk_count()))
        .map(|index| layout.chunk(index))
        .filter_map(|chunk| {
            let used = high_water
                .saturating_sub(chunk.first_slot)
                .min(chunk.agents);
            (used > 0).then_some(ChunkRun {
                chunk: chunk.index,
                invocations: used,
                list: None,
                readback: 0..used,
            })
        })
        .collect()
}

/// The runs of a dispatch over the chosen `slots` (sorted, distinct): one per chunk they fall
/// in, each with its work list of local indices.
pub fn plan_selection(layout: &Layout, slots: &[u32]) -> Vec<ChunkRun> {
    let mut runs: Vec<ChunkRun> = Vec::new();
    for &slot in slots {
        let location = layout.locate(slot);
        match runs.last_mut() {
            Some(run) if run.chunk == location.chunk => {
                run.list.as_mut().expect("a selection").push(location.local);
                run.invocations += 1;
                run.readback.end = location.local + 1;
            }
            _ => runs.push(ChunkRun {
                chunk: location.chunk,
                invocations: 1,
                list: Some(vec![location.local]),
                readback: location.local..location.local + 1,
            }),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DeviceLimits, SwarmConfig};

    /// 1 MiB agents on lavapipe: chunks of 128 agents (four tiles of 32).
    fn layout() -> Layout {
        let config = SwarmConfig {
            max_agents: 300,
            max_memory_pages: 16,
            tile_agents: 32,
            ..SwarmConfig::default()
        };
        let layout = Layout::new(&config, &DeviceLimits::LAVAPIPE).unwrap();
        assert_eq!(layout.agents_per_chunk(), 128);
        layout
    }

    #[test]
    fn a_full_dispatch_runs_every_allocated_chunk_up_to_the_high_water_mark() {
        let layout = layout();
        let run = |chunks, high| -> Vec<(u32, u32)> {
            plan_all(&layout, chunks, high)
                .into_iter()
                .map(|r| {
                    assert_eq!(r.readback, 0..r.invocations);
                    assert!(r.list.is_none());
                    (r.chunk, r.invocations)
                })
                .collect()
        };
        assert_eq!(run(3, 0), []);
        assert_eq!(run(3, 1), [(0, 1)]);
        assert_eq!(run(3, 128), [(0, 128)]);
        assert_eq!(run(3, 129), [(0, 128), (1, 1)]);
        assert_eq!(run(3, 300), [(0, 128), (1, 128), (2, 44)]);
        // Chunks not yet allocated hold no agent and are not run.
        assert_eq!(run(1, 300), [(0, 128)]);
    }

    #[test]
    fn a_selection_runs_each_chunk_it_touches_with_its_local_list() {
        let layout = layout();
        let runs = plan_selection(&layout, &[3, 5, 127, 128, 200, 299]);
        assert_eq!(
            runs,
            [
                ChunkRun {
                    chunk: 0,
                    invocations: 3,
                    list: Some(vec![3, 5, 127]),
                    readback: 3..128,
                },
                ChunkRun {
                    chunk: 1,
                    invocations: 2,
                    list: Some(vec![0, 72]),
                    readback: 0..73,
                },
                ChunkRun {
                    chunk: 2,
                    invocations: 1,
                    list: Some(vec![43]),
                    readback: 43..44,
                },
            ]
        );
        assert_eq!(plan_selection(&layout, &[]), []);
    }
}
