//! The compiled tier's WGSL for real modules (the benchmark's programs and guests) and small
//! ones validates with naga, and the plans cover what they should.

use swarm_core::{DeviceLimits, Layout, SwarmConfig};
use swarm_shader::{
    CompileBudget, CompilePlan, KernelOptions, NativeFloats, Scheduling, ShaderCapabilities,
    compiled_wgsl, disasm, lower, validate_wgsl,
};

fn modules() -> Vec<(String, Vec<u8>)> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../swarm-bench");
    let mut modules = vec![(
        "guests".to_owned(),
        std::fs::read(format!("{root}/guests/swarm_guests.wasm")).expect("the guests' module"),
    )];
    let mut programs: Vec<_> = std::fs::read_dir(format!("{root}/programs"))
        .expect("the programs")
        .filter_map(|entry| {
            let dir = entry.ok()?.path();
            let name = dir.file_name()?.to_str()?.to_owned();
            let bytes = std::fs::read(dir.join(format!("{name}.wasm"))).ok()?;
            Some((name, bytes))
        })
        .collect();
    programs.sort();
    assert!(programs.len() >= 10, "the benchmark's programs are missing");
    modules.extend(programs);
    modules
}

/// Every float width on the GPU's float unit, and no gate.
const OPTIONS: KernelOptions = KernelOptions {
    scheduling: Scheduling::Free,
    floats: NativeFloats::F32AndF64,
};

#[test]
fn real_modules_compile_to_valid_wgsl() {
    let capabilities = ShaderCapabilities {
        int64: true,
        subgroups: true,
        float64: true,
    };
    let layout = Layout::new(&SwarmConfig::default(), &DeviceLimits::LAVAPIPE).expect("layout");
    for (name, bytes) in modules() {
        let program = lower(&bytes).expect("the module lowers");
        let plan = CompilePlan::new(&program, &CompileBudget::default(), OPTIONS.floats);
        let (compiled, total) = plan.coverage();
        assert!(plan.blocks() > 0, "{name}: no block");
        let budget = CompileBudget::default();
        assert!(
            compiled * 2 > total
                || compiled * 10 > budget.instructions * 9
                || plan.blocks() == budget.blocks as usize,
            "{name}: {compiled} of {total} instructions compiled"
        );
        assert!(compiled <= budget.instructions && plan.blocks() <= budget.blocks as usize);
        assert_eq!(
            plan.regions(),
            plan.blocks(),
            "{name}: regions are off by default"
        );
        validate_wgsl(
            &format!("{name} compiled"),
            compiled_wgsl(&layout, program.op_groups, &plan, OPTIONS),
            capabilities,
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        // The same blocks joined into regions.
        let regions = CompileBudget {
            region_blocks: 32,
            ..budget
        };
        let plan = CompilePlan::new(&program, &regions, NativeFloats::F32);
        validate_wgsl(
            &format!("{name} compiled in regions"),
            compiled_wgsl(
                &layout,
                program.op_groups,
                &plan,
                KernelOptions {
                    scheduling: Scheduling::LowestPcFirst,
                    floats: NativeFloats::F32,
                },
            ),
            capabilities,
        )
        .unwrap_or_else(|e| panic!("{name} in regions: {e}"));
    }
}

/// CoreMark's module, lowered.
fn coremark() -> swarm_shader::Program {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../swarm-bench/programs/coremark/coremark.wasm"
    ))
    .expect("CoreMark");
    lower(&bytes).expect("lowers")
}

#[test]
fn block_ids_mark_instruction_starts_and_the_budget_holds() {
    let program = coremark();
    let budget = CompileBudget {
        block_instructions: 8,
        instructions: 2_000,
        blocks: 1_000,
        region_blocks: 32,
        ..CompileBudget::default()
    };
    let plan = CompilePlan::new(&program, &budget, NativeFloats::F32AndF64);
    let (compiled, total) = plan.coverage();
    assert!(compiled <= 2_000 && compiled > 1_000, "{compiled}");
    assert!(total > compiled);
    // Blocks that branch to one another share a region; no region is larger than its cap.
    assert!(
        plan.regions() * 2 < plan.blocks() && plan.regions() * 32 >= plan.blocks(),
        "{} blocks in {} regions",
        plan.blocks(),
        plan.regions()
    );
    let mut image = vec![0_u32; swarm_shader::CODE_BASE as usize];
    image.extend_from_slice(&program.code);
    let original = image.clone();
    plan.mark(&mut image);
    let marked: Vec<u32> = (0..image.len())
        .filter(|&pc| image[pc] != original[pc])
        .map(|pc| pc as u32)
        .collect();
    assert_eq!(marked.len(), plan.blocks());
    // Every marked word is an instruction's first word, and the listing is unchanged by the
    // marks (the interpreter masks them off).
    let listing = disasm::disassemble(&program);
    for pc in &marked {
        assert!(
            listing.contains(&format!("\n  {pc:>4}")),
            "pc {pc} is not an instruction"
        );
    }
    for pc in marked {
        let (word, before) = (image[pc as usize], original[pc as usize]);
        assert_eq!(word & ((1 << swarm_shader::isa::BLOCK_SHIFT) - 1), before);
        assert_ne!(word >> swarm_shader::isa::BLOCK_SHIFT, 0);
    }
}

#[test]
fn a_smaller_kernel_keeps_the_larger_ones_block_ids() {
    let program = coremark();
    let first = CompileBudget::default();
    let larger = CompileBudget {
        instructions: 4_500,
        blocks: 300,
        ..first
    };
    let full = CompilePlan::new(&program, &larger, NativeFloats::F32AndF64);
    let small = full.within(first.instructions, first.blocks);
    assert!(small.blocks() <= first.blocks as usize);
    assert!(small.coverage().0 <= first.instructions);
    assert!(
        full.blocks() > small.blocks() + 100,
        "{} blocks",
        full.blocks()
    );
    // The smaller kernel's blocks are the larger one's, ids and all.
    let ids: std::collections::BTreeSet<u32> = full.block_ids().collect();
    assert!(small.block_ids().all(|id| ids.contains(&id)));
    // It picks what `new` picks at its budget: the same share of the expected work.
    let alone = CompilePlan::new(&program, &first, NativeFloats::F32AndF64);
    let (picked, alone_picked) = (small.coverage().0, alone.coverage().0);
    assert!(
        picked.abs_diff(alone_picked) * 20 <= alone_picked,
        "{picked} against {alone_picked}"
    );
    // Both kernels are valid WGSL over the one code image the larger plan marks.
    let layout = Layout::new(&SwarmConfig::default(), &DeviceLimits::LAVAPIPE).unwrap();
    for (name, plan) in [("larger", &full), ("smaller", &small)] {
        validate_wgsl(
            name,
            compiled_wgsl(&layout, program.op_groups, plan, OPTIONS),
            ShaderCapabilities {
                int64: true,
                subgroups: true,
                float64: true,
            },
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
