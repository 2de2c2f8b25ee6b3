//! Making sure a GPU adapter exists: lavapipe through apt on a fresh Linux machine.

use std::process::Command;

use anyhow::{Context, Result, bail};
use swarm_gpu::{AdapterRequest, list_adapters};

const INSTALL: &str = "apt-get update && apt-get install -y mesa-vulkan-drivers libvulkan1";

/// Environment the Vulkan loader and Mesa want in a headless shell.
pub(crate) fn gpu_env(command: &mut Command) {
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        command.env("XDG_RUNTIME_DIR", std::env::temp_dir());
    }
}

pub(crate) fn print_adapters() -> Result<()> {
    let adapters = list_adapters(&AdapterRequest::from_env());
    if adapters.is_empty() {
        println!("no GPU adapter found; on Linux: {INSTALL}");
    }
    for adapter in adapters {
        println!("{adapter}");
    }
    Ok(())
}

/// Counts adapters in a child process, so that a loader or driver installed a moment ago is seen.
fn adapters_found() -> Result<bool> {
    let exe = std::env::current_exe().context("finding the xtask binary")?;
    let mut command = Command::new(exe);
    command.arg("adapters");
    gpu_env(&mut command);
    let output = command.output().context("listing adapters")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    Ok(output.status.success() && !stdout.starts_with("no GPU adapter found"))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Installs lavapipe when no adapter is found and we may; otherwise says how.
pub(crate) fn ensure_adapter() -> Result<()> {
    if adapters_found()? {
        return Ok(());
    }
    if !cfg!(target_os = "linux") {
        bail!("no GPU adapter found; install a Vulkan, Metal or DX12 driver");
    }
    if !is_root() {
        bail!("no GPU adapter found; install Mesa's software Vulkan driver as root: {INSTALL}");
    }
    println!("xtask: no GPU adapter found; installing lavapipe: {INSTALL}");
    let status = Command::new("sh")
        .args(["-c", INSTALL])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .context("running apt-get")?;
    if !status.success() {
        bail!("`{INSTALL}` failed ({status})");
    }
    if !adapters_found()? {
        bail!("still no GPU adapter after installing mesa-vulkan-drivers");
    }
    Ok(())
}
