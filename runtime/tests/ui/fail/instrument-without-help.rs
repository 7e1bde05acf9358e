#[derive(Debug, pme::Instruments)]
struct Metrics {
    #[counter]
    requests_total: pme::instrument::Counter,
}

fn main() {}
