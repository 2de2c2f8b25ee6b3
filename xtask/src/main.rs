//! `cargo xtask`: project automation (tests, adapter set-up, shader validation).

use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};

mod layering;
mod setup;
mod spec;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test       set up a GPU if needed, then fmt check, clippy -D warnings, layering check,
             shader validation, all tests, and the spec suite
  demo       set up a GPU if needed, then run the demo swarm: 1,024 agents of
             examples/collatz.wat on the default adapter (release build)
  adapters   list the GPU adapters wgpu sees, with the limits and features swarm requests
  layering   check the crate layering invariants of ARCHITECTURE.md
  shaders    validate every WGSL source swarm generates with naga
  spec [FILTER] [-v]
             run the WebAssembly 2.0 spec suite (non-SIMD files) on the GPU
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("demo") => demo(),
        Some("adapters") => setup::print_adapters(),
        Some("layering") => layering::check(),
        Some("shaders") => shaders(),
        Some("spec") => spec::run(
            args.get(1)
                .map(String::as_str)
                .filter(|a| !a.starts_with('-')),
            args.iter().any(|a| a == "-v" || a == "--verbose"),
        ),
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
    spec::run(None, false)?;
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

fn shaders() -> Result<()> {
    use swarm_core::{DeviceLimits, Layout, SwarmConfig};
    let capabilities = swarm_shader::ShaderCapabilities { int64: true };
    swarm_shader::validate_wgsl("records", swarm_shader::records_wgsl(), capabilities)?;
    for (name, limits) in [
        ("lavapipe", DeviceLimits::LAVAPIPE),
        ("H100", DeviceLimits::H100),
    ] {
        let layout = Layout::new(&SwarmConfig::default(), &limits)?;
        swarm_shader::validate_wgsl(
            &format!("interpreter ({name} layout)"),
            swarm_shader::interpreter_wgsl(&layout),
            capabilities,
        )?;
    }
    println!("xtask: generated WGSL (records, interpreter) validates with naga");
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
