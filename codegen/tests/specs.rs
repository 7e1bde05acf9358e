//! Golden tests: every `specs/err/*.yaml` snapshots its exact diagnostics,
//! every `specs/warn/*.yaml` its warnings, every `specs/ok/*.yaml` (and the
//! default `metrics.yaml`) its generated code. Bless changes with `INSTA_UPDATE=always cargo test`.

use std::path::Path;

fn relative(path: &Path) -> String {
    let specs = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/specs");
    path.strip_prefix(&specs)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn bad_specs_report_located_diagnostics() {
    insta::glob!("specs/err/*.yaml", |path| {
        let source = std::fs::read_to_string(path).unwrap();
        let diagnostics =
            pme_codegen::check(&source, &relative(path)).expect_err("a bad spec must not validate");
        let text: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
        insta::assert_snapshot!(text.join("\n"));
    });
}

#[test]
fn good_specs_generate_code() {
    insta::glob!("specs/ok/*.yaml", |path| {
        let source = std::fs::read_to_string(path).unwrap();
        let (code, warnings) =
            pme_codegen::generate(&source, &relative(path)).unwrap_or_else(|d| panic!("{d:#?}"));
        assert!(
            warnings.is_empty(),
            "{}",
            warnings
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        );
        insta::assert_snapshot!(code);
    });
}

#[test]
fn default_spec_generates_code() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../metrics.yaml");
    let source = std::fs::read_to_string(path).unwrap();
    let (code, warnings) =
        pme_codegen::generate(&source, "metrics.yaml").unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(
        warnings.is_empty(),
        "the default spec follows the naming practice: {warnings:#?}"
    );
    insta::assert_snapshot!(code);
}

#[test]
fn every_bad_spec_has_one_rule() {
    // The corpus is the documentation of the rules: at least 30 of them.
    let count = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/specs/err"))
        .unwrap()
        .count();
    assert!(count >= 30, "only {count} bad specs");
}

#[test]
fn readme_example_is_a_valid_spec() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let start = readme
        .find("```yaml\n")
        .expect("a yaml block in the README")
        + "```yaml\n".len();
    let example = &readme[start..start + readme[start..].find("```").unwrap()];
    if let Err(diagnostics) = pme_codegen::check(example, "README.md") {
        panic!("README example: {diagnostics:#?}");
    }
}

#[test]
fn warned_specs_build_with_located_warnings() {
    insta::glob!("specs/warn/*.yaml", |path| {
        let source = std::fs::read_to_string(path).unwrap();
        let (_, warnings) = pme_codegen::generate(&source, &relative(path))
            .unwrap_or_else(|d| panic!("warnings do not stop the build: {d:#?}"));
        assert!(!warnings.is_empty(), "a warn/ spec must warn");
        let text: Vec<String> = warnings.iter().map(ToString::to_string).collect();
        insta::assert_snapshot!(text.join("\n"));
    });
}

/// The contract gate: `specs/lock/*.yaml` changed after the `.lock`
/// beside it was written; the gate names each change where it is, and
/// accepting the change (`update`) leaves a lock the spec passes.
#[test]
fn locked_specs_report_each_broken_contract() {
    insta::glob!("specs/lock/*.yaml", |path| {
        let source = std::fs::read_to_string(path).unwrap();
        let shown = relative(path);
        let model = pme_codegen::check(&source, &shown).unwrap_or_else(|d| panic!("{d:#?}"));
        let lock = path.with_extension("lock");
        let shown_lock = relative(&lock);
        let outcome = pme_codegen::lock::gate(&model, &source, &lock, &shown_lock, false);
        assert!(!outcome.errors.is_empty(), "{shown} keeps its contract");
        let text: Vec<String> = outcome
            .errors
            .iter()
            .map(|d| format!("error: {d}"))
            .chain(outcome.warnings.iter().map(|d| format!("warning: {d}")))
            .collect();
        insta::assert_snapshot!(text.join("\n"));

        let accepted = tempfile::tempdir().unwrap();
        let copy = accepted.path().join("spec.lock");
        std::fs::copy(&lock, &copy).unwrap();
        let updated = pme_codegen::lock::gate(&model, &source, &copy, "spec.lock", true);
        assert!(updated.updated && updated.errors.is_empty());
        let written = std::fs::read_to_string(&copy).unwrap();
        assert_eq!(written, pme_codegen::lock::render(&model));
        let after = pme_codegen::lock::gate(&model, &source, &copy, "spec.lock", false);
        assert!(
            after.errors.is_empty() && after.warnings.is_empty(),
            "{after:?}"
        );
    });
}
