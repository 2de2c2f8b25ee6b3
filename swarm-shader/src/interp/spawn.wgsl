// Spawning: each invocation starts one agent of the work list. A free slot is all zeros (fresh
// buffers are zeroed and `kill` clears a slot), so only the module's non-zero starting state,
// the status record and the arguments are written.
@compute @workgroup_size(WG)
fn spawn(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let index = (group.y * params.groups_x + group.x) * WG + lid;
    if index >= params.agent_count {
        return;
    }
    let r = params.list_offset + index * SPAWN_RECORD_WORDS;
    let local = list[r + SR_LOCAL];
    let entry = list[r + SR_ENTRY];
    let argc = list[r + SR_ARGC];
    let args = list[r + SR_ARGS];

    let mem_off = list[SH_MEMORY_OFFSET];
    let mb = local * MEM_STRIDE;
    for (var w = 0u; w < list[SH_MEMORY_WORDS]; w += 1u) {
        memory[mb + w] = code[mem_off + w];
    }
    let base = local * STATE_STRIDE;
    let globals_off = list[SH_GLOBALS_OFFSET];
    for (var w = 0u; w < list[SH_GLOBALS_WORDS]; w += 1u) {
        state[base + GLOBALS_OFF + w] = code[globals_off + w];
    }
    let tables_off = list[SH_TABLES_OFFSET];
    for (var w = 0u; w < list[SH_TABLES_WORDS]; w += 1u) {
        state[base + TABLES_OFF + w] = code[tables_off + w];
    }
    for (var w = 0u; w < 2u * argc; w += 1u) {
        state[stack_base(local) + w * STACK_TILE] = list[args + w];
    }

    let sb = local * STATUS_STRIDE;
    for (var w = 0u; w < STATUS_STRIDE; w += 1u) {
        status[sb + w] = 0u;
    }
    status[sb + S_MEMORY_PAGES] = list[SH_MEMORY_PAGES];
    // The instantiation's fuel, which is not instructions.
    status[sb + S_FUEL_USED_LO] = list[SH_FUEL];
    status[sb + S_FUEL_EXTRA_LO] = list[SH_FUEL];
    if list[SH_TRAP] != 0u {
        // Instantiation trapped: the agent gets the trap, and neither its start function nor
        // its call runs.
        status[sb + S_STATE] = ST_TRAPPED;
        status[sb + S_TRAP] = list[SH_TRAP];
    } else if entry == NO_ENTRY {
        status[sb + S_STATE] = ST_FINISHED;
    } else {
        status[sb + S_STATE] = ST_READY;
        status[sb + S_ENTRY] = entry;
        status[sb + S_SP] = argc;
    }
}
