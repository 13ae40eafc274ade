//! Save and load device state in QEMU's VMState migration format, byte for
//! byte, from Rust structs annotated with `#[derive(VmState)]`.
//!
//! ```
//! use vmstate_core::{Context, VmState};
//!
//! #[derive(VmState, Clone, Default)]
//! #[vmstate(name = "port92", version = 1)]
//! struct Port92 {
//!     outport: u8,
//! }
//!
//! let mut dev = Port92 { outport: 0x02 };
//! let bytes = dev.to_bytes(&Context::new()).unwrap();
//! assert_eq!(bytes, [0x02]);
//!
//! let mut back = Port92::default();
//! back.load_from_slice(&bytes, &Context::new()).unwrap();
//! assert_eq!(back.outport, 0x02);
//! ```
//!
//! The attribute language is documented in [`attributes`]; what a load
//! guarantees on hostile input, and which attribute closes which QEMU CVE
//! pattern, in [`hostile`].
//!
//! # Modules
//! * [`stream`]: the big-endian [`Reader`] and [`Writer`], and the sinks
//!   a writer fills: a `Vec<u8>`, a caller's buffer
//!   ([`stream::SliceSink`], or [`VmState::save_to_slice`]), any
//!   `std::io::Write` ([`stream::IoSink`]);
//! * [`desc`]: the static description tables ([`Vmsd`], [`Field`]);
//! * [`field`]: [`VmField`], the per-type codecs (QEMU's `VMStateInfo`);
//! * [`VmState`]: the trait the derive implements;
//! * [`Error`]: errors with a field path and byte offset;
//! * [`cpr`]: fields only checkpoint-restart may carry (`void_ptr`, `fd`)
//!   and the rule that refuses them up front; `fd` fields in [`mod@fd`];
//!   with feature `fd`, `fdchan`: Unix-socket (`SCM_RIGHTS`) and
//!   inherited-descriptor channels.

#![deny(missing_docs)]
// Stream data must never panic the library: no unwrap/expect/panic outside tests.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

#[doc = include_str!("attributes.md")]
pub mod attributes {}
pub mod checks;
#[doc = include_str!("hostile.md")]
pub mod hostile {}
pub mod codec;
pub mod context;
pub mod cpr;
pub mod desc;
pub mod error;
#[cfg(unix)]
pub mod fd;
#[cfg(all(unix, feature = "fd"))]
pub mod fdchan;
pub mod field;
mod fixed;
pub mod length;
mod markers;
pub mod ptr;
pub mod record;
mod state;
pub mod stream;
#[doc(hidden)]
pub mod swap;
pub mod types;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use context::{Context, DuplicateSubsections, MigMode};
pub use cpr::{CprFields, FdPassing};
pub use desc::{Field, FieldKind, Vmsd};
pub use error::{Error, ErrorKind, Result, Segment};
pub use field::VmField;
pub use state::VmState;
pub use stream::{Reader, Writer};

#[cfg(feature = "derive")]
pub use vmstate_derive::VmState;
