//! Whole QEMU migration streams: the container around device payloads,
//! read and written byte for byte. Device state itself is `vmstate-core`'s
//! business; this crate adds what a tool or a VMM's migration driver needs.
//!
//! * [`StreamReader`] iterates the records of a stream from any `Read` (or
//!   a slice), without seeking: header, configuration, FULL and
//!   START/PART/END sections with their footers, commands, EOF and the
//!   vmdesc trailer. RAM sections are decoded into [`RamPayload`]s; FULL
//!   sections are decoded with the stream's vmdesc ([`VmDesc`]) by the
//!   [generic decoder](generic), which is also how their end is found.
//! * [`StreamWriter`] writes the same records; a stream read and written
//!   again is byte-identical ([`Stream::to_bytes`]).
//! * [`DeviceStreamWriter`] writes sections straight from `VmState` values,
//!   with the vmdesc trailer generated from what they wrote;
//!   [`Dispatcher`] loads a stream's sections into registered values,
//!   from a parsed [`Stream`] or in one pass from any `Read` (a socket):
//!   there each FULL section is loaded straight from the stream, so no
//!   vmdesc is needed ([`StreamReader::next_item_into`]).
//! * [`Analyzer`] prints what QEMU's `analyze-migration.py` prints.
//! * [`edit::set`] changes a field of a decoded section, checked against
//!   its type.
//! * [`dump`] writes any set of static descriptions as QEMU's
//!   `-dump-vmstate` JSON and reads QEMU's; [`compat::check`] tells from two
//!   such dumps whether a stream saved by one build loads on the other;
//!   [`snapshot`] keeps a type compatible with a committed snapshot in CI.
//! * [`cpr`] reads and writes QEMU's CPR state (the `cpr` channel of a
//!   `cpr-transfer`: `QCPR`, descriptors as `SCM_RIGHTS`).
//!
//! ```
//! use vmstate_migration::{ReadOptions, Stream};
//!
//! # fn main() -> Result<(), vmstate_migration::StreamError> {
//! # let bytes: &[u8] = &[0x51, 0x45, 0x56, 0x4d, 0, 0, 0, 3, 0x00];
//! let stream = Stream::parse(bytes, ReadOptions::default())?;
//! for s in stream.sections() {
//!     println!("{} {}:{} {} bytes", s.kind.as_str(), s.idstr, s.instance_id, s.payload_len());
//! }
//! assert_eq!(stream.to_bytes()?, bytes);
//! # Ok(())
//! # }
//! ```
//!
//! The stream is untrusted: no input panics, every error is a
//! [`StreamError`] naming the section, field path and byte offset, and no
//! length from the stream (or its vmdesc) sizes an allocation beyond the
//! bounds of [`ReadOptions`].

#![deny(missing_docs)]
// Stream data must never panic the library: no unwrap/expect/panic outside tests.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod analyze;
pub mod command;
pub mod compat;
#[cfg(unix)]
pub mod cpr;
mod devices;
pub mod dump;
pub mod edit;
mod error;
pub mod gen_rust;
pub mod generic;
mod json_analyzer;
mod json_decode;
mod pyjson;
mod ram;
mod reader;
pub mod record;
pub mod snapshot;
mod value;
mod vmdesc;
mod writer;

pub use analyze::{hex_bytes, struct_json, to_python_json, Analyzer};
pub use devices::{DeviceStreamWriter, DispatchReport, Dispatcher, LoadSection};
pub use error::{PathSegment, SectionName, StreamError, StreamErrorKind, StreamResult};
pub use generic::DecodeLimits;
pub use json_analyzer::JsonAnalyzer;
pub use ram::{
    Page, RamBlockInfo, RamBody, RamImage, RamOptions, RamPayload, RamRecord, FLAG_COMPRESS_PAGE,
    FLAG_CONTINUE, FLAG_EOS, FLAG_HOOK, FLAG_MEM_SIZE, FLAG_MULTIFD_FLUSH, FLAG_PAGE, FLAG_XBZRLE,
    FLAG_ZERO, MAX_PAGE_SIZE,
};
pub use reader::{
    locate_vmdesc, Command, ConfigBody, ConfigSubsection, Configuration, DynSource, FooterMode,
    Item, Payload, RamContinued, ReadOptions, Section, SectionKind, SectionTargets, Stream,
    StreamReader, Trailer, VmsdPayload,
};
pub use value::{FieldValue, Int, StructValue, SubsectionValue, Value};
pub use vmdesc::{
    find_trailer, ElemDesc, ElemKind, FieldDesc, SectionDesc, Shape, StructDesc, VmDesc,
};
pub use writer::{FooterPolicy, StreamWriter, WriteOptions};

/// `QEMU_VM_FILE_MAGIC`, "QEVM".
pub const FILE_MAGIC: u32 = 0x5145_564d;
/// `QEMU_VM_FILE_VERSION_COMPAT` (refused, as QEMU does).
pub const FILE_VERSION_COMPAT: u32 = 2;
/// `QEMU_VM_FILE_VERSION`.
pub const FILE_VERSION: u32 = 3;
/// `QEMU_VM_EOF`.
pub const VM_EOF: u8 = 0x00;
/// `QEMU_VM_SECTION_START`.
pub const VM_SECTION_START: u8 = 0x01;
/// `QEMU_VM_SECTION_PART`.
pub const VM_SECTION_PART: u8 = 0x02;
/// `QEMU_VM_SECTION_END`.
pub const VM_SECTION_END: u8 = 0x03;
/// `QEMU_VM_SECTION_FULL`.
pub const VM_SECTION_FULL: u8 = 0x04;
/// `QEMU_VM_SUBSECTION`.
pub const VM_SUBSECTION: u8 = 0x05;
/// `QEMU_VM_VMDESCRIPTION`.
pub const VM_VMDESCRIPTION: u8 = 0x06;
/// `QEMU_VM_CONFIGURATION`.
pub const VM_CONFIGURATION: u8 = 0x07;
/// `QEMU_VM_COMMAND`.
pub const VM_COMMAND: u8 = 0x08;
/// `QEMU_VM_SECTION_FOOTER`.
pub const VM_SECTION_FOOTER: u8 = 0x7e;
