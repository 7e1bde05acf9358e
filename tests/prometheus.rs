//! A real Prometheus server (Debian `prometheus`) scrapes the real binary
//! on loopback, and its HTTP API returns the values.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::util::{
    Daemon, Dir, Exporter, example, get, peer, promtool_accepts, request, value_of, wait_for,
};

/// A Prometheus server whose configuration and storage live in a
/// directory of the test's own.
pub(crate) struct Prometheus {
    _daemon: Daemon,
    addr: std::net::SocketAddr,
}

pub(crate) fn query(prom: &Prometheus, promql: &str) -> Option<serde_json::Value> {
    let encoded: String = promql
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"_".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let response = get(prom.addr, &format!("/api/v1/query?query={encoded}"));
    let json: serde_json::Value = serde_json::from_slice(&response.body).ok()?;
    let result = json["data"]["result"].as_array()?.first()?.clone();
    Some(result)
}

/// Starts Prometheus with `config`, its files and storage in `dir`, and
/// waits until it is ready.
pub(crate) fn spawn_prometheus(
    binary: &Path,
    config: &str,
    dir: &Path,
    extra: &[&str],
) -> Prometheus {
    let prom = launch_prometheus(binary, config, dir, extra);
    wait_for(Duration::from_secs(60), "Prometheus to be ready", || {
        let response = std::panic::catch_unwind(|| get(prom.addr, "/-/ready")).ok()?;
        (response.status == 200).then_some(())
    });
    prom
}

/// Starts Prometheus and waits only until it listens (behind TLS, the
/// plain-HTTP readiness check cannot ask).
fn launch_prometheus(binary: &Path, config: &str, dir: &Path, extra: &[&str]) -> Prometheus {
    std::fs::create_dir_all(dir).unwrap();
    let file = dir.join("prometheus.yml");
    std::fs::write(&file, config).unwrap();
    let mut args = vec![
        format!("--config.file={}", file.display()),
        format!("--storage.tsdb.path={}", dir.join("data").display()),
        "--web.listen-address=127.0.0.1:0".to_owned(),
    ];
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    let mut daemon = Daemon::start(binary, &args);
    let addr = daemon.listening();
    Prometheus {
        _daemon: daemon,
        addr,
    }
}

/// Starts Prometheus with `scrape_config` as its one job (a YAML mapping
/// written after `- job_name: pme`) and waits until the target is up.
fn start_prometheus(binary: &Path, scrape_config: &str, dir: &Path) -> Prometheus {
    let config = format!(
        "global: {{scrape_interval: 1s, scrape_timeout: 1s}}\nscrape_configs:\n  - job_name: pme\n{scrape_config}"
    );
    let prom = spawn_prometheus(binary, &config, dir, &[]);
    wait_for(
        Duration::from_secs(60),
        "Prometheus to report the target up",
        || {
            let response = std::panic::catch_unwind(|| get(prom.addr, "/api/v1/targets")).ok()?;
            let json: serde_json::Value = serde_json::from_slice(&response.body).ok()?;
            let target = json["data"]["activeTargets"].as_array()?.first()?.clone();
            (target["health"] == "up").then_some(())
        },
    );
    prom
}

/// pme remote-writes to a Prometheus with the receiver enabled; the values
/// come back through its query API with the same names and labels.
#[test]
fn prometheus_receives_remote_write() {
    let Some(prometheus) = peer("prometheus", "prometheus") else {
        return;
    };
    let dir = Dir::new("prometheus-rw");
    let prom = spawn_prometheus(
        &prometheus,
        "global: {scrape_interval: 1m}\n",
        dir.path(),
        &["--web.enable-remote-write-receiver"],
    );
    let pme = Exporter::start(&[
        &format!("--remote-write.url=http://{}/api/v1/write", prom.addr),
        "--remote-write.label=instance=pme-test",
    ]);
    let release =
        String::from_utf8(Command::new("uname").arg("-r").output().unwrap().stdout).unwrap();
    let info = wait_for(
        Duration::from_secs(30),
        "remote-written kernel info",
        || query(&prom, "pme_system_kernel_info"),
    );
    assert_eq!(info["metric"]["release"], release.trim());
    assert_eq!(info["metric"]["instance"], "pme-test");
    let up = query(&prom, r#"pme_source_up{group="load",service="node"}"#).expect("self-metric");
    assert_eq!(up["value"][1], "1");
    let own = get(pme.metrics, "/metrics").text();
    assert_eq!(
        crate::util::value_of(&own, "pme_output_failures_total{output=\"remote_write\"}"),
        Some(0.0),
        "{own}"
    );
}

/// remote_write to a Prometheus that demands a client certificate: with
/// the test CA and pme's certificate the samples arrive; without a
/// certificate, with one from an unknown CA, or trusting the wrong CA,
/// `--once` fails and says why.
#[test]
fn remote_write_reaches_a_prometheus_behind_mutual_tls() {
    let (Some(prometheus), Some(openssl), Some(curl)) = (
        peer("prometheus", "prometheus"),
        peer("openssl", "openssl"),
        peer("curl", "curl"),
    ) else {
        return;
    };
    let keep = Dir::new("prometheus-rw-tls");
    let dir = keep.path();
    crate::web::certificates(&openssl, dir);
    std::fs::write(
        dir.join("web.yml"),
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  \
         client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n",
    )
    .unwrap();
    let web = format!("--web.config.file={}", dir.join("web.yml").display());
    let prom = launch_prometheus(
        &prometheus,
        "global: {scrape_interval: 1m}\n",
        &dir.join("prometheus"),
        &["--web.enable-remote-write-receiver", &web],
    );
    let file = |name: &str| dir.join(name).display().to_string();
    let once = |tls: &[String]| {
        let out = crate::util::pme_command()
            .arg("--once")
            .arg(format!(
                "--remote-write.url=https://{}/api/v1/write",
                prom.addr
            ))
            .arg("--remote-write.label=instance=mtls")
            .args(tls)
            .output()
            .unwrap();
        (
            out.status,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let trusted = format!("--remote-write.ca-file={}", file("ca.crt"));
    let client = [
        format!("--remote-write.cert-file={}", file("client.crt")),
        format!("--remote-write.key-file={}", file("client.key")),
    ];
    // Prometheus takes writes once it is ready: the good send is retried until then.
    let mut good = vec![trusted.clone()];
    good.extend(client.iter().cloned());
    wait_for(Duration::from_secs(60), "a write over mutual TLS", || {
        once(&good).0.success().then_some(())
    });
    let stored =
        wait_for(Duration::from_secs(30), "the written sample", || {
            let out = Command::new(&curl)
            .args(["-sf", "--cacert", &file("ca.crt"), "--cert", &file("client.crt")])
            .args(["--key", &file("client.key")])
            .arg(format!(
                "https://{}/api/v1/query?query=pme_system_kernel_info%7Binstance%3D%22mtls%22%7D",
                prom.addr
            ))
            .output()
            .ok()?;
            let json: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
            json["data"]["result"].as_array()?.first().cloned()
        });
    assert_eq!(stored["metric"]["instance"], "mtls", "{stored}");

    let mut rogue = vec![trusted.clone()];
    rogue.extend([
        format!("--remote-write.cert-file={}", file("rogue.crt")),
        format!("--remote-write.key-file={}", file("rogue.key")),
    ]);
    let mut wrong_ca = vec![format!("--remote-write.ca-file={}", file("rogue-ca.crt"))];
    wrong_ca.extend(client.iter().cloned());
    for (case, flags, reason) in [
        (
            "no client certificate",
            vec![trusted.clone()],
            "remote_write",
        ),
        (
            "a client certificate of an unknown CA",
            rogue,
            "remote_write",
        ),
        ("the wrong CA trusted", wrong_ca, "invalid peer certificate"),
    ] {
        let (status, stderr) = once(&flags);
        assert_eq!(status.code(), Some(1), "{case}: {stderr}");
        assert!(stderr.contains(reason), "{case}: {stderr}");
    }
}

#[test]
fn prometheus_scrapes_the_binary() {
    let Some(prometheus) = peer("prometheus", "prometheus") else {
        return;
    };
    let pme = Exporter::start(&[]);
    let dir = Dir::new("prometheus");
    let prom = start_prometheus(
        &prometheus,
        &format!("    static_configs: [{{targets: ['{}']}}]\n", pme.metrics),
        dir.path(),
    );
    let release =
        String::from_utf8(Command::new("uname").arg("-r").output().unwrap().stdout).unwrap();
    let info = wait_for(
        Duration::from_secs(30),
        "pme_system_kernel_info in Prometheus",
        || query(&prom, "pme_system_kernel_info"),
    );
    assert_eq!(info["metric"]["release"], release.trim());
    assert_eq!(info["metric"]["job"], "pme");
    assert_eq!(info["value"][1], "1");
    let load = query(&prom, "node_load1").expect("load1 in Prometheus");
    assert!(load["value"][1].as_str().unwrap().parse::<f64>().is_ok());
    let up = query(&prom, r#"pme_source_up{group="load"}"#).expect("self-metric in Prometheus");
    assert_eq!(up["value"][1], "1");
    // Prometheus asks for OpenMetrics first (and gzip, always): the type it
    // recorded for the kernel family is OpenMetrics' `info`, which the text
    // format cannot express.
    let metadata = get(
        prom.addr,
        "/api/v1/targets/metadata?metric=pme_system_kernel",
    );
    let json: serde_json::Value = serde_json::from_slice(&metadata.body).unwrap();
    assert_eq!(json["data"][0]["type"], "info", "{json}");
}

/// Prometheus scrapes over mutual TLS with a bearer token, as a hardened
/// deployment would: its own client certificate, the test CA, and a token
/// with `metrics:read` only.
#[test]
fn prometheus_scrapes_over_mutual_tls_with_a_token() {
    let (Some(prometheus), Some(openssl)) =
        (peer("prometheus", "prometheus"), peer("openssl", "openssl"))
    else {
        return;
    };
    let keep = Dir::new("prometheus-tls");
    let dir = keep.path();
    crate::web::certificates(&openssl, dir);
    std::fs::write(dir.join("token"), "pme-test-token-metrics-9c2e51\n").unwrap();
    std::fs::write(
        dir.join("web.yml"),
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  \
         client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n\
         bearer_tokens: [{name: prometheus, token_file: token, scopes: ['metrics:read']}]\n",
    )
    .unwrap();
    let pme = Exporter::start(&[&format!(
        "--web.config.file={}",
        dir.join("web.yml").display()
    )]);
    let d = dir.display();
    let prom = start_prometheus(
        &prometheus,
        &format!(
            "    scheme: https\n    tls_config: {{ca_file: {d}/ca.crt, cert_file: {d}/client.crt, key_file: {d}/client.key}}\n    \
             authorization: {{credentials_file: {d}/token}}\n    static_configs: [{{targets: ['{}']}}]\n",
            pme.metrics
        ),
        &dir.join("prometheus"),
    );
    let up = wait_for(
        Duration::from_secs(30),
        "pme_source_up in Prometheus",
        || query(&prom, r#"pme_source_up{group="load"}"#),
    );
    assert_eq!(up["value"][1], "1");
}

/// pme embedded in an axum application (examples/embedded.rs): the
/// application's handlers update the spec's instruments, a real Prometheus
/// scrapes the application's own `/metrics`, and a histogram quantile
/// computed by Prometheus comes out of the observed durations.
#[test]
fn prometheus_scrapes_pme_embedded_in_an_axum_application() {
    let Some(prometheus) = peer("prometheus", "prometheus") else {
        return;
    };
    let Some(app) = example("embedded") else {
        return;
    };
    let mut app = Daemon::start(&app, &["127.0.0.1:0".to_owned()]);
    let addr = app.listening();
    // 20 calls: 10 of 0.05 s (bucket le=0.1), 6 of 0.3 s (le=0.5), 4 of 2 s (le=2.5).
    for (seconds, calls) in [(0.05, 10), (0.3, 6), (2.0, 4)] {
        for _ in 0..calls {
            let path = format!(
                "/chat?model=claude&prompt_tokens=10&completion_tokens=30&seconds={seconds}"
            );
            assert_eq!(request(addr, "POST", &path).status, 200);
        }
    }
    // A model outside the declared set is the application's 400, not a new series.
    let refused = request(
        addr,
        "POST",
        "/chat?model=gpt-5&prompt_tokens=1&completion_tokens=1&seconds=1",
    );
    assert_eq!(refused.status, 400);
    assert_eq!(
        request(addr, "POST", "/agent?agent=coder&steps=3&tool=search").status,
        200
    );
    // Nothing has scraped yet, so this first body is built now, with every update.
    let body = get(addr, "/metrics").text();
    assert_eq!(
        value_of(
            &body,
            r#"llmdevops_llm_requests_total{model="claude",status="success"}"#
        ),
        Some(20.0),
        "{body}"
    );
    assert_eq!(
        value_of(
            &body,
            r#"llmdevops_llm_tokens_total{model="claude",type="completion"}"#
        ),
        Some(600.0),
        "{body}"
    );
    assert_eq!(
        value_of(
            &body,
            r#"llmdevops_agent_tool_calls_total{agent="coder",tool="search"}"#
        ),
        Some(1.0),
        "{body}"
    );
    assert!(!body.contains("gpt-5"), "{body}");
    promtool_accepts(body.as_bytes());

    let dir = Dir::new("prometheus-embedded");
    let prom = start_prometheus(
        &prometheus,
        &format!("    static_configs: [{{targets: ['{addr}']}}]\n"),
        dir.path(),
    );
    // Rank 18 of 20 falls in (1, 2.5], which holds calls 17-20:
    // 1 + 1.5 × (18 − 16) / 4 = 1.75.
    let p90 = wait_for(
        Duration::from_secs(30),
        "the quantile in Prometheus",
        || {
            query(
                &prom,
                r#"histogram_quantile(0.9, sum by (le) (llmdevops_llm_request_duration_seconds_bucket{model="claude"}))"#,
            )
        },
    );
    let p90: f64 = p90["value"][1].as_str().unwrap().parse().unwrap();
    assert!((p90 - 1.75).abs() < 1e-9, "p90 {p90}");
    let requests = query(
        &prom,
        r#"llmdevops_llm_requests_total{model="claude",status="success"}"#,
    )
    .expect("the counter in Prometheus");
    assert_eq!(requests["value"][1], "20");
}
