//! Test helpers: a small bounded HTTP client, the real binary as a child
//! process, and the external checkers (promtool, Python prometheus_client).
//!
//! Peers are required in CI (`CI` set): a missing one fails the test there;
//! elsewhere the test is skipped with a printed reason.

#![allow(dead_code, reason = "each test module uses a different subset")]

pub mod http_server;
pub mod listening;
pub mod proxy;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A whole HTTP response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 body")
    }
}

/// One HTTP/1.1 request with `Connection: close`; 5 s timeouts everywhere.
pub fn request(addr: SocketAddr, method: &str, path: &str) -> Response {
    request_with(addr, method, path, &[])
}

/// [`request`] with extra headers.
pub fn request_with(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Response {
    let timeout = Duration::from_secs(5);
    let mut stream = TcpStream::connect_timeout(&addr, timeout).expect("connect");
    stream.set_read_timeout(Some(timeout)).unwrap();
    stream.set_write_timeout(Some(timeout)).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read response");
    parse_response(&raw, method == "HEAD")
}

pub fn get(addr: SocketAddr, path: &str) -> Response {
    request(addr, "GET", path)
}

fn parse_response(raw: &[u8], head: bool) -> Response {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of head");
    let head_text = std::str::from_utf8(&raw[..end]).unwrap();
    let mut lines = head_text.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    if chunked && !head {
        body = dechunk(&body);
    }
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..line_end]).unwrap().trim(), 16)
                .unwrap();
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// Polls `check` every 50 ms until it returns `Some`, for at most `limit`.
pub fn wait_for<T>(limit: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The value of the series written exactly as `series` (name and labels).
pub fn value_of(body: &str, series: &str) -> Option<f64> {
    body.lines().find_map(|line| {
        let rest = line.strip_prefix(series)?.strip_prefix(' ')?;
        Some(match rest {
            "NaN" => f64::NAN,
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().ok()?,
        })
    })
}

/// The value of the first series of family `name`, whatever its labels.
pub fn family_value(body: &str, name: &str) -> Option<f64> {
    body.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?;
        let value = match rest.strip_prefix('{') {
            Some(labelled) => labelled.rsplit_once("} ")?.1,
            None => rest.strip_prefix(' ')?,
        };
        value.parse().ok()
    })
}

/// A peer daemon the test started, killed on drop.
pub struct Daemon(pub Child);

impl Daemon {
    /// Starts `program` with `args`, its output discarded. Give it a listen
    /// address with port 0 and ask [`Daemon::listening`] which port it took:
    /// no port is picked ahead and released, so no other process can take it
    /// in between.
    pub fn start(program: &Path, args: &[String]) -> Daemon {
        Daemon(
            Command::new(program)
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("start {}: {e}", program.display())),
        )
    }

    /// The one TCP address the daemon listens on, once it does.
    pub fn listening(&mut self) -> SocketAddr {
        let pid = self.0.id();
        let child = &mut self.0;
        wait_for(Duration::from_secs(30), "the peer to listen", || {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("peer {pid} exited with {status} before it listened");
            }
            let mut addrs = listening::listening_addrs(pid);
            assert!(addrs.len() <= 1, "peer {pid} listens on {addrs:?}");
            addrs.pop()
        })
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `/metrics` of `addr` once it answers 200.
pub fn body_of(addr: SocketAddr) -> Option<String> {
    std::panic::catch_unwind(|| get(addr, "/metrics"))
        .ok()
        .filter(|r| r.status == 200)
        .map(|r| r.text())
}

/// Whether peers are mandatory (CI) or may be skipped (a developer's machine).
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false")
}

/// Finds `tool` on PATH; in CI its absence fails the test, elsewhere the
/// check is skipped and listed in the line printed when the run ends.
pub fn peer(tool: &str, package: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(tool))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        skipped(&format!("`{tool}`"), &format!("apt-get install {package}"));
    }
    found
}

/// The binary of example `name`, which `cargo test` builds beside the test
/// binaries (`target/<profile>/examples/`); `None`, skipped, when only
/// this test target was built (`cargo test --test integration` alone).
pub fn example(name: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    // target/<profile>/deps/integration-<hash> → target/<profile>/examples/<name>
    let path = exe.parent()?.parent()?.join("examples").join(name);
    if path.is_file() {
        return Some(path);
    }
    skipped(
        &format!("example `{name}` ({})", path.display()),
        &format!("cargo build --example {name}, or run plain `cargo test`"),
    );
    None
}

/// Records that a check was skipped because `what` is missing, and how to
/// get it. In CI (peers mandatory) it fails the test instead.
pub fn skipped(what: &str, install: &str) {
    assert!(!in_ci(), "{what} is required in CI ({install})");
    eprintln!("skipping: {what} is missing ({install})");
    at_exit::record(&at_exit::SKIPPED, format!("{what} ({install})"));
}

/// Records that a conformance suite ran `cases` (e.g. "JSONPath CTS: 703
/// cases"), for the line printed when the test binary exits.
pub fn suite_ran(cases: String) {
    at_exit::record(&at_exit::SUITES, cases);
}

/// Lines printed once on stderr when the test binary exits, after
/// libtest's summary: the conformance cases that ran, and the checks
/// skipped for a missing peer.
mod at_exit {
    use std::collections::BTreeSet;
    use std::sync::{Mutex, Once};

    pub(super) static SKIPPED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    pub(super) static SUITES: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

    pub(super) fn record(list: &Mutex<BTreeSet<String>>, what: String) {
        static REGISTER: Once = Once::new();
        REGISTER.call_once(|| {
            // libtest prints its summary and then returns from `main` (or
            // calls `exit`): either way, `atexit` handlers run after it.
            #[allow(unsafe_code, reason = "atexit with a plain extern \"C\" fn")]
            // SAFETY: `report` is a valid `extern "C" fn()` that neither
            // unwinds nor calls `exit`.
            unsafe {
                libc::atexit(report);
            }
        });
        list.lock().unwrap_or_else(|e| e.into_inner()).insert(what);
    }

    extern "C" fn report() {
        let line = |list: &Mutex<BTreeSet<String>>| {
            let list = list.lock().unwrap_or_else(|e| e.into_inner());
            list.iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join("; ")
        };
        let (suites, skipped) = (line(&SUITES), line(&SKIPPED));
        if !suites.is_empty() {
            eprintln!("\nconformance suites run: {suites}");
        }
        if !skipped.is_empty() {
            eprintln!("\nskipped checks, what they need is missing (CI would fail): {skipped}");
        }
    }
}

/// Runs `promtool check metrics` on `body`: its exit status and everything
/// it printed; `None` when promtool is not installed (outside CI).
pub fn promtool_check(body: &[u8]) -> Option<(std::process::ExitStatus, String)> {
    let promtool = peer("promtool", "prometheus")?;
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(body).unwrap();
    let out = child.wait_with_output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some((out.status, report))
}

/// Asserts that `promtool check metrics` accepts `body` with no lint warning.
pub fn promtool_accepts(body: &[u8]) {
    let Some((status, report)) = promtool_check(body) else {
        return;
    };
    assert!(
        status.success() && report.trim().is_empty(),
        "promtool check metrics: {status:?}\n{report}\n--- input ---\n{}",
        String::from_utf8_lossy(body)
    );
}

/// One sample as the Python `prometheus_client` parser read it.
#[derive(Debug, serde::Deserialize)]
pub struct PySample {
    pub family: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    /// The family's HELP text, unescaped.
    #[serde(default)]
    pub help: String,
    pub labels: std::collections::BTreeMap<String, String>,
    /// Python's `repr` of the float (`1.5`, `nan`, `inf`).
    pub value: String,
}

impl PySample {
    pub fn value(&self) -> f64 {
        self.value.parse().expect("a float repr")
    }
}

/// Parses `body` with the Python `prometheus_client` text parser; `None`
/// when it is not installed (outside CI).
pub fn python_parse(body: &[u8]) -> Option<Vec<PySample>> {
    let python = peer("python3", "python3")?;
    let has_client = Command::new(&python)
        .args(["-c", "import prometheus_client"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_client {
        skipped(
            "Python package prometheus_client",
            "pip install prometheus-client",
        );
        return None;
    }
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/util/parse_exposition.py"
    );
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(body).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "prometheus_client rejected the exposition: {}\n--- input ---\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(body)
    );
    Some(serde_json::from_slice(&out.stdout).expect("parser output is JSON"))
}

/// Both checkers accept `body`.
pub fn assert_valid_exposition(body: &[u8]) {
    promtool_accepts(body);
    python_parse(body);
}

/// The real `pme` binary (built from the default metrics.yaml) as a
/// command, without the variables of the developer's environment that
/// would change what it does: the OpenTelemetry ones (an `OTEL_*`
/// endpoint would make every test pme send there), `INSTANCE_ID` and
/// `SERVICE_INSTANCE_ID` (labels), and pme's own `PME_*`.
pub fn pme_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pme"));
    for (name, _) in std::env::vars_os() {
        let Some(text) = name.to_str() else {
            continue;
        };
        if text.starts_with("OTEL_")
            || text.starts_with("PME_")
            || ["INSTANCE_ID", "SERVICE_INSTANCE_ID"].contains(&text)
            // The other exporters' variables pme reads as aliases.
            || [
                "METRICS_PORT",
                "PORT",
                "LOG_LEVEL",
                "PROMETHEUS_FILE",
                "EXPORT_FORMAT",
                "ENABLED_COLLECTORS",
                "WORKERS",
                "COLLECTION_INTERVAL",
            ]
            .contains(&text)
        {
            command.env_remove(&name);
        }
    }
    command
}

/// What the real binary prints on stdout with `args`, which must succeed
/// (a subcommand such as `alerts` or `systemd-unit`).
pub fn pme_stdout(args: &[&str]) -> String {
    let out = pme_command().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "pme {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `promtool check rules` passes on `rules`, written as `file` in `dir`.
pub fn promtool_check_rules(promtool: &Path, dir: &Dir, file: &str, rules: &str) {
    promtool_rules(promtool, dir, "check", file, rules);
}

/// `promtool <command> rules FILE` (`check`, or `test` for a rules test
/// file) passes on `text`, written as `file` in `dir`.
pub fn promtool_rules(promtool: &Path, dir: &Dir, command: &str, file: &str, text: &str) {
    dir.write(file, text);
    let run = Command::new(promtool)
        .args([command, "rules", file])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "promtool {command} rules {file}: {}{}\n{text}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
}

/// What `pme ARGS` prints, checked against the committed `file` (relative
/// to the repository): generated files stay current with the binary.
/// Returns the output.
pub fn assert_generated(file: &str, args: &[&str]) -> String {
    let generated = pme_stdout(args);
    let committed =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap();
    assert_eq!(
        committed,
        generated,
        "{file} is stale: run `cargo run -q -- {} > {file}`",
        args.join(" ")
    );
    generated
}

/// The real `pme` binary (built from the default metrics.yaml), killed on drop.
pub struct Exporter {
    pub child: Child,
    pub metrics: SocketAddr,
    pub health: SocketAddr,
}

impl Exporter {
    /// Starts the binary on loopback with ephemeral ports and waits for it
    /// to print both addresses.
    pub fn start(extra: &[&str]) -> Exporter {
        Exporter::start_with_env(&[], extra)
    }

    /// The same with these environment variables.
    pub fn start_with_env(env: &[(&str, &str)], extra: &[&str]) -> Exporter {
        let mut child = crate::util::pme_command()
            .envs(env.iter().copied())
            .args([
                "--web.listen-address=127.0.0.1:0",
                "--health.listen-address=127.0.0.1:0",
            ])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start pme");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("pme: {line}");
                let _ = tx.send(line);
            }
        });
        // "serving metrics on http://ADDR/metrics" (or https://).
        let find = |line: &str, marker: &str| -> Option<SocketAddr> {
            let rest = &line[line.find(marker)? + marker.len()..];
            let rest = rest.split_once("://")?.1;
            rest.split('/').next()?.parse().ok()
        };
        let (mut metrics, mut health) = (None, None);
        let deadline = Instant::now() + Duration::from_secs(20);
        while metrics.is_none() || health.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx
                .recv_timeout(left)
                .expect("pme did not print its addresses");
            metrics = metrics.or_else(|| find(&line, "serving metrics on "));
            health = health.or_else(|| find(&line, "serving health on "));
        }
        Exporter {
            child,
            metrics: metrics.unwrap(),
            health: health.unwrap(),
        }
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A group's `last_error` in a `/health` document ("" when it has none).
pub fn last_error(health: &serde_json::Value, group: &str) -> String {
    health["services"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["groups"].as_array().into_iter().flatten())
        .find(|g| g["id"] == group)
        .and_then(|g| g["last_error"].as_str())
        .unwrap_or_default()
        .to_owned()
}

/// A temporary directory of the test's own (a unique name under
/// `$TMPDIR`), removed with everything in it on drop.
pub struct Dir(tempfile::TempDir);

impl Dir {
    /// A new empty directory; `name` goes into its name, for a reader of `/tmp`.
    pub fn new(name: &str) -> Dir {
        Dir(tempfile::Builder::new()
            .prefix(&format!("pme-test-{name}-"))
            .tempdir()
            .expect("a temporary directory"))
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    /// Writes `content` to `name` inside (parent directories included).
    pub fn write(&self, name: &str, content: &str) -> PathBuf {
        let path = self.join(name);
        let parent = path.parent().unwrap();
        std::fs::create_dir_all(parent).unwrap();
        // Whole or not at all, as a textfile writer should: a collector
        // running meanwhile reads the old content or the new, never half.
        let file_name = path.file_name().unwrap().to_string_lossy();
        let partial = parent.join(format!(".{file_name}.partial"));
        std::fs::write(&partial, content).unwrap();
        std::fs::rename(&partial, &path).unwrap();
        path
    }

    /// The directory as a string, for flags and specs.
    pub fn display(&self) -> String {
        self.0.path().display().to_string()
    }
}

/// A file of the vendored conformance suites (`tests/conformance/`).
pub fn conformance_path(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance")
        .join(path)
}
