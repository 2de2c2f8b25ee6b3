//! Which `i32` operands are constants as wasmtime's translator sees them, for its fuel model:
//! a bulk or grow instruction whose unit count is a constant of at most
//! [`SMALL_BULK_UNITS`](crate::isa::SMALL_BULK_UNITS) charges its fuel at once and checks
//! nothing; any other checks fuel after it succeeds.
//!
//! wasmtime asks whether the count's SSA value is an `iconst` when it translates the
//! instruction, so what counts is what cranelift's SSA builder has found by then:
//! - a local's definition through straight-line code, into both arms of an `if`, and through
//!   a join where every incoming edge brings the same definition (not merely the same number);
//!   declared locals start as one `iconst 0` per declaration group;
//! - nothing through a loop header while the loop is translated (the header is not sealed);
//!   after the loop, a local the loop wrote has its last definition, one the loop read without
//!   writing has its definition from before the loop again, and any other is not a constant;
//! - the results of a block or loop reached only by falling through are the values they were;
//!   where branches join at an end, they are new values.
//!
//! `swarm-host/tests/all/fuel.rs` checks each of these cases against wasmtime.

/// An `i32.const` definition: an id unique in its function, and its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Def {
    id: u32,
    value: u32,
}

/// What is known of a local.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Local {
    /// Not a constant.
    Unknown,
    /// A constant definition.
    Const(Def),
    /// Hidden behind the header of the open loop with this index in `Consts::loops`.
    Hidden(usize),
}

impl Local {
    fn def(self) -> Option<Def> {
        match self {
            Local::Const(def) => Some(def),
            Local::Unknown | Local::Hidden(_) => None,
        }
    }
}

/// Locals beyond this many are never taken for constants (a bound on the work per block).
const TRACKED_LOCALS: usize = 1024;

/// An open loop.
#[derive(Debug)]
struct Loop {
    /// The locals before the loop.
    entry: Vec<Local>,
    /// Locals read while hidden by this loop's header.
    read: Vec<bool>,
    /// Locals written inside the loop.
    written: Vec<bool>,
}

/// The constants of a function being lowered.
#[derive(Debug, Default)]
pub(super) struct Consts {
    /// One entry per value slot of the frame (locals included, unused there).
    stack: Vec<Option<Def>>,
    locals: Vec<Local>,
    loops: Vec<Loop>,
    next_id: u32,
}

/// The constants a control frame needs at its end.
#[derive(Debug, Default)]
pub(super) struct Edges {
    /// For an `if`, the locals on entry: restored for `else`, or merged for the false edge of
    /// an `if` without `else`.
    entry: Vec<Local>,
    /// The merge of the locals every branch to the frame's end brought; `None` before any.
    merged: Option<Vec<Local>>,
}

/// Which frame an edge set belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Frame {
    Block,
    Loop,
    If,
    Else,
}

impl Consts {
    /// A function with `params` parameters and its declared locals in `groups` (counts).
    pub(super) fn new(params: u32, groups: impl IntoIterator<Item = u32>) -> Self {
        let mut consts = Self::default();
        consts
            .locals
            .resize(TRACKED_LOCALS.min(params as usize), Local::Unknown);
        for count in groups {
            let zero = Local::Const(consts.define(0));
            for _ in 0..count {
                if consts.locals.len() == TRACKED_LOCALS {
                    break;
                }
                consts.locals.push(zero);
            }
        }
        consts
    }

    fn define(&mut self, value: u32) -> Def {
        self.next_id += 1;
        Def {
            id: self.next_id,
            value,
        }
    }

    /// Sets the frame height to `height` slots; new slots are not constants.
    pub(super) fn set_height(&mut self, height: u32) {
        self.stack.resize(height as usize, None);
    }

    /// The top operand's value, when it is a constant.
    pub(super) fn top(&self) -> Option<u32> {
        self.top_def().map(|d| d.value)
    }

    /// The top operand's definition, when it is a constant.
    pub(super) fn top_def(&self) -> Option<Def> {
        self.stack.last().copied().flatten()
    }

    /// After `i32.const value` pushed its operand.
    pub(super) fn i32_const(&mut self, value: u32) {
        let def = self.define(value);
        self.set_top(Some(def));
    }

    /// After `local.get` pushed its operand.
    pub(super) fn local_get(&mut self, local: u32) {
        let Some(&state) = self.locals.get(local as usize) else {
            self.set_top(None);
            return;
        };
        // A read through a loop header makes the header look the local up, through every
        // enclosing header that hides it too.
        let mut hidden = state;
        while let Local::Hidden(index) = hidden {
            let Some(open) = self.loops.get_mut(index) else {
                break;
            };
            open.read[local as usize] = true;
            hidden = open.entry[local as usize];
        }
        self.set_top(state.def());
    }

    /// Before `local.set` or `local.tee` takes the top operand.
    pub(super) fn local_set(&mut self, local: u32) {
        let top = self.top_def();
        if let Some(slot) = self.locals.get_mut(local as usize) {
            *slot = top.map_or(Local::Unknown, Local::Const);
            for open in &mut self.loops {
                open.written[local as usize] = true;
            }
        }
    }

    /// After `local.tee`, whose operand stays what it was (the table's stack effect pops and
    /// pushes it).
    pub(super) fn keep_top(&mut self, before: Option<Def>) {
        self.set_top(before);
    }

    fn set_top(&mut self, known: Option<Def>) {
        if let Some(top) = self.stack.last_mut() {
            *top = known;
        }
    }

    /// A frame opens with `params` parameters; a loop's header hides every local while the
    /// loop is lowered, and its parameters are block parameters.
    pub(super) fn open(&mut self, frame: Frame, params: u32) -> Edges {
        let mut edges = Edges::default();
        match frame {
            Frame::If => edges.entry = self.locals.clone(),
            Frame::Loop => {
                let index = self.loops.len();
                let count = self.locals.len();
                let hidden = vec![Local::Hidden(index); count];
                self.loops.push(Loop {
                    entry: std::mem::replace(&mut self.locals, hidden),
                    read: vec![false; count],
                    written: vec![false; count],
                });
                let height = self.stack.len();
                for slot in &mut self.stack[height - params as usize..] {
                    *slot = None;
                }
            }
            Frame::Block | Frame::Else => {}
        }
        edges
    }

    /// A branch to the end of the frame of `edges` (not a loop's header).
    pub(super) fn branch(&self, edges: &mut Edges) {
        merge(&mut edges.merged, &self.locals);
    }

    /// `else`: the then arm falls through to the end when `reachable`; the else arm starts
    /// from the `if`'s entry.
    pub(super) fn else_(&mut self, edges: &mut Edges, reachable: bool) {
        if reachable {
            self.branch(edges);
        }
        self.locals = std::mem::take(&mut edges.entry);
    }

    /// The end of a frame whose last instruction falls through when `reachable`.
    pub(super) fn end(&mut self, frame: Frame, edges: Edges, reachable: bool) {
        if frame == Frame::Loop {
            let index = self.loops.len() - 1;
            let open = self.loops.pop().expect("a loop is open");
            // Only the fall-through reaches a loop's end.
            for (i, local) in self.locals.iter_mut().enumerate() {
                *local = if !reachable {
                    Local::Unknown
                } else if open.written[i] {
                    // Its last definition, unless a path to here did not write it.
                    if *local == Local::Hidden(index) {
                        Local::Unknown
                    } else {
                        *local
                    }
                } else if open.read[i] {
                    open.entry[i]
                } else {
                    Local::Unknown
                };
            }
            return;
        }
        let mut merged = edges.merged;
        if reachable {
            merge(&mut merged, &self.locals);
        }
        if frame == Frame::If {
            // The false edge of an `if` without `else`.
            merge(&mut merged, &edges.entry);
        }
        match merged {
            Some(locals) => self.locals = locals,
            None => self.locals.fill(Local::Unknown),
        }
        // A branch out of a loop brings locals its header hid; past the loop they are not
        // constants.
        let open = self.loops.len();
        for local in &mut self.locals {
            if matches!(*local, Local::Hidden(index) if index >= open) {
                *local = Local::Unknown;
            }
        }
    }
}

/// Meets `locals` into `merged`: a local keeps its state where every edge brings the same.
fn merge(merged: &mut Option<Vec<Local>>, locals: &[Local]) {
    match merged {
        None => *merged = Some(locals.to_vec()),
        Some(merged) => {
            for (m, l) in merged.iter_mut().zip(locals) {
                if *m != *l {
                    *m = Local::Unknown;
                }
            }
        }
    }
}
