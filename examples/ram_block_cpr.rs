//! A RAM-block-like struct saved for CPR (checkpoint-restart on the same
//! host), showing the two ways to carry a pointer's address:
//!
//! * `#[vmstate(void_ptr)]`: the seed patch's `VMSTATE_VOID_PTR`, the raw
//!   value as be64, refused outside the CPR modes;
//! * `#[vmstate(u64_from_ptr = host, pre_save)]`: the form QEMU's review
//!   asked for, a plain `u64` shadow filled before `pre_save`.
//!
//! Run: `cargo run --example ram_block_cpr`

use vmstate_core::{Context, MigMode, Reader, VmState};

/// The old process's view of one RAM block (after QEMU's proposed
/// `vmstate_ram_block`).
#[derive(VmState, Clone, Debug)]
#[vmstate(name = "ram_block", version = 1, minimum_version = 1, pre_save = Self::pre_save)]
struct RamBlock {
    align: u64,
    /// The seed patch's form: the pointer value itself.
    #[vmstate(void_ptr)]
    host: *mut u8,
    /// The reviewed form: an ordinary u64 that carries the same address.
    #[vmstate(u64_from_ptr = host, pre_save)]
    old_host: u64,
    used_length: u64,
    max_length: u64,
    /// The mapping itself is never migrated.
    #[vmstate(skip)]
    mapping: Vec<u8>,
}

impl RamBlock {
    fn pre_save(&mut self) -> Result<(), String> {
        // `old_host` was filled from `host` before this hook runs.
        println!("  pre_save sees old_host = {:#x}", self.old_host);
        Ok(())
    }
}

fn main() {
    let mut mapping = vec![0u8; 64 * 1024];
    let host = mapping.as_mut_ptr();
    let mut block = RamBlock {
        align: 4096,
        host,
        old_host: 0,
        used_length: mapping.len() as u64,
        max_length: mapping.len() as u64,
        mapping,
    };

    println!(
        "Description `{}` v{}:",
        RamBlock::VMSD.name,
        RamBlock::VMSD.version_id
    );
    for f in RamBlock::VMSD.fields {
        println!(
            "  {:<12} {:<8} {} bytes",
            f.name,
            f.info,
            f.wire_size().unwrap_or(0)
        );
    }

    println!("\nSaving in normal mode (cross-host migration):");
    match block.to_bytes(&Context::new()) {
        Ok(_) => println!("  unexpectedly accepted"),
        Err(e) => println!("  refused: {e}"),
    }

    let cpr = Context::new().with_mode(MigMode::CprExec);
    println!("\nSaving in {} mode:", cpr.mode);
    let bytes = match block.to_bytes(&cpr) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("save failed: {e}");
            std::process::exit(1);
        }
    };
    println!("  {} bytes: {}", bytes.len(), hex(&bytes));

    // The new process: same host, new address space. The old address
    // arrives as a number and as an inert pointer value.
    let mut restored = RamBlock {
        align: 0,
        host: std::ptr::null_mut(),
        old_host: 0,
        used_length: 0,
        max_length: 0,
        mapping: Vec::new(),
    };
    if let Err(e) = restored.load(&mut Reader::from_slice(&bytes), 1, &cpr) {
        eprintln!("load failed: {e}");
        std::process::exit(1);
    }
    println!(
        "\nRestored: host = {:p} (address only, never dereferenced), old_host = {:#x}, used_length = {}",
        restored.host, restored.old_host, restored.used_length
    );
    println!(
        "The old mapping ({} bytes) stays with the old process; the new one maps the block again.",
        block.mapping.len()
    );
    assert_eq!(restored.host.addr(), block.host.addr());
    assert_eq!(restored.old_host, block.host.addr() as u64);
}

fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}
