//! The best hand-written code for the fourth bench device ([`Fifo`]),
//! in the manner of `tight.rs`: fixed-size arrays taken at once, the
//! buffer copied whole; the save appends its pieces to a `Vec`, or writes
//! them at constant offsets into a `[u8; N]`.

use vmstate_bench::fifo::{self, Fifo, FIFO_LEN, PAYLOAD_LEN};

use super::tight::{be16, be32, be32s, take, u8_, Bad};

/// [`Fifo`] from `r` at stream `version`.
pub fn load_fifo(d: &mut Fifo, r: &mut &[u8], version: u32) -> Result<(), Bad> {
    if version != fifo::VERSION {
        return Err(Bad::Version);
    }
    be32s::<8, 32>(&mut d.regs, r)?;
    d.head = be16(r)?;
    d.tail = be16(r)?;
    d.data = *take::<FIFO_LEN>(r)?;
    d.ctrl = be32(r)?;
    d.status = be32(r)?;
    d.irq = u8_(r)? != 0;
    Ok(())
}

/// [`Fifo`] appended to `out`.
pub fn save_fifo_vec(d: &Fifo, out: &mut Vec<u8>) {
    for x in d.regs {
        out.extend_from_slice(&x.to_be_bytes());
    }
    out.extend_from_slice(&d.head.to_be_bytes());
    out.extend_from_slice(&d.tail.to_be_bytes());
    out.extend_from_slice(&d.data);
    out.extend_from_slice(&d.ctrl.to_be_bytes());
    out.extend_from_slice(&d.status.to_be_bytes());
    out.push(u8::from(d.irq));
}

/// [`Fifo`] into a `[u8; N]` at constant offsets: the bound of a save.
pub fn save_fifo_array(d: &Fifo, out: &mut [u8; PAYLOAD_LEN]) {
    for (i, x) in d.regs.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&x.to_be_bytes());
    }
    out[32..34].copy_from_slice(&d.head.to_be_bytes());
    out[34..36].copy_from_slice(&d.tail.to_be_bytes());
    out[36..548].copy_from_slice(&d.data);
    out[548..552].copy_from_slice(&d.ctrl.to_be_bytes());
    out[552..556].copy_from_slice(&d.status.to_be_bytes());
    out[556] = u8::from(d.irq);
}
