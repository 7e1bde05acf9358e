#[derive(Debug, Default, pme::MetricGroup)]
struct Memory {
    #[metric(name = "mem_free_bytes", help = "Free memory.")]
    free: f64,
}

fn main() {}
