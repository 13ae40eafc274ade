//! The vmdesc JSON read straight into [`SectionDesc`]s, in one pass and
//! without a JSON value tree (which costs about ten times the text).
//!
//! Keys may come in any order; unknown keys are skipped; of a repeated
//! key the last value counts. An error names where it is
//! (`device `pckbd`: field `kbd`: ...`) and serde_json adds the line and
//! column.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{ElemDesc, ElemKind, FieldDesc, SectionDesc, Shape, StructDesc, MAX_INT_SIZE};

/// `page_size` and the devices of a vmdesc.
pub(super) fn parse(json: &[u8]) -> Result<(u64, Vec<SectionDesc>), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let top = Top.deserialize(&mut de)?;
    de.end()?;
    Ok(top)
}

fn custom<E: de::Error>(msg: impl fmt::Display) -> E {
    E::custom(msg)
}

/// Visitor methods that give `None` for values of other kinds (as
/// `serde_json::Value::as_u64` and `as_str` would), draining arrays and
/// objects.
macro_rules! none_for {
    ($($kind:ident),*) => { $(none_for!(@ $kind);)* };
    (@ u64) => {
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> { Ok(None) }
    };
    (@ str) => {
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> { Ok(None) }
    };
    (@ bool) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> { Ok(None) }
    };
    (@ i64) => {
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> { Ok(None) }
    };
    (@ f64) => {
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> { Ok(None) }
    };
    (@ unit) => {
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> { Ok(None) }
    };
    (@ seq) => {
        fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
            while a.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    };
    (@ map) => {
        fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
            while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    };
}

/// A non-negative integer, or `None` for any other value.
struct AnyU64;

impl<'de> DeserializeSeed<'de> for AnyU64 {
    type Value = Option<u64>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<u64>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for AnyU64 {
    type Value = Option<u64>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<u64>, E> {
        Ok(Some(v))
    }
    none_for!(str, bool, i64, f64, unit, seq, map);
}

/// A string, or `None` for any other value.
struct AnyStr;

impl<'de> DeserializeSeed<'de> for AnyStr {
    type Value = Option<String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for AnyStr {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<String>, E> {
        Ok(Some(v.to_owned()))
    }
    none_for!(u64, bool, i64, f64, unit, seq, map);
}

/// The top-level object.
struct Top;

impl<'de> DeserializeSeed<'de> for Top {
    type Value = (u64, Vec<SectionDesc>);
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Top {
    type Value = (u64, Vec<SectionDesc>);
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object at the top level")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
        let (mut page_size, mut devices) = (None, None);
        while let Some(k) = a.next_key::<String>()? {
            match k.as_str() {
                "page_size" => page_size = a.next_value_seed(AnyU64)?,
                "devices" => devices = Some(a.next_value_seed(Devices)?),
                _ => {
                    a.next_value::<IgnoredAny>()?;
                }
            }
        }
        let page_size =
            page_size.ok_or_else(|| custom("`page_size` is missing or not an integer"))?;
        let devices = devices
            .flatten()
            .ok_or_else(|| custom("`devices` is missing or not an array"))?;
        Ok((page_size, devices))
    }
}

/// `devices`: `None` when it is not an array.
struct Devices;

impl<'de> DeserializeSeed<'de> for Devices {
    type Value = Option<Vec<SectionDesc>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Devices {
    type Value = Option<Vec<SectionDesc>>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("`devices`")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(d) = a.next_element_seed(Device { i: out.len() })? {
            out.push(d);
        }
        Ok(Some(out))
    }
    none_for!(u64, str, bool, i64, f64, unit, map);
}

/// One entry of `devices`: a section description.
struct Device {
    i: usize,
}

impl<'de> DeserializeSeed<'de> for Device {
    type Value = SectionDesc;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<SectionDesc, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Device {
    type Value = SectionDesc;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "devices[{}] to be an object", self.i)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<SectionDesc, A::Error> {
        let mut name: Option<Option<String>> = None;
        let mut instance_id = None;
        let mut body = StructParts::default();
        while let Some(k) = a.next_key::<String>()? {
            match k.as_str() {
                "name" => name = Some(a.next_value_seed(AnyStr)?),
                "instance_id" => instance_id = a.next_value_seed(AnyU64)?,
                key => {
                    let ctx = match &name {
                        Some(Some(n)) => format!("device `{n}`"),
                        _ => format!("devices[{}]", self.i),
                    };
                    body.entry(&mut a, key, &ctx)?;
                }
            }
        }
        let name = name
            .flatten()
            .ok_or_else(|| custom(format!("devices[{}] has no string `name`", self.i)))?;
        let instance_id = instance_id
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| custom(format!("device `{name}` has no u32 `instance_id`")))?;
        let body = body.finish(&format!("device `{name}`"))?;
        Ok(SectionDesc {
            name,
            instance_id,
            body,
        })
    }
}

/// The keys of a VMSD object (a device, a nested `struct`, a subsection)
/// as they arrive.
#[derive(Default)]
struct StructParts {
    vmsd_name: Option<String>,
    version: Option<u64>,
    /// `None` until seen; `Some(None)` when not an array.
    fields: Option<Option<Vec<FieldDesc>>>,
    subsections: Option<Option<Vec<StructDesc>>>,
}

impl StructParts {
    /// Reads the value of `key` if it is one of a VMSD's, else skips it.
    fn entry<'de, A: MapAccess<'de>>(
        &mut self,
        a: &mut A,
        key: &str,
        ctx: &str,
    ) -> Result<(), A::Error> {
        match key {
            "vmsd_name" => self.vmsd_name = a.next_value_seed(AnyStr)?,
            "version" => self.version = a.next_value_seed(AnyU64)?,
            "fields" => self.fields = Some(a.next_value_seed(Fields { ctx })?),
            "subsections" => self.subsections = Some(a.next_value_seed(Subsections { ctx })?),
            _ => {
                a.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }

    fn finish<E: de::Error>(self, ctx: &str) -> Result<StructDesc, E> {
        let fields = self
            .fields
            .flatten()
            .ok_or_else(|| custom(format!("{ctx}: no `fields` array")))?;
        let subsections = match self.subsections {
            None => Vec::new(),
            Some(Some(s)) => s,
            Some(None) => return Err(custom(format!("{ctx}: `subsections` is not an array"))),
        };
        Ok(StructDesc {
            vmsd_name: self.vmsd_name,
            version: self.version,
            fields,
            subsections,
        })
    }
}

/// A VMSD object (nested `struct`, subsection).
struct Struct<'c> {
    ctx: &'c str,
}

impl<'de> DeserializeSeed<'de> for Struct<'_> {
    type Value = StructDesc;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<StructDesc, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Struct<'_> {
    type Value = StructDesc;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{} to be an object", self.ctx)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<StructDesc, A::Error> {
        let mut parts = StructParts::default();
        while let Some(k) = a.next_key::<String>()? {
            parts.entry(&mut a, &k, self.ctx)?;
        }
        parts.finish(self.ctx)
    }
}

/// `fields`: `None` when it is not an array. Consecutive `index` entries
/// of one name become one [`Shape::Indexed`] field.
struct Fields<'c> {
    ctx: &'c str,
}

impl<'de> DeserializeSeed<'de> for Fields<'_> {
    type Value = Option<Vec<FieldDesc>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Fields<'_> {
    type Value = Option<Vec<FieldDesc>>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("`fields`")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
        let mut fields: Vec<FieldDesc> = Vec::new();
        let mut i = 0;
        while let Some(entry) = a.next_element_seed(Field { ctx: self.ctx, i })? {
            i += 1;
            let (name, elem, shape) = entry;
            match shape {
                EntryShape::Array(len) => fields.push(FieldDesc {
                    name,
                    shape: Shape::Array { elem, len },
                }),
                EntryShape::Index(idx) => {
                    // Continue the run of the previous entry when it is
                    // the same field's next element.
                    if let Some(FieldDesc {
                        name: prev,
                        shape: Shape::Indexed(elems),
                    }) = fields.last_mut()
                    {
                        if *prev == name && elems.len() as u64 == idx {
                            elems.push(elem);
                            continue;
                        }
                    }
                    fields.push(FieldDesc {
                        name,
                        shape: Shape::Indexed(vec![elem]),
                    });
                }
                EntryShape::Single => fields.push(FieldDesc {
                    name,
                    shape: Shape::Single(elem),
                }),
            }
        }
        Ok(Some(fields))
    }
    none_for!(u64, str, bool, i64, f64, unit, map);
}

/// How one `fields` entry repeats.
enum EntryShape {
    Single,
    Array(u64),
    Index(u64),
}

/// One `fields` entry: its name, element and shape.
struct Field<'c> {
    ctx: &'c str,
    i: usize,
}

impl<'de> DeserializeSeed<'de> for Field<'_> {
    type Value = (String, ElemDesc, EntryShape);
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// Present, and a value of the wanted kind or not.
type Slot<T> = Option<Option<T>>;

impl<'de> Visitor<'de> for Field<'_> {
    type Value = (String, ElemDesc, EntryShape);
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}: fields[{}] to be an object", self.ctx, self.i)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
        let mut name: Option<String> = None;
        let mut type_name: Option<String> = None;
        let (mut size, mut array_len, mut index): (Slot<u64>, Slot<u64>, Slot<u64>) =
            (None, None, None);
        let mut nested: Option<StructDesc> = None;
        while let Some(k) = a.next_key::<String>()? {
            match k.as_str() {
                "name" => name = a.next_value_seed(AnyStr)?,
                "type" => type_name = a.next_value_seed(AnyStr)?,
                "size" => size = Some(a.next_value_seed(AnyU64)?),
                "array_len" => array_len = Some(a.next_value_seed(AnyU64)?),
                "index" => index = Some(a.next_value_seed(AnyU64)?),
                "struct" if type_name.as_deref().is_none_or(|t| t == "struct") => {
                    let ctx = match &name {
                        Some(n) => format!("{}: field `{n}`", self.ctx),
                        None => format!("{}: fields[{}]", self.ctx, self.i),
                    };
                    nested = a.next_value_seed(MaybeStruct { ctx: &ctx })?;
                }
                _ => {
                    a.next_value::<IgnoredAny>()?;
                }
            }
        }
        let name = name.ok_or_else(|| {
            custom(format!(
                "{}: fields[{}] has no string `name`",
                self.ctx, self.i
            ))
        })?;
        let bad = |m: String| custom(format!("{}: field `{name}`: {m}", self.ctx));
        let type_name = type_name.ok_or_else(|| bad("no string `type`".into()))?;
        let size = match size {
            None => None,
            Some(Some(s)) => Some(s),
            Some(None) => return Err(bad("`size` is not a non-negative integer".into())),
        };
        let need_size = || size.ok_or_else(|| bad(format!("type `{type_name}` needs a `size`")));
        let kind = match type_name.as_str() {
            "bool" => {
                if need_size()? != 1 {
                    return Err(bad("a `bool` must have size 1".into()));
                }
                ElemKind::Bool
            }
            "int8" | "int16" | "int32" | "int32 equal" | "int32 le" | "int64" | "int64 equal"
            | "uint8 equal" | "uint16 equal" => int_kind(need_size()?, true).map_err(bad)?,
            "uint8" | "uint16" | "uint32" | "uint32 equal" | "uint64" => {
                int_kind(need_size()?, false).map_err(bad)?
            }
            "nullptr" => {
                if need_size()? != 1 {
                    return Err(bad("a `nullptr` must have size 1".into()));
                }
                ElemKind::Nullptr
            }
            "capability" => ElemKind::Capability,
            "struct" => match nested {
                Some(s) => ElemKind::Struct(Box::new(s)),
                None => return Err(bad("a `struct` field without a `struct` object".into())),
            },
            _ => {
                need_size()?;
                ElemKind::Bytes
            }
        };
        let elem = ElemDesc {
            type_name,
            size: size.unwrap_or(0),
            kind,
        };
        let shape = match (array_len, index) {
            (Some(Some(len)), _) => EntryShape::Array(len),
            (Some(None), _) => return Err(bad("`array_len` is not an integer".into())),
            (None, Some(Some(idx))) => EntryShape::Index(idx),
            (None, Some(None)) => return Err(bad("`index` is not an integer".into())),
            (None, None) => EntryShape::Single,
        };
        Ok((name, elem, shape))
    }
}

fn int_kind(size: u64, signed: bool) -> Result<ElemKind, String> {
    if size == 0 || size > MAX_INT_SIZE {
        return Err(format!(
            "integer size {size} is not supported (1..={MAX_INT_SIZE})"
        ));
    }
    Ok(ElemKind::Int { signed })
}

/// A `struct` value: the nested VMSD, or `None` when it is not an object.
struct MaybeStruct<'c> {
    ctx: &'c str,
}

impl<'de> DeserializeSeed<'de> for MaybeStruct<'_> {
    type Value = Option<StructDesc>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MaybeStruct<'_> {
    type Value = Option<StructDesc>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("`struct`")
    }
    fn visit_map<A: MapAccess<'de>>(self, a: A) -> Result<Self::Value, A::Error> {
        Struct { ctx: self.ctx }.visit_map(a).map(Some)
    }
    none_for!(u64, str, bool, i64, f64, unit, seq);
}

/// `subsections`: `None` when it is not an array.
struct Subsections<'c> {
    ctx: &'c str,
}

impl<'de> DeserializeSeed<'de> for Subsections<'_> {
    type Value = Option<Vec<StructDesc>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Subsections<'_> {
    type Value = Option<Vec<StructDesc>>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("`subsections`")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        loop {
            let ctx = format!("{}: subsections[{}]", self.ctx, out.len());
            match a.next_element_seed(Struct { ctx: &ctx })? {
                Some(s) => out.push(s),
                None => return Ok(Some(out)),
            }
        }
    }
    none_for!(u64, str, bool, i64, f64, unit, map);
}
