//! A real HTTP server for HTTP-source and output tests. Each test starts
//! its own on an ephemeral loopback port, with counters of its own; the
//! test specs name `127.77.1.1:18781` in its place
//! ([`crate::embedded::relocate`] puts in the real address).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

/// The address the test specs name for the server.
pub const SPEC_ADDR: &str = "127.77.1.1:18781";
/// The address the test specs name for a port where nothing listens.
pub const SPEC_REFUSED: &str = "127.77.1.2:9";

/// What one server has seen.
#[derive(Debug, Default)]
pub struct Seen {
    /// Full responses of `/cached.json` (200) and revalidations (304).
    pub cached_full: AtomicU64,
    pub cached_not_modified: AtomicU64,
    /// The `Accept` header of the last request for `/upstream/metrics`.
    pub upstream_accept: Mutex<String>,
    /// Requests for `/upstream/flaky`: the first is answered well, the others not.
    pub flaky_requests: AtomicU64,
    /// Pushes to `/failing-gateway/…`, all answered 500.
    pub failing_pushes: AtomicU64,
    /// Requests to `/rejecting-receiver`, all answered 400.
    pub rejected_writes: AtomicU64,
    /// Requests for `/counted.json`, whose value is their number.
    pub counted: AtomicU64,
    /// Sends to `/guarded/…` that carried `Bearer out-tok` and
    /// `X-Scope-OrgID: tenant-1` (the others are answered 401 or 403).
    pub guarded_accepted: AtomicU64,
    /// While set, `/outage-receiver` answers 503; otherwise it keeps
    /// every body it is sent, in order.
    pub outage: std::sync::atomic::AtomicBool,
    pub received: Mutex<Vec<Bytes>>,
    /// The request target `/counted-by-proxy.json` arrived with.
    pub proxied_uri: Mutex<String>,
}

/// A running server, stopped on drop.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// A loopback port bound but never listened on: connections to it are
    /// refused for as long as the server lives, and no one else can take it.
    pub refused: SocketAddr,
    pub seen: Arc<Seen>,
    _refused: tokio::net::TcpSocket,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    pub fn start() -> TestServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let refused_socket = tokio::net::TcpSocket::new_v4().unwrap();
        refused_socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let refused = refused_socket.local_addr().unwrap();
        let seen = Arc::new(Seen::default());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = Arc::clone(&seen);
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let accept = async {
                    loop {
                        let Ok((stream, _)) = listener.accept().await else {
                            continue;
                        };
                        let state = Arc::clone(&state);
                        tokio::spawn(async move {
                            let service = hyper::service::service_fn(move |req| {
                                handle(req, Arc::clone(&state))
                            });
                            let _ = hyper::server::conn::http1::Builder::new()
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        });
                    }
                };
                tokio::select! {
                    () = accept => {}
                    _ = stopped => {}
                }
            });
        });
        TestServer {
            addr,
            refused,
            seen,
            _refused: refused_socket,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// `http://ADDR{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

pub const STATUS: &str = r#"{"up": true, "load": "0.5", "version": "1.2.3", "state": "degraded",
 "queues": [{"name": "a", "depth": 3}, {"name": "b", "depth": 5}],
 "disks": {"sda": {"used_kib": 10}, "sdb": {"used_kib": 20}}}"#;

/// A Prometheus text exposition as an application would serve it.
pub const UPSTREAM: &str = r#"# HELP node_load1 1m load average.
# TYPE node_load1 gauge
node_load1 0.25
# HELP node_memory_MemAvailable_bytes Memory information field MemAvailable_bytes.
# TYPE node_memory_MemAvailable_bytes gauge
node_memory_MemAvailable_bytes 1.6e+09
# HELP node_filesystem_avail_bytes Filesystem space available to non-root users in bytes.
# TYPE node_filesystem_avail_bytes gauge
node_filesystem_avail_bytes{device="/dev/sda1",fstype="ext4",mountpoint="/"} 1.2e+10
node_filesystem_avail_bytes{device="tmpfs",fstype="tmpfs",mountpoint="/run"} 8e+08
# HELP node_filesystem_size_bytes Filesystem size in bytes.
# TYPE node_filesystem_size_bytes gauge
node_filesystem_size_bytes{device="/dev/sda1",fstype="ext4",mountpoint="/"} 5e+10
node_filesystem_size_bytes{device="tmpfs",fstype="tmpfs",mountpoint="/run"} 1e+09
# HELP http_requests_total Requests served, by path "and" origin.\n Second line.
# TYPE http_requests_total counter
http_requests_total{path="/a\"b\\c\nd",origin="internal"} 1027 1700000000000
http_requests_total{path="/",origin="external"} 3
# HELP http_request_duration_seconds Request latency.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.1"} 10
http_request_duration_seconds_bucket{le="1"} 15
http_request_duration_seconds_bucket{le="+Inf"} 16
http_request_duration_seconds_sum 4.5
http_request_duration_seconds_count 16
# HELP rpc_duration_seconds RPC latency.
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.5"} 0.05
rpc_duration_seconds{quantile="0.99"} 0.3
rpc_duration_seconds_sum 12.5
rpc_duration_seconds_count 200
# A comment, and a family nobody selects:
go_goroutines 12
"#;

/// The same kind of data as OpenMetrics.
pub const UPSTREAM_OM: &str = r#"# TYPE jobs counter
# HELP jobs Jobs run.
jobs_total{queue="a"} 5 # {trace_id="abc"} 1 1700000000.5
jobs_created{queue="a"} 1700000000
# TYPE build info
# HELP build Build information.
build_info{version="1.2.3"} 1
# TYPE state stateset
# HELP state Service state.
state{state="ready"} 1
state{state="down"} 0
# TYPE temperature_celsius gauge
# UNIT temperature_celsius celsius
# HELP temperature_celsius Room temperature.
temperature_celsius 21.5
# EOF
"#;

/// The whole request body (empty if it could not be read).
async fn body_of(req: Request<Incoming>) -> Bytes {
    req.into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default()
}

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r
}

async fn handle(
    req: Request<Incoming>,
    seen: Arc<Seen>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let path = req.uri().path().to_owned();
    if path == "/outage-receiver" {
        if seen.outage.load(Ordering::SeqCst) {
            return Ok(reply(StatusCode::SERVICE_UNAVAILABLE, "down"));
        }
        let body = body_of(req).await;
        seen.received.lock().unwrap().push(body);
        return Ok(reply(StatusCode::OK, Bytes::new()));
    }
    if path.starts_with("/guarded/") {
        let tenant = req
            .headers()
            .get("x-scope-orgid")
            .is_some_and(|v| v == "tenant-1");
        let status = match (auth == "Bearer out-tok", tenant) {
            (false, _) => StatusCode::UNAUTHORIZED,
            (true, false) => StatusCode::FORBIDDEN,
            (true, true) => {
                seen.guarded_accepted.fetch_add(1, Ordering::SeqCst);
                StatusCode::OK
            }
        };
        return Ok(reply(status, Bytes::new()));
    }
    let response = match (req.method().as_str(), path.as_str()) {
        ("GET", "/status.json") => reply(StatusCode::OK, STATUS),
        ("GET", "/private.json") if auth == "Bearer tok-123" => {
            reply(StatusCode::OK, r#"{"value": 42}"#)
        }
        // base64("alice:s3cret")
        ("GET", "/basic.json") if auth == "Basic YWxpY2U6czNjcmV0" => {
            reply(StatusCode::OK, r#"{"value": 7}"#)
        }
        ("GET", "/private.json" | "/basic.json") => reply(StatusCode::UNAUTHORIZED, "{}"),
        ("POST", "/echo") => {
            let probe = req.headers().get("x-probe").is_some_and(|v| v == "pme");
            let json = req
                .headers()
                .get("content-type")
                .is_some_and(|v| v == "application/json");
            let body = body_of(req).await;
            if probe && json {
                reply(StatusCode::OK, body)
            } else {
                reply(StatusCode::BAD_REQUEST, "{}")
            }
        }
        ("GET", "/cached.json") => {
            let mut r = if req
                .headers()
                .get("if-none-match")
                .is_some_and(|v| v == "\"v1\"")
            {
                seen.cached_not_modified.fetch_add(1, Ordering::SeqCst);
                reply(StatusCode::NOT_MODIFIED, Bytes::new())
            } else {
                seen.cached_full.fetch_add(1, Ordering::SeqCst);
                reply(StatusCode::OK, r#"{"value": 99}"#)
            };
            r.headers_mut().insert("etag", "\"v1\"".parse().unwrap());
            r.headers_mut()
                .insert("cache-control", "max-age=2".parse().unwrap());
            r
        }
        ("GET", "/maintenance.json") => reply(StatusCode::SERVICE_UNAVAILABLE, r#"{"value": 3}"#),
        ("GET", "/counted.json") => {
            let n = seen.counted.fetch_add(1, Ordering::SeqCst) + 1;
            reply(StatusCode::OK, format!(r#"{{"value": {n}}}"#))
        }
        ("GET", "/counted-by-proxy.json") => {
            *seen.proxied_uri.lock().unwrap() = req.uri().to_string();
            reply(StatusCode::OK, r#"{"value": 5}"#)
        }
        (_, "/slow") => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            reply(StatusCode::OK, r#"{"value": 1}"#)
        }
        ("GET", "/status.xml") => reply(
            StatusCode::OK,
            r#"<?xml version="1.0"?>
<status version="2">
  <server name="a" state="up"><connections>12</connections></server>
  <server name="b" state="down"><connections>7</connections></server>
</status>"#,
        ),
        ("GET", "/bad.xml") => reply(StatusCode::OK, "<status><server></status>"),
        ("GET", "/dtd.xml") => reply(
            StatusCode::OK,
            r#"<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><status>&lol2;</status>"#,
        ),
        ("GET", "/error") => reply(StatusCode::INTERNAL_SERVER_ERROR, "oops"),
        ("GET", "/huge") => {
            static HUGE: OnceLock<Bytes> = OnceLock::new();
            reply(
                StatusCode::OK,
                HUGE.get_or_init(|| Bytes::from(vec![b'1'; 100 << 20]))
                    .clone(),
            )
        }
        ("GET", "/upstream/metrics") => {
            let accept = req.headers().get("accept").and_then(|v| v.to_str().ok());
            *seen.upstream_accept.lock().unwrap() = accept.unwrap_or("").to_owned();
            reply(StatusCode::OK, UPSTREAM)
        }
        ("GET", "/upstream/openmetrics") => reply(StatusCode::OK, UPSTREAM_OM),
        ("GET", "/upstream/malformed") => reply(StatusCode::OK, "xa_total 1\nxb{le=\"1\" 2\n"),
        ("GET", "/upstream/flaky") => {
            if seen.flaky_requests.fetch_add(1, Ordering::SeqCst) == 0 {
                reply(
                    StatusCode::OK,
                    "# HELP flaky_kept Kept.\nflaky_kept 4\n# HELP flaky_nan NaN on error.\nflaky_nan 5\n",
                )
            } else {
                reply(StatusCode::OK, "flaky_kept four\n")
            }
        }
        // A remote_write receiver that refuses every request as malformed.
        ("POST", "/rejecting-receiver") => {
            seen.rejected_writes.fetch_add(1, Ordering::SeqCst);
            reply(StatusCode::BAD_REQUEST, "out of order sample")
        }
        // A Pushgateway that fails: every push answers 500 and is counted.
        (_, p) if p.starts_with("/failing-gateway/") => {
            seen.failing_pushes.fetch_add(1, Ordering::SeqCst);
            reply(StatusCode::INTERNAL_SERVER_ERROR, "down for maintenance")
        }
        ("GET", "/malformed") => reply(StatusCode::OK, r#"{"value": "#),
        ("GET", "/not-utf8") => reply(StatusCode::OK, &b"\xff\xfe{}"[..]),
        _ => reply(StatusCode::NOT_FOUND, "{}"),
    };
    Ok(response)
}
