//! `slirp`: the state of a `-netdev user` back end, one section per
//! instance (QEMU `net/slirp.c` hands the section to libslirp's
//! `slirp_state_save` / `slirp_state_load`; libslirp 4.x `src/state.c`).
//!
//! QEMU registers this section with `register_savevm_live` and plain
//! save/load callbacks, not a `VMStateDescription`: QEMU's vmdesc shows it
//! as one opaque `data` buffer. The bytes inside are nonetheless
//! libslirp's own copy of the VMState encoding: a list of guest-forwarded
//! connections (each a byte 42 and a socket's description), ended by a
//! zero byte, then the description `slirp` (version 4, the section's
//! version). The mirror reads and writes exactly that, for a back end with
//! no guest-forwarded connection open (`guestfwd=` rules that a guest
//! connected to); a stream that carries one is refused with a message,
//! not misread: the socket's description (TCP control block, buffers,
//! addresses) is not mirrored.
//!
//! Constructs shown: an `equal` byte as an honest boundary of what is
//! mirrored, fields from versions 2 and 3, a struct array of a
//! description with no version of its own.

use vmstate_core::VmState;

/// `NB_BOOTP_CLIENTS`: the DHCP server's lease table.
pub const NB_BOOTP_CLIENTS: usize = 16;

/// Section `slirp` (libslirp's `vmstate_slirp`, version 4, minimum 0,
/// after the connection list).
///
/// ```
/// use vmstate_core::{Context, VmState};
/// use vmstate_qemu::slirp::Slirp;
///
/// let mut s = Slirp::default();
/// s.ip_id = 0x1234;
/// s.bootp_clients[0].allocated = 1;
/// s.bootp_clients[0].macaddr = [0x52, 0x54, 0, 0x12, 0x34, 0x56];
/// let bytes = s.to_bytes(&Context::new()).unwrap();
/// assert_eq!(bytes.len(), 1 + 2 + 16 * 8);
/// assert_eq!(bytes[..11], [0, 0x12, 0x34, 0, 1, 0x52, 0x54, 0, 0x12, 0x34, 0x56]);
///
/// // A stream with a guest-forwarded connection is refused.
/// let mut hostile = bytes.clone();
/// hostile[0] = 42;
/// assert!(Slirp::default().load_from_slice(&hostile, &Context::new()).is_err());
/// ```
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(name = "slirp", version = 4, minimum_version = 0)]
pub struct Slirp {
    /// The end of the guest-forwarded connection list: 0 when there are
    /// none (a connection would start with the byte 42).
    #[vmstate(
        equal,
        rename = "guestfwd_end",
        hint = "guest-forwarded connections (a byte 42 and a socket's state) are not mirrored"
    )]
    pub guestfwd_end: u8,
    /// The next IP identification number (from version 2).
    #[vmstate(version = 2)]
    pub ip_id: u16,
    /// DHCP leases (from version 3).
    #[vmstate(version = 3)]
    pub bootp_clients: [BootpClient; NB_BOOTP_CLIENTS],
}

impl Default for Slirp {
    fn default() -> Self {
        Slirp {
            guestfwd_end: 0,
            ip_id: 0,
            bootp_clients: [BootpClient::default(); NB_BOOTP_CLIENTS],
        }
    }
}

/// `vmstate_slirp_bootp_client` ("slirp_bootpclient", version 0): one
/// DHCP lease.
#[derive(VmState, Clone, Copy, Debug, Default, PartialEq)]
#[vmstate(name = "slirp_bootpclient")]
pub struct BootpClient {
    /// The lease is taken.
    pub allocated: u16,
    /// The client's MAC address.
    #[vmstate(buffer)]
    pub macaddr: [u8; 6],
}
