//! The `--json` line of one agent:
//! `{"agent":0,"results":[…],"trap":null,"instructions":123,"fuel":130}`, with `"output"` (hex)
//! when it wrote any, `"exit_code"`, `"stdout"` and `"stderr"` when the module uses WASI (and
//! `"stdout_truncated":true` when an agent wrote more than `--stdout-bytes`; `"files"`, the
//! paths of the files it created or changed, and `"files_full":true` when a change was
//! refused for `--file-bytes`), and
//! `"running":true` when Ctrl-C stopped the run before it finished.

use std::fmt::Write;

use swarm_host::wasi::WasiOutput;
use swarm_host::{Outcome, Value};

/// What one agent's line reports.
pub(crate) struct AgentLine<'a> {
    pub index: u32,
    pub outcome: &'a Outcome,
    pub instructions: u64,
    pub fuel: u64,
    /// Its `swarm.output` bytes.
    pub output: &'a [u8],
    /// Its WASI streams, when the module uses WASI.
    pub wasi: Option<&'a WasiOutput>,
}

/// One agent's line (without the newline).
pub(crate) fn agent_line(agent: &AgentLine<'_>) -> String {
    let &AgentLine {
        index,
        outcome,
        instructions,
        fuel,
        output,
        wasi,
    } = agent;
    let mut line = format!("{{\"agent\":{index},\"results\":[");
    let (results, trap): (&[Value], Option<&str>) = match outcome {
        Outcome::Finished(values) => (values, None),
        Outcome::Trapped(trap) => (&[], Some(trap.name())),
        // Exited, or still running: the run was interrupted.
        Outcome::Exited(_) | Outcome::Suspended | Outcome::HostCall => (&[], None),
    };
    for (i, value) in results.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        line.push_str(&value_json(value));
    }
    line.push_str("],\"trap\":");
    match trap {
        Some(name) => write!(line, "\"{name}\"").expect("String"),
        None => line.push_str("null"),
    }
    write!(line, ",\"instructions\":{instructions},\"fuel\":{fuel}").expect("String");
    if !output.is_empty() {
        line.push_str(",\"output\":\"");
        for byte in output {
            write!(line, "{byte:02x}").expect("String");
        }
        line.push('"');
    }
    if let Some(streams) = wasi {
        match outcome {
            Outcome::Exited(code) => write!(line, ",\"exit_code\":{code}").expect("String"),
            _ => line.push_str(",\"exit_code\":null"),
        }
        for (name, bytes, truncated) in [
            ("stdout", &streams.stdout, streams.stdout_truncated),
            ("stderr", &streams.stderr, streams.stderr_truncated),
        ] {
            write!(line, ",\"{name}\":").expect("String");
            json_string(&mut line, &String::from_utf8_lossy(bytes));
            if truncated {
                write!(line, ",\"{name}_truncated\":true").expect("String");
            }
        }
        if !streams.files.is_empty() {
            line.push_str(",\"files\":[");
            for (i, file) in streams.files.iter().enumerate() {
                if i > 0 {
                    line.push(',');
                }
                json_string(&mut line, &file.path);
            }
            line.push(']');
        }
        if streams.files_full {
            line.push_str(",\"files_full\":true");
        }
    }
    if outcome.is_running() {
        line.push_str(",\"running\":true");
    }
    line.push('}');
    line
}

/// `text` as a JSON string.
fn json_string(line: &mut String, text: &str) {
    line.push('"');
    for c in text.chars() {
        match c {
            '"' => line.push_str("\\\""),
            '\\' => line.push_str("\\\\"),
            '\n' => line.push_str("\\n"),
            '\r' => line.push_str("\\r"),
            '\t' => line.push_str("\\t"),
            c if u32::from(c) < 0x20 => write!(line, "\\u{:04x}", u32::from(c)).expect("String"),
            c => line.push(c),
        }
    }
    line.push('"');
}

/// A value as JSON: signed integers; floats as numbers or "nan", "inf", "-inf"; references as
/// their index or null.
pub(crate) fn value_json(value: &Value) -> String {
    match *value {
        Value::I32(v) => v.to_string(),
        Value::I64(v) => v.to_string(),
        Value::F32(bits) => float_json(f64::from(f32::from_bits(bits)), || {
            format!("{:?}", f32::from_bits(bits))
        }),
        Value::F64(bits) => float_json(f64::from_bits(bits), || {
            format!("{:?}", f64::from_bits(bits))
        }),
        Value::FuncRef(r) | Value::ExternRef(r) => r.map_or("null".to_owned(), |i| i.to_string()),
    }
}

fn float_json(value: f64, finite: impl FnOnce() -> String) -> String {
    if value.is_nan() {
        "\"nan\"".to_owned()
    } else if value.is_infinite() {
        if value > 0.0 { "\"inf\"" } else { "\"-inf\"" }.to_owned()
    } else {
        finite()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use swarm_host::TrapCode;

    fn line(index: u32, outcome: &Outcome, counts: (u64, u64), output: &[u8]) -> String {
        agent_line(&AgentLine {
            index,
            outcome,
            instructions: counts.0,
            fuel: counts.1,
            output,
            wasi: None,
        })
    }

    #[test]
    fn lines_match_the_documented_shape() {
        assert_eq!(
            line(0, &Outcome::Finished(vec![Value::I32(-5)]), (123, 130), &[]),
            r#"{"agent":0,"results":[-5],"trap":null,"instructions":123,"fuel":130}"#
        );
        assert_eq!(
            line(
                3,
                &Outcome::Trapped(TrapCode::IntegerDivideByZero),
                (9, 10),
                &[0xab, 1]
            ),
            r#"{"agent":3,"results":[],"trap":"integer_divide_by_zero","instructions":9,"fuel":10,"output":"ab01"}"#
        );
    }

    #[test]
    fn an_agent_still_running_says_so() {
        assert_eq!(
            line(1, &Outcome::Suspended, (50, 51), &[]),
            r#"{"agent":1,"results":[],"trap":null,"instructions":50,"fuel":51,"running":true}"#
        );
    }

    #[test]
    fn wasi_runs_give_exit_codes_and_streams_as_json_strings() {
        let streams = WasiOutput {
            stdout: b"say \"hi\"\n\tbye\\".to_vec(),
            stderr: vec![b'a', 0xff, 0x01],
            ..WasiOutput::default()
        };
        let wasi_line = |outcome: &Outcome| {
            agent_line(&AgentLine {
                index: 2,
                outcome,
                instructions: 7,
                fuel: 8,
                output: &[],
                wasi: Some(&streams),
            })
        };
        assert_eq!(
            wasi_line(&Outcome::Exited(3)),
            concat!(
                r#"{"agent":2,"results":[],"trap":null,"instructions":7,"fuel":8,"exit_code":3,"#,
                r#""stdout":"say \"hi\"\n\tbye\\","stderr":"a"#,
                "\u{fffd}",
                r#"\u0001"}"#
            )
        );
        assert!(wasi_line(&Outcome::Finished(Vec::new())).contains(r#""exit_code":null,"#));
        assert!(
            wasi_line(&Outcome::Trapped(TrapCode::Unreachable)).contains(r#""exit_code":null,"#)
        );
    }

    #[test]
    fn floats() {
        assert_eq!(value_json(&Value::F64(f64::NAN.to_bits())), "\"nan\"");
        assert_eq!(value_json(&Value::F32(f32::INFINITY.to_bits())), "\"inf\"");
        assert_eq!(value_json(&Value::F64((-1e300_f64).to_bits())), "-1e300");
        assert_eq!(value_json(&Value::F32(0.1_f32.to_bits())), "0.1");
        assert_eq!(value_json(&Value::F64(2.0_f64.to_bits())), "2.0");
        assert_eq!(value_json(&Value::I64(i64::MIN)), "-9223372036854775808");
    }
}
