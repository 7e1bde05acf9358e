//! Macros for pme collectors.
//!
//! - `#[derive(MetricGroup)]` turns a struct of metric fields into a
//!   `pme::metric::MetricGroup`: header and series-prefix bytes become
//!   constants, filters become statics compiled once.
//! - `include_spec!("path/to/spec.yaml")` expands a whole spec inline, the
//!   same code `build.rs` writes for the built-in one.
//!
//! Both check names and filters with the rules in `pme-codegen`, so a
//! hand-written collector obeys exactly what a generated one does.

use proc_macro::TokenStream;

mod attr;
mod expand;
mod imports;
mod instruments;
mod spec;
mod tokens;

/// Implements `pme::metric::MetricGroup` for a struct of metric fields.
///
/// ```text
/// #[derive(Default, Debug, pme::MetricGroup)]
/// #[group(content = "text")]
/// struct Memory {
///     #[metric(name = "mem_free_bytes", help = "Free memory.", filter = r"MemFree:\s+(\d+)")]
///     free: pme::Gauge,
/// }
/// ```
#[proc_macro_derive(MetricGroup, attributes(group, metric, import))]
pub fn derive_metric_group(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::derive(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Implements `pme::instrument::Instruments` and `Default` for a struct
/// of instrument fields, each marked `#[counter]`, `#[gauge]` or
/// `#[histogram]`; see `pme::instrument`.
#[proc_macro_derive(Instruments, attributes(instruments, counter, gauge, histogram))]
pub fn derive_instruments(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    instruments::derive_instruments(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Implements `pme::instrument::LabelValue` for an enum of unit variants,
/// each valued by its snake-case name or `#[label("...")]`.
#[proc_macro_derive(LabelValue, attributes(label))]
pub fn derive_label_value(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    instruments::derive_label_value(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Expands a spec file (path relative to `CARGO_MANIFEST_DIR`) into its
/// collectors and `PLAN`.
#[proc_macro]
pub fn include_spec(input: TokenStream) -> TokenStream {
    let path = syn::parse_macro_input!(input as syn::LitStr);
    spec::include(&path)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
