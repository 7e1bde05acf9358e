//! Which families of a re-imported exposition pme serves, and under which
//! names and labels: PromQL series selectors (as in federation's
//! `match[]`), renaming, prefixing and constant labels.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use regex::Regex;

use super::{Family, Format, MetricType, Sample, is_legacy_label_name, relabel};

/// `=`, `!=`, `=~`, `!~`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Matches the regex, anchored at both ends.
    Re,
    /// Does not match it.
    Nre,
}

/// One `label op "value"`.
#[derive(Clone, Debug)]
pub struct Matcher {
    /// The label (`__name__` for the family name).
    pub label: String,
    /// The comparison.
    pub op: Op,
    /// The value or pattern as written.
    pub value: String,
    regex: Option<Regex>,
}

impl Matcher {
    fn matches(&self, actual: &str) -> bool {
        match (self.op, &self.regex) {
            (Op::Eq, _) => actual == self.value,
            (Op::Ne, _) => actual != self.value,
            (Op::Re, Some(re)) => re.is_match(actual),
            (Op::Nre, Some(re)) => !re.is_match(actual),
            (_, None) => false,
        }
    }
}

/// A series selector: `name{label="v", other=~"re"}` or
/// `{__name__=~"node_.*"}`. The name is the family name as Prometheus
/// shows it (`x_total` for counters, `x_info` for infos); labels are
/// matched per sample, a missing label reading as `""`.
#[derive(Clone, Debug)]
pub struct Selector {
    /// Every matcher, the name's as `__name__`.
    pub matchers: Vec<Matcher>,
}

impl Selector {
    /// Parses a selector.
    ///
    /// # Errors
    /// What is wrong, with the byte offset where it starts.
    pub fn parse(text: &str) -> Result<Selector, String> {
        let mut p = SelectorParser { text, pos: 0 };
        let mut matchers = Vec::new();
        p.blanks();
        let name = p.word(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':');
        if !name.is_empty() {
            if name.as_bytes()[0].is_ascii_digit() {
                return Err(format!(
                    "at {}: a metric name cannot start with a digit",
                    p.pos
                ));
            }
            matchers.push(matcher("__name__", Op::Eq, name.to_owned())?);
        }
        p.blanks();
        if p.eat(b'{') {
            loop {
                p.blanks();
                if p.eat(b'}') {
                    break;
                }
                let at = p.pos;
                let label = p.word(|b| b.is_ascii_alphanumeric() || b == b'_');
                if !is_legacy_label_name(label) {
                    return Err(format!("at {at}: expected a label name"));
                }
                p.blanks();
                let op = if p.eat_str("=~") {
                    Op::Re
                } else if p.eat_str("!~") {
                    Op::Nre
                } else if p.eat_str("!=") {
                    Op::Ne
                } else if p.eat_str("=") {
                    Op::Eq
                } else {
                    return Err(format!(
                        "at {}: expected `=`, `!=`, `=~` or `!~` after `{label}`",
                        p.pos
                    ));
                };
                p.blanks();
                let value = p.string()?;
                if label == "__name__" && !name.is_empty() {
                    return Err(format!("at {at}: the metric name is given twice"));
                }
                if label == "le" || label == "quantile" {
                    return Err(format!(
                        "at {at}: `{label}` tells a histogram's or summary's samples apart; selecting by it would cut the family in pieces"
                    ));
                }
                matchers.push(matcher(label, op, value).map_err(|e| format!("at {at}: {e}"))?);
                p.blanks();
                if p.eat(b'}') {
                    break;
                }
                if !p.eat(b',') {
                    return Err(format!("at {}: expected `,` or `}}`", p.pos));
                }
            }
        }
        p.blanks();
        if p.pos < text.len() {
            return Err(format!("at {}: unexpected `{}`", p.pos, &text[p.pos..]));
        }
        if matchers.iter().all(|m| m.matches("")) {
            return Err(
                "the selector matches everything: name a metric or give a matcher that does not match the empty string"
                    .into(),
            );
        }
        Ok(Selector { matchers })
    }

    /// The family name, when the selector names exactly one.
    pub fn exact_name(&self) -> Option<&str> {
        self.matchers
            .iter()
            .find(|m| m.label == "__name__" && m.op == Op::Eq)
            .map(|m| m.value.as_str())
    }

    fn matches_family(&self, name: &str) -> bool {
        self.matchers
            .iter()
            .filter(|m| m.label == "__name__")
            .all(|m| m.matches(name))
    }

    fn matches_sample(&self, sample: &super::Sample<'_>) -> bool {
        self.matchers
            .iter()
            .filter(|m| m.label != "__name__")
            .all(|m| m.matches(sample.label(&m.label)))
    }
}

fn matcher(label: &str, op: Op, value: String) -> Result<Matcher, String> {
    let regex = match op {
        Op::Re | Op::Nre => Some(
            Regex::new(&format!("^(?:{value})$"))
                .map_err(|e| format!("invalid regex `{value}`: {e}"))?,
        ),
        _ => None,
    };
    Ok(Matcher {
        label: label.to_owned(),
        op,
        value,
        regex,
    })
}

struct SelectorParser<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> SelectorParser<'a> {
    fn blanks(&mut self) {
        while self
            .text
            .as_bytes()
            .get(self.pos)
            .is_some_and(u8::is_ascii_whitespace)
        {
            self.pos += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.text.as_bytes().get(self.pos) == Some(&b);
        self.pos += usize::from(hit);
        hit
    }

    fn eat_str(&mut self, s: &str) -> bool {
        let hit = self.text[self.pos..].starts_with(s);
        if hit {
            self.pos += s.len();
        }
        hit
    }

    fn word(&mut self, more: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        while self.text.as_bytes().get(self.pos).is_some_and(|b| more(*b)) {
            self.pos += 1;
        }
        &self.text[start..self.pos]
    }

    /// `"…"` or `'…'` with `\\`, `\"`/`\'`, `\n` escapes, as PromQL writes
    /// strings.
    fn string(&mut self) -> Result<String, String> {
        let at = self.pos;
        let quote = match self.text.as_bytes().get(self.pos) {
            Some(q @ (b'"' | b'\'')) => *q as char,
            _ => return Err(format!("at {at}: expected a quoted value")),
        };
        self.pos += 1;
        let mut out = String::new();
        let mut chars = self.text[self.pos..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, c)) => out.push(c),
                    None => break,
                },
                c if c == quote => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                c => out.push(c),
            }
        }
        Err(format!("at {at}: unterminated string"))
    }
}

/// One `metrics:` entry of a `content_type: prometheus` group, as the
/// generated code declares it.
#[derive(Debug)]
pub struct Import {
    /// The selector as written (checked at build time).
    pub select: &'static str,
    /// Compiled at first use.
    pub compiled: OnceLock<Selector>,
    /// The new family name (the selector names exactly one family).
    pub rename: Option<&'static str>,
    /// Put before every family name (the service's prefix included).
    pub prefix: &'static str,
    /// Labels added to every sample; a sample's own label of that name is
    /// kept as `exported_<name>`, as Prometheus does without
    /// `honor_labels`.
    pub labels: &'static [(&'static str, &'static str)],
    /// A sample's own label wins over a constant one of the same name.
    pub honor_labels: bool,
    /// `metric_relabel_configs`, applied after the constant labels.
    pub relabel: &'static [super::relabel::Rule],
    /// When a reading fails, every sample this import took takes this value.
    pub value_on_error: Option<f64>,
    /// The most samples a reading of this import keeps: the first ones;
    /// the rest are dropped and counted.
    pub max_series: Option<usize>,
}

impl Import {
    /// The compiled selector.
    ///
    /// # Panics
    /// If the selector does not parse, which the build has ruled out.
    pub fn selector(&self) -> &Selector {
        self.compiled.get_or_init(|| {
            Selector::parse(self.select)
                .unwrap_or_else(|e| panic!("selector `{}` passed the build: {e}", self.select))
        })
    }
}

/// The output of [`route`]: each family with the index of the import that
/// took it, plus one message per family that could not be served.
pub type Routed = (Vec<(usize, Family<'static>)>, Vec<String>);

/// Gives every sample to the first import whose selector matches it,
/// renames and relabels, and merges what lands under one name. A family
/// named like one of `reserved` (the spec's own metrics) is left out with
/// an error.
pub fn route(families: Vec<Family<'_>>, imports: &[Import], reserved: &[&str]) -> Routed {
    let mut out: Vec<(usize, Family<'static>)> = Vec::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut errors = Vec::new();
    for family in families {
        let shown = family.prometheus_name().into_owned();
        let candidates: Vec<usize> = (0..imports.len())
            .filter(|&i| imports[i].selector().matches_family(&shown))
            .collect();
        if candidates.is_empty() {
            continue;
        }
        let mut taken: Vec<Family<'static>> = candidates
            .iter()
            .map(|&i| renamed(&family, &imports[i]))
            .collect();
        let Family {
            name: old_name,
            samples,
            ..
        } = family;
        for sample in samples {
            if let Some(k) = candidates
                .iter()
                .position(|&i| imports[i].selector().matches_sample(&sample))
            {
                if sample
                    .timestamp
                    .is_some_and(|t| i64::try_from(t.millis()).is_err())
                {
                    // The text format writes int64 milliseconds.
                    errors.push(format!(
                        "`{}`: a timestamp out of the text format's range; the sample is left out",
                        sample.name
                    ));
                    continue;
                }
                let import = &imports[candidates[k]];
                let suffix = sample.name.strip_prefix(&*old_name).unwrap_or("");
                let name = format!("{}{suffix}", taken[k].name);
                let mut sample = sample.into_owned();
                sample.name = Cow::Owned(name);
                add_labels(&mut sample, import);
                match relabel::apply(import.relabel, &mut sample) {
                    Ok(true) => taken[k].samples.push(sample),
                    Ok(false) => {}
                    Err(e) => errors.push(format!("`{}`: {e}", sample.name)),
                }
            }
        }
        for (k, mut family) in taken.into_iter().enumerate() {
            if !imports[candidates[k]].relabel.is_empty() {
                drop_duplicates(&mut family, &mut errors);
            }
            if family.samples.is_empty() {
                continue;
            }
            let name = family.prometheus_name().into_owned();
            if reserved.contains(&name.as_str()) {
                errors.push(format!(
                    "`{name}` is also the name of a metric the spec declares; this family is left out"
                ));
                continue;
            }
            match by_name.get(&name) {
                Some(&j) if out[j].1.kind == family.kind => {
                    out[j].1.samples.extend(family.samples);
                }
                Some(_) => errors.push(format!(
                    "`{name}` arrives with two types; only the first is served"
                )),
                None => {
                    by_name.insert(name, out.len());
                    out.push((candidates[k], family));
                }
            }
        }
    }
    (out, errors)
}

/// The import's constant labels: a sample's own label of the same name
/// stays with `honor_labels`, and is kept as `exported_<name>` otherwise.
fn add_labels(sample: &mut Sample<'static>, import: &Import) {
    for (label, value) in import.labels {
        if let Some(existing) = sample.labels.iter_mut().find(|(n, _)| n == label) {
            if import.honor_labels {
                continue;
            }
            existing.0 = Cow::Owned(format!("exported_{label}"));
        }
        sample
            .labels
            .push((Cow::Borrowed(*label), Cow::Borrowed(*value)));
    }
}

/// Relabelling can leave two samples with one name and label set (a
/// dropped label told them apart): the first stays, the others are left
/// out and reported, never summed or overwritten.
fn drop_duplicates(family: &mut Family<'static>, errors: &mut Vec<String>) {
    let mut seen = HashSet::with_capacity(family.samples.len());
    let mut duplicates = 0usize;
    family.samples.retain(|sample| {
        let mut labels: Vec<(&str, &str)> =
            sample.labels.iter().map(|(n, v)| (&**n, &**v)).collect();
        labels.sort_unstable();
        let key = (sample.name.to_string(), format!("{labels:?}"));
        let first = seen.insert(key);
        duplicates += usize::from(!first);
        first
    });
    if duplicates > 0 {
        errors.push(format!(
            "`{}`: relabelling left {duplicates} sample(s) with the labels of an earlier one; they are left out",
            family.name
        ));
    }
}

/// An empty copy of `family` under the name `import` gives it.
fn renamed(family: &Family<'_>, import: &Import) -> Family<'static> {
    let base = match import.rename {
        Some(name) => family_name_for(name, family),
        None => family.name.to_string(),
    };
    Family {
        name: Cow::Owned(format!("{}{base}", import.prefix)),
        kind: family.kind,
        help: family.help.as_ref().map(|h| Cow::Owned(h.to_string())),
        unit: family.unit.as_ref().map(|u| Cow::Owned(u.to_string())),
        format: family.format,
        samples: Vec::new(),
    }
}

/// The family name behind a Prometheus-style name: an OpenMetrics counter
/// renamed `b_total` is the family `b`.
fn family_name_for(shown: &str, family: &Family<'_>) -> String {
    let suffix = match (family.format, family.kind) {
        (Format::OpenMetrics, MetricType::Counter) => "_total",
        (Format::OpenMetrics, MetricType::Info) => "_info",
        _ => "",
    };
    shown.strip_suffix(suffix).unwrap_or(shown).to_owned()
}
