//! Each agent's WASI state on the host: its arguments and environment, its clocks' readings,
//! its place in its random stream, its open standard streams and what it wrote to them.

use std::time::{Duration, Instant, SystemTime};

use swarm_core::AgentId;

use super::{WasiClock, WasiConfig, WasiOutput};

/// One agent's state.
#[derive(Debug)]
pub(crate) struct AgentState {
    /// Its arguments and environment (`K=V`), each with its terminating NUL.
    args: Option<Vec<Vec<u8>>>,
    env: Option<Vec<Vec<u8>>>,
    /// Clock reads so far, for the deterministic clock: realtime, monotonic.
    reads: [u64; 2],
    /// Bytes of its random stream used so far.
    random_used: u64,
    /// Bytes of stdin read so far.
    stdin_read: usize,
    /// What descriptors 0, 1 and 2 are (stdin, stdout and stderr until closed or renumbered);
    /// no other descriptor is ever open.
    fds: [Option<Stream>; 3],
    pub(crate) output: WasiOutput,
}

/// A standard stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stream {
    Stdin,
    Stdout,
    Stderr,
}

impl Default for AgentState {
    fn default() -> Self {
        Self {
            args: None,
            env: None,
            reads: [0; 2],
            random_used: 0,
            stdin_read: 0,
            fds: [
                Some(Stream::Stdin),
                Some(Stream::Stdout),
                Some(Stream::Stderr),
            ],
            output: WasiOutput::default(),
        }
    }
}

impl AgentState {
    /// The agent's arguments, NUL-terminated (`{id}` replaced by its slot).
    pub(crate) fn args(&mut self, agent: AgentId, config: &WasiConfig) -> &[Vec<u8>] {
        self.args.get_or_insert_with(|| {
            config
                .args
                .iter()
                .map(|a| terminated(&substitute(a, agent)))
                .collect()
        })
    }

    /// The agent's environment as `K=V`, NUL-terminated.
    pub(crate) fn env(&mut self, agent: AgentId, config: &WasiConfig) -> &[Vec<u8>] {
        self.env.get_or_insert_with(|| {
            config
                .env
                .iter()
                .map(|(k, v)| terminated(&format!("{k}={}", substitute(v, agent))))
                .collect()
        })
    }

    pub(crate) fn set_args(&mut self, args: &[String]) {
        self.args = Some(args.iter().map(|a| terminated(a)).collect());
    }

    pub(crate) fn set_env(&mut self, env: &[(String, String)]) {
        self.env = Some(
            env.iter()
                .map(|(k, v)| terminated(&format!("{k}={v}")))
                .collect(),
        );
    }

    /// Reads clock `id` (realtime or monotonic) as nanoseconds.
    pub(crate) fn read_clock(&mut self, id: u32, clock: &WasiClock, epoch: Instant) -> u64 {
        let index = (id as usize).min(1);
        let n = self.reads[index];
        self.reads[index] += 1;
        match *clock {
            WasiClock::Host if id == super::abi::clock::REALTIME => SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, nanos),
            WasiClock::Host => nanos(epoch.elapsed()),
            WasiClock::Deterministic { realtime, step } => {
                let start = if id == super::abi::clock::REALTIME {
                    nanos(realtime)
                } else {
                    0
                };
                start.wrapping_add(n.wrapping_mul(nanos(step)))
            }
        }
    }

    /// The agent's place in stdin, `input`: the bytes it has not read.
    pub(crate) fn unread<'i>(&self, input: &'i [u8]) -> &'i [u8] {
        &input[self.stdin_read.min(input.len())..]
    }

    /// Moves the agent's place in stdin on by `n` bytes.
    pub(crate) fn consume_stdin(&mut self, n: usize) {
        self.stdin_read += n;
    }

    /// Passes over the next `len` bytes of the agent's random stream.
    pub(crate) fn skip_random(&mut self, len: u32) {
        self.random_used += u64::from(len);
    }

    /// The next `len` bytes of the agent's random stream.
    pub(crate) fn random(&mut self, agent: AgentId, seed: u64, len: usize) -> Vec<u8> {
        let mut bytes = vec![0; len];
        super::random_bytes(seed, agent.slot(), self.random_used, &mut bytes);
        self.random_used += len as u64;
        bytes
    }

    /// The stream descriptor `fd` names, if it is open.
    pub(crate) fn stream(&self, fd: u32) -> Option<Stream> {
        self.fds.get(fd as usize).copied().flatten()
    }

    /// Closes `fd`, which is open.
    pub(crate) fn close(&mut self, fd: u32) {
        self.fds[fd as usize] = None;
    }

    /// Moves open descriptor `from` to open descriptor `to`, closing what `to` was.
    pub(crate) fn renumber(&mut self, from: u32, to: u32) {
        if from != to {
            self.fds[to as usize] = self.fds[from as usize].take();
        }
    }

    /// Bytes `stream` (stdout or stderr) still takes within `budget`.
    pub(crate) fn room(&self, stream: Stream, budget: usize) -> u64 {
        let kept = match stream {
            Stream::Stdout => &self.output.stdout,
            _ => &self.output.stderr,
        };
        budget.saturating_sub(kept.len()) as u64
    }

    /// Appends `bytes`, what fitted of a write of `total` bytes, to `stream` (stdout or
    /// stderr), marking the stream cut short if not all of it fitted.
    pub(crate) fn write(&mut self, stream: Stream, bytes: &[u8], total: u64) {
        let (kept, truncated) = match stream {
            Stream::Stdout => (&mut self.output.stdout, &mut self.output.stdout_truncated),
            _ => (&mut self.output.stderr, &mut self.output.stderr_truncated),
        };
        kept.extend_from_slice(bytes);
        *truncated |= (bytes.len() as u64) < total;
    }
}

/// `{id}` in `text` replaced by the agent's slot.
fn substitute(text: &str, agent: AgentId) -> String {
    text.replace("{id}", &agent.slot().to_string())
}

fn terminated(text: &str) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    bytes.push(0);
    bytes
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
