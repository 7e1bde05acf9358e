//! The JSONPath Compliance Test Suite (RFC 9535), from
//! `tests/conformance/jsonpath-cts/cts.json`: every invalid selector must
//! be rejected at build time (`pme_codegen::json::check_path`, what turns a
//! bad `filter` into a spec error) and every valid one must select exactly
//! the expected nodes with the engine pme runs (serde_json_path).

use serde_json::Value;
use serde_json_path::JsonPath;

/// Cases the engine gets wrong, each with the reason it is accepted here.
/// Empty: every case passes.
const EXCLUDED: &[(&str, &str)] = &[];

#[test]
fn jsonpath_compliance_suite() {
    let path = crate::util::conformance_path("jsonpath-cts/cts.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let suite: Value = serde_json::from_str(&text).unwrap();
    let cases = suite["tests"].as_array().unwrap();
    assert!(cases.len() >= 700, "the suite has {} cases", cases.len());
    crate::util::suite_ran(format!("JSONPath CTS: {}", cases.len()));
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        if EXCLUDED.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let selector = case["selector"].as_str().unwrap();
        let verdict = pme_codegen::json::check_path(selector, "filter");
        if case["invalid_selector"].as_bool() == Some(true) {
            if verdict.is_ok() {
                failures.push(format!("{name}: `{selector}` should be rejected"));
            }
            continue;
        }
        if let Err(e) = verdict {
            failures.push(format!("{name}: `{selector}` rejected: {e}"));
            continue;
        }
        let got: Vec<Value> = JsonPath::parse(selector)
            .unwrap()
            .query(&case["document"])
            .all()
            .into_iter()
            .cloned()
            .collect();
        let expected: Vec<Vec<Value>> = match (&case["result"], &case["results"]) {
            (Value::Array(one), _) => vec![one.clone()],
            (_, Value::Array(any)) => any.iter().map(|r| r.as_array().unwrap().clone()).collect(),
            _ => panic!("{name}: no result"),
        };
        if !expected.contains(&got) {
            failures.push(format!(
                "{name}: `{selector}` selected {got:?}, expected {expected:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
