//! `--web.config.file` on the real binary: basic auth (a hash made by
//! Apache's `htpasswd`), bearer tokens and their scopes, the per-client
//! rate limit, reloads, TLS and mutual TLS (certificates made by `openssl`,
//! checked by `curl`).

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;

use crate::util::{Dir, Exporter, peer, request_with};

/// The credentials the tests use; tests/credentials.txt lists them
/// for the check that no binary contains one.
const PASSWORD: &str = "pme-test-password-basic-4417";
const METRICS_TOKEN: &str = "pme-test-token-metrics-9c2e51";
const STATUS_TOKEN: &str = "pme-test-token-status-06b7d3";
const ADMIN_TOKEN: &str = "pme-test-token-admin-e4a190";
const ROTATED_TOKEN: &str = "pme-test-token-rotated-5d88fa";

/// Runs `program` in `dir`, failing the test with its stderr if it fails; its stdout.
pub fn run(program: &Path, args: &[&str], dir: &Path) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} {args:?}: {}",
        program.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn status(pme: &Exporter, health: bool, method: &str, path: &str, auth: Option<&str>) -> u16 {
    let addr = if health { pme.health } else { pme.metrics };
    let headers: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
    request_with(addr, method, path, &headers).status
}

/// A config with one basic-auth user and three tokens; `extra` is appended.
fn auth_config(dir: &Dir, htpasswd: &Path, extra: &str) -> PathBuf {
    let line = run(htpasswd, &["-nbBC", "10", "alice", PASSWORD], dir.path());
    let hash = line.trim().strip_prefix("alice:").expect("htpasswd output");
    dir.write("metrics.token", &format!("{METRICS_TOKEN}\n"));
    dir.write("status.token", STATUS_TOKEN);
    dir.write("admin.token", ADMIN_TOKEN);
    dir.write(
        "web.yml",
        &format!(
            "basic_auth_users:\n  alice: '{hash}'\n\
             bearer_tokens:\n\
             \x20 - {{name: prometheus, token_file: metrics.token, scopes: ['metrics:read']}}\n\
             \x20 - {{name: probe, token_file: status.token, scopes: ['status:read']}}\n\
             \x20 - {{name: operator, token_file: admin.token, scopes: [admin]}}\n\
             http_server_config:\n  headers: {{X-Content-Type-Options: nosniff}}\n{extra}"
        ),
    )
}

#[test]
fn credentials_and_scopes() {
    let Some(htpasswd) = peer("htpasswd", "apache2-utils") else {
        return;
    };
    let dir = Dir::new("auth");
    let config = auth_config(&dir, &htpasswd, "");
    let pme = Exporter::start(&[&format!("--web.config.file={}", config.display())]);
    let basic = |user: &str, password: &str| {
        let pair = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        format!("Basic {pair}")
    };

    // Without credentials: 401 with both challenges.
    let denied = request_with(pme.metrics, "GET", "/metrics", &[]);
    assert_eq!(denied.status, 401);
    let challenges: Vec<&str> = denied
        .headers
        .iter()
        .filter(|(n, _)| n == "www-authenticate")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(
        challenges,
        [
            "Basic realm=\"pme\", charset=\"UTF-8\"",
            "Bearer realm=\"pme\""
        ]
    );
    assert_eq!(denied.header("x-content-type-options"), Some("nosniff"));
    assert!(
        !denied.text().contains("pme_"),
        "no metrics without credentials"
    );

    let m = |auth: &str| status(&pme, false, "GET", "/metrics", Some(auth));
    // Wrong token, wrong password, unknown user: 401.
    assert_eq!(m(&bearer("pme-test-token-metrics-9c2e5")), 401);
    assert_eq!(m(&basic("alice", "wrong")), 401);
    assert_eq!(m(&basic("bob", PASSWORD)), 401);
    // A token without the scope: 403; with it: 200.
    assert_eq!(m(&bearer(STATUS_TOKEN)), 403);
    assert_eq!(m(&bearer(METRICS_TOKEN)), 200);
    assert_eq!(m(&bearer(ADMIN_TOKEN)), 200);
    // Basic users have full access, as in exporter-toolkit (twice: the
    // second answer comes from the cache of successful checks).
    assert_eq!(m(&basic("alice", PASSWORD)), 200);
    assert_eq!(m(&basic("alice", PASSWORD)), 200);
    let body = request_with(
        pme.metrics,
        "GET",
        "/metrics",
        &[("Authorization", &bearer(METRICS_TOKEN))],
    )
    .text();
    assert!(body.contains("node_load1{"), "{body}");

    // The health listener needs status:read.
    assert_eq!(status(&pme, true, "GET", "/health", None), 401);
    assert_eq!(
        status(&pme, true, "GET", "/health", Some(&bearer(METRICS_TOKEN))),
        403
    );
    assert_eq!(
        status(&pme, true, "GET", "/ready", Some(&bearer(STATUS_TOKEN))),
        200
    );
    // POST /-/reload needs admin; GET is not allowed even then.
    assert_eq!(
        status(
            &pme,
            false,
            "POST",
            "/-/reload",
            Some(&bearer(METRICS_TOKEN))
        ),
        403
    );
    assert_eq!(
        status(&pme, false, "GET", "/-/reload", Some(&bearer(ADMIN_TOKEN))),
        405
    );

    // Rotation: a new token file, then a reload; the old token stops working.
    dir.write("metrics.token", ROTATED_TOKEN);
    assert_eq!(
        status(&pme, false, "POST", "/-/reload", Some(&bearer(ADMIN_TOKEN))),
        200
    );
    assert_eq!(m(&bearer(METRICS_TOKEN)), 401);
    assert_eq!(m(&bearer(ROTATED_TOKEN)), 200);
    // A broken file is refused and the configuration in force stays.
    dir.write("web.yml", "basic_auth_users: [not, a, map]\n");
    assert_eq!(
        status(&pme, false, "POST", "/-/reload", Some(&bearer(ADMIN_TOKEN))),
        500
    );
    assert_eq!(m(&bearer(ROTATED_TOKEN)), 200);
}

#[test]
fn over_the_rate_limit_is_429_per_client() {
    let dir = Dir::new("rate");
    let config = dir.write("web.yml", "rate_limit: {interval: 1h, burst: 3}\n");
    let pme = Exporter::start(&[&format!("--web.config.file={}", config.display())]);
    for _ in 0..3 {
        assert_eq!(status(&pme, false, "GET", "/metrics", None), 200);
    }
    let limited = request_with(pme.metrics, "GET", "/metrics", &[]);
    assert_eq!(limited.status, 429);
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((3500..=3600).contains(&retry), "Retry-After {retry}");
    // Another client (another loopback address) has its own allowance.
    if let Some(curl_bin) = peer("curl", "curl") {
        let url = format!("http://{}/metrics", pme.metrics);
        let other = curl(&curl_bin, &dir, &url, &["--interface", "127.0.0.2"]);
        assert_eq!(other, (0, "200".to_owned()));
    }
}

/// A CA, a server certificate for 127.0.0.1 and client certificates: one
/// from the CA, one from a CA the server does not know.
pub fn certificates(openssl: &Path, dir: &Path) {
    for ca in ["ca", "rogue-ca"] {
        let mut args = vec!["req", "-x509", "-days", "2", "-subj"];
        let subject = format!("/CN=pme test {ca}");
        args.push(&subject);
        args.extend(EC_KEY);
        let (key, crt) = (format!("{ca}.key"), format!("{ca}.crt"));
        args.extend(["-keyout", &key, "-out", &crt]);
        run(openssl, &args, dir);
    }
    let write = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
    write(
        "server.ext",
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    );
    write(
        "client.ext",
        "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n",
    );
    for (name, ca, ext) in [
        ("server", "ca", "server.ext"),
        ("client", "ca", "client.ext"),
        ("rogue", "rogue-ca", "client.ext"),
    ] {
        signed(openssl, dir, name, &format!("/CN=pme test {name}"), ca, ext);
    }
}

/// `<name>.key`, `<name>.csr` and `<name>.crt` in `dir`: a P-256 key and a
/// certificate for `subject`, valid two days, signed by `<ca>.crt` with the
/// extensions of the file `ext`.
pub fn signed(openssl: &Path, dir: &Path, name: &str, subject: &str, ca: &str, ext: &str) {
    let (key, csr, crt) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.crt"),
    );
    let mut args = vec!["req", "-subj", subject];
    args.extend(EC_KEY);
    args.extend(["-keyout", &key, "-out", &csr]);
    run(openssl, &args, dir);
    let (ca_crt, ca_key) = (format!("{ca}.crt"), format!("{ca}.key"));
    run(
        openssl,
        &[
            "x509",
            "-req",
            "-days",
            "2",
            "-in",
            &csr,
            "-CA",
            &ca_crt,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-extfile",
            ext,
            "-out",
            &crt,
        ],
        dir,
    );
}

/// `openssl req` arguments for a new unencrypted P-256 key.
const EC_KEY: [&str; 5] = [
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
];

/// curl's exit code and the HTTP status it printed.
fn curl(curl: &Path, dir: &Dir, url: &str, args: &[&str]) -> (i32, String) {
    let out = Command::new(curl)
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--max-time",
            "10",
        ])
        .args(args)
        .arg(url)
        .current_dir(dir.path())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn tls_and_mutual_tls() {
    let (Some(openssl), Some(curl_bin)) = (peer("openssl", "openssl"), peer("curl", "curl")) else {
        return;
    };
    let dir = Dir::new("tls");
    certificates(&openssl, dir.path());

    // TLS with a token: curl trusts the test CA.
    dir.write("token", ADMIN_TOKEN);
    let tls = dir.write(
        "tls.yml",
        "tls_server_config: {cert_file: server.crt, key_file: server.key, min_version: TLS12}\n\
         bearer_tokens: [{token_file: token, scopes: ['metrics:read']}]\n",
    );
    let pme = Exporter::start(&[&format!("--web.config.file={}", tls.display())]);
    let url = format!("https://{}/metrics", pme.metrics);
    let auth = format!("Authorization: {}", bearer(ADMIN_TOKEN));
    assert_eq!(
        curl(&curl_bin, &dir, &url, &["--cacert", "ca.crt", "-H", &auth]),
        (0, "200".to_owned())
    );
    assert_eq!(
        curl(&curl_bin, &dir, &url, &["--cacert", "ca.crt"]),
        (0, "401".to_owned())
    );
    // A client that does not trust the server's CA refuses it (60: peer
    // certificate cannot be authenticated).
    assert_eq!(curl(&curl_bin, &dir, &url, &[]).0, 60);
    // Plain HTTP to the TLS port gets no answer.
    let plain = format!("http://{}/metrics", pme.metrics);
    assert_ne!(curl(&curl_bin, &dir, &plain, &[]).1, "200");
    drop(pme);

    // Mutual TLS: a client certificate from the CA is required.
    let mtls = dir.write(
        "mtls.yml",
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  \
         client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n",
    );
    let pme = Exporter::start(&[&format!("--web.config.file={}", mtls.display())]);
    let url = format!("https://{}/metrics", pme.metrics);
    let trust = ["--cacert", "ca.crt"];
    let with = |cert: &str, key: &str| {
        let mut args = trust.to_vec();
        args.extend(["--cert", cert, "--key", key]);
        curl(&curl_bin, &dir, &url, &args)
    };
    assert_eq!(with("client.crt", "client.key"), (0, "200".to_owned()));
    let without = curl(&curl_bin, &dir, &url, &trust);
    assert!(
        without.0 != 0 && without.1 == "000",
        "no client certificate must be refused: {without:?}"
    );
    let rogue = with("rogue.crt", "rogue.key");
    assert!(
        rogue.0 != 0 && rogue.1 == "000",
        "a certificate from an unknown CA must be refused: {rogue:?}"
    );
}

#[test]
fn a_bad_web_config_stops_pme_with_its_reason() {
    let dir = Dir::new("bad");
    let config = dir.write(
        "web.yml",
        "tls_server_config: {cert_file: missing.crt, key_file: missing.key}\n",
    );
    let out = crate::util::pme_command()
        .arg(format!("--web.config.file={}", config.display()))
        .args([
            "--web.listen-address=127.0.0.1:0",
            "--health.listen-address=127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("web.yml: tls_server_config: cannot read")
            && stderr.contains("missing.crt"),
        "{stderr}"
    );
}

/// Every credential the tests use (tests/credentials.txt, also grepped for
/// by .ci/run in the release binary).
const CREDENTIALS: &str = include_str!("credentials.txt");

#[test]
fn no_binary_holds_a_credential_of_the_tests() {
    for constant in [
        PASSWORD,
        METRICS_TOKEN,
        STATUS_TOKEN,
        ADMIN_TOKEN,
        ROTATED_TOKEN,
    ] {
        assert!(
            CREDENTIALS.lines().any(|l| l == constant),
            "{constant} is missing from tests/credentials.txt"
        );
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let binaries = [
        PathBuf::from(env!("CARGO_BIN_EXE_pme")),
        root.join("target/release/pme"),
        root.join("target/x86_64-unknown-linux-musl/release/pme"),
    ];
    let mut checked = 0;
    for binary in binaries.iter().filter(|b| b.exists()) {
        let bytes = std::fs::read(binary).unwrap();
        for credential in CREDENTIALS.lines().filter(|l| !l.is_empty()) {
            assert!(
                memchr::memmem::find(&bytes, credential.as_bytes()).is_none(),
                "{} contains the credential {credential}",
                binary.display()
            );
        }
        checked += 1;
    }
    assert!(checked >= 1, "no pme binary found");
}

/// Request hygiene: an oversized head or too many headers get 431, other
/// methods 405, and the connection is not left hanging.
#[test]
fn oversized_or_odd_requests_are_4xx() {
    let pme = Exporter::start(&[]);
    let big = "x".repeat(32 * 1024);
    let r = request_with(pme.metrics, "GET", "/metrics", &[("X-Big", &big)]);
    assert_eq!(r.status, 431);
    let names: Vec<String> = (0..100).map(|i| format!("X-H{i}")).collect();
    let many: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "1")).collect();
    assert_eq!(
        request_with(pme.metrics, "GET", "/metrics", &many).status,
        431
    );
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        let r = request_with(pme.metrics, method, "/metrics", &[]);
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("allow"), Some("GET, HEAD"));
    }
    assert_eq!(request_with(pme.health, "POST", "/health", &[]).status, 405);
}

/// `--web.max-connections`: connections beyond the cap are not accepted
/// (they wait in the kernel's queue) until one of the open ones closes, so
/// idle or half-sent connections cannot make pme hold unbounded buffers.
#[test]
fn connections_beyond_the_cap_wait_until_one_closes() {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Duration;

    let pme = Exporter::start(&["--web.max-connections=2"]);
    let half_sent = || {
        let mut s = TcpStream::connect(pme.metrics).unwrap();
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: pme\r\n")
            .unwrap();
        s
    };
    let first = half_sent();
    let _second = half_sent();
    // Both slots are held (the header timeout is 10 s); a complete request
    // on a third connection gets no answer yet.
    let mut third = TcpStream::connect(pme.metrics).unwrap();
    third
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: pme\r\nConnection: close\r\n\r\n")
        .unwrap();
    third
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let mut buf = [0u8; 64];
    let early = third.read(&mut buf);
    assert!(
        matches!(&early, Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)),
        "a third connection was answered while two held the slots: {early:?}"
    );
    // One closes: the queued connection is accepted and answered.
    drop(first);
    third
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut answer = Vec::new();
    third.read_to_end(&mut answer).unwrap();
    assert!(
        answer.starts_with(b"HTTP/1.1 200 OK\r\n"),
        "{}",
        String::from_utf8_lossy(&answer[..answer.len().min(200)])
    );
}
