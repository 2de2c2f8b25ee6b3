//! The WGSL interpreter, generated from the instruction table and a swarm's layout.
//!
//! One invocation runs one agent. Its registers (`pc`, `sp`, `fp`, call depth, memory size) live
//! in private variables during a dispatch and in the agent's status record between dispatches,
//! so an agent suspended for fuel resumes exactly where it stopped. The module is read from the
//! code image (`crate::image`), so one compiled pipeline serves every module of a swarm config.

use std::fmt::Write;

use swarm_core::{
    AgentState, AgentStatus, ArgRule, BufferKind, GpuStruct, Layout, RegionKind, SpawnHeader,
    SpawnRecord, TrapCode, WgslField,
};

use crate::compile::CompilePlan;
use crate::image::{
    FUNC_ENTRY_WORDS, IMPORTED_ENTRY, MEMORY_ENTRY_WORDS, REF_NULL, STREAM_WRITE_ENTRY,
    STREAM_WRITE_MAX_BYTES, TABLE_ENTRY_WORDS, ZEROS_ENTRY, header,
};
use crate::isa::{
    BLOCK_SHIFT, DEFERRED_FUEL, FUEL_SHIFT, LOOP_HEAD, OPCODE_MASK, OPS, OpGroups, access_bytes,
};
use crate::lower::RETURN_TARGET;
use crate::nativefloat::{NativeFloats, native_float_wgsl};
use crate::{SOFTFLOAT_WGSL, records_wgsl};

mod bindings;

pub use bindings::{BindingAccess, InterpBinding, bindings_wgsl};

/// The entry point that runs agents.
pub const RUN_ENTRY: &str = "main";
/// The entry point that spawns the agents of a work list (see [`SpawnRecord`]), after
/// [`SPAWN_MEMORY_ENTRY`] has written their memories.
pub const SPAWN_ENTRY: &str = "spawn";
/// The entry point that writes the memories of the agents of a spawn's work list, one piece of
/// [`SPAWN_PIECE_WORDS`] words per invocation (`DispatchParams::spawn_pieces` per agent).
pub const SPAWN_MEMORY_ENTRY: &str = "spawn_memory";
/// Words of one agent's memory one `spawn_memory` invocation writes: few enough that a group of
/// invocations stays far below a driver's shader loop limit (llvmpipe: 65,535 iterations of a
/// group of 8).
pub const SPAWN_PIECE_WORDS: u32 = 2_048;

fn field_index(fields: &[WgslField], name: &str) -> u32 {
    fields
        .iter()
        .position(|f| f.name == name)
        .unwrap_or_else(|| panic!("no field {name}")) as u32
}

/// The interpreter's WGSL for a swarm laid out as `layout`, with the optional instruction
/// groups `op_groups` (a module's [`Program::op_groups`](crate::Program::op_groups), or
/// [`OpGroups::ALL`] for an interpreter that runs any module). An instruction of a group left
/// out traps with `unreachable`; a module's code holds none, since lowering records every
/// group it emits.
pub fn interpreter_wgsl(layout: &Layout, op_groups: OpGroups, options: KernelOptions) -> String {
    kernel_wgsl(layout, op_groups, None, options)
}

/// The compiled tier's WGSL (see [`crate::compile`]): the interpreter of [`interpreter_wgsl`],
/// with only the instructions the module's code holds, and the blocks of `plan` as a step of
/// its dispatch loop. It runs the module whose code
/// image `plan` marked; the interpreter runs that image as well, so agents move between the
/// two kernels at any dispatch.
pub fn compiled_wgsl(
    layout: &Layout,
    op_groups: OpGroups,
    plan: &CompilePlan,
    options: KernelOptions,
) -> String {
    kernel_wgsl(layout, op_groups, Some(plan), options)
}

/// What a kernel is generated with besides its layout, instructions and blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KernelOptions {
    /// How the dispatch loop orders the agents of one subgroup.
    pub scheduling: Scheduling,
    /// Which float widths the float unit's fast path computes on the GPU's float unit.
    pub floats: NativeFloats,
}

/// How the dispatch loop orders the agents of one subgroup.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Scheduling {
    /// Every agent runs its next step at every iteration.
    #[default]
    Free,
    /// At each iteration only the agents at the lowest `pc` of the subgroup run their step;
    /// the others wait. Agents that branched apart meet again where the paths join (a
    /// forward branch's target lies above both paths, a loop's body below its exit), and a
    /// GPU runs each step once for all of them instead of once per path. The kernel needs
    /// subgroup operations ([`ShaderCapabilities::subgroups`](crate::ShaderCapabilities)).
    LowestPcFirst,
}

/// `converged()` of [`Scheduling::LowestPcFirst`]. The minimum is over the invocations that
/// reach it, so an agent busy with a job, or one that has left the loop, holds nobody back,
/// and the agent at the minimum always runs: every iteration makes progress. A waiting
/// agent's iteration counts as work, as the driver's loop limit counts it.
const LOWEST_PC_FIRST: &str = "fn converged() -> bool {\n    return pc == subgroupMin(pc);\n}\n";

fn kernel_wgsl(
    layout: &Layout,
    op_groups: OpGroups,
    plan: Option<&CompilePlan>,
    options: KernelOptions,
) -> String {
    let KernelOptions { scheduling, floats } = options;
    let words = |bytes: u64| (bytes / 4) as u32;
    let region = |kind| layout.region(kind);
    let mut constants = String::new();
    let mut constant = |name: &str, value: u32| {
        writeln!(constants, "const {name}: u32 = {value}u;").expect("writing to a String");
    };
    constant("WG", layout.workgroup_size());
    constant(
        "STATUS_STRIDE",
        words(layout.buffer(BufferKind::Status).stride),
    );
    constant("RESULTS_OFF", words(region(RegionKind::Results).offset));
    constant("MAX_RESULTS", (region(RegionKind::Results).size / 8) as u32);
    constant(
        "STATE_STRIDE",
        words(layout.buffer(BufferKind::State).stride),
    );
    constant("GLOBALS_OFF", words(region(RegionKind::Globals).offset));
    constant("TABLES_OFF", words(region(RegionKind::Tables).offset));
    // Value stacks are interleaved by tiles of agents (`Layout::stack_word`).
    constant("STACK_BASE", words(layout.stack_base()));
    constant("STACK_TILE", layout.tile());
    constant("STACK_WORDS", layout.stack_words());
    constant(
        "STACK_SLOTS",
        (region(RegionKind::ValueStack).size / 8) as u32,
    );
    constant("FRAMES_OFF", words(region(RegionKind::CallFrames).offset));
    constant(
        "CALL_FRAMES",
        (region(RegionKind::CallFrames).size / swarm_core::CALL_FRAME_BYTES) as u32,
    );
    // Memories are interleaved by tiles of agents (`Layout::memory_byte`).
    constant(
        "MEM_STRIDE",
        words(layout.buffer(BufferKind::Memory).stride),
    );
    constant("MEM_TILE", layout.tile());
    constant("MEM_GRANULE_WORDS", words(layout.memory_granule()));
    constant("MEM_ROW", layout.tile() * words(layout.memory_granule()));
    constant("SPAWN_PIECE_WORDS", SPAWN_PIECE_WORDS);
    constant(
        "OUTPUT_STRIDE",
        words(layout.buffer(BufferKind::Output).stride),
    );
    constant("OUTPUT_BYTES", region(RegionKind::Output).size as u32);
    let records: [(&str, &[WgslField]); 4] = [
        ("S", AgentStatus::FIELDS),
        ("SH", SpawnHeader::FIELDS),
        ("SR", SpawnRecord::FIELDS),
        ("AR", ArgRule::FIELDS),
    ];
    for (prefix, fields) in records {
        for field in fields {
            constant(
                &format!("{prefix}_{}", field.name.to_uppercase()),
                field_index(fields, field.name),
            );
        }
    }
    constant("SPAWN_HEADER_WORDS", (SpawnHeader::SIZE / 4) as u32);
    constant("SPAWN_RECORD_WORDS", (SpawnRecord::SIZE / 4) as u32);
    constant("ARG_RULE_WORDS", (ArgRule::SIZE / 4) as u32);
    constant("ARG_COLUMN", ArgRule::COLUMN);
    constant("ARG_AFFINE32", ArgRule::AFFINE32);
    constant("NO_ENTRY", SpawnRecord::NO_ENTRY);
    constant("NO_JOB", AgentStatus::NO_JOB);
    for state in AgentState::ALL {
        constant(
            &format!("ST_{}", format!("{state:?}").to_uppercase()),
            state as u32,
        );
    }
    for trap in TrapCode::ALL {
        constant(&format!("TRAP_{}", trap.name().to_uppercase()), trap.code());
    }
    constant("H_FUNCS", header::FUNCS as u32);
    constant("H_TABLES", header::TABLES as u32);
    constant("H_SEGMENTS", header::SEGMENTS as u32);
    constant("H_SEGMENT_FLAGS", header::SEGMENT_FLAGS as u32);
    constant("H_MEMORIES", header::MEMORIES as u32);
    constant("H_MEMORY_COUNT", header::MEMORY_COUNT as u32);
    constant("MEMORY_WORDS", MEMORY_ENTRY_WORDS);
    constant("FUNC_WORDS", FUNC_ENTRY_WORDS);
    constant("TABLE_WORDS", TABLE_ENTRY_WORDS);
    constant("IMPORTED", IMPORTED_ENTRY);
    constant("ZEROS", ZEROS_ENTRY);
    constant("STREAM_WRITE", STREAM_WRITE_ENTRY);
    constant("STREAM_WRITE_MAX", STREAM_WRITE_MAX_BYTES);
    constant("REF_NULL", REF_NULL);
    constant("RETURN_TARGET", RETURN_TARGET);
    constant("OPCODE_MASK", OPCODE_MASK);
    constant("FUEL_SHIFT", FUEL_SHIFT);
    constant("LOOP_HEAD", LOOP_HEAD);
    constant("DEFERRED_FUEL", DEFERRED_FUEL);
    constant("BLOCK_SHIFT", BLOCK_SHIFT);

    // Mesa's lavapipe (22.3) miscompiles a `switch` of a few hundred cases, so dispatch is two
    // levels deep: an outer switch on `op / CASES_PER_GROUP`, inner switches of at most
    // `CASES_PER_GROUP` cases. Float-unit rows are contiguous and handled before the switch.
    let float_range = float_range();
    let mut groups: Vec<String> = Vec::new();
    let mut float_arms: Vec<String> = Vec::new();
    let mut float_binary = Vec::new();
    for (code, info) in OPS.iter().enumerate() {
        // A compiled kernel's interpreter runs one module: it needs only the instructions
        // that module's code holds, a much smaller shader to build.
        let needed = plan.is_none_or(|plan| plan.uses(info.op));
        if !op_groups.contains(OpGroups::of(info.op)) {
            continue;
        }
        let body = info.body;
        if float_range.contains(&code) {
            // Indexed by opcode: every float row has its entry.
            float_binary.push(if info.shape == "fu2" { "1u" } else { "0u" });
            if needed {
                let group = (code - float_range.start) / CASES_PER_GROUP;
                if float_arms.len() <= group {
                    float_arms.resize(group + 1, String::new());
                }
                float_arms[group].push_str(&format!(
                    "            case {code}u: {{ return {body}; }} // {}\n",
                    info.mnemonic
                ));
            }
            continue;
        }
        if !needed {
            continue;
        }
        let mut arm = format!("            case {code}u: {{ // {}\n", info.mnemonic);
        for (index, _) in info.immediates.iter().enumerate() {
            writeln!(arm, "                let imm{index} = code[pc + {index}u];").expect("String");
        }
        if !info.immediates.is_empty() {
            writeln!(arm, "                pc += {}u;", info.immediates.len()).expect("String");
        }
        let statement = match info.shape {
            "raw" => body.to_owned(),
            "un32" => format!("let a = pop32(); push32({body});"),
            "un64" => format!("let a = pop64(); push64({body});"),
            "bin32" => format!("let b = pop32(); let a = pop32(); push32({body});"),
            "bin64" => format!("let b = pop64(); let a = pop64(); push64({body});"),
            "rel32" => format!("let b = pop32(); let a = pop32(); push32(select(0u, 1u, {body}));"),
            "rel64" => format!("let b = pop64(); let a = pop64(); push32(select(0u, 1u, {body}));"),
            "test32" => format!("let a = pop32(); push32(select(0u, 1u, {body}));"),
            "test64" => format!("let a = pop64(); push32(select(0u, 1u, {body}));"),
            "w32to64" => format!("let a = pop32(); push64({body});"),
            "w64to32" => format!("let a = pop64(); push32({body});"),
            "f64rel" => format!("let b = pop64(); let a = pop64(); push32({body});"),
            "ld32" | "ld64" | "st32" | "st64" => {
                let bytes = access_bytes(info.op).expect("a memory row");
                let width = &info.shape[2..];
                let address = format!("let a = ea(pop32(), imm0, {bytes}u);");
                if info.shape.starts_with("ld") {
                    format!("{address} push{width}({body});")
                } else {
                    format!("let v = pop{width}(); {address} {body}")
                }
            }
            other => unreachable!("unknown shape {other}"),
        };
        writeln!(arm, "                {statement}\n            }}").expect("String");
        let group = code / CASES_PER_GROUP;
        if groups.len() <= group {
            groups.resize(group + 1, String::new());
        }
        groups[group].push_str(&arm);
    }
    let arms = nested_switch("op", 0, &groups, "trap(TRAP_UNREACHABLE);");
    // The soft-float library comes only with the float group. Every float instruction reaches
    // `float_unit` from one call site, in `step`.
    let (float_unit, float_step) = if op_groups.contains(OpGroups::FLOAT) {
        let float_switch = nested_switch("op", float_range.start, &float_arms, "return 0lu;");
        let unit = format!(
            "{SOFTFLOAT_WGSL}\n{native}\n{FLOAT_WGSL}\n\
             const FIRST_FLOAT: u32 = {first}u;\n\
             const LAST_FLOAT: u32 = {last}u;\n\
             const FLOAT_BINARY = array<u32, {count}>({binary});\n\n\
             fn float_unit(op: u32, a: u64, b: u64) -> u64 {{\n\
             \x20   let a32 = u32(a & 0xfffffffflu);\n\
             \x20   let b32 = u32(b & 0xfffffffflu);\n\
             {float_switch}\
             \x20   return 0lu;\n\
             }}\n",
            native = native_float_wgsl(floats),
            first = float_range.start,
            last = float_range.end - 1,
            count = float_binary.len(),
            binary = float_binary.join(", "),
        );
        let step = "\x20   if op >= FIRST_FLOAT && op <= LAST_FLOAT {\n\
                    \x20       var b = 0lu;\n\
                    \x20       if FLOAT_BINARY[op - FIRST_FLOAT] != 0u {\n\
                    \x20           b = pop64();\n\
                    \x20       }\n\
                    \x20       let a = pop64();\n\
                    \x20       push64(float_unit(op, a, b));\n\
                    \x20       return;\n\
                    \x20   }\n";
        (unit, step)
    } else {
        (String::new(), "")
    };

    let (kind, blocks) = match plan {
        Some(plan) => ("compiled kernel", plan.wgsl()),
        None => (
            "interpreter",
            "// The interpreter runs no compiled block.\n\
             fn run_block(id: u32) -> bool {\n    return false;\n}\n"
                .to_owned(),
        ),
    };
    let converge = match scheduling {
        Scheduling::Free => "fn converged() -> bool {\n    return true;\n}\n",
        Scheduling::LowestPcFirst => LOWEST_PC_FIRST,
    };
    format!(
        "// swarm {kind} ({op_groups}): generated from the instruction table; do not edit.\n\
         {records}\n{constants}\n{bindings}\n{runtime}\n{fuel}\n{stack}\n{jobs}\n\
         fn run_job() {{\n{run_job}}}\n\n{float_unit}\n\
         fn step(word: u32) {{\n\
         \x20   pc += 1u;\n\
         \x20   let op = word & OPCODE_MASK;\n\
         {float_step}\
         {arms}\
         }}\n\n{blocks}\n{converge}\n{main}\n{spawn}",
        op_groups = op_groups.name(),
        records = records_wgsl(),
        bindings = bindings_wgsl(),
        runtime = RUNTIME_WGSL,
        stack = if layout.private_stack() {
            STACK_PRIVATE_WGSL
        } else {
            STACK_STATE_WGSL
        },
        fuel = FUEL_WGSL,
        jobs = JOBS_WGSL,
        run_job = "    job_unit();\n".repeat(JOB_UNITS),
        main = MAIN_WGSL,
        spawn = SPAWN_WGSL,
    )
}

/// Units of a job one iteration of the dispatch loop runs (see `interp/jobs.wgsl`), written out
/// in `run_job`.
pub const JOB_UNITS: usize = 8;

/// Most cases in one `switch` (see `interpreter_wgsl`).
const CASES_PER_GROUP: usize = 16;

/// Opcodes of the float-unit rows (`fu1`/`fu2`), which the table keeps contiguous.
fn float_range() -> std::ops::Range<usize> {
    let first = OPS
        .iter()
        .position(|i| i.shape.starts_with("fu"))
        .expect("the table has float rows");
    let count = OPS[first..]
        .iter()
        .take_while(|i| i.shape.starts_with("fu"))
        .count();
    assert!(
        OPS[first + count..]
            .iter()
            .all(|i| !i.shape.starts_with("fu")),
        "float-unit rows must be contiguous in the instruction table"
    );
    first..first + count
}

/// `switch (selector - base) / CASES_PER_GROUP { case g: { switch selector { arms } } }`.
fn nested_switch(selector: &str, base: usize, groups: &[String], otherwise: &str) -> String {
    let mut out = format!("    switch ({selector} - {base}u) / {CASES_PER_GROUP}u {{\n");
    for (index, arms) in groups.iter().enumerate() {
        if arms.is_empty() {
            continue;
        }
        writeln!(
            out,
            "        case {index}u: {{\n        switch {selector} {{\n{arms}\
             \x20           default: {{ {otherwise} }}\n        }}\n        }}"
        )
        .expect("String");
    }
    writeln!(out, "        default: {{ {otherwise} }}\n    }}").expect("String");
    out
}

/// Bindings, registers and the helpers the instruction bodies call.
const RUNTIME_WGSL: &str = include_str!("interp/runtime.wgsl");
/// The value stack used in place in the state buffer.
const STACK_STATE_WGSL: &str = include_str!("interp/stack_state.wgsl");
/// The value stack in private memory during a dispatch, copied in and out.
const STACK_PRIVATE_WGSL: &str = include_str!("interp/stack_private.wgsl");
/// Fuel: charging and wasmtime's check points.
const FUEL_WGSL: &str = include_str!("interp/fuel.wgsl");
/// Long operations of instructions, a chunk per step.
const JOBS_WGSL: &str = include_str!("interp/jobs.wgsl");
/// Float helpers beside the soft-float library, for the float instruction group.
const FLOAT_WGSL: &str = include_str!("interp/float.wgsl");
/// The entry point: load registers, run until done or out of fuel, store registers.
const MAIN_WGSL: &str = include_str!("interp/main.wgsl");
/// The spawn entry point: copy the module's starting state into new agents' slots.
const SPAWN_WGSL: &str = include_str!("interp/spawn.wgsl");

#[cfg(test)]
mod tests {
    use swarm_core::{DeviceLimits, SwarmConfig};

    use super::*;
    use crate::{ShaderCapabilities, validate_wgsl};

    #[test]
    fn lowest_pc_first_gates_the_dispatch_loop_and_needs_subgroups() {
        let layout = Layout::new(&SwarmConfig::default(), &DeviceLimits::LAVAPIPE).unwrap();
        let options = |scheduling| KernelOptions {
            scheduling,
            floats: NativeFloats::F32,
        };
        let free = interpreter_wgsl(&layout, OpGroups::ALL, options(Scheduling::Free));
        let gated = interpreter_wgsl(&layout, OpGroups::ALL, options(Scheduling::LowestPcFirst));
        assert!(!free.contains("subgroup"));
        assert!(gated.contains("return pc == subgroupMin(pc);"));
        // The loop asks before every step that is not a job's.
        let loop_body = &gated[gated.find("if !converged()").expect("the gate")..];
        assert!(loop_body.find("continue").unwrap() < loop_body.find("code[pc]").unwrap());
        let without = ShaderCapabilities {
            int64: true,
            subgroups: false,
            float64: false,
        };
        validate_wgsl("free", free, without).unwrap();
        assert!(validate_wgsl("gated", gated.clone(), without).is_err());
        let with = ShaderCapabilities {
            subgroups: true,
            float64: true,
            ..without
        };
        validate_wgsl("gated", gated, with).unwrap();
    }
}
