//! The report's real-program section: per program and agent count, swarm against wasmtime with
//! a fresh instance per agent and with reused instances, the geometric means, CoreMark's
//! iterations per second, and GPU-time rates beside wall rates.

use std::fmt::Write;

use super::{count, millis, rate, ratio, verdict};
use crate::measure::ProgramPoint;
use crate::programs::COREMARK_ITERATIONS;

/// The geometric mean of `values`, `None` for none.
fn geomean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0_u32), |(s, n), v| (s + v.ln(), n + 1));
    (n > 0).then(|| (sum / f64::from(n)).exp())
}

/// The agent counts measured, in order.
fn agent_counts(points: &[ProgramPoint]) -> Vec<u32> {
    let mut counts: Vec<u32> = points.iter().map(|p| p.agents).collect();
    counts.sort_unstable();
    counts.dedup();
    counts
}

/// The target rows for the real programs, in the report's target table.
pub(super) fn targets(points: &[ProgramPoint], md: &mut String) {
    if points.is_empty() {
        return;
    }
    let at = |agents: u32| points.iter().filter(move |p| p.agents == agents);
    let main = 65_536;
    let mean = geomean(at(main).map(|p| p.ratio(&p.wasmtime)));
    let _ = writeln!(
        md,
        "| real programs: geometric mean of swarm / wasmtime at {} agents ≥ 1.5x | {} | {} |",
        count(main),
        ratio(mean),
        verdict(mean.map(|m| m >= 1.5))
    );
    let worst = at(main)
        .map(|p| (p.program, p.ratio(&p.wasmtime)))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    let _ = writeln!(
        md,
        "| real programs: none below 0.5x wasmtime at {} agents | {} | {} |",
        count(main),
        worst.map_or("–".to_owned(), |(p, r)| format!(
            "lowest: {p} {}",
            ratio(Some(r))
        )),
        verdict(worst.map(|(_, r)| r >= 0.5))
    );
    let coremark = at(main)
        .find(|p| p.program == "coremark")
        .map(|p| p.ratio(&p.wasmtime));
    let _ = writeln!(
        md,
        "| CoreMark ≥ 1x wasmtime at {} agents | {} | {} |",
        count(main),
        ratio(coremark),
        verdict(coremark.map(|r| r >= 1.0))
    );
    // Large agents do not collapse: the GPU-time rate of 1 MiB agents holds from 16,384 up.
    let large: Vec<_> = at(main)
        .filter(|p| p.memory_pages >= 16)
        .filter_map(|p| {
            let small = at(16_384).find(|q| q.program == p.program)?;
            Some((p.program, small.gpu_rate()?, p.gpu_rate()?))
        })
        .collect();
    let _ = writeln!(
        md,
        "| 1 MiB agents: GPU-time rate at 65,536 agents ≥ at 16,384 | {} | {} |",
        if large.is_empty() {
            "–".to_owned()
        } else {
            large
                .iter()
                .map(|(p, s, l)| format!("{p}: {} → {}", rate(Some(*s)), rate(Some(*l))))
                .collect::<Vec<_>>()
                .join(", ")
        },
        verdict((!large.is_empty()).then(|| large.iter().all(|(_, s, l)| l >= s)))
    );
}

/// The real-program section.
pub(super) fn section(points: &[ProgramPoint], md: &mut String) {
    if points.is_empty() {
        return;
    }
    let _ = writeln!(md, "\n## Real programs\n");
    let _ = writeln!(
        md,
        "C programs built from their upstream sources with clang 14 and wasi-libc into \
         import-free modules (`swarm-bench/programs/`); agent *i* calls `run(i)`, which runs the \
         program on inputs derived from *i* and returns a checksum. Every swarm run returned \
         wasmtime's checksums, agent by agent. Times are whole runs (spawn or instantiate \
         every agent, run, collect the results); *swarm / wasmtime* compares wall times with \
         wasmtime on every host thread, a fresh instance per agent (*fresh*) or one instance \
         per thread reused for every call (*reused*). *GPU rate* is instructions (wasmtime's \
         fuel model) per second of GPU time, *wall rate* per second of swarm's wall time, \
         *compiled* the share of instructions swarm's compiled tier ran, *build* the time its \
         kernel took to generate, validate and build (before the timed runs).\n"
    );
    let _ = writeln!(
        md,
        "| program | pages | agents | instr/agent | swarm wall | GPU | wasmtime fresh | wasmtime reused | swarm / fresh | swarm / reused | GPU rate | wall rate | compiled | build |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    for p in points {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1}% | {} |",
            p.program,
            p.memory_pages,
            count(p.agents),
            p.instructions / u64::from(p.agents.max(1)),
            millis(p.swarm.wall.median()),
            p.swarm.gpu.map_or("–".to_owned(), millis),
            millis(p.wasmtime.wall.median()),
            millis(p.reused.wall.median()),
            ratio(Some(p.ratio(&p.wasmtime))),
            ratio(Some(p.ratio(&p.reused))),
            rate(p.gpu_rate()),
            rate(Some(p.wall_rate())),
            100.0 * p.compiled as f64 / p.instructions.max(1) as f64,
            p.build.map_or("–".to_owned(), millis),
        );
    }
    let _ = writeln!(md);
    for agents in agent_counts(points) {
        let at: Vec<_> = points.iter().filter(|p| p.agents == agents).collect();
        let _ = writeln!(
            md,
            "Geometric mean at {} agents: swarm / wasmtime fresh {}, reused {}.",
            count(agents),
            ratio(geomean(at.iter().map(|p| p.ratio(&p.wasmtime)))),
            ratio(geomean(at.iter().map(|p| p.ratio(&p.reused)))),
        );
    }
    for p in points.iter().filter(|p| p.program == "coremark") {
        let iterations = f64::from(p.agents) * f64::from(COREMARK_ITERATIONS);
        let per_second = |time: std::time::Duration| iterations / time.as_secs_f64().max(1e-9);
        let _ = writeln!(
            md,
            "\nCoreMark at {} agents ({COREMARK_ITERATIONS} iterations each): {} iterations/s on \
             swarm ({} per second of GPU time), {} on wasmtime fresh, {} reused.",
            count(p.agents),
            rate(Some(per_second(p.swarm.wall.median()))),
            rate(p.swarm.gpu.map(per_second)),
            rate(Some(per_second(p.wasmtime.wall.median()))),
            rate(Some(per_second(p.reused.wall.median()))),
        );
    }
}

/// The section's rows of `results.csv`.
pub(super) fn csv(points: &[ProgramPoint], out: &mut String) {
    for p in points {
        for (engine, time) in [
            ("swarm", &p.swarm),
            ("wasmtime", &p.wasmtime),
            ("wasmtime_reused", &p.reused),
        ] {
            let _ = writeln!(
                out,
                "programs,{},{},{},{engine},{:.6},{},{}",
                p.program,
                p.agents,
                p.instructions,
                time.wall.median().as_secs_f64(),
                time.wall.runs.len(),
                time.gpu
                    .map_or(String::new(), |g| format!("{:.6}", g.as_secs_f64()))
            );
        }
    }
}
