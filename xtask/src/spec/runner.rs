//! The file's store: its modules linked into one store that one agent holds, instances
//! registered by name, and the calls the file's directives make on that agent (one at a time,
//! or batched on copies of it for pure functions).

use std::collections::HashMap;

use swarm_host::{
    AgentId, Export, Imports, Outcome, Store, StoreState, Swarm, Tier, TrapCode, Value,
};
use wast::core::WastArgCore;
use wast::{WastArg, WastDirective, WastExecute, WastInvoke};

use super::{BATCH, choose_tier, count_build};

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
pub(super) enum Failure {
    /// Linking failed: an unknown or incompatible import, or a module swarm refuses.
    Link(String),
    /// Instantiation trapped.
    Trap(TrapCode),
    /// The runner could not set the instance up.
    Other(String),
}

impl Failure {
    pub(super) fn message(&self) -> String {
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

/// Whether a module joins the current store or starts a new one.
enum Replace {
    Keep,
    /// A new store, with the agent's state where it has been read already.
    New(Option<StoreState>),
}

/// The file's store and the agent holding it.
pub(super) struct Runner<'s> {
    /// The tier the run forces.
    tier: Tier,
    /// The tier `choose_tier` picked for the store's agent at its last load: its calls run
    /// there (its instantiation too, where a start function runs).
    store_tier: Tier,
    /// Whether the compiled kernel of each swarm's last load (the store's, the batch's) has
    /// been counted.
    counted: [bool; 2],
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
    pub(super) batched: HashMap<usize, Result<Outcome, String>>,
    /// The directive being run.
    pub(super) position: usize,
    /// Counts the stores of this file; instances of an earlier one are gone.
    generation: u32,
    store: Store,
    agent: Option<AgentId>,
    spectest: Option<usize>,
    spectest_memory: Option<usize>,
    /// Every instance of the file, by record id.
    records: Vec<Record>,
    pub(super) registered: HashMap<String, usize>,
    pub(super) named: HashMap<String, usize>,
    pub(super) current: Option<usize>,
}

impl<'s> Runner<'s> {
    pub(super) fn new(swarm: &'s mut Swarm, batch_swarm: &'s mut Swarm, tier: Tier) -> Self {
        Self {
            tier,
            store_tier: tier,
            counted: [false; 2],
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
        let (at, initial) = self.instantiate_in_a_store(&bytes, true)?;
        let record = &mut self.records[id];
        record.at = at;
        record.initial = initial;
        record.pristine = false;
        Ok(())
    }

    /// Instantiates a module as the file's next instance, with a record.
    pub(super) fn instantiate(&mut self, bytes: &[u8]) -> Result<usize, Failure> {
        let (at, initial) = self.instantiate_in_a_store(bytes, false)?;
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
    pub(super) fn batch(&mut self, index: usize, upcoming: &[Option<WastDirective<'_>>]) {
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
                self.counted[1] = false;
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
        count_build(batch, &mut self.counted[1]);
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
    pub(super) fn close(mut self) -> Result<(), String> {
        match self.agent.take() {
            Some(agent) => self.swarm.kill(agent).map_err(|e| e.to_string()),
            None => Ok(()),
        }
    }

    /// The records of the current store that a later directive can still reach: those with a
    /// name or a registration, and the current module (set while a module directive that may
    /// leave it current, such as `assert_unlinkable`, is under way).
    fn reachable(&self) -> Vec<usize> {
        let mut ids: Vec<usize> = self
            .named
            .values()
            .chain(self.registered.values())
            .chain(self.current.iter())
            .copied()
            .filter(|&id| self.records[id].at.store == self.generation)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Whether record `id` of the current store is as instantiated in `last`.
    fn is_pristine(&self, last: &StoreState, id: usize) -> bool {
        let record = &self.records[id];
        last.instance_eq(&record.initial, &self.store.instances()[record.at.index])
    }

    /// Drops the current store and its agent: the next instance starts a new one. The
    /// instances a later directive can still reach note whether they are as instantiated, so
    /// that they can be made again where they are needed.
    /// `last` is the agent's state, where the caller has read it already.
    fn new_store(&mut self, last: Option<StoreState>) -> Result<(), String> {
        let reachable = self.reachable();
        if !reachable.is_empty() {
            let last = match last {
                Some(last) => last,
                None => self.state()?,
            };
            for id in reachable {
                self.records[id].pristine = self.is_pristine(&last, id);
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
        self.store_tier = choose_tier(self.swarm, self.tier);
        self.counted[0] = false;
        // Without a start function the instantiation runs no code: the interpreter takes it,
        // and the compiled kernel is built only if a call runs on this agent (a file's pure
        // calls run in the batch swarm, which builds its own).
        let starts = self
            .store
            .instances()
            .last()
            .is_some_and(|i| i.start.is_some());
        if !starts {
            self.swarm.set_tier(Tier::Interpreter);
        }
        let agent = self.swarm.spawn_instance().map_err(|e| e.to_string())?;
        self.agent = Some(agent);
        let report = self.swarm.run().map_err(|e| e.to_string())?;
        count_build(self.swarm, &mut self.counted[0]);
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
                 or an unrelated module started a new one (store {} of this file, now {})",
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

    /// Instantiates a module in the current store, or in a new one. An instance made again
    /// (`remade`) starts one only for a memory of its own: it joins the store of the module
    /// that imports from it, or of the directive that names it.
    fn instantiate_in_a_store(
        &mut self,
        bytes: &[u8],
        remade: bool,
    ) -> Result<(InstanceRef, StoreState), Failure> {
        if !self.store.instances().is_empty()
            && let Replace::New(last) = self.store_replaceable(bytes, remade)?
        {
            self.new_store(last).map_err(Failure::Other)?;
        }
        self.add(bytes)
    }

    /// Whether the module `bytes` starts a new store instead of joining the current one. It
    /// does when it has a memory of its own and imports nothing from this store (beyond
    /// `spectest`), so each memory gets the agent's memory budget to itself. Unless it is an
    /// instance made again (`remade`), it also does when every instance of this store that a
    /// later directive can reach is as instantiated, so can be made again where it is needed:
    /// unrelated modules then load alone, or beside the instances they import from, instead of
    /// in a store that grows with each (`const.wast` has 402 modules, `table_copy.wast` 52
    /// that import one), and the compiled tier builds a kernel of each module's own code. Not
    /// while `spectest` is in the store with something reachable (its table and memory keep
    /// writes no instance of ours records), nor for a module whose imports name a module
    /// nothing is registered as (it will not link).
    fn store_replaceable(&mut self, bytes: &[u8], remade: bool) -> Result<Replace, Failure> {
        let imports = Store::imports(bytes).map_err(|e| Failure::Link(e.to_string()))?;
        let own_memory = Store::defines_memory(bytes).map_err(|e| Failure::Link(e.to_string()))?;
        let depends = imports.iter().any(|import| {
            self.registered
                .get(&import.module)
                .is_some_and(|&id| self.records[id].at.store == self.generation)
        });
        if own_memory && !depends && !self.store.program().memories.is_empty() {
            return Ok(Replace::New(None));
        }
        let unknown = imports.iter().any(|import| {
            import.module != "spectest" && !self.registered.contains_key(&import.module)
        });
        if remade || unknown {
            return Ok(Replace::Keep);
        }
        let reachable = self.reachable();
        if reachable.is_empty() {
            return Ok(Replace::New(None));
        }
        if self.spectest.is_some() || self.spectest_memory.is_some() {
            return Ok(Replace::Keep);
        }
        let last = self.state().map_err(Failure::Other)?;
        Ok(if reachable.iter().all(|&id| self.is_pristine(&last, id)) {
            Replace::New(Some(last))
        } else {
            Replace::Keep
        })
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

    pub(super) fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<Outcome, String> {
        if let Some(outcome) = self.batched.remove(&self.position) {
            return outcome;
        }
        self.version += 1;
        let (agent, export) = self.export(invoke.module.map(|m| m.name()), invoke.name)?;
        let Export::Func(func) = export else {
            return Err(format!("{} is not a function", invoke.name));
        };
        let args = invoke.args.iter().map(arg).collect::<Result<Vec<_>, _>>()?;
        self.swarm.set_tier(self.store_tier);
        self.swarm
            .call_func(agent, func, &args)
            .map_err(|e| e.to_string())?;
        let report = self.swarm.run().map_err(|e| e.to_string())?;
        count_build(self.swarm, &mut self.counted[0]);
        report
            .agents
            .into_iter()
            .find(|a| a.id == agent)
            .map(|a| a.outcome)
            .ok_or_else(|| "agent vanished".to_owned())
    }

    pub(super) fn get(&mut self, module: Option<&str>, global: &str) -> Result<Value, String> {
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
