//! `#[derive(MetricGroup)]` for `#[group(content = "prometheus")]`: one
//! `pme::Imported` field whose `#[import(...)]` attributes say which
//! families of the source to serve.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{DeriveInput, FieldsNamed, LitStr};

use pme_content::exposition::Selector;

use crate::attr::{self, GroupAttr, ImportAttr};

pub(crate) fn derive(
    input: &DeriveInput,
    fields: &FieldsNamed,
    group: &GroupAttr,
) -> syn::Result<TokenStream> {
    let (field, imports) = import_field(input, fields)?;
    let statics = imports
        .iter()
        .map(import_static)
        .collect::<syn::Result<Vec<_>>>()?;
    let count = statics.len();
    let ident = &field.ident;
    let ty = &field.ty;
    let name = &input.ident;
    let declared = &group.declared;
    Ok(quote! {
        const _: () = {
            static IMPORTS: [::pme::__private::parsers::exposition::Import; #count] = [#(#statics),*];
            /// Names the spec declares itself; imports may not take them.
            static DECLARED: &[&str] = &[#(#declared),*];

            // The field must be the import holder.
            fn _imported(field: &#ty) -> &::pme::Imported {
                field
            }

            impl ::pme::__private::metric::MetricGroup for #name {
                fn extract(&mut self, input: &[u8]) -> ::core::result::Result<(), ::pme::__private::metric::ExtractErrors> {
                    self.#ident.extract(input, &IMPORTS, DECLARED)
                }

                fn fail(&mut self) {
                    self.#ident.fail(&IMPORTS);
                }

                fn encode(&self, out: &mut ::std::vec::Vec<u8>, format: ::pme::__private::encode::Format) {
                    self.#ident.encode(out, format);
                }
            }
        };
    })
}

/// The one field carrying `#[import]`, and its imports.
fn import_field<'a>(
    input: &DeriveInput,
    fields: &'a FieldsNamed,
) -> syn::Result<(&'a syn::Field, Vec<ImportAttr>)> {
    let mut target = None;
    for field in &fields.named {
        if let Some(metric) = field.attrs.iter().find(|a| a.path().is_ident("metric")) {
            return Err(syn::Error::new_spanned(
                metric,
                "a `content = \"prometheus\"` group re-imports families: describe them with `#[import(...)]` on one `pme::Imported` field",
            ));
        }
        let imports = attr::imports(&field.attrs)?;
        if imports.is_empty() {
            continue;
        }
        if target.is_some() {
            return Err(syn::Error::new_spanned(
                field,
                "only one field may carry `#[import]`: families from one reading are served together",
            ));
        }
        target = Some((field, imports));
    }
    target.ok_or_else(|| {
        syn::Error::new(
            input.ident.span(),
            "a `content = \"prometheus\"` group needs a `pme::Imported` field with `#[import(select = \"...\")]`",
        )
    })
}

/// One import as an `Import` static; its selector checked now.
fn import_static(import: &ImportAttr) -> syn::Result<TokenStream> {
    let selector = Selector::parse(&import.select.value())
        .map_err(|e| syn::Error::new(import.select.span(), format!("invalid selector: {e}")))?;
    if let Some(name) = &import.name
        && selector.exact_name().is_none()
    {
        return Err(syn::Error::new(
            name.span(),
            "`name` renames one family, but the selector can match several",
        ));
    }
    let select = &import.select;
    let rename = match &import.name {
        Some(n) => quote!(::core::option::Option::Some(#n)),
        None => quote!(::core::option::Option::None),
    };
    let prefix = import
        .prefix
        .clone()
        .unwrap_or_else(|| LitStr::new("", select.span()));
    let labels = import.labels.iter().map(|(n, v)| quote!((#n, #v)));
    let value_on_error = match import.value_on_error {
        Some(v) => {
            let v = crate::tokens::float(v);
            quote!(::core::option::Option::Some(#v))
        }
        None => quote!(::core::option::Option::None),
    };
    Ok(quote! {
        ::pme::__private::parsers::exposition::Import {
            select: #select,
            compiled: ::std::sync::OnceLock::new(),
            rename: #rename,
            prefix: #prefix,
            labels: &[#(#labels),*],
            value_on_error: #value_on_error,
        }
    })
}
