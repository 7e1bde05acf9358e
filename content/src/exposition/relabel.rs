//! `metric_relabel_configs` of a re-import: Prometheus' rules, with the
//! same keys and meaning, applied to each imported sample after its
//! constant labels are added.
//!
//! Actions: `replace` (the default), `keep`, `drop`, `labeldrop`,
//! `labelkeep`, `labelmap`. Regexes are RE2, anchored at both ends;
//! `replacement` expands `$1`, `${1}` and `${name}`. Unlike Prometheus, a
//! rule may not cut a histogram or summary in pieces or rename a family:
//! `le` and `quantile` cannot be a target, dropped or selected on, and
//! `__name__` cannot be a target (use `name` or `prefix`). [`check`] says
//! so at build time, for the spec's validator and the derive alike.

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::Regex;

use super::Sample;

/// What a rule does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Sets `target_label` from the source labels, where the regex matches.
    Replace,
    /// Keeps only samples whose source labels match.
    Keep,
    /// Drops samples whose source labels match.
    Drop,
    /// Removes labels whose name matches.
    LabelDrop,
    /// Removes labels whose name does not match (`le` and `quantile` stay).
    LabelKeep,
    /// Copies each label whose name matches to the name `replacement` gives.
    LabelMap,
}

impl Action {
    /// The action's name, as Prometheus spells it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Action::Replace => "replace",
            Action::Keep => "keep",
            Action::Drop => "drop",
            Action::LabelDrop => "labeldrop",
            Action::LabelKeep => "labelkeep",
            Action::LabelMap => "labelmap",
        }
    }

    /// Every action, as Prometheus spells them.
    pub const NAMES: &'static [&'static str] = &[
        "replace",
        "keep",
        "drop",
        "labeldrop",
        "labelkeep",
        "labelmap",
    ];

    /// The action as Prometheus spells it.
    ///
    /// # Errors
    /// An unknown action, with the known ones.
    pub fn parse(text: &str) -> Result<Action, String> {
        Ok(match text {
            "replace" => Action::Replace,
            "keep" => Action::Keep,
            "drop" => Action::Drop,
            "labeldrop" => Action::LabelDrop,
            "labelkeep" => Action::LabelKeep,
            "labelmap" => Action::LabelMap,
            other => {
                return Err(format!(
                    "unknown action `{other}`; expected `replace`, `keep`, `drop`, `labeldrop`, `labelkeep` or `labelmap` (hashmod and the keepequal family are not supported)"
                ));
            }
        })
    }
}

/// The defaults Prometheus gives a rule.
pub const DEFAULT_SEPARATOR: &str = ";";
/// `regex` when none is given.
pub const DEFAULT_REGEX: &str = "(.*)";
/// `replacement` when none is given.
pub const DEFAULT_REPLACEMENT: &str = "$1";

/// One rule, as the generated code declares it (defaults filled in).
#[derive(Debug)]
pub struct Rule {
    /// What it does.
    pub action: Action,
    /// Labels whose values, joined by `separator`, the regex is matched
    /// against (`replace`, `keep`, `drop`).
    pub source_labels: &'static [&'static str],
    /// Joins the source values.
    pub separator: &'static str,
    /// Unanchored as written; matched anchored.
    pub regex: &'static str,
    /// What `replace` and `labelmap` write.
    pub replacement: &'static str,
    /// The label `replace` sets.
    pub target_label: &'static str,
    /// Compiled at first use.
    pub compiled: OnceLock<Regex>,
}

impl Rule {
    fn regex(&self) -> &Regex {
        self.compiled.get_or_init(|| {
            anchored(self.regex)
                .unwrap_or_else(|e| panic!("regex `{}` passed the build: {e}", self.regex))
        })
    }
}

/// Labels that tell a histogram's or a summary's samples apart.
const STRUCTURAL: &[&str] = &["le", "quantile"];

fn anchored(regex: &str) -> Result<Regex, regex::Error> {
    Regex::new(&format!("^(?:{regex})$"))
}

/// A rule's parts as written, for [`check`].
#[derive(Debug, Clone, Copy)]
pub struct Parts<'a> {
    /// The action.
    pub action: Action,
    /// `source_labels`, empty when not given.
    pub source_labels: &'a [&'a str],
    /// `regex`, if given.
    pub regex: Option<&'a str>,
    /// `replacement`, if given.
    pub replacement: Option<&'a str>,
    /// `target_label`, if given.
    pub target_label: Option<&'a str>,
    /// Whether `separator` was given.
    pub separator: bool,
}

/// Checks a rule: its regex compiles, it has the keys its action needs
/// and no others, the replacement names only groups the regex has, and it
/// cannot cut a family in pieces or rename one.
///
/// # Errors
/// What is wrong, for the person who wrote it.
pub fn check(rule: &Parts<'_>) -> Result<(), String> {
    let regex = anchored(rule.regex.unwrap_or(DEFAULT_REGEX))
        .map_err(|e| format!("`regex` does not compile: {e}"))?;
    let uses_sources = matches!(rule.action, Action::Replace | Action::Keep | Action::Drop);
    let stray = [
        (
            "source_labels",
            !rule.source_labels.is_empty() && !uses_sources,
        ),
        ("separator", rule.separator && !uses_sources),
        (
            "target_label",
            rule.target_label.is_some() && rule.action != Action::Replace,
        ),
        (
            "replacement",
            rule.replacement.is_some()
                && !matches!(rule.action, Action::Replace | Action::LabelMap),
        ),
    ];
    if let Some((key, _)) = stray.iter().find(|(_, stray)| *stray) {
        return Err(format!(
            "`{key}` has no meaning for action `{}`",
            rule.action.name()
        ));
    }
    for label in rule.source_labels {
        if *label != "__name__" && !super::is_legacy_label_name(label) {
            return Err(format!("`{label}` in `source_labels` is not a label name"));
        }
    }
    match rule.action {
        Action::Replace => {
            let target = rule
                .target_label
                .ok_or("action `replace` needs a `target_label`")?;
            if !super::is_legacy_label_name(target) {
                return Err(format!("`target_label: {target}` is not a label name"));
            }
            if target == "__name__" {
                return Err("`target_label: __name__` would rename families; use the import's `name` or `prefix`".to_owned());
            }
            refuse_structural(target, "set")?;
        }
        Action::Keep | Action::Drop => {
            if rule.source_labels.is_empty() {
                return Err(format!(
                    "action `{}` needs `source_labels`",
                    rule.action.name()
                ));
            }
            if let Some(label) = rule
                .source_labels
                .iter()
                .find(|l| **l == "__name__" || STRUCTURAL.contains(l))
            {
                return Err(format!(
                    "`{label}` in `source_labels` of `{}` would keep part of a family; choose families with `select`",
                    rule.action.name()
                ));
            }
        }
        Action::LabelDrop | Action::LabelKeep | Action::LabelMap => {
            if rule.regex.is_none() {
                return Err(format!("action `{}` needs a `regex`", rule.action.name()));
            }
            if rule.action == Action::LabelDrop
                && let Some(label) = STRUCTURAL.iter().find(|l| regex.is_match(l))
            {
                return Err(format!(
                    "the regex matches `{label}`, which tells a histogram's or summary's samples apart"
                ));
            }
        }
    }
    if matches!(rule.action, Action::Replace | Action::LabelMap) {
        check_references(rule.replacement.unwrap_or(DEFAULT_REPLACEMENT), &regex)?;
    }
    Ok(())
}

fn refuse_structural(label: &str, what: &str) -> Result<(), String> {
    if STRUCTURAL.contains(&label) {
        return Err(format!(
            "a rule may not {what} `{label}`, which tells a histogram's or summary's samples apart"
        ));
    }
    Ok(())
}

/// Every `$1`, `${1}`, `$name`, `${name}` of `replacement` is a group of
/// `regex` (`$$` is a literal `$`).
fn check_references(replacement: &str, regex: &Regex) -> Result<(), String> {
    let groups = regex.captures_len();
    let mut rest = replacement;
    while let Some(at) = rest.find('$') {
        rest = &rest[at + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            rest = after;
            continue;
        }
        let (reference, tail) = match rest.strip_prefix('{') {
            Some(braced) => match braced.find('}') {
                Some(end) => (&braced[..end], &braced[end + 1..]),
                None => return Err("`replacement` has an unclosed `${`".to_owned()),
            },
            None => {
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                (&rest[..end], &rest[end..])
            }
        };
        rest = tail;
        if reference.is_empty() {
            continue;
        }
        let known = match reference.parse::<usize>() {
            Ok(n) => n < groups,
            Err(_) => regex.capture_names().flatten().any(|n| n == reference),
        };
        if !known {
            return Err(format!(
                "`replacement` refers to `${reference}`, which the regex does not capture"
            ));
        }
    }
    Ok(())
}

/// Applies `rules` in order; `Ok(false)` when a rule drops the sample.
///
/// # Errors
/// A `labelmap` gave a name that is not a label name, or one of `le`,
/// `quantile`: the sample is left out, with the reason.
pub fn apply(rules: &[Rule], sample: &mut Sample<'static>) -> Result<bool, String> {
    for rule in rules {
        let regex = rule.regex();
        match rule.action {
            Action::Replace => {
                let joined = joined(rule, sample);
                let Some(captures) = regex.captures(&joined) else {
                    continue;
                };
                let mut value = String::new();
                captures.expand(rule.replacement, &mut value);
                set(sample, rule.target_label, value);
            }
            Action::Keep | Action::Drop => {
                let matched = regex.is_match(&joined(rule, sample));
                if matched != (rule.action == Action::Keep) {
                    return Ok(false);
                }
            }
            Action::LabelDrop => sample.labels.retain(|(n, _)| !regex.is_match(n)),
            Action::LabelKeep => sample
                .labels
                .retain(|(n, _)| regex.is_match(n) || STRUCTURAL.contains(&&**n)),
            Action::LabelMap => {
                let mut copies = Vec::new();
                for (n, v) in &sample.labels {
                    if let Some(captures) = regex.captures(n) {
                        let mut new = String::new();
                        captures.expand(rule.replacement, &mut new);
                        if !super::is_legacy_label_name(&new) || STRUCTURAL.contains(&new.as_str())
                        {
                            return Err(format!(
                                "labelmap of `{n}` gives `{new}`, which may not be a label name here; the sample is left out"
                            ));
                        }
                        copies.push((new, v.clone()));
                    }
                }
                for (n, v) in copies {
                    set(sample, &n, v.into_owned());
                }
            }
        }
    }
    Ok(true)
}

fn joined(rule: &Rule, sample: &Sample<'_>) -> String {
    let values: Vec<&str> = rule
        .source_labels
        .iter()
        .map(|l| {
            if *l == "__name__" {
                &*sample.name
            } else {
                sample.label(l)
            }
        })
        .collect();
    values.join(rule.separator)
}

/// Sets label `name`; an empty value removes it, as in Prometheus.
fn set(sample: &mut Sample<'static>, name: &str, value: String) {
    let existing = sample.labels.iter().position(|(n, _)| n == name);
    match (existing, value.is_empty()) {
        (Some(i), true) => {
            sample.labels.remove(i);
        }
        (Some(i), false) => sample.labels[i].1 = Cow::Owned(value),
        (None, true) => {}
        (None, false) => sample
            .labels
            .push((Cow::Owned(name.to_owned()), Cow::Owned(value))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(
        action: Action,
        source_labels: &'static [&'static str],
        regex: &'static str,
        replacement: &'static str,
        target_label: &'static str,
    ) -> Rule {
        Rule {
            action,
            source_labels,
            separator: DEFAULT_SEPARATOR,
            regex,
            replacement,
            target_label,
            compiled: OnceLock::new(),
        }
    }

    fn sample(labels: &[(&'static str, &'static str)]) -> Sample<'static> {
        Sample {
            name: Cow::Borrowed("node_filesystem_avail_bytes"),
            labels: labels
                .iter()
                .map(|(n, v)| (Cow::Borrowed(*n), Cow::Borrowed(*v)))
                .collect(),
            value: 1.0,
            timestamp: None,
            exemplar: None,
        }
    }

    fn labels(s: &Sample<'_>) -> Vec<(String, String)> {
        s.labels
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn rules_act_as_prometheus_metric_relabel_configs() {
        let rules = [
            rule(Action::Replace, &["device"], "/dev/(.+)", "$1", "disk"),
            rule(
                Action::Replace,
                &["fstype", "disk"],
                "(.*);(.*)",
                "${1}:$2",
                "both",
            ),
            rule(Action::LabelDrop, &[], "device|instance", "", ""),
            rule(Action::LabelMap, &[], "exported_(.+)", "$1", ""),
            rule(Action::Replace, &["nothing"], "x", "y", "never"),
        ];
        let mut s = sample(&[
            ("device", "/dev/sda1"),
            ("fstype", "ext4"),
            ("instance", "a:9100"),
            ("exported_job", "node"),
        ]);
        assert_eq!(apply(&rules, &mut s), Ok(true));
        assert_eq!(
            labels(&s),
            [
                ("fstype".into(), "ext4".into()),
                ("exported_job".into(), "node".into()),
                ("disk".into(), "sda1".into()),
                ("both".into(), "ext4:sda1".into()),
                ("job".into(), "node".into()),
            ]
        );
    }

    #[test]
    fn keep_drop_and_labelkeep() {
        let drop_tmpfs = [rule(Action::Drop, &["fstype"], "tmpfs|overlay", "", "")];
        let mut tmpfs = sample(&[("fstype", "tmpfs")]);
        assert_eq!(apply(&drop_tmpfs, &mut tmpfs), Ok(false));
        let keep_ext4 = [rule(Action::Keep, &["fstype"], "ext4", "", "")];
        assert_eq!(
            apply(&keep_ext4, &mut sample(&[("fstype", "xfs")])),
            Ok(false)
        );
        assert_eq!(
            apply(&keep_ext4, &mut sample(&[("fstype", "ext4")])),
            Ok(true)
        );
        let keep_only = [rule(Action::LabelKeep, &[], "mode", "", "")];
        let mut s = sample(&[("cpu", "0"), ("mode", "idle"), ("le", "1")]);
        assert_eq!(apply(&keep_only, &mut s), Ok(true));
        assert_eq!(
            labels(&s),
            [("mode".into(), "idle".into()), ("le".into(), "1".into())]
        );
        // An empty replacement removes the target label.
        let clear = [rule(Action::Replace, &["cpu"], ".*", "", "cpu")];
        let mut s = sample(&[("cpu", "0")]);
        assert_eq!(apply(&clear, &mut s), Ok(true));
        assert!(s.labels.is_empty());
    }

    #[test]
    fn a_labelmap_to_an_invalid_name_leaves_the_sample_out() {
        let rules = [rule(Action::LabelMap, &[], "x_(.*)", "$1", "")];
        let err = apply(&rules, &mut sample(&[("x_1a", "v")])).unwrap_err();
        assert!(err.contains("`1a`"), "{err}");
        assert!(apply(&rules, &mut sample(&[("x_le", "v")])).is_err());
    }

    #[test]
    fn check_refuses_what_would_break_families_or_never_work() {
        let parts = |action, source_labels, regex, replacement, target_label| Parts {
            action,
            source_labels,
            regex,
            replacement,
            target_label,
            separator: false,
        };
        for (rule, reason) in [
            (
                parts(Action::Replace, &["a"], None, None, None),
                "needs a `target_label`",
            ),
            (
                parts(Action::Replace, &["a"], None, None, Some("__name__")),
                "rename families",
            ),
            (
                parts(Action::Replace, &["a"], None, None, Some("le")),
                "may not set `le`",
            ),
            (
                parts(Action::Replace, &["a"], Some("("), None, Some("b")),
                "does not compile",
            ),
            (
                parts(Action::Replace, &["a"], Some("(x)"), Some("$2"), Some("b")),
                "`$2`",
            ),
            (
                parts(
                    Action::Replace,
                    &["a"],
                    Some("(?P<h>x)"),
                    Some("${host}"),
                    Some("b"),
                ),
                "`$host`",
            ),
            (
                parts(Action::Replace, &["a-b"], None, None, Some("b")),
                "not a label name",
            ),
            (
                parts(Action::Drop, &[], Some("x"), None, None),
                "needs `source_labels`",
            ),
            (
                parts(Action::Drop, &["le"], Some("x"), None, None),
                "keep part of a family",
            ),
            (
                parts(Action::Keep, &["__name__"], Some("x"), None, None),
                "choose families with `select`",
            ),
            (
                parts(Action::LabelDrop, &[], Some("l.*"), None, None),
                "matches `le`",
            ),
            (
                parts(Action::LabelDrop, &[], None, None, None),
                "needs a `regex`",
            ),
            (
                parts(Action::LabelDrop, &["a"], Some("a"), None, None),
                "`source_labels` has no meaning",
            ),
            (
                parts(Action::LabelMap, &[], Some("a"), None, Some("b")),
                "`target_label` has no meaning",
            ),
        ] {
            let err = check(&rule).expect_err(reason);
            assert!(err.contains(reason), "{reason}: {err}");
        }
        let fine = parts(
            Action::Replace,
            &["a", "__name__"],
            Some("(?P<h>.+);(.*)"),
            Some("$h-${2}$$"),
            Some("b"),
        );
        assert_eq!(check(&fine), Ok(()));
        let hashmod = Action::parse("hashmod").unwrap_err();
        assert!(hashmod.contains("not supported"), "{hashmod}");
    }
}
