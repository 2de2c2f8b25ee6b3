//! `cargo xtask`: project automation (tests, adapter set-up, shader validation).

use std::path::Path;
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};

mod fuzz;
mod layering;
mod programs;
mod setup;
mod spec;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test       set up a GPU if needed, then fmt check, clippy -D warnings, layering check,
             shader validation, all tests, the spec suite, 1,000 fuzz cases and the
             benchmark smoke test
  demo       set up a GPU if needed, then run the demo swarm: 1,024 agents of
             examples/collatz.wat on the default adapter (release build)
  adapters   list the GPU adapters wgpu sees, with the limits and features swarm requests
  layering   check the crate layering invariants of ARCHITECTURE.md
  shaders    validate every WGSL source swarm generates with naga
  spec [FILTER] [-v] [--tier T] [--jobs N]
             run the WebAssembly 2.0 spec suite (non-SIMD files) on the GPU, on the
             interpreter or with the tier T forced (auto, interpreter or compiled), on N
             threads (default: one per core)
  bench [--quick] [OPTIONS]
             run the benchmarks against wasmtime and wasmi (release build) and write
             target/swarm-bench/report.md, throughput.svg and results.csv; --quick is a
             smoke test on the dev build; other options go to swarm-bench (see --help)
  fuzz [--cases N] [--seed S] [--agents A] [--out DIR] [--shrink-attempts N] [--tier T]
             differential fuzzing against wasmtime on wasm-smith modules; a mismatch is
             shrunk and written to target/fuzz (default: 100 cases from seed 0, 8 agents,
             the interpreter)
  guests     rebuild swarm-bench/guests/swarm_guests.wasm from its Rust sources
             (needs the wasm32-unknown-unknown target)
  programs [NAME...]
             rebuild the real-program modules swarm-bench/programs/*/*.wasm from their C
             sources (Debian's clang-14, lld-14, wasi-libc, libclang-rt-14-dev-wasm32) and
             check them against checksums.tsv on wasmtime
  wasi-guests
             rebuild the WASI programs: the tests' swarm-host/tests/wasi/*.wasm from their C
             sources (the same packages) and rust.wasm from tests/wasi/rust (adds the
             wasm32-wasip1 target), and the benchmarks' swarm-bench/wasi/*/*.wasm
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("demo") => demo(),
        Some("adapters") => setup::print_adapters(),
        Some("layering") => layering::check(),
        Some("shaders") => shaders(),
        Some("spec") => spec_tier(&args[1..]).and_then(|tier| {
            let pattern = args
                .get(1)
                .map(String::as_str)
                .filter(|a| !a.starts_with('-'));
            spec::run(
                &|name| pattern.is_none_or(|p| name.contains(p)),
                args.iter().any(|a| a == "-v" || a == "--verbose"),
                tier,
                spec::jobs(&args[1..])?,
            )
        }),
        Some("bench") => bench(&args[1..]),
        Some("guests") => guests(),
        Some("programs") => programs::run(&args[1..]),
        Some("wasi-guests") => programs::wasi_guests(),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("-h" | "--help" | "help") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(anyhow::anyhow!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The tier `cargo xtask spec` forces: `--tier T`, or the interpreter.
fn spec_tier(args: &[String]) -> Result<swarm_host::Tier> {
    match args.iter().position(|a| a == "--tier") {
        None => Ok(swarm_host::Tier::Interpreter),
        Some(at) => args
            .get(at + 1)
            .context("--tier needs a value: auto, interpreter or compiled")?
            .parse()
            .map_err(|e: String| anyhow::anyhow!(e)),
    }
}

/// The README's test command: everything CI checks.
fn test() -> Result<()> {
    setup::ensure_adapter()?;
    step("formatting", cargo(&["fmt", "--all", "--", "--check"]))?;
    step(
        "clippy",
        cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    layering::check()?;
    shaders()?;
    step("tests", cargo(&["test", "--workspace"]))?;
    // The spec suite runs in this process on the GPU; it needs the same environment.
    let jobs = spec::jobs(&[])?;
    spec::run(&|_| true, false, swarm_host::Tier::Interpreter, jobs)?;
    // The compiled tier's spec run, but for the four files whose pipeline builds take most of
    // its time (`spec::COMPILED_NOT_IN_CI`), beside the tier's lockstep tests and fuzzing.
    spec::run(
        &spec::compiled_in_ci,
        false,
        swarm_host::Tier::Compiled,
        jobs,
    )?;
    // A bounded differential fuzz against wasmtime, fixed seeds (about a minute on lavapipe),
    // and a shorter one on the compiled tier, which builds two pipelines per case.
    fuzz::run(&["--cases".to_owned(), "1000".to_owned()])?;
    fuzz::run(&[
        "--cases".to_owned(),
        "100".to_owned(),
        "--seed".to_owned(),
        "5000".to_owned(),
        "--tier".to_owned(),
        "compiled".to_owned(),
    ])?;
    // The benchmark report, as a smoke test: that it runs and writes its files.
    bench(&["--quick".to_owned()])?;
    println!("xtask: all checks passed");
    Ok(())
}

/// The README's demo command: a real swarm on the default adapter.
fn demo() -> Result<()> {
    setup::ensure_adapter()?;
    step(
        "demo",
        cargo(&[
            "run",
            "--release",
            "--bin",
            "swarm",
            "--",
            "run",
            "examples/collatz.wat",
            "--invoke",
            "steps",
            "--agents",
            "1024",
            "--args",
            "{id}",
        ]),
    )
}

/// The workspace root.
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
}

/// `cargo xtask bench`: the benchmark report.
fn bench(args: &[String]) -> Result<()> {
    setup::ensure_adapter()?;
    let quick = args.iter().any(|a| a == "--quick");
    let out = root().join("target/swarm-bench");
    let mut command = if quick {
        // The smoke test runs the dev build that `cargo test --workspace` makes: built for the
        // whole workspace, its dependencies have the tests' features, so CI builds them once.
        step(
            "bench: build",
            cargo(&["build", "--workspace", "--bins", "--tests"]),
        )?;
        Command::new(root().join("target/debug/swarm-bench"))
    } else {
        let mut command = cargo(&["run", "--package", "swarm-bench", "--bin", "swarm-bench"]);
        command.args(["--release", "--"]);
        command
    };
    command.arg("--out").arg(&out).args(args).env(
        "SWARM_BENCH_COMMAND",
        std::iter::once("cargo xtask bench")
            .chain(args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" "),
    );
    step("bench", command)?;
    let report = out.join("report.md");
    let text = std::fs::read_to_string(&report)
        .with_context(|| format!("reading {}", report.display()))?;
    if !text.contains("## Targets") {
        bail!("{} lacks its targets", report.display());
    }
    println!("xtask: bench: report in {}", report.display());
    Ok(())
}

/// `cargo xtask guests`: rebuilds the Rust benchmark guests for wasm32 and checks them.
fn guests() -> Result<()> {
    const TARGET: &str = "wasm32-unknown-unknown";
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == TARGET)
        })
        .unwrap_or(false);
    if !installed {
        bail!("the {TARGET} target is not installed; add it with `rustup target add {TARGET}`");
    }
    let dir = root().join("swarm-bench/guests");
    let mut build = cargo(&["build", "--release", "--target", TARGET]);
    build.current_dir(&dir);
    step("guests: build", build)?;
    let built = dir.join(format!("target/{TARGET}/release/swarm_guests.wasm"));
    let checked_in = dir.join("swarm_guests.wasm");
    let bytes = std::fs::read(&built).with_context(|| format!("reading {}", built.display()))?;
    let unchanged = std::fs::read(&checked_in).is_ok_and(|old| old == bytes);
    std::fs::write(&checked_in, &bytes)
        .with_context(|| format!("writing {}", checked_in.display()))?;
    // Native tests of the kernels and shape checks of the checked-in module.
    let mut test = cargo(&["test"]);
    test.current_dir(&dir);
    step("guests: test", test)?;
    println!(
        "xtask: guests: {} ({} bytes, {})",
        checked_in.display(),
        bytes.len(),
        if unchanged { "unchanged" } else { "updated" }
    );
    Ok(())
}

fn shaders() -> Result<()> {
    use swarm_core::{DeviceLimits, Layout, SwarmConfig};
    let capabilities = swarm_shader::ShaderCapabilities {
        int64: true,
        subgroups: true,
        float64: true,
    };
    swarm_shader::validate_wgsl("records", swarm_shader::records_wgsl(), capabilities)?;
    for (name, limits) in [
        ("lavapipe", DeviceLimits::LAVAPIPE),
        ("H100", DeviceLimits::H100),
    ] {
        // The default stacks stay in the state buffer; small ones run in private memory.
        let small_stacks = SwarmConfig {
            value_stack_slots: 256,
            ..SwarmConfig::default()
        };
        for config in [SwarmConfig::default(), small_stacks] {
            let layout = Layout::new(&config, &limits)?;
            let stack = if layout.private_stack() {
                "private stack"
            } else {
                "stack in place"
            };
            for groups in swarm_shader::isa::OpGroups::every() {
                for scheduling in [
                    swarm_shader::Scheduling::Free,
                    swarm_shader::Scheduling::LowestPcFirst,
                ] {
                    swarm_shader::validate_wgsl(
                        &format!(
                            "interpreter ({name} layout, {stack}, {}, {scheduling:?})",
                            groups.name()
                        ),
                        swarm_shader::interpreter_wgsl(
                            &layout,
                            groups,
                            swarm_shader::KernelOptions {
                                scheduling,
                                floats: swarm_shader::NativeFloats::F32AndF64,
                            },
                        ),
                        capabilities,
                    )?;
                }
            }
        }
    }
    println!(
        "xtask: generated WGSL (records, the interpreter with either stack, every set of \
         instruction groups and either scheduling) validates with naga"
    );
    Ok(())
}

fn cargo(args: &[&str]) -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.args(args);
    setup::gpu_env(&mut command);
    command
}

fn step(name: &str, mut command: Command) -> Result<()> {
    println!("xtask: {name}: {command:?}");
    let status = command
        .status()
        .with_context(|| format!("running {command:?}"))?;
    if !status.success() {
        bail!("{name} failed ({status})");
    }
    Ok(())
}
