//! `content_type: prometheus` against a real local HTTP server: selection,
//! renaming, prefixes, constant labels, every type passing through (text
//! and OpenMetrics sources), and bad readings.

use std::time::Duration;

use crate::embedded::{Served, owned, reimport};
use crate::util::http_server::TestServer;
use crate::util::{Dir, assert_valid_exposition, get, value_of, wait_for};

#[test]
fn reimported_families_keep_their_types_and_take_names_and_labels() {
    let (dir, server) = (Dir::new("reimport"), TestServer::start());
    let served = Served::start(owned(&reimport::PLAN, &dir, Some(&server)));
    wait_for(Duration::from_secs(20), "/ready", || {
        (get(served.health, "/ready").status == 200).then_some(())
    });
    // Two more cycles: the flaky source has failed by then.
    std::thread::sleep(Duration::from_millis(2500));
    let body = get(served.metrics, "/metrics").text();
    assert_valid_exposition(body.as_bytes());
    let has = |line: &str| body.lines().any(|l| l == line);

    // Selected, prefixed (service `up`), with the service's label.
    assert_eq!(
        value_of(&body, r#"up_node_load1{origin="upstream"}"#),
        Some(0.25)
    );
    assert!(has("# HELP up_node_load1 1m load average."), "{body}");
    assert!(has("# TYPE up_node_load1 gauge"));
    // Renamed.
    assert_eq!(
        value_of(&body, r#"up_memory_available_bytes{origin="upstream"}"#),
        Some(1.6e9)
    );
    assert!(
        !body.contains("node_memory_MemAvailable_bytes"),
        "the old name is gone"
    );
    // A regex on the name, a negative label matcher, a constant label.
    let fs = r#"up_node_filesystem_avail_bytes{device="/dev/sda1",fstype="ext4",mountpoint="/",origin="upstream",source="node"}"#;
    assert_eq!(value_of(&body, fs), Some(1.2e10));
    assert!(body.contains("up_node_filesystem_size_bytes{"));
    assert!(!body.contains("tmpfs"), "fstype!=\"tmpfs\" left those out");
    // A counter whose own `origin` label is kept as `exported_origin`, as
    // Prometheus keeps a target's clashing labels; escapes and the
    // timestamp survive.
    assert!(has("# TYPE up_http_requests_total counter"));
    assert!(
        has(
            r#"# HELP up_http_requests_total Requests served, by path "and" origin.\n Second line."#
        ),
        "{body}"
    );
    assert!(
        has(
            r#"up_http_requests_total{path="/a\"b\\c\nd",exported_origin="internal",origin="upstream"} 1027 1700000000000"#
        ),
        "{body}"
    );
    // Histogram and summary, whole.
    assert!(has("# TYPE up_http_request_duration_seconds histogram"));
    assert_eq!(
        value_of(
            &body,
            r#"up_http_request_duration_seconds_bucket{le="+Inf",origin="upstream"}"#
        ),
        Some(16.0)
    );
    assert_eq!(
        value_of(
            &body,
            r#"up_http_request_duration_seconds_count{origin="upstream"}"#
        ),
        Some(16.0)
    );
    assert!(has("# TYPE up_rpc_duration_seconds summary"));
    assert_eq!(
        value_of(
            &body,
            r#"up_rpc_duration_seconds{quantile="0.99",origin="upstream"}"#
        ),
        Some(0.3)
    );
    assert!(!body.contains("go_goroutines"), "not selected");
    assert!(
        server
            .seen
            .upstream_accept
            .lock()
            .unwrap()
            .starts_with("text/plain;version=0.0.4"),
        "pme asks for the text format"
    );

    // OpenMetrics: counter, info, stateset and unit in text-format terms.
    assert!(has("# TYPE up_om_jobs_total counter"), "{body}");
    assert_eq!(
        value_of(&body, r#"up_om_jobs_total{queue="a",origin="upstream"}"#),
        Some(5.0)
    );
    assert!(has("# TYPE up_om_jobs_created gauge"));
    assert!(has("# TYPE up_om_build_info gauge"));
    assert_eq!(
        value_of(
            &body,
            r#"up_om_build_info{version="1.2.3",origin="upstream"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        value_of(&body, r#"up_om_state{state="ready",origin="upstream"}"#),
        Some(1.0)
    );
    assert_eq!(
        value_of(&body, r#"up_om_temperature_celsius{origin="upstream"}"#),
        Some(21.5)
    );
    assert!(
        !body.contains("trace_id"),
        "no exemplars in the text format"
    );

    // The spec's sample check ran at build time; the live value is served.
    assert_eq!(
        value_of(&body, r#"checked_a_total{x="1",kind="static"}"#),
        Some(2.0)
    );

    // Bad readings: the group reports, values follow the spec, others live on.
    let health: serde_json::Value =
        serde_json::from_slice(&get(served.health, "/health").body).unwrap();
    let error_of = |group: &str| crate::util::last_error(&health, group);
    assert!(
        error_of("malformed").contains("line 2"),
        "{}",
        error_of("malformed")
    );
    assert!(
        !body.contains("broken_malformed_"),
        "nothing from a broken reading"
    );
    assert!(
        error_of("flaky").contains("`four` is not a number"),
        "{}",
        error_of("flaky")
    );
    assert_eq!(
        value_of(&body, "broken_flaky_kept"),
        Some(4.0),
        "last good value kept"
    );
    assert!(
        value_of(&body, "broken_flaky_nan").unwrap().is_nan(),
        "value_on_error"
    );
    for (group, up) in [
        ("node", 1.0),
        ("openmetrics", 1.0),
        ("malformed", 0.0),
        ("flaky", 0.0),
    ] {
        let service = if up == 1.0 { "upstream" } else { "broken" };
        assert_eq!(
            value_of(
                &body,
                &format!(r#"pme_source_up{{service="{service}",group="{group}"}}"#)
            ),
            Some(up),
            "{group}"
        );
    }
    // Names the spec declares are not taken by an import.
    assert_eq!(value_of(&body, "broken_plain"), Some(7.0));
    assert_eq!(value_of(&body, "imported_ok"), Some(1.0));
    assert!(
        error_of("taken").contains("`pme_source_up` is also the name"),
        "{}",
        error_of("taken")
    );
    assert_eq!(body.matches("# TYPE broken_plain ").count(), 1);
    assert_eq!(body.matches("# TYPE pme_source_up ").count(), 1);
    drop(served);
}
