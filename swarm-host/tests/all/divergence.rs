//! Agents of one SIMD group that diverge through different long operations at once (bulk
//! memory and table instructions, calls with many locals and results, long loops, floats),
//! each checked against wasmtime. On lavapipe, whose loop limiter counts the loops of a whole
//! SIMD group, this is where a loop cut inside an instruction would show as a wrong answer.

use swarm_host::{Imports, Outcome, Reconverge, Swarm, SwarmConfig, Tier, Value};

use crate::reference::assert_agents_match;

/// `run(i)`: agent `i` takes behaviour `i % 8` and returns a checksum of what it did.
const DIVERGE: &str = r#"(module
  (type $unary (func (param i32) (result i32)))
  (memory 1 1)
  (table $t 16 70000 funcref)
  (data $d "\01\02\03\04\05\06\07\08\09\0a\0b\0c\0d\0e\0f\10\11\12\13\14\15\16\17\18\19\1a\1b\1c\1d\1e\1f\20\21\22\23\24\25\26\27\28\29\2a\2b\2c\2d\2e\2f\30\31\32\33\34\35\36\37\38\39\3a\3b\3c\3d\3e\3f")
  (elem $e func $a $b $c)
  (func $a (type $unary) (i32.add (local.get 0) (i32.const 1)))
  (func $b (type $unary) (i32.mul (local.get 0) (i32.const 3)))
  (func $c (type $unary) (i32.xor (local.get 0) (i32.const 0x5a5a)))
  ;; A checksum of the memory, eight bytes in every 24.
  (func $memsum (result i64) (local $p i32) (local $acc i64)
    (loop $l
      (local.set $acc (i64.add (i64.rotl (local.get $acc) (i64.const 5)) (i64.load (local.get $p))))
      (br_if $l (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 24))) (i32.const 65528))))
    (local.get $acc))
  ;; Forty locals to zero on every call, five results to move down on every return.
  (func $many (param $x i32) (result i32 i32 i32 i32 i32)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)
    (local.set 7 (i64.extend_i32_u (local.get $x)))
    (local.set 33 (i32.add (local.get 33) (local.get $x)))
    (i32.wrap_i64 (local.get 7)) (local.get 33) (i32.const 7)
    (i32.wrap_i64 (i64.add (local.get 20) (i64.const 9))) (i32.mul (local.get $x) (local.get $x)))
  (func (export "run") (param $i i32) (result i64) (local $k i32) (local $acc i64) (local $f f64)
    (block $mixed (block $floats (block $calls (block $loop
    (block $tables (block $init (block $copy (block $fill
      (br_table $fill $copy $init $tables $loop $calls $floats $mixed
        (i32.rem_u (local.get $i) (i32.const 8))))
      ;; 0: one long fill from an odd address.
      (memory.fill (i32.rem_u (i32.mul (local.get $i) (i32.const 13)) (i32.const 97))
                   (local.get $i) (i32.const 60001))
      (return (call $memsum)))
    ;; 1: a fill, then overlapping copies forward and backward.
    (memory.fill (i32.const 0) (i32.add (local.get $i) (i32.const 1)) (i32.const 40000))
    (i32.store (i32.const 5) (local.get $i))
    (memory.copy (i32.add (i32.const 3) (i32.rem_u (local.get $i) (i32.const 5))) (i32.const 7) (i32.const 30000))
    (memory.copy (i32.add (i32.const 1001) (local.get $i)) (i32.const 999) (i32.const 50000))
    (return (call $memsum)))
    ;; 2: many short inits from a passive segment.
    (loop $l
      (memory.init $d (i32.add (i32.mul (local.get $k) (i32.const 61)) (local.get $i))
                   (i32.rem_u (local.get $k) (i32.const 7)) (i32.const 57))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $k) (i32.const 300))))
    (return (call $memsum)))
    ;; 3: a large table grown, filled, copied both ways and initialised, then called through.
    (drop (table.grow $t (ref.func $a) (i32.add (i32.const 60000) (local.get $i))))
    (table.fill $t (i32.const 5) (ref.func $b) (i32.const 50000))
    (table.copy $t $t (i32.const 3) (i32.const 10) (i32.add (i32.const 40000) (local.get $i)))
    (table.copy $t $t (i32.const 20) (i32.const 3) (i32.const 40000))
    (table.init $t $e (i32.add (i32.const 100) (local.get $i)) (i32.const 0) (i32.const 3))
    (loop $l
      (local.set $acc (i64.add (i64.mul (local.get $acc) (i64.const 31))
        (i64.extend_i32_u (call_indirect (type $unary) (local.get $k)
          (i32.add (i32.const 3) (i32.rem_u (i32.mul (local.get $k) (i32.const 7919)) (i32.sub (table.size $t) (i32.const 3))))))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $k) (i32.const 100))))
    (return (i64.add (local.get $acc) (i64.extend_i32_u (table.size $t)))))
    ;; 4: a long integer loop, past the limiter's count in one agent.
    (local.set $acc (i64.extend_i32_u (i32.add (local.get $i) (i32.const 1))))
    (loop $l
      (local.set $acc (i64.xor (local.get $acc) (i64.shl (local.get $acc) (i64.const 13))))
      (local.set $acc (i64.xor (local.get $acc) (i64.shr_u (local.get $acc) (i64.const 7))))
      (local.set $acc (i64.xor (local.get $acc) (i64.shl (local.get $acc) (i64.const 17))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $k) (i32.const 12000))))
    (return (local.get $acc)))
    ;; 5: calls that zero many locals and return many results.
    (loop $l
      (call $many (i32.add (local.get $k) (local.get $i)))
      (i32.add) (i32.add) (i32.add) (i32.add)
      (local.set $acc (i64.add (i64.extend_i32_u) (local.get $acc)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $k) (i32.const 200))))
    (return (local.get $acc)))
    ;; 6: soft-float division and square roots.
    (local.set $f (f64.convert_i32_u (i32.add (local.get $i) (i32.const 2))))
    (loop $l
      (local.set $f (f64.add (f64.sqrt (local.get $f))
                             (f64.div (f64.convert_i32_u (local.get $k)) (local.get $f))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $k) (i32.const 300))))
    (return (i64.reinterpret_f64 (local.get $f))))
  ;; 7: many short fills and copies, and branches that keep three values.
  (loop $l
    (memory.fill (i32.mul (local.get $k) (i32.const 37)) (local.get $k) (i32.add (i32.rem_u (local.get $k) (i32.const 11)) (i32.const 1)))
    (memory.copy (i32.add (i32.mul (local.get $k) (i32.const 19)) (i32.const 3)) (i32.mul (local.get $k) (i32.const 37)) (i32.const 9))
    (local.set $acc (i64.add (local.get $acc)
      (i64.extend_i32_u (i32.add (i32.add
        (block $keep (result i32 i32 i32)
          (i32.const 1) (local.get $k) (local.get $i)
          (br_if $keep (i32.and (local.get $k) (i32.const 1)))
          (drop) (drop) (drop)
          (i32.const 2) (i32.const 3) (i32.const 4)))))))
    (local.set $k (i32.add (local.get $k) (i32.const 1)))
    (br_if $l (i32.lt_u (local.get $k) (i32.const 200))))
  (i64.add (local.get $acc) (call $memsum))))"#;

/// 64 agents: every SIMD group of up to 32 lanes holds every behaviour several times.
/// Runs `DIVERGE` on 64 agents on `tier`, checks every agent against wasmtime and gives each
/// agent's instruction count.
fn diverge(tier: Tier, reconverge: Reconverge) -> Vec<u64> {
    let wasm = wat::parse_str(DIVERGE).unwrap();
    let mut swarm = Swarm::new(SwarmConfig {
        max_agents: 64,
        max_table_elements: 70_100,
        value_stack_slots: 1_024,
        call_frames: 16,
        tier,
        reconverge,
        ..SwarmConfig::default()
    })
    .unwrap();
    // Lavapipe has subgroup operations, so a test asking for reconvergence gets it.
    assert_eq!(swarm.reconverge(), reconverge);
    swarm.load_module(&wasm, &Imports::new()).unwrap();
    let args: Vec<[Value; 1]> = (0..64).map(|i| [Value::I32(i)]).collect();
    swarm.spawn_many("run", &args).unwrap();
    let report = swarm.run().unwrap();
    assert!(
        report
            .agents
            .iter()
            .all(|a| matches!(a.outcome, Outcome::Finished(_)))
    );
    assert_agents_match(&wasm, "run", &report.agents, &args);
    if tier == Tier::Compiled {
        assert!(
            report.agents.iter().any(|a| a.compiled > 0),
            "nothing ran compiled"
        );
    }
    report.agents.iter().map(|a| a.instructions).collect()
}

#[test]
fn diverging_long_operations_in_one_simd_group_match_wasmtime() {
    diverge(Tier::Interpreter, Reconverge::Off);
}

/// The lowest-pc-first schedule holds agents back while others of their subgroup run: each
/// agent must still do exactly its own work, on both tiers.
#[test]
fn reconverging_agents_match_wasmtime_on_both_tiers() {
    let free = diverge(Tier::Compiled, Reconverge::Off);
    assert_eq!(diverge(Tier::Interpreter, Reconverge::All), free);
    assert_eq!(diverge(Tier::Compiled, Reconverge::Compiled), free);
}

/// The shared reproducer: zlib's compress/uncompress round trip, four seeds per call, where
/// lavapipe once returned -100 (zlib's own check failing) for the seed-6 agent.
#[test]
fn zlib_round_trips_match_wasmtime_in_every_lane() {
    let wasm = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/zlib-run4.wasm"
    ))
    .unwrap();
    let mut swarm = Swarm::new(SwarmConfig {
        max_agents: 16,
        max_memory_pages: 16,
        ..SwarmConfig::default()
    })
    .unwrap();
    swarm.load_module(&wasm, &Imports::new()).unwrap();
    // Agent i runs seed `seeds[i / 4][i % 4]`: 0, 4, 5, 6 as in the reproducer, then others.
    let seeds = [[0, 4, 5, 6], [6, 6, 1, 27], [2, 3, 6, 9], [27, 6, 11, 0]];
    let args: Vec<Vec<Value>> = (0..16)
        .map(|i| {
            let s = seeds[i / 4];
            [i as i32 % 4, s[0], s[1], s[2], s[3]]
                .into_iter()
                .map(Value::I32)
                .collect()
        })
        .collect();
    swarm.spawn_many("run4", &args).unwrap();
    let report = swarm.run().unwrap();
    assert_agents_match(&wasm, "run4", &report.agents, &args);
    // The reproducer's own record of wasmtime's answers for seeds 0, 4, 5 and 6.
    let recorded = [
        7_548_633_694_564,
        6_683_172_184_720,
        6_621_175_274_749,
        6_561_748_975_580,
    ];
    for (agent, want) in report.agents.iter().zip(recorded) {
        assert_eq!(agent.outcome, Outcome::Finished(vec![Value::I64(want)]));
    }
}
