//! Instructions: the [`Operator`] enum and the reader that decodes a body into it, both
//! expanded from the table in `table.rs` (`for_each_operator!`).

use crate::error::{Error, Result};
use crate::reader::Reader;
use crate::types::{BlockType, Features, RefType, ValType};

/// Bit pattern of an `f32` immediate (kept as bits so NaN payloads survive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ieee32(pub u32);

/// Bit pattern of an `f64` immediate (kept as bits so NaN payloads survive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ieee64(pub u64);

/// A 128-bit SIMD constant, little-endian.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct V128(pub [u8; 16]);

/// The immediate of loads and stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MemArg {
    /// log2 of the promised alignment.
    pub align: u32,
    /// Constant added to the dynamic address.
    pub offset: u64,
    /// Memory index (always 0 without multi-memory).
    pub memory: u32,
}

/// The targets of a `br_table`, read lazily from the bytes (already checked well-formed).
#[derive(Clone, PartialEq, Eq)]
pub struct BrTable<'a> {
    reader: Reader<'a>,
    count: u32,
    default: u32,
}

impl<'a> BrTable<'a> {
    /// Number of targets, not counting the default.
    pub fn len(&self) -> u32 {
        self.count
    }

    /// True when only the default target exists.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The default target's relative depth.
    pub fn default(&self) -> u32 {
        self.default
    }

    /// The targets' relative depths, in order (without the default).
    pub fn targets(&self) -> impl Iterator<Item = u32> + 'a {
        let mut reader = self.reader.clone();
        // Every LEB was checked when the table was read, so this cannot fail.
        (0..self.count).map(move |_| reader.read_var_u32().unwrap_or(0))
    }
}

impl std::fmt::Debug for BrTable<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrTable")
            .field("targets", &self.targets().collect::<Vec<_>>())
            .field("default", &self.default)
            .finish()
    }
}

impl Eq for Reader<'_> {}
impl PartialEq for Reader<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.offset() == other.offset() && self.rest() == other.rest()
    }
}

/// The type list of a typed `select` (valid only with exactly one type).
#[derive(Clone, PartialEq, Eq)]
pub struct SelectTypes<'a> {
    reader: Reader<'a>,
    count: u32,
}

impl<'a> SelectTypes<'a> {
    /// Number of types listed.
    pub fn len(&self) -> u32 {
        self.count
    }

    /// True for an empty list.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The types, in order (already checked well-formed).
    pub fn types(&self) -> impl Iterator<Item = ValType> + 'a {
        let mut reader = self.reader.clone();
        (0..self.count).filter_map(move |_| reader.read_u8().ok().and_then(ValType::from_byte))
    }

    /// The one type of a well-typed typed select.
    pub fn single(&self) -> Option<ValType> {
        if self.count == 1 {
            self.types().next()
        } else {
            None
        }
    }
}

impl std::fmt::Debug for SelectTypes<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.types()).finish()
    }
}

/// Reading a value type, rejecting the types of proposals that are off.
pub fn read_val_type(r: &mut Reader<'_>, features: &Features) -> Result<ValType> {
    let at = r.offset();
    let byte = r.read_u8()?;
    match ValType::from_byte(byte) {
        Some(ValType::V128) if !features.simd => Err(Error::malformed(
            at,
            "malformed value type: v128 needs the simd feature",
        )),
        Some(t) if t.is_ref() && !features.reference_types => Err(Error::malformed(
            at,
            format!("malformed value type: {t} needs the reference_types feature"),
        )),
        Some(t) => Ok(t),
        None => Err(Error::malformed(
            at,
            format!("malformed value type 0x{byte:02x}"),
        )),
    }
}

/// Reading a reference type (table element type, `ref.null` heap type).
pub fn read_ref_type(r: &mut Reader<'_>, features: &Features) -> Result<RefType> {
    let at = r.offset();
    match r.read_u8()? {
        0x70 => Ok(RefType::FuncRef),
        0x6f if features.reference_types => Ok(RefType::ExternRef),
        byte => Err(Error::malformed(
            at,
            format!("malformed reference type 0x{byte:02x}"),
        )),
    }
}

/// An instruction immediate that knows how to read itself.
pub trait Immediate<'a>: Sized {
    /// Reads the immediate from `r` under `features`.
    fn read(r: &mut Reader<'a>, features: &Features) -> Result<Self>;
}

impl<'a> Immediate<'a> for u32 {
    #[inline]
    fn read(r: &mut Reader<'a>, _: &Features) -> Result<Self> {
        r.read_var_u32()
    }
}

impl<'a> Immediate<'a> for i32 {
    #[inline]
    fn read(r: &mut Reader<'a>, _: &Features) -> Result<Self> {
        r.read_var_i32()
    }
}

impl<'a> Immediate<'a> for i64 {
    fn read(r: &mut Reader<'a>, _: &Features) -> Result<Self> {
        r.read_var_i64()
    }
}

impl<'a> Immediate<'a> for u8 {
    fn read(r: &mut Reader<'a>, _: &Features) -> Result<Self> {
        r.read_u8()
    }
}

impl<'a> Immediate<'a> for [u8; 16] {
    fn read(r: &mut Reader<'a>, _: &Features) -> Result<Self> {
        r.read_array()
    }
}

impl<'a> Immediate<'a> for Ieee32 {
    fn read(r: &mut Reader<'a>, _: &Features) -> Result<Self> {
        r.read_array().map(|b| Ieee32(u32::from_le_bytes(b)))
    }
}

impl<'a> Immediate<'a> for Ieee64 {
    fn read(r: &mut Reader<'a>, _: &Features) -> Result<Self> {
        r.read_array().map(|b| Ieee64(u64::from_le_bytes(b)))
    }
}

impl<'a> Immediate<'a> for V128 {
    fn read(r: &mut Reader<'a>, _: &Features) -> Result<Self> {
        r.read_array().map(V128)
    }
}

impl<'a> Immediate<'a> for RefType {
    fn read(r: &mut Reader<'a>, features: &Features) -> Result<Self> {
        read_ref_type(r, features)
    }
}

impl<'a> Immediate<'a> for BlockType {
    fn read(r: &mut Reader<'a>, features: &Features) -> Result<Self> {
        let at = r.offset();
        let byte = r.peek_u8()?;
        if byte == 0x40 {
            r.read_u8()?;
            return Ok(BlockType::Empty);
        }
        if ValType::from_byte(byte).is_some() {
            return read_val_type(r, features).map(BlockType::Value);
        }
        let index = r.read_var_s33()?;
        if index < 0 {
            return Err(Error::malformed(
                at,
                format!("malformed block type 0x{byte:02x}"),
            ));
        }
        if !features.multi_value {
            return Err(Error::malformed(
                at,
                "malformed block type: type-indexed blocks need the multi_value feature",
            ));
        }
        Ok(BlockType::Func(index as u32))
    }
}

impl<'a> Immediate<'a> for MemArg {
    fn read(r: &mut Reader<'a>, features: &Features) -> Result<Self> {
        let flags = r.read_var_u32()?;
        // With multi-memory, bit 6 of the alignment field announces an explicit memory index.
        let (align, memory) = if features.multi_memory && flags & 0x40 != 0 {
            (flags & !0x40, r.read_var_u32()?)
        } else {
            (flags, 0)
        };
        let offset = u64::from(r.read_var_u32()?);
        Ok(MemArg {
            align,
            offset,
            memory,
        })
    }
}

impl<'a> Immediate<'a> for BrTable<'a> {
    fn read(r: &mut Reader<'a>, _: &Features) -> Result<Self> {
        let count = r.read_count(1)?;
        let start = r.clone();
        for _ in 0..count {
            r.read_var_u32()?;
        }
        let len = r.position() - start.position();
        let mut reader = start;
        let reader = reader.sub_reader(len)?;
        let default = r.read_var_u32()?;
        Ok(BrTable {
            reader,
            count,
            default,
        })
    }
}

impl<'a> Immediate<'a> for SelectTypes<'a> {
    fn read(r: &mut Reader<'a>, features: &Features) -> Result<Self> {
        let count = r.read_count(1)?;
        let start = r.clone();
        for _ in 0..count {
            read_val_type(r, features)?;
        }
        let len = r.position() - start.position();
        let mut reader = start;
        Ok(SelectTypes {
            reader: reader.sub_reader(len)?,
            count,
        })
    }
}

/// The MVP's reserved `0x00` byte after `memory.*` opcodes; a memory index with multi-memory.
fn memory_index(r: &mut Reader<'_>, features: &Features) -> Result<u32> {
    if features.multi_memory {
        return r.read_var_u32();
    }
    let at = r.offset();
    match r.read_u8()? {
        0 => Ok(0),
        _ => Err(Error::malformed(at, "zero byte expected")),
    }
}

/// `call_indirect`'s table: a reserved `0x00` byte in the MVP, a LEB128 index with
/// reference types (which is why padded encodings of 0 from wasm-ld are legal there).
fn call_indirect_table(r: &mut Reader<'_>, features: &Features) -> Result<u32> {
    if features.reference_types {
        return r.read_var_u32();
    }
    let at = r.offset();
    match r.read_u8()? {
        0 => Ok(0),
        _ => Err(Error::malformed(at, "zero byte expected")),
    }
}

macro_rules! define_operator_enum {
    ($( $feat:ident [$($enc:tt)+] $name:ident { $($field:ident : $ty:ty $(as $rd:ident)?),* } $mnem:literal $kind:ident $args:tt ;)*) => {
        /// One decoded instruction. Variants and fields come from the operator table.
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[allow(missing_docs)]
        pub enum Operator<'a> {
            $( $name { $($field: $ty),* }, )*
        }

        impl Operator<'_> {
            /// The instruction's text-format name (e.g. `"i32.add"`).
            pub fn mnemonic(&self) -> &'static str {
                match self {
                    $( Self::$name { .. } => $mnem, )*
                }
            }

            /// The memory immediate of loads, stores and SIMD lane memory instructions.
            pub fn memarg(&self) -> Option<MemArg> {
                match self {
                    $( Self::$name { $($field),* } => {
                        $( if let Some(m) = define_operator_enum!(@memarg $field, $field) {
                            return Some(m);
                        } )*
                        None
                    } )*
                }
            }
        }
    };
    (@memarg memarg, $v:ident) => { Some(*$v) };
    (@memarg $other:ident, $v:ident) => {{
        let _ = $v;
        None
    }};
}
for_each_operator!(define_operator_enum);

/// Pattern for the `(opcode, sub-opcode)` pair of an encoding.
macro_rules! encoding_pattern {
    ($op:literal) => {
        ($op, _)
    };
    ($prefix:literal $sub:literal) => {
        ($prefix, $sub)
    };
}

macro_rules! feature_enabled {
    ($features:ident, mvp) => {
        true
    };
    ($features:ident, $feat:ident) => {
        $features.$feat
    };
}

macro_rules! read_immediate {
    ($r:ident, $features:ident, $ty:ty) => {
        <$ty as Immediate>::read($r, $features)?
    };
    ($r:ident, $features:ident, $ty:ty, $rd:ident) => {
        $rd($r, $features)?
    };
}

macro_rules! define_decode {
    ($( $feat:ident [$($enc:tt)+] $name:ident { $($field:ident : $ty:ty $(as $rd:ident)?),* } $mnem:literal $kind:ident $args:tt ;)*) => {
        /// Decodes one instruction. `at` is the offset of its first byte (for errors).
        #[inline]
        fn decode_operator<'a>(r: &mut Reader<'a>, features: &Features) -> Result<Operator<'a>> {
            let at = r.offset();
            let code = r.read_u8()?;
            let sub = match code {
                0xfc | 0xfd => r.read_var_u32()?,
                _ => 0,
            };
            match (code, sub) {
                $(
                    encoding_pattern!($($enc)+) => {
                        if !feature_enabled!(features, $feat) {
                            return Err(feature_disabled(at, $mnem, stringify!($feat)));
                        }
                        Ok(Operator::$name { $($field: read_immediate!(r, features, $ty $(, $rd)?)),* })
                    }
                )*
                (0xfc | 0xfd, _) => Err(Error::malformed(at, format!("illegal opcode 0x{code:02x} {sub}"))),
                _ => Err(Error::malformed(at, format!("illegal opcode 0x{code:02x}"))),
            }
        }
    };
}
for_each_operator!(define_decode);

#[cold]
fn feature_disabled(at: usize, mnemonic: &str, feature: &str) -> Error {
    Error::malformed(
        at,
        format!("illegal opcode: {mnemonic} needs the {feature} feature"),
    )
}

/// Decodes the instructions of a function body or constant expression one at a time.
#[derive(Clone, Debug)]
pub struct OperatorsReader<'a> {
    reader: Reader<'a>,
    features: Features,
}

impl<'a> OperatorsReader<'a> {
    /// A reader over `reader`'s remaining bytes.
    pub fn new(reader: Reader<'a>, features: Features) -> Self {
        Self { reader, features }
    }

    /// Absolute offset of the next instruction.
    #[inline]
    pub fn offset(&self) -> usize {
        self.reader.offset()
    }

    /// True when every byte has been consumed.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.reader.is_empty()
    }

    /// Decodes the next instruction.
    #[inline]
    pub fn read(&mut self) -> Result<Operator<'a>> {
        decode_operator(&mut self.reader, &self.features)
    }

    /// Decodes the next instruction together with its offset.
    #[inline]
    pub fn read_with_offset(&mut self) -> Result<(Operator<'a>, usize)> {
        let at = self.offset();
        Ok((self.read()?, at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(bytes: &[u8], features: Features) -> Result<Vec<Operator<'_>>> {
        let mut r = OperatorsReader::new(Reader::new(bytes, 0), features);
        let mut out = Vec::new();
        while !r.is_empty() {
            out.push(r.read()?);
        }
        Ok(out)
    }

    macro_rules! count_rows {
        ($( $feat:ident [$($enc:tt)+] $name:ident { $($field:ident : $ty:ty $(as $rd:ident)?),* } $mnem:literal $kind:ident $args:tt ;)*) => {
            [$($mnem),*].len()
        };
    }

    #[test]
    fn table_has_every_wasm2_instruction() {
        // MVP 172 + sign-ext 5 + sat-trunc 8 + bulk 7 + reference types 9 + SIMD 236.
        assert_eq!(for_each_operator!(count_rows), 437);
    }

    #[test]
    fn decodes_prefixed_and_padded_immediates() {
        let bytes = [
            0x41, 0x7f, // i32.const -1
            0xfc, 0x00, // i32.trunc_sat_f32_s
            0x11, 0x02, 0x80, 0x80, 0x80, 0x80, 0x00, // call_indirect type 2, padded table 0
            0xfd, 0x0c, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, // v128.const
        ];
        let decoded = ops(&bytes, Features::wasm2()).unwrap();
        assert_eq!(decoded[0], Operator::I32Const { value: -1 });
        assert_eq!(decoded[1], Operator::I32TruncSatF32S {});
        assert_eq!(
            decoded[2],
            Operator::CallIndirect {
                type_index: 2,
                table_index: 0
            }
        );
        assert_eq!(decoded[3].mnemonic(), "v128.const");
    }

    #[test]
    fn mvp_rejects_later_opcodes_and_padded_reserved_bytes() {
        let e = ops(&[0xc0], Features::mvp()).unwrap_err();
        assert!(e.message().contains("sign_ext"), "{e}");
        let e = ops(&[0x11, 0x00, 0x80, 0x00], Features::mvp()).unwrap_err();
        assert_eq!(e.message(), "zero byte expected");
        let e = ops(&[0x3f, 0x01], Features::wasm2()).unwrap_err();
        assert_eq!(e.message(), "zero byte expected");
        assert_eq!(e.offset(), 1);
    }

    #[test]
    fn br_table_targets_round_trip() {
        let decoded = ops(
            &[0x0e, 0x03, 0x00, 0x81, 0x01, 0x02, 0x05],
            Features::wasm2(),
        )
        .unwrap();
        match &decoded[0] {
            Operator::BrTable { targets } => {
                assert_eq!(targets.targets().collect::<Vec<_>>(), vec![0, 129, 2]);
                assert_eq!(targets.default(), 5);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn unknown_opcodes_are_malformed_with_offset() {
        let e = ops(&[0x01, 0xff], Features::wasm2()).unwrap_err();
        assert_eq!(e.message(), "illegal opcode 0xff");
        assert_eq!(e.offset(), 1);
        let e = ops(&[0xfd, 0x9a, 0x01], Features::wasm2()).unwrap_err();
        assert_eq!(e.message(), "illegal opcode 0xfd 154");
    }
}
