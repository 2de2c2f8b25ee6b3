//! WGSL declarations of the records shared with the host, generated from `swarm-core`.

use swarm_core::{AgentStatus, ArgRule, DispatchParams, GpuStruct, SpawnHeader, SpawnRecord};

/// WGSL declarations of every record the host and GPU exchange.
pub fn records_wgsl() -> String {
    [
        AgentStatus::wgsl(),
        DispatchParams::wgsl(),
        SpawnHeader::wgsl(),
        SpawnRecord::wgsl(),
        ArgRule::wgsl(),
    ]
    .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ShaderCapabilities, validate_wgsl};
    use naga::TypeInner;

    /// naga's layout of each generated struct must match the Rust struct byte for byte.
    #[test]
    fn naga_layout_matches_rust() {
        let wgsl = validate_wgsl("records", records_wgsl(), ShaderCapabilities::default()).unwrap();
        let module = wgsl.module();
        let mut layouter = naga::proc::Layouter::default();
        layouter.update(module.to_ctx()).unwrap();

        let check = |name: &str, fields: &[swarm_core::WgslField], size: usize| {
            let (handle, ty) = module
                .types
                .iter()
                .find(|(_, ty)| ty.name.as_deref() == Some(name))
                .unwrap_or_else(|| panic!("{name} is declared"));
            let TypeInner::Struct { members, span } = &ty.inner else {
                panic!("{name} is a struct");
            };
            assert_eq!(*span as usize, size, "{name} size");
            assert_eq!(layouter[handle].size as usize, size, "{name} layout size");
            assert_eq!(members.len(), fields.len(), "{name} field count");
            for (member, field) in members.iter().zip(fields) {
                assert_eq!(member.name.as_deref(), Some(field.name));
                assert_eq!(
                    member.offset as usize, field.offset,
                    "{name}.{}",
                    field.name
                );
            }
        };
        check(AgentStatus::NAME, AgentStatus::FIELDS, AgentStatus::SIZE);
        check(
            DispatchParams::NAME,
            DispatchParams::FIELDS,
            DispatchParams::SIZE,
        );
        check(SpawnHeader::NAME, SpawnHeader::FIELDS, SpawnHeader::SIZE);
        check(SpawnRecord::NAME, SpawnRecord::FIELDS, SpawnRecord::SIZE);
        check(ArgRule::NAME, ArgRule::FIELDS, ArgRule::SIZE);
    }
}
