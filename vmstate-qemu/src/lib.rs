//! Rust mirrors of QEMU 7.2 device state: the device sections of a
//! `pc-i440fx-7.2` machine, written with `#[derive(VmState)]`.
//!
//! Each module mirrors one QEMU description: the same names (the fields'
//! description names are QEMU's, through `rename` where they are not Rust
//! identifiers), the same order, versions, field tests, subsections and
//! `needed` rules, and the hooks that matter for the bytes or that reject
//! a stream. The modules double as worked examples of the attribute
//! language ([`vmstate_core::attributes`]); each says which constructs it
//! shows. The [`registry`] maps a section's idstr to its mirror.
//!
//! The ground truth for every mirror is QEMU 7.2.22 itself: the vmdesc
//! JSON that QEMU writes at the end of each stream, its `-dump-vmstate`
//! output, and its sources (named in each module). The tests load every
//! mirrored section of the real streams `pc.mig`, `pc-devices.mig` and
//! `pc-nofooter.mig`, save it again and compare byte for byte, and check
//! each description against QEMU's.
//!
//! # Mirrored
//!
//! | section | module | constructs |
//! |---|---|---|
//! | `timer` | [`timer`] | `unused`, `version`, nested subsections, [`Timer`](vmstate_core::types::Timer) |
//! | `cpu_common` | [`cpu_common`] | subsections, `pre_load` defaults, `post_load` |
//! | `cpu` | [`cpu`] | **`tmp`** (x87 registers through `fpreg_tmp`), struct sub-array views of one register file, 44 subsections, a `Box` struct pointer with nested subsections, rejecting `post_load` checks |
//! | `kvm-tpr-opt` | [`kvm_tpr_opt`] | nested structs two deep, `unused` in a nested struct, `post_load` |
//! | `apic` | [`apic`] | arrays, subsection with an unslashed prefix, `pre_load` |
//! | `fw_cfg` | [`fw_cfg`] | `exists`, two fields with one name, `version`, version-0 subsection |
//! | `PCIHost` | [`pci_host`] | section-level `needed` (struct-level `needed = path`) |
//! | `PCIBUS` | [`pci_bus`] | `count = field` from an `equal` field, into a `Vec` |
//! | `I440FX` | [`i440fx`] | [`pci::PciDevice`]: `with = Codec` (`pci config` checked against the masks, `pci irq state`), `positive_le` |
//! | `dma` (×2) | [`dma`] | struct arrays with a field version |
//! | `PIIX3` | [`piix3`] | `PciDevice` of a multi-function device, version-gated array, subsection |
//! | `i8259` (×2) | [`i8259`] | plain `u8` registers |
//! | `ioapic` | [`ioapic`] | version-gated `unused`, `u64` array |
//! | `hpet` | [`hpet`] | `count = field` (struct varray), **`validate`** ("num_timers in range", CVE-2013-4527) |
//! | `mc146818rtc` | [`mc146818rtc`] | `buffer`, two `unused`, `post_load` that recomputes a wire field |
//! | `i8254` | [`i8254`] | `rename` to `channels[0].…`, struct arrays, one value sent twice |
//! | `pcspk` | [`pcspk`] | section-level `needed` |
//! | `fdc` | [`fdc`] | `count` from an unmigrated field, `uint8 equal`, struct array whose elements have subsections |
//! | `ps2kbd`, `ps2mouse` | [`ps2`] | `buffer` in a shared nested struct, dotted `rename`s, sanitising `post_load` |
//! | `pckbd` | [`pckbd`] | nested struct with subsections, cooperating hooks, `pre_save` |
//! | `vmmouse` | [`vmmouse`] | `equal` on `i32`, a 1024-element array |
//! | `port92` | [`port92`] | one byte |
//! | `ide` | [`ide`] | `buffer` with `exists`, `count` in a subsection, rejecting subsection `post_load`, sibling hooks |
//! | `i2c_bus` | [`i2c_bus`] | `pre_save` that computes the wire field |
//! | `piix4_pm` | [`piix4_pm`] | struct `exists` + version, indexed struct array, `Box` pointers, varrays of structs, one state under two names |
//! | `acpi_build` | [`acpi_build`] | one byte |
//! | `globalstate` | [`globalstate`] | `buffer` C string, section-level `needed`, rejecting `post_load` |
//! | `serial` | [`serial`] (+ [`fifo8`]) | `vbuffer = field` (`Fifo8`), `post_load` check, timers in subsections |
//! | `e1000` | [`e1000`] | `unused` with `exists`, large `buffer`s, one register array under many names, arrival markers |
//!
//! `isa-debugcon`, on the command line of `pc-devices.mig`, has **no**
//! migration state in QEMU 7.2 (`hw/char/debugcon.c` registers no
//! description), so the stream has no section for it and there is nothing
//! to mirror.
//!
//! # Not mirrored
//!
//! | section | QEMU (7.2) | why |
//! |---|---|---|
//! | `virtio-net` | `hw/net/virtio-net.c`, `hw/virtio/virtio.c` | the `virtio` field is QEMU's hand-written `virtio_save`/`virtio_load` (a `VMStateInfo` whose bytes interleave the virtio core state, the device's own description and a variable list of per-queue records and subsections, decided by the transport and the device's features at save time). It is not a description that the attribute language can state; a hand-written codec would be a port of that code, not a mirror |
//! | `slirp` (×2) | libslirp, via `net/slirp.c` | not a description at all: `register_savevm_live` with libslirp's own byte format (the vmdesc has only a `data` blob) |
//!
//! # Section-level `needed`
//!
//! QEMU skips a whole section when its top-level description's `needed`
//! returns false (`PCIHost`, `pcspk`, `globalstate`). These mirrors declare
//! it with the struct-level `needed = path`; a stream writer asks
//! [`VmState::section_needed`](vmstate_core::VmState::section_needed).
//!
//! With these, every one of the 30 device sections of `pc.mig` and
//! `pc-nofooter.mig`, and 32 of the 35 of `pc-devices.mig` (all but
//! `virtio-net` and the two `slirp`), load into their mirrors and save
//! back byte for byte, and a recording save yields exactly the vmdesc
//! entry QEMU wrote into the stream's trailer (`tests/fixtures.rs`).
//!
//! # Configuration
//!
//! A mirror's `Default` is a destination as QEMU builds it for the
//! `pc-i440fx-7.2` machine of the fixtures: `equal` checks, unmigrated
//! lengths (`fifo_size`, a FIFO's capacity), the PCI functions' masks and
//! read-only configuration, and the properties that `needed` and `exists`
//! rules read live in `skip` fields set there.

#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod acpi_build;
pub mod ahci;
pub mod apic;
pub mod cpu;
pub mod cpu_common;
pub mod dma;
pub mod e1000;
pub mod fdc;
pub mod fifo8;
pub mod fw_cfg;
pub mod globalstate;
pub mod hpet;
pub mod i2c_bus;
pub mod i440fx;
pub mod i8254;
pub mod i8259;
pub mod ich9_smb;
pub mod ide;
pub mod ioapic;
pub mod kvm_tpr_opt;
pub mod lpc_ich9;
pub mod machine;
pub mod mc146818rtc;
pub mod mch;
pub mod pci;
pub mod pci_bus;
pub mod pci_host;
pub mod pckbd;
pub mod pcspk;
pub mod piix3;
pub mod piix4_pm;
pub mod port92;
pub mod ps2;
pub mod registry;
pub mod serial;
pub mod slirp;
pub mod timer;
pub mod virtio;
pub mod virtio_net;
pub mod vmmouse;
