//! The web configuration's YAML, read into a `serde_json::Value` and
//! deserialized from there.
//!
//! serde-saphyr reads the spec at build time with positions for every
//! value; at run time that precision is not worth its ~370 KiB (it links an
//! error renderer). The same YAML parser (granit-parser, serde-saphyr's)
//! emits events, this file turns them into a JSON value with YAML 1.2 core
//! schema typing, and serde_json — already linked — does the typed part,
//! with the same "unknown field" and "invalid type" messages.

use granit_parser::{Event, Parser, ScalarStyle};
use serde_json::{Map, Number, Value};

/// Reads one YAML document. Anchors and aliases are refused: a config file
/// has no use for them, and refusing them rules out alias bombs.
///
/// # Errors
/// Syntax errors (with line and column), aliases, non-scalar or repeated keys.
pub(super) fn parse(text: &str) -> Result<Value, String> {
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut document: Option<Value> = None;
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| e.to_string())?;
        let at = || format!("line {} column {}", span.start.line(), span.start.col() + 1);
        let value = match event {
            Event::Scalar(text, style, anchor, _) => {
                if anchor != 0 {
                    return Err(format!("{}: anchors are not supported", at()));
                }
                scalar(&text, style)
            }
            Event::SequenceStart(_, anchor, _) | Event::MappingStart(_, anchor, _)
                if anchor != 0 =>
            {
                return Err(format!("{}: anchors are not supported", at()));
            }
            Event::SequenceStart(..) => {
                stack.push(Frame::Seq(Vec::new()));
                continue;
            }
            Event::MappingStart(..) => {
                stack.push(Frame::Map(Map::new(), None));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq(items)) => Value::Array(items),
                Some(Frame::Map(map, _)) => Value::Object(map),
                None => return Err(format!("{}: unbalanced structure", at())),
            },
            Event::Alias(_) | Event::UnresolvedAlias(_) => {
                return Err(format!("{}: aliases are not supported", at()));
            }
            Event::DocumentStart(..) if document.is_some() => {
                return Err(format!("{}: one document only", at()));
            }
            _ => continue,
        };
        match stack.last_mut() {
            None => document = Some(value),
            Some(Frame::Seq(items)) => items.push(value),
            Some(Frame::Map(map, key)) => match key.take() {
                Some(k) => {
                    map.insert(k, value);
                }
                None => {
                    let Value::String(k) = value else {
                        return Err(format!("{}: keys must be strings", at()));
                    };
                    if map.contains_key(&k) {
                        return Err(format!("{}: key `{k}` appears twice", at()));
                    }
                    *key = Some(k);
                }
            },
        }
    }
    Ok(document.unwrap_or(Value::Null))
}

/// A collection being read; a map holds the key waiting for its value.
enum Frame {
    Seq(Vec<Value>),
    Map(Map<String, Value>, Option<String>),
}

/// YAML 1.2 core schema: plain `true`/`false`, `null`/`~`/empty, integers
/// and floats are typed; everything else, and every quoted scalar, is a
/// string. (Keys are strings whatever they look like.)
fn scalar(text: &str, style: ScalarStyle) -> Value {
    if style != ScalarStyle::Plain {
        return Value::String(text.to_owned());
    }
    match text {
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        _ => {}
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(n) = text.trim_start_matches('+').parse::<i64>() {
            return Value::Number(n.into());
        }
        if let Ok(n) = text.trim_start_matches('+').parse::<u64>() {
            return Value::Number(n.into());
        }
    }
    let numeric = digits.bytes().all(|b| {
        b.is_ascii_digit() || b == b'.' || b == b'e' || b == b'E' || b == b'-' || b == b'+'
    }) && digits.bytes().any(|b| b.is_ascii_digit());
    if numeric && let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64) {
        return Value::Number(n);
    }
    Value::String(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_block_and_flow_with_core_schema_types() {
        let text = "a: 1\nb: [x, 'true', true, ~, -2, 1.5, 100ms]\nc:\n  d: {e: \"q\\n\"}\n  f: $2y$10$abc\n";
        assert_eq!(
            parse(text).unwrap(),
            json!({"a": 1, "b": ["x", "true", true, null, -2, 1.5, "100ms"], "c": {"d": {"e": "q\n"}, "f": "$2y$10$abc"}})
        );
        assert_eq!(parse("").unwrap(), Value::Null);
    }

    #[test]
    fn refuses_what_a_config_has_no_use_for() {
        for (text, expected) in [
            ("a: &x 1\nb: *x\n", "anchors are not supported"),
            ("a: 1\na: 2\n", "key `a` appears twice"),
            ("[1]: x\n", "keys must be strings"),
            ("a: 1\n---\nb: 2\n", "one document only"),
            ("a: [1\n", "line"),
        ] {
            let err = parse(text).expect_err(text);
            assert!(err.contains(expected), "{text}: {err}");
        }
    }
}
