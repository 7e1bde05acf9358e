//! Values as tokens of the generated code, shared by both derives.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

/// An `f64` as a literal expression (`NAN`, `INFINITY` and signs spelled out).
pub(crate) fn float(v: f64) -> TokenStream {
    if v.is_nan() {
        quote!(::core::f64::NAN)
    } else if v == f64::INFINITY {
        quote!(::core::f64::INFINITY)
    } else if v == f64::NEG_INFINITY {
        quote!(::core::f64::NEG_INFINITY)
    } else {
        let lit = Literal::f64_suffixed(v.abs());
        if v.is_sign_negative() {
            quote!(-#lit)
        } else {
            quote!(#lit)
        }
    }
}
