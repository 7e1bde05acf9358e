//! YAML → a tree of nodes that each keep their position.
//!
//! serde derives stop at the first problem; reading the spec through this
//! tree lets `spec.rs` report every unknown key and bad type in one run, with
//! a position for each. Plain scalars also keep their source text, so a label
//! value written `1.10` stays `1.10` instead of becoming the float `1.1`.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::fmt;

use crate::diagnostic::{Diagnostic, Pos};

/// One YAML node with its position.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) pos: Pos,
    pub(crate) value: Value,
}

#[derive(Debug, Clone)]
pub(crate) enum Value {
    Map(Vec<(Key, Node)>),
    Seq(Vec<Node>),
    /// A scalar: `text` is what the user wrote (after YAML unquoting);
    /// `typed` says how YAML's core schema reads it.
    Scalar {
        text: String,
        typed: Typed,
    },
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Typed {
    Str,
    Bool(bool),
    Int(i64),
    Float(f64),
}

/// A mapping key and where it is.
#[derive(Debug, Clone)]
pub(crate) struct Key {
    pub(crate) name: String,
    pub(crate) pos: Pos,
}

impl Node {
    /// What kind of node this is, for "expected a mapping, found a list".
    pub(crate) fn describe(&self) -> &'static str {
        match &self.value {
            Value::Map(_) => "a mapping",
            Value::Seq(_) => "a list",
            Value::Scalar { typed, .. } => match typed {
                Typed::Str => "a string",
                Typed::Bool(_) => "a boolean",
                Typed::Int(_) | Typed::Float(_) => "a number",
            },
            Value::Null => "nothing",
        }
    }
}

/// Parses `source` into a node tree; a YAML syntax error comes back located.
pub(crate) fn parse(source: &str, file: &str) -> Result<Node, Diagnostic> {
    let options = serde_saphyr::options! {
        // Repeated keys reach our visitor, which reports them with both positions.
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::PassThrough,
        with_snippet: false,
    };
    match serde_saphyr::from_str_with_options::<Spanned<Raw>>(source, options) {
        Ok(root) => Ok(resolve(root, source)),
        Err(e) => {
            let pos = e
                .location()
                .map(|l| Pos {
                    line: l.line() as u32,
                    column: l.column() as u32,
                })
                .unwrap_or(Pos { line: 1, column: 1 });
            Err(Diagnostic {
                file: file.to_owned(),
                pos,
                message: format!("invalid YAML: {}", first_line(&e.to_string())),
                help: None,
            })
        }
    }
}

/// serde-saphyr's message starts with "error: line L column C: "; keep only the reason.
fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or(message);
    let line = line.strip_prefix("error: ").unwrap_or(line);
    match line.find(": ") {
        Some(i) if line.starts_with("line ") => line[i + 2..].to_owned(),
        _ => line.to_owned(),
    }
}

/// The tree as serde hands it to us, before positions are resolved.
enum Raw {
    Map(Vec<(Spanned<String>, Spanned<Raw>)>),
    Seq(Vec<Spanned<Raw>>),
    Scalar(Typed, Option<String>),
    Null,
}

fn pos_of<T>(s: &Spanned<T>) -> Pos {
    Pos {
        line: s.referenced.line() as u32,
        column: s.referenced.column() as u32,
    }
}

fn resolve(node: Spanned<Raw>, source: &str) -> Node {
    let pos = pos_of(&node);
    let span = node.referenced.span();
    let value = match node.value {
        Raw::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| {
                    let key = Key {
                        pos: pos_of(&k),
                        name: k.value,
                    };
                    (key, resolve(v, source))
                })
                .collect(),
        ),
        Raw::Seq(items) => Value::Seq(items.into_iter().map(|v| resolve(v, source)).collect()),
        Raw::Scalar(typed, text) => {
            // Numbers and booleans: the user's own spelling from the source.
            let text = text.unwrap_or_else(|| {
                span.byte_offset()
                    .zip(span.byte_len())
                    .and_then(|(o, l)| source.get(o as usize..(o + l) as usize))
                    .unwrap_or_default()
                    .to_owned()
            });
            Value::Scalar { text, typed }
        }
        Raw::Null => Value::Null,
    };
    Node { pos, value }
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::Scalar(Typed::Str, Some(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::Scalar(Typed::Str, Some(v)))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Raw, E> {
        Ok(Raw::Scalar(Typed::Bool(v), None))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::Scalar(Typed::Int(v), None))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Raw, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => Raw::Scalar(Typed::Int(i), None),
            Err(_) => Raw::Scalar(Typed::Float(v as f64), None),
        })
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Raw, E> {
        Ok(Raw::Scalar(Typed::Float(v), None))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Raw, D::Error> {
        Raw::deserialize(d)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            entries.push((key, map.next_value::<Spanned<Raw>>()?));
        }
        Ok(Raw::Map(entries))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Raw>>()? {
            items.push(item);
        }
        Ok(Raw::Seq(items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_positions_and_source_text() {
        let root = parse("a:\n  b: 1.10\n  c: 'x'\n", "t.yaml").unwrap();
        let Value::Map(top) = &root.value else {
            panic!("not a map")
        };
        let Value::Map(inner) = &top[0].1.value else {
            panic!("not a map")
        };
        let (key, b) = &inner[0];
        assert_eq!(
            (key.name.as_str(), key.pos.line, key.pos.column),
            ("b", 2, 3)
        );
        let Value::Scalar { text, typed } = &b.value else {
            panic!("not a scalar")
        };
        assert_eq!(text, "1.10");
        assert_eq!(*typed, Typed::Float(1.1));
        assert_eq!((b.pos.line, b.pos.column), (2, 6));
    }

    #[test]
    fn locates_syntax_errors() {
        let err = parse("a:\n  b: [1\n  c: 2\n", "t.yaml").unwrap_err();
        assert_eq!((err.pos.line, err.pos.column), (3, 4));
        assert!(err.message.starts_with("invalid YAML: "), "{}", err.message);
    }
}
