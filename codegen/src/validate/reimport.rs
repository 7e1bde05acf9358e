//! The `metrics:` entries of a `content_type: prometheus` group: a
//! selector, an optional `name` or `prefix`, constant labels,
//! `honor_labels` and `metric_relabel_configs`. They keep the source's
//! types, HELP and values, so the keys for those are refused.

use pme_content::exposition::Selector;

use super::*;
use crate::imports::{Output, name_prefixes};

/// Why a metric's other keys have no meaning for an import.
const NOT_FOR_IMPORTS: &str = "re-imported families keep the type, HELP and values of the source";

impl Validator<'_> {
    /// Checks one `metrics:` entry of a prometheus group (`group` is
    /// `service.group`, for messages about two groups).
    pub(super) fn import(
        &mut self,
        m: &spec::Metric,
        group: &str,
        service: &ServiceContext<'_>,
    ) -> Option<ir::Import> {
        let mut ok = self.refuse_extraction_keys(m);
        let Some(select) = &m.select else {
            self.d.error_help(
                m.id.pos,
                format!("import `{}` has no `select`", m.id.value),
                "name the families to serve with a series selector, e.g. `node_load1` or `{__name__=~\"node_(load|memory)_.*\"}`",
            );
            return None;
        };
        let selector = match Selector::parse(&select.value) {
            Ok(s) => Some(s),
            Err(e) => {
                self.d.error(
                    select.pos,
                    format!("invalid selector `{}`: {e}", select.value),
                );
                None
            }
        };
        let (prefix, prefix_ok) = self.import_prefix(m, &service.prefix);
        ok &= prefix_ok;
        ok &= self.check_rename(m, selector.as_ref(), &prefix);
        let at = m.name.as_ref().map_or(select.pos, |n| n.pos);
        if let Some(output) = output_of(m, selector.as_ref(), &prefix) {
            if let Output::Exact(name) = &output {
                ok &= self.claim_import_name(name, at);
            }
            self.outputs.claim(group, output, at, self.d);
        }
        let (labels, labels_ok) = self.import_labels(m, &service.labels);
        ok &= labels_ok;
        let relabel = self.relabel_rules(m);
        ok &= relabel.is_some();
        if m.max_series.is_none() && selector.as_ref().is_some_and(|s| s.exact_name().is_none()) {
            self.d.warn(
                select.pos,
                format!(
                    "import `{}` selects families by pattern, so the source decides how many series it serves; help: declare `max_series` (the first that many are kept, the rest dropped and counted)",
                    m.id.value
                ),
            );
        }
        selector?;
        ok.then(|| ir::Import {
            id: m.id.value.clone(),
            line: m.id.pos.line,
            select: select.value.clone(),
            rename: m.name.as_ref().map(|n| n.value.clone()),
            prefix,
            labels,
            honor_labels: m.honor_labels.as_ref().is_some_and(|h| h.value),
            relabel: relabel.unwrap_or_default(),
            value_on_error: m.value_on_error.as_ref().map(|v| v.value),
            max_series: m.max_series.as_ref().map(|n| n.value),
        })
    }

    /// `metric_relabel_configs`: each rule checked by the code that runs
    /// it (`pme_content::exposition::relabel`), defaults filled in.
    fn relabel_rules(&mut self, m: &spec::Metric) -> Option<Vec<ir::RelabelRule>> {
        use pme_content::exposition::relabel::{self, Action};
        let Some((_, rules)) = &m.relabel else {
            return Some(Vec::new());
        };
        let mut out = Vec::with_capacity(rules.len());
        let mut ok = true;
        for rule in rules {
            let action = match &rule.action {
                None => Action::Replace,
                Some(a) => match Action::parse(&a.value) {
                    Ok(action) => action,
                    Err(e) => {
                        self.d.error(a.pos, e);
                        ok = false;
                        continue;
                    }
                },
            };
            let value = |s: &Option<Sp<String>>| s.as_ref().map(|s| s.value.clone());
            let sources: Vec<&str> = rule
                .source_labels
                .iter()
                .map(|l| l.value.as_str())
                .collect();
            let (regex, replacement, target) = (
                value(&rule.regex),
                value(&rule.replacement),
                value(&rule.target_label),
            );
            let checked = relabel::check(&relabel::Parts {
                action,
                source_labels: &sources,
                regex: regex.as_deref(),
                replacement: replacement.as_deref(),
                target_label: target.as_deref(),
                separator: rule.separator.is_some(),
            });
            if let Err(e) = checked {
                self.d.error_help(
                    rule.pos,
                    format!("relabel rule: {e}"),
                    "the rules are Prometheus' `metric_relabel_configs` (docs/spec.md, \"Relabelling\")",
                );
                ok = false;
                continue;
            }
            out.push(ir::RelabelRule {
                action,
                source_labels: rule.source_labels.iter().map(|l| l.value.clone()).collect(),
                separator: value(&rule.separator)
                    .unwrap_or_else(|| relabel::DEFAULT_SEPARATOR.to_owned()),
                regex: regex.unwrap_or_else(|| relabel::DEFAULT_REGEX.to_owned()),
                replacement: replacement.unwrap_or_else(|| relabel::DEFAULT_REPLACEMENT.to_owned()),
                target_label: target.unwrap_or_default(),
            });
        }
        ok.then_some(out)
    }

    /// The keys of an extracted metric, refused on an import.
    fn refuse_extraction_keys(&mut self, m: &spec::Metric) -> bool {
        let stray = [
            ("type", m.kind.as_ref().map(|k| k.pos)),
            ("description", m.description.as_ref().map(|k| k.pos)),
            ("filter", m.filter.as_ref().map(|k| k.pos)),
            ("value", m.value.as_ref().map(|k| k.pos)),
            ("match", m.match_mode.as_ref().map(|k| k.pos)),
            ("scale", m.scale.as_ref().map(|k| k.pos)),
            ("value_map", m.value_map.as_ref().map(|k| k.pos)),
        ];
        let mut ok = true;
        for (key, pos) in stray {
            if let Some(pos) = pos {
                self.d.error_help(
                    pos,
                    format!("`{key}` does not apply to `content_type: prometheus`"),
                    format!("{NOT_FOR_IMPORTS}; an entry takes `select`, `name`, `prefix`, `labels`, `value_on_error` and `max_series`"),
                );
                ok = false;
            }
        }
        ok
    }

    /// The service's prefix joined with the entry's own, and whether the
    /// entry's can start a metric name.
    fn import_prefix(&mut self, m: &spec::Metric, service_prefix: &str) -> (String, bool) {
        let own = m.prefix.as_ref().map_or("", |p| p.value.as_str());
        let mut ok = true;
        if let Some(p) = &m.prefix
            && !p.value.is_empty()
            && names::check_metric_name(&format!("{}x", p.value)).is_err()
        {
            self.d.error(
                p.pos,
                format!("prefix `{}` cannot start a metric name", p.value),
            );
            ok = false;
        }
        let prefix = match service_prefix {
            "" => own.to_owned(),
            p if p.ends_with('_') => format!("{p}{own}"),
            p => format!("{p}_{own}"),
        };
        (prefix, ok)
    }

    /// `name` renames exactly one family, to a valid name.
    fn check_rename(
        &mut self,
        m: &spec::Metric,
        selector: Option<&Selector>,
        prefix: &str,
    ) -> bool {
        let Some(name) = &m.name else {
            return true;
        };
        let mut ok = true;
        if selector.is_some_and(|s| s.exact_name().is_none()) {
            self.d.error_help(
                name.pos,
                "`name` renames one family, but the selector can match several",
                "select one family by name (`node_load1{…}`), or use `prefix`",
            );
            ok = false;
        }
        if let Err(e) = names::check_metric_name(&format!("{prefix}{}", name.value)) {
            self.d.error(name.pos, e);
            ok = false;
        }
        ok
    }

    /// Records the one family name an import serves; false when it is
    /// reserved or another metric has it.
    fn claim_import_name(&mut self, name: &str, at: Pos) -> bool {
        if builtin::is_reserved(name) {
            self.d
                .error(at, format!("`{name}` is reserved for pme's self-metrics"));
            return false;
        }
        self.claim(
            name,
            at,
            "every family must come from one metric; rename one of them",
        )
    }

    /// The service's labels, then the entry's constant ones.
    fn import_labels(
        &mut self,
        m: &spec::Metric,
        service_labels: &[(Sp<String>, Sp<String>)],
    ) -> (Vec<(String, String)>, bool) {
        let mut labels: Vec<(String, String)> = service_labels
            .iter()
            .map(|(n, v)| (n.value.clone(), v.value.clone()))
            .collect();
        let mut ok = true;
        for (name, value) in &m.labels {
            if let Err(e) = names::check_label_name(&name.value) {
                self.d.error(name.pos, e);
                ok = false;
            }
            if labels.iter().any(|(n, _)| *n == name.value) {
                self.d
                    .error(name.pos, format!("label `{}` is already set", name.value));
                ok = false;
            }
            if value.value.contains('$') {
                self.d.error_help(
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
        (labels, ok)
    }
}

/// The names an import can produce: its `name`, the selector's exact name,
/// or every name starting with the selector's name prefixes; all behind
/// `prefix`.
fn output_of(m: &spec::Metric, selector: Option<&Selector>, prefix: &str) -> Option<Output> {
    let exact = selector.and_then(|s| s.exact_name().map(str::to_owned));
    match (&m.name, exact) {
        (Some(n), _) => Some(Output::Exact(format!("{prefix}{}", n.value))),
        (None, Some(e)) => Some(Output::Exact(format!("{prefix}{e}"))),
        (None, None) => selector.map(|s| {
            Output::Prefixed(
                name_prefixes(s)
                    .into_iter()
                    .map(|p| format!("{prefix}{p}"))
                    .collect(),
            )
        }),
    }
}
