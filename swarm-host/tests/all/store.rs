//! Stores of linked instances, checked against wasmi linking the same modules: calls across
//! instances, a shared table, memory and mutable global, and a store grown around a live agent.

use swarm_host::{Export, Imports, Outcome, Store, StoreState, Swarm, SwarmConfig, Value};

use crate::differential::from_wasmi;

/// Owns the memory, a mutable counter and a table holding `square` at 0.
const LIB: &str = r#"(module
  (type $unary (func (param i32) (result i32)))
  (memory (export "memory") 1)
  (global $counter (export "counter") (mut i32) (i32.const 100))
  (table (export "table") 4 funcref)
  (elem (i32.const 0) $square)
  (func $square (type $unary) (i32.mul (local.get 0) (local.get 0)))
  (func (export "bump") (param i32) (result i32)
    (global.set $counter (i32.add (global.get $counter) (local.get 0)))
    (i32.store (i32.const 16) (global.get $counter))
    (global.get $counter)))"#;

/// Imports all of it, puts `cube` at table slot 1 and writes into the shared memory.
const APP: &str = r#"(module
  (type $unary (func (param i32) (result i32)))
  (import "lib" "bump" (func $bump (param i32) (result i32)))
  (import "lib" "memory" (memory 1))
  (import "lib" "table" (table 4 funcref))
  (import "lib" "counter" (global $counter (mut i32)))
  (elem (i32.const 1) $cube)
  (data (i32.const 32) "\2a")
  (func $cube (type $unary) (i32.mul (local.get 0) (i32.mul (local.get 0) (local.get 0))))
  (func (export "run") (param $x i32) (result i32 i32 i32)
    (i32.add (call $bump (local.get $x))
             (i32.add (call_indirect (type $unary) (local.get $x) (i32.const 0))
                      (call_indirect (type $unary) (local.get $x) (i32.const 1))))
    (i32.add (i32.load (i32.const 16)) (i32.load8_u (i32.const 32)))
    (global.get $counter)))"#;

/// Added to a live store: reads what the others left.
const PEEK: &str = r#"(module
  (import "lib" "memory" (memory 1))
  (import "lib" "counter" (global $counter (mut i32)))
  (import "lib" "table" (table 4 funcref))
  (type $unary (func (param i32) (result i32)))
  (func (export "peek") (result i32 i32)
    (i32.add (global.get $counter) (i32.load (i32.const 16)))
    (call_indirect (type $unary) (i32.const 3) (i32.const 1))))"#;

fn wasm(text: &str) -> Vec<u8> {
    wat::parse_str(text).unwrap()
}

/// Adds `text` to `store`, resolving each `lib` import to the first instance's export.
fn link(store: &mut Store, text: &str) -> usize {
    let bytes = wasm(text);
    let imports = Store::imports(&bytes).unwrap();
    let resolved = imports
        .iter()
        .map(|import| {
            assert_eq!(import.module, "lib");
            let export = store.instances()[0].exports[&import.name];
            assert!(store.extern_type(export).unwrap().matches(&import.ty));
            Some(export)
        })
        .collect();
    store.add(&bytes, resolved).unwrap()
}

fn func(store: &Store, instance: usize, name: &str) -> u32 {
    match store.instances()[instance].exports[name] {
        Export::Func(f) => f,
        other => panic!("{name} is {other:?}"),
    }
}

/// wasmi's store with `lib` and then each of `texts` instantiated, and their instances.
fn reference(texts: &[&str]) -> (wasmi::Store<()>, Vec<wasmi::Instance>) {
    let engine = wasmi::Engine::default();
    let mut store = wasmi::Store::new(&engine, ());
    let mut linker = wasmi::Linker::<()>::new(&engine);
    let mut instances = Vec::new();
    for (i, text) in [LIB].iter().chain(texts).enumerate() {
        let module = wasmi::Module::new(&engine, wasm(text)).unwrap();
        let instance = linker.instantiate_and_start(&mut store, &module).unwrap();
        if i == 0 {
            linker.instance(&mut store, "lib", instance).unwrap();
        }
        instances.push(instance);
    }
    (store, instances)
}

fn call_wasmi(
    store: &mut wasmi::Store<()>,
    instance: wasmi::Instance,
    name: &str,
    args: &[wasmi::Val],
    results: usize,
) -> Vec<Value> {
    let func = instance.get_func(&*store, name).unwrap();
    let mut out = vec![wasmi::Val::I32(0); results];
    func.call(&mut *store, args, &mut out).unwrap();
    out.iter().map(from_wasmi).collect()
}

fn finished(outcome: &Outcome) -> Vec<Value> {
    match outcome {
        Outcome::Finished(values) => values.clone(),
        other => panic!("expected results, got {other:?}"),
    }
}

#[test]
fn linked_instances_share_functions_tables_memory_and_a_global() {
    let mut store = Store::new();
    store.add(&wasm(LIB), Vec::new()).unwrap();
    let app = link(&mut store, APP);
    let run = func(&store, app, "run");

    let mut swarm = Swarm::new(SwarmConfig {
        max_agents: 64,
        value_stack_slots: 128,
        call_frames: 16,
        ..SwarmConfig::default()
    })
    .unwrap();
    swarm
        .load_store(&store, &StoreState::new(), &Imports::new())
        .unwrap();
    let agents: Vec<_> = (0..64).map(|_| swarm.spawn_instance().unwrap()).collect();
    swarm.run().unwrap();
    for (i, agent) in agents.iter().enumerate() {
        swarm
            .call_func(*agent, run, &[Value::I32(i as i32 * 7 - 100)])
            .unwrap();
    }
    let report = swarm.run().unwrap();
    for (i, agent) in report.agents.iter().enumerate() {
        let (mut wasmi_store, instances) = reference(&[APP]);
        let arg = wasmi::Val::I32(i as i32 * 7 - 100);
        let expected = call_wasmi(&mut wasmi_store, instances[1], "run", &[arg], 3);
        assert_eq!(finished(&agent.outcome), expected, "agent {i}");
    }
}

#[test]
fn a_store_grown_around_a_live_agent_keeps_its_state() {
    let mut store = Store::new();
    store.add(&wasm(LIB), Vec::new()).unwrap();
    let app = link(&mut store, APP);
    let run = func(&store, app, "run");
    let mut swarm = Swarm::new(SwarmConfig {
        max_agents: 2,
        value_stack_slots: 128,
        call_frames: 16,
        ..SwarmConfig::default()
    })
    .unwrap();
    swarm
        .load_store(&store, &StoreState::new(), &Imports::new())
        .unwrap();
    let agent = swarm.spawn_instance().unwrap();
    swarm.run().unwrap();
    for x in [5, 9] {
        swarm.call_func(agent, run, &[Value::I32(x)]).unwrap();
        swarm.run().unwrap();
    }

    // The agent's state, then the store with one more instance around it.
    let state = swarm.snapshot(agent).unwrap();
    assert_eq!(state.instances(), 2);
    swarm.kill(agent).unwrap();
    let peek = link(&mut store, PEEK);
    swarm.load_store(&store, &state, &Imports::new()).unwrap();
    let agent = swarm.spawn_instance().unwrap();
    swarm.run().unwrap();
    swarm
        .call(agent, "peek", &[])
        .expect("the last instance's exports are the store's");
    let report = swarm.run().unwrap();
    let got = finished(&report.agents[0].outcome);

    let engine_texts = [APP];
    let (mut wasmi_store, mut instances) = reference(&engine_texts);
    for x in [5, 9] {
        call_wasmi(
            &mut wasmi_store,
            instances[1],
            "run",
            &[wasmi::Val::I32(x)],
            3,
        );
    }
    let engine = wasmi_store.engine().clone();
    let mut linker = wasmi::Linker::<()>::new(&engine);
    linker
        .instance(&mut wasmi_store, "lib", instances[0])
        .unwrap();
    let module = wasmi::Module::new(&engine, wasm(PEEK)).unwrap();
    let instance = linker
        .instantiate_and_start(&mut wasmi_store, &module)
        .unwrap();
    instances.push(instance);
    let expected = call_wasmi(&mut wasmi_store, instances[2], "peek", &[], 2);
    assert_eq!(got, expected);
    assert_eq!(
        func(&store, peek, "peek"),
        store.program().funcs.len() as u32 - 1
    );
}

/// Two instances with a memory each: `lib` counts into its memory, `app` into its own, and
/// every call of `lib` switches the memory the agent addresses, and back on return.
const LIB_MEMORY: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "note") (param $i i32) (result i32)
    (i32.store (i32.const 8) (i32.add (i32.load (i32.const 8)) (local.get $i)))
    (i32.add (i32.mul (i32.load (i32.const 8)) (i32.const 10)) (memory.size))))"#;

const APP_MEMORY: &str = r#"(module
  (import "lib" "note" (func $note (param i32) (result i32)))
  (memory 3)
  (func (export "run") (param $n i32) (result i32 i32 i32) (local $i i32) (local $noted i32)
    (loop $again
      (i32.store (i32.const 8) (i32.add (i32.load (i32.const 8)) (i32.const 1000)))
      (local.set $noted (call $note (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (local.get $n))))
    (i32.load (i32.const 8)) (local.get $noted) (memory.size)))"#;

#[test]
fn each_instance_addresses_its_own_memory_across_calls_and_suspensions() {
    let mut store = Store::new();
    store.add(&wasm(LIB_MEMORY), Vec::new()).unwrap();
    let app = link(&mut store, APP_MEMORY);
    assert_eq!(store.program().memories.len(), 2);
    let run = func(&store, app, "run");
    // A small fuel slice suspends the agents inside both instances' functions.
    let mut swarm = Swarm::new(SwarmConfig {
        max_agents: 8,
        value_stack_slots: 128,
        call_frames: 16,
        max_memory_pages: 8,
        fuel_per_dispatch: 7,
        ..SwarmConfig::default()
    })
    .unwrap();
    swarm
        .load_store(&store, &StoreState::new(), &Imports::new())
        .unwrap();
    let agents: Vec<_> = (0..8).map(|_| swarm.spawn_instance().unwrap()).collect();
    swarm.run().unwrap();
    for (i, agent) in agents.iter().enumerate() {
        swarm
            .call_func(*agent, run, &[Value::I32(i as i32 + 3)])
            .unwrap();
    }
    let report = swarm.run().unwrap();
    for (i, agent) in report.agents.iter().enumerate() {
        let engine = wasmi::Engine::default();
        let mut wasmi_store = wasmi::Store::new(&engine, ());
        let mut linker = wasmi::Linker::<()>::new(&engine);
        let lib = wasmi::Module::new(&engine, wasm(LIB_MEMORY)).unwrap();
        let lib = linker
            .instantiate_and_start(&mut wasmi_store, &lib)
            .unwrap();
        linker.instance(&mut wasmi_store, "lib", lib).unwrap();
        let module = wasmi::Module::new(&engine, wasm(APP_MEMORY)).unwrap();
        let app = linker
            .instantiate_and_start(&mut wasmi_store, &module)
            .unwrap();
        let arg = wasmi::Val::I32(i as i32 + 3);
        let mut expected = call_wasmi(&mut wasmi_store, app, "run", &[arg], 3);
        // And what `lib`'s memory holds.
        let note = call_wasmi(&mut wasmi_store, lib, "note", &[wasmi::Val::I32(0)], 1);
        expected.extend(note);
        let mut got = finished(&agent.outcome);
        swarm
            .call_func(agents[i], func(&store, 0, "note"), &[Value::I32(0)])
            .unwrap();
        got.extend(finished(
            &swarm.run_agents(&[agents[i]]).unwrap().agents[0].outcome,
        ));
        assert_eq!(got, expected, "agent {i}");
        assert!(
            agent.instructions > 7,
            "the call spanned several dispatches"
        );
    }
}
