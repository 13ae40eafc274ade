//! The subsections that QEMU 10.0 lists for the mirrored devices and that
//! the fixtures do not carry, set to non-default state: each is saved
//! where QEMU's encoding puts it (after the fields of its description, in
//! the description's subsection order: `05`, the name's length and bytes,
//! be32 version, the fields big-endian) and loads back. The expected
//! bytes are QEMU's fixture payloads with the subsection spliced in by
//! hand.

mod common;

use common::sections;
use vmstate_core::{Context, Reader, VmState};
use vmstate_qemu::machine::{ForMachine, Machine};
use vmstate_qemu::{cpu, i8259, lpc_ich9, virtio_net};

/// `05`, length, name, be32 version, then `fields`.
fn sub(name: &str, version: u32, fields: &[u8]) -> Vec<u8> {
    let mut v = vec![0x05, name.len() as u8];
    v.extend(name.as_bytes());
    v.extend(version.to_be_bytes());
    v.extend(fields);
    v
}

fn be16(v: u16) -> [u8; 2] {
    v.to_be_bytes()
}
fn be32(v: u32) -> [u8; 4] {
    v.to_be_bytes()
}
fn be64(v: u64) -> [u8; 8] {
    v.to_be_bytes()
}

/// The payload of `idstr` in a QEMU 10.0 fixture.
fn payload(file: &str, idstr: &str) -> Vec<u8> {
    let stream = common::fixture10(file);
    let all = sections(&stream);
    all.iter()
        .find(|s| s.idstr == idstr)
        .unwrap_or_else(|| panic!("{idstr} in {file}"))
        .payload
        .to_vec()
}

/// Loads `bytes` into the machine's destination at the description's
/// version; the load must consume them all.
fn load<T: VmState + Clone + ForMachine>(m: Machine, bytes: &[u8]) -> T {
    let mut dev = T::for_machine(m);
    let mut r = Reader::from_slice(bytes);
    dev.load(&mut r, T::VMSD.version_id, &Context::new())
        .unwrap_or_else(|e| panic!("{}: {e}", T::VMSD.name));
    assert_eq!(r.offset() as usize, bytes.len(), "{}", T::VMSD.name);
    dev
}

/// Saves `dev`, compares with `want`, and loads `want` back into an equal
/// value.
fn check<T: VmState + Clone + ForMachine + PartialEq + std::fmt::Debug>(
    m: Machine,
    dev: &mut T,
    want: &[u8],
) {
    check_into(T::for_machine(m), dev, want);
}

/// [`check`] into a configured destination `dst`.
fn check_into<T: VmState + Clone>(dst: T, dev: &mut T, want: &[u8]) {
    let got = dev.to_bytes(&Context::new()).unwrap();
    if got != want {
        let at = got.iter().zip(want).position(|(a, b)| a != b);
        panic!(
            "{}: saved bytes differ at {at:?} (lengths {} vs {})",
            T::VMSD.name,
            got.len(),
            want.len()
        );
    }
    let mut back = dst;
    let mut r = Reader::from_slice(want);
    back.load(&mut r, T::VMSD.version_id, &Context::new())
        .unwrap();
    assert_eq!(r.offset() as usize, want.len());
    // Saved again (hooks recompute wire fields from the working state).
    assert!(
        back.to_bytes(&Context::new()).unwrap() == want,
        "{}: re-save",
        T::VMSD.name
    );
}

#[test]
fn i8259_ltim() {
    let orig = payload("pc.mig", "i8259");
    let mut pic: i8259::PicCommon = load(Machine::I440fx, &orig);
    pic.ltim.ltim = 8; // ICW1's LTIM bit, as QEMU stores it
    let mut want = orig.clone();
    want.extend(sub("i8259/ltim", 1, &[8]));
    check(Machine::I440fx, &mut pic, &want);
}

#[test]
fn cpu_xen_vcpu_msr_hwcr_fred() {
    let orig = payload("pc.mig", "cpu");
    let mut c: cpu::X86Cpu = load(Machine::I440fx, &orig);
    c.config.xen_emulate = true;
    c.config.fred = true;
    c.xen_vcpu = cpu::CpuXenVcpu {
        xen_vcpu_info_gpa: 0x1000,
        xen_vcpu_info_default_gpa: 0x2000,
        xen_vcpu_time_info_gpa: 0x3000,
        xen_vcpu_runstate_gpa: 0x4000,
        xen_vcpu_callback_vector: 0xf3,
        xen_virq: std::array::from_fn(|i| i as u16 * 3),
        xen_singleshot_timer_ns: 5_000_000,
        xen_periodic_timer_period: 10_000_000,
    };
    c.msr_hwcr.msr_hwcr = 0x0100_0010;
    c.fred = cpu::CpuFred {
        fred_rsp0: 1,
        fred_rsp1: 2,
        fred_rsp2: 3,
        fred_rsp3: 4,
        fred_stklvls: 5,
        fred_ssp1: 6,
        fred_ssp2: 7,
        fred_ssp3: 8,
        fred_config: 0x8000_0000_0000_0001,
    };
    let mut xen = Vec::new();
    for v in [0x1000u64, 0x2000, 0x3000, 0x4000] {
        xen.extend(be64(v));
    }
    xen.push(0xf3);
    for i in 0..24u16 {
        xen.extend(be16(i * 3));
    }
    xen.extend(be64(5_000_000));
    xen.extend(be64(10_000_000));
    let mut fred = Vec::new();
    for v in [1u64, 2, 3, 4, 5, 6, 7, 8, 0x8000_0000_0000_0001] {
        fred.extend(be64(v));
    }
    // The fixture's last subsection is cpu/poll_control_msr, which comes
    // before these three in QEMU's list.
    let mut want = orig.clone();
    want.extend(sub("cpu/xen_vcpu", 1, &xen));
    want.extend(sub("cpu/msr_hwcr", 1, &be64(0x0100_0010)));
    want.extend(sub("cpu/fred", 1, &fred));
    assert_eq!(want.len(), orig.len() + (18 + 97) + (18 + 8) + (14 + 72));
    // The destination runs Xen emulation and has FRED, as the source.
    let dst = cpu::X86Cpu {
        config: c.config.clone(),
        ..Default::default()
    };
    check_into(dst, &mut c, &want);
}

#[test]
fn ich9_lpc_rst_cnt_smi_feat_cpuhp() {
    let orig = payload("q35.mig", "0000:00:1f.0/ICH9LPC");
    let mut lpc: lpc_ich9::Ich9Lpc = load(Machine::Q35, &orig);
    lpc.rst_cnt.rst_cnt = 0x02;
    lpc.smi_feat.smi_guest_features_le = [1, 0, 0, 0, 0, 0, 0, 0];
    lpc.smi_feat.smi_features_ok = 1;
    lpc.smi_feat.smi_negotiated_features = 1;
    lpc.pm.cpuhp.cpu_hotplug_legacy = false;
    lpc.pm.cpuhp.cpuhp_state.selector = 0;
    lpc.pm.cpuhp.cpuhp_state.command = 1;
    lpc.pm.cpuhp.cpuhp_state.devs[0].ost_event = 0x100;
    lpc.pm.cpuhp.cpuhp_state.devs[0].ost_status = 0x80;
    // ich9_pm's subsections: memhp, tco (in the fixture), cpuhp (new),
    // pcihp (in the fixture): cpuhp goes right before pcihp's marker.
    let marker = sub("ich9_pm/pcihp", 1, &[]);
    let at = orig
        .windows(marker.len())
        .position(|w| w == marker.as_slice())
        .unwrap();
    let mut cpuhp = Vec::new();
    cpuhp.extend(be32(0)); // selector
    cpuhp.push(1); // command
    cpuhp.extend([0, 0]); // is_inserting, is_removing
    cpuhp.extend(be32(0x100));
    cpuhp.extend(be32(0x80));
    let mut want = orig[..at].to_vec();
    want.extend(sub("ich9_pm/cpuhp", 1, &cpuhp));
    want.extend(&orig[at..]);
    want.extend(sub("ICH9LPC/rst_cnt", 1, &[0x02]));
    let mut feat = vec![1, 0, 0, 0, 0, 0, 0, 0, 1];
    feat.extend(be64(1));
    want.extend(sub("ICH9LPC/smi_feat", 1, &feat));
    check(Machine::Q35, &mut lpc, &want);
}

#[test]
fn virtio_net_device_and_core_subsections() {
    let orig = payload("pc-devices.mig", "0000:00:03.0/virtio-net");
    let mut dev: virtio_net::VirtioNetPci = load(Machine::I440fx, &orig);
    let v = &mut dev.virtio;
    v.device.rss = virtio_net::VirtioNetRss {
        enabled: true,
        redirect: true,
        populate_hash: false,
        hash_types: 0x3f,
        indirections_len: 2,
        default_queue: 0,
        key: std::array::from_fn(|i| i as u8),
        indirections_table: vec![0, 1],
    };
    v.core.broken.broken = true;
    v.core.started.started = true;
    v.core.disabled.disabled = true;
    // The device's description ends where the core's first subsection,
    // virtio/64bit_features, starts.
    let core = sub("virtio/64bit_features", 1, &[]);
    let at = orig
        .windows(core.len())
        .position(|w| w == core.as_slice())
        .unwrap();
    let mut rss = vec![1, 1, 0];
    rss.extend(be32(0x3f));
    rss.extend(be16(2));
    rss.extend(be16(0));
    rss.extend(0..40u8);
    rss.extend(be16(0));
    rss.extend(be16(1));
    let mut want = orig[..at].to_vec();
    want.extend(sub("virtio-net-device/rss", 1, &rss));
    // The core: 64bit_features, virtqueues (fixture), broken (new, before
    // extra_state), extra_state (fixture), started, disabled (new).
    let extra = sub("virtio/extra_state", 1, &[]);
    let ex = orig
        .windows(extra.len())
        .position(|w| w == extra.as_slice())
        .unwrap();
    want.extend(&orig[at..ex]);
    want.extend(sub("virtio/broken", 1, &[1]));
    want.extend(&orig[ex..]);
    want.extend(sub("virtio/started", 1, &[1]));
    want.extend(sub("virtio/disabled", 1, &[1]));
    check(Machine::I440fx, &mut dev, &want);
}

/// A stream that carries a subsection the mirror does not know is refused,
/// naming it, as QEMU refuses it.
#[test]
fn unknown_subsection_is_refused() {
    let mut bytes = payload("pc.mig", "i8259");
    bytes.extend(sub("i8259/other", 1, &[0]));
    let mut pic = i8259::PicCommon::default();
    let err = pic
        .load(&mut Reader::from_slice(&bytes), 1, &Context::new())
        .unwrap_err();
    assert!(err.to_string().contains("i8259/other"), "{err}");
}

/// The rest of the core's subsections and the vhost-user back end's:
/// `virtio/device_endian` first, `virtio/ringsize` after the queues,
/// `virtio/packed_virtqueues` after `virtio/started`; the back end's
/// state inside the device's description, as QEMU's chunks (be32 length,
/// bytes, a zero length).
#[test]
fn virtio_endian_ringsize_packed_and_backend_subsections() {
    let orig = payload("pc-devices.mig", "0000:00:03.0/virtio-net");
    let mut dev: virtio_net::VirtioNetPci = load(Machine::I440fx, &orig);
    let v = &mut dev.virtio;
    v.core.device_endian.device_endian = 2; // big
    v.core.ringsize.vq[0].num_default = 1024; // not the queue's 256
    v.core.host_features |= 1 << 34; // VIRTIO_F_RING_PACKED
    v.core.packed_virtqueues.vq[1] = vmstate_qemu::virtio::PackedVirtqueueState {
        last_avail_idx: 5,
        last_avail_wrap_counter: true,
        used_idx: 4,
        used_wrap_counter: false,
        inuse: 1,
    };
    v.device.vhost_user_state = true;
    v.device.backend.backend = vec![vec![0xaa, 0xbb, 0xcc]];

    let find = |name: &str| {
        let m = sub(name, 1, &[]);
        orig.windows(m.len())
            .position(|w| w == m.as_slice())
            .unwrap()
    };
    let core = find("virtio/64bit_features");
    let extra = find("virtio/extra_state");
    let mut backend = be32(3).to_vec();
    backend.extend([0xaa, 0xbb, 0xcc]);
    backend.extend(be32(0));
    let mut ring = Vec::new();
    for i in 0..1024 {
        let n: u32 = match i {
            0 => 1024,
            1 | 2 => [256u32, 256, 64][i],
            _ => 0,
        };
        ring.extend(be32(n));
    }
    let mut packed = Vec::new();
    for i in 0..1024 {
        if i == 1 {
            packed.extend(be16(5));
            packed.push(1);
            packed.extend(be16(4));
            packed.push(0);
            packed.extend(be32(1));
        } else {
            packed.extend([0; 2 + 1 + 2 + 1 + 4]);
        }
    }
    let mut want = orig[..core].to_vec();
    want.extend(sub("virtio-net-device/backend", 0, &backend));
    want.extend(sub("virtio/device_endian", 1, &[2]));
    want.extend(&orig[core..extra]);
    want.extend(sub("virtio/ringsize", 1, &ring));
    want.extend(&orig[extra..]);
    want.extend(sub("virtio/packed_virtqueues", 1, &packed));
    // The destination has the same back end and features.
    let mut dst = virtio_net::VirtioNetPci::default();
    dst.virtio.device.vhost_user_state = true;
    dst.virtio.core.host_features = dev.virtio.core.host_features;
    check_into(dst, &mut dev, &want);
}
