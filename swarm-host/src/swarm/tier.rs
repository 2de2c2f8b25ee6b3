//! The execution-tier seam: which kernel runs the loaded module's agents. Spawns, dispatches,
//! harvests and host calls are written once; they ask this module for the run kernel.
//!
//! Both kernels bind the same buffers and read the same code image (the compiled blocks' ids
//! are marked in it at load), and the compiled kernel stops only where the interpreter could
//! (see swarm-shader's `compile`), so agents change kernels between any two dispatches.

use std::sync::Mutex;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant};

use swarm_core::{Layout, Tier};
use swarm_gpu::{Kernel, PipelineBuilder};
use swarm_shader::isa::OpGroups;
use swarm_shader::{
    CompileBudget, CompilePlan, KernelOptions, NativeFloats, RUN_ENTRY, ShaderCapabilities,
    compiled_wgsl, validate_wgsl,
};

use super::Swarm;
use crate::LoadError;

/// Dispatch time after which [`Tier::Auto`] compiles the loaded module; once compiled, the
/// dispatch time over which it compares the two kernels' speeds.
pub const AUTO_COMPILE_AFTER: Duration = Duration::from_millis(20);

/// What the compiled tier made of the loaded module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileReport {
    /// Blocks compiled.
    pub blocks: usize,
    /// Instructions in compiled blocks.
    pub compiled_instructions: u32,
    /// Instructions of the module's code: the rest run on the interpreter.
    pub code_instructions: u32,
    /// Generating, validating and building the kernel; where it was [`reused`](Self::reused),
    /// generating its source and finding it.
    pub time: Duration,
    /// Whether the kernel was one this swarm had built for an earlier load of the same code
    /// ([`Swarm::load_module`] again, or [`Swarm::load_store`] with a new state), taken instead
    /// of building it again.
    ///
    /// [`Swarm::load_module`]: crate::Swarm::load_module
    /// [`Swarm::load_store`]: crate::Swarm::load_store
    pub reused: bool,
    /// Where the larger kernel of [`CompileBudget::background_instructions`] stands.
    pub background: Background,
}

/// The larger kernel built in the background ([`CompileBudget::background_instructions`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Background {
    /// None was asked for, or the first kernel holds every block it would.
    None,
    /// It is being built on another thread while the kernel of this report runs.
    Building,
    /// Building it failed; the kernel of this report goes on running the agents.
    Failed(String),
    /// The report is the larger kernel's, which runs the agents now; the first kernel took
    /// `first` to build.
    Ran {
        /// The first kernel's build time.
        first: Duration,
    },
}

/// Where the loaded module's compiled tier stands ([`Swarm::tier_status`]).
#[derive(Clone, Debug, PartialEq)]
pub enum TierStatus {
    /// The interpreter runs the agents, and will ([`Tier::Interpreter`], or a module with
    /// nothing to compile).
    Interpreter,
    /// The interpreter runs the agents until the module has kept the GPU busy for
    /// [`AUTO_COMPILE_AFTER`] ([`Tier::Auto`]).
    Waiting,
    /// The compiled kernel is being built on another thread; the interpreter runs meanwhile.
    Compiling,
    /// The compiled kernel runs the agents.
    Compiled(CompileReport),
    /// Building the compiled kernel failed ([`Tier::Auto`]); the interpreter runs the agents.
    Failed(String),
    /// The compiled kernel ran the module's agents slower than the interpreter had
    /// ([`Tier::Auto`]: fuel per second of GPU time over [`AUTO_COMPILE_AFTER`] each), so the
    /// interpreter runs them again.
    Slower {
        /// The interpreter's fuel per second.
        interpreter: f64,
        /// The compiled kernel's fuel per second.
        compiled: f64,
    },
}

/// Fuel consumed over dispatch time: a kernel's speed on the module's agents.
#[derive(Clone, Copy, Debug, Default)]
struct Rate {
    time: Duration,
    fuel: u64,
}

impl Rate {
    fn per_second(self) -> f64 {
        self.fuel as f64 / self.time.as_secs_f64().max(1e-9)
    }
}

/// The compiled tier of the loaded module.
pub(super) struct CompiledTier {
    /// The plan of the kernel built first.
    plan: CompilePlan,
    /// The plan of the larger kernel built in the background once the first runs, whose
    /// block ids the code image carries (the first kernel's blocks keep theirs in it).
    later: Option<CompilePlan>,
    /// That larger kernel being built.
    upgrade: Option<Building>,
    /// The speed of each kernel on the module's agents so far.
    interpreted: Rate,
    compiled: Rate,
    state: State,
}

enum State {
    Interpreter,
    Waiting,
    Compiling(Building),
    Ready(Kernel, CompileReport),
    Failed(String),
    Slower(f64, f64),
}

/// A compiled kernel being built on another thread. Dropping it (the build is taken, or the
/// swarm or its module goes) waits for the thread: a thread left inside the driver while the
/// process exits can crash it (it did, on NVIDIA's Vulkan driver).
struct Building {
    /// (In a mutex, so the swarm stays `Sync`.)
    receive: Mutex<Receiver<Result<(Kernel, CompileReport), LoadError>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Building {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            // A panic there has already been reported as the channel's disconnection.
            let _ = thread.join();
        }
    }
}

/// Most compiled kernels a swarm keeps for later loads of the same code.
const KEPT_KERNELS: usize = 4;

/// The compiled kernels a swarm built last, by their source: a module or store loaded again
/// runs on the kernel built the first time, instead of waiting seconds for the driver to build
/// the same one. Shared with the threads that build in the background.
#[derive(Clone, Default)]
pub(super) struct BuiltKernels(std::sync::Arc<Mutex<std::collections::VecDeque<(String, Kernel)>>>);

impl BuiltKernels {
    /// The kernel built from `source`, if it is kept; it becomes the most recent.
    fn find(&self, source: &str) -> Option<Kernel> {
        let mut kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let at = kept.iter().position(|(s, _)| s == source)?;
        let entry = kept.remove(at).expect("found above");
        let kernel = entry.1.clone();
        kept.push_back(entry);
        Some(kernel)
    }

    /// Keeps `kernel`, built from `source`, in place of the least recent beyond
    /// [`KEPT_KERNELS`].
    fn keep(&self, source: String, kernel: Kernel) {
        let mut kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if kept.len() == KEPT_KERNELS {
            kept.pop_front();
        }
        kept.push_back((source, kernel));
    }
}

/// What building a compiled kernel needs, owned, so it can happen on another thread.
struct Job {
    builder: PipelineBuilder,
    capabilities: ShaderCapabilities,
    layout: Layout,
    groups: OpGroups,
    plan: CompilePlan,
    options: KernelOptions,
    like: Kernel,
    built: BuiltKernels,
}

impl Job {
    fn run(self) -> Result<(Kernel, CompileReport), LoadError> {
        let started = Instant::now();
        // The source holds everything the kernel is made of (the interpreter of `groups`, the
        // layout, the blocks), and one swarm binds every kernel alike.
        let source = compiled_wgsl(&self.layout, self.groups, &self.plan, self.options);
        let reused = self.built.find(&source);
        let kernel = match &reused {
            Some(kernel) => kernel.clone(),
            None => {
                let wgsl = validate_wgsl(
                    &format!("swarm compiled kernel ({})", self.groups.name()),
                    source.clone(),
                    self.capabilities,
                )?;
                let mut kernels =
                    self.builder
                        .create_kernels_like(&wgsl, &[RUN_ENTRY], &self.like)?;
                let kernel = kernels.pop().expect("one kernel");
                self.built.keep(source, kernel.clone());
                kernel
            }
        };
        let (compiled_instructions, code_instructions) = self.plan.coverage();
        let report = CompileReport {
            blocks: self.plan.blocks(),
            compiled_instructions,
            code_instructions,
            time: started.elapsed(),
            reused: reused.is_some(),
            background: Background::None,
        };
        Ok((kernel, report))
    }
}

impl CompiledTier {
    /// The plans for `program` under `tier`: the first kernel's within `budget`, and the
    /// larger one's within its background budget, if that holds more blocks. Their blocks
    /// compute the float widths of `floats` on the GPU's float unit.
    pub(super) fn plan(
        program: &swarm_shader::Program,
        tier: Tier,
        budget: &CompileBudget,
        floats: NativeFloats,
    ) -> Self {
        let (plan, later) = match (tier, budget.background()) {
            (Tier::Interpreter, _) => (CompilePlan::default(), None),
            (Tier::Auto | Tier::Compiled, None) => {
                (CompilePlan::new(program, budget, floats), None)
            }
            (Tier::Auto | Tier::Compiled, Some(larger)) => {
                let full = CompilePlan::new(program, &larger, floats);
                let first = full.within(budget.instructions, budget.blocks);
                if full.blocks() > first.blocks() {
                    (first, Some(full))
                } else {
                    (first, None)
                }
            }
        };
        let state = if plan.blocks() == 0 {
            State::Interpreter
        } else {
            State::Waiting
        };
        Self {
            plan,
            later,
            upgrade: None,
            interpreted: Rate::default(),
            compiled: Rate::default(),
            state,
        }
    }

    /// Writes the blocks' ids into the code image: the larger plan's, where there is one.
    pub(super) fn mark(&self, image: &mut [u32]) {
        self.later.as_ref().unwrap_or(&self.plan).mark(image);
    }

    /// Takes the larger kernel once built, or the failure of its build, into the state.
    /// With `wait`, waits for the build.
    fn take_upgrade(&mut self, wait: bool) {
        let Some(building) = &self.upgrade else {
            return;
        };
        let receive = building.receive.lock().unwrap_or_else(|p| p.into_inner());
        let received = if wait {
            receive.recv().map_err(|_| TryRecvError::Disconnected)
        } else {
            receive.try_recv()
        };
        drop(receive);
        let failed = match received {
            Err(TryRecvError::Empty) => return,
            Ok(Ok((kernel, mut report))) => {
                // (A first kernel found slower than the interpreter meanwhile stays retired.)
                if let State::Ready(_, first) = &self.state {
                    report.background = Background::Ran { first: first.time };
                    self.state = State::Ready(kernel, report);
                    self.plan = self.later.take().expect("a larger plan is being built");
                }
                None
            }
            Ok(Err(error)) => Some(error.to_string()),
            Err(TryRecvError::Disconnected) => Some("the compiling thread stopped".to_owned()),
        };
        self.upgrade = None;
        if let Some(reason) = failed {
            self.later = None;
            if let State::Ready(_, report) = &mut self.state {
                report.background = Background::Failed(reason);
            }
        }
    }
}

impl Swarm {
    fn compile_job(&self, groups: OpGroups, plan: &CompilePlan) -> Job {
        Job {
            builder: self.gpu.pipeline_builder(),
            capabilities: self.gpu.capabilities(),
            layout: self.layout.clone(),
            groups,
            plan: plan.clone(),
            options: self.kernel_options(true),
            like: self.kernels_of(groups).run.clone(),
            built: self.built_kernels.clone(),
        }
    }

    /// Before a dispatch: builds the compiled kernel now ([`Tier::Compiled`], first
    /// dispatch), takes it if it has become ready, or starts building it on another thread
    /// ([`Tier::Auto`]) once the module has been busy long enough.
    pub(super) fn poll_tier(&mut self) -> Result<(), LoadError> {
        let Some(module) = self.module.as_ref() else {
            return Ok(());
        };
        match &module.tier.state {
            State::Waiting if self.config.tier == Tier::Compiled => {
                let job = self.compile_job(module.op_groups, &module.tier.plan);
                let (kernel, report) = job.run()?;
                self.module.as_mut().expect("loaded").tier.state = State::Ready(kernel, report);
            }
            State::Ready(..)
                if self.config.tier == Tier::Auto
                    && module.tier.compiled.time >= AUTO_COMPILE_AFTER
                    && module.tier.compiled.per_second() < module.tier.interpreted.per_second() =>
            {
                let tier = &module.tier;
                let state =
                    State::Slower(tier.interpreted.per_second(), tier.compiled.per_second());
                self.module.as_mut().expect("loaded").tier.state = state;
            }
            State::Waiting
                if self.config.tier == Tier::Auto
                    && module.tier.interpreted.time >= AUTO_COMPILE_AFTER =>
            {
                let job = self.compile_job(module.op_groups, &module.tier.plan);
                let (send, receive) = std::sync::mpsc::channel();
                let thread = std::thread::spawn(move || {
                    let _ = send.send(job.run());
                });
                self.module.as_mut().expect("loaded").tier.state = State::Compiling(Building {
                    receive: Mutex::new(receive),
                    thread: Some(thread),
                });
            }
            State::Compiling(building) => {
                let received = building
                    .receive
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .try_recv();
                let state = match received {
                    Ok(Ok((kernel, report))) => State::Ready(kernel, report),
                    Ok(Err(error)) => State::Failed(error.to_string()),
                    Err(TryRecvError::Empty) => return Ok(()),
                    Err(TryRecvError::Disconnected) => {
                        State::Failed("the compiling thread stopped".to_owned())
                    }
                };
                self.module.as_mut().expect("loaded").tier.state = state;
            }
            _ => {}
        }
        self.poll_upgrade();
        Ok(())
    }

    /// Once the first compiled kernel runs: starts building the larger one on another thread,
    /// or takes it when it is ready. Agents move to it at the next dispatch, as they move
    /// between tiers: both kernels read the one code image.
    fn poll_upgrade(&mut self) {
        let Some(module) = self.module.as_ref() else {
            return;
        };
        let tier = &module.tier;
        if self.config.tier == Tier::Interpreter || !matches!(tier.state, State::Ready(..)) {
            return;
        }
        if tier.upgrade.is_some() {
            self.module
                .as_mut()
                .expect("loaded")
                .tier
                .take_upgrade(false);
            return;
        }
        let Some(later) = &tier.later else {
            return;
        };
        let job = self.compile_job(module.op_groups, later);
        let (send, receive) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let _ = send.send(job.run());
        });
        let tier = &mut self.module.as_mut().expect("loaded").tier;
        tier.upgrade = Some(Building {
            receive: Mutex::new(receive),
            thread: Some(thread),
        });
        if let State::Ready(_, report) = &mut tier.state {
            report.background = Background::Building;
        }
    }

    /// Counts a dispatch's time and fuel towards the speed of the kernel that ran it.
    pub(super) fn note_busy(&mut self, time: Duration, fuel: u64) {
        let compiled = self.config.tier != Tier::Interpreter;
        if let Some(module) = self.module.as_mut() {
            let rate = match module.tier.state {
                State::Ready(..) if compiled => &mut module.tier.compiled,
                _ => &mut module.tier.interpreted,
            };
            rate.time += time;
            rate.fuel += fuel;
        }
    }

    /// The kernel that runs the loaded module's agents now.
    pub(super) fn run_kernel(&self) -> &Kernel {
        let module = self
            .module
            .as_ref()
            .expect("kernels run with a module loaded");
        match &module.tier.state {
            State::Ready(kernel, _) if self.config.tier != Tier::Interpreter => kernel,
            _ => &self.kernels_of(module.op_groups).run,
        }
    }

    /// Changes the tier from the next dispatch on ([`SwarmConfig::tier`]): agents move
    /// between kernels at any dispatch. A compiled kernel already built is kept for a later
    /// change back. A module loaded on [`Tier::Interpreter`] has no compiled blocks marked in
    /// its code, so only a later load can compile it.
    ///
    /// [`SwarmConfig::tier`]: swarm_core::SwarmConfig::tier
    pub fn set_tier(&mut self, tier: Tier) {
        self.config.tier = tier;
    }

    /// The loaded module's instructions in compiled blocks, and in its code (`None` before a
    /// module is loaded; no block on [`Tier::Interpreter`]).
    pub fn compile_coverage(&self) -> Option<(u32, u32)> {
        self.module.as_ref().map(|m| m.tier.plan.coverage())
    }

    /// Where the loaded module's compiled tier stands; `None` before a module is loaded.
    pub fn tier_status(&self) -> Option<TierStatus> {
        let module = self.module.as_ref()?;
        Some(match &module.tier.state {
            _ if self.config.tier == Tier::Interpreter => TierStatus::Interpreter,
            State::Interpreter => TierStatus::Interpreter,
            State::Waiting if self.config.tier == Tier::Auto => TierStatus::Waiting,
            State::Waiting => TierStatus::Interpreter,
            State::Compiling(_) => TierStatus::Compiling,
            State::Ready(_, report) => TierStatus::Compiled(report.clone()),
            State::Failed(reason) => TierStatus::Failed(reason.clone()),
            State::Slower(interpreter, compiled) => TierStatus::Slower {
                interpreter: *interpreter,
                compiled: *compiled,
            },
        })
    }

    /// Waits until the compiled kernels being built are ready (or failed), the larger one of
    /// [`CompileBudget::background_instructions`] included, and runs the last from the next
    /// dispatch on. Returns the status it ends in.
    pub fn wait_for_tier(&mut self) -> Option<TierStatus> {
        while matches!(
            self.module.as_ref().map(|m| &m.tier.state),
            Some(State::Compiling(_))
        ) {
            if let Some(State::Compiling(building)) = self.module.as_ref().map(|m| &m.tier.state) {
                let received = building
                    .receive
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .recv();
                let state = match received {
                    Ok(Ok((kernel, report))) => State::Ready(kernel, report),
                    Ok(Err(error)) => State::Failed(error.to_string()),
                    Err(_) => State::Failed("the compiling thread stopped".to_owned()),
                };
                self.module.as_mut().expect("loaded").tier.state = state;
            }
        }
        if let Some(module) = self.module.as_mut() {
            module.tier.take_upgrade(true);
        }
        self.tier_status()
    }
}
