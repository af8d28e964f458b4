//! A bounds-checked cursor over module bytes: LEB128 integers, floats, names, vectors.
//!
//! Every read checks the remaining length first and returns an [`Error`] with the absolute
//! offset of the byte that was wrong; nothing here can panic or read out of bounds. The
//! integer readers follow the binary format exactly: an `N`-bit integer takes at most
//! `ceil(N / 7)` bytes (padding with `0x80` continuation bytes up to that length is legal, as
//! wasm-ld emits for relocatable `call_indirect` indices), and the unused high bits of the last
//! byte must be zero (unsigned) or a sign extension (signed).

use crate::error::{Error, Result};

/// A cursor over a byte slice that knows the slice's absolute position in the module.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Absolute offset of `buf[0]` within the module, for error messages.
    origin: usize,
}

impl<'a> Reader<'a> {
    /// A reader over the whole of `buf`, which starts at absolute offset `origin`.
    pub fn new(buf: &'a [u8], origin: usize) -> Self {
        Self {
            buf,
            pos: 0,
            origin,
        }
    }

    /// Absolute offset of the next byte to be read.
    #[inline]
    pub fn offset(&self) -> usize {
        self.origin + self.pos
    }

    /// Position relative to the start of this reader's slice.
    #[inline]
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes not yet read.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// True when every byte has been read.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.pos == self.buf.len()
    }

    /// The unread bytes.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    #[cold]
    fn eof(&self) -> Error {
        Error::malformed(self.offset(), "unexpected end of input")
    }

    /// Reads one byte.
    #[inline]
    pub fn read_u8(&mut self) -> Result<u8> {
        match self.buf.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(self.eof()),
        }
    }

    /// Looks at the next byte without consuming it.
    #[inline]
    pub fn peek_u8(&self) -> Result<u8> {
        self.buf.get(self.pos).copied().ok_or_else(|| self.eof())
    }

    /// Reads `n` raw bytes.
    pub fn read_bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(Error::malformed(
                self.offset(),
                format!(
                    "unexpected end: {n} bytes needed, {} left",
                    self.remaining()
                ),
            ));
        }
        let bytes = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(bytes)
    }

    /// Reads exactly `N` bytes into an array.
    pub fn read_array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let bytes = self.read_bytes(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// A sub-reader over the next `len` bytes; this reader skips past them.
    pub fn sub_reader(&mut self, len: usize) -> Result<Reader<'a>> {
        let origin = self.offset();
        let bytes = self.read_bytes(len)?;
        Ok(Reader::new(bytes, origin))
    }

    /// Unsigned LEB128 of at most `bits` bits (`bits` ≤ 64).
    #[inline]
    fn read_uleb(&mut self, bits: u32) -> Result<u64> {
        let start = self.offset();
        let mut result: u64 = 0;
        let mut shift: u32 = 0;
        loop {
            let byte = self.read_u8()?;
            let payload = u64::from(byte & 0x7f);
            if shift + 7 >= bits {
                // Last permitted byte: no continuation, and no bits beyond `bits`.
                let used = bits - shift;
                if byte & 0x80 != 0 {
                    return Err(Error::malformed(start, "integer representation too long"));
                }
                if used < 7 && (payload >> used) != 0 {
                    return Err(Error::malformed(start, "integer too large"));
                }
                return Ok(result | (payload << shift));
            }
            result |= payload << shift;
            if byte & 0x80 == 0 {
                return Ok(result);
            }
            shift += 7;
        }
    }

    /// Signed LEB128 of at most `bits` bits (`bits` ≤ 64), sign-extended to i64.
    #[inline]
    fn read_sleb(&mut self, bits: u32) -> Result<i64> {
        let start = self.offset();
        let mut result: i64 = 0;
        let mut shift: u32 = 0;
        loop {
            let byte = self.read_u8()?;
            let payload = i64::from(byte & 0x7f);
            if shift + 7 >= bits {
                if byte & 0x80 != 0 {
                    return Err(Error::malformed(start, "integer representation too long"));
                }
                // The bits of the last byte above the value's width must all equal the sign
                // bit (bit `bits - 1` of the value, which is bit `used - 1` of this byte).
                let used = bits - shift;
                if used < 7 {
                    let sign_and_unused = (byte as i8) << 1 >> used; // arithmetic shift
                    if sign_and_unused != 0 && sign_and_unused != -1 {
                        return Err(Error::malformed(start, "integer too large"));
                    }
                }
                result |= payload << shift;
                // Sign-extend from `bits`.
                let unused = 64 - bits;
                return Ok((result << unused) >> unused);
            }
            result |= payload << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                if shift < 64 && (byte & 0x40) != 0 {
                    result |= -1i64 << shift;
                }
                return Ok(result);
            }
        }
    }

    /// `u32` in LEB128 (at most 5 bytes).
    #[inline]
    pub fn read_var_u32(&mut self) -> Result<u32> {
        // Fast path: one byte, the overwhelmingly common case for indices and counts.
        if let Some(&b) = self.buf.get(self.pos) {
            if b & 0x80 == 0 {
                self.pos += 1;
                return Ok(u32::from(b));
            }
        }
        self.read_uleb(32).map(|v| v as u32)
    }

    /// `u64` in LEB128 (at most 10 bytes).
    pub fn read_var_u64(&mut self) -> Result<u64> {
        self.read_uleb(64)
    }

    /// `i32` in signed LEB128 (at most 5 bytes).
    #[inline]
    pub fn read_var_i32(&mut self) -> Result<i32> {
        self.read_sleb(32).map(|v| v as i32)
    }

    /// `i64` in signed LEB128 (at most 10 bytes).
    pub fn read_var_i64(&mut self) -> Result<i64> {
        self.read_sleb(64)
    }

    /// The 33-bit signed integer of block types.
    pub fn read_var_s33(&mut self) -> Result<i64> {
        self.read_sleb(33)
    }

    /// A length-prefixed count for a vector whose elements take at least `min_elem_size`
    /// bytes each. Rejects counts that cannot fit in the remaining input, so callers may use
    /// the count as a `Vec` capacity without trusting the input.
    pub fn read_count(&mut self, min_elem_size: usize) -> Result<u32> {
        let at = self.offset();
        let count = self.read_var_u32()?;
        if (count as usize).saturating_mul(min_elem_size) > self.remaining() {
            return Err(Error::malformed(
                at,
                format!(
                    "unexpected end: vector of {count} elements does not fit in the {} bytes left",
                    self.remaining()
                ),
            ));
        }
        Ok(count)
    }

    /// A length-prefixed UTF-8 name.
    pub fn read_name(&mut self) -> Result<&'a str> {
        let len = self.read_var_u32()? as usize;
        let at = self.offset();
        let bytes = self.read_bytes(len)?;
        std::str::from_utf8(bytes).map_err(|_| Error::malformed(at, "malformed UTF-8 encoding"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn u32_of(bytes: &[u8]) -> Result<u32> {
        Reader::new(bytes, 0).read_var_u32()
    }
    fn i32_of(bytes: &[u8]) -> Result<i32> {
        Reader::new(bytes, 0).read_var_i32()
    }

    #[test]
    fn padded_leb_is_accepted_within_the_width() {
        // wasm-ld's 5-byte padded relocation form of 0.
        assert_eq!(u32_of(&[0x80, 0x80, 0x80, 0x80, 0x00]).unwrap(), 0);
        assert_eq!(u32_of(&[0xff, 0xff, 0xff, 0xff, 0x0f]).unwrap(), u32::MAX);
        assert_eq!(i32_of(&[0xff, 0xff, 0xff, 0xff, 0x7f]).unwrap(), -1);
        assert_eq!(i32_of(&[0x80, 0x80, 0x80, 0x80, 0x78]).unwrap(), i32::MIN);
    }

    #[test]
    fn overlong_and_overflowing_leb_is_rejected() {
        let e = u32_of(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x00]).unwrap_err();
        assert_eq!(e.message(), "integer representation too long");
        let e = u32_of(&[0xff, 0xff, 0xff, 0xff, 0x1f]).unwrap_err();
        assert_eq!(e.message(), "integer too large");
        // Unused bits of a negative i32 must be ones, of a positive one zeros.
        assert_eq!(
            i32_of(&[0xff, 0xff, 0xff, 0xff, 0x4f])
                .unwrap_err()
                .message(),
            "integer too large"
        );
        assert_eq!(
            i32_of(&[0x80, 0x80, 0x80, 0x80, 0x70])
                .unwrap_err()
                .message(),
            "integer too large"
        );
        assert!(u32_of(&[0x80])
            .unwrap_err()
            .message()
            .starts_with("unexpected end"));
    }

    #[test]
    fn errors_carry_absolute_offsets() {
        let mut r = Reader::new(&[0x01, 0x80], 100);
        assert_eq!(r.read_u8().unwrap(), 1);
        let e = r.read_var_u32().unwrap_err();
        assert_eq!(e.offset(), 102);
    }

    #[test]
    fn counts_that_cannot_fit_are_rejected_before_allocation() {
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff, 0x0f, 0x00], 0);
        assert!(r.read_count(1).is_err());
    }

    proptest! {
        #[test]
        fn u32_round_trips_against_leb128_crate(v: u32) {
            let mut buf = Vec::new();
            leb128::write::unsigned(&mut buf, u64::from(v)).unwrap();
            prop_assert_eq!(u32_of(&buf).unwrap(), v);
        }

        #[test]
        fn i32_round_trips_against_leb128_crate(v: i32) {
            let mut buf = Vec::new();
            leb128::write::signed(&mut buf, i64::from(v)).unwrap();
            prop_assert_eq!(i32_of(&buf).unwrap(), v);
        }

        #[test]
        fn i64_round_trips_against_leb128_crate(v: i64) {
            let mut buf = Vec::new();
            leb128::write::signed(&mut buf, v).unwrap();
            prop_assert_eq!(Reader::new(&buf, 0).read_var_i64().unwrap(), v);
        }

        #[test]
        fn u64_round_trips_against_leb128_crate(v: u64) {
            let mut buf = Vec::new();
            leb128::write::unsigned(&mut buf, v).unwrap();
            prop_assert_eq!(Reader::new(&buf, 0).read_var_u64().unwrap(), v);
        }

        #[test]
        fn s33_agrees_with_leb128_crate_in_range(v in -(1i64 << 32)..(1i64 << 32)) {
            let mut buf = Vec::new();
            leb128::write::signed(&mut buf, v).unwrap();
            prop_assert_eq!(Reader::new(&buf, 0).read_var_s33().unwrap(), v);
        }

        #[test]
        fn padding_to_full_width_preserves_value(v: u32, extra in 0usize..4) {
            // Re-encode with continuation padding up to 5 bytes.
            let mut buf = Vec::new();
            leb128::write::unsigned(&mut buf, u64::from(v)).unwrap();
            let pad = extra.min(5 - buf.len());
            if pad > 0 {
                let last = buf.len() - 1;
                buf[last] |= 0x80;
                buf.extend(std::iter::repeat_n(0x80, pad - 1));
                buf.push(0x00);
            }
            prop_assert_eq!(u32_of(&buf).unwrap(), v);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes: Vec<u8>) {
            let mut r = Reader::new(&bytes, 0);
            let _ = r.read_var_u32();
            let _ = r.read_var_i64();
            let _ = r.read_var_s33();
            let _ = r.read_name();
        }
    }
}
