//! `include_spec!`: a spec file expanded at the call site, checked against
//! the lock beside it (`metrics.lock` for `metrics.yaml`) when there is one,
//! as `build.rs` checks the exporter's; `PME_LOCK=update` rewrites the lock,
//! and `PME_DENY_WARNINGS=1` makes the spec's warnings errors.

use proc_macro2::TokenStream;
use quote::quote;
use syn::LitStr;

pub(crate) fn include(path: &LitStr) -> syn::Result<TokenStream> {
    let dir = std::env::var("CARGO_MANIFEST_DIR").map_err(|_| {
        syn::Error::new(
            path.span(),
            "CARGO_MANIFEST_DIR is not set; use include_spec! under cargo",
        )
    })?;
    let full = std::path::Path::new(&dir).join(path.value());
    let source = std::fs::read_to_string(&full).map_err(|e| {
        syn::Error::new(path.span(), format!("cannot read {}: {e}", full.display()))
    })?;
    let shown = path.value();
    let located = |diagnostics: &[pme_codegen::Diagnostic]| {
        let mut errors = diagnostics
            .iter()
            .map(|d| syn::Error::new(path.span(), d.to_string()));
        let mut first = errors
            .next()
            .unwrap_or_else(|| syn::Error::new(path.span(), "invalid spec"));
        for e in errors {
            first.combine(e);
        }
        first
    };
    let model = pme_codegen::check(&source, &shown).map_err(|d| located(&d))?;
    let lock = full.with_extension("lock");
    let shown_lock = std::path::Path::new(&shown)
        .with_extension("lock")
        .display()
        .to_string();
    let update = std::env::var("PME_LOCK").is_ok_and(|v| v == "update");
    let gate = pme_codegen::lock::gate(&model, &source, &lock, &shown_lock, update);
    if !gate.errors.is_empty() {
        return Err(located(&gate.errors));
    }
    // A proc macro cannot warn on stable Rust; CI asks for warnings as
    // errors the way build.rs takes it.
    let deny = std::env::var("PME_DENY_WARNINGS").is_ok_and(|v| v == "1" || v == "true");
    let warnings: Vec<pme_codegen::Diagnostic> = model
        .warnings
        .iter()
        .chain(&gate.warnings)
        .cloned()
        .collect();
    if deny && !warnings.is_empty() {
        return Err(located(&warnings));
    }
    let tokens = pme_codegen::expand_model(&model);
    // Makes rustc rebuild the caller when the spec or its lock changes.
    let full = full.display().to_string();
    let lock = lock.exists().then(|| lock.display().to_string()).map(|l| {
        quote!(
            const _: &[u8] = ::core::include_bytes!(#l);
        )
    });
    Ok(quote! {
        const _: &[u8] = ::core::include_bytes!(#full);
        #lock
        #tokens
    })
}
