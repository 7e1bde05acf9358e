//! pme: a Prometheus exporter compiled from its spec.
//!
//! # Where the bytes of `/metrics` come from
//!
//! 1. `build.rs` hands `metrics.yaml` to `pme-codegen`, which validates it
//!    and writes `$OUT_DIR/metrics.rs`: one struct per metric group, fields
//!    annotated with `#[metric(...)]`, and a [`plan::Plan`] table.
//! 2. [`generated`] includes that file; `#[derive(MetricGroup)]` (from
//!    `pme-macros`) turns each struct into a [`metric::MetricGroup`] with the
//!    `# HELP`/`# TYPE` header and series prefixes as byte constants.
//! 3. [`scheduler`] ticks, reads each due [`sources::Source`] once, and
//!    hands the bytes to every due group ([`parsers`] extract the values).
//! 4. Each group encodes itself ([`encode`]) right after collecting, and
//!    publishes the bytes to the [`store`].
//! 5. [`http::routes`] answers a scrape by concatenating the published
//!    bytes and appending the [`selfmetrics`].
//!
//! A spec can also be embedded in another crate or test with
//! [`include_spec!`], which expands to the same code `build.rs` writes.

// Generated code and derive expansions name this crate as `::pme`, inside
// it as well as outside.
extern crate self as pme;

pub mod app;
pub mod builtin;
pub mod config;
pub mod dryrun;
pub mod encode;
pub mod exposition;
pub mod generated;
pub mod health;
pub mod http;
pub mod https;
pub mod imported;
pub mod metric;
pub mod outputs;
pub mod parsers;
pub mod plan;
pub mod scheduler;
pub mod selfmetrics;
pub mod sources;
pub mod store;
pub mod systemd;

pub use imported::Imported;
pub use metric::{Counter, Gauge, Info, MetricGroup, Untyped};
/// Derives [`metric::MetricGroup`] for a struct of metric fields.
pub use pme_macros::MetricGroup;
/// Expands a spec file (path relative to the crate root) into collectors
/// and a `PLAN`, as `build.rs` does for the built-in spec.
pub use pme_macros::include_spec;
