@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let index = (group.y * params.groups_x + group.x) * WG + lid;
    if index >= params.agent_count {
        return;
    }
    var local = index;
    if params.use_list != 0u {
        local = list[params.list_offset + index];
    }
    stbase = local * STATUS_STRIDE;
    let start_state = status[stbase + S_STATE];
    if start_state != ST_READY && start_state != ST_SUSPENDED {
        return;
    }
    agent = local;
    sbase = stack_base(local);
    fbase = local * STATE_STRIDE + FRAMES_OFF;
    gbase = local * STATE_STRIDE + GLOBALS_OFF;
    tbase = local * STATE_STRIDE + TABLES_OFF;
    mlane = memory_tile_base(local);
    mfirst = 0u;
    mtouched = status[stbase + S_MEMORY_TOUCHED];
    obase = local * OUTPUT_STRIDE;
    pc = status[stbase + S_PC];
    sp = status[stbase + S_SP];
    fp = status[stbase + S_FP];
    depth = status[stbase + S_DEPTH];
    func = status[stbase + S_FUNC];
    mem_pages = status[stbase + S_MEMORY_PAGES];
    cur_mem = 0u;
    mem_max = 0u;
    if code[H_MEMORY_COUNT] > 0u {
        mem_max = code[code[H_MEMORIES] + 1u];
    }
    if depth > 0u {
        // A suspended call resumes in its function's memory.
        use_memory(func_memory(func));
    }
    output_len = status[stbase + S_OUTPUT_LEN];
    halt = false;
    dirty = false;
    work = 0u;
    job = status[stbase + S_JOB];
    job_dst = status[stbase + S_JOB_DST];
    job_src = status[stbase + S_JOB_SRC];
    job_len = status[stbase + S_JOB_LEN];
    trap_code = 0u;
    next_state = ST_SUSPENDED;

    // Fuel (`fuel.wgsl`): the slice counts down in 32 bits (a slice above 2^32 - 1 is cut to
    // that, and the agent continues in the next dispatch); the lifetime budget is checked where
    // wasmtime checks it.
    let used_before = u64(status[stbase + S_FUEL_USED_LO]) | (u64(status[stbase + S_FUEL_USED_HI]) << 32u);
    let slice = u64(params.fuel_slice_lo) | (u64(params.fuel_slice_hi) << 32u);
    let total = u64(params.fuel_total_lo) | (u64(params.fuel_total_hi) << 32u);
    fuel_start = u32(min(slice, 0xfffffffflu));
    fuel_left = fuel_start;
    fuel_over = 0lu;
    fuel_extra = 0lu;
    fuel_room = total - min(used_before, total);
    compiled_fuel = 0u;

    stack_in();
    if start_state == ST_READY {
        // A new call: the arguments are at the bottom of the stack; the entry frame returns to
        // the host.
        depth = 0u;
        fp = 0u;
        pc = RETURN_TARGET;
        enter(status[stbase + S_ENTRY]);
    }

    // The dispatch loop is the only loop an agent runs: each iteration is one instruction, or
    // one chunk of a job (which costs no fuel), and neither loops (`jobs.wgsl`). So wherever a
    // driver stops it (llvmpipe's loop limiter), the agent stops between two steps, an exact
    // suspension; the work limit makes that stop a planned one.
    loop {
        if halt || work >= params.work_limit {
            break;
        }
        work += 1u;
        if job != NO_JOB {
            run_job();
            continue;
        }
        // The kernel's `Scheduling`: an agent told to wait spends this iteration.
        if !converged() {
            continue;
        }
        let word = code[pc];
        if (word & LOOP_HEAD) != 0u && !fuel_check() {
            break;
        }
        // The compiled tier's step: a whole block, when the word starts one (the interpreter's
        // `run_block` declines every block).
        let block = word >> BLOCK_SHIFT;
        if block != 0u && run_block(block) {
            continue;
        }
        let cost = (word >> FUEL_SHIFT) & 1u;
        if cost > fuel_left {
            break;
        }
        fuel_left -= cost;
        step(word);
    }
    let used = fuel_spent();

    if next_state == ST_SUSPENDED || next_state == ST_HOSTCALL {
        stack_out();
    }
    status[stbase + S_STATE] = next_state;
    status[stbase + S_TRAP] = trap_code;
    status[stbase + S_PC] = pc;
    status[stbase + S_SP] = sp;
    status[stbase + S_FP] = fp;
    status[stbase + S_DEPTH] = depth;
    status[stbase + S_FUNC] = func;
    use_memory(0u);
    status[stbase + S_MEMORY_PAGES] = mem_pages;
    status[stbase + S_OUTPUT_LEN] = output_len;
    let used_after = used_before + used;
    status[stbase + S_FUEL_USED_LO] = u32(used_after & 0xfffffffflu);
    status[stbase + S_FUEL_USED_HI] = u32(used_after >> 32u);
    status[stbase + S_FUEL_LAST] = u32(min(used, 0xfffffffflu));
    let compiled = (u64(status[stbase + S_COMPILED_LO]) | (u64(status[stbase + S_COMPILED_HI]) << 32u)) + u64(compiled_fuel);
    status[stbase + S_COMPILED_LO] = u32(compiled & 0xfffffffflu);
    status[stbase + S_COMPILED_HI] = u32(compiled >> 32u);
    let extra = (u64(status[stbase + S_FUEL_EXTRA_LO]) | (u64(status[stbase + S_FUEL_EXTRA_HI]) << 32u)) + fuel_extra;
    status[stbase + S_FUEL_EXTRA_LO] = u32(extra & 0xfffffffflu);
    status[stbase + S_FUEL_EXTRA_HI] = u32(extra >> 32u);
    status[stbase + S_HOST_CALL] = host_import;
    status[stbase + S_DIRTY] = select(0u, 1u, dirty);
    status[stbase + S_MEMORY_TOUCHED] = mtouched;
    status[stbase + S_JOB] = job;
    status[stbase + S_JOB_DST] = job_dst;
    status[stbase + S_JOB_SRC] = job_src;
    status[stbase + S_JOB_LEN] = job_len;
}
