//! `content_type: prometheus`: the `metrics:` entries of such a group
//! select families of the source instead of extracting values, so they
//! have their own keys and rules.

use std::collections::HashMap;

use pme_content::exposition::{Op, Selector};

use crate::diagnostic::{Diagnostics, Pos};
use crate::spec::{self, Sp};
use crate::{ir, names};

/// The output names one import can produce: one exact name, or names
/// starting with one of some prefixes.
#[derive(Clone, Debug)]
pub(crate) enum Output {
    Exact(String),
    Prefixed(Vec<String>),
}

/// The prefixes every name a selector's `__name__=~` regexes match starts
/// with (`node_` for `node_.*`); `[""]` when they can start with anything.
fn name_prefixes(selector: &Selector) -> Vec<String> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let mut best = vec![String::new()];
    for m in &selector.matchers {
        if m.label != "__name__" || m.op != Op::Re {
            continue;
        }
        let Ok(hir) = regex_syntax::Parser::new().parse(&m.value) else {
            continue;
        };
        let seq = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
        if let Some(literals) = seq.literals() {
            let found: Vec<String> = literals
                .iter()
                .map(|l| String::from_utf8_lossy(l.as_bytes()).into_owned())
                .collect();
            // Several regexes must all match: the longest prefixes say most.
            if found.iter().map(String::len).min() > best.iter().map(String::len).min() {
                best = found;
            }
        }
    }
    best
}

/// Where every import so far can put families, to find two groups that
/// could serve the same family name.
#[derive(Default)]
pub(crate) struct Outputs {
    seen: Vec<(String, Output, Pos)>,
}

impl Outputs {
    /// Whether an import serves the family `name` by its exact name.
    pub(crate) fn serves_exactly(&self, name: &str) -> bool {
        self.seen
            .iter()
            .any(|(_, output, _)| matches!(output, Output::Exact(n) if n == name))
    }

    fn claim(&mut self, group: &str, output: Output, pos: Pos, d: &mut Diagnostics) {
        let clash = self.seen.iter().find(|(g, other, _)| {
            g != group
                && match (&output, other) {
                    (Output::Exact(_), Output::Exact(_)) => false, // the family map reports these
                    (Output::Exact(n), Output::Prefixed(ps))
                    | (Output::Prefixed(ps), Output::Exact(n)) => {
                        ps.iter().any(|p| n.starts_with(p.as_str()))
                    }
                    (Output::Prefixed(a), Output::Prefixed(b)) => a.iter().any(|a| {
                        b.iter()
                            .any(|b| a.starts_with(b.as_str()) || b.starts_with(a.as_str()))
                    }),
                }
        });
        if let Some((other, _, at)) = clash {
            d.error_help(
                pos,
                format!(
                    "families imported here and by group `{other}` (line {}, column {}) could get the same names",
                    at.line, at.column
                ),
                "give one of them a `prefix` the other's names cannot start with, or select exact names",
            );
        }
        self.seen.push((group.to_owned(), output, pos));
    }
}

/// Keys of a metric that have no meaning for an import, with the reason.
const NOT_FOR_IMPORTS: &str = "re-imported families keep the type, HELP and values of the source";

/// Checks one `metrics:` entry of a prometheus group.
#[allow(clippy::too_many_arguments)]
pub(crate) fn import(
    m: &spec::Metric,
    group: &str,
    service_prefix: &str,
    service_labels: &[(Sp<String>, Sp<String>)],
    families: &mut HashMap<String, Pos>,
    outputs: &mut Outputs,
    d: &mut Diagnostics,
) -> Option<ir::Import> {
    let mut ok = true;
    let stray = [
        ("type", m.kind.as_ref().map(|k| k.pos)),
        ("description", m.description.as_ref().map(|k| k.pos)),
        ("filter", m.filter.as_ref().map(|k| k.pos)),
        ("value", m.value.as_ref().map(|k| k.pos)),
        ("match", m.match_mode.as_ref().map(|k| k.pos)),
        ("scale", m.scale.as_ref().map(|k| k.pos)),
        ("value_map", m.value_map.as_ref().map(|k| k.pos)),
    ];
    for (key, pos) in stray {
        if let Some(pos) = pos {
            d.error_help(
                pos,
                format!("`{key}` does not apply to `content_type: prometheus`"),
                format!("{NOT_FOR_IMPORTS}; an entry takes `select`, `name`, `prefix`, `labels` and `value_on_error`"),
            );
            ok = false;
        }
    }
    let Some(select) = &m.select else {
        d.error_help(
            m.id.pos,
            format!("import `{}` has no `select`", m.id.value),
            "name the families to serve with a series selector, e.g. `node_load1` or `{__name__=~\"node_(load|memory)_.*\"}`",
        );
        return None;
    };
    let selector = match Selector::parse(&select.value) {
        Ok(s) => Some(s),
        Err(e) => {
            d.error(
                select.pos,
                format!("invalid selector `{}`: {e}", select.value),
            );
            None
        }
    };
    let own_prefix = m.prefix.as_ref().map_or("", |p| p.value.as_str());
    if let Some(p) = &m.prefix
        && !p.value.is_empty()
        && names::check_metric_name(&format!("{}x", p.value)).is_err()
    {
        d.error(
            p.pos,
            format!("prefix `{}` cannot start a metric name", p.value),
        );
        ok = false;
    }
    let prefix = match service_prefix {
        "" => own_prefix.to_owned(),
        p if p.ends_with('_') => format!("{p}{own_prefix}"),
        p => format!("{p}_{own_prefix}"),
    };
    let exact = selector
        .as_ref()
        .and_then(|s| s.exact_name().map(str::to_owned));
    if let Some(name) = &m.name {
        if exact.is_none() && selector.is_some() {
            d.error_help(
                name.pos,
                "`name` renames one family, but the selector can match several",
                "select one family by name (`node_load1{…}`), or use `prefix`",
            );
            ok = false;
        }
        if let Err(e) = names::check_metric_name(&format!("{prefix}{}", name.value)) {
            d.error(name.pos, e);
            ok = false;
        }
    }
    let output = match (&m.name, &exact) {
        (Some(n), _) => Some(Output::Exact(format!("{prefix}{}", n.value))),
        (None, Some(e)) => Some(Output::Exact(format!("{prefix}{e}"))),
        (None, None) => selector.as_ref().map(|s| {
            Output::Prefixed(
                name_prefixes(s)
                    .into_iter()
                    .map(|p| format!("{prefix}{p}"))
                    .collect(),
            )
        }),
    };
    let at = m.name.as_ref().map_or(select.pos, |n| n.pos);
    match &output {
        Some(Output::Exact(name)) => {
            if crate::builtin::is_reserved(name) {
                d.error(at, format!("`{name}` is reserved for pme's self-metrics"));
                ok = false;
            } else if let Some(first) = families.get(name) {
                d.error_help(
                    at,
                    format!(
                        "duplicate metric family `{name}` (first defined at line {}, column {})",
                        first.line, first.column
                    ),
                    "every family must come from one metric; rename one of them",
                );
                ok = false;
            } else {
                families.insert(name.clone(), at);
            }
        }
        Some(Output::Prefixed(_)) | None => {}
    }
    if let Some(output) = output {
        outputs.claim(group, output, at, d);
    }
    let mut labels: Vec<(String, String)> = service_labels
        .iter()
        .map(|(n, v)| (n.value.clone(), v.value.clone()))
        .collect();
    for (name, value) in &m.labels {
        if let Err(e) = names::check_label_name(&name.value) {
            d.error(name.pos, e);
            ok = false;
        }
        if labels.iter().any(|(n, _)| *n == name.value) {
            d.error(name.pos, format!("label `{}` is already set", name.value));
            ok = false;
        }
        if value.value.contains('$') {
            d.error_help(
                value.pos,
                format!(
                    "label `{}`: imports take constant labels only, without `$`",
                    name.value
                ),
                "the source's own labels pass through unchanged",
            );
            ok = false;
        }
        labels.push((name.value.clone(), value.value.clone()));
    }
    selector?;
    ok.then(|| ir::Import {
        id: m.id.value.clone(),
        line: m.id.pos.line,
        select: select.value.clone(),
        rename: m.name.as_ref().map(|n| n.value.clone()),
        prefix,
        labels,
        value_on_error: m.value_on_error.as_ref().map(|v| v.value),
    })
}
