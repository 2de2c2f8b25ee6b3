// What float-to-integer conversions need beside the soft-float library: its trap codes become
// the agent's trap. Generated into the interpreter only with the float instruction group.
fn trunc32(r: SfTrunc32) -> u32 {
    if r.trap != 0u {
        trap(r.trap);
    }
    return r.value;
}
fn trunc64(r: SfTrunc64) -> u64 {
    if r.trap != 0u {
        trap(r.trap);
    }
    return r.value;
}
