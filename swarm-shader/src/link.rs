//! Stores: several modules linked into one program, so that every agent holds one instance of
//! each, and an instance's imports name the functions, globals, tables and memory of the
//! instances before it.
//!
//! All instances of a store share one set of index spaces: a function, global or table keeps
//! its store index as later modules are added, and an import resolved to another instance's
//! export is that entity itself (a call of it is a plain `call`, a shared table is one table).
//! Each instance that defines a memory adds one to the store; the agent's memory region holds
//! them all, and every function addresses its own instance's memory.

use std::collections::HashMap;
use std::ops::Range;

use wasmparser::{Parser, Payload, TypeRef};

use crate::lower::{self, LoadError};
use crate::program::{Export, FuncType, Program, ValType};

/// The type of something a module imports or an instance exports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExternType {
    /// A function of this signature.
    Func(FuncType),
    /// A global.
    Global {
        /// Its value type.
        ty: ValType,
        /// Whether it is mutable.
        mutable: bool,
    },
    /// A table, with its current size as the minimum when it is an instance's.
    Table {
        /// Element type.
        elem: ValType,
        /// Minimum size.
        min: u64,
        /// Maximum size.
        max: Option<u64>,
    },
    /// A memory, in pages, with its current size as the minimum when it is an instance's.
    Memory {
        /// Minimum pages.
        min: u64,
        /// Maximum pages.
        max: Option<u64>,
    },
}

impl ExternType {
    /// Whether an export of type `self` satisfies an import of type `import` (the spec's
    /// import matching): equal signatures and global types, and limits within the import's.
    pub fn matches(&self, import: &ExternType) -> bool {
        let limits = |min: u64, max: Option<u64>, imin: u64, imax: Option<u64>| {
            min >= imin
                && match imax {
                    None => true,
                    Some(imax) => max.is_some_and(|max| max <= imax),
                }
        };
        match (self, import) {
            (Self::Func(a), Self::Func(b)) => a == b,
            (
                Self::Global { ty, mutable },
                Self::Global {
                    ty: ity,
                    mutable: imutable,
                },
            ) => ty == ity && mutable == imutable,
            (
                Self::Table { elem, min, max },
                Self::Table {
                    elem: ielem,
                    min: imin,
                    max: imax,
                },
            ) => elem == ielem && limits(*min, *max, *imin, *imax),
            (
                Self::Memory { min, max },
                Self::Memory {
                    min: imin,
                    max: imax,
                },
            ) => limits(*min, *max, *imin, *imax),
            _ => false,
        }
    }
}

/// One import of a module, in import-section order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Import {
    /// Module name.
    pub module: String,
    /// Field name.
    pub name: String,
    /// What the module expects.
    pub ty: ExternType,
}

/// Where one instance of a store landed in the store's index spaces.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InstanceInfo {
    /// Its exports, by name, as store indices.
    pub exports: HashMap<String, Export>,
    /// Its start function (store index).
    pub start: Option<u32>,
    /// Fuel its instantiation consumes in wasmtime (see `Program::startup_fuel`).
    pub startup_fuel: u32,
    /// The store functions it added (its defined functions and host imports).
    pub funcs: Range<u32>,
    /// The store globals it added.
    pub globals: Range<u32>,
    /// The store tables it added.
    pub tables: Range<u32>,
    /// The store's data segments that are its.
    pub data: Range<u32>,
    /// The store's element segments that are its.
    pub elems: Range<u32>,
    /// The store memories it added (its own, or one imported from the host).
    pub memories: Range<u32>,
}

/// Modules linked into one program, one instance of each per agent.
#[derive(Clone, Debug, Default)]
pub struct Store {
    /// Each module's bytes and what its imports resolved to.
    modules: Vec<(Vec<u8>, Vec<Option<Export>>)>,
    program: Program,
    instances: Vec<InstanceInfo>,
}

impl Store {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a module defines a memory of its own. It reads only the sections up to the
    /// memory section and does not validate (`imports` and `add` do).
    pub fn defines_memory(bytes: &[u8]) -> Result<bool, LoadError> {
        for payload in Parser::new(0).parse_all(bytes) {
            if let Payload::MemorySection(reader) = payload.map_err(LoadError::from_parser)? {
                return Ok(reader.count() > 0);
            }
        }
        Ok(false)
    }

    /// Validates `bytes` and lists its imports, in order, for resolution.
    pub fn imports(bytes: &[u8]) -> Result<Vec<Import>, LoadError> {
        lower::validate(bytes)?;
        let mut types = Vec::new();
        let mut imports = Vec::new();
        for payload in Parser::new(0).parse_all(bytes) {
            match payload.map_err(LoadError::from_parser)? {
                Payload::TypeSection(reader) => {
                    for group in reader {
                        for sub in group.map_err(LoadError::from_parser)?.into_types() {
                            types.push(lower::func_type(&sub)?);
                        }
                    }
                }
                Payload::ImportSection(reader) => {
                    for import in reader.into_imports() {
                        let import = import.map_err(LoadError::from_parser)?;
                        let ty = match import.ty {
                            TypeRef::Func(index) => ExternType::Func(types[index as usize].clone()),
                            TypeRef::Global(g) => ExternType::Global {
                                ty: lower::val_type(g.content_type),
                                mutable: g.mutable,
                            },
                            TypeRef::Table(t) => ExternType::Table {
                                elem: lower::val_type(wasmparser::ValType::Ref(t.element_type)),
                                min: t.initial,
                                max: t.maximum,
                            },
                            TypeRef::Memory(m) => ExternType::Memory {
                                min: m.initial,
                                max: m.maximum,
                            },
                            other => {
                                return Err(LoadError::Unsupported {
                                    message: format!("import of {other:?}"),
                                    offset: 0,
                                });
                            }
                        };
                        imports.push(Import {
                            module: import.module.to_owned(),
                            name: import.name.to_owned(),
                            ty,
                        });
                    }
                }
                _ => {}
            }
        }
        Ok(imports)
    }

    /// Adds an instance of `bytes` whose imports resolve, in order, to `resolved` (`None`:
    /// imported from the host), and returns its index. The caller checks the resolution's
    /// types (`ExternType::matches`); on an error the store is unchanged.
    pub fn add(&mut self, bytes: &[u8], resolved: Vec<Option<Export>>) -> Result<usize, LoadError> {
        lower::validate(bytes)?;
        self.modules.push((bytes.to_vec(), resolved));
        match self.relink() {
            Ok(()) => Ok(self.instances.len() - 1),
            Err(err) => {
                self.modules.pop();
                self.relink()
                    .expect("the store without the new module linked before");
                Err(err)
            }
        }
    }

    /// Lowers every module into one program. Element segments are numbered after every data
    /// segment of the store, so the numbering is settled only once all modules are known.
    fn relink(&mut self) -> Result<(), LoadError> {
        let total_data = self
            .modules
            .iter()
            .map(|(bytes, _)| lower::data_segments(bytes))
            .sum::<Result<u32, _>>()?;
        let mut program = Program::default();
        let mut type_ids = HashMap::new();
        let mut instances = Vec::with_capacity(self.modules.len());
        for (bytes, resolved) in &self.modules {
            let before = (
                program.funcs.len() as u32,
                program.globals.len() as u32,
                program.tables.len() as u32,
                program.data.len() as u32,
                program.elems.len() as u32,
                program.memories.len() as u32,
            );
            let lowered = lower::lower_into(program, &mut type_ids, bytes, resolved, total_data)?;
            program = lowered.program;
            instances.push(InstanceInfo {
                exports: lowered.exports,
                start: lowered.start,
                startup_fuel: lowered.startup_fuel,
                funcs: before.0..program.funcs.len() as u32,
                globals: before.1..program.globals.len() as u32,
                tables: before.2..program.tables.len() as u32,
                data: before.3..program.data.len() as u32,
                elems: before.4..program.elems.len() as u32,
                memories: before.5..program.memories.len() as u32,
            });
        }
        self.program = program;
        self.instances = instances;
        Ok(())
    }

    /// The linked program. Its exports and start function are the last instance's.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// The instances, in the order they were added.
    pub fn instances(&self) -> &[InstanceInfo] {
        &self.instances
    }

    /// The type of a store entity, with declared limits for tables and memories.
    pub fn extern_type(&self, export: Export) -> Option<ExternType> {
        let program = &self.program;
        Some(match export {
            Export::Func(f) => ExternType::Func(program.funcs.get(f as usize)?.ty.clone()),
            Export::Global(g) => {
                let global = program.globals.get(g as usize)?;
                ExternType::Global {
                    ty: global.ty,
                    mutable: global.mutable,
                }
            }
            Export::Table(t) => {
                let table = program.tables.get(t as usize)?;
                ExternType::Table {
                    elem: table.elem,
                    min: table.min,
                    max: table.max,
                }
            }
            Export::Memory(m) => {
                let memory = program.memories.get(m as usize)?;
                ExternType::Memory {
                    min: memory.min_pages,
                    max: memory.max_pages,
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wasm(text: &str) -> Vec<u8> {
        wat::parse_str(text).expect("valid text")
    }

    #[test]
    fn a_call_of_an_imported_function_is_a_call_of_the_exporter() {
        let mut store = Store::new();
        let a = wasm(r#"(module (func (export "f") (result i32) (i32.const 7)))"#);
        store.add(&a, vec![]).unwrap();
        let f = store.instances()[0].exports["f"];
        let b = wasm(
            r#"(module (import "a" "f" (func $f (result i32)))
                 (func (export "g") (result i32) (call $f)))"#,
        );
        store.add(&b, vec![Some(f)]).unwrap();
        let program = store.program();
        assert_eq!(program.funcs.len(), 2, "the import adds no function");
        assert_eq!(store.instances()[1].funcs, 1..2);
        let listing = crate::disasm::disassemble(program);
        assert!(listing.contains("call func=0"), "{listing}");
    }

    #[test]
    fn element_segments_are_numbered_after_every_data_segment() {
        let mut store = Store::new();
        let a = wasm(
            r#"(module (memory (export "m") 1) (table 1 funcref) (func $f)
                 (elem func $f) (func (export "init") (table.init 0 (i32.const 0) (i32.const 0) (i32.const 1))))"#,
        );
        store.add(&a, vec![]).unwrap();
        let b = wasm(r#"(module (import "a" "m" (memory 1)) (data "xy") (data "z"))"#);
        store.add(&b, vec![Some(Export::Memory(0))]).unwrap();
        let program = store.program();
        assert_eq!(program.data.len(), 2);
        assert_eq!(store.instances()[0].elems, 0..1);
        let listing = crate::disasm::disassemble(program);
        assert!(
            listing.contains("table.init segment=2 table=0"),
            "{listing}"
        );
    }

    #[test]
    fn each_function_addresses_its_own_instances_memory() {
        let mut store = Store::new();
        let a = wasm(r#"(module (memory 1) (func (export "f")) (data (i32.const 0) "a"))"#);
        store.add(&a, vec![]).unwrap();
        let f = store.instances()[0].exports["f"];
        let b = wasm(
            r#"(module (import "a" "f" (func)) (memory 2) (func (export "g"))
                 (data (i32.const 0) "b"))"#,
        );
        store.add(&b, vec![Some(f)]).unwrap();
        let program = store.program();
        assert_eq!(program.memories.len(), 2);
        assert_eq!(store.instances()[1].memories, 1..2);
        let memories: Vec<u32> = program.funcs.iter().map(|f| f.memory).collect();
        assert_eq!(memories, [0, 1]);
        let data: Vec<u32> = program.data.iter().map(|d| d.memory).collect();
        assert_eq!(data, [0, 1]);
        assert_eq!(store.instances()[1].exports.get("m"), None);
        assert!(Store::defines_memory(&b).unwrap());
    }

    #[test]
    fn import_matching_follows_the_spec() {
        let table = |min, max| ExternType::Table {
            elem: ValType::FuncRef,
            min,
            max,
        };
        assert!(table(10, Some(20)).matches(&table(5, Some(20))));
        assert!(!table(10, Some(20)).matches(&table(11, None)));
        assert!(!table(10, None).matches(&table(5, Some(20))));
        assert!(!table(10, Some(30)).matches(&table(5, Some(20))));
        let global = |mutable| ExternType::Global {
            ty: ValType::I32,
            mutable,
        };
        assert!(!global(true).matches(&global(false)));
    }
}
