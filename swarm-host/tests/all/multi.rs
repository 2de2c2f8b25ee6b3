//! One swarm over several devices: two logical devices of the test adapter, each its own
//! wgpu device with its own buffers and kernels. Placement, agent-order results against
//! wasmtime, routing of every per-agent operation and of host calls, and a lost device.

use std::sync::{Arc, Mutex};

use swarm_host::{
    AccessError, AdapterRequest, AgentId, Arg, BatchOutcome, DispatchError, GpuError, HostCall,
    Imports, LoadError, MultiSwarm, Outcome, PoolError, SpawnError, SwarmConfig, ValType, Value,
};

use crate::reference::assert_agents_match;

/// Each agent works out a Collatz count from its argument, keeps it in its memory and global,
/// and can ask the host for a number.
const WORK: &str = r#"(module
  (import "host" "ask" (func $ask (param i32) (result i32)))
  (memory (export "memory") 1)
  (global $g (export "g") (mut i32) (i32.const 0))
  (func $collatz (param $n i32) (result i32) (local $steps i32)
    (block $done (loop $next
      (br_if $done (i32.le_u (local.get $n) (i32.const 1)))
      (local.set $n (if (result i32) (i32.and (local.get $n) (i32.const 1))
        (then (i32.add (i32.mul (local.get $n) (i32.const 3)) (i32.const 1)))
        (else (i32.shr_u (local.get $n) (i32.const 1)))))
      (local.set $steps (i32.add (local.get $steps) (i32.const 1)))
      (br $next)))
    (local.get $steps))
  (func (export "steps") (param $n i32) (result i32)
    (local $s i32)
    (local.set $s (call $collatz (local.get $n)))
    (i32.store (i32.const 64) (local.get $s))
    (global.set $g (local.get $s))
    (i32.div_u (i32.const 1000) (i32.sub (local.get $n) (i32.const 77)))
    drop
    (local.get $s))
  (func (export "ask") (param $n i32) (result i32)
    (i32.add (call $ask (local.get $n)) (i32.load (i32.const 64)))))"#;

/// `WORK` without the host: what wasmtime runs for `steps`, which asks nothing.
fn reference_wasm() -> Vec<u8> {
    let pure = WORK.replace(
        r#"(import "host" "ask" (func $ask (param i32) (result i32)))"#,
        r#"(func $ask (param i32) (result i32) unreachable)"#,
    );
    wat::parse_str(pure).unwrap()
}

fn config(max_agents: u32) -> SwarmConfig {
    SwarmConfig {
        max_agents,
        value_stack_slots: 64,
        call_frames: 16,
        ..SwarmConfig::default()
    }
}

/// Two logical devices of the test adapter holding `first` and `second` agents.
fn two_devices(first: u32, second: u32) -> MultiSwarm {
    MultiSwarm::with_devices([
        (config(first), AdapterRequest::from_env()),
        (config(second), AdapterRequest::from_env()),
    ])
    .unwrap()
}

/// The host's `ask`: each caller's id and argument, answered with slot * 1000 + argument.
fn imports(asked: &Arc<Mutex<Vec<(AgentId, i32)>>>) -> Imports {
    let asked = Arc::clone(asked);
    let mut imports = Imports::new();
    imports.func(
        "host",
        "ask",
        &[ValType::I32],
        &[ValType::I32],
        move |calls: &[HostCall]| {
            let mut asked = asked.lock().unwrap();
            calls
                .iter()
                .map(|call| {
                    let Value::I32(n) = call.args[0] else {
                        unreachable!("ask takes an i32")
                    };
                    asked.push((call.agent, n));
                    Ok(vec![Value::I32(call.agent.slot() as i32 * 1000 + n)])
                })
                .collect()
        },
    );
    imports
}

#[test]
fn agents_spread_over_two_devices_by_free_slots_and_report_in_agent_order() {
    let wasm = wat::parse_str(WORK).unwrap();
    let mut swarm = two_devices(48, 16);
    assert_eq!(swarm.device_count(), 2);
    swarm.load_module(&wasm, &imports(&Arc::default())).unwrap();
    // 40 agents split 3:1, as the capacities; agent 77 would divide by zero.
    let calls: Vec<[Value; 1]> = (60..100).map(|n| [Value::I32(n)]).collect();
    let ids = swarm.spawn_many("steps", &calls).unwrap();
    let devices: Vec<Option<usize>> = ids.iter().map(|&id| swarm.device_of(id)).collect();
    assert_eq!(devices[..30], [Some(0); 30]);
    assert_eq!(devices[30..], [Some(1); 10]);
    assert_eq!(
        ids[30].slot(),
        48,
        "device 1's slots start after device 0's"
    );
    assert_eq!(swarm.agent_count(), 40);
    assert_eq!(swarm.device(1).agent_count(), 10);

    let report = swarm.run().unwrap();
    assert!(report.is_complete());
    assert_eq!(report.devices[0].agents, 30);
    assert_eq!(report.devices[1].agents, 10);
    assert_eq!(
        report.agents.iter().map(|a| a.id).collect::<Vec<_>>(),
        ids,
        "reports in agent order"
    );
    assert_agents_match(&reference_wasm(), "steps", &report.agents, &calls);
    assert!(matches!(report.agents[17].outcome, Outcome::Trapped(_)));

    // A spawn beyond every free slot is refused whole.
    let more: Vec<[Value; 1]> = (0..25).map(|n| [Value::I32(n)]).collect();
    let err = swarm.spawn_many("steps", &more).unwrap_err();
    assert!(
        matches!(
            err,
            SpawnError::Pool(PoolError::NotEnoughSlots {
                requested: 25,
                free: 24,
                capacity: 64
            })
        ),
        "{err}"
    );
    assert_eq!(swarm.agent_count(), 40);
}

#[test]
fn memory_globals_kills_and_host_calls_go_to_the_agents_device() {
    let wasm = wat::parse_str(WORK).unwrap();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let mut swarm = two_devices(4, 4);
    swarm.load_module(&wasm, &imports(&asked)).unwrap();
    let ids = swarm
        .spawn_many("steps", (0..8).map(|n| [Value::I32(n + 3)]))
        .unwrap();
    assert_eq!(
        ids.iter().map(|id| id.slot()).collect::<Vec<_>>(),
        (0..8).collect::<Vec<_>>()
    );
    swarm.run().unwrap();
    // Each agent's memory and global hold its own count, read from its own device.
    for (n, &id) in (3..).zip(&ids) {
        let steps =
            crate::reference::reference(&reference_wasm(), "steps", &[Value::I32(n)]).unwrap()[0];
        let Value::I32(steps) = steps else {
            unreachable!()
        };
        let bytes = swarm.read_memory(id, 64, 4).unwrap();
        assert_eq!(i32::from_le_bytes(bytes.try_into().unwrap()), steps);
        assert_eq!(swarm.global(id, "g").unwrap(), Value::I32(steps));
    }
    // Writes reach only the agent written.
    swarm
        .write_memory(ids[6], 64, &500i32.to_le_bytes())
        .unwrap();
    swarm.write_memory(ids[1], 64, &7i32.to_le_bytes()).unwrap();
    // Host calls from both devices carry ids unique across them; the answers go back to
    // the agent that asked.
    for (k, &id) in ids.iter().enumerate() {
        swarm.call(id, "ask", &[Value::I32(k as i32)]).unwrap();
    }
    let order = [
        ids[7], ids[0], ids[5], ids[1], ids[6], ids[2], ids[4], ids[3],
    ];
    let report = swarm.run_agents(&order).unwrap();
    assert_eq!(
        report.agents.iter().map(|a| a.id).collect::<Vec<_>>(),
        order,
        "reports in the order asked for"
    );
    let mut seen: Vec<AgentId> = asked.lock().unwrap().iter().map(|(id, _)| *id).collect();
    seen.sort();
    assert_eq!(seen, ids);
    for agent in &report.agents {
        let k = ids.iter().position(|&id| id == agent.id).unwrap() as i32;
        let memory = match k {
            6 => 500,
            1 => 7,
            _ => i32::from_le_bytes(
                swarm
                    .read_memory(agent.id, 64, 4)
                    .unwrap()
                    .try_into()
                    .unwrap(),
            ),
        };
        assert_eq!(
            agent.outcome,
            Outcome::Finished(vec![Value::I32(k * 1000 + k + memory)]),
            "agent {k}"
        );
    }
    // A kill on device 1 frees its slot there only; the old id is stale everywhere.
    swarm.kill_many(&[ids[5], ids[2]]).unwrap();
    assert_eq!(swarm.device(0).agent_count(), 3);
    assert_eq!(swarm.device(1).agent_count(), 3);
    for op in [
        swarm.read_memory(ids[5], 0, 4).map(drop),
        swarm.write_memory(ids[2], 0, &[1]),
        swarm.kill(ids[5]),
    ] {
        assert!(matches!(
            op,
            Err(AccessError::Pool(PoolError::Stale { .. }))
        ));
    }
    // A kill with one stale id kills nothing.
    assert!(swarm.kill_many(&[ids[0], ids[5]]).is_err());
    assert_eq!(swarm.agent_count(), 6);
    // New agents fill the freed slots, one on each device.
    let again = swarm
        .spawn_many("steps", [[Value::I32(9)], [Value::I32(10)]])
        .unwrap();
    let mut slots: Vec<u32> = again.iter().map(|id| id.slot()).collect();
    slots.sort();
    assert_eq!(slots, [2, 5]);
    assert!(!again.contains(&ids[5]) && !again.contains(&ids[2]));
    // An id beyond every device's slots is stale, not a panic.
    let far = swarm_core::SlotPool::with_base(90, 1).spawn().unwrap();
    assert!(matches!(
        swarm.read_memory(far, 0, 1),
        Err(AccessError::Pool(PoolError::Stale { .. }))
    ));
    assert!(matches!(
        swarm.run_agents(&[ids[0], far]),
        Err(DispatchError::Pool(PoolError::Stale { .. }))
    ));
}

#[test]
fn a_lost_device_fails_for_its_own_agents_only() {
    let wasm = wat::parse_str(WORK).unwrap();
    let mut swarm = two_devices(8, 8);
    swarm.load_module(&wasm, &imports(&Arc::default())).unwrap();
    let calls: Vec<[Value; 1]> = (20..36).map(|n| [Value::I32(n)]).collect();
    let ids = swarm.spawn_many("steps", &calls).unwrap();
    swarm.lose_device(1);
    let report = swarm.run().unwrap();
    assert!(!report.is_complete());
    assert_eq!(report.failures.len(), 1);
    let failure = &report.failures[0];
    assert_eq!(failure.device, 1);
    assert_eq!(failure.agents, ids[8..]);
    assert!(
        matches!(
            failure.error,
            DispatchError::Gpu(GpuError::DeviceLost { .. })
        ),
        "{}",
        failure.error
    );
    // Device 0's agents ran to the end, with wasmtime's answers.
    assert_eq!(
        report.agents.iter().map(|a| a.id).collect::<Vec<_>>(),
        ids[..8]
    );
    assert_agents_match(&reference_wasm(), "steps", &report.agents, &calls[..8]);
    // They stay reachable; the lost device's agents answer with its error.
    assert!(swarm.read_memory(ids[3], 64, 4).is_ok());
    assert!(matches!(
        swarm.read_memory(ids[12], 64, 4),
        Err(AccessError::Gpu(GpuError::DeviceLost { .. }))
    ));
    assert!(swarm.device(1).is_lost() && !swarm.device(0).is_lost());
    // Later dispatches keep running device 0's agents.
    swarm.call(ids[2], "steps", &[Value::I32(27)]).unwrap();
    let report = swarm.run_agents(&[ids[2]]).unwrap();
    assert!(report.is_complete());
    assert_eq!(
        report.agents[0].outcome,
        Outcome::Finished(vec![Value::I32(111)])
    );
    // Killing the lost device's agents frees their slots; new agents go to device 0 only.
    swarm.kill_many(&ids[8..]).unwrap();
    assert_eq!(swarm.agent_count(), 8);
    swarm.kill_many(&ids[..4]).unwrap();
    let more = swarm
        .spawn_many("steps", (0..4).map(|n| [Value::I32(n + 40)]))
        .unwrap();
    assert!(more.iter().all(|&id| swarm.device_of(id) == Some(0)));
    assert!(matches!(
        swarm.spawn("steps", &[Value::I32(1)]),
        Err(SpawnError::Pool(PoolError::Full { capacity: 16 }))
    ));
    let report = swarm.run().unwrap();
    assert!(report.is_complete(), "no agent is left on the lost device");
    assert_eq!(report.agents.len(), 8);
}

#[test]
fn single_spawns_go_where_there_is_most_room_and_a_failed_spawn_leaves_no_agent() {
    let wasm = wat::parse_str(WORK).unwrap();
    let mut swarm = two_devices(4, 4);
    swarm.load_module(&wasm, &imports(&Arc::default())).unwrap();
    let devices: Vec<usize> = (0..6)
        .map(|n| {
            let id = swarm.spawn("steps", &[Value::I32(n)]).unwrap();
            swarm.device_of(id).unwrap()
        })
        .collect();
    assert_eq!(devices, [0, 1, 0, 1, 0, 1]);
    let live: Vec<AgentId> = swarm.live_agents().collect();
    swarm.kill_many(&live).unwrap();
    // Device 1's share holds a wrongly typed argument: device 0's share is undone too.
    let err = swarm
        .spawn_many(
            "steps",
            [
                vec![Value::I32(1)],
                vec![Value::I32(2)],
                vec![Value::I64(3)],
                vec![Value::I32(4)],
            ],
        )
        .unwrap_err();
    assert!(matches!(err, SpawnError::Arguments { .. }), "{err}");
    assert_eq!(swarm.agent_count(), 0);
    // An empty spawn still checks the export; a load waits for every device to be empty.
    assert!(matches!(
        swarm.spawn_many("nope", Vec::<Vec<Value>>::new()),
        Err(SpawnError::UnknownExport(_))
    ));
    let id = swarm.spawn("steps", &[Value::I32(5)]).unwrap();
    assert!(matches!(
        swarm.load_module(&wasm, &imports(&Arc::default())),
        Err(LoadError::AgentsAlive(1))
    ));
    swarm.kill(id).unwrap();
    swarm.load_module(&wasm, &imports(&Arc::default())).unwrap();
}

#[test]
fn a_start_function_runs_before_the_call_on_every_device() {
    let wasm = wat::parse_str(
        r#"(module
          (global $g (mut i32) (i32.const 0))
          (func $start (global.set $g (i32.const 100)))
          (start $start)
          (func (export "f") (param i32) (result i32)
            (i32.add (global.get $g) (local.get 0))))"#,
    )
    .unwrap();
    let mut swarm = two_devices(3, 3);
    swarm.load_module(&wasm, &Imports::new()).unwrap();
    let calls: Vec<[Value; 1]> = (0..6).map(|n| [Value::I32(n * 7)]).collect();
    let ids = swarm.spawn_many("f", &calls).unwrap();
    assert_eq!(swarm.device_of(ids[5]), Some(1));
    let report = swarm.run().unwrap();
    assert_agents_match(&wasm, "f", &report.agents, &calls);
}

#[test]
fn agent_ids_and_the_agent_count_are_the_whole_swarms() {
    let wasm = wat::parse_str(
        r#"(module
          (import "swarm" "agent_id" (func $id (result i32)))
          (import "swarm" "agent_count" (func $count (result i32)))
          (func (export "who") (result i32 i32) (call $id) (call $count)))"#,
    )
    .unwrap();
    let mut swarm = two_devices(3, 5);
    swarm.load_module(&wasm, &Imports::new()).unwrap();
    let ids = swarm.spawn_many("who", (0..7).map(|_| [])).unwrap();
    let report = swarm.run().unwrap();
    for (agent, id) in report.agents.iter().zip(&ids) {
        assert_eq!(
            agent.outcome,
            Outcome::Finished(vec![Value::I32(id.slot() as i32), Value::I32(7)]),
            "{id}"
        );
    }
    assert_eq!(swarm.device_of(ids[6]), Some(1));
}

#[test]
fn a_shards_ids_start_at_its_first_slot() {
    let wasm = wat::parse_str(
        r#"(module
          (import "swarm" "agent_id" (func $id (result i32)))
          (func (export "who") (result i32) (call $id)))"#,
    )
    .unwrap();
    // One device: ids, and `swarm.agent_id`, from slot 1000.
    let mut one = swarm_host::Swarm::new(SwarmConfig {
        first_slot: 1_000,
        ..config(4)
    })
    .unwrap();
    one.load_module(&wasm, &Imports::new()).unwrap();
    let ids = one.spawn_many("who", (0..4).map(|_| [])).unwrap();
    assert_eq!(ids[0].slot(), 1_000);
    let report = one.run().unwrap();
    assert_eq!(
        report.agents[3].outcome,
        Outcome::Finished(vec![Value::I32(1_003)])
    );
    // Two devices: from the first device's `first_slot`, the second's after it.
    let mut two = MultiSwarm::with_devices([
        (
            SwarmConfig {
                first_slot: 500,
                ..config(2)
            },
            AdapterRequest::from_env(),
        ),
        (config(2), AdapterRequest::from_env()),
    ])
    .unwrap();
    two.load_module(&wasm, &Imports::new()).unwrap();
    let ids = two.spawn_many("who", (0..4).map(|_| [])).unwrap();
    let report = two.run().unwrap();
    let got: Vec<Outcome> = report.agents.iter().map(|a| a.outcome.clone()).collect();
    let want: Vec<Outcome> = (500..504)
        .map(|slot| Outcome::Finished(vec![Value::I32(slot)]))
        .collect();
    assert_eq!(got, want);
    assert_eq!(two.device_of(ids[3]), Some(1));
    // A later device's `first_slot` is refused, naming the field.
    let err = MultiSwarm::with_devices([
        (config(2), AdapterRequest::from_env()),
        (
            SwarmConfig {
                first_slot: 9,
                ..config(2)
            },
            AdapterRequest::from_env(),
        ),
    ])
    .unwrap_err();
    assert!(
        err.to_string().contains("device 1 sets `first_slot`"),
        "{err}"
    );
}

#[test]
fn a_batch_over_two_devices_gives_each_agent_its_arguments_and_wasmtimes_results() {
    let wasm = wat::parse_str(
        r#"(module
          (func (export "mix") (param $a i32) (param $b i64) (param $c i32) (result i64)
            (i64.xor (local.get $b)
              (i64.extend_i32_s (i32.add (i32.mul (local.get $a) (i32.const 31))
                                         (local.get $c))))))"#,
    )
    .unwrap();
    let column: Vec<i64> = (0..40).map(|i| i * 1_000_003 - 7).collect();
    let args = [
        Arg::Index { start: -5, step: 7 },
        Arg::I64s(&column),
        Arg::Same(Value::I32(3)),
    ];
    let calls: Vec<[Value; 3]> = (0..40)
        .map(|i| {
            [
                Value::I32(-5 + 7 * i as i32),
                Value::I64(column[i]),
                Value::I32(3),
            ]
        })
        .collect();
    for lose in [false, true] {
        let mut swarm = two_devices(48, 16);
        swarm.load_module(&wasm, &Imports::new()).unwrap();
        // A column of the wrong length is refused before any device spawns.
        assert!(matches!(
            swarm.spawn_batch("mix", 41, &args),
            Err(SpawnError::BatchArgument { param: 1, .. })
        ));
        assert_eq!(swarm.agent_count(), 0);
        let batch = swarm.spawn_batch("mix", 40, &args).unwrap();
        let ids: Vec<AgentId> = batch.ids().collect();
        assert_eq!(swarm.device_of(ids[29]), Some(0));
        assert_eq!(swarm.device_of(ids[30]), Some(1));
        if lose {
            swarm.lose_device(1);
        }
        let report = swarm.run_batch(&batch).unwrap();
        assert_eq!(report.report.len(), 40);
        let ran = if lose { 30 } else { 40 };
        assert_eq!(report.failures.len(), usize::from(lose));
        if lose {
            assert_eq!(report.failures[0].agents, ids[30..]);
            assert!(
                report.report.outcomes[30..]
                    .iter()
                    .all(|o| *o == BatchOutcome::Suspended)
            );
        }
        for (i, call) in calls.iter().enumerate().take(ran) {
            let want = crate::reference::reference(&wasm, "mix", call).unwrap();
            assert_eq!(report.report.results(i), Some(want), "agent {i}");
        }
        swarm.kill_batch(batch).unwrap();
        assert_eq!(swarm.agent_count(), 0);
    }
    // An empty batch still reports the export's result types.
    let mut swarm = two_devices(4, 4);
    swarm.load_module(&wasm, &Imports::new()).unwrap();
    let empty = swarm
        .spawn_batch(
            "mix",
            0,
            &[Arg::INDEX, Arg::I64s(&[]), Arg::Same(Value::I32(0))],
        )
        .unwrap();
    assert!(empty.is_empty());
    let report = swarm.run_batch(&empty).unwrap();
    assert!(report.report.is_empty());
    assert_eq!(report.report.result_types(), [ValType::I64]);
}
