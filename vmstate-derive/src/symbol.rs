//! The attribute keywords, in one place.

use std::fmt;

#[derive(Copy, Clone, PartialEq, Eq)]
pub struct Symbol(pub &'static str);

pub const VMSTATE: Symbol = Symbol("vmstate");

// Struct level.
pub const NAME: Symbol = Symbol("name");
pub const VERSION: Symbol = Symbol("version");
pub const MINIMUM_VERSION: Symbol = Symbol("minimum_version");
pub const PRE_SAVE: Symbol = Symbol("pre_save");
pub const POST_SAVE: Symbol = Symbol("post_save");
pub const PRE_LOAD: Symbol = Symbol("pre_load");
pub const POST_LOAD: Symbol = Symbol("post_load");
pub const CRATE: Symbol = Symbol("crate");

// Field level.
pub const RENAME: Symbol = Symbol("rename");
pub const EXISTS: Symbol = Symbol("exists");
pub const SKIP: Symbol = Symbol("skip");
pub const UNUSED: Symbol = Symbol("unused");
pub const EQUAL: Symbol = Symbol("equal");
pub const HINT: Symbol = Symbol("hint");
pub const POSITIVE_LE: Symbol = Symbol("positive_le");
pub const VOID_PTR: Symbol = Symbol("void_ptr");
pub const FD: Symbol = Symbol("fd");
pub const U64_FROM_PTR: Symbol = Symbol("u64_from_ptr");
pub const SUBSECTION: Symbol = Symbol("subsection");
pub const NEEDED: Symbol = Symbol("needed");
pub const COUNT: Symbol = Symbol("count");
pub const MULTIPLY: Symbol = Symbol("multiply");
pub const BUFFER: Symbol = Symbol("buffer");
pub const START: Symbol = Symbol("start");
pub const SIZE: Symbol = Symbol("size");
pub const VBUFFER: Symbol = Symbol("vbuffer");
pub const BITMAP: Symbol = Symbol("bitmap");
pub const VALIDATE: Symbol = Symbol("validate");
pub const MIN: Symbol = Symbol("min");
pub const MAX: Symbol = Symbol("max");
pub const STRUCT_VERSION: Symbol = Symbol("struct_version");
pub const TMP: Symbol = Symbol("tmp");
pub const WITH: Symbol = Symbol("with");
pub const QTAILQ: Symbol = Symbol("qtailq");
pub const QLIST: Symbol = Symbol("qlist");
pub const GTREE: Symbol = Symbol("gtree");
pub const QEMU_SIZE: Symbol = Symbol("qemu_size");

pub const CONTAINER_KEYS: &[Symbol] = &[
    NAME,
    VERSION,
    MINIMUM_VERSION,
    PRE_SAVE,
    POST_SAVE,
    PRE_LOAD,
    POST_LOAD,
    NEEDED,
    CRATE,
];

pub const FIELD_KEYS: &[Symbol] = &[
    RENAME,
    VERSION,
    EXISTS,
    SKIP,
    UNUSED,
    EQUAL,
    HINT,
    POSITIVE_LE,
    VOID_PTR,
    FD,
    U64_FROM_PTR,
    PRE_SAVE,
    SUBSECTION,
    NEEDED,
    COUNT,
    MULTIPLY,
    BUFFER,
    START,
    SIZE,
    VBUFFER,
    BITMAP,
    VALIDATE,
    MIN,
    MAX,
    STRUCT_VERSION,
    TMP,
    WITH,
    QTAILQ,
    QLIST,
    GTREE,
    QEMU_SIZE,
];

/// Spellings users bring from QEMU's C macros or from other derives, with
/// the key they mean: (level where the spelling is seen, spelling, key).
pub const CONTAINER_ALIASES: &[(&str, Symbol)] = &[
    ("version_id", VERSION),
    ("minimum_version_id", MINIMUM_VERSION),
    ("min_version", MINIMUM_VERSION),
    ("minimum_version_id_old", MINIMUM_VERSION),
    ("rename", NAME),
];

pub const FIELD_ALIASES: &[(&str, Symbol)] = &[
    ("version_id", VERSION),
    ("since", VERSION),
    ("since_version", VERSION),
    ("field_exists", EXISTS),
    ("name", RENAME),
    ("unused_buffer", UNUSED),
    ("positive", POSITIVE_LE),
    ("le", POSITIVE_LE),
    ("ptr", VOID_PTR),
    ("pointer", VOID_PTR),
    ("subsection_needed", NEEDED),
    ("num", COUNT),
    ("len", COUNT),
    ("varray", COUNT),
    ("num_field", COUNT),
    ("size_field", VBUFFER),
    ("vstruct", STRUCT_VERSION),
    ("with_tmp", TMP),
    ("codec", WITH),
    ("info", WITH),
    ("qtailq_v", QTAILQ),
    ("qlist_v", QLIST),
    ("gtree_v", GTREE),
];

pub fn list(keys: &[Symbol]) -> String {
    keys.iter().map(|k| k.0).collect::<Vec<_>>().join(", ")
}

impl PartialEq<Symbol> for syn::Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}
