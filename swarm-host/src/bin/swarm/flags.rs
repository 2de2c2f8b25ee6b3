//! The command line: `swarm run`'s flags and what they parse into, and the `SwarmConfig` field
//! each limit flag sets.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use swarm_host::wasi::WasiConfig;
use swarm_host::{CompileBudget, Reconverge, SwarmConfig, Tier};

#[derive(Parser)]
#[command(
    name = "swarm",
    version,
    about = "Run WebAssembly agents by the million on a GPU"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Spawn N agents that each call one export, run them all to the end, and report.
    ///
    /// The adapter is the high-performance one, or the one WGPU_BACKEND and WGPU_ADAPTER_NAME
    /// select (see `swarm adapters`).
    Run(Box<RunArgs>),
    /// List the GPU adapters swarm can use.
    Adapters,
}

#[derive(clap::Args)]
pub(crate) struct RunArgs {
    /// The module: binary `.wasm` or WAT text.
    pub(crate) module: PathBuf,
    /// The exported function each agent calls [default: `_start`, a WASI command's entry,
    /// when the module exports it].
    #[arg(long, value_name = "NAME")]
    pub(crate) invoke: Option<String>,
    /// How many agents to run.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub(crate) agents: u32,
    /// Comma-separated arguments, typed by the export's signature (integers in decimal or
    /// 0x hex, floats as 1.5, inf, nan or bits:0x…); `{id}` stands for the agent's index
    /// 0 … N-1.
    #[arg(
        long,
        value_name = "ARGS",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub(crate) args: String,
    /// Fuel each agent may consume in total, as wasmtime's `--fuel` counts it (instructions,
    /// plus function entries, bulk bytes and elements, pages grown): it traps with out_of_fuel
    /// at the first fuel check (function entry, loop header, end of a bulk instruction) after
    /// spending it, where wasmtime's fuel N stops too. Unlimited by default.
    #[arg(long, value_name = "N")]
    pub(crate) fuel: Option<u64>,
    /// Linear-memory pages (64 KiB) per agent; memory.grow beyond them fails. Defaults to the
    /// module's initial memory.
    #[arg(long, value_name = "N")]
    pub(crate) max_memory_pages: Option<u32>,
    /// 64-bit operand-stack and local slots per agent.
    #[arg(long, value_name = "N", default_value_t = 1_024)]
    pub(crate) stack_slots: u32,
    /// Call frames per agent; deeper recursion traps with call_stack_exhausted.
    #[arg(long, value_name = "N", default_value_t = 128)]
    pub(crate) call_frames: u32,
    /// Output bytes per agent, for the `swarm.output` import, or where the GPU gathers a WASI
    /// module's writes to stdout and stderr between host calls [default: 1,024; 4,096 for a
    /// WASI module].
    #[arg(long, value_name = "BYTES")]
    pub(crate) output_bytes: Option<u32>,
    /// 64-bit slots per agent for the module's globals (with one per data or element segment
    /// and one per memory).
    #[arg(long, value_name = "N", default_value_t = SwarmConfig::default().max_globals)]
    pub(crate) max_globals: u32,
    /// Table elements per agent, over all of the module's tables (with one size word per
    /// table); table.grow beyond them fails.
    #[arg(long, value_name = "N", default_value_t = SwarmConfig::default().max_table_elements)]
    pub(crate) max_table_elements: u32,
    /// 64-bit result slots per agent. Defaults to the export's result count.
    #[arg(long, value_name = "N")]
    pub(crate) max_results: Option<u32>,
    /// Value stacks of at most this many slots run in each invocation's private memory
    /// (0: always in place).
    #[arg(long, value_name = "N", default_value_t = SwarmConfig::default().private_stack_slots)]
    pub(crate) private_stack_slots: u32,
    /// Agents per GPU workgroup.
    #[arg(long, value_name = "N", default_value_t = SwarmConfig::default().workgroup_size)]
    pub(crate) workgroup_size: u32,
    /// Agents whose memories and value stacks are interleaved word by word (1: each agent's
    /// memory is one contiguous slice).
    #[arg(long, value_name = "N", default_value_t = SwarmConfig::default().tile_agents)]
    pub(crate) tile_agents: u32,
    /// Bytes of one agent's memory that lie together inside a tile.
    #[arg(long, value_name = "BYTES", default_value_t = SwarmConfig::default().memory_granule_bytes)]
    pub(crate) memory_granule: u32,
    /// Run the module on the full interpreter instead of one generated for the instruction
    /// groups it uses.
    #[arg(long)]
    pub(crate) no_specialize: bool,
    /// Which kernel runs the agents: `interpreter`; `compiled`, the module compiled to WGSL
    /// (the interpreter runs what the compiler leaves out); or `auto`, the interpreter until
    /// the module has kept the GPU busy for a while, then the compiled kernel, built
    /// meanwhile.
    #[arg(long, value_name = "TIER", default_value_t = Tier::Auto)]
    pub(crate) tier: Tier,
    /// Which kernels keep the agents of a subgroup together (each step runs the agents at the
    /// lowest code position; the others wait): `compiled`, the compiled tier's; `all`, the
    /// interpreter's too; or `off`. It pays where agents branch apart and costs where they
    /// do not; needs an adapter with subgroup operations.
    #[arg(long, value_name = "KERNELS", default_value_t = Reconverge::Compiled)]
    pub(crate) reconverge: Reconverge,
    /// Computes every float instruction with integer code, never on the GPU's float unit
    /// (which by default adds, subtracts and multiplies normal numbers): for an adapter that
    /// does not round to nearest, ties to even. Slower; results are exact either way.
    #[arg(long)]
    pub(crate) soft_float: bool,
    /// Most instructions the compiled tier compiles: more compiles more of a large module,
    /// and the driver takes longer to build the kernel.
    #[arg(long, value_name = "N", default_value_t = CompileBudget::default().instructions)]
    pub(crate) compile_instructions: u32,
    /// Most blocks (straight runs of instructions) the compiled tier compiles.
    #[arg(long, value_name = "N", default_value_t = CompileBudget::default().blocks)]
    pub(crate) compile_blocks: u32,
    /// Most compiled blocks joined into one region, which keeps locals in registers from
    /// block to block; larger regions take the driver much longer to build.
    #[arg(long, value_name = "N", default_value_t = CompileBudget::default().region_blocks)]
    pub(crate) compile_region_blocks: u32,
    /// Most instructions of a second, larger compiled kernel, built on another thread while
    /// the first runs; agents move to it once it is ready. For long runs of modules larger
    /// than the first kernel's budget. 0 (the default): none. swarm waits for the build to
    /// end before it exits.
    #[arg(long, value_name = "N", default_value_t = CompileBudget::default().background_instructions)]
    pub(crate) compile_background_instructions: u32,
    /// Most blocks of that second kernel (at least --compile-blocks).
    #[arg(long, value_name = "N", default_value_t = CompileBudget::default().background_blocks)]
    pub(crate) compile_background_blocks: u32,
    /// Keep the driver's built pipelines in DIR between runs, so that a module's kernels are
    /// compiled once [default: $XDG_CACHE_HOME/swarm/pipelines, else
    /// ~/.cache/swarm/pipelines].
    #[arg(long, value_name = "DIR", conflicts_with = "no_pipeline_cache")]
    pub(crate) pipeline_cache: Option<PathBuf>,
    /// Keep no pipeline cache (the driver may still keep its own).
    #[arg(long)]
    pub(crate) no_pipeline_cache: bool,
    /// Fuel per agent per dispatch (instructions, plus function entries and bulk units):
    /// smaller slices keep each GPU submission short. By default about 2e10 over all agents.
    #[arg(long, value_name = "N")]
    pub(crate) slice: Option<u64>,
    /// A WASI argument, after argv[0] (the module's path); repeat for more. `{id}` stands for
    /// the agent's index.
    #[arg(long = "arg", value_name = "ARG", allow_hyphen_values = true)]
    pub(crate) wasi_args: Vec<String>,
    /// A WASI environment variable, `NAME=VALUE`; repeat for more. `{id}` in the value stands
    /// for the agent's index.
    #[arg(long = "env", value_name = "NAME=VALUE")]
    pub(crate) wasi_env: Vec<String>,
    /// A file every agent reads as its WASI stdin, each from its own place in it; with `{id}`
    /// in its name, each agent reads its own file (`in/{id}.txt`) [default: an empty stdin].
    #[arg(long, value_name = "FILE")]
    pub(crate) stdin: Option<String>,
    /// Bytes of WASI stdout, and of stderr, kept per agent; a write beyond them keeps what
    /// fits (a short count, then ENOSPC), and the run reports the agents cut short (`--json`:
    /// "stdout_truncated", "stderr_truncated").
    #[arg(long, value_name = "BYTES", default_value_t = WasiConfig::default().output_bytes)]
    pub(crate) stdout_bytes: usize,
    /// How WASI's clocks read: `host`, the host's clocks; or `deterministic`, a counter per
    /// agent that starts at the Unix epoch and advances 1 ms per reading, the same in every
    /// run.
    #[arg(long, value_name = "CLOCK", default_value = "host")]
    pub(crate) clock: ClockArg,
    /// A host directory every agent finds preopened as GUEST (default: HOST as given), as
    /// wasmtime's `--dir HOST::GUEST`; repeat for more. It is read once, and each agent's
    /// changes stay in its own view of it: nothing is written to HOST.
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    pub(crate) dirs: Vec<String>,
    /// Bytes of WASI files each agent may create or change (a changed file counts whole, with
    /// 64 bytes an inode and its entries' names); a write beyond them gets a short count, then
    /// ENOSPC, and the run reports the agents refused (`--json`: "files_full").
    #[arg(long, value_name = "BYTES", default_value_t = WasiConfig::default().file_bytes)]
    pub(crate) file_bytes: usize,
    /// Write the WASI files each agent created or changed under DIR/AGENT/, by their guest
    /// paths (`--json` lines list them as "files").
    #[arg(long, value_name = "DIR")]
    pub(crate) save_files: Option<PathBuf>,
    /// The seed of WASI's random_get: each agent reads its own deterministic stream of it.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub(crate) random_seed: u64,
    /// Answer every imported function that swarm does not provide with zeros, as wasmtime's
    /// flag of the same name does (benchmark harnesses import bench.start and bench.end).
    #[arg(long)]
    pub(crate) default_values_unknown_imports: bool,
    /// Print one JSON line per agent, in agent order, instead of the summary.
    #[arg(long)]
    pub(crate) json: bool,
    /// Agents whose results the summary shows.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub(crate) show: u32,
    /// Devices to spread the agents over, each running its share at once: `all`, every GPU
    /// of the host (those of the best kind present, as `swarm adapters` lists them); or N,
    /// the host's GPUs taken in turn (more than it has opens several logical devices of each).
    /// Each device holds an equal share of the agents, so agent i is still slot i (from
    /// --first-agent).
    #[arg(long, value_name = "N|all", default_value = "1")]
    pub(crate) devices: DevicesArg,
    /// The index of the first agent: agents are K … K+N-1, as `{id}`, `swarm.agent_id`, the
    /// JSON lines and --save-files number them, so that runs of one workload split into
    /// shards (on several hosts, say) number their agents as one run would.
    #[arg(long, value_name = "K", default_value_t = 0)]
    pub(crate) first_agent: u32,
}

/// `--devices`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DevicesArg {
    All,
    Count(u32),
}

impl std::str::FromStr for DevicesArg {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "all" => Ok(Self::All),
            _ => match text.parse::<u32>() {
                Ok(n) if n >= 1 => Ok(Self::Count(n)),
                _ => Err(format!(
                    "expected `all` or a count of at least 1, not {text:?}"
                )),
            },
        }
    }
}

/// `--clock`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ClockArg {
    Host,
    Deterministic,
}

/// Each `SwarmConfig` field and the `swarm run` flag that sets it.
pub(crate) const CONFIG_FLAGS: [(&str, &str); 16] = [
    ("max_agents", "--agents"),
    ("first_slot", "--first-agent"),
    ("max_memory_pages", "--max-memory-pages"),
    ("value_stack_slots", "--stack-slots"),
    ("private_stack_slots", "--private-stack-slots"),
    ("call_frames", "--call-frames"),
    ("output_bytes", "--output-bytes"),
    ("max_globals", "--max-globals"),
    ("max_table_elements", "--max-table-elements"),
    ("max_results", "--max-results"),
    ("fuel_per_dispatch", "--slice"),
    ("fuel_total", "--fuel"),
    ("workgroup_size", "--workgroup-size"),
    ("specialize", "--no-specialize"),
    ("tile_agents", "--tile-agents"),
    ("memory_granule_bytes", "--memory-granule"),
];
