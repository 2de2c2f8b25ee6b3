//! A disassembler for lowered code, for snapshot tests and debugging.

use std::fmt::Write;

use crate::CODE_BASE;
use crate::isa::{FUEL_SHIFT, OPCODE_MASK, Op};
use crate::program::{FuncKind, Program};

/// A listing of every defined function of `program`, one instruction a line:
/// `pc: mnemonic imm=value ...`, with `*` after the pc of instructions that cost fuel.
pub fn disassemble(program: &Program) -> String {
    let mut out = String::new();
    for (index, func) in program.funcs.iter().enumerate() {
        let FuncKind::Defined {
            entry,
            locals,
            max_height,
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
        let end = program
            .funcs
            .iter()
            .filter_map(|f| match f.kind {
                FuncKind::Defined { entry: e, .. } if e > entry => Some(e),
                _ => None,
            })
            .min()
            .unwrap_or(CODE_BASE + program.code.len() as u32);
        let mut pc = entry;
        while pc < end {
            let word = program.code[(pc - CODE_BASE) as usize];
            let Some(op) = Op::from_code(word & OPCODE_MASK) else {
                writeln!(out, "  {pc}: <bad word {word:#x}>").expect("String");
                pc += 1;
                continue;
            };
            let charged = if word >> FUEL_SHIFT != 0 { "*" } else { " " };
            write!(out, "  {pc:>4}{charged} {}", op.mnemonic()).expect("String");
            let info = op.info();
            for (i, name) in info.immediates.iter().enumerate() {
                let value = program.code[(pc + 1 - CODE_BASE) as usize + i];
                write!(out, " {name}={}", show(value)).expect("String");
            }
            pc += 1 + info.immediates.len() as u32;
            if op == Op::BrTable {
                let count = program.code[(pc - 1 - CODE_BASE) as usize] + 1;
                for _ in 0..count {
                    let at = (pc - CODE_BASE) as usize;
                    write!(
                        out,
                        " [{} h={} k={}]",
                        show(program.code[at]),
                        program.code[at + 1],
                        program.code[at + 2]
                    )
                    .expect("String");
                    pc += 3;
                }
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
