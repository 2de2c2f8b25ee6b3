//! `swarm`: run one WebAssembly export in many agents on the GPU and report what each returned.

mod args;
mod flags;
mod json;

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use swarm_host::wasi::{self, Wasi, WasiClock, WasiConfig, WasiDir, WasiOutput};
use swarm_host::{
    AdapterRequest, Background, CompileBudget, Imports, ModuleInfo, MultiDispatchReport,
    MultiSwarm, NativeFloats, Outcome, Reconverge, SwarmConfig, TierStatus, every_adapter,
    list_adapters,
};

use crate::args::{ArgTemplate, type_list};
use crate::flags::{CONFIG_FLAGS, Cli, ClockArg, Command, DevicesArg, RunArgs};

/// The adapter of each device `--devices` asks for (`all`: at most one GPU an agent).
fn device_requests(devices: DevicesArg, agents: u32) -> anyhow::Result<Vec<AdapterRequest>> {
    let here = AdapterRequest::from_env();
    if devices == DevicesArg::Count(1) {
        return Ok(vec![here]);
    }
    let gpus = every_adapter(&here).context("--devices")?;
    Ok(match devices {
        DevicesArg::All => gpus.into_iter().take(agents as usize).collect(),
        DevicesArg::Count(n) => (0..n as usize)
            .map(|k| gpus[k % gpus.len()].clone())
            .collect(),
    })
}

/// Fails with the first device that failed: its agents have no results.
fn check_devices(report: MultiDispatchReport) -> anyhow::Result<MultiDispatchReport> {
    match report.failures.first() {
        None => Ok(report),
        Some(failure) => bail!(
            "device {} failed, with {} agent(s): {}",
            failure.device,
            failure.agents.len(),
            failure.error
        ),
    }
}

/// `--save-files DIR`: each agent's created or changed files under `DIR/AGENT/`, by guest
/// path (leading `/` and `.` parts dropped).
fn save_files(dir: &std::path::Path, first: u32, streams: &[WasiOutput]) -> anyhow::Result<()> {
    for (index, output) in (u64::from(first)..).zip(streams) {
        for file in &output.files {
            let mut path = dir.join(index.to_string());
            for part in file.path.split('/') {
                match part {
                    "" | "." => {}
                    ".." => bail!("--save-files: the guest path {:?} leads out", file.path),
                    part => path.push(part),
                }
            }
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("--save-files: cannot make {}", parent.display()))?;
            }
            std::fs::write(&path, &file.contents)
                .with_context(|| format!("--save-files: cannot write {}", path.display()))?;
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(&args),
        Command::Adapters => {
            adapters();
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("swarm: error: {}", one_line(&err));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes on one line, with every `SwarmConfig` field it names given as the
/// `swarm run` flag that sets it.
fn one_line(err: &anyhow::Error) -> String {
    let mut line = err
        .chain()
        .map(|cause| cause.to_string().replace('\n', " "))
        .collect::<Vec<_>>()
        .join(": ");
    for (field, flag) in CONFIG_FLAGS {
        line = line.replace(&format!("`{field}`"), &format!("`{flag}`"));
    }
    line
}

fn adapters() {
    for adapter in list_adapters(&AdapterRequest::from_env()) {
        println!("{adapter}");
    }
}

fn run(args: &RunArgs) -> anyhow::Result<()> {
    // Ctrl-C stops the run after the dispatch under way (or, during set-up, after the first);
    // what finished is still reported. A second Ctrl-C ends the program at once.
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&interrupted);
    ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            std::process::exit(INTERRUPTED_EXIT);
        }
    })
    .context("installing the Ctrl-C handler")?;
    let bytes = std::fs::read(&args.module)
        .with_context(|| format!("cannot read {}", args.module.display()))?;
    let info = ModuleInfo::parse(&bytes)
        .with_context(|| format!("{} is not a module swarm can run", args.module.display()))?;
    let names: Vec<&str> = info.functions.iter().map(|f| f.name.as_str()).collect();
    let exported = if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    };
    let invoke = match &args.invoke {
        Some(name) => name.clone(),
        None if info.function("_start").is_some() => "_start".to_owned(),
        None => bail!(
            "{} exports no `_start`, so name the function each agent calls with --invoke NAME \
             (it exports: {exported})",
            args.module.display()
        ),
    };
    let Some(function) = info.function(&invoke) else {
        bail!(
            "{} exports no function named {invoke:?} (it exports: {exported})",
            args.module.display(),
        );
    };
    let template = ArgTemplate::parse(&args.args, &function.params)
        .with_context(|| format!("bad --args for {invoke}"))?;
    let uses_wasi = info.imports_from(wasi::MODULE);
    let wasi = Wasi::new(WasiConfig {
        args: std::iter::once(args.module.display().to_string())
            .chain(args.wasi_args.iter().cloned())
            .collect(),
        env: args
            .wasi_env
            .iter()
            .map(|pair| match pair.split_once('=') {
                Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
                _ => bail!("--env {pair:?} is not NAME=VALUE"),
            })
            .collect::<anyhow::Result<_>>()?,
        clock: match args.clock {
            ClockArg::Host => WasiClock::Host,
            ClockArg::Deterministic => WasiClock::Deterministic {
                realtime: Duration::ZERO,
                step: Duration::from_millis(1),
            },
        },
        random_seed: args.random_seed,
        stdin: match &args.stdin {
            Some(path) if !path.contains("{id}") => std::fs::read(path)
                .with_context(|| format!("cannot read --stdin {path}"))?
                .into(),
            _ => Arc::from(Vec::new()),
        },
        output_bytes: args.stdout_bytes,
        dirs: args
            .dirs
            .iter()
            .map(|spec| {
                let (host, guest) = spec.split_once("::").unwrap_or((spec, spec));
                WasiDir::load(host, guest).with_context(|| format!("--dir {spec}"))
            })
            .collect::<anyhow::Result<_>>()?,
        file_bytes: args.file_bytes,
    });
    if args.agents == 0 {
        bail!("--agents must be at least 1");
    }
    if args.first_agent.checked_add(args.agents).is_none() {
        bail!(
            "--first-agent {} with --agents {} numbers agents past {}; lower either",
            args.first_agent,
            args.agents,
            u32::MAX
        );
    }
    let config = SwarmConfig {
        max_agents: args.agents,
        first_slot: args.first_agent,
        max_memory_pages: match args.max_memory_pages {
            Some(pages) => pages,
            None => u32::try_from(info.memory_pages).context("the module's memory is too large")?,
        },
        value_stack_slots: args.stack_slots,
        private_stack_slots: args.private_stack_slots,
        call_frames: args.call_frames,
        output_bytes: args
            .output_bytes
            .unwrap_or(if uses_wasi { 4_096 } else { 1_024 }),
        max_globals: args.max_globals,
        max_table_elements: args.max_table_elements,
        max_results: args
            .max_results
            .unwrap_or((function.results.len() as u32).max(1)),
        workgroup_size: args.workgroup_size,
        specialize: !args.no_specialize,
        fuel_per_dispatch: args
            .slice
            .unwrap_or((20_000_000_000 / u64::from(args.agents)).clamp(10_000, 100_000_000)),
        fuel_total: args.fuel,
        tile_agents: args.tile_agents,
        memory_granule_bytes: args.memory_granule,
        tier: args.tier,
        reconverge: args.reconverge,
        soft_float: args.soft_float,
        compile_budget: CompileBudget {
            instructions: args.compile_instructions,
            blocks: args.compile_blocks,
            region_blocks: args.compile_region_blocks,
            background_instructions: args.compile_background_instructions,
            background_blocks: args.compile_background_blocks,
            ..CompileBudget::default()
        },
        pipeline_cache: if args.no_pipeline_cache {
            None
        } else {
            args.pipeline_cache.clone().or_else(default_pipeline_cache)
        },
    };
    let results = type_list(&function.results);

    let requests = device_requests(args.devices, args.agents)?;
    let devices = requests.len() as u32;
    if devices > args.agents {
        bail!(
            "--devices gives {devices} devices for {} agent(s); give each device an agent at least",
            args.agents
        );
    }
    // Equal shares, the first devices one more: a spawn of every agent fills each device in
    // turn, so agent i is slot first + i.
    let shares = (0..devices).map(|d| args.agents / devices + u32::from(d < args.agents % devices));

    let started = Instant::now();
    let mut swarm = MultiSwarm::with_devices(shares.zip(requests).enumerate().map(
        |(device, (max_agents, request))| {
            (
                SwarmConfig {
                    max_agents,
                    // The first device's agents are numbered from --first-agent, each later
                    // device's after the one before.
                    first_slot: if device == 0 { config.first_slot } else { 0 },
                    ..config.clone()
                },
                request,
            )
        },
    ))?;
    let mut imports = Imports::new();
    wasi.add_to(&mut imports);
    if args.default_values_unknown_imports {
        imports.default_values_for_unknown();
    }
    swarm.load_module(&bytes, &imports)?;
    let first = args.first_agent;
    let calls: Vec<_> = (first..first + args.agents)
        .map(|i| template.for_agent(i))
        .collect();
    let spawn_started = Instant::now();
    // A reactor (a module exporting `_initialize` but no `_start`) is initialized in every
    // agent before its call, as wasmtime runs one.
    let reactor = invoke != "_initialize"
        && info.function("_start").is_none()
        && info
            .function("_initialize")
            .is_some_and(|f| f.params.is_empty() && f.results.is_empty());
    let ids = swarm.spawn_many(
        if reactor { "_initialize" } else { &invoke },
        calls
            .iter()
            .map(|args| if reactor { &[][..] } else { args }),
    )?;
    // Each agent's own stdin, where `--stdin` names one per agent.
    if let Some(path) = args.stdin.as_deref().filter(|p| p.contains("{id}")) {
        for (index, id) in (first..first + args.agents).zip(&ids) {
            let file = path.replace("{id}", &index.to_string());
            let input = std::fs::read(&file)
                .with_context(|| format!("cannot read --stdin {file} for agent {index}"))?;
            wasi.set_stdin(*id, input.into());
        }
    }
    if reactor {
        let initialized = check_devices(swarm.run()?)?;
        for (agent, args) in initialized.agents.iter().zip(&calls) {
            // An agent whose initialization trapped or exited keeps that ending.
            if matches!(agent.outcome, Outcome::Finished(_)) {
                swarm.call(agent.id, &invoke, args)?;
            }
        }
    }
    drop(calls);
    // Spawn time includes the GPU copying the module's starting state into every slot.
    swarm.sync()?;
    let spawn_time = spawn_started.elapsed();

    let progress = Progress::new(u64::from(args.agents));
    let mut report = check_devices(swarm.dispatch()?)?;
    let mut dispatches = 1;
    loop {
        let done = report
            .agents
            .iter()
            .filter(|a| !a.outcome.is_running())
            .count();
        progress.update(done as u64);
        if done == report.agents.len() || interrupted.load(Ordering::SeqCst) {
            break;
        }
        report.absorb(check_devices(swarm.dispatch()?)?);
        dispatches += 1;
    }
    progress.finish();
    let running = report
        .agents
        .iter()
        .filter(|a| a.outcome.is_running())
        .count();

    // Each agent's WASI stdout, stderr and files (taking what the GPU gathered of the streams
    // from the output regions); `{id}` was its slot, first + its index here.
    let streams: Vec<WasiOutput> = wasi.take_outputs(&mut swarm, &ids)?;
    if let Some(dir) = &args.save_files {
        save_files(dir, args.first_agent, &streams)?;
    }

    let writers: Vec<_> = report
        .agents
        .iter()
        .filter(|a| a.output_len > 0)
        .map(|a| a.id)
        .collect();
    let outputs = swarm.outputs(&writers)?;
    let mut output_of = vec![Vec::new(); ids.len()];
    for (id, bytes) in writers.iter().zip(outputs) {
        let index = ids.binary_search_by_key(&id.slot(), |i| i.slot());
        if let Ok(index) = index {
            output_of[index] = bytes;
        }
    }

    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    // Spawned agents fill slots in order, so report order is agent order.
    if args.json {
        for (index, agent) in report.agents.iter().enumerate() {
            writeln!(
                out,
                "{}",
                json::agent_line(&json::AgentLine {
                    index: first + index as u32,
                    outcome: &agent.outcome,
                    instructions: agent.instructions,
                    fuel: agent.fuel,
                    output: &output_of[index],
                    wasi: uses_wasi.then_some(&streams[index]),
                })
            )?;
        }
        out.flush()?;
        drop(out);
        // Dropped before a possible exit, which runs no destructor: a kernel still being built
        // is waited for, not left inside the driver.
        drop(swarm);
        return interrupted_exit(running);
    }

    let finished = report
        .agents
        .iter()
        .filter(|a| matches!(a.outcome, Outcome::Finished(_)))
        .count();
    let mut traps: Vec<(&str, usize)> = Vec::new();
    for agent in &report.agents {
        if let Outcome::Trapped(trap) = &agent.outcome {
            match traps.iter_mut().find(|(name, _)| *name == trap.name()) {
                Some((_, count)) => *count += 1,
                None => traps.push((trap.name(), 1)),
            }
        }
    }
    let mut exits: Vec<(i32, usize)> = Vec::new();
    for agent in &report.agents {
        if let Outcome::Exited(code) = agent.outcome {
            match exits.iter_mut().find(|(c, _)| *c == code) {
                Some((_, count)) => *count += 1,
                None => exits.push((code, 1)),
            }
        }
    }
    exits.sort();
    let instructions: u64 = report.agents.iter().map(|a| a.instructions).sum();
    let fuel: u64 = report.agents.iter().map(|a| a.fuel).sum();
    writeln!(
        out,
        "swarm: {} agents of {} calling {}({}) -> ({results})",
        group(args.agents.into()),
        args.module.display(),
        invoke,
        type_list(&function.params)
    )?;
    writeln!(out, "  adapter       {}", swarm.device(0).adapter().name)?;
    if devices > 1 {
        let parts: Vec<String> = report
            .devices
            .iter()
            .enumerate()
            .map(|(d, part)| {
                let gpu = part.gpu_time.map_or("n/a".to_owned(), millis);
                format!(
                    "{d}: {} agents on {}, GPU {gpu}",
                    group(part.agents as u64),
                    swarm.device(d).adapter().name
                )
            })
            .collect();
        writeln!(out, "  devices       {devices} ({})", parts.join("; "))?;
    }
    writeln!(out, "  finished      {}", group(finished as u64))?;
    if running > 0 {
        writeln!(
            out,
            "  interrupted   {} still running (stopped by Ctrl-C)",
            group(running as u64)
        )?;
    }
    let trapped: usize = traps.iter().map(|(_, n)| n).sum();
    let detail: Vec<String> = traps
        .iter()
        .map(|(n, c)| format!("{n} {}", group(*c as u64)))
        .collect();
    if trapped == 0 {
        writeln!(out, "  trapped       0")?;
    } else {
        writeln!(
            out,
            "  trapped       {} ({})",
            group(trapped as u64),
            detail.join(", ")
        )?;
        // A program whose allocation failed often goes on to read or write out of bounds.
        let may_grow = info
            .memory_max_pages
            .is_none_or(|max| max > info.memory_pages);
        if args.max_memory_pages.is_none()
            && may_grow
            && traps
                .iter()
                .any(|(name, _)| *name == "memory_out_of_bounds")
        {
            writeln!(
                out,
                "                memory.grow fails beyond the module's initial {} page(s) unless \
                 --max-memory-pages allows more: a program that allocates needs it",
                info.memory_pages
            )?;
        }
    }
    if !exits.is_empty() {
        let detail: Vec<String> = exits
            .iter()
            .map(|(code, n)| format!("code {code} {}", group(*n as u64)))
            .collect();
        let exited: usize = exits.iter().map(|(_, n)| n).sum();
        writeln!(
            out,
            "  exited        {} ({})",
            group(exited as u64),
            detail.join(", ")
        )?;
    }
    if uses_wasi {
        let total = |f: fn(&WasiOutput) -> u64| streams.iter().map(f).sum::<u64>();
        let mut line = format!(
            "stdout {} bytes, stderr {} bytes",
            group(total(|s| s.stdout.len() as u64)),
            group(total(|s| s.stderr.len() as u64))
        );
        let cut = streams
            .iter()
            .filter(|s| s.stdout_truncated || s.stderr_truncated)
            .count();
        if cut > 0 {
            line.push_str(&format!(
                "; {} agent(s) wrote more than --stdout-bytes, which was cut",
                group(cut as u64)
            ));
        }
        writeln!(out, "  wasi          {line}")?;
        let changed: Vec<_> = streams.iter().filter(|s| !s.files.is_empty()).collect();
        if !changed.is_empty() || !args.dirs.is_empty() {
            let files: usize = changed.iter().map(|s| s.files.len()).sum();
            let bytes: usize = changed
                .iter()
                .flat_map(|s| &s.files)
                .map(|f| f.contents.len())
                .sum();
            let mut line = format!(
                "{} agent(s) created or changed {} file(s), {} bytes",
                group(changed.len() as u64),
                group(files as u64),
                group(bytes as u64)
            );
            let full = streams.iter().filter(|s| s.files_full).count();
            if full > 0 {
                line.push_str(&format!(
                    "; {} agent(s) were refused a change for --file-bytes",
                    group(full as u64)
                ));
            }
            if let Some(dir) = &args.save_files {
                line.push_str(&format!("; saved under {}", dir.display()));
            }
            writeln!(out, "  files         {line}")?;
        }
    }
    writeln!(out, "  instructions  {}", group(instructions))?;
    writeln!(out, "  fuel          {}", group(fuel))?;
    let compiled: u64 = report.agents.iter().map(|a| a.compiled).sum();
    let kernel = match swarm.device(0).tier_status() {
        Some(TierStatus::Compiled(c)) => format!(
            "; {} blocks, {} of {} instructions of code, built in {}{}",
            group(c.blocks as u64),
            group(u64::from(c.compiled_instructions)),
            group(u64::from(c.code_instructions)),
            millis(c.time),
            match &c.background {
                Background::None => String::new(),
                Background::Building => "; a larger kernel was still building".to_owned(),
                Background::Failed(why) => format!("; building a larger kernel failed: {why}"),
                Background::Ran { first } => format!(
                    " in the background, after a first kernel built in {}",
                    millis(*first)
                ),
            }
        ),
        Some(TierStatus::Failed(why)) => format!("; compiling failed: {why}"),
        Some(TierStatus::Slower {
            interpreter,
            compiled,
        }) => format!(
            "; back on the interpreter, which ran {interpreter:.2e} fuel/s to the compiled \
             kernel's {compiled:.2e}"
        ),
        _ => String::new(),
    };
    writeln!(
        out,
        "  tier          {} ({:.1}% of instructions ran compiled{kernel})",
        args.tier,
        100.0 * compiled as f64 / instructions.max(1) as f64
    )?;
    let reconverge = match swarm.device(0).reconverge() {
        Reconverge::Off if args.reconverge != Reconverge::Off => {
            "off (the adapter has no subgroup operations)"
        }
        Reconverge::Off => "off",
        Reconverge::Compiled => "compiled kernels",
        Reconverge::All => "compiled kernels and the interpreter",
    };
    writeln!(out, "  reconverge    {reconverge}")?;
    let floats = match swarm.device(0).native_floats() {
        NativeFloats::None => "integer code only (--soft-float)",
        NativeFloats::F32 => "f32 add, sub and mul of normal numbers on the float unit",
        NativeFloats::F32AndF64 => {
            "f32 and f64 add, sub and mul of normal numbers on the float unit"
        }
    };
    writeln!(out, "  floats        {floats}")?;
    if let Some(cache) = swarm.device(0).pipeline_cache() {
        let mut line = format!(
            "{}: {} bytes loaded, {} saved",
            cache.file.display(),
            group(cache.loaded_bytes),
            group(cache.saved_bytes)
        );
        if let Some(why) = &cache.ignored {
            line.push_str(&format!(" (the file there was ignored: {why})"));
        }
        if let Some(why) = &cache.save_error {
            line.push_str(&format!(" (saving failed: {why})"));
        }
        writeln!(out, "  pipelines     {line}")?;
    }
    match report.gpu_time() {
        Some(gpu) => writeln!(
            out,
            "  GPU time      {} over {dispatches} dispatch(es), {:.2e} instructions/s",
            millis(gpu),
            instructions as f64 / gpu.as_secs_f64().max(1e-9)
        )?,
        None => writeln!(
            out,
            "  GPU time      n/a (no timestamp queries on this adapter)"
        )?,
    }
    writeln!(
        out,
        "  wall time     spawn {}, run {}, total {}",
        millis(spawn_time),
        millis(report.wall_time),
        millis(started.elapsed())
    )?;
    let shown = report.agents.len().min(args.show as usize);
    if shown > 0 {
        writeln!(out, "first results:")?;
    }
    for (index, agent) in report.agents.iter().take(shown).enumerate() {
        let text = match &agent.outcome {
            Outcome::Finished(values) => {
                let values: Vec<String> = values.iter().map(json::value_json).collect();
                format!("[{}]", values.join(", "))
            }
            Outcome::Trapped(trap) => format!("trap {}", trap.name()),
            Outcome::Exited(code) => format!("exit {code}"),
            Outcome::Suspended | Outcome::HostCall => "running".to_owned(),
        };
        writeln!(
            out,
            "  agent {:>7}  {text}  ({} instructions, {} fuel)",
            u64::from(first) + index as u64,
            group(agent.instructions),
            group(agent.fuel)
        )?;
        for (name, bytes) in [
            ("stdout", &streams[index].stdout),
            ("stderr", &streams[index].stderr),
        ] {
            let text = String::from_utf8_lossy(bytes);
            let lines: Vec<&str> = text.lines().collect();
            for line in lines.iter().take(SHOWN_LINES) {
                writeln!(out, "    {name}  {line}")?;
            }
            if lines.len() > SHOWN_LINES {
                writeln!(
                    out,
                    "    {name}  … {} more line(s); --json gives them all",
                    lines.len() - SHOWN_LINES
                )?;
            }
        }
    }
    out.flush()?;
    drop(out);
    drop(swarm);
    interrupted_exit(running)
}

/// Lines of each shown agent's stdout and stderr that the summary prints.
const SHOWN_LINES: usize = 10;

/// Where `swarm run` keeps pipelines unless told otherwise: the XDG cache directory.
fn default_pipeline_cache() -> Option<PathBuf> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    let base = var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("swarm").join("pipelines"))
}

/// The exit status of a run that Ctrl-C stopped with agents still running (128 + SIGINT).
const INTERRUPTED_EXIT: i32 = 130;

/// Ends the program with [`INTERRUPTED_EXIT`] when agents were left running.
fn interrupted_exit(running: usize) -> anyhow::Result<()> {
    if running > 0 {
        eprintln!("swarm: interrupted, {running} agent(s) did not finish");
        std::process::exit(INTERRUPTED_EXIT);
    }
    Ok(())
}

/// A progress bar on stderr that appears once a run has taken a second.
struct Progress {
    bar: ProgressBar,
    started: Instant,
}

impl Progress {
    fn new(total: u64) -> Self {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} agents done")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        Self {
            bar,
            started: Instant::now(),
        }
    }

    fn update(&self, done: u64) {
        if self.bar.is_hidden() && self.started.elapsed() > Duration::from_secs(1) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        self.bar.set_position(done);
    }

    fn finish(&self) {
        if !self.bar.is_hidden() {
            self.bar.finish_and_clear();
        }
    }
}

/// 1234567 → "1,234,567".
fn group(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn millis(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}
