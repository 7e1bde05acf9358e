//! `include_spec!`: a spec file expanded at the call site.

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
    let tokens = pme_codegen::expand(&source, &path.value()).map_err(|diagnostics| {
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
    })?;
    // Makes rustc rebuild the caller when the spec changes.
    let full = full.display().to_string();
    Ok(quote! {
        const _: &[u8] = ::core::include_bytes!(#full);
        #tokens
    })
}
