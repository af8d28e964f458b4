//! The exact WebAssembly 2.0 numeric semantics (spec §4.3.2–§4.3.4), as
//! small functions the executor calls on raw values.
//!
//! Integer operands are passed as the signed Rust type of their width unless
//! the operator is inherently unsigned (`div_u`, `rem_u`, `trunc_*_u`,
//! `convert_*_u`), where the unsigned type is used; converting between the two
//! is a free `as` cast.
//!
//! NaN results: wherever the spec yields `nans{z*}` this module returns the
//! first NaN operand with its quiet bit set (an *arithmetic* NaN, and the
//! canonical NaN when that operand was canonical), computed with bit
//! operations so the result does not depend on the host FPU or libm.
//! `abs`, `neg` and `copysign` are pure sign-bit operations that keep the NaN
//! payload untouched, as the spec requires.

pub use crate::trap::TrapCode;

const F32_SIGN: u32 = 0x8000_0000;
const F32_QUIET: u32 = 0x0040_0000;
const F64_SIGN: u64 = 0x8000_0000_0000_0000;
const F64_QUIET: u64 = 0x0008_0000_0000_0000;

/// Returns `x` (a NaN) with its quiet bit set: an arithmetic NaN.
#[inline]
fn f32_quiet(x: f32) -> f32 {
    f32::from_bits(x.to_bits() | F32_QUIET)
}

/// Returns `x` (a NaN) with its quiet bit set: an arithmetic NaN.
#[inline]
fn f64_quiet(x: f64) -> f64 {
    f64::from_bits(x.to_bits() | F64_QUIET)
}

// ---------------------------------------------------------------------------
// Integer division and remainder
// ---------------------------------------------------------------------------

/// `i32.div_s`: traps on `b == 0` (divide by zero) and on `MIN / -1` (overflow); rounds toward zero.
#[inline]
pub fn i32_div_s(a: i32, b: i32) -> Result<i32, TrapCode> {
    if b == 0 {
        return Err(TrapCode::IntegerDivisionByZero);
    }
    a.checked_div(b).ok_or(TrapCode::IntegerOverflow)
}

/// `i32.div_u`: traps on `b == 0`; otherwise the floor of the unsigned quotient.
#[inline]
pub fn i32_div_u(a: u32, b: u32) -> Result<u32, TrapCode> {
    a.checked_div(b).ok_or(TrapCode::IntegerDivisionByZero)
}

/// `i32.rem_s`: traps on `b == 0`; `MIN rem -1` is `0` (no trap); the sign follows the dividend.
#[inline]
pub fn i32_rem_s(a: i32, b: i32) -> Result<i32, TrapCode> {
    if b == 0 {
        return Err(TrapCode::IntegerDivisionByZero);
    }
    Ok(a.wrapping_rem(b))
}

/// `i32.rem_u`: traps on `b == 0`.
#[inline]
pub fn i32_rem_u(a: u32, b: u32) -> Result<u32, TrapCode> {
    a.checked_rem(b).ok_or(TrapCode::IntegerDivisionByZero)
}

/// `i64.div_s`: traps on `b == 0` (divide by zero) and on `MIN / -1` (overflow); rounds toward zero.
#[inline]
pub fn i64_div_s(a: i64, b: i64) -> Result<i64, TrapCode> {
    if b == 0 {
        return Err(TrapCode::IntegerDivisionByZero);
    }
    a.checked_div(b).ok_or(TrapCode::IntegerOverflow)
}

/// `i64.div_u`: traps on `b == 0`; otherwise the floor of the unsigned quotient.
#[inline]
pub fn i64_div_u(a: u64, b: u64) -> Result<u64, TrapCode> {
    a.checked_div(b).ok_or(TrapCode::IntegerDivisionByZero)
}

/// `i64.rem_s`: traps on `b == 0`; `MIN rem -1` is `0` (no trap); the sign follows the dividend.
#[inline]
pub fn i64_rem_s(a: i64, b: i64) -> Result<i64, TrapCode> {
    if b == 0 {
        return Err(TrapCode::IntegerDivisionByZero);
    }
    Ok(a.wrapping_rem(b))
}

/// `i64.rem_u`: traps on `b == 0`.
#[inline]
pub fn i64_rem_u(a: u64, b: u64) -> Result<u64, TrapCode> {
    a.checked_rem(b).ok_or(TrapCode::IntegerDivisionByZero)
}

// ---------------------------------------------------------------------------
// Shifts and rotates (count taken modulo the bit width; any count is valid)
// ---------------------------------------------------------------------------

/// `i32.shl`: shift count is `b mod 32` (negative and ≥ 32 counts wrap); bits shifted out are lost.
#[inline]
pub fn i32_shl(a: i32, b: i32) -> i32 {
    a.wrapping_shl(b as u32 & 31)
}

/// `i32.shr_s`: arithmetic right shift by `b mod 32` (sign bit replicated).
#[inline]
pub fn i32_shr_s(a: i32, b: i32) -> i32 {
    a.wrapping_shr(b as u32 & 31)
}

/// `i32.shr_u`: logical right shift by `b mod 32` (zero fill).
#[inline]
pub fn i32_shr_u(a: i32, b: i32) -> i32 {
    (a as u32).wrapping_shr(b as u32 & 31) as i32
}

/// `i32.rotl`: rotate left by `b mod 32`.
#[inline]
pub fn i32_rotl(a: i32, b: i32) -> i32 {
    a.rotate_left(b as u32 & 31)
}

/// `i32.rotr`: rotate right by `b mod 32`.
#[inline]
pub fn i32_rotr(a: i32, b: i32) -> i32 {
    a.rotate_right(b as u32 & 31)
}

/// `i64.shl`: shift count is `b mod 64` (negative and ≥ 64 counts wrap); bits shifted out are lost.
#[inline]
pub fn i64_shl(a: i64, b: i64) -> i64 {
    a.wrapping_shl(b as u32 & 63)
}

/// `i64.shr_s`: arithmetic right shift by `b mod 64` (sign bit replicated).
#[inline]
pub fn i64_shr_s(a: i64, b: i64) -> i64 {
    a.wrapping_shr(b as u32 & 63)
}

/// `i64.shr_u`: logical right shift by `b mod 64` (zero fill).
#[inline]
pub fn i64_shr_u(a: i64, b: i64) -> i64 {
    (a as u64).wrapping_shr(b as u32 & 63) as i64
}

/// `i64.rotl`: rotate left by `b mod 64`.
#[inline]
pub fn i64_rotl(a: i64, b: i64) -> i64 {
    a.rotate_left(b as u32 & 63)
}

/// `i64.rotr`: rotate right by `b mod 64`.
#[inline]
pub fn i64_rotr(a: i64, b: i64) -> i64 {
    a.rotate_right(b as u32 & 63)
}

// ---------------------------------------------------------------------------
// Bit counting (trivial, for uniformity)
// ---------------------------------------------------------------------------

/// `i32.clz`: leading zero bits; `clz(0) == 32`.
#[inline]
pub fn i32_clz(a: i32) -> i32 {
    a.leading_zeros() as i32
}

/// `i32.ctz`: trailing zero bits; `ctz(0) == 32`.
#[inline]
pub fn i32_ctz(a: i32) -> i32 {
    a.trailing_zeros() as i32
}

/// `i32.popcnt`: number of set bits.
#[inline]
pub fn i32_popcnt(a: i32) -> i32 {
    a.count_ones() as i32
}

/// `i64.clz`: leading zero bits; `clz(0) == 64`.
#[inline]
pub fn i64_clz(a: i64) -> i64 {
    i64::from(a.leading_zeros())
}

/// `i64.ctz`: trailing zero bits; `ctz(0) == 64`.
#[inline]
pub fn i64_ctz(a: i64) -> i64 {
    i64::from(a.trailing_zeros())
}

/// `i64.popcnt`: number of set bits.
#[inline]
pub fn i64_popcnt(a: i64) -> i64 {
    i64::from(a.count_ones())
}

// ---------------------------------------------------------------------------
// Sign extension (the sign-extension-ops proposal, part of 2.0)
// ---------------------------------------------------------------------------

/// `i32.extend8_s`: sign-extends the low 8 bits; the upper 24 input bits are ignored.
#[inline]
pub fn i32_extend8_s(x: i32) -> i32 {
    i32::from(x as i8)
}

/// `i32.extend16_s`: sign-extends the low 16 bits; the upper 16 input bits are ignored.
#[inline]
pub fn i32_extend16_s(x: i32) -> i32 {
    i32::from(x as i16)
}

/// `i64.extend8_s`: sign-extends the low 8 bits; the upper 56 input bits are ignored.
#[inline]
pub fn i64_extend8_s(x: i64) -> i64 {
    i64::from(x as i8)
}

/// `i64.extend16_s`: sign-extends the low 16 bits; the upper 48 input bits are ignored.
#[inline]
pub fn i64_extend16_s(x: i64) -> i64 {
    i64::from(x as i16)
}

/// `i64.extend32_s`: sign-extends the low 32 bits; the upper 32 input bits are ignored.
#[inline]
pub fn i64_extend32_s(x: i64) -> i64 {
    i64::from(x as i32)
}

/// `i64.extend_i32_s`: sign-extends an i32 to i64.
#[inline]
pub fn i64_extend_i32_s(x: i32) -> i64 {
    i64::from(x)
}

/// `i64.extend_i32_u`: zero-extends an i32 to i64.
#[inline]
pub fn i64_extend_i32_u(x: i32) -> i64 {
    i64::from(x as u32)
}

/// `i32.wrap_i64`: keeps the low 32 bits.
#[inline]
pub fn i32_wrap_i64(x: i64) -> i32 {
    x as i32
}

// ---------------------------------------------------------------------------
// Float sign operations (pure bit operations, NaN payload preserved)
// ---------------------------------------------------------------------------

/// `f32.abs`: clears the sign bit, even of a NaN (payload untouched, never quieted).
#[inline]
pub fn f32_abs(x: f32) -> f32 {
    f32::from_bits(x.to_bits() & !F32_SIGN)
}

/// `f32.neg`: flips the sign bit, even of a NaN (payload untouched, never quieted).
#[inline]
pub fn f32_neg(x: f32) -> f32 {
    f32::from_bits(x.to_bits() ^ F32_SIGN)
}

/// `f32.copysign`: `a`'s bits with `b`'s sign bit, for any `a`/`b` including NaNs.
#[inline]
pub fn f32_copysign(a: f32, b: f32) -> f32 {
    f32::from_bits((a.to_bits() & !F32_SIGN) | (b.to_bits() & F32_SIGN))
}

/// `f64.abs`: clears the sign bit, even of a NaN (payload untouched, never quieted).
#[inline]
pub fn f64_abs(x: f64) -> f64 {
    f64::from_bits(x.to_bits() & !F64_SIGN)
}

/// `f64.neg`: flips the sign bit, even of a NaN (payload untouched, never quieted).
#[inline]
pub fn f64_neg(x: f64) -> f64 {
    f64::from_bits(x.to_bits() ^ F64_SIGN)
}

/// `f64.copysign`: `a`'s bits with `b`'s sign bit, for any `a`/`b` including NaNs.
#[inline]
pub fn f64_copysign(a: f64, b: f64) -> f64 {
    f64::from_bits((a.to_bits() & !F64_SIGN) | (b.to_bits() & F64_SIGN))
}

// ---------------------------------------------------------------------------
// min / max
// ---------------------------------------------------------------------------

/// `f32.min`: NaN if either operand is NaN (an arithmetic NaN); `min(-0, +0) = -0`.
#[inline]
pub fn f32_min(a: f32, b: f32) -> f32 {
    if a.is_nan() {
        f32_quiet(a)
    } else if b.is_nan() {
        f32_quiet(b)
    } else if a == b {
        // Equal non-NaN values have equal bits except for ±0, where the
        // minimum is the one with the sign bit set.
        f32::from_bits(a.to_bits() | b.to_bits())
    } else if a < b {
        a
    } else {
        b
    }
}

/// `f32.max`: NaN if either operand is NaN (an arithmetic NaN); `max(-0, +0) = +0`.
#[inline]
pub fn f32_max(a: f32, b: f32) -> f32 {
    if a.is_nan() {
        f32_quiet(a)
    } else if b.is_nan() {
        f32_quiet(b)
    } else if a == b {
        // Equal non-NaN values have equal bits except for ±0, where the
        // maximum is the one with the sign bit clear.
        f32::from_bits(a.to_bits() & b.to_bits())
    } else if a > b {
        a
    } else {
        b
    }
}

/// `f64.min`: NaN if either operand is NaN (an arithmetic NaN); `min(-0, +0) = -0`.
#[inline]
pub fn f64_min(a: f64, b: f64) -> f64 {
    if a.is_nan() {
        f64_quiet(a)
    } else if b.is_nan() {
        f64_quiet(b)
    } else if a == b {
        f64::from_bits(a.to_bits() | b.to_bits())
    } else if a < b {
        a
    } else {
        b
    }
}

/// `f64.max`: NaN if either operand is NaN (an arithmetic NaN); `max(-0, +0) = +0`.
#[inline]
pub fn f64_max(a: f64, b: f64) -> f64 {
    if a.is_nan() {
        f64_quiet(a)
    } else if b.is_nan() {
        f64_quiet(b)
    } else if a == b {
        f64::from_bits(a.to_bits() & b.to_bits())
    } else if a > b {
        a
    } else {
        b
    }
}

// ---------------------------------------------------------------------------
// Rounding and sqrt
// ---------------------------------------------------------------------------

/// `f32.nearest`: round to integral, ties to even; keeps the sign of zero (`nearest(-0.4) = -0`); NaN → arithmetic NaN.
#[inline]
pub fn f32_nearest(x: f32) -> f32 {
    if x.is_nan() {
        f32_quiet(x)
    } else {
        x.round_ties_even()
    }
}

/// `f64.nearest`: round to integral, ties to even; keeps the sign of zero (`nearest(-0.4) = -0`); NaN → arithmetic NaN.
#[inline]
pub fn f64_nearest(x: f64) -> f64 {
    if x.is_nan() {
        f64_quiet(x)
    } else {
        x.round_ties_even()
    }
}

/// `f32.ceil`: round toward +∞; keeps the sign of zero (`ceil(-0.5) = -0`); NaN → arithmetic NaN.
#[inline]
pub fn f32_ceil(x: f32) -> f32 {
    if x.is_nan() {
        f32_quiet(x)
    } else {
        x.ceil()
    }
}

/// `f32.floor`: round toward -∞; keeps the sign of zero (`floor(+0.5) = +0`); NaN → arithmetic NaN.
#[inline]
pub fn f32_floor(x: f32) -> f32 {
    if x.is_nan() {
        f32_quiet(x)
    } else {
        x.floor()
    }
}

/// `f32.trunc`: round toward zero; keeps the sign of zero (`trunc(-0.5) = -0`); NaN → arithmetic NaN.
#[inline]
pub fn f32_trunc(x: f32) -> f32 {
    if x.is_nan() {
        f32_quiet(x)
    } else {
        x.trunc()
    }
}

/// `f32.sqrt`: IEEE square root; `sqrt(-0) = -0`, negative operand → NaN; NaN → arithmetic NaN.
#[inline]
pub fn f32_sqrt(x: f32) -> f32 {
    if x.is_nan() {
        f32_quiet(x)
    } else {
        x.sqrt()
    }
}

/// `f64.ceil`: round toward +∞; keeps the sign of zero (`ceil(-0.5) = -0`); NaN → arithmetic NaN.
#[inline]
pub fn f64_ceil(x: f64) -> f64 {
    if x.is_nan() {
        f64_quiet(x)
    } else {
        x.ceil()
    }
}

/// `f64.floor`: round toward -∞; keeps the sign of zero (`floor(+0.5) = +0`); NaN → arithmetic NaN.
#[inline]
pub fn f64_floor(x: f64) -> f64 {
    if x.is_nan() {
        f64_quiet(x)
    } else {
        x.floor()
    }
}

/// `f64.trunc`: round toward zero; keeps the sign of zero (`trunc(-0.5) = -0`); NaN → arithmetic NaN.
#[inline]
pub fn f64_trunc(x: f64) -> f64 {
    if x.is_nan() {
        f64_quiet(x)
    } else {
        x.trunc()
    }
}

/// `f64.sqrt`: IEEE square root; `sqrt(-0) = -0`, negative operand → NaN; NaN → arithmetic NaN.
#[inline]
pub fn f64_sqrt(x: f64) -> f64 {
    if x.is_nan() {
        f64_quiet(x)
    } else {
        x.sqrt()
    }
}

// ---------------------------------------------------------------------------
// Trapping float → int truncation
// ---------------------------------------------------------------------------

/// 2^31 and 2^63 and 2^32 and 2^64 in each float type (all exact powers of two).
const F32_2POW31: f32 = 2_147_483_648.0;
const F64_2POW31: f64 = 2_147_483_648.0;
const F32_2POW32: f32 = 4_294_967_296.0;
const F64_2POW32: f64 = 4_294_967_296.0;
const F32_2POW63: f32 = -(i64::MIN as f32);
const F64_2POW63: f64 = -(i64::MIN as f64);
const F32_2POW64: f32 = F32_2POW63 * 2.0;
const F64_2POW64: f64 = F64_2POW63 * 2.0;

/// `i32.trunc_f32_s`: NaN traps (invalid conversion); valid iff `-2^31 <= x < 2^31` (no f32 lies strictly between `-2^31-1` and `-2^31`), else overflow.
#[inline]
pub fn i32_trunc_f32_s(x: f32) -> Result<i32, TrapCode> {
    if x.is_nan() {
        Err(TrapCode::BadConversionToInteger)
    } else if (-F32_2POW31..F32_2POW31).contains(&x) {
        Ok(x as i32)
    } else {
        Err(TrapCode::IntegerOverflow)
    }
}

/// `i32.trunc_f32_u`: NaN traps (invalid conversion); valid iff `-1 < x < 2^32` (e.g. `-0.9 → 0`), else overflow.
#[inline]
pub fn i32_trunc_f32_u(x: f32) -> Result<u32, TrapCode> {
    if x.is_nan() {
        Err(TrapCode::BadConversionToInteger)
    } else if x > -1.0 && x < F32_2POW32 {
        Ok(x as u32)
    } else {
        Err(TrapCode::IntegerOverflow)
    }
}

/// `i32.trunc_f64_s`: NaN traps (invalid conversion); valid iff `-2^31-1 < x < 2^31` (e.g. `-2147483648.9 → MIN`), else overflow.
#[inline]
pub fn i32_trunc_f64_s(x: f64) -> Result<i32, TrapCode> {
    if x.is_nan() {
        Err(TrapCode::BadConversionToInteger)
    } else if x > -F64_2POW31 - 1.0 && x < F64_2POW31 {
        Ok(x as i32)
    } else {
        Err(TrapCode::IntegerOverflow)
    }
}

/// `i32.trunc_f64_u`: NaN traps (invalid conversion); valid iff `-1 < x < 2^32` (e.g. `4294967295.9 → MAX`), else overflow.
#[inline]
pub fn i32_trunc_f64_u(x: f64) -> Result<u32, TrapCode> {
    if x.is_nan() {
        Err(TrapCode::BadConversionToInteger)
    } else if x > -1.0 && x < F64_2POW32 {
        Ok(x as u32)
    } else {
        Err(TrapCode::IntegerOverflow)
    }
}

/// `i64.trunc_f32_s`: NaN traps (invalid conversion); valid iff `-2^63 <= x < 2^63`, else overflow.
#[inline]
pub fn i64_trunc_f32_s(x: f32) -> Result<i64, TrapCode> {
    if x.is_nan() {
        Err(TrapCode::BadConversionToInteger)
    } else if (-F32_2POW63..F32_2POW63).contains(&x) {
        Ok(x as i64)
    } else {
        Err(TrapCode::IntegerOverflow)
    }
}

/// `i64.trunc_f32_u`: NaN traps (invalid conversion); valid iff `-1 < x < 2^64`, else overflow.
#[inline]
pub fn i64_trunc_f32_u(x: f32) -> Result<u64, TrapCode> {
    if x.is_nan() {
        Err(TrapCode::BadConversionToInteger)
    } else if x > -1.0 && x < F32_2POW64 {
        Ok(x as u64)
    } else {
        Err(TrapCode::IntegerOverflow)
    }
}

/// `i64.trunc_f64_s`: NaN traps (invalid conversion); valid iff `-2^63 <= x < 2^63` (the next f64 below `-2^63` is `-2^63-2048`), else overflow.
#[inline]
pub fn i64_trunc_f64_s(x: f64) -> Result<i64, TrapCode> {
    if x.is_nan() {
        Err(TrapCode::BadConversionToInteger)
    } else if (-F64_2POW63..F64_2POW63).contains(&x) {
        Ok(x as i64)
    } else {
        Err(TrapCode::IntegerOverflow)
    }
}

/// `i64.trunc_f64_u`: NaN traps (invalid conversion); valid iff `-1 < x < 2^64`, else overflow.
#[inline]
pub fn i64_trunc_f64_u(x: f64) -> Result<u64, TrapCode> {
    if x.is_nan() {
        Err(TrapCode::BadConversionToInteger)
    } else if x > -1.0 && x < F64_2POW64 {
        Ok(x as u64)
    } else {
        Err(TrapCode::IntegerOverflow)
    }
}

// ---------------------------------------------------------------------------
// Saturating float → int truncation (Rust's `as` is exactly wasm's semantics)
// ---------------------------------------------------------------------------

/// `i32.trunc_sat_f32_s`: truncates toward zero, clamps to `[MIN, MAX]`; NaN → 0.
#[inline]
pub fn i32_trunc_sat_f32_s(x: f32) -> i32 {
    x as i32
}

/// `i32.trunc_sat_f32_u`: truncates toward zero, clamps to `[0, MAX]`; NaN → 0.
#[inline]
pub fn i32_trunc_sat_f32_u(x: f32) -> u32 {
    x as u32
}

/// `i32.trunc_sat_f64_s`: truncates toward zero, clamps to `[MIN, MAX]`; NaN → 0.
#[inline]
pub fn i32_trunc_sat_f64_s(x: f64) -> i32 {
    x as i32
}

/// `i32.trunc_sat_f64_u`: truncates toward zero, clamps to `[0, MAX]`; NaN → 0.
#[inline]
pub fn i32_trunc_sat_f64_u(x: f64) -> u32 {
    x as u32
}

/// `i64.trunc_sat_f32_s`: truncates toward zero, clamps to `[MIN, MAX]`; NaN → 0.
#[inline]
pub fn i64_trunc_sat_f32_s(x: f32) -> i64 {
    x as i64
}

/// `i64.trunc_sat_f32_u`: truncates toward zero, clamps to `[0, MAX]`; NaN → 0.
#[inline]
pub fn i64_trunc_sat_f32_u(x: f32) -> u64 {
    x as u64
}

/// `i64.trunc_sat_f64_s`: truncates toward zero, clamps to `[MIN, MAX]`; NaN → 0.
#[inline]
pub fn i64_trunc_sat_f64_s(x: f64) -> i64 {
    x as i64
}

/// `i64.trunc_sat_f64_u`: truncates toward zero, clamps to `[0, MAX]`; NaN → 0.
#[inline]
pub fn i64_trunc_sat_f64_u(x: f64) -> u64 {
    x as u64
}

// ---------------------------------------------------------------------------
// int → float conversion (`as` rounds to nearest, ties to even)
// ---------------------------------------------------------------------------

/// `f32.convert_i32_s`: rounds to nearest, ties to even.
#[inline]
pub fn f32_convert_i32_s(x: i32) -> f32 {
    x as f32
}

/// `f32.convert_i32_u`: rounds to nearest, ties to even.
#[inline]
pub fn f32_convert_i32_u(x: u32) -> f32 {
    x as f32
}

/// `f32.convert_i64_s`: rounds to nearest, ties to even (a single rounding, no double rounding).
#[inline]
pub fn f32_convert_i64_s(x: i64) -> f32 {
    x as f32
}

/// `f32.convert_i64_u`: rounds to nearest, ties to even (a single rounding, no double rounding).
#[inline]
pub fn f32_convert_i64_u(x: u64) -> f32 {
    x as f32
}

/// `f64.convert_i32_s`: exact.
#[inline]
pub fn f64_convert_i32_s(x: i32) -> f64 {
    f64::from(x)
}

/// `f64.convert_i32_u`: exact.
#[inline]
pub fn f64_convert_i32_u(x: u32) -> f64 {
    f64::from(x)
}

/// `f64.convert_i64_s`: rounds to nearest, ties to even.
#[inline]
pub fn f64_convert_i64_s(x: i64) -> f64 {
    x as f64
}

/// `f64.convert_i64_u`: rounds to nearest, ties to even.
#[inline]
pub fn f64_convert_i64_u(x: u64) -> f64 {
    x as f64
}

// ---------------------------------------------------------------------------
// float ↔ float
// ---------------------------------------------------------------------------

/// `f32.demote_f64`: rounds to nearest, ties to even (overflow → ±∞); NaN → NaN of the same sign, quiet, with the top 22 payload bits kept (canonical stays canonical).
#[inline]
pub fn f32_demote_f64(x: f64) -> f32 {
    if x.is_nan() {
        let bits = x.to_bits();
        let sign = ((bits >> 32) as u32) & F32_SIGN;
        let payload = ((bits >> 29) as u32) & 0x007f_ffff;
        f32::from_bits(sign | 0x7f80_0000 | F32_QUIET | payload)
    } else {
        x as f32
    }
}

/// `f64.promote_f32`: exact; NaN → NaN of the same sign, quiet, payload shifted into the top bits (canonical stays canonical).
#[inline]
pub fn f64_promote_f32(x: f32) -> f64 {
    if x.is_nan() {
        let bits = u64::from(x.to_bits());
        let sign = (bits << 32) & F64_SIGN;
        let payload = (bits & 0x007f_ffff) << 29;
        f64::from_bits(sign | 0x7ff0_0000_0000_0000 | F64_QUIET | payload)
    } else {
        f64::from(x)
    }
}

// ---------------------------------------------------------------------------
// Reinterpretation (bit casts)
// ---------------------------------------------------------------------------

/// `i32.reinterpret_f32`: the raw bits, NaN payload preserved.
#[inline]
pub fn i32_reinterpret_f32(x: f32) -> i32 {
    x.to_bits() as i32
}

/// `i64.reinterpret_f64`: the raw bits, NaN payload preserved.
#[inline]
pub fn i64_reinterpret_f64(x: f64) -> i64 {
    x.to_bits() as i64
}

/// `f32.reinterpret_i32`: the raw bits, NaN payload preserved (signalling NaNs are not quieted).
#[inline]
pub fn f32_reinterpret_i32(x: i32) -> f32 {
    f32::from_bits(x as u32)
}

/// `f64.reinterpret_i64`: the raw bits, NaN payload preserved (signalling NaNs are not quieted).
#[inline]
pub fn f64_reinterpret_i64(x: i64) -> f64 {
    f64::from_bits(x as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const F32_CANON: u32 = 0x7fc0_0000;
    const F64_CANON: u64 = 0x7ff8_0000_0000_0000;

    #[test]
    fn int_div_rem_edges() {
        assert_eq!(i32_div_s(i32::MIN, -1), Err(TrapCode::IntegerOverflow));
        assert_eq!(i64_div_s(i64::MIN, -1), Err(TrapCode::IntegerOverflow));
        assert_eq!(i32_rem_s(i32::MIN, -1), Ok(0));
        assert_eq!(i64_rem_s(i64::MIN, -1), Ok(0));
        assert_eq!(i32_div_s(1, 0), Err(TrapCode::IntegerDivisionByZero));
        assert_eq!(i32_div_s(i32::MIN, 0), Err(TrapCode::IntegerDivisionByZero));
        assert_eq!(i32_div_u(1, 0), Err(TrapCode::IntegerDivisionByZero));
        assert_eq!(i32_rem_s(1, 0), Err(TrapCode::IntegerDivisionByZero));
        assert_eq!(i32_rem_u(1, 0), Err(TrapCode::IntegerDivisionByZero));
        assert_eq!(i64_div_s(1, 0), Err(TrapCode::IntegerDivisionByZero));
        assert_eq!(i64_div_u(1, 0), Err(TrapCode::IntegerDivisionByZero));
        assert_eq!(i64_rem_s(1, 0), Err(TrapCode::IntegerDivisionByZero));
        assert_eq!(i64_rem_u(1, 0), Err(TrapCode::IntegerDivisionByZero));
        assert_eq!(i32_div_s(-7, 2), Ok(-3));
        assert_eq!(i32_rem_s(-7, 2), Ok(-1));
        assert_eq!(i32_rem_s(7, -2), Ok(1));
        assert_eq!(i32_div_u(-1i32 as u32, 2), Ok(0x7fff_ffff));
        assert_eq!(i32_rem_u(0x8000_0001, 2), Ok(1));
        assert_eq!(i64_div_s(i64::MIN, 2), Ok(i64::MIN / 2));
        assert_eq!(i64_rem_u(u64::MAX, 10), Ok(5));
    }

    #[test]
    fn shift_and_rotate_edges() {
        assert_eq!(i32_shl(1, 32), 1);
        assert_eq!(i32_shl(1, 33), 2);
        assert_eq!(i32_shl(1, -1), i32::MIN);
        assert_eq!(i32_shr_s(i32::MIN, 31), -1);
        assert_eq!(i32_shr_s(i32::MIN, 32), i32::MIN);
        assert_eq!(i32_shr_u(i32::MIN, 31), 1);
        assert_eq!(i32_shr_u(-1, -1), 1);
        assert_eq!(i32_rotl(i32::MIN, 1), 1);
        assert_eq!(i32_rotr(1, 1), i32::MIN);
        assert_eq!(i32_rotl(0x1234_5678, 36), 0x2345_6781);
        assert_eq!(i32_rotr(0x1234_5678, -4), 0x2345_6781);
        assert_eq!(i64_shl(1, 64), 1);
        assert_eq!(i64_shl(1, -1), i64::MIN);
        assert_eq!(i64_shr_s(i64::MIN, 63), -1);
        assert_eq!(i64_shr_u(i64::MIN, 63), 1);
        assert_eq!(i64_shr_u(-1, 64), -1);
        assert_eq!(i64_rotl(i64::MIN, 65), 1);
        assert_eq!(i64_rotr(1, -63), i64::MIN);
        assert_eq!(i64_rotl(1, -63), 2);
        assert_eq!(i32_clz(0), 32);
        assert_eq!(i32_ctz(0), 32);
        assert_eq!(i64_clz(0), 64);
        assert_eq!(i64_ctz(0), 64);
        assert_eq!(i64_popcnt(-1), 64);
    }

    #[test]
    fn sign_extension_edges() {
        assert_eq!(i32_extend8_s(0x80), -128);
        assert_eq!(i32_extend8_s(0x7f), 127);
        assert_eq!(i32_extend8_s(0x1234_5680), -128);
        assert_eq!(i32_extend16_s(0x8000), -32768);
        assert_eq!(i32_extend16_s(0x7fff_7fff), 0x7fff);
        assert_eq!(i64_extend8_s(0xff), -1);
        assert_eq!(i64_extend16_s(0x0123_4567_89ab_8000), -32768);
        assert_eq!(i64_extend32_s(0x8000_0000), i64::from(i32::MIN));
        assert_eq!(i64_extend32_s(0x7fff_ffff_7fff_ffff), 0x7fff_ffff);
        assert_eq!(i64_extend_i32_u(-1), 0xffff_ffff);
        assert_eq!(i64_extend_i32_s(-1), -1);
        assert_eq!(i32_wrap_i64(0x1_0000_0001), 1);
    }

    #[test]
    fn sign_ops_keep_nan_payload() {
        let snan = f32::from_bits(0x7fa0_0001);
        assert_eq!(f32_abs(f32::from_bits(0xffa0_0001)).to_bits(), 0x7fa0_0001);
        assert_eq!(f32_neg(snan).to_bits(), 0xffa0_0001);
        assert_eq!(f32_copysign(snan, -1.0).to_bits(), 0xffa0_0001);
        assert_eq!(f32_copysign(1.0, f32::from_bits(0xffc0_0000)), -1.0);
        assert_eq!(f32_neg(0.0).to_bits(), 0x8000_0000);
        let snan64 = f64::from_bits(0x7ff4_0000_0000_0001);
        assert_eq!(f64_neg(snan64).to_bits(), 0xfff4_0000_0000_0001);
        assert_eq!(f64_abs(f64_neg(snan64)).to_bits(), 0x7ff4_0000_0000_0001);
        assert_eq!(f64_copysign(snan64, -0.0).to_bits(), 0xfff4_0000_0000_0001);
        assert_eq!(f64_copysign(-2.0, 0.0), 2.0);
    }

    #[test]
    fn min_max_edges() {
        assert_eq!(f32_min(-0.0, 0.0).to_bits(), 0x8000_0000);
        assert_eq!(f32_min(0.0, -0.0).to_bits(), 0x8000_0000);
        assert_eq!(f32_max(-0.0, 0.0).to_bits(), 0);
        assert_eq!(f32_max(0.0, -0.0).to_bits(), 0);
        assert_eq!(f64_min(-0.0, 0.0).to_bits(), F64_SIGN);
        assert_eq!(f64_max(0.0, -0.0).to_bits(), 0);
        assert_eq!(f32_min(f32::NAN, 1.0).to_bits(), F32_CANON);
        assert_eq!(f32_max(1.0, f32::NAN).to_bits(), F32_CANON);
        assert_eq!(f64_min(2.0, f64::NAN).to_bits(), F64_CANON);
        // A signalling NaN comes out quiet (arithmetic).
        assert_eq!(
            f32_max(f32::from_bits(0x7f80_0001), 0.0).to_bits(),
            0x7fc0_0001
        );
        assert_eq!(
            f64_min(0.0, f64::from_bits(0xfff0_0000_0000_0001)).to_bits(),
            0xfff8_0000_0000_0001
        );
        assert_eq!(f32_min(f32::NEG_INFINITY, f32::MIN), f32::NEG_INFINITY);
        assert_eq!(f64_max(f64::INFINITY, f64::MAX), f64::INFINITY);
        assert_eq!(f32_min(1.0, 2.0), 1.0);
        assert_eq!(f32_max(1.0, 2.0), 2.0);
    }

    #[test]
    fn nearest_edges() {
        for (x, r) in [
            (0.5f32, 0.0f32),
            (1.5, 2.0),
            (2.5, 2.0),
            (3.5, 4.0),
            (-0.5, -0.0),
            (-1.5, -2.0),
            (-2.5, -2.0),
            (0.49999997, 0.0),
            (8388607.5, 8388608.0),
            (8388609.0, 8388609.0),
            (16777215.0, 16777215.0),
        ] {
            assert_eq!(f32_nearest(x).to_bits(), r.to_bits(), "nearest({x})");
            assert_eq!(f64_nearest(f64::from(x)).to_bits(), f64::from(r).to_bits());
        }
        assert_eq!(f32_nearest(-0.4).to_bits(), 0x8000_0000);
        assert_eq!(f64_nearest(-0.4).to_bits(), F64_SIGN);
        assert_eq!(f32_nearest(-0.0).to_bits(), 0x8000_0000);
        assert_eq!(f64_nearest(4503599627370495.5), 4503599627370496.0);
        assert_eq!(f64_nearest(4503599627370497.0), 4503599627370497.0);
        assert_eq!(
            f32_nearest(f32::from_bits(0x7f80_0001)).to_bits(),
            0x7fc0_0001
        );
        assert_eq!(f32_ceil(-0.5).to_bits(), 0x8000_0000);
        assert_eq!(f64_trunc(-0.5).to_bits(), F64_SIGN);
        assert_eq!(
            f32_floor(f32::from_bits(0xff80_0001)).to_bits(),
            0xffc0_0001
        );
        assert_eq!(f64_sqrt(-0.0).to_bits(), F64_SIGN);
        assert!(f32_sqrt(-1.0).is_nan());
    }

    #[test]
    fn trunc_bounds() {
        use TrapCode::{BadConversionToInteger as Nan, IntegerOverflow as Ovf};
        assert_eq!((-2147483648.0f32).next_down(), -2147483904.0);
        assert_eq!(i32_trunc_f32_s(-2147483648.0), Ok(i32::MIN));
        assert_eq!(i32_trunc_f32_s(-2147483904.0), Err(Ovf));
        assert_eq!(i32_trunc_f32_s(2147483520.0), Ok(2147483520));
        assert_eq!(i32_trunc_f32_s(2147483648.0), Err(Ovf));
        assert_eq!(i32_trunc_f32_s(f32::NAN), Err(Nan));
        assert_eq!(i32_trunc_f32_s(-f32::NAN), Err(Nan));
        assert_eq!(i32_trunc_f32_s(f32::INFINITY), Err(Ovf));
        assert_eq!(i32_trunc_f32_s(-0.9), Ok(0));
        assert_eq!(i32_trunc_f32_u(-0.99999994), Ok(0));
        assert_eq!(i32_trunc_f32_u(-1.0), Err(Ovf));
        assert_eq!(i32_trunc_f32_u(4294967040.0), Ok(4294967040));
        assert_eq!(i32_trunc_f32_u(4294967296.0), Err(Ovf));
        assert_eq!(i32_trunc_f64_s(-2147483648.9), Ok(i32::MIN));
        assert_eq!(i32_trunc_f64_s(-2147483649.0), Err(Ovf));
        assert_eq!(i32_trunc_f64_s(2147483647.9), Ok(i32::MAX));
        assert_eq!(i32_trunc_f64_s(2147483648.0), Err(Ovf));
        assert_eq!(i32_trunc_f64_u(-0.9), Ok(0));
        assert_eq!(i32_trunc_f64_u(-1.0), Err(Ovf));
        assert_eq!(i32_trunc_f64_u(4294967295.9), Ok(u32::MAX));
        assert_eq!(i32_trunc_f64_u(4294967296.0), Err(Ovf));
        assert_eq!(i32_trunc_f64_u(f64::NAN), Err(Nan));
        assert_eq!(i64_trunc_f32_s(-9223372036854775808.0), Ok(i64::MIN));
        assert_eq!(
            i64_trunc_f32_s((-9223372036854775808.0f32).next_down()),
            Err(Ovf)
        );
        assert_eq!(i64_trunc_f32_s(9223372036854775808.0), Err(Ovf));
        assert_eq!(
            i64_trunc_f32_s(9223372036854775808.0f32.next_down()),
            Ok(9223371487098961920)
        );
        assert_eq!(i64_trunc_f32_u(-0.9), Ok(0));
        assert_eq!(i64_trunc_f32_u(18446744073709551616.0), Err(Ovf));
        assert_eq!(
            i64_trunc_f32_u(18446744073709551616.0f32.next_down()),
            Ok(18446742974197923840)
        );
        assert_eq!(i64_trunc_f64_s(-9223372036854775808.0), Ok(i64::MIN));
        assert_eq!(
            i64_trunc_f64_s((-9223372036854775808.0f64).next_down()),
            Err(Ovf)
        );
        assert_eq!(i64_trunc_f64_s(9223372036854775808.0), Err(Ovf));
        assert_eq!(
            i64_trunc_f64_s(9223372036854775808.0f64.next_down()),
            Ok(9223372036854774784)
        );
        assert_eq!(i64_trunc_f64_u(-0.9999999999999999), Ok(0));
        assert_eq!(i64_trunc_f64_u(-1.0), Err(Ovf));
        assert_eq!(i64_trunc_f64_u(18446744073709551616.0), Err(Ovf));
        assert_eq!(
            i64_trunc_f64_u(18446744073709551616.0f64.next_down()),
            Ok(18446744073709549568)
        );
        assert_eq!(i64_trunc_f64_u(-f64::NAN), Err(Nan));
    }

    #[test]
    fn trunc_sat_edges() {
        assert_eq!(i32_trunc_sat_f32_s(f32::NAN), 0);
        assert_eq!(i32_trunc_sat_f32_s(f32::INFINITY), i32::MAX);
        assert_eq!(i32_trunc_sat_f32_s(f32::NEG_INFINITY), i32::MIN);
        assert_eq!(i32_trunc_sat_f32_u(-5.0), 0);
        assert_eq!(i32_trunc_sat_f32_u(5e9), u32::MAX);
        assert_eq!(i32_trunc_sat_f64_s(-2147483649.0), i32::MIN);
        assert_eq!(i32_trunc_sat_f64_u(-f64::NAN), 0);
        assert_eq!(i64_trunc_sat_f32_s(1e30), i64::MAX);
        assert_eq!(i64_trunc_sat_f32_u(-0.5), 0);
        assert_eq!(i64_trunc_sat_f64_s(-1e300), i64::MIN);
        assert_eq!(i64_trunc_sat_f64_u(f64::INFINITY), u64::MAX);
        assert_eq!(i64_trunc_sat_f64_s(-1.9), -1);
    }

    #[test]
    fn conversion_edges() {
        // Ties to even, single rounding.
        assert_eq!(f32_convert_i32_s(16777217), 16777216.0);
        assert_eq!(f32_convert_i32_s(16777219), 16777220.0);
        assert_eq!(f32_convert_i32_u(u32::MAX), 4294967296.0);
        assert_eq!(f32_convert_i64_u(u64::MAX), 18446744073709551616.0);
        // 2^53 + 1 + 2^29·k-type inputs where double rounding through f64 would be wrong.
        assert_eq!(f32_convert_i64_s(9007199791611905), 9007200328482816.0);
        assert_eq!(
            f32_convert_i64_u(0x8000_0080_0000_0001),
            9223373136366403584.0
        );
        assert_eq!(f64_convert_i64_u(u64::MAX), 18446744073709551616.0);
        assert_eq!(f64_convert_i64_s(9007199254740993), 9007199254740992.0);
        assert_eq!(f64_convert_i32_u(u32::MAX), 4294967295.0);
        assert_eq!(f64_convert_i32_s(i32::MIN), -2147483648.0);
        // demote/promote
        assert_eq!(f32_demote_f64(f64::MAX), f32::INFINITY);
        assert_eq!(f32_demote_f64(-0.0).to_bits(), 0x8000_0000);
        assert_eq!(f32_demote_f64(f64::NAN).to_bits(), F32_CANON);
        assert_eq!(f32_demote_f64(-f64::NAN).to_bits(), 0xffc0_0000);
        assert_eq!(
            f32_demote_f64(f64::from_bits(0x7ff0_0000_0000_0001)).to_bits(),
            F32_CANON
        );
        assert_eq!(
            f32_demote_f64(f64::from_bits(0x7ff4_0000_2000_0000)).to_bits(),
            0x7fe0_0001
        );
        assert_eq!(f64_promote_f32(f32::NAN).to_bits(), F64_CANON);
        assert_eq!(
            f64_promote_f32(f32::from_bits(0xff80_0001)).to_bits(),
            0xfff8_0000_2000_0000
        );
        assert_eq!(
            f64_promote_f32(f32::MIN_POSITIVE / 4.0),
            2.938735877055719e-39
        );
        assert_eq!(i32_reinterpret_f32(-0.0), i32::MIN);
        assert_eq!(f32_reinterpret_i32(0x7fa0_0000).to_bits(), 0x7fa0_0000);
        assert_eq!(i64_reinterpret_f64(f64_reinterpret_i64(-3)), -3);
    }
}
