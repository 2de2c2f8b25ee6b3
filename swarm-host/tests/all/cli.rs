//! The `swarm` program: JSON lines checked against wasmtime, and one-line errors for bad input.

use std::process::Command;

use swarm_host::Value;

use crate::reference::reference;

fn swarm_cli(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_swarm"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("the swarm binary runs")
}

/// A directory of the test `name`'s own holding `file` with the text `wat`: the directory and
/// the file's path.
fn module_file(name: &str, file: &str, wat: &str) -> (std::path::PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("swarm-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let module = dir.join(file);
    std::fs::write(&module, wat).unwrap();
    let path = module.to_str().unwrap().to_owned();
    (dir, path)
}

/// The JSON line of agent `id` of `examples/collatz.wat`'s `ratio({id})`, from wasmtime.
fn ratio_line(wasm: &[u8], id: i32) -> String {
    match reference(wasm, "ratio", &[Value::I32(id)]) {
        Ok(values) => {
            let [Value::I32(v)] = values[..] else {
                panic!("one i32")
            };
            format!(r#"{{"agent":{id},"results":[{v}],"trap":null,"instructions":5,"fuel":6}}"#)
        }
        Err(message) => {
            assert!(message.contains("divide by zero"), "{message}");
            format!(
                r#"{{"agent":{id},"results":[],"trap":"integer_divide_by_zero","instructions":5,"fuel":6}}"#
            )
        }
    }
}

#[test]
fn json_lines_match_wasmtime_including_traps() {
    let wasm = wat::parse_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/collatz.wat"
    ))
    .unwrap();
    // On one device, and spread over three logical devices of the adapter: the same lines.
    for devices in ["1", "3"] {
        let out = swarm_cli(&[
            "run",
            "examples/collatz.wat",
            "--invoke",
            "ratio",
            "--agents",
            "40",
            "--args",
            "{id}",
            "--json",
            "--devices",
            devices,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 40);
        for (id, line) in (0..).zip(&lines) {
            assert_eq!(*line, ratio_line(&wasm, id), "--devices {devices}");
        }
    }
    // The summary shows the agents spread: 40 agents over 3 devices, 14, 13 and 13.
    let out = swarm_cli(&[
        "run",
        "examples/collatz.wat",
        "--invoke",
        "ratio",
        "--agents",
        "40",
        "--args",
        "{id}",
        "--devices",
        "3",
    ]);
    let summary = String::from_utf8(out.stdout).unwrap();
    let line = summary
        .lines()
        .find(|l| l.starts_with("  devices"))
        .unwrap_or_else(|| panic!("no devices line: {summary}"));
    assert!(
        line.starts_with("  devices       3 (0: 14 agents"),
        "{line}"
    );
    assert!(
        line.contains("; 1: 13 agents") && line.contains("; 2: 13 agents"),
        "{line}"
    );
}

#[test]
fn a_shard_numbers_its_agents_from_first_agent() {
    let wasm = wat::parse_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/collatz.wat"
    ))
    .unwrap();
    let out = swarm_cli(&[
        "run",
        "examples/collatz.wat",
        "--invoke",
        "ratio",
        "--agents",
        "6",
        "--args",
        "{id}",
        "--first-agent",
        "74",
        "--devices",
        "2",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 6);
    for (id, line) in (74..).zip(&lines) {
        assert_eq!(*line, ratio_line(&wasm, id));
    }
    let out = swarm_cli(&[
        "run",
        "examples/collatz.wat",
        "--invoke",
        "ratio",
        "--agents",
        "6",
        "--args",
        "1",
        "--first-agent",
        "4294967295",
    ]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("--first-agent 4294967295 with --agents 6"),
        "{stderr}"
    );
}

#[test]
fn output_and_fuel_show_in_json() {
    let run = |args: &[&str]| {
        let out = swarm_cli(args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let common = ["run", "examples/collatz.wat", "--json", "--invoke"];
    let mean = run(&[&common[..], &["mean", "--agents", "2", "--args", "{id},3"]].concat());
    let lines: Vec<&str> = mean.lines().collect();
    // Starts 0, 1, 2 take 0, 0 and 1 steps; starts 1, 2, 3 take 0, 1 and 7. Each agent's
    // step counts are its output bytes.
    assert!(lines[0].starts_with(r#"{"agent":0,"results":[0.3333333333333333],"trap":null,"#));
    assert!(lines[0].ends_with(r#","output":"000001"}"#), "{}", lines[0]);
    assert!(lines[1].starts_with(r#"{"agent":1,"results":[2.6666666666666665],"trap":null,"#));
    assert!(lines[1].ends_with(r#","output":"000107"}"#), "{}", lines[1]);

    // Fuel 100 runs out inside the loop; the agent traps at the loop's next header, having
    // consumed 118 (the call's entry and 117 instructions), as wasmtime's fuel 100 does.
    let fuel = run(&[&common[..], &["steps", "--args", "27", "--fuel", "100"]].concat());
    assert_eq!(
        fuel.trim(),
        r#"{"agent":0,"results":[],"trap":"out_of_fuel","instructions":117,"fuel":118}"#
    );
    let wasm = wat::parse_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/collatz.wat"
    ))
    .unwrap();
    let mut config = wasmtime::Config::new();
    config.consume_fuel(true);
    let engine = wasmtime::Engine::new(&config).unwrap();
    let module = wasmtime::Module::new(&engine, &wasm).unwrap();
    let stops_at = |fuel: u64| {
        let mut store = wasmtime::Store::new(&engine, ());
        store.set_fuel(fuel).unwrap();
        let mut linker = wasmtime::Linker::<()>::new(&engine);
        linker
            .func_wrap("swarm", "output", |_: i32, _: i32| {})
            .unwrap();
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let steps = instance
            .get_typed_func::<i32, i32>(&mut store, "steps")
            .unwrap();
        steps.call(&mut store, 27).is_err()
    };
    // wasmtime's fuel 100 stops the call too (where exactly, `tests/all/fuel.rs` checks).
    assert!(stops_at(100));
}

#[test]
fn bad_input_is_a_one_line_error() {
    for (args, needle) in [
        (
            vec!["run", "missing.wasm", "--invoke", "f"],
            "cannot read missing.wasm",
        ),
        (
            vec!["run", "examples/collatz.wat", "--invoke", "nope"],
            "exports no function named \"nope\"",
        ),
        (
            vec![
                "run",
                "examples/collatz.wat",
                "--invoke",
                "steps",
                "--args",
                "1,2",
            ],
            "takes 1 argument",
        ),
        (
            vec![
                "run",
                "examples/collatz.wat",
                "--invoke",
                "steps",
                "--args",
                "x",
            ],
            "is not an integer",
        ),
        (
            vec!["run", "Cargo.toml", "--invoke", "f"],
            "is not a module swarm can run",
        ),
        (
            vec!["run", "examples/collatz.wat"],
            "exports no `_start`, so name the function each agent calls with --invoke NAME",
        ),
        (
            vec!["run", "swarm-host/tests/wasi/hello.wasm", "--env", "SEED"],
            "--env \"SEED\" is not NAME=VALUE",
        ),
        (
            vec!["run", "swarm-host/tests/wasi/hello.wasm", "--devices", "3"],
            "--devices gives 3 devices for 1 agent(s)",
        ),
    ] {
        let out = swarm_cli(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

/// Every limit of `SwarmConfig` has a flag, and an error about a limit names the flag.
#[test]
fn limits_are_flags_and_errors_name_them() {
    // 200 globals and a table of 5,000 elements: more than the defaults hold.
    let globals: String = (0..200)
        .map(|i| format!("(global (mut i32) (i32.const {i}))"))
        .collect();
    let (dir, module) = module_file(
        "limits",
        "big.wat",
        &format!(
            "(module {globals} (table 5000 funcref)
               (func (export \"f\") (result i32) (i32.add (global.get 199) (table.size 0))))"
        ),
    );
    let module = module.as_str();
    let run =
        |extra: &[&str]| swarm_cli(&[&["run", module, "--invoke", "f", "--json"], extra].concat());

    let out = run(&[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("raise `--max-table-elements`"), "{stderr}");
    let out = run(&["--max-table-elements", "6000"]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("raise `--max-globals`"), "{stderr}");
    let out = run(&["--max-table-elements", "6000", "--max-globals", "201"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        r#"{"agent":0,"results":[5199],"trap":null,"instructions":3,"fuel":4}"#
    );

    let out = run(&["--private-stack-slots", "9999"]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("`--private-stack-slots` is 9999"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Ctrl-C stops a run after the dispatch under way: agents that finished are reported, the rest
/// are marked running, and the exit status is 130.
#[cfg(unix)]
#[test]
fn ctrl_c_stops_the_run_and_reports_what_finished() {
    // Agent 0 returns at once; agent 1 never does.
    let (dir, module) = module_file(
        "ctrl-c",
        "forever.wat",
        r#"(module (func (export "run") (param i32) (result i32)
             (if (local.get 0) (then (loop $l (br $l))))
             (i32.const 7)))"#,
    );
    let child = Command::new(env!("CARGO_BIN_EXE_swarm"))
        .args([
            "run",
            module.as_str(),
            "--invoke",
            "run",
            "--agents",
            "2",
            "--args",
            "{id}",
            "--slice",
            "10000",
            "--json",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(2));
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].starts_with(r#"{"agent":0,"results":[7],"trap":null,"#),
        "{stdout}"
    );
    assert!(
        lines[1].starts_with(r#"{"agent":1,"results":[],"trap":null,"#)
            && lines[1].ends_with(r#","running":true}"#),
        "{stdout}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_run_keeps_its_pipelines_where_it_is_told() {
    let dir = std::env::temp_dir().join(format!("swarm-cli-pipelines-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let run = || {
        let out = swarm_cli(&[
            "run",
            "examples/collatz.wat",
            "--invoke",
            "ratio",
            "--agents",
            "4",
            "--args",
            "{id}",
            "--pipeline-cache",
            dir.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        stdout
            .lines()
            .find(|l| l.trim_start().starts_with("pipelines"))
            .unwrap_or_else(|| panic!("no pipelines line in\n{stdout}"))
            .to_owned()
    };
    let first = run();
    assert!(first.contains(dir.to_str().unwrap()), "{first}");
    assert!(first.contains(": 0 bytes loaded"), "{first}");
    let second = run();
    assert!(!second.contains(": 0 bytes loaded"), "{second}");
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(files.len(), 1, "one file per adapter, no temporary left");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unknown_imports_are_refused_unless_answered_with_zeros() {
    let (dir, path) = module_file(
        "unknown",
        "harness.wat",
        r#"(module
          (import "bench" "start" (func $start))
          (import "bench" "now" (func $now (result i64)))
          (func (export "run") (param i32) (result i64)
            (call $start)
            (i64.add (call $now) (i64.extend_i32_u (local.get 0)))))"#,
    );
    let path = path.as_str();
    let args = [
        "run", path, "--invoke", "run", "--agents", "3", "--args", "{id}", "--json",
    ];
    let refused = swarm_cli(&args);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("--default-values-unknown-imports"),
        "{stderr}"
    );
    let answered = swarm_cli(&[&args[..], &["--default-values-unknown-imports"]].concat());
    assert!(
        answered.status.success(),
        "{}",
        String::from_utf8_lossy(&answered.stderr)
    );
    let stdout = String::from_utf8(answered.stdout).unwrap();
    let results: Vec<&str> = stdout
        .lines()
        .map(|l| {
            l.split("\"results\":")
                .nth(1)
                .unwrap()
                .split(']')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(results, ["[0", "[1", "[2"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A WASI command runs its `_start` without `--invoke`; each agent gets its own arguments and
/// environment, and its JSON line its exit code, stdout and stderr.
#[test]
fn wasi_commands_run_per_agent_with_exit_codes_and_streams() {
    let out = swarm_cli(&[
        "run",
        "swarm-host/tests/wasi/hello.wasm",
        "--agents",
        "3",
        "--arg",
        "-v",
        "--arg",
        "agent {id}",
        "--env",
        "SEED={id}",
        "--tier",
        "interpreter",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3);
    // Seed 0 returns from main, seed 1 calls exit(1), seed 2 returns 3 from main.
    for (line, exit_code) in lines.iter().zip(["null", "1", "3"]) {
        assert!(
            line.contains(r#""trap":null,"#)
                && line.contains(&format!(r#","exit_code":{exit_code},"#)),
            "{line}"
        );
    }
    assert!(lines[1].contains(
        r#""stdout":"argc=3\nargv[0]=swarm-host/tests/wasi/hello.wasm (32 bytes)\nargv[1]=-v (2 bytes)\nargv[2]=agent 1 (7 bytes)\nenv SEED=1\n"#
    ), "{}", lines[1]);
    assert!(
        lines[2].ends_with(r#""stderr":"agent 2 says hello on stderr\n"}"#),
        "{}",
        lines[2]
    );

    // The summary counts the exits.
    let out = swarm_cli(&[
        "run",
        "swarm-host/tests/wasi/hello.wasm",
        "--agents",
        "3",
        "--env",
        "SEED={id}",
        "--tier",
        "interpreter",
        "--show",
        "1",
    ]);
    let summary = String::from_utf8(out.stdout).unwrap();
    assert!(summary.contains("  finished      1\n"), "{summary}");
    assert!(
        summary.contains("  exited        2 (code 1 1, code 3 1)\n"),
        "{summary}"
    );
    assert!(summary.contains("    stdout  env SEED=0\n"), "{summary}");
}

/// `--dir` preopens a host directory that every agent changes only in its own view;
/// `--save-files` writes each agent's changed files, and `--json` lists them.
#[test]
fn wasi_directories_are_preopened_and_changed_files_saved() {
    let root = std::env::temp_dir().join(format!("swarm-cli-dir-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (data, out_dir, saved) = (root.join("data"), root.join("empty"), root.join("saved"));
    std::fs::create_dir_all(data.join("sub")).unwrap();
    std::fs::create_dir_all(&out_dir).unwrap();
    let lines = "first line of the given file\nsecond\n";
    std::fs::write(data.join("lines.txt"), lines).unwrap();
    std::fs::write(data.join("sub/numbers.txt"), "1 2 3\n").unwrap();
    let data_arg = format!("{}::data", data.display());
    let out_arg = format!("{}::out", out_dir.display());
    let out = swarm_cli(&[
        "run",
        "swarm-host/tests/wasi/files.wasm",
        "--agents",
        "2",
        "--arg",
        "{id}",
        "--dir",
        &data_arg,
        "--dir",
        &out_arg,
        "--save-files",
        saved.to_str().unwrap(),
        "--tier",
        "interpreter",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let json: Vec<&str> = stdout.lines().collect();
    assert!(
        json[0].ends_with(
            r#""files":["data/lines.txt","out/agent-0.txt","out/stdout.txt","out/sub/note"]}"#
        ),
        "{}",
        json[0]
    );
    // Agent 1 removed its own file again.
    assert!(
        json[1].ends_with(r#""files":["data/lines.txt","out/stdout.txt","out/sub/note"]}"#),
        "{}",
        json[1]
    );
    assert!(json[1].contains(r#"read back 20 [firstAGENT001 the gi]"#));
    let read = |path: &str| std::fs::read_to_string(saved.join(path)).unwrap();
    assert_eq!(
        read("1/out/stdout.txt"),
        "renumber 0\ninto the file, agent 1\n"
    );
    assert!(read("0/data/lines.txt").starts_with("firstAGENT000 the given"));
    assert!(!saved.join("1/out/agent-1.txt").exists());
    // The host's directories are as they were.
    assert_eq!(
        std::fs::read_to_string(data.join("lines.txt")).unwrap(),
        lines
    );
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 0);

    // A budget too small for the first file refuses it, and the summary says so.
    let out = swarm_cli(&[
        "run",
        "swarm-host/tests/wasi/files.wasm",
        "--arg",
        "0",
        "--arg",
        "fill",
        "--dir",
        &out_arg,
        "--file-bytes",
        "3000",
        "--tier",
        "interpreter",
    ]);
    let summary = String::from_utf8(out.stdout).unwrap();
    assert!(
        summary.contains(
            "  files         1 agent(s) created or changed 1 file(s), 2,848 bytes; 1 agent(s) \
             were refused a change for --file-bytes\n"
        ),
        "{summary}"
    );

    // A directory that is not there is an error that names the flag.
    let out = swarm_cli(&[
        "run",
        "swarm-host/tests/wasi/files.wasm",
        "--dir",
        root.join("missing").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("--dir ") && stderr.contains("No such file or directory"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&root).unwrap();
}

/// A reactor's `_initialize` runs in every agent before its call, as wasmtime runs it; and
/// `--stdin` with `{id}` in its name gives each agent its own file.
#[test]
fn reactors_are_initialized_and_stdin_can_differ_per_agent() {
    let root = std::env::temp_dir().join(format!("swarm-cli-reactor-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let reactor = root.join("reactor.wat");
    std::fs::write(
        &reactor,
        r#"(module
          (global $base (mut i32) (i32.const 0))
          (func (export "_initialize") (global.set $base (i32.const 40)))
          (func (export "get") (param i32) (result i32)
            (i32.add (global.get $base) (local.get 0))))"#,
    )
    .unwrap();
    let out = swarm_cli(&[
        "run",
        reactor.to_str().unwrap(),
        "--invoke",
        "get",
        "--args",
        "{id}",
        "--agents",
        "2",
        "--json",
    ]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].contains(r#""results":[40]"#), "{stdout}");
    assert!(lines[1].contains(r#""results":[41]"#), "{stdout}");

    // A command that copies what it reads from stdin to stdout.
    let cat = root.join("cat.wat");
    std::fs::write(
        &cat,
        r#"(module
          (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (func (export "_start")
            (i32.store (i32.const 0) (i32.const 64))
            (i32.store (i32.const 4) (i32.const 200))
            (drop (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
            (i32.store (i32.const 4) (i32.load (i32.const 8)))
            (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#,
    )
    .unwrap();
    std::fs::write(root.join("in-0.txt"), "first").unwrap();
    std::fs::write(root.join("in-1.txt"), "second agent").unwrap();
    let stdin = root.join("in-{id}.txt");
    let run_cat = |agents: &str| {
        swarm_cli(&[
            "run",
            cat.to_str().unwrap(),
            "--stdin",
            stdin.to_str().unwrap(),
            "--agents",
            agents,
            "--json",
        ])
    };
    let out = run_cat("2");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].contains(r#""stdout":"first""#), "{stdout}");
    assert!(lines[1].contains(r#""stdout":"second agent""#), "{stdout}");
    // An agent without its file is an error that names the flag and the agent.
    let out = run_cat("3");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("cannot read --stdin") && stderr.contains("for agent 2"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&root).unwrap();
}
