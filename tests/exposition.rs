//! Every test spec's output passes `promtool check metrics` with no lint
//! warning and the Python prometheus_client parser, and its OpenMetrics
//! output passes client_python's strict OpenMetrics parser with the same
//! samples.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::embedded::{
    bad_input, exactly_once, features, http_json, once_in_both_formats, optional_run_as, owned,
    parameters, reimport, shared_file,
};
use crate::util::http_server::TestServer;
use crate::util::{Dir, assert_valid_exposition};

#[test]
fn every_test_spec_gives_valid_exposition() {
    let (dir, server) = (Dir::new("exposition"), TestServer::start());
    std::fs::create_dir_all(dir.join("exactly-once")).unwrap();
    // Some of their files are missing: the output must be valid either way.
    let plans = [
        &features::PLAN,
        &exactly_once::PLAN,
        &bad_input::PLAN,
        // run_as::PLAN needs its own user; tests/run_as.rs checks its output.
        &optional_run_as::PLAN,
        &shared_file::PLAN,
        &http_json::PLAN,
        &reimport::PLAN,
        &parameters::PLAN,
    ];
    let mut cases = Vec::new();
    for plan in plans {
        let (text, openmetrics) = once_in_both_formats(owned(plan, &dir, Some(&server)));
        assert!(
            text.contains("# TYPE pme_source_up gauge"),
            "{}: {text}",
            plan.spec
        );
        assert!(openmetrics.ends_with("# EOF\n"), "{}", plan.spec);
        assert_valid_exposition(text.as_bytes());
        cases.push((format!("{} text", plan.spec), "text", text));
        cases.push((format!("{} om", plan.spec), "openmetrics", openmetrics));
    }
    // The strict OpenMetrics parser accepts each OpenMetrics body, and both
    // formats carry the same samples: the same names everywhere.
    let Some(read) = crate::exposition_suites::python_reads(&cases) else {
        return;
    };
    for pair in cases.chunks(2) {
        let samples = |id: &str| -> BTreeSet<String> {
            let result = &read[id];
            assert!(
                result.get("error").is_none(),
                "{id}: {result}\n{}",
                pair[1].2
            );
            result["families"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|f| f["samples"].as_array().unwrap().clone())
                // Process-wide counters (instrument refusals, the statsd
                // listener's lines) that tests running beside this one
                // may move between the two bodies.
                .filter(|s| {
                    let name = s["name"].as_str().unwrap_or_default();
                    !name.starts_with("pme_cardinality_")
                        && !name.starts_with("pme_instrument_")
                        && !name.starts_with("pme_statsd_")
                })
                .map(|s| {
                    format!(
                        "{} {} {}",
                        s["name"],
                        s["labels"],
                        sample_value(&s["value"])
                    )
                })
                .collect()
        };
        let (text, om) = (samples(&pair[0].0), samples(&pair[1].0));
        assert!(!text.is_empty());
        assert_eq!(text, om, "{}", pair[0].0);
    }
}

/// A sample's value as the parser printed it.
fn sample_value(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}
