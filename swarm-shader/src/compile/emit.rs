//! WGSL of compiled blocks: operands as registers named by their position on the value stack,
//! locals as variables, and every exit writing the interpreter's state.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::{Block, Inst};
use crate::isa::{LOOP_HEAD, Op, access_bytes, division};

/// Most cases in one `switch` (lavapipe miscompiles large ones; see `interp`).
const FANOUT: u32 = 16;

/// Every block's function, then `run_block`.
pub(super) fn plan_wgsl(blocks: &[Block]) -> String {
    let mut out = String::new();
    let mut arms = Vec::new();
    for block in blocks {
        out.push_str(&Emitter::block(block));
        let cost = block.cost();
        arms.push((
            block.id,
            format!(
                "if fuel_left < {cost}u {{ return false; }} fuel_left -= {cost}u; \
                 compiled_fuel += {cost}u; return cb_{}();",
                block.id
            ),
        ));
    }
    out.push_str(
        "// The compiled step: runs the block `id` when the slice has its fuel. False when the \
         block ran nothing (its first instruction would trap): the interpreter then runs it.\n",
    );
    out.push_str("fn run_block(id: u32) -> bool {\n");
    out.push_str(&switch_tree("id", &arms, 1));
    out.push_str("    return false;\n}\n");
    out
}

/// Nested `switch`es over `selector`, none with more than [`FANOUT`] cases.
fn switch_tree(selector: &str, arms: &[(u32, String)], depth: usize) -> String {
    let pad = "    ".repeat(depth);
    let mut out = String::new();
    if arms.len() as u32 <= FANOUT {
        writeln!(out, "{pad}switch {selector} {{").expect("String");
        for (id, body) in arms {
            writeln!(out, "{pad}    case {id}u: {{ {body} }}").expect("String");
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

/// A value on the operand stack.
#[derive(Clone, Debug)]
struct Val {
    /// A WGSL expression without side effects: a register or a literal.
    expr: String,
    /// `u64` (else `u32`, an i32 or f32 whose slot's high word is undefined).
    wide: bool,
    /// Whether its slot already holds it (it was loaded from there).
    in_slot: bool,
}

impl Val {
    fn narrow(&self) -> String {
        if self.wide {
            format!("u32({} & 0xfffffffflu)", self.expr)
        } else {
            self.expr.clone()
        }
    }

    fn wide(&self) -> String {
        if self.wide {
            self.expr.clone()
        } else {
            format!("u64({})", self.expr)
        }
    }
}

struct Emitter<'b> {
    block: &'b Block,
    out: String,
    indent: usize,
    registers: u32,
    /// Values by stack position relative to the block's entry `sp` (negative: below it).
    vals: BTreeMap<i32, Val>,
    top: i32,
    /// Locals written so far (in a loop, every local the body writes).
    written: BTreeSet<u32>,
    /// Whether the block runs as a loop.
    looped: bool,
    /// Whether the instruction being compiled is the block's first: leaving before it, on
    /// the first trip, runs nothing.
    first: bool,
}

impl<'b> Emitter<'b> {
    fn block(block: &'b Block) -> String {
        let mut locals = BTreeSet::new();
        let mut writes = BTreeSet::new();
        for inst in &block.insts {
            match inst.op {
                Op::LocalGet => {
                    locals.insert(inst.imms[0]);
                }
                Op::LocalSet | Op::LocalTee => {
                    locals.insert(inst.imms[0]);
                    writes.insert(inst.imms[0]);
                }
                _ => {}
            }
        }
        let mut e = Emitter {
            block,
            out: String::new(),
            indent: 1,
            registers: 0,
            vals: BTreeMap::new(),
            top: 0,
            written: BTreeSet::new(),
            looped: false,
            first: false,
        };
        let first = &block.insts[0];
        let last = block.insts.last().expect("a block is not empty");
        e.looped = first.word & LOOP_HEAD != 0
            && matches!(last.op, Op::BrIf | Op::BrUnless)
            && last.imms[0] == first.pc
            && balanced(block);
        writeln!(
            e.out,
            "// Block {} at pc {}..{}.\nfn cb_{}() -> bool {{\n    let s0 = sp;",
            block.id,
            block.start(),
            block.end(),
            block.id
        )
        .expect("String");
        for local in &locals {
            e.line(&format!("var l{local}: u64 = slot(fp + {local}u);"));
        }
        if e.looped {
            e.written = writes;
            // Whether an iteration has finished: then leaving at the first instruction is
            // progress.
            e.line("var iterated = false;");
            e.line("loop {");
            e.indent += 1;
        }
        let mut spent = 0;
        for (index, inst) in block.insts.iter().enumerate() {
            let rest = block.cost() - spent;
            spent += inst.cost();
            e.first = index == 0;
            e.inst(inst, rest, index + 1 == block.insts.len());
        }
        if !matches!(
            last.op,
            Op::Jump | Op::BrIf | Op::BrUnless | Op::BrAdjust | Op::BrIfAdjust
        ) {
            // The block ends before a leader or an instruction it leaves to the interpreter.
            e.exit(&format!("pc = {}u;", block.end()));
        }
        if e.looped {
            e.indent -= 1;
            e.line("}");
            // Every path in the loop returns or continues.
            e.line("return true;");
        }
        e.out.push_str("}\n\n");
        e.out
    }

    fn line(&mut self, text: &str) {
        for _ in 0..self.indent {
            self.out.push_str("    ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn register(&mut self, wide: bool, expr: &str) -> Val {
        let name = format!("v{}", self.registers);
        self.registers += 1;
        self.line(&format!("let {name} = {expr};"));
        Val {
            expr: name,
            wide,
            in_slot: false,
        }
    }

    /// The stack slot at position `p` as a WGSL index.
    fn slot_index(p: i32) -> String {
        match p {
            0 => "s0".to_owned(),
            p if p > 0 => format!("s0 + {p}u"),
            p => format!("s0 - {}u", -p),
        }
    }

    /// The value at position `p`, loaded from its slot when the block has not seen it yet.
    fn at(&mut self, p: i32, wide: bool) -> Val {
        if let Some(val) = self.vals.get(&p) {
            return val.clone();
        }
        let index = Self::slot_index(p);
        let expr = if wide {
            format!("slot({index})")
        } else {
            format!("slot32({index})")
        };
        let mut val = self.register(wide, &expr);
        val.in_slot = true;
        self.vals.insert(p, val.clone());
        val
    }

    /// The `n`th value from the top (0: the top), left on the stack.
    fn peek(&mut self, n: i32, wide: bool) -> Val {
        self.at(self.top - 1 - n, wide)
    }

    fn pop(&mut self, wide: bool) -> Val {
        let val = self.peek(0, wide);
        self.top -= 1;
        self.vals.remove(&self.top);
        val
    }

    fn push(&mut self, val: Val) {
        self.vals.insert(self.top, val);
        self.top += 1;
    }

    /// Writes every value the stack holds in registers to its slot, and sets `sp`.
    fn spill(&mut self) {
        let pending: Vec<(i32, Val)> = self
            .vals
            .range(..self.top)
            .filter(|(_, v)| !v.in_slot)
            .map(|(p, v)| (*p, v.clone()))
            .collect();
        for (p, val) in pending {
            let index = Self::slot_index(p);
            if val.wide {
                self.line(&format!("set_slot({index}, {});", val.expr));
            } else {
                self.line(&format!("set_slot32({index}, {});", val.expr));
            }
            if let Some(v) = self.vals.get_mut(&p) {
                v.in_slot = true;
            }
        }
        let sp = Self::slot_index(self.top);
        self.line(&format!("sp = {sp};"));
    }

    /// Writes the locals written so far back to their slots.
    fn write_back(&mut self) {
        for local in self.written.clone() {
            self.line(&format!("set_slot(fp + {local}u, l{local});"));
        }
    }

    /// Leaves the agent at `inst`, unexecuted, for the interpreter: spills the state it has
    /// before `inst` and gives back the fuel of the `rest` of the block.
    fn deopt(&mut self, inst: &Inst, rest: u32, condition: &str) {
        self.line(&format!("if {condition} {{"));
        self.indent += 1;
        let vals = self.vals.clone();
        self.spill();
        self.vals = vals;
        self.write_back();
        if rest > 0 {
            self.line(&format!("fuel_left += {rest}u; compiled_fuel -= {rest}u;"));
        }
        self.line(&format!("pc = {}u;", inst.pc));
        let progress = match (self.first, self.looped) {
            (false, _) => "true",
            (true, true) => "iterated",
            (true, false) => "false",
        };
        self.line(&format!("return {progress};"));
        self.indent -= 1;
        self.line("}");
    }

    /// Leaves the block at its end: state spilled, `pc` set by `set_pc`.
    fn exit(&mut self, set_pc: &str) {
        self.spill();
        self.write_back();
        self.line(set_pc);
        self.line("return true;");
    }

    fn inst(&mut self, inst: &Inst, rest: u32, last: bool) {
        let op = inst.op;
        let imm = |i: usize| inst.imms[i];
        match op {
            Op::Nop => {}
            Op::Drop => {
                self.top -= 1;
                self.vals.remove(&self.top);
            }
            Op::Select => {
                let c = self.pop(false).narrow();
                let b = self.pop(true);
                let a = self.pop(true);
                let val = if !a.wide && !b.wide {
                    self.register(false, &format!("select({}, {}, {c} != 0u)", b.expr, a.expr))
                } else {
                    self.register(
                        true,
                        &format!("select({}, {}, {c} != 0u)", b.wide(), a.wide()),
                    )
                };
                self.push(val);
            }
            Op::LocalGet => {
                let val = self.register(true, &format!("l{}", imm(0)));
                self.push(val);
            }
            Op::LocalSet | Op::LocalTee => {
                let val = if op == Op::LocalSet {
                    self.pop(true)
                } else {
                    self.peek(0, true)
                };
                self.line(&format!("l{} = {};", imm(0), val.wide()));
                self.written.insert(imm(0));
            }
            Op::GlobalGet => {
                let val = self.register(true, &format!("global_get({}u)", imm(0)));
                self.push(val);
            }
            Op::GlobalSet => {
                let val = self.pop(true).wide();
                self.line(&format!("global_set({}u, {val}); dirty = true;", imm(0)));
            }
            Op::Const32 | Op::RefFunc => self.push(Val {
                expr: format!("{}u", imm(0)),
                wide: false,
                in_slot: false,
            }),
            Op::Const64 => self.push(Val {
                expr: format!("{}lu", u64::from(imm(0)) | (u64::from(imm(1)) << 32)),
                wide: true,
                in_slot: false,
            }),
            Op::RefNull => self.push(Val {
                expr: "REF_NULL".to_owned(),
                wide: false,
                in_slot: false,
            }),
            Op::RefIsNull => {
                let a = self.pop(false).narrow();
                let val = self.register(false, &format!("select(0u, 1u, {a} == REF_NULL)"));
                self.push(val);
            }
            Op::MemorySize => {
                let val = self.register(false, "mem_pages");
                self.push(val);
            }
            Op::TableSize => {
                let val = self.register(false, &format!("table_size({}u)", imm(0)));
                self.push(val);
            }
            Op::AgentId => {
                let val = self.register(false, "params.first_slot + agent");
                self.push(val);
            }
            Op::AgentCount => {
                let val = self.register(false, "params.swarm_agents");
                self.push(val);
            }
            Op::Jump => {
                self.exit(&format!("pc = {}u;", imm(0)));
            }
            Op::BrIf | Op::BrUnless | Op::BrIfAdjust => {
                let c = self.pop(false).narrow();
                let test = if op == Op::BrUnless {
                    format!("{c} == 0u")
                } else {
                    format!("{c} != 0u")
                };
                let test = self.register(false, &format!("select(0u, 1u, {test})"));
                let taken = if op == Op::BrIfAdjust {
                    format!("branch_adjust({}u, {}u, {}u);", imm(0), imm(1), imm(2))
                } else {
                    format!("pc = {}u;", imm(0))
                };
                if self.looped && last {
                    self.back_edge(&test.expr);
                }
                self.exit(&format!(
                    "if {} != 0u {{ {taken} }} else {{ pc = {}u; }}",
                    test.expr,
                    inst.next()
                ));
            }
            Op::BrAdjust => {
                self.exit(&format!(
                    "branch_adjust({}u, {}u, {}u);",
                    imm(0),
                    imm(1),
                    imm(2)
                ));
            }
            _ => {
                if let Some(bytes) = access_bytes(op) {
                    self.memory(inst, bytes, rest);
                } else if let Some((traps, value)) = division(op) {
                    let wide = op.mnemonic().starts_with("i64");
                    let b = self.peek(0, wide);
                    let a = self.peek(1, wide);
                    let (a, b) = if wide {
                        (a.wide(), b.wide())
                    } else {
                        (a.narrow(), b.narrow())
                    };
                    self.deopt(inst, rest, &scoped(&a, &b, traps));
                    self.pop(wide);
                    self.pop(wide);
                    // Past the check the divisor is not zero, but naga rejects a division by a
                    // literal zero even where it cannot run: the divisor goes through a
                    // register that is never zero.
                    let one = if wide { "1lu" } else { "1u" };
                    let zero = if wide { "0lu" } else { "0u" };
                    let b = self
                        .register(wide, &format!("select({b}, {one}, {b} == {zero})"))
                        .expr;
                    let val = self.register(wide, &scoped(&a, &b, value));
                    self.push(val);
                } else {
                    self.shaped(op);
                }
            }
        }
    }

    /// The back edge of a looped block: with the stack spilled, the next iteration runs here
    /// when the dispatch loop would run it (same work, lifetime and slice checks).
    fn back_edge(&mut self, taken: &str) {
        let vals = self.vals.clone();
        let cost = self.block.cost();
        self.line(&format!("if {taken} != 0u {{"));
        self.indent += 1;
        self.spill();
        self.line(&format!(
            "if work < params.work_limit && fuel_spent() < fuel_room && fuel_left >= {cost}u {{"
        ));
        self.line(&format!(
            "    work += 1u; fuel_left -= {cost}u; compiled_fuel += {cost}u; iterated = true; \
             continue;"
        ));
        self.line("}");
        self.indent -= 1;
        self.line("}");
        self.vals = vals;
    }

    fn memory(&mut self, inst: &Inst, bytes: u32, rest: u32) {
        let shape = inst.op.info().shape;
        let offset = inst.imms[0];
        let end = u64::from(offset) + u64::from(bytes);
        let store = shape.starts_with("st");
        let wide = shape.ends_with("64");
        let address = self.peek(i32::from(store), false).narrow();
        self.deopt(
            inst,
            rest,
            &format!("u64({address}) + {end}lu > mem_bytes()"),
        );
        let body = inst.op.info().body;
        if store {
            let v = self.pop(wide);
            let v = if wide { v.wide() } else { v.narrow() };
            self.pop(false);
            self.line(&format!(
                "{{ let a = {address} + {offset}u; let v = {v}; {body} }}"
            ));
        } else {
            self.pop(false);
            let a = self.register(false, &format!("{address} + {offset}u"));
            let val = self.register(wide, &scoped(&a.expr, "", body));
            self.push(val);
        }
    }

    /// A row of an expression shape: operands popped, its body evaluated with them bound to
    /// `a` and `b`.
    fn shaped(&mut self, op: Op) {
        let info = op.info();
        let (operands, wide_in, wide_out, test) = match info.shape {
            "un32" => (1, false, false, false),
            "un64" => (1, true, true, false),
            "bin32" => (2, false, false, false),
            "bin64" => (2, true, true, false),
            "rel32" => (2, false, false, true),
            "rel64" => (2, true, false, true),
            "test32" => (1, false, false, true),
            "test64" => (1, true, false, true),
            "w32to64" => (1, false, true, false),
            "w64to32" => (1, true, false, false),
            "f64rel" => (2, true, false, false),
            other => unreachable!("{}: shape {other} is not compiled", info.mnemonic),
        };
        let operand = |val: Val| if wide_in { val.wide() } else { val.narrow() };
        let b = if operands == 2 {
            operand(self.pop(wide_in))
        } else {
            String::new()
        };
        let a = operand(self.pop(wide_in));
        let value = if test {
            format!("select(0u, 1u, {})", info.body)
        } else {
            info.body.to_owned()
        };
        let val = self.register(wide_out, &scoped(&a, &b, &value));
        self.push(val);
    }
}

/// `expr` with `a` and `b` bound: an expression evaluated in a function of its own would
/// need one per row, so the operands are substituted for the identifiers `a` and `b`.
fn scoped(a: &str, b: &str, expr: &str) -> String {
    let mut out = String::new();
    let mut chars = expr.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c.is_ascii_alphabetic() || c == '_' {
            let mut end = start + c.len_utf8();
            while let Some(&(i, c)) = chars.peek() {
                if c.is_ascii_alphanumeric() || c == '_' {
                    end = i + c.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            match &expr[start..end] {
                "a" => write!(out, "({a})").expect("String"),
                "b" => write!(out, "({b})").expect("String"),
                word => out.push_str(word),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether the block leaves the stack as it found it once its closing branch has popped its
/// condition: only then can it loop with nothing moved.
fn balanced(block: &Block) -> bool {
    let mut height = 0_i64;
    for inst in &block.insts {
        let info = inst.op.info();
        height += i64::from(info.pushes) - i64::from(info.pops);
    }
    height == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operands_replace_whole_identifiers_only() {
        assert_eq!(
            scoped("v1", "v2", "bitcast<i32>(a) < bitcast<i32>(b)"),
            "bitcast<i32>((v1)) < bitcast<i32>((v2))"
        );
        assert_eq!(
            scoped("x", "y", "rotl32(a, 32u - (b & 31u))"),
            "rotl32((x), 32u - ((y) & 31u))"
        );
        assert_eq!(scoped("x", "", "sext64(load32(a))"), "sext64(load32((x)))");
    }

    #[test]
    fn switch_trees_keep_every_switch_small() {
        let arms: Vec<(u32, String)> = (1..=300).map(|id| (id, format!("f{id}();"))).collect();
        let tree = switch_tree("id", &arms, 1);
        for id in 1..=300 {
            assert!(tree.contains(&format!("case {id}u: {{ f{id}(); }}")));
        }
        // Cases by indentation: a `switch` line starts the count of the cases indented
        // below it.
        let mut counts = std::collections::HashMap::new();
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
