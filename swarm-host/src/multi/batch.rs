//! Batches over several devices: [`MultiSwarm::spawn_batch`] splits a batch by the devices'
//! free slots into one [`Batch`] per device, each with its arguments moved on (index rules) or
//! cut (columns) so that agent `i` of the whole batch gets what a batch on one device would
//! give it; running one runs every device's part at once and joins their columns in batch
//! order.

use std::time::Instant;

use swarm_core::{AgentId, PoolError};

use super::{DeviceDispatch, DeviceFailure, MultiSwarm, each_device};
use crate::{AccessError, Arg, Batch, BatchReport, DispatchError, SpawnError, Swarm};

/// Agents spawned together by [`MultiSwarm::spawn_batch`]: a batch on each device that took
/// some, in device order, so agent `i` of the batch is `ids().nth(i)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MultiBatch {
    /// Each device's part: the device and its batch.
    parts: Vec<(usize, Batch)>,
}

impl MultiBatch {
    /// The agents, in batch order.
    pub fn ids(&self) -> impl Iterator<Item = AgentId> + '_ {
        self.parts
            .iter()
            .flat_map(|(_, batch)| batch.ids().iter().copied())
    }

    /// Agents in the batch.
    pub fn len(&self) -> usize {
        self.parts.iter().map(|(_, batch)| batch.len()).sum()
    }

    /// Whether the batch has no agents.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a batch's agents did on every device: [`BatchReport`]'s columns over the whole batch,
/// with each device's part.
#[derive(Debug)]
pub struct MultiBatchReport {
    /// The columns, agent `i` of the batch at entry `i`. A failed device's agents stand as its
    /// last dispatch left them (see `failures`); its GPU and wall time are the longest
    /// device's, as the devices run at once.
    pub report: BatchReport,
    /// Each device's part, by device index.
    pub devices: Vec<DeviceDispatch>,
    /// The devices that failed; their agents' columns are as they stood before.
    pub failures: Vec<DeviceFailure>,
}

impl MultiBatchReport {
    /// Whether every device ran: no failure.
    pub fn is_complete(&self) -> bool {
        self.failures.is_empty()
    }
}

impl MultiSwarm {
    /// Spawns `count` agents that call `export`, agent `i` with the arguments `args` give it
    /// (see [`Swarm::spawn_batch`]), split among the devices by their free slots: agent `i`
    /// gets the same arguments as on one device (an [`Arg::Index`] rule counts from the whole
    /// batch's first agent). Either every agent is spawned or none is.
    pub fn spawn_batch(
        &mut self,
        export: &str,
        count: u32,
        args: &[Arg<'_>],
    ) -> Result<MultiBatch, SpawnError> {
        // The whole batch's arguments are checked once, before any device spawns.
        self.devices[0].check_batch(export, count, args)?;
        if count == 0 {
            // An empty batch on the first device, whose reports still carry the result types.
            let batch = self.devices[0].spawn_batch(export, 0, args)?;
            return Ok(MultiBatch {
                parts: vec![(0, batch)],
            });
        }
        let shares = self.split(u64::from(count))?;
        let mut parts: Vec<(usize, Batch)> = Vec::new();
        let mut first = 0;
        for (device, share) in shares.into_iter().enumerate() {
            if share == 0 {
                continue;
            }
            let mine: Vec<Arg<'_>> = args
                .iter()
                .map(|arg| arg.part(first, share as usize))
                .collect();
            first += share as usize;
            match self.devices[device].spawn_batch(export, share, &mine) {
                Ok(batch) => parts.push((device, batch)),
                Err(error) => {
                    for (device, batch) in parts {
                        let _ = self.devices[device].kill_batch(batch);
                    }
                    return Err(error);
                }
            }
        }
        Ok(MultiBatch { parts })
    }

    /// Runs the batch's agents, and no others, on every device at once until none has work
    /// left (see [`Swarm::run_batch`]), and joins the columns.
    pub fn run_batch(&mut self, batch: &MultiBatch) -> Result<MultiBatchReport, DispatchError> {
        self.advance_batch(batch, Swarm::run_batch)
    }

    /// Runs the batch's agents, and no others, in one dispatch on every device at once (see
    /// [`Swarm::dispatch_batch`]).
    pub fn dispatch_batch(
        &mut self,
        batch: &MultiBatch,
    ) -> Result<MultiBatchReport, DispatchError> {
        self.advance_batch(batch, Swarm::dispatch_batch)
    }

    fn advance_batch(
        &mut self,
        batch: &MultiBatch,
        work: fn(&mut Swarm, &Batch) -> Result<BatchReport, DispatchError>,
    ) -> Result<MultiBatchReport, DispatchError> {
        let wall = Instant::now();
        // A stale id fails the whole call before any device runs, as on one device.
        for (device, part) in &batch.parts {
            let swarm = &self.devices[*device];
            if let Some(&id) = part.ids().iter().find(|&&id| !swarm.contains(id)) {
                return Err(PoolError::Stale { id }.into());
            }
        }
        self.share_counts();
        let part_of = |device: usize| batch.parts.iter().find(|(d, _)| *d == device);
        let results = each_device(&mut self.devices, |device, swarm| {
            part_of(device).map(|(_, part)| work(swarm, part))
        });
        let mut devices = vec![DeviceDispatch::default(); self.devices.len()];
        let mut failures = Vec::new();
        let mut parts = Vec::with_capacity(batch.parts.len());
        for (device, result) in results.into_iter().enumerate() {
            let Some((_, part)) = part_of(device) else {
                continue;
            };
            match result.expect("a device with a part ran it") {
                Ok(report) => {
                    devices[device] = DeviceDispatch {
                        agents: report.len(),
                        gpu_time: report.gpu_time,
                        host_time: report.host_time,
                        wall_time: report.wall_time,
                    };
                    parts.push(report);
                }
                Err(error) => {
                    // Its agents as they stood: the host's copies need no GPU.
                    parts.push(
                        self.devices[device]
                            .harvest(part)
                            .expect("its ids were live before the dispatch"),
                    );
                    failures.push(DeviceFailure {
                        device,
                        agents: part.ids().to_vec(),
                        error,
                    });
                }
            }
        }
        let mut report = BatchReport::join(parts);
        report.wall_time = wall.elapsed();
        Ok(MultiBatchReport {
            report,
            devices,
            failures,
        })
    }

    /// The batch's columns as of the last dispatch, without GPU work (see
    /// [`Swarm::harvest`]).
    pub fn harvest(&self, batch: &MultiBatch) -> Result<BatchReport, AccessError> {
        let parts = batch
            .parts
            .iter()
            .map(|(device, part)| self.devices[*device].harvest(part))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(BatchReport::join(parts))
    }

    /// Kills the batch's agents, one GPU submission per device (see
    /// [`kill_many`](MultiSwarm::kill_many)).
    pub fn kill_batch(&mut self, batch: MultiBatch) -> Result<(), AccessError> {
        let ids: Vec<AgentId> = batch.ids().collect();
        self.kill_many(&ids)
    }
}
