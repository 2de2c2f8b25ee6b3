//! Each agent's WASI state on the host: its arguments and environment, its clocks' readings,
//! its place in its random stream, its descriptors, its files and what it wrote to stdout and
//! stderr.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use swarm_core::AgentId;

use super::dir::Image;
use super::fs::{Fs, Ino};
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
    /// Its own stdin, if it has one instead of [`WasiConfig::stdin`].
    stdin: Option<Arc<[u8]>>,
    /// Bytes of stdin read so far.
    stdin_read: usize,
    /// Its open descriptors: stdin, stdout and stderr, the preopened directories from 3, and
    /// what it opened.
    fds: BTreeMap<u32, Desc>,
    /// Closed descriptor numbers, the highest reused first (as wasmtime-wasi reuses them).
    free: BTreeSet<u32>,
    /// Its files.
    pub(crate) fs: Fs,
    pub(crate) output: WasiOutput,
}

/// The most descriptors an agent holds open at once (`EMFILE` beyond).
pub(crate) const MAX_OPEN: usize = 4_096;

/// What a descriptor is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Desc {
    Stream(Stream),
    File(OpenFile),
    /// A directory: a preopened one keeps its guest name.
    Dir {
        ino: Ino,
        preopen: Option<String>,
    },
}

impl Desc {
    /// The file or directory it has open.
    pub(crate) fn ino(&self) -> Option<Ino> {
        match self {
            Desc::Stream(_) => None,
            Desc::File(file) => Some(file.ino),
            Desc::Dir { ino, .. } => Some(*ino),
        }
    }
}

/// An open file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OpenFile {
    pub(crate) ino: Ino,
    pub(crate) read: bool,
    pub(crate) write: bool,
    pub(crate) append: bool,
    pub(crate) nonblock: bool,
    pub(crate) position: u64,
}

/// A standard stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stream {
    Stdin,
    Stdout,
    Stderr,
}

impl AgentState {
    /// A new agent's state: the standard streams at 0 to 2, each preopened directory from 3.
    pub(crate) fn new(image: &Arc<Image>, config: &WasiConfig) -> Self {
        let streams = [Stream::Stdin, Stream::Stdout, Stream::Stderr];
        let fds = streams
            .into_iter()
            .map(Desc::Stream)
            .chain(image.roots.iter().map(|(guest, ino)| Desc::Dir {
                ino: *ino,
                preopen: Some(guest.clone()),
            }))
            .enumerate()
            .map(|(fd, desc)| (fd as u32, desc))
            .collect();
        Self {
            args: None,
            env: None,
            reads: [0; 2],
            random_used: 0,
            stdin: None,
            stdin_read: 0,
            fds,
            free: BTreeSet::new(),
            fs: Fs::new(Arc::clone(image), config.file_bytes),
            output: WasiOutput::default(),
        }
    }

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

    /// The agent's own stdin, if it has one.
    pub(crate) fn stdin(&self) -> Option<&Arc<[u8]>> {
        self.stdin.as_ref()
    }

    /// Gives the agent its own stdin, read from its start.
    pub(crate) fn set_stdin(&mut self, input: Arc<[u8]>) {
        self.stdin = Some(input);
        self.stdin_read = 0;
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

    /// What descriptor `fd` is, if it is open.
    pub(crate) fn desc(&self, fd: u32) -> Option<&Desc> {
        self.fds.get(&fd)
    }

    pub(crate) fn desc_mut(&mut self, fd: u32) -> Option<&mut Desc> {
        self.fds.get_mut(&fd)
    }

    /// Whether the agent may open another descriptor: it holds fewer than [`MAX_OPEN`].
    pub(crate) fn can_open(&self) -> bool {
        self.fds.len() < MAX_OPEN
    }

    /// Opens `desc` as a new descriptor: the highest closed number, else one above the
    /// highest open.
    pub(crate) fn open(&mut self, desc: Desc) -> u32 {
        let fd = self.free.pop_last().unwrap_or_else(|| {
            self.fds
                .last_key_value()
                .map_or(0, |(fd, _)| fd.saturating_add(1))
        });
        self.fds.insert(fd, desc);
        fd
    }

    /// Closes `fd`, which is open.
    pub(crate) fn close(&mut self, fd: u32) {
        let desc = self.fds.remove(&fd);
        self.free.insert(fd);
        self.forget(desc);
    }

    /// Moves open descriptor `from` to open descriptor `to`, closing what `to` was.
    pub(crate) fn renumber(&mut self, from: u32, to: u32) {
        if from != to {
            let moved = self
                .fds
                .remove(&from)
                .expect("renumbered from an open descriptor");
            self.free.insert(from);
            let replaced = self.fds.insert(to, moved);
            self.forget(replaced);
        }
    }

    /// Lets the files forget the inode a closed descriptor had, if nothing else holds it.
    fn forget(&mut self, desc: Option<Desc>) {
        if let Some(ino) = desc.and_then(|d| d.ino()) {
            let fds = &self.fds;
            self.fs
                .release(ino, |ino| fds.values().any(|d| d.ino() == Some(ino)));
        }
    }

    /// The files and whether `ino` is open, for a change that may leave an inode without
    /// names.
    pub(crate) fn fs_and_open(&mut self) -> (&mut Fs, impl Fn(Ino) -> bool + '_) {
        let fds = &self.fds;
        (&mut self.fs, move |ino| {
            fds.values().any(|d| d.ino() == Some(ino))
        })
    }

    /// Bytes `stream` (stdout or stderr) still takes within `budget`.
    pub(crate) fn room(&self, stream: Stream, budget: usize) -> u64 {
        let kept = match stream {
            Stream::Stdout => &self.output.stdout,
            _ => &self.output.stderr,
        };
        budget.saturating_sub(kept.len()) as u64
    }

    /// Appends the stdout and stderr writes the GPU gathered: records of a word `len | stream
    /// << 31` (0 stdout, 1 stderr), then the bytes, padded to a word.
    pub(crate) fn append_records(&mut self, records: &[u8]) {
        let mut at = 0;
        while at + 4 <= records.len() {
            let head = u32::from_le_bytes(records[at..at + 4].try_into().expect("4 bytes"));
            let len = (head & 0x7fff_ffff) as usize;
            let stream = if head >> 31 == 0 {
                Stream::Stdout
            } else {
                Stream::Stderr
            };
            let bytes = &records[(at + 4).min(records.len())..(at + 4 + len).min(records.len())];
            self.write(stream, bytes, len as u64);
            at += 4 + len.next_multiple_of(4);
        }
    }

    /// How many more bytes the GPU may gather for descriptors 1 and 2: each one's room within
    /// `budget` while it is still the agent's stdout (1) or stderr (2), else none.
    pub(crate) fn gpu_rooms(&self, budget: usize) -> [u32; 2] {
        [(1, Stream::Stdout), (2, Stream::Stderr)].map(|(fd, stream)| {
            if self.fds.get(&fd) == Some(&Desc::Stream(stream)) {
                self.room(stream, budget).min(u64::from(u32::MAX)) as u32
            } else {
                0
            }
        })
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
