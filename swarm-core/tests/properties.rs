//! Properties of the pool and the layout over arbitrary configs and spawn/kill sequences.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use swarm_core::{
    AgentId, BufferKind, DeviceLimits, Layout, PoolError, RegionKind, SlotPool, SwarmConfig,
};

/// Every property runs at least this many cases, in CI too.
const CASES: u32 = 1_000;

#[derive(Clone, Debug)]
enum Op {
    Spawn,
    /// Kill the live agent at this position (modulo the live count).
    Kill(usize),
    /// Use an id that was killed earlier (modulo the number of dead ids).
    UseStale(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Spawn),
        2 => any::<usize>().prop_map(Op::Kill),
        1 => any::<usize>().prop_map(Op::UseStale),
    ]
}

fn config() -> impl Strategy<Value = SwarmConfig> {
    (
        1_u32..300,
        0_u32..4,
        16_u32..600,
        1_u32..64,
        (0_u32..300).prop_map(|w| w * 4),
        0_u32..40,
        0_u32..100,
        1_u32..20,
        0_u32..7,
        0_u32..6,
    )
        .prop_map(
            |(max_agents, pages, stack, frames, output, globals, table, results, tile, granule)| {
                SwarmConfig {
                    max_agents,
                    max_memory_pages: pages,
                    value_stack_slots: stack,
                    call_frames: frames,
                    output_bytes: output,
                    max_globals: globals,
                    max_table_elements: table,
                    max_results: results,
                    tile_agents: 1 << tile,
                    memory_granule_bytes: 4 << granule,
                    ..SwarmConfig::default()
                }
            },
        )
}

/// A device whose bindings hold between one agent's largest buffer stride and many agents.
fn limits_for(config: &SwarmConfig, binding_agents: u64, slack: u64) -> DeviceLimits {
    // Any size of pool: the device's memory is not what these properties are about.
    let h100 = DeviceLimits {
        device_memory: None,
        ..DeviceLimits::H100
    };
    let wide = Layout::new(config, &h100).expect("fits an H100's bindings");
    let largest = BufferKind::ALL
        .iter()
        .map(|kind| wide.agent_bytes(*kind))
        .max()
        .unwrap();
    DeviceLimits {
        max_storage_buffer_binding_size: largest * binding_agents + slack,
        ..h100
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn spawn_and_kill_keep_ids_unique_slots_disjoint_and_capacity_exact(
        config in config(),
        binding_agents in 1_u64..50,
        slack in 0_u64..4_096,
        ops in prop::collection::vec(op(), 0..400),
    ) {
        let limits = limits_for(&config, binding_agents, slack);
        let layout = Layout::new(&config, &limits).unwrap();
        let mut pool = SlotPool::new(config.max_agents);
        let mut live: Vec<AgentId> = Vec::new();
        let mut dead: Vec<AgentId> = Vec::new();
        let mut ever: HashSet<AgentId> = HashSet::new();
        let mut freed_slots: HashSet<u32> = HashSet::new();

        for op in ops {
            match op {
                Op::Spawn => match pool.spawn() {
                    Ok(id) => {
                        prop_assert!(live.len() < config.max_agents as usize);
                        prop_assert!(ever.insert(id), "id {id} handed out twice");
                        prop_assert!(id.slot() < config.max_agents);
                        // Freed slots are reused before fresh ones.
                        if !freed_slots.is_empty() {
                            prop_assert!(freed_slots.remove(&id.slot()), "fresh slot taken while {freed_slots:?} were free");
                        }
                        live.push(id);
                    }
                    Err(err) => {
                        prop_assert_eq!(err, PoolError::Full { capacity: config.max_agents });
                        prop_assert_eq!(live.len(), config.max_agents as usize);
                    }
                },
                Op::Kill(i) if !live.is_empty() => {
                    let id = live.swap_remove(i % live.len());
                    prop_assert_eq!(pool.kill(id), Ok(id.slot()));
                    freed_slots.insert(id.slot());
                    dead.push(id);
                }
                Op::UseStale(i) if !dead.is_empty() => {
                    let id = dead[i % dead.len()];
                    prop_assert_eq!(pool.slot(id), Err(PoolError::Stale { id }));
                    prop_assert_eq!(pool.kill(id), Err(PoolError::Stale { id }));
                }
                Op::Kill(_) | Op::UseStale(_) => {}
            }
            prop_assert_eq!(pool.len() as usize, live.len());
        }

        let mut listed: Vec<AgentId> = pool.live().collect();
        listed.sort();
        live.sort();
        prop_assert_eq!(&listed, &live);

        // Live agents' regions never overlap and stay inside their chunk's buffers.
        let mut claimed: HashMap<(u32, BufferKind), Vec<std::ops::Range<u64>>> = HashMap::new();
        for id in &live {
            // The interleaved value stack: its first and last words.
            let location = layout.locate(id.slot());
            let words = (config.value_stack_slots * 2).max(1);
            for word in [0, words - 1] {
                let at = layout.stack_word(location.local, word);
                let chunk = layout.chunk(location.chunk);
                prop_assert!(at + 4 <= layout.buffer_size(chunk, BufferKind::State));
                claimed.entry((location.chunk, BufferKind::State)).or_default().push(at..at + 4);
            }
            // Interleaved memory: its first and last bytes.
            let memory = u64::from(config.max_memory_pages) * 65_536;
            if memory > 0 {
                for addr in [0, memory - 1] {
                    let at = layout.memory_byte(location.local, addr);
                    let chunk = layout.chunk(location.chunk);
                    prop_assert!(at < layout.buffer_size(chunk, BufferKind::Memory));
                    prop_assert!(layout.buffer_size(chunk, BufferKind::Memory) <= limits.max_bound_buffer());
                    claimed.entry((location.chunk, BufferKind::Memory)).or_default().push(at..at + 1);
                }
            }
            for kind in RegionKind::ALL
                .into_iter()
                .filter(|k| !matches!(k, RegionKind::ValueStack | RegionKind::LinearMemory))
            {
                let (location, range) = layout.slot_range(id.slot(), kind);
                let chunk = layout.chunk(location.chunk);
                prop_assert!(range.end <= layout.buffer_size(chunk, kind.buffer()));
                prop_assert!(layout.buffer_size(chunk, kind.buffer()) <= limits.max_bound_buffer().max(16));
                if !range.is_empty() {
                    claimed.entry((location.chunk, kind.buffer())).or_default().push(range);
                }
            }
        }
        for ranges in claimed.values_mut() {
            ranges.sort_by_key(|r| r.start);
            for pair in ranges.windows(2) {
                prop_assert!(pair[0].end <= pair[1].start, "{:?} overlaps {:?}", pair[0], pair[1]);
            }
        }

        // A full pool still refuses exactly one more, and a kill makes room again.
        while pool.spawn().is_ok() {}
        prop_assert_eq!(pool.len(), config.max_agents);
        let victim = pool.live().next().unwrap();
        pool.kill(victim).unwrap();
        let tenant = pool.spawn().unwrap();
        prop_assert_eq!(tenant.slot(), victim.slot());
        prop_assert_ne!(tenant, victim);
    }

    #[test]
    fn chunks_cover_every_slot_exactly_once(
        config in config(),
        binding_agents in 1_u64..70,
        slack in 0_u64..100_000,
    ) {
        let limits = limits_for(&config, binding_agents, slack);
        let layout = Layout::new(&config, &limits).unwrap();
        let mut next = 0_u32;
        for chunk in layout.chunks() {
            prop_assert_eq!(chunk.first_slot, next);
            prop_assert!(chunk.agents >= 1);
            prop_assert!(chunk.agents <= layout.agents_per_chunk());
            for kind in BufferKind::ALL {
                prop_assert!(layout.buffer_size(chunk, kind) <= limits.max_bound_buffer().max(16));
            }
            for local in 0..chunk.agents {
                let location = layout.locate(chunk.first_slot + local);
                prop_assert_eq!(location.chunk, chunk.index);
                prop_assert_eq!(location.local, local);
            }
            next += chunk.agents;
        }
        prop_assert_eq!(next, config.max_agents);
    }
}
