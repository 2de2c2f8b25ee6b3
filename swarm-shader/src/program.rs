//! `Program`: a validated module lowered for the GPU, with everything the host needs to
//! instantiate it per agent.

use std::collections::HashMap;

use crate::isa::OpGroups;

/// A WebAssembly value type, as swarm stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValType {
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `f32`, kept as its bits.
    F32,
    /// `f64`, kept as its bits.
    F64,
    /// `funcref`.
    FuncRef,
    /// `externref`.
    ExternRef,
}

/// A function signature.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct FuncType {
    /// Parameter types.
    pub params: Vec<ValType>,
    /// Result types.
    pub results: Vec<ValType>,
}

/// A constant expression, evaluated by the host at instantiation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConstExpr {
    /// A value's raw bits (floats as bits, references as handles).
    Bits(u64),
    /// The value of a global (an imported one in WebAssembly 2.0).
    Global(u32),
    /// A reference to a function.
    Func(u32),
    /// A null reference.
    Null,
}

/// A function of the module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuncInfo {
    /// Its signature.
    pub ty: FuncType,
    /// Canonical type id (equal signatures share one).
    pub type_id: u32,
    /// The memory its loads and stores address: its instance's (store index; 0 when the
    /// instance has none).
    pub memory: u32,
    /// Where it comes from.
    pub kind: FuncKind,
}

/// Where a function comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FuncKind {
    /// Defined in the module; lowered code starts at this word.
    Defined {
        /// Entry word in the code buffer.
        entry: u32,
        /// Locals beyond the parameters.
        locals: u32,
        /// Highest stack height above the frame, locals included.
        max_height: u32,
    },
    /// Imported.
    Import {
        /// Import module name.
        module: String,
        /// Import field name.
        name: String,
    },
}

/// A global of the module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobalInfo {
    /// Its type.
    pub ty: ValType,
    /// Whether `global.set` may change it.
    pub mutable: bool,
    /// Its initial value.
    pub init: GlobalInit,
}

/// How a global gets its first value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GlobalInit {
    /// From a constant expression.
    Expr(ConstExpr),
    /// From the importer.
    Import {
        /// Import module name.
        module: String,
        /// Import field name.
        name: String,
    },
}

/// A linear memory of the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryInfo {
    /// Initial pages.
    pub min_pages: u64,
    /// Declared maximum pages.
    pub max_pages: Option<u64>,
    /// Import names, if imported.
    pub import: Option<(String, String)>,
}

/// A table of the module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableInfo {
    /// Element type.
    pub elem: ValType,
    /// Initial size.
    pub min: u64,
    /// Declared maximum size.
    pub max: Option<u64>,
    /// Import names, if imported.
    pub import: Option<(String, String)>,
    /// Initial value of every element.
    pub init: ConstExpr,
}

/// A data segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataSegment {
    /// Active segments are copied into memory at instantiation.
    pub offset: Option<ConstExpr>,
    /// The memory it belongs to (store index).
    pub memory: u32,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// An element segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElemSegment {
    /// Active segments: the table and offset they initialise.
    pub active: Option<(u32, ConstExpr)>,
    /// Declarative segments are dropped at once.
    pub declared: bool,
    /// Its items.
    pub items: Vec<ConstExpr>,
}

/// What an export names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Export {
    /// A function index.
    Func(u32),
    /// A global index.
    Global(u32),
    /// A memory (store index).
    Memory(u32),
    /// A table index.
    Table(u32),
}

/// A module lowered for swarm's GPU interpreter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Program {
    /// Lowered instructions (see `isa`); function entries point into it.
    pub code: Vec<u32>,
    /// The optional instruction groups `code` uses: its interpreter needs these.
    pub op_groups: OpGroups,
    /// Every function, imports first.
    pub funcs: Vec<FuncInfo>,
    /// Every global, imports first.
    pub globals: Vec<GlobalInfo>,
    /// Every memory: a module has at most one, a store one per instance that defines one.
    pub memories: Vec<MemoryInfo>,
    /// Every table, imports first.
    pub tables: Vec<TableInfo>,
    /// Data segments.
    pub data: Vec<DataSegment>,
    /// Element segments.
    pub elems: Vec<ElemSegment>,
    /// Exports by name.
    pub exports: HashMap<String, Export>,
    /// The start function.
    pub start: Option<u32>,
    /// Fuel wasmtime's startup function consumes when the module lowered last is instantiated
    /// (see `InstanceInfo::startup_fuel`).
    pub startup_fuel: u32,
}

impl Program {
    /// Data segments, which come before element segments in the drop-flag numbering.
    pub fn data_count(&self) -> u32 {
        self.data.len() as u32
    }

    /// The function an export names, if it names a function.
    pub fn exported_func(&self, name: &str) -> Option<u32> {
        match self.exports.get(name) {
            Some(Export::Func(index)) => Some(*index),
            _ => None,
        }
    }
}
