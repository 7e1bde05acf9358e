//! Groups of collectors that read for themselves (`source_type: collector`
//! naming a Rust type, or `source_type: builtin` naming one of pme's):
//! what such a group may say, and its options as the generated code
//! writes them.
//!
//! Another crate's collector is checked where only rustc can: its
//! options become a struct literal of its `Options` type, so an unknown
//! option or a value of the wrong type fails `cargo build` in the
//! generated code, whose function for the group names the spec line.
//! Here: the type is a path, option names are Rust identifiers, and no
//! key of another source type is given.

use crate::diagnostic::Diagnostics;
use crate::spec::{Group, OptionKind, OptionValue, Sp};

/// Whether `g` is a collector's group.
pub(crate) fn is_collector(g: &Group) -> bool {
    g.source_type
        .as_ref()
        .is_some_and(|t| t.value == "builtin" || t.value == "collector")
}

/// The type a `source_type: collector` group names, without a leading
/// `::`, and its options; every problem is reported.
pub(crate) fn check(
    g: &Group,
    d: &mut Diagnostics,
) -> Option<(String, Vec<(String, crate::ir::OptionValue)>)> {
    let mut ok = refuse_source_keys(g, d);
    if let Some(source) = &g.source {
        d.error_help(
            source.pos(),
            "a `source_type: collector` group names its type with `collector`, not `source`",
            "write `collector: my_crate::MyCollector`",
        );
        ok = false;
    }
    let path = match &g.collector {
        Some(path) => type_path(path, d),
        None => {
            d.error_help(
                g.id.pos,
                format!("`{}` has no `collector`", g.id.value),
                "name the collector's Rust type, e.g. `collector: my_crate::MyCollector`",
            );
            None
        }
    };
    let mut options = Vec::new();
    for (key, v) in g.options.iter().flat_map(|(_, o)| o) {
        if syn::parse_str::<syn::Ident>(&key.value).is_err() {
            d.error_help(
                key.pos,
                format!("option `{}` is not a Rust field name", key.value),
                "each option sets the field of that name in the collector's options struct",
            );
            ok = false;
        }
        options.push((key.value.clone(), value(v)));
    }
    Some((path?, options)).filter(|_| ok)
}

/// `collector:` as a Rust type path (`my_crate::Conntrack`, `crate::x::Y`).
fn type_path(path: &Sp<String>, d: &mut Diagnostics) -> Option<String> {
    let parsed = syn::parse_str::<syn::Path>(&path.value).ok().filter(|p| {
        p.segments
            .iter()
            .all(|s| matches!(s.arguments, syn::PathArguments::None))
    });
    if parsed.is_none() {
        d.error_help(
            path.pos,
            format!("`{}` is not a Rust type path", path.value),
            "write the collector's type as `crate_name::Type`, without generic arguments",
        );
    }
    parsed.map(|_| path.value.trim_start_matches("::").to_owned())
}

/// An option as the IR holds it.
pub(crate) fn value(v: &OptionValue) -> crate::ir::OptionValue {
    use crate::ir::OptionValue as Ir;
    match &v.kind {
        OptionKind::Str(s) => Ir::Str(s.clone()),
        OptionKind::Int(i) => Ir::Int(*i),
        OptionKind::Float(f) => Ir::Float(*f),
        OptionKind::Bool(b) => Ir::Bool(*b),
        OptionKind::List(items) => Ir::List(items.iter().map(value).collect()),
    }
}

/// The group keys of other sources, which a collector does not read.
pub(crate) fn refuse_source_keys(g: &Group, d: &mut Diagnostics) -> bool {
    let not_here = [
        ("shell", g.shell.as_ref().map(|s| s.pos)),
        ("content_type", g.content_type.as_ref().map(|s| s.pos)),
        ("max_bytes", g.max_bytes.as_ref().map(|s| s.pos)),
        ("max_files", g.max_files.as_ref().map(|s| s.pos)),
        ("http", g.http.as_ref().map(|s| s.pos)),
        ("sample", g.sample.as_ref().map(|s| s.pos)),
        ("expect", g.expect.as_ref().map(|(pos, _)| *pos)),
    ];
    let mut ok = true;
    for (key, pos) in not_here {
        if let Some(pos) = pos {
            d.error_help(
                pos,
                format!("`{key}` does not apply to a collector"),
                "a collector reads for itself; only `source` (built-ins), `collector`, `options`, `labels`, `collection_frequency`, `timeout` and `enabled` apply",
            );
            ok = false;
        }
    }
    ok
}
