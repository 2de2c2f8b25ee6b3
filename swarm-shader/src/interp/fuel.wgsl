// Fuel, wasmtime's model: one per instruction that costs fuel (the cost bit of its word), one
// per function entered, one per byte or element a bulk instruction moves, one per page or
// element grown. wasmtime does not stop at the instruction where fuel runs out: it checks at
// function entries, at loop headers and after bulk and grow instructions whose unit count is
// not a small constant, and traps at the first check that finds the budget spent. So do we.
//
// Two budgets: the dispatch's slice, a schedule counted down in `fuel_left` (the agent
// suspends before an instruction that does not fit; entries and bulk units charged where less
// is left still happen, and `fuel_over` keeps what went past), and the lifetime budget
// (`DispatchParams::fuel_total`), whose checks compare what this dispatch spent with
// `fuel_room`.

// The slice this dispatch started with, and what is left of it.
var<private> fuel_start: u32;
var<private> fuel_left: u32;
// Fuel charged past the slice this dispatch.
var<private> fuel_over: u64;
// Fuel charged this dispatch that is not instructions (entries, bulk units, growth).
var<private> fuel_extra: u64;
// Fuel of the instructions compiled blocks ran this dispatch (`crate::compile`).
var<private> compiled_fuel: u32;
// Fuel the lifetime budget leaves for this dispatch (near `u64::MAX` when there is none).
var<private> fuel_room: u64;

// Flag of a job whose instruction checks fuel when it ends (`DEFERRED_FUEL`).
const JOB_FUEL_CHECK: u32 = 0x80000000u;

fn charge(n: u32) {
    let take = min(n, fuel_left);
    fuel_left -= take;
    fuel_over += u64(n - take);
    fuel_extra += u64(n);
}
fn fuel_spent() -> u64 {
    return u64(fuel_start - fuel_left) + fuel_over;
}
// A fuel check: traps `out_of_fuel` (and returns false) once the lifetime budget is spent.
fn fuel_check() -> bool {
    if fuel_spent() >= fuel_room {
        trap(TRAP_OUT_OF_FUEL);
        return false;
    }
    return true;
}
// The fuel of a bulk instruction (`word`) that moves `n` units and has passed its bounds
// checks: charged now; checked now when nothing is left to move, else when its job ends (the
// flag returned is or-ed into the job's kind).
fn bulk_fuel(word: u32, n: u32) -> u32 {
    charge(n);
    if (word & DEFERRED_FUEL) == 0u {
        return 0u;
    }
    if n == 0u {
        fuel_check();
        return 0u;
    }
    return JOB_FUEL_CHECK;
}
// The fuel of a grow instruction (`word`) of `n` units that succeeded or (`ok` false) failed:
// as wasmtime charges it, units of a failed grow only when they are a small constant.
fn grow_fuel(word: u32, n: u32, ok: bool) {
    if (word & DEFERRED_FUEL) == 0u {
        charge(n);
    } else if ok {
        charge(n);
        fuel_check();
    }
}
