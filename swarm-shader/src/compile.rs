//! The compiled tier: a module's straight-line blocks of lowered code, compiled to WGSL and run
//! inside the interpreter's own dispatch loop.
//!
//! **The contract.** A block is a run of instructions the compiler handles (integer arithmetic,
//! variables, constants, loads and stores, division, `select`, branches to a fixed target,
//! float `add`, `sub` and `mul` of the widths the float unit's fast path computes, and, as its
//! last instruction, a call, `call_indirect`, return or `br_table`) that starts at a leader and
//! ends at a branch, before an instruction it does not handle, or before the next leader. Its
//! first instruction word carries its id ([`isa::BLOCK_SHIFT`]). The
//! compiled kernel is the interpreter with one more step: when the dispatch loop reaches an
//! instruction that starts a block and the slice has fuel for the whole block, it runs the
//! block's WGSL instead of the next instruction. Operands live in registers and the locals a
//! block touches in variables; at every exit the block writes exactly the state the
//! interpreter would have after the same instructions (slots, locals, `pc`, `sp`, fuel), so
//! either tier continues from any stop: a dispatch can change kernels, a fuel suspension or a
//! host call stops where it always did. A block ending with a call, return or `br_table`
//! writes its state back and names the interpreter's own step for it (`enter`,
//! `call_indirect`, `do_return`, `branch_adjust`; [`region::Exit`]), which `run_block` then
//! takes at one site for every block, so frames, entry fuel, host calls and their traps are
//! the interpreter's by construction; everything else (`unreachable`, tables, bulk
//! and the other float instructions) is the interpreter's.
//!
//! **Exactness.** Fuel is charged for the whole block before it runs, so a slice never ends
//! inside one: where less is left, the interpreter runs the instructions one at a time. An
//! instruction that can trap (a load or store out of bounds, a division by zero or overflow)
//! is checked first; when it would trap, the block gives back the fuel of the instructions it
//! did not run and leaves the agent at that instruction, which the interpreter then executes,
//! so traps are the interpreter's by construction. A load or store whose address the block
//! had when it started, or computes from such values by integer arithmetic, is checked at the
//! start instead, once for every access from that address, leaving the whole block to the
//! interpreter where one would fail ([`checks`]). Float arithmetic leaves the same way
//! wherever the fast path ([`crate::nativefloat`]) would hand it to soft-float: an operand or
//! the result that is not a normal number. Blocks that branch to one another form a
//! region ([`region`]): one WGSL function, a loop over a `switch` of its blocks, with the
//! locals in registers; a branch stays inside it when the dispatch loop would run the target
//! next (the same fuel, lifetime and loop-limit checks), and leaves with the state written
//! back otherwise. A looping region has one exit, after its loop, so that a loop the driver
//! cuts short (llvmpipe's limiter) leaves the state of the last block that ran.

use std::collections::BTreeSet;

use crate::disasm::{function_code, instructions};
use crate::isa::{BLOCK_SHIFT, FUEL_SHIFT, LOOP_HEAD, MAX_BLOCK_ID, Op, access_bytes, division};
use crate::lower::RETURN_TARGET;
use crate::nativefloat::{NativeFloats, native_row};
use crate::program::Program;

mod checks;
mod emit;
mod estimate;
mod region;

use estimate::FunctionCode;

pub use swarm_core::CompileBudget;

/// One decoded instruction of a block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Inst {
    pub(crate) pc: u32,
    pub(crate) word: u32,
    pub(crate) op: Op,
    pub(crate) imms: Vec<u32>,
}

impl Inst {
    /// The instructions of function `index`, if it is defined.
    pub(crate) fn function(program: &Program, index: usize) -> Option<Vec<Self>> {
        let range = function_code(program, index)?;
        Some(
            instructions(program, range)
                .filter_map(|d| {
                    Some(Self {
                        pc: d.pc,
                        word: d.word,
                        op: d.op?,
                        imms: d.immediates.to_vec(),
                    })
                })
                .collect(),
        )
    }

    /// Its fuel: 0 or 1.
    pub(crate) fn cost(&self) -> u32 {
        (self.word >> FUEL_SHIFT) & 1
    }

    /// The pc of the next instruction.
    pub(crate) fn next(&self) -> u32 {
        self.pc + 1 + self.imms.len() as u32
    }
}

/// A block: instructions from a leader, run as one piece of WGSL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Block {
    /// Its id, in the first instruction's word.
    pub(crate) id: u32,
    pub(crate) insts: Vec<Inst>,
}

impl Block {
    pub(crate) fn start(&self) -> u32 {
        self.insts[0].pc
    }

    /// The pc after its last instruction.
    pub(crate) fn end(&self) -> u32 {
        self.insts.last().expect("a block is not empty").next()
    }

    /// The fuel of all its instructions.
    pub(crate) fn cost(&self) -> u32 {
        self.insts.iter().map(Inst::cost).sum()
    }

    /// Whether its first instruction is a loop header (where the dispatch loop checks the
    /// lifetime fuel budget).
    pub(crate) fn loop_head(&self) -> bool {
        self.insts[0].word & LOOP_HEAD != 0
    }

    /// The pcs it can leave to: a branch's targets, else the instruction after it; none
    /// where it [`leaves`](Self::leaves) through the runtime.
    pub(crate) fn successors(&self) -> Vec<u32> {
        let last = self.insts.last().expect("a block is not empty");
        match last.op {
            _ if self.leaves() => Vec::new(),
            Op::Jump | Op::BrAdjust => vec![last.imms[0]],
            Op::BrIf | Op::BrUnless | Op::BrIfAdjust => vec![last.imms[0], last.next()],
            _ => vec![self.end()],
        }
    }

    /// Whether it ends with a call, a return or a table branch, which it leaves to the
    /// interpreter's runtime once its state is written back (so it is never joined into a
    /// region with other blocks: the runtime may change the frame the region's locals live in).
    pub(crate) fn leaves(&self) -> bool {
        let last = self.insts.last().expect("a block is not empty");
        region::Exit::of(last.op).is_some()
    }

    /// The locals it reads or writes, and those it writes.
    pub(crate) fn locals(&self) -> (BTreeSet<u32>, BTreeSet<u32>) {
        let (mut touched, mut written) = (BTreeSet::new(), BTreeSet::new());
        for inst in &self.insts {
            match inst.op {
                Op::LocalGet => {
                    touched.insert(inst.imms[0]);
                }
                Op::LocalSet | Op::LocalTee => {
                    touched.insert(inst.imms[0]);
                    written.insert(inst.imms[0]);
                }
                _ => {}
            }
        }
        (touched, written)
    }
}

/// How the compiler treats an instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// Compiled; the block may go on after it.
    Straight,
    /// A branch to a fixed target, compiled: the block ends with it.
    Branch,
    /// A call, a return or a table branch, compiled: the block ends with it, writes its
    /// state back and leaves the interpreter's own step for it to `run_block`
    /// ([`region::Exit`]).
    Leave,
    /// Left to the interpreter: a block ends before it.
    Interpreted,
}

fn role(op: Op, imms: &[u32], floats: NativeFloats) -> Role {
    if let Some(width) = native_float(op) {
        return if width == 32 && floats.f32() || width == 64 && floats.f64() {
            Role::Straight
        } else {
            Role::Interpreted
        };
    }
    if region::Exit::of(op).is_some() {
        return Role::Leave;
    }
    match op {
        Op::Jump | Op::BrIf | Op::BrUnless | Op::BrAdjust | Op::BrIfAdjust => {
            if imms[0] == RETURN_TARGET {
                Role::Interpreted
            } else {
                Role::Branch
            }
        }
        Op::Nop
        | Op::Drop
        | Op::Select
        | Op::LocalGet
        | Op::LocalSet
        | Op::LocalTee
        | Op::GlobalGet
        | Op::GlobalSet
        | Op::Const32
        | Op::Const64
        | Op::MemorySize
        | Op::RefNull
        | Op::RefIsNull
        | Op::RefFunc
        | Op::TableSize
        | Op::AgentId
        | Op::AgentCount => Role::Straight,
        _ if access_bytes(op).is_some() || division(op).is_some() => Role::Straight,
        _ => match op.info().shape {
            "un32" | "un64" | "bin32" | "bin64" | "rel32" | "rel64" | "test32" | "test64"
            | "w32to64" | "w64to32" | "f64rel" => Role::Straight,
            _ => Role::Interpreted,
        },
    }
}

/// The width of a float instruction a block runs on the GPU's float unit, where the float
/// unit's fast path ([`crate::nativefloat`]) allows it: 32 or 64.
pub(crate) fn native_float(op: Op) -> Option<u32> {
    native_row(op).map(|(width, _)| width)
}

/// Which blocks of a module the compiled tier runs: what both its code image (the block ids)
/// and its kernel (the blocks' WGSL) are made from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompilePlan {
    blocks: Vec<Block>,
    /// The blocks' regions ([`region::regions`]), as indices into `blocks`.
    regions: Vec<Vec<usize>>,
    /// The opcodes the module's code holds, a bit each.
    used: Vec<u64>,
    /// Instructions of the module's code.
    code_instructions: u32,
    /// Which float widths its blocks add, subtract and multiply on the GPU's float unit.
    floats: NativeFloats,
    /// Each block's place in the order of the instructions the estimate expects it to run,
    /// most first (in `blocks` order): what [`CompilePlan::within`] picks by.
    rank: Vec<u32>,
    /// The region budget it was made with.
    region_blocks: u32,
}

impl Default for CompilePlan {
    fn default() -> Self {
        Self {
            blocks: Vec::new(),
            regions: Vec::new(),
            used: Vec::new(),
            code_instructions: 0,
            floats: NativeFloats::None,
            rank: Vec::new(),
            region_blocks: 1,
        }
    }
}

impl CompilePlan {
    /// Splits every defined function of `program` into blocks, and picks those to compile
    /// within `budget`: those the static estimate ([`estimate`]) expects to run the most
    /// instructions. Blocks run f32 or f64 `add`, `sub` and `mul` where `floats` has the
    /// width (the kernel's [`KernelOptions::floats`](crate::KernelOptions) must have it too),
    /// and leave them to the interpreter otherwise.
    pub fn new(program: &Program, budget: &CompileBudget, floats: NativeFloats) -> Self {
        let mut plan = Self {
            floats,
            ..Self::default()
        };
        let mut code = Vec::new();
        for index in 0..program.funcs.len() {
            let Some(insts) = Inst::function(program, index) else {
                continue;
            };
            plan.code_instructions += insts.len() as u32;
            for inst in &insts {
                let code = inst.op.code() as usize;
                if plan.used.len() <= code / 64 {
                    plan.used.resize(code / 64 + 1, 0);
                }
                plan.used[code / 64] |= 1 << (code % 64);
            }
            code.push(FunctionCode::new(index, insts));
        }
        let counts = estimate::function_counts(program, &code);
        // Every block, with the instructions it is expected to run.
        let mut candidates: Vec<(f64, &[Inst])> = Vec::new();
        for function in &code {
            let entry = function.insts.first().map_or(0, |i| i.pc);
            for block in split(&function.insts, entry, budget.block_instructions, floats) {
                let runs = counts[function.index] * function.local_count(block[0].pc);
                candidates.push((runs * block.len() as f64, block));
            }
        }
        // The most instructions first; ids in code order.
        let mut order: Vec<usize> = (0..candidates.len()).collect();
        order.sort_by(|&a, &b| candidates[b].0.total_cmp(&candidates[a].0).then(a.cmp(&b)));
        let mut rank = vec![0_u32; candidates.len()];
        for (place, &i) in order.iter().enumerate() {
            rank[i] = place as u32;
        }
        let chosen = pick(
            &order,
            |i| candidates[i].1.len() as u32,
            budget.instructions,
            budget.blocks.min(MAX_BLOCK_ID),
        );
        for (i, (_, insts)) in candidates.into_iter().enumerate() {
            if chosen[i] {
                let id = plan.blocks.len() as u32 + 1;
                plan.blocks.push(Block {
                    id,
                    insts: insts.to_vec(),
                });
                plan.rank.push(rank[i]);
            }
        }
        plan.region_blocks = budget.region_blocks.max(1);
        plan.regions = region::regions(&plan.blocks, plan.region_blocks as usize);
        plan
    }

    /// The plan of a smaller kernel: the blocks of this one that the estimate expects to run
    /// the most instructions, within `instructions` and `blocks`, picked as [`CompilePlan::new`]
    /// picks them. They keep their ids, so a code image marked by this plan serves both
    /// kernels: the smaller one's `run_block` declines the other ids, and the interpreter runs
    /// those blocks. So agents move between the two kernels at any dispatch, and the larger
    /// one can be built in the background while the smaller one runs.
    pub fn within(&self, instructions: u32, blocks: u32) -> Self {
        let mut order: Vec<usize> = (0..self.blocks.len()).collect();
        order.sort_by_key(|&i| self.rank[i]);
        let chosen = pick(
            &order,
            |i| self.blocks[i].insts.len() as u32,
            instructions,
            blocks,
        );
        let mut plan = Self {
            blocks: Vec::new(),
            regions: Vec::new(),
            used: self.used.clone(),
            code_instructions: self.code_instructions,
            floats: self.floats,
            rank: Vec::new(),
            region_blocks: self.region_blocks,
        };
        for (i, block) in self.blocks.iter().enumerate() {
            if chosen[i] {
                plan.blocks.push(block.clone());
                plan.rank.push(self.rank[i]);
            }
        }
        plan.regions = region::regions(&plan.blocks, plan.region_blocks as usize);
        plan
    }

    /// The ids of its blocks, in code order.
    pub fn block_ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.blocks.iter().map(|b| b.id)
    }

    /// Whether the module's code holds `op` (the interpreter in its compiled kernel needs no
    /// other instruction).
    pub fn uses(&self, op: Op) -> bool {
        let code = op.code() as usize;
        self.used
            .get(code / 64)
            .is_some_and(|bits| bits & (1 << (code % 64)) != 0)
    }

    /// Blocks compiled.
    pub fn blocks(&self) -> usize {
        self.blocks.len()
    }

    /// Regions: groups of compiled blocks that branch to one another and run as one WGSL
    /// function with their locals in registers.
    pub fn regions(&self) -> usize {
        self.regions.len()
    }

    /// Instructions in compiled blocks, and in the module's code.
    pub fn coverage(&self) -> (u32, u32) {
        let compiled = self.blocks.iter().map(|b| b.insts.len() as u32).sum();
        (compiled, self.code_instructions)
    }

    /// Writes each block's id into its first instruction word of `image` (a code image's
    /// words, whose index is the pc).
    pub fn mark(&self, image: &mut [u32]) {
        for block in &self.blocks {
            let word = &mut image[block.start() as usize];
            *word = (*word & !(MAX_BLOCK_ID << BLOCK_SHIFT)) | (block.id << BLOCK_SHIFT);
        }
    }

    /// The WGSL of every block and of `run_block`, the step the interpreter's dispatch loop
    /// takes at an instruction word with a block id.
    pub fn wgsl(&self) -> String {
        region::plan_wgsl(&self.blocks, &self.regions)
    }
}

/// Which of the blocks whose lengths `len` gives to pick, going through them in `order` (most
/// expected instructions first): each that still fits within `instructions` and `blocks`.
fn pick(order: &[usize], len: impl Fn(usize) -> u32, instructions: u32, blocks: u32) -> Vec<bool> {
    let mut chosen = vec![false; order.len()];
    let (mut count, mut compiled) = (0_u32, 0_u32);
    for &i in order {
        if count < blocks && compiled + len(i) <= instructions {
            chosen[i] = true;
            count += 1;
            compiled += len(i);
        }
    }
    chosen
}

/// The blocks of one function, whose instructions are `insts` and entry `entry`.
fn split(insts: &[Inst], entry: u32, cap: u32, floats: NativeFloats) -> Vec<&[Inst]> {
    let mut leaders = BTreeSet::from([entry]);
    for inst in insts {
        if inst.word & LOOP_HEAD != 0 {
            leaders.insert(inst.pc);
        }
        match inst.op {
            Op::Jump | Op::BrIf | Op::BrUnless | Op::BrAdjust | Op::BrIfAdjust => {
                leaders.insert(inst.imms[0]);
            }
            Op::BrTable => {
                for target in inst.imms[1..].chunks(3) {
                    leaders.insert(target[0]);
                }
            }
            _ => {}
        }
        if role(inst.op, &inst.imms, floats) != Role::Straight {
            leaders.insert(inst.next());
        }
    }
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < insts.len() {
        if role(insts[i].op, &insts[i].imms, floats) == Role::Interpreted {
            i += 1;
            continue;
        }
        let start = i;
        loop {
            let role = role(insts[i].op, &insts[i].imms, floats);
            if role == Role::Interpreted {
                break;
            }
            i += 1;
            if role != Role::Straight
                || i - start >= cap as usize
                || i == insts.len()
                || leaders.contains(&insts[i].pc)
            {
                break;
            }
        }
        blocks.push(&insts[start..i]);
    }
    blocks
}

/// Whether `op` is a row the compiled tier runs with `floats` (for tests and listings).
pub fn compiles(op: Op, floats: NativeFloats) -> bool {
    let imms = vec![0; op.info().immediates.len().max(1)];
    role(op, &imms, floats) != Role::Interpreted
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::OPS;

    #[test]
    fn integer_rows_calls_returns_and_fast_path_floats_compile() {
        for info in OPS {
            let op = info.op;
            let expected = !info.shape.starts_with("fu")
                && !matches!(
                    op,
                    Op::Unreachable
                        | Op::Output
                        | Op::MemoryGrow
                        | Op::MemoryFill
                        | Op::MemoryCopy
                        | Op::MemoryInit
                        | Op::DataDrop
                        | Op::TableGet
                        | Op::TableSet
                        | Op::TableGrow
                        | Op::TableFill
                        | Op::TableCopy
                        | Op::TableInit
                        | Op::ElemDrop
                );
            assert_eq!(
                compiles(op, NativeFloats::None),
                expected,
                "{}",
                info.mnemonic
            );
            let native = expected || native_float(op).is_some();
            assert_eq!(
                compiles(op, NativeFloats::F32AndF64),
                native,
                "{}",
                info.mnemonic
            );
            let f32_only = expected || native_float(op) == Some(32);
            assert_eq!(
                compiles(op, NativeFloats::F32),
                f32_only,
                "{}",
                info.mnemonic
            );
        }
        assert!(compiles(Op::F64Mul, NativeFloats::F32AndF64));
        assert!(!compiles(Op::F64Mul, NativeFloats::F32));
        assert!(!OPS.is_empty());
    }
}
