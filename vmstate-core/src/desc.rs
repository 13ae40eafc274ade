//! Static, introspectable descriptions: the Rust twin of QEMU's
//! `VMStateDescription` and `VMStateField`.
//!
//! The derive emits one `&'static` [`Vmsd`] per type (see
//! [`VmState::VMSD`](crate::VmState::VMSD)). It holds everything needed to
//! write QEMU's vmdesc JSON and `-dump-vmstate` JSON or to compare two
//! versions of a device, without running any save or load.
//!
//! Both types are `#[non_exhaustive]`; build them with the `const`
//! constructors.

use crate::cpr::CprFields;

/// A description of one migratable type (QEMU's `VMStateDescription`).
#[derive(Debug)]
#[non_exhaustive]
pub struct Vmsd {
    /// The name: a section's idstr (or its suffix), or the exact subsection
    /// name on the wire.
    pub name: &'static str,
    /// Current version: written in section and subsection headers, used
    /// for saving, and the highest version accepted on load.
    pub version_id: u32,
    /// Lowest stream version accepted on load.
    pub minimum_version_id: u32,
    /// The fields in wire order.
    pub fields: &'static [Field],
    /// Subsections in save order.
    pub subsections: &'static [Subsection],
    /// Which hooks the type has.
    pub hooks: Hooks,
    /// The CPR-only field kinds anywhere below this description (see
    /// [`cpr`](crate::cpr)).
    pub cpr_fields: CprFields,
}

impl Vmsd {
    /// A description with no hooks.
    pub const fn new(
        name: &'static str,
        version_id: u32,
        minimum_version_id: u32,
        fields: &'static [Field],
        subsections: &'static [Subsection],
    ) -> Self {
        Vmsd {
            name,
            version_id,
            minimum_version_id,
            fields,
            subsections,
            hooks: Hooks::NONE,
            cpr_fields: CprFields::NONE,
        }
    }

    /// The same description holding the CPR-only field kinds `f`.
    pub const fn with_cpr_fields(mut self, f: CprFields) -> Self {
        self.cpr_fields = f;
        self
    }

    /// The same description with hook flags.
    pub const fn with_hooks(mut self, hooks: Hooks) -> Self {
        self.hooks = hooks;
        self
    }

    /// Index of the subsection named `name`, if any.
    pub fn subsection_index(&self, name: &[u8]) -> Option<usize> {
        self.subsections
            .iter()
            .position(|s| s.vmsd.name.as_bytes() == name)
    }
}

/// Which user hooks a description runs (for documentation and tools; the
/// generated code calls them directly).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Hooks {
    /// `pre_save` runs before anything is written.
    pub pre_save: bool,
    /// `post_save` runs after the fields and subsections.
    pub post_save: bool,
    /// `pre_load` runs after the version check, before the fields.
    pub pre_load: bool,
    /// `post_load` runs after the fields and subsections.
    pub post_load: bool,
}

impl Hooks {
    /// No hooks.
    pub const NONE: Hooks = Hooks {
        pre_save: false,
        post_save: false,
        pre_load: false,
        post_load: false,
    };

    /// Flags in the order `pre_save, post_save, pre_load, post_load`.
    pub const fn new(pre_save: bool, post_save: bool, pre_load: bool, post_load: bool) -> Self {
        Hooks {
            pre_save,
            post_save,
            pre_load,
            post_load,
        }
    }
}

/// One entry of a description's subsection list.
#[derive(Debug)]
#[non_exhaustive]
pub struct Subsection {
    /// The subsection's own description; its name is the wire name.
    pub vmsd: &'static Vmsd,
    /// The parent field that holds the subsection's state.
    pub field: &'static str,
    /// Whether a `needed` predicate decides if it is sent (else always).
    pub has_needed: bool,
}

impl Subsection {
    /// An entry for `vmsd`, held in parent field `field`.
    pub const fn new(vmsd: &'static Vmsd, field: &'static str, has_needed: bool) -> Self {
        Subsection {
            vmsd,
            field,
            has_needed,
        }
    }
}

/// What a field holds on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldKind {
    /// A leaf codec (QEMU's `VMStateInfo`), named by [`Field::info`].
    Leaf,
    /// A nested description, saved at its own version (`VMS_STRUCT`).
    Struct,
    /// Zero bytes on save, skipped on load (`VMSTATE_UNUSED`).
    Unused,
    /// A pointer's value as be64, CPR modes only.
    VoidPtr,
    /// A file descriptor (QEMU's `VMSTATE_FD`, type `fd`): a placeholder
    /// byte with the descriptor out of band (`cpr-transfer`), or its number
    /// as be32 (`cpr-exec`).
    Fd,
    /// A nested description at an explicit version (`VMS_VSTRUCT`), given
    /// by [`Field::struct_version`].
    VStruct,
    /// A check at this position; nothing on the wire (`VMSTATE_VALIDATE`).
    Validate,
    /// A temporary's description (`VMSTATE_WITH_TMP`, info `tmp`).
    Tmp,
    /// A queue of elements (`qtailq`, `qlist`): `01` + element ... `00`.
    Queue,
    /// A tree (`gtree`): be32 count, `01` + key + value ... `00`.
    Gtree,
}

/// A load-time check on a field's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Check {
    /// None.
    None,
    /// Must equal the destination's current value (QEMU's `*_EQUAL`).
    Equal {
        /// Text shown after a mismatch.
        hint: Option<&'static str>,
    },
    /// `0 <= loaded <= current` (QEMU's `INT32_POSITIVE_LE`).
    PositiveLe,
    /// `min <= loaded <= max` (declared bounds, checked right after the
    /// field is read).
    Range {
        /// Lowest allowed value.
        min: i128,
        /// Highest allowed value.
        max: i128,
    },
}

/// One field of a description (QEMU's `VMStateField`).
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Field {
    /// Name as in QEMU's vmdesc (`unused` for padding).
    pub name: &'static str,
    /// QEMU's type name for one element, exactly as in vmdesc JSON:
    /// `uint32`, `int32 equal`, `bool`, `struct`, `unused_buffer`, ...
    pub info: &'static str,
    /// What the field is.
    pub kind: FieldKind,
    /// Wire bytes of one element; 0 when it varies (structs).
    pub elem_size: usize,
    /// Element count when the field is an array (`VMS_ARRAY`, 2-D arrays
    /// flattened row-major); `None` for a single value.
    pub array_len: Option<usize>,
    /// Present only when the stream version is at least this.
    pub version_id: u32,
    /// A predicate decides whether the field is on the wire (and then
    /// `version_id` is ignored, as in QEMU).
    pub has_exists: bool,
    /// The nested description of a struct field.
    pub vmsd: Option<&'static Vmsd>,
    /// A load-time check.
    pub check: Check,
    /// For a `u64` that carries a pointer's address: the pointer field.
    pub from_ptr: Option<&'static str>,
    /// The earlier field whose value gives this field's element count
    /// (`VMS_VARRAY_*`; for `unused`, a count of `elem_size` blocks) or byte
    /// size (`VMS_VBUFFER`; bit count for bitmaps).
    pub length_from: Option<&'static str>,
    /// Multiplier of `length_from` (`VMS_MULTIPLY*`), 1 otherwise.
    pub multiply: u32,
    /// The version a `VStruct` field's description is saved and loaded at.
    pub struct_version: Option<u32>,
    /// QEMU's `size` for the field in `-dump-vmstate` (the C member's
    /// `sizeof`) where it differs from one element's wire size: a
    /// `VMSTATE_UINT16_HACK` sends 2 bytes of a `uint32_t`.
    pub qemu_size: Option<usize>,
    /// The CPR-only field kinds in this field or below it.
    pub cpr_fields: CprFields,
}

impl Field {
    /// A single-valued field of kind `kind` with QEMU type `info`.
    pub const fn new(name: &'static str, info: &'static str, kind: FieldKind) -> Self {
        Field {
            name,
            info,
            kind,
            elem_size: 0,
            array_len: None,
            version_id: 0,
            has_exists: false,
            vmsd: None,
            check: Check::None,
            from_ptr: None,
            length_from: None,
            multiply: 1,
            struct_version: None,
            qemu_size: None,
            cpr_fields: CprFields::NONE,
        }
    }

    /// The same field named `name`.
    #[doc(hidden)]
    pub const fn named(mut self, name: &'static str) -> Self {
        self.name = name;
        self
    }

    /// The same field holding the CPR-only field kinds `f`.
    pub const fn with_cpr_fields(mut self, f: CprFields) -> Self {
        self.cpr_fields = f;
        self
    }

    /// Length taken from field `field` times `multiply`.
    pub const fn with_length_from(mut self, field: &'static str, multiply: u32) -> Self {
        self.length_from = Some(field);
        self.multiply = multiply;
        self
    }

    /// Saved and loaded at description version `v` (`VStruct`).
    pub const fn with_struct_version(mut self, v: u32) -> Self {
        self.struct_version = Some(v);
        self
    }

    /// The same field with another kind.
    pub const fn with_kind(mut self, kind: FieldKind) -> Self {
        self.kind = kind;
        self
    }

    /// Wire size of one element.
    pub const fn with_elem_size(mut self, size: usize) -> Self {
        self.elem_size = size;
        self
    }

    /// Marks the field as an array of `n` elements when `n` is not the
    /// single-value count 0.
    pub const fn with_array_len(mut self, n: Option<usize>) -> Self {
        self.array_len = n;
        self
    }

    /// Present from stream version `v`.
    pub const fn with_version(mut self, v: u32) -> Self {
        self.version_id = v;
        self
    }

    /// Existence decided by a predicate.
    pub const fn with_exists(mut self) -> Self {
        self.has_exists = true;
        self
    }

    /// The nested description.
    pub const fn with_vmsd(mut self, vmsd: Option<&'static Vmsd>) -> Self {
        self.vmsd = vmsd;
        self
    }

    /// A load-time check.
    pub const fn with_check(mut self, check: Check) -> Self {
        self.check = check;
        self
    }

    /// QEMU's `-dump-vmstate` size of one element, where it is not the
    /// wire size.
    pub const fn with_qemu_size(mut self, size: usize) -> Self {
        self.qemu_size = Some(size);
        self
    }

    /// Carries the address of pointer field `field`.
    pub const fn with_from_ptr(mut self, field: &'static str) -> Self {
        self.from_ptr = Some(field);
        self
    }

    /// Number of elements on the wire (1 for a single value).
    pub const fn count(&self) -> usize {
        match self.array_len {
            Some(n) => n,
            None => 1,
        }
    }

    /// Total wire bytes when every element has a fixed size, else `None`.
    pub const fn wire_size(&self) -> Option<usize> {
        if self.length_from.is_some() {
            return None;
        }
        if self.elem_size == 0 && self.count() != 0 {
            None
        } else {
            Some(self.elem_size * self.count())
        }
    }
}
