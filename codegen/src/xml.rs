//! XML filters: an absolute path in pme's XPath subset (see
//! `pme_content::xml`), an optional value path relative to each selected
//! element (or a number, the value of every element), and label templates
//! whose references are relative paths (`${@name}`, `${stats/@count}`,
//! `$child`) or absolute ones (`${/status/@version}`).

use pme_content::xml::parse_path;

/// One piece of an XML label template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum XmlPart {
    /// Text copied as is.
    Literal(String),
    /// A path relative to the selected element, or absolute when it
    /// starts with `/`.
    Path(String),
}

/// A checked XML extraction.
#[derive(Clone, Debug, PartialEq)]
pub struct XmlPlan {
    /// The absolute filter.
    pub filter: String,
    /// The relative value path, if any.
    pub value: Option<String>,
    /// A number given as the value: every series has it.
    pub constant: Option<f64>,
    /// One template per dynamic label.
    pub labels: Vec<Vec<XmlPart>>,
}

/// Checks the filter, value path and label templates of one XML metric.
pub fn plan(
    filter: Option<&str>,
    value: Option<&str>,
    labels: &[(String, Vec<(bool, String)>)],
) -> Result<XmlPlan, String> {
    let filter =
        filter.ok_or("an XML metric needs a `filter` path such as `/status/server/@load`")?;
    parse_path(filter, true).map_err(|e| format!("filter {e}"))?;
    let constant = value.and_then(crate::json::constant);
    let value = value.filter(|_| constant.is_none());
    if let Some(v) = value {
        parse_path(v, false).map_err(|e| format!("value path {e}"))?;
    }
    let mut templates = Vec::new();
    for (label, parts) in labels {
        let mut template = Vec::new();
        for (is_ref, text) in parts {
            if *is_ref {
                parse_path(text, text.starts_with('/'))
                    .map_err(|e| format!("path of label `{label}`: {e}"))?;
                template.push(XmlPart::Path(text.clone()));
            } else {
                template.push(XmlPart::Literal(text.clone()));
            }
        }
        templates.push(template);
    }
    Ok(XmlPlan {
        filter: filter.to_owned(),
        value: value.map(str::to_owned),
        constant,
        labels: templates,
    })
}
