//! Compiles the spec: `metrics.yaml` (or `$PME_SPEC`) → `$OUT_DIR/metrics.rs`.
//!
//! It belongs to the exporter package only, so an edited spec rebuilds
//! `src/main.rs` and the generated collectors, not the runtime library.
//!
//! A bad spec is reported as one `cargo::error=` line per problem, in the
//! form `path:line:column: message`, and the build stops. Warnings are
//! `cargo::warning=` lines; with `PME_DENY_WARNINGS=1` (for CI) they are
//! errors too.
//!
//! When the spec has a lock beside it (`metrics.lock` for `metrics.yaml`),
//! the build also fails where the spec stops serving a locked family as
//! locked (the contract gate, `pme_codegen::lock`); `PME_LOCK=update`
//! rewrites the lock instead.

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo::rerun-if-env-changed=PME_SPEC");
    println!("cargo::rerun-if-env-changed=PME_DENY_WARNINGS");
    println!("cargo::rerun-if-env-changed=PME_LOCK");
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
    let model = match pme_codegen::check(&source, &shown) {
        Ok(model) => model,
        Err(diagnostics) => return report_errors(&diagnostics),
    };
    let lock = path.with_extension("lock");
    let shown_lock = spec.with_extension("lock").display().to_string();
    let update = std::env::var("PME_LOCK").is_ok_and(|v| v == "update");
    let gate = pme_codegen::lock::gate(&model, &source, &lock, &shown_lock, update);
    if lock.exists() {
        println!("cargo::rerun-if-changed={}", lock.display());
    }
    if gate.updated {
        println!("cargo::warning={shown_lock} updated from {shown}; commit it with the change");
    }
    let level = if deny_warnings { "error" } else { "warning" };
    let warnings = model.warnings.iter().chain(&gate.warnings);
    let mut warned = false;
    for w in warnings {
        println!("cargo::{level}={w}");
        warned = true;
    }
    if !gate.errors.is_empty() {
        return report_errors(&gate.errors);
    }
    if deny_warnings && warned {
        return;
    }
    match pme_codegen::generate_model(&model) {
        Ok(code) => {
            let out = Path::new(&std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
                .join("metrics.rs");
            if let Err(e) = pme_codegen::write_if_changed(&out, &code) {
                println!("cargo::error=cannot write {}: {e}", out.display());
            }
        }
        Err(diagnostics) => report_errors(&diagnostics),
    }
}

fn report_errors(diagnostics: &[pme_codegen::Diagnostic]) {
    for d in diagnostics {
        println!("cargo::error={d}");
    }
}
