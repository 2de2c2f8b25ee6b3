//! Benchmark guest programs for swarm.
//!
//! Built for `wasm32-unknown-unknown` as a `no_std` cdylib with zero imports
//! and one 64 KiB page of linear memory. Every export is deterministic, takes
//! only `i32`/`i64` arguments, returns one value, and runs a loop whose trip
//! count is an argument so the benchmark can size the work.
//!
//! On the host the crate builds with `std` so `cargo test` can check the
//! kernels natively.

#![cfg_attr(target_arch = "wasm32", no_std)]

use core::cell::UnsafeCell;

#[cfg(target_arch = "wasm32")]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

// ---------------------------------------------------------------------------
// fib
// ---------------------------------------------------------------------------

/// Mask applied to every sum. Besides defining the overflow behaviour it
/// stops LLVM's tail-recursion elimination from turning the second recursive
/// call into a loop (accumulator recursion needs the `add` to feed the `ret`
/// directly), so the module really makes ~2*fib(n) calls.
const FIB_MASK: i32 = 0x7fff_ffff;

#[inline(never)]
fn fib_rec(n: i32) -> i32 {
    if n < 2 {
        n
    } else {
        fib_rec(n - 1).wrapping_add(fib_rec(n - 2)) & FIB_MASK
    }
}

/// Naive doubly recursive Fibonacci, modulo 2^31 (exact for `n <= 46`).
/// `fib(n) = n` for `n < 2` (so negative `n` returns `n`).
#[unsafe(no_mangle)]
pub extern "C" fn fib(n: i32) -> i32 {
    fib_rec(n)
}

// ---------------------------------------------------------------------------
// collatz
// ---------------------------------------------------------------------------

/// Total Collatz steps (to reach 1) over the `count` numbers starting at
/// `(seed * count mod 2^32) + 1`. Values are tracked in `u64`; with
/// `count <= 2^31` every start is below 6.5e9 and no trajectory overflows.
#[unsafe(no_mangle)]
pub extern "C" fn collatz(seed: i32, count: i32) -> i32 {
    if count <= 0 {
        return 0;
    }
    let start = u64::from((seed as u32).wrapping_mul(count as u32)) + 1;
    let mut total: u32 = 0;
    let mut k: u64 = 0;
    while k < count as u64 {
        let mut n = start + k;
        let mut steps: u32 = 0;
        while n != 1 {
            n = if n & 1 == 0 { n >> 1 } else { n.wrapping_mul(3).wrapping_add(1) };
            steps += 1;
        }
        total = total.wrapping_add(steps);
        k += 1;
    }
    total as i32
}

// ---------------------------------------------------------------------------
// sha256_chain
// ---------------------------------------------------------------------------

const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

const H0: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// SHA-256 compression of one 64-byte block into `state`.
fn compress(state: &mut [u32; 8], block: &[u8; 64]) {
    let mut w = [0u32; 64];
    for i in 0..16 {
        w[i] = u32::from_be_bytes([block[4 * i], block[4 * i + 1], block[4 * i + 2], block[4 * i + 3]]);
    }
    for i in 16..64 {
        let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
        let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16].wrapping_add(s0).wrapping_add(w[i - 7]).wrapping_add(s1);
    }
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;
    for i in 0..64 {
        let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
        let ch = (e & f) ^ (!e & g);
        let t1 = h.wrapping_add(s1).wrapping_add(ch).wrapping_add(K[i]).wrapping_add(w[i]);
        let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
        let maj = (a & b) ^ (a & c) ^ (b & c);
        let t2 = s0.wrapping_add(maj);
        h = g;
        g = f;
        f = e;
        e = d.wrapping_add(t1);
        d = c;
        c = b;
        b = a;
        a = t1.wrapping_add(t2);
    }
    for (s, v) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
        *s = s.wrapping_add(v);
    }
}

/// SHA-256 of a message of at most 119 bytes (at most two blocks after
/// padding), which covers every message this crate hashes.
fn sha256(msg: &[u8]) -> [u8; 32] {
    let len = msg.len();
    let nblocks = if len + 9 <= 64 { 1 } else { 2 };
    let mut buf = [0u8; 128];
    buf[..len].copy_from_slice(msg);
    buf[len] = 0x80;
    let bits = (len as u64) * 8;
    let total = nblocks * 64;
    buf[total - 8..total].copy_from_slice(&bits.to_be_bytes());
    let mut state = H0;
    for blk in buf[..total].chunks_exact(64) {
        compress(&mut state, blk.try_into().unwrap_or(&[0; 64]));
    }
    let mut out = [0u8; 32];
    for (o, s) in out.chunks_exact_mut(4).zip(state) {
        o.copy_from_slice(&s.to_be_bytes());
    }
    out
}

/// Hash a 64-byte block derived from `seed` (an xorshift32 byte stream),
/// then re-hash the 32-byte digest `rounds` times. Returns the first four
/// bytes of the final digest, big-endian, as an `i32`.
#[unsafe(no_mangle)]
pub extern "C" fn sha256_chain(seed: i32, rounds: i32) -> i32 {
    let mut block = [0u8; 64];
    let mut x = xorshift32_seed(seed);
    for b in block.iter_mut() {
        x = xorshift32(x);
        *b = (x >> 24) as u8;
    }
    let mut digest = sha256(&block);
    let mut r = 0;
    while r < rounds {
        digest = sha256(&digest);
        r += 1;
    }
    i32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

// ---------------------------------------------------------------------------
// monte_carlo_pi
// ---------------------------------------------------------------------------

#[inline(always)]
fn xorshift64(mut x: u64) -> u64 {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}

/// Monte-Carlo estimate of pi: `samples` xorshift64 points in the unit
/// square; returns `4 * inside / samples` (0.0 when `samples <= 0`).
#[unsafe(no_mangle)]
pub extern "C" fn monte_carlo_pi(seed: i32, samples: i32) -> f64 {
    if samples <= 0 {
        return 0.0;
    }
    let mut s = (seed as u32 as u64) ^ 0x9E37_79B9_7F4A_7C15;
    if s == 0 {
        s = 0x9E37_79B9_7F4A_7C15;
    }
    const SCALE: f64 = 1.0 / (1u64 << 53) as f64;
    let mut inside: u32 = 0;
    let mut i = 0;
    while i < samples {
        s = xorshift64(s);
        let x = (s >> 11) as f64 * SCALE;
        s = xorshift64(s);
        let y = (s >> 11) as f64 * SCALE;
        if x * x + y * y <= 1.0 {
            inside += 1;
        }
        i += 1;
    }
    4.0 * f64::from(inside) / f64::from(samples)
}

// ---------------------------------------------------------------------------
// mandelbrot
// ---------------------------------------------------------------------------

/// Escape-time iteration count of `c = (cx, cy)`, at most `max_iter`.
#[inline(always)]
fn escape(cx: f64, cy: f64, max_iter: i32) -> i32 {
    let (mut zx, mut zy) = (0.0f64, 0.0f64);
    let mut i = 0;
    while i < max_iter {
        let x2 = zx * zx;
        let y2 = zy * zy;
        if x2 + y2 > 4.0 {
            break;
        }
        zy = 2.0 * zx * zy + cy;
        zx = x2 - y2 + cx;
        i += 1;
    }
    i
}

/// Sum of the Mandelbrot escape counts (each capped at `max_iter`) over a
/// 4x4 grid of points around `c` picked from `seed`:
/// `x = -2 + (seed % 256) * 3/256`, `y = -1.5 + ((seed / 256) % 256) * 3/256`
/// (seed taken as unsigned), grid spacing `3/1024`.
#[unsafe(no_mangle)]
pub extern "C" fn mandelbrot(seed: i32, max_iter: i32) -> i32 {
    let s = seed as u32;
    let x0 = -2.0 + f64::from(s % 256) * (3.0 / 256.0);
    let y0 = -1.5 + f64::from((s / 256) % 256) * (3.0 / 256.0);
    const D: f64 = 3.0 / 1024.0;
    let mut total: i32 = 0;
    let mut j = 0;
    while j < 4 {
        let mut i = 0;
        while i < 4 {
            let cx = x0 + f64::from(i) * D;
            let cy = y0 + f64::from(j) * D;
            total = total.wrapping_add(escape(cx, cy, max_iter));
            i += 1;
        }
        j += 1;
    }
    total
}

// ---------------------------------------------------------------------------
// insertion_sort
// ---------------------------------------------------------------------------

#[inline(always)]
fn xorshift32(mut x: u32) -> u32 {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    x
}

#[inline(always)]
fn xorshift32_seed(seed: i32) -> u32 {
    let s = (seed as u32) ^ 0x2545_F491;
    if s == 0 { 0x2545_F491 } else { s }
}

/// Capacity of the sort buffer in linear memory (8 KiB).
pub const SORT_CAP: usize = 2048;

struct SortBuf(UnsafeCell<[u32; SORT_CAP]>);

// SAFETY: wasm guests are single-threaded; on the host only the export
// touches the buffer and the tests go through `sort_checksum` instead.
unsafe impl Sync for SortBuf {}

static SORT_BUF: SortBuf = SortBuf(UnsafeCell::new([0; SORT_CAP]));

/// Fill `a` from xorshift32(seed), insertion-sort it, return the checksum
/// `sum a[i] * (i + 1)` (wrapping u32).
fn sort_checksum(a: &mut [u32], seed: i32) -> u32 {
    let mut x = xorshift32_seed(seed);
    for v in a.iter_mut() {
        x = xorshift32(x);
        *v = x;
    }
    let mut i = 1;
    while i < a.len() {
        let key = a[i];
        let mut j = i;
        while j > 0 && a[j - 1] > key {
            a[j] = a[j - 1];
            j -= 1;
        }
        a[j] = key;
        i += 1;
    }
    let mut sum: u32 = 0;
    for (i, &v) in a.iter().enumerate() {
        sum = sum.wrapping_add(v.wrapping_mul(i as u32 + 1));
    }
    sum
}

/// Insertion-sort `len` (clamped to 0..=2048) xorshift32 values in a static
/// buffer in linear memory; returns the wrapping checksum
/// `sum a[i] * (i + 1)` of the sorted array.
#[unsafe(no_mangle)]
pub extern "C" fn insertion_sort(seed: i32, len: i32) -> i32 {
    let n = len.clamp(0, SORT_CAP as i32) as usize;
    // SAFETY: single-threaded guest; no other reference to the buffer is
    // live while this export runs.
    let buf = unsafe { &mut *SORT_BUF.0.get() };
    sort_checksum(&mut buf[..n], seed) as i32
}

// ---------------------------------------------------------------------------
// mix64
// ---------------------------------------------------------------------------

/// i64-heavy mixer: `rounds` iterations of a splitmix64 step (add, xor-shift,
/// multiply) folded into an accumulator with a rotate, a multiply and a xor.
#[unsafe(no_mangle)]
pub extern "C" fn mix64(seed: i64, rounds: i32) -> i64 {
    let mut x = seed as u64;
    let mut acc: u64 = 0xD6E8_FEB8_6659_FD93;
    let mut r = 0;
    while r < rounds {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        acc = (acc.rotate_left(23) ^ z).wrapping_mul(0xFF51_AFD7_ED55_8CCD);
        acc ^= acc >> 33;
        r += 1;
    }
    acc as i64
}

// ---------------------------------------------------------------------------
// Native tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(d: &[u8]) -> String {
        d.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn fib_values() {
        assert_eq!(fib(0), 0);
        assert_eq!(fib(1), 1);
        assert_eq!(fib(10), 55);
        assert_eq!(fib(20), 6765);
        assert_eq!(fib(30), 832_040);
        assert_eq!(fib(-3), -3);
    }

    #[test]
    fn collatz_values() {
        assert_eq!(collatz(26, 1), 111); // 27
        assert_eq!(collatz(0, 1), 0); // 1
        assert_eq!(collatz(0, 0), 0);
        // 1..=10: 0,1,7,2,5,8,16,3,19,6 = 67
        assert_eq!(collatz(0, 10), 67);
    }

    #[test]
    fn sha256_vectors() {
        assert_eq!(
            hex(&sha256(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(&sha256(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        // 64-byte message (two blocks after padding).
        assert_eq!(
            hex(&sha256(&[b'a'; 64])),
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"
        );
    }

    #[test]
    fn sha256_chain_consistent() {
        let mut block = [0u8; 64];
        let mut x = xorshift32_seed(7);
        for b in block.iter_mut() {
            x = xorshift32(x);
            *b = (x >> 24) as u8;
        }
        let mut d = sha256(&block);
        for _ in 0..3 {
            d = sha256(&d);
        }
        assert_eq!(sha256_chain(7, 3), i32::from_be_bytes([d[0], d[1], d[2], d[3]]));
        assert_ne!(sha256_chain(7, 3), sha256_chain(7, 4));
    }

    #[test]
    fn monte_carlo_pi_estimate() {
        let p = monte_carlo_pi(1, 1_000_000);
        assert!((p - core::f64::consts::PI).abs() < 0.01, "{p}");
        assert_eq!(monte_carlo_pi(1, 0), 0.0);
        assert_eq!(monte_carlo_pi(5, 1000), monte_carlo_pi(5, 1000));
    }

    #[test]
    fn mandelbrot_counts() {
        // seed 0: c around (-2, -1.5), escapes almost at once.
        assert!(mandelbrot(0, 1000) < 16 * 3);
        // c around (-0.5, 0.0): inside the main cardioid, every point capped.
        let s = 128 + 128 * 256;
        assert_eq!(mandelbrot(s, 500), 16 * 500);
        assert_eq!(mandelbrot(s, 0), 0);
    }

    #[test]
    fn insertion_sort_sorts() {
        let mut a = vec![0u32; 1000];
        let sum = sort_checksum(&mut a, 42);
        assert!(a.windows(2).all(|w| w[0] <= w[1]));
        let mut b = vec![0u32; 1000];
        let mut x = xorshift32_seed(42);
        for v in b.iter_mut() {
            x = xorshift32(x);
            *v = x;
        }
        b.sort_unstable();
        assert_eq!(a, b);
        let expect = b
            .iter()
            .enumerate()
            .fold(0u32, |s, (i, &v)| s.wrapping_add(v.wrapping_mul(i as u32 + 1)));
        assert_eq!(sum, expect);
        // The export clamps len and uses the static buffer.
        assert_eq!(insertion_sort(42, 1000), expect as i32);
        assert_eq!(insertion_sort(42, 0), 0);
        assert_eq!(insertion_sort(42, 5000), insertion_sort(42, 2048));
    }

    #[test]
    fn mix64_deterministic() {
        assert_eq!(mix64(1, 0), 0xD6E8_FEB8_6659_FD93u64 as i64);
        assert_eq!(mix64(1, 1000), mix64(1, 1000));
        assert_ne!(mix64(1, 1000), mix64(2, 1000));
        assert_ne!(mix64(1, 1000), mix64(1, 1001));
    }
}

/// Checks on the checked-in `swarm_guests.wasm` (rebuild it after changing
/// the kernels; see README.md): no imports, one page of memory (min = max =
/// 1), and every benchmark export present with its signature.
#[cfg(test)]
mod artifact {
    const WASM: &[u8] = include_bytes!("../swarm_guests.wasm");

    fn uleb(b: &[u8], p: &mut usize) -> u32 {
        let (mut r, mut s) = (0u32, 0);
        loop {
            let x = b[*p];
            *p += 1;
            r |= u32::from(x & 0x7f) << s;
            s += 7;
            if x < 0x80 {
                return r;
            }
        }
    }

    #[test]
    fn module_shape() {
        assert_eq!(&WASM[..8], b"\0asm\x01\0\0\0");
        let mut types: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        let mut func_types: Vec<u32> = Vec::new();
        let mut exports: Vec<(String, u8, u32)> = Vec::new();
        let mut memory = None;
        let mut p = 8;
        while p < WASM.len() {
            let id = WASM[p];
            p += 1;
            let size = uleb(WASM, &mut p) as usize;
            let body = &WASM[p..p + size];
            p += size;
            let mut q = 0;
            match id {
                1 => {
                    for _ in 0..uleb(body, &mut q) {
                        assert_eq!(body[q], 0x60);
                        q += 1;
                        let n = uleb(body, &mut q) as usize;
                        let params = body[q..q + n].to_vec();
                        q += n;
                        let n = uleb(body, &mut q) as usize;
                        let results = body[q..q + n].to_vec();
                        q += n;
                        types.push((params, results));
                    }
                }
                2 => panic!("module has an import section"),
                3 => {
                    for _ in 0..uleb(body, &mut q) {
                        func_types.push(uleb(body, &mut q));
                    }
                }
                5 => {
                    assert_eq!(uleb(body, &mut q), 1, "one memory");
                    let flags = body[q];
                    q += 1;
                    let min = uleb(body, &mut q);
                    let max = (flags & 1 == 1).then(|| uleb(body, &mut q));
                    memory = Some((flags, min, max));
                }
                7 => {
                    for _ in 0..uleb(body, &mut q) {
                        let n = uleb(body, &mut q) as usize;
                        let name = String::from_utf8(body[q..q + n].to_vec()).unwrap();
                        q += n;
                        let kind = body[q];
                        q += 1;
                        exports.push((name, kind, uleb(body, &mut q)));
                    }
                }
                _ => {}
            }
        }
        assert_eq!(memory, Some((1, 1, Some(1))), "memory must be exactly one page");
        const I32: u8 = 0x7f;
        const I64: u8 = 0x7e;
        const F64: u8 = 0x7c;
        let want: [(&str, &[u8], u8); 7] = [
            ("fib", &[I32], I32),
            ("collatz", &[I32, I32], I32),
            ("sha256_chain", &[I32, I32], I32),
            ("monte_carlo_pi", &[I32, I32], F64),
            ("mandelbrot", &[I32, I32], I32),
            ("insertion_sort", &[I32, I32], I32),
            ("mix64", &[I64, I32], I64),
        ];
        for (name, params, result) in want {
            let &(_, kind, idx) = exports
                .iter()
                .find(|e| e.0 == name)
                .unwrap_or_else(|| panic!("missing export {name}"));
            assert_eq!(kind, 0, "{name} is a function");
            // No imports, so function index = index into the function section.
            let ty = &types[func_types[idx as usize] as usize];
            assert_eq!((ty.0.as_slice(), ty.1.as_slice()), (params, &[result][..]), "{name}");
        }
    }
}
