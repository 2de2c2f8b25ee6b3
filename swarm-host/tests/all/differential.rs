//! Every agent's result compared with wasmtime running the same call on the CPU.

use swarm_host::{Imports, OpGroups, Outcome, Swarm, SwarmConfig, TrapCode, Value};

use crate::reference::{reference, same};

const MODULE: &str = r#"(module
  (memory 1)
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func (export "collatz") (param i32) (result i32) (local i32)
    (block $done
      (loop $next
        (br_if $done (i32.le_u (local.get 0) (i32.const 1)))
        (local.set 1 (i32.add (local.get 1) (i32.const 1)))
        (local.set 0
          (if (result i32) (i32.and (local.get 0) (i32.const 1))
            (then (i32.add (i32.mul (local.get 0) (i32.const 3)) (i32.const 1)))
            (else (i32.shr_u (local.get 0) (i32.const 1)))))
        (br $next)))
    (local.get 1))
  (func (export "mix") (param i64) (result i64)
    (local.set 0 (i64.mul (i64.xor (local.get 0) (i64.shr_u (local.get 0) (i64.const 33)))
                          (i64.const 0xff51afd7ed558ccd)))
    (i64.rotl (i64.xor (local.get 0) (i64.shr_u (local.get 0) (i64.const 29))) (i64.const 17)))
  (func (export "float") (param f64 f64) (result f64 f32 i32)
    (f64.add (f64.sqrt (f64.abs (local.get 0))) (f64.div (local.get 0) (local.get 1)))
    (f32.mul (f32.demote_f64 (local.get 0)) (f32.demote_f64 (local.get 1)))
    (i32.trunc_sat_f64_s (f64.nearest (local.get 1))))
  (func (export "div") (param i32 i32) (result i32)
    (i32.div_s (local.get 0) (local.get 1)))
  (func (export "memsum") (param i32) (result i32) (local i32 i32)
    (memory.fill (i32.const 0) (local.get 0) (i32.const 1000))
    (loop $l
      (local.set 2 (i32.add (local.get 2) (i32.load8_u offset=3 (local.get 1))))
      (i32.store16 offset=1 (local.get 1) (local.get 2))
      (local.set 1 (i32.add (local.get 1) (i32.const 7)))
      (br_if $l (i32.lt_u (local.get 1) (i32.const 990))))
    (local.get 2)))"#;

/// A xorshift generator of fresh test inputs.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

pub(crate) fn from_wasmi(value: &wasmi::Val) -> Value {
    match value {
        wasmi::Val::I32(v) => Value::I32(*v),
        wasmi::Val::I64(v) => Value::I64(*v),
        wasmi::Val::F32(v) => Value::F32(v.to_bits()),
        wasmi::Val::F64(v) => Value::F64(v.to_bits()),
        other => panic!("unexpected wasmi value {other:?}"),
    }
}

#[test]
fn agents_match_wasmtime_on_fresh_inputs() {
    let wasm = wat::parse_str(MODULE).unwrap();
    let mut swarm = Swarm::new(SwarmConfig {
        max_agents: 600,
        value_stack_slots: 512,
        call_frames: 64,
        ..SwarmConfig::default()
    })
    .unwrap();
    swarm.load_module(&wasm, &Imports::new()).unwrap();

    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut calls = Vec::new();
    for i in 0..600_u64 {
        let r = rng.next();
        let (export, args) = match i % 6 {
            0 => ("fib", vec![Value::I32((r % 16) as i32)]),
            1 => ("collatz", vec![Value::I32((r % 100_000) as i32 + 1)]),
            2 => ("mix", vec![Value::I64(r as i64)]),
            3 => {
                let a = f64::from_bits(r) % 1e6;
                let b = (rng.next() % 2_000) as f64 / 7.0 - 140.0;
                (
                    "float",
                    vec![Value::F64(a.to_bits()), Value::F64(b.to_bits())],
                )
            }
            4 => (
                "div",
                vec![
                    Value::I32(r as i32),
                    Value::I32([0, -1, 3, (r >> 40) as i32][(r % 4) as usize]),
                ],
            ),
            _ => ("memsum", vec![Value::I32((r % 256) as i32)]),
        };
        let id = swarm.spawn(export, &args).unwrap();
        calls.push((id, export, args));
    }
    let report = swarm.run().unwrap();
    assert_eq!(report.agents.len(), calls.len());
    let mut traps = 0;
    for (agent, (id, export, args)) in report.agents.iter().zip(&calls) {
        assert_eq!(agent.id, *id);
        let expected = reference(&wasm, export, args);
        match (&agent.outcome, &expected) {
            (Outcome::Finished(got), Ok(want)) => assert!(
                same(got, want),
                "{export}{args:?}: swarm {got:?}, wasmtime {want:?}"
            ),
            (Outcome::Trapped(trap), Err(message)) => {
                traps += 1;
                let expected_trap = if message.contains("overflow") {
                    TrapCode::IntegerOverflow
                } else {
                    TrapCode::IntegerDivideByZero
                };
                assert_eq!(
                    *trap, expected_trap,
                    "{export}{args:?}: wasmtime says {message}"
                );
            }
            (got, want) => panic!("{export}{args:?}: swarm {got:?}, wasmtime {want:?}"),
        }
        assert!(agent.instructions > 0);
    }
    // Division by 0 and i32::MIN / -1 both occur among the inputs.
    assert!(traps > 0);
}

#[test]
fn a_tiny_fuel_slice_suspends_and_resumes_to_the_same_results() {
    let wasm = wat::parse_str(MODULE).unwrap();
    let run = |fuel_per_dispatch| {
        let mut swarm = Swarm::new(SwarmConfig {
            max_agents: 32,
            fuel_per_dispatch,
            ..SwarmConfig::default()
        })
        .unwrap();
        swarm.load_module(&wasm, &Imports::new()).unwrap();
        for n in 0..32 {
            swarm.spawn("collatz", &[Value::I32(n * 37 + 1)]).unwrap();
        }
        let report = swarm.run().unwrap();
        report
            .agents
            .iter()
            .map(|a| (a.outcome.clone(), a.instructions))
            .collect::<Vec<_>>()
    };
    let sliced = run(7);
    assert_eq!(sliced, run(100_000_000));
    assert!(
        sliced
            .iter()
            .all(|(o, _)| matches!(o, Outcome::Finished(_)))
    );
}

#[test]
fn the_total_fuel_limit_ends_a_call_with_out_of_fuel() {
    let wasm = wat::parse_str(MODULE).unwrap();
    let mut swarm = Swarm::new(SwarmConfig {
        max_agents: 2,
        fuel_per_dispatch: 50,
        fuel_total: Some(200),
        ..SwarmConfig::default()
    })
    .unwrap();
    swarm.load_module(&wasm, &Imports::new()).unwrap();
    let long = swarm.spawn("collatz", &[Value::I32(27)]).unwrap();
    let short = swarm.spawn("fib", &[Value::I32(1)]).unwrap();
    let report = swarm.run().unwrap();
    let outcome = |id| report.agents.iter().find(|a| a.id == id).unwrap().clone();
    assert_eq!(outcome(long).outcome, Outcome::Trapped(TrapCode::OutOfFuel));
    // It runs past 200 to wasmtime's next fuel check (a loop header), and no further than one
    // trip around the loop.
    let spent = outcome(long).fuel;
    assert!((200..240).contains(&spent), "{spent}");
    assert!(outcome(long).instructions < spent);
    assert_eq!(
        outcome(short).outcome,
        Outcome::Finished(vec![Value::I32(1)])
    );
}

/// Integer-only: its interpreter leaves out every optional group.
const INTEGER: &str = r#"(module
  (func (export "gcd") (param i32 i32) (result i32) (local i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get 1)))
        (local.set 2 (i32.rem_u (local.get 0) (local.get 1)))
        (local.set 0 (local.get 1))
        (local.set 1 (local.get 2))
        (br $next)))
    (local.get 0)))"#;

/// Runs `count` agents of `export` with fresh arguments from `args` and checks every result
/// against wasmtime.
fn run_against_wasmtime(
    swarm: &mut Swarm,
    wasm: &[u8],
    export: &str,
    count: u64,
    args: impl Fn(u64) -> Vec<Value>,
) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let calls: Vec<_> = (0..count).map(|_| args(rng.next())).collect();
    let ids = swarm.spawn_many(export, calls.iter().cloned()).unwrap();
    let report = swarm.run().unwrap();
    assert_eq!(report.agents.len(), calls.len());
    for ((agent, args), id) in report.agents.iter().zip(&calls).zip(&ids) {
        assert_eq!(agent.id, *id);
        let want = reference(wasm, export, args).expect("no trap");
        match &agent.outcome {
            Outcome::Finished(got) => assert!(
                same(got, &want),
                "{export}{args:?}: swarm {got:?}, wasmtime {want:?}"
            ),
            other => panic!("{export}{args:?}: swarm {other:?}, wasmtime {want:?}"),
        }
    }
    swarm.kill_many(&ids).unwrap();
}

#[test]
fn each_module_runs_on_the_interpreter_of_its_instruction_groups() {
    let integer = wat::parse_str(INTEGER).unwrap();
    let mixed = wat::parse_str(MODULE).unwrap();
    let gcd = |r: u64| {
        vec![
            Value::I32((r as u32 >> 1) as i32),
            Value::I32(((r >> 32) as u32 >> 1) as i32),
        ]
    };
    let collatz = |r: u64| vec![Value::I32((r % 100_000) as i32 + 1)];
    let float = |r: u64| {
        let a = f64::from_bits(r) % 1e6;
        let b = (r % 2_000) as f64 / 7.0 - 140.0;
        vec![Value::F64(a.to_bits()), Value::F64(b.to_bits())]
    };
    let config = SwarmConfig {
        max_agents: 64,
        value_stack_slots: 256,
        call_frames: 16,
        ..SwarmConfig::default()
    };

    let mut swarm = Swarm::new(config.clone()).unwrap();
    assert_eq!(swarm.interpreter_groups(), None);
    swarm.load_module(&integer, &Imports::new()).unwrap();
    assert_eq!(swarm.interpreter_groups(), Some(OpGroups::NONE));
    run_against_wasmtime(&mut swarm, &integer, "gcd", 64, gcd);
    // The mixed module has floats and `memory.fill`, and no 64-bit division.
    swarm.load_module(&mixed, &Imports::new()).unwrap();
    assert_eq!(
        swarm.interpreter_groups(),
        Some(OpGroups::FLOAT.union(OpGroups::BULK))
    );
    run_against_wasmtime(&mut swarm, &mixed, "float", 64, float);
    run_against_wasmtime(&mut swarm, &mixed, "collatz", 64, collatz);
    // Back to the integer module: its interpreter again, and the same results.
    swarm.load_module(&integer, &Imports::new()).unwrap();
    assert_eq!(swarm.interpreter_groups(), Some(OpGroups::NONE));
    run_against_wasmtime(&mut swarm, &integer, "gcd", 64, gcd);

    let mut full = Swarm::new(SwarmConfig {
        specialize: false,
        ..config
    })
    .unwrap();
    full.load_module(&integer, &Imports::new()).unwrap();
    assert_eq!(full.interpreter_groups(), Some(OpGroups::ALL));
    run_against_wasmtime(&mut full, &integer, "gcd", 64, gcd);
}

/// Data segments and element segments share one numbering on the GPU (data first), which the
/// lowering must settle before the data section, which comes after the code.
const SEGMENTS: &str = r#"(module
  (type $unary (func (param i32) (result i32)))
  (memory 1)
  (table 2 funcref)
  (data $d "\07\09")
  (elem $e func $twice)
  (func $twice (type $unary) (i32.add (local.get 0) (local.get 0)))
  (func (export "run") (param i32) (result i32)
    (memory.init $d (i32.const 0) (i32.const 0) (i32.const 2))
    (table.init $e (i32.const 1) (i32.const 0) (i32.const 1))
    (elem.drop $e)
    (i32.add (call_indirect (type $unary) (local.get 0) (i32.const 1))
             (i32.load16_u (i32.const 0)))))"#;

#[test]
fn data_and_element_segments_stay_apart() {
    let wasm = wat::parse_str(SEGMENTS).unwrap();
    let mut swarm = Swarm::new(SwarmConfig {
        max_agents: 4,
        value_stack_slots: 64,
        call_frames: 8,
        ..SwarmConfig::default()
    })
    .unwrap();
    swarm.load_module(&wasm, &Imports::new()).unwrap();
    let args: Vec<[Value; 1]> = (0..4).map(|i| [Value::I32(i * 1_000 - 7)]).collect();
    swarm.spawn_many("run", &args).unwrap();
    let report = swarm.run().unwrap();
    for (agent, args) in report.agents.iter().zip(&args) {
        let expected = reference(&wasm, "run", args).expect("wasmtime runs it");
        assert_eq!(agent.outcome, Outcome::Finished(expected));
    }
}
