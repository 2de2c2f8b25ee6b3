//! Instantiation on the host: the per-agent starting state (globals, tables, memory, segment
//! flags) of a module, computed once at load and copied into every spawned agent.

use std::collections::HashMap;

use swarm_core::TrapCode;
use swarm_shader::CodeImage;
use swarm_shader::image::REF_NULL;
use swarm_shader::program::{ConstExpr, FuncKind, GlobalInit, Program, ValType};

use crate::host::{HostCall, HostFunction, HostResult};
use crate::{LoadError, Value};

/// Values and functions a module may import, beyond the built-in `swarm` module.
#[derive(Clone, Debug, Default)]
pub struct Imports {
    globals: HashMap<(String, String), Value>,
    /// Import modules whose memories and tables are accepted (and become the agent's own).
    shared: Vec<String>,
    /// Functions that do nothing (`spectest.print*`).
    nop_functions: Vec<String>,
    /// Functions answered by the host between dispatches.
    functions: HashMap<(String, String), HostFunction>,
}

impl Imports {
    /// No imports beyond the `swarm` module.
    pub fn new() -> Self {
        Self::default()
    }

    /// The WebAssembly spec suite's `spectest` module: its globals, memory, table and print
    /// functions.
    pub fn spectest() -> Self {
        let mut imports = Self::new();
        imports.shared.push("spectest".to_owned());
        imports.nop_functions.push("spectest".to_owned());
        imports
            .global("spectest", "global_i32", Value::I32(666))
            .global("spectest", "global_i64", Value::I64(666))
            .global("spectest", "global_f32", Value::F32(666.6_f32.to_bits()))
            .global("spectest", "global_f64", Value::F64(666.6_f64.to_bits()));
        imports
    }

    /// Provides an imported global's value.
    pub fn global(&mut self, module: &str, name: &str, value: Value) -> &mut Self {
        self.globals
            .insert((module.to_owned(), name.to_owned()), value);
        self
    }

    /// Provides an imported function, answered on the host. An agent that calls it stops at
    /// the call; before the next dispatch, `callback` receives the calls of every agent waiting
    /// on this import at once and returns one answer per call, in order. The agents resume with
    /// the results (or trap, for an `Err`).
    pub fn func(
        &mut self,
        module: &str,
        name: &str,
        params: &[ValType],
        results: &[ValType],
        callback: impl Fn(&[HostCall]) -> Vec<HostResult> + Send + Sync + 'static,
    ) -> &mut Self {
        self.functions.insert(
            (module.to_owned(), name.to_owned()),
            HostFunction::new(params, results, callback),
        );
        self
    }

    /// The host function `module.name`, if one is provided.
    pub(crate) fn function(&self, module: &str, name: &str) -> Option<&HostFunction> {
        self.functions.get(&(module.to_owned(), name.to_owned()))
    }

    fn link_error(module: &str, name: &str, why: &str) -> LoadError {
        LoadError::Link {
            module: module.to_owned(),
            name: name.to_owned(),
            why: why.to_owned(),
        }
    }

    /// Checks that every import of `program` is provided.
    pub(crate) fn check(&self, program: &Program) -> Result<(), LoadError> {
        for func in &program.funcs {
            if let FuncKind::Import { module, name } = &func.kind {
                if module == "swarm" {
                    let ok = matches!(
                        (name.as_str(), &func.ty.params[..], &func.ty.results[..]),
                        ("agent_id" | "agent_count", [], [ValType::I32])
                            | ("output", [ValType::I32, ValType::I32], [])
                    );
                    if !ok {
                        return Err(Self::link_error(
                            module,
                            name,
                            "the built-in module `swarm` provides agent_id() -> i32, \
                             agent_count() -> i32 and output(i32, i32)",
                        ));
                    }
                } else if let Some(host) = self.function(module, name) {
                    if host.params != func.ty.params || host.results != func.ty.results {
                        return Err(Self::link_error(
                            module,
                            name,
                            &format!(
                                "the module imports it as {:?} -> {:?} but the host function \
                                 is {:?} -> {:?}",
                                func.ty.params, func.ty.results, host.params, host.results
                            ),
                        ));
                    }
                } else if !(self.nop_functions.iter().any(|n| n == module)
                    && name.starts_with("print"))
                {
                    return Err(Self::link_error(
                        module,
                        name,
                        "no such function is provided; register it with `Imports::func` \
                         (swarm itself provides swarm.agent_id, swarm.agent_count and \
                         swarm.output)",
                    ));
                }
            }
        }
        for global in &program.globals {
            if let GlobalInit::Import { module, name } = &global.init {
                match self.globals.get(&(module.clone(), name.clone())) {
                    Some(value) if value.ty() == global.ty && !global.mutable => {}
                    Some(_) => {
                        return Err(Self::link_error(module, name, "incompatible import type"));
                    }
                    None => return Err(Self::link_error(module, name, "unknown import")),
                }
            }
        }
        let shared = |import: &Option<(String, String)>| match import {
            None => Ok(()),
            Some((module, name)) if self.shared.contains(module) => {
                let known = name == "memory" || name == "table";
                if known {
                    Ok(())
                } else {
                    Err(Self::link_error(module, name, "unknown import"))
                }
            }
            Some((module, name)) => Err(Self::link_error(module, name, "unknown import")),
        };
        if let Some(memory) = &program.memory {
            shared(&memory.import)?;
        }
        for table in &program.tables {
            shared(&table.import)?;
        }
        Ok(())
    }

    pub(crate) fn global_value(&self, module: &str, name: &str) -> Option<Value> {
        self.globals
            .get(&(module.to_owned(), name.to_owned()))
            .copied()
    }
}

/// The state every agent of a module starts from.
#[derive(Clone, Debug)]
pub(crate) struct Template {
    /// Words of the globals region: globals, then segment drop flags.
    pub globals: Vec<u32>,
    /// Words of the tables region: sizes, then elements.
    pub tables: Vec<u32>,
    /// Initial memory bytes (the initial pages, trailing zeros trimmed to a word).
    pub memory: Vec<u8>,
    /// Initial memory size in pages.
    pub memory_pages: u32,
    /// Set when instantiation itself traps (an active segment out of bounds).
    pub trap: Option<TrapCode>,
}

impl Template {
    pub(crate) fn new(program: &Program, image: &CodeImage, imports: &Imports) -> Self {
        let mut globals_bits: Vec<u64> = Vec::with_capacity(program.globals.len());
        for global in &program.globals {
            let bits = match &global.init {
                GlobalInit::Import { module, name } => {
                    imports.global_value(module, name).map_or(0, Value::to_bits)
                }
                GlobalInit::Expr(expr) => eval(*expr, &globals_bits),
            };
            globals_bits.push(bits);
        }
        let mut globals: Vec<u32> = globals_bits
            .iter()
            .flat_map(|&b| [b as u32, (b >> 32) as u32])
            .collect();
        let segments = program.data.len() + program.elems.len();
        globals.extend(std::iter::repeat_n(0, segments));
        let flag = |seg: usize| 2 * program.globals.len() + seg;

        let mut trap = None;
        let tables_words = image
            .tables
            .iter()
            .map(|p| p.base + p.capacity)
            .max()
            .unwrap_or(program.tables.len() as u32) as usize;
        let mut tables = vec![REF_NULL; tables_words];
        for (index, (table, place)) in program.tables.iter().zip(&image.tables).enumerate() {
            tables[index] = table.min as u32;
            let init = eval(table.init, &globals_bits) as u32;
            for i in 0..table.min as u32 {
                tables[(place.base + i) as usize] = init;
            }
        }
        for (index, elem) in program.elems.iter().enumerate() {
            let seg = program.data.len() + index;
            if elem.declared {
                globals[flag(seg)] = 1;
            }
            let Some((table, offset)) = elem.active else {
                continue;
            };
            globals[flag(seg)] = 1;
            if trap.is_some() {
                continue;
            }
            let offset = u64::from(eval(offset, &globals_bits) as u32);
            let size = u64::from(tables[table as usize]);
            if offset + elem.items.len() as u64 > size {
                trap = Some(TrapCode::TableOutOfBounds);
                continue;
            }
            let base = u64::from(image.tables[table as usize].base) + offset;
            for (i, item) in elem.items.iter().enumerate() {
                tables[base as usize + i] = eval(*item, &globals_bits) as u32;
            }
        }

        let memory_pages = program.memory.as_ref().map_or(0, |m| m.min_pages as u32);
        let size = u64::from(memory_pages) * swarm_core::WASM_PAGE_BYTES;
        let mut memory = Vec::new();
        for (seg, data) in program.data.iter().enumerate() {
            let Some(offset) = data.offset else {
                continue;
            };
            globals[flag(seg)] = 1;
            if trap.is_some() {
                continue;
            }
            let offset = u64::from(eval(offset, &globals_bits) as u32);
            if offset + data.bytes.len() as u64 > size {
                trap = Some(TrapCode::MemoryOutOfBounds);
                continue;
            }
            let end = (offset as usize + data.bytes.len()).next_multiple_of(4);
            if memory.len() < end {
                memory.resize(end, 0);
            }
            memory[offset as usize..offset as usize + data.bytes.len()]
                .copy_from_slice(&data.bytes);
        }

        Self {
            globals,
            tables,
            memory,
            memory_pages,
            trap,
        }
    }
}

fn eval(expr: ConstExpr, globals: &[u64]) -> u64 {
    match expr {
        ConstExpr::Bits(bits) => bits,
        ConstExpr::Global(index) => globals.get(index as usize).copied().unwrap_or(0),
        ConstExpr::Func(index) => u64::from(index),
        ConstExpr::Null => u64::from(REF_NULL),
    }
}

/// Whether values match parameter types.
pub(crate) fn matches(types: &[ValType], values: &[Value]) -> bool {
    types.len() == values.len() && types.iter().zip(values).all(|(t, v)| *t == v.ty())
}
