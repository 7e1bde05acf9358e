//! `cargo bench --bench encode`: encoding 10 000 series, pme vs
//! prometheus-client, in the same run.
//!
//! pme encodes a collector generated from `benches/specs/series_10k.yaml`
//! (100 gauge families × 100 series, one dynamic label and one constant
//! label each). prometheus-client encodes a registry holding the same
//! families, label values and numbers. Each side runs `ROUNDS` rounds of
//! `ITERS` encodes into a reused buffer; the median round is reported.

use std::hint::black_box;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

mod common;
use common::median_secs;

mod spec {
    pme::include_spec!("benches/specs/series_10k.yaml");
}

const FAMILIES: usize = 100;
const SERIES: usize = 100;
const ROUNDS: usize = 31;
const ITERS: usize = 20;

fn main() {
    let source = match &spec::PLAN.sources[0].kind {
        pme::__private::plan::SourceKind::Static { content } => content.as_bytes(),
        other => panic!("unexpected source {other:?}"),
    };
    let mut group = spec::PLAN.groups[0]
        .new_extractor()
        .expect("the bench spec declares its metrics");
    group
        .extract(source)
        .expect("the bench spec extracts cleanly");
    let mut out = Vec::new();
    group.encode(&mut out, pme::Format::Prometheus);
    let pme_lines = out.iter().filter(|&&b| b == b'\n').count() - 2 * FAMILIES;
    assert_eq!(
        pme_lines,
        FAMILIES * SERIES,
        "pme must encode 10 000 series"
    );

    let mut registry = Registry::default();
    for f in 0..FAMILIES {
        let family = Family::<Vec<(String, String)>, Gauge<f64, AtomicU64>>::default();
        registry.register(
            format!("bench_family_{f:03}"),
            format!("Benchmark family {f}."),
            family.clone(),
        );
        for i in 0..SERIES {
            let labels = vec![
                ("instance_group".to_owned(), "benchmark".to_owned()),
                ("item".to_owned(), format!("item_{i:03}")),
            ];
            family.get_or_create(&labels).set(i as f64 * 1.5 + 0.25);
        }
    }
    let mut text = String::new();
    encode(&mut text, &registry).unwrap();
    let client_lines = text.lines().filter(|l| !l.starts_with('#')).count();
    assert_eq!(
        client_lines,
        FAMILIES * SERIES,
        "prometheus-client must encode 10 000 series"
    );

    let pme = median_secs(ROUNDS, ITERS, || {
        out.clear();
        group.encode(&mut out, pme::Format::Prometheus);
        black_box(&out);
    });
    let client = median_secs(ROUNDS, ITERS, || {
        text.clear();
        encode(&mut text, &registry).unwrap();
        black_box(&text);
    });
    let n = (FAMILIES * SERIES) as f64;
    println!("encode 10 000 series (median of {ROUNDS} rounds x {ITERS}):");
    println!(
        "  pme                {:>9.1} µs  {:>6.1} ns/series  {} bytes",
        pme * 1e6,
        pme * 1e9 / n,
        out.len()
    );
    println!(
        "  prometheus-client  {:>9.1} µs  {:>6.1} ns/series  {} bytes",
        client * 1e6,
        client * 1e9 / n,
        text.len()
    );
    println!("  ratio (prometheus-client / pme): {:.2}x", client / pme);
}
