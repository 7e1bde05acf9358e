//! pme's own metrics from the `process` and `exporter` built-ins of the
//! default spec, checked against what the kernel and the build say.

use std::process::Command;
use std::time::Duration;

use crate::util::{Exporter, get, request, value_of, wait_for};

#[test]
fn process_and_server_metrics_are_honest() {
    let pme = Exporter::start(&[]);
    let pid = pme.child.id();
    for path in ["/metrics", "/metrics", "/metrics/node", "/no-such-page"] {
        get(pme.metrics, path);
    }
    request(pme.metrics, "DELETE", "/metrics");
    get(pme.health, "/health");
    // The counters are sampled once per collection (15 s): wait for the
    // sample that includes the requests above.
    let body = wait_for(Duration::from_secs(40), "the requests counted", || {
        let body = get(pme.metrics, "/metrics").text();
        // `/health` was the last request made.
        (value_of(
            &body,
            r#"pme_http_requests_total{path="/health",code="200"}"#,
        )? >= 1.0)
            .then_some(body)
    });
    let count = |path: &str, code: u16| {
        value_of(
            &body,
            &format!(r#"pme_http_requests_total{{path="{path}",code="{code}"}}"#),
        )
        .unwrap_or(0.0)
    };
    assert!(count("/metrics", 200) >= 2.0, "{body}");
    assert!(count("other", 404) >= 1.0, "{body}");
    assert!(count("/metrics/node", 200) >= 1.0, "{body}");
    assert!(count("/metrics", 405) >= 1.0, "{body}");
    assert!(count("/health", 200) >= 1.0, "{body}");
    assert!(value_of(&body, r#"pme_http_request_seconds_total{path="/metrics"}"#).unwrap() > 0.0);
    assert!(value_of(&body, "pme_exposition_builds_total").unwrap() >= 1.0);
    assert!(value_of(&body, "pme_uptime_seconds").unwrap() > 0.0);

    // Build info: this version, the spec's SHA-256, the compiler.
    let sha = Command::new("sha256sum")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/metrics.yaml"))
        .output()
        .unwrap();
    let sha = String::from_utf8(sha.stdout).unwrap();
    let sha = sha.split_whitespace().next().unwrap();
    let rustc = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("--version")
        .output()
        .unwrap();
    let rustc = String::from_utf8(rustc.stdout).unwrap();
    let info = format!(
        r#"pme_build_info{{version="{}",spec_sha256="{sha}",rustc="{}"}}"#,
        env!("CARGO_PKG_VERSION"),
        rustc.trim()
    );
    assert_eq!(value_of(&body, &info), Some(1.0), "{info} missing:\n{body}");

    // process_*: what /proc says about the same process.
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb = |key: &str| -> f64 {
        let line = status.lines().find(|l| l.starts_with(key)).unwrap();
        line.split_whitespace()
            .nth(1)
            .unwrap()
            .parse::<f64>()
            .unwrap()
            * 1024.0
    };
    let rss = value_of(&body, "process_resident_memory_bytes").unwrap();
    assert!(rss > 1e6 && (rss - kb("VmRSS:")).abs() < 32e6, "{rss}");
    // Address space moves by whole malloc arenas (64 MiB) as threads come
    // and go between the sample and this read: only its order is checked.
    let vsize = value_of(&body, "process_virtual_memory_bytes").unwrap();
    assert!(vsize > rss && vsize < 4.0 * kb("VmSize:"), "{vsize}");
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let soft: f64 = limits
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))
        .and_then(|r| r.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(value_of(&body, "process_max_fds"), Some(soft));
    let fds = value_of(&body, "process_open_fds").unwrap();
    assert!((3.0..200.0).contains(&fds), "{fds}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let start = value_of(&body, "process_start_time_seconds").unwrap();
    assert!(
        start <= now && now - start < 120.0,
        "started at {start}, now {now}"
    );
    assert!(value_of(&body, "process_cpu_seconds_total").unwrap() >= 0.0);
}
