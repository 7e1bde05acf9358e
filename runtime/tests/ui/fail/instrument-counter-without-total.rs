#[derive(Debug, pme::Instruments)]
struct Metrics {
    /// Requests.
    #[counter]
    requests: pme::instrument::Counter,
}

fn main() {}
