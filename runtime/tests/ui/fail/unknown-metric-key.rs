#[derive(Debug, Default, pme::MetricGroup)]
struct Memory {
    #[metric(name = "mem_free_bytes", help = "Free memory.", colour = "red")]
    free: pme::Gauge,
}

fn main() {}
