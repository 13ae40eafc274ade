//! `i2c_bus`: an I²C bus (QEMU 7.2 `hw/i2c/core.c`, `vmstate_i2c_bus`; on
//! pc the SMBus of the PIIX4 power-management function).
//!
//! Constructs shown: a `pre_save` hook that computes the only wire field
//! from device state that is not migrated as such (the list of devices in
//! the current transfer), and a `post_load` that rebuilds that state from
//! it (in QEMU each slave's own `post_load` re-joins the transfer).

use std::convert::Infallible;

use vmstate_core::VmState;

/// `saved_address` when no transfer is in progress.
pub const NO_TRANSFER: u8 = 0xff;
/// `I2C_BROADCAST`: the general-call address.
pub const I2C_BROADCAST: u8 = 0x00;

/// Who takes part in the current transfer; not on the wire as such.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum I2cTransfer {
    /// No transfer.
    #[default]
    Idle,
    /// A general call to every device.
    Broadcast,
    /// The device at this 7-bit address.
    Device(u8),
}

/// Section `i2c_bus` (version 1, minimum 1).
#[derive(VmState, Clone, Debug, PartialEq)]
#[vmstate(
    name = "i2c_bus",
    version = 1,
    minimum_version = 1,
    pre_save = Self::pre_save,
    post_load = Self::post_load
)]
pub struct I2cBus {
    /// [`NO_TRANSFER`], [`I2C_BROADCAST`], or the address of the first
    /// device in the transfer (computed by `pre_save`).
    pub saved_address: u8,
    /// The transfer in progress.
    #[vmstate(skip)]
    pub transfer: I2cTransfer,
}

impl Default for I2cBus {
    fn default() -> Self {
        I2cBus {
            saved_address: NO_TRANSFER,
            transfer: I2cTransfer::Idle,
        }
    }
}

impl I2cBus {
    /// `i2c_bus_pre_save`.
    #[inline]
    fn pre_save(&mut self) -> Result<(), Infallible> {
        self.saved_address = match self.transfer {
            I2cTransfer::Idle => NO_TRANSFER,
            I2cTransfer::Broadcast => I2C_BROADCAST,
            I2cTransfer::Device(a) => a,
        };
        Ok(())
    }

    /// The slaves' `i2c_slave_post_load`, seen from the bus: the devices
    /// at the saved address (all of them for a general call) re-join the
    /// transfer. The mirror assumes that a device answers there; QEMU also
    /// leaves its `broadcast` flag as the destination had it.
    #[inline]
    fn post_load(&mut self, _version: u32) -> Result<(), Infallible> {
        self.transfer = match self.saved_address {
            NO_TRANSFER => I2cTransfer::Idle,
            I2C_BROADCAST => I2cTransfer::Broadcast,
            a => I2cTransfer::Device(a),
        };
        Ok(())
    }
}
