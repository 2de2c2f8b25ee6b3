//! WASI preview 1 against wasmtime-wasi: C programs built with clang and wasi-libc
//! (`tests/wasi/*.c`), a Rust program built for wasm32-wasip1 (`tests/wasi/rust`) and
//! CoreMark's own POSIX build (`swarm-bench/wasi`), all rebuilt by `cargo xtask wasi-guests`,
//! run as many agents, each with its
//! own arguments and environment, and every agent's stdout, stderr, end (returned, exit
//! code, trap) and files must be what wasmtime-wasi gives the same program with the same
//! arguments, clocks, random stream and directories (a copy of them on disk for each agent).

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use swarm_host::wasi::{self, Wasi, WasiClock, WasiConfig, WasiDir, WasiFile, WasiOutput};
use swarm_host::{
    AdapterRequest, Imports, ModuleInfo, MultiSwarm, Outcome, Swarm, SwarmConfig, Tier, Value,
};
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};

/// How an agent's `_start` ended.
#[derive(Clone, Debug, PartialEq, Eq)]
enum End {
    Returned,
    Exit(i32),
    Trapped,
}

/// One test program and how its agents are started.
struct Program {
    name: &'static str,
    wasm: &'static [u8],
    agents: u32,
    /// Arguments after argv[0]; `{id}` stands for the agent's index.
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    /// Every agent's stdin.
    stdin: &'static [u8],
    /// Preopened directories: each one's guest name and files (path under it, bytes).
    dirs: &'static [Preopen],
    /// Bytes of each agent's own files.
    file_bytes: usize,
}

type Preopen = (&'static str, &'static [(&'static str, &'static [u8])]);

impl Program {
    /// A program with no arguments, environment or stdin, for `..` in the programs below.
    const NONE: Self = Self {
        name: "",
        wasm: &[],
        agents: 1,
        args: &[],
        env: &[],
        stdin: b"",
        dirs: &[],
        file_bytes: 1 << 20,
    };
}

const REALTIME: Duration = Duration::from_secs(1_700_000_000);
const STEP: Duration = Duration::from_micros(1_250);
const SEED: u64 = 0x5eed;

fn config(program: &Program, output_bytes: usize) -> WasiConfig {
    WasiConfig {
        args: std::iter::once(program.name)
            .chain(program.args.iter().copied())
            .map(str::to_owned)
            .collect(),
        env: program
            .env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        clock: WasiClock::Deterministic {
            realtime: REALTIME,
            step: STEP,
        },
        random_seed: SEED,
        stdin: program.stdin.into(),
        output_bytes,
        dirs: program
            .dirs
            .iter()
            .map(|(guest, files)| WasiDir::from_files(*guest, files.iter().copied()).unwrap())
            .collect(),
        file_bytes: program.file_bytes,
    }
}

/// Runs every agent of `program` on swarm (interpreter tier: host calls are the same on both),
/// where the GPU gathers stdout and stderr writes.
fn run_swarm(program: &Program, output_bytes: usize) -> Vec<(End, WasiOutput)> {
    run_swarm_gathering(program, output_bytes, SwarmConfig::default().output_bytes)
}

/// Runs every agent of `program` on swarm with `region` bytes of output region, where the
/// GPU gathers stdout and stderr writes (4 bytes: none fits, and every write is a host call).
fn run_swarm_gathering(
    program: &Program,
    output_bytes: usize,
    region: u32,
) -> Vec<(End, WasiOutput)> {
    run_swarm_on(program, output_bytes, region, 1)
}

/// Runs every agent of `program` as [`run_swarm_gathering`] does, spread over `devices`
/// logical devices of the test adapter (a `MultiSwarm`, each device holding its share, so
/// agent `i` is still slot `i`) when there are several.
fn run_swarm_on(
    program: &Program,
    output_bytes: usize,
    region: u32,
    devices: u32,
) -> Vec<(End, WasiOutput)> {
    let wasi = Wasi::new(config(program, output_bytes));
    let mut imports = Imports::new();
    wasi.add_to(&mut imports);
    let swarm_config = |max_agents| SwarmConfig {
        max_agents,
        // Room to grow a little beyond the module's memory.
        max_memory_pages: ModuleInfo::parse(program.wasm).unwrap().memory_pages as u32 + 4,
        tier: Tier::Interpreter,
        output_bytes: region,
        ..SwarmConfig::default()
    };
    let starts = (0..program.agents).map(|_| []);
    let (ids, agents, outputs) = if devices == 1 {
        let mut swarm = Swarm::new(swarm_config(program.agents)).unwrap();
        swarm.load_module(program.wasm, &imports).unwrap();
        let ids = swarm.spawn_many("_start", starts).unwrap();
        let report = swarm.run().unwrap();
        let outputs = wasi.take_outputs(&mut swarm, &ids).unwrap();
        (ids, report.agents, outputs)
    } else {
        assert_eq!(program.agents % devices, 0, "an equal share on each device");
        let share = program.agents / devices;
        let mut swarm = MultiSwarm::with_devices(
            (0..devices).map(|_| (swarm_config(share), AdapterRequest::from_env())),
        )
        .unwrap();
        swarm.load_module(program.wasm, &imports).unwrap();
        let ids = swarm.spawn_many("_start", starts).unwrap();
        let report = swarm.run().unwrap();
        assert!(report.is_complete());
        assert!(report.devices.iter().all(|d| d.agents == share as usize));
        // The last device's last agent is killed first: what the GPU gathered of its streams
        // is kept on its device until taken.
        swarm.kill(*ids.last().unwrap()).unwrap();
        let outputs = wasi.take_outputs(&mut swarm, &ids).unwrap();
        (ids, report.agents, outputs)
    };
    ids.iter()
        .zip(outputs)
        .map(|(id, output)| {
            let agent = agents.iter().find(|a| a.id == *id).unwrap();
            let end = match &agent.outcome {
                Outcome::Finished(_) => End::Returned,
                Outcome::Exited(code) => End::Exit(*code),
                Outcome::Trapped(_) => End::Trapped,
                other => panic!("{id} did not finish: {other:?}"),
            };
            (end, output)
        })
        .collect()
}

/// The deterministic wall clock of [`WasiClock::Deterministic`], for wasmtime-wasi.
struct Wall(AtomicU64);

impl wasmtime_wasi::HostWallClock for Wall {
    fn resolution(&self) -> Duration {
        STEP
    }
    fn now(&self) -> Duration {
        REALTIME + STEP * self.0.fetch_add(1, Ordering::Relaxed) as u32
    }
}

/// The deterministic monotonic clock, for wasmtime-wasi.
struct Monotonic(AtomicU64);

impl wasmtime_wasi::HostMonotonicClock for Monotonic {
    fn resolution(&self) -> u64 {
        STEP.as_nanos() as u64
    }
    fn now(&self) -> u64 {
        self.0.fetch_add(1, Ordering::Relaxed) * STEP.as_nanos() as u64
    }
}

/// Agent `slot`'s random stream ([`wasi::random_bytes`]), a byte per `next_u32`, which is how
/// wasmtime-wasi's `random_get` draws bytes.
struct RandomStream {
    slot: u32,
    used: u64,
}

impl RandomStream {
    fn byte(&mut self) -> u8 {
        let mut byte = [0];
        wasi::random_bytes(SEED, self.slot, self.used, &mut byte);
        self.used += 1;
        byte[0]
    }
}

impl rand_core::TryRng for RandomStream {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(u32::from(self.byte()))
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(u64::from(self.byte()))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        dst.iter_mut().for_each(|b| *b = self.byte());
        Ok(())
    }
}

/// wasmtime-wasi's run of agent `index` of `program`.
fn run_wasmtime(program: &Program, module: &wasmtime::Module, index: u32) -> (End, WasiOutput) {
    let id = index.to_string();
    let stdout = MemoryOutputPipe::new(1 << 20);
    let stderr = MemoryOutputPipe::new(1 << 20);
    let mut builder = wasmtime_wasi::WasiCtxBuilder::new();
    builder
        .arg(program.name)
        .stdin(MemoryInputPipe::new(program.stdin))
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .wall_clock(Wall(AtomicU64::new(0)))
        .monotonic_clock(Monotonic(AtomicU64::new(0)))
        .secure_random(RandomStream {
            slot: index,
            used: 0,
        });
    for arg in program.args {
        builder.arg(arg.replace("{id}", &id));
    }
    for (k, v) in program.env {
        builder.env(k, v.replace("{id}", &id));
    }
    // Each agent's own copy of the directories, on disk.
    let dirs: Vec<_> = program
        .dirs
        .iter()
        .map(|(guest, files)| {
            let host = std::env::temp_dir().join(format!(
                "swarm-wasi-{}-{}-{index}-{guest}",
                std::process::id(),
                program.name
            ));
            let _ = std::fs::remove_dir_all(&host);
            std::fs::create_dir_all(&host).unwrap();
            for (path, bytes) in *files {
                let file = host.join(path);
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(file, bytes).unwrap();
            }
            builder
                .preopened_dir(&host, guest, wasmtime_wasi::FsPerms::ReadWrite)
                .unwrap();
            (host, *guest, *files)
        })
        .collect();
    let mut linker = wasmtime::Linker::new(module.engine());
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |cx| cx).unwrap();
    let mut store = wasmtime::Store::new(module.engine(), builder.build_p1());
    let instance = linker.instantiate(&mut store, module).unwrap();
    let start = instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .unwrap();
    let end = match start.call(&mut store, ()) {
        Ok(()) => End::Returned,
        Err(error) => match error.downcast_ref::<wasmtime_wasi::I32Exit>() {
            Some(exit) => End::Exit(exit.0),
            None => End::Trapped,
        },
    };
    let output = WasiOutput {
        stdout: stdout.contents().to_vec(),
        stderr: stderr.contents().to_vec(),
        files: dirs
            .iter()
            .flat_map(|(host, guest, given)| changed_files(host, guest, given))
            .collect(),
        ..WasiOutput::default()
    };
    for (host, ..) in dirs {
        std::fs::remove_dir_all(host).unwrap();
    }
    let mut output = output;
    output.files.sort_by(|a, b| a.path.cmp(&b.path));
    (end, output)
}

/// The files under `host` that are not among those `given`, or that differ from them, by
/// path under `guest`.
fn changed_files(host: &std::path::Path, guest: &str, given: &[(&str, &[u8])]) -> Vec<WasiFile> {
    let mut files = Vec::new();
    let mut pending = vec![(host.to_owned(), String::new())];
    while let Some((dir, under)) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().into_string().unwrap();
            let path = format!("{under}{name}");
            if entry.file_type().unwrap().is_dir() {
                pending.push((entry.path(), format!("{path}/")));
                continue;
            }
            let contents = std::fs::read(entry.path()).unwrap();
            if !given.contains(&(path.as_str(), contents.as_slice())) {
                files.push(WasiFile {
                    path: format!("{guest}/{path}"),
                    contents,
                });
            }
        }
    }
    files
}

/// Checks every agent of `program` against wasmtime-wasi and returns how they ended.
fn check(program: &Program) -> Vec<End> {
    check_on(program, 1)
}

/// Checks every agent of `program`, spread over `devices` logical devices, against
/// wasmtime-wasi and returns how they ended.
fn check_on(program: &Program, devices: u32) -> Vec<End> {
    let region = SwarmConfig::default().output_bytes;
    let ours = run_swarm_on(program, 1 << 20, region, devices);
    let module = wasmtime::Module::new(&wasmtime::Engine::default(), program.wasm).unwrap();
    for (index, (end, output)) in ours.iter().enumerate() {
        let (expected_end, expected) = run_wasmtime(program, &module, index as u32);
        for (stream, ours, theirs) in [
            ("stdout", &output.stdout, &expected.stdout),
            ("stderr", &output.stderr, &expected.stderr),
        ] {
            if ours != theirs {
                let (ours, theirs) = (
                    String::from_utf8_lossy(ours),
                    String::from_utf8_lossy(theirs),
                );
                let line = ours.lines().zip(theirs.lines()).position(|(a, b)| a != b);
                let at = line.unwrap_or(ours.lines().count().min(theirs.lines().count()));
                panic!(
                    "{} agent {index}: {stream} differs from line {}: swarm {:?}, wasmtime {:?}",
                    program.name,
                    at + 1,
                    ours.lines().nth(at),
                    theirs.lines().nth(at)
                );
            }
        }
        assert_eq!(*end, expected_end, "{} agent {index}: end", program.name);
        assert!(!output.stdout_truncated && !output.stderr_truncated);
        let paths = |files: &[WasiFile]| files.iter().map(|f| f.path.clone()).collect::<Vec<_>>();
        assert_eq!(
            paths(&output.files),
            paths(&expected.files),
            "{} agent {index}: the files it created or changed",
            program.name
        );
        for (ours, theirs) in output.files.iter().zip(&expected.files) {
            assert!(
                ours.contents == theirs.contents,
                "{} agent {index}: {} holds {:?}, not {:?}",
                program.name,
                ours.path,
                String::from_utf8_lossy(&ours.contents),
                String::from_utf8_lossy(&theirs.contents)
            );
        }
        assert!(!output.files_full);
    }
    ours.into_iter().map(|(end, _)| end).collect()
}

const HELLO: Program = Program {
    name: "hello.wasm",
    wasm: include_bytes!("../wasi/hello.wasm"),
    agents: 12,
    args: &["hi there", "{id}", "--flag=x"],
    env: &[("SEED", "{id}"), ("LANG", "C.UTF-8"), ("EMPTY", "")],
    ..Program::NONE
};

#[test]
fn hello_prints_and_exits_as_under_wasmtime() {
    let ends = check(&HELLO);
    // All three ways to end: main returning 0, exit(n) (n = 0 included), main returning n.
    assert!(ends.contains(&End::Returned));
    assert!(ends.contains(&End::Exit(0)));
    assert!(ends.iter().filter(|e| matches!(e, End::Exit(1..))).count() >= 4);
}

#[test]
fn hello_over_two_devices_as_under_wasmtime() {
    // Host calls and the GPU's gathered writes of both devices reach the one `Wasi`.
    let ends = check_on(&HELLO, 2);
    assert!(ends.contains(&End::Returned));
}

#[test]
fn a_lost_device_keeps_the_other_devices_outputs() {
    let program = &HELLO;
    let wasi = Wasi::new(config(program, 1 << 20));
    let mut imports = Imports::new();
    wasi.add_to(&mut imports);
    let share = program.agents / 2;
    let device = || {
        (
            SwarmConfig {
                max_agents: share,
                max_memory_pages: ModuleInfo::parse(program.wasm).unwrap().memory_pages as u32,
                tier: Tier::Interpreter,
                ..SwarmConfig::default()
            },
            AdapterRequest::from_env(),
        )
    };
    let mut swarm = MultiSwarm::with_devices([device(), device()]).unwrap();
    swarm.load_module(program.wasm, &imports).unwrap();
    let ids = swarm
        .spawn_many("_start", (0..program.agents).map(|_| []))
        .unwrap();
    assert!(swarm.run().unwrap().is_complete());
    swarm.lose_device(1);
    // Taking every output fails for device 1, but device 0's are taken and kept.
    assert!(wasi.take_outputs(&mut swarm, &ids).is_err());
    let module = wasmtime::Module::new(&wasmtime::Engine::default(), program.wasm).unwrap();
    let first = &ids[..share as usize];
    for (index, output) in wasi
        .take_outputs(&mut swarm, first)
        .unwrap()
        .iter()
        .enumerate()
    {
        let (_, expected) = run_wasmtime(program, &module, index as u32);
        assert!(!expected.stdout.is_empty());
        assert_eq!(output.stdout, expected.stdout, "agent {index}: stdout");
        assert_eq!(output.stderr, expected.stderr, "agent {index}: stderr");
    }
}

#[test]
fn every_errno_and_bad_pointer_as_under_wasmtime() {
    // Agent 0 runs the table of calls; agent k runs probe k, which may trap.
    let ends = check(&Program {
        name: "calls.wasm",
        wasm: include_bytes!("../wasi/calls.wasm"),
        agents: 25,
        args: &["{id}"],
        ..Program::NONE
    });
    assert_eq!(ends[0], End::Returned);
    assert!(ends.iter().filter(|e| **e == End::Trapped).count() >= 10);
    assert!(ends.contains(&End::Exit(5)));
}

#[test]
fn clocks_sleeps_and_random_as_under_wasmtime() {
    check(&Program {
        name: "clocks.wasm",
        wasm: include_bytes!("../wasi/clocks.wasm"),
        agents: 4,
        ..Program::NONE
    });
}

#[test]
fn coremarks_own_posix_build_as_under_wasmtime() {
    // CoreMark's upstream sources and POSIX port, unmodified: one iteration of the
    // performance run, whose report (its times from the deterministic clock) and CRCs must be
    // wasmtime's.
    let ends = check(&Program {
        name: "coremark-posix.wasm",
        wasm: include_bytes!("../../../swarm-bench/wasi/coremark-posix/coremark-posix.wasm"),
        agents: 2,
        args: &["0x0", "0x0", "0x66", "1"],
        ..Program::NONE
    });
    assert_eq!(ends, [End::Returned, End::Returned]);
}

#[test]
fn rust_std_as_under_wasmtime() {
    let ends = check(&Program {
        name: "rust.wasm",
        wasm: include_bytes!("../wasi/rust.wasm"),
        agents: 6,
        args: &["{id}"],
        env: &[("HOME", "/agents/{id}"), ("RUST_BACKTRACE", "0")],
        dirs: &[
            (
                "data",
                &[("input.txt", b"the given words of the input file\n")],
            ),
            ("out", &[]),
        ],
        ..Program::NONE
    });
    assert_eq!(ends[0], End::Returned);
    assert_eq!(ends[3], End::Exit(3));
}

/// Lines of different lengths, one longer than the program's 40-byte buffer, past stdio's
/// 1,024-byte buffer in all.
const INPUT: &[u8] = b"first line\n\
second, with a tab\there\n\
a line longer than forty bytes, which fgets splits in two\n\
\n\
last of the five\n\
0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789\n\
0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789\n\
0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789\n\
0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789\n\
0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789\n\
0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789\n\
0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789\n\
0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789\n\
0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789\n\
0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789\n\
0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789\n\
0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789\n\
0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789\n\
0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789\n\
the end, without a newline";

#[test]
fn stdin_as_under_wasmtime() {
    // Every agent reads the same stdin from its own place in it.
    assert!(INPUT.len() > 1_100);
    check(&Program {
        name: "stdin.wasm",
        wasm: include_bytes!("../wasi/stdin.wasm"),
        agents: 3,
        stdin: INPUT,
        ..Program::NONE
    });
}

/// Two preopened directories: given files, and an empty one for what the agents write.
const FILES: Program = Program {
    name: "files.wasm",
    wasm: include_bytes!("../wasi/files.wasm"),
    agents: 6,
    args: &["{id}"],
    dirs: &[
        (
            "data",
            &[
                (
                    "lines.txt",
                    b"first line of the given file\nsecond\n\nlast, no newline",
                ),
                ("sub/numbers.txt", b"12 7 300\n41\n1000000 5\n"),
                ("sub/empty", b""),
            ],
        ),
        ("out", &[]),
    ],
    ..Program::NONE
};

#[test]
fn files_as_under_wasmtime() {
    // Each agent reads the given files, changes one of them only in its own view, writes its
    // own files (odd agents remove theirs again), and is refused as wasmtime refuses it.
    let ends = check(&FILES);
    assert!(ends.iter().all(|e| *e == End::Returned));
    let ours = run_swarm(&FILES, 1 << 20);
    let stdout = String::from_utf8_lossy(&ours[3].1.stdout);
    assert!(stdout.contains("read back 20 [firstAGENT003"), "{stdout}");
    assert!(stdout.contains("File exists"), "{stdout}");
    assert_eq!(
        ours[2]
            .1
            .files
            .iter()
            .map(|f| f.path.as_str())
            .collect::<Vec<_>>(),
        [
            "data/lines.txt",
            "out/agent-2.txt",
            "out/stdout.txt",
            "out/sub/note"
        ]
    );
}

#[test]
fn files_beyond_the_budget_are_refused_and_reported() {
    let budget = 10_000;
    let ours = run_swarm(
        &Program {
            args: &["{id}", "fill"],
            agents: 2,
            file_bytes: budget,
            ..FILES
        },
        1 << 20,
    );
    for (end, output) in ours {
        assert_eq!(end, End::Returned);
        assert!(output.files_full);
        let file = &output.files[0];
        assert_eq!(file.path, "out/fill.bin");
        // The file, its entry and the 64 bytes of each inode fill the budget.
        let entry = 16 + "fill.bin".len();
        assert_eq!(file.contents.len(), budget - 64 - (64 + entry));
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(
            stdout.contains(&format!(
                "short write of {} after {} bytes\nrefused after {} bytes: No space left on device",
                file.contents.len() % 1000,
                file.contents.len() / 1000 * 1000,
                file.contents.len()
            )),
            "{stdout}"
        );
    }
}

#[test]
fn output_beyond_the_budget_is_cut_and_reported() {
    let budget = 150;
    let module = wasmtime::Module::new(&wasmtime::Engine::default(), HELLO.wasm).unwrap();
    // Gathered on the GPU where it fits, and every write on the host.
    for region in [4_096, 4] {
        let ours = run_swarm_gathering(&HELLO, budget, region);
        for (index, (_, output)) in ours.iter().enumerate() {
            let (_, expected) = run_wasmtime(&HELLO, &module, index as u32);
            let kept = expected.stdout.len().min(budget);
            assert_eq!(output.stdout, expected.stdout[..kept], "agent {index}");
            assert_eq!(output.stdout_truncated, expected.stdout.len() > budget);
            assert_eq!(output.stderr, expected.stderr, "agent {index}");
            assert!(!output.stderr_truncated);
        }
        assert!(ours.iter().any(|(_, o)| o.stdout_truncated));
    }
}

/// 40 numbered lines to stdout and to stderr through `fd_write`: `plain` through one iovec
/// each, `mixed` through five (four empty) every seventh line, which the GPU leaves to the
/// host.
const LINES: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 256) "line 00\n")
  (func $lines (param $every i32)
    (local $i i32) (local $iovs i32) (local $n i32)
    (i32.store (i32.const 64) (i32.const 256))
    (i32.store (i32.const 68) (i32.const 8))
    (i32.store (i32.const 160) (i32.const 256))
    (i32.store (i32.const 164) (i32.const 8))
    (loop $next
      (i32.store8 (i32.const 261) (i32.add (i32.const 48) (i32.div_u (local.get $i) (i32.const 10))))
      (i32.store8 (i32.const 262) (i32.add (i32.const 48) (i32.rem_u (local.get $i) (i32.const 10))))
      (local.set $iovs (i32.const 64))
      (local.set $n (i32.const 1))
      (if (local.get $every)
        (then (if (i32.eqz (i32.rem_u (local.get $i) (local.get $every)))
          (then (local.set $iovs (i32.const 128)) (local.set $n (i32.const 5))))))
      (drop (call $write (i32.const 1) (local.get $iovs) (local.get $n) (i32.const 32)))
      (drop (call $write (i32.const 2) (local.get $iovs) (local.get $n) (i32.const 32)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (i32.const 40)))))
  (func (export "plain") (call $lines (i32.const 0)))
  (func (export "mixed") (call $lines (i32.const 7))))"#;

/// Runs 2 agents of `LINES`'s `export` with a stdout and stderr budget of `budget` bytes; also
/// whether one dispatch finished them (no host call).
fn run_lines(export: &str, budget: usize) -> (bool, Vec<WasiOutput>) {
    let wasi = Wasi::new(WasiConfig {
        output_bytes: budget,
        ..WasiConfig::default()
    });
    let mut imports = Imports::new();
    wasi.add_to(&mut imports);
    let mut swarm = Swarm::new(SwarmConfig {
        max_agents: 2,
        max_memory_pages: 1,
        ..SwarmConfig::default()
    })
    .unwrap();
    swarm
        .load_module(&wat::parse_str(LINES).unwrap(), &imports)
        .unwrap();
    let ids = swarm.spawn_many(export, [[], []]).unwrap();
    let first = swarm.dispatch().unwrap();
    let at_once = first
        .agents
        .iter()
        .all(|a| matches!(a.outcome, Outcome::Finished(_)));
    swarm.run().unwrap();
    (at_once, wasi.take_outputs(&mut swarm, &ids).unwrap())
}

#[test]
fn stdout_and_stderr_writes_stay_on_the_gpu_in_order() {
    let lines: String = (0..40).map(|i| format!("line {i:02}\n")).collect();
    // Plain writes: gathered on the GPU, so one dispatch runs them all.
    let (at_once, outputs) = run_lines("plain", 1 << 16);
    assert!(at_once);
    for output in &outputs {
        assert_eq!(String::from_utf8_lossy(&output.stdout), lines);
        assert_eq!(String::from_utf8_lossy(&output.stderr), lines);
    }
    // Every seventh line on the host: the streams keep their order.
    let (at_once, outputs) = run_lines("mixed", 1 << 16);
    assert!(!at_once);
    for output in &outputs {
        assert_eq!(String::from_utf8_lossy(&output.stdout), lines);
        assert_eq!(String::from_utf8_lossy(&output.stderr), lines);
    }
    // A budget of 100 bytes: the GPU gathers 12 lines, the host cuts the 13th to 4 bytes and
    // refuses the rest.
    let (_, outputs) = run_lines("plain", 100);
    for output in &outputs {
        assert_eq!(output.stdout, lines.as_bytes()[..100]);
        assert!(output.stdout_truncated && output.stderr_truncated);
    }
}

/// A start function that exits (or traps) ends its agent before its call: that call is
/// dropped, so a later call on the agent runs once, not followed by the dropped one.
#[test]
fn a_start_function_that_exits_drops_the_agents_call() {
    let wasm = wat::parse_str(
        r#"(module
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (import "swarm" "agent_id" (func $id (result i32)))
          (memory (export "memory") 1)
          (global $calls (mut i32) (i32.const 0))
          (func $start
            ;; Agent 0 exits with 7, agent 1 traps, agent 2 goes on to its call.
            (if (i32.eqz (call $id)) (then (call $exit (i32.const 7))))
            (if (i32.eq (call $id) (i32.const 1)) (then unreachable)))
          (start $start)
          ;; How many times this agent has made this call.
          (func (export "count") (result i32)
            (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
            (global.get $calls)))"#,
    )
    .unwrap();
    let wasi = Wasi::new(WasiConfig::default());
    let mut imports = Imports::new();
    wasi.add_to(&mut imports);
    let mut swarm = Swarm::new(SwarmConfig {
        max_agents: 3,
        max_memory_pages: 1,
        ..SwarmConfig::default()
    })
    .unwrap();
    swarm.load_module(&wasm, &imports).unwrap();
    let ids: Vec<_> = (0..3).map(|_| swarm.spawn("count", &[]).unwrap()).collect();
    let report = swarm.run().unwrap();
    let outcome = |report: &swarm_host::DispatchReport, i: usize| {
        report
            .agents
            .iter()
            .find(|a| a.id == ids[i])
            .unwrap()
            .outcome
            .clone()
    };
    assert_eq!(outcome(&report, 0), Outcome::Exited(7));
    assert_eq!(
        outcome(&report, 1),
        Outcome::Trapped(swarm_host::TrapCode::Unreachable)
    );
    assert_eq!(outcome(&report, 2), Outcome::Finished(vec![Value::I32(1)]));
    // A new call: each agent counts it once.
    for id in &ids {
        swarm.call(*id, "count", &[]).unwrap();
    }
    let report = swarm.run().unwrap();
    assert_eq!(outcome(&report, 0), Outcome::Finished(vec![Value::I32(1)]));
    assert_eq!(outcome(&report, 1), Outcome::Finished(vec![Value::I32(1)]));
    assert_eq!(outcome(&report, 2), Outcome::Finished(vec![Value::I32(2)]));
}

/// A module of `imports` and `body`, which imports `fd_write` as `$write` and exports 1 page
/// of memory.
fn write_module(imports: &str, body: &str) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module
          (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
          {imports}
          (memory (export "memory") 1)
          {body})"#
    ))
    .unwrap()
}

/// Loads `wasm` with WASI into a swarm of `agents` agents with `region` output bytes.
fn load_with_wasi(wasm: &[u8], agents: u32, region: u32) -> (Wasi, Swarm) {
    let wasi = Wasi::new(WasiConfig::default());
    let mut imports = Imports::new();
    wasi.add_to(&mut imports);
    let mut swarm = Swarm::new(SwarmConfig {
        max_agents: agents,
        max_memory_pages: 1,
        output_bytes: region,
        ..SwarmConfig::default()
    })
    .unwrap();
    swarm.load_module(wasm, &imports).unwrap();
    (wasi, swarm)
}

#[test]
fn long_gathered_writes_arrive_whole() {
    // 16 writes of 4,000 bytes (within the 64 KiB stdout budget), each a different letter,
    // through two iovecs of 1,000 and 3,000 bytes: longer than one dispatch-loop step may
    // copy.
    let wasm = write_module(
        "",
        r#"(func (export "_start")
            (local $i i32)
            (i32.store (i32.const 0) (i32.const 1024))
            (i32.store (i32.const 4) (i32.const 1000))
            (i32.store (i32.const 8) (i32.const 2024))
            (i32.store (i32.const 12) (i32.const 3000))
            (loop $next
              (memory.fill (i32.const 1024) (i32.add (i32.const 65) (local.get $i)) (i32.const 4000))
              (drop (call $write (i32.const 1) (i32.const 0) (i32.const 2) (i32.const 16)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $next (i32.lt_u (local.get $i) (i32.const 16)))))"#,
    );
    let (wasi, mut swarm) = load_with_wasi(&wasm, 3, 1 << 17);
    let ids = swarm.spawn_many("_start", [[], [], []]).unwrap();
    swarm.run().unwrap();
    let expected: Vec<u8> = (0..16u8).flat_map(|i| [b'A' + i; 4000]).collect();
    for output in wasi.take_outputs(&mut swarm, &ids).unwrap() {
        let at = output
            .stdout
            .iter()
            .zip(&expected)
            .position(|(a, b)| a != b);
        assert!(
            output.stdout == expected,
            "a gathered write arrived changed: {} bytes, first difference at {at:?}: {:?}",
            output.stdout.len(),
            at.map(|i| &output.stdout[i..(i + 16).min(output.stdout.len())])
        );
    }
}

#[test]
fn gathered_writes_stay_exact_at_their_edges() {
    // fd_write called as the agent's entry is answered as a host call: errno 0, and the
    // bytes its iovec at 0 names written.
    let wasm = write_module(
        "",
        r#"(export "write" (func $write))
          (data (i32.const 0) "\10\00\00\00\03\00\00\00")
          (data (i32.const 16) "hey")"#,
    );
    let (wasi, mut swarm) = load_with_wasi(&wasm, 1, 4_096);
    let id = swarm
        .spawn(
            "write",
            &[Value::I32(1), Value::I32(0), Value::I32(1), Value::I32(8)],
        )
        .unwrap();
    let report = swarm.run().unwrap();
    assert_eq!(
        report.agents[0].outcome,
        Outcome::Finished(vec![Value::I32(0)])
    );
    let output = wasi.take_outputs(&mut swarm, &[id]).unwrap().remove(0);
    assert_eq!(output.stdout, b"hey");

    // A module that also writes `swarm.output` keeps those bytes there; its stdout is the
    // host's.
    let wasm = write_module(
        r#"(import "swarm" "output" (func $output (param i32 i32)))"#,
        r#"(data (i32.const 64) "\05\00\00\00ABCDEFGH")
          (data (i32.const 100) "hey")
          (func (export "_start")
            (call $output (i32.const 64) (i32.const 12))
            (i32.store (i32.const 0) (i32.const 100))
            (i32.store (i32.const 4) (i32.const 3))
            (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16))))"#,
    );
    let (wasi, mut swarm) = load_with_wasi(&wasm, 1, 4_096);
    let id = swarm.spawn("_start", &[]).unwrap();
    swarm.run().unwrap();
    assert_eq!(swarm.output(id).unwrap(), b"\x05\0\0\0ABCDEFGH");
    let output = wasi.take_outputs(&mut swarm, &[id]).unwrap().remove(0);
    assert_eq!(output.stdout, b"hey");

    // A killed agent's gathered output is still handed back, once.
    let wasm = wat::parse_str(LINES).unwrap();
    let (wasi, mut swarm) = load_with_wasi(&wasm, 2, 4_096);
    let ids = swarm.spawn_many("plain", [[], []]).unwrap();
    swarm.dispatch().unwrap();
    swarm.kill(ids[0]).unwrap();
    let outputs = wasi
        .take_outputs(&mut swarm, &[ids[0], ids[0], ids[1]])
        .unwrap();
    let lines: String = (0..40).map(|i| format!("line {i:02}\n")).collect();
    assert_eq!(String::from_utf8_lossy(&outputs[0].stdout), lines);
    assert_eq!(String::from_utf8_lossy(&outputs[2].stdout), lines);
    assert!(outputs[1].stdout.is_empty());
}
