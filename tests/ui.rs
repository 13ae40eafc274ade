//! Compile-fail and compile-pass tests of `#[derive(VmState)]`'s diagnostics.
//!
//! Regenerate the expected output with
//! `TRYBUILD=overwrite cargo test --test ui`, then read every `.stderr`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui-pass/*.rs");
}
