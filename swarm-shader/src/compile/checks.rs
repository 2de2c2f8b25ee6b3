//! Bounds checks a block takes once, at its start: a load or store whose address is a value
//! the block had when it started (a local it has not yet written, a value already on the
//! stack, a constant) or a function of such values computed by 32-bit integer arithmetic,
//! which cannot trap, is checked there, together with every other access from the same
//! address, instead of where it runs.
//!
//! Leaving a block at its start is always exact: nothing has run, so the interpreter runs the
//! block instead. And a block is straight-line code (an exit in its middle hands the agent to
//! the interpreter, which goes on through the same instructions), so when an access checked at
//! the start would fail, the block traps before its end anyway. Memory does not shrink, and no
//! compiled instruction grows it, so an access checked at the start stays in bounds where it
//! runs. What this saves is the exit at every access: each spills the stack and writes back the
//! locals written so far, which made a block's WGSL grow with the square of its length.

use std::collections::{BTreeMap, BTreeSet};

use super::Inst;
use super::emit::scoped;
use crate::isa::{Op, access_bytes};

/// Most operations in one address computed again at the block's start.
const MAX_OPS: u32 = 6;

/// A value the block had when it started, or computed from such values.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Base {
    /// Local `n`'s value.
    Local(u32),
    /// The stack slot at this position below the block's entry `sp` (-1: the top).
    Slot(i32),
    /// A WGSL `u32` expression of the values above, with the number of operations in it.
    Computed(String, u32),
    /// Zero: the address is a constant.
    Zero,
}

impl Base {
    /// Its WGSL `u32` expression at the block's start.
    fn wgsl(&self) -> String {
        match self {
            Self::Local(n) => format!("u32(l{n} & 0xfffffffflu)"),
            Self::Slot(p) => format!("slot32(s0 - {}u)", -p),
            Self::Computed(expr, _) => format!("({expr})"),
            Self::Zero => "0u".to_owned(),
        }
    }

    fn ops(&self) -> u32 {
        match self {
            Self::Computed(_, ops) => *ops,
            _ => 0,
        }
    }
}

/// An address: a base plus a constant, added as `i32.add` adds (wrapping).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Address {
    base: Base,
    plus: u32,
}

impl Address {
    /// Its WGSL `u32` expression at the block's start.
    fn wgsl(&self) -> String {
        match (&self.base, self.plus) {
            (Base::Zero, plus) => format!("{plus}u"),
            (base, 0) => base.wgsl(),
            (base, plus) => format!("({} + {plus}u)", base.wgsl()),
        }
    }

    fn ops(&self) -> u32 {
        self.base.ops() + u32::from(self.plus != 0 && self.base != Base::Zero)
    }

    /// The value of `op`, a 32-bit integer operation of two operands (`shape` `bin32`), where
    /// both are known: a sum with a constant stays a base plus a constant.
    fn of(op: Op, a: Option<Self>, b: Option<Self>) -> Option<Self> {
        let (a, b) = (a?, b?);
        match (op, &a.base, &b.base) {
            (Op::I32Add, _, Base::Zero) => Some(Self {
                plus: a.plus.wrapping_add(b.plus),
                base: a.base,
            }),
            (Op::I32Add, Base::Zero, _) => Some(Self {
                plus: b.plus.wrapping_add(a.plus),
                base: b.base,
            }),
            _ => Self::computed(op, &a, Some(&b)),
        }
    }

    /// The value of a 32-bit integer operation (`shape` `un32` or `bin32`, none of which
    /// traps) on known operands, while it stays within [`MAX_OPS`].
    fn computed(op: Op, a: &Self, b: Option<&Self>) -> Option<Self> {
        let ops = 1 + a.ops() + b.map_or(0, Self::ops);
        if ops > MAX_OPS {
            return None;
        }
        let b = b.map_or(String::new(), Self::wgsl);
        Some(Self {
            base: Base::Computed(scoped(&a.wgsl(), &b, op.info().body), ops),
            plus: 0,
        })
    }
}

/// The checks one block takes at its start.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct EntryChecks {
    /// For each address, the end (offset plus access size) of the furthest access from it.
    ends: BTreeMap<Address, u64>,
    /// The pcs of the accesses they cover, which need no check of their own.
    pub(super) covered: BTreeSet<u32>,
}

impl EntryChecks {
    /// The checks of the block of `insts`.
    pub(super) fn new(insts: &[Inst]) -> Self {
        let mut checks = Self::default();
        // What is known of each stack position (relative to the entry `sp`) the block has
        // pushed; a position below the entry `sp` that it has not replaced is the entry slot.
        let mut stack: BTreeMap<i32, Option<Address>> = BTreeMap::new();
        let mut top = 0_i32;
        let mut written = BTreeSet::new();
        let known = |stack: &BTreeMap<i32, Option<Address>>, p: i32| match stack.get(&p) {
            Some(known) => known.clone(),
            None if p < 0 => Some(Address {
                base: Base::Slot(p),
                plus: 0,
            }),
            None => None,
        };
        for inst in insts {
            let op = inst.op;
            let info = op.info();
            if let Some(bytes) = access_bytes(op) {
                let store = info.shape.starts_with("st");
                if let Some(mut address) = known(&stack, top - 1 - i32::from(store)) {
                    let mut end = u64::from(inst.imms[0]) + u64::from(bytes);
                    // A constant address joins the one check of constant addresses. A base
                    // plus a constant keeps a check of its own for each constant: `base +
                    // plus` wraps in real code (a loop's index counting up from below zero
                    // to it, the array's address in `plus`), so the sum is checked as the
                    // access computes it.
                    if address.base == Base::Zero {
                        end += u64::from(address.plus);
                        address.plus = 0;
                    }
                    let furthest = checks.ends.entry(address).or_insert(end);
                    *furthest = (*furthest).max(end);
                    checks.covered.insert(inst.pc);
                }
            }
            let operand = |n: i32| known(&stack, top - 1 - n);
            let pushed = match op {
                Op::LocalGet if !written.contains(&inst.imms[0]) => Some(Address {
                    base: Base::Local(inst.imms[0]),
                    plus: 0,
                }),
                Op::Const32 => Some(Address {
                    base: Base::Zero,
                    plus: inst.imms[0],
                }),
                _ => match info.shape {
                    "bin32" => Address::of(op, operand(1), operand(0)),
                    "un32" => operand(0).and_then(|a| Address::computed(op, &a, None)),
                    _ => None,
                },
            };
            if matches!(op, Op::LocalSet | Op::LocalTee) {
                written.insert(inst.imms[0]);
            }
            // `local.tee` leaves its operand, whatever it was known to be, in place.
            if op == Op::LocalTee {
                continue;
            }
            for _ in 0..info.pops {
                top -= 1;
                stack.insert(top, None);
            }
            for _ in 0..info.pushes {
                stack.insert(top, pushed.clone());
                top += 1;
            }
        }
        checks
    }

    /// Whether the block has checks to take at its start.
    pub(super) fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The WGSL condition, true where an access the checks cover would fail, evaluated at the
    /// block's start (`s0` its entry `sp`, the locals in `l{n}`).
    pub(super) fn failing(&self) -> String {
        let tests: Vec<String> = self
            .ends
            .iter()
            .map(|(address, end)| match address.base {
                Base::Zero => format!("{end}lu > mem_bytes()"),
                _ => format!("u64({}) + {end}lu > mem_bytes()", address.wgsl()),
            })
            .collect();
        tests.join(" || ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst(pc: u32, op: Op, imms: &[u32]) -> Inst {
        Inst {
            pc,
            word: op as u32,
            op,
            imms: imms.to_vec(),
        }
    }

    #[test]
    fn accesses_from_entry_values_are_checked_once_at_the_furthest_end() {
        let insts = [
            inst(0, Op::LocalGet, &[0]),
            inst(2, Op::I64Load, &[64]),
            inst(4, Op::LocalSet, &[1]),
            inst(6, Op::LocalGet, &[0]),
            inst(8, Op::I32Load8U, &[200]),
            inst(10, Op::Drop, &[]),
            // An entry slot, plus a constant, as the address of a store.
            inst(11, Op::Const32, &[16]),
            inst(13, Op::I32Add, &[]),
            inst(14, Op::Const32, &[7]),
            inst(16, Op::I32Store, &[4]),
            // A constant address.
            inst(18, Op::Const32, &[1024]),
            inst(20, Op::I32Load16U, &[0]),
            inst(22, Op::Drop, &[]),
            // Local 0 less 16 (a negative constant): a check of its own.
            inst(23, Op::LocalGet, &[0]),
            inst(25, Op::Const32, &[16_u32.wrapping_neg()]),
            inst(27, Op::I32Add, &[]),
            inst(28, Op::I32Load, &[4]),
            inst(30, Op::Drop, &[]),
        ];
        let checks = EntryChecks::new(&insts);
        assert_eq!(checks.covered, BTreeSet::from([2, 8, 16, 20, 28]));
        assert_eq!(
            checks.failing(),
            "u64(u32(l0 & 0xfffffffflu)) + 201lu > mem_bytes() \
             || u64((u32(l0 & 0xfffffffflu) + 4294967280u)) + 8lu > mem_bytes() \
             || u64((slot32(s0 - 1u) + 16u)) + 8lu > mem_bytes() \
             || 1026lu > mem_bytes()"
        );
    }

    #[test]
    fn a_base_plus_a_constant_is_checked_as_the_access_computes_it() {
        // A loop's index counting up from below zero, the array's address in the constant.
        let insts = [
            inst(0, Op::LocalGet, &[0]),
            inst(2, Op::Const32, &[2025]),
            inst(4, Op::I32Add, &[]),
            inst(5, Op::Const32, &[7]),
            inst(7, Op::I32Store8, &[0]),
            inst(9, Op::LocalGet, &[0]),
            inst(11, Op::Const32, &[2024]),
            inst(13, Op::I32Add, &[]),
            inst(14, Op::I32Load8U, &[3]),
            inst(16, Op::Drop, &[]),
        ];
        let checks = EntryChecks::new(&insts);
        assert_eq!(checks.covered, BTreeSet::from([7, 14]));
        assert_eq!(
            checks.failing(),
            "u64((u32(l0 & 0xfffffffflu) + 2024u)) + 4lu > mem_bytes() \
             || u64((u32(l0 & 0xfffffffflu) + 2025u)) + 1lu > mem_bytes()"
        );
    }

    #[test]
    fn addresses_computed_from_entry_values_are_computed_again_at_the_start() {
        let insts = [
            // Local 1 plus local 2 shifted left by 2: an array's element.
            inst(0, Op::LocalGet, &[1]),
            inst(2, Op::LocalGet, &[2]),
            inst(4, Op::Const32, &[2]),
            inst(6, Op::I32Shl, &[]),
            inst(7, Op::I32Add, &[]),
            inst(8, Op::I32Load, &[12]),
            inst(10, Op::Drop, &[]),
        ];
        let checks = EntryChecks::new(&insts);
        assert_eq!(checks.covered, BTreeSet::from([8]));
        assert_eq!(
            checks.failing(),
            "u64(((u32(l1 & 0xfffffffflu)) + (((u32(l2 & 0xfffffffflu)) << ((2u) & 31u))))) \
             + 16lu > mem_bytes()"
        );
    }

    #[test]
    fn accesses_from_values_the_block_wrote_or_loaded_keep_their_own_checks() {
        let insts = [
            // A local written before it is read holds a value the block wrote.
            inst(0, Op::Const32, &[3]),
            inst(2, Op::LocalSet, &[0]),
            inst(4, Op::LocalGet, &[0]),
            inst(6, Op::I32Load, &[0]),
            // A loaded value: memory the block's stores may have changed.
            inst(8, Op::I32Load, &[0]),
            // A 64-bit value wrapped.
            inst(10, Op::LocalGet, &[1]),
            inst(12, Op::I32WrapI64, &[]),
            inst(13, Op::I32Load, &[0]),
            // Past the most operations computed again.
            inst(15, Op::LocalGet, &[2]),
            inst(17, Op::I32Clz, &[]),
            inst(18, Op::I32Clz, &[]),
            inst(19, Op::I32Clz, &[]),
            inst(20, Op::I32Clz, &[]),
            inst(21, Op::I32Clz, &[]),
            inst(22, Op::I32Clz, &[]),
            inst(23, Op::I32Clz, &[]),
            inst(24, Op::I32Load, &[0]),
            inst(26, Op::Drop, &[]),
        ];
        let checks = EntryChecks::new(&insts);
        assert!(checks.is_empty());
        assert!(checks.covered.is_empty());
    }

    #[test]
    fn a_tee_keeps_what_its_operand_was_known_to_be() {
        let insts = [
            inst(0, Op::LocalGet, &[4]),
            inst(2, Op::LocalTee, &[4]),
            inst(4, Op::I32Load, &[8]),
            // The tee wrote local 4: reading it again gives a value the block wrote.
            inst(6, Op::LocalGet, &[4]),
            inst(8, Op::I32Load, &[0]),
        ];
        let checks = EntryChecks::new(&insts);
        assert_eq!(checks.covered, BTreeSet::from([4]));
    }
}
