// Jobs: the long operations of instructions (bulk memory and table instructions, output,
// zeroing a callee's locals, moving results and branch values down the stack, writing a
// call's results), run a few units at a time.
//
// No interpreter step runs a loop. Mesa's llvmpipe stops every loop of a SIMD group of
// invocations once 65,535 iterations have run in total, silently, and agents of one group
// that diverge through different loops spend that budget together; a loop cut inside a step
// would leave an instruction half done. So an instruction that has many units to move checks
// its bounds, does its bookkeeping and hands the units to a job; the dispatch loop then runs
// one chunk of the job (`run_job`, `JOB_UNITS` units written out) per iteration, before the next
// instruction. A bulk instruction charges the fuel of all its units when it starts its job
// (`fuel.wgsl`); the job itself costs none, and checks fuel at its end where the instruction
// defers its check. The dispatch loop is then the only loop an agent runs, so the
// limiter can cut only there, between two steps, where stopping is an exact suspension. A job
// under way is kept in the status record (`job`, `job_dst`, `job_src`, `job_len`) across
// dispatches. Jobs never trap: their instruction checked every bound first.

// Job kinds (`AgentStatus::job`; NO_JOB is 0).
const JOB_MEM_FILL: u32 = 1u;       // memory bytes [dst, dst + len) = src (a byte)
const JOB_MEM_COPY: u32 = 2u;       // memory bytes from src to dst, lowest first
const JOB_MEM_COPY_BACK: u32 = 3u;  // memory bytes from src to dst, highest first
const JOB_MEM_INIT: u32 = 4u;       // memory bytes from the code buffer's byte src
const JOB_OUTPUT: u32 = 5u;         // output bytes at dst from memory bytes at src
const JOB_WORD_FILL: u32 = 6u;      // state words [dst, dst + len) = src
const JOB_WORD_COPY: u32 = 7u;      // state words from src to dst, lowest first
const JOB_WORD_COPY_BACK: u32 = 8u; // state words from src to dst, highest first
const JOB_WORD_INIT: u32 = 9u;      // state words from the code buffer's word src
const JOB_SLOT_ZERO: u32 = 10u;     // stack slots [dst, dst + len) = 0
const JOB_SLOT_MOVE: u32 = 11u;     // stack slots from src down to dst (dst <= src), lowest first
const JOB_RESULTS: u32 = 12u;       // results dst.. from stack slots src..; then the call ends
const JOB_STREAM: u32 = 13u;        // output bytes at dst from the buffers of the iovecs at src
                                    // (len: iovecs left << 16 | bytes of this one done)

var<private> job: u32;
var<private> job_dst: u32;
var<private> job_src: u32;
var<private> job_len: u32;

fn start_job(kind: u32, dst: u32, src: u32, len: u32) {
    if len == 0u {
        return;
    }
    job = kind;
    job_dst = dst;
    job_src = src;
    job_len = len;
}

// Stack moves of one or two slots, the common case, happen at once; longer ones are jobs.
fn zero_slots(first: u32, n: u32) {
    if n > 2u {
        start_job(JOB_SLOT_ZERO, first, 0u, n);
        return;
    }
    if n > 0u {
        set_slot(first, 0lu);
    }
    if n > 1u {
        set_slot(first + 1u, 0lu);
    }
}
fn move_slots(dst: u32, src: u32, n: u32) {
    if dst == src {
        return;
    }
    if n > 2u {
        start_job(JOB_SLOT_MOVE, dst, src, n);
        return;
    }
    if n > 0u {
        set_slot(dst, slot(src));
    }
    if n > 1u {
        set_slot(dst + 1u, slot(src + 1u));
    }
}

// The entry call returned: its results go to the status record, then the agent is finished.
fn finish_call(src: u32, n: u32) {
    status[stbase + S_RESULT_COUNT] = n;
    let count = min(n, MAX_RESULTS);
    if count == 0u {
        next_state = ST_FINISHED;
        halt = true;
        return;
    }
    start_job(JOB_RESULTS, 0u, src, count);
}

// One unit of the job: a byte, or an aligned word where one fits, of memory; a word of state;
// a stack slot; a result.
fn job_unit() {
    if job_len == 0u {
        return;
    }
    switch job & ~JOB_FUEL_CHECK {
        case JOB_MEM_FILL: {
            if (job_dst & 3u) == 0u && job_len >= 4u {
                store_word(job_dst, (job_src & 0xffu) * 0x01010101u);
                job_dst += 4u;
                job_len -= 4u;
            } else {
                store8(job_dst, job_src);
                job_dst += 1u;
                job_len -= 1u;
            }
        }
        case JOB_MEM_COPY: {
            // Every source byte is read before a later unit overwrites it (dst <= src).
            if (job_dst & 3u) == 0u && job_len >= 4u {
                store_word(job_dst, load32(job_src));
                job_dst += 4u;
                job_src += 4u;
                job_len -= 4u;
            } else {
                store8(job_dst, load8(job_src));
                job_dst += 1u;
                job_src += 1u;
                job_len -= 1u;
            }
        }
        case JOB_MEM_COPY_BACK: {
            // From the end down (dst > src), so overlapping ranges stay right.
            let end = job_dst + job_len;
            if (end & 3u) == 0u && job_len >= 4u {
                job_len -= 4u;
                store_word(end - 4u, load32(job_src + job_len));
            } else {
                job_len -= 1u;
                store8(end - 1u, load8(job_src + job_len));
            }
        }
        case JOB_MEM_INIT: {
            if (job_dst & 3u) == 0u && (job_src & 3u) == 0u && job_len >= 4u {
                store_word(job_dst, code[job_src >> 2u]);
                job_dst += 4u;
                job_src += 4u;
                job_len -= 4u;
            } else {
                store8(job_dst, code[job_src >> 2u] >> ((job_src & 3u) * 8u));
                job_dst += 1u;
                job_src += 1u;
                job_len -= 1u;
            }
        }
        case JOB_OUTPUT: {
            let w = obase + (job_dst >> 2u);
            let s = (job_dst & 3u) * 8u;
            output[w] = (output[w] & ~(0xffu << s)) | (load8(job_src) << s);
            job_dst += 1u;
            job_src += 1u;
            job_len -= 1u;
        }
        case JOB_WORD_FILL: {
            state[job_dst] = job_src;
            job_dst += 1u;
            job_len -= 1u;
        }
        case JOB_WORD_COPY: {
            state[job_dst] = state[job_src];
            job_dst += 1u;
            job_src += 1u;
            job_len -= 1u;
        }
        case JOB_WORD_COPY_BACK: {
            job_len -= 1u;
            state[job_dst + job_len] = state[job_src + job_len];
        }
        case JOB_WORD_INIT: {
            state[job_dst] = code[job_src];
            job_dst += 1u;
            job_src += 1u;
            job_len -= 1u;
        }
        case JOB_SLOT_ZERO: {
            set_slot(job_dst, 0lu);
            job_dst += 1u;
            job_len -= 1u;
        }
        case JOB_SLOT_MOVE: {
            set_slot(job_dst, slot(job_src));
            job_dst += 1u;
            job_src += 1u;
            job_len -= 1u;
        }
        case JOB_STREAM: {
            // A stream write's bytes (`stream_write`): an iovec's buffer a byte at a time,
            // then a unit that moves on to the next iovec.
            let p = load32(job_src);
            let n = load32(job_src + 4u);
            let done = job_len & 0xffffu;
            if done < n {
                let w = obase + (job_dst >> 2u);
                let s = (job_dst & 3u) * 8u;
                output[w] = (output[w] & ~(0xffu << s)) | (load8(p + done) << s);
                job_dst += 1u;
                job_len += 1u;
            } else {
                job_src += 8u;
                job_len = ((job_len >> 16u) - 1u) << 16u;
            }
        }
        case JOB_RESULTS: {
            let v = slot(job_src);
            status[stbase + RESULTS_OFF + 2u * job_dst] = u32(v & 0xfffffffflu);
            status[stbase + RESULTS_OFF + 2u * job_dst + 1u] = u32(v >> 32u);
            job_dst += 1u;
            job_src += 1u;
            job_len -= 1u;
        }
        default: {
            job_len = 0u;
        }
    }
    if job_len == 0u {
        if job == JOB_RESULTS {
            next_state = ST_FINISHED;
            halt = true;
        }
        let check = (job & JOB_FUEL_CHECK) != 0u;
        job = NO_JOB;
        if check {
            fuel_check();
        }
    }
}
