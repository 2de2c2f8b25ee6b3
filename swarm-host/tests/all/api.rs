//! The original design's operations, each checked against wasmtime or against what the test
//! itself wrote: pool slices, isolation, limits, partial dispatch, persistence, kill and reuse,
//! host imports, output and the typed errors.

use std::sync::{Arc, Mutex};

use swarm_host::{
    AccessError, CreateError, HostCall, Imports, LayoutError, LoadError, Outcome, PoolError,
    SpawnError, Swarm, SwarmConfig, TrapCode, ValType, Value,
};

use crate::reference::reference;

/// Each agent stamps its own memory and global, then reads them back.
const STATE: &str = r#"(module
  (import "swarm" "agent_id" (func $id (result i32)))
  (import "swarm" "output" (func $output (param i32 i32)))
  (memory (export "memory") 1)
  (global $g (export "g") (mut i64) (i64.const 0))
  (func (export "stamp") (param $v i32) (result i32)
    (i32.store (i32.const 0) (local.get $v))
    (i32.store (i32.const 65532) (local.get $v))
    (global.set $g (i64.extend_i32_u (local.get $v)))
    (call $id))
  (func (export "bump") (result i32 i64)
    (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
    (global.set $g (i64.add (global.get $g) (i64.const 10)))
    (i32.load (i32.const 0)) (global.get $g))
  (func (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call 4 (i32.sub (local.get 0) (i32.const 1)))
                     (call 4 (i32.sub (local.get 0) (i32.const 2)))))))
  (func (export "say") (param $n i32)
    (i32.store (i32.const 100) (i32.const 0x64636261))
    (call $output (i32.const 100) (local.get $n)))
  (func (export "fill") (param $n i32) (result i32)
    (memory.fill (i32.const 0) (i32.const 7) (local.get $n))
    (memory.copy (i32.const 1) (i32.const 0) (i32.sub (local.get $n) (i32.const 1)))
    (i32.add (i32.load8_u (i32.sub (local.get $n) (i32.const 1)))
             (i32.load8_u (local.get $n)))))"#;

fn swarm(max_agents: u32) -> Swarm {
    Swarm::new(SwarmConfig {
        max_agents,
        value_stack_slots: 256,
        call_frames: 64,
        output_bytes: 16,
        ..SwarmConfig::default()
    })
    .unwrap()
}

fn loaded(max_agents: u32) -> (Swarm, Vec<u8>) {
    let wasm = wat::parse_str(STATE).unwrap();
    let mut swarm = swarm(max_agents);
    swarm.load_module(&wasm, &Imports::new()).unwrap();
    (swarm, wasm)
}

fn finished(outcome: &Outcome) -> &[Value] {
    match outcome {
        Outcome::Finished(values) => values,
        other => panic!("expected a finished call, got {other:?}"),
    }
}

#[test]
fn slices_are_disjoint_and_state_is_isolated_across_1024_agents() {
    let (mut swarm, _) = loaded(1_024);
    let values: Vec<i32> = (0..1_024).map(|i| i * 7_919 + 13).collect();
    let ids = swarm
        .spawn_many("stamp", values.iter().map(|v| [Value::I32(*v)]))
        .unwrap();
    let report = swarm.run().unwrap();
    assert_eq!(report.agents.len(), 1_024);
    for (index, (agent, value)) in report.agents.iter().zip(&values).enumerate() {
        assert_eq!(agent.id, ids[index]);
        // swarm.agent_id is the agent's slot.
        assert_eq!(finished(&agent.outcome), [Value::I32(index as i32)]);
        let id = ids[index];
        let first = swarm.read_memory(id, 0, 4).unwrap();
        let last = swarm.read_memory(id, 65_532, 4).unwrap();
        assert_eq!(first, value.to_le_bytes());
        assert_eq!(last, value.to_le_bytes());
        assert_eq!(
            swarm.global(id, "g").unwrap(),
            Value::I64(i64::from(*value))
        );
    }
}

#[test]
fn the_1025th_spawn_of_a_1024_pool_is_refused() {
    let (mut swarm, _) = loaded(1_024);
    swarm
        .spawn_many("fib", (0..1_023).map(|_| [Value::I32(1)]))
        .unwrap();
    // Two more do not fit: neither is spawned.
    let err = swarm
        .spawn_many("fib", [[Value::I32(1)], [Value::I32(2)]])
        .unwrap_err();
    assert!(
        matches!(err, SpawnError::Pool(PoolError::NotEnoughSlots { .. })),
        "{err}"
    );
    assert_eq!(swarm.agent_count(), 1_023);
    swarm.spawn("fib", &[Value::I32(1)]).unwrap();
    let err = swarm.spawn("fib", &[Value::I32(1)]).unwrap_err();
    assert!(matches!(
        err,
        SpawnError::Pool(PoolError::Full { capacity: 1_024 })
    ));
    assert!(err.to_string().contains("max_agents"), "{err}");
}

#[test]
fn a_single_agent_and_a_fibonacci_swarm_match_wasmtime() {
    let (mut swarm, wasm) = loaded(300);
    let one = swarm.spawn("fib", &[Value::I32(12)]).unwrap();
    let report = swarm.run_agents(&[one]).unwrap();
    assert_eq!(report.agents.len(), 1);
    assert_eq!(finished(&report.agents[0].outcome), [Value::I32(144)]);
    swarm.kill(one).unwrap();

    let ns: Vec<i32> = (0..300).map(|i| (i * 7 + 3) % 19).collect();
    swarm
        .spawn_many("fib", ns.iter().map(|n| [Value::I32(*n)]))
        .unwrap();
    let report = swarm.run().unwrap();
    for (agent, n) in report.agents.iter().zip(&ns) {
        let want = reference(&wasm, "fib", &[Value::I32(*n)]).unwrap();
        assert_eq!(finished(&agent.outcome), want.as_slice(), "fib({n})");
        assert!(agent.instructions > 0);
    }
}

#[test]
fn a_partial_dispatch_runs_and_reports_only_the_chosen_agents() {
    let (mut swarm, _) = loaded(8);
    let ids = swarm
        .spawn_many("stamp", (0..8).map(|i| [Value::I32(i + 100)]))
        .unwrap();
    let chosen = [ids[6], ids[2]];
    let report = swarm.run_agents(&chosen).unwrap();
    assert_eq!(
        report.agents.iter().map(|a| a.id).collect::<Vec<_>>(),
        chosen
    );
    // swarm.agent_id: the slots.
    assert_eq!(finished(&report.agents[0].outcome), [Value::I32(6)]);
    assert_eq!(finished(&report.agents[1].outcome), [Value::I32(2)]);
    // Only the chosen agents stamped their memory.
    for (index, id) in ids.iter().enumerate() {
        let stamp = swarm.read_memory(*id, 0, 4).unwrap();
        let expected = if index == 2 || index == 6 {
            index as i32 + 100
        } else {
            0
        };
        assert_eq!(stamp, expected.to_le_bytes(), "agent {index}");
    }
    // The rest run in a full dispatch; the chosen ones, already finished, do not run again.
    let all = swarm.run().unwrap();
    assert!(
        all.agents
            .iter()
            .all(|a| matches!(a.outcome, Outcome::Finished(_)))
    );
    assert_eq!(all.agents[6].instructions, report.agents[0].instructions);
    assert_eq!(all.agents[2].instructions, report.agents[1].instructions);
    assert_eq!(
        swarm.read_memory(ids[0], 0, 4).unwrap(),
        100_i32.to_le_bytes()
    );
}

#[test]
fn memory_and_globals_persist_across_dispatches_and_calls() {
    let (mut swarm, _) = loaded(4);
    let a = swarm.spawn("bump", &[]).unwrap();
    let b = swarm.spawn("stamp", &[Value::I32(100)]).unwrap();
    swarm.run().unwrap();
    for round in 1..=3 {
        swarm.call(a, "bump", &[]).unwrap();
        swarm.call(b, "bump", &[]).unwrap();
        let report = swarm.run().unwrap();
        assert_eq!(
            finished(&report.agents[0].outcome),
            [
                Value::I32(round + 1),
                Value::I64(10 * (i64::from(round) + 1))
            ]
        );
        assert_eq!(
            finished(&report.agents[1].outcome),
            [
                Value::I32(100 + round),
                Value::I64(100 + 10 * i64::from(round))
            ]
        );
    }
    swarm.write_memory(a, 0, &41_i32.to_le_bytes()).unwrap();
    swarm.call(a, "bump", &[]).unwrap();
    let report = swarm.run().unwrap();
    assert_eq!(finished(&report.agents[0].outcome)[0], Value::I32(42));
}

#[test]
fn kill_wipes_the_slot_and_the_old_id_goes_stale() {
    let (mut swarm, _) = loaded(1);
    let old = swarm.spawn("stamp", &[Value::I32(-1)]).unwrap();
    swarm.run().unwrap();
    swarm.kill(old).unwrap();
    assert!(matches!(
        swarm.read_memory(old, 0, 4),
        Err(AccessError::Pool(PoolError::Stale { .. }))
    ));
    assert!(swarm.call(old, "bump", &[]).is_err());
    let new = swarm.spawn("bump", &[]).unwrap();
    assert_eq!(new.slot(), old.slot());
    assert_ne!(new, old);
    let report = swarm.run().unwrap();
    // A fresh slot: memory and global start from zero, not from the killed agent's values.
    assert_eq!(
        finished(&report.agents[0].outcome),
        [Value::I32(1), Value::I64(10)]
    );
    assert_eq!(swarm.read_memory(new, 65_532, 4).unwrap(), [0; 4]);
}

#[test]
fn kill_many_wipes_only_the_chosen_slots_or_nothing() {
    let (mut swarm, _) = loaded(6);
    let ids = swarm
        .spawn_many("stamp", (1..=6).map(|v| [Value::I32(v * 100)]))
        .unwrap();
    swarm.run().unwrap();
    // A stale id in the batch: nobody is killed.
    swarm.kill(ids[5]).unwrap();
    assert!(swarm.kill_many(&[ids[0], ids[5]]).is_err());
    assert_eq!(swarm.agent_count(), 5);
    // Two runs of neighbours (slots 0-1 and 3) around a survivor, and a repeat.
    swarm.kill_many(&[ids[3], ids[1], ids[0], ids[1]]).unwrap();
    assert_eq!(swarm.live_agents().collect::<Vec<_>>(), [ids[2], ids[4]]);
    for id in [ids[0], ids[1], ids[3]] {
        assert!(matches!(
            swarm.read_memory(id, 0, 4),
            Err(AccessError::Pool(PoolError::Stale { .. }))
        ));
    }
    // The survivors, one between the runs and one after them, keep their memory and global.
    for (id, value) in [(ids[2], 300i32), (ids[4], 500)] {
        assert_eq!(swarm.read_memory(id, 0, 4).unwrap(), value.to_le_bytes());
        assert_eq!(
            swarm.read_memory(id, 65_532, 4).unwrap(),
            value.to_le_bytes()
        );
        assert_eq!(swarm.global(id, "g").unwrap(), Value::I64(i64::from(value)));
    }
    // Reused slots (the three killed and the one killed alone) start from zero.
    let fresh = swarm.spawn_many("bump", [[], [], [], []]).unwrap();
    let mut slots: Vec<u32> = fresh.iter().map(|id| id.slot()).collect();
    slots.sort_unstable();
    assert_eq!(slots, [0, 1, 3, 5]);
    let report = swarm.run_agents(&fresh).unwrap();
    for agent in &report.agents {
        assert_eq!(finished(&agent.outcome), [Value::I32(1), Value::I64(10)]);
        assert_eq!(swarm.read_memory(agent.id, 65_532, 4).unwrap(), [0; 4]);
    }
}

#[test]
fn output_is_harvested_and_overflow_traps_only_its_agent() {
    let (mut swarm, _) = loaded(3);
    let ids = swarm
        .spawn_many("say", [[Value::I32(4)], [Value::I32(17)], [Value::I32(3)]])
        .unwrap();
    let report = swarm.run().unwrap();
    assert_eq!(report.agents[0].outcome, Outcome::Finished(vec![]));
    assert_eq!(
        report.agents[1].outcome,
        Outcome::Trapped(TrapCode::OutputOverflow)
    );
    assert_eq!(report.agents[2].output_len, 3);
    let outputs = swarm.outputs(&ids).unwrap();
    assert_eq!(outputs[0], b"abcd");
    assert!(outputs[1].is_empty());
    assert_eq!(outputs[2], b"abc");
}

#[test]
fn host_imports_are_answered_in_one_batch_per_dispatch() {
    let wasm = wat::parse_str(
        r#"(module
          (import "env" "scale" (func $scale (param i32 i64) (result i64)))
          (import "env" "fail" (func $fail (param i32)))
          (func (export "run") (param $n i32) (result i64) (local $acc i64)
            (if (i32.eq (local.get $n) (i32.const 13)) (then (call $fail (local.get $n))))
            (loop $l
              (local.set $acc
                (i64.add (local.get $acc) (call $scale (local.get $n) (i64.const 3))))
              (local.set $n (i32.sub (local.get $n) (i32.const 1)))
              (br_if $l (i32.gt_s (local.get $n) (i32.const 0))))
            (local.get $acc))
          (export "raw" (func $scale))
          (func (export "direct") (param i32 i64) (result i64)
            (call $scale (local.get 0) (local.get 1))))"#,
    )
    .unwrap();
    let batches = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&batches);
    let mut imports = Imports::new();
    imports
        .func(
            "env",
            "scale",
            &[ValType::I32, ValType::I64],
            &[ValType::I64],
            move |calls: &[HostCall]| {
                seen.lock().unwrap().push(calls.len());
                calls
                    .iter()
                    .map(|call| match call.args[..] {
                        [Value::I32(n), Value::I64(k)] => Ok(vec![Value::I64(i64::from(n) * k)]),
                        _ => unreachable!("typed by the signature"),
                    })
                    .collect()
            },
        )
        .func("env", "fail", &[ValType::I32], &[], |calls| {
            calls
                .iter()
                .map(|_| Err(TrapCode::Unreachable.into()))
                .collect()
        });
    let mut swarm = swarm(20);
    swarm.load_module(&wasm, &imports).unwrap();
    swarm
        .spawn_many("run", (1..=16).map(|n| [Value::I32(n)]))
        .unwrap();
    let direct = swarm
        .spawn("direct", &[Value::I32(-4), Value::I64(5)])
        .unwrap();
    let raw = swarm.spawn("raw", &[Value::I32(7), Value::I64(6)]).unwrap();
    let report = swarm.run().unwrap();
    for (index, agent) in report.agents.iter().take(16).enumerate() {
        let n = index as i64 + 1;
        if n == 13 {
            assert_eq!(agent.outcome, Outcome::Trapped(TrapCode::Unreachable));
        } else {
            // 3 * (n + (n-1) + … + 1)
            assert_eq!(finished(&agent.outcome), [Value::I64(3 * n * (n + 1) / 2)]);
        }
    }
    let last = report.agents.iter().find(|a| a.id == direct).unwrap();
    assert_eq!(finished(&last.outcome), [Value::I64(-20)]);
    // An entry call of the import itself returns the host's answer.
    let raw = report.agents.iter().find(|a| a.id == raw).unwrap();
    assert_eq!(finished(&raw.outcome), [Value::I64(42)]);
    // The first batch holds every agent that reached the import in the first dispatch.
    let batches = batches.lock().unwrap();
    assert_eq!(batches[0], 17);
    assert_eq!(
        batches.iter().sum::<usize>(),
        (1..=16).sum::<usize>() - 13 + 2
    );

    // A module importing what nobody provides does not load.
    let mut bare = self::swarm(1);
    let err = bare.load_module(&wasm, &Imports::new()).unwrap_err();
    assert!(matches!(err, LoadError::Link { .. }), "{err}");
    assert!(err.to_string().contains("env.scale"), "{err}");
}

#[test]
fn a_pool_larger_than_the_device_is_refused_at_creation() {
    let memory = swarm(1)
        .adapter()
        .limits
        .device_memory
        .expect("a Vulkan adapter reports its memory heaps");
    // Agents of 64 MiB of linear memory each, one more than the device holds.
    let agents = u32::try_from(memory / (64 << 20) + 1).unwrap();
    let err = Swarm::new(SwarmConfig {
        max_agents: agents,
        max_memory_pages: 1_024,
        ..SwarmConfig::default()
    })
    .unwrap_err();
    assert!(
        matches!(
            &err,
            CreateError::Layout(LayoutError::PoolTooLarge { bytes, memory: m, .. })
                if *bytes > memory && *m == memory
        ),
        "{err}"
    );
    assert!(err.to_string().contains("lower `max_agents`"), "{err}");
}

#[test]
fn bad_spawns_get_typed_errors() {
    let (mut swarm, _) = loaded(4);
    assert!(matches!(
        swarm.spawn("nope", &[]),
        Err(SpawnError::UnknownExport(name)) if name == "nope"
    ));
    assert!(matches!(
        swarm.spawn("fib", &[]),
        Err(SpawnError::Arguments { .. })
    ));
    assert!(matches!(
        swarm.spawn("fib", &[Value::I64(1)]),
        Err(SpawnError::Arguments { .. })
    ));
    assert!(matches!(
        swarm.spawn_with_memory("fib", &[Value::I32(1)], 65_530, &[0; 8]),
        Err(SpawnError::MemoryOutOfRange { .. })
    ));
    assert_eq!(swarm.agent_count(), 0);

    let big = wat::parse_str("(module (memory 2))").unwrap();
    let err = swarm.load_module(&big, &Imports::new()).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("max_memory_pages"), "{message}");
    assert!(message.contains("-zstack-size"), "{message}");

    let id = swarm
        .spawn_with_memory("fill", &[Value::I32(8)], 2, &[1, 2, 3])
        .unwrap();
    swarm.dispatch().unwrap();
    // The initial bytes were overwritten by the fill: 7 at 7, 0 at 8.
    assert_eq!(swarm.read_memory(id, 7, 2).unwrap(), [7, 0]);
}

/// Bulk operations longer than llvmpipe's loop limit complete, as jobs over many steps and
/// dispatches.
#[test]
fn large_bulk_operations_are_exact() {
    let wasm = wat::parse_str(STATE.replace(
        "(memory (export \"memory\") 1)",
        "(memory (export \"memory\") 8)",
    ))
    .unwrap();
    // Stacks in place and, where the driver does not limit loops, in private memory: the job
    // under way is suspended and resumed between dispatches.
    for private_stack_slots in [0, 256] {
        let mut swarm = Swarm::new(SwarmConfig {
            max_agents: 2,
            max_memory_pages: 8,
            value_stack_slots: 256,
            private_stack_slots,
            call_frames: 64,
            ..SwarmConfig::default()
        })
        .unwrap();
        swarm.load_module(&wasm, &Imports::new()).unwrap();
        swarm
            .spawn_many("fill", [[Value::I32(300_001)], [Value::I32(65_536)]])
            .unwrap();
        let report = swarm.run().unwrap();
        for (agent, n) in report.agents.iter().zip([300_001_usize, 65_536]) {
            // The last filled byte is 7, the next one 0.
            assert_eq!(finished(&agent.outcome), [Value::I32(7)]);
            let bytes = swarm.read_memory(agent.id, 0, n as u64 + 1).unwrap();
            assert!(bytes[..n].iter().all(|b| *b == 7));
            assert_eq!(bytes[n], 0);
            // memory.fill and memory.copy are one instruction each, however long.
            assert_eq!(agent.instructions, 17);
        }
    }
}

/// A module whose active segments do not fit traps at instantiation, in every agent, as in
/// wasmtime; the agents have no instance to call afterwards.
#[test]
fn an_instantiation_trap_is_each_agents_trap() {
    for (text, expected) in [
        (
            r#"(module (memory 1) (data (i32.const 65535) "ab")
                 (func (export "f") (result i32) (i32.const 1)))"#,
            TrapCode::MemoryOutOfBounds,
        ),
        (
            r#"(module (table 1 funcref) (elem (i32.const 1) func 0)
                 (func (export "f") (result i32) (i32.const 1)) (func $s) (start $s))"#,
            TrapCode::TableOutOfBounds,
        ),
    ] {
        let wasm = wat::parse_str(text).unwrap();
        let message = reference(&wasm, "f", &[]).unwrap_err();
        assert_eq!(
            crate::reference::trap_of(&message),
            Some(expected),
            "{message}"
        );
        let mut swarm = swarm(4);
        swarm.load_module(&wasm, &Imports::new()).unwrap();
        let ids = swarm.spawn_many("f", [[], [], []]).unwrap();
        let report = swarm.run().unwrap();
        assert_eq!(report.agents.len(), 3);
        for agent in &report.agents {
            assert_eq!(agent.outcome, Outcome::Trapped(expected));
            assert_eq!(agent.instructions, 0);
        }
        assert!(matches!(
            swarm.call(ids[0], "f", &[]),
            Err(SpawnError::Instantiation(trap)) if trap == expected
        ));
    }
}

/// A 32-bit global set from a stack slot that last held a 64-bit value reads back as its
/// 32 bits, in a snapshot too (found by `cargo xtask fuzz`).
#[test]
fn snapshots_hold_32_bit_globals_without_stale_high_words() {
    let wasm = wat::parse_str(
        r#"(module
          (global (export "g") (mut i32) (i32.const 0))
          (global (export "h") (mut f32) (f32.const 0))
          (func (export "f")
            (drop (f64.const 1))
            (global.set 0 (i32.const 7))
            (drop (i64.const -1))
            (global.set 1 (f32.const 2))))"#,
    )
    .unwrap();
    let mut swarm = swarm(1);
    swarm.load_module(&wasm, &Imports::new()).unwrap();
    let id = swarm.spawn("f", &[]).unwrap();
    swarm.run().unwrap();
    let state = swarm.snapshot(id).unwrap();
    assert_eq!(state.global_bits(0), Some(7));
    assert_eq!(state.global_bits(1), Some(u64::from(2.0_f32.to_bits())));
    assert_eq!(swarm.global(id, "g").unwrap(), Value::I32(7));
}

/// Calls in a loop to imports nobody provides: no results, and four of every number type
/// (more than the two stack slots a call moves at once).
const UNKNOWN_IMPORTS: &str = r#"(module
  (import "bench" "start" (func $start))
  (import "bench" "end" (func $end))
  (import "env" "many" (func $many (param i32 i64 f64) (result i64 f32 i32 f64)))
  (func (export "run") (param $n i32) (result i64)
    (local $acc i64) (local $i i32)
    (call $start)
    (loop $l
      (call $many (local.get $i) (i64.const 5) (f64.const 2.5))
      i32.trunc_f64_s
      i32.add
      i64.extend_i32_u
      local.get $acc
      i64.add
      local.set $acc
      i32.reinterpret_f32
      i64.extend_i32_u
      i64.add
      i64.const 7
      i64.add
      local.get $i
      i64.extend_i32_u
      i64.xor
      local.get $acc
      i64.add
      local.set $acc
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (call $end)
    (local.get $acc)))"#;

#[test]
fn unknown_imports_answer_with_zeros_as_wasmtimes_default_values_do() {
    let wasm = wat::parse_str(UNKNOWN_IMPORTS).unwrap();
    let mut swarm = swarm(16);
    let err = swarm.load_module(&wasm, &Imports::new()).unwrap_err();
    assert!(
        err.to_string().contains("default_values_for_unknown"),
        "{err}"
    );
    let mut imports = Imports::new();
    imports.default_values_for_unknown();
    swarm.load_module(&wasm, &imports).unwrap();
    let args = |i: i32| [Value::I32(i * 3)];
    swarm.spawn_many("run", (0..16).map(args)).unwrap();
    let report = swarm.run().unwrap();

    let mut config = wasmtime::Config::new();
    config.consume_fuel(true);
    let engine = wasmtime::Engine::new(&config).unwrap();
    let module = wasmtime::Module::new(&engine, &wasm).unwrap();
    for (agent, i) in report.agents.iter().zip(0..) {
        let mut store = wasmtime::Store::new(&engine, ());
        store.set_fuel(u64::MAX).unwrap();
        let mut linker = wasmtime::Linker::new(&engine);
        linker
            .define_unknown_imports_as_default_values(&mut store, &module)
            .unwrap();
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let run = instance
            .get_typed_func::<i32, i64>(&mut store, "run")
            .unwrap();
        let want = run.call(&mut store, i * 3).unwrap();
        let fuel = u64::MAX - store.get_fuel().unwrap();
        assert_eq!(finished(&agent.outcome), [Value::I64(want)], "agent {i}");
        assert_eq!(agent.fuel, fuel, "agent {i}: fuel");
    }
}

#[test]
fn an_unknown_import_called_as_the_entry_returns_zeros() {
    let wasm = wat::parse_str(
        r#"(module
          (import "env" "zeros" (func $z (param i32) (result i32 i64)))
          (export "direct" (func $z)))"#,
    )
    .unwrap();
    let mut imports = Imports::new();
    imports.default_values_for_unknown();
    let mut swarm = swarm(2);
    swarm.load_module(&wasm, &imports).unwrap();
    swarm
        .spawn_many("direct", [[Value::I32(5)], [Value::I32(6)]])
        .unwrap();
    let report = swarm.run().unwrap();
    for agent in &report.agents {
        assert_eq!(finished(&agent.outcome), [Value::I32(0), Value::I64(0)]);
    }
}

#[test]
fn an_unknown_import_returning_a_reference_is_still_refused() {
    let wasm = wat::parse_str(
        r#"(module
          (import "env" "table_entry" (func $f (result funcref)))
          (func (export "run") (result i32) (ref.is_null (call $f))))"#,
    )
    .unwrap();
    let mut imports = Imports::new();
    imports.default_values_for_unknown();
    let err = swarm(1).load_module(&wasm, &imports).unwrap_err();
    assert!(matches!(err, LoadError::Link { .. }), "{err:?}");
    assert!(err.to_string().contains("reference"), "{err}");
}
