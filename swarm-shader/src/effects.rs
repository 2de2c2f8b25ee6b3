//! Which functions are pure: a call of one changes nothing in the agent (globals, memories,
//! tables, segments, output) and does not observe which agent or swarm runs it, so calls of
//! pure functions can run on copies of an agent, together and in any order, with the results
//! they would have one after another.

use crate::disasm::{function_code, instructions};
use crate::isa::Op;
use crate::program::{FuncKind, Program};

/// For every function of `program`, whether it is pure. Imported functions are not (the host
/// answers them), nor are functions that make indirect calls (the table may hold anything) or
/// call a function that is not pure.
pub fn pure_functions(program: &Program) -> Vec<bool> {
    let count = program.funcs.len();
    let mut pure = vec![false; count];
    let mut callees: Vec<Vec<u32>> = vec![Vec::new(); count];
    for (index, func) in program.funcs.iter().enumerate() {
        if !matches!(func.kind, FuncKind::Defined { .. }) {
            continue;
        }
        let code = function_code(program, index).expect("defined");
        pure[index] = instructions(program, code).all(|ins| match ins.op {
            Some(Op::Call) => {
                callees[index].push(ins.immediates[0]);
                true
            }
            Some(op) => op.is_pure(),
            None => false,
        });
    }
    // A function that calls an impure one is impure, to a fixed point.
    loop {
        let mut changed = false;
        for index in 0..count {
            if pure[index] && callees[index].iter().any(|&c| !pure[c as usize]) {
                pure[index] = false;
                changed = true;
            }
        }
        if !changed {
            return pure;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purity_follows_calls_and_state_writes() {
        let wasm = wat::parse_str(
            r#"(module
              (import "host" "f" (func $host))
              (memory 1)
              (global $g (mut i32) (i32.const 0))
              (table 1 funcref)
              (func $load (result i32) (i32.load (i32.const 0)))
              (func $calls_load (result i32) (call $load))
              (func $store (i32.store (i32.const 0) (i32.const 1)))
              (func $calls_store (call $store))
              (func $set (global.set $g (i32.const 1)))
              (func $indirect (call_indirect (i32.const 0)))
              (func $calls_host (call $host))
              (func $recursive (result i32) (call $recursive)))"#,
        )
        .unwrap();
        let program = crate::lower(&wasm).unwrap();
        assert_eq!(
            pure_functions(&program),
            [false, true, true, false, false, false, false, false, true]
        );
    }
}
