//! `pme alerts`: the rules pass `promtool check rules`, the committed
//! `deploy/alerts.yml` is what the binary prints now, and `promtool test
//! rules` proves that each alert fires on a synthetic series that should
//! make it fire.

use crate::util::{Dir, assert_generated, peer, pme_stdout, promtool_check_rules, promtool_rules};

fn alerts(job: &str) -> String {
    pme_stdout(&["alerts", "--job", job])
}

/// Each rule's name and its summary and description, as written
/// (`pme alerts` writes one key per line, values single-quoted).
fn annotations(rules: &str) -> Vec<(String, String, String)> {
    let value = |line: &str, key: &str| {
        let v = line.trim().strip_prefix(key)?.trim();
        Some(v.strip_prefix('\'')?.strip_suffix('\'')?.replace("''", "'"))
    };
    let mut out = Vec::new();
    let mut lines = rules.lines();
    while let Some(line) = lines.next() {
        let Some(name) = line.trim().strip_prefix("- alert: ") else {
            continue;
        };
        let rest: Vec<&str> = lines.by_ref().take(7).collect();
        let summary = rest.iter().find_map(|l| value(l, "summary:")).unwrap();
        let description = rest.iter().find_map(|l| value(l, "description:")).unwrap();
        out.push((name.to_owned(), summary, description));
    }
    out
}

#[test]
fn the_rules_check_are_current_and_each_alert_fires() {
    let rules = assert_generated("deploy/alerts.yml", &["alerts"]);
    let Some(promtool) = peer("promtool", "prometheus") else {
        return;
    };
    let dir = Dir::new("alerts");
    promtool_check_rules(&promtool, &dir, "alerts.yml", &rules);

    // One instance `a`, group node/load, output remote_write: everything
    // that can go wrong does, from the first minute.
    let group = r#"job="pme",instance="a",service="node",group="load""#;
    let output = r#"job="pme",instance="a",output="remote_write""#;
    let series = [
        (r#"up{job="pme",instance="a"}"#.to_owned(), "0x20"),
        (format!("pme_source_up{{{group}}}"), "0x20"),
        (format!("pme_last_success_timestamp_seconds{{{group}}}"), "0x20"),
        (format!("pme_collection_interval_seconds{{{group}}}"), "15x20"),
        (format!("pme_output_failures_total{{{output}}}"), "0+1x20"),
        (format!("pme_output_dropped_samples_total{{{output}}}"), "0+100x20"),
        (
            r#"pme_cardinality_rejected_total{job="pme",instance="a",metric="app_requests_total",reason="max_series"}"#.to_owned(),
            "0+1x20",
        ),
        (format!("pme_series_dropped_total{{{group}}}"), "0+40x20"),
    ];
    let group_labels = vec![
        ("job", "pme"),
        ("instance", "a"),
        ("service", "node"),
        ("group", "load"),
    ];
    // The label sets of the alerts each rule raises.
    let labels_of = |alert: &str| -> Vec<Vec<(&str, &str)>> {
        vec![match alert {
            "PmeDown" => vec![("job", "pme"), ("instance", "a")],
            "PmeGroupFailing" | "PmeGroupStale" => group_labels.clone(),
            "PmeOutputFailing" | "PmeOutputDroppingSamples" => {
                vec![
                    ("job", "pme"),
                    ("instance", "a"),
                    ("output", "remote_write"),
                ]
            }
            // An instrument's refusals, and a group's drops over max_series.
            "PmeSeriesRefused" => {
                return vec![
                    vec![
                        ("job", "pme"),
                        ("instance", "a"),
                        ("metric", "app_requests_total"),
                        ("reason", "max_series"),
                    ],
                    group_labels.clone(),
                ];
            }
            other => panic!("a new alert, {other}: give it a series that makes it fire"),
        }]
    };
    let mut test = String::from(
        "rule_files: [alerts.yml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n",
    );
    for (name, values) in &series {
        test.push_str(&format!(
            "      - series: '{name}'\n        values: '{values}'\n"
        ));
    }
    test.push_str("    alert_rule_test:\n");
    let found = annotations(&rules);
    assert_eq!(found.len(), 6, "{rules}");
    for (alert, summary, description) in &found {
        let severity = if alert == "PmeDown" {
            "critical"
        } else {
            "warning"
        };
        test.push_str(&format!(
            "      - eval_time: 15m\n        alertname: {alert}\n        exp_alerts:\n"
        ));
        for labels in labels_of(alert) {
            let expand = |text: &str| {
                labels.iter().fold(text.to_owned(), |t, (k, v)| {
                    t.replace(&format!("{{{{ $labels.{k} }}}}"), v)
                })
            };
            let mut exp_labels: Vec<String> =
                labels.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            exp_labels.push(format!("severity: {severity}"));
            test.push_str(&format!(
                "          - exp_labels: {{{}}}\n            exp_annotations:\n              summary: '{}'\n              description: '{}'\n",
                exp_labels.join(", "),
                expand(summary).replace('\'', "''"),
                expand(description).replace('\'', "''"),
            ));
        }
    }
    promtool_rules(&promtool, &dir, "test", "alerts_test.yml", &test);

    // Another job name goes into every selector.
    let other = alerts("node-agents");
    assert_eq!(other.matches(r#"job="node-agents""#).count(), 9, "{other}");
    assert!(!other.contains(r#"job="pme""#));
}
