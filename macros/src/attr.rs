//! `#[group(...)]` and `#[metric(...)]` → typed attributes, with spanned
//! errors for unknown keys, duplicates and bad values.

use proc_macro2::Span;
use syn::punctuated::Punctuated;
use syn::{Attribute, LitStr, Token};

/// `#[group(content = "text", labels("host"))]`.
#[derive(Default)]
pub(crate) struct GroupAttr {
    /// The content type the group extracts from; `None` for collectors
    /// filled by hand.
    pub(crate) content: Option<LitStr>,
    /// `declared("a", ...)`: for `content = "prometheus"`, the names the
    /// spec declares, which imported families may not take.
    pub(crate) declared: Vec<LitStr>,
    /// `labels(...)`: labels every family of the group has, before its own.
    pub(crate) labels: Vec<(LitStr, Option<LitStr>)>,
}

/// `#[metric(name = .., help = .., labels(..), filter = .., match_all, value_on_error = .., scale = ..)]`.
pub(crate) struct MetricAttr {
    pub(crate) span: Span,
    pub(crate) name: LitStr,
    pub(crate) help: LitStr,
    /// `"name" = "value"` (a constant or a `$capture` template), or a bare
    /// `"name"` whose value the collector's own code sets.
    pub(crate) labels: Vec<(LitStr, Option<LitStr>)>,
    pub(crate) filter: Option<LitStr>,
    pub(crate) value: Option<LitStr>,
    pub(crate) match_all: bool,
    pub(crate) value_on_error: Option<(f64, Span)>,
    pub(crate) scale: Option<(f64, Span)>,
    /// `value_map("ok" = "1", ...)`: strings and the numbers they stand for.
    pub(crate) value_map: Vec<(String, f64)>,
    /// `max_series = 100`: the most series a reading keeps.
    pub(crate) max_series: Option<syn::LitInt>,
}

pub(crate) fn group(attrs: &[Attribute]) -> syn::Result<GroupAttr> {
    let mut out = GroupAttr::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("group")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("content") {
                set(&mut out.content, meta.value()?.parse()?, &meta.path)
            } else if meta.path.is_ident("declared") {
                let content;
                syn::parenthesized!(content in meta.input);
                out.declared
                    .extend(Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?);
                Ok(())
            } else if meta.path.is_ident("labels") {
                let content;
                syn::parenthesized!(content in meta.input);
                let pairs = Punctuated::<LabelPair, Token![,]>::parse_terminated(&content)?;
                out.labels
                    .extend(pairs.into_iter().map(|p| (p.name, p.value)));
                Ok(())
            } else {
                Err(meta.error("unknown `group` key; expected `content`, `declared` or `labels`"))
            }
        })?;
    }
    if let Some(content) = &out.content
        && content.value() != "text"
        && content.value() != "json"
        && content.value() != "xml"
        && content.value() != "prometheus"
    {
        return Err(syn::Error::new(
            content.span(),
            "unknown content type; expected `text`, `json`, `xml` or `prometheus`",
        ));
    }
    Ok(out)
}

/// The field's `#[metric]` attribute, or `None` if it has none.
pub(crate) fn metric(attrs: &[Attribute]) -> syn::Result<Option<MetricAttr>> {
    let Some(attr) = attrs.iter().find(|a| a.path().is_ident("metric")) else {
        return Ok(None);
    };
    if let Some(second) = attrs.iter().filter(|a| a.path().is_ident("metric")).nth(1) {
        return Err(syn::Error::new_spanned(
            second,
            "duplicate `#[metric]` attribute",
        ));
    }
    let (mut name, mut help, mut filter, mut value_on_error, mut scale) =
        (None, None, None, None, None);
    let mut value = None;
    let mut value_map: Option<Vec<(String, f64)>> = None;
    let mut labels: Option<Vec<(LitStr, Option<LitStr>)>> = None;
    let mut match_all = false;
    let mut max_series = None;
    attr.parse_nested_meta(|meta| {
        let path = &meta.path;
        if path.is_ident("name") {
            set(&mut name, meta.value()?.parse()?, path)
        } else if path.is_ident("help") {
            set(&mut help, meta.value()?.parse()?, path)
        } else if path.is_ident("filter") {
            set(&mut filter, meta.value()?.parse()?, path)
        } else if path.is_ident("value") {
            set(&mut value, meta.value()?.parse()?, path)
        } else if path.is_ident("match_all") {
            match_all = true;
            Ok(())
        } else if path.is_ident("value_on_error") {
            set(&mut value_on_error, number(meta.value()?.parse()?)?, path)
        } else if path.is_ident("max_series") {
            set(&mut max_series, count(meta.value()?.parse()?)?, path)
        } else if path.is_ident("scale") {
            let (factor, span) = number(meta.value()?.parse()?)?;
            if !factor.is_finite() || factor == 0.0 {
                return Err(syn::Error::new(span, "`scale` must be a finite, non-zero number"));
            }
            set(&mut scale, (factor, span), path)
        } else if path.is_ident("value_map") {
            let content;
            syn::parenthesized!(content in meta.input);
            let mut pairs = Vec::new();
            for pair in Punctuated::<LabelPair, Token![,]>::parse_terminated(&content)? {
                let number_text = pair.value.ok_or_else(|| syn::Error::new(pair.name.span(), "expected `\"string\" = \"number\"`"))?;
                let (number, _) = number(number_text)?;
                pairs.push((pair.name.value(), number));
            }
            set(&mut value_map, pairs, path)
        } else if path.is_ident("labels") {
            let content;
            syn::parenthesized!(content in meta.input);
            let pairs = Punctuated::<LabelPair, Token![,]>::parse_terminated(&content)?;
            set(&mut labels, pairs.into_iter().map(|p| (p.name, p.value)).collect(), path)
        } else {
            Err(meta.error(
                "unknown `metric` key; expected one of `name`, `help`, `labels`, `filter`, `value`, `match_all`, `value_on_error`, `scale`, `value_map`, `max_series`",
            ))
        }
    })?;
    let span = attr
        .path()
        .get_ident()
        .map_or_else(Span::call_site, syn::Ident::span);
    let missing =
        |key: &str| syn::Error::new_spanned(attr, format!("`#[metric]` needs `{key} = \"...\"`"));
    Ok(Some(MetricAttr {
        span,
        name: name.ok_or_else(|| missing("name"))?,
        help: help.ok_or_else(|| missing("help"))?,
        labels: labels.unwrap_or_default(),
        filter,
        value,
        match_all,
        value_on_error,
        scale,
        value_map: value_map.unwrap_or_default(),
        max_series,
    }))
}

/// A whole number above 0, as a `usize` literal.
fn count(lit: syn::LitInt) -> syn::Result<syn::LitInt> {
    match lit.base10_parse::<usize>() {
        Ok(n) if n > 0 => Ok(syn::LitInt::new(&format!("{n}usize"), lit.span())),
        _ => Err(syn::Error::new(
            lit.span(),
            "`max_series` must be a whole number above 0",
        )),
    }
}

/// `"label" = "value"` or `"label"` inside `labels(...)`.
struct LabelPair {
    name: LitStr,
    value: Option<LitStr>,
}

impl syn::parse::Parse for LabelPair {
    fn parse(input: syn::parse::ParseStream<'_>) -> syn::Result<Self> {
        let name = input.parse()?;
        let value = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            Some(input.parse()?)
        } else {
            None
        };
        Ok(LabelPair { name, value })
    }
}

/// A number written as a string, so `"NaN"` and `"+Inf"` can be spelt.
fn number(lit: LitStr) -> syn::Result<(f64, Span)> {
    pme_codegen::names::parse_value(&lit.value())
        .map(|v| (v, lit.span()))
        .ok_or_else(|| {
            syn::Error::new(
                lit.span(),
                "expected a number such as \"0\", \"-1.5\", \"NaN\" or \"+Inf\"",
            )
        })
}

fn set<T>(slot: &mut Option<T>, value: T, path: &syn::Path) -> syn::Result<()> {
    if slot.is_some() {
        return Err(syn::Error::new_spanned(path, "duplicate key"));
    }
    *slot = Some(value);
    Ok(())
}

/// `#[import(select = .., name = .., prefix = .., labels(..), honor_labels,
/// relabel(..)*, value_on_error = ..)]`.
pub(crate) struct ImportAttr {
    pub(crate) select: LitStr,
    pub(crate) name: Option<LitStr>,
    pub(crate) prefix: Option<LitStr>,
    pub(crate) labels: Vec<(LitStr, LitStr)>,
    pub(crate) honor_labels: bool,
    pub(crate) relabel: Vec<RelabelAttr>,
    pub(crate) value_on_error: Option<f64>,
    pub(crate) max_series: Option<syn::LitInt>,
}

/// `relabel(action = .., source_labels(..), separator = .., regex = ..,
/// replacement = .., target_label = ..)`: one of Prometheus'
/// `metric_relabel_configs`, keys as Prometheus names them.
pub(crate) struct RelabelAttr {
    pub(crate) span: Span,
    pub(crate) action: Option<LitStr>,
    pub(crate) source_labels: Vec<LitStr>,
    pub(crate) separator: Option<LitStr>,
    pub(crate) regex: Option<LitStr>,
    pub(crate) replacement: Option<LitStr>,
    pub(crate) target_label: Option<LitStr>,
}

fn relabel(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<RelabelAttr> {
    let mut rule = RelabelAttr {
        span: meta
            .path
            .get_ident()
            .map_or_else(Span::call_site, syn::Ident::span),
        action: None,
        source_labels: Vec::new(),
        separator: None,
        regex: None,
        replacement: None,
        target_label: None,
    };
    meta.parse_nested_meta(|key| {
        let path = &key.path;
        if path.is_ident("action") {
            set(&mut rule.action, key.value()?.parse()?, path)
        } else if path.is_ident("source_labels") {
            let content;
            syn::parenthesized!(content in key.input);
            rule.source_labels = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?
                .into_iter()
                .collect();
            Ok(())
        } else if path.is_ident("separator") {
            set(&mut rule.separator, key.value()?.parse()?, path)
        } else if path.is_ident("regex") {
            set(&mut rule.regex, key.value()?.parse()?, path)
        } else if path.is_ident("replacement") {
            set(&mut rule.replacement, key.value()?.parse()?, path)
        } else if path.is_ident("target_label") {
            set(&mut rule.target_label, key.value()?.parse()?, path)
        } else {
            Err(key.error(
                "unknown `relabel` key; expected one of `action`, `source_labels`, `separator`, `regex`, `replacement`, `target_label`",
            ))
        }
    })?;
    Ok(rule)
}

/// Every `#[import(...)]` attribute of a field, in order.
pub(crate) fn imports(attrs: &[Attribute]) -> syn::Result<Vec<ImportAttr>> {
    let mut out = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("import")) {
        let (mut select, mut name, mut prefix, mut labels, mut value_on_error) =
            (None, None, None, None, None);
        let (mut honor_labels, mut rules, mut max_series) = (false, Vec::new(), None);
        attr.parse_nested_meta(|meta| {
            let path = &meta.path;
            if path.is_ident("honor_labels") {
                honor_labels = true;
                Ok(())
            } else if path.is_ident("relabel") {
                rules.push(relabel(&meta)?);
                Ok(())
            } else if path.is_ident("select") {
                set(&mut select, meta.value()?.parse()?, path)
            } else if path.is_ident("name") {
                set(&mut name, meta.value()?.parse()?, path)
            } else if path.is_ident("prefix") {
                set(&mut prefix, meta.value()?.parse()?, path)
            } else if path.is_ident("value_on_error") {
                set(&mut value_on_error, number(meta.value()?.parse()?)?.0, path)
            } else if path.is_ident("max_series") {
                set(&mut max_series, count(meta.value()?.parse()?)?, path)
            } else if path.is_ident("labels") {
                let content;
                syn::parenthesized!(content in meta.input);
                let mut pairs = Vec::new();
                for pair in Punctuated::<LabelPair, Token![,]>::parse_terminated(&content)? {
                    let value = pair.value.ok_or_else(|| {
                        syn::Error::new(pair.name.span(), "imports take constant labels: `\"name\" = \"value\"`")
                    })?;
                    pairs.push((pair.name, value));
                }
                set(&mut labels, pairs, path)
            } else {
                Err(meta.error(
                    "unknown `import` key; expected one of `select`, `name`, `prefix`, `labels`, `honor_labels`, `relabel`, `value_on_error`, `max_series`",
                ))
            }
        })?;
        out.push(ImportAttr {
            select: select.ok_or_else(|| {
                syn::Error::new_spanned(attr, "`#[import]` needs `select = \"...\"`")
            })?,
            name,
            prefix,
            labels: labels.unwrap_or_default(),
            honor_labels,
            relabel: rules,
            value_on_error,
            max_series,
        });
    }
    Ok(out)
}
