//! `AgentId`: a generational handle to one agent's pool slot.

use std::fmt;

/// A handle to one live agent: its pool slot and the slot's generation when it was spawned.
///
/// Killing an agent bumps its slot's generation, so an id kept after the kill can never reach
/// the slot's next tenant: the pool rejects it as stale.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgentId {
    slot: u32,
    generation: u32,
}

impl AgentId {
    pub(crate) const fn new(slot: u32, generation: u32) -> Self {
        Self { slot, generation }
    }

    /// The pool slot the agent occupies.
    pub const fn slot(self) -> u32 {
        self.slot
    }

    /// The generation of the slot when this agent was spawned.
    pub const fn generation(self) -> u32 {
        self.generation
    }
}

impl fmt::Debug for AgentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for AgentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "agent {}v{}", self.slot, self.generation)
    }
}
