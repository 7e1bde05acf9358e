//! A collector's group → tokens: one function per instance that builds
//! the collector's options from the spec and makes it, and the plan entry
//! that names that function.
//!
//! The options become a struct literal of the collector's own `Options`
//! type, so rustc checks each name and value against it: an unknown
//! option or a wrong type fails the build in this function, whose doc
//! says where in the spec the group is.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::{doc, raw_str};
use crate::ident;
use crate::ir::{CollectorSource, Group, Model, OptionValue, Service};

/// `pub fn <group>() -> Result<Instance, String>` in the service's module.
pub(super) fn instance_fn(c: &CollectorSource, g: &Group, m: &Model) -> TokenStream {
    let name = ident::field(&g.id);
    let Ok(ty) = syn::parse_str::<syn::Path>(&c.path) else {
        let message = format!("`{}` is not a type path", c.path);
        return quote!(::core::compile_error!(#message););
    };
    let text = doc(&format!(
        "Group `{}` ({}:{}): an instance of `{}`, made from the spec's `options:`.",
        g.id, m.file, g.line, c.path
    ));
    let (options, alias, allow) = if c.options.is_empty() {
        (
            quote!(::core::default::Default::default()),
            quote!(),
            quote!(),
        )
    } else {
        let fields = c.options.iter().map(|(field, value)| {
            let field = syn::Ident::new(field, proc_macro2::Span::call_site());
            let value = value_tokens(value);
            quote!(#field: #value)
        });
        (
            quote! {
                Options {
                    #(#fields,)*
                    ..::core::default::Default::default()
                }
            },
            quote!(type Options = <#ty as ::pme::collect::FromOptions>::Options;),
            // The spec may set every field.
            quote!(#[allow(clippy::needless_update)]),
        )
    };
    quote! {
        #[doc = #text]
        #allow
        pub fn #name() -> ::core::result::Result<::pme::collect::Instance, ::std::string::String> {
            // Whichever of the two impls applies picks blocking or async;
            // the borrow is what lets the async one be found.
            #[allow(unused_imports)]
            use ::pme::__private::collect::{Pick, PickAsync as _, PickBlocking as _};
            #alias
            let collector = <#ty as ::pme::collect::FromOptions>::from_options(#options)?;
            #[allow(clippy::needless_borrow)]
            let instance = (&Pick::<#ty>::new()).instance(collector);
            ::core::result::Result::Ok(instance)
        }
    }
}

/// The plan's entry for the instance.
pub(super) fn plan(c: &CollectorSource, g: &Group, s: &Service) -> TokenStream {
    let module = ident::field(&s.id);
    let name = ident::field(&g.id);
    let path = &c.path;
    let labels = c.labels.iter().map(|(n, v)| {
        let v = raw_str(v);
        quote!((#n, #v))
    });
    quote! {
        ::pme::__private::plan::Collector::Instance(::pme::__private::plan::InstancePlan {
            collector: #path,
            new: #module::#name,
            labels: &[#(#labels),*],
        })
    }
}

/// An option's value as an expression of the field's type.
fn value_tokens(v: &OptionValue) -> TokenStream {
    match v {
        OptionValue::Str(s) => {
            let s = raw_str(s);
            quote!(::core::convert::From::from(#s))
        }
        OptionValue::Int(i) => {
            let lit = Literal::i64_unsuffixed(i.abs());
            if *i < 0 { quote!(-#lit) } else { quote!(#lit) }
        }
        OptionValue::Float(f) => {
            let lit = Literal::f64_unsuffixed(f.abs());
            if f.is_sign_negative() {
                quote!(-#lit)
            } else {
                quote!(#lit)
            }
        }
        OptionValue::Bool(b) => quote!(#b),
        OptionValue::List(items) => {
            let items = items.iter().map(value_tokens);
            quote!(::std::vec![#(#items),*])
        }
    }
}
