//! How often each piece of a module's code runs, estimated without running it: loops multiply
//! the count of what they hold, and a call carries its site's count into the callee. The
//! compiler spends its budget on the code this estimate ranks highest.

use crate::isa::Op;
use crate::program::{ConstExpr, Export, Program};

use super::Inst;

/// Iterations assumed of every loop each time it is entered.
const LOOP_TRIPS: f64 = 8.0;

/// Loop depth past which the estimate stops growing.
const MAX_DEPTH: u32 = 8;

/// Rounds of carrying counts from callers to callees: the depth of call chains the estimate
/// follows (recursion only grows counts, and they are capped).
const ROUNDS: usize = 16;

/// The largest count: recursion and deep chains saturate here rather than overflow.
const MAX_COUNT: f64 = 1e30;

/// One defined function's code, as the compiler decoded it.
pub(super) struct FunctionCode {
    /// Its index in the program (imports first).
    pub(super) index: usize,
    pub(super) insts: Vec<Inst>,
    /// Its loops: each backward branch's target and pc.
    pub(super) loops: Vec<(u32, u32)>,
}

impl FunctionCode {
    pub(super) fn new(index: usize, insts: Vec<Inst>) -> Self {
        let loops = insts
            .iter()
            .filter(|i| {
                matches!(
                    i.op,
                    Op::Jump | Op::BrIf | Op::BrUnless | Op::BrAdjust | Op::BrIfAdjust
                ) && i.imms[0] <= i.pc
            })
            .map(|i| (i.imms[0], i.pc))
            .collect();
        Self {
            index,
            insts,
            loops,
        }
    }

    /// Loops around the instruction at `pc`.
    pub(super) fn depth(&self, pc: u32) -> u32 {
        self.loops
            .iter()
            .filter(|(head, end)| (*head..=*end).contains(&pc))
            .count() as u32
    }

    /// Runs of the instruction at `pc` per call of the function.
    pub(super) fn local_count(&self, pc: u32) -> f64 {
        LOOP_TRIPS.powi(self.depth(pc).min(MAX_DEPTH) as i32)
    }
}

/// Estimated calls of each function of `program` (indexed like `program.funcs`; imports
/// count 0): one for each entry from outside (an export, the start function, a table
/// element), plus what every call site contributes, its function's calls times its own runs
/// per call. An indirect call shares its count among every function a table can hold.
pub(super) fn function_counts(program: &Program, code: &[FunctionCode]) -> Vec<f64> {
    let funcs = program.funcs.len();
    let mut base = vec![0.0; funcs];
    for export in program.exports.values() {
        if let Export::Func(f) = export {
            base[*f as usize] = 1.0;
        }
    }
    if let Some(start) = program.start {
        base[start as usize] = 1.0;
    }
    let mut indirect: Vec<usize> = program
        .elems
        .iter()
        .flat_map(|segment| &segment.items)
        .filter_map(|item| match item {
            ConstExpr::Func(f) => Some(*f as usize),
            _ => None,
        })
        .collect();
    indirect.sort_unstable();
    indirect.dedup();
    for &f in &indirect {
        base[f] = 1.0;
    }
    // Call sites: (calling function's position in `code`, callee or None for indirect, runs
    // per call of the caller).
    let mut sites = Vec::new();
    for (position, function) in code.iter().enumerate() {
        for inst in &function.insts {
            let callee = match inst.op {
                Op::Call => Some(inst.imms[0] as usize),
                Op::CallIndirect => None,
                _ => continue,
            };
            sites.push((position, callee, function.local_count(inst.pc)));
        }
    }
    let mut counts = base.clone();
    for _ in 0..ROUNDS {
        let mut next = base.clone();
        for &(position, callee, runs) in &sites {
            let calls = counts[code[position].index] * runs;
            match callee {
                Some(f) => next[f] += calls,
                None if !indirect.is_empty() => {
                    let share = calls / indirect.len() as f64;
                    for &f in &indirect {
                        next[f] += share;
                    }
                }
                None => {}
            }
        }
        for count in &mut next {
            *count = count.min(MAX_COUNT);
        }
        counts = next;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lower;

    fn counts(wat: &str) -> Vec<f64> {
        let program = lower(&wat::parse_str(wat).expect("wat")).expect("lowers");
        let code: Vec<FunctionCode> = (0..program.funcs.len())
            .filter_map(|index| Some(FunctionCode::new(index, Inst::function(&program, index)?)))
            .collect();
        function_counts(&program, &code)
    }

    #[test]
    fn a_call_in_a_loop_counts_more_than_one_outside() {
        let counts = counts(
            r#"(module
                (func $hot (result i32) i32.const 1)
                (func $cold (result i32) i32.const 2)
                (func $never (result i32) i32.const 3)
                (func (export "run") (param i32) (result i32)
                  (local i32)
                  call $cold drop
                  (loop $l
                    call $hot local.get 1 i32.add local.set 1
                    local.get 0 i32.const 1 i32.sub local.tee 0
                    br_if $l)
                  local.get 1))"#,
        );
        assert_eq!(counts[3], 1.0);
        assert_eq!(counts[1], 1.0);
        assert_eq!(counts[0], LOOP_TRIPS);
        assert_eq!(counts[2], 0.0);
    }

    #[test]
    fn counts_flow_down_call_chains_and_recursion_stays_finite() {
        let counts = counts(
            r#"(module
                (type $t (func (result i32)))
                (table 1 funcref)
                (elem (i32.const 0) $leaf)
                (func $leaf (result i32) i32.const 1)
                (func $mid (result i32)
                  (loop $l (call_indirect (type $t) (i32.const 0)) br_if $l)
                  i32.const 0)
                (func $rec (param i32) (result i32)
                  local.get 0 local.get 0 call $rec i32.add)
                (func (export "run") (result i32)
                  (loop $l (call $mid) br_if $l)
                  i32.const 0 call $rec))"#,
        );
        // run → mid (8 calls) → leaf through the table (8 per call of mid, plus its entry).
        assert_eq!(counts[1], LOOP_TRIPS);
        assert_eq!(counts[0], 1.0 + LOOP_TRIPS * LOOP_TRIPS);
        assert!(
            counts[2] >= ROUNDS as f64 && counts[2] <= MAX_COUNT,
            "{}",
            counts[2]
        );
    }
}
