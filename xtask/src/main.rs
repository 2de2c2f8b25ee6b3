//! `cargo xtask`: project automation (tests, adapter set-up, shader validation).

use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};

mod layering;
mod setup;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test       set up a GPU if needed, then fmt check, clippy -D warnings, layering check, all tests
  adapters   list the GPU adapters wgpu sees, with the limits and features swarm requests
  layering   check the crate layering invariants of ARCHITECTURE.md
  shaders    validate every WGSL source swarm generates with naga
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("adapters") => setup::print_adapters(),
        Some("layering") => layering::check(),
        Some("shaders") => shaders(),
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
    println!("xtask: all checks passed");
    Ok(())
}

fn shaders() -> Result<()> {
    let source = swarm_shader::records_wgsl();
    swarm_shader::validate_wgsl(
        "records",
        source,
        swarm_shader::ShaderCapabilities { int64: true },
    )?;
    println!("xtask: generated WGSL validates with naga");
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
