//! A service's `instruments:` → tokens: one enum per closed label (deriving
//! `pme::LabelValue`), an `Instruments` struct deriving `pme::Instruments`,
//! the `INSTRUMENTS` static the application updates, and one function per
//! instrument that returns its handle for the given label values.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::doc;
use crate::ident;
use crate::ir::{Instrument, LabelEnum, Model, Service};
use crate::names::InstrumentType;

/// Everything a service's instruments generate; empty without any.
pub(super) fn items(s: &Service, m: &Model) -> TokenStream {
    if s.instruments.is_empty() {
        return TokenStream::new();
    }
    let enums = s.enums.iter().map(|e| label_enum(e, m));
    let fields = s.instruments.iter().map(|i| field(i, s, m));
    let handles = s.instruments.iter().map(|i| handle(i, s));
    let struct_doc = doc(&format!(
        "The application instruments of service `{}` ({}:{}). Update them through the functions of this module, or through [`INSTRUMENTS`].",
        s.id, m.file, s.line
    ));
    quote! {
        #(#enums)*

        #[doc = #struct_doc]
        #[derive(Debug, ::pme::Instruments)]
        pub struct Instruments {
            #(#fields)*
        }

        /// The one set of this service's instruments that `/metrics` exposes.
        pub static INSTRUMENTS: ::std::sync::LazyLock<Instruments> =
            ::std::sync::LazyLock::new(::core::default::Default::default);

        /// Appends this service's instrument families (the plan calls it).
        pub fn encode_instruments(out: &mut ::std::vec::Vec<u8>, format: ::pme::Format) {
            ::pme::instrument::Instruments::encode(&*INSTRUMENTS, out, format);
        }

        /// The instrument family named `name`, for updates addressed by
        /// name (the plan calls it for statsd lines).
        pub fn find_instrument(name: &str) -> ::core::option::Option<::pme::instrument::Target<'static>> {
            ::pme::instrument::Instruments::find(&*INSTRUMENTS, name)
        }

        #(#handles)*
    }
}

fn label_enum(e: &LabelEnum, m: &Model) -> TokenStream {
    let name = ident::type_name(&e.label);
    let values: Vec<&str> = e.values.iter().map(|(v, _)| v.as_str()).collect();
    let text = format!(
        "Values of label `{}` ({}:{}): {}.",
        e.label,
        m.file,
        e.line,
        values
            .iter()
            .map(|v| format!("`{v}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let doc = doc(&text);
    let variants = e.values.iter().map(|(value, variant)| {
        let variant = syn::Ident::new(variant, proc_macro2::Span::call_site());
        quote! {
            #[label(#value)]
            #variant,
        }
    });
    quote! {
        #[doc = #doc]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, ::pme::LabelValue)]
        pub enum #name {
            #(#variants)*
        }
    }
}

/// The Rust type of an instrument's values.
fn instrument_type(kind: InstrumentType) -> TokenStream {
    match kind {
        InstrumentType::Counter => quote!(::pme::instrument::Counter),
        InstrumentType::Gauge => quote!(::pme::instrument::Gauge),
        InstrumentType::Histogram => quote!(::pme::instrument::Histogram),
    }
}

/// The field's type: the instrument, a `Family` over the closed labels'
/// enums, or a `BoundedFamily` when any label is free text.
fn field_type(i: &Instrument, s: &Service) -> TokenStream {
    let inner = instrument_type(i.kind);
    if i.labels.is_empty() {
        return inner;
    }
    if i.labels.iter().any(|l| l.closed.is_none()) {
        let n = Literal::usize_unsuffixed(i.labels.len());
        return quote!(::pme::instrument::BoundedFamily<#inner, #n>);
    }
    let enums: Vec<syn::Ident> = i
        .labels
        .iter()
        .filter_map(|l| l.closed)
        .map(|e| ident::type_name(&s.enums[e].label))
        .collect();
    match enums.as_slice() {
        [one] => quote!(::pme::instrument::Family<#one, #inner>),
        many => quote!(::pme::instrument::Family<(#(#many),*), #inner>),
    }
}

fn field(i: &Instrument, s: &Service, m: &Model) -> TokenStream {
    let ident = ident::field(&i.id);
    let ty = field_type(i, s);
    let doc = doc(&format!("`{}` ({}:{}): {}", i.name, m.file, i.line, i.help));
    let (name, help) = (&i.name, &i.help);
    let mut args = vec![quote!(name = #name), quote!(help = #help)];
    if !i.constant_labels.is_empty() {
        let pairs = i.constant_labels.iter().map(|(k, v)| quote!(#k = #v));
        args.push(quote!(const_labels(#(#pairs),*)));
    }
    if !i.labels.is_empty() {
        let names = i.labels.iter().map(|l| &l.name);
        args.push(quote!(labels(#(#names),*)));
    }
    if let Some(max) = i.max_series {
        let max = Literal::u64_unsuffixed(max);
        args.push(quote!(max_series = #max));
    }
    if let Some(buckets) = &i.buckets {
        let bounds = buckets.iter().map(|&b| {
            let lit = Literal::f64_unsuffixed(b.abs());
            if b < 0.0 { quote!(-#lit) } else { quote!(#lit) }
        });
        args.push(quote!(buckets(#(#bounds),*)));
    }
    let attr = match i.kind {
        InstrumentType::Counter => quote!(counter),
        InstrumentType::Gauge => quote!(gauge),
        InstrumentType::Histogram => quote!(histogram),
    };
    quote! {
        #[doc = #doc]
        #[#attr(#(#args),*)]
        pub #ident: #ty,
    }
}

/// `pub fn requests_total(model: Model, status: Status) -> &'static Counter`:
/// the handle for one label set.
fn handle(i: &Instrument, s: &Service) -> TokenStream {
    let ident = ident::field(&i.id);
    let inner = instrument_type(i.kind);
    let doc = doc(&format!("`{}`: {}", i.name, i.help));
    let params: Vec<syn::Ident> = i.labels.iter().map(|l| ident::field(&l.name)).collect();
    let free = i.labels.iter().any(|l| l.closed.is_none());
    let args = i.labels.iter().zip(&params).map(|(l, p)| match l.closed {
        Some(e) => {
            let ty = ident::type_name(&s.enums[e].label);
            quote!(#p: #ty)
        }
        None => quote!(#p: &str),
    });
    if i.labels.is_empty() {
        return quote! {
            #[doc = #doc]
            pub fn #ident() -> &'static #inner {
                &INSTRUMENTS.#ident
            }
        };
    }
    if free {
        let values = i.labels.iter().zip(&params).map(|(l, p)| match l.closed {
            Some(_) => quote!(::pme::instrument::LabelValue::as_str(#p)),
            None => quote!(#p),
        });
        let more = super::doc(
            "A label set past `max_series` is refused: the handle still works, but its updates are not exposed, and `pme_cardinality_rejected_total` counts the refusal. Keep the handle for a hot path.",
        );
        return quote! {
            #[doc = #doc]
            #[doc = ""]
            #[doc = #more]
            pub fn #ident(#(#args),*) -> ::std::sync::Arc<#inner> {
                INSTRUMENTS.#ident.with([#(#values),*])
            }
        };
    }
    let key = match params.as_slice() {
        [one] => quote!(#one),
        many => quote!((#(#many),*)),
    };
    quote! {
        #[doc = #doc]
        pub fn #ident(#(#args),*) -> &'static #inner {
            INSTRUMENTS.#ident.get(#key)
        }
    }
}

/// The plan's entry for a service's instruments, if it has any.
pub(super) fn plan_entry(s: &Service) -> Option<TokenStream> {
    if s.instruments.is_empty() {
        return None;
    }
    let module = ident::field(&s.id);
    let id = &s.id;
    Some(quote! {
        ::pme::__private::plan::InstrumentsPlan {
            service: #id,
            encode: #module::encode_instruments,
            find: #module::find_instrument,
        }
    })
}
