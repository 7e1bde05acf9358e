//! `PLAN.catalog`: the catalog ([`crate::catalog`]) as static data, for
//! `pme describe`.

use proc_macro2::TokenStream;
use quote::quote;

use crate::catalog::{self, Family, Label};
use crate::ir::Model;

/// The catalog's entries, in spec order.
pub(super) fn entries(m: &Model) -> Vec<TokenStream> {
    catalog::families(m).iter().map(entry).collect()
}

fn entry(f: &Family<'_>) -> TokenStream {
    let Family {
        name,
        kind,
        unit,
        help,
        labels,
        service,
        group,
        source,
        every,
        line,
        max_series,
    } = f;
    let max_series = super::option(max_series.map(|n| quote!(#n)));
    let labels = labels.iter().map(label);
    quote! {
        ::pme::__private::plan::CatalogEntry {
            name: #name,
            kind: #kind,
            unit: #unit,
            help: #help,
            labels: &[#(#labels),*],
            service: #service,
            group: #group,
            source: #source,
            every: #every,
            line: #line,
            max_series: #max_series,
        }
    }
}

fn label(l: &Label<'_>) -> TokenStream {
    let name = l.name;
    let values = match &l.values {
        Some(v) => quote!(::core::option::Option::Some(&[#(#v),*])),
        None => quote!(::core::option::Option::None),
    };
    quote!(::pme::__private::plan::CatalogLabel { name: #name, values: #values })
}
