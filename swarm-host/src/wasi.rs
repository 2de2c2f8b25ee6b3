//! WASI preview 1 (`wasi_snapshot_preview1`) for swarm's agents, as host functions a user adds
//! to the imports, as wasmtime-wasi is added to a linker: per-agent arguments and environment
//! (`{id}` stands for the agent's slot), a stdin every agent reads, stdout and stderr kept per
//! agent within a budget, preopened directories every agent reads and changes only in its own
//! view, clocks read from the host or per agent from a deterministic counter, a deterministic
//! random stream per agent, and `proc_exit` ending an agent with an exit code.
//!
//! ```no_run
//! use swarm_host::wasi::{Wasi, WasiConfig};
//! use swarm_host::{Imports, Swarm, SwarmConfig};
//!
//! # let wasm: Vec<u8> = Vec::new();
//! let wasi = Wasi::new(WasiConfig {
//!     args: vec!["program".into(), "--seed".into(), "{id}".into()],
//!     ..WasiConfig::default()
//! });
//! let mut imports = Imports::new();
//! wasi.add_to(&mut imports);
//! let mut swarm = Swarm::new(SwarmConfig { max_agents: 1_024, ..SwarmConfig::default() })?;
//! swarm.load_module(&wasm, &imports)?;
//! let agents: Vec<_> = (0..1_024).map(|_| swarm.spawn("_start", &[])).collect::<Result<_, _>>()?;
//! let report = swarm.run()?;
//! for output in wasi.take_outputs(&mut swarm, &agents)? {
//!     print!("{}", String::from_utf8_lossy(&output.stdout));
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Files come from [`WasiDir`]s, preopened as descriptors 3, 4, … in the order of
//! [`WasiConfig::dirs`]: each is loaded once into an image all agents share. What an agent
//! creates or changes lives in its own overlay, within [`WasiConfig::file_bytes`]
//! (`ENOSPC` beyond it); [`WasiOutput::files`] hands back the files it created or changed, and
//! [`Wasi::read_file`] reads any file as an agent sees it. Nothing reaches the host's disk.
//!
//! Every answer, errno and trap is wasmtime-wasi's: where it traps, the agent traps (a pointer
//! outside its memory traps `memory_out_of_bounds`; a misaligned pointer or a value preview 1
//! does not define traps `bad_host_call`). `calls.rs` and `files.rs` list where swarm's
//! answers may differ.
//!
//! Writes to stdout and stderr stay on the GPU where they can: while descriptors 1 and 2 are
//! still stdout and stderr, the GPU gathers an `fd_write` of at most 4 buffers and 4 KiB in
//! the agent's output region ([`SwarmConfig::output_bytes`](crate::SwarmConfig::output_bytes),
//! unless the module imports `swarm.output` too), within the stream's budget. Every other
//! WASI call is a host call: the agent stops at it, and the next dispatch answers it with the
//! batch of agents waiting there; the host takes what the GPU gathered first, so each stream
//! keeps its order, and [`Wasi::take_outputs`] takes the rest. A `poll_oneoff` on the host
//! clock makes the whole batch wait for its longest sleep.

mod abi;
mod calls;
mod dir;
mod files;
mod fs;
mod poll;
mod state;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use swarm_core::AgentId;

pub use abi::MODULE;
pub use dir::{WasiDir, WasiDirError};

use crate::{AccessError, HostCall, HostMemory, Imports, MultiSwarm, Swarm};
use dir::Image;
use state::AgentState;

/// How WASI's clocks read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WasiClock {
    /// The host's clocks: realtime is the host's time of day, monotonic counts from the
    /// [`Wasi`]'s creation. Readings differ between runs.
    #[default]
    Host,
    /// A counter per agent and clock: an agent's `n`-th reading (from 0) of the realtime
    /// clock is `realtime + n * step`, of the monotonic clock `n * step`. Every run, and every
    /// agent, reads the same times; `poll_oneoff` does not wait.
    Deterministic {
        /// The realtime clock's first reading, since the Unix epoch.
        realtime: Duration,
        /// How far each reading advances its clock.
        step: Duration,
    },
}

/// What WASI gives the agents.
#[derive(Clone, Debug)]
pub struct WasiConfig {
    /// Every agent's arguments, `argv[0]` first; `{id}` stands for the agent's slot.
    pub args: Vec<String>,
    /// Every agent's environment variables; `{id}` in a value stands for the agent's slot.
    pub env: Vec<(String, String)>,
    /// How the clocks read.
    pub clock: WasiClock,
    /// The seed of `random_get`: agent slot `s` reads bytes `0, 1, 2, …` of
    /// [`random_bytes`]`(seed, s, …)`, whatever sizes its calls ask for.
    pub random_seed: u64,
    /// Every agent's stdin: each agent reads these bytes from its own place in them, then
    /// the end (empty by default); [`Wasi::set_stdin`] gives an agent its own.
    pub stdin: Arc<[u8]>,
    /// Bytes of stdout, and of stderr, kept per agent. A write beyond them keeps what fits and
    /// answers with the count kept (`ENOSPC` when nothing fits), and [`WasiOutput`] says the
    /// stream was cut short.
    pub output_bytes: usize,
    /// The directories every agent finds preopened, as descriptors 3, 4, … in this order.
    pub dirs: Vec<WasiDir>,
    /// Bytes of each agent's own files: everything it creates or changes counts (a changed
    /// file whole, a directory its entries' names, each 64 bytes more); a write beyond them
    /// keeps what fits and answers with the count kept, or `ENOSPC` when nothing fits, and
    /// [`WasiOutput::files_full`] says so.
    pub file_bytes: usize,
}

impl Default for WasiConfig {
    fn default() -> Self {
        Self {
            args: Vec::new(),
            env: Vec::new(),
            clock: WasiClock::Host,
            random_seed: 0,
            stdin: Arc::from(Vec::new()),
            output_bytes: 64 * 1024,
            dirs: Vec::new(),
            file_bytes: 1 << 20,
        }
    }
}

/// What an agent wrote to stdout and stderr.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WasiOutput {
    /// Its stdout, up to [`WasiConfig::output_bytes`].
    pub stdout: Vec<u8>,
    /// Its stderr, up to [`WasiConfig::output_bytes`].
    pub stderr: Vec<u8>,
    /// Whether it wrote more to stdout than [`WasiConfig::output_bytes`]: what did not fit was
    /// refused.
    pub stdout_truncated: bool,
    /// Whether it wrote more to stderr than [`WasiConfig::output_bytes`].
    pub stderr_truncated: bool,
    /// The files it created or changed that are there at its end, by path (the preopen's
    /// guest name, then the path under it), in path order.
    pub files: Vec<WasiFile>,
    /// Whether a change to its files was refused, or cut short, for
    /// [`WasiConfig::file_bytes`].
    pub files_full: bool,
}

/// A file an agent created or changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WasiFile {
    /// Its path: the preopen's guest name, then the path under it (`data/out/result.txt`).
    pub path: String,
    /// Its bytes.
    pub contents: Vec<u8>,
}

/// WASI preview 1 for the agents of the swarm whose imports it was added to: one `Wasi` a
/// swarm, since it keeps each agent's state by its [`AgentId`], which only that swarm's pool
/// makes unique. Clones share the agents' state.
#[derive(Clone, Debug)]
pub struct Wasi {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    config: WasiConfig,
    /// Where the host's monotonic clock counts from.
    epoch: Instant,
    /// The preopened directories' files.
    image: Arc<Image>,
    agents: Mutex<HashMap<AgentId, AgentState>>,
}

impl Shared {
    fn agents(&self) -> MutexGuard<'_, HashMap<AgentId, AgentState>> {
        self.agents.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `agent`'s state in `agents`, made on its first call.
    fn state<'a>(
        &self,
        agents: &'a mut HashMap<AgentId, AgentState>,
        agent: AgentId,
    ) -> &'a mut AgentState {
        agents
            .entry(agent)
            .or_insert_with(|| AgentState::new(&self.image, &self.config))
    }

    /// The time a file changed by an agent gets: the host's time of day, or under the
    /// deterministic clock its first realtime reading (reading no agent's clock).
    fn now(&self) -> u64 {
        match self.config.clock {
            WasiClock::Host => std::time::SystemTime::now()
                .duration_since(std::time::SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64),
            WasiClock::Deterministic { realtime, .. } => realtime.as_nanos() as u64,
        }
    }
}

/// What `state` hands back of an agent.
fn output_of(state: &AgentState) -> WasiOutput {
    WasiOutput {
        files: state
            .fs
            .changed_files()
            .into_iter()
            .map(|(path, contents)| WasiFile { path, contents })
            .collect(),
        files_full: state.fs.full,
        ..state.output.clone()
    }
}

impl Wasi {
    /// WASI with this configuration.
    pub fn new(config: WasiConfig) -> Self {
        Self {
            shared: Arc::new(Shared {
                image: Arc::new(Image::new(&config.dirs)),
                config,
                epoch: Instant::now(),
                agents: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &WasiConfig {
        &self.shared.config
    }

    /// Provides every `wasi_snapshot_preview1` function in `imports`.
    pub fn add_to(&self, imports: &mut Imports) {
        for (func, name, params, results) in abi::FUNCS {
            let shared = Arc::clone(&self.shared);
            let answer = move |batch: &[HostCall], memory: &mut HostMemory<'_>| {
                calls::answer(func, &shared, batch, memory)
            };
            if func == abi::Func::FdWrite {
                // Its writes to stdout and stderr stay on the GPU where they can.
                let room = self.shared.config.output_bytes.min(u32::MAX as usize) as u32;
                imports.stream_write_func(MODULE, name, room, answer);
            } else {
                imports.func_with_memory(MODULE, name, params, results, answer);
            }
        }
    }

    /// Gives `agent` these arguments instead of [`WasiConfig::args`] (no `{id}` replaced).
    pub fn set_args(&self, agent: AgentId, args: &[String]) {
        let mut agents = self.shared.agents();
        self.shared.state(&mut agents, agent).set_args(args);
    }

    /// Gives `agent` this stdin instead of [`WasiConfig::stdin`], read from its start.
    pub fn set_stdin(&self, agent: AgentId, stdin: Arc<[u8]>) {
        let mut agents = self.shared.agents();
        self.shared.state(&mut agents, agent).set_stdin(stdin);
    }

    /// Gives `agent` this environment instead of [`WasiConfig::env`] (no `{id}` replaced).
    pub fn set_env(&self, agent: AgentId, env: &[(String, String)]) {
        let mut agents = self.shared.agents();
        self.shared.state(&mut agents, agent).set_env(env);
    }

    /// What `agent` has written to stdout, stderr and its files so far (what the GPU gathered
    /// of its stdout and stderr is taken from `swarm`, which must be the swarm it runs in).
    pub fn output(
        &self,
        swarm: &mut impl WasiSwarm,
        agent: AgentId,
    ) -> Result<WasiOutput, AccessError> {
        self.gather(swarm, &[agent])?;
        Ok(self
            .shared
            .agents()
            .get(&agent)
            .map(output_of)
            .unwrap_or_default())
    }

    /// What each of `agents` wrote to stdout, stderr and its files, in one readback of what
    /// the GPU gathered from `swarm` (the swarm they run in), and forgets them: take each
    /// agent's output once it is done, so the host keeps nothing of agents long gone. A
    /// killed agent's output is kept until taken.
    pub fn take_outputs(
        &self,
        swarm: &mut impl WasiSwarm,
        agents: &[AgentId],
    ) -> Result<Vec<WasiOutput>, AccessError> {
        self.gather(swarm, agents)?;
        let mut states = self.shared.agents();
        Ok(agents
            .iter()
            .map(|agent| {
                states
                    .remove(agent)
                    .map(|state| output_of(&state))
                    .unwrap_or_default()
            })
            .collect())
    }

    /// Takes what the GPU gathered of `agents`' stdout and stderr into their states.
    /// A device that fails (of a `MultiSwarm`) fails the call, but what the others gave is
    /// kept, for a later call to hand back.
    fn gather(&self, swarm: &mut impl WasiSwarm, agents: &[AgentId]) -> Result<(), AccessError> {
        let (records, error) = swarm.take_stream_records(agents);
        let mut states = self.shared.agents();
        for (agent, records) in agents.iter().zip(records) {
            if !records.is_empty() {
                self.shared
                    .state(&mut states, *agent)
                    .append_records(&records);
            }
        }
        error.map_or(Ok(()), Err)
    }

    /// The file at `path` (the preopen's guest name, then the path under it) as `agent` sees
    /// it, if it is a file there.
    pub fn read_file(&self, agent: AgentId, path: &str) -> Option<Vec<u8>> {
        match self.shared.agents().get(&agent) {
            Some(state) => state.fs.read_path(path),
            None => fs::Fs::new(Arc::clone(&self.shared.image), 0).read_path(path),
        }
    }
}

/// Where the agents a [`Wasi`] serves run, whose stdout and stderr the GPU gathers: a
/// [`Swarm`] or a [`MultiSwarm`].
pub trait WasiSwarm: sealed::TakeStreams {}

mod sealed {
    use super::{AccessError, AgentId};

    /// Takes what the GPU gathered of agents' streams: each agent's records (none where they
    /// could not be taken), and the error of what could not.
    pub trait TakeStreams {
        fn take_stream_records(
            &mut self,
            agents: &[AgentId],
        ) -> (Vec<Vec<u8>>, Option<AccessError>);
    }
}

impl sealed::TakeStreams for Swarm {
    fn take_stream_records(&mut self, agents: &[AgentId]) -> (Vec<Vec<u8>>, Option<AccessError>) {
        match Swarm::take_stream_records(self, agents) {
            Ok(records) => (records, None),
            Err(error) => (vec![Vec::new(); agents.len()], Some(error)),
        }
    }
}

impl WasiSwarm for Swarm {}

impl sealed::TakeStreams for MultiSwarm {
    fn take_stream_records(&mut self, agents: &[AgentId]) -> (Vec<Vec<u8>>, Option<AccessError>) {
        MultiSwarm::take_stream_records(self, agents)
    }
}

impl WasiSwarm for MultiSwarm {}

/// Bytes `offset..offset + out.len()` of the random stream of agent slot `slot` under `seed`:
/// what `random_get` gives, so a test or a replay can reproduce it. Each 8-byte block is
/// SplitMix64's output for a counter made of the seed, the slot and the block's index.
pub fn random_bytes(seed: u64, slot: u32, offset: u64, out: &mut [u8]) {
    let mut position = offset;
    let mut written = 0;
    while written < out.len() {
        let block = position / 8;
        let within = (position % 8) as usize;
        let word = splitmix64(
            seed ^ splitmix64(u64::from(slot) ^ 0x5157_4152_4d00_0000)
                .wrapping_add(block.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
        )
        .to_le_bytes();
        let n = (8 - within).min(out.len() - written);
        out[written..written + n].copy_from_slice(&word[within..within + n]);
        written += n;
        position += n as u64;
    }
}

/// SplitMix64's output function.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_streams_do_not_depend_on_how_they_are_read() {
        let mut whole = [0u8; 64];
        random_bytes(7, 3, 0, &mut whole);
        let mut pieces = [0u8; 64];
        let mut at = 0;
        for n in [1, 7, 3, 16, 0, 37] {
            random_bytes(7, 3, at as u64, &mut pieces[at..at + n]);
            at += n;
        }
        assert_eq!(whole, pieces);
        let mut other_slot = [0u8; 64];
        random_bytes(7, 4, 0, &mut other_slot);
        assert_ne!(whole, other_slot);
        let mut other_seed = [0u8; 64];
        random_bytes(8, 3, 0, &mut other_seed);
        assert_ne!(whole, other_seed);
    }
}
