//! The least any reader pays to look at every 4 KiB page of a file once:
//! the file is mapped by `vmstate`'s own mapping (`vmstate_cli::map`:
//! windows of 4 MiB mapped with their pages just ahead, given back just
//! behind), and one byte of each page is read, nothing parsed. A RAM page record's header sits in
//! every page of a stream of non-zero guest RAM, so this is the floor under
//! `vmstate analyze` on such a stream (BENCHMARKS.md, "`vmstate analyze`
//! against QEMU's analyze-migration.py").
//!
//!     cargo run --release -p vmstate-bench --example page_floor -- FILE
//!
//! Prints the sum of the bytes read (so that the reads happen).

use vmstate_cli::map::Map;

const PAGE: usize = 4096;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: page_floor FILE");
        std::process::exit(2);
    };
    let file = std::fs::File::open(&path).expect("open");
    let len = file.metadata().expect("metadata").len();
    let Some(mut map) = Map::new(&file, len) else {
        println!("0");
        return;
    };
    let mut sum = 0u64;
    for page in (0..map.len()).step_by(PAGE) {
        map.reader_at(page as u64);
        sum += u64::from(map.bytes()[page]);
    }
    println!("{sum}");
}
