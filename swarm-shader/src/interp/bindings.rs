//! The interpreter's binding table: every buffer its kernels bind, in binding order, with the
//! access and WGSL type it has. The WGSL declarations are generated from it, and the backend
//! builds the bind group layout and the bind groups from it.

use std::fmt::Write;

/// How a kernel accesses one binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BindingAccess {
    /// `var<uniform>`.
    Uniform,
    /// `var<storage, read>`.
    Read,
    /// `var<storage, read_write>`.
    ReadWrite,
}

/// A buffer the interpreter binds; its position in [`InterpBinding::ALL`] is its binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InterpBinding {
    /// The dispatch's parameters (`DispatchParams`).
    Params,
    /// The code image with the module's starting state after it.
    Code,
    /// The chunk's interleaved linear memories.
    Memory,
    /// The chunk's state: globals, tables, call frames, and the interleaved value stacks.
    State,
    /// The chunk's status records and results.
    Status,
    /// The chunk's output bytes.
    Output,
    /// The work list: the agents a dispatch runs when `params.use_list` is set, or what a spawn
    /// writes into new slots.
    List,
}

impl InterpBinding {
    /// Every binding, in binding order.
    pub const ALL: [InterpBinding; 7] = [
        Self::Params,
        Self::Code,
        Self::Memory,
        Self::State,
        Self::Status,
        Self::Output,
        Self::List,
    ];

    /// The variable's name in WGSL.
    pub fn name(self) -> &'static str {
        match self {
            Self::Params => "params",
            Self::Code => "code",
            Self::Memory => "memory",
            Self::State => "state",
            Self::Status => "status",
            Self::Output => "output",
            Self::List => "list",
        }
    }

    /// How the kernels access it.
    pub fn access(self) -> BindingAccess {
        match self {
            Self::Params => BindingAccess::Uniform,
            Self::Code | Self::List => BindingAccess::Read,
            Self::Memory | Self::State | Self::Status | Self::Output => BindingAccess::ReadWrite,
        }
    }
}

/// The WGSL declarations of [`InterpBinding::ALL`], in group 0.
pub fn bindings_wgsl() -> String {
    let mut wgsl = String::new();
    for (index, binding) in InterpBinding::ALL.iter().enumerate() {
        let (space, ty) = match binding.access() {
            BindingAccess::Uniform => ("uniform", "DispatchParams"),
            BindingAccess::Read => ("storage, read", "array<u32>"),
            BindingAccess::ReadWrite => ("storage, read_write", "array<u32>"),
        };
        writeln!(
            wgsl,
            "@group(0) @binding({index}) var<{space}> {}: {ty};",
            binding.name()
        )
        .expect("writing to a String");
    }
    wgsl
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_binding_is_declared_once_in_order() {
        let wgsl = bindings_wgsl();
        let lines: Vec<&str> = wgsl.lines().collect();
        assert_eq!(lines.len(), InterpBinding::ALL.len());
        assert_eq!(
            lines[0],
            "@group(0) @binding(0) var<uniform> params: DispatchParams;"
        );
        assert_eq!(
            lines[6],
            "@group(0) @binding(6) var<storage, read> list: array<u32>;"
        );
        assert!(lines[2].ends_with("var<storage, read_write> memory: array<u32>;"));
    }
}
