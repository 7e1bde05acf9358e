//! Outputs with their real peers: the textfile read by Debian's
//! `prometheus-node-exporter`, pushes received by Debian's
//! `prometheus-pushgateway`; and their faults (a read-only directory, a
//! gateway that is down or answers 500) counted while pme keeps serving.

use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::embedded::{Served, owned, reimport};
use crate::util::http_server::TestServer;
use crate::util::{
    Daemon, Dir, Exporter, body_of, family_value, get, in_ci, peer, skipped, value_of, wait_for,
};

#[test]
fn node_exporter_reads_the_textfile_and_a_failed_write_keeps_the_old_file() {
    let Some(node_exporter) = peer("prometheus-node-exporter", "prometheus-node-exporter") else {
        return;
    };
    let dir = Dir::new("textfile");
    let path = dir.display();
    // As root, pme runs as nobody so that a read-only directory stops it
    // (root would write anyway).
    let root = nix::unistd::geteuid().is_root();
    if root {
        let status = Command::new("chown")
            .args(["nobody", &path])
            .status()
            .unwrap();
        assert!(status.success());
    } else {
        assert!(!in_ci(), "CI runs as root");
    }
    let mut args = vec![format!("--textfile.directory={path}")];
    if root {
        args.push("--user=nobody".to_owned());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let pme = Exporter::start(&args);
    let file = dir.join("pme.prom");
    wait_for(Duration::from_secs(30), "pme.prom", || {
        file.exists().then_some(())
    });

    let mut node = Daemon::start(
        &node_exporter,
        &[
            "--web.listen-address=127.0.0.1:0".to_owned(),
            "--collector.disable-defaults".to_owned(),
            // pme's textfile carries its own process_* (the `process`
            // built-in); node_exporter's would collide with them.
            "--web.disable-exporter-metrics".to_owned(),
            "--collector.textfile".to_owned(),
            format!("--collector.textfile.directory={path}"),
        ],
    );
    let node_addr = node.listening();
    let scraped = wait_for(Duration::from_secs(30), "node_exporter", || {
        body_of(node_addr)
    });
    assert_eq!(
        value_of(&scraped, "node_textfile_scrape_error"),
        Some(0.0),
        "{scraped}"
    );
    assert!(scraped.contains("\nnode_load1{"), "{scraped}");
    assert!(
        scraped.contains("pme_source_up{group=\"load\",service=\"node\"} 1"),
        "{scraped}"
    );

    // A directory pme may no longer write to: the next cycle's write fails,
    // is counted, and the file node_exporter reads stays whole.
    let status = Command::new("chmod")
        .args(["0555", &path])
        .status()
        .unwrap();
    assert!(status.success());
    let before = std::fs::read(&file).unwrap();
    let metrics = wait_for(
        Duration::from_secs(40),
        "a counted textfile failure",
        || {
            let body = get(pme.metrics, "/metrics").text();
            (value_of(&body, "pme_output_failures_total{output=\"textfile\"}")? >= 1.0)
                .then_some(body)
        },
    );
    assert!(
        family_value(&metrics, "node_load1").is_some(),
        "pme keeps serving"
    );
    assert_eq!(std::fs::read(&file).unwrap(), before, "the old file stays");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["pme.prom"]);
    let _ = Command::new("chmod").args(["0755", &path]).status();
}

#[test]
fn pushgateway_receives_groups_and_loses_them_on_shutdown() {
    let Some(gateway) = peer("prometheus-pushgateway", "prometheus-pushgateway") else {
        return;
    };
    // Its state in a file of the test's own: Debian's build persists to
    // /var/lib/prometheus/pushgateway.data by default, where any other
    // Pushgateway on the machine may have left groups.
    let dir = Dir::new("pushgateway");
    let mut gateway = Daemon::start(
        &gateway,
        &[
            "--web.listen-address=127.0.0.1:0".to_owned(),
            format!(
                "--persistence.file={}",
                dir.join("pushgateway.data").display()
            ),
        ],
    );
    let addr = gateway.listening();
    wait_for(Duration::from_secs(30), "the Pushgateway", || body_of(addr));

    let mut pme = Exporter::start(&[
        &format!("--push.gateway=http://{addr}"),
        "--push.job=pme-test",
        // A value with `/` travels as @base64.
        "--push.label=instance=db/1",
        "--push.delete-on-shutdown",
    ]);
    let pushed = wait_for(Duration::from_secs(30), "pushed metrics", || {
        body_of(addr).filter(|b| b.contains("node_load1{"))
    });
    assert!(
        pushed.contains("pme_system_file_handles_allocated{instance=\"db/1\",job=\"pme-test\"}"),
        "{pushed}"
    );
    assert!(pushed.contains("push_failure_time_seconds{instance=\"db/1\",job=\"pme-test\"} 0"));
    let own = get(pme.metrics, "/metrics").text();
    assert!(value_of(&own, "pme_output_sends_total{output=\"pushgateway\"}").unwrap() >= 1.0);
    assert_eq!(
        value_of(&own, "pme_output_failures_total{output=\"pushgateway\"}"),
        Some(0.0)
    );

    // SIGTERM: pme deletes its group before it exits.
    let pid = nix::unistd::Pid::from_raw(pme.child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let exited = wait_for(Duration::from_secs(20), "pme to exit", || {
        pme.child.try_wait().unwrap()
    });
    assert!(exited.success());
    let after = wait_for(Duration::from_secs(10), "the Pushgateway", || body_of(addr));
    assert!(!after.contains("job=\"pme-test\""), "{after}");
}

#[test]
fn failing_receivers_are_counted_and_retries_bounded() {
    let server = TestServer::start();
    // A gateway answering 500, one not listening at all, and a remote_write
    // receiver answering 400 (not retried).
    let failing = Exporter::start(&[&format!(
        "--push.gateway={}",
        server.url("/failing-gateway")
    )]);
    let down = Exporter::start(&[&format!("--push.gateway=http://{}", server.refused)]);
    let rejected = Exporter::start(&[&format!(
        "--remote-write.url={}",
        server.url("/rejecting-receiver")
    )]);
    let mut failed_pushes = 0.0;
    for (pme, output) in [
        (&failing, "pushgateway"),
        (&down, "pushgateway"),
        (&rejected, "remote_write"),
    ] {
        let failures = format!("pme_output_failures_total{{output=\"{output}\"}}");
        let body = wait_for(Duration::from_secs(30), "a counted failure", || {
            let body = get(pme.metrics, "/metrics").text();
            (value_of(&body, &failures)? >= 1.0).then_some(body)
        });
        assert!(
            family_value(&body, "node_load1").is_some(),
            "pme keeps serving"
        );
        let last_success =
            format!("pme_output_last_success_timestamp_seconds{{output=\"{output}\"}}");
        assert_eq!(value_of(&body, &last_success), Some(0.0));
        if std::ptr::eq(pme, &failing) {
            failed_pushes = value_of(&body, &failures).unwrap();
        }
        if std::ptr::eq(pme, &rejected) {
            // A 4xx is final: one request per failed send (a later cycle's
            // may have started since).
            let sends = value_of(&body, &failures).unwrap();
            let requests = server.seen.rejected_writes.load(Ordering::SeqCst) as f64;
            assert!(
                requests >= sends && requests <= sends + 1.0,
                "{requests} requests for {sends} failed sends"
            );
        }
    }
    // A failed push is three attempts (500 is retried), never more; a
    // later push may have started since.
    let requests = server.seen.failing_pushes.load(Ordering::SeqCst) as f64;
    assert!(
        requests >= 3.0 * failed_pushes && requests <= 3.0 * (failed_pushes + 1.0),
        "{requests} requests for {failed_pushes} failed pushes"
    );
}

/// OTLP/HTTP: a receiver decoding with the official protobuf classes
/// (Python `opentelemetry-proto`) gets the resource, the scope, gauges and
/// monotonic cumulative sums, every field checked.
#[test]
fn otlp_receiver_decodes_every_field() {
    let Some(python) = python_with(&["opentelemetry.proto"], "opentelemetry-proto") else {
        return;
    };
    let dir = Dir::new("otlp");
    let output = dir.join("received.jsonl");
    // The receiver binds port 0 and prints the port it got.
    let (_receiver, ready) = receiver(&python, "otlp_receiver.py", &[output.display().to_string()]);
    let port: u16 = ready
        .trim()
        .strip_prefix("ready ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("receiver said {ready:?}"));

    let started = std::time::SystemTime::now();
    // The endpoint comes from the `OTEL_ENDPOINT` variable; the name and instance too.
    let mut pme = crate::util::pme_command()
        .args([
            "--web.listen-address=127.0.0.1:0",
            "--health.listen-address=127.0.0.1:0",
        ])
        .env("OTEL_ENDPOINT", format!("127.0.0.1:{port}"))
        .env("OTEL_SERVICE_NAME", "metrics-exporter")
        .env("SERVICE_INSTANCE_ID", "test-instance")
        .env("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let record: serde_json::Value = wait_for(Duration::from_secs(30), "an OTLP request", || {
        let text = std::fs::read_to_string(&output).ok()?;
        serde_json::from_str(text.lines().next()?).ok()
    });
    let _ = pme.kill();
    let _ = pme.wait();

    assert_eq!(record["path"], "/v1/metrics");
    assert_eq!(record["content_type"], "application/x-protobuf");
    let resource_metrics = &record["request"]["resource_metrics"][0];
    let attributes: std::collections::BTreeMap<String, String> =
        resource_metrics["resource"]["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|kv| {
                (
                    kv["key"].as_str().unwrap().to_owned(),
                    kv["value"]["string_value"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
    assert_eq!(attributes["service.name"], "metrics-exporter");
    assert_eq!(attributes["service.instance.id"], "test-instance");
    assert_eq!(attributes["deployment.environment"], "test");
    assert_eq!(attributes["service.version"], env!("CARGO_PKG_VERSION"));
    let scope = &resource_metrics["scope_metrics"][0];
    assert_eq!(scope["scope"]["name"], "pme");
    let metrics = scope["metrics"].as_array().unwrap();
    let metric = |name: &str| {
        metrics
            .iter()
            .find(|m| m["name"] == name)
            .unwrap_or_else(|| panic!("{name} not sent"))
            .clone()
    };
    let now = std::time::SystemTime::now();
    let nanos = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
    };
    // A gauge, with its description and a plausible timestamp (protobuf's
    // JSON writes 64-bit integers as strings).
    let load = metric("node_load1");
    assert_eq!(load["description"], "1m load average.");
    let point = &load["gauge"]["data_points"][0];
    assert!(point["as_double"].as_f64().is_some(), "{load}");
    let time: u64 = point["time_unix_nano"].as_str().unwrap().parse().unwrap();
    assert!(
        nanos(started) - 5_000_000_000 <= time && time <= nanos(now),
        "{time}"
    );
    // A counter: monotonic, cumulative (2), named without `_total`, started
    // when pme started, labels as attributes.
    let collections = metric("pme_collections");
    let sum = &collections["sum"];
    assert_eq!(sum["is_monotonic"], true);
    assert_eq!(
        sum["aggregation_temporality"],
        "AGGREGATION_TEMPORALITY_CUMULATIVE"
    );
    let point = sum["data_points"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| {
            p["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["value"]["string_value"] == "load")
        })
        .expect("the load group's point");
    assert_eq!(point["as_double"], 1.0);
    let start: u64 = point["start_time_unix_nano"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        nanos(started) - 5_000_000_000 <= start && start <= nanos(now),
        "{start}"
    );
    let keys = attribute_keys(point);
    assert_eq!(keys, ["service", "group"]);
}

/// `python3`, when it can import every one of `modules` (from the pip
/// packages `packages`); otherwise the skip is reported.
fn python_with(modules: &[&str], packages: &str) -> Option<std::path::PathBuf> {
    let python = peer("python3", "python3")?;
    let imports = modules
        .iter()
        .map(|m| format!("import {m}"))
        .collect::<Vec<_>>()
        .join("; ");
    let ok = Command::new(&python)
        .args(["-c", &imports])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        Some(python)
    } else {
        skipped(
            &format!("Python packages {packages}"),
            &format!("pip install {packages}"),
        );
        None
    }
}

/// Starts `tests/util/SCRIPT ARGS…`, and the first line it prints once
/// listening.
fn receiver(python: &std::path::Path, script: &str, args: &[String]) -> (Daemon, String) {
    let script = format!("{}/tests/util/{script}", env!("CARGO_MANIFEST_DIR"));
    let mut child = Command::new(python)
        .arg(script)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut ready,
    )
    .unwrap();
    (Daemon(child), ready)
}

/// The requests a receiver wrote to `file`, once there are at least `n`.
fn received(file: &std::path::Path, n: usize) -> Vec<serde_json::Value> {
    wait_for(Duration::from_secs(30), "OTLP requests", || {
        let text = std::fs::read_to_string(file).ok()?;
        let records: Vec<serde_json::Value> = text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        (records.len() >= n).then_some(records)
    })
}

/// The metric `name` of a decoded request.
fn otlp_metric<'a>(request: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    request["resource_metrics"][0]["scope_metrics"][0]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("{name} not sent: {request}"))
}

/// OTLP/gRPC against a real grpcio server with the official service
/// classes: `OTEL_ENDPOINT=host:4317` (the port alone says gRPC) with the
/// token in `OTEL_EXPORTER_OTLP_HEADERS` and gzip; a call without the
/// token refused as UNAUTHENTICATED and `--once` failing on it; and
/// re-imported histograms and summaries as OTLP Histogram and Summary
/// points, over gRPC and over HTTP with gzip.
#[test]
fn otlp_grpc_reaches_a_real_grpc_server_and_histograms_keep_their_shape() {
    let Some(python) = python_with(
        &["opentelemetry.proto", "grpc"],
        "opentelemetry-proto grpcio",
    ) else {
        return;
    };
    const GRPC: &str = "127.77.2.1:4317";
    let dir = Dir::new("otlp-grpc");
    let output = dir.join("received.jsonl");
    let args = [
        output.display().to_string(),
        GRPC.to_owned(),
        "grpc-tok".to_owned(),
    ];
    let (_grpc, ready) = receiver(&python, "otlp_grpc_receiver.py", &args);
    assert_eq!(ready.trim(), "ready", "{ready}");

    // The binary, configured by the environment only.
    let pme = crate::util::pme_command()
        .args([
            "--web.listen-address=127.0.0.1:0",
            "--health.listen-address=127.0.0.1:0",
        ])
        .env("OTEL_ENDPOINT", GRPC)
        .env(
            "OTEL_EXPORTER_OTLP_HEADERS",
            "authorization=Bearer%20grpc-tok",
        )
        .env("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pme = Daemon(pme);
    let records = received(&output, 1);
    drop(pme);
    let record = &records[0];
    assert!(
        record["user_agent"].as_str().unwrap().contains("pme/"),
        "{record}"
    );
    let load = otlp_metric(&record["request"], "node_load1");
    assert!(
        load["gauge"]["data_points"][0]["as_double"].is_number(),
        "{load}"
    );
    let collections = otlp_metric(&record["request"], "pme_collections");
    assert_eq!(collections["sum"]["is_monotonic"], true);

    // No token: UNAUTHENTICATED, said in the log, and `--once` exits 1.
    let out = crate::util::pme_command()
        .arg("--once")
        .arg(format!("--otlp.endpoint=http://{GRPC}"))
        .env_remove("OTEL_EXPORTER_OTLP_HEADERS")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("status 16 UNAUTHENTICATED: no valid token"),
        "{stderr}"
    );

    // Histograms and summaries, re-imported from the test server.
    let server = TestServer::start();
    let token = dir.write("token", "grpc-tok\n");
    let plan = owned(&reimport::PLAN, &dir, Some(&server));
    let served = Served::start_with(
        plan,
        &[
            &format!("--otlp.endpoint=http://{GRPC}"),
            "--otlp.compression=gzip",
            &format!("--otlp.bearer-token-file={}", token.display()),
        ],
    );
    let record = with_histogram(&output);
    drop(served);
    check_histogram_and_summary(&record["request"]);

    // The same over OTLP/HTTP with gzip.
    let Some(python) = python_with(&["opentelemetry.proto"], "opentelemetry-proto") else {
        return;
    };
    let http_output = dir.join("http.jsonl");
    let (_http, ready) = receiver(
        &python,
        "otlp_receiver.py",
        &[http_output.display().to_string()],
    );
    let port = ready.trim().strip_prefix("ready ").unwrap();
    let served = Served::start_with(
        plan,
        &[
            &format!("--otlp.endpoint=http://127.0.0.1:{port}"),
            "--otlp.protocol=http/protobuf",
            "--otlp.compression=gzip",
        ],
    );
    let record = with_histogram(&http_output);
    drop(served);
    assert_eq!(record["content_encoding"], "gzip");
    check_histogram_and_summary(&record["request"]);
}

/// The attribute keys of a decoded data point, in order.
fn attribute_keys(point: &serde_json::Value) -> Vec<&str> {
    point["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["key"].as_str().unwrap())
        .collect()
}

/// The first request `file` records that holds the re-imported histogram.
fn with_histogram(file: &std::path::Path) -> serde_json::Value {
    wait_for(
        Duration::from_secs(30),
        "a request with the histogram",
        || {
            received(file, 1).into_iter().find(|r| {
                r["request"]
                    .to_string()
                    .contains("up_http_request_duration_seconds")
            })
        },
    )
}

/// `tests/util/http_server.rs`'s upstream histogram (buckets 10, 15, 16
/// cumulative at 0.1, 1, +Inf) and summary, as pme re-imports them.
fn check_histogram_and_summary(request: &serde_json::Value) {
    let histogram = &otlp_metric(request, "up_http_request_duration_seconds")["histogram"];
    assert_eq!(
        histogram["aggregation_temporality"],
        "AGGREGATION_TEMPORALITY_CUMULATIVE"
    );
    let point = &histogram["data_points"][0];
    // protobuf's JSON writes 64-bit integers as strings.
    assert_eq!(point["count"], "16", "{point}");
    assert_eq!(point["sum"], 4.5);
    assert_eq!(point["bucket_counts"], serde_json::json!(["10", "5", "1"]));
    assert_eq!(point["explicit_bounds"], serde_json::json!([0.1, 1.0]));
    let keys = attribute_keys(point);
    assert!(!keys.contains(&"le"), "{keys:?}");
    assert!(keys.contains(&"origin"), "{keys:?}");
    let summary = &otlp_metric(request, "up_rpc_duration_seconds")["summary"]["data_points"][0];
    assert_eq!(summary["count"], "200");
    assert_eq!(summary["sum"], 12.5);
    assert_eq!(
        summary["quantile_values"],
        serde_json::json!([{"quantile": 0.5, "value": 0.05}, {"quantile": 0.99, "value": 0.3}])
    );
}

/// `--once` with outputs is the cron pattern: collect, write the textfile
/// or push once, exit; non-zero when a send failed.
#[test]
fn once_writes_and_sends_then_exits_and_a_failed_send_fails_it() {
    let dir = Dir::new("once-outputs");
    let once = |flags: &[String]| {
        let out = crate::util::pme_command()
            .arg("--once")
            .args(flags)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status, String::from_utf8(out.stdout).unwrap(), stderr)
    };

    let (status, stdout, stderr) = once(&[
        format!("--textfile.directory={}", dir.display()),
        "--textfile.name=cron".to_owned(),
    ]);
    assert!(status.success(), "{stderr}");
    let written = std::fs::read_to_string(dir.join("cron.prom")).unwrap();
    assert!(family_value(&written, "node_load1").is_some(), "{written}");
    assert!(family_value(&stdout, "node_load1").is_some(), "{stdout}");

    // A receiver that refuses: the exposition is still printed, the exit
    // code and the log say the send failed.
    let server = TestServer::start();
    let (status, stdout, stderr) = once(&[format!(
        "--remote-write.url={}",
        server.url("/rejecting-receiver")
    )]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(family_value(&stdout, "node_load1").is_some(), "{stdout}");
    assert!(stderr.contains("remote_write"), "{stderr}");
    assert!(stderr.contains("400"), "{stderr}");
    assert_eq!(server.seen.rejected_writes.load(Ordering::SeqCst), 1);

    // A real Pushgateway keeps what a cron job pushed, even with
    // --push.delete-on-shutdown (which --once ignores, with a warning).
    let Some(gateway) = peer("prometheus-pushgateway", "prometheus-pushgateway") else {
        return;
    };
    let mut gateway = Daemon::start(
        &gateway,
        &[
            "--web.listen-address=127.0.0.1:0".to_owned(),
            format!(
                "--persistence.file={}",
                dir.join("pushgateway.data").display()
            ),
        ],
    );
    let addr = gateway.listening();
    wait_for(Duration::from_secs(30), "the Pushgateway", || body_of(addr));
    let (status, _, stderr) = once(&[
        format!("--push.gateway=http://{addr}"),
        "--push.job=cron".to_owned(),
        "--push.delete-on-shutdown".to_owned(),
    ]);
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.contains("--push.delete-on-shutdown does nothing with --once"),
        "{stderr}"
    );
    let pushed = body_of(addr).unwrap();
    assert!(pushed.contains("node_load1{"), "{pushed}");
    assert!(pushed.contains(r#"job="cron""#), "{pushed}");
}

/// Each pushing output authenticates with a token read from a file, adds
/// the tenant header the receiver demands, and fails with the receiver's
/// answer when either is missing; a `.timeout` flag bounds each request.
#[test]
fn outputs_send_credentials_from_files_and_extra_headers() {
    let dir = Dir::new("output-auth");
    let token = dir.write("token", "out-tok\n");
    let server = TestServer::start();
    let once = |flags: &[String]| {
        let out = crate::util::pme_command()
            .arg("--once")
            .args(flags)
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .env_remove("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")
            .env_remove("OTEL_ENDPOINT")
            .output()
            .unwrap();
        (
            out.status,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    for (output, url) in [
        (
            "push",
            format!("--push.gateway={}", server.url("/guarded/gw")),
        ),
        (
            "remote-write",
            format!("--remote-write.url={}", server.url("/guarded/write")),
        ),
        (
            "otlp",
            format!("--otlp.endpoint={}", server.url("/guarded/otlp")),
        ),
    ] {
        let token_flag = format!("--{output}.bearer-token-file={}", token.display());
        let header = format!("--{output}.header=X-Scope-OrgID=tenant-1");
        let before = server.seen.guarded_accepted.load(Ordering::SeqCst);
        let (status, stderr) = once(&[url.clone(), token_flag.clone(), header.clone()]);
        assert!(status.success(), "{output}: {stderr}");
        assert!(
            server.seen.guarded_accepted.load(Ordering::SeqCst) > before,
            "{output} was accepted"
        );
        let (status, stderr) = once(&[url.clone(), header.clone()]);
        assert_eq!(status.code(), Some(1), "{output} without a token: {stderr}");
        assert!(stderr.contains("401 Unauthorized"), "{output}: {stderr}");
        let (status, stderr) = once(&[url.clone(), token_flag.clone()]);
        assert_eq!(
            status.code(),
            Some(1),
            "{output} without the header: {stderr}"
        );
        assert!(stderr.contains("403 Forbidden"), "{output}: {stderr}");
    }
    // A credential flag's value is a place, never the secret; a header
    // flag cannot carry one.
    let out = crate::util::pme_command()
        .args(["--once", "--push.header=Authorization=Bearer x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("would put a credential in pme's command line")
    );
    // The timeout flag: /slow answers after 3 s.
    let (status, stderr) = once(&[
        format!("--remote-write.url={}", server.url("/slow")),
        "--remote-write.timeout=200ms".to_owned(),
    ]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("timed out after 200ms"), "{stderr}");
}

/// The parts of remote_write's `WriteRequest` the outage test reads.
mod prompb {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct WriteRequest {
        #[prost(message, repeated, tag = "1")]
        pub timeseries: Vec<TimeSeries>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TimeSeries {
        #[prost(message, repeated, tag = "1")]
        pub labels: Vec<Label>,
        #[prost(message, repeated, tag = "2")]
        pub samples: Vec<Sample>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Label {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(string, tag = "2")]
        pub value: String,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Sample {
        #[prost(double, tag = "1")]
        pub value: f64,
        #[prost(int64, tag = "2")]
        pub timestamp: i64,
    }
}

/// A receiver down for three cycles, then up: the samples of the cycles it
/// missed arrive when it returns, in order, and none is dropped; then a
/// queue too small for them drops the oldest and counts them.
#[test]
fn remote_write_sends_its_backlog_after_an_outage() {
    use prost::Message as _;
    let server = TestServer::start();
    server.seen.outage.store(true, Ordering::SeqCst);
    let url = format!("--remote-write.url={}", server.url("/outage-receiver"));
    let served = crate::embedded::Served::start_with(&crate::embedded::tls_upstream::PLAN, &[&url]);
    let failures = || {
        crate::util::value_of(
            &get(served.metrics, "/metrics").text(),
            r#"pme_output_failures_total{output="remote_write"}"#,
        )
    };
    wait_for(Duration::from_secs(20), "three failed cycles", || {
        failures().filter(|n| *n >= 3.0)
    });
    server.seen.outage.store(false, Ordering::SeqCst);
    // The cycle after the outage sends the backlog, then its own.
    wait_for(Duration::from_secs(10), "the backlog", || {
        (server.seen.received.lock().unwrap().len() >= 5).then_some(())
    });
    let times: Vec<i64> = server
        .seen
        .received
        .lock()
        .unwrap()
        .iter()
        .map(|body| {
            let raw = snap::raw::Decoder::new().decompress_vec(body).unwrap();
            let request = prompb::WriteRequest::decode(raw.as_slice()).unwrap();
            let series = request
                .timeseries
                .iter()
                .find(|t| {
                    t.labels
                        .iter()
                        .any(|l| l.name == "__name__" && l.value == "upstream_value")
                })
                .expect("every request holds the value");
            assert_eq!(series.samples[0].value, 42.0);
            series.samples[0].timestamp
        })
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] < w[1]),
        "samples arrive in order: {times:?}"
    );
    let text = get(served.metrics, "/metrics").text();
    assert_eq!(
        crate::util::value_of(
            &text,
            r#"pme_output_dropped_samples_total{output="remote_write"}"#
        ),
        Some(0.0)
    );
    drop(served);

    // A queue of one cycle's samples keeps only the newest cycle.
    let small = TestServer::start();
    small.seen.outage.store(true, Ordering::SeqCst);
    let url = format!("--remote-write.url={}", small.url("/outage-receiver"));
    let served = crate::embedded::Served::start_with(
        &crate::embedded::tls_upstream::PLAN,
        &[&url, "--remote-write.queue-samples=40"],
    );
    let dropped = wait_for(Duration::from_secs(20), "dropped samples", || {
        crate::util::value_of(
            &get(served.metrics, "/metrics").text(),
            r#"pme_output_dropped_samples_total{output="remote_write"}"#,
        )
        .filter(|n| *n > 0.0)
    });
    assert!(dropped > 0.0);
}
