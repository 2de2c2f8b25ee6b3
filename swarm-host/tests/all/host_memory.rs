//! Host functions that read and write their callers' memories (`Imports::func_with_memory`):
//! forty agents in two chunks (on lavapipe) write strings at overlapping places and of
//! different extents, a host function
//! upper-cases each agent's string in place and another fills a long unaligned run, and
//! every agent's results, traps and whole memory must be wasmtime's, whose host functions do
//! the same through their caller's memory. The agent reads the host's writes back itself
//! after the call, so a write that landed late, in another agent or in a neighbour's
//! granules would show.

use std::sync::{Arc, Mutex};

use swarm_host::{
    AgentId, DeviceLimits, HostCall, HostMemory, HostMemoryError, Imports, Outcome, Swarm,
    SwarmConfig, TrapCode, ValType, Value,
};

const MODULE: &str = r#"(module
  (import "env" "upper" (func $upper (param i32 i32) (result i32)))
  (import "env" "fill" (func $fill (param i32 i32 i32) (result i32)))
  (memory (export "memory") 2 4)
  (func (export "idle") (result i64) (i64.const 0))
  ;; The bytes at [p, p + n), each weighted by its position.
  (func $sum (param $p i32) (param $n i32) (result i64) (local $i i32) (local $acc i64)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc (i64.add (local.get $acc)
          (i64.mul (i64.extend_i32_u (i32.add (local.get $i) (i32.const 1)))
            (i64.load8_u (i32.add (local.get $p) (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $acc))
  (func (export "run") (param $seed i32) (result i64)
    (local $p i32) (local $n i32) (local $i i32) (local $x i32) (local $acc i64)
    (local $q i32) (local $m i32)
    (if (i32.eqz (i32.rem_u (local.get $seed) (i32.const 3)))
      (then (drop (memory.grow (i32.const 1)))))
    ;; A string of 1 to 300 bytes from 0x5b to 0x82 (letters and others) at an odd place,
    ;; 13 bytes after the last seed's: the agents' strings share rows of their tile.
    (local.set $p (i32.add (i32.const 1001) (i32.mul (local.get $seed) (i32.const 13))))
    (local.set $n (i32.add (i32.const 1)
      (i32.rem_u (i32.mul (local.get $seed) (i32.const 37)) (i32.const 300))))
    (local.set $x (i32.or (local.get $seed) (i32.const 1)))
    (loop $w
      (local.set $x (i32.add (i32.mul (local.get $x) (i32.const 1103515245)) (i32.const 12345)))
      (i32.store8 (i32.add (local.get $p) (local.get $i))
        (i32.add (i32.const 0x5b) (i32.rem_u (i32.shr_u (local.get $x) (i32.const 16)) (i32.const 40))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $w (i32.lt_u (local.get $i) (local.get $n))))
    (if (i32.eq (i32.rem_u (local.get $seed) (i32.const 11)) (i32.const 5))
      (then
        ;; Past the end of memory: the host answers with a trap.
        (drop (call $upper
          (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 3)) (i32.const 10)))))
    (local.set $acc (i64.extend_i32_u (call $upper (local.get $p) (local.get $n))))
    (local.set $acc (i64.add (i64.mul (local.get $acc) (i64.const 1000003))
      (call $sum (local.get $p) (local.get $n))))
    ;; A run of up to 4,407 bytes across many granules, and the memory's size back.
    (local.set $q (i32.add (i32.const 50001) (local.get $seed)))
    (local.set $m (i32.mul (local.get $seed) (i32.const 113)))
    (local.set $acc (i64.add (i64.mul (local.get $acc) (i64.const 31))
      (i64.extend_i32_u (call $fill (local.get $q) (local.get $m) (local.get $seed)))))
    (i64.add (i64.mul (local.get $acc) (i64.const 7))
      (call $sum (i32.sub (local.get $q) (i32.const 5)) (i32.add (local.get $m) (i32.const 10))))))"#;

const AGENTS: i32 = 40;

/// What `upper` does to a string: lowercase ASCII letters become capitals; it answers the
/// sum of the new bytes.
fn upper(bytes: &[u8]) -> (Vec<u8>, i32) {
    let upper = bytes.to_ascii_uppercase();
    let sum = upper.iter().map(|&b| i32::from(b)).sum();
    (upper, sum)
}

fn memory_arg(value: &Value) -> u64 {
    match value {
        Value::I32(v) => u64::from(*v as u32),
        other => unreachable!("typed by the signature: {other:?}"),
    }
}

/// The imports of the swarm; `idle` is an agent that never calls them, whose memory each batch
/// must find out of its reach.
fn imports(idle: Arc<Mutex<Option<AgentId>>>) -> Imports {
    let mut imports = Imports::new();
    imports
        .func_with_memory(
            "env",
            "upper",
            &[ValType::I32, ValType::I32],
            &[ValType::I32],
            move |calls: &[HostCall], memory: &mut HostMemory<'_>| {
                let idle = idle.lock().unwrap().expect("spawned before the run");
                assert!(matches!(
                    memory.read(idle, 0, 1),
                    Err(HostMemoryError::NotCaller(id)) if id == idle
                ));
                let reads: Vec<(AgentId, u64, u64)> = calls
                    .iter()
                    .map(|c| (c.agent, memory_arg(&c.args[0]), memory_arg(&c.args[1])))
                    .collect();
                let strings = memory.read_many(&reads);
                reads
                    .iter()
                    .zip(strings)
                    .map(|(&(agent, at, _), string)| match string {
                        Ok(string) => {
                            let (string, sum) = upper(&string);
                            memory.write(agent, at, &string).unwrap();
                            Ok(vec![Value::I32(sum)])
                        }
                        Err(HostMemoryError::OutOfBounds { .. }) => {
                            Err(TrapCode::MemoryOutOfBounds.into())
                        }
                        Err(other) => panic!("{other}"),
                    })
                    .collect()
            },
        )
        .func_with_memory(
            "env",
            "fill",
            &[ValType::I32, ValType::I32, ValType::I32],
            &[ValType::I32],
            |calls: &[HostCall], memory: &mut HostMemory<'_>| {
                calls
                    .iter()
                    .map(|c| {
                        let (at, len) = (memory_arg(&c.args[0]), memory_arg(&c.args[1]));
                        let byte = memory_arg(&c.args[2]) as u8;
                        memory
                            .write(c.agent, at, &vec![byte; len as usize])
                            .unwrap();
                        Ok(vec![Value::I32(memory.size(c.agent).unwrap() as i32)])
                    })
                    .collect()
            },
        );
    imports
}

/// wasmtime's run of `seed`: its result (`None` for a trap) and its memory afterwards.
fn reference(module: &wasmtime::Module, seed: i32) -> (Option<i64>, Vec<u8>) {
    fn memory(caller: &mut wasmtime::Caller<'_, ()>) -> wasmtime::Memory {
        caller.get_export("memory").unwrap().into_memory().unwrap()
    }
    let mut linker = wasmtime::Linker::new(module.engine());
    linker
        .func_wrap(
            "env",
            "upper",
            |mut caller: wasmtime::Caller<'_, ()>, at: i32, len: i32| -> wasmtime::Result<i32> {
                let memory = memory(&mut caller);
                let mut string = vec![0; len as u32 as usize];
                memory
                    .read(&caller, at as u32 as usize, &mut string)
                    .map_err(|_| wasmtime::Trap::MemoryOutOfBounds)?;
                let (string, sum) = upper(&string);
                memory.write(&mut caller, at as u32 as usize, &string)?;
                Ok(sum)
            },
        )
        .unwrap()
        .func_wrap(
            "env",
            "fill",
            |mut caller: wasmtime::Caller<'_, ()>,
             at: i32,
             len: i32,
             byte: i32|
             -> wasmtime::Result<i32> {
                let memory = memory(&mut caller);
                let run = vec![byte as u8; len as u32 as usize];
                memory.write(&mut caller, at as u32 as usize, &run)?;
                Ok(memory.data_size(&caller) as i32)
            },
        )
        .unwrap();
    let mut store = wasmtime::Store::new(module.engine(), ());
    let instance = linker.instantiate(&mut store, module).unwrap();
    let run = instance
        .get_typed_func::<i32, i64>(&mut store, "run")
        .unwrap();
    let result = run.call(&mut store, seed).ok();
    let memory = instance.get_memory(&mut store, "memory").unwrap();
    (result, memory.data(&store).to_vec())
}

#[test]
fn host_functions_read_and_write_their_callers_memories_as_wasmtimes_do() {
    let wasm = wat::parse_str(MODULE).unwrap();
    let idle = Arc::new(Mutex::new(None));
    // 4 MiB of memory an agent: lavapipe's 128 MiB bindings hold 32 agents a chunk.
    let config = SwarmConfig {
        max_agents: AGENTS as u32 + 1,
        max_memory_pages: 64,
        ..SwarmConfig::default()
    };
    let layout = swarm_core::Layout::new(&config, &DeviceLimits::LAVAPIPE).unwrap();
    assert_eq!(layout.chunk_count(), 2);
    let mut swarm = Swarm::new(config).unwrap();
    swarm
        .load_module(&wasm, &imports(Arc::clone(&idle)))
        .unwrap();
    let ids = swarm
        .spawn_many("run", (0..AGENTS).map(|seed| [Value::I32(seed)]))
        .unwrap();
    *idle.lock().unwrap() = Some(swarm.spawn("idle", &[]).unwrap());
    let report = swarm.run().unwrap();

    let module = wasmtime::Module::new(&wasmtime::Engine::default(), &wasm).unwrap();
    for (seed, id) in (0..AGENTS).zip(ids) {
        let (expected, memory) = reference(&module, seed);
        let agent = report.agents.iter().find(|a| a.id == id).unwrap();
        match expected {
            Some(value) => assert_eq!(
                agent.outcome,
                Outcome::Finished(vec![Value::I64(value)]),
                "seed {seed}"
            ),
            None => assert_eq!(
                agent.outcome,
                Outcome::Trapped(TrapCode::MemoryOutOfBounds),
                "seed {seed}"
            ),
        }
        let ours = swarm.read_memory(id, 0, memory.len() as u64).unwrap();
        let differs = ours.iter().zip(&memory).position(|(a, b)| a != b);
        assert_eq!(differs, None, "seed {seed}: memories differ at this byte");
    }
    // Some agents trapped, and the others finished.
    let trapped = (0..AGENTS).filter(|s| s % 11 == 5).count();
    assert_eq!(
        report
            .agents
            .iter()
            .filter(|a| matches!(a.outcome, Outcome::Trapped(_)))
            .count(),
        trapped
    );

    // The host's writes count as the agents' own: the slots' next tenants start from the
    // module's memory (two pages of zeros), the filled runs the agents never stored included.
    let everyone: Vec<AgentId> = report.agents.iter().map(|a| a.id).collect();
    swarm.kill_many(&everyone).unwrap();
    let fresh = swarm
        .spawn_many("idle", (0..=AGENTS).map(|_| [] as [Value; 0]))
        .unwrap();
    swarm.run().unwrap();
    for id in fresh {
        let memory = swarm.read_memory(id, 0, 2 * 65_536).unwrap();
        assert_eq!(memory.iter().position(|&b| b != 0), None, "{id}");
    }
}
