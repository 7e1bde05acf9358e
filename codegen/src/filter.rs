//! Text filters: a regex whose captures give the value and label values.
//!
//! The plan is computed at build time, so the runtime never looks a capture
//! up by name: label values are templates of literal text and capture
//! indices, and the value is one capture index.

/// One piece of a label value template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// Text copied as is.
    Literal(String),
    /// The text of this capture group (by index).
    Capture(usize),
}

/// How a filter turns one match into a series.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterPlan {
    /// The capture holding the value: the group named `value`, else the only
    /// unnamed group, else the whole match (index 0). `None` for info metrics.
    pub value: Option<usize>,
    /// One template per dynamic label, in the order the labels were declared.
    pub labels: Vec<Vec<Part>>,
}

/// Splits a label value into a template. `$name` and `${name}` refer to a
/// capture group; `$$` is a literal `$`. Returns `None` for a plain constant.
pub fn parse_template(value: &str) -> Result<Option<Vec<(bool, String)>>, String> {
    if !value.contains('$') {
        return Ok(None);
    }
    let mut parts: Vec<(bool, String)> = Vec::new();
    let mut literal = String::new();
    let mut rest = value;
    while let Some(i) = rest.find('$') {
        literal.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix('$') {
            literal.push('$');
            rest = r;
            continue;
        }
        let (name, after) = if let Some(r) = rest.strip_prefix('{') {
            let end = r.find('}').ok_or_else(|| {
                format!("unterminated `${{` in label value `{value}`; help: close it with `}}`")
            })?;
            (&r[..end], &r[end + 1..])
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            (&rest[..end], &rest[end..])
        };
        if name.is_empty() {
            return Err(format!(
                "`$` in label value `{value}` is not followed by a capture name; help: write `$$` for a literal `$`"
            ));
        }
        if !literal.is_empty() {
            parts.push((false, std::mem::take(&mut literal)));
        }
        parts.push((true, name.to_owned()));
        rest = after;
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        parts.push((false, literal));
    }
    Ok(Some(parts))
}

/// Compiles `pattern` and plans the extraction for the given dynamic labels
/// (`(label, template)` pairs from [`parse_template`]).
///
/// Every named capture other than `value` must be used by a label, and
/// every capture a label names must exist, so the spec and the regex cannot
/// silently disagree.
pub fn plan(
    pattern: &str,
    labels: &[(String, Vec<(bool, String)>)],
    wants_value: bool,
) -> Result<FilterPlan, String> {
    let re = regex::Regex::new(pattern).map_err(|e| {
        let detail = e.to_string();
        let detail = detail.lines().last().unwrap_or(&detail).trim().to_owned();
        format!(
            "filter `{pattern}` does not compile: {}",
            detail.trim_start_matches("error: ")
        )
    })?;
    let names: Vec<Option<&str>> = re.capture_names().collect();
    let index_of = |name: &str| names.iter().position(|n| *n == Some(name));

    let value = if !wants_value {
        None
    } else if let Some(i) = index_of("value") {
        Some(i)
    } else {
        let unnamed: Vec<usize> = (1..names.len()).filter(|&i| names[i].is_none()).collect();
        match unnamed.as_slice() {
            [] => Some(0),
            [one] => Some(*one),
            _ => {
                return Err(format!(
                    "filter `{pattern}` has {} unnamed capture groups, so the value is ambiguous; help: name the value `(?P<value>...)` and make the others non-capturing `(?:...)`",
                    unnamed.len()
                ));
            }
        }
    };

    let mut used = vec![false; names.len()];
    let mut templates = Vec::new();
    for (label, parts) in labels {
        let mut template = Vec::new();
        for (is_capture, text) in parts {
            if !is_capture {
                template.push(Part::Literal(text.clone()));
                continue;
            }
            let i = index_of(text).ok_or_else(|| {
                let known: Vec<String> = names.iter().flatten().filter(|n| **n != "value").map(|n| format!("`{n}`")).collect();
                let known = if known.is_empty() { "none".to_owned() } else { known.join(", ") };
                format!(
                    "label `{label}` uses capture `{text}`, which filter `{pattern}` does not have; help: named captures in the filter: {known}"
                )
            })?;
            used[i] = true;
            template.push(Part::Capture(i));
        }
        templates.push(template);
    }
    for (i, name) in names.iter().enumerate() {
        if let Some(name) = name
            && *name != "value"
            && !used[i]
        {
            return Err(format!(
                "capture `{name}` in filter `{pattern}` is not used by any label; help: use it in a label value as `${name}`, or make the group non-capturing `(?:...)`"
            ));
        }
    }
    Ok(FilterPlan {
        value,
        labels: templates,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(v: &str) -> Vec<(bool, String)> {
        parse_template(v).unwrap().unwrap()
    }

    #[test]
    fn parses_templates() {
        assert_eq!(parse_template("plain").unwrap(), None);
        assert_eq!(t("$dev"), vec![(true, "dev".into())]);
        assert_eq!(
            t("/dev/${dev}x"),
            vec![
                (false, "/dev/".into()),
                (true, "dev".into()),
                (false, "x".into())
            ]
        );
        assert_eq!(t("$$5 $a"), vec![(false, "$5 ".into()), (true, "a".into())]);
        assert!(parse_template("${dev").is_err());
        assert!(parse_template("a $ b").is_err());
    }

    #[test]
    fn picks_the_value_capture() {
        assert_eq!(plan(r"\d+", &[], true).unwrap().value, Some(0));
        assert_eq!(plan(r"x=(\d+)", &[], true).unwrap().value, Some(1));
        assert_eq!(
            plan(r"(a)|(?P<value>\d+)", &[], true).unwrap().value,
            Some(2)
        );
        assert!(
            plan(r"(a)(b)", &[], true)
                .unwrap_err()
                .contains("ambiguous")
        );
    }

    #[test]
    fn matches_captures_to_labels() {
        let labels = vec![("mount".to_owned(), t("$m"))];
        let p = plan(r"(?P<m>\S+) (\d+)", &labels, true).unwrap();
        assert_eq!(p.value, Some(2));
        assert_eq!(p.labels, vec![vec![Part::Capture(1)]]);
        assert!(
            plan(r"(?P<m>\S+) (\d+)", &[], true)
                .unwrap_err()
                .contains("not used by any label")
        );
        assert!(
            plan(r"(\d+)", &labels, true)
                .unwrap_err()
                .contains("does not have")
        );
        assert!(
            plan(r"(", &[], true)
                .unwrap_err()
                .contains("does not compile")
        );
    }
}
