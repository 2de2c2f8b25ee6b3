//! Host functions: imports answered by Rust code between dispatches, one batched call per
//! import for every agent waiting on it, with the callers' memories at hand.

use std::fmt;
use std::sync::Arc;

use swarm_core::{AgentId, TrapCode};
use swarm_shader::program::ValType;

use crate::{HostMemory, Value};

/// One agent's call to a host function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostCall {
    /// The calling agent.
    pub agent: AgentId,
    /// The arguments, typed by the import's signature.
    pub args: Vec<Value>,
}

/// How a host function ends its caller's call instead of returning to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HostStop {
    /// The call traps.
    Trap(TrapCode),
    /// The agent exits with this code (WASI's `proc_exit`): its call ends without results and
    /// without a trap ([`Outcome::Exited`](crate::Outcome::Exited)).
    Exit(i32),
}

impl From<TrapCode> for HostStop {
    fn from(trap: TrapCode) -> Self {
        Self::Trap(trap)
    }
}

/// What a host function answers one call: its results, or how the agent's call ends instead
/// (`Err(TrapCode::Unreachable.into())` traps).
pub type HostResult = Result<Vec<Value>, HostStop>;

type Callback = dyn Fn(&[HostCall], &mut HostMemory<'_>) -> Vec<HostResult> + Send + Sync;

/// A host function: its signature and the Rust code that answers a batch of calls.
#[derive(Clone)]
pub(crate) struct HostFunction {
    pub params: Vec<ValType>,
    pub results: Vec<ValType>,
    pub callback: Arc<Callback>,
    /// For a stream write, whose plain writes to descriptors 1 and 2 the GPU answers itself
    /// ([`CodeImage::write_streams_on_gpu`](swarm_shader::CodeImage::write_streams_on_gpu)):
    /// the room each stream of a new agent has.
    pub stream_room: Option<u32>,
}

impl HostFunction {
    pub(crate) fn new(
        params: &[ValType],
        results: &[ValType],
        callback: impl Fn(&[HostCall], &mut HostMemory<'_>) -> Vec<HostResult> + Send + Sync + 'static,
    ) -> Self {
        Self {
            params: params.to_vec(),
            results: results.to_vec(),
            callback: Arc::new(callback),
            stream_room: None,
        }
    }

    /// Runs the batch and checks that every answer fits the signature.
    pub(crate) fn call(
        &self,
        calls: &[HostCall],
        memory: &mut HostMemory<'_>,
    ) -> Result<Vec<HostResult>, String> {
        let answers = (self.callback)(calls, memory);
        if answers.len() != calls.len() {
            return Err(format!(
                "it answered {} of a batch of {} calls",
                answers.len(),
                calls.len()
            ));
        }
        for answer in answers.iter().flatten() {
            let types: Vec<ValType> = answer.iter().map(|v| v.ty()).collect();
            if types != self.results {
                return Err(format!(
                    "it returned {answer:?} but its signature says {:?}",
                    self.results
                ));
            }
        }
        Ok(answers)
    }
}

impl fmt::Debug for HostFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostFunction")
            .field("params", &self.params)
            .field("results", &self.results)
            .finish_non_exhaustive()
    }
}
