//! `cargo bench --bench content`: JSON extraction per reading, against a
//! plain `serde_json::Value` parse of the same bytes, in the same run.
//!
//! The document is a broker status with `QUEUES` queue objects (about the
//! size of a RabbitMQ `/api/queues` answer trimmed to the used fields). pme
//! extracts three families from it through the collector generated from
//! `benches/specs/json_queues.yaml` — one parse, then three JSONPath
//! queries, one of them iterating every queue with two label paths.

use std::hint::black_box;

mod common;
use common::median_secs;

mod spec {
    pme::include_spec!("benches/specs/json_queues.yaml");
}

const QUEUES: usize = 1000;
const ROUNDS: usize = 31;
const ITERS: usize = 10;

fn document() -> Vec<u8> {
    let queues: Vec<String> = (0..QUEUES)
        .map(|i| {
            format!(
                r#"{{"name": "queue-{i:04}", "vhost": "/v{}", "depth": {}, "consumers": {}, "state": "running", "memory": {}}}"#,
                i % 7,
                i * 3,
                i % 5,
                i * 1024
            )
        })
        .collect();
    format!(
        r#"{{"queues": [{}], "uptime_seconds": 86400, "healthy": true}}"#,
        queues.join(", ")
    )
    .into_bytes()
}

fn main() {
    let doc = document();
    let mut group = spec::PLAN.groups[0]
        .new_extractor()
        .expect("the bench spec declares its metrics");
    group
        .extract(&doc)
        .expect("the bench document extracts cleanly");
    let mut out = Vec::new();
    group.encode(&mut out, pme::Format::Prometheus);
    let series = out
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty() && l[0] != b'#')
        .count();
    assert_eq!(series, QUEUES + 2, "one series per queue plus two scalars");

    let parse = median_secs(ROUNDS, ITERS, || {
        let value: serde_json::Value = serde_json::from_slice(black_box(&doc)).unwrap();
        black_box(value);
    });
    let extract = median_secs(ROUNDS, ITERS, || {
        group.extract(black_box(&doc)).unwrap();
    });
    let mb = doc.len() as f64 / 1e6;
    println!(
        "JSON extraction, {} bytes, {QUEUES} queues, {} series (median of {ROUNDS} rounds x {ITERS}):",
        doc.len(),
        QUEUES + 2
    );
    println!(
        "  serde_json::Value parse only   {:>8.1} µs  {:>6.1} MB/s",
        parse * 1e6,
        mb / parse
    );
    println!(
        "  pme extraction (parse+queries) {:>8.1} µs  {:>6.1} MB/s",
        extract * 1e6,
        mb / extract
    );
    println!("  ratio (extraction / parse): {:.2}x", extract / parse);
}
