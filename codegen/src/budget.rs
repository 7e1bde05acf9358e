//! The cardinality budget: `exporter.max_series` bounds every series the
//! spec can serve. Each family's bound comes from the catalog (closed
//! labels, `max_series`); a family the source alone bounds cannot be kept
//! within a budget, and a sum over it fails the build at the limit.
//!
//! Collectors (built-in or from other crates) are not counted: their
//! families are fixed by their code, not by the spec.

use crate::catalog;
use crate::diagnostic::{Diagnostics, key_pos};
use crate::ir::Model;
use crate::spec::Sp;

/// Checks the spec's `max_series`, if it has one, against its families.
pub(crate) fn check(model: &Model, limit: Option<&Sp<u64>>, source: &str, d: &mut Diagnostics) {
    let Some(limit) = limit else { return };
    let families = catalog::families(model);
    let mut counted: Vec<(&str, u64)> = Vec::new();
    let mut bounded = true;
    for f in families.iter().filter(|f| f.kind != "collector") {
        match f.max_series {
            Some(n) => counted.push((f.name, n)),
            None => {
                bounded = false;
                d.error_help(
                    key_pos(source, f.line),
                    format!(
                        "`{}` has no bound on its series, so the spec's `max_series: {}` cannot hold",
                        f.name, limit.value
                    ),
                    "declare `max_series` on it (the first that many series are kept, the rest dropped and counted)",
                );
            }
        }
    }
    if !bounded {
        return;
    }
    let total = counted
        .iter()
        .fold(0u64, |sum, (_, n)| sum.saturating_add(*n));
    if total > limit.value {
        counted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let largest: Vec<String> = counted
            .iter()
            .take(3)
            .map(|(name, n)| format!("`{name}` {n}"))
            .collect();
        d.error_help(
            limit.pos,
            format!(
                "the spec can serve up to {total} series, more than its `max_series: {}`; the largest: {}",
                limit.value,
                largest.join(", ")
            ),
            "lower those families' `max_series`, or raise the budget",
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_budget_counts_each_bound_and_names_the_largest() {
        let spec = "exporter:\n  max_series: 10\nservices:\n  a:\n    metric_groups:\n      g:\n        source_type: command\n        source: echo\n        metrics:\n          many:\n            type: gauge\n            description: Many.\n            filter: '(?P<k>\\w+) (\\d+)'\n            match: all\n            max_series: 8\n            labels: {k: $k}\n          one:\n            type: gauge\n            description: One.\n            filter: '(\\d+)'\n";
        let ok = crate::check(spec, "s.yaml");
        assert!(ok.is_ok(), "{ok:?}");
        let over = spec.replace("max_series: 10", "max_series: 8");
        let errors = crate::check(&over, "s.yaml").unwrap_err();
        assert_eq!(
            errors[0].to_string(),
            "s.yaml:2:15: the spec can serve up to 9 series, more than its `max_series: 8`; the largest: `many` 8, `one` 1; help: lower those families' `max_series`, or raise the budget"
        );
        let unbounded = over.replace("            max_series: 8\n", "");
        let errors = crate::check(&unbounded, "s.yaml").unwrap_err();
        assert!(
            errors[0]
                .to_string()
                .starts_with("s.yaml:10:11: `many` has no bound on its series"),
            "{errors:?}"
        );
    }
}
