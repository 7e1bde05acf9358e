//! The test specs, expanded in this test binary: no cargo build per spec.
//!
//! A spec is compiled in, so it names fixed places: its files under
//! [`SPEC_DIR`], its HTTP server at [`http_server::SPEC_ADDR`], its
//! `run_as` accounts by name. [`relocate`] rewrites those names in a plan's
//! sources to what one test owns (its temporary directory, its server's
//! port, its accounts), so that no two tests, and no two test runs on one
//! machine, share a file, a port or a user.

use std::time::Duration;

use pme::__private::plan::{
    HttpAuth, HttpSource, Plan, ProbePlan, RunAs, Secret, SourceKind, SourcePlan, Target, TlsClient,
};
use pme::Options;
use pme::Running;

use crate::util::Dir;
use crate::util::http_server::{self, TestServer};

/// The directory the test specs name for their files.
pub const SPEC_DIR: &str = "/tmp/pme-tests";

/// `plan` with every `from` in its sources (paths, URLs, command lines,
/// environment, credentials' paths, `run_as` names) and its targets' URLs
/// replaced by its `to`.
/// The new plan lives for the rest of the test process.
pub fn relocate(plan: &'static Plan, pairs: &[(&str, String)]) -> &'static Plan {
    let swap = |text: &'static str| -> &'static str {
        let mut out = text.to_owned();
        for (from, to) in pairs {
            out = out.replace(from, to);
        }
        if out == text { text } else { out.leak() }
    };
    let swap_all = |list: &'static [&'static str]| -> &'static [&'static str] {
        list.iter().map(|s| swap(s)).collect::<Vec<_>>().leak()
    };
    let secret = |secret: &Secret| match secret {
        Secret::File(path) => Secret::File(swap(path)),
        Secret::Env(var) => Secret::Env(var),
    };
    let sources: Vec<SourcePlan> = plan
        .sources
        .iter()
        .map(|source| SourcePlan {
            kind: match &source.kind {
                SourceKind::Command {
                    argv,
                    environment,
                    working_directory,
                } => SourceKind::Command {
                    argv: swap_all(argv),
                    environment: environment
                        .iter()
                        .map(|(name, value)| (*name, swap(value)))
                        .collect::<Vec<_>>()
                        .leak(),
                    working_directory: working_directory.map(swap),
                },
                SourceKind::File { path } => SourceKind::File { path: swap(path) },
                SourceKind::Files {
                    pattern,
                    labels,
                    max_files,
                } => SourceKind::Files {
                    pattern: swap(pattern),
                    labels,
                    max_files: *max_files,
                },
                SourceKind::Static { content } => SourceKind::Static { content },
                SourceKind::Http(http) => SourceKind::Http(HttpSource {
                    url: swap(http.url),
                    method: http.method,
                    body: http.body,
                    headers: http.headers,
                    auth: http.auth.as_ref().map(|auth| match auth {
                        HttpAuth::Bearer(token) => HttpAuth::Bearer(secret(token)),
                        HttpAuth::Basic { username, password } => HttpAuth::Basic {
                            username,
                            password: secret(password),
                        },
                    }),
                    cache: http.cache,
                    valid_status: http.valid_status,
                    tls: http.tls.as_ref().map(|tls| TlsClient {
                        ca_file: tls.ca_file.map(swap),
                        client_cert: tls.client_cert.map(|(c, k)| (swap(c), swap(k))),
                        server_name: tls.server_name,
                        insecure_skip_verify: tls.insecure_skip_verify,
                    }),
                    proxy: http.proxy.map(swap),
                }),
                SourceKind::Collector { name } => SourceKind::Collector { name },
            },
            max_bytes: source.max_bytes,
            timeout: source.timeout,
            run_as: source.run_as.as_ref().map(|run_as| RunAs {
                user: swap(run_as.user),
                group: run_as.group.map(swap),
                optional: run_as.optional,
            }),
        })
        .collect();
    let probes: Vec<ProbePlan> = plan
        .probes
        .iter()
        .map(|probe| ProbePlan {
            targets: probe
                .targets
                .iter()
                .map(|t| Target {
                    url: swap(t.url),
                    ..*t
                })
                .collect::<Vec<_>>()
                .leak(),
            ..*probe
        })
        .collect();
    Box::leak(Box::new(Plan {
        sources: sources.leak(),
        probes: probes.leak(),
        ..*plan
    }))
}

/// `plan` with its files in `dir` and its HTTP server `server`.
pub fn owned(plan: &'static Plan, dir: &Dir, server: Option<&TestServer>) -> &'static Plan {
    let mut pairs = vec![(SPEC_DIR, dir.display())];
    if let Some(server) = server {
        pairs.push((http_server::SPEC_ADDR, server.addr.to_string()));
        pairs.push((http_server::SPEC_REFUSED, server.refused.to_string()));
    }
    relocate(plan, &pairs)
}

pub mod features {
    pme::include_spec!("tests/specs/features.yaml");
}

pub mod exactly_once {
    pme::include_spec!("tests/specs/exactly_once.yaml");
}

pub mod bad_input {
    pme::include_spec!("tests/specs/bad_input.yaml");
}

pub mod shared_file {
    pme::include_spec!("tests/specs/shared_file.yaml");
}

pub mod file_pattern {
    pme::include_spec!("tests/specs/file_pattern.yaml");
}

pub mod http_json {
    pme::include_spec!("tests/specs/http_json.yaml");
}

pub mod reimport {
    pme::include_spec!("tests/specs/reimport.yaml");
}

pub mod relabel {
    pme::include_spec!("tests/specs/relabel.yaml");
}

pub mod run_as {
    pme::include_spec!("tests/specs/run_as.yaml");
}

pub mod escaping {
    pme::include_spec!("tests/specs/escaping.yaml");
}

pub mod parameters {
    pme::include_spec!("tests/specs/parameters.yaml");
}

pub mod debug {
    pme::include_spec!("tests/specs/debug.yaml");
}

pub mod targets {
    pme::include_spec!("tests/specs/targets.yaml");
}

pub mod instruments {
    pme::include_spec!("tests/specs/instruments.yaml");
}

pub mod statsd {
    pme::include_spec!("tests/specs/statsd.yaml");
}

pub mod collectors {
    pme::include_spec!("tests/specs/collectors.yaml");
}

pub mod collector_option {
    pme::include_spec!("tests/specs/collector_option.yaml");
}

pub mod collector_families {
    pme::include_spec!("tests/specs/collector_families.yaml");
}

pub mod http_network {
    pme::include_spec!("tests/specs/http_network.yaml");
}

pub mod env_proxy {
    pme::include_spec!("tests/specs/env_proxy.yaml");
}

pub mod tls_upstream {
    pme::include_spec!("tests/specs/tls_upstream.yaml");
}

pub mod optional_run_as {
    pme::include_spec!("tests/specs/optional_run_as.yaml");
}

/// A spec served in-process on loopback, stopped on drop.
pub struct Served {
    runtime: tokio::runtime::Runtime,
    running: Option<Running>,
    pub metrics: std::net::SocketAddr,
    pub health: std::net::SocketAddr,
    /// The statsd UDP listener, when `--statsd.listen-udp` was given.
    pub statsd: Option<std::net::SocketAddr>,
}

impl Served {
    pub fn start(plan: &'static Plan) -> Served {
        Served::start_with(plan, &[])
    }

    /// The same with more of pme's flags.
    pub fn start_with(plan: &'static Plan, flags: &[&str]) -> Served {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let options = <Options as clap::Parser>::parse_from(
            [
                "pme",
                "--web.listen-address=127.0.0.1:0",
                "--health.listen-address=127.0.0.1:0",
            ]
            .iter()
            .chain(flags),
        );
        let running = runtime.block_on(pme::start(plan, &options)).expect("start");
        Served {
            metrics: running.metrics_addr,
            health: running.health_addr,
            statsd: running.statsd_addr,
            running: Some(running),
            runtime,
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            let stop =
                async { tokio::time::timeout(Duration::from_secs(10), running.shutdown()).await };
            let _ = self.runtime.block_on(stop);
        }
    }
}

/// Collects a spec once, in-process: the exposition and whether all groups succeeded.
pub fn once(plan: &'static Plan) -> (String, bool) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (body, ok) = runtime.block_on(pme::once(plan)).expect("once");
    (String::from_utf8(body).unwrap(), ok)
}

/// Collects a spec once, in-process: the exposition in text format and in
/// OpenMetrics, from the same collection.
pub fn once_in_both_formats(plan: &'static Plan) -> (String, String) {
    use pme::Format;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (store, _) = runtime
        .block_on(pme::__private::collect_once(plan))
        .expect("once");
    let body = |format| {
        String::from_utf8(pme::__private::build_exposition(plan, &store, None, format)).unwrap()
    };
    (body(Format::Prometheus), body(Format::OpenMetrics))
}
