//! Validation with wasmparser and lowering of every function body to swarm's instruction stream.
//!
//! Branch targets, stack heights and call targets are resolved here, once: the GPU never decodes
//! LEB128 or searches for an `end`. Heights are counted in value slots from the frame pointer
//! (locals included), which the validator guarantees are static at every instruction.

mod body;
mod consts;

use std::collections::HashMap;

use wasmparser::{
    CompositeInnerType, ConstExpr as WasmConstExpr, DataKind, ElementItems, ElementKind,
    ExternalKind, Operator, Parser, Payload, TableInit, TypeRef, Validator, WasmFeatures,
};

use crate::isa::Op;
use crate::program::{
    ConstExpr, DataSegment, ElemSegment, Export, FuncInfo, FuncKind, FuncType, GlobalInfo,
    GlobalInit, MemoryInfo, Program, TableInfo, ValType,
};

/// Word at which lowered code starts in the code buffer (the header comes first).
pub const CODE_BASE: u32 = 16;

/// The WebAssembly features swarm runs: 2.0 without SIMD.
pub fn supported_features() -> WasmFeatures {
    WasmFeatures::WASM2 - WasmFeatures::SIMD - WasmFeatures::RELAXED_SIMD
}

/// A module swarm cannot load.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// Malformed or invalid WebAssembly.
    #[error("invalid module at byte offset {offset:#x}: {message}")]
    Invalid {
        /// wasmparser's message.
        message: String,
        /// Byte offset in the module.
        offset: u64,
    },
    /// Valid WebAssembly that uses a feature swarm does not run.
    #[error(
        "unsupported feature at byte offset {offset:#x}: {message} (swarm runs WebAssembly 2.0 \
         without SIMD, threads, exceptions, GC, tail calls, memory64 or multi-memory)"
    )]
    Unsupported {
        /// What is unsupported.
        message: String,
        /// Byte offset in the module.
        offset: u64,
    },
    /// A function too large for swarm's 32-bit code offsets.
    #[error("the module's code is too large: {words} words")]
    TooLarge {
        /// Words of code.
        words: usize,
    },
}

impl LoadError {
    pub(crate) fn from_parser(err: wasmparser::BinaryReaderError) -> Self {
        Self::Invalid {
            message: err.message().to_owned(),
            offset: err.offset(),
        }
    }
}

/// Validates `bytes` and lowers it for the GPU.
pub fn lower(bytes: &[u8]) -> Result<Program, LoadError> {
    validate(bytes)?;
    let data = data_segments(bytes)?;
    let mut type_ids = HashMap::new();
    let lowered = lower_into(Program::default(), &mut type_ids, bytes, &[], data)?;
    Ok(lowered.program)
}

/// Number of data segments of a valid module (they come after the code, whose `table.init`
/// and `elem.drop` number element segments after them).
pub(crate) fn data_segments(bytes: &[u8]) -> Result<u32, LoadError> {
    for payload in Parser::new(0).parse_all(bytes) {
        if let Payload::DataSection(reader) = payload.map_err(LoadError::from_parser)? {
            return Ok(reader.count());
        }
    }
    Ok(0)
}

/// A module lowered into a store: the store's program with the module appended, and where the
/// module's own exports and start function landed in it.
pub(crate) struct Lowered {
    pub program: Program,
    pub exports: HashMap<String, Export>,
    pub start: Option<u32>,
    /// Fuel wasmtime's startup function for the module consumes when it is instantiated.
    pub startup_fuel: u32,
}

/// Lowers a valid module into `store`, appending its functions, globals, tables, memory and
/// segments. Import `i` resolved to `Some` in `resolved` names an entity already in the store;
/// unresolved imports become the store's own imports. `total_data` is the number of data
/// segments the finished store has: element segments are numbered after all of them.
pub(crate) fn lower_into(
    store: Program,
    type_ids: &mut HashMap<FuncType, u32>,
    bytes: &[u8],
    resolved: &[Option<Export>],
    total_data: u32,
) -> Result<Lowered, LoadError> {
    let elem_base = total_data + store.elems.len() as u32;
    let mut reader = Reader {
        types: Vec::new(),
        type_ids: std::mem::take(type_ids),
        program: store,
        resolved,
        next_import: 0,
        funcs: Vec::new(),
        globals: Vec::new(),
        tables: Vec::new(),
        data_base: 0,
        elem_base,
        memory: None,
        exports: HashMap::new(),
        start: None,
        next_body: 0,
        startup: Startup::default(),
    };
    reader.data_base = reader.program.data.len() as u32;
    let (lowered, store_type_ids) = reader.read(bytes)?;
    *type_ids = store_type_ids;
    Ok(lowered)
}

/// Validates a module with the features swarm runs.
pub(crate) fn validate(bytes: &[u8]) -> Result<(), LoadError> {
    if let Err(err) = Validator::new_with_features(supported_features()).validate_all(bytes) {
        // Valid with every feature on: the module uses something swarm does not run.
        return Err(
            if Validator::new_with_features(WasmFeatures::all())
                .validate_all(bytes)
                .is_ok()
            {
                LoadError::Unsupported {
                    message: err.message().to_owned(),
                    offset: err.offset(),
                }
            } else {
                LoadError::from_parser(err)
            },
        );
    }
    Ok(())
}

struct Reader<'r> {
    types: Vec<FuncType>,
    /// Canonical type ids of the whole store.
    type_ids: HashMap<FuncType, u32>,
    /// The store, with this module appended as it is read.
    program: Program,
    /// What each import resolves to in the store (`None`: the store imports it).
    resolved: &'r [Option<Export>],
    next_import: usize,
    /// Store index of each of the module's functions, globals and tables.
    funcs: Vec<u32>,
    globals: Vec<u32>,
    tables: Vec<u32>,
    /// Store number of the module's first data segment.
    data_base: u32,
    /// Store segment number of the module's first element segment.
    elem_base: u32,
    /// The store index of the module's memory.
    memory: Option<u32>,
    exports: HashMap<String, Export>,
    start: Option<u32>,
    /// Function index of each body, in order.
    next_body: u32,
    startup: Startup,
}

/// The fuel of the startup function wasmtime compiles for a module that needs one (one with a
/// start function, a passive element segment, or a global initialised by anything but a
/// number): one for entering it, one per instruction of those globals' initialisers and of a
/// passive segment's element expressions, one for calling the start function. Active segments
/// cost nothing.
#[derive(Debug, Default)]
struct Startup {
    needed: bool,
    fuel: u32,
}

impl Startup {
    fn charge(&mut self, fuel: usize) {
        self.needed = true;
        self.fuel = self
            .fuel
            .saturating_add(u32::try_from(fuel).unwrap_or(u32::MAX));
    }

    fn total(&self) -> u32 {
        self.fuel.saturating_add(u32::from(self.needed))
    }
}

/// Instructions of a constant expression, its `end` left out.
fn const_ops(expr: &WasmConstExpr<'_>) -> Result<usize, LoadError> {
    let mut ops = expr.get_operators_reader();
    let mut count = 0;
    while !ops.eof() {
        if !matches!(ops.read().map_err(LoadError::from_parser)?, Operator::End) {
            count += 1;
        }
    }
    Ok(count)
}

/// Whether wasmtime evaluates a global's initialiser when it compiles the module (a lone
/// number) rather than in the startup function.
fn is_number(expr: &WasmConstExpr<'_>) -> Result<bool, LoadError> {
    let mut ops = expr.get_operators_reader();
    let first = ops.read().map_err(LoadError::from_parser)?;
    let number = matches!(
        first,
        Operator::I32Const { .. }
            | Operator::I64Const { .. }
            | Operator::F32Const { .. }
            | Operator::F64Const { .. }
    );
    Ok(number && const_ops(expr)? == 1)
}

/// A function type of the type section.
pub(crate) fn func_type(sub: &wasmparser::SubType) -> Result<FuncType, LoadError> {
    let CompositeInnerType::Func(f) = &sub.composite_type.inner else {
        return Err(LoadError::Unsupported {
            message: "non-function types".to_owned(),
            offset: 0,
        });
    };
    Ok(FuncType {
        params: f.params().iter().copied().map(val_type).collect(),
        results: f.results().iter().copied().map(val_type).collect(),
    })
}

pub(crate) fn val_type(ty: wasmparser::ValType) -> ValType {
    match ty {
        wasmparser::ValType::I32 => ValType::I32,
        wasmparser::ValType::I64 => ValType::I64,
        wasmparser::ValType::F32 => ValType::F32,
        wasmparser::ValType::F64 => ValType::F64,
        wasmparser::ValType::Ref(r) if r.is_func_ref() => ValType::FuncRef,
        // Validation with 2.0 features leaves only externref (and v128, refused earlier).
        wasmparser::ValType::Ref(_) | wasmparser::ValType::V128 => ValType::ExternRef,
    }
}

fn const_expr(
    expr: &WasmConstExpr<'_>,
    funcs: &[u32],
    globals: &[u32],
) -> Result<ConstExpr, LoadError> {
    let mut reader = expr.get_operators_reader();
    let op = reader.read().map_err(LoadError::from_parser)?;
    Ok(match op {
        Operator::I32Const { value } => ConstExpr::Bits(u64::from(value as u32)),
        Operator::I64Const { value } => ConstExpr::Bits(value as u64),
        Operator::F32Const { value } => ConstExpr::Bits(u64::from(value.bits())),
        Operator::F64Const { value } => ConstExpr::Bits(value.bits()),
        Operator::RefNull { .. } => ConstExpr::Null,
        Operator::RefFunc { function_index } => ConstExpr::Func(funcs[function_index as usize]),
        Operator::GlobalGet { global_index } => ConstExpr::Global(globals[global_index as usize]),
        other => {
            return Err(LoadError::Unsupported {
                message: format!("constant expression {other:?}"),
                offset: reader.original_position(),
            });
        }
    })
}

impl Reader<'_> {
    fn type_id(&mut self, ty: &FuncType) -> u32 {
        let next = self.type_ids.len() as u32;
        *self.type_ids.entry(ty.clone()).or_insert(next)
    }

    fn add_func(&mut self, type_index: u32, kind: FuncKind) {
        let ty = self.types[type_index as usize].clone();
        let type_id = self.type_id(&ty);
        self.funcs.push(self.program.funcs.len() as u32);
        self.program.funcs.push(FuncInfo {
            ty,
            type_id,
            memory: 0,
            kind,
        });
    }

    /// What the next import resolves to in the store, if anything.
    fn next_resolved(&mut self) -> Option<Export> {
        let resolved = self.resolved.get(self.next_import).copied().flatten();
        self.next_import += 1;
        resolved
    }

    fn add_memory(&mut self, memory: MemoryInfo) {
        self.memory = Some(self.program.memories.len() as u32);
        self.program.memories.push(memory);
    }

    fn read(mut self, bytes: &[u8]) -> Result<(Lowered, HashMap<FuncType, u32>), LoadError> {
        let mut defined = Vec::new();
        for payload in Parser::new(0).parse_all(bytes) {
            match payload.map_err(LoadError::from_parser)? {
                Payload::TypeSection(reader) => {
                    for group in reader {
                        for sub in group.map_err(LoadError::from_parser)?.into_types() {
                            self.types.push(func_type(&sub)?);
                        }
                    }
                }
                Payload::ImportSection(reader) => {
                    for import in reader.into_imports() {
                        let import = import.map_err(LoadError::from_parser)?;
                        let names = (import.module.to_owned(), import.name.to_owned());
                        let resolved = self.next_resolved();
                        match (import.ty, resolved) {
                            (TypeRef::Func(_), Some(Export::Func(index))) => self.funcs.push(index),
                            (TypeRef::Global(_), Some(Export::Global(index))) => {
                                self.globals.push(index);
                            }
                            (TypeRef::Table(_), Some(Export::Table(index))) => {
                                self.tables.push(index);
                            }
                            (TypeRef::Memory(_), Some(Export::Memory(index))) => {
                                self.memory = Some(index);
                            }
                            (_, Some(other)) => {
                                return Err(LoadError::Unsupported {
                                    message: format!(
                                        "import {}.{} resolved to {other:?}, another kind",
                                        names.0, names.1
                                    ),
                                    offset: 0,
                                });
                            }
                            (TypeRef::Func(index), None) => self.add_func(
                                index,
                                FuncKind::Import {
                                    module: names.0,
                                    name: names.1,
                                },
                            ),
                            (TypeRef::Global(g), None) => {
                                self.globals.push(self.program.globals.len() as u32);
                                self.program.globals.push(GlobalInfo {
                                    ty: val_type(g.content_type),
                                    mutable: g.mutable,
                                    init: GlobalInit::Import {
                                        module: names.0,
                                        name: names.1,
                                    },
                                });
                            }
                            (TypeRef::Memory(m), None) => self.add_memory(MemoryInfo {
                                min_pages: m.initial,
                                max_pages: m.maximum,
                                import: Some(names),
                            }),
                            (TypeRef::Table(t), None) => {
                                self.tables.push(self.program.tables.len() as u32);
                                self.program.tables.push(TableInfo {
                                    elem: val_type(wasmparser::ValType::Ref(t.element_type)),
                                    min: t.initial,
                                    max: t.maximum,
                                    import: Some(names),
                                    init: ConstExpr::Null,
                                });
                            }
                            (other, None) => {
                                return Err(LoadError::Unsupported {
                                    message: format!("import of {other:?}"),
                                    offset: 0,
                                });
                            }
                        }
                    }
                }
                Payload::FunctionSection(reader) => {
                    for index in reader {
                        let index = index.map_err(LoadError::from_parser)?;
                        defined.push(self.program.funcs.len());
                        self.add_func(
                            index,
                            FuncKind::Defined {
                                entry: 0,
                                locals: 0,
                                max_height: 0,
                            },
                        );
                    }
                }
                Payload::TableSection(reader) => {
                    for table in reader {
                        let table = table.map_err(LoadError::from_parser)?;
                        let init = match &table.init {
                            TableInit::RefNull => ConstExpr::Null,
                            TableInit::Expr(expr) => const_expr(expr, &self.funcs, &self.globals)?,
                        };
                        self.tables.push(self.program.tables.len() as u32);
                        self.program.tables.push(TableInfo {
                            elem: val_type(wasmparser::ValType::Ref(table.ty.element_type)),
                            min: table.ty.initial,
                            max: table.ty.maximum,
                            import: None,
                            init,
                        });
                    }
                }
                Payload::MemorySection(reader) => {
                    for memory in reader {
                        let memory = memory.map_err(LoadError::from_parser)?;
                        self.add_memory(MemoryInfo {
                            min_pages: memory.initial,
                            max_pages: memory.maximum,
                            import: None,
                        });
                    }
                }
                Payload::GlobalSection(reader) => {
                    for global in reader {
                        let global = global.map_err(LoadError::from_parser)?;
                        if !is_number(&global.init_expr)? {
                            self.startup.charge(const_ops(&global.init_expr)?);
                        }
                        let init = const_expr(&global.init_expr, &self.funcs, &self.globals)?;
                        self.globals.push(self.program.globals.len() as u32);
                        self.program.globals.push(GlobalInfo {
                            ty: val_type(global.ty.content_type),
                            mutable: global.ty.mutable,
                            init: GlobalInit::Expr(init),
                        });
                    }
                }
                Payload::ExportSection(reader) => {
                    for export in reader {
                        let export = export.map_err(LoadError::from_parser)?;
                        let target = match export.kind {
                            ExternalKind::Func => Export::Func(self.funcs[export.index as usize]),
                            ExternalKind::Global => {
                                Export::Global(self.globals[export.index as usize])
                            }
                            ExternalKind::Memory => Export::Memory(self.memory.unwrap_or(0)),
                            ExternalKind::Table => {
                                Export::Table(self.tables[export.index as usize])
                            }
                            other => {
                                return Err(LoadError::Unsupported {
                                    message: format!("export of {other:?}"),
                                    offset: 0,
                                });
                            }
                        };
                        self.exports.insert(export.name.to_owned(), target);
                    }
                }
                Payload::StartSection { func, .. } => {
                    self.start = Some(self.funcs[func as usize]);
                    // The startup function calls it.
                    self.startup.charge(1);
                }
                Payload::ElementSection(reader) => {
                    for elem in reader {
                        let elem = elem.map_err(LoadError::from_parser)?;
                        if matches!(elem.kind, ElementKind::Passive) {
                            let exprs = match &elem.items {
                                ElementItems::Functions(_) => 0,
                                ElementItems::Expressions(_, exprs) => {
                                    let mut ops = 0;
                                    for expr in exprs.clone() {
                                        ops += const_ops(&expr.map_err(LoadError::from_parser)?)?;
                                    }
                                    ops
                                }
                            };
                            self.startup.charge(exprs);
                        }
                        let items = match elem.items {
                            ElementItems::Functions(funcs) => funcs
                                .into_iter()
                                .map(|f| {
                                    f.map(|f| ConstExpr::Func(self.funcs[f as usize]))
                                        .map_err(LoadError::from_parser)
                                })
                                .collect::<Result<Vec<_>, _>>()?,
                            ElementItems::Expressions(_, exprs) => exprs
                                .into_iter()
                                .map(|e| {
                                    const_expr(
                                        &e.map_err(LoadError::from_parser)?,
                                        &self.funcs,
                                        &self.globals,
                                    )
                                })
                                .collect::<Result<Vec<_>, _>>()?,
                        };
                        let (active, declared) = match elem.kind {
                            ElementKind::Passive => (None, false),
                            ElementKind::Declared => (None, true),
                            ElementKind::Active {
                                table_index,
                                offset_expr,
                            } => (
                                Some((
                                    self.tables[table_index.unwrap_or(0) as usize],
                                    const_expr(&offset_expr, &self.funcs, &self.globals)?,
                                )),
                                false,
                            ),
                        };
                        self.program.elems.push(ElemSegment {
                            active,
                            declared,
                            items,
                        });
                    }
                }
                Payload::DataSection(reader) => {
                    for data in reader {
                        let data = data.map_err(LoadError::from_parser)?;
                        let offset = match data.kind {
                            DataKind::Passive => None,
                            DataKind::Active { offset_expr, .. } => {
                                Some(const_expr(&offset_expr, &self.funcs, &self.globals)?)
                            }
                        };
                        self.program.data.push(DataSegment {
                            offset,
                            memory: self.memory.unwrap_or(0),
                            bytes: data.data.to_vec(),
                        });
                    }
                }
                Payload::CodeSectionEntry(body) => {
                    let func = defined[self.next_body as usize] as u32;
                    self.next_body += 1;
                    self.lower_body(func, &body)?;
                }
                _ => {}
            }
        }
        let words = self.program.code.len() + CODE_BASE as usize;
        if u32::try_from(words).is_err() {
            return Err(LoadError::TooLarge { words });
        }
        self.program.exports = self.exports.clone();
        self.program.start = self.start;
        self.program.startup_fuel = self.startup.total();
        Ok((
            Lowered {
                program: self.program,
                exports: self.exports,
                start: self.start,
                startup_fuel: self.startup.total(),
            },
            self.type_ids,
        ))
    }
}

/// `br_table` entries whose target is this word return from the function instead.
pub const RETURN_TARGET: u32 = u32::MAX - 1;

/// The table instruction for a plain numeric WebAssembly instruction.
fn numeric(op: &Operator<'_>) -> Option<Op> {
    macro_rules! map {
        ($($name:ident)*) => {
            match op {
                $(Operator::$name => Some(Op::$name),)*
                _ => None,
            }
        };
    }
    map! {
        I32Eqz I32Eq I32Ne I32LtS I32LtU I32GtS I32GtU I32LeS I32LeU I32GeS I32GeU
        I32Clz I32Ctz I32Popcnt I32Add I32Sub I32Mul I32DivS I32DivU I32RemS I32RemU
        I32And I32Or I32Xor I32Shl I32ShrS I32ShrU I32Rotl I32Rotr I32Extend8S I32Extend16S
        I64Eqz I64Eq I64Ne I64LtS I64LtU I64GtS I64GtU I64LeS I64LeU I64GeS I64GeU
        I64Clz I64Ctz I64Popcnt I64Add I64Sub I64Mul I64DivS I64DivU I64RemS I64RemU
        I64And I64Or I64Xor I64Shl I64ShrS I64ShrU I64Rotl I64Rotr
        I64Extend8S I64Extend16S I64Extend32S I32WrapI64 I64ExtendI32S I64ExtendI32U
        F32Abs F32Neg F32Copysign F32Add F32Sub F32Mul F32Div F32Min F32Max F32Sqrt
        F32Ceil F32Floor F32Trunc F32Nearest F32Eq F32Ne F32Lt F32Gt F32Le F32Ge
        F64Abs F64Neg F64Copysign F64Add F64Sub F64Mul F64Div F64Min F64Max F64Sqrt
        F64Ceil F64Floor F64Trunc F64Nearest F64Eq F64Ne F64Lt F64Gt F64Le F64Ge
        I32TruncF32S I32TruncF32U I32TruncF64S I32TruncF64U
        I64TruncF32S I64TruncF32U I64TruncF64S I64TruncF64U
        I32TruncSatF32S I32TruncSatF32U I32TruncSatF64S I32TruncSatF64U
        I64TruncSatF32S I64TruncSatF32U I64TruncSatF64S I64TruncSatF64U
        F32ConvertI32S F32ConvertI32U F32ConvertI64S F32ConvertI64U
        F64ConvertI32S F64ConvertI32U F64ConvertI64S F64ConvertI64U
        F32DemoteF64 F64PromoteF32
    }
}
