//! `#[derive(MetricGroup)]` for `#[group(content = "prometheus")]`: one
//! `pme::Imported` field whose `#[import(...)]` attributes say which
//! families of the source to serve.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{DeriveInput, FieldsNamed, LitStr};

use pme_content::exposition::Selector;

use crate::attr::{self, GroupAttr, ImportAttr, RelabelAttr};

pub(crate) fn derive(
    input: &DeriveInput,
    fields: &FieldsNamed,
    group: &GroupAttr,
) -> syn::Result<TokenStream> {
    let (field, imports) = import_field(input, fields)?;
    // Rules hold a lazily compiled regex, so each import's are a static of
    // their own (a static may not borrow a temporary with a `OnceLock`).
    let rule_names: Vec<syn::Ident> = (0..imports.len())
        .map(|i| quote::format_ident!("RELABEL_{i}"))
        .collect();
    let rule_statics = imports
        .iter()
        .zip(&rule_names)
        .map(|(import, name)| {
            let rules = import
                .relabel
                .iter()
                .map(relabel_rule)
                .collect::<syn::Result<Vec<_>>>()?;
            let n = rules.len();
            Ok(quote! {
                static #name: [::pme::__private::parsers::exposition::relabel::Rule; #n] = [#(#rules),*];
            })
        })
        .collect::<syn::Result<Vec<_>>>()?;
    let statics = imports
        .iter()
        .zip(&rule_names)
        .map(|(import, rules)| import_static(import, rules))
        .collect::<syn::Result<Vec<_>>>()?;
    let count = statics.len();
    let ident = &field.ident;
    let ty = &field.ty;
    let name = &input.ident;
    let declared = &group.declared;
    Ok(quote! {
        const _: () = {
            #(#rule_statics)*
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

                fn series_dropped(&self) -> u64 {
                    self.#ident.dropped()
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

/// One import as an `Import` static, its rules in the static `rules`; its
/// selector checked now.
fn import_static(import: &ImportAttr, rules: &syn::Ident) -> syn::Result<TokenStream> {
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
    let honor_labels = import.honor_labels;
    let max_series = match &import.max_series {
        None => quote!(::core::option::Option::None),
        Some(n) => quote!(::core::option::Option::Some(#n)),
    };
    Ok(quote! {
        ::pme::__private::parsers::exposition::Import {
            select: #select,
            compiled: ::std::sync::OnceLock::new(),
            rename: #rename,
            prefix: #prefix,
            labels: &[#(#labels),*],
            honor_labels: #honor_labels,
            relabel: &#rules,
            value_on_error: #value_on_error,
            max_series: #max_series,
        }
    })
}

/// One `relabel(...)` as a `Rule`, checked now, defaults filled in.
fn relabel_rule(rule: &RelabelAttr) -> syn::Result<TokenStream> {
    use pme_content::exposition::relabel::{self, Action};
    let value = |lit: &Option<LitStr>| lit.as_ref().map(LitStr::value);
    let action = match &rule.action {
        Some(a) => Action::parse(&a.value()).map_err(|e| syn::Error::new(a.span(), e))?,
        None => Action::Replace,
    };
    let sources: Vec<String> = rule.source_labels.iter().map(LitStr::value).collect();
    let source_refs: Vec<&str> = sources.iter().map(String::as_str).collect();
    let (regex, replacement, target) = (
        value(&rule.regex),
        value(&rule.replacement),
        value(&rule.target_label),
    );
    relabel::check(&relabel::Parts {
        action,
        source_labels: &source_refs,
        regex: regex.as_deref(),
        replacement: replacement.as_deref(),
        target_label: target.as_deref(),
        separator: rule.separator.is_some(),
    })
    .map_err(|e| syn::Error::new(rule.span, e))?;
    let action = match action {
        Action::Replace => quote!(Replace),
        Action::Keep => quote!(Keep),
        Action::Drop => quote!(Drop),
        Action::LabelDrop => quote!(LabelDrop),
        Action::LabelKeep => quote!(LabelKeep),
        Action::LabelMap => quote!(LabelMap),
    };
    let separator = value(&rule.separator).unwrap_or_else(|| relabel::DEFAULT_SEPARATOR.to_owned());
    let regex = regex.unwrap_or_else(|| relabel::DEFAULT_REGEX.to_owned());
    let replacement = replacement.unwrap_or_else(|| relabel::DEFAULT_REPLACEMENT.to_owned());
    let target = target.unwrap_or_default();
    Ok(quote! {
        ::pme::__private::parsers::exposition::relabel::Rule {
            action: ::pme::__private::parsers::exposition::relabel::Action::#action,
            source_labels: &[#(#sources),*],
            separator: #separator,
            regex: #regex,
            replacement: #replacement,
            target_label: #target,
            compiled: ::std::sync::OnceLock::new(),
        }
    })
}
