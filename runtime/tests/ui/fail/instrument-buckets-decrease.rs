#[derive(Debug, pme::Instruments)]
struct Metrics {
    /// Latency.
    #[histogram(buckets(1, 0.5))]
    latency_seconds: pme::instrument::Histogram,
}

fn main() {}
