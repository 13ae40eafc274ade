//! Fields that only checkpoint-restart (CPR) may carry, and the rule that
//! refuses them everywhere else before anything moves.
//!
//! Two kinds of field mean something only when the new VMM runs on the same
//! host as the old one:
//!
//! * `void_ptr`: a host virtual address, carried as an identifier (iommufd
//!   re-registers DMA mappings by their old address) and never
//!   dereferenced. Allowed in `cpr-reboot`, `cpr-transfer` and `cpr-exec`.
//! * `fd`: an open file descriptor (QEMU's `VMSTATE_FD`, type name `fd`).
//!   Allowed in `cpr-transfer`, where it rides as `SCM_RIGHTS` on a one-byte
//!   placeholder over a Unix socket, and in `cpr-exec`, where the
//!   descriptor survives `exec` and its number is written as be32. A
//!   `cpr-reboot` restarts the process, so no descriptor survives it.
//!
//! Every description knows statically which of them it holds anywhere
//! below it ([`VmState::CPR_FIELDS`](crate::VmState::CPR_FIELDS), also in
//! [`Vmsd::cpr_fields`] and each [`Field::cpr_fields`]): nested structs,
//! arrays, boxes, pointer slots, subsections, temporaries, queue and tree
//! elements. The generated save and load test that constant first; for a
//! type without such fields the test is a constant `false` and compiles to
//! nothing. For a type with them, a mode (or a channel) that does not allow
//! them is refused before any hook runs or any byte moves, and the error
//! names the first such field's full path, found by walking the tables.

use crate::context::{Context, MigMode};
use crate::desc::{Field, FieldKind, Vmsd};
use crate::error::{Error, ErrorKind, Result, Segment};

/// A set of CPR-only field kinds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct CprFields(u8);

impl CprFields {
    /// No CPR-only field.
    pub const NONE: CprFields = CprFields(0);
    /// `void_ptr` fields.
    pub const VOID_PTR: CprFields = CprFields(1);
    /// `fd` fields.
    pub const FD: CprFields = CprFields(2);

    /// Both sets together.
    pub const fn union(self, other: CprFields) -> CprFields {
        CprFields(self.0 | other.0)
    }

    /// What both sets hold.
    pub const fn intersection(self, other: CprFields) -> CprFields {
        CprFields(self.0 & other.0)
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every kind in `other` is in `self`.
    pub const fn contains(self, other: CprFields) -> bool {
        self.0 & other.0 == other.0
    }
}

/// How a channel carries the descriptors of `fd` fields
/// ([`Sink::FD_PASSING`](crate::stream::Sink::FD_PASSING),
/// [`Source::FD_PASSING`](crate::stream::Source::FD_PASSING)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FdPassing {
    /// Not at all: a plain `Read`/`Write` or memory.
    None,
    /// `cpr-transfer`: a placeholder byte, the descriptor as `SCM_RIGHTS`
    /// on a Unix socket.
    ScmRights,
    /// `cpr-exec`: the descriptor stays open across `exec`; its number
    /// travels as be32.
    Inherit,
    /// The `cpr-transfer` bytes without descriptors: placeholders are
    /// written and read, and their offsets noted (files, analysis).
    Placeholder,
}

impl MigMode {
    /// The CPR-only field kinds this mode allows (QEMU's rule): `void_ptr`
    /// in every CPR mode, `fd` in `cpr-transfer` and `cpr-exec`.
    pub const fn allowed_cpr_fields(self) -> CprFields {
        match self {
            MigMode::Normal => CprFields::NONE,
            MigMode::CprReboot => CprFields::VOID_PTR,
            MigMode::CprTransfer | MigMode::CprExec => CprFields::VOID_PTR.union(CprFields::FD),
        }
    }
}

/// Whether a channel can carry the `fd` fields of `mode`.
const fn channel_fits(mode: MigMode, passing: FdPassing) -> bool {
    matches!(
        (mode, passing),
        (
            MigMode::CprTransfer,
            FdPassing::ScmRights | FdPassing::Placeholder
        ) | (MigMode::CprExec, FdPassing::Inherit)
    )
}

/// The generated code's guard, for a description holding `fields`: `Ok`
/// when the context's mode and the channel allow all of them.
#[inline]
pub(crate) fn check(
    vmsd: &'static Vmsd,
    fields: CprFields,
    ctx: &Context,
    passing: FdPassing,
    offset: u64,
) -> Result<()> {
    let refused = fields.intersection(CprFields(!ctx.mode.allowed_cpr_fields().0));
    if refused.is_empty() && (!fields.contains(CprFields::FD) || channel_fits(ctx.mode, passing)) {
        return Ok(());
    }
    Err(refusal(vmsd, refused, ctx.mode, passing, offset))
}

#[cold]
#[inline(never)]
fn refusal(
    vmsd: &'static Vmsd,
    refused: CprFields,
    mode: MigMode,
    passing: FdPassing,
    offset: u64,
) -> Error {
    // A refused mode first; else the channel cannot carry the fds.
    let (kind, which) = if refused.contains(CprFields::VOID_PTR) {
        (ErrorKind::VoidPtrRefused { mode }, CprFields::VOID_PTR)
    } else if refused.contains(CprFields::FD) {
        (ErrorKind::FdRefused { mode }, CprFields::FD)
    } else {
        (ErrorKind::FdChannel { mode, passing }, CprFields::FD)
    };
    let mut e = Error::new(kind, offset);
    let mut path = Vec::new();
    find(vmsd, which, &mut path, 0);
    for seg in path.into_iter().rev() {
        e = e.within(seg);
    }
    e
}

/// Depth limit of the path search (descriptions do not nest this deep).
const MAX_DEPTH: usize = 64;

/// Appends to `path` the way from `vmsd` to its first field of a kind in
/// `which`; true when found.
fn find(vmsd: &'static Vmsd, which: CprFields, path: &mut Vec<Segment>, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    for f in vmsd.fields {
        if f.cpr_fields.intersection(which).is_empty() {
            continue;
        }
        path.push(Segment::Field(f.name));
        if in_field(f, which, path, depth) {
            return true;
        }
        path.pop();
    }
    for s in vmsd.subsections {
        if s.vmsd.cpr_fields.intersection(which).is_empty() {
            continue;
        }
        path.push(Segment::Subsection(s.vmsd.name));
        if find(s.vmsd, which, path, depth + 1) {
            return true;
        }
        path.pop();
    }
    false
}

fn in_field(f: &'static Field, which: CprFields, path: &mut Vec<Segment>, depth: usize) -> bool {
    match f.kind {
        FieldKind::VoidPtr | FieldKind::Fd => true,
        _ => {
            let many = f.array_len.is_some()
                || f.length_from.is_some()
                || matches!(f.kind, FieldKind::Queue | FieldKind::Gtree);
            if many {
                path.push(Segment::AnyElement);
            }
            // Without a nested description holding it (a gtree key), the
            // field is as far as the tables go.
            if let Some(inner) = f.vmsd {
                if !inner.cpr_fields.intersection(which).is_empty() {
                    find(inner, which, path, depth + 1);
                }
            }
            true
        }
    }
}
