//! `swarm-bench`: runs every benchmark (throughput per workload, scaling, round trip,
//! single-instance baseline) on swarm and its peers and writes `report.md`, `throughput.svg` and
//! `results.csv`. `cargo xtask bench` runs it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use swarm_bench::measure::{self, Point, Repeat};
use swarm_bench::programs::{PROGRAMS, is_program, programs};
use swarm_bench::report::{self, Report, Setting};
use swarm_bench::{
    Interpreter, Scale, SwarmRunner, host_threads, parse_counts, workloads, xorshift,
};

const USAGE: &str = "\
usage: swarm-bench [--quick] [--out DIR] [--agents LIST] [--scaling LIST] [--guest-max N]
                   [--workloads NAMES] [--sections NAMES] [--programs NAMES]
                   [--program-agents LIST] [--tier TIER] [--compile-instructions N]
                   [--compile-blocks N] [--compile-region-blocks N]
                   [--compile-background-instructions N] [--compile-background-blocks N]
                   [--reconverge KERNELS] [--pipeline-cache DIR]

  --quick            a smoke test: a tenth of the work, small agent counts
  --out DIR          where report.md, throughput.svg and results.csv go
                     (default target/swarm-bench)
  --agents LIST      throughput agent counts (default 1024,16384,131072,1048576;
                     quick: 32,128)
  --scaling LIST     xorshift scaling counts (default 1,10,...,1000000; quick: 1,10,100)
  --guest-max N      largest agent count for the Rust guests (default: no limit)
  --workloads NAMES  only these workloads (comma-separated: xorshift, fib, collatz, sha256,
                     monte_carlo_pi, mandelbrot, insertion_sort, mix64)
  --sections NAMES   only these sections (programs, latency, baseline, throughput,
                     scaling, workgroup, interpreter)
  --programs NAMES   only these real programs (comma-separated directory names under
                     swarm-bench/programs, e.g. coremark,zlib)
  --program-agents LIST
                     agent counts for the real programs (default 16384,65536; quick: 2
                     agents of polybench-jacobi-2d alone)
  --workgroup-sizes LIST
                     agents per workgroup to compare (default 1,32,64,128,256)
  --workgroup-agents LIST
                     agent counts for that comparison and the interpreter one (default
                     16384,131072; quick: 128)
  --tier TIER        the tier swarm runs on: compiled (default), interpreter or auto;
                     on compiled, xorshift, fib, shootout-xchacha20, shootout-base64,
                     shootout-gimli and polybench-floyd-warshall must run above 99%
                     compiled (at the default budget)
  --compile-instructions N, --compile-blocks N
                     the compiled tier's budget: most instructions and blocks it compiles
                     per module (default 1500 and 96)
  --compile-region-blocks N
                     most compiled blocks joined into one region (default 1: none)
  --compile-background-instructions N, --compile-background-blocks N
                     the budget of a larger kernel built in the background once the first
                     runs (default 0: none); swarm's timed runs wait for it, and the build
                     column gives both builds' time
  --reconverge KERNELS
                     which kernels keep a subgroup's agents together: compiled (default),
                     all (the interpreter too) or off
  --pipeline-cache DIR
                     keep built pipelines in DIR and build from what is there (default:
                     none, so the build column gives cold build times; the driver may
                     still keep its own cache)
";

const SECTIONS: [&str; 7] = [
    "programs",
    "latency",
    "baseline",
    "throughput",
    "scaling",
    "workgroup",
    "interpreter",
];

/// Workloads of the interpreter comparison: an integer loop, and two guests of the Rust module
/// (which holds float code, so its specialized interpreter keeps the float group).
const INTERPRETER_WORKLOADS: [&str; 3] = ["xorshift", "fib", "monte_carlo_pi"];

struct Options {
    scale: Scale,
    out: PathBuf,
    agents: Vec<u32>,
    scaling: Vec<u32>,
    guest_max: u32,
    workloads: Option<Vec<String>>,
    sections: Vec<String>,
    workgroup_sizes: Vec<u32>,
    workgroup_agents: Vec<u32>,
    programs: Option<Vec<String>>,
    program_agents: Vec<u32>,
}

fn options() -> Result<Options> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let mut options = Options {
        scale: if quick { Scale::Quick } else { Scale::Full },
        out: PathBuf::from("target/swarm-bench"),
        agents: if quick {
            vec![32, 128]
        } else {
            vec![1_024, 16_384, 131_072, 1_048_576]
        },
        scaling: if quick {
            vec![1, 10, 100]
        } else {
            vec![1, 10, 100, 1_000, 10_000, 100_000, 1_000_000]
        },
        guest_max: u32::MAX,
        workloads: None,
        sections: SECTIONS.map(String::from).to_vec(),
        workgroup_sizes: vec![1, 32, 64, 128, 256],
        workgroup_agents: if quick {
            vec![128]
        } else {
            vec![16_384, 131_072]
        },
        // The smallest program on two agents: a software adapter takes seconds per agent.
        programs: quick.then(|| vec!["polybench-jacobi-2d".to_owned()]),
        program_agents: if quick { vec![2] } else { vec![16_384, 65_536] },
    };
    let mut budget = swarm_host::CompileBudget::default();
    let mut rest = args.iter().filter(|a| *a != "--quick");
    while let Some(flag) = rest.next() {
        if flag == "-h" || flag == "--help" {
            print!("{USAGE}");
            std::process::exit(0);
        }
        let value = rest
            .next()
            .with_context(|| format!("{flag} needs a value\n\n{USAGE}"))?;
        match flag.as_str() {
            "--out" => options.out = PathBuf::from(value),
            "--agents" => options.agents = parse_counts(value)?,
            "--scaling" => options.scaling = parse_counts(value)?,
            "--guest-max" => options.guest_max = parse_counts(value)?[0],
            "--workloads" => {
                options.workloads = Some(value.split(',').map(str::to_owned).collect());
            }
            "--sections" => options.sections = value.split(',').map(str::to_owned).collect(),
            "--workgroup-sizes" => options.workgroup_sizes = parse_counts(value)?,
            "--workgroup-agents" => options.workgroup_agents = parse_counts(value)?,
            "--programs" => {
                options.programs = Some(value.split(',').map(str::to_owned).collect());
            }
            "--program-agents" => options.program_agents = parse_counts(value)?,
            "--tier" => swarm_bench::set_tier(
                value
                    .parse()
                    .map_err(|e: String| anyhow::anyhow!("--tier: {e}"))?,
            ),
            "--reconverge" => swarm_bench::set_reconverge(
                value
                    .parse()
                    .map_err(|e: String| anyhow::anyhow!("--reconverge: {e}"))?,
            ),
            "--compile-instructions" => {
                budget.instructions = value.parse().context("--compile-instructions: a count")?;
            }
            "--compile-blocks" => {
                budget.blocks = value.parse().context("--compile-blocks: a count")?;
            }
            "--compile-region-blocks" => {
                budget.region_blocks = value.parse().context("--compile-region-blocks: a count")?;
            }
            "--compile-background-instructions" => {
                budget.background_instructions = value
                    .parse()
                    .context("--compile-background-instructions: a count")?;
            }
            "--compile-background-blocks" => {
                budget.background_blocks = value
                    .parse()
                    .context("--compile-background-blocks: a count")?;
            }
            "--pipeline-cache" => swarm_bench::set_pipeline_cache(PathBuf::from(value)),
            other => bail!("unknown option {other}\n\n{USAGE}"),
        }
    }
    swarm_bench::set_compile_budget(budget);
    for list in [
        &options.agents,
        &options.scaling,
        &options.workgroup_sizes,
        &options.workgroup_agents,
        &options.program_agents,
    ] {
        if list.is_empty() || list.contains(&0) {
            bail!("counts and sizes must be at least 1");
        }
    }
    for section in &options.sections {
        if !SECTIONS.contains(&section.as_str()) {
            bail!("unknown section {section:?}; the sections are {SECTIONS:?}");
        }
    }
    if let Some(bad) = options.programs.iter().flatten().find(|n| !is_program(n)) {
        bail!(
            "unknown program {bad:?}; the programs are {:?}",
            PROGRAMS.map(|p| p.0)
        );
    }
    if let Some(names) = &options.workloads {
        let known: Vec<&str> = workloads(options.scale).iter().map(|w| w.name).collect();
        if let Some(bad) = names.iter().find(|n| !known.contains(&n.as_str())) {
            bail!("unknown workload {bad:?}; the workloads are {known:?}");
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("swarm-bench: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let options = options()?;
    let quick = options.scale == Scale::Quick;
    let repeat = if quick { Repeat::QUICK } else { Repeat::FULL };
    let wants = |section: &str| options.sections.iter().any(|s| s == section);
    let chosen: Vec<_> = workloads(options.scale)
        .into_iter()
        .filter(|w| {
            options
                .workloads
                .as_ref()
                .is_none_or(|names| names.iter().any(|n| n == w.name))
        })
        .collect();
    if cfg!(debug_assertions) && !quick {
        eprintln!(
            "swarm-bench: warning: a debug build: wasmtime and wasmi run with debug assertions \
             and can take several times as long as in a release build, so ratios against them \
             are not comparable (build with `--release`, as `cargo xtask bench` does)"
        );
    }
    let baseline_agents = if quick { 32 } else { 1_024 };
    let latency_agents = 1_024;
    let capacity = [
        options.agents.iter().max().copied().unwrap_or(0),
        if wants("scaling") {
            options.scaling.iter().max().copied().unwrap_or(0)
        } else {
            0
        },
        latency_agents,
        baseline_agents,
    ]
    .into_iter()
    .max()
    .unwrap_or(1);
    let mut runner = SwarmRunner::new(capacity)?;
    let threads = host_threads();
    let adapter = runner.adapter().clone();
    eprintln!(
        "swarm-bench: {} ({}), {threads} host threads, room for {capacity} agents",
        adapter.name, adapter.backend
    );
    let mut report = Report {
        setting: Setting {
            date: report::today(),
            adapter: format!(
                "{} ({}, {})",
                adapter.name, adapter.backend, adapter.device_type
            ),
            driver: adapter.driver.clone(),
            cpu: report::cpu_model(),
            threads,
            profile: if cfg!(debug_assertions) {
                "debug (unoptimized swarm crates; wasmtime and wasmi with debug assertions, \
                 so their times are not a release build's)"
            } else {
                "release"
            },
            quick,
            command: std::env::var("SWARM_BENCH_COMMAND").unwrap_or_else(|_| {
                std::iter::once("swarm-bench".to_owned())
                    .chain(std::env::args().skip(1))
                    .collect::<Vec<_>>()
                    .join(" ")
            }),
        },
        throughput: Vec::new(),
        scaling: Vec::new(),
        latency: None,
        baseline: None,
        workgroup: Vec::new(),
        interpreter: Vec::new(),
        programs: Vec::new(),
    };
    std::fs::create_dir_all(&options.out)
        .with_context(|| format!("creating {}", options.out.display()))?;
    let write = |report: &Report| -> Result<()> {
        for (name, text) in [
            ("report.md", report.markdown()),
            ("throughput.svg", report.svg()),
            ("results.csv", report.csv()),
        ] {
            let path = options.out.join(name);
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(())
    };

    if wants("programs") {
        // First, on a fresh GPU: one swarm per program, sized for its memory.
        let most = options.program_agents.iter().copied().max().unwrap_or(1);
        for workload in programs().iter().filter(|w| {
            options
                .programs
                .as_ref()
                .is_none_or(|names| names.iter().any(|n| n == w.name))
        }) {
            let mut runner = SwarmRunner::for_programs(most, workload.memory_pages)?;
            for &agents in &options.program_agents {
                let point = measure::program_point(&mut runner, workload, agents, threads, repeat)?;
                eprintln!(
                    "{} x {}: swarm {:?} (GPU {:?}), wasmtime {:?}, reused {:?}: {:.2}x",
                    point.program,
                    agents,
                    point.swarm.wall.median(),
                    point.swarm.gpu,
                    point.wasmtime.wall.median(),
                    point.reused.wall.median(),
                    point.ratio(&point.wasmtime)
                );
                report.programs.push(point);
                write(&report)?;
            }
        }
    }
    if wants("latency") {
        let runs = if quick { 20 } else { 200 };
        let latency = measure::latency(&mut runner, latency_agents, runs)?;
        eprintln!(
            "round trip of {latency_agents} trivial agents: median {:?} (spawn {:?}, dispatch {:?}, GPU {:?}; {:?})",
            latency.round_trip.median(),
            latency.spawn,
            latency.dispatch,
            latency.gpu,
            latency.phases
        );
        report.latency = Some(latency);
        write(&report)?;
    }
    if wants("baseline") {
        let workload = xorshift(options.scale);
        let baseline = measure::baseline(&mut runner, &workload, baseline_agents, repeat)?;
        eprintln!(
            "single-instance baseline, {baseline_agents} xorshift agents: one run {:?}, one by one {:?}: {:.0}x",
            baseline.swarm.median(),
            baseline.single.median(),
            baseline.ratio()
        );
        report.baseline = Some(baseline);
        write(&report)?;
    }
    if wants("throughput") {
        for workload in &chosen {
            for &agents in &options.agents {
                if workload.is_guest() && agents > options.guest_max {
                    continue;
                }
                let point = measure::point(&mut runner, workload, agents, threads, repeat)?;
                progress(&point);
                report.throughput.push(point);
                write(&report)?;
            }
        }
    }
    if wants("scaling") {
        let workload = xorshift(options.scale);
        for &agents in &options.scaling {
            let point = measure::point(&mut runner, &workload, agents, threads, repeat)?;
            progress(&point);
            report.scaling.push(point);
            write(&report)?;
        }
    }
    // Last, with the GPU warm: its own swarms, one per size, once the big one is gone.
    drop(runner);
    if wants("workgroup") {
        let workload = xorshift(options.scale);
        let most = options.workgroup_agents.iter().copied().max().unwrap_or(1);
        for &size in &options.workgroup_sizes {
            let mut runner = SwarmRunner::with_workgroup_size(most, size)?;
            for &agents in &options.workgroup_agents {
                let point = measure::swarm_point(&mut runner, &workload, agents, repeat)?;
                eprint!("workgroup size {size}: ");
                progress(&point);
                report.workgroup.push((size, point));
                write(&report)?;
            }
        }
    }
    if wants("interpreter") {
        let most = options.workgroup_agents.iter().copied().max().unwrap_or(1);
        let default_size = swarm_host::SwarmConfig::default().workgroup_size;
        for interpreter in Interpreter::ALL {
            // On the interpreter tier whatever `--tier` says: the variants are the
            // interpreter's own.
            let mut runner = SwarmRunner::with_settings(
                most,
                default_size,
                interpreter,
                swarm_host::Tier::Interpreter,
            )?;
            for workload in workloads(options.scale)
                .iter()
                .filter(|w| INTERPRETER_WORKLOADS.contains(&w.name))
            {
                for &agents in &options.workgroup_agents {
                    let point = measure::swarm_point(&mut runner, workload, agents, repeat)?;
                    let groups = runner
                        .interpreter_groups()
                        .expect("a run loaded the module")
                        .name();
                    let stack = interpreter.stack();
                    eprint!("interpreter {groups}, stack {stack}: ");
                    progress(&point);
                    report.interpreter.push((groups, stack, point));
                    write(&report)?;
                }
            }
        }
    }
    write(&report)?;
    eprintln!(
        "swarm-bench: wrote report.md, throughput.svg and results.csv to {}",
        options.out.display()
    );
    Ok(())
}

fn progress(point: &Point) {
    let rate = |e| {
        point
            .instructions_per_second(e)
            .map_or("–".to_owned(), |r| format!("{r:.2e}"))
    };
    eprintln!(
        "{} x {}: {} instructions; instr/s swarm {} (GPU {:?}), wasmtime {}, wasmi {}",
        point.workload,
        point.agents,
        point.instructions,
        rate(0),
        point.engines[0].as_ref().and_then(|e| e.gpu),
        rate(1),
        rate(2)
    );
}
