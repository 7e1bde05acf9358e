//! `pme dashboard`: the committed `deploy/dashboard.json` is what the
//! binary prints now; its layout is a valid grid; every family of the
//! catalog has its panel, chosen by type; and every PromQL query parses,
//! checked by `promtool` as a recording rule.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::util::{Dir, assert_generated, peer, pme_stdout, promtool_check_rules};

#[test]
fn the_dashboard_is_current_and_every_query_parses() {
    let text = assert_generated("deploy/dashboard.json", &["dashboard"]);
    let dashboard: Value = serde_json::from_str(&text).unwrap();
    let panels = dashboard["panels"].as_array().unwrap();

    // Unique ids; panels inside the 24-unit grid and never overlapping.
    let ids: BTreeSet<u64> = panels.iter().map(|p| p["id"].as_u64().unwrap()).collect();
    assert_eq!(ids.len(), panels.len());
    let mut cells = BTreeSet::new();
    for p in panels {
        let g = &p["gridPos"];
        let (x, y, w, h) = (
            g["x"].as_u64().unwrap(),
            g["y"].as_u64().unwrap(),
            g["w"].as_u64().unwrap(),
            g["h"].as_u64().unwrap(),
        );
        assert!(x + w <= 24, "{p}");
        for cx in x..x + w {
            for cy in y..y + h {
                assert!(
                    cells.insert((cx, cy)),
                    "panel {} overlaps another",
                    p["title"]
                );
            }
        }
    }

    // Each family of the catalog has a panel, its query chosen by type.
    let catalog: Value = serde_json::from_str(&pme_stdout(&["describe"])).unwrap();
    let exprs: Vec<(&str, &str)> = panels
        .iter()
        .filter_map(|p| Some((p["title"].as_str()?, p["targets"][0]["expr"].as_str()?)))
        .collect();
    let expr_of = |title: &str| {
        exprs
            .iter()
            .find(|(t, _)| *t == title)
            .map(|(_, e)| *e)
            .unwrap_or_else(|| panic!("no panel for {title}"))
    };
    for f in catalog["families"].as_array().unwrap() {
        let name = f["name"].as_str().unwrap();
        match f["type"].as_str().unwrap() {
            "collector" => {
                // Typed by the collector's own declaration.
                for (family, kind) in f["family_types"].as_object().unwrap() {
                    let expr = expr_of(family);
                    assert_eq!(expr.starts_with("rate("), kind == "counter", "{expr}");
                }
            }
            "counter" => assert!(expr_of(name).starts_with(&format!("rate({name}{{"))),
            "imported" => {}
            _ => assert!(expr_of(name).starts_with(&format!("{name}{{job=\"pme\"}}"))),
        }
    }
    assert!(expr_of("Groups down").contains("pme_source_up"));
    assert!(expr_of("Series dropped over max_series").contains("pme_series_dropped_total"));

    // Every query parses: promtool checks each as a recording rule, with
    // Grafana's `$__rate_interval` as Grafana would fill it in.
    let Some(promtool) = peer("promtool", "prometheus") else {
        return;
    };
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (i, (_, expr)) in exprs.iter().enumerate() {
        let expr = expr.replace("$__rate_interval", "5m").replace('\'', "''");
        rules.push_str(&format!(
            "      - record: pme_dashboard:panel_{i}\n        expr: '{expr}'\n"
        ));
    }
    let dir = Dir::new("dashboard");
    promtool_check_rules(&promtool, &dir, "dashboard_rules.yml", &rules);
    assert!(exprs.len() > 40, "only {} queries", exprs.len());
}

/// Another job name goes into every query.
#[test]
fn the_job_name_goes_into_every_query() {
    let other = pme_stdout(&["dashboard", "--job", "node-agents"]);
    let dashboard: Value = serde_json::from_str(&other).unwrap();
    for p in dashboard["panels"].as_array().unwrap() {
        if let Some(expr) = p["targets"][0]["expr"].as_str() {
            assert!(expr.contains(r#"job="node-agents""#), "{expr}");
        }
    }
    assert!(!other.contains(r#"job=\"pme\""#));
}
