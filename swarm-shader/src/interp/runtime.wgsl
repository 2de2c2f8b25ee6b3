// Per-invocation registers and the helpers instruction bodies call (the bindings come before,
// from `InterpBinding`).

var<private> agent: u32;
var<private> pc: u32;
var<private> sp: u32;
var<private> fp: u32;
var<private> depth: u32;
var<private> func: u32;
// The memory the running function addresses (its instance's): index, size in pages, largest
// size, and first word in the agent's memory region; memory 0's size lives in `mem0_pages`
// while another is in use.
var<private> cur_mem: u32;
var<private> mem_pages: u32;
var<private> mem_max: u32;
var<private> mem0_pages: u32;
var<private> mfirst: u32;
// Where word 0 of this agent's memory region lies in the memory buffer, and one past the
// highest word of the region written so far (`AgentStatus::memory_touched`).
var<private> mlane: u32;
var<private> mtouched: u32;
var<private> output_len: u32;
var<private> halt: bool;
var<private> dirty: bool;
var<private> trap_code: u32;
var<private> next_state: u32;
var<private> host_import: u32;
// Iterations of the dispatch loop this dispatch (see `DispatchParams::work_limit`).
var<private> work: u32;
// Word offsets of this agent's regions.
var<private> stbase: u32;
var<private> sbase: u32;
var<private> fbase: u32;
var<private> gbase: u32;
var<private> tbase: u32;
var<private> obase: u32;

fn trap(code_: u32) {
    if !halt {
        trap_code = code_;
        next_state = ST_TRAPPED;
    }
    halt = true;
}

// Value stack: 64-bit slots of two words. Between dispatches the stacks live in the state
// buffer, interleaved by tiles of agents: word `w` of this agent is at `sbase + w * STACK_TILE`,
// so a warp's agents touching the same slot touch neighbouring words. `slot`, `set_slot`,
// `push32`, `pop32`, `stack_in` and `stack_out` come from the stack module the layout chose
// (`stack_state.wgsl` or `stack_private.wgsl`).
fn stack_base(local: u32) -> u32 {
    return STACK_BASE + (local / STACK_TILE) * STACK_WORDS * STACK_TILE + local % STACK_TILE;
}
fn push64(v: u64) {
    set_slot(sp, v);
    sp += 1u;
}
fn pop64() -> u64 {
    sp -= 1u;
    return slot(sp);
}

// Integer helpers.
fn sext(v: u32, bits: u32) -> u32 {
    return bitcast<u32>(bitcast<i32>(v << (32u - bits)) >> (32u - bits));
}
fn sext64(v: u32) -> u64 {
    return bitcast<u64>(i64(bitcast<i32>(v)));
}
fn rotl32(a: u32, b: u32) -> u32 {
    let s = b & 31u;
    if s == 0u {
        return a;
    }
    return (a << s) | (a >> (32u - s));
}
fn rotl64(a: u64, s: u32) -> u64 {
    if s == 0u {
        return a;
    }
    return (a << s) | (a >> (64u - s));
}
fn clz64(a: u64) -> u64 {
    let hi = u32(a >> 32u);
    if hi != 0u {
        return u64(countLeadingZeros(hi));
    }
    return 32lu + u64(countLeadingZeros(u32(a & 0xfffffffflu)));
}
fn ctz64(a: u64) -> u64 {
    let lo = u32(a & 0xfffffffflu);
    if lo != 0u {
        return u64(countTrailingZeros(lo));
    }
    return 32lu + u64(countTrailingZeros(u32(a >> 32u)));
}
fn div32_s(a: u32, b: u32) -> u32 {
    if b == 0u {
        trap(TRAP_INTEGER_DIVIDE_BY_ZERO);
        return 0u;
    }
    if a == 0x80000000u && b == 0xffffffffu {
        trap(TRAP_INTEGER_OVERFLOW);
        return 0u;
    }
    return bitcast<u32>(bitcast<i32>(a) / bitcast<i32>(b));
}
fn rem32_s(a: u32, b: u32) -> u32 {
    if b == 0u {
        trap(TRAP_INTEGER_DIVIDE_BY_ZERO);
        return 0u;
    }
    if b == 0xffffffffu {
        return 0u;
    }
    return bitcast<u32>(bitcast<i32>(a) % bitcast<i32>(b));
}
fn div64_s(a: u64, b: u64) -> u64 {
    if b == 0lu {
        trap(TRAP_INTEGER_DIVIDE_BY_ZERO);
        return 0lu;
    }
    if a == 0x8000000000000000lu && b == 0xfffffffffffffffflu {
        trap(TRAP_INTEGER_OVERFLOW);
        return 0lu;
    }
    return bitcast<u64>(bitcast<i64>(a) / bitcast<i64>(b));
}
fn rem64_s(a: u64, b: u64) -> u64 {
    if b == 0lu {
        trap(TRAP_INTEGER_DIVIDE_BY_ZERO);
        return 0lu;
    }
    if b == 0xfffffffffffffffflu {
        return 0lu;
    }
    return bitcast<u64>(bitcast<i64>(a) % bitcast<i64>(b));
}

// Linear memory: bytes little-endian in words, bounds-checked against the current size. The
// memories of a tile's agents are interleaved (`Layout::memory_byte`): granules of
// MEM_GRANULE_WORDS words, the same granule of every agent of the tile side by side, so the
// agents of a warp touching the same address touch one row.
fn memory_tile_base(local: u32) -> u32 {
    return (local / MEM_TILE) * MEM_TILE * MEM_STRIDE + (local % MEM_TILE) * MEM_GRANULE_WORDS;
}
// Word `w` of the agent's memory region.
fn mw(w: u32) -> u32 {
    return mlane + (w / MEM_GRANULE_WORDS) * MEM_ROW + w % MEM_GRANULE_WORDS;
}
// The word holding byte address `a` of the current memory.
fn maddr(a: u32) -> u32 {
    return mw(mfirst + (a >> 2u));
}
// Writes the aligned word at byte address `a` of the current memory.
fn store_word(a: u32, v: u32) {
    let w = mfirst + (a >> 2u);
    mtouched = max(mtouched, w + 1u);
    memory[mw(w)] = v;
    dirty = true;
}
fn mem_bytes() -> u64 {
    return u64(mem_pages) * 65536lu;
}
fn ea(addr: u32, offset: u32, size: u32) -> u32 {
    if u64(addr) + u64(offset) + u64(size) > mem_bytes() {
        trap(TRAP_MEMORY_OUT_OF_BOUNDS);
        return 0u;
    }
    return addr + offset;
}
fn load8(a: u32) -> u32 {
    if halt {
        return 0u;
    }
    return (memory[maddr(a)] >> ((a & 3u) * 8u)) & 0xffu;
}
fn load16(a: u32) -> u32 {
    return load8(a) | (load8(a + 1u) << 8u);
}
fn load32(a: u32) -> u32 {
    if halt {
        return 0u;
    }
    let w = mfirst + (a >> 2u);
    let s = (a & 3u) * 8u;
    if s == 0u {
        return memory[mw(w)];
    }
    return (memory[mw(w)] >> s) | (memory[mw(w + 1u)] << (32u - s));
}
fn store8(a: u32, v: u32) {
    if halt {
        return;
    }
    let w = mfirst + (a >> 2u);
    mtouched = max(mtouched, w + 1u);
    let m = mw(w);
    let s = (a & 3u) * 8u;
    memory[m] = (memory[m] & ~(0xffu << s)) | ((v & 0xffu) << s);
    dirty = true;
}
fn store16(a: u32, v: u32) {
    store8(a, v);
    store8(a + 1u, v >> 8u);
}
fn store32(a: u32, v: u32) {
    if halt {
        return;
    }
    if (a & 3u) == 0u {
        store_word(a, v);
        return;
    }
    store8(a, v);
    store8(a + 1u, v >> 8u);
    store8(a + 2u, v >> 16u);
    store8(a + 3u, v >> 24u);
}
// Grow and bulk instructions take their instruction word (`word`) for its fuel flag
// (`fuel.wgsl`).
fn memory_grow(word: u32, n: u32) -> u32 {
    let old = mem_pages;
    if u64(old) + u64(n) > u64(mem_max) {
        grow_fuel(word, n, false);
        return 0xffffffffu;
    }
    mem_pages = old + n;
    dirty = true;
    grow_fuel(word, n, true);
    return old;
}
// Bulk memory instructions check their bounds whole and hand the bytes to a job (`jobs.wgsl`).
fn memory_fill_op(word: u32, d: u32, v: u32, n: u32) {
    if u64(d) + u64(n) > mem_bytes() {
        trap(TRAP_MEMORY_OUT_OF_BOUNDS);
        return;
    }
    start_job(JOB_MEM_FILL | bulk_fuel(word, n), d, v, n);
    dirty = true;
}
fn memory_copy_op(word: u32, d: u32, s: u32, n: u32) {
    if u64(d) + u64(n) > mem_bytes() || u64(s) + u64(n) > mem_bytes() {
        trap(TRAP_MEMORY_OUT_OF_BOUNDS);
        return;
    }
    start_job(select(JOB_MEM_COPY_BACK, JOB_MEM_COPY, d <= s) | bulk_fuel(word, n), d, s, n);
    dirty = true;
}

// Segments: data segments first, then element segments; a dropped segment has length 0.
fn segment_flag(seg: u32) -> u32 {
    return gbase + code[H_SEGMENT_FLAGS] + seg;
}
fn segment_len(seg: u32) -> u32 {
    if state[segment_flag(seg)] != 0u {
        return 0u;
    }
    return code[code[H_SEGMENTS] + 2u * seg + 1u];
}
fn drop_segment(seg: u32) {
    state[segment_flag(seg)] = 1u;
    dirty = true;
}
fn memory_init(word: u32, seg: u32, d: u32, s: u32, n: u32) {
    if u64(s) + u64(n) > u64(segment_len(seg)) || u64(d) + u64(n) > mem_bytes() {
        trap(TRAP_MEMORY_OUT_OF_BOUNDS);
        return;
    }
    let kind = JOB_MEM_INIT | bulk_fuel(word, n);
    start_job(kind, d, 4u * code[code[H_SEGMENTS] + 2u * seg] + s, n);
    dirty = true;
}

// Globals: 64-bit slots.
fn global_get(i: u32) -> u64 {
    let w = gbase + 2u * i;
    return u64(state[w]) | (u64(state[w + 1u]) << 32u);
}
fn global_set(i: u32, v: u64) {
    let w = gbase + 2u * i;
    state[w] = u32(v & 0xfffffffflu);
    state[w + 1u] = u32(v >> 32u);
}

// Tables: the region starts with one size word per table, then each table's elements.
fn table_size(t: u32) -> u32 {
    return state[tbase + t];
}
fn table_word(t: u32, i: u32) -> u32 {
    return tbase + code[code[H_TABLES] + t * TABLE_WORDS] + i;
}
fn table_get(t: u32, i: u32) -> u32 {
    if i >= table_size(t) {
        trap(TRAP_TABLE_OUT_OF_BOUNDS);
        return REF_NULL;
    }
    return state[table_word(t, i)];
}
fn table_set(t: u32, i: u32, v: u32) {
    if i >= table_size(t) {
        trap(TRAP_TABLE_OUT_OF_BOUNDS);
        return;
    }
    state[table_word(t, i)] = v;
    dirty = true;
}
fn table_grow(word: u32, t: u32, v: u32, n: u32) -> u32 {
    let old = table_size(t);
    let capacity = code[code[H_TABLES] + t * TABLE_WORDS + 1u];
    if u64(old) + u64(n) > u64(capacity) {
        grow_fuel(word, n, false);
        return 0xffffffffu;
    }
    state[tbase + t] = old + n;
    // The new elements are filled, then fuel is checked.
    start_job(JOB_WORD_FILL | bulk_fuel(word, n), table_word(t, old), v, n);
    dirty = true;
    return old;
}
fn table_fill(word: u32, t: u32, d: u32, v: u32, n: u32) {
    if u64(d) + u64(n) > u64(table_size(t)) {
        trap(TRAP_TABLE_OUT_OF_BOUNDS);
        return;
    }
    start_job(JOB_WORD_FILL | bulk_fuel(word, n), table_word(t, d), v, n);
    dirty = true;
}
fn table_copy(word: u32, dt: u32, st: u32, d: u32, s: u32, n: u32) {
    if u64(d) + u64(n) > u64(table_size(dt)) || u64(s) + u64(n) > u64(table_size(st)) {
        trap(TRAP_TABLE_OUT_OF_BOUNDS);
        return;
    }
    let dw = table_word(dt, d);
    let sw = table_word(st, s);
    start_job(select(JOB_WORD_COPY_BACK, JOB_WORD_COPY, dw <= sw) | bulk_fuel(word, n), dw, sw, n);
    dirty = true;
}
fn table_init(word: u32, seg: u32, t: u32, d: u32, s: u32, n: u32) {
    if u64(s) + u64(n) > u64(segment_len(seg)) || u64(d) + u64(n) > u64(table_size(t)) {
        trap(TRAP_TABLE_OUT_OF_BOUNDS);
        return;
    }
    let kind = JOB_WORD_INIT | bulk_fuel(word, n);
    start_job(kind, table_word(t, d), code[code[H_SEGMENTS] + 2u * seg] + s, n);
    dirty = true;
}

// Output: bytes appended to the agent's output slice.
// A stream write (`CodeImage::write_streams_on_gpu`), WASI's `fd_write(fd, iovs, iovs_len,
// nwritten)` on the stack: answered here when the agent is in a call (not entering the import
// itself) on memory 0, the descriptor is 1 or 2, the iovec array is plain (aligned, in memory,
// at most 4 entries and STREAM_WRITE_MAX bytes) and the bytes fit both the stream's room,
// which the host sets, and the output region. The bytes become one record there (a length
// word with the stream in its top bit, then the bytes, padded to a word), copied by a job;
// the count goes to `nwritten` and errno 0 is the result, with the fuel of a host call.
// Anything else returns false, and the call goes to the host, which takes the records first,
// so each stream keeps its order.
fn stream_write() -> bool {
    let fd = u32(slot(sp - 4u));
    let iovs = u32(slot(sp - 3u));
    let count = u32(slot(sp - 2u));
    let out = u32(slot(sp - 1u));
    if depth == 0u || cur_mem != 0u || (fd != 1u && fd != 2u) || count == 0u || count > 4u
        || ((iovs | out) & 3u) != 0u {
        return false;
    }
    if u64(iovs) + u64(count) * 8lu > mem_bytes() || u64(out) + 4lu > mem_bytes() {
        return false;
    }
    // The iovecs, unrolled: no step runs a loop (`jobs.wgsl`).
    let n0 = iovec_bytes(iovs, 0u, count);
    let n1 = iovec_bytes(iovs, 1u, count);
    let n2 = iovec_bytes(iovs, 2u, count);
    let n3 = iovec_bytes(iovs, 3u, count);
    if max(max(n0, n1), max(n2, n3)) > STREAM_WRITE_MAX {
        return false;
    }
    let total = n0 + n1 + n2 + n3;
    let room_word = stbase + select(S_STREAM2_ROOM, S_STREAM1_ROOM, fd == 1u);
    let padded = (total + 3u) & ~3u;
    if total == 0u || total > STREAM_WRITE_MAX || total > status[room_word]
        || u64(output_len) + 4lu + u64(padded) > u64(OUTPUT_BYTES) {
        return false;
    }
    output[obase + (output_len >> 2u)] = total | ((fd - 1u) << 31u);
    start_job(JOB_STREAM, output_len + 4u, iovs, count << 16u);
    output_len += 4u + padded;
    status[room_word] -= total;
    store32(out, total);
    sp -= 4u;
    push32(0u);
    return true;
}

// The length of iovec `i` of the `count` at `iovs` (0 past them), or more than
// STREAM_WRITE_MAX when its buffer does not lie in memory.
fn iovec_bytes(iovs: u32, i: u32, count: u32) -> u32 {
    if i >= count {
        return 0u;
    }
    let p = load32(iovs + 8u * i);
    let n = load32(iovs + 8u * i + 4u);
    if n > 0u && u64(p) + u64(n) > mem_bytes() {
        return 0xffffffffu;
    }
    return n;
}

fn write_output(p: u32, n: u32) {
    if u64(p) + u64(n) > mem_bytes() {
        trap(TRAP_MEMORY_OUT_OF_BOUNDS);
        return;
    }
    if u64(output_len) + u64(n) > u64(OUTPUT_BYTES) {
        trap(TRAP_OUTPUT_OVERFLOW);
        return;
    }
    start_job(JOB_OUTPUT, output_len, p, n);
    output_len += n;
}

// Memories: each function addresses its instance's memory (function-table word 6). Memory 0's
// size is kept in the status record between dispatches, every other memory's in its size word
// in the globals region.
fn use_memory(m: u32) {
    if m == cur_mem {
        return;
    }
    if cur_mem == 0u {
        mem0_pages = mem_pages;
    } else {
        state[gbase + code[code[H_MEMORIES] + cur_mem * MEMORY_WORDS + 2u]] = mem_pages;
    }
    cur_mem = m;
    let e = code[H_MEMORIES] + m * MEMORY_WORDS;
    if m == 0u {
        mem_pages = mem0_pages;
    } else {
        mem_pages = state[gbase + code[e + 2u]];
    }
    mfirst = code[e];
    mem_max = code[e + 1u];
}
fn func_memory(f: u32) -> u32 {
    return code[code[H_FUNCS] + f * FUNC_WORDS + 6u];
}

// Calls. A frame record holds the caller's pc, frame pointer and function.
fn enter(f: u32) {
    let e = code[H_FUNCS] + f * FUNC_WORDS;
    // Imports have the three highest entry words (`STREAM_WRITE` < `ZEROS` < `IMPORTED`), so
    // a defined function costs one comparison.
    if code[e] >= STREAM_WRITE {
        if code[e] == STREAM_WRITE && stream_write() {
            return;
        }
        if code[e] != ZEROS {
            // The host runs imported functions between dispatches; the agent resumes after it.
            host_import = f;
            next_state = ST_HOSTCALL;
            halt = true;
            return;
        }
        // An import nobody provides, answered with zeros (`CodeImage::answer_with_zeros`): the
        // arguments give way to zeroed results, as a host function's call would leave them,
        // with no entry fuel.
        let nr = code[e + 3u];
        sp -= code[e + 1u];
        zero_slots(sp, nr);
        sp += nr;
        if depth == 0u {
            // The call was to the import itself: it has returned.
            finish_call(sp - nr, nr);
        }
        return;
    }
    if depth >= CALL_FRAMES {
        trap(TRAP_CALL_STACK_EXHAUSTED);
        return;
    }
    let np = code[e + 1u];
    let nl = code[e + 2u];
    let new_fp = sp - np;
    if new_fp + code[e + 4u] > STACK_SLOTS {
        trap(TRAP_CALL_STACK_EXHAUSTED);
        return;
    }
    // Entering a function costs one fuel, and is a fuel check.
    charge(1u);
    if !fuel_check() {
        return;
    }
    let w = fbase + depth * 4u;
    state[w] = pc;
    state[w + 1u] = fp;
    state[w + 2u] = func;
    depth += 1u;
    zero_slots(new_fp + np, nl);
    fp = new_fp;
    sp = new_fp + np + nl;
    func = f;
    pc = code[e];
    use_memory(code[e + 6u]);
}
fn call_indirect(type_id: u32, t: u32, i: u32) {
    if i >= table_size(t) {
        trap(TRAP_TABLE_OUT_OF_BOUNDS);
        return;
    }
    let f = state[table_word(t, i)];
    if f == REF_NULL {
        trap(TRAP_INDIRECT_CALL_TO_NULL);
        return;
    }
    if code[code[H_FUNCS] + f * FUNC_WORDS + 5u] != type_id {
        trap(TRAP_INDIRECT_CALL_TYPE_MISMATCH);
        return;
    }
    enter(f);
}
fn do_return() {
    let nr = code[code[H_FUNCS] + func * FUNC_WORDS + 3u];
    let src = sp - nr;
    depth -= 1u;
    if depth == 0u {
        finish_call(src, nr);
        return;
    }
    move_slots(fp, src, nr);
    sp = fp + nr;
    let w = fbase + depth * 4u;
    pc = state[w];
    fp = state[w + 1u];
    func = state[w + 2u];
    use_memory(func_memory(func));
}
fn branch_adjust(to: u32, height: u32, keep: u32) {
    if to == RETURN_TARGET {
        do_return();
        return;
    }
    let dst = fp + height;
    move_slots(dst, sp - keep, keep);
    sp = dst + keep;
    pc = to;
}
