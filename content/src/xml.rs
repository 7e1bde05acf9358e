//! `content_type: xml`: a small XPath subset, parsed at build time (to
//! check the spec) and at first use (to run it), over a roxmltree document.
//!
//! The subset covers what exporters need:
//!
//! - absolute paths from the root: `/status/server`, descendants `//queue`,
//!   any element `*`;
//! - predicates: position `[2]`, `[last()]`, attribute value `[@name='x']`,
//!   attribute presence `[@name]`, child text `[state='up']`;
//! - a last step selecting an attribute `@depth` or the text `text()`;
//!   without one, an element's value is its text content;
//! - relative paths (for `value` and labels) from the selected element:
//!   `@id`, `name`, `stats/@count`, `text()`, `.`.
//!
//! Namespaces, axes other than child and descendant, functions other than
//! `text()` and `last()`, and arithmetic are not in the subset; paths using
//! them are rejected when the spec is built.

use roxmltree::{Document, Node};

use crate::query::PathQuery;
use crate::{Row, Series};

/// A parsed path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XPath {
    steps: Vec<Step>,
    terminal: Option<Terminal>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Step {
    descendant: bool,
    /// `None` for `*`.
    name: Option<String>,
    predicates: Vec<Predicate>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Predicate {
    Position(usize),
    Last,
    Attribute(String, Option<String>),
    Child(String, String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Terminal {
    Attribute(String),
    Text,
}

/// Parses a path: absolute (starting with `/`) when `absolute`, else
/// relative to an element.
///
/// # Errors
/// Syntax outside the subset, with the position.
pub fn parse_path(path: &str, absolute: bool) -> Result<XPath, String> {
    let err = |at: usize, what: &str| format!("`{path}` at position {}: {what}", at + 1);
    let bytes = path.as_bytes();
    let mut i = 0;
    let mut steps = Vec::new();
    let mut terminal = None;
    if absolute && !path.starts_with('/') {
        return Err(err(0, "an XML filter starts at the root with `/` or `//`"));
    }
    if !absolute && path.starts_with('/') {
        return Err(err(0, "a relative path cannot start with `/`"));
    }
    if !absolute && path == "." {
        return Ok(XPath { steps, terminal });
    }
    let mut first = true;
    while i < bytes.len() || first {
        let mut descendant = false;
        if absolute || !first {
            if bytes.get(i) != Some(&b'/') {
                return Err(err(i, "expected `/`"));
            }
            i += 1;
            if bytes.get(i) == Some(&b'/') {
                descendant = true;
                i += 1;
            }
        }
        first = false;
        let rest = &path[i..];
        if let Some(attr) = rest.strip_prefix('@') {
            let name = attr.split(['/', '[']).next().unwrap_or("");
            check_name(name).map_err(|e| err(i + 1, &e))?;
            if name.len() != attr.len() || descendant {
                return Err(err(i, "an attribute can only be the last step"));
            }
            terminal = Some(Terminal::Attribute(name.to_owned()));
            break;
        }
        if rest == "text()" {
            if descendant {
                return Err(err(
                    i,
                    "`//text()` is not in the subset; use `text()` after an element",
                ));
            }
            terminal = Some(Terminal::Text);
            break;
        }
        let end = rest.find(['/', '[']).unwrap_or(rest.len());
        let name = &rest[..end];
        let name = if name == "*" {
            None
        } else {
            check_name(name).map_err(|e| err(i, &e))?;
            Some(name.to_owned())
        };
        i += end;
        let mut predicates = Vec::new();
        while bytes.get(i) == Some(&b'[') {
            let close = path[i..].find(']').ok_or_else(|| err(i, "unclosed `[`"))? + i;
            predicates.push(parse_predicate(&path[i + 1..close]).map_err(|e| err(i + 1, &e))?);
            i = close + 1;
        }
        steps.push(Step {
            descendant,
            name,
            predicates,
        });
    }
    if absolute && steps.is_empty() {
        return Err(err(0, "select at least one element"));
    }
    Ok(XPath { steps, terminal })
}

fn parse_predicate(p: &str) -> Result<Predicate, String> {
    let p = p.trim();
    if p == "last()" {
        return Ok(Predicate::Last);
    }
    if p.contains('(') {
        return Err(format!(
            "predicate `[{p}]` calls a function; only `last()` is in the subset"
        ));
    }
    if let Ok(n) = p.parse::<usize>() {
        return if n == 0 {
            Err("positions count from 1".to_owned())
        } else {
            Ok(Predicate::Position(n))
        };
    }
    let (left, right) = match p.split_once('=') {
        Some((l, r)) => (l.trim(), Some(literal(r.trim())?)),
        None => (p, None),
    };
    match (left.strip_prefix('@'), right) {
        (Some(attr), value) => {
            check_name(attr)?;
            Ok(Predicate::Attribute(attr.to_owned(), value))
        }
        (None, Some(value)) => {
            check_name(left)?;
            Ok(Predicate::Child(left.to_owned(), value))
        }
        (None, None) => Err(format!(
            "predicate `[{p}]` is not in the subset (a position, `last()`, `@attr`, `@attr='v'` or `child='v'`)"
        )),
    }
}

fn literal(s: &str) -> Result<String, String> {
    for quote in ['\'', '"'] {
        if let Some(inner) = s.strip_prefix(quote).and_then(|r| r.strip_suffix(quote)) {
            return Ok(inner.to_owned());
        }
    }
    Err(format!("`{s}` is not a quoted string"))
}

fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || "_-.".contains(c));
    if ok {
        Ok(())
    } else if name.contains(':') {
        Err(format!("`{name}`: namespaces are not in the subset"))
    } else {
        Err(format!("`{name}` is not an element or attribute name"))
    }
}

/// What a path selects: elements, or strings (attributes, text).
#[derive(Clone, Debug)]
pub enum Item<'a, 'input> {
    /// An element.
    Element(Node<'a, 'input>),
    /// An attribute value or text.
    Text(String),
}

impl XPath {
    /// Evaluates from `context` (the document root node for absolute paths).
    pub fn select<'a, 'input>(&self, context: Node<'a, 'input>) -> Vec<Item<'a, 'input>> {
        let mut nodes = vec![context];
        for step in &self.steps {
            let mut next = Vec::new();
            for node in &nodes {
                // `//x` is `descendant-or-self::node()/child::x`: predicates
                // (positions above all) count among each parent's children.
                let parents: Vec<Node<'a, 'input>> = if step.descendant {
                    node.descendants().collect()
                } else {
                    vec![*node]
                };
                for parent in parents {
                    let mut selected: Vec<Node<'a, 'input>> =
                        parent.children().filter(|n| matches(step, n)).collect();
                    for predicate in &step.predicates {
                        selected = filter(selected, predicate);
                    }
                    next.extend(selected);
                }
            }
            // Node-sets are in document order, without repeats.
            next.sort_by_key(|n| n.id().get());
            next.dedup();
            nodes = next;
        }
        match &self.terminal {
            None => nodes.into_iter().map(Item::Element).collect(),
            Some(Terminal::Attribute(name)) => nodes
                .into_iter()
                .filter_map(|n| n.attribute(name.as_str()).map(|v| Item::Text(v.to_owned())))
                .collect(),
            Some(Terminal::Text) => nodes
                .into_iter()
                .map(|n| {
                    Item::Text(
                        n.children()
                            .filter(Node::is_text)
                            .filter_map(|t| t.text())
                            .collect(),
                    )
                })
                .collect(),
        }
    }
}

fn matches(step: &Step, node: &Node<'_, '_>) -> bool {
    node.is_element()
        && step
            .name
            .as_deref()
            .is_none_or(|name| node.tag_name().name() == name)
}

fn filter<'a, 'input>(
    nodes: Vec<Node<'a, 'input>>,
    predicate: &Predicate,
) -> Vec<Node<'a, 'input>> {
    match predicate {
        Predicate::Position(n) => nodes.get(n - 1).copied().into_iter().collect(),
        Predicate::Last => nodes.last().copied().into_iter().collect(),
        Predicate::Attribute(name, value) => nodes
            .into_iter()
            .filter(|n| {
                n.attribute(name.as_str())
                    .is_some_and(|v| value.as_deref().is_none_or(|want| v == want))
            })
            .collect(),
        Predicate::Child(name, value) => nodes
            .into_iter()
            .filter(|n| {
                n.children()
                    .any(|c| c.is_element() && c.tag_name().name() == name && text_of(&c) == *value)
            })
            .collect(),
    }
}

/// An element's string value: all its text, in document order.
fn text_of(node: &Node<'_, '_>) -> String {
    node.descendants()
        .filter(Node::is_text)
        .filter_map(|t| t.text())
        .collect()
}

fn item_text(item: &Item<'_, '_>) -> String {
    match item {
        Item::Element(n) => text_of(n),
        Item::Text(t) => t.clone(),
    }
}

/// One family's query over XML, written by the derive: XPath-subset
/// filter, value and label paths, parsed on first use (they were checked at
/// build time with [`parse_path`]).
pub type XmlQuery = PathQuery<XmlPart, Compiled>;

/// One piece of a label template.
#[derive(Debug)]
pub enum XmlPart {
    /// Literal text.
    Literal(&'static str),
    /// A path relative to the selected element, or from the root when it
    /// starts with `/` (the same for every selected element).
    Path(&'static str),
}

/// The parsed paths of an [`XmlQuery`].
#[derive(Debug)]
pub struct Compiled {
    filter: XPath,
    value: Option<XPath>,
    labels: Vec<Vec<Option<XPath>>>,
}

fn compile(path: &str, absolute: bool) -> XPath {
    parse_path(path, absolute).expect("XPath validated by pme-codegen at build time")
}

impl XmlQuery {
    fn compiled(&self) -> &Compiled {
        self.compiled.get_or_init(|| Compiled {
            filter: compile(self.filter, true),
            value: self.value.map(|v| compile(v, false)),
            labels: self
                .labels
                .iter()
                .map(|parts| {
                    parts
                        .iter()
                        .map(|p| {
                            if let XmlPart::Path(p) = p {
                                Some(compile(p, p.starts_with('/')))
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

/// Parses a reading as XML (UTF-8; DTDs refused, so no entity expansion).
///
/// # Errors
/// Not UTF-8, or not well-formed XML, with the position.
pub fn parse(input: &[u8]) -> Result<Document<'_>, String> {
    let text = std::str::from_utf8(input).map_err(|e| format!("invalid XML: not UTF-8 ({e})"))?;
    Document::parse(text).map_err(|e| format!("invalid XML: {e}"))
}

/// Runs `query` on `doc`.
///
/// # Errors
/// Nothing selected (first-match mode), a value that is not a number, a
/// label path that selects nothing, two series with the same labels.
pub fn extract<const N: usize>(
    query: &XmlQuery,
    doc: &Document<'_>,
) -> Result<Vec<Series<N>>, String> {
    crate::into_series(extract_rows(query, doc)?)
}

/// [`extract`] with labels in a `Vec`.
///
/// # Errors
/// As [`extract`].
pub fn extract_rows(query: &XmlQuery, doc: &Document<'_>) -> Result<Vec<Row>, String> {
    let compiled = query.compiled();
    let items = compiled.filter.select(doc.root());
    if items.is_empty() && !query.match_all {
        return Err(format!("`{}` selected nothing", query.filter));
    }
    let take = if query.match_all { items.len() } else { 1 };
    let mut rows: Vec<Row> = Vec::with_capacity(take);
    for item in items.iter().take(take) {
        let relative = |path: &XPath, what: &str| -> Result<String, String> {
            match item {
                Item::Element(node) => path
                    .select(*node)
                    .first()
                    .map(item_text)
                    .ok_or_else(|| format!("{what} selected nothing")),
                Item::Text(_) => Err(format!(
                    "{what} needs an element, but the filter selected text"
                )),
            }
        };
        let value = if let Some(constant) = query.constant {
            constant
        } else {
            let text = match &compiled.value {
                Some(path) => relative(
                    path,
                    &format!("value path `{}`", query.value.unwrap_or(".")),
                )?,
                None => item_text(item),
            };
            crate::to_value(text.as_bytes(), query.value_map)? * query.scale
        };
        let mut labels: Vec<Box<str>> = Vec::with_capacity(query.labels.len());
        for (parts, paths) in query.labels.iter().zip(&compiled.labels) {
            let mut text = String::new();
            for (part, path) in parts.iter().zip(paths) {
                match (part, path) {
                    (XmlPart::Literal(s), _) => text.push_str(s),
                    (XmlPart::Path(p), Some(path)) if p.starts_with('/') => {
                        let found = path.select(doc.root());
                        let item = found
                            .first()
                            .ok_or_else(|| format!("label path `{p}` selected nothing"))?;
                        text.push_str(item_text(item).trim());
                    }
                    (XmlPart::Path(p), Some(path)) => {
                        text.push_str(relative(path, &format!("label path `{p}`"))?.trim())
                    }
                    (XmlPart::Path(_), None) => unreachable!("label paths are compiled"),
                }
            }
            labels.push(text.into_boxed_str());
        }
        rows.push(Row { labels, value });
    }
    crate::unique(rows, "two selected elements")
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"<status version="2">
  <server name="a" state="up"><connections>12</connections><queue depth="3"/></server>
  <server name="b" state="down"><connections>7</connections><queue depth="5"/></server>
  <totals><requests>1e3</requests></totals>
</status>"#;

    fn texts(path: &str) -> Vec<String> {
        let doc = Document::parse(DOC).unwrap();
        parse_path(path, true)
            .unwrap()
            .select(doc.root())
            .iter()
            .map(item_text)
            .collect()
    }

    #[test]
    fn selects_the_subset() {
        assert_eq!(texts("/status/@version"), ["2"]);
        assert_eq!(texts("/status/server/connections"), ["12", "7"]);
        assert_eq!(texts("//queue/@depth"), ["3", "5"]);
        assert_eq!(texts("/status/server[@name='b']/connections/text()"), ["7"]);
        assert_eq!(texts("/status/server[2]/@name"), ["b"]);
        assert_eq!(texts("/status/server[last()]/@name"), ["b"]);
        assert_eq!(texts("/status/server[connections='12']/@state"), ["up"]);
        assert_eq!(texts("/status/*/requests"), ["1e3"]);
        assert_eq!(texts("//server[@state]/@name"), ["a", "b"]);
        // Positions count per parent: the first server of each parent.
        assert_eq!(texts("//server[1]/@name"), ["a"]);
        assert_eq!(texts("//*[1]/@name"), ["a"]);
        assert!(texts("/nothing").is_empty());
    }

    #[test]
    fn rejects_what_is_not_in_the_subset() {
        for bad in [
            "status",
            "/a/@b/c",
            "/a[",
            "/a[0]",
            "/a[b]",
            "/a[count(b)=1]",
            "/ns:a",
            "/a/following::b",
            "//text()",
            "/",
        ] {
            assert!(parse_path(bad, true).is_err(), "{bad}");
        }
        assert!(parse_path("/a", false).is_err());
        assert!(parse_path("@id", false).is_ok());
        assert!(parse_path("stats/@count", false).is_ok());
        assert!(parse_path(".", false).is_ok());
    }

    #[test]
    fn extracts_series() {
        static LABELS: &[&[XmlPart]] = &[&[XmlPart::Path("@name")]];
        let doc = Document::parse(DOC).unwrap();
        let q = XmlQuery {
            filter: "/status/server",
            value: Some("queue/@depth"),
            labels: LABELS,
            match_all: true,
            scale: 1.0,
            constant: None,
            value_map: &[],
            compiled: std::sync::OnceLock::new(),
        };
        let rows = extract_rows(&q, &doc).unwrap();
        assert_eq!(
            rows.iter()
                .map(|r| (&*r.labels[0], r.value))
                .collect::<Vec<_>>(),
            [("a", 3.0), ("b", 5.0)]
        );
        assert!(parse(b"<a><b></a>").unwrap_err().starts_with("invalid XML"));
        assert!(
            parse(b"<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>").is_err(),
            "DTDs are refused"
        );
    }

    #[test]
    fn labels_from_the_root_and_constant_values() {
        static LABELS: &[&[XmlPart]] = &[
            &[XmlPart::Literal("v"), XmlPart::Path("/status/@version")],
            &[XmlPart::Path("@name")],
        ];
        let doc = Document::parse(DOC).unwrap();
        let q = XmlQuery {
            filter: "/status/server",
            value: None,
            labels: LABELS,
            match_all: true,
            scale: 1.0,
            constant: Some(1.0),
            value_map: &[],
            compiled: std::sync::OnceLock::new(),
        };
        let rows = extract_rows(&q, &doc).unwrap();
        assert_eq!(
            rows.iter()
                .map(|r| (&*r.labels[0], &*r.labels[1], r.value))
                .collect::<Vec<_>>(),
            [("v2", "a", 1.0), ("v2", "b", 1.0)]
        );
    }
}
