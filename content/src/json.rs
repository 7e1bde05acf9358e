//! `content_type: json`: RFC 9535 JSONPath filters.
//!
//! A group's reading is parsed once ([`parse`]); every family then runs its
//! query on that one document. A query selects nodes: the first (or, with
//! `match: all`, each) becomes a series, its value read from the node or
//! from a path relative to it (or a constant), its labels from relative
//! paths, paths from the root, the node's member name (`$key`) or array
//! index (`$index`).

use serde_json::Value;
use serde_json_path::{JsonPath, PathElement};

use crate::query::PathQuery;
use crate::text::parse_value;
use crate::{Row, Series};

/// One family's query over JSON, written by the derive: JSONPath filter,
/// value and label paths, compiled on first use (the paths were validated
/// at build time).
pub type JsonQuery = PathQuery<JsonPart, Compiled>;

/// One piece of a label template.
#[derive(Debug)]
pub enum JsonPart {
    /// Literal text.
    Literal(&'static str),
    /// The selected node's member name in its parent object.
    Key,
    /// The selected node's index in its parent array.
    Index,
    /// A path relative to the selected node (written starting at `$`).
    Path(&'static str),
    /// A path from the document root (`${$.location}`), the same for every
    /// selected node.
    Root(&'static str),
}

/// The compiled paths of a [`JsonQuery`].
#[derive(Debug)]
pub struct Compiled {
    filter: JsonPath,
    value: Option<JsonPath>,
    /// Per label, per part: the compiled path of `Path` parts.
    labels: Vec<Vec<Option<JsonPath>>>,
}

fn compile(path: &str) -> JsonPath {
    JsonPath::parse(path).expect("JSONPath validated by pme-codegen at build time")
}

impl JsonQuery {
    fn compiled(&self) -> &Compiled {
        self.compiled.get_or_init(|| Compiled {
            filter: compile(self.filter),
            value: self.value.map(compile),
            labels: self
                .labels
                .iter()
                .map(|parts| {
                    parts
                        .iter()
                        .map(|p| {
                            if let JsonPart::Path(p) | JsonPart::Root(p) = p {
                                Some(compile(p))
                            } else {
                                None
                            }
                        })
                        .collect()
                })
                .collect(),
        })
    }
}

/// Parses a reading as JSON.
///
/// # Errors
/// The content is not valid JSON (or not UTF-8), with line and column.
pub fn parse(input: &[u8]) -> Result<Value, String> {
    serde_json::from_slice(input).map_err(|e| format!("invalid JSON: {e}"))
}

/// Runs `query` on `doc`.
///
/// # Errors
/// Nothing selected (first-match mode), a value that is not a number, a
/// label path that selects nothing or a non-scalar, two series with the
/// same labels.
pub fn extract<const N: usize>(query: &JsonQuery, doc: &Value) -> Result<Vec<Series<N>>, String> {
    crate::into_series(extract_rows(query, doc)?)
}

/// [`extract`] with labels in a `Vec`, for callers that do not know `N`.
///
/// # Errors
/// As [`extract`].
pub fn extract_rows(query: &JsonQuery, doc: &Value) -> Result<Vec<Row>, String> {
    let compiled = query.compiled();
    let nodes = compiled.filter.query_located(doc);
    if nodes.is_empty() && !query.match_all {
        return Err(format!("`{}` selected nothing", query.filter));
    }
    let take = if query.match_all { nodes.len() } else { 1 };
    let mut rows: Vec<Row> = Vec::with_capacity(take);
    for located in nodes.iter().take(take) {
        let node = located.node();
        let value = if let Some(constant) = query.constant {
            constant
        } else {
            let target = match &compiled.value {
                Some(path) => path.query(node).first().ok_or_else(|| {
                    format!(
                        "value path `@{}` selected nothing",
                        &query.value.unwrap_or("$")[1..]
                    )
                })?,
                None => node,
            };
            number(target, query.value_map)? * query.scale
        };
        let last = located.location().last();
        let mut labels: Vec<Box<str>> = Vec::with_capacity(query.labels.len());
        for (parts, paths) in query.labels.iter().zip(&compiled.labels) {
            let mut text = String::new();
            for (part, path) in parts.iter().zip(paths) {
                match (part, path, last) {
                    (JsonPart::Literal(s), _, _) => text.push_str(s),
                    (JsonPart::Key, _, Some(PathElement::Name(name))) => text.push_str(name),
                    (JsonPart::Index, _, Some(PathElement::Index(i))) => {
                        text.push_str(&i.to_string())
                    }
                    (JsonPart::Key, _, _) => {
                        return Err("`$key` used on a node that is not an object member".to_owned());
                    }
                    (JsonPart::Index, _, _) => {
                        return Err(
                            "`$index` used on a node that is not an array element".to_owned()
                        );
                    }
                    (JsonPart::Path(p), Some(path), _) => {
                        let v = path
                            .query(node)
                            .first()
                            .ok_or_else(|| format!("label path `@{}` selected nothing", &p[1..]))?;
                        text.push_str(&scalar_text(v)?);
                    }
                    (JsonPart::Root(p), Some(path), _) => {
                        let v = path
                            .query(doc)
                            .first()
                            .ok_or_else(|| format!("label path `{p}` selected nothing"))?;
                        text.push_str(&scalar_text(v)?);
                    }
                    (JsonPart::Path(_) | JsonPart::Root(_), None, _) => {
                        unreachable!("label paths are compiled")
                    }
                }
            }
            labels.push(text.into_boxed_str());
        }
        rows.push(Row { labels, value });
    }
    crate::unique(rows, "two selected nodes")
}

/// A JSON value as a sample value: numbers, booleans (1/0), numeric
/// strings; with a `value_map`, a scalar's text looked up in it.
fn number(v: &Value, value_map: &[(&str, f64)]) -> Result<f64, String> {
    if !value_map.is_empty() {
        return crate::to_value(scalar_text(v)?.as_bytes(), value_map);
    }
    match v {
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| format!("number {n} does not fit a float")),
        Value::Bool(b) => Ok(if *b { 1.0 } else { 0.0 }),
        Value::String(s) => parse_value(s.as_bytes()),
        Value::Null => Err("value is null".to_owned()),
        Value::Array(_) | Value::Object(_) => Err("value is not a scalar".to_owned()),
    }
}

/// A JSON scalar as label text: strings as they are, numbers and booleans
/// as JSON writes them.
fn scalar_text(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null => Err("label value is null".to_owned()),
        Value::Array(_) | Value::Object(_) => Err("label value is not a scalar".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(
        filter: &'static str,
        value: Option<&'static str>,
        labels: &'static [&'static [JsonPart]],
        match_all: bool,
    ) -> JsonQuery {
        JsonQuery {
            filter,
            value,
            labels,
            match_all,
            scale: 1.0,
            constant: None,
            value_map: &[],
            compiled: std::sync::OnceLock::new(),
        }
    }

    fn doc() -> Value {
        serde_json::json!({
            "up": true,
            "load": "0.5",
            "queues": [{"name": "a", "depth": 3}, {"name": "b", "depth": 5}],
            "disks": {"sda": {"used": 10}, "sdb": {"used": 20}},
            "nothing": null
        })
    }

    #[test]
    fn reads_scalars() {
        assert_eq!(
            extract::<0>(&query("$.up", None, &[], false), &doc()).unwrap()[0].value,
            1.0
        );
        assert_eq!(
            extract::<0>(&query("$.load", None, &[], false), &doc()).unwrap()[0].value,
            0.5
        );
        assert!(
            extract::<0>(&query("$.nothing", None, &[], false), &doc())
                .unwrap_err()
                .contains("null")
        );
        assert!(
            extract::<0>(&query("$.missing", None, &[], false), &doc())
                .unwrap_err()
                .contains("selected nothing")
        );
        assert!(
            extract::<0>(&query("$.queues", None, &[], false), &doc())
                .unwrap_err()
                .contains("not a scalar")
        );
    }

    #[test]
    fn iterates_arrays_with_relative_paths_and_indices() {
        static LABELS: &[&[JsonPart]] = &[
            &[JsonPart::Path("$.name")],
            &[JsonPart::Literal("#"), JsonPart::Index],
        ];
        let s = extract::<2>(&query("$.queues[*]", Some("$.depth"), LABELS, true), &doc()).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(
            (&*s[1].labels[0], &*s[1].labels[1], s[1].value),
            ("b", "#1", 5.0)
        );
    }

    #[test]
    fn labels_from_the_root_and_constant_values() {
        static LABELS: &[&[JsonPart]] = &[
            &[JsonPart::Literal("load-"), JsonPart::Root("$.load")],
            &[JsonPart::Path("$.name")],
        ];
        let mut q = query("$.queues[*]", None, LABELS, true);
        q.constant = Some(1.0);
        let s = extract::<2>(&q, &doc()).unwrap();
        assert_eq!(
            s.iter()
                .map(|s| (&*s.labels[0], &*s.labels[1], s.value))
                .collect::<Vec<_>>(),
            [("load-0.5", "a", 1.0), ("load-0.5", "b", 1.0)]
        );
        static MISSING: &[&[JsonPart]] = &[&[JsonPart::Root("$.nowhere")]];
        assert!(
            extract::<1>(&query("$.up", None, MISSING, false), &doc())
                .unwrap_err()
                .contains("`$.nowhere` selected nothing")
        );
    }

    #[test]
    fn iterates_objects_by_key() {
        static LABELS: &[&[JsonPart]] = &[&[JsonPart::Key]];
        let s = extract::<1>(&query("$.disks.*", Some("$.used"), LABELS, true), &doc()).unwrap();
        assert_eq!(
            s.iter()
                .map(|s| (&*s.labels[0], s.value))
                .collect::<Vec<_>>(),
            [("sda", 10.0), ("sdb", 20.0)]
        );
    }

    #[test]
    fn rejects_invalid_json() {
        assert!(parse(b"{\"a\": ").unwrap_err().starts_with("invalid JSON"));
        assert!(parse(b"\xff").is_err());
    }
}
