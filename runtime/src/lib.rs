//! pme: a Prometheus exporter compiled from its spec.
//!
//! An operator describes what to measure in `metrics.yaml`; the exporter's
//! `build.rs` turns it into typed collectors and a [`Plan`], and the `pme`
//! binary runs that plan with this crate: it collects on a schedule and
//! serves `/metrics`. This crate is the runtime, compiled once whatever the
//! spec; it is also a library, for running a spec inside another program
//! or test.
//!
//! # Embedding a spec
//!
//! [`include_spec!`] expands a spec file into the same code `build.rs`
//! writes: one collector struct per metric group and a `PLAN`. Run it like
//! the binary does, or start it inside your own async runtime:
//!
//! ```no_run
//! mod spec {
//!     // The path is relative to the crate root, like `include_str!`.
//!     ::pme::include_spec!("examples/app.yaml");
//! }
//!
//! # async fn run() -> Result<(), pme::Error> {
//! // `pme::main(&spec::PLAN)` is the whole binary: flags, signals, exit code.
//! let options = <pme::Options as clap::Parser>::parse_from(["my-exporter"]);
//! let running = pme::start(&spec::PLAN, &options).await?;
//! println!("serving on http://{}/metrics", running.metrics_addr);
//! running.shutdown().await;
//! # Ok(())
//! # }
//! # fn main() {}
//! ```
//!
//! [`once`] collects every group a single time and returns the exposition,
//! as `pme --once` prints it.
//!
//! # Writing a collector by hand
//!
//! A struct of [`Gauge`], [`Counter`], [`Info`] and [`Untyped`] fields
//! derives [`MetricGroup`]: each `#[metric(...)]` becomes a byte-constant
//! `# HELP`/`# TYPE` header and series prefix, and the struct encodes
//! itself in both [`Format`]s.
//!
//! # Collectors from other crates
//!
//! [`collect`] is the interface of collectors that read for themselves:
//! derive [`MetricGroup`], implement [`collect::FromOptions`] and
//! [`collect::Collect`] (or [`collect::CollectAsync`]), and name the type
//! in a spec entry with `source_type: collector`. pme's built-ins are
//! written the same way ([`collect::builtin`]).
//!
//! # Where the bytes of `/metrics` come from
//!
//! The README's section of that name follows one byte from `metrics.yaml`
//! to the socket, file by file. Paths under `__private` exist for generated
//! code and pme's own tests; they are not an API.

// Generated code and derive expansions name this crate as `::pme`, inside
// it as well as outside.
extern crate self as pme;

mod alerts;
mod allocator;
mod app;
pub mod collect;
mod config;
mod dashboard;
mod dryrun;
mod encode;
mod exposition;
mod health;
mod http;
mod https;
mod imported;
mod instances;
pub mod instrument;
mod logs;
mod metric;
mod outputs;
mod parsers;
mod plan;
mod scaffold;
mod scheduler;
mod selfmetrics;
mod sources;
mod statsd;
mod store;
mod systemd;
pub mod testing;

pub use app::{Embedded, Error, Running, embed, main, once, start};
pub use config::Options;
pub use encode::Format;
pub use http::embedded::MetricsService;
pub use imported::Imported;
pub use metric::{Counter, Gauge, Info, MetricGroup, Untyped};
pub use plan::Plan;
/// Derives [`instrument::Instruments`] (and `Default`) for a struct of
/// instrument fields; see [`instrument`].
pub use pme_macros::Instruments;
/// Derives [`instrument::LabelValue`] for an enum of label values.
pub use pme_macros::LabelValue;
/// Derives [`MetricGroup`] for a struct of metric fields.
pub use pme_macros::MetricGroup;
/// Expands a spec file (path relative to the crate root) into collectors
/// and a `PLAN`, as `build.rs` does for the built-in spec.
pub use pme_macros::include_spec;
pub use scheduler::StartupError;

/// Not an API: what generated code and derive expansions name, and what
/// pme's own tests and benchmarks reach into. It may change in any release.
#[doc(hidden)]
pub mod __private {
    /// The plan tables generated code writes.
    pub mod plan {
        pub use crate::plan::*;
    }
    /// What derive expansions implement and call.
    pub mod metric {
        pub use crate::metric::*;
    }
    /// What `#[derive(Instruments)]` expansions implement and call.
    pub mod instrument {
        pub use crate::instrument::build::{Build, BuildSpec};
        pub use crate::instrument::encode::{
            Instrument, InstrumentDesc, InstrumentKind, Sample, instrument as encode_family,
        };
    }
    /// The encoder derive expansions call.
    pub mod encode {
        pub use crate::encode::*;
    }
    /// The content parsers generated filters run.
    pub mod parsers {
        pub use crate::parsers::*;
    }

    pub use crate::app::collect_once;
    /// How generated code makes a collector instance.
    pub mod collect {
        pub use crate::collect::pick::{Pick, PickAsync, PickBlocking};
    }
    pub use crate::collect::ServerStats;
    pub use crate::dryrun::check as dry_run;
    pub use crate::exposition::build as build_exposition;
    pub use crate::http::auth::{Auth, Scope, TokenSpec};
    pub use crate::sources::identity::{RUN_AS_PATH, missing_capabilities};
    pub use crate::statsd::datagram as statsd_datagram;
    pub use crate::systemd::unit as systemd_unit;
}
