//! The sidecar pattern: statsd and DogStatsD lines, from raw datagrams and
//! from the real clients (Python `statsd`, Node `hot-shots`), update the
//! instruments `tests/specs/statsd.yaml` declares, over UDP and a Unix
//! datagram socket; everything else is refused and counted by reason.
//!
//! The instruments and the listener's counters are process-wide, so the
//! tests here take [`LOCK`] and compare counts before and after.

use std::net::{SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use pme::testing::value;

use crate::embedded::{Served, statsd};
use crate::util::{Dir, get, peer, promtool_accepts, skipped, wait_for};

static LOCK: Mutex<()> = Mutex::new(());

fn serve() -> (std::sync::MutexGuard<'static, ()>, Served) {
    let guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let served = Served::start_with(&statsd::PLAN, &["--statsd.listen-udp=127.0.0.1:0"]);
    (guard, served)
}

fn send(to: SocketAddr, datagram: &[u8]) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.send_to(datagram, to).unwrap();
}

fn body(served: &Served) -> String {
    get(served.metrics, "/metrics").text()
}

/// The value of `series` in the served body, 0 when absent.
fn current(served: &Served, series: &str) -> f64 {
    value(&body(served), series).unwrap_or(0.0)
}

/// Waits until every `(series, value)` is served.
fn wait_for_values(served: &Served, wanted: &[(&str, f64)]) -> String {
    wait_for(Duration::from_secs(10), "the statsd updates", || {
        let text = body(served);
        wanted
            .iter()
            .all(|(series, v)| value(&text, series) == Some(*v))
            .then_some(text)
    })
}

const ACCEPTED: &str = "pme_statsd_lines_total";

fn refused(reason: &str) -> String {
    format!(r#"pme_statsd_refused_total{{reason="{reason}"}}"#)
}

#[test]
fn lines_update_declared_instruments_and_everything_else_is_refused() {
    let (_guard, served) = serve();
    let to = served.statsd.expect("the UDP listener");
    let ok = r#"app_requests_total{method="get",status="ok"}"#;
    let before: Vec<f64> = [
        ACCEPTED.to_owned(),
        ok.to_owned(),
        refused("label_value"),
        refused("labels"),
        refused("type_mismatch"),
        refused("unknown_metric"),
        refused("malformed"),
        refused("unsupported_type"),
        "app_request_duration_seconds_count".to_owned(),
        r#"app_request_duration_seconds_bucket{le="0.1"}"#.to_owned(),
    ]
    .iter()
    .map(|s| current(&served, s))
    .collect();
    let lines = "\
app.requests_total:1|c|#method:get,status:ok
app_requests_total:3|c|@0.5|#status:ok,method:get
requests_total:1|c|#method:put,status:ok
requests_total:1|c|#method:get
requests_total:1|g|#method:get,status:ok
queue_depth:10|g
queue_depth:-3|g
request_duration_seconds:75|ms
request_duration_seconds:0.3:0.7|h
logins_total:1|c|#tenant:a
logins_total:1|c|#tenant:b
logins_total:1|c|#tenant:c
unknown_total:1|c
garbage
users:alice|s
";
    send(to, lines.as_bytes());
    send(to, b"\xff\xfe:1|c");
    let text = wait_for_values(
        &served,
        &[
            (ACCEPTED, before[0] + 8.0),
            (&refused("malformed"), before[6] + 2.0),
        ],
    );
    // `@0.5` makes the 3 stand for 6.
    assert_eq!(value(&text, ok), Some(before[1] + 7.0), "{text}");
    assert_eq!(value(&text, "app_queue_depth"), Some(7.0), "{text}");
    assert_eq!(
        value(&text, "app_request_duration_seconds_count"),
        Some(before[8] + 3.0)
    );
    // 75 ms is 0.075 s.
    assert_eq!(
        value(&text, r#"app_request_duration_seconds_bucket{le="0.1"}"#),
        Some(before[9] + 1.0)
    );
    for (reason, i, n) in [
        ("label_value", 2, 2.0),
        ("labels", 3, 1.0),
        ("type_mismatch", 4, 1.0),
        ("unknown_metric", 5, 1.0),
        ("unsupported_type", 7, 1.0),
    ] {
        assert_eq!(
            value(&text, &refused(reason)),
            Some(before[i] + n),
            "{reason}\n{text}"
        );
    }
    // The third tenant is past max_series: refused, not created.
    assert!(!text.contains(r#"tenant="c""#), "{text}");
    // Nothing undeclared was created.
    assert!(
        !text.contains("unknown_total") && !text.contains("users"),
        "{text}"
    );
    promtool_accepts(text.as_bytes());
}

#[test]
fn lines_arrive_over_a_unix_datagram_socket() {
    let _guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let dir = Dir::new("statsd-unix");
    let path = dir.join("statsd.sock");
    let flag = format!("--statsd.listen-unixgram={}", path.display());
    let served = Served::start_with(&statsd::PLAN, &[&flag]);
    let socket = std::os::unix::net::UnixDatagram::unbound().unwrap();
    socket.send_to(b"app.queue_depth:42|g\n", &path).unwrap();
    wait_for_values(&served, &[("app_queue_depth", 42.0)]);
}

#[test]
fn the_python_statsd_client_updates_declared_instruments() {
    let Some(python) = peer("python3", "python3") else {
        return;
    };
    let has_client = Command::new(&python)
        .args(["-c", "import statsd"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_client {
        skipped("Python package statsd", "pip install statsd");
        return;
    }
    let (_guard, served) = serve();
    let to = served.statsd.expect("the UDP listener");
    let jobs = current(&served, "app_python_jobs_total");
    let waits = current(&served, "app_python_wait_seconds_count");
    let half = current(&served, r#"app_python_wait_seconds_bucket{le="0.5"}"#);
    let script = "\
import statsd, sys
c = statsd.StatsClient('127.0.0.1', int(sys.argv[1]), prefix='app')
for _ in range(5):
    c.incr('python_jobs_total')
c.incr('python_jobs_total', 3)
c.timing('python_wait_seconds', 250)
with c.pipeline() as p:
    p.incr('python_jobs_total')
    p.timing('python_wait_seconds', 800)
";
    let status = Command::new(python)
        .args(["-c", script, &to.port().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    wait_for_values(
        &served,
        &[
            ("app_python_jobs_total", jobs + 9.0),
            ("app_python_wait_seconds_count", waits + 2.0),
            (r#"app_python_wait_seconds_bucket{le="0.5"}"#, half + 1.0),
        ],
    );
}

#[test]
fn the_node_hot_shots_client_updates_declared_instruments_with_tags() {
    let (Some(node), Some(npm)) = (peer("node", "nodejs"), peer("npm", "npm")) else {
        return;
    };
    let root = Command::new(npm).args(["root", "-g"]).output().unwrap();
    let node_path = String::from_utf8_lossy(&root.stdout).trim().to_owned();
    let has_client = Command::new(&node)
        .args(["-e", "require('hot-shots')"])
        .env("NODE_PATH", &node_path)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_client {
        skipped("Node package hot-shots", "npm install -g hot-shots");
        return;
    }
    let (_guard, served) = serve();
    let to = served.statsd.expect("the UDP listener");
    let get_ok = r#"app_node_requests_total{method="get",status="ok"}"#;
    let post_error = r#"app_node_requests_total{method="post",status="error"}"#;
    let small = r#"app_node_payload_bytes_bucket{le="1000"}"#;
    let before = [get_ok, post_error, small].map(|s| current(&served, s));
    let label_value = current(&served, &refused("label_value"));
    let script = "\
const StatsD = require('hot-shots');
const c = new StatsD({ host: '127.0.0.1', port: Number(process.argv[1]), prefix: 'app.',
  errorHandler: (e) => { console.error(e); process.exit(1); } });
c.increment('node_requests_total', 1, { method: 'get', status: 'ok' });
c.increment('node_requests_total', 2, { method: 'post', status: 'error' });
c.histogram('node_payload_bytes', 512);
c.gauge('node_connections', 12);
c.increment('node_requests_total', 1, { method: 'delete', status: 'ok' });
c.close((e) => process.exit(e ? 1 : 0));
";
    let status = Command::new(node)
        .args(["-e", script, &to.port().to_string()])
        .env("NODE_PATH", &node_path)
        .status()
        .unwrap();
    assert!(status.success());
    wait_for_values(
        &served,
        &[
            (get_ok, before[0] + 1.0),
            (post_error, before[1] + 2.0),
            (small, before[2] + 1.0),
            ("app_node_connections", 12.0),
            (&refused("label_value"), label_value + 1.0),
        ],
    );
}
