#[derive(Debug, Default, pme::MetricGroup)]
#[group(content = "text")]
struct Disks {
    #[metric(name = "disk_used_bytes", help = "Used bytes.", filter = r"(?P<dev>\S+) (\d+)")]
    used: pme::Gauge,
}

fn main() {}
