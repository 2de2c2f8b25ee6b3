//! The preview 1 functions, each answering a batch of agents' calls at once (memory is read
//! for the whole batch in one readback where a function reads it), as wasmtime-wasi answers
//! them without preopened directories: the same errno for each descriptor, and a trap where it
//! traps (a pointer outside memory or misaligned, an enum value preview 1 does not define).
//!
//! Where wasmtime-wasi's choice is one of several the interface allows, swarm's may differ:
//! - `fd_write` writes every buffer of its iovec array, not only the first that is not empty,
//!   which saves the guest a host call per buffer; so an iovec array is read, and its
//!   buffers checked, as a whole.
//! - A stream's budget ([`WasiConfig::output_bytes`](super::WasiConfig::output_bytes)) gives
//!   a short count, then `ENOSPC` (a full wasmtime-wasi pipe gives `EIO`).
//! - `fd_read` fills every buffer of its iovec array that stdin's bytes reach.
//! - A clock subscription of the deterministic clock fires without waiting.
//! - There is no per-call byte limit (wasmtime-wasi's `ENOMEM`): a batch reads only what its
//!   calls name, within each agent's memory and each stream's budget.

use std::time::{Duration, Instant};

use super::abi::{Func, clock, errno, poll, rights};
use super::state::{AgentState, Stream};
use super::{Shared, WasiClock};
use crate::{HostCall, HostMemory, HostMemoryError, HostResult, HostStop, TrapCode, Value};

/// Why a call does not succeed: an errno it returns, or how it ends the agent's call.
enum Fail {
    Errno(i32),
    Stop(HostStop),
}

impl From<HostStop> for Fail {
    fn from(stop: HostStop) -> Self {
        Self::Stop(stop)
    }
}

/// A call's answer before it becomes the result: `Ok` is `SUCCESS`.
type Answer = Result<(), Fail>;

fn errno_of(e: i32) -> Answer {
    Err(Fail::Errno(e))
}

/// A memory access that failed: a trap outside the memory (as wasmtime-wasi's guest-pointer
/// checks trap), `EIO` when the GPU could not be read.
fn fault(error: &HostMemoryError) -> Fail {
    match error {
        HostMemoryError::Gpu(_) => Fail::Errno(errno::IO),
        _ => Fail::Stop(TrapCode::MemoryOutOfBounds.into()),
    }
}

/// A value preview 1 does not define for an argument: wasmtime-wasi traps.
fn bad_argument() -> Fail {
    Fail::Stop(TrapCode::BadHostCall.into())
}

/// Checks that `address` is a multiple of `align`, as wasmtime-wasi's guest pointers must be
/// (it traps otherwise).
fn aligned(address: u32, align: u32) -> Answer {
    if address.is_multiple_of(align) {
        Ok(())
    } else {
        Err(bad_argument())
    }
}

/// Answers one batch of calls to `func`.
pub(super) fn answer(
    func: Func,
    shared: &Shared,
    calls: &[HostCall],
    memory: &mut HostMemory<'_>,
) -> Vec<HostResult> {
    let mut batch = Batch {
        shared,
        calls,
        memory,
    };
    match func {
        Func::ArgsSizesGet | Func::EnvironSizesGet | Func::ArgsGet | Func::EnvironGet => batch
            .each(|b, call, state| {
                let config = &b.shared.config;
                let strings = match func {
                    Func::ArgsSizesGet | Func::ArgsGet => state.args(call.agent, config),
                    _ => state.env(call.agent, config),
                };
                if matches!(func, Func::ArgsGet | Func::EnvironGet) {
                    let strings = strings.to_vec();
                    return b.write_strings(call, &strings);
                }
                let bytes = strings.iter().map(|s| s.len() as u32).sum();
                let count = strings.len() as u32;
                b.write_u32(call, arg(call, 0), count)?;
                b.write_u32(call, arg(call, 1), bytes)
            }),
        Func::ClockResGet => batch.each(|b, call, _| {
            clock_id(call)?;
            let resolution = match b.shared.config.clock {
                WasiClock::Host => 1,
                WasiClock::Deterministic { step, .. } => (step.as_nanos() as u64).max(1),
            };
            b.write_u64(call, arg(call, 1), resolution)
        }),
        Func::ClockTimeGet => batch.each(|b, call, state| {
            let id = clock_id(call)?;
            let now = state.read_clock(id, &b.shared.config.clock, b.shared.epoch);
            b.write_u64(call, arg(call, 2), now)
        }),
        Func::RandomGet => batch.each(|b, call, state| {
            let (buf, len) = (arg(call, 0), arg(call, 1));
            if len > RANDOM_MAX_BYTES {
                return Err(bad_argument());
            }
            // The stream advances before the bounds check, as wasmtime-wasi's does; bytes are
            // made only for a buffer that lies in memory.
            let size = b.memory.size(call.agent).map_err(|e| fault(&e))?;
            if len > 0 && u64::from(buf) + u64::from(len) > size {
                state.skip_random(len);
                return Err(Fail::Stop(TrapCode::MemoryOutOfBounds.into()));
            }
            let bytes = state.random(call.agent, b.shared.config.random_seed, len as usize);
            b.write(call, buf, &bytes)
        }),
        Func::FdWrite => batch.fd_write(),
        Func::FdRead => batch.fd_read(),
        Func::FdClose => batch.each(|_, call, state| {
            let fd = arg(call, 0);
            state.stream(fd).ok_or(Fail::Errno(errno::BADF))?;
            state.close(fd);
            Ok(())
        }),
        Func::FdFdstatGet => batch.each(|b, call, state| {
            let stream = state.stream(arg(call, 0)).ok_or(Fail::Errno(errno::BADF))?;
            let rights = if stream == Stream::Stdin {
                rights::FD_READ
            } else {
                rights::FD_WRITE
            };
            // filetype 0 (unknown: not a terminal), no flags, the same rights inherited.
            let mut record = [0u8; 24];
            record[8..16].copy_from_slice(&rights.to_le_bytes());
            record[16..24].copy_from_slice(&rights.to_le_bytes());
            b.write_record(call, arg(call, 1), &record)
        }),
        Func::FdFilestatGet => batch.each(|b, call, state| {
            state.stream(arg(call, 0)).ok_or(Fail::Errno(errno::BADF))?;
            b.write_record(call, arg(call, 1), &[0u8; 64])
        }),
        Func::FdSeek => batch.each(|_, call, state| {
            if arg(call, 2) > 2 {
                return Err(bad_argument());
            }
            on_stream(state, call, |_| errno::SPIPE)
        }),
        Func::FdTell => batch.each(|_, call, state| on_stream(state, call, |_| errno::SPIPE)),
        Func::FdPread => batch.fd_read_like(|stream| {
            if stream == Stream::Stdin {
                errno::SPIPE
            } else {
                errno::BADF
            }
        }),
        Func::FdPwrite => batch.fd_read_like(|stream| {
            if stream == Stream::Stdin {
                errno::BADF
            } else {
                errno::SPIPE
            }
        }),
        Func::FdAdvise => batch.each(|_, call, _| {
            if arg(call, 3) > 5 {
                return Err(bad_argument());
            }
            errno_of(errno::BADF)
        }),
        Func::FdFdstatSetFlags => batch.each(|_, call, _| {
            if arg(call, 1) >= 1 << 5 {
                return Err(bad_argument());
            }
            errno_of(errno::BADF)
        }),
        Func::FdFdstatSetRights => batch.each(|_, call, _| {
            if (arg64(call, 1) | arg64(call, 2)) >> 30 != 0 {
                return Err(bad_argument());
            }
            errno_of(errno::BADF)
        }),
        Func::FdFilestatSetTimes => batch.each(|_, call, _| {
            set_times_flags(arg(call, 3))?;
            errno_of(errno::BADF)
        }),
        Func::FdAllocate
        | Func::FdDatasync
        | Func::FdFilestatSetSize
        | Func::FdReaddir
        | Func::FdSync
        | Func::FdPrestatGet => batch.each(|_, _, _| errno_of(errno::BADF)),
        Func::FdPrestatDirName => {
            batch.each(|_, call, state| on_stream(state, call, |_| errno::NOTDIR))
        }
        Func::FdRenumber => batch.each(|_, call, state| {
            let (from, to) = (arg(call, 0), arg(call, 1));
            if state.stream(from).is_none() || state.stream(to).is_none() {
                return errno_of(errno::BADF);
            }
            state.renumber(from, to);
            Ok(())
        }),
        Func::PathOpen => batch.path_open(),
        Func::PathFilestatSetTimes => batch.each(|_, call, _| {
            lookup_flags(arg(call, 1))?;
            set_times_flags(arg(call, 6))?;
            errno_of(errno::BADF)
        }),
        Func::PathFilestatGet | Func::PathLink => batch.each(|_, call, _| {
            lookup_flags(arg(call, 1))?;
            errno_of(errno::BADF)
        }),
        Func::PathCreateDirectory
        | Func::PathReadlink
        | Func::PathRemoveDirectory
        | Func::PathRename
        | Func::PathSymlink
        | Func::PathUnlinkFile => batch.each(|_, _, _| errno_of(errno::BADF)),
        Func::SockAccept | Func::SockRecv | Func::SockSend | Func::SockShutdown => {
            batch.each(|_, call, state| {
                let flags_ok = match func {
                    // fdflags, riflags, siflags (a u16 with no flags defined), sdflags.
                    Func::SockAccept => arg(call, 1) < 1 << 5,
                    Func::SockRecv => arg(call, 3) < 1 << 2,
                    Func::SockSend => arg(call, 3) <= 0xffff,
                    _ => arg(call, 1) < 1 << 2,
                };
                if !flags_ok {
                    return Err(bad_argument());
                }
                on_stream(state, call, |_| errno::NOTSOCK)
            })
        }
        Func::PollOneoff => batch.poll_oneoff(),
        Func::ProcExit => calls
            .iter()
            .map(|call| match arg(call, 0) {
                code @ 0..EXIT_STATUS_LIMIT => Err(HostStop::Exit(code as i32)),
                _ => Err(TrapCode::BadHostCall.into()),
            })
            .collect(),
        Func::ProcRaise => batch.each(|_, call, _| {
            if arg(call, 0) > 30 {
                return Err(bad_argument());
            }
            errno_of(errno::NOTSUP)
        }),
        Func::SchedYield => batch.each(|_, _, _| Ok(())),
    }
}

/// Exit statuses `proc_exit` accepts (wasmtime-wasi traps on the rest).
const EXIT_STATUS_LIMIT: u32 = 126;

/// The most bytes one `random_get` gives (wasmtime-wasi's default limit; more traps).
const RANDOM_MAX_BYTES: u32 = 64 << 20;

/// `BADF` unless the call's descriptor (argument 0) is open; else `errno(stream)`.
fn on_stream(state: &AgentState, call: &HostCall, errno: impl Fn(Stream) -> i32) -> Answer {
    match state.stream(arg(call, 0)) {
        Some(stream) => errno_of(errno(stream)),
        None => errno_of(errno::BADF),
    }
}

/// Checks `fstflags`: 4 bits, and not both "set" and "now" of one time.
fn set_times_flags(flags: u32) -> Answer {
    if flags >= 1 << 4 {
        return Err(bad_argument());
    }
    if flags & 0b11 == 0b11 || flags & 0b1100 == 0b1100 {
        return errno_of(errno::INVAL);
    }
    Ok(())
}

/// Checks `lookupflags`: 1 bit.
fn lookup_flags(flags: u32) -> Answer {
    if flags >= 1 << 1 {
        return Err(bad_argument());
    }
    Ok(())
}

/// One batch of calls, with the state it answers them from.
struct Batch<'a, 'm> {
    shared: &'a Shared,
    calls: &'a [HostCall],
    memory: &'a mut HostMemory<'m>,
}

impl Batch<'_, '_> {
    /// Answers each call with what `f` makes of it, in order.
    fn each(
        &mut self,
        mut f: impl FnMut(&mut Self, &HostCall, &mut AgentState) -> Answer,
    ) -> Vec<HostResult> {
        let (shared, calls) = (self.shared, self.calls);
        let mut agents = shared.agents();
        calls
            .iter()
            .map(|call| {
                let state = agents.entry(call.agent).or_default();
                match f(self, call, state) {
                    Ok(()) => Ok(vec![Value::I32(errno::SUCCESS)]),
                    Err(Fail::Errno(e)) => Ok(vec![Value::I32(e)]),
                    Err(Fail::Stop(stop)) => Err(stop),
                }
            })
            .collect()
    }

    /// Writes `bytes` at `offset` of the caller's memory.
    fn write(&mut self, call: &HostCall, offset: u32, bytes: &[u8]) -> Answer {
        if bytes.is_empty() {
            // Nothing to write: no bounds to check (as in wasmtime-wasi).
            return Ok(());
        }
        self.memory
            .write(call.agent, u64::from(offset), bytes)
            .map_err(|e| fault(&e))
    }

    fn write_u32(&mut self, call: &HostCall, offset: u32, value: u32) -> Answer {
        aligned(offset, 4)?;
        self.write(call, offset, &value.to_le_bytes())
    }

    fn write_u64(&mut self, call: &HostCall, offset: u32, value: u64) -> Answer {
        aligned(offset, 8)?;
        self.write(call, offset, &value.to_le_bytes())
    }

    /// Writes a record with 64-bit fields (8-byte aligned).
    fn write_record(&mut self, call: &HostCall, offset: u32, record: &[u8]) -> Answer {
        aligned(offset, 8)?;
        self.write(call, offset, record)
    }

    /// `args_get` and `environ_get`: the strings one after another from the address in
    /// argument 1, and a pointer to each in the array at argument 0.
    fn write_strings(&mut self, call: &HostCall, strings: &[Vec<u8>]) -> Answer {
        let (array, buffer) = (arg(call, 0), arg(call, 1));
        if strings.is_empty() {
            // Nothing is written, so nothing is checked.
            return Ok(());
        }
        aligned(array, 4)?;
        let mut pointers = Vec::with_capacity(strings.len() * 4);
        let mut at = buffer;
        for string in strings {
            pointers.extend_from_slice(&at.to_le_bytes());
            at = at.wrapping_add(string.len() as u32);
        }
        self.write(call, buffer, &strings.concat())?;
        self.write(call, array, &pointers)
    }

    /// Reads each call's iovec array (arguments 1 and 2), in one readback: its
    /// `(address, length)` pairs, or why it could not be read. An empty array is not read.
    fn iovecs(&self) -> Vec<Result<Vec<(u32, u32)>, Fail>> {
        let reads: Vec<_> = self
            .calls
            .iter()
            .map(|call| match u64::from(arg(call, 2)) * 8 {
                0 => (call.agent, 0, 0),
                len => (call.agent, u64::from(arg(call, 1)), len),
            })
            .collect();
        self.memory
            .read_many(&reads)
            .into_iter()
            .zip(self.calls)
            .map(|(read, call)| {
                if arg(call, 2) == 0 {
                    return Ok(Vec::new());
                }
                aligned(arg(call, 1), 4)?;
                match read {
                    Ok(bytes) => Ok(bytes
                        .chunks_exact(8)
                        .map(|e| (le32(&e[..4]), le32(&e[4..])))
                        .collect()),
                    Err(error) => Err(fault(&error)),
                }
            })
            .collect()
    }

    /// `fd_write`: every buffer of the iovec array goes to the descriptor's stream in one
    /// write, kept within the stream's budget. Only what fits the budget is read back.
    fn fd_write(&mut self) -> Vec<HostResult> {
        // The iovec arrays are read before the descriptor is looked at.
        let mut iovecs = self.iovecs();
        // Per call: its stream (stdout or stderr) and the bytes its buffers hold, or why it
        // fails; and every piece to read, in one readback.
        let mut plans: Vec<Result<(Stream, u64), Fail>> = Vec::with_capacity(self.calls.len());
        let mut reads = Vec::new();
        let mut pieces = Vec::with_capacity(self.calls.len());
        {
            let mut agents = self.shared.agents();
            for (call, iovecs) in self.calls.iter().zip(&mut iovecs) {
                let before = reads.len();
                let plan = (|| {
                    let iovecs = std::mem::replace(iovecs, Ok(Vec::new()))?;
                    let state = agents.entry(call.agent).or_default();
                    let stream = match state.stream(arg(call, 0)) {
                        Some(stream @ (Stream::Stdout | Stream::Stderr)) => stream,
                        _ => return Err(Fail::Errno(errno::BADF)),
                    };
                    let size = self.memory.size(call.agent).map_err(|e| fault(&e))?;
                    let mut room = state.room(stream, self.shared.config.output_bytes);
                    let mut total = 0;
                    for (address, len) in iovecs {
                        let (address, len) = (u64::from(address), u64::from(len));
                        if len > 0 && address + len > size {
                            return Err(Fail::Stop(TrapCode::MemoryOutOfBounds.into()));
                        }
                        total += len;
                        let take = len.min(room);
                        if take > 0 {
                            reads.push((call.agent, address, take));
                            room -= take;
                        }
                    }
                    Ok((stream, total))
                })();
                if plan.is_err() {
                    reads.truncate(before);
                }
                pieces.push(reads.len() - before);
                plans.push(plan);
            }
        }
        let mut data = self.memory.read_many(&reads).into_iter();
        let mut index = 0;
        self.each(|b, call, state| {
            let at = index;
            index += 1;
            let pieces: Vec<_> = data.by_ref().take(pieces[at]).collect();
            let (stream, total) = std::mem::replace(&mut plans[at], Ok((Stream::Stdin, 0)))?;
            let mut bytes = Vec::new();
            for piece in pieces {
                bytes.extend_from_slice(&piece.map_err(|e| fault(&e))?);
            }
            state.write(stream, &bytes, total);
            if bytes.is_empty() && total > 0 {
                return errno_of(errno::NOSPC);
            }
            b.write_u32(call, arg(call, 3), bytes.len() as u32)
        })
    }

    /// `fd_read`: stdin's next bytes fill the iovecs' buffers in order; at its end a read
    /// reads nothing.
    fn fd_read(&mut self) -> Vec<HostResult> {
        let mut iovecs = self.iovecs();
        let input = std::sync::Arc::clone(&self.shared.config.stdin);
        let mut index = 0;
        self.each(|b, call, state| {
            let at = index;
            index += 1;
            let iovecs = std::mem::replace(&mut iovecs[at], Ok(Vec::new()))?;
            if state.stream(arg(call, 0)) != Some(Stream::Stdin) {
                return errno_of(errno::BADF);
            }
            let size = b.memory.size(call.agent).map_err(|e| fault(&e))?;
            let mut unread = state.unread(&input);
            let mut read = 0;
            for (address, len) in iovecs {
                if unread.is_empty() {
                    break;
                }
                if len > 0 && u64::from(address) + u64::from(len) > size {
                    return Err(Fail::Stop(TrapCode::MemoryOutOfBounds.into()));
                }
                let take = (len as usize).min(unread.len());
                b.write(call, address, &unread[..take])?;
                unread = &unread[take..];
                read += take;
            }
            state.consume_stdin(read);
            b.write_u32(call, arg(call, 3), read as u32)
        })
    }

    /// `fd_pread` and `fd_pwrite`: the iovec array is read, then the stream's errno (no
    /// stream has positions).
    fn fd_read_like(&mut self, errno: impl Fn(Stream) -> i32) -> Vec<HostResult> {
        let mut iovecs = self.iovecs();
        let mut index = 0;
        self.each(|_, call, state| {
            let at = index;
            index += 1;
            std::mem::replace(&mut iovecs[at], Ok(Vec::new()))?;
            on_stream(state, call, &errno)
        })
    }

    /// `path_open`: the path is read (and must be UTF-8), then the directory descriptor,
    /// which no agent has.
    fn path_open(&mut self) -> Vec<HostResult> {
        let reads: Vec<_> = self
            .calls
            .iter()
            .map(|call| (call.agent, u64::from(arg(call, 2)), u64::from(arg(call, 3))))
            .collect();
        let mut paths = self.memory.read_many(&reads).into_iter();
        self.each(|_, call, _| {
            let path = paths.next().expect("one read per call");
            lookup_flags(arg(call, 1))?;
            if arg(call, 4) >= 1 << 4
                || (arg64(call, 5) | arg64(call, 6)) >> 30 != 0
                || arg(call, 7) >= 1 << 5
            {
                return Err(bad_argument());
            }
            let path = path.map_err(|e| fault(&e))?;
            if std::str::from_utf8(&path).is_err() {
                return errno_of(errno::ILSEQ);
            }
            errno_of(errno::BADF)
        })
    }

    /// `poll_oneoff`: stdin is readable (at its end) and stdout and stderr writable at once;
    /// without such an event, the clock subscriptions that come due first fire, after the
    /// host clock's wait (none for the deterministic clock). The batch waits as long as its
    /// longest such wait.
    fn poll_oneoff(&mut self) -> Vec<HostResult> {
        let reads: Vec<_> = self
            .calls
            .iter()
            .map(|call| {
                let n = u64::from(arg(call, 2));
                (
                    call.agent,
                    u64::from(arg(call, 0)),
                    n * poll::SUBSCRIPTION_BYTES,
                )
            })
            .collect();
        let subscriptions = self.memory.read_many(&reads);
        let host = self.shared.config.clock == WasiClock::Host;
        let mut longest = Duration::ZERO;
        // Per call: its events, or why it fails.
        let mut outcomes: Vec<Result<Vec<[u8; 32]>, Fail>> = Vec::new();
        {
            let mut agents = self.shared.agents();
            for (call, read) in self.calls.iter().zip(subscriptions) {
                let state = agents.entry(call.agent).or_default();
                let outcome = self
                    .poll_one(call, read, state, host)
                    .map(|(events, wait)| {
                        longest = longest.max(wait);
                        events
                    });
                outcomes.push(outcome);
            }
        }
        if !longest.is_zero() {
            let until = Instant::now() + longest;
            while let Some(left) = until.checked_duration_since(Instant::now()) {
                std::thread::sleep(left);
            }
        }
        let mut index = 0;
        self.each(|b, call, _| {
            let at = index;
            index += 1;
            let events = std::mem::replace(&mut outcomes[at], Ok(Vec::new()))?;
            let out = arg(call, 1);
            aligned(out, 8)?;
            b.write(call, out, &events.concat())?;
            b.write_u32(call, arg(call, 3), events.len() as u32)
        })
    }

    /// One agent's `poll_oneoff`: the events that fire, and how long the host clock makes
    /// them wait.
    fn poll_one(
        &self,
        call: &HostCall,
        subscriptions: Result<Vec<u8>, HostMemoryError>,
        state: &mut AgentState,
        host: bool,
    ) -> Result<(Vec<[u8; 32]>, Duration), Fail> {
        if arg(call, 2) == 0 {
            return Err(Fail::Errno(errno::INVAL));
        }
        aligned(arg(call, 0), 8)?;
        let bytes = subscriptions.map_err(|e| fault(&e))?;
        let mut ready = Vec::new();
        let mut clocks = Vec::new();
        for record in bytes.chunks_exact(poll::SUBSCRIPTION_BYTES as usize) {
            let userdata = &record[..8];
            match record[8] {
                poll::CLOCK => {
                    let id = le32(&record[16..20]);
                    let timeout = le64(&record[24..32]);
                    let flags = u16::from_le_bytes([record[40], record[41]]);
                    if !matches!(id, clock::REALTIME | clock::MONOTONIC) || flags > poll::ABSTIME {
                        return Err(Fail::Errno(errno::INVAL));
                    }
                    // How long until it is due: an absolute time reads the clock.
                    let due = if flags & poll::ABSTIME != 0 {
                        let clock = &self.shared.config.clock;
                        let now = state.read_clock(id, clock, self.shared.epoch);
                        timeout.saturating_sub(now)
                    } else {
                        timeout
                    };
                    clocks.push((userdata, Duration::from_nanos(due)));
                }
                kind @ (poll::FD_READ | poll::FD_WRITE) => {
                    let stream = state.stream(le32(&record[16..20]));
                    let usable = match stream {
                        Some(Stream::Stdin) => kind == poll::FD_READ,
                        Some(_) => kind == poll::FD_WRITE,
                        None => false,
                    };
                    if !usable {
                        return Err(Fail::Errno(errno::BADF));
                    }
                    ready.push(event(userdata, kind, 1));
                }
                _ => return Err(Fail::Errno(errno::INVAL)),
            }
        }
        if !ready.is_empty() {
            return Ok((ready, Duration::ZERO));
        }
        // The subscriptions due first fire, after a wait on the host clock only.
        let first = clocks.iter().map(|(_, w)| *w).min().unwrap_or_default();
        let events = clocks
            .iter()
            .filter(|(_, w)| *w == first)
            .map(|(userdata, _)| event(userdata, poll::CLOCK, 0))
            .collect();
        Ok((events, if host { first } else { Duration::ZERO }))
    }
}

/// A `poll_oneoff` event record: no error, no flags.
fn event(userdata: &[u8], kind: u8, nbytes: u64) -> [u8; 32] {
    let mut record = [0u8; 32];
    record[..8].copy_from_slice(userdata);
    record[10] = kind;
    record[16..24].copy_from_slice(&nbytes.to_le_bytes());
    record
}

/// The clock id of argument 0: `EBADF` for the CPU-time clocks, which are not offered; a
/// trap for an id preview 1 does not define.
fn clock_id(call: &HostCall) -> Result<u32, Fail> {
    match arg(call, 0) {
        id @ (clock::REALTIME | clock::MONOTONIC) => Ok(id),
        clock::PROCESS_CPUTIME | clock::THREAD_CPUTIME => Err(Fail::Errno(errno::BADF)),
        _ => Err(bad_argument()),
    }
}

/// Argument `index`, an `i32`, as the `u32` preview 1 means.
fn arg(call: &HostCall, index: usize) -> u32 {
    call.args[index].to_bits() as u32
}

/// Argument `index`, an `i64`.
fn arg64(call: &HostCall, index: usize) -> u64 {
    call.args[index].to_bits()
}

fn le32(bytes: &[u8]) -> u32 {
    u32::from_le_bytes(bytes.try_into().expect("4 bytes"))
}

fn le64(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes.try_into().expect("8 bytes"))
}
