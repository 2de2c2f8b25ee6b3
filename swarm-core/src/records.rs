//! The records the host and the GPU exchange: per-agent status and per-dispatch parameters.

use crate::gpu_struct::gpu_struct;

gpu_struct! {
    /// One agent's execution state, at the start of its slot in the status buffer.
    ///
    /// The host writes it at spawn and reads it back after every dispatch; the GPU updates it
    /// as the agent runs. Its results follow it in the same region (see `RegionKind::Results`).
    pub struct AgentStatus {
        /// An [`AgentState`] code.
        pub state: u32,
        /// A [`TrapCode`] when `state` is `Trapped`; the exit code (an `i32`'s bits) when it is
        /// `Exited`; else 0.
        pub trap: u32,
        /// Index of the function the agent is executing.
        pub func: u32,
        /// Next instruction, as a word offset into the code buffer.
        pub pc: u32,
        /// Value-stack height in 64-bit slots.
        pub sp: u32,
        /// Value-stack slot of the current frame's first local.
        pub fp: u32,
        /// Call frames in use.
        pub depth: u32,
        /// Current linear-memory size in pages.
        pub memory_pages: u32,
        /// Fuel consumed over the agent's life (wasmtime's fuel model: its instructions, plus
        /// one per function entered, per byte or element a bulk instruction moves, and per
        /// page or element grown), low word.
        pub fuel_used_lo: u32,
        /// Fuel consumed over the agent's life, high word.
        pub fuel_used_hi: u32,
        /// Fuel consumed in the last dispatch (up to `u32::MAX`).
        pub fuel_last: u32,
        /// The part of `fuel_used` that is not instructions (function entries, bulk units,
        /// growth), low word: instructions executed are `fuel_used - fuel_extra`.
        pub fuel_extra_lo: u32,
        /// The part of `fuel_used` that is not instructions, high word.
        pub fuel_extra_hi: u32,
        /// Output bytes written.
        pub output_len: u32,
        /// Results written after this record, when finished.
        pub result_count: u32,
        /// Import index the agent is waiting on, when `state` is `HostCall`.
        pub host_call: u32,
        /// Entry function of the current call.
        pub entry: u32,
        /// Nonzero when the last dispatch changed memory, globals, tables or segments.
        pub dirty: u32,
        /// The long operation under way ([`AgentStatus::NO_JOB`] when none): an instruction
        /// that moves many bytes, slots or elements hands them to a job, which runs a few of
        /// them per interpreter step before the next instruction (see the interpreter's
        /// `jobs.wgsl`).
        pub job: u32,
        /// The job's destination (a byte address, word offset or stack slot).
        pub job_dst: u32,
        /// The job's source, or the value it writes.
        pub job_src: u32,
        /// Units (bytes, words or slots) the job has left.
        pub job_len: u32,
        /// One past the highest word of the agent's memory region it has written (every
        /// memory of a store counted in one word space): what a later tenant of the slot must
        /// zero.
        pub memory_touched: u32,
        /// Instructions the compiled tier ran over the agent's life (the fuel of its blocks),
        /// low word: the rest of `fuel_used - fuel_extra` ran on the interpreter.
        pub compiled_lo: u32,
        /// Instructions the compiled tier ran over the agent's life, high word.
        pub compiled_hi: u32,
        /// Bytes the GPU may still gather for stream 1 (WASI stdout) from calls to a
        /// stream-write import (see the interpreter's `stream_write`), as records in the output
        /// region; the host sets it when it answers the agent's host calls. 0 sends every
        /// write to the host.
        pub stream1_room: u32,
        /// The same for stream 2 (WASI stderr).
        pub stream2_room: u32,
        /// Unused; keeps the record a multiple of 8 bytes.
        pub pad: u32,
    }
}

gpu_struct! {
    /// Parameters of one dispatch over one chunk, in a uniform buffer.
    pub struct DispatchParams {
        /// Agents in the chunk to consider (local indices `0..agent_count`).
        pub agent_count: u32,
        /// Workgroups along x; the agent index is `(group.y * groups_x + group.x) * size + local`.
        pub groups_x: u32,
        /// Global slot of the chunk's first agent.
        pub first_slot: u32,
        /// Agents in the whole swarm (for `swarm.agent_count`).
        pub swarm_agents: u32,
        /// Fuel each agent may consume in this dispatch, low word. The slice is a schedule, not
        /// a limit: a function entry or bulk instruction charged where the slice has less left
        /// still runs, and the agent suspends before its next instruction.
        pub fuel_slice_lo: u32,
        /// Fuel each agent may consume in this dispatch, high word.
        pub fuel_slice_hi: u32,
        /// Lifetime fuel per agent, low word (`u64::MAX` for none). As in wasmtime, an agent
        /// traps `out_of_fuel` at the first fuel check (a function entry, a loop header, the end
        /// of a bulk instruction) where it has consumed this much.
        pub fuel_total_lo: u32,
        /// Lifetime fuel per agent, high word.
        pub fuel_total_hi: u32,
        /// Word offset of this chunk's entries in the work list.
        pub list_offset: u32,
        /// 1 when invocation `i` runs the agent at local index `list[list_offset + i]` (a chosen
        /// subset); 0 when it runs local index `i`.
        pub use_list: u32,
        /// Iterations of the dispatch loop (instructions and job chunks) after which each agent
        /// stops for this dispatch, below the driver's loop limit
        /// ([`DeviceLimits::shader_loop_iterations`](crate::DeviceLimits)); `u32::MAX` for none.
        pub work_limit: u32,
        /// Memory pieces per spawned agent (`spawn_memory`): each of its invocations writes one
        /// piece of one new agent's memory.
        pub spawn_pieces: u32,
        /// Always 0, and unknown to the shader compiler: compiled blocks OR it into the
        /// products of their float multiplies, so that no driver fuses a multiply with the add
        /// that uses its result.
        pub zero: u32,
    }
}

gpu_struct! {
    /// Where a module's starting state lies in the code buffer, at the start of the work list
    /// of a spawn. Each spawned agent copies it into its slot on the GPU.
    pub struct SpawnHeader {
        /// Word offset of the initial memory bytes in the code buffer.
        pub memory_offset: u32,
        /// Words of initial memory (the rest of a fresh slot is already zero).
        pub memory_words: u32,
        /// Word offset of the globals region's starting words.
        pub globals_offset: u32,
        /// Words of the globals region to copy.
        pub globals_words: u32,
        /// Word offset of the tables region's starting words.
        pub tables_offset: u32,
        /// Words of the tables region to copy.
        pub tables_words: u32,
        /// Initial linear-memory size in pages.
        pub memory_pages: u32,
        /// Word offset, in the work list, of the spawn records' arguments.
        pub args_offset: u32,
        /// The [`TrapCode`] of the module's instantiation when it traps (an active segment out
        /// of bounds): every agent starts trapped with it. 0 when instantiation succeeds.
        pub trap: u32,
        /// Fuel the instantiation consumed, as wasmtime charges it (its startup function):
        /// every agent's lifetime fuel starts there.
        pub fuel: u32,
        /// Function every agent of the spawn calls first ([`SpawnRecord::NO_ENTRY`]: none, the
        /// agents start finished).
        pub entry: u32,
        /// Parameters of `entry`: one [`ArgRule`] each, at `rules_offset`.
        pub argc: u32,
        /// Word offset, in the work list, of the [`ArgRule`]s.
        pub rules_offset: u32,
        /// Parameters uploaded per agent ([`ArgRule::COLUMN`]): agent `index` has two words
        /// per column at `args_offset + 2 * (index * columns + column)`.
        pub columns: u32,
        /// Every agent's first [`AgentStatus::stream1_room`] and
        /// [`AgentStatus::stream2_room`].
        pub stream_room: u32,
        /// Unused; keeps the record a multiple of 8 bytes.
        pub pad: u32,
    }
}

gpu_struct! {
    /// How every agent of a spawn gets one argument: from its own uploaded column, or as
    /// `start + index * step` computed on the GPU from its index in the spawn (a constant when
    /// `step` is 0).
    pub struct ArgRule {
        /// [`ArgRule::COLUMN`], [`ArgRule::AFFINE32`] or [`ArgRule::AFFINE64`].
        pub kind: u32,
        /// For a column: which of the agent's uploaded arguments.
        pub column: u32,
        /// The first agent's value, low word.
        pub start_lo: u32,
        /// The first agent's value, high word.
        pub start_hi: u32,
        /// What each further agent adds, low word.
        pub step_lo: u32,
        /// What each further agent adds, high word.
        pub step_hi: u32,
    }
}

impl ArgRule {
    /// The argument is uploaded per agent.
    pub const COLUMN: u32 = 0;
    /// `start + index * step` in 32 bits; the slot's high word is zero (an `i32`, `f32` or
    /// reference).
    pub const AFFINE32: u32 = 1;
    /// `start + index * step` in 64 bits (an `i64` or `f64`).
    pub const AFFINE64: u32 = 2;

    /// Agent `index` gets `start + index * step`, wrapping: in 32 bits for `AFFINE32`, in 64
    /// for `AFFINE64`.
    pub fn affine(kind: u32, start: u64, step: u64) -> Self {
        Self {
            kind,
            column: 0,
            start_lo: start as u32,
            start_hi: (start >> 32) as u32,
            step_lo: step as u32,
            step_hi: (step >> 32) as u32,
        }
    }

    /// The agent's uploaded argument `column`.
    pub fn column(column: u32) -> Self {
        Self {
            kind: Self::COLUMN,
            column,
            ..Self::default()
        }
    }

    /// Agent `index`'s argument bits under this rule, as the spawn kernel computes them;
    /// `column` gives the agent's uploaded bits for a column.
    pub fn bits(&self, index: u32, column: impl FnOnce(u32) -> u64) -> u64 {
        let start = u64::from(self.start_lo) | (u64::from(self.start_hi) << 32);
        let step = u64::from(self.step_lo) | (u64::from(self.step_hi) << 32);
        let value = start.wrapping_add(step.wrapping_mul(u64::from(index)));
        match self.kind {
            Self::AFFINE32 => value & u64::from(u32::MAX),
            Self::AFFINE64 => value,
            _ => column(self.column),
        }
    }
}

gpu_struct! {
    /// One agent to spawn, in a spawn's work list after its [`SpawnHeader`].
    pub struct SpawnRecord {
        /// The agent's local index in its chunk.
        pub local: u32,
        /// The agent's index in the spawn: its arguments' row, and the `index` of its
        /// [`ArgRule`]s.
        pub index: u32,
        /// Words of the slot's memory region the previous tenant may have written (its
        /// [`AgentStatus::memory_touched`]); the spawn zeroes those the starting state does
        /// not cover.
        pub wipe: u32,
    }
}

impl SpawnRecord {
    /// [`SpawnHeader::entry`] of agents that only instantiate (no start function, no call).
    pub const NO_ENTRY: u32 = u32::MAX;
}

impl AgentStatus {
    /// [`AgentStatus::job`] when no job is under way.
    pub const NO_JOB: u32 = 0;
}

/// Where an agent is in its life, as stored in [`AgentStatus::state`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum AgentState {
    /// The slot holds no agent.
    Empty = 0,
    /// Spawned with a call that has not started.
    Ready = 1,
    /// Out of fuel for this dispatch; resumes in the next.
    Suspended = 2,
    /// Stopped at a host import; resumes once the host has answered.
    HostCall = 3,
    /// The call returned; results are available.
    Finished = 4,
    /// The call trapped.
    Trapped = 5,
    /// A host function ended the agent with an exit code (WASI's `proc_exit`), which is not
    /// a trap; the code is in [`AgentStatus::trap`].
    Exited = 6,
}

impl AgentState {
    /// Every state, in code order.
    pub const ALL: [Self; 7] = [
        Self::Empty,
        Self::Ready,
        Self::Suspended,
        Self::HostCall,
        Self::Finished,
        Self::Trapped,
        Self::Exited,
    ];

    /// The state with this code.
    pub fn from_code(code: u32) -> Option<Self> {
        Self::ALL.get(code as usize).copied()
    }

    /// Whether the agent still has work to do in a dispatch.
    pub fn is_runnable(self) -> bool {
        matches!(self, Self::Ready | Self::Suspended)
    }

    /// Whether the agent's call has ended (returned, trapped or exited), so it can make
    /// another.
    pub fn is_done(self) -> bool {
        matches!(self, Self::Finished | Self::Trapped | Self::Exited)
    }
}

/// Why an agent trapped, as stored in [`AgentStatus::trap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
#[non_exhaustive]
pub enum TrapCode {
    /// `unreachable` executed.
    Unreachable = 1,
    /// A load, store or bulk memory operation outside the agent's memory.
    MemoryOutOfBounds = 2,
    /// A table access outside the table.
    TableOutOfBounds = 3,
    /// `call_indirect` through a null reference.
    IndirectCallToNull = 4,
    /// `call_indirect` to a function of another type.
    IndirectCallTypeMismatch = 5,
    /// Integer division or remainder by zero.
    IntegerDivideByZero = 6,
    /// Signed division overflow, or a float too large for the target integer.
    IntegerOverflow = 7,
    /// NaN converted to an integer.
    InvalidConversionToInteger = 8,
    /// Too many nested calls, or the value stack is full.
    CallStackExhausted = 9,
    /// The agent's total instruction budget is spent.
    OutOfFuel = 10,
    /// The agent wrote more output than its output slice holds.
    OutputOverflow = 11,
    /// A host function refused its arguments: a value its interface does not define (a WASI
    /// clock id, whence or exit status out of range, say), as wasmtime-wasi refuses them.
    BadHostCall = 12,
}

impl TrapCode {
    /// Every trap code, in code order.
    pub const ALL: [Self; 12] = [
        Self::Unreachable,
        Self::MemoryOutOfBounds,
        Self::TableOutOfBounds,
        Self::IndirectCallToNull,
        Self::IndirectCallTypeMismatch,
        Self::IntegerDivideByZero,
        Self::IntegerOverflow,
        Self::InvalidConversionToInteger,
        Self::CallStackExhausted,
        Self::OutOfFuel,
        Self::OutputOverflow,
        Self::BadHostCall,
    ];

    /// The trap with this code (0 is "no trap").
    pub fn from_code(code: u32) -> Option<Self> {
        Self::ALL.get(code.checked_sub(1)? as usize).copied()
    }

    /// The code stored on the GPU.
    pub fn code(self) -> u32 {
        self as u32
    }

    /// A snake_case name, as the `swarm` command prints it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Unreachable => "unreachable",
            Self::MemoryOutOfBounds => "memory_out_of_bounds",
            Self::TableOutOfBounds => "table_out_of_bounds",
            Self::IndirectCallToNull => "indirect_call_to_null",
            Self::IndirectCallTypeMismatch => "indirect_call_type_mismatch",
            Self::IntegerDivideByZero => "integer_divide_by_zero",
            Self::IntegerOverflow => "integer_overflow",
            Self::InvalidConversionToInteger => "invalid_conversion_to_integer",
            Self::CallStackExhausted => "call_stack_exhausted",
            Self::OutOfFuel => "out_of_fuel",
            Self::OutputOverflow => "output_overflow",
            Self::BadHostCall => "bad_host_call",
        }
    }
}

impl std::fmt::Display for TrapCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Unreachable => "wasm `unreachable` instruction executed",
            Self::MemoryOutOfBounds => "out of bounds memory access",
            Self::TableOutOfBounds => "out of bounds table access",
            Self::IndirectCallToNull => "indirect call to a null table element",
            Self::IndirectCallTypeMismatch => "indirect call type mismatch",
            Self::IntegerDivideByZero => "integer divide by zero",
            Self::IntegerOverflow => "integer overflow",
            Self::InvalidConversionToInteger => "invalid conversion to integer",
            Self::CallStackExhausted => "call stack exhausted",
            Self::OutOfFuel => "all fuel consumed",
            Self::OutputOverflow => "output slice overflow",
            Self::BadHostCall => "a host function refused its arguments",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GpuStruct;

    #[test]
    fn codes_round_trip() {
        for trap in TrapCode::ALL {
            assert_eq!(TrapCode::from_code(trap.code()), Some(trap));
        }
        assert_eq!(TrapCode::from_code(0), None);
        assert_eq!(TrapCode::from_code(TrapCode::ALL.len() as u32 + 1), None);
        for state in AgentState::ALL {
            assert_eq!(AgentState::from_code(state as u32), Some(state));
        }
        assert_eq!(AgentState::from_code(AgentState::ALL.len() as u32), None);
    }

    #[test]
    fn wgsl_declares_every_field_in_order() {
        let wgsl = DispatchParams::wgsl();
        assert!(wgsl.starts_with("struct DispatchParams {\n    agent_count: u32,\n"));
        assert_eq!(wgsl.matches(": u32,").count(), DispatchParams::FIELDS.len());
        assert_eq!(AgentStatus::SIZE, 112);
        assert_eq!(DispatchParams::SIZE, 52);
        assert_eq!(SpawnHeader::SIZE, 64);
        assert_eq!(SpawnRecord::SIZE, 12);
        assert_eq!(ArgRule::SIZE, 24);
    }

    #[test]
    fn arg_rules_wrap_in_their_width() {
        let rule = |kind, start: i64, step: i64| ArgRule::affine(kind, start as u64, step as u64);
        let none = |_| unreachable!("not a column");
        assert_eq!(rule(ArgRule::AFFINE32, 5, 3).bits(4, none), 17);
        assert_eq!(
            rule(ArgRule::AFFINE32, i64::from(i32::MAX), 1).bits(1, none),
            u64::from(i32::MIN as u32)
        );
        assert_eq!(
            rule(ArgRule::AFFINE32, -1, 0).bits(9, none),
            u64::from(u32::MAX)
        );
        assert_eq!(
            rule(ArgRule::AFFINE64, -10, 1 << 40).bits(3, none),
            (3_u64 << 40).wrapping_sub(10)
        );
        assert_eq!(ArgRule::column(1).bits(7, |c| u64::from(c) + 40), 41);
    }
}
