//! `cargo xtask programs`: rebuilds the real-program benchmark modules
//! (`swarm-bench/programs/<name>/<name>.wasm`) from their C sources with Debian's clang-14,
//! lld-14 and wasi-libc, then checks each: no imports, an exported `run`, and the checksums
//! recorded in `checksums.tsv` on wasmtime.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The compiler, and the Debian packages that make it target wasm32-wasi.
const CLANG: &str = "clang-14";
const PACKAGES: &str = "clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32";

/// Rebuilds the programs named in `args` (every program without names).
pub(crate) fn run(args: &[String]) -> Result<()> {
    let dir = crate::root().join("swarm-bench/programs");
    let mut names: Vec<String> = args.to_vec();
    if names.is_empty() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?
        {
            let path = entry?.path();
            if path.join("build.args").is_file() {
                names.push(
                    path.file_name()
                        .expect("a directory")
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
        names.sort();
    }
    if Command::new(CLANG).arg("--version").output().is_err() {
        bail!("{CLANG} is not installed; on Debian: apt-get install {PACKAGES}");
    }
    let checksums = std::fs::read_to_string(dir.join("checksums.tsv"))?;
    for name in &names {
        let program = dir.join(name);
        if !program.join("build.args").is_file() {
            bail!(
                "no program {name:?}: {} has no build.args",
                program.display()
            );
        }
        let wasm = program.join(format!("{name}.wasm"));
        crate::step(&format!("building {name}"), {
            let mut command = Command::new(CLANG);
            command
                .current_dir(&program)
                .arg(format!("@{}", dir.join("common.args").display()))
                .arg("-o")
                .arg(&wasm)
                .arg("@build.args");
            command
        })
        .with_context(|| format!("is wasi-libc installed? (apt-get install {PACKAGES})"))?;
        check(name, &wasm, &checksums)?;
        println!("xtask: programs: {name}: built and checked");
    }
    Ok(())
}

/// Checks a built program: no imports, `run: [i32] -> [i64]`, and its recorded checksums.
fn check(name: &str, wasm: &Path, checksums: &str) -> Result<()> {
    let bytes = std::fs::read(wasm)?;
    let engine = wasmtime::Engine::default();
    let module = wasmtime::Module::new(&engine, &bytes).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    if let Some(import) = module.imports().next() {
        bail!(
            "{name}: imports {}.{}; the programs must be import-free",
            import.module(),
            import.name()
        );
    }
    let mut store = wasmtime::Store::new(&engine, ());
    let instance = wasmtime::Instance::new(&mut store, &module, &[])
        .map_err(|e| anyhow::anyhow!("{name}: {e:?}"))?;
    let run = instance
        .get_typed_func::<i32, i64>(&mut store, "run")
        .map_err(|e| anyhow::anyhow!("{name}: no `run(i32) -> i64`: {e:?}"))?;
    let mut checked = 0;
    for line in checksums.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [program, seed, expected] = fields[..] else {
            continue;
        };
        if program != name {
            continue;
        }
        let seed: i32 = seed.parse()?;
        let got = run
            .call(&mut store, seed)
            .map_err(|e| anyhow::anyhow!("{name}({seed}): {e:?}"))?;
        if got.to_string() != expected {
            bail!("{name}({seed}) returned {got}, checksums.tsv records {expected}");
        }
        checked += 1;
    }
    if checked == 0 {
        bail!("{name}: checksums.tsv records no checksums for it");
    }
    Ok(())
}

/// `cargo xtask wasi-guests`: rebuilds the WASI programs, as ordinary WASI commands: the test
/// programs `swarm-host/tests/wasi/*.c`, each into the `.wasm` beside it, with clang-14 and
/// wasi-libc, and the Rust one in `rust/` into `rust.wasm` for wasm32-wasip1; and the WASI
/// benchmark programs, `swarm-bench/wasi/*/NAME.args` (clang's arguments) into `NAME.wasm`.
pub(crate) fn wasi_guests() -> Result<()> {
    if Command::new(CLANG).arg("--version").output().is_err() {
        bail!("{CLANG} is not installed; on Debian: apt-get install {PACKAGES}");
    }
    let dir = crate::root().join("swarm-host/tests/wasi");
    let mut sources: Vec<_> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    sources.retain(|path| path.extension().is_some_and(|e| e == "c"));
    sources.sort();
    for source in sources {
        let wasm = source.with_extension("wasm");
        crate::step(&format!("building {}", wasm.display()), {
            let mut command = Command::new(CLANG);
            command
                .args(["--target=wasm32-wasi", "-O2", "-Wall", "-Werror"])
                .arg("-Wl,--strip-debug")
                .arg("-o")
                .arg(&wasm)
                .arg(&source);
            command
        })
        .with_context(|| format!("is wasi-libc installed? (apt-get install {PACKAGES})"))?;
    }
    const TARGET: &str = "wasm32-wasip1";
    let rust = dir.join("rust");
    crate::step("adding the wasm32-wasip1 target", {
        let mut command = Command::new("rustup");
        command.current_dir(&rust).args(["target", "add", TARGET]);
        command
    })?;
    crate::step("building rust.wasm", {
        let mut command = crate::cargo(&["build", "--release", "--target", TARGET]);
        command.current_dir(&rust);
        command
    })?;
    let built = rust.join(format!("target/{TARGET}/release/rust.wasm"));
    std::fs::copy(&built, dir.join("rust.wasm"))
        .with_context(|| format!("copying {}", built.display()))?;

    let bench = crate::root().join("swarm-bench/wasi");
    for program in std::fs::read_dir(&bench)? {
        let program = program?.path();
        if !program.is_dir() {
            continue;
        }
        for entry in std::fs::read_dir(&program)? {
            let args = entry?.path();
            if args.extension().is_none_or(|e| e != "args") {
                continue;
            }
            let wasm = args.with_extension("wasm");
            crate::step(&format!("building {}", wasm.display()), {
                let mut command = Command::new(CLANG);
                command
                    .current_dir(&program)
                    .args(["--target=wasm32-wasi", "-Wl,--strip-debug", "-o"])
                    .arg(&wasm)
                    .arg(format!("@{}", args.display()));
                command
            })?;
        }
    }
    Ok(())
}
