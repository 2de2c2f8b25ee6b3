//! The benchmark report: `report.md` (tables and the targets), `throughput.svg` (log-log plot of
//! throughput against agent count, one line per engine) and `results.csv` (every median).

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::Phases;
use crate::measure::{Baseline, ENGINES, Latency, Point, ProgramPoint};

mod programs;

/// Where and how a report was measured.
#[derive(Clone, Debug)]
pub struct Setting {
    /// `YYYY-MM-DD`, UTC.
    pub date: String,
    /// Adapter name, backend and type.
    pub adapter: String,
    /// Driver name and version.
    pub driver: String,
    /// Host CPU model.
    pub cpu: String,
    /// Threads the CPU peers use.
    pub threads: usize,
    /// `release` or `debug`.
    pub profile: &'static str,
    /// Whether this is the quick smoke test.
    pub quick: bool,
    /// The command that reproduces the report.
    pub command: String,
}

/// Everything one benchmark run measured.
#[derive(Clone, Debug)]
pub struct Report {
    /// Where and how.
    pub setting: Setting,
    /// Every workload at the throughput agent counts.
    pub throughput: Vec<Point>,
    /// xorshift from one agent up.
    pub scaling: Vec<Point>,
    /// The trivial round trip.
    pub latency: Option<Latency>,
    /// One dispatch against one agent per dispatch.
    pub baseline: Option<Baseline>,
    /// xorshift on swarm alone, per agents-per-workgroup setting.
    pub workgroup: Vec<(u32, Point)>,
    /// Swarm alone on each interpreter: its instruction groups and where its value stacks
    /// live while it runs.
    pub interpreter: Vec<(String, &'static str, Point)>,
    /// Real programs: each at each agent count.
    pub programs: Vec<ProgramPoint>,
}

/// Today's date, UTC, as `YYYY-MM-DD`.
pub fn today() -> String {
    let days = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400) as i64;
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The host CPU's model name, from `/proc/cpuinfo` where there is one.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, name)| name.trim().to_owned())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned())
}

fn rate(value: Option<f64>) -> String {
    value.map_or("–".to_owned(), |v| format!("{v:.2e}"))
}

fn ratio(value: Option<f64>) -> String {
    value.map_or("–".to_owned(), |v| {
        if v >= 10.0 {
            format!("{v:.0}x")
        } else if v >= 0.1 {
            format!("{v:.2}x")
        } else {
            format!("{v:.1e}x")
        }
    })
}

fn millis(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else if ms >= 1.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{:.0} µs", ms * 1e3)
    }
}

fn count(n: u32) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn verdict(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "met",
        Some(false) => "not met",
        None => "not measured",
    }
}

impl Report {
    /// swarm over wasmtime on xorshift at 131,072 agents and above, per agent count.
    fn xorshift_ratios(&self) -> Vec<(u32, f64)> {
        self.throughput
            .iter()
            .filter(|p| p.workload == "xorshift" && p.agents >= 131_072)
            .filter_map(|p| Some((p.agents, p.ratio(1)?)))
            .collect()
    }

    /// Per guest workload, its best ratio over wasmtime and where; and their geometric mean.
    fn guest_best(&self) -> (Vec<(&'static str, u32, f64)>, Option<f64>) {
        let mut best: Vec<(&'static str, u32, f64)> = Vec::new();
        for p in self.throughput.iter().filter(|p| p.workload != "xorshift") {
            let Some(r) = p.ratio(1) else { continue };
            match best.iter_mut().find(|(w, _, _)| *w == p.workload) {
                Some(entry) if entry.2 >= r => {}
                Some(entry) => *entry = (p.workload, p.agents, r),
                None => best.push((p.workload, p.agents, r)),
            }
        }
        let mean = (!best.is_empty())
            .then(|| (best.iter().map(|(_, _, r)| r.ln()).sum::<f64>() / best.len() as f64).exp());
        (best, mean)
    }

    /// The report as Markdown.
    pub fn markdown(&self) -> String {
        let s = &self.setting;
        let mut md = String::new();
        let _ = writeln!(md, "# swarm benchmark report\n");
        if s.quick {
            let _ = writeln!(
                md,
                "**Quick run:** a smoke test with a tenth of the work and small agent counts; \
                 its numbers say nothing about performance.\n"
            );
        }
        let _ = writeln!(md, "| | |\n|---|---|");
        let _ = writeln!(md, "| date | {} |", s.date);
        let _ = writeln!(md, "| adapter | {} |", s.adapter);
        let _ = writeln!(md, "| driver | {} |", s.driver);
        let _ = writeln!(
            md,
            "| host CPU | {} ({} threads; wasmtime and wasmi use all of them) |",
            s.cpu, s.threads
        );
        let _ = writeln!(md, "| build | {} |", s.profile);
        let _ = writeln!(md, "| command | `{}` |\n", s.command);

        let _ = writeln!(md, "## Targets\n");
        let _ = writeln!(md, "| target | measured | |\n|---|---|---|");
        programs::targets(&self.programs, &mut md);
        let xs = self.xorshift_ratios();
        let _ = writeln!(
            md,
            "| xorshift: swarm ≥ 10x wasmtime at ≥ 131,072 agents | {} | {} |",
            if xs.is_empty() {
                "–".to_owned()
            } else {
                xs.iter()
                    .map(|(a, r)| format!("{} at {}", ratio(Some(*r)), count(*a)))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            verdict((!xs.is_empty()).then(|| xs.iter().all(|(_, r)| *r >= 10.0)))
        );
        let (best, mean) = self.guest_best();
        let _ = writeln!(
            md,
            "| Rust guests: geometric mean of swarm / wasmtime at each guest's best agent count ≥ 3x | {} | {} |",
            ratio(mean),
            verdict(mean.map(|m| m >= 3.0))
        );
        if let Some(l) = &self.latency {
            let _ = writeln!(
                md,
                "| round trip of {} trivial agents ≤ 150 µs | {} (median of {}) | {} |",
                count(l.agents),
                millis(l.round_trip.median()),
                l.round_trip.runs.len(),
                verdict(Some(l.round_trip.median() <= Duration::from_micros(150)))
            );
        }
        if let Some(b) = &self.baseline {
            let _ = writeln!(
                md,
                "| one swarm run ≥ 100x the single-instance baseline at {} agents | {} | {} |",
                count(b.agents),
                ratio(Some(b.ratio())),
                verdict(Some(b.ratio() >= 100.0))
            );
        }
        if !best.is_empty() {
            let _ = writeln!(
                md,
                "\nBest swarm / wasmtime per guest: {}.",
                best.iter()
                    .map(|(w, a, r)| format!("{w} {} at {}", ratio(Some(*r)), count(*a)))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }

        programs::section(&self.programs, &mut md);

        let _ = writeln!(md, "\n## Throughput\n");
        let _ = writeln!(
            md,
            "WebAssembly instructions per second over all agents (wasmtime's fuel model, counted \
             by swarm), from the median wall time of a whole run: spawn or instantiate every \
             agent, run it to the end, collect its result. Every peer's results were checked \
             against swarm's. *GPU share* is the GPU time (timestamps) over swarm's wall time, \
             *compiled* the share of instructions swarm's compiled tier ran (tier: {}).\n",
            crate::tier()
        );
        self.table(&mut md, &self.throughput, true);
        self.phases(&mut md);

        if !self.scaling.is_empty() {
            let _ = writeln!(md, "\n## Scaling (xorshift)\n");
            let _ = writeln!(md, "![throughput against agents](throughput.svg)\n");
            self.table(&mut md, &self.scaling, false);
        }

        if let Some(l) = &self.latency {
            let _ = writeln!(md, "\n## Round trip\n");
            let _ = writeln!(
                md,
                "{} agents of a trivial function (`{}`): `spawn_batch` with `Arg::INDEX`, one \
                 `dispatch_batch`, harvest the result column. Medians of {} round trips after a warm-up.\n",
                count(l.agents),
                crate::measure::TRIVIAL_WAT,
                l.round_trip.runs.len()
            );
            let _ = writeln!(md, "| part | median |\n|---|---|");
            let _ = writeln!(md, "| round trip | {} |", millis(l.round_trip.median()));
            let fastest = l.round_trip.runs.first().copied().unwrap_or_default();
            let _ = writeln!(md, "| fastest round trip | {} |", millis(fastest));
            let _ = writeln!(md, "| spawn_batch (host) | {} |", millis(l.spawn));
            let _ = writeln!(
                md,
                "| dispatch: upload, spawn and run kernels, readback | {} |",
                millis(l.dispatch)
            );
            let _ = writeln!(
                md,
                "| of which GPU time (timestamps) | {} |",
                l.gpu.map_or("–".to_owned(), millis)
            );
            let p = &l.phases;
            for (part, time) in [
                ("dispatch: work list and parameters (host)", p.prepare),
                ("dispatch: recording and submission (host)", p.submit),
                (
                    "dispatch: submission until the readback is mapped (GPU, copy, wake-up)",
                    p.wait,
                ),
                ("dispatch: decoding the status records (host)", p.decode),
                ("dispatch: harvesting the result column (host)", p.harvest),
            ] {
                let _ = writeln!(md, "| {part} | {} |", millis(time));
            }
        }

        if !self.workgroup.is_empty() {
            let _ = writeln!(md, "\n## Agents per workgroup\n");
            let _ = writeln!(
                md,
                "xorshift on swarm alone, one agent per invocation, with `SwarmConfig::workgroup_size` \
                 agents per workgroup (the default is {}). 1 is one agent per workgroup.\n",
                swarm_host::SwarmConfig::default().workgroup_size
            );
            let _ = writeln!(
                md,
                "| agents per workgroup | agents | swarm instr/s | swarm wall | GPU time |\n|---|---|---|---|---|"
            );
            for (size, p) in &self.workgroup {
                let swarm = p.engines[0].as_ref();
                let _ = writeln!(
                    md,
                    "| {size} | {} | {} | {} | {} |",
                    count(p.agents),
                    rate(p.instructions_per_second(0)),
                    swarm.map_or("–".to_owned(), |e| millis(e.wall.median())),
                    swarm.and_then(|e| e.gpu).map_or("–".to_owned(), millis),
                );
            }
        }

        if !self.interpreter.is_empty() {
            let _ = writeln!(md, "\n## Interpreter variants\n");
            let _ = writeln!(
                md,
                "Swarm alone, on the interpreter tier. *Groups*: the interpreter generated with only the instruction \
                 groups the module uses (`SwarmConfig::specialize`, the default), or the full \
                 one (`float+div64+bulk`); the Rust guests share one module that holds float \
                 code. *Stack*: value stacks copied into each invocation's private memory for a \
                 dispatch (`SwarmConfig::private_stack_slots`, the default for stacks of up to \
                 512 slots), or used in place in the state buffer.\n"
            );
            let _ = writeln!(
                md,
                "| workload | groups | stack | agents | swarm instr/s | swarm wall | GPU time |\n|---|---|---|---|---|---|---|"
            );
            for (groups, stack, p) in &self.interpreter {
                let swarm = p.engines[0].as_ref();
                let _ = writeln!(
                    md,
                    "| {} | {groups} | {stack} | {} | {} | {} | {} |",
                    p.workload,
                    count(p.agents),
                    rate(p.instructions_per_second(0)),
                    swarm.map_or("–".to_owned(), |e| millis(e.wall.median())),
                    swarm.and_then(|e| e.gpu).map_or("–".to_owned(), millis),
                );
            }
        }

        if let Some(b) = &self.baseline {
            let _ = writeln!(md, "\n## Single-instance baseline\n");
            let _ = writeln!(
                md,
                "The same {} {} agents, submitted one agent per dispatch (spawn, run, harvest, \
                 kill each in turn), against all of them in one swarm run.\n",
                count(b.agents),
                b.workload
            );
            let _ = writeln!(md, "| | median wall time |\n|---|---|");
            let _ = writeln!(md, "| one swarm run | {} |", millis(b.swarm.median()));
            let _ = writeln!(
                md,
                "| one agent per dispatch | {} |",
                millis(b.single.median())
            );
            let _ = writeln!(md, "| ratio | {} |", ratio(Some(b.ratio())));
        }
        md
    }

    fn table(&self, md: &mut String, points: &[Point], with_workload: bool) {
        let lead = if with_workload { "| workload " } else { "" };
        let _ = writeln!(
            md,
            "{lead}| agents | instr/agent | swarm instr/s | wasmtime instr/s | wasmi instr/s \
             | swarm / wasmtime | swarm / wasmi | swarm agents/s | swarm wall | GPU share \
             | compiled |"
        );
        let _ = writeln!(
            md,
            "{}|---|---|---|---|---|---|---|---|---|---|---|",
            if with_workload { "|---" } else { "" }
        );
        for p in points {
            let swarm = p.engines[0].as_ref();
            let wall = swarm.map(|e| e.wall.median());
            let share = swarm.and_then(|e| {
                let gpu = e.gpu?.as_secs_f64();
                let wall = e.wall.median().as_secs_f64();
                (wall > 0.0).then(|| format!("{:.0}%", 100.0 * gpu / wall))
            });
            let _ = writeln!(
                md,
                "{}| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1}% |",
                if with_workload {
                    format!("| {} ", p.workload)
                } else {
                    String::new()
                },
                count(p.agents),
                p.instructions / u64::from(p.agents.max(1)),
                rate(p.instructions_per_second(0)),
                rate(p.instructions_per_second(1)),
                rate(p.instructions_per_second(2)),
                ratio(p.ratio(1)),
                ratio(p.ratio(2)),
                rate(p.agents_per_second(0)),
                wall.map_or("–".to_owned(), millis),
                share.unwrap_or_else(|| "–".to_owned()),
                100.0 * p.compiled as f64 / p.instructions.max(1) as f64,
            );
        }
    }

    /// The throughput and scaling medians as CSV:
    /// `section,workload,agents,instructions,engine,median_s,runs,gpu_s`.
    pub fn csv(&self) -> String {
        let mut out =
            String::from("section,workload,agents,instructions,engine,median_s,runs,gpu_s\n");
        for (section, points) in [("throughput", &self.throughput), ("scaling", &self.scaling)] {
            for p in points {
                for (name, engine) in ENGINES.iter().zip(&p.engines) {
                    if let Some(e) = engine {
                        let _ = writeln!(
                            out,
                            "{section},{},{},{},{name},{:.6},{},{}",
                            p.workload,
                            p.agents,
                            p.instructions,
                            e.wall.median().as_secs_f64(),
                            e.wall.runs.len(),
                            e.gpu
                                .map_or(String::new(), |g| format!("{:.6}", g.as_secs_f64()))
                        );
                    }
                }
            }
        }
        programs::csv(&self.programs, &mut out);
        out
    }

    /// Where swarm's wall time went, per throughput point.
    fn phases(&self, md: &mut String) {
        let rows: Vec<(&Point, Phases, Option<Duration>)> = self
            .throughput
            .iter()
            .filter_map(|p| {
                let swarm = p.engines[0].as_ref()?;
                Some((p, swarm.phases?, swarm.gpu))
            })
            .collect();
        if rows.is_empty() {
            return;
        }
        let _ = writeln!(md, "\n### Where swarm's time goes\n");
        let _ = writeln!(
            md,
            "Medians of each phase of the timed runs above. *spawn_batch*: building and \
             uploading the spawn records and argument columns on the host. *run_batch*: the \
             submissions (the spawn kernel, the interpreter over every agent), the readback of \
             the status records and the result columns; *GPU* is the interpreter's part, from timestamps. \
             *kill_batch + sync*: wiping every slot on the GPU, as the peers drop their \
             instances.\n"
        );
        let _ = writeln!(
            md,
            "| workload | agents | spawn_batch | run_batch | of which GPU | run without GPU | kill_batch + sync |\n|---|---|---|---|---|---|---|"
        );
        for (p, phases, gpu) in rows {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} |",
                p.workload,
                count(p.agents),
                millis(phases.spawn),
                millis(phases.run),
                gpu.map_or("–".to_owned(), millis),
                gpu.map_or("–".to_owned(), |g| millis(phases.run.saturating_sub(g))),
                millis(phases.kill),
            );
        }
    }

    /// Throughput against agent count, log-log, one line per engine: the scaling points, or the
    /// xorshift throughput points when there are no scaling points.
    pub fn svg(&self) -> String {
        let points: Vec<&Point> = if self.scaling.is_empty() {
            self.throughput
                .iter()
                .filter(|p| p.workload == "xorshift")
                .collect()
        } else {
            self.scaling.iter().collect()
        };
        plot(&points, &self.setting)
    }
}

const COLORS: [&str; 3] = ["#d62728", "#1f77b4", "#2ca02c"];

fn plot(points: &[&Point], setting: &Setting) -> String {
    let (width, height) = (720.0, 460.0);
    let (left, right, top, bottom) = (90.0, 150.0, 50.0, 60.0);
    let series: Vec<Vec<(f64, f64)>> = (0..ENGINES.len())
        .map(|e| {
            points
                .iter()
                .filter_map(|p| {
                    Some((
                        f64::from(p.agents).log10(),
                        p.instructions_per_second(e)?.log10(),
                    ))
                })
                .collect()
        })
        .collect();
    let all: Vec<(f64, f64)> = series.iter().flatten().copied().collect();
    let bounds = |f: fn(&(f64, f64)) -> f64| {
        let lo = all.iter().map(f).fold(f64::INFINITY, f64::min);
        let hi = all.iter().map(f).fold(f64::NEG_INFINITY, f64::max);
        if lo.is_finite() {
            (lo.floor(), hi.ceil().max(lo.floor() + 1.0))
        } else {
            (0.0, 1.0)
        }
    };
    let (x0, x1) = bounds(|p| p.0);
    let (y0, y1) = bounds(|p| p.1);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let sx = |x: f64| left + (x - x0) / (x1 - x0) * plot_w;
    let sy = |y: f64| top + plot_h - (y - y0) / (y1 - y0) * plot_h;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="24" text-anchor="middle" font-size="15">xorshift throughput against agent count ({})</text>"#,
        left + plot_w / 2.0,
        escape(&setting.date)
    );
    for k in (x0 as i32)..=(x1 as i32) {
        let x = sx(f64::from(k));
        let _ = writeln!(
            svg,
            r##"<line x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">1e{k}</text>"##,
            top + plot_h,
            top + plot_h + 18.0
        );
    }
    for k in (y0 as i32)..=(y1 as i32) {
        let y = sy(f64::from(k));
        let _ = writeln!(
            svg,
            r##"<line x1="{left}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">1e{k}</text>"##,
            left + plot_w,
            left - 8.0,
            y + 4.0
        );
    }
    let _ = writeln!(
        svg,
        r##"<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#444"/>"##
    );
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">agents (log scale)</text>"#,
        left + plot_w / 2.0,
        height - 15.0
    );
    let _ = writeln!(
        svg,
        r#"<text transform="translate(22 {:.1}) rotate(-90)" text-anchor="middle">WebAssembly instructions per second (log scale)</text>"#,
        top + plot_h / 2.0
    );
    for (e, line) in series.iter().enumerate() {
        if line.is_empty() {
            continue;
        }
        let path: Vec<String> = line
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y)))
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>"#,
            path.join(" "),
            COLORS[e]
        );
        for &(x, y) in line {
            let _ = writeln!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"/>"#,
                sx(x),
                sy(y),
                COLORS[e]
            );
        }
        let ly = top + 20.0 + 22.0 * e as f64;
        let lx = left + plot_w + 16.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{lx:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{}" stroke-width="2"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            lx + 24.0,
            COLORS[e],
            lx + 30.0,
            ly + 4.0,
            ENGINES[e]
        );
    }
    let _ = writeln!(
        svg,
        r##"<text x="{left}" y="{:.1}" font-size="10" fill="#555">{}</text>"##,
        height - 2.0,
        escape(&format!("{} · {}", setting.adapter, setting.cpu))
    );
    svg.push_str("</svg>\n");
    svg
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::{EngineTime, Stats};

    fn point(workload: &'static str, agents: u32, secs: [f64; 3]) -> Point {
        let engine = |s: f64| {
            Some(EngineTime {
                wall: Stats {
                    runs: vec![Duration::from_secs_f64(s)],
                },
                gpu: None,
                phases: None,
            })
        };
        Point {
            workload,
            agents,
            instructions: 1_000_000 * u64::from(agents),
            compiled: 1_000_000 * u64::from(agents),
            engines: [engine(secs[0]), engine(secs[1]), engine(secs[2])],
        }
    }

    fn report() -> Report {
        Report {
            setting: Setting {
                date: "2026-01-02".into(),
                adapter: "Test <GPU>".into(),
                driver: "1.0".into(),
                cpu: "cpu".into(),
                threads: 4,
                profile: "release",
                quick: false,
                command: "cargo xtask bench".into(),
            },
            throughput: vec![
                point("xorshift", 131_072, [1.0, 12.0, 50.0]),
                point("xorshift", 1_048_576, [4.0, 20.0, 80.0]),
                point("fib", 1_024, [1.0, 2.0, 8.0]),
                point("fib", 131_072, [1.0, 8.0, 8.0]),
                point("mix64", 1_024, [1.0, 2.0, 4.0]),
            ],
            scaling: vec![
                point("xorshift", 1, [1.0, 0.1, 0.2]),
                point("xorshift", 1_000, [1.0, 1.0, 2.0]),
            ],
            latency: None,
            baseline: None,
            workgroup: Vec::new(),
            interpreter: Vec::new(),
            programs: Vec::new(),
        }
    }

    #[test]
    fn targets_use_the_best_guest_count_and_every_large_xorshift_count() {
        let md = report().markdown();
        // xorshift: 12x at 131,072 but 5x at 1,048,576, so not met.
        assert!(
            md.contains("12x at 131,072, 5.00x at 1,048,576 | not met"),
            "{md}"
        );
        // fib's best is 8x (131,072), mix64's 2x: geometric mean 4x.
        assert!(md.contains("| 4.00x | met |"), "{md}");
        assert!(md.contains("fib 8.00x at 131,072"), "{md}");
    }

    #[test]
    fn the_plot_has_one_line_per_engine_and_escapes_text() {
        let svg = report().svg();
        assert_eq!(svg.matches("<polyline").count(), 3);
        assert!(svg.contains("Test &lt;GPU&gt;"));
        assert!(svg.contains(">1e3<"));
    }

    #[test]
    fn csv_has_a_row_per_engine_and_point() {
        let csv = report().csv();
        assert_eq!(csv.lines().count(), 1 + 3 * 7);
    }

    #[test]
    fn dates_are_civil() {
        let date = today();
        assert_eq!(date.len(), 10);
        assert!(date.as_str() > "2025-01-01");
    }
}
