//! The Prometheus/OpenMetrics re-import parser against other projects' test
//! data, vendored in `tests/conformance/`:
//!
//! - the OpenMetrics suite: every case's verdict in strict mode, the 44
//!   valid ones parsed to the families client_python reads from them, and
//!   re-exposed by pme to text that client_python's strict parser reads
//!   back to the same families;
//! - client_python's parser vectors (OpenMetrics and text);
//! - Prometheus's scrape-parser error tables (lenient mode) and benchmark
//!   expositions;
//! - expfmt's error table (strict text mode) and its sample exposition.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use pme::__private::parsers::exposition::{
    Family, Format, MetricType, parse, write_openmetrics, write_text,
};
use serde_json::{Value, json};

use crate::util::{peer, promtool_check};

/// A vendored conformance file (`tests/conformance/<path>`).
fn conformance(path: &str) -> String {
    let full = crate::util::conformance_path(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

fn json_file(path: &str) -> Value {
    serde_json::from_str(&conformance(path)).unwrap()
}

/// A case's input bytes (`input`, or `input_base64` when not UTF-8).
fn input_of(case: &Value) -> Vec<u8> {
    if let Some(text) = case["input"].as_str() {
        return text.as_bytes().to_vec();
    }
    let b64 = case["input_base64"]
        .as_str()
        .expect("input or input_base64");
    base64_decode(b64)
}

fn base64_decode(s: &str) -> Vec<u8> {
    let table = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let bytes: Vec<u8> = s.bytes().filter(|&c| c != b'=').map(table).collect();
    bytes
        .chunks(4)
        .flat_map(|c| {
            let n = c
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, &v)| n | u32::from(v) << (18 - 6 * i));
            let out = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
            out.into_iter().take(c.len() - 1)
        })
        .collect()
}

/// Our families in the schema of `derived/expected-normalized.json`
/// (client_python's data model: text counters get `_total` samples and
/// lose it from the family name; untyped is unknown).
fn normalize(families: &[Family<'_>]) -> Value {
    let number = |v: f64| {
        let mut out = Vec::new();
        pme::__private::parsers::exposition::value(&mut out, v);
        String::from_utf8(out).unwrap()
    };
    let labels = |l: &[(std::borrow::Cow<'_, str>, std::borrow::Cow<'_, str>)]| {
        l.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>()
    };
    let text_counter =
        |f: &Family<'_>| f.format == Format::Prometheus && f.kind == MetricType::Counter;
    Value::Array(
        families
            .iter()
            .map(|f| {
                let name = if text_counter(f) {
                    f.name.strip_suffix("_total").unwrap_or(&f.name)
                } else {
                    &f.name
                };
                json!({
                    "name": name,
                    "type": f.kind.openmetrics_name(),
                    "unit": f.unit.as_deref().unwrap_or(""),
                    "help": f.help.as_deref().unwrap_or(""),
                    "samples": f.samples.iter().map(|s| {
                        let sample_name = if text_counter(f) && !s.name.ends_with("_total") {
                            format!("{}_total", s.name)
                        } else {
                            s.name.to_string()
                        };
                        json!({
                            "name": sample_name,
                            "labels": labels(&s.labels),
                            "value": number(s.value),
                            "timestamp": s.timestamp.map(|t| t.to_string()),
                            "exemplar": s.exemplar.as_ref().map(|e| json!({
                                "labels": labels(&e.labels),
                                "value": number(e.value),
                                "timestamp": e.timestamp.map(|t| t.to_string()),
                            })),
                        })
                    }).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

/// Compares two normalized family lists: numbers by value (NaN equals
/// NaN), everything else exactly.
fn same(ours: &Value, theirs: &Value) -> Result<(), String> {
    fn num(v: &Value) -> Option<f64> {
        match v.as_str()? {
            "NaN" => Some(f64::NAN),
            "+Inf" => Some(f64::INFINITY),
            "-Inf" => Some(f64::NEG_INFINITY),
            s => s.parse().ok(),
        }
    }
    fn walk(a: &Value, b: &Value, key: &str, at: &str) -> Result<(), String> {
        match (a, b) {
            (Value::Array(x), Value::Array(y)) => {
                if x.len() != y.len() {
                    return Err(format!("{at}: {} items vs {}", x.len(), y.len()));
                }
                for (i, (p, q)) in x.iter().zip(y).enumerate() {
                    walk(p, q, key, &format!("{at}[{i}]"))?;
                }
                Ok(())
            }
            (Value::Object(x), Value::Object(y)) if key != "labels" => {
                for (k, v) in y {
                    if k == "native_histogram" {
                        continue;
                    }
                    let mine = x.get(k).unwrap_or(&Value::Null);
                    walk(mine, v, k, &format!("{at}.{k}"))?;
                }
                Ok(())
            }
            _ if key == "value" || key == "timestamp" => {
                let (p, q) = (num(a), num(b));
                let equal = a == b
                    || p.zip(q)
                        .is_some_and(|(p, q)| p == q || p.is_nan() && q.is_nan());
                if equal {
                    Ok(())
                } else {
                    Err(format!("{at}: {a} vs {b}"))
                }
            }
            _ if a == b => Ok(()),
            _ => Err(format!("{at}: {a} vs {b}")),
        }
    }
    walk(ours, theirs, "", "")
}

/// Runs client_python's parsers on `(id, format, body)` cases; `None`
/// without Python or the package (outside CI).
pub fn python_reads(cases: &[(String, &str, String)]) -> Option<BTreeMap<String, Value>> {
    let python = peer("python3", "python3")?;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/util/exposition_check.py"
    );
    let input: Vec<Value> = cases
        .iter()
        .map(|(id, format, body)| json!({"id": id, "format": format, "body": body}))
        .collect();
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Without the package Python exits before it reads its input, so the
    // write can fail with a broken pipe: that case is told by stderr.
    let written = child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&input).unwrap().as_bytes());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("No module named 'prometheus_client'") {
        crate::util::skipped(
            "Python package prometheus_client",
            "pip install prometheus-client",
        );
        return None;
    }
    assert!(out.status.success(), "exposition_check.py failed: {stderr}");
    written.expect("exposition_check.py reads its cases");
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

struct OmCase {
    name: String,
    body: Vec<u8>,
    valid: bool,
}

fn openmetrics_suite() -> Vec<OmCase> {
    let root = crate::util::conformance_path("openmetrics-parsers/cases");
    let mut cases: Vec<OmCase> = std::fs::read_dir(&root)
        .unwrap()
        .map(|entry| {
            let dir = entry.unwrap().path();
            let test: Value =
                serde_json::from_slice(&std::fs::read(dir.join("test.json")).unwrap()).unwrap();
            OmCase {
                name: dir.file_name().unwrap().to_string_lossy().into_owned(),
                body: std::fs::read(dir.join(test["file"].as_str().unwrap())).unwrap(),
                valid: test["shouldParse"].as_bool().unwrap(),
            }
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(cases.len(), 211, "the suite has 211 cases");
    let valid = cases.iter().filter(|c| c.valid).count();
    crate::util::suite_ran(format!(
        "OpenMetrics parser suite: 211 verdicts, {valid} parse results"
    ));
    cases
}

#[test]
fn openmetrics_suite_verdicts_in_strict_mode() {
    let cases = openmetrics_suite();
    let failures: Vec<String> = cases
        .iter()
        .filter_map(
            |case| match (parse(&case.body, Format::OpenMetrics, true), case.valid) {
                (Ok(_), false) => Some(format!("{}: accepted, should be rejected", case.name)),
                (Err(e), true) => Some(format!("{}: rejected: {e}", case.name)),
                _ => None,
            },
        )
        .collect();
    assert!(
        failures.is_empty(),
        "{} of 211 wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn openmetrics_suite_valid_cases_parse_and_reexpose_to_the_same_families() {
    let cases = openmetrics_suite();
    let expected = json_file("openmetrics-parsers/derived/expected-normalized.json");
    let mut failures = Vec::new();
    let mut reexposed = Vec::new();
    for case in cases.iter().filter(|c| c.valid) {
        let families = parse(&case.body, Format::OpenMetrics, true).unwrap();
        let want = &expected["cases"][&case.name];
        if let Err(e) = same(&normalize(&families), want) {
            failures.push(format!("{}: parsed differently: {e}", case.name));
        }
        let mut om = Vec::new();
        write_openmetrics(&mut om, &families);
        reexposed.push((
            case.name.clone(),
            "openmetrics",
            String::from_utf8(om).unwrap(),
        ));
        let mut text = Vec::new();
        write_text(&mut text, &families);
        let text = String::from_utf8(text).unwrap();
        // Prometheus 2's promtool knows no quoted UTF-8 names, and text
        // format timestamps are int64 milliseconds (the `timestamps` case
        // has one of 1.2e22 ms).
        let quoted = text.contains("{\"") || text.contains("# TYPE \"");
        let wide = families
            .iter()
            .flat_map(|f| &f.samples)
            .filter_map(|s| s.timestamp)
            .any(|t| i64::try_from(t.millis()).is_err());
        if !quoted && !wide {
            promtool_lenient(text.as_bytes(), &case.name);
        }
        reexposed.push((format!("{}.txt", case.name), "text", text));
    }
    assert_eq!(reexposed.len(), 88, "44 valid cases, two formats each");
    if let Some(read) = python_reads(&reexposed) {
        for (id, format, body) in &reexposed {
            match (&read[id]["error"], *format) {
                (Value::String(e), _) => {
                    failures.push(format!(
                        "{id}: client_python rejects pme's output: {e}\n{body}"
                    ));
                }
                (_, "openmetrics") => {
                    if let Err(e) = same(&read[id]["families"], &expected["cases"][id]) {
                        failures.push(format!(
                            "{id}: re-exposed and read back differently: {e}\n{body}"
                        ));
                    }
                }
                _ => {}
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `promtool check metrics` must not find errors; lint remarks (no HELP,
/// counter names without `_total` in the suite's inputs) are the input's.
fn promtool_lenient(body: &[u8], id: &str) {
    let Some((status, report)) = promtool_check(body) else {
        return;
    };
    assert!(
        status.code() != Some(1) && !report.contains("error while linting"),
        "{id}: promtool rejects pme's text output: {report}\n{}",
        String::from_utf8_lossy(body)
    );
}

/// client_python's experimental native-histogram text syntax
/// (`name {count:24,sum:100,…}`) is not OpenMetrics 1.0 and no other
/// parser reads it; pme does not either.
fn native_histogram(case: &Value) -> bool {
    case["note"]
        .as_str()
        .is_some_and(|n| n.contains("native histogram"))
}

#[test]
fn client_python_vectors() {
    let om = json_file("client-python-parser/openmetrics.json");
    let text = json_file("client-python-parser/prometheus-text.json");
    let mut failures = Vec::new();
    let mut checked = 0;
    for (suite, format, strict) in [
        (&om, Format::OpenMetrics, true),
        (&text, Format::Prometheus, false),
    ] {
        for case in suite["valid"].as_array().unwrap() {
            if native_histogram(case) {
                continue;
            }
            checked += 1;
            let id = format!("{format:?} {}", case["test"]);
            let input = input_of(case);
            match parse(&input, format, strict) {
                Err(e) => failures.push(format!(
                    "{id}: rejected: {e}\n{}",
                    String::from_utf8_lossy(&input)
                )),
                Ok(families) => {
                    if let Err(e) = same(&normalize(&families), &case["derived_expected"]) {
                        failures.push(format!(
                            "{id}: parsed differently: {e}\n{}",
                            String::from_utf8_lossy(&input)
                        ));
                    }
                }
            }
        }
        for case in suite["invalid"].as_array().unwrap() {
            checked += 1;
            let input = input_of(case);
            if parse(&input, format, strict).is_ok() {
                failures.push(format!(
                    "{format:?} {} ({}): accepted, should be rejected:\n{}",
                    case["test"],
                    case["category"],
                    String::from_utf8_lossy(&input)
                ));
            }
        }
    }
    assert!(checked >= 280, "only {checked} vectors");
    crate::util::suite_ran(format!("client_python parser vectors: {checked}"));
    assert!(
        failures.is_empty(),
        "{} wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The cases of an error table whose verdict pme gets wrong; `expected`
/// gives a case's format, whether it should parse, and the upstream error.
fn wrong_verdicts(
    table: &Value,
    strict: bool,
    expected: impl Fn(&Value) -> (Format, bool, &Value),
) -> Vec<String> {
    table["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|case| {
            let (format, should_parse, upstream) = expected(case);
            let input = input_of(case);
            let ok = parse(&input, format, strict).is_ok();
            (ok != should_parse).then(|| {
                format!(
                    "{}: {} {:?} (upstream: {upstream})",
                    case["id"],
                    if ok { "accepted" } else { "rejected" },
                    String::from_utf8_lossy(&input),
                )
            })
        })
        .collect()
}

#[test]
fn prometheus_scrape_parser_error_tables_in_lenient_mode() {
    let table = json_file("prometheus-textparse/parse-errors.json");
    assert_eq!(table["cases"].as_array().unwrap().len(), 109);
    crate::util::suite_ran("Prometheus textparse error table: 109".to_owned());
    let failures = wrong_verdicts(&table, false, |case| {
        let format = match case["format"].as_str().unwrap() {
            "openmetrics-text" => Format::OpenMetrics,
            _ => Format::Prometheus,
        };
        (format, case["expect"] == "ok", &case["error"])
    });
    assert!(
        failures.is_empty(),
        "{} wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn expfmt_error_table_in_strict_text_mode() {
    let table = json_file("prometheus-expfmt/text-parse-errors.json");
    assert_eq!(table["cases"].as_array().unwrap().len(), 48);
    crate::util::suite_ran("expfmt error table: 48".to_owned());
    // UTF-8 validation: what Prometheus 3 and pme accept.
    let failures = wrong_verdicts(&table, true, |case| {
        (
            Format::Prometheus,
            case["expect_utf8"] == "ok",
            &case["error_utf8_prefix"],
        )
    });
    assert!(
        failures.is_empty(),
        "{} wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn real_expositions_parse_and_reexpose_to_valid_text() {
    let files = [
        (
            "prometheus-textparse/testdata/alltypes.237mfs.prom.txt",
            true,
        ),
        (
            "prometheus-textparse/testdata/alltypes.237mfs.nometa.prom.txt",
            true,
        ),
        ("prometheus-textparse/testdata/alltypes.5mfs.om.txt", false),
        ("prometheus-textparse/testdata/1histogram.om.txt", true),
        ("prometheus-textparse/historical/promtestdata.txt", true),
        (
            "prometheus-textparse/historical/promtestdata.nometa.txt",
            true,
        ),
        ("prometheus-expfmt/testdata/text", true),
    ];
    crate::util::suite_ran(format!(
        "Prometheus and expfmt sample expositions: {}",
        files.len()
    ));
    for (path, strict) in files {
        let body = conformance(path);
        // By name: `alltypes.237mfs.prom.txt` is text format that ends
        // with a `# EOF` line, which Prometheus's text parser skips as a
        // comment but would make `Format::detect` say OpenMetrics.
        let format = if path.ends_with(".om.txt") {
            Format::OpenMetrics
        } else {
            Format::Prometheus
        };
        // alltypes.5mfs.om.txt has a negative histogram `_sum`: fine for
        // Prometheus, wrong for strict OpenMetrics.
        let families =
            parse(body.as_bytes(), format, false).unwrap_or_else(|e| panic!("{path}: {e}"));
        if strict {
            parse(body.as_bytes(), format, true).unwrap_or_else(|e| panic!("{path} (strict): {e}"));
        }
        let samples: usize = families.iter().map(|f| f.samples.len()).sum();
        let lines = body
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .count();
        assert_eq!(samples, lines, "{path}: every sample line is kept");
        let mut text = Vec::new();
        write_text(&mut text, &families);
        promtool_lenient(&text, path);
        let again = parse(&text, Format::Prometheus, true).unwrap();
        assert_eq!(
            again.iter().map(|f| f.samples.len()).sum::<usize>(),
            samples,
            "{path}: the re-exposition keeps every sample"
        );
    }
}
