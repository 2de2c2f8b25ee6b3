//! Regions: compiled blocks that branch to one another, joined into one WGSL function that
//! keeps the function's locals in registers from block to block, and the `run_block` step
//! that enters a region at any of its blocks.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write;

use super::Block;
use super::emit;
use crate::isa::Op;

/// Most locals one region keeps in registers.
const MAX_REGION_LOCALS: usize = 48;

/// Most cases in one `switch` (lavapipe miscompiles large ones; see `interp`).
const FANOUT: u32 = 16;

/// The regions of `blocks` (each a list of indices into `blocks`, in code order): blocks of
/// one function joined along the branches between them, as long as a region stays within
/// `most_blocks` blocks ([`swarm_core::CompileBudget::region_blocks`]) and
/// [`MAX_REGION_LOCALS`] locals. A branch between two regions leaves one for the dispatch
/// loop, which enters the other.
pub(super) fn regions(blocks: &[Block], most_blocks: usize) -> Vec<Vec<usize>> {
    let starts: HashMap<u32, usize> = blocks
        .iter()
        .enumerate()
        .map(|(i, b)| (b.start(), i))
        .collect();
    let mut parent: Vec<usize> = (0..blocks.len()).collect();
    let mut size = vec![1_usize; blocks.len()];
    let mut locals: Vec<BTreeSet<u32>> = blocks.iter().map(|b| b.locals().0).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for (i, block) in blocks.iter().enumerate() {
        for target in block.successors() {
            let Some(&j) = starts.get(&target) else {
                continue;
            };
            if blocks[j].leaves() {
                continue;
            }
            let (a, b) = (root(&mut parent, i), root(&mut parent, j));
            if a == b || size[a] + size[b] > most_blocks {
                continue;
            }
            if locals[a].union(&locals[b]).count() > MAX_REGION_LOCALS {
                continue;
            }
            let (keep, gone) = if a < b { (a, b) } else { (b, a) };
            parent[gone] = keep;
            size[keep] += size[gone];
            let moved = std::mem::take(&mut locals[gone]);
            locals[keep].extend(moved);
        }
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group_of = HashMap::new();
    for i in 0..blocks.len() {
        let r = root(&mut parent, i);
        let g = *group_of.entry(r).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(i);
    }
    groups
}

/// The interpreter's step that ends a block which [leaves](Block::leaves) through the
/// runtime. The block writes its state back and names the step in `exit_step` (with its
/// operands in `exit_a`, `exit_b`, `exit_c`), and `run_block` takes it at one site for every
/// block, so the kernel holds `enter`, `call_indirect`, `do_return` and `branch_adjust` once
/// rather than once per call site.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Exit {
    /// `enter(exit_a)`: a call of function `exit_a`.
    Call,
    /// `call_indirect(exit_a, exit_b, exit_c)`: type, table, element.
    CallIndirect,
    /// `do_return()`.
    Return,
    /// `branch_adjust` to the `br_table` entry at code word `exit_a`.
    Table,
}

impl Exit {
    /// The exit a block ending with `op` takes, if it leaves through the runtime.
    pub(super) fn of(op: Op) -> Option<Self> {
        match op {
            Op::Call => Some(Self::Call),
            Op::CallIndirect => Some(Self::CallIndirect),
            Op::Return => Some(Self::Return),
            Op::BrTable => Some(Self::Table),
            _ => None,
        }
    }

    /// Its value of `exit_step` (0 is none).
    pub(super) fn code(self) -> u32 {
        self as u32 + 1
    }

    fn step(self) -> &'static str {
        match self {
            Self::Call => "enter(exit_a);",
            Self::CallIndirect => "call_indirect(exit_a, exit_b, exit_c);",
            Self::Return => "do_return();",
            Self::Table => "branch_adjust(code[exit_a], code[exit_a + 1u], code[exit_a + 2u]);",
        }
    }
}

/// The variables and the one site of the `exits` blocks take (none: nothing).
fn exits_wgsl(exits: &BTreeSet<Exit>) -> String {
    if exits.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "// The runtime step a block that ends with a call, return or table branch leaves to \
         (`Exit`), taken by `run_block` once the block has written its state back.\n\
         var<private> exit_step: u32;\nvar<private> exit_a: u32;\nvar<private> exit_b: u32;\n\
         var<private> exit_c: u32;\n\
         fn take_exit() {\n    let step = exit_step;\n    exit_step = 0u;\n    switch step {\n",
    );
    for exit in exits {
        writeln!(out, "        case {}u: {{ {} }}", exit.code(), exit.step()).expect("String");
    }
    out.push_str("        default: {}\n    }\n}\n\n");
    out
}

/// Every region's function, then `run_block`; `regions` are those of `blocks`.
pub(super) fn plan_wgsl(blocks: &[Block], regions: &[Vec<usize>]) -> String {
    let exits: BTreeSet<Exit> = blocks
        .iter()
        .filter_map(|b| Exit::of(b.insts.last().expect("a block is not empty").op))
        .collect();
    let mut out = exits_wgsl(&exits);
    let mut arms = Vec::new();
    for (r, members) in regions.iter().enumerate() {
        let id = r as u32 + 1;
        let members: Vec<&Block> = members.iter().map(|&i| &blocks[i]).collect();
        out.push_str(&emit::region(id, &members));
        for (entry, block) in members.iter().enumerate() {
            let cost = block.cost();
            arms.push((
                block.id,
                format!(
                    "if fuel_left < {cost}u {{ return false; }} fuel_left -= {cost}u; \
                     compiled_fuel += {cost}u; ran = cr_{id}({entry}u, {cost}u);"
                ),
            ));
        }
    }
    arms.sort_by_key(|(id, _)| *id);
    out.push_str(
        "// The compiled step: runs the region of block `id` from that block when the slice has \
         the block's fuel. False when it ran nothing (the block's first instruction would \
         trap): the interpreter then runs it. A block ending with a call, return or table \
         branch leaves its step to `take_exit`.\n",
    );
    out.push_str("fn run_block(id: u32) -> bool {\n    var ran = false;\n");
    out.push_str(&switch_tree("id", &arms, 1));
    if !exits.is_empty() {
        out.push_str("    if exit_step != 0u {\n        take_exit();\n    }\n");
    }
    out.push_str("    return ran;\n}\n");
    out
}

/// Nested `switch`es over `selector`, none with more than [`FANOUT`] cases; `arms` are sorted
/// by their case value.
pub(super) fn switch_tree(selector: &str, arms: &[(u32, String)], depth: usize) -> String {
    let pad = "    ".repeat(depth);
    let mut out = String::new();
    if arms.len() as u32 <= FANOUT {
        writeln!(out, "{pad}switch {selector} {{").expect("String");
        for (id, body) in arms {
            if body.contains('\n') {
                writeln!(out, "{pad}    case {id}u: {{\n{body}{pad}    }}").expect("String");
            } else {
                writeln!(out, "{pad}    case {id}u: {{ {body} }}").expect("String");
            }
        }
        writeln!(out, "{pad}    default: {{}}\n{pad}}}").expect("String");
        return out;
    }
    let mut span = FANOUT;
    let distinct = |span: u32| {
        let mut groups: Vec<u32> = arms.iter().map(|(id, _)| id / span).collect();
        groups.dedup();
        groups.len() as u32
    };
    while distinct(span) > FANOUT {
        span *= FANOUT;
    }
    writeln!(out, "{pad}switch {selector} / {span}u {{").expect("String");
    let mut start = 0;
    while start < arms.len() {
        let group = arms[start].0 / span;
        let end = start + arms[start..].partition_point(|(id, _)| id / span == group);
        writeln!(out, "{pad}    case {group}u: {{").expect("String");
        out.push_str(&switch_tree(selector, &arms[start..end], depth + 2));
        writeln!(out, "{pad}    }}").expect("String");
        start = end;
    }
    writeln!(out, "{pad}    default: {{}}\n{pad}}}").expect("String");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switch_trees_keep_every_switch_small() {
        let arms: Vec<(u32, String)> = (1..=300).map(|id| (id, format!("f{id}();"))).collect();
        let tree = switch_tree("id", &arms, 1);
        for id in 1..=300 {
            assert!(tree.contains(&format!("case {id}u: {{ f{id}(); }}")));
        }
        // Cases by indentation: a `switch` line starts the count of the cases indented
        // below it.
        let mut counts = HashMap::new();
        for line in tree.lines() {
            let indent = line.len() - line.trim_start().len();
            let line = line.trim();
            if line.starts_with("switch") {
                counts.insert(indent + 4, 0);
            } else if line.starts_with("case") {
                let count = counts.get_mut(&indent).expect("a case inside a switch");
                *count += 1;
                assert!(*count <= FANOUT, "a switch of more than {FANOUT} cases");
            }
        }
    }
}
