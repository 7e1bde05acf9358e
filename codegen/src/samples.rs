//! `sample:` and `expect:` — a group's filters run at build time, by the
//! same code that runs them at run time (`pme-content`), on an input written
//! in the spec; the series they yield must be exactly the ones `expect`
//! lists, or the build fails at the line that disagrees.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use pme_content::{Row, json as content_json, text as content_text, xml as content_xml};

use crate::diagnostic::{Diagnostics, Pos};
use crate::ir::{Content, Group, Metric};
use crate::names::Kind;
use crate::spec::Sp;
use crate::{filter, json, xml};

/// One series: family name, all labels, value.
type Series = (String, BTreeMap<String, String>, f64);

/// Checks `group` against its sample; reports every disagreement.
pub(crate) fn check(
    group: &Group,
    sample: &Sp<String>,
    expect: &[Sp<String>],
    expect_pos: Pos,
    d: &mut Diagnostics,
) {
    let Some(produced) = run(group, sample, "sample", d) else {
        return;
    };
    let mut expected = Vec::new();
    let mut readable = true;
    for line in expect {
        match parse_line(&line.value) {
            Ok(series) => expected.push((series, line)),
            Err(e) => {
                readable = false;
                d.error_help(
                    line.pos,
                    format!("`expect` line `{}`: {e}", line.value),
                    "write series as `/metrics` shows them: `name{label=\"value\"} 1.5`",
                );
            }
        }
    }
    for ((name, labels, value), line) in &expected {
        match produced.iter().find(|(n, l, _)| n == name && l == labels) {
            None => d.error_help(
                line.pos,
                format!(
                    "the sample of `{}` yields no series `{}`",
                    group.id,
                    show(name, labels, None)
                ),
                format!("it yields: {}", list(&produced)),
            ),
            Some((_, _, got)) if !same(*got, *value) => d.error(
                line.pos,
                format!(
                    "the sample of `{}` yields `{}`, not `{}`",
                    group.id,
                    show(name, labels, Some(*got)),
                    line.value
                ),
            ),
            Some(_) => {}
        }
    }
    // With an unreadable line, "not listed" would only repeat that error.
    for (name, labels, value) in produced.iter().filter(|_| readable) {
        if !expected
            .iter()
            .any(|((n, l, _), _)| n == name && l == labels)
        {
            d.error_help(
                expect_pos,
                format!(
                    "the sample of `{}` also yields `{}`, which `expect` does not list",
                    group.id,
                    show(name, labels, Some(*value))
                ),
                "list every series the sample yields",
            );
        }
    }
}

/// A `static` source's content is known at build time: every metric of
/// its group must extract from it, as it would at run time.
pub(crate) fn check_static(group: &Group, content: &Sp<String>, d: &mut Diagnostics) {
    let _ = run(group, content, "static value", d);
}

/// Every series the group's metrics extract from `input` (the group's
/// `what`: its sample, or its static value), or `None` (with
/// diagnostics) when extraction fails.
fn run(group: &Group, sample: &Sp<String>, what: &str, d: &mut Diagnostics) -> Option<Vec<Series>> {
    let input = sample.value.as_bytes();
    let fail = |d: &mut Diagnostics, e: String| {
        d.error(sample.pos, format!("the {what} of `{}`: {e}", group.id))
    };
    if group.content == Content::Prometheus {
        return imported(group, input).map_err(|e| fail(d, e)).ok();
    }
    let json = match group.content {
        Content::Json => match content_json::parse(input) {
            Ok(doc) => Some(doc),
            Err(e) => {
                fail(d, e);
                return None;
            }
        },
        _ => None,
    };
    let xml = match group.content {
        Content::Xml => match content_xml::parse(input) {
            Ok(doc) => Some(doc),
            Err(e) => {
                fail(d, e);
                return None;
            }
        },
        _ => None,
    };
    let mut all = Vec::new();
    let mut ok = true;
    for metric in &group.metrics {
        let (constants, dynamic) = split_labels(metric);
        let rows = match (&json, &xml) {
            (Some(doc), _) => json_rows(metric, &dynamic, doc),
            (_, Some(doc)) => xml_rows(metric, &dynamic, doc),
            _ => text_rows(metric, &dynamic, input),
        };
        match rows {
            Ok(rows) if metric.max_series.is_some_and(|max| rows.len() as u64 > max) => {
                d.error_help(
                    sample.pos,
                    format!(
                        "the {what} of `{}` yields {} series of `{}`, more than its `max_series: {}`",
                        group.id,
                        rows.len(),
                        metric.name,
                        metric.max_series.unwrap_or_default()
                    ),
                    "pme would serve only the first of them; raise `max_series`",
                );
                ok = false;
            }
            Ok(rows) => {
                for row in rows {
                    let mut labels: BTreeMap<String, String> = constants.iter().cloned().collect();
                    labels.extend(
                        dynamic
                            .iter()
                            .map(|(n, _)| n.clone())
                            .zip(row.labels.iter().map(|l| l.to_string())),
                    );
                    all.push((metric.name.clone(), labels, row.value));
                }
            }
            Err(e) => {
                d.error(
                    sample.pos,
                    format!(
                        "the {what} of `{}`: metric `{}`: {e}",
                        group.id, metric.name
                    ),
                );
                ok = false;
            }
        }
    }
    ok.then_some(all)
}

/// The series a `content_type: prometheus` group serves from `input`, as
/// `/metrics` shows them: the runtime's import, text output, read back.
fn imported(group: &Group, input: &[u8]) -> Result<Vec<Series>, String> {
    use pme_content::exposition::{self as expo, Format};
    let families = expo::parse(input, Format::detect(input), false).map_err(|e| e.to_string())?;
    let imports: Vec<expo::Import> = group
        .imports
        .iter()
        .map(|i| expo::Import {
            select: leak(&i.select),
            compiled: OnceLock::new(),
            rename: i.rename.as_deref().map(leak),
            prefix: leak(&i.prefix),
            labels: Box::leak(
                i.labels
                    .iter()
                    .map(|(n, v)| (leak(n), leak(v)))
                    .collect::<Vec<_>>()
                    .into_boxed_slice(),
            ),
            honor_labels: i.honor_labels,
            max_series: i
                .max_series
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
            relabel: Box::leak(
                i.relabel
                    .iter()
                    .map(|r| expo::relabel::Rule {
                        action: r.action,
                        source_labels: Box::leak(
                            r.source_labels
                                .iter()
                                .map(|l| leak(l))
                                .collect::<Vec<_>>()
                                .into_boxed_slice(),
                        ),
                        separator: leak(&r.separator),
                        regex: leak(&r.regex),
                        replacement: leak(&r.replacement),
                        target_label: leak(&r.target_label),
                        compiled: OnceLock::new(),
                    })
                    .collect::<Vec<_>>()
                    .into_boxed_slice(),
            ),
            value_on_error: i.value_on_error,
        })
        .collect();
    let (served, problems) = expo::route(families, &imports, &[]);
    if let Some(problem) = problems.first() {
        return Err(problem.clone());
    }
    let mut text = Vec::new();
    expo::write_text(&mut text, served.iter().map(|(_, family)| family));
    let read = expo::parse(&text, Format::Prometheus, true).map_err(|e| e.to_string())?;
    Ok(read
        .iter()
        .flat_map(|f| &f.samples)
        .map(|s| {
            let labels = s
                .labels
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
            (s.name.to_string(), labels, s.value)
        })
        .collect())
}

/// Constant labels (with values) and dynamic ones (with their templates).
#[expect(clippy::type_complexity, reason = "two plain lists of pairs")]
fn split_labels(metric: &Metric) -> (Vec<(String, String)>, Vec<(String, Vec<(bool, String)>)>) {
    let mut constants = Vec::new();
    let mut dynamic = Vec::new();
    for (name, value) in &metric.labels {
        match filter::parse_template(value).ok().flatten() {
            None => constants.push((name.clone(), value.clone())),
            Some(parts) if parts.iter().all(|(r, _)| !r) => {
                constants.push((name.clone(), parts.into_iter().map(|(_, t)| t).collect()));
            }
            Some(parts) => dynamic.push((name.clone(), parts)),
        }
    }
    (constants, dynamic)
}

fn text_rows(
    metric: &Metric,
    dynamic: &[(String, Vec<(bool, String)>)],
    input: &[u8],
) -> Result<Vec<Row>, String> {
    let info = metric.kind == Kind::Info;
    let scale = metric.scale.unwrap_or(1.0);
    let value_map = leak_map(&metric.value_map);
    let Some(pattern) = &metric.filter else {
        return content_text::whole_rows(input, info, scale, value_map);
    };
    let plan = filter::plan(pattern, dynamic, !info)?;
    let labels = leak_templates(&plan.labels, |p| match p {
        filter::Part::Literal(t) => content_text::Part::Literal(leak(t)),
        filter::Part::Capture(i) => content_text::Part::Capture(*i),
    });
    let filter = content_text::TextFilter {
        pattern: leak(pattern),
        compiled: OnceLock::new(),
        value: plan.value,
        labels,
        match_all: metric.match_all,
        scale,
        value_map,
    };
    content_text::extract_rows(&filter, input)
}

fn json_rows(
    metric: &Metric,
    dynamic: &[(String, Vec<(bool, String)>)],
    doc: &serde_json::Value,
) -> Result<Vec<Row>, String> {
    let plan = json::plan(metric.filter.as_deref(), metric.value.as_deref(), dynamic)?;
    let labels = leak_templates(&plan.labels, |p| match p {
        json::JsonPart::Literal(t) => content_json::JsonPart::Literal(leak(t)),
        json::JsonPart::Key => content_json::JsonPart::Key,
        json::JsonPart::Index => content_json::JsonPart::Index,
        json::JsonPart::Path(path) => content_json::JsonPart::Path(leak(path)),
        json::JsonPart::Root(path) => content_json::JsonPart::Root(leak(path)),
    });
    let query = content_json::JsonQuery {
        filter: leak(&plan.filter),
        value: plan.value.as_deref().map(leak),
        labels,
        match_all: metric.match_all,
        scale: metric.scale.unwrap_or(1.0),
        constant: if metric.kind == Kind::Info {
            Some(1.0)
        } else {
            plan.constant
        },
        value_map: leak_map(&metric.value_map),
        compiled: OnceLock::new(),
    };
    content_json::extract_rows(&query, doc)
}

fn xml_rows(
    metric: &Metric,
    dynamic: &[(String, Vec<(bool, String)>)],
    doc: &roxmltree::Document<'_>,
) -> Result<Vec<Row>, String> {
    let plan = xml::plan(metric.filter.as_deref(), metric.value.as_deref(), dynamic)?;
    let labels = leak_templates(&plan.labels, |p| match p {
        xml::XmlPart::Literal(t) => content_xml::XmlPart::Literal(leak(t)),
        xml::XmlPart::Path(path) => content_xml::XmlPart::Path(leak(path)),
    });
    let query = content_xml::XmlQuery {
        filter: leak(&plan.filter),
        value: plan.value.as_deref().map(leak),
        labels,
        match_all: metric.match_all,
        scale: metric.scale.unwrap_or(1.0),
        constant: if metric.kind == Kind::Info {
            Some(1.0)
        } else {
            plan.constant
        },
        value_map: leak_map(&metric.value_map),
        compiled: OnceLock::new(),
    };
    content_xml::extract_rows(&query, doc)
}

// The runtime types borrow `'static` data (the generated code's literals);
// the build script is a short-lived process, so leaking is the simple way
// to lend it the same shape.
fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

/// Label templates of a build-time plan as the `'static` slices the
/// runtime query types hold.
fn leak_templates<P, Q>(templates: &[Vec<P>], part: impl Fn(&P) -> Q) -> &'static [&'static [Q]] {
    let leaked: Vec<&'static [Q]> = templates
        .iter()
        .map(|t| &*Box::leak(t.iter().map(&part).collect::<Vec<_>>().into_boxed_slice()))
        .collect();
    Box::leak(leaked.into_boxed_slice())
}

fn leak_map(map: &[(String, f64)]) -> &'static [(&'static str, f64)] {
    Box::leak(
        map.iter()
            .map(|(k, v)| (leak(k), *v))
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    )
}

/// Parses `name{a="x",b="y"} value` (the exposition syntax, escapes included).
fn parse_line(line: &str) -> Result<Series, String> {
    let line = line.trim();
    let name_end = line
        .find(|c: char| c == '{' || c.is_whitespace())
        .ok_or("no value")?;
    let name = &line[..name_end];
    crate::names::check_metric_name(name)?;
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(body) = rest.strip_prefix('{') {
        let mut chars = body.char_indices().peekable();
        loop {
            while chars
                .next_if(|(_, c)| *c == ',' || c.is_whitespace())
                .is_some()
            {}
            let Some(&(start, c)) = chars.peek() else {
                return Err("unclosed `{`".into());
            };
            if c == '}' {
                rest = &body[start + 1..];
                break;
            }
            let eq = body[start..].find('=').ok_or("a label without `=`")? + start;
            let label = body[start..eq].trim().to_owned();
            while chars.next_if(|(i, _)| *i <= eq).is_some() {}
            if chars.next().map(|(_, c)| c) != Some('"') {
                return Err(format!("the value of label `{label}` is not quoted"));
            }
            let mut value = String::new();
            loop {
                match chars.next() {
                    Some((_, '"')) => break,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, c)) => value.push(c),
                        None => return Err("unterminated label value".into()),
                    },
                    Some((_, c)) => value.push(c),
                    None => return Err("unterminated label value".into()),
                }
            }
            labels.insert(label, value);
        }
    }
    let value = rest.trim();
    let value =
        crate::names::parse_value(value).ok_or_else(|| format!("`{value}` is not a number"))?;
    Ok((name.to_owned(), labels, value))
}

fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

fn show(name: &str, labels: &BTreeMap<String, String>, value: Option<f64>) -> String {
    let mut text = name.to_owned();
    if !labels.is_empty() {
        let pairs: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", crate::names::escape_label_value(v)))
            .collect();
        text.push_str(&format!("{{{}}}", pairs.join(",")));
    }
    if let Some(v) = value {
        text.push_str(&format!(" {}", crate::names::format_value(v)));
    }
    text
}

fn list(series: &[Series]) -> String {
    if series.is_empty() {
        return "nothing".to_owned();
    }
    series
        .iter()
        .map(|(n, l, v)| format!("`{}`", show(n, l, Some(*v))))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_expected_lines() {
        let (name, labels, value) =
            parse_line(r#"disk_used{device="sda",path="/a \"b\""} 1.5"#).unwrap();
        assert_eq!((name.as_str(), value), ("disk_used", 1.5));
        assert_eq!(labels["path"], "/a \"b\"");
        assert_eq!(parse_line("up 1").unwrap().2, 1.0);
        assert!(parse_line("up{a=b} 1").is_err());
        assert!(parse_line("up").is_err());
        assert!(parse_line("up{a=\"b\"").is_err());
    }
}
