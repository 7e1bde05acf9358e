//! `metrics.yaml` → validated model → generated Rust, for pme's `build.rs`
//! and the `pme::include_spec!` macro.
//!
//! The pipeline, one module per stage:
//!
//! 1. [`yaml`](crate) — parse YAML into a tree whose nodes keep line and column;
//! 2. `spec` — read the tree into typed structs (unknown keys, wrong types);
//! 3. `validate` — every semantic rule, producing the [`ir::Model`];
//! 4. `expand` — the model as `quote!` tokens: structs deriving
//!    `pme::MetricGroup` and a `PLAN` table;
//! 5. `render` — `syn` + `prettyplease` into formatted source.
//!
//! Every stage collects all problems before giving up, so one build reports
//! every mistake in the spec as `file:line:column: message`.

mod budget;
pub mod builtin;
mod catalog;
mod collector;
mod command;
mod context;
mod diagnostic;
pub use pme_content::duration;
mod expand;
pub mod filter;
mod ident;
mod imports;
pub mod ir;
pub mod json;
pub mod lock;
pub mod names;
mod render;
mod samples;
mod spec;
mod validate;
pub mod xml;
mod yaml;

pub use diagnostic::{Diagnostic, Pos};
pub use ident::constant as constant_name;
pub use render::write_if_changed;
pub use validate::{DEFAULT_FREQUENCY, DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT};

use proc_macro2::TokenStream;

/// Parses and validates a spec; `file` is the name used in diagnostics.
///
/// # Errors
/// Every problem found, in file order.
pub fn check(source: &str, file: &str) -> Result<ir::Model, Vec<Diagnostic>> {
    let root = yaml::parse(source, file).map_err(|d| vec![d])?;
    let mut diagnostics = diagnostic::Diagnostics::new(file);
    let spec = spec::read(&root, &mut diagnostics);
    let mut model = validate::validate(&spec, file, &mut diagnostics);
    budget::check(
        &model,
        spec.exporter.max_series.as_ref(),
        source,
        &mut diagnostics,
    );
    model.spec_sha256 = sha256_hex(source.as_bytes());
    model.warnings = diagnostics.take_warnings();
    if diagnostics.is_empty() {
        Ok(model)
    } else {
        Err(diagnostics.into_sorted())
    }
}

/// The spec as tokens (what `pme::include_spec!` expands to).
///
/// # Errors
/// Every problem found in the spec.
pub fn expand(source: &str, file: &str) -> Result<TokenStream, Vec<Diagnostic>> {
    check(source, file).map(|model| expand_model(&model))
}

/// A checked model as tokens (what [`expand`] does after [`check`], for a
/// macro that also runs the [`lock`] gate).
pub fn expand_model(model: &ir::Model) -> TokenStream {
    expand::model(model)
}

/// The spec as formatted Rust source, ready to `include!`, with the naming
/// advice to show as warnings.
///
/// # Errors
/// Every problem found in the spec; a generator bug is reported as one
/// diagnostic at 1:1.
pub fn generate(source: &str, file: &str) -> Result<(String, Vec<Diagnostic>), Vec<Diagnostic>> {
    let model = check(source, file)?;
    let code = generate_model(&model)?;
    Ok((code, model.warnings))
}

/// A checked model as formatted Rust source (what [`generate`] does after
/// [`check`], for a build that also runs the [`lock`] gate).
///
/// # Errors
/// A generator bug, as one diagnostic at 1:1.
pub fn generate_model(model: &ir::Model) -> Result<String, Vec<Diagnostic>> {
    render::format(expand::model(model), &model.file).map_err(|message| {
        vec![Diagnostic {
            file: model.file.clone(),
            pos: Pos { line: 1, column: 1 },
            message,
            help: None,
        }]
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
