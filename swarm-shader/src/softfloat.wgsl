// IEEE 754 binary32/binary64 arithmetic on bit patterns, integer instructions only.
//
// f32 values are u32 bit patterns, f64 values u64 bit patterns. Every operation rounds to
// nearest, ties to even, keeps subnormals and signed zeros, and follows WebAssembly:
// an operation that makes a NaN out of non-NaN inputs returns the positive canonical NaN
// (0x7fc00000 / 0x7ff8000000000000); one with NaN inputs returns the first NaN operand with
// its quiet bit set.
//
// Internal conventions. Rounding works on a significand `sig` whose leading one sits at bit 30
// (f32, 7 bits below the 24-bit significand) or bit 62 (f64, 10 bits below the 53-bit one),
// with a biased exponent `e`: the value is sig / 2^30 * 2^(e - 127), resp.
// sig / 2^62 * 2^(e - 1023). Bits shifted out to the right are "jammed" into bit 0 (sticky),
// which keeps ties and halfway cases exact. The helpers are named sf_* like the public
// functions; nothing here has bindings or module-scope variables.
//
// Division and square root take no integer division and no bit-serial loop: a 32-bit
// reciprocal (square root) estimate by Newton's method, one more Newton step in 64-bit fixed
// point for f64, a quotient (root) estimate from it, and one exact remainder check that
// corrects the estimate by one and gives the sticky bit.
//
// Nothing here loops, not even a fixed number of times: the Newton steps and corrections are
// written out, because no interpreter step may run a loop (llvmpipe's loop limiter could cut
// it; see `jobs.wgsl`).
//
// Cost, measured on an H100 (Vulkan) as throughput of dependent chains on normal operands, in
// units of one simple 32-bit integer instruction (shift or xor): f32 add 41, mul 32, div 61,
// sqrt 59; f64 add 77, mul 49, div 120, sqrt 138. A native f32 add chain measures 3.4.

struct SfTrunc32 {
    value: u32,
    trap: u32,
}

struct SfTrunc64 {
    value: u64,
    trap: u32,
}

// A finite non-zero magnitude split into a significand with its leading one at bit 23 (f32)
// or 52 (f64) and a biased exponent, below 1 for subnormals.
struct SfNorm32 {
    m: u32,
    e: i32,
}

struct SfNorm64 {
    m: u64,
    e: i32,
}

struct SfU128 {
    hi: u64,
    lo: u64,
}

// ---------------------------------------------------------------------------------------------
// Shared integer helpers.

fn sf_clz64(x: u64) -> u32 {
    let hi = u32(x >> 32u);
    if hi != 0u {
        return countLeadingZeros(hi);
    }
    return 32u + countLeadingZeros(u32(x & 0xfffffffflu));
}

// x >> n with every bit shifted out ORed into bit 0.
fn sf_shr_jam32(x: u32, n: u32) -> u32 {
    if n == 0u {
        return x;
    }
    if n >= 32u {
        return select(0u, 1u, x != 0u);
    }
    return (x >> n) | select(0u, 1u, (x << (32u - n)) != 0u);
}

fn sf_shr_jam64(x: u64, n: u32) -> u64 {
    if n == 0u {
        return x;
    }
    if n >= 64u {
        return select(0lu, 1lu, x != 0lu);
    }
    return (x >> n) | select(0lu, 1lu, (x << (64u - n)) != 0lu);
}

// The full 128-bit product a * b, from 32-bit limbs.
fn sf_mul64(a: u64, b: u64) -> SfU128 {
    let a0 = a & 0xfffffffflu;
    let a1 = a >> 32u;
    let b0 = b & 0xfffffffflu;
    let b1 = b >> 32u;
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let mid = (p00 >> 32u) + (p01 & 0xfffffffflu) + (p10 & 0xfffffffflu);
    let hi = a1 * b1 + (p01 >> 32u) + (p10 >> 32u) + (mid >> 32u);
    return SfU128(hi, (p00 & 0xfffffffflu) | (mid << 32u));
}

// An estimate of 2^62 / d for d in [2^31, 2^32), at most 2 below floor(2^62 / d) and never
// above it (checked for every d by running this arithmetic on the CPU). A linear start
// (24/17 - 8/17 * d on [1, 2), error below 1/17) and three Newton steps y' = y * (2 - d * y)
// in 32-bit fixed point.
fn sf_recip32_step(d: u32, y: u32) -> u32 {
    let e = 0x8000000000000000lu - u64(d) * u64(y);
    return u32((u64(y) * (e >> 31u)) >> 31u);
}
fn sf_recip32(d: u32) -> u32 {
    var y = 0xb4b4b4b4u - u32((u64(d) * 0xf0f0f0f0lu) >> 33u);
    y = sf_recip32_step(d, y);
    y = sf_recip32_step(d, y);
    y = sf_recip32_step(d, y);
    return y;
}

// An estimate of 2^31 / sqrt(x / 2^30) for x in [2^30, 2^32), relative error below 2^-28.5
// (checked for every x). The start reads x / 2^30 as binary32 bits and halves and negates the
// exponent with one subtraction (error below 3.5%); three Newton steps
// y' = y * (3 - x * y^2) / 2 in 32-bit fixed point follow.
fn sf_rsqrt32_step(x: u32, y: u32) -> u32 {
    let t = u32((u64(y) * u64(y)) >> 32u);
    let u = u32((u64(x) * u64(t)) >> 30u);
    return u32((u64(y) * u64(0xc0000000u - u)) >> 31u);
}
fn sf_rsqrt32(x: u32) -> u32 {
    var bits = 0x3f800000u | ((x >> 7u) & 0x007fffffu);
    if x >= 0x80000000u {
        bits = 0x40000000u | ((x >> 8u) & 0x007fffffu);
    }
    let r = 0x5f3759dfu - (bits >> 1u);
    var y = ((r & 0x007fffffu) | 0x00800000u) << ((r >> 23u) - 119u);
    y = sf_rsqrt32_step(x, y);
    y = sf_rsqrt32_step(x, y);
    y = sf_rsqrt32_step(x, y);
    return y;
}

// ---------------------------------------------------------------------------------------------
// binary32 helpers.

fn sf_f32_is_nan(a: u32) -> bool {
    return (a & 0x7fffffffu) > 0x7f800000u;
}

// The first NaN of a, b, quietened.
fn sf_f32_nan2(a: u32, b: u32) -> u32 {
    return select(b, a, sf_f32_is_nan(a)) | 0x00400000u;
}

fn sf_f32_norm(mag: u32) -> SfNorm32 {
    let e = mag >> 23u;
    if e != 0u {
        return SfNorm32((mag & 0x007fffffu) | 0x00800000u, i32(e));
    }
    let shift = countLeadingZeros(mag) - 8u;
    return SfNorm32(mag << shift, 1 - i32(shift));
}

// Rounds sig (leading one at bit 30, or any sig when e <= 1) with biased exponent e and packs
// it with `sign` (0 or 0x80000000). e <= 0 gives subnormals or zero; overflow gives infinity.
fn sf_f32_round_pack(sign: u32, e: i32, sig: u32) -> u32 {
    if e >= 255 {
        return sign | 0x7f800000u;
    }
    var exp = e;
    var s = sig;
    if exp <= 0 {
        s = sf_shr_jam32(s, u32(1 - exp));
        exp = 1;
    }
    var r = (s + 0x40u) >> 7u;
    if (s & 0x7fu) == 0x40u {
        r = r & ~1u;
    }
    // r's implicit one (bit 23) adds one to the exponent field; a carry out of the
    // significand moves into the exponent, up to infinity.
    return sign | ((u32(exp - 1) << 23u) + r);
}

fn sf_f32_from_u32(sign: u32, mag: u32) -> u32 {
    if mag == 0u {
        return 0u;
    }
    let lz = countLeadingZeros(mag);
    return sf_f32_round_pack(sign, 158 - i32(lz), sf_shr_jam32(mag << lz, 1u));
}

fn sf_f32_from_u64(sign: u32, mag: u64) -> u32 {
    if mag == 0lu {
        return 0u;
    }
    let lz = sf_clz64(mag);
    return sf_f32_round_pack(sign, 190 - i32(lz), u32(sf_shr_jam64(mag << lz, 33u)));
}

// a < b for non-NaN a and b (-0 and +0 equal).
fn sf_f32_lt_raw(a: u32, b: u32) -> bool {
    if ((a | b) & 0x7fffffffu) == 0u {
        return false;
    }
    let na = (a >> 31u) != 0u;
    let nb = (b >> 31u) != 0u;
    if na != nb {
        return na;
    }
    return select((a < b), (a > b), na);
}

// Rounds to an integral value: mode 0 nearest (ties to even), 1 floor, 2 ceil, 3 trunc.
fn sf_f32_round_int(a: u32, mode: u32) -> u32 {
    let e = (a >> 23u) & 0xffu;
    if e >= 150u {
        if sf_f32_is_nan(a) {
            return a | 0x00400000u;
        }
        return a;
    }
    let sign = a & 0x80000000u;
    let neg = sign != 0u;
    if e < 127u {
        if (a & 0x7fffffffu) == 0u {
            return a;
        }
        var one = false;
        if mode == 0u {
            one = e == 126u && (a & 0x007fffffu) != 0u;
        } else if mode == 1u {
            one = neg;
        } else if mode == 2u {
            one = !neg;
        }
        return sign | select(0u, 0x3f800000u, one);
    }
    let unit = 1u << (150u - e);
    let mask = unit - 1u;
    let frac = a & mask;
    if frac == 0u {
        return a;
    }
    let base = a & ~mask;
    var up = false;
    if mode == 0u {
        let half = unit >> 1u;
        up = frac > half || (frac == half && (a & unit) != 0u);
    } else if mode == 1u {
        up = neg;
    } else if mode == 2u {
        up = !neg;
    }
    // Adding one unit to the magnitude's bits carries into the exponent when needed.
    return select(base, base + unit, up);
}

// trunc(|x|) for non-NaN x, or 0xffffffffffffffff when |x| >= 2^64 (no finite float
// truncates to that value, so it marks "too large for any 64-bit integer").
fn sf_f32_trunc_mag(x: u32) -> u64 {
    let e = (x >> 23u) & 0xffu;
    if e < 127u {
        return 0lu;
    }
    if e >= 191u {
        return 0xfffffffffffffffflu;
    }
    let m = u64((x & 0x007fffffu) | 0x00800000u);
    if e >= 150u {
        return m << (e - 150u);
    }
    return m >> (150u - e);
}

// ---------------------------------------------------------------------------------------------
// binary64 helpers.

fn sf_f64_is_nan(a: u64) -> bool {
    return (a & 0x7ffffffffffffffflu) > 0x7ff0000000000000lu;
}

fn sf_f64_nan2(a: u64, b: u64) -> u64 {
    return select(b, a, sf_f64_is_nan(a)) | 0x0008000000000000lu;
}

fn sf_f64_norm(mag: u64) -> SfNorm64 {
    let e = u32(mag >> 52u);
    if e != 0u {
        return SfNorm64((mag & 0x000ffffffffffffflu) | 0x0010000000000000lu, i32(e));
    }
    let shift = sf_clz64(mag) - 11u;
    return SfNorm64(mag << shift, 1 - i32(shift));
}

// As sf_f32_round_pack, with sig's leading one at bit 62 and sign 0 or 1 << 63.
fn sf_f64_round_pack(sign: u64, e: i32, sig: u64) -> u64 {
    if e >= 2047 {
        return sign | 0x7ff0000000000000lu;
    }
    var exp = e;
    var s = sig;
    if exp <= 0 {
        s = sf_shr_jam64(s, u32(1 - exp));
        exp = 1;
    }
    var r = (s + 0x200lu) >> 10u;
    if (s & 0x3fflu) == 0x200lu {
        r = r & ~1lu;
    }
    return sign | ((u64(u32(exp - 1)) << 52u) + r);
}

fn sf_f64_from_u64(sign: u64, mag: u64) -> u64 {
    if mag == 0lu {
        return 0lu;
    }
    let lz = sf_clz64(mag);
    return sf_f64_round_pack(sign, 1086 - i32(lz), sf_shr_jam64(mag << lz, 1u));
}

fn sf_f64_lt_raw(a: u64, b: u64) -> bool {
    if ((a | b) & 0x7ffffffffffffffflu) == 0lu {
        return false;
    }
    let na = (a >> 63u) != 0lu;
    let nb = (b >> 63u) != 0lu;
    if na != nb {
        return na;
    }
    return select((a < b), (a > b), na);
}

fn sf_f64_round_int(a: u64, mode: u32) -> u64 {
    let e = u32(a >> 52u) & 0x7ffu;
    if e >= 1075u {
        if sf_f64_is_nan(a) {
            return a | 0x0008000000000000lu;
        }
        return a;
    }
    let sign = a & 0x8000000000000000lu;
    let neg = sign != 0lu;
    if e < 1023u {
        if (a & 0x7ffffffffffffffflu) == 0lu {
            return a;
        }
        var one = false;
        if mode == 0u {
            one = e == 1022u && (a & 0x000ffffffffffffflu) != 0lu;
        } else if mode == 1u {
            one = neg;
        } else if mode == 2u {
            one = !neg;
        }
        return sign | select(0lu, 0x3ff0000000000000lu, one);
    }
    let unit = 1lu << (1075u - e);
    let mask = unit - 1lu;
    let frac = a & mask;
    if frac == 0lu {
        return a;
    }
    let base = a & ~mask;
    var up = false;
    if mode == 0u {
        let half = unit >> 1u;
        up = frac > half || (frac == half && (a & unit) != 0lu);
    } else if mode == 1u {
        up = neg;
    } else if mode == 2u {
        up = !neg;
    }
    return select(base, base + unit, up);
}

fn sf_f64_trunc_mag(x: u64) -> u64 {
    let e = u32(x >> 52u) & 0x7ffu;
    if e < 1023u {
        return 0lu;
    }
    if e >= 1087u {
        return 0xfffffffffffffffflu;
    }
    let m = (x & 0x000ffffffffffffflu) | 0x0010000000000000lu;
    if e >= 1075u {
        return m << (e - 1075u);
    }
    return m >> (1075u - e);
}

// ---------------------------------------------------------------------------------------------
// binary32 arithmetic.

fn sf_f32_add(a: u32, b: u32) -> u32 {
    let aa = a & 0x7fffffffu;
    let ab = b & 0x7fffffffu;
    if aa > 0x7f800000u || ab > 0x7f800000u {
        return sf_f32_nan2(a, b);
    }
    if aa == 0x7f800000u {
        if ab == 0x7f800000u && a != b {
            return 0x7fc00000u;
        }
        return a;
    }
    if ab == 0x7f800000u {
        return b;
    }
    if aa == 0u {
        if ab == 0u {
            return a & b;
        }
        return b;
    }
    if ab == 0u {
        return a;
    }
    var big = a;
    var small = b;
    if ab > aa {
        big = b;
        small = a;
    }
    let eb = (big >> 23u) & 0xffu;
    let es = (small >> 23u) & 0xffu;
    var mb = (big & 0x007fffffu) << 7u;
    var ms = (small & 0x007fffffu) << 7u;
    if eb != 0u {
        mb = mb | 0x40000000u;
    }
    if es != 0u {
        ms = ms | 0x40000000u;
    }
    let ebig = max(eb, 1u);
    ms = sf_shr_jam32(ms, ebig - max(es, 1u));
    let sign = big & 0x80000000u;
    var e = i32(ebig);
    if ((a ^ b) & 0x80000000u) == 0u {
        var m = mb + ms;
        if m >= 0x80000000u {
            m = sf_shr_jam32(m, 1u);
            e = e + 1;
        }
        return sf_f32_round_pack(sign, e, m);
    }
    var m = mb - ms;
    if m == 0u {
        return 0u;
    }
    let shift = countLeadingZeros(m) - 1u;
    m = m << shift;
    e = e - i32(shift);
    return sf_f32_round_pack(sign, e, m);
}

fn sf_f32_sub(a: u32, b: u32) -> u32 {
    if sf_f32_is_nan(a) || sf_f32_is_nan(b) {
        return sf_f32_nan2(a, b);
    }
    return sf_f32_add(a, b ^ 0x80000000u);
}

fn sf_f32_mul(a: u32, b: u32) -> u32 {
    let aa = a & 0x7fffffffu;
    let ab = b & 0x7fffffffu;
    if aa > 0x7f800000u || ab > 0x7f800000u {
        return sf_f32_nan2(a, b);
    }
    let sign = (a ^ b) & 0x80000000u;
    if aa == 0x7f800000u || ab == 0x7f800000u {
        if aa == 0u || ab == 0u {
            return 0x7fc00000u;
        }
        return sign | 0x7f800000u;
    }
    if aa == 0u || ab == 0u {
        return sign;
    }
    let x = sf_f32_norm(aa);
    let y = sf_f32_norm(ab);
    // The product of two significands in [2^23, 2^24) lies in [2^46, 2^48).
    var sig = u32(sf_shr_jam64(u64(x.m) * u64(y.m), 16u));
    var e = x.e + y.e - 127;
    if sig >= 0x80000000u {
        sig = sf_shr_jam32(sig, 1u);
        e = e + 1;
    }
    return sf_f32_round_pack(sign, e, sig);
}

fn sf_f32_div(a: u32, b: u32) -> u32 {
    let aa = a & 0x7fffffffu;
    let ab = b & 0x7fffffffu;
    if aa > 0x7f800000u || ab > 0x7f800000u {
        return sf_f32_nan2(a, b);
    }
    let sign = (a ^ b) & 0x80000000u;
    if aa == 0x7f800000u {
        if ab == 0x7f800000u {
            return 0x7fc00000u;
        }
        return sign | 0x7f800000u;
    }
    if ab == 0x7f800000u {
        return sign;
    }
    if ab == 0u {
        if aa == 0u {
            return 0x7fc00000u;
        }
        return sign | 0x7f800000u;
    }
    if aa == 0u {
        return sign;
    }
    let x = sf_f32_norm(aa);
    let y = sf_f32_norm(ab);
    var e = x.e - y.e + 127;
    var n = x.m;
    let d = y.m;
    if n < d {
        n = n << 1u;
        e = e - 1;
    }
    // n / d in [1, 2). The quotient floor(n * 2^25 / d), in [2^25, 2^26), from the reciprocal
    // is exact or one below; the remainder (true value below 2d, so 32-bit wrapping
    // arithmetic is exact) settles it and gives the sticky bit.
    var q = u32((u64(n) * u64(sf_recip32(d << 8u))) >> 29u);
    var r = (n << 25u) - q * d;
    if r >= d {
        q = q + 1u;
        r = r - d;
    }
    return sf_f32_round_pack(sign, e, (q << 5u) | select(0u, 1u, r != 0u));
}

fn sf_f32_sqrt(a: u32) -> u32 {
    let aa = a & 0x7fffffffu;
    if aa > 0x7f800000u {
        return a | 0x00400000u;
    }
    if aa == 0u {
        return a;
    }
    if a != aa {
        return 0x7fc00000u;
    }
    if aa == 0x7f800000u {
        return a;
    }
    let x = sf_f32_norm(aa);
    var ex = x.e - 127;
    var m = x.m;
    if (ex & 1) != 0 {
        m = m << 1u;
        ex = ex - 1;
    }
    // m in [2^23, 2^25). The root floor(sqrt(m * 2^25)), in [2^24, 2^25), as m * rsqrt(m) is
    // within one (checked for every m); the remainder m * 2^25 - s^2 (true value below 2^27 in
    // magnitude, so 32-bit wrapping arithmetic is exact) settles it and gives the sticky bit.
    var s = u32((u64(m) * u64(sf_rsqrt32(m << 7u))) >> 30u);
    var r = (m << 25u) - s * s;
    if (r >> 31u) != 0u {
        s = s - 1u;
        r = r + 2u * s + 1u;
    } else if r > 2u * s {
        r = r - 2u * s - 1u;
        s = s + 1u;
    }
    return sf_f32_round_pack(0u, (ex >> 1u) + 127, (s << 6u) | select(0u, 1u, r != 0u));
}

fn sf_f32_min(a: u32, b: u32) -> u32 {
    if sf_f32_is_nan(a) || sf_f32_is_nan(b) {
        return sf_f32_nan2(a, b);
    }
    if ((a | b) & 0x7fffffffu) == 0u {
        return a | b;
    }
    return select(b, a, sf_f32_lt_raw(a, b));
}

fn sf_f32_max(a: u32, b: u32) -> u32 {
    if sf_f32_is_nan(a) || sf_f32_is_nan(b) {
        return sf_f32_nan2(a, b);
    }
    if ((a | b) & 0x7fffffffu) == 0u {
        return a & b;
    }
    return select(b, a, sf_f32_lt_raw(b, a));
}

fn sf_f32_nearest(a: u32) -> u32 {
    return sf_f32_round_int(a, 0u);
}

fn sf_f32_floor(a: u32) -> u32 {
    return sf_f32_round_int(a, 1u);
}

fn sf_f32_ceil(a: u32) -> u32 {
    return sf_f32_round_int(a, 2u);
}

fn sf_f32_trunc(a: u32) -> u32 {
    return sf_f32_round_int(a, 3u);
}

fn sf_f32_eq(a: u32, b: u32) -> u32 {
    if sf_f32_is_nan(a) || sf_f32_is_nan(b) {
        return 0u;
    }
    return select(0u, 1u, a == b || ((a | b) & 0x7fffffffu) == 0u);
}

fn sf_f32_ne(a: u32, b: u32) -> u32 {
    return 1u - sf_f32_eq(a, b);
}

fn sf_f32_lt(a: u32, b: u32) -> u32 {
    if sf_f32_is_nan(a) || sf_f32_is_nan(b) {
        return 0u;
    }
    return select(0u, 1u, sf_f32_lt_raw(a, b));
}

fn sf_f32_gt(a: u32, b: u32) -> u32 {
    return sf_f32_lt(b, a);
}

fn sf_f32_le(a: u32, b: u32) -> u32 {
    if sf_f32_is_nan(a) || sf_f32_is_nan(b) {
        return 0u;
    }
    return select(1u, 0u, sf_f32_lt_raw(b, a));
}

fn sf_f32_ge(a: u32, b: u32) -> u32 {
    return sf_f32_le(b, a);
}

// ---------------------------------------------------------------------------------------------
// binary64 arithmetic.

fn sf_f64_add(a: u64, b: u64) -> u64 {
    let aa = a & 0x7ffffffffffffffflu;
    let ab = b & 0x7ffffffffffffffflu;
    if aa > 0x7ff0000000000000lu || ab > 0x7ff0000000000000lu {
        return sf_f64_nan2(a, b);
    }
    if aa == 0x7ff0000000000000lu {
        if ab == 0x7ff0000000000000lu && a != b {
            return 0x7ff8000000000000lu;
        }
        return a;
    }
    if ab == 0x7ff0000000000000lu {
        return b;
    }
    if aa == 0lu {
        if ab == 0lu {
            return a & b;
        }
        return b;
    }
    if ab == 0lu {
        return a;
    }
    var big = a;
    var small = b;
    if ab > aa {
        big = b;
        small = a;
    }
    let eb = u32(big >> 52u) & 0x7ffu;
    let es = u32(small >> 52u) & 0x7ffu;
    var mb = (big & 0x000ffffffffffffflu) << 10u;
    var ms = (small & 0x000ffffffffffffflu) << 10u;
    if eb != 0u {
        mb = mb | 0x4000000000000000lu;
    }
    if es != 0u {
        ms = ms | 0x4000000000000000lu;
    }
    let ebig = max(eb, 1u);
    ms = sf_shr_jam64(ms, ebig - max(es, 1u));
    let sign = big & 0x8000000000000000lu;
    var e = i32(ebig);
    if ((a ^ b) >> 63u) == 0lu {
        var m = mb + ms;
        if m >= 0x8000000000000000lu {
            m = sf_shr_jam64(m, 1u);
            e = e + 1;
        }
        return sf_f64_round_pack(sign, e, m);
    }
    var m = mb - ms;
    if m == 0lu {
        return 0lu;
    }
    let shift = sf_clz64(m) - 1u;
    m = m << shift;
    e = e - i32(shift);
    return sf_f64_round_pack(sign, e, m);
}

fn sf_f64_sub(a: u64, b: u64) -> u64 {
    if sf_f64_is_nan(a) || sf_f64_is_nan(b) {
        return sf_f64_nan2(a, b);
    }
    return sf_f64_add(a, b ^ 0x8000000000000000lu);
}

fn sf_f64_mul(a: u64, b: u64) -> u64 {
    let aa = a & 0x7ffffffffffffffflu;
    let ab = b & 0x7ffffffffffffffflu;
    if aa > 0x7ff0000000000000lu || ab > 0x7ff0000000000000lu {
        return sf_f64_nan2(a, b);
    }
    let sign = (a ^ b) & 0x8000000000000000lu;
    if aa == 0x7ff0000000000000lu || ab == 0x7ff0000000000000lu {
        if aa == 0lu || ab == 0lu {
            return 0x7ff8000000000000lu;
        }
        return sign | 0x7ff0000000000000lu;
    }
    if aa == 0lu || ab == 0lu {
        return sign;
    }
    let x = sf_f64_norm(aa);
    let y = sf_f64_norm(ab);
    // Both significands moved up to bit 63: the high half of the product has its leading one
    // at bit 62 or 63.
    let p = sf_mul64(x.m << 11u, y.m << 11u);
    var sig = p.hi | select(0lu, 1lu, p.lo != 0lu);
    var e = x.e + y.e - 1023;
    if sig >= 0x8000000000000000lu {
        sig = sf_shr_jam64(sig, 1u);
        e = e + 1;
    }
    return sf_f64_round_pack(sign, e, sig);
}

fn sf_f64_div(a: u64, b: u64) -> u64 {
    let aa = a & 0x7ffffffffffffffflu;
    let ab = b & 0x7ffffffffffffffflu;
    if aa > 0x7ff0000000000000lu || ab > 0x7ff0000000000000lu {
        return sf_f64_nan2(a, b);
    }
    let sign = (a ^ b) & 0x8000000000000000lu;
    if aa == 0x7ff0000000000000lu {
        if ab == 0x7ff0000000000000lu {
            return 0x7ff8000000000000lu;
        }
        return sign | 0x7ff0000000000000lu;
    }
    if ab == 0x7ff0000000000000lu {
        return sign;
    }
    if ab == 0lu {
        if aa == 0lu {
            return 0x7ff8000000000000lu;
        }
        return sign | 0x7ff0000000000000lu;
    }
    if aa == 0lu {
        return sign;
    }
    let x = sf_f64_norm(aa);
    let y = sf_f64_norm(ab);
    var e = x.e - y.e + 1023;
    var n = x.m;
    let d = y.m;
    if n < d {
        n = n << 1u;
        e = e - 1;
    }
    // n / d in [1, 2). A reciprocal r1 ~ 2^115 / d: the 32-bit estimate from the top of d,
    // then one Newton step r1 = r0 * (2 - d * r0) in 64-bit fixed point with 128-bit
    // products. The quotient floor(n * 2^55 / d), in [2^55, 2^56), from it is within one (seen
    // on 10^8 random and edge-pattern operands; two steps each way are allowed); the
    // remainder (true value within (-2d, 2d), so 64-bit wrapping arithmetic is exact) settles
    // it and gives the sticky bit.
    let r0 = u64(sf_recip32(u32(d >> 21u))) << 32u;
    let p = sf_mul64(d, r0);
    let two_minus = 0x8000000000000000lu - ((p.hi << 11u) | (p.lo >> 53u));
    let p1 = sf_mul64(r0, two_minus);
    let r1 = (p1.hi << 2u) | (p1.lo >> 62u);
    let pq = sf_mul64(n, r1);
    var q = (pq.hi << 4u) | (pq.lo >> 60u);
    var r = (n << 55u) - q * d;
    if (r >> 63u) != 0lu {
        q = q - 1lu;
        r = r + d;
    }
    if (r >> 63u) != 0lu {
        q = q - 1lu;
        r = r + d;
    }
    if (r >> 63u) == 0lu && r >= d {
        q = q + 1lu;
        r = r - d;
    }
    if (r >> 63u) == 0lu && r >= d {
        q = q + 1lu;
        r = r - d;
    }
    return sf_f64_round_pack(sign, e, (q << 7u) | select(0lu, 1lu, r != 0lu));
}

fn sf_f64_sqrt(a: u64) -> u64 {
    let aa = a & 0x7ffffffffffffffflu;
    if aa > 0x7ff0000000000000lu {
        return a | 0x0008000000000000lu;
    }
    if aa == 0lu {
        return a;
    }
    if a != aa {
        return 0x7ff8000000000000lu;
    }
    if aa == 0x7ff0000000000000lu {
        return a;
    }
    let x = sf_f64_norm(aa);
    var ex = x.e - 1023;
    var m = x.m;
    if (ex & 1) != 0 {
        m = m << 1u;
        ex = ex - 1;
    }
    // m in [2^52, 2^54). The 32-bit reciprocal square root of the top of m, one Newton step
    // y1 = y * (3 - x * y^2) / 2 in 64-bit fixed point (x = m / 2^52, y1 ~ 2^62 / sqrt(x)),
    // then the root floor(sqrt(m * 2^54)), in [2^53, 2^54), as m * y1 is within one (seen on
    // 10^8 random and edge-pattern operands; two steps each way are allowed); the
    // remainder m * 2^54 - s^2 (small, so 64-bit wrapping arithmetic is exact) settles it and
    // gives the sticky bit.
    let y = u64(sf_rsqrt32(u32(m >> 22u))) << 31u;
    let yy = sf_mul64(y, y);
    let xyy = sf_mul64(m << 10u, (yy.hi << 2u) | (yy.lo >> 62u));
    let three_minus = 0xc000000000000000lu - ((xyy.hi << 2u) | (xyy.lo >> 62u));
    let p1 = sf_mul64(y, three_minus);
    let y1 = (p1.hi << 1u) | (p1.lo >> 63u);
    let ps = sf_mul64(m, y1);
    var s = (ps.hi << 3u) | (ps.lo >> 61u);
    var r = (m << 54u) - s * s;
    if (r >> 63u) != 0lu {
        s = s - 1lu;
        r = r + 2lu * s + 1lu;
    }
    if (r >> 63u) != 0lu {
        s = s - 1lu;
        r = r + 2lu * s + 1lu;
    }
    if (r >> 63u) == 0lu && r > 2lu * s {
        r = r - 2lu * s - 1lu;
        s = s + 1lu;
    }
    if (r >> 63u) == 0lu && r > 2lu * s {
        r = r - 2lu * s - 1lu;
        s = s + 1lu;
    }
    return sf_f64_round_pack(0lu, (ex >> 1u) + 1023, (s << 9u) | select(0lu, 1lu, r != 0lu));
}

fn sf_f64_min(a: u64, b: u64) -> u64 {
    if sf_f64_is_nan(a) || sf_f64_is_nan(b) {
        return sf_f64_nan2(a, b);
    }
    if ((a | b) & 0x7ffffffffffffffflu) == 0lu {
        return a | b;
    }
    return select(b, a, sf_f64_lt_raw(a, b));
}

fn sf_f64_max(a: u64, b: u64) -> u64 {
    if sf_f64_is_nan(a) || sf_f64_is_nan(b) {
        return sf_f64_nan2(a, b);
    }
    if ((a | b) & 0x7ffffffffffffffflu) == 0lu {
        return a & b;
    }
    return select(b, a, sf_f64_lt_raw(b, a));
}

fn sf_f64_nearest(a: u64) -> u64 {
    return sf_f64_round_int(a, 0u);
}

fn sf_f64_floor(a: u64) -> u64 {
    return sf_f64_round_int(a, 1u);
}

fn sf_f64_ceil(a: u64) -> u64 {
    return sf_f64_round_int(a, 2u);
}

fn sf_f64_trunc(a: u64) -> u64 {
    return sf_f64_round_int(a, 3u);
}

fn sf_f64_eq(a: u64, b: u64) -> u32 {
    if sf_f64_is_nan(a) || sf_f64_is_nan(b) {
        return 0u;
    }
    return select(0u, 1u, a == b || ((a | b) & 0x7ffffffffffffffflu) == 0lu);
}

fn sf_f64_ne(a: u64, b: u64) -> u32 {
    return 1u - sf_f64_eq(a, b);
}

fn sf_f64_lt(a: u64, b: u64) -> u32 {
    if sf_f64_is_nan(a) || sf_f64_is_nan(b) {
        return 0u;
    }
    return select(0u, 1u, sf_f64_lt_raw(a, b));
}

fn sf_f64_gt(a: u64, b: u64) -> u32 {
    return sf_f64_lt(b, a);
}

fn sf_f64_le(a: u64, b: u64) -> u32 {
    if sf_f64_is_nan(a) || sf_f64_is_nan(b) {
        return 0u;
    }
    return select(1u, 0u, sf_f64_lt_raw(b, a));
}

fn sf_f64_ge(a: u64, b: u64) -> u32 {
    return sf_f64_le(b, a);
}

// ---------------------------------------------------------------------------------------------
// Conversions between integers and floats, and between the two float formats.

fn sf_f32_convert_i32_s(x: u32) -> u32 {
    let sign = x & 0x80000000u;
    return sf_f32_from_u32(sign, select(x, 0u - x, sign != 0u));
}

fn sf_f32_convert_i32_u(x: u32) -> u32 {
    return sf_f32_from_u32(0u, x);
}

fn sf_f32_convert_i64_s(x: u64) -> u32 {
    let neg = (x >> 63u) != 0lu;
    return sf_f32_from_u64(select(0u, 0x80000000u, neg), select(x, 0lu - x, neg));
}

fn sf_f32_convert_i64_u(x: u64) -> u32 {
    return sf_f32_from_u64(0u, x);
}

fn sf_f64_convert_i32_s(x: u32) -> u64 {
    let neg = (x >> 31u) != 0u;
    return sf_f64_from_u64(select(0lu, 0x8000000000000000lu, neg), u64(select(x, 0u - x, neg)));
}

fn sf_f64_convert_i32_u(x: u32) -> u64 {
    return sf_f64_from_u64(0lu, u64(x));
}

fn sf_f64_convert_i64_s(x: u64) -> u64 {
    let sign = x & 0x8000000000000000lu;
    return sf_f64_from_u64(sign, select(x, 0lu - x, sign != 0lu));
}

fn sf_f64_convert_i64_u(x: u64) -> u64 {
    return sf_f64_from_u64(0lu, x);
}

fn sf_f32_demote_f64(x: u64) -> u32 {
    let sign = u32(x >> 32u) & 0x80000000u;
    let mag = x & 0x7ffffffffffffffflu;
    if mag >= 0x7ff0000000000000lu {
        if mag == 0x7ff0000000000000lu {
            return sign | 0x7f800000u;
        }
        // The top 22 payload bits, the quiet bit set.
        return sign | 0x7fc00000u | (u32(mag >> 29u) & 0x003fffffu);
    }
    if mag == 0lu {
        return sign;
    }
    let e = u32(mag >> 52u);
    var m = mag & 0x000ffffffffffffflu;
    if e != 0u {
        m = m | 0x0010000000000000lu;
    }
    // m's leading one at bit 52 (lower for subnormals, which underflow to zero anyway).
    return sf_f32_round_pack(sign, i32(max(e, 1u)) - 896, u32(sf_shr_jam64(m, 22u)));
}

fn sf_f64_promote_f32(x: u32) -> u64 {
    let sign = u64(x & 0x80000000u) << 32u;
    let mag = x & 0x7fffffffu;
    if mag >= 0x7f800000u {
        if mag == 0x7f800000u {
            return sign | 0x7ff0000000000000lu;
        }
        return sign | 0x7ff8000000000000lu | (u64(mag & 0x007fffffu) << 29u);
    }
    if mag == 0u {
        return sign;
    }
    let n = sf_f32_norm(mag);
    return sign | (u64(u32(n.e + 896)) << 52u) | (u64(n.m & 0x007fffffu) << 29u);
}

// ---------------------------------------------------------------------------------------------
// Float to integer truncation. Trapping forms report 7 (integer overflow) or 8 (invalid
// conversion, NaN) with value 0; saturating forms clamp and send NaN to 0. Both work from the
// sign and the truncated magnitude (sf_*_trunc_mag).

fn sf_trunc_i32_s(nan: bool, neg: bool, mag: u64) -> SfTrunc32 {
    if nan {
        return SfTrunc32(0u, 8u);
    }
    if mag > select(0x7ffffffflu, 0x80000000lu, neg) {
        return SfTrunc32(0u, 7u);
    }
    let v = u32(mag);
    return SfTrunc32(select(v, 0u - v, neg), 0u);
}

fn sf_trunc_i32_u(nan: bool, neg: bool, mag: u64) -> SfTrunc32 {
    if nan {
        return SfTrunc32(0u, 8u);
    }
    if mag > select(0xfffffffflu, 0lu, neg) {
        return SfTrunc32(0u, 7u);
    }
    return SfTrunc32(u32(mag), 0u);
}

fn sf_trunc_i64_s(nan: bool, neg: bool, mag: u64) -> SfTrunc64 {
    if nan {
        return SfTrunc64(0lu, 8u);
    }
    if mag > select(0x7ffffffffffffffflu, 0x8000000000000000lu, neg) {
        return SfTrunc64(0lu, 7u);
    }
    return SfTrunc64(select(mag, 0lu - mag, neg), 0u);
}

fn sf_trunc_i64_u(nan: bool, neg: bool, mag: u64) -> SfTrunc64 {
    if nan {
        return SfTrunc64(0lu, 8u);
    }
    if mag > select(0xfffffffffffffffelu, 0lu, neg) {
        return SfTrunc64(0lu, 7u);
    }
    return SfTrunc64(mag, 0u);
}

fn sf_i32_trunc_f32_s(x: u32) -> SfTrunc32 {
    return sf_trunc_i32_s(sf_f32_is_nan(x), (x >> 31u) != 0u, sf_f32_trunc_mag(x));
}

fn sf_i32_trunc_f32_u(x: u32) -> SfTrunc32 {
    return sf_trunc_i32_u(sf_f32_is_nan(x), (x >> 31u) != 0u, sf_f32_trunc_mag(x));
}

fn sf_i32_trunc_f64_s(x: u64) -> SfTrunc32 {
    return sf_trunc_i32_s(sf_f64_is_nan(x), (x >> 63u) != 0lu, sf_f64_trunc_mag(x));
}

fn sf_i32_trunc_f64_u(x: u64) -> SfTrunc32 {
    return sf_trunc_i32_u(sf_f64_is_nan(x), (x >> 63u) != 0lu, sf_f64_trunc_mag(x));
}

fn sf_i64_trunc_f32_s(x: u32) -> SfTrunc64 {
    return sf_trunc_i64_s(sf_f32_is_nan(x), (x >> 31u) != 0u, sf_f32_trunc_mag(x));
}

fn sf_i64_trunc_f32_u(x: u32) -> SfTrunc64 {
    return sf_trunc_i64_u(sf_f32_is_nan(x), (x >> 31u) != 0u, sf_f32_trunc_mag(x));
}

fn sf_i64_trunc_f64_s(x: u64) -> SfTrunc64 {
    return sf_trunc_i64_s(sf_f64_is_nan(x), (x >> 63u) != 0lu, sf_f64_trunc_mag(x));
}

fn sf_i64_trunc_f64_u(x: u64) -> SfTrunc64 {
    return sf_trunc_i64_u(sf_f64_is_nan(x), (x >> 63u) != 0lu, sf_f64_trunc_mag(x));
}

fn sf_sat_i32_s(nan: bool, neg: bool, mag: u64) -> u32 {
    if nan {
        return 0u;
    }
    if neg {
        return 0u - u32(min(mag, 0x80000000lu));
    }
    return u32(min(mag, 0x7ffffffflu));
}

fn sf_sat_i32_u(nan: bool, neg: bool, mag: u64) -> u32 {
    if nan || neg {
        return 0u;
    }
    return u32(min(mag, 0xfffffffflu));
}

fn sf_sat_i64_s(nan: bool, neg: bool, mag: u64) -> u64 {
    if nan {
        return 0lu;
    }
    if neg {
        return 0lu - min(mag, 0x8000000000000000lu);
    }
    return min(mag, 0x7ffffffffffffffflu);
}

fn sf_sat_i64_u(nan: bool, neg: bool, mag: u64) -> u64 {
    if nan || neg {
        return 0lu;
    }
    return mag;
}

fn sf_i32_trunc_sat_f32_s(x: u32) -> u32 {
    return sf_sat_i32_s(sf_f32_is_nan(x), (x >> 31u) != 0u, sf_f32_trunc_mag(x));
}

fn sf_i32_trunc_sat_f32_u(x: u32) -> u32 {
    return sf_sat_i32_u(sf_f32_is_nan(x), (x >> 31u) != 0u, sf_f32_trunc_mag(x));
}

fn sf_i32_trunc_sat_f64_s(x: u64) -> u32 {
    return sf_sat_i32_s(sf_f64_is_nan(x), (x >> 63u) != 0lu, sf_f64_trunc_mag(x));
}

fn sf_i32_trunc_sat_f64_u(x: u64) -> u32 {
    return sf_sat_i32_u(sf_f64_is_nan(x), (x >> 63u) != 0lu, sf_f64_trunc_mag(x));
}

fn sf_i64_trunc_sat_f32_s(x: u32) -> u64 {
    return sf_sat_i64_s(sf_f32_is_nan(x), (x >> 31u) != 0u, sf_f32_trunc_mag(x));
}

fn sf_i64_trunc_sat_f32_u(x: u32) -> u64 {
    return sf_sat_i64_u(sf_f32_is_nan(x), (x >> 31u) != 0u, sf_f32_trunc_mag(x));
}

fn sf_i64_trunc_sat_f64_s(x: u64) -> u64 {
    return sf_sat_i64_s(sf_f64_is_nan(x), (x >> 63u) != 0lu, sf_f64_trunc_mag(x));
}

fn sf_i64_trunc_sat_f64_u(x: u64) -> u64 {
    return sf_sat_i64_u(sf_f64_is_nan(x), (x >> 63u) != 0lu, sf_f64_trunc_mag(x));
}
