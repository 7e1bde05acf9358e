//! Probing many machines from one per-request service without opening the
//! closed world: declared targets (`/metrics/sites?target=eu`) and a
//! parameter that fills only a URL's host and port
//! (`/metrics/nodes?target=127.0.0.1:9100`). A request that would reach
//! anything else is a 400 and nothing is read; a real Prometheus drives
//! both with the `relabel_configs` json_exporter's users already write.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::embedded::{Served, relocate, targets};
use crate::prometheus::{query, spawn_prometheus};
use crate::util::http_server::TestServer;
use crate::util::{Dir, assert_valid_exposition, get, peer, value_of, wait_for};

/// The addresses `tests/specs/targets.yaml` names for its two servers.
const SPEC_EU: &str = "127.77.3.1:18781";
const SPEC_US: &str = "127.77.3.2:18781";

/// Two servers, eu and us, each counting the requests it answers, and
/// the spec served with their addresses.
struct Setup {
    eu: TestServer,
    us: TestServer,
    served: Served,
}

impl Setup {
    fn start() -> Setup {
        let (eu, us) = (TestServer::start(), TestServer::start());
        let plan = relocate(
            &targets::PLAN,
            &[
                (SPEC_EU, eu.addr.to_string()),
                (SPEC_US, us.addr.to_string()),
            ],
        );
        Setup {
            eu,
            us,
            served: Served::start(plan),
        }
    }

    fn counted(&self) -> (u64, u64) {
        (
            self.eu.seen.counted.load(Ordering::SeqCst),
            self.us.seen.counted.load(Ordering::SeqCst),
        )
    }
}

#[test]
fn a_request_chooses_a_declared_target_or_a_host_and_nothing_else() {
    let setup = Setup::start();
    let metrics = setup.served.metrics;

    // A declared target: its server is read, with its labels.
    let eu = get(metrics, "/metrics/sites?target=eu");
    assert_eq!(eu.status, 200, "{}", eu.text());
    let body = eu.text();
    assert_valid_exposition(body.as_bytes());
    assert_eq!(
        value_of(&body, r#"site_requests{region="eu"}"#),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        value_of(&body, r#"pme_source_up{service="sites",group="counted"}"#),
        Some(1.0)
    );
    assert_eq!(setup.counted(), (1, 0), "only eu's server was asked");
    let us = get(metrics, "/metrics/sites?target=us").text();
    assert_eq!(
        value_of(&us, r#"site_requests{region="us"}"#),
        Some(1.0),
        "{us}"
    );
    assert_eq!(setup.counted(), (1, 1));

    // A host and port as the parameter: that machine, the spec's scheme and path.
    let node = get(metrics, &format!("/metrics/nodes?target={}", setup.us.addr)).text();
    assert_eq!(value_of(&node, "node_agent_requests"), Some(2.0), "{node}");
    assert_eq!(setup.counted(), (1, 2));
    // A machine that does not answer is an error metric, not an error page.
    let down = get(
        metrics,
        &format!("/metrics/nodes?target={}", setup.us.refused),
    );
    assert_eq!(down.status, 200);
    assert_eq!(
        value_of(
            &down.text(),
            r#"pme_source_up{service="nodes",group="counted"}"#
        ),
        Some(0.0),
        "{}",
        down.text()
    );
    assert_eq!(value_of(&down.text(), "node_agent_requests"), None);

    let port = setup.us.addr.port();
    let hostile: Vec<(String, &str)> = vec![
        // Targets: only the declared names, exactly as declared.
        ("sites?target=https://evil.example".into(), "unknown target"),
        ("sites?target=EU".into(), "unknown target"),
        ("sites?target=..%2Feu".into(), "unknown target"),
        ("sites?target=eu%00".into(), "unknown target"),
        ("sites?target=eu&target=us".into(), "given twice"),
        (
            "sites?target=eu&url=http://evil".into(),
            "unknown parameter `url`",
        ),
        (
            "sites".into(),
            "missing parameter `target`; `sites` declares `eu`, `us`",
        ),
        // A host parameter: whatever the pattern lets through, only a host and port.
        (
            format!("nodes?target=evil.example%40127.0.0.1:{port}"),
            "not a host",
        ),
        (
            format!("nodes?target=127.0.0.1:{port}%2Fadmin"),
            "not a host",
        ),
        (format!("nodes?target=127.0.0.1:{port}%3Fx=1"), "not a host"),
        (format!("nodes?target=127.0.0.1:{port}%23x"), "not a host"),
        (
            "nodes?target=file:%2F%2F%2Fetc%2Fpasswd".into(),
            "not a host",
        ),
        (
            "nodes?target=127.0.0.1%2F..%2Fadmin".into(),
            "`..` path segments",
        ),
        ("nodes?target=127.0.0.1:99999".into(), "port `99999`"),
        ("nodes?target=-x".into(), "may not start with `-`"),
        ("nodes?target=a%0Ab".into(), "control characters"),
        (
            format!("nodes?target=127.0.0.1:{port}&path=x"),
            "unknown parameter `path`",
        ),
    ];
    for (query, reason) in &hostile {
        let r = get(metrics, &format!("/metrics/{query}"));
        assert_eq!(r.status, 400, "{query}: {}", r.text());
        assert!(r.text().contains(reason), "{query}: {}", r.text());
    }
    assert_eq!(
        setup.counted(),
        (1, 2),
        "no refused request reached a server"
    );

    let landing = get(metrics, "/").text();
    assert!(
        landing.contains("per request: <code>/metrics/sites?target=eu|us</code>"),
        "{landing}"
    );
    assert!(
        !get(metrics, "/metrics").text().contains("site_requests"),
        "per-request services are not in /metrics"
    );
}

/// Prometheus scrapes `/metrics/<service>` with the target as a query
/// parameter, set by `relabel_configs` from the target list, exactly as
/// for json_exporter's `/probe`. An undeclared target is a failed scrape.
#[test]
fn prometheus_relabels_its_targets_into_the_query() {
    let Some(prometheus) = peer("prometheus", "prometheus") else {
        return;
    };
    let setup = Setup::start();
    let pme = setup.served.metrics;
    let relabel = format!(
        "    relabel_configs:\n      \
         - {{source_labels: [__address__], target_label: __param_target}}\n      \
         - {{source_labels: [__param_target], target_label: instance}}\n      \
         - {{target_label: __address__, replacement: '{pme}'}}\n"
    );
    let node = setup.eu.addr.to_string();
    let config = format!(
        "global: {{scrape_interval: 1s, scrape_timeout: 1s}}\nscrape_configs:\n  \
         - job_name: sites\n    metrics_path: /metrics/sites\n    \
           static_configs: [{{targets: [eu, us, evil]}}]\n{relabel}  \
         - job_name: nodes\n    metrics_path: /metrics/nodes\n    \
           static_configs: [{{targets: ['{node}']}}]\n{relabel}"
    );
    let dir = Dir::new("prometheus-targets");
    let prom = spawn_prometheus(&prometheus, &config, dir.path(), &[]);
    let value = |promql: &str| {
        query(&prom, promql).and_then(|r| r["value"][1].as_str()?.parse::<f64>().ok())
    };
    let wait = Duration::from_secs(60);
    for region in ["eu", "us"] {
        let series =
            format!(r#"site_requests{{job="sites",instance="{region}",region="{region}"}}"#);
        let n = wait_for(wait, &series, || value(&series));
        assert!(n >= 1.0, "{series} = {n}");
        assert_eq!(
            value(&format!(r#"up{{job="sites",instance="{region}"}}"#)),
            Some(1.0)
        );
    }
    let series = format!(r#"node_agent_requests{{job="nodes",instance="{node}"}}"#);
    wait_for(wait, &series, || value(&series));
    // `evil` is no declared target: pme answers 400, Prometheus marks it down.
    let evil = r#"up{job="sites",instance="evil"}"#;
    assert_eq!(wait_for(wait, evil, || value(evil)), 0.0);
    let (eu, us) = setup.counted();
    assert!(eu >= 1 && us >= 1, "both servers were read: {eu}, {us}");
}
