//! HTTP sources in real networks: a private CA, mutual TLS and the name a
//! certificate carries, against pme's own HTTPS listener with certificates
//! made by `openssl`; a CA file replaced, or appearing, while pme runs; a proxy, by
//! `CONNECT` tunnel and in absolute form, from `proxy_url` and from the
//! environment; accepted status codes; a fixed cache lifetime. Each way a
//! connection can be refused (unknown CA, wrong name, expired certificate,
//! no client certificate, proxy asking for credentials) is that group's
//! error, with its reason, while the others stay up.

use std::path::Path;
use std::process::Command;

use crate::web::run;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::embedded::{Served, env_proxy, http_network, relocate, tls_upstream};
use crate::util::http_server::{self, TestServer};
use crate::util::proxy::Proxy;
use crate::util::{Dir, get, last_error, peer, skipped, value_of, wait_for};

/// The addresses `tests/specs/http_network.yaml` names.
const UPSTREAM: &str = "127.77.1.3:18783";
const PROXY: &str = "127.77.1.4:18784";
const EXPIRED: &str = "127.77.1.5:18785";
const REFUSING_PROXY: &str = "127.77.1.6:18786";

/// The web test's CA and client certificates, plus two server
/// certificates for `api.internal` from the same CA: one valid, one that
/// expired in 2020.
fn certificates(openssl: &Path, dir: &Path) {
    crate::web::certificates(openssl, dir);
    std::fs::write(dir.join("api.ext"), "subjectAltName=DNS:api.internal\n").unwrap();
    crate::web::signed(openssl, dir, "api", "/CN=api.internal", "ca", "api.ext");
    // `openssl x509` cannot write a date in the past; `openssl ca` can.
    std::fs::write(dir.join("index.txt"), "").unwrap();
    std::fs::write(dir.join("serial"), "1000\n").unwrap();
    std::fs::write(
        dir.join("ca.cnf"),
        "[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\n\
         default_md = sha256\npolicy = p\n[p]\ncommonName = supplied\n",
    )
    .unwrap();
    run(
        openssl,
        &[
            "ca",
            "-batch",
            "-config",
            "ca.cnf",
            "-cert",
            "ca.crt",
            "-keyfile",
            "ca.key",
            "-in",
            "api.csr",
            "-startdate",
            "20200101000000Z",
            "-enddate",
            "20200102000000Z",
            "-extfile",
            "api.ext",
            "-out",
            "expired.crt",
        ],
        dir,
    );
}

/// pme serving `tests/specs/tls_upstream.yaml` over HTTPS with `cert`,
/// asking every client for a certificate from `ca.crt`.
fn upstream(dir: &Path, cert: &str) -> Served {
    let config = dir.join(format!("web-{cert}.yml"));
    std::fs::write(
        &config,
        format!(
            "tls_server_config:\n  cert_file: {cert}.crt\n  key_file: api.key\n  \
             client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n"
        ),
    )
    .unwrap();
    Served::start_with(
        &tls_upstream::PLAN,
        &[&format!("--web.config.file={}", config.display())],
    )
}

#[test]
fn tls_proxies_status_codes_and_cache_lifetimes() {
    let Some(openssl) = peer("openssl", "openssl") else {
        return skipped("openssl", "apt-get install openssl");
    };
    let dir = Dir::new("http-network");
    let tls = dir.join("tls");
    std::fs::create_dir(&tls).unwrap();
    certificates(&openssl, &tls);
    // The CA file of the `reloaded` group starts as the wrong one.
    std::fs::copy(tls.join("rogue-ca.crt"), tls.join("reloaded-ca.crt")).unwrap();

    let server = TestServer::start();
    let api = upstream(&tls, "api");
    let expired = upstream(&tls, "expired");
    let proxy = Proxy::start(
        &[
            ("api.internal:18783", api.metrics),
            ("status.internal:18781", server.addr),
        ],
        None,
    );
    let refusing = Proxy::start(&[("api.internal:18783", api.metrics)], Some("Basic dTpw"));
    let plan = relocate(
        &http_network::PLAN,
        &[
            (crate::embedded::SPEC_DIR, dir.display()),
            (http_server::SPEC_ADDR, server.addr.to_string()),
            (UPSTREAM, api.metrics.to_string()),
            (EXPIRED, expired.metrics.to_string()),
            (PROXY, proxy.addr.to_string()),
            (REFUSING_PROXY, refusing.addr.to_string()),
        ],
    );
    let served = Served::start(plan);
    let body = || get(served.metrics, "/metrics").text();
    wait_for(Duration::from_secs(20), "the mutual-TLS source", || {
        (value_of(&body(), "trusted_value") == Some(42.0)).then_some(())
    });
    let health = || -> serde_json::Value {
        serde_json::from_slice(&get(served.health, "/health").body).unwrap()
    };

    // Verified, unverified and tunnelled readings of the same value.
    let text = body();
    for name in ["trusted_value", "insecure_value", "proxied_value"] {
        assert_eq!(value_of(&text, name), Some(42.0), "{name}");
    }
    // Each refusal is its group's error, with the reason.
    let h = health();
    for (group, reason) in [
        ("wrong_ca", "invalid peer certificate: UnknownIssuer"),
        ("mozilla_roots", "invalid peer certificate: UnknownIssuer"),
        ("wrong_name", "certificate not valid for name \"127.0.0.1\""),
        ("expired", "invalid peer certificate: certificate expired"),
        ("no_client_cert", "CertificateRequired"),
        (
            "proxy_refusing",
            "proxy CONNECT: tunnel error: proxy authorization required",
        ),
        ("maintenance_refused", "answered 503 Service Unavailable"),
        ("reloaded", "invalid peer certificate: UnknownIssuer"),
        ("appearing", "later-ca.crt: No such file or directory"),
    ] {
        let error = last_error(&h, group);
        assert!(
            error.contains(reason),
            "{group}: {reason:?} not in {error:?}"
        );
    }
    assert_eq!(value_of(&text, "no_client_cert_value"), Some(-1.0));
    assert_eq!(value_of(&text, "maintenance_value"), Some(3.0));
    assert_eq!(value_of(&text, "maintenance_refused_value"), None);

    // The right CA replaces the wrong one while pme runs: the next read
    // makes its client again and succeeds.
    // So does a CA file missing at start once it appears.
    std::fs::copy(tls.join("ca.crt"), tls.join("reloaded-ca.crt")).unwrap();
    std::fs::copy(tls.join("ca.crt"), tls.join("later-ca.crt")).unwrap();
    wait_for(Duration::from_secs(10), "the replaced CA file", || {
        let text = body();
        (value_of(&text, "reloaded_value") == Some(42.0)
            && value_of(&text, "appearing_value") == Some(42.0))
        .then_some(())
    });
    assert_eq!(
        value_of(&body(), r#"pme_source_up{service="tls",group="reloaded"}"#),
        Some(1.0)
    );

    // The proxy saw a tunnel for https:// and an absolute-form GET for
    // http://; the refusing one was asked for a tunnel without credentials.
    let lines = proxy.lines();
    assert!(
        lines
            .iter()
            .any(|l| l == "CONNECT api.internal:18783 HTTP/1.1"),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l == "GET http://status.internal:18781/counted-by-proxy.json HTTP/1.1"),
        "{lines:?}"
    );
    assert_eq!(
        server.seen.proxied_uri.lock().unwrap().as_str(),
        "http://status.internal:18781/counted-by-proxy.json"
    );
    assert_eq!(value_of(&body(), "forwarded_value"), Some(5.0));
    assert!(
        refusing
            .seen
            .lock()
            .unwrap()
            .iter()
            .all(|(_, auth)| auth.is_none()),
        "no credentials were sent"
    );

    // `cache: 1h`: one request, however many collections.
    let series = r#"pme_collections_total{service="status",group="kept"}"#;
    wait_for(Duration::from_secs(10), "three collections", || {
        value_of(&body(), series).filter(|n| *n >= 3.0)
    });
    assert_eq!(server.seen.counted.load(Ordering::SeqCst), 1);
    assert_eq!(value_of(&body(), "kept_value"), Some(1.0));
}

/// Set in the child process of [`proxies_from_the_environment`]: the test
/// server's address.
const CHILD: &str = "PME_TEST_ENV_PROXY_SERVER";

/// `HTTP_PROXY` applies to names and not to loopback addresses. The
/// variables are read when pme makes its clients, so the test runs pme in
/// a child process of this test binary that has them (setting them in
/// this process would race with every other test).
#[test]
fn proxies_from_the_environment() {
    if let Ok(server) = std::env::var(CHILD) {
        return child(&server);
    }
    let server = TestServer::start();
    let proxy = Proxy::start(&[("status.internal:18781", server.addr)], None);
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "http_network::proxies_from_the_environment",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, server.addr.to_string())
        .env("HTTP_PROXY", format!("http://{}", proxy.addr))
        .env("NO_PROXY", "other.internal")
        .env_remove("http_proxy")
        .env_remove("no_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .output()
        .unwrap();
    let output =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{output}");
    assert!(
        output.contains("1 passed"),
        "the child ran the test: {output}"
    );
    let lines = proxy.lines();
    assert!(
        lines
            .iter()
            .any(|l| l == "GET http://status.internal:18781/counted-by-proxy.json HTTP/1.1"),
        "{lines:?}"
    );
    assert!(
        lines.iter().all(|l| !l.contains("127.")),
        "a loopback address went through the proxy: {lines:?}"
    );
}

fn child(server: &str) {
    let plan = relocate(
        &env_proxy::PLAN,
        &[(http_server::SPEC_ADDR, server.to_owned())],
    );
    let served = Served::start(plan);
    let text = wait_for(Duration::from_secs(20), "both sources", || {
        let text = get(served.metrics, "/metrics").text();
        (value_of(&text, "by_name_value").is_some() && value_of(&text, "loopback_up").is_some())
            .then_some(text)
    });
    assert_eq!(value_of(&text, "by_name_value"), Some(5.0));
    assert_eq!(value_of(&text, "loopback_up"), Some(1.0));
}
