//! Quick end-to-end check: spawns agents of a small module and prints their results.
use swarm_host::{Imports, Swarm, SwarmConfig, Value};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let wasm = wat::parse_str(
        r#"(module
            (func (export "c") (result i32) (i32.const 42))
            (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
            (func (export "lt") (param i32) (result i32) (i32.lt_u (local.get 0) (i32.const 2)))
            (func (export "if") (param i32) (result i32) (if (result i32) (local.get 0) (then (i32.const 7)) (else (i32.const 9))))
            (func $fib (export "fib") (param i32) (result i32)
              (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
                (then (local.get 0))
                (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                               (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
            (func (export "f") (param f64 f64) (result f64) (f64.div (local.get 0) (local.get 1)))
            (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1))))"#,
    )?;
    let fuel: u64 = std::env::var("FUEL")
        .ok()
        .and_then(|f| f.parse().ok())
        .unwrap_or(100_000_000);
    let mut swarm = Swarm::new(SwarmConfig {
        fuel_per_dispatch: fuel,
        ..SwarmConfig::default()
    })?;
    swarm.load_module(&wasm, &Imports::new())?;
    let only = std::env::args().nth(1);
    let want = |name: &str| only.as_deref().is_none_or(|o| o == name);
    if want("c") {
        swarm.spawn("c", &[])?;
    }
    swarm.spawn("add", &[Value::I32(3), Value::I32(4)])?;
    swarm.spawn("lt", &[Value::I32(1)])?;
    swarm.spawn("if", &[Value::I32(1)])?;
    swarm.spawn("if", &[Value::I32(0)])?;
    for i in 0..6 {
        swarm.spawn("fib", &[Value::I32(i)])?;
    }
    swarm.spawn(
        "f",
        &[Value::F64(1f64.to_bits()), Value::F64(3f64.to_bits())],
    )?;
    swarm.spawn("div", &[Value::I32(7), Value::I32(0)])?;
    let report = swarm.run()?;
    for agent in &report.agents {
        println!("{} {:?} {}", agent.id, agent.outcome, agent.instructions);
    }
    Ok(())
}
