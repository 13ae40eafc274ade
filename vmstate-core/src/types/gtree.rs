//! QEMU's `GTREE` (docs/wire-format.md#queues-and-trees): be32 node count; per node `01`, key, value;
//! then `00`. Nodes come in key order, which a `BTreeMap` gives.

use std::collections::BTreeMap;

use crate::context::Context;
use crate::cpr::CprFields;
use crate::error::{Error, ErrorKind, Result};
use crate::state::VmState;
use crate::stream::{Reader, Sink, Source, Writer};

/// A GTree key: a direct key (`u64`, QEMU's pointer-sized integer, sent as
/// be64) or a derived struct. Its `Ord` must match QEMU's compare function.
pub trait GtreeKey: Ord + Sized {
    /// The CPR-only fields of a struct key.
    const CPR_FIELDS: CprFields = CprFields::NONE;
    /// Writes the key.
    fn save_key<W: Sink>(&mut self, w: &mut Writer<W>, ctx: &Context) -> Result<()>;
    /// Reads a key; `version` is the field's version.
    fn load_key<S: Source>(r: &mut Reader<S>, version: u32, ctx: &Context) -> Result<Self>;
}

impl GtreeKey for u64 {
    fn save_key<W: Sink>(&mut self, w: &mut Writer<W>, _: &Context) -> Result<()> {
        w.put_u64(*self)
    }
    fn load_key<S: Source>(r: &mut Reader<S>, _: u32, _: &Context) -> Result<Self> {
        r.get_u64()
    }
}

/// A derived struct as key: its description, saved at its own version and
/// loaded at the field's version (QEMU's key VMSD).
impl<T: VmState + Ord + Default> GtreeKey for T {
    const CPR_FIELDS: CprFields = T::CPR_FIELDS;
    fn save_key<W: Sink>(&mut self, w: &mut Writer<W>, ctx: &Context) -> Result<()> {
        crate::state::save_own_version(self, w, ctx)
    }
    fn load_key<S: Source>(r: &mut Reader<S>, version: u32, ctx: &Context) -> Result<Self> {
        let mut k = T::default();
        k.load_state_in_place(r, version, ctx)?;
        Ok(k)
    }
}

/// Saves a tree in key order. Keys are saved from clones (a `BTreeMap` does
/// not lend its keys mutably; key hooks see the clone).
pub fn save_gtree<K, V, W>(t: &mut BTreeMap<K, V>, w: &mut Writer<W>, ctx: &Context) -> Result<()>
where
    K: GtreeKey + Clone,
    V: VmState,
    W: Sink,
{
    let n = u32::try_from(t.len()).map_err(|_| {
        Error::new(
            ErrorKind::Invalid {
                message: "a GTree holds at most 2^32-1 nodes",
            },
            w.offset(),
        )
    })?;
    w.put_u32(n)?;
    for (i, (k, v)) in t.iter_mut().enumerate() {
        w.put_u8(1).map_err(|e| e.index(i))?;
        k.clone().save_key(w, ctx).map_err(|e| e.index(i))?;
        crate::state::save_own_version(v, w, ctx).map_err(|e| e.index(i))?;
    }
    w.put_u8(0)
}

/// Loads a tree, replacing the destination's nodes. The node count in the
/// stream is checked against the nodes that actually arrive (QEMU's two
/// "inconsistent stream" errors); nothing is allocated from it.
pub fn load_gtree<K, V, S>(
    t: &mut BTreeMap<K, V>,
    r: &mut Reader<S>,
    version: u32,
    ctx: &Context,
) -> Result<()>
where
    K: GtreeKey,
    V: VmState + Default,
    S: Source,
{
    t.clear();
    let nnodes = r.get_u32()?;
    let mut count = 0u32;
    loop {
        let at = r.offset();
        if !super::queue::element_follows(r.get_u8()?, ctx, at)? {
            break;
        }
        if count == nnodes {
            return Err(Error::new(
                ErrorKind::Malformed {
                    message: "more GTree nodes than the stream's node count",
                },
                at,
            ));
        }
        let i = count as usize;
        if u64::from(count) >= ctx.max_vec_len {
            return Err(super::queue::too_many(at, i));
        }
        let k = K::load_key(r, version, ctx).map_err(|e| e.index(i))?;
        let mut v = V::default();
        v.load_state_in_place(r, version, ctx)
            .map_err(|e| e.index(i))?;
        t.insert(k, v);
        count += 1;
    }
    if count != nnodes {
        return Err(Error::new(
            ErrorKind::Malformed {
                message: "fewer GTree nodes than the stream's node count",
            },
            r.offset(),
        ));
    }
    Ok(())
}
