// The value stack used in place in the state buffer (stacks too large for private memory).
fn slot(i: u32) -> u64 {
    let w = sbase + 2u * i * STACK_TILE;
    return u64(state[w]) | (u64(state[w + STACK_TILE]) << 32u);
}
fn set_slot(i: u32, v: u64) {
    let w = sbase + 2u * i * STACK_TILE;
    state[w] = u32(v & 0xfffffffflu);
    state[w + STACK_TILE] = u32(v >> 32u);
}
// The low word of slot `i`: all an i32 or f32 value has (`push32` leaves the high word as it
// was).
fn slot32(i: u32) -> u32 {
    return state[sbase + 2u * i * STACK_TILE];
}
fn set_slot32(i: u32, v: u32) {
    state[sbase + 2u * i * STACK_TILE] = v;
}
fn push32(v: u32) {
    state[sbase + 2u * sp * STACK_TILE] = v;
    sp += 1u;
}
fn pop32() -> u32 {
    sp -= 1u;
    return state[sbase + 2u * sp * STACK_TILE];
}
// Nothing to move: the state buffer is the stack.
fn stack_in() {}
fn stack_out() {}
