#[derive(Debug, Default, pme::MetricGroup)]
#[group(content = "text")]
struct Disks {
    // One label comes from a capture, so the field must be `Gauge<1>`.
    #[metric(
        name = "disk_used_bytes",
        help = "Used bytes per device.",
        filter = r"(?P<dev>\S+) (\d+)",
        labels("device" = "$dev")
    )]
    used: pme::Gauge,
}

fn main() {}
