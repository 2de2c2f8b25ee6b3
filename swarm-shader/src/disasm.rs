//! A disassembler for lowered code, for snapshot tests and debugging.

use std::fmt::Write;
use std::ops::Range;

use crate::CODE_BASE;
use crate::isa::{DEFERRED_FUEL, FUEL_SHIFT, LOOP_HEAD, OPCODE_MASK, Op};
use crate::program::{FuncKind, Program};

/// The code words of function `index`, if it is defined: from its entry to the next
/// function's.
pub(crate) fn function_code(program: &Program, index: usize) -> Option<Range<u32>> {
    let FuncKind::Defined { entry, .. } = program.funcs.get(index)?.kind else {
        return None;
    };
    let end = program
        .funcs
        .iter()
        .filter_map(|f| match f.kind {
            FuncKind::Defined { entry: e, .. } if e > entry => Some(e),
            _ => None,
        })
        .min()
        .unwrap_or(CODE_BASE + program.code.len() as u32);
    Some(entry..end)
}

/// One decoded instruction: its pc, its word, and its immediates (for `br_table`, the fixed one
/// followed by its target triples).
pub(crate) struct Decoded<'p> {
    pub pc: u32,
    pub word: u32,
    pub op: Option<Op>,
    pub immediates: &'p [u32],
}

/// The instructions of `code`, a function's words.
pub(crate) fn instructions(
    program: &Program,
    code: Range<u32>,
) -> impl Iterator<Item = Decoded<'_>> {
    let mut pc = code.start;
    std::iter::from_fn(move || {
        if pc >= code.end {
            return None;
        }
        let at = (pc - CODE_BASE) as usize;
        let word = program.code[at];
        let op = Op::from_code(word & OPCODE_MASK);
        let mut len = op.map_or(0, |op| op.info().immediates.len());
        if op == Some(Op::BrTable) {
            len += 3 * (program.code[at + 1] as usize + 1);
        }
        let decoded = Decoded {
            pc,
            word,
            op,
            immediates: &program.code[at + 1..at + 1 + len],
        };
        pc += 1 + len as u32;
        Some(decoded)
    })
}

/// A listing of every defined function of `program`, one instruction a line:
/// `pc: mnemonic imm=value ...`, with `*` after the pc of instructions that cost fuel.
pub fn disassemble(program: &Program) -> String {
    let mut out = String::new();
    for (index, func) in program.funcs.iter().enumerate() {
        let FuncKind::Defined {
            locals, max_height, ..
        } = func.kind
        else {
            continue;
        };
        writeln!(
            out,
            "func {index} (params {}, results {}, locals {locals}, max height {max_height}):",
            func.ty.params.len(),
            func.ty.results.len()
        )
        .expect("String");
        let code = function_code(program, index).expect("defined");
        for Decoded {
            pc,
            word,
            op,
            immediates,
        } in instructions(program, code)
        {
            let Some(op) = op else {
                writeln!(out, "  {pc}: <bad word {word:#x}>").expect("String");
                continue;
            };
            let charged = if (word >> FUEL_SHIFT) & 1 != 0 {
                "*"
            } else {
                " "
            };
            let head = if word & LOOP_HEAD != 0 { "loop: " } else { "" };
            write!(out, "  {pc:>4}{charged} {head}{}", op.mnemonic()).expect("String");
            let info = op.info();
            for (name, value) in info.immediates.iter().zip(immediates) {
                write!(out, " {name}={}", show(*value)).expect("String");
            }
            for target in immediates[info.immediates.len()..].chunks(3) {
                write!(
                    out,
                    " [{} h={} k={}]",
                    show(target[0]),
                    target[1],
                    target[2]
                )
                .expect("String");
            }
            if word & DEFERRED_FUEL != 0 {
                out.push_str(" (deferred fuel)");
            }
            out.push('\n');
        }
    }
    out
}

fn show(value: u32) -> String {
    match value {
        crate::RETURN_TARGET => "return".to_owned(),
        v if v > 0xffff => format!("{v:#x}"),
        v => v.to_string(),
    }
}
