//! The JSON Schema (draft 2020-12) of `metrics.yaml`, made from the key
//! tables the build's reader checks specs with ([`super::keys`]), so an
//! editor and the build accept the same keys with the same kinds of
//! values. `pme schema` prints it.
//!
//! The schema checks shape only: which keys, and what kind of value each
//! takes. What a spec means (a regex that compiles, a label a capture
//! fills, a period that is a multiple of the tick) is the build's.

use serde_json::{Map, Value, json};

use super::keys::{self, Key, Ty};

/// The schema, as pretty-printed JSON with a final newline.
pub fn render() -> String {
    let mut defs = Map::new();
    defs.insert(
        "scalar".into(),
        json!({"type": ["string", "number", "boolean"]}),
    );
    defs.insert(
        "duration".into(),
        json!({
            "description": "A Prometheus duration such as `30s`, `1m30s` or `500ms`; bare digits are seconds.",
            "anyOf": [
                {"type": "string", "pattern": "^([0-9]+(y|w|d|h|ms|m|s|us|µs|ns))+$"},
                {"type": "integer", "minimum": 1}
            ]
        }),
    );
    defs.insert(
        "size".into(),
        json!({
            "description": "Bytes, or a number with `KiB`, `MiB` or `GiB`.",
            "anyOf": [
                {"type": "integer", "minimum": 1},
                {"type": "string", "pattern": "^[0-9]+ *(KiB|MiB|GiB)$"}
            ]
        }),
    );
    defs.insert(
        "number".into(),
        json!({
            "description": "A number, or `NaN`, `+Inf`, `-Inf`.",
            "anyOf": [{"type": "number"}, {"type": "string"}]
        }),
    );
    defs.insert(
        "source_group".into(),
        table(&[keys::SOURCE, keys::GROUP].concat()),
    );
    defs.insert("collector_group".into(), table(keys::COLLECTOR));
    let mut schema = table(keys::TOP);
    let root = schema.as_object_mut().expect("a table is an object");
    let head = [
        (
            "$schema",
            json!("https://json-schema.org/draft/2020-12/schema"),
        ),
        ("title", json!("pme metrics.yaml")),
        (
            "description",
            json!(
                "What a pme exporter measures: services, their metric groups, standalone metrics and instruments."
            ),
        ),
    ];
    let mut ordered = Map::new();
    for (k, v) in head {
        ordered.insert(k.into(), v);
    }
    ordered.append(root);
    ordered.insert("$defs".into(), Value::Object(defs));
    let mut text =
        serde_json::to_string_pretty(&Value::Object(ordered)).expect("JSON values print");
    text.push('\n');
    text
}

/// A mapping that takes exactly `keys`, and needs the required ones.
fn table(keys: &[Key]) -> Value {
    let properties: Map<String, Value> = keys
        .iter()
        .map(|k| {
            let mut v = value(k.ty);
            if let Some(o) = v.as_object_mut() {
                o.insert("description".into(), json!(k.doc));
            }
            (k.name.to_owned(), v)
        })
        .collect();
    let mut t = json!({
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
    });
    let required: Vec<&str> = keys.iter().filter(|k| k.required).map(|k| k.name).collect();
    if !required.is_empty() {
        t["required"] = json!(required);
    }
    t
}

/// A mapping whose keys the user chooses, each value `of`.
fn ids(of: Value) -> Value {
    json!({"type": ["object", "null"], "additionalProperties": of})
}

fn value(ty: Ty) -> Value {
    let scalar = json!({"$ref": "#/$defs/scalar"});
    match ty {
        Ty::Scalar => scalar,
        Ty::Bool => json!({"type": "boolean"}),
        Ty::Int => json!({"type": "integer"}),
        Ty::Count => json!({"type": "integer", "minimum": 1}),
        Ty::Number => json!({"$ref": "#/$defs/number"}),
        Ty::Duration => json!({"$ref": "#/$defs/duration"}),
        Ty::Size => json!({"$ref": "#/$defs/size"}),
        Ty::OneOf(words) => json!({"enum": words}),
        Ty::Source => json!({"anyOf": [scalar, {"type": "array", "items": scalar}]}),
        Ty::RunAs(keys) => json!({"anyOf": [{"type": "string"}, table(keys)]}),
        Ty::Cache => json!({"anyOf": [{"type": "boolean"}, {"$ref": "#/$defs/duration"}]}),
        Ty::Scalars => json!({"type": "array", "items": scalar}),
        Ty::Ints => json!({"type": "array", "items": {"type": "integer"}}),
        Ty::Numbers => json!({"type": "array", "items": {"$ref": "#/$defs/number"}}),
        Ty::Pairs => ids(scalar),
        Ty::NumberMap => ids(json!({"$ref": "#/$defs/number"})),
        Ty::Table(keys) => table(keys),
        Ty::Ids(keys) => ids(table(keys)),
        Ty::List(keys) => json!({"type": "array", "items": table(keys)}),
        Ty::Options => ids(json!({"anyOf": [scalar, {"type": "array", "items": scalar}]})),
        Ty::LabelValues => ids(json!({"anyOf": [
            {"const": "text"},
            {"type": "array", "items": scalar}
        ]})),
        Ty::Groups => ids(json!({
            "if": {
                "type": "object",
                "properties": {"source_type": {"enum": keys::COLLECTOR_TYPES}},
                "required": ["source_type"]
            },
            "then": {"$ref": "#/$defs/collector_group"},
            "else": {"$ref": "#/$defs/source_group"}
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every mapping of the schema is a key table: the properties it
    /// lists are exactly one table's keys.
    #[test]
    fn every_object_lists_one_tables_keys() {
        let schema: Value = serde_json::from_str(&render()).unwrap();
        let tables: Vec<Vec<&str>> = [
            keys::TOP,
            keys::EXPORTER,
            keys::DEFAULTS,
            keys::SERVICE,
            keys::RUN_AS,
            keys::PARAMETER,
            keys::TARGET,
            keys::COLLECTOR,
            keys::HTTP,
            keys::TLS,
            keys::BASIC_AUTH,
            keys::METRIC,
            keys::STANDALONE,
            keys::RELABEL,
            keys::INSTRUMENT,
            &[keys::SOURCE, keys::GROUP].concat(),
        ]
        .iter()
        .map(|t| keys::names(t))
        .collect();
        let mut seen = 0;
        let mut stack = vec![&schema];
        while let Some(v) = stack.pop() {
            match v {
                Value::Object(o) => {
                    if let Some(Value::Object(p)) = o.get("properties")
                        && o.get("additionalProperties") == Some(&Value::Bool(false))
                    {
                        let names: Vec<&str> = p.keys().map(String::as_str).collect();
                        assert!(
                            tables.iter().any(|t| {
                                let mut t = t.clone();
                                let mut n = names.clone();
                                t.sort_unstable();
                                n.sort_unstable();
                                t == n
                            }),
                            "{names:?} is no key table"
                        );
                        seen += 1;
                    }
                    stack.extend(o.values());
                }
                Value::Array(a) => stack.extend(a),
                _ => {}
            }
        }
        assert!(seen >= 15, "only {seen} tables in the schema");
    }

    /// The types the schema gives agree with what the reader accepts: a
    /// spec with each kind of value builds, and the schema says the same
    /// kinds (checked by a real validator in tests/schema.rs).
    #[test]
    fn enums_are_the_readers_words() {
        let schema: Value = serde_json::from_str(&render()).unwrap();
        let group = &schema["$defs"]["source_group"]["properties"];
        assert_eq!(
            group["source_type"]["enum"],
            json!(keys::SOURCE_TYPES),
            "source_type"
        );
        assert_eq!(group["content_type"]["enum"], json!(keys::CONTENT_TYPES));
    }
}
