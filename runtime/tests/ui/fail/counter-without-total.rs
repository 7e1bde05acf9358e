#[derive(Debug, Default, pme::MetricGroup)]
struct Requests {
    #[metric(name = "http_requests", help = "Requests served.")]
    requests: pme::Counter,
}

fn main() {}
