//! HTTP sources with JSON content against a real local HTTP server: values,
//! iteration, credentials read at run time, POST, caching, and every way a
//! response can be bad.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::embedded::{Served, http_json, owned};
use crate::util::http_server::TestServer;
use crate::util::{Dir, assert_valid_exposition, get, value_of, wait_for};

/// The HTTP server and the token file the spec names.
fn fixtures() -> (Dir, TestServer) {
    let dir = Dir::new("http-json");
    dir.write("http/token", "tok-123\n");
    (dir, TestServer::start())
}

fn series(service: &str, group: &str) -> String {
    format!(r#"{{service="{service}",group="{group}"}}"#)
}

#[test]
fn http_sources_with_json_content() {
    let (dir, server) = fixtures();
    let served = Served::start(owned(&http_json::PLAN, &dir, Some(&server)));
    wait_for(Duration::from_secs(20), "/ready", || {
        (get(served.health, "/ready").status == 200).then_some(())
    });
    // Long enough for the cached source's max-age (2 s) to lapse once.
    std::thread::sleep(Duration::from_millis(3500));
    let body = get(served.metrics, "/metrics").text();
    assert_valid_exposition(body.as_bytes());

    for (line, want) in [
        ("api_up", 1.0),
        ("api_load", 0.5),
        ("api_state", 0.5),
        (r#"api_queue_depth{queue="a",position="0"}"#, 3.0),
        (r#"api_queue_depth{queue="b",position="1"}"#, 5.0),
        (r#"api_disk_used_bytes{disk="sda"}"#, 10240.0),
        (r#"api_disk_used_bytes{disk="sdb"}"#, 20480.0),
        (r#"api_version_info{version="1.2.3"}"#, 1.0),
        ("api_private_value", 42.0),
        ("api_basic_value", 7.0),
        ("api_echoed_value", 17.0),
        ("api_cached_value", 99.0),
        (r#"api_xml_connections{server="a"}"#, 12.0),
        (r#"api_xml_connections{server="b"}"#, 7.0),
        (r#"api_xml_server_up{server="a"}"#, 1.0),
        (r#"api_xml_server_up{server="b"}"#, 0.0),
        (r#"api_xml_version_info{version="2"}"#, 1.0),
    ] {
        assert_eq!(value_of(&body, line), Some(want), "{line}:\n{body}");
    }
    for group in [
        "status",
        "authenticated",
        "basic",
        "posted",
        "cached",
        "xml_status",
    ] {
        assert_eq!(
            value_of(&body, &format!("pme_source_up{}", series("api", group))),
            Some(1.0),
            "{group}"
        );
    }

    // Caching: one full response, then revalidations with If-None-Match
    // once max-age lapsed; never one request per collection.
    let full = server.seen.cached_full.load(Ordering::SeqCst);
    let revalidated = server.seen.cached_not_modified.load(Ordering::SeqCst);
    let collections = value_of(
        &body,
        &format!("pme_collections_total{}", series("api", "cached")),
    )
    .unwrap();
    assert_eq!(full, 1, "the body was fetched once");
    assert!(
        revalidated >= 1,
        "a stale entry is revalidated with its ETag"
    );
    assert!(
        (full + revalidated) as f64 <= collections - 2.0,
        "max-age spared requests: {full}+{revalidated} for {collections} collections"
    );

    // Failures: each group reports its own, the others stay up.
    let health: serde_json::Value =
        serde_json::from_slice(&get(served.health, "/health").body).unwrap();
    let error_of = |group: &str| crate::util::last_error(&health, group);
    for (group, expected) in [
        ("slow", "timed out after 500ms"),
        ("server_error", "answered 500 Internal Server Error"),
        ("huge", "content exceeds the limit of 1048576 bytes"),
        ("malformed", "invalid JSON: EOF while parsing"),
        ("not_utf8", "invalid JSON"),
        ("wrong_type", "value is not a scalar"),
        ("missing_key", "`$.nope` selected nothing"),
        ("refused", "Connection refused"),
        ("xml_malformed", "invalid XML"),
        ("xml_dtd", "invalid XML"),
        (
            "unmapped",
            "`degraded` is not in value_map (expected one of `ok`, `down`)",
        ),
    ] {
        let up = value_of(&body, &format!("pme_source_up{}", series("broken", group)));
        assert_eq!(up, Some(0.0), "{group} should be down");
        let error = error_of(group);
        assert!(
            error.contains(expected),
            "{group}: expected {expected:?} in {error:?}"
        );
    }
    assert_eq!(value_of(&body, "broken_slow"), Some(-1.0), "value_on_error");
    assert!(
        value_of(&body, "broken_malformed").unwrap().is_nan(),
        "value_on_error NaN"
    );
    assert_eq!(
        value_of(&body, "broken_server_error"),
        None,
        "no value_on_error: no value"
    );
    drop(served);
}

#[test]
fn credentials_are_not_in_the_binary_or_the_output() {
    // The spec names where the secrets are; only pme's run-time reads see them.
    let source = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/specs/http_json.yaml"
    ))
    .unwrap();
    assert!(!source.contains("tok-123") && !source.contains("s3cret"));
    let (dir, server) = fixtures();
    let (body, _) = crate::embedded::once(owned(&http_json::PLAN, &dir, Some(&server)));
    assert_eq!(
        value_of(&body, "api_private_value"),
        Some(42.0),
        "the token was read at run time"
    );
    assert!(
        !body.contains("tok-123") && !body.contains("s3cret"),
        "{body}"
    );
}
