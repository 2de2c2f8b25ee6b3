//! Batches: arguments computed on the GPU from each agent's index (32- and 64-bit, wrapping)
//! or uploaded as typed columns, results, traps and counts harvested as columns, checked
//! against wasmtime agent by agent; batches beside other agents, with a start function, over
//! several dispatches or several chunks, and the errors bad arguments get.

use swarm_host::{
    AgentId, Arg, BatchOutcome, DeviceLimits, Imports, Outcome, SpawnError, Swarm, SwarmConfig,
    Tier, TrapCode, ValType, Value,
};

const MIX: &str = r#"(module
  (global $calls (mut i32) (i32.const 0))
  (func $start (global.set $calls (i32.const 100)))
  (start $start)
  ;; Every bit of every argument reaches a result; agents whose $a is 3 mod 7 trap, and
  ;; $a's low bits set a loop's length, so agents run different instruction counts.
  (func (export "mix") (param $a i32) (param $b i64) (param $c f32) (param $d f64)
    (result i64 f64 i32)
    (local $n i32)
    (if (i32.eq (i32.rem_u (local.get $a) (i32.const 7)) (i32.const 3)) (then unreachable))
    (local.set $n (i32.and (local.get $a) (i32.const 15)))
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $b (i64.rotl (local.get $b) (i64.const 9)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (i64.xor (local.get $b) (i64.shl (i64.extend_i32_u (local.get $a)) (i64.const 17)))
    (local.get $d)
    (i32.add (i32.reinterpret_f32 (local.get $c)) (global.get $calls)))
  (func (export "spin") (param $n i32) (result i32)
    (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (local.get $n)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (i32.gt_s (local.get $n) (i32.const 0))))
    (local.get $acc)))"#;

const AGENTS: u32 = 300;

fn mix_wasm() -> Vec<u8> {
    wat::parse_str(MIX).unwrap()
}

fn swarm(max_agents: u32, fuel_per_dispatch: u64) -> Swarm {
    let mut swarm = Swarm::new(SwarmConfig {
        max_agents,
        value_stack_slots: 64,
        call_frames: 16,
        max_results: 3,
        fuel_per_dispatch,
        ..SwarmConfig::default()
    })
    .unwrap();
    swarm.load_module(&mix_wasm(), &Imports::new()).unwrap();
    swarm
}

/// wasmtime's outcome for `mix` with these arguments, on a fresh instance.
fn reference(wasm: &[u8], args: &[Value]) -> Outcome {
    match crate::reference::reference(wasm, "mix", args) {
        Ok(results) => Outcome::Finished(results),
        Err(message) => Outcome::Trapped(
            crate::reference::trap_of(&message).unwrap_or_else(|| panic!("wasmtime: {message}")),
        ),
    }
}

/// Agent `i`'s arguments as the batch of `every_argument_kind` gives them.
fn arguments(i: u32, floats: &[f32], nan: u64) -> Vec<Value> {
    let step64 = 0x9e37_79b9_7f4a_7c15_u64 as i64;
    Vec::from([
        Value::I32((i32::MAX - 5).wrapping_add((i as i32).wrapping_mul(0x0765_4321))),
        Value::I64((-10_i64).wrapping_add(step64.wrapping_mul(i64::from(i)))),
        Value::F32(floats[i as usize].to_bits()),
        Value::F64(nan),
    ])
}

#[test]
fn every_argument_kind_reaches_the_agents_and_their_columns_match_wasmtime() {
    let mut swarm = swarm(AGENTS, 1 << 40);
    let floats: Vec<f32> = (0..AGENTS)
        .map(|i| f32::from_bits(0x3f80_0000 ^ i.wrapping_mul(0x9e37_79b9)))
        .collect();
    // A NaN with a payload: it must arrive bit for bit.
    let nan = 0x7ff4_0000_dead_beef;
    let batch = swarm
        .spawn_batch(
            "mix",
            AGENTS,
            &[
                Arg::Index {
                    start: i64::from(i32::MAX - 5),
                    step: 0x0765_4321,
                },
                Arg::Index {
                    start: -10,
                    step: 0x9e37_79b9_7f4a_7c15_u64 as i64,
                },
                Arg::F32s(&floats),
                Arg::Same(Value::F64(nan)),
            ],
        )
        .unwrap();
    assert_eq!(batch.len(), AGENTS as usize);
    let report = swarm.run_batch(&batch).unwrap();
    assert_eq!(report.len(), AGENTS as usize);
    assert_eq!(
        report.result_types(),
        &[ValType::I64, ValType::F64, ValType::I32]
    );
    let wasm = mix_wasm();
    let mut trapped = 0;
    for i in 0..AGENTS {
        let agent = i as usize;
        let want = reference(&wasm, &arguments(i, &floats, nan));
        let got = match report.outcomes[agent] {
            BatchOutcome::Finished => Outcome::Finished(report.results(agent).unwrap()),
            BatchOutcome::Trapped(trap) => {
                trapped += 1;
                assert_eq!(report.bits(agent), &[0, 0, 0]);
                Outcome::Trapped(trap)
            }
            other => panic!("agent {i} ended {other:?}"),
        };
        assert_eq!(got, want, "agent {i}");
        assert!(report.fuel[agent] >= report.instructions[agent]);
    }
    assert!(trapped > 0 && trapped < AGENTS, "{trapped} agents trapped");
    assert_eq!(report.finished(), (AGENTS - trapped) as usize);
    // A result column is result k of every agent.
    let third: Vec<Value> = report.column(2).collect();
    assert_eq!(third.len(), AGENTS as usize);
    for (agent, value) in third.iter().enumerate() {
        assert_eq!(value.to_bits(), report.bits(agent)[2]);
    }

    // The per-agent API, given the same arguments uploaded agent by agent, agrees on every
    // outcome and instruction count.
    swarm.kill_batch(batch).unwrap();
    let calls: Vec<Vec<Value>> = (0..AGENTS).map(|i| arguments(i, &floats, nan)).collect();
    let ids = swarm.spawn_many("mix", &calls).unwrap();
    let single = swarm.run().unwrap();
    assert_eq!(single.agents.len(), AGENTS as usize);
    for (agent, one) in single.agents.iter().enumerate() {
        assert_eq!(one.id, ids[agent]);
        let batch_outcome = match &one.outcome {
            Outcome::Finished(values) => {
                assert_eq!(Some(values.clone()), report.results(agent));
                BatchOutcome::Finished
            }
            Outcome::Trapped(trap) => BatchOutcome::Trapped(*trap),
            other => panic!("agent {agent} ended {other:?}"),
        };
        assert_eq!(batch_outcome, report.outcomes[agent], "agent {agent}");
        assert_eq!(
            one.instructions, report.instructions[agent],
            "agent {agent}"
        );
    }
}

#[test]
fn a_batch_runs_alone_over_several_dispatches_and_its_slots_are_reused() {
    // 40 instructions of fuel per dispatch: `spin` takes several dispatches.
    let mut swarm = swarm(64, 40);
    let bystanders = swarm
        .spawn_batch("spin", 10, &[Arg::Same(Value::I32(3))])
        .unwrap();
    let batch = swarm
        .spawn_batch("spin", 30, &[Arg::Index { start: 1, step: 2 }])
        .unwrap();
    let first = swarm.dispatch_batch(&batch).unwrap();
    assert_eq!(first.dispatches, 1);
    assert!(first.is_running(), "{:?}", first.outcomes);
    let done = swarm.run_batch(&batch).unwrap();
    assert!(done.dispatches > 1);
    // The phases are parts of the wall time.
    let p = done.phases;
    assert!(p.wait > std::time::Duration::ZERO, "{p:?}");
    assert!(
        p.prepare + p.submit + p.wait + p.decode + p.harvest <= done.wall_time,
        "{p:?} in {:?}",
        done.wall_time
    );
    assert_eq!(done.finished(), 30);
    for (agent, value) in done.column(0).enumerate() {
        let n = 1 + 2 * agent as i32;
        assert_eq!(value, Value::I32(n * (n + 1) / 2), "agent {agent}");
    }
    assert_eq!(swarm.harvest(&batch).unwrap().outcomes, done.outcomes);
    // The bystanders have not run.
    let waiting = swarm.harvest(&bystanders).unwrap();
    assert_eq!(waiting.instructions, vec![0; 10]);
    assert_eq!(waiting.outcomes, vec![BatchOutcome::Suspended; 10]);
    let slots: Vec<u32> = batch.ids().iter().map(|id| id.slot()).collect();
    swarm.kill_batch(batch.clone()).unwrap();
    assert!(swarm.harvest(&batch).is_err(), "killed ids are stale");
    let again = swarm
        .spawn_batch("spin", 30, &[Arg::Index { start: 2, step: 0 }])
        .unwrap();
    let reused: Vec<u32> = again.ids().iter().map(|id| id.slot()).collect();
    assert_eq!(reused, slots);
    let report = swarm.run_batch(&again).unwrap();
    assert!(report.column(0).all(|v| v == Value::I32(3)));
    let rest = swarm.run_batch(&bystanders).unwrap();
    assert!(rest.column(0).all(|v| v == Value::I32(6)));
}

#[test]
fn bad_batch_arguments_are_typed_errors_that_say_what_to_give() {
    let mut swarm = swarm(8, 1 << 40);
    let err = swarm
        .spawn_batch("spin", 4, &[Arg::INDEX, Arg::INDEX])
        .unwrap_err();
    assert!(
        matches!(
            err,
            SpawnError::BatchArity {
                expected: 1,
                given: 2,
                ..
            }
        ),
        "{err}"
    );
    let floats = [1.0_f32; 4];
    let cases: [(&[Arg<'_>], &str); 4] = [
        (&[Arg::F32s(&floats)], "column of f32 for a I32 parameter"),
        (
            &[Arg::I32s(&[1, 2, 3])],
            "a column of 3 values for a batch of 4",
        ),
        (
            &[Arg::Same(Value::I64(1))],
            "a I64 value for a I32 parameter",
        ),
        (
            &[Arg::Values(&[
                Value::I32(1),
                Value::I32(2),
                Value::F64(0),
                Value::I32(4),
            ])],
            "value 2 is F64",
        ),
    ];
    for (args, message) in cases {
        let err = swarm.spawn_batch("spin", 4, args).unwrap_err();
        assert!(
            matches!(err, SpawnError::BatchArgument { param: 0, .. }),
            "{err}"
        );
        assert!(err.to_string().contains(message), "{err}");
    }
    let err = swarm
        .spawn_batch(
            "mix",
            4,
            &[Arg::INDEX, Arg::INDEX, Arg::F32s(&floats), Arg::INDEX],
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("`Arg::Index` is for i32 and i64"),
        "{err}"
    );
    // Nothing was spawned by the failed batches.
    assert_eq!(swarm.agent_count(), 0);
    let err = swarm.spawn_batch("spin", 9, &[Arg::INDEX]).unwrap_err();
    assert!(err.to_string().contains("max_agents"), "{err}");
    assert_eq!(swarm.agent_count(), 0);
}

#[test]
fn a_batch_split_across_host_threads_reports_every_agent_in_order() {
    // Enough agents that decoding and harvesting run on several host threads.
    const MANY: u32 = 48_000;
    let wat = r#"(module
      (func (export "f") (param $i i32) (result i32 i64)
        (if (i32.eq (i32.rem_u (local.get $i) (i32.const 7)) (i32.const 3)) (then unreachable))
        (i32.mul (local.get $i) (i32.const 3))
        (i64.extend_i32_u (local.get $i))))"#;
    let mut swarm = Swarm::new(SwarmConfig {
        max_agents: MANY + 8,
        max_memory_pages: 0,
        value_stack_slots: 16,
        call_frames: 2,
        max_results: 2,
        ..SwarmConfig::default()
    })
    .unwrap();
    swarm
        .load_module(&wat::parse_str(wat).unwrap(), &Imports::new())
        .unwrap();
    // A few agents first, so the batch's slots do not start at a tile boundary.
    let before = swarm.spawn_batch("f", 5, &[Arg::INDEX]).unwrap();
    let batch = swarm.spawn_batch("f", MANY, &[Arg::INDEX]).unwrap();
    let report = swarm.run_batch(&batch).unwrap();
    for i in 0..MANY {
        let agent = i as usize;
        if i % 7 == 3 {
            assert_eq!(
                report.outcomes[agent],
                BatchOutcome::Trapped(TrapCode::Unreachable)
            );
            assert_eq!(report.bits(agent), &[0, 0]);
        } else {
            assert_eq!(
                report.results(agent),
                Some(vec![Value::I32((3 * i) as i32), Value::I64(i64::from(i))]),
                "agent {i}"
            );
        }
    }
    // Every agent of a path executed as many instructions as the first agent of that path.
    let finished = report.instructions[0];
    let trapped = report.instructions[3];
    assert!(0 < trapped && trapped < finished, "{trapped} {finished}");
    for (i, n) in report.instructions.iter().enumerate() {
        assert_eq!(*n, if i % 7 == 3 { trapped } else { finished }, "agent {i}");
    }
    // The per-agent reports of the whole swarm, decoded from the same records.
    let all = swarm.run().unwrap();
    assert_eq!(all.agents.len(), (MANY + 5) as usize);
    for (agent, id) in batch.ids().iter().enumerate() {
        let one = &all.agents[agent + 5];
        assert_eq!(one.id, *id);
        assert_eq!(one.instructions, report.instructions[agent]);
    }
    // Three agents in four die; a batch as large fills exactly the slots they leave, in
    // slot order, scattered among the survivors.
    let killed: Vec<AgentId> = batch
        .ids()
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 4 != 0)
        .map(|(_, id)| *id)
        .collect();
    swarm.kill_many(&killed).unwrap();
    let again = swarm
        .spawn_batch(
            "f",
            killed.len() as u32,
            &[Arg::Index { start: 1, step: 7 }],
        )
        .unwrap();
    let slots: Vec<u32> = again.ids().iter().map(|id| id.slot()).collect();
    assert_eq!(slots, killed.iter().map(|id| id.slot()).collect::<Vec<_>>());
    let report = swarm.run_batch(&again).unwrap();
    assert_eq!(report.finished(), killed.len());
    for agent in 0..killed.len() {
        let x = 1 + 7 * agent as u32;
        assert_eq!(
            report.results(agent),
            Some(vec![Value::I32((3 * x) as i32), Value::I64(i64::from(x))]),
            "agent {agent}"
        );
    }
    swarm.kill_batch(again).unwrap();
    swarm.kill_batch(before).unwrap();
    assert!(
        swarm.kill_batch(batch.clone()).is_err(),
        "a quarter of it is still alive, the rest stale"
    );
    assert_eq!(swarm.agent_count(), MANY / 4);
}

#[test]
fn index_arguments_past_65536_agents_carry_into_the_high_words() {
    // The spawn kernel multiplies the index by the step from 16-bit halves: indices of 65,536
    // and more exercise the upper halves, and a 64-bit step the carries into the high word.
    const MANY: u32 = 70_000;
    let wat = r#"(module
      (func (export "f") (param $a i64) (param $b i32) (result i64 i32)
        (local.get $a) (local.get $b)))"#;
    let mut swarm = Swarm::new(SwarmConfig {
        max_agents: MANY,
        max_memory_pages: 0,
        value_stack_slots: 16,
        call_frames: 2,
        max_results: 2,
        ..SwarmConfig::default()
    })
    .unwrap();
    swarm
        .load_module(&wat::parse_str(wat).unwrap(), &Imports::new())
        .unwrap();
    let step64 = 0x9e37_79b9_7f4a_7c15_u64 as i64;
    let batch = swarm
        .spawn_batch(
            "f",
            MANY,
            &[
                Arg::Index {
                    start: -3,
                    step: step64,
                },
                Arg::Index {
                    start: 11,
                    step: 0xdead_beef,
                },
            ],
        )
        .unwrap();
    let report = swarm.run_batch(&batch).unwrap();
    assert_eq!(report.finished(), MANY as usize);
    for i in 0..MANY {
        let want = vec![
            Value::I64((-3_i64).wrapping_add(step64.wrapping_mul(i64::from(i)))),
            Value::I32(11_u32.wrapping_add(0xdead_beef_u32.wrapping_mul(i)) as i32),
        ];
        assert_eq!(report.results(i as usize), Some(want), "agent {i}");
    }
}

/// Agent `seed` grows its memory to 100 pages, copies a data segment far up, stirs it with
/// its seed and sums it: an agent that ran before its spawn had written its memory, or on a
/// memory still holding the last batch's bytes, would sum something else.
const CHUNKED: &str = r#"(module
  (memory 1 128)
  (data (i32.const 16) "swarm: spawned before it ran, in every chunk")
  (func (export "stir") (param $seed i32) (result i64)
    (local $at i32) (local $i i32) (local $acc i64)
    (drop (memory.grow (i32.const 99)))
    (local.set $at (i32.add (i32.const 6_000_000)
      (i32.mul (i32.and (local.get $seed) (i32.const 127)) (i32.const 4_099))))
    (memory.copy (local.get $at) (i32.const 16) (i32.const 44))
    (i32.store (i32.const 60) (i32.add (i32.load (i32.const 60)) (local.get $seed)))
    (loop $l
      (local.set $acc (i64.add
        (i64.mul (local.get $acc) (i64.const 31))
        (i64.load8_u (i32.add (local.get $at) (local.get $i)))))
      (local.set $acc (i64.xor (local.get $acc)
        (i64.extend_i32_u (i32.load8_u (i32.add (i32.const 16) (local.get $i))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 48))))
    (i64.add (local.get $acc) (i64.extend_i32_u (i32.load (i32.const 60))))))"#;

/// The runs of a pool's chunks share one stage of the submission, after their spawns' stages
/// (`GpuContext::dispatch`): a batch over three chunks, spawned and run in one submission, and
/// another spawned into the same slots, match wasmtime on both tiers.
#[test]
fn a_batch_over_several_chunks_spawns_and_runs_in_one_submission_as_wasmtime_does() {
    const AGENTS: u32 = 40;
    let wasm = wat::parse_str(CHUNKED).unwrap();
    for tier in [Tier::Interpreter, Tier::Compiled] {
        // 8 MiB of memory an agent: lavapipe's 128 MiB bindings hold 16 agents a chunk.
        let config = SwarmConfig {
            max_agents: AGENTS,
            max_memory_pages: 128,
            value_stack_slots: 64,
            call_frames: 4,
            max_results: 1,
            tier,
            ..SwarmConfig::default()
        };
        let layout = swarm_core::Layout::new(&config, &DeviceLimits::LAVAPIPE).unwrap();
        assert_eq!(layout.chunk_count(), 3);
        let mut swarm = Swarm::new(config).unwrap();
        swarm.load_module(&wasm, &Imports::new()).unwrap();
        for start in [0, 1_000] {
            let batch = swarm
                .spawn_batch("stir", AGENTS, &[Arg::Index { start, step: 7 }])
                .unwrap();
            let report = swarm.dispatch_batch(&batch).unwrap();
            assert_eq!(report.dispatches, 1);
            assert_eq!(
                report.finished(),
                AGENTS as usize,
                "{tier:?}: {:?}",
                report.outcomes
            );
            if tier == Tier::Compiled {
                assert!(
                    report.compiled.iter().all(|&n| n > 0),
                    "nothing ran compiled"
                );
            }
            for i in 0..AGENTS {
                let seed = Value::I32((start + 7 * i64::from(i)) as i32);
                let want = crate::reference::reference(&wasm, "stir", &[seed]).unwrap();
                assert_eq!(
                    report.results(i as usize),
                    Some(want),
                    "{tier:?}, agent {i}"
                );
            }
            swarm.kill_batch(batch).unwrap();
        }
    }
}
