//! Runs compute shaders on the real default adapter (lavapipe in CI) and checks every result.

use swarm_core::{DispatchGrid, DispatchParams, GpuStruct};
use swarm_gpu::{
    AdapterError, AdapterRequest, BindingKind, Dispatch, GpuContext, GpuError, ReadRequest,
    every_adapter,
};
use swarm_shader::{ShaderCapabilities, records_wgsl, validate_wgsl};

const POISON: u32 = 0xDEAD_BEEF;
const WORKGROUP_SIZE: u32 = 64;

fn context() -> GpuContext {
    GpuContext::new(&AdapterRequest::from_env())
        .unwrap_or_else(|err| panic!("GPU tests need an adapter: {err}"))
}

fn kernel_source() -> String {
    format!(
        "{records}
@group(0) @binding(0) var<uniform> params: DispatchParams;
@group(0) @binding(1) var<storage, read> input: array<u32>;
@group(0) @binding(2) var<storage, read_write> output: array<u32>;

@compute @workgroup_size({WORKGROUP_SIZE})
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) local: u32) {{
    let index = (group.y * params.groups_x + group.x) * {WORKGROUP_SIZE}u + local;
    if index >= params.agent_count {{
        return;
    }}
    var x = input[index] ^ (index * 0x9E3779B9u);
    x ^= x << 13u;
    x ^= x >> 17u;
    x ^= x << 5u;
    output[index] = x;
}}
",
        records = records_wgsl()
    )
}

fn expected(index: u32, input: u32) -> u32 {
    let mut x = input ^ index.wrapping_mul(0x9E37_79B9);
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    x
}

/// Every element of a two-dimensional dispatch is computed once and the buffer tail past the
/// agent count is left alone.
#[test]
fn compute_shader_writes_every_element_over_a_two_dimensional_grid() {
    let gpu = context();
    let wgsl = validate_wgsl("xorshift", kernel_source(), gpu.capabilities()).unwrap();
    let kernel = gpu
        .create_kernel(
            &wgsl,
            "main",
            &[
                BindingKind::Uniform,
                BindingKind::StorageRead,
                BindingKind::StorageReadWrite,
            ],
        )
        .unwrap();

    let count: u32 = 200_003;
    let tail: u32 = 61;
    // A small per-dimension limit forces the grid into y, as 65,535 does for large swarms.
    let grid = DispatchGrid::for_agents(count, WORKGROUP_SIZE, 100).unwrap();
    assert!(grid.y > 1);

    let params = DispatchParams {
        agent_count: count,
        groups_x: grid.x,
        ..Default::default()
    };
    let input: Vec<u32> = (0..count)
        .map(|i| i.wrapping_mul(2_654_435_761).rotate_left(7))
        .collect();
    let uniform = gpu
        .create_uniform_buffer("params", DispatchParams::SIZE as u64)
        .unwrap();
    let input_buffer = gpu
        .create_storage_buffer("input", u64::from(count) * 4)
        .unwrap();
    let output_buffer = gpu
        .create_storage_buffer("output", u64::from(count + tail) * 4)
        .unwrap();
    gpu.write_buffer(&uniform, 0, bytemuck::bytes_of(&params))
        .unwrap();
    gpu.write_buffer(&input_buffer, 0, bytemuck::cast_slice(&input))
        .unwrap();
    let poison = vec![POISON; (count + tail) as usize];
    gpu.write_buffer(&output_buffer, 0, bytemuck::cast_slice(&poison))
        .unwrap();

    let bindings = gpu
        .bind(&kernel, &[&uniform, &input_buffer, &output_buffer])
        .unwrap();
    let mut data: Vec<Vec<u8>> = Vec::new();
    let timing = gpu
        .dispatch(
            &[&[Dispatch {
                kernel: &kernel,
                bindings: &bindings,
                grid,
            }]],
            &[ReadRequest {
                buffer: &output_buffer,
                offset: 0,
                size: u64::from(count + tail) * 4,
            }],
            |reads| data.extend(reads.iter().map(|bytes| bytes.to_vec())),
        )
        .unwrap();
    assert_eq!(timing.gpu.is_some(), gpu.has_timestamps());

    let output: &[u32] = bytemuck::cast_slice(&data[0]);
    for (index, &value) in output.iter().enumerate().take(count as usize) {
        let want = expected(index as u32, input[index]);
        assert_eq!(value, want, "element {index}");
    }
    assert!(output[count as usize..].iter().all(|&v| v == POISON));
}

/// wgpu's validation errors come back as typed errors, not panics.
#[test]
fn wgpu_validation_errors_are_typed() {
    let gpu = context();
    let wgsl = validate_wgsl("xorshift", kernel_source(), gpu.capabilities()).unwrap();
    let kernel = gpu
        .create_kernel(
            &wgsl,
            "main",
            &[
                BindingKind::Uniform,
                BindingKind::StorageRead,
                BindingKind::StorageReadWrite,
            ],
        )
        .unwrap();
    let storage = gpu.create_storage_buffer("storage", 64).unwrap();
    let uniform = gpu.create_uniform_buffer("uniform", 32).unwrap();

    let err = gpu.bind(&kernel, &[&storage]).unwrap_err();
    assert!(
        matches!(
            err,
            GpuError::BindingCount {
                expected: 3,
                given: 1,
                ..
            }
        ),
        "{err}"
    );

    // A uniform-only buffer bound where the kernel wants storage.
    let err = gpu
        .bind(&kernel, &[&uniform, &uniform, &storage])
        .unwrap_err();
    assert!(matches!(err, GpuError::Validation { .. }), "{err}");

    // An entry point the shader does not have.
    let err = gpu
        .create_kernel(&wgsl, "no_such_entry", &[BindingKind::Uniform])
        .unwrap_err();
    assert!(matches!(err, GpuError::Validation { .. }), "{err}");

    // The device is still usable after the errors.
    gpu.read_buffers(&[ReadRequest {
        buffer: &storage,
        offset: 0,
        size: 64,
    }])
    .unwrap();
}

#[test]
fn an_adapter_name_that_matches_nothing_is_a_typed_error() {
    let request = AdapterRequest {
        name: Some("no adapter is called this".to_owned()),
        ..AdapterRequest::from_env()
    };
    let err = GpuContext::new(&request).unwrap_err();
    let AdapterError::NoMatchingName { available, .. } = &err else {
        panic!("expected NoMatchingName, got {err}");
    };
    assert!(
        !available.is_empty(),
        "the default adapter should be listed"
    );
}

#[test]
fn int64_is_reported_consistently() {
    let gpu = context();
    let source = "@compute @workgroup_size(1) fn main() { let x: u64 = 1lu; }".to_owned();
    let validated = validate_wgsl(
        "int64",
        source,
        ShaderCapabilities {
            int64: true,
            subgroups: true,
            float64: true,
        },
    )
    .unwrap();
    let result = gpu.create_kernel(&validated, "main", &[]);
    assert_eq!(result.is_ok(), gpu.capabilities().int64, "{result:?}");
}

#[test]
fn every_adapter_names_each_gpu_by_index_and_an_index_past_them_is_a_typed_error() {
    let here = AdapterRequest::from_env();
    let requests = every_adapter(&here).unwrap();
    assert!(!requests.is_empty(), "the test adapter is listed");
    let reports: Vec<_> = requests
        .iter()
        .map(|request| GpuContext::new(request).unwrap().report().clone())
        .collect();
    // One backend, one kind: every request opens an adapter of the kind the first one is.
    assert!(
        reports
            .iter()
            .all(|r| r.device_type == reports[0].device_type),
        "{reports:?}"
    );
    let names: Vec<&str> = reports.iter().map(|r| r.name.as_str()).collect();
    assert!(requests.iter().all(|r| r.backends == requests[0].backends));
    // Each names its adapter by a distinct index.
    let mut indices: Vec<usize> = requests.iter().map(|r| r.index.unwrap()).collect();
    indices.dedup();
    assert_eq!(indices.len(), requests.len(), "{names:?}");
    let past = AdapterRequest {
        index: Some(requests.len() + 5),
        ..requests[0].clone()
    };
    let err = GpuContext::new(&past).unwrap_err();
    assert!(
        matches!(err, AdapterError::NoAdapterAt { index, matching } if index == requests.len() + 5 && matching >= requests.len()),
        "{err}"
    );
}
