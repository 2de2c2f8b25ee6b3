//! The crate layering invariants of ARCHITECTURE.md, checked against `cargo tree`.

use std::process::Command;

use anyhow::{Context, Result, bail};

/// (crate, dependencies it must never have, at any depth unless `direct_only`).
const RULES: &[(&str, &[&str], bool)] = &[
    ("swarm-core", &["wgpu", "naga", "wasmparser"], false),
    ("swarm-shader", &["wgpu"], false),
    ("swarm-host", &["wgpu", "naga"], true),
];

pub(crate) fn check() -> Result<()> {
    for &(krate, forbidden, direct_only) in RULES {
        let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        command.args([
            "tree",
            "--quiet",
            "--package",
            krate,
            "--edges",
            "normal,build",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ]);
        if direct_only {
            command.args(["--depth", "1"]);
        }
        let output = command.output().with_context(|| format!("{command:?}"))?;
        if !output.status.success() {
            bail!(
                "cargo tree failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let tree = String::from_utf8_lossy(&output.stdout);
        for line in tree.lines() {
            let name = line.split_whitespace().next().unwrap_or_default();
            if forbidden.contains(&name) {
                bail!("layering broken: {krate} depends on {name} ({line}); see ARCHITECTURE.md");
            }
        }
    }
    println!(
        "xtask: layering holds (swarm-core has no wgpu/naga/wasmparser, swarm-shader no wgpu, swarm-host no direct wgpu/naga)"
    );
    Ok(())
}
