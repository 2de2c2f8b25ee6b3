//! Fuel is wasmtime's: a call consumes what wasmtime's fuel counts (instructions, function
//! entries, bulk bytes and elements, pages and elements grown), and a lifetime limit of N stops
//! an agent where wasmtime's fuel N stops the same call, at the same check point, with the same
//! state left behind.

use swarm_host::{Imports, Outcome, Swarm, SwarmConfig, TrapCode, Value};

use crate::reference::trap_of;

/// `run(k)` first charges `k` fuel with a `memory.fill` of `k` zero bytes (one fuel per byte),
/// so that across agents `k = 0, 1, 2, ...` the same fixed budget runs out at every point of
/// the rest: calls and indirect calls, loops, bulk instructions with small, large and computed
/// counts, and grows that succeed and fail.
const FUEL: &str = r#"(module
  (type $unary (func (param i32) (result i32)))
  (memory (export "mem") 1 3)
  (table $t (export "tab") 4 16 funcref)
  (global $steps (export "steps") (mut i32) (i32.const 0))
  (global $acc (export "acc") (mut i64) (i64.const 0))
  (data $d "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
  (elem $e func $leaf $twice)
  (func $leaf (type $unary)
    (global.set $steps (i32.add (global.get $steps) (i32.const 1)))
    (i32.mul (local.get 0) (i32.const 3)))
  (func $twice (type $unary)
    (call $leaf (call $leaf (local.get 0))))
  (func (export "run") (param $k i32) (result i32) (local $i i32) (local $n i32)
    (memory.fill (i32.const 60000) (i32.const 0) (local.get $k))
    ;; A loop of direct calls and stores.
    (loop $l
      (i32.store (i32.shl (local.get $i) (i32.const 2)) (call $twice (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 4))))
    ;; Small constant counts: charged at once, no check.
    (memory.fill (i32.const 100) (i32.const 7) (i32.const 16))
    (memory.copy (i32.const 200) (i32.const 0) (i32.const 20))
    (memory.init $d (i32.const 300) (i32.const 0) (i32.const 8))
    (local.set $n (i32.const 40))
    (memory.copy (i32.const 400) (i32.const 300) (local.get $n))
    ;; Large constant counts: a check after each.
    (memory.fill (i32.const 1000) (i32.const 9) (i32.const 200))
    (memory.init $d (i32.const 1300) (i32.const 0) (i32.const 150))
    ;; Computed counts, in a loop: a check after each.
    (local.set $i (i32.const 0))
    (loop $l
      (memory.copy (i32.add (i32.const 2000) (i32.mul (local.get $i) (i32.const 50)))
                   (i32.const 1000) (i32.add (local.get $i) (i32.const 30)))
      (global.set $acc (i64.add (global.get $acc) (i64.load (i32.const 2000))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 3))))
    ;; Grows: a small constant that succeeds, one that fails (both charged), a computed one.
    (global.set $acc (i64.add (global.get $acc) (i64.extend_i32_s (memory.grow (i32.const 1)))))
    (global.set $acc (i64.add (global.get $acc) (i64.extend_i32_s (memory.grow (i32.const 100)))))
    (global.set $acc (i64.add (global.get $acc)
      (i64.extend_i32_s (memory.grow (i32.rem_u (local.get $k) (i32.const 3))))))
    ;; Counts that are constants as wasmtime's translator sees them (no check), or not.
    (local.set $n (i32.const 24))
    (if (i32.and (local.get $k) (i32.const 1))
      (then (global.set $steps (i32.add (global.get $steps) (i32.const 1)))))
    (memory.fill (i32.const 2400) (i32.const 1) (local.get $n))
    (if (i32.and (local.get $k) (i32.const 2))
      (then (local.set $n (i32.const 24)))
      (else (local.set $n (i32.const 24))))
    (memory.fill (i32.const 2430) (i32.const 2) (local.get $n))
    (local.set $n (i32.const 12))
    (local.set $i (i32.const 0))
    (loop $l
      (memory.fill (i32.add (i32.const 2460) (local.get $i)) (i32.const 3) (local.get $n))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 2))))
    (memory.fill (i32.const 2480) (i32.const 4) (local.get $n))
    (memory.fill (i32.const 2500) (i32.const 5) (local.tee $n (i32.const 9)))
    (local.set $i (i32.const 0))
    (loop $l
      (local.set $n (i32.const 10))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 2))))
    (memory.fill (i32.const 2510) (i32.const 6) (local.get $n))
    (local.set $i (i32.const 0))
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 2))))
    (memory.fill (i32.const 2520) (i32.const 7) (local.get $n))
    ;; Results: of a block or loop reached only by falling through (constants), of branches
    ;; joining (new values).
    (memory.fill (i32.const 2530) (i32.const 8) (block (result i32) (i32.const 9)))
    (memory.fill (i32.const 2540) (i32.const 9) (loop (result i32) (i32.const 9)))
    (memory.fill (i32.const 2550) (i32.const 10)
      (block $b (result i32) (drop (br_if $b (i32.const 9) (i32.and (local.get $k) (i32.const 4)))) (i32.const 9)))
    (memory.fill (i32.const 2560) (i32.const 11)
      (if (result i32) (i32.and (local.get $k) (i32.const 8)) (then (i32.const 9)) (else (i32.const 9))))
    (memory.fill (i32.const 2570) (i32.const 12)
      (if (result i32) (i32.const 0) (then (return (i32.const 1))) (else (i32.const 9))))
    (i32.const 9) (block (global.set $acc (i64.add (global.get $acc) (i64.const 1)))) (local.set $n)
    (memory.fill (i32.const 2580) (i32.const 13) (local.get $n))
    (if (i32.and (local.get $k) (i32.const 16))
      (then (memory.fill (i32.const 2590) (i32.const 14) (local.get $n))))
    ;; Tables: grown, filled, copied, initialised, called through.
    (drop (table.grow $t (ref.func $leaf) (i32.const 2)))
    (drop (table.grow $t (ref.null func) (i32.rem_u (local.get $k) (i32.const 5))))
    (table.fill $t (i32.const 0) (ref.func $leaf) (i32.const 3))
    (table.copy $t $t (i32.const 3) (i32.const 0) (i32.const 3))
    (table.init $t $e (i32.const 1) (i32.const 0) (i32.const 2))
    (global.set $acc (i64.add (global.get $acc)
      (i64.extend_i32_u (call_indirect (type $unary) (i32.const 5) (i32.const 2)))))
    (i32.add (global.get $steps) (i32.load (i32.const 12))))
)"#;

/// What a call came to: its end, the fuel it consumed when it returned without a limit (past a
/// limit, wasmtime's store reports none left rather than how far past), and the exported state.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    end: Result<Vec<Value>, TrapCode>,
    fuel: Option<u64>,
    steps: u64,
    acc: u64,
    pages: u32,
    memory: Vec<u8>,
    table: Vec<bool>,
}

/// The bytes of memory the program touches.
const OBSERVED_BYTES: usize = 2_700;

fn wasmtime_runs(wasm: &[u8], budget: Option<u64>, ks: &[i32]) -> Vec<Seen> {
    let mut config = wasmtime::Config::new();
    config.consume_fuel(true);
    let engine = wasmtime::Engine::new(&config).unwrap();
    let module = wasmtime::Module::new(&engine, wasm).unwrap();
    ks.iter()
        .map(|&k| {
            let mut store = wasmtime::Store::new(&engine, ());
            store.set_fuel(budget.unwrap_or(u64::MAX >> 1)).unwrap();
            let instance = wasmtime::Instance::new(&mut store, &module, &[]).unwrap();
            let run = instance
                .get_typed_func::<i32, i32>(&mut store, "run")
                .unwrap();
            let before = store.get_fuel().unwrap();
            let end = run.call(&mut store, k).map(|v| vec![Value::I32(v)]);
            let spent = before - store.get_fuel().unwrap();
            let end = end.map_err(|err| {
                let message = err
                    .downcast_ref::<wasmtime::Trap>()
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| format!("{err:#}"));
                trap_of(&message).unwrap_or_else(|| panic!("run({k}): wasmtime says {message}"))
            });
            let mut global = |name| match instance
                .get_global(&mut store, name)
                .unwrap()
                .get(&mut store)
            {
                wasmtime::Val::I32(v) => u64::from(v as u32),
                wasmtime::Val::I64(v) => v as u64,
                other => panic!("{other:?}"),
            };
            let (steps, acc) = (global("steps"), global("acc"));
            let memory = instance.get_memory(&mut store, "mem").unwrap();
            let pages = memory.size(&store) as u32;
            let bytes = memory.data(&store)[..OBSERVED_BYTES].to_vec();
            let table = instance.get_table(&mut store, "tab").unwrap();
            let elements = (0..table.size(&store))
                .map(|i| matches!(table.get(&mut store, i), Some(wasmtime::Ref::Func(Some(_)))))
                .collect();
            Seen {
                fuel: (budget.is_none() && end.is_ok()).then_some(spent),
                end,
                steps,
                acc,
                pages,
                memory: bytes,
                table: elements,
            }
        })
        .collect()
}

fn swarm_runs(wasm: &[u8], budget: Option<u64>, slice: u64, ks: &[i32]) -> Vec<Seen> {
    let mut swarm = Swarm::new(SwarmConfig {
        max_agents: ks.len() as u32,
        max_memory_pages: 3,
        max_table_elements: 16,
        value_stack_slots: 64,
        call_frames: 8,
        fuel_per_dispatch: slice,
        fuel_total: budget,
        ..SwarmConfig::default()
    })
    .unwrap();
    swarm.load_module(wasm, &Imports::new()).unwrap();
    let args: Vec<[Value; 1]> = ks.iter().map(|&k| [Value::I32(k)]).collect();
    let ids = swarm.spawn_many("run", &args).unwrap();
    let report = swarm.run().unwrap();
    ids.iter()
        .zip(&report.agents)
        .map(|(id, agent)| {
            assert_eq!(agent.id, *id);
            let end = match &agent.outcome {
                Outcome::Finished(values) => Ok(values.clone()),
                Outcome::Trapped(trap) => Err(*trap),
                other => panic!("agent {id} did not finish: {other:?}"),
            };
            let state = swarm.snapshot(*id).unwrap();
            let (pages, bytes) = state.memory(0).unwrap();
            Seen {
                fuel: (budget.is_none() && end.is_ok()).then_some(agent.fuel),
                end,
                steps: state.global_bits(0).unwrap() & 0xffff_ffff,
                acc: state.global_bits(1).unwrap(),
                pages,
                memory: {
                    // A snapshot holds memory up to its last nonzero byte.
                    let mut bytes = bytes[..bytes.len().min(OBSERVED_BYTES)].to_vec();
                    bytes.resize(OBSERVED_BYTES, 0);
                    bytes
                },
                table: state
                    .table(0)
                    .unwrap()
                    .iter()
                    .map(|e| *e != u32::MAX)
                    .collect(),
            }
        })
        .collect()
}

#[test]
fn a_call_consumes_the_fuel_wasmtime_counts() {
    let wasm = wat::parse_str(FUEL).unwrap();
    let ks: Vec<i32> = (0..16).chain([100, 1000]).collect();
    let want = wasmtime_runs(&wasm, None, &ks);
    let got = swarm_runs(&wasm, None, 1 << 30, &ks);
    for ((k, want), got) in ks.iter().zip(&want).zip(&got) {
        assert!(want.end.is_ok(), "run({k}) returns");
        assert_eq!(got, want, "run({k})");
    }
    // The count is more than the instructions: entries, bytes and elements, pages.
    let report_fuel = got[0].fuel.unwrap();
    assert!(report_fuel > 400, "{report_fuel}");
}

/// Agent `k` spends `k` more fuel before the same work, so a budget just above one call's
/// fuel runs out at every check point of the work, in some agent; in tiny slices as well.
#[test]
fn a_fuel_limit_stops_where_wasmtime_stops() {
    let wasm = wat::parse_str(FUEL).unwrap();
    let full = wasmtime_runs(&wasm, None, &[0])[0].fuel.unwrap();
    let budget = full + 1;
    let ks: Vec<i32> = (0..=budget as i32 + 1).collect();
    let want = wasmtime_runs(&wasm, Some(budget), &ks);
    let out_of_fuel = want
        .iter()
        .filter(|s| s.end == Err(TrapCode::OutOfFuel))
        .count();
    assert!(out_of_fuel > ks.len() / 2, "{out_of_fuel} of {}", ks.len());
    for slice in [1 << 30, 5] {
        let got = swarm_runs(&wasm, Some(budget), slice, &ks);
        // One line per agent that disagrees, so that a failure shows its pattern.
        let wrong: Vec<String> = ks
            .iter()
            .zip(&want)
            .zip(&got)
            .filter(|((_, want), got)| got != want)
            .map(|((k, want), got)| {
                let byte = (0..OBSERVED_BYTES).find(|i| got.memory[*i] != want.memory[*i]);
                format!(
                    "run({k}): swarm {:?} steps {} acc {} pages {} table {}; wasmtime {:?} \
                     steps {} acc {} pages {} table {}; first byte apart {byte:?}",
                    got.end,
                    got.steps,
                    got.acc,
                    got.pages,
                    got.table.len(),
                    want.end,
                    want.steps,
                    want.acc,
                    want.pages,
                    want.table.len(),
                )
            })
            .collect();
        assert!(
            wrong.is_empty(),
            "fuel {budget}, slices of {slice}:\n{}",
            wrong.join("\n")
        );
    }
}

/// Whether a bulk instruction checks fuel after it depends on whether wasmtime's translator
/// sees its count as a constant: each case ends with a `memory.fill` whose count is a small
/// number reached in a different way, and swarm's lowering must mark it for a check exactly
/// where wasmtime, given just the fuel to reach the end of that fill, stops after it.
#[test]
fn bulk_counts_are_constants_where_wasmtime_sees_constants() {
    let head = r#"(module (memory (export "mem") 1 3) (table $t (export "tab") 4 16 funcref)
  (global $steps (export "steps") (mut i32) (i32.const 0)) (global $acc (export "acc") (mut i64) (i64.const 0))
  (func $g)
  (func (export "run") (param $k i32) (result i32) (local $i i32) (local $n i32)
"#;
    let cases = [
        (
            "afterloop_read",
            "(local.set $n (i32.const 12)) (loop $l (global.set $steps (local.get $n)) (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (i32.const 2)))) (memory.fill (i32.const 100) (i32.const 4) (local.get $n))",
        ),
        (
            "afterloop_noread",
            "(local.set $n (i32.const 12)) (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (i32.const 2)))) (memory.fill (i32.const 100) (i32.const 4) (local.get $n))",
        ),
        (
            "loop_write",
            "(loop $l (local.set $n (i32.const 10)) (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (i32.const 2)))) (memory.fill (i32.const 100) (i32.const 4) (local.get $n))",
        ),
        (
            "loop_result",
            "(memory.fill (i32.const 100) (i32.const 4) (loop (result i32) (i32.const 9)))",
        ),
        (
            "block_result",
            "(memory.fill (i32.const 100) (i32.const 4) (block (result i32) (i32.const 9)))",
        ),
        (
            "block_br",
            "(memory.fill (i32.const 100) (i32.const 4) (block $b (result i32) (drop (br_if $b (i32.const 9) (local.get $k))) (i32.const 9)))",
        ),
        (
            "if_result",
            "(memory.fill (i32.const 100) (i32.const 4) (if (result i32) (local.get $k) (then (i32.const 9)) (else (i32.const 9))))",
        ),
        (
            "if_unreach",
            "(memory.fill (i32.const 100) (i32.const 4) (if (result i32) (local.get $k) (then (return (i32.const 1))) (else (i32.const 9))))",
        ),
        (
            "param_below",
            "(i32.const 9) (block (global.set $acc (i64.const 1))) (local.set $n) (memory.fill (i32.const 100) (i32.const 4) (local.get $n))",
        ),
        (
            "if_then_local",
            "(local.set $n (i32.const 9)) (if (i32.eqz (local.get $k)) (then (memory.fill (i32.const 100) (i32.const 4) (local.get $n))))",
        ),
        (
            "tee_after_loop",
            "(loop $l (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (i32.const 2)))) (memory.fill (i32.const 100) (i32.const 4) (local.tee $n (i32.const 9)))",
        ),
        (
            "const_in_loop",
            "(loop $l (memory.fill (i32.const 100) (i32.const 4) (i32.const 9)) (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (i32.const 1))))",
        ),
        (
            "set_in_loop",
            "(loop $l (local.set $n (i32.const 9)) (memory.fill (i32.const 100) (i32.const 4) (local.get $n)) (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (i32.const 1))))",
        ),
        (
            "after_checked_fill",
            "(local.set $n (i32.const 9)) (memory.fill (i32.const 200) (i32.const 1) (local.get $k)) (memory.fill (i32.const 100) (i32.const 4) (local.get $n))",
        ),
        (
            "after_call",
            "(local.set $n (i32.const 9)) (call $g) (memory.fill (i32.const 100) (i32.const 4) (local.get $n))",
        ),
        (
            "ifjoin",
            "(local.set $n (i32.const 9)) (if (local.get $k) (then (global.set $acc (i64.const 3)))) (memory.fill (i32.const 100) (i32.const 4) (local.get $n))",
        ),
        (
            "ifelse_twodefs",
            "(if (local.get $k) (then (local.set $n (i32.const 9))) (else (local.set $n (i32.const 9)))) (memory.fill (i32.const 100) (i32.const 4) (local.get $n))",
        ),
        (
            "inner_block_in_loop_after",
            "(local.set $n (i32.const 12)) (loop $l (block (global.set $steps (local.get $n))) (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (i32.const 2)))) (memory.fill (i32.const 100) (i32.const 4) (local.get $n))",
        ),
    ];
    for (name, body) in cases {
        let text = format!("{head}{body}\n(global.set $steps (i32.const 2)) (i32.const 0)))");
        let wasm = wat::parse_str(&text).unwrap();
        let total = wasmtime_runs(&wasm, None, &[0])[0].fuel.unwrap();
        let w = &wasmtime_runs(&wasm, Some(total - 3), &[0])[0];
        let checked = w.end.is_err();
        let program = swarm_shader::lower(&wasm).unwrap();
        let listing = swarm_shader::disasm::disassemble(&program);
        let swarm_checked = listing
            .lines()
            .rfind(|l| l.contains("memory.fill"))
            .unwrap()
            .contains("deferred");
        assert_eq!(
            swarm_checked, checked,
            "{name}: swarm checks fuel after the fill: {swarm_checked}, wasmtime: {checked}"
        );
    }
}
