#[derive(Debug, Default, pme::MetricGroup)]
struct Load {
    #[metric(name = "load1", help = "Load.", filter = r"^(\S+)")]
    load1: pme::Gauge,
}

fn main() {}
