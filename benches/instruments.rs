//! `cargo bench --bench instruments`: application metrics, pme vs
//! prometheus-client vs the `metrics` crate with metrics-exporter-prometheus,
//! in the same run. Each library is used as its documentation shows:
//!
//! - **inc / observe with labels**: pme `family.get((Model::B, Status::Ok))`
//!   (an array index), prometheus-client `family.get_or_create(&labels)`
//!   with a derived label struct, `metrics::counter!(name, "model" => .., ..)`
//!   through a `PrometheusRecorder`;
//! - **the same through a kept handle**, which all three offer;
//! - **a free-text label among 100 000 series**: pme `BoundedFamily::with`,
//!   prometheus-client `get_or_create`, `counter!` with an owned value;
//! - **encode 100 000 series** of one counter family, and the **heap bytes
//!   per series** each library holds for them (a counting allocator).
//!
//! Each row is the median of `ROUNDS` rounds.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

use metrics_exporter_prometheus::PrometheusBuilder;
use pme::instrument::{BoundedFamily, Counter, Family, Histogram, Instruments as _};

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::registry::Registry;

mod common;
use common::median_secs;

/// Counts live heap bytes, for the bytes-per-series row.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

#[allow(
    unsafe_code,
    reason = "a global allocator is an unsafe trait; this one only counts and forwards to System"
)]
// SAFETY: every call forwards to `System` with the caller's arguments.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's layout, as GlobalAlloc requires.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const ROUNDS: usize = 21;
const SERIES: usize = 100_000;

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, pme::LabelValue, EncodeLabelValue)]
enum Model {
    A,
    B,
    C,
}

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, pme::LabelValue, EncodeLabelValue)]
enum Status {
    Ok,
    Error,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Labels {
    model: Model,
    status: Status,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Tenant {
    tenant: String,
}

#[derive(Debug, pme::Instruments)]
struct App {
    /// Requests.
    #[counter(labels("model", "status"))]
    requests_total: Family<(Model, Status), Counter>,
    /// Durations.
    #[histogram(labels("model", "status"))]
    duration_seconds: Family<(Model, Status), Histogram>,
}

type ClientCounter = prometheus_client::metrics::counter::Counter;
type ClientHistogram = prometheus_client::metrics::histogram::Histogram;
type ClientFamily<L, M> = prometheus_client::metrics::family::Family<L, M>;

/// Nanoseconds per call of `f`, median of rounds of `iters`.
fn ns(iters: usize, f: impl FnMut()) -> f64 {
    median_secs(ROUNDS, iters, f) * 1e9
}

fn row(what: &str, pme: f64, client: f64, metrics: f64, unit: &str) {
    println!(
        "{what:<44} pme {pme:>9.1} {unit}   prometheus-client {client:>9.1} ({:.2}×)   metrics {metrics:>9.1} ({:.2}×)",
        client / pme,
        metrics / pme
    );
}

fn main() {
    const ITERS: usize = 100_000;
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let labels = Labels {
        model: Model::B,
        status: Status::Ok,
    };

    // inc with labels.
    let app = App::default();
    let client_requests = ClientFamily::<Labels, ClientCounter>::default();
    let p = ns(ITERS, || {
        app.requests_total
            .get(black_box((Model::B, Status::Ok)))
            .inc()
    });
    let c = ns(ITERS, || {
        client_requests.get_or_create(black_box(&labels)).inc();
    });
    let m = metrics::with_local_recorder(&recorder, || {
        ns(ITERS, || {
            metrics::counter!("requests_total", "model" => "b", "status" => "ok").increment(1);
        })
    });
    row("counter inc, two labels", p, c, m, "ns");

    // inc through a kept handle.
    let pme_handle = app.requests_total.get((Model::B, Status::Ok));
    let client_handle = client_requests.get_or_create(&labels).clone();
    let metrics_handle = metrics::with_local_recorder(
        &recorder,
        || metrics::counter!("requests_total", "model" => "b", "status" => "ok"),
    );
    let p = ns(ITERS, || black_box(pme_handle).inc());
    let c = ns(ITERS, || {
        black_box(&client_handle).inc();
    });
    let m = ns(ITERS, || black_box(&metrics_handle).increment(1));
    row("counter inc, kept handle", p, c, m, "ns");

    // observe with labels.
    let client_durations = ClientFamily::<Labels, ClientHistogram>::new_with_constructor(|| {
        ClientHistogram::new(pme::instrument::DEFAULT_BUCKETS.iter().copied())
    });
    let mut x = 0.0_f64;
    let p = ns(ITERS, || {
        x = (x + 0.37) % 12.0;
        app.duration_seconds
            .get(black_box((Model::B, Status::Ok)))
            .observe(x);
    });
    let c = ns(ITERS, || {
        x = (x + 0.37) % 12.0;
        client_durations
            .get_or_create(black_box(&labels))
            .observe(x);
    });
    let m = metrics::with_local_recorder(&recorder, || {
        ns(ITERS, || {
            x = (x + 0.37) % 12.0;
            metrics::histogram!("duration_seconds", "model" => "b", "status" => "ok").record(x);
        })
    });
    row("histogram observe, two labels", p, c, m, "ns");

    // 100 000 free-text series: memory, lookups, encode.
    let tenants: Vec<String> = (0..SERIES).map(|i| format!("tenant-{i:06}")).collect();
    let before = LIVE.load(Ordering::Relaxed);
    let pme_tenants = Tenants::default();
    for t in &tenants {
        pme_tenants.tenant_requests_total.with([t]).inc();
    }
    let pme_bytes = (LIVE.load(Ordering::Relaxed) - before) as f64 / SERIES as f64;

    let before = LIVE.load(Ordering::Relaxed);
    let mut registry = Registry::default();
    let client_tenants = ClientFamily::<Tenant, ClientCounter>::default();
    registry.register(
        "tenant_requests",
        "Requests per tenant.",
        client_tenants.clone(),
    );
    for t in &tenants {
        client_tenants
            .get_or_create(&Tenant { tenant: t.clone() })
            .inc();
    }
    let client_bytes = (LIVE.load(Ordering::Relaxed) - before) as f64 / SERIES as f64;

    let tenant_recorder = PrometheusBuilder::new().build_recorder();
    let tenant_handle = tenant_recorder.handle();
    let before = LIVE.load(Ordering::Relaxed);
    metrics::with_local_recorder(&tenant_recorder, || {
        for t in &tenants {
            metrics::counter!("tenant_requests_total", "tenant" => t.clone()).increment(1);
        }
    });
    let metrics_bytes = (LIVE.load(Ordering::Relaxed) - before) as f64 / SERIES as f64;
    row(
        "heap bytes per series, 100 000 series",
        pme_bytes,
        client_bytes,
        metrics_bytes,
        "B ",
    );

    let mut i = 0;
    let mut next = || {
        i = (i + 7919) % SERIES;
        &tenants[i]
    };
    let p = ns(ITERS, || {
        pme_tenants.tenant_requests_total.with([next()]).inc()
    });
    let c = ns(ITERS, || {
        let tenant = next().clone();
        client_tenants.get_or_create(&Tenant { tenant }).inc();
    });
    let m = metrics::with_local_recorder(&tenant_recorder, || {
        ns(ITERS, || {
            metrics::counter!("tenant_requests_total", "tenant" => next().clone()).increment(1);
        })
    });
    row("counter inc, free-text label among 100 000", p, c, m, "ns");

    // Encode the 100 000 series.
    let mut out = Vec::with_capacity(4 << 20);
    let desc_check = {
        let mut one = Vec::new();
        app.encode(&mut one, pme::Format::Prometheus);
        one
    };
    assert!(!desc_check.is_empty());
    pme_tenants.encode(&mut out, pme::Format::Prometheus);
    let pme_lines = out.iter().filter(|&&b| b == b'\n').count();
    assert_eq!(pme_lines, SERIES + 2, "pme encodes every series");
    let p = ns(5, || {
        out.clear();
        pme_tenants.encode(&mut out, pme::Format::Prometheus);
        black_box(&out);
    });
    let mut text = String::with_capacity(4 << 20);
    let c = ns(5, || {
        text.clear();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        black_box(&text);
    });
    let rendered = tenant_handle.render();
    assert!(rendered.lines().filter(|l| !l.starts_with('#')).count() >= SERIES);
    let m = ns(5, || {
        black_box(tenant_handle.render());
    });
    row(
        "encode 100 000 series, ns per series",
        p / SERIES as f64,
        c / SERIES as f64,
        m / SERIES as f64,
        "ns",
    );
    drop(handle);
}

/// The free-text family, with the limit the benchmark fills.
#[derive(Debug, pme::Instruments)]
struct Tenants {
    /// Requests per tenant.
    #[counter(labels("tenant"), max_series = 100000)]
    tenant_requests_total: BoundedFamily<Counter, 1>,
}
