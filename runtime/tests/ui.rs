//! How `#[derive(pme::MetricGroup)]`, `#[derive(pme::Instruments)]` and
//! `#[derive(pme::LabelValue)]` react to misuse (`ui/fail`, with the
//! exact compiler output in `.stderr`) and to correct hand-written use
//! (`ui/pass`). Re-bless with `TRYBUILD=overwrite cargo test --test ui`
//! after a toolchain change, and read the diff.

#[test]
fn derive_ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
