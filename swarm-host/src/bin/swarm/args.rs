//! `--args`: comma-separated values typed by the export's signature, with `{id}` standing for
//! the agent's index.

use anyhow::{Context, bail};
use swarm_host::{ValType, Value};

/// One argument as written: a value, or the agent's index.
#[derive(Clone, Debug, PartialEq)]
enum Arg {
    Fixed(Value),
    AgentIndex,
}

/// The parsed `--args` of one run.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ArgTemplate {
    args: Vec<Arg>,
    types: Vec<ValType>,
}

impl ArgTemplate {
    /// Parses `text` (empty for no arguments) against `types`.
    pub(crate) fn parse(text: &str, types: &[ValType]) -> anyhow::Result<Self> {
        let items: Vec<&str> = if text.trim().is_empty() {
            Vec::new()
        } else {
            text.split(',').map(str::trim).collect()
        };
        if items.len() != types.len() {
            bail!(
                "the export takes {} argument(s) ({}) but --args gives {}",
                types.len(),
                type_list(types),
                items.len()
            );
        }
        let args = items
            .iter()
            .zip(types)
            .enumerate()
            .map(|(index, (item, ty))| {
                if *item == "{id}" {
                    if matches!(ty, ValType::I32 | ValType::I64) {
                        Ok(Arg::AgentIndex)
                    } else {
                        bail!(
                            "argument {}: {{id}} needs an integer parameter, not {ty:?}",
                            index + 1
                        )
                    }
                } else {
                    parse_value(item, *ty)
                        .map(Arg::Fixed)
                        .with_context(|| format!("argument {} ({item:?})", index + 1))
                }
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self {
            args,
            types: types.to_vec(),
        })
    }

    /// The arguments of agent `index`.
    pub(crate) fn for_agent(&self, index: u32) -> Vec<Value> {
        self.args
            .iter()
            .zip(&self.types)
            .map(|(arg, ty)| match (arg, ty) {
                (Arg::Fixed(value), _) => *value,
                (Arg::AgentIndex, ValType::I64) => Value::I64(i64::from(index)),
                (Arg::AgentIndex, _) => Value::I32(index as i32),
            })
            .collect()
    }
}

/// `i32, i64` for messages.
pub(crate) fn type_list(types: &[ValType]) -> String {
    if types.is_empty() {
        return "none".to_owned();
    }
    types
        .iter()
        .map(|t| format!("{t:?}").to_lowercase())
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse_value(text: &str, ty: ValType) -> anyhow::Result<Value> {
    Ok(match ty {
        ValType::I32 => Value::I32(parse_int(text, 32)? as i32),
        ValType::I64 => Value::I64(parse_int(text, 64)? as i64),
        ValType::F32 => Value::F32(match parse_float(text)? {
            Float::Bits(bits) => u32::try_from(bits).context("f32 bits take 32 bits")?,
            Float::Value(value) => (value as f32).to_bits(),
        }),
        ValType::F64 => Value::F64(match parse_float(text)? {
            Float::Bits(bits) => bits,
            Float::Value(value) => value.to_bits(),
        }),
        other => bail!("parameters of type {other:?} cannot be given on the command line"),
    })
}

/// A decimal or `0x` hexadecimal integer, signed or unsigned, that fits `bits` bits.
fn parse_int(text: &str, bits: u32) -> anyhow::Result<u64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let magnitude = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => digits.parse::<u64>(),
    }
    .with_context(|| format!("{text:?} is not an integer"))?;
    let max = if bits == 64 {
        u64::MAX
    } else {
        (1 << bits) - 1
    };
    let min_magnitude = 1_u64 << (bits - 1);
    if negative {
        if magnitude > min_magnitude {
            bail!("{text} does not fit i{bits}");
        }
        Ok(magnitude.wrapping_neg() & max)
    } else if magnitude > max {
        bail!("{text} does not fit i{bits}");
    } else {
        Ok(magnitude)
    }
}

/// A float as written.
enum Float {
    /// `1.5`, `-2e10`, `inf`, `-inf`, `nan`.
    Value(f64),
    /// Raw bits, written `bits:0x…`.
    Bits(u64),
}

fn parse_float(text: &str) -> anyhow::Result<Float> {
    if let Some(bits) = text.strip_prefix("bits:") {
        return Ok(Float::Bits(parse_int(bits, 64)?));
    }
    text.parse::<f64>()
        .map(Float::Value)
        .with_context(|| format!("{text:?} is not a number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_by_signature() {
        let t = ArgTemplate::parse(
            "{id}, -1, 0xff, 2.5, -inf",
            &[
                ValType::I32,
                ValType::I32,
                ValType::I64,
                ValType::F64,
                ValType::F32,
            ],
        )
        .unwrap();
        assert_eq!(
            t.for_agent(7),
            vec![
                Value::I32(7),
                Value::I32(-1),
                Value::I64(255),
                Value::F64(2.5_f64.to_bits()),
                Value::F32(f32::NEG_INFINITY.to_bits()),
            ]
        );
    }

    #[test]
    fn bad_arguments_are_errors() {
        assert!(ArgTemplate::parse("1", &[]).is_err());
        assert!(ArgTemplate::parse("", &[ValType::I32]).is_err());
        assert!(ArgTemplate::parse("4294967296", &[ValType::I32]).is_err());
        assert!(ArgTemplate::parse("-2147483649", &[ValType::I32]).is_err());
        assert!(ArgTemplate::parse("x", &[ValType::F64]).is_err());
        assert!(ArgTemplate::parse("{id}", &[ValType::F64]).is_err());
        let t = ArgTemplate::parse("-2147483648, 4294967295", &[ValType::I32, ValType::I32]);
        assert_eq!(
            t.unwrap().for_agent(0),
            vec![Value::I32(i32::MIN), Value::I32(-1)]
        );
    }
}
