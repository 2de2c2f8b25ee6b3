//! naga validation of WGSL: nothing reaches the GPU without passing through here.

use naga::valid::{Capabilities, ShaderStages, SubgroupOperationSet, ValidationFlags, Validator};

/// Optional shader capabilities a device may have.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShaderCapabilities {
    /// 64-bit integers (`i64`, `u64`).
    pub int64: bool,
    /// Subgroup operations in compute shaders (`subgroupMin` and the rest of WGSL's subgroup
    /// builtins).
    pub subgroups: bool,
    /// 64-bit floats (`f64`): the float unit's fast path computes f64 on the GPU
    /// ([`NativeFloats`](crate::NativeFloats)).
    pub float64: bool,
}

impl ShaderCapabilities {
    fn naga(self) -> Capabilities {
        let mut capabilities = Capabilities::empty();
        capabilities.set(Capabilities::SHADER_INT64, self.int64);
        capabilities.set(Capabilities::SUBGROUP, self.subgroups);
        capabilities.set(Capabilities::FLOAT64, self.float64);
        capabilities.set(Capabilities::FLOAT64, self.float64);
        capabilities
    }

    fn validator(self) -> Validator {
        let mut validator = Validator::new(ValidationFlags::all(), self.naga());
        if self.subgroups {
            validator
                .subgroup_stages(ShaderStages::COMPUTE)
                .subgroup_operations(SubgroupOperationSet::all());
        }
        validator
    }
}

/// WGSL that naga parsed and validated, with the label it is known by.
///
/// The only way to get one is [`validate_wgsl`], so the GPU backend can ask for this type and
/// never compile unvalidated source.
#[derive(Clone, Debug)]
pub struct ValidatedWgsl {
    label: String,
    source: String,
    module: naga::Module,
}

impl ValidatedWgsl {
    /// The label used in diagnostics and for GPU objects.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The WGSL source.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// naga's module for the source.
    pub fn module(&self) -> &naga::Module {
        &self.module
    }
}

/// WGSL that naga rejected, with naga's rendered diagnostic.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WgslError {
    /// The source does not parse.
    #[error("WGSL `{label}` does not parse:\n{diagnostic}")]
    Parse {
        /// The shader's label.
        label: String,
        /// naga's diagnostic, with source excerpts.
        diagnostic: String,
    },
    /// The source parses but is not valid for these capabilities.
    #[error("WGSL `{label}` is invalid:\n{diagnostic}")]
    Invalid {
        /// The shader's label.
        label: String,
        /// naga's diagnostic, with source excerpts.
        diagnostic: String,
    },
}

/// Parses and validates `source` for a device with `capabilities`.
pub fn validate_wgsl(
    label: &str,
    source: String,
    capabilities: ShaderCapabilities,
) -> Result<ValidatedWgsl, WgslError> {
    let module = naga::front::wgsl::parse_str(&source).map_err(|err| WgslError::Parse {
        label: label.to_owned(),
        diagnostic: err.emit_to_string_with_path(&source, label),
    })?;
    capabilities
        .validator()
        .validate(&module)
        .map_err(|err| WgslError::Invalid {
            label: label.to_owned(),
            diagnostic: err.emit_to_string_with_path(&source, label),
        })?;
    Ok(ValidatedWgsl {
        label: label.to_owned(),
        source,
        module,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostics_name_the_label_and_the_line() {
        let err = validate_wgsl(
            "broken.wgsl",
            "fn f() -> u32 { return 1.5; }".to_owned(),
            ShaderCapabilities::default(),
        )
        .unwrap_err();
        let WgslError::Parse { diagnostic, .. } = &err else {
            panic!("expected a parse error, got {err}");
        };
        assert!(diagnostic.contains("broken.wgsl:1:24"), "{diagnostic}");
        // A builtin of the wrong type parses but fails validation.
        let err = validate_wgsl(
            "entry.wgsl",
            "@compute @workgroup_size(1) fn main(@builtin(global_invocation_id) id: u32) {}"
                .to_owned(),
            ShaderCapabilities::default(),
        )
        .unwrap_err();
        assert!(matches!(err, WgslError::Invalid { .. }), "{err}");
    }

    #[test]
    fn int64_needs_the_capability() {
        let source = "fn f(x: u64) -> u64 { return x + 1lu; }".to_owned();
        assert!(validate_wgsl("a", source.clone(), ShaderCapabilities::default()).is_err());
        validate_wgsl(
            "a",
            source,
            ShaderCapabilities {
                int64: true,
                subgroups: true,
                float64: true,
            },
        )
        .unwrap();
    }
}
