//! `#[derive(MetricGroup)]`: the trait impl and the per-family constants.
//!
//! Everything emitted uses absolute paths (`::pme::…`, `::core::…`), so the
//! expansion works wherever the user's names shadow std or pme's.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, LitStr, Type};

use pme_codegen::filter::{self, Part};
use pme_codegen::json::{self, JsonPart};
use pme_codegen::names::{self, Kind};
use pme_codegen::xml::{self, XmlPart};

use crate::attr::{self, MetricAttr};
use crate::tokens::float;

/// One metric field, checked.
struct Field<'a> {
    ident: &'a syn::Ident,
    ty: &'a Type,
    kind: Kind,
    constant: syn::Ident,
    attr: MetricAttr,
    /// Labels fixed at compile time, in the series prefix.
    constants: Vec<(String, String)>,
    /// Labels whose values come with each series, in declaration order.
    dynamic: Vec<String>,
    plan: Plan,
}

/// What a group's fields are filled from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Content {
    /// No `content`: the collector's own code sets the values.
    Manual,
    /// Regex filters on text.
    Text,
    /// JSONPath filters on one parsed document.
    Json,
    /// XPath-subset filters on one parsed document.
    Xml,
}

/// How one field is extracted.
enum Plan {
    Manual,
    Text(Option<filter::FilterPlan>),
    Json(json::JsonPlan),
    Xml(xml::XmlPlan),
}

pub(crate) fn derive(input: &DeriveInput) -> syn::Result<TokenStream> {
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new(
            input.ident.span(),
            "`MetricGroup` can only be derived for structs",
        ));
    };
    let Fields::Named(named) = &data.fields else {
        return Err(syn::Error::new(
            input.ident.span(),
            "`MetricGroup` needs a struct with named fields",
        ));
    };
    let group = attr::group(&input.attrs)?;
    if group.content.as_ref().map(LitStr::value).as_deref() == Some("prometheus") {
        if let Some((first, _)) = group.labels.first() {
            return Err(syn::Error::new(
                first.span(),
                "group `labels` apply to declared metrics; give an import its labels in `#[import(labels(...))]`",
            ));
        }
        return crate::imports::derive(input, named, &group);
    }
    if let Some(first) = group.declared.first() {
        return Err(syn::Error::new(
            first.span(),
            "`declared` applies to `content = \"prometheus\"` groups",
        ));
    }
    let content = match group.content.as_ref().map(LitStr::value).as_deref() {
        None => Content::Manual,
        Some("json") => Content::Json,
        Some("xml") => Content::Xml,
        Some(_) => Content::Text,
    };
    let fields = check_fields(named, content, &group.labels)?;
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let consts = fields.iter().map(|f| desc_const(f, &input.vis));
    let checks = fields.iter().map(type_check);
    let fails = fields.iter().map(|f| {
        let (ident, constant) = (f.ident, &f.constant);
        quote!(self.#ident.fail(Self::#constant.value_on_error);)
    });
    let constants = fields.iter().map(|f| &f.constant);
    let idents = fields.iter().map(|f| f.ident);
    let typed = fields.iter().map(|f| {
        let constant = &f.constant;
        let keyword = f.kind.keyword();
        quote!((Self::#constant.name, #keyword))
    });
    let encodes = fields.iter().map(|f| {
        let (ident, constant) = (f.ident, &f.constant);
        quote!(::pme::__private::encode::family(out, &Self::#constant, &self.#ident, format);)
    });
    let extract_body = extract_body(content, fields.iter().map(extract));
    Ok(quote! {
        impl #impl_generics #name #ty_generics #where_clause {
            #(#consts)*
        }

        #(#checks)*

        impl #impl_generics ::pme::__private::metric::MetricGroup for #name #ty_generics #where_clause {
            fn extract(&mut self, input: &[u8]) -> ::core::result::Result<(), ::pme::__private::metric::ExtractErrors> {
                #extract_body
            }

            fn fail(&mut self) {
                #(#fails)*
            }

            fn encode(&self, out: &mut ::std::vec::Vec<u8>, format: ::pme::__private::encode::Format) {
                #(#encodes)*
            }

            fn families(&self) -> ::std::vec::Vec<&'static str> {
                ::std::vec![#(Self::#constants.name),*]
            }

            fn family_types(&self) -> ::std::vec::Vec<(&'static str, &'static str)> {
                ::std::vec![#(#typed),*]
            }

            fn series_dropped(&self) -> u64 {
                0 #(+ self.#idents.dropped())*
            }
        }
    })
}

/// Every field's checks; all their errors at once.
fn check_fields<'a>(
    named: &'a syn::FieldsNamed,
    content: Content,
    group_labels: &[(LitStr, Option<LitStr>)],
) -> syn::Result<Vec<Field<'a>>> {
    let mut fields = Vec::new();
    let mut errors: Option<syn::Error> = None;
    for field in &named.named {
        match check_field(field, content, group_labels) {
            Ok(Some(f)) => fields.push(f),
            Ok(None) => {}
            Err(e) => match &mut errors {
                Some(all) => all.combine(e),
                None => errors = Some(e),
            },
        }
    }
    match errors {
        Some(e) => Err(e),
        None => Ok(fields),
    }
}

/// The body of `MetricGroup::extract`: parse the reading once (JSON, XML),
/// then run every family's extraction; nothing for a group filled in code.
fn extract_body(content: Content, extracts: impl Iterator<Item = TokenStream>) -> TokenStream {
    let module = match content {
        Content::Json => quote!(json),
        Content::Xml => quote!(xml),
        Content::Text => {
            return quote! {
                let mut errors = ::pme::__private::metric::ExtractErrors::default();
                #(#extracts)*
                errors.into_result()
            };
        }
        Content::Manual => {
            // Filled by hand: there is no content to extract from.
            return quote! {
                let _ = input;
                ::core::result::Result::Ok(())
            };
        }
    };
    quote! {
        // Parsed once; every family queries this one document.
        let doc = match ::pme::__private::parsers::#module::parse(input) {
            ::core::result::Result::Ok(doc) => doc,
            ::core::result::Result::Err(message) => {
                ::pme::__private::metric::MetricGroup::fail(self);
                return ::core::result::Result::Err(::pme::__private::metric::ExtractErrors::reading(message));
            }
        };
        let mut errors = ::pme::__private::metric::ExtractErrors::default();
        #(#extracts)*
        errors.into_result()
    }
}

fn check_field<'a>(
    field: &'a syn::Field,
    content: Content,
    group_labels: &[(LitStr, Option<LitStr>)],
) -> syn::Result<Option<Field<'a>>> {
    let Some(mut attr) = attr::metric(&field.attrs)? else {
        return Ok(None);
    };
    // The group's labels come first, in every family.
    attr.labels.splice(0..0, group_labels.iter().cloned());
    let ident = field
        .ident
        .as_ref()
        .ok_or_else(|| syn::Error::new(field.span(), "fields must be named"))?;
    let kind = kind_of(&field.ty)?;
    let name = attr.name.value();
    names::check_metric_name(&name)
        .and_then(|()| names::check_kind_suffix(&name, kind))
        .map_err(|e| syn::Error::new(attr.name.span(), e))?;
    if kind == Kind::Info {
        refuse_value_options(&attr, "info metrics", true)?;
    }
    if let Some(value) = attr.value.as_ref().map(LitStr::value)
        && pme_codegen::json::constant(&value).is_some()
    {
        refuse_value_options(&attr, &format!("the constant value `{value}`"), false)?;
    }
    let labels = check_labels(&attr, content)?;
    if let Some(value) = &attr.value
        && content != Content::Json
        && content != Content::Xml
    {
        return Err(syn::Error::new(
            value.span(),
            "`value` needs `#[group(content = \"json\")]` or `\"xml\"` on the struct",
        ));
    }
    let plan = plan_of(&attr, content, kind, &labels.references)?;
    if attr.match_all && labels.dynamic.is_empty() {
        return Err(syn::Error::new(
            attr.span,
            "`match_all` needs a label taken from a capture, or every series would collide",
        ));
    }
    Ok(Some(Field {
        ident,
        ty: &field.ty,
        kind,
        constant: format_ident!(
            "{}",
            pme_codegen::constant_name(ident.to_string().trim_start_matches("r#"))
        ),
        attr,
        constants: labels.constants,
        dynamic: labels.dynamic,
        plan,
    }))
}

/// The value options a metric whose value is fixed (an info metric, a
/// constant `value`) cannot take; `on_error` also refuses `value_on_error`.
fn refuse_value_options(attr: &MetricAttr, what: &str, on_error: bool) -> syn::Result<()> {
    if let Some((_, span)) = attr.value_on_error.filter(|_| on_error) {
        return Err(syn::Error::new(
            span,
            format!("`value_on_error` does not apply to {what}"),
        ));
    }
    if !attr.value_map.is_empty() {
        return Err(syn::Error::new(
            attr.span,
            format!("`value_map` does not apply to {what}"),
        ));
    }
    if let Some((_, span)) = attr.scale {
        return Err(syn::Error::new(
            span,
            format!("`scale` does not apply to {what}"),
        ));
    }
    Ok(())
}

/// A field's labels, sorted by where their values come from.
struct Labels {
    /// Fixed at compile time: part of the series prefix.
    constants: Vec<(String, String)>,
    /// Set per series, in order.
    dynamic: Vec<String>,
    /// The dynamic labels filled from the content, with their templates.
    references: Vec<(String, Vec<(bool, String)>)>,
}

/// Checks every label's name and value: a constant, a template over the
/// content, or (for a group without content) a bare name set in code.
fn check_labels(attr: &MetricAttr, content: Content) -> syn::Result<Labels> {
    let mut labels = Labels {
        constants: Vec::new(),
        dynamic: Vec::new(),
        references: Vec::new(),
    };
    for (i, (label, value)) in attr.labels.iter().enumerate() {
        names::check_label_name(&label.value()).map_err(|e| syn::Error::new(label.span(), e))?;
        if attr.labels[..i]
            .iter()
            .any(|(l, _)| l.value() == label.value())
        {
            return Err(syn::Error::new(label.span(), "duplicate label"));
        }
        let Some(value) = value else {
            // A bare name: the collector's own code sets the value.
            if content != Content::Manual {
                return Err(syn::Error::new(
                    label.span(),
                    format!(
                        "label `{}` has no value, but this group is filled from its content: use a template such as `\"$capture\"`",
                        label.value()
                    ),
                ));
            }
            labels.dynamic.push(label.value());
            continue;
        };
        match filter::parse_template(&value.value())
            .map_err(|e| syn::Error::new(value.span(), e))?
        {
            None => labels.constants.push((label.value(), value.value())),
            // Only `$$`: a constant once unescaped.
            Some(parts) if parts.iter().all(|(reference, _)| !reference) => {
                labels.constants.push((
                    label.value(),
                    parts.into_iter().map(|(_, text)| text).collect(),
                ));
            }
            Some(parts) => {
                let missing = match content {
                    Content::Manual => {
                        Some("the group has no `content`; name the label alone to set it in code")
                    }
                    Content::Text if attr.filter.is_none() => Some("there is no `filter`"),
                    _ => None,
                };
                if let Some(why) = missing {
                    return Err(syn::Error::new(
                        value.span(),
                        format!(
                            "label `{}` refers to `{}`, but {why}",
                            label.value(),
                            value.value()
                        ),
                    ));
                }
                labels.dynamic.push(label.value());
                labels.references.push((label.value(), parts));
            }
        }
    }
    Ok(labels)
}

/// How the field's series are extracted from the group's content.
fn plan_of(
    attr: &MetricAttr,
    content: Content,
    kind: Kind,
    references: &[(String, Vec<(bool, String)>)],
) -> syn::Result<Plan> {
    let spanned = |lit: Option<&LitStr>| lit.map_or(attr.span, LitStr::span);
    // A path error names the value path or, otherwise, the filter.
    let path_error = |e: String| {
        let at = if e.contains("value path") {
            attr.value.as_ref()
        } else {
            attr.filter.as_ref()
        };
        syn::Error::new(spanned(at), e)
    };
    let filter = attr.filter.as_ref().map(LitStr::value);
    let value = attr.value.as_ref().map(LitStr::value);
    Ok(match content {
        Content::Manual => {
            if let Some(pattern) = &attr.filter {
                return Err(syn::Error::new(
                    pattern.span(),
                    "`filter` needs `#[group(content = \"text\")]` or `\"json\"` on the struct",
                ));
            }
            Plan::Manual
        }
        Content::Text => Plan::Text(
            attr.filter
                .as_ref()
                .map(|pattern| {
                    filter::plan(&pattern.value(), references, kind != Kind::Info)
                        .map_err(|e| syn::Error::new(pattern.span(), e))
                })
                .transpose()?,
        ),
        Content::Xml => Plan::Xml(
            xml::plan(filter.as_deref(), value.as_deref(), references).map_err(path_error)?,
        ),
        Content::Json => Plan::Json(
            json::plan(filter.as_deref(), value.as_deref(), references).map_err(path_error)?,
        ),
    })
}

/// The metric type, read from the field type's name (`pme::Gauge<2>` → gauge).
/// A compile-time assertion (see [`type_check`]) confirms it through the
/// `pme::metric::Metric` trait, so a look-alike type cannot slip through.
fn kind_of(ty: &Type) -> syn::Result<Kind> {
    let last = match ty {
        Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    };
    match last.as_deref() {
        Some("Counter") => Ok(Kind::Counter),
        Some("Gauge") => Ok(Kind::Gauge),
        Some("Info") => Ok(Kind::Info),
        Some("Untyped") => Ok(Kind::Untyped),
        _ => Err(syn::Error::new(
            ty.span(),
            "a metric field must be `pme::Counter`, `pme::Gauge`, `pme::Info` or `pme::Untyped`",
        )),
    }
}

/// The constant takes the struct's visibility: a crate-private collector
/// gets crate-private descriptions.
fn desc_const(f: &Field<'_>, vis: &syn::Visibility) -> TokenStream {
    let name = f.attr.name.value();
    let help = f.attr.help.value();
    let header = Literal::byte_string(names::header(&name, &help, f.kind).as_bytes());
    let openmetrics_header =
        Literal::byte_string(names::openmetrics_header(&name, &help, f.kind).as_bytes());
    let shape = names::series_shape(&name, &f.constants, &f.dynamic);
    let pieces = shape
        .pieces
        .iter()
        .map(|p| Literal::byte_string(p.as_bytes()));
    let value_on_error = match f.attr.value_on_error {
        None => quote!(::core::option::Option::None),
        Some((v, _)) => {
            let v = float(v);
            quote!(::core::option::Option::Some(#v))
        }
    };
    let max_series = match &f.attr.max_series {
        None => quote!(::core::option::Option::None),
        Some(n) => quote!(::core::option::Option::Some(#n)),
    };
    let constant = &f.constant;
    let doc = format!(" The `{name}` family: {help}");
    quote_spanned! {f.attr.span=>
        #[doc = #doc]
        #vis const #constant: ::pme::__private::metric::MetricDesc = ::pme::__private::metric::MetricDesc {
            name: #name,
            header: #header,
            openmetrics_header: #openmetrics_header,
            pieces: &[#(#pieces),*],
            value_on_error: #value_on_error,
            max_series: #max_series,
        };
    }
}

/// Asserts at compile time that the field's type has the kind and label
/// count the attribute implies.
fn type_check(f: &Field<'_>) -> TokenStream {
    let ty = f.ty;
    let kind = format_ident!("{}", format!("{:?}", f.kind));
    let n = f.dynamic.len();
    let kind_msg = format!("field `{}` must have metric type {:?}", f.ident, f.kind);
    let labels_msg = format!(
        "field `{}` has {n} dynamic label(s), so its type needs `<{n}>`",
        f.ident
    );
    quote_spanned! {ty.span()=>
        const _: () = {
            ::core::assert!(
                ::core::matches!(<#ty as ::pme::__private::metric::Metric>::KIND, ::pme::__private::metric::Kind::#kind),
                #kind_msg
            );
            ::core::assert!(<#ty as ::pme::__private::metric::Metric>::LABELS == #n, #labels_msg);
        };
    }
}

fn extract(f: &Field<'_>) -> TokenStream {
    let shared = Shared::of(f);
    let (ident, constant, info, scale, value_map) = (
        f.ident,
        &f.constant,
        shared.info,
        &shared.scale,
        &shared.value_map,
    );
    match &f.plan {
        Plan::Manual => quote!(),
        Plan::Text(None) => quote! {
            errors.record(self.#ident.apply(::pme::__private::parsers::text::whole(input, #info, #scale, #value_map), &Self::#constant));
        },
        Plan::Text(Some(plan)) => text_extraction(f, plan, &shared),
        Plan::Xml(plan) => path_query(
            f,
            &shared,
            quote!(xml),
            quote!(XmlQuery),
            (&plan.filter, plan.value.as_deref(), plan.constant),
            xml_labels(plan),
        ),
        Plan::Json(plan) => path_query(
            f,
            &shared,
            quote!(json),
            quote!(JsonQuery),
            (&plan.filter, plan.value.as_deref(), plan.constant),
            json_labels(plan),
        ),
    }
}

/// What every kind of extraction of a field is told, as tokens.
struct Shared {
    info: bool,
    scale: TokenStream,
    match_all: bool,
    value_map: TokenStream,
}

impl Shared {
    fn of(f: &Field<'_>) -> Shared {
        let value_map = f.attr.value_map.iter().map(|(k, v)| {
            let v = float(*v);
            quote!((#k, #v))
        });
        Shared {
            info: f.kind == Kind::Info,
            scale: float(f.attr.scale.map_or(1.0, |(v, _)| v)),
            match_all: f.attr.match_all,
            value_map: quote!(&[#(#value_map),*]),
        }
    }
}

/// A regex filter's extraction: a static `TextFilter`, compiled on first use.
fn text_extraction(f: &Field<'_>, plan: &filter::FilterPlan, shared: &Shared) -> TokenStream {
    let (ident, constant) = (f.ident, &f.constant);
    let Shared {
        scale,
        match_all,
        value_map,
        ..
    } = shared;
    let pattern = f
        .attr
        .filter
        .as_ref()
        .map(LitStr::value)
        .unwrap_or_default();
    let value = match plan.value {
        Some(i) => quote!(::core::option::Option::Some(#i)),
        None => quote!(::core::option::Option::None),
    };
    let labels = plan.labels.iter().map(|template| {
        let parts = template.iter().map(|part| match part {
            Part::Literal(text) => {
                quote!(::pme::__private::parsers::text::Part::Literal(#text))
            }
            Part::Capture(i) => quote!(::pme::__private::parsers::text::Part::Capture(#i)),
        });
        quote!(&[#(#parts),*])
    });
    quote! {
        {
            static FILTER: ::pme::__private::parsers::text::TextFilter = ::pme::__private::parsers::text::TextFilter {
                pattern: #pattern,
                compiled: ::std::sync::OnceLock::new(),
                value: #value,
                labels: &[#(#labels),*],
                match_all: #match_all,
                scale: #scale,
                value_map: #value_map,
            };
            errors.record(self.#ident.apply(::pme::__private::parsers::text::extract(&FILTER, input), &Self::#constant));
        }
    }
}

/// A JSON or XML extraction: both write one `PathQuery`; only the module,
/// the query type's name and the label parts differ.
fn path_query(
    f: &Field<'_>,
    shared: &Shared,
    module: TokenStream,
    query: TokenStream,
    (filter, value, fixed): (&str, Option<&str>, Option<f64>),
    labels: Vec<TokenStream>,
) -> TokenStream {
    let (ident, constant) = (f.ident, &f.constant);
    let Shared {
        info,
        scale,
        match_all,
        value_map,
    } = shared;
    let value = match value {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    };
    let fixed = match (info, fixed) {
        (true, _) => Some(1.0),
        (false, fixed) => fixed,
    };
    let fixed = match fixed {
        Some(v) => {
            let v = float(v);
            quote!(::core::option::Option::Some(#v))
        }
        None => quote!(::core::option::Option::None),
    };
    quote! {
        {
            static QUERY: ::pme::__private::parsers::#module::#query = ::pme::__private::parsers::#module::#query {
                filter: #filter,
                value: #value,
                labels: &[#(#labels),*],
                match_all: #match_all,
                scale: #scale,
                constant: #fixed,
                value_map: #value_map,
                compiled: ::std::sync::OnceLock::new(),
            };
            errors.record(self.#ident.apply(::pme::__private::parsers::#module::extract(&QUERY, &doc), &Self::#constant));
        }
    }
}

/// An XML plan's label templates as tokens.
fn xml_labels(plan: &xml::XmlPlan) -> Vec<TokenStream> {
    plan.labels
        .iter()
        .map(|template| {
            let parts = template.iter().map(|part| match part {
                XmlPart::Literal(text) => {
                    quote!(::pme::__private::parsers::xml::XmlPart::Literal(#text))
                }
                XmlPart::Path(path) => quote!(::pme::__private::parsers::xml::XmlPart::Path(#path)),
            });
            quote!(&[#(#parts),*])
        })
        .collect()
}

/// A JSON plan's label templates as tokens.
fn json_labels(plan: &json::JsonPlan) -> Vec<TokenStream> {
    plan.labels
        .iter()
        .map(|template| {
            let parts = template.iter().map(|part| match part {
                JsonPart::Literal(text) => {
                    quote!(::pme::__private::parsers::json::JsonPart::Literal(#text))
                }
                JsonPart::Key => quote!(::pme::__private::parsers::json::JsonPart::Key),
                JsonPart::Index => quote!(::pme::__private::parsers::json::JsonPart::Index),
                JsonPart::Path(path) => {
                    quote!(::pme::__private::parsers::json::JsonPart::Path(#path))
                }
                JsonPart::Root(path) => {
                    quote!(::pme::__private::parsers::json::JsonPart::Root(#path))
                }
            });
            quote!(&[#(#parts),*])
        })
        .collect()
}
