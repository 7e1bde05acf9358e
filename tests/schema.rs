//! `pme schema`: the JSON Schema of metrics.yaml, committed as
//! `docs/metrics.schema.json`, checked by a real validator
//! (`check-jsonschema`, from PyPI) against every spec in the repository
//! that builds, and against specs whose shape the build refuses.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{assert_generated, in_ci, skipped};

const SCHEMA: &str = "docs/metrics.schema.json";

/// Specs the build refuses for their shape (an unknown key, a wrong kind
/// of value, a missing key): the schema refuses each too.
const MISSHAPEN: &[&str] = &[
    "bad-duration",
    "http-unknown-method",
    "instrument-label-values-not-a-list",
    "instrument-unknown-type",
    "instrument-without-description",
    "invalid-size",
    "missing-services",
    "missing-source-type",
    "group-without-metrics",
    "unknown-content-type",
    "unknown-group-key",
    "unknown-match-mode",
    "unknown-metric-key",
    "unknown-metric-type",
    "unknown-source-type",
    "unknown-top-key",
    "wrong-type-bool",
    "wrong-type-map",
];

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn yaml_in(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

fn check_jsonschema() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("check-jsonschema"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        skipped("`check-jsonschema`", "pip install check-jsonschema");
    }
    found
}

/// Runs the validator on `specs`; its exit status and output.
fn validate(tool: &Path, specs: &[PathBuf]) -> (bool, String) {
    let out = Command::new(tool)
        .arg("--schemafile")
        .arg(repo(SCHEMA))
        .args(specs)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The committed schema is what the binary prints, is itself a valid
/// draft 2020-12 schema, accepts every spec the build accepts, and
/// refuses the misshapen ones the build refuses.
#[test]
fn the_schema_is_current_and_agrees_with_the_build() {
    assert_generated(SCHEMA, &["schema"]);
    let Some(tool) = check_jsonschema() else {
        return;
    };
    let meta = Command::new(&tool)
        .arg("--check-metaschema")
        .arg(repo(SCHEMA))
        .output()
        .unwrap();
    assert!(meta.status.success(), "{meta:?}");

    let mut good = vec![
        repo("metrics.yaml"),
        repo("examples/embedded.yaml"),
        repo("runtime/examples/app.yaml"),
    ];
    for dir in [
        "tests/specs",
        "codegen/tests/specs/ok",
        "runtime/templates",
        "benches/specs",
        "fuzz/specs",
    ] {
        good.extend(yaml_in(dir));
    }
    for spec in &good {
        let text = std::fs::read_to_string(spec).unwrap();
        if let Err(e) = pme_codegen::check(&text, &spec.display().to_string()) {
            panic!("{} should build: {e:?}", spec.display());
        }
    }
    let (ok, output) = validate(&tool, &good);
    assert!(ok, "the schema refuses specs that build:\n{output}");

    let mut bad = Vec::new();
    for name in MISSHAPEN {
        let spec = repo(&format!("codegen/tests/specs/err/{name}.yaml"));
        let text = std::fs::read_to_string(&spec).unwrap();
        assert!(pme_codegen::check(&text, name).is_err(), "{name} builds");
        bad.push(spec);
    }
    // One run for all: the validator names every file it refuses.
    let (ok, output) = validate(&tool, &bad);
    assert!(!ok, "{output}");
    for name in MISSHAPEN {
        assert!(
            output.contains(&format!("{name}.yaml")),
            "the schema accepts {name}, which the build refuses:\n{output}"
        );
    }
    if !in_ci() {
        eprintln!(
            "check-jsonschema: {} specs valid, {} misshapen refused",
            good.len(),
            MISSHAPEN.len()
        );
    }
}
