//! The `--json` line of one agent:
//! `{"agent":0,"results":[…],"trap":null,"instructions":123,"fuel":130}`, with `"output"` (hex)
//! when it wrote any, and `"running":true` when Ctrl-C stopped the run before it finished.

use std::fmt::Write;

use swarm_host::{Outcome, Value};

/// One agent's line (without the newline).
pub(crate) fn agent_line(
    index: u32,
    outcome: &Outcome,
    instructions: u64,
    fuel: u64,
    output: &[u8],
) -> String {
    let mut line = format!("{{\"agent\":{index},\"results\":[");
    let (results, trap): (&[Value], Option<&str>) = match outcome {
        Outcome::Finished(values) => (values, None),
        Outcome::Trapped(trap) => (&[], Some(trap.name())),
        // Still running: the run was interrupted.
        Outcome::Suspended | Outcome::HostCall => (&[], None),
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
    if outcome.is_running() {
        line.push_str(",\"running\":true");
    }
    line.push('}');
    line
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

    #[test]
    fn lines_match_the_documented_shape() {
        assert_eq!(
            agent_line(0, &Outcome::Finished(vec![Value::I32(-5)]), 123, 130, &[]),
            r#"{"agent":0,"results":[-5],"trap":null,"instructions":123,"fuel":130}"#
        );
        assert_eq!(
            agent_line(
                3,
                &Outcome::Trapped(TrapCode::IntegerDivideByZero),
                9,
                10,
                &[0xab, 1]
            ),
            r#"{"agent":3,"results":[],"trap":"integer_divide_by_zero","instructions":9,"fuel":10,"output":"ab01"}"#
        );
    }

    #[test]
    fn an_agent_still_running_says_so() {
        assert_eq!(
            agent_line(1, &Outcome::Suspended, 50, 51, &[]),
            r#"{"agent":1,"results":[],"trap":null,"instructions":50,"fuel":51,"running":true}"#
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
