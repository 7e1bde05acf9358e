//! The test specs, expanded in this test binary: no cargo build per spec.

use std::time::Duration;

use pme::app::Running;
use pme::config::Options;
use pme::plan::Plan;

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

pub mod http_json {
    pme::include_spec!("tests/specs/http_json.yaml");
}

pub mod reimport {
    pme::include_spec!("tests/specs/reimport.yaml");
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

pub mod optional_run_as {
    pme::include_spec!("tests/specs/optional_run_as.yaml");
}

/// A spec served in-process on loopback, stopped on drop.
pub struct Served {
    runtime: tokio::runtime::Runtime,
    running: Option<Running>,
    pub metrics: std::net::SocketAddr,
    pub health: std::net::SocketAddr,
}

impl Served {
    pub fn start(plan: &'static Plan) -> Served {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let options = <Options as clap::Parser>::parse_from([
            "pme",
            "--web.listen-address=127.0.0.1:0",
            "--health.listen-address=127.0.0.1:0",
        ]);
        let running = runtime
            .block_on(pme::app::start(plan, &options))
            .expect("start");
        Served {
            metrics: running.metrics_addr,
            health: running.health_addr,
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
    let (body, ok) = runtime.block_on(pme::app::once(plan)).expect("once");
    (String::from_utf8(body).unwrap(), ok)
}

/// Collects a spec once, in-process: the exposition in text format and in
/// OpenMetrics, from the same collection.
pub fn once_in_both_formats(plan: &'static Plan) -> (String, String) {
    use pme::encode::Format;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (store, _) = runtime
        .block_on(pme::app::collect_once(plan))
        .expect("once");
    let body =
        |format| String::from_utf8(pme::exposition::build(plan, &store, None, format)).unwrap();
    (body(Format::Prometheus), body(Format::OpenMetrics))
}
