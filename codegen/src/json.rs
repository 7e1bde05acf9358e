//! JSON filters: an RFC 9535 JSONPath selecting nodes, an optional value
//! path relative to each node, and label templates.
//!
//! Label templates use the same `$name` / `${...}` syntax as text filters,
//! with four kinds of reference: `${@.path}` (a path relative to the
//! selected node), `${$.path}` (a path from the document root, the same for
//! every node), `$key` (the node's member name in its parent object) and
//! `$index` (its position in its parent array). A value is a relative path
//! or a number, the value of every selected node.

use serde_json_path::JsonPath;

/// One piece of a JSON label template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JsonPart {
    /// Text copied as is.
    Literal(String),
    /// The selected node's member name.
    Key,
    /// The selected node's array index.
    Index,
    /// A path relative to the selected node, rewritten to start with `$`.
    Path(String),
    /// A path from the document root.
    Root(String),
}

/// A checked JSON extraction.
#[derive(Clone, Debug, PartialEq)]
pub struct JsonPlan {
    /// The filter (`$` when none was given: the whole document).
    pub filter: String,
    /// The value path rewritten to start with `$`, if any.
    pub value: Option<String>,
    /// A number given as the value: every series has it.
    pub constant: Option<f64>,
    /// One template per dynamic label.
    pub labels: Vec<Vec<JsonPart>>,
}

/// Checks a JSONPath query; `what` names it in the message.
pub fn check_path(path: &str, what: &str) -> Result<(), String> {
    JsonPath::parse(path).map(|_| ()).map_err(|e| {
        let detail = e.to_string();
        format!("{what} `{path}` is not valid JSONPath (RFC 9535): {detail}")
    })
}

/// `@.a.b` → `$.a.b`, checked. Relative paths must start with `@`.
pub fn relative(path: &str, what: &str) -> Result<String, String> {
    let Some(rest) = path.strip_prefix('@') else {
        return Err(format!(
            "{what} `{path}` must be relative to the selected node; help: start it with `@`, as in `@.name`"
        ));
    };
    let absolute = format!("${rest}");
    check_path(&absolute, what)?;
    Ok(absolute)
}

/// Checks the filter, value path and label templates of one JSON metric.
pub fn plan(
    filter: Option<&str>,
    value: Option<&str>,
    labels: &[(String, Vec<(bool, String)>)],
) -> Result<JsonPlan, String> {
    let filter = filter.unwrap_or("$");
    if !filter.starts_with('$') {
        return Err(format!(
            "filter `{filter}` must start at the document root `$`"
        ));
    }
    check_path(filter, "filter")?;
    let constant = value.and_then(constant);
    let value = value
        .filter(|_| constant.is_none())
        .map(|v| relative(v, "value path"))
        .transpose()?;
    let mut templates = Vec::new();
    for (label, parts) in labels {
        let mut template = Vec::new();
        for (is_ref, text) in parts {
            template.push(match (is_ref, text.as_str()) {
                (false, _) => JsonPart::Literal(text.clone()),
                (true, "key") => JsonPart::Key,
                (true, "index") => JsonPart::Index,
                (true, path) if path.starts_with('@') => JsonPart::Path(relative(path, &format!("path of label `{label}`"))?),
                (true, path) if path.starts_with('$') => {
                    check_path(path, &format!("path of label `{label}`"))?;
                    JsonPart::Root(path.to_owned())
                }
                (true, other) => {
                    return Err(format!(
                        "label `{label}` refers to `{other}`; help: in JSON labels use `${{@.path}}`, `${{$.path}}`, `$key` or `$index`"
                    ));
                }
            });
        }
        templates.push(template);
    }
    Ok(JsonPlan {
        filter: filter.to_owned(),
        value,
        constant,
        labels: templates,
    })
}

/// A value that is a number rather than a path (`value: 1`).
pub fn constant(value: &str) -> Option<f64> {
    value.parse::<f64>().ok().filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parse_template;

    fn labels(pairs: &[(&str, &str)]) -> Vec<(String, Vec<(bool, String)>)> {
        pairs
            .iter()
            .map(|(l, v)| (l.to_string(), parse_template(v).unwrap().unwrap()))
            .collect()
    }

    #[test]
    fn plans_paths_and_templates() {
        let p = plan(
            Some("$.queues[*]"),
            Some("@.depth"),
            &labels(&[("q", "${@.name}"), ("k", "n-$key"), ("i", "$index")]),
        )
        .unwrap();
        assert_eq!(p.value.as_deref(), Some("$.depth"));
        assert_eq!(p.labels[0], vec![JsonPart::Path("$.name".into())]);
        assert_eq!(
            p.labels[1],
            vec![JsonPart::Literal("n-".into()), JsonPart::Key]
        );
        assert_eq!(p.labels[2], vec![JsonPart::Index]);
        let p = plan(
            Some("$.counter"),
            Some("1"),
            &labels(&[("at", "planet-${$.location}")]),
        )
        .unwrap();
        assert_eq!((p.value, p.constant), (None, Some(1.0)));
        assert_eq!(
            p.labels[0],
            vec![
                JsonPart::Literal("planet-".into()),
                JsonPart::Root("$.location".into())
            ]
        );
        assert_eq!(plan(None, None, &[]).unwrap().filter, "$");
    }

    #[test]
    fn rejects_bad_paths() {
        assert!(
            plan(Some("$.items["), None, &[])
                .unwrap_err()
                .contains("not valid JSONPath")
        );
        assert!(
            plan(Some("items"), None, &[])
                .unwrap_err()
                .contains("must start at the document root")
        );
        assert!(
            plan(Some("$"), Some("depth"), &[])
                .unwrap_err()
                .contains("start it with `@`")
        );
        assert!(
            plan(Some("$"), None, &labels(&[("q", "$name")]))
                .unwrap_err()
                .contains("`$key` or `$index`")
        );
    }
}
