//! WGSL of compiled regions: operands as registers named by their position on the value stack,
//! locals as variables kept across the region's blocks, and every exit writing the
//! interpreter's state.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::checks::EntryChecks;
use super::region::{Exit, switch_tree};
use super::{Block, Inst, native_float};
use crate::isa::{Op, access_bytes, division};
use crate::nativefloat::{native_expr, native_row};

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

/// A block of the region being compiled, as a branch to it sees it.
struct Member {
    /// Its case in the region's `switch`.
    index: usize,
    cost: u32,
    loop_head: bool,
}

/// The WGSL function `cr_{id}(entry, charged)` of a region whose blocks are `members` (in code
/// order): it runs from block `entry`, whose fuel (`charged`) the caller has taken, and a
/// branch from one member to another goes on inside it when the dispatch loop would run that
/// block next (same work, lifetime and slice checks), with locals kept in registers.
///
/// A looping region has one exit, after its loop: an exit inside sets `done` and the value to
/// return, and the rest of its block is skipped (it sits in the `else` of the exit's test).
/// The exit writes the locals back once. The loop also ends without `done` where the driver
/// cuts long loops (llvmpipe, see `Swarm::work_limit`): each block's fuel is charged at the
/// start of its own iteration, so a block chosen next but cut off was never charged, and the
/// agent stops between two blocks, exactly. (Where llvmpipe's limiter ends the loop before
/// the first iteration, nothing after the loop runs either: charging before the loop would
/// leave fuel charged for a block that never ran.)
pub(super) fn region(id: u32, members: &[&Block]) -> String {
    let starts: BTreeMap<u32, Member> = members
        .iter()
        .enumerate()
        .map(|(index, b)| {
            let member = Member {
                index,
                cost: b.cost(),
                loop_head: b.loop_head(),
            };
            (b.start(), member)
        })
        .collect();
    let inner = members
        .iter()
        .any(|b| b.successors().iter().any(|t| starts.contains_key(t)));
    let (mut locals, mut writes) = (BTreeSet::new(), BTreeSet::new());
    for block in members {
        let (touched, written) = block.locals();
        locals.extend(touched);
        writes.extend(written);
    }
    let mut e = Emitter {
        members: &starts,
        inner,
        switched: members.len() > 1,
        out: String::new(),
        indent: 1,
        registers: 0,
        vals: BTreeMap::new(),
        top: 0,
        written: BTreeSet::new(),
        first: false,
        open: 0,
        covered: BTreeSet::new(),
    };
    let spans: Vec<String> = members
        .iter()
        .map(|b| format!("{}..{}", b.start(), b.end()))
        .collect();
    writeln!(
        e.out,
        "// Region {id}: blocks at pc {}.\nfn cr_{id}(entry: u32, charged: u32) -> bool {{",
        spans.join(", ")
    )
    .expect("String");
    for local in &locals {
        e.line(&format!("var l{local}: u64 = slot(fp + {local}u);"));
    }
    if !inner {
        e.block(members[0]);
        e.out.push_str("}\n\n");
        return e.out;
    }
    // The exit writes back every local the region writes: a block may leave before the one
    // that wrote a local has run again.
    e.written = writes;
    // Whether a branch inside the region has been taken: then leaving at a block's first
    // instruction is progress.
    e.line("var ran = false;");
    if e.switched {
        e.line("var blk = entry;");
    }
    // `done`: an exit was taken, returning `progress`; `pending`: the fuel of the block the
    // loop runs next, taken at the start of its iteration. The caller's charge is given back
    // and taken again there: where llvmpipe's loop limiter ends the loop before an iteration,
    // no code after that point runs for the agent in this dispatch, so only a charge inside
    // the iteration is sure to go with the block's work.
    e.line("var done = false;");
    e.line("var progress = true;");
    e.line("fuel_left += charged; compiled_fuel -= charged;");
    e.line("var pending = charged;");
    // The loop's first iteration is work too: where the driver counts every loop's iterations
    // against one limit, `work` stays at or above the count.
    e.line("work += 1u;");
    e.line("loop {");
    e.indent += 1;
    e.line("fuel_left -= pending; compiled_fuel += pending;");
    if e.switched {
        let base = e.indent;
        let mut arms = Vec::new();
        for (index, block) in members.iter().enumerate() {
            let body = std::mem::take(&mut e.out);
            e.indent = base + 2;
            e.block(block);
            let case = std::mem::replace(&mut e.out, body);
            arms.push((index as u32, case));
        }
        e.indent = base;
        e.out.push_str(&switch_tree("blk", &arms, base));
    } else {
        e.block(members[0]);
    }
    e.line("if done { break; }");
    e.indent -= 1;
    e.line("}");
    e.line("if !done {");
    e.line("    // Cut by the driver between two blocks: the next one has neither run nor been");
    e.line("    // charged.");
    e.line("    progress = ran;");
    e.line("}");
    e.write_back();
    e.line("return progress;");
    e.out.push_str("}\n\n");
    e.out
}

struct Emitter<'b> {
    /// The region's blocks by first pc.
    members: &'b BTreeMap<u32, Member>,
    /// Whether a member branches to a member: the region runs as a loop.
    inner: bool,
    /// Whether the loop selects its block with `b`.
    switched: bool,
    out: String,
    indent: usize,
    registers: u32,
    /// Values by stack position relative to the block's entry `sp` (negative: below it).
    vals: BTreeMap<i32, Val>,
    top: i32,
    /// Locals written so far (in a looping region, every local the region writes).
    written: BTreeSet<u32>,
    /// Whether the instruction being compiled is its block's first: leaving before it, when
    /// no branch inside the region has run, runs nothing.
    first: bool,
    /// `else` branches opened by exits in the middle of the block (looping regions), closed
    /// at its end.
    open: usize,
    /// The pcs of the block's loads and stores checked at its start ([`EntryChecks`]).
    covered: BTreeSet<u32>,
}

impl Emitter<'_> {
    /// One block's code, from `let s0 = sp;` to the branches that leave it.
    fn block(&mut self, block: &Block) {
        self.vals.clear();
        self.top = 0;
        self.line(&format!("// Block {} at pc {}.", block.id, block.start()));
        self.line("let s0 = sp;");
        let checks = EntryChecks::new(&block.insts);
        if !checks.is_empty() {
            self.first = true;
            self.deopt(&block.insts[0], block.cost(), &checks.failing());
        }
        self.covered = checks.covered;
        let mut spent = 0;
        for (index, inst) in block.insts.iter().enumerate() {
            let rest = block.cost() - spent;
            spent += inst.cost();
            self.first = index == 0;
            self.inst(inst, rest);
        }
        let last = block.insts.last().expect("a block is not empty");
        if !block.leaves()
            && !matches!(
                last.op,
                Op::Jump | Op::BrIf | Op::BrUnless | Op::BrAdjust | Op::BrIfAdjust
            )
        {
            // The block ends before a leader or an instruction it leaves to the interpreter.
            self.spill();
            let end = block.end();
            self.go(&format!("pc = {end}u;"), end);
        }
        while self.open > 0 {
            self.open -= 1;
            self.indent -= 1;
            self.line("}");
        }
    }

    /// Leaves the region, returning `progress`: in a looping region through its one exit
    /// (which writes the locals back), else at once, writing back the locals written so far.
    fn leave(&mut self, progress: &str) {
        if self.inner {
            self.line(&format!("done = true; progress = {progress};"));
        } else {
            self.write_back();
            self.line(&format!("return {progress};"));
        }
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
        if rest > 0 {
            self.line(&format!("fuel_left += {rest}u; compiled_fuel -= {rest}u;"));
        }
        self.line(&format!("pc = {}u;", inst.pc));
        let progress = match (self.first, self.inner) {
            (false, _) => "true",
            (true, true) => "ran",
            (true, false) => "false",
        };
        self.leave(progress);
        self.indent -= 1;
        if self.inner {
            // The rest of the block runs only when it does not leave here.
            self.line("} else {");
            self.indent += 1;
            self.open += 1;
        } else {
            self.line("}");
        }
    }

    /// Goes on to `target` once `set_pc` has run (with the stack spilled): inside the region
    /// when `target` starts a member and the dispatch loop would run it now, else back to the
    /// dispatch loop with the locals written back.
    fn go(&mut self, set_pc: &str, target: u32) {
        let member = self
            .members
            .get(&target)
            .filter(|_| self.inner)
            .map(|m| (m.index, m.cost, m.loop_head));
        let Some((index, cost, loop_head)) = member else {
            self.line(set_pc);
            self.leave("true");
            return;
        };
        self.line(set_pc);
        let lifetime = if loop_head {
            " && fuel_spent() < fuel_room"
        } else {
            ""
        };
        self.line(&format!(
            "if work < params.work_limit && fuel_left >= {cost}u{lifetime} {{"
        ));
        let select = if self.switched {
            format!(" blk = {index}u;")
        } else {
            String::new()
        };
        self.line(&format!(
            "    work += 1u; ran = true; pending = {cost}u;{select}"
        ));
        self.line("} else {");
        self.indent += 1;
        self.leave("true");
        self.indent -= 1;
        self.line("}");
    }

    /// Ends the block with a call, a return or a table branch: the stack spilled, the locals
    /// written back (the step may move to another frame), `pc` where the interpreter has it
    /// when it takes the step, and the step ([`Exit`]) with its `operands` left for
    /// `run_block` to take. Such a block is a region of its own ([`Block::leaves`]), so it
    /// leaves at once.
    fn leave_through(&mut self, pc: u32, exit: Exit, operands: &[String]) {
        debug_assert!(
            !self.inner,
            "a block that leaves through the runtime joins no region"
        );
        self.spill();
        self.write_back();
        let mut line = format!("pc = {pc}u; exit_step = {}u;", exit.code());
        for (name, value) in ["exit_a", "exit_b", "exit_c"].iter().zip(operands) {
            write!(line, " {name} = {value};").expect("String");
        }
        self.line(&line);
        self.line("return true;");
    }

    /// Whether a branch to `target` can stay inside the region.
    fn inside(&self, target: u32) -> bool {
        self.inner && self.members.contains_key(&target)
    }

    fn inst(&mut self, inst: &Inst, rest: u32) {
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
                self.spill();
                self.go(&format!("pc = {}u;", imm(0)), imm(0));
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
                let fall = format!("pc = {}u;", inst.next());
                self.spill();
                if self.inside(imm(0)) || self.inside(inst.next()) {
                    self.line(&format!("if {} != 0u {{", test.expr));
                    self.indent += 1;
                    self.go(&taken, imm(0));
                    self.indent -= 1;
                    self.line("} else {");
                    self.indent += 1;
                    self.go(&fall, inst.next());
                    self.indent -= 1;
                    self.line("}");
                } else {
                    self.line(&format!(
                        "if {} != 0u {{ {taken} }} else {{ {fall} }}",
                        test.expr
                    ));
                    self.leave("true");
                }
            }
            Op::BrAdjust => {
                self.spill();
                self.go(
                    &format!("branch_adjust({}u, {}u, {}u);", imm(0), imm(1), imm(2)),
                    imm(0),
                );
            }
            Op::Call => self.leave_through(inst.next(), Exit::Call, &[format!("{}u", imm(0))]),
            Op::CallIndirect => {
                let i = self.pop(false).narrow();
                let operands = [format!("{}u", imm(0)), format!("{}u", imm(1)), i];
                self.leave_through(inst.next(), Exit::CallIndirect, &operands);
            }
            Op::Return => self.leave_through(inst.next(), Exit::Return, &[]),
            Op::BrTable => {
                // The entries (target, height, kept) follow the count; the last is the default.
                let i = self.pop(false).narrow();
                let table = inst.pc + 2;
                let entry = format!("{table}u + min({i}, {}u) * 3u", imm(0));
                self.leave_through(table, Exit::Table, &[entry]);
            }
            _ => {
                if let Some(bytes) = access_bytes(op) {
                    self.memory(inst, bytes, rest);
                } else if let Some(width) = native_float(op) {
                    self.float(inst, width, rest);
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

    fn memory(&mut self, inst: &Inst, bytes: u32, rest: u32) {
        let shape = inst.op.info().shape;
        let offset = inst.imms[0];
        let end = u64::from(offset) + u64::from(bytes);
        let store = shape.starts_with("st");
        let wide = shape.ends_with("64");
        let address = self.peek(i32::from(store), false).narrow();
        if !self.covered.contains(&inst.pc) {
            self.deopt(
                inst,
                rest,
                &format!("u64({address}) + {end}lu > mem_bytes()"),
            );
        }
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

    /// f32 or f64 (`width`) `add`, `sub` or `mul` on the GPU's float unit, as the float
    /// unit's fast path computes it ([`crate::nativefloat`]): where an operand or the result
    /// is not a normal number, the agent is left at the instruction for the interpreter,
    /// whose float unit computes it in integer code.
    fn float(&mut self, inst: &Inst, width: u32, rest: u32) {
        let wide = width == 64;
        let b = self.peek(0, wide);
        let a = self.peek(1, wide);
        let (a, b) = if wide {
            (a.wide(), b.wide())
        } else {
            (a.narrow(), b.narrow())
        };
        let (_, symbol) = native_row(inst.op).expect("a fast-path row");
        let mut expr = native_expr(width, symbol, &a, &b);
        // Vulkan lets a driver fuse a multiply with the add that uses it (naga marks nothing
        // `NoContraction`), which rounds once where WebAssembly rounds twice. A product ORed
        // with a zero the driver cannot know is no longer a multiply to fuse.
        if symbol == "*" {
            let zero = if wide {
                "u64(params.zero)"
            } else {
                "params.zero"
            };
            expr = format!("{expr} | {zero}");
        }
        let r = self.register(wide, &expr);
        let normal = format!(
            "nf_normal{width}({a}) && nf_normal{width}({b}) && nf_normal{width}({})",
            r.expr
        );
        self.deopt(inst, rest, &format!("!({normal})"));
        self.pop(wide);
        self.pop(wide);
        self.push(r);
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
pub(super) fn scoped(a: &str, b: &str, expr: &str) -> String {
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
}
