//! Re-imported families relabelled with Prometheus' own
//! `metric_relabel_configs` and `honor_labels`: on a fixed exposition
//! (whose `sample`/`expect` the build already checked), on rules that
//! would merge two series (refused and reported, never summed), and on a
//! real node_exporter's output.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::embedded::{Served, relabel, relocate};
use crate::util::http_server::SPEC_ADDR;
use crate::util::{
    Daemon, Dir, assert_valid_exposition, get, last_error, peer, value_of, wait_for,
};

const WAIT: Duration = Duration::from_secs(30);

#[test]
fn metric_relabel_configs_act_as_in_prometheus() {
    // Without node_exporter, the `node` group fails and the rest still runs.
    let node_exporter = peer("prometheus-node-exporter", "prometheus-node-exporter");
    let textfiles = Dir::new("relabel-node-textfiles");
    let mut node = node_exporter.as_ref().map(|binary| {
        Daemon::start(
            binary,
            &[
                "--web.listen-address=127.0.0.1:0".to_owned(),
                format!("--collector.textfile.directory={}", textfiles.display()),
            ],
        )
    });
    let node_addr = node.as_mut().map(Daemon::listening);
    let plan = relocate(
        &relabel::PLAN,
        &[(
            SPEC_ADDR,
            node_addr.map_or_else(|| "127.0.0.1:9".to_owned(), |a| a.to_string()),
        )],
    );
    let served = Served::start(plan);
    let scrape = || get(served.metrics, "/metrics").text();
    let body = wait_for(WAIT, "the fixed and merged groups", || {
        let body = scrape();
        let collected = |group: &str| {
            let series =
                format!(r#"pme_collections_total{{service="relabelled",group="{group}"}}"#);
            value_of(&body, &series).filter(|n| *n >= 1.0)
        };
        collected("fixed").and(collected("merged")).map(|_| body)
    });
    assert_valid_exposition(body.as_bytes());

    // honor_labels keeps the sample's job; the rules drop tmpfs, derive
    // disk and host, and drop what they were derived from.
    assert_eq!(
        value_of(
            &body,
            r#"fs_avail_bytes{fstype="ext4",job="node",disk="sda1",host="a"}"#
        ),
        Some(10.0),
        "{body}"
    );
    assert!(!body.contains("tmpfs"), "{body}");
    // Without honor_labels the service's job is added; a histogram keeps
    // its `le` through label rules.
    assert_eq!(
        value_of(&body, r#"rq_seconds_bucket{le="+Inf",job="pme",route="a"}"#),
        Some(2.0),
        "{body}"
    );
    assert_eq!(
        value_of(
            &body,
            r#"pme_source_up{service="relabelled",group="fixed"}"#
        ),
        Some(1.0)
    );

    // Dropping `worker` would give two samples one label set: the first
    // stays, the second is left out and the group says why.
    assert_eq!(
        value_of(&body, r#"jobs_total{queue="a",job="pme"}"#),
        Some(5.0),
        "{body}"
    );
    assert_eq!(body.matches("jobs_total{").count(), 1, "{body}");
    assert_eq!(
        value_of(
            &body,
            r#"pme_source_up{service="relabelled",group="merged"}"#
        ),
        Some(0.0)
    );
    let health: serde_json::Value =
        serde_json::from_str(&get(served.health, "/health").text()).unwrap();
    let error = last_error(&health, "merged");
    assert!(
        error.contains("relabelling left 1 sample(s) with the labels of an earlier one"),
        "{error}"
    );

    // A real node_exporter: only idle and user time, `cpu` renamed `core`.
    let Some(node_addr) = node_addr else {
        return;
    };
    let body = wait_for(WAIT, "node_exporter's CPU time re-imported", || {
        let body = scrape();
        body.contains("node_cpu_seconds_total{").then_some(body)
    });
    let theirs = get(node_addr, "/metrics").text();
    let cpus: BTreeSet<&str> = theirs
        .lines()
        .filter(|l| l.starts_with("node_cpu_seconds_total{"))
        .filter_map(|l| l.split("cpu=\"").nth(1)?.split('"').next())
        .collect();
    let ours: Vec<&str> = body
        .lines()
        .filter(|l| l.starts_with("node_cpu_seconds_total{"))
        .collect();
    assert_eq!(ours.len(), 2 * cpus.len(), "{ours:#?}");
    for line in &ours {
        assert!(
            line.contains(r#"mode="idle""#) || line.contains(r#"mode="user""#),
            "{line}"
        );
        assert!(!line.contains("cpu=\""), "{line}");
    }
    for cpu in &cpus {
        // The source's labels, the service's, then what the rules set.
        let idle = format!(r#"node_cpu_seconds_total{{mode="idle",job="pme",core="cpu{cpu}"}}"#);
        assert!(value_of(&body, &idle).is_some(), "cpu {cpu}: {ours:#?}");
    }
    assert_valid_exposition(body.as_bytes());
}
