//! Lowering of one function body: control flow resolved to targets and heights, fuel costs and
//! fuel check points marked in each instruction word.

use wasmparser::{BlockType, Operator};

use super::consts::{Consts, Edges, Frame};
use super::{CODE_BASE, LoadError, RETURN_TARGET, Reader, numeric};
use crate::isa::{DEFERRED_FUEL, FUEL_SHIFT, LOOP_HEAD, Op, OpGroups, SMALL_BULK_UNITS};
use crate::program::FuncKind;

impl Reader<'_> {
    pub(super) fn lower_body(
        &mut self,
        func: u32,
        body: &wasmparser::FunctionBody<'_>,
    ) -> Result<(), LoadError> {
        let ty = self.program.funcs[func as usize].ty.clone();
        let mut locals = 0_u32;
        let mut groups = Vec::new();
        for local in body.get_locals_reader().map_err(LoadError::from_parser)? {
            let (count, _) = local.map_err(LoadError::from_parser)?;
            locals += count;
            groups.push(count);
        }
        let mut consts = Consts::new(ty.params.len() as u32, groups);
        consts.set_height(ty.params.len() as u32 + locals);
        let entry = CODE_BASE + self.program.code.len() as u32;
        let mut lowerer = FuncLowerer {
            reader: self,
            code_start: entry,
            code: Vec::new(),
            ctrls: Vec::new(),
            height: ty.params.len() as u32 + locals,
            max_height: ty.params.len() as u32 + locals,
            dead: 0,
            consts,
        };
        // A call zeroes every local, but a null reference is not zero: reference locals get
        // `ref.null` first, in instructions that cost no fuel.
        let mut index = ty.params.len() as u32;
        for local in body.get_locals_reader().map_err(LoadError::from_parser)? {
            let (count, val_type) = local.map_err(LoadError::from_parser)?;
            if matches!(val_type, wasmparser::ValType::Ref(_)) {
                for local in index..index + count {
                    lowerer.emit(Op::RefNull, 0, &[]);
                    lowerer.push(1);
                    lowerer.emit(Op::LocalSet, 0, &[local]);
                    lowerer.pop(1);
                }
            }
            index += count;
        }
        lowerer.ctrls.push(Ctrl {
            kind: CtrlKind::Func,
            height: 0,
            params: 0,
            results: ty.results.len() as u32,
            loop_pc: 0,
            fixups: Vec::new(),
            else_fixup: None,
            unreachable: false,
            edges: Edges::default(),
        });
        let mut ops = body
            .get_operators_reader()
            .map_err(LoadError::from_parser)?;
        while !ops.eof() {
            let offset = ops.original_position();
            let op = ops.read().map_err(LoadError::from_parser)?;
            lowerer.lower(op, offset)?;
        }
        let (code, max_height) = (lowerer.code, lowerer.max_height);
        self.program.code.extend(code);
        self.program.funcs[func as usize].memory = self.memory.unwrap_or(0);
        self.program.funcs[func as usize].kind = FuncKind::Defined {
            entry,
            locals,
            max_height,
        };
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CtrlKind {
    Func,
    Block,
    Loop,
    If,
    Else,
}

#[derive(Debug)]
struct Ctrl {
    kind: CtrlKind,
    /// Stack height below the block's parameters.
    height: u32,
    params: u32,
    results: u32,
    loop_pc: u32,
    /// Code positions holding a target to patch with the block's end.
    fixups: Vec<usize>,
    /// For `if`: the position of the `br_unless` target.
    else_fixup: Option<usize>,
    unreachable: bool,
    /// Constants at the frame's entry and at the branches to its end.
    edges: Edges,
}

impl CtrlKind {
    fn frame(self) -> Frame {
        match self {
            CtrlKind::Func | CtrlKind::Block => Frame::Block,
            CtrlKind::Loop => Frame::Loop,
            CtrlKind::If => Frame::If,
            CtrlKind::Else => Frame::Else,
        }
    }
}

impl Ctrl {
    fn label_arity(&self) -> u32 {
        if self.kind == CtrlKind::Loop {
            self.params
        } else {
            self.results
        }
    }
}

struct FuncLowerer<'r, 'm> {
    reader: &'r mut Reader<'m>,
    code_start: u32,
    code: Vec<u32>,
    ctrls: Vec<Ctrl>,
    height: u32,
    max_height: u32,
    /// Nesting depth of blocks opened inside unreachable code.
    dead: u32,
    /// Which operands and locals are constants (for the fuel of bulk instructions).
    consts: Consts,
}

/// Fuel charged for an instruction (wasmtime's model: control bookkeeping is free).
const CHARGED: u32 = 1;
const FREE: u32 = 0;

impl FuncLowerer<'_, '_> {
    fn pc(&self) -> u32 {
        self.code_start + self.code.len() as u32
    }

    fn emit(&mut self, op: Op, fuel: u32, immediates: &[u32]) {
        debug_assert_eq!(immediates.len(), op.info().immediates.len(), "{op:?}");
        self.code.push(op.code() | (fuel << FUEL_SHIFT));
        self.code.extend_from_slice(immediates);
        let groups = &mut self.reader.program.op_groups;
        *groups = groups.union(OpGroups::of(op));
    }

    /// Emits a table instruction with its own stack effect.
    fn simple(&mut self, op: Op, immediates: &[u32]) {
        let info = op.info();
        self.emit(op, CHARGED, immediates);
        self.pop(info.pops);
        self.push(info.pushes);
    }

    fn push(&mut self, n: u32) {
        self.height += n;
        self.max_height = self.max_height.max(self.height);
        self.consts.set_height(self.height);
    }

    fn pop(&mut self, n: u32) {
        self.height -= n;
        self.consts.set_height(self.height);
    }

    /// Sets the height after a control instruction: slots above `base` are new values.
    fn reset_height(&mut self, base: u32, height: u32) {
        self.consts.set_height(base);
        self.height = height;
        self.max_height = self.max_height.max(self.height);
        self.consts.set_height(self.height);
    }

    /// Emits a bulk or grow instruction, whose unit count is its top operand: unless that is
    /// a small constant, wasmtime charges the units after success and checks fuel then.
    fn bulk(&mut self, op: Op, immediates: &[u32]) {
        let small = self.consts.top().is_some_and(|n| n <= SMALL_BULK_UNITS);
        let at = self.code.len();
        self.simple(op, immediates);
        if !small {
            self.code[at] |= DEFERRED_FUEL;
        }
    }

    fn block_arity(&self, ty: BlockType) -> (u32, u32) {
        match ty {
            BlockType::Empty => (0, 0),
            BlockType::Type(_) => (0, 1),
            BlockType::FuncType(index) => {
                let ty = &self.reader.types[index as usize];
                (ty.params.len() as u32, ty.results.len() as u32)
            }
        }
    }

    fn open(&mut self, kind: CtrlKind, ty: BlockType) -> &mut Ctrl {
        let (params, results) = self.block_arity(ty);
        let loop_pc = self.pc();
        let edges = self.consts.open(kind.frame(), params);
        self.ctrls.push(Ctrl {
            kind,
            height: self.height - params,
            params,
            results,
            loop_pc,
            fixups: Vec::new(),
            else_fixup: None,
            unreachable: false,
            edges,
        });
        self.ctrls.last_mut().expect("just pushed")
    }

    fn set_unreachable(&mut self) {
        let ctrl = self.ctrls.last_mut().expect("inside a function");
        ctrl.unreachable = true;
        self.height = ctrl.height;
        self.consts.set_height(self.height);
    }

    /// Emits a branch to the label `depth` levels out; `conditional` pops a condition first.
    fn branch(&mut self, depth: u32, conditional: bool) {
        if conditional {
            self.pop(1);
        }
        let index = self.ctrls.len() - 1 - depth as usize;
        if index == 0 {
            // A branch to the function's label is a return.
            if conditional {
                let skip = self.pc() + 2 + 1;
                self.emit(Op::BrUnless, CHARGED, &[skip]);
                self.emit(Op::Return, FREE, &[]);
            } else {
                self.emit(Op::Return, CHARGED, &[]);
            }
            return;
        }
        let target = &self.ctrls[index];
        let (keep, height, is_loop, loop_pc) = (
            target.label_arity(),
            target.height,
            target.kind == CtrlKind::Loop,
            target.loop_pc,
        );
        let known = if is_loop { loop_pc } else { u32::MAX };
        let at = if self.height - keep == height {
            self.emit(
                if conditional { Op::BrIf } else { Op::Jump },
                CHARGED,
                &[known],
            );
            self.code.len() - 1
        } else {
            self.emit(
                if conditional {
                    Op::BrIfAdjust
                } else {
                    Op::BrAdjust
                },
                CHARGED,
                &[known, height, keep],
            );
            self.code.len() - 3
        };
        if !is_loop {
            self.ctrls[index].fixups.push(at);
            self.consts.branch(&mut self.ctrls[index].edges);
        }
    }

    fn lower(&mut self, op: Operator<'_>, offset: u64) -> Result<(), LoadError> {
        let unreachable = self.ctrls.last().is_some_and(|c| c.unreachable);
        if unreachable {
            match op {
                Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                    self.dead += 1;
                    return Ok(());
                }
                Operator::End if self.dead > 0 => {
                    self.dead -= 1;
                    return Ok(());
                }
                Operator::Else if self.dead == 0 => {}
                Operator::End => {}
                _ => return Ok(()),
            }
        }
        use Operator as O;
        match op {
            O::Nop => {}
            O::Unreachable => {
                self.emit(Op::Unreachable, FREE, &[]);
                self.set_unreachable();
            }
            O::Block { blockty } => {
                self.open(CtrlKind::Block, blockty);
            }
            O::Loop { blockty } => {
                self.open(CtrlKind::Loop, blockty);
            }
            O::If { blockty } => {
                self.pop(1);
                self.emit(Op::BrUnless, CHARGED, &[u32::MAX]);
                let at = self.code.len() - 1;
                self.open(CtrlKind::If, blockty).else_fixup = Some(at);
            }
            O::Else => {
                let reachable = !self.ctrls.last().expect("if").unreachable;
                let ctrl = self.ctrls.last_mut().expect("if");
                self.consts.else_(&mut ctrl.edges, reachable);
                if reachable {
                    self.emit(Op::Jump, FREE, &[u32::MAX]);
                    let at = self.code.len() - 1;
                    self.ctrls.last_mut().expect("if").fixups.push(at);
                }
                let pc = self.pc();
                let ctrl = self.ctrls.last_mut().expect("if");
                if let Some(at) = ctrl.else_fixup.take() {
                    self.code[at] = pc;
                }
                ctrl.kind = CtrlKind::Else;
                ctrl.unreachable = false;
                let (base, params) = (ctrl.height, ctrl.params);
                self.reset_height(base, base + params);
            }
            O::End => {
                let ctrl = self.ctrls.pop().expect("balanced blocks");
                if ctrl.kind == CtrlKind::Func {
                    if !ctrl.unreachable {
                        self.emit(Op::Return, FREE, &[]);
                    }
                    return Ok(());
                }
                if ctrl.kind == CtrlKind::Loop {
                    // wasmtime checks fuel at a loop's header: the loop's first instruction
                    // carries the check, or a free `nop` where the loop has none (its end may be
                    // a branch target that does not enter the loop).
                    if self.pc() == ctrl.loop_pc {
                        self.emit(Op::Nop, FREE, &[]);
                    }
                    self.code[(ctrl.loop_pc - self.code_start) as usize] |= LOOP_HEAD;
                }
                // Results reached only by falling through stay the values they were; where
                // branches join, they are new ones.
                let joined =
                    ctrl.unreachable || !ctrl.fixups.is_empty() || ctrl.else_fixup.is_some();
                self.consts
                    .end(ctrl.kind.frame(), ctrl.edges, !ctrl.unreachable);
                let pc = self.pc();
                for at in ctrl.fixups {
                    self.code[at] = pc;
                }
                if let Some(at) = ctrl.else_fixup {
                    self.code[at] = pc;
                }
                let base = if joined {
                    ctrl.height
                } else {
                    ctrl.height + ctrl.results
                };
                self.reset_height(base, ctrl.height + ctrl.results);
            }
            O::Br { relative_depth } => {
                self.branch(relative_depth, false);
                self.set_unreachable();
            }
            O::BrIf { relative_depth } => self.branch(relative_depth, true),
            O::BrTable { targets } => {
                self.pop(1);
                let mut depths = targets
                    .targets()
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(LoadError::from_parser)?;
                depths.push(targets.default());
                self.emit(Op::BrTable, CHARGED, &[depths.len() as u32 - 1]);
                for depth in depths {
                    let index = self.ctrls.len() - 1 - depth as usize;
                    let at = self.code.len();
                    if index == 0 {
                        // Branches to the function label return: target u32::MAX - 1 marks it.
                        let results = self.ctrls[0].results;
                        self.code.extend([RETURN_TARGET, 0, results]);
                        continue;
                    }
                    let target = &self.ctrls[index];
                    let target_pc = if target.kind == CtrlKind::Loop {
                        target.loop_pc
                    } else {
                        u32::MAX
                    };
                    self.code
                        .extend([target_pc, target.height, target.label_arity()]);
                    if target.kind != CtrlKind::Loop {
                        self.ctrls[index].fixups.push(at);
                        self.consts.branch(&mut self.ctrls[index].edges);
                    }
                }
                self.set_unreachable();
            }
            O::Return => {
                self.emit(Op::Return, FREE, &[]);
                self.set_unreachable();
            }
            O::Call { function_index } => {
                let function_index = self.reader.funcs[function_index as usize];
                let func = &self.reader.program.funcs[function_index as usize];
                let (params, results) = (func.ty.params.len() as u32, func.ty.results.len() as u32);
                match &func.kind {
                    FuncKind::Import { module, name } if module == "swarm" => {
                        let op = match name.as_str() {
                            "agent_id" => Op::AgentId,
                            "agent_count" => Op::AgentCount,
                            _ => Op::Output,
                        };
                        self.emit(op, CHARGED, &[]);
                    }
                    _ => self.emit(Op::Call, CHARGED, &[function_index]),
                }
                self.pop(params);
                self.push(results);
            }
            O::CallIndirect {
                type_index,
                table_index,
            } => {
                let ty = self.reader.types[type_index as usize].clone();
                let type_id = self.reader.type_id(&ty);
                let table = self.reader.tables[table_index as usize];
                self.emit(Op::CallIndirect, CHARGED, &[type_id, table]);
                self.pop(1 + ty.params.len() as u32);
                self.push(ty.results.len() as u32);
            }
            O::Drop => {
                self.emit(Op::Drop, FREE, &[]);
                self.pop(1);
            }
            O::Select | O::TypedSelect { .. } => self.simple(Op::Select, &[]),
            O::LocalGet { local_index } => {
                self.simple(Op::LocalGet, &[local_index]);
                self.consts.local_get(local_index);
            }
            O::LocalSet { local_index } => {
                self.consts.local_set(local_index);
                self.simple(Op::LocalSet, &[local_index]);
            }
            O::LocalTee { local_index } => {
                let top = self.consts.top_def();
                self.consts.local_set(local_index);
                self.simple(Op::LocalTee, &[local_index]);
                self.consts.keep_top(top);
            }
            O::GlobalGet { global_index } => {
                self.simple(Op::GlobalGet, &[self.reader.globals[global_index as usize]]);
            }
            O::GlobalSet { global_index } => {
                self.simple(Op::GlobalSet, &[self.reader.globals[global_index as usize]]);
            }
            O::I32Const { value } => {
                self.simple(Op::Const32, &[value as u32]);
                self.consts.i32_const(value as u32);
            }
            O::F32Const { value } => self.simple(Op::Const32, &[value.bits()]),
            O::I64Const { value } => {
                let v = value as u64;
                self.simple(Op::Const64, &[v as u32, (v >> 32) as u32]);
            }
            O::F64Const { value } => {
                let v = value.bits();
                self.simple(Op::Const64, &[v as u32, (v >> 32) as u32]);
            }
            O::I32Load { memarg } | O::F32Load { memarg } => self.mem(Op::I32Load, memarg)?,
            O::I64Load { memarg } | O::F64Load { memarg } => self.mem(Op::I64Load, memarg)?,
            O::I32Load8S { memarg } => self.mem(Op::I32Load8S, memarg)?,
            O::I32Load8U { memarg } => self.mem(Op::I32Load8U, memarg)?,
            O::I32Load16S { memarg } => self.mem(Op::I32Load16S, memarg)?,
            O::I32Load16U { memarg } => self.mem(Op::I32Load16U, memarg)?,
            O::I64Load8S { memarg } => self.mem(Op::I64Load8S, memarg)?,
            O::I64Load8U { memarg } => self.mem(Op::I64Load8U, memarg)?,
            O::I64Load16S { memarg } => self.mem(Op::I64Load16S, memarg)?,
            O::I64Load16U { memarg } => self.mem(Op::I64Load16U, memarg)?,
            O::I64Load32S { memarg } => self.mem(Op::I64Load32S, memarg)?,
            O::I64Load32U { memarg } => self.mem(Op::I64Load32U, memarg)?,
            O::I32Store { memarg } | O::F32Store { memarg } | O::I64Store32 { memarg } => {
                self.mem(Op::I32Store, memarg)?;
            }
            O::I64Store { memarg } | O::F64Store { memarg } => self.mem(Op::I64Store, memarg)?,
            O::I32Store8 { memarg } | O::I64Store8 { memarg } => {
                self.mem(Op::I32Store8, memarg)?;
            }
            O::I32Store16 { memarg } | O::I64Store16 { memarg } => {
                self.mem(Op::I32Store16, memarg)?;
            }
            O::MemorySize { .. } => self.simple(Op::MemorySize, &[]),
            O::MemoryGrow { .. } => self.bulk(Op::MemoryGrow, &[]),
            O::MemoryFill { .. } => self.bulk(Op::MemoryFill, &[]),
            O::MemoryCopy { .. } => self.bulk(Op::MemoryCopy, &[]),
            O::MemoryInit { data_index, .. } => {
                self.bulk(Op::MemoryInit, &[self.reader.data_base + data_index]);
            }
            O::DataDrop { data_index } => {
                self.simple(Op::DataDrop, &[self.reader.data_base + data_index]);
            }
            O::RefNull { .. } => self.simple(Op::RefNull, &[]),
            O::RefIsNull => self.simple(Op::RefIsNull, &[]),
            O::RefFunc { function_index } => {
                self.simple(Op::RefFunc, &[self.reader.funcs[function_index as usize]]);
            }
            O::TableGet { table } => self.simple(Op::TableGet, &[self.table(table)]),
            O::TableSet { table } => self.simple(Op::TableSet, &[self.table(table)]),
            O::TableSize { table } => self.simple(Op::TableSize, &[self.table(table)]),
            O::TableGrow { table } => self.bulk(Op::TableGrow, &[self.table(table)]),
            O::TableFill { table } => self.bulk(Op::TableFill, &[self.table(table)]),
            O::TableCopy {
                dst_table,
                src_table,
            } => {
                let tables = [self.table(dst_table), self.table(src_table)];
                self.bulk(Op::TableCopy, &tables);
            }
            O::TableInit { elem_index, table } => {
                let segment = self.reader.elem_base + elem_index;
                self.bulk(Op::TableInit, &[segment, self.table(table)]);
            }
            O::ElemDrop { elem_index } => {
                let segment = self.reader.elem_base + elem_index;
                self.simple(Op::ElemDrop, &[segment]);
            }
            // Reinterpretations change nothing on bits.
            O::I32ReinterpretF32
            | O::F32ReinterpretI32
            | O::I64ReinterpretF64
            | O::F64ReinterpretI64 => self.simple(Op::Nop, &[]),
            other => match numeric(&other) {
                Some(op) => self.simple(op, &[]),
                None => {
                    return Err(LoadError::Unsupported {
                        message: format!("instruction {other:?}"),
                        offset,
                    });
                }
            },
        }
        Ok(())
    }

    /// The store index of the module's table `index`.
    fn table(&self, index: u32) -> u32 {
        self.reader.tables[index as usize]
    }

    fn mem(&mut self, op: Op, memarg: wasmparser::MemArg) -> Result<(), LoadError> {
        let offset = u32::try_from(memarg.offset).map_err(|_| LoadError::Unsupported {
            message: "memory offsets beyond 32 bits".to_owned(),
            offset: 0,
        })?;
        self.simple(op, &[offset]);
        Ok(())
    }
}
