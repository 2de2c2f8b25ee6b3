//! Interleaved linear memory: for several tile widths and granules, agents that write up to
//! different extents of their memories (unaligned stores, bulk instructions, a grown page)
//! keep apart from their tile neighbours; host reads and writes see and change one agent's
//! bytes; and a slot's next tenant starts from the module's memory, whatever the last one
//! touched, whether its tile's other agents live on (the spawn wipes the slot) or died with
//! it (the kill clears the tile). Everything is checked against wasmtime.

use swarm_host::{AgentId, Imports, Outcome, Swarm, SwarmConfig, Value};

const SCRIBBLE: &str = r#"(module
  (memory (export "memory") 1 4)
  (data (i32.const 8) "swarm")
  ;; Grows a page, then writes seed-dependent words from 0 up to about $n with unaligned
  ;; stores, fills the top 300 bytes and copies 1,000 bytes across the first page's end.
  (func (export "scribble") (param $seed i32) (param $n i32) (result i64)
    (local $a i32) (local $x i32)
    (drop (memory.grow (i32.const 1)))
    (local.set $x (i32.or (local.get $seed) (i32.const 1)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $a) (local.get $n)))
        (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 13))))
        (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 17))))
        (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 5))))
        (i32.store (local.get $a) (local.get $x))
        (i64.store16 offset=5 (local.get $a) (i64.extend_i32_u (local.get $x)))
        (local.set $a (i32.add (local.get $a)
          (i32.add (i32.const 61) (i32.and (local.get $x) (i32.const 255)))))
        (br $l)))
    (memory.fill
      (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 300))
      (local.get $seed) (i32.const 300))
    (memory.copy (i32.const 65001) (i32.const 3) (i32.const 1000))
    (i64.extend_i32_u (local.get $x)))
  (func (export "size") (result i64) (i64.extend_i32_u (memory.size))))"#;

const AGENTS: u32 = 40;

fn extent(agent: u32) -> i32 {
    (agent * 12_347 % 120_000) as i32
}

/// wasmtime's instance after `scribble(seed, n)` (or a fresh one), with the call's result.
struct Reference {
    store: wasmtime::Store<()>,
    instance: wasmtime::Instance,
}

impl Reference {
    fn new(module: &wasmtime::Module) -> Self {
        let mut store = wasmtime::Store::new(module.engine(), ());
        let instance = wasmtime::Instance::new(&mut store, module, &[]).unwrap();
        Self { store, instance }
    }

    fn scribble(&mut self, seed: i32, n: i32) -> i64 {
        let f = self
            .instance
            .get_typed_func::<(i32, i32), i64>(&mut self.store, "scribble")
            .unwrap();
        f.call(&mut self.store, (seed, n)).unwrap()
    }

    fn memory(&mut self) -> &mut [u8] {
        let memory = self.instance.get_memory(&mut self.store, "memory").unwrap();
        memory.data_mut(&mut self.store)
    }
}

fn results(swarm: &mut Swarm) -> Vec<(AgentId, i64)> {
    let report = swarm.run().unwrap();
    report
        .agents
        .iter()
        .map(|agent| match agent.outcome {
            Outcome::Finished(ref values) => match values[..] {
                [Value::I64(v)] => (agent.id, v),
                ref other => panic!("{other:?}"),
            },
            ref other => panic!("agent {} ended {other:?}", agent.id),
        })
        .collect()
}

#[test]
fn interleaved_memories_stay_apart_through_host_access_kill_and_respawn() {
    let wasm = wat::parse_str(SCRIBBLE).unwrap();
    let engine = wasmtime::Engine::default();
    let module = wasmtime::Module::new(&engine, &wasm).unwrap();
    let fresh = Reference::new(&module).memory().to_vec();
    for (tile_agents, granule) in [(32, 4), (8, 64), (1, 4), (4, 4_096)] {
        let what = format!("tile {tile_agents}, granule {granule}");
        let mut swarm = Swarm::new(SwarmConfig {
            max_agents: AGENTS,
            max_memory_pages: 4,
            value_stack_slots: 64,
            call_frames: 8,
            tile_agents,
            memory_granule_bytes: granule,
            ..SwarmConfig::default()
        })
        .unwrap();
        swarm.load_module(&wasm, &Imports::new()).unwrap();
        let ids = swarm
            .spawn_many(
                "scribble",
                (0..AGENTS).map(|i| [Value::I32(i as i32 * 7 + 1), Value::I32(extent(i))]),
            )
            .unwrap();
        let mut references: Vec<Reference> = (0..AGENTS).map(|_| Reference::new(&module)).collect();
        let ran = results(&mut swarm);
        for (i, (id, result)) in ran.iter().enumerate() {
            assert_eq!(*id, ids[i]);
            let expected = references[i].scribble(i as i32 * 7 + 1, extent(i as u32));
            assert_eq!(*result, expected, "{what}: agent {i}");
        }

        // Host reads: unaligned ranges across granules and pages.
        for i in [0, 5, 31, 32, 39] {
            for (offset, len) in [(0, 100), (65_530, 20), (3, 4_099), (130_000, 1_072)] {
                let read = swarm.read_memory(ids[i], offset, len).unwrap();
                let at = offset as usize..(offset + len) as usize;
                assert_eq!(
                    read,
                    references[i].memory()[at],
                    "{what}: agent {i} at {offset}"
                );
            }
        }
        // A host write changes its agent only.
        let text = b"an unaligned write across a page boundary";
        swarm.write_memory(ids[4], 65_517, text).unwrap();
        references[4].memory()[65_517..65_517 + text.len()].copy_from_slice(text);

        // Odd agents die; their slots' next tenants start from the module's memory.
        let odd: Vec<AgentId> = ids.iter().skip(1).step_by(2).copied().collect();
        swarm.kill_many(&odd).unwrap();
        let tenants = swarm
            .spawn_many("size", (0..odd.len()).map(|_| []))
            .unwrap();
        for (tenant, old) in tenants.iter().zip(&odd) {
            assert_eq!(tenant.slot(), old.slot());
        }
        let sizes = results(&mut swarm);
        assert!(
            sizes
                .iter()
                .all(|(id, size)| *size == 1 || !tenants.contains(id))
        );
        for id in &tenants {
            let read = swarm.read_memory(*id, 0, 65_536).unwrap();
            assert!(read == fresh, "{what}: a new tenant of slot {}", id.slot());
        }
        // The even agents' memories are untouched by the write, the deaths and the births.
        for (i, id) in ids.iter().enumerate().step_by(2) {
            let read = swarm.read_memory(*id, 0, 131_072).unwrap();
            assert!(read == references[i].memory()[..], "{what}: agent {i}");
        }

        // Every agent dies, so whole tiles are cleared at once; new tenants start fresh too.
        let live: Vec<AgentId> = swarm.live_agents().collect();
        swarm.kill_many(&live).unwrap();
        let tenants = swarm.spawn_many("size", (0..AGENTS).map(|_| [])).unwrap();
        results(&mut swarm);
        for id in &tenants {
            let read = swarm.read_memory(*id, 0, 65_536).unwrap();
            assert!(
                read == fresh,
                "{what}: slot {} after killing all",
                id.slot()
            );
        }
    }
}
