//! NAME: a Prometheus exporter compiled from `metrics.yaml` by pme.
//!
//! `include_spec!` validates the spec at compile time (errors at
//! `metrics.yaml:LINE:COLUMN`), checks it against `metrics.lock`, and
//! expands it into typed collectors and the collection plan `PLAN`.

mod metrics {
    pme::include_spec!("metrics.yaml");
}

fn main() -> std::process::ExitCode {
    pme::main(&metrics::PLAN)
}
