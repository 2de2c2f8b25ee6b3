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
    /// Generating, validating and building the kernel.
    pub time: Duration,
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
    plan: CompilePlan,
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

/// What building a compiled kernel needs, owned, so it can happen on another thread.
struct Job {
    builder: PipelineBuilder,
    capabilities: ShaderCapabilities,
    layout: Layout,
    groups: OpGroups,
    plan: CompilePlan,
    options: KernelOptions,
    like: Kernel,
}

impl Job {
    fn run(self) -> Result<(Kernel, CompileReport), LoadError> {
        let started = Instant::now();
        let wgsl = validate_wgsl(
            &format!("swarm compiled kernel ({})", self.groups.name()),
            compiled_wgsl(&self.layout, self.groups, &self.plan, self.options),
            self.capabilities,
        )?;
        let mut kernels = self
            .builder
            .create_kernels_like(&wgsl, &[RUN_ENTRY], &self.like)?;
        let (compiled_instructions, code_instructions) = self.plan.coverage();
        let report = CompileReport {
            blocks: self.plan.blocks(),
            compiled_instructions,
            code_instructions,
            time: started.elapsed(),
        };
        Ok((kernels.pop().expect("one kernel"), report))
    }
}

impl CompiledTier {
    /// The plan for `program` under `tier`, whose block ids go into the code image; its
    /// blocks compute the float widths of `floats` on the GPU's float unit.
    pub(super) fn plan(
        program: &swarm_shader::Program,
        tier: Tier,
        budget: &CompileBudget,
        floats: NativeFloats,
    ) -> Self {
        let plan = match tier {
            Tier::Interpreter => CompilePlan::default(),
            Tier::Auto | Tier::Compiled => CompilePlan::new(program, budget, floats),
        };
        let state = if plan.blocks() == 0 {
            State::Interpreter
        } else {
            State::Waiting
        };
        Self {
            plan,
            interpreted: Rate::default(),
            compiled: Rate::default(),
            state,
        }
    }

    /// Writes the blocks' ids into the code image.
    pub(super) fn mark(&self, image: &mut [u32]) {
        self.plan.mark(image);
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
        Ok(())
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

    /// Waits until a compiled kernel being built is ready (or failed), and runs it from the
    /// next dispatch on. Returns the status it ends in.
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
        self.tier_status()
    }
}
