//! Hand-written wire forms: [`Codec`] (QEMU's device-private
//! `VMStateInfo`s, used with `#[vmstate(with = Type)]`) and [`VmTmp`]
//! (`VMSTATE_WITH_TMP`, used with `#[vmstate(tmp = Type)]`).

use crate::context::Context;
use crate::error::{BoxError, Result};
use crate::state::VmState;
use crate::stream::{Reader, Sink, Source, Writer};

/// A custom codec for a field of type `T`, with a QEMU type name.
///
/// ```
/// use vmstate_core::codec::Codec;
/// use vmstate_core::{Context, Reader, Result, VmState, Writer};
///
/// /// QEMU's `pci irq state`: four be32 levels.
/// struct PciIrqState;
/// impl Codec<[u8; 4]> for PciIrqState {
///     const INFO: &'static str = "pci irq state";
///     const SIZE: usize = 16;
///     fn save<W: vmstate_core::stream::Sink>(v: &mut [u8; 4], w: &mut Writer<W>, _: &Context) -> Result<()> {
///         v.iter().try_for_each(|l| w.put_u32(u32::from(*l)))
///     }
///     fn load<S: vmstate_core::stream::Source>(v: &mut [u8; 4], r: &mut Reader<S>, _: &Context) -> Result<()> {
///         for l in v.iter_mut() {
///             *l = (r.get_u32()? & 1) as u8;
///         }
///         Ok(())
///     }
/// }
///
/// #[derive(VmState, Clone, Default)]
/// #[vmstate(name = "pci", version = 1)]
/// struct Pci {
///     #[vmstate(with = PciIrqState, rename = "irq_state")]
///     irq: [u8; 4],
/// }
/// assert_eq!(Pci::VMSD.fields[0].info, "pci irq state");
/// let bytes = Pci { irq: [1, 0, 0, 1] }.to_bytes(&Context::new()).unwrap();
/// assert_eq!(bytes, [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
/// ```
pub trait Codec<T> {
    /// QEMU's type name, as in vmdesc JSON.
    const INFO: &'static str;
    /// Wire bytes (0 when it varies).
    const SIZE: usize;
    /// Writes `v`.
    fn save<W: Sink>(v: &mut T, w: &mut Writer<W>, ctx: &Context) -> Result<()>;
    /// Reads into `v`.
    fn load<S: Source>(v: &mut T, r: &mut Reader<S>, ctx: &Context) -> Result<()>;
}

/// A temporary with its own description that stands in for some of the
/// parent's state on the wire (QEMU's `VMSTATE_WITH_TMP`): filled from the
/// parent before saving, and applied to the parent after loading.
///
/// The temporary is saved at its own version and loaded at the field's
/// `version` (QEMU passes `field->version_id`, usually 0).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a temporary of `{P}`",
    label = "`tmp = Type` needs `impl VmTmp<{P}> for Type`",
    note = "a temporary is a #[derive(VmState)] struct that implements VmTmp<Parent> (fill_from_parent, apply_to_parent)"
)]
pub trait VmTmp<P>: VmState + Default {
    /// Fills the temporary from the parent (QEMU: the tmp's `pre_save`).
    fn fill_from_parent(&mut self, parent: &P) -> std::result::Result<(), BoxError>;
    /// Applies the loaded temporary to the parent (QEMU: the tmp's
    /// `post_load`).
    fn apply_to_parent(&mut self, parent: &mut P) -> std::result::Result<(), BoxError>;
}
