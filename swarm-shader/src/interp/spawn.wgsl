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

// The bits of argument `k` of the agent at `index` of the spawn: uploaded in its column, or
// `start + index * step` (`ArgRule`).
fn spawn_arg(k: u32, index: u32) -> vec2<u32> {
    let rule = list[SH_RULES_OFFSET] + k * ARG_RULE_WORDS;
    let kind = list[rule + AR_KIND];
    if kind == ARG_COLUMN {
        let at = list[SH_ARGS_OFFSET] + 2u * (index * list[SH_COLUMNS] + list[rule + AR_COLUMN]);
        return vec2<u32>(list[at], list[at + 1u]);
    }
    // index * step, in 64 bits: the low product of 32 x 32 bits from 16-bit halves.
    let step_lo = list[rule + AR_STEP_LO];
    let a0 = index & 0xffffu;
    let a1 = index >> 16u;
    let b0 = step_lo & 0xffffu;
    let b1 = step_lo >> 16u;
    let mid = a1 * b0 + ((a0 * b0) >> 16u);
    let mid2 = a0 * b1 + (mid & 0xffffu);
    let product_hi = a1 * b1 + (mid >> 16u) + (mid2 >> 16u) + index * list[rule + AR_STEP_HI];
    let product_lo = index * step_lo;
    let lo = list[rule + AR_START_LO] + product_lo;
    if kind == ARG_AFFINE32 {
        return vec2<u32>(lo, 0u);
    }
    let carry = select(0u, 1u, lo < product_lo);
    return vec2<u32>(lo, list[rule + AR_START_HI] + product_hi + carry);
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
    let entry = list[SH_ENTRY];
    let argc = list[SH_ARGC];

    let base = local * STATE_STRIDE;
    let globals_off = list[SH_GLOBALS_OFFSET];
    for (var w = 0u; w < list[SH_GLOBALS_WORDS]; w += 1u) {
        state[base + GLOBALS_OFF + w] = code[globals_off + w];
    }
    let tables_off = list[SH_TABLES_OFFSET];
    for (var w = 0u; w < list[SH_TABLES_WORDS]; w += 1u) {
        state[base + TABLES_OFF + w] = code[tables_off + w];
    }
    let row = list[r + SR_INDEX];
    for (var k = 0u; k < argc; k += 1u) {
        let bits = spawn_arg(k, row);
        state[stack_base(local) + 2u * k * STACK_TILE] = bits.x;
        state[stack_base(local) + (2u * k + 1u) * STACK_TILE] = bits.y;
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
    status[sb + S_STREAM1_ROOM] = list[SH_STREAM_ROOM];
    status[sb + S_STREAM2_ROOM] = list[SH_STREAM_ROOM];
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
