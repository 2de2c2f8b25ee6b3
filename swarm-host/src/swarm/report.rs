//! What dispatches report: each agent's outcome, instruction and fuel counts, and the
//! submission's times.

use std::time::Duration;

use swarm_core::{AgentId, TrapCode};

use crate::Value;

/// What became of an agent's current call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It returned these values.
    Finished(Vec<Value>),
    /// It trapped.
    Trapped(TrapCode),
    /// A host function ended it with this exit code (WASI's `proc_exit`).
    Exited(i32),
    /// It ran out of this dispatch's fuel slice and resumes in the next dispatch.
    Suspended,
    /// It is waiting at a call to an imported function.
    HostCall,
}

/// One agent's part of a dispatch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentReport {
    /// The agent.
    pub id: AgentId,
    /// What became of its call.
    pub outcome: Outcome,
    /// WebAssembly instructions its current call has executed: those wasmtime's fuel model
    /// charges (every instruction but `nop`, `drop`, `block`, `loop`, `else`, `end`,
    /// `return` and `unreachable`).
    pub instructions: u64,
    /// Fuel its current call has consumed, as wasmtime counts it: the instructions, plus one per
    /// function entered, per byte or table element a bulk instruction moved, and per page or
    /// element grown. `SwarmConfig::fuel_total` limits this.
    pub fuel: u64,
    /// The part of `instructions` the compiled tier ran (see [`SwarmConfig::tier`]); the rest
    /// ran on the interpreter.
    ///
    /// [`SwarmConfig::tier`]: swarm_core::SwarmConfig::tier
    pub compiled: u64,
    /// Bytes it wrote with `swarm.output` over its life.
    pub output_len: u32,
}

/// What a dispatch did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DispatchReport {
    /// Every agent that took part, in slot order.
    pub agents: Vec<AgentReport>,
    /// GPU time of the dispatches, when the adapter has timestamps.
    pub gpu_time: Option<Duration>,
    /// Time spent answering host calls before the dispatches.
    pub host_time: Duration,
    /// Wall time of the whole operation: host calls, submissions, readback and harvest.
    pub wall_time: Duration,
}

/// Where the wall time of a batch's dispatches went, summed over its submissions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DispatchPhases {
    /// On the host before each submission: the selection's work list and the parameters.
    pub prepare: Duration,
    /// Recording and submitting the spawn and run kernels and the readback.
    pub submit: Duration,
    /// From each submission until its readback lay mapped on the host: the GPU's work (see
    /// the GPU time), the copy to the host and the wake-up.
    pub wait: Duration,
    /// Decoding the status records read back into the host's copies.
    pub decode: Duration,
    /// Building the report's columns from the host's copies.
    pub harvest: Duration,
}

impl std::ops::AddAssign for DispatchPhases {
    fn add_assign(&mut self, other: Self) {
        self.prepare += other.prepare;
        self.submit += other.submit;
        self.wait += other.wait;
        self.decode += other.decode;
        self.harvest += other.harvest;
    }
}

impl Outcome {
    /// Whether the call still has work: suspended for fuel, or waiting on the host.
    pub fn is_running(&self) -> bool {
        matches!(self, Self::Suspended | Self::HostCall)
    }
}

impl DispatchReport {
    /// Folds a later dispatch into this report: its agents replace these, times add up.
    pub fn absorb(&mut self, next: DispatchReport) {
        self.wall_time += next.wall_time;
        self.host_time += next.host_time;
        self.gpu_time = add_gpu_times(self.gpu_time, next.gpu_time);
        self.agents = next.agents;
    }
}

/// Two GPU times added, where either was timed.
pub(crate) fn add_gpu_times(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a + b),
        (a, b) => a.or(b),
    }
}
