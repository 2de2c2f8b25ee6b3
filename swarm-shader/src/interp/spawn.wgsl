// Spawning, in two dispatches over the work list's spawn records.
//
// `spawn_memory` writes the new agents' memories: each invocation one piece of
// SPAWN_PIECE_WORDS words of one agent, so that no invocation loops long (a driver's loop
// limit could cut it) and a large memory is written by many invocations. A piece takes the
// module's starting memory where it has words, and zeroes the words the slot's previous tenant
// touched beyond it (`SpawnRecord::wipe`); words no tenant touched are already zero.
@compute @workgroup_size(WG)
fn spawn_memory(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let index = (group.y * groups.x + group.x) * WG + lid;
    let spawned = index / params.spawn_pieces;
    if spawned >= params.agent_count {
        return;
    }
    let r = params.list_offset + spawned * SPAWN_RECORD_WORDS;
    let starting = list[SH_MEMORY_WORDS];
    let end = max(starting, list[r + SR_WIPE]);
    let first = (index % params.spawn_pieces) * SPAWN_PIECE_WORDS;
    let last = min(first + SPAWN_PIECE_WORDS, end);
    mlane = memory_tile_base(list[r + SR_LOCAL]);
    let src = list[SH_MEMORY_OFFSET];
    for (var w = first; w < last; w += 1u) {
        var v = 0u;
        if w < starting {
            v = code[src + w];
        }
        memory[mw(w)] = v;
    }
}

// `spawn` starts each agent of the work list: the slot's state and status are all zeros
// (fresh buffers are zeroed and `kill` clears them), so only the module's non-zero starting
// globals and tables, the status record and the arguments are written.
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
    status[sb + S_MEMORY_TOUCHED] = list[SH_MEMORY_WORDS];
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
