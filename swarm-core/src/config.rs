//! `SwarmConfig`: the shape of a swarm (capacity, per-agent memory, stacks, output, fuel).

use std::path::PathBuf;

use crate::WASM_PAGE_BYTES;

/// Agents per workgroup unless configured otherwise.
pub const DEFAULT_WORKGROUP_SIZE: u32 = 64;

/// Value stacks up to this many slots (4 KiB) run in private memory unless configured otherwise.
pub const DEFAULT_PRIVATE_STACK_SLOTS: u32 = 512;

/// The largest private value stack: a bigger private array compiles slowly, and drivers reserve
/// its memory for every invocation the GPU can hold.
const MAX_PRIVATE_STACK_SLOTS: u32 = 4_096;

/// Agents per tile unless configured otherwise: the default workgroup, two NVIDIA warps. On an
/// H200 (2026-12-03) 64 was as fast as 32 on CoreMark and heapsort and 20% faster on a zlib
/// round trip with 1 MiB agents; 8 and 16 were 15-20% slower.
pub const DEFAULT_TILE_AGENTS: u32 = 64;

/// Bytes of one agent's linear memory that sit together before the next agent's unless
/// configured otherwise (see [`SwarmConfig::memory_granule_bytes`]). On an H200 16 bytes ran
/// real C programs 7-15% faster than 4, and 64 or 256 no faster than 16.
pub const DEFAULT_MEMORY_GRANULE_BYTES: u32 = 16;

/// The most invocations per workgroup every WebGPU adapter allows.
const MAX_WORKGROUP_SIZE: u32 = 256;

/// The WebAssembly limit on linear memory pages for a 32-bit memory.
const MAX_WASM_PAGES: u32 = 65_536;

/// The shape of a swarm: how many agents it holds and what each agent gets.
///
/// Every per-agent region of every GPU buffer is derived from these numbers (see
/// [`Layout`](crate::Layout)). [`SwarmConfig::validate`] says which field is wrong and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwarmConfig {
    /// Most agents alive at once (pool slots). The original design's default is 1,024.
    pub max_agents: u32,
    /// The slot of the swarm's first agent: its ids (and `swarm.agent_id`, and `{id}` in WASI
    /// arguments) name slots `first_slot..first_slot + max_agents`, so that the shards of one
    /// run, each a swarm of its own (on another host, say), number their agents as one swarm
    /// would. `swarm.agent_count` still counts this swarm's agents, not the whole run's. 0 by
    /// default.
    pub first_slot: u32,
    /// Linear-memory pages (64 KiB each) reserved per agent; `memory.grow` beyond this fails.
    pub max_memory_pages: u32,
    /// 64-bit value slots per agent for the operand stack and locals of all active frames.
    pub value_stack_slots: u32,
    /// Value stacks of at most this many slots live in each invocation's private memory while
    /// it runs (copied in from the state buffer when a dispatch starts and back when it ends),
    /// which GPUs cache per invocation, like NVIDIA's local memory; larger stacks are used in
    /// place in the state buffer. 0 keeps every stack in the state buffer.
    pub private_stack_slots: u32,
    /// Call frames per agent; a deeper call traps with "call stack exhausted".
    pub call_frames: u32,
    /// Bytes of output per agent: what the `swarm.output` import appends, or, for a module
    /// with a stream-write import (WASI's `fd_write`), where the GPU gathers its writes to
    /// stdout and stderr between host calls.
    pub output_bytes: u32,
    /// 64-bit slots per agent for the module's globals.
    pub max_globals: u32,
    /// Table elements per agent, over all of the module's tables.
    pub max_table_elements: u32,
    /// 64-bit slots per agent for an entry function's results.
    pub max_results: u32,
    /// Fuel an agent may consume in one dispatch before it is suspended (wasmtime's fuel model:
    /// instructions, plus function entries, bulk bytes and elements, pages grown). A function
    /// entry or bulk instruction may take it past this; the agent then suspends before its next
    /// instruction.
    pub fuel_per_dispatch: u64,
    /// Fuel an agent may consume over its lifetime; `None` is unlimited. As with wasmtime's
    /// `Store::set_fuel`, the agent traps `out_of_fuel` at the first fuel check (a function
    /// entry, a loop header, the end of a bulk or grow instruction whose count is not a small
    /// constant) at which it has consumed this much.
    pub fuel_total: Option<u64>,
    /// Agents per GPU workgroup (one agent per invocation). 64 suits most adapters;
    /// `swarm-bench --sections workgroup` measures the others.
    pub workgroup_size: u32,
    /// Whether each module runs on an interpreter generated with only the instruction groups
    /// it uses (no soft-float for a module without floats, say). A smaller kernel needs fewer
    /// registers, so the GPU keeps more agents in flight. `false` runs every module on the
    /// full interpreter; `swarm-bench --sections interpreter` compares the two.
    pub specialize: bool,
    /// Agents whose state is interleaved: the linear memories and value stacks of
    /// `tile_agents` neighbouring slots are laid out word by word side by side (see
    /// [`Layout`](crate::Layout)), so that the agents of a GPU warp reading the same address, as
    /// the stack and statics of a compiled C program are in every agent, read one cache line
    /// instead of one per agent. A power of two; 1 gives every agent one contiguous slice.
    pub tile_agents: u32,
    /// Bytes of one agent's linear memory that lie together inside a tile before the next
    /// agent's: 4 (a word) puts the same word of all agents of a tile side by side. A power of
    /// two from 4 to 4,096.
    pub memory_granule_bytes: u32,
    /// Which kernel runs the agents: the interpreter, each module compiled to WGSL, or the
    /// interpreter until the module has run a while and its compiled kernel is ready. Both
    /// give the same results, traps, fuel and state, and agents move between them at any
    /// dispatch.
    pub tier: Tier,
    /// How much of a module the compiled tier compiles: its kernel's size, and so the time a
    /// driver takes to build it. What is left out runs on the interpreter inside the same
    /// kernel.
    pub compile_budget: CompileBudget,
    /// Which kernels keep the agents of a subgroup together: each step runs only the agents at
    /// the lowest code position among them, and the others wait, so agents whose branches
    /// went different ways meet again where the paths join and run the rest as one. Results,
    /// traps, fuel and state are the same either way. Needs an adapter with subgroup
    /// operations; without them no kernel does it ([`Reconverge`] says what each choice
    /// measured).
    pub reconverge: Reconverge,
    /// Computes every float instruction with integer code only. By default `add`, `sub` and
    /// `mul` of normal numbers with a normal result run on the GPU's float unit (f64 where the
    /// adapter has 64-bit floats), which Vulkan requires to round them correctly; that relies
    /// on the driver rounding to nearest, ties to even, as every driver known does. Set this
    /// for an adapter that rounds otherwise: results stay exact either way, only slower.
    pub soft_float: bool,
    /// A directory that keeps the driver's built pipelines between runs, one file per adapter:
    /// a module whose kernels were built before (by any process using the same directory)
    /// builds from the file instead of compiling again. `None` (the default) keeps none; the
    /// driver may still keep a cache of its own. A file that is damaged or from another
    /// driver version is ignored and rewritten, and one past 256 MiB is started afresh (a
    /// cache only grows).
    pub pipeline_cache: Option<PathBuf>,
}

/// Limits on what one module's compiled kernel holds ([`SwarmConfig::compile_budget`]).
/// When a module has more code than fits, the blocks expected to run the most instructions
/// are compiled (a static estimate: loops multiply, calls carry their site's count into the
/// callee); the rest runs on the interpreter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CompileBudget {
    /// Most instructions in one block; a longer run is split into several blocks.
    pub block_instructions: u32,
    /// Most instructions compiled in all.
    pub instructions: u32,
    /// Most blocks compiled.
    pub blocks: u32,
    /// Most blocks joined into one region (one WGSL function that keeps locals in registers
    /// from block to block); 1, the default (0 counts as 1), runs every block on its own.
    /// Regions are slower where they have been measured: on an NVIDIA H100 (2026-12-06,
    /// 65,536 agents) regions of 4 took CoreMark's GPU time from 33.9 s to 55.5 s and
    /// heapsort's from 3.5 s to 6.5 s, and every other real program measured slowed too, while
    /// builds took 4 to 7 times as long (CoreMark 5.7 s to 31.7 s). Lavapipe's build time grows
    /// steeply too: polybench's jacobi-2d kernel took 9 s with 1, 47 s with 4, 95 s with 8 and
    /// did not finish in 10 minutes with 32.
    pub region_blocks: u32,
    /// Most instructions of a second, larger kernel, built on another thread as soon as the
    /// first runs; the agents move to it at the first dispatch after it is ready. 0, the
    /// default, builds none, as does a budget no larger than the first's (`instructions`,
    /// `blocks`) or a first budget that holds no block. For long runs of modules too large
    /// for a first kernel that builds in seconds: on an NVIDIA H100, keccak's whole module
    /// (12,000 instructions in 500 blocks) took 56 s to build and then ran 5.5 times as fast
    /// as with the default budget. A swarm
    /// dropped while the build runs waits for it to end (a thread left inside the driver can
    /// crash the process when it exits).
    pub background_instructions: u32,
    /// Most blocks of that second kernel.
    pub background_blocks: u32,
}

impl CompileBudget {
    /// The budget of the second kernel built in the background, if it holds more than the
    /// first ([`CompileBudget::background_instructions`]).
    pub fn background(&self) -> Option<Self> {
        (self.background_instructions > self.instructions || self.background_blocks > self.blocks)
            .then_some(Self {
                instructions: self.background_instructions.max(self.instructions),
                blocks: self.background_blocks.max(self.blocks),
                background_instructions: 0,
                background_blocks: 0,
                ..*self
            })
    }
}

impl Default for CompileBudget {
    /// What NVIDIA's driver builds in a few seconds: it took 3 s for 85 blocks of 1,220
    /// instructions (a base64 codec) and 40 s for 492 blocks of 4,449 (CoreMark).
    fn default() -> Self {
        Self {
            block_instructions: 48,
            instructions: 1_500,
            blocks: 96,
            region_blocks: 1,
            background_instructions: 0,
            background_blocks: 0,
        }
    }
}

/// Which kernels keep a subgroup's agents together ([`SwarmConfig::reconverge`]).
///
/// Measured on an NVIDIA H100 (65,536 agents of eleven real C programs, 2026-12-06):
/// - On the compiled tier, programs whose agents branch apart ran 2.9 to 3.6 times as fast.
///   CoreMark's GPU time went from 34.2 s to 11.7 s, heapsort's from 3.5 s to 1.0 s and
///   Floyd–Warshall's from 870 to 289 ms.
/// - Programs whose agents never branch apart took 1.12 to 1.48 times as long.
/// - The geometric mean over the eleven programs is 1.13 times as fast.
/// - On the interpreter, heapsort ran 3.7 times as fast. CoreMark took 5% longer, and base64
///   and Jacobi-2D took 1.4 to 1.5 times as long.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Reconverge {
    /// No kernel: every agent runs its next step at every step of the dispatch loop.
    Off,
    /// The compiled tier's kernels.
    #[default]
    Compiled,
    /// The compiled tier's kernels and the interpreter.
    All,
}

impl Reconverge {
    /// Every choice, in the order of its names.
    pub const ALL: [Self; 3] = [Self::Off, Self::Compiled, Self::All];

    /// Its name, as `swarm run --reconverge` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Compiled => "compiled",
            Self::All => "all",
        }
    }

    /// Whether the interpreter's kernel (`false`) or a compiled kernel (`true`) keeps its
    /// agents together.
    pub fn applies_to(self, compiled: bool) -> bool {
        match self {
            Self::Off => false,
            Self::Compiled => compiled,
            Self::All => true,
        }
    }
}

impl std::fmt::Display for Reconverge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Reconverge {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|choice| choice.name() == name)
            .ok_or_else(|| format!("unknown choice `{name}`: use off, compiled or all"))
    }
}

/// The kernel that runs a swarm's agents ([`SwarmConfig::tier`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Tier {
    /// The interpreter, until the loaded module has kept the GPU busy for a while: its compiled
    /// kernel is then built on another host thread, and the dispatch after it is ready runs
    /// it, for as long as it runs the agents faster than the interpreter did. A module that
    /// runs briefly is never compiled.
    #[default]
    Auto,
    /// Only the interpreter.
    Interpreter,
    /// The compiled kernel, built when a loaded module is first dispatched.
    Compiled,
}

impl Tier {
    /// Every tier, in the order of its names.
    pub const ALL: [Self; 3] = [Self::Auto, Self::Interpreter, Self::Compiled];

    /// Its name, as `swarm run --tier` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Interpreter => "interpreter",
            Self::Compiled => "compiled",
        }
    }
}

impl std::fmt::Display for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Tier {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|tier| tier.name() == name)
            .ok_or_else(|| format!("unknown tier `{name}`: use auto, interpreter or compiled"))
    }
}

impl Default for SwarmConfig {
    fn default() -> Self {
        Self {
            max_agents: 1_024,
            first_slot: 0,
            max_memory_pages: 1,
            value_stack_slots: 4_096,
            private_stack_slots: DEFAULT_PRIVATE_STACK_SLOTS,
            call_frames: 256,
            output_bytes: 4_096,
            max_globals: 64,
            max_table_elements: 1_024,
            max_results: 16,
            fuel_per_dispatch: 100_000_000,
            fuel_total: None,
            workgroup_size: DEFAULT_WORKGROUP_SIZE,
            specialize: true,
            tile_agents: DEFAULT_TILE_AGENTS,
            memory_granule_bytes: DEFAULT_MEMORY_GRANULE_BYTES,
            tier: Tier::Auto,
            reconverge: Reconverge::Compiled,
            soft_float: false,
            compile_budget: CompileBudget::default(),
            pipeline_cache: None,
        }
    }
}

/// A field of [`SwarmConfig`] that cannot be used, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A field that must be at least some value is below it.
    #[error("`{field}` is {value} but must be at least {min}")]
    TooSmall {
        /// The offending field.
        field: &'static str,
        /// Its value.
        value: u64,
        /// The smallest value allowed.
        min: u64,
    },
    /// A field is larger than swarm or WebAssembly allows.
    #[error("`{field}` is {value} but must be at most {max}: {why}")]
    TooLarge {
        /// The offending field.
        field: &'static str,
        /// Its value.
        value: u64,
        /// The largest value allowed.
        max: u64,
        /// Why the bound exists.
        why: &'static str,
    },
    /// A field that must be a power of two is not.
    #[error("`{field}` is {value} but must be a power of two")]
    NotPowerOfTwo {
        /// The offending field.
        field: &'static str,
        /// Its value.
        value: u32,
    },
    /// An output size that is not a multiple of four bytes.
    #[error("`output_bytes` is {0} but must be a multiple of 4")]
    UnalignedOutput(u32),
}

impl SwarmConfig {
    /// Checks every field, naming the first one that is out of range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let at_least = |field, value: u64, min: u64| {
            if value < min {
                Err(ConfigError::TooSmall { field, value, min })
            } else {
                Ok(())
            }
        };
        let at_most = |field, value: u64, max: u64, why| {
            if value > max {
                Err(ConfigError::TooLarge {
                    field,
                    value,
                    max,
                    why,
                })
            } else {
                Ok(())
            }
        };
        at_least("max_agents", self.max_agents.into(), 1)?;
        at_most(
            "first_slot",
            self.first_slot.into(),
            u64::from(u32::MAX - self.max_agents),
            "ids name slots first_slot..first_slot + max_agents in 32 bits",
        )?;
        at_most(
            "max_agents",
            self.max_agents.into(),
            MAX_AGENTS.into(),
            "agent slots are addressed with 31 bits",
        )?;
        at_most(
            "max_memory_pages",
            self.max_memory_pages.into(),
            MAX_WASM_PAGES.into(),
            "a 32-bit WebAssembly memory has at most 65,536 pages",
        )?;
        // Offsets inside one agent's regions are 32-bit on the GPU.
        let u32_bytes = u64::from(u32::MAX);
        at_most(
            "max_memory_pages",
            u64::from(self.max_memory_pages) * WASM_PAGE_BYTES,
            u32_bytes,
            "one agent's memory must be addressable with 32-bit offsets",
        )?;
        at_least("workgroup_size", self.workgroup_size.into(), 1)?;
        at_most(
            "workgroup_size",
            self.workgroup_size.into(),
            MAX_WORKGROUP_SIZE.into(),
            "every WebGPU adapter allows 256 invocations per workgroup, not all allow more",
        )?;
        at_least("value_stack_slots", self.value_stack_slots.into(), 16)?;
        at_most(
            "value_stack_slots",
            self.value_stack_slots.into(),
            1 << 24,
            "stack offsets are 32-bit words on the GPU",
        )?;
        at_most(
            "private_stack_slots",
            self.private_stack_slots.into(),
            MAX_PRIVATE_STACK_SLOTS.into(),
            "drivers reserve a private stack's memory for every invocation in flight",
        )?;
        at_least("call_frames", self.call_frames.into(), 1)?;
        at_most(
            "call_frames",
            self.call_frames.into(),
            1 << 20,
            "frame offsets are 32-bit words on the GPU",
        )?;
        at_most(
            "output_bytes",
            self.output_bytes.into(),
            1 << 30,
            "output offsets are 32-bit on the GPU",
        )?;
        if !self.output_bytes.is_multiple_of(4) {
            return Err(ConfigError::UnalignedOutput(self.output_bytes));
        }
        at_most(
            "max_globals",
            self.max_globals.into(),
            1 << 20,
            "global indices are 32-bit words on the GPU",
        )?;
        at_most(
            "max_table_elements",
            self.max_table_elements.into(),
            1 << 24,
            "table offsets are 32-bit words on the GPU",
        )?;
        at_least("max_results", self.max_results.into(), 1)?;
        at_most(
            "max_results",
            self.max_results.into(),
            1 << 12,
            "results are read back with every dispatch",
        )?;
        at_least("fuel_per_dispatch", self.fuel_per_dispatch, 1)?;
        if let Some(total) = self.fuel_total {
            at_least("fuel_total", total, 1)?;
        }
        let power_of_two = |field, value: u32| {
            if value.is_power_of_two() {
                Ok(())
            } else {
                Err(ConfigError::NotPowerOfTwo { field, value })
            }
        };
        power_of_two("tile_agents", self.tile_agents)?;
        at_most(
            "tile_agents",
            self.tile_agents.into(),
            MAX_WORKGROUP_SIZE.into(),
            "a tile wider than a workgroup gains nothing",
        )?;
        power_of_two("memory_granule_bytes", self.memory_granule_bytes)?;
        at_least("memory_granule_bytes", self.memory_granule_bytes.into(), 4)?;
        at_most(
            "memory_granule_bytes",
            self.memory_granule_bytes.into(),
            4_096,
            "a larger granule gains nothing over contiguous agents (`tile_agents` 1)",
        )?;
        Ok(())
    }
}

/// Agent slots are `u32`s whose top bit is kept free for tagging on the GPU.
pub(crate) const MAX_AGENTS: u32 = 1 << 31;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_parse_from_their_names() {
        for tier in Tier::ALL {
            assert_eq!(tier.name().parse::<Tier>(), Ok(tier));
        }
        let err = "jit".parse::<Tier>().unwrap_err();
        assert!(err.contains("auto, interpreter or compiled"), "{err}");
    }

    #[test]
    fn a_background_kernel_only_where_its_budget_is_larger() {
        let first = CompileBudget::default();
        assert_eq!(first.background(), None);
        let same = CompileBudget {
            background_instructions: first.instructions,
            background_blocks: first.blocks,
            ..first
        };
        assert_eq!(same.background(), None);
        let larger = CompileBudget {
            background_instructions: 12_000,
            ..first
        };
        let later = larger.background().unwrap();
        assert_eq!((later.instructions, later.blocks), (12_000, first.blocks));
        assert_eq!(later.block_instructions, first.block_instructions);
        assert_eq!(later.background(), None);
    }

    #[test]
    fn default_is_valid() {
        SwarmConfig::default().validate().unwrap();
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (
                SwarmConfig {
                    max_agents: 0,
                    ..Default::default()
                },
                "`max_agents` is 0 but must be at least 1",
            ),
            (
                SwarmConfig {
                    max_memory_pages: 65_537,
                    ..Default::default()
                },
                "`max_memory_pages` is 65537 but must be at most 65536",
            ),
            (
                SwarmConfig {
                    output_bytes: 6,
                    ..Default::default()
                },
                "`output_bytes` is 6 but must be a multiple of 4",
            ),
            (
                SwarmConfig {
                    workgroup_size: 512,
                    ..Default::default()
                },
                "`workgroup_size` is 512 but must be at most 256",
            ),
            (
                SwarmConfig {
                    private_stack_slots: 8_192,
                    ..Default::default()
                },
                "`private_stack_slots` is 8192 but must be at most 4096",
            ),
            (
                SwarmConfig {
                    fuel_total: Some(0),
                    ..Default::default()
                },
                "`fuel_total` is 0 but must be at least 1",
            ),
            (
                SwarmConfig {
                    tile_agents: 24,
                    ..Default::default()
                },
                "`tile_agents` is 24 but must be a power of two",
            ),
            (
                SwarmConfig {
                    memory_granule_bytes: 12,
                    ..Default::default()
                },
                "`memory_granule_bytes` is 12 but must be a power of two",
            ),
        ];
        for (config, expected) in cases {
            let message = config.validate().unwrap_err().to_string();
            assert!(
                message.starts_with(expected),
                "{message:?} should start with {expected:?}"
            );
        }
    }
}
