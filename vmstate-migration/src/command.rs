//! Names of the stream's command records (`QEMU_VM_COMMAND`, `0x08`), as
//! QEMU's `enum qemu_vm_cmd` numbers them (QEMU 10.0; 7.2 has all but the
//! last).

/// QEMU's name of command `cmd` without the `MIG_CMD_` prefix, or `None`
/// for a number QEMU does not define.
///
/// ```
/// use vmstate_migration::command::command_name;
/// assert_eq!(command_name(11), Some("SWITCHOVER_START"));
/// assert_eq!(command_name(1), Some("OPEN_RETURN_PATH"));
/// assert_eq!(command_name(12), None);
/// ```
pub fn command_name(cmd: u16) -> Option<&'static str> {
    Some(match cmd {
        0 => "INVALID",
        1 => "OPEN_RETURN_PATH",
        2 => "PING",
        3 => "POSTCOPY_ADVISE",
        4 => "POSTCOPY_LISTEN",
        5 => "POSTCOPY_RUN",
        6 => "POSTCOPY_RAM_DISCARD",
        7 => "PACKAGED",
        8 => "ENABLE_COLO",
        9 => "POSTCOPY_RESUME",
        10 => "RECV_BITMAP",
        // QEMU 9.1 on: the source is about to stop the VM; sent only when
        // the destination supports it (`switchover-ack` off: always).
        11 => "SWITCHOVER_START",
        _ => return None,
    })
}
