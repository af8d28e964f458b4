//! Property tests of `num`: every operator against an independent reference
//! written here from the WebAssembly 2.0 spec's definitions, using wide
//! (`i128`/`u128`) integer arithmetic and bit-level float decoding rather
//! than the Rust float operations the implementation relies on.

use proptest::prelude::*;
use proptest::test_runner::Config;
use wasmi_py_core::num::*;

use TrapCode::{
    BadConversionToInteger as NAN_TRAP, IntegerDivisionByZero as DIV0, IntegerOverflow as OVF,
};

/// Cases per property. Each case is a handful of nanoseconds of work, so this
/// is cheap even in a debug build.
const CASES: u32 = 10_000;

fn config() -> Config {
    Config {
        cases: CASES,
        // Never write regression files into the source tree.
        failure_persistence: None,
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

fn i32s() -> impl Strategy<Value = i32> {
    prop_oneof![
        4 => any::<i32>(),
        2 => -70i32..70,
        1 => prop::sample::select(vec![i32::MIN, i32::MIN + 1, i32::MAX, i32::MAX - 1, -1, 0, 1, 2, -2]),
    ]
}

fn i64s() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => any::<i64>(),
        1 => any::<i32>().prop_map(i64::from),
        2 => -140i64..140,
        1 => prop::sample::select(vec![i64::MIN, i64::MIN + 1, i64::MAX, i64::MAX - 1, -1, 0, 1, 2, -2]),
    ]
}

/// Integers whose conversion to a float with `mbits` fraction bits lands on or
/// next to a rounding tie: the bits below the kept precision are `100…0`,
/// `100…01` or `011…1`.
fn near_tie_u64(mbits: u32) -> impl Strategy<Value = u64> {
    (mbits + 1..64u32, any::<u64>(), 0u8..3).prop_map(move |(p, r, kind)| {
        let drop = p - mbits; // bits below the last kept one
        let top = (r | 1 << 63) >> (63 - p); // msb at bit p
        let kept = top & !((1u64 << drop) - 1);
        let half = 1u64 << (drop - 1);
        let low = match kind {
            0 => half,
            1 => half | 1,
            _ => half - 1,
        };
        kept | low
    })
}

fn step_f32(mut x: f32, k: i32) -> f32 {
    for _ in 0..k.unsigned_abs() {
        x = if k > 0 { x.next_up() } else { x.next_down() };
    }
    x
}

fn step_f64(mut x: f64, k: i32) -> f64 {
    for _ in 0..k.unsigned_abs() {
        x = if k > 0 { x.next_up() } else { x.next_down() };
    }
    x
}

const P31: f64 = 2147483648.0;
const P32: f64 = 4294967296.0;
const P63: f64 = 9223372036854775808.0;
const P64: f64 = 18446744073709551616.0;

/// Every integer-conversion range boundary (exact as both f32 and f64).
const BOUNDS: [f64; 15] = [
    -P64,
    -P63,
    -P32,
    -P31,
    -1.0,
    -0.5,
    0.0,
    0.5,
    1.0,
    P31,
    P32,
    P63,
    P64,
    // Only meaningful in f64 (they round to ±2^31/2^32 as f32, harmless).
    -P31 - 1.0,
    P32 - 1.0,
];

fn f32_specials() -> Vec<f32> {
    vec![
        0.0,
        -0.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        -f32::NAN,
        f32::from_bits(0x7f80_0001), // signalling
        f32::from_bits(0xffa0_0000), // signalling, negative
        f32::from_bits(0x7fc1_2345), // quiet, payload
        f32::MIN_POSITIVE,
        -f32::MIN_POSITIVE,
        f32::from_bits(1),
        f32::from_bits(0x8000_0001),
        f32::MAX,
        f32::MIN,
        0.5,
        -0.5,
        1.5,
        -1.5,
        2.5,
        -2.5,
        0.49999997,
        -0.49999997,
        8388607.5,
        -8388607.5,
        8388608.0,
        16777216.0,
    ]
}

fn f64_specials() -> Vec<f64> {
    vec![
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -f64::NAN,
        f64::from_bits(0x7ff0_0000_0000_0001),
        f64::from_bits(0xfff4_0000_0000_0000),
        f64::from_bits(0x7ff8_0123_4567_89ab),
        f64::MIN_POSITIVE,
        -f64::MIN_POSITIVE,
        f64::from_bits(1),
        f64::from_bits(0x8000_0000_0000_0001),
        f64::MAX,
        f64::MIN,
        0.5,
        -0.5,
        1.5,
        -1.5,
        2.5,
        -2.5,
        0.49999999999999994,
        -0.49999999999999994,
        4503599627370495.5,
        -4503599627370495.5,
        4503599627370496.0,
        9007199254740992.0,
        f64::from(f32::MAX),
        f64::from(f32::MAX) + f64::from(f32::MAX.next_down() - f32::MAX) / -2.0,
        f64::from(f32::MIN_POSITIVE),
        f64::from(f32::from_bits(1)) / 2.0,
    ]
}

fn f32s() -> impl Strategy<Value = f32> {
    prop_oneof![
        4 => any::<u32>().prop_map(f32::from_bits),
        2 => prop::sample::select(f32_specials()),
        3 => (prop::sample::select(BOUNDS.to_vec()), -24i32..=24)
            .prop_map(|(b, k)| step_f32(b as f32, k)),
        1 => -1.0e20f32..1.0e20,
        2 => -5.0f32..5.0,
        // Integers and exact halves up to 2^23 (ties for nearest).
        2 => (-(1i32 << 24)..(1 << 24)).prop_map(|n| n as f32 * 0.5),
    ]
}

fn f64s() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => any::<u64>().prop_map(f64::from_bits),
        2 => prop::sample::select(f64_specials()),
        3 => (prop::sample::select(BOUNDS.to_vec()), -24i32..=24)
            .prop_map(|(b, k)| step_f64(b, k)),
        1 => -1.0e20f64..1.0e20,
        2 => -5.0f64..5.0,
        2 => (-(1i64 << 53)..(1 << 53)).prop_map(|n| n as f64 * 0.5),
        1 => any::<u32>().prop_map(|b| f64::from(f32::from_bits(b))),
    ]
}

// ---------------------------------------------------------------------------
// Independent references
// ---------------------------------------------------------------------------

/// A finite float decoded exactly: `(negative, m, e)` with value `±m·2^e`.
fn decode(bits: u64, mbits: u32, ebits: u32) -> Option<(bool, u128, i32)> {
    let sign = bits >> (mbits + ebits) & 1 == 1;
    let exp_field = ((bits >> mbits) & ((1 << ebits) - 1)) as i32;
    let frac = u128::from(bits & ((1 << mbits) - 1));
    let bias = (1 << (ebits - 1)) - 1;
    if exp_field == (1 << ebits) - 1 {
        None // infinity or NaN
    } else if exp_field == 0 {
        Some((sign, frac, 1 - bias - mbits as i32))
    } else {
        Some((sign, frac | 1 << mbits, exp_field - bias - mbits as i32))
    }
}

fn decode32(x: f32) -> Option<(bool, u128, i32)> {
    decode(u64::from(x.to_bits()), 23, 8)
}

fn decode64(x: f64) -> Option<(bool, u128, i32)> {
    decode(x.to_bits(), 52, 11)
}

/// Round `m·2^e` (`m >= 0`) to nearest, ties to even, in the binary format
/// with `mbits` fraction bits and `ebits` exponent bits (subnormals and
/// overflow to infinity included); returns the positive bit pattern.
fn round_to_format(m: u128, e: i32, mbits: u32, ebits: u32) -> u64 {
    if m == 0 {
        return 0;
    }
    let bias = (1i32 << (ebits - 1)) - 1;
    let emin = 1 - bias;
    let msb = 127 - m.leading_zeros() as i32;
    // Exponent of the unit in the last place of the result.
    let quantum = (msb + e - mbits as i32).max(emin - mbits as i32);
    let shift = quantum - e;
    let mut n: u128 = if shift <= 0 {
        m << -shift
    } else if shift >= 128 {
        0 // m < 2^127 ≤ half a quantum
    } else {
        let q = m >> shift;
        let r = m & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        if r > half || (r == half && q & 1 == 1) {
            q + 1
        } else {
            q
        }
    };
    let mut quantum = quantum;
    if n == 1 << (mbits + 1) {
        n >>= 1;
        quantum += 1;
    }
    if n < 1 << mbits {
        return n as u64; // subnormal or zero: exponent field 0
    }
    let biased = quantum + mbits as i32 + bias;
    if biased >= (1 << ebits) - 1 {
        return ((1u64 << ebits) - 1) << mbits; // infinity
    }
    ((biased as u64) << mbits) | (n as u64 & ((1 << mbits) - 1))
}

fn ref_int_to_f32(v: i128) -> u32 {
    let sign = if v < 0 { 0x8000_0000 } else { 0 };
    sign | round_to_format(v.unsigned_abs(), 0, 23, 8) as u32
}

fn ref_int_to_f64(v: i128) -> u64 {
    let sign = if v < 0 { 1 << 63 } else { 0 };
    sign | round_to_format(v.unsigned_abs(), 0, 52, 11)
}

/// The integer `trunc(±m·2^e)`, or `None` when it does not fit in an i128.
fn trunc_value(neg: bool, m: u128, e: i32) -> Option<i128> {
    let mag = if e >= 0 {
        if e >= 100 || (m << e) >> e != m {
            return None;
        }
        m << e
    } else if e <= -128 {
        0
    } else {
        m >> -e
    };
    let mag = i128::try_from(mag).ok()?;
    Some(if neg { -mag } else { mag })
}

/// Spec `trunc_{M,N}^{s|u}`: NaN → invalid conversion; else truncate toward
/// zero and trap with overflow unless the integer is in `[lo, hi]`.
fn ref_trunc(
    decoded: Option<(bool, u128, i32)>,
    is_nan: bool,
    lo: i128,
    hi: i128,
) -> Result<i128, TrapCode> {
    if is_nan {
        return Err(NAN_TRAP);
    }
    let (neg, m, e) = decoded.ok_or(OVF)?; // infinities overflow
    match trunc_value(neg, m, e) {
        Some(v) if lo <= v && v <= hi => Ok(v),
        _ => Err(OVF),
    }
}

/// Spec `trunc_sat`: NaN → 0; else truncate and clamp to `[lo, hi]`.
fn ref_trunc_sat(
    decoded: Option<(bool, u128, i32)>,
    is_nan: bool,
    neg_inf: bool,
    lo: i128,
    hi: i128,
) -> i128 {
    if is_nan {
        return 0;
    }
    match decoded {
        None => {
            if neg_inf {
                lo
            } else {
                hi
            }
        }
        Some((neg, m, e)) => match trunc_value(neg, m, e) {
            Some(v) => v.clamp(lo, hi),
            None if neg => lo,
            None => hi,
        },
    }
}

/// Spec `nearest` on a finite decoded value with `mbits` fraction bits:
/// `None` means "already integral, result is the input"; otherwise the sign
/// and the rounded integer magnitude (ties to even).
fn ref_nearest(neg: bool, m: u128, e: i32) -> Option<(bool, u128)> {
    if e >= 0 {
        return None;
    }
    let shift = -e;
    if shift >= 128 {
        return Some((neg, 0));
    }
    let q = m >> shift;
    let r = m & ((1u128 << shift) - 1);
    let half = 1u128 << (shift - 1);
    let n = if r > half || (r == half && q & 1 == 1) {
        q + 1
    } else {
        q
    };
    Some((neg, n))
}

fn is_arith_nan32(x: f32) -> bool {
    x.is_nan() && x.to_bits() & 0x0040_0000 != 0
}

fn is_canon_nan32(x: f32) -> bool {
    x.to_bits() & 0x7fff_ffff == 0x7fc0_0000
}

fn is_arith_nan64(x: f64) -> bool {
    x.is_nan() && x.to_bits() & 0x0008_0000_0000_0000 != 0
}

fn is_canon_nan64(x: f64) -> bool {
    x.to_bits() & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000
}

/// Spec `nans{z*}`: an arithmetic NaN, and a canonical one when every NaN
/// input was canonical.
fn check_nans32(inputs: &[f32], r: f32) -> Result<(), TestCaseError> {
    prop_assert!(
        is_arith_nan32(r),
        "{:#x} is not an arithmetic NaN",
        r.to_bits()
    );
    if inputs
        .iter()
        .filter(|z| z.is_nan())
        .all(|&z| is_canon_nan32(z))
    {
        prop_assert!(is_canon_nan32(r), "{:#x} is not canonical", r.to_bits());
    }
    Ok(())
}

fn check_nans64(inputs: &[f64], r: f64) -> Result<(), TestCaseError> {
    prop_assert!(
        is_arith_nan64(r),
        "{:#x} is not an arithmetic NaN",
        r.to_bits()
    );
    if inputs
        .iter()
        .filter(|z| z.is_nan())
        .all(|&z| is_canon_nan64(z))
    {
        prop_assert!(is_canon_nan64(r), "{:#x} is not canonical", r.to_bits());
    }
    Ok(())
}

/// A total order key for non-NaN floats in which `-0` and `+0` are equal.
fn order_key32(x: f32) -> i64 {
    let mag = i64::from(x.to_bits() & 0x7fff_ffff);
    if x.to_bits() >> 31 == 1 {
        -mag
    } else {
        mag
    }
}

fn order_key64(x: f64) -> i128 {
    let mag = i128::from(x.to_bits() & 0x7fff_ffff_ffff_ffff);
    if x.to_bits() >> 63 == 1 {
        -mag
    } else {
        mag
    }
}

/// Spec `fmin`/`fmax` for non-NaN inputs, as bits.
fn ref_minmax32(a: f32, b: f32, min: bool) -> u32 {
    let (ka, kb) = (order_key32(a), order_key32(b));
    if ka == kb {
        // Equal values; only ±0 can differ in bits: min → -0, max → +0.
        let neg = if min {
            a.to_bits() >> 31 == 1 || b.to_bits() >> 31 == 1
        } else {
            a.to_bits() >> 31 == 1 && b.to_bits() >> 31 == 1
        };
        (a.to_bits() & 0x7fff_ffff) | if neg { 0x8000_0000 } else { 0 }
    } else if (ka < kb) == min {
        a.to_bits()
    } else {
        b.to_bits()
    }
}

fn ref_minmax64(a: f64, b: f64, min: bool) -> u64 {
    let (ka, kb) = (order_key64(a), order_key64(b));
    if ka == kb {
        let neg = if min {
            a.to_bits() >> 63 == 1 || b.to_bits() >> 63 == 1
        } else {
            a.to_bits() >> 63 == 1 && b.to_bits() >> 63 == 1
        };
        (a.to_bits() & 0x7fff_ffff_ffff_ffff) | if neg { 1 << 63 } else { 0 }
    } else if (ka < kb) == min {
        a.to_bits()
    } else {
        b.to_bits()
    }
}

// Integer references (i128 arithmetic, spec definitions).

fn ref_div_s(a: i128, b: i128, lo: i128, hi: i128) -> Result<i128, TrapCode> {
    if b == 0 {
        return Err(DIV0);
    }
    let q = a / b; // i128 division truncates toward zero, as the spec's trunc(a/b)
    if q < lo || q > hi {
        Err(OVF)
    } else {
        Ok(q)
    }
}

fn ref_rem(a: i128, b: i128) -> Result<i128, TrapCode> {
    if b == 0 {
        return Err(DIV0);
    }
    Ok(a - b * (a / b))
}

/// Low `width` bits of `v`, read back as signed.
fn wrap_signed(v: i128, width: u32) -> i128 {
    let m = v & ((1i128 << width) - 1);
    if m >> (width - 1) == 1 {
        m - (1i128 << width)
    } else {
        m
    }
}

fn ref_shl(a: i128, b: i128, width: u32) -> i128 {
    let k = b.rem_euclid(i128::from(width));
    wrap_signed(a << k, width)
}

fn ref_shr_s(a: i128, b: i128, width: u32) -> i128 {
    let k = b.rem_euclid(i128::from(width));
    a >> k // a is the sign-extended value; i128 >> is arithmetic
}

fn ref_shr_u(a: i128, b: i128, width: u32) -> i128 {
    let k = b.rem_euclid(i128::from(width));
    let unsigned = a & ((1i128 << width) - 1);
    wrap_signed(unsigned >> k, width)
}

fn ref_rotl(a: i128, b: i128, width: u32) -> i128 {
    let k = b.rem_euclid(i128::from(width));
    let unsigned = a & ((1i128 << width) - 1);
    let wide = unsigned << k; // at most 2·width bits
    wrap_signed(wide | (wide >> width), width)
}

fn ref_rotr(a: i128, b: i128, width: u32) -> i128 {
    let k = b.rem_euclid(i128::from(width));
    ref_rotl(a, i128::from(width) - k, width)
}

fn ref_extend_s(x: i128, from_bits: u32) -> i128 {
    wrap_signed(x, from_bits)
}

// ---------------------------------------------------------------------------
// Integer properties
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    #[test]
    fn i32_div_rem(a in i32s(), b in i32s()) {
        let (wa, wb) = (i128::from(a), i128::from(b));
        prop_assert_eq!(i32_div_s(a, b).map(i128::from), ref_div_s(wa, wb, i32::MIN.into(), i32::MAX.into()));
        prop_assert_eq!(i32_rem_s(a, b).map(i128::from), ref_rem(wa, wb));
        let (ua, ub) = (a as u32, b as u32);
        let (wa, wb) = (i128::from(ua), i128::from(ub));
        prop_assert_eq!(i32_div_u(ua, ub).map(i128::from), ref_div_s(wa, wb, 0, u32::MAX.into()));
        prop_assert_eq!(i32_rem_u(ua, ub).map(i128::from), ref_rem(wa, wb));
    }

    #[test]
    fn i64_div_rem(a in i64s(), b in i64s()) {
        let (wa, wb) = (i128::from(a), i128::from(b));
        prop_assert_eq!(i64_div_s(a, b).map(i128::from), ref_div_s(wa, wb, i64::MIN.into(), i64::MAX.into()));
        prop_assert_eq!(i64_rem_s(a, b).map(i128::from), ref_rem(wa, wb));
        let (ua, ub) = (a as u64, b as u64);
        let (wa, wb) = (i128::from(ua), i128::from(ub));
        prop_assert_eq!(i64_div_u(ua, ub).map(i128::from), ref_div_s(wa, wb, 0, u64::MAX.into()));
        prop_assert_eq!(i64_rem_u(ua, ub).map(i128::from), ref_rem(wa, wb));
    }

    #[test]
    fn i32_div_rem_traps(a in i32s()) {
        prop_assert_eq!(i32_div_s(a, 0), Err(DIV0));
        prop_assert_eq!(i32_div_u(a as u32, 0), Err(DIV0));
        prop_assert_eq!(i32_rem_s(a, 0), Err(DIV0));
        prop_assert_eq!(i32_rem_u(a as u32, 0), Err(DIV0));
        prop_assert_eq!(i32_div_s(i32::MIN, -1), Err(OVF));
        prop_assert_eq!(i32_rem_s(i32::MIN, -1), Ok(0));
        // Any other dividend by -1 is plain negation.
        if a != i32::MIN {
            prop_assert_eq!(i32_div_s(a, -1), Ok(-a));
            prop_assert_eq!(i32_rem_s(a, -1), Ok(0));
        }
    }

    #[test]
    fn i64_div_rem_traps(a in i64s()) {
        prop_assert_eq!(i64_div_s(a, 0), Err(DIV0));
        prop_assert_eq!(i64_div_u(a as u64, 0), Err(DIV0));
        prop_assert_eq!(i64_rem_s(a, 0), Err(DIV0));
        prop_assert_eq!(i64_rem_u(a as u64, 0), Err(DIV0));
        prop_assert_eq!(i64_div_s(i64::MIN, -1), Err(OVF));
        prop_assert_eq!(i64_rem_s(i64::MIN, -1), Ok(0));
        if a != i64::MIN {
            prop_assert_eq!(i64_div_s(a, -1), Ok(-a));
            prop_assert_eq!(i64_rem_s(a, -1), Ok(0));
        }
    }

    #[test]
    fn i32_shifts_rotates(a in i32s(), b in i32s()) {
        let (wa, wb) = (i128::from(a), i128::from(b));
        prop_assert_eq!(i128::from(i32_shl(a, b)), ref_shl(wa, wb, 32));
        prop_assert_eq!(i128::from(i32_shr_s(a, b)), ref_shr_s(wa, wb, 32));
        prop_assert_eq!(i128::from(i32_shr_u(a, b)), ref_shr_u(wa, wb, 32));
        prop_assert_eq!(i128::from(i32_rotl(a, b)), ref_rotl(wa, wb, 32));
        prop_assert_eq!(i128::from(i32_rotr(a, b)), ref_rotr(wa, wb, 32));
    }

    #[test]
    fn i64_shifts_rotates(a in i64s(), b in i64s()) {
        let (wa, wb) = (i128::from(a), i128::from(b));
        prop_assert_eq!(i128::from(i64_shl(a, b)), ref_shl(wa, wb, 64));
        prop_assert_eq!(i128::from(i64_shr_s(a, b)), ref_shr_s(wa, wb, 64));
        prop_assert_eq!(i128::from(i64_shr_u(a, b)), ref_shr_u(wa, wb, 64));
        prop_assert_eq!(i128::from(i64_rotl(a, b)), ref_rotl(wa, wb, 64));
        prop_assert_eq!(i128::from(i64_rotr(a, b)), ref_rotr(wa, wb, 64));
    }

    #[test]
    fn shift_counts_wrap(a in any::<i64>(), k in 0i64..64, m in -4i64..4) {
        // Counts ≥ width and negative counts behave as count mod width.
        let b = k + 64 * m;
        prop_assert_eq!(i64_shl(a, b), i64_shl(a, k));
        prop_assert_eq!(i64_shr_s(a, b), i64_shr_s(a, k));
        prop_assert_eq!(i64_shr_u(a, b), i64_shr_u(a, k));
        prop_assert_eq!(i64_rotl(a, b), i64_rotl(a, k));
        prop_assert_eq!(i64_rotr(a, b), i64_rotr(a, k));
        let (a32, k32, b32) = (a as i32, (k % 32) as i32, (k % 32 + 32 * m) as i32);
        prop_assert_eq!(i32_shl(a32, b32), i32_shl(a32, k32));
        prop_assert_eq!(i32_shr_s(a32, b32), i32_shr_s(a32, k32));
        prop_assert_eq!(i32_shr_u(a32, b32), i32_shr_u(a32, k32));
        prop_assert_eq!(i32_rotl(a32, b32), i32_rotl(a32, k32));
        prop_assert_eq!(i32_rotr(a32, b32), i32_rotr(a32, k32));
    }

    #[test]
    fn bit_counts(a in i64s()) {
        let bits: Vec<bool> = (0..64).map(|i| (a >> i) & 1 == 1).collect();
        let clz = bits.iter().rev().take_while(|&&b| !b).count() as i64;
        let ctz = bits.iter().take_while(|&&b| !b).count() as i64;
        let pop = bits.iter().filter(|&&b| b).count() as i64;
        prop_assert_eq!((i64_clz(a), i64_ctz(a), i64_popcnt(a)), (clz, ctz, pop));
        let bits = &bits[..32];
        let clz = bits.iter().rev().take_while(|&&b| !b).count() as i32;
        let ctz = bits.iter().take_while(|&&b| !b).count() as i32;
        let pop = bits.iter().filter(|&&b| b).count() as i32;
        let a = a as i32;
        prop_assert_eq!((i32_clz(a), i32_ctz(a), i32_popcnt(a)), (clz, ctz, pop));
    }

    #[test]
    fn sign_extension(x in i64s()) {
        let w = i128::from(x);
        let x32 = x as i32;
        let w32 = i128::from(x32);
        prop_assert_eq!(i128::from(i32_extend8_s(x32)), ref_extend_s(w32, 8));
        prop_assert_eq!(i128::from(i32_extend16_s(x32)), ref_extend_s(w32, 16));
        prop_assert_eq!(i128::from(i64_extend8_s(x)), ref_extend_s(w, 8));
        prop_assert_eq!(i128::from(i64_extend16_s(x)), ref_extend_s(w, 16));
        prop_assert_eq!(i128::from(i64_extend32_s(x)), ref_extend_s(w, 32));
        prop_assert_eq!(i128::from(i64_extend_i32_s(x32)), w32);
        prop_assert_eq!(i128::from(i64_extend_i32_u(x32)), w32 & 0xffff_ffff);
        prop_assert_eq!(i128::from(i32_wrap_i64(x)), wrap_signed(w, 32));
    }
}

// ---------------------------------------------------------------------------
// Float properties
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    #[test]
    fn f32_sign_ops_bits(a in f32s(), b in f32s()) {
        let (x, y) = (a.to_bits(), b.to_bits());
        let (mag, sign_b) = (x % 0x8000_0000, y / 0x8000_0000);
        prop_assert_eq!(f32_abs(a).to_bits(), mag);
        prop_assert_eq!(f32_neg(a).to_bits(), if x >= 0x8000_0000 { mag } else { mag + 0x8000_0000 });
        prop_assert_eq!(f32_copysign(a, b).to_bits(), mag + sign_b * 0x8000_0000);
    }

    #[test]
    fn f64_sign_ops_bits(a in f64s(), b in f64s()) {
        let (x, y) = (a.to_bits(), b.to_bits());
        let top = 1u64 << 63;
        let (mag, sign_b) = (x % top, y / top);
        prop_assert_eq!(f64_abs(a).to_bits(), mag);
        prop_assert_eq!(f64_neg(a).to_bits(), if x >= top { mag } else { mag + top });
        prop_assert_eq!(f64_copysign(a, b).to_bits(), mag + sign_b * top);
    }

    #[test]
    fn f32_min_max(a in f32s(), b in f32s()) {
        let (mn, mx) = (f32_min(a, b), f32_max(a, b));
        if a.is_nan() || b.is_nan() {
            check_nans32(&[a, b], mn)?;
            check_nans32(&[a, b], mx)?;
        } else {
            prop_assert_eq!(mn.to_bits(), ref_minmax32(a, b, true));
            prop_assert_eq!(mx.to_bits(), ref_minmax32(a, b, false));
        }
    }

    #[test]
    fn f64_min_max(a in f64s(), b in f64s()) {
        let (mn, mx) = (f64_min(a, b), f64_max(a, b));
        if a.is_nan() || b.is_nan() {
            check_nans64(&[a, b], mn)?;
            check_nans64(&[a, b], mx)?;
        } else {
            prop_assert_eq!(mn.to_bits(), ref_minmax64(a, b, true));
            prop_assert_eq!(mx.to_bits(), ref_minmax64(a, b, false));
        }
    }

    #[test]
    fn min_max_signed_zeros(za in any::<bool>(), zb in any::<bool>(), nan_bits in any::<u32>()) {
        let z = |neg: bool| if neg { -0.0f32 } else { 0.0f32 };
        let (a, b) = (z(za), z(zb));
        prop_assert_eq!(f32_min(a, b).to_bits() >> 31 == 1, za || zb);
        prop_assert_eq!(f32_max(a, b).to_bits() >> 31 == 1, za && zb);
        prop_assert_eq!(f64_min(a.into(), b.into()).to_bits() >> 63 == 1, za || zb);
        prop_assert_eq!(f64_max(a.into(), b.into()).to_bits() >> 63 == 1, za && zb);
        // Any NaN operand, on either side, wins over a zero.
        let nan = f32::from_bits(nan_bits | 0x7f80_0001);
        prop_assert!(f32_min(a, nan).is_nan() && f32_min(nan, b).is_nan());
        prop_assert!(f32_max(a, nan).is_nan() && f32_max(nan, b).is_nan());
    }

    #[test]
    fn f32_nearest_matches_spec(x in f32s()) {
        let r = f32_nearest(x);
        if x.is_nan() {
            check_nans32(&[x], r)?;
        } else {
            match decode32(x).and_then(|(neg, m, e)| ref_nearest(neg, m, e)) {
                None => prop_assert_eq!(r.to_bits(), x.to_bits()),
                Some((neg, n)) => {
                    let sign = if neg { 0x8000_0000 } else { 0 };
                    let expected = sign | round_to_format(n, 0, 23, 8) as u32;
                    prop_assert_eq!(r.to_bits(), expected, "nearest({:e})", x);
                }
            }
        }
    }

    #[test]
    fn f64_nearest_matches_spec(x in f64s()) {
        let r = f64_nearest(x);
        if x.is_nan() {
            check_nans64(&[x], r)?;
        } else {
            match decode64(x).and_then(|(neg, m, e)| ref_nearest(neg, m, e)) {
                None => prop_assert_eq!(r.to_bits(), x.to_bits()),
                Some((neg, n)) => {
                    let sign = if neg { 1 << 63 } else { 0 };
                    let expected = sign | round_to_format(n, 0, 52, 11);
                    prop_assert_eq!(r.to_bits(), expected, "nearest({:e})", x);
                }
            }
        }
    }

    #[test]
    fn nearest_halfway_cases(n in -(1i64 << 22)..(1i64 << 22)) {
        // x = n + 0.5 is a tie: the result is the even one of n and n+1.
        let x = n as f64 + 0.5;
        let even = if n % 2 == 0 { n } else { n + 1 };
        let r = f64_nearest(x);
        prop_assert_eq!(r, even as f64);
        prop_assert_eq!(f32_nearest(x as f32), even as f32);
        // A zero result keeps the input's sign (nearest(-0.5) = -0).
        if even == 0 {
            prop_assert_eq!(r.to_bits() >> 63 == 1, x < 0.0);
        }
    }

    #[test]
    fn nearest_large_unchanged(m in 0u32..(1 << 23), e in 23i32..=104, neg in any::<bool>()) {
        // Every float with magnitude ≥ 2^23 (f32) / 2^52 (f64) is integral.
        let x = f32::from_bits(((e + 127) as u32) << 23 | m) * if neg { -1.0 } else { 1.0 };
        prop_assert_eq!(f32_nearest(x).to_bits(), x.to_bits());
        let y = f64::from(x) * 2f64.powi(29);
        prop_assert_eq!(f64_nearest(y).to_bits(), y.to_bits());
    }

    #[test]
    fn rounding_wrappers_keep_values_and_quiet_nans(x in f32s(), y in f64s()) {
        for (op, r) in [("ceil", f32_ceil(x)), ("floor", f32_floor(x)), ("trunc", f32_trunc(x)), ("sqrt", f32_sqrt(x))] {
            if x.is_nan() {
                check_nans32(&[x], r)?;
            } else if op != "sqrt" {
                prop_assert!(r.is_infinite() || r.fract() == 0.0, "{}({:e}) = {:e}", op, x, r);
                prop_assert_eq!(r.is_sign_negative(), x.is_sign_negative(), "{}({:e}) sign", op, x);
            }
        }
        for (op, r) in [("ceil", f64_ceil(y)), ("floor", f64_floor(y)), ("trunc", f64_trunc(y)), ("sqrt", f64_sqrt(y))] {
            if y.is_nan() {
                check_nans64(&[y], r)?;
            } else if op != "sqrt" {
                prop_assert!(r.is_infinite() || r.fract() == 0.0, "{}({:e}) = {:e}", op, y, r);
                prop_assert_eq!(r.is_sign_negative(), y.is_sign_negative(), "{}({:e}) sign", op, y);
            }
        }
        if !x.is_nan() {
            prop_assert!(f32_floor(x) <= x && x <= f32_ceil(x));
            prop_assert!(f32_trunc(x).abs() <= x.abs());
        }
        if !y.is_nan() {
            prop_assert!(f64_floor(y) <= y && y <= f64_ceil(y));
            prop_assert!(f64_trunc(y).abs() <= y.abs());
        }
    }
}

// ---------------------------------------------------------------------------
// Conversions
// ---------------------------------------------------------------------------

fn check_trunc_all_f32(x: f32) -> Result<(), TestCaseError> {
    let (d, nan) = (decode32(x), x.is_nan());
    let (i32r, u32r) = ((i32::MIN.into(), i32::MAX.into()), (0, u32::MAX.into()));
    let (i64r, u64r) = ((i64::MIN.into(), i64::MAX.into()), (0, u64::MAX.into()));
    prop_assert_eq!(
        i32_trunc_f32_s(x).map(i128::from),
        ref_trunc(d, nan, i32r.0, i32r.1),
        "i32.trunc_f32_s({:e})",
        x
    );
    prop_assert_eq!(
        i32_trunc_f32_u(x).map(i128::from),
        ref_trunc(d, nan, u32r.0, u32r.1),
        "i32.trunc_f32_u({:e})",
        x
    );
    prop_assert_eq!(
        i64_trunc_f32_s(x).map(i128::from),
        ref_trunc(d, nan, i64r.0, i64r.1),
        "i64.trunc_f32_s({:e})",
        x
    );
    prop_assert_eq!(
        i64_trunc_f32_u(x).map(i128::from),
        ref_trunc(d, nan, u64r.0, u64r.1),
        "i64.trunc_f32_u({:e})",
        x
    );
    let ni = x == f32::NEG_INFINITY;
    prop_assert_eq!(
        i128::from(i32_trunc_sat_f32_s(x)),
        ref_trunc_sat(d, nan, ni, i32r.0, i32r.1)
    );
    prop_assert_eq!(
        i128::from(i32_trunc_sat_f32_u(x)),
        ref_trunc_sat(d, nan, ni, u32r.0, u32r.1)
    );
    prop_assert_eq!(
        i128::from(i64_trunc_sat_f32_s(x)),
        ref_trunc_sat(d, nan, ni, i64r.0, i64r.1)
    );
    prop_assert_eq!(
        i128::from(i64_trunc_sat_f32_u(x)),
        ref_trunc_sat(d, nan, ni, u64r.0, u64r.1)
    );
    Ok(())
}

fn check_trunc_all_f64(x: f64) -> Result<(), TestCaseError> {
    let (d, nan) = (decode64(x), x.is_nan());
    let (i32r, u32r) = ((i32::MIN.into(), i32::MAX.into()), (0, u32::MAX.into()));
    let (i64r, u64r) = ((i64::MIN.into(), i64::MAX.into()), (0, u64::MAX.into()));
    prop_assert_eq!(
        i32_trunc_f64_s(x).map(i128::from),
        ref_trunc(d, nan, i32r.0, i32r.1),
        "i32.trunc_f64_s({:e})",
        x
    );
    prop_assert_eq!(
        i32_trunc_f64_u(x).map(i128::from),
        ref_trunc(d, nan, u32r.0, u32r.1),
        "i32.trunc_f64_u({:e})",
        x
    );
    prop_assert_eq!(
        i64_trunc_f64_s(x).map(i128::from),
        ref_trunc(d, nan, i64r.0, i64r.1),
        "i64.trunc_f64_s({:e})",
        x
    );
    prop_assert_eq!(
        i64_trunc_f64_u(x).map(i128::from),
        ref_trunc(d, nan, u64r.0, u64r.1),
        "i64.trunc_f64_u({:e})",
        x
    );
    let ni = x == f64::NEG_INFINITY;
    prop_assert_eq!(
        i128::from(i32_trunc_sat_f64_s(x)),
        ref_trunc_sat(d, nan, ni, i32r.0, i32r.1)
    );
    prop_assert_eq!(
        i128::from(i32_trunc_sat_f64_u(x)),
        ref_trunc_sat(d, nan, ni, u32r.0, u32r.1)
    );
    prop_assert_eq!(
        i128::from(i64_trunc_sat_f64_s(x)),
        ref_trunc_sat(d, nan, ni, i64r.0, i64r.1)
    );
    prop_assert_eq!(
        i128::from(i64_trunc_sat_f64_u(x)),
        ref_trunc_sat(d, nan, ni, u64r.0, u64r.1)
    );
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn trunc_from_f32(x in f32s()) {
        check_trunc_all_f32(x)?;
    }

    #[test]
    fn trunc_from_f64(x in f64s()) {
        check_trunc_all_f64(x)?;
    }

    #[test]
    fn trunc_near_bounds(b in prop::sample::select(BOUNDS.to_vec()), k in -64i32..=64, frac in 0u32..4) {
        // Boundary values stepped by whole ulps, plus fractional offsets just
        // inside/outside (±0.25, ±0.5, ±0.75 of the boundary's neighbourhood).
        let off = f64::from(frac) * 0.25;
        for x in [step_f64(b, k), step_f64(b, k) + off, step_f64(b, k) - off] {
            check_trunc_all_f64(x)?;
        }
        for x in [step_f32(b as f32, k), step_f32(b as f32, k) + off as f32, step_f32(b as f32, k) - off as f32] {
            check_trunc_all_f32(x)?;
        }
    }

    #[test]
    fn trunc_nan_payloads(bits in any::<u64>()) {
        let x = f32::from_bits(bits as u32 | 0x7f80_0001);
        let y = f64::from_bits(bits | 0x7ff0_0000_0000_0001);
        prop_assert_eq!(i32_trunc_f32_s(x), Err(NAN_TRAP));
        prop_assert_eq!(i32_trunc_f32_u(x), Err(NAN_TRAP));
        prop_assert_eq!(i64_trunc_f32_s(x), Err(NAN_TRAP));
        prop_assert_eq!(i64_trunc_f32_u(x), Err(NAN_TRAP));
        prop_assert_eq!(i32_trunc_f64_s(y), Err(NAN_TRAP));
        prop_assert_eq!(i32_trunc_f64_u(y), Err(NAN_TRAP));
        prop_assert_eq!(i64_trunc_f64_s(y), Err(NAN_TRAP));
        prop_assert_eq!(i64_trunc_f64_u(y), Err(NAN_TRAP));
        prop_assert_eq!((i32_trunc_sat_f32_s(x), i32_trunc_sat_f32_u(x)), (0, 0));
        prop_assert_eq!((i64_trunc_sat_f32_s(x), i64_trunc_sat_f32_u(x)), (0, 0));
        prop_assert_eq!((i32_trunc_sat_f64_s(y), i32_trunc_sat_f64_u(y)), (0, 0));
        prop_assert_eq!((i64_trunc_sat_f64_s(y), i64_trunc_sat_f64_u(y)), (0, 0));
    }

    #[test]
    fn convert_i32(x in i32s()) {
        let (s, u) = (i128::from(x), i128::from(x as u32));
        prop_assert_eq!(f32_convert_i32_s(x).to_bits(), ref_int_to_f32(s));
        prop_assert_eq!(f32_convert_i32_u(x as u32).to_bits(), ref_int_to_f32(u));
        prop_assert_eq!(f64_convert_i32_s(x).to_bits(), ref_int_to_f64(s));
        prop_assert_eq!(f64_convert_i32_u(x as u32).to_bits(), ref_int_to_f64(u));
    }

    #[test]
    fn convert_i64(x in prop_oneof![i64s(), near_tie_u64(23).prop_map(|v| v as i64), near_tie_u64(52).prop_map(|v| v as i64)], neg in any::<bool>()) {
        let x = if neg { x.wrapping_neg() } else { x };
        let (s, u) = (i128::from(x), i128::from(x as u64));
        prop_assert_eq!(f32_convert_i64_s(x).to_bits(), ref_int_to_f32(s), "f32.convert_i64_s({})", x);
        prop_assert_eq!(f32_convert_i64_u(x as u64).to_bits(), ref_int_to_f32(u), "f32.convert_i64_u({})", x as u64);
        prop_assert_eq!(f64_convert_i64_s(x).to_bits(), ref_int_to_f64(s), "f64.convert_i64_s({})", x);
        prop_assert_eq!(f64_convert_i64_u(x as u64).to_bits(), ref_int_to_f64(u), "f64.convert_i64_u({})", x as u64);
    }

    #[test]
    fn convert_u32_near_ties(x in near_tie_u64(23).prop_filter("fits u32", |&v| v <= u64::from(u32::MAX))) {
        let x = x as u32;
        prop_assert_eq!(f32_convert_i32_u(x).to_bits(), ref_int_to_f32(x.into()));
        prop_assert_eq!(f32_convert_i32_s(x as i32).to_bits(), ref_int_to_f32((x as i32).into()));
    }

    #[test]
    fn demote_f64(x in f64s()) {
        let r = f32_demote_f64(x);
        match decode64(x) {
            _ if x.is_nan() => {
                prop_assert!(is_arith_nan32(r));
                if is_canon_nan64(x) {
                    prop_assert!(is_canon_nan32(r));
                }
            }
            None => prop_assert_eq!(r.to_bits(), if x > 0.0 { 0x7f80_0000 } else { 0xff80_0000 }),
            Some((neg, m, e)) => {
                let sign = if neg { 0x8000_0000 } else { 0 };
                prop_assert_eq!(r.to_bits(), sign | round_to_format(m, e, 23, 8) as u32, "demote({:e})", x);
            }
        }
    }

    #[test]
    fn promote_f32(x in f32s()) {
        let r = f64_promote_f32(x);
        match decode32(x) {
            _ if x.is_nan() => {
                prop_assert!(is_arith_nan64(r));
                if is_canon_nan32(x) {
                    prop_assert!(is_canon_nan64(r));
                }
            }
            None => prop_assert_eq!(r.to_bits(), if x > 0.0 { 0x7ff0_0000_0000_0000 } else { 0xfff0_0000_0000_0000 }),
            Some((neg, m, e)) => {
                let sign = if neg { 1 << 63 } else { 0 };
                prop_assert_eq!(r.to_bits(), sign | round_to_format(m, e, 52, 11), "promote({:e})", x);
                // Exact: demoting back gives the same bits.
                prop_assert_eq!(f32_demote_f64(r).to_bits(), x.to_bits());
            }
        }
    }

    #[test]
    fn reinterpret_roundtrip(a in any::<u32>(), b in any::<u64>()) {
        prop_assert_eq!(f32_reinterpret_i32(a as i32).to_bits(), a);
        prop_assert_eq!(i32_reinterpret_f32(f32::from_bits(a)) as u32, a);
        prop_assert_eq!(f64_reinterpret_i64(b as i64).to_bits(), b);
        prop_assert_eq!(i64_reinterpret_f64(f64::from_bits(b)) as u64, b);
    }
}

// ---------------------------------------------------------------------------
// Deterministic sweeps
// ---------------------------------------------------------------------------

/// Every float within 3000 ulps of every conversion boundary, all 16 float→int
/// operators, compared with the reference.
#[test]
fn trunc_boundary_sweep() {
    for &b in &BOUNDS {
        for k in -3000..=3000 {
            check_trunc_all_f32(step_f32(b as f32, k)).unwrap();
            check_trunc_all_f64(step_f64(b, k)).unwrap();
        }
    }
}

/// `nearest` on every f32 in `[2^21, 2^24]` and its negation, and every value
/// within a few thousand ulps of ±0.5, ±1.5 and ±2.5: every tie in that range.
#[test]
fn nearest_sweep() {
    let check = |x: f32| {
        let (neg, m, e) = decode32(x).unwrap();
        let expected = match ref_nearest(neg, m, e) {
            None => x.to_bits(),
            Some((neg, n)) => {
                (if neg { 0x8000_0000 } else { 0 }) | round_to_format(n, 0, 23, 8) as u32
            }
        };
        assert_eq!(f32_nearest(x).to_bits(), expected, "nearest({x:e})");
        assert_eq!(
            f64_nearest(f64::from(x)),
            f64::from(f32::from_bits(expected)),
            "f64 nearest({x:e})"
        );
    };
    let (lo, hi) = (2097152.0f32.to_bits(), 16777216.0f32.to_bits());
    for bits in (lo..=hi).step_by(7) {
        check(f32::from_bits(bits));
        check(-f32::from_bits(bits));
    }
    for c in [0.5f32, 1.5, 2.5, 0.0] {
        for k in -3000..=3000 {
            check(step_f32(c, k));
            check(-step_f32(c, k));
        }
    }
}

/// Exhaustive check of every f32 bit pattern for the unary f32 operators.
/// Takes about three minutes in release mode; run with `--ignored`.
#[test]
#[ignore]
fn exhaustive_f32_unary() {
    for bits in 0..=u32::MAX {
        let x = f32::from_bits(bits);
        check_trunc_all_f32(x).unwrap();
        let r = f32_nearest(x);
        if x.is_nan() {
            check_nans32(&[x], r).unwrap();
        } else {
            let (neg, m, e) = match decode32(x) {
                Some(d) => d,
                None => {
                    assert_eq!(r.to_bits(), bits);
                    continue;
                }
            };
            let expected = match ref_nearest(neg, m, e) {
                None => bits,
                Some((neg, n)) => {
                    (if neg { 0x8000_0000 } else { 0 }) | round_to_format(n, 0, 23, 8) as u32
                }
            };
            assert_eq!(r.to_bits(), expected, "nearest({x:e})");
            let p = f64_promote_f32(x);
            assert_eq!(
                p.to_bits(),
                (if neg { 1 << 63 } else { 0 }) | round_to_format(m, e, 52, 11)
            );
        }
    }
}
