//! The big-endian migration stream: a [`Writer`] over any [`Sink`] and a
//! [`Reader`] over any [`Source`], both tracking their byte offset.
//! Neither seeks: migration runs over pipes and sockets.

#[cfg(unix)]
pub(crate) mod placeholder;
mod reader;
mod sink;
mod source;
mod writer;

#[cfg(unix)]
pub use placeholder::{Placeholders, FD_PLACEHOLDER};
pub use reader::Reader;
#[doc(hidden)]
pub use sink::HEAD;
pub use sink::{IoSink, Sink, SliceSink};
pub use source::{FdError, IoSource, ReadError, SliceSource, Source, MAX_PEEK};
pub use writer::Writer;
