//! The value tree the [generic decoder](super::generic) produces: what a
//! section holds, typed only by its vmdesc.

use std::fmt;

/// A decoded section payload, nested struct, or subsection body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StructValue {
    /// The fields in wire order (one per [`FieldDesc`](super::FieldDesc)).
    pub fields: Vec<FieldValue>,
    /// The subsections in wire order.
    pub subsections: Vec<SubsectionValue>,
}

/// One field of a [`StructValue`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldValue {
    /// The vmdesc name.
    pub name: String,
    /// Its value; a [`Value::Array`] for array fields.
    pub value: Value,
}

/// A subsection as it was on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubsectionValue {
    /// The name read from the stream.
    pub name: String,
    /// The version read from the stream.
    pub version: u32,
    /// Its fields and nested subsections.
    pub value: StructValue,
}

impl SubsectionValue {
    /// Bytes of its header: marker, name length, name, be32 version.
    pub fn header_len(&self) -> u64 {
        1 + 1 + self.name.len() as u64 + 4
    }
}

/// One decoded element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// An integer of known width and signedness.
    Int(Int),
    /// A `bool`; the raw byte is kept, so that a non-canonical true (any
    /// non-zero byte, which QEMU accepts) re-encodes to the same byte.
    Bool(u8),
    /// Opaque bytes (`buffer`, `unused_buffer`, `timer`, …).
    Bytes(Vec<u8>),
    /// A null-pointer marker (`'0'`).
    Nullptr,
    /// A capability name.
    Str(String),
    /// A nested struct.
    Struct(StructValue),
    /// The elements of an array field.
    Array(Vec<Value>),
}

impl Value {
    /// What kind of value this is, for messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Int(_) => "integer",
            Value::Bool(_) => "bool",
            Value::Bytes(_) => "byte buffer",
            Value::Nullptr => "null pointer",
            Value::Str(_) => "capability name",
            Value::Struct(_) => "struct",
            Value::Array(_) => "array",
        }
    }

    /// [`kind_name`](Self::kind_name) with its article: `an integer`.
    pub fn kind_with_article(&self) -> String {
        let k = self.kind_name();
        let article = if k.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        format!("{article} {k}")
    }

    /// The number of bytes this value takes on the wire.
    pub fn encoded_len(&self) -> u64 {
        match self {
            Value::Int(i) => u64::from(i.size()),
            Value::Bool(_) | Value::Nullptr => 1,
            Value::Bytes(b) => b.len() as u64,
            Value::Str(s) => 1 + s.len() as u64,
            Value::Struct(s) => s.encoded_len(),
            Value::Array(v) => v.iter().map(Value::encoded_len).sum(),
        }
    }
}

impl StructValue {
    /// The number of bytes this struct takes on the wire, subsections
    /// included.
    pub fn encoded_len(&self) -> u64 {
        let fields: u64 = self.fields.iter().map(|f| f.value.encoded_len()).sum();
        let subs: u64 = self
            .subsections
            .iter()
            .map(|s| s.header_len() + s.value.encoded_len())
            .sum();
        fields + subs
    }

    /// The field named `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| &f.value)
    }

    /// The subsection named `name`.
    pub fn subsection(&self, name: &str) -> Option<&SubsectionValue> {
        self.subsections.iter().find(|s| s.name == name)
    }

    /// Every subsection name in the tree, depth first, in wire order.
    pub fn subsection_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_subsections(&mut out);
        out
    }

    fn collect_subsections(&self, out: &mut Vec<String>) {
        fn walk(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Struct(s) => s.collect_subsections(out),
                Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
                _ => {}
            }
        }
        for f in &self.fields {
            walk(&f.value, out);
        }
        for s in &self.subsections {
            out.push(s.name.clone());
            s.value.collect_subsections(out);
        }
    }
}

/// An integer element: its raw bits, its width in bytes (1..=8), and
/// whether the vmdesc type is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Int {
    bits: u64,
    size: u8,
    signed: bool,
}

impl Int {
    /// An integer from its big-endian bytes (1..=8 of them).
    pub fn from_be_bytes(bytes: &[u8], signed: bool) -> Option<Int> {
        if bytes.is_empty() || bytes.len() > 8 {
            return None;
        }
        let bits = bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        Some(Int {
            bits,
            size: bytes.len() as u8,
            signed,
        })
    }

    /// `value` as an integer of `size` bytes, if it fits the width and
    /// signedness (no wrap-around).
    pub fn new(value: i128, size: u8, signed: bool) -> Option<Int> {
        if size == 0 || size > 8 {
            return None;
        }
        let bits = u32::from(size) * 8;
        let (min, max) = Int::range(size, signed);
        if value < min || value > max {
            return None;
        }
        let mask = if bits == 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        Some(Int {
            bits: (value as u64) & mask,
            size,
            signed,
        })
    }

    /// Width in bytes.
    pub fn size(&self) -> u8 {
        self.size
    }

    /// Whether the type is signed.
    pub fn signed(&self) -> bool {
        self.signed
    }

    /// The raw bits, zero-extended.
    pub fn bits(&self) -> u64 {
        self.bits
    }

    /// The value, sign-extended for signed types.
    pub fn value(&self) -> i128 {
        if self.signed {
            let shift = 128 - u32::from(self.size) * 8;
            ((i128::from(self.bits)) << shift) >> shift
        } else {
            i128::from(self.bits)
        }
    }

    /// The big-endian bytes.
    pub fn to_be_bytes(&self) -> Vec<u8> {
        let all = self.bits.to_be_bytes();
        all.get(8 - usize::from(self.size)..)
            .map(<[u8]>::to_vec)
            .unwrap_or_default()
    }

    /// The smallest and largest values of this width and signedness.
    pub fn range(size: u8, signed: bool) -> (i128, i128) {
        let bits = u32::from(size.clamp(1, 8)) * 8;
        if signed {
            (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
        } else {
            (0, (1i128 << bits) - 1)
        }
    }
}

impl fmt::Display for Int {
    /// analyze-migration.py's rendering: `0x` + two hex digits per byte,
    /// and for a negative signed value ` (-n)` after it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = usize::from(self.size) * 2;
        write!(f, "0x{:0w$x}", self.bits)?;
        let v = self.value();
        if v < 0 {
            write!(f, " ({v})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_fit_or_refuse() {
        assert_eq!(Int::new(-1, 2, true).unwrap().to_string(), "0xffff (-1)");
        assert_eq!(Int::new(0xb8, 1, false).unwrap().to_string(), "0xb8");
        assert!(Int::new(256, 1, false).is_none());
        assert!(Int::new(-1, 1, false).is_none());
        assert!(Int::new(128, 1, true).is_none());
        assert_eq!(
            Int::new(i64::MIN.into(), 8, true).unwrap().value(),
            i64::MIN.into()
        );
        assert_eq!(
            Int::new(u64::MAX.into(), 8, false).unwrap().bits(),
            u64::MAX
        );
        let i = Int::from_be_bytes(&[0xff, 0xfe], true).unwrap();
        assert_eq!(i.value(), -2);
        assert_eq!(i.to_be_bytes(), [0xff, 0xfe]);
        assert!(Int::from_be_bytes(&[], true).is_none());
    }
}
