//! One file of the suite: its directives run in order against the file's store, each counted
//! as passed, failed or not applicable, with the value and trap matching they need.

use swarm_host::{Outcome, Swarm, Tier, TrapCode, Value};
use wast::core::{NanPattern, WastRetCore};
use wast::{QuoteWat, QuoteWatTest, WastDirective, WastExecute, WastRet};

use super::FileReport;
use super::runner::{Failure, Runner};

pub(super) fn run_file(
    swarm: &mut Swarm,
    batch: &mut Swarm,
    source: &str,
    tier: Tier,
) -> FileReport {
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
    let mut runner = Runner::new(swarm, batch, tier);
    let mut directives: Vec<Option<WastDirective<'_>>> =
        wast.directives.into_iter().map(Some).collect();
    for index in 0..directives.len() {
        if !runner.batched.contains_key(&index) {
            runner.batch(index, &directives[index..]);
        }
        let Some(directive) = directives[index].take() else {
            continue;
        };
        runner.position = index;
        match directive {
            WastDirective::Module(mut module) => {
                let span = module.span();
                let name = module.name().map(|id| id.name().to_owned());
                runner.current = None;
                match encode(&mut module).and_then(|bytes| runner.instantiate(&bytes)) {
                    Ok(instance) => {
                        report.pass("module");
                        runner.current = Some(instance);
                        if let Some(name) = name {
                            runner.named.insert(name, instance);
                        }
                    }
                    Err(why) => report.fail("module", line(span), why.message()),
                }
            }
            WastDirective::ModuleDefinition(_) | WastDirective::ModuleInstance { .. } => {
                report.not_applicable("module definition");
            }
            WastDirective::Register { span, name, module } => {
                let instance = match module {
                    Some(id) => runner.named.get(id.name()).copied(),
                    None => runner.current,
                };
                match instance {
                    Some(instance) => {
                        runner.registered.insert(name.to_owned(), instance);
                    }
                    None => report.fail("register", line(span), "no such instance".to_owned()),
                }
            }
            WastDirective::Invoke(invoke) => {
                let span = invoke.span;
                match runner.invoke(&invoke) {
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
                    WastExecute::Invoke(invoke) => runner.invoke(&invoke).and_then(|o| match o {
                        Outcome::Finished(values) => Ok(values),
                        other => Err(format!("{other:?}")),
                    }),
                    WastExecute::Get { module, global, .. } => runner
                        .get(module.map(|m| m.name()), global)
                        .map(|v| vec![v]),
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
                    WastExecute::Invoke(invoke) => runner.invoke(&invoke),
                    WastExecute::Wat(wat) => {
                        let mut module = QuoteWat::Wat(wat);
                        match encode(&mut module).and_then(|bytes| runner.instantiate(&bytes)) {
                            Ok(_) => Ok(Outcome::Finished(Vec::new())),
                            Err(Failure::Trap(trap)) => Ok(Outcome::Trapped(trap)),
                            Err(other) => Err(other.message()),
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
            } => match runner.invoke(&call) {
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
                match encode(&mut module).and_then(|bytes| runner.instantiate(&bytes)) {
                    Err(Failure::Link(_)) => report.pass("assert_unlinkable"),
                    Err(other) => report.fail(
                        "assert_unlinkable",
                        line(span),
                        format!("expected a link error, got: {}", other.message()),
                    ),
                    Ok(_) => {
                        report.fail("assert_unlinkable", line(span), "module linked".to_owned());
                    }
                }
            }
            WastDirective::AssertInvalidCustom { .. } => report.not_applicable("custom"),
            _ => report.not_applicable("other"),
        }
    }
    if let Err(why) = runner.close() {
        report.fail("teardown", 0, why);
    }
    report
}

fn encode(module: &mut QuoteWat<'_>) -> Result<Vec<u8>, Failure> {
    module.encode().map_err(|e| Failure::Link(e.to_string()))
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
