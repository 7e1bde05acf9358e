//! Pull: content negotiation (OpenMetrics or text), gzip, HEAD, and the
//! per-generation cache, on the real binary.

use std::io::Read;
use std::time::Duration;

use crate::util::{Exporter, get, request_with, wait_for};

/// Prometheus 2.x's scrape `Accept` header.
const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut out)
        .expect("a gzip body");
    out
}

#[test]
fn negotiates_formats_and_gzip_from_one_cache() {
    let pme = Exporter::start(&[]);
    wait_for(Duration::from_secs(20), "/ready", || {
        (get(pme.health, "/ready").status == 200).then_some(())
    });
    let fetch = |accept: &str, encoding: &str| {
        let mut headers = vec![("Accept", accept)];
        if !encoding.is_empty() {
            headers.push(("Accept-Encoding", encoding));
        }
        request_with(pme.metrics, "GET", "/metrics", &headers)
    };

    // Between two collections every answer comes from the same bytes; a
    // collection may land in between, so look for a quiet moment (bounded).
    let (text, om, om_gzip, text_gzip) = wait_for(
        Duration::from_secs(30),
        "four answers from one generation",
        || {
            let text = fetch("text/plain;version=0.0.4", "");
            let om = fetch(PROMETHEUS_ACCEPT, "");
            let om_gzip = fetch(PROMETHEUS_ACCEPT, "gzip");
            let text_gzip = fetch("*/*", "deflate, gzip;q=0.8");
            let again = fetch("text/plain;version=0.0.4", "");
            (again.body == text.body).then_some((text, om, om_gzip, text_gzip))
        },
    );
    assert_eq!(
        text.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert_eq!(text.header("content-encoding"), None);
    assert_eq!(text.header("vary"), Some("Accept, Accept-Encoding"));
    assert_eq!(
        om.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    let om_body = om.text();
    assert!(om_body.ends_with("# EOF\n"), "{om_body}");
    assert!(
        om_body.contains("# TYPE pme_system_kernel info\n"),
        "{om_body}"
    );
    assert!(
        om_body.contains("# TYPE pme_collections counter\n"),
        "{om_body}"
    );
    assert_eq!(om_gzip.header("content-encoding"), Some("gzip"));
    assert_eq!(om_gzip.header("content-type"), om.header("content-type"));
    assert_eq!(gunzip(&om_gzip.body), om.body);
    assert!(
        om_gzip.body.len() * 3 < om.body.len(),
        "gzip should shrink text"
    );
    assert_eq!(text_gzip.header("content-encoding"), Some("gzip"));
    assert_eq!(gunzip(&text_gzip.body), text.body);

    // HEAD: the headers of GET, its length, no body.
    let head = wait_for(Duration::from_secs(30), "a quiet moment for HEAD", || {
        let head = request_with(
            pme.metrics,
            "HEAD",
            "/metrics",
            &[("Accept", PROMETHEUS_ACCEPT)],
        );
        let get = fetch(PROMETHEUS_ACCEPT, "");
        (head.header("content-length") == Some(&get.body.len().to_string())).then_some(head)
    });
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-type"), om.header("content-type"));

    // One service, in both formats.
    let one = request_with(
        pme.metrics,
        "GET",
        "/metrics/node",
        &[("Accept", PROMETHEUS_ACCEPT)],
    );
    assert_eq!(one.status, 200);
    assert!(one.text().ends_with("# EOF\n"));
    assert!(one.text().contains("node_load1{"));
}
