//! `MultiSwarm`: one swarm across several devices (every GPU of a host, or several logical
//! devices of one adapter). Each device is a [`Swarm`] whose agents' ids name its own range of
//! slots (`swarm_core::Placement`), so an id routes to its device without a table, host
//! functions and WASI see ids unique across the devices, and `{id}` means the same as on one
//! device. A dispatch submits to every device at once, from a thread each.

mod batch;

pub use batch::{MultiBatch, MultiBatchReport};

use std::collections::HashMap;
use std::time::{Duration, Instant};

use swarm_core::{AgentId, Placement, PlacementError, PoolError, SwarmConfig, Tier};
use swarm_gpu::{AdapterRequest, every_adapter};
use swarm_shader::program::ValType;

use crate::{
    AccessError, AgentReport, CreateError, DispatchError, Imports, LoadError, SpawnError,
    StoreState, Swarm, TierStatus, Value,
};

/// One device's agents of a list, and their positions in it.
type Group = (Vec<AgentId>, Vec<usize>);

/// One swarm spread over several devices: agents are placed across them by their free slots,
/// each dispatch runs every device at once, and spawn, kill, memory access and host calls go to
/// the device that holds the agent. A device that fails (lost, say) fails for its own agents
/// only: it takes no new agents, its agents' operations get its error, and killing them frees
/// their slots.
///
/// Host functions are called from each device's thread, a batch per device, so they may run at
/// once (they are `Send + Sync`).
///
/// ```no_run
/// use swarm_host::{Imports, MultiSwarm, SwarmConfig, Value};
///
/// let wasm = wat::parse_str(r#"(module (func (export "sq") (param i32) (result i32)
///     local.get 0 local.get 0 i32.mul))"#).unwrap();
/// // Every GPU of the host, each holding up to `max_agents` agents.
/// let mut swarm = MultiSwarm::new(SwarmConfig::default())?;
/// swarm.load_module(&wasm, &Imports::new())?;
/// let ids = swarm.spawn_many("sq", (0..1_000).map(|i| [Value::I32(i)]))?;
/// let report = swarm.run()?;
/// assert!(report.failures.is_empty());
/// assert_eq!(report.agents.len(), ids.len());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct MultiSwarm {
    devices: Vec<Swarm>,
    placement: Placement,
}

impl std::fmt::Debug for MultiSwarm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MultiSwarm")
            .field("devices", &self.devices)
            .finish_non_exhaustive()
    }
}

/// What one device did in a dispatch of a [`MultiSwarm`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceDispatch {
    /// How many of the report's agents ran on the device.
    pub agents: usize,
    /// GPU time of its dispatches, when the adapter has timestamps.
    pub gpu_time: Option<Duration>,
    /// Time its thread spent answering host calls.
    pub host_time: Duration,
    /// Wall time of its part, on its own thread.
    pub wall_time: Duration,
}

/// A device whose dispatch failed: its agents are not in the report; the other devices' are.
#[derive(Debug)]
pub struct DeviceFailure {
    /// The device's index.
    pub device: usize,
    /// The agents it held (or was asked to run) that have no report.
    pub agents: Vec<AgentId>,
    /// Why it failed.
    pub error: DispatchError,
}

/// What a dispatch of a [`MultiSwarm`] did.
#[derive(Debug)]
pub struct MultiDispatchReport {
    /// Every agent that took part on a device that did not fail: in id order after
    /// [`MultiSwarm::dispatch`] and [`MultiSwarm::run`], in the order asked for after
    /// [`MultiSwarm::dispatch_agents`] and [`MultiSwarm::run_agents`].
    pub agents: Vec<AgentReport>,
    /// Each device's part, by device index (zeros for a device with nothing to run or that
    /// failed).
    pub devices: Vec<DeviceDispatch>,
    /// The devices that failed.
    pub failures: Vec<DeviceFailure>,
    /// Wall time of the whole operation, all devices together.
    pub wall_time: Duration,
}

impl MultiDispatchReport {
    /// The longest GPU time of any device: the devices run at once. `None` when no device
    /// timed its dispatches.
    pub fn gpu_time(&self) -> Option<Duration> {
        self.devices.iter().filter_map(|d| d.gpu_time).max()
    }

    /// Whether every device ran: no failure.
    pub fn is_complete(&self) -> bool {
        self.failures.is_empty()
    }

    /// Folds a later dispatch into this report: its agents replace these, each device's times
    /// add up, and its failures join these.
    pub fn absorb(&mut self, next: MultiDispatchReport) {
        for (device, part) in self.devices.iter_mut().zip(next.devices) {
            device.agents = part.agents;
            device.host_time += part.host_time;
            device.wall_time += part.wall_time;
            device.gpu_time = crate::swarm::add_gpu_times(device.gpu_time, part.gpu_time);
        }
        self.agents = next.agents;
        self.failures.extend(next.failures);
        self.wall_time += next.wall_time;
    }
}

impl MultiSwarm {
    /// A swarm on every GPU of the host that `WGPU_BACKEND` and `WGPU_ADAPTER_NAME` allow
    /// (see [`every_adapter`]: the GPUs of the best kind present, on one backend), each with
    /// `config` (so each holds up to `config.max_agents` agents).
    pub fn new(config: SwarmConfig) -> Result<Self, CreateError> {
        let requests = every_adapter(&AdapterRequest::from_env())?;
        // The ids start at the first device's `first_slot`; the others follow on.
        Self::with_devices(requests.into_iter().enumerate().map(|(device, request)| {
            let first_slot = if device == 0 { config.first_slot } else { 0 };
            (
                SwarmConfig {
                    first_slot,
                    ..config.clone()
                },
                request,
            )
        }))
    }

    /// A swarm on these devices, each opened from its request with its own configuration.
    /// Two requests for the same adapter open two logical devices of it. The ids start at the
    /// first device's `first_slot` (the others' must be 0), each device's after the last's.
    pub fn with_devices(
        devices: impl IntoIterator<Item = (SwarmConfig, AdapterRequest)>,
    ) -> Result<Self, CreateError> {
        let devices: Vec<(SwarmConfig, AdapterRequest)> = devices.into_iter().collect();
        let capacities: Vec<u32> = devices.iter().map(|(c, _)| c.max_agents).collect();
        if let Some(device) = (1..devices.len()).find(|&d| devices[d].0.first_slot != 0) {
            return Err(PlacementError::LaterFirstSlot { device }.into());
        }
        let first = devices.first().map_or(0, |(c, _)| c.first_slot);
        let placement = Placement::starting_at(first, &capacities)?;
        let count = devices.len();
        let devices = devices
            .into_iter()
            .enumerate()
            .map(|(device, (config, request))| {
                Swarm::on_device(config, &request, placement.base(device)).map_err(|error| {
                    // One device's error needs no device number.
                    if count == 1 {
                        error
                    } else {
                        CreateError::Device {
                            device,
                            error: Box::new(error),
                        }
                    }
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { devices, placement })
    }

    /// The number of devices.
    pub fn device_count(&self) -> usize {
        self.devices.len()
    }

    /// Device `device`'s swarm: its adapter, configuration and agents.
    pub fn device(&self, device: usize) -> &Swarm {
        &self.devices[device]
    }

    /// Destroys device `device` as a driver losing it would (see [`Swarm::lose_device`]). For
    /// tests.
    #[doc(hidden)]
    pub fn lose_device(&mut self, device: usize) {
        self.devices[device].lose_device();
    }

    /// Each device's share of the id space.
    pub fn placement(&self) -> &Placement {
        &self.placement
    }

    /// The device that holds `id`'s agent, if one of the devices issued it (it may be stale).
    pub fn device_of(&self, id: AgentId) -> Option<usize> {
        self.placement.device_of(id)
    }

    /// The swarm of the device that issued `id`; a stale error for an id of none.
    fn owner(&mut self, id: AgentId) -> Result<&mut Swarm, PoolError> {
        match self.placement.device_of(id) {
            Some(device) => Ok(&mut self.devices[device]),
            None => Err(PoolError::Stale { id }),
        }
    }

    /// `ids` by device, each with its positions in `ids`; every id must be live.
    fn by_device(&self, ids: &[AgentId]) -> Result<Vec<Group>, PoolError> {
        let mut groups = vec![(Vec::new(), Vec::new()); self.devices.len()];
        for (position, &id) in ids.iter().enumerate() {
            let device = self
                .placement
                .device_of(id)
                .filter(|&d| self.devices[d].contains(id))
                .ok_or(PoolError::Stale { id })?;
            groups[device].0.push(id);
            groups[device].1.push(position);
        }
        Ok(groups)
    }

    /// Live agents, over every device.
    pub fn agent_count(&self) -> u32 {
        self.devices.iter().map(Swarm::agent_count).sum()
    }

    /// The ids of the live agents, in id order (device by device).
    pub fn live_agents(&self) -> impl Iterator<Item = AgentId> + '_ {
        self.devices.iter().flat_map(Swarm::live_agents)
    }

    /// Loads a module on every device, building their kernels at once (see
    /// [`Swarm::load_module`]), once no device has live agents. A device that fails to load
    /// (out of memory, say) fails the call, and the others have loaded it: load again.
    pub fn load_module(&mut self, wasm: &[u8], imports: &Imports) -> Result<(), LoadError> {
        if self.agent_count() > 0 {
            return Err(LoadError::AgentsAlive(self.agent_count()));
        }
        let results = each_device(&mut self.devices, |_, swarm| {
            Some(swarm.load_module(wasm, imports))
        });
        results.into_iter().flatten().collect()
    }

    /// The parameter types of an exported function; `None` before a module is loaded or for
    /// no such export.
    pub fn export_params(&self, export: &str) -> Option<&[ValType]> {
        self.devices[0].export_params(export)
    }

    /// The result types of an exported function.
    pub fn export_results(&self, export: &str) -> Option<&[ValType]> {
        self.devices[0].export_results(export)
    }

    /// Spawns an agent that calls `export` with `args`, on the device with the most free
    /// slots (see [`spawn_many`](Self::spawn_many)).
    pub fn spawn(&mut self, export: &str, args: &[Value]) -> Result<AgentId, SpawnError> {
        Ok(self.spawn_many(export, [args])?[0])
    }

    /// Spawns one agent per item of `args`, each calling `export` with its item, or none if
    /// any fails. The agents split among the devices in proportion to their free slots (a
    /// lost device has none; [`Placement::split`]), in order: the first share on device 0,
    /// the next on device 1, and so on. The ids come in the order of `args`.
    pub fn spawn_many<I>(&mut self, export: &str, args: I) -> Result<Vec<AgentId>, SpawnError>
    where
        I: IntoIterator,
        I::Item: AsRef<[Value]>,
    {
        let args: Vec<I::Item> = args.into_iter().collect();
        if args.is_empty() {
            // Still a module and an export to check.
            return self.devices[0].spawn_many(export, args);
        }
        let shares = self.split(args.len() as u64)?;
        let mut ids = Vec::with_capacity(args.len());
        let mut rest = args.as_slice();
        for (device, share) in shares.into_iter().enumerate() {
            if share == 0 {
                continue;
            }
            let (mine, later) = rest.split_at(share as usize);
            rest = later;
            match self.devices[device].spawn_many(export, mine) {
                Ok(spawned) => ids.extend(spawned),
                Err(error) => {
                    self.undo_spawns(&ids);
                    return Err(error);
                }
            }
        }
        Ok(ids)
    }

    /// Spawns an agent that only instantiates the module (see [`Swarm::spawn_instance`]).
    pub fn spawn_instance(&mut self) -> Result<AgentId, SpawnError> {
        let device = self.device_for_one()?;
        self.devices[device].spawn_instance()
    }

    /// Spawns an agent with `memory` written at `offset` of its memory 0 before it runs (see
    /// [`Swarm::spawn_with_memory`]).
    pub fn spawn_with_memory(
        &mut self,
        export: &str,
        args: &[Value],
        offset: u64,
        memory: &[u8],
    ) -> Result<AgentId, SpawnError> {
        let device = self.device_for_one()?;
        self.devices[device].spawn_with_memory(export, args, offset, memory)
    }

    /// Starts a call of `export` in a live agent that has finished its last call (see
    /// [`Swarm::call`]).
    pub fn call(&mut self, id: AgentId, export: &str, args: &[Value]) -> Result<(), SpawnError> {
        self.owner(id)?.call(id, export, args)
    }

    /// Starts a call of the store's function `func` in a live agent (see
    /// [`Swarm::call_func`]).
    pub fn call_func(&mut self, id: AgentId, func: u32, args: &[Value]) -> Result<(), SpawnError> {
        self.owner(id)?.call_func(id, func, args)
    }

    /// Each device's share of `count` new agents: none for a lost device.
    fn split(&self, count: u64) -> Result<Vec<u32>, PoolError> {
        let free: Vec<u32> = self.devices.iter().map(Swarm::free_slots).collect();
        self.placement.split(&free, count)
    }

    /// The device that takes one new agent.
    fn device_for_one(&self) -> Result<usize, PoolError> {
        let shares = self.split(1)?;
        Ok(shares
            .iter()
            .position(|&s| s == 1)
            .expect("one device takes it"))
    }

    /// Kills the agents of a spawn that failed on a later device. A device that fails here
    /// has failed already; its agents stay, as a failed single-device spawn's would.
    fn undo_spawns(&mut self, ids: &[AgentId]) {
        let _ = self.kill_many(ids);
    }

    /// Runs one fuel slice of every runnable agent on every device at once (see
    /// [`Swarm::dispatch`]).
    pub fn dispatch(&mut self) -> Result<MultiDispatchReport, DispatchError> {
        Ok(self.on_every_device(Swarm::dispatch))
    }

    /// Dispatches every device at once until no agent is runnable (see [`Swarm::run`]).
    pub fn run(&mut self) -> Result<MultiDispatchReport, DispatchError> {
        Ok(self.on_every_device(Swarm::run))
    }

    /// Runs one fuel slice of the agents `ids` only (see [`Swarm::dispatch_agents`]); the
    /// report lists them in the order asked for. A stale id fails the whole call before any
    /// device runs.
    pub fn dispatch_agents(
        &mut self,
        ids: &[AgentId],
    ) -> Result<MultiDispatchReport, DispatchError> {
        self.on_agents(ids, Swarm::dispatch_agents)
    }

    /// Dispatches the agents `ids` until none of them is runnable (see
    /// [`Swarm::run_agents`]).
    pub fn run_agents(&mut self, ids: &[AgentId]) -> Result<MultiDispatchReport, DispatchError> {
        self.on_agents(ids, Swarm::run_agents)
    }

    /// Tells each device how many agents the others hold, for `swarm.agent_count`: the whole
    /// swarm's agents.
    fn share_counts(&mut self) {
        let total = self.agent_count();
        for swarm in &mut self.devices {
            let own = swarm.agent_count();
            swarm.set_agents_elsewhere(total - own);
        }
    }

    /// `work` on every device with live agents, at once.
    fn on_every_device(
        &mut self,
        work: fn(&mut Swarm) -> Result<crate::DispatchReport, DispatchError>,
    ) -> MultiDispatchReport {
        let start = Instant::now();
        self.share_counts();
        let results = each_device(&mut self.devices, |_, swarm| {
            (swarm.agent_count() > 0).then(|| work(swarm))
        });
        let mut report = self.gather(results, |_, swarm| swarm.live_agents().collect());
        report.wall_time = start.elapsed();
        report
    }

    /// `work` on each device's agents of `ids`, at once; the report in the order of `ids`.
    fn on_agents(
        &mut self,
        ids: &[AgentId],
        work: fn(&mut Swarm, &[AgentId]) -> Result<crate::DispatchReport, DispatchError>,
    ) -> Result<MultiDispatchReport, DispatchError> {
        let start = Instant::now();
        let groups = self.by_device(ids)?;
        self.share_counts();
        let results = each_device(&mut self.devices, |device, swarm| {
            let mine = &groups[device].0;
            (!mine.is_empty()).then(|| work(swarm, mine))
        });
        let mut report = self.gather(results, |device, _| groups[device].0.clone());
        let position: HashMap<AgentId, usize> =
            ids.iter().enumerate().map(|(k, id)| (*id, k)).collect();
        report.agents.sort_by_key(|a| position[&a.id]);
        report.wall_time = start.elapsed();
        Ok(report)
    }

    /// The devices' reports as one, a failed device's agents (`agents_of`) in its failure.
    fn gather(
        &self,
        results: Vec<Option<Result<crate::DispatchReport, DispatchError>>>,
        agents_of: impl Fn(usize, &Swarm) -> Vec<AgentId>,
    ) -> MultiDispatchReport {
        let mut report = MultiDispatchReport {
            agents: Vec::new(),
            devices: vec![DeviceDispatch::default(); self.devices.len()],
            failures: Vec::new(),
            wall_time: Duration::ZERO,
        };
        for (device, result) in results.into_iter().enumerate() {
            match result {
                None => {}
                Some(Ok(part)) => {
                    report.devices[device] = DeviceDispatch {
                        agents: part.agents.len(),
                        gpu_time: part.gpu_time,
                        host_time: part.host_time,
                        wall_time: part.wall_time,
                    };
                    report.agents.extend(part.agents);
                }
                Some(Err(error)) => report.failures.push(DeviceFailure {
                    device,
                    agents: agents_of(device, &self.devices[device]),
                    error,
                }),
            }
        }
        report
    }

    /// Kills an agent (see [`Swarm::kill`]).
    pub fn kill(&mut self, id: AgentId) -> Result<(), AccessError> {
        self.owner(id)?.kill(id)
    }

    /// Kills several agents, or none if any id is stale (see [`Swarm::kill_many`]).
    ///
    /// Each device kills its agents in one submission; a device that fails there does not
    /// stop the others, and the first failure is returned.
    pub fn kill_many(&mut self, ids: &[AgentId]) -> Result<(), AccessError> {
        let groups = self.by_device(ids)?;
        let mut first_error = None;
        for (swarm, (ids, _)) in self.devices.iter_mut().zip(groups) {
            if !ids.is_empty()
                && let Err(error) = swarm.kill_many(&ids)
            {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Reads `len` bytes at `offset` of an agent's memory 0 (see [`Swarm::read_memory`]).
    pub fn read_memory(
        &mut self,
        id: AgentId,
        offset: u64,
        len: u64,
    ) -> Result<Vec<u8>, AccessError> {
        self.owner(id)?.read_memory(id, offset, len)
    }

    /// Writes `bytes` at `offset` of an agent's memory 0 (see [`Swarm::write_memory`]).
    pub fn write_memory(
        &mut self,
        id: AgentId,
        offset: u64,
        bytes: &[u8],
    ) -> Result<(), AccessError> {
        self.owner(id)?.write_memory(id, offset, bytes)
    }

    /// An agent's whole state (see [`Swarm::snapshot`]).
    pub fn snapshot(&mut self, id: AgentId) -> Result<StoreState, AccessError> {
        self.owner(id)?.snapshot(id)
    }

    /// The current value of an agent's exported global (see [`Swarm::global`]).
    pub fn global(&mut self, id: AgentId, name: &str) -> Result<Value, AccessError> {
        self.owner(id)?.global(id, name)
    }

    /// An agent's output bytes (see [`Swarm::output`]).
    pub fn output(&mut self, id: AgentId) -> Result<Vec<u8>, AccessError> {
        self.owner(id)?.output(id)
    }

    /// The output bytes of several agents, one readback per device, in the order of `ids`.
    pub fn outputs(&mut self, ids: &[AgentId]) -> Result<Vec<Vec<u8>>, AccessError> {
        self.per_device(ids, Swarm::outputs)
    }

    /// What the GPU gathered of each of `ids`' streams, taken (see
    /// [`Swarm::take_stream_records`]), from every device, with the first device's error: a
    /// device that fails leaves its agents' records empty (and on the device), the others'
    /// are taken. An id of no device has none.
    pub(crate) fn take_stream_records(
        &mut self,
        ids: &[AgentId],
    ) -> (Vec<Vec<u8>>, Option<AccessError>) {
        // Killed agents' records outlive them: route by id alone.
        let mut groups: Vec<Group> = vec![(Vec::new(), Vec::new()); self.devices.len()];
        for (position, &id) in ids.iter().enumerate() {
            if let Some(device) = self.placement.device_of(id) {
                groups[device].0.push(id);
                groups[device].1.push(position);
            }
        }
        let mut records = vec![Vec::new(); ids.len()];
        let mut first_error = None;
        for (swarm, (ids, positions)) in self.devices.iter_mut().zip(groups) {
            if ids.is_empty() {
                continue;
            }
            match swarm.take_stream_records(&ids) {
                Ok(taken) => {
                    for (bytes, position) in taken.into_iter().zip(positions) {
                        records[position] = bytes;
                    }
                }
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        (records, first_error)
    }

    /// `work` on each device's agents of `ids`, its answers put back in the order of `ids`.
    fn per_device<T: Default>(
        &mut self,
        ids: &[AgentId],
        work: fn(&mut Swarm, &[AgentId]) -> Result<Vec<T>, AccessError>,
    ) -> Result<Vec<T>, AccessError> {
        let groups = self.by_device(ids)?;
        let mut answers: Vec<T> = std::iter::repeat_with(T::default).take(ids.len()).collect();
        for (swarm, (ids, positions)) in self.devices.iter_mut().zip(groups) {
            if ids.is_empty() {
                continue;
            }
            for (answer, position) in work(swarm, &ids)?.into_iter().zip(positions) {
                answers[position] = answer;
            }
        }
        Ok(answers)
    }

    /// Moves every device to `tier` from the next dispatch on (see [`Swarm::set_tier`]).
    pub fn set_tier(&mut self, tier: Tier) {
        for swarm in &mut self.devices {
            swarm.set_tier(tier);
        }
    }

    /// Waits for every device's compiled kernel, at once (see [`Swarm::wait_for_tier`]); each
    /// device's status, by device index.
    pub fn wait_for_tier(&mut self) -> Vec<Option<TierStatus>> {
        each_device(&mut self.devices, |_, swarm| Some(swarm.wait_for_tier()))
            .into_iter()
            .map(Option::flatten)
            .collect()
    }

    /// Waits until every spawn and write so far has reached every device.
    pub fn sync(&mut self) -> Result<(), DispatchError> {
        self.devices.iter_mut().try_for_each(Swarm::sync)
    }
}

/// Runs `work` on every device at once, a thread each (on the caller's thread when there is
/// one device), and returns each device's answer by device index.
fn each_device<T: Send>(
    devices: &mut [Swarm],
    work: impl Fn(usize, &mut Swarm) -> Option<T> + Sync,
) -> Vec<Option<T>> {
    if let [swarm] = devices {
        return vec![work(0, swarm)];
    }
    std::thread::scope(|scope| {
        let work = &work;
        let threads: Vec<_> = devices
            .iter_mut()
            .enumerate()
            .map(|(device, swarm)| scope.spawn(move || work(device, swarm)))
            .collect();
        threads
            .into_iter()
            .map(|thread| match thread.join() {
                Ok(answer) => answer,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}
