//! `exporter`: pme's build and server metrics — the usual server metrics
//! (requests by path and code, time spent per path, uptime) under pme's
//! names, plus how often and how long `/metrics` bodies were built.
//!
//! The counters live in [`ServerStats`], which the HTTP layer and the
//! exposition cache update; like every group, they are sampled once per
//! collection, so a scrape never pays for them and the cached body stays
//! valid until the next collection.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::{Collect, Context, FromOptions, series};
use crate::metric::ExtractErrors;
use crate::{Counter, Gauge, Info};

/// The rustc that built pme (set by `build.rs`).
const RUSTC: &str = match option_env!("PME_RUSTC_VERSION") {
    Some(v) => v,
    None => "unknown",
};

/// Requests answered and seconds spent on them, by route and status code.
type RequestCounts = BTreeMap<(Route, u16), (u64, f64)>;

/// What a request counts under (the `path` label).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Route {
    /// A fixed path, or `other`.
    Fixed(&'static str),
    /// `/metrics/<service>` of a service the plan has.
    Service(&'static str),
}

impl Route {
    /// The label value.
    pub fn label(self) -> std::borrow::Cow<'static, str> {
        match self {
            Route::Fixed(path) => path.into(),
            Route::Service(service) => format!("/metrics/{service}").into(),
        }
    }
}

/// Counters of pme's HTTP server and exposition cache.
#[derive(Debug)]
pub struct ServerStats {
    started: Instant,
    requests: Mutex<RequestCounts>,
    builds: AtomicU64,
    build_nanos: AtomicU64,
}

impl Default for ServerStats {
    fn default() -> Self {
        ServerStats {
            started: Instant::now(),
            requests: Mutex::default(),
            builds: AtomicU64::new(0),
            build_nanos: AtomicU64::new(0),
        }
    }
}

impl ServerStats {
    /// Counts one answered request under its route (never the raw path,
    /// so the label set stays bounded).
    pub fn record_request(&self, route: Route, code: u16, elapsed: Duration) {
        let mut requests = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        let entry = requests.entry((route, code)).or_default();
        entry.0 += 1;
        entry.1 += elapsed.as_secs_f64();
    }

    /// Counts one `/metrics` body built (a cache miss).
    pub fn record_build(&self, elapsed: Duration) {
        self.builds.fetch_add(1, Ordering::Relaxed);
        self.build_nanos.fetch_add(
            u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }
}

/// pme's own build and server metrics.
#[derive(Debug, Default, crate::MetricGroup)]
pub struct Exporter {
    #[metric(
        name = "pme_build_info",
        help = "pme's version, the SHA-256 of the spec it was built from, and the rustc that built it.",
        labels("version", "spec_sha256", "rustc")
    )]
    build_info: Info<3>,
    #[metric(name = "pme_uptime_seconds", help = "Seconds since pme started.")]
    uptime: Gauge,
    #[metric(
        name = "pme_http_requests_total",
        help = "HTTP requests answered, by route and status code.",
        labels("path", "code")
    )]
    requests: Counter<2>,
    #[metric(
        name = "pme_http_request_seconds_total",
        help = "Seconds spent answering HTTP requests, by route.",
        labels("path")
    )]
    request_seconds: Counter<1>,
    #[metric(
        name = "pme_exposition_builds_total",
        help = "Exposition bodies built (each serves every scrape until the next collection)."
    )]
    builds: Counter,
    #[metric(
        name = "pme_exposition_build_seconds_total",
        help = "Seconds spent building exposition bodies, compression included."
    )]
    build_seconds: Counter,
}

impl FromOptions for Exporter {
    type Options = ();

    fn from_options((): ()) -> Result<Exporter, String> {
        Ok(Exporter::default())
    }
}

impl Collect for Exporter {
    fn collect(&mut self, context: &Context) -> Result<(), ExtractErrors> {
        let stats = &context.server;
        self.build_info.replace(vec![series(
            [env!("CARGO_PKG_VERSION"), context.spec_sha256, RUSTC],
            1.0,
        )]);
        self.uptime
            .replace(vec![series([], stats.started.elapsed().as_secs_f64())]);
        let requests = stats
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let mut seconds: BTreeMap<Route, f64> = BTreeMap::new();
        let mut counts = Vec::with_capacity(requests.len());
        for ((route, code), (count, secs)) in &requests {
            let mut buf = itoa::Buffer::new();
            counts.push(series([&route.label(), buf.format(*code)], *count as f64));
            *seconds.entry(*route).or_default() += secs;
        }
        self.requests.replace(counts);
        self.request_seconds.replace(
            seconds
                .into_iter()
                .map(|(route, s)| series([&route.label()], s))
                .collect(),
        );
        self.builds.replace(vec![series(
            [],
            stats.builds.load(Ordering::Relaxed) as f64,
        )]);
        self.build_seconds.replace(vec![series(
            [],
            stats.build_nanos.load(Ordering::Relaxed) as f64 / 1e9,
        )]);
        Ok(())
    }
}
