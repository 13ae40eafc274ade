//! QEMU's `QTAILQ` / `QLIST` (docs/wire-format.md#queues-and-trees): per element `01` + the
//! element's description, then `00`.

use std::collections::{LinkedList, VecDeque};

use crate::context::Context;
use crate::error::{Error, ErrorKind, Result};
use crate::state::VmState;
use crate::stream::{Reader, Sink, Source, Writer};

/// A collection that can hold a QEMU queue: `Vec`, `VecDeque`, `LinkedList`.
pub trait Queue {
    /// Element type.
    type Elem: VmState + Default;
    /// Elements in queue order.
    fn elems_mut(&mut self) -> impl Iterator<Item = &mut Self::Elem>;
    /// Removes every element.
    fn clear_queue(&mut self);
    /// Appends at the tail.
    fn push_tail(&mut self, e: Self::Elem);
}

macro_rules! queue {
    ($($coll:ident: $push:ident),*) => {$(
        impl<T: VmState + Default> Queue for $coll<T> {
            type Elem = T;
            fn elems_mut(&mut self) -> impl Iterator<Item = &mut T> {
                self.iter_mut()
            }
            fn clear_queue(&mut self) {
                self.clear();
            }
            fn push_tail(&mut self, e: T) {
                self.$push(e);
            }
        }
    )*};
}
queue!(Vec: push, VecDeque: push_back, LinkedList: push_back);

/// Saves a queue: elements at their own version.
pub fn save_queue<Q: Queue, W: Sink>(q: &mut Q, w: &mut Writer<W>, ctx: &Context) -> Result<()> {
    for (i, e) in q.elems_mut().enumerate() {
        w.put_u8(1).map_err(|e| e.index(i))?;
        crate::state::save_own_version(e, w, ctx).map_err(|e| e.index(i))?;
    }
    w.put_u8(0)
}

/// Loads a queue, replacing the destination's elements; elements are
/// loaded at `version` (the field's version, as QEMU does) and appended in
/// stream order. Memory grows with the elements actually present.
pub fn load_queue<Q: Queue, S: Source>(
    q: &mut Q,
    r: &mut Reader<S>,
    version: u32,
    ctx: &Context,
) -> Result<()> {
    q.clear_queue();
    let mut i = 0usize;
    loop {
        let at = r.offset();
        if !element_follows(r.get_u8()?, ctx, at).map_err(|e| e.index(i))? {
            return Ok(());
        }
        // Each element costs a marker byte, but may hold far more in
        // memory: the context's element limit applies here too.
        if i as u64 >= ctx.max_vec_len {
            return Err(too_many(at, i));
        }
        let mut e = Q::Elem::default();
        e.load_state_in_place(r, version, ctx)
            .map_err(|e| e.index(i))?;
        q.push_tail(e);
        i += 1;
    }
}

/// A queue or tree marker: `0x00` ends the list; QEMU takes any other byte
/// as "an element follows", [`Context::strict_markers`] only `0x01`.
#[inline]
pub(crate) fn element_follows(marker: u8, ctx: &Context, at: u64) -> Result<bool> {
    match marker {
        0 => Ok(false),
        1 => Ok(true),
        _ if !ctx.strict_markers => Ok(true),
        _ => Err(Error::new(
            ErrorKind::Malformed {
                message: "a queue or tree marker must be 0x01 (element follows) or 0x00 (end)",
            },
            at,
        )),
    }
}

/// A queue or tree with more elements than [`Context::max_vec_len`].
#[cold]
pub(crate) fn too_many(at: u64, i: usize) -> Error {
    Error::new(
        ErrorKind::Invalid {
            message: "more elements than Context::max_vec_len allows",
        },
        at,
    )
    .index(i)
}
