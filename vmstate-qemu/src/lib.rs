//! Rust mirrors of QEMU device state: every device section of QEMU 7.2's
//! and 10.0's `pc-i440fx` and `pc-q35` streams, written with
//! `#[derive(VmState)]`. One mirror per device type serves both QEMUs, as
//! QEMU's own compatibility works: version gates, and the subsections a
//! newer QEMU added (every subsection QEMU 10.0's `-dump-vmstate` lists).
//!
//! Each module mirrors one QEMU description: the same names (the fields'
//! description names are QEMU's, through `rename` where they are not Rust
//! identifiers), the same order, versions, field tests, subsections and
//! `needed` rules, and the hooks that matter for the bytes or that reject
//! a stream. The modules double as worked examples of the attribute
//! language ([`vmstate_core::attributes`]); each says which constructs it
//! shows. The [`registry`] maps a section's idstr to its mirror.
//!
//! The ground truth for every mirror is QEMU itself (7.2.22 and 10.0.2):
//! the vmdesc JSON that QEMU writes at the end of each stream, its
//! `-dump-vmstate` output, and its sources (named in each module). The
//! tests load every section of the real streams (QEMU 7.2's `pc.mig`,
//! `pc-devices.mig`, `pc-nofooter.mig`; QEMU 10.0's `pc.mig`, `q35.mig`,
//! `pc-devices.mig`, `pc-72on10.mig` and the CPR streams), save it again
//! and compare byte for byte, and check each description against both
//! QEMUs' dumps.
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
//! | `slirp` (×2) | [`slirp`] | libslirp's bytes (not a QEMU description): an `equal` byte as the honest limit of what is mirrored |
//! | `virtio-net` | [`virtio_net`] (+ [`virtio`]) | QEMU's hand-written `virtio_save` as a [`Codec`](vmstate_core::codec::Codec) over derived parts, `tmp`, guarded `vbuffer`, `unused` run, 1024-element known varrays |
//! | `mch` (q35) | [`mch`] | the q35 host bridge |
//! | `ICH9LPC` (q35) | [`lpc_ich9`] | a nested description with four subsections, one without `needed` |
//! | `ich9_ahci` (q35) | [`ahci`] | a varray counted by a later `equal` field, PCI capabilities |
//! | `ich9_smb` (q35) | [`ich9_smb`] | fields present by a machine property |
//!
//! `isa-debugcon`, on the command line of `pc-devices.mig`, has **no**
//! migration state in QEMU 7.2 (`hw/char/debugcon.c` registers no
//! description), so the stream has no section for it and there is nothing
//! to mirror.
//!
//! `slirp` is not a description in QEMU (`register_savevm_live` with
//! libslirp's own callbacks; QEMU's vmdesc shows a `data` blob), but its
//! bytes are libslirp's copy of the VMState encoding, which the mirror
//! reads; `virtio-net`'s one field is QEMU's hand-written virtio save,
//! which the mirror follows part by part.
//!
//! # Section-level `needed`
//!
//! QEMU skips a whole section when its top-level description's `needed`
//! returns false (`PCIHost`, `pcspk`, `globalstate`). These mirrors declare
//! it with the struct-level `needed = path`; a stream writer asks
//! [`VmState::section_needed`](vmstate_core::VmState::section_needed).
//!
//! With these, every device section of QEMU 7.2's three streams and QEMU
//! 10.0's seven loads into its mirror and saves back byte for byte, and
//! for 7.2 a recording save yields exactly the vmdesc entry QEMU wrote into
//! the stream's trailer (`tests/fixtures.rs`; QEMU 10.0's trailers differ
//! in shape, not in the payloads).
//!
//! # Configuration
//!
//! A mirror's `Default` is a destination as QEMU builds it for the
//! `pc-i440fx` machine of the fixtures; [`machine::ForMachine`] builds it
//! for the machine a stream's configuration names (`pc-q35-*`: a PCI bus
//! of eight interrupt lines). In the destination: `equal` checks, unmigrated
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
