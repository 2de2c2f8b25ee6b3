//! The compiled tier against the interpreter, dispatch by dispatch, and both against wasmtime:
//! the same outcomes, instruction and fuel counts at every fuel slice, the same memory and
//! globals, agents moving between tiers between dispatches, and `auto` tiering up.

use swarm_host::{
    AgentId, AgentReport, Background, CompileBudget, Imports, Outcome, Swarm, SwarmConfig, Tier,
    TierStatus, TrapCode, Value,
};

use crate::differential::Rng;
use crate::reference::{reference, same};

/// Loops with locals in registers, loads and stores of every width at data-dependent
/// addresses, traps inside compiled loops (out of bounds, division), an access out of bounds
/// after stores in its block, values kept across a
/// branch, `select`, globals, recursion (to the call stack's end), calls, returns,
/// `br_table` (to its function's label too) and `call_indirect` (with every way it traps),
/// and floats (add, sub and mul compiled, the rest left to the interpreter) in a module that
/// uses only some float instructions.
const MODULE: &str = r#"(module
  (memory 1)
  (global $g (export "g") (mut i32) (i32.const 0))
  (global $h (export "h") (mut i64) (i64.const 7))
  (func (export "mix") (param $seed i32) (param $n i32) (result i32)
    (local $x i32) (local $i i32) (local $acc i64)
    (local.set $x (i32.or (local.get $seed) (i32.const 1)))
    (block $done
      (loop $l
        (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 13))))
        (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 17))))
        (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 5))))
        (i32.store16 offset=3 (i32.and (local.get $x) (i32.const 0x3ff0)) (local.get $x))
        (i64.store offset=1 (i32.and (i32.shr_u (local.get $x) (i32.const 3)) (i32.const 0x7ff0))
          (i64.extend_i32_s (local.get $x)))
        (local.set $acc (i64.add (local.get $acc)
          (i64.load8_s offset=1 (i32.and (i32.shr_u (local.get $x) (i32.const 9)) (i32.const 0x3fff)))))
        (local.set $acc (i64.add (local.get $acc)
          (i64.load32_u offset=2 (i32.and (i32.shr_u (local.get $x) (i32.const 11)) (i32.const 0x3ff0)))))
        (local.set $acc (i64.rotl (local.get $acc) (i64.extend_i32_u (local.get $i))))
        (global.set $g (i32.add (global.get $g) (i32.load16_u (i32.const 5))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
    (global.set $h (i64.xor (global.get $h) (local.get $acc)))
    (i32.xor (local.get $x) (i32.wrap_i64 (local.get $acc))))
  (func (export "oob") (param $stop i32) (result i32)
    (local $i i32)
    (loop $l
      (i32.store
        (i32.sub (i32.const 65536) (i32.mul (i32.sub (local.get $stop) (local.get $i)) (i32.const 4)))
        (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 200))))
    (i32.load (i32.const 65532)))
  ;; Two stores, then a load that may fail from the same address as one of them: the block's
  ;; checks at its start cover all three, so where the load fails the interpreter runs the
  ;; block, and the stores before it land.
  (func (export "late_oob") (param $p i32) (param $v i32) (result i32)
    (i32.store (i32.const 64) (local.get $v))
    (i32.store offset=4 (local.get $p) (i32.add (local.get $v) (i32.const 1)))
    (i32.add (i32.load offset=65000 (local.get $p)) (i32.load (i32.const 64))))
  ;; A loop whose index counts up from below zero to it, the array's address in the constant
  ;; added to it, as clang's loops do: the sums wrap.
  (func (export "below_zero") (param $n i32) (result i32)
    (local $i i32) (local $s i32)
    (local.set $i (i32.sub (i32.const 0) (local.get $n)))
    (loop $l
      (i32.store8 (i32.add (local.get $i) (i32.const 2025)) (local.get $i))
      (local.set $s (i32.add (local.get $s)
        (i32.load8_u offset=3 (i32.add (local.get $i) (i32.const 2024)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (local.get $i)))
    (local.get $s))
  (func (export "div") (param $a i32) (param $b i32) (result i32)
    (local $i i32) (local $r i32)
    (loop $l
      (local.set $r (i32.add (local.get $r)
        (i32.div_s (local.get $a) (i32.sub (local.get $b) (local.get $i)))))
      (local.set $r (i32.add (local.get $r)
        (i32.rem_u (local.get $a) (i32.add (local.get $i) (i32.const 1)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 20))))
    (local.get $r))
  (func (export "kept") (param $x i64) (result i64)
    (local $i i32)
    (block $out (result i64)
      (loop $l
        (drop (br_if $out (local.get $x)
          (i64.eqz (i64.rem_u (local.get $x) (i64.const 97)))))
        (local.set $x
          (select (i64.div_u (local.get $x) (i64.const 3))
                  (i64.add (i64.mul (local.get $x) (i64.const 5)) (i64.const 1))
                  (i32.and (i32.wrap_i64 (local.get $x)) (i32.const 1))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (i32.const 60))))
      (local.get $x)))
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (type $over-f64 (func (param f64) (result f64)))
  (type $i2i (func (param i32) (result i32)))
  ;; Slot 0 has another type, 3 is null, 4 and beyond are out of bounds.
  (table 4 funcref)
  (elem (i32.const 0) $facf $id $twice)
  (func $twice (param i32) (result i32) (i32.shl (local.get 0) (i32.const 1)))
  ;; A `br_table` whose default is the function's label: a return.
  (func $bump (param $k i32)
    (block $a
      (block $b
        (br_table $a $b 2 (local.get $k)))
      (global.set $g (i32.add (global.get $g) (i32.const 3)))
      (return))
    (global.set $g (i32.xor (global.get $g) (i32.const 0x55))))
  (func (export "switch") (param $x i32) (param $n i32) (result i32)
    (local $i i32)
    (loop $l
      (block $other
        (block $c
          (block $b
            (block $a
              (br_table $a $b $c $other (i32.and (local.get $x) (i32.const 3))))
            (local.set $x (i32.add (local.get $x) (i32.const 0x9e37)))
            (br $other))
          (local.set $x (i32.mul (local.get $x) (i32.const 7)))
          (br $other))
        (if (i32.gt_u (local.get $i) (i32.const 40)) (then (return (local.get $x))))
        (local.set $x (i32.rotl (local.get $x) (i32.const 5))))
      (call $bump (i32.and (local.get $i) (i32.const 3)))
      (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 7))))
      (local.set $x (i32.add (local.get $x)
        (call_indirect (type $i2i) (local.get $i) (i32.const 2))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $x))
  (func (export "indirect") (param $i i32) (param $x i32) (result i32)
    (call_indirect (type $i2i) (local.get $x) (local.get $i)))
  (func $deep (export "deep") (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 1))
      (else (i32.add (local.get $n) (call $deep (i32.sub (local.get $n) (i32.const 1)))))))
  (func $facf (export "facf") (type $over-f64)
    (if (result f64) (f64.le (local.get 0) (f64.const 0.5))
      (then (f64.sqrt (f64.const 1.0)))
      (else (f64.mul (local.get 0)
        (call_indirect (type $over-f64)
          (f64.sub (local.get 0) (f64.const 1.0)) (i32.const 0))))))
  ;; Divisions by a constant zero: the compiled code must still validate.
  (func (export "by_zero") (param i32 i64) (result i32)
    (i32.add (i32.div_u (local.get 0) (i32.const 0))
             (i32.wrap_i64 (i64.rem_s (local.get 1) (i64.const 0)))))
  (func $id (param i32) (result i32) (local.get 0))
  ;; The blocks after the calls begin with a load and a division that may trap.
  (func (export "after_call") (param $a i32) (param $b i32) (result i32)
    (i32.add
      (i32.load (call $id (local.get $a)))
      (i32.div_u (local.get $b) (call $id (i32.sub (local.get $b) (i32.const 3))))))
  (func (export "float") (param $x f64) (param $n i32) (result f64)
    (local $i i32) (local $y f32)
    (local.set $y (f32.demote_f64 (local.get $x)))
    (loop $l
      (local.set $x (f64.add (f64.mul (local.get $x) (f64.const 0.75)) (f64.const 1.25)))
      (local.set $y (f32.sub (f32.mul (local.get $y) (f32.const 0.5)) (f32.const 0.25)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (f64.add (local.get $x) (f64.promote_f32 (local.get $y)))))"#;

/// Fresh calls of every export: loops of many lengths, traps where some inputs ask for them.
fn calls(count: usize, seed: u64) -> Vec<(&'static str, Vec<Value>)> {
    let mut rng = Rng(seed);
    (0..count)
        .map(|i| {
            let r = rng.next();
            match i % 12 {
                0 => (
                    "mix",
                    vec![Value::I32(r as i32), Value::I32((r >> 40) as i32 % 60)],
                ),
                1 if r.is_multiple_of(2) => ("oob", vec![Value::I32(((r >> 8) % 260) as i32)]),
                // In bounds, the load out of bounds, or the store out of bounds too.
                1 => {
                    let p =
                        [(r >> 8) % 500, 600 + (r >> 8) % 60_000, 65_534][(r >> 4) as usize % 3];
                    (
                        "late_oob",
                        vec![Value::I32(p as i32), Value::I32((r >> 32) as i32)],
                    )
                }
                2 => {
                    let a = [i32::MIN, r as i32, 7][(r % 3) as usize];
                    (
                        "div",
                        vec![Value::I32(a), Value::I32((r >> 8) as i32 % 40 - 10)],
                    )
                }
                3 => ("kept", vec![Value::I64(r as i64)]),
                4 => ("fib", vec![Value::I32((r % 10) as i32)]),
                5 => ("facf", vec![Value::F64(((r % 12) as f64).to_bits())]),
                7 => ("by_zero", vec![Value::I32(r as i32), Value::I64(r as i64)]),
                6 => {
                    let a = if r.is_multiple_of(3) {
                        65_534
                    } else {
                        (r % 1_000) as i32 * 4
                    };
                    (
                        "after_call",
                        vec![Value::I32(a), Value::I32((r >> 20) as i32 % 8)],
                    )
                }
                8 => (
                    "switch",
                    vec![Value::I32(r as i32), Value::I32((r >> 40) as i32 % 60)],
                ),
                9 => (
                    "indirect",
                    vec![Value::I32((r % 6) as i32), Value::I32((r >> 8) as i32)],
                ),
                // Within 64 frames, or past every stack (wasmtime's included).
                10 => {
                    let n = if r.is_multiple_of(4) {
                        1_000_000
                    } else {
                        r % 60
                    };
                    ("deep", vec![Value::I32(n as i32)])
                }
                // Operands and results the float unit's fast path leaves to soft-float too:
                // zeros, subnormals (f32's flush first), infinities, NaNs, and overflow.
                _ => {
                    let x = [
                        (r % 1000) as f64 / 3.0,
                        0.0,
                        -0.0,
                        f64::from_bits(1 + r % 1000),
                        f64::from(f32::MIN_POSITIVE) * 0.75,
                        f64::INFINITY,
                        f64::from_bits(0x7ff4_0000_0000_0000 | (r & 0xffff)),
                        1e300,
                        -3.0e38,
                    ][(r >> 16) as usize % 9];
                    ("float", vec![Value::F64(x.to_bits()), Value::I32(40)])
                }
            }
        })
        .collect()
}

/// The default budget with regions of up to 8 blocks (these modules are small enough for
/// lavapipe to build them quickly).
fn regions() -> CompileBudget {
    CompileBudget {
        region_blocks: 8,
        ..CompileBudget::default()
    }
}

/// One agent's part of one dispatch.
type Step = (Outcome, u64, u64);

/// What a swarm on `tier` did: every dispatch's reports, then each agent's memory and
/// globals, and the instructions the compiled tier ran.
struct Run {
    steps: Vec<Vec<Step>>,
    state: Vec<(Vec<u8>, Value, Value)>,
    compiled: u64,
    ids: Vec<AgentId>,
}

fn run(
    wasm: &[u8],
    calls: &[(&'static str, Vec<Value>)],
    slice: u64,
    total: Option<u64>,
    tiers: &[Tier],
) -> Run {
    let mut swarm = Swarm::new(SwarmConfig {
        max_agents: calls.len() as u32,
        fuel_per_dispatch: slice,
        fuel_total: total,
        value_stack_slots: 512,
        call_frames: 64,
        tier: tiers[0],
        compile_budget: regions(),
        ..SwarmConfig::default()
    })
    .unwrap();
    swarm.load_module(wasm, &Imports::new()).unwrap();
    let ids: Vec<AgentId> = calls
        .iter()
        .map(|(export, args)| swarm.spawn(export, args).unwrap())
        .collect();
    let mut steps = Vec::new();
    let mut compiled = 0;
    for dispatch in 0.. {
        swarm.set_tier(tiers[dispatch % tiers.len()]);
        let report = swarm.dispatch().unwrap();
        compiled += report.agents.iter().map(|a| a.compiled).max().unwrap_or(0);
        let done = !report.agents.iter().any(|a| a.outcome.is_running());
        steps.push(
            report
                .agents
                .into_iter()
                .map(|a| (a.outcome, a.instructions, a.fuel))
                .collect(),
        );
        if done {
            break;
        }
        assert!(dispatch < 100_000, "agents never finished");
    }
    let state = ids
        .iter()
        .map(|&id| {
            (
                swarm.read_memory(id, 0, 65_536).unwrap(),
                swarm.global(id, "g").unwrap(),
                swarm.global(id, "h").unwrap(),
            )
        })
        .collect();
    Run {
        steps,
        state,
        compiled,
        ids,
    }
}

/// Runs `calls` to their ends on each tier, in slices long enough for one dispatch, and
/// checks that both end with the same outcomes, counts, memory and globals (agents of one
/// subgroup whose paths part wait for one another on the compiled tier, `Reconverge`, so the
/// dispatches before the last end elsewhere): the last dispatch's steps.
fn same_ends(wasm: &[u8], calls: &[(&'static str, Vec<Value>)]) -> Vec<Step> {
    let interpreted = run(wasm, calls, 100_000_000, None, &[Tier::Interpreter]);
    let compiled = run(wasm, calls, 100_000_000, None, &[Tier::Compiled]);
    let last = compiled.steps.last().unwrap();
    assert_eq!(interpreted.steps.last().unwrap(), last);
    assert!(interpreted.state == compiled.state, "state differs");
    last.clone()
}

/// Each of `calls` run to its end on the compiled tier with the default budget (no regions),
/// one agent each: what each agent ran, and how much of it compiled.
fn compiled_run(wasm: &[u8], calls: &[(&'static str, Vec<Value>)]) -> Vec<AgentReport> {
    let mut swarm = Swarm::new(SwarmConfig {
        max_agents: calls.len() as u32,
        tier: Tier::Compiled,
        ..SwarmConfig::default()
    })
    .unwrap();
    swarm.load_module(wasm, &Imports::new()).unwrap();
    for (export, args) in calls {
        swarm.spawn(export, args).unwrap();
    }
    swarm.run().unwrap().agents
}

/// Checks that `calls` end alike on both tiers ([`same_ends`]) and, each run to its end on the
/// compiled tier by one agent, return wasmtime's results with at least `percent` of their
/// instructions compiled.
fn runs_compiled(wasm: &[u8], calls: &[(&'static str, Vec<Value>)], percent: u64) {
    same_ends(wasm, calls);
    for (agent, (export, args)) in compiled_run(wasm, calls).iter().zip(calls) {
        let want = reference(wasm, export, args).unwrap();
        match &agent.outcome {
            Outcome::Finished(got) => assert!(same(got, &want), "{export}{args:?}: {got:?}"),
            other => panic!("{export}{args:?}: {other:?}"),
        }
        assert!(
            agent.compiled * 100 >= agent.instructions * percent,
            "{export}{args:?}: {} of {} instructions ran compiled",
            agent.compiled,
            agent.instructions
        );
    }
}

fn check_against_wasmtime(wasm: &[u8], calls: &[(&'static str, Vec<Value>)], run: &Run) {
    let last = run.steps.last().expect("a dispatch");
    let mut traps = 0;
    for ((outcome, ..), (export, args)) in last.iter().zip(calls) {
        match (outcome, reference(wasm, export, args)) {
            (Outcome::Finished(got), Ok(want)) => {
                assert!(
                    same(got, &want),
                    "{export}{args:?}: {got:?}, wasmtime {want:?}"
                );
            }
            (Outcome::Trapped(_), Err(_)) => traps += 1,
            (got, want) => panic!("{export}{args:?}: {got:?}, wasmtime {want:?}"),
        }
    }
    assert!(traps > 0, "no input trapped");
}

#[test]
fn the_compiled_tier_matches_the_interpreter_at_every_fuel_slice() {
    let wasm = wat::parse_str(MODULE).unwrap();
    let calls = calls(120, 0x5eed_0001);
    for slice in [3, 13, 48, 1_000, 100_000_000] {
        let interpreted = run(&wasm, &calls, slice, None, &[Tier::Interpreter]);
        let compiled = run(&wasm, &calls, slice, None, &[Tier::Compiled]);
        assert_eq!(interpreted.ids, compiled.ids);
        assert_eq!(interpreted.compiled, 0);
        for (dispatch, (a, b)) in interpreted.steps.iter().zip(&compiled.steps).enumerate() {
            for (agent, (x, y)) in a.iter().zip(b).enumerate() {
                assert_eq!(
                    x, y,
                    "slice {slice}, dispatch {dispatch}, agent {agent} ({:?})",
                    calls[agent]
                );
            }
        }
        assert_eq!(
            interpreted.steps.len(),
            compiled.steps.len(),
            "slice {slice}"
        );
        assert!(
            interpreted.state == compiled.state,
            "slice {slice}: state differs"
        );
        if slice >= 48 {
            assert!(compiled.compiled > 0, "slice {slice}: nothing ran compiled");
        }
        check_against_wasmtime(&wasm, &calls, &compiled);
    }
}

#[test]
fn agents_move_between_tiers_at_every_dispatch() {
    let wasm = wat::parse_str(MODULE).unwrap();
    let calls = calls(90, 0x5eed_0002);
    for slice in [29, 301] {
        let interpreted = run(&wasm, &calls, slice, None, &[Tier::Interpreter]);
        let alternating = run(
            &wasm,
            &calls,
            slice,
            None,
            &[Tier::Compiled, Tier::Interpreter],
        );
        assert!(interpreted.steps == alternating.steps, "slice {slice}");
        assert!(interpreted.state == alternating.state, "slice {slice}");
        assert!(alternating.compiled > 0);
        check_against_wasmtime(&wasm, &calls, &alternating);
    }
}

#[test]
fn lifetime_fuel_runs_out_at_the_same_check_on_both_tiers() {
    let wasm = wat::parse_str(MODULE).unwrap();
    let calls = calls(60, 0x5eed_0003);
    for total in [1, 40, 333, 2_000] {
        let interpreted = run(
            &wasm,
            &calls,
            100_000_000,
            Some(total),
            &[Tier::Interpreter],
        );
        let compiled = run(&wasm, &calls, 100_000_000, Some(total), &[Tier::Compiled]);
        assert!(interpreted.steps == compiled.steps, "total {total}");
        assert!(interpreted.state == compiled.state, "total {total}");
        let out_of_fuel = compiled.steps[0]
            .iter()
            .filter(|(o, ..)| *o == Outcome::Trapped(TrapCode::OutOfFuel))
            .count();
        assert!(out_of_fuel > 0, "total {total}: nothing ran out of fuel");
    }
}

#[test]
fn auto_moves_a_busy_module_to_the_compiled_tier() {
    let wasm = wat::parse_str(MODULE).unwrap();
    let mut swarm = Swarm::new(SwarmConfig {
        max_agents: 64,
        tier: Tier::Auto,
        ..SwarmConfig::default()
    })
    .unwrap();
    swarm.load_module(&wasm, &Imports::new()).unwrap();
    assert_eq!(swarm.tier_status(), Some(TierStatus::Waiting));
    let args = |i: u32| vec![Value::I32(i as i32), Value::I32(3_000)];
    let mut rounds = 0;
    loop {
        let ids = swarm.spawn_many("mix", (0..64).map(args)).unwrap();
        let report = swarm.run().unwrap();
        for (agent, i) in report.agents.iter().zip(0..) {
            let want = reference(&wasm, "mix", &args(i)).unwrap();
            assert_eq!(agent.outcome, Outcome::Finished(want));
        }
        let compiled: u64 = report.agents.iter().map(|a| a.compiled).sum();
        swarm.kill_many(&ids).unwrap();
        if compiled > 0 {
            assert!(matches!(swarm.tier_status(), Some(TierStatus::Compiled(_))));
            break;
        }
        if swarm.tier_status() == Some(TierStatus::Compiling) {
            swarm.wait_for_tier();
        }
        rounds += 1;
        assert!(
            rounds < 200,
            "auto never compiled: {:?}",
            swarm.tier_status()
        );
    }
    let Some(TierStatus::Compiled(report)) = swarm.tier_status() else {
        unreachable!()
    };
    assert!(report.blocks > 0 && report.compiled_instructions <= report.code_instructions);
}

#[test]
fn a_small_budget_compiles_the_code_that_runs_most() {
    // `hot` is straight code called from a loop, `cold` longer straight code called once:
    // both sit outside any loop of their own, so only the calls tell them apart. The budget
    // holds one of them.
    let wasm = hot_and_cold(4, "", 1_000);
    let budget = CompileBudget {
        instructions: 50,
        ..CompileBudget::default()
    };
    let mut swarm = Swarm::new(SwarmConfig {
        max_agents: 4,
        tier: Tier::Compiled,
        compile_budget: budget,
        ..SwarmConfig::default()
    })
    .unwrap();
    swarm.load_module(&wasm, &Imports::new()).unwrap();
    let (compiled, total) = swarm.compile_coverage().unwrap();
    assert!(compiled <= 50 && total > 60, "{compiled} of {total}");
    let args = |i: i32| vec![Value::I32(i * 7919 + 1)];
    for i in 0..4 {
        swarm.spawn("run", &args(i)).unwrap();
    }
    let report = swarm.run().unwrap();
    for (agent, i) in report.agents.iter().zip(0..) {
        let want = reference(&wasm, "run", &args(i)).unwrap();
        assert_eq!(agent.outcome, Outcome::Finished(want));
        assert!(
            agent.compiled * 10 >= agent.instructions * 6,
            "{} of {} instructions ran compiled",
            agent.compiled,
            agent.instructions
        );
    }
}

/// A module whose `run` calls `cold` (six xor-shift steps) once, then `hot` (`hot` steps)
/// from a loop of `iterations`, whose body also runs `extra` after the call.
fn hot_and_cold(hot: usize, extra: &str, iterations: u32) -> Vec<u8> {
    let chain = |n: usize| {
        "(local.set 0 (i32.xor (local.get 0) (i32.shl (local.get 0) (i32.const 3))))\n".repeat(n)
    };
    let wat = format!(
        r#"(module
          (func $hot (param i32) (result i32) {hot} (local.get 0))
          (func $cold (param i32) (result i32) {cold} (local.get 0))
          (func (export "run") (param $x i32) (result i32) (local $i i32)
            (local.set $x (call $cold (local.get $x)))
            (loop $l
              (local.set $x (call $hot (local.get $x)))
              {extra}
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $l (i32.lt_u (local.get $i) (i32.const {iterations}))))
            (local.get $x)))"#,
        hot = chain(hot),
        cold = chain(6),
    );
    wat::parse_str(&wat).unwrap()
}

/// Runs 8 agents of [`hot_and_cold`] to their ends in short slices on the compiled tier under
/// `budget`, checking wasmtime's results: the agents' instructions and compiled instructions
/// after each dispatch, the swarm's tier status after the first dispatch, and after waiting for the
/// builds.
fn background_run(
    budget: CompileBudget,
) -> (Vec<(u64, u64)>, Option<TierStatus>, Option<TierStatus>) {
    // `hot`'s body is the hottest block, but a small part of what runs: the loop's own
    // blocks end at the call.
    let wasm = hot_and_cold(
        2,
        "(local.set $x (i32.add (local.get $x) (i32.mul (local.get $i) (i32.const 31))))",
        300,
    );
    let mut swarm = Swarm::new(SwarmConfig {
        max_agents: 8,
        fuel_per_dispatch: 1_000,
        tier: Tier::Compiled,
        compile_budget: budget,
        ..SwarmConfig::default()
    })
    .unwrap();
    swarm.load_module(&wasm, &Imports::new()).unwrap();
    let args = |i: i32| vec![Value::I32(i * 7919 + 1)];
    for i in 0..8 {
        swarm.spawn("run", &args(i)).unwrap();
    }
    let (mut counts, mut first, mut waited) = (Vec::new(), None, None);
    for dispatch in 0.. {
        let report = swarm.dispatch().unwrap();
        counts.push((
            report.agents.iter().map(|a| a.instructions).sum(),
            report.agents.iter().map(|a| a.compiled).sum(),
        ));
        if dispatch == 0 {
            first = swarm.tier_status();
            waited = swarm.wait_for_tier();
        }
        if !report.agents.iter().any(|a| a.outcome.is_running()) {
            for (agent, i) in report.agents.iter().zip(0..) {
                let want = reference(&wasm, "run", &args(i)).unwrap();
                assert_eq!(agent.outcome, Outcome::Finished(want));
            }
            break;
        }
        assert!(dispatch < 1_000, "agents never finished");
    }
    (counts, first, waited)
}

#[test]
fn a_larger_kernel_built_in_the_background_takes_over() {
    let first = CompileBudget {
        blocks: 1,
        ..CompileBudget::default()
    };
    // The first kernel alone: one block, so half of what runs after the first dispatch runs
    // on the interpreter. (Counts are an agent's since its call began.)
    let (alone, ..) = background_run(first);
    let after_first = |counts: &[(u64, u64)]| {
        let ((all0, compiled0), (all, compiled)) = (counts[0], counts[counts.len() - 1]);
        (compiled - compiled0) as f64 / (all - all0) as f64
    };
    assert!(after_first(&alone) < 0.6, "{}", after_first(&alone));
    // With a background budget: the first dispatch runs that kernel while the larger one
    // builds; from the dispatch after the wait on, the larger one runs them.
    let (counts, status, waited) = background_run(CompileBudget {
        background_blocks: 100,
        ..first
    });
    let Some(TierStatus::Compiled(report)) = status else {
        panic!("{status:?}")
    };
    assert_eq!(
        (report.blocks, &report.background),
        (1, &Background::Building)
    );
    let Some(TierStatus::Compiled(report)) = waited else {
        panic!("{waited:?}")
    };
    assert!(report.blocks > 1, "{report:?}");
    assert!(
        matches!(report.background, Background::Ran { .. }),
        "{report:?}"
    );
    assert!(after_first(&counts) > 0.95, "{}", after_first(&counts));
    assert!(counts.len() > 4, "{} dispatches", counts.len());
}

#[test]
fn a_module_loaded_again_runs_on_the_kernel_built_for_it() {
    let mut swarm = Swarm::new(SwarmConfig {
        max_agents: 4,
        tier: Tier::Compiled,
        ..SwarmConfig::default()
    })
    .unwrap();
    // Loads `wasm`, runs 4 agents of it to wasmtime's results, partly compiled, and gives
    // whether the compiled kernel was one built for an earlier load.
    let mut reused = |wasm: &[u8]| {
        swarm.load_module(wasm, &Imports::new()).unwrap();
        let args = |i: i32| vec![Value::I32(i * 31 + 7)];
        let ids: Vec<_> = (0..4)
            .map(|i| swarm.spawn("run", &args(i)).unwrap())
            .collect();
        let report = swarm.run().unwrap();
        for (agent, i) in report.agents.iter().zip(0..) {
            let want = reference(wasm, "run", &args(i)).unwrap();
            assert_eq!(agent.outcome, Outcome::Finished(want));
            assert!(agent.compiled > 0, "nothing ran compiled");
        }
        swarm.kill_many(&ids).unwrap();
        match swarm.tier_status() {
            Some(TierStatus::Compiled(report)) => report.reused,
            other => panic!("{other:?}"),
        }
    };
    let (a, b) = (hot_and_cold(3, "", 20), hot_and_cold(4, "", 20));
    assert!(!reused(&a));
    assert!(!reused(&b), "another module's kernel was taken");
    assert!(reused(&a), "the first module's kernel was built again");
    assert!(reused(&b));
}

#[test]
fn a_region_looping_past_the_drivers_iteration_limit_leaves_the_interpreters_state() {
    // The loop's body is four blocks (the head, both arms of the `if`, the back branch) that
    // form one region. Each agent goes round it more than 65,535 times in one dispatch, so on
    // llvmpipe, which cuts a SIMD group's loops after 65,535 iterations in all, the region's
    // loop is cut between two of its blocks; the agents' counts differ, so it is cut at
    // different blocks.
    let wat = r#"(module
      (func (export "walk") (param $x i32) (param $n i32) (result i64)
        (local $i i32) (local $acc i64)
        (local.set $x (i32.or (local.get $x) (i32.const 1)))
        (loop $l
          (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 13))))
          (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 17))))
          (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 5))))
          (if (i32.and (local.get $x) (i32.const 1))
            (then (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (local.get $x)))))
            (else (local.set $acc
              (i64.xor (i64.rotl (local.get $acc) (i64.const 7)) (i64.extend_i32_s (local.get $x))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
        (local.get $acc)))"#;
    let wasm = wat::parse_str(wat).unwrap();
    let mut swarm = Swarm::new(SwarmConfig {
        max_agents: 8,
        fuel_per_dispatch: 100_000_000,
        tier: Tier::Compiled,
        compile_budget: regions(),
        ..SwarmConfig::default()
    })
    .unwrap();
    swarm.load_module(&wasm, &Imports::new()).unwrap();
    let args = |i: i32| vec![Value::I32(i * 7919 + 3), Value::I32(70_000 + i * 4_999)];
    for i in 0..8 {
        swarm.spawn("walk", &args(i)).unwrap();
    }
    let report = swarm.run().unwrap();
    for (agent, i) in report.agents.iter().zip(0..) {
        let want = reference(&wasm, "walk", &args(i)).unwrap();
        assert_eq!(agent.outcome, Outcome::Finished(want), "agent {i}");
        assert!(
            agent.compiled * 10 >= agent.instructions * 9,
            "agent {i}: {} of {} instructions ran compiled",
            agent.compiled,
            agent.instructions
        );
    }
}

/// wasmtime's results and fuel for `run(n)` of `wasm`.
fn wasmtime_fuel(wasm: &[u8], n: i32) -> (i64, u64) {
    let mut config = wasmtime::Config::new();
    config.consume_fuel(true);
    let engine = wasmtime::Engine::new(&config).unwrap();
    let module = wasmtime::Module::new(&engine, wasm).unwrap();
    let mut store = wasmtime::Store::new(&engine, ());
    store.set_fuel(u64::MAX >> 1).unwrap();
    let instance = wasmtime::Instance::new(&mut store, &module, &[]).unwrap();
    let run = instance
        .get_typed_func::<i32, i64>(&mut store, "run")
        .unwrap();
    let before = store.get_fuel().unwrap();
    let value = run.call(&mut store, n).unwrap();
    (value, before - store.get_fuel().unwrap())
}

#[test]
fn an_inner_loop_entered_past_the_drivers_iteration_limit_is_charged_once_per_run() {
    // The inner loop is one block that branches to itself, a looping region, entered afresh
    // on every turn of the outer loop. Each agent turns the outer loop thousands of times, so
    // on llvmpipe, which cuts a SIMD group's loops after 65,535 iterations in all, the cut
    // falls as the region is entered: the block it was entering must not stay charged.
    let wat = r#"(module
      (func (export "run") (param $n i32) (result i64)
        (local $i i32) (local $j i32) (local $x i64)
        (block $out
          (loop $outer
            (br_if $out (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $j (i32.const 0))
            (loop $inner
              (local.set $x (i64.add (i64.mul (local.get $x) (i64.const 3))
                                     (i64.extend_i32_u (local.get $j))))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br_if $inner (i32.ne (local.get $j) (i32.const 5))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $outer)))
        (local.get $x)))"#;
    let wasm = wat::parse_str(wat).unwrap();
    let ns = [12_000, 12_001, 20_003, 25_007];
    for tier in [Tier::Interpreter, Tier::Compiled] {
        let mut swarm = Swarm::new(SwarmConfig {
            max_agents: ns.len() as u32,
            fuel_per_dispatch: 100_000_000,
            tier,
            ..SwarmConfig::default()
        })
        .unwrap();
        swarm.load_module(&wasm, &Imports::new()).unwrap();
        for &n in &ns {
            swarm.spawn("run", &[Value::I32(n)]).unwrap();
        }
        let report = swarm.run().unwrap();
        for (agent, &n) in report.agents.iter().zip(&ns) {
            let (value, fuel) = wasmtime_fuel(&wasm, n);
            assert_eq!(
                agent.outcome,
                Outcome::Finished(vec![Value::I64(value)]),
                "{tier:?}, run({n})"
            );
            assert_eq!(agent.fuel, fuel, "{tier:?}, run({n}): fuel");
            if tier == Tier::Compiled {
                assert!(
                    agent.compiled * 10 >= agent.instructions * 9,
                    "run({n}): {} of {} instructions ran compiled",
                    agent.compiled,
                    agent.instructions
                );
            }
        }
    }
}

#[test]
fn float_arithmetic_runs_compiled_where_it_is_exact() {
    // `float` adds and multiplies in a loop; from a normal start every operand and result
    // stays normal, so the whole loop runs compiled. From a zero, a subnormal, an infinity or
    // a NaN the blocks leave each such operation to the interpreter's soft-float, with the
    // same results, counts and state.
    let wasm = wat::parse_str(MODULE).unwrap();
    let starts = [
        1.0 / 3.0,
        -2.5e-3,
        3.0e20,
        0.0,
        -0.0,
        f64::from_bits(3),
        f64::INFINITY,
        f64::from_bits(0xfff8_0000_0000_0123),
    ];
    let calls: Vec<(&'static str, Vec<Value>)> = starts
        .iter()
        .map(|x| ("float", vec![Value::F64(x.to_bits()), Value::I32(500)]))
        .collect();
    for ((outcome, ..), (export, args)) in same_ends(&wasm, &calls).iter().zip(&calls) {
        let want = reference(&wasm, export, args).unwrap();
        match outcome {
            Outcome::Finished(got) => assert!(same(got, &want), "{args:?}: {got:?}, {want:?}"),
            other => panic!("{args:?}: {other:?}"),
        }
    }
    // From a normal start every operation stays normal: nearly every instruction runs
    // compiled.
    for agent in compiled_run(&wasm, &calls[..3]) {
        assert!(
            agent.compiled * 10 >= agent.instructions * 9,
            "{} of {} instructions ran compiled",
            agent.compiled,
            agent.instructions
        );
    }
}

#[test]
fn calls_returns_and_table_branches_run_compiled() {
    // Recursion (`fib`, `deep`) and a loop of `br_table`, `call`, `call_indirect` and an early
    // `return` (`switch`): the blocks end with the call, return or table branch and take the
    // interpreter's own step for it, so nearly every instruction runs compiled, with the
    // interpreter's results and counts, and wasmtime's results.
    let wasm = wat::parse_str(MODULE).unwrap();
    let calls: Vec<(&'static str, Vec<Value>)> = (0..12)
        .map(|i| match i % 3 {
            0 => ("fib", vec![Value::I32(12 + i / 3)]),
            1 => ("deep", vec![Value::I32(20 + i)]),
            _ => ("switch", vec![Value::I32(i * 7919), Value::I32(30 + i)]),
        })
        .collect();
    runs_compiled(&wasm, &calls, 99);
}

#[test]
fn accesses_whose_address_wraps_run_compiled() {
    // Each access is checked at its block's start at the address it computes, which wraps
    // past 2^32 here: checking `base + constant + end` in 64 bits instead would send every
    // iteration to the interpreter.
    let wasm = wat::parse_str(MODULE).unwrap();
    let calls: Vec<(&'static str, Vec<Value>)> = [100, 700, 1500, 2024]
        .into_iter()
        .map(|n| ("below_zero", vec![Value::I32(n)]))
        .collect();
    runs_compiled(&wasm, &calls, 95);
}
