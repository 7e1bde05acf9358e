//! Compiles the spec: `metrics.yaml` (or `$PME_SPEC`) → `$OUT_DIR/metrics.rs`.
//!
//! It belongs to the exporter package only, so an edited spec rebuilds
//! `src/main.rs` and the generated collectors, not the runtime library.
//!
//! A bad spec is reported as one `cargo::error=` line per problem, in the
//! form `path:line:column: message`, and the build stops. Warnings are
//! `cargo::warning=` lines; with `PME_DENY_WARNINGS=1` (for CI) they are
//! errors too.

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo::rerun-if-env-changed=PME_SPEC");
    println!("cargo::rerun-if-env-changed=PME_DENY_WARNINGS");
    let deny_warnings = std::env::var("PME_DENY_WARNINGS").is_ok_and(|v| v == "1" || v == "true");
    let manifest_dir = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    let spec =
        std::env::var_os("PME_SPEC").map_or_else(|| PathBuf::from("metrics.yaml"), PathBuf::from);
    let path = manifest_dir.join(&spec);
    println!("cargo::rerun-if-changed={}", path.display());
    // Diagnostics name the spec as the user did.
    let shown = spec.display().to_string();

    let source = match std::fs::read_to_string(&path) {
        Ok(source) => source,
        Err(e) => {
            println!("cargo::error={shown}: cannot read the spec: {e}");
            return;
        }
    };
    match pme_codegen::generate(&source, &shown) {
        Ok((code, warnings)) => {
            let level = if deny_warnings { "error" } else { "warning" };
            for w in &warnings {
                println!("cargo::{level}={w}");
            }
            if deny_warnings && !warnings.is_empty() {
                return;
            }
            let out = Path::new(&std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
                .join("metrics.rs");
            if let Err(e) = pme_codegen::write_if_changed(&out, &code) {
                println!("cargo::error=cannot write {}: {e}", out.display());
            }
        }
        Err(diagnostics) => {
            for d in diagnostics {
                println!("cargo::error={d}");
            }
        }
    }
}
