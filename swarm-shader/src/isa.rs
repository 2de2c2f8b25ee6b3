//! swarm's GPU instruction set, defined once.
//!
//! [`for_each_op!`] lists every instruction: its Rust name, its mnemonic, its immediate words, its
//! stack effect and its WGSL semantics. From that one table come the [`Op`] enum, the encoder's
//! immediate counts, the disassembler and the interpreter's `switch` arms
//! ([`crate::interp`]).
//!
//! Naming: instructions that do what a WebAssembly instruction does keep its name
//! (`i32.add`); swarm's own control instructions have plain names (`jump`, `br_adjust`).
//! f32 values are handled as `u32` bits and f64 values as `u64` bits, so `f32.load` is `i32.load`
//! and the `f32.const` of WebAssembly becomes `const32`.
//!
//! Encoding: an instruction is a word `opcode | fuel << 16 | flags` followed by its immediate
//! words. The fuel (0 or 1, wasmtime's cost model) is per instruction instance: a `jump` lowered
//! from `br` costs 1, one lowered from `else` costs 0. The flags mark wasmtime's fuel check
//! points: [`LOOP_HEAD`] and [`DEFERRED_FUEL`].
//!
//! Shapes: `raw` bodies are WGSL statements over the interpreter's state (`pc` already points past
//! the immediates, which are bound to `imm0`, `imm1`, ...); the other shapes pop their operands
//! into `a` (and `b`), evaluate the expression, and push the result: `un32`/`un64` (same width),
//! `bin32`/`bin64`, `rel32`/`rel64` (a `bool`, pushed as i32), `test32`/`test64` (one operand,
//! a `bool`), `w32to64`/`w64to32` (conversions), `f64rel` (two u64, a u32 result).
//! Memory rows: `ld32`/`ld64` bodies are the loaded value as an expression over the effective
//! address `a`, `st32`/`st64` bodies statements storing `v` at `a`; the address is the popped
//! operand plus the `offset` immediate, bounds-checked for [`access_bytes`] bytes first.
//! `fu1`/`fu2` rows are float-unit instructions: their expression (a `u64` over the 64-bit
//! operands `a`, `b`, or their low words `a32`, `b32`) is evaluated in one `float_unit`
//! function reached from a single call site, so each soft-float routine is inlined once by
//! drivers that inline every call (Mesa does): a much smaller shader to compile. `add`, `sub`
//! and `mul` call the fast path of [`crate::native_float_wgsl`] (`nf_*`), the rest the
//! soft-float routines (`sf_*`).

/// Bits of an instruction word that hold the opcode.
pub const OPCODE_MASK: u32 = 0xffff;
/// Shift of the fuel cost (one bit: 0 or 1) in an instruction word.
pub const FUEL_SHIFT: u32 = 16;
/// Flag of an instruction that begins a loop. wasmtime checks fuel at every loop header, so an
/// agent whose lifetime fuel is spent traps `out_of_fuel` before running this instruction.
pub const LOOP_HEAD: u32 = 1 << 17;
/// Flag of a bulk or grow instruction whose unit count is not a constant of at most
/// [`SMALL_BULK_UNITS`]. As in wasmtime, such an instruction charges its units only when it
/// succeeds and then checks fuel; without the flag it charges them at once (a failed grow
/// included) and checks nothing.
pub const DEFERRED_FUEL: u32 = 1 << 18;
/// Shift of a compiled block's id in an instruction word: the first instruction of every block
/// the compiled tier runs carries its id (1 and up; 0 for none) in the bits from here on
/// (see [`crate::compile`]). The interpreter masks them off.
pub const BLOCK_SHIFT: u32 = 19;
/// The largest block id an instruction word holds.
pub const MAX_BLOCK_ID: u32 = u32::MAX >> BLOCK_SHIFT;
/// Largest constant unit count whose fuel wasmtime charges without a check (its
/// `SMALL_BULK_OP_COST`, at one fuel per unit).
pub const SMALL_BULK_UNITS: u32 = 128;

/// Calls `$m!` with the whole instruction table.
#[macro_export]
macro_rules! for_each_op {
    ($m:ident) => {
        $m! {
            // Control.
            Nop = "nop" () [0 -> 0] raw "";
            Unreachable = "unreachable" () [0 -> 0] raw "trap(TRAP_UNREACHABLE);";
            Jump = "jump" (target) [0 -> 0] raw "pc = imm0;";
            BrIf = "br_if" (target) [1 -> 0] raw "if pop32() != 0u { pc = imm0; }";
            BrUnless = "br_unless" (target) [1 -> 0] raw "if pop32() == 0u { pc = imm0; }";
            BrAdjust = "br_adjust" (target, height, keep) [0 -> 0] raw "branch_adjust(imm0, imm1, imm2);";
            BrIfAdjust = "br_if_adjust" (target, height, keep) [1 -> 0] raw "if pop32() != 0u { branch_adjust(imm0, imm1, imm2); }";
            BrTable = "br_table" (count) [1 -> 0] raw "let i = min(pop32(), imm0); let e = pc + i * 3u; branch_adjust(code[e], code[e + 1u], code[e + 2u]);";
            Return = "return" () [0 -> 0] raw "do_return();";
            Call = "call" (func) [0 -> 0] raw "enter(imm0);";
            CallIndirect = "call_indirect" (type_id, table) [1 -> 0] raw "call_indirect(imm0, imm1, pop32());";
            AgentId = "swarm.agent_id" () [0 -> 1] raw "push32(params.first_slot + agent);";
            AgentCount = "swarm.agent_count" () [0 -> 1] raw "push32(params.swarm_agents);";
            Output = "swarm.output" () [2 -> 0] raw "let n = pop32(); let p = pop32(); write_output(p, n);";
            Drop = "drop" () [1 -> 0] raw "sp -= 1u;";
            Select = "select" () [3 -> 1] raw "let c = pop32(); let b = pop64(); let a = pop64(); push64(select(b, a, c != 0u));";

            // Variables.
            LocalGet = "local.get" (local) [0 -> 1] raw "push64(slot(fp + imm0));";
            LocalSet = "local.set" (local) [1 -> 0] raw "set_slot(fp + imm0, pop64());";
            LocalTee = "local.tee" (local) [1 -> 1] raw "set_slot(fp + imm0, slot(sp - 1u));";
            GlobalGet = "global.get" (global) [0 -> 1] raw "push64(global_get(imm0));";
            GlobalSet = "global.set" (global) [1 -> 0] raw "global_set(imm0, pop64()); dirty = true;";
            Const32 = "const32" (value) [0 -> 1] raw "push32(imm0);";
            Const64 = "const64" (lo, hi) [0 -> 1] raw "push64(u64(imm0) | (u64(imm1) << 32u));";

            // Memory.
            I32Load = "i32.load" (offset) [1 -> 1] ld32 "load32(a)";
            I64Load = "i64.load" (offset) [1 -> 1] ld64 "u64(load32(a)) | (u64(load32(a + 4u)) << 32u)";
            I32Load8S = "i32.load8_s" (offset) [1 -> 1] ld32 "sext(load8(a), 8u)";
            I32Load8U = "i32.load8_u" (offset) [1 -> 1] ld32 "load8(a)";
            I32Load16S = "i32.load16_s" (offset) [1 -> 1] ld32 "sext(load16(a), 16u)";
            I32Load16U = "i32.load16_u" (offset) [1 -> 1] ld32 "load16(a)";
            I64Load8S = "i64.load8_s" (offset) [1 -> 1] ld64 "sext64(sext(load8(a), 8u))";
            I64Load8U = "i64.load8_u" (offset) [1 -> 1] ld64 "u64(load8(a))";
            I64Load16S = "i64.load16_s" (offset) [1 -> 1] ld64 "sext64(sext(load16(a), 16u))";
            I64Load16U = "i64.load16_u" (offset) [1 -> 1] ld64 "u64(load16(a))";
            I64Load32S = "i64.load32_s" (offset) [1 -> 1] ld64 "sext64(load32(a))";
            I64Load32U = "i64.load32_u" (offset) [1 -> 1] ld64 "u64(load32(a))";
            I32Store = "i32.store" (offset) [2 -> 0] st32 "store32(a, v);";
            I64Store = "i64.store" (offset) [2 -> 0] st64 "store32(a, u32(v & 0xfffffffflu)); store32(a + 4u, u32(v >> 32u));";
            I32Store8 = "i32.store8" (offset) [2 -> 0] st32 "store8(a, v);";
            I32Store16 = "i32.store16" (offset) [2 -> 0] st32 "store16(a, v);";
            MemorySize = "memory.size" () [0 -> 1] raw "push32(mem_pages);";
            MemoryGrow = "memory.grow" () [1 -> 1] raw "push32(memory_grow(word, pop32()));";
            MemoryFill = "memory.fill" () [3 -> 0] raw "let n = pop32(); let v = pop32(); let d = pop32(); memory_fill_op(word, d, v, n);";
            MemoryCopy = "memory.copy" () [3 -> 0] raw "let n = pop32(); let s = pop32(); let d = pop32(); memory_copy_op(word, d, s, n);";
            MemoryInit = "memory.init" (segment) [3 -> 0] raw "let n = pop32(); let s = pop32(); let d = pop32(); memory_init(word, imm0, d, s, n);";
            DataDrop = "data.drop" (segment) [0 -> 0] raw "drop_segment(imm0);";

            // References and tables.
            RefNull = "ref.null" () [0 -> 1] raw "push32(REF_NULL);";
            RefIsNull = "ref.is_null" () [1 -> 1] raw "push32(select(0u, 1u, pop32() == REF_NULL));";
            RefFunc = "ref.func" (func) [0 -> 1] raw "push32(imm0);";
            TableGet = "table.get" (table) [1 -> 1] raw "push32(table_get(imm0, pop32()));";
            TableSet = "table.set" (table) [2 -> 0] raw "let v = pop32(); table_set(imm0, pop32(), v);";
            TableSize = "table.size" (table) [0 -> 1] raw "push32(table_size(imm0));";
            TableGrow = "table.grow" (table) [2 -> 1] raw "let n = pop32(); let v = pop32(); push32(table_grow(word, imm0, v, n));";
            TableFill = "table.fill" (table) [3 -> 0] raw "let n = pop32(); let v = pop32(); let d = pop32(); table_fill(word, imm0, d, v, n);";
            TableCopy = "table.copy" (dst, src) [3 -> 0] raw "let n = pop32(); let s = pop32(); let d = pop32(); table_copy(word, imm0, imm1, d, s, n);";
            TableInit = "table.init" (segment, table) [3 -> 0] raw "let n = pop32(); let s = pop32(); let d = pop32(); table_init(word, imm0, imm1, d, s, n);";
            ElemDrop = "elem.drop" (segment) [0 -> 0] raw "drop_segment(imm0);";

            // i32.
            I32Eqz = "i32.eqz" () [1 -> 1] test32 "a == 0u";
            I32Eq = "i32.eq" () [2 -> 1] rel32 "a == b";
            I32Ne = "i32.ne" () [2 -> 1] rel32 "a != b";
            I32LtS = "i32.lt_s" () [2 -> 1] rel32 "bitcast<i32>(a) < bitcast<i32>(b)";
            I32LtU = "i32.lt_u" () [2 -> 1] rel32 "a < b";
            I32GtS = "i32.gt_s" () [2 -> 1] rel32 "bitcast<i32>(a) > bitcast<i32>(b)";
            I32GtU = "i32.gt_u" () [2 -> 1] rel32 "a > b";
            I32LeS = "i32.le_s" () [2 -> 1] rel32 "bitcast<i32>(a) <= bitcast<i32>(b)";
            I32LeU = "i32.le_u" () [2 -> 1] rel32 "a <= b";
            I32GeS = "i32.ge_s" () [2 -> 1] rel32 "bitcast<i32>(a) >= bitcast<i32>(b)";
            I32GeU = "i32.ge_u" () [2 -> 1] rel32 "a >= b";
            I32Clz = "i32.clz" () [1 -> 1] un32 "countLeadingZeros(a)";
            I32Ctz = "i32.ctz" () [1 -> 1] un32 "countTrailingZeros(a)";
            I32Popcnt = "i32.popcnt" () [1 -> 1] un32 "countOneBits(a)";
            I32Add = "i32.add" () [2 -> 1] bin32 "a + b";
            I32Sub = "i32.sub" () [2 -> 1] bin32 "a - b";
            I32Mul = "i32.mul" () [2 -> 1] bin32 "a * b";
            I32DivS = "i32.div_s" () [2 -> 1] raw "let b = pop32(); let a = pop32(); push32(div32_s(a, b));";
            I32DivU = "i32.div_u" () [2 -> 1] raw "let b = pop32(); let a = pop32(); if b == 0u { trap(TRAP_INTEGER_DIVIDE_BY_ZERO); } else { push32(a / b); }";
            I32RemS = "i32.rem_s" () [2 -> 1] raw "let b = pop32(); let a = pop32(); push32(rem32_s(a, b));";
            I32RemU = "i32.rem_u" () [2 -> 1] raw "let b = pop32(); let a = pop32(); if b == 0u { trap(TRAP_INTEGER_DIVIDE_BY_ZERO); } else { push32(a % b); }";
            I32And = "i32.and" () [2 -> 1] bin32 "a & b";
            I32Or = "i32.or" () [2 -> 1] bin32 "a | b";
            I32Xor = "i32.xor" () [2 -> 1] bin32 "a ^ b";
            I32Shl = "i32.shl" () [2 -> 1] bin32 "a << (b & 31u)";
            I32ShrS = "i32.shr_s" () [2 -> 1] bin32 "bitcast<u32>(bitcast<i32>(a) >> (b & 31u))";
            I32ShrU = "i32.shr_u" () [2 -> 1] bin32 "a >> (b & 31u)";
            I32Rotl = "i32.rotl" () [2 -> 1] bin32 "rotl32(a, b)";
            I32Rotr = "i32.rotr" () [2 -> 1] bin32 "rotl32(a, 32u - (b & 31u))";
            I32Extend8S = "i32.extend8_s" () [1 -> 1] un32 "sext(a, 8u)";
            I32Extend16S = "i32.extend16_s" () [1 -> 1] un32 "sext(a, 16u)";

            // i64.
            I64Eqz = "i64.eqz" () [1 -> 1] test64 "a == 0lu";
            I64Eq = "i64.eq" () [2 -> 1] rel64 "a == b";
            I64Ne = "i64.ne" () [2 -> 1] rel64 "a != b";
            I64LtS = "i64.lt_s" () [2 -> 1] rel64 "bitcast<i64>(a) < bitcast<i64>(b)";
            I64LtU = "i64.lt_u" () [2 -> 1] rel64 "a < b";
            I64GtS = "i64.gt_s" () [2 -> 1] rel64 "bitcast<i64>(a) > bitcast<i64>(b)";
            I64GtU = "i64.gt_u" () [2 -> 1] rel64 "a > b";
            I64LeS = "i64.le_s" () [2 -> 1] rel64 "bitcast<i64>(a) <= bitcast<i64>(b)";
            I64LeU = "i64.le_u" () [2 -> 1] rel64 "a <= b";
            I64GeS = "i64.ge_s" () [2 -> 1] rel64 "bitcast<i64>(a) >= bitcast<i64>(b)";
            I64GeU = "i64.ge_u" () [2 -> 1] rel64 "a >= b";
            I64Clz = "i64.clz" () [1 -> 1] un64 "clz64(a)";
            I64Ctz = "i64.ctz" () [1 -> 1] un64 "ctz64(a)";
            I64Popcnt = "i64.popcnt" () [1 -> 1] un64 "u64(countOneBits(u32(a & 0xfffffffflu)) + countOneBits(u32(a >> 32u)))";
            I64Add = "i64.add" () [2 -> 1] bin64 "a + b";
            I64Sub = "i64.sub" () [2 -> 1] bin64 "a - b";
            I64Mul = "i64.mul" () [2 -> 1] bin64 "a * b";
            I64DivS = "i64.div_s" () [2 -> 1] raw "let b = pop64(); let a = pop64(); push64(div64_s(a, b));";
            I64DivU = "i64.div_u" () [2 -> 1] raw "let b = pop64(); let a = pop64(); if b == 0lu { trap(TRAP_INTEGER_DIVIDE_BY_ZERO); } else { push64(a / b); }";
            I64RemS = "i64.rem_s" () [2 -> 1] raw "let b = pop64(); let a = pop64(); push64(rem64_s(a, b));";
            I64RemU = "i64.rem_u" () [2 -> 1] raw "let b = pop64(); let a = pop64(); if b == 0lu { trap(TRAP_INTEGER_DIVIDE_BY_ZERO); } else { push64(a % b); }";
            I64And = "i64.and" () [2 -> 1] bin64 "a & b";
            I64Or = "i64.or" () [2 -> 1] bin64 "a | b";
            I64Xor = "i64.xor" () [2 -> 1] bin64 "a ^ b";
            I64Shl = "i64.shl" () [2 -> 1] bin64 "a << u32(b & 63lu)";
            I64ShrS = "i64.shr_s" () [2 -> 1] bin64 "bitcast<u64>(bitcast<i64>(a) >> u32(b & 63lu))";
            I64ShrU = "i64.shr_u" () [2 -> 1] bin64 "a >> u32(b & 63lu)";
            I64Rotl = "i64.rotl" () [2 -> 1] bin64 "rotl64(a, u32(b & 63lu))";
            I64Rotr = "i64.rotr" () [2 -> 1] bin64 "rotl64(a, (64u - u32(b & 63lu)) & 63u)";
            I64Extend8S = "i64.extend8_s" () [1 -> 1] un64 "sext64(sext(u32(a & 0xfflu), 8u))";
            I64Extend16S = "i64.extend16_s" () [1 -> 1] un64 "sext64(sext(u32(a & 0xfffflu), 16u))";
            I64Extend32S = "i64.extend32_s" () [1 -> 1] un64 "sext64(u32(a & 0xfffffffflu))";
            I32WrapI64 = "i32.wrap_i64" () [1 -> 1] w64to32 "u32(a & 0xfffffffflu)";
            I64ExtendI32S = "i64.extend_i32_s" () [1 -> 1] w32to64 "sext64(a)";
            I64ExtendI32U = "i64.extend_i32_u" () [1 -> 1] w32to64 "u64(a)";

            // f32, on bits.
            F32Abs = "f32.abs" () [1 -> 1] un32 "a & 0x7fffffffu";
            F32Neg = "f32.neg" () [1 -> 1] un32 "a ^ 0x80000000u";
            F32Copysign = "f32.copysign" () [2 -> 1] bin32 "(a & 0x7fffffffu) | (b & 0x80000000u)";
            F64Abs = "f64.abs" () [1 -> 1] un64 "a & 0x7ffffffffffffffflu";
            F64Neg = "f64.neg" () [1 -> 1] un64 "a ^ 0x8000000000000000lu";
            F64Copysign = "f64.copysign" () [2 -> 1] bin64 "(a & 0x7ffffffffffffffflu) | (b & 0x8000000000000000lu)";
            F32Add = "f32.add" () [2 -> 1] fu2 "u64(nf_f32_add(a32, b32))";
            F32Sub = "f32.sub" () [2 -> 1] fu2 "u64(nf_f32_sub(a32, b32))";
            F32Mul = "f32.mul" () [2 -> 1] fu2 "u64(nf_f32_mul(a32, b32))";
            F32Div = "f32.div" () [2 -> 1] fu2 "u64(sf_f32_div(a32, b32))";
            F32Min = "f32.min" () [2 -> 1] fu2 "u64(sf_f32_min(a32, b32))";
            F32Max = "f32.max" () [2 -> 1] fu2 "u64(sf_f32_max(a32, b32))";
            F32Sqrt = "f32.sqrt" () [1 -> 1] fu1 "u64(sf_f32_sqrt(a32))";
            F32Ceil = "f32.ceil" () [1 -> 1] fu1 "u64(sf_f32_ceil(a32))";
            F32Floor = "f32.floor" () [1 -> 1] fu1 "u64(sf_f32_floor(a32))";
            F32Trunc = "f32.trunc" () [1 -> 1] fu1 "u64(sf_f32_trunc(a32))";
            F32Nearest = "f32.nearest" () [1 -> 1] fu1 "u64(sf_f32_nearest(a32))";
            F32Eq = "f32.eq" () [2 -> 1] fu2 "u64(sf_f32_eq(a32, b32))";
            F32Ne = "f32.ne" () [2 -> 1] fu2 "u64(sf_f32_ne(a32, b32))";
            F32Lt = "f32.lt" () [2 -> 1] fu2 "u64(sf_f32_lt(a32, b32))";
            F32Gt = "f32.gt" () [2 -> 1] fu2 "u64(sf_f32_gt(a32, b32))";
            F32Le = "f32.le" () [2 -> 1] fu2 "u64(sf_f32_le(a32, b32))";
            F32Ge = "f32.ge" () [2 -> 1] fu2 "u64(sf_f32_ge(a32, b32))";

            // f64, on bits.
            F64Add = "f64.add" () [2 -> 1] fu2 "nf_f64_add(a, b)";
            F64Sub = "f64.sub" () [2 -> 1] fu2 "nf_f64_sub(a, b)";
            F64Mul = "f64.mul" () [2 -> 1] fu2 "nf_f64_mul(a, b)";
            F64Div = "f64.div" () [2 -> 1] fu2 "sf_f64_div(a, b)";
            F64Min = "f64.min" () [2 -> 1] fu2 "sf_f64_min(a, b)";
            F64Max = "f64.max" () [2 -> 1] fu2 "sf_f64_max(a, b)";
            F64Sqrt = "f64.sqrt" () [1 -> 1] fu1 "sf_f64_sqrt(a)";
            F64Ceil = "f64.ceil" () [1 -> 1] fu1 "sf_f64_ceil(a)";
            F64Floor = "f64.floor" () [1 -> 1] fu1 "sf_f64_floor(a)";
            F64Trunc = "f64.trunc" () [1 -> 1] fu1 "sf_f64_trunc(a)";
            F64Nearest = "f64.nearest" () [1 -> 1] fu1 "sf_f64_nearest(a)";
            F64Eq = "f64.eq" () [2 -> 1] fu2 "u64(sf_f64_eq(a, b))";
            F64Ne = "f64.ne" () [2 -> 1] fu2 "u64(sf_f64_ne(a, b))";
            F64Lt = "f64.lt" () [2 -> 1] fu2 "u64(sf_f64_lt(a, b))";
            F64Gt = "f64.gt" () [2 -> 1] fu2 "u64(sf_f64_gt(a, b))";
            F64Le = "f64.le" () [2 -> 1] fu2 "u64(sf_f64_le(a, b))";
            F64Ge = "f64.ge" () [2 -> 1] fu2 "u64(sf_f64_ge(a, b))";

            // Conversions.
            I32TruncF32S = "i32.trunc_f32_s" () [1 -> 1] fu1 "u64(trunc32(sf_i32_trunc_f32_s(a32)))";
            I32TruncF32U = "i32.trunc_f32_u" () [1 -> 1] fu1 "u64(trunc32(sf_i32_trunc_f32_u(a32)))";
            I32TruncF64S = "i32.trunc_f64_s" () [1 -> 1] fu1 "u64(trunc32(sf_i32_trunc_f64_s(a)))";
            I32TruncF64U = "i32.trunc_f64_u" () [1 -> 1] fu1 "u64(trunc32(sf_i32_trunc_f64_u(a)))";
            I64TruncF32S = "i64.trunc_f32_s" () [1 -> 1] fu1 "trunc64(sf_i64_trunc_f32_s(a32))";
            I64TruncF32U = "i64.trunc_f32_u" () [1 -> 1] fu1 "trunc64(sf_i64_trunc_f32_u(a32))";
            I64TruncF64S = "i64.trunc_f64_s" () [1 -> 1] fu1 "trunc64(sf_i64_trunc_f64_s(a))";
            I64TruncF64U = "i64.trunc_f64_u" () [1 -> 1] fu1 "trunc64(sf_i64_trunc_f64_u(a))";
            I32TruncSatF32S = "i32.trunc_sat_f32_s" () [1 -> 1] fu1 "u64(sf_i32_trunc_sat_f32_s(a32))";
            I32TruncSatF32U = "i32.trunc_sat_f32_u" () [1 -> 1] fu1 "u64(sf_i32_trunc_sat_f32_u(a32))";
            I32TruncSatF64S = "i32.trunc_sat_f64_s" () [1 -> 1] fu1 "u64(sf_i32_trunc_sat_f64_s(a))";
            I32TruncSatF64U = "i32.trunc_sat_f64_u" () [1 -> 1] fu1 "u64(sf_i32_trunc_sat_f64_u(a))";
            I64TruncSatF32S = "i64.trunc_sat_f32_s" () [1 -> 1] fu1 "sf_i64_trunc_sat_f32_s(a32)";
            I64TruncSatF32U = "i64.trunc_sat_f32_u" () [1 -> 1] fu1 "sf_i64_trunc_sat_f32_u(a32)";
            I64TruncSatF64S = "i64.trunc_sat_f64_s" () [1 -> 1] fu1 "sf_i64_trunc_sat_f64_s(a)";
            I64TruncSatF64U = "i64.trunc_sat_f64_u" () [1 -> 1] fu1 "sf_i64_trunc_sat_f64_u(a)";
            F32ConvertI32S = "f32.convert_i32_s" () [1 -> 1] fu1 "u64(sf_f32_convert_i32_s(a32))";
            F32ConvertI32U = "f32.convert_i32_u" () [1 -> 1] fu1 "u64(sf_f32_convert_i32_u(a32))";
            F32ConvertI64S = "f32.convert_i64_s" () [1 -> 1] fu1 "u64(sf_f32_convert_i64_s(a))";
            F32ConvertI64U = "f32.convert_i64_u" () [1 -> 1] fu1 "u64(sf_f32_convert_i64_u(a))";
            F64ConvertI32S = "f64.convert_i32_s" () [1 -> 1] fu1 "sf_f64_convert_i32_s(a32)";
            F64ConvertI32U = "f64.convert_i32_u" () [1 -> 1] fu1 "sf_f64_convert_i32_u(a32)";
            F64ConvertI64S = "f64.convert_i64_s" () [1 -> 1] fu1 "sf_f64_convert_i64_s(a)";
            F64ConvertI64U = "f64.convert_i64_u" () [1 -> 1] fu1 "sf_f64_convert_i64_u(a)";
            F32DemoteF64 = "f32.demote_f64" () [1 -> 1] fu1 "u64(sf_f32_demote_f64(a))";
            F64PromoteF32 = "f64.promote_f32" () [1 -> 1] fu1 "sf_f64_promote_f32(a32)";
        }
    };
}

macro_rules! define_ops {
    ($(
        $name:ident = $mnemonic:literal ($($imm:ident),*) [$pops:literal -> $pushes:literal]
            $shape:ident $body:literal;
    )*) => {
        /// One GPU instruction (see the module docs for the table).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u16)]
        pub enum Op {
            $(
                #[doc = concat!("`", $mnemonic, "`")]
                $name,
            )*
        }

        /// The table row of one instruction.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct OpInfo {
            /// The instruction.
            pub op: Op,
            /// Its mnemonic.
            pub mnemonic: &'static str,
            /// Names of its fixed immediate words.
            pub immediates: &'static [&'static str],
            /// Values it pops.
            pub pops: u32,
            /// Values it pushes.
            pub pushes: u32,
            /// How the body is wrapped (see the module docs).
            pub shape: &'static str,
            /// Its WGSL semantics.
            pub body: &'static str,
        }

        /// Every instruction's table row, in opcode order.
        pub const OPS: &[OpInfo] = &[$(
            OpInfo {
                op: Op::$name,
                mnemonic: $mnemonic,
                immediates: &[$(stringify!($imm)),*],
                pops: $pops,
                pushes: $pushes,
                shape: stringify!($shape),
                body: $body,
            },
        )*];
    };
}

for_each_op!(define_ops);

impl Op {
    /// The opcode in an instruction word.
    pub fn code(self) -> u32 {
        self as u32
    }

    /// The instruction with this opcode.
    pub fn from_code(code: u32) -> Option<Self> {
        OPS.get(code as usize).map(|info| info.op)
    }

    /// Its table row.
    pub fn info(self) -> &'static OpInfo {
        &OPS[self as usize]
    }

    /// Its mnemonic.
    pub fn mnemonic(self) -> &'static str {
        self.info().mnemonic
    }

    /// Whether the instruction leaves the agent's state (globals, memories, tables, segments,
    /// output) alone and does not observe which agent or swarm runs it. Calls are not: what
    /// they do depends on the callee (see [`crate::effects`]).
    pub fn is_pure(self) -> bool {
        !matches!(
            self,
            Op::GlobalSet
                | Op::I32Store
                | Op::I64Store
                | Op::I32Store8
                | Op::I32Store16
                | Op::MemoryGrow
                | Op::MemoryFill
                | Op::MemoryCopy
                | Op::MemoryInit
                | Op::DataDrop
                | Op::TableSet
                | Op::TableGrow
                | Op::TableFill
                | Op::TableCopy
                | Op::TableInit
                | Op::ElemDrop
                | Op::Call
                | Op::CallIndirect
                | Op::AgentId
                | Op::AgentCount
                | Op::Output
        )
    }
}

/// Bytes a load or store row (`ld32`, `ld64`, `st32`, `st64`) accesses, from its WebAssembly
/// name: `i64.load8_u` one, `i32.store16` two, `i64.load32_s` four, `i64.load` eight.
pub fn access_bytes(op: Op) -> Option<u32> {
    let info = op.info();
    if !matches!(info.shape, "ld32" | "ld64" | "st32" | "st64") {
        return None;
    }
    let (ty, access) = info.mnemonic.split_once('.')?;
    let narrow = access
        .trim_start_matches("load")
        .trim_start_matches("store");
    Some(match narrow.split('_').next() {
        Some("8") => 1,
        Some("16") => 2,
        Some("32") => 4,
        _ if ty == "i64" => 8,
        _ => 4,
    })
}

/// The condition (over the operands `a` and `b`) under which a division or remainder row traps,
/// and the value it computes otherwise: what the compiled tier checks before it divides (the
/// interpreter then executes the instruction and traps, see [`crate::compile`]).
pub fn division(op: Op) -> Option<(&'static str, &'static str)> {
    Some(match op {
        Op::I32DivS => (
            "b == 0u || (a == 0x80000000u && b == 0xffffffffu)",
            "div32_s(a, b)",
        ),
        Op::I32DivU => ("b == 0u", "a / b"),
        Op::I32RemS => ("b == 0u", "rem32_s(a, b)"),
        Op::I32RemU => ("b == 0u", "a % b"),
        Op::I64DivS => (
            "b == 0lu || (a == 0x8000000000000000lu && b == 0xfffffffffffffffflu)",
            "div64_s(a, b)",
        ),
        Op::I64DivU => ("b == 0lu", "a / b"),
        Op::I64RemS => ("b == 0lu", "rem64_s(a, b)"),
        Op::I64RemU => ("b == 0lu", "a % b"),
        _ => return None,
    })
}

/// Optional groups of instructions. A module's interpreter is generated with only the groups
/// the module uses ([`Program::op_groups`](crate::Program::op_groups)), so the common kernel
/// stays small: without the float group it carries no soft-float library, and a GPU keeps more
/// agents in flight the fewer registers its kernel needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpGroups(u8);

impl OpGroups {
    /// No optional group: integer arithmetic, control, variables, memory and references.
    pub const NONE: Self = Self(0);
    /// Float arithmetic, comparisons and conversions (the `fu1`/`fu2` rows, on soft-float).
    pub const FLOAT: Self = Self(1);
    /// 64-bit division and remainder, which GPUs emulate with long instruction sequences.
    pub const WIDE_DIVISION: Self = Self(2);
    /// Bulk memory and table instructions, which hand their bytes or elements to a job:
    /// `memory.fill/copy/init` and `table.grow/fill/copy/init`. (The jobs themselves are in
    /// every interpreter: calls and returns use them too.)
    pub const BULK: Self = Self(4);
    /// Every group.
    pub const ALL: Self = Self(7);
    /// Every subset of [`ALL`](Self::ALL), each once.
    pub fn every() -> impl Iterator<Item = Self> {
        (0..=Self::ALL.0).map(Self)
    }

    /// Whether every group of `other` is in `self`.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// The groups of both.
    #[must_use]
    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// The group `op` belongs to ([`NONE`](Self::NONE) for the core).
    pub fn of(op: Op) -> Self {
        match op {
            Op::I64DivS | Op::I64DivU | Op::I64RemS | Op::I64RemU => Self::WIDE_DIVISION,
            Op::MemoryFill
            | Op::MemoryCopy
            | Op::MemoryInit
            | Op::TableGrow
            | Op::TableFill
            | Op::TableCopy
            | Op::TableInit => Self::BULK,
            _ if op.info().shape.starts_with("fu") => Self::FLOAT,
            _ => Self::NONE,
        }
    }

    /// A short name for listings: the groups joined by `+`, or `core`.
    pub fn name(self) -> String {
        let names: Vec<&str> = [
            (Self::FLOAT, "float"),
            (Self::WIDE_DIVISION, "div64"),
            (Self::BULK, "bulk"),
        ]
        .into_iter()
        .filter(|(group, _)| self.contains(*group))
        .map(|(_, name)| name)
        .collect();
        if names.is_empty() {
            "core".to_owned()
        } else {
            names.join("+")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opcodes_round_trip_and_mnemonics_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for (index, info) in OPS.iter().enumerate() {
            assert_eq!(info.op.code() as usize, index);
            assert_eq!(Op::from_code(index as u32), Some(info.op));
            assert!(seen.insert(info.mnemonic), "{} twice", info.mnemonic);
        }
        assert!(OPS.len() < OPCODE_MASK as usize);
    }

    #[test]
    fn exactly_the_float_unit_rows_are_in_the_float_group() {
        for info in OPS {
            let group = OpGroups::of(info.op);
            assert_eq!(
                group == OpGroups::FLOAT,
                info.shape.starts_with("fu"),
                "{}",
                info.mnemonic
            );
        }
        assert_eq!(OpGroups::every().count(), 8);
        assert!(OpGroups::ALL.contains(OpGroups::BULK));
        assert!(!OpGroups::FLOAT.contains(OpGroups::BULK));
        assert_eq!(OpGroups::FLOAT.union(OpGroups::BULK).name(), "float+bulk");
        assert_eq!(OpGroups::NONE.name(), "core");
    }

    #[test]
    fn rows_whose_semantics_touch_agent_state_are_not_pure() {
        const MARKS: &[&str] = &[
            "dirty",
            "store",
            "memory_grow",
            "memory_fill",
            "memory_copy",
            "memory_init",
            "drop_segment",
            "table_set",
            "table_grow",
            "table_fill",
            "table_copy",
            "table_init",
            "write_output",
            "agent",
            "params.",
            "enter(",
            "call_indirect(",
            "global_set",
        ];
        for info in OPS {
            if MARKS.iter().any(|mark| info.body.contains(mark)) {
                assert!(!info.op.is_pure(), "{}", info.mnemonic);
            }
        }
        assert!(Op::I32Add.is_pure() && Op::I32Load.is_pure() && Op::GlobalGet.is_pure());
    }

    #[test]
    fn access_sizes_come_from_the_names() {
        let sizes = [
            (Op::I32Load, 4),
            (Op::I64Load, 8),
            (Op::I32Load8S, 1),
            (Op::I64Load16U, 2),
            (Op::I64Load32S, 4),
            (Op::I32Store, 4),
            (Op::I64Store, 8),
            (Op::I32Store8, 1),
            (Op::I32Store16, 2),
        ];
        for (op, bytes) in sizes {
            assert_eq!(access_bytes(op), Some(bytes), "{}", op.mnemonic());
        }
        assert_eq!(access_bytes(Op::I32Add), None);
        let memory_rows = OPS.iter().filter(|i| access_bytes(i.op).is_some()).count();
        assert_eq!(memory_rows, 16);
    }

    #[test]
    fn shaped_rows_have_the_stack_effect_of_their_shape() {
        for info in OPS {
            let expected = match info.shape {
                "raw" => continue,
                "un32" | "un64" | "test32" | "test64" | "w32to64" | "w64to32" => (1, 1),
                "bin32" | "bin64" | "rel32" | "rel64" | "f64rel" | "fu2" => (2, 1),
                "fu1" | "ld32" | "ld64" => (1, 1),
                "st32" | "st64" => (2, 0),
                other => panic!("{}: unknown shape {other}", info.mnemonic),
            };
            assert_eq!((info.pops, info.pushes), expected, "{}", info.mnemonic);
            if access_bytes(info.op).is_some() {
                assert_eq!(info.immediates, ["offset"], "{}", info.mnemonic);
            } else {
                assert!(info.immediates.is_empty(), "{}", info.mnemonic);
            }
        }
    }
}
