//! `ModuleInfo`: what a module asks of a swarm, read before one is created.

use swarm_shader::program::{Export, FuncKind, Program, ValType};

use crate::LoadError;

/// A module's exported functions and memory needs, validated but not loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleInfo {
    /// Initial linear-memory pages (0 without a memory).
    pub memory_pages: u64,
    /// The declared maximum pages, if any.
    pub memory_max_pages: Option<u64>,
    /// Exported functions by name, with their parameter and result types, sorted by name.
    pub functions: Vec<ExportedFunction>,
    /// Imported functions, as `(module, name)`, in import order.
    pub function_imports: Vec<(String, String)>,
}

/// An exported function's name and signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportedFunction {
    /// Export name.
    pub name: String,
    /// Parameter types.
    pub params: Vec<ValType>,
    /// Result types.
    pub results: Vec<ValType>,
}

impl ModuleInfo {
    /// Validates `bytes` (binary, or WAT with the `wat` feature) and describes the module.
    pub fn parse(bytes: &[u8]) -> Result<Self, LoadError> {
        let binary = crate::text::to_binary(bytes)?;
        let program = swarm_shader::lower(&binary)?;
        Ok(Self::of(&program))
    }

    fn of(program: &Program) -> Self {
        let mut functions: Vec<ExportedFunction> = program
            .exports
            .iter()
            .filter_map(|(name, export)| match export {
                Export::Func(index) => {
                    let ty = &program.funcs[*index as usize].ty;
                    Some(ExportedFunction {
                        name: name.clone(),
                        params: ty.params.clone(),
                        results: ty.results.clone(),
                    })
                }
                _ => None,
            })
            .collect();
        functions.sort_by(|a, b| a.name.cmp(&b.name));
        Self {
            memory_pages: program.memories.first().map_or(0, |m| m.min_pages),
            memory_max_pages: program.memories.first().and_then(|m| m.max_pages),
            functions,
            function_imports: program
                .funcs
                .iter()
                .filter_map(|f| match &f.kind {
                    FuncKind::Import { module, name } => Some((module.clone(), name.clone())),
                    _ => None,
                })
                .collect(),
        }
    }

    /// Whether the module imports a function from module `module` (`wasi_snapshot_preview1`,
    /// say).
    pub fn imports_from(&self, module: &str) -> bool {
        self.function_imports.iter().any(|(m, _)| m == module)
    }

    /// The exported function `name`.
    pub fn function(&self, name: &str) -> Option<&ExportedFunction> {
        self.functions.iter().find(|f| f.name == name)
    }
}
