//! The main demo: QEMU's i8259 interrupt controller state, loaded from a
//! real migration stream saved by QEMU 7.2 (`tests/fixtures/qemu-7.2/pc.mig`),
//! saved again byte for byte, changed, and shown failing cleanly on a
//! truncated payload.
//!
//! Run: `cargo run --example i8259`

use vmstate_core::{Context, Reader, VmState};

#[path = "../tests/support/mod.rs"]
mod support;

/// Mirror of QEMU 7.2's `vmstate_pic_common` (hw/intc/i8259_common.c):
/// description "i8259", version 1, sixteen uint8 fields in this order.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "i8259", version = 1, minimum_version = 1)]
struct PicState {
    last_irr: u8,
    irr: u8,
    imr: u8,
    isr: u8,
    priority_add: u8,
    irq_base: u8,
    read_reg_select: u8,
    poll: u8,
    special_mask: u8,
    init_state: u8,
    auto_eoi: u8,
    rotate_on_auto_eoi: u8,
    special_fully_nested_mode: u8,
    init4: u8,
    single_mode: u8,
    elcr: u8,
}

static PC_MIG: &[u8] = include_bytes!("../tests/fixtures/qemu-7.2/pc.mig");

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let ctx = Context::new();
    println!(
        "Description \"{}\" v{} (min v{}), {} fields:",
        PicState::VMSD.name,
        PicState::VMSD.version_id,
        PicState::VMSD.minimum_version_id,
        PicState::VMSD.fields.len()
    );
    let names: Vec<_> = PicState::VMSD
        .fields
        .iter()
        .map(|f| format!("{}:{}", f.name, f.info))
        .collect();
    println!("  {}\n", names.join(" "));

    for instance in [0, 1] {
        let section = support::find_full_section(PC_MIG, "i8259", instance)?;
        let mut pic = PicState::default();
        let mut r = Reader::from_slice(section.rest);
        pic.load(&mut r, section.version, &ctx)?;
        let used = section.rest.len() - r.remaining().len();
        support::check_footer(&section, used)?;

        let saved = pic.to_bytes(&ctx)?;
        let same = saved == section.rest[..used];
        println!(
            "i8259 instance {instance}: section {} at byte {}, {used} payload bytes, elcr={:#04x}; re-saved byte-identical: {same}",
            section.section_id, section.payload_offset, pic.elcr
        );
        if !same {
            return Err("re-saved payload differs from QEMU's".into());
        }

        // Mask IRQs 3, 4, 5 and 7, as `vmstate edit ... i8259:0/imr=0xb8`
        // would, and show where the byte lands.
        pic.imr = 0xb8;
        let edited = pic.to_bytes(&ctx)?;
        println!("  with imr=0xb8: {}", hex(&edited));
    }

    // A hostile or truncated stream fails with the field, offset and cause,
    // and leaves the device as it was.
    let section = support::find_full_section(PC_MIG, "i8259", 0)?;
    let mut pic = PicState {
        imr: 0xff,
        ..PicState::default()
    };
    let err = pic
        .load(&mut Reader::from_slice(&section.rest[..5]), 1, &ctx)
        .expect_err("a 5-byte payload cannot hold 16 fields");
    println!("\nTruncated payload: {err}");
    println!("  imr is still {:#04x}", pic.imr);
    Ok(())
}

fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}
