// The value stack in the invocation's private memory while a dispatch runs: `stack_in` copies
// the live slots (`0..sp`) from the state buffer when the agent starts, `stack_out` copies them
// back when it stops, so the host and the next dispatch see the stack where it always is.
// These two loops run outside the dispatch loop, so the layout never picks this module on an
// adapter whose driver limits loops (`Layout::private_stack`).
var<private> stk: array<u32, STACK_WORDS>;

fn slot(i: u32) -> u64 {
    return u64(stk[2u * i]) | (u64(stk[2u * i + 1u]) << 32u);
}
fn set_slot(i: u32, v: u64) {
    stk[2u * i] = u32(v & 0xfffffffflu);
    stk[2u * i + 1u] = u32(v >> 32u);
}
// The low word of slot `i`: all an i32 or f32 value has (`push32` leaves the high word as it
// was).
fn slot32(i: u32) -> u32 {
    return stk[2u * i];
}
fn set_slot32(i: u32, v: u32) {
    stk[2u * i] = v;
}
fn push32(v: u32) {
    stk[2u * sp] = v;
    sp += 1u;
}
fn pop32() -> u32 {
    sp -= 1u;
    return stk[2u * sp];
}
fn stack_in() {
    for (var w = 0u; w < 2u * sp; w += 1u) {
        stk[w] = state[sbase + w * STACK_TILE];
    }
}
fn stack_out() {
    for (var w = 0u; w < 2u * sp; w += 1u) {
        state[sbase + w * STACK_TILE] = stk[w];
    }
}
