//! `#[derive(Instruments)]` and `#[derive(LabelValue)]`: application
//! metrics without a spec. The names, HELP and buckets are checked with
//! the spec's rules (`pme_codegen::names`) and reported at the attribute's
//! span; headers and series pieces become byte constants.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Fields, LitInt, LitStr, Token};

use pme_codegen::names::{self, InstrumentType};

use crate::tokens::float;

/// `#[derive(LabelValue)]` on an enum of unit variants: each variant's
/// value is its name in snake case, or `#[label("text")]`.
pub(crate) fn derive_label_value(input: &DeriveInput) -> syn::Result<TokenStream> {
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new(
            input.ident.span(),
            "`LabelValue` can only be derived for enums of unit variants",
        ));
    };
    if data.variants.is_empty() {
        return Err(syn::Error::new(
            input.ident.span(),
            "`LabelValue` needs at least one variant: a label with no value has no series",
        ));
    }
    let mut values: Vec<(String, Span)> = Vec::new();
    let mut arms = Vec::new();
    let mut back = Vec::new();
    for (i, variant) in data.variants.iter().enumerate() {
        if !matches!(variant.fields, Fields::Unit) {
            return Err(syn::Error::new(
                variant.span(),
                "a label value is a unit variant; move data out of the enum",
            ));
        }
        let value = match label_attr(&variant.attrs)? {
            Some(lit) => (lit.value(), lit.span()),
            None => (snake_case(&variant.ident.to_string()), variant.ident.span()),
        };
        if value.0.is_empty() {
            return Err(syn::Error::new(
                value.1,
                "an empty label value is the same as no label in Prometheus; give it a name",
            ));
        }
        if let Some((_, first)) = values.iter().find(|(v, _)| *v == value.0) {
            let mut e =
                syn::Error::new(value.1, format!("label value `{}` is used twice", value.0));
            e.combine(syn::Error::new(*first, "first used here"));
            return Err(e);
        }
        let ident = &variant.ident;
        arms.push(quote!(Self::#ident => #i,));
        back.push(quote!(#i => ::core::option::Option::Some(Self::#ident),));
        values.push(value);
    }
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let literals = values.iter().map(|(v, _)| v);
    Ok(quote! {
        impl #impl_generics ::pme::instrument::LabelValue for #name #ty_generics #where_clause {
            const VALUES: &'static [&'static str] = &[#(#literals),*];

            fn index(self) -> usize {
                match self {
                    #(#arms)*
                }
            }

            fn from_index(index: usize) -> ::core::option::Option<Self> {
                match index {
                    #(#back)*
                    _ => ::core::option::Option::None,
                }
            }
        }
    })
}

fn label_attr(attrs: &[Attribute]) -> syn::Result<Option<LitStr>> {
    let mut found = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("label")) {
        if found.is_some() {
            return Err(syn::Error::new(attr.span(), "duplicate `label` attribute"));
        }
        found = Some(attr.parse_args::<LitStr>()?);
    }
    Ok(found)
}

/// `GpuHours` → `gpu_hours`, `HTTP2` → `http2`.
fn snake_case(ident: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = ident.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev_lower =
                i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if i > 0 && (prev_lower || (next_lower && chars[i - 1].is_uppercase())) {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `#[instruments(prefix = "..", max_series = N)]` on the struct.
#[derive(Default)]
struct SetAttr {
    prefix: Option<LitStr>,
    max_series: Option<LitInt>,
}

/// One field's `#[counter]`, `#[gauge]` or `#[histogram]`.
struct FieldAttr {
    kind: InstrumentType,
    span: Span,
    name: Option<LitStr>,
    help: Option<LitStr>,
    labels: Vec<LitStr>,
    /// `const_labels("k" = "v")`: labels with one value, in every series.
    const_labels: Vec<(LitStr, LitStr)>,
    buckets: Option<(Vec<f64>, Span)>,
    max_series: Option<LitInt>,
}

/// `#[derive(Instruments)]` on a struct of instrument fields.
pub(crate) fn derive_instruments(input: &DeriveInput) -> syn::Result<TokenStream> {
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new(
            input.ident.span(),
            "`Instruments` can only be derived for structs",
        ));
    };
    let Fields::Named(named) = &data.fields else {
        return Err(syn::Error::new(
            input.ident.span(),
            "`Instruments` needs a struct with named fields",
        ));
    };
    let set = set_attr(&input.attrs)?;
    let mut consts = Vec::new();
    let mut checks = Vec::new();
    let mut builds = Vec::new();
    let mut encodes = Vec::new();
    let mut finds = Vec::new();
    let mut errors: Option<syn::Error> = None;
    let mut seen: Vec<(String, Span)> = Vec::new();
    for field in &named.named {
        let ident = field.ident.as_ref().expect("named fields");
        let attr = match field_attr(field) {
            Ok(a) => a,
            Err(e) => {
                combine(&mut errors, e);
                continue;
            }
        };
        let name = match &attr.name {
            Some(n) => n.value(),
            None => match &set.prefix {
                Some(p) => format!("{}_{ident}", p.value()),
                None => ident.to_string(),
            },
        };
        let help = match (&attr.help, doc(&field.attrs)) {
            (Some(h), _) => h.value(),
            (None, Some(d)) => d,
            (None, None) => {
                combine(
                    &mut errors,
                    syn::Error::new(
                        attr.span,
                        "an instrument needs HELP text: a `///` doc comment or `help = \"...\"`",
                    ),
                );
                continue;
            }
        };
        if let Err(e) = check(&name, &attr) {
            combine(&mut errors, syn::Error::new(attr.span, e));
            continue;
        }
        if let Some((bounds, span)) = &attr.buckets
            && let Err(e) = names::check_buckets(bounds)
        {
            combine(&mut errors, syn::Error::new(*span, e));
            continue;
        }
        if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
            let mut e = syn::Error::new(attr.span, format!("family `{name}` is declared twice"));
            e.combine(syn::Error::new(*first, "first declared here"));
            combine(&mut errors, e);
            continue;
        }
        seen.push((name.clone(), attr.span));
        let constant = format_ident!("__PME_{}", ident.to_string().to_uppercase());
        consts.push(desc_const(&constant, &name, &help, &attr));
        checks.push(type_check(field, ident, &attr));
        let ty = &field.ty;
        let bounds = match &attr.buckets {
            Some((b, _)) => {
                let b = b.iter().map(|v| float(*v));
                quote!(&[#(#b),*])
            }
            None => quote!(::pme::instrument::DEFAULT_BUCKETS),
        };
        let max_series = match &attr.max_series {
            Some(n) => quote!(::core::option::Option::Some(#n)),
            None => quote!(::core::option::Option::None),
        };
        builds.push(quote_spanned! {ty.span()=>
            #ident: <#ty as ::pme::__private::instrument::Build>::build(
                &::pme::__private::instrument::BuildSpec {
                    name: #name,
                    bounds: #bounds,
                    max_series: #max_series,
                    budget: budget.clone(),
                },
            ),
        });
        encodes.push(quote! {
            ::pme::__private::instrument::encode_family(out, &Self::#constant, &self.#ident, format);
        });
        let field_name = ident.to_string();
        let field_name = field_name.trim_start_matches("r#");
        let label_names = attr.labels.iter();
        let names = if field_name == name {
            quote!(#name)
        } else {
            quote!(#name | #field_name)
        };
        finds.push(quote! {
            #names => ::core::option::Option::Some(::pme::instrument::Target {
                labels: &[#(#label_names),*],
                family: &self.#ident,
            }),
        });
    }
    if let Some(e) = errors {
        return Err(e);
    }
    let budget = match &set.max_series {
        Some(n) => quote!(::core::option::Option::Some(::pme::instrument::Budget::new(#n))),
        None => quote!(::core::option::Option::None),
    };
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics #name #ty_generics #where_clause {
            #(#consts)*
        }

        #(#checks)*

        impl #impl_generics ::core::default::Default for #name #ty_generics #where_clause {
            fn default() -> Self {
                let budget: ::core::option::Option<::std::sync::Arc<::pme::instrument::Budget>> = #budget;
                Self {
                    #(#builds)*
                }
            }
        }

        impl #impl_generics ::pme::instrument::Instruments for #name #ty_generics #where_clause {
            fn encode(&self, out: &mut ::std::vec::Vec<u8>, format: ::pme::Format) {
                #(#encodes)*
            }

            fn find(&self, name: &str) -> ::core::option::Option<::pme::instrument::Target<'_>> {
                match name {
                    #(#finds)*
                    _ => ::core::option::Option::None,
                }
            }
        }
    })
}

fn combine(errors: &mut Option<syn::Error>, e: syn::Error) {
    match errors {
        Some(all) => all.combine(e),
        None => *errors = Some(e),
    }
}

fn set_attr(attrs: &[Attribute]) -> syn::Result<SetAttr> {
    let mut out = SetAttr::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("instruments")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("prefix") {
                let lit: LitStr = meta.value()?.parse()?;
                if let Err(e) = names::check_metric_name(&lit.value()) {
                    return Err(syn::Error::new(lit.span(), e));
                }
                out.prefix = Some(lit);
                Ok(())
            } else if meta.path.is_ident("max_series") {
                out.max_series = Some(positive(meta.value()?.parse()?)?);
                Ok(())
            } else {
                Err(meta.error("unknown `instruments` key; expected `prefix` or `max_series`"))
            }
        })?;
    }
    Ok(out)
}

fn positive(lit: LitInt) -> syn::Result<LitInt> {
    match lit.base10_parse::<usize>() {
        Ok(n) if n > 0 => Ok(lit),
        _ => Err(syn::Error::new(
            lit.span(),
            "`max_series` is a whole number above 0",
        )),
    }
}

fn field_attr(field: &syn::Field) -> syn::Result<FieldAttr> {
    let mut found: Option<FieldAttr> = None;
    for attr in &field.attrs {
        let kind = if attr.path().is_ident("counter") {
            InstrumentType::Counter
        } else if attr.path().is_ident("gauge") {
            InstrumentType::Gauge
        } else if attr.path().is_ident("histogram") {
            InstrumentType::Histogram
        } else {
            continue;
        };
        if found.is_some() {
            return Err(syn::Error::new(
                attr.span(),
                "a field is one instrument: keep one of `counter`, `gauge`, `histogram`",
            ));
        }
        let mut out = FieldAttr {
            kind,
            // The `counter`/`gauge`/`histogram` word: where the reader looks.
            span: attr.path().span(),
            name: None,
            help: None,
            labels: Vec::new(),
            const_labels: Vec::new(),
            buckets: None,
            max_series: None,
        };
        // `#[counter]` alone is allowed.
        if !matches!(attr.meta, syn::Meta::Path(_)) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("name") {
                    out.name = Some(meta.value()?.parse()?);
                } else if meta.path.is_ident("help") {
                    out.help = Some(meta.value()?.parse()?);
                } else if meta.path.is_ident("labels") {
                    let content;
                    syn::parenthesized!(content in meta.input);
                    out.labels
                        .extend(Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?);
                } else if meta.path.is_ident("const_labels") {
                    let content;
                    syn::parenthesized!(content in meta.input);
                    let pairs = Punctuated::<ConstLabel, Token![,]>::parse_terminated(&content)?;
                    out.const_labels.extend(pairs.into_iter().map(|p| (p.name, p.value)));
                } else if meta.path.is_ident("max_series") {
                    out.max_series = Some(positive(meta.value()?.parse()?)?);
                } else if meta.path.is_ident("buckets") && kind == InstrumentType::Histogram {
                    let content;
                    syn::parenthesized!(content in meta.input);
                    let span = content.span();
                    let exprs = Punctuated::<syn::Expr, Token![,]>::parse_terminated(&content)?;
                    let bounds = exprs
                        .iter()
                        .map(number)
                        .collect::<syn::Result<Vec<f64>>>()?;
                    out.buckets = Some((bounds, span));
                } else {
                    let extra = if kind == InstrumentType::Histogram {
                        ", `buckets`"
                    } else {
                        ""
                    };
                    return Err(meta.error(format!(
                        "unknown key; expected `name`, `help`, `labels`, `const_labels`, `max_series`{extra}"
                    )));
                }
                Ok(())
            })?;
        }
        found = Some(out);
    }
    found.ok_or_else(|| {
        syn::Error::new(
            field.span(),
            "every field of `Instruments` is an instrument: mark it `#[counter]`, `#[gauge]` or `#[histogram]`",
        )
    })
}

/// `"label" = "value"` inside `const_labels(...)`.
struct ConstLabel {
    name: LitStr,
    value: LitStr,
}

impl syn::parse::Parse for ConstLabel {
    fn parse(input: syn::parse::ParseStream<'_>) -> syn::Result<Self> {
        let name = input.parse()?;
        input.parse::<Token![=]>()?;
        let value = input.parse()?;
        Ok(ConstLabel { name, value })
    }
}

/// A number literal, possibly negative (`0.5`, `1`, `-10`).
fn number(expr: &syn::Expr) -> syn::Result<f64> {
    match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Float(f),
            ..
        }) => f.base10_parse(),
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) => i.base10_parse(),
        syn::Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        }) => Ok(-number(expr)?),
        _ => Err(syn::Error::new(
            expr.span(),
            "a bucket bound is a number literal",
        )),
    }
}

/// The field's `///` comment, lines joined by spaces.
fn doc(attrs: &[Attribute]) -> Option<String> {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value().trim().to_owned()),
                _ => None,
            },
            _ => None,
        })
        .filter(|l| !l.is_empty())
        .collect();
    (!lines.is_empty()).then(|| lines.join(" "))
}

/// The spec's naming rules, applied to one instrument.
fn check(name: &str, attr: &FieldAttr) -> Result<(), String> {
    names::check_metric_name(name)?;
    names::check_instrument_suffix(name, attr.kind)?;
    let constant = attr.const_labels.iter().map(|(n, _)| n);
    for label in attr.labels.iter().chain(constant) {
        names::check_label_name(&label.value())?;
        if attr.kind == InstrumentType::Histogram && label.value() == "le" {
            return Err(
                "label `le` is the histogram's bucket bound; name the label otherwise".into(),
            );
        }
    }
    Ok(())
}

fn desc_const(constant: &syn::Ident, name: &str, help: &str, attr: &FieldAttr) -> TokenStream {
    let (header, openmetrics_header) = names::instrument_headers(name, help, attr.kind);
    let header = Literal::byte_string(header.as_bytes());
    let openmetrics_header = Literal::byte_string(openmetrics_header.as_bytes());
    let labels: Vec<String> = attr.labels.iter().map(LitStr::value).collect();
    let consts: Vec<(String, String)> = attr
        .const_labels
        .iter()
        .map(|(n, v)| (n.value(), v.value()))
        .collect();
    let bytes = |pieces: Vec<String>| {
        let pieces = pieces.iter().map(|p| Literal::byte_string(p.as_bytes()));
        quote!(&[#(#pieces),*])
    };
    let (pieces, sum, count, le) = if attr.kind == InstrumentType::Histogram {
        let mut with_le = labels.clone();
        with_le.push("le".to_owned());
        let bounds = attr
            .buckets
            .as_ref()
            .map_or(names::DEFAULT_BUCKETS.to_vec(), |(b, _)| b.clone());
        let le: Vec<String> = bounds
            .iter()
            .map(|b| names::format_value(*b))
            .chain(["+Inf".to_owned()])
            .collect();
        (
            bytes(names::series_shape(&format!("{name}_bucket"), &consts, &with_le).pieces),
            bytes(names::series_shape(&format!("{name}_sum"), &consts, &labels).pieces),
            bytes(names::series_shape(&format!("{name}_count"), &consts, &labels).pieces),
            bytes(le),
        )
    } else {
        let empty = quote!(&[]);
        (
            bytes(names::series_shape(name, &consts, &labels).pieces),
            empty.clone(),
            empty.clone(),
            empty,
        )
    };
    let doc = format!(" The `{name}` family: {help}");
    quote_spanned! {attr.span=>
        #[doc = #doc]
        const #constant: ::pme::__private::instrument::InstrumentDesc = ::pme::__private::instrument::InstrumentDesc {
            name: #name,
            header: #header,
            openmetrics_header: #openmetrics_header,
            pieces: #pieces,
            sum_pieces: #sum,
            count_pieces: #count,
            le: #le,
        };
    }
}

/// Asserts at compile time that the field's type matches the attribute:
/// its kind, its label count, and `max_series` for free-text labels.
fn type_check(field: &syn::Field, ident: &syn::Ident, attr: &FieldAttr) -> TokenStream {
    let ty = &field.ty;
    let kind = format_ident!("{}", format!("{:?}", attr.kind));
    let n = attr.labels.len();
    let has_max = attr.max_series.is_some();
    let kind_msg = format!(
        "field `{ident}` is marked `{}`, so its type holds {}s",
        attr.kind.keyword(),
        attr.kind.keyword()
    );
    let labels_msg =
        format!("field `{ident}` names {n} label(s); its type's label set must have as many");
    let max_msg =
        format!("field `{ident}` has free-text labels (a BoundedFamily): give it `max_series = N`");
    quote_spanned! {ty.span()=>
        const _: () = {
            ::core::assert!(
                ::core::matches!(
                    <#ty as ::pme::__private::instrument::Instrument>::KIND,
                    ::pme::__private::instrument::InstrumentKind::#kind
                ),
                #kind_msg
            );
            ::core::assert!(<#ty as ::pme::__private::instrument::Instrument>::LABELS == #n, #labels_msg);
            ::core::assert!(!<#ty as ::pme::__private::instrument::Instrument>::BOUNDED || #has_max, #max_msg);
        };
    }
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn variant_names_become_snake_case() {
        assert_eq!(snake_case("Ok"), "ok");
        assert_eq!(snake_case("GpuHours"), "gpu_hours");
        assert_eq!(snake_case("HTTP2"), "http2");
        assert_eq!(snake_case("HttpServer"), "http_server");
        assert_eq!(snake_case("TLSHandshake"), "tls_handshake");
        assert_eq!(snake_case("Gpt4"), "gpt4");
    }
}
