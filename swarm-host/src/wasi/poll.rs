//! `poll_oneoff`: which subscriptions fire, answered for a batch of agents at once.

use std::time::{Duration, Instant};

use super::WasiClock;
use super::abi::{clock, errno, poll};
use super::calls::{Batch, Fail, aligned, arg, fault, le32, le64};
use super::state::{AgentState, Desc, Stream};
use crate::{HostCall, HostMemoryError, HostResult};

impl Batch<'_, '_> {
    /// `poll_oneoff`: stdin is readable (at its end) and stdout and stderr writable at once;
    /// without such an event, the clock subscriptions that come due first fire, after the
    /// host clock's wait (none for the deterministic clock). The batch waits as long as its
    /// longest such wait.
    pub(super) fn poll_oneoff(&mut self) -> Vec<HostResult> {
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
                let state = self.shared.state(&mut agents, call.agent);
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
        self.each_with(outcomes, |b, call, _, events| {
            let events = events?;
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
                    // A file is ready at once, and its end shows as a hang-up.
                    let flags = match state.desc(le32(&record[16..20])) {
                        Some(Desc::Stream(Stream::Stdin)) if kind == poll::FD_READ => 0,
                        Some(Desc::Stream(Stream::Stdout | Stream::Stderr))
                            if kind == poll::FD_WRITE =>
                        {
                            0
                        }
                        Some(Desc::File(file)) if kind == poll::FD_READ => {
                            let size = state.fs.node(file.ino).bytes().len() as u64;
                            if size <= file.position {
                                poll::HANGUP
                            } else {
                                0
                            }
                        }
                        Some(Desc::File(_)) => 0,
                        _ => return Err(Fail::Errno(errno::BADF)),
                    };
                    ready.push(event(userdata, kind, 1, flags));
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
            .map(|(userdata, _)| event(userdata, poll::CLOCK, 0, 0))
            .collect();
        Ok((events, if host { first } else { Duration::ZERO }))
    }
}

/// A `poll_oneoff` event record: no error.
fn event(userdata: &[u8], kind: u8, nbytes: u64, flags: u16) -> [u8; 32] {
    let mut record = [0u8; 32];
    record[..8].copy_from_slice(userdata);
    record[10] = kind;
    record[16..24].copy_from_slice(&nbytes.to_le_bytes());
    record[24..26].copy_from_slice(&flags.to_le_bytes());
    record
}
