//! How `#[derive(pme::MetricGroup)]`, `#[derive(pme::Instruments)]` and
//! `#[derive(pme::LabelValue)]` react to misuse (`ui/fail`, with the
//! exact compiler output in `.stderr`) and to correct hand-written use
//! (`ui/pass`), and how a spec's collector options that do not fit the
//! collector's options type fail the build (`ui/fail/collector-*`).
//! Re-bless with `TRYBUILD=overwrite cargo test --test ui` after a
//! toolchain change, and read the diff.

use std::path::{Path, PathBuf};

#[test]
fn derive_ui() {
    copy_specs_for_include_spec();
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}

/// `include_spec!` reads its file below `CARGO_MANIFEST_DIR`, which in a
/// trybuild case is trybuild's project (`<target>/tests/trybuild/pme`),
/// so the cases' specs are copied there, to the same relative paths.
fn copy_specs_for_include_spec() {
    let project = target_directory().join("tests/trybuild/pme/tests/ui/fail");
    std::fs::create_dir_all(&project).unwrap();
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui/fail");
    for entry in std::fs::read_dir(cases).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            std::fs::copy(&path, project.join(path.file_name().unwrap())).unwrap();
        }
    }
}

/// Cargo's target directory, found the way trybuild finds it.
fn target_directory() -> PathBuf {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version=1", "--no-deps"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(out.status.success(), "cargo metadata failed");
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    PathBuf::from(metadata["target_directory"].as_str().unwrap())
}
